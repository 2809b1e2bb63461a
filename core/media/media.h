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
    int threads;                /* media workers, each a thread with its
                                   own loop; 0: run on the caller's loop
                                   (tests, tools) */
} sb_media_opts_t;

/* Events the engine reports upward. Each callback may be NULL. They run on
 * the loop thread, from the packet path; they may call any function of this
 * header, including sb_media_endpoint_destroy() on ep. */
typedef struct sb_media_events_s {
    /* A telephone-event ended on ep (received from its phone). digit is one
     * of 0-9 * # A-D, or '!' for flash; duration_ms is the event's length. */
    void (*on_dtmf)(sb_media_endpoint_t *ep, char digit, int duration_ms,
                    void *arg);
    /* A telephone-event began (its first packet): for barge-in, which
     * should not wait for the key to be released. on_dtmf still reports
     * the digit, once, when it ends. Not called for in-band digits (the
     * detector reports them once, when it is sure: on_dtmf). */
    void (*on_dtmf_begin)(sb_media_endpoint_t *ep, char digit, void *arg);
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

/* Mutes (or unmutes) ep's phone in its bridge: the audio it sends is no
 * longer relayed to the peer (its digits still are; a room has its own
 * mute, sb_media_room_mute). Returns 0 or SB_ESTATE (being destroyed). */
int sb_media_endpoint_mute(sb_media_endpoint_t *ep, int muted);

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
    double jitter_ms;           /* RFC 3550 interarrival jitter of the
                                   phone's audio */
    sb_media_codec_t codec;     /* what the phone was sent */
} sb_media_stats_t;

/* Call quality estimated from loss and jitter with the ITU-T G.107
 * E-model, simplified (no measured delay: 20 ms assumed): R in 0..93.2
 * and MOS in 1..4.5. loss_pct is 0..100. */
void sb_media_quality(double loss_pct, double jitter_ms, double *r, double *mos);

/* Copies ep's counters to *out. */
void sb_media_endpoint_stats(const sb_media_endpoint_t *ep,
                             sb_media_stats_t *out);

/* Disconnects ep, cancels its DTMF (SB_ECANCELED), closes its sockets and
 * frees it; cb (may be NULL) runs once when that is done. ep must not be
 * used after this call except inside cb. Returns 0 or SB_ESTATE (already
 * being destroyed). */
int sb_media_endpoint_destroy(sb_media_endpoint_t *ep, sb_media_done_cb cb,
                              void *arg);

/* ---- audio: decoded sound, ready to send (audio.c) ---------------------- */

/* A sound decoded once into 8 kHz mono, kept in the three forms the engine
 * sends or mixes: linear PCM16, mu-law and A-law, each nsamples long.
 * Immutable once made, and reference-counted with atomics, so the cache,
 * a player on a media worker and a TTS job may all hold it from different
 * threads. Owner: whoever holds a reference; the last unref frees it. */
typedef struct sb_media_audio_s {
    int refs;                   /* atomic; use ref/unref */
    size_t nsamples;            /* 8 kHz samples (160 per 20 ms frame) */
    int16_t *pcm;               /* linear */
    uint8_t *ulaw;              /* G.711 mu-law */
    uint8_t *alaw;              /* G.711 A-law */
    size_t bytes;               /* memory held, for cache accounting */
} sb_media_audio_t;

/* Limits a decode enforces. 0 fields take the defaults below. */
typedef struct sb_media_audio_limits_s {
    size_t max_bytes;           /* input size; default 32 MiB */
    unsigned max_seconds;       /* decoded length; default 3600 */
} sb_media_audio_limits_t;

/* Takes a new reference; returns a. */
sb_media_audio_t *sb_media_audio_ref(sb_media_audio_t *a);
/* Drops one reference (a may be NULL); frees on the last. Thread-safe. */
void sb_media_audio_unref(sb_media_audio_t *a);
/* Length in milliseconds. */
uint64_t sb_media_audio_ms(const sb_media_audio_t *a);

