/*
 * media_int.h: what the files of core/media share, and what the unit tests
 * reach into: G.711, the RTP header, RFC 4733 events, the output-stream
 * rewriter, receive statistics and offer/answer. Pure functions only; the
 * engine's structs stay in engine.c and relay.c (media_engine.h).
 * Not a public header: nothing outside core/media and tests/ includes it.
 */
#ifndef SB_MEDIA_INT_H
#define SB_MEDIA_INT_H

#include <stddef.h>
#include <stdint.h>

#include "media.h"

/* ---- G.711 (g711.c) ------------------------------------------------------ */

/* Builds the transcoding tables; idempotent, thread-safe. The engine calls
 * it at creation; the table users below need it first. */
void sb__media_g711_init(void);

uint8_t sb__media_linear_to_ulaw(int16_t pcm);
int16_t sb__media_ulaw_to_linear(uint8_t u);
uint8_t sb__media_linear_to_alaw(int16_t pcm);
int16_t sb__media_alaw_to_linear(uint8_t a);

/* The 256-entry tables (after sb__media_g711_init). */
extern uint8_t sb__media_ulaw_to_alaw[256];
extern uint8_t sb__media_alaw_to_ulaw[256];

/* Transcodes n bytes in place from one G.711 law to the other (no-op when
 * from == to). */
void sb__media_g711_transcode(uint8_t *p, size_t n, sb_media_codec_t from,
                              sb_media_codec_t to);

/* ---- RTP (rtp.c) ---------------------------------------------------------- */

#define SB__RTP_HDR 12
#define SB__RTP_CLOCK_KHZ 8     /* every codec we handle is 8 kHz */
#define SB__RTP_DEFAULT_SAMPLES 160

typedef struct sb__rtp_s {
    int marker;
    int pt;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
    size_t payload_off;         /* after CSRCs and the header extension */
    size_t payload_len;         /* without padding */
} sb__rtp_t;

/* Parses the RTP header of p (n bytes). Returns 0, or SB_EINVAL when it is
 * not RTP version 2 or its lengths do not add up. */
int sb__rtp_parse(const uint8_t *p, size_t n, sb__rtp_t *out);

/* Returns 1 when p looks like RTCP (RFC 5761 section 4: pt 192..223). */
int sb__rtp_is_rtcp(const uint8_t *p, size_t n);

/* Writes a plain 12-byte header (version 2, no padding, extension or
 * CSRCs) into p. */
void sb__rtp_write_header(uint8_t *p, int marker, int pt, uint16_t seq,
                          uint32_t ts, uint32_t ssrc);
/* Rewrites marker, pt, seq, ts and ssrc of an existing header in place,
 * keeping its padding, extension and CSRC count. */
void sb__rtp_rewrite(uint8_t *p, int marker, int pt, uint16_t seq,
                     uint32_t ts, uint32_t ssrc);

/* RFC 4733 telephone-event payload. */
typedef struct sb__dtmf_s {
    int event;                  /* 0..255; 0-16 are the DTMF events */
    int end;                    /* E bit */
    int volume;                 /* 0..63 (-dBm0) */
    uint16_t duration;          /* in timestamp units */
} sb__dtmf_t;

#define SB__DTMF_PAYLOAD 4

/* Parses a telephone-event payload. Returns 0 or SB_EINVAL (too short). */
int sb__dtmf_parse(const uint8_t *p, size_t n, sb__dtmf_t *out);
/* Writes the 4-byte payload. */
void sb__dtmf_build(uint8_t *p, const sb__dtmf_t *ev);
/* '0'..'9' '*' '#' 'A'..'D' (either case) and '!' -> event, or -1. */
int sb__dtmf_event_of(char digit);
/* Event 0..16 -> its character, or 0 for other events. */
char sb__dtmf_digit_of(int event);

/* The stream ep sends to its phone: one SSRC for the endpoint's life, and
 * the offsets that map the current source's sequence and timestamp onto
 * it. A source change (re-bridge, new source SSRC, generated DTMF) makes
 * the next packet continue at last seq + 1 and last timestamp + the time
 * that passed (at least one packet), with the marker bit set. */
typedef struct sb__outstream_s {
    uint32_t ssrc;              /* ours, random */
    int started;                /* a packet was sent */
    uint16_t last_seq;
    uint32_t last_ts;
    uint64_t last_ms;           /* clock of last_ts */
    uint32_t last_samples;      /* duration of the last audio packet */
    int mapped;                 /* offsets below valid for src_ssrc */
    uint32_t src_ssrc;
    uint16_t seq_off;
    uint32_t ts_off;
} sb__outstream_t;

