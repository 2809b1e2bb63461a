# The REST API: the store's row layer and account tree it is built on,
# and the api module end to end over a real HTTP server on 127.0.0.1.
sb_unit_test(test_api_rows SOURCES unit/test_api_rows.c LIBS sb_store sb_util)
sb_unit_test(test_api SOURCES unit/test_api.c LIBS sb_api sb_http sb_store sb_config sb_util)
