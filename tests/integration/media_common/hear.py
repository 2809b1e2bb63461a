#!/usr/bin/env python3
"""hear.py: what a phone hears, measured. G.711 coding, audio analysis
and the assertions of the media integration tests. Standard library only.

As a module (rtptool.py imports it; run.sh scripts may use python3 -c):
  ulaw_decode / alaw_decode / ulaw_encode / alaw_encode   G.711, own tables
  read_wav(path) -> (samples, rate); write_wav(path, samples, rate)
  analyze(samples) -> dict: 100 ms windows, tone and silence segments
  tone_segments, silence_segments, dtmf_digits, ringback_runs, speech_stats

As a command (exit 0 when the stream sounds as asserted, 1 otherwise, with
one line saying why; every check also prints what it measured):
  hear.py show WAV                                   prints the analysis
  hear.py tone WAV --freq F --dur D [--tol 20] [--dtol 0.1] [--nth N]
        [--count N]   a tone segment of F +- tol Hz lasting D +- dtol s
                      (--count: exactly N tone segments in the stream)
  hear.py pattern WAV "1000:2.0 _:1.0 1000:2.0" [--tol 20] [--dtol 0.1]
                      the stream's segments in order, ignoring leading and
                      trailing silence: F:D a tone, _:D silence
  hear.py speech WAV --min S --max S [--active 0.5]
                      speech-like: voiced length within [min, max], voiced
                      in at least --active of the windows between its first
                      and last voiced window, spectrum that varies, few
                      windows that are a pure tone
  hear.py dtmf WAV --digits 123 [--gap-after 3:0.5]
                      exactly these DTMF digits, in order
  hear.py ringback WAV [--on 2.0] [--off 4.0] [--cycles 1] [--tol 0.15]
                      440+480 Hz on/off cadence (US ringback)
  hear.py silent WAV [--db -50]                      nothing but silence
  hear.py absent WAV --freq F [--tol 20] [--share 0.5]
                      F is never heard: no 100 ms window (50 ms apart)
                      above -45 dBFS with over --share of its energy
                      within tol of F
  hear.py mix WAV --freqs 700,1300 --min S
                      these tones at once, for at least S seconds: the
                      100 ms windows where each holds over 15% of the
                      energy and all together over 70%
  hear.py selftest                                   checks this file
"""
import argparse
import json
import math
import struct
import sys
import wave

RATE = 8000

# ---- G.711 ------------------------------------------------------------------


def _ulaw_to_lin(u):
    u = ~u & 0xFF
    sign, exp, mant = u & 0x80, (u >> 4) & 7, u & 0x0F
    mag = (((mant << 3) + 0x84) << exp) - 0x84
    return -mag if sign else mag


def _alaw_to_lin(a):
    a ^= 0x55
    sign, exp, mant = a & 0x80, (a >> 4) & 7, a & 0x0F
    if exp == 0:
        mag = (mant << 4) + 8
    else:
        mag = ((mant << 4) + 0x108) << (exp - 1)
    return mag if sign else -mag


ULAW = [_ulaw_to_lin(i) for i in range(256)]
ALAW = [_alaw_to_lin(i) for i in range(256)]


def _lin_to_ulaw(x):
    # 14-bit magnitude, biased, segment = position of the top bit.
    x >>= 2
    if x < 0:
        x, mask = -x, 0x7F
    else:
        mask = 0xFF
    x = min(x, 8159) + 33
    seg = 0
    while seg < 8 and x > (0x40 << seg) - 1:
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((x >> (seg + 1)) & 0x0F)) ^ mask


def _lin_to_alaw(x):
    x >>= 3
    if x >= 0:
        mask = 0xD5
    else:
        mask, x = 0x55, -x - 1
    seg = 0
    while seg < 8 and x > (0x20 << seg) - 1:
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    v = seg << 4
    v |= ((x >> 1) if seg < 2 else (x >> seg)) & 0x0F
    return v ^ mask


_ULAW_ENC = None
_ALAW_ENC = None


