/*
 * play.c: sound towards a call's phone. sb_call_play resolves what to
 * play (the audio cache for a URL, the TTS for text; a tone, digits or
 * silence go straight to the media engine), answers an unanswered inbound
 * call and waits for the ACK of that answer (a phone may drop RTP that
 * comes before it), then queues the sound on the call's endpoint and
 * reports once how it ended, with the detail a Notification needs.
 * sb_call_prefetch warms the cache and the TTS without playing.
 *
 * The source request and the answer run side by side, so a fetch costs
 * no time on top of the answer's round trip. A hang-up ends every play
 * of the call (sb__call_plays_over, from call.c); the dial's ringback is
 * in dial.c; frames, clocks, decoding and synthesis are media/'s.
 */
#include "call_int.h"

#include <string.h>

/* Owner: itself. Freed once it has finished (result decided) and no
 * callback still points at it (owed: the cache or TTS request, the media
 * engine's play, the deferred delivery). Holds one call reference. */
struct sb_call_play_s {
    sb_call_t *call;
    sb_call_play_t *next;           /* call->plays until finished */
    sb_call_play_done_cb cb;        /* NULL once cancelled or delivered */
    void *arg;

    char *url;                      /* for the detail of a failure */
    char *tone;
    char *digits;
    int loop;
    unsigned ms;

    sb_media_cache_req_t *cache_req;    /* under way */
    sb_media_tts_req_t *tts_req;
    sb_media_audio_t *audio;        /* one reference once resolved */
    int resolved;                   /* the source can be played */
    int playing;                    /* the engine owes its callback */
    int finished;
    int owed;                       /* callbacks still to come */

    int err;
    int http_status;
    int lang_fallback;
    char why[256];
};

static void play_maybe_free(sb_call_play_t *p)
{
    if (!p->finished || p->owed > 0)
        return;
    sb_media_audio_unref(p->audio);
    free(p->url);
    free(p->tone);
    free(p->digits);
    sb_call_unref(p->call);
    free(p);
}

static void deliver(void *arg)
{
    sb_call_play_t *p = arg;
    p->owed--;
    sb_call_play_done_cb cb = p->cb;
    p->cb = NULL;
    if (cb) {
        sb_call_play_result_t r = {
            .err = p->err,
            .http_status = p->http_status,
            .why = p->err && p->why[0] ? p->why : NULL,
            .language_fallback = p->lang_fallback,
        };
        cb(&r, p->arg);
    }
    play_maybe_free(p);
}

static void unlink_play(sb_call_play_t *p)
{
    for (sb_call_play_t **q = &p->call->plays; *q; q = &(*q)->next) {
        if (*q == p) {
            *q = p->next;
            break;
        }
    }
    p->next = NULL;
}

/* Decides the result (once): stops what still runs and queues the
 * delivery. */
static void finish(sb_call_play_t *p, int err)
{
    if (p->finished)
        return;
    p->finished = 1;
    p->err = err;
    unlink_play(p);
    if (p->cache_req) {
        sb_media_cache_req_t *r = p->cache_req;
        p->cache_req = NULL;
        sb_media_cache_cancel(r);       /* its callback still comes */
    }
    if (p->tts_req) {
        sb_media_tts_req_t *r = p->tts_req;
        p->tts_req = NULL;
        sb_media_tts_cancel(r);
    }
    if (p->playing && p->call->ep)
        sb_media_endpoint_stop(p->call->ep);
    p->owed++;
    sb__call_defer(p->call->mgr, deliver, p);
}

/* The call can carry sound: an answered outgoing call, or an inbound one
 * whose ACK came. */
static int media_ready(const sb_call_t *call)
{
    return !call->over && call->ep && call->status == SB_CALL_IN_PROGRESS &&
           (call->dir != SB_CALL_INBOUND || call->acked);
}

