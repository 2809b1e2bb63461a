#!/usr/bin/env python3
"""selftest.py: checks the media test tools offline, before any test
trusts them: hear.py's own self-test (G.711 tables, tone, pattern, DTMF,
ringback and speech checks, each also shown to fail on a wrong
expectation), then rtptool.py listen against a fake server on loopback
that answers the tool's first packet (as symmetric RTP latches) with a
known G.711 stream, one packet dropped on purpose: the report must count
the packets and the hole, and hear.py must hear what was sent.

Then what the phone sends (rtptool.py listen --script), to a second
rtptool listen on loopback that decodes it: tones of the right frequency,
length and level, white noise, a WAV file, the script's item times and
--script-start-file; RFC 4733 digits parsed back exactly once each (a 1 s
long press is one event), each event with the marker bit on its first
packet, durations growing by 160, three end packets, no audio packet in
the event's time and 50-100 ms between digits; in-band digits (PCMA) heard
by hear.py's DTMF analysis, a long press once. A fake server that stops
its tone a known time after the first telephone-event shows bargein()
measuring that time. recfile.py decodes an MP3 and a 16 kHz stereo WAV.
Each check is also shown to fail on a wrong expectation.

    selftest.py TMPDIR        exit 0 when every check holds
"""
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))
import hear  # noqa: E402
import rtptool  # noqa: E402

TOOL = os.path.join(HERE, "..", "rtptool.py")


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_tcp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def fake_server(sock, samples, pt, drop):
    """Waits for the phone's first packet, then sends samples as 20 ms
    frames of pt from where it was reached, skipping frame index drop."""
    sock.settimeout(5)
    _, phone = sock.recvfrom(2048)
    enc = hear.ulaw_encode if pt == 0 else hear.alaw_encode
    payload = enc(samples)
    start = time.time()
    seq, ts = 40000, 0xFFFFF000     # both wrap during the stream
    for i in range(0, len(payload) // 160):
        due = start + i * 0.02
        d = due - time.time()
        if d > 0:
            time.sleep(d)
        if i != drop:
            hdr = struct.pack("!BBHII", 0x80, pt | (0x80 if i == 0 else 0),
                              seq & 0xFFFF, ts & 0xFFFFFFFF, 0x51B0A2D)
            sock.sendto(hdr + payload[i * 160:(i + 1) * 160], phone)
        seq += 1
        ts += 160


def run_tool(tmp, name, samples, pt, drop, seconds, via_file=False):
    port, tool_port = free_udp_port(), free_udp_port()
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", port))
    out, wav = os.path.join(tmp, name + ".json"), os.path.join(tmp, name + ".wav")
    to = ["--to", "127.0.0.1:%d" % port]
    if via_file:
        to = ["--to-file", os.path.join(tmp, name + ".port")]
        if os.path.exists(to[1]):
            os.remove(to[1])        # from an earlier run in the same folder
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "rtptool.py"), "listen",
                             "--bind", str(tool_port), "--seconds", str(seconds), "--out", out,
                             "--wav", wav, "--send-pt", str(pt)] + to)
    if via_file:
        time.sleep(0.5)
        with open(to[1], "w") as f:
            f.write("%d\n" % port)
    fake_server(srv, samples, pt, drop)
    proc.wait(timeout=seconds + 10)
    srv.close()
    with open(out) as f:
        rep = json.load(f)
    got, rate = hear.read_wav(wav)
    return rep, got


def expect(cond, what, rep=None):
    if not cond:
        print("selftest: FAIL: %s%s" % (what, "" if rep is None else ": " + json.dumps(
            {k: v for k, v in rep.items() if k != "analysis"})))
        sys.exit(1)
    print("selftest: ok: %s" % what)


