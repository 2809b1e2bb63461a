/*
 * record.c: <Record>. Answers the call if needed, plays the beep, then
 * records the caller into "<RecordingSid>.wav" in recordings.dir through
 * the media engine's recorder (silence timeout against a noise floor,
 * max length, trailing silence trimmed), ends on a finishing key, and
 * stores a Recording row once the file is complete.
 *
 * A caller who hangs up mid-recording still gets a Recording and, since
 * the application cannot run any more, the call module requests its
 * action itself (with Digits=hangup), as Restcomm does. The waiter may go
 * away first (its session was cancelled by the hang-up): the recording
 * goes on to its end regardless (sb_call_record_detach).
 *
 * <Dial record> uses the same object on a bridge (sb__call_record_bridge):
 * no beep, both legs into one file (mixed, or one channel each), started
 * once the bridge is in place and stopped by the dial, which waits for
 * the file before it reports (so the RecordingUrl it gives can be
 * fetched at once).
 *
 * A call created over REST with Record=true is recorded whole
 * (sb__call_record_whole): both sides, what its phone says and what it
 * is sent, mixed into one file from the answer to the hang-up.
 *
 * Owner: itself; freed after its completion, once no callback is owed.
 * Holds a call reference (and one on the other leg of a bridge).
 * call->record points here while a <Record> runs.
 */
#include "call_int.h"
#include "recording_store.h"

#include <string.h>
#include <unistd.h>

#define BEEP_MS 500

struct sb_call_record_s {
    sb_call_t *call;
    sb_call_mgr_t *mgr;
    sb_call_record_done_cb cb;      /* NULL once detached or delivered */
    void *arg;
    unsigned max_ms, silence_ms;
    char keys[17];
    int trim;
    char *action_url, *action_method;
    sb_call_t *other;               /* a bridge's other leg (a reference) */
    int dual;
    int whole;                      /* both sides of call itself */
    int stop_asked;                 /* stopped before the recorder ran */

    char sid[SB_SID_SIZE];
    char *path;
    sb_call_play_t *beep;
    sb_media_rec_t *rec;
    int started;                    /* the recorder runs */
    int finished;
    int listening;
    char key;                       /* the finishing key, or 0 */
    int hung_up;
    int owed;

    int err;
    double duration_s;
    char why[200];
    int stored;
};

static void record_maybe_free(sb_call_record_t *r)
{
    if (!r->finished || r->owed > 0)
        return;
    free(r->path);
    free(r->action_url);
    free(r->action_method);
    if (r->other)
        sb_call_unref(r->other);
    r->mgr->recordings--;
    sb_call_unref(r->call);
    free(r);
}

char *sb_call_recording_url(sb_call_mgr_t *mgr, const char *account_sid,
                            const char *sid)
{
    const sb_config_t *cfg = mgr->cfg;
    const char *host = cfg->http_host;
    /* A wildcard listener is not an address anyone can fetch from. */
    if (host == NULL || !strcmp(host, "0.0.0.0") || !strcmp(host, "::"))
        host = cfg->media_ip ? cfg->media_ip : cfg->sip_domain;
    int v6 = host && strchr(host, ':') != NULL;
    return sb_xasprintf("http://%s%s%s:%d/restcomm/2012-04-24/Accounts/%s/"
                        "Recordings/%s.wav", v6 ? "[" : "", host ? host : "127.0.0.1",
                        v6 ? "]" : "", cfg->http_port, account_sid, sid);
}

static sb_call_record_t *record_new(sb_call_t *call, sb_call_record_done_cb cb,
                                    void *arg)
{
    sb_call_record_t *r = SB_NEW(sb_call_record_t);
    r->call = call;
    r->mgr = call->mgr;
    r->mgr->recordings++;
    sb_call_ref(call);
    r->cb = cb;
    r->arg = arg;
    sb_sid_new("RE", r->sid);
    r->path = sb_xasprintf("%s/%s.wav", r->mgr->cfg->recordings_dir, r->sid);
    return r;
}

static void listen_off(sb_call_record_t *r)
{
    if (!r->listening)
        return;
    r->listening = 0;
    if (r->call->ep)
        sb_media_endpoint_listen(r->call->ep, NULL, NULL, NULL);
}

