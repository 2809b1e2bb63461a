# Record and Dial record="true", as a phone and the REST API see them
# (RCML <Record>: Restcomm/Twilio semantics).
#   - Record plays a beep (1 kHz, about 0.5 s; playBeep defaults to true),
#     the phone hears it before it starts to talk; then the phone's 3 s of
#     1 kHz and silence: timeout="2" ends the recording, trailing silence is
#     trimmed: RecordingDuration 3 +- 1; the action gets RecordingUrl (on
#     the REST interface: .../Accounts/{AC}/Recordings/{RE}.wav, as
#     Restcomm gives it), RecordingSid,
#     the call's CallSid; the .wav and the .mp3 are served without
#     credentials and decode (libsndfile, media_common/recfile.py) to
#     3 +- 0.5 s of 1 kHz; the action's document runs (the verbs after the
#     Record do not); GET /Accounts/{AC}/Calls/{CA}/Recordings.json lists
#     the recording;
#   - finishOnKey (default "1234567890*#"): a "#" ends the recording at
#     once, Digits=#; playBeep="false": no beep;
#   - maxLength="2" ends a recording of a phone that never stops;
#   - the caller hanging up mid-record still gets the action, with
#     Digits=hangup and the recording so far;
#   - <Dial record="true">: caller (700 Hz) and callee (1300 Hz) mixed into
#     one file, RecordingUrl in the Dial's action.
source ../media_common/lib.sh
app_start
M="$APP/media"
REST_ROOT="http://127.0.0.1:$SB_HTTP_PORT/"

in_range() { num_ok "$1" "$2 <= x <= $3"; }


# check_url NAME URL RE: URL is Restcomm's RecordingUrl,
# $REST_ROOT.../Accounts/{AC}/Recordings/RE.wav (the WAV itself; the same
# path with .mp3 is the MP3); sets BASE, the URL without the extension,
# to append .wav or .mp3 to.
check_url() {
  local name=$1 url=$2 re=$3
  case "$url" in
    "$REST_ROOT"*"/Accounts/$ADMIN_SID/Recordings/$re".wav)
      BASE=${url%.wav}
      pass "$name: RecordingUrl $url" ;;
    *) fail "$name: RecordingUrl '$url' is not $REST_ROOT.../Accounts/$ADMIN_SID/Recordings/$re.wav" ;;
  esac
}

# check_rec NAME ACTION: RecordingSid and RecordingUrl of the action's last
# request; sets RE, URL and BASE.
check_rec() {
  local name=$1 act=$2
  URL=$(param "$act" RecordingUrl)
  RE=$(param "$act" RecordingSid)
  [[ "$RE" =~ ^RE[0-9A-Za-z]{32}$ ]] || fail "$name: RecordingSid '$RE' is not RE + 32 characters"
  pass "$name: RecordingSid $RE"
  check_url "$name" "$URL" "$RE"
}

# ---- Record: beep, timeout, RecordingUrl, .wav and .mp3, the call's list ------
doc rec.xml "<Response>
  <Record action=\"/recdone\" timeout=\"2\" maxLength=\"30\"/>
  <Play>$M/after.wav?freq=2000&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
doc recdone.xml "<Response><Play>$M/done.wav?freq=500&amp;secs=0.5</Play><Hangup/></Response>"
make_number 5601 /rec.xml >/dev/null

listen_call rec 5601 10 TIMEOUT=20000 SCRIPT="silence:0.8,tone:1000:3.0"
want_req rec /rec.xml /recdone
assert_eq "$(reqs /recdone)" 1 "rec: the action is requested once"
assert_eq "$(method /recdone)" POST "rec: the action's method defaults to POST"
assert_eq "$(param /recdone CallSid)" "$(call_sid /rec.xml)" "rec: the action has the call's CallSid"
dur=$(param /recdone RecordingDuration)
assert_eq "$(in_range "$dur" 2 4)" True "rec: RecordingDuration $dur is 3 +- 1 (the 2 s of trailing silence trimmed)"
check_rec rec /recdone
# What the phone heard: the beep, before it started to talk; then the
# action's document, not the verbs after the Record.
hear tone rec --nth 0 --freq 1000 --dur 0.5 --dtol 0.15
beep_end=$(report rec 'd["sound_runs"][0][1] if d["sound_runs"] else None')
talk=$(report rec 'd["script"][1]["start_s"]')
assert_eq "$(num_ok "$beep_end" "x <= $talk + 0.02")" True \
  "rec: the beep (ended at $beep_end s) came before the phone talked (at $talk s)"
