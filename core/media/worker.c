/*
 * worker.c: media workers. A worker is a libuv loop (on a thread of its
 * own, or the engine's loop when opts.threads is 0) that owns the packet
 * path of its endpoints: their sockets, relay, generated audio and
 * timers. The engine's loop talks to it only through a locked message
 * queue and a uv_async_t; the worker answers through the engine's
 * completion queue (engine.c). One timerfd per worker is the 20 ms clock
 * of everything it generates (play.c), one timer sweeps its endpoints.
 *
 * Bridged endpoints always share a worker. sb_media_connect moves one
 * endpoint of a cross-worker bridge: the old worker closes its handles
 * and hands the struct over with an ADOPT message; messages that reach
 * the new worker before that are held, in order, until it arrives. The
 * struct's `owner` (atomic) says which worker may touch it.
 */
#include "engine_int.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void on_wake(uv_async_t *h);
static void worker_handle(sb__media_worker_t *w, sb__media_msg_t *m);
static void on_sweep(uv_timer_t *t);

/* ---- start and stop ------------------------------------------------------ */

int sb__media_workers_prepare(sb_media_engine_t *e, int threads)
{
    int n = threads > 0 ? threads : 1;
    e->workers = sb_xcalloc((size_t)n, sizeof(*e->workers));
    for (int i = 0; i < n; i++) {
        int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0) {
            int err = uv_translate_sys_error(errno);
            for (int j = 0; j < i; j++) {
                close(e->workers[j]->clock_fd);
                free(e->workers[j]);
            }
            free(e->workers);
            e->workers = NULL;
            return err;
        }
        sb__media_worker_t *w = SB_NEW(sb__media_worker_t);
        w->engine = e;
        w->index = i;
        w->threaded = threads > 0;
        w->clock_fd = fd;
        w->in_tail = &w->in_head;
        w->rng = e->rng ^ (0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1));
        e->workers[i] = w;
    }
    e->n_workers = n;
    e->workers_alive = n;
    return 0;
}

static void worker_main(void *arg)
{
    sb__media_worker_t *w = arg;
    char name[16];              /* "sb-media-N": top -H, bench/play */
    snprintf(name, sizeof(name), "sb-media-%d", w->index);
    prctl(PR_SET_NAME, name, 0, 0, 0);
    uv_run(w->loop, UV_RUN_DEFAULT);
}

void sb__media_workers_run(sb_media_engine_t *e)
{
    for (int i = 0; i < e->n_workers; i++) {
        sb__media_worker_t *w = e->workers[i];
        if (w->threaded) {
            int rc = uv_loop_init(&w->own_loop);
            sb_assert(rc == 0);
            w->loop = &w->own_loop;
        } else {
            w->loop = e->loop;
        }
        uv_mutex_init(&w->lock);
        uv_async_init(w->loop, &w->wake, on_wake);
        uv_timer_init(w->loop, &w->sweep);
        uv_poll_init(w->loop, &w->clock, w->clock_fd);
        w->wake.data = w->sweep.data = w->clock.data = w;
        w->open_handles = 3;
        /* The clock runs from now on; it is polled only while something
         * is generated (play.c). */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        uint64_t base = (uint64_t)now.tv_sec * 1000000000ULL +
                        (uint64_t)now.tv_nsec + SB__SLOT_NS;
        w->clock_base_ns = base;
        struct itimerspec its = {
            .it_interval = {0, (long)SB__SLOT_NS},
            .it_value = {(time_t)(base / 1000000000ULL),
                         (long)(base % 1000000000ULL)},
        };
        timerfd_settime(w->clock_fd, TFD_TIMER_ABSTIME, &its, NULL);
        /* Every 100 ms: each pass then sends the RTCP reports of a
         * tenth of a second, not a second's worth at once (a burst that
         * would delay the clock's next tick). */
        uv_timer_start(&w->sweep, on_sweep, 100, 100);
        if (w->threaded) {
            int rc = uv_thread_create(&w->thread, worker_main, w);
            sb_assert(rc == 0);
        }
    }
}

static void on_worker_handle_closed(uv_handle_t *h)
{
    sb__media_worker_t *w = h->data;
    if (--w->open_handles > 0)
        return;
    close(w->clock_fd);
    w->clock_fd = -1;
    /* The last word of this worker; the engine joins its thread. */
    sb__media_req_t *req = SB_NEW(sb__media_req_t);
    req->kind = SB__REQ_WORKER_GONE;
    req->worker = w;
    sb__media_post_req(w->engine, req);
}

