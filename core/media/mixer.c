/*
 * mixer.c: conference rooms on the workers' clocks. A room lives on one
 * worker, like a bridge: its members' endpoints move there when they
 * join (sb_media_room_join, through the engine's MIGRATE/ADOPT), so that a
 * member's packet never crosses threads. The room has a slot of the
 * worker's frame, as an endpoint that plays does (play.c): every 20 ms
 * one pass takes a frame from each member's ring, sums the talkers,
 * adds what the room plays, and sends each member the sum without its
 * own voice. Members that contribute nothing share one frame, encoded
 * once per codec; a talker's own frame is its own subtraction.
 *
 * The talk gate is a fixed level (-48 dBFS) with 200 ms of hang-over:
 * background hiss from every member would otherwise add up in a large
 * room. Muted members are never summed. A member whose endpoint plays a
 * source of its own (wait music) or sends RFC 4733 digits is skipped as
 * a listener for that frame.
 *
 * Control side: the room struct is shared like an endpoint's (fields
 * prefixed c for the engine's loop); the worker side is touched only by
 * the room's worker. The struct is freed on the engine's loop after the
 * worker let it go (REQ_ROOM_FREE).
 */
#include "engine_int.h"
#include "util.h"

#include <string.h>

#define ROOM_PREFILL_SAMPLES 480    /* 60 ms of jitter absorbed */
#define TALK_DB (-48.0)
#define TALK_HANG_FRAMES 10         /* 200 ms */
#define LATE_NS 5000000ULL
#define ULAW_SILENCE 0xFF
#define ALAW_SILENCE 0xD5

struct sb__member_s {
    sb__member_t *next;
    sb_media_endpoint_t *ep;
    sb_media_room_t *room;      /* outlives its members (DESTROY empties it) */
    int muted;
    int hang;                   /* frames of talk left */
    int talking;                /* this frame */
    sb__ring_t ring;
    int16_t in[SB__FRAME_SAMPLES];
};

struct sb_media_room_s {
    /* control side */
    sb_media_engine_t *engine;
    sb__media_worker_t *cw;
    int cmembers;
    int cdestroying;
    void (*cdone)(void *arg);
    void *cdone_arg;
    sb__media_req_t free_req;

    /* worker side */
    sb__member_t *members;
    int n;
    int clocked;
    int slot;
    uint64_t next_due_ns;
    sb_media_room_t *cprev, *cnext;     /* the slot's list */
    sb__play_item_t *play_head, **play_tail;
    sb_media_rec_t *rec;        /* records the whole mix, or NULL */
};

/* ---- the worker side -------------------------------------------------------- */

static void room_clock_add(sb__media_worker_t *w, sb_media_room_t *r)
{
    if (r->clocked)
        return;
    int best = 0;
    for (int i = 1; i < SB__SLOTS; i++)
        if (w->slot_n[i] < w->slot_n[best])
            best = i;
    uint64_t now = sb__media_mono_ns();
    uint64_t k = (now > w->clock_base_ns ? (now - w->clock_base_ns) / SB__SLOT_NS
                                          : 0) + 1;
    while (k % SB__SLOTS != (uint64_t)best)
        k++;
    r->slot = best;
    r->next_due_ns = w->clock_base_ns + k * SB__SLOT_NS;
    r->clocked = 1;
    w->slot_n[best]++;
    r->cprev = NULL;
    r->cnext = w->room_slots[best];
    if (r->cnext)
        r->cnext->cprev = r;
    w->room_slots[best] = r;
    sb__media_clock_ref(w);
}

static void room_clock_remove(sb__media_worker_t *w, sb_media_room_t *r)
{
    if (!r->clocked)
        return;
    r->clocked = 0;
    if (r->cprev)
        r->cprev->cnext = r->cnext;
    else
        w->room_slots[r->slot] = r->cnext;
    if (r->cnext)
        r->cnext->cprev = r->cprev;
    r->cprev = r->cnext = NULL;
    w->slot_n[r->slot]--;
    sb__media_clock_unref(w);
}