hear absent rec --freq 2000
hear tone rec --freq 500 --dur 0.5
# The recording, over REST, without credentials.
fetch_audio rec_wav "$BASE.wav"
hear tone rec_wav --freq 1000 --dur 3.0 --dtol 0.5 --count 1
fetch_audio rec_mp3 "$BASE.mp3"
assert_contains "$FETCH_TYPE" "audio/mpeg" "rec: the .mp3 is audio/mpeg"
hear tone rec_mp3 --freq 1000 --dur 3.0 --dtol 0.5
CA=$(call_sid /rec.xml)
req GET "/Accounts/$ADMIN_SID/Calls/$CA/Recordings.json" "${admin[@]}"
expect 200 "rec: GET the call's Recordings.json"
row=$(python3 - "$SB_TMP/body" "$RE" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
rows = d if isinstance(d, list) else d.get("recordings", [])
hit = [r for r in rows if r.get("sid") == sys.argv[2]]
print(json.dumps(hit[0]) if len(hit) == 1 and len(rows) == 1 else "rows: %s" % json.dumps(rows))
PY
)
assert_contains "$row" "\"sid\": \"$RE\"" "rec: the call's recordings list this one recording"
assert_eq "$(python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print(r.get("call_sid") == sys.argv[2], r.get("account_sid") == sys.argv[3])' "$row" "$CA" "$ADMIN_SID")" \
  "True True" "rec: the row has the call's call_sid and account_sid"
assert_eq "$(in_range "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get("duration"))' "$row")" 2 4)" True \
  "rec: the row's duration is 3 +- 1"

# ---- finishOnKey (the default): "#" ends it at once; playBeep="false" ---------
doc key.xml "<Response>
  <Record action=\"/keydone\" timeout=\"5\" playBeep=\"false\"/>
  <Hangup/>
</Response>"
doc keydone.xml "<Response><Hangup/></Response>"
make_number 5602 /key.xml >/dev/null
listen_call key 5602 7 TIMEOUT=20000 SCRIPT="silence:0.3,tone:1000:2.0,rfc4733:#"
want_req key /key.xml /keydone
assert_eq "$(param /keydone Digits)" '#' "key: Digits=# (the default finishOnKey has #)"
tk=$(digit_at key 0); ta=$(req_at key /keydone)
assert_eq "$(num_ok "$ta" "0 <= x - $tk < 1.0")" True \
  "key: the # ends the recording at once (# at $tk s, action at $ta s; timeout is 5 s)"
dur=$(param /keydone RecordingDuration)
assert_eq "$(in_range "$dur" 1 3)" True "key: RecordingDuration $dur is 2 +- 1"
assert_eq "$(report key 'd["sound_runs"]')" "[]" "key: playBeep=\"false\": the phone hears no beep (nothing loud)"
check_rec key /keydone
fetch_audio key_wav "$BASE.wav"
hear tone key_wav --freq 1000 --dur 2.0 --dtol 0.5

# ---- maxLength -------------------------------------------------------------------
doc max.xml "<Response>
  <Record action=\"/maxdone\" maxLength=\"2\" timeout=\"10\" playBeep=\"false\"/>
  <Hangup/>
</Response>"
doc maxdone.xml "<Response><Hangup/></Response>"
make_number 5603 /max.xml >/dev/null
listen_call max 5603 7 TIMEOUT=20000 SCRIPT="silence:0.5,tone:1000:6.0"
want_req max /max.xml /maxdone
dur=$(param /maxdone RecordingDuration)
assert_eq "$(in_range "$dur" 1 3)" True "max: maxLength=2 ends the recording: RecordingDuration $dur"
ta=$(req_at max /maxdone)
assert_eq "$(num_ok "$ta" "x < 4.0")" True "max: the action comes about 2 s into the call ($ta s), not after the phone's 6 s"

