#!/usr/bin/env bash
# runner.sh BINARY TESTDIR: starts the built server on loopback in a
# temporary directory with fresh ports and database, runs TESTDIR/run.sh
# against it, and always stops the server (TERM, then KILL after 15 s).
# The test fails if run.sh fails, if the server does not shut down
# cleanly (exit 0), or if its log shows a sanitizer report.
#
# TESTDIR may hold config.lua: extra configuration appended to the base.
set -uo pipefail

bin=$(readlink -f "$1")
testdir=$(readlink -f "$2")
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SB_TMP=$(mktemp -d /tmp/sb-it.XXXXXX)
# A slot of its own (i), held by a lock for the runner's lifetime, so
# tests run side by side (ctest -j) never share a port: 100 media ports
# (40000 + 100 * i) and 60 ports for the server and the test's own
# peers (20000 + 60 * i: free_ports.py draws from them, through
# SB_PORT_BASE), which no other test draws from while this one runs.
for i in $(seq 0 199); do
  exec {media_lock_fd}>"/tmp/sb-it-media-$i.lock"
  if flock -n "$media_lock_fd"; then
    SB_MEDIA_MIN=$((40000 + 100 * i))
    SB_PORT_BASE=$((20000 + 60 * i))
    break
  fi
  exec {media_lock_fd}>&-
done
[ -n "${SB_MEDIA_MIN:-}" ] || { echo "runner: no free port slot" >&2; exit 1; }
export SB_PORT_BASE SB_PORT_SPAN=60
read -r SB_SIP_PORT SB_HTTP_PORT SB_AUX_PORT SB_AUX_PORT2 < <(python3 "$here/free_ports.py" 4)
SB_LOG=$SB_TMP/server.log
SB_CONF=$SB_TMP/switchboard.conf.lua
SB_DB=$SB_TMP/switchboard.db
SB_ADMIN_EMAIL=admin@example.com
SB_ADMIN_PASSWORD=Integration-Test-Pw1
SB_BASE="http://127.0.0.1:$SB_HTTP_PORT/restcomm/2012-04-24"
SB_BIN=$bin
SB_TEST_DIR=$testdir
export SB_MEDIA_MIN SB_TMP SB_SIP_PORT SB_HTTP_PORT SB_AUX_PORT SB_AUX_PORT2 SB_LOG SB_CONF SB_DB \
       SB_ADMIN_EMAIL SB_ADMIN_PASSWORD SB_BASE SB_BIN SB_TEST_DIR

cat >"$SB_CONF" <<CONF
sip.listen = { "udp:127.0.0.1:$SB_SIP_PORT", "tcp:127.0.0.1:$SB_SIP_PORT" }
http.listen = "127.0.0.1:$SB_HTTP_PORT"
store.path = "$SB_DB"
console.socket = "$SB_TMP/console.sock"
admin.email = "$SB_ADMIN_EMAIL"
admin.password = "$SB_ADMIN_PASSWORD"
log.level = "debug"
media.port_min = $SB_MEDIA_MIN
media.port_max = $((SB_MEDIA_MIN + 99))
-- sipp and the test scripts stand in for the carrier: trusted, so their
-- INVITEs may have the server dial out. tests/integration/sip_toll_fraud
-- runs with no trusted peer.
sip.trusted = { "127.0.0.1" }
CONF
[ -f "$testdir/config.lua" ] && sed "s|@TMP@|$SB_TMP|g; s|@AUX_PORT@|$SB_AUX_PORT|g" \
  "$testdir/config.lua" >>"$SB_CONF"

# A test may restart the server (stop_server, then start_server) from its
# run.sh, which runs in a subshell: only the shell that started a server
# can wait for it, so each start records its owner ($BASHPID) and every
# failed stop appends its status to server_failures, which the runner
# checks at the end whichever shell stopped the server.
server_pid=""
server_owner=""
# A stopped server stays a zombie until its parent shell reaps it, and
# kill -0 still succeeds on a zombie: look at its state instead.
server_alive() {
  [ -r "/proc/$1/stat" ] && ! grep -Eq '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null
  for _ in $(seq 150); do
    server_alive "$server_pid" || break
    sleep 0.1
  done
  if server_alive "$server_pid"; then
    echo "runner: server did not stop in 15 s; killing it" >&2
    kill -KILL "$server_pid" 2>/dev/null
  fi
  if [ "$server_owner" = "$BASHPID" ]; then
    wait "$server_pid"
    server_rc=$?
  else
    # Started by the parent shell, which reaps it and records its status.
    server_rc=0
  fi
  [ "$server_rc" -eq 0 ] || echo "$server_rc" >>"$SB_TMP/server_failures"
  server_pid=""
}

cleanup() {
  stop_server
  if [ -n "${KEEP_TMP:-}" ]; then
    echo "runner: kept $SB_TMP" >&2
  else
    rm -rf "$SB_TMP"
  fi
}
trap cleanup EXIT

# Start the server; the test may set SB_NO_START=1 in its own flow.
start_server() {
  # The log is appended to across restarts: wait for one more "ready".
  local before
  before=$(grep -Ec " ready in [0-9]+ ms" "$SB_LOG" 2>/dev/null)
  (cd "$SB_TMP" && exec timeout 240 "$bin" -c "$SB_CONF") >>"$SB_LOG" 2>&1 &
  server_pid=$!
  server_owner=$BASHPID
  for _ in $(seq 100); do
    if [ "$(grep -Ec " ready in [0-9]+ ms" "$SB_LOG" 2>/dev/null)" -gt "${before:-0}" ]; then
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "runner: server exited during start-up:" >&2; cat "$SB_LOG" >&2
      server_pid=""; return 1
    fi
    sleep 0.1
  done
  echo "runner: server not ready in 10 s" >&2; cat "$SB_LOG" >&2
  return 1
}
export -f start_server stop_server 2>/dev/null

if ! start_server; then exit 1; fi

(
  source "$here/lib.sh"
  cd "$testdir"
  # A server this subshell started (a restart) is stopped here, cleanly.
  trap '[ "$server_owner" = "$BASHPID" ] && stop_server' EXIT
  source ./run.sh
)
test_rc=$?

server_rc=0
stop_server
status=0
if [ $test_rc -ne 0 ]; then
  echo "runner: test failed ($test_rc); server log follows" >&2
  tail -n 80 "$SB_LOG" >&2
  status=1
fi
if [ "$server_rc" -ne 0 ] || [ -s "$SB_TMP/server_failures" ]; then
  echo "runner: server exited with $server_rc $(cat "$SB_TMP/server_failures" 2>/dev/null) on SIGTERM (want 0)" >&2
  tail -n 40 "$SB_LOG" >&2
  status=1
fi
if grep -Eq "AddressSanitizer|LeakSanitizer|\.(c|h):[0-9]+:[0-9]+: runtime error:" "$SB_LOG"; then
  echo "runner: sanitizer report in the server log" >&2
  grep -E -A30 "AddressSanitizer|LeakSanitizer|\.(c|h):[0-9]+:[0-9]+: runtime error:" "$SB_LOG" >&2 | head -80
  status=1
fi
exit $status
