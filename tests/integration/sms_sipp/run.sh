# SMS over SIP MESSAGE with sipp as the phones (issue 19's real peers):
# REST sends "hello sipp" to the Client dora, whose registered contact is
# a sipp UA: it gets a text/plain MESSAGE with that body and answers 200,
# and the message becomes "sent". A sipp UA sends a MESSAGE to number
# 5100: its SmsUrl gets From, To and Body, and its <Sms> reply reaches
# dora's sipp phone.
source ../calls_common/lib.sh
B="/Accounts/$ADMIN_SID"
app_start
doc reply.xml '<Response><Sms to="client:dora">hello sipp, you said: {{Body}}</Sms></Response>'
make_number 5100 /none.xml --data-urlencode "SmsUrl=$APP/reply.xml" >/dev/null
make_client dora Dora-Sms-Pw1 >/dev/null
read -r PD < <(ports 1)
python3 "$CALLS_COMMON/register.py" dora Dora-Sms-Pw1 "$PD" || fail "dora registers"

# REST -> dora's sipp phone.
cp "$SB_TEST_DIR/uas_message.xml" "$SB_TMP/dora1.xml"
uas_start dora1 "$PD"
req POST "$B/SMS/Messages.json" "${admin[@]}" -d From=5100 -d To=client:dora \
  --data-urlencode "Body=hello sipp"
expect 200 "an SMS to a Client"
sms=$(jq_py 'd["sid"]')
uas_wait dora1 || { show dora1; fail "dora's sipp phone got the MESSAGE"; }
wait_for 5 test "$(sqlite3 "$SB_DB" "SELECT status FROM sms_messages WHERE sid = '$sms'")" = sent ||
  fail "the SMS is sent once the phone answered 200"
pass "a sipp phone received the SMS and it is sent"

# A sipp phone -> number 5100 -> its application's <Sms> -> dora.
cp "$SB_TEST_DIR/uas_message.xml" "$SB_TMP/dora2.xml"
uas_start dora2 "$PD"
cp "$SB_TEST_DIR/uac_message.xml" "$SB_TMP/sender.xml"
uac sender 5100 || { show sender; fail "the sender's MESSAGE is accepted"; }
wait_eq 10 1 reqs /reply.xml || fail "the number's SmsUrl is requested"
assert_eq "$(param /reply.xml Body | tr -d "\r")" "what time is it" "SmsUrl: Body (sipp ends it with CRLF)"
assert_eq "$(param /reply.xml From)" "+15557770001" "SmsUrl: From"
assert_eq "$(param /reply.xml To)" "5100" "SmsUrl: To"
assert_eq "$(param /reply.xml SmsStatus)" received "SmsUrl: SmsStatus=received"
uas_wait dora2 || { show dora2; fail "the <Sms> reply reached dora's sipp phone"; }