/* Starts a stream with SSRC ssrc and random first seq and ts. */
void sb__outstream_init(sb__outstream_t *os, uint32_t ssrc, uint16_t seq0,
                        uint32_t ts0);
/* Forgets the current source: the next packet starts a new mapping. */
void sb__outstream_reset(sb__outstream_t *os);
/* Maps one packet from source src_ssrc. samples is the packet's duration
 * (0 for telephone-events, whose timestamp does not advance). Writes the
 * output seq and ts, and sets *marker to 1 on the first packet of a new
 * mapping (leaves it alone otherwise). */
void sb__outstream_map(sb__outstream_t *os, uint32_t src_ssrc, uint16_t seq,
                       uint32_t ts, uint32_t samples, uint64_t now_ms,
                       uint16_t *out_seq, uint32_t *out_ts, int *marker);

/* RFC 3550 appendix A.1 receive statistics of one source at a time. */
typedef struct sb__rxstats_s {
    int init;
    uint32_t ssrc;
    uint16_t max_seq;
    uint32_t cycles;
    uint32_t base_seq;
    uint32_t bad_seq;
    uint64_t received;
    uint64_t lost_before;       /* loss of earlier sources */
    /* RFC 3550 A.8 interarrival jitter, in 1/16 of a sample (8 kHz):
     * the previous packet's transit time, in samples. */
    int jitter_init;
    int64_t last_transit;
    uint64_t jitter16;
} sb__rxstats_t;

void sb__rxstats_update(sb__rxstats_t *rs, uint32_t ssrc, uint16_t seq);
/* One audio packet's RTP timestamp ts arrived at arrival (in samples of
 * a monotonic 8 kHz clock): updates the interarrival jitter. */
void sb__rxstats_jitter(sb__rxstats_t *rs, uint32_t ts, uint64_t arrival);
/* Cumulative loss over all sources (never negative). */
uint64_t sb__rxstats_lost(const sb__rxstats_t *rs);
/* Extended highest sequence number of the current source. */
uint32_t sb__rxstats_ext_max(const sb__rxstats_t *rs);

/* ---- offer/answer (negotiate.c) ------------------------------------------ */

#define SB__DTMF_PT 101

/* Payload kinds an endpoint accepts from its phone. */
typedef enum {
    SB__PT_NONE = 0,
    SB__PT_PCMU,
    SB__PT_PCMA,
    SB__PT_DTMF,
    SB__PT_CN
} sb__pt_kind_t;

/* The result of offer/answer for one endpoint. */
typedef struct sb__nego_s {
    sb_media_codec_t codec;     /* what we send */
    int tx_pt;                  /* its pt */
    int tx_dtmf_pt;             /* phone's telephone-event pt, -1 */
    uint8_t rx_kind[128];       /* sb__pt_kind_t by received pt */
} sb__nego_t;

/* Identifies a supported codec from a format. */
sb_media_codec_t sb__media_codec_of(const sb_media_format_t *f);

/* Fills local (a description of ours: addr, port, o= fields already set)
 * with our offer's formats. */
void sb__media_make_offer(sb_media_desc_t *local);

/* Answers the phone's offer: fills local's formats and direction from
 * remote, and *nego. Returns 0, SB_ECODEC or SB_EINVAL. */
int sb__media_make_answer(const sb_media_desc_t *remote,
                          sb_media_desc_t *local, sb__nego_t *nego);

/* Reads the phone's answer to our offer (offered: what we sent) into
 * *nego. Returns 0, SB_ECODEC or SB_EINVAL. */
int sb__media_read_answer(const sb_media_desc_t *offered,
                          const sb_media_desc_t *remote, sb__nego_t *nego);

/* The nego of an endpoint before any negotiation: accept what we offer. */
void sb__media_nego_default(sb__nego_t *nego);

/* Returns 1 when two descriptions describe the same session content
 * (everything except the o= version). */
int sb__media_desc_same(const sb_media_desc_t *a, const sb_media_desc_t *b);

/* sdp.c: returns 1 when no m= line of the len bytes of text would send
 * sofia-sip's parser into its endless loop (see sdp.c). */
int sb__media_sdp_m_lines_safe(const char *text, size_t len);

#endif
