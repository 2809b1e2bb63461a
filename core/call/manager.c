/*
 * manager.c: the call manager: creation (it takes the SIP agent's INVITE
 * handler), the list of live calls, the deferred-callback queue that
 * keeps completions out of their requests' call stacks, statistics for
 * the Supervisor resource, and the ordered close.
 *
 * Routing of new INVITEs is in inbound.c, the call life cycle in call.c,
 * Dial in dial.c.
 */
#include "call_int.h"

#include <string.h>
#include <sys/time.h>

int64_t sb__call_now_ms(void)
{
    return sb_time_now_ms();
}

/* ---- deferred callbacks --------------------------------------------------- */

static void on_defer_timer(uv_timer_t *t)
{
    sb_call_mgr_t *mgr = t->data;
    /* Run what is queued now; what these queue runs on the next turn. */
    sb__call_deferred_t *d = mgr->defer_head;
    mgr->defer_head = mgr->defer_tail = NULL;
    while (d) {
        sb__call_deferred_t *next = d->next;
        if (d->fn)
            d->fn(d->arg);
        free(d);
        d = next;
    }
    if (mgr->defer_head)
        uv_timer_start(&mgr->defer_timer, on_defer_timer, 0, 0);
}

sb__call_deferred_t *sb__call_defer(sb_call_mgr_t *mgr, void (*fn)(void *),
                                    void *arg)
{
    if (mgr->defer_closed) {
        /* After the close: nothing can wait any more; run it now. */
        fn(arg);
        return NULL;
    }
    sb__call_deferred_t *d = SB_NEW(sb__call_deferred_t);
    d->fn = fn;
    d->arg = arg;
    if (mgr->defer_tail)
        mgr->defer_tail->next = d;
    else
        mgr->defer_head = d;
    mgr->defer_tail = d;
    if (!uv_is_active((uv_handle_t *)&mgr->defer_timer))
        uv_timer_start(&mgr->defer_timer, on_defer_timer, 0, 0);
    return d;
}

/* ---- the live list ----------------------------------------------------------- */

sb_call_t *sb__call_by_sip_call_id(sb_call_mgr_t *mgr, const char *call_id)
{
    for (sb_call_t *c = mgr->calls; c; c = c->next)
        if (c->dir != SB_CALL_INBOUND && c->leg && !c->over) {
            const char *id = sb_sip_leg_call_id(c->leg);
            if (id && strcmp(id, call_id) == 0)
                return c;
        }
    return NULL;
}

void sb__call_list(sb_call_mgr_t *mgr, sb_call_t *call)
{
    call->next = mgr->calls;
    call->prev = NULL;
    if (mgr->calls)
        mgr->calls->prev = call;
    mgr->calls = call;
    call->listed = 1;

    sb_call_stats_t *s = &mgr->stats;
    s->live++;
    s->total++;
    if (call->dir == SB_CALL_INBOUND) {
        s->live_incoming++;
        s->total_incoming++;
    } else {
        s->live_outgoing++;
        s->total_outgoing++;
    }
    if (s->live > s->max_concurrent)
        s->max_concurrent = s->live;
    if (s->live_incoming > s->max_concurrent_incoming)
        s->max_concurrent_incoming = s->live_incoming;
    if (s->live_outgoing > s->max_concurrent_outgoing)
        s->max_concurrent_outgoing = s->live_outgoing;
}

void sb__call_unlist(sb_call_mgr_t *mgr, sb_call_t *call)
{
    if (!call->listed)
        return;
    if (call->prev)
        call->prev->next = call->next;
    else
        mgr->calls = call->next;
    if (call->next)
        call->next->prev = call->prev;
    call->prev = call->next = NULL;
    call->listed = 0;

    sb_call_stats_t *s = &mgr->stats;
    s->live--;
    if (call->dir == SB_CALL_INBOUND)
        s->live_incoming--;
    else
        s->live_outgoing--;
    if (call->status == SB_CALL_COMPLETED)
        s->completed++;
    else
        s->failed++;
    if ((unsigned)call->status < SB_COUNTOF(s->ended))
        s->ended[call->status][call->dir == SB_CALL_INBOUND ? 0
                               : call->dir == SB_CALL_OUTBOUND_DIAL ? 1 : 2]++;
}

/* ---- life cycle --------------------------------------------------------------- */

int sb_call_mgr_new(const sb_call_deps_t *deps, sb_call_mgr_t **out)
{
    if (deps == NULL || deps->loop == NULL || deps->cfg == NULL ||
        deps->store == NULL || deps->sip == NULL || deps->media == NULL)
        return SB_EINVAL;
    sb_call_mgr_t *mgr = SB_NEW(sb_call_mgr_t);
    mgr->loop = deps->loop;
    mgr->cfg = deps->cfg;
    mgr->store = deps->store;
    mgr->sip = deps->sip;
    mgr->media = deps->media;
    mgr->http = deps->http;
    mgr->cache = deps->cache;
    mgr->tts = deps->tts;
    mgr->asr = deps->asr;
    mgr->instance_id = sb_store_instance_id(deps->store);
    int rc = sb_call_numbers_new(deps->store, &mgr->numbers);
    if (rc != 0) {
        free(mgr);
        return rc;
    }
    uv_timer_init(mgr->loop, &mgr->defer_timer);
    mgr->defer_timer.data = mgr;
    uv_timer_init(mgr->loop, &mgr->cdr_timer);
    mgr->cdr_timer.data = mgr;
    mgr->handles = 2;
    sb__call_admit_start(mgr);
    mgr->handles++;

    /* The calls the last run left live (issue 23, recover.c). */
    sb__call_recover_start(mgr);
    mgr->handles++;
    sb_sip_set_invite_handler(mgr->sip, sb__call_on_invite, mgr);
    *out = mgr;
    return 0;
}

