/*
 * test_http.c: the http module's unit test executable. Holds main, the
 * shared helpers of test_http.h and the codec tests (form encode/decode,
 * percent-decoding, UTF-8, URL resolution, params); the server and client
 * tests are in test_http_server.c and test_http_client.c.
 */
#include "test_http.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

static void on_watchdog(uv_timer_t *t)
{
    t_env_t *env = t->data;
    env->fired = 1;
}

/* Runs before the loop blocks for I/O. uv_run(UV_RUN_ONCE) runs due timers
 * and then polls; without this, a condition set by a timer callback would
 * be noticed only at the next event. uv_stop makes that poll not block. */
static void on_prepare(uv_prepare_t *p)
{
    t_env_t *env = p->data;
    if (env->done && env->done(env->done_arg))
        uv_stop(&env->loop);
}

void t_env_init(t_env_t *env)
{
    memset(env, 0, sizeof *env);
    assert_int_equal(uv_loop_init(&env->loop), 0);
    uv_timer_init(&env->loop, &env->watchdog);
    uv_prepare_init(&env->loop, &env->prepare);
    env->watchdog.data = env;
    env->prepare.data = env;
}

static int flag_set(void *arg) { return *(const int *)arg != 0; }

void t_run_while(t_env_t *env, int (*done)(void *arg), void *arg)
{
    env->fired = 0;
    env->done = done;
    env->done_arg = arg;
    uv_prepare_start(&env->prepare, on_prepare);
    uv_timer_start(&env->watchdog, on_watchdog, 10000, 0);
    while (!done(arg) && !env->fired)
        uv_run(&env->loop, UV_RUN_ONCE);
    uv_timer_stop(&env->watchdog);
    uv_prepare_stop(&env->prepare);
    env->done = NULL;
    if (!done(arg))
        fail_msg("timed out waiting for a condition");
}

void t_run_until(t_env_t *env, const int *flag)
{
    t_run_while(env, flag_set, (void *)flag);
}

void t_run_for(t_env_t *env, int ms)
{
    env->fired = 0;
    uv_timer_start(&env->watchdog, on_watchdog, (uint64_t)ms, 0);
    while (!env->fired)
        uv_run(&env->loop, UV_RUN_ONCE);
}

void t_env_finish(t_env_t *env)
{
    uv_close((uv_handle_t *)&env->watchdog, NULL);
    uv_close((uv_handle_t *)&env->prepare, NULL);
    for (int i = 0; i < 5000 && uv_loop_alive(&env->loop); i++) {
        uv_run(&env->loop, UV_RUN_NOWAIT);
        if (uv_loop_alive(&env->loop))
            usleep(1000);
    }
    int rc = uv_loop_close(&env->loop);
    if (rc != 0)
        uv_print_all_handles(&env->loop, stderr);
    assert_int_equal(rc, 0);
}

static void raw_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    t_raw_t *raw = h->data;
    (void)hint;
    sb_buf_reserve(&raw->in, 4096);
    buf->base = raw->in.data + raw->in.len;
    buf->len = raw->in.cap - raw->in.len - 1;
}

static void raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    t_raw_t *raw = s->data;
    (void)buf;
    if (n > 0) {
        raw->in.len += (size_t)n;
        raw->in.data[raw->in.len] = '\0';
    } else if (n < 0) {
        raw->eof = 1;
        raw->err = n == UV_EOF ? 0 : (int)n;
        uv_read_stop(s);
    }
}

static void raw_written(uv_write_t *wr, int status)
{
    (void)status;
    free(wr->data);
    free(wr);
}

static void raw_write_now(t_raw_t *raw, const char *data, size_t len)
{
    uv_write_t *wr = malloc(sizeof *wr);
    char *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    wr->data = copy;
    uv_buf_t b = uv_buf_init(copy, (unsigned)len);
    if (uv_write(wr, (uv_stream_t *)&raw->tcp, &b, 1, raw_written) < 0) {
        free(copy);
        free(wr);
    }
}

static void raw_connected(uv_connect_t *req, int status)
{
    t_raw_t *raw = req->data;
    if (status < 0) {
        raw->eof = 1;
        raw->err = status;
        return;
    }
    raw->connected = 1;
    uv_read_start((uv_stream_t *)&raw->tcp, raw_alloc, raw_read);
    if (raw->pending.len) {
        raw_write_now(raw, raw->pending.data, raw->pending.len);
        sb_buf_reset(&raw->pending);
    }
}