/* Makes audio from n samples of mono linear PCM (borrowed) at rate Hz
 * (8000..192000), resampled to 8 kHz with speexdsp. Returns 0 and *out
 * (one reference, owned), SB_EINVAL for a bad rate, SB_ETOOBIG past
 * 3600 s. Blocking CPU work: call it off the event loop for long input. */
int sb_media_audio_from_pcm(const int16_t *pcm, size_t n, unsigned rate,
                            sb_media_audio_t **out);

/* Sniffs data's first bytes: returns "wav", "mp3", or NULL when they are
 * neither (RIFF/WAVE, ID3 tag or an MPEG audio frame sync; also AU, AIFF
 * and FLAC as "au", "aiff", "flac", which libsndfile reads too). Pure. */
const char *sb_media_audio_sniff(const void *data, size_t len);

/* Decodes a whole file held in memory (borrowed): WAV (PCM 8/16/24/32 bit,
 * float, mu-law, A-law, any rate and channel count) or MP3, through
 * libsndfile; mixes down to mono and resamples to 8 kHz. content_type
 * (may be NULL) is only a hint: the bytes decide. lim may be NULL.
 * Returns 0 and *out (owned reference); SB_EFORMAT when the bytes are not
 * audio, are corrupt or truncated, or decode to nothing; SB_ETOOBIG past
 * a limit. When why is not NULL, a one-line reason is written there on
 * failure ("not a WAV or MP3 file", "truncated data chunk"). Blocking:
 * call it from the thread pool, never from a loop thread. */
int sb_media_audio_decode(const void *data, size_t len,
                          const char *content_type,
                          const sb_media_audio_limits_t *lim,
                          sb_media_audio_t **out, char *why, size_t whylen);

/* ---- text-to-speech (tts.c) ---------------------------------------------- */

typedef struct sb_media_tts_s sb_media_tts_t;
typedef struct sb_media_tts_req_s sb_media_tts_req_t;

typedef struct sb_media_tts_opts_s {
    size_t cache_bytes;         /* memory for synthesized prompts; 0: 64 MiB */
    size_t max_chars;           /* longest text; 0: 4096 */
    const char *data_path;      /* espeak-ng data; NULL: the library's.
                                   espeak-ng starts once per process: every
                                   later synthesizer must name the same */
} sb_media_tts_opts_t;

/* Set in done's flags when the language was not known and English was
 * used instead (the caller writes a Notification). */
#define SB_MEDIA_TTS_LANG_FALLBACK 1

/* status 0: audio is one reference, owned by the callee (unref it).
 * Otherwise audio is NULL and status is SB_EINVAL (empty text), SB_ETOOBIG
 * (too long), SB_EMEDIA (the synthesizer failed) or SB_ECANCELED. Runs on
 * the loop given to sb_media_tts_new, never inside sb_media_tts_synth. */
typedef void (*sb_media_tts_done_cb)(int status, sb_media_audio_t *audio,
                                     int flags, void *arg);
typedef void (*sb_media_tts_closed_cb)(void *arg);

/* Starts the synthesizer: one dedicated thread owns espeak-ng (it keeps
 * global state, so never more than one). Completions come back on loop
 * (borrowed). Returns 0 and *out (owned: sb_media_tts_close), SB_EMEDIA
 * when espeak-ng cannot start (no data, or other data than it was first
 * started with), or SB_EBUSY while another
 * synthesizer of the process is alive (until its close returns). The
 * synthesizer keeps loop alive only while a request awaits its callback. */
int sb_media_tts_new(uv_loop_t *loop, const sb_media_tts_opts_t *opts,
                     sb_media_tts_t **out);

/* Maps Restcomm's and Twilio's voice ("man", "woman", "alice", "Polly.*"
 * and others: man) and language ("en", "en-US", "en-gb", "es", "fr-FR",
 * "pt-BR", ...; NULL: "en") to an espeak-ng voice name written to out
 * ("en-us", "en-gb-x-rp", "es", ...; "+f2" appended for a woman). Returns
 * 1 when the language was known, 0 when out falls back to English. Pure. */
