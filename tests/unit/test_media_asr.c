/*
 * test_media_asr.c: speech recognition (core/media/asr.c) on a real libuv
 * loop with the real pocketsphinx and Debian's en-us model. The speech is
 * the project's own text-to-speech (espeak-ng, 8 kHz), fed in 20 ms frames
 * as a media worker would, from the loop thread or from other threads.
 * Checked: the words recognized against a grammar of hints, numbers,
 * silence, hints the dictionary lacks, cancel, the FIFO of utterances
 * past max_concurrent decoders, the buffer bound, and close with sessions
 * in flight. Every callback must come from the loop, never inside the
 * call that caused it, and on_result exactly once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "asr.h"
#include "media.h"
#include "util.h"

#define HINTS "sales, support, four two seven, billing"

/* ---- speech, rendered once ----------------------------------------------- */

enum { SALES, SUPPORT, DIGITS, BILLING, NSPEECH };
static const char *const speech_text[NSPEECH] = {
    "sales", "support", "four two seven", "billing",
};
static sb_media_audio_t *speech[NSPEECH];

static void on_synth(int status, sb_media_audio_t *audio, int flags,
                     void *arg)
{
    (void)flags;
    sb_media_audio_t **slot = arg;
    assert_int_equal(status, 0);
    *slot = audio;
}

static void on_tts_closed(void *arg)
{
    (void)arg;
}

