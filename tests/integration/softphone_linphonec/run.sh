# A real linphone (linphonec, Debian linphone-cli) with the settings of
# docs/softphones.md: headless, its own HOME (with the data folder it
# needs), an rc file with a proxy and the Client's credentials. It
# registers as alice (digest, Contact user = the login), calls the Client
# carol directly (a sipp UAS registered as carol), answers the server's
# 407 on its INVITE with the same credentials, and the call is connected
# and ended by carol's BYE. Without the data folder linphonec 5.1 binds no
# SIP port: the test creates it as the doc says.
#
# Needs linphonec (Debian linphone-cli); a missing one is a failure.
source ../calls_common/lib.sh
command -v linphonec >/dev/null || fail "linphonec is not installed (apt-get install linphone-cli)"

make_client alice Alice-Secret-55 >/dev/null
make_client carol Carol-Secret-77 >/dev/null
read -r LP LPRTP PC < <(ports 3)
python3 "$CALLS_COMMON/register.py" carol Carol-Secret-77 "$PC" || fail "carol registers"

LH=$SB_TMP/lp
mkdir -p "$LH/.local/share/linphone"
cat >"$LH/alice.rc" <<RC
[sip]
sip_port=$LP
sip_tcp_port=0
default_proxy=0

[rtp]
audio_rtp_port=$LPRTP

[proxy_0]
reg_proxy=<sip:127.0.0.1:$SB_SIP_PORT;transport=udp>
reg_identity="Alice" <sip:alice@127.0.0.1:$SB_SIP_PORT>
reg_expires=300
reg_sendregister=1
publish=0

[auth_info_0]
username=alice
userid=alice
passwd=Alice-Secret-55
realm=127.0.0.1
RC
: >"$LH/cmds"
# Commands go to linphonec's stdin through a file that grows.
HOME=$LH timeout 60 sh -c "tail -f '$LH/cmds' | exec linphonec -c '$LH/alice.rc'" \
  >"$LH/out" 2>&1 &
SIPP_PIDS[linphonec]=$!
lp() { printf '%s\n' "$1" >>"$LH/cmds"; }
lp "soundcard use files"

wait_for 15 grep -q "registered alice at sip:alice@127.0.0.1:$LP;transport=udp via udp:127.0.0.1:$LP .*(Linphonec/" "$SB_LOG" \
  || { cat "$LH/out"; fail "linphonec did not register"; }
pass "linphonec registered as alice (Contact user: the login)"

scen uas_bye.xml carol USER=carol RING=300 HOLD=1500
uas_start carol "$PC"
lp "call carol"
uas_wait carol || { show carol; cat "$LH/out"; fail "carol got linphonec's call and hung up"; }
pass "linphonec's call reached carol, who answered and hung up"
assert_log "call: alice -> carol \\(number none: Client to Client, Call-ID [^ ]*, authenticated Client\\)" \
  "the INVITE was challenged and linphonec answered with alice's credentials"
grep -q "From: \"Alice\" <sip:alice@127.0.0.1>" "$SB_TMP/carol.msg" ||
  { show carol; fail "carol's INVITE shows linphonec's From"; }
pass "carol saw alice's display name and address (port dropped by linphonec)"
wait_eq 10 0 live_calls || fail "no call left live"
lp "quit"
wait_for 10 grep -q "^ha1=" "$LH/alice.rc" || fail "linphonec did not write its HA1 into the rc file"
grep -q "^passwd=" "$LH/alice.rc" && fail "linphonec kept the clear password next to its HA1"
pass "linphonec replaced passwd= by ha1= in its rc file (as docs/softphones.md says)"
