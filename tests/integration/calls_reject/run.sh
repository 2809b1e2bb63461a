# Routing and <Reject>: a number answering with <Reject reason="busy"/>
# gives 486 and a busy call record, <Reject/> gives 603 and a failed one;
# the voice request carries Restcomm's parameters with CallStatus=ringing;
# an unknown number is 404, a number of an account that is not active 403,
# a number without a voice URL 404; the +/no-+ variant and "*" route.
source ../calls_common/lib.sh
app_start
doc busy.xml '<Response><Reject reason="busy"/></Response>'
doc reject.xml '<Response><Reject/></Response>'
doc star.xml '<Response><Reject reason="busy"/></Response>'

n1=$(make_number 1000 /busy.xml)
make_number 1001 /reject.xml -d VoiceMethod=GET >/dev/null
make_number +1002 /busy.xml >/dev/null

scen uac_expect.xml busy CODE=486
uac busy 1000 || { show busy; fail "<Reject reason=busy> answers 486"; }
pass "<Reject reason=\"busy\"/> answers 486"
assert_eq "$(reqs /busy.xml)" 1 "one voice request for /busy.xml"
assert_eq "$(method /busy.xml)" POST "VoiceMethod defaults to POST"
sid=$(param /busy.xml CallSid)
[[ "$sid" =~ ^ID[0-9a-f]{32}-CA[0-9a-f]{32}$ ]] || fail "CallSid has Restcomm's form: $sid"
pass "CallSid has Restcomm's form"
assert_eq "$(param /busy.xml CallStatus)" ringing "first fetch has CallStatus=ringing"
assert_eq "$(param /busy.xml Direction)" inbound "Direction=inbound"
assert_eq "$(param /busy.xml From)" bob "From is the caller's user part"
assert_eq "$(param /busy.xml To)" 1000 "To is the number dialled"
assert_eq "$(param /busy.xml AccountSid)" "$ADMIN_SID" "AccountSid is the number's account"
assert_eq "$(param /busy.xml ApiVersion)" 2012-04-24 "ApiVersion"
assert_eq "$(param /busy.xml CallerName)" Bob "CallerName is the From display name"
assert_eq "$(param /busy.xml SipHeader_X-Test)" caller "X- headers become SipHeader_ parameters"
assert_eq "$(cdr "$sid" status)" busy "the call record is busy"
assert_eq "$(cdr "$sid" direction)" inbound "the call record is inbound"
assert_eq "$(cdr "$sid" phone_number_sid)" "$n1" "the call record names the number"
assert_eq "$(cdr "$sid" "duration")" 0 "a rejected call lasted 0 s"
[ -n "$(cdr "$sid" end_time)" ] || fail "the record has an end time"

scen uac_expect.xml reject CODE=603
uac reject 1001 || { show reject; fail "<Reject/> answers 603"; }
pass "<Reject/> answers 603 Decline"
assert_eq "$(method /reject.xml)" GET "VoiceMethod=GET is used"
sid=$(param /reject.xml CallSid)
assert_eq "$(cdr "$sid" status)" failed "a declined call is failed"

scen uac_expect.xml plus CODE=486
uac plus 1002 || { show plus; fail "1002 reaches +1002"; }
pass "the + variant of the dialled number routes"

scen uac_expect.xml unknown CODE=404
uac unknown 5555 || { show unknown; fail "unknown number: 404"; }
pass "an unknown number is answered 404"
make_number '*' /star.xml >/dev/null
scen uac_expect.xml star CODE=486
uac star 5555 || { show star; fail "the catch-all number routes"; }
assert_eq "$(reqs /star.xml)" 1 "the catch-all number '*' takes what nothing else matches"

# A number without a voice URL.
req POST "/Accounts/$ADMIN_SID/IncomingPhoneNumbers.json" "${admin[@]}" \
  -d PhoneNumber=1003 -d isSIP=true
[ "$RS" = 200 ] || fail "number without a voice URL: $RS $RB"
scen uac_expect.xml nourl CODE=404
uac nourl 1003 || { show nourl; fail "number without voice URL: 404"; }
pass "a number without a voice application is answered 404"

# An account that is not active.
req POST /Accounts.json "${admin[@]}" -d EmailAddress=sub@example.com \
  -d Password=Sub-Account-Pw-42 -d Role=Developer
expect 200 "sub-account created"
sub=$(jq_py 'd["sid"]')
req POST "/Accounts/$sub/IncomingPhoneNumbers.json" "${admin[@]}" -d PhoneNumber=1004 \
  -d isSIP=true --data-urlencode "VoiceUrl=$APP/busy.xml"
[ "$RS" = 200 ] || [ "$RS" = 201 ] || fail "number in the sub-account: $RS $RB"
req POST "/Accounts/$sub.json" "${admin[@]}" -d Status=suspended
expect 200 "sub-account suspended"
scen uac_expect.xml inactive CODE=403
uac inactive 1004 || { show inactive; fail "inactive account: 403"; }
pass "a number of a suspended account is answered 403"
assert_eq "$(reqs /busy.xml)" 2 "no voice request for refused calls"

# A voice URL that fails: the call is refused (480) once the fetch fails.
make_number 1005 /missing.xml >/dev/null
scen uac_expect.xml missing CODE=480
uac missing 1005 || { show missing; fail "a failing voice URL ends the call"; }
pass "a voice URL answering 404 ends the unanswered call with 480"
sid=$(param /missing.xml CallSid)
assert_eq "$(sqlite3 "$SB_DB" "SELECT error_code FROM notifications WHERE call_sid = '$sid'")" \
  21402 "a Notification 21402 records the failed fetch"
