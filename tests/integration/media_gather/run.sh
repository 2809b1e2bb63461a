# Gather with DTMF, as a phone uses it (RCML <Gather>: Restcomm/Twilio
# semantics). The phone is rtptool.py listen with a --script: RFC 4733
# telephone-events on calls that offer telephone-event (CODECS "0 101"),
# in-band DTMF tones on calls whose SDP has none (the server must hear
# them in the audio, over PCMU and PCMA).
#   - the digits reach the action exactly once each (repeated digits
#     twice, a 1 s long press once), finishOnKey "#" ends input and is not
#     in Digits, finishOnKey="" makes "#" a digit, numDigits ends input at
#     once and later digits are not collected, method GET puts Digits in
#     the query, no action: the current document's URL with POST;
#   - with digits the action's document runs and the verbs after the
#     Gather do not; without (timeout, or only the finishOnKey) there is no
#     action request and the next verb runs: after the timeout, counted
#     from the end of the prompts, or at once after a lone "#";
#   - barge-in: the first digit stops the prompt that is playing within
#     100 ms of its start (measured on the phone: the received sound's end
#     against the time the digit's first packet was sent; + 20 ms for the
#     packet granularity) and the remaining prompts are never played.
# The tools are self-tested in media_play (media_common/selftest.py).
source ../media_common/lib.sh
app_start
M="$APP/media"
BARGE_LIMIT=0.12   # barge-in: 100 ms, + one 20 ms packet of measurement

# ---- RFC 4733: barge-in, finishOnKey "#", the action replaces the rest ------
doc rfc.xml "<Response>
  <Gather action=\"/act1\" timeout=\"5\">
    <Play>$M/p1.wav?freq=1000&amp;secs=3</Play>
    <Pause length=\"1\"/>
    <Play>$M/p1b.wav?freq=1500&amp;secs=1</Play>
  </Gather>
  <Play>$M/after1.wav?freq=2000&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
doc act1.xml "<Response><Play>$M/done1.wav?freq=500&amp;secs=0.5</Play><Hangup/></Response>"
make_number 5501 /rfc.xml >/dev/null

listen_call rfc 5501 7 TIMEOUT=15000 SCRIPT="silence:1.5,rfc4733:123#:0.1"
want_req rfc /rfc.xml /act1
assert_eq "$(reqs /act1)" 1 "rfc: the action is requested once"
assert_eq "$(param /act1 Digits)" 123 "rfc: Digits=123 (each digit once, the finishOnKey # not included)"
assert_eq "$(method /act1)" POST "rfc: the action's method defaults to POST"
assert_eq "$(param /act1 CallSid)" "$(call_sid /rfc.xml)" "rfc: the action has the call's CallSid"
assert_eq "$(param /act1 AccountSid)" "$ADMIN_SID" "rfc: the action has the call's AccountSid"
bargein rfc "$BARGE_LIMIT"
hear tone rfc --nth 0 --freq 1000 --dur 1.3 --dtol 0.4
hear absent rfc --freq 1500
hear absent rfc --freq 2000
hear tone rfc --freq 500 --dur 0.5

# ---- numDigits, a long press, repeated digits, finishOnKey="", GET -------------
doc keys.xml "<Response>
  <Gather action=\"/act2\" method=\"GET\" numDigits=\"4\" finishOnKey=\"\" timeout=\"3\">
    <Play>$M/p2.wav?freq=1000&amp;secs=0.5</Play>
  </Gather>
  <Play>$M/after2.wav?freq=2000&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
doc act2.xml "<Response><Hangup/></Response>"
make_number 5502 /keys.xml >/dev/null

# 5 held for 1 s (one event), then 5 # 9: four digits; the 7 comes too late.
listen_call keys 5502 6.5 TIMEOUT=15000 \
  SCRIPT="silence:1.5,rfc4733:5:1.0,silence:0.3,rfc4733:5#9,silence:0.3,rfc4733:7"
want_req keys /keys.xml /act2
assert_eq "$(reqs /act2)" 1 "keys: the action is requested once"
assert_eq "$(param /act2 Digits)" '55#9' \
  "keys: Digits=55#9 (a 1 s press once, a repeated digit twice, # a digit with finishOnKey=\"\", numDigits=4 leaves out the later 7)"
assert_eq "$(method /act2)" GET "keys: method=\"GET\""
assert_eq "$(python3 -c 'import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["path"]=="/act2"]
print(rows[-1]["query"].get("Digits"))' "$HTTP_LOG")" '55#9' "keys: GET puts Digits in the query string"
t4=$(digit_at keys 3); ta=$(req_at keys /act2)
assert_eq "$(num_ok "$ta" "0 <= x - $t4 < 1.0")" True \
  "keys: numDigits ends input at the 4th digit (digit at $t4 s, action at $ta s; timeout is 3 s)"
hear absent keys --freq 2000

# ---- no input: no action, the next verb after the timeout ---------------------------
doc quiet.xml "<Response>
  <Gather action=\"/act3\" timeout=\"2\">
    <Play>$M/p3.wav?freq=1000&amp;secs=1</Play>
  </Gather>
  <Play>$M/next3.wav?freq=1500&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
