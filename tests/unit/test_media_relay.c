/*
 * test_media_relay.c: the media engine over real sockets on 127.0.0.1.
 * Test "phones" are uv_udp sockets in the same loop that send and check RTP
 * through bridged endpoints: packet counts, sequence/SSRC/timestamp
 * continuity (also across a re-bridge), PCMU<->PCMA transcoding, RFC 4733
 * relay and digit reports, DTMF generation, symmetric RTP latching, the
 * media timeout, port-range exhaustion, and the completion rules of the
 * message-shaped API. Each test runs its own loop, is bounded by a
 * watchdog, and ends by asserting that uv_loop_close() returns 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "media.h"
#include "media_int.h"
#include "util.h"

#define TICK_MS 5
#define WATCHDOG_MS 8000
#define PAYLOAD 160
#define MAX_RX 2048

/* The harness runs every test twice: media on the test's loop
 * (media.threads 0), then on a worker thread of its own (1). */
static int g_threads;

/* ---- a test phone ------------------------------------------------------------- */

typedef struct {
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    int pt;
    int marker;
    uint8_t first_byte;
    int dtmf_event, dtmf_end;
    uint16_t dtmf_duration;
} rx_pkt_t;

typedef struct phone_s {
    uv_udp_t sock;
    unsigned port;              /* our bound port */
    struct sockaddr_in to;      /* the endpoint's RTP address */
    uint32_t ssrc;
    uint16_t seq;
    uint32_t ts;
    int pt;                     /* audio pt we send */
    uint8_t fill;               /* payload byte */
    int sent;
    rx_pkt_t rx[MAX_RX];
    int nrx;
} phone_t;

static void phone_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    static uint8_t mem[4096];
    buf->base = (char *)mem;
    buf->len = sizeof(mem);
}

static void phone_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                       const struct sockaddr *addr, unsigned flags)
{
    phone_t *ph = h->data;
    if (nread <= 0 || ph->nrx >= MAX_RX)
        return;
    const uint8_t *p = (const uint8_t *)buf->base;
    sb__rtp_t r;
    if (sb__rtp_is_rtcp(p, (size_t)nread) ||
        sb__rtp_parse(p, (size_t)nread, &r) != 0)
        return;
    rx_pkt_t *x = &ph->rx[ph->nrx++];
    memset(x, 0, sizeof(*x));
    x->seq = r.seq;
    x->ts = r.ts;
    x->ssrc = r.ssrc;
    x->pt = r.pt;
    x->marker = r.marker;
    x->dtmf_event = -1;
    if (r.payload_len > 0)
        x->first_byte = p[r.payload_off];
    if (r.payload_len == SB__DTMF_PAYLOAD) {
        sb__dtmf_t ev;
        sb__dtmf_parse(p + r.payload_off, r.payload_len, &ev);
        x->dtmf_event = ev.event;
        x->dtmf_end = ev.end;
        x->dtmf_duration = ev.duration;
    }
}

static void phone_open(uv_loop_t *loop, phone_t *ph, uint32_t ssrc, int pt,
                       uint8_t fill)
{
    memset(ph, 0, sizeof(*ph));
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_udp_init(loop, &ph->sock), 0);
    assert_int_equal(uv_udp_bind(&ph->sock, (struct sockaddr *)&a, 0), 0);
    struct sockaddr_in me;
    int len = sizeof(me);
    assert_int_equal(uv_udp_getsockname(&ph->sock, (struct sockaddr *)&me, &len), 0);
    ph->port = ntohs(me.sin_port);
    ph->sock.data = ph;
    ph->ssrc = ssrc;
    ph->seq = (uint16_t)(ssrc * 7);
    ph->ts = ssrc * 1000;
    ph->pt = pt;
    ph->fill = fill;
    assert_int_equal(uv_udp_recv_start(&ph->sock, phone_alloc, phone_recv), 0);
}

static void phone_target(phone_t *ph, sb_media_endpoint_t *ep)
{
    uv_ip4_addr("127.0.0.1", (int)sb_media_endpoint_port(ep), &ph->to);
}

static void phone_send_raw(phone_t *ph, const uint8_t *p, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)p, (unsigned)n);
    assert_int_equal(uv_udp_try_send(&ph->sock, &b, 1,
                                     (struct sockaddr *)&ph->to), (int)n);
}

static void phone_send_audio(phone_t *ph)
{
    uint8_t pkt[SB__RTP_HDR + PAYLOAD];
    sb__rtp_write_header(pkt, ph->sent == 0, ph->pt, ph->seq++, ph->ts,
                         ph->ssrc);
    ph->ts += PAYLOAD;
    memset(pkt + SB__RTP_HDR, ph->fill, PAYLOAD);
    phone_send_raw(ph, pkt, sizeof(pkt));
    ph->sent++;
}

/* One RFC 4733 packet; the event's timestamp is the phone's current ts. */
static void phone_send_event(phone_t *ph, int pt, int event, int end,
                             uint16_t duration, int marker)
{
    uint8_t pkt[SB__RTP_HDR + SB__DTMF_PAYLOAD];
    sb__rtp_write_header(pkt, marker, pt, ph->seq++, ph->ts, ph->ssrc);
    sb__dtmf_t ev = {.event = event, .end = end, .volume = 10,
                     .duration = duration};
    sb__dtmf_build(pkt + SB__RTP_HDR, &ev);
    phone_send_raw(ph, pkt, sizeof(pkt));
    ph->sent++;
}

static void phone_close(phone_t *ph)
{
    uv_close((uv_handle_t *)&ph->sock, NULL);
}