static void mgr_maybe_free(sb_call_mgr_t *mgr)
{
    if (mgr->handles > 0)
        return;
    void (*cb)(void *) = mgr->close_cb;
    void *arg = mgr->close_arg;
    sb_call_numbers_free(mgr->numbers);
    free(mgr);
    if (cb)
        cb(arg);
}

void sb__call_mgr_handle_closed(sb_call_mgr_t *mgr)
{
    mgr->handles--;
    if (mgr->closing && mgr->defer_closed)
        mgr_maybe_free(mgr);
}

static void on_defer_closed(uv_handle_t *h)
{
    sb_call_mgr_t *mgr = h->data;
    mgr->defer_closed = 1;
    sb__call_mgr_handle_closed(mgr);
}

static void on_timer_closed(uv_handle_t *h)
{
    sb__call_mgr_handle_closed(h->data);
}

/* Runs once the hang-ups have run their deferred completions. */
static void close_finish(void *arg)
{
    sb_call_mgr_t *mgr = arg;
    if (mgr->defer_head) {
        /* More completions were queued: let them run first. */
        sb__call_defer(mgr, close_finish, mgr);
        return;
    }
    sb__call_cdr_flush(mgr);
    uv_close((uv_handle_t *)&mgr->cdr_timer, on_timer_closed);
    uv_close((uv_handle_t *)&mgr->load_timer, on_timer_closed);
    uv_close((uv_handle_t *)&mgr->alive_timer, on_timer_closed);
    uv_close((uv_handle_t *)&mgr->defer_timer, on_defer_closed);
}

void sb_call_mgr_close(sb_call_mgr_t *mgr, void (*cb)(void *arg), void *arg)
{
    if (mgr->closing)
        return;
    mgr->closing = 1;
    mgr->close_cb = cb;
    mgr->close_arg = arg;
    sb_sip_set_invite_handler(mgr->sip, NULL, NULL);
    /* Dialled legs first (their parents end them anyway), then the rest. */
    while (mgr->calls) {
        sb_call_t *c = mgr->calls;
        sb_call_ref(c);
        sb__call_end(c, c->status == SB_CALL_IN_PROGRESS ? SB_CALL_COMPLETED
                                                         : SB_CALL_FAILED);
        if (c->listed)          /* cannot happen; never loop forever */
            sb__call_unlist(mgr, c);
        sb_call_unref(c);
    }
    sb__call_conferences_close(mgr);
    sb__call_defer(mgr, close_finish, mgr);
}

void sb_call_mgr_set_runner(sb_call_mgr_t *mgr, const sb_call_runner_t *r,
                            void *arg)
{
    mgr->runner = r;
    mgr->runner_arg = arg;
}

void sb_call_mgr_stats(const sb_call_mgr_t *mgr, sb_call_stats_t *out)
{
    *out = mgr->stats;
    out->media_endpoints = sb_media_engine_endpoints(mgr->media);
}

void sb_call_mgr_each(sb_call_mgr_t *mgr,
                      int (*each)(sb_call_t *call, void *arg), void *arg)
{
    for (sb_call_t *c = mgr->calls; c; c = c->next)
        if (each(c, arg))
            break;
}

sb_call_t *sb_call_mgr_find(sb_call_mgr_t *mgr, const char *sid)
{
    for (sb_call_t *c = mgr->calls; c; c = c->next)
        if (strcmp(c->sid, sid) == 0)
            return c;
    return NULL;
}

/* ---- media events ------------------------------------------------------------- */

void sb_call_on_media_dtmf(sb_media_endpoint_t *ep, char digit, int duration_ms,
                           sb_call_mgr_t *mgr)
{
    (void)duration_ms;
    (void)mgr;
    sb_call_t *call = sb_media_endpoint_data(ep);
    if (call == NULL || call->over)
        return;
    sb_log_call(SB_LOG_DEBUG, call->sid, "call: DTMF %c", digit);
    if (call->dial)
        sb__dial_on_dtmf(call->dial, digit);
    if (call->gather)
        sb__call_gather_digit(call, digit);
    if (call->record)
        sb__call_record_digit(call, digit);
}

void sb_call_on_media_dtmf_begin(sb_media_endpoint_t *ep, char digit,
                                 sb_call_mgr_t *mgr)
{
    (void)mgr;
    (void)digit;
    sb_call_t *call = sb_media_endpoint_data(ep);
    if (call && !call->over && call->gather)
        sb__call_gather_begin(call);
}

void sb_call_on_media_timeout(sb_media_endpoint_t *ep, sb_call_mgr_t *mgr)
{
    (void)mgr;
    sb_call_t *call = sb_media_endpoint_data(ep);
    if (call == NULL || call->over || call->status != SB_CALL_IN_PROGRESS)
        return;
    sb_log_call(SB_LOG_INFO, call->sid, "call: no RTP for %d s, hanging up",
                call->mgr->cfg->media_timeout_s);
    sb_call_hangup(call);
}
