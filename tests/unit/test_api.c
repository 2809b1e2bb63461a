/* test_api.c: the REST API end to end: a real HTTP server on 127.0.0.1
 * with the api mounted, a real HTTP client, a real libuv loop and a
 * SQLite file. Covers authentication (token, password on the thread pool,
 * the credential cache), format negotiation, escaping, Restcomm paging,
 * Restcomm's password strength score, and freeing the api while a
 * password check is still running. The full endpoint matrix is exercised
 * with curl by tests/integration/rest_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <uv.h>

#include "api.h"
#include "api_int.h"
#include "config.h"
#include "http.h"
#include "notify.h"
#include "store.h"
#include "util.h"

#define ADMIN_EMAIL "admin@example.com"
#define ADMIN_PW "Unit-Test-Password-1"

static char tmpdir[] = "/tmp/sb-api-XXXXXX";
static int dbn;

typedef struct {
    uv_loop_t loop;
    uv_timer_t watchdog;
    int timed_out;
    sb_store_t *store;
    sb_config_t cfg;
    sb_http_router_t *router;
    sb_api_t *api;
    sb_http_server_t *srv;
    sb_http_client_t *client;
    int port;
    char admin[SB_SID_SIZE];
    int closed;
} fx_t;

typedef struct {
    int done;
    int err;
    int status;
    char *body;
    char *ctype;
    char *www;
} resp_t;

static void resp_free(resp_t *r)
{
    free(r->body);
    free(r->ctype);
    free(r->www);
    memset(r, 0, sizeof *r);
}

static void on_watchdog(uv_timer_t *t)
{
    fx_t *fx = t->data;
    fx->timed_out = 1;
}

static void run_until(fx_t *fx, const int *flag)
{
    fx->timed_out = 0;
    uv_timer_start(&fx->watchdog, on_watchdog, 10000, 0);
    while (!*flag && !fx->timed_out)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->watchdog);
    assert_false(fx->timed_out);
}

static int setup(void **state)
{
    fx_t *fx = SB_NEW(fx_t);
    char path[256], err[256];
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    uv_timer_init(&fx->loop, &fx->watchdog);
    fx->watchdog.data = fx;
    snprintf(path, sizeof path, "%s/api%d.db", tmpdir, dbn++);
    assert_int_equal(sb_store_open(path, &fx->store, err, sizeof err), 0);
    char *gen = NULL;
    assert_int_equal(sb_store_bootstrap_admin(fx->store, ADMIN_EMAIL, ADMIN_PW, &gen), 0);
    sb_sid_account(ADMIN_EMAIL, fx->admin);
    assert_int_equal(sb_config_defaults(&fx->cfg, "/nonexistent"), 0);
    fx->router = sb_http_router_new();
    assert_int_equal(sb_api_new(fx->router, fx->store, &fx->cfg, &fx->api), 0);
    sb_api_use_loop(fx->api, &fx->loop);
    sb_http_server_opts_t opts = {.host = "127.0.0.1", .port = 0, .cors = 1};
    assert_int_equal(sb_http_server_new(&fx->loop, &opts, sb_http_router_dispatch,
                                        fx->router, &fx->srv), 0);
    assert_int_equal(sb_http_server_listen(fx->srv), 0);
    fx->port = sb_http_server_port(fx->srv);
    assert_int_equal(sb_http_client_new(&fx->loop, NULL, &fx->client), 0);
    *state = fx;
    return 0;
}

static void on_closed(void *arg)
{
    (*(int *)arg)++;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    fx->closed = 0;
    sb_http_client_close(fx->client, on_closed, &fx->closed);
    if (fx->srv)
        sb_http_server_close(fx->srv, on_closed, &fx->closed);
    else
        fx->closed++;
    while (fx->closed < 2)
        uv_run(&fx->loop, UV_RUN_ONCE);
    sb_api_free(fx->api);
    sb_http_router_free(fx->router);
    uv_close((uv_handle_t *)&fx->watchdog, NULL);
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    sb_store_close(fx->store);
    sb_config_free(&fx->cfg);
    free(fx);
    return 0;
}

static void b64(const char *in, char *out)
{
    static const char tbl[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(in), o = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)in[i + 2];
        out[o++] = tbl[(v >> 18) & 63];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    out[o] = '\0';
}

static void on_fetch(int err, const sb_http_response_t *r, void *arg)
{
    resp_t *out = arg;
    out->err = err;
    out->status = r->status;
    out->body = sb_xstrndup(r->body, r->body_len);
    out->ctype = sb_xstrdup(r->content_type);
    out->www = sb_xstrdup(sb_http_response_header(r, "WWW-Authenticate"));
    out->done = 1;
}

/* Starts a request; user NULL sends no credentials; form is an
 * x-www-form-urlencoded body or NULL. */
