/*
 * test_media_listen.c: what the engine does with what a phone says. Test
 * phones (uv_udp sockets on the test's loop) send G.711 on a 20 ms timer:
 * tones, silence, noise, in-band DTMF and RFC 4733 events. Checked:
 * recordings as WAV files read back and analysed (frequency, length,
 * header), the silence timeout against a noise floor, max length,
 * trimming, a bridge recorded mixed and as two channels, an unwritable
 * folder, a hang-up mid-recording; in-band digits reported once each and
 * never for a phone that negotiated telephone-event; the tap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include <cmocka.h>

#define WATCHDOG_MS 30000
#include "media_phone.h"

/* ---- recordings --------------------------------------------------------------------- */

typedef struct {
    int done;
    sb_media_rec_result_t res;
    char why[160];
} rec_wait_t;

static void on_rec(sb_media_rec_t *rec, const sb_media_rec_result_t *r,
                   void *arg)
{
    (void)rec;
    rec_wait_t *w = arg;
    w->done++;
    w->res = *r;

    snprintf(w->why, sizeof(w->why), "%s", r->why ? r->why : "");
    w->res.why = w->why;
}

typedef struct {
    int channels;
    size_t frames;              /* samples per channel */
    int16_t *pcm;               /* interleaved */
} wav_t;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

/* Reads a canonical WAV the recorder wrote; checks its header. */
static void wav_read(const char *path, wav_t *w)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t h[44];
    assert_int_equal(fread(h, 1, 44, f), 44);
    assert_memory_equal(h, "RIFF", 4);
    assert_memory_equal(h + 8, "WAVEfmt ", 8);
    assert_int_equal(h[20], 1);                 /* PCM */
    w->channels = h[22];
    assert_int_equal(le32(h + 24), 8000);
    assert_int_equal(h[34], 16);
    assert_memory_equal(h + 36, "data", 4);
    uint32_t data = le32(h + 40);
    assert_int_equal(le32(h + 4), 36 + data);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal((uint64_t)st.st_size, 44u + data);  /* header tells the truth */
    assert_int_equal(st.st_mode & 0777, 0600);
    w->frames = data / 2 / (size_t)w->channels;
    w->pcm = malloc(data + 2);
    assert_int_equal(fread(w->pcm, 1, data, f), data);
    fclose(f);
}

/* Channel ch of samples [from, from + n) into out. */
static void wav_channel(const wav_t *w, int ch, size_t from, size_t n,
                        int16_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = w->pcm[(from + i) * (size_t)w->channels + (size_t)ch];
}

static char tmpdir[] = "/tmp/sb-listen-XXXXXX";

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", tmpdir, name);
}

/* A 1 kHz tone for 1 s, then silence: the silence timeout (600 ms) ends
 * the recording, the file keeps the tone and 300 ms after it (trim), and
 * the tone is where it was said. */
static void test_media_listen_record_tone_until_silence(void **state)
{
    (void)state;
    ctx_t c;
    phone_t ph;
    ctx_init(&c, 1);
    ph_open(&c.loop, &ph);
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    ph_attach(&ph, ep, 0);
    char path[256];
    path_of(path, sizeof(path), "tone.wav");
    sb_media_rec_opts_t o = {.path = path, .silence_ms = 600, .trim = 1};
    rec_wait_t w = {0};
    sb_media_rec_t *rec;
    assert_int_equal(sb_media_record_start(ep, &o, on_rec, &w, &rec), 0);
    assert_int_equal(sb_media_record_start(ep, &o, on_rec, &w, &rec),
                     SB_EBUSY);
    static const seg_t segs[] = {
        {S_TONE, 1000, 1000, 0, 8000},
        {S_SILENCE, 3000, 0, 0, 0},
    };
    talker_t t;
    talk(&c, &t, &ph, segs, 2, 0);
    run_until(&c, &w.done, 1);
    assert_int_equal(w.res.status, 0);
    assert_int_equal(w.res.reason, SB_MEDIA_REC_SILENCE);
    assert_true(w.res.voice_ms >= 900 && w.res.voice_ms <= 1100);
    assert_int_equal(w.res.missing_frames, 0);
    assert_int_equal(w.res.dropped_frames, 0);
    /* Silence is counted from the start, before the first packet too:
     * up to 1.1 s (first packet, prefill) + 1 s tone + 0.3 s kept. */
    assert_true(w.res.duration_ms >= 1250 && w.res.duration_ms <= 1500);
    wav_t wav;
    wav_read(path, &wav);
    assert_int_equal(wav.channels, 1);
    assert_int_equal(wav.frames, w.res.duration_ms * 8);
    /* The tone ends 300 ms before the file does. */
    int16_t x[4000];
    wav_channel(&wav, 0, wav.frames - 2400 - 4000 - 400, 4000, x);
    assert_true(dominant(x, 4000, 1000));
    wav_channel(&wav, 0, wav.frames - 2000, 2000, x);
    assert_true(rms(x, 2000) < 50);
    free(wav.pcm);
    talker_close(&t);
    sb_media_endpoint_destroy(ep, NULL, NULL);
    phone_t *phs[] = {&ph};
    ctx_close(&c, phs, 1);
}

