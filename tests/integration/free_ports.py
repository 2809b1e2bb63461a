#!/usr/bin/env python3
"""Prints N loopback ports that are free for both UDP and TCP right now
(free_ports.py N even: only even ones, as RTP wants).

The ports are drawn at random from 20000-32767: below Linux's ephemeral
range (32768-60999), where sipp, rtptool and the kernel pick their own
ports, and below the media ranges the runner hands out (40000-59999).
Under the integration runner they come from its slot, SB_PORT_BASE to
SB_PORT_BASE + SB_PORT_SPAN - 1, which no other test running beside it
draws from: a port found free, released, and bound later by the test
cannot be taken by a neighbour meanwhile.
"""
import random, socket, sys

import os
if os.environ.get("SB_PORT_BASE"):
    LOW = int(os.environ["SB_PORT_BASE"])
    HIGH = LOW + int(os.environ.get("SB_PORT_SPAN", "60")) - 1
else:
    LOW, HIGH = 20000, 32767

def free(port):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        t.bind(("127.0.0.1", port))
        u.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        t.close(); u.close()

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
even = len(sys.argv) > 2 and sys.argv[2] == "even"
# The ports the runner has handed out already (bound later, by the server
# and the test's peers) are not free, whatever a bind says now.
taken = {int(os.environ[k]) for k in ("SB_SIP_PORT", "SB_HTTP_PORT", "SB_AUX_PORT",
                                      "SB_AUX_PORT2") if os.environ.get(k, "").isdigit()}
seen = []
rng = random.SystemRandom()
while len(seen) < n:
    p = rng.randint(LOW, HIGH)
    if even:
        p &= ~1
        if p < LOW:
            continue
    if p not in seen and p not in taken and free(p):
        seen.append(p)
print(" ".join(str(p) for p in seen))
