# The console without a terminal: -e chunks, a script on stdin, exit
# statuses, errors with tracebacks, the instruction limit, the helpers,
# and the socket file (mode 0600, found through -c FILE).

SOCK="$SB_TMP/console.sock"
con() { timeout 30 "$SB_BIN" console -s "$SOCK" "$@"; }

assert_eq "$(stat -c %a "$SOCK")" "600" "the console socket is mode 0600"
assert_eq "$(stat -c %F "$SOCK")" "socket" "the console path is a socket"

out=$(con -e 'return 1 + 1'); rc=$?
assert_eq "$rc:$out" "0:2" "-e 'return 1 + 1' prints 2 and exits 0"
out=$(con -e '1 + 1')
assert_eq "$out" "2" "a bare expression is tried as return <line>"

out=$(timeout 30 "$SB_BIN" console -c "$SB_CONF" -e 'return "via config"'); rc=$?
assert_eq "$rc:$out" "0:via config" "-c FILE finds the socket from console.socket"

out=$(con -e 'x = 20' -e 'return x + 1')
assert_eq "$out" "21" "several -e chunks run in order on one console"

out=$(con -e '{ name = "alice", tags = { "a", "b" }, n = 3 }')
assert_eq "$out" '{ n = 3, name = "alice", tags = { "a", "b" } }' "tables are pretty-printed"

out=$(con -e 'local t = {} t.me = t return t')
assert_contains "$out" "me = <cycle: table: 0x" "cycles are marked"

err=$(con -e 'local function inner() error("boom") end inner()' 2>&1 >/dev/null); rc=$?
assert_eq "$rc" "1" "a runtime error exits 1"
assert_contains "$err" '(command line):1: boom' "the error names the chunk and line"
assert_contains "$err" "stack traceback:" "the error carries a traceback"
assert_contains "$err" "in local 'inner'" "the traceback shows the user's frames"

con -e 'return +' >/dev/null 2>&1; rc=$?
assert_eq "$rc" "1" "a syntax error exits 1"
con -e 'x = 1' -e 'error("stop")' -e 'print("not reached")' >"$SB_TMP/o" 2>/dev/null; rc=$?
assert_eq "$rc:$(cat "$SB_TMP/o")" "1:" "the first failing -e stops the rest"

out=$(printf 'local t = {}\nfor i = 1, 3 do\n  t[i] = i * i\nend\nprint("squares")\nreturn t\n' | con); rc=$?
assert_eq "$rc" "0" "a script on stdin exits 0"
assert_eq "$out" "$(printf 'squares\n{ 1, 4, 9 }')" "a script on stdin runs as one chunk, with print output"
printf 'print("before")\nerror("in script")\n' | con >"$SB_TMP/o" 2>"$SB_TMP/e"; rc=$?
assert_eq "$rc:$(cat "$SB_TMP/o")" "1:before" "a failing script on stdin exits 1 after its output"
assert_contains "$(cat "$SB_TMP/e")" "stdin:2: in script" "the script's error names stdin and the line"
printf 'function f(\n' | con >/dev/null 2>&1; rc=$?
assert_eq "$rc" "1" "an incomplete script is an error, not a prompt"

out=$(con -e 'return #calls()'); rc=$?
assert_eq "$rc:$out" "0:0" "#calls() counts the live calls"
out=$(con -e 'calls()')
assert_contains "$out" "(no live calls)" "calls() says there are none"
out=$(con -e 'call("CA00000000000000000000000000000000")')
assert_contains "$out" "nil" "call(sid) of an unknown call is nil"
out=$(con -e 'registrations()')
assert_contains "$out" "(no registrations)" "registrations() lists the (empty) location service"
out=$(con -e 'help()')
assert_contains "$out" "reload([name])" "help() lists reload"
assert_contains "$out" "not the plugin sandbox" "help() says the console is the full state"
out=$(con -e 'help("stats")')
assert_contains "$out" "per second over the last minute" "help(name) gives the details"
out=$(con -e 'stats()')
assert_contains "$out" "uptime" "stats() shows the uptime"
assert_contains "$out" "0 active, 0 total" "stats() shows the calls"
assert_contains "$out" "1 connected" "stats() counts this console"
out=$(con -e 'return stats().memory.lua > 0 and stats().memory.rss > 0')
assert_eq "$out" "true" "stats() reports Lua and process memory"
out=$(con -e 'log.level("info")' -e 'return log.level()')
assert_eq "$out" "$(printf 'info\ninfo')" "log.level sets and reads the level"
con -e 'log.level("debug")' >/dev/null

err=$(con -e 'while true do end' 2>&1 >/dev/null); rc=$?
assert_eq "$rc" "1" "a busy loop is stopped and exits 1"
assert_contains "$err" "instruction limit exceeded" "the instruction limit applies to the console"
out=$(con -e 'return "alive"')
assert_eq "$out" "alive" "the server answers after a busy loop"
assert_eq "$(http_status GET "$SB_BASE/Accounts")" "401" "REST still answers"

out=$(con -e 'sleep(0.1) return "slept"')
assert_eq "$out" "slept" "a console line may wait (sleep)"

timeout 10 "$SB_BIN" console -s "$SB_TMP/no-such.sock" -e 'return 1' >/dev/null 2>"$SB_TMP/e"; rc=$?
assert_eq "$rc" "4" "no server on the socket exits 4"
assert_contains "$(cat "$SB_TMP/e")" "is the server running?" "and says why"
"$SB_BIN" console -x >/dev/null 2>&1; rc=$?
assert_eq "$rc" "2" "an unknown console option is a usage error"

assert_log "console [0-9]+: connected" "connections are logged"
