/*
 * play.c: audio the server generates, on each worker's 20 ms clock. An
 * endpoint that plays (a queue of sources: decoded audio, tones, in-band
 * DTMF, silence) or sends RFC 4733 digits is on its worker's clocked
 * list; one timerfd expiration sends one frame for every endpoint on it,
 * in a single pass (never a timer per call). The first frame of a new
 * source goes out at once, so a prompt starts within a millisecond of
 * the request; the following ones on the clock's ticks.
 *
 * Lateness: a frame is late when it leaves more than 5 ms after its
 * tick's deadline; ticks the worker missed (expirations read together)
 * are caught up by at most three frames, then dropped, so that a stalled
 * worker does not burst a second of audio at a phone.
 *
 * Not here: mixing sources with the relayed audio (a source replaces it)
 * and wideband codecs.
 */
#include "engine_int.h"
#include "util.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LATE_NS 5000000ULL
#define MAX_CATCHUP 3
#define ULAW_SILENCE 0xFF
#define ALAW_SILENCE 0xD5
#define DTMF_TICK_SAMPLES SB__FRAME_SAMPLES
#define DTMF_END_PACKETS 3
#define DTMF_GAP_TICKS 3
#define DTMF_VOLUME 10
#define INBAND_ON_MS 100        /* in-band digit: tone, then a gap */
#define INBAND_OFF_MS 100
#define INBAND_PAUSE_MS 500     /* 'w' */
#define SINE_BITS 10

/* ---- oscillators ------------------------------------------------------------ */

static int16_t sine_table[1 << SINE_BITS];
static uv_once_t sine_once = UV_ONCE_INIT;

static void sine_init(void)
{
    for (int i = 0; i < (1 << SINE_BITS); i++)
        sine_table[i] = (int16_t)lrint(32767.0 * sin(2.0 * M_PI * i /
                                                     (1 << SINE_BITS)));
}

static uint32_t phase_step(unsigned hz)
{
    return (uint32_t)(((uint64_t)hz << 32) / 8000U);
}

static int32_t osc(uint32_t *phase, unsigned hz, int amp)
{
    int32_t v = sine_table[*phase >> (32 - SINE_BITS)];
    *phase += phase_step(hz);
    return v * amp / 32767;
}

/* ---- tones ------------------------------------------------------------------- */

typedef struct {
    const char *cc;
    sb__tone_t ring;
} country_t;

/* Ringback by country (ITU-T E.180 and national specifications). Tones
 * that are modulated in their country (a 25 Hz or 16 Hz envelope) are
 * given as their carrier. */
#define T1(f, a, b, c, d) {(f), 0, 6000, {(a), (b), (c), (d)}}
#define T2(f, g, a, b, c, d) {(f), (g), 4000, {(a), (b), (c), (d)}}
static const country_t ringbacks[] = {
    {"us", T2(440, 480, 2000, 4000, 0, 0)},
    {"ca", T2(440, 480, 2000, 4000, 0, 0)},
    {"uk", T2(400, 450, 400, 200, 400, 2000)},
    {"gb", T2(400, 450, 400, 200, 400, 2000)},
    {"au", T2(400, 450, 400, 200, 400, 2000)},
    {"nz", T2(400, 450, 400, 200, 400, 2000)},
    {"in", T2(400, 425, 400, 200, 400, 2000)},
    {"za", T1(400, 400, 200, 400, 2000)},
    {"my", T1(425, 400, 200, 400, 2000)},
    {"sg", T1(425, 400, 200, 400, 2000)},
    {"fr", T1(440, 1500, 3500, 0, 0)},
    {"es", T1(425, 1500, 3000, 0, 0)},
    {"se", T1(425, 1000, 5000, 0, 0)},
    {"pt", T1(425, 1000, 5000, 0, 0)},
    {"be", T1(425, 1000, 3000, 0, 0)},
    {"ru", T1(425, 800, 3200, 0, 0)},
    {"hu", T1(425, 1250, 3750, 0, 0)},
    {"jp", T1(400, 1000, 2000, 0, 0)},
    {"cn", T1(450, 1000, 4000, 0, 0)},
    {"il", T1(400, 1000, 3000, 0, 0)},
    {"cl", T1(400, 1000, 3000, 0, 0)},
    {"th", T1(400, 1000, 4000, 0, 0)},
    {"tw", T2(440, 480, 1000, 2000, 0, 0)},
    {"ph", T2(425, 480, 1000, 4000, 0, 0)},
    /* The ITU's 425 Hz, 1 s on, 4 s off: de at ch nl it no dk fi pl cz gr
     * ee lt bg mx br ve and everyone not listed. */
    {"eu", T1(425, 1000, 4000, 0, 0)},
};

