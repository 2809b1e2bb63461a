#!/usr/bin/env bash
# bench/rest/run.sh [BUILD_DIR] [SECONDS]: REST API throughput on loopback,
# printed as a table (never asserted). Starts the built server with a
# fresh database in a temporary folder, seeds 100,000 clients into one
# account, then measures with bench_rest_loadgen (and wrk when installed):
#   - GET of one resource (a client, an account) with token and with
#     password credentials (the password is verified once, then cached);
#   - list paging: the first page, a deep page by offset (Page=1999), and
#     the same depth by keyset (AfterSid, as next_page_uri gives it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
secs=${2:-5}
conns=${CONNS:-8}

cmake --build "$build" --target switchboard bench_rest_loadgen >/dev/null
bin=$build/switchboard
gen=$build/core/api/bench_rest_loadgen

tmp=$(mktemp -d /tmp/sb-bench-rest.XXXXXX)
source "$root/bench/lib.sh"
read -r sip http proxy < <(python3 "$root/tests/integration/free_ports.py" 3)
email=bench@example.com              # bench_start_server's administrator
password=Bench-Password-123
pids=()
pid=
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
bench_start_server "$bin" "$tmp" "$sip" "$http" "$proxy"

read -r ac token < <(python3 - "$tmp/bench.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
print(*c.execute("SELECT sid, auth_token FROM accounts").fetchone())
PY
)
# 100,000 clients in the administrator's account, inserted directly.
python3 - "$tmp/bench.db" "$ac" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=10)
now = int(time.time())
rows = [("CL%032x" % i, sys.argv[2], "u%06d" % i, "Client %d" % i, "0" * 32, "0" * 64,
         now, now) for i in range(100000)]
c.executemany("INSERT INTO clients (sid, account_sid, login, friendly_name, ha1_md5, "
              "ha1_sha256, date_created, date_updated, voice_method, "
              "voice_fallback_method) VALUES (?,?,?,?,?,?,?,?,'POST','POST')", rows)
c.commit()
PY

base=/restcomm/2012-04-24/Accounts/$ac
client=CL$(printf '%032x' 4242)
after=CL$(printf '%032x' 99949)     # the last client of page 1998
declare -a names paths creds
add() { names+=("$1"); paths+=("$2"); creds+=("$3"); }
add "GET client (JSON, token)"            "$base/Clients/$client.json"           "$ac:$token"
add "GET client (XML, token)"             "$base/Clients/$client"                "$ac:$token"
add "GET account (JSON, password)"        "$base.json"                           "$email:$password"
add "list page 0 of 100k (PageSize=50)"   "$base/Clients.json?PageSize=50"       "$ac:$token"
add "list page 1999 by offset"            "$base/Clients.json?PageSize=50&Page=1999" "$ac:$token"
add "list page 1999 by AfterSid"          "$base/Clients.json?PageSize=50&Page=1999&AfterSid=$after" "$ac:$token"

printf '\nREST API on 127.0.0.1, %s connections, %s s each (%s cores)\n\n' "$conns" "$secs" "$(nproc)"
printf '%-38s %10s %10s %10s %8s\n' "request" "req/s" "p50 (us)" "p99 (us)" "non-2xx"
printf '%-38s %10s %10s %10s %8s\n' "-------" "-----" "--------" "--------" "-------"
for i in "${!names[@]}"; do
  # One warm-up request (fills the credential and count caches).
  curl -s -o /dev/null -u "${creds[$i]}" "http://127.0.0.1:$http${paths[$i]}"
  out=$("$gen" -p "$http" -c "$conns" -d "$secs" -a "${creds[$i]}" "${paths[$i]}")
  eval "$(echo "$out" | tr ' ' '\n' | sed 's/^/r_/')"
  printf '%-38s %10s %10s %10s %8s\n' "${names[$i]}" "$r_rps" "$r_p50_us" "$r_p99_us" "$r_non2xx"
done
if command -v wrk >/dev/null; then
  hdr="Authorization: Basic $(printf '%s' "$ac:$token" | base64 -w0)"
  rps=$(wrk -t1 -c"$conns" -d"${secs}s" -H "$hdr" \
        "http://127.0.0.1:$http$base/Clients/$client.json" | awk '/Requests\/sec/ {print $2}')
  printf '%-38s %10s\n' "GET client (JSON, token), wrk" "$rps"
fi
printf '\ntarget: at least 20000 GET/s on one resource\n'