int sb_media_tts_voice(const char *voice, const char *language, char *out,
                       size_t outlen);

/* Synthesizes text (borrowed, UTF-8; SSML is not interpreted) or returns
 * the cached audio of the same text in the same espeak-ng voice, always
 * through cb, later. Concurrent requests for one key share one synthesis.
 * cb may be NULL (a prefetch: the result is only cached). Returns 0 and,
 * when req is not NULL, *req (borrowed; valid until cb runs or
 * sb_media_tts_cancel), or
 * SB_EINVAL (empty or whitespace-only text) / SB_ETOOBIG (longer than
 * max_chars, counted in UTF-8 code points) / SB_ESTATE (closing) without
 * calling cb. */
int sb_media_tts_synth(sb_media_tts_t *tts, const char *text,
                       const char *voice, const char *language,
                       sb_media_tts_done_cb cb, void *arg,
                       sb_media_tts_req_t **req);

/* cb of req then runs with SB_ECANCELED, later (never inside this call).
 * A synthesis under way goes on and its result is cached. */
void sb_media_tts_cancel(sb_media_tts_req_t *req);

typedef struct sb_media_tts_stats_s {
    uint64_t requests;          /* sb_media_tts_synth calls accepted */
    uint64_t hits;              /* served from the cache */
    uint64_t joined;            /* waited on a synthesis already queued */
    uint64_t syntheses;         /* texts given to espeak-ng */
    uint64_t failures;          /* syntheses that failed */
    uint64_t evictions;         /* cached prompts dropped for room */
    uint64_t entries;           /* cached prompts now */
    uint64_t bytes;             /* their memory */
} sb_media_tts_stats_t;

/* Copies tts's counters to *out. */
void sb_media_tts_stats(const sb_media_tts_t *tts, sb_media_tts_stats_t *out);

/* Cancels every request (SB_ECANCELED), stops the thread, frees, then
 * calls cb (may be NULL) from the loop. */
void sb_media_tts_close(sb_media_tts_t *tts, sb_media_tts_closed_cb cb,
                        void *arg);

/* ---- the audio cache (cache.c) -------------------------------------------- */

/* How the cache reaches the network: the http module's client, adapted in
 * server.c (media/ never includes http.h). The cache asks for one URL at
 * a time per entry; fetch calls done exactly once, later, unless it
 * returns an error. */
typedef struct sb_media_fetch_result_s {
    int status;                 /* HTTP status (200, 304, 404, ...) */
    const char *content_type;   /* header values, NULL when absent */
    const char *etag;
    const char *last_modified;
    const char *cache_control;
    const char *expires;
    const char *date;
    const void *body;           /* borrowed for the callback's duration */
    size_t len;
} sb_media_fetch_result_t;

/* err: 0 (res set), SB_ENETWORK (no connection, DNS, reset),
 * SB_ETIMEDOUT, SB_ETOOBIG (body over max_bytes), SB_ECANCELED. */
typedef void (*sb_media_fetch_done_cb)(int err,
                                       const sb_media_fetch_result_t *res,
                                       void *arg);

typedef struct sb_media_fetcher_s {
    /* GET url; if_none_match and if_modified_since (may be NULL) are the
     * validators of a cached copy. *handle is for cancel. */
    int (*fetch)(void *ctx, const char *url, const char *if_none_match,
                 const char *if_modified_since, size_t max_bytes,
                 sb_media_fetch_done_cb done, void *arg, void **handle);
    /* Stops the fetch of handle; its done still runs once, later (with
     * SB_ECANCELED, or the result when it had already finished). May be
     * NULL: the download then runs to its end and is discarded. */
    void (*cancel)(void *ctx, void *handle);
    void *ctx;
} sb_media_fetcher_t;

typedef struct sb_media_cache_s sb_media_cache_t;
typedef struct sb_media_cache_req_s sb_media_cache_req_t;

