/*
 * test_media_cache.c: the audio cache (core/media/cache.c) on a real libuv
 * loop with the real decoder. The network is a fake sb_media_fetcher_t at
 * the module's seam: a tiny "origin" holding resources (status, headers,
 * body) that answers after a timer, honours If-None-Match and
 * If-Modified-Since with 304, counts requests and cancels, and records the
 * validators it received. Bodies are WAV files written here (PCM16 sine);
 * what comes back is checked by ear: frequency by zero crossings, length
 * and energy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "media.h"
#include "util.h"

/* ---- test WAV bodies ----------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* Returns owned RIFF/WAVE PCM16 mono: a sine of freq Hz, ms long. */
static uint8_t *make_wav(double freq, unsigned ms, unsigned rate, size_t *len)
{
    size_t n = (size_t)rate * ms / 1000;
    size_t data = n * 2;
    uint8_t *w = malloc(44 + data);
    memcpy(w, "RIFF", 4);
    put32(w + 4, (uint32_t)(36 + data));
    memcpy(w + 8, "WAVEfmt ", 8);
    put32(w + 16, 16);
    put16(w + 20, 1);               /* PCM */
    put16(w + 22, 1);               /* mono */
    put32(w + 24, rate);
    put32(w + 28, rate * 2);
    put16(w + 32, 2);
    put16(w + 34, 16);
    memcpy(w + 36, "data", 4);
    put32(w + 40, (uint32_t)data);
    for (size_t i = 0; i < n; i++) {
        double v = 12000.0 * sin(2 * M_PI * freq * (double)i / rate);
        put16(w + 44 + 2 * i, (uint16_t)(int16_t)lrint(v));
    }
    *len = 44 + data;
    return w;
}

/* Frequency of a's PCM from its zero crossings (the middle 80%). */
static double audio_freq(const sb_media_audio_t *a)
{
    size_t from = a->nsamples / 10, to = a->nsamples - a->nsamples / 10;
    int crossings = 0;
    for (size_t i = from + 1; i < to; i++)
        if ((a->pcm[i - 1] < 0) != (a->pcm[i] < 0))
            crossings++;
    return crossings / 2.0 / ((double)(to - from) / 8000.0);
}

static double audio_rms(const sb_media_audio_t *a)
{
    double s = 0;
    for (size_t i = 0; i < a->nsamples; i++)
        s += (double)a->pcm[i] * a->pcm[i];
    return sqrt(s / (double)a->nsamples);
}

/* a sounds like a sine of freq Hz, ms long. */
static void assert_tone(const sb_media_audio_t *a, double freq, unsigned ms)
{
    assert_non_null(a);
    assert_true(a->nsamples > 0);
    double f = audio_freq(a);
    if (fabs(f - freq) > freq * 0.03)
        fail_msg("heard %.1f Hz, expected %.1f Hz", f, freq);
    uint64_t got = sb_media_audio_ms(a);
    if (got + 30 < ms || got > ms + 30)
        fail_msg("length %llu ms, expected %u ms", (unsigned long long)got, ms);
    assert_true(audio_rms(a) > 4000);   /* 12000 peak: rms ~8500 */
    /* The G.711 forms say the same thing. */
    assert_non_null(a->ulaw);
    assert_non_null(a->alaw);
}

/* ---- the fake origin, seen through sb_media_fetcher_t -------------------- */

typedef struct resource_s {
    char url[256];
    int err;                    /* fetch error to report instead */
    int status;                 /* 0: 200 */
    const char *content_type, *cache_control, *expires, *date;
    char etag[64], last_modified[64];
    uint8_t *body;              /* owned */
    size_t len;
} resource_t;

typedef struct fake_s {
    uv_loop_t *loop;
    resource_t res[8];
    int nres;
    unsigned delay_ms;
    int fetches, conditional, cancels, live;
    char last_inm[64], last_ims[64];
    sb_media_cache_t *close_after_done;     /* closes this cache after the
                                               next answer */
} fake_t;

typedef struct fake_op_s {
    uv_timer_t timer;
    fake_t *f;
    char url[256];
    char inm[64], ims[64];
    size_t max;
    int canceled;
    sb_media_fetch_done_cb done;
    void *arg;
} fake_op_t;

static resource_t *fake_find(fake_t *f, const char *url)
{
    for (int i = 0; i < f->nres; i++)
        if (strcmp(f->res[i].url, url) == 0)
            return &f->res[i];
    return NULL;
}

/* Adds or replaces url's resource: a WAV tone with the given headers. */
static resource_t *fake_put(fake_t *f, const char *url, double freq,
                            const char *cache_control, const char *etag)
{
    resource_t *r = fake_find(f, url);
    if (!r) {
        assert_true(f->nres < 8);
        r = &f->res[f->nres++];
    }
    free(r->body);
    memset(r, 0, sizeof(*r));
    snprintf(r->url, sizeof(r->url), "%s", url);
    r->body = make_wav(freq, 500, 8000, &r->len);
    r->content_type = "audio/wav";
    r->cache_control = cache_control;
    if (etag)
        snprintf(r->etag, sizeof(r->etag), "%s", etag);
    return r;
}

static void on_fake_op_closed(uv_handle_t *h)
{
    fake_op_t *op = h->data;
    op->f->live--;
    free(op);
}

