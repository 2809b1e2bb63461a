#!/usr/bin/env bash
# bench/calls/run.sh [BUILD_DIR] [SECONDS]: calls per second and memory
# per established call on loopback, printed as one table (never asserted).
#
# Rows (each a sipp load run for SECONDS, default 5, at each offered rate
# in RATES, default "250 500 1000 1500 2000 3000", climbing until a step
# fails more than 5 % of its calls: the last row of a scenario is its
# knee; calls/s counts completed calls over the offered window, or over
# the wall time when the server fell behind):
#   reject     INVITE to a number whose application is <Reject/> (603),
#              the RCML fetched over HTTP from nginx on 127.0.0.1 (GET)
#   dial-1s    INVITE to a number whose application is
#              <Dial><Number>, bridged to a sipp UAS through the outbound
#              proxy setting; the caller hangs up after 1 s
#   kam-reject the same caller through Kamailio (stateful proxy,
#              bench/calls/kamailio.cfg) to a sipp UAS answering 603
#   kam-1s     the same dial-1s caller through Kamailio to a sipp UAS
#              that answers; hung up after 1 s
# Columns: proc CPU is the server's CPU over the step's wall time (one
# core = 100 %); sipp and nginx are the load generator's and the RCML
# server's, to tell whether they, not the server, were the limit.
# First, memory: HOLD_CALLS (default 1000) dial calls (set up at HOLD_RATE
# per second, default 500) held up at once on the freshly started server;
# its heap in use and resident memory before and during, per established
# call (one caller leg and one dialled leg, each with its RTP endpoint; no
# RTP flows, so no media buffers are in use; the RTP receive buffer is one
# per media engine, not per call), measured SETTLE seconds (default 40)
# after the calls are up. Measured first, while the heap has not grown
# yet; the calls are then hung up.
#
# PARTS (default "memory reject dial kamailio") picks the parts to run.
# NO_BUILD=1 runs the switchboard binary already in BUILD_DIR.
# PERF=FILE records the server with perf over the reject steps into FILE
# (PERF_OPTS, default -g: e.g. "--call-graph dwarf -F 500").
# The server's log level is warn. Needs sipp (sip-tester), nginx
# (nginx-light) and kamailio (kamailio); rows whose tool is missing are
# skipped with a note. ./setup.sh bench installs them all, builds Release
# and runs this script.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/bench/lib.sh"
build=$(cd "${1:-$root/build}" && pwd)
secs=${2:-5}
rates=${RATES:-"250 500 1000 1500 2000 3000"}
hold_calls=${HOLD_CALLS:-1000}
settle=${SETTLE:-40}
common=$root/tests/integration/calls_common
parts=" ${PARTS:-memory reject dial kamailio} "
want() { [[ "$parts" == *" $1 "* ]]; }

command -v sipp >/dev/null || { echo "bench/calls: sipp is not installed (./setup.sh bench installs it)" >&2; exit 1; }
[ -n "${NO_BUILD:-}" ] || cmake --build "$build" --target switchboard >/dev/null
bin=$build/switchboard
ulimit -n 65536 2>/dev/null || true

tmp=$(mktemp -d /tmp/sb-bench-calls.XXXXXX)
chmod 755 "$tmp"                # nginx's workers read the documents
read -r sip http web uas kam uas2 < <(python3 "$root/tests/integration/free_ports.py" 6)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  [ -f "$tmp/kam.pid" ] && kill "$(cat "$tmp/kam.pid")" 2>/dev/null || true
  sleep 0.5
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the RCML server (nginx, static GET) -------------------------------------
mkdir -p "$tmp/docs" "$tmp/nginx"
echo '<Response><Reject/></Response>' >"$tmp/docs/reject.xml"
echo '<Response><Dial><Number>+131313</Number></Dial></Response>' >"$tmp/docs/dial.xml"
have_nginx=0
if command -v nginx >/dev/null; then
  sed "s|@PORT@|$web|; s|@ROOT@|$tmp/docs|; s|@TMP@|$tmp/nginx|g" "$here/nginx.conf" \
    >"$tmp/nginx/nginx.conf"
  nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g "pid $tmp/nginx.pid;" && have_nginx=1