/* The phone's SDP offer, parsed the way sip/ would hand it over. */
static void phone_offer(const phone_t *ph, unsigned port, const char *pts,
                        const char *extra, sb_media_desc_t *out)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP %s\r\n%s",
             port ? port : ph->port, pts, extra ? extra : "");
    assert_int_equal(sb_media_sdp_parse(text, strlen(text), out), 0);
}

/* Checks rx[from..to) is one continuous stream: one SSRC, seq +1 each,
 * timestamps never going back. Returns that SSRC. */
static uint32_t assert_continuous(const phone_t *ph, int from, int to)
{
    assert_true(to - from >= 2);
    uint32_t ssrc = ph->rx[from].ssrc;
    for (int i = from + 1; i < to; i++) {
        const rx_pkt_t *a = &ph->rx[i - 1], *b = &ph->rx[i];
        assert_int_equal(b->ssrc, ssrc);
        assert_int_equal(b->seq, (uint16_t)(a->seq + 1));
        assert_true((int32_t)(b->ts - a->ts) >= 0);
    }
    return ssrc;
}

/* ---- the harness ----------------------------------------------------------------- */

typedef struct ctx_s ctx_t;
typedef void (*step_fn)(ctx_t *c);

struct ctx_s {
    uv_loop_t loop;
    sb_media_engine_t *engine;
    uv_timer_t tick, watchdog;
    step_fn step;
    int ticks;
    int done;
    int timed_out_watchdog;
    phone_t ph[4];
    int nph;
    sb_media_endpoint_t *ep[4];
    int nep;
    /* events */
    char digits[16];
    int ndigits;
    int digit_ms[16];
    sb_media_endpoint_t *digit_ep[16];
    int timeouts;
    sb_media_endpoint_t *timeout_ep;
    /* completions */
    int connect_done, connect_status;
    int dtmf_done, dtmf_status;
    int destroy_done;
    int order[8], norder;
    int engine_closed;
    int phase;
    int mark;                   /* an rx index remembered between steps */
    sb_media_desc_t remote;     /* a phone's offer kept for a re-INVITE */
};

static void on_dtmf(sb_media_endpoint_t *ep, char digit, int ms, void *arg)
{
    ctx_t *c = arg;
    if (c->ndigits < 16) {
        c->digit_ep[c->ndigits] = ep;
        c->digit_ms[c->ndigits] = ms;
        c->digits[c->ndigits++] = digit;
    }
}

static void on_timeout(sb_media_endpoint_t *ep, void *arg)
{
    ctx_t *c = arg;
    c->timeouts++;
    c->timeout_ep = ep;
}

static void on_tick(uv_timer_t *t)
{
    ctx_t *c = t->data;
    c->ticks++;
    c->step(c);
    if (c->done) {
        uv_timer_stop(&c->tick);
        uv_timer_stop(&c->watchdog);
    }
}

static void on_watchdog(uv_timer_t *t)
{
    ctx_t *c = t->data;
    c->timed_out_watchdog = 1;
    c->done = 1;
    uv_timer_stop(&c->tick);
}

static void ctx_init(ctx_t *c, int timeout_s, step_fn step)
{
    memset(c, 0, sizeof(*c));
    assert_int_equal(uv_loop_init(&c->loop), 0);
    sb_media_opts_t opts = {
        .bind_ip = "127.0.0.1",
        .port_min = 20000 + (getpid() % 200) * 40,  /* spread parallel runs */
        .port_max = 29999,
        .timeout_s = timeout_s,
        .threads = g_threads,
    };
    sb_media_events_t ev = {.on_dtmf = on_dtmf, .on_timeout = on_timeout,
                            .arg = c};
    assert_int_equal(sb_media_engine_new(&c->loop, &opts, &ev, &c->engine), 0);
    uv_timer_init(&c->loop, &c->tick);
    uv_timer_init(&c->loop, &c->watchdog);
    c->tick.data = c->watchdog.data = c;
    c->step = step;
}

static phone_t *ctx_phone(ctx_t *c, uint32_t ssrc, int pt, uint8_t fill)
{
    phone_t *ph = &c->ph[c->nph++];
    phone_open(&c->loop, ph, ssrc, pt, fill);
    return ph;
}

static sb_media_endpoint_t *ctx_endpoint(ctx_t *c)
{
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(c->engine, &ep), 0);
    c->ep[c->nep++] = ep;
    return ep;
}

static void on_engine_closed(void *arg)
{
    ((ctx_t *)arg)->engine_closed = 1;
}

/* Runs the steps to the end, then closes everything and checks the loop
 * has no handle left. */
static void ctx_run(ctx_t *c)
{
    uv_timer_start(&c->tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&c->watchdog, on_watchdog, WATCHDOG_MS, 0);
    while (!c->done)
        uv_run(&c->loop, UV_RUN_ONCE);
    assert_false(c->timed_out_watchdog);
}

