#!/usr/bin/env python3
"""rtptool.py: one side of an RTP stream for the integration tests.

    rtptool.py talk --bind PORT --to HOST:PORT --count N --seconds S --out FILE

binds 127.0.0.1:PORT (the port its SIP side put in SDP, so symmetric RTP
sees packets come from where it expects them), sends N PCMU packets (pt 0,
160 bytes, 20 ms apart) to HOST:PORT, counts the RTP packets it receives
until S seconds have passed, and writes "sent=N received=M ssrcs=K" to
FILE. Bounded in time; standard library only. sipp scenarios start it with
<exec command="... &"/> once they know the other side's port.
"""
import argparse
import socket
import struct
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["talk"])
    ap.add_argument("--bind", type=int, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    host, port = a.to.rsplit(":", 1)
    dest = (host, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.bind))
    s.setblocking(False)
    ssrc = 0x12345678 ^ a.bind
    seq, ts = 1000, 5000
    sent = received = 0
    ssrcs = set()
    start = time.time()
    next_send = start
    while True:
        now = time.time()
        if now - start >= a.seconds:
            break
        if sent < a.count and now >= next_send:
            hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
            try:
                s.sendto(hdr + b"\xff" * 160, dest)
                sent += 1
            except OSError:
                pass
            seq += 1
            ts += 160
            next_send += 0.02
        try:
            while True:
                data, _ = s.recvfrom(2048)
                if len(data) >= 12 and (data[0] >> 6) == 2:
                    received += 1
                    ssrcs.add(struct.unpack("!I", data[8:12])[0])
        except BlockingIOError:
            pass
        time.sleep(0.002)
    with open(a.out, "w") as f:
        f.write("sent=%d received=%d ssrcs=%d\n" % (sent, received, len(ssrcs)))


if __name__ == "__main__":
    main()
