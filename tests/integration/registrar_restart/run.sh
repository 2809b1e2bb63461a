# Registrations survive a restart: sipp registers, the server is stopped
# and started again while sipp waits, the binding is still there (and the
# start-up log says it was restored), and sipp's next request, carrying
# credentials for a nonce of the old process, is answered 401 stale=true
# with a fresh nonce, after which it re-registers (200).
source ../registrar_common/lib.sh

make_client carol Carol-Secret-99 >/dev/null
cat >"$SB_TMP/carol.csv" <<'CSV'
SEQUENTIAL
carol;[authentication username=carol password=Carol-Secret-99]
CSV

timeout 60 sipp 127.0.0.1:"$SB_SIP_PORT" -i 127.0.0.1 -p 0 -m 1 -t u1 \
  -timeout 40s -timeout_error -nostdin -trace_err -error_file "$SB_TMP/restart.err" \
  -sf "$REG_COMMON/restart.xml" -inf "$SB_TMP/carol.csv" -set expires 600 \
  >"$SB_TMP/restart.out" 2>&1 &
sipp_pid=$!

wait_for 20 grep -q "registered carol at" "$SB_LOG" || fail "carol never registered"
pass "carol registered"
assert_eq "$(reg_count carol)" 1 "one binding stored"
before=$(reg_rows carol)

stop_server
assert_eq "$server_rc" 0 "server stopped cleanly"
start_server || fail "server did not start again"
pass "server restarted"
assert_log "registrar for domain 127.0.0.1: 1 contact\(s\) of 1 user\(s\) restored" \
  "start-up logs the restored registration"
after=$(reg_rows carol)
assert_eq "${after%|*}" "${before%|*}" "the binding survived with its source address"

wait "$sipp_pid" || { cat "$SB_TMP"/restart.*; fail "re-register after restart"; }
pass "old nonce answered 401 stale=true, then re-registered (200)"
assert_eq "$(reg_count carol)" 1 "still one binding (refreshed, not duplicated)"

# The location of carol is what the restarted registrar serves: a second
# restart with nothing in flight keeps it too.
stop_server
start_server || fail "second restart"
assert_eq "$(reg_count carol)" 1 "binding survives a second restart"
