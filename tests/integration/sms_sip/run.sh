# SMS over SIP MESSAGE (issue 19), against real UDP user agents
# (sms_common/smsua.py, registered through the registrar with digest):
#   * REST SMS/Messages (and Twilio's Messages alias): a message to a
#     registered Client arrives as MESSAGE with its X- headers, becomes
#     "sent", and its StatusCallback gets SmsStatus=sent;
#   * a number through sip.outbound_proxy; an unregistered Client fails
#     with 30003; a contact that refuses makes the message failed;
#   * bad input: 400 in Restcomm's format for a missing Body, a From the
#     account does not own, an unknown Client, a Body over sms.max_length,
#     a Body that is not UTF-8;
#   * list filters and paging; another account sees none of it;
#   * MESSAGE from bob to alice (two Clients of the account): relayed and
#     recorded; from an outsider to a Client: 403;
#   * MESSAGE to a number: its SmsUrl gets SmsSid, From, To, Body,
#     SmsStatus=received, and its <Sms> reply reaches alice, its action
#     gets SmsSid and SmsStatus=sent;
#   * <Sms> from a voice call's document.
source ../calls_common/lib.sh
UA="python3 $IT_DIR/sms_common/smsua.py"
B="/Accounts/$ADMIN_SID"
app_start
doc sms.xml '<Response><Sms to="alice" action="/cb/smsaction">Re: {{Body}}</Sms></Response>'
doc voice.xml '<Response><Sms to="client:alice" from="5000">from a call</Sms><Reject reason="busy"/></Response>'
make_number 5000 /voice.xml --data-urlencode "SmsUrl=$APP/sms.xml" >/dev/null
make_client alice Alice-Sms-Pw1 >/dev/null
make_client bob Bob-Sms-Pw1 >/dev/null
make_client carol Carol-Sms-Pw1 >/dev/null

$UA listen --login alice --password Alice-Sms-Pw1 --log "$SB_TMP/alice.jsonl" \
  --lifetime 40 >"$SB_TMP/alice.out" 2>&1 &
SIPP_PIDS[alice]=$!
$UA listen --no-register --port "$SB_AUX_PORT" --log "$SB_TMP/carrier.jsonl" \
  --lifetime 40 >"$SB_TMP/carrier.out" 2>&1 &
SIPP_PIDS[carrier]=$!
wait_for 5 grep -q ready "$SB_TMP/alice.out" || fail "alice did not register: $(cat "$SB_TMP/alice.out")"
wait_for 5 grep -q ready "$SB_TMP/carrier.out" || fail "the carrier did not start"

received() { [ -f "$SB_TMP/$1.jsonl" ] && wc -l <"$SB_TMP/$1.jsonl" || echo 0; }
last() { python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readlines()[-1])[sys.argv[2]])' \
  "$SB_TMP/$1.jsonl" "$2"; }
status_of() { sqlite3 "$SB_DB" "SELECT status FROM sms_messages WHERE sid = '$1'"; }

# ---- REST to a registered Client ---------------------------------------------
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5000 -d To=client:alice \
  --data-urlencode "Body=Hello Alice ✓" -d X-Campaign=spring \
  --data-urlencode "StatusCallback=$APP/cb/status"
expect 200 "POST SMS/Messages"
sm=$(jq_py 'd["sid"]')
[[ "$sm" =~ ^SM[0-9a-f]{32}$ ]] || fail "SMS SID: $sm"
assert_eq "$(jq_py 'd["direction"]')" outbound-api "direction outbound-api"
wait_eq 5 1 received alice || fail "alice got no MESSAGE"
assert_eq "$(last alice body)" "Hello Alice ✓" "alice got the body"
assert_eq "$(last alice from)" 5000 "From user is the number"
assert_contains "$(last alice headers)" "spring" "X-Campaign passed on as a header"
wait_eq 5 sent status_of "$sm" || fail "status sent: $(status_of "$sm")"
pass "status sent after the 200"
wait_eq 5 1 reqs /cb/status || fail "status callback"
assert_eq "$(param /cb/status SmsStatus)" sent "StatusCallback SmsStatus=sent"
assert_eq "$(param /cb/status SmsSid)" "$sm" "StatusCallback SmsSid"
req GET "$B/SMS/Messages/$sm.json" "${admin[@]}"
expect 200 "GET the instance"
assert_eq "$(jq_py 'd["status"]')" sent "the instance says sent"
assert_eq "$(jq_py 'd["date_sent"] is not None')" true "DateSent set"
req GET "$B/SMS/Messages/$sm" "${admin[@]}"
assert_eq "$(xml_py 'r.find("SMSMessage/Status").text')" sent "XML instance"

