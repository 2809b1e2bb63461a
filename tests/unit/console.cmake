# The console server through its socket, with a real Lua runtime and
# store (for the registrations view); the framing; the hooks.
sb_unit_test(test_console SOURCES unit/test_console.c
             LIBS sb_console sb_lua sb_store sb_util)
target_include_directories(test_console PRIVATE ${CMAKE_SOURCE_DIR}/core/console)
