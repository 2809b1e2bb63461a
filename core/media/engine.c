/*
 * engine.c: the media engine's lifecycle and its requests. Owns the port
 * range, the endpoint list, the completion queue (an idle handle delivers
 * completions from the loop, never from inside a request), the sweep timer
 * (media timeout, late DTMF reports, RTCP reports) and the DTMF sender.
 * Offer/answer glue lives here too; the rules are in negotiate.c and the
 * packet path in relay.c.
 */
#include "engine_int.h"
#include "util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT_MIN 20000
#define DEFAULT_PORT_MAX 30000
#define DTMF_TICK_MS 20
#define DTMF_TICK_SAMPLES (DTMF_TICK_MS * SB__RTP_CLOCK_KHZ)
#define DTMF_END_PACKETS 3
#define DTMF_GAP_TICKS 3
#define DTMF_VOLUME 10

/* ---- small helpers ------------------------------------------------------- */

uint32_t sb__media_random(sb_media_engine_t *e)
{
    /* xorshift64*: only for SSRCs and initial seq/ts, never for secrets. */
    e->rng ^= e->rng >> 12;
    e->rng ^= e->rng << 25;
    e->rng ^= e->rng >> 27;
    return (uint32_t)((e->rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void on_idle(uv_idle_t *h);
static void maybe_finish_close(sb_media_engine_t *e);

static void enqueue(sb_media_engine_t *e, sb__media_req_t *req)
{
    req->next = NULL;
    *e->req_tail = req;
    e->req_tail = &req->next;
    if (!uv_is_active((uv_handle_t *)&e->idle))
        uv_idle_start(&e->idle, on_idle);
}

static void queue_done(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                       void *arg, int status)
{
    if (!cb)
        return;
    sb__media_req_t *req = SB_NEW(sb__media_req_t);
    req->kind = SB__REQ_DONE;
    req->ep = ep;
    req->cb = cb;
    req->arg = arg;
    req->status = status;
    enqueue(ep->engine, req);
}

static void ep_unlink(sb_media_endpoint_t *ep)
{
    sb_media_engine_t *e = ep->engine;
    if (ep->prev)
        ep->prev->next = ep->next;
    else
        e->eps = ep->next;
    if (ep->next)
        ep->next->prev = ep->prev;
    e->n_eps--;
}

/* Delivers every completion queued so far; those queued by the callbacks
 * themselves wait for the next turn of the loop. */
static void on_idle(uv_idle_t *h)
{
    sb_media_engine_t *e = h->data;
    sb__media_req_t *list = e->req_head;
    e->req_head = NULL;
    e->req_tail = &e->req_head;
    while (list) {
        sb__media_req_t *req = list;
        list = req->next;
        if (req->kind == SB__REQ_FREE_EP) {
            sb_media_endpoint_t *ep = req->ep;
            if (req->cb)
                req->cb(ep, 0, req->arg);
            ep_unlink(ep);
            free(ep);
        } else {
            req->cb(req->ep, req->status, req->arg);
            if (!req->embedded)
                free(req);
        }
    }
    if (!e->req_head)
        uv_idle_stop(&e->idle);
    maybe_finish_close(e);
}

/* ---- the engine ---------------------------------------------------------- */

static void on_sweep(uv_timer_t *t);

static int parse_ip(const char *ip, unsigned port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof(*ss));
    if (uv_ip4_addr(ip, (int)port, (struct sockaddr_in *)ss) == 0)
        return 0;
    if (uv_ip6_addr(ip, (int)port, (struct sockaddr_in6 *)ss) == 0)
        return 0;
    return SB_EINVAL;
}

static int is_unspecified(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == 0;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_UNSPECIFIED(a);
}

int sb_media_engine_new(uv_loop_t *loop, const sb_media_opts_t *opts,
                        const sb_media_events_t *events,
                        sb_media_engine_t **out)
{
    const char *bind_ip = opts && opts->bind_ip ? opts->bind_ip : "127.0.0.1";
    const char *sdp_ip = opts && opts->sdp_ip ? opts->sdp_ip : bind_ip;
    int pmin = opts && opts->port_min ? opts->port_min : DEFAULT_PORT_MIN;
    int pmax = opts && opts->port_max ? opts->port_max : DEFAULT_PORT_MAX;
    int timeout_s = opts ? opts->timeout_s : 0;
    struct sockaddr_storage bind_addr, sdp_addr;

    if (parse_ip(bind_ip, 0, &bind_addr) || parse_ip(sdp_ip, 0, &sdp_addr))
        return SB_EINVAL;
    if (sdp_addr.ss_family != bind_addr.ss_family || is_unspecified(&sdp_addr))
        return SB_EINVAL;
    if (strlen(sdp_ip) >= sizeof(((sb_media_engine_t *)0)->sdp_ip))
        return SB_EINVAL;
    if (pmin & 1)
        pmin++;
    if (pmin < 1 || pmax > 65535 || pmin + 1 > pmax || timeout_s < 0)
        return SB_EINVAL;

    sb__media_g711_init();
    sb_media_engine_t *e = SB_NEW(sb_media_engine_t);
    e->loop = loop;
    if (events)
        e->ev = *events;
    e->bind_addr = bind_addr;
    snprintf(e->sdp_ip, sizeof(e->sdp_ip), "%s", sdp_ip);
    e->sdp_ipv6 = sdp_addr.ss_family == AF_INET6;
    e->port_min = (unsigned)pmin;
    e->port_max = (unsigned)pmax;
    e->timeout_ms = (uint64_t)timeout_s * 1000;
    e->req_tail = &e->req_head;
    if (sb_random_bytes(&e->rng, sizeof(e->rng)) != 0 || e->rng == 0)
        e->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)e ^ 0x9E3779B97F4A7C15ULL;
    /* Start somewhere in the range, so that a restarted server does not
     * hand out the ports its phones may still be sending to. */
    unsigned pairs = (e->port_max - e->port_min + 1) / 2;
    e->next_port = e->port_min + 2 * (sb__media_random(e) % pairs);

    uv_timer_init(loop, &e->sweep);
    uv_idle_init(loop, &e->idle);
    e->sweep.data = e;
    e->idle.data = e;
    e->open_handles = 2;
    uint64_t every = e->timeout_ms ? e->timeout_ms / 4 : 1000;
    if (every < 100)
        every = 100;
    if (every > 1000)
        every = 1000;
    uv_timer_start(&e->sweep, on_sweep, every, every);
    *out = e;
    return 0;
}

int sb_media_engine_endpoints(const sb_media_engine_t *engine)
{
    return engine->n_eps;
}

static void on_engine_handle_closed(uv_handle_t *h)
{
    sb_media_engine_t *e = h->data;
    if (--e->open_handles > 0)
        return;
    sb_media_engine_closed_cb cb = e->closed_cb;
    void *arg = e->closed_arg;
    free(e);
    if (cb)
        cb(arg);
}

/* The engine goes once every endpoint is freed and every completion
 * delivered. */
static void maybe_finish_close(sb_media_engine_t *e)
{
    if (!e->closing || e->n_eps > 0 || e->req_head || e->closing > 1)
        return;
    e->closing = 2;
    uv_close((uv_handle_t *)&e->sweep, on_engine_handle_closed);
    uv_close((uv_handle_t *)&e->idle, on_engine_handle_closed);
}

void sb_media_engine_close(sb_media_engine_t *e, sb_media_engine_closed_cb cb,
                           void *arg)
{
    if (e->closing)
        return;
    e->closing = 1;
    e->closed_cb = cb;
    e->closed_arg = arg;
    uv_timer_stop(&e->sweep);
    for (sb_media_endpoint_t *ep = e->eps; ep; ep = ep->next)
        if (!ep->destroying)
            sb_media_endpoint_destroy(ep, NULL, NULL);
    /* With nothing to wait for, close now; the callback still comes from
     * the loop (uv_close). */
    maybe_finish_close(e);
}

/* ---- endpoints ------------------------------------------------------------ */

static int bind_fd(const sb_media_engine_t *e, unsigned port, int *out)
{
    struct sockaddr_storage ss = e->bind_addr;
    socklen_t len;
    if (ss.ss_family == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in);
    } else {
        ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
        len = sizeof(struct sockaddr_in6);
    }
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return uv_translate_sys_error(errno);
    /* DSCP EF (46) for RTP and RTCP; best effort. */
    int tos = 46 << 2;
    if (ss.ss_family == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
    else
        setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
    /* RTP packets are small: set DF and skip the kernel's per-packet IP ID
     * generator (a hash and an atomic on every unconnected send). */
    int pmtu = IP_PMTUDISC_DO;
    if (ss.ss_family == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        int err = uv_translate_sys_error(errno);
        close(fd);
        return err;
    }
    *out = fd;
    return 0;
}

/* Finds a free even/odd pair, binding both before libuv sees them, so a
 * busy port costs a close(), not a handle. */
static int bind_pair(sb_media_engine_t *e, unsigned *port, int *fd_rtp,
                     int *fd_rtcp)
{
    unsigned pairs = (e->port_max - e->port_min + 1) / 2;
    for (unsigned i = 0; i < pairs; i++) {
        unsigned p = e->next_port;
        e->next_port += 2;
        if (e->next_port + 1 > e->port_max)
            e->next_port = e->port_min;
        int rc = bind_fd(e, p, fd_rtp);
        if (rc == UV_EADDRINUSE || rc == UV_EACCES)
            continue;
        if (rc)
            return rc;
        rc = bind_fd(e, p + 1, fd_rtcp);
        if (rc == 0) {
            *port = p;
            return 0;
        }
        close(*fd_rtp);
        if (rc != UV_EADDRINUSE && rc != UV_EACCES)
            return rc;
    }
    return SB_ELIMIT;
}

int sb_media_endpoint_create(sb_media_engine_t *e, sb_media_endpoint_t **out)
{
    if (e->closing)
        return SB_ESTATE;
    unsigned port;
    int fd_rtp, fd_rtcp;
    int rc = bind_pair(e, &port, &fd_rtp, &fd_rtcp);
    if (rc)
        return rc;

    sb_media_endpoint_t *ep = SB_NEW(sb_media_endpoint_t);
    ep->engine = e;
    ep->port = port;
    ep->rtp_fd = fd_rtp;
    ep->txq_tail = &ep->txq_head;
    /* The poll handle needs its fd first; should it fail, nothing else is
     * set up yet. */
    rc = uv_poll_init(e->loop, &ep->rtp, fd_rtp);
    if (rc) {
        close(fd_rtp);
        close(fd_rtcp);
        free(ep);
        return rc;
    }
    uv_udp_init(e->loop, &ep->rtcp);
    uv_timer_init(e->loop, &ep->dtmf_timer);
    ep->rtp.data = ep->rtcp.data = ep->dtmf_timer.data = ep;
    ep->open_handles = 3;
    /* Link first: from here on a failure goes through destroy. */
    ep->next = e->eps;
    if (e->eps)
        e->eps->prev = ep;
    e->eps = ep;
    e->n_eps++;

    rc = uv_udp_open(&ep->rtcp, fd_rtcp);
    if (rc) {
        close(fd_rtcp);
        goto fail;
    }
    rc = uv_poll_start(&ep->rtp, UV_READABLE, sb__media_on_rtp_poll);
    if (rc == 0)
        rc = uv_udp_recv_start(&ep->rtcp, sb__media_alloc_cb,
                               sb__media_on_rtcp);
    if (rc)
        goto fail;

    sb__media_nego_default(&ep->nego);
    sb__outstream_init(&ep->out, sb__media_random(e),
                       (uint16_t)sb__media_random(e), sb__media_random(e));
    ep->sess_id = sb__media_random(e) & 0x7FFFFFFF;
    ep->sess_ver = 1;
    *out = ep;
    return 0;

fail:
    sb_media_endpoint_destroy(ep, NULL, NULL);
    return rc;
}

void sb_media_endpoint_set_data(sb_media_endpoint_t *ep, void *data)
{
    ep->data = data;
}

void *sb_media_endpoint_data(const sb_media_endpoint_t *ep)
{
    return ep->data;
}

unsigned sb_media_endpoint_port(const sb_media_endpoint_t *ep)
{
    return ep->port;
}

sb_media_codec_t sb_media_endpoint_codec(const sb_media_endpoint_t *ep)
{
    return ep->nego.codec;
}

sb_media_endpoint_t *sb_media_endpoint_peer(const sb_media_endpoint_t *ep)
{
    return ep->peer;
}

/* ---- offer / answer -------------------------------------------------------- */

static void local_base(const sb_media_endpoint_t *ep, sb_media_desc_t *d)
{
    memset(d, 0, sizeof(*d));
    snprintf(d->addr, sizeof(d->addr), "%s", ep->engine->sdp_ip);
    d->ipv6 = ep->engine->sdp_ipv6;
    d->port = ep->port;
    d->dtmf_pt = -1;
    d->session_id = ep->sess_id;
}

/* The last description we produced, whole again (set-up only). */
static void local_load(const sb_media_endpoint_t *ep, sb_media_desc_t *d)
{
    local_base(ep, d);
    const sb__local_t *l = &ep->local;
    memcpy(d->formats, l->formats, (size_t)l->nformats * sizeof(d->formats[0]));
    d->nformats = l->nformats;
    d->dtmf_pt = l->dtmf_pt;
    d->dir = l->dir;
    d->ptime = l->ptime;
    d->session_version = ep->sess_ver;
}

/* Keeps the o= version: up by one only when the content changed. */
static void local_done(sb_media_endpoint_t *ep, sb_media_desc_t *d)
{
    if (ep->has_local) {
        sb_media_desc_t prev;
        local_load(ep, &prev);
        if (!sb__media_desc_same(&prev, d))
            ep->sess_ver++;
    }
    d->session_version = ep->sess_ver;
    /* negotiate.c never makes more; should it one day, the extra formats
     * would be forgotten here, so fail loudly in tests. */
    assert(d->nformats <= SB__LOCAL_MAX_FORMATS);
    sb__local_t *l = &ep->local;
    l->nformats = d->nformats < SB__LOCAL_MAX_FORMATS ? d->nformats
                                                      : SB__LOCAL_MAX_FORMATS;
    memcpy(l->formats, d->formats, (size_t)l->nformats * sizeof(l->formats[0]));
    l->dtmf_pt = d->dtmf_pt;
    l->dir = d->dir;
    l->ptime = d->ptime;
    ep->has_local = 1;
}

int sb__media_addr_equal(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return 0;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port &&
               x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port &&
           memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static int remote_addrs(const sb_media_endpoint_t *ep,
                        const sb_media_desc_t *remote,
                        struct sockaddr_storage *rtp,
                        struct sockaddr_storage *rtcp)
{
    if (remote->port > 65535 || remote->rtcp_port > 65535)
        return SB_EINVAL;
    if (parse_ip(remote->addr, remote->port, rtp) != 0)
        return SB_EINVAL;
    if (rtp->ss_family != ep->engine->bind_addr.ss_family)
        return SB_EINVAL;
    unsigned rport = remote->rtcp_port ? remote->rtcp_port
                                       : (remote->port + 1) & 0xFFFF;
    parse_ip(remote->addr, rport, rtcp);
    return 0;
}

static void apply_remote(sb_media_endpoint_t *ep, const sb_media_desc_t *remote,
                         const sb__nego_t *nego,
                         const struct sockaddr_storage *rtp,
                         const struct sockaddr_storage *rtcp)
{
    ep->nego = *nego;
    /* A new address un-latches; the same one (a session refresh) keeps
     * the address symmetric RTP found, which may differ from the SDP's
     * behind a NAT. */
    if (!ep->has_sdp_remote ||
        !sb__media_addr_equal((const struct sockaddr *)rtp, &ep->sdp_remote)) {
        ep->sdp_remote = *rtp;
        ep->has_sdp_remote = 1;
        sb__media_rtp_connect(ep, 0);
        ep->remote = *rtp;
        ep->latched = 0;
    }
    if (!ep->rtcp_latched)
        ep->remote_rtcp = *rtcp;
    ep->has_remote = remote->port != 0 && !is_unspecified(rtp);
    ep->can_send = ep->has_remote && (remote->dir & SB_MEDIA_RECVONLY);
    int expect = remote->port != 0 && (remote->dir & SB_MEDIA_SENDONLY);
    if (expect && !ep->expect_rx) {
        ep->last_rx_ms = uv_now(ep->engine->loop);
        ep->timed_out = 0;
    }
    ep->expect_rx = expect;
    ep->st.latched = ep->latched;
}

int sb_media_endpoint_offer(sb_media_endpoint_t *ep, sb_media_desc_t *local)
{
    if (ep->destroying)
        return SB_ESTATE;
    local_base(ep, local);
    sb__media_make_offer(local);
    local_done(ep, local);
    return 0;
}

int sb_media_endpoint_answer(sb_media_endpoint_t *ep,
                             const sb_media_desc_t *remote,
                             sb_media_desc_t *local)
{
    if (ep->destroying)
        return SB_ESTATE;
    struct sockaddr_storage rtp, rtcp;
    int rc = remote_addrs(ep, remote, &rtp, &rtcp);
    if (rc)
        return rc;
    sb_media_desc_t d;
    sb__nego_t nego;
    local_base(ep, &d);
    rc = sb__media_make_answer(remote, &d, &nego);
    if (rc)
        return rc;
    apply_remote(ep, remote, &nego, &rtp, &rtcp);
    local_done(ep, &d);
    *local = d;
    return 0;
}

int sb_media_endpoint_set_remote(sb_media_endpoint_t *ep,
                                 const sb_media_desc_t *remote)
{
    if (ep->destroying || !ep->has_local)
        return SB_ESTATE;
    struct sockaddr_storage rtp, rtcp;
    int rc = remote_addrs(ep, remote, &rtp, &rtcp);
    if (rc)
        return rc;
    sb__nego_t nego;
    sb_media_desc_t offered;
    local_load(ep, &offered);
    rc = sb__media_read_answer(&offered, remote, &nego);
    if (rc)
        return rc;
    apply_remote(ep, remote, &nego, &rtp, &rtcp);
    return 0;
}

/* ---- bridging ---------------------------------------------------------------- */

static void unbridge(sb_media_endpoint_t *ep)
{
    sb_media_endpoint_t *p = ep->peer;
    if (!p)
        return;
    p->peer = NULL;
    ep->peer = NULL;
    /* Whatever comes next towards either phone is a new source. */
    sb__outstream_reset(&p->out);
    sb__outstream_reset(&ep->out);
}

int sb_media_connect(sb_media_endpoint_t *a, sb_media_endpoint_t *b,
                     sb_media_done_cb cb, void *arg)
{
    if (a == b || a->engine != b->engine)
        return SB_EINVAL;
    if (a->destroying || b->destroying)
        return SB_ESTATE;
    if (a->peer != b) {
        unbridge(a);
        unbridge(b);
        a->peer = b;
        b->peer = a;
    }
    queue_done(a, cb, arg, 0);
    return 0;
}

int sb_media_disconnect(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                        void *arg)
{
    if (ep->destroying)
        return SB_ESTATE;
    unbridge(ep);
    queue_done(ep, cb, arg, 0);
    return 0;
}

/* ---- DTMF generation ----------------------------------------------------------- */

static void dtmf_finish(sb_media_endpoint_t *ep, int status)
{
    sb__dtmf_tx_t *t = &ep->txd;
    uv_timer_stop(&ep->dtmf_timer);
    t->active = 0;
    sb__outstream_reset(&ep->out);
    queue_done(ep, t->cb, t->arg, status);
    t->cb = NULL;
}

static void dtmf_send(sb_media_endpoint_t *ep, int end)
{
    sb__dtmf_tx_t *t = &ep->txd;
    sb__dtmf_t ev = {
        .event = sb__dtmf_event_of(t->digits[t->index]),
        .end = end,
        .volume = DTMF_VOLUME,
        .duration = (uint16_t)t->cur_dur,
    };
    sb__media_send_dtmf_packet(ep, t->first, &ev);
    t->first = 0;
}

static void on_dtmf_tick(uv_timer_t *timer)
{
    sb_media_endpoint_t *ep = timer->data;
    sb__dtmf_tx_t *t = &ep->txd;
    switch (t->phase) {
    case SB__TXD_TONE:
        t->cur_dur += DTMF_TICK_SAMPLES;
        if (t->cur_dur >= t->dur_samples) {
            t->cur_dur = t->dur_samples;
            t->phase = SB__TXD_END;
            t->phase_ticks = 1;
            dtmf_send(ep, 1);
        } else {
            dtmf_send(ep, 0);
        }
        break;
    case SB__TXD_END:
        dtmf_send(ep, 1);
        if (++t->phase_ticks >= DTMF_END_PACKETS) {
            t->phase = SB__TXD_GAP;
            t->phase_ticks = 0;
        }
        break;
    case SB__TXD_GAP:
        if (++t->phase_ticks < DTMF_GAP_TICKS)
            break;
        if (++t->index >= t->count) {
            dtmf_finish(ep, 0);
            return;
        }
        t->phase = SB__TXD_TONE;
        t->event_ts = (t->tick + 1) * DTMF_TICK_SAMPLES;
        t->cur_dur = 0;
        t->first = 1;
        break;
    }
    t->tick++;
}

int sb_media_endpoint_send_dtmf(sb_media_endpoint_t *ep, const char *digits,
                                int duration_ms, sb_media_done_cb cb,
                                void *arg)
{
    if (ep->destroying)
        return SB_ESTATE;
    size_t n = digits ? strlen(digits) : 0;
    if (n == 0 || n > SB__DTMF_MAX_DIGITS)
        return SB_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (sb__dtmf_event_of(digits[i]) < 0 || sb__dtmf_event_of(digits[i]) > 15)
            return SB_EINVAL;
    if (duration_ms == 0)
        duration_ms = 100;
    if (duration_ms < 40 || duration_ms > 5000)
        return SB_EINVAL;
    if (ep->nego.tx_dtmf_pt < 0)
        return SB_ECODEC;
    if (ep->txd.active)
        return SB_EBUSY;

    sb__dtmf_tx_t *t = &ep->txd;
    memset(t, 0, sizeof(*t));
    memcpy(t->digits, digits, n + 1);
    t->count = (int)n;
    t->dur_samples = (uint32_t)duration_ms * SB__RTP_CLOCK_KHZ;
    t->phase = SB__TXD_TONE;
    t->first = 1;
    t->cb = cb;
    t->arg = arg;
    t->active = 1;
    /* Generated packets are a new source for the phone's stream. */
    sb__outstream_reset(&ep->out);
    uv_timer_start(&ep->dtmf_timer, on_dtmf_tick, 0, DTMF_TICK_MS);
    return 0;
}

/* ---- stats, destroy -------------------------------------------------------------- */

void sb_media_endpoint_stats(const sb_media_endpoint_t *ep,
                             sb_media_stats_t *out)
{
    *out = ep->st;
    out->rx_lost = sb__rxstats_lost(&ep->rx);
    out->latched = ep->latched;
}

static void on_ep_handle_closed(uv_handle_t *h)
{
    sb_media_endpoint_t *ep = h->data;
    if (--ep->open_handles > 0)
        return;
    ep->free_req.kind = SB__REQ_FREE_EP;
    ep->free_req.ep = ep;
    ep->free_req.embedded = 1;
    enqueue(ep->engine, &ep->free_req);
}

int sb_media_endpoint_destroy(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                              void *arg)
{
    if (ep->destroying)
        return SB_ESTATE;
    ep->destroying = 1;
    unbridge(ep);
    if (ep->txd.active)
        dtmf_finish(ep, SB_ECANCELED);
    ep->free_req.cb = cb;
    ep->free_req.arg = arg;
    /* Closing a poll handle stops it at once, so the fd can go now. */
    uv_close((uv_handle_t *)&ep->rtp, on_ep_handle_closed);
    close(ep->rtp_fd);
    ep->rtp_fd = -1;
    sb__media_txq_clear(ep);
    uv_close((uv_handle_t *)&ep->rtcp, on_ep_handle_closed);
    uv_close((uv_handle_t *)&ep->dtmf_timer, on_ep_handle_closed);
    return 0;
}

/* ---- the sweep: timeouts, stale DTMF, RTCP ------------------------------------------ */

static void on_sweep(uv_timer_t *t)
{
    sb_media_engine_t *e = t->data;
    uint64_t now = uv_now(e->loop);
    /* Destroyed endpoints stay linked until freed from the queue, so the
     * list survives callbacks that destroy or create endpoints. */
    for (sb_media_endpoint_t *ep = e->eps; ep && !e->closing; ep = ep->next) {
        if (ep->destroying)
            continue;
        sb__media_flush_dtmf(ep, now);
        if (ep->destroying)
            continue;
        sb__media_rtcp_tick(ep, now);
        sb__media_relatch_check(ep, now);
        if (e->timeout_ms && ep->expect_rx && !ep->timed_out &&
            now - ep->last_rx_ms >= e->timeout_ms) {
            ep->timed_out = 1;
            if (e->ev.on_timeout)
                e->ev.on_timeout(ep, e->ev.arg);
        }
    }
}
