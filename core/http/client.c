/*
 * client.c: the HTTP client, libcurl's multi interface on the libuv loop.
 *
 * One CURLM per client: CURLMOPT_SOCKETFUNCTION gives each socket curl
 * wants watched a uv_poll_t, CURLMOPT_TIMERFUNCTION drives one uv_timer_t,
 * and kept-alive connections live in the multi handle's cache, so
 * successive fetches to one server reuse a connection. One easy handle per
 * fetch. Redirects are followed here rather than by curl, so that every hop
 * repeats the same method, parameters and body (Restcomm's behaviour) and
 * shares one deadline.
 *
 * Completions are delivered from loop callbacks only: normal ones straight
 * from the poll/timer callback that noticed them, cancellations through a
 * zero-delay "defer" timer, never from inside sb_http_fetch or cancel.
 * Also here: sb_http_url_resolve, since it is curl's URL parser.
 */
#include "http_int.h"

#include <curl/curl.h>
#include <string.h>
#include <strings.h>

#define DEF_TIMEOUT_MS        30000
#define DEF_CONNECT_MS        10000
#define DEF_MAX_RESPONSE      (1024 * 1024)
#define DEF_MAX_REDIRECTS     10

typedef struct poll_s poll_t;

/* Owner: the client; freed in its uv_close callback. */
struct poll_s {
    uv_poll_t poll;
    curl_socket_t fd;
    sb_http_client_t *client;
    poll_t *prev, *next;
    int closing;
};

typedef enum {
    FETCH_ACTIVE,       /* in the multi handle */
    FETCH_QUEUED,       /* finished, callback waits for the defer timer */
    FETCH_CALLING       /* callback running */
} fetch_state_t;

/* Owner: the client from sb_http_fetch until its callback returns. */
struct sb_http_fetch_s {
    sb_http_client_t *client;
    sb_http_fetch_t *prev, *next;   /* active list, or done list (next) */
    fetch_state_t state;
    CURL *easy;
    struct curl_slist *hdrs;
    char *query;                    /* encoded params in the query, or NULL */
    char *post;                     /* body sent on every hop, or NULL */
    size_t post_len;
    sb_buf_t body;
    sb_http_params_t resp_headers;
    size_t max_bytes;
    uint64_t deadline;              /* uv_now */
    int redirects;
    int too_big;
    int err;
    const char *errtext;            /* static text, or errbuf */
    char errbuf[CURL_ERROR_SIZE];
    sb_http_fetch_done_cb cb;
    void *arg;
};

/* Owner: the caller of sb_http_client_new until sb_http_client_close. */
struct sb_http_client_s {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;               /* curl's timeout */
    uv_timer_t defer;               /* delivers queued completions */
    sb_http_fetch_t *active;
    sb_http_fetch_t *done_head, *done_tail;
    poll_t *polls;
    char *user_agent;
    int connect_timeout_ms;
    int max_redirects;
    int open_handles;
    int closing;
    int finishing;                  /* multi cleaned, handles closing */
    sb_http_client_close_cb close_cb;
    void *close_arg;
};

static void check_multi_info(sb_http_client_t *c);
static void on_defer(uv_timer_t *t);

/* ---- curl <-> libuv ----------------------------------------------------- */

static void on_handle_closed(uv_handle_t *h);

static void poll_close(poll_t *p)
{
    if (p->closing)
        return;
    p->closing = 1;
    if (p->prev)
        p->prev->next = p->next;
    else
        p->client->polls = p->next;
    if (p->next)
        p->next->prev = p->prev;
    uv_close((uv_handle_t *)&p->poll, on_handle_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    poll_t *p = h->data;
    sb_http_client_t *c = p->client;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(c->multi, p->fd, flags, &running);
    check_multi_info(c);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp,
                          void *socketp)
{
    sb_http_client_t *c = userp;
    poll_t *p = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (p) {
            if (!c->finishing)
                curl_multi_assign(c->multi, s, NULL);
            poll_close(p);
        }
        return 0;
    }
    if (c->finishing)
        return 0;
    if (p == NULL) {
        p = SB_NEW(poll_t);
        if (uv_poll_init_socket(c->loop, &p->poll, s) != 0) {
            free(p);
            return -1;
        }
        p->poll.data = p;
        p->fd = s;
        p->client = c;
        p->next = c->polls;
        if (c->polls)
            c->polls->prev = p;
        c->polls = p;
        c->open_handles++;
        curl_multi_assign(c->multi, s, p);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&p->poll, events, on_poll);
    return 0;
}

