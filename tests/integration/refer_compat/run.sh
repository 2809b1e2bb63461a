# No NOTIFY when none may go out: a REFER with Refer-Sub: false (RFC 4488)
# gets 202 with Refer-Sub: false and no NOTIFY, then BYE; and with
# refer.notify = false in the configuration (Restcomm's behaviour,
# restcomm.md 6 scenario 2) every REFER gets 202 and BYE without NOTIFY.
# george's scenario fails on any NOTIFY.
source ../calls_common/lib.sh
app_start
doc 1111 '<Response><Dial><Number>+131313</Number></Dial></Response>'
doc 2222 '<Response><Dial><Client>{{ReferTarget}}</Client></Dial></Response>'
make_number 1111 /1111 -d VoiceMethod=GET --data-urlencode "ReferUrl=$APP/2222" \
  -d ReferMethod=GET >/dev/null
make_client alice Alice-Secret-77 >/dev/null
read -r PA < <(ports 1)
python3 "$CALLS_COMMON/register.py" alice Alice-Secret-77 "$PA" || fail "alice registers"
TARGET="sip:alice@127.0.0.1:$SB_SIP_PORT"

quiet_transfer() { # TAG [XHDR]
  scen uas_refer_quiet.xml "george$1" CODE=202 HOLD=600 "TARGET=$TARGET" "XHDR=${2:-}"
  scen uas_bye.xml "alice$1" USER=alice RING=200 HOLD=1000
  scen uac_wait.xml "bob$1"
  uas_start "george$1" "$SB_AUX_PORT"
  uas_start "alice$1" "$PA"
  uac "bob$1" 1111 || { show "bob$1"; show "george$1"; fail "bob ($1)"; }
  uas_wait "george$1" || { show "george$1"; fail "george: 202, no NOTIFY, BYE ($1)"; }
  uas_wait "alice$1" || { show "alice$1"; fail "alice ($1)"; }
}

quiet_transfer subfalse "Refer-Sub: false"
pass "Refer-Sub: false: 202, no NOTIFY, BYE; the transfer goes through"
grep -qi "^Refer-Sub: false" "$SB_TMP/georgesubfalse.msg" || fail "the 202 says Refer-Sub: false"
pass "the 202 carries Refer-Sub: false"

# Restcomm mode.
stop_server
echo 'refer.notify = false' >>"$SB_CONF"
start_server || fail "restart with refer.notify = false"
quiet_transfer compat
pass "refer.notify = false: 202, no NOTIFY, BYE to the transferor (Restcomm's behaviour)"
assert_eq "$(reqs /2222)" 2 "both transfers reached the Refer URL"
