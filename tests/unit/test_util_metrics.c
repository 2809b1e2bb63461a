/*
 * test_util_metrics.c: the process-wide metrics (core/util/metrics.c) and
 * the logger's formats (core/util/log.c): SIP counting by method and code,
 * histograms, the off switch, the plugin cap, the event-loop lag timer on
 * a real libuv loop, JSON log lines and folded tracebacks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define HAS(s, text) assert_non_null(strstr((s), (text)))
#define REQ "switchboard_sip_requests_total"
#define RESP "switchboard_sip_responses_total"

static char *scrape(void)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_metrics_write(&b);
    return sb_buf_steal(&b);
}

static int setup(void **state)
{
    (void)state;
    sb_metrics_reset();
    sb_metrics_enable(1);
    return 0;
}

static void test_metrics_sip_counts_by_method_and_code(void **state)
{
    (void)state;
    sb_metrics_sip_request(0, "INVITE");
    sb_metrics_sip_request(0, "INVITE");
    sb_metrics_sip_request(0, "FOO");
    sb_metrics_sip_request(1, "BYE");
    sb_metrics_sip_response(1, "INVITE", 603);
    sb_metrics_sip_response(0, "INVITE", 180);
    sb_metrics_sip_response(1, "REGISTER", 401);
    sb_metrics_sip_response(1, "REGISTER", 200);
    sb_metrics_sip_response(1, "INVITE", 99);       /* ignored */
    sb_metrics_sip_response(1, "INVITE", 700);      /* ignored */
    char *s = scrape();
    HAS(s, REQ "{direction=\"received\",method=\"INVITE\"} 2\n");
    HAS(s, REQ "{direction=\"received\",method=\"other\"} 1\n");
    HAS(s, REQ "{direction=\"sent\",method=\"BYE\"} 1\n");
    HAS(s, RESP "{direction=\"sent\",method=\"INVITE\",code=\"603\"} 1\n");
    HAS(s, RESP "{direction=\"received\",method=\"INVITE\",code=\"180\"} 1\n");
    assert_non_null(strstr(s, "switchboard_sip_registrations_total{result=\"ok\"} 1\n"));
    assert_non_null(strstr(s, "switchboard_sip_registrations_total{result=\"challenged\"} 1\n"));
    assert_null(strstr(s, "code=\"99\""));
    assert_null(strstr(s, "code=\"700\""));
    free(s);
    assert_int_equal(sb_metrics_sip_method_index("INFO"), 6);
    assert_int_equal(sb_metrics_sip_method_index("REFER"), 11);
    assert_int_equal(sb_metrics_sip_method_index("invite"), 14);   /* methods are case-sensitive */
    assert_int_equal(sb_metrics_sip_method_index(NULL), 14);
}

static void test_metrics_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    static const double bounds[] = {0.1, 1};
    sb_metrics_hist_t h;
    memset(&h, 0, sizeof h);
    sb_metrics_hist_observe(&h, bounds, 2, 0.05);
    sb_metrics_hist_observe(&h, bounds, 2, 0.1);    /* le is inclusive */
    sb_metrics_hist_observe(&h, bounds, 2, 0.5);
    sb_metrics_hist_observe(&h, bounds, 2, 7);
    sb_buf_t b = SB_BUF_INIT;
    sb_metrics_hist_write(&b, "x_seconds", "w=\"1\"", bounds, 2, &h);
    assert_string_equal(sb_buf_str(&b),
                        "x_seconds_bucket{w=\"1\",le=\"0.1\"} 2\n"
                        "x_seconds_bucket{w=\"1\",le=\"1\"} 3\n"
                        "x_seconds_bucket{w=\"1\",le=\"+Inf\"} 4\n"
                        "x_seconds_sum{w=\"1\"} 7.65\n"
                        "x_seconds_count{w=\"1\"} 4\n");
    sb_buf_free(&b);
}

static void test_metrics_off_counts_nothing(void **state)
{
    (void)state;
    sb_metrics_enable(0);
    sb_metrics_sip_request(0, "INVITE");
    sb_metrics_rcml_fetch(0.2, "http");
    sb_metrics_lua_error("x");
    sb_metrics_enable(1);
    char *s = scrape();
    HAS(s, REQ "{direction=\"received\",method=\"INVITE\"} 0\n");
    assert_non_null(strstr(s, "switchboard_rcml_fetch_duration_seconds_count 0\n"));
    assert_non_null(strstr(s, "switchboard_rcml_fetch_failures_total{reason=\"http\"} 0\n"));
    assert_null(strstr(s, "plugin=\"x\""));
    free(s);
}

