/*
 * engine_int.h: the engine's, the workers' and the endpoint's structs,
 * shared by engine.c (the control side), worker.c (workers, messages),
 * relay.c (the packet path) and play.c (the clock and generated audio).
 * Not a public header.
 *
 * Ownership: the engine owns every endpoint (a list) and every worker;
 * an endpoint owns its two poll handles, embedded, and its sockets. An
 * endpoint is freed only from the completion queue, after its worker
 * closed its handles, so that completions queued before its destroy
 * still see it alive.
 */
#ifndef SB_MEDIA_ENGINE_INT_H
#define SB_MEDIA_ENGINE_INT_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "media_int.h"

#define SB__RXBUF_SIZE 4096
#define SB__DTMF_MAX_DIGITS 32
#define SB__MAX_QUEUED_SENDS 64
#define SB__FRAME_SAMPLES 160       /* 20 ms at 8 kHz */
#define SB__FRAME_NS 20000000ULL    /* one frame */
#define SB__SLOTS 10                /* the clock ticks SLOTS times a frame */
#define SB__SLOT_NS (SB__FRAME_NS / SB__SLOTS)

typedef struct sb__media_worker_s sb__media_worker_t;

/* An RTP packet the kernel could not take yet (send buffer full), kept in
 * order until the socket is writable again. */
typedef struct sb__txq_s {
    struct sb__txq_s *next;
    size_t len;
    uint8_t data[];
} sb__txq_t;

/* metrics.c: adds what ep's counters gained since the last call to its
 * worker's totals (the worker's thread). */
void sb__media_metrics_fold(sb__media_worker_t *w, sb_media_endpoint_t *ep);
/* metrics.c: one sweep's pass over the worker's endpoints. */
void sb__media_metrics_sweep(sb__media_worker_t *w, uint64_t now_ms);

/* ---- messages between the caller's loop and the workers ---------------- */

/* Worker to caller: completions and events, delivered on the engine's
 * loop in the order the worker queued them. */
typedef enum {
    SB__REQ_DONE = 0,           /* cb(ep, status) */
    SB__REQ_FREE_EP,            /* cb(ep, 0), then free ep */
    SB__REQ_EV_DTMF,            /* events.on_dtmf(ep, digit, ms) */
    SB__REQ_EV_DTMF_BEGIN,      /* events.on_dtmf_begin(ep, digit) */
    SB__REQ_EV_TIMEOUT,         /* events.on_timeout(ep) */
    SB__REQ_WORKER_GONE,        /* the worker closed its handles */
    SB__REQ_REC_DONE,           /* a recorder completed (obj) */
    SB__REQ_ROOM_FREE           /* a room left its worker (obj) */
} sb__req_kind_t;

typedef struct sb__media_req_s {
    struct sb__media_req_s *next;
    sb__req_kind_t kind;
    sb_media_endpoint_t *ep;
    sb_media_done_cb cb;
    void *arg;
    int status;
    int clear_dtmf;             /* ends the RFC 4733 request (DONE) */
    char digit;
    int duration_ms;
    sb__media_worker_t *worker; /* WORKER_GONE */
    void *obj;                  /* REC_DONE: the recorder */
} sb__media_req_t;

/* Caller to worker: everything that touches the packet path. */
typedef enum {
    SB__MSG_ADOPT,              /* start polling ep's sockets here */
    SB__MSG_REMOTE,             /* new negotiation result */
    SB__MSG_CONNECT,            /* bridge ep with peer */
    SB__MSG_DISCONNECT,
    SB__MSG_DTMF,               /* RFC 4733 digits */
    SB__MSG_PLAY,               /* queue a source */
    SB__MSG_STOP,               /* stop playing, empty the queue */
    SB__MSG_MUTE,               /* relay nothing of what the phone says */
    SB__MSG_MIGRATE,            /* move ep to another worker */
    SB__MSG_LISTEN,             /* in-band DTMF, tap (listen.c) */
    SB__MSG_REC_START,          /* attach a recorder */
    SB__MSG_ROOM_JOIN,          /* ep joins a room (mixer.c) */
    SB__MSG_ROOM_LEAVE,
    SB__MSG_ROOM_MUTE,
    SB__MSG_ROOM_PLAY,          /* queue a source mixed into the room */
    SB__MSG_ROOM_DESTROY,
    SB__MSG_ROOM_RECORD,
    SB__MSG_DESTROY,
    SB__MSG_QUIT                /* the engine closes: close the worker */
} sb__msg_kind_t;

