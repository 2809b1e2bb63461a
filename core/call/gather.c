/*
 * gather.c: collecting a caller's input for <Gather>. A gather listens
 * from its start (digits pressed during the prompts count), and its first
 * input interrupts the prompts: every play of the call ends with
 * SB_EINTERRUPTED and new plays are refused with it, so the RCML prompts
 * (ordinary Say/Play/Pause verbs, run by the interpreter between start and
 * wait) fall through at once. sb_call_gather_wait marks the end of the
 * prompts: the timeout runs from there, and again after each digit.
 *
 * Digits come from the media engine's DTMF events: RFC 4733 events, or
 * in-band tones for a phone that did not negotiate telephone-event (the
 * engine runs its detector only then, so a digit cannot arrive twice).
 * Speech goes from the endpoint's tap (on the media worker) straight to
 * a recognizer session (media/asr.h); its result comes back here.
 *
 * Owner: the caller of start, through wait (freed after the callback) or
 * cancel. Holds a call reference; call->gather points here while it
 * collects.
 */
#include "call_int.h"
#include "asr.h"

#include <string.h>

struct sb_call_gather_s {
    sb_call_t *call;
    sb_call_mgr_t *mgr;
    int dtmf, speech;
    char finish_keys[17];
    int num_digits;
    unsigned timeout_ms;
    char digits[SB_CALL_GATHER_MAX_DIGITS + 1];
    int ndigits;
    char key;

    int barged;                 /* input came: prompts stop */
    int waiting;                /* the prompts are over */
    int finished;               /* the result is decided */
    int err;
    const char *how;
    char *speech_text;
    double confidence;
    char speech_error[160];

    sb_call_gather_done_cb cb;
    void *arg;
    int released;               /* wait's callback ran, or cancelled */
    int owed;                   /* callbacks still to come: timer close,
                                   listen off, recognizer, deferred */
    uv_timer_t timer;
    int timer_open;
    int listening;

    sb_media_asr_sess_t *asr;   /* our reference, until listen is off */
    int asr_owed;               /* its on_result is still to come */
    int speech_heard;           /* the caller started speaking */
    char *partial_url, *partial_method;
    int partial_seq;
};

static int keys_valid(const char *k)
{
    for (; *k; k++)
        if (!strchr("0123456789*#ABCDabcd", *k))
            return 0;
    return 1;
}

static void gather_maybe_free(sb_call_gather_t *g)
{
    if (!g->released || g->owed > 0)
        return;
    free(g->speech_text);
    free(g->partial_url);
    free(g->partial_method);
    sb_call_unref(g->call);
    free(g);
}

static void on_timer_closed(uv_handle_t *h)
{
    sb_call_gather_t *g = h->data;
    g->owed--;
    sb__call_mgr_handle_closed(g->mgr);
    gather_maybe_free(g);
}

/* No thread feeds the recognizer once the tap is off: drop it. */
static void asr_release(sb_call_gather_t *g)
{
    if (g->asr) {
        sb_media_asr_sess_t *s = g->asr;
        g->asr = NULL;
        sb_media_asr_unref(s);
    }
}

static void on_listen_off(sb_media_endpoint_t *ep, int status, void *arg)
{
    (void)ep;
    (void)status;
    sb_call_gather_t *g = arg;
    g->owed--;
    asr_release(g);
    gather_maybe_free(g);
}

/* Stops listening and timing; the call may gather again. */
static void stop_collecting(sb_call_gather_t *g)
{
    sb_call_t *call = g->call;
    if (call->gather == g)
        call->gather = NULL;
    if (g->timer_open) {
        g->timer_open = 0;
        uv_close((uv_handle_t *)&g->timer, on_timer_closed);
    }
    if (g->asr && g->asr_owed)
        sb_media_asr_cancel(g->asr);    /* its result comes, ignored */
    if (g->listening) {
        g->listening = 0;
        if (call->ep && sb_media_endpoint_listen(call->ep, NULL, on_listen_off,
                                                 g) == 0) {
            g->owed++;
            return;
        }
    }
    asr_release(g);
}

static void deliver(void *arg)
{
    sb_call_gather_t *g = arg;
    g->owed--;
    sb_call_gather_done_cb cb = g->cb;
    g->cb = NULL;
    if (cb && !g->released) {
        sb_call_gather_result_t r = {
            .err = g->err,
            .how = g->how,
            .digits = g->digits,
            .key = g->key,
            .speech = g->speech_text,
            .confidence = g->confidence,
            .speech_error = g->speech_error[0] ? g->speech_error : NULL,
        };
        cb(&r, g->arg);
    }
    g->released = 1;
    gather_maybe_free(g);
}