static const sb__tone_t busy_us = T2(480, 620, 500, 500, 0, 0);
static const sb__tone_t busy_uk = T1(400, 375, 375, 0, 0);
static const sb__tone_t busy_eu = T1(425, 500, 500, 0, 0);
static const sb__tone_t dial_us = T2(350, 440, 0, 0, 0, 0);
static const sb__tone_t dial_uk = T2(350, 450, 0, 0, 0, 0);
static const sb__tone_t dial_eu = T1(425, 0, 0, 0, 0);
static const sb__tone_t beep = T1(1000, 0, 0, 0, 0);

static int is_nanp_or_uk(const char *cc, int *uk)
{
    *uk = !strcmp(cc, "uk") || !strcmp(cc, "gb") || !strcmp(cc, "au") ||
          !strcmp(cc, "nz") || !strcmp(cc, "in");
    return !strcmp(cc, "us") || !strcmp(cc, "ca") || !strcmp(cc, "tw");
}

int sb__media_tone_parse(const char *name, sb__tone_t *out)
{
    char kind[16], cc[8] = "us";
    const char *colon = name ? strchr(name, ':') : NULL;
    if (!name || !*name)
        return SB_EINVAL;
    size_t klen = colon ? (size_t)(colon - name) : strlen(name);
    if (klen >= sizeof(kind))
        return SB_EINVAL;
    memcpy(kind, name, klen);
    kind[klen] = 0;
    if (colon) {
        size_t clen = strlen(colon + 1);
        if (clen < 2 || clen >= sizeof(cc))
            return SB_EINVAL;
        for (size_t i = 0; i <= clen; i++)
            cc[i] = (char)((colon[1 + i] >= 'A' && colon[1 + i] <= 'Z')
                               ? colon[1 + i] + 32 : colon[1 + i]);
    }
    int uk;
    int nanp = is_nanp_or_uk(cc, &uk);
    if (!strcmp(kind, "ringback")) {
        const sb__tone_t *t = NULL;
        for (size_t i = 0; i < sizeof(ringbacks) / sizeof(ringbacks[0]); i++)
            if (!strcmp(ringbacks[i].cc, cc))
                t = &ringbacks[i].ring;
        if (!t)     /* every other country: the ITU tone */
            t = &ringbacks[sizeof(ringbacks) / sizeof(ringbacks[0]) - 1].ring;
        *out = *t;
    } else if (!strcmp(kind, "busy")) {
        *out = nanp ? busy_us : uk ? busy_uk : busy_eu;
    } else if (!strcmp(kind, "dialtone")) {
        *out = nanp ? dial_us : uk ? dial_uk : dial_eu;
    } else if (!strcmp(kind, "beep")) {
        *out = beep;
    } else {
        return SB_EINVAL;
    }
    return 0;
}

/* ---- items --------------------------------------------------------------------- */

static const uint16_t dtmf_low[4] = {697, 770, 852, 941};
static const uint16_t dtmf_high[4] = {1209, 1336, 1477, 1633};
static const char dtmf_keys[] = "123A456B789C*0#D";

static int inband_digit(char c, uint16_t *lo, uint16_t *hi)
{
    if (c >= 'a' && c <= 'd')
        c = (char)(c - 32);
    const char *p = strchr(dtmf_keys, c);
    if (!p || !c)
        return -1;
    int i = (int)(p - dtmf_keys);
    *lo = dtmf_low[i / 4];
    *hi = dtmf_high[i % 4];
    return 0;
}