typedef struct sb__remote_s {
    sb__nego_t nego;
    struct sockaddr_storage rtp, rtcp;
    int has_remote;             /* port != 0 and a usable address */
    int can_send;
    int expect_rx;
} sb__remote_t;

typedef struct sb__play_item_s sb__play_item_t;

typedef struct sb__media_msg_s {
    struct sb__media_msg_s *next;
    sb__msg_kind_t kind;
    sb_media_endpoint_t *ep;
    sb_media_endpoint_t *peer;  /* CONNECT */
    sb__media_worker_t *to;     /* MIGRATE */
    sb_media_done_cb cb;
    void *arg;
    union {
        sb__remote_t remote;
        struct {
            char digits[SB__DTMF_MAX_DIGITS + 1];
            uint32_t dur_samples;
        } dtmf;
        sb__play_item_t *play;
        sb_media_listen_t listen;
        struct {
            sb_media_rec_t *rec;
            sb_media_endpoint_t *other;
        } rec;
        struct {
            sb_media_room_t *room;
            int flag;               /* JOIN/MUTE (and endpoint MUTE): muted */
            sb__play_item_t *play;  /* PLAY */
            sb_media_rec_t *rec;    /* RECORD */
        } room;
    } u;
} sb__media_msg_t;

/* ---- received and generated DTMF ------------------------------------------ */

/* What the endpoint's phone has sent as telephone-events. */
typedef struct sb__dtmf_rx_s {
    int active;                 /* an event was seen */
    uint32_t ts;                /* its RTP timestamp (identifies it) */
    int event;
    uint16_t duration;
    int reported;
    uint64_t last_ms;
} sb__dtmf_rx_t;

typedef enum { SB__TXD_TONE, SB__TXD_END, SB__TXD_GAP } sb__txd_phase_t;

/* Digits being generated towards the phone as RFC 4733 events, one packet
 * per tick of the worker's clock. */
typedef struct sb__dtmf_tx_s {
    int active;
    char digits[SB__DTMF_MAX_DIGITS + 1];
    int count, index;
    uint32_t dur_samples;       /* per digit */
    sb__txd_phase_t phase;
    int phase_ticks;
    uint32_t tick;              /* 20 ms ticks since the request started */
    uint16_t seq;               /* source-local seq and event timestamp */
    uint32_t event_ts;
    uint32_t cur_dur;
    int first;                  /* next tone packet is the event's first */
    sb_media_done_cb cb;
    void *arg;
} sb__dtmf_tx_t;

/* ---- playback (play.c) ----------------------------------------------------- */

typedef enum {
    SB__SRC_SILENCE,
    SB__SRC_AUDIO,
    SB__SRC_TONE,
    SB__SRC_DIGITS
} sb__src_kind_t;

/* One tone: up to two frequencies and an on/off cadence of up to four
 * steps (ms; 0 ends the list), repeated. */
typedef struct sb__tone_s {
    uint16_t f1, f2;            /* Hz; f2 0 for a single frequency */
    int16_t amp;                /* peak of each component */
    uint16_t cadence[4];        /* on, off, on, off; {0} = continuous */
} sb__tone_t;

/* One queued source. Owner: the endpoint's worker once queued (the
 * caller's loop before); freed by the worker, its audio reference too. */