t_raw_t *t_raw_connect(t_env_t *env, int port)
{
    return t_raw_connect_from(env, port, NULL);
}

t_raw_t *t_raw_connect_from(t_env_t *env, int port, const char *from)
{
    t_raw_t *raw = calloc(1, sizeof *raw);
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", port, &sa);
    uv_tcp_init(&env->loop, &raw->tcp);
    if (from) {
        struct sockaddr_in local;
        uv_ip4_addr(from, 0, &local);
        assert_int_equal(uv_tcp_bind(&raw->tcp,
                                     (const struct sockaddr *)&local, 0), 0);
    }
    raw->tcp.data = raw;
    raw->creq.data = raw;
    assert_int_equal(uv_tcp_connect(&raw->creq, &raw->tcp,
                                    (const struct sockaddr *)&sa,
                                    raw_connected), 0);
    return raw;
}

void t_raw_send(t_raw_t *raw, const char *data, size_t len)
{
    if (raw->connected)
        raw_write_now(raw, data, len);
    else
        sb_buf_append(&raw->pending, data, len);
}

void t_raw_sends(t_raw_t *raw, const char *text)
{
    t_raw_send(raw, text, strlen(text));
}

static void raw_closed(uv_handle_t *h)
{
    t_raw_t *raw = h->data;
    sb_buf_free(&raw->in);
    sb_buf_free(&raw->pending);
    free(raw);
}

void t_raw_close(t_raw_t *raw)
{
    uv_close((uv_handle_t *)&raw->tcp, raw_closed);
}

void t_raw_reset(t_raw_t *raw)
{
    uv_tcp_close_reset(&raw->tcp, raw_closed);
}

char *t_raw_request(t_env_t *env, int port, const char *text)
{
    t_raw_t *raw = t_raw_connect(env, port);
    t_raw_sends(raw, text);
    t_run_until(env, &raw->eof);
    char *out = sb_xstrdup(sb_buf_str(&raw->in));
    t_raw_close(raw);
    return out;
}

int t_count(const char *hay, const char *needle)
{
    int n = 0;
    size_t nl = strlen(needle);
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += nl)
        n++;
    return n;
}

/* ---- codec tests -------------------------------------------------------- */

static void test_http_form_encode_escapes_reserved(void **state)
{
    (void)state;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    sb_buf_t out = SB_BUF_INIT;
    sb_http_params_add(&p, "To", "+1 555");
    sb_http_params_add(&p, "a&b", "x=y/z~*._-");
    sb_http_params_add(&p, "Name", "J\xC3\xB6rg");
    sb_http_params_add(&p, "empty", "");
    sb_http_form_encode(&out, &p);
    assert_string_equal(sb_buf_str(&out),
                        "To=%2B1+555&a%26b=x%3Dy%2Fz%7E*._-&Name=J%C3%B6rg&empty=");
    sb_buf_free(&out);
    sb_http_params_free(&p);

    sb_http_form_encode(&out, &p);    /* empty list: nothing */
    assert_int_equal(out.len, 0);
}

static void test_http_form_decode_round_trips(void **state)
{
    (void)state;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT, q = SB_HTTP_PARAMS_INIT;
    const char *s = "a=1&&b=x+y%21&flag&c=%c3%a9&a=2&=v";
    assert_int_equal(sb_http_form_decode(s, strlen(s), &p), 0);
    assert_int_equal(p.count, 6);
    assert_string_equal(sb_http_params_get(&p, "a"), "1");   /* first wins */
    assert_string_equal(sb_http_params_get(&p, "b"), "x y!");
    assert_string_equal(sb_http_params_get(&p, "flag"), "");
    assert_string_equal(sb_http_params_get(&p, "c"), "\xC3\xA9");
    assert_string_equal(p.items[4].value, "2");
    assert_string_equal(sb_http_params_get(&p, ""), "v");
    assert_null(sb_http_params_get(&p, "A"));
    assert_string_equal(sb_http_params_get_ci(&p, "A"), "1");

    sb_buf_t enc = SB_BUF_INIT;
    sb_http_form_encode(&enc, &p);
    assert_int_equal(sb_http_form_decode(enc.data, enc.len, &q), 0);
    assert_int_equal(q.count, p.count);
    for (size_t i = 0; i < p.count; i++) {
        assert_string_equal(q.items[i].name, p.items[i].name);
        assert_string_equal(q.items[i].value, p.items[i].value);
    }
    sb_buf_free(&enc);
    sb_http_params_free(&p);
    sb_http_params_free(&q);
}

