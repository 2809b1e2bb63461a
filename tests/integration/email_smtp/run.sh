# E-mail over SMTP (issue 19): REST Email/Messages and the <Email> verb,
# sent with libcurl to a real SMTP server (aiosmtpd, Debian's
# python3-aiosmtpd; sms_common/smtpd.py). Checks the envelope (BCC only
# there), the headers, the recorded status, a server that refuses the
# recipient (status failed, Notification 13001), bad input (400 in
# Restcomm's format) and isolation between accounts.
source ../calls_common/lib.sh
B="/Accounts/$ADMIN_SID"
MAIL_LOG=$SB_TMP/mail.jsonl
# Debian's python3, which has python3-aiosmtpd (PATH may hold another).
/usr/bin/python3 "$IT_DIR/sms_common/smtpd.py" --port "$SB_AUX_PORT" --log "$MAIL_LOG" \
  --lifetime 40 >"$SB_TMP/smtpd.out" 2>&1 &
SIPP_PIDS[smtpd]=$!
wait_for 5 grep -q ready "$SB_TMP/smtpd.out" || fail "smtpd did not start: $(cat "$SB_TMP/smtpd.out")"
app_start
doc voice.xml '<Response><Email to="ops@example.com" subject="Call from {{From}}">A call came in</Email><Reject reason="busy"/></Response>'
make_number 6000 /voice.xml >/dev/null

mails() { [ -f "$MAIL_LOG" ] && wc -l <"$MAIL_LOG" || echo 0; }
mail() { python3 -c 'import json,sys; m=json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])]); print(eval(sys.argv[3], {"m": m}))' \
  "$MAIL_LOG" "$1" "$2"; }
estatus() { sqlite3 "$SB_DB" "SELECT status FROM email_messages WHERE sid = '$1'"; }

req POST "$B/Email/Messages.json" "${admin[@]}" -d From=alerts@example.com \
  -d To=alice@example.com -d CC=bob@example.com -d BCC=audit@example.com \
  --data-urlencode "Subject=Your code" --data-urlencode $'Body=Code 1234\nBye'
expect 200 "POST Email/Messages"
em=$(jq_py 'd["sid"]')
[[ "$em" =~ ^EM[0-9a-f]{32}$ ]] || fail "Email SID: $em"
assert_eq "$(jq_py 'd["subject"]')" "Your code" "the EmailMessage"
wait_eq 10 1 mails || fail "no mail arrived"
assert_eq "$(mail 0 'm["mail_from"]')" alerts@example.com "envelope sender"
assert_eq "$(mail 0 'sorted(m["rcpt_tos"])')" "['alice@example.com', 'audit@example.com', 'bob@example.com']" \
  "envelope recipients include CC and BCC"
assert_eq "$(mail 0 '"Subject: Your code" in m["data"]')" True "Subject header"
assert_eq "$(mail 0 '"Cc: bob@example.com" in m["data"]')" True "Cc header"
assert_eq "$(mail 0 '"audit@" not in m["data"]')" True "no Bcc header"
assert_eq "$(mail 0 '"Code 1234" in m["data"]')" True "the body"
wait_eq 5 sent estatus "$em" || fail "status: $(estatus "$em")"
pass "recorded as sent"
req GET "$B/Email/Messages/$em.json" "${admin[@]}"
expect 200 "GET the e-mail"
assert_eq "$(jq_py 'd["status"]')" sent "its status"

# The default sender (email.from) and a refused recipient.
req POST "$B/Email/Messages.json" "${admin[@]}" -d To=refuse@example.com \
  -d Subject=x -d Body=y
expect 200 "POST with the default sender"
bad=$(jq_py 'd["sid"]')
assert_eq "$(jq_py 'd["from"]')" switchboard@example.com "email.from used"
wait_eq 10 failed estatus "$bad" || fail "refused: $(estatus "$bad")"
pass "a refused recipient: failed"
assert_contains "$(sqlite3 "$SB_DB" "SELECT error_message FROM email_messages WHERE sid='$bad'")" "550" \
  "the server's answer recorded"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM notifications WHERE error_code=13001")" 1 \
  "Notification 13001"

# ---- bad input ---------------------------------------------------------------
req POST "$B/Email/Messages.json" "${admin[@]}" -d To=a@example.com -d Body=y
expect 400 "no Subject"
assert_eq "$(jq_py 'd["message"]')" "Subject can not be null." "Restcomm's message"
req POST "$B/Email/Messages" "${admin[@]}" -d To=not-an-address -d Subject=x -d Body=y
expect 400 "an invalid address"
req POST "$B/Email/Messages.json" "${admin[@]}" -d To=a@example.com --data-urlencode $'Subject=a\r\nBcc: x@evil.com' -d Body=y
expect 400 "a header injection in Subject"
req POST "$B/Email/Messages.json" "${admin[@]}" -d To=a@example.com -d Subject=x -d Body=y -d Type=application/pdf
expect 400 "a non-text Type"

# ---- <Email> from a call -------------------------------------------------------
scen uac_expect.xml caller CODE=486
uac caller 6000 || { show caller; fail "call to 6000"; }
wait_eq 10 2 mails || fail "<Email> sent nothing"
assert_eq "$(mail 1 'm["rcpt_tos"]')" "['ops@example.com']" "<Email> recipient"
assert_eq "$(mail 1 '"Subject: Call from bob" in m["data"]')" True "<Email> subject"
assert_eq "$(sqlite3 "$SB_DB" "SELECT call_sid IS NOT NULL FROM email_messages WHERE recipient='ops@example.com'")" 1 \
  "<Email> recorded with its call"

# ---- lists and isolation ----------------------------------------------------------
req GET "$B/Email/Messages.json" "${admin[@]}"
assert_eq "$(jq_py 'd["total"]')" 3 "three e-mails listed"
req POST "/Accounts.json" "${admin[@]}" -d EmailAddress=other@example.com -d Password=Other-Account-Pw1
other=$(jq_py 'd["sid"]')
them=(-u "other@example.com:Other-Account-Pw1")
req GET "/Accounts/$other/Email/Messages.json" "${them[@]}"
assert_eq "$(jq_py 'd["total"]')" 0 "the other account sees none"
req GET "/Accounts/$other/Email/Messages/$em.json" "${them[@]}"
expect 404 "another account's e-mail is 404"