struct sb__play_item_s {
    sb__play_item_t *next;
    sb__src_kind_t kind;
    sb_media_audio_t *audio;    /* AUDIO: one reference */
    sb__tone_t tone;            /* TONE */
    char digits[65];            /* DIGITS */
    int loop;                   /* plays left; 0 = endless */
    uint64_t samples_left;      /* SILENCE and TONE with ms; 0 = endless */
    /* position */
    size_t pos;                 /* AUDIO: sample; DIGITS: digit index */
    uint32_t phase_samples;     /* TONE/DIGITS: samples into the step */
    int step;                   /* TONE cadence step, DIGITS on/off */
    uint32_t ph1, ph2;          /* oscillator phases, 2^32 = one cycle */
    sb_media_done_cb cb;
    void *arg;
};

/* Builds the tone named by name ("ringback", "busy:gb", "beep", ...).
 * Returns 0 or SB_EINVAL for an unknown name. Pure. */
int sb__media_tone_parse(const char *name, sb__tone_t *out);
/* Renders the next n samples of item (TONE, DIGITS or SILENCE) as linear
 * PCM into pcm; returns 1 when the item ended within these samples (the
 * rest is silence). Pure, for the unit tests too. */
int sb__media_play_render(sb__play_item_t *item, int16_t *pcm, size_t n);
/* Validates and builds a queued item from src. Returns 0 or SB_EINVAL. */
int sb__media_play_item_new(const sb_media_play_t *src, sb_media_done_cb cb,
                            void *arg, sb__play_item_t **out);
void sb__media_play_item_free(sb__play_item_t *item);

/* ---- input rings (ring.c) ------------------------------------------------- */

#define SB__RING_SAMPLES 4096       /* 512 ms; a power of two */

/* A fixed-delay jitter buffer of one input (recorders, rooms). */
typedef struct sb__ring_s {
    int synced;
    uint32_t ssrc;
    uint32_t read_ts;           /* timestamp of the next sample to take */
    uint32_t hi_ts;             /* end of the newest packet written */
    int started;                /* a frame with data was taken */
    uint32_t prefill;           /* delay in samples; 0: 40 ms */
    int late_run;               /* late packets in a row */
    int16_t pcm[SB__RING_SAMPLES];
} sb__ring_t;

/* Places n samples of source ssrc at timestamp ts. Returns 0, or 1 when
 * the packet came too late for its frame (dropped). */
/* listen.c: what is sent to ep's phone (G.711 payload, n samples, ts on
 * ep's outgoing stream), for the recorder that takes both sides. */
void sb__media_rec_sent(sb_media_endpoint_t *ep, uint32_t ts, const uint8_t *payload,
                        size_t n);
int sb__ring_put(sb__ring_t *g, uint32_t ssrc, uint32_t ts, const int16_t *pcm,
                 size_t n);
/* Takes the next 20 ms into out. Returns 1 (complete), 0 (part of it never
 * came), -1 (no packet yet: silence). */
int sb__ring_take(sb__ring_t *g, int16_t *out);
/* Energy of one 20 ms frame in dBFS (-100 for digital silence): the
 * recorders' silence timeout and the rooms' talk gate. */
double sb__media_frame_db(const int16_t *pcm);

/* ---- conference rooms (mixer.c) ---------------------------------------------- */

typedef struct sb__member_s sb__member_t;

/* ---- listening (listen.c) ------------------------------------------------- */

struct dtmf_rx_state_s;

/* What an endpoint listens for in its phone's audio. Worker side. */
typedef struct sb__listen_s {
    int dtmf;
    sb_media_tap_cb tap;
    void *tap_arg;
    struct dtmf_rx_state_s *rx; /* spandsp, made on the first packet */
} sb__listen_t;

/* The description we last produced. Its address and port are the
 * engine's and the endpoint's, so only what varies is kept: our offers and
 * answers carry at most three formats (negotiate.c), where a phone's
 * description may carry SB_MEDIA_MAX_FORMATS. */
