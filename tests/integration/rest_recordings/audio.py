#!/usr/bin/env python3
"""audio.py: WAV files for the Recordings test, and what a served file holds.

  audio.py tone PATH SECONDS FREQ [RATE [CHANNELS]]
      writes a 16-bit PCM WAV: FREQ Hz at half scale for SECONDS, then
      0.5 s of silence
  audio.py probe PATH
      decodes PATH with libsndfile (through ctypes; MP3 via mpg123) and
      prints JSON: rate, channels, seconds, tone_seconds (20 ms blocks
      louder than -30 dBFS), freq (zero crossings in the loud part),
      mpeg (the file starts with an ID3 tag or an MPEG audio frame header)
"""
import ctypes
import json
import math
import struct
import sys
import wave


def tone(path, seconds, freq, rate=8000, channels=1):
    n = int(seconds * rate)
    frames = bytearray()
    for i in range(n + rate // 2):
        v = int(16000 * math.sin(2 * math.pi * freq * i / rate)) if i < n else 0
        frames += struct.pack("<h", v) * channels
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


class SF_INFO(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int),
                ("channels", ctypes.c_int), ("format", ctypes.c_int),
                ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


def decode(path):
    lib = ctypes.CDLL("libsndfile.so.1")
    lib.sf_open.restype = ctypes.c_void_p
    lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(SF_INFO)]
    lib.sf_readf_short.restype = ctypes.c_int64
    lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_short),
                                   ctypes.c_int64]
    lib.sf_close.argtypes = [ctypes.c_void_p]
    lib.sf_strerror.restype = ctypes.c_char_p
    lib.sf_strerror.argtypes = [ctypes.c_void_p]
    info = SF_INFO()
    f = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))  # SFM_READ
    if not f:
        raise SystemExit("libsndfile cannot open %s: %s" % (path, lib.sf_strerror(None).decode()))
    ch = info.channels
    buf = (ctypes.c_short * (4096 * ch))()
    mono = []
    while True:
        n = lib.sf_readf_short(f, buf, 4096)
        if n <= 0:
            break
        for i in range(n):
            mono.append(buf[i * ch])           # the first channel
    lib.sf_close(f)
    return info.samplerate, ch, mono


def probe(path):
    rate, ch, s = decode(path)
    block = rate // 50
    loud = []
    for b in range(0, len(s) - block + 1, block):
        rms = math.sqrt(sum(x * x for x in s[b:b + block]) / block)
        loud.append(rms > 32768 * 10 ** (-30 / 20))
    tone_blocks = sum(loud)
    # Zero crossings over the loud blocks.
    crossings, span = 0, 0
    for k, is_loud in enumerate(loud):
        if not is_loud:
            continue
        seg = s[k * block:(k + 1) * block + 1]
        crossings += sum(1 for a, b in zip(seg, seg[1:]) if (a < 0) != (b < 0))
        span += block
    head = open(path, "rb").read(4)
    mpeg = head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)
    print(json.dumps({
        "rate": rate, "channels": ch, "seconds": round(len(s) / rate, 3),
        "tone_seconds": round(tone_blocks * block / rate, 3),
        "freq": round(crossings / 2 / (span / rate)) if span else 0,
        "mpeg": mpeg,
    }))


if __name__ == "__main__":
    if sys.argv[1] == "tone":
        args = sys.argv[2:]
        tone(args[0], float(args[1]), float(args[2]),
             int(args[3]) if len(args) > 3 else 8000, int(args[4]) if len(args) > 4 else 1)
    elif sys.argv[1] == "probe":
        probe(sys.argv[2])
    else:
        raise SystemExit(__doc__)
