sb_unit_test(test_loop SOURCES unit/test_loop.c LIBS sb_loop PkgConfig::SOFIA)
target_compile_definitions(test_loop PRIVATE SB_SIPP_UAS="${CMAKE_SOURCE_DIR}/tests/fixtures/sipp/options_uas.xml")