static void on_curl_timeout(uv_timer_t *t)
{
    sb_http_client_t *c = t->data;
    int running;
    curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(c);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    sb_http_client_t *c = userp;
    (void)multi;
    if (c->finishing)
        return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_curl_timeout, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---- per-transfer curl callbacks ---------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    sb_http_fetch_t *f = userdata;
    size_t n = size * nmemb;
    if (f->body.len + n > f->max_bytes) {
        f->too_big = 1;
        return 0;                     /* anything but n aborts */
    }
    sb_buf_append(&f->body, ptr, n);
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    sb_http_fetch_t *f = userdata;
    size_t n = size * nmemb, len = n;
    if (len >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
        sb_http_params_free(&f->resp_headers);  /* a new response starts */
        return n;
    }
    while (len > 0 && (ptr[len - 1] == '\r' || ptr[len - 1] == '\n'))
        len--;
    const char *colon = memchr(ptr, ':', len);
    if (colon == NULL || colon == ptr)
        return n;
    const char *v = colon + 1, *end = ptr + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    char *name = sb_xstrndup(ptr, (size_t)(colon - ptr));
    char *value = sb_xstrndup(v, (size_t)(end - v));
    if (strcasecmp(name, "Content-Length") == 0 &&
        strtoull(value, NULL, 10) > f->max_bytes) {
        free(name);
        free(value);
        f->too_big = 1;
        return 0;
    }
    sb__http_params_take(&f->resp_headers, name, value);
    return n;
}

/* ---- completion ---------------------------------------------------------- */

const char *sb_http_response_header(const sb_http_response_t *resp,
                                    const char *name)
{
    return sb_http_params_get_ci(resp->headers, name);
}

static void fetch_unlink(sb_http_fetch_t *f)
{
    sb_http_client_t *c = f->client;
    if (f->prev)
        f->prev->next = f->next;
    else
        c->active = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
    curl_multi_remove_handle(c->multi, f->easy);
}

static void fetch_free(sb_http_fetch_t *f)
{
    curl_easy_cleanup(f->easy);
    curl_slist_free_all(f->hdrs);
    free(f->query);
    free(f->post);
    sb_buf_free(&f->body);
    sb_http_params_free(&f->resp_headers);
    free(f);
}

/* Calls the callback (f is out of the multi handle) and frees f. */
static void fetch_deliver(sb_http_fetch_t *f)
{
    long code = 0;
    char *ctype = NULL, *url = NULL;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ctype);
    curl_easy_getinfo(f->easy, CURLINFO_EFFECTIVE_URL, &url);
    sb_http_response_t resp = {
        .status = (int)code,
        .content_type = ctype,
        .body = sb_buf_str(&f->body),
        .body_len = f->body.len,
        .url = url ? url : "",
        .headers = &f->resp_headers,
        .error = f->err ? (f->errtext ? f->errtext : sb_strerror(f->err)) : NULL,
    };
    f->state = FETCH_CALLING;
    f->cb(f->err, &resp, f->arg);
    fetch_free(f);
}

/* Finishes f later, from the defer timer (cancel, close). */
static void fetch_defer(sb_http_fetch_t *f, int err, const char *text)
{
    sb_http_client_t *c = f->client;
    fetch_unlink(f);
    f->err = err;
    f->errtext = text;
    f->state = FETCH_QUEUED;
    if (c->done_tail)
        c->done_tail->next = f;
    else
        c->done_head = f;
    c->done_tail = f;
    uv_timer_start(&c->defer, on_defer, 0, 0);
}

static void fetch_finish(sb_http_fetch_t *f, int err, const char *text)
{
    fetch_unlink(f);
    f->err = err;
    f->errtext = text;
    fetch_deliver(f);
}

