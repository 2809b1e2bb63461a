# REFER refused, and the number lookup of a transfer (restcomm.md 6,
# scenarios 5 to 10): the catch-all number's Refer URL; the +/no-+
# variant; a number without Refer URL (403 with Reason, no request, the
# call goes on); a REFER outside any dialog (404, "should be sent in
# dialog"); a REFER with a To tag nobody has (481: the stack's answer for
# an unknown dialog, more correct than Restcomm's 404); a target that
# cannot be reached (202, then both sides BYE'd once the Refer
# application's Dial fails); a Refer-To that is not a SIP URI (400).
source ../calls_common/lib.sh
app_start
doc 1111 '<Response><Dial><Number>+131313</Number></Dial></Response>'
doc 1112 '<Response><Dial><Number>+131313</Number></Dial></Response>'
doc gottacatchemall '<Response><Dial><Number>+131313</Number></Dial></Response>'
doc 2222 '<Response><Dial><Client>{{ReferTarget}}</Client></Dial></Response>'
R=(--data-urlencode "ReferUrl=$APP/2222" -d ReferMethod=GET -d VoiceMethod=GET)
make_number 1111 /1111 "${R[@]}" >/dev/null
make_number +1112 /1112 "${R[@]}" >/dev/null
make_number '*' /gottacatchemall "${R[@]}" >/dev/null
make_number 1212 /1111 -d VoiceMethod=GET >/dev/null
make_client alice Alice-Secret-77 >/dev/null
read -r PA < <(ports 1)
python3 "$CALLS_COMMON/register.py" alice Alice-Secret-77 "$PA" || fail "alice registers"
TARGET="sip:alice@127.0.0.1:$SB_SIP_PORT"

transfer_to_alice() { # NUMBER TAG
  scen uas_refer.xml "george$2" CODE=202 HOLD=600 "TARGET=$TARGET"
  scen uas_bye.xml "alice$2" USER=alice RING=200 HOLD=600
  scen uac_wait.xml "bob$2"
  uas_start "george$2" "$SB_AUX_PORT"
  uas_start "alice$2" "$PA"
  uac "bob$2" "$1" || { show "bob$2"; show "george$2"; fail "bob ($2)"; }
  uas_wait "george$2" || { show "george$2"; fail "george ($2)"; }
  uas_wait "alice$2" || { show "alice$2"; fail "alice ($2)"; }
}

# ---- 5: the catch-all number ------------------------------------------------------
transfer_to_alice 0545 5
assert_eq "$(reqs /gottacatchemall)" 1 "0545 reaches the catch-all number"
assert_eq "$(reqs /2222)" 1 "the transfer uses the catch-all number's Refer URL"

# ---- 6: the + variant ---------------------------------------------------------------
transfer_to_alice 1112 6
assert_eq "$(reqs /1112)" 1 "1112 reaches +1112"
assert_eq "$(reqs /2222)" 2 "the transfer uses +1112's Refer URL"

# ---- 7: a number without Refer URL -----------------------------------------------------
scen uas_refer_refused.xml george7 CODE=403 HOLD=600 "TARGET=$TARGET" \
  "REASON=Set Refer URL or Refer application" GRACE=3000
scen uac_bye.xml bob7 HOLD=4500
uas_start george7 "$SB_AUX_PORT"
uac bob7 1212 || { show bob7; fail "bob (7)"; }
uas_wait george7 || { show george7; fail "george: 403 with Reason, no BYE for 3 s, then BYE"; }
pass "no Refer URL: 403 (Event: refer, Reason), the call goes on until bob hangs up"
assert_eq "$(reqs /2222)" 2 "no Refer URL request for 1212"

# ---- 8, 9: REFER outside a dialog, and in an unknown dialog ----------------------------------
out=$(python3 "$CALLS_COMMON/sipraw.py" refer-out)
assert_contains "$out" "404|" "a REFER outside any dialog is answered 404"
assert_contains "$out" "should be sent in dialog" "... with Restcomm's Reason text"
assert_contains "$out" "|refer" "... and Event: refer"
out=$(python3 "$CALLS_COMMON/sipraw.py" refer-unknown)
assert_contains "$out" "481|" "a REFER in an unknown dialog is answered 481"

# ---- 10: a target nobody can reach --------------------------------------------------------
scen uas_refer.xml george10 CODE=202 HOLD=600 "TARGET=sip:joe@127.0.0.1:$SB_SIP_PORT"
scen uac_wait.xml bob10 TIMEOUT=8000
uas_start george10 "$SB_AUX_PORT"
uac bob10 1111 || { show bob10; fail "bob gets BYE when the transfer target cannot be reached"; }
uas_wait george10 || { show george10; fail "george (10)"; }
pass "unreachable target: 202 and BYE to george, then BYE to bob"
assert_eq "$(param /2222 ReferTarget)" joe "the Refer URL got ReferTarget=joe"

# ---- Refer-To not a SIP URI -----------------------------------------------------------------------
scen uas_refer_refused.xml george11 CODE=400 HOLD=600 TARGET=tel:+15550100 \
  "REASON=not a SIP URI" GRACE=1500
scen uac_bye.xml bob11 HOLD=3000
uas_start george11 "$SB_AUX_PORT"
uac bob11 1111 || { show bob11; fail "bob (tel: Refer-To)"; }
uas_wait george11 || { show george11; fail "a tel: Refer-To is answered 400"; }
pass "a Refer-To that is not a SIP URI is answered 400"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