static void ctx_close(ctx_t *c)
{
    for (int i = 0; i < c->nph; i++)
        phone_close(&c->ph[i]);
    uv_close((uv_handle_t *)&c->tick, NULL);
    uv_close((uv_handle_t *)&c->watchdog, NULL);
    sb_media_engine_close(c->engine, on_engine_closed, c);
    assert_int_equal(uv_run(&c->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(c->engine_closed, 1);
    assert_int_equal(uv_loop_close(&c->loop), 0);
}

static void on_connected(sb_media_endpoint_t *ep, int status, void *arg)
{
    ctx_t *c = arg;
    c->connect_done++;
    c->connect_status = status;
    c->order[c->norder++] = 1;
}

/* Phone i answers as a PCMU/telephone-event phone; the endpoint answers. */
static void answer_for(ctx_t *c, sb_media_endpoint_t *ep, phone_t *ph,
                       const char *pts, const char *extra)
{
    sb_media_desc_t remote, local;
    phone_offer(ph, 0, pts, extra, &remote);
    assert_int_equal(sb_media_endpoint_answer(ep, &remote, &local), 0);
    assert_int_equal(local.port, sb_media_endpoint_port(ep));
    phone_target(ph, ep);
}

/* ---- tests --------------------------------------------------------------------------- */

#define N_PACKETS 100
#define TE "a=rtpmap:101 telephone-event/8000\r\n"

static void step_two_phones(ctx_t *c)
{
    phone_t *a = &c->ph[0], *b = &c->ph[1];
    if (a->sent < N_PACKETS) {
        phone_send_audio(a);
        phone_send_audio(b);
        return;
    }
    if (a->nrx >= N_PACKETS && b->nrx >= N_PACKETS)
        c->done = 1;
    else if (++c->phase > 100)      /* 0.5 s after the last send */
        c->done = 1;
}

static void test_media_relay_two_phones_count_and_continuity(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 0, step_two_phones);
    phone_t *pa = ctx_phone(c, 0x1111, 0, 0xCE);
    phone_t *pb = ctx_phone(c, 0x2222, 0, 0x4E);
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c);
    assert_int_not_equal(sb_media_endpoint_port(a), sb_media_endpoint_port(b));
    assert_int_equal(sb_media_endpoint_port(a) % 2, 0);
    answer_for(c, a, pa, "0 101", TE);

    /* b offers, phone B answers: the other half of offer/answer. */
    sb_media_desc_t offer, answer;
    assert_int_equal(sb_media_endpoint_offer(b, &offer), 0);
    assert_int_equal(offer.nformats, 3);
    phone_offer(pb, 0, "0 101", TE, &answer);
    assert_int_equal(sb_media_endpoint_set_remote(b, &answer), 0);
    phone_target(pb, b);
    assert_int_equal(sb_media_endpoint_codec(b), SB_MEDIA_PCMU);

    assert_int_equal(sb_media_connect(a, b, on_connected, c), 0);
    assert_int_equal(c->connect_done, 0);   /* never from inside the call */
    assert_ptr_equal(sb_media_endpoint_peer(a), b);
    assert_ptr_equal(sb_media_endpoint_peer(b), a);
    ctx_run(c);

    assert_int_equal(c->connect_done, 1);
    assert_int_equal(c->connect_status, 0);
    assert_int_equal(pa->nrx, N_PACKETS);
    assert_int_equal(pb->nrx, N_PACKETS);
    uint32_t sa = assert_continuous(pa, 0, pa->nrx);
    uint32_t sb = assert_continuous(pb, 0, pb->nrx);
    assert_int_not_equal(sa, 0x2222);       /* rewritten to ours */
    assert_int_not_equal(sa, sb);
    for (int i = 1; i < N_PACKETS; i++) {
        assert_int_equal(pa->rx[i].ts - pa->rx[i - 1].ts, PAYLOAD);
        assert_int_equal(pa->rx[i].first_byte, 0x4E);   /* B's audio */
        assert_int_equal(pb->rx[i].first_byte, 0xCE);
        assert_int_equal(pa->rx[i].pt, 0);
    }
    sb_media_stats_t st;
    sb_media_endpoint_stats(a, &st);
    assert_int_equal(st.rx_packets, N_PACKETS);
    assert_int_equal(st.tx_packets, N_PACKETS);
    assert_int_equal(st.rx_lost, 0);
    assert_int_equal(st.rx_dropped, 0);
    assert_int_equal(st.latched, 1);
    ctx_close(c);
    free(c);
}

/* A and B talk; then A is re-bridged to C (a transfer). A must see one
 * stream from first packet to last. */
static void step_rebridge(ctx_t *c)
{
    phone_t *pa = &c->ph[0], *pb = &c->ph[1], *pc = &c->ph[2];
    switch (c->phase) {
    case 0:
        phone_send_audio(pa);
        phone_send_audio(pb);
        if (pa->sent == 40)
            c->phase = 1;
        break;
    case 1:     /* let in-flight packets land, then switch */
        if (++c->mark < 4)
            break;
        c->mark = pa->nrx;
        assert_true(pa->nrx > 30);
        assert_int_equal(sb_media_connect(c->ep[0], c->ep[2], on_connected, c), 0);
        assert_null(sb_media_endpoint_peer(c->ep[1]));
        c->phase = 2;
        c->ticks = 0;
        break;
    case 2:
        phone_send_audio(pa);
        phone_send_audio(pb);           /* B talks to nobody now */
        phone_send_audio(pc);
        if (pc->sent == 40)
            c->phase = 3;
        break;
    default:
        if (++c->phase > 20)
            c->done = 1;
    }
}

static void test_media_relay_rebridge_keeps_stream_continuous(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 0, step_rebridge);
    phone_t *pa = ctx_phone(c, 0xA, 0, 0x11);
    phone_t *pb = ctx_phone(c, 0xB, 0, 0x22);
    phone_t *pc = ctx_phone(c, 0xC, 0, 0x33);
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c),
                        *e = ctx_endpoint(c);
    answer_for(c, a, pa, "0", NULL);
    answer_for(c, b, pb, "0", NULL);
    answer_for(c, e, pc, "0", NULL);
    assert_int_equal(sb_media_connect(a, b, on_connected, c), 0);
    ctx_run(c);

    assert_int_equal(c->connect_done, 2);
    int sw = c->mark;                   /* first packet after the switch */
    assert_true(sw > 30 && sw < pa->nrx);
    assert_int_equal(pa->rx[sw - 1].first_byte, 0x22);     /* from B */
    assert_int_equal(pa->rx[sw].first_byte, 0x33);         /* from C */
    assert_int_equal(pa->nrx, sw + 40);
    assert_continuous(pa, 0, pa->nrx);
    assert_int_equal(pa->rx[sw].marker, 1);
    assert_true(pa->rx[sw].ts - pa->rx[sw - 1].ts >= PAYLOAD);
    /* B heard A only before the switch; C only after, as one stream. */
    assert_true(pb->nrx >= 38 && pb->nrx <= 40);
    assert_int_equal(pc->nrx, 40);
    assert_continuous(pc, 0, pc->nrx);
    for (int i = 0; i < pc->nrx; i++)
        assert_int_equal(pc->rx[i].first_byte, 0x11);
    ctx_close(c);
    free(c);
}