static void test_http_form_decode_rejects_bad_escapes(void **state)
{
    (void)state;
    const char *bad[] = {"a=%", "a=%4", "a=%zz", "a=%00", "%G1=1", "a=1&b=%0"};
    for (size_t i = 0; i < SB_COUNTOF(bad); i++) {
        sb_http_params_t p = SB_HTTP_PARAMS_INIT;
        assert_int_equal(sb_http_form_decode(bad[i], strlen(bad[i]), &p),
                         SB_EINVAL);
        sb_http_params_free(&p);
    }
    char *out = NULL;
    assert_int_equal(sb_http_url_decode("/a%20b+c", 8, &out), 0);
    assert_string_equal(out, "/a b+c");     /* '+' is literal in a path */
    free(out);
    assert_int_equal(sb_http_url_decode("/a%00", 5, &out), SB_EINVAL);
    assert_int_equal(sb_http_url_decode("/a%2", 4, &out), SB_EINVAL);
}

static void test_http_utf8_valid_checks_sequences(void **state)
{
    (void)state;
    const char *good[] = {"", "plain", "J\xC3\xB6rg", "\xE2\x82\xAC",
                          "\xF0\x9F\x93\x9E", "\xEF\xBF\xBF"};
    const char *bad[] = {"\xC3", "\xC0\xAF", "\xE0\x80\xAF", "\xED\xA0\x80",
                         "\xF4\x90\x80\x80", "\xFF", "a\x80", "\xE2\x82"};
    for (size_t i = 0; i < SB_COUNTOF(good); i++)
        assert_true(sb_http_utf8_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < SB_COUNTOF(bad); i++)
        assert_false(sb_http_utf8_valid(bad[i], strlen(bad[i])));

    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    sb_http_params_add(&p, "ok", "\xC3\xA9");
    assert_true(sb_http_params_utf8_valid(&p));
    sb_http_params_add(&p, "bad", "\xC3");
    assert_false(sb_http_params_utf8_valid(&p));
    sb_http_params_free(&p);
}

static void test_http_url_resolve_relative(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(sb_http_url_resolve("http://h:8080/app/doc.xml?x=1",
                                         "next.xml", &out), 0);
    assert_string_equal(out, "http://h:8080/app/next.xml");
    free(out);
    assert_int_equal(sb_http_url_resolve("http://h/app/doc.xml", "/b?c=1",
                                         &out), 0);
    assert_string_equal(out, "http://h/b?c=1");
    free(out);
    assert_int_equal(sb_http_url_resolve("http://h/a", "https://o/x", &out), 0);
    assert_string_equal(out, "https://o/x");
    free(out);
    assert_int_equal(sb_http_url_resolve("http://h/a", "ftp://o/x", &out),
                     SB_EINVAL);
    assert_int_equal(sb_http_url_resolve("not a url", "x", &out), SB_EINVAL);
}

static void test_http_status_text_known_and_unknown(void **state)
{
    (void)state;
    assert_string_equal(sb_http_status_text(404), "Not Found");
    assert_string_equal(sb_http_status_text(431),
                        "Request Header Fields Too Large");
    assert_string_equal(sb_http_status_text(799), "Unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_form_encode_escapes_reserved),
        cmocka_unit_test(test_http_form_decode_round_trips),
        cmocka_unit_test(test_http_form_decode_rejects_bad_escapes),
        cmocka_unit_test(test_http_utf8_valid_checks_sequences),
        cmocka_unit_test(test_http_url_resolve_relative),
        cmocka_unit_test(test_http_status_text_known_and_unknown),
    };
    sb_log_set_level(SB_LOG_WARN);
    int failed = cmocka_run_group_tests_name("http_codecs", tests, NULL, NULL);
    failed += t_http_server_tests();
    failed += t_http_client_tests();
    return failed ? 1 : 0;
}
