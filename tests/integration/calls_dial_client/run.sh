# <Dial><Client>: alice has two registered contacts (two sipp UAS, each
# registered from its own port first). Both ring; the first answers and
# wins, the other gets CANCEL. When the winner hangs up, the Dial action
# reports completed; the records show one completed leg and one canceled.
source ../calls_common/lib.sh
app_start
doc client.xml '<Response><Dial action="/after.xml" timeout="10"><Client>alice</Client></Dial></Response>'
doc after.xml '<Response><Hangup/></Response>'
make_number 3333 /client.xml >/dev/null
make_client alice Alice-Secret-77 >/dev/null

read -r P1 P2 < <(ports 2)
python3 "$CALLS_COMMON/register.py" alice Alice-Secret-77 "$P1" || fail "register contact 1"
python3 "$CALLS_COMMON/register.py" alice Alice-Secret-77 "$P2" || fail "register contact 2"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM registrations WHERE login = 'alice'")" 2 \
  "alice has two contacts"

scen uas_bye.xml winner RING=700 HOLD=1500 USER=alice
scen uas_noanswer.xml loser USER=alice
uas_start winner "$P1"
uas_start loser "$P2"
scen uac_wait.xml caller
uac caller 3333 || { show caller; show winner; show loser; fail "caller: answered, then BYE"; }
pass "the caller is bridged to the contact that answered"
uas_wait winner || { show winner; fail "winner: INVITE, answer, BYE"; }
pass "the first contact answered and hung up"
uas_wait loser || { show loser; fail "loser: INVITE, then CANCEL"; }
pass "the other contact got CANCEL when the first answered"
grep -q "^INVITE sip:alice@127.0.0.1:$P1" "$SB_TMP/winner.msg" \
  || fail "the INVITE's Request-URI is the registered contact"
pass "the INVITE goes to the registered contact URI"

parent=$(param /client.xml CallSid)
assert_eq "$(param /after.xml DialCallStatus)" completed "DialCallStatus=completed"
child=$(param /after.xml DialCallSid)
assert_eq "$(cdr "$child" status)" completed "the winning leg is completed"
assert_eq "$(cdr "$child" recipient)" alice "the leg's To is the client"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM calls WHERE parent_call_sid = '$parent'")" 2 \
  "two legs were dialled"
assert_eq "$(sqlite3 "$SB_DB" "SELECT status FROM calls WHERE parent_call_sid = '$parent' AND sid != '$child'")" \
  canceled "the losing leg is canceled"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
