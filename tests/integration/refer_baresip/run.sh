# A real SIP user agent performs the blind transfer: baresip (headless:
# a WAV tone as microphone, a WAV file as speaker, remote control over
# ctrl_tcp) registers as the client bob and auto-answers. A sipp caller
# dials number 1111, whose application dials bob; baresip answers; we
# tell baresip to transfer the call to carol (ctrl_tcp "transfer"), it
# sends REFER in the dialog; the default handler runs the number's Refer
# URL on the caller's call, which dials carol (a registered sipp UAS);
# carol answers and later hangs up; the caller gets BYE.
#
# Needs baresip (Debian baresip-core); a missing baresip is a failure.
source ../calls_common/lib.sh
command -v baresip >/dev/null || fail "baresip is not installed (apt-get install baresip-core)"
app_start
doc 1111 '<Response><Dial timeout="15"><Client>bob</Client></Dial></Response>'
doc 2222 '<Response><Dial><Client>{{ReferTarget}}</Client></Dial></Response>'
make_number 1111 /1111 --data-urlencode "ReferUrl=$APP/2222" -d ReferMethod=GET >/dev/null
make_client bob Bob-Secret-88 >/dev/null
make_client carol Carol-Secret-77 >/dev/null
read -r PC CTRL < <(ports 2)
python3 "$CALLS_COMMON/register.py" carol Carol-Secret-77 "$PC" || fail "carol registers"

BS=$SB_TMP/baresip
mkdir -p "$BS"
# The microphone: 10 s of a 440 Hz tone, 8 kHz mono (baresip's ausine
# only does 48 kHz, and the call is G.711).
python3 - "$SB_TMP/tone.wav" <<'PY'
import math, struct, sys, wave
w = wave.open(sys.argv[1], "wb")
w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                       for i in range(80000)))
w.close()
PY
cat >"$BS/config" <<CONF
poll_method		epoll
sip_listen		127.0.0.1:0
net_interface		127.0.0.1
module_path		/usr/lib/baresip/modules
module			g711.so
module			aufile.so
module_app		account.so
module_app		menu.so
module_app		ctrl_tcp.so
ctrl_tcp_listen		127.0.0.1:$CTRL
audio_source		aufile,$SB_TMP/tone.wav
audio_player		aufile,$SB_TMP/bob_heard.wav
audio_alert		aufile,$SB_TMP/bob_alert.wav
CONF
printf '<sip:bob@127.0.0.1:%s;transport=udp>;auth_pass=Bob-Secret-88;regint=300;answermode=auto\n' \
  "$SB_SIP_PORT" >"$BS/accounts"
HOME=$SB_TMP timeout 60 baresip -f "$BS" >"$SB_TMP/baresip.out" 2>&1 &
SIPP_PIDS[baresip]=$!
wait_for 15 grep -q "registered bob at" "$SB_LOG" \
  || { cat "$SB_TMP/baresip.out"; fail "baresip did not register"; }
pass "baresip registered as bob"

ctrl() { # netstring JSON command to baresip
  python3 - "$CTRL" "$1" "$2" <<'PY'
import json, socket, sys
port, cmd, params = int(sys.argv[1]), sys.argv[2], sys.argv[3]
msg = json.dumps({"command": cmd, "params": params, "token": "t"}).encode()
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"%d:%s," % (len(msg), msg))
s.settimeout(5)
try:
    print(s.recv(4096).decode(errors="replace"))
except socket.timeout:
    pass
PY
}

scen uas_bye.xml carol USER=carol RING=300 HOLD=1500
uas_start carol "$PC"
scen uac_wait.xml caller TIMEOUT=30000
uac caller 1111 &
caller_pid=$!
wait_for 15 grep -q "dial: .* answered; bridged" "$SB_LOG" \
  || { cat "$SB_TMP/baresip.out"; fail "baresip did not answer"; }
pass "baresip answered the dialled call"
sleep 1
ctrl transfer "sip:carol@127.0.0.1:$SB_SIP_PORT" >"$SB_TMP/ctrl.out"
wait "$caller_pid" || { show caller; cat "$SB_TMP/baresip.out"; fail "the caller: transferred, then BYE"; }
uas_wait carol || { show carol; fail "carol gets the transferred call"; }
pass "baresip's REFER moved the caller to carol; carol's BYE reached the caller"
# Transferor is the Client whose leg sent the REFER (bob), not the user
# of baresip's Contact ("bob-0x<address>"), which a fallback Dial could
# not reach; baresip was called with To = bob's address of record.
assert_log "transfer: REFER to sip:carol@127.0.0.1:$SB_SIP_PORT .*Transferor=bob Transferee=" \
  "the REFER from baresip names Transferor=bob"
assert_log "accepted \\(NOTIFY on\\)" "202 and NOTIFYs for baresip"
assert_eq "$(param /2222 ReferTarget)" carol "the Refer URL got ReferTarget=carol"
assert_eq "$(param /2222 Transferor)" bob "the Refer URL got Transferor=bob, the login"
assert_eq "$(param /2222 Transferee)" "$(param /1111 From)" "and Transferee, the caller as the application knows it"
grep -q "transferring call to sip:carol@" "$SB_TMP/baresip.out" \
  || fail "baresip says it transferred the call"
grep -q "terminated" "$SB_TMP/baresip.out" || fail "baresip's call ended after the transfer"
pass "baresip transferred and ended its call"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
ctrl quit "" >/dev/null 2>&1 || true