static void on_fake_timer(uv_timer_t *t)
{
    fake_op_t *op = t->data;
    fake_t *f = op->f;
    uv_close((uv_handle_t *)t, on_fake_op_closed);
    if (op->canceled) {
        op->done(SB_ECANCELED, NULL, op->arg);
        return;
    }
    resource_t *r = fake_find(f, op->url);
    sb_media_fetch_result_t res = {0};
    if (!r) {
        res.status = 404;
        res.content_type = "text/html";
        res.body = "<html>not found</html>";
        res.len = strlen(res.body);
        op->done(0, &res, op->arg);
    } else if (r->err) {
        op->done(r->err, NULL, op->arg);
    } else {
        int not_modified =
            (op->inm[0] && r->etag[0] && strcmp(op->inm, r->etag) == 0) ||
            (!op->inm[0] && op->ims[0] && r->last_modified[0] &&
             strcmp(op->ims, r->last_modified) == 0);
        res.status = r->status ? r->status : not_modified ? 304 : 200;
        res.etag = r->etag[0] ? r->etag : NULL;
        res.last_modified = r->last_modified[0] ? r->last_modified : NULL;
        res.cache_control = r->cache_control;
        res.expires = r->expires;
        res.date = r->date;
        if (res.status != 304) {
            res.content_type = r->content_type;
            res.body = r->body;
            res.len = r->len;
        }
        if (res.len > op->max)
            op->done(SB_ETOOBIG, NULL, op->arg);
        else
            op->done(0, &res, op->arg);
    }
    if (f->close_after_done) {
        sb_media_cache_t *c = f->close_after_done;
        f->close_after_done = NULL;
        sb_media_cache_close(c, NULL, NULL);
    }
}

static int fake_fetch(void *ctx, const char *url, const char *inm,
                      const char *ims, size_t max_bytes,
                      sb_media_fetch_done_cb done, void *arg, void **handle)
{
    fake_t *f = ctx;
    fake_op_t *op = calloc(1, sizeof(*op));
    op->f = f;
    snprintf(op->url, sizeof(op->url), "%s", url);
    snprintf(op->inm, sizeof(op->inm), "%s", inm ? inm : "");
    snprintf(op->ims, sizeof(op->ims), "%s", ims ? ims : "");
    op->max = max_bytes;
    op->done = done;
    op->arg = arg;
    f->fetches++;
    f->conditional += inm || ims;
    snprintf(f->last_inm, sizeof(f->last_inm), "%s", op->inm);
    snprintf(f->last_ims, sizeof(f->last_ims), "%s", op->ims);
    f->live++;
    uv_timer_init(f->loop, &op->timer);
    op->timer.data = op;
    uv_timer_start(&op->timer, on_fake_timer, f->delay_ms, 0);
    *handle = op;
    return 0;
}

static void fake_cancel(void *ctx, void *handle)
{
    fake_t *f = ctx;
    fake_op_t *op = handle;
    f->cancels++;
    op->canceled = 1;
    uv_timer_start(&op->timer, on_fake_timer, 0, 0);
}

/* ---- harness ------------------------------------------------------------- */

typedef struct tctx_s {
    uv_loop_t loop;
    fake_t fake;
    sb_media_fetcher_t fetcher;
    sb_media_cache_t *cache;
    int ncb;
    int in_get;
    int closed;
    char tmp[64];
} tctx_t;

typedef struct got_s {
    tctx_t *t;
    int called;
    int status;
    sb_media_audio_t *audio;
    int http_status;
    char why[160];
} got_t;

static void on_got(int status, sb_media_audio_t *audio,
                   const sb_media_cache_error_t *err, void *arg)
{
    got_t *g = arg;
    assert_false(g->t->in_get);     /* never inside sb_media_cache_get */
    assert_non_null(err);
    g->called++;
    g->status = status;
    g->audio = audio;
    g->http_status = err->http_status;
    snprintf(g->why, sizeof(g->why), "%s", err->why);
    if (status == 0)
        assert_non_null(audio);
    else
        assert_null(audio);
    g->t->ncb++;
}

static void run_until(tctx_t *t, const int *counter, int want)
{
    uint64_t start = uv_now(&t->loop);
    while (*counter < want) {
        int alive = uv_run(&t->loop, UV_RUN_ONCE);
        if (*counter >= want)
            break;
        if (!alive)
            fail_msg("loop ran dry with %d of %d events", *counter, want);
        if (uv_now(&t->loop) - start > 20000)
            fail_msg("timed out with %d of %d events", *counter, want);
    }
}

static void on_sleep(uv_timer_t *h) { (*(int *)h->data)++; }
static void on_sleep_closed(uv_handle_t *h) { (void)h; }

static void sleep_ms(tctx_t *t, unsigned ms)
{
    uv_timer_t tm;
    int fired = 0;
    uv_timer_init(&t->loop, &tm);
    tm.data = &fired;
    uv_timer_start(&tm, on_sleep, ms, 0);
    run_until(t, &fired, 1);
    uv_close((uv_handle_t *)&tm, on_sleep_closed);
    uv_run(&t->loop, UV_RUN_NOWAIT);
}

static int setup(void **state)
{
    tctx_t *t = calloc(1, sizeof(*t));
    assert_int_equal(uv_loop_init(&t->loop), 0);
    t->fake.loop = &t->loop;
    t->fake.delay_ms = 5;
    t->fetcher.fetch = fake_fetch;
    t->fetcher.cancel = fake_cancel;
    t->fetcher.ctx = &t->fake;
    snprintf(t->tmp, sizeof(t->tmp), "/tmp/sb_cache_XXXXXX");
    assert_non_null(mkdtemp(t->tmp));
    *state = t;
    return 0;
}