typedef struct sb_media_cache_opts_s {
    const char *dir;            /* on-disk copies; NULL: memory only */
    const char *media_root;     /* file:// URLs must be under it; NULL:
                                   file:// refused */
    size_t mem_bytes;           /* decoded audio kept; 0: 256 MiB */
    size_t disk_bytes;          /* on-disk copies kept; 0: 1 GiB */
    size_t max_file_bytes;      /* one download; 0: 32 MiB */
    unsigned max_seconds;       /* decoded length; 0: 3600 */
    unsigned default_ttl_s;     /* lifetime when the response has
                                   validators but no max-age/Expires;
                                   0 = revalidate on each use */
} sb_media_cache_opts_t;

/* Detail of a failure, for the Notification the caller writes. */
typedef struct sb_media_cache_error_s {
    int http_status;            /* the origin's status, 0 when none */
    char why[160];              /* one line */
} sb_media_cache_error_t;

/* status 0: audio is one owned reference. Otherwise audio is NULL and
 * status is SB_ENETWORK / SB_ETIMEDOUT (unreachable), SB_ENOENT (404 or
 * other 4xx/5xx; err->http_status tells), SB_EFORMAT (not audio, corrupt),
 * SB_ETOOBIG (over a limit), SB_EPERM (file:// outside media_root, or a
 * scheme other than http, https and file), SB_EINVAL (not a URL) or
 * SB_ECANCELED. err is borrowed for the call. Runs on the cache's loop,
 * never inside sb_media_cache_get. */
typedef void (*sb_media_cache_done_cb)(int status, sb_media_audio_t *audio,
                                       const sb_media_cache_error_t *err,
                                       void *arg);
typedef void (*sb_media_cache_closed_cb)(void *arg);

/* Creates the cache on loop (borrowed). opts and fetcher (may be NULL:
 * file:// only) are copied. Returns 0 and *out (owned:
 * sb_media_cache_close), or SB_EIO when dir cannot be created or
 * media_root does not exist. With dir, the copies already there are
 * found again (in the thread pool; http gets wait for that). */
int sb_media_cache_new(uv_loop_t *loop, const sb_media_cache_opts_t *opts,
                       const sb_media_fetcher_t *fetcher,
                       sb_media_cache_t **out);

/* Gets url's audio (RFC 9111 rules, simplified): a fresh entry is served
 * from memory (or disk, decoded again); a stale one with validators is
 * revalidated (If-None-Match / If-Modified-Since, 304 keeps it); no-store,
 * or no lifetime and no validators: fetched each time and not kept. When
 * a revalidation finds the origin unreachable (or 5xx), a stale copy in
 * memory is served unless it said must-revalidate or no-cache. A file://
 * URL is checked against media_root on every get and served from memory
 * while the file's mtime and size are unchanged. One download serves
 * every concurrent request for the url. Decoding runs in the thread pool.
 * Returns 0 and *req (may be NULL; borrowed until cb), or SB_EINVAL
 * (cache, url or cb NULL) / SB_ESTATE (closing) without calling cb; every
 * other failure, a bad URL included, comes through cb. */
int sb_media_cache_get(sb_media_cache_t *cache, const char *url,
                       sb_media_cache_done_cb cb, void *arg,
                       sb_media_cache_req_t **req);

/* cb of req runs with SB_ECANCELED, later. The download goes on for the
 * other requesters (or, with none left, is cancelled). */
void sb_media_cache_cancel(sb_media_cache_req_t *req);

/* hits: gets answered without asking the origin (memory, disk, file);
 * misses: the others; downloads: requests sent to the fetcher, of which
 * revalidated were conditional and not_modified got a 304; errors: gets
 * that failed (not counting cancels). entries, mem_bytes and disk_bytes
 * are the current sizes. */
typedef struct sb_media_cache_stats_s {
    uint64_t hits, misses, revalidated, not_modified, downloads, errors;
    uint64_t entries, mem_bytes, disk_bytes;
} sb_media_cache_stats_t;
void sb_media_cache_stats(const sb_media_cache_t *cache,
                          sb_media_cache_stats_t *out);

/* Forgets url (NULL: everything), in memory and on disk. Requests under
 * way finish normally. */