static int map_curl_error(sb_http_fetch_t *f, CURLcode rc)
{
    if (f->too_big)
        return SB_ETOOBIG;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return SB_ETIMEDOUT;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        return SB_EINVAL;
    case CURLE_FILESIZE_EXCEEDED:
        return SB_ETOOBIG;
    case CURLE_OUT_OF_MEMORY:
        return SB_ENOMEM;
    default:
        return SB_ENETWORK;
    }
}

/* ---- URLs --------------------------------------------------------------- */

static int is_http_url(CURLU *u)
{
    char *scheme = NULL;
    int ok = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
             (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0);
    curl_free(scheme);
    return ok;
}

/* Returns owned URL with query appended to its query string ('&' when it
 * has one, else '?'; before any fragment), or NULL when url is not a valid
 * http(s) URL. With skip_if_present, a URL whose query already contains
 * query is returned unchanged. The text is assembled here rather than by
 * curl's URL API, which would rewrite the escapes (%C3 -> %c3). */
static char *url_with_query(const char *url, const char *query,
                            int skip_if_present)
{
    CURLU *u = curl_url();
    int ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
             is_http_url(u);
    curl_url_cleanup(u);
    if (!ok)
        return NULL;
    if (query == NULL || query[0] == '\0')
        return sb_xstrdup(url);
    const char *hash = strchr(url, '#');
    size_t end = hash ? (size_t)(hash - url) : strlen(url);
    const char *q = memchr(url, '?', end);
    if (skip_if_present && q) {
        char *cur = sb_xstrndup(q + 1, end - (size_t)(q + 1 - url));
        int present = strstr(cur, query) != NULL;
        free(cur);
        if (present)
            return sb_xstrndup(url, end);
    }
    const char *sep = q == NULL ? "?" : (q + 1 == url + end ? "" : "&");
    return sb_xasprintf("%.*s%s%s", (int)end, url, sep, query);
}

int sb_http_url_resolve(const char *base, const char *ref, char **out)
{
    CURLU *u = curl_url();
    char *res = NULL;
    int rc = SB_EINVAL;
    if (u == NULL)
        return SB_ENOMEM;
    if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK && is_http_url(u) &&
        curl_url_set(u, CURLUPART_URL, ref, 0) == CURLUE_OK && is_http_url(u) &&
        curl_url_get(u, CURLUPART_URL, &res, 0) == CURLUE_OK) {
        *out = sb_xstrdup(res);
        rc = 0;
    }
    curl_free(res);
    curl_url_cleanup(u);
    return rc;
}

/* ---- redirects ---------------------------------------------------------- */

static int is_redirect(long code)
{
    return code == 301 || code == 302 || code == 303 || code == 307 ||
           code == 308;
}

/* Starts the next hop to location. Returns 0, or an error for f. */
static int fetch_redirect(sb_http_fetch_t *f, const char *location,
                          const char **text)
{
    sb_http_client_t *c = f->client;
    uint64_t now = uv_now(c->loop);
    if (f->deadline <= now) {
        *text = "timed out following redirects";
        return SB_ETIMEDOUT;
    }
    char *url = url_with_query(location, f->query, 1);
    if (url == NULL) {
        *text = "redirect to an invalid or non-http URL";
        return SB_ENETWORK;
    }
    curl_multi_remove_handle(c->multi, f->easy);
    sb_buf_reset(&f->body);
    sb_http_params_free(&f->resp_headers);
    f->errbuf[0] = '\0';
    f->redirects++;
    curl_easy_setopt(f->easy, CURLOPT_URL, url);
    curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, (long)(f->deadline - now));
    free(url);
    if (curl_multi_add_handle(c->multi, f->easy) != CURLM_OK) {
        *text = "cannot restart transfer";
        return SB_ENETWORK;
    }
    return 0;
}

static void transfer_done(sb_http_fetch_t *f, CURLcode rc)
{
    sb_http_client_t *c = f->client;
    if (rc != CURLE_OK) {
        fetch_finish(f, map_curl_error(f, rc),
                     f->errbuf[0] ? f->errbuf : curl_easy_strerror(rc));
        return;
    }
    long code = 0;
    char *location = NULL;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(f->easy, CURLINFO_REDIRECT_URL, &location);
    if (is_redirect(code) && location && c->max_redirects >= 0) {
        if (f->redirects >= c->max_redirects) {
            fetch_finish(f, SB_ELIMIT, "too many redirects");
            return;
        }
        const char *text = NULL;
        char *loc = sb_xstrdup(location);  /* owned by the easy handle */
        int err = fetch_redirect(f, loc, &text);
        free(loc);
        if (err < 0)
            fetch_finish(f, err, text);
        return;
    }
    fetch_finish(f, 0, NULL);
}

