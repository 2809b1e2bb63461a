# POST Calls with Record=true records the whole call, both sides: the
# callee (a sipp UAS with rtptool as its phone) says 600 Hz while the
# application plays it 1 kHz; the Recording of the call (source
# OutboundAPI) holds both, mixed, and the callee heard the 1 kHz. Also
# SendDigits: "5" is played to the callee as DTMF tones before the Url is
# fetched (the phone hears 770 + 1336 Hz).
source ../media_common/lib.sh
app_start
M="$APP/media"
B="/Accounts/$ADMIN_SID"
doc rec.xml "<Response><Play>$M/r.wav?freq=1000&amp;secs=2.5</Play><Pause length=\"3\"/></Response>"

callee_prepare callee 8 SCRIPT="tone:600:5.0"
scen uas_bye.xml callee "LPORT=$CALLEE_PORT" "TALK=$CALLEE_TALK" RING=200 HOLD=5000 USER=+15550040
uas_start callee "$SB_AUX_PORT"
req POST "$B/Calls.json" "${admin[@]}" --data-urlencode From=+15551234 \
  --data-urlencode To=+15550040 --data-urlencode "Url=$APP/rec.xml" -d Record=true \
  -d SendDigits=5
expect 201 "a call with Record=true and SendDigits=5"
SID=$(jq_py 'd["sid"]')
uas_wait callee || { show callee; fail "the callee answers, talks, hangs up"; }
callee_collect callee 8
hear tone callee --freq 1000 --dur 2.5 --dtol 0.6
hear dtmf callee --digits 5

wait_for 10 test "$(sqlite3 "$SB_DB" "SELECT count(*) FROM recordings WHERE call_sid = '$SID'")" = 1 ||
  fail "one Recording of the call"
req GET "$B/Calls/$SID/Recordings.json" "${admin[@]}"
expect 200 "the call's recordings"
RE=$(jq_py 'd[0]["sid"] if isinstance(d, list) else d["recordings"][0]["sid"]')
assert_eq "$(sqlite3 "$SB_DB" "SELECT source FROM recordings WHERE sid = '$RE'")" OutboundAPI \
  "its source is OutboundAPI"
fetch_audio whole "http://127.0.0.1:$SB_HTTP_PORT/restcomm/2012-04-24$B/Recordings/$RE.wav"
hear mix whole --freqs 600,1000 --min 2.0