static void on_closed(void *arg) { (*(int *)arg)++; }

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char p[512];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_rf(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void close_cache(tctx_t *t)
{
    if (!t->cache)
        return;
    int closed = 0;
    sb_media_cache_close(t->cache, on_closed, &closed);
    t->cache = NULL;
    run_until(t, &closed, 1);
}

static int teardown(void **state)
{
    tctx_t *t = *state;
    close_cache(t);
    uv_run(&t->loop, UV_RUN_DEFAULT);   /* the fake's timers */
    assert_int_equal(t->fake.live, 0);
    assert_int_equal(uv_loop_close(&t->loop), 0);
    for (int i = 0; i < t->fake.nres; i++)
        free(t->fake.res[i].body);
    rm_rf(t->tmp);
    free(t);
    return 0;
}

static void open_cache(tctx_t *t, const sb_media_cache_opts_t *opts)
{
    sb_media_cache_opts_t o = {0};
    if (opts)
        o = *opts;
    assert_int_equal(sb_media_cache_new(&t->loop, &o, &t->fetcher,
                                        &t->cache), 0);
}

static sb_media_cache_req_t *start_get(tctx_t *t, const char *url, got_t *g)
{
    sb_media_cache_req_t *req = NULL;
    memset(g, 0, sizeof(*g));
    g->t = t;
    t->in_get = 1;
    assert_int_equal(sb_media_cache_get(t->cache, url, on_got, g, &req), 0);
    t->in_get = 0;
    assert_non_null(req);
    return req;
}

/* Gets url and waits for the answer; returns its status. */
static int get(tctx_t *t, const char *url, got_t *g)
{
    start_get(t, url, g);
    run_until(t, &g->called, 1);
    assert_int_equal(g->called, 1);
    return g->status;
}

static sb_media_cache_stats_t stats(tctx_t *t)
{
    sb_media_cache_stats_t st;
    sb_media_cache_stats(t->cache, &st);
    return st;
}

static int count_files(const char *dir, const char *ext)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name), e = strlen(ext);
        n += l > e && strcmp(de->d_name + l - e, ext) == 0;
    }
    closedir(d);
    return n;
}

#define URL_A "http://origin.test/a.wav"
#define URL_B "http://origin.test/b.wav"
#define URL_C "http://origin.test/c.wav"
#define URL_D "http://origin.test/d.wav"

/* ---- freshness ----------------------------------------------------------- */

static void test_media_cache_fresh_hit_fetches_once(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "public, max-age=60", "\"v1\"");
    open_cache(t, NULL);
    got_t g1, g2;
    assert_int_equal(get(t, URL_A, &g1), 0);
    assert_tone(g1.audio, 1000, 500);
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_ptr_equal(g2.audio, g1.audio);   /* decoded once */
    assert_int_equal(t->fake.fetches, 1);
    sb_media_cache_stats_t st = stats(t);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.entries, 1);
    assert_int_equal(st.mem_bytes, g1.audio->bytes);
    sb_media_audio_unref(g1.audio);
    sb_media_audio_unref(g2.audio);
}

static void test_media_cache_expired_revalidates_304_keeps_audio(void **state)
{
    tctx_t *t = *state;
    resource_t *r = fake_put(&t->fake, URL_A, 1000, "max-age=1", "\"v1\"");
    snprintf(r->last_modified, sizeof(r->last_modified),
             "Tue, 15 Nov 1994 12:45:26 GMT");
    open_cache(t, NULL);
    got_t g1, g2, g3;
    assert_int_equal(get(t, URL_A, &g1), 0);
    sleep_ms(t, 1100);
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_int_equal(t->fake.fetches, 2);
    assert_int_equal(t->fake.conditional, 1);
    assert_string_equal(t->fake.last_inm, "\"v1\"");
    assert_string_equal(t->fake.last_ims, "Tue, 15 Nov 1994 12:45:26 GMT");
    assert_ptr_equal(g2.audio, g1.audio);   /* 304: no new decode */
    assert_tone(g2.audio, 1000, 500);
    /* The 304's max-age=1 made it fresh again. */
    assert_int_equal(get(t, URL_A, &g3), 0);
    assert_int_equal(t->fake.fetches, 2);
    sb_media_cache_stats_t st = stats(t);
    assert_int_equal(st.not_modified, 1);
    assert_int_equal(st.revalidated, 1);
    sb_media_audio_unref(g1.audio);
    sb_media_audio_unref(g2.audio);
    sb_media_audio_unref(g3.audio);
}

static void test_media_cache_expired_changed_body_gives_new_audio(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "max-age=1", "\"v1\"");
    open_cache(t, NULL);
    got_t g1, g2, g3;
    assert_int_equal(get(t, URL_A, &g1), 0);
    assert_tone(g1.audio, 1000, 500);
    sleep_ms(t, 1100);
    fake_put(&t->fake, URL_A, 2000, "max-age=60", "\"v2\"");
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_string_equal(t->fake.last_inm, "\"v1\"");   /* it asked */
    assert_tone(g2.audio, 2000, 500);                   /* and replaced */
    assert_ptr_not_equal(g2.audio, g1.audio);
    assert_tone(g1.audio, 1000, 500);   /* the old reference still plays */
    assert_int_equal(get(t, URL_A, &g3), 0);
    assert_ptr_equal(g3.audio, g2.audio);
    assert_int_equal(t->fake.fetches, 2);
    assert_int_equal(stats(t).entries, 1);
    sb_media_audio_unref(g1.audio);
    sb_media_audio_unref(g2.audio);
    sb_media_audio_unref(g3.audio);
}

