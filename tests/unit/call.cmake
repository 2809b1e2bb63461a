# The call module: the number matcher and its regular expressions.
sb_unit_test(test_call_numbers SOURCES unit/test_call_numbers.c
             LIBS sb_call sb_store sb_util)

# Calls, legs, Dial on a real reactor with two SIP agents (no Lua).
sb_unit_test(test_call SOURCES unit/test_call.c
             LIBS sb_call sb_sip sb_media sb_store sb_loop sb_config sb_util)

# Admission control's decisions (calls.max_concurrent, max_rate, max_load).
sb_unit_test(test_call_admit SOURCES unit/test_call_admit.c
             LIBS sb_call sb_store sb_util)
