sb_unit_test(test_config SOURCES unit/test_config.c LIBS sb_config)
target_link_libraries(test_config PRIVATE PkgConfig::LUA)