static void test_media_cache_no_store_fetches_every_time(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "no-store, max-age=60", "\"v1\"");
    open_cache(t, NULL);
    for (int i = 0; i < 3; i++) {
        got_t g;
        assert_int_equal(get(t, URL_A, &g), 0);
        assert_tone(g.audio, 1000, 500);
        sb_media_audio_unref(g.audio);
        assert_string_equal(t->fake.last_inm, "");
    }
    assert_int_equal(t->fake.fetches, 3);
    assert_int_equal(t->fake.conditional, 0);
    assert_int_equal(stats(t).entries, 0);
    assert_int_equal(stats(t).mem_bytes, 0);
}

static void test_media_cache_no_lifetime_no_validators_not_cached(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, NULL, NULL);
    sb_media_cache_opts_t o = {.default_ttl_s = 3600};
    open_cache(t, &o);
    got_t g1, g2;
    assert_int_equal(get(t, URL_A, &g1), 0);
    assert_int_equal(stats(t).entries, 0);
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_int_equal(t->fake.fetches, 2);
    assert_int_equal(t->fake.conditional, 0);
    assert_tone(g2.audio, 1000, 500);
    sb_media_audio_unref(g1.audio);
    sb_media_audio_unref(g2.audio);
}

static void test_media_cache_default_ttl_applies_to_validators_only(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, NULL, "\"a\"");
    sb_media_cache_opts_t o = {.default_ttl_s = 3600};
    open_cache(t, &o);
    got_t g1, g2;
    assert_int_equal(get(t, URL_A, &g1), 0);
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_int_equal(t->fake.fetches, 1);   /* fresh for default_ttl_s */
    sb_media_audio_unref(g1.audio);
    sb_media_audio_unref(g2.audio);
}

static void test_media_cache_default_ttl_zero_revalidates_each_use(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, NULL, "\"a\"");
    open_cache(t, NULL);
    got_t g[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(get(t, URL_A, &g[i]), 0);
    assert_int_equal(t->fake.fetches, 3);
    assert_int_equal(t->fake.conditional, 2);
    assert_ptr_equal(g[1].audio, g[0].audio);
    assert_ptr_equal(g[2].audio, g[0].audio);
    assert_int_equal(stats(t).not_modified, 2);
    for (int i = 0; i < 3; i++)
        sb_media_audio_unref(g[i].audio);
}

static void test_media_cache_no_cache_stores_and_revalidates(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "no-cache, max-age=600", "\"nc\"");
    sb_media_cache_opts_t o = {.default_ttl_s = 3600};
    open_cache(t, &o);
    got_t g1, g2;
    assert_int_equal(get(t, URL_A, &g1), 0);
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_int_equal(t->fake.fetches, 2);
    assert_string_equal(t->fake.last_inm, "\"nc\"");
    assert_ptr_equal(g2.audio, g1.audio);
    sb_media_audio_unref(g1.audio);
    sb_media_audio_unref(g2.audio);
}

static void test_media_cache_s_maxage_wins_over_max_age(void **state)
{
    tctx_t *t = *state;
    /* max-age=0 alone (no validators) would not be kept at all. */
    fake_put(&t->fake, URL_A, 1000, "max-age=0, s-maxage=60", NULL);
    fake_put(&t->fake, URL_B, 1000, "max-age=0", NULL);
    open_cache(t, NULL);
    got_t g[4];
    assert_int_equal(get(t, URL_A, &g[0]), 0);
    assert_int_equal(get(t, URL_A, &g[1]), 0);
    assert_int_equal(t->fake.fetches, 1);
    assert_int_equal(get(t, URL_B, &g[2]), 0);
    assert_int_equal(get(t, URL_B, &g[3]), 0);
    assert_int_equal(t->fake.fetches, 3);
    for (int i = 0; i < 4; i++)
        sb_media_audio_unref(g[i].audio);
}

static void test_media_cache_expires_minus_date_gives_lifetime(void **state)
{
    tctx_t *t = *state;
    /* The origin's clock is far behind ours: only Expires - Date counts. */
    resource_t *a = fake_put(&t->fake, URL_A, 1000, NULL, NULL);
    a->date = "Sun, 06 Nov 1994 08:49:37 GMT";
    a->expires = "Sun, 06 Nov 1994 08:50:37 GMT";
    /* Already expired, with a validator: revalidated on the next use. */
    resource_t *b = fake_put(&t->fake, URL_B, 1000, NULL, "\"b\"");
    b->date = "Sunday, 06-Nov-94 08:49:37 GMT";
    b->expires = "Sun Nov  6 08:49:00 1994";
    sb_media_cache_opts_t o = {.default_ttl_s = 3600};
    open_cache(t, &o);
    got_t g[4];
    assert_int_equal(get(t, URL_A, &g[0]), 0);
    assert_int_equal(get(t, URL_A, &g[1]), 0);
    assert_int_equal(t->fake.fetches, 1);
    assert_int_equal(get(t, URL_B, &g[2]), 0);
    assert_int_equal(get(t, URL_B, &g[3]), 0);
    assert_int_equal(t->fake.fetches, 3);
    assert_int_equal(t->fake.conditional, 1);
    assert_ptr_equal(g[3].audio, g[2].audio);
    for (int i = 0; i < 4; i++)
        sb_media_audio_unref(g[i].audio);
}