# ---- the caller hangs up mid-record ------------------------------------------------
doc hang.xml "<Response>
  <Record action=\"/cb/hangdone\" timeout=\"5\" maxLength=\"30\"/>
  <Hangup/>
</Response>"
make_number 5604 /hang.xml >/dev/null
# uac_bye.xml: BYE 4 s after the ACK; the phone talks from 1.2 s.
listen_call hang 5604 6 SCEN=uac_bye.xml HOLD=4000 SCRIPT="silence:1.2,tone:1000:10"
want_req hang /hang.xml /cb/hangdone 10
assert_eq "$(param /cb/hangdone Digits)" hangup "hang: Digits=hangup"
dur=$(param /cb/hangdone RecordingDuration)
assert_eq "$(in_range "$dur" 2.5 4.5)" True "hang: RecordingDuration $dur: what was recorded until the BYE (from the beep's end, about 3.5 s)"
check_rec hang /cb/hangdone
fetch_audio hang_wav "$BASE.wav"
hear tone hang_wav --freq 1000 --dur 2.8 --dtol 0.5

# ---- Dial record="true": both legs in one file -----------------------------------------
doc dial.xml "<Response>
  <Dial record=\"true\" action=\"/dialdone\" timeout=\"10\"><Number>+300</Number></Dial>
  <Hangup/>
</Response>"
doc dialdone.xml "<Response><Hangup/></Response>"
make_number 5605 /dial.xml >/dev/null
callee_prepare callee 8 SCRIPT="tone:1300:4.0"
scen uas_bye.xml callee "LPORT=$CALLEE_PORT" "TALK=$CALLEE_TALK" RING=300 HOLD=4500
uas_start callee "$SB_AUX_PORT"
listen_call dial 5605 9 TIMEOUT=20000 SCRIPT="tone:700:6.0"
uas_wait callee || { show callee; fail "dial: the callee answers, talks, hangs up"; }
callee_collect callee 8
hear tone dial --freq 1300 --dur 4.0 --dtol 0.3
hear tone callee --freq 700 --dur 4.0 --dtol 1.0
want_req dial /dial.xml /dialdone
assert_eq "$(param /dialdone DialCallStatus)" completed "dial: DialCallStatus=completed"
URL=$(param /dialdone RecordingUrl)
[[ "$URL" =~ /Recordings/(RE[0-9A-Za-z]{32}) ]] \
  || fail "dial: the Dial's action has no RecordingUrl .../Recordings/RE...: '$URL'"
check_url dial "$URL" "${BASH_REMATCH[1]}"
fetch_audio dial_wav "$BASE.wav"
assert_contains "$FETCH_INFO" '"channels": 1' "dial: one channel: the legs are mixed"
hear mix dial_wav --freqs 700,1300 --min 2.5



# ---- a recordings folder that cannot be made: a Notification, the call goes on ----------
stop_server
: >"$SB_TMP/not-a-folder"
echo "recordings.dir = \"$SB_TMP/not-a-folder/rec\"" >>"$SB_CONF"
start_server || fail "restart with an unusable recordings folder"
doc nodir.xml "<Response>
  <Record timeout=\"1\" playBeep=\"false\" action=\"/nodirdone\"/>
  <Play>$M/nodir.wav?freq=700&amp;secs=1</Play>
  <Hangup/>
</Response>"
make_number 5609 /nodir.xml >/dev/null
listen_call nodir 5609 5 TIMEOUT=15000 SCRIPT="tone:1000:1.5"
hear tone nodir --freq 700 --dur 1.0 --dtol 0.2
no_req /nodirdone "nodir: no recording, so no action request"
case " $(notes "$(call_sid /nodir.xml)") " in
  *" 12400:"*) pass "nodir: Notification 12400 says the recording failed" ;;
  *) fail "nodir: no Notification 12400: $(notes "$(call_sid /nodir.xml)")" ;;
esac