def _enc_tables():
    global _ULAW_ENC, _ALAW_ENC
    if _ULAW_ENC is None:
        _ULAW_ENC = bytes(_lin_to_ulaw(x) for x in range(-32768, 32768))
        _ALAW_ENC = bytes(_lin_to_alaw(x) for x in range(-32768, 32768))


def ulaw_decode(data):
    return [ULAW[b] for b in data]


def alaw_decode(data):
    return [ALAW[b] for b in data]


def ulaw_encode(samples):
    _enc_tables()
    return bytes(_ULAW_ENC[_clip(s) + 32768] for s in samples)


def alaw_encode(samples):
    _enc_tables()
    return bytes(_ALAW_ENC[_clip(s) + 32768] for s in samples)


def _clip(s):
    s = int(round(s))
    return -32768 if s < -32768 else 32767 if s > 32767 else s


# ---- WAV --------------------------------------------------------------------


def read_wav(path):
    """Mono 16-bit PCM WAV (what rtptool writes) -> (samples, rate)."""
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError("%s: not 16-bit" % path)
        n, ch = w.getnframes(), w.getnchannels()
        raw = w.readframes(n)
        s = list(struct.unpack("<%dh" % (n * ch), raw))
        return s[::ch], w.getframerate()


def write_wav(path, samples, rate=RATE):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack("<%dh" % len(samples), *[_clip(s) for s in samples]))


# ---- measurements -----------------------------------------------------------


def dbfs(seg):
    if not seg:
        return -120.0
    e = sum(x * x for x in seg) / len(seg)
    return 10 * math.log10(e / (32768.0 * 32768.0)) if e > 0 else -120.0


def goertzel_frac(seg, f):
    """Share of seg's energy at frequency f (1.0 for a pure on-bin sine)."""
    n = len(seg)
    if n == 0:
        return 0.0
    w = 2 * math.pi * f / RATE
    c = 2 * math.cos(w)
    s1 = s2 = 0.0
    for x in seg:
        s0 = x + c * s1 - s2
        s2, s1 = s1, s0
    power = s1 * s1 + s2 * s2 - c * s1 * s2
    energy = sum(x * x for x in seg)
    return 2 * power / (n * energy) if energy > 0 else 0.0


def zc_freq(seg):
    """Frequency from sign changes between non-zero samples, measured
    between the first and the last change (leading or trailing silence
    does not lower it)."""
    changes, prev, first, last = 0, 0, -1, -1
    for i, x in enumerate(seg):
        if x == 0:
            continue
        sgn = 1 if x > 0 else -1
        if prev and sgn != prev:
            changes += 1
            if first < 0:
                first = i
            last = i
        prev = sgn
    if changes < 2 or last <= first:
        return 0.0
    return (changes - 1) * RATE / (2.0 * (last - first))


def windows(samples, ms=100):
    """Per window: start (s), level (dBFS), zero-crossing frequency and the
    share of energy at that frequency (tonality)."""
    n = RATE * ms // 1000
    out = []
    for i in range(0, len(samples) - n + 1, n):
        seg = samples[i:i + n]
        db = dbfs(seg)
        f = zc_freq(seg) if db > -60 else 0.0
        ton = _best_frac(seg, f) if db > -60 else 0.0
        out.append({"t": round(i / RATE, 3), "db": round(db, 1),
                    "freq": round(f, 1), "tonal": round(ton, 3)})
    return out


def _best_frac(seg, f):
    if f <= 0:
        return 0.0
    return max(goertzel_frac(seg, f + d) for d in (-4, 0, 4))


def _runs(flags):
    """[(start, length, value)] of equal consecutive values."""
    out = []
    for i, v in enumerate(flags):
        if out and out[-1][2] == v:
            out[-1][1] += 1
        else:
            out.append([i, 1, v])
    return [tuple(r) for r in out]


FRAME = 80      # 10 ms


