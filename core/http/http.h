/*
 * http.h: the http module's public header. An HTTP/1.1 server (llhttp on
 * libuv TCP) with a router, an HTTP client (libcurl's multi interface driven
 * by the same libuv loop), and the form/query codecs both sides share.
 *
 * Everything runs on the loop's thread. No other module includes llhttp or
 * curl headers; they see only the types below.
 */
#ifndef SB_HTTP_H
#define SB_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"

/* ------------------------------------------------------------------------ */
/* Name/value lists (query strings, form bodies, headers, path params)      */
/* ------------------------------------------------------------------------ */

typedef struct sb_http_pair_s {
    char *name;                 /* owned, NUL-terminated */
    char *value;                /* owned, NUL-terminated */
} sb_http_pair_t;

/* An ordered list; duplicates are kept in arrival order. Embedded in its
 * owner: sb_http_params_init / sb_http_params_free. */
typedef struct sb_http_params_s {
    sb_http_pair_t *items;      /* owned array of count pairs */
    size_t count;
    size_t cap;
} sb_http_params_t;

#define SB_HTTP_PARAMS_INIT {NULL, 0, 0}

void sb_http_params_init(sb_http_params_t *p);
/* Frees every pair and the array; p is left empty and reusable. */
void sb_http_params_free(sb_http_params_t *p);
/* Appends a pair. Borrows name and value (both copied). */
void sb_http_params_add(sb_http_params_t *p, const char *name,
                        const char *value);
/* Returns borrowed value of the first pair named name (exact match), or
 * NULL. Valid until p is changed or freed. */
const char *sb_http_params_get(const sb_http_params_t *p, const char *name);
/* The same with an ASCII case-insensitive name match (for headers). */
const char *sb_http_params_get_ci(const sb_http_params_t *p,
                                  const char *name);

/* ------------------------------------------------------------------------ */
/* Codecs                                                                   */
/* ------------------------------------------------------------------------ */

/* Appends p to out as application/x-www-form-urlencoded: name=value pairs
 * joined by '&', space as '+', every byte but ALPHA / DIGIT / "-._*"
 * percent-encoded (the WHATWG serializer, as Java's URLEncoder). Nothing is
 * appended for an empty list. Borrows both. */
void sb_http_form_encode(sb_buf_t *out, const sb_http_params_t *p);
/* Appends one component (len bytes of s) encoded as above. */
void sb_http_form_escape(sb_buf_t *out, const char *s, size_t len);

/* Parses len bytes of s (a query string without '?', or a form body) and
 * appends the pairs to out: '&' separates pairs, the first '=' separates
 * name from value (a pair without '=' has value ""), empty pairs are
 * skipped, '+' is a space and %XX is decoded. Returns 0, or SB_EINVAL for
 * a malformed escape or an escape that decodes to NUL; on error the pairs
 * decoded before the bad one are left in out. Borrows s. */
int sb_http_form_decode(const char *s, size_t len, sb_http_params_t *out);

/* Percent-decodes len bytes of s ('+' stays '+', as in a path). Returns 0
 * and *out (owned, NUL-terminated), or SB_EINVAL for a malformed escape or
 * %00 (*out untouched). */
int sb_http_url_decode(const char *s, size_t len, char **out);

/* Returns 1 when len bytes of s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF), else 0. */
int sb_http_utf8_valid(const char *s, size_t len);
/* Returns 1 when every name and value of p is valid UTF-8, else 0. */
int sb_http_params_utf8_valid(const sb_http_params_t *p);

/* Resolves ref (absolute, or relative such as "next.xml" or "/a?b=1")
 * against base (an absolute http or https URL), as a browser would.
 * Returns 0 and *out (owned), or SB_EINVAL when base or the result is not
 * an http(s) URL. Borrows base and ref. */
int sb_http_url_resolve(const char *base, const char *ref, char **out);

/* Returns borrowed (static) reason phrase for a status: "Not Found".
 * Unknown codes give "Unknown". */
const char *sb_http_status_text(int status);

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct sb_http_server_s sb_http_server_t;
typedef struct sb_http_req_s sb_http_req_t;

/* Called once per complete, well-formed request, in arrival order. The
 * handler owns the request until it calls sb_http_respond, now or from any
 * later callback; it must answer every request exactly once (even one
 * whose client went away, see sb_http_req_gone) or the request leaks. */
