# Expiry: a binding registered for 3 s is removed by the expiry timer (and
# logged) without any further request; an Expires under sip.min_expires is
# answered 423 with Min-Expires; one over sip.max_expires is lowered to it.
source ../registrar_common/lib.sh

make_client dave Dave-Secret-11 >/dev/null
cat >"$SB_TMP/dave.csv" <<'CSV'
SEQUENTIAL
dave;[authentication username=dave password=Dave-Secret-11]
CSV

sipp_reg short "$REG_COMMON/register.xml" "$SB_TMP/dave.csv" -t u1 -set expires 3 \
  || { cat "$SB_TMP"/short.*; fail "register for 3 s"; }
pass "registered for 3 s"
assert_eq "$(reg_count dave)" 1 "binding stored"
wait_for 15 grep -q "registration of dave at sip:dave@127.0.0.1:[0-9]*;transport=UDP expired" \
  "$SB_LOG" || fail "no expiry logged within 15 s"
pass "expiry logged"
assert_eq "$(reg_count dave)" 0 "expired binding deleted by the timer"

python3 - <<'PY' || fail "expires bounds"
import sipreg
c = sipreg.Client(sipreg.env_port(), "dave", "Dave-Secret-11")
r = c.register(expires=1)
assert r.status == 423, r
assert r.get("min-expires") == "2", r.get("min-expires")
print("ok: Expires 1 < min 2 answered 423 with Min-Expires: 2")
r = c.register(contacts=["<%s>;expires=1" % c.contact_uri()])
assert r.status == 423, r
print("ok: a contact expires param under the minimum is 423 too")
r = c.register(expires=100000)
assert r.status == 200, r
(ct,) = r.contacts()
assert ct.endswith(";expires=120"), ct
print("ok: Expires 100000 lowered to sip.max_expires (120):", ct)
r = c.register(expires=0)
assert r.status == 200 and not r.contacts(), r
print("ok: Expires 0 accepted whatever the minimum")
PY
assert_eq "$(reg_count dave)" 0 "nothing left for dave"