static void start(fx_t *fx, const char *method, const char *path, const char *user,
                  const char *secret, const char *form, const char *accept,
                  resp_t *out)
{
    char url[512], cred[256], auth[512];
    memset(out, 0, sizeof *out);
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s%s", fx->port, SB_API_PREFIX, path);
    sb_http_params_t headers = SB_HTTP_PARAMS_INIT;
    if (user) {
        snprintf(cred, sizeof cred, "%s:%s", user, secret);
        char enc[400];
        b64(cred, enc);
        snprintf(auth, sizeof auth, "Basic %s", enc);
        sb_http_params_add(&headers, "Authorization", auth);
    }
    if (accept)
        sb_http_params_add(&headers, "Accept", accept);
    sb_http_fetch_req_t rq = {
        .method = method, .url = url, .headers = &headers,
        .body = form, .body_len = form ? strlen(form) : 0,
        .content_type = form ? "application/x-www-form-urlencoded" : NULL,
        .timeout_ms = 10000,
    };
    assert_int_equal(sb_http_fetch(fx->client, &rq, on_fetch, out, NULL), 0);
    sb_http_params_free(&headers);
}

static void call(fx_t *fx, const char *method, const char *path, const char *user,
                 const char *secret, const char *form, const char *accept, resp_t *out)
{
    start(fx, method, path, user, secret, form, accept, out);
    run_until(fx, &out->done);
    assert_int_equal(out->err, 0);
}

#define ADMIN ADMIN_EMAIL, ADMIN_PW

/* ---- tests -------------------------------------------------------------- */

static void test_api_password_strength_matches_restcomm(void **state)
{
    /* Restcomm's own test vectors, and scores worked out by hand. */
    assert_int_equal(sb__api_password_strength("1234"), 4);
    assert_int_equal(sb__api_password_strength("asdf123"), 37);
    assert_int_equal(sb__api_password_strength("asd123$#@"), 68);
    assert_false(sb__api_password_ok("1234"));
    assert_false(sb__api_password_ok("asdf123"));
    assert_true(sb__api_password_ok("asd123$#@"));
    assert_true(sb__api_password_ok("\xce\xb3\xce\xb9\xcf\x89\xcf\x81\xce\xb3\xce\xbf"
                                    "\xcf\x82" "123#!@"));
    assert_false(sb__api_password_ok(""));
    assert_false(sb__api_password_ok("aaaaaaaaaaaa"));
    assert_false(sb__api_password_ok("abcdefgh"));
    /* Characters that break Restcomm's RegExp are counted literally. */
    assert_true(sb__api_password_ok("Pass(word)*99+"));
    assert_int_equal(sb__api_password_strength(
        "Averyveryverylongpasswordthatkeepsgoing-123456789!!"), 100);
}