#define SB__LOCAL_MAX_FORMATS 3
typedef struct sb__local_s {
    sb_media_format_t formats[SB__LOCAL_MAX_FORMATS];
    int nformats;
    int dtmf_pt;
    sb_media_dir_t dir;
    unsigned ptime;
} sb__local_t;

/* An endpoint has two sides. The worker side (the packet path, sockets,
 * playback) is touched only by the worker that owns the endpoint now
 * (owner); the control side (descriptions, the caller's mirror of the
 * bridge and negotiation, the list links) only by the engine's loop. They
 * meet only through messages.
 *
 * Field order matters: the first block is what every relayed packet reads
 * or writes, on the endpoint it came in on and on its peer, kept together
 * so that a packet touches a few cache lines of each (with 4,000 endpoints
 * the working set does not fit the cache, and a scattered layout cost a
 * miss per field). */
struct sb_media_endpoint_s {
    /* ---- worker side: the packet path ---- */
    /* The RTP socket is read and written directly (one recv per
     * readiness, send), not through uv_udp_t: at 50 packets/s per socket
     * libuv's read-until-EAGAIN doubles the receive syscalls. */
    uv_poll_t rtp;
    sb__media_worker_t *w;      /* the worker whose thread runs the above */
    sb_media_endpoint_t *peer;  /* bridged to, borrowed; same worker */
    int rtp_fd;                 /* owned; closed at destroy */
    int destroying;             /* worker side */
    int connected;              /* rtp_fd is connect()ed to remote */
    int latched, rtcp_latched;
    int has_remote;             /* remote holds a usable address */
    int can_send;               /* ... and the phone wants media */
    int timed_out;
    int playing;                /* a source replaces the relayed audio */
    int muted;                  /* its phone's audio is not relayed */
    uint64_t last_rx_ms;
    sb__txq_t *txq_head;        /* RTP packets waiting for POLLOUT */
    sb__txq_t **txq_tail;
    int txq_len;
    sb__nego_t nego;            /* rx_kind[pt], codec, tx_pt */
    sb__outstream_t out;
    sb__rxstats_t rx;
    sb_media_stats_t st;
    /* What the worker's metrics have counted of st and rx (metrics.c). */
    uint64_t m_rx_seen, m_tx_seen, m_lost_seen;
    sb__dtmf_tx_t txd;          /* .active */
    struct sockaddr_storage remote;         /* RTP destination (latched) */
    sb__dtmf_rx_t rxd;

    /* ---- worker side: the rest ---- */
    sb_media_endpoint_t *wprev, *wnext;     /* worker's list */
    sb_media_endpoint_t *cprev, *cnext;     /* its clock slot's list */
    int clocked;                /* on a slot's list */
    int slot;                   /* 0..SB__SLOTS-1 */
    uint64_t next_due_ns;       /* CLOCK_MONOTONIC time of the next frame */
    sb__play_item_t *play_head; /* queue; head plays */
    sb__play_item_t **play_tail;
    sb__play_item_t *fin_head;  /* played out, reported next tick */
    uint16_t gen_seq;           /* generated stream's own seq and ts */
    uint32_t gen_ts;
    uint32_t gen_ssrc;
    uv_poll_t rtcp;
    int rtcp_fd;                /* owned; closed at destroy */
    int open_handles;
    int adopted;                /* handles initialised on w's loop */
    struct sockaddr_storage sdp_remote;     /* RTP address the SDP gave */
    struct sockaddr_storage remote_rtcp;
    int has_sdp_remote;
    int expect_rx;              /* the phone said it sends */
    uint64_t next_rtcp_ms;
    uint32_t rtcp_expected_prior, rtcp_received_prior;
    sb__media_worker_t *move_to;    /* MIGRATE: where it goes */
    sb__media_worker_t *owner;  /* atomic: the worker holding the struct;
                                   NULL while it moves between workers */
    sb__media_req_t free_req;   /* the destroy completion */
    int listening;              /* lis or rec_in: decode what comes in */
    sb__listen_t *lis;          /* owned, or NULL */
    sb_media_rec_t *rec;        /* recorder ticking on this endpoint */
    sb_media_rec_t *rec_in;     /* recorder this endpoint feeds */
    sb_media_rec_t *rec_out;    /* recorder fed what is sent to it */
    sb__member_t *member;       /* its place in a room, or NULL */

