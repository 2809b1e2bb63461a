/*
 * ring.c: the input buffer of recorders and conference rooms. Audio a
 * phone sends is placed by its RTP timestamp, `prefill` samples ahead of
 * the read position, and taken 20 ms at a time on the worker's clock: a
 * fixed-delay jitter buffer. Arrival jitter up to the prefill is absorbed,
 * a lost packet leaves 20 ms of silence instead of shifting what follows,
 * and a reader that keeps taking while the phone sends nothing gets
 * silence (so a recording runs in real time). A new source, a jump of
 * more than the ring (a phone that restarted its timestamps), or three
 * late packets in a row (the phone's clock fell behind ours: a stall, a
 * slower clock over a long call) start again from the packet.
 *
 * Pure: no locks, no I/O; used on the endpoint's worker only.
 */
#include "engine_int.h"

#include <math.h>
#include <string.h>

#define RING_MASK (SB__RING_SAMPLES - 1)

int sb__ring_put(sb__ring_t *g, uint32_t ssrc, uint32_t ts, const int16_t *pcm,
                 size_t n)
{
    if (n == 0 || n > SB__RING_SAMPLES / 2)
        return 0;
    uint32_t prefill = g->prefill ? g->prefill : 2 * SB__FRAME_SAMPLES;
    int32_t ahead = (int32_t)(ts - g->read_ts);
    /* Late packets in a row: the phone's timestamps fell behind ours (a
     * stall, a slower clock): move the read position rather than drop
     * everything it sends from now on. */
    if (ahead < 0 && g->synced && ssrc == g->ssrc && ++g->late_run >= 3)
        ahead = -(int32_t)SB__RING_SAMPLES - 1;
    if (!g->synced || ssrc != g->ssrc || ahead < -(int32_t)SB__RING_SAMPLES ||
        ahead + (int32_t)n > SB__RING_SAMPLES - SB__FRAME_SAMPLES) {
        memset(g->pcm, 0, sizeof(g->pcm));
        g->synced = 1;
        g->ssrc = ssrc;
        g->read_ts = ts - prefill;
        g->hi_ts = ts;
        g->late_run = 0;
        ahead = (int32_t)prefill;
    }
    if (ahead < 0)
        return 1;               /* too late: its frame was taken */
    g->late_run = 0;
    for (size_t i = 0; i < n; i++)
        g->pcm[(ts + (uint32_t)i) & RING_MASK] = pcm[i];
    if ((int32_t)(ts + (uint32_t)n - g->hi_ts) > 0)
        g->hi_ts = ts + (uint32_t)n;
    return 0;
}

int sb__ring_take(sb__ring_t *g, int16_t *out)
{
    if (!g->synced) {
        memset(out, 0, SB__FRAME_SAMPLES * sizeof(*out));
        return -1;
    }
    for (int i = 0; i < SB__FRAME_SAMPLES; i++) {
        uint32_t k = (g->read_ts + (uint32_t)i) & RING_MASK;
        out[i] = g->pcm[k];
        g->pcm[k] = 0;
    }
    g->read_ts += SB__FRAME_SAMPLES;
    int complete = (int32_t)(g->hi_ts - g->read_ts) >= 0;
    if (complete)
        g->started = 1;
    return g->started ? complete : -1;
}

double sb__media_frame_db(const int16_t *pcm)
{
    int64_t sum = 0;
    for (int i = 0; i < SB__FRAME_SAMPLES; i++)
        sum += (int32_t)pcm[i] * pcm[i];
    double ms = (double)sum / SB__FRAME_SAMPLES / (32768.0 * 32768.0);
    return ms > 1e-10 ? 10.0 * log10(ms) : -100.0;
}
