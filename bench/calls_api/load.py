#!/usr/bin/env python3
"""load.py URL USER PASSWORD RATE SECONDS CONNS BODY: POSTs BODY (form
data) to URL at RATE requests per second for SECONDS, over CONNS
keep-alive HTTP/1.1 connections (Basic auth), each request sent at its
scheduled time or as soon as its connection is free. Prints one JSON
object: sent, per-status counts, latency percentiles (ms) and the wall
time. Standard library only; one process, asyncio.
"""
import asyncio
import base64
import json
import sys
import time
from urllib.parse import urlsplit

url, user, password = sys.argv[1:4]
rate, secs, conns = float(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6])
body = sys.argv[7].encode()
u = urlsplit(url)
auth = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
head = ("POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        "Content-Length: %d\r\n\r\n" % (u.path, u.netloc, auth, len(body))).encode()
total = int(rate * secs)
statuses, lat = {}, []


async def worker(k, t0):
    r, w = await asyncio.open_connection(u.hostname, u.port)
    for i in range(k, total, conns):
        delay = t0 + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        start = time.monotonic()
        w.write(head + body)
        status = int((await r.readline()).split()[1])
        length = 0
        while True:
            line = await r.readline()
            if line in (b"\r\n", b""):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        await r.readexactly(length)
        lat.append((time.monotonic() - start) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
    w.close()


async def main():
    t0 = time.monotonic() + 0.2
    await asyncio.gather(*(worker(k, t0) for k in range(conns)))
    return time.monotonic() - t0

wall = asyncio.run(main())
lat.sort()
pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))], 1) if lat else 0
print(json.dumps({"sent": total, "status": statuses, "p50": pct(0.5),
                  "p99": pct(0.99), "max": round(lat[-1], 1) if lat else 0,
                  "wall": round(wall, 2)}))