/* Steady noise well above the start of the floor does not hold the
 * recording open: the floor climbs to it and the timeout runs. Speech-
 * like bursts on top of the noise do keep it open while they last. */
static void test_media_listen_noise_cannot_hold_it_open(void **state)
{
    (void)state;
    ctx_t c;
    phone_t ph;
    ctx_init(&c, 0);
    ph_open(&c.loop, &ph);
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    ph_attach(&ph, ep, 0);
    char path[256];
    path_of(path, sizeof(path), "noise.wav");
    sb_media_rec_opts_t o = {.path = path, .silence_ms = 1000};
    rec_wait_t w = {0};
    assert_int_equal(sb_media_record_start(ep, &o, on_rec, &w, NULL), 0);
    static const seg_t segs[] = {
        {S_TONE, 400, 700, 0, 6000},        /* "speech" */
        {S_NOISE, 20000, 0, 0, 1500},       /* about -27 dBFS */
    };
    talker_t t;
    talk(&c, &t, &ph, segs, 2, 0);
    run_until(&c, &w.done, 1);
    assert_int_equal(w.res.reason, SB_MEDIA_REC_SILENCE);
    /* The floor rises 5 dB/s from -70 dBFS; the noise (-32 dBFS) is 38
     * dB over it: within about 8 s it counts as silence, then 1 s more.
     * It did count as voice at first (the floor is not a fixed level). */
    assert_true(w.res.duration_ms < 12000);
    assert_true(w.res.duration_ms > 5000);
    assert_true(w.res.voice_ms > 3000);
    talker_close(&t);
    sb_media_endpoint_destroy(ep, NULL, NULL);
    phone_t *phs[] = {&ph};
    ctx_close(&c, phs, 1);
}

/* maxLength ends it exactly; stop ends it at once; both complete once. */
static void test_media_listen_max_length_and_stop(void **state)
{
    (void)state;
    ctx_t c;
    phone_t ph, ph2;
    ctx_init(&c, 1);
    ph_open(&c.loop, &ph);
    ph_open(&c.loop, &ph2);
    sb_media_endpoint_t *ep, *ep2;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep2), 0);
    ph_attach(&ph, ep, 8);
    ph_attach(&ph2, ep2, 0);
    char p1[256], p2[256];
    path_of(p1, sizeof(p1), "max.wav");
    path_of(p2, sizeof(p2), "stop.wav");
    sb_media_rec_opts_t o1 = {.path = p1, .max_ms = 700};
    sb_media_rec_opts_t o2 = {.path = p2};
    rec_wait_t w1 = {0}, w2 = {0};
    sb_media_rec_t *r2;
    assert_int_equal(sb_media_record_start(ep, &o1, on_rec, &w1, NULL), 0);
    assert_int_equal(sb_media_record_start(ep2, &o2, on_rec, &w2, &r2), 0);
    static const seg_t segs[] = {{S_TONE, 3000, 500, 0, 8000}};
    talker_t t1, t2;
    talk(&c, &t1, &ph, segs, 1, 8);
    talk(&c, &t2, &ph2, segs, 1, 0);
    run_until(&c, &w1.done, 1);
    assert_int_equal(w1.res.reason, SB_MEDIA_REC_MAX_LENGTH);
    assert_int_equal(w1.res.duration_ms, 700);
    sb_media_record_stop(r2);
    sb_media_record_stop(r2);           /* twice is harmless */
    run_until(&c, &w2.done, 1);
    assert_int_equal(w2.res.reason, SB_MEDIA_REC_STOPPED);
    assert_true(w2.res.duration_ms >= 600 && w2.res.duration_ms <= 1000);
    run_for(&c, 100);
    assert_int_equal(w1.done, 1);
    assert_int_equal(w2.done, 1);
    wav_t wav;
    wav_read(p1, &wav);
    assert_int_equal(wav.frames, 700 * 8);
    int16_t x[2000];
    wav_channel(&wav, 0, 3000, 2000, x);    /* A-law decoded */
    assert_true(dominant(x, 2000, 500));
    free(wav.pcm);
    talker_close(&t1);
    talker_close(&t2);
    phone_t *phs[] = {&ph, &ph2};
    ctx_close(&c, phs, 2);
}

