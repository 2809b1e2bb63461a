# A REST write is answered only once it is durable (issue 23). Calls
# coming and going keep the store's write batch open most of the time
# (their records share one transaction per loop turn); REST writes made
# meanwhile join that transaction. While sipp places calls, writer.py
# creates Applications and, the moment each 201 arrives, looks for the new
# row through a database connection of its own, which sees only committed
# transactions: every answered row must be there. Then it kills the
# server (SIGKILL) the moment one more 201 is read; after a restart every
# answered Application exists.
source ../calls_common/lib.sh
app_start
doc play.xml "<Response><Play loop=\"0\">$APP/media/t.wav?freq=440&amp;secs=1</Play></Response>"
make_number 1111 /play.xml >/dev/null

# This shell starts the server it will kill (nobody waits for its status).
stop_server
readies=$(grep -Ec " ready in [0-9]+ ms" "$SB_LOG")
(cd "$SB_TMP" && exec "$SB_BIN" -c "$SB_CONF") >>"$SB_LOG" 2>&1 &
victim=$!
more_ready() { [ "$(grep -Ec " ready in [0-9]+ ms" "$SB_LOG")" -gt "$readies" ]; }
wait_for 10 more_ready || fail "the server did not start"

# Calls: 40 a second, each answered, held 300 ms, hung up by the caller.
scen uac_bye.xml load HOLD=300 LPORT=6040
timeout 60 sipp 127.0.0.1:"$SB_SIP_PORT" -sf "$SB_TMP/load.xml" -s 1111 -i 127.0.0.1 -p 0 \
  -r 40 -l 40 -m 400 -nostdin -timeout 30s >"$SB_TMP/load.out" 2>&1 &
load=$!
SIPP_PIDS[load]=$load
sleep 1

python3 "$SB_TEST_DIR/writer.py" "$SB_BASE" "$SB_ADMIN_EMAIL" "$SB_ADMIN_PASSWORD" \
  "$ADMIN_SID" "$SB_DB" 6 "$victim" >"$SB_TMP/writer.out" 2>&1 \
  || { cat "$SB_TMP/writer.out"; fail "writer.py"; }
wait "$victim" 2>/dev/null
kill "$load" 2>/dev/null
wait "$load" 2>/dev/null
unset "SIPP_PIDS[load]"
answered=$(awk '$1 == "answered" {print $2}' "$SB_TMP/writer.out")
unseen=$(awk '$1 == "unseen" {print $2}' "$SB_TMP/writer.out")
calls=$(sqlite3 "$SB_DB" "SELECT count(*) FROM calls")
[ "$answered" -ge 20 ] || fail "too few writes to judge: $answered"
[ "$calls" -ge 40 ] || fail "too few calls alongside: $calls"
pass "$answered Applications created while $calls calls came and went"
assert_eq "$unseen" 0 "every answered write was committed when its answer came"

start_server || fail "the server did not start again"
missing=$(python3 - "$SB_TMP/writer.out" "$SB_DB" <<'PY'
import sqlite3, sys
lines = open(sys.argv[1]).read().split("\n")
sids = [l for l in lines[lines.index("sids") + 1:] if l]
db = sqlite3.connect(sys.argv[2])
print(sum(1 for s in sids
          if db.execute("SELECT count(*) FROM applications WHERE sid = ?", (s,)).fetchone()[0] != 1))
PY
)
assert_eq "$missing" 0 "every answered Application survived the SIGKILL"