fi
if [ $have_nginx = 0 ]; then
  echo "bench/calls: nginx missing (./setup.sh bench installs it); RCML served by the test app server (slower)" >&2
  python3 "$root/tests/integration/appserver.py" --port "$web" --dir "$tmp/docs" \
    --log /dev/null --lifetime 3600 >/dev/null 2>&1 &
  pids+=($!)
fi

# ---- the server ------------------------------------------------------------------
bench_start_server "$bin" "$tmp" "$sip" "$http" "$uas"
for n in 1000:reject.xml 1111:dial.xml; do
  curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" \
    -d "PhoneNumber=${n%%:*}" -d isSIP=true -d VoiceMethod=GET \
    --data-urlencode "VoiceUrl=http://127.0.0.1:$web/${n#*:}"
done

# ---- scenarios ----------------------------------------------------------------------
py() { python3 "$common/scen.py" "$common/$1" "$tmp/$2.xml" "${@:3}"; }
py uac_expect.xml reject CODE=603
py uac_bye.xml dial HOLD=1000
py uac_bye.xml hold HOLD=$(( (settle + 20) * 1000 ))
py uas_wait.xml uas TIMEOUT=600000 RING=0
py uas_code.xml uas603 CODE=603 RING=0

start_uas() { # PORT SCENARIO
  sipp -sf "$tmp/$2.xml" -i 127.0.0.1 -p "$1" -nostdin -bg -trace_err \
    -error_file "$tmp/uas-$1.err" >/dev/null 2>&1 || true
}
stop_sipp_on() { # PORT; waits until it is gone, so the port is free again
  pkill -f "sipp -sf $tmp/.* -p $1 " 2>/dev/null || true
  for _ in $(seq 50); do
    pgrep -f "sipp -sf $tmp/.* -p $1 " >/dev/null || return 0
    sleep 0.1
  done
  pkill -9 -f "sipp -sf $tmp/.* -p $1 " 2>/dev/null || true
  sleep 0.2
}

# Lets the server finish what an overloaded step left (calls still up or
# ringing) before the next step starts.
drain() {
  for _ in $(seq 60); do
    [ "$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM calls WHERE status IN ('queued', 'ringing', 'in-progress')" 2>/dev/null)" = 0 ] && break
    sleep 0.5
  done
  sleep 1
}

# CPU ticks of a process, or of every process named kamailio when the
# argument is "kamailio" (it forks its workers).
cpu_ticks() {
  if [ "$1" = kamailio ]; then
    local t=0 p
    for p in $(pgrep -x kamailio); do
      t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $t
  elif [ "$1" = nginx ]; then
    local t=0 p m
    m=$(cat "$tmp/nginx.pid" 2>/dev/null || echo 0)
    for p in $m $(pgrep -P "$m" 2>/dev/null); do
      t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $t
  else
    awk '{print $14 + $15}' "/proc/$1/stat"
  fi
}
# CPU seconds (user + system) of this shell's waited-for children so far
# (sipp): `times` in this shell, not in a $(...) subshell.
child_cpu() {
  awk 'NR == 2 {
    split($1, u, /[ms]/); split($2, s, /[ms]/); print u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$tmp/times"
}
hz=$(getconf CLK_TCK)

