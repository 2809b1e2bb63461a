/*
 * modify.c: live call modification (POST Calls/{CA}, restcomm.md 2.7).
 *
 * A new Url is fetched first, with the call's standard parameters, and
 * swapped in only once a document arrived (a 2xx answer): a bad URL, an
 * unreachable server or a 404 leaves the call exactly as it was, with a
 * Notification (then FallbackUrl is tried the same way). The fetched
 * document is handed to the new session, so it is not requested twice.
 * The other leg of a bridge is hung up, or moved along with
 * MoveConnectedCallLeg. A call created over REST that has not answered
 * yet only changes the application it will fetch at the answer.
 *
 * Also Mute: the call's audio stops reaching its bridge peer (or its
 * conference room).
 */
#include "call_int.h"
#include "notify.h"

#include <string.h>

typedef struct mod_s {
    sb_call_t *call;            /* a reference */
    sb_call_modify_cb cb;
    void *arg;
    char *url, *method, *fallback_url, *fallback_method;
    int move;
    int on_fallback;            /* fetching the fallback now */
    char why[512];              /* the last failure */
    sb_call_req_t *req;         /* the redirect once fetched */
} mod_t;

static void mod_free(mod_t *m)
{
    m->call->modifying = 0;
    sb_call_unref(m->call);
    free(m->url);
    free(m->method);
    free(m->fallback_url);
    free(m->fallback_method);
    free(m);
}

static void mod_finish(mod_t *m, int err)
{
    sb_call_modify_cb cb = m->cb;
    void *arg = m->arg;
    char why[sizeof m->why];
    snprintf(why, sizeof why, "%s", m->why);
    mod_free(m);
    cb(err, err ? why : NULL, arg);
}

static void on_redirected(int err, void *arg)
{
    mod_t *m = arg;
    if (err)
        snprintf(m->why, sizeof m->why, "the new application did not start: %s",
                 sb_strerror(err));
    mod_finish(m, err);
}

static int fetch(mod_t *m);

/* Records why the fetch failed as a Notification of the call. */
static void notify_failure(mod_t *m, int code, const char *url, const char *method,
                           const char *body)
{
    sb_notify_t n = {
        .account_sid = m->call->account_sid,
        .call_sid = m->call->sid,
        .level = SB_NOTIFY_ERROR,
        .code = code,
        .message = m->why,
        .request_url = url,
        .request_method = method,
        .response_body = body,
    };
    sb_notify_record(m->call->mgr->store, &n, NULL);
    sb_log_call(SB_LOG_INFO, m->call->sid, "call: modification: %s", m->why);
}

static void on_fetched(int err, const sb_http_response_t *resp, void *arg)
{
    mod_t *m = arg;
    sb_call_t *call = m->call;
    const char *url = m->on_fallback ? m->fallback_url : m->url;
    const char *method = m->on_fallback ? m->fallback_method : m->method;
    if (call->over) {
        snprintf(m->why, sizeof m->why, "the call ended");
        mod_finish(m, SB_EHANGUP);
        return;
    }
    int code = 0;
    if (err) {
        code = err == SB_ETOOBIG ? SB_NOTIFY_HTTP_PROTOCOL : SB_NOTIFY_HTTP_CONNECTION;
        snprintf(m->why, sizeof m->why, "%s %s failed: %s", method, url,
                 resp->error ? resp->error : sb_strerror(err));
    } else if (resp->status == 404) {
        code = SB_NOTIFY_URL_NOT_FOUND;
        snprintf(m->why, sizeof m->why, "%s %s: HTTP 404", method, url);
    } else if (resp->status < 200 || resp->status > 299) {
        code = SB_NOTIFY_HTTP_FAILURE;
        snprintf(m->why, sizeof m->why, "%s %s: HTTP %d", method, url, resp->status);
    }
    if (code) {
        notify_failure(m, code, url, method, err ? NULL : resp->body);
        if (!m->on_fallback && m->fallback_url) {
            m->on_fallback = 1;
            if (fetch(m) == 0)
                return;
        }
        mod_finish(m, err ? err : SB_ENETWORK);
        return;
    }
    /* It arrived: swap it in. */
    sb_call_doc_t doc = {
        .status = resp->status,
        .body = resp->body,
        .body_len = resp->body_len,
        .content_type = resp->content_type,
        .url = resp->url,
    };
    sb_call_app_t app = {
        .url = url,
        .method = method,
        .fallback_url = m->on_fallback ? NULL : m->fallback_url,
        .fallback_method = m->fallback_method,
        .document = &doc,
    };
    int rc = sb_call_redirect(call, &app,
                              m->move ? SB_REDIRECT_MOVE_PEER : SB_REDIRECT_HANGUP_PEER,
                              on_redirected, m, &m->req);
    if (rc != 0) {
        snprintf(m->why, sizeof m->why, "cannot redirect: %s", sb_strerror(rc));
        mod_finish(m, rc);
    }
}

