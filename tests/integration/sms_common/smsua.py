#!/usr/bin/env python3
"""smsua.py: a small SIP MESSAGE user agent for the messaging tests, over
UDP on 127.0.0.1 only (Python standard library, with sipreg.py from
registrar_common for REGISTER and digest).

  smsua.py listen --login alice --password PW --log FILE [--lifetime S]
                  [--reply 200] [--port P --no-register]
      registers alice (unless --no-register), then answers every MESSAGE
      with --reply and appends it to FILE as a JSON line {"ruri", "from",
      "to", "body", "headers"}; SIGTERM or --lifetime ends it. Prints
      "ready" once registered.
  smsua.py send --to USER --body TEXT [--login bob --password PW]
                [--from-user U] [--ctype text/plain]
      sends one MESSAGE (after registering --login, when given, from the
      same socket) and prints the final status code.
"""
import argparse
import json
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "registrar_common"))
import sipreg  # noqa: E402


def parse_request(raw):
    head, _, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    method, ruri, _ = lines[0].split(" ", 2)
    headers = []
    compact = {"f": "from", "t": "to", "v": "via", "i": "call-id", "l": "content-length",
               "c": "content-type"}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k = k.strip().lower()
            headers.append((compact.get(k, k), v.strip()))
    return method, ruri, headers, body


def hget(headers, name):
    for k, v in headers:
        if k == name:
            return v
    return None


def user_of(value):
    v = value or ""
    if "sip:" in v:
        v = v.split("sip:", 1)[1]
        return v.split("@", 1)[0].split(";", 1)[0].split(">", 1)[0]
    return ""


def respond(sock, addr, raw, status, phrase):
    _, _, headers, _ = parse_request(raw)
    out = ["SIP/2.0 %d %s" % (status, phrase)]
    for k, v in headers:
        if k in ("via", "from", "call-id", "cseq"):
            out.append("%s: %s" % (k.title() if k != "call-id" else "Call-ID", v))
        elif k == "to":
            out.append("To: %s%s" % (v, "" if ";tag=" in v else ";tag=ua%d" % os.getpid()))
    out.append("Content-Length: 0")
    sock.sendto(("\r\n".join(out) + "\r\n\r\n").encode(), addr)


def listen(a):
    port = int(os.environ["SB_SIP_PORT"])
    if a.no_register:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", a.port))
    else:
        c = sipreg.Client(port, a.login, a.password)
        r = c.register(expires=300)
        if r.status != 200:
            print("register failed: %d" % r.status, flush=True)
            return 1
        sock = c.sock
    print("ready", flush=True)
    end = time.time() + a.lifetime
    sock.settimeout(0.2)
    while time.time() < end:
        try:
            data, addr = sock.recvfrom(65535)
        except socket.timeout:
            continue
        raw = data.decode(errors="replace")
        if raw.startswith("SIP/2.0"):
            continue
        method, ruri, headers, body = parse_request(raw)
        if method == "MESSAGE":
            rec = {"ruri": ruri, "from": user_of(hget(headers, "from")),
                   "to": user_of(hget(headers, "to")), "body": body,
                   "ctype": hget(headers, "content-type"),
                   "headers": {k: v for k, v in headers if k.startswith("x-")}}
            with open(a.log, "a") as f:
                f.write(json.dumps(rec) + "\n")
            respond(sock, addr, raw, a.reply, "OK" if a.reply < 300 else "Refused")
        elif method != "ACK":
            respond(sock, addr, raw, 200, "OK")
    return 0


def send(a):
    port = int(os.environ["SB_SIP_PORT"])
    c = sipreg.Client(port, a.login or a.from_user or "outsider", a.password)
    if a.login:
        r = c.register(expires=300)
        if r.status != 200:
            print("register failed: %d" % r.status)
            return 1
    extra = ["Content-Type: %s" % a.ctype]
    r = c.transact(method="MESSAGE", ruri="sip:%s@127.0.0.1:%d" % (a.to, port),
                   to_user=a.to, body=a.body, extra=extra, contacts=[])
    print(r.status)
    if a.login:
        c.register(expires=0)
    return 0


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    li = sub.add_parser("listen")
    li.add_argument("--login", default="ua")
    li.add_argument("--password")
    li.add_argument("--log", required=True)
    li.add_argument("--lifetime", type=float, default=60)
    li.add_argument("--reply", type=int, default=200)
    li.add_argument("--port", type=int, default=0)
    li.add_argument("--no-register", action="store_true")
    se = sub.add_parser("send")
    se.add_argument("--to", required=True)
    se.add_argument("--body", required=True)
    se.add_argument("--login")
    se.add_argument("--password")
    se.add_argument("--from-user")
    se.add_argument("--ctype", default="text/plain;charset=UTF-8")
    a = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    return listen(a) if a.cmd == "listen" else send(a)


if __name__ == "__main__":
    sys.exit(main())
