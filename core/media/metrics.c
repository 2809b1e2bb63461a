/*
 * metrics.c: the media workers' counters for GET /metrics. Nothing is
 * counted on the packet path: each endpoint already counts its packets
 * (st) and loss (rx), and the worker's 100 ms sweep (and the endpoint's
 * destruction) adds what they gained since the last look to the worker's
 * totals. The sweep also takes the mean and the largest interarrival
 * jitter of the endpoints that received audio in the last second. The
 * worker stores those totals with relaxed atomics; the engine's loop
 * loads them when it writes a scrape.
 */
#include "engine_int.h"
#include "util.h"

#include <stdio.h>

#define ST(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define LD(p) __atomic_load_n((p), __ATOMIC_RELAXED)

void sb__media_metrics_fold(sb__media_worker_t *w, sb_media_endpoint_t *ep)
{
    uint64_t rx = ep->st.rx_packets, tx = ep->st.tx_packets;
    uint64_t lost = sb__rxstats_lost(&ep->rx);
    if (rx > ep->m_rx_seen)
        ST(&w->m_rx, w->m_rx + (rx - ep->m_rx_seen));
    if (tx > ep->m_tx_seen)
        ST(&w->m_tx, w->m_tx + (tx - ep->m_tx_seen));
    /* Loss can go down (a late packet fills a gap); the counter only
     * moves up, by what is new beyond the highest seen. */
    if (lost > ep->m_lost_seen) {
        ST(&w->m_lost, w->m_lost + (lost - ep->m_lost_seen));
        ep->m_lost_seen = lost;
    }
    ep->m_rx_seen = rx;
    ep->m_tx_seen = tx;
}

void sb__media_metrics_sweep(sb__media_worker_t *w, uint64_t now_ms)
{
    uint64_t sum = 0, max = 0, n = 0;
    for (sb_media_endpoint_t *ep = w->eps; ep; ep = ep->wnext) {
        sb__media_metrics_fold(w, ep);
        if (ep->destroying || ep->rx.received == 0 || now_ms - ep->last_rx_ms > 1000)
            continue;
        /* jitter16 is in 1/16 of an 8 kHz sample: 1 unit = 7.8125 us. */
        uint64_t us = ep->rx.jitter16 * 125 / 16;
        sum += us;
        if (us > max)
            max = us;
        n++;
    }
    ST(&w->m_jitter_us, n ? sum / n : 0);
    ST(&w->m_jitter_max_us, max);
}

void sb_media_engine_write_metrics(const sb_media_engine_t *e, sb_buf_t *b)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"switchboard_media_rtp_received_packets_total", "counter",
         "RTP packets received from phones, by media worker."},
        {"switchboard_media_rtp_sent_packets_total", "counter",
         "RTP packets sent to phones, by media worker."},
        {"switchboard_media_rtp_lost_packets_total", "counter",
         "RTP packets lost on the way in (RFC 3550), by media worker."},
        {"switchboard_media_jitter_seconds", "gauge",
         "Mean interarrival jitter of the streams a worker receives now."},
        {"switchboard_media_jitter_max_seconds", "gauge",
         "Largest interarrival jitter of the streams a worker receives now."},
        {"switchboard_media_worker_late_frames_total", "counter",
         "Generated frames sent more than 5 ms after their time, by media worker."},
    };
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        sb_metrics_family(b, fam[f].name, fam[f].type, fam[f].help);
        for (int i = 0; e && i < e->n_workers; i++) {
            const sb__media_worker_t *w = e->workers ? e->workers[i] : NULL;
            if (w == NULL)
                continue;
            switch (f) {
            case 0: case 1: case 2: case 5: {
                uint64_t v = f == 0 ? LD(&w->m_rx) : f == 1 ? LD(&w->m_tx)
                           : f == 2 ? LD(&w->m_lost) : LD(&w->late_frames);
                sb_buf_printf(b, "%s{worker=\"%d\"} %llu\n", fam[f].name, i,
                              (unsigned long long)v);
                break;
            }
            default: {
                uint64_t us = f == 3 ? LD(&w->m_jitter_us) : LD(&w->m_jitter_max_us);
                sb_buf_printf(b, "%s{worker=\"%d\"} %.6f\n", fam[f].name, i,
                              (double)us / 1e6);
                break;
            }
            }
        }
    }
}
