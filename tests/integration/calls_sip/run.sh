# SIP behaviour of the back-to-back user agent on an established Dial
# bridge: the caller's session timer (Session-Expires: 120;refresher=uac)
# is honoured in our 200; a re-INVITE for hold (sendonly) is answered on
# the caller's leg (recvonly) and so is the one taking it off hold, without
# any re-INVITE reaching the callee; the callee's 180 reaches the caller;
# the BYE of one side reaches the other.
source ../calls_common/lib.sh
app_start
doc dial.xml '<Response><Dial><Number>+131313</Number></Dial></Response>'
make_number 1111 /dial.xml >/dev/null

scen uas_wait.xml callee RING=600
uas_start callee "$SB_AUX_PORT"
scen uac_hold.xml caller HOLD=500
uac caller 1111 || { show caller; show callee; fail "hold/unhold call"; }
pass "Session-Expires honoured, hold answered recvonly, unhold sendrecv"
uas_wait callee || { show callee; fail "the callee"; }
assert_eq "$(grep -c '^INVITE ' "$SB_TMP/callee.msg")" 1 "the callee saw no re-INVITE"
grep -q '^SIP/2.0 180' "$SB_TMP/caller.msg" || fail "the caller got 180 Ringing"
pass "the caller got 180 Ringing while the callee rang"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