static void step_transcode(ctx_t *c)
{
    phone_t *pa = &c->ph[0], *pb = &c->ph[1];
    if (pa->sent < 20) {
        phone_send_audio(pa);
        phone_send_audio(pb);
    } else if ((pa->nrx >= 20 && pb->nrx >= 20) || ++c->phase > 100) {
        c->done = 1;
    }
}

static void test_media_relay_transcodes_pcmu_pcma(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 0, step_transcode);
    phone_t *pa = ctx_phone(c, 0xA, 0, 0xCE);       /* PCMU phone */
    phone_t *pb = ctx_phone(c, 0xB, 8, 0xFA);       /* PCMA phone */
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c);
    answer_for(c, a, pa, "0", NULL);
    answer_for(c, b, pb, "8", NULL);
    assert_int_equal(sb_media_endpoint_codec(a), SB_MEDIA_PCMU);
    assert_int_equal(sb_media_endpoint_codec(b), SB_MEDIA_PCMA);
    assert_int_equal(sb_media_connect(a, b, NULL, NULL), 0);
    ctx_run(c);
    assert_int_equal(pa->nrx, 20);
    assert_int_equal(pb->nrx, 20);
    sb__media_g711_init();
    for (int i = 0; i < 20; i++) {
        assert_int_equal(pb->rx[i].pt, 8);
        assert_int_equal(pb->rx[i].first_byte, sb__media_ulaw_to_alaw[0xCE]);
        assert_int_equal(pa->rx[i].pt, 0);
        assert_int_equal(pa->rx[i].first_byte, sb__media_alaw_to_ulaw[0xFA]);
    }
    /* 1000 in mu-law and A-law: the transcoded sample stays close. */
    assert_true(abs(sb__media_alaw_to_linear(pb->rx[0].first_byte) - 988) < 40);
    ctx_close(c);
    free(c);
}

/* A presses 5 (100 ms, three end packets) between audio; B negotiated
 * telephone-event as pt 96. Then the engine sends "1#" to B. */
static void on_dtmf_sent(sb_media_endpoint_t *ep, int status, void *arg)
{
    ctx_t *c = arg;
    c->dtmf_done++;
    c->dtmf_status = status;
    c->order[c->norder++] = 2;
}

static void step_dtmf(ctx_t *c)
{
    phone_t *pa = &c->ph[0];
    c->phase++;
    if (c->phase <= 5) {
        phone_send_audio(pa);
    } else if (c->phase <= 10) {                    /* 5 updates */
        int k = c->phase - 5;
        phone_send_event(pa, 101, 5, 0, (uint16_t)(160 * k), k == 1);
    } else if (c->phase <= 13) {                    /* end, three times */
        phone_send_event(pa, 101, 5, 1, 800, 0);
    } else if (c->phase == 14) {
        pa->ts += 800;                              /* the event's time */
        phone_send_audio(pa);
    } else if (c->phase <= 18) {
        phone_send_audio(pa);
    } else if (c->phase == 19) {
        assert_int_equal(sb_media_endpoint_send_dtmf(c->ep[1], "1#", 60,
                                                     on_dtmf_sent, c), 0);
        assert_int_equal(sb_media_endpoint_send_dtmf(c->ep[1], "2", 60,
                                                     NULL, NULL), SB_EBUSY);
    } else if (c->dtmf_done) {
        if (++c->mark > 10) {
            phone_send_audio(pa);           /* audio after the digits */
            c->done = 1;
        }
    }
}

static void step_drain(ctx_t *c)
{
    if (++c->phase > 20)
        c->done = 1;
}

