/*
 * dial.c: <Dial> in C: the outgoing legs (branches) of one dial, started
 * in parallel, the first answer wins and is bridged to the caller (whose
 * INVITE is answered then, if it was not), the others are cancelled; the
 * ring timeout, the time limit, hangupOnStar; early media from the first
 * branch that sends 183 with SDP; ringback (ringTone) played to a caller
 * that is answered already, until a branch's early media or answer
 * replaces it; and the result the Dial action reports.
 *
 * Targets: Number goes to sip.outbound_proxy (sip:<number>@<proxy>), or
 * back to our own SIP address when no proxy is set (so a number we serve
 * is reached through normal routing, with Max-Forwards bounding loops);
 * Client forks to every registered contact (location service); Sip is a
 * URI, with digest credentials for a challenge.
 *
 * Guards: a call that is not trusted (call_int.h) reaches only numbers
 * this server serves (through itself, never the proxy) and SIP URIs of
 * this server (sip's sb_sip_uri_is_local); anything else fails at once
 * with a Notification (21215).
 * A Client target must belong to the call's account or one above it.
 *
 * Life of a dial: created by sb_call_dial, finished once (finish()) when
 * no branch can answer any more, the bridge ended, or the caller hung up;
 * its callback is deferred to the loop and suppressed by cancel; it is
 * freed when its timer has closed after that.
 */
#include "call_int.h"
#include "account_tree.h"
#include "notify.h"
#include "route.h"

#include <string.h>
#include <strings.h>

/* Owner: itself (freed by on_timer_closed after the callback or cancel). */
struct sb_call_dial_s {
    sb_call_mgr_t *mgr;
    sb_call_t *parent;              /* a reference */
    sb_call_dial_done_cb cb;
    void *arg;
    sb_call_t *branches[SB_DIAL_MAX_BRANCHES];  /* references */
    int nbranches;
    int live;                       /* branches not over */
    sb_call_t *winner;              /* answered and bridged */
    sb_call_t *early;               /* sending early media to the caller */
    sb_call_t *last;                /* last branch that ended */
    uv_timer_t timer;               /* ring timeout, then time limit */
    int timeout_s, time_limit_s, hangup_on_star;
    int return_on_answer;           /* cb at answer (opts) */
    int returned;                   /* ... and it was queued */
    int timed_out;
    int starting;                   /* inside sb_call_dial */
    int done;                       /* finished (cb queued or dropped) */
    int64_t start_ms, answer_ms, end_ms;
    /* The result. */
    int any_busy, any_no_answer;
    int sip_status;
    char *sip_call_id;
    sb_call_pair_t *hdrs;
    size_t nhdrs;
    const char *status;
    /* The action, requested here when the caller hangs up while bridged. */
    char *action_url;
    char *action_method;
    int has_sip;                    /* a target is a SIP URI */
    char ring_tone[16];             /* "ringback:<cc>" */
    int ringback;                   /* it plays to the caller now */
    /* record (Dial record): the bridge's recording, and its URL once it
     * is stored. The result waits for the file (rec_wait). */
    int record;                     /* 0, 1 mixed, 2 one channel a leg */
    sb_call_record_t *rec;
    char *rec_url;
    int rec_wait;
};

static void finish(sb_call_dial_t *d, const char *status);

/* ---- ringback --------------------------------------------------------------- */

/* An answered caller hears nothing from the branches until one sends
 * early media or answers: play it ringback meanwhile. The engine's
 * completion is not needed (the dial may be freed before it runs). */
static void ringback_start(sb_call_dial_t *d)
{
    sb_call_t *p = d->parent;
    if (d->ringback || d->done || p->over || p->ep == NULL ||
        p->status != SB_CALL_IN_PROGRESS)
        return;
    sb_media_play_t src = {.tone = d->ring_tone, .loop = 0, .ms = 0};
    int rc = sb_media_endpoint_play(p->ep, &src, NULL, NULL);
    if (rc == 0)
        d->ringback = 1;
    else
        sb_log_call(SB_LOG_DEBUG, p->sid, "dial: no ringback: %s",
                    sb_strerror(rc));
}

