# Blind transfer by the callee (restcomm.md 6, scenarios 1, 4, 11, 12):
# bob calls 1111, whose application dials +131313 (george, through the
# outbound proxy); george sends REFER to alice in his dialog. Expected:
# 202 with Event: refer, NOTIFY "100 Trying" then "200 OK" with
# Subscription-State: terminated, BYE to george; the number's Refer URL
# fetched with ReferTarget=alice, Transferor=+131313, Transferee=bob,
# CallStatus=in-progress and bob's CallSid; alice rings and answers;
# then the end of the call from either side reaches the other; bob's
# record completed. The ReferMethod defaults to POST (form body), and
# ReferApplicationSid wins over ReferUrl.
source ../calls_common/lib.sh
app_start
doc 1111 '<Response><Dial><Number>+131313</Number></Dial></Response>'
doc 2222 '<Response><Dial><Client>{{ReferTarget}}</Client></Dial></Response>'
doc app '<Response><Dial><Client>{{ReferTarget}}</Client></Dial></Response>'
make_number 1111 /1111 -d VoiceMethod=GET --data-urlencode "ReferUrl=$APP/2222" \
  -d ReferMethod=GET >/dev/null
make_client alice Alice-Secret-77 >/dev/null
read -r PA < <(ports 1)
python3 "$CALLS_COMMON/register.py" alice Alice-Secret-77 "$PA" || fail "alice registers"
TARGET="sip:alice@127.0.0.1:$SB_SIP_PORT"

# ---- 1: transfer by the callee; alice hangs up at the end -----------------------
scen uas_refer.xml george CODE=202 HOLD=800 "TARGET=$TARGET"
scen uas_bye.xml alice USER=alice RING=300 HOLD=1500
scen uac_wait.xml bob
uas_start george "$SB_AUX_PORT"
uas_start alice "$PA"
uac bob 1111 || { show bob; show george; show alice; fail "bob: answered, then BYE at the end"; }
uas_wait george || { show george; fail "george: 202, NOTIFY 100, NOTIFY 200, BYE"; }
pass "george: 202 (Event: refer), NOTIFY 100 Trying, NOTIFY 200 OK (terminated), BYE"
uas_wait alice || { show alice; fail "alice: INVITE, answer, BYE"; }
pass "alice got the transferred call; her BYE reached bob"
assert_eq "$(reqs /1111)" 1 "one voice request"
assert_eq "$(reqs /2222)" 1 "one Refer URL request"
bob_sid=$(param /1111 CallSid)
assert_eq "$(method /2222)" GET "ReferMethod=GET is used"
assert_eq "$(param /2222 ReferTarget)" alice "ReferTarget=alice"
assert_eq "$(param /2222 Transferor)" +131313 "Transferor=+131313 (george's Contact user)"
assert_eq "$(param /2222 Transferee)" bob "Transferee=bob (the To user of george's REFER)"
assert_eq "$(param /2222 CallStatus)" in-progress "CallStatus=in-progress"
assert_eq "$(param /2222 CallSid)" "$bob_sid" "the Refer application runs on bob's call"
assert_eq "$(param /2222 Direction)" inbound "Direction=inbound"
grep -q "^Event: refer" "$SB_TMP/george.msg" || fail "Event: refer in the 202"
wait_eq 5 completed cdr "$bob_sid" status || fail "bob's record completed"
pass "bob's call record is completed"
george=$(cdr_where "parent_call_sid = '$bob_sid' AND recipient = '+131313'" sid)
assert_eq "$(cdr "$george" status)" completed "george's leg completed"
alice_leg=$(cdr_where "parent_call_sid = '$bob_sid' AND recipient = 'alice'" sid)
assert_eq "$(cdr "$alice_leg" status)" completed "alice's leg completed"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"

# ---- 4: the transferee (bob) hangs up after the transfer ------------------------------
: >"$HTTP_LOG"
scen uas_wait.xml alice4 USER=alice RING=300
scen uac_bye.xml bob4 HOLD=4000
uas_start george "$SB_AUX_PORT"
uas_start alice4 "$PA"
uac bob4 1111 || { show bob4; fail "bob hangs up after the transfer"; }
uas_wait george || { show george; fail "george (4)"; }
uas_wait alice4 || { show alice4; fail "alice gets BYE when bob hangs up"; }
pass "after the transfer, bob's BYE reaches alice"
bob_sid=$(param /1111 CallSid)
wait_eq 5 completed cdr "$bob_sid" status || fail "bob's record completed (4)"
wait_eq 5 0 live_calls || fail "no call left live (4): $(live_calls) left live"
pass "no call left live (4)"

# ---- 11: ReferMethod absent: POST with a form body ---------------------------------------
: >"$HTTP_LOG"
req POST "/Accounts/$ADMIN_SID/IncomingPhoneNumbers.json" "${admin[@]}" -d PhoneNumber=3333 \
  -d isSIP=true -d VoiceMethod=GET --data-urlencode "VoiceUrl=$APP/1111" \
  --data-urlencode "ReferUrl=$APP/2222"
assert_eq "$(jq_py 'd["refer_method"]')" POST "refer_method defaults to POST"
scen uas_bye.xml alice11 USER=alice RING=300 HOLD=800
uas_start george "$SB_AUX_PORT"
uas_start alice11 "$PA"
uac bob 3333 || { show bob; fail "transfer with ReferMethod POST"; }
uas_wait george || { show george; fail "george (11)"; }
uas_wait alice11 || { show alice11; fail "alice (11)"; }
assert_eq "$(method /2222)" POST "the Refer URL is requested with POST"
assert_eq "$(python3 -c 'import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"]=="/2222"][-1]; print(r["form"].get("ReferTarget"))' "$HTTP_LOG")" \
  alice "the form body holds ReferTarget=alice"

# ---- 12: ReferApplicationSid wins over ReferUrl -----------------------------------------------
: >"$HTTP_LOG"
req POST "/Accounts/$ADMIN_SID/Applications.json" "${admin[@]}" -d FriendlyName=referapp \
  --data-urlencode "RcmlUrl=$APP/app"
app_sid=$(jq_py 'd["sid"]')
n1111=$(sqlite3 "$SB_DB" "SELECT sid FROM incoming_phone_numbers WHERE phone_number = '1111'")
req POST "/Accounts/$ADMIN_SID/IncomingPhoneNumbers/$n1111.json" "${admin[@]}" \
  -d "ReferApplicationSid=$app_sid"
[ "$RS" = 200 ] || fail "set ReferApplicationSid: $RS $RB"
scen uas_bye.xml alice12 USER=alice RING=300 HOLD=800
uas_start george "$SB_AUX_PORT"
uas_start alice12 "$PA"
uac bob 1111 || { show bob; fail "transfer through ReferApplicationSid"; }
uas_wait george || { show george; fail "george (12)"; }
uas_wait alice12 || { show alice12; fail "alice (12)"; }
assert_eq "$(reqs /app)" 1 "the Refer application's RCML URL is fetched"
assert_eq "$(reqs /2222)" 0 "ReferUrl is not used when ReferApplicationSid is set"
wait_eq 5 0 live_calls || fail "no call left live (12): $(live_calls) left live"
pass "no call left live (12)"