void sb_media_cache_purge(sb_media_cache_t *cache, const char *url);

/* Cancels every request (SB_ECANCELED), frees, calls cb from the loop. */
void sb_media_cache_close(sb_media_cache_t *cache,
                          sb_media_cache_closed_cb cb, void *arg);

/* ---- playback on an endpoint (play.c, on the worker's clock) ------------ */

/* What an endpoint plays towards its phone instead of the relayed stream.
 * Exactly one of audio, tone and digits is set; with none, silence. */
typedef struct sb_media_play_s {
    sb_media_audio_t *audio;    /* borrowed; the request takes a reference */
    const char *tone;           /* "ringback", "busy", "beep", "dialtone",
                                   optionally ":<country>" ("ringback:gb";
                                   default us); copied */
    const char *digits;         /* DTMF as in-band tones, 'w' = 500 ms
                                   pause; copied, at most 64 */
    int loop;                   /* times to play; 0: until stopped
                                   (tones and silence: see ms) */
    unsigned ms;                /* tone or silence length; 0: until stopped
                                   or, for audio and digits, unused */
} sb_media_play_t;

/* Queues src on ep: plays start one after another without a gap, each
 * frame sent on the worker's 20 ms clock (frames later than one tick are
 * counted, see stats). Relayed audio towards ep's phone is held back while
 * ep plays. cb (may be NULL) runs once, later, on the caller's loop: 0 when
 * src finished, SB_ECANCELED when stopped (sb_media_endpoint_stop) or the
 * endpoint was destroyed. Returns 0, SB_EINVAL (nothing valid to play:
 * unknown tone, bad digit, loop < 0), SB_ESTATE (ep is being destroyed);
 * cb is not called then. */
int sb_media_endpoint_play(sb_media_endpoint_t *ep, const sb_media_play_t *src,
                           sb_media_done_cb cb, void *arg);

/* Stops what ep plays and empties its queue: each cb gets SB_ECANCELED.
 * Relaying resumes. Returns 0 (also when nothing plays) or SB_ESTATE. */
int sb_media_endpoint_stop(sb_media_endpoint_t *ep);

/* Clock statistics of the engine's workers, summed. */
typedef struct sb_media_clock_stats_s {
    uint64_t ticks;             /* clock expirations handled */
    uint64_t missed_ticks;      /* expirations that came together */
    uint64_t frames;            /* generated frames sent */
    uint64_t late_frames;       /* sent more than 5 ms after their time */
    uint64_t playing;           /* endpoints playing now */
} sb_media_clock_stats_t;
void sb_media_engine_clock_stats(const sb_media_engine_t *engine,
                                 sb_media_clock_stats_t *out);

/* ---- listening to a phone (listen.c, on the endpoint's worker) ----------- */

/* Called on the endpoint's WORKER thread (not the caller's loop) with each
 * packet of audio the phone sends, decoded to 8 kHz linear PCM (n is the
 * packet's samples, usually 160). It must not block: copy and return. */
typedef void (*sb_media_tap_cb)(const int16_t *pcm, size_t n, void *arg);

/* What to do with the audio ep's phone sends, besides relaying it. */
typedef struct sb_media_listen_s {
    /* Detect DTMF in the audio (spandsp's receiver) when the phone did
     * not negotiate telephone-event; digits are reported as
     * events.on_dtmf, like RFC 4733 ones. A phone that negotiated
     * telephone-event is never run through the in-band detector too, so
     * a digit cannot be counted twice. */
    int dtmf;
    sb_media_tap_cb tap;        /* may be NULL */
    void *tap_arg;
} sb_media_listen_t;

/* Replaces what ep listens for with *l (NULL: nothing). cb (may be NULL)
 * runs once, later, when the worker applied it: after that the previous
 * tap is never called again, so its arg may be freed there. Returns 0 or
 * SB_ESTATE (ep is being destroyed; cb is not called). */
int sb_media_endpoint_listen(sb_media_endpoint_t *ep,
                             const sb_media_listen_t *l, sb_media_done_cb cb,
                             void *arg);

