#!/usr/bin/env python3
"""appserver.py: a small HTTP application server for the integration tests
and benchmarks. It serves RCML documents from a folder and records every
request it gets, so a test can check what Switchboard asked for.

    appserver.py --port 8090 --dir DOCS --log requests.jsonl [--lifetime 300]

* GET or POST /name serves DOCS/name, else DOCS/name.xml (Content-Type
  text/xml). {{Param}} in a document is replaced with the request's
  parameter of that name (query or form), XML-escaped; unknown ones become
  "".
* Every request is appended to the log as one JSON line:
  {"t": time, "method": "POST", "path": "/1111", "query": {...},
   "form": {...}, "params": {...}} (params = query and form merged; each
   value is the last one given).
* DOCS/_config.json (optional) tunes paths: {"/slow": {"delay_ms": 2000},
  "/broken": {"status": 500}, "/cb": {"status": 200, "body": ""}}.
  Paths under /cb/ (status callbacks, actions that end a test) answer
  200 with an empty body when no document exists; other missing
  documents answer 404.
* The server exits on its own after --lifetime seconds (default 300), so
  a failed test never leaves it running. Bound to 127.0.0.1 only.
* GET or HEAD /media/ANYTHING serves generated audio (media tests). What
  it serves is the defaults below, overridden by the query's parameters,
  overridden by DOCS/_media.json's entry for the path (read again on each
  request, so a test changes a file by rewriting it):
    freq 1000, freq2 (a second tone, optional), secs 2.0, rate 8000,
    channels 1, amp 0.5, enc "pcm16" (also pcm8, pcm24, float, ulaw,
    alaw: WAV files; mp3: MPEG layer III, written through libsndfile)
    max_age N         Cache-Control: max-age=N
    cache_control S   Cache-Control: S (instead)
    etag true         ETag: a hash of the body; If-None-Match with it
                      answers 304 (false: no ETag, never 304)
    status N, body S, content_type S   an error or a non-audio answer
    truncate N        only the first N bytes of the file (its header still
                      claims the full length)
    delay_ms N        wait before answering (a slow server)
  Each answer is logged (with "status" and "if_none_match") and counted:
  GET /__media/stats returns {"/media/x.wav": {"200": 1, "304": 2}}.

Python standard library only (MP3 needs libsndfile1, which the server
links anyway).
"""
import argparse
import hashlib
import json
import math
import os
import re
import struct
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit
from xml.sax.saxutils import escape

LOCK = threading.Lock()


def load_config(folder):
    path = os.path.join(folder, "_config.json")
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


MEDIA_DEFAULTS = {"freq": 1000.0, "freq2": None, "secs": 2.0, "rate": 8000,
                  "channels": 1, "amp": 0.5, "enc": "pcm16", "max_age": None,
                  "cache_control": None, "etag": True, "status": None,
                  "body": None, "content_type": None, "truncate": None,
                  "delay_ms": 0}
MEDIA_STATS = {}
GENERATED = {}


def media_spec(folder, path, query):
    spec = dict(MEDIA_DEFAULTS)
    for k, v in query.items():
        if k in spec:
            spec[k] = v
    p = os.path.join(folder, "_media.json")
    if os.path.exists(p):
        with open(p) as f:
            spec.update(json.load(f).get(path, {}))
    for k in ("freq", "secs", "amp"):
        spec[k] = float(spec[k])
    for k in ("rate", "channels", "delay_ms"):
        spec[k] = int(spec[k])
    if isinstance(spec["etag"], str):
        spec["etag"] = spec["etag"] not in ("0", "false", "no")
    return spec


def _samples(spec):
    rate, n = spec["rate"], int(round(spec["secs"] * spec["rate"]))
    amp = spec["amp"] * 32767
    f1, f2 = spec["freq"], spec["freq2"]
    w1 = 2 * math.pi * f1 / rate
    if f2:
        w2 = 2 * math.pi * float(f2) / rate
        return [amp / 2 * (math.sin(w1 * i) + math.sin(w2 * i)) for i in range(n)]
    return [amp * math.sin(w1 * i) for i in range(n)]


def _clip16(x):
    x = int(round(x))
    return -32768 if x < -32768 else 32767 if x > 32767 else x


def make_wav(spec):
    """A WAV file of spec's tone in spec's encoding (every channel alike)."""
    ch, rate, enc = spec["channels"], spec["rate"], spec["enc"]
    mono = _samples(spec)
    inter = [x for x in mono for _ in range(ch)]
    if enc == "pcm16":
        fmt, bits, data = 1, 16, struct.pack("<%dh" % len(inter), *map(_clip16, inter))
    elif enc == "pcm8":
        fmt, bits, data = 1, 8, bytes((_clip16(x) >> 8) + 128 for x in inter)
    elif enc == "pcm24":
        fmt, bits = 1, 24
        data = b"".join(struct.pack("<i", _clip16(x) << 8)[:3] for x in inter)
    elif enc == "float":
        fmt, bits, data = 3, 32, struct.pack("<%df" % len(inter), *[x / 32768.0 for x in inter])
    elif enc in ("ulaw", "alaw"):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "media_common"))
        import hear
        fmt, bits = (7 if enc == "ulaw" else 6), 8
        data = (hear.ulaw_encode if enc == "ulaw" else hear.alaw_encode)(inter)
    else:
        raise ValueError("unknown enc " + enc)
    align = ch * bits // 8
    if fmt == 1:
        fmt_chunk = struct.pack("<HHIIHH", fmt, ch, rate, rate * align, align, bits)
        extra = b""
    else:
        fmt_chunk = struct.pack("<HHIIHHH", fmt, ch, rate, rate * align, align, bits, 0)
        extra = b"fact" + struct.pack("<II", 4, len(mono))
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt_chunk)) + fmt_chunk + extra
            + b"data" + struct.pack("<I", len(data)) + data + (b"\0" if len(data) % 2 else b""))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def make_mp3(spec):
    """An MP3 of spec's tone, encoded by libsndfile (through LAME)."""
    import array
    import ctypes

    class SfInfo(ctypes.Structure):
        _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int),
                    ("channels", ctypes.c_int), ("format", ctypes.c_int),
                    ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]
    lib = ctypes.CDLL("libsndfile.so.1")
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SfInfo)]
    lib.sf_writef_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    lib.sf_writef_short.restype = ctypes.c_int64
    lib.sf_close.argtypes = [ctypes.c_void_p]
    ch = spec["channels"]
    inter = array.array("h", (_clip16(x) for x in _samples(spec) for _ in range(ch)))
    fd, path = tempfile.mkstemp(suffix=".mp3")
    os.close(fd)
    try:
        info = SfInfo(0, spec["rate"], ch, 0x230000 | 0x0082, 0, 0)  # MPEG, layer III
        sf = lib.sf_open(path.encode(), 0x20, ctypes.byref(info))
        if not sf:
            raise RuntimeError("libsndfile cannot write MP3")
        lib.sf_writef_short(sf, inter.buffer_info()[0], len(inter) // ch)
        lib.sf_close(sf)
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)


