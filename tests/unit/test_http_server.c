/*
 * test_http_server.c: the HTTP server and router on a real loop, driven
 * by a raw TCP client (test_http.h) so that every byte on the wire is the
 * test's choice: keep-alive, pipelining with asynchronous answers, limits,
 * malformed input, timeouts, decoding, routing, CORS, graceful close.
 */
#include "test_http.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct ctx_s ctx_t;

typedef struct {
    uv_timer_t timer;
    sb_http_req_t *req;
    ctx_t *ctx;
    const char *body;
} delayed_t;

struct ctx_s {
    t_env_t env;
    sb_http_server_t *srv;
    sb_http_router_t *router;
    int port;
    int closed;
    int calls;
    char order[64];
    sb_http_req_t *held;
    int nheld;
    /* what /echo saw */
    char *path, *raw_path, *query_string, *param_x, *param_y, *form_name,
        *ctype, *body, *method, *path_param;
    int hdr_ok, hdr_reserved, hdr_crlf, bad_status;
};

static void on_srv_closed(void *arg)
{
    ctx_t *ctx = arg;
    ctx->closed = 1;
}

static void on_srv_closed_flag(void *arg) { *(int *)arg = 1; }

static void ctx_free_strings(ctx_t *ctx)
{
    free(ctx->path);
    free(ctx->raw_path);
    free(ctx->query_string);
    free(ctx->param_x);
    free(ctx->param_y);
    free(ctx->form_name);
    free(ctx->ctype);
    free(ctx->body);
    free(ctx->method);
    free(ctx->path_param);
}

static void answer_text(sb_http_req_t *req, int status, const char *text)
{
    assert_int_equal(sb_http_respond(req, status, "text/plain", text,
                                     strlen(text)), 0);
}

static void on_delay_closed(uv_handle_t *h)
{
    free(h->data);
}

static void on_delay(uv_timer_t *t)
{
    delayed_t *d = t->data;
    strcat(d->ctx->order, "s");
    answer_text(d->req, 200, d->body);
    uv_close((uv_handle_t *)&d->timer, on_delay_closed);
}

static void answer_later(ctx_t *ctx, sb_http_req_t *req, int ms,
                         const char *body)
{
    delayed_t *d = calloc(1, sizeof *d);
    d->req = req;
    d->ctx = ctx;
    d->body = body;
    uv_timer_init(&ctx->env.loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, on_delay, (uint64_t)ms, 0);
}

static char *dup_or_null(const char *s)
{
    return s ? sb_xstrdup(s) : NULL;
}

/* The handler of the tests that do not use the router. */
static void handler(sb_http_req_t *req, void *arg)
{
    ctx_t *ctx = arg;
    const char *path = sb_http_req_path(req);
    ctx->calls++;
    if (strcmp(path, "/hello") == 0) {
        char text[128];
        snprintf(text, sizeof text, "hello %s", sb_http_req_remote(req));
        answer_text(req, 200, text);
    } else if (strcmp(path, "/slow") == 0) {
        strcat(ctx->order, "S");
        answer_later(ctx, req, 50, "slow-body");
    } else if (strcmp(path, "/fast") == 0) {
        strcat(ctx->order, "F");
        answer_text(req, 200, "fast-body");
    } else if (strcmp(path, "/close-now") == 0) {
        sb_http_server_close(ctx->srv, on_srv_closed, ctx);
        answer_text(req, 200, "bye");
    } else if (strcmp(path, "/hold") == 0) {
        ctx->held = req;
        ctx->nheld++;
    } else if (strcmp(path, "/hdr") == 0) {
        ctx->hdr_ok = sb_http_resp_header(req, "X-A", "1");
        ctx->hdr_reserved = sb_http_resp_header(req, "content-length", "5");
        ctx->hdr_crlf = sb_http_resp_header(req, "X-B", "a\r\nEvil: 1");
        ctx->bad_status = sb_http_respond(req, 99, NULL, NULL, 0);
        answer_text(req, 201, "made");
    } else {
        size_t len;
        const char *body = sb_http_req_body(req, &len);
        ctx_free_strings(ctx);
        ctx->method = sb_xstrdup(sb_http_req_method(req));
        ctx->path = sb_xstrdup(path);
        ctx->raw_path = sb_xstrdup(sb_http_req_raw_path(req));
        ctx->query_string = sb_xstrdup(sb_http_req_query_string(req));
        ctx->param_x = dup_or_null(sb_http_req_param(req, "x"));
        ctx->param_y = dup_or_null(sb_http_req_param(req, "y"));
        ctx->form_name = dup_or_null(sb_http_params_get(sb_http_req_form(req),
                                                        "name"));
        ctx->ctype = dup_or_null(sb_http_req_header(req, "content-TYPE"));
        ctx->body = sb_xstrndup(body, len);
        answer_text(req, 200, body);
    }
}