/* Before the caller's endpoint is connected to a branch (the relay is
 * held back while it plays), and when the dial ends. */
static void ringback_stop(sb_call_dial_t *d)
{
    sb_call_t *p = d->parent;
    if (!d->ringback)
        return;
    d->ringback = 0;
    if (p->ep && !p->over)
        sb_media_endpoint_stop(p->ep);
}

/* Twilio's ringTone is a two-letter country code; anything else is "us". */
static void set_ring_tone(sb_call_dial_t *d, const char *cc)
{
    char c0 = cc ? cc[0] : 0, c1 = c0 ? cc[1] : 0;
    if (c0 >= 'A' && c0 <= 'Z')
        c0 = (char)(c0 - 'A' + 'a');
    if (c1 >= 'A' && c1 <= 'Z')
        c1 = (char)(c1 - 'A' + 'a');
    if (c0 < 'a' || c0 > 'z' || c1 < 'a' || c1 > 'z' || cc[2] != '\0')
        c0 = 'u', c1 = 's';
    snprintf(d->ring_tone, sizeof d->ring_tone, "ringback:%c%c", c0, c1);
}

/* ---- the end --------------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
    sb_call_dial_t *d = h->data;
    sb_call_mgr_t *mgr = d->mgr;
    for (int i = 0; i < d->nbranches; i++) {
        if (d->branches[i]->branch_of == d)
            d->branches[i]->branch_of = NULL;
        sb_call_unref(d->branches[i]);
    }
    if (d->parent->dial == d)
        d->parent->dial = NULL;
    sb_call_unref(d->parent);
    free(d->sip_call_id);
    sb__call_pairs_free(d->hdrs, d->nhdrs);
    free(d->action_url);
    free(d->action_method);
    free(d->rec_url);
    free(d);
    sb__call_mgr_handle_closed(mgr);
}

static void send_result(sb_call_dial_t *d, sb_call_dial_done_cb cb)
{
    {
        sb_call_t *shown = d->winner ? d->winner : d->last;
        int64_t dur = 0, ring = -1;
        if (d->winner) {
            dur = (d->end_ms - d->answer_ms + 500) / 1000;
            ring = (d->answer_ms - d->start_ms + 500) / 1000;
        } else if (shown) {
            ring = (d->end_ms - d->start_ms + 500) / 1000;
        }
        sb_call_dial_result_t r = {
            .call_sid = shown ? shown->sid : NULL,
            .status = d->status,
            .duration = dur,
            .ring_duration = ring,
            .sip_call_id = d->sip_call_id,
            .sip_status = d->sip_status,
            .headers = d->hdrs,
            .header_count = d->nhdrs,
            .recording_url = d->rec_url,
        };
        cb(&r, d->arg);
    }
}

static void deliver(void *arg)
{
    sb_call_dial_t *d = arg;
    sb_call_dial_done_cb cb = d->cb;
    d->cb = NULL;
    if (cb)
        send_result(d, cb);
    /* A dial that returned at the answer has nobody waiting for its end:
     * the caller is done unless an application took it over. */
    sb_call_t *p = d->parent;
    if (d->returned && !p->over && p->session == NULL && p->dial == NULL &&
        p->peer == NULL && p->bridge_req == NULL)
        sb_call_hangup(p);
    uv_close((uv_handle_t *)&d->timer, on_timer_closed);
}

/* return_on_answer: the result at the answer, the dial going on. */
static void deliver_answer(void *arg)
{
    sb_call_dial_t *d = arg;
    sb_call_dial_done_cb cb = d->cb;
    d->cb = NULL;
    if (cb && !d->done) {
        const char *st = d->status;
        d->status = "answered";
        d->end_ms = sb__call_now_ms();
        send_result(d, cb);
        d->status = st;
    } else if (cb) {
        send_result(d, cb);     /* it ended before we could report */
    }
}