    /* ---- control side (the engine's loop) ---- */
    sb_media_engine_t *engine;
    sb_media_endpoint_t *prev, *next;   /* engine's list */
    sb__media_worker_t *cw;     /* where messages for ep go */
    sb_media_endpoint_t *cpeer; /* mirror of the bridge */
    sb__nego_t cnego;           /* mirror of the negotiation */
    int cdestroying;
    int cdtmf_busy;             /* RFC 4733 digits under way */
    void *data;                 /* the user's, borrowed */
    unsigned port;
    sb__local_t local;          /* last description we produced */
    sb_media_rec_t *crec;       /* recording started, not yet completed */
    sb_media_room_t *croom;     /* the room it joined (control side) */
    int has_local;
    uint64_t sess_id, sess_ver;
    struct sockaddr_storage csdp_remote;    /* mirror, for set_remote */
    int chas_sdp_remote;
};

/* A media worker: a loop (its own thread's, or the engine's when
 * opts.threads is 0) that owns the packet path of its endpoints, with one
 * 20 ms clock (a timerfd) for everything they generate. */
struct sb__media_worker_s {
    sb_media_engine_t *engine;
    int index;
    uv_loop_t *loop;
    uv_loop_t own_loop;         /* when threaded */
    uv_thread_t thread;
    int threaded;
    uv_async_t wake;            /* messages are queued */
    uv_mutex_t lock;            /* guards the message queue */
    sb__media_msg_t *in_head, **in_tail;
    uv_timer_t sweep;
    uv_poll_t clock;
    int clock_fd;               /* timerfd, CLOCK_MONOTONIC, absolute */
    uint64_t clock_base_ns;     /* the first deadline */
    uint64_t next_k;            /* the next slot tick to visit */
    sb__media_msg_t *held;      /* waiting for an endpoint in transit */
    sb_media_endpoint_t *eps;   /* endpoints owned here */
    /* Endpoints that generate audio, spread over the slots of a frame so
     * that each tick sends a tenth of the frames (no burst of every
     * frame at once, and a frame's lateness is bounded by its slot's
     * pass, not the whole worker's). */
    sb_media_endpoint_t *slots[SB__SLOTS];
    sb_media_room_t *room_slots[SB__SLOTS];     /* rooms, likewise */
    int slot_n[SB__SLOTS];      /* endpoints and rooms per slot */
    int n_clocked;
    int n_eps;
    int open_handles;
    int quitting;               /* QUIT came: closing once recs are done */
    int closing;                /* handles being closed */
    int n_recs;                 /* recorders not yet completed */
    uint64_t rng;
    /* Counters, written here, read by the engine's loop (stats). */
    uint64_t ticks, missed_ticks, frames, late_frames;
    uint64_t mix_ticks, mix_late, mix_members;  /* rooms: ticks, late, members */
    int64_t playing;
    /* Metrics (metrics.c): packets and loss folded in from
     * the endpoints by the sweep, and their jitter; written here with
     * relaxed atomic stores, read by the engine's loop. */
    uint64_t m_rx, m_tx, m_lost, m_jitter_us, m_jitter_max_us;
    uint8_t rxbuf[SB__RXBUF_SIZE] __attribute__((aligned(16)));
};