/* Starts a server on an ephemeral port: with the router when not NULL,
 * else with the path-switch handler above. */
static void ctx_start_with(ctx_t *ctx, const sb_http_server_opts_t *opts,
                           sb_http_router_t *router)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->router = router;
    t_env_init(&ctx->env);
    sb_http_server_opts_t o = opts ? *opts : (sb_http_server_opts_t){0};
    o.host = "127.0.0.1";
    o.port = 0;
    if (ctx->router)
        assert_int_equal(sb_http_server_new(&ctx->env.loop, &o,
                                             sb_http_router_dispatch,
                                             ctx->router, &ctx->srv), 0);
    else
        assert_int_equal(sb_http_server_new(&ctx->env.loop, &o, handler, ctx,
                                            &ctx->srv), 0);
    assert_int_equal(sb_http_server_listen(ctx->srv), 0);
    ctx->port = sb_http_server_port(ctx->srv);
    assert_true(ctx->port > 0);
}

static void ctx_start(ctx_t *ctx, const sb_http_server_opts_t *opts)
{
    ctx_start_with(ctx, opts, NULL);
}

static void ctx_stop(ctx_t *ctx)
{
    sb_http_server_close(ctx->srv, on_srv_closed, ctx);
    t_run_until(&ctx->env, &ctx->closed);
    sb_http_router_free(ctx->router);
    ctx_free_strings(ctx);
    t_env_finish(&ctx->env);
}

static int has_eof(void *arg) { return ((t_raw_t *)arg)->eof; }

typedef struct {
    t_raw_t *raw;
    const char *needle;
    int n;
} wait_count_t;

static int count_reached(void *arg)
{
    wait_count_t *w = arg;
    return t_count(sb_buf_str(&w->raw->in), w->needle) >= w->n || w->raw->eof;
}

static void wait_for(ctx_t *ctx, t_raw_t *raw, const char *needle, int n)
{
    wait_count_t w = {raw, needle, n};
    t_run_while(&ctx->env, count_reached, &w);
    assert_true(t_count(sb_buf_str(&raw->in), needle) >= n);
}

/* ---- tests -------------------------------------------------------------- */

static void test_http_server_simple_get_answers(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /hello HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n");
    assert_non_null(strstr(r, "HTTP/1.1 200 OK\r\n"));
    assert_ptr_equal(strstr(r, "HTTP/1.1 200 OK\r\n"), r);
    assert_non_null(strstr(r, "\r\nDate: "));
    assert_non_null(strstr(r, " GMT\r\n"));
    assert_non_null(strstr(r, "\r\nContent-Type: text/plain\r\n"));
    assert_non_null(strstr(r, "\r\nContent-Length: 15\r\n"));
    assert_non_null(strstr(r, "\r\nConnection: close\r\n"));
    assert_non_null(strstr(r, "\r\n\r\nhello 127.0.0.1"));
    assert_int_equal(ctx.calls, 1);
    free(r);
    ctx_stop(&ctx);
}

