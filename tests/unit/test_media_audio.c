/*
 * test_media_audio.c: decoding sound into 8 kHz mono PCM, mu-law and
 * A-law (core/media/audio.c). Fixtures are generated in memory with
 * libsndfile (a 1 kHz sine in many formats) and judged by what would be
 * heard: length, level, and energy at 1 kHz against 600 Hz and 1500 Hz
 * (Goertzel), in the linear form and in the G.711 forms decoded back.
 * Also: sniffing, limits (size, declared and decoded length), truncated,
 * corrupt and empty files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <sndfile.h>

#include "media.h"
#include "media_int.h"
#include "util.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- signal helpers ------------------------------------------------------- */

/* Power of x at freq (Goertzel), normalised by n. */
static double goertzel(const double *x, size_t n, double freq, double rate)
{
    double w = 2 * M_PI * freq / rate, c = 2 * cos(w);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        double s = x[i] + c * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    return (s1 * s1 + s2 * s2 - c * s1 * s2) / ((double)n * (double)n);
}

static double rms(const double *x, size_t n)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e += x[i] * x[i];
    return n > 0 ? sqrt(e / (double)n) : 0;
}

/* Checks that x (8 kHz) holds a tone at 1 kHz of roughly level rms_want
 * (0: any), looking at its middle (the ends have resampler ramps). */
static void assert_tone_1k(const double *x, size_t n, double rms_want)
{
    assert_true(n > 800);
    size_t skip = n / 10;
    const double *m = x + skip;
    size_t k = n - 2 * skip;
    double p1k = goertzel(m, k, 1000, 8000);
    double p600 = goertzel(m, k, 600, 8000);
    double p1500 = goertzel(m, k, 1500, 8000);
    assert_true(p1k > 0);
    assert_true(p1k > 1000 * p600);
    assert_true(p1k > 1000 * p1500);
    if (rms_want > 0) {
        double r = rms(m, k);
        assert_true(r > rms_want * 0.85);
        assert_true(r < rms_want * 1.15);
    }
}

/* Checks all three forms of a. */
static void assert_audio_tone_1k(const sb_media_audio_t *a, double rms_want)
{
    size_t n = a->nsamples;
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = a->pcm[i];
    assert_tone_1k(x, n, rms_want);
    for (size_t i = 0; i < n; i++)
        x[i] = sb__media_ulaw_to_linear(a->ulaw[i]);
    assert_tone_1k(x, n, rms_want);
    for (size_t i = 0; i < n; i++)
        x[i] = sb__media_alaw_to_linear(a->alaw[i]);
    assert_tone_1k(x, n, rms_want);
    free(x);
}

/* ---- libsndfile writing into memory ------------------------------------- */

typedef struct mem_s {
    uint8_t *p;
    sf_count_t len, cap, pos;
} mem_t;

static sf_count_t m_len(void *u) { return ((mem_t *)u)->len; }
static sf_count_t m_tell(void *u) { return ((mem_t *)u)->pos; }

static sf_count_t m_seek(sf_count_t off, int whence, void *u)
{
    mem_t *m = u;
    sf_count_t pos = (whence == SEEK_CUR ? m->pos
                      : whence == SEEK_END ? m->len : 0) + off;
    if (pos < 0)
        pos = 0;
    m->pos = pos;
    return pos;
}

