sb_unit_test(test_util SOURCES unit/test_util.c LIBS sb_util)
sb_unit_test(test_util_metrics SOURCES unit/test_util_metrics.c LIBS sb_util)
