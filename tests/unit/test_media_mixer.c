/*
 * test_media_mixer.c: conference rooms as phones hear them. Three test
 * phones, each sending its own tone (400, 700 and 1100 Hz) on a 20 ms
 * timer, join one room: each must hear the other two and not itself,
 * checked by the frequencies in what it receives (Goertzel). Then: a
 * muted member is heard by nobody; a sound played into the room reaches
 * everyone; a member on PCMA and the others on PCMU mix; a member that
 * leaves (or whose endpoint is destroyed) stops being heard; a member
 * that plays its own source hears that and not the room; rooms across
 * two workers move their members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#define MAX_SAMPLES (8000 * 40)
#define WATCHDOG_MS 30000
#include "media_phone.h"

/* Power of f relative to the strongest of the three tones in the last n
 * samples the phone heard. */
static double heard(const phone_t *ph, size_t n, double f)
{
    if (ph->n < n)
        return 0;
    return goertzel(ph->pcm + ph->n - n, n, f);
}

/* The phone hears f clearly (above a floor) or not at all. */
static int hears(const phone_t *ph, double f)
{
    double p = heard(ph, 6000, f);
    if (getenv("SB_TEST_DEBUG"))
        fprintf(stderr, "  hears %.0f Hz: %.0f (n=%zu, packets=%d)\n", f, p,
                ph->n, ph->packets);
    return p > 5000;
}

static const double F[3] = {400, 700, 1100};

static void on_freed(void *arg)
{
    (*(int *)arg)++;
}

typedef struct {
    ctx_t c;
    phone_t ph[3];
    sb_media_endpoint_t *ep[3];
    talker_t t[3];
    seg_t seg[3][1];
    sb_media_room_t *room;
} conf_t;

static void conf_start(conf_t *k, int threads, int pcma_last)
{
    memset(k, 0, sizeof(*k));
    ctx_init(&k->c, threads);
    assert_int_equal(sb_media_room_new(k->c.engine, &k->room), 0);
    for (int i = 0; i < 3; i++) {
        int pt = pcma_last && i == 2 ? 8 : 0;
        ph_open(&k->c.loop, &k->ph[i]);
        assert_int_equal(sb_media_endpoint_create(k->c.engine, &k->ep[i]), 0);
        ph_attach(&k->ph[i], k->ep[i], pt);
        assert_int_equal(sb_media_room_join(k->room, k->ep[i], 0, on_done,
                                            slot(&k->c, i)), 0);
        seg_t s = {S_TONE, 60000, F[i], 0, 5000};
        k->seg[i][0] = s;
        talk(&k->c, &k->t[i], &k->ph[i], k->seg[i], 1, pt);
    }
    for (int i = 0; i < 3; i++)
        run_until(&k->c, &k->c.done[i], 1);
    assert_int_equal(sb_media_room_members(k->room), 3);
}

static void conf_stop(conf_t *k)
{
    for (int i = 0; i < 3; i++)
        talker_close(&k->t[i]);
    int freed = 0;
    sb_media_room_destroy(k->room, on_freed,
                          &freed);
    for (int i = 0; i < 3; i++)
        sb_media_endpoint_destroy(k->ep[i], NULL, NULL);
    phone_t *phs[] = {&k->ph[0], &k->ph[1], &k->ph[2]};
    ctx_close(&k->c, phs, 3);
    assert_int_equal(freed, 1);
}

