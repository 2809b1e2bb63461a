# Conference hooks for plugins: a plugin (plugins/moderator.lua) hears
# conference.join, .start, .mute, .leave and .end with the room, the
# member's call and the member count, and mutes every member after the
# first with call:mute(true): the second member's participant row is
# muted, and the events come in order.
source ../calls_common/lib.sh
app_start
doc room.xml '<Response><Dial><Conference beep="false">desk</Conference></Dial></Response>'
make_number 7001 /room.xml >/dev/null
root=$(cd "$IT_DIR/../.." && pwd)
stop_server
echo "plugins.paths = { \"$SB_TEST_DIR/plugins\", \"$root/plugins\" }" >>"$SB_CONF"
start_server || fail "restart with the moderator plugin"

scen uac_bye.xml first HOLD=4000
scen uac_bye.xml second HOLD=2000
uac first 7001 &
first_pid=$!
wait_for 10 grep -q "hook join room=desk members=1" "$SB_LOG" || fail "conference.join for the first member"
uac second 7001 || { show second; fail "the second member"; }
wait "$first_pid" || { show first; fail "the first member"; }
first=$(cdr_where "recipient = '7001'" sid)
second=$(sqlite3 "$SB_DB" "SELECT sid FROM calls WHERE recipient = '7001' ORDER BY rowid DESC LIMIT 1")
assert_log "hook join room=desk members=2 muted=false call=$second" "conference.join for the second, with its call"
assert_log "hook mute room=desk members=2 muted=true call=$second" "the plugin's call:mute(true) reached the room"
assert_eq "$(sqlite3 "$SB_DB" "SELECT muted FROM participants WHERE call_sid = '$second'")" 1 \
  "the second member's participant row is muted"
assert_eq "$(sqlite3 "$SB_DB" "SELECT muted FROM participants WHERE call_sid = '$first'")" 0 \
  "the first one speaks"
wait_for 10 grep -q "hook end room=desk" "$SB_LOG" || fail "conference.end"
order=$(grep -o "hook [a-z]* room=desk members=[0-9]" "$SB_LOG" | awk '{print $2 ":" $4}' | tr '\n' ' ')
echo "events: $order"
assert_contains "$order" "join:members=1" "join, 1 member"
assert_contains "$order" "leave:members=1" "leave, 1 member left"
assert_log "hook leave room=desk members=0 muted=false call=$first" "the last leave names its call"
grep -q "hook start room=desk" "$SB_LOG" || fail "conference.start"
