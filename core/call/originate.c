/*
 * originate.c: calls created over REST (POST Calls, restcomm.md 2.7): one
 * outbound-api call to a number (through sip.outbound_proxy, or back to
 * us without one, as Dial does), to every registered contact of a Client
 * (forked: the first to answer wins, the others are cancelled, and the
 * call stays one record), or to a SIP URI (with digest credentials for a
 * challenge). The call is queued, then ringing, then in-progress when the
 * callee answers: only then is the application's Url fetched (the runner
 * starts it with Direction=outbound-api), after SendDigits are played.
 * Busy, no-answer (the Timeout), failed and canceled end it with its
 * status callbacks and its record.
 *
 * Owner of the forks: orig_t, hung on the call (call->orig) until the
 * call is answered or over.
 */
#include "call_int.h"
#include "rows.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define MAX_FORKS SB_DIAL_MAX_BRANCHES

typedef struct orig_s orig_t;

/* One INVITE of the call (a Client has one per registered contact). */
typedef struct fork_s {
    orig_t *o;
    sb_sip_leg_t *leg;          /* NULL once over or handed to the call */
} fork_t;

struct orig_s {
    sb_call_mgr_t *mgr;
    sb_call_t *call;            /* no reference: the call owns us; NULL
                                   once we are let go */
    fork_t forks[MAX_FORKS];
    int nforks, live;
    int any_busy, any_no_answer;
    uv_timer_t timer;           /* the ring timeout */
    int timer_open;
    /* The application, started at the answer. */
    char *url, *method, *fallback_url, *fallback_method;
    char *send_digits;
    sb_call_play_t *digits_play;
    int record;                 /* Record=true: the whole call */
};

static void on_timer_closed(uv_handle_t *h)
{
    orig_t *o = h->data;
    sb_call_mgr_t *mgr = o->mgr;
    free(o->url);
    free(o->method);
    free(o->fallback_url);
    free(o->fallback_method);
    free(o->send_digits);
    free(o);
    sb__call_mgr_handle_closed(mgr);
}

/* Lets go of fork f's leg (CANCEL if it still rings, BYE if it
 * answered): no more events; it no longer counts as live. */
static void fork_drop(orig_t *o, fork_t *f)
{
    sb_sip_leg_t *leg = f->leg;
    if (leg == NULL)
        return;
    f->leg = NULL;
    o->live--;
    sb_sip_leg_set_handler(leg, NULL, NULL);
    sb_sip_leg_release(leg);
}

/* Ends every fork still ringing, stops the timer and frees o (after its
 * timer closed). The call no longer points at it. */
static void orig_free(orig_t *o)
{
    sb_call_t *call = o->call;
    for (int i = 0; i < o->nforks; i++)
        fork_drop(o, &o->forks[i]);
    if (o->digits_play) {
        sb_call_play_cancel(o->digits_play);
        o->digits_play = NULL;
    }
    if (call && call->orig == o)
        call->orig = NULL;
    o->call = NULL;
    uv_timer_stop(&o->timer);
    uv_close((uv_handle_t *)&o->timer, on_timer_closed);
}

void sb__call_orig_over(sb_call_t *call)
{
    if (call->orig)
        orig_free(call->orig);
}

void sb__call_orig_set_app(sb_call_t *call, const char *url, const char *method,
                           const char *fallback_url, const char *fallback_method)
{
    orig_t *o = call->orig;
    if (o == NULL)
        return;
    free(o->url);
    free(o->method);
    free(o->fallback_url);
    free(o->fallback_method);
    o->url = sb_xstrdup(url);
    o->method = sb_xstrdup(method);
    o->fallback_url = sb_xstrdup(fallback_url);
    o->fallback_method = sb_xstrdup(fallback_method);
}

/* ---- the answer ---------------------------------------------------------- */