static sf_count_t m_read(void *ptr, sf_count_t count, void *u)
{
    mem_t *m = u;
    sf_count_t left = m->len - m->pos;
    if (count > left)
        count = left;
    if (count <= 0)
        return 0;
    memcpy(ptr, m->p + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t m_write(const void *ptr, sf_count_t count, void *u)
{
    mem_t *m = u;
    if (m->pos + count > m->cap) {
        sf_count_t cap = m->cap ? m->cap : 4096;
        while (cap < m->pos + count)
            cap *= 2;
        m->p = realloc(m->p, (size_t)cap);
        assert_non_null(m->p);
        m->cap = cap;
    }
    if (m->pos > m->len)
        memset(m->p + m->len, 0, (size_t)(m->pos - m->len));
    memcpy(m->p + m->pos, ptr, (size_t)count);
    m->pos += count;
    if (m->pos > m->len)
        m->len = m->pos;
    return count;
}

/* Channel c of frame i of the test signal: a sine of freq at amp (full
 * scale 1.0), negated on odd channels when invert is set. */
typedef struct tone_s {
    double freq, amp;
    int invert;
} tone_t;

/* Writes seconds of sig as format at rate with ch channels. Returns the
 * file in an exact-size heap buffer (so that ASan sees any over-read), or
 * NULL when libsndfile cannot write that format. */
static uint8_t *make_file(int format, int rate, int ch, double seconds,
                          tone_t sig, size_t *len)
{
    SF_INFO info = {0};
    info.samplerate = rate;
    info.channels = ch;
    info.format = format;
    if (!sf_format_check(&info))
        return NULL;
    mem_t m = {0};
    SF_VIRTUAL_IO vio = {m_len, m_seek, m_read, m_write, m_tell};
    SNDFILE *sf = sf_open_virtual(&vio, SFM_WRITE, &info, &m);
    if (sf == NULL) {
        free(m.p);
        return NULL;
    }
    size_t frames = (size_t)(seconds * rate);
    float *buf = malloc(4096 * (size_t)ch * sizeof *buf);
    assert_non_null(buf);
    for (size_t i = 0; i < frames;) {
        size_t k = frames - i < 4096 ? frames - i : 4096;
        for (size_t j = 0; j < k; j++) {
            double v = sig.amp * sin(2 * M_PI * sig.freq * (double)(i + j)
                                     / rate);
            for (int c = 0; c < ch; c++)
                buf[j * (size_t)ch + (size_t)c] =
                    (float)(sig.invert && (c & 1) ? -v : v);
        }
        assert_int_equal(sf_writef_float(sf, buf, (sf_count_t)k), k);
        i += k;
    }
    free(buf);
    sf_close(sf);
    uint8_t *out = malloc((size_t)m.len);
    assert_non_null(out);
    memcpy(out, m.p, (size_t)m.len);
    free(m.p);
    *len = (size_t)m.len;
    return out;
}

static uint8_t *dup_prefix(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    if (n > 0)
        memcpy(q, p, n);
    return q;
}

/* ---- references and from_pcm --------------------------------------------- */

static void test_media_audio_ref_counts(void **state)
{
    (void)state;
    int16_t pcm[160] = {0};
    sb_media_audio_t *a = NULL;
    assert_int_equal(sb_media_audio_from_pcm(pcm, 160, 8000, &a), 0);
    assert_int_equal(a->refs, 1);
    assert_ptr_equal(sb_media_audio_ref(a), a);
    assert_int_equal(a->refs, 2);
    sb_media_audio_unref(a);
    assert_int_equal(a->refs, 1);
    assert_int_equal(a->nsamples, 160);
    assert_int_equal(sb_media_audio_ms(a), 20);
    assert_true(a->bytes >= 160 * 4);
    sb_media_audio_unref(a);
    sb_media_audio_unref(NULL);
}

static void test_media_audio_from_pcm_8k_keeps_samples(void **state)
{
    (void)state;
    sb__media_g711_init();
    int16_t pcm[800];
    for (int i = 0; i < 800; i++)
        pcm[i] = (int16_t)(12000 * sin(2 * M_PI * 1000 * i / 8000.0));
    sb_media_audio_t *a = NULL;
    assert_int_equal(sb_media_audio_from_pcm(pcm, 800, 8000, &a), 0);
    assert_int_equal(a->nsamples, 800);
    assert_memory_equal(a->pcm, pcm, sizeof pcm);
    for (int i = 0; i < 800; i++) {
        assert_int_equal(a->ulaw[i], sb__media_linear_to_ulaw(pcm[i]));
        assert_int_equal(a->alaw[i], sb__media_linear_to_alaw(pcm[i]));
    }
    sb_media_audio_unref(a);
}

static void test_media_audio_from_pcm_resamples(void **state)
{
    (void)state;
    static const unsigned rates[] = {11025, 16000, 22050, 44100, 48000,
                                     96000};
    for (size_t r = 0; r < sizeof rates / sizeof *rates; r++) {
        unsigned rate = rates[r];
        size_t n = rate;                    /* one second */
        int16_t *pcm = malloc(n * sizeof *pcm);
        for (size_t i = 0; i < n; i++)
            pcm[i] = (int16_t)(10000 * sin(2 * M_PI * 1000 * (double)i / rate));
        sb_media_audio_t *a = NULL;
        assert_int_equal(sb_media_audio_from_pcm(pcm, n, rate, &a), 0);
        assert_true(a->nsamples >= 7999 && a->nsamples <= 8001);
        assert_audio_tone_1k(a, 10000 / sqrt(2));
        sb_media_audio_unref(a);
        free(pcm);
    }
}

static void test_media_audio_from_pcm_refuses(void **state)
{
    (void)state;
    int16_t pcm[16] = {0};
    sb_media_audio_t *a = NULL;
    assert_int_equal(sb_media_audio_from_pcm(pcm, 16, 7999, &a), SB_EINVAL);
    assert_int_equal(sb_media_audio_from_pcm(pcm, 16, 192001, &a), SB_EINVAL);
    /* Over an hour: refused from the count alone, before reading pcm. */
    assert_int_equal(sb_media_audio_from_pcm(pcm, 3601u * 16000, 16000, &a),
                     SB_ETOOBIG);
    assert_null(a);
}

/* ---- sniffing -------------------------------------------------------------- */

static void test_media_audio_sniff_magic(void **state)
{
    (void)state;
    assert_string_equal(sb_media_audio_sniff("RIFF\x24\0\0\0WAVEfmt ", 16),
                        "wav");
    assert_string_equal(sb_media_audio_sniff("ID3\x04\0\0\0\0\0\x10", 10),
                        "mp3");
    /* MPEG-1 layer III, 128 kbit/s, 44.1 kHz */
    assert_string_equal(sb_media_audio_sniff("\xFF\xFB\x90\x64", 4), "mp3");
    /* MPEG-2.5 layer III (8 kHz) */
    assert_string_equal(sb_media_audio_sniff("\xFF\xE3\x18\xC4", 4), "mp3");
    assert_string_equal(sb_media_audio_sniff(".snd\0\0\0\x18\xff\xff\xff\xff"
                                             "\0\0\0\x01\0\0\x1f\x40\0\0\0\x01",
                                             24), "au");
    assert_string_equal(sb_media_audio_sniff("FORM\0\0\0\0AIFF", 12), "aiff");
    assert_string_equal(sb_media_audio_sniff("fLaC\0\0\0\x22", 8), "flac");
    /* ADTS AAC (layer 00), a bad bitrate index, text, RIFF but AVI, short */
    assert_null(sb_media_audio_sniff("\xFF\xF1\x50\x80", 4));
    assert_null(sb_media_audio_sniff("\xFF\xFB\xF0\x64", 4));
    assert_null(sb_media_audio_sniff("<html><body>", 12));
    assert_null(sb_media_audio_sniff("RIFF\0\0\0\0AVI LIST", 16));
    assert_null(sb_media_audio_sniff("RIFF", 4));
    assert_null(sb_media_audio_sniff("", 0));
    assert_null(sb_media_audio_sniff(NULL, 10));
}

/* ---- decoding formats -------------------------------------------------------- */

typedef struct fmt_case_s {
    const char *name;
    int format, rate, ch;
    double tolerance_ms;
} fmt_case_t;

static void decode_case(const fmt_case_t *c, double seconds)
{
    tone_t sig = {1000, 0.5, 0};
    size_t len = 0;
    uint8_t *file = make_file(c->format, c->rate, c->ch, seconds, sig, &len);
    if (file == NULL) {
        print_message("skipped %s: libsndfile cannot write it\n", c->name);
        return;
    }
    sb_media_audio_t *a = NULL;
    char why[128] = "";
    int rc = sb_media_audio_decode(file, len, NULL, NULL, &a, why, sizeof why);
    if (rc != 0)
        print_message("%s: %s (%s)\n", c->name, sb_err_name(rc), why);
    assert_int_equal(rc, 0);
    double ms = (double)sb_media_audio_ms(a);
    if (fabs(ms - seconds * 1000) > c->tolerance_ms)
        print_message("%s: %.0f ms\n", c->name, ms);
    assert_true(fabs(ms - seconds * 1000) <= c->tolerance_ms);
    /* 0.5 of full scale, as heard after G.711 and resampling */
    assert_audio_tone_1k(a, 0.5 * 32768 / sqrt(2));
    assert_int_equal(a->refs, 1);
    assert_true(a->bytes >= a->nsamples * 4);
    sb_media_audio_unref(a);
    free(file);
}

static void test_media_audio_decode_formats(void **state)
{
    (void)state;
    static const fmt_case_t cases[] = {
        {"wav pcm16 8k", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 30},
        {"wav pcm_u8 22050", SF_FORMAT_WAV | SF_FORMAT_PCM_U8, 22050, 1, 30},
        {"wav pcm16 16k", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 30},
        {"wav pcm16 44.1k stereo", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 44100, 2,
         30},
        {"wav pcm24 48k", SF_FORMAT_WAV | SF_FORMAT_PCM_24, 48000, 1, 30},
        {"wav pcm32 32k", SF_FORMAT_WAV | SF_FORMAT_PCM_32, 32000, 1, 30},
        {"wav float 44.1k", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 1, 30},
        {"wav mu-law 8k", SF_FORMAT_WAV | SF_FORMAT_ULAW, 8000, 1, 30},
        {"wav a-law 8k", SF_FORMAT_WAV | SF_FORMAT_ALAW, 8000, 1, 30},
        {"wav pcm16 8k 6ch", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 6, 30},
        {"au mu-law 8k", SF_FORMAT_AU | SF_FORMAT_ULAW, 8000, 1, 30},
        {"aiff pcm16 22050", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 22050, 1, 30},
        {"flac 16k", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 16000, 1, 30},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        decode_case(&cases[i], 1.0);
}

static void test_media_audio_decode_mp3(void **state)
{
    (void)state;
    /* The MP3 encoder adds a delay that the decoder trims only when the
     * encoder wrote a LAME header; allow one MPEG frame either way. */
    static const fmt_case_t cases[] = {
        {"mp3 44.1k", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 1, 30},
        {"mp3 16k stereo", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 16000, 2,
         40},
        {"mp3 8k", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 8000, 1, 75},
    };
    SF_INFO probe = {0, 44100, 1, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III,
                     0, 0};
    assert_true(sf_format_check(&probe));   /* Debian's libsndfile has it */
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = 0;
        tone_t sig = {1000, 0.5, 0};
        uint8_t *f = make_file(cases[i].format, cases[i].rate, cases[i].ch,
                               2.0, sig, &len);
        assert_non_null(f);
        assert_string_equal(sb_media_audio_sniff(f, len), "mp3");
        free(f);
        decode_case(&cases[i], 2.0);
    }
}

/* Left and right in opposite phase cancel: the decoder averages the
 * channels rather than taking one of them. */
static void test_media_audio_decode_mixes_channels(void **state)
{
    (void)state;
    size_t len = 0;
    tone_t sig = {1000, 0.5, 1};
    uint8_t *f = make_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 2, 1.0,
                           sig, &len);
    sb_media_audio_t *a = NULL;
    assert_int_equal(sb_media_audio_decode(f, len, "audio/wav", NULL, &a,
                                           NULL, 0), 0);
    assert_int_equal(a->nsamples, 8000);
    for (size_t i = 0; i < a->nsamples; i++)
        assert_true(abs(a->pcm[i]) <= 1);
    sb_media_audio_unref(a);
    free(f);
}

/* The content type is only a hint: a WAV served as audio/mpeg plays. */
static void test_media_audio_decode_ignores_content_type(void **state)
{
    (void)state;
    size_t len = 0;
    tone_t sig = {1000, 0.5, 0};
    uint8_t *f = make_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0.5,
                           sig, &len);
    sb_media_audio_t *a = NULL;
    assert_int_equal(sb_media_audio_decode(f, len, "audio/mpeg", NULL, &a,
                                           NULL, 0), 0);
    assert_int_equal(sb_media_audio_ms(a), 500);
    sb_media_audio_unref(a);
    free(f);
}