/* ---- single flight ------------------------------------------------------- */

static void test_media_cache_concurrent_gets_share_one_fetch(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);
    t->fake.delay_ms = 20;
    open_cache(t, NULL);
    got_t g[20];
    for (int i = 0; i < 20; i++)
        start_get(t, URL_A, &g[i]);
    assert_int_equal(t->ncb, 0);
    run_until(t, &t->ncb, 20);
    assert_int_equal(t->fake.fetches, 1);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(g[i].called, 1);
        assert_int_equal(g[i].status, 0);
        assert_ptr_equal(g[i].audio, g[0].audio);
    }
    /* Each holds its own reference: dropping 19 leaves a playable one. */
    for (int i = 1; i < 20; i++)
        sb_media_audio_unref(g[i].audio);
    close_cache(t);
    assert_tone(g[0].audio, 1000, 500);
    sb_media_audio_unref(g[0].audio);
}

static void test_media_cache_404_is_enoent_with_status(void **state)
{
    tctx_t *t = *state;
    open_cache(t, NULL);
    got_t g;
    assert_int_equal(get(t, "http://origin.test/missing.wav", &g),
                     SB_ENOENT);
    assert_int_equal(g.http_status, 404);
    assert_non_null(strstr(g.why, "404"));
    assert_int_equal(stats(t).entries, 0);
    assert_int_equal(stats(t).errors, 1);
}

static void test_media_cache_html_body_is_eformat(void **state)
{
    tctx_t *t = *state;
    resource_t *r = fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);
    free(r->body);
    r->body = (uint8_t *)strdup("<!DOCTYPE html><html><body>Oops</body>"
                                "</html>");
    r->len = strlen((char *)r->body);
    r->content_type = "text/html";
    open_cache(t, NULL);
    got_t g1, g2;
    assert_int_equal(get(t, URL_A, &g1), SB_EFORMAT);
    assert_int_equal(g1.http_status, 200);
    assert_true(strlen(g1.why) > 0);
    /* A failure is not cached. */
    assert_int_equal(get(t, URL_A, &g2), SB_EFORMAT);
    assert_int_equal(t->fake.fetches, 2);
    assert_int_equal(stats(t).entries, 0);
}

static void test_media_cache_network_error_fails_all_waiters(void **state)
{
    tctx_t *t = *state;
    resource_t *r = fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);
    r->err = SB_ENETWORK;
    open_cache(t, NULL);
    got_t g[3];
    for (int i = 0; i < 3; i++)
        start_get(t, URL_A, &g[i]);
    run_until(t, &t->ncb, 3);
    assert_int_equal(t->fake.fetches, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(g[i].status, SB_ENETWORK);
        assert_int_equal(g[i].http_status, 0);
    }
}

static void test_media_cache_fetcher_too_big_is_etoobig(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);   /* ~8 kB */
    sb_media_cache_opts_t o = {.max_file_bytes = 4000};
    open_cache(t, &o);
    got_t g;
    assert_int_equal(get(t, URL_A, &g), SB_ETOOBIG);
}

static void test_media_cache_cancel_one_waiter_others_continue(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);
    t->fake.delay_ms = 20;
    open_cache(t, NULL);
    got_t g[3];
    sb_media_cache_req_t *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = start_get(t, URL_A, &g[i]);
    sb_media_cache_cancel(r[1]);
    assert_int_equal(g[1].called, 0);       /* later, not inside cancel */
    run_until(t, &t->ncb, 3);
    assert_int_equal(g[1].status, SB_ECANCELED);
    assert_int_equal(g[0].status, 0);
    assert_int_equal(g[2].status, 0);
    assert_int_equal(t->fake.fetches, 1);
    assert_int_equal(t->fake.cancels, 0);
    assert_tone(g[0].audio, 1000, 500);
    sb_media_audio_unref(g[0].audio);
    sb_media_audio_unref(g[2].audio);
}

static void test_media_cache_cancel_all_cancels_fetch(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);
    t->fake.delay_ms = 50;
    open_cache(t, NULL);
    got_t g[3];
    sb_media_cache_req_t *r[3];
    for (int i = 0; i < 3; i++)
        r[i] = start_get(t, URL_A, &g[i]);
    for (int i = 0; i < 3; i++)
        sb_media_cache_cancel(r[i]);
    assert_int_equal(t->fake.cancels, 1);
    run_until(t, &t->ncb, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g[i].status, SB_ECANCELED);
    /* A new request after that downloads afresh. */
    got_t g4;
    assert_int_equal(get(t, URL_A, &g4), 0);
    assert_int_equal(t->fake.fetches, 2);
    assert_tone(g4.audio, 1000, 500);
    sb_media_audio_unref(g4.audio);
    /* A cancel after the answer was queued turns it into SB_ECANCELED. */
    got_t g5;
    sb_media_cache_req_t *r5 = start_get(t, URL_A, &g5);
    sb_media_cache_cancel(r5);
    run_until(t, &g5.called, 1);
    assert_int_equal(g5.status, SB_ECANCELED);
}

/* ---- memory bound -------------------------------------------------------- */

