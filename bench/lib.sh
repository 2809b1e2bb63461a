# bench/lib.sh: the server start-up shared by the bench scripts (bench/calls,
# bench/transfer, bench/register, bench/rest). Source it, then:
#
#   bench_start_server BIN TMP SIP HTTP PROXY_PORT
#     writes TMP/conf.lua (UDP SIP on 127.0.0.1:SIP, REST on HTTP,
#     sip.outbound_proxy 127.0.0.1:PROXY_PORT, database and console in
#     TMP, log level warn, media ports 20000-40000), starts BIN with it
#     (log in TMP/server.log), waits for "ready", and sets:
#     (EXTRA_CONF, when set, is appended to the configuration: e.g.
#     EXTRA_CONF='calls.max_load = 85' to bench with admission control)
#       pid   the server's pid (also appended to the caller's pids array)
#       api   the REST base URL
#       auth  curl's credentials for the bench account, as an array
#       ac    the bench account's SID

bench_start_server() {
  local bin=$1 tmp=$2 sip=$3 http=$4 proxy=$5
  cat >"$tmp/conf.lua" <<CONF
sip.listen = { "udp:127.0.0.1:$sip" }
sip.outbound_proxy = "sip:127.0.0.1:$proxy"
http.listen = "127.0.0.1:$http"
store.path = "$tmp/bench.db"
console.socket = "$tmp/console.sock"
admin.email = "bench@example.com"
admin.password = "Bench-Password-123"
log.level = "warn"
media.port_min = 20000
media.port_max = 40000
${EXTRA_CONF:-}
CONF
  "$bin" -c "$tmp/conf.lua" >"$tmp/server.log" 2>&1 &
  pid=$!
  pids+=($pid)
  for _ in $(seq 100); do
    grep -q " ready in " "$tmp/server.log" && break
    sleep 0.1
  done
  api="http://127.0.0.1:$http/restcomm/2012-04-24"
  auth=(-u "bench@example.com:Bench-Password-123")
  ac=$(curl -s "${auth[@]}" "$api/Accounts.json/bench@example.com" |
       python3 -c 'import json,sys; print(json.load(sys.stdin)["sid"])')
}
