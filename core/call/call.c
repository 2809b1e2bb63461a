/*
 * call.c: one call's life: creation, status changes and the call record
 * written at each, answer, reject, hangup, the SIP leg events common to
 * every call (the peer's BYE, re-INVITEs for hold, ACK of a late offer),
 * and the end, which releases everything the call holds in one place
 * (sb__call_set_status with a final status).
 *
 * Routing of incoming calls is in inbound.c, Dial and bridging in dial.c.
 */
#include "call_int.h"
#include "rcml.h"

#include <stddef.h>
#include <string.h>
#include <strings.h>

static const char *const status_names[] = {
    "queued", "ringing", "in-progress", "completed", "busy", "failed",
    "no-answer", "canceled",
};

const char *sb_call_status_name(sb_call_status_t s)
{
    return (unsigned)s < SB_COUNTOF(status_names) ? status_names[s] : "failed";
}

const char *sb_call_dir_name(sb_call_dir_t d)
{
    switch (d) {
    case SB_CALL_INBOUND: return "inbound";
    case SB_CALL_OUTBOUND_DIAL: return "outbound-dial";
    case SB_CALL_OUTBOUND_API: return "outbound-api";
    }
    return "inbound";
}

sb_call_pair_t *sb__call_pairs_dup(const sb_call_pair_t *p, size_t n)
{
    if (n == 0)
        return NULL;
    sb_call_pair_t *out = sb_xcalloc(n, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        out[i].name = sb_xstrdup(p[i].name ? p[i].name : "");
        out[i].value = sb_xstrdup(p[i].value ? p[i].value : "");
    }
    return out;
}

void sb__call_pairs_free(sb_call_pair_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)p[i].name);
        free((char *)p[i].value);
    }
    free(p);
}

/* ---- references ------------------------------------------------------------- */

void sb_call_ref(sb_call_t *call)
{
    call->refs++;
}

static void call_free(sb_call_t *call)
{
    sb_assert(call->leg == NULL && call->ep == NULL && !call->listed &&
              call->plays == NULL);
    free(call->from);
    free(call->to);
    free(call->caller_name);
    free(call->forwarded_from);
    free(call->client_login);
    free(call->sip_call_id);
    free(call->local_sdp);
    free(call->outbound_sid);
    free(call->sc_url);
    free(call->sc_method);
    free(call->refer_target);
    free(call->transferor);
    free(call->transferee);
    sb__call_pairs_free(call->headers, call->header_count);
    free(call);
}

void sb_call_unref(sb_call_t *call)
{
    sb_assert(call->refs > 0);
    if (--call->refs == 0)
        call_free(call);
}

sb_call_t *sb__call_new(sb_call_mgr_t *mgr, sb_call_dir_t dir)
{
    sb_call_t *call = SB_NEW(sb_call_t);
    call->refs = 1;                 /* the live list's */
    call->mgr = mgr;
    call->dir = dir;
    call->status = SB_CALL_QUEUED;
    call->start_ms = sb__call_now_ms();
    sb_time_iso8601_ms(call->start_ms, call->timestamp);
    sb_sid_new_call(mgr->instance_id, call->sid);
    call->max_forwards = 70;
    /* What this server dials was asked for by a trusted party (see
     * trusted in call_int.h); an inbound call earns it (inbound.c). */
    call->trusted = dir != SB_CALL_INBOUND;
    sb__call_list(mgr, call);
    return call;
}

/* ---- accessors ----------------------------------------------------------------- */

const char *sb_call_sid(const sb_call_t *call) { return call->sid; }
const char *sb_call_account(const sb_call_t *call) { return call->account_sid; }
sb_call_status_t sb_call_status(const sb_call_t *call) { return call->status; }
int sb_call_alive(const sb_call_t *call) { return !call->over; }

void sb_call_info(const sb_call_t *call, sb_call_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->call_sid = call->sid;
    out->instance_id = call->mgr->instance_id;
    out->outbound_call_sid = call->outbound_sid;
    out->account_sid = call->account_sid;
    out->from = call->from ? call->from : "";
    out->to = call->to ? call->to : "";
    out->status = sb_call_status_name(call->status);
    out->direction = sb_call_dir_name(call->dir);
    out->caller_name = call->caller_name;
    out->forwarded_from = call->forwarded_from;
    out->timestamp = call->timestamp;
    out->refer_target = call->refer_target;
    out->transferor = call->transferor;
    out->transferee = call->transferee;
    out->headers = call->headers;
    out->header_count = call->header_count;
}

