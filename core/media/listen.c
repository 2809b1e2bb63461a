/*
 * listen.c: what the server does with the audio a phone sends, besides
 * relaying it: in-band DTMF detection (spandsp), a tap that hands each
 * decoded packet to a consumer (the speech recognizer), and recorders
 * that write one or two phones to a WAV file.
 *
 * Everything here runs on the endpoint's worker, except the few lines of
 * the control side at the end (start, stop, listen), which only build
 * messages. A packet is decoded once, in sb__media_listen_packet, for
 * all three consumers.
 *
 * A recorder ticks on its first input's clock slot: every 20 ms it takes
 * one frame from each input's ring (packets are placed in the ring by
 * their RTP timestamp, 120 ms ahead of the read position, so arrival
 * jitter up to that is absorbed and a lost packet is a frame of silence),
 * measures the first input's energy for the silence timeout, mixes or
 * interleaves, and appends to a one-second block. Full blocks are written
 * by libuv's thread pool, one write in flight per recorder, in order; the
 * header is written last with the final sizes (and the file cut at the
 * end of the last voiced frame when trimming). A disk that fails stops
 * the writes, keeps what was written with a valid header, and reports
 * SB_EIO; the call goes on.
 *
 * Lifetime: the control side creates a recorder and frees it after its
 * callback; the worker owns it from the START message until it posts the
 * completion, and never touches it after that. A stop is a flag the
 * worker reads on each tick (atomic), not a message, so it cannot cross
 * the recorder's own end or an endpoint moving between workers.
 */
#include "engine_int.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <spandsp/telephony.h>
#include <spandsp/complex.h>
#include <spandsp/logging.h>
#include <spandsp/tone_detect.h>
#include <spandsp/tone_generate.h>
#include <spandsp/super_tone_rx.h>
#include <spandsp/dtmf.h>

#define REC_PREFILL_SAMPLES 960     /* 120 ms of jitter absorbed */
#define BLOCK_FRAMES 50             /* one second per write */
#define MAX_QUEUED_BLOCKS 30        /* the disk may fall 30 s behind */
#define WAV_HEADER 44
#define VAD_MIN_DB (-55.0)          /* quieter is always silence */
#define VAD_ABOVE_FLOOR_DB 12.0
#define VAD_RISE_DB_PER_FRAME (5.0 / 50)   /* 5 dB a second */
#define VAD_FLOOR_START_DB (-70.0)
#define TRIM_HANGOVER_SAMPLES 2400  /* 300 ms kept after the last voice */

typedef struct block_s {
    struct block_s *next;
    size_t len;                 /* bytes used */
    uint8_t data[];
} block_t;

typedef enum { W_NONE, W_OPEN, W_WRITE, W_FINISH } work_kind_t;

struct sb_media_rec_s {
    int stop_req;               /* atomic: sb_media_record_stop was called */
    sb_media_engine_t *engine;
    sb__media_worker_t *cw;     /* where its messages go */
    sb_media_endpoint_t *cep;   /* control side: the first input, until it
                                   is freed or the callback ran */
    sb_media_rec_done_cb cb;
    void *arg;
    sb__media_req_t done_req;

    /* options */
    char *path;
    int channels;               /* 1 or 2 */
    int mixed;                  /* two inputs into one channel */
    int sent;                   /* the second input: what is sent to in[0] */
    uint64_t max_samples;       /* 0: none */
    uint64_t silence_frames;    /* 0: none */
    int trim;

    /* worker side */
    sb__media_worker_t *w;
    sb_media_endpoint_t *in[2];
    sb__ring_t ring[2];
    int attached;
    int finishing;              /* no more frames; completing the file */
    sb_media_rec_reason_t reason;
    double floor_db;
    uint64_t silent_run;        /* frames of silence in a row */
    uint64_t voice_frames;
    uint64_t samples;           /* per channel, taken into blocks */
    uint64_t last_voice_end;    /* samples at the end of the last voice */
    uint64_t frames, missing, dropped, late;
    block_t *cur;               /* being filled */
    block_t *q_head, **q_tail;  /* full, waiting for the disk */
    int q_n;

    /* the thread pool's side: one work in flight */
    uv_work_t work;
    work_kind_t wk;
    int busy;
    int opened;                 /* worker's view: the open succeeded */
    int fd;                     /* the thread pool's */
    block_t *wlist;             /* what the work writes */
    uint64_t file_bytes;        /* data bytes written so far */
    uint64_t final_bytes;       /* FINISH: the data size to keep */
    int werr;                   /* errno of the failed call */
    const char *wwhat;          /* which call failed */
    int failed;
    char why[160];
};