static int render_speech(void **state)
{
    (void)state;
    uv_loop_t loop;
    sb_media_tts_t *tts;
    if (uv_loop_init(&loop) != 0 || sb_media_tts_new(&loop, NULL, &tts) != 0)
        return -1;
    for (int i = 0; i < NSPEECH; i++)
        if (sb_media_tts_synth(tts, speech_text[i], "woman", "en-US",
                               on_synth, &speech[i], NULL) != 0)
            return -1;
    uv_run(&loop, UV_RUN_DEFAULT);
    sb_media_tts_close(tts, on_tts_closed, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        return -1;
    for (int i = 0; i < NSPEECH; i++)
        if (speech[i] == NULL)
            return -1;
    return 0;
}

static int free_speech(void **state)
{
    (void)state;
    for (int i = 0; i < NSPEECH; i++)
        sb_media_audio_unref(speech[i]);
    return 0;
}

/* A call's audio: lead_ms of faint noise, the word(s), tail_ms of noise. */
typedef struct utt_s {
    int16_t *pcm;
    size_t n;
} utt_t;

static utt_t utt_make(int which, unsigned lead_ms, unsigned tail_ms)
{
    utt_t u;
    size_t lead = lead_ms * 8, tail = tail_ms * 8;
    size_t ns = which >= 0 ? speech[which]->nsamples : 0;
    u.n = lead + ns + tail;
    u.pcm = calloc(u.n, sizeof *u.pcm);
    uint32_t x = 12345;
    for (size_t i = 0; i < u.n; i++) {
        x = x * 1103515245u + 12345u;
        u.pcm[i] = (int16_t)((int)((x >> 16) % 7) - 3);
    }
    for (size_t i = 0; i < ns; i++)
        u.pcm[lead + i] = (int16_t)(u.pcm[lead + i] + speech[which]->pcm[i]);
    return u;
}

/* ---- harness ------------------------------------------------------------- */

static int in_api;              /* a callback inside an API call sees 1 */
static int order_counter;

typedef struct res_s {
    int calls, speech_calls;
    int status;
    char text[128];
    char unknown[128];
    double confidence;
    int speech_seen;
    uint64_t speech_ms, dropped_ms;
    int order, speech_order;
    sb_media_asr_t *close_asr;  /* close from inside on_result */
    int *closed;
} res_t;

static void on_speech(void *arg)
{
    res_t *r = arg;
    assert_int_equal(in_api, 0);
    r->speech_calls++;
    r->speech_order = ++order_counter;
}

static void on_closed(void *arg)
{
    int *n = arg;
    (*n)++;
}

static void on_result(const sb_media_asr_result_t *x, void *arg)
{
    res_t *r = arg;
    assert_int_equal(in_api, 0);
    r->calls++;
    r->status = x->status;
    snprintf(r->text, sizeof r->text, "%s", x->text);
    snprintf(r->unknown, sizeof r->unknown, "%s", x->unknown_words);
    r->confidence = x->confidence;
    r->speech_seen = x->speech_seen;
    r->speech_ms = x->speech_ms;
    r->dropped_ms = x->dropped_ms;
    r->order = ++order_counter;
    assert_true(x->confidence >= 0.0 && x->confidence <= 1.0);
    if (x->text[0] == '\0')
        assert_true(x->confidence == 0.0);
    if (r->close_asr != NULL) {
        sb_media_asr_t *asr = r->close_asr;
        r->close_asr = NULL;
        sb_media_asr_close(asr, on_closed, r->closed);
    }
}

static sb_media_asr_events_t events(res_t *r)
{
    memset(r, 0, sizeof *r);
    sb_media_asr_events_t ev = {on_speech, NULL, on_result, r};
    return ev;
}

static int start(sb_media_asr_t *asr, const char *hints, unsigned end_ms,
                 res_t *r, sb_media_asr_sess_t **s)
{
    sb_media_asr_events_t ev = events(r);
    in_api = 1;
    int rc = sb_media_asr_start(asr, hints, "en-US", end_ms, &ev, s);
    in_api = 0;
    return rc;
}

static void feed(sb_media_asr_sess_t *s, const int16_t *pcm, size_t n)
{
    in_api = 1;
    for (size_t i = 0; i < n; i += 160)
        sb_media_asr_feed(s, pcm + i, n - i < 160 ? n - i : 160);
    in_api = 0;
}

typedef struct fixture_s {
    uv_loop_t loop;
    sb_media_asr_t *asr;
} fixture_t;

/* Closed by teardown when a test failed before closing it. */
static fixture_t *live_fixture;

static fixture_t *fixture_new(int max_concurrent, size_t max_buffer_ms)
{
    fixture_t *f = calloc(1, sizeof *f);
    live_fixture = f;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    sb_media_asr_opts_t o = {NULL, NULL, max_concurrent, max_buffer_ms};
    assert_int_equal(sb_media_asr_new(&f->loop, &o, &f->asr), 0);
    order_counter = 0;
    return f;
}

static void fixture_free(fixture_t *f)
{
    int closed = 0;
    if (f->asr != NULL) {
        in_api = 1;
        sb_media_asr_close(f->asr, on_closed, &closed);
        in_api = 0;
        assert_int_equal(closed, 0);        /* later, from the loop */
    }
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    if (f->asr != NULL)
        assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    live_fixture = NULL;
    free(f);
}

/* ---- recognition ------------------------------------------------------------- */

/* Each word of the hints, said after some silence and followed by more:
 * the end of speech ends the utterance (no finish) and the hint comes
 * back; barge-in is reported first, once. A number written in digits
 * comes back in digits. */
static void test_media_asr_hints_are_recognized(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 0);
    static const struct { int which; const char *hints, *want; } t[] = {
        {SALES, HINTS, "sales"},
        {SUPPORT, HINTS, "support"},
        {DIGITS, HINTS, "four two seven"},
        {DIGITS, "Sales, 427, billing", "427"},
        {BILLING, "Sales., \"Support!\", BILLING?", "billing"},
    };
    enum { N = sizeof t / sizeof *t };
    res_t r[N];
    sb_media_asr_sess_t *s[N];
    for (int i = 0; i < N; i++) {
        assert_int_equal(start(f->asr, t[i].hints, 700, &r[i], &s[i]), 0);
        utt_t u = utt_make(t[i].which, 500, 1200);
        feed(s[i], u.pcm, u.n);
        free(u.pcm);
        assert_int_equal(r[i].calls, 0);
    }
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < N; i++) {
        print_message("\"%s\" -> \"%s\" (%.2f, %llu ms)\n",
                      speech_text[t[i].which], r[i].text, r[i].confidence,
                      (unsigned long long)r[i].speech_ms);
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, 0);
        assert_string_equal(r[i].text, t[i].want);
        assert_int_equal(r[i].speech_seen, 1);
        assert_int_equal(r[i].speech_calls, 1);
        assert_true(r[i].speech_order < r[i].order);
        assert_true(r[i].confidence > 0.0);
        assert_string_equal(r[i].unknown, "");
        /* The utterance, not the silence around it. */
        uint64_t ms = sb_media_audio_ms(speech[t[i].which]);
        assert_true(r[i].speech_ms >= ms / 2 && r[i].speech_ms <= ms + 1000);
        sb_media_asr_unref(s[i]);
    }
    sb_media_asr_stats_t st;
    sb_media_asr_stats(f->asr, &st);
    assert_int_equal(st.sessions, N);
    assert_int_equal(st.results, N);
    assert_int_equal(st.matched, N);
    assert_int_equal(st.listening + st.waiting + st.decoding, 0);
    fixture_free(f);
}