def segments(samples, thr_db=-45.0):
    """Splits the stream into silence and sound: 10 ms frames above thr_db
    are sound, and each sound's ends are refined to the first and last
    sample above that level; sound is split again where its frequency
    changes for good. Returns a list of {"kind": "tone"|"sound"|"silence",
    "start", "len", "freq", "tonal", "db"} (seconds, Hz)."""
    nfr = len(samples) // FRAME
    amp = 32768.0 * 10 ** (thr_db / 20.0)
    active = [dbfs(samples[i * FRAME:(i + 1) * FRAME]) > thr_db for i in range(nfr)]
    sounds = []
    for start, length, on in _runs(active):
        if not on:
            continue
        lo, hi = start * FRAME, (start + length) * FRAME
        while lo < hi - 1 and abs(samples[lo]) < amp:
            lo += 1
        while hi > lo + 1 and abs(samples[hi - 1]) < amp:
            hi -= 1
        parts = _split_by_freq(samples, start, start + length)
        for k, (a, b) in enumerate(parts):
            a = lo if k == 0 else a * FRAME
            b = hi if k == len(parts) - 1 else b * FRAME
            seg = samples[a:b]
            f = zc_freq(seg)
            tonal = _mean_tonality(seg, f)
            sounds.append({"kind": "tone" if tonal > 0.8 else "sound",
                           "start": a, "end": b, "freq": round(f, 1),
                           "tonal": round(tonal, 3), "db": round(dbfs(seg), 1)})
    out, pos = [], 0
    for snd in sounds:
        if snd["start"] > pos + 8:        # under 1 ms is no silence
            out.append({"kind": "silence", "start": pos, "end": snd["start"]})
        out.append(snd)
        pos = snd["end"]
    if nfr * FRAME > pos + 8:
        out.append({"kind": "silence", "start": pos, "end": nfr * FRAME})
    for s in out:
        s["len"] = round((s.pop("end") - s["start"]) / RATE, 3)
        s["start"] = round(s["start"] / RATE, 3)
    return out