/* A bridge, two phones with two tones: mixed mono holds both, dual holds
 * one per channel; the relay goes on meanwhile. */
static void test_media_listen_bridge_mixed_and_dual(void **state)
{
    (void)state;
    for (int dual = 0; dual <= 1; dual++) {
        ctx_t c;
        phone_t a, b;
        ctx_init(&c, 1);
        ph_open(&c.loop, &a);
        ph_open(&c.loop, &b);
        sb_media_endpoint_t *ea, *eb;
        assert_int_equal(sb_media_endpoint_create(c.engine, &ea), 0);
        assert_int_equal(sb_media_endpoint_create(c.engine, &eb), 0);
        ph_attach(&a, ea, 0);
        ph_attach(&b, eb, 8);
        assert_int_equal(sb_media_connect(ea, eb, on_done, slot(&c, 0)), 0);
        run_until(&c, &c.done[0], 1);
        char path[256];
        path_of(path, sizeof(path), dual ? "dual.wav" : "mixed.wav");
        sb_media_rec_opts_t o = {.path = path, .other = eb, .dual = dual,
                                 .max_ms = 1500};
        rec_wait_t w = {0};
        assert_int_equal(sb_media_record_start(ea, &o, on_rec, &w, NULL), 0);
        static const seg_t sa[] = {{S_TONE, 3000, 400, 0, 6000}};
        static const seg_t sb[] = {{S_TONE, 3000, 1100, 0, 6000}};
        talker_t ta, tb;
        talk(&c, &ta, &a, sa, 1, 0);
        talk(&c, &tb, &b, sb, 1, 8);
        run_until(&c, &w.done, 1);
        assert_int_equal(w.res.status, 0);
        assert_int_equal(w.res.duration_ms, 1500);
        wav_t wav;
        wav_read(path, &wav);
        assert_int_equal(wav.channels, dual ? 2 : 1);
        int16_t x[4000];
        if (dual) {
            wav_channel(&wav, 0, 6000, 4000, x);
            assert_true(dominant(x, 4000, 400));
            assert_true(goertzel(x, 4000, 1100) * 100 < goertzel(x, 4000, 400));
            wav_channel(&wav, 1, 6000, 4000, x);
            assert_true(dominant(x, 4000, 1100));
        } else {
            wav_channel(&wav, 0, 6000, 4000, x);
            double p4 = goertzel(x, 4000, 400), p11 = goertzel(x, 4000, 1100);
            assert_true(p4 > 1000 && p11 > 1000);
            assert_true(p4 < 4 * p11 && p11 < 4 * p4);
        }
        free(wav.pcm);
        /* The relay went on: each phone heard the other's tone. */
        assert_true(a.n > 4000 && b.n > 4000);
        assert_true(dominant(a.pcm + a.n - 4000, 4000, 1100));
        talker_close(&ta);
        talker_close(&tb);
        phone_t *phs[] = {&a, &b};
        ctx_close(&c, phs, 2);
    }
}

/* A folder that does not exist: an error with the path, the endpoint
 * unharmed. A hang-up mid-recording: the file is complete up to it. */
