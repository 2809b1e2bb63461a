# Ringback made by the server: a caller already answered (a Say first)
# whose Dial rings a callee that sends 180 and never answers hears US
# ringback, 440+480 Hz two seconds on, four off, until the Dial's timeout
# CANCELs the callee; then the document goes on (a tone, then Hangup).
source ../media_common/lib.sh
app_start
doc ring.xml "<Response>
  <Say>Hello.</Say>
  <Dial timeout=\"9\"><Number>+300</Number></Dial>
  <Play>$APP/media/after.wav?freq=1000&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
make_number 5401 /ring.xml >/dev/null

scen uas_noanswer.xml callee TIMEOUT=20000
uas_start callee "$SB_AUX_PORT"
listen_call ring 5401 13.5
uas_wait callee || { show callee; fail "the callee rings, then gets CANCEL"; }
pass "the callee rang and was CANCELled"
hear ringback ring --on 2.0 --off 4.0 --cycles 1
hear tone ring --freq 1000 --dur 0.5 --count 1
