# SMS through SMPP 3.4 (issue 19) against a real SMSC: Net::SMPP in server
# mode (sms_common/smsc.pl, Debian's libnet-smpp-perl). The SMSC refuses
# the first bind (the server backs off and binds again), drops the
# connection on the first submit_sm (the message waits, is submitted
# again after the reconnection, and is not lost), answers enquire_link,
# and sends a delivery receipt for each message (status delivered, and
# its StatusCallback). A long body goes out in parts with a UDH, a
# Cyrillic one as UCS-2. An SMS from the SMSC (deliver_sm) to a number
# runs its SMS application, whose <Sms> reply goes back over SMPP.
source ../calls_common/lib.sh
B="/Accounts/$ADMIN_SID"
SMSC_LOG=$SB_TMP/smsc.jsonl
perl "$IT_DIR/sms_common/smsc.pl" --port "$SB_AUX_PORT" --system-id sb --password secret \
  --refuse-binds 1 --drop-submit --mo "$SB_TMP/mo.txt" --log "$SMSC_LOG" \
  --lifetime 40 >"$SB_TMP/smsc.out" 2>&1 &
SIPP_PIDS[smsc]=$!
app_start
doc mo.xml '<Response><Sms to="{{From}}" action="/cb/mo-action">Got: {{Body}}</Sms></Response>'
make_number +15550001 /none.xml --data-urlencode "SmsUrl=$APP/mo.xml" >/dev/null

events() { [ -f "$SMSC_LOG" ] && grep -c "\"ev\":\"$1\"" "$SMSC_LOG"; true; }
ok_binds() { [ -f "$SMSC_LOG" ] && grep '"ev":"bind"' "$SMSC_LOG" | grep -c '"ok":"1"' || echo 0; }
status_of() { sqlite3 "$SB_DB" "SELECT status FROM sms_messages WHERE sid = '$1'"; }
submits_to() { [ -f "$SMSC_LOG" ] && grep '"ev":"submit"' "$SMSC_LOG" | grep -c "\"dest\":\"$1\"" || echo 0; }

wait_eq 10 1 ok_binds || fail "no accepted bind: $(cat "$SMSC_LOG" 2>/dev/null)"
assert_eq "$(grep '"ev":"bind"' "$SMSC_LOG" | head -1 | grep -c '"ok":"0"')" 1 "the first bind was refused"
assert_log "smpp: link .* down: bind refused" "the refused bind is logged"
assert_log "smpp: bound to 127.0.0.1:$SB_AUX_PORT as sb" "bound after the back-off"

# ---- a message through a dropped connection, then its receipt ---------------
req POST "$B/SMS/Messages.json" "${admin[@]}" --data-urlencode From=+15550001 \
  --data-urlencode To=+15559999 -d Body=hello-smpp --data-urlencode "StatusCallback=$APP/cb/st"
expect 200 "POST to a number (SMPP)"
sm=$(jq_py 'd["sid"]')
wait_eq 10 delivered status_of "$sm" || fail "not delivered: $(status_of "$sm"); $(cat "$SMSC_LOG")"
pass "sent again after the drop, then delivered by the receipt"
assert_eq "$(grep -c '"by":"smsc"' "$SMSC_LOG")" 1 "the SMSC dropped the link once"
assert_eq "$(submits_to 15559999)" 2 "submitted twice (before and after the drop)"
assert_eq "$(ok_binds)" 2 "bound again after the drop: $(cat "$SB_TMP/smsc.out")"
assert_eq "$(sqlite3 "$SB_DB" "SELECT smsc_id FROM sms_messages WHERE sid='$sm'")" M1 "the SMSC's message id"
wait_eq 5 2 reqs /cb/st || fail "status callbacks: $(reqs /cb/st)"
assert_eq "$( (param /cb/st SmsStatus 0; param /cb/st SmsStatus 1) | sort | tr '\n' ' ')" \
  "delivered sent " "StatusCallback got sent and delivered"

# ---- long and UCS-2 bodies ----------------------------------------------------------
long=$(printf 'abcdefghij%.0s' $(seq 20))
req POST "$B/SMS/Messages.json" "${admin[@]}" --data-urlencode From=+15550001 \
  --data-urlencode To=+15558888 --data-urlencode "Body=$long"
expect 200 "POST a 200-character body"
long_sm=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["num_segments"]')" 2 "NumSegments 2"
wait_eq 10 delivered status_of "$long_sm" || fail "long: $(status_of "$long_sm")"
assert_eq "$(submits_to 15558888)" 2 "two submit_sm parts"
python3 - "$SMSC_LOG" <<'PY' || fail "the parts"
import json, sys
parts = [json.loads(l) for l in open(sys.argv[1]) if '"dest":"15558888"' in l]
assert all(p["esm_class"] == "64" for p in parts), parts
heads = [p["hex"][:12] for p in parts]
assert heads[0][:8] == heads[1][:8] == "05000301"[:6] + heads[0][6:8], heads
assert heads[0][8:] == "0201" and heads[1][8:] == "0202", heads
text = b"".join(bytes.fromhex(p["hex"][12:]) for p in parts).decode()
assert text == "abcdefghij" * 20, text
print("ok: UDH 05 00 03 ref 02 01/02 and the text joined")
PY
req POST "$B/SMS/Messages.json" "${admin[@]}" --data-urlencode From=+15550001 \
  --data-urlencode To=+15557770 --data-urlencode "Body=Привет"
expect 200 "POST a Cyrillic body"
wait_eq 10 1 submits_to 15557770 || fail "UCS-2 submit"
python3 - "$SMSC_LOG" <<'PY' || fail "UCS-2"
import json, sys
p = [json.loads(l) for l in open(sys.argv[1]) if '"dest":"15557770"' in l][0]
assert p["data_coding"] == "8", p
assert bytes.fromhex(p["hex"]).decode("utf-16-be") == "Привет", p
print("ok: data_coding 8, UTF-16BE text")
PY
# The keep-alive: the SMSC logs the enquire_link it reads, or (Net::SMPP
# sometimes answers one itself, unseen by the script) the server sent
# two or more and kept the link, which it drops when one goes unanswered.
keepalive() {
  [ "$(events enquire_link)" -ge 1 ] ||
    { [ "$(grep -c 'smpp: enquire_link$' "$SB_LOG")" -ge 2 ] &&
      ! grep -q "enquire_link not answered" "$SB_LOG"; }
}
wait_for 15 keepalive || fail "no enquire_link answered in 15 s (sms.smpp_enquire_link = 1)"
pass "enquire_link keep-alive"

# ---- an SMS from the SMSC to our number -------------------------------------------
echo "15557777 15550001 Hello from the SMSC" >"$SB_TMP/mo.txt"
wait_eq 10 1 reqs /mo.xml || fail "the SMS application did not run"
assert_eq "$(param /mo.xml From)" +15557777 "MO From (international)"
assert_eq "$(param /mo.xml Body)" "Hello from the SMSC" "MO Body"
assert_eq "$(param /mo.xml SmsStatus)" received "MO SmsStatus"
wait_eq 10 1 submits_to 15557777 || fail "the <Sms> reply was not submitted"
wait_eq 10 1 reqs /cb/mo-action || fail "<Sms> action"
assert_eq "$(param /cb/mo-action SmsStatus)" sent "<Sms> reply sent over SMPP"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM sms_messages WHERE direction='inbound' AND status='received'")" 1 \
  "the MO SMS recorded as received"