typedef struct feeder_s {
    sb_media_asr_sess_t *s[4];
    utt_t u[4];
    int n;
} feeder_t;

/* Feeds its sessions in turn, frame by frame, as a media worker feeds the
 * calls it owns, with a pause now and then so the loop runs meanwhile. */
static void feeder_main(void *arg)
{
    feeder_t *fd = arg;
    size_t longest = 0;
    for (int k = 0; k < fd->n; k++)
        longest = fd->u[k].n > longest ? fd->u[k].n : longest;
    for (size_t i = 0; i < longest; i += 160) {
        for (int k = 0; k < fd->n; k++)
            if (i < fd->u[k].n)
                sb_media_asr_feed(fd->s[k], fd->u[k].pcm + i,
                                  fd->u[k].n - i < 160 ? fd->u[k].n - i
                                                       : 160);
        if (i % 3200 == 0)
            usleep(1000);
    }
}

/* The media worker's side: feed from another thread while the loop
 * delivers. */
static void test_media_asr_feed_from_another_thread(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 0);
    res_t r;
    feeder_t fd = {.n = 1};
    assert_int_equal(start(f->asr, HINTS, 600, &r, &fd.s[0]), 0);
    fd.u[0] = utt_make(DIGITS, 400, 1500);
    uv_thread_t th;
    assert_int_equal(uv_thread_create(&th, feeder_main, &fd), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_thread_join(&th), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.text, "four two seven");
    assert_int_equal(r.speech_calls, 1);
    sb_media_asr_unref(fd.s[0]);
    free(fd.u[0].pcm);
    fixture_free(f);
}

/* Silence is no utterance: nothing until finish, then "" at once. */
static void test_media_asr_silence_gives_empty_result(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 0);
    res_t r;
    sb_media_asr_sess_t *s;
    assert_int_equal(start(f->asr, HINTS, 500, &r, &s), 0);
    utt_t u = utt_make(-1, 3000, 0);
    feed(s, u.pcm, u.n);
    free(u.pcm);
    for (int i = 0; i < 5; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    usleep(50000);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(r.calls, 0);
    in_api = 1;
    sb_media_asr_finish(s);
    in_api = 0;
    assert_int_equal(r.calls, 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.text, "");
    assert_int_equal(r.speech_seen, 0);
    assert_int_equal(r.speech_calls, 0);
    assert_true(r.confidence == 0.0);
    /* After the result: all no-ops. */
    feed(s, speech[SALES]->pcm, speech[SALES]->nsamples);
    sb_media_asr_finish(s);
    sb_media_asr_cancel(s);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(r.calls, 1);
    sb_media_asr_unref(s);
    fixture_free(f);
}

/* With end_silence_ms 0 only finish ends the utterance; what was said is
 * decoded then. */
static void test_media_asr_finish_decodes_what_was_heard(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 0);
    res_t r;
    sb_media_asr_sess_t *s;
    assert_int_equal(start(f->asr, HINTS, 0, &r, &s), 0);
    utt_t u = utt_make(SUPPORT, 300, 3000);
    feed(s, u.pcm, u.n);
    free(u.pcm);
    usleep(50000);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(r.speech_calls, 1);
    assert_int_equal(r.calls, 0);
    sb_media_asr_finish(s);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.text, "support");
    sb_media_asr_unref(s);
    fixture_free(f);
}

/* ---- hints and arguments ---------------------------------------------------- */

