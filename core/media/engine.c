/*
 * engine.c: the media engine's control side, on the caller's loop. Owns
 * the port range, the endpoint list, offer/answer (the rules are in
 * negotiate.c) and the completion queue through which workers report
 * back. Every request that touches the packet path becomes a message to
 * the endpoint's worker (worker.c); the packet path is in relay.c and
 * generated audio in play.c. Nothing here reads a field of the worker
 * side of an endpoint except the statistics, which are counters read
 * without a lock (a report may be a packet behind).
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
#define MAX_THREADS 64

/* ---- small helpers ------------------------------------------------------- */

uint32_t sb__media_random(uint64_t *rng)
{
    /* xorshift64*: only for SSRCs and initial seq/ts, never for secrets. */
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    return (uint32_t)((*rng * 0x2545F4914F6CDD1DULL) >> 32);
}

static void maybe_finish_close(sb_media_engine_t *e);

void sb__media_post_req(sb_media_engine_t *e, sb__media_req_t *req)
{
    req->next = NULL;
    uv_mutex_lock(&e->done_lock);
    *e->req_tail = req;
    e->req_tail = &req->next;
    uv_mutex_unlock(&e->done_lock);
    uv_async_send(&e->done_async);
}

void sb__media_post_done(sb_media_endpoint_t *ep, sb_media_done_cb cb,
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
    sb__media_post_req(ep->engine, req);
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

static void worker_gone(sb_media_engine_t *e, sb__media_worker_t *w)
{
    if (w->threaded) {
        uv_thread_join(&w->thread);
        int rc = uv_loop_close(&w->own_loop);
        sb_assert(rc == 0);
    }
    uv_mutex_destroy(&w->lock);
    for (int i = 0; i < e->n_workers; i++)
        if (e->workers[i] == w)
            e->workers[i] = NULL;
    free(w);
    e->workers_alive--;
}

/* Delivers every completion and event queued so far, in order. */
static void on_done_async(uv_async_t *h)
{
    sb_media_engine_t *e = h->data;
    uv_mutex_lock(&e->done_lock);
    sb__media_req_t *list = e->req_head;
    e->req_head = NULL;
    e->req_tail = &e->req_head;
    uv_mutex_unlock(&e->done_lock);
    while (list) {
        sb__media_req_t *req = list;
        list = req->next;
        sb_media_endpoint_t *ep = req->ep;
        switch (req->kind) {
        case SB__REQ_FREE_EP:
            if (req->cb)
                req->cb(ep, 0, req->arg);
            sb__media_rec_forget_endpoint(ep);
            sb__media_room_forget_endpoint(ep);
            ep_unlink(ep);
            free(ep);
            continue;               /* embedded in ep */
        case SB__REQ_DONE:
            if (req->clear_dtmf)
                ep->cdtmf_busy = 0;
            if (req->cb)
                req->cb(ep, req->status, req->arg);
            break;
        case SB__REQ_EV_DTMF:
            if (!ep->cdestroying && e->ev.on_dtmf)
                e->ev.on_dtmf(ep, req->digit, req->duration_ms, e->ev.arg);
            break;
        case SB__REQ_EV_DTMF_BEGIN:
            if (!ep->cdestroying && e->ev.on_dtmf_begin)
                e->ev.on_dtmf_begin(ep, req->digit, e->ev.arg);
            break;
        case SB__REQ_EV_TIMEOUT:
            if (!ep->cdestroying && e->ev.on_timeout)
                e->ev.on_timeout(ep, e->ev.arg);
            break;
        case SB__REQ_WORKER_GONE:
            worker_gone(e, req->worker);
            break;
        case SB__REQ_REC_DONE:
            sb__media_rec_delivered(req->obj);
            continue;               /* embedded in the recorder */
        case SB__REQ_ROOM_FREE:
            sb__media_room_freed(req->obj);
            continue;               /* embedded in the room */
        }
        free(req);
    }
    maybe_finish_close(e);
}

/* ---- the engine ---------------------------------------------------------- */

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
    int threads = opts ? opts->threads : 0;
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
    if (threads < 0 || threads > MAX_THREADS)
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
    e->next_port = e->port_min + 2 * (sb__media_random(&e->rng) % pairs);

    /* Workers first, as far as it can fail (no handle yet), then the
     * completion queue, then the workers' handles and threads. */
    int rc = sb__media_workers_prepare(e, threads);
    if (rc) {
        free(e);
        return rc;
    }
    uv_mutex_init(&e->done_lock);
    uv_async_init(loop, &e->done_async, on_done_async);
    e->done_async.data = e;
    sb__media_workers_run(e);
    *out = e;
    return 0;
}

