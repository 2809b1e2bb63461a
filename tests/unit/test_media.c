/*
 * test_media.c: the pure parts of core/media: G.711 against known values,
 * PCMU<->PCMA transcoding, the RTP header, RFC 4733 payloads, the
 * output-stream rewriting across re-bridges, receive statistics, SDP parse
 * and write (sofia-sip), and offer/answer including "no common codec".
 * The socket side is in test_media_relay.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "media.h"
#include "media_int.h"
#include "util.h"

/* ---- G.711 ----------------------------------------------------------------- */

static void test_media_ulaw_known_values(void **state)
{
    (void)state;
    assert_int_equal(sb__media_linear_to_ulaw(0), 0xFF);
    assert_int_equal(sb__media_linear_to_ulaw(-1), 0x7F);
    assert_int_equal(sb__media_linear_to_ulaw(32767), 0x80);
    assert_int_equal(sb__media_linear_to_ulaw(-32768), 0x00);
    assert_int_equal(sb__media_linear_to_ulaw(1000), 0xCE);
    assert_int_equal(sb__media_linear_to_ulaw(-1000), 0x4E);
    assert_int_equal(sb__media_ulaw_to_linear(0x00), -32124);
    assert_int_equal(sb__media_ulaw_to_linear(0x80), 32124);
    assert_int_equal(sb__media_ulaw_to_linear(0xFF), 0);
    assert_int_equal(sb__media_ulaw_to_linear(0x7F), 0);
    assert_int_equal(sb__media_ulaw_to_linear(0xCE), 988);
    assert_int_equal(sb__media_ulaw_to_linear(0xF0), 120);
    assert_int_equal(sb__media_ulaw_to_linear(0x70), -120);
}

static void test_media_alaw_known_values(void **state)
{
    (void)state;
    assert_int_equal(sb__media_linear_to_alaw(0), 0xD5);
    assert_int_equal(sb__media_linear_to_alaw(-1), 0x55);
    assert_int_equal(sb__media_linear_to_alaw(32767), 0xAA);
    assert_int_equal(sb__media_linear_to_alaw(-32768), 0x2A);
    assert_int_equal(sb__media_linear_to_alaw(1000), 0xFA);
    assert_int_equal(sb__media_alaw_to_linear(0xD5), 8);
    assert_int_equal(sb__media_alaw_to_linear(0x55), -8);
    assert_int_equal(sb__media_alaw_to_linear(0xAA), 32256);
    assert_int_equal(sb__media_alaw_to_linear(0x2A), -32256);
    assert_int_equal(sb__media_alaw_to_linear(0xFA), 1008);
}

/* Every code decodes to a value that encodes back to the same code (mu-law
 * has two zeros: 0x7F, "-0", comes back as 0xFF), and decoding is monotonic
 * over each sign half. */
static void test_media_g711_roundtrip_all_codes(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        int16_t u = sb__media_ulaw_to_linear((uint8_t)c);
        int want = c == 0x7F ? 0xFF : c;
        assert_int_equal(sb__media_linear_to_ulaw(u), want);
        int16_t a = sb__media_alaw_to_linear((uint8_t)c);
        assert_int_equal(sb__media_linear_to_alaw(a), c);
    }
    for (int c = 0x80; c < 0xFF; c++)   /* mu-law positive: falls with code */
        assert_true(sb__media_ulaw_to_linear((uint8_t)c) >
                    sb__media_ulaw_to_linear((uint8_t)(c + 1)));
    /* Quantisation error is bounded by half the largest step (1024/2 for
     * mu-law's top segment, plus rounding). */
    for (int x = -32768; x <= 32767; x += 7) {
        int du = sb__media_ulaw_to_linear(sb__media_linear_to_ulaw((int16_t)x));
        int da = sb__media_alaw_to_linear(sb__media_linear_to_alaw((int16_t)x));
        assert_true(abs(du - x) <= 1024);
        assert_true(abs(da - x) <= 1024);
    }
}

