/*
 * test_http_client.c: the curl-on-libuv client against this module's own
 * server in the same loop: parameters in the query and in form bodies,
 * redirects that repeat method and parameters, timeout, size cap, cancel,
 * connection reuse, network errors and closing with requests in flight.
 */
#include "test_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HELD 8

typedef struct {
    t_env_t env;
    sb_http_server_t *srv;
    sb_http_client_t *client;
    int port;
    int srv_closed, client_closed;
    int hits_redirect, hits_loop;
    sb_http_req_t *held[MAX_HELD];
    int nheld;
    /* last completion */
    int done, err, status;
    char *body, *url, *ctype, *hdr, *error;
    size_t body_len;
} cctx_t;

/* ---- the server side ---------------------------------------------------- */

static void srv_handler(sb_http_req_t *req, void *arg)
{
    cctx_t *c = arg;
    const char *path = sb_http_req_path(req);
    if (strcmp(path, "/echo") == 0) {
        sb_buf_t b = SB_BUF_INIT, form = SB_BUF_INIT;
        size_t len;
        const char *body = sb_http_req_body(req, &len);
        const char *ct = sb_http_req_header(req, "Content-Type");
        const char *xt = sb_http_req_header(req, "X-Test");
        sb_http_form_encode(&form, sb_http_req_form(req));
        sb_buf_printf(&b, "m=%s q=%s f=%s ct=%s x=%s body=%s",
                      sb_http_req_method(req), sb_http_req_query_string(req),
                      sb_buf_str(&form), ct ? ct : "-", xt ? xt : "-",
                      sb_http_req_form(req)->count ? "(form)" : body);
        sb_http_resp_header(req, "X-Reply", "yes");
        sb_http_respond(req, 200, "text/plain", b.data, b.len);
        sb_buf_free(&b);
        sb_buf_free(&form);
    } else if (strncmp(path, "/r/", 3) == 0) {
        c->hits_redirect++;
        sb_http_resp_header(req, "Location", "/echo");
        sb_http_respond(req, atoi(path + 3), "text/plain", "moved", 5);
    } else if (strcmp(path, "/rq") == 0) {
        /* Redirects to /echo with the query it was given. */
        char *loc = sb_xasprintf("/echo?%s", sb_http_req_query_string(req));
        sb_http_resp_header(req, "Location", loc);
        free(loc);
        sb_http_respond(req, 302, NULL, NULL, 0);
    } else if (strcmp(path, "/loop") == 0) {
        c->hits_loop++;
        sb_http_resp_header(req, "Location", "/loop");
        sb_http_respond(req, 302, NULL, NULL, 0);
    } else if (strcmp(path, "/big") == 0) {
        char *big = malloc(10000);
        memset(big, 'b', 10000);
        sb_http_respond(req, 200, "application/octet-stream", big, 10000);
        free(big);
    } else if (strcmp(path, "/hang") == 0 && c->nheld < MAX_HELD) {
        c->held[c->nheld++] = req;        /* answered at teardown */
    } else {
        sb_http_respond(req, 404, "text/plain", "nope", 4);
    }
}

static void on_flag(void *arg) { *(int *)arg = 1; }

static void cctx_start(cctx_t *c)
{
    memset(c, 0, sizeof *c);
    t_env_init(&c->env);
    sb_http_server_opts_t o = {.host = "127.0.0.1"};
    assert_int_equal(sb_http_server_new(&c->env.loop, &o, srv_handler, c,
                                        &c->srv), 0);
    assert_int_equal(sb_http_server_listen(c->srv), 0);
    c->port = sb_http_server_port(c->srv);
    assert_int_equal(sb_http_client_new(&c->env.loop, NULL, &c->client), 0);
}

static void cctx_clear_result(cctx_t *c)
{
    free(c->body);
    free(c->url);
    free(c->ctype);
    free(c->hdr);
    free(c->error);
    c->body = c->url = c->ctype = c->hdr = c->error = NULL;
    c->done = 0;
}

static void cctx_stop(cctx_t *c)
{
    for (int i = 0; i < c->nheld; i++)
        sb_http_respond(c->held[i], 200, NULL, NULL, 0);
    sb_http_client_close(c->client, on_flag, &c->client_closed);
    sb_http_server_close(c->srv, on_flag, &c->srv_closed);
    t_run_until(&c->env, &c->client_closed);
    t_run_until(&c->env, &c->srv_closed);
    cctx_clear_result(c);
    t_env_finish(&c->env);
}

