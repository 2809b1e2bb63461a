#!/usr/bin/env python3
"""load.py: the SMS benchmark's two peers, on 127.0.0.1 only.

  load.py --http PORT --ac AC --token TOKEN --proxy PORT -n N -c CONNS

* a SIP sink on --proxy (UDP) answering 200 to every MESSAGE (the
  carrier behind sip.outbound_proxy), in a thread;
* N POSTs of SMS/Messages.json (From=5000, To=+1555xxxxxxx) over CONNS
  keep-alive HTTP/1.1 connections (asyncio, raw sockets), with the
  account's token.

Prints one line: "accepted N in S s (R/s); delivered M in S2 s (R2/s)",
with delivery timed from the first POST to the last MESSAGE received.
Bounded: it gives up 30 s after the last POST.
"""
import argparse
import asyncio
import base64
import socket
import threading
import time

stats = {"messages": 0, "last": 0.0}
seen = set()                    # Call-IDs: a retransmission counts once


def sink(port, stop):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind(("127.0.0.1", port))
    s.settimeout(0.2)
    while not stop.is_set():
        try:
            data, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        text = data.decode(errors="replace")
        if not text.startswith("MESSAGE "):
            continue
        head = text.split("\r\n\r\n", 1)[0].split("\r\n")
        out = ["SIP/2.0 200 OK"]
        call_id = None
        for line in head[1:]:
            k = line.split(":", 1)[0].strip().lower()
            if k in ("call-id", "i"):
                call_id = line.split(":", 1)[1].strip()
            if k in ("via", "v", "from", "f", "call-id", "i", "cseq"):
                out.append(line)
            elif k in ("to", "t"):
                out.append(line + ";tag=sink")
        out.append("Content-Length: 0")
        s.sendto(("\r\n".join(out) + "\r\n\r\n").encode(), addr)
        if call_id not in seen:
            seen.add(call_id)
            stats["messages"] += 1
            stats["last"] = time.time()


async def worker(port, path, auth, count, results):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    for i in range(count):
        body = ("From=5000&To=%%2B1555%07d&Body=Load+test+message+%d" % (i, i)).encode()
        req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n"
               "Content-Length: %d\r\n\r\n" % (path, auth, len(body))).encode() + body
        w.write(req)
        status_line = await r.readline()
        length = 0
        while True:
            line = await r.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        if length:
            await r.readexactly(length)
        results.append(status_line.split(b" ")[1] == b"200")
    w.close()


async def main_async(a):
    auth = base64.b64encode(("%s:%s" % (a.ac, a.token)).encode()).decode()
    path = "/restcomm/2012-04-24/Accounts/%s/SMS/Messages.json" % a.ac
    results = []
    per = a.n // a.c
    t0 = time.time()
    await asyncio.gather(*[worker(a.http, path, auth, per, results) for _ in range(a.c)])
    return t0, time.time(), results


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--http", type=int, required=True)
    p.add_argument("--proxy", type=int, required=True)
    p.add_argument("--ac", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("-n", type=int, default=10000)
    p.add_argument("-c", type=int, default=16)
    a = p.parse_args()
    stop = threading.Event()
    th = threading.Thread(target=sink, args=(a.proxy, stop), daemon=True)
    th.start()
    t0, t1, results = asyncio.run(main_async(a))
    ok = sum(results)
    deadline = time.time() + 30
    while stats["messages"] < ok and time.time() < deadline:
        time.sleep(0.05)
    stop.set()
    acc_s = t1 - t0
    del_s = (stats["last"] or t1) - t0
    print("accepted %d of %d in %.2f s (%.0f/s); delivered %d in %.2f s (%.0f/s)"
          % (ok, len(results), acc_s, ok / acc_s, stats["messages"], del_s,
             stats["messages"] / del_s if del_s > 0 else 0))


if __name__ == "__main__":
    main()
