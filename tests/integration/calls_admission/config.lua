calls.max_concurrent = 1
calls.max_rate = 100
calls.max_load = 99
