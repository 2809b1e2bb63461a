/*
 * transfer.c: what a transfer needs from calls. The REFER a call's dialog
 * receives becomes an sb_call_refer_t (the parties as Restcomm names them,
 * the number the inbound call dialled and its Refer URL), handed to the
 * runner's refer handlers (Lua: the "refer" hook, plugins/refer.lua by
 * default), which answer it (accept / reject), report progress (NOTIFY)
 * and move calls around with the three operations here:
 *   - unbridge: take a call out of its bridge; the application that made
 *     the bridge (the RCML session waiting in <Dial>) stops, nobody is
 *     hung up;
 *   - redirect: new RCML on a call (unbridge, stop its application, start
 *     the new one);
 *   - bridge: connect two calls until one of them ends.
 * They complete from the manager's deferred queue, never inside the Lua
 * call that asked: stopping a session from inside another session's Lua
 * code would run Lua re-entrantly.
 *
 * Media is anchored, so re-bridging needs no re-INVITE: the endpoints are
 * reconnected and each phone keeps seeing one stream.
 */
#include "call_int.h"
#include "route.h"

#include <string.h>

/* Owner: refcounted (the runner's handles and the handler session). */
struct sb_call_refer_s {
    int refs;
    sb_call_mgr_t *mgr;
    sb_call_t *transferor;          /* a reference */
    sb_call_t *transferee;          /* a reference, or NULL */
    char *from_transferor, *from_transferee, *target;
    char *refer_to, *referred_by;
    int refer_to_sip;
    int subscription;
    int answered, accepted, final_sent;
    sb_call_pair_t *headers;
    size_t header_count;
    int have_number;
    sb__route_t route;
    int transferee_trusted;         /* the transferee's trust before */
};

/* ---- the REFER --------------------------------------------------------------- */

void sb_call_refer_ref(sb_call_refer_t *r)
{
    r->refs++;
}

void sb_call_refer_unref(sb_call_refer_t *r)
{
    if (--r->refs > 0)
        return;
    sb_call_unref(r->transferor);
    if (r->transferee)
        sb_call_unref(r->transferee);
    free(r->from_transferor);
    free(r->from_transferee);
    free(r->target);
    free(r->refer_to);
    free(r->referred_by);
    sb__call_pairs_free(r->headers, r->header_count);
    sb__route_clear(&r->route);
    free(r);
}

void sb_call_refer_info(const sb_call_refer_t *r, sb_call_refer_info_t *out)
{
    memset(out, 0, sizeof *out);
    out->transferor = r->from_transferor;
    out->transferee = r->from_transferee;
    out->target = r->target;
    out->refer_to = r->refer_to;
    out->refer_to_sip = r->refer_to_sip;
    out->referred_by = r->referred_by;
    out->subscription = r->subscription;
    out->transferor_sid = r->transferor->sid;
    out->transferee_sid = r->transferee ? r->transferee->sid : NULL;
    if (r->have_number) {
        out->number_sid = r->route.number_sid;
        out->phone_number = r->route.phone_number;
        out->account_sid = r->route.account_sid;
        out->refer_url = r->route.refer_url;
        out->refer_method = r->route.refer_method;
    }
    out->headers = r->headers;
    out->header_count = r->header_count;
    out->answered = r->answered;
    out->accepted = r->accepted;
}

sb_call_t *sb_call_refer_transferor(const sb_call_refer_t *r) { return r->transferor; }
sb_call_t *sb_call_refer_transferee(const sb_call_refer_t *r) { return r->transferee; }

static sb_sip_leg_t *refer_leg(sb_call_refer_t *r)
{
    return r->transferor->over ? NULL : r->transferor->leg;
}

int sb_call_refer_accept(sb_call_refer_t *r)
{
    if (r->answered)
        return SB_ESTATE;
    sb_sip_leg_t *leg = refer_leg(r);
    if (leg == NULL)
        return SB_EHANGUP;
    int rc = sb_sip_leg_refer_respond(leg, 202, NULL, r->subscription);
    if (rc != 0)
        return rc;
    r->answered = r->accepted = 1;
    sb_log_call(SB_LOG_INFO, r->transferor->sid,
                "transfer: REFER to %s accepted (%s)", r->refer_to,
                r->subscription ? "NOTIFY on" : "no NOTIFY");
    if (r->subscription)
        sb_sip_leg_refer_notify(leg, 100, "Trying", 0);
    return 0;
}

