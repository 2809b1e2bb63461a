# The console's view of live calls: numbers(), calls(), #calls(),
# call(sid) and its methods (hangup from the console ends a ringing call
# with 480), and the call counters in stats().
source ../calls_common/lib.sh

SOCK="$SB_TMP/console.sock"
con() { timeout 30 "$SB_BIN" console -s "$SOCK" "$@"; }

app_start
doc pause.xml '<Response><Pause length="30"/></Response>'
make_number 7000 /pause.xml >/dev/null

assert_eq "$(con -e 'return #calls()')" "0" "no live call at first"
out=$(con -e 'numbers()')
assert_contains "$out" "7000" "numbers() lists the number"
assert_contains "$out" "/pause.xml" "with its Voice URL"
assert_eq "$(con -e 'return numbers()[1].number')" "7000" "numbers() rows are scriptable"

# A caller that rings (a first Pause does not answer) until the console
# hangs up: an unanswered INVITE ends with 480.
scen uac_expect.xml ringing CODE=480
uac ringing 7000 &
uac_pid=$!
wait_for 10 bash -c "[ \"\$(timeout 10 '$SB_BIN' console -s '$SOCK' -e 'return #calls()')\" = 1 ]" \
  || { kill $uac_pid; fail "the call never showed in calls()"; }
pass "#calls() counts the ringing call"

out=$(con -e 'calls()')
assert_contains "$out" "sid" "calls() has a header"
assert_contains "$out" "inbound" "calls() shows the direction"
assert_contains "$out" "7000" "calls() shows the number called"
assert_contains "$out" "(1 row)" "calls() lists one call"
sid=$(con -e 'return calls()[1].sid')
[[ "$sid" =~ CA[0-9a-f]{32}$ ]] || fail "calls()[1].sid is a call SID: $sid"
pass "calls()[1].sid is the call's SID"
assert_eq "$(con -e "return calls()[1].from")" "bob" "calls() shows the caller"
assert_eq "$(con -e "return call('$sid').sid")" "$sid" "call(sid) gives the call object"
assert_contains "$(con -e 'stats()')" "1 active" "stats() counts the live call"

out=$(con -e "return call('$sid'):hangup()"); rc=$?
assert_eq "$rc:$out" "0:true" "call(sid):hangup() from the console"
wait $uac_pid || { show ringing; fail "the caller did not get 480"; }
pass "the caller got 480 for the call hung up from the console"
assert_eq "$(con -e 'return #calls()')" "0" "the call is gone from calls()"
assert_eq "$(con -e "return call('$sid')")" "$(printf 'nil\tnot-found')" \
  "call(sid) of a call that ended is nil, not-found"
assert_contains "$(con -e 'stats()')" "0 active, 1 total" "stats() counts the call in the total"