/* Unbridges the caller from b (media and the peer links). */
static void unbridge(sb_call_dial_t *d, sb_call_t *b)
{
    sb_call_t *p = d->parent;
    if (p->peer == b) {
        p->peer = NULL;
        if (p->ep && !p->over)
            sb_media_disconnect(p->ep, NULL, NULL);
    }
    if (b->peer == p)
        b->peer = NULL;
}

static void finish(sb_call_dial_t *d, const char *status)
{
    if (d->done)
        return;
    d->done = 1;
    d->status = status;
    d->end_ms = sb__call_now_ms();
    uv_timer_stop(&d->timer);
    ringback_stop(d);
    /* End every branch still up. */
    sb_call_status_t st = strcmp(status, "no-answer") == 0 ? SB_CALL_NO_ANSWER
                                                           : SB_CALL_CANCELED;
    for (int i = 0; i < d->nbranches; i++) {
        sb_call_t *b = d->branches[i];
        if (b->over || b->branch_of != d)
            continue;               /* over, or detached by a transfer */
        unbridge(d, b);
        b->branch_of = NULL;
        if (d->winner == NULL)
            d->last = b;
        sb__call_end(b, b->status == SB_CALL_IN_PROGRESS ? SB_CALL_COMPLETED : st);
    }
    if (d->parent->dial == d)
        d->parent->dial = NULL;
    sb_log_call(SB_LOG_DEBUG, d->parent->sid, "dial: %s", status);
    if (d->rec) {
        /* The result names the recording: wait until it is stored. */
        d->rec_wait = 1;
        sb__call_record_stop(d->rec);
        return;
    }
    sb__call_defer(d->mgr, deliver, d);
}

static void on_recorded(const sb_call_record_result_t *r, void *arg)
{
    sb_call_dial_t *d = arg;
    d->rec = NULL;
    if (r->sid == NULL) {
        free(d->rec_url);
        d->rec_url = NULL;
    }
    if (r->err && r->why)
        sb_log_call(SB_LOG_WARN, d->parent->sid, "dial: recording: %s", r->why);
    if (d->rec_wait) {
        d->rec_wait = 0;
        sb__call_defer(d->mgr, deliver, d);
    }
}

static void keep_result(sb_call_dial_t *d, sb_call_t *b, int sip_status,
                        const sb_sip_header_t *h, size_t n)
{
    if (sip_status)
        d->sip_status = sip_status;
    if (b->sip_call_id) {
        free(d->sip_call_id);
        d->sip_call_id = sb_xstrdup(b->sip_call_id);
    }
    if (n > 0) {
        sb__call_pairs_free(d->hdrs, d->nhdrs);
        d->hdrs = sb_xcalloc(n, sizeof *d->hdrs);
        for (size_t i = 0; i < n; i++) {
            d->hdrs[i].name = sb_xstrdup(h[i].name);
            d->hdrs[i].value = sb_xstrdup(h[i].value);
        }
        d->nhdrs = n;
    }
}

/* ---- branch events ------------------------------------------------------------ */

static void on_timer(uv_timer_t *t)
{
    sb_call_dial_t *d = t->data;
    if (d->done)
        return;
    if (d->winner) {
        sb_log_call(SB_LOG_INFO, d->parent->sid, "dial: time limit of %d s reached",
                    d->time_limit_s);
        sb__call_end(d->winner, SB_CALL_COMPLETED);   /* finishes the dial */
        return;
    }
    d->timed_out = 1;
    if (d->sip_status == 0 || d->sip_status < 300)
        d->sip_status = 487;
    finish(d, "no-answer");
}