int sb_call_refer_reject(sb_call_refer_t *r, int status, const char *reason)
{
    if (r->answered)
        return SB_ESTATE;
    if (status < 400 || status > 699)
        status = 603;
    sb_sip_leg_t *leg = refer_leg(r);
    if (leg == NULL)
        return SB_EHANGUP;
    int rc = sb_sip_leg_refer_respond(leg, status, reason, 0);
    if (rc != 0)
        return rc;
    r->answered = 1;
    if (r->transferee)
        r->transferee->trusted = r->transferee_trusted;
    sb_log_call(SB_LOG_INFO, r->transferor->sid, "transfer: REFER to %s refused: %d %s",
                r->refer_to, status, reason ? reason : "");
    return 0;
}

int sb_call_refer_notify(sb_call_refer_t *r, int status, const char *reason)
{
    if (!r->accepted || r->final_sent)
        return SB_ESTATE;
    if (status >= 200)
        r->final_sent = 1;
    if (!r->subscription)
        return 0;
    sb_sip_leg_t *leg = refer_leg(r);
    if (leg == NULL)
        return SB_EHANGUP;
    return sb_sip_leg_refer_notify(leg, status, reason, status >= 200);
}

void sb_call_refer_done(sb_call_refer_t *r)
{
    if (!r->answered)
        sb_call_refer_reject(r, 603, "No handler took the transfer");
}

/* The To of the inbound call the transferor's call belongs to: its own
 * for an inbound call, its parent's (from the record) for a dialled leg. */
static int inbound_to(sb_call_t *call, char *to, size_t len)
{
    if (call->dir == SB_CALL_INBOUND || call->parent_sid[0] == '\0') {
        snprintf(to, len, "%s", call->to ? call->to : "");
        return 0;
    }
    return sb_store_cdr_status(call->mgr->store, call->parent_sid, NULL, 0, to, len);
}

