# The Twilio helper library (Debian's python3-twilio) as a real client of
# the REST API, twice: pointed at /restcomm with version 2012-04-24, and
# with only its host changed (Twilio's own /2010-04-01 paths): it reads the
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
req POST "/Accounts.json" "${admin[@]}" -d EmailAddress=sub@example.com \
  -d Password=Sub-Account-Pw-1 -d FriendlyName=twilio-sub
expect 200 "a sub-account"
# A Notification to read: a created call whose Url answers 404.
scen uas_wait.xml first RING=100 USER=+15550030
uas_start first "$SB_AUX_PORT"
req POST "$B/Calls.json" "${admin[@]}" --data-urlencode From=+15551234 \
  --data-urlencode To=+15550030 --data-urlencode "Url=$APP/missing.xml"
expect 201 "a call whose Url is missing"
uas_wait first || { show first; fail "the first callee"; }
wait_eq 5 1 sqlite3 "$SB_DB" "SELECT count(*) FROM notifications" || fail "its Notification"

for dialect in restcomm twilio; do
  number=+1555003$([ $dialect = restcomm ] && echo 1 || echo 2)
  scen uas_wait.xml "callee-$dialect" RING=200 USER=$number TIMEOUT=30000
  uas_start "callee-$dialect" "$SB_AUX_PORT"
  "$TWILIO_PY" "$SB_TEST_DIR/client.py" "http://127.0.0.1:$SB_HTTP_PORT" \
    "$ADMIN_SID" "$TOKEN" "$APP" "$number" "$dialect" >"$SB_TMP/twilio-$dialect.out" 2>&1
  rc=$?
  sed "s/^/$dialect: /" "$SB_TMP/twilio-$dialect.out"
  [ $rc -eq 0 ] || fail "the Twilio library run against the $dialect paths (exit $rc)"
  uas_wait "callee-$dialect" || { show "callee-$dialect"; fail "$dialect: the callee got BYE"; }
  sid=$(sed -n 's/^call: //p' "$SB_TMP/twilio-$dialect.out")
  assert_eq "$(param /after.xml CallSid)" "$sid" "$dialect: update(url=) ran after.xml on the call"
  assert_eq "$(param /cb/twilio CallStatus)" completed "$dialect: its status callbacks ended with completed"
done
assert_eq "$(reqs /cb/twilio)" 6 "initiated, answered, completed twice (Twilio's repeated StatusCallbackEvent)"

# The dialect's bodies name /2010-04-01 and are JSON, paged.
req GET "/../../2010-04-01/Accounts/$ADMIN_SID/Calls" "${admin[@]}"
expect 200 "GET /2010-04-01/Accounts/{AC}/Calls without .json"
assert_eq "$(jq_py 'd["uri"]')" "/2010-04-01/Accounts/$ADMIN_SID/Calls" "the list's uri"
assert_eq "$(jq_py 'd["calls"][0]["uri"].startswith("/2010-04-01/")')" true "each call's uri"
req GET "/../../2010-04-01/Accounts/$ADMIN_SID/Clients" "${admin[@]}"
assert_eq "$(jq_py 'isinstance(d, dict) and "clients" in d')" true "Clients is a page there"

# Issue 21's remaining resources through the library (resources.py): the
# number pool (written now; loaded when it appears), outgoing caller IDs,
# transcriptions, and Twilio's error codes.
cat >"$SB_TMP/pool.csv" <<'CSV'
US,local,+14155550100,voice+sms,CA,94105,San Francisco
US,local,+14155550101,voice,CA,94105,San Francisco
US,local,+12125550102,voice+sms+mms,NY,10001,New York
US,tollfree,+18005550199,voice
GB,mobile,+447700900123,voice+sms,,,London
CSV
for _ in $(seq 50); do grep -q "numbers: pool reloaded" "$SB_LOG" && break; sleep 0.1; done
"$TWILIO_PY" "$SB_TEST_DIR/resources.py" "http://127.0.0.1:$SB_HTTP_PORT" "$ADMIN_SID" "$TOKEN" \
  >"$SB_TMP/twilio-resources.out" 2>&1
rc=$?
sed "s/^/resources: /" "$SB_TMP/twilio-resources.out"
[ $rc -eq 0 ] || fail "the Twilio library on the pool, caller IDs and transcriptions (exit $rc)"
