#!/usr/bin/env bash
# bench/calls_api/run.sh [BUILD_DIR] [SECONDS]: calls created over REST
# per second, end to end, printed as a table (never asserted). Target:
# at least 500 per second with no failure.
#
# Each step POSTs Calls at RATE per second (RATES, default "250 500 750
# 1000") for SECONDS (default 10) over 16 keep-alive connections
# (load.py), authenticated with the account's AuthToken. Every call goes
# through the outbound proxy setting to a sipp UAS that answers at once;
# at the answer the server fetches the Url (<Response><Hangup/></Response>
# from nginx, GET) and hangs up. Columns: created (HTTP 201) and refused
# (anything else), the call records that ended completed and those that
# did not, completed calls per second over the step's window, the POST's
# latency (p50, p99), and the server's CPU (one core = 100 %).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/bench/lib.sh"
build=$(cd "${1:-$root/build}" && pwd)
secs=${2:-10}
rates=${RATES:-"250 500 750 1000"}
common=$root/tests/integration/calls_common
command -v sipp >/dev/null || { echo "bench/calls_api: sipp is not installed" >&2; exit 1; }
[ -n "${NO_BUILD:-}" ] || cmake --build "$build" --target switchboard >/dev/null
ulimit -n 65536 2>/dev/null || true

tmp=$(mktemp -d /tmp/sb-bench-api.XXXXXX)
chmod 755 "$tmp"
read -r sip http web uas < <(python3 "$root/tests/integration/free_ports.py" 4)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  pkill -f "sipp -sf $tmp/" 2>/dev/null || true
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  sleep 0.3
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/docs" "$tmp/nginx"
echo '<Response><Hangup/></Response>' >"$tmp/docs/hangup.xml"
if command -v nginx >/dev/null; then
  sed "s|@PORT@|$web|; s|@ROOT@|$tmp/docs|; s|@TMP@|$tmp/nginx|g" "$root/bench/calls/nginx.conf" \
    >"$tmp/nginx/nginx.conf"
  nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g "pid $tmp/nginx.pid;"
else
  echo "bench/calls_api: nginx missing; the Url is served by the test app server" >&2
  python3 "$root/tests/integration/appserver.py" --port "$web" --dir "$tmp/docs" \
    --log /dev/null --lifetime 3600 >/dev/null 2>&1 &
  pids+=($!)
fi

EXTRA_CONF="calls.api_rate = 0" bench_start_server "$build/switchboard" "$tmp" "$sip" "$http" "$uas"
token=$(curl -s "${auth[@]}" "$api/Accounts/$ac.json" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["auth_token"])')
python3 "$common/scen.py" "$common/uas_wait.xml" "$tmp/uas.xml" TIMEOUT=600000 RING=0
sipp -sf "$tmp/uas.xml" -i 127.0.0.1 -p "$uas" -nostdin -bg -trace_err \
  -error_file "$tmp/uas.err" >/dev/null 2>&1 || true   # -bg exits non-zero
sleep 0.5
body="From=%2B15551234&To=%2B15550000&Method=GET&Url=http%3A%2F%2F127.0.0.1%3A$web%2Fhangup.xml"
counts() {
  sqlite3 "$tmp/bench.db" "SELECT sum(status = 'completed'), sum(status NOT IN
    ('completed','queued','ringing','in-progress')), sum(status IN ('queued','ringing','in-progress'))
    FROM calls WHERE direction = 'outbound-api'" | awk -F'|' '{print ($1+0), ($2+0), ($3+0)}'
}
hz=$(getconf CLK_TCK)

printf '%-6s %7s %8s %8s %10s %7s %9s %8s %8s %9s\n' rate offered created refused completed failed "calls/s" "p50 ms" "p99 ms" "proc CPU"
for rate in $rates; do
  read -r done0 bad0 _ < <(counts)
  c0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  t0=$(date +%s.%N)
  out=$(python3 "$here/load.py" "$api/Accounts/$ac/Calls.json" "$ac" "$token" "$rate" "$secs" 16 "$body")
  t1=$(date +%s.%N)
  c1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  for _ in $(seq 60); do         # let the last calls end
    read -r _ _ live < <(counts)
    [ "$live" = 0 ] && break
    sleep 0.5
  done
  read -r done1 bad1 _ < <(counts)
  python3 - "$rate" "$secs" "$out" "$((done1 - done0))" "$((bad1 - bad0))" "$t0" "$t1" "$c0" "$c1" "$hz" <<'PY'
import json, sys
rate, secs = int(sys.argv[1]), float(sys.argv[2])
o = json.loads(sys.argv[3])
done, bad = int(sys.argv[4]), int(sys.argv[5])
created = o["status"].get("201", 0)
refused = o["sent"] - created
window = max(secs, o["wall"])
cpu = (int(sys.argv[9]) - int(sys.argv[8])) / float(sys.argv[10])
wall = float(sys.argv[7]) - float(sys.argv[6])
print("%-6d %7d %8d %8d %10d %7d %9.0f %8.1f %8.1f %8.0f%%"
      % (rate, o["sent"], created, refused, done, bad, done / window, o["p50"], o["p99"],
         100 * cpu / wall))
PY
done
