#!/usr/bin/env bash
# bench/calls/metrics.sh [BUILD_DIR] [SECONDS]: what GET /metrics costs on
# call set-up, in one run: the reject scenario of bench/calls/run.sh (an
# INVITE to a number whose RCML, fetched over HTTP from nginx, is
# <Reject/>: 603) against a server with metrics.enabled = false and one
# with metrics on and scraped every second (as Prometheus would), in
# alternating rounds so that both see the same machine load.
#
# Each round starts a fresh server per mode and runs one sipp step per
# offered rate in RATES (default "800 4000": one the server keeps up
# with, one beyond its knee, where calls/s is its set-up capacity) for
# SECONDS (default 5). Printed: one row per step, then the medians per
# mode and rate with the difference (on vs off) in calls/s and in the
# server's CPU per completed call. Timings only: nothing is asserted.
#
# ROUNDS (default 3). NO_BUILD=1 uses the binary already in BUILD_DIR.
# ./setup.sh bench installs sipp and nginx; run it under
# flock /tmp/sb-bench.lock so no other benchmark shares the cores.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/bench/lib.sh"
build=$(cd "${1:-$root/build}" && pwd)
secs=${2:-5}
rates=${RATES:-"800 4000"}
rounds=${ROUNDS:-3}
common=$root/tests/integration/calls_common

command -v sipp >/dev/null || { echo "bench/calls/metrics: sipp is not installed" >&2; exit 1; }
[ -n "${NO_BUILD:-}" ] || cmake --build "$build" --target switchboard >/dev/null
bin=$build/switchboard
ulimit -n 65536 2>/dev/null || true