/* ---- recording (listen.c) --------------------------------------------------- */

/* A recorder writes what one phone (or the two phones of a bridge) sends
 * to a WAV file (16-bit linear PCM, 8 kHz), on its worker's clock: each
 * input goes through a small buffer ordered by RTP timestamp (120 ms of
 * delay absorbs arrival jitter; a lost packet is silence), and every
 * 20 ms one frame of each input is taken, so the file runs in real time
 * even while a phone sends nothing. File writes run in libuv's thread
 * pool, a second of audio at a time; the worker never waits on the
 * disk. */
typedef struct sb_media_rec_s sb_media_rec_t;

typedef struct sb_media_rec_opts_s {
    const char *path;           /* WAV file to create, mode 0600; copied */
    sb_media_endpoint_t *other; /* a second input (a bridge's other leg),
                                   or NULL; ignored when it is not on the
                                   same worker as ep when recording
                                   starts */
    int dual;                   /* with other (or sent): two channels (ep
                                   left, the other right) instead of
                                   mixed mono */
    int sent;                   /* instead of other: what is sent to ep's
                                   phone (relayed or played), so the file
                                   holds both sides of the call */
    unsigned max_ms;            /* stop after this much audio; 0: none */
    unsigned silence_ms;        /* stop after this much silence from ep;
                                   0: never. Silence is energy within
                                   12 dB of an adaptive noise floor (it
                                   rises 5 dB/s, falls at once) or below
                                   -55 dBFS, so a steady background
                                   noise cannot hold a recording open */
    int trim;                   /* cut trailing silence from the file */
} sb_media_rec_opts_t;

typedef enum {
    SB_MEDIA_REC_STOPPED = 0,   /* sb_media_record_stop */
    SB_MEDIA_REC_SILENCE,       /* silence_ms of silence */
    SB_MEDIA_REC_MAX_LENGTH,    /* max_ms reached */
    SB_MEDIA_REC_HANGUP,        /* ep was destroyed (or moved to another
                                   worker by a re-bridge) */
    SB_MEDIA_REC_ERROR          /* the file could not be opened or
                                   written: see status and why */
} sb_media_rec_reason_t;

typedef struct sb_media_rec_result_s {
    int status;                 /* 0, or SB_EIO: the file failed (what was
                                   written before is kept, with a valid
                                   header when possible) */
    sb_media_rec_reason_t reason;
    uint64_t duration_ms;       /* audio in the file (after trimming) */
    uint64_t voice_ms;          /* audio above the noise floor */
    uint64_t frames;            /* frames taken from the inputs */
    uint64_t missing_frames;    /* frames with no packet for an input
                                   that had started (loss, a late packet,
                                   a phone that paused, the end) */
    uint64_t late_packets;      /* came after their frame was written */
    uint64_t dropped_frames;    /* not written: the disk fell behind */
    const char *why;            /* one line when status != 0; borrowed */
} sb_media_rec_result_t;

/* Runs on the engine's loop, once; rec is freed after it returns. */
typedef void (*sb_media_rec_done_cb)(sb_media_rec_t *rec,
                                     const sb_media_rec_result_t *r,
                                     void *arg);

/* Starts recording ep (and opts->other). The file is created in the
 * thread pool; when that fails, cb reports SB_MEDIA_REC_ERROR. Returns 0
 * and *out (borrowed; valid until cb returns), SB_EINVAL (no path, other
 * == ep or of another engine), SB_EBUSY (ep is recording already),
 * SB_ESTATE (ep is being destroyed); cb is not called then. */
int sb_media_record_start(sb_media_endpoint_t *ep,
                          const sb_media_rec_opts_t *opts,
                          sb_media_rec_done_cb cb, void *arg,
                          sb_media_rec_t **out);

/* Ends the recording: the file is completed and cb runs (reason STOPPED
 * unless it had ended already). Call only before cb ran. */
void sb_media_record_stop(sb_media_rec_t *rec);

/* ---- conference rooms (mixer.c) ----------------------------------------------- */

