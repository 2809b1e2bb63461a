# examples/voicemail as a caller uses it: its own app.py serves the RCML;
# a phone (rtptool.py with a script) waits into the menu, presses 2 while
# the menu speaks (barge-in), hears the Record prompt and the beep, says
# 2 s of 1 kHz, presses #, and then hears its message played back from
# the RecordingUrl the server gave (the server fetching its own
# recording over REST, without credentials). The recording is listed
# under the account.
source ../media_common/lib.sh
root=$(cd "$IT_DIR/../.." && pwd)
python3 "$root/examples/voicemail/app.py" "$APP_PORT" >"$SB_TMP/app.out" 2>&1 &
APP_PID=$!
wait_for 5 curl -s -o /dev/null "$APP/menu" || fail "app.py did not start"
make_number 3000 /menu >/dev/null

# The Record prompt is about 5 s of speech after the key; the phone talks
# well after the beep and presses # after its message.
listen_call vm 3000 24 TIMEOUT=40000 \
  SCRIPT="silence:2.0,rfc4733:2:0.1,silence:6.5,tone:1000:2.0,silence:0.5,rfc4733:#:0.1"
grep -q "POST /choice {'Digits': '2'}" "$SB_TMP/app.out" \
  || { cat "$SB_TMP/app.out"; fail "vm: /choice got Digits=2"; }
pass "vm: the menu's Gather sent Digits=2"
line=$(grep "POST /saved" "$SB_TMP/app.out") \
  || { cat "$SB_TMP/app.out"; fail "vm: the Record's action /saved was requested"; }
pass "vm: /saved requested: $line"
RE=$(sed -n "s/.*Recordings\/\(RE[0-9a-f]\{32\}\)\.wav.*/\1/p" <<<"$line")
[ -n "$RE" ] || fail "vm: no RecordingUrl .../Recordings/RE....wav in: $line"
# The message played back: a 1 kHz tone of 2 s (the beep is 0.5 s).
hear tone vm --freq 1000 --dur 2.0 --dtol 0.4
req GET "/Accounts/$ADMIN_SID/Recordings.json" "${admin[@]}"
[ "$RS" = 200 ] || fail "vm: list recordings: $RS $RB"
assert_eq "$(jq_py '[r["sid"] for r in d["recordings"]] == ["'"$RE"'"]')" true \
  "vm: the account lists the one recording"
