# calls_common/lib.sh: helpers shared by the call tests
# (tests/integration/calls_*/run.sh source it after the runner's lib.sh).
# This folder has no run.sh, so CTest does not run it as a test.
#
#   app_start                       starts appserver.py on $APP_PORT serving
#                                   $DOCS (the test's docs/ copied there)
#   doc NAME TEXT                   writes the RCML document DOCS/NAME
#   make_number NUMBER PATH [-d k=v ...]  creates a SIP number whose
#                                   VoiceUrl is the app server's PATH;
#                                   prints its SID
#   make_client LOGIN PASSWORD      creates a SIP client; prints its SID
#   scen TEMPLATE NAME [K=V ...]    fills a scenario template into
#                                   $SB_TMP/NAME.xml
#   uas_start NAME PORT [sipp args] starts sipp on PORT with NAME.xml in the
#                                   background (one call); uas_wait NAME
#                                   returns its exit status
#   uac NAME SERVICE [sipp args]    runs NAME.xml as a caller to SERVICE
#   reqs PATH                       number of requests the app server got
#                                   for PATH
#   param PATH NAME [N]             parameter NAME of the Nth (default:
#                                   last) request for PATH
#   cdr SID COLUMN                  a column of a call record
#   cdr_where SQL-COND COLUMN       a column of the first record matching
#   wait_for SECONDS CMD...         retries CMD until it succeeds
#   wait_eq SECONDS WANT CMD...     retries CMD until it prints WANT
#   ports N                         prints N more free ports
CALLS_COMMON=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
IT_DIR=$(cd "$CALLS_COMMON/.." && pwd)
source "$IT_DIR/rest_common/lib.sh"

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
ADMIN_SID=$(jq_py 'd["sid"]')
[[ "$ADMIN_SID" =~ ^AC[0-9a-f]{32}$ ]] || fail "cannot read the administrator's account: $RB"

APP_PORT=$SB_AUX_PORT2
APP="http://127.0.0.1:$APP_PORT"
DOCS=$SB_TMP/docs
HTTP_LOG=$SB_TMP/http.jsonl
mkdir -p "$DOCS"
[ -d "$SB_TEST_DIR/docs" ] && cp -r "$SB_TEST_DIR/docs/." "$DOCS/"

declare -A SIPP_PIDS
APP_PID=""

calls_cleanup() {
  [ -n "$APP_PID" ] && kill "$APP_PID" 2>/dev/null
  for p in "${SIPP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  return 0
}
_calls_prev_trap=$(trap -p EXIT | sed "s/^trap -- '//; s/' EXIT\$//")
trap "calls_cleanup; $_calls_prev_trap" EXIT

ports() { python3 "$IT_DIR/free_ports.py" "$1"; }

# wait_eq SECONDS EXPECTED CMD...: retries CMD until it prints EXPECTED.
wait_eq() {
  local secs=$1 want=$2; shift 2
  local n=$((secs * 5))
  for _ in $(seq "$n"); do
    [ "$("$@")" = "$want" ] && return 0
    sleep 0.2
  done
  return 1
}

wait_for() {
  local secs=$1; shift
  local n=$((secs * 5))
  for _ in $(seq "$n"); do
    "$@" && return 0
    sleep 0.2
  done
  return 1
}

app_start() {
  python3 "$IT_DIR/appserver.py" --port "$APP_PORT" --dir "$DOCS" --log "$HTTP_LOG" \
    --lifetime 240 >"$SB_TMP/appserver.out" 2>&1 &
  APP_PID=$!
  wait_for 5 curl -s -o /dev/null "$APP/__ping" || fail "the app server did not start"
  : >"$HTTP_LOG"
}

doc() { printf '%s\n' "$2" >"$DOCS/$1"; }

make_number() {
  local number=$1 path=$2; shift 2
  req POST "/Accounts/$ADMIN_SID/IncomingPhoneNumbers.json" "${admin[@]}" \
    --data-urlencode "PhoneNumber=$number" -d isSIP=true \
    --data-urlencode "VoiceUrl=$APP$path" "$@"
  [ "$RS" = 200 ] || [ "$RS" = 201 ] || fail "create number $number: $RS $RB"
  jq_py 'd["sid"]'
}

