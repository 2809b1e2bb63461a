#!/usr/bin/env bash
# bench/register/run.sh [BUILD_DIR] [SECONDS]: authenticated SIP
# registrations per second on loopback, printed as a table (never
# asserted). Starts the built server with a fresh database in a temporary
# folder, seeds USERS clients (default 1000) with real digest HA1s, then
# for each offered rate (RATES, default "100 200 400 800 1600 3200 6400") runs
# sipp for SECONDS (default 5) with the registrar's own test scenario:
# REGISTER, 401 with MD5 and SHA-256 challenges, REGISTER with MD5
# credentials, 200 (one call = one authenticated registration, written to
# the database). Each row shows the rate offered, the registrations that
# succeeded per second of wall time, failures (any answer but the expected
# one, or sipp's 10 s timeout), and the server's CPU use during the step.
#
# The log level is warn, so the info line per registration is not part of
# what is measured. Needs sipp (Debian package sip-tester).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
secs=${2:-5}
users=${USERS:-1000}
rates=${RATES:-"100 200 400 800 1600 3200 6400"}
scenario=$root/tests/integration/registrar_common/register.xml

command -v sipp >/dev/null || { echo "bench/register: sipp is not installed" >&2; exit 1; }
cmake --build "$build" --target switchboard >/dev/null
bin=$build/switchboard

tmp=$(mktemp -d /tmp/sb-bench-reg.XXXXXX)
source "$root/bench/lib.sh"
read -r sip http proxy < <(python3 "$root/tests/integration/free_ports.py" 3)
pids=()
pid=
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT
EXTRA_CONF="sip.max_contacts = 1000" bench_start_server "$bin" "$tmp" "$sip" "$http" "$proxy"

# The clients, inserted directly (as the REST API would store them), and
# sipp's injection file with their credentials.
python3 - "$tmp/bench.db" "$users" "$tmp/users.csv" <<'PY'
import hashlib, sqlite3, sys, time
db, n, csv = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db, timeout=10)
ac = c.execute("SELECT sid FROM accounts").fetchone()[0]
now = int(time.time())
rows, lines = [], ["SEQUENTIAL"]
for i in range(n):
    login, pw = "u%05d" % i, "Pw-%05d-bench" % i
    a1 = "%s:127.0.0.1:%s" % (login, pw)
    rows.append(("CL%032x" % i, ac, login, login, hashlib.md5(a1.encode()).hexdigest(),
                 hashlib.sha256(a1.encode()).hexdigest(), now, now))
    lines.append("%s;[authentication username=%s password=%s]" % (login, login, pw))
c.executemany("INSERT INTO clients (sid, account_sid, login, friendly_name, ha1_md5, "
              "ha1_sha256, date_created, date_updated) VALUES (?,?,?,?,?,?,?,?)", rows)
c.commit()
open(csv, "w").write("\n".join(lines) + "\n")
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)

printf '\nAuthenticated REGISTER on 127.0.0.1 over UDP, %s users, %s s per step (%s cores)\n\n' \
  "$users" "$secs" "$(nproc)"
printf '%10s %8s %10s %8s %14s %10s\n' "offered/s" "calls" "succeeded" "failed" "registered/s" "server CPU"
printf '%10s %8s %10s %8s %14s %10s\n' "---------" "-----" "---------" "------" "------------" "----------"
for rate in $rates; do
  calls=$((rate * secs))
  t0=$(date +%s.%N)
  c0=$(cpu_ticks)
  timeout $((secs * 4 + 60)) sipp 127.0.0.1:"$sip" -i 127.0.0.1 -p 0 -t u1 -nostdin \
    -sf "$scenario" -inf "$tmp/users.csv" -set expires 3600 \
    -r "$rate" -rp 1000 -m "$calls" -l 5000 -timeout $((secs * 4 + 30))s \
    -recv_timeout 10000 \
    -trace_screen -screen_file "$tmp/screen.txt" >"$tmp/sipp.out" 2>&1 || true
  t1=$(date +%s.%N)
  c1=$(cpu_ticks)
  ok=$(awk -F'|' '/Successful call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  bad=$(awk -F'|' '/Failed call/ {gsub(/ /, "", $3); v=$3} END {print v}' "$tmp/screen.txt" 2>/dev/null || true)
  ok=${ok:-0}
  bad=${bad:-$((calls - ok))}
  python3 - "$rate" "$calls" "$ok" "$bad" "$t0" "$t1" "$c0" "$c1" "$hz" <<'PY'
import sys
rate, calls, ok, bad = (int(x) for x in sys.argv[1:5])
t0, t1 = float(sys.argv[5]), float(sys.argv[6])
cpu = (int(sys.argv[8]) - int(sys.argv[7])) / float(sys.argv[9])
wall = max(t1 - t0, 1e-6)
print("%10d %8d %10d %8d %14.0f %9.0f%%" % (rate, calls, ok, bad, ok / wall, 100 * cpu / wall))
PY
  rm -f "$tmp/screen.txt"
done
regs=$(sqlite3 "$tmp/bench.db" "SELECT count(*) FROM registrations" 2>/dev/null || echo "?")
printf '\nbindings stored at the end: %s (one per user and source port)\n' "$regs"