struct sb_media_engine_s {
    uv_loop_t *loop;            /* borrowed: the caller's */
    sb_media_events_t ev;
    struct sockaddr_storage bind_addr;
    char sdp_ip[64];
    int sdp_ipv6;
    unsigned port_min, port_max, next_port;
    uint64_t timeout_ms;
    uv_async_t done_async;      /* completions are queued */
    uv_mutex_t done_lock;
    sb__media_req_t *req_head;
    sb__media_req_t **req_tail;
    sb_media_endpoint_t *eps;
    int n_eps;
    sb__media_worker_t **workers;
    int n_workers;
    int next_worker;
    int workers_alive;
    int closing;
    sb_media_engine_closed_cb closed_cb;
    void *closed_arg;
    uint64_t rng;
};

/* engine.c */
uint32_t sb__media_random(uint64_t *rng);
/* Queues a completion or event for the engine's loop (any thread). */
void sb__media_post_req(sb_media_engine_t *e, sb__media_req_t *req);
void sb__media_post_done(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                         void *arg, int status);
/* worker.c */
/* Allocates opts.threads workers (at least one) and their clocks; no
 * handle yet. Returns 0, or a libuv error with nothing left allocated. */
int sb__media_workers_prepare(sb_media_engine_t *e, int threads);
/* Initialises the workers' handles and starts their threads. */
void sb__media_workers_run(sb_media_engine_t *e);
void sb__media_post_msg(sb__media_worker_t *w, sb__media_msg_t *m);
/* Closes a quitting worker's handles (its last recorder completed). */
void sb__media_worker_quit_now(sb__media_worker_t *w);
/* play.c, on the worker's loop */
/* Puts ep on its worker's clock; its next frame is due at due_ns
 * (CLOCK_MONOTONIC). No-op when already there. */
void sb__media_clock_add(sb_media_endpoint_t *ep, uint64_t due_ns);
void sb__media_clock_remove(sb_media_endpoint_t *ep);
/* Puts ep on the clock if it is not (a recorder needs its ticks). */
void sb__media_clock_keep(sb_media_endpoint_t *ep);
/* Takes ep off the clock when nothing needs its ticks any more. */
void sb__media_clock_maybe_remove(sb_media_endpoint_t *ep);
/* Something more (less) on w's clock: starts (stops) polling its timerfd
 * with the first (last). */
void sb__media_clock_ref(sb__media_worker_t *w);
void sb__media_clock_unref(sb__media_worker_t *w);
uint64_t sb__media_mono_ns(void);
/* mixer.c, on the worker's loop */
/* Visits slot's rooms: each mixes the frames that are due. */
void sb__media_rooms_visit(sb__media_worker_t *w, int slot, uint64_t *now,
                           uint64_t now_ms);
/* One audio packet of a member's phone (decoded). */
void sb__media_member_audio(sb_media_endpoint_t *ep, const sb__rtp_t *h,
                            const int16_t *pcm, size_t n);
/* ep is destroyed or moves away: it leaves its room. */
void sb__media_member_gone(sb_media_endpoint_t *ep);
void sb__media_room_msg(sb__media_worker_t *w, sb__media_msg_t *m);
/* The engine's loop: a room left its worker; an endpoint is freed. */
void sb__media_room_freed(sb_media_room_t *r);
void sb__media_room_forget_endpoint(sb_media_endpoint_t *ep);
void sb__media_play_queue(sb_media_endpoint_t *ep, sb__play_item_t *item);
void sb__media_play_stop(sb_media_endpoint_t *ep, int status);
void sb__media_dtmf_start(sb_media_endpoint_t *ep, const char *digits,
                          uint32_t dur_samples, sb_media_done_cb cb,
                          void *arg);
void sb__media_dtmf_finish(sb_media_endpoint_t *ep, int status);
/* Completes an RFC 4733 request (clears the caller's busy mark). */
void sb__media_post_dtmf_done(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                              void *arg, int status);

