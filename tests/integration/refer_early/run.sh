# REFER before answer (restcomm.md 6, scenario 16): george rings (an early
# dialog) and sends REFER in it before he answers. The transferor's call
# is not in progress, so the transfer is refused with the Reason Restcomm
# gives ("pre-conditions failed") - 403, not Restcomm's 404, since a 404
# would end the dialog (docs/transfer.md) - and the call goes on: george
# answers afterwards and the call lasts until bob hangs up. The number's
# Refer URL is never fetched.
source ../calls_common/lib.sh
app_start
doc 1111 '<Response><Dial><Number>+131313</Number></Dial></Response>'
doc 2222 '<Response><Dial><Client>{{ReferTarget}}</Client></Dial></Response>'
make_number 1111 /1111 --data-urlencode "ReferUrl=$APP/2222" -d ReferMethod=GET \
  -d VoiceMethod=GET >/dev/null

scen uas_refer_early.xml george CODE=403 RING=500 TIMEOUT=10000 \
  "TARGET=sip:alice@127.0.0.1:$SB_SIP_PORT" "REASON=pre-conditions failed"
scen uac_bye.xml bob HOLD=1500
uas_start george "$SB_AUX_PORT"
uac bob 1111 || { show bob; show george; fail "bob: the call goes on after the refused REFER"; }
uas_wait george || { show george; fail "george: 403 (Event: refer, Reason) to the early REFER, then answer and BYE"; }
pass "REFER before answer: 403 with Reason 'pre-conditions failed'; the call goes on"
assert_eq "$(reqs /2222)" 0 "no Refer URL request"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
