/*
 * media_phone.h: the test phone and harness shared by the media unit
 * tests that hear what an endpoint sends (test_media_play.c) or feed it
 * what a phone says (test_media_listen.c). A phone is a uv_udp socket on
 * the test's loop; it decodes the G.711 it receives. Static functions
 * only: each test program includes it once.
 */
#ifndef SB_TEST_MEDIA_PHONE_H
#define SB_TEST_MEDIA_PHONE_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "media.h"
#include "media_int.h"
#include "util.h"

#ifndef MAX_SAMPLES
#define MAX_SAMPLES (8000 * 12)
#endif
#ifndef WATCHDOG_MS
#define WATCHDOG_MS 10000
#endif

/* ---- signal helpers ------------------------------------------------------------ */

/* Power of f in x[0..n) (Goertzel), normalised by n. */
static double goertzel(const int16_t *x, size_t n, double f)
{
    double w = 2.0 * M_PI * f / 8000.0, c = 2.0 * cos(w);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s0 = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    double p = s1 * s1 + s2 * s2 - c * s1 * s2;
    return p / ((double)n * n);
}

static __attribute__((unused)) double rms(const int16_t *x, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e += (double)x[i] * x[i];
    return n ? sqrt(e / (double)n) : 0;
}

/* 1 when f carries most of the energy among f and a few others. */
static __attribute__((unused)) int dominant(const int16_t *x, size_t n, double f)
{
    static const double others[] = {300, 500, 700, 1300, 1700, 2300};
    double pf = goertzel(x, n, f);
    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        if (fabs(others[i] - f) > 100 && goertzel(x, n, others[i]) * 20 > pf)
            return 0;
    return pf > 1000;
}

/* ---- a phone that records what it hears ------------------------------------------- */

typedef struct {
    uv_udp_t sock;
    unsigned port;
    struct sockaddr_in to;
    int16_t pcm[MAX_SAMPLES];
    size_t n;                   /* samples heard */
    int packets;
    int markers;
    uint32_t ssrc, last_ts;
    uint16_t last_seq;
    int discontinuities;        /* seq not +1 or ts not +160 within a source */
    uint8_t fill_seen;          /* a relayed payload byte seen */
    int relayed;                /* packets whose payload was all fill */
    uint8_t fill;
} phone_t;

static void ph_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    static uint8_t mem[2048];
    buf->base = (char *)mem;
    buf->len = sizeof(mem);
}

static void ph_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags)
{
    phone_t *ph = h->data;
    if (nread <= 0)
        return;
    const uint8_t *p = (const uint8_t *)buf->base;
    sb__rtp_t r;
    if (sb__rtp_is_rtcp(p, (size_t)nread) ||
        sb__rtp_parse(p, (size_t)nread, &r) != 0)
        return;
    if (ph->packets > 0 && !r.marker &&
        (r.seq != (uint16_t)(ph->last_seq + 1) ||
         r.ts - ph->last_ts != 160))
        ph->discontinuities++;
    if (ph->packets > 0 && r.seq != (uint16_t)(ph->last_seq + 1))
        ph->discontinuities++;  /* seq never jumps, marker or not */
    ph->markers += r.marker;
    ph->packets++;
    ph->ssrc = r.ssrc;
    ph->last_seq = r.seq;
    ph->last_ts = r.ts;
    int all_fill = ph->fill != 0 && r.payload_len > 0;
    for (size_t i = 0; i < r.payload_len; i++) {
        uint8_t b = p[r.payload_off + i];
        if (b != ph->fill)
            all_fill = 0;
        if (ph->n < MAX_SAMPLES)
            ph->pcm[ph->n++] = r.pt == 8 ? sb__media_alaw_to_linear(b)
                                         : sb__media_ulaw_to_linear(b);
    }
    ph->relayed += all_fill;
}

static void ph_open(uv_loop_t *loop, phone_t *ph)
{
    memset(ph, 0, sizeof(*ph));
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_udp_init(loop, &ph->sock), 0);
    assert_int_equal(uv_udp_bind(&ph->sock, (struct sockaddr *)&a, 0), 0);
    struct sockaddr_in me;
    int len = sizeof(me);
    uv_udp_getsockname(&ph->sock, (struct sockaddr *)&me, &len);
    ph->port = ntohs(me.sin_port);
    ph->sock.data = ph;
    uv_udp_recv_start(&ph->sock, ph_alloc, ph_recv);
}

