# Audio that cannot be played is reported and the call goes on: an
# unreachable URL (11205), a 404 (21402), a text/html page (12300), a
# truncated WAV (12300), a file over media.max_file_bytes (11206) and an
# empty Say (warning 13520) each leave a Notification for the call, make no
# sound, and the next verb runs: the good tone after them is heard, alone.
# A slow origin delays the tone but it is still heard whole. The server
# stays up and takes the next call.
source ../media_common/lib.sh
app_start
M="$APP/media"
DEAD=$(ports 1)                     # nobody listens there
media_set /media/missing.wav '{"status": 404}'
media_set /media/page.wav '{"body": "<html><body>Not audio</body></html>", "content_type": "text/html"}'
media_set /media/trunc.wav '{"secs": 2.0, "truncate": 6000}'
media_set /media/big.wav '{"secs": 10.0}'
media_set /media/good.wav '{"freq": 1000, "secs": 1.0}'
media_set /media/slow.wav '{"freq": 600, "secs": 1.0, "delay_ms": 2000}'
doc bad.xml "<Response>
  <Play>http://127.0.0.1:$DEAD/x.wav</Play>
  <Play>$M/missing.wav</Play>
  <Play>$M/page.wav</Play>
  <Play>$M/trunc.wav</Play>
  <Play>$M/big.wav</Play>
  <Say>   </Say>
  <Play>$M/good.wav</Play>
  <Hangup/>
</Response>"
doc slow.xml "<Response><Play>$M/slow.wav</Play><Hangup/></Response>"
make_number 5301 /bad.xml >/dev/null
make_number 5302 /slow.xml >/dev/null

listen_call bad 5301 5
hear pattern bad "1000:1.0"
sid=$(call_sid /bad.xml)
got=$(notes "$sid")
echo "notifications of $sid: $got"
assert_eq "$got" "11205:0 21402:0 12300:0 12300:0 11206:0 13520:1" \
  "one Notification per bad verb, in order (unreachable, 404, html, truncated, too big, empty Say)"
for p in /media/missing.wav /media/page.wav /media/trunc.wav /media/big.wav; do
  [ "$(reqs "$p")" -ge 1 ] || fail "$p was never requested"
done
pass "each bad URL was requested"

listen_call slow 5302 5
hear tone slow --freq 600 --dur 1.0 --count 1
assert_eq "$(notes "$(call_sid /slow.xml)")" "" "slow origin: no Notification"

req GET "/Accounts.json/$SB_ADMIN_EMAIL" "${admin[@]}"
expect 200 "the server still answers REST"