static int set_remote(sb_call_t *b, const char *sdp, size_t len)
{
    sb_media_desc_t remote;
    if (sdp == NULL || b->ep == NULL)
        return SB_EINVAL;
    int rc = sb_media_sdp_parse(sdp, len, &remote);
    if (rc == 0)
        rc = sb_media_endpoint_set_remote(b->ep, &remote);
    return rc;
}

static void on_answered(sb_call_dial_t *d, sb_call_t *b, const sb_sip_leg_event_t *ev)
{
    if (d->done || d->winner) {
        sb__call_end(b, SB_CALL_CANCELED);
        return;
    }
    if (b->sip_call_id == NULL && ev->call_id && *ev->call_id)
        b->sip_call_id = sb_xstrdup(ev->call_id);
    if (set_remote(b, ev->sdp, ev->sdp_len) != 0) {
        sb_log_call(SB_LOG_INFO, b->sid, "dial: unusable SDP in the answer");
        keep_result(d, b, 488, NULL, 0);
        sb__call_end(b, SB_CALL_FAILED);
        return;
    }
    sb_call_t *p = d->parent;
    d->winner = b;
    d->answer_ms = sb__call_now_ms();
    d->sip_status = 200;
    keep_result(d, b, 200, NULL, 0);
    /* The others lose. */
    for (int i = 0; i < d->nbranches; i++) {
        sb_call_t *o = d->branches[i];
        if (o != b && !o->over)
            sb__call_end(o, SB_CALL_CANCELED);
    }
    sb__call_set_status(b, SB_CALL_IN_PROGRESS);
    if (p->status != SB_CALL_IN_PROGRESS) {
        int rc = sb__call_answer_now(p);
        if (rc != 0) {
            sb_log_call(SB_LOG_INFO, p->sid, "dial: cannot answer the caller: %s",
                        sb_strerror(rc));
            sb__call_end(b, SB_CALL_COMPLETED);
            return;
        }
    }
    ringback_stop(d);
    if (p->ep && b->ep)
        sb_media_connect(p->ep, b->ep, NULL, NULL);
    p->peer = b;
    b->peer = p;
    if (d->record && p->ep && b->ep) {
        d->rec = sb__call_record_bridge(p, b, d->record == 2, on_recorded, d);
        if (d->rec)
            d->rec_url = sb_call_recording_url(d->mgr, p->account_sid,
                                               sb__call_record_sid(d->rec));
    }
    free(p->outbound_sid);
    p->outbound_sid = sb_xstrdup(b->sid);
    uv_timer_stop(&d->timer);
    uv_timer_start(&d->timer, on_timer, (uint64_t)d->time_limit_s * 1000, 0);
    sb_log_call(SB_LOG_INFO, p->sid, "dial: %s answered; bridged", b->sid);
    if (d->return_on_answer && d->cb) {
        d->returned = 1;
        sb__call_defer(d->mgr, deliver_answer, d);
    }
}

static void on_progress(sb_call_dial_t *d, sb_call_t *b, const sb_sip_leg_event_t *ev)
{
    if (d->done)
        return;
    if (b->sip_call_id == NULL && ev->call_id && *ev->call_id)
        b->sip_call_id = sb_xstrdup(ev->call_id);
    if (b->status == SB_CALL_QUEUED)
        sb__call_set_status(b, SB_CALL_RINGING);
    sb_call_t *p = d->parent;
    if (p->over)
        return;
    if (p->status == SB_CALL_IN_PROGRESS) {
        /* An answered caller hears the branch's early media (a carrier's
         * announcement or ringback) instead of ours. */
        if (ev->sdp && d->early == NULL && d->winner == NULL && p->ep && b->ep &&
            set_remote(b, ev->sdp, ev->sdp_len) == 0) {
            d->early = b;
            ringback_stop(d);
            sb_media_connect(p->ep, b->ep, NULL, NULL);
        }
        return;
    }
    if (ev->sdp && d->early == NULL && !p->early_media && p->leg && p->local_sdp &&
        set_remote(b, ev->sdp, ev->sdp_len) == 0) {
        /* Early media: the caller hears what this branch plays. */
        d->early = b;
        p->early_media = 1;
        p->ringing_sent = 1;
        sb_sip_leg_respond(p->leg, 183, NULL, p->local_sdp, NULL, 0);
        if (p->ep && b->ep)
            sb_media_connect(p->ep, b->ep, NULL, NULL);
        return;
    }
    sb_call_ring(p);
}

