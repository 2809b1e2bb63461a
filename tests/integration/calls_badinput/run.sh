# Bad input on INVITE, each refused before any application runs: an SDP
# with no codec in common (488), malformed SDP (400), no Contact (400),
# Max-Forwards 0 (483), a BYE in a dialog nobody has (481), and many
# INVITEs with one Call-ID (merged requests refused, distinct From tags
# handled as separate calls). The server answers OPTIONS afterwards and
# no call is left live.
source ../calls_common/lib.sh
app_start
doc busy.xml '<Response><Reject reason="busy"/></Response>'
make_number 1000 /busy.xml >/dev/null

scen uac_expect.xml nocodec CODE=488 CODECS=18 "RTPMAP=a=rtpmap:18 G729/8000"
uac nocodec 1000 || { show nocodec; fail "no common codec: 488"; }
pass "an SDP with no codec in common is answered 488"

scen uac_expect.xml badsdp CODE=400 LPORT=notaport
uac badsdp 1000 || { show badsdp; fail "malformed SDP: 400"; }
pass "a malformed SDP is answered 400"

scen uac_expect.xml nocontact CODE=400 CONTACT=
uac nocontact 1000 || { show nocontact; fail "no Contact: 400"; }
pass "an INVITE without Contact is answered 400"

scen uac_expect.xml mf0 CODE=483 MF=0
uac mf0 1000 || { show mf0; fail "Max-Forwards 0: 483"; }
pass "an INVITE with Max-Forwards: 0 is answered 483"
assert_eq "$(reqs /busy.xml)" 0 "no application ran for refused INVITEs"

st=$(python3 "$CALLS_COMMON/sipraw.py" bye-unknown)
assert_eq "$st" 481 "a BYE in an unknown dialog is answered 481"

out=$(python3 "$CALLS_COMMON/sipraw.py" same-callid 1000 10)
echo "finals: $out"
own=$(tr ' ' '\n' <<<"$out" | grep -c '^own:486$')
assert_eq "$own" 10 "INVITEs sharing a Call-ID but not a From tag are 10 separate calls"
same=$(tr ' ' '\n' <<<"$out" | grep -c '^same:')
assert_eq "$same" 10 "each overlapping INVITE of one dialog got a final answer"
# The first is a call; one arriving while it is still pending overlaps
# it (500 with Retry-After, RFC 3261 14.2); one arriving after its final
# answer is a new call.
calls=$(tr ' ' '\n' <<<"$out" | grep -c '^same:486$')
overlap=$(tr ' ' '\n' <<<"$out" | grep -c '^same:500$')
[ "$calls" -ge 1 ] && [ $((calls + overlap)) -eq 10 ] \
  || fail "overlapping INVITEs are refused 500, the others are calls: $out"
pass "overlapping INVITEs of one dialog are refused 500 ($overlap of 10)"
assert_eq "$(tr ' ' '\n' <<<"$out" | grep -Ec '^[a-z]+:2[0-9][0-9]$')" 0 "none was accepted"
assert_eq "$(reqs /busy.xml)" $((10 + calls)) "each call ran the application once"
wait_eq 5 0 live_calls || fail "no call left live ($(live_calls))"
pass "no call left live"
assert_eq "$(python3 "$CALLS_COMMON/sipraw.py" options)" 200 "the server still answers OPTIONS"