int sb_media_engine_endpoints(const sb_media_engine_t *engine)
{
    return engine->n_eps;
}

void sb_media_engine_clock_stats(const sb_media_engine_t *e,
                                 sb_media_clock_stats_t *out)
{
    int64_t playing = 0;
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < e->n_workers; i++) {
        const sb__media_worker_t *w = e->workers[i];
        if (!w)
            continue;
        out->ticks += __atomic_load_n(&w->ticks, __ATOMIC_RELAXED);
        out->missed_ticks += __atomic_load_n(&w->missed_ticks, __ATOMIC_RELAXED);
        out->frames += __atomic_load_n(&w->frames, __ATOMIC_RELAXED);
        out->late_frames += __atomic_load_n(&w->late_frames, __ATOMIC_RELAXED);
        /* Signed per worker: an endpoint that moved while it played is
         * counted up on one worker and down on the other. */
        playing += __atomic_load_n(&w->playing, __ATOMIC_RELAXED);
    }
    out->playing = playing > 0 ? (uint64_t)playing : 0;
}

static void on_engine_closed(uv_handle_t *h)
{
    sb_media_engine_t *e = h->data;
    sb_media_engine_closed_cb cb = e->closed_cb;
    void *arg = e->closed_arg;
    uv_mutex_destroy(&e->done_lock);
    free(e->workers);
    free(e);
    if (cb)
        cb(arg);
}

/* The engine goes once every endpoint is freed, then every worker. */
static void maybe_finish_close(sb_media_engine_t *e)
{
    if (!e->closing || e->n_eps > 0)
        return;
    if (e->closing == 1) {
        e->closing = 2;
        for (int i = 0; i < e->n_workers; i++) {
            sb__media_msg_t *m = SB_NEW(sb__media_msg_t);
            m->kind = SB__MSG_QUIT;
            sb__media_post_msg(e->workers[i], m);
        }
    }
    if (e->closing == 2 && e->workers_alive == 0) {
        e->closing = 3;
        uv_close((uv_handle_t *)&e->done_async, on_engine_closed);
    }
}

