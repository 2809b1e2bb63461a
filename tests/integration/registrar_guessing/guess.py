"""Password guessing against the registrar (issue 23), run by run.sh: an
address that fails 10 times waits (403 "Too Many Failed Attempts" with
Retry-After, no check made: even the right password is refused), while
the login's owner at another address still registers; a login failed 20
times waits for addresses that have failed before, never for a clean
one."""
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


def attempt(ip, password):
    """A challenge, then credentials with password, from ip."""
    c = Client(PORT, "alice", password, local_ip=ip)
    r = c.transact(expires=300)
    assert r.status == 401, r
    r = c.transact(expires=300, auth=c.digest(c.pick(r)))
    c.close()
    return r


for i in range(10):
    r = attempt("127.0.0.2", "guess-%d" % i)
    if r.status != 403 or r.phrase != "Forbidden":
        break
check(r.status == 403 and r.phrase == "Forbidden",
      "10 wrong passwords from 127.0.0.2: 403 each (%r)" % r)
r = attempt("127.0.0.2", "guess-10")
check(r.status == 403 and r.phrase == "Too Many Failed Attempts"
      and int(r.get("retry-after") or 0) >= 1,
      "the 11th: refused without a check, with Retry-After (%r)" % r)
r = attempt("127.0.0.2", "Alice-Secret-77")
check(r.status == 403 and r.phrase == "Too Many Failed Attempts",
      "even the right password waits for the back-off at 127.0.0.2 (%r)" % r)
r = attempt("127.0.0.1", "Alice-Secret-77")
check(r.status == 200, "alice herself, at another address, registers (%r)" % r)

# 10 more failures for alice, from two more addresses: the login waits.
for ip in ("127.0.0.3", "127.0.0.4"):
    for i in range(5):
        attempt(ip, "other-%d" % i)
r = attempt("127.0.0.3", "Alice-Secret-77")
check(r.status == 403 and r.phrase == "Too Many Failed Attempts",
      "20 failures for alice: an address that failed before waits (%r)" % r)
r = attempt("127.0.0.5", "Alice-Secret-77")
check(r.status == 200, "a clean address is still checked: 200 (%r)" % r)
r = attempt("127.0.0.1", "Alice-Secret-77")
check(r.status == 200, "alice's own address still registers (%r)" % r)

raise SystemExit(1 if failures else 0)