static void test_media_asr_hints_without_dictionary_words_are_refused(
    void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 0);
    char unk[128];
    res_t r;
    sb_media_asr_sess_t *s = NULL;

    assert_int_equal(sb_media_asr_check_hints(f->asr, "zorblax, Qwxyzzy",
                                              unk, sizeof unk), SB_EINVAL);
    assert_string_equal(unk, "zorblax, qwxyzzy");
    assert_int_equal(start(f->asr, "zorblax, Qwxyzzy", 500, &r, &s),
                     SB_EINVAL);
    assert_null(s);
    /* A phrase with one unknown word goes; the others stay. */
    assert_int_equal(sb_media_asr_check_hints(
                         f->asr, "Sales, zorblax support, 427, 427, "
                         "$OOV_CLASS_DIGIT_SEQUENCE, $FOO", unk, sizeof unk),
                     3);
    assert_string_equal(unk, "zorblax, $FOO");
    assert_int_equal(sb_media_asr_check_hints(f->asr, NULL, unk, sizeof unk),
                     SB_EINVAL);
    assert_int_equal(sb_media_asr_check_hints(f->asr, " , ,", NULL, 0),
                     SB_EINVAL);
    char *big = malloc(20000);
    memset(big, 'a', 19999);
    big[19999] = '\0';
    assert_int_equal(sb_media_asr_check_hints(f->asr, big, NULL, 0),
                     SB_ETOOBIG);
    free(big);

    sb_media_asr_events_t ev = events(&r);
    assert_int_equal(sb_media_asr_start(f->asr, HINTS, "fr-FR", 500, &ev, &s),
                     SB_EINVAL);
    assert_int_equal(sb_media_asr_start(f->asr, HINTS, "es", 500, &ev, &s),
                     SB_EINVAL);
    assert_int_equal(sb_media_asr_start(f->asr, "", "en", 500, &ev, &s),
                     SB_EINVAL);
    ev.on_result = NULL;
    assert_int_equal(sb_media_asr_start(f->asr, HINTS, "en", 500, &ev, &s),
                     SB_EINVAL);
    assert_null(s);

    /* The unknown words come with the result too. */
    ev = events(&r);
    assert_int_equal(sb_media_asr_start(f->asr, "sales, zorblax", "en-GB",
                                        500, &ev, &s), 0);
    sb_media_asr_finish(s);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.unknown, "zorblax");
    assert_string_equal(r.text, "");
    sb_media_asr_unref(s);
    fixture_free(f);
}

/* Another dictionary: upper case, alternative pronunciations, no digit
 * words (so numbers are unknown words). */
static void test_media_asr_own_dictionary(void **state)
{
    (void)state;
    char path[] = "/tmp/sb-asr-dict-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char text[] =
        ";;; a comment\n"
        "SUPPORT  S AH P AO R T\n"
        "EITHER(2) AY DH ER\n"
        "SALES\tS EY L Z\r\n"
        "EITHER IY DH ER\n"
        "\n"
        "BILLING B IH L IH NG\n";
    assert_int_equal(write(fd, text, sizeof text - 1), (int)sizeof text - 1);
    close(fd);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    sb_media_asr_t *asr;
    sb_media_asr_opts_t o = {NULL, path, 1, 0};
    assert_int_equal(sb_media_asr_new(&loop, &o, &asr), 0);
    unlink(path);
    char unk[64];
    assert_int_equal(sb_media_asr_check_hints(asr, "Sales, either, 427, "
                                              "$OOV_CLASS_DIGIT_SEQUENCE",
                                              unk, sizeof unk), 2);
    assert_string_equal(unk, "427, $OOV_CLASS_DIGIT_SEQUENCE");
    assert_int_equal(sb_media_asr_check_hints(asr, "4, 2", unk, sizeof unk),
                     SB_EINVAL);
    res_t r;
    sb_media_asr_sess_t *s;
    assert_int_equal(start(asr, "sales, either, support, billing", 500, &r,
                           &s), 0);
    utt_t u = utt_make(SALES, 300, 900);
    feed(s, u.pcm, u.n);
    free(u.pcm);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.text, "sales");
    sb_media_asr_unref(s);
    int closed = 0;
    sb_media_asr_close(asr, on_closed, &closed);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_media_asr_bad_model_is_refused(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    sb_media_asr_t *asr = NULL;
    sb_media_asr_opts_t o = {"/nonexistent/model", NULL, 0, 0};
    assert_int_equal(sb_media_asr_new(&loop, &o, &asr), SB_EMEDIA);
    assert_null(asr);
    sb_media_asr_opts_t d = {NULL, "/nonexistent/words.dict", 0, 0};
    assert_int_equal(sb_media_asr_new(&loop, &d, &asr), SB_EMEDIA);
    sb_media_asr_opts_t c = {NULL, NULL, -1, 0};
    assert_int_equal(sb_media_asr_new(&loop, &c, &asr), SB_EINVAL);
    assert_null(asr);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* ---- cancel ---------------------------------------------------------------------- */

static void test_media_asr_cancel_reports_once(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 0);
    utt_t u = utt_make(SALES, 300, 1500);
    res_t r[3];
    sb_media_asr_sess_t *s[3];

    /* While listening, in the middle of the word. */
    assert_int_equal(start(f->asr, HINTS, 500, &r[0], &s[0]), 0);
    feed(s[0], u.pcm, 2400 + speech[SALES]->nsamples / 2);
    sb_media_asr_cancel(s[0]);
    assert_int_equal(r[0].calls, 0);
    /* The utterance ended inside feed: waiting or being decoded. */
    assert_int_equal(start(f->asr, HINTS, 500, &r[1], &s[1]), 0);
    feed(s[1], u.pcm, u.n);
    in_api = 1;
    sb_media_asr_cancel(s[1]);
    in_api = 0;
    assert_int_equal(r[1].calls, 0);
    /* Decoded, its result not yet delivered. */
    assert_int_equal(start(f->asr, HINTS, 500, &r[2], &s[2]), 0);
    feed(s[2], u.pcm, u.n);
    sb_media_asr_stats_t st;
    for (int i = 0; i < 400; i++) {
        sb_media_asr_stats(f->asr, &st);
        if (st.waiting + st.decoding == 0)
            break;
        usleep(5000);
    }
    assert_int_equal(st.waiting + st.decoding, 0);
    for (int i = 0; i < 3; i++) {
        in_api = 1;
        sb_media_asr_cancel(s[i]);
        sb_media_asr_cancel(s[i]);
        sb_media_asr_finish(s[i]);
        in_api = 0;
        assert_int_equal(r[i].calls, 0);
    }
    feed(s[0], u.pcm, u.n);        /* ignored */
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, SB_ECANCELED);
        assert_string_equal(r[i].text, "");
        sb_media_asr_cancel(s[i]);  /* after the result: no-op */
        sb_media_asr_unref(s[i]);
    }
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    sb_media_asr_stats(f->asr, &st);
    assert_int_equal(st.canceled, 3);
    assert_int_equal(st.results, 0);
    free(u.pcm);
    fixture_free(f);
}