static void test_media_transcode_tables_and_roundtrip(void **state)
{
    (void)state;
    sb__media_g711_init();
    assert_int_equal(sb__media_ulaw_to_alaw[0xFF], 0xD5);    /* 0 -> 0 */
    assert_int_equal(sb__media_ulaw_to_alaw[0x00], 0x2A);    /* -max */
    assert_int_equal(sb__media_alaw_to_ulaw[0xD5], 0xFE);    /* 8 -> 8 */
    assert_int_equal(sb__media_alaw_to_ulaw[0xAA], 0x80);
    int exact = 0;
    for (int c = 0; c < 256; c++) {
        uint8_t back = sb__media_alaw_to_ulaw[sb__media_ulaw_to_alaw[c]];
        int x = sb__media_ulaw_to_linear((uint8_t)c);
        int y = sb__media_ulaw_to_linear(back);
        /* Two quantisations: within one step of the coarser law. */
        assert_true(abs(x - y) <= (abs(x) / 16) + 16);
        exact += back == c || (c == 0x7F && back == 0xFF);
    }
    assert_true(exact > 180);   /* most codes survive the round trip */

    uint8_t buf[160], ref[160];
    for (int i = 0; i < 160; i++)
        buf[i] = ref[i] = (uint8_t)(i * 37);
    sb__media_g711_transcode(buf, sizeof(buf), SB_MEDIA_PCMU, SB_MEDIA_PCMU);
    assert_memory_equal(buf, ref, sizeof(buf));
    sb__media_g711_transcode(buf, sizeof(buf), SB_MEDIA_PCMU, SB_MEDIA_PCMA);
    for (int i = 0; i < 160; i++)
        assert_int_equal(buf[i], sb__media_ulaw_to_alaw[ref[i]]);
    sb__media_g711_transcode(buf, sizeof(buf), SB_MEDIA_PCMA, SB_MEDIA_PCMU);
    for (int i = 0; i < 160; i++)
        assert_int_equal(buf[i],
                         sb__media_alaw_to_ulaw[sb__media_ulaw_to_alaw[ref[i]]]);
}

/* ---- RTP header ---------------------------------------------------------------- */

static void test_media_rtp_parse_full_header(void **state)
{
    (void)state;
    uint8_t p[64] = {0};
    /* V=2 P=1 X=1 CC=2, M=1 PT=8, seq 0xBEEF, ts, ssrc */
    p[0] = 0x80 | 0x20 | 0x10 | 2;
    p[1] = 0x80 | 8;
    p[2] = 0xBE; p[3] = 0xEF;
    p[4] = 0x01; p[5] = 0x02; p[6] = 0x03; p[7] = 0x04;
    p[8] = 0xCA; p[9] = 0xFE; p[10] = 0xBA; p[11] = 0xBE;
    /* 2 CSRCs: 12..19; extension header at 20: profile, length 1 word */
    p[22] = 0; p[23] = 1;
    /* payload from 28, 10 bytes, then 2 bytes padding */
    size_t n = 28 + 10 + 2;
    p[n - 1] = 2;
    sb__rtp_t h;
    assert_int_equal(sb__rtp_parse(p, n, &h), 0);
    assert_int_equal(h.marker, 1);
    assert_int_equal(h.pt, 8);
    assert_int_equal(h.seq, 0xBEEF);
    assert_int_equal(h.ts, 0x01020304);
    assert_int_equal(h.ssrc, 0xCAFEBABE);
    assert_int_equal(h.payload_off, 28);
    assert_int_equal(h.payload_len, 10);

    sb__rtp_rewrite(p, 0, 0, 7, 99, 0x11223344);
    assert_int_equal(p[0], 0x80 | 0x20 | 0x10 | 2);     /* flags kept */
    assert_int_equal(sb__rtp_parse(p, n, &h), 0);
    assert_int_equal(h.marker, 0);
    assert_int_equal(h.pt, 0);
    assert_int_equal(h.seq, 7);
    assert_int_equal(h.ts, 99);
    assert_int_equal(h.ssrc, 0x11223344);
    assert_int_equal(h.payload_off, 28);
}