void sb__call_on_refer(sb_call_t *call, const sb_sip_leg_event_t *ev)
{
    sb_call_mgr_t *mgr = call->mgr;
    const sb_sip_refer_info_t *in = ev->refer;
    if (mgr->runner == NULL || mgr->runner->refer == NULL) {
        sb_sip_leg_refer_respond(call->leg, 501, "Transfer is not available", 0);
        return;
    }
    sb_call_refer_t *r = SB_NEW(sb_call_refer_t);
    r->refs = 1;
    r->mgr = mgr;
    r->transferor = call;
    sb_call_ref(call);
    if (call->peer) {
        r->transferee = call->peer;
        sb_call_ref(call->peer);
        /* Where the transferee goes next is the transferor's choice (the
         * Refer application dials its ReferTarget): the transferee may
         * dial out only if the transferor could, until the REFER is
         * refused. */
        r->transferee_trusted = call->peer->trusted;
        /* An inbound caller is trusted for what it proved; the far end
         * of a leg we dialled only when it is a Client or a trusted peer
         * (a number or a SIP address we called authenticated nothing). */
        call->peer->trusted = call->dir == SB_CALL_INBOUND ? call->trusted
                              : call->far_trusted || call->client_login != NULL;
    }
    /* Transferor: the login of the transferor's leg (a Client it dialled
     * or that called in), else Referred-By's user, else the Contact's
     * (a phone's contact user may be anything: baresip's is
     * "bob-0x56..."). Transferee: the other party as the application
     * knows it (the caller's From, or the dialled leg's To), else the
     * REFER's To user (Restcomm's only source for both). */
    char rb_user[128] = "";
    if (in->referred_by) {
        const char *u = strchr(in->referred_by, ':');
        size_t n = u ? strcspn(u + 1, "@;>") : 0;
        if (u && n > 0 && n < sizeof rb_user && u[1 + n] == '@') {
            memcpy(rb_user, u + 1, n);
            rb_user[n] = '\0';
        }
    }
    r->from_transferor = sb_xstrdup(call->client_login ? call->client_login
                                    : rb_user[0] ? rb_user : in->contact_user);
    const sb_call_t *te = call->peer;
    const char *party = te == NULL ? NULL
                        : te->client_login ? te->client_login
                        : te->dir == SB_CALL_INBOUND ? te->from : te->to;
    r->from_transferee = sb_xstrdup(party && *party ? party : in->to_user);
    r->target = sb_xstrdup(in->refer_to_user);
    r->refer_to = sb_xstrdup(in->refer_to);
    r->referred_by = sb_xstrdup(in->referred_by);
    r->refer_to_sip = in->refer_to_sip;
    r->subscription = mgr->cfg->refer_notify && in->refer_sub;
    if (ev->header_count) {
        r->headers = sb_xcalloc(ev->header_count, sizeof *r->headers);
        for (size_t i = 0; i < ev->header_count; i++) {
            r->headers[i].name = sb_xstrdup(ev->headers[i].name);
            r->headers[i].value = sb_xstrdup(ev->headers[i].value);
        }
        r->header_count = ev->header_count;
    }
    char to[256] = "";
    if (inbound_to(call, to, sizeof to) == 0 && to[0] &&
        sb__route_lookup(mgr, to, &r->route) == 0)
        r->have_number = 1;
    sb_log_call(SB_LOG_INFO, call->sid,
                "transfer: REFER to %s (Transferor=%s Transferee=%s ReferTarget=%s, "
                "number %s)", r->refer_to, r->from_transferor, r->from_transferee,
                r->target, r->have_number ? r->route.phone_number : "none");
    int rc = mgr->runner->refer(mgr->runner_arg, r);
    if (rc != 0 && !r->answered) {
        sb_log_call(SB_LOG_ERROR, call->sid, "transfer: cannot run the refer handlers: %s",
                    sb_strerror(rc));
        sb_call_refer_reject(r, 500, "SIP Refer problem during execution");
    }
    sb_call_refer_unref(r);
}

/* ---- unbridge, redirect, bridge ---------------------------------------------------- */

sb_call_t *sb_call_peer(const sb_call_t *call) { return call->peer; }

/* Takes call out of its bridge now (not from inside Lua: it may stop a
 * session). */
static void unbridge_now(sb_call_t *call)
{
    sb_call_mgr_t *mgr = call->mgr;
    sb_call_dial_t *d = NULL;
    sb_call_t *controller = NULL;
    if (call->branch_of) {
        /* A dialled leg: out of its parent's dial. */
        d = call->branch_of;
        controller = sb__dial_parent(d);
        sb__dial_detach(d, call);
    } else if (call->dial) {
        /* The caller of a dial: its answered leg goes out of the dial. */
        d = call->dial;
        controller = call;
        sb_call_t *w = sb__dial_winner(d);
        if (w)
            sb__dial_detach(d, w);
    }
    if (controller && controller->session && mgr->runner) {
        /* The application waiting in that Dial ends here, quietly. */
        void *s = controller->session;
        sb_call_ref(controller);
        mgr->runner->stop(mgr->runner_arg, s);
        sb_call_app_detach(controller, s);
        sb_call_unref(controller);
    }
    if (d && controller && controller->dial == d)
        sb__dial_end(d);            /* nobody stopped it: it ends now */
    if (call->peer) {
        /* A bridge sb_call_bridge made. */
        sb_call_t *p = call->peer;
        p->peer = NULL;
        call->peer = NULL;
        if (call->ep)
            sb_media_disconnect(call->ep, NULL, NULL);
        sb__call_bridge_over(p);
        sb__call_bridge_over(call);
    }
}

/* Stops call's application (without hanging up) and starts app on it; a
 * start that fails hangs the call up. Returns the runner's code. */