static int fetch(mod_t *m)
{
    sb_call_t *call = m->call;
    const char *url = m->on_fallback ? m->fallback_url : m->url;
    const char *method = m->on_fallback ? m->fallback_method : m->method;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    sb__call_voice_params(call, NULL, &p);
    sb_http_fetch_req_t req = {
        .method = method,
        .url = url,
        .params = &p,
        .timeout_ms = 10000,
        .max_response_bytes = 1024 * 1024,
    };
    int rc = sb_http_fetch(call->mgr->http, &req, on_fetched, m, NULL);
    sb_http_params_free(&p);
    return rc;
}

int sb_call_modify_url(sb_call_t *call, const sb_call_modify_opts_t *o,
                       sb_call_modify_cb cb, void *arg)
{
    if (call->over)
        return SB_EHANGUP;
    if (o == NULL || o->url == NULL || o->url[0] == '\0')
        return SB_EINVAL;
    if (call->modifying)
        return SB_EBUSY;
    if (o->status_callback && *o->status_callback) {
        free(call->sc_url);
        free(call->sc_method);
        call->sc_url = sb_xstrdup(o->status_callback);
        call->sc_method = sb_xstrdup(o->status_callback_method);
    }
    if (call->orig) {
        /* Not answered yet: the application fetched at the answer. */
        sb__call_orig_set_app(call, o->url, o->method, o->fallback_url,
                              o->fallback_method);
        return 1;
    }
    if (call->mgr->http == NULL || call->mgr->runner == NULL)
        return SB_ESTATE;
    mod_t *m = SB_NEW(mod_t);
    m->call = call;
    sb_call_ref(call);
    m->cb = cb;
    m->arg = arg;
    m->url = sb_xstrdup(o->url);
    m->method = sb_xstrdup(o->method && *o->method ? o->method : "POST");
    if (o->fallback_url && *o->fallback_url) {
        m->fallback_url = sb_xstrdup(o->fallback_url);
        m->fallback_method = sb_xstrdup(o->fallback_method && *o->fallback_method
                                            ? o->fallback_method : "POST");
    }
    m->move = o->move_connected;
    int rc = fetch(m);
    if (rc != 0) {
        sb_call_unref(call);
        free(m->url);
        free(m->method);
        free(m->fallback_url);
        free(m->fallback_method);
        free(m);
        return rc;
    }
    call->modifying = 1;
    return 0;
}

int sb_call_mute(sb_call_t *call, int muted)
{
    if (call->over)
        return SB_EHANGUP;
    call->muted = muted != 0;
    sb_log_call(SB_LOG_INFO, call->sid, "call: %s", call->muted ? "muted" : "unmuted");
    if (call->conf_member)
        return sb__call_conference_mute(call, call->muted);
    if (call->ep)
        return sb_media_endpoint_mute(call->ep, call->muted);
    return 0;
}

int sb_call_muted(const sb_call_t *call)
{
    return call->muted;
}

int sb_call_modifying(const sb_call_t *call)
{
    return call->modifying;
}