static void test_metrics_rcml_and_lua_errors(void **state)
{
    (void)state;
    sb_metrics_rcml_fetch(0.02, NULL);
    sb_metrics_rcml_fetch(3.0, "timeout");
    sb_metrics_rcml_fetch(0.01, "surprise");
    char name[32];
    for (int i = 0; i < 70; i++) {
        snprintf(name, sizeof name, "p%d", i);
        sb_metrics_lua_error(name);
    }
    sb_metrics_lua_error("p0");
    sb_metrics_lua_error("we\"ird");
    char *s = scrape();
    assert_non_null(strstr(s, "switchboard_rcml_fetch_duration_seconds_count 3\n"));
    assert_non_null(strstr(s, "switchboard_rcml_fetch_failures_total{reason=\"timeout\"} 1\n"));
    assert_non_null(strstr(s, "switchboard_rcml_fetch_failures_total{reason=\"other\"} 1\n"));
    assert_non_null(strstr(s, "switchboard_lua_errors_total{plugin=\"p0\"} 2\n"));
    assert_non_null(strstr(s, "switchboard_lua_errors_total{plugin=\"p63\"} 1\n"));
    assert_null(strstr(s, "plugin=\"p64\""));
    /* 64 names at most: the rest, and the odd one, count as "other". */
    assert_non_null(strstr(s, "switchboard_lua_errors_total{plugin=\"other\"} 7\n"));
    free(s);
}

/* ---- the event-loop lag timer on a real loop ---- */

static void on_block(uv_timer_t *t)
{
    (void)t;
    usleep(120 * 1000);         /* the loop is busy when the lag timer is due */
}

static int lag_closed;
static void on_lag_closed(void *arg)
{
    (void)arg;
    lag_closed++;
}

static void on_stop(uv_timer_t *t)
{
    sb_metrics_lag_close(on_lag_closed, NULL);
    uv_close((uv_handle_t *)t, NULL);
}

static void test_metrics_lag_timer_sees_a_busy_loop(void **state)
{
    (void)state;
    uv_loop_t loop;
    uv_timer_t block, stop;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(sb_metrics_lag_start(&loop), 0);
    assert_int_equal(sb_metrics_lag_start(&loop), UV_EBUSY);
    uv_timer_init(&loop, &block);
    uv_timer_init(&loop, &stop);
    uv_timer_start(&block, on_block, 200, 0);
    uv_timer_start(&stop, on_stop, 400, 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&block, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(lag_closed, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    char *s = scrape();
    assert_non_null(strstr(s, "switchboard_event_loop_lag_seconds_count 1\n"));
    /* Due at 250 ms, fired after the 200 + 120 ms block: >= 50 ms late. */
    assert_non_null(strstr(s, "switchboard_event_loop_lag_seconds_bucket{le=\"0.025\"} 0\n"));
    const char *last = strstr(s, "\nswitchboard_event_loop_lag_last_seconds ");
    assert_non_null(last);
    assert_true(atof(last + strlen("\nswitchboard_event_loop_lag_last_seconds ")) >= 0.05);
    free(s);
}

/* ---- log formats ---- */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_log_json_one_object_per_line(void **state)
{
    (void)state;
    char path[] = "/tmp/sb-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sb_log_set_format("yaml"), SB_EINVAL);
    assert_int_equal(sb_log_set_format("json"), 0);
    assert_int_equal(sb_log_open(path), 0);
    sb_log_emit(SB_LOG_INFO, NULL, "plain \"quoted\" \\ line");
    sb_log_emit_plugin(SB_LOG_ERROR, "CA0123", "boom",
                       "failed: x.lua:4: no\nstack traceback:\n\t[C]: in ?\n\tx.lua:4: in f\n");
    sb_log_emit(SB_LOG_WARN, "CA9", "bytes \x01 \xff caf\xc3\xa9");
    sb_log_close();
    assert_int_equal(sb_log_set_format("text"), 0);
    const char *s = read_all(path);
    unlink(path);
    const char *l1 = s, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
    HAS(s, "\",\"level\":\"info\",\"msg\":\"plain \\\"quoted\\\" \\\\ line\"}\n");
    assert_memory_equal(l1, "{\"ts\":\"", 7);
    HAS(l2, "\"level\":\"error\",\"msg\":\"failed: x.lua:4: no | "
            "stack traceback: | [C]: in ? | x.lua:4: in f\","
            "\"call_sid\":\"CA0123\",\"plugin\":\"boom\"}\n");
    HAS(l3, "\"msg\":\"bytes \\u0001 \\ufffd caf\xc3\xa9\",\"call_sid\":\"CA9\"}\n");
    assert_int_equal(strchr(l3, '\n')[1], '\0');         /* three lines, no more */
}

static void test_log_text_folds_tracebacks(void **state)
{
    (void)state;
    char path[] = "/tmp/sb-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(sb_log_open(path), 0);
    sb_log_emit(SB_LOG_ERROR, "CA1", "a\nstack traceback:\n\tb\n\tc");
    sb_log_close();
    const char *s = read_all(path);
    unlink(path);
    assert_non_null(strstr(s, "Z ERROR [CA1] a | stack traceback: | b | c\n"));
    assert_int_equal(strchr(s, '\n')[1], '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_metrics_sip_counts_by_method_and_code, setup),
        cmocka_unit_test_setup(test_metrics_histogram_buckets_are_cumulative, setup),
        cmocka_unit_test_setup(test_metrics_off_counts_nothing, setup),
        cmocka_unit_test_setup(test_metrics_rcml_and_lua_errors, setup),
        cmocka_unit_test_setup(test_metrics_lag_timer_sees_a_busy_loop, setup),
        cmocka_unit_test(test_log_json_one_object_per_line),
        cmocka_unit_test(test_log_text_folds_tracebacks),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    sb_metrics_reset();
    return rc;
}