static void test_media_rtp_parse_rejects_malformed(void **state)
{
    (void)state;
    uint8_t p[40] = {0};
    sb__rtp_t h;
    p[0] = 0x80;
    assert_int_equal(sb__rtp_parse(p, 11, &h), SB_EINVAL);      /* short */
    assert_int_equal(sb__rtp_parse(p, 12, &h), 0);              /* empty ok */
    assert_int_equal(h.payload_len, 0);
    p[0] = 0x40;
    assert_int_equal(sb__rtp_parse(p, 20, &h), SB_EINVAL);      /* version 1 */
    p[0] = 0x80 | 15;                                           /* 15 CSRCs */
    assert_int_equal(sb__rtp_parse(p, 40, &h), SB_EINVAL);
    p[0] = 0x80 | 0x10;                                         /* ext overrun */
    p[14] = 0; p[15] = 50;
    assert_int_equal(sb__rtp_parse(p, 40, &h), SB_EINVAL);
    p[0] = 0x80 | 0x20;                                         /* bad padding */
    p[19] = 0;
    assert_int_equal(sb__rtp_parse(p, 20, &h), SB_EINVAL);
    p[19] = 9;
    assert_int_equal(sb__rtp_parse(p, 20, &h), SB_EINVAL);
    p[19] = 8;
    assert_int_equal(sb__rtp_parse(p, 20, &h), 0);
    assert_int_equal(h.payload_len, 0);

    uint8_t rtcp[8] = {0x80, 200, 0, 1};
    assert_true(sb__rtp_is_rtcp(rtcp, sizeof(rtcp)));
    rtcp[1] = 0x80 | 8;     /* RTP with marker and PCMA: 136, not RTCP */
    assert_false(sb__rtp_is_rtcp(rtcp, sizeof(rtcp)));
}

/* ---- RFC 4733 ---------------------------------------------------------------------- */

static void test_media_dtmf_parse_build(void **state)
{
    (void)state;
    uint8_t p[4];
    sb__dtmf_t ev = {.event = 5, .end = 1, .volume = 10, .duration = 800};
    sb__dtmf_build(p, &ev);
    uint8_t want[4] = {0x05, 0x8A, 0x03, 0x20};
    assert_memory_equal(p, want, 4);
    sb__dtmf_t back;
    assert_int_equal(sb__dtmf_parse(p, 4, &back), 0);
    assert_int_equal(back.event, 5);
    assert_int_equal(back.end, 1);
    assert_int_equal(back.volume, 10);
    assert_int_equal(back.duration, 800);

    uint8_t q[4] = {11, 0x3F | 0x40, 0xFF, 0xFF};   /* R bit set, not E */
    assert_int_equal(sb__dtmf_parse(q, 4, &back), 0);
    assert_int_equal(back.event, 11);
    assert_int_equal(back.end, 0);
    assert_int_equal(back.volume, 63);
    assert_int_equal(back.duration, 65535);
    assert_int_equal(sb__dtmf_parse(q, 3, &back), SB_EINVAL);

    const char *digits = "0123456789*#ABCD!";
    for (int i = 0; digits[i]; i++) {
        assert_int_equal(sb__dtmf_event_of(digits[i]), i);
        assert_int_equal(sb__dtmf_digit_of(i), digits[i]);
    }
    assert_int_equal(sb__dtmf_event_of('c'), 14);
    assert_int_equal(sb__dtmf_event_of('E'), -1);
    assert_int_equal(sb__dtmf_event_of('\0'), -1);
    assert_int_equal(sb__dtmf_digit_of(17), 0);
    assert_int_equal(sb__dtmf_digit_of(-1), 0);
}

