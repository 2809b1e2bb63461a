#!/usr/bin/env python3
"""httpfuzz.py SEED N: N connections to the REST port (SB_HTTP_PORT), each
carrying one to three seeded random mutations of valid REST requests
(bytes flipped, junk inserted, cut short, lines repeated), then one
authenticated GET of the account list; prints that answer's status line
("HTTP/1.1 200"). Standard library only; every wait is bounded. The
mutated requests' answers are read and dropped: what matters is that the
server keeps answering and never crashes (the runner checks its exit and
the sanitizer report)."""
import base64
import os
import random
import socket
import sys

PORT = int(os.environ["SB_HTTP_PORT"])
EMAIL = os.environ["SB_ADMIN_EMAIL"]
AUTH = base64.b64encode(("%s:%s" % (EMAIL, os.environ["SB_ADMIN_PASSWORD"])).encode()).decode()
PATHS = [
    "/restcomm/2012-04-24/Accounts.json",
    "/restcomm/2012-04-24/Accounts/%s/Clients.json" % EMAIL,
    "/restcomm/2012-04-24/Accounts/%s/IncomingPhoneNumbers" % EMAIL,
    "/restcomm/2012-04-24/Accounts/%s/Calls.json?Page=1&PageSize=2" % EMAIL,
]


def valid_request(rng):
    body = ("FriendlyName=x&VoiceUrl=http://127.0.0.1/a.xml&Login=u%d"
            "&Password=Pw-123456789" % rng.randrange(10 ** 6))
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            "Content-Length: %d\r\n\r\n%s" % (rng.choice(["GET", "POST", "PUT", "DELETE"]),
                                              rng.choice(PATHS), AUTH, len(body), body)).encode()


def mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        if len(data) < 2:
            break
        op = rng.randrange(4)
        if op == 0:                             # flip bytes
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:                           # insert junk
            i = rng.randrange(len(data))
            data[i:i] = bytes(rng.choice(b"%&=;:\r\n \t\x00\xff/.?")
                              for _ in range(rng.randint(1, 300)))
        elif op == 2:                           # cut short
            data = data[: rng.randrange(1, len(data))]
        else:                                   # repeat a line
            lines = data.split(b"\r\n")
            i = rng.randrange(len(lines))
            lines[i:i] = [lines[i]] * rng.randint(1, 30)
            data = bytearray(b"\r\n".join(lines))
    return bytes(data)


def main(seed, n):
    rng = random.Random(seed)
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", PORT), timeout=2)
        try:
            for _ in range(rng.randint(1, 3)):
                s.sendall(mutate(rng, valid_request(rng)))
            s.shutdown(socket.SHUT_WR)
            s.settimeout(0.5)
            while s.recv(65536):
                pass
        except OSError:                         # reset, timeout: both fine
            pass
        s.close()
    s = socket.create_connection(("127.0.0.1", PORT), timeout=5)
    s.sendall(("GET /restcomm/2012-04-24/Accounts.json HTTP/1.1\r\nHost: x\r\n"
               "Authorization: Basic %s\r\nConnection: close\r\n\r\n" % AUTH).encode())
    print(s.recv(100)[:12].decode())


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
