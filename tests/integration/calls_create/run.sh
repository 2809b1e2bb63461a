# Calls created over REST (POST Calls): a sipp callee behind the outbound
# proxy answers, is busy, never answers, or refuses; the Url is fetched
# only at the answer with Direction=outbound-api; every status callback
# event arrives in order with the final status; custom X- headers reach
# the INVITE; Status=canceled before the answer CANCELs the INVITE and
# Status=completed mid-call sends BYE; bad input gets Restcomm's 400s, an
# unknown Client 400, a burst beyond calls.api_rate 429.
source ../calls_common/lib.sh
app_start
doc talk.xml '<Response><Pause length="20"/></Response>'
B="/Accounts/$ADMIN_SID"
events=(-d StatusCallbackEvent=initiated,ringing,answered,completed)

# create NAME TO [curl args]: POST Calls; sets SID.
create() {
  local name=$1 to=$2; shift 2
  req POST "$B/Calls.json" "${admin[@]}" --data-urlencode From=+15551234 --data-urlencode "To=$to" \
    --data-urlencode "Url=$APP/talk.xml" \
    --data-urlencode "StatusCallback=$APP/cb/$name" "$@"
  expect 201 "$name: created"
  SID=$(jq_py 'd["sid"]')
}
call_status() { cdr "$1" status; }
# events_of NAME: CallStatus of every status callback to /cb/NAME, in order.
events_of() {
  python3 - "$HTTP_LOG" "/cb/$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r["params"] for r in rows if r["path"] == sys.argv[2]]
rows.sort(key=lambda p: int(p.get("SequenceNumber", -1)))
print(" ".join("%s:%s" % (p["SequenceNumber"], p["CallStatus"]) for p in rows))
PY
}

# ---- answered, the callee hangs up ---------------------------------------
scen uas_bye.xml answer RING=2000 HOLD=1500 USER=+15550001
uas_start answer "$SB_AUX_PORT"
create answer '+15550001?X-Campaign=spring%20sale&X-Id=42' "${events[@]}"
fetched_early=$(reqs /talk.xml)
assert_eq "$(jq_py 'd["status"]')" queued "created as queued"
assert_eq "$(jq_py 'd["direction"]')" outbound-api "direction outbound-api"
assert_eq "$(jq_py 'd["to"]')" +15550001 "To is the number"
assert_eq "$(jq_py 'd["from"]')" +15551234 "From is the caller ID"
assert_eq "$(jq_py 'd["uri"].endswith(d["sid"] + ".json")')" true "its Uri"
answer_sid=$SID
assert_eq "$fetched_early" 0 "the Url is not fetched before the answer"
wait_eq 10 1 reqs /talk.xml || fail "the Url was fetched at the answer"
assert_eq "$(param /talk.xml CallSid)" "$answer_sid" "Url request: CallSid"
assert_eq "$(param /talk.xml Direction)" outbound-api "Url request: Direction=outbound-api"
assert_eq "$(param /talk.xml CallStatus)" in-progress "Url request: CallStatus=in-progress"
assert_eq "$(param /talk.xml To)" +15550001 "Url request: To"
assert_eq "$(param /talk.xml From)" +15551234 "Url request: From"
uas_wait answer || { show answer; fail "the callee"; }
wait_eq 10 completed call_status "$answer_sid" || fail "answered call completed"
grep -q "^INVITE sip:+15550001@127.0.0.1:$SB_AUX_PORT" "$SB_TMP/answer.msg" ||
  fail "the INVITE goes to the number at the outbound proxy"
grep -q "^X-Campaign: spring sale" "$SB_TMP/answer.msg" || fail "X-Campaign header"
grep -q "^X-Id: 42" "$SB_TMP/answer.msg" || fail "X-Id header"
pass "custom X- headers reach the INVITE"
wait_eq 5 "0:initiated 1:ringing 2:answered 3:completed" events_of answer ||
  fail "status callbacks: $(events_of answer)"
pass "status callbacks initiated, ringing, answered, completed in order"
python3 - "$HTTP_LOG" <<'PY' || fail "status callback parameters"
import json, sys
rows = [json.loads(l)["params"] for l in open(sys.argv[1])
        if json.loads(l)["path"] == "/cb/answer"]
for p in rows:
    assert p["Direction"] == "outbound-api", p
    assert p["CallbackSource"] == "call-progress-events", p
    assert ("CallDuration" in p) == (p["CallStatus"] == "completed"), p
done = [p for p in rows if p["CallStatus"] == "completed"][0]
assert int(done["CallDuration"]) >= 1, done
PY
pass "callbacks: Direction, CallbackSource, CallDuration on completed only"
[ "$(cdr "$answer_sid" duration)" -ge 1 ] || fail "the record has the talk time"

