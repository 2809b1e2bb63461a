# Registrar with sipp: REGISTER with digest auth over UDP and TCP (the
# binding keeps the source address and transport), a wrong password and an
# unknown login answered alike (403), unregister with Expires: 0 and with
# Contact: *, OPTIONS listing REGISTER in Allow, unsupported methods 405.
source ../registrar_common/lib.sh
C=$REG_COMMON

make_client alice Alice-Secret-77 >/dev/null
make_client bob Bob-Secret-88 >/dev/null
cat >"$SB_TMP/alice.csv" <<'CSV'
SEQUENTIAL
alice;[authentication username=alice password=Alice-Secret-77]
CSV
cat >"$SB_TMP/alice_bad.csv" <<'CSV'
SEQUENTIAL
alice;[authentication username=alice password=Not-Her-Password]
CSV
cat >"$SB_TMP/nobody.csv" <<'CSV'
SEQUENTIAL
nobody;[authentication username=nobody password=Whatever-Pw-1]
CSV
cat >"$SB_TMP/bob.csv" <<'CSV'
SEQUENTIAL
bob;[authentication username=bob password=Bob-Secret-88]
CSV

# ---- register with auth ----------------------------------------------------
sipp_reg reg_udp "$C/register.xml" "$SB_TMP/alice.csv" -t u1 -set expires 300 \
  || { cat "$SB_TMP"/reg_udp.*; fail "REGISTER with auth over UDP"; }
pass "REGISTER over UDP: 401, then 200 with the contact and its expiry"
sipp_reg reg_tcp "$C/register.xml" "$SB_TMP/alice.csv" -t t1 -set expires 300 \
  || { cat "$SB_TMP"/reg_tcp.*; fail "REGISTER with auth over TCP"; }
pass "REGISTER over TCP: 401, then 200"
assert_eq "$(reg_count alice)" 2 "alice has two bindings (UDP and TCP)"
rows=$(reg_rows alice)
assert_contains "$rows" "|127.0.0.1|" "bindings keep the source address"
assert_contains "$rows" "|udp|" "the UDP binding is marked udp"
assert_contains "$rows" "|tcp|" "the TCP binding is marked tcp"
exp=$(sqlite3 "$SB_DB" "SELECT min(expires_at - strftime('%s','now')) FROM registrations")
[ "$exp" -gt 290 ] && [ "$exp" -le 300 ] || fail "expiry stored as asked: $exp"
pass "expiry stored as asked (${exp}s left)"
assert_log "INFO +sip: registered alice at sip:alice@127.0.0.1:[0-9]+;transport=UDP via udp:127.0.0.1" \
  "registration logged at info with the source"
grep -E "Alice-Secret-77|$(printf %s 'alice:127.0.0.1:Alice-Secret-77' | md5sum | cut -c1-32)" \
  "$SB_LOG" && fail "a password or HA1 appears in the log"
pass "no password or HA1 in the log"

# ---- wrong password / unknown login ---------------------------------------
sipp_reg wrong "$C/wrong_password.xml" "$SB_TMP/alice_bad.csv" -t u1 -set expires 300 \
  || { cat "$SB_TMP"/wrong.*; fail "wrong password"; }
pass "wrong password: 403"
sipp_reg nobody "$C/wrong_password.xml" "$SB_TMP/nobody.csv" -t u1 -set expires 300 \
  || { cat "$SB_TMP"/nobody.*; fail "unknown login"; }
pass "unknown login: the same 403"
assert_log "REGISTER for alice from 127.0.0.1:[0-9]+ refused: wrong password" "wrong password logged"
assert_log "REGISTER for nobody from 127.0.0.1:[0-9]+ refused: unknown login" "unknown login logged"
assert_eq "$(reg_count nobody)" 0 "nothing stored for an unknown login"

# ---- unregister --------------------------------------------------------------
sipp_reg unreg "$C/unregister.xml" "$SB_TMP/bob.csv" -t u1 -set expires 600 \
  || { cat "$SB_TMP"/unreg.*; fail "register then Expires: 0"; }
pass "register then unregister with Expires: 0"
assert_eq "$(reg_count bob)" 0 "bob's binding is gone"
assert_log "INFO +sip: unregistered bob at sip:bob@127.0.0.1" "unregistration logged at info"

sipp_reg star "$C/unregister_star.xml" "$SB_TMP/alice.csv" -t u1 \
  || { cat "$SB_TMP"/star.*; fail "Contact: * with Expires: 0"; }
pass "Contact: * with Expires: 0 answered 200"
assert_eq "$(reg_count alice)" 0 "every binding of alice is gone"

# ---- OPTIONS and other methods -----------------------------------------------
python3 - <<'PY' || fail "OPTIONS / unsupported methods"
import sipreg
c = sipreg.Client(sipreg.env_port(), "alice")
r = c.transact(method="OPTIONS", contacts=[])
assert r.status == 200, r
allow = [m.strip() for m in (r.get("allow") or "").split(",")]
assert "REGISTER" in allow and "OPTIONS" in allow, allow
print("ok: OPTIONS 200 with Allow:", ", ".join(allow))
# Every candidate method not in Allow (the list grows with the calls work)
# must be refused 405 with our Allow; PUBLISH is never ours (MESSAGE is,
# since issue 19: tests/integration/sms_sip).
assert "PUBLISH" not in allow, allow
for m in ("MESSAGE", "SUBSCRIBE", "PUBLISH", "INFO", "NOTIFY", "UPDATE"):
    if m in allow:
        continue
    extra = ["Event: presence"] if m in ("SUBSCRIBE", "PUBLISH", "NOTIFY") else []
    r = c.transact(method=m, contacts=[], ruri="sip:alice@127.0.0.1", extra=extra)
    assert r.status == 405, (m, r)
    assert r.get("allow") and "REGISTER" in r.get("allow"), (m, r.get("allow"))
    print("ok: %s answered 405 with Allow" % m)
r = c.transact(method="FROB", contacts=[], ruri="sip:alice@127.0.0.1")
assert r.status == 501, r      # RFC 3261 21.5.2: an unknown method is 501
print("ok: an unknown method answered 501")
PY
