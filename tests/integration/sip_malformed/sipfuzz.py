#!/usr/bin/env python3
"""sipfuzz.py: malformed SIP against the server, over UDP and TCP
(127.0.0.1, port SB_SIP_PORT). Standard library only; every wait bounded.

    sipfuzz.py cases           sends each hand-made case and prints one line
                               "name status" (status "-" when nothing came
                               back within the wait)
    sipfuzz.py mutate N SEED   sends N seeded random mutations of valid
                               INVITEs, REGISTERs, REFERs and SUBSCRIBEs
                               (bytes flipped, lines dropped or repeated,
                               header values truncated or bloated), then
                               prints the status of an OPTIONS sent
                               afterwards
    sipfuzz.py mutate-tcp N SEED
                               the same over TCP, 50 requests to a
                               connection (no lines dropped or cut, so
                               the stream keeps its framing), then the
                               status of an OPTIONS over UDP
    sipfuzz.py tcp-split       one OPTIONS over TCP in many small writes,
                               then a second request with a Content-Length
                               past its body on the same connection; prints
                               the status of the first and "open" or
                               "closed" for the connection after 1 s
"""
import os
import random
import re
import socket
import string
import sys
import time

PORT = int(os.environ["SB_SIP_PORT"])
HOST = "127.0.0.1"


