#!/usr/bin/env python3
"""recfile.py: audio files the server made (recordings), made readable by
hear.py. Decoding is libsndfile's (through ctypes: the library the server
links; version 1.1 and later read MP3 through mpg123), not our own code,
so a file that plays elsewhere plays here. Standard library otherwise.

    recfile.py convert IN OUT.wav     any WAV/MP3/... -> 8 kHz mono 16-bit
                                      WAV (channels averaged, resampled);
                                      prints {"rate", "channels", "frames",
                                      "seconds", "format"} of IN as JSON;
                                      exit 1 with a reason if IN is not
                                      audio libsndfile can read
    recfile.py trim IN.wav OUT.wav [--pad 0.1]
                                      cuts IN (8 kHz mono 16-bit) to its
                                      sound (above -45 dBFS in 10 ms
                                      frames) with --pad seconds each side

As a module: decode(path) -> (mono samples, rate, info), to_8k(samples,
rate) -> samples.
"""
import argparse
import array
import ctypes
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import hear  # noqa: E402


class _SfInfo(ctypes.Structure):
    _fields_ = [("frames", ctypes.c_int64), ("samplerate", ctypes.c_int),
                ("channels", ctypes.c_int), ("format", ctypes.c_int),
                ("sections", ctypes.c_int), ("seekable", ctypes.c_int)]


_LIB = None


def _lib():
    global _LIB
    if _LIB is None:
        lib = ctypes.CDLL("libsndfile.so.1")
        lib.sf_open.restype = ctypes.c_void_p
        lib.sf_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(_SfInfo)]
        lib.sf_readf_short.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
        lib.sf_readf_short.restype = ctypes.c_int64
        lib.sf_close.argtypes = [ctypes.c_void_p]
        lib.sf_strerror.argtypes = [ctypes.c_void_p]
        lib.sf_strerror.restype = ctypes.c_char_p
        _LIB = lib
    return _LIB


_MAJOR = {0x010000: "wav", 0x020000: "aiff", 0x030000: "au", 0x040000: "raw",
          0x130000: "wavex", 0x200000: "ogg", 0x230000: "mpeg"}


class DecodeError(Exception):
    pass


def decode(path):
    """(mono samples, rate, info) of any file libsndfile reads."""
    lib = _lib()
    info = _SfInfo()
    sf = lib.sf_open(path.encode(), 0x10, ctypes.byref(info))   # SFM_READ
    if not sf:
        raise DecodeError("libsndfile cannot read %s: %s" % (
            path, lib.sf_strerror(None).decode(errors="replace")))
    try:
        ch = info.channels
        # MP3 frame counts are estimates: read in blocks until the end.
        out = array.array("h")
        block = 8192
        buf = array.array("h", [0] * (block * ch))
        while True:
            n = lib.sf_readf_short(sf, buf.buffer_info()[0], block)
            if n <= 0:
                break
            out.extend(buf[:n * ch])
    finally:
        lib.sf_close(sf)
    frames = len(out) // ch
    mono = list(out) if ch == 1 else [sum(out[i * ch:(i + 1) * ch]) // ch for i in range(frames)]
    meta = {"rate": info.samplerate, "channels": ch, "frames": frames,
            "seconds": round(frames / float(info.samplerate), 3) if info.samplerate else 0,
            "format": _MAJOR.get(info.format & 0x0FFF0000, "0x%x" % info.format),
            "subformat": "0x%04x" % (info.format & 0xFFFF)}
    return mono, info.samplerate, meta


def to_8k(samples, rate):
    """Band-limited resampling to 8 kHz (windowed sinc, cut-off 3.6 kHz)."""
    if rate == hear.RATE:
        return list(samples)
    ratio = rate / float(hear.RATE)
    cut = min(1.0, 1.0 / ratio) * 0.9          # of the input's Nyquist
    half = int(math.ceil(8 * max(1.0, ratio)))
    n_out = int(len(samples) / ratio)
    out = []
    for j in range(n_out):
        c = j * ratio
        i0 = int(c)
        acc = wsum = 0.0
        for i in range(max(0, i0 - half + 1), min(len(samples), i0 + half + 1)):
            x = i - c
            w = 0.5 + 0.5 * math.cos(math.pi * x / half)           # Hann
            h = cut * (math.sin(math.pi * cut * x) / (math.pi * cut * x) if x else 1.0) * w
            acc += samples[i] * h
            wsum += h
        out.append(acc / wsum if wsum else 0.0)
    return out


def trim(samples, pad=0.1, thr_db=-45.0):
    fr = 80
    loud = [i for i in range(len(samples) // fr)
            if hear.dbfs(samples[i * fr:(i + 1) * fr]) > thr_db]
    if not loud:
        return []
    p = int(pad * hear.RATE)
    return samples[max(0, loud[0] * fr - p):min(len(samples), (loud[-1] + 1) * fr + p)]


def main(argv=None):
    ap = argparse.ArgumentParser(description="recordings made readable")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("convert")
    p.add_argument("src")
    p.add_argument("dst")
    p = sub.add_parser("trim")
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--pad", type=float, default=0.1)
    a = ap.parse_args(argv)
    if a.cmd == "convert":
        try:
            mono, rate, meta = decode(a.src)
        except DecodeError as e:
            print("FAIL: %s" % e)
            return 1
        if not rate or not mono:
            print("FAIL: %s has no audio: %s" % (a.src, json.dumps(meta)))
            return 1
        hear.write_wav(a.dst, to_8k(mono, rate))
        print(json.dumps(meta))
        return 0
    samples, rate = hear.read_wav(a.src)
    if rate != hear.RATE:
        print("FAIL: %s is %d Hz, not 8000" % (a.src, rate))
        return 1
    out = trim(samples, a.pad)
    if not out:
        print("FAIL: %s is silent" % a.src)
        return 1
    hear.write_wav(a.dst, out)
    print("trimmed %s: %.2f s of %.2f s" % (a.src, len(out) / 8000.0, len(samples) / 8000.0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
