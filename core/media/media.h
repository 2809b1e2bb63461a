/*
 * media.h: the media engine. Every call leg talks RTP to the server, never
 * to the other party (DESIGN.md): a leg gets an endpoint (an RTP and an
 * RTCP socket from a port range), the SIP side turns SDP text into a plain
 * sb_media_desc_t with sb_media_sdp_parse() and back with
 * sb_media_sdp_write(), and call/ bridges two endpoints with
 * sb_media_connect(). The relay rewrites SSRC, sequence numbers and
 * timestamps so that each phone sees one continuous stream across
 * re-bridging, transcodes PCMU<->PCMA, relays RFC 4733 telephone-events and
 * reports them upward as digits.
 *
 * The API is message-shaped: requests that change the packet path
 * (connect, disconnect, send_dtmf, destroy) complete through a callback that
 * always runs later, from the loop, never from inside the request; so the
 * engine can move to worker threads without its users noticing. Offer and
 * answer only compute descriptions and return at once.
 *
 * Everything runs on the thread of the uv_loop_t given to the engine.
 */
#ifndef SB_MEDIA_H
#define SB_MEDIA_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

typedef struct sb_media_engine_s sb_media_engine_t;
typedef struct sb_media_endpoint_s sb_media_endpoint_t;

/* ---- descriptions (what SDP says, without SDP) ------------------------- */

typedef enum {
    SB_MEDIA_CODEC_NONE = 0,
    SB_MEDIA_PCMU,              /* G.711 mu-law, static pt 0 */
    SB_MEDIA_PCMA               /* G.711 A-law, static pt 8 */
} sb_media_codec_t;

/* Values match SDP's bits: "send" is bit 0 and "receive" bit 1, seen from
 * the side that wrote the description. */
typedef enum {
    SB_MEDIA_INACTIVE = 0,
    SB_MEDIA_SENDONLY = 1,
    SB_MEDIA_RECVONLY = 2,
    SB_MEDIA_SENDRECV = 3
} sb_media_dir_t;

#define SB_MEDIA_MAX_FORMATS 16

typedef struct sb_media_format_s {
    int pt;                     /* RTP payload type, 0..127 */
    char name[24];              /* encoding name: "PCMU", "telephone-event" */
    unsigned rate;              /* clock rate in Hz */
    unsigned channels;          /* 0 when not given (means 1) */
    char fmtp[64];              /* a=fmtp value for this pt, "" when none */
} sb_media_format_t;

/* One audio stream as described by SDP. Plain data, copied freely. */
typedef struct sb_media_desc_s {
    char addr[64];              /* c= address, an IPv4 or IPv6 literal */
    int ipv6;                   /* c=IN IP6 */
    unsigned port;              /* m= port; 0 means the stream is rejected */
    unsigned rtcp_port;         /* a=rtcp port, 0 when absent (port + 1) */
    sb_media_format_t formats[SB_MEDIA_MAX_FORMATS];  /* in m= order */
    int nformats;
    int dtmf_pt;                /* telephone-event/8000 pt, -1 when absent */
    sb_media_dir_t dir;         /* a=sendrecv etc.; default sendrecv */
    unsigned ptime;             /* a=ptime in ms, 0 when absent */
    uint64_t session_id;        /* o= session id */
    uint64_t session_version;   /* o= version */
} sb_media_desc_t;

/* Parses SDP text (borrowed; need not be NUL-terminated) and fills *out
 * with its first audio RTP/AVP stream (preferring one whose port is not 0).
 * Returns 0, or SB_EINVAL when the text is not SDP, or has no audio RTP/AVP
 * m-line, or its address is not an IP literal. Uses sofia-sip's parser; no
 * other media file sees sofia. */
int sb_media_sdp_parse(const char *text, size_t len, sb_media_desc_t *out);

/* Appends the SDP text of desc (borrowed) to out: v=, o=, s=, c=, t=, m=,
 * a=rtpmap and a=fmtp for each format, a=ptime, the direction. Lines end
 * in CRLF. Returns 0, or SB_EINVAL when desc is unusable (no formats, no
 * address). */
int sb_media_sdp_write(const sb_media_desc_t *desc, sb_buf_t *out);

