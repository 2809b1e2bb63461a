#!/usr/bin/env python3
"""rtptool.py: one side of an RTP stream for the integration tests.

    rtptool.py talk --bind PORT --to HOST:PORT --count N --seconds S --out FILE

binds 127.0.0.1:PORT (the port its SIP side put in SDP, so symmetric RTP
sees packets come from where it expects them), sends N PCMU packets (pt 0,
160 bytes, 20 ms apart) to HOST:PORT, counts the RTP packets it receives
until S seconds have passed, and writes "sent=N received=M ssrcs=K" to
FILE. Bounded in time; standard library only. sipp scenarios start it with
<exec command="... &"/> once they know the other side's port.

    rtptool.py listen --bind PORT (--to HOST:PORT | --to-file F) --seconds S
                      --out FILE.json [--wav FILE.wav] [--packets FILE.jsonl]
                      [--send-pt 0|8] [--send-count N]

listens as a phone does: binds PORT, sends G.711 silence every 20 ms (so
symmetric RTP latches and the stream never times out; --send-count limits
it), receives RTP for S seconds and writes a JSON report: packets, first
packet time after start, payload types, SSRCs, sequence and timestamp
continuity (gaps, duplicates, reordering), how far arrival drifts from the
timestamps, the audio decoded from PCMU (pt 0) and PCMA (pt 8) laid out by
timestamp, and its analysis by media_common/hear.py (100 ms windows, tone
and silence segments). --wav keeps the decoded audio (8 kHz, 16-bit) for
hear.py's checks; --packets lists every packet's header as JSON lines.

With --to-file the tool is started before the call (as a phone has its
port open before it sends INVITE): it receives at once, and waits up to
30 s for F to hold the server's "PORT" or "HOST:PORT" (the sipp scenario
writes it at the ACK, <exec command="echo [$port] > F"/>); F's time is the
start of the S seconds and of every time in the report, so packets that
came before it have negative times (packets_before_start). It prints
"listening on PORT" once the port is bound: start the call after that.

What the phone sends (listen only): --script SPEC replaces the silence by
a list of comma-separated items, sent in order on the same 20 ms clock in
--send-pt (0 PCMU, 8 PCMA), then silence until --seconds ends:
    silence:SECS
    tone:HZ:SECS[:DBFS]          a sine, default -10 dBFS (RMS, as hear.py
                                 measures levels)
    noise:SECS[:DBFS]            white noise, default -30 dBFS
    wav:FILE                     an 8 kHz mono 16-bit WAV file
    inband:DIGITS[:SECS[:GAP]]   DTMF dual tones (-10 dBFS per tone), SECS
                                 per digit (0.1), GAP between digits (0.1)
    rfc4733:DIGITS[:SECS[:GAP]]  RFC 4733 telephone-events in --dtmf-pt
                                 (101): per digit one event of SECS (0.1)
                                 whose packets share the event's start
                                 timestamp, the marker bit on its first,
                                 the duration growing by 160 every 20 ms,
                                 the last sent three times with the E bit;
                                 no audio while an event is sent; GAP
                                 (0.08) of silence between digits
DIGITS are 0-9 * # A-D. The script starts with the first packet sent (with
--to-file: at the ACK), or with --script-start-file F at the first packet
after F exists. The report gains "script": per item its kind, text and
the times (from the start, as every time in the report) its first packet
was sent and its last one ended, per digit the same ("digits").

The report also has what a test needs to time the server against the
script: "start_epoch" (the start, Unix time), "sound_runs" (when the
received audio was loud, above -45 dBFS, by arrival time, runs less than
0.1 s apart merged: [[start, end], ...]) and "rx_events" (telephone-events
received in --dtmf-pt, one per event: digit, timestamp, first and last
arrival, packets, end packets, duration) with "rx_digits". bargein(report)
(python3 -c "import rtptool") measures how long the received sound went on
after the script's first digit started.
"""
import argparse
import json
import math
import os
import random
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "media_common"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["talk", "listen"])
    ap.add_argument("--bind", type=int, required=True)
    ap.add_argument("--to")
    ap.add_argument("--count", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--wav")
    ap.add_argument("--send-pt", type=int, default=0, choices=[0, 8])
    ap.add_argument("--send-count", type=int, default=-1)
    ap.add_argument("--to-file")
    ap.add_argument("--packets")
    ap.add_argument("--script")
    ap.add_argument("--script-start-file")
    ap.add_argument("--dtmf-pt", type=int, default=101)
    a = ap.parse_args()
    if a.mode == "listen":
        if not a.to and not a.to_file:
            ap.error("listen needs --to or --to-file")
        if not 96 <= a.dtmf_pt <= 127:
            ap.error("--dtmf-pt must be dynamic (96-127)")
        try:
            a.items = compile_script(a.script or "", a.send_pt)
        except ScriptError as e:
            ap.error("--script: %s" % e)
        return listen(a)
    if not a.to:
        ap.error("talk needs --to")
    host, port = a.to.rsplit(":", 1)
    dest = (host, int(port))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", a.bind))
    s.setblocking(False)
    ssrc = 0x12345678 ^ a.bind
    seq, ts = 1000, 5000
    sent = received = 0
    ssrcs = set()
    start = time.time()
    next_send = start
    while True:
        now = time.time()
        if now - start >= a.seconds:
            break
        if sent < a.count and now >= next_send:
            hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
            try:
                s.sendto(hdr + b"\xff" * 160, dest)
                sent += 1
            except OSError:
                pass
            seq += 1
            ts += 160
            next_send += 0.02
        try:
            while True:
                data, _ = s.recvfrom(2048)
                if len(data) >= 12 and (data[0] >> 6) == 2:
                    received += 1
                    ssrcs.add(struct.unpack("!I", data[8:12])[0])
        except BlockingIOError:
            pass
        time.sleep(0.002)
    with open(a.out, "w") as f:
        f.write("sent=%d received=%d ssrcs=%d\n" % (sent, received, len(ssrcs)))


# ---- the phone's script ------------------------------------------------------

FRAME = 160                 # samples per 20 ms packet
EVENT_CODES = {d: i for i, d in enumerate("0123456789*#ABCD")}


class ScriptError(Exception):
    pass


class Item:
    """One script item: its frames, each ("a", payload) or ("e", code,
    duration, end, first) (a telephone-event packet; first: the event's
    first), and its digits as (digit, first frame, frame after the last)
    relative to the item."""

    def __init__(self, text, kind):
        self.text, self.kind = text, kind
        self.frames, self.digits = [], []


def _num(txt, what, lo=None, hi=None):
    try:
        v = float(txt)
    except ValueError:
        raise ScriptError("%s: %r is not a number" % (what, txt))
    if (lo is not None and v < lo) or (hi is not None and v > hi) or v != v:
        raise ScriptError("%s: %s is out of range [%s, %s]" % (what, txt, lo, hi))
    return v


def _frames_of(n_secs):
    return int(round(n_secs / 0.02))


def _sine_amp(db):
    """Peak of a sine whose RMS level is db dBFS (hear.dbfs's scale)."""
    return 32768.0 * 10 ** (db / 20.0) * math.sqrt(2)


def compile_script(spec, pt):
    import hear
    enc = hear.ulaw_encode if pt == 0 else hear.alaw_encode
    quiet = (b"\xff" if pt == 0 else b"\xd5") * FRAME

    def audio(item, samples):
        n = len(samples)
        if n % FRAME:
            samples = list(samples) + [0] * (FRAME - n % FRAME)
        data = enc(samples)
        item.frames.extend(("a", data[i:i + FRAME]) for i in range(0, len(data), FRAME))

    def digits_of(txt, item):
        ds = txt.upper()
        if not ds or any(d not in EVENT_CODES for d in ds):
            raise ScriptError("%s: digits must be 0-9 * # A-D, got %r" % (item, txt))
        return ds

    items = []
    for text in [t.strip() for t in spec.split(",") if t.strip()]:
        if text.startswith("wav:"):
            kind, args = "wav", [text[4:]]
        else:
            kind, _, rest = text.partition(":")
            args = rest.split(":") if rest else []
        it = Item(text, kind)
        if kind == "silence":
            if len(args) != 1:
                raise ScriptError("%s: want silence:SECS" % text)
            it.frames = [("a", quiet)] * _frames_of(_num(args[0], text, 0, 3600))
        elif kind == "tone":
            if len(args) not in (2, 3):
                raise ScriptError("%s: want tone:HZ:SECS[:DBFS]" % text)
            f = _num(args[0], text, 1, 3999)
            n = _frames_of(_num(args[1], text, 0, 600)) * FRAME
            amp = _sine_amp(_num(args[2], text, -90, -3) if len(args) == 3 else -10.0)
            w = 2 * math.pi * f / 8000.0
            audio(it, [amp * math.sin(w * i) for i in range(n)])
        elif kind == "noise":
            if len(args) not in (1, 2):
                raise ScriptError("%s: want noise:SECS[:DBFS]" % text)
            n = _frames_of(_num(args[0], text, 0, 600)) * FRAME
            rms = 32768.0 * 10 ** ((_num(args[1], text, -90, -6) if len(args) == 2 else -30.0) / 20)
            rnd = random.Random(4733)
            audio(it, [max(-32767.0, min(32767.0, rnd.gauss(0.0, rms))) for _ in range(n)])
        elif kind == "wav":
            samples = _read_wav8k(args[0], text)
            audio(it, samples)
        elif kind in ("inband", "rfc4733"):
            if len(args) not in (1, 2, 3):
                raise ScriptError("%s: want %s:DIGITS[:SECS[:GAP]]" % (text, kind))
            ds = digits_of(args[0], text)
            secs = _num(args[1], text, 0.02, 8.0) if len(args) > 1 and args[1] else 0.1
            gap = _num(args[2], text, 0.0, 10.0) if len(args) > 2 else (
                0.1 if kind == "inband" else 0.08)
            on, off = max(1, _frames_of(secs)), _frames_of(gap)
            for k, d in enumerate(ds):
                if k and off:
                    it.frames.extend([("a", quiet)] * off)
                first = len(it.frames)
                if kind == "inband":
                    row = next(r for r in range(4) if d in hear.DTMF_KEYS[r])
                    lo, hi = hear.DTMF_LOW[row], hear.DTMF_HIGH[hear.DTMF_KEYS[row].index(d)]
                    amp = _sine_amp(-10.0)
                    wl, wh = 2 * math.pi * lo / 8000.0, 2 * math.pi * hi / 8000.0
                    audio(it, [amp * (math.sin(wl * i) + math.sin(wh * i))
                               for i in range(on * FRAME)])
                else:
                    code = EVENT_CODES[d]
                    for j in range(1, on):
                        it.frames.append(("e", code, j * FRAME, False, j == 1))
                    it.frames.append(("e", code, on * FRAME, True, on == 1))
                    it.frames.extend([("e", code, on * FRAME, True, False)] * 2)
                it.digits.append((d, first, len(it.frames)))
        else:
            raise ScriptError("unknown item %r (silence, tone, noise, wav, inband, rfc4733)" % text)
        items.append(it)
    return items


def _read_wav8k(path, text):
    import wave
    try:
        with wave.open(path, "rb") as w:
            ch, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (OSError, EOFError, wave.Error) as e:
        raise ScriptError("%s: %s" % (text, e))
    if (ch, width, rate) != (1, 2, 8000):
        raise ScriptError("%s: %d Hz, %d channel(s), %d-bit; want 8000 Hz mono 16-bit"
                          % (text, rate, ch, 8 * width))
    return list(struct.unpack("<%dh" % (len(raw) // 2), raw[:len(raw) // 2 * 2]))


class Sender:
    """The phone's outgoing stream: one packet per tick, audio or a
    telephone-event, the script's frames once it has started, else
    silence. Times are wall times from the start."""

    def __init__(self, a, ssrc):
        self.pt, self.dtmf_pt, self.ssrc = a.send_pt, a.dtmf_pt, ssrc
        self.silence = (b"\xff" if a.send_pt == 0 else b"\xd5") * FRAME
        self.items = a.items
        self.queue = []          # (frame, item index, frame index in the item)
        for k, it in enumerate(self.items):
            self.queue.extend((fr, k, i) for i, fr in enumerate(it.frames))
        self.digit_of = [{} for _ in self.items]    # frame index -> digit index
        for k, it in enumerate(self.items):
            for j, (_, f0, f1) in enumerate(it.digits):
                for f in range(f0, f1):
                    self.digit_of[k][f] = j
        self.pos = 0
        self.started = None
        self.item_times = [[None, None] for _ in self.items]
        self.digit_times = [[[None, None] for _ in it.digits] for it in self.items]
        self.seq, self.sent, self.event_ts = 1, 0, 0

    def _reach(self, k, rel):
        """Items before k that never started have no frames: they
        happen now."""
        for i in range(k):
            if self.item_times[i][0] is None:
                self.item_times[i] = [rel, rel]

    def packet(self, now, start, run_script):
        ts = FRAME * self.sent
        marker = self.sent == 0
        frame = ("a", self.silence)
        rel = round(now - start, 4)
        if run_script and self.started is None and self.items:
            self.started = rel
        if self.started is not None:
            if self.pos < len(self.queue):
                frame, k, i = self.queue[self.pos]
                self.pos += 1
                self._reach(k, rel)
                t = self.item_times[k]
                if t[0] is None:
                    t[0] = rel
                t[1] = round(rel + 0.02, 4)
                j = self.digit_of[k].get(i)
                if j is not None:
                    dt = self.digit_times[k][j]
                    if dt[0] is None:
                        dt[0] = rel
                    dt[1] = round(rel + 0.02, 4)
            else:
                self._reach(len(self.items), rel)
        if frame[0] == "a":
            pt, payload = self.pt, frame[1]
        else:
            _, code, dur, end, first = frame
            if first:
                self.event_ts, marker = ts, True
            ts, pt = self.event_ts, self.dtmf_pt
            payload = struct.pack("!BBH", code, (0x80 if end else 0) | 10, dur)
        hdr = struct.pack("!BBHII", 0x80, pt | (0x80 if marker else 0),
                          self.seq & 0xFFFF, ts & 0xFFFFFFFF, self.ssrc)
        self.seq += 1
        self.sent += 1
        return hdr + payload

    def report(self):
        if not self.items:
            return None
        out = []
        for k, it in enumerate(self.items):
            e = {"item": it.text, "kind": it.kind, "start_s": self.item_times[k][0],
                 "end_s": self.item_times[k][1],
                 "planned_s": round(len(it.frames) * 0.02, 3)}
            if it.digits:
                e["digits"] = [{"digit": d, "start_s": self.digit_times[k][j][0],
                                "end_s": self.digit_times[k][j][1]}
                               for j, (d, _, _) in enumerate(it.digits)]
            out.append(e)
        return out


def listen(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # No SO_REUSEADDR: two listeners on one port would share its packets.
    s.bind(("127.0.0.1", a.bind))
    print("listening on %d" % a.bind, flush=True)
    s.setblocking(False)
    snd = Sender(a, 0x0BADCAFE ^ a.bind)
    pkts = []                   # (arrival s, pt, seq, ts, ssrc, marker, payload)
    other = 0
    dest = None
    start = time.time()
    if a.to:
        host, port = a.to.rsplit(":", 1)
        dest = (host, int(port))
    else:
        # Bound before the call: wait (receiving) for the file the SIP side
        # writes at the ACK; its time is the start.
        start += 30
    next_send = start
    go = a.script_start_file is None
    while True:
        now = time.time()
        if dest is None and os.path.exists(a.to_file):
            with open(a.to_file) as f:
                txt = f.read().strip()
            if txt:
                host, port = txt.rsplit(":", 1) if ":" in txt else ("127.0.0.1", txt)
                dest = (host, int(port))
                start = os.stat(a.to_file).st_mtime
                next_send = time.time()
        if now - start >= a.seconds:
            break
        if not go and os.path.exists(a.script_start_file):
            go = True
        if dest is not None and (a.send_count < 0 or snd.sent < a.send_count) and now >= next_send:
            try:
                s.sendto(snd.packet(time.time(), start, go), dest)
            except OSError:
                pass
            next_send += 0.02
        wait = max(0.0, min(next_send - time.time(), start + a.seconds - time.time(), 0.02))
        if dest is None:
            wait = 0.005
        if a.send_count >= 0 and snd.sent >= a.send_count:
            wait = max(0.0, min(start + a.seconds - time.time(), 0.05))
        r, _, _ = select.select([s], [], [], wait)
        if not r:
            continue
        t = time.time()
        try:
            while True:
                data, _ = s.recvfrom(4096)
                if len(data) < 12 or (data[0] >> 6) != 2:
                    other += 1
                    continue
                cc = data[0] & 0x0F
                off = 12 + 4 * cc
                if data[0] & 0x10 and len(data) >= off + 4:
                    off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
                end = len(data)
                if data[0] & 0x20 and end > off:
                    end -= data[-1]
                m_pt, sq, tstamp, src = struct.unpack("!BHII", data[1:12])
                pkts.append((t, m_pt & 0x7F, sq, tstamp, src, m_pt >> 7, data[off:end]))
        except BlockingIOError:
            pass
    pkts = [(p[0] - start,) + p[1:] for p in pkts]
    if a.packets:
        with open(a.packets, "w") as f:
            for p in pkts:
                row = {"t": round(p[0], 4), "pt": p[1], "seq": p[2], "ts": p[3],
                       "ssrc": p[4], "m": p[5], "len": len(p[6])}
                if p[1] in (0, 8):
                    row["db"] = round(_level(p[1], p[6]), 1)
                f.write(json.dumps(row) + "\n")
    report = build_report(pkts, snd.sent, other, a.dtmf_pt)
    report["destination"] = "%s:%d" % dest if dest else None
    report["start_epoch"] = round(start, 4) if dest else None
    script = snd.report()
    if script is not None:
        report["script"] = script
        report["script_start_s"] = snd.started
    if a.wav:
        import hear
        hear.write_wav(a.wav, report.pop("_pcm"))
    else:
        report.pop("_pcm")
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1)
    os.replace(tmp, a.out)      # readers never see half a report


def _level(pt, payload):
    import hear
    tab = hear.ULAW if pt == 0 else hear.ALAW
    return hear.dbfs([tab[b] for b in payload])


LOUD_DB = -45.0


def sound_runs(pkts, merge=0.1):
    """[[start, end]] of loud received audio by arrival time: a packet is
    loud above LOUD_DB and lasts 20 ms from its arrival."""
    runs = []
    for p in sorted((p for p in pkts if p[1] in (0, 8)), key=lambda p: p[0]):
        if _level(p[1], p[6]) <= LOUD_DB:
            continue
        if runs and p[0] - runs[-1][1] < merge:
            runs[-1][1] = p[0] + 0.02
        else:
            runs.append([p[0], p[0] + 0.02])
    return [[round(x, 3), round(y, 3)] for x, y in runs]


def rx_events(pkts, dtmf_pt):
    """Telephone-events received, one entry per event (SSRC, timestamp)."""
    ev = {}
    for t, pt, sq, tstamp, src, mark, payload in pkts:
        if pt != dtmf_pt or len(payload) < 4:
            continue
        code, flags, dur = struct.unpack("!BBH", payload[:4])
        e = ev.get((src, tstamp))
        if e is None:
            e = ev[(src, tstamp)] = {
                "digit": "0123456789*#ABCD"[code] if code < 16 else "?%d" % code,
                "ts": tstamp, "first_s": round(t, 3), "last_s": round(t, 3),
                "packets": 0, "end_packets": 0, "marker": bool(mark),
                "duration_ms": 0.0, "volume": flags & 0x3F}
        e["last_s"] = round(t, 3)
        e["packets"] += 1
        e["end_packets"] += 1 if flags & 0x80 else 0
        e["duration_ms"] = max(e["duration_ms"], dur / 8.0)
    return sorted(ev.values(), key=lambda e: e["first_s"])


def bargein(rep):
    """(latency s, digit start s, run): how long the received sound went on
    after the script's first digit started; the run is the sound that was
    playing then. Raises ValueError (with the reason) when there is no
    digit in the script or no sound was playing when it started."""
    starts = [d["start_s"] for it in rep.get("script") or [] for d in it.get("digits", [])
              if d["start_s"] is not None]
    if not starts:
        raise ValueError("the script sent no digit")
    t = min(starts)
    runs = rep.get("sound_runs") or []
    for r in runs:
        # A run that ends at the very time the digit starts stopped with
        # it (no delay): that is a barge-in of 0 ms, not "nothing played".
        if r[0] <= t <= r[1]:
            return round(r[1] - t, 3), t, r
    raise ValueError("no received sound was playing when the first digit started at "
                     "%.3f s; sound runs: %s" % (t, runs))


def build_report(pkts, sent, other, dtmf_pt=101):
    """The stream as a phone's jitter buffer sees it: audio packets placed
    by RTP timestamp from the first one; holes stay silent."""
    rep = {"sent": sent, "packets": len(pkts), "not_rtp": other}
    rep["rx_events"] = rx_events(pkts, dtmf_pt)
    rep["rx_digits"] = "".join(e["digit"] for e in rep["rx_events"])
    rep["sound_runs"] = sound_runs(pkts)
    audio = [p for p in pkts if p[1] in (0, 8)]
    rep["pts"] = sorted({p[1] for p in pkts})
    rep["ssrcs"] = len({p[4] for p in pkts})
    rep["audio_packets"] = len(audio)
    rep["event_packets"] = sum(1 for p in pkts if p[1] not in (0, 8))
    rep["first_packet_s"] = round(pkts[0][0], 3) if pkts else None
    rep["packets_before_start"] = sum(1 for p in pkts if p[0] < 0)
    rep["last_packet_s"] = round(pkts[-1][0], 3) if pkts else None
    if not audio:
        rep.update({"audio_s": 0.0, "_pcm": [], "analysis": None})
        return rep
    try:
        import hear
    except ImportError:
        hear = None
    seen, dups, reordered, seq_gaps, ts_gaps, ts_jumps = set(), 0, 0, 0, 0, 0
    t0, ts0 = audio[0][0], audio[0][3]
    skew = 0.0
    prev = None
    placed = {}
    sizes = {}
    for t, pt, sq, tstamp, src, mark, payload in audio:
        key = (src, sq)
        if key in seen:
            dups += 1
            continue
        seen.add(key)
        sizes[len(payload)] = sizes.get(len(payload), 0) + 1
        off = (tstamp - ts0) & 0xFFFFFFFF
        if off >= 0x80000000:
            off -= 0x100000000
        if prev is not None:
            dseq = (sq - prev[0]) & 0xFFFF
            if dseq == 0 or dseq > 0x8000:
                reordered += 1
            elif dseq > 1:
                seq_gaps += dseq - 1
            dts = off - prev[1]
            # A timestamp step that the sequence numbers do not explain
            # (a lost packet moves both alike).
            if 0 < dseq < 0x8000 and dts != dseq * prev[2]:
                if 0 < dts <= 8000 * 5:
                    ts_gaps += 1
                else:
                    ts_jumps += 1
        if off < 0 or off > 8000 * 600:
            ts_jumps += 1
            continue
        skew = max(skew, abs((t - t0) - off / 8000.0))
        dec = hear.ULAW if (hear and pt == 0) else hear.ALAW if hear else None
        placed[off] = [dec[b] for b in payload] if dec else [0] * len(payload)
        prev = (sq, off, len(payload))
    total = max(k + len(v) for k, v in placed.items())
    pcm = [0] * total
    filled = 0
    for k, v in placed.items():
        pcm[k:k + len(v)] = v
        filled += len(v)
    rep.update({
        "payload_sizes": {str(k): v for k, v in sizes.items()},
        "duplicates": dups, "reordered": reordered, "seq_gaps": seq_gaps,
        "ts_gaps": ts_gaps, "ts_jumps": ts_jumps,
        "holes_s": round((total - filled) / 8000.0, 3),
        "audio_s": round(total / 8000.0, 3),
        "arrival_span_s": round(audio[-1][0] - t0, 3),
        "max_skew_ms": round(skew * 1000, 1),
    })
    rep["analysis"] = hear.analyze(pcm) if hear else None
    rep["_pcm"] = pcm
    return rep


if __name__ == "__main__":
    main()