int sb__media_play_item_new(const sb_media_play_t *src, sb_media_done_cb cb,
                            void *arg, sb__play_item_t **out)
{
    if (!src || src->loop < 0)
        return SB_EINVAL;
    int n = (src->audio != NULL) + (src->tone != NULL) + (src->digits != NULL);
    if (n > 1)
        return SB_EINVAL;
    uv_once(&sine_once, sine_init);
    sb__play_item_t it;
    memset(&it, 0, sizeof(it));
    it.loop = src->loop;
    it.cb = cb;
    it.arg = arg;
    if (src->audio) {
        if (src->audio->nsamples == 0)
            return SB_EINVAL;
        it.kind = SB__SRC_AUDIO;
    } else if (src->tone) {
        if (sb__media_tone_parse(src->tone, &it.tone) != 0)
            return SB_EINVAL;
        it.kind = SB__SRC_TONE;
        unsigned ms = src->ms;
        if (ms == 0 && !strncmp(src->tone, "beep", 4))
            ms = 500;
        it.samples_left = (uint64_t)ms * SB__RTP_CLOCK_KHZ;
        it.loop = 1;
    } else if (src->digits) {
        size_t len = strlen(src->digits);
        if (len == 0 || len >= sizeof(it.digits))
            return SB_EINVAL;
        for (size_t i = 0; i < len; i++) {
            uint16_t lo, hi;
            char c = src->digits[i];
            if (c != 'w' && c != 'W' && inband_digit(c, &lo, &hi) != 0)
                return SB_EINVAL;
        }
        memcpy(it.digits, src->digits, len + 1);
        it.kind = SB__SRC_DIGITS;
    } else {
        it.kind = SB__SRC_SILENCE;
        it.samples_left = (uint64_t)src->ms * SB__RTP_CLOCK_KHZ;
        it.loop = 1;
    }
    sb__play_item_t *item = sb_xmalloc(sizeof(*item));
    *item = it;
    if (src->audio)
        item->audio = sb_media_audio_ref(src->audio);
    *out = item;
    return 0;
}

void sb__media_play_item_free(sb__play_item_t *item)
{
    if (!item)
        return;
    sb_media_audio_unref(item->audio);
    free(item);
}

/* One digit of an in-band sequence: its tone, then a gap (or only a
 * pause for 'w'). Returns 1 at the end of the sequence. */
static int render_digits(sb__play_item_t *it, int16_t *pcm, size_t n)
{
    size_t i = 0;
    while (i < n) {
        char c = it->digits[it->pos];
        if (!c) {
            memset(pcm + i, 0, (n - i) * sizeof(*pcm));
            return 1;
        }
        int pause = c == 'w' || c == 'W';
        uint32_t on = pause ? 0 : INBAND_ON_MS * SB__RTP_CLOCK_KHZ;
        uint32_t off = (pause ? INBAND_PAUSE_MS : INBAND_OFF_MS) *
                       SB__RTP_CLOCK_KHZ;
        uint16_t lo = 0, hi = 0;
        if (!pause)
            inband_digit(c, &lo, &hi);
        for (; i < n && it->phase_samples < on + off; i++, it->phase_samples++) {
            if (it->phase_samples < on) {
                int32_t v = osc(&it->ph1, lo, 5000) + osc(&it->ph2, hi, 6300);
                pcm[i] = (int16_t)v;
            } else {
                pcm[i] = 0;
            }
        }
        if (it->phase_samples >= on + off) {
            it->phase_samples = 0;
            it->ph1 = it->ph2 = 0;
            it->pos++;
        }
    }
    if (!it->digits[it->pos])
        return 1;
    return 0;
}

/* A tone with its cadence, or silence; endless unless samples_left. */
static int render_tone(sb__play_item_t *it, int16_t *pcm, size_t n)
{
    const sb__tone_t *t = &it->tone;
    int cadenced = t->cadence[0] != 0;
    size_t i = 0;
    for (; i < n; i++) {
        if (it->samples_left) {
            if (it->samples_left == 1) {
                it->samples_left = 0;
                pcm[i] = 0;
                memset(pcm + i + 1, 0, (n - i - 1) * sizeof(*pcm));
                return 1;
            }
            it->samples_left--;
        }
        int on = 1;
        if (cadenced) {
            uint32_t len = (uint32_t)t->cadence[it->step] * SB__RTP_CLOCK_KHZ;
            while (len == 0 || it->phase_samples >= len) {
                it->phase_samples = 0;
                it->step = (it->step + 1) % 4;
                if (t->cadence[it->step] == 0)
                    it->step = 0;
                len = (uint32_t)t->cadence[it->step] * SB__RTP_CLOCK_KHZ;
            }
            on = (it->step % 2) == 0;
            it->phase_samples++;
        }
        if (it->kind == SB__SRC_SILENCE || !on) {
            pcm[i] = 0;
            continue;
        }
        int32_t v = osc(&it->ph1, t->f1, t->amp);
        if (t->f2)
            v += osc(&it->ph2, t->f2, t->amp);
        pcm[i] = (int16_t)v;
    }
    return 0;
}