static void test_media_cache_lru_evicts_by_mem_bytes(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 500, "max-age=60", NULL);
    fake_put(&t->fake, URL_B, 1000, "max-age=60", NULL);
    fake_put(&t->fake, URL_C, 1500, "max-age=60", NULL);
    /* Measure one decoded 500 ms prompt, then allow room for two. */
    open_cache(t, NULL);
    got_t m;
    assert_int_equal(get(t, URL_A, &m), 0);
    size_t one = m.audio->bytes;
    sb_media_audio_unref(m.audio);
    close_cache(t);
    t->fake.fetches = 0;

    sb_media_cache_opts_t o = {.mem_bytes = one * 2 + one / 2};
    open_cache(t, &o);
    got_t a, b, a2, c, a3, b2;
    assert_int_equal(get(t, URL_A, &a), 0);
    assert_int_equal(get(t, URL_B, &b), 0);
    assert_int_equal(get(t, URL_A, &a2), 0);    /* A is now the newest */
    assert_int_equal(t->fake.fetches, 2);
    assert_int_equal(get(t, URL_C, &c), 0);     /* evicts B */
    assert_int_equal(t->fake.fetches, 3);
    assert_true(stats(t).mem_bytes <= o.mem_bytes);
    assert_int_equal(stats(t).entries, 2);
    assert_int_equal(get(t, URL_A, &a3), 0);
    assert_int_equal(t->fake.fetches, 3);       /* A stayed */
    /* B's audio, still held "by a player", is intact. */
    assert_tone(b.audio, 1000, 500);
    assert_int_equal(get(t, URL_B, &b2), 0);
    assert_int_equal(t->fake.fetches, 4);       /* B was gone */
    assert_ptr_not_equal(b2.audio, b.audio);
    assert_tone(b2.audio, 1000, 500);
    assert_tone(c.audio, 1500, 500);
    sb_media_audio_t *all[] = {a.audio, b.audio, a2.audio, c.audio,
                               a3.audio, b2.audio};
    for (size_t i = 0; i < 6; i++)
        sb_media_audio_unref(all[i]);
}

/* ---- disk copies --------------------------------------------------------- */

static void test_media_cache_disk_copy_fresh_reused_without_fetch(void **state)
{
    tctx_t *t = *state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/cache/sub", t->tmp);   /* made by new */
    fake_put(&t->fake, URL_A, 1000, "max-age=600", "\"d1\"");
    sb_media_cache_opts_t o = {.dir = dir};
    open_cache(t, &o);
    got_t g1;
    assert_int_equal(get(t, URL_A, &g1), 0);
    assert_true(stats(t).disk_bytes > 8000);
    close_cache(t);
    assert_int_equal(count_files(dir, ".body"), 1);
    assert_int_equal(count_files(dir, ".meta"), 1);
    assert_int_equal(count_files(dir, ".tmp"), 0);
    sb_media_audio_unref(g1.audio);

    open_cache(t, &o);          /* a restart */
    got_t g2, g3;
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_int_equal(t->fake.fetches, 1);       /* none since */
    assert_tone(g2.audio, 1000, 500);
    assert_int_equal(get(t, URL_A, &g3), 0);    /* now from memory */
    assert_ptr_equal(g3.audio, g2.audio);
    assert_int_equal(stats(t).hits, 2);
    sb_media_audio_unref(g2.audio);
    sb_media_audio_unref(g3.audio);
}

static void test_media_cache_disk_copy_stale_revalidated(void **state)
{
    tctx_t *t = *state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/cache", t->tmp);
    fake_put(&t->fake, URL_A, 1000, "max-age=1", "\"d1\"");
    sb_media_cache_opts_t o = {.dir = dir};
    open_cache(t, &o);
    got_t g1;
    assert_int_equal(get(t, URL_A, &g1), 0);
    sb_media_audio_unref(g1.audio);
    close_cache(t);
    sleep_ms(t, 1100);

    open_cache(t, &o);
    got_t g2, g3;
    assert_int_equal(get(t, URL_A, &g2), 0);
    assert_int_equal(t->fake.fetches, 2);
    assert_int_equal(t->fake.conditional, 1);
    assert_string_equal(t->fake.last_inm, "\"d1\"");
    assert_int_equal(stats(t).not_modified, 1);
    assert_tone(g2.audio, 1000, 500);           /* decoded from disk */
    assert_int_equal(get(t, URL_A, &g3), 0);    /* fresh again */
    assert_int_equal(t->fake.fetches, 2);
    sb_media_audio_unref(g2.audio);
    sb_media_audio_unref(g3.audio);
}

static void test_media_cache_disk_bounded_and_corrupt_copy_refetched(void **state)
{
    tctx_t *t = *state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/cache", t->tmp);
    const char *urls[] = {URL_A, URL_B, URL_C, URL_D};
    for (int i = 0; i < 4; i++)
        fake_put(&t->fake, urls[i], 500 + 250 * i, "max-age=600", NULL);
    /* Room for three ~8.3 kB copies, not four. */
    sb_media_cache_opts_t o = {.dir = dir, .disk_bytes = 30000};
    open_cache(t, &o);
    for (int i = 0; i < 4; i++) {
        got_t g;
        assert_int_equal(get(t, urls[i], &g), 0);
        sb_media_audio_unref(g.audio);
    }
    assert_true(stats(t).disk_bytes <= 30000);
    close_cache(t);
    assert_int_equal(count_files(dir, ".body"), 3);
    assert_int_equal(count_files(dir, ".meta"), 3);

    /* Damage B's copy: a restart must not serve it, but download again. */
    char name[65], path[256];
    sb_sha256_hex(URL_B, strlen(URL_B), name);
    snprintf(path, sizeof(path), "%s/%s.body", dir, name);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fwrite("JUNKJUNKJUNK", 1, 12, f);
    fclose(f);

    sb_media_cache_opts_t o2 = {.dir = dir};
    open_cache(t, &o2);
    int before = t->fake.fetches;
    got_t gb, ga;
    assert_int_equal(get(t, URL_B, &gb), 0);
    assert_tone(gb.audio, 750, 500);
    assert_int_equal(t->fake.fetches, before + 1);
    assert_int_equal(get(t, URL_A, &ga), 0);    /* A was evicted: fetch */
    assert_int_equal(t->fake.fetches, before + 2);
    sb_media_audio_unref(gb.audio);
    sb_media_audio_unref(ga.audio);
}