tmp=$(mktemp -d /tmp/sb-bench-metrics.XXXXXX)
chmod 755 "$tmp"
read -r sip http web uas < <(python3 "$root/tests/integration/free_ports.py" 4)
pids=()
scraper=""
cleanup() {
  [ -n "$scraper" ] && kill "$scraper" 2>/dev/null || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/docs" "$tmp/nginx"
echo '<Response><Reject/></Response>' >"$tmp/docs/reject.xml"
rcml_by=nginx
if command -v nginx >/dev/null; then
  sed "s|@PORT@|$web|; s|@ROOT@|$tmp/docs|; s|@TMP@|$tmp/nginx|g" "$here/nginx.conf" \
    >"$tmp/nginx/nginx.conf"
  nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g "pid $tmp/nginx.pid;"
else
  rcml_by=appserver.py
  python3 "$root/tests/integration/appserver.py" --port "$web" --dir "$tmp/docs" \
    --log /dev/null --lifetime 3600 >/dev/null 2>&1 &
  pids+=($!)
fi
python3 "$common/scen.py" "$common/uac_expect.xml" "$tmp/reject.xml" CODE=603

hz=$(getconf CLK_TCK)
results=$tmp/results.txt
: >"$results"

# One server: MODE off|on. Sets pid; with "on", a scraper curls /metrics
# every second while it runs.
start() {
  local mode=$1
  rm -f "$tmp/bench.db" "$tmp/bench.db-wal" "$tmp/bench.db-shm"
  if [ "$mode" = off ]; then
    EXTRA_CONF='metrics.enabled = false' bench_start_server "$bin" "$tmp" "$sip" "$http" "$uas"
  else
    EXTRA_CONF='metrics.enabled = true' bench_start_server "$bin" "$tmp" "$sip" "$http" "$uas"
    ( while sleep 1; do curl -s -o /dev/null "http://127.0.0.1:$http/metrics"; done ) &
    scraper=$!
  fi
  curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" \
    -d PhoneNumber=1000 -d isSIP=true -d VoiceMethod=GET \
    --data-urlencode "VoiceUrl=http://127.0.0.1:$web/reject.xml"
}

stop() {
  [ -n "$scraper" ] && { kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; }
  scraper=""
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# One step: MODE ROUND RATE. Appends "mode round rate calls ok wall cpu".
step() {
  local mode=$1 round=$2 rate=$3 calls=$(($3 * secs))
  rm -f "$tmp/screen.txt"
  local t0 t1 c0 c1 ok
  t0=$(date +%s.%N)
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  timeout $((secs * 4 + 90)) sipp "127.0.0.1:$sip" -sf "$tmp/reject.xml" -s 1000 \
    -i 127.0.0.1 -p 0 -t u1 -nostdin -r "$rate" -rp 1000 -m "$calls" \
    -l $((rate * 4 + 100)) -timeout $((secs * 4 + 60))s -recv_timeout 10000 \
    -trace_screen -screen_file "$tmp/screen.txt" >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  ok=$(awk -F'|' '/Successful call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  echo "$mode $round $rate $calls ${ok:-0} $t0 $t1 $((c1 - c0))" >>"$results"
  sleep 2                       # the last calls' transactions settle
}

for round in $(seq "$rounds"); do
  # Alternate which mode goes first, so neither always follows the other.
  if [ $((round % 2)) = 1 ]; then order="off on"; else order="on off"; fi
  for mode in $order; do
    start "$mode"
    for r in $rates; do step "$mode" "$round" "$r"; done
    stop
    sleep 1
  done
done

python3 - "$results" "$hz" "$secs" "$("$bin" version 2>/dev/null | head -1)" "$(nproc)" "$rcml_by" <<'PY'
import statistics, sys
path, hz, secs, version, cores, rcml_by = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
rows = []
for line in open(path):
    mode, rnd, rate, calls, ok, t0, t1, ticks = line.split()
    rate, calls, ok, ticks = int(rate), int(calls), int(ok), int(ticks)
    wall = float(t1) - float(t0)
    window = max(calls / float(rate), wall)
    rows.append(dict(mode=mode, round=int(rnd), rate=rate, calls=calls, ok=ok, wall=wall,
                     cps=ok / window, cpu_us=(ticks / hz) * 1e6 / ok if ok else float("nan"),
                     cpu_pct=100 * ticks / hz / wall))
print("\nSwitchboard %s, %s cores, reject scenario (RCML over HTTP from %s), %s s per step"
      % (version, cores, rcml_by, secs))
print("metrics on = metrics.enabled = true and GET /metrics scraped every second\n")
hdr = "%-8s %5s %9s %6s %9s %7s %9s %9s %12s"
print(hdr % ("metrics", "round", "offered/s", "calls", "succeeded", "wall s", "calls/s",
             "proc CPU", "CPU us/call"))
print(hdr % ("-------", "-----", "---------", "-----", "---------", "------", "-------",
             "--------", "-----------"))
for r in rows:
    print("%-8s %5d %9d %6d %9d %7.1f %9.0f %8.0f%% %12.1f"
          % (r["mode"], r["round"], r["rate"], r["calls"], r["ok"], r["wall"], r["cps"],
             r["cpu_pct"], r["cpu_us"]))
print("\nmedians over the rounds (difference: on against off; + means metrics cost)\n")
hdr2 = "%9s %13s %13s %9s %15s %15s %9s"
print(hdr2 % ("offered/s", "calls/s off", "calls/s on", "diff", "CPU us/call off",
              "CPU us/call on", "diff"))
print(hdr2 % ("---------", "-----------", "----------", "----", "---------------",
              "--------------", "----"))
for rate in sorted({r["rate"] for r in rows}):
    def med(mode, key):
        v = [r[key] for r in rows if r["rate"] == rate and r["mode"] == mode and r["ok"]]
        return statistics.median(v) if v else float("nan")
    c_off, c_on = med("off", "cps"), med("on", "cps")
    u_off, u_on = med("off", "cpu_us"), med("on", "cpu_us")
    print("%9d %13.0f %13.0f %8.1f%% %15.1f %15.1f %8.1f%%"
          % (rate, c_off, c_on, 100 * (c_off - c_on) / c_off if c_off else float("nan"),
             u_off, u_on, 100 * (u_on - u_off) / u_off if u_off else float("nan")))
PY