static void start_app(orig_t *o)
{
    sb_call_t *call = o->call;
    sb_call_mgr_t *mgr = call->mgr;
    /* The application may end the call before start returns: the call
     * must neither be freed under us nor free o itself (call_over frees
     * what call->orig points to), so o is let go first. */
    sb_call_ref(call);
    call->orig = NULL;
    sb_call_app_t app = {
        .url = o->url,
        .method = o->method,
        .fallback_url = o->fallback_url,
        .fallback_method = o->fallback_method,
    };
    int rc = mgr->runner ? mgr->runner->start(mgr->runner_arg, call, &app)
                         : SB_ESTATE;
    orig_free(o);
    if (rc != 0 && !call->over) {
        sb_log_call(SB_LOG_ERROR, call->sid,
                    "call: cannot start the application: %s", sb_strerror(rc));
        sb_call_hangup(call);
    }
    sb_call_unref(call);
}

static void on_digits_sent(const sb_call_play_result_t *r, void *arg)
{
    orig_t *o = arg;
    o->digits_play = NULL;
    if (o->call == NULL)
        return;
    if (r->err && r->err != SB_EHANGUP)
        sb_log_call(SB_LOG_INFO, o->call->sid, "call: SendDigits: %s",
                    r->why ? r->why : sb_strerror(r->err));
    if (!o->call->over)
        start_app(o);
}

static void answered(orig_t *o, fork_t *f, const sb_sip_leg_event_t *ev)
{
    sb_call_t *call = o->call;
    sb_media_desc_t remote;
    int rc = ev->sdp ? sb_media_sdp_parse(ev->sdp, ev->sdp_len, &remote)
                     : SB_EINVAL;
    if (rc == 0)
        rc = sb_media_endpoint_set_remote(call->ep, &remote);
    if (rc != 0) {
        /* Nothing we can talk to: this fork fails (BYE), others go on. */
        sb_log_call(SB_LOG_INFO, call->sid, "call: unusable SDP in the answer");
        fork_drop(o, f);
        if (o->live == 0)
            sb__call_end(call, SB_CALL_FAILED);
        return;
    }
    /* This fork is the call from now on. */
    call->leg = f->leg;
    f->leg = NULL;
    o->live--;
    sb_sip_leg_set_handler(call->leg, sb__call_on_leg, call);
    free(call->sip_call_id);
    call->sip_call_id = sb_xstrdup(ev->call_id && *ev->call_id
                                       ? ev->call_id : sb_sip_leg_call_id(call->leg));
    for (int i = 0; i < o->nforks; i++)
        fork_drop(o, &o->forks[i]);     /* the others lose */
    uv_timer_stop(&o->timer);
    sb_log_call(SB_LOG_INFO, call->sid, "call: answered; fetching %s", o->url);
    sb__call_set_status(call, SB_CALL_IN_PROGRESS);
    if (call->over)
        return;
    if (o->record && sb__call_record_whole(call) == NULL)
        sb_log_call(SB_LOG_WARN, call->sid, "call: Record=true, but it is not recorded");
    if (o->send_digits) {
        sb_call_play_opts_t po = {.digits = o->send_digits, .loop = 1};
        if (sb_call_play(call, &po, on_digits_sent, o, &o->digits_play) == 0)
            return;
        sb_log_call(SB_LOG_INFO, call->sid, "call: SendDigits not played");
    }
    start_app(o);
}

/* A fork's final failure: the call fails when it was the last one. */
static void fork_failed(orig_t *o, fork_t *f, int status)
{
    sb_call_t *call = o->call;
    fork_drop(o, f);
    switch (status) {
    case 486:
    case 600:
        o->any_busy = 1;
        break;
    case 408:
    case 480:
    case 487:
        o->any_no_answer = 1;
        break;
    default:
        break;
    }
    if (o->live > 0)
        return;
    sb__call_end(call, o->any_busy ? SB_CALL_BUSY
                       : o->any_no_answer ? SB_CALL_NO_ANSWER : SB_CALL_FAILED);
}

static void on_fork_leg(sb_sip_leg_t *leg, const sb_sip_leg_event_t *ev, void *arg)
{
    fork_t *f = arg;
    orig_t *o = f->o;
    sb_call_t *call = o->call;
    (void)leg;
    if (call->over || f->leg == NULL)
        return;
    sb_call_ref(call);
    switch (ev->type) {
    case SB_SIP_LEG_PROGRESS:
        if (call->sip_call_id == NULL && ev->call_id && *ev->call_id)
            call->sip_call_id = sb_xstrdup(ev->call_id);
        if (call->status == SB_CALL_QUEUED)
            sb__call_set_status(call, SB_CALL_RINGING);
        break;
    case SB_SIP_LEG_ANSWERED:
        answered(o, f, ev);
        break;
    case SB_SIP_LEG_FAILED:
        sb_log_call(SB_LOG_INFO, call->sid, "call: %d %s", ev->status,
                    ev->phrase ? ev->phrase : "");
        fork_failed(o, f, ev->status);
        break;
    case SB_SIP_LEG_ENDED:
        fork_failed(o, f, ev->status ? ev->status : 487);
        break;
    default:
        break;
    }
    sb_call_unref(call);
}

