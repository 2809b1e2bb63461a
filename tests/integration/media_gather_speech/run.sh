# Gather with speech input (input="speech" and "dtmf speech", hints), as a
# phone uses it. The words the phone says are the server's own Say,
# recorded by a first call (text-to-speech is checked in media_say), cut
# to the word and sent back by rtptool.py listen --script wav:FILE.
#   - input="speech" hints="sales, support": saying "sales" gives one
#     action request with SpeechResult=sales (compared without case and
#     punctuation) and Confidence in [0, 1]; the verbs after the Gather do
#     not run;
#   - input="dtmf speech": "support" gives SpeechResult=support, and
#     partialResultCallback gets UnstableSpeechResult on the way; a key
#     gives Digits instead;
#   - silence: no action request, the next verb runs.
source ../media_common/lib.sh
app_start
M="$APP/media"
HINTS="sales, support"

# ---- the words -------------------------------------------------------------------
word_wav() { # WORD NUMBER: $SB_TMP/WORD_clip.wav, the server saying WORD
  doc "say_$1.xml" "<Response><Say>$1</Say><Hangup/></Response>"
  make_number "$2" "/say_$1.xml" >/dev/null
  listen_call "say_$1" "$2" 4
  local out
  out=$(python3 "$MEDIA_COMMON/recfile.py" trim "$SB_TMP/say_$1.wav" "$SB_TMP/$1_clip.wav" --pad 0.15) \
    || fail "the server's Say of '$1' (the phone's words) is silent: $out"
  pass "$out"
  hear speech "$1_clip" --min 0.2 --max 1.5 --active 0.5
}
word_wav sales 5701
word_wav support 5702

# speech_result PATH: the action's SpeechResult, lower case, without punctuation.
speech_result() {
  python3 -c 'import re, sys; print(re.sub(r"[^a-z ]", "", sys.argv[1].lower()).strip())' \
    "$(param "$1" SpeechResult)"
}
confidence_ok() {
  python3 -c 'import sys
try:
    print(0.0 <= float(sys.argv[1]) <= 1.0)
except ValueError:
    print(False)' "$(param "$1" Confidence)"
}

# ---- input="speech" ----------------------------------------------------------------
doc speech.xml "<Response>
  <Gather input=\"speech\" hints=\"$HINTS\" action=\"/sp1\" timeout=\"3\">
    <Play>$M/p1.wav?freq=1000&amp;secs=0.3</Play>
  </Gather>
  <Play>$M/after1.wav?freq=2000&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
doc sp1.xml "<Response><Hangup/></Response>"
make_number 5703 /speech.xml >/dev/null
listen_call speech 5703 9 TIMEOUT=20000 SCRIPT="silence:1.0,wav:$SB_TMP/sales_clip.wav"
want_req speech /speech.xml /sp1
assert_eq "$(reqs /sp1)" 1 "speech: the action is requested once"
assert_eq "$(speech_result /sp1)" sales "speech: SpeechResult=sales (got '$(param /sp1 SpeechResult)')"
assert_eq "$(confidence_ok /sp1)" True "speech: Confidence '$(param /sp1 Confidence)' is in [0, 1]"
assert_eq "$(param /sp1 CallSid)" "$(call_sid /speech.xml)" "speech: the action has the call's CallSid"
hear absent speech --freq 2000

# ---- input="dtmf speech": a word, with partial results --------------------------------
doc both.xml "<Response>
  <Gather input=\"dtmf speech\" hints=\"$HINTS\" action=\"/sp2\" timeout=\"3\"
          partialResultCallback=\"/cb/partial\">
    <Play>$M/p2.wav?freq=1000&amp;secs=0.3</Play>
  </Gather>
  <Hangup/>
</Response>"
doc sp2.xml "<Response><Hangup/></Response>"
make_number 5704 /both.xml >/dev/null
listen_call both 5704 9 TIMEOUT=20000 SCRIPT="silence:1.0,wav:$SB_TMP/support_clip.wav"
want_req both /both.xml /sp2
assert_eq "$(speech_result /sp2)" support "both: SpeechResult=support (got '$(param /sp2 SpeechResult)')"
assert_eq "$(confidence_ok /sp2)" True "both: Confidence '$(param /sp2 Confidence)' is in [0, 1]"

# ---- input="dtmf speech": a key ---------------------------------------------------------
doc key.xml "<Response>
  <Gather input=\"dtmf speech\" hints=\"$HINTS\" numDigits=\"1\" action=\"/sp3\" timeout=\"3\">
    <Play>$M/p3.wav?freq=1000&amp;secs=0.3</Play>
  </Gather>
  <Hangup/>
</Response>"
doc sp3.xml "<Response><Hangup/></Response>"
make_number 5705 /key.xml >/dev/null
listen_call key 5705 6 TIMEOUT=20000 SCRIPT="silence:1.0,rfc4733:7"
want_req key /key.xml /sp3
assert_eq "$(param /sp3 Digits)" 7 "key: a key in dtmf speech mode gives Digits=7"
case "$(param /sp3 SpeechResult)" in
  "<absent>"|"") pass "key: no SpeechResult with a key" ;;
  *) fail "key: SpeechResult '$(param /sp3 SpeechResult)' with a key" ;;
esac

# ---- silence: no action, the next verb --------------------------------------------------
doc quiet.xml "<Response>
  <Gather input=\"speech\" hints=\"$HINTS\" action=\"/sp4\" timeout=\"2\">
    <Play>$M/p4.wav?freq=1000&amp;secs=0.3</Play>
  </Gather>
  <Play>$M/next4.wav?freq=1500&amp;secs=0.5</Play>
  <Hangup/>
</Response>"
make_number 5706 /quiet.xml >/dev/null
listen_call quiet 5706 6 TIMEOUT=20000
no_req /sp4 "quiet: no speech, no action request"
hear tone quiet --freq 1500 --dur 0.5

# ---- partial results (from the "support" call) ---------------------------------------------
n=$(reqs /cb/partial)
[ "$n" -ge 1 ] || fail "both: partialResultCallback /cb/partial was never requested"
assert_eq "$(param /cb/partial UnstableSpeechResult 0 | grep -c '<absent>')" 0 \
  "both: partialResultCallback requested $n time(s) with UnstableSpeechResult (first: '$(param /cb/partial UnstableSpeechResult 0)')"
