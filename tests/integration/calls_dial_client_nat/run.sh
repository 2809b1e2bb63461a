# A Client behind a NAT: its REGISTER comes from one address (the NAT's
# public side, here port B) while its Contact names another (its private
# address, here port A, where nothing listens). <Dial><Client> must send
# the INVITE where the REGISTER came from, with the Contact as its
# Request-URI, as the registrar recorded; the call is answered there.
source ../calls_common/lib.sh
app_start
doc dial.xml '<Response><Dial action="/after.xml" timeout="5"><Client>natbob</Client></Dial></Response>'
doc after.xml '<Response><Hangup/></Response>'
make_number 5000 /dial.xml >/dev/null
make_client natbob Nat-Bob-Pw-1 >/dev/null
read -r PA PB < <(ports 2)
python3 - "$PA" "$PB" <<'PY' || fail "natbob registers from port B with a Contact on port A"
import os, socket, sys
sys.path.insert(0, os.path.join(os.environ["SB_TEST_DIR"], "..", "registrar_common"))
import sipreg
pa, pb = int(sys.argv[1]), int(sys.argv[2])
ua = sipreg.Client(sipreg.env_port(), "natbob", "Nat-Bob-Pw-1")
ua.sock.close()
ua.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
ua.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ua.sock.bind(("127.0.0.1", pb))
ua.sock.settimeout(5.0)
ua.local_port = pb
r = ua.register(expires="300", contacts=["<sip:natbob@127.0.0.1:%d>" % pa])
ua.close()
sys.exit(0 if r.status == 200 else 1)
PY
pass "natbob registered from port B, Contact on port A"
scen uas_bye.xml natbob RING=200 HOLD=500
uas_start natbob "$PB"
scen uac_wait.xml caller
uac caller 5000 || { show caller; show natbob; fail "the caller is bridged to natbob"; }
uas_wait natbob || { show natbob; fail "natbob, reached at the address it registered from, answers"; }
grep -q "^INVITE sip:natbob@127.0.0.1:$PA" "$SB_TMP/natbob.msg" \
  || fail "the INVITE's Request-URI is natbob's Contact"
pass "the INVITE reached the REGISTER's source, with the Contact as Request-URI"
wait_eq 5 1 reqs /after.xml || fail "the Dial action runs"
assert_eq "$(param /after.xml DialCallStatus)" completed "DialCallStatus=completed"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