void sb_media_engine_close(sb_media_engine_t *e, sb_media_engine_closed_cb cb,
                           void *arg)
{
    if (e->closing)
        return;
    e->closing = 1;
    e->closed_cb = cb;
    e->closed_arg = arg;
    for (sb_media_endpoint_t *ep = e->eps; ep; ep = ep->next)
        if (!ep->cdestroying)
            sb_media_endpoint_destroy(ep, NULL, NULL);
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

static sb__media_msg_t *msg_new(sb__msg_kind_t kind, sb_media_endpoint_t *ep)
{
    sb__media_msg_t *m = SB_NEW(sb__media_msg_t);
    m->kind = kind;
    m->ep = ep;
    return m;
}

static void post(sb_media_endpoint_t *ep, sb__media_msg_t *m)
{
    sb__media_post_msg(ep->cw, m);
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
    ep->rtcp_fd = fd_rtcp;
    ep->txq_tail = &ep->txq_head;
    ep->play_tail = &ep->play_head;
    sb__media_nego_default(&ep->nego);
    ep->cnego = ep->nego;
    sb__outstream_init(&ep->out, sb__media_random(&e->rng),
                       (uint16_t)sb__media_random(&e->rng),
                       sb__media_random(&e->rng));
    ep->gen_ssrc = ~ep->out.ssrc;
    ep->sess_id = sb__media_random(&e->rng) & 0x7FFFFFFF;
    ep->sess_ver = 1;
    ep->next = e->eps;
    if (e->eps)
        e->eps->prev = ep;
    e->eps = ep;
    e->n_eps++;
    /* Round robin: calls are alike, and a bridge moves one of its two
     * endpoints next to the other (worker.c). */
    ep->cw = e->workers[e->next_worker];
    e->next_worker = (e->next_worker + 1) % e->n_workers;
    ep->w = ep->cw;
    post(ep, msg_new(SB__MSG_ADOPT, ep));
    *out = ep;
    return 0;
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
    return ep->cnego.codec;
}

sb_media_endpoint_t *sb_media_endpoint_peer(const sb_media_endpoint_t *ep)
{
    return ep->cpeer;
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

/* The negotiation result goes to the worker; the mirror keeps what the
 * control side needs (codec, DTMF payload type). */
static void post_remote(sb_media_endpoint_t *ep, const sb_media_desc_t *remote,
                        const sb__nego_t *nego,
                        const struct sockaddr_storage *rtp,
                        const struct sockaddr_storage *rtcp)
{
    sb__media_msg_t *m = msg_new(SB__MSG_REMOTE, ep);
    sb__remote_t *r = &m->u.remote;
    r->nego = *nego;
    r->rtp = *rtp;
    r->rtcp = *rtcp;
    r->has_remote = remote->port != 0 && !is_unspecified(rtp);
    r->can_send = r->has_remote && (remote->dir & SB_MEDIA_RECVONLY);
    r->expect_rx = remote->port != 0 && (remote->dir & SB_MEDIA_SENDONLY);
    ep->cnego = *nego;
    post(ep, m);
}

int sb_media_endpoint_offer(sb_media_endpoint_t *ep, sb_media_desc_t *local)
{
    if (ep->cdestroying)
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
    if (ep->cdestroying)
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
    post_remote(ep, remote, &nego, &rtp, &rtcp);
    local_done(ep, &d);
    *local = d;
    return 0;
}

int sb_media_endpoint_set_remote(sb_media_endpoint_t *ep,
                                 const sb_media_desc_t *remote)
{
    if (ep->cdestroying || !ep->has_local)
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
    post_remote(ep, remote, &nego, &rtp, &rtcp);
    return 0;
}

/* ---- bridging ---------------------------------------------------------------- */

static void cunbridge(sb_media_endpoint_t *ep)
{
    if (ep->cpeer) {
        ep->cpeer->cpeer = NULL;
        ep->cpeer = NULL;
    }
}

int sb_media_connect(sb_media_endpoint_t *a, sb_media_endpoint_t *b,
                     sb_media_done_cb cb, void *arg)
{
    if (a == b || a->engine != b->engine)
        return SB_EINVAL;
    if (a->cdestroying || b->cdestroying)
        return SB_ESTATE;
    if (a->croom)
        sb_media_room_leave(a->croom, a, NULL, NULL);
    if (b->croom)
        sb_media_room_leave(b->croom, b, NULL, NULL);
    if (a->cpeer != b) {
        cunbridge(a);
        cunbridge(b);
        a->cpeer = b;
        b->cpeer = a;
    }
    /* Bridged endpoints live on one worker, so that a packet never
     * crosses threads: b moves to a's. */
    if (b->cw != a->cw) {
        sb__media_msg_t *mv = msg_new(SB__MSG_MIGRATE, b);
        mv->to = a->cw;
        post(b, mv);
        b->cw = a->cw;
    }
    sb__media_msg_t *m = msg_new(SB__MSG_CONNECT, a);
    m->peer = b;
    m->cb = cb;
    m->arg = arg;
    post(a, m);
    return 0;
}

int sb_media_disconnect(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                        void *arg)
{
    if (ep->cdestroying)
        return SB_ESTATE;
    cunbridge(ep);
    sb__media_msg_t *m = msg_new(SB__MSG_DISCONNECT, ep);
    m->cb = cb;
    m->arg = arg;
    post(ep, m);
    return 0;
}

/* ---- DTMF generation and playback ------------------------------------------------ */

int sb_media_endpoint_send_dtmf(sb_media_endpoint_t *ep, const char *digits,
                                int duration_ms, sb_media_done_cb cb,
                                void *arg)
{
    if (ep->cdestroying)
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
    if (ep->cnego.tx_dtmf_pt < 0)
        return SB_ECODEC;
    if (ep->cdtmf_busy)
        return SB_EBUSY;
    ep->cdtmf_busy = 1;
    sb__media_msg_t *m = msg_new(SB__MSG_DTMF, ep);
    memcpy(m->u.dtmf.digits, digits, n + 1);
    m->u.dtmf.dur_samples = (uint32_t)duration_ms * SB__RTP_CLOCK_KHZ;
    m->cb = cb;
    m->arg = arg;
    post(ep, m);
    return 0;
}

int sb_media_endpoint_play(sb_media_endpoint_t *ep, const sb_media_play_t *src,
                           sb_media_done_cb cb, void *arg)
{
    if (ep->cdestroying)
        return SB_ESTATE;
    sb__play_item_t *item;
    int rc = sb__media_play_item_new(src, cb, arg, &item);
    if (rc)
        return rc;
    sb__media_msg_t *m = msg_new(SB__MSG_PLAY, ep);
    m->u.play = item;
    post(ep, m);
    return 0;
}

int sb_media_endpoint_stop(sb_media_endpoint_t *ep)
{
    if (ep->cdestroying)
        return SB_ESTATE;
    post(ep, msg_new(SB__MSG_STOP, ep));
    return 0;
}

int sb_media_endpoint_mute(sb_media_endpoint_t *ep, int muted)
{
    if (ep->cdestroying)
        return SB_ESTATE;
    sb__media_msg_t *m = msg_new(SB__MSG_MUTE, ep);
    m->u.room.flag = muted != 0;
    post(ep, m);
    return 0;
}

/* ---- stats, destroy -------------------------------------------------------------- */

void sb_media_endpoint_stats(const sb_media_endpoint_t *ep,
                             sb_media_stats_t *out)
{
    *out = ep->st;
    out->rx_lost = sb__rxstats_lost(&ep->rx);
    out->jitter_ms = (double)ep->rx.jitter16 / 16.0 / 8.0;
    out->codec = ep->nego.codec;
}

void sb_media_quality(double loss_pct, double jitter_ms, double *r, double *mos)
{
    /* Effective latency: the one-way delay (not measured: 20 ms, a
     * packet's worth) plus twice the jitter, plus 10 ms of codec. */
    double lat = 20.0 + 2.0 * jitter_ms + 10.0;
    double rv = lat < 160.0 ? 93.2 - lat / 40.0 : 93.2 - (lat - 120.0) / 10.0;
    rv -= 2.5 * (loss_pct < 0 ? 0 : loss_pct);
    if (rv < 0)
        rv = 0;
    if (rv > 100)
        rv = 100;
    double m = 1.0 + 0.035 * rv + 0.000007 * rv * (rv - 60.0) * (100.0 - rv);
    if (m < 1.0)
        m = 1.0;
    if (m > 4.5)
        m = 4.5;
    *r = rv;
    *mos = m;
}

int sb_media_endpoint_destroy(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                              void *arg)
{
    if (ep->cdestroying)
        return SB_ESTATE;
    ep->cdestroying = 1;
    cunbridge(ep);
    ep->free_req.kind = SB__REQ_FREE_EP;
    ep->free_req.ep = ep;
    ep->free_req.cb = cb;
    ep->free_req.arg = arg;
    post(ep, msg_new(SB__MSG_DESTROY, ep));
    return 0;
}
