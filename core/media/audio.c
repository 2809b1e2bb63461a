/*
 * audio.c: decoded sound (sb_media_audio_t). Owns turning bytes into 8 kHz
 * mono in the three forms the engine sends: libsndfile reads the file from
 * memory (sf_open_virtual; WAV, AU, AIFF, FLAC and, in Debian's build, MP3),
 * channels are mixed down, speexdsp (quality 3) resamples in a stream as
 * the file is read, and G.711 mu-law and A-law are encoded once.
 *
 * Limits are checked before large buffers are allocated: the input size,
 * then the length the header declares, then the decoded length as it grows.
 * A WAV/AIFF/AU whose header declares more data than the file holds is
 * refused as truncated (Restcomm's behaviour: a cut download must not play
 * half a prompt). MP3 has no reliable total length, so a cut MP3 plays
 * what it holds. Nothing here touches a loop: sb_media_audio_decode runs in
 * the thread pool.
 */
#include "media_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>
#include <speex/speex_resampler.h>

#include "util.h"

#define OUT_RATE 8000u
#define MAX_SECONDS_DEFAULT 3600u
#define MAX_BYTES_DEFAULT (32u * 1024 * 1024)
#define RESAMPLE_QUALITY 3
#define READ_FRAMES 4096        /* frames read from libsndfile at a time */
/* Output samples the resampler may run past a limit before the final
 * trim (its flushed tail is a few dozen samples). */
#define SLACK 64

/* ---- references ------------------------------------------------------------ */

sb_media_audio_t *sb_media_audio_ref(sb_media_audio_t *a)
{
    __atomic_add_fetch(&a->refs, 1, __ATOMIC_RELAXED);
    return a;
}

