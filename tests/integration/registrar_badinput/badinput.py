"""Bad input against the registrar; every case also checks that the
server still answers afterwards. Run by run.sh (needs SB_SIP_PORT)."""
import re

import sipreg
from sipreg import Client, env_port

PORT = env_port()
failures = 0


def check(cond, msg):
    global failures
    if cond:
        print("ok:", msg)
    else:
        failures += 1
        print("FAIL:", msg)


def alive():
    c = Client(PORT, "probe")
    r = c.transact(method="OPTIONS", contacts=[])
    c.close()
    return r.status == 200


def challenge(c, alg="MD5"):
    r = c.transact(expires=300)
    assert r.status == 401, r
    return c.pick(r, alg)


# ---- malformed Authorization headers: 400 ---------------------------------
c = Client(PORT, "erin", "Erin-Secret-22")
ch = challenge(c)
good = c.digest(ch)
n = ch["nonce"]
malformed = {
    "missing nonce, uri and response": 'Digest username="erin", realm="127.0.0.1"',
    "no parameters at all": "Digest",
    "unterminated quote": 'Digest username="erin, realm="127.0.0.1", nonce="%s"' % n,
    "nc not hex": good.replace("nc=00000001", "nc=zzzzzzzz"),
    "nc too short": good.replace("nc=00000001", "nc=1"),
    "nc zero": good.replace("nc=00000001", "nc=00000000"),
    "response of the wrong length": good.replace('response="', 'response="ab'),
    "response not hex": re.sub(r'response="..', 'response="zz', good),
    "repeated username": good + ', username="frank"',
    "qop=auth-int": good.replace("qop=auth", "qop=auth-int"),
    "no qop (RFC 2069 style)": good.replace(", qop=auth", ""),
    "algorithm MD5-sess": good.replace("algorithm=MD5", "algorithm=MD5-sess"),
    "empty username": good.replace('username="erin"', 'username=""'),
    "4 KB username": good.replace('username="erin"', 'username="%s"' % ("x" * 4096)),
    "userhash=true": good + ", userhash=true",
    "garbage": ",,,,=,=,",
    "digest uri differs from the Request-URI": c.digest(ch, uri="sip:elsewhere.example"),
}
for what, value in malformed.items():
    r = c.transact(expires=300, auth=value)
    check(r.status == 400, "%s: %r" % (what, r))
check(alive(), "server alive after malformed credentials")

# ---- not our credentials: a fresh challenge --------------------------------
r = c.transact(expires=300, auth='Basic ZXJpbjpzZWNyZXQ=')
check(r.status == 401 and len(r.all("www-authenticate")) == 2,
      "Basic credentials: 401 with MD5 and SHA-256 challenges")
r = c.transact(expires=300, auth=c.digest(dict(ch, realm="other.example")))
check(r.status == 401, "credentials for another realm: 401 (%r)" % r)

# ---- replay, foreign and stale nonces ---------------------------------------
ch = challenge(c)
a1 = c.digest(ch)
r = c.transact(expires=300, auth=a1)
check(r.status == 200, "first use of a nonce: 200")
r = c.transact(expires=300, auth=a1)
st = [sipreg.parse_challenge(v) for v in r.all("www-authenticate")]
check(r.status == 401 and all(x.get("stale") == "true" for x in st),
      "the same nc again (a replay): 401 stale=true")
r = c.transact(expires=300, auth=c.digest(ch, nc=1))
check(r.status == 401, "an nc not above the highest seen: 401")
r = c.transact(expires=300, auth=c.digest(ch, nc=7))
check(r.status == 200, "the same nonce with a higher nc: 200")
forged = dict(ch, nonce="0" * 64)
r = c.transact(expires=300, auth=c.digest(forged))
st = [sipreg.parse_challenge(v) for v in r.all("www-authenticate")]
check(r.status == 401 and all(x.get("stale") == "true" for x in st),
      "a nonce we never issued, right password: 401 stale=true")
# Issue 23: the nonce is checked before the password, so an invented
# nonce gets the same answer whatever the password (a 403 here told a
# guesser, who need not even ask for a nonce, that the password was wrong).
r = c.transact(expires=300, auth=c.digest(forged, password="wrong"))
st = [sipreg.parse_challenge(v) for v in r.all("www-authenticate")]
check(r.status == 401 and all(x.get("stale") == "true" for x in st),
      "a nonce we never issued, wrong password: the same 401 stale=true")

# ---- unknown login and wrong password look the same ------------------------
def final_for(login, password):
    u = Client(PORT, login, password)
    chal = challenge(u)
    r = u.transact(expires=300, auth=u.digest(chal))
    u.close()
    return r


def shape(r):
    drop = ("via", "from", "to", "call-id", "cseq", "date")
    return (r.status, r.phrase, sorted((k, v) for k, v in r.headers if k not in drop))


