lua.time_limit = 1000