static void on_done(int err, const sb_http_response_t *resp, void *arg)
{
    cctx_t *c = arg;
    assert_non_null(resp);
    assert_non_null(resp->body);
    assert_non_null(resp->url);
    cctx_clear_result(c);
    c->done++;
    c->err = err;
    c->status = resp->status;
    c->body = sb_xstrndup(resp->body, resp->body_len);
    c->body_len = resp->body_len;
    c->url = sb_xstrdup(resp->url);
    c->ctype = resp->content_type ? sb_xstrdup(resp->content_type) : NULL;
    const char *h = sb_http_response_header(resp, "x-REPLY");
    c->hdr = h ? sb_xstrdup(h) : NULL;
    c->error = resp->error ? sb_xstrdup(resp->error) : NULL;
    if (err)
        assert_non_null(resp->error);
}

static char *url_of(cctx_t *c, const char *path)
{
    return sb_xasprintf("http://127.0.0.1:%d%s", c->port, path);
}

/* Runs one fetch to completion. */
static void fetch(cctx_t *c, sb_http_fetch_req_t *req)
{
    cctx_clear_result(c);
    assert_int_equal(sb_http_fetch(c->client, req, on_done, c, NULL), 0);
    assert_int_equal(c->done, 0);         /* never synchronous */
    t_run_until(&c->env, &c->done);
    assert_int_equal(c->done, 1);
}

/* ---- tests -------------------------------------------------------------- */

static void test_http_client_get_with_params(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    sb_http_params_add(&p, "b", "x y");
    sb_http_params_add(&p, "c", "\xC3\xBC&=");
    char *url = url_of(&c, "/echo?a=1");
    sb_http_fetch_req_t req = {.url = url, .params = &p};
    fetch(&c, &req);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "m=GET q=a=1&b=x+y&c=%C3%BC%26%3D f= ct=- x=- body=");
    assert_string_equal(c.ctype, "text/plain");
    assert_string_equal(c.hdr, "yes");
    assert_null(c.error);
    char *want = sb_xasprintf("%s&b=x+y&c=%%C3%%BC%%26%%3D", url);
    assert_string_equal(c.url, want);
    free(want);

    /* No query in the URL: '?' is added. */
    free(url);
    url = url_of(&c, "/echo");
    req.url = url;
    fetch(&c, &req);
    assert_string_equal(c.body, "m=GET q=b=x+y&c=%C3%BC%26%3D f= ct=- x=- body=");

    /* 4xx is an answer, not an error. */
    free(url);
    url = url_of(&c, "/missing");
    req.url = url;
    req.params = NULL;
    fetch(&c, &req);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.status, 404);
    assert_string_equal(c.body, "nope");
    free(url);
    sb_http_params_free(&p);
    cctx_stop(&c);
}

static void test_http_client_post_form_and_raw_body(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    sb_http_params_t p = SB_HTTP_PARAMS_INIT, h = SB_HTTP_PARAMS_INIT;
    sb_http_params_add(&p, "To", "+1555");
    sb_http_params_add(&p, "Body", "hi there");
    sb_http_params_add(&h, "X-Test", "42");
    char *url = url_of(&c, "/echo");
    sb_http_fetch_req_t req = {.method = "POST", .url = url, .params = &p,
                               .headers = &h};
    fetch(&c, &req);
    assert_int_equal(c.err, 0);
    assert_string_equal(c.body, "m=POST q= f=To=%2B1555&Body=hi+there "
                                "ct=application/x-www-form-urlencoded x=42 "
                                "body=(form)");

    /* A raw body: params move to the query string. */
    sb_http_fetch_req_t put = {.method = "PUT", .url = url, .params = &p,
                               .body = "<x/>", .body_len = 4,
                               .content_type = "text/xml"};
    fetch(&c, &put);
    assert_int_equal(c.err, 0);
    assert_string_equal(c.body, "m=PUT q=To=%2B1555&Body=hi+there f= "
                                "ct=text/xml x=- body=<x/>");

    sb_http_fetch_req_t del = {.method = "DELETE", .url = url};
    fetch(&c, &del);
    assert_string_equal(c.body, "m=DELETE q= f= ct=- x=- body=");

    /* A large form body: no Expect: 100-continue stall, nothing lost. */
    char *large = malloc(5000);
    memset(large, 'v', 4999);
    large[4999] = '\0';
    sb_http_params_t lp = SB_HTTP_PARAMS_INIT;
    sb_http_params_add(&lp, "big", large);
    sb_http_fetch_req_t big = {.method = "POST", .url = url, .params = &lp};
    fetch(&c, &big);
    assert_int_equal(c.err, 0);
    assert_non_null(strstr(c.body, large));
    free(large);
    sb_http_params_free(&lp);

    free(url);
    sb_http_params_free(&p);
    sb_http_params_free(&h);
    cctx_stop(&c);
}