/* ---- refusals ------------------------------------------------------------------ */

static void expect_refused(const uint8_t *p, size_t len,
                           const sb_media_audio_limits_t *lim, int want,
                           const char *why_has)
{
    uint8_t *copy = dup_prefix(p, len);
    sb_media_audio_t *a = (sb_media_audio_t *)&a;  /* must be reset */
    char why[160] = "unset";
    int rc = sb_media_audio_decode(len ? copy : NULL, len, NULL, lim, &a, why,
                                   sizeof why);
    if (rc != want || strstr(why, why_has) == NULL)
        print_message("got %s, why \"%s\"\n", sb_err_name(rc), why);
    assert_int_equal(rc, want);
    assert_null(a);
    assert_non_null(strstr(why, why_has));
    free(copy);
}

static void test_media_audio_decode_rejects_garbage(void **state)
{
    (void)state;
    uint8_t junk[4000];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1103515245 + 12345;
        junk[i] = (uint8_t)(x >> 16);
    }
    junk[0] = 0x12;             /* not by chance a frame sync */
    expect_refused(junk, sizeof junk, NULL, SB_EFORMAT, "not a WAV or MP3");
    const char *html = "<!DOCTYPE html><html><body>Not found</body></html>";
    expect_refused((const uint8_t *)html, strlen(html), NULL, SB_EFORMAT,
                   "HTML");
    expect_refused(NULL, 0, NULL, SB_EFORMAT, "empty");

    /* A RIFF/WAVE header over garbage. */
    memcpy(junk, "RIFF\x00\x10\x00\x00WAVE", 12);
    expect_refused(junk, sizeof junk, NULL, SB_EFORMAT, "");

    /* An MPEG frame header followed by garbage: nothing decodes. */
    uint8_t mp3[2000] = {0xFF, 0xFB, 0x90, 0x64};
    expect_refused(mp3, sizeof mp3, NULL, SB_EFORMAT, "");
}

