/*
 * statuscb.c: status callbacks of dialled legs (the statusCallback and
 * statusCallbackEvent attributes of Dial's nouns, restcomm.md 3.2): one
 * HTTP request per subscribed event, fire and forget, with Restcomm's
 * parameters and a SequenceNumber that counts the callbacks sent for the
 * leg. With no event listed only "completed" is sent.
 *
 * Also the Dial action of a caller that hung up while bridged: its
 * application cannot request it any more, so the call module does, fire
 * and forget, with the parameters the application would have sent.
 */
#include "call_int.h"
#include "rcml.h"

#include <string.h>

/* What a fire-and-forget request logs when it fails: arg is an owned
 * sent_t naming the request and the call. */
typedef struct {
    const char *what;           /* "status callback", "dial: action request" */
    char sid[];
} sent_t;

static sent_t *sent_new(const char *what, const char *sid)
{
    size_t n = strlen(sid) + 1;
    sent_t *t = sb_xmalloc(sizeof(*t) + n);
    t->what = what;
    memcpy(t->sid, sid, n);
    return t;
}

static void on_sent(int err, const sb_http_response_t *resp, void *arg)
{
    sent_t *t = arg;
    if (err != 0)
        sb_log_call(SB_LOG_INFO, t->sid, "call: %s failed: %s", t->what,
                    resp && resp->error ? resp->error : sb_strerror(err));
    else if (resp->status >= 400)
        sb_log_call(SB_LOG_INFO, t->sid, "call: %s answered %d", t->what,
                    resp->status);
    free(t);
}

static const char *event_name(unsigned ev)
{
    switch (ev) {
    case SB_DIAL_EV_INITIATED: return "initiated";
    case SB_DIAL_EV_RINGING: return "ringing";
    case SB_DIAL_EV_ANSWERED: return "answered";
    default: return "completed";
    }
}

void sb__call_status_callback(sb_call_t *call, unsigned event)
{
    if (call->sc_url == NULL || call->mgr->http == NULL)
        return;
    unsigned wanted = call->sc_events ? call->sc_events : SB_DIAL_EV_COMPLETED;
    if (!(wanted & event))
        return;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    char num[32], ts[SB_TIME_BUF];
    sb_http_params_add(&p, "InstanceId", call->mgr->instance_id);
    sb_http_params_add(&p, "AccountSid", call->account_sid);
    sb_http_params_add(&p, "CallSid", call->sid);
    sb_http_params_add(&p, "From", call->from ? call->from : "");
    sb_http_params_add(&p, "To", call->to ? call->to : "");
    sb_http_params_add(&p, "Direction", sb_call_dir_name(call->dir));
    sb_http_params_add(&p, "CallerName", call->caller_name ? call->caller_name
                                                           : (call->from ? call->from : ""));
    sb_http_params_add(&p, "ForwardedFrom",
                       call->forwarded_from ? call->forwarded_from : "null");
    if (call->parent_sid[0])
        sb_http_params_add(&p, "ParentCallSid", call->parent_sid);
    /* The last event names how the call ended: completed, or busy,
     * no-answer, failed, canceled for a call that never talked. */
    sb_http_params_add(&p, "CallStatus",
                       event == SB_DIAL_EV_COMPLETED && call->over
                           ? sb_call_status_name(call->status) : event_name(event));
    if (event == SB_DIAL_EV_COMPLETED) {
        int64_t d = call->answer_ms > 0 && call->end_ms > 0
                        ? (call->end_ms - call->answer_ms + 500) / 1000 : 0;
        snprintf(num, sizeof num, "%lld", (long long)d);
        sb_http_params_add(&p, "CallDuration", num);
    }
    sb_time_rfc2822((time_t)(sb__call_now_ms() / 1000), ts);
    sb_http_params_add(&p, "Timestamp", ts);
    sb_http_params_add(&p, "CallbackSource", "call-progress-events");
    snprintf(num, sizeof num, "%d", call->sc_seq++);
    sb_http_params_add(&p, "SequenceNumber", num);

    sb_http_fetch_req_t req = {
        .method = call->sc_method && *call->sc_method ? call->sc_method : "POST",
        .url = call->sc_url,
        .params = &p,
        .timeout_ms = 10000,
        .max_response_bytes = 64 * 1024,
    };
    sent_t *sid = sent_new("status callback", call->sid);
    int rc = sb_http_fetch(call->mgr->http, &req, on_sent, sid, NULL);
    if (rc != 0) {
        sb_log_call(SB_LOG_INFO, call->sid, "call: status callback to %s: %s",
                    call->sc_url, sb_strerror(rc));
        free(sid);
    }
    sb_http_params_free(&p);
}