a = final_for("erin", "Wrong-Password-1")
b = final_for("nosuchuser", "Wrong-Password-1")
check(a.status == 403, "wrong password: 403")
check(shape(a) == shape(b), "unknown login answered exactly like a wrong password")

# ---- disabled client, suspended account --------------------------------------
check(final_for("grace", "Grace-Secret-44").status == 403, "disabled client: 403")
check(shape(final_for("grace", "Wrong-Password-1")) == shape(a),
      "disabled client with a wrong password: the usual 403")
check(final_for("heidi", "Heidi-Secret-55").status == 403, "client of a suspended account: 403")

# ---- huge Expires -------------------------------------------------------------
r = c.register(expires="99999999999999999999999")
check(r.status == 200 and r.contacts() and r.contacts()[0].endswith(";expires=3600"),
      "Expires: 99999999999999999999999 lowered to 3600 (%r %s)" % (r, r.contacts()))
r = c.register(contacts=["<%s>;expires=184467440737095516160" % c.contact_uri()])
check(r.status == 200 and r.contacts()[0].endswith(";expires=3600"),
      "a huge contact expires parameter lowered to 3600")
r = c.register(contacts=["<%s>;expires=soon" % c.contact_uri()])
check(r.status == 400, "a contact expires that is not a number: 400 (%r)" % r)

# ---- a flood of contacts for one login (max 3) -----------------------------
f = Client(PORT, "frank", "Frank-Secret-33")
def uri(i):
    return "<sip:frank@127.0.0.1:%d>" % (20000 + i)
for i in range(3):
    r = f.register(contacts=[uri(i)])
    check(r.status == 200 and len(r.contacts()) == i + 1, "contact %d of 3 accepted" % (i + 1))
r = f.register(contacts=[uri(3)])
check(r.status == 403 and r.phrase == "Too Many Contacts", "a fourth contact: 403 (%r)" % r)
r = f.register(contacts=[uri(1)])
check(r.status == 200 and len(r.contacts()) == 3, "refreshing one of the three: 200")
r = f.register(contacts=[uri(i) for i in range(100, 300)])
check(r.status == 403, "200 contacts in one request: 403 (%r)" % r)
r = f.register(contacts=[uri(0) + ";expires=0", uri(3)])
check(r.status == 200 and len(r.contacts()) == 3, "swap one contact for another in one request")
check(alive(), "server alive after the flood")

# ---- addresses of record, domains, wildcards, contact URIs -------------------
ch = challenge(f)
r = f.transact(expires=300, to_user="erin", auth=f.digest(ch))
check(r.status == 403, "registering another login's address: 403 (%r)" % r)
r = f.transact(expires=300, ruri="sip:elsewhere.example")
check(r.status == 404, "REGISTER for a domain we do not serve: 404 (%r)" % r)
ch = challenge(f)
r = f.transact(expires=300, contacts=["*"], auth=f.digest(ch))
check(r.status == 400, "Contact: * with a non-zero Expires: 400")
r = f.transact(expires=0, contacts=["*", uri(5)], auth=f.digest(ch))
check(r.status == 400, "Contact: * with another contact: 400")
r = f.transact(expires=300, contacts=["<tel:+15551234>"], auth=f.digest(ch))
check(r.status == 400, "a tel: contact: 400 (%r)" % r)
r = f.transact(expires=300, contacts=["<sip:frank@127.0.0.1;x=%s>" % ("a" * 600)],
               auth=f.digest(ch))
check(r.status == 400, "a 600-character contact URI: 400 (%r)" % r)
f.cseq = 100                    # leave unused numbers below the binding's
r = f.register(contacts=[uri(1)])
check(r.status == 200, "refresh with CSeq 102")
ch = challenge(f)
r = f.transact(expires=300, contacts=[uri(1)], auth=f.digest(ch), cseq=50)
check(r.status == 500, "an older CSeq on the same Call-ID: 500 (%r)" % r)

# ---- SHA-256 over TCP ---------------------------------------------------------
t = Client(PORT, "erin", "Erin-Secret-22", transport="tcp")
r = t.register(alg="SHA-256", expires=600)
check(r.status == 200, "SHA-256 credentials over TCP: 200 (%r)" % r)
ch = challenge(t, "SHA-256")
r = t.transact(expires=600, auth=t.digest(ch).replace("algorithm=SHA-256", "algorithm=MD5"))
check(r.status == 400, "a SHA-256-sized response labelled MD5: 400 (%r)" % r)
r = t.transact(expires=600, auth=t.digest(ch, password="Wrong-Password-1"))
check(r.status == 403, "SHA-256 with a wrong password: 403")
check(alive(), "server alive at the end")

print("badinput: %d check(s) failed" % failures if failures else "badinput: all checks passed")
raise SystemExit(1 if failures else 0)
