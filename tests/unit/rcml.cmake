# RCML parser and voice-request parameters.
sb_unit_test(test_rcml SOURCES unit/test_rcml.c LIBS sb_rcml sb_util)