static void deliver(void *arg)
{
    sb_call_record_t *r = arg;
    r->owed--;
    sb_call_record_done_cb cb = r->cb;
    r->cb = NULL;
    char *url = r->stored ? sb_call_recording_url(r->mgr, r->call->account_sid,
                                                  r->sid)
                          : NULL;
    char key[2] = {r->key, 0};
    const char *digits = r->hung_up ? "hangup" : key;
    if (cb) {
        sb_call_record_result_t res = {
            .err = r->err,
            .sid = r->stored ? r->sid : NULL,
            .url = url,
            .duration_s = r->duration_s,
            .digits = digits,
            .why = r->why[0] ? r->why : NULL,
        };
        cb(&res, r->arg);
    } else if (r->call->over && r->stored && r->action_url) {
        /* Nobody to run the action: request it from here. */
        sb_http_params_t p = SB_HTTP_PARAMS_INIT;
        char num[32];
        snprintf(num, sizeof num, "%.0f", r->duration_s);
        sb_http_params_add(&p, "RecordingUrl", url);
        sb_http_params_add(&p, "PublicRecordingUrl", url);
        sb_http_params_add(&p, "RecordingSid", r->sid);
        sb_http_params_add(&p, "RecordingDuration", num);
        sb_http_params_add(&p, "Digits", digits);
        sb__call_action_after_hangup(r->call, "record", r->action_url,
                                     r->action_method, &p);
        sb_http_params_free(&p);
    }
    free(url);
    record_maybe_free(r);
}

/* Decides the result (once) and queues its delivery. */
static void finish(sb_call_record_t *r, int err)
{
    if (r->finished)
        return;
    r->finished = 1;
    if (err && !r->err)
        r->err = err;
    if (r->call->record == r)
        r->call->record = NULL;
    listen_off(r);
    r->owed++;
    sb__call_defer(r->mgr, deliver, r);
}

static void store_row(sb_call_record_t *r, uint64_t duration_ms)
{
    sb_call_t *call = r->call;
    r->duration_s = (double)duration_ms / 1000.0;
    sb_recording_t row = {
        .sid = r->sid,
        .account_sid = call->account_sid,
        .call_sid = call->sid,
        .source = r->other ? "DialVerb" : r->whole ? "OutboundAPI" : "RecordVerb",
        .status = r->err ? "failed" : "completed",
        .duration = r->duration_s,
        .channels = r->other && r->dual ? 2 : 1,
        .start_time = (int64_t)(sb__call_now_ms() - (int64_t)duration_ms) / 1000,
    };
    int rc = sb_store_recording_put(r->mgr->store, &row);
    if (rc != 0) {
        sb_log_call(SB_LOG_WARN, call->sid, "record: cannot store %s: %s", r->sid,
                    sb_strerror(rc));
        return;
    }
    r->stored = 1;
}

static void on_recorded(sb_media_rec_t *rec, const sb_media_rec_result_t *res,
                        void *arg)
{
    (void)rec;
    sb_call_record_t *r = arg;
    r->owed--;
    r->rec = NULL;
    if (res->status != 0) {
        r->err = res->status;
        snprintf(r->why, sizeof r->why, "%s",
                 res->why ? res->why : sb_strerror(res->status));
        sb_log_call(SB_LOG_WARN, r->call->sid, "record: %s", r->why);
    }
    if (res->reason == SB_MEDIA_REC_HANGUP || r->call->over)
        r->hung_up = 1;
    sb_log_call(SB_LOG_INFO, r->call->sid,
                "record: %s ended (%s), %llu ms, %llu ms of voice",
                r->sid, r->key ? "key" : r->hung_up ? "hangup"
                        : res->reason == SB_MEDIA_REC_SILENCE ? "silence"
                        : res->reason == SB_MEDIA_REC_MAX_LENGTH ? "max length"
                        : "stopped",
                (unsigned long long)res->duration_ms,
                (unsigned long long)res->voice_ms);
    /* A recording with nothing in it is not kept (Twilio's rule: the
     * action is then not requested and the next verb runs). */
    if (res->duration_ms > 0 && (res->voice_ms > 0 || r->other || r->whole))
        store_row(r, res->duration_ms);
    else
        unlink(r->path);
    finish(r, 0);
    record_maybe_free(r);
}

static void start_recording(sb_call_record_t *r)
{
    sb_call_t *call = r->call;
    if (call->over || call->ep == NULL) {
        r->hung_up = 1;
        finish(r, SB_EHANGUP);
        return;
    }
    if (r->keys[0]) {
        sb_media_listen_t l = {.dtmf = 1};
        if (sb_media_endpoint_listen(call->ep, &l, NULL, NULL) == 0)
            r->listening = 1;
    }
    sb_media_rec_opts_t o = {
        .path = r->path,
        .max_ms = r->max_ms,
        .silence_ms = r->silence_ms,
        .trim = r->trim,
        .other = r->other ? r->other->ep : NULL,
        .dual = r->dual,
        .sent = r->whole,
    };
    if (r->other && (r->other->over || o.other == NULL)) {
        finish(r, SB_EHANGUP);
        return;
    }
    int rc = sb_media_record_start(call->ep, &o, on_recorded, r, &r->rec);
    if (rc != 0) {
        snprintf(r->why, sizeof r->why, "cannot record: %s", sb_strerror(rc));
        finish(r, rc);
        return;
    }
    r->started = 1;
    r->owed++;
    sb_log_call(SB_LOG_INFO, call->sid, "record: %s started", r->sid);
}

