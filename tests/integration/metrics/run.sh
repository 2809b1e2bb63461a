# GET /metrics: Prometheus' text format on the HTTP listener, checked by
# promtool and scraped by a real Prometheus server (Debian's prometheus):
# after a call refused by its application (<Reject/>: 603, failed) the
# counters say so, the REST requests are counted by route, and with
# metrics.auth the endpoint wants HTTP Basic.
source ../calls_common/lib.sh
command -v promtool >/dev/null || fail "promtool is not installed (apt-get install prometheus)"
command -v prometheus >/dev/null || fail "prometheus is not installed"
ROOT="http://127.0.0.1:$SB_HTTP_PORT"
app_start
doc reject.xml '<Response><Reject/></Response>'
make_number 1000 /reject.xml >/dev/null
scen uac_expect.xml rejected CODE=603
uac rejected 1000 || { show rejected; fail "the call is refused 603"; }
wait_eq 5 0 live_calls || fail "the call is over"

code=$(curl -s -o "$SB_TMP/metrics.txt" -D "$SB_TMP/metrics.hdrs" -w '%{http_code}' "$ROOT/metrics")
assert_eq "$code" 200 "GET /metrics"
grep -qi "^content-type: text/plain; version=0.0.4" "$SB_TMP/metrics.hdrs" || fail "Prometheus' content type"
out=$(promtool check metrics <"$SB_TMP/metrics.txt" 2>&1) || fail "promtool check metrics: $out"
pass "promtool check metrics accepts it"
m() { grep -F "$1" "$SB_TMP/metrics.txt" | awk '{print $NF}'; }
assert_eq "$(m 'switchboard_calls_ended_total{direction="inbound",status="failed"}')" 1 "the refused call: inbound, failed"
assert_eq "$(m 'switchboard_calls_started_total{direction="inbound"}')" 1 "one inbound call started"
assert_eq "$(m 'switchboard_calls_active{direction="inbound"}')" 0 "none active"
[ "$(m 'switchboard_rest_requests_total{route="Accounts/{AC}/IncomingPhoneNumbers",code="2xx"}')" -ge 1 ] ||
  fail "the number's creation is counted under its route"
grep -q '^switchboard_rest_request_duration_seconds_bucket{route=".*",le="+Inf"}' "$SB_TMP/metrics.txt" ||
  fail "the REST latency histogram"
grep -q '^switchboard_media_frames_total ' "$SB_TMP/metrics.txt" || fail "the media clock's counters"

# A real Prometheus scrapes it.
read -r PP < <(ports 1)
mkdir -p "$SB_TMP/prom"
cat >"$SB_TMP/prom.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: switchboard
    static_configs:
      - targets: ['127.0.0.1:$SB_HTTP_PORT']
YML
timeout 60 prometheus --config.file="$SB_TMP/prom.yml" --storage.tsdb.path="$SB_TMP/prom" \
  --web.listen-address="127.0.0.1:$PP" >"$SB_TMP/prom.log" 2>&1 &
prom_pid=$!
query() {
  curl -s --max-time 5 "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")' 2>/dev/null
}
wait_eq 30 1 query 'up{job="switchboard"}' || { tail -20 "$SB_TMP/prom.log"; kill $prom_pid; fail "Prometheus scraped the server"; }
assert_eq "$(query 'switchboard_calls_ended_total{status="failed",direction="inbound"}')" 1 \
  "Prometheus reads the failed call"
kill $prom_pid 2>/dev/null
pass "a real Prometheus scrapes /metrics"

# metrics.auth: HTTP Basic.
stop_server
echo 'metrics.auth = "prom:Scrape-Secret-1"' >>"$SB_CONF"
start_server || fail "restart with metrics.auth"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$ROOT/metrics")" 401 "without credentials: 401"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u prom:wrong "$ROOT/metrics")" 401 "a wrong password: 401"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u prom:Scrape-Secret-1 "$ROOT/metrics")" 200 "with them: 200"