void sb_media_audio_unref(sb_media_audio_t *a)
{
    if (a == NULL)
        return;
    if (__atomic_sub_fetch(&a->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(a->pcm);
    free(a);                    /* ulaw and alaw live in a's block */
}

uint64_t sb_media_audio_ms(const sb_media_audio_t *a)
{
    return (uint64_t)a->nsamples * 1000 / OUT_RATE;
}

/* Takes pcm (n samples, heap, possibly with spare room): shrinks it, adds
 * the G.711 forms and returns the audio with one reference. */
static sb_media_audio_t *audio_make(int16_t *pcm, size_t n)
{
    sb__media_g711_init();
    if (n > 0) {
        pcm = sb_xrealloc(pcm, n * sizeof *pcm);
    } else {
        free(pcm);
        pcm = NULL;
    }
    sb_media_audio_t *a = sb_xmalloc(sizeof *a + 2 * n);
    a->refs = 1;
    a->nsamples = n;
    a->pcm = pcm;
    a->ulaw = (uint8_t *)(a + 1);
    a->alaw = a->ulaw + n;
    for (size_t i = 0; i < n; i++) {
        a->ulaw[i] = sb__media_linear_to_ulaw(pcm[i]);
        a->alaw[i] = sb__media_linear_to_alaw(pcm[i]);
    }
    a->bytes = sizeof *a + 2 * n + (n > 0 ? n * sizeof *pcm : 0);
    return a;
}

/* ---- streaming resampler into a growing 8 kHz buffer ---------------------- */

typedef struct builder_s {
    SpeexResamplerState *rs;    /* NULL when the input is already 8 kHz */
    unsigned rate;
    int16_t *out;
    size_t n, cap;
    size_t max;                 /* output samples allowed */
    uint64_t in_total;          /* input samples pushed */
} builder_t;

/* expect: output samples expected (0: unknown). */
static int builder_init(builder_t *b, unsigned rate, size_t expect,
                        size_t max)
{
    memset(b, 0, sizeof *b);
    b->rate = rate;
    b->max = max;
    if (rate != OUT_RATE) {
        int err = 0;
        b->rs = speex_resampler_init(1, rate, OUT_RATE, RESAMPLE_QUALITY,
                                     &err);
        if (b->rs == NULL)
            return SB_EINVAL;
        /* Drop the filter's leading delay; the tail is flushed at the end,
         * so the output lines up with the input. */
        speex_resampler_skip_zeros(b->rs);
    }
    if (expect > max)
        expect = max;
    b->cap = expect + SLACK;
    b->out = sb_xmalloc(b->cap * sizeof *b->out);
    return 0;
}

static void builder_free(builder_t *b)
{
    if (b->rs != NULL)
        speex_resampler_destroy(b->rs);
    free(b->out);
    b->rs = NULL;
    b->out = NULL;
}

/* Makes room for extra more output samples, within max plus a margin. */
static int builder_room(builder_t *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return 0;
    size_t limit = b->max + 2 * SLACK;
    if (b->n >= limit)
        return SB_ETOOBIG;
    size_t cap = b->cap * 2;
    if (cap < b->n + extra)
        cap = b->n + extra;
    if (cap > limit)
        cap = limit;
    b->out = sb_xrealloc(b->out, cap * sizeof *b->out);
    b->cap = cap;
    return 0;
}

/* Pushes n input samples. Returns 0 or SB_ETOOBIG past max. */
static int builder_push(builder_t *b, const int16_t *in, size_t n)
{
    b->in_total += n;
    if (b->rs == NULL) {
        if (b->n + n > b->max)
            return SB_ETOOBIG;
        int rc = builder_room(b, n);
        if (rc != 0)
            return rc;
        memcpy(b->out + b->n, in, n * sizeof *in);
        b->n += n;
        return 0;
    }
    while (n > 0) {
        spx_uint32_t in_len = n > 65536 ? 65536 : (spx_uint32_t)n;
        size_t want = (size_t)in_len * OUT_RATE / b->rate + 16;
        int rc = builder_room(b, want);
        if (rc != 0)
            return rc;
        size_t room = b->cap - b->n;
        spx_uint32_t out_len = room > 0x7fffffff ? 0x7fffffff
                                                 : (spx_uint32_t)room;
        speex_resampler_process_int(b->rs, 0, in, &in_len, b->out + b->n,
                                    &out_len);
        b->n += out_len;
        in += in_len;
        n -= in_len;
        if (b->n > b->max + SLACK)
            return SB_ETOOBIG;
        if (in_len == 0 && out_len == 0)
            break;              /* cannot happen with room; be safe */
    }
    return 0;
}

/* Flushes the resampler and hands the samples over. Returns 0 and *out,
 * or SB_ETOOBIG. */
static int builder_finish(builder_t *b, sb_media_audio_t **out)
{
    if (b->rs != NULL && b->in_total > 0) {
        static const int16_t zeros[256];
        int latency = speex_resampler_get_input_latency(b->rs);
        uint64_t keep = b->in_total;
        while (latency > 0) {
            int k = latency > 256 ? 256 : latency;
            int rc = builder_push(b, zeros, (size_t)k);
            if (rc != 0)
                return rc;
            latency -= k;
        }
        b->in_total = keep;
        /* The output is exactly as long as the input, rounded. */
        size_t want = (size_t)((keep * OUT_RATE + b->rate / 2) / b->rate);
        if (b->n > want)
            b->n = want;
    }
    if (b->n > b->max)
        return SB_ETOOBIG;
    *out = audio_make(b->out, b->n);
    b->out = NULL;
    return 0;
}

int sb_media_audio_from_pcm(const int16_t *pcm, size_t n, unsigned rate,
                            sb_media_audio_t **out)
{
    if (rate < 8000 || rate > 192000 || (pcm == NULL && n > 0))
        return SB_EINVAL;
    if ((uint64_t)n > (uint64_t)MAX_SECONDS_DEFAULT * rate)
        return SB_ETOOBIG;
    builder_t b;
    size_t expect = (size_t)((uint64_t)n * OUT_RATE / rate);
    int rc = builder_init(&b, rate, expect,
                          (size_t)MAX_SECONDS_DEFAULT * OUT_RATE);
    if (rc == 0)
        rc = builder_push(&b, pcm, n);
    if (rc == 0)
        rc = builder_finish(&b, out);
    builder_free(&b);
    return rc;
}

/* ---- sniffing ---------------------------------------------------------------- */

/* An MPEG audio frame header: 11 sync bits, then no reserved version,
 * layer, bitrate or sample-rate values (ADTS AAC has layer 00). */
static int mpeg_frame_at(const uint8_t *p, size_t len)
{
    if (len < 4 || p[0] != 0xFF || (p[1] & 0xE0) != 0xE0)
        return 0;
    int version = (p[1] >> 3) & 3, layer = (p[1] >> 1) & 3;
    int bitrate = p[2] >> 4, srate = (p[2] >> 2) & 3;
    return version != 1 && layer != 0 && bitrate != 15 && srate != 3;
}

const char *sb_media_audio_sniff(const void *data, size_t len)
{
    const uint8_t *p = data;
    if (p == NULL)
        return NULL;
    if (len >= 12 && memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0)
        return "wav";
    if (len >= 10 && memcmp(p, "ID3", 3) == 0 && p[3] != 0xFF && p[4] != 0xFF)
        return "mp3";
    if (mpeg_frame_at(p, len))
        return "mp3";
    if (len >= 24 && memcmp(p, ".snd", 4) == 0)
        return "au";
    if (len >= 12 && memcmp(p, "FORM", 4) == 0
        && (memcmp(p + 8, "AIFF", 4) == 0 || memcmp(p + 8, "AIFC", 4) == 0))
        return "aiff";
    if (len >= 8 && memcmp(p, "fLaC", 4) == 0)
        return "flac";
    return NULL;
}

/* ---- container checks (before libsndfile) --------------------------------- */

static uint32_t rd32le(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16
           | (uint32_t)p[3] << 24;
}

static uint32_t rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8
           | (uint32_t)p[3];
}

static void say(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t whylen, const char *fmt, ...)
{
    if (why == NULL || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* What a container header says, before any decoding. */
typedef struct hdr_s {
    uint64_t declared_ms;       /* 0: unknown */
} hdr_t;

/* Walks the chunks of a RIFF/WAVE (little-endian, "data") or FORM/AIFF
 * (big-endian, "SSND") file up to its sound chunk. A sound chunk larger
 * than what follows it, or a chunk running past the end before any sound
 * chunk, makes the file truncated. Sizes 0 and 0xFFFFFFFF on the sound
 * chunk mean "unknown" (streamed writers) and are not checked. */
static int check_iff(const uint8_t *p, size_t len, int big, const char *snd,
                     hdr_t *h, char *why, size_t whylen)
{
    uint64_t off = 12;
    uint32_t byterate = 0;
    while (off + 8 <= len) {
        const uint8_t *c = p + off;
        uint32_t size = big ? rd32be(c + 4) : rd32le(c + 4);
        uint64_t avail = len - (off + 8);
        if (!big && memcmp(c, "fmt ", 4) == 0 && size >= 16 && avail >= 16)
            byterate = rd32le(c + 8 + 8);
        if (memcmp(c, snd, 4) == 0) {
            if (size == 0 || size == 0xFFFFFFFFu)
                return 0;
            if (byterate > 0)
                h->declared_ms = (uint64_t)size * 1000 / byterate;
            if (size > avail) {
                say(why, whylen, "truncated %s chunk: %u bytes declared, "
                    "%llu present", big ? "sound" : "data", (unsigned)size,
                    (unsigned long long)avail);
                return SB_EFORMAT;
            }
            return 0;
        }
        off += 8 + (uint64_t)size + (size & 1);
    }
    if (off > len) {
        say(why, whylen, "truncated file: a chunk runs past the end");
        return SB_EFORMAT;
    }
    say(why, whylen, "no %s chunk", big ? "sound" : "data");
    return SB_EFORMAT;
}

/* Sun/NeXT .au: data offset and size in the header. */
static int check_au(const uint8_t *p, size_t len, hdr_t *h, char *why,
                    size_t whylen)
{
    uint32_t off = rd32be(p + 4), size = rd32be(p + 8);
    uint32_t enc = rd32be(p + 12), rate = rd32be(p + 16);
    uint32_t ch = rd32be(p + 20);
    if (off < 24 || off > len) {
        say(why, whylen, "truncated file: no data after the header");
        return SB_EFORMAT;
    }
    if (size == 0xFFFFFFFFu)
        return 0;
    static const uint8_t width[8] = {0, 1, 1, 2, 3, 4, 4, 8};
    unsigned w = enc < 8 ? width[enc] : enc == 27 ? 1 : 0;
    if (w > 0 && rate > 0 && ch > 0)
        h->declared_ms = (uint64_t)size * 1000 / ((uint64_t)w * rate * ch);
    if (size > len - off) {
        say(why, whylen, "truncated data: %u bytes declared, %zu present",
            (unsigned)size, len - off);
        return SB_EFORMAT;
    }
    return 0;
}

/* ---- libsndfile over a memory buffer --------------------------------------- */

typedef struct membuf_s {
    const uint8_t *p;
    sf_count_t len, pos;
} membuf_t;

static sf_count_t vio_len(void *user)
{
    return ((membuf_t *)user)->len;
}

static sf_count_t vio_seek(sf_count_t offset, int whence, void *user)
{
    membuf_t *m = user;
    sf_count_t base = whence == SEEK_CUR ? m->pos
                    : whence == SEEK_END ? m->len : 0;
    sf_count_t pos = base + offset;
    if (pos < 0)
        pos = 0;
    if (pos > m->len)
        pos = m->len;
    m->pos = pos;
    return pos;
}

static sf_count_t vio_read(void *ptr, sf_count_t count, void *user)
{
    membuf_t *m = user;
    sf_count_t left = m->len - m->pos;
    if (count > left)
        count = left;
    if (count <= 0)
        return 0;
    memcpy(ptr, m->p + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t vio_write(const void *ptr, sf_count_t count, void *user)
{
    (void)ptr;
    (void)count;
    (void)user;
    return 0;
}

static sf_count_t vio_tell(void *user)
{
    return ((membuf_t *)user)->pos;
}

/* Mixes frames of ch interleaved floats into mono PCM16. */
static void mixdown(const float *in, size_t frames, int ch, int16_t *out)
{
    for (size_t i = 0; i < frames; i++) {
        float s = 0;
        for (int c = 0; c < ch; c++)
            s += in[i * (size_t)ch + (size_t)c];
        s = s / (float)ch * 32768.0f;
        if (!(s > -32768.0f))   /* also NaN */
            s = s != s ? 0.0f : -32768.0f;
        if (s > 32767.0f)
            s = 32767.0f;
        out[i] = (int16_t)lrintf(s);
    }
}

static int decode_sf(SNDFILE *sf, const SF_INFO *info, size_t len,
                     size_t max_samples, sb_media_audio_t **out, char *why,
                     size_t whylen)
{
    int ch = info->channels;
    unsigned rate = (unsigned)info->samplerate;
    int is_mpeg = (info->format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG;
    int known = info->frames > 0 && info->frames != SF_COUNT_MAX;
    size_t expect = 0;
    if (known)
        expect = (size_t)((uint64_t)info->frames * OUT_RATE / rate);
    /* A compressed stream's header may claim any length: reserve no more
     * than 16 output samples per input byte (an 8 kbit/s MP3 makes 8);
     * the buffer grows if the claim was true. */
    if (expect / 16 > len)
        expect = len * 16;

    builder_t b;
    int rc = builder_init(&b, rate, expect, max_samples);
    if (rc != 0) {
        say(why, whylen, "cannot resample from %u Hz", rate);
        return SB_EFORMAT;
    }
    size_t chunk = READ_FRAMES;
    float *fbuf = sb_xmalloc(chunk * (size_t)ch * sizeof *fbuf);
    int16_t *mono = sb_xmalloc(chunk * sizeof *mono);
    uint64_t got = 0;
    for (;;) {
        sf_count_t k = sf_readf_float(sf, fbuf, (sf_count_t)chunk);
        if (k <= 0)
            break;
        got += (uint64_t)k;
        mixdown(fbuf, (size_t)k, ch, mono);
        rc = builder_push(&b, mono, (size_t)k);
        if (rc != 0) {
            say(why, whylen, "longer than %zu seconds", b.max / OUT_RATE);
            goto done;
        }
    }
    if (sf_error(sf) != SF_ERR_NO_ERROR) {
        say(why, whylen, "corrupt audio data: %s", sf_strerror(sf));
        rc = SB_EFORMAT;
        goto done;
    }
    /* libsndfile clips a WAV's frame count to the bytes present; a
     * shortfall here is a compressed stream (FLAC) that ended early. An
     * MP3's frame count is only an estimate. */
    if (known && !is_mpeg && got < (uint64_t)info->frames) {
        say(why, whylen, "truncated data: %llu of %lld frames",
            (unsigned long long)got, (long long)info->frames);
        rc = SB_EFORMAT;
        goto done;
    }
    if (got == 0) {
        say(why, whylen, "no audio samples");
        rc = SB_EFORMAT;
        goto done;
    }
    rc = builder_finish(&b, out);
    if (rc != 0)
        say(why, whylen, "longer than %zu seconds", b.max / OUT_RATE);
    else if ((*out)->nsamples == 0) {
        sb_media_audio_unref(*out);
        *out = NULL;
        say(why, whylen, "no audio samples");
        rc = SB_EFORMAT;
    }
done:
    free(mono);
    free(fbuf);
    builder_free(&b);
    return rc;
}

int sb_media_audio_decode(const void *data, size_t len,
                          const char *content_type,
                          const sb_media_audio_limits_t *lim,
                          sb_media_audio_t **out, char *why, size_t whylen)
{
    size_t max_bytes = lim != NULL && lim->max_bytes > 0 ? lim->max_bytes
                                                         : MAX_BYTES_DEFAULT;
    unsigned max_s = lim != NULL && lim->max_seconds > 0 ? lim->max_seconds
                                                         : MAX_SECONDS_DEFAULT;
    const uint8_t *p = data;
    *out = NULL;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (len == 0 || p == NULL) {
        say(why, whylen, "empty file");
        return SB_EFORMAT;
    }
    if (len > max_bytes) {
        say(why, whylen, "file of %zu bytes is over the limit of %zu", len,
            max_bytes);
        return SB_ETOOBIG;
    }
    const char *kind = sb_media_audio_sniff(p, len);
    if (kind == NULL) {
        int markup = p[0] == '<' || (len > 3 && p[0] == 0xEF && p[3] == '<');
        say(why, whylen, "not a WAV or MP3 file%s%s%s",
            markup ? " (looks like HTML or XML)" : "",
            content_type != NULL ? "; Content-Type: " : "",
            content_type != NULL ? content_type : "");
        return SB_EFORMAT;
    }

    hdr_t h = {0};
    int rc = 0;
    if (strcmp(kind, "wav") == 0)
        rc = check_iff(p, len, 0, "data", &h, why, whylen);
    else if (strcmp(kind, "aiff") == 0)
        rc = check_iff(p, len, 1, "SSND", &h, why, whylen);
    else if (strcmp(kind, "au") == 0)
        rc = check_au(p, len, &h, why, whylen);
    /* The declared length decides before the data is even looked at, so a
     * header claiming hours costs nothing. */
    if (h.declared_ms > (uint64_t)max_s * 1000) {
        say(why, whylen, "%llu seconds long, over the limit of %u",
            (unsigned long long)(h.declared_ms / 1000), max_s);
        return SB_ETOOBIG;
    }
    if (rc != 0)
        return rc;

    membuf_t m = {p, (sf_count_t)len, 0};
    SF_VIRTUAL_IO vio = {vio_len, vio_seek, vio_read, vio_write, vio_tell};
    SF_INFO info;
    memset(&info, 0, sizeof info);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &info, &m);
    if (sf == NULL) {
        say(why, whylen, "unreadable %s file", kind);
        return SB_EFORMAT;
    }
    if (info.channels < 1 || info.channels > 64 || info.samplerate < 1000
        || info.samplerate > 384000) {
        say(why, whylen, "unsupported %s: %d channels at %d Hz", kind,
            info.channels, info.samplerate);
        sf_close(sf);
        return SB_EFORMAT;
    }
    if (info.frames > 0 && info.frames != SF_COUNT_MAX
        && (uint64_t)info.frames > (uint64_t)max_s * (uint64_t)info.samplerate) {
        say(why, whylen, "%llu seconds long, over the limit of %u",
            (unsigned long long)info.frames / (unsigned)info.samplerate,
            max_s);
        sf_close(sf);
        return SB_ETOOBIG;
    }
    rc = decode_sf(sf, &info, len, (size_t)max_s * OUT_RATE, out, why,
                   whylen);
    sf_close(sf);
    return rc;
}
