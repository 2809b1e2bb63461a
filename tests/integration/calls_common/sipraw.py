#!/usr/bin/env python3
"""sipraw.py: raw SIP requests for the bad-input tests (UDP, 127.0.0.1).

    sipraw.py bye-unknown          a BYE in a dialog nobody has: prints
                                   the status of the answer
    sipraw.py same-callid NUMBER N 2N INVITEs with one Call-ID: N with
                                   one From tag and rising CSeqs (one
                                   dialog's overlapping INVITEs), then N
                                   with their own From tags; ACKs each
                                   final answer and prints one final per
                                   transaction as same:<status> or
                                   own:<status>
    sipraw.py burst NUMBER N       N INVITEs with their own Call-IDs at
                                   once; ACKs (and BYEs) the finals and
                                   prints one per INVITE, sorted, as
                                   <status> or <status>/<Retry-After>
    sipraw.py options              prints the status of an OPTIONS
    sipraw.py refer-out            a REFER outside any dialog; prints
                                   "status|Reason|Event"
    sipraw.py refer-unknown        a REFER with a To tag in a dialog
                                   nobody has; prints the same

The server's port comes from SB_SIP_PORT. Standard library only; every
wait is bounded.
"""
import os
import random
import re
import socket
import string
import sys
import time

PORT = int(os.environ["SB_SIP_PORT"])


def rand(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


SDP = ("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 7000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n")


class Sock:
    def __init__(self):
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind(("127.0.0.1", 0))
        self.s.settimeout(0.2)
        self.port = self.s.getsockname()[1]

    def send(self, text):
        self.s.sendto(text.encode(), ("127.0.0.1", PORT))

    def recv_all(self, seconds):
        out = []
        end = time.time() + seconds
        while time.time() < end:
            try:
                data, _ = self.s.recvfrom(65535)
                out.append(data.decode(errors="replace"))
            except socket.timeout:
                pass
        return out


def request(sock, method, ruri, call_id, from_tag, cseq, to_tag=None, branch=None,
            body="", extra=()):
    branch = branch or "z9hG4bK" + rand()
    lines = [
        "%s %s SIP/2.0" % (method, ruri),
        "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (sock.port, branch),
        "Max-Forwards: 70",
        "From: <sip:bad@127.0.0.1:%d>;tag=%s" % (sock.port, from_tag),
        "To: <%s>%s" % (ruri, ";tag=" + to_tag if to_tag else ""),
        "Call-ID: %s" % call_id,
        "CSeq: %d %s" % (cseq, method),
        "Contact: <sip:bad@127.0.0.1:%d>" % sock.port,
    ] + list(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body))
    sock.send("\r\n".join(lines) + "\r\n\r\n" + body)
    return branch


def status_of(msg):
    m = re.match(r"SIP/2.0 (\d+)", msg)
    return int(m.group(1)) if m else None


def header(msg, name):
    m = re.search(r"(?im)^%s\s*:\s*(.*)$" % re.escape(name), msg)
    return m.group(1).strip() if m else None


def ack_finals(sock, msgs, ruri):
    """ACKs every final non-2xx answer (as a UAC must) and BYEs 2xx ones."""
    for m in msgs:
        st = status_of(m)
        if st is None or st < 200:
            continue
        via = header(m, "Via")
        to = header(m, "To")
        frm = header(m, "From")
        cid = header(m, "Call-ID")
        cseq = int(header(m, "CSeq").split()[0])
        lines = ["ACK %s SIP/2.0" % ruri, "Via: %s" % via, "Max-Forwards: 70",
                 "From: %s" % frm, "To: %s" % to, "Call-ID: %s" % cid,
                 "CSeq: %d ACK" % cseq, "Content-Length: 0"]
        sock.send("\r\n".join(lines) + "\r\n\r\n")
        if 200 <= st < 300:
            lines = ["BYE %s SIP/2.0" % ruri,
                     "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport" % (sock.port, rand()),
                     "Max-Forwards: 70", "From: %s" % frm, "To: %s" % to,
                     "Call-ID: %s" % cid, "CSeq: %d BYE" % (cseq + 1), "Content-Length: 0"]
            sock.send("\r\n".join(lines) + "\r\n\r\n")