/* ---- rewriting -------------------------------------------------------------------- */

typedef struct {
    uint16_t seq;
    uint32_t ts;
    int marker;
} mapped_t;

static mapped_t map1(sb__outstream_t *os, uint32_t ssrc, uint16_t seq,
                     uint32_t ts, uint64_t now)
{
    mapped_t m = {0, 0, 0};
    sb__outstream_map(os, ssrc, seq, ts, 160, now, &m.seq, &m.ts, &m.marker);
    return m;
}

static void test_media_rewrite_continuous_across_rebridge(void **state)
{
    (void)state;
    sb__outstream_t os;
    sb__outstream_init(&os, 0xAAAA0001, 65530, 1000);

    /* Source B: 10 packets, 20 ms apart; the output wraps seq past 65535. */
    uint64_t now = 5000;
    mapped_t m = map1(&os, 0xB, 300, 77777, now);
    assert_int_equal(m.seq, 65531);
    assert_int_equal(m.ts, 1000);
    assert_int_equal(m.marker, 1);
    uint16_t prev_seq = m.seq;
    uint32_t prev_ts = m.ts;
    for (int i = 1; i < 10; i++) {
        now += 20;
        m = map1(&os, 0xB, (uint16_t)(300 + i), 77777 + 160u * i, now);
        assert_int_equal(m.seq, (uint16_t)(prev_seq + 1));
        assert_int_equal(m.ts, prev_ts + 160);
        assert_int_equal(m.marker, 0);
        prev_seq = m.seq;
        prev_ts = m.ts;
    }
    assert_int_equal(prev_seq, 4);  /* 65531 + 9, wrapped */

    /* Re-bridge to source C 20 ms later, with unrelated seq/ts. */
    sb__outstream_reset(&os);
    now += 20;
    m = map1(&os, 0xC, 9, 4000000000u, now);
    assert_int_equal(m.seq, (uint16_t)(prev_seq + 1));
    assert_int_equal(m.ts, prev_ts + 160);
    assert_int_equal(m.marker, 1);
    prev_seq = m.seq;
    prev_ts = m.ts;

    /* C's own seq and ts wrap; the output just continues. */
    now += 20;
    m = map1(&os, 0xC, 10, 4000000000u + 160, now);
    assert_int_equal(m.seq, (uint16_t)(prev_seq + 1));
    assert_int_equal(m.ts, prev_ts + 160);
    prev_seq = m.seq;
    prev_ts = m.ts;

    /* A late, reordered packet from C maps consistently but does not move
     * the stream back. */
    m = map1(&os, 0xC, 9, 4000000000u, now);
    assert_int_equal(m.seq, (uint16_t)(prev_seq - 1));
    assert_int_equal(os.last_seq, prev_seq);

    /* C's SSRC changes without a reset (phone restarted its stream), after
     * a 1 s pause: seq continues by one, ts by the elapsed 1000 ms. */
    now += 1000;
    m = map1(&os, 0xD, 40000, 12345, now);
    assert_int_equal(m.seq, (uint16_t)(prev_seq + 1));
    assert_int_equal(m.ts, prev_ts + 8000);
    assert_int_equal(m.marker, 1);
    assert_int_equal(os.ssrc, 0xAAAA0001);      /* ours never changes */

    /* Back-to-back re-bridge (no time passed): at least one packet. */
    prev_seq = m.seq;
    prev_ts = m.ts;
    sb__outstream_reset(&os);
    m = map1(&os, 0xB, 1, 1, now);
    assert_int_equal(m.seq, (uint16_t)(prev_seq + 1));
    assert_int_equal(m.ts, prev_ts + 160);
}