static void test_media_relay_dtmf_relayed_reported_and_sent(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 0, step_dtmf);
    phone_t *pa = ctx_phone(c, 0xA, 0, 0x11);
    phone_t *pb = ctx_phone(c, 0xB, 0, 0x22);
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c);
    answer_for(c, a, pa, "0 101", TE);
    answer_for(c, b, pb, "0 96", "a=rtpmap:96 telephone-event/8000\r\n");
    assert_int_equal(sb_media_connect(a, b, NULL, NULL), 0);
    ctx_run(c);
    c->done = 0;
    c->phase = 0;
    c->step = step_drain;
    ctx_run(c);

    /* Reported once, on the endpoint of the phone that pressed it. */
    assert_int_equal(c->ndigits, 1);
    assert_int_equal(c->digits[0], '5');
    assert_int_equal(c->digit_ms[0], 100);
    assert_ptr_equal(c->digit_ep[0], a);

    /* Relayed to B as pt 96, in B's one continuous stream. */
    int ev = 0, ends = 0, audio = 0;
    uint32_t ev_ts = 0;
    for (int i = 0; i < pb->nrx; i++) {
        if (pb->rx[i].pt == 96) {
            if (pb->rx[i].dtmf_event != 5)
                continue;               /* generated, checked below */
            if (ev == 0) {
                ev_ts = pb->rx[i].ts;
                assert_int_equal(pb->rx[i].marker, 1);
            }
            assert_int_equal(pb->rx[i].ts, ev_ts);
            ev++;
            ends += pb->rx[i].dtmf_end;
        } else {
            assert_int_equal(pb->rx[i].pt, 0);
            audio++;
        }
    }
    assert_int_equal(ev, 8);
    assert_int_equal(ends, 3);
    assert_int_equal(audio, 11);
    assert_continuous(pb, 0, pb->nrx);

    /* The digits the engine generated towards B. */
    assert_int_equal(c->dtmf_done, 1);
    assert_int_equal(c->dtmf_status, 0);
    int seen[2] = {-1, -1}, nseen = 0, gen_ends = 0;
    uint32_t last_ts = 0;
    for (int i = 0; i < pb->nrx; i++) {
        rx_pkt_t *x = &pb->rx[i];
        if (x->pt != 96 || x->dtmf_event == 5)
            continue;
        if (x->dtmf_end) {
            gen_ends++;
            assert_int_equal(x->dtmf_duration, 480);    /* 60 ms */
        }
        if (nseen == 0 || (x->ts != last_ts && nseen < 2)) {
            seen[nseen++] = x->dtmf_event;
            assert_int_equal(x->marker, 1);
        }
        last_ts = x->ts;
    }
    assert_int_equal(nseen, 2);
    assert_int_equal(seen[0], 1);
    assert_int_equal(seen[1], 11);
    assert_int_equal(gen_ends, 6);
    sb_media_stats_t st;
    sb_media_endpoint_stats(a, &st);
    assert_int_equal(st.rx_dtmf, 1);
    /* A's pt 101 events are not relayed as audio; B's stream is one. */
    assert_int_equal(sb_media_endpoint_send_dtmf(b, "x", 60, NULL, NULL),
                     SB_EINVAL);
    ctx_close(c);
    free(c);
}

/* Phone A says port X in its SDP but sends from another port (a NAT):
 * the engine latches onto where A's packets come from; a stranger's
 * packets afterwards are dropped. */
static void step_latch(ctx_t *c)
{
    phone_t *pa = &c->ph[0], *pb = &c->ph[1], *decoy = &c->ph[2],
            *stranger = &c->ph[3];
    c->phase++;
    if (c->phase <= 10) {
        phone_send_audio(pb);               /* goes to the SDP address */
    } else if (c->phase == 12) {
        phone_send_audio(pa);               /* latch */
        /* Queued behind A's packet, before the socket is connected: it
         * must be read with its source and dropped, not relayed as A's. */
        phone_send_audio(stranger);
    } else if (c->phase == 14) {
        /* A re-INVITE with the same SDP (a session refresh) keeps the
         * latched address. */
        sb_media_desc_t local;
        assert_int_equal(sb_media_endpoint_answer(c->ep[0], &c->remote,
                                                  &local), 0);
        assert_int_equal(local.session_version, 1);     /* unchanged */
    } else if (c->phase >= 16 && c->phase < 26) {
        phone_send_audio(pb);
    } else if (c->phase >= 30 && c->phase < 35) {
        phone_send_audio(stranger);
    } else if (c->phase > 50) {
        c->done = 1;
    }
    (void)decoy;
}

static void test_media_relay_symmetric_rtp_latches(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 0, step_latch);
    phone_t *pa = ctx_phone(c, 0xA, 0, 0x11);
    phone_t *pb = ctx_phone(c, 0xB, 0, 0x22);
    phone_t *decoy = ctx_phone(c, 0xD, 0, 0x44);
    phone_t *stranger = ctx_phone(c, 0xE, 0, 0x55);
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c);
    sb_media_desc_t local;
    phone_offer(pa, decoy->port, "0", NULL, &c->remote); /* SDP: the decoy */
    assert_int_equal(sb_media_endpoint_answer(a, &c->remote, &local), 0);
    phone_target(pa, a);
    phone_target(stranger, a);
    answer_for(c, b, pb, "0", NULL);
    assert_int_equal(sb_media_connect(a, b, NULL, NULL), 0);
    ctx_run(c);

    assert_int_equal(decoy->nrx, 10);       /* before the latch */
    assert_int_equal(pa->nrx, 10);          /* after it */
    assert_continuous(pa, 0, pa->nrx);
    assert_int_equal(pb->nrx, 1);           /* A's one packet; no stranger */
    assert_int_equal(pb->rx[0].first_byte, 0x11);
    sb_media_stats_t st;
    sb_media_endpoint_stats(a, &st);
    assert_int_equal(st.latched, 1);
    assert_int_equal(st.rx_packets, 1);
    /* The stranger's packet queued before the latch is dropped; its 5
     * later packets never reach the endpoint: once latched, its RTP
     * socket is connected to A and the kernel refuses them (pb saw A's
     * one packet only). On a worker thread the latch may come before the
     * first stranger packet is even sent: then the kernel refuses that
     * one too and nothing is counted (both are right; what matters is
     * that pb never got it). */
    assert_true(st.rx_dropped <= 1);
    ctx_close(c);
    free(c);
}

/* Connected RTP sockets (a latched endpoint's socket is connected to its
 * phone). A "ghost" phone latches A and vanishes, so the relay's sends to
 * it draw ICMP port-unreachable errors: A must keep listening. A new
 * address (pa2) is refused while the ghost is fresh, re-latches once A has
 * been silent for more than the re-latch time (2 s), and a re-INVITE with
 * a new address (pc) un-latches at once. */
static int ghost_fd = -1;
static uint64_t relatch_t0;

static void ghost_send(ctx_t *c)
{
    uint8_t pkt[SB__RTP_HDR + PAYLOAD];
    sb__rtp_write_header(pkt, 1, 0, 1, 0, 0x6057);
    memset(pkt + SB__RTP_HDR, 0x66, PAYLOAD);
    struct sockaddr_in to;
    uv_ip4_addr("127.0.0.1", (int)sb_media_endpoint_port(c->ep[0]), &to);
    assert_int_equal(sendto(ghost_fd, pkt, sizeof(pkt), 0,
                            (struct sockaddr *)&to, sizeof(to)),
                     (ssize_t)sizeof(pkt));
}

