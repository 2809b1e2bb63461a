#!/usr/bin/env python3
"""flood.py PORT PHASE: holds silent TCP connections to the REST port and
measures how long a request from 127.0.0.1 takes meanwhile (the event
loop's response time under the flood), printing "STATUS SECONDS".

PHASE one:    1,100 silent connections from 127.0.0.2
PHASE many:   1,110 silent connections spread over 127.0.0.3-127.0.0.39
              (30 each: under the per-address cap, over the global one)
PHASE silent: one silent connection; prints the seconds until the server
              closes it
"""
import socket, sys, time

port, phase = int(sys.argv[1]), sys.argv[2]


def silent(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        pass
    return s


def probe():
    """A request from 127.0.0.1: status and seconds (status 0: refused)."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20,
                                     source_address=("127.0.0.1", 0))
        s.sendall(b"GET /restcomm/2012-04-24/Accounts HTTP/1.1\r\n"
                  b"Host: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        status = int(data.split(b" ")[1]) if data.startswith(b"HTTP/") else 0
    except OSError:
        status = 0
    return status, time.monotonic() - t0


if phase == "silent":
    s = silent("127.0.0.1")
    s.settimeout(30)
    t0 = time.monotonic()
    try:
        s.recv(1)
    except OSError:
        pass
    print("%.1f" % (time.monotonic() - t0))
    sys.exit(0)

socks = []
if phase == "one":
    socks = [silent("127.0.0.2") for _ in range(1100)]
else:
    for i in range(1110):
        socks.append(silent("127.0.0.%d" % (3 + i % 37)))
time.sleep(0.5)               # let the server take them all in
status, secs = probe()
print("%d %.2f" % (status, secs))
for s in socks:
    s.close()