static void check_multi_info(sb_http_client_t *c)
{
    CURLMsg *msg;
    int left;
    while (!c->closing && (msg = curl_multi_info_read(c->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        char *priv = NULL;
        CURLcode rc = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        transfer_done((sb_http_fetch_t *)priv, rc);   /* may run a callback */
    }
}

/* ---- client ------------------------------------------------------------- */

static void client_free_if_done(sb_http_client_t *c)
{
    if (!c->finishing || c->open_handles > 0)
        return;
    sb_http_client_close_cb cb = c->close_cb;
    void *arg = c->close_arg;
    free(c->user_agent);
    free(c);
    if (cb)
        cb(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    sb_http_client_t *c;
    if (h->type == UV_POLL) {
        poll_t *p = h->data;
        c = p->client;
        free(p);
    } else {
        c = h->data;
    }
    c->open_handles--;
    client_free_if_done(c);
}

/* Every callback is delivered: close polls first (before curl closes the
 * sockets under them), then the multi handle, then the timers. */
static void client_finish(sb_http_client_t *c)
{
    if (c->finishing)
        return;
    c->finishing = 1;
    uv_timer_stop(&c->timer);
    while (c->polls)
        poll_close(c->polls);
    curl_multi_cleanup(c->multi);
    c->multi = NULL;
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->defer, on_handle_closed);
}

static void on_defer(uv_timer_t *t)
{
    sb_http_client_t *c = t->data;
    sb_http_fetch_t *f;
    while ((f = c->done_head) != NULL) {
        c->done_head = f->next;
        if (c->done_head == NULL)
            c->done_tail = NULL;
        f->next = NULL;
        fetch_deliver(f);             /* may queue more */
    }
    if (c->closing && c->active == NULL && !c->finishing)
        client_finish(c);
}

int sb_http_client_new(uv_loop_t *loop, const sb_http_client_opts_t *opts,
                       sb_http_client_t **out)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return SB_ENOMEM;
        curl_ready = 1;
    }
    CURLM *multi = curl_multi_init();
    if (multi == NULL)
        return SB_ENOMEM;
    sb_http_client_t *c = SB_NEW(sb_http_client_t);
    c->loop = loop;
    c->multi = multi;
    c->user_agent = sb_xstrdup(opts && opts->user_agent ? opts->user_agent
                                                        : "Switchboard");
    c->connect_timeout_ms = opts && opts->connect_timeout_ms > 0
                                ? opts->connect_timeout_ms : DEF_CONNECT_MS;
    c->max_redirects = opts && opts->max_redirects != 0 ? opts->max_redirects
                                                        : DEF_MAX_REDIRECTS;
    uv_timer_init(loop, &c->timer);
    uv_timer_init(loop, &c->defer);
    c->timer.data = c->defer.data = c;
    c->open_handles = 2;
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(multi, CURLMOPT_SOCKETDATA, c);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(multi, CURLMOPT_TIMERDATA, c);
    *out = c;
    return 0;
}

void sb_http_client_close(sb_http_client_t *c, sb_http_client_close_cb cb,
                          void *arg)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->close_cb = cb;
    c->close_arg = arg;
    while (c->active)
        fetch_defer(c->active, SB_ECANCELED, "client closed");
    uv_timer_start(&c->defer, on_defer, 0, 0);
}

/* ---- starting a fetch --------------------------------------------------- */

static int header_ok(const char *name, const char *value)
{
    return name && value && name[0] && !strpbrk(name, "\r\n:") &&
           !strpbrk(value, "\r\n");
}