/* sb_call_pair_t and sb_rcml_header_t are both a name and a value. */
_Static_assert(sizeof(sb_call_pair_t) == sizeof(sb_rcml_header_t) &&
                   offsetof(sb_call_pair_t, value) ==
                       offsetof(sb_rcml_header_t, value),
               "header layouts differ");

void sb_call_rcml_info(const sb_call_t *call, sb_rcml_call_info_t *ci)
{
    sb_call_info_t i;
    sb_call_info(call, &i);
    memset(ci, 0, sizeof *ci);
    ci->call_sid = i.call_sid;
    ci->instance_id = i.instance_id;
    ci->outbound_call_sid = i.outbound_call_sid;
    ci->account_sid = i.account_sid;
    ci->from = i.from;
    ci->to = i.to;
    ci->call_status = i.status;
    ci->direction = i.direction;
    ci->caller_name = i.caller_name;
    ci->forwarded_from = i.forwarded_from;
    ci->call_timestamp = i.timestamp;
    ci->refer_target = i.refer_target;
    ci->transferor = i.transferor;
    ci->transferee = i.transferee;
    ci->headers = (const sb_rcml_header_t *)i.headers;
    ci->header_count = i.header_count;
}

/* ---- the record ----------------------------------------------------------------- */

static void on_cdr_timer(uv_timer_t *t)
{
    sb__call_cdr_flush(t->data);
}

void sb__call_save(sb_call_t *call)
{
    int64_t now = sb__call_now_ms();
    int64_t end = call->over ? call->end_ms : 0;
    int64_t duration = -1, ring = -1;
    if (call->answer_ms > 0) {
        ring = (call->answer_ms - call->start_ms + 500) / 1000;
        duration = end ? (end - call->answer_ms + 500) / 1000 : 0;
    } else if (end) {
        ring = (end - call->start_ms + 500) / 1000;
        duration = 0;
    }
    sb_cdr_t c = {
        .sid = call->sid,
        .parent_call_sid = call->parent_sid,
        .account_sid = call->account_sid,
        .instance_id = call->mgr->instance_id,
        .phone_number_sid = call->phone_number_sid,
        .from = call->from,
        .to = call->to,
        .caller_name = call->caller_name,
        .forwarded_from = call->forwarded_from,
        .status = sb_call_status_name(call->status),
        .direction = sb_call_dir_name(call->dir),
        .sip_call_id = call->sip_call_id,
        .start_time = call->start_ms / 1000,
        .end_time = end ? end / 1000 : -1,
        .duration = duration,
        .ring_duration = ring,
        .date_created = call->start_ms / 1000,
        .date_updated = now / 1000,
        .has_quality = call->has_quality,
        .codec = call->codec,
        .rtp_received = call->q_received,
        .rtp_sent = call->q_sent,
        .rtp_lost = call->q_lost,
        .jitter_us = call->q_jitter_us,
        .mos_x100 = call->q_mos_x100,
    };
    sb_call_mgr_t *mgr = call->mgr;
    if (!mgr->cdr_batch && !uv_is_closing((uv_handle_t *)&mgr->cdr_timer) &&
        sb_store_batch_begin(mgr->store) == 0) {
        mgr->cdr_batch = 1;
        int64_t wait = mgr->cdr_commit_ms + SB__CALL_CDR_COMMIT_MS - now;
        uv_timer_start(&mgr->cdr_timer, on_cdr_timer,
                       wait > 0 && wait <= SB__CALL_CDR_COMMIT_MS ? (uint64_t)wait : 0, 0);
    }
    sb_store_cdr_put(mgr->store, &c);
    sb__call_dialog_sync(call);     /* recover.c */
}

void sb_call_mgr_flush(sb_call_mgr_t *mgr)
{
    sb__call_cdr_flush(mgr);
}

void sb__call_cdr_flush(sb_call_mgr_t *mgr)
{
    if (!mgr->cdr_batch)
        return;
    mgr->cdr_batch = 0;
    uv_timer_stop(&mgr->cdr_timer);
    mgr->cdr_commit_ms = sb__call_now_ms();
    sb_store_batch_end(mgr->store);
}

