# Toll fraud (issue 23): with no trusted peer configured, an anonymous
# caller may reach this server's numbers but never make it dial out.
#   - an anonymous INVITE to a number whose application dials an external
#     number: the Dial fails at once (DialCallStatus=failed), nothing
#     reaches the outbound proxy, a Notification (21215) says why;
#   - the same application may still dial a number this server serves;
#   - an INVITE whose From names a Client is challenged (407), a wrong
#     password gets 403, the right one makes a trusted call whose Dial
#     reaches the outbound proxy;
#   - a Dial to another account's Client reaches nobody;
#   - an account's automatic Client has no password until one is set:
#     the account's own password does not register it.
source ../calls_common/lib.sh
T=$SB_TEST_DIR
tscen() { local t=$1 n=$2; shift 2; python3 "$CALLS_COMMON/scen.py" "$T/$t" "$SB_TMP/$n.xml" "$@"; }

app_start
doc out.xml '<Response><Dial action="/after.xml" timeout="5"><Number>+442071234567</Number></Dial></Response>'
doc after.xml '<Response><Hangup/></Response>'
doc here.xml '<Response><Dial action="/after_here.xml" timeout="5"><Number>3333</Number></Dial></Response>'
doc after_here.xml '<Response><Hangup/></Response>'
doc answer.xml '<Response><Say>Hello</Say><Hangup/></Response>'
doc other.xml '<Response><Dial action="/after_other.xml" timeout="3"><Client>carol</Client></Dial></Response>'
doc after_other.xml '<Response><Hangup/></Response>'
make_number 1111 /out.xml >/dev/null
make_number 2222 /here.xml >/dev/null
make_number 3333 /answer.xml >/dev/null
make_number 4444 /other.xml >/dev/null
doc detour.xml '<Response><Dial action="/after_detour.xml" timeout="5"><Number>1111</Number></Dial></Response>'
doc after_detour.xml '<Response><Hangup/></Response>'
doc sipport.xml "<Response><Dial action=\"/after_sip.xml\" timeout=\"3\"><Sip>sip:+4420@127.0.0.1:$SB_AUX_PORT</Sip></Dial></Response>"
doc siproute.xml "<Response><Dial action=\"/after_sip.xml\" timeout=\"3\"><Sip>sip:x@127.0.0.1?Route=%3Csip:127.0.0.1:$SB_AUX_PORT%3Blr%3E</Sip></Dial></Response>"
doc after_sip.xml '<Response><Hangup/></Response>'
make_number 6666 /detour.xml >/dev/null
make_number 7777 /sipport.xml >/dev/null
make_number 8888 /siproute.xml >/dev/null
make_client alice Secret-Alice-1 >/dev/null

# Anything that reaches the outbound proxy is counted: a sipp UAS there
# (one call), whose message log must stay free of INVITEs until the
# authenticated call.
scen uas_bye.xml proxy RING=200 HOLD=500
uas_start proxy "$SB_AUX_PORT"

# ---- an anonymous caller: the Dial out is refused ---------------------------
scen uac_expect.xml anon CODE=480
uac anon 1111 || { show anon; fail "anonymous caller: the failed Dial's action hangs up (480)"; }
wait_eq 5 1 reqs /after.xml || fail "the Dial action runs"
assert_eq "$(param /after.xml DialCallStatus)" failed "DialCallStatus=failed for the anonymous caller"
sid=$(param /out.xml CallSid)
n=$(sql "SELECT count(*) FROM notifications WHERE call_sid='$sid' AND error_code=21215")
assert_eq "$n" 1 "a Notification (21215) records the refused Dial"
grep -q "INVITE sip:+442071234567" "$SB_TMP/proxy.msg" 2>/dev/null \
  && fail "an anonymous caller made the server dial through the outbound proxy"
pass "nothing reached the outbound proxy"
assert_log "dial: \+442071234567 refused: the call is not from an authenticated Client" \
  "the refusal is logged"

# ---- an anonymous caller may still reach a number of this server ------------
scen uac_wait.xml anon_here
uac anon_here 2222 || { show anon_here; fail "anonymous caller reaches number 3333 through number 2222"; }
wait_eq 5 1 reqs /after_here.xml || fail "the Dial action runs"
assert_eq "$(param /after_here.xml DialCallStatus)" completed "a number this server serves is dialled for an anonymous caller"
assert_eq "$(reqs /answer.xml)" 1 "number 3333's application ran"
grep -q "INVITE sip:3333" "$SB_TMP/proxy.msg" 2>/dev/null \
  && fail "the internal number went through the outbound proxy"
pass "the internal number was reached without the outbound proxy"

# ---- nor by a SIP URI that only looks like ours ------------------------------
for n in 7777 8888; do
  scen uac_expect.xml anon_sip$n CODE=480
  uac anon_sip$n $n || { show anon_sip$n; fail "anonymous caller to $n: the <Sip> Dial is refused (480)"; }
  assert_eq "$(param /after_sip.xml DialCallStatus)" failed "$n: DialCallStatus=failed"
done
grep -q "^INVITE" "$SB_TMP/proxy.msg" 2>/dev/null \
  && fail "a <Sip> URI on our host with another port, or with a Route header, left the server"
