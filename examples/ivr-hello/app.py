#!/usr/bin/env python3
"""app.py: the web side of the ivr-hello example.

    python3 examples/ivr-hello/app.py [PORT]      (default 8090)

Serves, to Switchboard's requests (GET or POST):
  /hello.xml    the RCML document (hello.xml next to this file)
  /chime.wav    a three-note chime made here: 8 kHz, 16-bit mono WAV,
                with an ETag and Cache-Control: max-age=3600, so the
                server's audio cache keeps it for an hour
  /goodbye.txt  text/plain: Switchboard says a plain-text answer
                (Restcomm's response typing)
Python standard library only; prints one line per request.
"""
import io
import math
import os
import struct
import sys
import wave
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlsplit

HERE = os.path.dirname(os.path.abspath(__file__))
GOODBYE = "Goodbye, and thank you for calling."


def chime():
    """C5, E5, G5: 0.2 s each with a short fade, then 0.1 s of silence."""
    rate, frames = 8000, bytearray()
    for freq in (523.25, 659.25, 783.99):
        n = int(0.2 * rate)
        for i in range(n):
            fade = min(1.0, i / 80.0, (n - i) / 80.0)
            v = int(12000 * fade * math.sin(2 * math.pi * freq * i / rate))
            frames += struct.pack("<h", v)
    frames += b"\0\0" * int(0.1 * rate)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))
    return out.getvalue()


CHIME = chime()


class App(BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        path = urlsplit(self.path).path
        print("%s %s" % (self.command, path), flush=True)
        headers = {}
        if path == "/hello.xml":
            with open(os.path.join(HERE, "hello.xml"), "rb") as f:
                body, ctype = f.read(), "text/xml"
        elif path == "/chime.wav":
            body, ctype = CHIME, "audio/wav"
            headers = {"ETag": '"chime-1"', "Cache-Control": "max-age=3600"}
        elif path == "/goodbye.txt":
            body, ctype = GOODBYE.encode(), "text/plain; charset=utf-8"
        else:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = answer
    do_POST = answer
    do_HEAD = answer

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8090
    HTTPServer(("127.0.0.1", port), App).serve_forever()
