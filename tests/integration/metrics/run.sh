# GET /metrics: Prometheus' text format on the HTTP listener, checked by
# promtool and scraped by a real Prometheus server (Debian's prometheus):
# after a call refused by its application (<Reject/>: 603, failed) the
# counters say so, the REST requests are counted by route, and with
# metrics.auth the endpoint wants HTTP Basic. Then, after a registration
# (digest), a call relayed with RTP both ways (sipp + rtptool.py) and a
# call whose RCML URL answers 404, the SIP, registration, RCML fetch,
# media worker, store and event-loop families have the values those
# produced, still accepted by promtool. metrics.listen moves /metrics to
# a listener of its own (with metrics.auth), a port in use stops the start
# with file:line: metrics.listen, and scrapes while the server shuts down
# do not hurt it (the runner wants exit 0 and a clean sanitizer log).
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

# ---- SIP, registrations, RCML fetches, media workers, store, loop lag ----
make_client alice Alice-Secret-77 >/dev/null
# RP for alice's contact; CP and EP even (RTP), drawn apart from it: a
# port rounded down to even could be alice's, and rtptool would latch
# onto the SIP traffic sent there.
read -r RP < <(ports 1)
while :; do
  read -r CP EP < <(python3 "$IT_DIR/free_ports.py" 2 even)
  [ "$CP" != "$RP" ] && [ "$EP" != "$RP" ] && break
done
python3 "$CALLS_COMMON/register.py" alice Alice-Secret-77 "$RP" || fail "alice registers"
doc dial.xml '<Response><Dial><Number>+131313</Number></Dial></Response>'
make_number 1111 /dial.xml >/dev/null
make_number 1404 /missing.xml >/dev/null
tool="$IT_DIR/rtptool.py"
talk() { # OUT PORT
  echo "<nop><action><exec command=\"python3 $tool talk --bind $2 --to 127.0.0.1:[\$port] --count 100 --seconds 3 --out $1 &amp;\"/></action></nop>"
}
# The caller is answered when the Dial starts: both talk once the callee
# has answered (500 ms later), as in calls_rtp.
scen uas_wait.xml callee "LPORT=$EP" \
  "TALK=<pause milliseconds=\"700\"/>$(talk "$SB_TMP/callee.rtp" "$EP")"
uas_start callee "$SB_AUX_PORT"
scen uac_bye.xml caller "LPORT=$CP" HOLD=4000 \
  "TALK=<pause milliseconds=\"1200\"/>$(talk "$SB_TMP/caller.rtp" "$CP")"
uac caller 1111 || { show caller; show callee; fail "the relayed call"; }
uas_wait callee || { show callee; fail "the callee"; }
scen uac_expect.xml notfound CODE=500
uac notfound 1404 >/dev/null 2>&1 || true
wait_eq 10 0 live_calls || fail "the calls are over"
# The media worker folds an endpoint's counters in on its 100 ms sweep and
# when the endpoint is destroyed, which follows the record's end: on a busy
# machine, scrape until both legs' packets are in (at most 5 s).
for _ in $(seq 25); do
  curl -s -o "$SB_TMP/m2.txt" "$ROOT/metrics" || fail "second scrape"
  got=$(grep '^switchboard_media_rtp_received_packets_total{' "$SB_TMP/m2.txt" |
        awk '{s += $NF} END {print s + 0}')
  [ "$got" -ge 150 ] && break
  sleep 0.2
done
out=$(promtool check metrics <"$SB_TMP/m2.txt" 2>&1) || fail "promtool check metrics (after calls): $out"
pass "promtool check metrics accepts the scrape taken after SIP and REST traffic"
v() { grep -F "$1" "$SB_TMP/m2.txt" | head -1 | awk '{print $NF}'; }
ge() { # NAME MIN WHAT
  local got; got=$(v "$1")
  python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' \
    "${got:-0}" "$2" || fail "$3: $1 is '${got}', want >= $2"
  pass "$3 ($1 = $got)"
}
sumof() { grep "^$1{" "$SB_TMP/m2.txt" | awk '{s += $NF} END {print s + 0}'; }
ge 'switchboard_sip_requests_total{direction="received",method="INVITE"}' 3 "INVITEs received"
ge 'switchboard_sip_requests_total{direction="received",method="REGISTER"}' 2 "REGISTERs received"
ge 'switchboard_sip_requests_total{direction="received",method="BYE"}' 1 "the caller's BYE"
ge 'switchboard_sip_requests_total{direction="sent",method="INVITE"}' 1 "the INVITE to the callee"
ge 'switchboard_sip_responses_total{direction="sent",method="INVITE",code="603"}' 1 "603 sent for <Reject/>"
ge 'switchboard_sip_responses_total{direction="sent",method="INVITE",code="200"}' 1 "200 sent to the caller"
ge 'switchboard_sip_responses_total{direction="sent",method="REGISTER",code="401"}' 1 "the digest challenge"
ge 'switchboard_sip_responses_total{direction="sent",method="REGISTER",code="200"}' 1 "the registration's 200"
ge 'switchboard_sip_responses_total{direction="received",method="INVITE",code="200"}' 1 "the callee's 200"
ge 'switchboard_sip_responses_total{direction="sent",method="BYE",code="200"}' 1 "200 for the BYE"
ge 'switchboard_sip_registrations_total{result="ok"}' 1 "registrations: ok"
ge 'switchboard_sip_registrations_total{result="challenged"}' 1 "registrations: challenged"
ge 'switchboard_rcml_fetch_duration_seconds_count' 3 "RCML fetches timed"
ge 'switchboard_rcml_fetch_failures_total{reason="http"}' 1 "the 404 is a failed fetch"
ge 'switchboard_store_statement_duration_seconds_count' 10 "store statements timed"
ge 'switchboard_event_loop_lag_seconds_count' 1 "event-loop lag measured"
rx=$(sumof switchboard_media_rtp_received_packets_total)
tx=$(sumof switchboard_media_rtp_sent_packets_total)
[ "$rx" -ge 150 ] || fail "RTP received per worker: $rx, want >= 150"
pass "RTP packets received over the workers: $rx"
[ "$tx" -ge 150 ] || fail "RTP sent per worker: $tx, want >= 150"
pass "RTP packets sent over the workers: $tx"
grep -q '^switchboard_media_jitter_seconds{worker="0"} ' "$SB_TMP/m2.txt" || fail "jitter per worker"
grep -q '^switchboard_media_rtp_lost_packets_total{worker="0"} ' "$SB_TMP/m2.txt" || fail "loss per worker"
grep -q '^switchboard_media_worker_late_frames_total{worker="0"} ' "$SB_TMP/m2.txt" || fail "late frames per worker"
pass "loss, jitter and late frames per worker"

