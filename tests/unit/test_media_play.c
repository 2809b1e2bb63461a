/*
 * test_media_play.c: generated audio on the media workers' clock, heard
 * the way a phone hears it. A test phone (a uv_udp socket on the test's
 * loop) receives the RTP an endpoint sends, decodes the G.711 and checks
 * frequency (Goertzel), length and continuity: tones, decoded audio with
 * loops, queued sources played back to back, in-band digits, silence,
 * relayed audio held back while a source plays, stop and destroy, and a
 * bridge between endpoints of two workers (one moves to the other).
 * The tone tables are checked without sockets through the renderer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "engine_int.h"
#include "media.h"
#include "media_int.h"
#include "util.h"

#define MAX_SAMPLES (8000 * 12)
#define WATCHDOG_MS 10000

#include "media_phone.h"

/* ---- tests ---------------------------------------------------------------------------- */

/* A 1 kHz beep of 500 ms on a worker thread: 25 frames of 1 kHz, one
 * continuous stream, then the completion. */
static void test_media_play_beep_heard_on_worker(void **state)
{
    (void)state;
    ctx_t c;
    phone_t ph;
    ctx_init(&c, 1);
    ph_open(&c.loop, &ph);
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    ph_attach(&ph, ep, 0);
    sb_media_play_t src = {.tone = "beep"};
    assert_int_equal(sb_media_endpoint_play(ep, &src, on_done, slot(&c, 0)), 0);
    run_until(&c, &c.done[0], 1);
    assert_int_equal(c.status[0], 0);
    run_for(&c, 60);
    assert_int_equal(ph.packets, 25);
    assert_int_equal(ph.discontinuities, 0);
    assert_int_equal(ph.markers, 1);
    assert_true(dominant(ph.pcm, 4000, 1000));
    assert_true(rms(ph.pcm, 4000) > 2000);
    sb_media_clock_stats_t cs;
    sb_media_engine_clock_stats(c.engine, &cs);
    assert_true(cs.frames >= 25);
    phone_t *phs[] = {&ph};
    ctx_close(&c, phs, 1);
}

/* Decoded audio played three times is three times as long, gapless, in
 * the phone's codec (PCMA here). */
static void test_media_play_audio_loops_in_pcma(void **state)
{
    (void)state;
    ctx_t c;
    phone_t ph;
    ctx_init(&c, 1);
    ph_open(&c.loop, &ph);
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    ph_attach(&ph, ep, 8);
    sb_media_audio_t *a = make_tone_audio(1000, 300);
    sb_media_play_t src = {.audio = a, .loop = 3};
    assert_int_equal(sb_media_endpoint_play(ep, &src, on_done, slot(&c, 0)), 0);
    sb_media_audio_unref(a);            /* the player holds its own */
    run_until(&c, &c.done[0], 1);
    run_for(&c, 60);
    assert_int_equal(c.status[0], 0);
    assert_int_equal(ph.packets, 45);   /* 3 x 300 ms */
    assert_int_equal(ph.discontinuities, 0);
    assert_true(dominant(ph.pcm, ph.n, 1000));
    /* No gap at the loop points: every 20 ms window carries the tone. */
    for (size_t i = 0; i + 160 <= ph.n; i += 160)
        assert_true(rms(ph.pcm + i, 160) > 3000);
    phone_t *phs[] = {&ph};
    ctx_close(&c, phs, 1);
}

/* Two queued sources play one after the other, and complete in order;
 * stop cancels the rest. */
static void test_media_play_queue_and_stop(void **state)
{
    (void)state;
    ctx_t c;
    phone_t ph;
    ctx_init(&c, 0);
    ph_open(&c.loop, &ph);
    sb_media_endpoint_t *ep;
    assert_int_equal(sb_media_endpoint_create(c.engine, &ep), 0);
    ph_attach(&ph, ep, 0);
    sb_media_audio_t *a = make_tone_audio(500, 200);
    sb_media_audio_t *b = make_tone_audio(1500, 200);
    sb_media_play_t s1 = {.audio = a, .loop = 1};
    sb_media_play_t s2 = {.audio = b, .loop = 1};
    sb_media_play_t s3 = {.tone = "ringback:uk"};    /* endless */
    assert_int_equal(sb_media_endpoint_play(ep, &s1, on_done, slot(&c, 0)), 0);
    assert_int_equal(sb_media_endpoint_play(ep, &s2, on_done, slot(&c, 1)), 0);
    assert_int_equal(sb_media_endpoint_play(ep, &s3, on_done, slot(&c, 2)), 0);
    sb_media_audio_unref(a);
    sb_media_audio_unref(b);
    run_until(&c, &c.done[1], 1);
    assert_int_equal(c.done[0], 1);
    assert_int_equal(c.done[2], 0);
    run_for(&c, 200);
    assert_int_equal(sb_media_endpoint_stop(ep), 0);
    run_until(&c, &c.done[2], 1);
    assert_int_equal(c.status[2], SB_ECANCELED);
    /* 500 Hz first, then 1500 Hz, then the UK ringback's 400+450. */
    assert_true(dominant(ph.pcm, 1600, 500));
    assert_true(dominant(ph.pcm + 1600, 1600, 1500));
    assert_true(goertzel(ph.pcm + 3200, 800, 400) > 1000);
    assert_int_equal(ph.discontinuities, 0);
    /* Bad requests. */
    sb_media_play_t bad = {.tone = "klaxon"};
    assert_int_equal(sb_media_endpoint_play(ep, &bad, NULL, NULL), SB_EINVAL);
    sb_media_play_t bad2 = {.digits = "12x"};
    assert_int_equal(sb_media_endpoint_play(ep, &bad2, NULL, NULL), SB_EINVAL);
    sb_media_play_t bad3 = {.loop = -1};
    assert_int_equal(sb_media_endpoint_play(ep, &bad3, NULL, NULL), SB_EINVAL);
    phone_t *phs[] = {&ph};
    ctx_close(&c, phs, 1);
}