static void on_failed(sb_call_dial_t *d, sb_call_t *b, const sb_sip_leg_event_t *ev)
{
    if (b->sip_call_id == NULL && ev->call_id && *ev->call_id)
        b->sip_call_id = sb_xstrdup(ev->call_id);
    keep_result(d, b, ev->status, ev->headers, ev->header_count);
    sb_call_status_t st;
    switch (ev->status) {
    case 486:
    case 600:
        st = SB_CALL_BUSY;
        d->any_busy = 1;
        break;
    case 408:
    case 480:
    case 487:
        st = SB_CALL_NO_ANSWER;
        d->any_no_answer = 1;
        break;
    default:
        st = SB_CALL_FAILED;
        break;
    }
    sb_log_call(SB_LOG_INFO, b->sid, "dial: %d %s", ev->status,
                ev->phrase ? ev->phrase : "");
    sb__call_end(b, st);
}

void sb__dial_on_branch(sb_call_t *b, const sb_sip_leg_event_t *ev)
{
    sb_call_dial_t *d = b->branch_of;
    switch (ev->type) {
    case SB_SIP_LEG_PROGRESS:
        on_progress(d, b, ev);
        break;
    case SB_SIP_LEG_ANSWERED:
        on_answered(d, b, ev);
        break;
    case SB_SIP_LEG_FAILED:
        on_failed(d, b, ev);
        break;
    case SB_SIP_LEG_ENDED:
        /* The dialled party hung up. */
        keep_result(d, b, 0, ev->headers, ev->header_count);
        sb__call_end(b, b->status == SB_CALL_IN_PROGRESS ? SB_CALL_COMPLETED
                                                         : SB_CALL_CANCELED);
        break;
    default:
        break;
    }
}

void sb__dial_branch_over(sb_call_t *b)
{
    sb_call_dial_t *d = b->branch_of;
    b->branch_of = NULL;
    d->live--;
    d->last = b;
    unbridge(d, b);
    if (d->early == b) {
        d->early = NULL;
        /* Its early media is gone: ours again while others ring. */
        if (!d->done && d->winner == NULL && d->live > 0)
            ringback_start(d);
    }
    if (d->done)
        return;
    if (b == d->winner) {
        finish(d, "completed");
        return;
    }
    if (d->winner == NULL && d->live == 0 && !d->starting) {
        const char *st = d->any_busy ? "busy"
                         : d->any_no_answer ? "no-answer" : "failed";
        finish(d, st);
    }
}

void sb__dial_detach(sb_call_dial_t *d, sb_call_t *b)
{
    if (b->branch_of != d)
        return;
    unbridge(d, b);
    b->branch_of = NULL;
    d->live--;
    if (d->winner == b)
        d->winner = NULL;
    if (d->early == b)
        d->early = NULL;
    sb_log_call(SB_LOG_DEBUG, d->parent->sid, "dial: %s taken out of the dial", b->sid);
}

sb_call_t *sb__dial_parent(const sb_call_dial_t *d) { return d->parent; }
sb_call_t *sb__dial_winner(const sb_call_dial_t *d) { return d->winner; }

void sb__dial_end(sb_call_dial_t *d)
{
    finish(d, "completed");
}

