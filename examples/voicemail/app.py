#!/usr/bin/env python3
"""app.py: the web side of the voicemail example.

    python3 examples/voicemail/app.py [PORT]      (default 8091)

The RCML, built per request (Switchboard POSTs the call's parameters):
  /menu    a Gather for one key or a word: 1 or "sales", 2 or "message"
  /choice  what the caller chose: sales is a Say; a message is a Say,
           then a Record whose action is /saved
  /saved   plays the message back from the RecordingUrl Switchboard
           gave (the server fetches its own recording), then hangs up
Python standard library only; prints one line per request with the
parameters that matter.
"""
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

MENU = """<Response>
  <Gather numDigits="1" timeout="5" action="/choice" input="dtmf speech"
          hints="sales, message">
    <Say>Welcome. For sales, press 1 or say sales. To leave a message,
         press 2 or say message.</Say>
  </Gather>
  <Say>We did not hear anything. Goodbye.</Say>
</Response>"""

SALES = """<Response>
  <Say>Our sales team is busy. Please call again later. Goodbye.</Say>
</Response>"""

RECORD = """<Response>
  <Say>Please leave a message after the beep. Press the pound key when
       you are done.</Say>
  <Record maxLength="60" timeout="5" finishOnKey="#" action="/saved"/>
  <Say>No message was recorded. Goodbye.</Say>
</Response>"""

AGAIN = """<Response><Redirect>/menu</Redirect></Response>"""


def saved(url, duration):
    return ("<Response><Say>You left a message of %s seconds. Here it is."
            "</Say><Play>%s</Play><Say>Goodbye.</Say></Response>"
            % (escape(duration), escape(url)))


class App(BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        url = urlsplit(self.path)
        p = {k: v[0] for k, v in parse_qs(body or url.query).items()}
        shown = {k: p[k] for k in ("Digits", "SpeechResult", "Confidence",
                                   "RecordingUrl", "RecordingDuration")
                 if k in p}
        print("%s %s %s" % (self.command, url.path, shown), flush=True)
        if url.path == "/menu":
            doc = MENU
        elif url.path == "/choice":
            said = p.get("SpeechResult", "")
            key = p.get("Digits", "")
            doc = (SALES if key == "1" or said == "sales" else
                   RECORD if key == "2" or said == "message" else AGAIN)
        elif url.path == "/saved" and "RecordingUrl" in p:
            doc = saved(p["RecordingUrl"], p.get("RecordingDuration", "0"))
        else:
            self.send_error(404)
            return
        data = doc.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8091
    HTTPServer(("127.0.0.1", port), App).serve_forever()
