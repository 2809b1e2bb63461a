#!/usr/bin/env python3
"""Prints N loopback ports that are free for both UDP and TCP right now."""
import socket, sys

def free_port():
    while True:
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        port = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
        except OSError:
            t.close()
            continue
        t.close(); u.close()
        return port

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1
seen = set()
while len(seen) < n:
    seen.add(free_port())
print(" ".join(str(p) for p in seen))