/* ---- the engine --------------------------------------------------------- */

typedef struct sb_media_opts_s {
    const char *bind_ip;        /* local address; NULL: "127.0.0.1" */
    const char *sdp_ip;         /* address put in c=; NULL: bind_ip */
    int port_min;               /* even RTP ports from this; 0: 20000 */
    int port_max;               /* highest RTCP port; 0: 30000 */
    int timeout_s;              /* no-RTP timeout, seconds; 0: never */
} sb_media_opts_t;

/* Events the engine reports upward. Each callback may be NULL. They run on
 * the loop thread, from the packet path; they may call any function of this
 * header, including sb_media_endpoint_destroy() on ep. */
typedef struct sb_media_events_s {
    /* A telephone-event ended on ep (received from its phone). digit is one
     * of 0-9 * # A-D, or '!' for flash; duration_ms is the event's length. */
    void (*on_dtmf)(sb_media_endpoint_t *ep, char digit, int duration_ms,
                    void *arg);
    /* No RTP from ep's phone for opts.timeout_s seconds while the phone was
     * expected to send. Reported once; armed again when RTP comes back. */
    void (*on_timeout)(sb_media_endpoint_t *ep, void *arg);
    void *arg;                  /* passed to each event */
} sb_media_events_t;

typedef void (*sb_media_engine_closed_cb)(void *arg);
/* Completion of connect, disconnect, send_dtmf and destroy. ep is the
 * endpoint the request was made on; after destroy it is valid only during
 * the callback (to read its data pointer). status is 0, SB_ECANCELED when
 * the endpoint was destroyed first, or another negative code. */
typedef void (*sb_media_done_cb)(sb_media_endpoint_t *ep, int status,
                                 void *arg);

/* Creates an engine on loop (borrowed; must outlive the engine). opts and
 * events are borrowed and copied. Returns 0 and *out (owned; close with
 * sb_media_engine_close), SB_EINVAL for a bad address or port range, or a
 * libuv error. */
int sb_media_engine_new(uv_loop_t *loop, const sb_media_opts_t *opts,
                        const sb_media_events_t *events,
                        sb_media_engine_t **out);

/* Destroys every endpoint still alive (their pending requests complete with
 * SB_ECANCELED; no destroy callback is owed for endpoints the user did not
 * destroy), closes the engine's handles and frees it, then calls cb (may be
 * NULL) from the loop. */
void sb_media_engine_close(sb_media_engine_t *engine,
                           sb_media_engine_closed_cb cb, void *arg);

/* Number of live endpoints (for stats and tests). */
int sb_media_engine_endpoints(const sb_media_engine_t *engine);

/* ---- endpoints ---------------------------------------------------------- */

/* Binds a new endpoint: an even RTP port and the next odd port for RTCP,
 * taken from the engine's range (ports in use are skipped). Returns 0 and
 * *out (owned by the engine until sb_media_endpoint_destroy), SB_ELIMIT
 * when the range is exhausted, SB_ESTATE when the engine is closing. */
int sb_media_endpoint_create(sb_media_engine_t *engine,
                             sb_media_endpoint_t **out);

/* The user's pointer for ep (borrowed; the engine never touches it). */
void sb_media_endpoint_set_data(sb_media_endpoint_t *ep, void *data);
void *sb_media_endpoint_data(const sb_media_endpoint_t *ep);

/* Local RTP port of ep. */
unsigned sb_media_endpoint_port(const sb_media_endpoint_t *ep);

/* The "describe" requests. They only compute descriptions, so they return
 * at once; the packet path picks the result up for the next packet.
 *
 * offer: writes ep's offer to *local (PCMU, PCMA, telephone-event/8000 as
 * pt 101, ptime 20, sendrecv). Returns 0.
 *
 * answer: remote (borrowed) is the phone's offer. Picks the first of its
 * formats that the engine supports, writes the answer to *local and sets
 * where ep sends. Returns 0, SB_ECODEC when no codec is common (the SIP
 * side answers 488), SB_EINVAL for an unusable description.
 *
 * set_remote: remote (borrowed) is the phone's answer to ep's last
 * offer. Returns 0, SB_ECODEC when it names no codec that was offered,
 * SB_EINVAL for an unusable description (also: an address family other
 * than the engine's), SB_ESTATE before any offer.
 *
 * All three return SB_ESTATE once ep is being destroyed. A new remote
 * address un-latches symmetric RTP; the same one (a session refresh)
 * keeps the latched address.
 *
 * The o= version goes up by one whenever ep's description changes. */