static void test_http_server_keep_alive_serves_two_requests(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    t_raw_t *raw = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(raw, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    wait_for(&ctx, raw, "hello 127.0.0.1", 1);
    assert_false(raw->eof);
    assert_non_null(strstr(sb_buf_str(&raw->in), "Connection: keep-alive\r\n"));
    t_raw_sends(raw, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    t_run_while(&ctx.env, has_eof, raw);
    assert_int_equal(raw->err, 0);
    assert_int_equal(t_count(sb_buf_str(&raw->in), "HTTP/1.1 200 OK"), 2);
    assert_int_equal(t_count(sb_buf_str(&raw->in), "Connection: close\r\n"), 1);
    sb_http_server_stats_t st;
    sb_http_server_stats(ctx.srv, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.requests, 2);
    t_raw_close(raw);
    ctx_stop(&ctx);
}

static void test_http_server_pipelined_answers_in_order(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    /* Both requests in one segment: the first is answered 50 ms later by a
     * timer, the second at once; the wire must still say slow, fast. */
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /hello HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n");
    assert_string_equal(ctx.order, "SFs");  /* fast answered before slow */
    const char *slow = strstr(r, "slow-body");
    const char *fast = strstr(r, "fast-body");
    const char *hello = strstr(r, "hello 127.0.0.1");
    assert_non_null(slow);
    assert_non_null(fast);
    assert_non_null(hello);
    assert_true(slow < fast);
    assert_true(fast < hello);
    assert_int_equal(t_count(r, "HTTP/1.1 200 OK"), 3);
    free(r);
    ctx_stop(&ctx);
}

static void test_http_server_body_over_limit_gets_413(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.max_body_bytes = 16};
    ctx_start(&ctx, &o);
    char req[512];
    snprintf(req, sizeof req,
             "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n%0100d", 0);
    char *r = t_raw_request(&ctx.env, ctx.port, req);
    assert_ptr_equal(strstr(r, "HTTP/1.1 413 "), r);
    assert_non_null(strstr(r, "Connection: close\r\n"));
    free(r);

    /* Chunked: no length up front, the limit applies while reading. */
    r = t_raw_request(&ctx.env, ctx.port,
                      "POST /echo HTTP/1.1\r\nHost: x\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n"
                      "10\r\n0123456789abcdef\r\n10\r\n0123456789abcdef\r\n"
                      "0\r\n\r\n");
    assert_ptr_equal(strstr(r, "HTTP/1.1 413 "), r);
    free(r);
    assert_int_equal(ctx.calls, 0);

    /* Exactly at the limit is fine. */
    r = t_raw_request(&ctx.env, ctx.port,
                      "POST /echo HTTP/1.1\r\nHost: x\r\n"
                      "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                      "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n");
    assert_ptr_equal(strstr(r, "HTTP/1.1 200 "), r);
    assert_string_equal(ctx.body, "0123456789abcdef");
    free(r);
    ctx_stop(&ctx);
}

static void test_http_server_headers_over_limit_get_431(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.max_header_bytes = 256};
    ctx_start(&ctx, &o);
    char big[1200];
    snprintf(big, sizeof big, "GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: %01000d\r\n\r\n", 7);
    char *r = t_raw_request(&ctx.env, ctx.port, big);
    assert_ptr_equal(strstr(r, "HTTP/1.1 431 "), r);
    assert_non_null(strstr(r, "Connection: close\r\n"));
    free(r);

    char url[1200];
    snprintf(url, sizeof url, "GET /%0600d HTTP/1.1\r\nHost: x\r\n\r\n", 7);
    r = t_raw_request(&ctx.env, ctx.port, url);
    assert_ptr_equal(strstr(r, "HTTP/1.1 414 "), r);
    free(r);
    assert_int_equal(ctx.calls, 0);
    ctx_stop(&ctx);
}

static void test_http_server_malformed_requests_get_400(void **state)
{
    (void)state;
    const char *bad[] = {
        "BL\x01H / HTTP/1.1\r\n\r\n",
        "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /a?q=%2 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n\r\na=%",
        "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
        "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    };
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    for (size_t i = 0; i < SB_COUNTOF(bad); i++) {
        /* A good request after the bad one on the same connection must
         * never be answered: the connection closes after the 400. */
        char req[512];
        snprintf(req, sizeof req, "%sGET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
                 bad[i]);
        char *r = t_raw_request(&ctx.env, ctx.port, req);
        if (strstr(r, "HTTP/1.1 400 ") != r)
            fail_msg("request %zu: got %s", i, r);
        assert_null(strstr(r, "hello"));
        assert_non_null(strstr(r, "Connection: close\r\n"));
        free(r);
    }
    assert_int_equal(ctx.calls, 0);
    ctx_stop(&ctx);
}

static void test_http_server_slow_request_gets_408(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.request_timeout_ms = 100};
    ctx_start(&ctx, &o);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "POST /echo HTTP/1.1\r\nHost: x\r\n"
                            "Content-Length: 10\r\n\r\n12345");
    assert_ptr_equal(strstr(r, "HTTP/1.1 408 "), r);
    assert_non_null(strstr(r, "Connection: close\r\n"));
    assert_int_equal(ctx.calls, 0);
    free(r);
    ctx_stop(&ctx);
}

static void test_http_server_idle_connection_closed(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.idle_timeout_ms = 100};
    ctx_start(&ctx, &o);
    t_raw_t *raw = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(raw, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    t_run_while(&ctx.env, has_eof, raw);   /* answer, then idle close */
    assert_int_equal(raw->err, 0);
    assert_int_equal(t_count(sb_buf_str(&raw->in), "HTTP/1.1 200"), 1);
    t_raw_close(raw);
    ctx_stop(&ctx);
}

static void test_http_server_decodes_path_query_and_form(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    const char *body = "x=2&name=J%C3%B6rg&flag";
    char req[512];
    snprintf(req, sizeof req,
             "POST /p%%20q/r%%2Fs?x=1&y=a+b%%21&z=%%E2%%82%%AC HTTP/1.1\r\n"
             "Host: x\r\nContent-Type: application/x-www-form-urlencoded; "
             "charset=UTF-8\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
             strlen(body), body);
    char *r = t_raw_request(&ctx.env, ctx.port, req);
    assert_ptr_equal(strstr(r, "HTTP/1.1 200 "), r);
    free(r);
    assert_string_equal(ctx.method, "POST");
    assert_string_equal(ctx.path, "/p q/r/s");
    assert_string_equal(ctx.raw_path, "/p%20q/r%2Fs");
    assert_string_equal(ctx.query_string, "x=1&y=a+b%21&z=%E2%82%AC");
    assert_string_equal(ctx.param_x, "2");          /* form before query */
    assert_string_equal(ctx.param_y, "a b!");
    assert_string_equal(ctx.form_name, "J\xC3\xB6rg");
    assert_string_equal(ctx.ctype,
                        "application/x-www-form-urlencoded; charset=UTF-8");
    assert_string_equal(ctx.body, body);

    /* Same body with another content type: no form parsing. */
    snprintf(req, sizeof req,
             "PUT /q?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
             strlen(body), body);
    r = t_raw_request(&ctx.env, ctx.port, req);
    free(r);
    assert_string_equal(ctx.param_x, "1");
    assert_null(ctx.form_name);
    ctx_stop(&ctx);
}

