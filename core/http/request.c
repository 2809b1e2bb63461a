/*
 * request.c: the request object seen by handlers and the answer they give.
 *
 * Owns the request's life from "complete" to "answered": splitting and
 * decoding the target, form bodies, the accessors of http.h, response
 * headers, serializing the answer (status line, Date, Content-Length,
 * Connection, CORS) and the access log line. Sending, ordering and the
 * connection's fate are server.c's business (sb__http_conn_flush).
 */
#include "http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

sb_http_req_t *sb__http_req_new(sb__http_conn_t *conn)
{
    sb_http_req_t *req = SB_NEW(sb_http_req_t);
    req->conn = conn;
    req->state = SB__REQ_PARSING;
    req->start_ns = uv_hrtime();
    req->keep_alive = 1;
    if (conn) {
        memcpy(req->remote, conn->remote, sizeof req->remote);
        req->cors = conn->srv->opts.cors;
    }
    return req;
}

void sb__http_req_free(sb_http_req_t *req)
{
    if (req == NULL)
        return;
    free(req->method);
    sb_buf_free(&req->url);
    free(req->raw_path);
    free(req->path);
    free(req->query_string);
    sb_http_params_free(&req->headers);
    sb_http_params_free(&req->query);
    sb_http_params_free(&req->form);
    sb_http_params_free(&req->path_params);
    sb_buf_free(&req->body);
    sb_http_params_free(&req->resp_headers);
    sb_buf_free(&req->out);
    free(req);
}

/* ---- preparing a received request -------------------------------------- */

static int is_form_type(const char *ct)
{
    static const char form[] = "application/x-www-form-urlencoded";
    if (ct == NULL)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    if (strncasecmp(ct, form, sizeof form - 1) != 0)
        return 0;
    char c = ct[sizeof form - 1];
    return c == '\0' || c == ';' || c == ' ' || c == '\t';
}

int sb__http_req_prepare(sb_http_req_t *req)
{
    const char *t = sb_buf_str(&req->url);
    size_t len = req->url.len;

    /* Absolute form (a proxy-style target): keep only the path part. */
    if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
        const char *auth = strstr(t, "//") + 2;
        const char *slash = strpbrk(auth, "/?");
        if (slash == NULL) {
            t = "/";
            len = 1;
        } else if (*slash == '?') {
            /* "http://h?q": path "/" and the query. Rebuild the target. */
            char *fixed = sb_xasprintf("/%s", slash);
            sb_buf_reset(&req->url);
            sb_buf_puts(&req->url, fixed);
            free(fixed);
            t = sb_buf_str(&req->url);
            len = req->url.len;
        } else {
            len -= (size_t)(slash - t);
            t = slash;
        }
    }
    if (len == 0 || (t[0] != '/' && !(len == 1 && t[0] == '*')))
        return 400;

    const char *hash = memchr(t, '#', len);
    if (hash)
        len = (size_t)(hash - t);
    const char *q = memchr(t, '?', len);
    size_t plen = q ? (size_t)(q - t) : len;

    req->raw_path = sb_xstrndup(t, plen);
    req->query_string = q ? sb_xstrndup(q + 1, len - plen - 1) : sb_xstrdup("");
    if (sb_http_url_decode(t, plen, &req->path) < 0)
        return 400;
    if (sb_http_form_decode(req->query_string, strlen(req->query_string),
                            &req->query) < 0)
        return 400;

    if ((strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0) &&
        is_form_type(sb_http_params_get_ci(&req->headers, "Content-Type"))) {
        if (sb_http_form_decode(sb_buf_str(&req->body), req->body.len,
                                &req->form) < 0)
            return 400;
    }
    return 0;
}

/* ---- accessors ---------------------------------------------------------- */

const char *sb_http_req_method(const sb_http_req_t *req) { return req->method; }
const char *sb_http_req_raw_path(const sb_http_req_t *req) { return req->raw_path; }
const char *sb_http_req_path(const sb_http_req_t *req) { return req->path; }

const char *sb_http_req_query_string(const sb_http_req_t *req)
{
    return req->query_string;
}

const sb_http_params_t *sb_http_req_query(const sb_http_req_t *req)
{
    return &req->query;
}

const sb_http_params_t *sb_http_req_form(const sb_http_req_t *req)
{
    return &req->form;
}

const char *sb_http_req_param(const sb_http_req_t *req, const char *name)
{
    const char *v = sb_http_params_get(&req->form, name);
    return v ? v : sb_http_params_get(&req->query, name);
}

const char *sb_http_req_header(const sb_http_req_t *req, const char *name)
{
    return sb_http_params_get_ci(&req->headers, name);
}

