/*
 * rtp.c: the RTP wire format (RFC 3550) and RFC 4733 telephone-events as
 * pure functions: header parse and in-place rewrite, the output-stream
 * mapper that keeps sequence numbers and timestamps continuous across
 * source changes, and the receive statistics of appendix A.1. The packet
 * path (relay.c) calls these on the engine's receive buffer; nothing here
 * allocates or does I/O.
 */
#include "media_int.h"
#include "util.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int sb__rtp_parse(const uint8_t *p, size_t n, sb__rtp_t *out)
{
    if (n < SB__RTP_HDR || (p[0] >> 6) != 2)
        return SB_EINVAL;
    size_t off = SB__RTP_HDR + 4u * (p[0] & 0x0F);
    if (off > n)
        return SB_EINVAL;
    if (p[0] & 0x10) {                      /* header extension */
        if (off + 4 > n)
            return SB_EINVAL;
        off += 4 + 4u * rd16(p + off + 2);
        if (off > n)
            return SB_EINVAL;
    }
    size_t end = n;
    if (p[0] & 0x20) {                      /* padding: count in last byte */
        size_t pad = p[n - 1];
        if (pad == 0 || pad > end - off)
            return SB_EINVAL;
        end -= pad;
    }
    out->marker = p[1] >> 7;
    out->pt = p[1] & 0x7F;
    out->seq = rd16(p + 2);
    out->ts = rd32(p + 4);
    out->ssrc = rd32(p + 8);
    out->payload_off = off;
    out->payload_len = end - off;
    return 0;
}

int sb__rtp_is_rtcp(const uint8_t *p, size_t n)
{
    return n >= 8 && (p[0] >> 6) == 2 && p[1] >= 192 && p[1] <= 223;
}

void sb__rtp_write_header(uint8_t *p, int marker, int pt, uint16_t seq,
                          uint32_t ts, uint32_t ssrc)
{
    p[0] = 0x80;
    p[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7F));
    wr16(p + 2, seq);
    wr32(p + 4, ts);
    wr32(p + 8, ssrc);
}

void sb__rtp_rewrite(uint8_t *p, int marker, int pt, uint16_t seq,
                     uint32_t ts, uint32_t ssrc)
{
    p[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7F));
    wr16(p + 2, seq);
    wr32(p + 4, ts);
    wr32(p + 8, ssrc);
}

/* ---- RFC 4733 ------------------------------------------------------------ */

int sb__dtmf_parse(const uint8_t *p, size_t n, sb__dtmf_t *out)
{
    if (n < SB__DTMF_PAYLOAD)
        return SB_EINVAL;
    out->event = p[0];
    out->end = p[1] >> 7;
    out->volume = p[1] & 0x3F;
    out->duration = rd16(p + 2);
    return 0;
}

void sb__dtmf_build(uint8_t *p, const sb__dtmf_t *ev)
{
    p[0] = (uint8_t)ev->event;
    p[1] = (uint8_t)((ev->end ? 0x80 : 0) | (ev->volume & 0x3F));
    wr16(p + 2, ev->duration);
}

static const char dtmf_chars[] = "0123456789*#ABCD!";

int sb__dtmf_event_of(char digit)
{
    if (digit >= 'a' && digit <= 'd')
        digit = (char)(digit - 'a' + 'A');
    if (digit == 0)
        return -1;
    const char *p = strchr(dtmf_chars, digit);
    return p ? (int)(p - dtmf_chars) : -1;
}

char sb__dtmf_digit_of(int event)
{
    return event >= 0 && event <= 16 ? dtmf_chars[event] : 0;
}

/* ---- the output stream --------------------------------------------------- */

void sb__outstream_init(sb__outstream_t *os, uint32_t ssrc, uint16_t seq0,
                        uint32_t ts0)
{
    memset(os, 0, sizeof(*os));
    os->ssrc = ssrc;
    /* The first packet continues "after" these, so it gets seq0 + 1. */
    os->last_seq = seq0;
    os->last_ts = ts0;
    os->last_samples = 0;
}

void sb__outstream_reset(sb__outstream_t *os)
{
    os->mapped = 0;
}