static void test_http_server_response_headers_and_status_rules(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /hdr HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_int_equal(ctx.hdr_ok, 0);
    assert_int_equal(ctx.hdr_reserved, SB_EINVAL);
    assert_int_equal(ctx.hdr_crlf, SB_EINVAL);
    assert_int_equal(ctx.bad_status, SB_EINVAL);
    assert_ptr_equal(strstr(r, "HTTP/1.1 201 Created\r\n"), r);
    assert_non_null(strstr(r, "\r\nX-A: 1\r\n"));
    assert_null(strstr(r, "Evil"));
    assert_int_equal(t_count(r, "Content-Length"), 1);
    free(r);
    ctx_stop(&ctx);
}

static void test_http_server_http10_closes_unless_keep_alive(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    char *r = t_raw_request(&ctx.env, ctx.port, "GET /hello HTTP/1.0\r\n\r\n");
    assert_ptr_equal(strstr(r, "HTTP/1.1 200 OK\r\n"), r);
    assert_non_null(strstr(r, "Connection: close\r\n"));
    free(r);

    t_raw_t *raw = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(raw, "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    wait_for(&ctx, raw, "hello 127.0.0.1", 1);
    assert_false(raw->eof);
    assert_non_null(strstr(sb_buf_str(&raw->in), "Connection: keep-alive\r\n"));
    t_raw_sends(raw, "GET /hello HTTP/1.0\r\n\r\n");
    t_run_while(&ctx.env, has_eof, raw);
    assert_int_equal(t_count(sb_buf_str(&raw->in), "hello 127.0.0.1"), 2);
    t_raw_close(raw);
    ctx_stop(&ctx);
}

static void test_http_server_expect_continue_sends_100(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    t_raw_t *raw = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(raw, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                     "Expect: 100-continue\r\nConnection: close\r\n\r\n");
    wait_for(&ctx, raw, "HTTP/1.1 100 Continue\r\n\r\n", 1);
    t_raw_sends(raw, "hello");
    t_run_while(&ctx.env, has_eof, raw);
    assert_non_null(strstr(sb_buf_str(&raw->in), "HTTP/1.1 200 OK"));
    assert_string_equal(ctx.body, "hello");
    t_raw_close(raw);
    ctx_stop(&ctx);
}

static void test_http_server_connection_cap_rejects(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.max_connections = 1};
    ctx_start(&ctx, &o);
    t_raw_t *a = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(a, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    wait_for(&ctx, a, "hello", 1);
    t_raw_t *b = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    t_run_while(&ctx.env, has_eof, b);
    assert_int_equal(b->in.len, 0);
    sb_http_server_stats_t st;
    sb_http_server_stats(ctx.srv, &st);
    assert_int_equal(st.accepted, 1);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(st.connections, 1);
    t_raw_close(a);
    t_raw_close(b);
    ctx_stop(&ctx);
}

/* Issue 23: silent connections from one address filled the server and
 * shut everyone out. One address holds at most its cap; the rest are
 * closed as soon as accepted, and another address is still served. */
static void test_http_server_per_address_cap_refuses_extra(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.max_connections_per_address = 3};
    ctx_start(&ctx, &o);
    t_raw_t *silent[5];
    for (int i = 0; i < 5; i++)
        silent[i] = t_raw_connect_from(&ctx.env, ctx.port, "127.0.0.2");
    t_run_while(&ctx.env, has_eof, silent[4]);
    t_run_while(&ctx.env, has_eof, silent[3]);
    assert_false(silent[0]->eof);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /hello HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n");
    assert_non_null(strstr(r, "200 OK"));
    free(r);
    sb_http_server_stats_t st;
    sb_http_server_stats(ctx.srv, &st);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(st.evicted, 0);
    for (int i = 0; i < 5; i++)
        t_raw_close(silent[i]);
    ctx_stop(&ctx);
}

/* At the global cap a newcomer takes the place of a connection that has
 * sent nothing complete, from the address holding the most; a connection
 * that has been served keeps its place. */