/* listen.c, on the worker's loop unless said */
void sb__media_listen_set(sb_media_endpoint_t *ep, const sb_media_listen_t *l);
void sb__media_listen_free(sb_media_endpoint_t *ep);
void sb__media_listen_update(sb_media_endpoint_t *ep);
/* One audio packet from ep's phone (G.711 payload, n bytes). */
void sb__media_listen_packet(sb_media_endpoint_t *ep, const sb__rtp_t *h,
                             const uint8_t *payload, size_t n, int alaw);
void sb__media_rec_start(sb__media_worker_t *w, sb_media_rec_t *r,
                         sb_media_endpoint_t *ep, sb_media_endpoint_t *other);
void sb__media_rec_tick(sb_media_rec_t *r);
/* A recorder with no endpoint input (a room's), made on the control side;
 * the room's worker starts it, pushes its mix each tick, ends it. */
sb_media_rec_t *sb__media_rec_new(sb_media_engine_t *e, sb__media_worker_t *cw,
                                  const sb_media_rec_opts_t *opts,
                                  sb_media_rec_done_cb cb, void *arg);
void sb__media_rec_start_room(sb__media_worker_t *w, sb_media_rec_t *r);
void sb__media_rec_push(sb_media_rec_t *r, const int16_t *pcm);
void sb__media_rec_room_gone(sb_media_rec_t *r);
void sb__media_rec_detach_all(sb_media_rec_t *r);
/* ep is destroyed or moves away: its recorder ends or loses an input. */
void sb__media_rec_endpoint_gone(sb_media_endpoint_t *ep);
/* The engine's loop: REC_DONE, and an endpoint freed before it. */
void sb__media_rec_delivered(sb_media_rec_t *r);
void sb__media_rec_forget_endpoint(sb_media_endpoint_t *ep);

/* relay.c, on the worker's loop */
/* The RTP socket's poll callback: reads one packet per readiness and
 * flushes queued sends when writable. */
void sb__media_on_rtp_poll(uv_poll_t *h, int status, int events);
/* Frees the RTP packets still queued (destroy). */
void sb__media_txq_clear(sb_media_endpoint_t *ep);
/* Connects the RTP socket to the latched address (on = 1), or dissolves
 * the association (on = 0) so that any source can reach it again. */
void sb__media_rtp_connect(sb_media_endpoint_t *ep, int on);
/* Un-connects a latched endpoint whose phone fell silent, so that it may
 * re-latch from a new address (sweep). */
void sb__media_relatch_check(sb_media_endpoint_t *ep, uint64_t now);
/* The RTCP socket's poll callback: counts reports, latches the source. */
void sb__media_on_rtcp_poll(uv_poll_t *h, int status, int events);
/* Sends one generated audio frame (payload in the endpoint's codec)
 * through its output stream. */
void sb__media_send_frame(sb_media_endpoint_t *ep, const uint8_t *payload,
                          size_t n, uint64_t now_ms);
/* Sends n bytes of p from ep's RTP (rtcp = 0) or RTCP socket to the
 * phone; counts in ep's stats. */
void sb__media_send(sb_media_endpoint_t *ep, int rtcp, const uint8_t *p,
                    size_t n);
/* Reports a digit ep's phone sent (RFC 4733 or in-band) up to the engine's
 * loop as events.on_dtmf, and counts it. No-op once ep is destroyed. */
void sb__media_post_digit(sb_media_endpoint_t *ep, char digit, int duration_ms);
/* Sends one generated telephone-event packet through ep's output stream. */
void sb__media_send_dtmf_packet(sb_media_endpoint_t *ep, int marker,
                                const sb__dtmf_t *ev);
/* Reports a telephone-event whose end packets never came (sweep). */
void sb__media_flush_dtmf(sb_media_endpoint_t *ep, uint64_t now);
/* Sends an RTCP sender report when one is due. */
void sb__media_rtcp_tick(sb_media_endpoint_t *ep, uint64_t now);

/* Returns 1 when a and b are the same IPv4/IPv6 address and port. */
int sb__media_addr_equal(const struct sockaddr *a, const struct sockaddr_storage *b);

#endif