def sf_decode(data, tmp):
    """Decodes a file with libsndfile (not with our own code): returns
    (mono samples, rate)."""
    import array
    import ctypes

    class SfInfo(ctypes.Structure):
        _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int),
                    ("channels", ctypes.c_int), ("format", ctypes.c_int),
                    ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]
    lib = ctypes.CDLL("libsndfile.so.1")
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SfInfo)]
    lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    lib.sf_readf_short.restype = ctypes.c_int64
    lib.sf_close.argtypes = [ctypes.c_void_p]
    path = os.path.join(tmp, "decode.bin")
    with open(path, "wb") as f:
        f.write(data)
    info = SfInfo()
    sf = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))
    if not sf:
        return None, 0
    buf = array.array("h", [0] * (info.frames * info.channels + 8192))
    n = lib.sf_readf_short(sf, buf.buffer_info()[0], info.frames)
    lib.sf_close(sf)
    ch = info.channels
    return [sum(buf[i * ch:(i + 1) * ch]) // ch for i in range(n)], info.samplerate


def check_appserver(tmp):
    """appserver.py's media answers, decoded by libsndfile."""
    import urllib.request
    port = free_tcp_port()
    docs = os.path.join(tmp, "docs")
    os.makedirs(docs, exist_ok=True)
    with open(os.path.join(docs, "_media.json"), "w") as f:
        json.dump({"/media/c.wav": {"freq": 700, "max_age": 5}}, f)
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "..", "appserver.py"), "--port",
                             str(port), "--dir", docs, "--log", os.path.join(tmp, "app.jsonl"),
                             "--lifetime", "60"], stdout=subprocess.DEVNULL)
    base = "http://127.0.0.1:%d" % port

    def get(path, hdrs=None):
        for _ in range(50):
            try:
                r = urllib.request.urlopen(urllib.request.Request(base + path, headers=hdrs or {}),
                                           timeout=10)
                return r.status, dict(r.headers), r.read()
            except urllib.error.HTTPError as e:
                return e.code, dict(e.headers), e.read()
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("appserver did not answer")
    try:
        for q, secs, freq, rate, ctype in (
                ("", 2.0, 1000, 8000, "audio/wav"),
                ("?rate=16000&secs=1.5", 1.5, 1000, 16000, "audio/wav"),
                ("?rate=44100&channels=2&freq=440", 2.0, 440, 44100, "audio/wav"),
                ("?enc=ulaw", 2.0, 1000, 8000, "audio/wav"),
                ("?enc=alaw&freq=1500", 2.0, 1500, 8000, "audio/wav"),
                ("?enc=pcm8", 2.0, 1000, 8000, "audio/wav"),
                ("?enc=mp3&rate=22050", 2.0, 1000, 22050, "audio/mpeg")):
            st, h, body = get("/media/t.wav" + q)
            pcm, r = sf_decode(body, tmp)
            expect(st == 200 and h.get("Content-Type") == ctype and pcm,
                   "appserver /media/t.wav%s: %d %s, %d bytes" % (q, st, h.get("Content-Type"), len(body)))
            dur = len(pcm) / float(r)
            f = hear.zc_freq(pcm) * r / hear.RATE
            expect(r == rate and abs(f - freq) < 5 and abs(dur - secs) < 0.1,
                   "  libsndfile reads %.1f Hz, %.3f s at %d Hz" % (f, dur, r))
        st, h, body = get("/media/c.wav")
        tag = h.get("ETag")
        expect(st == 200 and tag and h.get("Cache-Control") == "max-age=5", "ETag and max-age from _media.json")
        expect(abs(hear.zc_freq(sf_decode(body, tmp)[0]) - 700) < 5, "  the 700 Hz tone of _media.json")
        st, h, body = get("/media/c.wav", {"If-None-Match": tag})
        expect(st == 304 and body == b"", "If-None-Match with the ETag: 304")
        with open(os.path.join(docs, "_media.json"), "w") as f:
            json.dump({"/media/c.wav": {"freq": 900, "max_age": 5}}, f)
        st, h, body = get("/media/c.wav", {"If-None-Match": tag})
        expect(st == 200 and h.get("ETag") != tag, "a changed file: 200 with a new ETag")
        st, h, body = get("/media/x.wav?status=404")
        expect(st == 404, "status=404")
        st, h, body = get("/media/t.wav?truncate=1000")
        expect(st == 200 and len(body) == 1000, "truncate=1000")
        st, h, stats = get("/__media/stats")
        stats = json.loads(stats)
        expect(stats.get("/media/c.wav") == {"200": 2, "304": 1} and stats.get("/media/x.wav") == {"404": 1},
               "download counters: %s" % stats)
    finally:
        proc.terminate()
        proc.wait()


# ---- what the phone sends -----------------------------------------------------


