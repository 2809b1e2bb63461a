#!/usr/bin/env bash
# bench/transfer/run.sh [BUILD_DIR] [SECONDS]: completed blind transfers
# per second on loopback, printed as a table (never asserted).
#
# One transfer, every party a sipp scenario (tests/integration/calls_common):
#   the caller dials number 1111 and waits for the end of the call;
#   1111's application (<Dial><Number>) reaches the transferor (a sipp UAS
#   behind the outbound proxy setting), which answers, sends REFER after
#   200 ms, takes 202, NOTIFY 100 and NOTIFY 200, and the BYE;
#   the number's Refer URL (<Dial><Sip>) reaches the target (another sipp
#   UAS), which answers and hangs up after 500 ms; the caller then gets
#   BYE. A transfer counts when the caller's scenario succeeds.
# RCML comes from nginx (static GET documents) when installed. Each step
# offers RATE transfers per second for SECONDS (default 5); RATES default
# "50 100 200 400 600 800"; the climb stops after a step that failed more
# than 5 %. The server's log level is warn. On a 2-core machine the three
# sipp processes compete with the server for the CPU: the knee is theirs
# as much as ours (see the server CPU column).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
secs=${2:-5}
rates=${RATES:-"50 100 200 400 600 800"}
common=$root/tests/integration/calls_common

command -v sipp >/dev/null || { echo "bench/transfer: sipp is not installed" >&2; exit 1; }
cmake --build "$build" --target switchboard >/dev/null
bin=$build/switchboard
ulimit -n 65536 2>/dev/null || true

tmp=$(mktemp -d /tmp/sb-bench-transfer.XXXXXX)
chmod 755 "$tmp"
read -r sip http web tor target < <(python3 "$root/tests/integration/free_ports.py" 5)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "sipp -sf $tmp/" 2>/dev/null || true
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/docs" "$tmp/nginx"
echo '<Response><Dial><Number>+131313</Number></Dial></Response>' >"$tmp/docs/1111.xml"
echo "<Response><Dial><Sip>sip:carol@127.0.0.1:$target</Sip></Dial></Response>" \
  >"$tmp/docs/2222.xml"
server_kind=nginx
if command -v nginx >/dev/null; then
  sed "s|@PORT@|$web|; s|@ROOT@|$tmp/docs|; s|@TMP@|$tmp/nginx|g" \
    "$root/bench/calls/nginx.conf" >"$tmp/nginx/nginx.conf"
  nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g "pid $tmp/nginx.pid;" || server_kind=""
fi
if [ -z "$server_kind" ] || ! command -v nginx >/dev/null; then
  server_kind=appserver.py
  python3 "$root/tests/integration/appserver.py" --port "$web" --dir "$tmp/docs" \
    --log /dev/null --lifetime 3600 >/dev/null 2>&1 &
  pids+=($!)
fi

cat >"$tmp/conf.lua" <<CONF
sip.listen = { "udp:127.0.0.1:$sip" }
sip.outbound_proxy = "sip:127.0.0.1:$tor"
http.listen = "127.0.0.1:$http"
store.path = "$tmp/bench.db"
console.socket = "$tmp/console.sock"
admin.email = "bench@example.com"
admin.password = "Bench-Password-123"
log.level = "warn"
media.port_min = 20000
media.port_max = 40000
CONF
"$bin" -c "$tmp/conf.lua" >"$tmp/server.log" 2>&1 &
pid=$!
pids+=($pid)
for _ in $(seq 100); do
  grep -q " ready in " "$tmp/server.log" && break
  sleep 0.1
done
api="http://127.0.0.1:$http/restcomm/2012-04-24"
auth=(-u "bench@example.com:Bench-Password-123")
ac=$(curl -s "${auth[@]}" "$api/Accounts.json/bench@example.com" |
     python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])')
curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" \
  -d PhoneNumber=1111 -d isSIP=true -d VoiceMethod=GET -d ReferMethod=GET \
  --data-urlencode "VoiceUrl=http://127.0.0.1:$web/1111.xml" \
  --data-urlencode "ReferUrl=http://127.0.0.1:$web/2222.xml"

py() { python3 "$common/scen.py" "$common/$1" "$tmp/$2.xml" "${@:3}"; }
py uac_wait.xml caller TIMEOUT=30000
py uas_refer.xml transferor CODE=202 HOLD=200 RING=0 TIMEOUT=30000 \
  "TARGET=sip:carol@127.0.0.1:$sip"
py uas_bye.xml target USER=carol RING=0 HOLD=500
sipp -sf "$tmp/transferor.xml" -i 127.0.0.1 -p "$tor" -nostdin -bg -trace_err -error_file "$tmp/transferor.err" >/dev/null 2>&1 || true
sipp -sf "$tmp/target.xml" -i 127.0.0.1 -p "$target" -nostdin -bg -trace_err -error_file "$tmp/target.err" >/dev/null 2>&1 || true
sleep 0.5

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

printf '\nBlind transfers on 127.0.0.1 (%s cores), UDP, %s s per step; RCML from %s\n' \
  "$(nproc)" "$secs" "$server_kind"
printf '(each: 3 legs, 2 RCML fetches, REFER, 202, 2 NOTIFYs, 3 BYEs)\n\n'
printf '%10s %8s %10s %8s %13s %7s %10s\n' offered/s calls completed failed transfers/s "wall s" "server CPU"
printf '%10s %8s %10s %8s %13s %7s %10s\n' --------- ----- --------- ------ ----------- ------ ----------
for rate in $rates; do
  calls=$((rate * secs))
  rm -f "$tmp/screen.txt"
  t0=$(date +%s.%N)
  c0=$(cpu_ticks "$pid")
  timeout $((secs * 4 + 90)) sipp "127.0.0.1:$sip" -sf "$tmp/caller.xml" -s 1111 \
    -i 127.0.0.1 -p 0 -nostdin -r "$rate" -rp 1000 -m "$calls" -l $((rate * 4 + 100)) \
    -timeout $((secs * 4 + 60))s -recv_timeout 15000 \
    -trace_err -error_file "$tmp/caller.err" \
    -trace_screen -screen_file "$tmp/screen.txt" >"$tmp/sipp.out" 2>&1 || true
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$pid")
  ok=$(awk -F'|' '/Successful call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  bad=$(awk -F'|' '/Failed call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  ok=${ok:-0}
  bad=${bad:-$((calls - ok))}
  bad_pct=$((bad * 100 / calls))
  python3 - "$rate" "$calls" "$ok" "$bad" "$t0" "$t1" "$c0" "$c1" "$hz" <<'PY'
import sys
rate, calls, ok, bad = (int(x) for x in sys.argv[1:5])
t0, t1 = float(sys.argv[5]), float(sys.argv[6])
cpu = (int(sys.argv[8]) - int(sys.argv[7])) / float(sys.argv[9])
# Completed per second: over the offered window (calls / rate seconds),
# or over the wall time less the last transfer's 1 s when the server fell
# behind (the wall column shows it).
window = max(calls / float(rate), t1 - t0 - 1.0)
print("%10d %8d %10d %8d %13.0f %7.1f %9.0f%%" % (rate, calls, ok, bad, ok / window,
                                                  t1 - t0, 100 * cpu / (t1 - t0)))
PY
  # Past the knee (more than 5 % failed) the backlog only measures
  # timeouts: stop climbing.
  [ "$bad_pct" -le 5 ] || break
  # Let the previous step's stragglers finish before the next one.
  for _ in $(seq 40); do
    [ "$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM calls WHERE status IN ('ringing','in-progress')")" = 0 ] && break
    sleep 0.5
  done
  sleep 1
done
