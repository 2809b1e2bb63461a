# Say, as a phone hears it: text-to-speech must sound like speech (voiced
# in most 100 ms windows between its first and last sound, a spectrum that
# keeps changing, no pure tones) of a plausible length for the text;
# loop="2" speaks it twice; a language the synthesizer does not know is
# still spoken (in English) and leaves a warning Notification (13512).
source ../media_common/lib.sh
app_start
TEXT="Hello, this is a test of the text to speech system. One, two, three, four, five."
doc say.xml "<Response><Say>$TEXT</Say><Hangup/></Response>"
doc twice.xml "<Response><Say loop=\"2\">$TEXT</Say><Hangup/></Response>"
doc unknown.xml "<Response><Say language=\"xx-klingon\">$TEXT</Say><Hangup/></Response>"
make_number 5101 /say.xml >/dev/null
make_number 5102 /twice.xml >/dev/null
make_number 5103 /unknown.xml >/dev/null

# espeak-ng speaks this text in about 5.8 s, 4.5 s of it voiced.
listen_call say 5101 9
hear speech say --min 3.0 --max 6.5 --active 0.6
hear dtmf say --digits ""
once=$(python3 -c "import sys; sys.path.insert(0, '$MEDIA_COMMON'); import hear
print(hear.speech_stats(hear.read_wav('$SB_TMP/say.wav')[0])['voiced_s'])")
assert_eq "$(report say 'd["first_packet_s"] < 2.0')" True "say: speech within 2 s of the ACK"
assert_eq "$(notes "$(call_sid /say.xml)")" "" "say: no Notification"

listen_call twice 5102 16
hear speech twice --min "$(python3 -c "print($once * 1.8)")" --max "$(python3 -c "print($once * 2.2)")" --active 0.6

listen_call unknown 5103 9
hear speech unknown --min 3.0 --max 6.5 --active 0.6
sid=$(call_sid /unknown.xml)
n=$(notes "$sid")
assert_eq "$n" "13512:1" "unknown language: one warning Notification 13512 for the call"