void sb__outstream_map(sb__outstream_t *os, uint32_t src_ssrc, uint16_t seq,
                       uint32_t ts, uint32_t samples, uint64_t now_ms,
                       uint16_t *out_seq, uint32_t *out_ts, int *marker)
{
    if (!os->mapped || src_ssrc != os->src_ssrc) {
        uint16_t nseq = (uint16_t)(os->last_seq + 1);
        uint32_t nts = os->last_ts;
        if (os->started) {
            /* Advance by the wall-clock time since the last packet, and at
             * least by that packet's duration, so the new source never
             * overlaps what the phone already played. */
            uint64_t el = now_ms > os->last_ms ? now_ms - os->last_ms : 0;
            uint64_t adv = el * SB__RTP_CLOCK_KHZ;
            uint32_t min = os->last_samples ? os->last_samples
                                            : SB__RTP_DEFAULT_SAMPLES;
            if (adv < min)
                adv = min;
            nts += (uint32_t)adv;
        }
        os->seq_off = (uint16_t)(nseq - seq);
        os->ts_off = nts - ts;
        os->src_ssrc = src_ssrc;
        os->mapped = 1;
        *marker = 1;
    }
    uint16_t oseq = (uint16_t)(seq + os->seq_off);
    uint32_t ots = ts + os->ts_off;
    /* Reordered or duplicated packets are passed on but never move the
     * stream's high-water marks back. */
    if (!os->started || (int16_t)(oseq - os->last_seq) > 0)
        os->last_seq = oseq;
    if (!os->started || (int32_t)(ots - os->last_ts) > 0) {
        os->last_ts = ots;
        os->last_ms = now_ms;
        os->last_samples = samples;
    } else if (ots == os->last_ts && samples > os->last_samples) {
        os->last_samples = samples;
    }
    os->started = 1;
    *out_seq = oseq;
    *out_ts = ots;
}

/* ---- receive statistics (RFC 3550 A.1, simplified) ------------------------ */

#define MAX_DROPOUT 3000
#define MAX_MISORDER 100
#define SEQ_MOD 65536u

static uint64_t lost_of(const sb__rxstats_t *rs)
{
    uint64_t expected = (uint64_t)sb__rxstats_ext_max(rs) - rs->base_seq + 1;
    return expected > rs->received ? expected - rs->received : 0;
}

static void source_start(sb__rxstats_t *rs, uint32_t ssrc, uint16_t seq)
{
    rs->ssrc = ssrc;
    rs->max_seq = seq;
    rs->cycles = 0;
    rs->base_seq = seq;
    rs->bad_seq = SEQ_MOD + 1;
    rs->received = 0;
}

void sb__rxstats_update(sb__rxstats_t *rs, uint32_t ssrc, uint16_t seq)
{
    if (!rs->init || ssrc != rs->ssrc) {
        if (rs->init)
            rs->lost_before += lost_of(rs);
        rs->init = 1;
        source_start(rs, ssrc, seq);
        rs->received = 1;
        return;
    }
    uint16_t udelta = (uint16_t)(seq - rs->max_seq);
    if (udelta < MAX_DROPOUT) {
        if (seq < rs->max_seq)
            rs->cycles += SEQ_MOD;
        rs->max_seq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
        /* A big jump: two in a row mean the sender restarted. */
        if (seq == rs->bad_seq) {
            rs->lost_before += lost_of(rs);
            source_start(rs, ssrc, seq);
        } else {
            rs->bad_seq = (uint32_t)((seq + 1) & (SEQ_MOD - 1));
            return;
        }
    }
    /* else: duplicate or reordered, counted below */
    rs->received++;
}

void sb__rxstats_jitter(sb__rxstats_t *rs, uint32_t ts, uint64_t arrival)
{
    /* Differences of 32-bit timestamps are taken modulo 2^32. */
    int64_t transit = (int64_t)(int32_t)((uint32_t)arrival - ts);
    if (!rs->jitter_init) {
        rs->jitter_init = 1;
        rs->last_transit = transit;
        return;
    }
    int64_t d = transit - rs->last_transit;
    rs->last_transit = transit;
    if (d < 0)
        d = -d;
    if (d > 8000)               /* a new source or a pause: not jitter */
        return;
    /* J += (|D| - J) / 16, kept times 16 (RFC 3550 A.8). */
    rs->jitter16 += (uint64_t)d - ((rs->jitter16 + 8) >> 4);
}

uint64_t sb__rxstats_lost(const sb__rxstats_t *rs)
{
    return rs->init ? rs->lost_before + lost_of(rs) : 0;
}

uint32_t sb__rxstats_ext_max(const sb__rxstats_t *rs)
{
    return rs->cycles + rs->max_seq;
}
