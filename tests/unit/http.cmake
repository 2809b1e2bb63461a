# The http module: codecs, server and router, client (one executable).
sb_unit_test(test_http
  SOURCES unit/test_http.c unit/test_http_server.c unit/test_http_client.c
  LIBS sb_http)