static void test_media_listen_unwritable_and_hangup(void **state)
{
    (void)state;
    ctx_t c;
    phone_t ph;
    ctx_init(&c, 1);
    ph_open(&c.loop, &ph);
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    ph_attach(&ph, ep, 0);
    sb_media_rec_opts_t bad = {.path = "/nonexistent-sb-dir/x.wav"};
    rec_wait_t w = {0};
    assert_int_equal(sb_media_record_start(ep, &bad, on_rec, &w, NULL), 0);
    run_until(&c, &w.done, 1);
    assert_int_equal(w.res.status, SB_EIO);
    assert_int_equal(w.res.reason, SB_MEDIA_REC_ERROR);
    assert_non_null(strstr(w.why, "/nonexistent-sb-dir/x.wav"));

    char path[256];
    path_of(path, sizeof(path), "hangup.wav");
    sb_media_rec_opts_t o = {.path = path};
    rec_wait_t w2 = {0};
    assert_int_equal(sb_media_record_start(ep, &o, on_rec, &w2, NULL), 0);
    static const seg_t segs[] = {{S_TONE, 5000, 800, 0, 8000}};
    talker_t t;
    talk(&c, &t, &ph, segs, 1, 0);
    run_for(&c, 1200);
    assert_int_equal(w2.done, 0);
    assert_int_equal(sb_media_endpoint_destroy(ep, on_done, slot(&c, 1)), 0);
    run_until(&c, &w2.done, 1);
    assert_int_equal(w2.res.reason, SB_MEDIA_REC_HANGUP);
    assert_int_equal(w2.res.status, 0);
    assert_true(w2.res.duration_ms >= 1000 && w2.res.duration_ms <= 1400);
    wav_t wav;
    wav_read(path, &wav);
    assert_int_equal(wav.frames, w2.res.duration_ms * 8);
    free(wav.pcm);
    run_until(&c, &c.done[1], 1);
    talker_close(&t);
    phone_t *phs[] = {&ph};
    ctx_close(&c, phs, 1);
}

/* ---- in-band DTMF and the tap ------------------------------------------------------------ */

typedef struct {
    char digits[32];
    int n;
} heard_t;

static void on_dtmf(sb_media_endpoint_t *ep, char digit, int ms, void *arg)
{
    (void)ep;
    (void)ms;
    heard_t *h = arg;
    if (h->n < 31)
        h->digits[h->n++] = digit;
    h->digits[h->n] = 0;
}

static const double ROW[] = {697, 770, 852, 941};
static const double COL[] = {1209, 1336, 1477, 1633};

static seg_t dtmf_seg(char d, unsigned ms)
{
    static const char *keys = "123A456B789C*0#D";
    int i = (int)(strchr(keys, d) - keys);
    seg_t s = {S_DTMF, ms, ROW[i / 4], COL[i % 4], 5000};
    return s;
}

static int tap_frames;
static int16_t tap_peak;

static void on_tap(const int16_t *pcm, size_t n, void *arg)
{
    (void)arg;
    __atomic_add_fetch(&tap_frames, 1, __ATOMIC_RELAXED);
    for (size_t i = 0; i < n; i++)
        if (pcm[i] > tap_peak)
            tap_peak = pcm[i];
}

/* A phone without telephone-event: in-band digits are detected, each
 * once, a long press once. A phone with telephone-event sending the same
 * tones: nothing is detected in the audio (one detector per stream). */