static void test_media_audio_decode_rejects_truncated(void **state)
{
    (void)state;
    size_t len = 0;
    tone_t sig = {1000, 0.5, 0};
    uint8_t *f = make_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 1.0,
                           sig, &len);
    /* Cut in the middle of the data, on an odd byte, and inside the
     * header. */
    expect_refused(f, len / 2, NULL, SB_EFORMAT, "truncated");
    expect_refused(f, len / 2 + 1, NULL, SB_EFORMAT, "truncated");
    expect_refused(f, 30, NULL, SB_EFORMAT, "");
    expect_refused(f, 44, NULL, SB_EFORMAT, "truncated");
    free(f);

    f = make_file(SF_FORMAT_AU | SF_FORMAT_ULAW, 8000, 1, 1.0, sig, &len);
    expect_refused(f, len - 100, NULL, SB_EFORMAT, "truncated");
    free(f);

    f = make_file(SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 8000, 1, 1.0, sig, &len);
    expect_refused(f, len - 100, NULL, SB_EFORMAT, "truncated");
    free(f);

    f = make_file(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 8000, 1, 1.0, sig, &len);
    expect_refused(f, len / 2, NULL, SB_EFORMAT, "");
    free(f);
}

/* A WAV with an empty data chunk decodes to nothing. */
static void test_media_audio_decode_rejects_empty_data(void **state)
{
    (void)state;
    size_t len = 0;
    tone_t sig = {1000, 0.5, 0};
    uint8_t *f = make_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 0.0,
                           sig, &len);
    assert_non_null(f);
    expect_refused(f, len, NULL, SB_EFORMAT, "no audio");
    free(f);
}

