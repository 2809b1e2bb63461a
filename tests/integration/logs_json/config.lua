log.format = "json"