make_number 5503 /quiet.xml >/dev/null
listen_call quiet 5503 6 TIMEOUT=15000
no_req /act3 "quiet: no input, no action request"
hear tone quiet --nth 0 --freq 1000 --dur 1.0
hear tone quiet --nth 1 --freq 1500 --dur 0.5
runs=$(report quiet 'd["sound_runs"]')
gap=$(report quiet 'round(d["sound_runs"][1][0] - d["sound_runs"][0][1], 3) if len(d["sound_runs"]) > 1 else None')
assert_eq "$(num_ok "$gap" 'abs(x - 2.0) <= 0.3')" True \
  "quiet: the next verb starts 2 s (timeout) after the prompt ends: $gap s (sound runs $runs)"

# ---- only the finishOnKey: no action, the next verb at once ---------------------------
doc hash.xml "<Response>
  <Gather action=\"/act4\" timeout=\"5\">
    <Play>$M/p4.wav?freq=1000&amp;secs=0.5</Play>
  </Gather>
  <Play>$M/next4.wav?freq=1500&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
make_number 5504 /hash.xml >/dev/null
listen_call hash 5504 5 TIMEOUT=15000 SCRIPT="silence:1.5,rfc4733:#"
no_req /act4 "hash: only the finishOnKey, no action request"
hear tone hash --nth 1 --freq 1500 --dur 0.5
th=$(digit_at hash 0)
tn=$(report hash 'd["sound_runs"][1][0] if len(d["sound_runs"]) > 1 else None')
assert_eq "$(num_ok "$tn" "0 <= x - $th <= 1.0")" True \
  "hash: the next verb starts within 1 s of the # ($th s), not after the 5 s timeout: at $tn s"

# ---- no action attribute: the document's own URL, POST ---------------------------
doc self.xml "<Response>
  <Gather numDigits=\"2\" timeout=\"2\">
    <Play>$M/p5.wav?freq=1000&amp;secs=0.5</Play>
  </Gather>
  <Hangup/>
</Response>"
make_number 5505 /self.xml >/dev/null
listen_call self 5505 7 TIMEOUT=15000 SCRIPT="silence:1.2,rfc4733:42"
wait_for 5 test "$(reqs /self.xml)" -ge 2 \
  || fail "self: the document's URL was requested $(reqs /self.xml) time(s), want 2 (the call, then the Gather's default action)"
assert_eq "$(param /self.xml Digits 0)" "<absent>" "self: the call's first request has no Digits"
assert_eq "$(param /self.xml Digits 1)" 42 "self: the default action is the document's URL, with Digits=42"
assert_eq "$(method /self.xml 1)" POST "self: the default action method is POST"
assert_eq "$(reqs /self.xml)" 2 "self: the second run of the document times out (no third request)"

# ---- in-band DTMF, no telephone-event in the SDP (PCMU) ------------------------------
doc inband.xml "<Response>
  <Gather action=\"/act6\" timeout=\"3\">
    <Play>$M/p6.wav?freq=1000&amp;secs=3</Play>
  </Gather>
  <Play>$M/after6.wav?freq=2000&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
doc act6.xml "<Response><Play>$M/done6.wav?freq=500&amp;secs=0.5</Play><Hangup/></Response>"
make_number 5506 /inband.xml >/dev/null
listen_call inband 5506 8 TIMEOUT=15000 SCEN=uac_plain.xml CODECS=0 \
  SCRIPT="silence:1.5,inband:12:0.1,silence:0.2,inband:2:1.0,silence:0.2,inband:3#:0.1"
assert_eq "$(grep -c "a=rtpmap:101" "$SB_TMP/inband.xml")" 0 "inband: the phone's offer has no telephone-event"
want_req inband /inband.xml /act6
assert_eq "$(reqs /act6)" 1 "inband: the action is requested once"
assert_eq "$(param /act6 Digits)" 1223 \
  "inband: Digits=1223 heard in the audio (repeated 2 twice, a 1 s press once, # ends)"
bargein inband "$BARGE_LIMIT"
hear absent inband --freq 2000
hear tone inband --freq 500 --dur 0.5

# ---- in-band DTMF over PCMA ---------------------------------------------------------
doc alaw.xml "<Response>
  <Gather action=\"/act7\" numDigits=\"3\" timeout=\"3\">
    <Play>$M/p7.wav?freq=1000&amp;secs=0.5</Play>
  </Gather>
  <Hangup/>
</Response>"
doc act7.xml "<Response><Hangup/></Response>"
make_number 5507 /alaw.xml >/dev/null
listen_call alaw 5507 5 TIMEOUT=15000 SCEN=uac_plain.xml CODECS=8 "RTPMAP=a=rtpmap:8 PCMA/8000" \
  SCRIPT="silence:1.2,inband:90*:0.1"
assert_eq "$(report alaw 'd["pts"]')" "[8]" "alaw: the call is PCMA"
want_req alaw /alaw.xml /act7
assert_eq "$(param /act7 Digits)" '90*' "alaw: Digits=90* heard in A-law audio"
