# The recovery REFER handler of examples/transfer-recovery, loaded in
# front of the shipped plugins: george (the callee of bob's call) transfers
# bob to carol.
#   carol busy: george gets 202, NOTIFY 100, NOTIFY 486 (terminated) and
#     no BYE; bob and george are connected again until bob hangs up;
#   carol never answers: the same with 480 once the handler's 2 s timeout
#     CANCELs carol;
#   carol answers: NOTIFY 200 and BYE to george; bob talks to carol until
#     carol hangs up, then bob gets BYE.
source ../calls_common/lib.sh
app_start
doc 1111 '<Response><Dial><Number>+131313</Number></Dial></Response>'
make_number 1111 /1111 -d VoiceMethod=GET >/dev/null
make_client carol Carol-Secret-77 >/dev/null
read -r PC < <(ports 1)
python3 "$CALLS_COMMON/register.py" carol Carol-Secret-77 "$PC" || fail "carol registers"
root=$(cd "$IT_DIR/../.." && pwd)
stop_server
cat >>"$SB_CONF" <<CONF
plugins.paths = { "$root/examples/transfer-recovery/plugins", "$root/plugins" }
plugins.options = { refer_recovery = { timeout = 2, kind = "client" } }
CONF
start_server || fail "restart with the recovery handler"
TARGET="sip:carol@127.0.0.1:$SB_SIP_PORT"

# ---- carol busy ---------------------------------------------------------------------
scen uas_refer_recover.xml george1 CODE=202 HOLD=600 "TARGET=$TARGET" FINAL=486 GRACE=2500
scen uas_code.xml carol1 USER=carol CODE=486 RING=300
scen uac_bye.xml bob1 HOLD=5000
uas_start george1 "$SB_AUX_PORT"
uas_start carol1 "$PC"
uac bob1 1111 || { show bob1; show george1; fail "bob (busy target)"; }
uas_wait carol1 || { show carol1; fail "carol busy"; }
uas_wait george1 || { show george1; fail "george: NOTIFY 486, no BYE, reconnected, then BYE"; }
pass "busy target: NOTIFY 486 to the transferor, who stays connected to bob"
assert_log "bridged to" "the transferee was bridged back to the transferor"

# ---- carol never answers -------------------------------------------------------------------
scen uas_refer_recover.xml george2 CODE=202 HOLD=600 "TARGET=$TARGET" FINAL=480 GRACE=2000
scen uas_noanswer.xml carol2 USER=carol
scen uac_bye.xml bob2 HOLD=6000
uas_start george2 "$SB_AUX_PORT"
uas_start carol2 "$PC"
uac bob2 1111 || { show bob2; show george2; fail "bob (no answer)"; }
uas_wait carol2 || { show carol2; fail "carol gets CANCEL after the handler's timeout"; }
uas_wait george2 || { show george2; fail "george: NOTIFY 480, no BYE, reconnected, then BYE"; }
pass "target not answering: CANCEL after 2 s, NOTIFY 480, transferor reconnected"

# ---- carol answers --------------------------------------------------------------------------
scen uas_refer.xml george3 CODE=202 HOLD=600 "TARGET=$TARGET"
scen uas_bye.xml carol3 USER=carol RING=300 HOLD=1500
scen uac_wait.xml bob3
uas_start george3 "$SB_AUX_PORT"
uas_start carol3 "$PC"
uac bob3 1111 || { show bob3; show george3; fail "bob (answered)"; }
uas_wait george3 || { show george3; fail "george: NOTIFY 200 and BYE"; }
uas_wait carol3 || { show carol3; fail "carol answers and hangs up"; }
pass "target answers: NOTIFY 200, BYE to the transferor; carol's BYE reaches bob"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
