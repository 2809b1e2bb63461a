# Crash and restart (issue 23): calls are up when the server is killed
# with SIGKILL: an inbound call answered by a looping <Play> (its caller a
# sipp UAC), and an inbound call whose <Dial><Number> reached a sipp UAS
# through the outbound proxy (two legs). The next start must close the
# three records as interrupted (completed, with the talk time up to the
# last moment the dead server was known alive, EndReason on the REST
# resource), send a BYE in each of the three dialogs (every sipp peer
# expects one and answers 200), and leave every other record alone (a
# call completed before the crash). The database files and the
# recordings folder are private throughout.
source ../calls_common/lib.sh
app_start
M="$APP/media"
doc play.xml "<Response><Play loop=\"0\">$M/t.wav?freq=440&amp;secs=1</Play></Response>"
doc dial.xml '<Response><Dial timeout="10"><Number>+131313</Number></Dial></Response>'
doc short.xml "<Response><Play>$M/s.wav?freq=440&amp;secs=1</Play></Response>"
make_number 1111 /play.xml >/dev/null
make_number 2222 /dial.xml >/dev/null
make_number 3333 /short.xml >/dev/null

# A call that ends before the crash: its record must not change.
scen uac_wait.xml before LPORT=6010
uac before 3333 || { show before; fail "a short call before the crash"; }
done_sid=$(cdr_where "recipient = '3333'" sid)
assert_eq "$(cdr "$done_sid" status)" completed "the short call is completed"
done_row=$(sqlite3 "$SB_DB" "SELECT * FROM calls WHERE sid = '$done_sid'")

# The server of the runner stops (cleanly); this shell starts the one it
# will kill, so that nobody waits for its exit status.
stop_server
readies=$(grep -Ec " ready in [0-9]+ ms" "$SB_LOG")
(cd "$SB_TMP" && exec "$SB_BIN" -c "$SB_CONF") >>"$SB_LOG" 2>&1 &
crash_pid=$!
more_ready() { [ "$(grep -Ec " ready in [0-9]+ ms" "$SB_LOG")" -gt "$readies" ]; }
wait_for 10 more_ready || fail "the server to be killed did not start"

# The peers: each waits (up to 40 s) for the BYE and answers 200.
scen uas_wait.xml callee RING=200 TIMEOUT=40000
uas_start callee "$SB_AUX_PORT"
scen uac_wait.xml player LPORT=6020 TIMEOUT=40000
uac player 1111 &
player_pid=$!
scen uac_wait.xml dialler LPORT=6030 TIMEOUT=40000
uac dialler 2222 &
dialler_pid=$!

up() { sqlite3 "$SB_DB" "SELECT count(*) FROM calls WHERE status = 'in-progress'"; }
wait_eq 15 3 up || fail "three legs in progress: $(up)"
wait_eq 5 3 sqlite3 "$SB_DB" "SELECT count(*) FROM call_dialogs" \
  || fail "the three dialogs are stored: $(sqlite3 "$SB_DB" 'SELECT * FROM call_dialogs')"
pass "three legs up, their dialogs stored"
play_sid=$(cdr_where "recipient = '1111'" sid)
dial_sid=$(cdr_where "recipient = '2222'" sid)
leg_sid=$(cdr_where "parent_call_sid = '$dial_sid'" sid)
[ -n "$play_sid" ] && [ -n "$dial_sid" ] && [ -n "$leg_sid" ] || fail "the three records"

# Talk a while (the server notes it is alive every 2 s), then crash.
sleep 5
t_kill=$(date +%s)
kill -KILL "$crash_pid"
wait "$crash_pid" 2>/dev/null
pass "the server was killed with calls up"
# Nothing ended them: the records are as the dead server left them.
assert_eq "$(up)" 3 "the records still say in progress"

start_server || fail "the server did not start again"
assert_log "call: the last run ended with 3 calls live: closed as interrupted; ending 3 SIP dialogs with BYE" \
  "start-up logs the recovery"