int sb__media_play_render(sb__play_item_t *it, int16_t *pcm, size_t n)
{
    uv_once(&sine_once, sine_init);
    if (it->kind == SB__SRC_DIGITS)
        return render_digits(it, pcm, n);
    if (it->kind == SB__SRC_SILENCE && it->samples_left == 0 && n) {
        /* silence with no length: endless */
        memset(pcm, 0, n * sizeof(*pcm));
        return 0;
    }
    return render_tone(it, pcm, n);
}

/* ---- the clocked list ------------------------------------------------------------ */

uint64_t sb__media_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void on_clock(uv_poll_t *h, int status, int events);

/* The slot tick k starts at base + k * SLOT_NS. */
static uint64_t slot_k(const sb__media_worker_t *w, uint64_t t)
{
    return t > w->clock_base_ns ? (t - w->clock_base_ns) / SB__SLOT_NS : 0;
}

void sb__media_clock_add(sb_media_endpoint_t *ep, uint64_t due_ns)
{
    sb__media_worker_t *w = ep->w;
    if (ep->clocked || !w)
        return;
    ep->clocked = 1;
    /* The slot: the least loaded of the frame's ten, the one nearest
     * the due time among equals, so that calls started together do not
     * all land in one slot. The second frame then comes 10 to 30 ms
     * after the first (once; a jitter buffer takes it), and every later
     * one a whole frame later, in the same slot. */
    uint64_t kd = slot_k(w, due_ns);
    uint64_t best = kd;
    for (int d = 1; d < SB__SLOTS; d++) {
        if (!(d & 1) && (uint64_t)d / 2 > kd)
            continue;               /* before the clock's first tick */
        uint64_t k = (d & 1) ? kd + (uint64_t)(d + 1) / 2
                             : kd - (uint64_t)d / 2;
        if (w->slot_n[k % SB__SLOTS] < w->slot_n[best % SB__SLOTS])
            best = k;
    }
    ep->slot = (int)(best % SB__SLOTS);
    ep->next_due_ns = w->clock_base_ns + best * SB__SLOT_NS;
    w->slot_n[ep->slot]++;
    ep->cprev = NULL;
    ep->cnext = w->slots[ep->slot];
    if (ep->cnext)
        ep->cnext->cprev = ep;
    w->slots[ep->slot] = ep;
    sb__media_clock_ref(w);
}

void sb__media_clock_ref(sb__media_worker_t *w)
{
    if (w->n_clocked++ == 0 && !w->quitting) {
        /* Forget expirations that came while nobody listened. */
        uint64_t junk;
        while (read(w->clock_fd, &junk, sizeof(junk)) < 0 && errno == EINTR)
            ;
        w->next_k = slot_k(w, mono_ns()) + 1;
        uv_poll_start(&w->clock, UV_READABLE, on_clock);
    }
}

void sb__media_clock_unref(sb__media_worker_t *w)
{
    if (--w->n_clocked == 0 && !w->quitting)
        uv_poll_stop(&w->clock);
}

void sb__media_clock_remove(sb_media_endpoint_t *ep)
{
    sb__media_worker_t *w = ep->w;
    if (!ep->clocked)
        return;
    ep->clocked = 0;
    if (ep->cprev)
        ep->cprev->cnext = ep->cnext;
    else
        w->slots[ep->slot] = ep->cnext;
    if (ep->cnext)
        ep->cnext->cprev = ep->cprev;
    ep->cprev = ep->cnext = NULL;
    w->slot_n[ep->slot]--;
    sb__media_clock_unref(w);
}