void sb__dial_parent_over(sb_call_dial_t *d)
{
    int bridged = d->winner != NULL && !d->done;
    finish(d, d->winner ? "completed" : "canceled");
    if (bridged && d->action_url)
        sb__call_dial_action(d->parent, d->action_url, d->action_method,
                             d->has_sip, d->winner->sid, d->status,
                             (d->end_ms - d->answer_ms + 500) / 1000,
                             (d->answer_ms - d->start_ms + 500) / 1000,
                             d->sip_call_id, d->sip_status, d->hdrs, d->nhdrs,
                             d->rec_url);
}

void sb__dial_on_dtmf(sb_call_dial_t *d, char digit)
{
    if (digit == '*' && d->hangup_on_star && d->winner && !d->done) {
        sb_log_call(SB_LOG_INFO, d->parent->sid, "dial: '*' pressed; ending the bridge");
        sb__call_end(d->winner, SB_CALL_COMPLETED);
    }
}

void sb_call_dial_cancel(sb_call_dial_t *d)
{
    if (d == NULL)
        return;
    d->cb = NULL;
    if (!d->done)
        finish(d, d->winner ? "completed" : "canceled");
}

/* ---- starting ----------------------------------------------------------------- */

/* One outgoing INVITE of the dial. Returns 0, or an error (the branch is
 * then not counted). */
static int start_branch(sb_call_dial_t *d, const sb_call_dial_target_t *t,
                        const char *opts_caller_id, const char *ruri,
                        const char *dest, const char *to_user, const char *to_uri)
{
    sb_call_mgr_t *mgr = d->mgr;
    sb_call_t *p = d->parent;
    if (d->nbranches >= SB_DIAL_MAX_BRANCHES)
        return SB_ELIMIT;
    if (p->max_forwards <= 1) {
        d->sip_status = 483;
        return SB_ELIMIT;
    }
    sb_call_t *b = sb__call_new(mgr, SB_CALL_OUTBOUND_DIAL);
    snprintf(b->parent_sid, sizeof b->parent_sid, "%s", p->sid);
    snprintf(b->account_sid, sizeof b->account_sid, "%s", p->account_sid);
    b->from = sb_xstrdup(opts_caller_id && *opts_caller_id ? opts_caller_id
                                                           : (p->from ? p->from : ""));
    b->to = sb_xstrdup(to_user);
    b->caller_name = sb_xstrdup(p->caller_name);
    b->max_forwards = p->max_forwards - 1;
    /* A Client answers as itself (it authenticated when it registered);
     * any other leg carries the trust of the call that dialled it. */
    b->trusted = t->kind == SB_DIAL_CLIENT || p->trusted;
    /* Its far end, as a transferor (transfer.c): a Client, or a peer we
     * trust (sip.trusted: the carrier behind the proxy). */
    b->far_trusted = t->kind == SB_DIAL_CLIENT || sb_sip_uri_trusted(mgr->sip, ruri);
    if (t->kind == SB_DIAL_CLIENT)
        b->client_login = sb_xstrdup(t->dest);
    if (t->status_callback && *t->status_callback) {
        b->sc_url = sb_xstrdup(t->status_callback);
        b->sc_method = sb_xstrdup(t->status_callback_method);
        b->sc_events = t->status_events;
    }
    b->branch_of = d;
    d->branches[d->nbranches++] = b;
    sb_call_ref(b);
    d->live++;

    sb_media_desc_t local;
    sb_buf_t sdp = SB_BUF_INIT;
    int rc = sb_media_endpoint_create(mgr->media, &b->ep);
    if (rc == 0) {
        sb_media_endpoint_set_data(b->ep, b);
        rc = sb_media_endpoint_offer(b->ep, &local);
    }
    if (rc == 0)
        rc = sb_media_sdp_write(&local, &sdp);
    if (rc == 0) {
        sb_sip_header_t hdr[SB__CALL_MAX_HEADERS];
        size_t nh = t->header_count < SB__CALL_MAX_HEADERS ? t->header_count
                                                            : SB__CALL_MAX_HEADERS;
        for (size_t i = 0; i < nh; i++) {
            hdr[i].name = t->headers[i].name;
            hdr[i].value = t->headers[i].value;
        }
        sb_sip_invite_req_t req = {
            .request_uri = ruri,
            .dest = dest,
            .from_user = b->from,
            .from_display = p->caller_name,
            .to_uri = to_uri,
            .sdp = sb_buf_str(&sdp),
            .headers = hdr,
            .header_count = nh,
            .max_forwards = b->max_forwards,
            .auth_user = t->username,
            .auth_password = t->password,
        };
        rc = sb_sip_leg_invite(mgr->sip, &req, sb__call_on_leg, b, &b->leg);
    }
    sb_buf_free(&sdp);
    sb__call_save(b);           /* queued */
    if (rc != 0) {
        sb_log_call(SB_LOG_INFO, p->sid, "dial: cannot call %s: %s", ruri,
                    sb_strerror(rc));
        if (d->sip_status == 0)
            d->sip_status = rc == SB_ELIMIT ? 503 : 400;
        sb__call_end(b, SB_CALL_FAILED);
        return rc;
    }
    sb_log_call(SB_LOG_INFO, p->sid, "dial: calling %s as %s", ruri, b->sid);
    sb__call_status_callback(b, SB_DIAL_EV_INITIATED);
    return 0;
}