/* The endpoint answers the phone's offer of pt (0 PCMU or 8 PCMA), with
 * telephone-event (pt 101) or without. */
static void ph_attach_te(phone_t *ph, sb_media_endpoint_t *ep, int pt, int te)
{
    char text[512];
    snprintf(text, sizeof(text),
             "v=0\r\no=p 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
             "t=0 0\r\nm=audio %u RTP/AVP %d%s\r\n%s", ph->port, pt,
             te ? " 101" : "", te ? "a=rtpmap:101 telephone-event/8000\r\n" : "");
    sb_media_desc_t remote, local;
    assert_int_equal(sb_media_sdp_parse(text, strlen(text), &remote), 0);
    assert_int_equal(sb_media_endpoint_answer(ep, &remote, &local), 0);
    uv_ip4_addr("127.0.0.1", (int)sb_media_endpoint_port(ep), &ph->to);
}

static void ph_attach(phone_t *ph, sb_media_endpoint_t *ep, int pt)
{
    ph_attach_te(ph, ep, pt, 1);
}

static __attribute__((unused)) void ph_send(phone_t *ph, uint16_t seq, uint8_t fill)
{
    uint8_t pkt[12 + 160];
    sb__rtp_write_header(pkt, seq == 1, 0, seq, seq * 160u, 0x1234);
    memset(pkt + 12, fill, 160);
    uv_buf_t b = uv_buf_init((char *)pkt, sizeof(pkt));
    uv_udp_try_send(&ph->sock, &b, 1, (struct sockaddr *)&ph->to);
}

/* ---- harness ------------------------------------------------------------------------ */

typedef struct {
    uv_loop_t loop;
    sb_media_engine_t *engine;
    uv_timer_t watchdog, tick;
    int timed_out;
    int done[8], status[8];     /* adjacent: see on_done */
    int closed;
} ctx_t;

static void on_watchdog(uv_timer_t *t)
{
    ((ctx_t *)t->data)->timed_out = 1;
}

static void ctx_init_ev(ctx_t *c, int threads, const sb_media_events_t *ev);

static void ctx_init(ctx_t *c, int threads)
{
    ctx_init_ev(c, threads, NULL);
}

static void ctx_init_ev(ctx_t *c, int threads, const sb_media_events_t *ev)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(uv_loop_init(&c->loop), 0);
    sb_media_opts_t opts = {
        .bind_ip = "127.0.0.1",
        .port_min = 30000 + (getpid() % 300) * 40,
        .port_max = 49999,
        .threads = threads,
    };
    assert_int_equal(sb_media_engine_new(&c->loop, &opts, ev, &c->engine), 0);
    uv_timer_init(&c->loop, &c->watchdog);
    uv_timer_init(&c->loop, &c->tick);
    c->watchdog.data = c->tick.data = c;
    uv_timer_start(&c->watchdog, on_watchdog, WATCHDOG_MS, 0);
}

/* arg points at done[i]; status[i] is 8 ints further (ctx_t). */
static void on_done(sb_media_endpoint_t *ep, int status, void *arg)
{
    int *slot = arg;
    (void)ep;
    slot[0]++;
    slot[8] = status;
}

static int *slot(ctx_t *c, int i)
{
    return &c->done[i];
}

static void run_until(ctx_t *c, int *flag, int want)
{
    while (*flag < want && !c->timed_out)
        uv_run(&c->loop, UV_RUN_ONCE);
    assert_false(c->timed_out);
}

/* Runs the loop for ms more (the phone keeps receiving). */
static void on_tick_stop(uv_timer_t *t)
{
    (void)t;
}

static void run_for(ctx_t *c, unsigned ms)
{
    uv_timer_start(&c->tick, on_tick_stop, ms, 0);
    while (uv_is_active((uv_handle_t *)&c->tick))
        uv_run(&c->loop, UV_RUN_ONCE);
}

static void on_closed(void *arg)
{
    ((ctx_t *)arg)->closed = 1;
}