static void finish(sb_call_gather_t *g, int err, const char *how)
{
    if (g->finished)
        return;
    g->finished = 1;
    g->err = err;
    g->how = how;
    stop_collecting(g);
    if (g->waiting && g->cb) {
        g->owed++;
        sb__call_defer(g->mgr, deliver, g);
    }
}

/* The first input: the prompts stop. */
static void barge(sb_call_gather_t *g)
{
    if (g->barged)
        return;
    g->barged = 1;
    sb__call_plays_interrupt(g->call);
}

/* ---- speech ---------------------------------------------------------------- */

static void on_speech(void *arg)
{
    sb_call_gather_t *g = arg;
    if (g->finished)
        return;
    g->speech_heard = 1;
    barge(g);
    /* The utterance ends by itself (end of speech): no timeout cuts it. */
    if (g->timer_open)
        uv_timer_stop(&g->timer);
}

/* partialResultCallback. The recognizer decodes an utterance whole, once
 * it has ended, so there is one "partial" result per utterance: its text,
 * with Stability 1, sent before the action is requested. */
static void send_partial(sb_call_gather_t *g, const char *text)
{
    if (g->partial_url == NULL)
        return;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    char num[16];
    sb_http_params_add(&p, "UnstableSpeechResult", text);
    sb_http_params_add(&p, "Stability", "1.0");
    snprintf(num, sizeof num, "%d", g->partial_seq++);
    sb_http_params_add(&p, "SequenceNumber", num);
    sb__call_request(g->call, "gather: partial result", g->partial_url,
                     g->partial_method, &p, NULL);
    sb_http_params_free(&p);
}

static void on_speech_result(const sb_media_asr_result_t *r, void *arg)
{
    sb_call_gather_t *g = arg;
    g->asr_owed = 0;
    g->owed--;
    if (!g->finished) {
        if (r->status != 0) {
            snprintf(g->speech_error, sizeof g->speech_error,
                     "speech recognition failed: %s", sb_strerror(r->status));
            finish(g, 0, "timeout");
        } else if (r->text && r->text[0]) {
            g->speech_text = sb_xstrdup(r->text);
            g->confidence = r->confidence;
            send_partial(g, r->text);
            sb_log_call(SB_LOG_INFO, g->call->sid,
                        "gather: speech \"%s\" (confidence %.2f)", r->text,
                        r->confidence);
            finish(g, 0, "speech");
        } else if (r->speech_seen) {
            sb_log_call(SB_LOG_INFO, g->call->sid,
                        "gather: speech that matched no hint");
            finish(g, 0, "no-match");
        } else {
            finish(g, 0, "timeout");
        }
    }
    gather_maybe_free(g);
}

/* Speech input: a recognizer session fed by the endpoint's tap (on the
 * media worker, straight into the session). Without a recognizer (none
 * configured, its model missing) or without a usable hint, the gather
 * goes on with digits only and says why (speech_error). */
static void speech_start(sb_call_gather_t *g, const sb_call_gather_opts_t *o,
                         sb_media_listen_t *l)
{
    sb_media_asr_t *asr = g->mgr->asr;
    if (asr == NULL) {
        snprintf(g->speech_error, sizeof g->speech_error,
                 "speech recognition is not available on this server");
        g->speech = 0;
        g->dtmf = l->dtmf = 1;          /* digits still work */
        return;
    }
    char unknown[128] = "";
    int rc = sb_media_asr_check_hints(asr, o->hints ? o->hints : "", unknown,
                                      sizeof unknown);
    if (rc > 0 && unknown[0])
        snprintf(g->speech_error, sizeof g->speech_error,
                 "hints not in the dictionary, left out: %s", unknown);
    sb_media_asr_events_t ev = {
        .on_speech = on_speech,
        .on_result = on_speech_result,
        .arg = g,
    };
    if (rc > 0)
        rc = sb_media_asr_start(asr, o->hints, o->language,
                                o->speech_timeout_ms ? o->speech_timeout_ms
                                                     : 1000,
                                &ev, &g->asr);
    if (rc < 0) {
        snprintf(g->speech_error, sizeof g->speech_error,
                 rc == SB_EINVAL && o->language &&
                         strncasecmp(o->language, "en", 2) != 0
                     ? "speech: only English (en-*) is available"
                     : "speech: no usable hint (%s)", sb_strerror(rc));
        g->speech = 0;
        g->dtmf = l->dtmf = 1;          /* digits still work */
        g->asr = NULL;
        return;
    }
    g->asr_owed = 1;
    g->owed++;
    l->tap = sb_media_asr_tap;
    l->tap_arg = g->asr;
}

