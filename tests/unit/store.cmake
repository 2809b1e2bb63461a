sb_unit_test(test_store SOURCES unit/test_store.c LIBS sb_store PkgConfig::SQLITE)
sb_unit_test(test_store_recordings SOURCES unit/test_store_recordings.c LIBS sb_store PkgConfig::SQLITE)
sb_unit_test(test_store_conferences SOURCES unit/test_store_conferences.c LIBS sb_store PkgConfig::SQLITE)
sb_unit_test(test_store_durable SOURCES unit/test_store_durable.c LIBS sb_store PkgConfig::SQLITE)
