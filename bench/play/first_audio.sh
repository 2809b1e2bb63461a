#!/usr/bin/env bash
# bench/play/first_audio.sh [BUILD_DIR] [CALLS]: time from the caller's ACK
# to the first RTP packet of the prompt (issue 15's "first audio"), printed
# as a table, never asserted. Rows:
#   play-cached   <Play> of a WAV the cache already holds (one warm-up call
#                 first)
#   say-uncached  <Say> of a sentence nobody asked for before (each call's
#                 text is new, so each is synthesized)
#   play-uncached <Play> of a WAV URL nobody asked for before (each call's
#                 URL is new: fetched, decoded, then played)
# Targets: p99 <= 30 ms cached Play, <= 150 ms uncached one-sentence Say.
# CALLS (default 200) calls per row, one at a time. The server runs with
# media.threads = 1 and log level warn; its RCML and audio come from a
# small Python app server on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/bench/lib.sh"
build=$(cd "${1:-$root/build}" && pwd)
calls=${2:-200}
[ -n "${NO_BUILD:-}" ] || cmake --build "$build" --target switchboard >/dev/null
tmp=$(mktemp -d /tmp/sb-bench-first.XXXXXX)
read -r sip http web proxy < <(python3 "$root/tests/integration/free_ports.py" 4)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  [ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

# The app server: /play.xml, /say.xml (a new sentence each time),
# /playnew.xml (a new audio URL each time), /tone.wav?n= (2 s of 1 kHz).
cat >"$tmp/app.py" <<'PY'
import http.server, io, math, struct, sys, threading, wave
port = int(sys.argv[1])
def tone():
    b = io.BytesIO()
    with wave.open(b, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 1000 * i / 8000))) for i in range(16000)))
    return b.getvalue()
WAV = tone()
count = [0]
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, ctype, body, extra=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra: self.send_header(k, v)
        self.end_headers(); self.wfile.write(body)
    def do_GET(self): self.route()
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n); self.route()
    def route(self):
        with lock:
            count[0] += 1; n = count[0]
        p = self.path.split("?")[0]
        base = "http://127.0.0.1:%d" % port
        if p == "/play.xml":
            self.send("text/xml", ("<Response><Play>%s/tone.wav</Play></Response>" % base).encode())
        elif p == "/playnew.xml":
            self.send("text/xml", ("<Response><Play>%s/tone.wav?n=%d</Play></Response>" % (base, n)).encode())
        elif p == "/say.xml":
            self.send("text/xml", ("<Response><Say>Thank you for calling. Your reference is %d.</Say></Response>" % n).encode())
        elif p == "/tone.wav":
            self.send("audio/wav", WAV, [("Cache-Control", "max-age=3600")])
        else:
            self.send_response(404); self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$tmp/app.py" "$web" >/dev/null 2>&1 &
pids+=($!)
EXTRA_CONF="media.threads = 1
media.cache_dir = \"$tmp/cache\"" bench_start_server "$build/switchboard" "$tmp" "$sip" "$http" "$proxy"
for n in 2000:play.xml 2001:say.xml 2002:playnew.xml; do
  curl -s -o /dev/null "${auth[@]}" "$api/Accounts/$ac/IncomingPhoneNumbers.json" \
    -d "PhoneNumber=${n%%:*}" -d isSIP=true -d VoiceMethod=GET \
    --data-urlencode "VoiceUrl=http://127.0.0.1:$web/${n#*:}"
done
python3 "$here/first_audio.py" --sip "$sip" --number 2000 --calls 1 >/dev/null   # warm the cache

printf '%-14s %6s %6s %6s %8s %8s %8s %8s\n' row calls answ heard p50_ms p99_ms max_ms target
row() { # NAME NUMBER TARGET
  local j
  j=$(python3 "$here/first_audio.py" --sip "$sip" --number "$2" --calls "$calls")
  python3 - "$1" "$3" "$j" <<'PY'
import json, sys
name, target, j = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
p99 = j["p99_ms"]
miss = "" if target == "-" or (p99 is not None and p99 <= float(target)) else " *"
f = lambda v: "-" if v is None else "%.2f" % v
print("%-14s %6d %6d %6d %8s %8s %8s %8s%s" % (name, j["calls"], j["answered"], j["heard"],
      f(j["p50_ms"]), f(p99), f(j["max_ms"]), target, miss))
PY
}
row play-cached 2000 30
row say-uncached 2001 150
row play-uncached 2002 -
echo "(* = p99 over target)"
