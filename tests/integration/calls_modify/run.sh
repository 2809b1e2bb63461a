# Live call modification (POST Calls/{CA}) of a Dial bridge: a sipp
# caller dials a number whose RCML dials a sipp callee behind the outbound
# proxy. A new Url is fetched first and swapped in only when it arrived:
# a 404 Url leaves both legs up and bridged, answers 400 and writes a
# Notification; a good Url runs on the call and the other leg gets BYE;
# MoveConnectedCallLeg=true runs it on both legs; redirecting the dialled
# leg hangs up the caller; a second modification while one is fetched
# gets 409; Mute=true; and the console's call(sid):redirect follows the
# same rule (the other leg is not left in-progress).
source ../calls_common/lib.sh
printf '{"/slow.xml": {"delay_ms": 2500}}' >"$DOCS/_config.json"
app_start
doc dial.xml '<Response><Dial timeout="10"><Number>+15550010</Number></Dial></Response>'
doc after.xml '<Response><Pause length="1"/><Hangup/></Response>'
cp "$DOCS/after.xml" "$DOCS/slow.xml"
make_number 1111 /dial.xml >/dev/null
B="/Accounts/$ADMIN_SID"
SOCK="$SB_TMP/console.sock"
call_status() { cdr "$1" status; }
n=0

# bridge: a caller (sipp, waits for our BYE) dialled through to a callee
# (sipp, waits for our BYE); sets PARENT and CHILD.
bridge() {
  n=$((n + 1))
  scen uas_wait.xml "callee$n" RING=100 TIMEOUT=20000
  uas_start "callee$n" "$SB_AUX_PORT"
  scen uac_wait.xml "caller$n" TIMEOUT=20000
  uac "caller$n" 1111 &
  CALLER_PID=$!
  wait_eq 10 "$n" reqs /dial.xml || fail "dial request $n"
  PARENT=$(param /dial.xml CallSid)
  wait_for 10 test -n "$(cdr_where "parent_call_sid = '$PARENT' AND status = 'in-progress'" sid)" ||
    fail "bridge $n is up"
  CHILD=$(cdr_where "parent_call_sid = '$PARENT'" sid)
}
finish() {
  wait "$CALLER_PID" || { show "caller$n"; fail "caller $n got BYE"; }
  uas_wait "callee$n" || { show "callee$n"; fail "callee $n got BYE"; }
}

# ---- a Url that fails changes nothing ------------------------------------
bridge
req POST "$B/Calls/$PARENT.json" "${admin[@]}" --data-urlencode "Url=$APP/missing.xml"
expect 400 "a Url that answers 404"
assert_contains "$RB" "404" "the answer says why"
sleep 0.5
assert_eq "$(call_status "$PARENT"):$(call_status "$CHILD")" "in-progress:in-progress" \
  "both legs are still up"
assert_eq "$(sqlite3 "$SB_DB" "SELECT error_code FROM notifications WHERE call_sid = '$PARENT'")" \
  21402 "a Notification of the call (21402)"

# ---- a second modification while the first is fetched: 409 ---------------
curl -s -o /dev/null -w '%{http_code}' --max-time 20 "${admin[@]}" \
  --data-urlencode "Url=$APP/slow.xml" "$SB_BASE$B/Calls/$PARENT.json" >"$SB_TMP/slow.code" &
slow_pid=$!
wait_eq 5 1 reqs /slow.xml || fail "slow.xml requested"
req POST "$B/Calls/$PARENT.json" "${admin[@]}" --data-urlencode "Url=$APP/after.xml"
expect 409 "a second modification while one is under way"
wait "$slow_pid"
assert_eq "$(cat "$SB_TMP/slow.code")" 200 "the first one answers 200 once its document arrived"

# ---- the slow Url arrived: it runs on the caller, the callee gets BYE -----
wait_eq 10 1 reqs /slow.xml || fail "slow.xml fetched"
assert_eq "$(reqs /slow.xml)" 1 "the new document is fetched once"
assert_eq "$(param /slow.xml CallSid)" "$PARENT" "fetched for the caller"
assert_eq "$(param /slow.xml CallStatus)" in-progress "with CallStatus=in-progress"
finish
wait_eq 5 completed call_status "$CHILD" || fail "the dialled leg completed"
wait_eq 5 completed call_status "$PARENT" || fail "the caller completed"
pass "redirect: the new RCML ran on the caller, the dialled leg got BYE"

# ---- redirecting the dialled leg hangs up the caller ----------------------
bridge
req POST "$B/Calls/$CHILD.json" "${admin[@]}" --data-urlencode "Url=$APP/after.xml"
expect 200 "redirect of the dialled leg"
assert_eq "$(jq_py 'd["sid"]')" "$CHILD" "answers with the call"
finish
assert_eq "$(param /after.xml CallSid)" "$CHILD" "the dialled leg ran after.xml"
wait_eq 5 completed call_status "$PARENT" || fail "the caller completed"

# ---- MoveConnectedCallLeg=true: both legs run the new Url ------------------
bridge
before=$(reqs /after.xml)
req POST "$B/Calls/$PARENT.json" "${admin[@]}" --data-urlencode "Url=$APP/after.xml" \
  -d MoveConnectedCallLeg=true
expect 200 "MoveConnectedCallLeg=true"
wait_eq 5 $((before + 2)) reqs /after.xml || fail "after.xml for both legs"
sids=$(python3 - "$HTTP_LOG" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"] == "/after.xml"]
print(" ".join(sorted(r["params"]["CallSid"] for r in rows[-2:])))
PY
)
assert_eq "$sids" "$(printf '%s\n' "$PARENT" "$CHILD" | sort | tr '\n' ' ' | sed 's/ $//')" \
  "each leg fetched it with its own CallSid"
finish

# ---- Mute ---------------------------------------------------------------------
bridge
req POST "$B/Calls/$PARENT.json" "${admin[@]}" -d Mute=maybe
expect 400 "Mute must be true or false"
req POST "$B/Calls/$PARENT.json" "${admin[@]}" -d Mute=true
expect 200 "Mute=true"
grep -q "call: muted" "$SB_LOG" || fail "the mute is logged"

# ---- the console's redirect hangs up the other leg too -------------------------
out=$(timeout 30 "$SB_BIN" console -s "$SOCK" \
  -e "return call('$PARENT'):redirect{ url = '$APP/after.xml' }")
assert_eq "$out" "true" "call(sid):redirect from the console"
finish
wait_eq 5 completed call_status "$CHILD" || fail "the dialled leg is not left in-progress"
pass "a console redirect of a bridged call ends the other leg"
wait_eq 10 0 live_calls || fail "every call is over"
