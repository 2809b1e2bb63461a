# Peer-to-peer calls: the Client bob dials the login "carol" (no number
# of that name); the server rings carol's registered contact, bridges the
# two when she answers (both legs recorded, media through the server)
# and passes her BYE on; a busy carol gives bob 486; an unregistered
# Client 480; a Client of another account, or a caller that is no
# Client, still 404 (no number).
source ../calls_common/lib.sh
make_client bob Bob-Secret-88 >/dev/null
make_client carol Carol-Secret-77 >/dev/null
make_client dave Dave-Secret-66 >/dev/null
read -r PC < <(ports 1)
python3 "$CALLS_COMMON/register.py" carol Carol-Secret-77 "$PC" || fail "carol registers"

scen uas_bye.xml carol RING=300 HOLD=1500 USER=carol
uas_start carol "$PC"
scen uac_wait.xml bob
uac bob carol || { show bob; show carol; fail "bob: answered by carol, then BYE"; }
uas_wait carol || { show carol; fail "carol answered and hung up"; }
pass "bob reached carol by her login; her BYE reached him"
grep -q "^To: <sip:carol@" "$SB_TMP/carol.msg" || fail "carol's INVITE is To her address of record"
parent=$(cdr_where "recipient = 'carol' AND direction = 'inbound'" sid)
[ -n "$parent" ] || fail "bob's call is recorded (inbound, To carol)"
assert_eq "$(cdr "$parent" status)" completed "bob's call completed"
assert_eq "$(cdr_where "parent_call_sid = '$parent'" status)" completed "carol's leg completed"
assert_eq "$(cdr_where "parent_call_sid = '$parent'" direction)" outbound-dial "carol's leg is a dialled leg"

scen uas_code.xml busy CODE=486 RING=200 USER=carol
uas_start busy "$PC"
scen uac_expect.xml bob486 CODE=486
uac bob486 carol || { show bob486; fail "a busy carol: 486 to bob"; }
uas_wait busy || { show busy; fail "busy carol"; }

scen uac_expect.xml bob480 CODE=480
uac bob480 dave || { show bob480; fail "an unregistered Client: 480"; }

req POST "/Accounts.json" "${admin[@]}" -d EmailAddress=other@example.com \
  -d Password=Other-Account-Pw1
other=$(jq_py 'd["sid"]')
req POST "/Accounts/$other/Clients.json" -u "other@example.com:Other-Account-Pw1" \
  -d Login=erin -d Password=Erin-Secret-55
expect 200 "a Client of another account"
scen uac_expect.xml bob404 CODE=404
uac bob404 erin || { show bob404; fail "a Client of another account: 404"; }
wait_eq 5 0 live_calls || fail "every call is over"