static int start_app_on(sb_call_t *call, const sb_call_app_t *app)
{
    sb_call_mgr_t *mgr = call->mgr;
    if (call->session && mgr->runner) {
        void *s = call->session;
        mgr->runner->stop(mgr->runner_arg, s);
        sb_call_app_detach(call, s);
    }
    if (call->over || mgr->runner == NULL)
        return SB_ESTATE;
    int rc = mgr->runner->start(mgr->runner_arg, call, app);
    if (rc != 0)
        sb_call_hangup(call);
    return rc;
}

/* A request of this file: what to do when the deferred queue runs it. */
typedef struct op_s {
    sb_call_req_t req;          /* first: handed out as sb_call_req_t */
    int kind;                   /* OP_UNBRIDGE, OP_REDIRECT, OP_BRIDGE */
    sb_call_t *other;           /* bridge: the second call (a reference) */
    sb_call_pair_t *params;     /* redirect: the application, copied */
    size_t nparams;
    char *url, *method, *fallback_url, *fallback_method;
    sb_call_peer_mode_t peer_mode;  /* redirect */
    int has_doc;                /* redirect: doc holds the first document */
    sb_call_doc_t doc;          /* its strings owned */
    int cancelled;
    int waiting;                /* bridge: connected, waiting for the end */
} op_t;

enum { OP_UNBRIDGE, OP_REDIRECT, OP_BRIDGE };

static void op_free(op_t *o)
{
    if (o->other)
        sb_call_unref(o->other);
    sb__call_pairs_free(o->params, o->nparams);
    free(o->url);
    free(o->method);
    free(o->fallback_url);
    free(o->fallback_method);
    if (o->has_doc) {
        free((char *)o->doc.body);
        free((char *)o->doc.content_type);
        free((char *)o->doc.url);
    }
    sb_call_unref(o->req.call);
    free(o);
}

static void op_complete(op_t *o, int err)
{
    sb_call_done_cb cb = o->cancelled ? NULL : o->req.cb;
    void *arg = o->req.arg;
    op_free(o);
    if (cb)
        cb(err, arg);
}

static void op_run(void *arg)
{
    op_t *o = arg;
    sb_call_t *call = o->req.call;
    if (o->cancelled) {
        op_free(o);
        return;
    }
    if (call->over || (o->other && o->other->over)) {
        op_complete(o, SB_EHANGUP);
        return;
    }
    switch (o->kind) {
    case OP_UNBRIDGE:
        unbridge_now(call);
        op_complete(o, 0);
        return;
    case OP_REDIRECT: {
        /* The other end of its bridge, whatever made it (a Dial, either
         * side, or sb_call_bridge). */
        sb_call_t *other = call->peer;
        if (other)
            sb_call_ref(other);
        unbridge_now(call);
        sb_call_app_t app = {
            .url = o->url,
            .method = o->method,
            .fallback_url = o->fallback_url,
            .fallback_method = o->fallback_method,
            .params = o->params,
            .param_count = o->nparams,
            .document = o->has_doc ? &o->doc : NULL,
        };
        int rc = start_app_on(call, &app);
        if (rc == 0)
            sb_log_call(SB_LOG_INFO, call->sid, "call: redirected to %s", o->url);
        if (other) {
            if (!other->over && o->peer_mode == SB_REDIRECT_HANGUP_PEER) {
                sb_log_call(SB_LOG_INFO, other->sid,
                            "call: the other leg was redirected; hanging up");
                sb_call_hangup(other);
            } else if (!other->over && o->peer_mode == SB_REDIRECT_MOVE_PEER) {
                app.document = NULL;    /* fetched again with its own SID */
                if (start_app_on(other, &app) == 0)
                    sb_log_call(SB_LOG_INFO, other->sid,
                                "call: moved with %s to %s", call->sid, o->url);
            }
            sb_call_unref(other);
        }
        op_complete(o, call->over && rc == 0 ? SB_EHANGUP : rc);
        return;
    }
    case OP_BRIDGE: {
        sb_call_t *b = o->other;
        unbridge_now(call);
        unbridge_now(b);
        if (call->over || b->over) {
            op_complete(o, SB_EHANGUP);
            return;
        }
        if (call->ep && b->ep)
            sb_media_connect(call->ep, b->ep, NULL, NULL);
        call->peer = b;
        b->peer = call;
        call->bridge_req = &o->req;
        b->bridge_req = &o->req;
        o->waiting = 1;
        sb_log_call(SB_LOG_INFO, call->sid, "call: bridged to %s", b->sid);
        return;
    }
    }
}