/* While B plays, what A sends is not relayed to B; afterwards it is,
 * with a marker and no break in B's sequence numbers. Destroying an
 * endpoint that plays cancels its source. */
static void test_media_play_holds_relay_and_destroy_cancels(void **state)
{
    (void)state;
    ctx_t c;
    phone_t pa, pb;
    ctx_init(&c, 1);
    ph_open(&c.loop, &pa);
    ph_open(&c.loop, &pb);
    pb.fill = 0x2A;
    sb_media_endpoint_t *a, *b;
    assert_int_equal(sb_media_endpoint_create(c.engine, &a), 0);
    assert_int_equal(sb_media_endpoint_create(c.engine, &b), 0);
    ph_attach(&pa, a, 0);
    ph_attach(&pb, b, 0);
    assert_int_equal(sb_media_connect(a, b, on_done, slot(&c, 3)), 0);
    run_until(&c, &c.done[3], 1);
    sb_media_play_t src = {.tone = "busy", .ms = 400};
    assert_int_equal(sb_media_endpoint_play(b, &src, on_done, slot(&c, 0)), 0);
    uint16_t seq = 1;
    for (int i = 0; i < 15; i++) {      /* 300 ms of A talking */
        ph_send(&pa, seq++, 0x2A);
        run_for(&c, 20);
    }
    assert_int_equal(pb.relayed, 0);
    run_until(&c, &c.done[0], 1);
    for (int i = 0; i < 10; i++) {
        ph_send(&pa, seq++, 0x2A);
        run_for(&c, 20);
    }
    assert_true(pb.relayed >= 8);
    assert_int_equal(pb.discontinuities, 0);
    /* US busy: 480 + 620 Hz. */
    assert_true(goertzel(pb.pcm, 800, 480) > 1000);
    assert_true(goertzel(pb.pcm, 800, 620) > 1000);

    sb_media_play_t endless = {.tone = "ringback"};
    assert_int_equal(sb_media_endpoint_play(a, &endless, on_done, slot(&c, 1)), 0);
    run_for(&c, 100);
    assert_int_equal(sb_media_endpoint_destroy(a, on_done, slot(&c, 2)), 0);
    run_until(&c, &c.done[2], 1);
    assert_int_equal(c.done[1], 1);
    assert_int_equal(c.status[1], SB_ECANCELED);
    phone_t *phs[] = {&pa, &pb};
    ctx_close(&c, phs, 2);
}

/* With two workers, endpoints created one after the other live on
 * different workers; a bridge moves one, and packets flow both ways. */
static void test_media_play_bridge_across_workers(void **state)
{
    (void)state;
    ctx_t c;
    phone_t pa, pb;
    ctx_init(&c, 2);
    ph_open(&c.loop, &pa);
    ph_open(&c.loop, &pb);
    pa.fill = 0x11;
    pb.fill = 0x22;
    sb_media_endpoint_t *a, *b;
    assert_int_equal(sb_media_endpoint_create(c.engine, &a), 0);
    assert_int_equal(sb_media_endpoint_create(c.engine, &b), 0);
    assert_ptr_not_equal(a->cw, b->cw);
    ph_attach(&pa, a, 0);
    ph_attach(&pb, b, 8);
    assert_int_equal(sb_media_connect(a, b, on_done, slot(&c, 0)), 0);
    /* Requests right behind the move wait for it, in order. */
    sb_media_play_t src = {.tone = "beep", .ms = 100};
    assert_int_equal(sb_media_endpoint_play(b, &src, on_done, slot(&c, 1)), 0);
    run_until(&c, &c.done[0], 1);
    assert_int_equal(c.status[0], 0);
    run_until(&c, &c.done[1], 1);
    assert_int_equal(c.status[1], 0);
    assert_ptr_equal(a->cw, b->cw);
    for (uint16_t s = 1; s <= 10; s++) {
        ph_send(&pa, s, 0x22);      /* PCMU to b's PCMA phone */
        ph_send(&pb, s, 0x11);
        run_for(&c, 20);
    }
    run_for(&c, 50);
    assert_true(pa.relayed >= 8);
    assert_true(pb.packets >= 5 + 8);
    assert_true(goertzel(pb.pcm, 800, 1000) > 1000);
    phone_t *phs[] = {&pa, &pb};
    ctx_close(&c, phs, 2);
}