wait "$player_pid" || { show player; fail "the <Play> caller got a BYE after the restart"; }
pass "the caller of the interrupted <Play> got a BYE and answered 200"
wait "$dialler_pid" || { show dialler; fail "the <Dial> caller got a BYE after the restart"; }
pass "the caller of the interrupted <Dial> got a BYE and answered 200"
uas_wait callee || { show callee; fail "the dialled callee got a BYE after the restart"; }
pass "the dialled callee got a BYE and answered 200"
assert_log "sip: BYE for $leg_sid answered 200" "the callee's 200 to the BYE is logged"
grep -q '^Reason: Q.850;cause=41' "$SB_TMP/callee.msg" || fail "the BYE carries a Reason"
pass "the BYE carries a Reason header"

for sid in "$play_sid" "$dial_sid" "$leg_sid"; do
  assert_eq "$(cdr "$sid" status)" completed "$sid is completed"
  assert_eq "$(cdr "$sid" end_reason)" interrupted "$sid is marked interrupted"
  d=$(cdr "$sid" duration)
  start=$(cdr "$sid" start_time)
  ring=$(cdr "$sid" ring_duration)
  end=$(cdr "$sid" end_time)
  most=$((t_kill - start - ring + 1))
  [ "$d" -ge 2 ] && [ "$d" -le "$most" ] \
    || fail "$sid: talk time up to the crash: $d s (answered at $((start + ring)), killed at $t_kill)"
  [ "$end" -le "$((t_kill + 1))" ] && [ "$end" -ge "$((t_kill - 3))" ] \
    || fail "$sid: end time near the crash: $end (killed at $t_kill)"
  pass "$sid: talk time $d s, ended about when the server died"
done
assert_eq "$(live_calls)" 0 "no record is left live"
assert_eq "$(sqlite3 "$SB_DB" 'SELECT count(*) FROM call_dialogs')" 0 "no dialog is left stored"
assert_eq "$(sqlite3 "$SB_DB" "SELECT * FROM calls WHERE sid = '$done_sid'")" "$done_row" \
  "the call completed before the crash is unchanged"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM calls WHERE end_reason IS NOT NULL")" 3 \
  "only the interrupted calls are marked"

req GET "/Accounts/$ADMIN_SID/Calls/$play_sid.json" "${admin[@]}"
expect 200 "the interrupted call over REST"
assert_eq "$(jq_py 'd["end_reason"]')" interrupted "JSON end_reason"
assert_eq "$(jq_py 'd["status"]')" completed "JSON status"
req GET "/Accounts/$ADMIN_SID/Calls/$done_sid" "${admin[@]}"
assert_contains "$RB" "<EndReason/>" "a call that ended by itself has an empty EndReason"
req GET "/Accounts/$ADMIN_SID/Calls/$leg_sid" "${admin[@]}"
assert_contains "$RB" "<EndReason>interrupted</EndReason>" "XML EndReason"

# The database, its WAL and the recordings folder are private (0600,
# 0700) whatever the umask (022 here), also after the crash; a folder or
# database made readable by others is made private again at start.
assert_eq "$(stat -c %a "$SB_DB" "$SB_DB-wal" "$SB_DB-shm" | sort -u)" 600 \
  "the database, its WAL and shared memory are 0600"
assert_eq "$(stat -c %a "$SB_TMP/recordings")" 700 "the recordings folder is 0700"

# A second restart finds nothing to recover.
stop_server
chmod 0644 "$SB_DB" "$SB_DB-wal" 2>/dev/null
chmod 0755 "$SB_TMP/recordings"
start_server || fail "second restart"
assert_eq "$(stat -c %a "$SB_DB" "$SB_DB-wal" "$SB_DB-shm" | sort -u)" 600 \
  "a database readable by others is made 0600 again"
assert_eq "$(stat -c %a "$SB_TMP/recordings")" 700 "and the recordings folder 0700"
[ "$(grep -c 'call: the last run ended with' "$SB_LOG")" = 1 ] \
  || fail "a clean restart recovers nothing"
pass "a clean restart recovers nothing"