# The Grafana dashboard: valid JSON, and every metric it queries is in a
# real scrape (families only present once something happened are in m2).
DASH="$IT_DIR/../../contrib/grafana/switchboard.json"
python3 -m json.tool "$DASH" >/dev/null || fail "contrib/grafana/switchboard.json is not valid JSON"
pass "the dashboard is valid JSON"
missing=$(python3 - "$DASH" "$SB_TMP/m2.txt" <<'PY'
import json, re, sys
dash = json.load(open(sys.argv[1]))
have = set()
for line in open(sys.argv[2]):
    if line.startswith("# TYPE "):
        name, kind = line.split()[2:4]
        have.add(name)
        if kind == "histogram":
            have.update({name + "_bucket", name + "_sum", name + "_count"})
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k == "expr" and isinstance(v, str):
                exprs.append(v)
            else:
                walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(dash)
used = {m for e in exprs for m in re.findall(r"\bswitchboard_[a-z0-9_]+", e)}
print(" ".join(sorted(used - have)) if exprs else "NO-EXPRS")
PY
)
[ -z "$missing" ] || fail "the dashboard queries metrics the server does not export: $missing"
pass "every metric the dashboard queries is in the scrape"

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

# metrics.listen: /metrics on a listener of its own (with metrics.auth),
# gone from the REST listener.
stop_server
read -r MP BUSY < <(ports 2)
echo "metrics.listen = \"127.0.0.1:$MP\"" >>"$SB_CONF"
start_server || fail "restart with metrics.listen"
MROOT="http://127.0.0.1:$MP"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$ROOT/metrics")" 404 "not on the REST listener any more"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' "$MROOT/metrics")" 401 "its own listener wants credentials"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u prom:Scrape-Secret-1 "$MROOT/metrics")" 200 \
  "its own listener with credentials"
curl -s -u prom:Scrape-Secret-1 "$MROOT/metrics" >"$SB_TMP/m3.txt"
out=$(promtool check metrics <"$SB_TMP/m3.txt" 2>&1) || fail "promtool on the metrics listener: $out"
pass "promtool accepts the metrics listener's answer"
assert_eq "$(curl -s -o /dev/null -w '%{http_code}' -u prom:Scrape-Secret-1 "$MROOT/Accounts")" 404 \
  "the metrics listener serves nothing else"

# A scrape during shutdown: scrapers keep asking while SIGTERM arrives.
scrapers=()
for _ in 1 2 3; do
  ( end=$((SECONDS + 4)); while [ $SECONDS -lt $end ]; do
      curl -s -o /dev/null --max-time 1 -u prom:Scrape-Secret-1 "$MROOT/metrics"
    done ) &
  scrapers+=($!)
done
( end=$((SECONDS + 4)); while [ $SECONDS -lt $end ]; do
    curl -s -o /dev/null --max-time 1 "$ROOT/metrics"; done ) &
scrapers+=($!)
sleep 0.5
stop_server
wait "${scrapers[@]}"
[ ! -s "$SB_TMP/server_failures" ] || fail "the server exits 0 on SIGTERM while scraped ($(cat "$SB_TMP/server_failures"))"
pass "scrapes during shutdown: clean exit"

# metrics.listen on a port in use: a clear start-up error with file:line.
python3 -c 'import socket,sys,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(20)' "$BUSY" &
busy_pid=$!
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$BUSY" 2>/dev/null || fail "the port-holder listens"
sed -i "s/^metrics.listen = .*/metrics.listen = \"127.0.0.1:$BUSY\"/" "$SB_CONF"
line=$(grep -n '^metrics.listen' "$SB_CONF" | cut -d: -f1)
(cd "$SB_TMP" && timeout 20 "$SB_BIN" -c "$SB_CONF") >"$SB_TMP/busy.out" 2>&1
rc=$?
kill $busy_pid 2>/dev/null
[ $rc -ne 0 ] || fail "the server starts although metrics.listen's port is taken"
grep -q "$SB_CONF:$line: metrics.listen: cannot listen on 127.0.0.1:$BUSY: address already in use" \
  "$SB_TMP/busy.out" || { cat "$SB_TMP/busy.out"; fail "the error names file, line and key"; }
pass "a metrics port in use: $(grep -m1 'metrics.listen' "$SB_TMP/busy.out")"