static void op_run_done(void *arg)
{
    op_complete(arg, 0);
}

/* A cancelled request: not run yet, it is dropped when the queue gets to
 * it; a bridge already up stays up (each side still hangs the other up
 * when it ends) and only its callback is dropped. */
static void op_cancel(sb_call_req_t *req)
{
    op_t *o = (op_t *)req;
    o->cancelled = 1;
}

/* The end of a bridge (either call over, or unbridged): the other side is
 * hung up when a call ended, and the waiting request completes. */
void sb__call_bridge_over(sb_call_t *call)
{
    sb_call_req_t *req = call->bridge_req;
    if (req == NULL)
        return;
    op_t *o = (op_t *)req;
    sb_call_t *a = o->req.call, *b = o->other;
    a->bridge_req = NULL;
    b->bridge_req = NULL;
    if (a->peer == b) {
        a->peer = NULL;
        b->peer = NULL;
    }
    if (call->over) {
        sb_call_t *survivor = call == a ? b : a;
        if (!survivor->over)
            sb_call_hangup(survivor);
    }
    o->waiting = 0;
    sb__call_defer(call->mgr, op_run_done, o);
}

static op_t *op_new(sb_call_t *call, int kind, sb_call_done_cb cb, void *arg)
{
    op_t *o = SB_NEW(op_t);
    o->req.call = call;
    o->req.cb = cb;
    o->req.arg = arg;
    o->kind = kind;
    o->req.cancel_fn = op_cancel;
    o->req.queued = 1;
    sb_call_ref(call);
    return o;
}

int sb_call_unbridge(sb_call_t *call, sb_call_done_cb cb, void *arg,
                     sb_call_req_t **req)
{
    if (call->over)
        return SB_EHANGUP;
    op_t *o = op_new(call, OP_UNBRIDGE, cb, arg);
    sb__call_defer(call->mgr, op_run, o);
    *req = &o->req;
    return 0;
}

int sb_call_redirect(sb_call_t *call, const sb_call_app_t *app,
                     sb_call_peer_mode_t peer, sb_call_done_cb cb, void *arg,
                     sb_call_req_t **req)
{
    if (call->over)
        return SB_EHANGUP;
    if (app == NULL || app->url == NULL || app->url[0] == '\0')
        return SB_EINVAL;
    op_t *o = op_new(call, OP_REDIRECT, cb, arg);
    o->url = sb_xstrdup(app->url);
    o->method = sb_xstrdup(app->method);
    o->fallback_url = sb_xstrdup(app->fallback_url);
    o->fallback_method = sb_xstrdup(app->fallback_method);
    o->params = sb__call_pairs_dup(app->params, app->param_count);
    o->nparams = app->param_count;
    o->peer_mode = peer;
    if (app->document) {
        const sb_call_doc_t *d = app->document;
        o->has_doc = 1;
        o->doc.status = d->status;
        char *body = sb_xmalloc(d->body_len + 1);
        memcpy(body, d->body, d->body_len);
        body[d->body_len] = '\0';
        o->doc.body = body;
        o->doc.body_len = d->body_len;
        o->doc.content_type = sb_xstrdup(d->content_type);
        o->doc.url = sb_xstrdup(d->url ? d->url : app->url);
    }
    sb__call_defer(call->mgr, op_run, o);
    *req = &o->req;
    return 0;
}

int sb_call_bridge(sb_call_t *a, sb_call_t *b, sb_call_done_cb cb, void *arg,
                   sb_call_req_t **req)
{
    if (a->over || b->over)
        return SB_EHANGUP;
    if (a == b)
        return SB_EINVAL;
    op_t *o = op_new(a, OP_BRIDGE, cb, arg);
    o->other = b;
    sb_call_ref(b);
    sb__call_defer(a->mgr, op_run, o);
    *req = &o->req;
    return 0;
}