static void test_media_rxstats_loss_wrap_and_new_source(void **state)
{
    (void)state;
    sb__rxstats_t rs;
    memset(&rs, 0, sizeof(rs));
    assert_int_equal(sb__rxstats_lost(&rs), 0);
    for (uint16_t s = 65530; s != 10; s++)      /* wraps */
        if (s != 65535 && s != 3)               /* two lost */
            sb__rxstats_update(&rs, 1, s);
    assert_int_equal(sb__rxstats_lost(&rs), 2);
    assert_int_equal(sb__rxstats_ext_max(&rs), 65536 + 9);
    sb__rxstats_update(&rs, 1, 5);              /* duplicate */
    assert_int_equal(sb__rxstats_lost(&rs), 1);
    /* New source: its loss adds to the old one's. */
    sb__rxstats_update(&rs, 2, 100);
    sb__rxstats_update(&rs, 2, 103);
    assert_int_equal(sb__rxstats_lost(&rs), 3);
}

/* RFC 3550 A.8 jitter: packets on time keep it at 0; arrivals that
 * alternate 2 ms (16 samples) early and late converge on 32 samples of
 * |D| per packet, i.e. 4 ms. */
static void test_media_rxstats_jitter(void **state)
{
    (void)state;
    sb__rxstats_t rs;
    memset(&rs, 0, sizeof(rs));
    for (uint32_t i = 0; i < 50; i++)
        sb__rxstats_jitter(&rs, 1000 + i * 160, 99000 + i * 160);
    assert_int_equal(rs.jitter16, 0);
    for (uint32_t i = 50; i < 1000; i++)
        sb__rxstats_jitter(&rs, 1000 + i * 160, 99000 + i * 160 + (i % 2 ? 16 : -16));
    double ms = (double)rs.jitter16 / 16.0 / 8.0;
    assert_true(ms > 3.9 && ms < 4.1);
}

/* The simplified E-model: a clean call is near 4.4; loss and jitter
 * lower it, in order, and it stays within 1..4.5. */
static void test_media_quality_mos(void **state)
{
    (void)state;
    double r, clean, lossy, jittery, awful;
    sb_media_quality(0, 0, &r, &clean);
    assert_true(r > 92 && r < 93.2);
    assert_true(clean > 4.3 && clean <= 4.5);
    sb_media_quality(5, 0, &r, &lossy);
    sb_media_quality(0, 100, &r, &jittery);
    sb_media_quality(60, 500, &r, &awful);
    assert_true(lossy < clean && jittery < clean);
    assert_true(lossy > 3.5 && lossy < 4.3);
    assert_true(awful >= 1.0 && awful < 1.5);
    assert_true(r >= 0);
}

/* ---- SDP ----------------------------------------------------------------------------- */

static const char offer_sdp[] =
    "v=0\r\n"
    "o=alice 2890844526 2890844527 IN IP4 10.0.0.1\r\n"
    "s=-\r\n"
    "c=IN IP4 10.0.0.1\r\n"
    "t=0 0\r\n"
    "m=video 5000 RTP/AVP 31\r\n"
    "m=audio 4000 RTP/AVP 8 96 0 18 101 13 99\r\n"
    "a=rtpmap:96 opus/48000/2\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=fmtp:101 0-16\r\n"
    "a=ptime:30\r\n"
    "a=rtcp:4005\r\n"
    "a=sendonly\r\n";

static void test_media_sdp_parse_offer(void **state)
{
    (void)state;
    sb_media_desc_t d;
    assert_int_equal(sb_media_sdp_parse(offer_sdp, strlen(offer_sdp), &d), 0);
    assert_string_equal(d.addr, "10.0.0.1");
    assert_int_equal(d.ipv6, 0);
    assert_int_equal(d.port, 4000);
    assert_int_equal(d.rtcp_port, 4005);
    assert_int_equal(d.ptime, 30);
    assert_int_equal(d.dir, SB_MEDIA_SENDONLY);
    assert_int_equal(d.dtmf_pt, 101);
    assert_int_equal(d.session_id, 2890844526ULL);
    assert_int_equal(d.session_version, 2890844527ULL);
    assert_int_equal(d.nformats, 7);
    int pts[] = {8, 96, 0, 18, 101, 13, 99};
    for (int i = 0; i < 7; i++)
        assert_int_equal(d.formats[i].pt, pts[i]);
    assert_string_equal(d.formats[0].name, "PCMA");
    assert_int_equal(d.formats[0].rate, 8000);
    assert_string_equal(d.formats[1].name, "opus");
    assert_int_equal(d.formats[1].rate, 48000);
    assert_int_equal(d.formats[1].channels, 2);
    assert_string_equal(d.formats[4].fmtp, "0-16");
    assert_string_equal(d.formats[5].name, "CN");
    assert_string_equal(d.formats[6].name, "");     /* no rtpmap */
}