static void test_api_unauthenticated_requests_get_401(void **state)
{
    fx_t *fx = *state;
    resp_t r;
    call(fx, "GET", "/Accounts", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.www, "Basic realm=\"Restcomm realm\"");
    assert_string_equal(r.body,
                        "<RestcommResponse><Message>Unauthorized</Message></RestcommResponse>");
    resp_free(&r);
    call(fx, "GET", "/Accounts.json", ADMIN_EMAIL, "bad", NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    assert_string_equal(r.body, "{\"message\":\"Unauthorized\"}");
    assert_non_null(strstr(r.ctype, "application/json"));
    resp_free(&r);
    /* Unknown paths need credentials too: nothing is revealed. */
    call(fx, "GET", "/Nowhere", NULL, NULL, NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
}

static void test_api_token_and_password_authenticate(void **state)
{
    fx_t *fx = *state;
    sb_account_t a;
    assert_int_equal(sb_store_account_get(fx->store, fx->admin, &a), 0);
    resp_t r;
    call(fx, "GET", "/Accounts.json", fx->admin, a.auth_token, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "[]");
    resp_free(&r);
    /* Password: verified on the pool, then from the cache. */
    for (int i = 0; i < 2; i++) {
        call(fx, "GET", "/Accounts.json", ADMIN, NULL, NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    /* A token of another account never works. */
    call(fx, "GET", "/Accounts.json", fx->admin, "0123456789abcdef0123456789abcdef",
         NULL, NULL, &r);
    assert_int_equal(r.status, 401);
    resp_free(&r);
    sb_account_clear(&a);
}

static void test_api_formats_follow_suffix_and_accept(void **state)
{
    fx_t *fx = *state;
    char path[128];
    resp_t r;
    snprintf(path, sizeof path, "/Accounts/%s", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.ctype, "application/xml"));
    assert_true(strncmp(r.body, "<RestcommResponse><Account><Sid>", 32) == 0);
    resp_free(&r);
    call(fx, "GET", path, ADMIN, NULL, "application/json, */*", &r);
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.body, "{\"sid\":\"AC", 10) == 0);
    resp_free(&r);
    snprintf(path, sizeof path, "/Accounts.json/%s", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_true(strncmp(r.body, "{\"sid\":", 7) == 0);
    resp_free(&r);
    snprintf(path, sizeof path, "/Accounts/%s/Applications.json", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_string_equal(r.body, "[]");
    resp_free(&r);
    snprintf(path, sizeof path, "/Accounts/%s/Applications", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_string_equal(r.body,
                        "<RestcommResponse><Applications></Applications></RestcommResponse>");
    resp_free(&r);
}

static void test_api_text_is_escaped_in_both_formats(void **state)
{
    fx_t *fx = *state;
    char path[128];
    resp_t r;
    snprintf(path, sizeof path, "/Accounts/%s/Applications", fx->admin);
    /* FriendlyName = <a&b>"'\x01 */
    call(fx, "POST", path, ADMIN, "FriendlyName=%3Ca%26b%3E%22%27%01", NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "<FriendlyName>&lt;a&amp;b&gt;&quot;&apos;"
                                   "\xef\xbf\xbd</FriendlyName>"));
    resp_free(&r);
    call(fx, "GET", path, ADMIN, NULL, "application/json", &r);
    assert_non_null(strstr(r.body, "\"friendly_name\":\"<a&b>\\\"'\\u0001\""));
    resp_free(&r);
}

static void test_api_paging_writes_restcomm_fields(void **state)
{
    fx_t *fx = *state;
    char path[160];
    resp_t r;
    snprintf(path, sizeof path, "/Accounts/%s/Applications", fx->admin);
    for (int i = 0; i < 5; i++) {
        char form[64];
        snprintf(form, sizeof form, "FriendlyName=app%d", i);
        call(fx, "POST", path, ADMIN, form, NULL, &r);
        assert_int_equal(r.status, 200);
        resp_free(&r);
    }
    snprintf(path, sizeof path, "/Accounts/%s/Applications?PageSize=2&Page=2", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    char want[1200];
    snprintf(want, sizeof want,
             "<Applications page=\"2\" numpages=\"2\" pagesize=\"2\" total=\"5\" "
             "start=\"4\" end=\"5\" uri=\"/2012-04-24/Accounts/%s/Applications\" "
             "firstpageuri=\"/2012-04-24/Accounts/%s/Applications?Page=0&amp;PageSize=2\" "
             "previouspageuri=\"/2012-04-24/Accounts/%s/Applications?Page=1&amp;PageSize=2\" "
             "nextpageuri=\"null\" "
             "lastpageuri=\"/2012-04-24/Accounts/%s/Applications?Page=2&amp;PageSize=2\">",
             fx->admin, fx->admin, fx->admin, fx->admin);
    assert_non_null(strstr(r.body, want));
    assert_non_null(strstr(r.body, "<FriendlyName>app4</FriendlyName>"));
    assert_null(strstr(r.body, "<FriendlyName>app3</FriendlyName>"));
    resp_free(&r);
    snprintf(path, sizeof path,
             "/Accounts/%s/Applications.json?PageSize=2&FriendlyName=x", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_non_null(strstr(r.body, "\"page\":0,\"num_pages\":2,\"page_size\":2,"
                                   "\"total\":5,\"start\":0,\"end\":1,"));
    /* Other query parameters are kept in the page URIs. */
    assert_non_null(strstr(r.body, "Applications.json?FriendlyName=x&Page=1&PageSize=2"
                                   "&AfterSid=AP"));
    assert_non_null(strstr(r.body, "\"previous_page_uri\":null"));     /* JSON null */
    resp_free(&r);
    snprintf(path, sizeof path, "/Accounts/%s/Applications?PageSize=2&Page=3", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_int_equal(r.status, 400);
    resp_free(&r);
}

static void test_api_recorded_notifications_are_served(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE] = "", path[200];
    const char *csid = "ID0123456789abcdef0123456789abcdef-CA0123456789abcdef0123456789abcdef";
    char *big = malloc(70000);
    memset(big, 'x', 69999);
    big[69999] = '\0';
    sb_notify_t n = {
        .account_sid = fx->admin, .call_sid = csid, .level = SB_NOTIFY_WARNING,
        .code = SB_NOTIFY_HTTP_FAILURE, .message = "cannot fetch",
        .request_url = "http://127.0.0.1:9/app.xml", .request_method = "POST",
        .request_variables = "From=alice&To=bob", .response_body = big,
        .time_ms = 1700000000123LL,
    };
    assert_int_equal(sb_notify_record(fx->store, &n, sid), 0);
    free(big);
    assert_true(sb_sid_valid(sid, "NO"));
    assert_int_equal(sb_notify_message(fx->store, fx->admin, NULL, SB_NOTIFY_ERROR,
                                       SB_NOTIFY_DOCUMENT_PARSE, "bad <%s>", "Say"), 0);
    sb_notify_t bad = {.code = 1};
    assert_int_equal(sb_notify_record(fx->store, &bad, NULL), SB_EINVAL);
    sb_notify_t nocode = {.account_sid = fx->admin};
    assert_int_equal(sb_notify_record(fx->store, &nocode, NULL), SB_EINVAL);

    resp_t r;
    snprintf(path, sizeof path, "/Accounts/%s/Notifications/%s.json", fx->admin, sid);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "\"log\":1,\"error_code\":11200,"));
    assert_non_null(strstr(r.body, "\"more_info\":\"/restcomm/errors/11200.html\""));
    assert_non_null(strstr(r.body, "\"message_date\":\"2023-11-14T22:13:20.123Z\""));
    assert_non_null(strstr(r.body, csid));
    assert_non_null(strstr(r.body, "\"request_variables\":\"From=alice&To=bob\""));
    /* The response body was cut at 64 KiB. */
    assert_non_null(strstr(r.body, "xxxx"));
    assert_true(strlen(r.body) < 66000 + 2000);
    resp_free(&r);
    snprintf(path, sizeof path, "/Accounts/%s/Notifications?ErrorCode=12100", fx->admin);
    call(fx, "GET", path, ADMIN, NULL, NULL, &r);
    assert_non_null(strstr(r.body, "<MessageText>bad &lt;Say&gt;</MessageText>"));
    assert_non_null(strstr(r.body, "total=\"1\""));
    resp_free(&r);
}

static void test_api_free_while_password_check_runs(void **state)
{
    fx_t *fx = *state;
    resp_t r;
    /* A password not seen before goes to the thread pool. */
    start(fx, "GET", "/Accounts.json", ADMIN, NULL, NULL, &r);
    fx->timed_out = 0;
    uv_timer_start(&fx->watchdog, on_watchdog, 10000, 0);
    while (fx->api->pending == 0 && !fx->timed_out && !r.done)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->watchdog);
    assert_int_equal(fx->api->pending, 1);
    /* Tear down under it: the route goes, the job finishes, the request
     * is answered 503 (or dropped with the connection) and the api is
     * freed by the job's completion. */
    sb_api_free(fx->api);
    fx->api = NULL;
    sb_http_server_close(fx->srv, on_closed, &fx->closed);
    fx->srv = NULL;
    run_until(fx, &r.done);
    assert_true(r.err != 0 || r.status == 503);
    resp_free(&r);
    /* teardown frees nothing twice: api is NULL, server already closing. */
    while (fx->closed < 1)
        uv_run(&fx->loop, UV_RUN_ONCE);
    fx->closed = 0;
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    sb_log_set_level(SB_LOG_WARN);
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_password_strength_matches_restcomm),
        T(test_api_unauthenticated_requests_get_401),
        T(test_api_token_and_password_authenticate),
        T(test_api_formats_follow_suffix_and_accept),
        T(test_api_text_is_escaped_in_both_formats),
        T(test_api_paging_writes_restcomm_fields),
        T(test_api_recorded_notifications_are_served),
        T(test_api_free_while_password_check_runs),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