static void rec_free(sb_media_rec_t *r)
{
    while (r->q_head) {
        block_t *b = r->q_head;
        r->q_head = b->next;
        free(b);
    }
    free(r->cur);
    free(r->path);
    free(r);
}

/* ---- the file, in the thread pool --------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

/* A canonical 44-byte header for data_bytes of 16-bit PCM at 8 kHz. */
static void wav_header(uint8_t *h, int channels, uint64_t data_bytes)
{
    if (data_bytes > 0xFFFFFFFFULL - 36)
        data_bytes = 0xFFFFFFFFULL - 36;
    memcpy(h, "RIFF", 4);
    put_le32(h + 4, (uint32_t)(36 + data_bytes));
    memcpy(h + 8, "WAVEfmt ", 8);
    put_le32(h + 16, 16);
    put_le16(h + 20, 1);                                /* PCM */
    put_le16(h + 22, (uint16_t)channels);
    put_le32(h + 24, 8000);
    put_le32(h + 28, 8000u * 2u * (uint32_t)channels);  /* bytes/s */
    put_le16(h + 32, (uint16_t)(2 * channels));         /* block align */
    put_le16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put_le32(h + 40, (uint32_t)data_bytes);
}

static int pwrite_all(int fd, const void *p, size_t n, off_t off)
{
    const uint8_t *b = p;
    while (n > 0) {
        ssize_t k = pwrite(fd, b, n, off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return k < 0 ? errno : ENOSPC;
        b += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

static void work_run(uv_work_t *req)
{
    sb_media_rec_t *r = req->data;
    switch (r->wk) {
    case W_OPEN: {
        r->fd = open(r->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (r->fd < 0) {
            r->werr = errno;
            r->wwhat = "create";
            break;
        }
        uint8_t h[WAV_HEADER];
        wav_header(h, r->channels, 0);
        r->werr = pwrite_all(r->fd, h, sizeof(h), 0);
        r->wwhat = "write";
        break;
    }
    case W_WRITE:
        for (block_t *b = r->wlist; b; b = b->next) {
            /* Whole frames only, so a partial write still leaves a file
             * whose data is a whole number of samples. */
            r->werr = pwrite_all(r->fd, b->data, b->len,
                                 (off_t)(WAV_HEADER + r->file_bytes));
            if (r->werr) {
                r->wwhat = "write";
                break;
            }
            r->file_bytes += b->len;
        }
        break;
    case W_FINISH: {
        if (r->fd < 0)
            break;
        uint64_t keep = r->final_bytes < r->file_bytes ? r->final_bytes
                                                       : r->file_bytes;
        if (keep < r->file_bytes &&
            ftruncate(r->fd, (off_t)(WAV_HEADER + keep)) != 0) {
            keep = r->file_bytes;       /* keep all rather than lie */
        }
        r->file_bytes = keep;
        uint8_t h[WAV_HEADER];
        wav_header(h, r->channels, keep);
        int err = pwrite_all(r->fd, h, sizeof(h), 0);
        if (close(r->fd) != 0 && err == 0)
            err = errno;
        r->fd = -1;
        if (err && !r->werr) {
            r->werr = err;
            r->wwhat = "finish";
        }
        break;
    }
    case W_NONE:
        break;
    }
}

/* FINISH decides how much to keep: everything, or up to the end of the
 * last voice and its hang-over when trimming. Called before W_FINISH. */
static uint64_t keep_bytes(const sb_media_rec_t *r)
{
    uint64_t s = r->samples;
    if (r->trim) {
        uint64_t end = r->voice_frames ? r->last_voice_end + TRIM_HANGOVER_SAMPLES
                                       : 0;
        if (end < s)
            s = end;
    }
    return s * 2u * (uint64_t)r->channels;
}

static void work_next(sb_media_rec_t *r);

static void rec_complete(sb_media_rec_t *r)
{
    sb__media_worker_t *w = r->w;
    r->done_req.kind = SB__REQ_REC_DONE;
    r->done_req.obj = r;
    w->n_recs--;
    sb__media_post_req(r->engine, &r->done_req);    /* r is not ours now */
    if (w->quitting && w->n_recs == 0)
        sb__media_worker_quit_now(w);
}

static void work_after(uv_work_t *req, int status)
{
    (void)status;
    sb_media_rec_t *r = req->data;
    work_kind_t kind = r->wk;
    r->busy = 0;
    r->wk = W_NONE;
    while (r->wlist) {
        block_t *b = r->wlist;
        r->wlist = b->next;
        free(b);
    }
    if (r->werr && !r->failed) {
        r->failed = 1;
        snprintf(r->why, sizeof(r->why), "cannot %s %s: %s", r->wwhat,
                 r->path, strerror(r->werr));
        if (kind == W_OPEN && r->fd >= 0) {
            close(r->fd);
            r->fd = -1;
        }
        if (!r->finishing) {
            /* Stop taking frames: the call goes on, the recording ends. */
            r->finishing = 1;
            r->reason = SB_MEDIA_REC_ERROR;
            sb__media_rec_detach_all(r);
        }
    } else if (kind == W_OPEN) {
        r->opened = 1;
    }
    if (kind == W_FINISH) {
        rec_complete(r);
        return;
    }
    work_next(r);
}

static void work_submit(sb_media_rec_t *r, work_kind_t kind)
{
    r->wk = kind;
    r->busy = 1;
    if (kind == W_FINISH)
        r->final_bytes = keep_bytes(r);
    r->werr = 0;
    int rc = uv_queue_work(r->w->loop, &r->work, work_run, work_after);
    sb_assert(rc == 0);
}

/* Starts the next piece of file work when none is in flight. */
static void work_next(sb_media_rec_t *r)
{
    if (r->busy)
        return;
    if (r->failed) {
        while (r->q_head) {
            block_t *b = r->q_head;
            r->q_head = b->next;
            free(b);
        }
        r->q_tail = &r->q_head;
        r->q_n = 0;
    }
    if (r->q_head && !r->failed) {
        r->wlist = r->q_head;
        r->q_head = NULL;
        r->q_tail = &r->q_head;
        r->q_n = 0;
        work_submit(r, W_WRITE);
        return;
    }
    if (r->finishing) {
        if (r->cur && r->cur->len > 0 && !r->failed) {
            r->wlist = r->cur;
            r->cur = NULL;
            work_submit(r, W_WRITE);
            return;
        }
        work_submit(r, W_FINISH);
    }
}

/* ---- frames ------------------------------------------------------------------- */

static size_t block_bytes(const sb_media_rec_t *r)
{
    return (size_t)BLOCK_FRAMES * SB__FRAME_SAMPLES * 2u * (size_t)r->channels;
}

static void append(sb_media_rec_t *r, const int16_t *pcm, size_t n_values)
{
    if (r->failed)
        return;
    size_t bytes = n_values * 2;
    if (r->cur == NULL) {
        r->cur = sb_xmalloc(sizeof(block_t) + block_bytes(r));
        r->cur->next = NULL;
        r->cur->len = 0;
    }
    uint8_t *p = r->cur->data + r->cur->len;
    for (size_t i = 0; i < n_values; i++)
        put_le16(p + 2 * i, (uint16_t)pcm[i]);
    r->cur->len += bytes;
    if (r->cur->len + bytes > block_bytes(r)) {
        if (r->q_n >= MAX_QUEUED_BLOCKS) {
            /* The disk is 30 s behind: drop this second, count it. */
            r->dropped += r->cur->len / (2u * (size_t)r->channels) /
                          SB__FRAME_SAMPLES;
            r->cur->len = 0;
            return;
        }
        *r->q_tail = r->cur;
        r->q_tail = &r->cur->next;
        r->q_n++;
        r->cur = NULL;
        if (r->opened)
            work_next(r);
    }
}

/* Voice or silence, against a floor that follows the quietest level: it
 * drops to any quieter frame at once (not below -70 dBFS) and rises
 * 5 dB a second, so a
 * steady noise becomes the floor within seconds while speech, which
 * keeps dipping to the floor between syllables, stays above it. */
static int vad(sb_media_rec_t *r, const int16_t *pcm)
{
    double db = sb__media_frame_db(pcm);
    if (db < r->floor_db)
        r->floor_db = db < VAD_FLOOR_START_DB ? VAD_FLOOR_START_DB : db;
    else
        r->floor_db += VAD_RISE_DB_PER_FRAME;
    return db > VAD_MIN_DB && db > r->floor_db + VAD_ABOVE_FLOOR_DB;
}

static void rec_end(sb_media_rec_t *r, sb_media_rec_reason_t reason)
{
    if (r->finishing)
        return;
    r->finishing = 1;
    r->reason = reason;
    sb__media_rec_detach_all(r);
    if (r->opened || r->failed)
        work_next(r);
    /* else: the open is in flight; its completion goes on. */
}

static void rec_frame(sb_media_rec_t *r, int16_t *a, const int16_t *b);

void sb__media_rec_tick(sb_media_rec_t *r)
{
    if (r->finishing)
        return;
    if (__atomic_load_n(&r->stop_req, __ATOMIC_ACQUIRE)) {
        rec_end(r, SB_MEDIA_REC_STOPPED);
        return;
    }
    int16_t a[SB__FRAME_SAMPLES], b[SB__FRAME_SAMPLES];
    int ka = sb__ring_take(&r->ring[0], a);
    int kb = -1;
    if (r->in[1] || r->sent || r->channels == 2 || r->mixed)
        kb = sb__ring_take(&r->ring[1], b);
    if (ka == 0 || kb == 0)
        r->missing++;
    rec_frame(r, a, b);
}

/* A room's recorder: the room gives its whole mix each tick. */
void sb__media_rec_push(sb_media_rec_t *r, const int16_t *pcm)
{
    if (r->finishing)
        return;
    if (__atomic_load_n(&r->stop_req, __ATOMIC_ACQUIRE)) {
        rec_end(r, SB_MEDIA_REC_STOPPED);
        return;
    }
    int16_t a[SB__FRAME_SAMPLES];
    memcpy(a, pcm, sizeof(a));
    rec_frame(r, a, NULL);
}

void sb__media_rec_room_gone(sb_media_rec_t *r)
{
    rec_end(r, SB_MEDIA_REC_HANGUP);
}

void sb__media_rec_start_room(sb__media_worker_t *w, sb_media_rec_t *r)
{
    r->w = w;
    w->n_recs++;
    r->floor_db = VAD_FLOOR_START_DB;
    work_submit(r, W_OPEN);
}

/* One frame of a (b: the second input, or NULL) into the file. */
static void rec_frame(sb_media_rec_t *r, int16_t *a, const int16_t *b)
{
    r->frames++;
    if (vad(r, a)) {
        r->voice_frames++;
        r->silent_run = 0;
        r->last_voice_end = r->samples + SB__FRAME_SAMPLES;
    } else {
        r->silent_run++;
    }

    if (r->channels == 2 && b) {
        int16_t st[2 * SB__FRAME_SAMPLES];
        for (int i = 0; i < SB__FRAME_SAMPLES; i++) {
            st[2 * i] = a[i];
            st[2 * i + 1] = b[i];
        }
        append(r, st, 2 * SB__FRAME_SAMPLES);
    } else {
        if (r->mixed && b) {
            for (int i = 0; i < SB__FRAME_SAMPLES; i++) {
                int32_t v = (int32_t)a[i] + b[i];
                a[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
            }
        }
        append(r, a, SB__FRAME_SAMPLES);
    }
    r->samples += SB__FRAME_SAMPLES;

    if (r->max_samples && r->samples >= r->max_samples)
        rec_end(r, SB_MEDIA_REC_MAX_LENGTH);
    else if (r->silence_frames && r->silent_run >= r->silence_frames)
        rec_end(r, SB_MEDIA_REC_SILENCE);
}

/* ---- attaching to endpoints ------------------------------------------------------ */

static void detach_input(sb_media_rec_t *r, int i)
{
    sb_media_endpoint_t *ep = r->in[i];
    if (!ep)
        return;
    r->in[i] = NULL;
    if (ep->rec_in == r)
        ep->rec_in = NULL;
    if (i == 0 && ep->rec_out == r)
        ep->rec_out = NULL;
    if (i == 0 && ep->rec == r) {
        ep->rec = NULL;
        sb__media_clock_maybe_remove(ep);
    }
    sb__media_listen_update(ep);
}

void sb__media_rec_detach_all(sb_media_rec_t *r)
{
    detach_input(r, 1);
    detach_input(r, 0);
}

/* ep is being destroyed or moved to another worker. */
void sb__media_rec_endpoint_gone(sb_media_endpoint_t *ep)
{
    sb_media_rec_t *r = ep->rec_in;
    if (!r)
        return;
    if (r->in[0] == ep)
        rec_end(r, SB_MEDIA_REC_HANGUP);
    else
        detach_input(r, 1);
}

void sb__media_rec_start(sb__media_worker_t *w, sb_media_rec_t *r,
                         sb_media_endpoint_t *ep, sb_media_endpoint_t *other)
{
    r->w = w;
    w->n_recs++;
    r->floor_db = VAD_FLOOR_START_DB;
    if (ep->destroying || ep->rec_in) {
        r->finishing = 1;
        if (ep->rec_in) {
            r->reason = SB_MEDIA_REC_ERROR;
            r->failed = 1;
            snprintf(r->why, sizeof(r->why), "the call is being recorded already");
        } else {
            r->reason = SB_MEDIA_REC_HANGUP;
        }
        work_submit(r, W_FINISH);
        return;
    }
    r->in[0] = ep;
    r->attached = 1;
    ep->rec = r;
    ep->rec_in = r;
    if (r->sent)
        ep->rec_out = r;
    if (other && __atomic_load_n(&other->owner, __ATOMIC_ACQUIRE) == w &&
        !other->destroying && !other->rec_in) {
        r->in[1] = other;
        other->rec_in = r;
        sb__media_listen_update(other);
    }
    sb__media_listen_update(ep);
    sb__media_clock_keep(ep);
    work_submit(r, W_OPEN);
}

/* ---- packets in ------------------------------------------------------------------- */

/* spandsp's receiver found digits (their length is not known: 0). */
static void on_inband_digits(void *user, const char *digits, int len)
{
    sb_media_endpoint_t *ep = user;
    for (int i = 0; i < len; i++)
        sb__media_post_digit(ep, digits[i], 0);
}

void sb__media_listen_update(sb_media_endpoint_t *ep)
{
    ep->listening = ep->rec_in != NULL || ep->member != NULL ||
                    (ep->lis && (ep->lis->tap || ep->lis->dtmf));
}

void sb__media_listen_packet(sb_media_endpoint_t *ep, const sb__rtp_t *h,
                             const uint8_t *payload, size_t n, int alaw)
{
    int16_t pcm[1024];
    if (n > sizeof(pcm) / sizeof(pcm[0]))
        n = sizeof(pcm) / sizeof(pcm[0]);
    for (size_t i = 0; i < n; i++)
        pcm[i] = alaw ? sb__media_alaw_to_linear(payload[i])
                      : sb__media_ulaw_to_linear(payload[i]);
    sb__listen_t *l = ep->lis;
    if (l && l->dtmf && ep->nego.tx_dtmf_pt < 0) {
        if (!l->rx)
            l->rx = dtmf_rx_init(NULL, on_inband_digits, ep);
        if (l->rx)
            dtmf_rx(l->rx, pcm, (int)n);
    }
    if (l && l->tap)
        l->tap(pcm, n, l->tap_arg);
    sb_media_rec_t *r = ep->rec_in;
    if (r && !r->finishing)
        r->late += (uint64_t)sb__ring_put(&r->ring[r->in[0] == ep ? 0 : 1],
                                          h->ssrc, h->ts, pcm, n);
    if (ep->member)
        sb__media_member_audio(ep, h, pcm, n);
}

void sb__media_rec_sent(sb_media_endpoint_t *ep, uint32_t ts, const uint8_t *payload,
                        size_t n)
{
    sb_media_rec_t *r = ep->rec_out;
    if (r == NULL || r->finishing)
        return;
    int16_t pcm[2 * SB__FRAME_SAMPLES];
    if (n > SB_COUNTOF(pcm))
        n = SB_COUNTOF(pcm);
    int alaw = ep->nego.codec == SB_MEDIA_PCMA;
    for (size_t i = 0; i < n; i++)
        pcm[i] = alaw ? sb__media_alaw_to_linear(payload[i])
                      : sb__media_ulaw_to_linear(payload[i]);
    r->late += (uint64_t)sb__ring_put(&r->ring[1], ep->out.ssrc, ts, pcm, n);
}

void sb__media_listen_set(sb_media_endpoint_t *ep, const sb_media_listen_t *l)
{
    sb__listen_t *cur = ep->lis;
    if (!l || (!l->dtmf && !l->tap)) {
        if (cur) {
            if (cur->rx)
                dtmf_rx_free(cur->rx);
            free(cur);
            ep->lis = NULL;
        }
        sb__media_listen_update(ep);
        return;
    }
    if (!cur)
        cur = ep->lis = SB_NEW(sb__listen_t);
    if (!l->dtmf && cur->rx) {
        dtmf_rx_free(cur->rx);
        cur->rx = NULL;
    }
    cur->dtmf = l->dtmf;
    cur->tap = l->tap;
    cur->tap_arg = l->tap_arg;
    sb__media_listen_update(ep);
}

void sb__media_listen_free(sb_media_endpoint_t *ep)
{
    sb__media_listen_set(ep, NULL);
}

/* ---- the control side --------------------------------------------------------------- */

int sb_media_endpoint_listen(sb_media_endpoint_t *ep,
                             const sb_media_listen_t *l, sb_media_done_cb cb,
                             void *arg)
{
    if (ep->cdestroying)
        return SB_ESTATE;
    sb__media_msg_t *m = SB_NEW(sb__media_msg_t);
    m->kind = SB__MSG_LISTEN;
    m->ep = ep;
    m->cb = cb;
    m->arg = arg;
    if (l)
        m->u.listen = *l;
    sb__media_post_msg(ep->cw, m);
    return 0;
}

sb_media_rec_t *sb__media_rec_new(sb_media_engine_t *e, sb__media_worker_t *cw,
                                  const sb_media_rec_opts_t *opts,
                                  sb_media_rec_done_cb cb, void *arg)
{
    sb_media_rec_t *r = SB_NEW(sb_media_rec_t);
    r->engine = e;
    r->cw = cw;
    r->cb = cb;
    r->arg = arg;
    r->path = sb_xstrdup(opts->path);
    r->channels = 1;
    r->max_samples = (uint64_t)opts->max_ms * SB__RTP_CLOCK_KHZ;
    r->silence_frames = opts->silence_ms / 20;
    if (opts->silence_ms && r->silence_frames == 0)
        r->silence_frames = 1;
    r->trim = opts->trim;
    r->fd = -1;
    r->q_tail = &r->q_head;
    r->work.data = r;
    return r;
}

int sb_media_record_start(sb_media_endpoint_t *ep,
                          const sb_media_rec_opts_t *opts,
                          sb_media_rec_done_cb cb, void *arg,
                          sb_media_rec_t **out)
{
    if (!opts || !opts->path || !*opts->path || opts->other == ep ||
        (opts->other && opts->other->engine != ep->engine))
        return SB_EINVAL;
    if (ep->cdestroying)
        return SB_ESTATE;
    if (ep->crec)
        return SB_EBUSY;
    sb_media_rec_t *r = sb__media_rec_new(ep->engine, ep->cw, opts, cb, arg);
    r->cep = ep;
    int second = opts->other != NULL || opts->sent;
    r->sent = opts->other == NULL && opts->sent;
    r->channels = second && opts->dual ? 2 : 1;
    r->mixed = second && !opts->dual;
    r->ring[0].prefill = r->ring[1].prefill = REC_PREFILL_SAMPLES;
    ep->crec = r;
    sb__media_msg_t *m = SB_NEW(sb__media_msg_t);
    m->kind = SB__MSG_REC_START;
    m->ep = ep;
    m->u.rec.rec = r;
    m->u.rec.other = opts->other;   /* checked by the worker */
    sb__media_post_msg(ep->cw, m);
    if (out)
        *out = r;
    return 0;
}

void sb_media_record_stop(sb_media_rec_t *r)
{
    __atomic_store_n(&r->stop_req, 1, __ATOMIC_RELEASE);
}

/* The engine's loop: the completion. */
void sb__media_rec_delivered(sb_media_rec_t *r)
{
    if (r->cep) {
        r->cep->crec = NULL;
        r->cep = NULL;
    }
    uint64_t keep = r->file_bytes / (2u * (uint64_t)r->channels);
    sb_media_rec_result_t res = {
        .status = r->failed ? SB_EIO : 0,
        .reason = r->reason,
        .duration_ms = keep / SB__RTP_CLOCK_KHZ,
        .voice_ms = r->voice_frames * 20,
        .frames = r->frames,
        .missing_frames = r->missing,
        .dropped_frames = r->dropped,
        .late_packets = r->late,
        .why = r->why[0] ? r->why : NULL,
    };
    if (r->failed && res.reason != SB_MEDIA_REC_ERROR && r->werr)
        res.reason = SB_MEDIA_REC_ERROR;
    sb_media_rec_done_cb cb = r->cb;
    r->cb = NULL;
    if (cb)
        cb(r, &res, r->arg);
    rec_free(r);
}

/* An endpoint is freed while its recording's completion is pending. */
void sb__media_rec_forget_endpoint(sb_media_endpoint_t *ep)
{
    if (ep->crec) {
        ep->crec->cep = NULL;
        ep->crec = NULL;
    }
}

