# The Lua runtime: scheduler, limits, sandbox, plugins, call binding,
# http.request (against the http module's server) and RCML end to end.
if(TARGET sb_http)
  sb_unit_test(test_lua SOURCES unit/test_lua.c unit/test_lua_fake_call.c
               LIBS sb_lua sb_http sb_rcml sb_util)
endif()
