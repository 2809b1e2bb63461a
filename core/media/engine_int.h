/*
 * engine_int.h: the engine's and the endpoint's structs, shared by
 * engine.c (lifecycle, requests, timers) and relay.c (the packet path).
 * Not a public header.
 *
 * Ownership: the engine owns every endpoint (a list); an endpoint owns its
 * three handles, embedded. An endpoint is unlinked and freed only from the
 * completion queue, after its handles are closed, so that completions
 * queued before its destroy still see it alive.
 */
#ifndef SB_MEDIA_ENGINE_INT_H
#define SB_MEDIA_ENGINE_INT_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "media_int.h"

#define SB__RXBUF_SIZE 4096
#define SB__DTMF_MAX_DIGITS 32
#define SB__MAX_QUEUED_SENDS 64

/* An RTP packet the kernel could not take yet (send buffer full), kept in
 * order until the socket is writable again. */
typedef struct sb__txq_s {
    struct sb__txq_s *next;
    size_t len;
    uint8_t data[];
} sb__txq_t;

typedef enum {
    SB__REQ_DONE = 0,           /* call cb(ep, status) */
    SB__REQ_FREE_EP             /* call cb(ep, 0), then free ep */
} sb__req_kind_t;

/* One completion waiting to be delivered from the loop. */
typedef struct sb__media_req_s {
    struct sb__media_req_s *next;
    sb__req_kind_t kind;
    sb_media_endpoint_t *ep;
    sb_media_done_cb cb;
    void *arg;
    int status;
    int embedded;               /* part of the endpoint: not freed alone */
} sb__media_req_t;

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

/* Digits being generated towards the phone. */
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

/* Field order matters: the first block is what every relayed packet reads
 * or writes, on the endpoint it came in on and on its peer, kept together
 * so that a packet touches a few cache lines of each (with 4,000 endpoints
 * the working set does not fit the cache, and a scattered layout cost a
 * miss per field). Everything after it is set-up, timers and DTMF. */
struct sb_media_endpoint_s {
    /* ---- the packet path ---- */
    /* The RTP socket is read and written directly (one recv per
     * readiness, send), not through uv_udp_t: at 50 packets/s per socket
     * libuv's read-until-EAGAIN doubles the receive syscalls. */
    uv_poll_t rtp;
    sb_media_engine_t *engine;
    sb_media_endpoint_t *peer;  /* bridged to, borrowed */
    int rtp_fd;                 /* owned; closed after the poll handle */
    int destroying;
    int connected;              /* rtp_fd is connect()ed to remote */
    int latched, rtcp_latched;
    int has_remote;             /* remote holds a usable address */
    int can_send;               /* ... and the phone wants media */
    int timed_out;
    uint64_t last_rx_ms;
    sb__txq_t *txq_head;        /* RTP packets waiting for POLLOUT */
    sb__txq_t **txq_tail;
    int txq_len;
    sb__nego_t nego;            /* rx_kind[pt], codec, tx_pt */
    sb__outstream_t out;
    sb__rxstats_t rx;
    sb_media_stats_t st;
    sb__dtmf_tx_t txd;          /* .active */
    struct sockaddr_storage remote;         /* RTP destination (latched) */
    sb__dtmf_rx_t rxd;

    /* ---- the rest ---- */
    sb_media_endpoint_t *prev, *next;   /* engine's list */
    uv_udp_t rtcp;
    uv_timer_t dtmf_timer;
    int open_handles;
    void *data;                 /* the user's, borrowed */
    unsigned port;

    /* offer/answer */
    sb__local_t local;          /* last description we produced */
    int has_local;
    uint64_t sess_id, sess_ver;

    /* the phone */
    struct sockaddr_storage sdp_remote;     /* RTP address the SDP gave */
    struct sockaddr_storage remote_rtcp;
    int has_sdp_remote;
    int expect_rx;              /* the phone said it sends */

    uint64_t next_rtcp_ms;
    uint32_t rtcp_expected_prior, rtcp_received_prior;

    sb__media_req_t free_req;   /* the destroy completion */
};

struct sb_media_engine_s {
    uv_loop_t *loop;            /* borrowed */
    sb_media_events_t ev;
    struct sockaddr_storage bind_addr;
    char sdp_ip[64];
    int sdp_ipv6;
    unsigned port_min, port_max, next_port;
    uint64_t timeout_ms;
    uv_timer_t sweep;
    uv_idle_t idle;             /* runs while completions are queued */
    sb__media_req_t *req_head;
    sb__media_req_t **req_tail;
    sb_media_endpoint_t *eps;
    int n_eps;
    int closing;
    int open_handles;
    sb_media_engine_closed_cb closed_cb;
    void *closed_arg;
    uint64_t rng;
    uint8_t rxbuf[SB__RXBUF_SIZE] __attribute__((aligned(16)));
};

/* engine.c */
uint32_t sb__media_random(sb_media_engine_t *engine);

/* relay.c */
void sb__media_alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf);
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
void sb__media_on_rtcp(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
                       const struct sockaddr *addr, unsigned flags);
/* Sends n bytes of p from ep's RTP (rtcp = 0) or RTCP socket to the
 * phone; counts in ep's stats. */
void sb__media_send(sb_media_endpoint_t *ep, int rtcp, const uint8_t *p,
                    size_t n);
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
