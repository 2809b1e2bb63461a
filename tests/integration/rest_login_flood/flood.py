#!/usr/bin/env python3
"""flood.py PORT USER WRONG GOOD_USER GOOD_PASSWORD: sends wrong-password
logins for USER from 127.0.0.2 on 100 connections at once (each a
password check of about 100 ms on the thread pool), and meanwhile one
correct login from 127.0.0.1 for GOOD_USER whose password the server has
not checked yet. Prints the good login's status and seconds, then the
flood's status counts ("401=N 429=M ...")."""
import base64, collections, socket, sys, threading, time

port, user, wrong, good_user, good_pw = sys.argv[1:6]
PATH = "/restcomm/2012-04-24/Accounts.json/"


def request(src, u, p, sock=None):
    auth = base64.b64encode(("%s:%s" % (u, p)).encode()).decode()
    if sock is None:
        sock = socket.create_connection(("127.0.0.1", int(port)), timeout=30,
                                        source_address=(src, 0))
    sock.sendall(("GET %s%s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s"
                  "\r\n\r\n" % (PATH, u, auth)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise OSError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1]), sock


counts = collections.Counter()
stop = threading.Event()


def flooder():
    sock = None
    while not stop.is_set():
        try:
            st, sock = request("127.0.0.2", user, wrong, sock)
            counts[st] += 1
        except OSError:
            counts["closed"] += 1
            sock = None
            time.sleep(0.05)


threads = [threading.Thread(target=flooder, daemon=True) for _ in range(100)]
for t in threads:
    t.start()
time.sleep(1.5)                 # the flood is in full swing
t0 = time.monotonic()
try:
    st, s = request("127.0.0.1", good_user, good_pw)
    s.close()
except OSError:
    st = 0
secs = time.monotonic() - t0
stop.set()
for t in threads:
    t.join(5)
print("%d %.2f" % (st, secs))
print(" ".join("%s=%d" % (k, v) for k, v in sorted(counts.items(), key=str)))