/* A room mixes its members on one worker's 20 ms clock (no thread or
 * timer per room): each member hears the sum of the others (N-1) in
 * 32-bit arithmetic, clipped; only members who are talking are summed (an
 * energy gate, -48 dBFS, with 200 ms of hang-over so that syllables are
 * not clipped); members who contribute nothing share one mixed frame,
 * encoded once per codec. Each member's audio goes through a 60 ms
 * fixed-delay jitter buffer first (ring.c); members may use PCMU and PCMA
 * in one room. A member that plays something of its own (the wait music:
 * sb_media_endpoint_play) hears that instead of the room meanwhile, and
 * is still heard by the others unless muted. */
typedef struct sb_media_room_s sb_media_room_t;

/* Creates an empty room on the least loaded worker. Returns 0 and *out
 * (owned: sb_media_room_destroy), or SB_ESTATE when the engine closes. */
int sb_media_room_new(sb_media_engine_t *engine, sb_media_room_t **out);

/* ep joins r (muted: heard by nobody). ep leaves its bridge and moves to
 * r's worker if needed. cb (may be NULL) runs once, later. Returns 0,
 * SB_EINVAL (another engine), SB_EBUSY (ep is in a room), SB_ESTATE (ep
 * or r being destroyed). */
int sb_media_room_join(sb_media_room_t *r, sb_media_endpoint_t *ep,
                       int muted, sb_media_done_cb cb, void *arg);
/* ep leaves r; cb (may be NULL) runs once, later. Returns 0 or SB_EINVAL
 * (not a member). Destroying a member's endpoint also takes it out. */
int sb_media_room_leave(sb_media_room_t *r, sb_media_endpoint_t *ep,
                        sb_media_done_cb cb, void *arg);
/* Mutes or unmutes member ep. Returns 0 or SB_EINVAL (not a member). */
int sb_media_room_mute(sb_media_room_t *r, sb_media_endpoint_t *ep, int muted);
/* Queues src, mixed into what every member hears (the join beep, an
 * announcement). cb (ep NULL) runs when it ended or was dropped with the
 * room. Returns 0, SB_EINVAL, SB_ESTATE. */
int sb_media_room_play(sb_media_room_t *r, const sb_media_play_t *src,
                       sb_media_done_cb cb, void *arg);
/* Members still in r leave it (their endpoints live on); r is freed and
 * cb (may be NULL) runs later. r must not be used after this call. */
void sb_media_room_destroy(sb_media_room_t *r, void (*cb)(void *arg),
                           void *arg);
/* Records everything r mixes (all members and what r plays) to a WAV
 * file, as sb_media_record_start does (opts->other must be NULL); it ends
 * with sb_media_record_stop, max_ms, or the room's destroy (reason
 * HANGUP). Returns 0 and *out, SB_EINVAL, SB_ESTATE. */
int sb_media_room_record(sb_media_room_t *r, const sb_media_rec_opts_t *opts,
                         sb_media_rec_done_cb cb, void *arg,
                         sb_media_rec_t **out);
/* Members joined (control side's count). */
int sb_media_room_members(const sb_media_room_t *r);

/* Rooms' clock statistics, summed over the engine's workers. */
typedef struct sb_media_mix_stats_s {
    uint64_t ticks;             /* room frames mixed */
    uint64_t late;              /* of which more than 5 ms late */
    uint64_t member_frames;     /* member frames handled */
} sb_media_mix_stats_t;
void sb_media_engine_mix_stats(const sb_media_engine_t *engine,
                               sb_media_mix_stats_t *out);

/* GET /metrics: appends the per-worker families (RTP packets received and
 * sent, loss, jitter, late generated frames) to out in Prometheus' text
 * format. Engine's loop only; safe while the engine is closing. */
struct sb_buf_s;
void sb_media_engine_write_metrics(const sb_media_engine_t *engine, struct sb_buf_s *out);

/* Returns borrowed (static) names: "PCMU", "sendrecv". */
const char *sb_media_codec_name(sb_media_codec_t codec);
const char *sb_media_dir_name(sb_media_dir_t dir);

#endif