/* The toll-fraud guard: a call that is not trusted (an anonymous caller,
 * or a transferee an anonymous transferor sent on) may not make this
 * server call out. The target fails at once, with a Notification. */
static void refuse_untrusted(sb_call_dial_t *d, const sb_call_dial_target_t *t)
{
    sb_call_t *p = d->parent;
    sb_log_call(SB_LOG_WARN, p->sid,
                "dial: %s refused: the call is not from an authenticated Client "
                "or a trusted peer (sip.trusted)", t->dest);
    sb_notify_message(d->mgr->store, p->account_sid, p->sid, SB_NOTIFY_WARNING, 21215,
                      "Dial to %s refused: only calls from authenticated Clients, "
                      "trusted peers (sip.trusted) or the REST API may dial numbers "
                      "and addresses outside this server", t->dest);
    if (d->sip_status == 0)
        d->sip_status = 403;
}

static void start_target(sb_call_dial_t *d, const sb_call_dial_opts_t *o,
                         const sb_call_dial_target_t *t)
{
    sb_call_mgr_t *mgr = d->mgr;
    char *ruri = NULL;
    switch (t->kind) {
    case SB_DIAL_NUMBER: {
        const char *proxy = mgr->cfg->sip_outbound_proxy;
        int here = 0;
        if (!d->parent->trusted) {
            /* Only a number of this server, reached without the proxy. */
            sb__route_t route;
            here = sb__route_lookup(mgr, t->dest, &route) == 0;
            if (here)
                sb__route_clear(&route);
            if (!here) {
                refuse_untrusted(d, t);
                break;
            }
        }
        int rc = sb_sip_uri_with_user(proxy && *proxy && !here ? proxy
                                                               : sb_sip_bound_uri(mgr->sip),
                                      t->dest, &ruri);
        if (rc == 0)
            start_branch(d, t, o->caller_id, ruri, NULL, t->dest, NULL);
        break;
    }
    case SB_DIAL_CLIENT: {
        sb_sip_contact_t *c = NULL;
        size_t n = 0;
        /* Only the Clients of the call's account or of an account above
         * it: another account's Client is as unknown as a missing one. */
        char owner[SB_SID_SIZE];
        if (!sb__call_client_account(mgr, t->dest, owner) ||
            sb_store_account_in_tree(mgr->store, owner, d->parent->account_sid) != 1) {
            sb_log_call(SB_LOG_INFO, d->parent->sid,
                        "dial: no Client %s in account %s or above it", t->dest,
                        d->parent->account_sid);
            if (d->sip_status == 0)
                d->sip_status = 404;
            break;
        }
        int rc = sb_sip_location_lookup(mgr->sip, t->dest, &c, &n);
        if (rc != 0 || n == 0) {
            sb_log_call(SB_LOG_INFO, d->parent->sid, "dial: client %s is not registered",
                        t->dest);
            if (d->sip_status == 0)
                d->sip_status = 404;
        }
        /* To is the Client's address of record, the Request-URI its
         * contact: a phone answers (and later REFERs) as the AOR. */
        char *aor = n > 0 ? sb_xasprintf("sip:%s@%s", t->dest, sb_sip_domain(mgr->sip))
                          : NULL;
        for (size_t i = 0; i < n; i++)
            start_branch(d, t, o->caller_id, c[i].uri, c[i].dest, t->dest, aor);
        free(aor);
        sb_sip_contacts_free(c, n);
        break;
    }
    case SB_DIAL_SIP: {
        if (!d->parent->trusted && !sb_sip_uri_is_local(mgr->sip, t->dest)) {
            refuse_untrusted(d, t);
            break;
        }
        /* To shows the user part of the URI (or the whole URI). */
        const char *u = t->dest;
        const char *colon = strchr(u, ':');
        const char *at = strchr(u, '@');
        char user[256] = "";
        if (colon && at && at > colon && (size_t)(at - colon - 1) < sizeof user) {
            memcpy(user, colon + 1, (size_t)(at - colon - 1));
            user[at - colon - 1] = '\0';
        }
        start_branch(d, t, o->caller_id, t->dest, NULL, user[0] ? user : t->dest, NULL);
        break;
    }
    }
    free(ruri);
}

