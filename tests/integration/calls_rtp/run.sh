# RTP really relayed: caller and callee (sipp, each with rtptool.py on the
# port of its SDP) send 100 PCMU packets to the server's ports from their
# SDP answers and count what arrives from the other side. Each side must
# see nearly all of the other's packets, as one stream (one SSRC, the
# server's: the relay rewrites SSRC, sequence numbers and timestamps).
source ../calls_common/lib.sh
app_start
doc dial.xml '<Response><Dial><Number>+131313</Number></Dial></Response>'
make_number 1111 /dial.xml >/dev/null
# Two even ports, as RTP wants (rtptool binds exactly these).
read -r CP EP < <(python3 "$IT_DIR/free_ports.py" 2 even)
tool="$IT_DIR/rtptool.py"
talk() { # OUT PORT-VAR
  echo "<nop><action><exec command=\"python3 $tool talk --bind $2 --to ${MEDIA_TO:-127.0.0.1}:[\$port] --count 100 --seconds 3.5 --out $1 &amp;\"/></action></nop>"
}

scen uas_wait.xml callee "LPORT=$EP" \
  "TALK=<pause milliseconds=\"700\"/>$(talk "$SB_TMP/callee.rtp" "$EP")"
uas_start callee "$SB_AUX_PORT"
# The caller is answered when the Dial starts and hears ringback until
# the callee answers (500 ms later): both start talking about 1.2 s after
# the caller's answer, when the relay joins them.
scen uac_bye.xml caller "LPORT=$CP" HOLD=4500 \
  "TALK=<pause milliseconds=\"1200\"/>$(talk "$SB_TMP/caller.rtp" "$CP")"
uac caller 1111 &
caller_pid=$!
# While it talks: the console shows the live call's quality.
wait_eq 10 1 reqs /dial.xml || fail "the dial request"
sleep 3    # both sides talk from about 1.2 s after the answer
live=$(timeout 10 "$SB_BIN" console -s "$SB_TMP/console.sock" \
  -e "local q = call('$(param /dial.xml CallSid)').quality; return q.codec .. ' ' .. tostring(q.received > 0) .. ' ' .. tostring(q.mos > 4)")
assert_eq "$live" "PCMU true true" "call(sid).quality in the console: codec, packets, MOS"
wait "$caller_pid" || { show caller; show callee; fail "the call"; }
uas_wait callee || { show callee; fail "the callee"; }
wait_for 5 test -s "$SB_TMP/caller.rtp" || fail "caller's rtptool finished"
wait_for 5 test -s "$SB_TMP/callee.rtp" || fail "callee's rtptool finished"
c=$(cat "$SB_TMP/caller.rtp"); e=$(cat "$SB_TMP/callee.rtp")
echo "caller: $c; callee: $e"
rx_c=$(sed -E 's/.*received=([0-9]+).*/\1/' <<<"$c")
rx_e=$(sed -E 's/.*received=([0-9]+).*/\1/' <<<"$e")
[ "$rx_c" -ge 90 ] || fail "the caller received the callee's RTP ($rx_c of 100)"
pass "the caller received $rx_c of the callee's 100 packets"
[ "$rx_e" -ge 90 ] || fail "the callee received the caller's RTP ($rx_e of 100)"
pass "the callee received $rx_e of the caller's 100 packets"
assert_contains "$c" "ssrcs=1" "the caller sees one stream"
assert_contains "$e" "ssrcs=1" "the callee sees one stream"

# The quality of each leg is in its record (the Calls extension).
parent=$(param /dial.xml CallSid)
child=$(cdr_where "parent_call_sid = '$parent'" sid)
for leg in "$parent" "$child"; do
  req GET "/Accounts/$ADMIN_SID/Calls/$leg.json" "${admin[@]}"
  assert_eq "$(jq_py 'd["quality"]["codec"]')" PCMU "$leg: codec"
  assert_eq "$(jq_py '90 <= d["quality"]["packets_received"] <= 100')" true "$leg: packets received from its phone"
  assert_eq "$(jq_py 'd["quality"]["packets_sent"] >= 90')" true "$leg: packets sent to its phone"
  assert_eq "$(jq_py 'd["quality"]["packets_lost"] <= 10 and d["quality"]["loss_percent"] <= 10')" true "$leg: loss"
  assert_eq "$(jq_py '0 <= d["quality"]["jitter_ms"] < 20')" true "$leg: jitter on loopback"
  assert_eq "$(jq_py '4.0 <= d["quality"]["mos"] <= 4.5')" true "$leg: MOS of a clean loopback call"
done
req GET "/Accounts/$ADMIN_SID/Calls/$parent" "${admin[@]}"
assert_eq "$(xml_py 'r.find("Call/Quality/Codec").text')" PCMU "the XML Quality element"
