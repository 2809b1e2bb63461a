/*
 * test_media_tts.c: text-to-speech (core/media/tts.c) on a real libuv loop
 * with the real espeak-ng. Speech is judged by what would be heard: a
 * plausible length, frames with energy, and voiced frames (a pitch between
 * 70 and 400 Hz by autocorrelation); a woman's voice is higher than a
 * man's. Also the voice mapping, the cache (hits, single flight, LRU
 * eviction), refusals, cancel, and close with requests pending.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "media.h"
#include "media_int.h"
#include "util.h"

/* ---- speech measures --------------------------------------------------------- */

typedef struct speech_s {
    int frames;                 /* 40 ms frames */
    int loud;                   /* RMS over 300 */
    int voiced;                 /* loud and periodic */
    double pitch;               /* median pitch of voiced frames, Hz */
    double zcr;                 /* zero crossings per second, loud frames */
} speech_t;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void measure(const sb_media_audio_t *a, speech_t *s)
{
    enum { N = 320 };
    memset(s, 0, sizeof *s);
    double *pitches = calloc(a->nsamples / N + 1, sizeof *pitches);
    long crossings = 0;
    for (size_t off = 0; off + N <= a->nsamples; off += N) {
        const int16_t *x = a->pcm + off;
        s->frames++;
        double e = 0;
        for (int i = 0; i < N; i++)
            e += (double)x[i] * x[i];
        if (sqrt(e / N) < 300)
            continue;
        s->loud++;
        for (int i = 1; i < N; i++)
            crossings += (x[i - 1] < 0) != (x[i] < 0);
        /* 8 kHz: lags 20..114 are 400..70 Hz */
        double best = 0;
        int best_lag = 0;
        for (int lag = 20; lag <= 114; lag++) {
            double xy = 0, xx = 0, yy = 0;
            for (int i = 0; i + lag < N; i++) {
                xy += (double)x[i] * x[i + lag];
                xx += (double)x[i] * x[i];
                yy += (double)x[i + lag] * x[i + lag];
            }
            double r = xy / sqrt(xx * yy + 1);
            if (r > best) {
                best = r;
                best_lag = lag;
            }
        }
        if (best > 0.6)
            pitches[s->voiced++] = 8000.0 / best_lag;
    }
    if (s->voiced > 0) {
        qsort(pitches, (size_t)s->voiced, sizeof *pitches, cmp_double);
        s->pitch = pitches[s->voiced / 2];
    }
    if (s->loud > 0)
        s->zcr = (double)crossings / (s->loud * (N / 8000.0));
    free(pitches);
}

/* ---- loop harness ------------------------------------------------------------- */

static int in_synth;            /* a callback inside synth would see 1 */

typedef struct result_s {
    int called;
    int status;
    int flags;
    sb_media_audio_t *audio;
    int order;                  /* when it ran, among all results */
} result_t;

static int order_counter;

static void on_done(int status, sb_media_audio_t *audio, int flags, void *arg)
{
    result_t *r = arg;
    assert_int_equal(in_synth, 0);
    assert_int_equal(r->called, 0);
    r->called = 1;
    r->status = status;
    r->flags = flags;
    r->audio = audio;
    r->order = ++order_counter;
    if (status == 0)
        assert_non_null(audio);
    else
        assert_null(audio);
}

static int synth(sb_media_tts_t *tts, const char *text, const char *voice,
                 const char *lang, result_t *r, sb_media_tts_req_t **req)
{
    memset(r, 0, sizeof *r);
    in_synth = 1;
    int rc = sb_media_tts_synth(tts, text, voice, lang, on_done, r, req);
    in_synth = 0;
    return rc;
}

static void on_closed(void *arg)
{
    int *n = arg;
    (*n)++;
    *n += 100 * order_counter;  /* records how many results came before */
}

typedef struct fixture_s {
    uv_loop_t loop;
    sb_media_tts_t *tts;
} fixture_t;

/* The fixture of the running test, closed by teardown when the test
 * failed before closing it (one synthesizer per process). */
static fixture_t *live_fixture;

static fixture_t *fixture_new(const sb_media_tts_opts_t *opts)
{
    fixture_t *f = calloc(1, sizeof *f);
    live_fixture = f;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(sb_media_tts_new(&f->loop, opts, &f->tts), 0);
    order_counter = 0;
    return f;
}

