# <Dial><Number>: the caller reaches number 1111, whose application dials
# +131313 through the outbound proxy (a sipp UAS on SB_AUX_PORT). The
# callee answers and later hangs up: the Dial action gets DialCallStatus=
# completed with the durations, and both call records are completed. Then
# the caller hangs up first: the callee gets BYE, and a Dial action is
# still requested (CallStatus=completed, DialCallStatus=completed), its
# answer not run. The INVITE sent carries the caller's user as From, custom
# ?X- headers, and Max-Forwards one less.
source ../calls_common/lib.sh
app_start
doc dial.xml '<Response><Dial action="/after.xml" timeout="10"><Number>+131313?X-Account=acme&amp;X-Note=a+b</Number></Dial></Response>'
doc after.xml '<Response><Hangup/></Response>'
doc dial2.xml '<Response><Dial><Number>+131313</Number></Dial><Hangup/></Response>'
doc dial3.xml '<Response><Dial action="gone.xml" method="GET"><Number>+131313</Number></Dial></Response>'
doc gone.xml '<Response><Hangup/></Response>'
make_number 1111 /dial.xml >/dev/null
make_number 2222 /dial2.xml >/dev/null
make_number 3333 /dial3.xml >/dev/null

# ---- the callee hangs up -----------------------------------------------------
scen uas_bye.xml callee RING=500 HOLD=2000 "XHDR=X-Callee: george"
uas_start callee "$SB_AUX_PORT"
scen uac_wait.xml caller
uac caller 1111 || { show caller; show callee; fail "caller: answered, then BYE from the server"; }
pass "the caller is answered when the callee answers, and gets BYE at the end"
uas_wait callee || { show callee; fail "callee: INVITE, answer, BYE"; }
pass "the callee got the INVITE through the outbound proxy and hung up"

grep -q '^INVITE sip:+131313@127.0.0.1' "$SB_TMP/callee.msg" \
  || fail "the INVITE's Request-URI is sip:+131313@<outbound proxy>"
pass "the Request-URI is the number at the outbound proxy"
grep -Eq '^From: .*<sip:bob@' "$SB_TMP/callee.msg" || fail "From user is the caller's"
pass "the dialled leg's From is the caller's user"
grep -q '^X-Account: acme' "$SB_TMP/callee.msg" || fail "custom header X-Account"
grep -q '^X-Note: a b' "$SB_TMP/callee.msg" || fail "custom header X-Note (decoded)"
pass "?X-Header=value suffixes become INVITE headers"
grep -q '^Max-Forwards: 69' "$SB_TMP/callee.msg" || fail "Max-Forwards is decremented"
pass "Max-Forwards of the dialled leg is the caller's minus one"

assert_eq "$(reqs /dial.xml)" 1 "one voice request"
assert_eq "$(reqs /after.xml)" 1 "one action request"
parent=$(param /dial.xml CallSid)
child=$(param /after.xml DialCallSid)
[[ "$child" =~ ^ID[0-9a-f]{32}-CA[0-9a-f]{32}$ ]] || fail "DialCallSid is a call SID: $child"
assert_eq "$(param /after.xml CallSid)" "$parent" "the action runs on the caller's call"
assert_eq "$(param /after.xml DialCallStatus)" completed "DialCallStatus=completed"
d=$(param /after.xml DialCallDuration)
[ "$d" -ge 1 ] && [ "$d" -le 4 ] || fail "DialCallDuration about 2 s: $d"
pass "DialCallDuration is the talk time ($d s)"
r=$(param /after.xml DialRingDuration)
[[ "$r" =~ ^[0-9]+$ ]] && [ "$r" -le 2 ] || fail "DialRingDuration present: $r"
pass "DialRingDuration is present ($r s)"
assert_eq "$(param /after.xml CallStatus)" in-progress "the action sees the caller in progress"
assert_eq "$(param /after.xml OutboundCallSid)" "$child" "OutboundCallSid names the dialled leg"

assert_eq "$(cdr "$parent" status)" completed "the caller's record is completed"
assert_eq "$(cdr "$child" status)" completed "the dialled leg's record is completed"
assert_eq "$(cdr "$child" parent_call_sid)" "$parent" "the dialled leg's parent is the caller"
assert_eq "$(cdr "$child" direction)" outbound-dial "the dialled leg is outbound-dial"
assert_eq "$(cdr "$child" recipient)" +131313 "the dialled leg's To is the number"
assert_eq "$(cdr "$child" sender)" bob "the dialled leg's From is the caller"
cd_=$(cdr "$child" duration)
[ "$cd_" -ge 1 ] && [ "$cd_" -le 4 ] || fail "dialled leg duration: $cd_"
pd=$(cdr "$parent" duration)
[ "$pd" -ge "$cd_" ] || fail "caller's duration ($pd) covers the bridge ($cd_)"
pass "durations recorded (caller $pd s, dialled leg $cd_ s)"
[ -n "$(cdr "$child" sip_call_id)" ] || fail "the dialled leg records its Call-ID"

# ---- the caller hangs up --------------------------------------------------------
scen uas_wait.xml callee2 RING=300
uas_start callee2 "$SB_AUX_PORT"
scen uac_bye.xml caller2 HOLD=1500
uac caller2 2222 || { show caller2; fail "caller2: answered, hangs up"; }
uas_wait callee2 || { show callee2; fail "callee2 gets BYE when the caller hangs up"; }
pass "the callee gets BYE when the caller hangs up"
parent=$(param /dial2.xml CallSid)
child=$(cdr_where "parent_call_sid = '$parent'" sid)
wait_eq 5 completed cdr "$child" status || fail "dialled leg completed"
assert_eq "$(cdr "$parent" status)" completed "caller's record completed"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"

# ---- the caller hangs up, the Dial has an action --------------------------------
scen uas_wait.xml callee3 RING=300
uas_start callee3 "$SB_AUX_PORT"
scen uac_bye.xml caller3 HOLD=2000
uac caller3 3333 || { show caller3; fail "caller3: answered, hangs up"; }
uas_wait callee3 || { show callee3; fail "callee3 gets BYE when the caller hangs up"; }
wait_eq 5 1 reqs /gone.xml || fail "the Dial action is requested after the caller hung up"
pass "the Dial action is requested when the caller hangs up while bridged"
parent=$(param /dial3.xml CallSid)
child=$(cdr_where "parent_call_sid = '$parent'" sid)
assert_eq "$(method /gone.xml)" GET "the action uses the Dial's method"
assert_eq "$(param /gone.xml CallSid)" "$parent" "the action names the caller's call"
assert_eq "$(param /gone.xml CallStatus)" completed "the caller's call is completed"
assert_eq "$(param /gone.xml DialCallStatus)" completed "DialCallStatus=completed"
assert_eq "$(param /gone.xml DialCallSid)" "$child" "DialCallSid is the dialled leg"
assert_eq "$(param /gone.xml From)" bob "the standard parameters come along"
d=$(param /gone.xml DialCallDuration)
[ "$d" -ge 1 ] && [ "$d" -le 3 ] || fail "DialCallDuration about 2 s: $d"
r=$(param /gone.xml DialRingDuration)
[[ "$r" =~ ^[0-9]+$ ]] || fail "DialRingDuration present: $r"
assert_eq "$(param /gone.xml DialSipCallId)" "<absent>" "no DialSip* parameters for a Number"
pass "the action has the caller's parameters and the Dial outcome ($d s)"
wait_eq 5 completed cdr "$child" status || fail "dialled leg completed"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