typedef void (*sb_http_handler_cb)(sb_http_req_t *req, void *arg);
/* Called once by sb_http_server_close when every handle is closed. */
typedef void (*sb_http_server_close_cb)(void *arg);

/* Options. Zero fields take the default shown. */
typedef struct sb_http_server_opts_s {
    const char *host;           /* IPv4 or IPv6 literal, no brackets;
                                   borrowed (copied); NULL: 127.0.0.1 */
    int port;                   /* 0: an ephemeral port (sb_http_server_port) */
    size_t max_header_bytes;    /* request line + headers: 16 KiB; beyond it
                                   431 and close */
    size_t max_body_bytes;      /* 1 MiB; beyond it 413 and close */
    int idle_timeout_ms;        /* keep-alive idle: 60000; then silent close */
    int request_timeout_ms;     /* first byte to last body byte: 10000; then
                                   408 and close */
    int max_connections;        /* 1024; at the cap a new connection
                                   takes the place of one that has not
                                   sent a complete request yet (from the
                                   address holding the most connections,
                                   the oldest first), or is closed as soon
                                   as accepted when there is none */
    int max_connections_per_address;  /* 64; connections from one peer IP
                                   beyond it are closed as soon as
                                   accepted */
    int close_grace_ms;         /* sb_http_server_close waits this long for
                                   unanswered requests: 5000 */
    int cors;                   /* 1: every response carries
                                   Access-Control-Allow-Origin: * and an
                                   OPTIONS preflight (a request with
                                   Access-Control-Request-Method) is
                                   answered 204 by the server itself */
} sb_http_server_opts_t;

/* Counters since sb_http_server_new. */
typedef struct sb_http_server_stats_s {
    uint64_t accepted;          /* connections accepted and served */
    uint64_t rejected;          /* connections closed at accept: over cap
                                   or over the per-address cap */
    uint64_t evicted;           /* connections closed to make room (had
                                   not sent a complete request) */
    uint64_t requests;          /* requests answered (any status) */
    int connections;            /* open now */
} sb_http_server_stats_t;

/* Creates a server (no socket yet). Borrows loop (must outlive the server)
 * and opts (copied; may be NULL for all defaults). handler is called with
 * arg for each request; pass sb_http_router_dispatch and a router to route.
 * Returns 0 and *out (owned: release with sb_http_server_close, even when
 * listen failed), or SB_EINVAL for an invalid host. */
int sb_http_server_new(uv_loop_t *loop, const sb_http_server_opts_t *opts,
                       sb_http_handler_cb handler, void *arg,
                       sb_http_server_t **out);

/* Binds opts->host:port and starts accepting. Returns 0, or the libuv
 * error unchanged (UV_EADDRINUSE, UV_EACCES, UV_EADDRNOTAVAIL, ...) so the
 * caller can report it and exit; SB_ESTATE when called twice. Nothing is
 * logged here. */
int sb_http_server_listen(sb_http_server_t *srv);

/* Returns the bound port (useful with port 0), or 0 when not listening. */
int sb_http_server_port(const sb_http_server_t *srv);

/* Fills *out with the counters. */
void sb_http_server_stats(const sb_http_server_t *srv,
                          sb_http_server_stats_t *out);

/* Graceful close: stops accepting, closes idle connections, lets requests
 * already received be answered (their responses carry Connection: close),
 * and force-closes what is left after close_grace_ms. cb(arg) fires once,
 * from a later loop iteration, when every handle of the server is closed
 * and srv has been freed. Requests still unanswered then are detached:
 * answering them later is allowed and only frees them. Calling it twice is
 * a no-op for the second call (its cb never fires). */
void sb_http_server_close(sb_http_server_t *srv, sb_http_server_close_cb cb,
                          void *arg);

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/* Accessors. Every returned pointer is borrowed and valid until the request
 * is answered. Strings are NUL-terminated and never NULL unless stated. */
const char *sb_http_req_method(const sb_http_req_t *req);   /* "GET" */
/* Path as sent, without the query: "/a%20b". */
const char *sb_http_req_raw_path(const sb_http_req_t *req);
/* Percent-decoded path: "/a b" (requests with %00 or a bad escape never
 * reach a handler; they get 400). */
const char *sb_http_req_path(const sb_http_req_t *req);
/* Query string without '?', "" when none. */
const char *sb_http_req_query_string(const sb_http_req_t *req);
/* Query pairs (form rules: '+' is space). */
const sb_http_params_t *sb_http_req_query(const sb_http_req_t *req);
/* Body pairs of a POST or PUT whose Content-Type is
 * application/x-www-form-urlencoded; empty otherwise. */
