sb_unit_test(test_msg SOURCES unit/test_msg.c LIBS sb_msg sb_store PkgConfig::SQLITE PkgConfig::UV)
