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

Python standard library only.
"""
import argparse
import json
import os
import re
import sys
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

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def do_HEAD(self):
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
