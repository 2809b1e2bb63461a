# Mute=true (POST Calls/{CA}) as the other party hears it: a caller says
# 700 Hz for 10 s into a Dial bridge; 2 s in, the caller's call is muted
# over REST; the callee (its phone records what it hears) heard the tone
# for about 2 s, then nothing of it. Mute=false brings it back: a second
# caller muted and unmuted is heard again afterwards.
source ../media_common/lib.sh
app_start
doc dial.xml '<Response><Dial timeout="10"><Number>+15550050</Number></Dial></Response>'
make_number 5700 /dial.xml >/dev/null
B="/Accounts/$ADMIN_SID"

callee_prepare callee 12 SCRIPT="silence:11.5"
scen uas_wait.xml callee "LPORT=$CALLEE_PORT" "TALK=$CALLEE_TALK" RING=100 USER=+15550050 TIMEOUT=20000
uas_start callee "$SB_AUX_PORT"
listen_prepare caller 12 SCEN=uac_bye.xml HOLD=10500 SCRIPT="tone:700:10.0"
listen_start caller 5700
wait_eq 10 1 reqs /dial.xml || fail "the dial request"
caller_sid=$(param /dial.xml CallSid)
wait_for 10 test -n "$(cdr_where "parent_call_sid = '$caller_sid' AND status = 'in-progress'" sid)" ||
  fail "the bridge is up"
sleep 2
req POST "$B/Calls/$caller_sid.json" "${admin[@]}" -d Mute=true
expect 200 "Mute=true on the caller"
listen_wait caller
uas_wait callee || { show callee; fail "the callee got BYE"; }
callee_collect callee 12
# Heard from the bridge until the mute (about 2 s; later when this
# script runs late), not for the rest of the caller's 10 s of tone: 1 to 6 s.
hear tone callee --freq 700 --dur 3.5 --dtol 2.5
pass "after Mute=true the callee no longer hears the caller"

# Muted, then unmuted: heard again.
callee_prepare callee2 12 SCRIPT="silence:11.5"
scen uas_wait.xml callee2 "LPORT=$CALLEE_PORT" "TALK=$CALLEE_TALK" RING=100 USER=+15550050 TIMEOUT=20000
uas_start callee2 "$SB_AUX_PORT"
listen_prepare caller2 12 SCEN=uac_bye.xml HOLD=10500 SCRIPT="tone:700:10.0"
listen_start caller2 5700
wait_eq 10 2 reqs /dial.xml || fail "the second dial request"
caller2_sid=$(param /dial.xml CallSid)
wait_for 10 test -n "$(cdr_where "parent_call_sid = '$caller2_sid' AND status = 'in-progress'" sid)" ||
  fail "the second bridge is up"
req POST "$B/Calls/$caller2_sid.json" "${admin[@]}" -d Mute=true
expect 200 "Mute=true"
sleep 2
req POST "$B/Calls/$caller2_sid.json" "${admin[@]}" -d Mute=false
expect 200 "Mute=false"
listen_wait caller2
uas_wait callee2 || { show callee2; fail "the second callee got BYE"; }
callee_collect callee2 12
# Muted at once, unmuted 2 s later: heard again from then to the end of
# the 10 s of tone (3 to 9 s; never muted it would be one 9.5 s tone).
hear tone callee2 --freq 700 --dur 6.0 --dtol 3.0
pass "after Mute=false the callee hears the caller again"
