#!/usr/bin/env python3
"""app.py: the RCML application of the Alice/Bob/Carol transfer example.

    python3 examples/transfer-abc/app.py [PORT]      (default 8090)

Serves, to Switchboard's requests (GET or POST, parameters in either):
  /a         number A's voice application: dial the client bob
  /b         number B's Refer application: dial the transfer target
             ($core_ReferTarget, substituted by the Visual Designer
             plugin), for 20 s, then /b-done
  /b-done    after that Dial: when the target did not take the call
             (DialCallStatus busy, no-answer or failed), dial the
             transferor again; otherwise hang up
Python standard library only; prints one line per request.
"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qsl, urlsplit

DOCS = {
    "/a": '<Response><Dial timeout="30"><Client>bob</Client></Dial></Response>',
    "/b": ('<Response><Dial action="/b-done" timeout="20">'
           '<Client>$core_ReferTarget</Client></Dial></Response>'),
}
FALLBACK = ('<Response><Dial timeout="30"><Client>$core_Transferor</Client>'
            '</Dial></Response>')


class App(BaseHTTPRequestHandler):
    def params(self):
        parts = urlsplit(self.path)
        p = dict(parse_qsl(parts.query))
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            p.update(parse_qsl(self.rfile.read(n).decode()))
        return parts.path, p

    def answer(self):
        path, p = self.params()
        print("%s %s %s" % (self.command, path,
                            " ".join("%s=%s" % kv for kv in sorted(p.items())
                                     if kv[0] in ("CallSid", "DialCallStatus",
                                                  "ReferTarget", "Transferor",
                                                  "Transferee"))), flush=True)
        if path == "/b-done":
            failed = p.get("DialCallStatus") in ("busy", "no-answer", "failed")
            body = FALLBACK if failed else "<Response><Hangup/></Response>"
        else:
            body = DOCS.get(path)
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = answer
    do_POST = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
    HTTPServer(("127.0.0.1", port), App).serve_forever()
