# The Twilio helper library (Debian's python3-twilio) as a real client of
# the REST API, pointed at /restcomm with version 2012-04-24: it reads the
# account, applications, numbers and notifications, creates a call that a
# sipp callee answers, fetches and lists calls with filters and paging,
# redirects the live call, hangs it up, and gets Restcomm's errors as
# TwilioRestException (client.py).
source ../calls_common/lib.sh
TWILIO_PY=/usr/bin/python3      # the Debian package's interpreter
"$TWILIO_PY" -c 'import twilio' 2>/dev/null || fail "python3-twilio is not installed"
app_start
doc talk.xml '<Response><Pause length="30"/></Response>'
doc after.xml '<Response><Pause length="30"/></Response>'
B="/Accounts/$ADMIN_SID"
req GET "/Accounts/$ADMIN_SID.json" "${admin[@]}"
TOKEN=$(jq_py 'd["auth_token"]')
req POST "$B/Applications.json" "${admin[@]}" -d FriendlyName=twilio-app \
  --data-urlencode "RcmlUrl=$APP/talk.xml"
expect 200 "an application"
make_number +15557770000 /talk.xml >/dev/null
# A Notification to read: a created call whose Url answers 404.
scen uas_wait.xml first RING=100 USER=+15550030
uas_start first "$SB_AUX_PORT"
req POST "$B/Calls.json" "${admin[@]}" --data-urlencode From=+15551234 \
  --data-urlencode To=+15550030 --data-urlencode "Url=$APP/missing.xml"
expect 201 "a call whose Url is missing"
uas_wait first || { show first; fail "the first callee"; }
wait_eq 5 1 sqlite3 "$SB_DB" "SELECT count(*) FROM notifications" || fail "its Notification"

scen uas_wait.xml callee RING=200 USER=+15550031 TIMEOUT=30000
uas_start callee "$SB_AUX_PORT"
"$TWILIO_PY" "$SB_TEST_DIR/client.py" "http://127.0.0.1:$SB_HTTP_PORT/restcomm" \
  "$ADMIN_SID" "$TOKEN" "$APP" +15550031 >"$SB_TMP/twilio.out" 2>&1
rc=$?
cat "$SB_TMP/twilio.out"
[ $rc -eq 0 ] || fail "the Twilio library run (exit $rc)"
uas_wait callee || { show callee; fail "the callee got BYE"; }
sid=$(sed -n 's/^call: //p' "$SB_TMP/twilio.out")
assert_eq "$(param /after.xml CallSid)" "$sid" "update(url=) ran after.xml on the call"
assert_eq "$(param /cb/twilio CallStatus)" completed "its status callbacks ended with completed"
assert_eq "$(reqs /cb/twilio)" 3 "initiated, answered, completed (Twilio's repeated StatusCallbackEvent)"