static void test_media_cache_purge_forgets_memory_and_disk(void **state)
{
    tctx_t *t = *state;
    char dir[128];
    snprintf(dir, sizeof(dir), "%s/cache", t->tmp);
    fake_put(&t->fake, URL_A, 1000, "max-age=600", NULL);
    fake_put(&t->fake, URL_B, 1000, "max-age=600", NULL);
    sb_media_cache_opts_t o = {.dir = dir};
    open_cache(t, &o);
    got_t g[4];
    assert_int_equal(get(t, URL_A, &g[0]), 0);
    assert_int_equal(get(t, URL_B, &g[1]), 0);
    sb_media_cache_purge(t->cache, URL_A);
    assert_int_equal(stats(t).entries, 1);
    assert_int_equal(get(t, URL_A, &g[2]), 0);
    assert_int_equal(t->fake.fetches, 3);
    sb_media_cache_purge(t->cache, NULL);
    assert_int_equal(stats(t).entries, 0);
    assert_int_equal(stats(t).mem_bytes, 0);
    assert_int_equal(stats(t).disk_bytes, 0);
    close_cache(t);
    assert_int_equal(count_files(dir, ".body"), 0);
    assert_int_equal(count_files(dir, ".meta"), 0);
    for (int i = 0; i < 3; i++)
        sb_media_audio_unref(g[i].audio);
}

static void test_media_cache_stale_served_when_origin_down(void **state)
{
    tctx_t *t = *state;
    resource_t *a = fake_put(&t->fake, URL_A, 1000, "max-age=1", "\"s\"");
    fake_put(&t->fake, URL_B, 1000, "max-age=1, must-revalidate", "\"m\"");
    open_cache(t, NULL);
    got_t g[4];
    assert_int_equal(get(t, URL_A, &g[0]), 0);
    assert_int_equal(get(t, URL_B, &g[1]), 0);
    sleep_ms(t, 1100);
    a->err = SB_ETIMEDOUT;
    fake_find(&t->fake, URL_B)->err = SB_ENETWORK;
    assert_int_equal(get(t, URL_A, &g[2]), 0);
    assert_ptr_equal(g[2].audio, g[0].audio);
    assert_int_equal(get(t, URL_B, &g[3]), SB_ENETWORK);
    for (int i = 0; i < 3; i++)
        sb_media_audio_unref(g[i].audio);
}

/* ---- file:// ------------------------------------------------------------- */

static void write_file(const char *path, double freq)
{
    size_t len;
    uint8_t *w = make_wav(freq, 500, 16000, &len);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(w, 1, len, f), len);
    fclose(f);
    free(w);
}

static void test_media_cache_file_urls_inside_root_only(void **state)
{
    tctx_t *t = *state;
    char root[128], in[192], out[192], link[192], url[512];
    snprintf(root, sizeof(root), "%s/media", t->tmp);
    assert_int_equal(mkdir(root, 0755), 0);
    snprintf(in, sizeof(in), "%s/hello world.wav", root);
    snprintf(out, sizeof(out), "%s/secret.wav", t->tmp);
    snprintf(link, sizeof(link), "%s/link.wav", root);
    write_file(in, 1000);
    write_file(out, 1000);
    assert_int_equal(symlink(out, link), 0);
    sb_media_cache_opts_t o = {.media_root = root};
    open_cache(t, &o);

    got_t g1, g2, g3;
    snprintf(url, sizeof(url), "file://%s/hello%%20world.wav", root);
    assert_int_equal(get(t, url, &g1), 0);      /* 16 kHz, resampled */
    assert_tone(g1.audio, 1000, 500);
    assert_int_equal(get(t, url, &g2), 0);
    assert_ptr_equal(g2.audio, g1.audio);       /* same mtime and size */
    /* A changed file (another size) is read again. */
    size_t len;
    uint8_t *w = make_wav(2000, 600, 8000, &len);
    FILE *f = fopen(in, "wb");
    fwrite(w, 1, len, f);
    fclose(f);
    free(w);
    assert_int_equal(get(t, url, &g3), 0);
    assert_tone(g3.audio, 2000, 600);
    assert_int_equal(t->fake.fetches, 0);

    got_t e;
    snprintf(url, sizeof(url), "file://%s/../secret.wav", root);
    assert_int_equal(get(t, url, &e), SB_EPERM);
    snprintf(url, sizeof(url), "file://%s/link.wav", root);
    assert_int_equal(get(t, url, &e), SB_EPERM);   /* symlink out */
    snprintf(url, sizeof(url), "file://%s", out);
    assert_int_equal(get(t, url, &e), SB_EPERM);
    /* Outside the root, a file that exists and one that does not get the
     * same answer: a document cannot probe the host's files. */
    char why_exists[sizeof(e.why)];
    snprintf(why_exists, sizeof(why_exists), "%s", e.why);
    snprintf(url, sizeof(url), "file:///nonexistent-%d/x.wav", (int)getpid());
    assert_int_equal(get(t, url, &e), SB_EPERM);
    assert_non_null(strstr(e.why, "outside media_root"));
    assert_non_null(strstr(why_exists, "outside media_root"));
    snprintf(url, sizeof(url), "file://otherhost%s/hello.wav", root);
    assert_int_equal(get(t, url, &e), SB_EPERM);
    snprintf(url, sizeof(url), "file://%s/nope.wav", root);
    assert_int_equal(get(t, url, &e), SB_ENOENT);
    sb_media_audio_unref(g1.audio);
    sb_media_audio_unref(g2.audio);
    sb_media_audio_unref(g3.audio);
    close_cache(t);

    open_cache(t, NULL);        /* no media_root: no file URLs at all */
    snprintf(url, sizeof(url), "file://%s/hello%%20world.wav", root);
    assert_int_equal(get(t, url, &e), SB_EPERM);
}