/* ---- the end ------------------------------------------------------------------ */

static void on_ep_destroyed(sb_media_endpoint_t *ep, int status, void *arg)
{
    (void)ep;
    (void)status;
    (void)arg;
}

static void req_complete(void *arg)
{
    sb_call_req_t *r = arg;
    sb_call_t *call = r->call;
    /* Unlink, then call back. */
    for (sb_call_req_t **p = &call->reqs; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    sb_call_done_cb cb = r->cb;
    void *cbarg = r->arg;
    int err = r->err;
    free(r);
    if (cb)
        cb(err, cbarg);
    sb_call_unref(call);
}

static void reqs_finish(sb_call_t *call, int err)
{
    for (sb_call_req_t *r = call->reqs; r; r = r->next) {
        if (!r->queued) {
            r->err = err;
            r->queued = 1;
            sb__call_defer(call->mgr, req_complete, r);
        }
    }
}

/* The leg's media quality as it ends (call records, issue 22). */
static void take_quality(sb_call_t *call)
{
    sb_call_quality_t q;
    if (sb_call_quality(call, &q) != 0 || q.received + q.sent == 0)
        return;
    call->has_quality = 1;
    snprintf(call->codec, sizeof call->codec, "%s", q.codec);
    call->q_received = (int64_t)q.received;
    call->q_sent = (int64_t)q.sent;
    call->q_lost = (int64_t)q.lost;
    call->q_jitter_us = (int64_t)(q.jitter_ms * 1000.0 + 0.5);
    call->q_mos_x100 = (int64_t)(q.mos * 100.0 + 0.5);
}

int sb_call_quality(const sb_call_t *call, sb_call_quality_t *out)
{
    memset(out, 0, sizeof *out);
    if (call->ep == NULL)
        return SB_ESTATE;
    sb_media_stats_t ms;
    sb_media_endpoint_stats(call->ep, &ms);
    out->codec = ms.codec == SB_MEDIA_PCMA ? "PCMA" : ms.codec == SB_MEDIA_PCMU ? "PCMU" : "";
    out->received = ms.rx_packets;
    out->sent = ms.tx_packets;
    out->lost = ms.rx_lost;
    out->jitter_ms = ms.jitter_ms;
    uint64_t expected = ms.rx_packets + ms.rx_lost;
    out->loss_pct = expected ? 100.0 * (double)ms.rx_lost / (double)expected : 0.0;
    if (ms.rx_packets == 0 && ms.tx_packets > 0) {
        /* We sent, the phone never did: one-way audio, the worst score
         * (G.107's floor), not the perfect one no loss would give. */
        out->r = 0.0;
        out->mos = 1.0;
    } else {
        sb_media_quality(out->loss_pct, out->jitter_ms, &out->r, &out->mos);
    }
    return 0;
}

static void call_over(sb_call_t *call)
{
    sb_call_mgr_t *mgr = call->mgr;
    call->over = 1;
    call->end_ms = sb__call_now_ms();
    sb_call_ref(call);          /* until the end of this function */

    if (call->orig)
        sb__call_orig_over(call);
    if (call->leg) {
        sb_sip_leg_t *leg = call->leg;
        call->leg = NULL;
        sb_sip_leg_release(leg);
    }
    if (call->bridge_req)
        sb__call_bridge_over(call);
    if (call->peer) {
        call->peer->peer = NULL;
        call->peer = NULL;
    }
    sb__call_gather_over(call);
    sb__call_conference_over(call);
    sb__call_plays_over(call);
    if (call->ep && call->answer_ms > 0)
        take_quality(call);
    if (call->ep) {
        sb_media_endpoint_t *ep = call->ep;
        call->ep = NULL;
        sb_media_endpoint_set_data(ep, NULL);
        sb_media_endpoint_destroy(ep, on_ep_destroyed, NULL);
    }
    reqs_finish(call, SB_EHANGUP);
    if (call->dial) {
        sb_call_dial_t *d = call->dial;
        call->dial = NULL;
        sb__dial_parent_over(d);
    }
    if (call->branch_of)
        sb__dial_branch_over(call);
    sb__call_save(call);
    sb__call_status_callback(call, SB_DIAL_EV_COMPLETED);
    sb_log_call(SB_LOG_INFO, call->sid, "call: %s %s -> %s ended %s",
                sb_call_dir_name(call->dir), call->from ? call->from : "",
                call->to ? call->to : "", sb_call_status_name(call->status));

    if (call->session && mgr->runner) {
        void *s = call->session;
        /* The session keeps running to its end; it learns the call is over
         * from what it waits for. */
        mgr->runner->cancel(mgr->runner_arg, s, SB_EHANGUP);
    }
    if (mgr->runner)
        mgr->runner->dead(mgr->runner_arg, call);
    if (call->listed) {
        sb__call_unlist(mgr, call);
        sb_call_unref(call);    /* the list's reference */
    }
    sb_call_unref(call);
}

void sb__call_set_status(sb_call_t *call, sb_call_status_t status)
{
    if (call->over || call->status == status)
        return;
    call->status = status;
    if (status >= SB_CALL_COMPLETED) {
        call_over(call);
        return;
    }
    if (status == SB_CALL_IN_PROGRESS && call->answer_ms == 0)
        call->answer_ms = sb__call_now_ms();
    sb__call_save(call);
    if (status == SB_CALL_RINGING)
        sb__call_status_callback(call, SB_DIAL_EV_RINGING);
    else if (status == SB_CALL_IN_PROGRESS)
        sb__call_status_callback(call, SB_DIAL_EV_ANSWERED);
    if (status == SB_CALL_IN_PROGRESS && call->plays)
        sb__call_plays_ready(call);
}

void sb__call_end(sb_call_t *call, sb_call_status_t status)
{
    if (call->over)
        return;
    if (status < SB_CALL_COMPLETED)
        status = SB_CALL_COMPLETED;
    sb__call_set_status(call, status);
}

/* ---- requests from the application ------------------------------------------- */

int sb__call_answer_now(sb_call_t *call)
{
    if (call->over)
        return SB_EHANGUP;
    if (call->status == SB_CALL_IN_PROGRESS)
        return 0;
    if (call->dir != SB_CALL_INBOUND || call->leg == NULL || call->local_sdp == NULL)
        return SB_ESTATE;
    int rc = sb_sip_leg_respond(call->leg, 200, NULL, call->local_sdp, NULL, 0);
    if (rc != 0)
        return rc;
    sb__call_set_status(call, SB_CALL_IN_PROGRESS);
    return 0;
}

int sb_call_answer(sb_call_t *call, sb_call_done_cb cb, void *arg,
                   sb_call_req_t **req)
{
    if (call->over)
        return SB_EHANGUP;
    int rc = sb__call_answer_now(call);
    if (rc != 0)
        return rc;
    sb_call_req_t *r = SB_NEW(sb_call_req_t);
    r->call = call;
    r->cb = cb;
    r->arg = arg;
    r->next = call->reqs;
    call->reqs = r;
    sb_call_ref(call);
    r->err = 0;
    r->queued = 1;
    sb__call_defer(call->mgr, req_complete, r);
    if (req)
        *req = r;
    return 0;
}

void sb_call_req_cancel(sb_call_req_t *req)
{
    if (req == NULL)
        return;
    if (req->cancel_fn) {
        req->cancel_fn(req);
        return;
    }
    /* The deferred completion still runs (to unlink and free); it must
     * not call back. */
    req->cb = NULL;
    if (!req->queued) {
        req->queued = 1;
        sb__call_defer(req->call->mgr, req_complete, req);
    }
}

int sb_call_hangup(sb_call_t *call)
{
    if (call->over)
        return SB_EHANGUP;
    sb_call_status_t st = SB_CALL_COMPLETED;
    if (call->status != SB_CALL_IN_PROGRESS && call->dir != SB_CALL_INBOUND)
        st = SB_CALL_CANCELED;
    if (call->leg && call->status != SB_CALL_IN_PROGRESS && call->dir == SB_CALL_INBOUND)
        sb_sip_leg_end(call->leg, 480);
    sb__call_end(call, st);
    return 0;
}

int sb_call_reject(sb_call_t *call, int sip_status)
{
    if (call->over)
        return SB_EHANGUP;
    if (call->dir != SB_CALL_INBOUND || call->status == SB_CALL_IN_PROGRESS ||
        call->leg == NULL)
        return SB_ESTATE;
    if (sip_status < 300 || sip_status > 699)
        sip_status = 603;
    sb_sip_leg_respond(call->leg, sip_status, NULL, NULL, NULL, 0);
    sb__call_end(call, sip_status == 486 || sip_status == 600 ? SB_CALL_BUSY
                                                              : SB_CALL_FAILED);
    return 0;
}

int sb_call_ring(sb_call_t *call)
{
    if (call->over || call->dir != SB_CALL_INBOUND || call->leg == NULL ||
        call->status == SB_CALL_IN_PROGRESS || call->ringing_sent)
        return 0;
    call->ringing_sent = 1;
    sb_sip_leg_respond(call->leg, 180, NULL, NULL, NULL, 0);
    return 0;
}

void sb_call_app_attach(sb_call_t *call, void *session)
{
    call->session = session;
}

void sb_call_app_detach(sb_call_t *call, void *session)
{
    if (call->session == session)
        call->session = NULL;
}

void sb_call_app_done(sb_call_t *call, void *session, int status)
{
    if (call->session != session)
        return;
    call->session = NULL;
    if (!call->over && status != 0) {
        sb_log_call(SB_LOG_WARN, call->sid,
                    "call: application ended with %s; hanging up",
                    sb_err_name(status));
        sb_call_hangup(call);
    } else if (!call->over && call->dial == NULL && call->peer == NULL &&
               call->status != SB_CALL_IN_PROGRESS) {
        /* An application that ended without answering or rejecting. */
        sb_call_hangup(call);
    }
}

/* ---- SIP leg events ---------------------------------------------------------- */

static void on_offer(sb_call_t *call, const sb_sip_leg_event_t *ev)
{
    if (call->ep == NULL) {
        *ev->reply = 488;
        return;
    }
    sb_media_desc_t remote, local;
    int rc;
    if (ev->sdp) {
        rc = sb_media_sdp_parse(ev->sdp, ev->sdp_len, &remote);
        if (rc == 0)
            rc = sb_media_endpoint_answer(call->ep, &remote, &local);
    } else {
        rc = sb_media_endpoint_offer(call->ep, &local);
    }
    if (rc != 0) {
        *ev->reply = 488;
        return;
    }
    if (sb_media_sdp_write(&local, ev->answer) != 0) {
        *ev->reply = 500;
        return;
    }
    *ev->reply = 200;
    sb_log_call(SB_LOG_DEBUG, call->sid, "call: re-INVITE answered (%s)",
                ev->sdp ? sb_media_dir_name(remote.dir) : "offer");
}

static void on_confirmed(sb_call_t *call, const sb_sip_leg_event_t *ev)
{
    if (ev->sdp && call->ep) {
        sb_media_desc_t remote;
        if (sb_media_sdp_parse(ev->sdp, ev->sdp_len, &remote) != 0 ||
            sb_media_endpoint_set_remote(call->ep, &remote) != 0) {
            sb_log_call(SB_LOG_INFO, call->sid, "call: unusable SDP in ACK");
            sb_call_hangup(call);
            return;
        }
    }
    if (!call->acked && call->dir == SB_CALL_INBOUND) {
        /* Our 200 is confirmed: sound sent from now on is heard. */
        call->acked = 1;
        if (call->plays)
            sb__call_plays_ready(call);
    }
}

void sb__call_on_leg(sb_sip_leg_t *leg, const sb_sip_leg_event_t *ev, void *arg)
{
    sb_call_t *call = arg;
    (void)leg;
    if (call->over)
        return;
    sb_call_ref(call);
    switch (ev->type) {
    case SB_SIP_LEG_OFFER:
        on_offer(call, ev);
        break;
    case SB_SIP_LEG_CONFIRMED:
        sb__call_dialog_sync(call);     /* established: recover.c */
        on_confirmed(call, ev);
        break;
    case SB_SIP_LEG_REFER:
        sb__call_on_refer(call, ev);
        break;
    default:
        if (call->branch_of) {
            sb__dial_on_branch(call, ev);
        } else if (ev->type == SB_SIP_LEG_ENDED) {
            sb_log_call(SB_LOG_DEBUG, call->sid, "call: ended by the peer (%d)",
                        ev->status);
            if (call->status == SB_CALL_IN_PROGRESS)
                sb__call_end(call, SB_CALL_COMPLETED);
            else
                sb__call_end(call, SB_CALL_CANCELED);
        }
        break;
    }
    sb_call_unref(call);
}
