# Start-up failures: each gives one clear line on stderr, a non-zero exit,
# and leaves nothing behind (no database file, no listening socket). The
# runner's server holds SB_SIP_PORT and SB_HTTP_PORT, so those are "in use".

d=$SB_TMP/bad
mkdir -p "$d"
read -r p1 p2 < <(python3 "$SB_TEST_DIR/../free_ports.py" 2)

# try NAME EXPECTED_EXIT PATTERN CONFIG_TEXT
try() {
  local name=$1 want=$2 pattern=$3 text=$4
  printf '%s\n' "$text" >"$d/$name.lua"
  (cd "$d" && timeout 20 "$SB_BIN" -c "$d/$name.lua") >"$d/$name.out" 2>"$d/$name.err"
  local rc=$?
  assert_eq "$rc" "$want" "$name: exit status"
  local lines
  lines=$(grep -c . "$d/$name.err")
  grep -Eq -- "$pattern" "$d/$name.err" || fail "$name: stderr lacks /$pattern/: $(cat "$d/$name.err")"
  grep -Eq " ready in [0-9]+ ms" "$d/$name.err" && fail "$name: the server said ready"
  pass "$name: stderr says $(grep -E -- "$pattern" "$d/$name.err" | head -1)"
}

base="store.path = \"$d/ok.db\"
http.listen = \"127.0.0.1:$p2\"
console.socket = \"$d/c.sock\""

try syntax 3 "syntax.lua:3: .*expected" "sip = {
  listen = { \"udp:127.0.0.1:$p1\" "
try unknown_key 3 "unknown_key.lua:2: sip.lissten: unknown key" "sip = {
  lissten = { \"udp:127.0.0.1:$p1\" } }"
try port_not_number 3 "port_not_number.lua:1: sip.listen: .*port must be a number" \
  "sip.listen = { \"udp:127.0.0.1:50x0\" }"
try sip_port_in_use 1 "^switchboard: sip: cannot listen on (udp|tcp):127.0.0.1:$SB_SIP_PORT: Address already in use" \
  "$base
sip.listen = { \"udp:127.0.0.1:$SB_SIP_PORT\", \"tcp:127.0.0.1:$SB_SIP_PORT\" }"
try http_port_in_use 1 "^switchboard: http: cannot listen on 127.0.0.1:$SB_HTTP_PORT: address already in use" \
  "store.path = \"$d/ok2.db\"
sip.listen = { \"udp:127.0.0.1:$p1\" }
http.listen = \"127.0.0.1:$SB_HTTP_PORT\""
try db_unwritable 1 "^switchboard: /nonexistent-dir/x.db: cannot open database" \
  "store.path = \"/nonexistent-dir/x.db\"
sip.listen = { \"udp:127.0.0.1:$p1\" }
http.listen = \"127.0.0.1:$p2\""

# Nothing half-started: after the SIP failure above the HTTP port it had
# opened is free again, and the failed starts left their sockets closed.
python3 - "$p1" "$p2" <<'PY' || fail "ports still held after failed starts"
import socket, sys
for p in map(int, sys.argv[1:]):
    s = socket.socket(); s.bind(("127.0.0.1", p)); s.close()
PY
pass "failed starts released their ports"

# The command line.
"$SB_BIN" version | grep -Eq '^switchboard [0-9]+\.[0-9]+\.[0-9]+$' || fail "version"
pass "version prints the version"
"$SB_BIN" --help | grep -q "check-config" || fail "--help"
pass "--help lists the commands"
"$SB_BIN" frobnicate >/dev/null 2>&1; assert_eq "$?" 2 "unknown command exits 2"
"$SB_BIN" check-config "$SB_CONF" >/dev/null; assert_eq "$?" 0 "check-config accepts the test config"
"$SB_BIN" check-config "$d/unknown_key.lua" 2>/dev/null; assert_eq "$?" 3 "check-config rejects a bad file"
"$SB_BIN" check-config 2>/dev/null; assert_eq "$?" 2 "check-config without FILE is a usage error"

# The running server is unaffected by all of the above.
hdrs=$(curl -s -D - -o /dev/null "$SB_BASE/Accounts")
assert_contains "$hdrs" "401" "the running server still answers"