void sb__media_worker_quit_now(sb__media_worker_t *w)
{
    if (w->closing)
        return;
    w->closing = 1;
    uv_close((uv_handle_t *)&w->wake, on_worker_handle_closed);
    uv_close((uv_handle_t *)&w->sweep, on_worker_handle_closed);
    uv_close((uv_handle_t *)&w->clock, on_worker_handle_closed);
}

/* Recorders still writing their files keep the worker (and its loop, on
 * which their thread-pool work completes) until they are done. */
static void worker_quit(sb__media_worker_t *w)
{
    if (w->quitting)
        return;
    w->quitting = 1;
    if (w->n_recs == 0)
        sb__media_worker_quit_now(w);
}

/* ---- messages ----------------------------------------------------------- */

void sb__media_post_msg(sb__media_worker_t *w, sb__media_msg_t *m)
{
    m->next = NULL;
    uv_mutex_lock(&w->lock);
    *w->in_tail = m;
    w->in_tail = &m->next;
    uv_mutex_unlock(&w->lock);
    uv_async_send(&w->wake);
}

static void on_wake(uv_async_t *h)
{
    sb__media_worker_t *w = h->data;
    uv_mutex_lock(&w->lock);
    sb__media_msg_t *list = w->in_head;
    w->in_head = NULL;
    w->in_tail = &w->in_head;
    uv_mutex_unlock(&w->lock);
    while (list) {
        sb__media_msg_t *m = list;
        list = m->next;
        m->next = NULL;
        worker_handle(w, m);
    }
}

static int owned(const sb__media_worker_t *w, sb_media_endpoint_t *ep)
{
    return ep == NULL ||
           __atomic_load_n(&ep->owner, __ATOMIC_ACQUIRE) == w;
}

static int touches(const sb__media_msg_t *m, const sb_media_endpoint_t *ep)
{
    return ep && (m->ep == ep || m->peer == ep);
}

/* A message waits while an endpoint it names is in transit, or while an
 * earlier message naming one of them waits (order per endpoint). */
static int must_hold(const sb__media_worker_t *w, const sb__media_msg_t *m)
{
    if (!owned(w, m->ep) || !owned(w, m->peer))
        return 1;
    for (const sb__media_msg_t *h = w->held; h; h = h->next)
        if (touches(h, m->ep) || touches(h, m->peer))
            return 1;
    return 0;
}

static void hold(sb__media_worker_t *w, sb__media_msg_t *m)
{
    sb__media_msg_t **p = &w->held;
    while (*p)
        p = &(*p)->next;
    m->next = NULL;
    *p = m;
}

static void handle_now(sb__media_worker_t *w, sb__media_msg_t *m);

/* After an adoption: runs the held messages that can run now, in order. */
static void release_held(sb__media_worker_t *w)
{
    sb__media_msg_t *list = w->held;
    w->held = NULL;
    while (list) {
        sb__media_msg_t *m = list;
        list = m->next;
        m->next = NULL;
        if (must_hold(w, m))
            hold(w, m);
        else
            handle_now(w, m);
    }
}

static void adopt(sb__media_worker_t *w, sb_media_endpoint_t *ep)
{
    ep->w = w;
    uv_poll_init(w->loop, &ep->rtp, ep->rtp_fd);
    uv_poll_init(w->loop, &ep->rtcp, ep->rtcp_fd);
    ep->rtp.data = ep->rtcp.data = ep;
    ep->open_handles = 2;
    ep->adopted = 1;
    uv_poll_start(&ep->rtp, UV_READABLE | (ep->txq_head ? UV_WRITABLE : 0),
                  sb__media_on_rtp_poll);
    uv_poll_start(&ep->rtcp, UV_READABLE, sb__media_on_rtcp_poll);
    ep->wprev = NULL;
    ep->wnext = w->eps;
    if (w->eps)
        w->eps->wprev = ep;
    w->eps = ep;
    w->n_eps++;
    ep->last_rx_ms = uv_now(w->loop);
    __atomic_store_n(&ep->owner, w, __ATOMIC_RELEASE);
    if (ep->play_head || ep->fin_head || ep->txd.active) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sb__media_clock_add(ep, (uint64_t)ts.tv_sec * 1000000000ULL +
                                    (uint64_t)ts.tv_nsec);
    }
}