static void step_relatch(ctx_t *c)
{
    phone_t *pb = &c->ph[0], *pa2 = &c->ph[1], *pc = &c->ph[2];
    c->phase++;
    int p = c->phase;
    if (p == 1) {
        relatch_t0 = uv_now(&c->loop);
        ghost_send(c);                      /* latch on the ghost */
    } else if (p == 3) {
        close(ghost_fd);
        ghost_fd = -1;
    } else if (p >= 4 && p < 14) {
        phone_send_audio(pb);               /* to the ghost: ICMP errors */
    } else if (p >= 16 && p < 21) {
        phone_send_audio(pa2);              /* refused: the ghost is fresh */
    } else if (p >= 30 && p < 100) {
        /* Wait (in real time, whatever the tick rate) past the re-latch
         * time plus one sweep. */
        if (uv_now(&c->loop) - relatch_t0 < 3300)
            c->phase--;
    } else if (p >= 100 && p < 105) {
        phone_send_audio(pa2);              /* re-latches */
    } else if (p >= 106 && p < 111) {
        phone_send_audio(pb);               /* reaches pa2 */
    } else if (p == 112) {
        sb_media_desc_t local;              /* re-INVITE: A moved to pc */
        phone_offer(pc, 0, "0", NULL, &c->remote);
        assert_int_equal(sb_media_endpoint_answer(c->ep[0], &c->remote,
                                                  &local), 0);
    } else if (p >= 114 && p < 117) {
        phone_send_audio(pb);               /* to pc's SDP address */
    } else if (p >= 118 && p < 121) {
        phone_send_audio(pc);               /* latches pc */
    } else if (p > 140) {
        c->done = 1;
    }
}

static void test_media_relay_relatch_connected_socket(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 0, step_relatch);
    phone_t *pb = ctx_phone(c, 0xB, 0, 0x22);
    phone_t *pa2 = ctx_phone(c, 0xA2, 0, 0x12);
    phone_t *pc = ctx_phone(c, 0xC, 0, 0x33);
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c);
    ghost_fd = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(ghost_fd >= 0);
    struct sockaddr_in me;
    uv_ip4_addr("127.0.0.1", 0, &me);
    assert_int_equal(bind(ghost_fd, (struct sockaddr *)&me, sizeof(me)), 0);
    sb_media_desc_t local;
    phone_offer(pa2, 0, "0", NULL, &c->remote);     /* SDP: pa2 */
    assert_int_equal(sb_media_endpoint_answer(a, &c->remote, &local), 0);
    phone_target(pa2, a);
    phone_target(pc, a);
    answer_for(c, b, pb, "0", NULL);
    assert_int_equal(sb_media_connect(a, b, NULL, NULL), 0);
    ctx_run(c);

    /* pb: the ghost's packet, pa2's five after the re-latch, pc's three. */
    assert_int_equal(pb->nrx, 9);
    assert_int_equal(pb->rx[0].first_byte, 0x66);
    for (int i = 1; i < 6; i++)
        assert_int_equal(pb->rx[i].first_byte, 0x12);
    for (int i = 6; i < 9; i++)
        assert_int_equal(pb->rx[i].first_byte, 0x33);
    /* pa2 only got what B sent after pa2 had latched; pc what B sent
     * after the re-INVITE. */
    assert_int_equal(pa2->nrx, 5);
    assert_int_equal(pc->nrx, 3);
    sb_media_stats_t st;
    sb_media_endpoint_stats(a, &st);
    assert_int_equal(st.latched, 1);
    assert_int_equal(st.rx_packets, 9);
    ctx_close(c);
    free(c);
}

/* Media timeout: A sends a little and stops; B never sends (recvonly).
 * Also a CN packet from A is counted and not relayed. */
static void step_timeout(ctx_t *c)
{
    phone_t *pa = &c->ph[0];
    c->phase++;
    if (c->phase <= 5) {
        phone_send_audio(pa);
    } else if (c->phase == 6) {
        uint8_t cn[SB__RTP_HDR + 1];
        sb__rtp_write_header(cn, 0, 13, pa->seq++, pa->ts, pa->ssrc);
        cn[SB__RTP_HDR] = 40;
        phone_send_raw(pa, cn, sizeof(cn));
    } else if (c->timeouts > 0 && ++c->mark > 100) {
        c->done = 1;            /* 0.5 s more: no second report */
    }
}

static void test_media_relay_timeout_reported_once(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 1, step_timeout);
    phone_t *pa = ctx_phone(c, 0xA, 0, 0x11);
    phone_t *pb = ctx_phone(c, 0xB, 0, 0x22);
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c);
    answer_for(c, a, pa, "0 13", "a=rtpmap:13 CN/8000\r\n");
    answer_for(c, b, pb, "0", "a=recvonly\r\n");
    assert_int_equal(sb_media_connect(a, b, NULL, NULL), 0);
    ctx_run(c);
    assert_int_equal(c->timeouts, 1);
    assert_ptr_equal(c->timeout_ep, a);
    assert_true(c->ticks * TICK_MS >= 1000);    /* not before 1 s */
    assert_int_equal(pb->nrx, 5);               /* the CN was not relayed */
    sb_media_stats_t st;
    sb_media_endpoint_stats(a, &st);
    assert_int_equal(st.rx_cn, 1);
    assert_int_equal(st.rx_packets, 6);
    ctx_close(c);
    free(c);
}

/* Returns the first even port of a block of n UDP ports on 127.0.0.1 that
 * could all be bound a moment ago, or 0. */