/* ---- more utterances than decoders ---------------------------------------------- */

/* One decoder, six utterances ending one after another: each waits its
 * turn and all come back right, in the order they ended. */
static void test_media_asr_fifo_serves_a_burst_in_order(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(1, 0);
    enum { N = 6 };
    res_t r[N];
    sb_media_asr_sess_t *s[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(start(f->asr, HINTS, 500, &r[i], &s[i]), 0);
    for (int i = 0; i < N; i++) {
        utt_t u = utt_make(i % NSPEECH, 300, 800);
        feed(s[i], u.pcm, u.n);
        free(u.pcm);
    }
    sb_media_asr_stats_t st;
    sb_media_asr_stats(f->asr, &st);
    assert_int_equal(st.listening, 0);
    assert_int_equal(st.decoders, 1);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, 0);
        assert_string_equal(r[i].text, speech_text[i % NSPEECH]);
        if (i > 0)
            assert_true(r[i].order > r[i - 1].order);
        sb_media_asr_unref(s[i]);
    }
    sb_media_asr_stats(f->asr, &st);
    assert_int_equal(st.decoders, 1);
    assert_int_equal(st.matched, N);
    fixture_free(f);
}

/* Two feeding threads (two media workers), eight calls, two decoders. */
static void test_media_asr_burst_from_two_threads(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(2, 0);
    enum { N = 8 };
    res_t r[N];
    feeder_t fd[2] = {{.n = 4}, {.n = 4}};
    for (int i = 0; i < N; i++) {
        feeder_t *x = &fd[i % 2];
        assert_int_equal(start(f->asr, HINTS, 500, &r[i], &x->s[i / 2]), 0);
        x->u[i / 2] = utt_make(i % NSPEECH, 200 + 100 * (unsigned)i, 900);
    }
    uv_thread_t th[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(uv_thread_create(&th[k], feeder_main, &fd[k]), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (int k = 0; k < 2; k++)
        assert_int_equal(uv_thread_join(&th[k]), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, 0);
        assert_string_equal(r[i].text, speech_text[i % NSPEECH]);
        sb_media_asr_unref(fd[i % 2].s[i / 2]);
        free(fd[i % 2].u[i / 2].pcm);
    }
    sb_media_asr_stats_t st;
    sb_media_asr_stats(f->asr, &st);
    assert_int_equal(st.decoders, 2);
    fixture_free(f);
}

/* ---- bounds and close ----------------------------------------------------------- */

/* Speech longer than max_buffer_ms: the oldest audio goes, counted. */
static void test_media_asr_buffer_is_bounded(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(0, 1000);
    res_t r;
    sb_media_asr_sess_t *s;
    assert_int_equal(start(f->asr, HINTS, 500, &r, &s), 0);
    /* 3 s of a loud buzz (speech to the detector), then silence. */
    utt_t u = utt_make(-1, 200, 4000);
    for (size_t i = 1600; i < 1600 + 24000; i++)
        u.pcm[i] = (int16_t)((i / 20) % 2 ? 6000 : -6000);
    feed(s, u.pcm, u.n);
    free(u.pcm);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.speech_seen, 1);
    print_message("dropped %llu ms, decoded %llu ms\n",
                  (unsigned long long)r.dropped_ms,
                  (unsigned long long)r.speech_ms);
    assert_true(r.dropped_ms >= 2400 && r.dropped_ms <= 3000);
    assert_true(r.speech_ms <= 1000);
    sb_media_asr_unref(s);
    fixture_free(f);
}