def start_pair(tmp, name, script, seconds, send_pt=0, to_file=False, start_after=None):
    """A phone (rtptool listen --script) sending to a second rtptool listen
    on loopback (the receiver, which decodes). start_after: with to_file,
    the script waits for a file created that many seconds after the port
    file."""
    pp, rp = free_udp_port(), free_udp_port()
    base = os.path.join(tmp, name)
    for ext in (".port", ".go"):
        if os.path.exists(base + ext):
            os.remove(base + ext)   # from an earlier run in the same folder
    rx = subprocess.Popen([sys.executable, TOOL, "listen", "--bind", str(rp),
                           "--to", "127.0.0.1:%d" % pp, "--seconds", str(seconds + 0.5),
                           "--out", base + ".rx.json", "--wav", base + ".rx.wav",
                           "--packets", base + ".rx.packets", "--send-pt", str(send_pt)],
                          stdout=subprocess.PIPE, text=True)
    assert rx.stdout.readline().startswith("listening on"), "receiver did not bind"
    cmd = [sys.executable, TOOL, "listen", "--bind", str(pp), "--seconds", str(seconds),
           "--out", base + ".tx.json", "--send-pt", str(send_pt), "--script", script]
    if to_file:
        cmd += ["--to-file", base + ".port"]
    else:
        cmd += ["--to", "127.0.0.1:%d" % rp]
    if start_after is not None:
        cmd += ["--script-start-file", base + ".go"]
    tx = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if to_file:
        assert tx.stdout.readline().startswith("listening on"), "phone did not bind"
        with open(base + ".port", "w") as f:
            f.write("%d\n" % rp)
        if start_after is not None:
            time.sleep(start_after)
            open(base + ".go", "w").close()
    return (rx, tx, base, seconds)


def finish_pair(h):
    rx, tx, base, seconds = h
    out = tx.communicate(timeout=seconds + 40)[0]
    rx.wait(timeout=seconds + 10)
    if tx.returncode != 0:
        print(out)
        expect(False, "the phone's rtptool exited with %d" % tx.returncode)
    with open(base + ".tx.json") as f:
        txr = json.load(f)
    with open(base + ".rx.json") as f:
        rxr = json.load(f)
    got, _ = hear.read_wav(base + ".rx.wav")
    with open(base + ".rx.packets") as f:
        pk = [json.loads(line) for line in f]
    return txr, rxr, got, pk


def holds(fn, *args, **kw):
    """fn's message when the check holds; exits the self-test when not."""
    try:
        msg = fn(*args, **kw)
    except hear.Fail as e:
        expect(False, "%s: %s" % (fn.__name__, e))
    print("selftest: ok: %s" % msg)


def fails(what, fn, *args, **kw):
    """A wrong expectation must fail."""
    try:
        fn(*args, **kw)
    except (hear.Fail, ValueError) as e:
        print("selftest: ok: fails as it should: %s (%s)" % (what, str(e)[:100]))
        return
    expect(False, "%s should have failed" % what)


def check_events(rep, digits, lens_ms=None):
    """The receiver parsed exactly these telephone-events, each complete."""
    ev = rep["rx_events"]
    got = "".join(e["digit"] for e in ev)
    if got != digits:
        raise hear.Fail("expected events %r, parsed %r: %s" % (digits, got, json.dumps(ev)))
    for i, e in enumerate(ev):
        want = lens_ms[i] if lens_ms else e["duration_ms"]
        n = int(round(want / 20.0))
        if (e["end_packets"] != 3 or not e["marker"] or abs(e["duration_ms"] - want) > 0.1
                or e["packets"] != n + 2 or e["volume"] != 10):
            raise hear.Fail("event #%d: wanted %g ms in %d packets (3 end, marker on the "
                            "first, volume 10), got %s" % (i, want, n + 2, json.dumps(e)))
    return "events %s parsed once each (durations %s ms)" % (
        got, ",".join("%g" % e["duration_ms"] for e in ev))


def check_items(txr, plan, tol=0.05):
    """The phone's report: item k started plan[k] s after item 0."""
    items = txr["script"]
    t0 = items[0]["start_s"]
    for k, want in enumerate(plan):
        t = items[k]["start_s"]
        if t is None or abs(t - t0 - want) > tol:
            raise hear.Fail("item %r started at %s, wanted %.3f after the first (%.3f): %s" % (
                items[k]["item"], t, want, t0, json.dumps(items)))
    return "item starts %s s after the first" % [round(i["start_s"] - t0, 3) for i in items]


def seg_of(got, kind, near_len):
    for s in hear.segments(got):
        if s["kind"] == kind and abs(s["len"] - near_len) < 0.06:
            return s
    return None


