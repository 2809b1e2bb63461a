# sip.trace from the console: every SIP message sent and received goes to
# the server log at info level, whole, while on; nothing after it is off.
source ../calls_common/lib.sh
SOCK="$SB_TMP/console.sock"
con() { timeout 30 "$SB_BIN" console -s "$SOCK" "$@"; }
opts() { python3 "$CALLS_COMMON/sipraw.py" options; }

assert_eq "$(con -e 'sip.trace(true)')" "false" "sip.trace(true) returns the previous state"
assert_eq "$(opts)" 200 "OPTIONS answered while tracing"
wait_for 5 grep -q "INFO  sip:    SIP/2.0 200 OK" "$SB_LOG" || fail "the 200 is traced"
pass "the answer sent is traced"
assert_log "INFO  sip: recv [0-9]+ bytes from udp/" "the received request's header line"
assert_log "INFO  sip:    OPTIONS sip:" "its request line"
assert_log "INFO  sip:    CSeq: [0-9]+ OPTIONS" "and its headers"
assert_log "INFO  sip: send [0-9]+ bytes to udp/" "the sent answer's header line"

assert_eq "$(con -e 'sip.trace(false)')" "true" "sip.trace(false) returns true"
before=$(grep -c "INFO  sip:    " "$SB_LOG")
assert_eq "$(opts)" 200 "OPTIONS answered after tracing"
sleep 0.3
assert_eq "$(grep -c "INFO  sip:    " "$SB_LOG")" "$before" "nothing traced once off"
out=$(con -e 'sip.trace("yes")' 2>&1); rc=$?
assert_eq "$rc" 1 "a non-boolean argument is an error"
assert_contains "$out" "on must be true or false" "with the usage"