static void on_timeout(uv_timer_t *t)
{
    orig_t *o = t->data;
    sb_call_t *call = o->call;
    if (call == NULL || call->over)
        return;
    sb_log_call(SB_LOG_INFO, call->sid, "call: no answer in time");
    sb__call_end(call, SB_CALL_NO_ANSWER);
}

/* ---- creating -------------------------------------------------------------- */

static const sb_rows_col_t client_cols[] = {
    {"sid", SB_ROWS_TEXT},
    {"account_sid", SB_ROWS_TEXT},
    {"login", SB_ROWS_TEXT},
};
static const sb_rows_table_t clients = {"clients", client_cols,
                                        (int)SB_COUNTOF(client_cols)};

int sb__call_client_account(sb_call_mgr_t *mgr, const char *login,
                            char out[SB_SID_SIZE])
{
    if (login == NULL || *login == '\0')
        return 0;
    sb_rows_cond_t c = {.col = 2, .op = SB_ROWS_EQ_NOCASE, .s = login};
    sb_row_t row;
    if (sb_rows_get(mgr->store, &clients, &c, 1, &row) != 0)
        return 0;
    snprintf(out, SB_SID_SIZE, "%s", row.v[1].s);
    sb_row_free(&row);
    return 1;
}

int sb__call_client_of(sb_call_mgr_t *mgr, const char *account_sid, const char *login)
{
    char account[SB_SID_SIZE];
    return sb__call_client_account(mgr, login, account) &&
           strcmp(account, account_sid) == 0;
}

/* What a number may hold: digits, letters, + * # . - _ (1..64). */
static int number_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("+*#.-_", *s))
            return 0;
    return 1;
}

int sb_call_parse_target(const char *to, sb_call_target_t *out)
{
    memset(out, 0, sizeof *out);
    if (to == NULL)
        return SB_EINVAL;
    while (*to == ' ')
        to++;
    size_t len = strcspn(to, "?");
    if (len == 0 || len >= sizeof out->dest)
        return SB_EINVAL;
    const char *q = to[len] == '?' ? to + len + 1 : NULL;
    char dest[sizeof out->dest];
    memcpy(dest, to, len);
    dest[len] = '\0';
    while (len > 0 && dest[len - 1] == ' ')
        dest[--len] = '\0';
    if (strncasecmp(dest, "client:", 7) == 0) {
        out->kind = SB_DIAL_CLIENT;
        snprintf(out->dest, sizeof out->dest, "%s", dest + 7);
        if (!number_ok(out->dest))
            return SB_EINVAL;
    } else if (strncasecmp(dest, "sip:", 4) == 0 || strncasecmp(dest, "sips:", 5) == 0 ||
               strchr(dest, '@')) {
        out->kind = SB_DIAL_SIP;
        int scheme = strncasecmp(dest, "sip:", 4) == 0 || strncasecmp(dest, "sips:", 5) == 0;
        if (!scheme && len + 4 >= sizeof out->dest)
            return SB_EINVAL;
        memcpy(out->dest, scheme ? "" : "sip:", scheme ? 0 : 4);
        memcpy(out->dest + (scheme ? 0 : 4), dest, len + 1);
        const char *at = strchr(out->dest, '@');
        const char *host = at ? at + 1 : strchr(out->dest, ':') + 1;
        if (*host == '\0' || strpbrk(out->dest, " <>\"\r\n"))
            return SB_EINVAL;
    } else {
        out->kind = SB_DIAL_NUMBER;
        snprintf(out->dest, sizeof out->dest, "%s", dest);
        if (!number_ok(out->dest))
            return SB_EINVAL;
    }
    /* ?X-Header=value&...: custom INVITE headers (form-encoded). */
    if (q && *q) {
        sb_http_params_t p = SB_HTTP_PARAMS_INIT;
        if (sb_http_form_decode(q, strlen(q), &p) != 0) {
            sb_http_params_free(&p);
            return SB_EINVAL;
        }
        int rc = 0;
        for (size_t i = 0; i < p.count && rc == 0; i++) {
            const char *n = p.items[i].name, *v = p.items[i].value;
            if (strncasecmp(n, "X-", 2) != 0 || strlen(n) < 3 ||
                out->header_count >= SB_DIAL_MAX_HEADERS ||
                strpbrk(n, " :\r\n\t") || strpbrk(v, "\r\n")) {
                rc = SB_EINVAL;
                break;
            }
            out->headers[out->header_count].name = sb_xstrdup(n);
            out->headers[out->header_count].value = sb_xstrdup(v);
            out->header_count++;
        }
        sb_http_params_free(&p);
        if (rc != 0) {
            sb_call_target_clear(out);
            return rc;
        }
    }
    return 0;
}