const sb_http_params_t *sb_http_req_form(const sb_http_req_t *req);
/* First value named name in the form, else in the query, else NULL. */
const char *sb_http_req_param(const sb_http_req_t *req, const char *name);
/* First header named name (case-insensitive), or NULL. */
const char *sb_http_req_header(const sb_http_req_t *req, const char *name);
/* All headers, names as received. */
const sb_http_params_t *sb_http_req_headers(const sb_http_req_t *req);
/* Body bytes (NUL-terminated, "" when none); *len gets the length when
 * len is not NULL. */
const char *sb_http_req_body(const sb_http_req_t *req, size_t *len);
/* Client IP as text: "127.0.0.1", "::1". */
const char *sb_http_req_remote(const sb_http_req_t *req);
/* Value of a {name} segment of the matched route, the rest of the path for
 * a trailing "*" (name "*"), or NULL. Decoded. */
const char *sb_http_req_path_param(const sb_http_req_t *req,
                                   const char *name);
/* Returns 1 when the connection is gone (client disconnected, or the
 * server's close grace ran out): the answer would be dropped, so a slow
 * handler may stop early. It must still call sb_http_respond, which then
 * only frees the request. */
int sb_http_req_gone(const sb_http_req_t *req);

/* Adds a response header before sb_http_respond. Borrows both (copied).
 * Returns 0, or SB_EINVAL for an empty name, CR/LF in either, or one of
 * the headers the server writes itself (Content-Length, Connection, Date,
 * Transfer-Encoding). */
int sb_http_resp_header(sb_http_req_t *req, const char *name,
                        const char *value);

/* Answers req: status line, Date, Content-Type (when content_type is not
 * NULL), Content-Length, Connection, CORS headers when enabled, the added
 * headers, then len bytes of body (borrowed, copied; omitted for HEAD,
 * 204 and 304). Responses go out in request order: an answer to a later
 * pipelined request waits for the earlier ones. Logs the access line.
 * Takes req: it is freed (now or once written) and must not be used
 * again. Returns 0 (also when the client is gone: the answer is dropped),
 * or SB_EINVAL for a status outside 200..999 (req is still yours). */
int sb_http_respond(sb_http_req_t *req, int status, const char *content_type,
                    const void *body, size_t len);

/* ------------------------------------------------------------------------ */
/* Router                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct sb_http_router_s sb_http_router_t;

/* Returns owned empty router (sb_http_router_free). */
sb_http_router_t *sb_http_router_new(void);
/* Frees the router and its routes. No request may be in dispatch. */
void sb_http_router_free(sb_http_router_t *r);

/* Adds a route. method: "GET", "POST", ... or "*" for any (borrowed,
 * copied). pattern: "/restcomm/2012-04-24/Accounts/{sid}/Calls", segments
 * literal or {name}; a last segment "*" matches the rest of the path (zero
 * or more segments). Borrows pattern (copied). cb(req, arg) is called for
 * matching requests and then owns req as a server handler does. Returns 0
 * and *id (a handle for sb_http_router_remove, never 0; id may be NULL),
 * or SB_EINVAL for a pattern that does not start with '/', an empty or
 * unterminated {name}, or "*" that is not the last segment. */
int sb_http_router_add(sb_http_router_t *r, const char *method,
                       const char *pattern, sb_http_handler_cb cb, void *arg,
                       int *id);
/* Removes a route (safe from inside a handler). Returns 0 or SB_ENOENT. */
int sb_http_router_remove(sb_http_router_t *r, int id);

/* An sb_http_handler_cb: pass it with the router as arg to
 * sb_http_server_new. Matches the decoded path segment by segment; when
 * several routes match, the one with literal segments further left wins,
 * then {name} over "*"; then routes added earlier win. HEAD falls back to
 * GET routes. No path match: 404. A path match without the method: 405
 * with Allow listing the methods that would match. */
void sb_http_router_dispatch(sb_http_req_t *req, void *router);

/* ------------------------------------------------------------------------ */
/* Client                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct sb_http_client_s sb_http_client_t;
typedef struct sb_http_fetch_s sb_http_fetch_t;

typedef struct sb_http_client_opts_s {
    const char *user_agent;     /* borrowed (copied); NULL: "Switchboard" */
    int connect_timeout_ms;     /* 0: 10000 */
    int max_redirects;          /* 0: 10; negative: do not follow */
} sb_http_client_opts_t;