static int free_port_block(int n)
{
    int start = 31000 + (getpid() % 100) * 16;
    for (int tries = 0; tries < 200; tries++) {
        int base = 31000 + (start - 31000 + tries * 16) % 8000;
        int fds[16], ok = 1, k = 0;
        for (; k < n && ok; k++) {
            struct sockaddr_in a;
            fds[k] = socket(AF_INET, SOCK_DGRAM, 0);
            uv_ip4_addr("127.0.0.1", base + k, &a);
            ok = fds[k] >= 0 && bind(fds[k], (struct sockaddr *)&a, sizeof a) == 0;
        }
        for (int i = 0; i < k; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        if (ok)
            return base;
    }
    return 0;
}

static void test_media_relay_port_range_exhaustion(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    /* A block of 8 ports that is free right now (other tests and servers
     * on this machine use ports too); busy ports are skipped whoever holds
     * them, so only bounds are asserted. */
    int base = free_port_block(8);
    assert_true(base > 0);
    int blocker = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in ba;
    uv_ip4_addr("127.0.0.1", base, &ba);
    int blocked = bind(blocker, (struct sockaddr *)&ba, sizeof(ba)) == 0;

    sb_media_opts_t opts = {.bind_ip = "127.0.0.1", .port_min = base,
                            .port_max = base + 7};
    sb_media_engine_t *e;
    assert_int_equal(sb_media_engine_new(&loop, &opts, NULL, &e), 0);
    sb_media_endpoint_t *eps[8];
    int n = 0, rc;
    while ((rc = sb_media_endpoint_create(e, &eps[n])) == 0 && n < 8)
        n++;
    assert_int_equal(rc, SB_ELIMIT);
    assert_true(n >= 1 && n <= (blocked ? 3 : 4));
    for (int i = 0; i < n; i++) {
        unsigned p = sb_media_endpoint_port(eps[i]);
        assert_int_equal(p % 2, 0);
        assert_true(p >= (unsigned)base && p + 1 <= (unsigned)base + 7);
        if (blocked)
            assert_int_not_equal(p, base);
        for (int j = 0; j < i; j++)
            assert_int_not_equal(p, sb_media_endpoint_port(eps[j]));
    }
    assert_int_equal(sb_media_engine_endpoints(e), n);
    /* Bad options. */
    sb_media_engine_t *bad;
    sb_media_opts_t o2 = {.bind_ip = "not-an-ip"};
    assert_int_equal(sb_media_engine_new(&loop, &o2, NULL, &bad), SB_EINVAL);
    sb_media_opts_t o3 = {.port_min = 30001, .port_max = 30001};
    assert_int_equal(sb_media_engine_new(&loop, &o3, NULL, &bad), SB_EINVAL);
    sb_media_opts_t o4 = {.bind_ip = "0.0.0.0"};
    assert_int_equal(sb_media_engine_new(&loop, &o4, NULL, &bad), SB_EINVAL);

    sb_media_engine_close(e, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    close(blocker);
}

/* Completion rules: destroy cancels DTMF in progress (SB_ECANCELED, before
 * the destroy callback), requests on a dying endpoint fail with
 * SB_ESTATE, and the destroy callback runs once from the loop. */
static void on_destroyed(sb_media_endpoint_t *ep, int status, void *arg)
{
    ctx_t *c = arg;
    assert_int_equal(status, 0);
    assert_ptr_equal(sb_media_endpoint_data(ep), c);
    c->destroy_done++;
    c->order[c->norder++] = 3;
}

static void step_destroy(ctx_t *c)
{
    c->phase++;
    if (c->phase == 3) {
        sb_media_endpoint_t *b = c->ep[1];
        assert_int_equal(sb_media_endpoint_send_dtmf(b, "123", 100,
                                                     on_dtmf_sent, c), 0);
    } else if (c->phase == 6) {
        sb_media_endpoint_t *b = c->ep[1];
        assert_int_equal(sb_media_endpoint_destroy(b, on_destroyed, c), 0);
        assert_int_equal(sb_media_endpoint_destroy(b, on_destroyed, c),
                         SB_ESTATE);
        assert_int_equal(sb_media_connect(c->ep[0], b, NULL, NULL), SB_ESTATE);
        assert_null(sb_media_endpoint_peer(c->ep[0]));
        assert_int_equal(c->dtmf_done + c->destroy_done, 0);
    } else if (c->destroy_done) {
        c->done = 1;
    }
}

static void test_media_relay_destroy_cancels_and_calls_back(void **state)
{
    (void)state;
    ctx_t *c = malloc(sizeof(*c));
    ctx_init(c, 0, step_destroy);
    phone_t *pa = ctx_phone(c, 0xA, 0, 0x11);
    phone_t *pb = ctx_phone(c, 0xB, 0, 0x22);
    sb_media_endpoint_t *a = ctx_endpoint(c), *b = ctx_endpoint(c);
    sb_media_endpoint_set_data(b, c);
    answer_for(c, a, pa, "0", NULL);
    answer_for(c, b, pb, "0 101", TE);
    assert_int_equal(sb_media_endpoint_send_dtmf(a, "1", 100, NULL, NULL),
                     SB_ECODEC);     /* A has no telephone-event */
    assert_int_equal(sb_media_connect(a, b, on_connected, c), 0);
    assert_int_equal(sb_media_connect(a, a, NULL, NULL), SB_EINVAL);
    ctx_run(c);
    assert_int_equal(c->connect_done, 1);
    assert_int_equal(c->dtmf_done, 1);
    assert_int_equal(c->dtmf_status, SB_ECANCELED);
    assert_int_equal(c->destroy_done, 1);
    assert_int_equal(c->norder, 3);
    assert_int_equal(c->order[0], 1);       /* connect */
    assert_int_equal(c->order[1], 2);       /* dtmf canceled */
    assert_int_equal(c->order[2], 3);       /* destroyed */
    assert_int_equal(sb_media_engine_endpoints(c->engine), 1);
    assert_true(pb->nrx >= 1);              /* some DTMF went out first */
    ctx_close(c);                           /* a is destroyed by close */
    free(c);
}

/* An IPv6 engine describes itself as IP6 and refuses an IPv4 phone. */
static void test_media_relay_ipv6_engine(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    sb_media_opts_t opts = {.bind_ip = "::1", .port_min = 20000,
                            .port_max = 29999};
    sb_media_engine_t *e;
    assert_int_equal(sb_media_engine_new(&loop, &opts, NULL, &e), 0);
    sb_media_endpoint_t *ep;
    int rc = sb_media_endpoint_create(e, &ep);
    if (rc == 0) {
        sb_media_desc_t offer, v4, v6;
        assert_int_equal(sb_media_endpoint_offer(ep, &offer), 0);
        assert_int_equal(offer.ipv6, 1);
        assert_string_equal(offer.addr, "::1");
        sb_buf_t b = SB_BUF_INIT;
        assert_int_equal(sb_media_sdp_write(&offer, &b), 0);
        assert_non_null(strstr(sb_buf_str(&b), "c=IN IP6 ::1\r\n"));
        sb_buf_free(&b);
        const char *t4 = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                         "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                         "m=audio 4000 RTP/AVP 0\r\n";
        assert_int_equal(sb_media_sdp_parse(t4, strlen(t4), &v4), 0);
        assert_int_equal(sb_media_endpoint_set_remote(ep, &v4), SB_EINVAL);
        const char *t6 = "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\n"
                         "c=IN IP6 ::1\r\nt=0 0\r\n"
                         "m=audio 4000 RTP/AVP 8\r\n";
        assert_int_equal(sb_media_sdp_parse(t6, strlen(t6), &v6), 0);
        assert_int_equal(sb_media_endpoint_set_remote(ep, &v6), 0);
        assert_int_equal(sb_media_endpoint_codec(ep), SB_MEDIA_PCMA);
    }
    sb_media_engine_close(e, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    if (rc != 0)
        skip();                 /* no IPv6 loopback here */
}

/* The endpoint keeps its last description in a compact form: the o=
 * version still goes up only when the content changes, and reading the
 * phone's answer still sees what was offered (telephone-event). */
static void test_media_relay_local_description_kept(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    sb_media_opts_t opts = {.bind_ip = "127.0.0.1", .port_min = 20000,
                            .port_max = 29999};
    sb_media_engine_t *e;
    assert_int_equal(sb_media_engine_new(&loop, &opts, NULL, &e), 0);
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(e, &ep), 0);
    sb_media_desc_t offer, again, answer, local;
    assert_int_equal(sb_media_endpoint_offer(ep, &offer), 0);
    assert_int_equal(offer.nformats, 3);
    assert_int_equal(offer.dtmf_pt, 101);
    assert_int_equal(sb_media_endpoint_offer(ep, &again), 0);
    assert_int_equal(again.session_version, offer.session_version);
    assert_int_equal(again.session_id, offer.session_id);

    const char *ans = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                      "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                      "m=audio 4000 RTP/AVP 8 101\r\n"
                      "a=rtpmap:101 telephone-event/8000\r\n";
    assert_int_equal(sb_media_sdp_parse(ans, strlen(ans), &answer), 0);
    assert_int_equal(sb_media_endpoint_set_remote(ep, &answer), 0);
    assert_int_equal(sb_media_endpoint_codec(ep), SB_MEDIA_PCMA);
    /* DTMF toward the phone needs its telephone-event, which is only
     * accepted when our offer had one. */
    assert_int_equal(sb_media_endpoint_send_dtmf(ep, "1", 100, NULL, NULL), 0);

    /* A re-offer from the phone putting us on hold changes our answer:
     * the version goes up once, and stays for the same offer again. */
    const char *hold = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
                       "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                       "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
    sb_media_desc_t held;
    assert_int_equal(sb_media_sdp_parse(hold, strlen(hold), &held), 0);
    assert_int_equal(sb_media_endpoint_answer(ep, &held, &local), 0);
    assert_int_equal(local.session_version, offer.session_version + 1);
    assert_int_equal(local.dir, SB_MEDIA_RECVONLY);
    assert_int_equal(local.nformats, 1);
    assert_int_equal(sb_media_endpoint_answer(ep, &held, &local), 0);
    assert_int_equal(local.session_version, offer.session_version + 1);

    sb_media_engine_close(e, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_relay_two_phones_count_and_continuity),
        cmocka_unit_test(test_media_relay_rebridge_keeps_stream_continuous),
        cmocka_unit_test(test_media_relay_transcodes_pcmu_pcma),
        cmocka_unit_test(test_media_relay_dtmf_relayed_reported_and_sent),
        cmocka_unit_test(test_media_relay_symmetric_rtp_latches),
        cmocka_unit_test(test_media_relay_relatch_connected_socket),
        cmocka_unit_test(test_media_relay_timeout_reported_once),
        cmocka_unit_test(test_media_relay_port_range_exhaustion),
        cmocka_unit_test(test_media_relay_destroy_cancels_and_calls_back),
        cmocka_unit_test(test_media_relay_ipv6_engine),
        cmocka_unit_test(test_media_relay_local_description_kept),
    };
    int failed = cmocka_run_group_tests_name("media on the caller's loop",
                                             tests, NULL, NULL);
    g_threads = 1;
    failed += cmocka_run_group_tests_name("media on a worker thread", tests,
                                          NULL, NULL);
    return failed;
}