/* Whether ep needs its clock slot: something to send, a finished item to
 * report, or a recorder to feed. */
static int wants_clock(const sb_media_endpoint_t *ep)
{
    return ep->txd.active || ep->play_head || ep->fin_head || ep->rec;
}

void sb__media_clock_keep(sb_media_endpoint_t *ep)
{
    if (!ep->clocked)
        sb__media_clock_add(ep, mono_ns() + SB__FRAME_NS);
}

void sb__media_clock_maybe_remove(sb_media_endpoint_t *ep)
{
    if (ep->clocked && !wants_clock(ep))
        sb__media_clock_remove(ep);
}

/* ---- playback -------------------------------------------------------------------- */

static void set_playing(sb_media_endpoint_t *ep, int on)
{
    if (ep->playing == on)
        return;
    ep->playing = on;
    __atomic_add_fetch(&ep->w->playing, on ? 1 : -1, __ATOMIC_RELAXED);
    /* The phone sees a new source either way. */
    sb__outstream_reset(&ep->out);
}

/* Takes the head item off the queue. One that played to its end is
 * reported a tick later, when its last frame has been heard rather than
 * just sent (so a Pause lasts its length, and "done" means done); one
 * that was stopped, at once. */
static void item_done(sb_media_endpoint_t *ep, int status)
{
    sb__play_item_t *it = ep->play_head;
    ep->play_head = it->next;
    if (!ep->play_head)
        ep->play_tail = &ep->play_head;
    if (status == 0) {
        it->next = NULL;
        sb__play_item_t **p = &ep->fin_head;
        while (*p)
            p = &(*p)->next;
        *p = it;
        return;
    }
    sb__media_post_done(ep, it->cb, it->arg, status);
    sb__media_play_item_free(it);
}

/* Reports the items that finished before this tick. */
static void report_finished(sb_media_endpoint_t *ep)
{
    while (ep->fin_head) {
        sb__play_item_t *it = ep->fin_head;
        ep->fin_head = it->next;
        sb__media_post_done(ep, it->cb, it->arg, 0);
        sb__media_play_item_free(it);
    }
}

/* Fills n samples of G.711 (codec) from the queue. Returns the number of
 * samples that came from a source (the rest is silence). */
static size_t fill(sb_media_endpoint_t *ep, uint8_t *out, size_t n,
                   sb_media_codec_t codec)
{
    size_t done = 0;
    while (done < n && ep->play_head) {
        sb__play_item_t *it = ep->play_head;
        if (it->kind == SB__SRC_AUDIO) {
            const sb_media_audio_t *a = it->audio;
            const uint8_t *src = codec == SB_MEDIA_PCMA ? a->alaw : a->ulaw;
            size_t k = a->nsamples - it->pos;
            if (k > n - done)
                k = n - done;
            memcpy(out + done, src + it->pos, k);
            done += k;
            it->pos += k;
            if (it->pos >= a->nsamples) {
                it->pos = 0;
                if (it->loop != 0 && --it->loop == 0)
                    item_done(ep, 0);
            }
            continue;
        }
        int16_t pcm[SB__FRAME_SAMPLES];
        size_t k = n - done;
        int ended = sb__media_play_render(it, pcm, k);
        for (size_t i = 0; i < k; i++)
            out[done + i] = codec == SB_MEDIA_PCMA
                                ? sb__media_linear_to_alaw(pcm[i])
                                : sb__media_linear_to_ulaw(pcm[i]);
        done += k;
        if (ended) {
            if (it->kind == SB__SRC_DIGITS && it->loop != 1) {
                /* Digits loop like audio (loop 0: until stopped). */
                it->pos = 0;
                it->phase_samples = 0;
                if (it->loop > 1)
                    it->loop--;
                continue;
            }
            item_done(ep, 0);
            /* A tone or silence ended mid-frame: the rest of the frame
             * was rendered as silence; the next source starts with the
             * next frame. */
            break;
        }
    }
    return done;
}