const sb_http_params_t *sb_http_req_headers(const sb_http_req_t *req)
{
    return &req->headers;
}

const char *sb_http_req_body(const sb_http_req_t *req, size_t *len)
{
    if (len)
        *len = req->body.len;
    return sb_buf_str(&req->body);
}

const char *sb_http_req_remote(const sb_http_req_t *req) { return req->remote; }

const char *sb_http_req_path_param(const sb_http_req_t *req, const char *name)
{
    return sb_http_params_get(&req->path_params, name);
}

int sb_http_req_gone(const sb_http_req_t *req)
{
    return req->conn == NULL || req->conn->closing;
}

/* ---- answering ---------------------------------------------------------- */

static int has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

int sb_http_resp_header(sb_http_req_t *req, const char *name,
                        const char *value)
{
    static const char *const reserved[] = {
        "Content-Length", "Connection", "Date", "Transfer-Encoding"};
    if (name == NULL || value == NULL || name[0] == '\0' || has_crlf(name) ||
        has_crlf(value) || strchr(name, ':'))
        return SB_EINVAL;
    for (size_t i = 0; i < SB_COUNTOF(reserved); i++)
        if (strcasecmp(name, reserved[i]) == 0)
            return SB_EINVAL;
    sb_http_params_add(&req->resp_headers, name, value);
    return 0;
}

/* IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), written by hand so the
 * process locale cannot change it; cached per second. */
static const char *http_date(void)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu",
                                       "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May",
                                         "Jun", "Jul", "Aug", "Sep", "Oct",
                                         "Nov", "Dec"};
    static char cached[40];
    static time_t cached_at = (time_t)-1;
    time_t now = time(NULL);
    if (now != cached_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        snprintf(cached, sizeof cached, "%s, %02d %s %04d %02d:%02d:%02d GMT",
                 days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
        cached_at = now;
    }
    return cached;
}

void sb__http_req_build(sb_http_req_t *req, int status, const char *ctype,
                        const void *body, size_t len)
{
    sb__http_conn_t *conn = req->conn;
    int no_body = status < 200 || status == 204 || status == 304;

    /* A closing server says "close" on the last answer it owes. */
    if (conn == NULL || (conn->srv->closing && req == conn->tail))
        req->keep_alive = 0;
    sb_buf_reset(&req->out);
    sb_buf_printf(&req->out, "HTTP/1.1 %d %s\r\nDate: %s\r\n", status,
                  sb_http_status_text(status), http_date());
    if (ctype && !no_body && !has_crlf(ctype))
        sb_buf_printf(&req->out, "Content-Type: %s\r\n", ctype);
    if (!no_body)
        sb_buf_printf(&req->out, "Content-Length: %zu\r\n", len);
    sb_buf_puts(&req->out, req->keep_alive ? "Connection: keep-alive\r\n"
                                           : "Connection: close\r\n");
    if (req->cors)
        sb_buf_puts(&req->out, "Access-Control-Allow-Origin: *\r\n");
    for (size_t i = 0; i < req->resp_headers.count; i++)
        sb_buf_printf(&req->out, "%s: %s\r\n", req->resp_headers.items[i].name,
                      req->resp_headers.items[i].value);
    sb_buf_puts(&req->out, "\r\n");
    if (!no_body && !req->is_head && len > 0)
        sb_buf_append(&req->out, body, len);

    req->status = status;
    req->resp_bytes = no_body ? 0 : len;
    double ms = (double)(uv_hrtime() - req->start_ns) / 1e6;
    /* Answers to unparsable requests have no path: show the start of the
     * target as received, without its query. */
    const char *target = req->raw_path;
    int tlen = target ? (int)strlen(target) : 0;
    if (target == NULL) {
        target = req->url.len ? sb_buf_str(&req->url) : "-";
        tlen = (int)strcspn(target, "?");
        if (tlen > 200)
            tlen = 200;
    }
    sb_info("http: %s \"%s %.*s\" %d %zu %.1fms%s",
            req->remote[0] ? req->remote : "-",
            req->method ? req->method : "-", tlen, target, status,
            req->resp_bytes, ms, conn ? "" : " (client gone)");
}

int sb_http_respond(sb_http_req_t *req, int status, const char *content_type,
                    const void *body, size_t len)
{
    if (status < 200 || status > 999)
        return SB_EINVAL;
    if (req->state != SB__REQ_PENDING)
        return SB_ESTATE;
    sb__http_req_build(req, status, content_type, body, len);
    if (req->conn == NULL) {
        sb__http_req_free(req);
        return 0;
    }
    req->state = SB__REQ_ANSWERED;
    sb__http_conn_flush(req->conn);
    return 0;
}