/* Close while sessions listen, wait for a decoder and are decoded: every
 * result is SB_ECANCELED, once, before the close completes; sessions the
 * caller still holds outlive the recognizer. */
static void test_media_asr_close_with_sessions_in_flight(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(1, 0);
    enum { N = 5 };
    res_t r[N];
    sb_media_asr_sess_t *s[N];
    utt_t u = utt_make(DIGITS, 300, 800);
    for (int i = 0; i < N; i++) {
        assert_int_equal(start(f->asr, HINTS, 500, &r[i], &s[i]), 0);
        feed(s[i], u.pcm, i == 0 ? 2400 + 800 : u.n);
    }
    int closed = 0;
    in_api = 1;
    sb_media_asr_close(f->asr, on_closed, &closed);
    in_api = 0;
    f->asr = NULL;
    assert_int_equal(closed, 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].calls, 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed, 1);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, SB_ECANCELED);
    }
    /* A media worker that has not let go yet. */
    feed(s[0], u.pcm, u.n);
    sb_media_asr_finish(s[0]);
    sb_media_asr_cancel(s[0]);
    for (int i = 0; i < N; i++)
        sb_media_asr_unref(s[i]);
    free(u.pcm);
    fixture_free(f);
}

/* Close from a result callback, with other results still owed. */
static void test_media_asr_close_from_callback(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(1, 0);
    res_t r[3];
    sb_media_asr_sess_t *s[3];
    int closed = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(start(f->asr, HINTS, 500, &r[i], &s[i]), 0);
    r[0].close_asr = f->asr;
    r[0].closed = &closed;
    f->asr = NULL;
    sb_media_asr_finish(s[0]);      /* no speech: a result at once */
    utt_t u = utt_make(SALES, 300, 800);
    feed(s[1], u.pcm, u.n);
    free(u.pcm);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed, 1);
    assert_int_equal(r[0].calls, 1);
    assert_int_equal(r[0].status, 0);
    for (int i = 1; i < 3; i++) {
        assert_int_equal(r[i].calls, 1);
        assert_int_equal(r[i].status, SB_ECANCELED);
    }
    for (int i = 0; i < 3; i++)
        sb_media_asr_unref(s[i]);
    fixture_free(f);
}

static int teardown(void **state)
{
    (void)state;
    fixture_t *f = live_fixture;
    live_fixture = NULL;
    if (f != NULL) {
        if (f->asr != NULL)
            sb_media_asr_close(f->asr, NULL, NULL);
        uv_run(&f->loop, UV_RUN_DEFAULT);
        uv_loop_close(&f->loop);
        free(f);
    }
    in_api = 0;
    return 0;
}

int main(void)
{
#define T(test) cmocka_unit_test_teardown(test, teardown)
    const struct CMUnitTest tests[] = {
        T(test_media_asr_hints_are_recognized),
        T(test_media_asr_feed_from_another_thread),
        T(test_media_asr_silence_gives_empty_result),
        T(test_media_asr_finish_decodes_what_was_heard),
        T(test_media_asr_hints_without_dictionary_words_are_refused),
        T(test_media_asr_own_dictionary),
        T(test_media_asr_bad_model_is_refused),
        T(test_media_asr_cancel_reports_once),
        T(test_media_asr_fifo_serves_a_burst_in_order),
        T(test_media_asr_burst_from_two_threads),
        T(test_media_asr_buffer_is_bounded),
        T(test_media_asr_close_with_sessions_in_flight),
        T(test_media_asr_close_from_callback),
    };
    return cmocka_run_group_tests(tests, render_speech, free_speech);
}
