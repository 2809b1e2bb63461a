# Admission control: with calls.max_concurrent = 1 and one call live, a
# new INVITE is answered 503 with Retry-After before any work is spent on
# it (no voice request, no call record), the live call goes on to its end,
# and new calls are admitted again once it is over. calls.max_rate and
# calls.max_load are set too (high enough not to refuse here), so the
# server is seen to start with them; their decisions are unit-tested
# (tests/unit/test_call_admit.c).
source ../calls_common/lib.sh
app_start
doc pause.xml '<Response><Pause length="3"/><Hangup/></Response>'
doc reject.xml '<Response><Reject/></Response>'
make_number 1000 /pause.xml >/dev/null
make_number 1001 /reject.xml >/dev/null

# The first call stays live (ringing) through a 3 s Pause, then ends 480
# (a Hangup before any answer).
scen uac_expect.xml long CODE=480
uac long 1000 &
long_pid=$!
wait_eq 10 1 reqs /pause.xml || fail "the first call reached its application"
wait_eq 10 1 live_calls || fail "the first call is live"

out=$(python3 "$CALLS_COMMON/sipraw.py" burst 1001 3)
assert_eq "$out" "503/5 503/5 503/5" "with a call live, new INVITEs get 503 and Retry-After: 5"
assert_eq "$(reqs /reject.xml)" 0 "no voice request for a refused INVITE"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM calls")" 1 "no call record for a refused INVITE"
req GET "/Accounts/$ADMIN_SID/Supervisor.json/metrics" "${admin[@]}"
expect 200 "Supervisor metrics"
assert_eq "$(jq_py 'd["Metrics"]["RefusedCalls"]')" 3 "the metrics count the refused INVITEs"

wait "$long_pid" || { show long; fail "the admitted call went on to its end"; }
pass "the admitted call went on to its end"
wait_eq 5 0 live_calls || fail "the first call is over"
assert_eq "$(python3 "$CALLS_COMMON/sipraw.py" burst 1001 1)" 603 \
  "once the call is over, a new call is admitted"
assert_eq "$(reqs /reject.xml)" 1 "... and its application runs"
