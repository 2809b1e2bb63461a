/* test_loop.c: the reactor. libuv timers fire through the sofia bridge,
 * libuv work started from a sofia callback runs, the ordered shutdown
 * closes modules in reverse, uv_loop_close returns 0, and a real nua
 * OPTIONS round trip against a sipp UAS on loopback completes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#define NUA_MAGIC_T void
#include <sofia-sip/nua.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_wait.h>

#include "loop.h"
#include "util.h"

/* ---- timers through the bridge ------------------------------------------ */

typedef struct {
    sb_loop_t *loop;
    uv_timer_t timer;
    int fired;
    int closed_order[4];
    int n_closed;
} tctx_t;

static void on_tick(uv_timer_t *t)
{
    tctx_t *c = t->data;
    if (++c->fired == 5)
        sb_loop_stop(c->loop);
}

static void on_timer_closed(uv_handle_t *h)
{
    tctx_t *c = h->data;
    sb_loop_closed(c->loop);
}

static void close_timer(void *arg)
{
    tctx_t *c = arg;
    c->closed_order[c->n_closed++] = 2;
    uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static void close_first(void *arg)
{
    tctx_t *c = arg;
    c->closed_order[c->n_closed++] = 1;
    sb_loop_closed(c->loop);
}

static void test_loop_uv_timers_fire_through_bridge(void **state)
{
    tctx_t c = {0};
    assert_int_equal(sb_loop_new(&c.loop), 0);
    uv_timer_init(sb_loop_uv(c.loop), &c.timer);
    c.timer.data = &c;
    uv_timer_start(&c.timer, on_tick, 10, 10);
    /* Registered first, so closed last. */
    sb_loop_add_closer(c.loop, "first", close_first, &c);
    sb_loop_add_closer(c.loop, "timer", close_timer, &c);
    int64_t t0 = sb_time_now_ms();
    assert_int_equal(sb_loop_run(c.loop), 0);
    assert_int_equal(c.fired, 5);
    assert_true(sb_time_now_ms() - t0 >= 40);
    assert_int_equal(c.n_closed, 2);
    assert_int_equal(c.closed_order[0], 2);
    assert_int_equal(c.closed_order[1], 1);
    assert_int_equal(sb_loop_free(c.loop), 0);
}

/* ---- libuv work started inside a sofia callback ------------------------- */

static void on_late_uv_timer(uv_timer_t *t)
{
    tctx_t *c = t->data;
    c->fired++;
    uv_close((uv_handle_t *)t, NULL);
    sb_loop_stop(c->loop);
}

static void on_sofia_timer(su_root_magic_t *m, su_timer_t *t, su_timer_arg_t *arg)
{
    tctx_t *c = (tctx_t *)arg;
    /* The loop is idle (no uv timers): without sb_loop_sync this timer
     * would wait for the 60 s idle re-arm. */
    uv_timer_init(sb_loop_uv(c->loop), &c->timer);
    c->timer.data = c;
    uv_timer_start(&c->timer, on_late_uv_timer, 5, 0);
    sb_loop_sync(c->loop);
}

static void test_loop_uv_work_from_sofia_callback_runs(void **state)
{
    tctx_t c = {0};
    assert_int_equal(sb_loop_new(&c.loop), 0);
    su_root_t *root = sb_loop_su_root(c.loop);
    su_timer_t *st = su_timer_create(su_root_task(root), 0);
    su_timer_set_interval(st, on_sofia_timer, (su_timer_arg_t *)&c, 20);
    int64_t t0 = sb_time_now_ms();
    assert_int_equal(sb_loop_run(c.loop), 0);
    assert_int_equal(c.fired, 1);
    assert_true(sb_time_now_ms() - t0 < 5000);
    su_timer_destroy(st);
    assert_int_equal(sb_loop_free(c.loop), 0);
}

/* ---- a leaked handle makes uv_loop_close fail and is reported ----------- */

static void test_loop_free_reports_open_handles(void **state)
{
    sb_loop_t *loop;
    static uv_timer_t leaked;
    assert_int_equal(sb_loop_new(&loop), 0);
    uv_timer_init(sb_loop_uv(loop), &leaked);
    sb_loop_stop(loop);
    assert_int_equal(sb_loop_run(loop), 0);
    assert_int_not_equal(sb_loop_free(loop), 0);
}

/* ---- nua OPTIONS round trip against sipp -------------------------------- */

typedef struct {
    sb_loop_t *loop;
    nua_t *nua;
    int status;
    int had_marker;
    uv_timer_t destroy;
} nctx_t;

static void on_destroy_closed(uv_handle_t *h)
{
    nctx_t *c = h->data;
    sb_loop_closed(c->loop);
}

static void on_destroy(uv_timer_t *t)
{
    nctx_t *c = t->data;
    nua_destroy(c->nua);
    c->nua = NULL;
    uv_close((uv_handle_t *)t, on_destroy_closed);
}

static void on_nua(nua_event_t ev, int status, char const *phrase, nua_t *nua,
                   void *magic, nua_handle_t *nh, nua_hmagic_t *hm,
                   sip_t const *sip, tagi_t tags[])
{
    nctx_t *c = magic;
    if (ev == nua_r_options) {
        c->status = status;
        if (sip) {
            for (sip_unknown_t *u = sip->sip_unknown; u; u = u->un_next)
                if (strcasecmp(u->un_name, "X-Sipp-Uas") == 0)
                    c->had_marker = 1;
        }
        nua_handle_destroy(nh);
        sb_loop_stop(c->loop);
    } else if (ev == nua_r_shutdown && status >= 200) {
        uv_timer_start(&c->destroy, on_destroy, 0, 0);
    }
    sb_loop_sync(c->loop);
}

static void close_nua(void *arg)
{
    nctx_t *c = arg;
    nua_shutdown(c->nua);
}

static int free_port(void)
{
    FILE *p = popen("python3 " SB_SOURCE_DIR "/tests/integration/free_ports.py 1", "r");
    int port = 0;
    if (p) {
        if (fscanf(p, "%d", &port) != 1)
            port = 0;
        pclose(p);
    }
    return port;
}

static void test_loop_nua_options_round_trip_with_sipp(void **state)
{
    int uas_port = free_port(), our_port = free_port();
    assert_true(uas_port > 0 && our_port > 0);
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", uas_port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execlp("timeout", "timeout", "30", "sipp", "-sf", SB_SIPP_UAS, "-i", "127.0.0.1",
               "-p", port_s, "-m", "1", "-nostdin", "-bg", (char *)NULL);
        _exit(127);
    }
    int st = 0;
    /* -bg forks sipp into the background and returns at once. */
    waitpid(pid, &st, 0);
    usleep(300 * 1000);

    nctx_t c = {0};
    assert_int_equal(sb_loop_new(&c.loop), 0);
    uv_timer_init(sb_loop_uv(c.loop), &c.destroy);
    c.destroy.data = &c;
    char url[64], target[64];
    snprintf(url, sizeof url, "sip:127.0.0.1:%d;transport=udp", our_port);
    snprintf(target, sizeof target, "sip:127.0.0.1:%d", uas_port);
    c.nua = nua_create(sb_loop_su_root(c.loop), on_nua, &c, NUTAG_URL(url), TAG_END());
    assert_non_null(c.nua);
    sb_loop_add_closer(c.loop, "nua", close_nua, &c);
    nua_handle_t *nh = nua_handle(c.nua, NULL, NUTAG_URL(target), TAG_END());
    nua_options(nh, TAG_END());
    assert_int_equal(sb_loop_run(c.loop), 0);
    assert_int_equal(c.status, 200);
    assert_int_equal(c.had_marker, 1);
    assert_int_equal(sb_loop_free(c.loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_uv_timers_fire_through_bridge),
        cmocka_unit_test(test_loop_uv_work_from_sofia_callback_runs),
        cmocka_unit_test(test_loop_free_reports_open_handles),
        cmocka_unit_test(test_loop_nua_options_round_trip_with_sipp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