static void fixture_free(fixture_t *f)
{
    live_fixture = NULL;
    int closed = 0;
    sb_media_tts_close(f->tts, on_closed, &closed);
    assert_int_equal(closed, 0);            /* later, from the loop */
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(closed % 100, 1);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

/* ---- voices ------------------------------------------------------------------- */

static void test_media_tts_voice_mapping(void **state)
{
    (void)state;
    char v[64];
    static const struct { const char *voice, *lang, *want; int known; } t[] = {
        {"man", "en", "en-us", 1},
        {NULL, NULL, "en-us", 1},
        {"woman", "en-US", "en-us+f2", 1},
        {"alice", "en-gb", "en-gb-x-rp+f2", 1},
        {"man", "en_GB", "en-gb-x-rp", 1},
        {"man", "en-AU", "gmw/en", 1},
        {"man", "es", "es", 1},
        {"man", "es-MX", "es-419", 1},
        {"woman", "fr-FR", "fr+f2", 1},
        {"man", "fr-CA", "fr", 1},
        {"man", "de-DE", "de", 1},
        {"man", "it-IT", "it", 1},
        {"man", "pt-BR", "pt-br", 1},
        {"man", "pt-PT", "pt", 1},
        {"man", "nl-NL", "nl", 1},
        {"man", "ru-RU", "ru", 1},
        {"man", "ja-JP", "ja", 1},
        {"man", "zh-CN", "cmn", 1},
        {"man", "zh-HK", "yue", 1},
        {"Polly.Joanna", "en-US", "en-us+f2", 1},
        {"Polly.Matthew", "en-US", "en-us", 1},
        {"Polly.Lucia-Neural", "es-ES", "es+f2", 1},
        {"robot", "en", "en-us", 1},
        {"man", "xx-YY", "en-us", 0},
        {"woman", "klingon-of-a-very-long-language-tag-here", "en-us+f2", 0},
        {"man", "", "en-us", 1},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        int known = sb_media_tts_voice(t[i].voice, t[i].lang, v, sizeof v);
        if (strcmp(v, t[i].want) != 0 || known != t[i].known)
            print_message("%s/%s -> %s %d\n", t[i].voice, t[i].lang, v,
                          known);
        assert_string_equal(v, t[i].want);
        assert_int_equal(known, t[i].known);
    }
    /* A short buffer is cut, never overrun. */
    char small[4];
    sb_media_tts_voice("woman", "en", small, sizeof small);
    assert_string_equal(small, "en-");
}

/* ---- synthesis ----------------------------------------------------------------- */

static void test_media_tts_synth_sounds_like_speech(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    result_t r;
    sb_media_tts_req_t *req = NULL;
    uint64_t t0 = uv_hrtime();
    assert_int_equal(synth(f->tts, "hello world, this is a test", "man",
                           "en-US", &r, &req), 0);
    assert_non_null(req);
    assert_int_equal(r.called, 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    uint64_t t1 = uv_hrtime();
    assert_int_equal(r.called, 1);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.flags, 0);
    uint64_t ms = sb_media_audio_ms(r.audio);
    print_message("synthesized %llu ms of speech in %.1f ms\n",
                  (unsigned long long)ms, (double)(t1 - t0) / 1e6);
    assert_true(ms >= 800 && ms <= 4000);
    speech_t s;
    measure(r.audio, &s);
    print_message("frames %d loud %d voiced %d pitch %.0f Hz zcr %.0f/s\n",
                  s.frames, s.loud, s.voiced, s.pitch, s.zcr);
    assert_true(s.loud * 2 >= s.frames);     /* mostly sound, not silence */
    assert_true(s.voiced * 3 >= s.loud);     /* vowels: periodic frames */
    assert_true(s.pitch >= 70 && s.pitch <= 250);
    assert_true(s.zcr >= 200 && s.zcr <= 3000);
    /* The G.711 forms match the linear one. */
    for (size_t i = 0; i < r.audio->nsamples; i++) {
        int x = r.audio->pcm[i];
        int tol = abs(x) / 16 + 16;          /* G.711 quantisation step */
        assert_true(abs(sb__media_ulaw_to_linear(r.audio->ulaw[i]) - x) <= tol);
        assert_true(abs(sb__media_alaw_to_linear(r.audio->alaw[i]) - x) <= tol);
    }
    sb_media_audio_unref(r.audio);
    fixture_free(f);
}

static void test_media_tts_woman_is_higher(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    result_t man, woman;
    const char *text = "Please hold while we connect your call.";
    assert_int_equal(synth(f->tts, text, "man", "en", &man, NULL), 0);
    assert_int_equal(synth(f->tts, text, "woman", "en", &woman, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(man.status, 0);
    assert_int_equal(woman.status, 0);
    assert_ptr_not_equal(man.audio, woman.audio);
    speech_t sm, sw;
    measure(man.audio, &sm);
    measure(woman.audio, &sw);
    print_message("man %.0f Hz, woman %.0f Hz\n", sm.pitch, sw.pitch);
    assert_true(sm.voiced > 5 && sw.voiced > 5);
    assert_true(sw.pitch > sm.pitch * 1.3);
    sb_media_audio_unref(man.audio);
    sb_media_audio_unref(woman.audio);
    fixture_free(f);
}

static void test_media_tts_languages_speak(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    static const struct { const char *lang, *text; } t[] = {
        {"es-MX", "Hola, gracias por llamar."},
        {"fr-FR", "Bonjour, merci de votre appel."},
        {"de-DE", "Guten Tag, vielen Dank."},
        {"pt-BR", "Obrigado por ligar."},
        {"ja-JP", "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf"},
        {"zh-CN", "\xe4\xbd\xa0\xe5\xa5\xbd"},
        {"ru-RU", "\xd0\x97\xd0\xb4\xd1\x80\xd0\xb0\xd0\xb2\xd1\x81\xd1\x82"
                  "\xd0\xb2\xd1\x83\xd0\xb9\xd1\x82\xd0\xb5"},
    };
    enum { N = sizeof t / sizeof *t };
    result_t r[N];
    for (size_t i = 0; i < N; i++)
        assert_int_equal(synth(f->tts, t[i].text, "woman", t[i].lang, &r[i],
                               NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (size_t i = 0; i < N; i++) {
        if (r[i].status != 0)
            print_message("%s: %s\n", t[i].lang, sb_err_name(r[i].status));
        assert_int_equal(r[i].status, 0);
        assert_int_equal(r[i].flags, 0);
        speech_t s;
        measure(r[i].audio, &s);
        assert_true(sb_media_audio_ms(r[i].audio) >= 300);
        assert_true(s.voiced >= 3);
        sb_media_audio_unref(r[i].audio);
    }
    fixture_free(f);
}

/* Every language the mapping knows names a voice espeak-ng can load
 * (woman: with its variant). */
static void test_media_tts_every_language_loads(void **state)
{
    (void)state;
    static const char *const tags[] = {
        "en", "en-US", "en-CA", "en-GB", "en-AU", "en-IN", "en-029",
        "en-gb-scotland", "es", "es-MX", "fr", "fr-BE", "fr-CH", "de", "it",
        "pt", "pt-BR", "nl", "ru", "ja", "zh", "zh-HK", "ko", "pl", "sv",
        "da", "nb", "fi", "tr", "cs", "el", "hu", "ro", "uk", "ar", "he",
        "hi", "id", "vi", "th", "ca", "sk", "bg", "hr", "sr", "sl", "et",
        "lv", "lt", "is", "ga", "cy", "ms", "ta", "te", "bn", "af", "sq",
        "eu", "fa", "ka", "mk", "sw", "ur", "mt", "gu", "kn", "ml", "mr",
        "pa", "ne", "hy", "az", "kk", "eo", "la",
    };
    enum { N = sizeof tags / sizeof *tags };
    fixture_t *f = fixture_new(NULL);
    result_t r[2 * N];
    /* Digits: the one thing every language reads; status 0 also means
     * some sound came out. */
    for (size_t i = 0; i < 2 * N; i++)
        assert_int_equal(synth(f->tts, "1 2", i < N ? "man" : "woman",
                               tags[i % N], &r[i], NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    int bad = 0;
    for (size_t i = 0; i < 2 * N; i++) {
        if (r[i].status != 0 || r[i].flags != 0) {
            print_message("%s %s: %s flags %d\n", i < N ? "man" : "woman",
                          tags[i % N], sb_err_name(r[i].status), r[i].flags);
            bad++;
        }
        sb_media_audio_unref(r[i].audio);
    }
    assert_int_equal(bad, 0);
    fixture_free(f);
}

static void test_media_tts_unknown_language_falls_back(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    result_t r;
    assert_int_equal(synth(f->tts, "good morning", "man", "xx-YY", &r, NULL),
                     0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.flags, SB_MEDIA_TTS_LANG_FALLBACK);
    speech_t s;
    measure(r.audio, &s);
    assert_true(s.voiced >= 3);
    sb_media_audio_unref(r.audio);
    fixture_free(f);
}

/* ---- the cache --------------------------------------------------------------- */

static void test_media_tts_cache_hit(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    result_t a, b, c;
    assert_int_equal(synth(f->tts, "your balance is zero", "man", "en", &a,
                           NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(a.status, 0);
    /* Same key through another spelling of the same voice: a hit, later. */
    assert_int_equal(synth(f->tts, "your balance is zero", "robot", "en-US",
                           &b, NULL), 0);
    assert_int_equal(b.called, 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(b.status, 0);
    assert_ptr_equal(a.audio, b.audio);
    assert_int_equal(a.audio->refs, 3);      /* a, b and the cache */
    /* Another voice is another key. */
    assert_int_equal(synth(f->tts, "your balance is zero", "woman", "en", &c,
                           NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_ptr_not_equal(a.audio, c.audio);
    sb_media_tts_stats_t st;
    sb_media_tts_stats(f->tts, &st);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.syntheses, 2);
    assert_int_equal(st.entries, 2);
    assert_true(st.bytes >= a.audio->bytes + c.audio->bytes);
    sb_media_audio_unref(a.audio);
    sb_media_audio_unref(b.audio);
    sb_media_audio_unref(c.audio);
    fixture_free(f);
}

/* A prefetch (no callback) fills the cache for the real request. */
static void test_media_tts_prefetch_fills_cache(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    assert_int_equal(sb_media_tts_synth(f->tts, "welcome to the demo", "woman",
                                        "en-GB", NULL, NULL, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    result_t r;
    assert_int_equal(synth(f->tts, "welcome to the demo", "alice", "en-gb",
                           &r, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.audio->refs, 2);      /* r and the cache */
    sb_media_tts_stats_t st;
    sb_media_tts_stats(f->tts, &st);
    assert_int_equal(st.syntheses, 1);
    assert_int_equal(st.hits, 1);
    sb_media_audio_unref(r.audio);
    fixture_free(f);
}

static void test_media_tts_concurrent_requests_share_one_synthesis(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    enum { N = 20 };
    result_t r[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(synth(f->tts, "all our agents are busy", "man",
                               "en", &r[i], NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].status, 0);
        assert_ptr_equal(r[i].audio, r[0].audio);
        assert_int_equal(r[i].order, i + 1);  /* in request order */
    }
    assert_int_equal(r[0].audio->refs, N + 1);
    sb_media_tts_stats_t st;
    sb_media_tts_stats(f->tts, &st);
    assert_int_equal(st.syntheses, 1);
    assert_int_equal(st.joined, N - 1);
    for (int i = 0; i < N; i++)
        sb_media_audio_unref(r[i].audio);
    fixture_free(f);
}

static void test_media_tts_cache_evicts_least_recent(void **state)
{
    (void)state;
    /* Room for two prompts of about a second (4 bytes a sample at 8 kHz:
     * some 40 KiB each), not three. */
    sb_media_tts_opts_t opts = {.cache_bytes = 110 * 1024};
    fixture_t *f = fixture_new(&opts);
    const char *texts[] = {"first prompt here", "second prompt here",
                           "third prompt here"};
    result_t r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(synth(f->tts, texts[i], "man", "en", &r, NULL), 0);
        assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
        assert_int_equal(r.status, 0);
        if (r.audio->bytes < 37 * 1024 || r.audio->bytes > 54 * 1024)
            print_message("%s: %zu bytes\n", texts[i], r.audio->bytes);
        assert_true(r.audio->bytes >= 37 * 1024);
        assert_true(r.audio->bytes <= 54 * 1024);
        sb_media_audio_unref(r.audio);
        if (i == 1) {
            /* Touch the first, so that the second is the oldest. */
            assert_int_equal(synth(f->tts, texts[0], "man", "en", &r, NULL), 0);
            assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
            sb_media_audio_unref(r.audio);
        }
    }
    sb_media_tts_stats_t st;
    sb_media_tts_stats(f->tts, &st);
    assert_true(st.bytes <= opts.cache_bytes);
    assert_true(st.evictions >= 1);
    assert_int_equal(st.syntheses, 3);
    assert_int_equal(st.hits, 1);
    /* The first is still there; the second was evicted. */
    assert_int_equal(synth(f->tts, texts[0], "man", "en", &r, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    sb_media_audio_unref(r.audio);
    sb_media_tts_stats(f->tts, &st);
    assert_int_equal(st.hits, 2);
    assert_int_equal(synth(f->tts, texts[1], "man", "en", &r, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    sb_media_audio_unref(r.audio);
    sb_media_tts_stats(f->tts, &st);
    assert_int_equal(st.syntheses, 4);
    fixture_free(f);
}

/* ---- refusals, cancel, close ---------------------------------------------------- */

static void test_media_tts_refuses_bad_text(void **state)
{
    (void)state;
    sb_media_tts_opts_t opts = {.max_chars = 10};
    fixture_t *f = fixture_new(&opts);
    result_t r;
    sb_media_tts_req_t *req = NULL;
    assert_int_equal(synth(f->tts, "", "man", "en", &r, &req), SB_EINVAL);
    assert_int_equal(synth(f->tts, " \t\r\n ", "man", "en", &r, &req),
                     SB_EINVAL);
    assert_int_equal(synth(f->tts, NULL, "man", "en", &r, &req), SB_EINVAL);
    assert_int_equal(synth(f->tts, "eleven char", "man", "en", &r, &req),
                     SB_ETOOBIG);
    assert_null(req);
    /* Ten characters in twenty bytes are within ten characters. */
    assert_int_equal(synth(f->tts, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                           "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", "man",
                           "fr", &r, &req), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.called, 1);
    assert_int_equal(r.status, 0);
    sb_media_audio_unref(r.audio);
    fixture_free(f);
}

static void test_media_tts_cancel(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    result_t a, b, c;
    sb_media_tts_req_t *ra, *rb, *rc;
    assert_int_equal(synth(f->tts, "press one for sales", "man", "en", &a,
                           &ra), 0);
    assert_int_equal(synth(f->tts, "press one for sales", "man", "en", &b,
                           &rb), 0);
    sb_media_tts_cancel(ra);
    assert_int_equal(a.called, 0);           /* later, not inside cancel */
    sb_media_tts_cancel(ra);                 /* twice: still once */
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(a.called, 1);
    assert_int_equal(a.status, SB_ECANCELED);
    assert_int_equal(b.status, 0);           /* the other one got it */
    assert_true(a.order < b.order);
    /* A hit cancelled before its callback ran. */
    assert_int_equal(synth(f->tts, "press one for sales", "man", "en", &c,
                           &rc), 0);
    sb_media_tts_cancel(rc);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(c.status, SB_ECANCELED);
    assert_int_equal(b.audio->refs, 2);      /* b and the cache */
    sb_media_audio_unref(b.audio);

    /* Cancelling the only requester leaves the result to the cache. */
    assert_int_equal(synth(f->tts, "press two for support", "man", "en", &a,
                           &ra), 0);
    sb_media_tts_cancel(ra);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(a.status, SB_ECANCELED);
    /* The synthesis may still be under way: wait for it by asking again. */
    assert_int_equal(synth(f->tts, "press two for support", "man", "en", &b,
                           NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(b.status, 0);
    sb_media_tts_stats_t st;
    sb_media_tts_stats(f->tts, &st);
    assert_int_equal(st.syntheses, 2);
    sb_media_audio_unref(b.audio);
    fixture_free(f);
}

static void test_media_tts_close_cancels_pending(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    enum { N = 8 };
    result_t r[N], hit;
    char text[64];
    /* Cache one first, so that a pending hit is also cancelled. */
    assert_int_equal(synth(f->tts, "cached one", "man", "en", &hit, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    sb_media_audio_unref(hit.audio);
    for (int i = 0; i < N; i++) {
        snprintf(text, sizeof text, "pending prompt number %d", i);
        assert_int_equal(synth(f->tts, text, "man", "en", &r[i], NULL), 0);
    }
    assert_int_equal(synth(f->tts, "cached one", "man", "en", &hit, NULL), 0);
    int closed = 0;
    live_fixture = NULL;
    sb_media_tts_close(f->tts, on_closed, &closed);
    assert_int_equal(closed, 0);
    for (int i = 0; i < N; i++)
        assert_int_equal(r[i].called, 0);
    result_t late;
    assert_int_equal(synth(f->tts, "too late", "man", "en", &late, NULL),
                     SB_ESTATE);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    for (int i = 0; i < N; i++) {
        assert_int_equal(r[i].called, 1);
        assert_int_equal(r[i].status, SB_ECANCELED);
    }
    assert_int_equal(hit.status, SB_ECANCELED);
    /* closed ran once, after all N + 1 callbacks (and the first hit's) */
    assert_int_equal(closed, 1 + 100 * (N + 2));
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

static sb_media_tts_t *closing_tts;
static int closed_in_cb;

static void on_done_close(int status, sb_media_audio_t *audio, int flags,
                          void *arg)
{
    on_done(status, audio, flags, arg);
    if (closing_tts != NULL) {
        live_fixture = NULL;
        sb_media_tts_close(closing_tts, on_closed, &closed_in_cb);
        closing_tts = NULL;
    }
}

/* Closing from inside a completion: the other requests still get their
 * callback (cancelled), then the close callback. */
static void test_media_tts_close_from_callback(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    result_t a, b;
    closed_in_cb = 0;
    closing_tts = f->tts;
    assert_int_equal(sb_media_tts_synth(f->tts, "one", "man", "en",
                                        on_done_close, &a, NULL), 0);
    memset(&a, 0, sizeof a);
    assert_int_equal(synth(f->tts, "two words", "man", "en", &b, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(a.called, 1);
    assert_int_equal(b.called, 1);
    /* "one" finished first; "two words" may have finished as well */
    assert_int_equal(a.status, 0);
    assert_true(b.status == 0 || b.status == SB_ECANCELED);
    assert_int_equal(closed_in_cb % 100, 1);
    assert_int_equal(closed_in_cb / 100, 2);
    sb_media_audio_unref(a.audio);
    sb_media_audio_unref(b.audio);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    free(f);
}

static void test_media_tts_one_per_process(void **state)
{
    (void)state;
    fixture_t *f = fixture_new(NULL);
    uv_loop_t other;
    assert_int_equal(uv_loop_init(&other), 0);
    sb_media_tts_t *t2 = NULL;
    assert_int_equal(sb_media_tts_new(&other, NULL, &t2), SB_EBUSY);
    assert_null(t2);
    assert_int_equal(uv_loop_close(&other), 0);
    fixture_free(f);
}

/* Runs first: espeak-ng has not started yet. */
static void test_media_tts_bad_data_path(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    sb_media_tts_opts_t opts = {.data_path = "/nonexistent/espeak-data"};
    sb_media_tts_t *tts = NULL;
    assert_int_equal(sb_media_tts_new(&loop, &opts, &tts), SB_EMEDIA);
    assert_null(tts);
    assert_int_equal(uv_loop_close(&loop), 0);
    /* and a good one starts afterwards */
    fixture_t *f = fixture_new(NULL);
    result_t r;
    assert_int_equal(synth(f->tts, "still works", "man", "en", &r, NULL), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(r.status, 0);
    sb_media_audio_unref(r.audio);
    fixture_free(f);
}

/* espeak-ng starts once per process: other data later is refused. */
static void test_media_tts_other_data_path(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    /* Real data, but not the library's default that the others used. */
    const char *dir = "/usr/lib/x86_64-linux-gnu/espeak-ng-data";
    if (access(dir, R_OK) != 0)
        skip();
    sb_media_tts_opts_t opts = {.data_path = dir};
    sb_media_tts_t *tts = NULL;
    assert_int_equal(sb_media_tts_new(&loop, &opts, &tts), SB_EMEDIA);
    assert_null(tts);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void on_teardown_closed(void *arg)
{
    (void)arg;
}

static int teardown(void **state)
{
    (void)state;
    fixture_t *f = live_fixture;
    live_fixture = NULL;
    if (f != NULL && f->tts != NULL) {
        sb_media_tts_close(f->tts, on_teardown_closed, NULL);
        uv_run(&f->loop, UV_RUN_DEFAULT);
        uv_loop_close(&f->loop);
        free(f);
    }
    return 0;
}

int main(void)
{
#define T(test) cmocka_unit_test_teardown(test, teardown)
    const struct CMUnitTest tests[] = {
        T(test_media_tts_bad_data_path),
        T(test_media_tts_voice_mapping),
        T(test_media_tts_synth_sounds_like_speech),
        T(test_media_tts_woman_is_higher),
        T(test_media_tts_languages_speak),
        T(test_media_tts_every_language_loads),
        T(test_media_tts_unknown_language_falls_back),
        T(test_media_tts_cache_hit),
        T(test_media_tts_prefetch_fills_cache),
        T(test_media_tts_concurrent_requests_share_one_synthesis),
        T(test_media_tts_cache_evicts_least_recent),
        T(test_media_tts_refuses_bad_text),
        T(test_media_tts_cancel),
        T(test_media_tts_close_cancels_pending),
        T(test_media_tts_close_from_callback),
        T(test_media_tts_one_per_process),
        T(test_media_tts_other_data_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
