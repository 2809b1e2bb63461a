# Status callbacks (restcomm.md 3.2): a <Number> with statusCallback and
# statusCallbackEvent="initiated ringing answered completed" makes four
# requests for the dialled leg, SequenceNumber 0..3, CallbackSource
# call-progress-events, ParentCallSid, CallDuration only on completed;
# without statusCallbackEvent only "completed" is sent; the number's own
# StatusCallback is requested when the inbound call ends.
source ../calls_common/lib.sh
app_start
doc dial.xml '<Response><Dial><Number statusCallback="/cb/status" statusCallbackMethod="POST" statusCallbackEvent="initiated ringing answered completed">+131313</Number></Dial></Response>'
doc dial2.xml '<Response><Dial><Number statusCallback="/cb/only">+131313</Number></Dial></Response>'
make_number 1111 /dial.xml >/dev/null
make_number 2222 /dial2.xml --data-urlencode "StatusCallback=$APP/cb/number" >/dev/null

scen uas_bye.xml callee RING=600 HOLD=1200
uas_start callee "$SB_AUX_PORT"
scen uac_wait.xml caller
uac caller 1111 || { show caller; fail "the call"; }
uas_wait callee || { show callee; fail "the callee"; }
parent=$(param /dial.xml CallSid)
wait_eq 5 4 reqs /cb/status || fail "four status callbacks ($(reqs /cb/status))"
pass "four status callbacks for the dialled leg"
python3 - "$HTTP_LOG" "$parent" <<'PY' || fail "status callback parameters"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
rows = [r for r in rows if r["path"] == "/cb/status"]
rows.sort(key=lambda r: int(r["params"]["SequenceNumber"]))
want = ["initiated", "ringing", "answered", "completed"]
for i, r in enumerate(rows):
    p = r["params"]
    assert r["method"] == "POST", r
    assert p["SequenceNumber"] == str(i), p
    assert p["CallStatus"] == want[i], (i, p)
    assert p["CallbackSource"] == "call-progress-events", p
    assert p["ParentCallSid"] == sys.argv[2], p
    assert p["Direction"] == "outbound-dial", p
    assert p["To"] == "+131313" and p["From"] == "bob", p
    assert ("CallDuration" in p) == (want[i] == "completed"), p
    assert p["CallSid"] == rows[0]["params"]["CallSid"], p
    assert p["Timestamp"].endswith("+0000"), p
assert int(rows[3]["params"]["CallDuration"]) >= 1, rows[3]
PY
pass "SequenceNumber 0..3, CallStatus, CallbackSource, ParentCallSid, CallDuration"

scen uas_bye.xml callee2 RING=200 HOLD=500
uas_start callee2 "$SB_AUX_PORT"
scen uac_wait.xml caller2
uac caller2 2222 || { show caller2; fail "the second call"; }
uas_wait callee2 || { show callee2; fail "the second callee"; }
wait_eq 5 1 reqs /cb/only || fail "only the completed callback by default"
assert_eq "$(param /cb/only CallStatus)" completed "without statusCallbackEvent: completed only"
wait_eq 5 1 reqs /cb/number || fail "the number's StatusCallback"
assert_eq "$(param /cb/number CallSid)" "$(param /dial2.xml CallSid)" \
  "the number's StatusCallback is about the inbound call"
assert_eq "$(param /cb/number Direction)" inbound "... Direction=inbound"
