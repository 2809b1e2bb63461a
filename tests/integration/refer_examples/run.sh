# The transfer examples in the server, with sipp phones.
# examples/transfer-abc: alice calls number A (1000), whose application
#   (examples/transfer-abc/app.py) dials the client bob; bob transfers her
#   to carol; number A's Refer application B dials $core_ReferTarget;
#   carol answers and later hangs up; B's action ends the call.
# examples/transfer-policy: with its allow-list {carol}, bob's REFER to
#   mallory is refused 403 and the call goes on; his REFER to carol works.
source ../calls_common/lib.sh
root=$(cd "$IT_DIR/../.." && pwd)
python3 "$root/examples/transfer-abc/app.py" "$APP_PORT" >"$SB_TMP/app.out" 2>&1 &
APP_PID=$!
wait_for 5 curl -s -o /dev/null "$APP/a" || fail "app.py did not start"

for c in alice:Alice-Example-Pw1 bob:Bob-Example-Pw1 carol:Carol-Example-Pw1; do
  make_client "${c%%:*}" "${c#*:}" >/dev/null
done
req POST "/Accounts/$ADMIN_SID/Applications.json" "${admin[@]}" -d FriendlyName=B \
  --data-urlencode "RcmlUrl=$APP/b"
appb=$(jq_py 'd["sid"]')
make_number 1000 /a -d "ReferApplicationSid=$appb" >/dev/null
read -r PB PC < <(ports 2)
python3 "$CALLS_COMMON/register.py" bob Bob-Example-Pw1 "$PB" || fail "bob registers"
python3 "$CALLS_COMMON/register.py" carol Carol-Example-Pw1 "$PC" || fail "carol registers"
CAROL="sip:carol@127.0.0.1:$SB_SIP_PORT"

# ---- transfer-abc ------------------------------------------------------------------
scen uas_refer.xml bob1 USER=bob CODE=202 HOLD=700 "TARGET=$CAROL"
scen uas_bye.xml carol1 USER=carol RING=300 HOLD=1200
scen uac_wait.xml alice1
uas_start bob1 "$PB"
uas_start carol1 "$PC"
uac alice1 1000 || { show alice1; show bob1; show carol1; fail "alice (abc)"; }
uas_wait bob1 || { show bob1; fail "bob transfers: 202, NOTIFY 100 and 200, BYE"; }
uas_wait carol1 || { show carol1; fail "carol gets the transferred call"; }
pass "transfer-abc: bob transfers alice to carol through number A's Refer application B"
# Transferee is the To user of bob's REFER: the From user of the call he
# got, which is the caller's ("bob" in the sipp caller template).
grep -q "POST /b CallSid=.*ReferTarget=carol Transferee=bob Transferor=bob" "$SB_TMP/app.out" \
  || { cat "$SB_TMP/app.out"; fail "B fetched with ReferTarget=carol, Transferor=bob"; }
pass "application B got ReferTarget=carol and Transferor=bob (POST: an Application)"
grep -q "/b-done .*DialCallStatus=completed" "$SB_TMP/app.out" || fail "B's action saw completed"
pass "B's Dial action saw DialCallStatus=completed"

# ---- transfer-policy ----------------------------------------------------------------------
stop_server
cat >>"$SB_CONF" <<CONF
plugins.paths = { "$root/examples/transfer-policy/plugins", "$root/plugins" }
plugins.options = { refer_policy = { allow = { "carol" } } }
CONF
start_server || fail "restart with the transfer policy"
python3 "$CALLS_COMMON/register.py" bob Bob-Example-Pw1 "$PB" || fail "bob registers again"
python3 "$CALLS_COMMON/register.py" carol Carol-Example-Pw1 "$PC" || fail "carol registers again"
scen uas_refer_refused.xml bob2 USER=bob CODE=403 HOLD=700 \
  "TARGET=sip:mallory@127.0.0.1:$SB_SIP_PORT" "REASON=Transfer target not allowed" GRACE=2000
scen uac_bye.xml alice2 HOLD=4000
uas_start bob2 "$PB"
uac alice2 1000 || { show alice2; fail "alice (policy refusal)"; }
uas_wait bob2 || { show bob2; fail "bob: 403 Transfer target not allowed, the call goes on"; }
pass "transfer-policy: a target outside the allow-list is refused 403; the call goes on"

scen uas_refer.xml bob3 USER=bob CODE=202 HOLD=700 "TARGET=$CAROL"
scen uas_bye.xml carol3 USER=carol RING=300 HOLD=800
scen uac_wait.xml alice3
uas_start bob3 "$PB"
uas_start carol3 "$PC"
uac alice3 1000 || { show alice3; show bob3; fail "alice (policy allows)"; }
uas_wait bob3 || { show bob3; fail "bob (policy allows)"; }
uas_wait carol3 || { show carol3; fail "carol (policy allows)"; }
pass "transfer-policy: an allowed target goes through to the default handler"
wait_eq 5 0 live_calls || fail "no call left live: $(live_calls) left live"
pass "no call left live"