static void test_http_server_full_evicts_silent_connection(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.max_connections = 4,
                               .max_connections_per_address = 3};
    ctx_start(&ctx, &o);
    t_raw_t *served = t_raw_connect_from(&ctx.env, ctx.port, "127.0.0.4");
    t_raw_sends(served, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    wait_for(&ctx, served, "hello", 1);
    t_raw_t *a = t_raw_connect_from(&ctx.env, ctx.port, "127.0.0.2");
    t_raw_t *b1 = t_raw_connect_from(&ctx.env, ctx.port, "127.0.0.3");
    t_raw_t *b2 = t_raw_connect_from(&ctx.env, ctx.port, "127.0.0.3");
    t_run_for(&ctx.env, 50);
    sb_http_server_stats_t st;
    sb_http_server_stats(ctx.srv, &st);
    assert_int_equal(st.connections, 4);

    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /hello HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n");
    assert_non_null(strstr(r, "200 OK"));
    free(r);
    sb_http_server_stats(ctx.srv, &st);
    assert_int_equal(st.evicted, 1);
    assert_int_equal(st.rejected, 0);
    t_run_while(&ctx.env, has_eof, b1);    /* the oldest of 127.0.0.3 */
    assert_false(a->eof);
    assert_false(b2->eof);
    assert_false(served->eof);
    t_raw_close(served);
    t_raw_close(a);
    t_raw_close(b1);
    t_raw_close(b2);
    ctx_stop(&ctx);
}

/* A connection that never sends a complete request gets the request
 * timeout from its accept, not the keep-alive idle time. */
static void test_http_server_silent_connection_times_out(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.request_timeout_ms = 200,
                               .idle_timeout_ms = 60000};
    ctx_start(&ctx, &o);
    t_raw_t *silent = t_raw_connect(&ctx.env, ctx.port);
    uint64_t t0 = uv_now(&ctx.env.loop);
    t_run_while(&ctx.env, has_eof, silent);
    assert_true(silent->eof);
    assert_true(uv_now(&ctx.env.loop) - t0 < 30000);
    assert_int_equal(silent->in.len, 0);
    t_raw_close(silent);
    ctx_stop(&ctx);
}