# Twilio's path is the same resource.
req POST "$B/Messages.json" "${admin[@]}" -d From=5000 -d To=alice -d Body=twilio-path
expect 200 "POST Messages (Twilio's path)"
wait_eq 5 2 received alice || fail "alice got the second MESSAGE"

# ---- numbers and failures ----------------------------------------------------
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5000 --data-urlencode To=+15550100 -d Body=to-carrier
expect 200 "POST to a number"
to_number=$(jq_py 'd["sid"]')
wait_eq 5 1 received carrier || fail "the outbound proxy got no MESSAGE"
assert_eq "$(last carrier ruri | cut -d@ -f1)" "sip:+15550100" "Request-URI user is the number"
wait_eq 5 sent status_of "$to_number" || fail "number: $(status_of "$to_number")"
pass "a number through sip.outbound_proxy: sent"

req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5000 -d To=client:carol -d Body=nobody-home
expect 200 "POST to an unregistered client"
carol_sm=$(jq_py 'd["sid"]')
wait_eq 5 failed status_of "$carol_sm" || fail "unregistered: $(status_of "$carol_sm")"
assert_eq "$(sqlite3 "$SB_DB" "SELECT error_code FROM sms_messages WHERE sid='$carol_sm'")" 30003 \
  "unregistered client: 30003"

# ---- bad input ---------------------------------------------------------------
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5000 -d To=alice
expect 400 "no Body"
assert_eq "$(jq_py 'd["message"]')" "Body can not be null." "Restcomm's message"
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=9999 -d To=alice -d Body=x
expect 400 "a From the account does not own"
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5000 -d To=client:nobody -d Body=x
expect 400 "an unknown Client"
req POST "$B/SMS/Messages" "${admin[@]}" -d From=5000 -d To=alice \
  --data-urlencode "Body=$(printf 'x%.0s' $(seq 201))"
expect 400 "a Body over sms.max_length"
assert_eq "$(xml_py 'r.find("Message").text')" "Body is longer than 200 characters." "XML error"
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5000 -d To=alice -d 'Body=%FF%FE'
expect 400 "a Body that is not UTF-8"
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5000 -d To=alice -d Body=x \
  -d StatusCallback=ftp://x
expect 400 "a StatusCallback that is not http"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM sms_messages")" 4 "refused messages are not recorded"

# ---- MESSAGE between Clients and from outside --------------------------------
st=$($UA send --login bob --password Bob-Sms-Pw1 --to alice --body "hi from bob")
assert_eq "$st" 202 "bob's MESSAGE to alice accepted"
wait_eq 5 3 received alice || fail "alice did not get bob's MESSAGE"
assert_eq "$(last alice from)" bob "relayed from bob"
assert_eq "$(sqlite3 "$SB_DB" "SELECT direction||' '||status FROM sms_messages WHERE sender='client:bob'")" \
  "inbound sent" "client to client recorded"
st=$($UA send --to alice --body "spam" --from-user mallory)
assert_eq "$st" 403 "an outsider cannot message a Client"
st=$($UA send --to 7777 --body "nobody")
assert_eq "$st" 404 "MESSAGE to an unknown number: 404"
st=$($UA send --to 5000 --body "<b>" --ctype text/html)
assert_eq "$st" 415 "MESSAGE with a non-text body: 415"