static void ctx_close(ctx_t *c, phone_t **phs, int nph)
{
    for (int i = 0; i < nph; i++)
        uv_close((uv_handle_t *)&phs[i]->sock, NULL);
    uv_close((uv_handle_t *)&c->watchdog, NULL);
    uv_close((uv_handle_t *)&c->tick, NULL);
    sb_media_engine_close(c->engine, on_closed, c);
    assert_int_equal(uv_run(&c->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(c->closed, 1);
    assert_int_equal(uv_loop_close(&c->loop), 0);
}

static __attribute__((unused)) sb_media_audio_t *make_tone_audio(double f, unsigned ms)
{
    size_t n = ms * 8;
    int16_t *pcm = malloc(n * sizeof(*pcm));
    for (size_t i = 0; i < n; i++)
        pcm[i] = (int16_t)(8000 * sin(2 * M_PI * f * (double)i / 8000.0));
    sb_media_audio_t *a = NULL;
    assert_int_equal(sb_media_audio_from_pcm(pcm, n, 8000, &a), 0);
    free(pcm);
    return a;
}

/* ---- a talking phone ---------------------------------------------------------------- */

typedef enum { S_SILENCE, S_TONE, S_NOISE, S_DTMF } seg_kind_t;

typedef struct {
    seg_kind_t kind;
    unsigned ms;
    double f1, f2;              /* tone / DTMF frequencies */
    double amp;
} seg_t;

typedef struct {
    phone_t *ph;
    uv_timer_t timer;
    const seg_t *segs;
    int nsegs;
    int seg;
    unsigned seg_ms;            /* into the current segment */
    uint16_t seq;
    uint32_t ts;
    uint64_t n;                 /* samples generated */
    uint32_t rng;
    int pt;
    int done;
} talker_t;

static __attribute__((unused)) int16_t gen(talker_t *t, const seg_t *s)
{
    double x = (double)t->n / 8000.0;
    switch (s->kind) {
    case S_TONE:
        return (int16_t)(s->amp * sin(2 * M_PI * s->f1 * x));
    case S_DTMF:
        return (int16_t)(s->amp * (sin(2 * M_PI * s->f1 * x) +
                                   sin(2 * M_PI * s->f2 * x)));
    case S_NOISE:
        t->rng = t->rng * 1103515245u + 12345u;
        return (int16_t)(((int)(t->rng >> 16) % 2001 - 1000) * s->amp / 1000.0);
    case S_SILENCE:
        break;
    }
    return 0;
}

static __attribute__((unused)) void on_talk(uv_timer_t *h)
{
    talker_t *t = h->data;
    if (t->seg >= t->nsegs) {
        t->done = 1;
        uv_timer_stop(h);
        return;
    }
    const seg_t *s = &t->segs[t->seg];
    uint8_t pkt[12 + 160];
    sb__rtp_write_header(pkt, t->seq == 1, t->pt, t->seq, t->ts, 0x4242);
    for (int i = 0; i < 160; i++, t->n++) {
        int16_t v = gen(t, s);
        pkt[12 + i] = t->pt == 8 ? sb__media_linear_to_alaw(v)
                                 : sb__media_linear_to_ulaw(v);
    }
    uv_buf_t b = uv_buf_init((char *)pkt, sizeof(pkt));
    uv_udp_try_send(&t->ph->sock, &b, 1, (struct sockaddr *)&t->ph->to);
    t->seq++;
    t->ts += 160;
    t->seg_ms += 20;
    if (t->seg_ms >= s->ms) {
        t->seg++;
        t->seg_ms = 0;
    }
}

static __attribute__((unused)) void talk(ctx_t *c, talker_t *t, phone_t *ph, const seg_t *segs,
                 int n, int pt)
{
    memset(t, 0, sizeof(*t));
    t->ph = ph;
    t->segs = segs;
    t->nsegs = n;
    t->seq = 1;
    t->ts = 1000;
    t->rng = 7;
    t->pt = pt;
    uv_timer_init(&c->loop, &t->timer);
    t->timer.data = t;
    uv_timer_start(&t->timer, on_talk, 0, 20);
}

static __attribute__((unused)) void talker_close(talker_t *t)
{
    uv_close((uv_handle_t *)&t->timer, NULL);
}

#endif
