# The registrar: digest primitives, the credential parser, nonces and the
# nc memory, expires rules, the registration store, and an end-to-end
# REGISTER over UDP against the real agent (sofia and sqlite for the test's
# own use of sip_int.h and of the database).
sb_unit_test(test_sip SOURCES unit/test_sip.c
             LIBS sb_sip sb_store sb_config sb_loop PkgConfig::SOFIA PkgConfig::SQLITE)
# The BYE a restarted server sends in a dialog of the run that died
# (issue 23), on the real agent to a UDP peer.
sb_unit_test(test_sip_dialog SOURCES unit/test_sip_dialog.c
             LIBS sb_sip sb_store sb_config sb_loop PkgConfig::SOFIA)
