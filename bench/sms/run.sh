#!/usr/bin/env bash
# bench/sms/run.sh [BUILD_DIR] [MESSAGES]: SMS throughput on loopback,
# printed as a table (never asserted; issue 19's target is 2,000 per
# second). Starts the built server with a fresh database, makes number
# 5000, then bench/sms/load.py POSTs SMS/Messages.json to +1555... numbers
# over 16 keep-alive connections and plays the carrier behind
# sip.outbound_proxy, answering every MESSAGE 200. Reported: messages
# accepted over REST per second, and messages delivered as SIP MESSAGE per
# second (first POST to last MESSAGE).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
n=${2:-20000}

cmake --build "$build" --target switchboard >/dev/null
bin=$build/switchboard
tmp=$(mktemp -d /tmp/sb-bench-sms.XXXXXX)
source "$root/bench/lib.sh"
read -r sip http proxy < <(python3 "$root/tests/integration/free_ports.py" 3)
pids=()
pid=
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
bench_start_server "$bin" "$tmp" "$sip" "$http" "$proxy"
curl -s "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" \
  -d PhoneNumber=5000 -d isSIP=true >/dev/null
token=$(python3 - "$tmp/bench.db" <<'PY'
import sqlite3, sys
print(sqlite3.connect(sys.argv[1], timeout=10).execute(
    "SELECT auth_token FROM accounts").fetchone()[0])
PY
)
line=$(python3 "$here/load.py" --http "$http" --proxy "$proxy" --ac "$ac" \
  --token "$token" -n "$n" -c 16)
echo "| messages | accepted over REST | delivered as SIP MESSAGE |"
echo "|---|---|---|"
python3 - "$line" <<'PY'
import re, sys
m = re.search(r"accepted (\d+) of (\d+) in ([\d.]+) s \((\d+)/s\); delivered (\d+) in ([\d.]+) s \((\d+)/s\)", sys.argv[1])
if not m:
    print("| ? | %s | |" % sys.argv[1])
else:
    print("| %s | %s/s (%s in %s s) | %s/s (%s in %s s) |" % (
        m.group(2), m.group(4), m.group(1), m.group(3), m.group(7), m.group(5), m.group(6)))
PY
