# The detour through one of our numbers, with no outbound proxy: number
# 6666 dials number 1111, whose application dials 3333. The INVITE for
# 1111 comes back to the server from its own address, with the Call-ID it
# chose for that leg: it is recognised as this server's own and takes the
# trust of the call that dialled it (docs/security.md): an authenticated
# Client's call stays trusted, an anonymous caller's stays untrusted.
source ../calls_common/lib.sh
T=$SB_TEST_DIR/../sip_toll_fraud   # its Client scenario (uac_auth_ok.xml)
app_start
doc detour.xml '<Response><Dial timeout="5"><Number>1111</Number></Dial></Response>'
doc hop.xml '<Response><Dial timeout="5"><Number>3333</Number></Dial></Response>'
doc end.xml '<Response><Say>Hello</Say><Hangup/></Response>'
make_number 6666 /detour.xml >/dev/null
make_number 1111 /hop.xml >/dev/null
make_number 3333 /end.xml >/dev/null
make_client alice Secret-Alice-1 >/dev/null

python3 "$CALLS_COMMON/scen.py" "$T/uac_auth_ok.xml" "$SB_TMP/alice.xml" LOGIN=alice \
  PASSWORD=Secret-Alice-1
uac alice 6666 -auth_uri "6666@127.0.0.1:$SB_SIP_PORT" \
  || { show alice; fail "alice through 6666, 1111 and 3333: answered, then BYE"; }
wait_eq 5 1 reqs /end.xml || fail "3333's application ran"
assert_log "call: alice -> 1111 .*this server, trusted" "the detour keeps an authenticated Client's trust"

scen uac_wait.xml anon
uac anon 6666 || { show anon; fail "an anonymous caller through 6666, 1111 and 3333"; }
wait_eq 5 2 reqs /end.xml || fail "3333's application ran again"
assert_log "call: bob -> 1111 .*this server, untrusted" "the detour keeps an anonymous caller untrusted"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
