#!/usr/bin/env python3
"""selftest.py: checks the media test tools offline, before any test
trusts them: hear.py's own self-test (G.711 tables, tone, pattern, DTMF,
ringback and speech checks, each also shown to fail on a wrong
expectation), then rtptool.py listen against a fake server on loopback
that answers the tool's first packet (as symmetric RTP latches) with a
known G.711 stream, one packet dropped on purpose: the report must count
the packets and the hole, and hear.py must hear what was sent.

    selftest.py TMPDIR        exit 0 when every check holds
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hear  # noqa: E402


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
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
    port = free_udp_port()
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
    print("selftest: all ok")


if __name__ == "__main__":
    main()
