# The console socket's life cycle: a second server refuses a socket that
# is in use, the file goes away at shutdown, a path that is not a socket
# stops the start (and is left alone), and a stale socket left by a crash
# is replaced.

SOCK="$SB_TMP/console.sock"
con() { timeout 30 "$SB_BIN" console -s "$SOCK" "$@"; }

# A second server with its own ports and database but the same socket.
read -r p1 p2 < <(python3 "$SB_TEST_DIR/../free_ports.py" 2)
cat >"$SB_TMP/second.lua" <<CONF
sip.listen = { "udp:127.0.0.1:$p1" }
http.listen = "127.0.0.1:$p2"
store.path = "$SB_TMP/second.db"
console.socket = "$SOCK"
admin.password = "Integration-Test-Pw1"
media.port_min = $SB_MEDIA_MIN
media.port_max = $((SB_MEDIA_MIN + 99))
CONF
(cd "$SB_TMP" && timeout 20 "$SB_BIN" -c "$SB_TMP/second.lua") >/dev/null 2>"$SB_TMP/second.err"
rc=$?
assert_eq "$rc" "1" "a second server on the same console socket does not start"
assert_contains "$(cat "$SB_TMP/second.err")" "console: $SOCK is in use" "and says the socket is in use"
assert_eq "$(con -e 'return "first"')" "first" "the first server's console still answers"

stop_server
[ -e "$SOCK" ] && fail "the socket file is left after shutdown"
pass "the socket file is removed at shutdown"

echo precious >"$SOCK"
(cd "$SB_TMP" && timeout 20 "$SB_BIN" -c "$SB_CONF") >/dev/null 2>"$SB_TMP/file.err"
rc=$?
assert_eq "$rc" "1" "a server whose console path is a file does not start"
assert_contains "$(cat "$SB_TMP/file.err")" "exists and is not a socket" "and says why"
assert_eq "$(cat "$SOCK")" "precious" "the file is left alone"
rm -f "$SOCK"

# A crash (SIGKILL) leaves the socket file behind.
"$SB_BIN" -c "$SB_CONF" >"$SB_TMP/crash.log" 2>&1 &
crash=$!
for _ in $(seq 100); do
  grep -Eq " ready in [0-9]+ ms" "$SB_TMP/crash.log" && break
  sleep 0.1
done
kill -KILL $crash
wait $crash 2>/dev/null
[ -S "$SOCK" ] || fail "expected the crashed server's socket file"
pass "a crashed server leaves its socket file"
start_server || fail "the server did not start over a stale socket"
assert_log "console: removed a stale socket" "the stale socket is replaced"
assert_eq "$(con -e 'return "back"')" "back" "and the new console answers"