static void test_media_sdp_parse_errors(void **state)
{
    (void)state;
    sb_media_desc_t d;
    const char *bad[] = {
        "garbage",
        /* no c= anywhere */
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        /* no audio */
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=video 4000 RTP/AVP 31\r\n",
        /* SRTP only */
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=audio 4000 RTP/SAVP 0\r\n",
        /* host name instead of an address */
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 pbx.example.com\r\n"
        "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
        /* m= lines that send sofia-sip 1.12.11's parser into an endless
         * allocating loop (found by tests/integration/sip_malformed):
         * a non-token character in a non-RTP format list, trailing
         * blanks, and the same after leading blanks */
        "v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
        "t=0 0\r\nm=audio 7000 RTPa><,==<,%=bab@cc=a>,> ca%=,;cc",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=audio 4000 foo \t\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 0\r\n \t m=audio 4002 udp <0>\r\n",
    };
    for (size_t i = 0; i < SB_COUNTOF(bad); i++)
        assert_int_equal(sb_media_sdp_parse(bad[i], strlen(bad[i]), &d),
                         SB_EINVAL);
    assert_int_equal(sb_media_sdp_parse("", 0, &d), SB_EINVAL);
    assert_int_equal(sb_media_sdp_parse(NULL, 10, &d), SB_EINVAL);

    /* Blanks after a format are harmless and still accepted. */
    const char *blanks = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\n"
                         "c=IN IP4 1.2.3.4\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 8 \t\r\n";
    assert_int_equal(sb_media_sdp_parse(blanks, strlen(blanks), &d), 0);
    assert_int_equal(d.nformats, 2);
}

static void test_media_sdp_parse_picks_live_audio_and_ipv6(void **state)
{
    (void)state;
    sb_media_desc_t d;
    const char *two =
        "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nc=IN IP4 1.2.3.4\nt=0 0\n"
        "m=audio 0 RTP/AVP 0\n"
        "m=audio 4004 RTP/AVP 8\n"
        "a=inactive\n";
    assert_int_equal(sb_media_sdp_parse(two, strlen(two), &d), 0);
    assert_int_equal(d.port, 4004);
    assert_int_equal(d.formats[0].pt, 8);
    assert_int_equal(d.dir, SB_MEDIA_INACTIVE);
    assert_int_equal(d.dtmf_pt, -1);

    const char *v6 =
        "v=0\r\no=- 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 2001:db8::5\r\nt=0 0\r\n"
        "m=audio 6000 RTP/AVP 0\r\n";
    assert_int_equal(sb_media_sdp_parse(v6, strlen(v6), &d), 0);
    assert_int_equal(d.ipv6, 1);
    assert_string_equal(d.addr, "2001:db8::5");
    assert_int_equal(d.dir, SB_MEDIA_SENDRECV);
}