def fake_prompt_server(sock, delay, stop_early=None):
    """Plays 1000 Hz to the phone from its first packet; stops (sends
    silence) delay s after the first telephone-event arrives, or at
    stop_early s whatever happens."""
    sock.settimeout(5)
    _, phone = sock.recvfrom(2048)
    sock.settimeout(0)
    tone = hear.ulaw_encode(hear.synth([((1000,), 0.02)]))
    quiet = b"\xff" * 160
    start, ev, seq = time.time(), None, 0
    while time.time() - start < 2.5:
        due = start + seq * 0.02
        while True:
            now = time.time()
            try:
                data, _ = sock.recvfrom(2048)
                if ev is None and len(data) > 12 and data[1] & 0x7F == 101:
                    ev = now
            except (BlockingIOError, socket.timeout):
                if now >= due:
                    break
                time.sleep(0.001)
        playing = (ev is None or time.time() < ev + delay) and (
            stop_early is None or time.time() - start < stop_early)
        hdr = struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0xFA4E)
        sock.sendto(hdr + (tone if playing else quiet), phone)
        seq += 1


def bargein_run(tmp, name, delay, stop_early=None):
    port = free_udp_port()
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", port))
    th = threading.Thread(target=fake_prompt_server, args=(srv, delay, stop_early))
    th.start()
    out = os.path.join(tmp, name + ".json")
    subprocess.run([sys.executable, TOOL, "listen", "--bind", str(free_udp_port()),
                    "--to", "127.0.0.1:%d" % port, "--seconds", "2.0", "--out", out,
                    "--script", "silence:0.8,rfc4733:1:0.1"], check=True,
                   stdout=subprocess.DEVNULL, timeout=30)
    th.join()
    srv.close()
    with open(out) as f:
        return json.load(f)


def bargein_within(rep, limit):
    lat, t, run = rtptool.bargein(rep)
    if lat > limit:
        raise hear.Fail("sound went on %.3f s after the digit at %.3f s (run %s), limit %.3f"
                        % (lat, t, run, limit))
    return "sound stopped %.3f s after the digit at %.3f s" % (lat, t)