static void on_timeout(uv_timer_t *t)
{
    sb_call_gather_t *g = t->data;
    if (g->asr && g->asr_owed && g->speech_heard) {
        sb_media_asr_finish(g->asr);    /* its result ends the gather */
        return;
    }
    finish(g, 0, "timeout");
}

static void arm_timer(sb_call_gather_t *g)
{
    if (g->timer_open && g->waiting && !g->finished)
        uv_timer_start(&g->timer, on_timeout, g->timeout_ms, 0);
}

void sb__call_gather_digit(sb_call_t *call, char digit)
{
    sb_call_gather_t *g = call->gather;
    if (g == NULL || g->finished || !g->dtmf)
        return;
    barge(g);
    if (strchr(g->finish_keys, digit)) {
        g->key = digit;
        finish(g, 0, "finish-key");
        return;
    }
    if (g->ndigits < SB_CALL_GATHER_MAX_DIGITS) {
        g->digits[g->ndigits++] = digit;
        g->digits[g->ndigits] = 0;
    }
    if ((g->num_digits > 0 && g->ndigits >= g->num_digits) ||
        g->ndigits >= SB_CALL_GATHER_MAX_DIGITS) {
        finish(g, 0, "num-digits");
        return;
    }
    arm_timer(g);
}

void sb__call_gather_begin(sb_call_t *call)
{
    sb_call_gather_t *g = call->gather;
    if (g && !g->finished && g->dtmf)
        barge(g);
}

void sb__call_gather_over(sb_call_t *call)
{
    if (call->gather)
        finish(call->gather, SB_EHANGUP, "hangup");
}

int sb__call_gather_barged(const sb_call_t *call)
{
    return call->gather && call->gather->barged;
}

int sb_call_gather_start(sb_call_t *call, const sb_call_gather_opts_t *opts,
                         sb_call_gather_t **out)
{
    if (call->over)
        return SB_EHANGUP;
    if (!opts || (!opts->dtmf && !opts->speech))
        return SB_EINVAL;
    if (opts->finish_on_key && (strlen(opts->finish_on_key) > 16 ||
                                !keys_valid(opts->finish_on_key)))
        return SB_EINVAL;
    if (call->ep == NULL || call->gather)
        return SB_ESTATE;
    sb_call_gather_t *g = SB_NEW(sb_call_gather_t);
    g->call = call;
    g->mgr = call->mgr;
    sb_call_ref(call);
    g->dtmf = opts->dtmf;
    g->speech = opts->speech;
    if (opts->finish_on_key)
        snprintf(g->finish_keys, sizeof g->finish_keys, "%s", opts->finish_on_key);
    g->num_digits = opts->num_digits > 0 ? opts->num_digits : 0;
    g->timeout_ms = opts->timeout_ms;
    if (opts->partial_url && opts->partial_url[0] && g->speech) {
        g->partial_url = sb_xstrdup(opts->partial_url);
        g->partial_method = sb_xstrdup(opts->partial_method &&
                                               opts->partial_method[0]
                                           ? opts->partial_method : "POST");
    }
    uv_timer_init(g->mgr->loop, &g->timer);
    g->timer.data = g;
    g->timer_open = 1;
    g->owed++;                          /* the timer's close */
    g->mgr->handles++;
    call->gather = g;

    sb_media_listen_t l = {.dtmf = opts->dtmf};
    if (g->speech)
        speech_start(g, opts, &l);
    if (sb_media_endpoint_listen(call->ep, &l, NULL, NULL) == 0)
        g->listening = 1;
    else if (g->asr && g->asr_owed)
        sb_media_asr_cancel(g->asr);
    *out = g;
    return 0;
}

void sb_call_gather_wait(sb_call_gather_t *g, sb_call_gather_done_cb cb,
                         void *arg)
{
    g->cb = cb;
    g->arg = arg;
    g->waiting = 1;
    if (g->finished) {
        g->owed++;
        sb__call_defer(g->mgr, deliver, g);
        return;
    }
    arm_timer(g);
}

void sb_call_gather_cancel(sb_call_gather_t *g)
{
    if (g == NULL)
        return;
    g->cb = NULL;
    finish(g, SB_ECANCELED, "canceled");
    g->released = 1;
    gather_maybe_free(g);
}