# ---- busy, refused, no answer --------------------------------------------
scen uas_code.xml busy CODE=486 RING=200 USER=+15550002
uas_start busy "$SB_AUX_PORT"
create busy +15550002
busy_sid=$SID
uas_wait busy || { show busy; fail "busy callee"; }
wait_eq 5 busy call_status "$busy_sid" || fail "486: busy ($(call_status "$busy_sid"))"
wait_eq 5 "0:busy" events_of busy || fail "busy: callback $(events_of busy)"
pass "486 ends the call busy, its callback says busy"
assert_eq "$(reqs /talk.xml)" 1 "no Url request for a call never answered"

scen uas_code.xml refused CODE=503 RING=100 USER=+15550003
uas_start refused "$SB_AUX_PORT"
create refused +15550003
refused_sid=$SID
uas_wait refused || { show refused; fail "refusing callee"; }
wait_eq 5 failed call_status "$refused_sid" || fail "503: failed"

scen uas_noanswer.xml noans USER=+15550004
uas_start noans "$SB_AUX_PORT"
create noans +15550004 -d Timeout=2
noans_sid=$SID
uas_wait noans || { show noans; fail "the callee that never answers got CANCEL"; }
wait_eq 5 no-answer call_status "$noans_sid" || fail "Timeout: no-answer"
pass "Timeout=2: CANCEL and no-answer"

# ---- Status=canceled before the answer, completed mid-call ---------------
scen uas_noanswer.xml cancel USER=+15550005
uas_start cancel "$SB_AUX_PORT"
create cancel +15550005
cancel_sid=$SID
wait_eq 5 ringing call_status "$cancel_sid" || fail "ringing"
req POST "$B/Calls/$cancel_sid.json" "${admin[@]}" -d Status=canceled
expect 200 "Status=canceled"
uas_wait cancel || { show cancel; fail "the INVITE was CANCELled"; }
wait_eq 5 canceled call_status "$cancel_sid" || fail "canceled"

scen uas_wait.xml hang USER=+15550006 RING=100
uas_start hang "$SB_AUX_PORT"
create hang +15550006
hang_sid=$SID
wait_eq 5 in-progress call_status "$hang_sid" || fail "in progress"
req POST "$B/Calls/$hang_sid.json" "${admin[@]}" -d Status=canceled
expect 200 "Status=canceled on an answered call changes nothing"
sleep 0.3
assert_eq "$(call_status "$hang_sid")" in-progress "still in progress"
req POST "$B/Calls/$hang_sid.json" "${admin[@]}" -d Status=completed
expect 200 "Status=completed"
uas_wait hang || { show hang; fail "the callee got BYE"; }
wait_eq 5 completed call_status "$hang_sid" || fail "completed"
req POST "$B/Calls/$hang_sid.json" "${admin[@]}" -d Status=completed
expect 410 "a finished call"
assert_contains "$RB" "Call is already completed" "410's message"

# ---- a Client with two contacts: both ring, the first to answer wins -------
make_client erin Erin-Secret-77 >/dev/null
read -r P1 P2 PS < <(ports 3)
python3 "$CALLS_COMMON/register.py" erin Erin-Secret-77 "$P1" || fail "register contact 1"
python3 "$CALLS_COMMON/register.py" erin Erin-Secret-77 "$P2" || fail "register contact 2"
scen uas_bye.xml winner RING=500 HOLD=800 USER=erin
scen uas_noanswer.xml loser USER=erin
uas_start winner "$P1"
uas_start loser "$P2"
create erin client:erin
erin_sid=$SID
uas_wait winner || { show winner; fail "the first contact answered"; }
uas_wait loser || { show loser; fail "the other contact got CANCEL"; }
wait_eq 5 completed call_status "$erin_sid" || fail "the Client's call completed"
assert_eq "$(sqlite3 "$SB_DB" "SELECT count(*) FROM calls WHERE recipient = 'erin'")" 1 \
  "one call record for the forked Client"
grep -q "^To: <sip:erin@" "$SB_TMP/winner.msg" || fail "To is the Client's address of record"
pass "client:erin rings every contact; the first answer wins, the other is cancelled"

# ---- a SIP URI that challenges: Username and Password answer it -------------
scen uas_auth.xml auth LOGIN=trunk PASSWORD=Trunk-Pw-9
uas_start auth "$PS"
create auth "sip:+15550008@127.0.0.1:$PS" -d Username=trunk -d Password=Trunk-Pw-9
auth_sid=$SID
wait_eq 5 in-progress call_status "$auth_sid" || { show auth; fail "the digest was accepted"; }
req POST "$B/Calls/$auth_sid.json" "${admin[@]}" -d Status=completed
uas_wait auth || { show auth; fail "the challenging callee"; }
pass "a SIP URI target with digest credentials"