def check_script(tmp):
    wavf = os.path.join(tmp, "w700.wav")
    hear.write_wav(wavf, hear.synth([((700,), 0.6)], amp=10000))
    tone = start_pair(tmp, "tone", "silence:0.4,tone:1000:1.0,silence:0.3,tone:600:0.5:-20,"
                      "silence:0.2,noise:0.5:-30", 3.4)
    ev = start_pair(tmp, "rfc4733", "silence:0.3,rfc4733:123#:0.1,silence:0.2,rfc4733:5:1.0,"
                    "silence:0.2,rfc4733:55:0.06", 3.6)
    inb = start_pair(tmp, "inband", "silence:0.3,inband:159#:0.1,silence:0.3,inband:7:1.0,"
                     "silence:0.2,inband:00:0.08:0.06", 3.6, send_pt=8)
    wav = start_pair(tmp, "wavfile", "wav:%s,silence:0.3" % wavf, 2.5, to_file=True,
                     start_after=0.8)

    # Tones, noise, item times.
    txr, rxr, got, _ = finish_pair(tone)
    holds(hear.check_tone, got, 1000, 1.0, dtol=0.03)
    holds(hear.check_tone, got, 600, 0.5, dtol=0.03)
    fails("a 1100 Hz tone", hear.check_tone, got, 1100, 1.0)
    fails("a 1.5 s tone", hear.check_tone, got, 1000, 1.5)
    s = seg_of(got, "tone", 0.5)
    expect(s and abs(s["db"] + 20) < 1.0, "tone:600:0.5:-20 is heard at %s dBFS" % (s or {}).get("db"))
    s = seg_of(got, "tone", 1.0)
    expect(s and abs(s["db"] + 10) < 1.0, "tone's default level -10 dBFS: %s" % (s or {}).get("db"))
    s = seg_of(got, "sound", 0.5)
    expect(s and abs(s["db"] + 30) < 2.0 and s["tonal"] < 0.3,
           "noise:0.5:-30: 0.5 s of non-tonal sound at %s dBFS" % (s or {}).get("db"))
    holds(check_items, txr, [0, 0.4, 1.4, 1.7, 2.2, 2.4])
    fails("item times off by 0.15 s", check_items, txr, [0, 0.55, 1.4, 1.7, 2.2, 2.4])
    expect(txr["script_start_s"] is not None and txr["script_start_s"] < 0.1,
           "with --to the script starts at once (%s s)" % txr["script_start_s"])

    # RFC 4733.
    txr, rxr, got, pk = finish_pair(ev)
    lens = [100, 100, 100, 100, 1000, 60, 60]
    holds(check_events, rxr, "123#555", lens)
    fails("the long press twice", check_events, rxr, "123#5555", lens)
    fails("a digit missing", check_events, rxr, "123#55", lens)
    fails("a wrong duration", check_events, rxr, "123#555", [100, 100, 100, 100, 500, 60, 60])
    audio_ts = [p["ts"] for p in pk if p["pt"] == 0]
    inside = [(e["digit"], t) for e in rxr["rx_events"] for t in audio_ts
              if e["ts"] <= t < e["ts"] + (e["packets"] * 160)]
    expect(not inside and rxr["pts"] == [0, 101],
           "no audio packet within an event's time (pts %s)" % rxr["pts"])
    evpk = [p for p in pk if p["pt"] == 101]
    marks_ok = all(p["m"] == (1 if i == 0 or evpk[i - 1]["ts"] != p["ts"] else 0)
                  for i, p in enumerate(evpk))
    expect(marks_ok, "the marker bit is on each event's first packet only")
    digits = [d for it in txr["script"] for d in it.get("digits", [])]
    gaps = [round(digits[i + 1]["start_s"] - digits[i]["end_s"], 3) for i in (0, 1, 2, 5)]
    expect(all(0.05 <= g <= 0.1 for g in gaps), "50-100 ms between digits: %s" % gaps)
    holds(hear.check_silent, got)

    # In-band, PCMA.
    txr, rxr, got, _ = finish_pair(inb)
    holds(hear.check_dtmf, got, "159#700")
    fails("the long press twice", hear.check_dtmf, got, "159#7700")
    fails("a digit missing", hear.check_dtmf, got, "159#70")
    expect(rxr["pts"] == [8] and rxr["rx_events"] == [], "in-band over PCMA: pt 8 only, no events")
    d = hear.dtmf_digits(got)[0]
    lvl = hear.dbfs(got[int((d[1] + 0.02) * 8000):int((d[1] + 0.08) * 8000)])
    expect(abs(lvl + 7) < 1.0, "a DTMF digit is two tones of -10 dBFS (%.1f dBFS together)" % lvl)

    # A WAV file, started by --script-start-file 0.8 s after the ACK.
    txr, rxr, got, _ = finish_pair(wav)
    holds(hear.check_tone, got, 700, 0.6, dtol=0.03)
    st = txr["script"][0]["start_s"]
    expect(st is not None and 0.75 <= st <= 1.05 and txr["script_start_s"] == st,
           "the script waits for --script-start-file (started at %s s)" % st)
    expect(rxr["first_packet_s"] is not None and rxr["audio_s"] > 2.0,
           "silence before the script (%s s of audio)" % rxr["audio_s"])

    # Bad scripts are refused with a reason.
    bad16 = os.path.join(tmp, "w16k.wav")
    hear.write_wav(bad16, [0] * 1600, rate=16000)
    for spec, why in (("tone:abc:1", "not a number"), ("beep:1", "unknown item"),
                      ("rfc4733:12x", "digits must be"), ("wav:" + bad16, "want 8000 Hz mono"),
                      ("wav:/nonexistent.wav", "No such file")):
        r = subprocess.run([sys.executable, TOOL, "listen", "--bind", "0", "--to", "127.0.0.1:9",
                            "--out", os.path.join(tmp, "bad.json"), "--script", spec],
                           capture_output=True, text=True, timeout=20)
        expect(r.returncode == 2 and why in r.stderr,
               "--script %s is refused: %s" % (spec, r.stderr.strip().splitlines()[-1]))

    # Barge-in timing against a fake server.
    rep = bargein_run(tmp, "barge40", 0.04)
    holds(bargein_within, rep, 0.1)
    lat = rtptool.bargein(rep)[0]
    expect(0.02 <= lat <= 0.1, "a server stopping 40 ms after the event is measured at %.3f s" % lat)
    rep = bargein_run(tmp, "barge300", 0.3)
    fails("a server stopping 300 ms after the event, within 0.1 s", bargein_within, rep, 0.1)
    lat = rtptool.bargein(rep)[0]
    expect(0.26 <= lat <= 0.4, "a server stopping 300 ms after the event is measured at %.3f s" % lat)
    rep = bargein_run(tmp, "bargeearly", 5, stop_early=0.4)
    fails("no prompt playing at the digit", rtptool.bargein, rep)