def media_bytes(spec):
    key = json.dumps([spec[k] for k in ("freq", "freq2", "secs", "rate", "channels",
                                        "amp", "enc")])
    with LOCK:
        if key in GENERATED:
            return GENERATED[key]
    data = make_mp3(spec) if spec["enc"] == "mp3" else make_wav(spec)
    with LOCK:
        GENERATED[key] = data
    return data


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "appserver/1"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("appserver: " + fmt % args + "\n")

    def _params(self):
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        form = {}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        ctype = self.headers.get("Content-Type") or ""
        if body and "application/x-www-form-urlencoded" in ctype:
            form = dict(parse_qsl(body.decode("utf-8", "replace"),
                                  keep_blank_values=True))
        return parts.path, query, form

    def _serve(self, method):
        path, query, form = self._params()
        params = dict(query)
        params.update(form)
        entry = {"t": time.time(), "method": method, "path": path,
                 "query": query, "form": form, "params": params}
        with LOCK:
            with open(self.server.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")
        conf = self.server.config.get(path, {})
        if conf.get("delay_ms"):
            time.sleep(conf["delay_ms"] / 1000.0)
        status = conf.get("status")
        body = conf.get("body")
        if body is None:
            name = path.lstrip("/")
            doc = None
            if name and ".." not in name:
                for cand in (name, name + ".xml"):
                    p = os.path.join(self.server.folder, cand)
                    if os.path.isfile(p):
                        doc = p
                        break
            if doc:
                with open(doc) as f:
                    text = f.read()
                body = re.sub(r"\{\{([A-Za-z0-9_\-]+)\}\}",
                              lambda m: escape(params.get(m.group(1), "")), text)
                status = status or 200
            elif path.startswith("/cb/"):
                body = ""
                status = status or 200
            else:
                body = "not found"
                status = status or 404
        status = status or 200
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml" if status == 200 else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def _media(self, method):
        parts = urlsplit(self.path)
        path = parts.path
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        spec = media_spec(self.server.folder, path, query)
        if spec["delay_ms"]:
            time.sleep(spec["delay_ms"] / 1000.0)
        inm = self.headers.get("If-None-Match")
        headers = []
        if spec["status"] or spec["body"] is not None:
            status = int(spec["status"] or 200)
            data = (spec["body"] if spec["body"] is not None else "not found").encode()
            ctype = spec["content_type"] or "text/plain"
        else:
            status = 200
            data = media_bytes(spec)
            ctype = spec["content_type"] or ("audio/mpeg" if spec["enc"] == "mp3" else "audio/wav")
            if spec["etag"]:
                tag = '"%s"' % hashlib.sha1(data).hexdigest()[:16]
                headers.append(("ETag", tag))
                if inm and tag in [t.strip() for t in inm.split(",")]:
                    status = 304
            if spec["truncate"] is not None:
                data = data[:int(spec["truncate"])]
        if spec["cache_control"]:
            headers.append(("Cache-Control", spec["cache_control"]))
        elif spec["max_age"] is not None:
            headers.append(("Cache-Control", "max-age=%d" % int(spec["max_age"])))
        entry = {"t": time.time(), "method": method, "path": path, "query": query,
                 "form": {}, "params": query, "status": status, "if_none_match": inm}
        with LOCK:
            with open(self.server.log_path, "a") as f:
                f.write(json.dumps(entry) + "\n")
            per = MEDIA_STATS.setdefault(path, {})
            per[str(status)] = per.get(str(status), 0) + 1
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status == 304:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if method != "HEAD":
            self.wfile.write(data)

    def _stats(self):
        with LOCK:
            data = json.dumps(MEDIA_STATS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/media/"):
            return self._media("GET")
        if self.path == "/__media/stats":
            return self._stats()
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_HEAD(self):
        if self.path.startswith("/media/"):
            return self._media("HEAD")
        self._serve("HEAD")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--verbose", action="store_true")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.daemon_threads = True
    srv.folder = a.dir
    srv.log_path = a.log
    srv.config = load_config(a.dir)
    srv.verbose = a.verbose
    open(a.log, "a").close()
    timer = threading.Timer(a.lifetime, srv.shutdown)
    timer.daemon = True
    timer.start()
    print("appserver: listening on 127.0.0.1:%d" % a.port, flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