static void test_media_mixer_each_hears_the_others(void **state)
{
    (void)state;
    static conf_t k;
    conf_start(&k, 1, 1);
    run_for(&k.c, 1500);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) {
            if (i == j)
                assert_false(hears(&k.ph[i], F[j]));    /* not itself */
            else
                assert_true(hears(&k.ph[i], F[j]));
        }
    }
    /* The PCMA member heard what the PCMU ones said, and the reverse. */
    assert_true(k.ph[2].packets > 50 && k.ph[0].packets > 50);
    sb_media_mix_stats_t st;
    sb_media_engine_mix_stats(k.c.engine, &st);
    assert_true(st.ticks >= 50);
    assert_true(st.member_frames >= 3 * 50);

    /* Muted: nobody hears 700 Hz any more; 1 still hears the others. */
    assert_int_equal(sb_media_room_mute(k.room, k.ep[1], 1), 0);
    run_for(&k.c, 1500);
    assert_false(hears(&k.ph[0], 700));
    assert_false(hears(&k.ph[2], 700));
    assert_true(hears(&k.ph[1], 400) && hears(&k.ph[1], 1100));
    assert_int_equal(sb_media_room_mute(k.room, k.ep[1], 0), 0);
    run_for(&k.c, 1500);
    assert_true(hears(&k.ph[0], 700));

    /* Played into the room: everyone hears the beep (1 kHz). */
    sb_media_play_t beep = {.tone = "beep"};
    assert_int_equal(sb_media_room_play(k.room, &beep, on_done, slot(&k.c, 4)), 0);
    run_until(&k.c, &k.c.done[4], 1);
    assert_int_equal(k.c.status[4], 0);
    for (int i = 0; i < 3; i++)
        assert_true(heard(&k.ph[i], 2400, 1000) > 5000);

    /* A member that plays its own source hears it, not the room. */
    sb_media_play_t mine = {.tone = "dialtone:eu", .ms = 1300};
    assert_int_equal(sb_media_endpoint_play(k.ep[0], &mine, on_done,
                                            slot(&k.c, 5)), 0);
    run_for(&k.c, 900);
    assert_true(heard(&k.ph[0], 4000, 425) > 5000);
    assert_false(hears(&k.ph[0], 700));
    assert_true(hears(&k.ph[1], 400));  /* it is still heard */
    run_until(&k.c, &k.c.done[5], 1);

    /* Leaving: the others stop hearing it. */
    assert_int_equal(sb_media_room_leave(k.room, k.ep[2], on_done,
                                         slot(&k.c, 6)), 0);
    assert_int_equal(sb_media_room_leave(k.room, k.ep[2], NULL, NULL), SB_EINVAL);
    run_until(&k.c, &k.c.done[6], 1);
    run_for(&k.c, 1500);
    assert_false(hears(&k.ph[0], 1100));
    assert_true(hears(&k.ph[0], 700));
    assert_int_equal(sb_media_room_members(k.room), 2);
    conf_stop(&k);
}

/* Two workers: members created on either move to the room's; a destroyed
 * member's endpoint leaves the room by itself. */
static void test_media_mixer_two_workers_and_destroy(void **state)
{
    (void)state;
    static conf_t k;
    conf_start(&k, 2, 0);
    run_for(&k.c, 1500);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            assert_int_equal(hears(&k.ph[i], F[j]), i != j);
    assert_int_equal(sb_media_endpoint_destroy(k.ep[1], on_done,
                                               slot(&k.c, 7)), 0);
    run_until(&k.c, &k.c.done[7], 1);
    k.ep[1] = NULL;
    run_for(&k.c, 1000);
    assert_false(hears(&k.ph[0], 700));
    assert_true(hears(&k.ph[0], 1100));
    assert_int_equal(sb_media_room_members(k.room), 2);
    for (int i = 0; i < 3; i++)
        talker_close(&k.t[i]);
    int freed = 0;
    sb_media_room_destroy(k.room, on_freed,
                          &freed);
    sb_media_endpoint_destroy(k.ep[0], NULL, NULL);
    sb_media_endpoint_destroy(k.ep[2], NULL, NULL);
    phone_t *phs[] = {&k.ph[0], &k.ph[1], &k.ph[2]};
    ctx_close(&k.c, phs, 3);
    assert_int_equal(freed, 1);
}

int main(void)
{
    sb__media_g711_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_mixer_each_hears_the_others),
        cmocka_unit_test(test_media_mixer_two_workers_and_destroy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