static void wunlink(sb_media_endpoint_t *ep)
{
    sb__media_worker_t *w = ep->w;
    if (ep->wprev)
        ep->wprev->wnext = ep->wnext;
    else
        w->eps = ep->wnext;
    if (ep->wnext)
        ep->wnext->wprev = ep->wprev;
    ep->wprev = ep->wnext = NULL;
    w->n_eps--;
}

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

/* Destroy: the handles are closed, the struct goes back to the engine. */
static void on_ep_closed_destroy(uv_handle_t *h)
{
    sb_media_endpoint_t *ep = h->data;
    if (--ep->open_handles > 0)
        return;
    sb__media_worker_t *w = ep->w;
    sb__media_metrics_fold(w, ep);
    wunlink(ep);
    sb__media_post_req(w->engine, &ep->free_req);
}

/* Move: the handles are closed, the struct goes to the next worker. */
static void on_ep_closed_move(uv_handle_t *h)
{
    sb_media_endpoint_t *ep = h->data;
    if (--ep->open_handles > 0)
        return;
    wunlink(ep);
    sb__media_worker_t *dest = ep->move_to;
    ep->move_to = NULL;
    ep->w = NULL;
    sb__media_msg_t *m = SB_NEW(sb__media_msg_t);
    m->kind = SB__MSG_ADOPT;
    m->ep = ep;
    sb__media_post_msg(dest, m);
}

static void apply_remote(sb_media_endpoint_t *ep, const sb__remote_t *r)
{
    ep->nego = r->nego;
    /* A new address un-latches; the same one (a session refresh) keeps
     * the address symmetric RTP found, which may differ from the SDP's
     * behind a NAT. */
    if (!ep->has_sdp_remote ||
        !sb__media_addr_equal((const struct sockaddr *)&r->rtp,
                              &ep->sdp_remote)) {
        ep->sdp_remote = r->rtp;
        ep->has_sdp_remote = 1;
        sb__media_rtp_connect(ep, 0);
        ep->remote = r->rtp;
        ep->latched = 0;
    }
    if (!ep->rtcp_latched)
        ep->remote_rtcp = r->rtcp;
    ep->has_remote = r->has_remote;
    ep->can_send = r->can_send;
    if (r->expect_rx && !ep->expect_rx) {
        ep->last_rx_ms = uv_now(ep->w->loop);
        ep->timed_out = 0;
    }
    ep->expect_rx = r->expect_rx;
    ep->st.latched = ep->latched;
}