# ---- ApplicationSid instead of Url (Twilio's) --------------------------------
req POST "$B/Applications.json" "${admin[@]}" -d FriendlyName=reminder \
  --data-urlencode "RcmlUrl=$APP/appdoc.xml"
AP=$(jq_py 'd["sid"]')
doc appdoc.xml '<Response><Pause length="20"/></Response>'
scen uas_wait.xml app USER=+15550009 RING=100
uas_start app "$SB_AUX_PORT"
req POST "$B/Calls.json" "${admin[@]}" --data-urlencode From=+15551234 \
  --data-urlencode To=+15550009 -d "ApplicationSid=$AP"
expect 201 "a call with ApplicationSid and no Url"
app_sid=$(jq_py 'd["sid"]')
wait_eq 10 1 reqs /appdoc.xml || fail "the application's RcmlUrl is fetched at the answer"
assert_eq "$(param /appdoc.xml CallSid)" "$app_sid" "for that call"
req POST "$B/Calls/$app_sid.json" "${admin[@]}" -d Status=completed
uas_wait app || { show app; fail "the application's callee"; }
req POST "$B/Calls.json" "${admin[@]}" -d From=1 -d To=2 -d ApplicationSid=AP00000000000000000000000000000000
expect 400 "an ApplicationSid that is not the account's"

# ---- a Client with no registration; bad input ------------------------------
make_client dora Dora-Secret-Pw1 >/dev/null
create dora client:dora
wait_eq 5 failed call_status "$SID" || fail "an unregistered Client: failed"
for p in From To Url; do
  args=(-d From=1 -d To=2 --data-urlencode "Url=$APP/talk.xml")
  case $p in From) args[1]=Z=1 ;; To) args[3]=Z=2 ;; Url) args[5]=Z=3 ;; esac
  req POST "$B/Calls.json" "${admin[@]}" "${args[@]}"
  expect 400 "without $p"
  assert_contains "$RB" "$p can not be null." "Restcomm's message for $p"
done
bad() {
  local what=$1; shift
  req POST "$B/Calls.json" "${admin[@]}" -d From=1 "$@"
  expect 400 "$what"
}
bad "a Url that is not http" -d To=2 -d Url=ftp://x/y
bad "Timeout out of range" -d To=2 --data-urlencode "Url=$APP/talk.xml" -d Timeout=0
bad "Timeout not a number" -d To=2 --data-urlencode "Url=$APP/talk.xml" -d Timeout=ten
bad "a To that is no target" --data-urlencode "To=<sip:x>" --data-urlencode "Url=$APP/talk.xml"
bad "a header that is not X-" --data-urlencode "To=2?Via=x" --data-urlencode "Url=$APP/talk.xml"
bad "an unknown Client" -d To=client:nobody --data-urlencode "Url=$APP/talk.xml"
assert_contains "$RB" "client:nobody is not a Client" "says which Client"
bad "an unknown event" -d To=2 --data-urlencode "Url=$APP/talk.xml" -d StatusCallbackEvent=sometimes
req POST "$B/Calls/CA00000000000000000000000000000000.json" "${admin[@]}" -d Status=completed
expect 404 "an unknown call"

# Another account cannot touch this account's call, nor learn it exists.
req POST "/Accounts.json" "${admin[@]}" -d EmailAddress=other@example.com \
  -d Password=Other-Account-Pw1
other=$(jq_py 'd["sid"]')
scen uas_wait.xml iso USER=+15550007 RING=100
uas_start iso "$SB_AUX_PORT"
create iso +15550007
iso_sid=$SID
wait_eq 5 in-progress call_status "$iso_sid" || fail "in progress"
req POST "/Accounts/$other/Calls/$iso_sid.json" -u "other@example.com:Other-Account-Pw1" \
  -d Status=completed
expect 404 "another account's call is not found"
assert_eq "$(call_status "$iso_sid")" in-progress "and goes on"
req POST "$B/Calls/$iso_sid.json" "${admin[@]}" -d Status=completed
uas_wait iso || { show iso; fail "iso callee"; }

# A burst beyond calls.api_rate (4 per second) is refused with 429.
codes=""
for i in 1 2 3 4 5 6; do
  req POST "$B/Calls.json" "${admin[@]}" -d From=1 -d To=client:dora \
    --data-urlencode "Url=$APP/talk.xml"
  codes="$codes $RS"
  [ "$RS" = 429 ] && retry=$(header Retry-After)
done
assert_contains "$codes" 429 "a burst gets 429 ($codes)"
assert_contains "$codes" 201 "within the rate calls are created ($codes)"
assert_eq "${retry:-}" 1 "429 says Retry-After: 1"
wait_eq 10 0 live_calls || fail "every call is over"