static void test_http_client_redirect_repeats_method_and_params(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    sb_http_params_add(&p, "CallSid", "CA1");
    sb_http_params_add(&p, "Digits", "1 2");
    const int codes[] = {301, 302, 303, 307, 308};
    for (size_t i = 0; i < SB_COUNTOF(codes); i++) {
        char path[32];
        snprintf(path, sizeof path, "/r/%d", codes[i]);
        char *url = url_of(&c, path);
        sb_http_fetch_req_t req = {.method = "POST", .url = url, .params = &p};
        c.hits_redirect = 0;
        fetch(&c, &req);
        assert_int_equal(c.err, 0);
        assert_int_equal(c.status, 200);
        assert_int_equal(c.hits_redirect, 1);
        if (strcmp(c.body, "m=POST q= f=CallSid=CA1&Digits=1+2 "
                           "ct=application/x-www-form-urlencoded x=- "
                           "body=(form)") != 0)
            fail_msg("%d: %s", codes[i], c.body);
        char *want = url_of(&c, "/echo");
        assert_string_equal(c.url, want);
        free(want);
        free(url);
    }

    /* GET: the params follow the redirect in the new query string. */
    char *url = url_of(&c, "/r/302");
    sb_http_fetch_req_t get = {.url = url, .params = &p};
    fetch(&c, &get);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "m=GET q=CallSid=CA1&Digits=1+2 f= ct=- x=- body=");
    free(url);

    /* A Location that already carries the params gets them only once. */
    url = url_of(&c, "/rq");
    get.url = url;
    fetch(&c, &get);
    assert_int_equal(c.status, 200);
    assert_string_equal(c.body, "m=GET q=CallSid=CA1&Digits=1+2 f= ct=- x=- body=");
    free(url);

    /* A redirect loop ends with SB_ELIMIT after max_redirects hops. */
    url = url_of(&c, "/loop");
    sb_http_fetch_req_t loop = {.url = url};
    fetch(&c, &loop);
    assert_int_equal(c.err, SB_ELIMIT);
    assert_int_equal(c.status, 302);
    assert_int_equal(c.hits_loop, 11);
    free(url);
    sb_http_params_free(&p);
    cctx_stop(&c);
}

static void test_http_client_timeout_gives_etimedout(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    char *url = url_of(&c, "/hang");
    sb_http_fetch_req_t req = {.url = url, .timeout_ms = 100};
    fetch(&c, &req);
    assert_int_equal(c.err, SB_ETIMEDOUT);
    assert_int_equal(c.status, 0);
    assert_non_null(c.error);
    assert_int_equal(c.nheld, 1);
    free(url);
    cctx_stop(&c);
}

static void test_http_client_size_cap_gives_etoobig(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    char *url = url_of(&c, "/big");
    sb_http_fetch_req_t req = {.url = url, .max_response_bytes = 1000};
    fetch(&c, &req);
    assert_int_equal(c.err, SB_ETOOBIG);
    req.max_response_bytes = 10000;       /* exactly the size: fine */
    fetch(&c, &req);
    assert_int_equal(c.err, 0);
    assert_int_equal(c.body_len, 10000);
    free(url);
    cctx_stop(&c);
}

static void test_http_client_cancel_calls_back_once(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    char *url = url_of(&c, "/hang");
    sb_http_fetch_req_t req = {.url = url};
    sb_http_fetch_t *h = NULL;
    assert_int_equal(sb_http_fetch(c.client, &req, on_done, &c, &h), 0);
    assert_non_null(h);
    t_run_until(&c.env, &c.nheld);        /* the server has the request */
    sb_http_fetch_cancel(h);
    sb_http_fetch_cancel(h);              /* second cancel: no-op */
    assert_int_equal(c.done, 0);          /* not from inside cancel */
    t_run_until(&c.env, &c.done);
    assert_int_equal(c.err, SB_ECANCELED);
    t_run_for(&c.env, 50);
    assert_int_equal(c.done, 1);          /* exactly once */

    /* Cancel before anything happened on the network. */
    assert_int_equal(sb_http_fetch(c.client, &req, on_done, &c, &h), 0);
    sb_http_fetch_cancel(h);
    c.done = 0;
    t_run_until(&c.env, &c.done);
    assert_int_equal(c.err, SB_ECANCELED);
    free(url);
    cctx_stop(&c);
}

typedef struct {
    cctx_t *c;
    int left;
    int failed;
    char *url;
} chain_t;

static void on_chain(int err, const sb_http_response_t *resp, void *arg)
{
    chain_t *ch = arg;
    if (err || resp->status != 200)
        ch->failed++;
    if (--ch->left > 0) {
        sb_http_fetch_req_t req = {.url = ch->url};
        if (sb_http_fetch(ch->c->client, &req, on_chain, ch, NULL) != 0)
            ch->failed++;
    } else {
        ch->c->done = 1;
    }
}