def main():
    what = sys.argv[1]
    sock = Sock()
    if what == "bye-unknown":
        ruri = "sip:1111@127.0.0.1:%d" % PORT
        request(sock, "BYE", ruri, rand(16), rand(), 2, to_tag=rand())
        finals = [status_of(m) for m in sock.recv_all(1.5) if (status_of(m) or 0) >= 200]
        print(finals[0] if finals else "none")
    elif what in ("refer-out", "refer-unknown"):
        # A REFER outside any dialog (new Call-ID, no To tag), or in a
        # dialog nobody has (random Call-ID with a To tag): prints the
        # final status and its Reason and Event headers.
        ruri = "sip:bob@127.0.0.1:%d" % PORT
        to_tag = rand() if what == "refer-unknown" else None
        request(sock, "REFER", ruri, rand(16), rand(), 1, to_tag=to_tag,
                extra=["Refer-To: <sip:alice@127.0.0.1:%d>" % PORT])
        finals = [m for m in sock.recv_all(1.5) if (status_of(m) or 0) >= 200]
        if not finals:
            print("none")
        else:
            m = finals[0]
            print("%d|%s|%s" % (status_of(m), header(m, "Reason") or "",
                                header(m, "Event") or ""))
    elif what == "options":
        ruri = "sip:127.0.0.1:%d" % PORT
        request(sock, "OPTIONS", ruri, rand(16), rand(), 1)
        finals = [status_of(m) for m in sock.recv_all(1.0) if (status_of(m) or 0) >= 200]
        print(finals[0] if finals else "none")
    elif what == "burst":
        number, n = sys.argv[2], int(sys.argv[3])
        ruri = "sip:%s@127.0.0.1:%d" % (number, PORT)
        cids = ["burst-%d-%s" % (i, rand(12)) for i in range(n)]
        for cid in cids:
            request(sock, "INVITE", ruri, cid, rand(), 1, body=SDP)
        finals = {}
        end = time.time() + 8.0
        while time.time() < end and len(finals) < n:
            msgs = sock.recv_all(0.3)
            ack_finals(sock, msgs, ruri)
            for m in msgs:
                st = status_of(m)
                if st is not None and st >= 200:
                    cid = header(m, "Call-ID")
                    retry = header(m, "Retry-After")
                    finals.setdefault(cid, "%d/%s" % (st, retry) if retry else str(st))
        sock.recv_all(0.3)
        print(" ".join(sorted(finals.get(c, "none") for c in cids)))
    elif what == "same-callid":
        number, n = sys.argv[2], int(sys.argv[3])
        ruri = "sip:%s@127.0.0.1:%d" % (number, PORT)
        cid = "flood-" + rand(12)
        tag = rand()
        for i in range(n):
            request(sock, "INVITE", ruri, cid, tag, 1 + i, body=SDP)
        for i in range(n):
            request(sock, "INVITE", ruri, cid, rand(), 1, body=SDP)
        msgs = sock.recv_all(4.0)
        ack_finals(sock, msgs, ruri)
        sock.recv_all(0.5)
        # One final per transaction (retransmissions collapse): the first
        # From tag's INVITEs as "same:<status>", the others "own:<status>".
        seen = {}
        for m in msgs:
            st = status_of(m)
            if st is None or st < 200:
                continue
            key = (header(m, "From"), header(m, "CSeq"))
            seen.setdefault(key, st)
        out = []
        for (frm, _), st in seen.items():
            out.append("%s:%d" % ("same" if ("tag=" + tag) in frm else "own", st))
        print(" ".join(sorted(out)))
    else:
        sys.exit("unknown mode " + what)


if __name__ == "__main__":
    main()
