/*
 * recover.c: calls that outlive the process (issue 23). While calls are
 * up, the manager notes every SB__CALL_ALIVE_MS when it was last known
 * alive (meta calls_alive_at), and each leg's established SIP dialog is
 * kept in the store (call_dialogs) until the leg ends. When a run dies
 * with calls up (kill -9, a crash, power), the next start:
 *   - closes the records left live with end_reason 'interrupted': a call
 *     in progress becomes completed with its talk time up to the last
 *     moment known alive, an unanswered one failed (no-answer for an
 *     outbound leg);
 *   - sends a BYE in every stored dialog, SB__CALL_BYE_BATCH per loop
 *     turn so that thousands of them never hold the loop, so far ends
 *     and carriers stop billing.
 * One summary line at info, one line per call at debug.
 *
 * Left out: CANCEL for outbound legs still ringing and final answers to
 * inbound ones (their transactions died with the process; see
 * core/sip/dialog.c).
 */
#include "call_int.h"

#include <stdlib.h>
#include <string.h>

#define SB__CALL_ALIVE_MS 2000
#define SB__CALL_BYE_BATCH 64
#define ALIVE_KEY "calls_alive_at"

/* One stored dialog, copied out of the store. Owner: its recover_t. */
typedef struct {
    char *call_sid, *call_id, *local, *remote, *target, *route, *dest;
    int outgoing;
    int64_t cseq;
} dlg_copy_t;

/* Owner: itself, from sb__call_recover_start until the last batch. */
typedef struct {
    sb_call_mgr_t *mgr;
    dlg_copy_t *d;
    size_t n, cap, next;
    int64_t sent, failed;
} recover_t;

static char *dup_or_null(const char *s)
{
    return s ? sb_xstrdup(s) : NULL;
}

static void on_live(const char *sid, const char *status, const char *direction,
                    void *arg)
{
    (void)arg;
    sb_log_call(SB_LOG_DEBUG, sid, "call: left %s (%s) by the last run: interrupted",
                status ? status : "?", direction ? direction : "?");
}

static void on_dialog(const sb_store_dialog_t *d, void *arg)
{
    recover_t *r = arg;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->d = sb_xrealloc(r->d, r->cap * sizeof *r->d);
    }
    r->d[r->n++] = (dlg_copy_t){
        .call_sid = dup_or_null(d->call_sid),
        .call_id = dup_or_null(d->sip_call_id),
        .local = dup_or_null(d->local),
        .remote = dup_or_null(d->remote),
        .target = dup_or_null(d->remote_target),
        .route = dup_or_null(d->route_set),
        .dest = dup_or_null(d->dest),
        .outgoing = d->outgoing,
        .cseq = d->local_cseq,
    };
}

static void dlg_copy_free(dlg_copy_t *c)
{
    free(c->call_sid);
    free(c->call_id);
    free(c->local);
    free(c->remote);
    free(c->target);
    free(c->route);
    free(c->dest);
}

static void send_batch(void *arg)
{
    recover_t *r = arg;
    size_t end = r->next + SB__CALL_BYE_BATCH;
    for (; r->next < r->n && r->next < end; r->next++) {
        dlg_copy_t *c = &r->d[r->next];
        sb_sip_dialog_t d = {
            .call_id = c->call_id,
            .outgoing = c->outgoing,
            .local = c->local,
            .remote = c->remote,
            .remote_target = c->target,
            .route_set = c->route,
            .local_cseq = c->cseq,
            .dest = c->dest,
        };
        int rc = sb_sip_dialog_bye(r->mgr->sip, &d, c->call_sid);
        if (rc == 0) {
            r->sent++;
            sb_log_call(SB_LOG_DEBUG, c->call_sid, "call: BYE sent to %s (%s leg)",
                        c->target, c->outgoing ? "outgoing" : "incoming");
        } else {
            r->failed++;
            sb_log_call(SB_LOG_DEBUG, c->call_sid, "call: no BYE for the interrupted "
                        "leg: %s", sb_strerror(rc));
        }
        dlg_copy_free(c);
    }
    if (r->next < r->n) {
        sb__call_defer(r->mgr, send_batch, r);
        return;
    }
    if (r->n > 0)
        sb_info("call: BYE sent on %lld of %zu legs the last run left up%s",
                (long long)r->sent, r->n, r->failed ? " (see debug for the rest)" : "");
    free(r->d);
    free(r);
}

static void on_alive_timer(uv_timer_t *t)
{
    sb_call_mgr_t *mgr = t->data;
    if (mgr->calls == NULL)
        return;
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)(sb__call_now_ms() / 1000));
    sb_store_meta_set(mgr->store, ALIVE_KEY, v);
}

void sb__call_recover_start(sb_call_mgr_t *mgr)
{
    int64_t now = sb__call_now_ms() / 1000, alive_at = 0, n = 0, nd = 0;
    char *v = NULL;
    if (sb_store_meta_get(mgr->store, ALIVE_KEY, &v) == 0 && v)
        alive_at = strtoll(v, NULL, 10);
    free(v);
    if (sb_store_cdr_interrupt(mgr->store, alive_at, now, on_live, NULL, &n) != 0)
        sb_warn("call: the records the last run left live could not be closed");
    recover_t *r = SB_NEW(recover_t);
    r->mgr = mgr;
    if (sb_store_dialogs_take(mgr->store, on_dialog, r, &nd) != 0)
        sb_warn("call: the dialogs the last run left up could not be read");
    if (n > 0 || r->n > 0)
        sb_info("call: the last run ended with %lld calls live: closed as "
                "interrupted; ending %zu SIP dialogs with BYE", (long long)n, r->n);
    if (r->n > 0) {
        sb__call_defer(mgr, send_batch, r);
    } else {
        free(r->d);
        free(r);
    }
    uv_timer_init(mgr->loop, &mgr->alive_timer);
    mgr->alive_timer.data = mgr;
    uv_timer_start(&mgr->alive_timer, on_alive_timer, SB__CALL_ALIVE_MS,
                   SB__CALL_ALIVE_MS);
}

void sb__call_dialog_sync(sb_call_t *call)
{
    sb_call_mgr_t *mgr = call->mgr;
    if (call->over) {
        if (call->dialog_saved) {
            call->dialog_saved = 0;
            sb_store_dialog_delete(mgr->store, call->sid);
        }
        return;
    }
    sb_sip_dialog_t d;
    if (call->dialog_saved || call->leg == NULL || sb_sip_leg_dialog(call->leg, &d) != 0)
        return;
    sb_store_dialog_t s = {
        .call_sid = call->sid,
        .sip_call_id = d.call_id,
        .outgoing = d.outgoing,
        .local = d.local,
        .remote = d.remote,
        .remote_target = d.remote_target,
        .route_set = d.route_set,
        .local_cseq = d.local_cseq,
        .dest = d.dest,
    };
    if (sb_store_dialog_put(mgr->store, &s, sb__call_now_ms() / 1000) == 0)
        call->dialog_saved = 1;
}
