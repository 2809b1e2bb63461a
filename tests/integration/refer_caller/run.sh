# Blind transfer by the caller (restcomm.md 6, scenarios 3 and 14): bob
# calls 1111 (Dial +131313: george answers) and sends REFER to alice in his
# own dialog. Expected: 202, NOTIFY 100 and 200, BYE to bob; the Refer URL
# fetched with Transferor=bob, Transferee=+131313 (the party bob was
# talking to, as his application dialled it), ReferTarget=alice, on
# george's leg (Direction=outbound-dial); alice answers; when alice hangs
# up george gets BYE. The Refer application's <Dial action> then gets
# ReferTarget, Transferor, Transferee with DialCallStatus=completed: the
# three stay on every request of that session.
source ../calls_common/lib.sh
app_start
doc 1111 '<Response><Dial><Number>+131313</Number></Dial></Response>'
doc 2222 '<Response><Dial action="/after"><Client>{{ReferTarget}}</Client></Dial></Response>'
doc after '<Response><Hangup/></Response>'
make_number 1111 /1111 -d VoiceMethod=GET --data-urlencode "ReferUrl=$APP/2222" \
  -d ReferMethod=GET >/dev/null
make_client alice Alice-Secret-77 >/dev/null
read -r PA < <(ports 1)
python3 "$CALLS_COMMON/register.py" alice Alice-Secret-77 "$PA" || fail "alice registers"

scen uas_wait.xml george RING=200
scen uas_bye.xml alice USER=alice RING=300 HOLD=1500
scen uac_refer.xml bob CODE=202 HOLD=800 "TARGET=sip:alice@127.0.0.1:$SB_SIP_PORT"
uas_start george "$SB_AUX_PORT"
uas_start alice "$PA"
uac bob 1111 || { show bob; show george; show alice; fail "bob: REFER, 202, NOTIFYs, BYE"; }
pass "bob: 202 (Event: refer), NOTIFY 100 Trying, NOTIFY 200 OK (terminated), BYE"
uas_wait alice || { show alice; fail "alice answers, then hangs up"; }
uas_wait george || { show george; fail "george gets BYE when alice hangs up"; }
pass "george, now talking to alice, gets BYE when she hangs up"

bob_sid=$(param /1111 CallSid)
george=$(cdr_where "parent_call_sid = '$bob_sid' AND recipient = '+131313'" sid)
assert_eq "$(param /2222 Transferor)" bob "Transferor=bob"
assert_eq "$(param /2222 Transferee)" +131313 \
  "Transferee=+131313 (george's leg as the application dialled it, not the REFER's To 1111)"
assert_eq "$(param /2222 ReferTarget)" alice "ReferTarget=alice"
assert_eq "$(param /2222 CallSid)" "$george" "the Refer application runs on george's leg"
assert_eq "$(param /2222 Direction)" outbound-dial "Direction=outbound-dial"
assert_eq "$(param /2222 CallStatus)" in-progress "CallStatus=in-progress"

# 14: the Refer parameters reach the Dial action.
assert_eq "$(reqs /after)" 1 "the Dial action of the Refer application"
assert_eq "$(param /after DialCallStatus)" completed "DialCallStatus=completed"
assert_eq "$(param /after ReferTarget)" alice "the action carries ReferTarget"
assert_eq "$(param /after Transferor)" bob "the action carries Transferor"
assert_eq "$(param /after Transferee)" +131313 "the action carries Transferee"

wait_eq 5 completed cdr "$bob_sid" status || fail "bob's record completed"
assert_eq "$(cdr "$george" status)" completed "george's leg completed"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