static void member_remove(sb__media_worker_t *w, sb_media_room_t *r,
                          sb__member_t *m)
{
    for (sb__member_t **p = &r->members; *p; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    r->n--;
    sb_media_endpoint_t *ep = m->ep;
    ep->member = NULL;
    sb__media_listen_update(ep);
    sb__outstream_reset(&ep->out);      /* the phone's next source is new */
    free(m);
    if (r->n == 0 && !r->play_head)
        room_clock_remove(w, r);
}

void sb__media_member_audio(sb_media_endpoint_t *ep, const sb__rtp_t *h,
                            const int16_t *pcm, size_t n)
{
    sb__ring_put(&ep->member->ring, h->ssrc, h->ts, pcm, n);
}

void sb__media_member_gone(sb_media_endpoint_t *ep)
{
    if (!ep->member)
        return;
    member_remove(ep->w, ep->member->room, ep->member);
}

static int16_t clip(int32_t v)
{
    return (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
}

/* The completion of a room's play (no endpoint to name). */
static void room_post_done(sb_media_room_t *r, sb_media_done_cb cb, void *arg,
                           int status)
{
    if (cb == NULL)
        return;
    sb__media_req_t *req = SB_NEW(sb__media_req_t);
    req->kind = SB__REQ_DONE;
    req->cb = cb;
    req->arg = arg;
    req->status = status;
    sb__media_post_req(r->engine, req);
}

/* Adds the room's own source (a beep, an announcement) to sum. */
static void mix_room_play(sb_media_room_t *r, int32_t *sum)
{
    int done = 0;
    while (done < SB__FRAME_SAMPLES && r->play_head) {
        sb__play_item_t *it = r->play_head;
        int16_t pcm[SB__FRAME_SAMPLES];
        int k = SB__FRAME_SAMPLES - done;
        int ended = 0;
        if (it->kind == SB__SRC_AUDIO) {
            size_t left = it->audio->nsamples - it->pos;
            if ((size_t)k > left)
                k = (int)left;
            memcpy(pcm, it->audio->pcm + it->pos, (size_t)k * sizeof(int16_t));
            it->pos += (size_t)k;
            if (it->pos >= it->audio->nsamples) {
                it->pos = 0;
                ended = it->loop != 0 && --it->loop == 0;
            }
        } else {
            ended = sb__media_play_render(it, pcm, (size_t)k);
        }
        for (int i = 0; i < k; i++)
            sum[done + i] += pcm[i];
        done += k;
        if (ended) {
            int audio = it->kind == SB__SRC_AUDIO;
            r->play_head = it->next;
            if (!r->play_head)
                r->play_tail = &r->play_head;
            room_post_done(r, it->cb, it->arg, 0);
            it->cb = NULL;
            sb__media_play_item_free(it);
            if (!audio)
                break;          /* a tone's last frame ends with silence */
        }
    }
}

static void room_frame(sb__media_worker_t *w, sb_media_room_t *r,
                       uint64_t now_ms)
{
    int32_t sum[SB__FRAME_SAMPLES];
    memset(sum, 0, sizeof(sum));
    for (sb__member_t *m = r->members; m; m = m->next) {
        sb__ring_take(&m->ring, m->in);
        m->talking = 0;
        if (m->muted)
            continue;
        if (sb__media_frame_db(m->in) > TALK_DB)
            m->hang = TALK_HANG_FRAMES;
        else if (m->hang > 0)
            m->hang--;
        if (m->hang > 0) {
            m->talking = 1;
            for (int i = 0; i < SB__FRAME_SAMPLES; i++)
                sum[i] += m->in[i];
        }
    }
    mix_room_play(r, sum);
    if (r->rec) {
        int16_t all[SB__FRAME_SAMPLES];
        for (int i = 0; i < SB__FRAME_SAMPLES; i++)
            all[i] = clip(sum[i]);
        sb__media_rec_push(r->rec, all);
    }

    /* The frame of everyone who said nothing, made on first need. */
    uint8_t shared[2][SB__FRAME_SAMPLES];
    int have[2] = {0, 0};
    for (sb__member_t *m = r->members; m; m = m->next) {
        sb_media_endpoint_t *ep = m->ep;
        __atomic_add_fetch(&w->mix_members, 1, __ATOMIC_RELAXED);
        if (ep->destroying || ep->playing || ep->txd.active || !ep->can_send)
            continue;
        int alaw = ep->nego.codec == SB_MEDIA_PCMA;
        uint8_t out[SB__FRAME_SAMPLES];
        const uint8_t *payload;
        if (m->talking) {
            for (int i = 0; i < SB__FRAME_SAMPLES; i++) {
                int16_t v = clip(sum[i] - m->in[i]);
                out[i] = alaw ? sb__media_linear_to_alaw(v)
                              : sb__media_linear_to_ulaw(v);
            }
            payload = out;
        } else {
            if (!have[alaw]) {
                for (int i = 0; i < SB__FRAME_SAMPLES; i++) {
                    int16_t v = clip(sum[i]);
                    shared[alaw][i] = alaw ? sb__media_linear_to_alaw(v)
                                           : sb__media_linear_to_ulaw(v);
                }
                have[alaw] = 1;
            }
            payload = shared[alaw];
        }
        sb__media_send_frame(ep, payload, SB__FRAME_SAMPLES, now_ms);
    }
}

void sb__media_rooms_visit(sb__media_worker_t *w, int slot, uint64_t *now,
                           uint64_t now_ms)
{
    sb_media_room_t *next;
    for (sb_media_room_t *r = w->room_slots[slot]; r; r = next) {
        next = r->cnext;
        int n = 0;
        while (r->clocked && r->next_due_ns <= *now && n < 3) {
            if (*now - r->next_due_ns > LATE_NS)
                __atomic_add_fetch(&w->mix_late, 1, __ATOMIC_RELAXED);
            room_frame(w, r, now_ms);
            __atomic_add_fetch(&w->mix_ticks, 1, __ATOMIC_RELAXED);
            r->next_due_ns += SB__FRAME_NS;
            n++;
        }
        if (r->clocked && r->next_due_ns + SB__FRAME_NS <= *now)
            r->next_due_ns += (*now - r->next_due_ns) / SB__FRAME_NS *
                              SB__FRAME_NS;
        *now = sb__media_mono_ns();
    }
}

static void room_join(sb__media_worker_t *w, sb_media_room_t *r,
                      sb_media_endpoint_t *ep, int muted)
{
    if (ep->member)
        sb__media_member_gone(ep);
    /* A bridge ends: the room is what the phone hears now. */
    if (ep->peer) {
        ep->peer->peer = NULL;
        sb__outstream_reset(&ep->peer->out);
        ep->peer = NULL;
    }
    sb__member_t *m = SB_NEW(sb__member_t);
    m->ep = ep;
    m->room = r;
    m->muted = muted;
    m->ring.prefill = ROOM_PREFILL_SAMPLES;
    m->next = r->members;
    r->members = m;
    r->n++;
    ep->member = m;
    sb__media_listen_update(ep);
    sb__outstream_reset(&ep->out);
    room_clock_add(w, r);
}

void sb__media_room_msg(sb__media_worker_t *w, sb__media_msg_t *m)
{
    sb_media_room_t *r = m->u.room.room;
    sb_media_endpoint_t *ep = m->ep;
    switch (m->kind) {
    case SB__MSG_ROOM_JOIN:
        if (ep->destroying) {
            sb__media_post_done(ep, m->cb, m->arg, SB_ECANCELED);
            break;
        }
        room_join(w, r, ep, m->u.room.flag);
        sb__media_post_done(ep, m->cb, m->arg, 0);
        break;
    case SB__MSG_ROOM_LEAVE:
        if (ep->member && ep->member->room == r)
            member_remove(w, r, ep->member);
        sb__media_post_done(ep, m->cb, m->arg, 0);
        break;
    case SB__MSG_ROOM_MUTE:
        if (ep->member)
            ep->member->muted = m->u.room.flag;
        break;
    case SB__MSG_ROOM_PLAY: {
        sb__play_item_t *it = m->u.room.play;
        it->next = NULL;
        *r->play_tail = it;
        r->play_tail = &it->next;
        room_clock_add(w, r);
        break;
    }
    case SB__MSG_ROOM_RECORD:
        sb__media_rec_start_room(w, m->u.room.rec);
        if (r->rec)
            sb__media_rec_room_gone(r->rec);
        r->rec = m->u.room.rec;
        break;
    case SB__MSG_ROOM_DESTROY:
        if (r->rec) {
            sb__media_rec_room_gone(r->rec);
            r->rec = NULL;
        }
        while (r->members)
            member_remove(w, r, r->members);
        while (r->play_head) {
            sb__play_item_t *it = r->play_head;
            r->play_head = it->next;
            room_post_done(r, it->cb, it->arg, SB_ECANCELED);
            sb__media_play_item_free(it);
        }
        r->play_tail = &r->play_head;
        room_clock_remove(w, r);
        r->free_req.kind = SB__REQ_ROOM_FREE;
        r->free_req.obj = r;
        sb__media_post_req(r->engine, &r->free_req);
        break;
    default:
        break;
    }
}

/* ---- the control side ----------------------------------------------------------- */

static sb__media_msg_t *room_msg(sb__msg_kind_t kind, sb_media_room_t *r,
                                 sb_media_endpoint_t *ep)
{
    sb__media_msg_t *m = SB_NEW(sb__media_msg_t);
    m->kind = kind;
    m->ep = ep;
    m->u.room.room = r;
    return m;
}

int sb_media_room_new(sb_media_engine_t *e, sb_media_room_t **out)
{
    if (e->closing)
        return SB_ESTATE;
    sb_media_room_t *r = SB_NEW(sb_media_room_t);
    r->engine = e;
    r->play_tail = &r->play_head;
    /* The worker with the fewest endpoints. */
    sb__media_worker_t *best = e->workers[0];
    for (int i = 1; i < e->n_workers; i++)
        if (__atomic_load_n(&e->workers[i]->n_eps, __ATOMIC_RELAXED) <
            __atomic_load_n(&best->n_eps, __ATOMIC_RELAXED))
            best = e->workers[i];
    r->cw = best;
    *out = r;
    return 0;
}

int sb_media_room_join(sb_media_room_t *r, sb_media_endpoint_t *ep, int muted,
                       sb_media_done_cb cb, void *arg)
{
    if (ep->engine != r->engine)
        return SB_EINVAL;
    if (ep->cdestroying || r->cdestroying)
        return SB_ESTATE;
    if (ep->croom)
        return SB_EBUSY;
    if (ep->cpeer) {
        sb_media_endpoint_t *p = ep->cpeer;
        p->cpeer = NULL;
        ep->cpeer = NULL;
        sb__media_msg_t *d = SB_NEW(sb__media_msg_t);
        d->kind = SB__MSG_DISCONNECT;
        d->ep = ep;
        sb__media_post_msg(ep->cw, d);
    }
    if (ep->cw != r->cw) {
        sb__media_msg_t *mv = SB_NEW(sb__media_msg_t);
        mv->kind = SB__MSG_MIGRATE;
        mv->ep = ep;
        mv->to = r->cw;
        sb__media_post_msg(ep->cw, mv);
        ep->cw = r->cw;
    }
    ep->croom = r;
    r->cmembers++;
    sb__media_msg_t *m = room_msg(SB__MSG_ROOM_JOIN, r, ep);
    m->u.room.flag = muted != 0;
    m->cb = cb;
    m->arg = arg;
    sb__media_post_msg(r->cw, m);
    return 0;
}

int sb_media_room_leave(sb_media_room_t *r, sb_media_endpoint_t *ep,
                        sb_media_done_cb cb, void *arg)
{
    if (ep->croom != r)
        return SB_EINVAL;
    ep->croom = NULL;
    r->cmembers--;
    sb__media_msg_t *m = room_msg(SB__MSG_ROOM_LEAVE, r, ep);
    m->cb = cb;
    m->arg = arg;
    sb__media_post_msg(ep->cw, m);
    return 0;
}

int sb_media_room_mute(sb_media_room_t *r, sb_media_endpoint_t *ep, int muted)
{
    if (ep->croom != r)
        return SB_EINVAL;
    sb__media_msg_t *m = room_msg(SB__MSG_ROOM_MUTE, r, ep);
    m->u.room.flag = muted != 0;
    sb__media_post_msg(ep->cw, m);
    return 0;
}

int sb_media_room_play(sb_media_room_t *r, const sb_media_play_t *src,
                       sb_media_done_cb cb, void *arg)
{
    if (r->cdestroying)
        return SB_ESTATE;
    sb__play_item_t *it;
    int rc = sb__media_play_item_new(src, cb, arg, &it);
    if (rc)
        return rc;
    sb__media_msg_t *m = room_msg(SB__MSG_ROOM_PLAY, r, NULL);
    m->u.room.play = it;
    sb__media_post_msg(r->cw, m);
    return 0;
}

int sb_media_room_record(sb_media_room_t *r, const sb_media_rec_opts_t *opts,
                         sb_media_rec_done_cb cb, void *arg,
                         sb_media_rec_t **out)
{
    if (!opts || !opts->path || !*opts->path || opts->other)
        return SB_EINVAL;
    if (r->cdestroying)
        return SB_ESTATE;
    sb_media_rec_t *rec = sb__media_rec_new(r->engine, r->cw, opts, cb, arg);
    sb__media_msg_t *m = room_msg(SB__MSG_ROOM_RECORD, r, NULL);
    m->u.room.rec = rec;
    sb__media_post_msg(r->cw, m);
    if (out)
        *out = rec;
    return 0;
}

int sb_media_room_members(const sb_media_room_t *r)
{
    return r->cmembers;
}

void sb_media_room_destroy(sb_media_room_t *r, void (*cb)(void *arg), void *arg)
{
    r->cdestroying = 1;
    r->cdone = cb;
    r->cdone_arg = arg;
    /* The control side forgets the members at once. */
    for (sb_media_endpoint_t *ep = r->engine->eps; ep; ep = ep->next)
        if (ep->croom == r)
            ep->croom = NULL;
    r->cmembers = 0;
    sb__media_post_msg(r->cw, room_msg(SB__MSG_ROOM_DESTROY, r, NULL));
}

void sb__media_room_freed(sb_media_room_t *r)
{
    void (*cb)(void *) = r->cdone;
    void *arg = r->cdone_arg;
    free(r);
    if (cb)
        cb(arg);
}

void sb__media_room_forget_endpoint(sb_media_endpoint_t *ep)
{
    if (ep->croom) {
        ep->croom->cmembers--;
        ep->croom = NULL;
    }
}

void sb_media_engine_mix_stats(const sb_media_engine_t *e,
                               sb_media_mix_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < e->n_workers; i++) {
        const sb__media_worker_t *w = e->workers[i];
        out->ticks += __atomic_load_n(&w->mix_ticks, __ATOMIC_RELAXED);
        out->late += __atomic_load_n(&w->mix_late, __ATOMIC_RELAXED);
        out->member_frames += __atomic_load_n(&w->mix_members,
                                              __ATOMIC_RELAXED);
    }
}