make_client() {
  local login=$1 password=$2; shift 2
  req POST "/Accounts/$ADMIN_SID/Clients.json" "${admin[@]}" -d "Login=$login" \
    -d "Password=$password" "$@"
  [ "$RS" = 200 ] || [ "$RS" = 201 ] || fail "create client $login: $RS $RB"
  jq_py 'd["sid"]'
}

scen() {
  local tmpl=$1 name=$2; shift 2
  python3 "$CALLS_COMMON/scen.py" "$CALLS_COMMON/$tmpl" "$SB_TMP/$name.xml" "$@"
}

uas_start() {
  local name=$1 port=$2; shift 2
  timeout 60 sipp -sf "$SB_TMP/$name.xml" -i 127.0.0.1 -p "$port" -m 1 -nostdin \
    -timeout 40s -timeout_error -trace_err -error_file "$SB_TMP/$name.err" \
    -trace_msg -message_file "$SB_TMP/$name.msg" "$@" >"$SB_TMP/$name.out" 2>&1 &
  SIPP_PIDS[$name]=$!
  # Until sipp holds its port, an INVITE sent there is lost (ICMP): wait
  # for the port in /proc/net/udp (looked at, never bound, so sipp's own
  # bind cannot lose a race with the check).
  python3 - "$port" <<'PY' || echo "uas_start: sipp is not listening on $port" >&2
import sys, time
want = ":%04X" % int(sys.argv[1])
end = time.time() + 5
while time.time() < end:
    with open("/proc/net/udp") as f:
        if any(line.split()[1].endswith(want) for line in list(f)[1:]):
            sys.exit(0)
    time.sleep(0.02)
sys.exit(1)
PY
}

uas_wait() {
  local pid=${SIPP_PIDS[$1]}
  wait "$pid"
  local rc=$?
  unset "SIPP_PIDS[$1]"
  return $rc
}

uac() {
  local name=$1 service=$2; shift 2
  timeout 60 sipp 127.0.0.1:"$SB_SIP_PORT" -sf "$SB_TMP/$name.xml" -s "$service" \
    -i 127.0.0.1 -p 0 -m 1 -nostdin -timeout 40s -timeout_error -trace_err \
    -error_file "$SB_TMP/$name.err" -trace_msg -message_file "$SB_TMP/$name.msg" \
    "$@" >"$SB_TMP/$name.out" 2>&1
}

# show NAME: prints a sipp run's output and errors (for failure messages).
show() {
  cat "$SB_TMP/$1.out" "$SB_TMP/$1.err" 2>/dev/null | tail -40
}

reqs() {
  python3 - "$HTTP_LOG" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    if json.loads(line)["path"] == sys.argv[2]:
        n += 1
print(n)
PY
}

param() {
  python3 - "$HTTP_LOG" "$1" "$2" "${3:--1}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["path"] == sys.argv[2]]
i = int(sys.argv[4])
if not rows or i >= len(rows):
    print("<no request>")
else:
    print(rows[i]["params"].get(sys.argv[3], "<absent>"))
PY
}

# method PATH [N]: the HTTP method of a request.
method() {
  python3 - "$HTTP_LOG" "$1" "${2:--1}" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"] == sys.argv[2]]
i = int(sys.argv[3])
print(rows[i]["method"] if rows and i < len(rows) else "<no request>")
PY
}

cdr() { sqlite3 "$SB_DB" "SELECT $2 FROM calls WHERE sid = '$1'"; }
cdr_where() { sqlite3 "$SB_DB" "SELECT $2 FROM calls WHERE $1 ORDER BY rowid LIMIT 1"; }
live_calls() { sqlite3 "$SB_DB" "SELECT count(*) FROM calls WHERE status IN ('queued','ringing','in-progress')"; }
