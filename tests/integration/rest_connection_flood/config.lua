http.request_timeout = 3000