# ---- inbound to a number: its SMS application and <Sms> -----------------------
st=$($UA send --to 5000 --body "What time is it" --from-user +15557777)
assert_eq "$st" 202 "MESSAGE to number 5000 accepted"
wait_eq 5 1 reqs /sms.xml || fail "SmsUrl not requested"
in_sid=$(param /sms.xml SmsSid)
[[ "$in_sid" =~ ^SM ]] || fail "SmsSid: $in_sid"
assert_eq "$(param /sms.xml From)" +15557777 "SmsUrl From"
assert_eq "$(param /sms.xml To)" 5000 "SmsUrl To"
assert_eq "$(param /sms.xml Body)" "What time is it" "SmsUrl Body"
assert_eq "$(param /sms.xml SmsStatus)" received "SmsUrl SmsStatus"
assert_eq "$(param /sms.xml AccountSid)" "$ADMIN_SID" "SmsUrl AccountSid"
wait_eq 5 4 received alice || fail "the <Sms> reply did not reach alice"
assert_eq "$(last alice body)" "Re: What time is it" "<Sms> body"
wait_eq 5 1 reqs /cb/smsaction || fail "<Sms> action"
assert_eq "$(param /cb/smsaction SmsStatus)" sent "<Sms> action SmsStatus=sent"
reply_sid=$(param /cb/smsaction SmsSid)
assert_eq "$(sqlite3 "$SB_DB" "SELECT direction FROM sms_messages WHERE sid='$reply_sid'")" \
  outbound-reply "the reply is outbound-reply"
assert_eq "$(status_of "$in_sid")" received "the inbound message is received"

# ---- <Sms> from a voice call ----------------------------------------------------
scen uac_expect.xml caller CODE=486
uac caller 5000 || { show caller; fail "voice call to 5000"; }
wait_eq 5 5 received alice || fail "<Sms> from a call did not reach alice"
assert_eq "$(last alice body)" "from a call" "<Sms> from a call"
assert_eq "$(sqlite3 "$SB_DB" "SELECT direction||' '||(call_sid IS NOT NULL) FROM sms_messages WHERE body='from a call'")" \
  "outbound-call 1" "recorded as outbound-call with its CallSid"

# ---- lists --------------------------------------------------------------------
req GET "$B/SMS/Messages.json" "${admin[@]}"
expect 200 "list"
total=$(sqlite3 "$SB_DB" "SELECT count(*) FROM sms_messages")
assert_eq "$(jq_py 'd["total"]')" "$total" "total"
req GET "$B/SMS/Messages.json?To=client:carol" "${admin[@]}"
assert_eq "$(jq_py '[m["sid"] for m in d["messages"]]')" "['$carol_sm']" "To filter"
req GET "$B/SMS/Messages.json?Body=carrier" "${admin[@]}"
assert_eq "$(jq_py '[m["sid"] for m in d["messages"]]')" "['$to_number']" "Body filter"
req GET "$B/SMS/Messages.json?From=%2B15557777" "${admin[@]}"
assert_eq "$(jq_py '[m["sid"] for m in d["messages"]]')" "['$in_sid']" "From filter"
req GET "$B/SMS/Messages.json?PageSize=2&Page=1" "${admin[@]}"
assert_eq "$(jq_py 'len(d["messages"])')" 2 "page 1 of size 2"
assert_eq "$(jq_py 'd["start"]')" 2 "start 2"
req GET "$B/Messages.json?StartTime=$(date -u +%Y-%m-%d)" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" "$total" "Messages alias lists the same"
req GET "$B/SMS/Messages" "${admin[@]}"
assert_eq "$(xml_py 'len(r.find("SMSMessages"))')" "$total" "XML list"

# ---- isolation ------------------------------------------------------------------
req POST "/Accounts.json" "${admin[@]}" -d EmailAddress=other@example.com -d Password=Other-Account-Pw1
expect 200 "a sub-account"
other=$(jq_py 'd["sid"]')
them=(-u "other@example.com:Other-Account-Pw1")
req GET "/Accounts/$other/SMS/Messages.json" "${them[@]}"
assert_eq "$(jq_py 'd["total"]')" 0 "the other account sees no message"
req GET "/Accounts/$other/SMS/Messages/$sm.json" "${them[@]}"
expect 404 "another account's message is 404"
req GET "$B/SMS/Messages.json" "${them[@]}"
expect 403 "the parent's list is forbidden"
req POST "/Accounts/$other/SMS/Messages.json" "${them[@]}" -d From=5000 -d To=alice -d Body=x
expect 400 "a number of another account is not a From"