void sb__call_voice_params(sb_call_t *call, const char *status,
                           sb_http_params_t *out)
{
    sb_rcml_call_info_t ci;
    sb_call_rcml_info(call, &ci);
    if (status)
        ci.call_status = status;
    sb_rcml_params_t rp = SB_RCML_PARAMS_INIT;
    sb_rcml_voice_params(&ci, &rp);
    for (size_t k = 0; k < rp.count; k++)
        sb_http_params_add(out, rp.items[k].name, rp.items[k].value);
    sb_rcml_params_free(&rp);
}

void sb__call_request(sb_call_t *call, const char *what, const char *url,
                      const char *method, const sb_http_params_t *extra,
                      const char *status)
{
    if (call->mgr->http == NULL || url == NULL || !*url)
        return;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    sb__call_voice_params(call, status, &p);
    for (size_t k = 0; extra && k < extra->count; k++)
        sb_http_params_add(&p, extra->items[k].name, extra->items[k].value);

    sb_http_fetch_req_t req = {
        .method = method && *method ? method : "POST",
        .url = url,
        .params = &p,
        .timeout_ms = 10000,
        .max_response_bytes = 1024 * 1024,
    };
    sb_log_call(SB_LOG_INFO, call->sid, "%s: requesting %s", what, url);
    sent_t *sid = sent_new(what, call->sid);
    int rc = sb_http_fetch(call->mgr->http, &req, on_sent, sid, NULL);
    if (rc != 0) {
        sb_log_call(SB_LOG_INFO, call->sid, "%s: request to %s: %s",
                    what, url, sb_strerror(rc));
        free(sid);
    }
    sb_http_params_free(&p);
}

void sb__call_action_after_hangup(sb_call_t *call, const char *what,
                                  const char *url, const char *method,
                                  const sb_http_params_t *extra)
{
    sb__call_request(call, what, url, method, extra, "completed");
}

void sb__call_dial_action(sb_call_t *call, const char *url, const char *method,
                          int has_sip, const char *dial_sid, const char *status,
                          int64_t duration, int64_t ring_duration,
                          const char *sip_call_id, int sip_status,
                          const sb_call_pair_t *hdrs, size_t nhdrs,
                          const char *recording_url)
{
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    char num[32];
    sb_http_params_add(&p, "DialCallSid", dial_sid ? dial_sid : "null");
    sb_http_params_add(&p, "DialCallStatus", status);
    snprintf(num, sizeof num, "%lld", (long long)duration);
    sb_http_params_add(&p, "DialCallDuration", num);
    if (ring_duration >= 0) {
        snprintf(num, sizeof num, "%lld", (long long)ring_duration);
        sb_http_params_add(&p, "DialRingDuration", num);
    }
    if (has_sip) {
        sb_http_params_add(&p, "DialSipCallId", sip_call_id ? sip_call_id : "null");
        snprintf(num, sizeof num, "%d", sip_status);
        sb_http_params_add(&p, "DialSipResponseCode", num);
        for (size_t k = 0; k < nhdrs; k++) {
            char *name = sb_xasprintf("DialSipHeader_%s", hdrs[k].name);
            sb_http_params_add(&p, name, hdrs[k].value);
            free(name);
        }
    }
    if (recording_url) {
        sb_http_params_add(&p, "RecordingUrl", recording_url);
        sb_http_params_add(&p, "PublicRecordingUrl", recording_url);
    }
    sb__call_action_after_hangup(call, "dial action request", url, method, &p);
    sb_http_params_free(&p);
}