static void on_beeped(const sb_call_play_result_t *res, void *arg)
{
    sb_call_record_t *r = arg;
    r->owed--;
    r->beep = NULL;
    if (!r->finished) {
        if (res->err == SB_EHANGUP) {
            r->hung_up = 1;
            finish(r, SB_EHANGUP);
        } else {
            start_recording(r);     /* a beep that failed is no reason */
        }
    }
    record_maybe_free(r);
}

void sb__call_record_digit(sb_call_t *call, char digit)
{
    sb_call_record_t *r = call->record;
    if (r == NULL || r->finished || r->key || !strchr(r->keys, digit))
        return;
    if (!r->started)
        return;                     /* during the beep: not yet */
    r->key = digit;
    if (r->rec)
        sb_media_record_stop(r->rec);
}

int sb_call_record(sb_call_t *call, const sb_call_record_opts_t *opts,
                   sb_call_record_done_cb cb, void *arg,
                   sb_call_record_t **out)
{
    if (call->over)
        return SB_EHANGUP;
    if (opts == NULL)
        return SB_EINVAL;
    if (call->ep == NULL)
        return SB_ESTATE;
    if (call->record)
        return SB_EBUSY;
    int max = call->mgr->cfg->recordings_max_concurrent;
    if (max > 0 && call->mgr->recordings >= max)
        return SB_ELIMIT;
    sb_call_record_t *r = record_new(call, cb, arg);
    r->max_ms = opts->max_ms;
    r->silence_ms = opts->silence_ms;
    r->trim = opts->trim;
    if (opts->finish_on_key)
        snprintf(r->keys, sizeof r->keys, "%s", opts->finish_on_key);
    if (opts->action_url && *opts->action_url) {
        r->action_url = sb_xstrdup(opts->action_url);
        r->action_method = sb_xstrdup(opts->action_method && *opts->action_method
                                          ? opts->action_method : "POST");
    }
    call->record = r;
    *out = r;

    /* The beep answers an unanswered call and waits for its ACK, as any
     * play; without a beep, a silent play of one frame does the same. */
    sb_call_play_opts_t beep = {.tone = opts->beep ? "beep" : NULL,
                                .ms = opts->beep ? BEEP_MS : 20, .loop = 1};
    int rc = sb_call_play(call, &beep, on_beeped, r, &r->beep);
    if (rc != 0) {
        if (rc == SB_EHANGUP)
            r->hung_up = 1;
        snprintf(r->why, sizeof r->why, "cannot start: %s", sb_strerror(rc));
        finish(r, rc);
        return 0;
    }
    r->owed++;
    return 0;
}

/* ---- <Dial record> ---------------------------------------------------------------- */

static void on_bridged(sb_media_endpoint_t *ep, int status, void *arg)
{
    (void)ep;
    sb_call_record_t *r = arg;
    r->owed--;
    if (!r->finished) {
        if (status != 0 || r->stop_asked)
            finish(r, status ? status : 0);
        else
            start_recording(r);
    }
    record_maybe_free(r);
}

sb_call_record_t *sb__call_record_bridge(sb_call_t *call, sb_call_t *other,
                                         int dual, sb_call_record_done_cb cb,
                                         void *arg)
{
    if (call->ep == NULL || other->ep == NULL)
        return NULL;
    int max = call->mgr->cfg->recordings_max_concurrent;
    if (max > 0 && call->mgr->recordings >= max) {
        sb_log_call(SB_LOG_WARN, call->sid, "dial: not recorded: %d "
                    "recordings at once (recordings.max_concurrent)", max);
        return NULL;
    }
    sb_call_record_t *r = record_new(call, cb, arg);
    r->other = other;
    sb_call_ref(other);
    r->dual = dual;
    /* The bridge is in place (both endpoints on one worker) once this
     * connect, queued behind the dial's own, completes. */
    if (sb_media_connect(call->ep, other->ep, on_bridged, r) != 0) {
        finish(r, SB_ESTATE);
        return r;
    }
    r->owed++;
    return r;
}

sb_call_record_t *sb__call_record_whole(sb_call_t *call)
{
    if (call->ep == NULL || call->over)
        return NULL;
    int max = call->mgr->cfg->recordings_max_concurrent;
    if (max > 0 && call->mgr->recordings >= max) {
        sb_log_call(SB_LOG_WARN, call->sid, "call: not recorded: %d "
                    "recordings at once (recordings.max_concurrent)", max);
        return NULL;
    }
    sb_call_record_t *r = record_new(call, NULL, NULL);
    r->whole = 1;
    start_recording(r);
    record_maybe_free(r);
    return r;
}

const char *sb__call_record_sid(const sb_call_record_t *r)
{
    return r->sid;
}

void sb__call_record_stop(sb_call_record_t *r)
{
    if (r->finished)
        return;
    r->stop_asked = 1;
    if (r->rec)
        sb_media_record_stop(r->rec);
}

void sb_call_record_detach(sb_call_record_t *r)
{
    if (r)
        r->cb = NULL;
}
