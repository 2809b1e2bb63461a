# Dial outcomes other than a completed bridge, each checked at the Dial
# action: busy (486), no answer (the timeout CANCELs the ringing leg),
# failed (a client that is not registered: no leg, DialCallSid=null; a 503
# from a <Sip> URI: DialSipResponseCode and DialSipHeader_X-*), a caller
# that hangs up before anyone answers, and a <Sip> callee that demands
# digest authentication (username/password on the noun).
#
# The caller is answered when the Dial starts (Restcomm's default): after
# a failed Dial it is still answered, the action sees it in progress, and
# the action's <Reject> ends it with BYE. (tests/integration/sip_toll_fraud
# runs the other mode, answer_on_dial = false, where it stays unanswered.)
source ../calls_common/lib.sh
app_start
doc busy.xml '<Response><Dial action="/after.xml"><Number>+100</Number></Dial></Response>'
doc noanswer.xml '<Response><Dial action="/after.xml" timeout="2"><Number>+200</Number></Dial></Response>'
doc unreg.xml '<Response><Dial action="/after.xml"><Client>nobody</Client></Dial></Response>'
doc sip503.xml "<Response><Dial action=\"/after.xml\"><Sip>sip:carol@127.0.0.1:$SB_AUX_PORT</Sip></Dial></Response>"
doc ring.xml '<Response><Dial><Number>+300</Number></Dial></Response>'
doc auth.xml "<Response><Dial action=\"/after.xml\"><Sip username=\"carol\" password=\"Carol-Pw-9\">sip:carol@127.0.0.1:$SB_AUX_PORT</Sip></Dial></Response>"
doc after.xml '<Response><Reject reason="busy"/></Response>'
make_number 4001 /busy.xml >/dev/null
make_number 4002 /noanswer.xml >/dev/null
make_number 4003 /unreg.xml >/dev/null
make_number 4004 /sip503.xml >/dev/null
make_number 4005 /ring.xml >/dev/null
make_number 4006 /auth.xml >/dev/null

# ---- busy ----------------------------------------------------------------------
scen uas_code.xml busy_callee CODE=486 RING=200
uas_start busy_callee "$SB_AUX_PORT"
scen uac_wait.xml busy_caller
uac busy_caller 4001 || { show busy_caller; fail "busy: the caller is answered, then the action hangs up"; }
uas_wait busy_callee || { show busy_callee; fail "busy callee"; }
assert_eq "$(param /after.xml DialCallStatus)" busy "busy: DialCallStatus=busy"
assert_eq "$(param /after.xml CallStatus)" in-progress "busy: the action sees the caller in progress"
grep -q "^SIP/2.0 200" "$SB_TMP/busy_caller.msg" && ! grep -q "^SIP/2.0 486" "$SB_TMP/busy_caller.msg" \
  || fail "busy: the caller got 200 when the Dial started, not the callee's 486"
pass "busy: the caller was answered when the Dial started"
assert_eq "$(param /after.xml DialCallDuration)" 0 "busy: DialCallDuration=0"
child=$(param /after.xml DialCallSid)
assert_eq "$(cdr "$child" status)" busy "busy: the dialled leg's record is busy"

# ---- no answer -------------------------------------------------------------------
scen uas_noanswer.xml na_callee
uas_start na_callee "$SB_AUX_PORT"
scen uac_wait.xml na_caller
uac na_caller 4002 || { show na_caller; fail "no answer: the caller is answered, then hung up by the action"; }
uas_wait na_callee || { show na_callee; fail "no answer: the callee gets CANCEL after the timeout"; }
pass "no answer: the ringing leg is CANCELled after timeout=2"
assert_eq "$(param /after.xml DialCallStatus)" no-answer "no answer: DialCallStatus=no-answer"
child=$(param /after.xml DialCallSid)
assert_eq "$(cdr "$child" status)" no-answer "no answer: the leg's record is no-answer"

# ---- failed: client not registered ---------------------------------------------------
scen uac_wait.xml unreg_caller
uac unreg_caller 4003 || { show unreg_caller; fail "unregistered client: action runs"; }
assert_eq "$(param /after.xml DialCallStatus)" failed "unregistered client: DialCallStatus=failed"
assert_eq "$(param /after.xml DialCallSid)" null "unregistered client: DialCallSid=null"
assert_eq "$(param /after.xml DialCallDuration)" 0 "unregistered client: DialCallDuration=0"
assert_eq "$(param /after.xml DialRingDuration)" "<absent>" "no leg: no DialRingDuration"

# ---- failed: 503 from a SIP URI ---------------------------------------------------------
scen uas_code.xml sip503_callee CODE=503 RING=100 "XHDR=X-Reason: maintenance"
uas_start sip503_callee "$SB_AUX_PORT"
scen uac_wait.xml sip503_caller
uac sip503_caller 4004 || { show sip503_caller; fail "503: action runs"; }
uas_wait sip503_callee || { show sip503_callee; fail "503 callee"; }
assert_eq "$(param /after.xml DialCallStatus)" failed "503: DialCallStatus=failed"
assert_eq "$(param /after.xml DialSipResponseCode)" 503 "503: DialSipResponseCode=503"
assert_eq "$(param /after.xml DialSipHeader_X-Reason)" maintenance "503: DialSipHeader_X-Reason"
[ "$(param /after.xml DialSipCallId)" != null ] || fail "503: DialSipCallId present"
pass "503: DialSipCallId present"

# ---- the caller hangs up while the callee rings ----------------------------------------------
scen uas_noanswer.xml ring_callee
uas_start ring_callee "$SB_AUX_PORT"
scen uac_bye.xml ring_caller HOLD=800
uac ring_caller 4005 || { show ring_caller; fail "hang-up while ringing: 200, then BYE answered"; }
pass "the caller, answered when the Dial started, hangs up while the callee rings"
uas_wait ring_callee || { show ring_callee; fail "CANCEL reaches the ringing callee"; }
pass "the ringing callee gets CANCEL"
parent=$(param /ring.xml CallSid)
wait_eq 5 completed cdr "$parent" status || fail "the caller's record is completed"
child=$(cdr_where "parent_call_sid = '$parent'" sid)
wait_eq 5 canceled cdr "$child" status || fail "the dialled leg's record is canceled"
pass "the caller's record is completed, the dialled leg's canceled"

# ---- <Sip> with digest credentials ------------------------------------------------------------
scen uas_auth.xml auth_callee LOGIN=carol PASSWORD=Carol-Pw-9
uas_start auth_callee "$SB_AUX_PORT"
scen uac_bye.xml auth_caller HOLD=1200
uac auth_caller 4006 || { show auth_caller; show auth_callee; fail "digest: the caller is bridged"; }
uas_wait auth_callee || { show auth_callee; fail "digest: the callee accepts our credentials"; }
pass "<Sip username password> answers the callee's digest challenge"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