static void emit_frame(sb_media_endpoint_t *ep, uint64_t now_ms)
{
    sb_media_codec_t codec = ep->nego.codec;
    uint8_t frame[SB__FRAME_SAMPLES];
    size_t got = fill(ep, frame, SB__FRAME_SAMPLES,
                      codec == SB_MEDIA_PCMA ? SB_MEDIA_PCMA : SB_MEDIA_PCMU);
    if (got < SB__FRAME_SAMPLES)
        memset(frame + got, codec == SB_MEDIA_PCMA ? ALAW_SILENCE : ULAW_SILENCE,
               SB__FRAME_SAMPLES - got);
    sb__media_send_frame(ep, frame, SB__FRAME_SAMPLES, now_ms);
    __atomic_add_fetch(&ep->w->frames, 1, __ATOMIC_RELAXED);
}

void sb__media_play_queue(sb_media_endpoint_t *ep, sb__play_item_t *item)
{
    item->next = NULL;
    *ep->play_tail = item;
    ep->play_tail = &item->next;
    if (ep->playing || ep->txd.active || ep->clocked) {
        /* Queued behind what plays, or finishing: the clock goes on. */
        sb__media_clock_add(ep, mono_ns());
        return;
    }
    set_playing(ep, 1);
    /* The first frame now: a prompt need not wait for the next tick. */
    emit_frame(ep, uv_now(ep->w->loop));
    sb__media_clock_add(ep, mono_ns() + SB__FRAME_NS);
    if (!ep->play_head)
        set_playing(ep, 0);     /* reported on the next tick */
}

void sb__media_play_stop(sb_media_endpoint_t *ep, int status)
{
    report_finished(ep);
    while (ep->play_head)
        item_done(ep, status);
    if (ep->playing)
        set_playing(ep, 0);
    sb__media_clock_maybe_remove(ep);
}

/* ---- RFC 4733 digits on the clock ------------------------------------------------- */

void sb__media_post_dtmf_done(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                              void *arg, int status)
{
    sb__media_req_t *req = SB_NEW(sb__media_req_t);
    req->kind = SB__REQ_DONE;
    req->ep = ep;
    req->cb = cb;
    req->arg = arg;
    req->status = status;
    req->clear_dtmf = 1;        /* posted even without cb: see engine.c */
    sb__media_post_req(ep->engine, req);
}

void sb__media_dtmf_finish(sb_media_endpoint_t *ep, int status)
{
    sb__dtmf_tx_t *t = &ep->txd;
    t->active = 0;
    sb__outstream_reset(&ep->out);
    sb__media_post_dtmf_done(ep, t->cb, t->arg, status);
    t->cb = NULL;
    sb__media_clock_maybe_remove(ep);
}

static void dtmf_send(sb_media_endpoint_t *ep, int end)
{
    sb__dtmf_tx_t *t = &ep->txd;
    sb__dtmf_t ev = {
        .event = sb__dtmf_event_of(t->digits[t->index]),
        .end = end,
        .volume = DTMF_VOLUME,
        .duration = (uint16_t)t->cur_dur,
    };
    sb__media_send_dtmf_packet(ep, t->first, &ev);
    t->first = 0;
}

static void dtmf_tick(sb_media_endpoint_t *ep)
{
    sb__dtmf_tx_t *t = &ep->txd;
    switch (t->phase) {
    case SB__TXD_TONE:
        t->cur_dur += DTMF_TICK_SAMPLES;
        if (t->cur_dur >= t->dur_samples) {
            t->cur_dur = t->dur_samples;
            t->phase = SB__TXD_END;
            t->phase_ticks = 1;
            dtmf_send(ep, 1);
        } else {
            dtmf_send(ep, 0);
        }
        break;
    case SB__TXD_END:
        dtmf_send(ep, 1);
        if (++t->phase_ticks >= DTMF_END_PACKETS) {
            t->phase = SB__TXD_GAP;
            t->phase_ticks = 0;
        }
        break;
    case SB__TXD_GAP:
        if (++t->phase_ticks < DTMF_GAP_TICKS)
            break;
        if (++t->index >= t->count) {
            sb__media_dtmf_finish(ep, 0);
            return;
        }
        t->phase = SB__TXD_TONE;
        t->event_ts = (t->tick + 1) * DTMF_TICK_SAMPLES;
        t->cur_dur = 0;
        t->first = 1;
        break;
    }
    t->tick++;
}