# One load step: NAME SCENARIO TARGET RATE CPU-PID. Prints a row.
step() {
  local name=$1 scen=$2 target=$3 rate=$4 cpid=$5
  local calls=$((rate * secs))
  local t0 t1 c0 c1 ok bad
  rm -f "$tmp/screen.txt"
  t0=$(date +%s.%N)
  c0=$(cpu_ticks "$cpid")
  n0=$(cpu_ticks nginx)
  times >"$tmp/times"
  s0=$(child_cpu)
  timeout $((secs * 4 + 90)) sipp "$target" -sf "$tmp/$scen.xml" -s "${scen_user[$scen]}" \
    -i 127.0.0.1 -p 0 -t u1 -nostdin -r "$rate" -rp 1000 -m "$calls" \
    -l $((rate * 4 + 100)) -timeout $((secs * 4 + 60))s -recv_timeout 10000 \
    -trace_err -error_file "$tmp/$name-$rate.err" \
    -trace_screen -screen_file "$tmp/screen.txt" >"$tmp/sipp.out" 2>&1 || true
  t1=$(date +%s.%N)
  c1=$(cpu_ticks "$cpid")
  n1=$(cpu_ticks nginx)
  times >"$tmp/times"
  s1=$(child_cpu)
  ok=$(awk -F'|' '/Successful call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  bad=$(awk -F'|' '/Failed call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  ok=${ok:-0}
  bad=${bad:-$((calls - ok))}
  last_bad_pct=$((bad * 100 / calls))
  python3 - "$name" "$rate" "$calls" "$ok" "$bad" "$t0" "$t1" "$c0" "$c1" "$hz" "$scen" "$s0" "$s1" "$n0" "$n1" <<'PY'
import sys
name = sys.argv[1]
rate, calls, ok, bad = (int(x) for x in sys.argv[2:6])
t0, t1 = float(sys.argv[6]), float(sys.argv[7])
cpu = (int(sys.argv[9]) - int(sys.argv[8])) / float(sys.argv[10])
# Completed calls per second: over the offered window (calls / rate
# seconds), or over the wall time less a dial call's 1 s when the server
# fell behind (the wall column shows it).
tail = 1.0 if sys.argv[11] == "dial" else 0.0
window = max(calls / float(rate), t1 - t0 - tail)
sipp_cpu = float(sys.argv[13]) - float(sys.argv[12])
nginx_cpu = (int(sys.argv[15]) - int(sys.argv[14])) / float(sys.argv[10])
print("%-11s %9d %7d %9d %7d %9.0f %7.1f %9.0f%% %7.0f%% %7.0f%%"
      % (name, rate, calls, ok, bad, ok / window, t1 - t0,
         100 * cpu / (t1 - t0), 100 * sipp_cpu / (t1 - t0),
         100 * nginx_cpu / (t1 - t0)))
PY
  drain
}
declare -A scen_user=([reject]=1000 [dial]=1111 [hold]=1111)

# ---- memory per established call (first, on the fresh server) ------------------------------
rss() { awk '/VmRSS/ {print $2}' "/proc/$pid/status"; }
heap() { # bytes the allocator has in use (Supervisor metrics)
  curl -s "${auth[@]}" "$api/Accounts/$ac/Supervisor.json/metrics" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Metrics"]["HeapInUseBytes"])'
}
lua_mem() { # bytes the Lua state holds (console)
  "$bin" console -s "$tmp/console.sock" -e 'collectgarbage("collect"); return math.floor(collectgarbage("count") * 1024)' \
    2>/dev/null | tr -dc '0-9'
}
mem_line="(memory not measured)"
if want memory; then
start_uas "$uas" uas
sleep 0.5
lua_before=$(lua_mem)         # after a full collection: live Lua data
before=$(rss)
heap_before=$(heap)
timeout $((settle + 120)) sipp "127.0.0.1:$sip" -sf "$tmp/hold.xml" -s 1111 -i 127.0.0.1 -p 0 -nostdin \
  -r "${HOLD_RATE:-500}" -m "$hold_calls" -l "$hold_calls" -recv_timeout 30000 >/dev/null 2>&1 &
holder=$!
up=0
for _ in $(seq 120); do
  up=$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM calls WHERE status = 'in-progress'")
  [ "$up" -ge $((hold_calls * 2)) ] && break
  sleep 0.25
done
# The SIP stack keeps each call's set-up transactions for up to 32 s
# (RFC 3261/6026 timers, to absorb retransmissions); measure once they are
# gone, so the figure is what an established call costs.
sleep "$settle"
lua_during=$(lua_mem)
during=$(rss)
heap_during=$(heap)
wait "$holder" || true              # every call hangs up after its hold time
for _ in $(seq 60); do
  [ "$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM calls WHERE status IN ('ringing', 'in-progress')")" = 0 ] && break
  sleep 0.5
done
stop_sipp_on "$uas"
established=$((up / 2))
mem_line=$(python3 - "$before" "$during" "$established" "$heap_before" "$heap_during" \
  "${lua_before:-0}" "${lua_during:-0}" <<'PY'
import sys
b, d, n, hb, hd, lb, ld = (int(x or 0) for x in sys.argv[1:8])
line = ("memory: %d calls established at once (each: 2 legs, 2 RTP endpoints, no"
        " RTP flowing)" % n)
line += ("\n  (heap in use counts everything the process allocated: SIP legs and"
         " dialogs, call structs,\n   the Lua session, and the RTP endpoints' state"
         " (sockets, SDP descriptions). Media buffers\n   are not per call: one receive"
         " buffer per media engine, and kernel socket buffers, outside the heap.)")
if n:
    line += ("\n  heap in use:  %d KiB before, %d KiB with the calls up: %.1f KB per"
             " established call" % (hb // 1024, hd // 1024, (hd - hb) / 1000.0 / n))
    line += ("\n    of which Lua: %d KiB before, %d KiB with the calls up: %.1f KB per"
             " call (its RCML session waiting in <Dial>)" % (lb // 1024, ld // 1024,
                                                           (ld - lb) / 1000.0 / n))
    line += ("\n  resident set: %d KiB before, %d KiB with the calls up: %.1f KB per"
             " established call (includes the set-up peak the allocator keeps)"
             % (b, d, (d - b) * 1024.0 / 1000 / n))
print(line)
PY
)
fi

printf '\nSwitchboard %s on 127.0.0.1 (%s cores), UDP, %s s per step; RCML over HTTP from %s\n\n' \
  "$("$bin" version 2>/dev/null | head -1)" "$(nproc)" "$secs" \
  "$([ $have_nginx = 1 ] && echo nginx || echo appserver.py)"
printf '%-11s %9s %7s %9s %7s %9s %7s %10s %8s %8s\n' scenario offered/s calls succeeded failed calls/s "wall s" "proc CPU" "sipp" "nginx"
printf '%-11s %9s %7s %9s %7s %9s %7s %10s %8s %8s\n' -------- --------- ----- --------- ------ ------- ------ -------- ---- -----

# Each scenario climbs the rates until a step fails more than 5 % of its
# calls (the knee): beyond it the backlog only measures timeouts.
climb() { # NAME SCENARIO TARGET PID
  for r in $rates; do
    step "$1" "$2" "$3" "$r" "$4"
    if [ "$last_bad_pct" -gt 5 ]; then
      # The failed calls' SIP transactions retransmit for up to 32 s
      # (Timers B, H, J): let them expire before the next scenario.
      sleep 35
      break
    fi
  done
}
last_bad_pct=0

if want reject; then
  if [ -n "${PERF:-}" ]; then
    perf record ${PERF_OPTS:--g} -p "$pid" -o "$PERF" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  climb reject reject "127.0.0.1:$sip" "$pid"
  if [ -n "${PERF:-}" ]; then
    kill -INT "$perf_pid" 2>/dev/null || true
    wait "$perf_pid" 2>/dev/null || true
  fi
fi
if want dial; then
  start_uas "$uas" uas
  sleep 0.5
  climb dial-1s dial "127.0.0.1:$sip" "$pid"
  stop_sipp_on "$uas"
fi

# ---- Kamailio, stateful proxy, same callers ---------------------------------------------
if ! want kamailio; then
  :
elif command -v kamailio >/dev/null; then
  moddir=$(dirname "$(find /usr/lib -name tm.so -path '*kamailio*' | head -1)")
  sed "s|@PORT@|$kam|; s|@UAS@|$uas2|; s|@MODDIR@|$moddir|" "$here/kamailio.cfg" >"$tmp/kam.cfg"
  mkdir -p "$tmp/kamrun"
  kamailio -f "$tmp/kam.cfg" -P "$tmp/kam.pid" -Y "$tmp/kamrun" -w "$tmp/kamrun" \
    -m 256 -M 16 >"$tmp/kam.log" 2>&1 || true
  sleep 1
  if [ -f "$tmp/kam.pid" ]; then
    kpid=kamailio
    scen_user[reject]=603
    start_uas "$uas2" uas603
    sleep 0.3
    climb kam-reject reject "127.0.0.1:$kam" "$kpid"
    stop_sipp_on "$uas2"
    start_uas "$uas2" uas
    sleep 0.3
    climb kam-1s dial "127.0.0.1:$kam" "$kpid"
    stop_sipp_on "$uas2"
    echo "(kamailio rows: proc CPU is the sum over kamailio's processes)"
  else
    echo "bench/calls: kamailio did not start:" >&2
    tail -5 "$tmp/kam.log" >&2
  fi
else
  echo "(kamailio not installed: no reference rows; ./setup.sh bench installs it)"
fi

echo
echo "$mem_line"
