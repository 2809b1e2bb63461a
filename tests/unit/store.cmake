sb_unit_test(test_store SOURCES unit/test_store.c LIBS sb_store PkgConfig::SQLITE)
