#!/usr/bin/env python3
"""first_audio.py: time from the caller's ACK to the first RTP packet of a
prompt, as a phone measures it.

    first_audio.py --sip PORT --number NUM --calls N [--concurrency C]

Places N calls (C at a time) from a raw SIP UAC on 127.0.0.1 to NUM on the
server at PORT: INVITE with a PCMU offer, ACK on the 200, then waits for
the first RTP packet on the port its SDP gave and notes the time since the
ACK left; then BYE. Prints one line of JSON: {"calls", "answered",
"heard", "p50_ms", "p99_ms", "max_ms"}. A call that hears nothing within
3 s counts as not heard (and is not in the percentiles). Standard library
only; every wait is bounded.
"""
import argparse
import json
import random
import re
import socket
import string
import threading
import time


def rand(n=10):
    return "".join(random.choice(string.ascii_lowercase + string.digits)
                   for _ in range(n))


def header(msg, name):
    m = re.search(r"(?im)^%s\s*:\s*(.*)$" % re.escape(name), msg)
    return m.group(1).strip() if m else None


def one_call(sip_port, number, out):
    sig = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sig.bind(("127.0.0.1", 0))
    sig.settimeout(0.05)
    rtp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtp.bind(("127.0.0.1", 0))
    rtp.setblocking(False)
    lport, rport = sig.getsockname()[1], rtp.getsockname()[1]
    server = ("127.0.0.1", sip_port)
    ruri = "sip:%s@127.0.0.1:%d" % (number, sip_port)
    cid, ftag, branch = rand(16), rand(), "z9hG4bK" + rand()
    sdp = ("v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
           "t=0 0\r\nm=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
           "a=rtpmap:101 telephone-event/8000\r\n" % rport)
    base = ["Via: SIP/2.0/UDP 127.0.0.1:%d;branch=%s;rport" % (lport, branch),
            "Max-Forwards: 70",
            "From: <sip:bench@127.0.0.1:%d>;tag=%s" % (lport, ftag),
            "To: <%s>" % ruri, "Call-ID: %s" % cid]
    inv = (["INVITE %s SIP/2.0" % ruri] + base +
           ["CSeq: 1 INVITE", "Contact: <sip:bench@127.0.0.1:%d>" % lport,
            "Content-Type: application/sdp", "Content-Length: %d" % len(sdp)])
    sig.sendto(("\r\n".join(inv) + "\r\n\r\n" + sdp).encode(), server)
    result = {"answered": False, "ms": None}
    to = None
    end = time.time() + 10
    while time.time() < end and to is None:
        try:
            data = sig.recv(65535).decode(errors="replace")
        except socket.timeout:
            continue
        m = re.match(r"SIP/2.0 (\d+)", data)
        if not m:
            continue
        st = int(m.group(1))
        if st >= 300:
            break
        if 200 <= st < 300:
            to = header(data, "To")
    if to is None:
        out.append(result)
        sig.close()
        rtp.close()
        return
    result["answered"] = True
    ack = (["ACK %s SIP/2.0" % ruri,
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport" % (lport, rand()),
            "Max-Forwards: 70",
            "From: <sip:bench@127.0.0.1:%d>;tag=%s" % (lport, ftag),
            "To: %s" % to, "Call-ID: %s" % cid, "CSeq: 1 ACK",
            "Content-Length: 0"])
    # Packets sent before the ACK (early media) are not the prompt.
    while True:
        try:
            rtp.recv(2048)
        except BlockingIOError:
            break
    t0 = time.perf_counter()
    sig.sendto(("\r\n".join(ack) + "\r\n\r\n").encode(), server)
    deadline = t0 + 3.0
    while time.perf_counter() < deadline:
        try:
            rtp.recv(2048)
            result["ms"] = (time.perf_counter() - t0) * 1000.0
            break
        except BlockingIOError:
            time.sleep(0.0002)
    bye = (["BYE %s SIP/2.0" % ruri,
            "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK%s;rport" % (lport, rand()),
            "Max-Forwards: 70",
            "From: <sip:bench@127.0.0.1:%d>;tag=%s" % (lport, ftag),
            "To: %s" % to, "Call-ID: %s" % cid, "CSeq: 2 BYE",
            "Content-Length: 0"])
    sig.sendto(("\r\n".join(bye) + "\r\n\r\n").encode(), server)
    end = time.time() + 2
    while time.time() < end:
        try:
            if sig.recv(65535).startswith(b"SIP/2.0 200"):
                break
        except socket.timeout:
            pass
    sig.close()
    rtp.close()
    out.append(result)


def pct(xs, p):
    if not xs:
        return None
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return round(xs[k], 2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sip", type=int, required=True)
    ap.add_argument("--number", required=True)
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=1)
    a = ap.parse_args()
    out = []
    left = a.calls
    while left > 0:
        batch = min(left, a.concurrency)
        ts = [threading.Thread(target=one_call, args=(a.sip, a.number, out))
              for _ in range(batch)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        left -= batch
    ms = [r["ms"] for r in out if r["ms"] is not None]
    print(json.dumps({"calls": a.calls,
                      "answered": sum(1 for r in out if r["answered"]),
                      "heard": len(ms), "p50_ms": pct(ms, 50),
                      "p99_ms": pct(ms, 99),
                      "max_ms": round(max(ms), 2) if ms else None}))


if __name__ == "__main__":
    main()
