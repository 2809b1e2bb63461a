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
"""
import argparse
import json
import os
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
    a = ap.parse_args()
    if a.mode == "listen":
        if not a.to and not a.to_file:
            ap.error("listen needs --to or --to-file")
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


def listen(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    # No SO_REUSEADDR: two listeners on one port would share its packets.
    s.bind(("127.0.0.1", a.bind))
    print("listening on %d" % a.bind, flush=True)
    s.setblocking(False)
    ssrc = 0x0BADCAFE ^ a.bind
    silence = (b"\xff" if a.send_pt == 0 else b"\xd5") * 160
    seq, ts, sent = 1, 0, 0
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
        if dest is not None and (a.send_count < 0 or sent < a.send_count) and now >= next_send:
            hdr = struct.pack("!BBHII", 0x80, a.send_pt | (0x80 if sent == 0 else 0),
                              seq & 0xFFFF, ts & 0xFFFFFFFF, ssrc)
            try:
                s.sendto(hdr + silence, dest)
            except OSError:
                pass
            sent += 1
            seq += 1
            ts += 160
            next_send += 0.02
        wait = max(0.0, min(next_send - time.time(), start + a.seconds - time.time(), 0.02))
        if dest is None:
            wait = 0.005
        if a.send_count >= 0 and sent >= a.send_count:
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
                f.write(json.dumps({"t": round(p[0], 4), "pt": p[1], "seq": p[2], "ts": p[3],
                                    "ssrc": p[4], "m": p[5], "len": len(p[6])}) + "\n")
    report = build_report(pkts, sent, other)
    report["destination"] = "%s:%d" % dest if dest else None
    if a.wav:
        import hear
        hear.write_wav(a.wav, report.pop("_pcm"))
    else:
        report.pop("_pcm")
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(report, f, indent=1)
    os.replace(tmp, a.out)      # readers never see half a report


def build_report(pkts, sent, other):
    """The stream as a phone's jitter buffer sees it: audio packets placed
    by RTP timestamp from the first one; holes stay silent."""
    rep = {"sent": sent, "packets": len(pkts), "not_rtp": other}
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