void sb_call_target_clear(sb_call_target_t *t)
{
    for (size_t i = 0; i < t->header_count; i++) {
        free((char *)t->headers[i].name);
        free((char *)t->headers[i].value);
    }
    t->header_count = 0;
}

/* The user part To shows for a target. */
static void target_user(const sb_call_target_t *t, char *out, size_t n)
{
    const char *colon = strchr(t->dest, ':');
    const char *at = strchr(t->dest, '@');
    const char *from = t->dest;
    size_t len = strlen(t->dest);
    if (t->kind == SB_DIAL_SIP && colon && at && at > colon) {
        from = colon + 1;
        len = (size_t)(at - colon - 1);
    }
    if (len >= n)
        len = n - 1;
    memcpy(out, from, len);
    out[len] = '\0';
}

static int start_fork(orig_t *o, const sb_call_create_opts_t *co,
                      const char *ruri, const char *dest, const char *to_uri,
                      const char *sdp)
{
    sb_call_t *call = o->call;
    if (o->nforks >= MAX_FORKS)
        return SB_ELIMIT;
    fork_t *f = &o->forks[o->nforks];
    f->o = o;
    sb_sip_header_t hdr[SB_DIAL_MAX_HEADERS];
    for (size_t i = 0; i < co->target.header_count; i++) {
        hdr[i].name = co->target.headers[i].name;
        hdr[i].value = co->target.headers[i].value;
    }
    sb_sip_invite_req_t req = {
        .request_uri = ruri,
        .dest = dest,
        .from_user = call->from,
        .to_uri = to_uri,
        .sdp = sdp,
        .headers = hdr,
        .header_count = co->target.header_count,
        .max_forwards = 70,
        .auth_user = co->username,
        .auth_password = co->password,
    };
    int rc = sb_sip_leg_invite(call->mgr->sip, &req, on_fork_leg, f, &f->leg);
    if (rc != 0) {
        sb_log_call(SB_LOG_INFO, call->sid, "call: cannot call %s: %s", ruri,
                    sb_strerror(rc));
        f->leg = NULL;
        return rc;
    }
    o->nforks++;
    o->live++;
    sb_log_call(SB_LOG_INFO, call->sid, "call: calling %s", ruri);
    return 0;
}

/* Ends a call that never got an INVITE out (from the loop: the REST
 * answer shows it queued first, as it was created). */
static void fail_later(void *arg)
{
    sb_call_t *call = arg;
    if (!call->over)
        sb__call_end(call, SB_CALL_FAILED);
    sb_call_unref(call);
}