void sb__media_dtmf_start(sb_media_endpoint_t *ep, const char *digits,
                          uint32_t dur_samples, sb_media_done_cb cb,
                          void *arg)
{
    sb__dtmf_tx_t *t = &ep->txd;
    memset(t, 0, sizeof(*t));
    size_t n = strlen(digits);
    memcpy(t->digits, digits, n + 1);
    t->count = (int)n;
    t->dur_samples = dur_samples;
    t->phase = SB__TXD_TONE;
    t->first = 1;
    t->cb = cb;
    t->arg = arg;
    t->active = 1;
    /* Generated packets are a new source for the phone's stream. */
    sb__outstream_reset(&ep->out);
    dtmf_tick(ep);              /* the first packet now */
    if (ep->clocked)            /* playing: it keeps its slot */
        return;
    sb__media_clock_add(ep, mono_ns() + SB__FRAME_NS);
}

/* ---- the tick ----------------------------------------------------------------------- */

/* One frame of ep: RFC 4733 digits first, else the play queue. */
static void clock_frame(sb_media_endpoint_t *ep, uint64_t now_ms)
{
    if (ep->rec)
        sb__media_rec_tick(ep->rec);
    if (ep->txd.active) {
        dtmf_tick(ep);
        return;
    }
    if (!ep->play_head)
        return;
    if (!ep->playing)           /* queued behind RFC 4733 digits */
        set_playing(ep, 1);
    emit_frame(ep, now_ms);
    if (!ep->play_head)
        set_playing(ep, 0);
}

/* Visits one slot: every endpoint in it sends the frames that are due,
 * at most MAX_CATCHUP; one further behind skips ahead. Lateness is
 * measured against each frame's own due time, with the clock read again
 * every 32 frames, so a long pass is seen as late too. */
static void visit_slot(sb__media_worker_t *w, int slot, uint64_t *now,
                       uint64_t now_ms, int *since_read)
{
    sb_media_endpoint_t *next;
    for (sb_media_endpoint_t *ep = w->slots[slot]; ep; ep = next) {
        next = ep->cnext;
        report_finished(ep);
        int n = 0;
        while (ep->clocked && ep->next_due_ns <= *now && n < MAX_CATCHUP) {
            if (++*since_read >= 32) {
                *now = mono_ns();
                *since_read = 0;
            }
            if (*now - ep->next_due_ns > LATE_NS)
                __atomic_add_fetch(&w->late_frames, 1, __ATOMIC_RELAXED);
            clock_frame(ep, now_ms);
            ep->next_due_ns += SB__FRAME_NS;
            n++;
        }
        if (ep->clocked && ep->next_due_ns + SB__FRAME_NS <= *now) {
            /* Too far behind: drop the backlog rather than burst it. */
            uint64_t behind = (*now - ep->next_due_ns) / SB__FRAME_NS;
            ep->next_due_ns += behind * SB__FRAME_NS;
        }
        sb__media_clock_maybe_remove(ep);
    }
    if (w->room_slots[slot])
        sb__media_rooms_visit(w, slot, now, now_ms);
}

static void clock_tick(sb__media_worker_t *w)
{
    uint64_t exp = 0;
    ssize_t r;
    do {
        r = read(w->clock_fd, &exp, sizeof(exp));
    } while (r < 0 && errno == EINTR);
    if (r != sizeof(exp) || exp == 0)
        return;
    uint64_t now = mono_ns();
    __atomic_add_fetch(&w->ticks, 1, __ATOMIC_RELAXED);
    if (exp > 1)
        __atomic_add_fetch(&w->missed_ticks, exp - 1, __ATOMIC_RELAXED);
    uint64_t k_now = slot_k(w, now);
    uint64_t from = w->next_k;
    if (k_now + 1 > from + SB__SLOTS)   /* more than a frame behind */
        from = k_now + 1 - SB__SLOTS;
    uint64_t now_ms = uv_now(w->loop);
    int since_read = 0;
    for (uint64_t k = from; k <= k_now && w->n_clocked > 0; k++)
        visit_slot(w, (int)(k % SB__SLOTS), &now, now_ms, &since_read);
    w->next_k = k_now + 1;
}

static void on_clock(uv_poll_t *h, int status, int events)
{
    sb__media_worker_t *w = h->data;
    if (status < 0)
        return;
    clock_tick(w);
}