/* ---- the tone tables, through the renderer ------------------------------------------------ */

static void render(sb__play_item_t *it, int16_t *pcm, size_t n)
{
    for (size_t i = 0; i < n; i += 160)
        sb__media_play_render(it, pcm + i, n - i < 160 ? n - i : 160);
}

static int16_t big[8000 * 12];

/* US ringback: 440 + 480 Hz, 2 s on, 4 s off; UK: 400 + 450 Hz in a
 * 0.4/0.2/0.4/2.0 s double ring. */
static void test_media_play_ringback_cadences(void **state)
{
    (void)state;
    sb__play_item_t *it;
    sb_media_play_t us = {.tone = "ringback:us"};
    assert_int_equal(sb__media_play_item_new(&us, NULL, NULL, &it), 0);
    render(it, big, 8000 * 12);
    assert_true(goertzel(big + 800, 8000, 440) > 1000);
    assert_true(goertzel(big + 800, 8000, 480) > 1000);
    assert_true(rms(big + 8000 * 2 + 800, 8000 * 3) < 10);     /* off */
    assert_true(rms(big + 8000 * 6 + 800, 8000) > 1000);        /* on again */
    sb__media_play_item_free(it);

    sb_media_play_t uk = {.tone = "ringback:UK"};
    assert_int_equal(sb__media_play_item_new(&uk, NULL, NULL, &it), 0);
    render(it, big, 8000 * 3);
    assert_true(rms(big + 400, 2400) > 1000);           /* 0.05-0.35 s on */
    assert_true(rms(big + 3300, 1200) < 10);            /* 0.41-0.56 s off */
    assert_true(rms(big + 5000, 1600) > 1000);          /* second ring */
    assert_true(rms(big + 8000, 8000) < 10);            /* 1-2 s off */
    assert_true(goertzel(big + 400, 2400, 400) > 1000);
    assert_true(goertzel(big + 400, 2400, 450) > 1000);
    sb__media_play_item_free(it);

    sb__tone_t t;
    assert_int_equal(sb__media_tone_parse("ringback:de", &t), 0);
    assert_int_equal(t.f1, 425);
    assert_int_equal(sb__media_tone_parse("ringback:zz", &t), 0);    /* ITU */
    assert_int_equal(t.f1, 425);
    assert_int_equal(sb__media_tone_parse("busy:uk", &t), 0);
    assert_int_equal(t.f1, 400);
    assert_int_equal(sb__media_tone_parse("", &t), SB_EINVAL);
    assert_int_equal(sb__media_tone_parse("ringback:", &t), SB_EINVAL);
}

/* In-band digits: "1w2" is 697+1209 Hz for 100 ms, 100 ms of silence,
 * 500 ms of pause, then 697+1336 Hz; then the item ends. */
static void test_media_play_inband_digits(void **state)
{
    (void)state;
    sb__play_item_t *it;
    sb_media_play_t d = {.digits = "1w2", .loop = 1};
    assert_int_equal(sb__media_play_item_new(&d, NULL, NULL, &it), 0);
    int16_t pcm[8000];
    int ended = 0;
    size_t i;
    for (i = 0; i < 8000 && !ended; i += 160)
        ended = sb__media_play_render(it, pcm + i, 160);
    assert_true(ended);
    assert_int_equal(i, 7200);              /* 0.1+0.1+0.5+0.1+0.1 s */
    assert_true(goertzel(pcm + 80, 640, 697) > 1000);
    assert_true(goertzel(pcm + 80, 640, 1209) > 1000);
    assert_true(goertzel(pcm + 80, 640, 1336) * 100 <
                goertzel(pcm + 80, 640, 1209));
    assert_true(rms(pcm + 800, 4800) < 10);
    assert_true(goertzel(pcm + 5680, 640, 1336) > 1000);
    assert_true(goertzel(pcm + 5680, 640, 1209) * 100 <
                goertzel(pcm + 5680, 640, 1336));
    sb__media_play_item_free(it);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_play_beep_heard_on_worker),
        cmocka_unit_test(test_media_play_audio_loops_in_pcma),
        cmocka_unit_test(test_media_play_queue_and_stop),
        cmocka_unit_test(test_media_play_holds_relay_and_destroy_cancels),
        cmocka_unit_test(test_media_play_bridge_across_workers),
        cmocka_unit_test(test_media_play_ringback_cadences),
        cmocka_unit_test(test_media_play_inband_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
