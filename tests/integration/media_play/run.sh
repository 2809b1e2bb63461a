# Play, as a phone hears it: the tools are checked first (media_common/
# selftest.py: G.711, the analysis, rtptool.py listen and the appserver's
# generated files, each check also shown to fail on a wrong expectation).
# Then WAV files at 8 kHz, 16 kHz and 44.1 kHz stereo and an MP3, with
# Pauses between them, must be heard as tones of the right frequency and
# length with silences of the Pause's length; a mu-law WAV with loop="3"
# as one tone three times as long (no gap between the loops), an A-law
# WAV, and digits="12w3" as DTMF 1, 2, a 0.5 s pause, 3; over PCMU and
# PCMA, in 160-byte packets, arriving on the 20 ms clock.
source ../media_common/lib.sh

python3 "$MEDIA_COMMON/selftest.py" "$(mkdir -p "$SB_TMP/selftest" && echo "$SB_TMP/selftest")" \
  >"$SB_TMP/selftest.out" 2>&1 || { tail -20 "$SB_TMP/selftest.out"; fail "the media tools' self-test"; }
pass "the media tools' self-test ($(grep -c 'ok' "$SB_TMP/selftest.out") checks)"

app_start
M="$APP/media"
doc files.xml "<Response>
  <Play>$M/a8k.wav?freq=1000&amp;secs=2</Play>
  <Pause length=\"1\"/>
  <Play>$M/b16k.wav?rate=16000&amp;freq=600&amp;secs=1</Play>
  <Pause length=\"1\"/>
  <Play>$M/c44k.wav?rate=44100&amp;channels=2&amp;freq=1500&amp;secs=1</Play>
  <Pause length=\"1\"/>
  <Play>$M/d.mp3?enc=mp3&amp;rate=22050&amp;freq=800&amp;secs=1</Play>
  <Hangup/>
</Response>"
doc loop.xml "<Response>
  <Play loop=\"3\">$M/e.wav?enc=ulaw&amp;freq=1000&amp;secs=1</Play>
  <Pause length=\"1\"/>
  <Play>$M/f.wav?enc=alaw&amp;freq=500&amp;secs=0.5</Play>
  <Pause length=\"1\"/>
  <Play digits=\"12w3\"/>
  <Hangup/>
</Response>"
make_number 5001 /files.xml >/dev/null
make_number 5002 /loop.xml >/dev/null

# ---- WAV at three rates, MP3, Pause (PCMU) ------------------------------------
listen_call files 5001 10.5
hear pattern files "1000:2.0 _:1.0 600:1.0 _:1.0 1500:1.0 _:1.0 800:1.0"
assert_eq "$(report files 'd["pts"]')" "[0]" "files: PCMU (pt 0) only"
assert_eq "$(report files 'list(d["payload_sizes"])')" "['160']" "files: 160-byte frames"
assert_eq "$(report files 'd["ssrcs"]')" 1 "files: one stream"
assert_eq "$(report files 'd["seq_gaps"] + d["duplicates"] + d["reordered"] + d["ts_jumps"]')" 0 \
  "files: sequence numbers without gaps, duplicates or reordering"
assert_eq "$(report files 'd["first_packet_s"] < 1.0')" True "files: audio within 1 s of the ACK"
assert_eq "$(report files 'd["max_skew_ms"] < 150')" True \
  "files: packets arrive on the 20 ms clock (skew $(report files 'd["max_skew_ms"]') ms)"

# ---- loop="3", A-law WAV, digits (PCMA) --------------------------------------------
listen_call loop 5002 9 CODECS="8 101" "RTPMAP=a=rtpmap:8 PCMA/8000"
assert_eq "$(report loop 'd["pts"]')" "[8]" "loop: PCMA (pt 8) only"
hear tone loop --nth 0 --freq 1000 --dur 3.0
hear tone loop --nth 1 --freq 500 --dur 0.5
hear dtmf loop --digits 123 --gap-after 1:0.5
assert_eq "$(report loop 'd["first_packet_s"] < 1.0')" True "loop: audio within 1 s of the ACK"