static void on_media_done(sb_media_endpoint_t *ep, int status, void *arg)
{
    (void)ep;
    sb_call_play_t *p = arg;
    p->owed--;
    p->playing = 0;
    if (!p->finished) {
        if (status == SB_ECANCELED && p->call->over)
            status = SB_EHANGUP;
        if (status != 0 && status != SB_ECANCELED && status != SB_EHANGUP)
            snprintf(p->why, sizeof p->why, "playback failed: %s",
                     sb_strerror(status));
        finish(p, status);
    }
    play_maybe_free(p);
}

static void try_start(sb_call_play_t *p)
{
    if (p->finished || !p->resolved || p->playing || !media_ready(p->call))
        return;
    sb_media_play_t src = {
        .audio = p->audio,
        .tone = p->tone,
        .digits = p->digits,
        .loop = p->loop,
        .ms = p->ms,
    };
    if (!p->audio && !p->tone && !p->digits)
        src.loop = 1;                   /* silence: once, ms long */
    int rc = sb_media_endpoint_play(p->call->ep, &src, on_media_done, p);
    if (rc != 0) {
        snprintf(p->why, sizeof p->why, "cannot play %s: %s",
                 p->tone ? p->tone : p->digits ? "digits" : "the sound",
                 sb_strerror(rc));
        finish(p, rc);
        return;
    }
    p->playing = 1;
    p->owed++;
}

static void on_cache_done(int status, sb_media_audio_t *audio,
                          const sb_media_cache_error_t *err, void *arg)
{
    sb_call_play_t *p = arg;
    p->owed--;
    p->cache_req = NULL;
    if (p->finished) {
        sb_media_audio_unref(audio);
        play_maybe_free(p);
        return;
    }
    if (status != 0) {
        p->http_status = err ? err->http_status : 0;
        if (p->http_status > 0)
            snprintf(p->why, sizeof p->why, "HTTP %d from %s", p->http_status,
                     p->url);
        else if (err && err->why[0])
            snprintf(p->why, sizeof p->why, "%s: %s", p->url, err->why);
        else
            snprintf(p->why, sizeof p->why, "%s: %s", p->url,
                     sb_strerror(status));
        sb_log_call(SB_LOG_INFO, p->call->sid, "play: %s", p->why);
        finish(p, status);
        return;
    }
    p->audio = audio;
    p->resolved = 1;
    try_start(p);
}

static void on_tts_done(int status, sb_media_audio_t *audio, int flags,
                        void *arg)
{
    sb_call_play_t *p = arg;
    p->owed--;
    p->tts_req = NULL;
    if (p->finished) {
        sb_media_audio_unref(audio);
        play_maybe_free(p);
        return;
    }
    p->lang_fallback = (flags & SB_MEDIA_TTS_LANG_FALLBACK) != 0;
    if (status != 0) {
        snprintf(p->why, sizeof p->why, "text-to-speech failed: %s",
                 sb_strerror(status));
        sb_log_call(SB_LOG_INFO, p->call->sid, "play: %s", p->why);
        finish(p, status);
        return;
    }
    p->audio = audio;
    p->resolved = 1;
    try_start(p);
}

static int given(const char *s)
{
    return s != NULL && s[0] != '\0';
}

