#!/usr/bin/env bash
# bench/rest/dialects.sh [BUILD_DIR] [SECONDS]: Restcomm's rendering
# (/restcomm/2012-04-24) and Twilio's (/2010-04-01) of the same resources
# side by side, on loopback, printed as a table (never asserted; issue 21
# asks for Twilio within 10 % of Restcomm). Both are JSON, so the
# difference is the rendering (field names, from_formatted/to_formatted,
# prices, the URIs) and not the format. Measured:
#   - GET one Call;
#   - GET the first page (PageSize=50) of a 100,000-call list, newest
#     first, and a deep page of it (Page=1000 by AfterSid, as the
#     next_page_uri of each dialect gives it).
# The server is started once to make its schema and account, stopped, the
# calls are written with sqlite3, and the server is started again on that
# database. CPU us/req is the server's own user CPU time per answered
# request (from /proc), the steadiest measure on a shared machine. Each cell is
# the median of ROUNDS (3) runs of
# bench_rest_loadgen (CONNS keep-alive connections, SECONDS each), the two
# dialects alternating so that a busy moment of the machine falls on both;
# the wrk columns, when wrk is installed, are a second opinion on req/s.
# Use a Release build: cmake -DCMAKE_BUILD_TYPE=Release.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build-release}" && pwd)
secs=${2:-5}
conns=${CONNS:-8}
rows=${ROWS:-100000}
rounds=${ROUNDS:-3}

cmake --build "$build" --target switchboard bench_rest_loadgen >/dev/null
bin=$build/switchboard
gen=$build/core/api/bench_rest_loadgen
command -v sqlite3 >/dev/null || { echo "dialects.sh: needs the sqlite3 shell" >&2; exit 1; }

tmp=$(mktemp -d /tmp/sb-bench-dialects.XXXXXX)
source "$root/bench/lib.sh"
read -r sip http proxy < <(python3 "$root/tests/integration/free_ports.py" 3)
pids=()
pid=
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT

# 1. Schema and the bench account; then stop.
bench_start_server "$bin" "$tmp" "$sip" "$http" "$proxy"
kill "$pid"
wait "$pid" 2>/dev/null || true
read -r ac token < <(sqlite3 -separator ' ' "$tmp/bench.db" \
  "SELECT sid, auth_token FROM accounts WHERE email_address = 'bench@example.com'")

# 2. The calls, written directly: one per second, alternate numbers and
# directions, a price on the completed ones.
sqlite3 "$tmp/bench.db" >/dev/null <<SQL
PRAGMA journal_mode = WAL;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < $rows)
INSERT INTO calls (sid, account_sid, sender, recipient, status, direction, start_time,
                   end_time, duration, ring_duration, price, date_created, date_updated)
SELECT printf('CA%032x', i), '$ac', printf('+1415555%04d', i % 10000),
       printf('+1212555%04d', (i * 7) % 10000),
       CASE WHEN i % 10 = 0 THEN 'no-answer' ELSE 'completed' END,
       CASE WHEN i % 2 = 0 THEN 'inbound' ELSE 'outbound-api' END,
       1700000000 + i, 1700000000 + i + 30, 30, 4,
       CASE WHEN i % 10 = 0 THEN NULL ELSE '0.0075' END,
       1700000000 + i, 1700000030 + i
FROM n;
COMMIT;
SQL

# 3. Serve it.
bench_start_server "$bin" "$tmp" "$sip" "$http" "$proxy"

one=CA$(printf '%032x' 4242)
# The 50 * 1000th newest call is the last of page 999: page 1000 after it.
after=CA$(printf '%032x' $((rows - 50 * 1000)))
declare -a names paths
add() { names+=("$1"); paths+=("$2"); }
add "GET one call"                    "/Calls/$one.json"
add "list page 0 of 100k (PageSize=50)" "/Calls.json?PageSize=50"
add "list page 1000 (AfterSid)"       "/Calls.json?PageSize=50&Page=1000&AfterSid=$after"