static void test_media_listen_inband_dtmf(void **state)
{
    (void)state;
    heard_t heard = {0};
    sb_media_events_t ev = {.on_dtmf = on_dtmf, .arg = &heard};
    ctx_t c;
    phone_t ph, ph2;
    ctx_init_ev(&c, 1, &ev);
    ph_open(&c.loop, &ph);
    ph_open(&c.loop, &ph2);
    sb_media_endpoint_t *ep, *ep2;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep2), 0);
    ph_attach_te(&ph, ep, 0, 0);
    ph_attach_te(&ph2, ep2, 8, 1);
    sb_media_listen_t l = {.dtmf = 1, .tap = on_tap};
    assert_int_equal(sb_media_endpoint_listen(ep, &l, on_done, slot(&c, 0)), 0);
    assert_int_equal(sb_media_endpoint_listen(ep2, &l, on_done, slot(&c, 1)), 0);
    run_until(&c, &c.done[0], 1);
    run_until(&c, &c.done[1], 1);
    seg_t segs[] = {
        {S_SILENCE, 200, 0, 0, 0},
        dtmf_seg('1', 100), {S_SILENCE, 100, 0, 0, 0},
        dtmf_seg('5', 100), {S_SILENCE, 100, 0, 0, 0},
        dtmf_seg('#', 1000), {S_SILENCE, 100, 0, 0, 0},     /* long press */
        dtmf_seg('0', 60), {S_SILENCE, 200, 0, 0, 0},
    };
    int nseg = (int)(sizeof(segs) / sizeof(segs[0]));
    talker_t t, t2;
    talk(&c, &t, &ph, segs, nseg, 0);
    talk(&c, &t2, &ph2, segs, nseg, 8);
    while (!(t.done && t2.done) && !c.timed_out)
        uv_run(&c.loop, UV_RUN_ONCE);
    run_for(&c, 200);
    assert_string_equal(heard.digits, "15#0");
    assert_true(tap_frames >= 2 * 95);     /* 98 packets from each */
    assert_true(tap_peak > 5000);

    /* Listening off: no more digits, no more tap. */
    assert_int_equal(sb_media_endpoint_listen(ep, NULL, on_done, slot(&c, 2)), 0);
    assert_int_equal(sb_media_endpoint_listen(ep2, NULL, on_done, slot(&c, 3)), 0);
    run_until(&c, &c.done[2], 1);
    run_until(&c, &c.done[3], 1);
    int frames = __atomic_load_n(&tap_frames, __ATOMIC_RELAXED);
    talker_t t3;
    talk(&c, &t3, &ph, segs, nseg, 0);
    while (!t3.done && !c.timed_out)
        uv_run(&c.loop, UV_RUN_ONCE);
    run_for(&c, 100);
    assert_string_equal(heard.digits, "15#0");
    assert_int_equal(__atomic_load_n(&tap_frames, __ATOMIC_RELAXED), frames);
    talker_close(&t);
    talker_close(&t2);
    talker_close(&t3);
    phone_t *phs[] = {&ph, &ph2};
    ctx_close(&c, phs, 2);
}

/* The ring: a phone whose timestamps fall behind (its sender stalled
 * 300 ms, then went on where it was, as a slower clock would after a
 * while) is heard again after three late packets, not dropped forever. */
static void test_media_listen_ring_follows_a_late_phone(void **state)
{
    (void)state;
    static sb__ring_t g;
    memset(&g, 0, sizeof(g));
    g.prefill = 480;
    int16_t pkt[160], out[160];
    for (int i = 0; i < 160; i++)
        pkt[i] = 1000;
    uint32_t ts = 5000;
    int heard = 0;
    /* In step: one packet, one frame taken. */
    for (int k = 0; k < 20; k++, ts += 160) {
        assert_int_equal(sb__ring_put(&g, 7, ts, pkt, 160), 0);
        if (sb__ring_take(&g, out) == 1 && out[0] == 1000)
            heard++;
    }
    assert_true(heard >= 16);
    /* 300 ms of frames are taken while the phone sends nothing. */
    for (int k = 0; k < 15; k++)
        sb__ring_take(&g, out);
    /* It goes on with the next timestamp: late by 240 ms (beyond the
     * prefill). The first packets are dropped, then it is followed. */
    int late = 0;
    heard = 0;
    for (int k = 0; k < 30; k++, ts += 160) {
        late += sb__ring_put(&g, 7, ts, pkt, 160);
        if (sb__ring_take(&g, out) >= 0 && out[0] == 1000)
            heard++;
    }
    assert_true(late >= 1 && late <= 3);
    assert_true(heard >= 20);
}

static int setup(void **state)
{
    (void)state;
    sb__media_g711_init();
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_listen_record_tone_until_silence),
        cmocka_unit_test(test_media_listen_noise_cannot_hold_it_open),
        cmocka_unit_test(test_media_listen_max_length_and_stop),
        cmocka_unit_test(test_media_listen_bridge_mixed_and_dual),
        cmocka_unit_test(test_media_listen_unwritable_and_hangup),
        cmocka_unit_test(test_media_listen_inband_dtmf),
        cmocka_unit_test(test_media_listen_ring_follows_a_late_phone),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