def _split_by_freq(samples, a, b):
    """Frame ranges [a, b) split where the 20 ms zero-crossing frequency
    leaves the running median by more than 5% (and 30 Hz) for 3 frames."""
    step = 2
    freqs = []
    for i in range(a, b - step + 1, step):
        freqs.append((i, zc_freq(samples[i * FRAME:(i + step) * FRAME])))
    cuts, cur, off = [a], [], 0
    for idx, (i, f) in enumerate(freqs):
        if len(cur) >= 3:
            m = sorted(cur)[len(cur) // 2]
            if abs(f - m) > max(30.0, 0.05 * m):
                off += 1
                if off == 3:
                    cut = freqs[idx - 2][0]
                    cuts.append(cut)
                    cur = [x for _, x in freqs[idx - 2:idx + 1]]
                    off = 0
                continue
        off = 0
        cur.append(f)
        if len(cur) > 25:
            cur.pop(0)
    cuts.append(b)
    return [(cuts[k], cuts[k + 1]) for k in range(len(cuts) - 1) if cuts[k + 1] > cuts[k]]


def _mean_tonality(seg, f):
    n = RATE // 10
    # Windows from the middle outwards; a last partial one is dropped.
    off = (len(seg) % n) // 2
    vals = [_best_frac(seg[i:i + n], f) for i in range(off, len(seg) - n + 1, n)]
    if not vals:
        vals = [_best_frac(seg, f)]
    return sum(vals) / len(vals)


def tone_segments(samples):
    return [s for s in segments(samples) if s["kind"] == "tone"]


def silence_segments(samples):
    return [s for s in segments(samples) if s["kind"] == "silence"]


DTMF_LOW = (697, 770, 852, 941)
DTMF_HIGH = (1209, 1336, 1477, 1633)
DTMF_KEYS = ("123A", "456B", "789C", "*0#D")


def dtmf_digits(samples, win_ms=40, hop_ms=10):
    """[(digit, start s, length s)] of dual tones at DTMF frequencies that
    last at least 40 ms."""
    n, hop = RATE * win_ms // 1000, RATE * hop_ms // 1000
    per = []
    for i in range(0, len(samples) - n + 1, hop):
        seg = samples[i:i + n]
        d = None
        if dbfs(seg) > -40:
            lo = [goertzel_frac(seg, f) for f in DTMF_LOW]
            hi = [goertzel_frac(seg, f) for f in DTMF_HIGH]
            li, hj = lo.index(max(lo)), hi.index(max(hi))
            lo2 = sorted(lo)[-2]
            hi2 = sorted(hi)[-2]
            if (lo[li] > 0.15 and hi[hj] > 0.15 and lo[li] + hi[hj] > 0.7
                    and lo2 < lo[li] / 4 and hi2 < hi[hj] / 4):
                d = DTMF_KEYS[li][hj]
        per.append(d)
    out = []
    for start, length, d in _runs(per):
        if d is not None and (length - 1) * hop_ms + win_ms >= 40 + hop_ms:
            out.append((d, round(start * hop / RATE, 3),
                        round(((length - 1) * hop + n) / RATE, 3)))
    return out


def ringback_runs(samples, f1=440, f2=480):
    """[(on, start s, length s)]: the stream cut into sound and silence
    (as segments() does, at sample precision); a sound is on=True when
    it is the dual tone f1+f2 (in 100 ms windows, on average, each tone
    holds over 20% of the energy and both over 70%), None when it is
    something else; silence is on=False."""
    out = []
    for sg in segments(samples):
        on = sg["kind"] != "silence"
        if out and out[-1][0] is not False and on:
            out[-1][2] += sg["len"]     # adjacent sound pieces: one sound
            continue
        out.append([on, sg["start"], sg["len"]])
    res = []
    for on, start, length in out:
        if on:
            a, b = int(start * RATE), int((start + length) * RATE)
            n = RATE // 10
            wins = [samples[i:i + n] for i in range(a, b - n + 1, n)] or [samples[a:b]]
            fa = sum(goertzel_frac(w, f1) for w in wins) / len(wins)
            fb = sum(goertzel_frac(w, f2) for w in wins) / len(wins)
            on = True if (fa > 0.2 and fb > 0.2 and fa + fb > 0.7) else None
        res.append((on, round(start, 3), round(length, 3)))
    return res


def speech_stats(samples, thr_db=-40.0):
    w = windows(samples, 100)
    voiced = [x for x in w if x["db"] > thr_db]
    if not voiced:
        return {"voiced_s": 0.0, "active": 0.0, "freq_sd": 0.0, "tonal_share": 0.0,
                "windows": len(w)}
    first, last = voiced[0]["t"], voiced[-1]["t"]
    span = [x for x in w if first <= x["t"] <= last]
    fr = [x["freq"] for x in voiced]
    mean = sum(fr) / len(fr)
    sd = math.sqrt(sum((f - mean) ** 2 for f in fr) / len(fr))
    tonal = sum(1 for x in voiced if x["tonal"] > 0.8) / len(voiced)
    return {"voiced_s": round(len(voiced) * 0.1, 2), "first_s": first,
            "last_s": round(last + 0.1, 2),
            "active": round(len(voiced) / len(span), 3),
            "freq_sd": round(sd, 1), "tonal_share": round(tonal, 3),
            "windows": len(w)}


def analyze(samples):
    segs = segments(samples)
    return {"seconds": round(len(samples) / RATE, 3),
            "windows_100ms": windows(samples, 100),
            "segments": segs,
            "tones": [s for s in segs if s["kind"] == "tone"],
            "silences": [s for s in segs if s["kind"] == "silence"]}


# ---- assertions ---------------------------------------------------------------


class Fail(Exception):
    pass


def _seg_text(segs):
    return " ".join(("_:%.2f" % s["len"]) if s["kind"] == "silence" else
                    ("%s%.0f:%.2f" % ("" if s["kind"] == "tone" else "~", s["freq"], s["len"]))
                    for s in segs)


def check_tone(samples, freq, dur, tol=20.0, dtol=0.1, nth=None, count=None):
    tones = tone_segments(samples)
    desc = "tones heard: [%s]" % _seg_text(tones)
    if count is not None and len(tones) != count:
        raise Fail("expected %d tone segment(s); %s" % (count, desc))
    cands = tones if nth is None else tones[nth:nth + 1]
    for t in cands:
        if abs(t["freq"] - freq) <= tol and abs(t["len"] - dur) <= dtol:
            return "a %.1f Hz tone of %.2f s at %.2f s (%s)" % (t["freq"], t["len"], t["start"], desc)
    raise Fail("no %g Hz (+-%g) tone of %.2f s (+-%.2f)%s; %s" % (
        freq, tol, dur, dtol, "" if nth is None else " as tone #%d" % nth, desc))


def check_pattern(samples, pattern, tol=20.0, dtol=0.1):
    segs = segments(samples)
    while segs and segs[0]["kind"] == "silence":
        segs.pop(0)
    while segs and segs[-1]["kind"] == "silence":
        segs.pop()
    want = [tok.split(":") for tok in pattern.split()]
    got = _seg_text(segs)
    if len(segs) != len(want):
        raise Fail("expected [%s], heard [%s]" % (pattern, got))
    for (f, d), s in zip(want, segs):
        d = float(d)
        if f == "_":
            ok = s["kind"] == "silence"
        else:
            ok = s["kind"] == "tone" and abs(s["freq"] - float(f)) <= tol
        if not ok or abs(s["len"] - d) > dtol:
            raise Fail("expected [%s], heard [%s]" % (pattern, got))
    return "heard [%s]" % got


def check_speech(samples, lo, hi, active=0.5):
    st = speech_stats(samples)
    desc = json.dumps(st)
    if not lo <= st["voiced_s"] <= hi:
        raise Fail("voiced %.2f s, not within [%g, %g]: %s" % (st["voiced_s"], lo, hi, desc))
    if st["active"] < active:
        raise Fail("voiced in %.0f%% of the windows, wanted %.0f%%: %s" % (
            100 * st["active"], 100 * active, desc))
    if st["freq_sd"] < 80:
        raise Fail("spectrum does not vary (zero-crossing sd %.1f Hz): %s" % (st["freq_sd"], desc))
    if st["tonal_share"] > 0.3:
        raise Fail("mostly pure tones, not speech: %s" % desc)
    return "speech-like: %s" % desc


def check_dtmf(samples, digits, gaps=()):
    got = dtmf_digits(samples)
    s = "".join(d for d, _, _ in got)
    desc = "digits heard: %s" % json.dumps(got)
    if s != digits:
        raise Fail("expected DTMF %r, heard %r; %s" % (digits, s, desc))
    for after, secs in gaps:
        i = int(after)
        if i + 1 >= len(got):
            raise Fail("no digit after #%d; %s" % (i, desc))
        gap = got[i + 1][1] - (got[i][1] + got[i][2])
        if gap < secs - 0.05:
            raise Fail("gap after digit #%d is %.2f s, wanted >= %.2f; %s" % (i, gap, secs, desc))
    return desc


def check_ringback(samples, on=2.0, off=4.0, cycles=1, tol=0.15):
    runs = ringback_runs(samples)
    desc = "runs: %s" % " ".join("%s%.2f" % ({True: "ON:", False: "off:", None: "?:"}[v], ln)
                                 for v, _, ln in runs)
    # Look for cycles x (on, off) followed by on, each full length.
    rs = [(v, ln) for v, _, ln in runs]
    for i in range(len(rs)):
        ok = True
        for k in range(2 * cycles + 1):
            if i + k >= len(rs):
                ok = False
                break
            v, ln = rs[i + k]
            want_on = k % 2 == 0
            if v is not want_on or abs(ln - (on if want_on else off)) > tol:
                ok = False
                break
        if ok:
            return "ringback cadence %s; %s" % ("on/off " * cycles + "on", desc)
    raise Fail("no %d x (%.1f s of 440+480 Hz, %.1f s silence) then tone again; %s" % (
        cycles, on, off, desc))


def check_silent(samples, db=-50.0):
    w = windows(samples, 100)
    loud = [x for x in w if x["db"] > db]
    if loud:
        raise Fail("%d window(s) above %g dBFS, first at %.1f s (%s)" % (
            len(loud), db, loud[0]["t"], loud[0]))
    return "silent: %d windows below %g dBFS" % (len(w), db)


def _share_near(seg, freq, tol):
    """Largest share of seg's energy within tol of freq (10 Hz steps)."""
    steps = max(1, int(tol // 10))
    return max(goertzel_frac(seg, freq + 10 * k) for k in range(-steps, steps + 1))


def check_absent(samples, freq, tol=20.0, share=0.5):
    n, hop = RATE // 10, RATE // 20
    hits = []
    for i in range(0, len(samples) - n + 1, hop):
        seg = samples[i:i + n]
        if dbfs(seg) > -45 and _share_near(seg, freq, tol) > share:
            hits.append(round(i / RATE, 2))
    if hits:
        raise Fail("%g Hz heard in %d window(s), from %.2f s to %.2f s; tones heard: [%s]" % (
            freq, len(hits), hits[0], hits[-1] + 0.1, _seg_text(tone_segments(samples))))
    return "no %g Hz (+-%g) in %.1f s; tones heard: [%s]" % (
        freq, tol, len(samples) / float(RATE), _seg_text(tone_segments(samples)))


def check_mix(samples, freqs, min_s):
    n = RATE // 10
    both, first = 0, None
    for i in range(0, len(samples) - n + 1, n):
        seg = samples[i:i + n]
        if dbfs(seg) <= -45:
            continue
        sh = [_best_frac(seg, f) for f in freqs]
        if min(sh) > 0.15 and sum(sh) > 0.7:
            both += 1
            if first is None:
                first = i / float(RATE)
    desc = "%.1f s of %s Hz together%s; tones heard: [%s]" % (
        both * 0.1, "+".join("%g" % f for f in freqs),
        "" if first is None else " from %.2f s" % first, _seg_text(tone_segments(samples)))
    if both * 0.1 < min_s - 1e-9:
        raise Fail("wanted at least %.1f s of %s Hz at once, heard %s" % (
            min_s, "+".join("%g" % f for f in freqs), desc))
    return desc


# ---- self-test -----------------------------------------------------------------


def synth(parts, amp=12000):
    """parts: [(freqs tuple or (), seconds)] -> 8 kHz samples."""
    out = []
    for freqs, secs in parts:
        n = int(round(secs * RATE))
        if not freqs:
            out.extend([0] * n)
            continue
        a = amp / len(freqs)
        out.extend(int(sum(a * math.sin(2 * math.pi * f * i / RATE) for f in freqs))
                   for i in range(n))
    return out


def _must_fail(fn, *args, **kw):
    try:
        fn(*args, **kw)
    except Fail:
        return
    raise AssertionError("%s%r should have failed" % (fn.__name__, args[1:]))


def selftest():
    import random
    # G.711 against the standard library's audioop where it still exists.
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import audioop
    except ImportError:
        audioop = None
    if audioop:
        raw = bytes(range(256))
        assert list(struct.unpack("<256h", audioop.ulaw2lin(raw, 2))) == ULAW, "ulaw decode"
        assert list(struct.unpack("<256h", audioop.alaw2lin(raw, 2))) == ALAW, "alaw decode"
        xs = list(range(-32768, 32768, 7))
        pk = struct.pack("<%dh" % len(xs), *xs)
        assert audioop.lin2ulaw(pk, 2) == ulaw_encode(xs), "ulaw encode"
        assert audioop.lin2alaw(pk, 2) == alaw_encode(xs), "alaw encode"
        print("selftest: G.711 tables agree with audioop")
    # Round trips stay close (the codec's step size).
    for enc, dec in ((ulaw_encode, ulaw_decode), (alaw_encode, alaw_decode)):
        xs = [random.randint(-30000, 30000) for _ in range(2000)]
        ys = dec(enc(xs))
        assert all(abs(x - y) <= max(16, abs(x) // 16) for x, y in zip(xs, ys)), "round trip"
    assert ULAW[0xFF] == 0 and ALAW[0xD5] in (8, -8), "silence codes"

    def g(parts, codec="ulaw", noise=0):
        s = synth(parts)
        if noise:
            s = [x + random.randint(-noise, noise) for x in s]
        return ulaw_decode(ulaw_encode(s)) if codec == "ulaw" else alaw_decode(alaw_encode(s))

    # A tone: frequency and length measured, wrong expectations fail.
    s = g([((), 0.3), ((1000,), 2.0), ((), 0.5)])
    check_tone(s, 1000, 2.0, count=1)
    _must_fail(check_tone, s, 1100, 2.0)
    _must_fail(check_tone, s, 1000, 1.5)
    _must_fail(check_tone, s, 1000, 2.0, count=2)
    s = g([((), 0.2), ((1000,), 2.0), ((), 0.5)], codec="alaw", noise=30)
    check_tone(s, 1000, 2.0)
    # Tone, pause, tone; and a frequency change without a gap.
    s = g([((), 0.2), ((1000,), 1.0), ((), 1.5), ((500,), 1.0), ((2000,), 0.7), ((), 0.3)])
    check_pattern(s, "1000:1.0 _:1.5 500:1.0 2000:0.7")
    _must_fail(check_pattern, s, "1000:1.0 _:1.0 500:1.0 2000:0.7")
    _must_fail(check_pattern, s, "1000:1.0 500:1.0 2000:0.7")
    # A 20 ms hole splits a tone.
    s = g([((1000,), 1.0), ((), 0.02), ((1000,), 1.0)])
    _must_fail(check_tone, s, 1000, 2.0)
    # DTMF.
    parts = []
    for fr in ((697, 1209), (697, 1336), (697, 1477)):
        parts += [(fr, 0.1), ((), 0.1)]
    parts += [((), 0.5), ((770, 1209), 0.1), ((), 0.2)]
    s = g(parts)
    check_dtmf(s, "1234", gaps=[(2, 0.5)])
    _must_fail(check_dtmf, s, "1235")
    _must_fail(check_dtmf, s, "1234", gaps=[(2, 0.8)])
    _must_fail(check_dtmf, g([((1000,), 1.0)]), "1")
    # Ringback cadence.
    s = g([((), 0.4), ((440, 480), 2.0), ((), 4.0), ((440, 480), 2.0), ((), 0.5)])
    check_ringback(s)
    _must_fail(check_ringback, g([((), 0.4), ((440, 480), 2.0), ((), 2.0), ((440, 480), 2.0)]))
    _must_fail(check_ringback, g([((), 0.4), ((1000,), 2.0), ((), 4.0), ((1000,), 2.0)]))
    # Speech-like: a formant-ish sound whose pitch and spectrum wander,
    # with syllable gaps; pure tones and silence are not speech.
    sp = []
    rnd = random.Random(7)
    for k in range(12):
        f0 = rnd.choice((110, 130, 160, 200))
        form = rnd.choice((300, 700, 1200, 2200, 3000))
        n = int(0.2 * RATE)
        for i in range(n):
            t = i / RATE
            sp.append(int(4000 * math.sin(2 * math.pi * f0 * t) * (1 + math.sin(2 * math.pi * form * t))
                          + rnd.randint(-800, 800)))
        sp.extend([0] * int(0.08 * RATE))
    s = ulaw_decode(ulaw_encode(sp))
    check_speech(s, 2.0, 3.5)
    _must_fail(check_speech, s, 4.0, 6.0)
    _must_fail(check_speech, g([((1000,), 3.0)]), 1.0, 5.0)
    _must_fail(check_speech, g([((), 3.0)]), 1.0, 5.0)
    check_silent(g([((), 2.0)]))
    _must_fail(check_silent, g([((), 1.0), ((1000,), 0.2)]))
    # A tone that must not be there; two tones at once.
    s = g([((), 0.3), ((1000,), 1.0), ((), 0.3), ((500,), 0.15), ((), 0.3)])
    check_absent(s, 1500)
    _must_fail(check_absent, s, 1000)
    _must_fail(check_absent, s, 500)
    s = g([((), 0.3), ((700, 1300), 2.0), ((700,), 1.0), ((), 0.3)])
    check_mix(s, (700, 1300), 1.8)
    _must_fail(check_mix, s, (700, 1300), 2.5)
    _must_fail(check_mix, s, (700, 1500), 0.5)
    print("selftest: ok")


# ---- command line ----------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description="what a phone hears")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("show")
    p.add_argument("wav")
    p = sub.add_parser("tone")
    p.add_argument("wav")
    p.add_argument("--freq", type=float, required=True)
    p.add_argument("--dur", type=float, required=True)
    p.add_argument("--tol", type=float, default=20.0)
    p.add_argument("--dtol", type=float, default=0.1)
    p.add_argument("--nth", type=int)
    p.add_argument("--count", type=int)
    p = sub.add_parser("pattern")
    p.add_argument("wav")
    p.add_argument("pattern")
    p.add_argument("--tol", type=float, default=20.0)
    p.add_argument("--dtol", type=float, default=0.1)
    p = sub.add_parser("speech")
    p.add_argument("wav")
    p.add_argument("--min", type=float, required=True)
    p.add_argument("--max", type=float, required=True)
    p.add_argument("--active", type=float, default=0.5)
    p = sub.add_parser("dtmf")
    p.add_argument("wav")
    p.add_argument("--digits", required=True)
    p.add_argument("--gap-after", action="append", default=[],
                   help="I:S: at least S seconds after digit #I (0-based)")
    p = sub.add_parser("ringback")
    p.add_argument("wav")
    p.add_argument("--on", type=float, default=2.0)
    p.add_argument("--off", type=float, default=4.0)
    p.add_argument("--cycles", type=int, default=1)
    p.add_argument("--tol", type=float, default=0.15)
    p = sub.add_parser("silent")
    p.add_argument("wav")
    p.add_argument("--db", type=float, default=-50.0)
    p = sub.add_parser("absent")
    p.add_argument("wav")
    p.add_argument("--freq", type=float, required=True)
    p.add_argument("--tol", type=float, default=20.0)
    p.add_argument("--share", type=float, default=0.5)
    p = sub.add_parser("mix")
    p.add_argument("wav")
    p.add_argument("--freqs", required=True, help="F1,F2[,...]")
    p.add_argument("--min", type=float, required=True)
    sub.add_parser("selftest")
    a = ap.parse_args(argv)
    if a.cmd == "selftest":
        selftest()
        return 0
    samples, rate = read_wav(a.wav)
    if rate != RATE:
        print("FAIL: %s is %d Hz, not 8000" % (a.wav, rate))
        return 1
    try:
        if a.cmd == "show":
            r = analyze(samples)
            del r["windows_100ms"]
            print(json.dumps(r, indent=1))
            print("speech:", json.dumps(speech_stats(samples)))
            print("dtmf:", json.dumps(dtmf_digits(samples)))
            return 0
        if a.cmd == "tone":
            msg = check_tone(samples, a.freq, a.dur, a.tol, a.dtol, a.nth, a.count)
        elif a.cmd == "pattern":
            msg = check_pattern(samples, a.pattern, a.tol, a.dtol)
        elif a.cmd == "speech":
            msg = check_speech(samples, a.min, a.max, a.active)
        elif a.cmd == "dtmf":
            msg = check_dtmf(samples, a.digits, [g.split(":") and (int(g.split(":")[0]), float(g.split(":")[1]))
                                                 for g in a.gap_after])
        elif a.cmd == "ringback":
            msg = check_ringback(samples, a.on, a.off, a.cycles, a.tol)
        elif a.cmd == "absent":
            msg = check_absent(samples, a.freq, a.tol, a.share)
        elif a.cmd == "mix":
            msg = check_mix(samples, [float(f) for f in a.freqs.split(",")], a.min)
        else:
            msg = check_silent(samples, a.db)
    except Fail as e:
        print("FAIL: %s: %s" % (a.wav, e))
        return 1
    print("heard: %s: %s" % (a.wav, msg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