int sb_http_fetch(sb_http_client_t *c, const sb_http_fetch_req_t *req,
                  sb_http_fetch_done_cb cb, void *arg,
                  sb_http_fetch_t **handle)
{
    static const char *const methods[] = {"GET", "HEAD", "POST", "PUT",
                                          "DELETE"};
    const char *method = req->method ? req->method : "GET";
    size_t mi;
    if (c->closing)
        return SB_ESTATE;
    if (cb == NULL || req->url == NULL)
        return SB_EINVAL;
    for (mi = 0; mi < SB_COUNTOF(methods); mi++)
        if (strcmp(method, methods[mi]) == 0)
            break;
    if (mi == SB_COUNTOF(methods))
        return SB_EINVAL;
    int bodyless = mi <= 1;           /* GET, HEAD */
    if (req->body && bodyless)
        return SB_EINVAL;
    for (size_t i = 0; req->headers && i < req->headers->count; i++)
        if (!header_ok(req->headers->items[i].name,
                       req->headers->items[i].value))
            return SB_EINVAL;
    if (req->content_type && strpbrk(req->content_type, "\r\n"))
        return SB_EINVAL;

    /* Where the params go: a form body for POST and PUT without a raw
     * body, the query string otherwise. */
    int params_in_body = (mi == 2 || mi == 3) && req->body == NULL;
    sb_buf_t enc = SB_BUF_INIT;
    sb_http_form_encode(&enc, req->params);
    char *query = NULL;
    if (!params_in_body && enc.len > 0)
        query = sb_xstrdup(sb_buf_str(&enc));
    char *url = url_with_query(req->url, query, 0);
    if (url == NULL) {
        free(query);
        sb_buf_free(&enc);
        return SB_EINVAL;
    }

    sb_http_fetch_t *f = SB_NEW(sb_http_fetch_t);
    f->easy = curl_easy_init();
    if (f->easy == NULL) {
        free(f);
        free(url);
        free(query);
        sb_buf_free(&enc);
        return SB_ENOMEM;
    }
    f->client = c;
    f->cb = cb;
    f->arg = arg;
    f->query = query;
    f->max_bytes = req->max_response_bytes ? req->max_response_bytes
                                           : DEF_MAX_RESPONSE;
    int timeout = req->timeout_ms > 0 ? req->timeout_ms : DEF_TIMEOUT_MS;
    f->deadline = uv_now(c->loop) + (uint64_t)timeout;

    const char *ctype = NULL;
    if (params_in_body) {
        f->post_len = enc.len;
        f->post = sb_buf_steal(&enc);
        ctype = "application/x-www-form-urlencoded";
    } else if (req->body) {
        f->post_len = req->body_len;
        f->post = sb_xmalloc(req->body_len + 1);
        memcpy(f->post, req->body, req->body_len);
        ctype = req->content_type ? req->content_type
                                  : "application/octet-stream";
    }
    sb_buf_free(&enc);

    /* No "Expect: 100-continue" round trip before bodies. */
    f->hdrs = curl_slist_append(f->hdrs, "Expect:");
    if (ctype) {
        char *h = sb_xasprintf("Content-Type: %s", ctype);
        f->hdrs = curl_slist_append(f->hdrs, h);
        free(h);
    }
    for (size_t i = 0; req->headers && i < req->headers->count; i++) {
        char *h = sb_xasprintf("%s: %s", req->headers->items[i].name,
                               req->headers->items[i].value);
        f->hdrs = curl_slist_append(f->hdrs, h);
        free(h);
    }

    CURL *e = f->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    free(url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)f);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(c->connect_timeout_ms < timeout ? c->connect_timeout_ms
                                                            : timeout));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->hdrs);
    if (mi == 0) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (mi == 1) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        if (mi != 2)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        if (f->post || mi == 2) {
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)f->post_len);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, f->post ? f->post : "");
        }
    }

    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
        fetch_free(f);
        return SB_ENOMEM;
    }
    f->state = FETCH_ACTIVE;
    f->next = c->active;
    if (c->active)
        c->active->prev = f;
    c->active = f;
    if (handle)
        *handle = f;
    return 0;
}

void sb_http_fetch_cancel(sb_http_fetch_t *f)
{
    if (f == NULL || f->state != FETCH_ACTIVE)
        return;
    fetch_defer(f, SB_ECANCELED, "canceled");
}