static void test_media_audio_decode_limits(void **state)
{
    (void)state;
    size_t len = 0;
    tone_t sig = {1000, 0.5, 0};
    uint8_t *f = make_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 8000, 1, 10.0,
                           sig, &len);
    sb_media_audio_limits_t lim = {len - 1, 0};
    expect_refused(f, len, &lim, SB_ETOOBIG, "limit");
    lim = (sb_media_audio_limits_t){0, 5};
    expect_refused(f, len, &lim, SB_ETOOBIG, "limit");
    lim = (sb_media_audio_limits_t){len, 10};
    sb_media_audio_t *a = NULL;
    assert_int_equal(sb_media_audio_decode(f, len, NULL, &lim, &a, NULL, 0), 0);
    assert_int_equal(sb_media_audio_ms(a), 10000);
    sb_media_audio_unref(a);
    free(f);

    /* An MP3 knows its length only by decoding: the limit holds as the
     * samples come. */
    f = make_file(SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 16000, 1, 10.0,
                  sig, &len);
    lim = (sb_media_audio_limits_t){0, 5};
    expect_refused(f, len, &lim, SB_ETOOBIG, "limit");
    free(f);
}

/* A header claiming two hours is refused from the header: nothing the
 * size of two hours is allocated, and the short data is never read. */