static void test_media_sdp_write_reads_back(void **state)
{
    (void)state;
    sb_media_desc_t d;
    memset(&d, 0, sizeof(d));
    strcpy(d.addr, "192.0.2.7");
    d.port = 20002;
    d.session_id = 42;
    d.session_version = 3;
    sb__media_make_offer(&d);
    sb_buf_t b = SB_BUF_INIT;
    assert_int_equal(sb_media_sdp_write(&d, &b), 0);
    const char *want =
        "v=0\r\n"
        "o=switchboard 42 3 IN IP4 192.0.2.7\r\n"
        "s=switchboard\r\n"
        "c=IN IP4 192.0.2.7\r\n"
        "t=0 0\r\n"
        "m=audio 20002 RTP/AVP 0 8 101\r\n"
        "a=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:8 PCMA/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
        "a=fmtp:101 0-15\r\n"
        "a=ptime:20\r\n"
        "a=sendrecv\r\n";
    assert_string_equal(sb_buf_str(&b), want);

    sb_media_desc_t back;
    assert_int_equal(sb_media_sdp_parse(b.data, b.len, &back), 0);
    assert_true(sb__media_desc_same(&d, &back));
    assert_int_equal(back.session_id, 42);
    assert_int_equal(back.session_version, 3);

    d.nformats = 0;
    sb_buf_reset(&b);
    assert_int_equal(sb_media_sdp_write(&d, &b), SB_EINVAL);
    sb_buf_free(&b);
}

/* ---- offer/answer -------------------------------------------------------------------- */

static void parse_or_fail(const char *text, sb_media_desc_t *d)
{
    assert_int_equal(sb_media_sdp_parse(text, strlen(text), d), 0);
}

static void test_media_answer_takes_first_common_codec(void **state)
{
    (void)state;
    sb_media_desc_t remote, local;
    sb__nego_t nego;
    parse_or_fail(offer_sdp, &remote);  /* 8 96 0 18 101 13 99, sendonly */
    memset(&local, 0, sizeof(local));
    assert_int_equal(sb__media_make_answer(&remote, &local, &nego), 0);
    assert_int_equal(nego.codec, SB_MEDIA_PCMA);
    assert_int_equal(nego.tx_pt, 8);
    assert_int_equal(nego.tx_dtmf_pt, 101);
    assert_int_equal(nego.rx_kind[8], SB__PT_PCMA);
    assert_int_equal(nego.rx_kind[0], SB__PT_PCMU);
    assert_int_equal(nego.rx_kind[101], SB__PT_DTMF);
    assert_int_equal(nego.rx_kind[13], SB__PT_CN);
    assert_int_equal(nego.rx_kind[96], SB__PT_NONE);
    assert_int_equal(nego.rx_kind[18], SB__PT_NONE);
    assert_int_equal(local.nformats, 2);
    assert_int_equal(local.formats[0].pt, 8);
    assert_string_equal(local.formats[0].name, "PCMA");
    assert_int_equal(local.formats[1].pt, 101);
    assert_int_equal(local.dtmf_pt, 101);
    assert_int_equal(local.dir, SB_MEDIA_RECVONLY);
    assert_int_equal(local.ptime, 30);

    /* Static types without a=rtpmap, telephone-event at another pt. */
    const char *plain =
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 18 0 8 96\r\na=rtpmap:96 telephone-event/8000\r\n"
        "a=recvonly\r\n";
    parse_or_fail(plain, &remote);
    assert_int_equal(sb__media_make_answer(&remote, &local, &nego), 0);
    assert_int_equal(nego.codec, SB_MEDIA_PCMU);
    assert_int_equal(nego.tx_dtmf_pt, 96);
    assert_int_equal(nego.rx_kind[96], SB__PT_DTMF);
    assert_int_equal(nego.rx_kind[101], SB__PT_NONE);
    assert_int_equal(local.dir, SB_MEDIA_SENDONLY);
}

static void test_media_answer_no_common_codec_is_ecodec(void **state)
{
    (void)state;
    sb_media_desc_t remote, local;
    sb__nego_t nego;
    const char *g729 =
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 18 96 101\r\na=rtpmap:96 opus/48000/2\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n";
    parse_or_fail(g729, &remote);
    assert_int_equal(sb__media_make_answer(&remote, &local, &nego), SB_ECODEC);
    /* PCMU at the wrong rate is not PCMU. */
    const char *wide =
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 97\r\na=rtpmap:97 PCMU/16000\r\n";
    parse_or_fail(wide, &remote);
    assert_int_equal(sb__media_make_answer(&remote, &local, &nego), SB_ECODEC);
}