/* One request. Every pointer is borrowed for the sb_http_fetch call only
 * (everything is copied). */
typedef struct sb_http_fetch_req_s {
    const char *method;         /* "GET" (default when NULL), "POST", "PUT",
                                   "DELETE", "HEAD" */
    const char *url;            /* absolute http:// or https:// URL */
    const sb_http_params_t *params; /* may be NULL. POST and PUT without a
                                   body: sent as an x-www-form-urlencoded
                                   body. Otherwise appended to the query
                                   string ('&' when the URL has one). */
    const char *body;           /* raw body (POST, PUT, DELETE) or NULL */
    size_t body_len;
    const char *content_type;   /* of the raw body; NULL:
                                   application/octet-stream */
    const sb_http_params_t *headers; /* extra request headers or NULL */
    int timeout_ms;             /* whole exchange, redirects included:
                                   0 means 30000 */
    size_t max_response_bytes;  /* body cap: 0 means 1 MiB; beyond it the
                                   transfer stops with SB_ETOOBIG */
} sb_http_fetch_req_t;

/* What the done callback sees. Everything is borrowed for the duration of
 * the callback. */
typedef struct sb_http_response_s {
    int status;                 /* last HTTP status, 0 when none arrived */
    const char *content_type;   /* Content-Type or NULL */
    const char *body;           /* never NULL; NUL-terminated */
    size_t body_len;
    const char *url;            /* final URL (after redirects); never NULL */
    const sb_http_params_t *headers; /* of the final response */
    const char *error;          /* error text when err != 0, else NULL */
} sb_http_response_t;

/* First response header named name (case-insensitive), or NULL. */
const char *sb_http_response_header(const sb_http_response_t *resp,
                                    const char *name);

/* err: 0 when an HTTP response arrived (any status: 4xx and 5xx are not
 * errors here), SB_ETIMEDOUT, SB_ENETWORK (resolve, connect, reset,
 * protocol error), SB_ETOOBIG, SB_ELIMIT (more than max_redirects),
 * SB_ECANCELED (sb_http_fetch_cancel or sb_http_client_close). resp is
 * never NULL. */
typedef void (*sb_http_fetch_done_cb)(int err, const sb_http_response_t *resp,
                                      void *arg);
typedef void (*sb_http_client_close_cb)(void *arg);

/* Creates a client. Borrows loop (must outlive the client); opts may be
 * NULL (copied). Returns 0 and *out (owned: sb_http_client_close), or
 * SB_ENOMEM when curl cannot be initialised. */
int sb_http_client_new(uv_loop_t *loop, const sb_http_client_opts_t *opts,
                       sb_http_client_t **out);

/* Starts a request. Redirects (301, 302, 303, 307, 308 with Location) are
 * followed, at most max_redirects times, with the SAME method, params and
 * body (Restcomm's behaviour, whatever the status); for a query-string
 * request the params are appended to the Location URL unless it already
 * carries them. Connections are kept alive and reused between requests.
 * Returns 0 and, when handle is not NULL, *handle (borrowed: valid until
 * cb returns), and cb(err, resp, arg) will be called exactly once, always
 * from a later loop callback, never from inside this call or
 * sb_http_fetch_cancel. Returns SB_EINVAL (bad method, URL that is not
 * http(s), CR/LF in a header, body with GET/HEAD) or SB_ESTATE (client
 * closing) and then never calls cb. */
int sb_http_fetch(sb_http_client_t *client, const sb_http_fetch_req_t *req,
                  sb_http_fetch_done_cb cb, void *arg,
                  sb_http_fetch_t **handle);

/* Stops a request: its network activity ends now and its callback fires
 * with SB_ECANCELED from a later loop callback. No-op once the callback
 * has started or when already canceled. */
void sb_http_fetch_cancel(sb_http_fetch_t *handle);

/* Cancels every request (each callback fires with SB_ECANCELED), closes
 * kept-alive connections and every handle, frees the client, then calls
 * cb(arg) once from a later loop iteration. New fetches fail with
 * SB_ESTATE meanwhile. A second call is a no-op (its cb never fires). */
void sb_http_client_close(sb_http_client_t *client,
                          sb_http_client_close_cb cb, void *arg);

#endif