static void test_media_audio_decode_huge_header(void **state)
{
    (void)state;
    uint8_t h[44 + 1600];
    uint32_t data = 2u * 3600 * 8000 * 2;       /* 2 h of 8 kHz PCM16 */
    memset(h, 0, sizeof h);
    memcpy(h, "RIFF", 4);
    uint32_t riff = data + 36;
    memcpy(h + 4, &riff, 4);                    /* little-endian host */
    memcpy(h + 8, "WAVEfmt ", 8);
    uint32_t v32 = 16;
    memcpy(h + 16, &v32, 4);
    uint16_t v16 = 1;
    memcpy(h + 20, &v16, 2);                    /* PCM */
    memcpy(h + 22, &v16, 2);                    /* mono */
    v32 = 8000;
    memcpy(h + 24, &v32, 4);
    v32 = 16000;
    memcpy(h + 28, &v32, 4);                    /* byte rate */
    v16 = 2;
    memcpy(h + 32, &v16, 2);
    v16 = 16;
    memcpy(h + 34, &v16, 2);
    memcpy(h + 36, "data", 4);
    memcpy(h + 40, &data, 4);
    expect_refused(h, sizeof h, NULL, SB_ETOOBIG, "7200 seconds");
    /* Within a three-hour limit it is just truncated. */
    sb_media_audio_limits_t lim = {0, 3 * 3600};
    expect_refused(h, sizeof h, &lim, SB_EFORMAT, "truncated");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_audio_ref_counts),
        cmocka_unit_test(test_media_audio_from_pcm_8k_keeps_samples),
        cmocka_unit_test(test_media_audio_from_pcm_resamples),
        cmocka_unit_test(test_media_audio_from_pcm_refuses),
        cmocka_unit_test(test_media_audio_sniff_magic),
        cmocka_unit_test(test_media_audio_decode_formats),
        cmocka_unit_test(test_media_audio_decode_mp3),
        cmocka_unit_test(test_media_audio_decode_mixes_channels),
        cmocka_unit_test(test_media_audio_decode_ignores_content_type),
        cmocka_unit_test(test_media_audio_decode_rejects_garbage),
        cmocka_unit_test(test_media_audio_decode_rejects_truncated),
        cmocka_unit_test(test_media_audio_decode_rejects_empty_data),
        cmocka_unit_test(test_media_audio_decode_limits),
        cmocka_unit_test(test_media_audio_decode_huge_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