static void test_media_read_answer_checks_what_was_offered(void **state)
{
    (void)state;
    sb_media_desc_t offered, remote;
    sb__nego_t nego;
    memset(&offered, 0, sizeof(offered));
    strcpy(offered.addr, "127.0.0.1");
    offered.port = 20000;
    sb__media_make_offer(&offered);

    const char *ans =
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nc=IN IP4 1.2.3.4\r\nt=0 0\r\n"
        "m=audio 4000 RTP/AVP 8 100\r\na=rtpmap:100 telephone-event/8000\r\n";
    parse_or_fail(ans, &remote);
    assert_int_equal(sb__media_read_answer(&offered, &remote, &nego), 0);
    assert_int_equal(nego.codec, SB_MEDIA_PCMA);
    assert_int_equal(nego.tx_dtmf_pt, 100);
    assert_int_equal(nego.rx_kind[100], SB__PT_DTMF);
    assert_int_equal(nego.rx_kind[101], SB__PT_DTMF);   /* our numbering */

    /* An answer with a codec we did not offer. */
    offered.nformats = 1;               /* offered PCMU only */
    offered.dtmf_pt = -1;
    assert_int_equal(sb__media_read_answer(&offered, &remote, &nego), SB_ECODEC);
    remote.nformats = 0;
    assert_int_equal(sb__media_read_answer(&offered, &remote, &nego), SB_EINVAL);
}

static void test_media_desc_same_ignores_version(void **state)
{
    (void)state;
    sb_media_desc_t a, b;
    memset(&a, 0, sizeof(a));
    strcpy(a.addr, "127.0.0.1");
    a.port = 20000;
    sb__media_make_offer(&a);
    b = a;
    b.session_version = 99;
    assert_true(sb__media_desc_same(&a, &b));
    b.dir = SB_MEDIA_SENDONLY;
    assert_false(sb__media_desc_same(&a, &b));
    b = a;
    strcpy(b.formats[2].fmtp, "0-16");
    assert_false(sb__media_desc_same(&a, &b));
    assert_string_equal(sb_media_codec_name(SB_MEDIA_PCMA), "PCMA");
    assert_string_equal(sb_media_dir_name(SB_MEDIA_RECVONLY), "recvonly");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_ulaw_known_values),
        cmocka_unit_test(test_media_alaw_known_values),
        cmocka_unit_test(test_media_g711_roundtrip_all_codes),
        cmocka_unit_test(test_media_transcode_tables_and_roundtrip),
        cmocka_unit_test(test_media_rtp_parse_full_header),
        cmocka_unit_test(test_media_rtp_parse_rejects_malformed),
        cmocka_unit_test(test_media_dtmf_parse_build),
        cmocka_unit_test(test_media_rewrite_continuous_across_rebridge),
        cmocka_unit_test(test_media_rxstats_loss_wrap_and_new_source),
        cmocka_unit_test(test_media_rxstats_jitter),
        cmocka_unit_test(test_media_quality_mos),
        cmocka_unit_test(test_media_sdp_parse_offer),
        cmocka_unit_test(test_media_sdp_parse_errors),
        cmocka_unit_test(test_media_sdp_parse_picks_live_audio_and_ipv6),
        cmocka_unit_test(test_media_sdp_write_reads_back),
        cmocka_unit_test(test_media_answer_takes_first_common_codec),
        cmocka_unit_test(test_media_answer_no_common_codec_is_ecodec),
        cmocka_unit_test(test_media_read_answer_checks_what_was_offered),
        cmocka_unit_test(test_media_desc_same_ignores_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
