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
# RCML comes from nginx (static GET documents) when installed.
#
# Each step offers RATE transfers per second for SECONDS (default 10);
# RATES default "100 300 500 600 700 800"; the climb stops after a step that
# failed more than 1 %. Between steps the bench waits for the calls to end
# and then PAUSE seconds (default 35): the SIP stack keeps each finished
# UDP transaction for 64*T1 = 32 s (RFC 3261 timer J), so without the
# pause a step pays for the previous one's memory. SECONDS=40 measures the
# steady state instead (all of that state alive).
#
# Columns: transfers/s counts completions up to the last successful one
# (sipp's per-second statistics), so a handful of failed calls that wait
# for their timeouts do not stretch the window; failures are a column of
# their own. "drops" are datagrams the kernel dropped on the server's SIP
# socket (ss -m) and UDP receive-buffer errors on the whole machine
# (/proc/net/snmp RcvbufErrors, other processes included); "retr" are the
# caller's retransmissions. CPU columns are per cent of one core over the
# step (server, the three sipp processes, nginx); the load average is
# taken at the end of the step. Nothing here changes sysctls: the server
# sizes its own socket buffers (core/sip/agent.c), sipp gets -buff_size.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/bench/lib.sh"
build=$(cd "${1:-$root/build}" && pwd)
secs=${2:-10}
rates=${RATES:-"100 300 500 600 700 800"}
pause=${PAUSE:-35}
common=$root/tests/integration/calls_common

command -v sipp >/dev/null || { echo "bench/transfer: sipp is not installed" >&2; exit 1; }
# SB_BIN runs another binary (to compare builds) instead of building one.
if [ -n "${SB_BIN:-}" ]; then
  bin=$SB_BIN
else
  cmake --build "$build" --target switchboard >/dev/null
  bin=$build/switchboard
fi
ulimit -n 65536 2>/dev/null || true

tmp=$(mktemp -d /tmp/sb-bench-transfer.XXXXXX)
chmod 755 "$tmp"
read -r sip http web tor target < <(python3 "$root/tests/integration/free_ports.py" 5)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
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
web_pid=""
if command -v nginx >/dev/null; then
  sed "s|@PORT@|$web|; s|@ROOT@|$tmp/docs|; s|@TMP@|$tmp/nginx|g" \
    "$root/bench/calls/nginx.conf" >"$tmp/nginx/nginx.conf"
  nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g "pid $tmp/nginx.pid;" || server_kind=""
fi
if [ -z "$server_kind" ] || ! command -v nginx >/dev/null; then
  server_kind=appserver.py
  python3 "$root/tests/integration/appserver.py" --port "$web" --dir "$tmp/docs" \
    --log /dev/null --lifetime 3600 >/dev/null 2>&1 &
  web_pid=$!
  pids+=($web_pid)
fi

bench_start_server "$bin" "$tmp" "$sip" "$http" "$tor"
curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" \
  -d PhoneNumber=1111 -d isSIP=true -d VoiceMethod=GET -d ReferMethod=GET \
  --data-urlencode "VoiceUrl=http://127.0.0.1:$web/1111.xml" \
  --data-urlencode "ReferUrl=http://127.0.0.1:$web/2222.xml"

py() { python3 "$common/scen.py" "$common/$1" "$tmp/$2.xml" "${@:3}"; }
py uac_wait.xml caller TIMEOUT=30000
py uas_refer.xml transferor CODE=202 HOLD=200 RING=0 TIMEOUT=30000 \
  "TARGET=sip:carol@127.0.0.1:$sip"
py uas_bye.xml target USER=carol RING=0 HOLD=500
sippbuf=(-buff_size 4194304)
# sipp -bg prints "Background mode - PID=[n]": we stop exactly those.
bg_sipp() {
  local out
  out=$(sipp "$@" -nostdin -bg "${sippbuf[@]}" 2>&1 || true)
  sed -n 's/.*PID=\[\([0-9]*\)\].*/\1/p' <<<"$out"
}
tor_pid=$(bg_sipp -sf "$tmp/transferor.xml" -i 127.0.0.1 -p "$tor" \
  -trace_err -error_file "$tmp/transferor.err")
target_pid=$(bg_sipp -sf "$tmp/target.xml" -i 127.0.0.1 -p "$target" \
  -trace_err -error_file "$tmp/target.err")
[ -n "$tor_pid" ] && pids+=("$tor_pid")
[ -n "$target_pid" ] && pids+=("$target_pid")
if [ -z "$tor_pid" ] || [ -z "$target_pid" ]; then
  echo "bench/transfer: a sipp UAS did not start" >&2
  exit 1
fi
[ -n "$web_pid" ] || web_pid=$(pgrep -P "$(cat "$tmp/nginx.pid")" | head -1 || true)
sleep 0.5

ticks() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
sock_drops() { ss -uanm "sport = :$sip" | sed -n 's/.*,d\([0-9]*\)).*/\1/p' | head -1; }
rcvbuf_errors() { awk '/^Udp:/ {n++; if (n == 1) for (i = 1; i <= NF; i++) c[$i] = i; else print $c["RcvbufErrors"]}' /proc/net/snmp; }
rss_mb() { awk '/^VmRSS:/ {printf "%d", $2 / 1024}' "/proc/$pid/status"; }
hz=$(getconf CLK_TCK)