# The server's user CPU time so far, in clock ticks: the rendering's cost.
# (System time is left out: on a shared machine it is mostly the cost of
# being switched out and back in, which says nothing about the dialect.)
cpu_ticks() { awk '{print $14}' "/proc/$pid/stat"; }
measure() {  # measure PATH: prints "rps p50 p99 non2xx cpu_us_per_request"
  local out c0 c1
  c0=$(cpu_ticks)
  out=$("$gen" -p "$http" -c "$conns" -d "$secs" -a "$ac:$token" "$1")
  c1=$(cpu_ticks)
  eval "$(echo "$out" | tr ' ' '\n' | sed 's/^/r_/')"
  echo "$r_rps $r_p50_us $r_p99_us $r_non2xx" \
    "$(awk -v d=$((c1 - c0)) -v n="$r_requests" -v hz="$(getconf CLK_TCK)" \
       'BEGIN { printf "%.1f", (n > 0 ? d * 1e6 / hz / n : 0) }')"
}
wrk_rps() {
  command -v wrk >/dev/null || { echo "-"; return; }
  local hdr="Authorization: Basic $(printf '%s' "$ac:$token" | base64 -w0)"
  wrk -t1 -c"$conns" -d"${secs}s" -H "$hdr" "http://127.0.0.1:$http$1" |
    awk '/Requests\/sec/ {printf "%d", $2}'
}
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

printf '\nREST dialects on 127.0.0.1: %s calls, %s connections, %s s per run, median of %s\n' \
  "$rows" "$conns" "$secs" "$rounds"
printf 'interleaved runs per cell (%s cores, load average %s)\n\n' "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s %9s %9s %5s %7s %7s %5s %7s %7s %8s %8s %7s %7s\n' "request" "Restcomm" \
  "Twilio" "T/R" "CPU R" "CPU T" "T/R" "p50 R" "p50 T" "p99 R" "p99 T" "wrk R" "wrk T"
printf '%-34s %9s %9s %5s %7s %7s %5s %7s %7s %8s %8s %7s %7s\n' "" "req/s" "req/s" "" \
  "us/req" "us/req" "" "(us)" "(us)" "(us)" "(us)" "req/s" "req/s"
for i in "${!names[@]}"; do
  R=/restcomm/2012-04-24/Accounts/$ac${paths[$i]}
  T=/2010-04-01/Accounts/$ac${paths[$i]}
  for p in "$R" "$T"; do                            # warm-up (caches)
    code=$(curl -s -o /dev/null -w '%{http_code}' -u "$ac:$token" "http://127.0.0.1:$http$p")
    [ "$code" = 200 ] || { echo "dialects.sh: GET $p answered $code" >&2; exit 1; }
  done
  declare -a rr=() rt=() p50r=() p50t=() p99r=() p99t=() wr=() wt=() cr=() ct=()
  bad=0
  for _ in $(seq "$rounds"); do                    # R and T alternate
    read -r a b c d e < <(measure "$R")
    rr+=("$a"); p50r+=("$b"); p99r+=("$c"); cr+=("$e"); bad=$((bad + d))
    read -r a b c d e < <(measure "$T")
    rt+=("$a"); p50t+=("$b"); p99t+=("$c"); ct+=("$e"); bad=$((bad + d))
  done
  if command -v wrk >/dev/null; then
    for _ in $(seq "$rounds"); do wr+=("$(wrk_rps "$R")"); wt+=("$(wrk_rps "$T")"); done
    mwr=$(median "${wr[@]}"); mwt=$(median "${wt[@]}")
  else
    mwr=-; mwt=-
  fi
  mr=$(median "${rr[@]}"); mt=$(median "${rt[@]}")
  ratio=$(awk -v t="$mt" -v r="$mr" 'BEGIN { printf "%.2f", (r > 0 ? t / r : 0) }')
  mcr=$(median "${cr[@]}"); mct=$(median "${ct[@]}")
  cratio=$(awk -v t="$mct" -v r="$mcr" 'BEGIN { printf "%.2f", (r > 0 ? t / r : 0) }')
  printf '%-34s %9s %9s %5s %7s %7s %5s %7s %7s %8s %8s %7s %7s' "${names[$i]}" "$mr" "$mt" \
    "$ratio" "$mcr" "$mct" "$cratio" "$(median "${p50r[@]}")" "$(median "${p50t[@]}")" \
    "$(median "${p99r[@]}")" "$(median "${p99t[@]}")" "$mwr" "$mwt"
  [ "$bad" = 0 ] && printf '\n' || printf '   (%s non-2xx!)\n' "$bad"
done
printf '\ntarget: Twilio within 10 %% of Restcomm: req/s T/R >= 0.90, CPU per request T/R <= 1.10\n'
printf '(CPU per request is the server'"'"'s user CPU time over the requests answered:\n'
printf ' it depends far less on what else the machine runs than req/s does)\n'