int sb_media_endpoint_offer(sb_media_endpoint_t *ep, sb_media_desc_t *local);
int sb_media_endpoint_answer(sb_media_endpoint_t *ep,
                             const sb_media_desc_t *remote,
                             sb_media_desc_t *local);
int sb_media_endpoint_set_remote(sb_media_endpoint_t *ep,
                                 const sb_media_desc_t *remote);

/* Codec ep sends to its phone, SB_MEDIA_CODEC_NONE before negotiation. */
sb_media_codec_t sb_media_endpoint_codec(const sb_media_endpoint_t *ep);

/* Bridges a and b: packets from each phone are relayed to the other,
 * rewritten so each phone keeps seeing one continuous stream, transcoded
 * when the two chose different codecs. An endpoint bridged elsewhere is
 * taken from that bridge first (re-bridging, as for a transfer). cb (may
 * be NULL) runs once, later. Returns 0, or SB_EINVAL (a == b, different
 * engines), SB_ESTATE (an endpoint is being destroyed); cb is not called
 * then. */
int sb_media_connect(sb_media_endpoint_t *a, sb_media_endpoint_t *b,
                     sb_media_done_cb cb, void *arg);

/* Ends ep's bridge (both directions). Succeeds when ep is not bridged. cb
 * (may be NULL) runs once, later. Returns 0 or SB_ESTATE. */
int sb_media_disconnect(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                        void *arg);

/* Returns borrowed: the endpoint ep is bridged to, or NULL. */
sb_media_endpoint_t *sb_media_endpoint_peer(const sb_media_endpoint_t *ep);

/* Sends digits (borrowed, copied; 0-9 * # A-D, at most 32) to ep's phone as
 * RFC 4733 telephone-events of duration_ms each (40..5000; 0 means 100),
 * with three end packets and a pause after each. Audio relayed to ep is
 * held back meanwhile. cb (may be NULL) runs when the last end packet is
 * sent. Returns 0, SB_EINVAL (bad digit or length), SB_ECODEC (the phone
 * did not negotiate telephone-event), SB_EBUSY (digits still being sent),
 * SB_ESTATE (ep is being destroyed). */
int sb_media_endpoint_send_dtmf(sb_media_endpoint_t *ep, const char *digits,
                                int duration_ms, sb_media_done_cb cb,
                                void *arg);

typedef struct sb_media_stats_s {
    uint64_t rx_packets;        /* RTP packets from the phone */
    uint64_t rx_bytes;
    uint64_t rx_dropped;        /* malformed, wrong source, unknown pt */
    uint64_t rx_lost;           /* RFC 3550 cumulative loss, all sources */
    uint64_t rx_dtmf;           /* telephone-events reported */
    uint64_t rx_cn;             /* comfort noise packets (ignored) */
    uint64_t tx_packets;        /* RTP packets sent to the phone */
    uint64_t tx_bytes;
    uint64_t tx_dropped;        /* nowhere to send, or the send failed */
    uint64_t tx_queued;         /* sends that had to wait (socket full) */
    uint64_t rtcp_rx;
    uint64_t rtcp_tx;
    int latched;                /* 1 once symmetric RTP latched a source */
} sb_media_stats_t;

/* Copies ep's counters to *out. */
void sb_media_endpoint_stats(const sb_media_endpoint_t *ep,
                             sb_media_stats_t *out);

/* Disconnects ep, cancels its DTMF (SB_ECANCELED), closes its sockets and
 * frees it; cb (may be NULL) runs once when that is done. ep must not be
 * used after this call except inside cb. Returns 0 or SB_ESTATE (already
 * being destroyed). */
int sb_media_endpoint_destroy(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                              void *arg);

/* Returns borrowed (static) names: "PCMU", "sendrecv". */
const char *sb_media_codec_name(sb_media_codec_t codec);
const char *sb_media_dir_name(sb_media_dir_t dir);

#endif