printf '\nBlind transfers on 127.0.0.1 (%s cores), UDP, %s s per step, %s s pause; RCML from %s\n' \
  "$(nproc)" "$secs" "$pause" "$server_kind"
printf '(each: 3 legs, 2 RCML fetches, REFER, 202, 2 NOTIFYs, 3 BYEs; net.core.rmem_max %s)\n\n' \
  "$(cat /proc/sys/net/core/rmem_max)"
hdr='%9s %6s %6s %6s %11s %6s %13s %5s %6s %6s %6s %6s %6s %7s %14s\n'
printf "$hdr" offered/s calls ok failed transfers/s "wall s" drops:sock/all retr \
  "srv %" "uac %" "tor %" "tgt %" "web %" "RSS MB" "load average"
printf "$hdr" --------- ----- -- ------ ----------- ------ ------------- ---- \
  ----- ------ ----- ----- ----- ------ ------------
first=1
for rate in $rates; do
  # Let the previous step's transactions go (see the top).
  [ -n "$first" ] || sleep "$pause"
  first=""
  calls=$((rate * secs))
  rm -f "$tmp/screen.txt" "$tmp/stat.csv"
  d0=$(sock_drops); e0=$(rcvbuf_errors)
  s0=$(ticks "$pid"); r0=$(ticks "$tor_pid"); g0=$(ticks "$target_pid"); w0=$(ticks "$web_pid")
  t0=$(date +%s.%N)
  timeout $((secs * 4 + 90)) sipp "127.0.0.1:$sip" -sf "$tmp/caller.xml" -s 1111 \
    -i 127.0.0.1 -p 0 -nostdin "${sippbuf[@]}" -r "$rate" -rp 1000 -m "$calls" \
    -l $((rate * 4 + 100)) -timeout $((secs * 4 + 60))s -recv_timeout 15000 \
    -trace_err -error_file "$tmp/caller.err" \
    -trace_stat -stf "$tmp/stat.csv" -fd 1 \
    -trace_screen -screen_file "$tmp/screen.txt" >"$tmp/sipp.out" 2>&1 &
  cpid=$!
  c1=0 spid=""
  while kill -0 "$cpid" 2>/dev/null; do
    # The caller sipp is timeout's child.
    [ -n "$spid" ] || spid=$(pgrep -P "$cpid" | head -1 || true)
    c=$(ticks "$spid"); [ "$c" -gt 0 ] && c1=$c
    sleep 0.2
  done
  wait "$cpid" || true
  t1=$(date +%s.%N)
  s1=$(ticks "$pid"); r1=$(ticks "$tor_pid"); g1=$(ticks "$target_pid"); w1=$(ticks "$web_pid")
  d1=$(sock_drops); e1=$(rcvbuf_errors)
  ok=$(awk -F'|' '/Successful call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  bad=$(awk -F'|' '/Failed call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  ok=${ok:-0}
  bad=${bad:-$((calls - ok))}
  load=$(cut -d' ' -f1-3 /proc/loadavg)
  python3 - "$rate" "$calls" "$ok" "$bad" "$t0" "$t1" "$hz" "$tmp/stat.csv" \
    "$((s1 - s0))" "$c1" "$((r1 - r0))" "$((g1 - g0))" "$((w1 - w0))" \
    "$((${d1:-0} - ${d0:-0}))" "$((e1 - e0))" "$(rss_mb)" "$load" <<'PY'
import sys
a = sys.argv
rate, calls, ok, bad = (int(x) for x in a[1:5])
t0, t1, hz = float(a[5]), float(a[6]), float(a[7])
# The time of the last successful completion, from sipp's per-second
# statistics (SuccessfulCall(C) reaches its final value); retransmissions.
t_ok, retr = None, 0
try:
    rows = [l.rstrip("\n").split(";") for l in open(a[8])]
    head = rows[0]
    i_now, i_ok = head.index("CurrentTime"), head.index("SuccessfulCall(C)")
    i_re = head.index("Retransmissions(C)")
    for r in rows[1:]:
        if len(r) <= i_re:
            continue
        retr = int(r[i_re])
        if t_ok is None and int(r[i_ok]) >= ok:
            t_ok = float(r[i_now].split("\t")[-1])
except (OSError, ValueError, IndexError):
    pass
# Completions per second: over the offered window, or up to the last
# success when the server fell behind (1 s resolution; the transfer
# itself lasts about 1 s, which is not the server's time).
window = calls / float(rate)
if t_ok is not None:
    window = max(window, t_ok - t0 - 1.0)
wall = t1 - t0
cpu = [int(x) / hz / wall * 100 for x in a[9:14]]
print("%9d %6d %6d %6d %11.0f %6.1f %6s/%-6s %5d %6.0f %6.0f %6.0f %6.0f %6.0f %7s %14s" % (
    rate, calls, ok, bad, ok / window, wall, a[14], a[15], retr,
    cpu[0], cpu[1], cpu[2], cpu[3], cpu[4], a[16], a[17]))
PY
  # Past the knee (more than 1 % failed) the backlog only measures
  # timeouts: stop climbing.
  [ $((bad * 100)) -le "$calls" ] || break
  # Let the previous step's stragglers finish before the next one.
  for _ in $(seq 40); do
    [ "$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM calls WHERE status IN ('ringing','in-progress')")" = 0 ] && break
    sleep 0.5
  done
done