static void test_http_client_reuses_connection(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    chain_t ch = {.c = &c, .left = 3, .url = url_of(&c, "/echo")};
    sb_http_fetch_req_t req = {.url = ch.url};
    assert_int_equal(sb_http_fetch(c.client, &req, on_chain, &ch, NULL), 0);
    t_run_until(&c.env, &c.done);
    assert_int_equal(ch.failed, 0);
    sb_http_server_stats_t st;
    sb_http_server_stats(c.srv, &st);
    assert_int_equal(st.requests, 3);
    assert_int_equal(st.accepted, 1);     /* one kept-alive connection */
    free(ch.url);
    cctx_stop(&c);
}

static void test_http_client_network_error(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    /* A port that was just free: bind, read the port, close. */
    sb_http_server_t *tmp;
    int closed = 0;
    sb_http_server_opts_t o = {.host = "127.0.0.1"};
    assert_int_equal(sb_http_server_new(&c.env.loop, &o, srv_handler, &c, &tmp), 0);
    assert_int_equal(sb_http_server_listen(tmp), 0);
    int port = sb_http_server_port(tmp);
    sb_http_server_close(tmp, on_flag, &closed);
    t_run_until(&c.env, &closed);
    char *url = sb_xasprintf("http://127.0.0.1:%d/", port);
    sb_http_fetch_req_t req = {.url = url};
    fetch(&c, &req);
    assert_int_equal(c.err, SB_ENETWORK);
    assert_int_equal(c.status, 0);
    free(url);
    cctx_stop(&c);
}

static void test_http_client_rejects_bad_requests(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    char *url = url_of(&c, "/echo");
    sb_http_params_t h = SB_HTTP_PARAMS_INIT;
    sb_http_params_add(&h, "X-Evil", "a\r\nHost: b");
    sb_http_fetch_req_t bad[] = {
        {.url = "ftp://127.0.0.1/x"},
        {.url = "not a url"},
        {.url = url, .method = "PATCH"},
        {.url = url, .method = "GET", .body = "x", .body_len = 1},
        {.url = url, .headers = &h},
        {.url = NULL},
    };
    for (size_t i = 0; i < SB_COUNTOF(bad); i++)
        assert_int_equal(sb_http_fetch(c.client, &bad[i], on_done, &c, NULL),
                         SB_EINVAL);
    t_run_for(&c.env, 20);
    assert_int_equal(c.done, 0);          /* errors never call back */
    sb_http_params_free(&h);
    free(url);
    cctx_stop(&c);
}

typedef struct {
    int calls;
    int canceled;
} count_t;

static void on_count(int err, const sb_http_response_t *resp, void *arg)
{
    count_t *n = arg;
    (void)resp;
    n->calls++;
    if (err == SB_ECANCELED)
        n->canceled++;
}

static int two_held(void *arg) { return ((cctx_t *)arg)->nheld == 2; }

static void test_http_client_close_cancels_in_flight(void **state)
{
    (void)state;
    cctx_t c;
    cctx_start(&c);
    char *url = url_of(&c, "/hang");
    sb_http_fetch_req_t req = {.url = url};
    count_t n = {0, 0};
    assert_int_equal(sb_http_fetch(c.client, &req, on_count, &n, NULL), 0);
    assert_int_equal(sb_http_fetch(c.client, &req, on_count, &n, NULL), 0);
    t_run_while(&c.env, two_held, &c);
    sb_http_client_close(c.client, on_flag, &c.client_closed);
    assert_int_equal(n.calls, 0);
    assert_int_equal(sb_http_fetch(c.client, &req, on_count, &n, NULL),
                     SB_ESTATE);
    t_run_until(&c.env, &c.client_closed);
    assert_int_equal(n.calls, 2);
    assert_int_equal(n.canceled, 2);

    for (int i = 0; i < c.nheld; i++)
        sb_http_respond(c.held[i], 200, NULL, NULL, 0);
    c.nheld = 0;
    sb_http_server_close(c.srv, on_flag, &c.srv_closed);
    t_run_until(&c.env, &c.srv_closed);
    free(url);
    cctx_clear_result(&c);
    t_env_finish(&c.env);
}

int t_http_client_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_client_get_with_params),
        cmocka_unit_test(test_http_client_post_form_and_raw_body),
        cmocka_unit_test(test_http_client_redirect_repeats_method_and_params),
        cmocka_unit_test(test_http_client_timeout_gives_etimedout),
        cmocka_unit_test(test_http_client_size_cap_gives_etoobig),
        cmocka_unit_test(test_http_client_cancel_calls_back_once),
        cmocka_unit_test(test_http_client_reuses_connection),
        cmocka_unit_test(test_http_client_network_error),
        cmocka_unit_test(test_http_client_rejects_bad_requests),
        cmocka_unit_test(test_http_client_close_cancels_in_flight),
    };
    return cmocka_run_group_tests_name("http_client", tests, NULL, NULL);
}