def rand(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


SDP = ("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


class Udp:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((HOST, 0))
        self.port = self.s.getsockname()[1]

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendto(data, (HOST, PORT))

    def final_status(self, wait=1.0):
        """The first final (>= 200) status seen within wait, or '-'."""
        end = time.time() + wait
        while True:
            left = end - time.time()
            if left <= 0:
                return "-"
            self.s.settimeout(left)
            try:
                data, _ = self.s.recvfrom(65535)
            except socket.timeout:
                return "-"
            m = re.match(rb"SIP/2\.0 (\d{3}) ", data)
            if m and int(m.group(1)) >= 200:
                return m.group(1).decode()


def message(port, method="INVITE", ruri=None, headers=None, drop=(), body=None,
            extra=(), first_line=None):
    ruri = ruri or "sip:1000@%s:%d" % (HOST, PORT)
    call_id = rand(16)
    h = [
        ("Via", "SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport" % (HOST, port, rand())),
        ("Max-Forwards", "70"),
        ("From", "<sip:fuzz@%s:%d>;tag=%s" % (HOST, port, rand(6))),
        ("To", "<%s>" % ruri),
        ("Call-ID", call_id),
        ("CSeq", "1 %s" % method),
        ("Contact", "<sip:fuzz@%s:%d>" % (HOST, port)),
    ]
    if headers:
        h = [(k, headers.get(k, v)) for k, v in h]
    h = [(k, v) for k, v in h if k not in drop]
    if body is None:
        body = SDP if method == "INVITE" else ""
    if body and not any(k == "Content-Type" for k, _ in extra):
        h.append(("Content-Type", "application/sdp"))
    h.extend(extra)
    if not any(k == "Content-Length" for k, _ in h):
        h.append(("Content-Length", str(len(body.encode()))))
    line = first_line or "%s %s SIP/2.0" % (method, ruri)
    return line + "\r\n" + "".join("%s: %s\r\n" % kv for kv in h) + "\r\n" + body


def cases():
    def one(name, build, wait=1.0):
        u = Udp()
        u.send(build(u.port))
        print(name, u.final_status(wait), flush=True)
        # Answer-less cases must not leave a call behind: CANCEL is not
        # needed, every case here fails before a call starts.

    one("garbage", lambda p: os.urandom(300), 0.5)
    one("empty-lines", lambda p: "\r\n\r\n\r\n", 0.5)
    one("no-via", lambda p: message(p, drop=("Via",)), 0.5)
    one("no-cseq", lambda p: message(p, drop=("CSeq",)))
    one("no-call-id", lambda p: message(p, drop=("Call-ID",)))
    one("no-from", lambda p: message(p, drop=("From",)))
    one("bad-cseq-number", lambda p: message(p, headers={"CSeq": "abc INVITE"}))
    one("cseq-method-mismatch", lambda p: message(p, headers={"CSeq": "1 BYE"}))
    one("bad-request-line", lambda p: message(p, first_line="INVITE sip:1000@x SIP/3.0"))
    one("tel-uri", lambda p: message(p, ruri="tel:+1000"))
    one("http-uri", lambda p: message(p, ruri="http://example.com/"))
    one("unknown-method", lambda p: message(p, method="FROBNICATE"))
    one("require-unknown", lambda p: message(p, extra=(("Require", "x-no-such-ext"),)))
    one("content-type-text", lambda p: message(p, body="hello", extra=(("Content-Type", "text/plain"),)))
    one("content-length-short", lambda p: message(p, extra=(("Content-Length", "5"),)))
    one("content-length-long", lambda p: message(p, extra=(("Content-Length", "9999"),)))
    one("content-length-negative", lambda p: message(p, extra=(("Content-Length", "-1"),)))
    one("max-forwards-huge", lambda p: message(p, headers={"Max-Forwards": "99999999999999999999"}))
    one("huge-header", lambda p: message(p, extra=(("X-Big", "a" * 60000),)))
    one("many-headers", lambda p: message(p, extra=tuple(("X-H%d" % i, "v") for i in range(2000))))
    one("nul-in-header", lambda p: message(p, headers={"From": "<sip:fu\x00zz@127.0.0.1>;tag=1"}))
    one("sdp-garbage", lambda p: message(p, body="\x01\x02 not sdp at all \xff"))
    one("ack-alone", lambda p: message(p, method="ACK", body=""), 0.5)
    one("response-alone", lambda p: "SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKx\r\n"
        "From: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: nobody\r\nCSeq: 1 INVITE\r\n"
        "Content-Length: 0\r\n\r\n" % p, 0.5)
    # A repeated single-valued header is kept by sofia in the error list
    # as a header of its own class (this crashed the registrar once).
    one("register-repeated-header", lambda p: message(
        p, method="REGISTER", ruri="sip:%s" % HOST,
        extra=(("Max-Forwards", "70"), ("Authorization", AUTH), ("Expires", "60"))))
    one("register-bad-authorization", lambda p: message(
        p, method="REGISTER", ruri="sip:%s" % HOST,
        extra=(("Authorization", 'Digest username="alice", realm=,,,"'),)))
    one("options", lambda p: message(p, method="OPTIONS", ruri="sip:%s:%d" % (HOST, PORT)))


AUTH = ('Digest username="alice", realm="127.0.0.1", nonce="abc", uri="sip:127.0.0.1", '
        'response="0123456789abcdef0123456789abcdef", algorithm=MD5, qop=auth, '
        'nc=00000001, cnonce="xyz"')


def seed_message(rng, port):
    """A valid request to mutate, with its own Call-ID and branch: an
    INVITE, a REGISTER with credentials, an out-of-dialog REFER or a
    SUBSCRIBE."""
    kind = rng.randrange(4)
    if kind == 0:
        return message(port)
    if kind == 1:
        return message(port, method="REGISTER", ruri="sip:%s" % HOST,
                       extra=(("Authorization", AUTH), ("Expires", "3600")))
    if kind == 2:
        return message(port, method="REFER", extra=(("Refer-To", "<sip:carol@%s>" % HOST),
                                                    ("Referred-By", "<sip:bob@%s>" % HOST)))
    return message(port, method="SUBSCRIBE", extra=(("Event", "refer"),))


def mutate(n, seed):
    rng = random.Random(seed)
    u = Udp()
    for _ in range(n):
        data = bytearray(seed_message(rng, u.port).encode())
        for _ in range(rng.randint(1, 4)):
            op = rng.randrange(5)
            if len(data) < 2:
                break
            if op == 0:                         # flip bytes
                for _ in range(rng.randint(1, 8)):
                    data[rng.randrange(len(data))] = rng.randrange(256)
            elif op == 1:                       # drop a line
                lines = data.split(b"\r\n")
                del lines[rng.randrange(len(lines))]
                data = bytearray(b"\r\n".join(lines))
            elif op == 2:                       # repeat a line
                lines = data.split(b"\r\n")
                i = rng.randrange(len(lines))
                lines[i:i] = [lines[i]] * rng.randint(1, 50)
                data = bytearray(b"\r\n".join(lines))
            elif op == 3:                       # truncate
                data = data[: rng.randrange(1, len(data))]
            else:                               # bloat a value
                i = rng.randrange(len(data))
                data[i:i] = bytes(rng.choice(b";:<>@,= \t\"abc%") for _ in range(rng.randint(1, 400)))
        u.send(bytes(data[:65000]))
        if rng.random() < 0.1:
            time.sleep(0.002)
    # Drain what came back, then ask whether the server still answers.
    u.final_status(0.5)
    o = Udp()
    o.send(message(o.port, method="OPTIONS", ruri="sip:%s:%d" % (HOST, PORT)))
    print(o.final_status(float(os.environ.get("SB_FUZZ_WAIT", "3"))))


def mutate_tcp(n, seed):
    rng = random.Random(seed)
    for _ in range(n // 50):
        s = socket.create_connection((HOST, PORT), timeout=3)
        port = s.getsockname()[1]
        for _ in range(50):
            data = bytearray(seed_message(rng, port).replace("SIP/2.0/UDP", "SIP/2.0/TCP").encode())
            for _ in range(rng.randint(1, 3)):
                op = rng.randrange(3)
                if len(data) < 2:
                    break
                if op == 0:
                    for _ in range(rng.randint(1, 8)):
                        data[rng.randrange(len(data))] = rng.randrange(256)
                elif op == 1:
                    lines = data.split(b"\r\n")
                    i = rng.randrange(len(lines))
                    lines[i:i] = [lines[i]] * rng.randint(1, 50)
                    data = bytearray(b"\r\n".join(lines))
                else:
                    i = rng.randrange(len(data))
                    data[i:i] = bytes(rng.choice(b";:<>@,= \t\"abc%") for _ in range(rng.randint(1, 400)))
            try:
                s.sendall(bytes(data))
            except OSError:
                break
        s.close()
    o = Udp()
    o.send(message(o.port, method="OPTIONS", ruri="sip:%s:%d" % (HOST, PORT)))
    print(o.final_status(3.0))


def tcp_split():
    s = socket.create_connection((HOST, PORT), timeout=3)
    port = s.getsockname()[1]
    msg = message(port, method="OPTIONS", ruri="sip:%s:%d" % (HOST, PORT)).replace("SIP/2.0/UDP", "SIP/2.0/TCP")
    data = msg.encode()
    for i in range(0, len(data), 7):
        s.sendall(data[i:i + 7])
        time.sleep(0.001)
    buf = b""
    end = time.time() + 3
    while b"\r\n\r\n" not in buf and time.time() < end:
        chunk = s.recv(65535)
        if not chunk:
            break
        buf += chunk
    m = re.match(rb"SIP/2\.0 (\d{3}) ", buf)
    first = m.group(1).decode() if m else "-"
    bad = message(port, method="OPTIONS", ruri="sip:%s:%d" % (HOST, PORT),
                  extra=(("Content-Length", "100"),)).replace("SIP/2.0/UDP", "SIP/2.0/TCP")
    s.sendall(bad.encode())
    s.settimeout(1.0)
    state = "open"
    try:
        while True:
            chunk = s.recv(65535)
            if not chunk:
                state = "closed"
                break
    except socket.timeout:
        pass
    except ConnectionResetError:
        state = "closed"
    s.close()
    print(first, state)


if __name__ == "__main__":
    if sys.argv[1] == "cases":
        cases()
    elif sys.argv[1] == "mutate":
        mutate(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "mutate-tcp":
        mutate_tcp(int(sys.argv[2]), int(sys.argv[3]))
    elif sys.argv[1] == "tcp-split":
        tcp_split()
    else:
        sys.exit("unknown command " + sys.argv[1])