static void test_http_server_cors_preflight_answered(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.cors = 1};
    ctx_start(&ctx, &o);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "OPTIONS /api HTTP/1.1\r\nHost: x\r\n"
                            "Origin: http://app\r\n"
                            "Access-Control-Request-Method: POST\r\n"
                            "Access-Control-Request-Headers: authorization\r\n"
                            "Connection: close\r\n\r\n");
    assert_ptr_equal(strstr(r, "HTTP/1.1 204 No Content\r\n"), r);
    assert_non_null(strstr(r, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    assert_non_null(strstr(r, "\r\nAccess-Control-Allow-Methods: "));
    assert_non_null(strstr(r, "\r\nAccess-Control-Allow-Headers: authorization\r\n"));
    assert_null(strstr(r, "Content-Length"));
    assert_int_equal(ctx.calls, 0);
    free(r);
    r = t_raw_request(&ctx.env, ctx.port,
                      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_non_null(strstr(r, "\r\nAccess-Control-Allow-Origin: *\r\n"));
    free(r);
    ctx_stop(&ctx);
}

static void test_http_server_access_log_line(void **state)
{
    (void)state;
    char path[] = "/tmp/sb_http_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    assert_int_equal(sb_log_open(path), 0);
    sb_log_set_level(SB_LOG_INFO);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /hello?secret=1 HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n");
    free(r);
    sb_log_set_level(SB_LOG_WARN);
    sb_log_open(NULL);
    ctx_stop(&ctx);

    FILE *f = fopen(path, "r");
    char line[512] = "";
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    unlink(path);
    assert_non_null(strstr(line, "http: 127.0.0.1 \"GET /hello\" 200 15 "));
    assert_non_null(strstr(line, "ms"));
    assert_null(strstr(line, "secret"));
}


static void test_http_server_deep_pipeline_pauses_and_resumes(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    /* More pipelined requests than the server keeps in flight (32): it
     * stops reading, then resumes as answers go out. All come back, in
     * order. */
    sb_buf_t req = SB_BUF_INIT;
    for (int i = 0; i < 40; i++)
        sb_buf_printf(&req, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    sb_buf_puts(&req, "GET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    char *r = t_raw_request(&ctx.env, ctx.port, sb_buf_str(&req));
    sb_buf_free(&req);
    assert_int_equal(t_count(r, "HTTP/1.1 200 OK"), 41);
    assert_int_equal(t_count(r, "slow-body"), 40);
    const char *last_slow = r;
    for (const char *p = r; (p = strstr(p, "slow-body")) != NULL; p++)
        last_slow = p;
    assert_true(strstr(r, "fast-body") > last_slow);
    /* Never more than 32 handlers pending at once: the first 32 requests
     * were dispatched before any answer ("S" x 32, then "s"). */
    assert_int_equal(strspn(ctx.order, "S"), 32);
    free(r);
    ctx_stop(&ctx);
}

static void test_http_server_upgrade_request_answered_then_closed(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /hello HTTP/1.1\r\nHost: x\r\n"
                            "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
                            "\x81\x85garbage-frames");
    assert_ptr_equal(strstr(r, "HTTP/1.1 200 OK\r\n"), r);
    assert_non_null(strstr(r, "Connection: close\r\n"));
    assert_int_equal(t_count(r, "HTTP/1.1"), 1);
    free(r);
    r = t_raw_request(&ctx.env, ctx.port,
                      "CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_ptr_equal(strstr(r, "HTTP/1.1 400 "), r);
    free(r);
    ctx_stop(&ctx);
}

static int held_gone(void *arg)
{
    ctx_t *ctx = arg;
    return ctx->held && sb_http_req_gone(ctx->held);
}

static void test_http_server_client_gone_before_answer(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    t_raw_t *raw = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(raw, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    t_run_until(&ctx.env, &ctx.nheld);
    assert_false(sb_http_req_gone(ctx.held));
    t_raw_reset(raw);                       /* the client is gone */
    t_run_while(&ctx.env, held_gone, &ctx);
    sb_http_server_stats_t st;
    sb_http_server_stats(ctx.srv, &st);
    assert_int_equal(st.connections, 0);
    /* The request is still valid and answering it frees it. */
    assert_string_equal(sb_http_req_path(ctx.held), "/hold");
    answer_text(ctx.held, 200, "nobody listens");
    ctx_stop(&ctx);
}

static void test_http_server_handler_closes_server(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    t_raw_t *idle = t_raw_connect(&ctx.env, ctx.port);
    char *r = t_raw_request(&ctx.env, ctx.port,
                            "GET /close-now HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_ptr_equal(strstr(r, "HTTP/1.1 200 OK\r\n"), r);
    assert_non_null(strstr(r, "bye"));
    assert_non_null(strstr(r, "Connection: close\r\n"));
    assert_null(strstr(r, "hello"));        /* nothing after the close */
    free(r);
    t_run_until(&ctx.env, &ctx.closed);
    t_run_while(&ctx.env, has_eof, idle);
    t_raw_close(idle);
    sb_http_router_free(ctx.router);
    ctx_free_strings(&ctx);
    t_env_finish(&ctx.env);
}

/* ---- router ------------------------------------------------------------- */

static void h_route(sb_http_req_t *req, void *arg)
{
    const char *tag = arg;
    char text[256];
    const char *sid = sb_http_req_path_param(req, "sid");
    const char *call = sb_http_req_path_param(req, "call");
    const char *rest = sb_http_req_path_param(req, "*");
    snprintf(text, sizeof text, "%s sid=%s call=%s rest=%s", tag,
             sid ? sid : "-", call ? call : "-", rest ? rest : "-");
    answer_text(req, 200, text);
}

static char *get(ctx_t *ctx, const char *method, const char *path)
{
    char req[512];
    snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
             method, path);
    return t_raw_request(&ctx->env, ctx->port, req);
}

static void expect_body(ctx_t *ctx, const char *method, const char *path,
                        const char *want)
{
    char *r = get(ctx, method, path);
    const char *body = strstr(r, "\r\n\r\n");
    assert_non_null(body);
    if (strcmp(body + 4, want) != 0)
        fail_msg("%s %s: want \"%s\", got \"%s\"", method, path, want, body + 4);
    free(r);
}

static void test_http_router_routes_404_405_and_params(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_router_t *router = sb_http_router_new();
    int id_list = 0, id = 0;
    assert_int_equal(sb_http_router_add(router, "GET", "/Accounts/{sid}/Calls",
                                        h_route, "list", &id_list), 0);
    assert_true(id_list > 0);
    assert_int_equal(sb_http_router_add(router, "POST", "/Accounts/{sid}/Calls",
                                        h_route, "create", NULL), 0);
    assert_int_equal(sb_http_router_add(router, "GET",
                                        "/Accounts/{sid}/Calls/{call}",
                                        h_route, "one", NULL), 0);
    assert_int_equal(sb_http_router_add(router, "GET", "/Accounts/special/Calls",
                                        h_route, "special", NULL), 0);
    assert_int_equal(sb_http_router_add(router, "GET", "/files/*", h_route,
                                        "files", &id), 0);
    assert_int_equal(sb_http_router_add(router, "*", "/any", h_route, "any",
                                        NULL), 0);
    assert_int_equal(sb_http_router_add(router, "GET", "/a/*/b", h_route, "x",
                                        NULL), SB_EINVAL);
    assert_int_equal(sb_http_router_add(router, "GET", "/a/{}", h_route, "x",
                                        NULL), SB_EINVAL);
    assert_int_equal(sb_http_router_add(router, "GET", "/a/{b", h_route, "x",
                                        NULL), SB_EINVAL);
    assert_int_equal(sb_http_router_add(router, "GET", "a", h_route, "x",
                                        NULL), SB_EINVAL);

    ctx_start_with(&ctx, NULL, router);

    expect_body(&ctx, "GET", "/Accounts/AC1/Calls", "list sid=AC1 call=- rest=-");
    expect_body(&ctx, "GET", "/Accounts/AC1/Calls/", "list sid=AC1 call=- rest=-");
    expect_body(&ctx, "POST", "/Accounts/AC1/Calls", "create sid=AC1 call=- rest=-");
    expect_body(&ctx, "GET", "/Accounts/A%20C/Calls/CA2",
                "one sid=A C call=CA2 rest=-");
    expect_body(&ctx, "GET", "/Accounts/special/Calls",
                "special sid=- call=- rest=-");
    expect_body(&ctx, "GET", "/files/a/b%2Fc", "files sid=- call=- rest=a/b/c");
    expect_body(&ctx, "GET", "/files", "files sid=- call=- rest=");
    expect_body(&ctx, "DELETE", "/any", "any sid=- call=- rest=-");

    char *r = get(&ctx, "DELETE", "/Accounts/AC1/Calls");
    assert_ptr_equal(strstr(r, "HTTP/1.1 405 "), r);
    assert_non_null(strstr(r, "\r\nAllow: GET, HEAD, POST\r\n"));
    free(r);
    r = get(&ctx, "GET", "/nothing/here");
    assert_ptr_equal(strstr(r, "HTTP/1.1 404 "), r);
    free(r);
    r = get(&ctx, "HEAD", "/Accounts/AC1/Calls");
    assert_ptr_equal(strstr(r, "HTTP/1.1 200 "), r);
    assert_non_null(strstr(r, "Content-Length: 26\r\n"));
    assert_non_null(strstr(r, "\r\n\r\n"));
    assert_string_equal(strstr(r, "\r\n\r\n"), "\r\n\r\n");  /* no body */
    free(r);

    /* Routes come and go at run time. */
    assert_int_equal(sb_http_router_remove(router, id_list), 0);
    assert_int_equal(sb_http_router_remove(router, id_list), SB_ENOENT);
    r = get(&ctx, "GET", "/Accounts/AC1/Calls");
    assert_ptr_equal(strstr(r, "HTTP/1.1 405 "), r);
    assert_non_null(strstr(r, "\r\nAllow: POST\r\n"));
    free(r);
    assert_int_equal(sb_http_router_remove(router, id), 0);
    r = get(&ctx, "GET", "/files/x");
    assert_ptr_equal(strstr(r, "HTTP/1.1 404 "), r);
    free(r);
    ctx_stop(&ctx);
}

/* ---- listen and close ----------------------------------------------------- */

static void test_http_server_listen_in_use_fails(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    sb_http_server_t *second = NULL;
    sb_http_server_opts_t o = {.host = "127.0.0.1", .port = ctx.port};
    assert_int_equal(sb_http_server_new(&ctx.env.loop, &o, handler, &ctx,
                                        &second), 0);
    assert_int_equal(sb_http_server_listen(second), UV_EADDRINUSE);
    assert_int_equal(sb_http_server_port(second), 0);
    int closed2 = 0;
    sb_http_server_close(second, on_srv_closed_flag, &closed2);
    t_run_until(&ctx.env, &closed2);

    sb_http_server_opts_t bad = {.host = "not-an-ip"};
    assert_int_equal(sb_http_server_new(&ctx.env.loop, &bad, handler, &ctx,
                                        &second), SB_EINVAL);
    ctx_stop(&ctx);
}

static void test_http_server_ipv6_listen(void **state)
{
    (void)state;
    t_env_t env;
    t_env_init(&env);
    sb_http_server_t *srv;
    sb_http_server_opts_t o = {.host = "::1"};
    int closed = 0;
    assert_int_equal(sb_http_server_new(&env.loop, &o, handler, NULL, &srv), 0);
    int rc = sb_http_server_listen(srv);
    if (rc == 0)
        assert_true(sb_http_server_port(srv) > 0);
    else                              /* no IPv6 loopback here */
        assert_int_equal(rc, UV_EADDRNOTAVAIL);
    sb_http_server_close(srv, on_srv_closed_flag, &closed);
    t_run_until(&env, &closed);
    t_env_finish(&env);
}

static int two_conns(void *arg)
{
    ctx_t *ctx = arg;
    sb_http_server_stats_t st;
    sb_http_server_stats(ctx->srv, &st);
    return st.connections == 2 && ctx->nheld == 1;
}

static void test_http_server_graceful_close_finishes_in_flight(void **state)
{
    (void)state;
    ctx_t ctx;
    ctx_start(&ctx, NULL);
    t_raw_t *idle = t_raw_connect(&ctx.env, ctx.port);
    t_raw_t *busy = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(busy, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    t_run_while(&ctx.env, two_conns, &ctx);

    int closed = 0;
    sb_http_server_close(ctx.srv, on_srv_closed_flag, &closed);
    sb_http_server_close(ctx.srv, on_srv_closed_flag, &closed); /* no-op */
    t_run_while(&ctx.env, has_eof, idle);       /* idle closed at once */
    assert_int_equal(idle->in.len, 0);
    assert_false(busy->eof);
    assert_int_equal(closed, 0);
    assert_false(sb_http_req_gone(ctx.held));   /* its answer is still sent */

    t_raw_t *late = t_raw_connect(&ctx.env, ctx.port);  /* not accepted */
    t_run_while(&ctx.env, has_eof, late);
    assert_int_equal(late->err, UV_ECONNREFUSED);

    answer_text(ctx.held, 200, "held-body");
    t_run_while(&ctx.env, has_eof, busy);
    assert_non_null(strstr(sb_buf_str(&busy->in), "held-body"));
    assert_non_null(strstr(sb_buf_str(&busy->in), "Connection: close\r\n"));
    t_run_until(&ctx.env, &closed);
    t_raw_close(idle);
    t_raw_close(busy);
    t_raw_close(late);
    sb_http_router_free(ctx.router);
    ctx_free_strings(&ctx);
    t_env_finish(&ctx.env);
}

static void test_http_server_close_grace_detaches_requests(void **state)
{
    (void)state;
    ctx_t ctx;
    sb_http_server_opts_t o = {.close_grace_ms = 100};
    ctx_start(&ctx, &o);
    t_raw_t *busy = t_raw_connect(&ctx.env, ctx.port);
    t_raw_sends(busy, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    t_run_until(&ctx.env, &ctx.nheld);
    assert_false(sb_http_req_gone(ctx.held));
    int closed = 0;
    sb_http_server_close(ctx.srv, on_srv_closed_flag, &closed);
    assert_false(sb_http_req_gone(ctx.held));
    t_run_until(&ctx.env, &closed);             /* after the grace period */
    t_run_while(&ctx.env, has_eof, busy);
    assert_int_equal(busy->in.len, 0);
    /* Answering a detached request only frees it. */
    assert_true(sb_http_req_gone(ctx.held));
    answer_text(ctx.held, 200, "too late");
    t_raw_close(busy);
    ctx_free_strings(&ctx);
    t_env_finish(&ctx.env);
}

static void test_http_server_close_without_listen(void **state)
{
    (void)state;
    t_env_t env;
    t_env_init(&env);
    sb_http_server_t *srv;
    int closed = 0;
    assert_int_equal(sb_http_server_new(&env.loop, NULL, handler, NULL, &srv), 0);
    sb_http_server_close(srv, on_srv_closed_flag, &closed);
    assert_int_equal(closed, 0);                /* never synchronous */
    t_run_until(&env, &closed);
    t_env_finish(&env);
}

int t_http_server_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_server_simple_get_answers),
        cmocka_unit_test(test_http_server_keep_alive_serves_two_requests),
        cmocka_unit_test(test_http_server_pipelined_answers_in_order),
        cmocka_unit_test(test_http_server_body_over_limit_gets_413),
        cmocka_unit_test(test_http_server_headers_over_limit_get_431),
        cmocka_unit_test(test_http_server_malformed_requests_get_400),
        cmocka_unit_test(test_http_server_slow_request_gets_408),
        cmocka_unit_test(test_http_server_idle_connection_closed),
        cmocka_unit_test(test_http_server_decodes_path_query_and_form),
        cmocka_unit_test(test_http_server_response_headers_and_status_rules),
        cmocka_unit_test(test_http_server_http10_closes_unless_keep_alive),
        cmocka_unit_test(test_http_server_expect_continue_sends_100),
        cmocka_unit_test(test_http_server_connection_cap_rejects),
        cmocka_unit_test(test_http_server_per_address_cap_refuses_extra),
        cmocka_unit_test(test_http_server_full_evicts_silent_connection),
        cmocka_unit_test(test_http_server_silent_connection_times_out),
        cmocka_unit_test(test_http_server_cors_preflight_answered),
        cmocka_unit_test(test_http_server_access_log_line),
        cmocka_unit_test(test_http_server_deep_pipeline_pauses_and_resumes),
        cmocka_unit_test(test_http_server_upgrade_request_answered_then_closed),
        cmocka_unit_test(test_http_server_client_gone_before_answer),
        cmocka_unit_test(test_http_server_handler_closes_server),
        cmocka_unit_test(test_http_router_routes_404_405_and_params),
        cmocka_unit_test(test_http_server_listen_in_use_fails),
        cmocka_unit_test(test_http_server_ipv6_listen),
        cmocka_unit_test(test_http_server_graceful_close_finishes_in_flight),
        cmocka_unit_test(test_http_server_close_grace_detaches_requests),
        cmocka_unit_test(test_http_server_close_without_listen),
    };
    return cmocka_run_group_tests_name("http_server", tests, NULL, NULL);
}