int sb_call_create(sb_call_mgr_t *mgr, const sb_call_create_opts_t *co,
                   char sid[SB_SID_SIZE])
{
    if (mgr->closing || mgr->runner == NULL)
        return SB_ESTATE;
    if (co == NULL || co->account_sid == NULL || co->url == NULL ||
        co->from == NULL || co->target.dest[0] == '\0')
        return SB_EINVAL;
    if (co->target.kind == SB_DIAL_CLIENT &&
        !sb__call_client_of(mgr, co->account_sid, co->target.dest))
        return SB_ENOENT;
    int retry = 0;
    const char *why = sb__admit_check(&mgr->admit, mgr->stats.live,
                                      (uint64_t)sb__call_now_ms(), &retry);
    if (why) {
        sb_info("call: a created call refused: %s", why);
        mgr->stats.refused++;
        return SB_EBUSY;
    }

    sb_call_t *call = sb__call_new(mgr, SB_CALL_OUTBOUND_API);
    snprintf(call->account_sid, sizeof call->account_sid, "%s", co->account_sid);
    call->from = sb_xstrdup(co->from);
    char user[sizeof co->target.dest];
    target_user(&co->target, user, sizeof user);
    call->to = sb_xstrdup(user);
    call->max_forwards = 70;
    if (co->target.kind == SB_DIAL_CLIENT)
        call->client_login = sb_xstrdup(co->target.dest);
    if (co->status_callback && *co->status_callback) {
        call->sc_url = sb_xstrdup(co->status_callback);
        call->sc_method = sb_xstrdup(co->status_callback_method);
        call->sc_events = co->status_events;
    }
    orig_t *o = SB_NEW(orig_t);
    o->mgr = mgr;
    o->call = call;
    o->url = sb_xstrdup(co->url);
    o->method = sb_xstrdup(co->method);
    o->fallback_url = sb_xstrdup(co->fallback_url);
    o->fallback_method = sb_xstrdup(co->fallback_method);
    o->send_digits = co->send_digits && *co->send_digits ? sb_xstrdup(co->send_digits)
                                                         : NULL;
    o->record = co->record;
    uv_timer_init(mgr->loop, &o->timer);
    o->timer.data = o;
    mgr->handles++;
    call->orig = o;
    snprintf(sid, SB_SID_SIZE, "%s", call->sid);

    sb_media_desc_t local;
    sb_buf_t sdp = SB_BUF_INIT;
    int rc = sb_media_endpoint_create(mgr->media, &call->ep);
    if (rc == 0) {
        sb_media_endpoint_set_data(call->ep, call);
        rc = sb_media_endpoint_offer(call->ep, &local);
    }
    if (rc == 0)
        rc = sb_media_sdp_write(&local, &sdp);
    sb__call_save(call);                /* queued */
    sb_log_call(SB_LOG_INFO, call->sid, "call: created over REST: %s -> %s",
                call->from, co->target.dest);
    sb__call_status_callback(call, SB_DIAL_EV_INITIATED);

    if (rc == 0) {
        const sb_call_target_t *t = &co->target;
        switch (t->kind) {
        case SB_DIAL_NUMBER: {
            const char *proxy = mgr->cfg->sip_outbound_proxy;
            char *ruri = NULL;
            if (sb_sip_uri_with_user(proxy && *proxy ? proxy : sb_sip_bound_uri(mgr->sip),
                                     t->dest, &ruri) == 0)
                start_fork(o, co, ruri, NULL, NULL, sb_buf_str(&sdp));
            free(ruri);
            break;
        }
        case SB_DIAL_CLIENT: {
            sb_sip_contact_t *c = NULL;
            size_t n = 0;
            sb_sip_location_lookup(mgr->sip, t->dest, &c, &n);
            if (n == 0)
                sb_log_call(SB_LOG_INFO, call->sid, "call: client %s is not registered",
                            t->dest);
            char *aor = NULL;
            if (n > 0)
                aor = sb_xasprintf("sip:%s@%s", t->dest, sb_sip_domain(mgr->sip));
            for (size_t i = 0; i < n; i++)
                start_fork(o, co, c[i].uri, c[i].dest, aor, sb_buf_str(&sdp));
            free(aor);
            sb_sip_contacts_free(c, n);
            break;
        }
        case SB_DIAL_SIP:
            start_fork(o, co, t->dest, NULL, NULL, sb_buf_str(&sdp));
            break;
        }
    } else {
        sb_log_call(SB_LOG_WARN, call->sid, "call: no media: %s", sb_strerror(rc));
    }
    sb_buf_free(&sdp);
    if (o->live == 0) {
        sb_call_ref(call);
        sb__call_defer(mgr, fail_later, call);
    } else {
        int timeout = co->timeout_s > 0 ? co->timeout_s : 60;
        uv_timer_start(&o->timer, on_timeout, (uint64_t)timeout * 1000, 0);
    }
    return 0;
}