static void test_media_cache_bad_urls_refused(void **state)
{
    tctx_t *t = *state;
    open_cache(t, NULL);
    static const struct { const char *url; int status; } cases[] = {
        {"ftp://origin.test/a.wav", SB_EPERM},
        {"gopher://origin.test/a", SB_EPERM},
        {"data:audio/wav;base64,UklGRg==", SB_EPERM},
        {"javascript:alert(1)", SB_EPERM},
        {"not a url", SB_EINVAL},
        {"/just/a/path.wav", SB_EINVAL},
        {"http:/no-host.wav", SB_EINVAL},
        {"http://", SB_EINVAL},
        {"", SB_EINVAL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        got_t g;
        int st = get(t, cases[i].url, &g);
        if (st != cases[i].status)
            fail_msg("%s: %s, expected %s", cases[i].url, sb_err_name(st),
                     sb_err_name(cases[i].status));
        assert_true(strlen(g.why) > 0);
    }
    assert_int_equal(t->fake.fetches, 0);
    sb_media_cache_req_t *req;
    assert_int_equal(sb_media_cache_get(t->cache, NULL, on_got, NULL, &req),
                     SB_EINVAL);
}

/* ---- close --------------------------------------------------------------- */

static void test_media_cache_close_with_pending_requests(void **state)
{
    tctx_t *t = *state;
    fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);
    fake_put(&t->fake, URL_B, 1000, "max-age=60", NULL);
    t->fake.delay_ms = 200;
    open_cache(t, NULL);
    got_t g[3];
    start_get(t, URL_A, &g[0]);
    start_get(t, URL_A, &g[1]);
    start_get(t, URL_B, &g[2]);
    int closed = 0;
    sb_media_cache_close(t->cache, on_closed, &closed);
    t->cache = NULL;
    assert_int_equal(t->ncb, 0);
    run_until(t, &closed, 1);
    assert_int_equal(t->ncb, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(g[i].status, SB_ECANCELED);
    assert_int_equal(t->fake.cancels, 2);
}

/* Closing while the decode runs in the thread pool waits for it. */
static void test_media_cache_close_during_decode(void **state)
{
    tctx_t *t = *state;
    resource_t *r = fake_put(&t->fake, URL_A, 1000, "max-age=60", NULL);
    free(r->body);
    r->body = make_wav(440, 20000, 44100, &r->len);     /* 20 s to decode */
    open_cache(t, NULL);
    got_t g;
    start_get(t, URL_A, &g);
    t->fake.close_after_done = t->cache;
    t->cache = NULL;
    run_until(t, &g.called, 1);
    assert_int_equal(g.status, SB_ECANCELED);
    /* teardown's uv_loop_close proves the work and handles are done. */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_media_cache_fresh_hit_fetches_once),
        T(test_media_cache_expired_revalidates_304_keeps_audio),
        T(test_media_cache_expired_changed_body_gives_new_audio),
        T(test_media_cache_no_store_fetches_every_time),
        T(test_media_cache_no_lifetime_no_validators_not_cached),
        T(test_media_cache_default_ttl_applies_to_validators_only),
        T(test_media_cache_default_ttl_zero_revalidates_each_use),
        T(test_media_cache_no_cache_stores_and_revalidates),
        T(test_media_cache_s_maxage_wins_over_max_age),
        T(test_media_cache_expires_minus_date_gives_lifetime),
        T(test_media_cache_concurrent_gets_share_one_fetch),
        T(test_media_cache_404_is_enoent_with_status),
        T(test_media_cache_html_body_is_eformat),
        T(test_media_cache_network_error_fails_all_waiters),
        T(test_media_cache_fetcher_too_big_is_etoobig),
        T(test_media_cache_cancel_one_waiter_others_continue),
        T(test_media_cache_cancel_all_cancels_fetch),
        T(test_media_cache_lru_evicts_by_mem_bytes),
        T(test_media_cache_disk_copy_fresh_reused_without_fetch),
        T(test_media_cache_disk_copy_stale_revalidated),
        T(test_media_cache_disk_bounded_and_corrupt_copy_refetched),
        T(test_media_cache_purge_forgets_memory_and_disk),
        T(test_media_cache_stale_served_when_origin_down),
        T(test_media_cache_file_urls_inside_root_only),
        T(test_media_cache_bad_urls_refused),
        T(test_media_cache_close_with_pending_requests),
        T(test_media_cache_close_during_decode),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