def check_recfile(tmp):
    import appserver
    for enc, rate, ch in (("mp3", 8000, 1), ("pcm16", 16000, 2)):
        spec = dict(appserver.MEDIA_DEFAULTS)
        spec.update(freq=1000.0, secs=2.0, rate=rate, channels=ch, enc=enc)
        path = os.path.join(tmp, "rec." + enc)
        with open(path, "wb") as f:
            f.write(appserver.make_mp3(spec) if enc == "mp3" else appserver.make_wav(spec))
        out = os.path.join(tmp, "rec8k.wav")
        r = subprocess.run([sys.executable, os.path.join(HERE, "recfile.py"), "convert", path, out],
                           capture_output=True, text=True, timeout=60)
        expect(r.returncode == 0, "recfile.py reads %s: %s" % (enc, r.stdout.strip()))
        got, rate8 = hear.read_wav(out)
        holds(hear.check_tone, [0] * 800 + got + [0] * 800, 1000, 2.0, dtol=0.1)
    with open(os.path.join(tmp, "junk.wav"), "w") as f:
        f.write("not audio")
    r = subprocess.run([sys.executable, os.path.join(HERE, "recfile.py"), "convert",
                        os.path.join(tmp, "junk.wav"), os.path.join(tmp, "junk8k.wav")],
                       capture_output=True, text=True, timeout=60)
    expect(r.returncode == 1 and "cannot read" in r.stdout, "recfile.py refuses junk: %s" % r.stdout.strip())


def main():
    tmp = sys.argv[1]
    hear.selftest()
    check_appserver(tmp)
    # PCMU: tone, silence, DTMF; frame 30 (inside the tone) is lost.
    parts = [((), 0.2), ((1000,), 1.0), ((), 0.5), ((697, 1209), 0.1), ((), 0.1),
             ((697, 1336), 0.1), ((), 0.3)]
    samples = hear.synth(parts)
    rep, got = run_tool(tmp, "pcmu", samples, 0, 30, 3.5)
    nframes = len(samples) // 160
    expect(rep["packets"] == nframes - 1, "PCMU: %d of %d packets received" % (rep["packets"], nframes), rep)
    expect(rep["seq_gaps"] == 1 and rep["ts_gaps"] == 0,
           "PCMU: the lost packet is one sequence gap, timestamps consistent", rep)
    expect(abs(rep["holes_s"] - 0.02) < 1e-6, "PCMU: a 20 ms hole in the audio", rep)
    expect(rep["ssrcs"] == 1 and rep["pts"] == [0], "PCMU: one stream of pt 0", rep)
    expect(rep["first_packet_s"] is not None and rep["first_packet_s"] < 0.5,
           "PCMU: first packet soon after start", rep)
    expect(rep["max_skew_ms"] < 100, "PCMU: arrival follows the timestamps", rep)
    expect(abs(rep["audio_s"] - nframes * 0.02) < 1e-6, "PCMU: audio length by timestamp", rep)
    try:
        hear.check_tone(got, 1000, 1.0)
        expect(False, "PCMU: the lost packet must break the 1 s tone")
    except hear.Fail as e:
        expect("1000" in str(e), "PCMU: the lost packet breaks the tone (%s)" % e)
    print("selftest:", hear.check_dtmf(got, "12"))
    tones = rep["analysis"]["tones"]
    expect(len(tones) == 2 and abs(tones[0]["freq"] - 1000) < 5,
           "PCMU: the report's analysis has the tone in two pieces", rep)
    # PCMA, nothing lost: the whole pattern.
    samples = hear.synth([((), 0.2), ((1000,), 1.0), ((), 0.6), ((500,), 0.4), ((), 0.2)])
    rep, got = run_tool(tmp, "pcma", samples, 8, -1, 3.0, via_file=True)
    expect(rep["pts"] == [8] and rep["seq_gaps"] == 0 and rep["holes_s"] == 0,
           "PCMA: one unbroken stream of pt 8", rep)
    expect(rep["destination"] is not None and rep["first_packet_s"] < 0.3
           and rep["packets_before_start"] == 0,
           "PCMA: the server's port read from --to-file, times from the file's", rep)
    print("selftest:", hear.check_pattern(got, "1000:1.0 _:0.6 500:0.4"))
    check_script(tmp)
    check_recfile(tmp)
    print("selftest: all ok")


if __name__ == "__main__":
    main()