pass "<Sip> URIs on our host but another port (or the default one, not ours) are refused"

# ---- nor by a detour through one of our numbers ------------------------------
scen uac_expect.xml anon_detour CODE=480
uac anon_detour 6666 || { show anon_detour; fail "anonymous caller to 6666 (dials 1111): 480"; }
wait_eq 5 2 reqs /after.xml || fail "1111's Dial action runs for the detour"
assert_eq "$(param /after.xml DialCallStatus)" failed "the detour's Dial out is refused"
assert_log "call: bob -> 1111 .*this server, untrusted" "the detour is known as this server's own, untrusted"
grep -q "^INVITE" "$SB_TMP/proxy.msg" 2>/dev/null && fail "the detour made the server dial out"
pass "an anonymous caller gains nothing by dialling a number whose application dials out"

# ---- a From that names a Client must prove it -------------------------------
scen uac_expect.xml claim CODE=407 "CONTACT=Contact: <sip:alice@[local_ip]:[local_port]>"
sed -i 's/<sip:bob@\[local_ip\]:\[local_port\]>;tag/<sip:alice@[local_ip]:[local_port]>;tag/' "$SB_TMP/claim.xml"
before=$(reqs /out.xml)
uac claim 1111 || { show claim; fail "INVITE From alice without credentials: 407"; }
grep -q "^Proxy-Authenticate: Digest .*realm=" "$SB_TMP/claim.msg" \
  || fail "the 407 carries a Proxy-Authenticate challenge"
pass "an INVITE claiming a Client is challenged (407 Proxy-Authenticate)"
assert_eq "$(reqs /out.xml)" "$before" "the unauthenticated claim ran no application"

# sipp signs "sip:IP:PORT" unless told the Request-URI, as phones sign.
AUTHURI=1111@127.0.0.1:$SB_SIP_PORT   # sipp adds "sip:"
tscen uac_auth_refused.xml wrongpw CODE=403 LOGIN=alice PASSWORD=wrong-password
uac wrongpw 1111 -auth_uri "$AUTHURI" \
  || { show wrongpw; fail "INVITE with a wrong password: 403"; }
pass "a wrong password gets 403"
assert_log "sip: INVITE for alice from 127.0.0.1:[0-9]+ refused: wrong password" \
  "the failed INVITE authentication is logged"

tscen uac_auth_ok.xml alice LOGIN=alice PASSWORD=Secret-Alice-1
uac alice 1111 -auth_uri "$AUTHURI" \
  || { show alice; show proxy; fail "alice authenticates: the Dial reaches the proxy, then BYE"; }
uas_wait proxy || { show proxy; fail "the outbound proxy got alice's call"; }
grep -q "INVITE sip:+442071234567@127.0.0.1" "$SB_TMP/proxy.msg" \
  || fail "alice's call dialled the number through the outbound proxy"
pass "an authenticated Client's call dials out"
assert_eq "$(param /after.xml DialCallStatus)" completed "alice's Dial completed"
assert_log "call: alice -> 1111 .*authenticated Client" "the call is logged as an authenticated Client's"


# ---- another account's Client -----------------------------------------------
req POST "/Accounts.json" "${admin[@]}" --data-urlencode "EmailAddress=carol@example.com" \
  --data-urlencode "Password=Carol-Account-Pw1"
[ "$RS" = 201 ] || [ "$RS" = 200 ] || fail "create carol's account: $RS $RB"
CAROL_AC=$(jq_py 'd["sid"]')
# carol@ gets the automatic Client "carol", without a password.
assert_eq "$(sql "SELECT account_sid FROM clients WHERE login='carol'")" "$CAROL_AC" \
  "the new account has its automatic Client"
read -r CPORT < <(ports 1)
python3 "$CALLS_COMMON/register.py" carol Carol-Account-Pw1 "$CPORT" 2>"$SB_TMP/reg.err" \
  && fail "the automatic Client registered with the account's password"
pass "the account's password does not register its automatic Client"
req POST "/Accounts/$CAROL_AC/Clients/$(sql "SELECT sid FROM clients WHERE login='carol'").json" \
  -u "carol@example.com:Carol-Account-Pw1" -d "Password=Carol-Sip-Pw-22"
[ "$RS" = 200 ] || fail "set the automatic Client's password: $RS $RB"
python3 "$CALLS_COMMON/register.py" carol Carol-Sip-Pw-22 "$CPORT" \
  || fail "the automatic Client registers once its own password is set"
pass "the automatic Client registers with the password set for it"

scen uas_bye.xml carol RING=200 HOLD=500
uas_start carol "$CPORT"
scen uac_expect.xml other CODE=480
uac other 4444 || { show other; fail "a Dial to another account's Client fails (480 to the caller)"; }
wait_eq 5 1 reqs /after_other.xml || fail "the Dial action runs"
assert_eq "$(param /after_other.xml DialCallStatus)" failed "DialCallStatus=failed"
sleep 0.5
grep -q "^INVITE" "$SB_TMP/carol.msg" 2>/dev/null && fail "another account's Client was dialled"
pass "another account's Client was not dialled"
kill "${SIPP_PIDS[carol]}" 2>/dev/null; unset "SIPP_PIDS[carol]"

wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
