# Several consoles at once; a console killed mid-command disturbs nothing
# (its session is cancelled); Ctrl-C (SIGINT) cancels the running command.

SOCK="$SB_TMP/console.sock"
con() { timeout 60 "$SB_BIN" console -s "$SOCK" "$@"; }

# wait_file FILE TEXT: until FILE contains TEXT (10 s at most).
wait_file() {
  for _ in $(seq 100); do
    grep -qF -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "timed out waiting for '$2' in $1"
}

# Several consoles, each waiting, plus a quick one while they wait.
pids=()
for i in 1 2 3 4 5; do
  con -e "local me = $i sleep(0.5) return 'done ' .. me" >"$SB_TMP/c$i.out" 2>&1 &
  pids+=($!)
done
out=$(con -e 'return "quick"')
assert_eq "$out" "quick" "a console answers while five others wait"
for i in 1 2 3 4 5; do
  wait "${pids[$((i - 1))]}"; rc=$?
  assert_eq "$rc:$(cat "$SB_TMP/c$i.out")" "0:done $i" "console $i finished with its own result"
done

# A console killed while its command waits (no `timeout` wrapper: the
# signal must reach the client itself; the command ends by itself anyway).
"$SB_BIN" console -s "$SOCK" -e 'print("started") sleep(1) _G.touched = true' \
  >"$SB_TMP/k.out" 2>&1 &
kpid=$!
wait_file "$SB_TMP/k.out" "started"
kill -KILL $kpid
wait $kpid 2>/dev/null
for _ in $(seq 100); do
  grep -Eq "disconnected during command" "$SB_LOG" && break
  sleep 0.1
done
assert_log "console [0-9]+: disconnected during command [0-9]+; canceling it" \
  "the server cancels the command of a console that went away"
sleep 1.5                               # past the sleep it was in
out=$(con -e 'return _G.touched')
assert_eq "$out" "nil" "the cancelled command did not run on"
assert_eq "$(http_status GET "$SB_BASE/Accounts")" "401" "REST still answers"

# Ctrl-C on a running command: the client sends cancel and exits 1.
"$SB_BIN" console -s "$SOCK" -e 'print("go") sleep(60)' >"$SB_TMP/i.out" 2>"$SB_TMP/i.err" &
ipid=$!
wait_file "$SB_TMP/i.out" "go"
kill -INT $ipid
# Bounded: the client must go within 10 s (it would sleep 60 otherwise).
for _ in $(seq 100); do kill -0 $ipid 2>/dev/null || break; sleep 0.1; done
kill -0 $ipid 2>/dev/null && { kill -KILL $ipid; fail "Ctrl-C did not end the command"; }
wait $ipid; rc=$?
assert_eq "$rc" "1" "a command cancelled with Ctrl-C exits 1"
assert_contains "$(cat "$SB_TMP/i.err")" "canceled" "and says it was cancelled"
assert_log "console [0-9]+: command [0-9]+ canceled" "the server logs the cancel"

out=$(con -e 'return stats().consoles')
assert_eq "$out" "1" "no console is left behind"