int sb_call_dial(sb_call_t *call, const sb_call_dial_opts_t *opts,
                 sb_call_dial_done_cb cb, void *arg, sb_call_dial_t **out)
{
    if (call->over)
        return SB_EHANGUP;
    if (call->dial)
        return SB_EBUSY;
    if (opts == NULL || opts->target_count == 0 ||
        opts->target_count > SB_DIAL_MAX_TARGETS)
        return SB_EINVAL;
    for (size_t i = 0; i < opts->target_count; i++)
        if (opts->targets[i].dest == NULL || opts->targets[i].dest[0] == '\0')
            return SB_EINVAL;

    sb_call_mgr_t *mgr = call->mgr;
    sb_call_dial_t *d = SB_NEW(sb_call_dial_t);
    d->mgr = mgr;
    d->parent = call;
    sb_call_ref(call);
    d->cb = cb;
    d->arg = arg;
    d->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 30;
    d->time_limit_s = opts->time_limit_s > 0 ? opts->time_limit_s : 14400;
    d->hangup_on_star = opts->hangup_on_star;
    d->return_on_answer = opts->return_on_answer;
    if (opts->action_url && opts->action_url[0]) {
        d->action_url = sb_xstrdup(opts->action_url);
        d->action_method = sb_xstrdup(opts->action_method && opts->action_method[0]
                                          ? opts->action_method : "POST");
    }
    for (size_t i = 0; i < opts->target_count; i++)
        if (opts->targets[i].kind == SB_DIAL_SIP)
            d->has_sip = 1;
    set_ring_tone(d, opts->ring_tone);
    d->record = opts->record == 1 || opts->record == 2 ? opts->record : 0;
    d->start_ms = sb__call_now_ms();
    uv_timer_init(mgr->loop, &d->timer);
    d->timer.data = d;
    mgr->handles++;
    call->dial = d;

    d->starting = 1;
    for (size_t i = 0; i < opts->target_count; i++)
        start_target(d, opts, &opts->targets[i]);
    d->starting = 0;
    if (d->live == 0) {
        finish(d, d->any_busy ? "busy" : "failed");
    } else {
        uv_timer_start(&d->timer, on_timer, (uint64_t)d->timeout_s * 1000, 0);
        ringback_start(d);
    }
    *out = d;
    return 0;
}