static void handle_now(sb__media_worker_t *w, sb__media_msg_t *m)
{
    sb_media_endpoint_t *ep = m->ep;
    switch (m->kind) {
    case SB__MSG_REMOTE:
        if (!ep->destroying)
            apply_remote(ep, &m->u.remote);
        break;
    case SB__MSG_CONNECT:
        if (ep->destroying || m->peer->destroying) {
            sb__media_post_done(ep, m->cb, m->arg, SB_ECANCELED);
            break;
        }
        if (ep->peer != m->peer) {
            sb__media_member_gone(ep);
            sb__media_member_gone(m->peer);
            unbridge(ep);
            unbridge(m->peer);
            ep->peer = m->peer;
            m->peer->peer = ep;
        }
        sb__media_post_done(ep, m->cb, m->arg, 0);
        break;
    case SB__MSG_DISCONNECT:
        unbridge(ep);
        sb__media_post_done(ep, m->cb, m->arg, ep->destroying ? SB_ECANCELED : 0);
        break;
    case SB__MSG_DTMF:
        if (ep->destroying) {
            sb__media_post_dtmf_done(ep, m->cb, m->arg, SB_ECANCELED);
            break;
        }
        sb__media_dtmf_start(ep, m->u.dtmf.digits, m->u.dtmf.dur_samples,
                             m->cb, m->arg);
        break;
    case SB__MSG_PLAY:
        if (ep->destroying) {
            sb__media_post_done(ep, m->u.play->cb, m->u.play->arg,
                                SB_ECANCELED);
            sb__media_play_item_free(m->u.play);
            break;
        }
        sb__media_play_queue(ep, m->u.play);
        break;
    case SB__MSG_STOP:
        sb__media_play_stop(ep, SB_ECANCELED);
        break;
    case SB__MSG_MUTE:
        ep->muted = m->u.room.flag;
        break;
    case SB__MSG_LISTEN:
        if (!ep->destroying)
            sb__media_listen_set(ep, &m->u.listen);
        sb__media_post_done(ep, m->cb, m->arg, ep->destroying ? SB_ECANCELED : 0);
        break;
    case SB__MSG_REC_START:
        sb__media_rec_start(w, m->u.rec.rec, ep, m->u.rec.other);
        break;
    case SB__MSG_ROOM_JOIN:
    case SB__MSG_ROOM_LEAVE:
    case SB__MSG_ROOM_MUTE:
    case SB__MSG_ROOM_PLAY:
    case SB__MSG_ROOM_DESTROY:
    case SB__MSG_ROOM_RECORD:
        sb__media_room_msg(w, m);
        break;
    case SB__MSG_MIGRATE:
        if (ep->destroying)
            break;              /* the DESTROY went to the new worker */
        sb__media_rec_endpoint_gone(ep);
        sb__media_member_gone(ep);
        unbridge(ep);
        sb__media_clock_remove(ep);
        __atomic_store_n(&ep->owner, NULL, __ATOMIC_RELEASE);
        ep->move_to = m->to;
        ep->adopted = 0;
        uv_close((uv_handle_t *)&ep->rtp, on_ep_closed_move);
        uv_close((uv_handle_t *)&ep->rtcp, on_ep_closed_move);
        break;
    case SB__MSG_DESTROY:
        ep->destroying = 1;
        sb__media_rec_endpoint_gone(ep);
        sb__media_member_gone(ep);
        sb__media_listen_free(ep);
        unbridge(ep);
        if (ep->txd.active)
            sb__media_dtmf_finish(ep, SB_ECANCELED);
        sb__media_play_stop(ep, SB_ECANCELED);
        sb__media_txq_clear(ep);
        if (!ep->adopted) {
            /* Never polled here (cannot happen after ADOPT ran). */
            close(ep->rtp_fd);
            close(ep->rtcp_fd);
            sb__media_post_req(w->engine, &ep->free_req);
            break;
        }
        ep->adopted = 0;
        /* Closing a poll handle stops it at once, so the fds can go. */
        uv_close((uv_handle_t *)&ep->rtp, on_ep_closed_destroy);
        uv_close((uv_handle_t *)&ep->rtcp, on_ep_closed_destroy);
        close(ep->rtp_fd);
        close(ep->rtcp_fd);
        ep->rtp_fd = ep->rtcp_fd = -1;
        break;
    case SB__MSG_ADOPT:
    case SB__MSG_QUIT:
        break;                  /* handled by the caller */
    }
    free(m);
}

static void worker_handle(sb__media_worker_t *w, sb__media_msg_t *m)
{
    if (m->kind == SB__MSG_QUIT) {
        free(m);
        worker_quit(w);
        return;
    }
    if (m->kind == SB__MSG_ADOPT) {
        adopt(w, m->ep);
        free(m);
        if (w->held)
            release_held(w);
        return;
    }
    if (must_hold(w, m)) {
        hold(w, m);
        return;
    }
    handle_now(w, m);
}

/* ---- the sweep: timeouts, stale DTMF, RTCP ---------------------------------- */

static void on_sweep(uv_timer_t *t)
{
    sb__media_worker_t *w = t->data;
    sb_media_engine_t *e = w->engine;
    uint64_t now = uv_now(w->loop);
    sb__media_metrics_sweep(w, now);
    for (sb_media_endpoint_t *ep = w->eps; ep; ep = ep->wnext) {
        if (ep->destroying)
            continue;
        sb__media_flush_dtmf(ep, now);
        sb__media_rtcp_tick(ep, now);
        sb__media_relatch_check(ep, now);
        if (e->timeout_ms && ep->expect_rx && !ep->timed_out &&
            now - ep->last_rx_ms >= e->timeout_ms) {
            ep->timed_out = 1;
            sb__media_req_t *req = SB_NEW(sb__media_req_t);
            req->kind = SB__REQ_EV_TIMEOUT;
            req->ep = ep;
            sb__media_post_req(e, req);
        }
    }
}