int sb_call_play(sb_call_t *call, const sb_call_play_opts_t *opts,
                 sb_call_play_done_cb cb, void *arg, sb_call_play_t **out)
{
    if (call->over)
        return SB_EHANGUP;
    if (opts == NULL || opts->loop < 0)
        return SB_EINVAL;
    if (sb__call_gather_barged(call))
        return SB_EINTERRUPTED;         /* a prompt after the input came */
    int sources = given(opts->url) + given(opts->text) + given(opts->tone) +
                  given(opts->digits);
    if (sources > 1 || (sources == 0 && opts->ms == 0))
        return SB_EINVAL;
    if (call->ep == NULL)
        return SB_ESTATE;
    if (call->status != SB_CALL_IN_PROGRESS &&
        (call->dir != SB_CALL_INBOUND || call->leg == NULL ||
         call->local_sdp == NULL))
        return SB_ESTATE;               /* an outgoing call not answered */
    sb_call_mgr_t *mgr = call->mgr;
    if ((given(opts->url) && mgr->cache == NULL) ||
        (given(opts->text) && mgr->tts == NULL))
        return SB_EMEDIA;

    sb_call_play_t *p = SB_NEW(sb_call_play_t);
    p->call = call;
    sb_call_ref(call);
    p->cb = cb;
    p->arg = arg;
    p->loop = opts->loop;
    p->ms = opts->ms;
    if (given(opts->tone))
        p->tone = sb_xstrdup(opts->tone);
    if (given(opts->digits))
        p->digits = sb_xstrdup(opts->digits);
    p->next = call->plays;
    call->plays = p;

    int rc = 0;
    if (given(opts->url)) {
        p->url = sb_xstrdup(opts->url);
        rc = sb_media_cache_get(mgr->cache, opts->url, on_cache_done, p,
                                &p->cache_req);
    } else if (given(opts->text)) {
        rc = sb_media_tts_synth(mgr->tts, opts->text, opts->voice,
                                opts->language, on_tts_done, p, &p->tts_req);
    } else {
        p->resolved = 1;
    }
    if (rc != 0) {
        /* Nothing started: undo without a callback. */
        p->cache_req = NULL;
        p->tts_req = NULL;
        unlink_play(p);
        free(p->url);
        free(p->tone);
        free(p->digits);
        sb_call_unref(call);
        free(p);
        return rc;
    }
    if (!p->resolved)
        p->owed++;                      /* the cache's or the TTS's callback */

    if (call->status != SB_CALL_IN_PROGRESS) {
        rc = sb__call_answer_now(call);
        if (rc != 0) {
            p->cb = NULL;               /* the error is returned instead */
            finish(p, rc);
            return rc;
        }
        sb_log_call(SB_LOG_DEBUG, call->sid, "play: answered; waiting for ACK");
    }
    *out = p;
    try_start(p);
    return 0;
}

void sb_call_play_cancel(sb_call_play_t *p)
{
    if (p == NULL)
        return;
    p->cb = NULL;
    finish(p, SB_ECANCELED);
}

void sb__call_plays_interrupt(sb_call_t *call)
{
    while (call->plays)
        finish(call->plays, SB_EINTERRUPTED);   /* unlinks it */
}

void sb__call_plays_over(sb_call_t *call)
{
    while (call->plays)
        finish(call->plays, SB_EHANGUP);    /* unlinks it */
}

void sb__call_plays_ready(sb_call_t *call)
{
    sb_call_play_t *p = call->plays;
    while (p) {
        sb_call_play_t *next = p->next;     /* try_start may unlink p */
        try_start(p);
        p = next;
    }
}

/* ---- prefetch ------------------------------------------------------------------ */

static void on_prefetch_cached(int status, sb_media_audio_t *audio,
                               const sb_media_cache_error_t *err, void *arg)
{
    (void)status;
    (void)err;
    (void)arg;
    sb_media_audio_unref(audio);        /* the cache keeps its own */
}

static void on_prefetch_spoken(int status, sb_media_audio_t *audio, int flags,
                               void *arg)
{
    (void)status;
    (void)flags;
    (void)arg;
    sb_media_audio_unref(audio);
}

int sb_call_prefetch(sb_call_t *call, const sb_call_play_opts_t *opts)
{
    sb_call_mgr_t *mgr = call->mgr;
    if (opts == NULL)
        return SB_EINVAL;
    if (given(opts->url)) {
        if (mgr->cache == NULL)
            return SB_EMEDIA;
        sb_media_cache_req_t *r;
        return sb_media_cache_get(mgr->cache, opts->url, on_prefetch_cached,
                                  NULL, &r);
    }
    if (given(opts->text)) {
        if (mgr->tts == NULL)
            return SB_EMEDIA;
        sb_media_tts_req_t *r;
        return sb_media_tts_synth(mgr->tts, opts->text, opts->voice,
                                  opts->language, on_prefetch_spoken, NULL, &r);
    }
    return SB_EINVAL;
}
