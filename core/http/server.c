/*
 * server.c: the listening socket and its connections.
 *
 * Owns accept (with the connection caps), reading into a per-connection
 * buffer, llhttp parsing with the header/body limits, the queue that keeps
 * answers in request order, writing, the one timer per connection (idle
 * keep-alive, slow-request deadline, linger before close) and the graceful
 * close of the whole server.
 *
 * Accept fairness: connections are counted per peer IP (a small hash
 * table), and one address may hold at most max_connections_per_address.
 * At the global cap a new connection takes the place of one that has not
 * sent a complete request yet, chosen from the address holding the most
 * connections (the oldest first), so silent sockets from a few addresses
 * cannot shut everyone else out. A connection that has not sent a
 * complete request is given request_timeout_ms from its accept, not the
 * keep-alive idle time.
 *
 * Parsing pauses after every complete request (on_message_complete returns
 * HPE_PAUSED) so handlers are called outside llhttp and may answer, close
 * the server or do anything else re-entrant. What a request looks like to a
 * handler and how answers are serialized is request.c; routing is router.c.
 */
#include "http_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static void conn_close(sb__http_conn_t *conn);
static void conn_read_stop(sb__http_conn_t *conn);
static void on_timer(uv_timer_t *t);
static void conn_process(sb__http_conn_t *conn);
static void conn_update_timer(sb__http_conn_t *conn);
static void conn_check(sb__http_conn_t *conn);
static void conn_fail(sb__http_conn_t *conn, int status);
static void server_maybe_done(sb_http_server_t *srv);

/* ---- llhttp callbacks --------------------------------------------------- */

static int header_room(sb__http_conn_t *conn, size_t n, int status)
{
    conn->header_bytes += n;
    if (conn->header_bytes > conn->srv->opts.max_header_bytes) {
        conn->err_status = status;
        return HPE_USER;
    }
    return 0;
}

static int on_message_begin(llhttp_t *p)
{
    sb__http_conn_t *conn = p->data;
    conn->cur = sb__http_req_new(conn);
    conn->header_bytes = 16;          /* method, version, line ends */
    sb_buf_reset(&conn->hfield);
    sb_buf_reset(&conn->hvalue);
    conn->deadline = uv_now(conn->srv->loop) +
                     (uint64_t)conn->srv->opts.request_timeout_ms;
    return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len)
{
    sb__http_conn_t *conn = p->data;
    if (header_room(conn, len, 414))
        return HPE_USER;
    sb_buf_append(&conn->cur->url, at, len);
    return 0;
}

static int on_header_field(llhttp_t *p, const char *at, size_t len)
{
    sb__http_conn_t *conn = p->data;
    if (header_room(conn, len, 431))
        return HPE_USER;
    sb_buf_append(&conn->hfield, at, len);
    return 0;
}

static int on_header_value(llhttp_t *p, const char *at, size_t len)
{
    sb__http_conn_t *conn = p->data;
    if (header_room(conn, len, 431))
        return HPE_USER;
    sb_buf_append(&conn->hvalue, at, len);
    return 0;
}

static int on_header_value_complete(llhttp_t *p)
{
    sb__http_conn_t *conn = p->data;
    if (header_room(conn, 4, 431))    /* ": " and CRLF */
        return HPE_USER;
    sb_buf_t *v = &conn->hvalue;      /* llhttp leaves trailing blanks */
    while (v->len > 0 && (v->data[v->len - 1] == ' ' || v->data[v->len - 1] == '\t'))
        v->data[--v->len] = '\0';
    sb__http_params_take(&conn->cur->headers, sb_buf_steal(&conn->hfield),
                         sb_buf_steal(&conn->hvalue));
    return 0;
}

typedef struct {
    uv_write_t wr;
    sb__http_conn_t *conn;
} continue_write_t;

static void on_continue_written(uv_write_t *wr, int status)
{
    continue_write_t *cw = (continue_write_t *)wr;
    sb__http_conn_t *conn = cw->conn;
    free(cw);
    conn->writes--;
    if (conn->closing)
        return;
    if (status < 0)
        conn_close(conn);
    else
        conn_check(conn);
}

/* "Expect: 100-continue" clients wait for this before sending the body.
 * Sent only when nothing else is queued, so it cannot overtake an answer. */
static void send_continue(sb__http_conn_t *conn)
{
    static char text[] = "HTTP/1.1 100 Continue\r\n\r\n";
    continue_write_t *cw = SB_NEW(continue_write_t);
    uv_buf_t b = uv_buf_init(text, sizeof text - 1);
    cw->conn = conn;
    if (uv_write(&cw->wr, (uv_stream_t *)&conn->tcp, &b, 1,
                 on_continue_written) < 0) {
        free(cw);
        return;
    }
    conn->writes++;
}

static int on_headers_complete(llhttp_t *p)
{
    sb__http_conn_t *conn = p->data;
    sb_http_req_t *req = conn->cur;
    req->method = sb_xstrdup(llhttp_method_name((llhttp_method_t)p->method));
    req->is_head = p->method == HTTP_HEAD;
    if (p->http_major != 1) {
        conn->err_status = 400;
        return -1;
    }
    int has_body = (p->flags & F_CHUNKED) ||
                   ((p->flags & F_CONTENT_LENGTH) && p->content_length > 0);
    if ((p->flags & F_CONTENT_LENGTH) &&
        p->content_length > conn->srv->opts.max_body_bytes) {
        conn->err_status = 413;
        return -1;
    }
    const char *expect = sb_http_params_get_ci(&req->headers, "Expect");
    if (has_body && expect && strcasecmp(expect, "100-continue") == 0 &&
        conn->head == NULL && conn->writes == 0)
        send_continue(conn);
    return 0;
}

static int on_body(llhttp_t *p, const char *at, size_t len)
{
    sb__http_conn_t *conn = p->data;
    if (conn->cur->body.len + len > conn->srv->opts.max_body_bytes) {
        conn->err_status = 413;
        return HPE_USER;
    }
    sb_buf_append(&conn->cur->body, at, len);
    return 0;
}

static int on_message_complete(llhttp_t *p)
{
    sb__http_conn_t *conn = p->data;
    sb_http_req_t *req = conn->cur;
    req->keep_alive = llhttp_should_keep_alive(p) && !p->upgrade;
    if (!req->keep_alive)
        conn->no_more = 1;
    conn->ready = req;
    conn->cur = NULL;
    return HPE_PAUSED;                /* dispatch outside llhttp */
}

static const llhttp_settings_t *parser_settings(void)
{
    static llhttp_settings_t s;
    static int done;
    if (!done) {
        llhttp_settings_init(&s);
        s.on_message_begin = on_message_begin;
        s.on_url = on_url;
        s.on_header_field = on_header_field;
        s.on_header_value = on_header_value;
        s.on_header_value_complete = on_header_value_complete;
        s.on_headers_complete = on_headers_complete;
        s.on_body = on_body;
        s.on_message_complete = on_message_complete;
        done = 1;
    }
    return &s;
}

/* ---- the queue of requests ---------------------------------------------- */

static void queue_push(sb__http_conn_t *conn, sb_http_req_t *req)
{
    req->next = NULL;
    if (conn->tail)
        conn->tail->next = req;
    else
        conn->head = req;
    conn->tail = req;
    conn->queued++;
}

static sb_http_req_t *queue_pop(sb__http_conn_t *conn)
{
    sb_http_req_t *req = conn->head;
    if (req) {
        conn->head = req->next;
        if (conn->head == NULL)
            conn->tail = NULL;
        req->next = NULL;
        conn->queued--;
    }
    return req;
}

/* Detaches requests a handler still owns; frees the rest. */
static void queue_drop(sb__http_conn_t *conn)
{
    sb_http_req_t *req;
    while ((req = queue_pop(conn)) != NULL) {
        if (req->state == SB__REQ_PENDING)
            req->conn = NULL;
        else
            sb__http_req_free(req);
    }
}

static void own_answer(sb_http_req_t *req, int status, const char *text)
{
    req->state = SB__REQ_PENDING;
    sb_http_respond(req, status, "text/plain; charset=utf-8", text,
                    strlen(text));
}

static void answer_preflight(sb_http_req_t *req)
{
    const char *hdrs = sb_http_req_header(req, "Access-Control-Request-Headers");
    sb_http_resp_header(req, "Access-Control-Allow-Methods",
                        "GET, POST, PUT, DELETE, OPTIONS");
    sb_http_resp_header(req, "Access-Control-Allow-Headers",
                        hdrs && hdrs[0] ? hdrs : "Authorization, Content-Type");
    sb_http_resp_header(req, "Access-Control-Max-Age", "86400");
    req->state = SB__REQ_PENDING;
    sb_http_respond(req, 204, NULL, NULL, 0);
}

static void conn_dispatch(sb__http_conn_t *conn, sb_http_req_t *req)
{
    sb_http_server_t *srv = conn->srv;
    queue_push(conn, req);
    if (sb__http_req_prepare(req) != 0) {
        req->keep_alive = 0;
        conn->no_more = 1;
        own_answer(req, 400, "Bad Request\n");
        return;
    }
    if (req->cors && strcmp(req->method, "OPTIONS") == 0 &&
        sb_http_req_header(req, "Access-Control-Request-Method")) {
        answer_preflight(req);
        return;
    }
    req->state = SB__REQ_PENDING;
    conn->proven = 1;
    srv->handler(req, srv->handler_arg);
}

/* A request that cannot be served (parse error, limit, timeout): answer
 * after whatever is ahead of it, then close. */
static void conn_fail(sb__http_conn_t *conn, int status)
{
    sb_http_req_t *req = conn->cur;
    conn->cur = NULL;
    if (req == NULL)
        req = sb__http_req_new(conn);
    sb__http_req_free(conn->ready);
    conn->ready = NULL;
    req->keep_alive = 0;
    conn->no_more = 1;
    conn_read_stop(conn);
    queue_push(conn, req);
    own_answer(req, status, status == 408 ? "Request Timeout\n" :
                            status == 413 ? "Content Too Large\n" :
                            status == 414 ? "URI Too Long\n" :
                            status == 431 ? "Request Header Fields Too Large\n" :
                                            "Bad Request\n");
}

/* ---- reading ------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    sb__http_conn_t *conn = h->data;
    (void)hint;
    sb_buf_reserve(&conn->inbuf, 64 * 1024);
    buf->base = conn->inbuf.data + conn->inbuf.len;
    buf->len = conn->inbuf.cap - conn->inbuf.len - 1;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_read_start(sb__http_conn_t *conn)
{
    if (conn->reading || conn->eof || conn->closing)
        return;
    if (uv_read_start((uv_stream_t *)&conn->tcp, on_alloc, on_read) == 0)
        conn->reading = 1;
}

static void conn_read_stop(sb__http_conn_t *conn)
{
    if (conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->tcp);
        conn->reading = 0;
    }
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    sb__http_conn_t *conn = s->data;
    (void)buf;
    if (conn->closing)
        return;
    if (nread > 0) {
        if (conn->lingering || conn->no_more)
            return;                   /* drained and dropped */
        conn->inbuf.len += (size_t)nread;
        conn->inbuf.data[conn->inbuf.len] = '\0';
        conn_process(conn);
        return;
    }
    if (nread == 0)
        return;
    conn->eof = 1;
    conn_read_stop(conn);
    if (nread != UV_EOF || conn->lingering) {
        conn_close(conn);
        return;
    }
    /* Half-closed by the peer: a partial request can never complete, but
     * answers to complete ones can still be delivered. */
    sb__http_req_free(conn->cur);
    conn->cur = NULL;
    conn->no_more = 1;
    conn_check(conn);
}

static void conn_process(sb__http_conn_t *conn)
{
    /* An answer given inside a handler can land here again through
     * conn_check; the outer call carries on with the input instead. */
    if (conn->processing)
        return;
    conn->processing = 1;
    while (!conn->closing && !conn->no_more && conn->inoff < conn->inbuf.len) {
        if (conn->queued >= SB_HTTP_MAX_PIPELINE) {
            conn_read_stop(conn);     /* resumed by conn_check */
            break;
        }
        const char *start = conn->inbuf.data + conn->inoff;
        llhttp_errno_t e = llhttp_execute(&conn->parser, start,
                                          conn->inbuf.len - conn->inoff);
        if (e == HPE_OK) {
            conn->inoff = conn->inbuf.len;
            break;
        }
        if (e == HPE_PAUSED || e == HPE_PAUSED_UPGRADE) {
            const char *pos = llhttp_get_error_pos(&conn->parser);
            conn->inoff = (size_t)(pos - conn->inbuf.data);
            llhttp_resume(&conn->parser);
            sb_http_req_t *req = conn->ready;
            conn->ready = NULL;
            if (req)
                conn_dispatch(conn, req);
            continue;
        }
        sb_debug("http: %s: parse error %s: %s",
                 conn->cur ? conn->cur->remote : "-", llhttp_errno_name(e),
                 llhttp_get_error_reason(&conn->parser));
        conn_fail(conn, conn->err_status ? conn->err_status : 400);
        break;
    }
    conn->processing = 0;
    if (conn->closing)
        return;
    if (conn->inoff >= conn->inbuf.len) {
        sb_buf_reset(&conn->inbuf);
        conn->inoff = 0;
    } else if (conn->inoff > 0) {
        sb_buf_consume(&conn->inbuf, conn->inoff);
        conn->inoff = 0;
    }
    conn_update_timer(conn);
}

/* ---- writing ------------------------------------------------------------ */

static void on_written(uv_write_t *wr, int status)
{
    sb_http_req_t *req = wr->data;
    sb__http_conn_t *conn = req->conn;
    sb__http_req_free(req);
    conn->writes--;
    if (conn->closing)
        return;
    if (status < 0) {
        conn_close(conn);
        return;
    }
    conn_check(conn);
}

void sb__http_conn_flush(sb__http_conn_t *conn)
{
    while (!conn->closing && conn->head &&
           conn->head->state == SB__REQ_ANSWERED) {
        sb_http_req_t *req = queue_pop(conn);
        uv_buf_t b = uv_buf_init(req->out.data, (unsigned)req->out.len);
        req->state = SB__REQ_WRITING;
        req->wr.data = req;
        conn->srv->stats.requests++;
        if (uv_write(&req->wr, (uv_stream_t *)&conn->tcp, &b, 1,
                     on_written) < 0) {
            sb__http_req_free(req);
            conn_close(conn);
            return;
        }
        conn->writes++;
        if (!req->keep_alive) {
            conn->no_more = 1;
            queue_drop(conn);         /* nothing may follow a close */
        }
    }
    if (!conn->closing)
        conn_check(conn);
}

/* ---- connection state --------------------------------------------------- */

static void on_shutdown(uv_shutdown_t *sr, int status)
{
    sb__http_conn_t *conn = sr->data;
    if (conn->closing)
        return;
    /* A closing server does not wait for its peers: the FIN is out. */
    if (status < 0 || conn->eof || conn->srv->closing) {
        conn_close(conn);
        return;
    }
    /* Drain what the peer still sends until it closes or linger ends. */
    sb_buf_reset(&conn->inbuf);
    conn->inoff = 0;
    conn_read_start(conn);
    uv_timer_start(&conn->timer, on_timer, SB_HTTP_LINGER_MS, 0);
}

/* The last answer is written and nothing more will be read: FIN, drain,
 * close. */
static void conn_finish(sb__http_conn_t *conn)
{
    if (conn->lingering || conn->closing)
        return;
    conn->lingering = 1;
    uv_timer_stop(&conn->timer);
    if (conn->eof) {
        conn_close(conn);
        return;
    }
    conn->shutdown_req.data = conn;
    if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->tcp,
                    on_shutdown) < 0)
        conn_close(conn);
}

/* Called after anything that may change what the connection waits for. */
static void conn_check(sb__http_conn_t *conn)
{
    if (conn->closing || conn->lingering)
        return;
    if (conn->no_more) {
        if (conn->head == NULL && conn->writes == 0)
            conn_finish(conn);
        else
            conn_update_timer(conn);
        return;
    }
    if (!conn->reading && conn->queued < SB_HTTP_MAX_PIPELINE) {
        conn_read_start(conn);
        if (conn->inbuf.len > conn->inoff) {
            conn_process(conn);       /* pipelined input left waiting */
            return;
        }
    }
    conn_update_timer(conn);
}

static void on_timer(uv_timer_t *t)
{
    sb__http_conn_t *conn = t->data;
    if (conn->closing)
        return;
    if (conn->lingering) {
        conn_close(conn);
    } else if (conn->cur) {
        sb_debug("http: %s: request timeout", conn->cur->remote);
        conn_fail(conn, 408);
    } else if (conn->head == NULL && conn->writes == 0) {
        conn_close(conn);             /* idle keep-alive */
    }
}

static void conn_update_timer(sb__http_conn_t *conn)
{
    if (conn->closing || conn->lingering)
        return;
    uint64_t now = uv_now(conn->srv->loop);
    if (conn->cur && !conn->no_more) {
        uint64_t left = conn->deadline > now ? conn->deadline - now : 0;
        uv_timer_start(&conn->timer, on_timer, left, 0);
    } else if (conn->head == NULL && conn->writes == 0 && !conn->no_more &&
               !conn->proven) {
        /* Nothing complete received yet: the request deadline counts
         * from the accept, whether or not a byte came. */
        uint64_t end = conn->since +
                       (uint64_t)conn->srv->opts.request_timeout_ms;
        uv_timer_start(&conn->timer, on_timer, end > now ? end - now : 0, 0);
    } else if (conn->head == NULL && conn->writes == 0 && !conn->no_more) {
        uv_timer_start(&conn->timer, on_timer,
                       (uint64_t)conn->srv->opts.idle_timeout_ms, 0);
    } else {
        uv_timer_stop(&conn->timer);
    }
}

static void on_conn_closed(uv_handle_t *h)
{
    sb__http_conn_t *conn = h->data;
    if (--conn->open_handles > 0)
        return;
    sb_http_server_t *srv = conn->srv;
    if (conn->prev)
        conn->prev->next = conn->next;
    else
        srv->conns = conn->next;
    if (conn->next)
        conn->next->prev = conn->prev;
    srv->nconns--;
    srv->nclosing--;
    sb_buf_free(&conn->inbuf);
    sb_buf_free(&conn->hfield);
    sb_buf_free(&conn->hvalue);
    free(conn);
    server_maybe_done(srv);
}

static void addr_release(sb_http_server_t *srv, sb__http_addr_t *a);

static void conn_close(sb__http_conn_t *conn)
{
    if (conn->closing)
        return;
    conn->closing = 1;
    conn->srv->nclosing++;
    if (conn->addr) {
        addr_release(conn->srv, conn->addr);
        conn->addr = NULL;
    }
    queue_drop(conn);
    sb__http_req_free(conn->cur);
    sb__http_req_free(conn->ready);
    conn->cur = conn->ready = NULL;
    uv_close((uv_handle_t *)&conn->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&conn->timer, on_conn_closed);
}

/* ---- accepting ---------------------------------------------------------- */

static void srv_handle_gone(sb_http_server_t *srv);

static void set_remote(sb__http_conn_t *conn, char *out, size_t len)
{
    struct sockaddr_storage ss;
    int n = sizeof ss;
    out[0] = '\0';
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&ss, &n) != 0)
        return;
    if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, out, len);
    else
        uv_ip4_name((struct sockaddr_in *)&ss, out, len);
}

static unsigned addr_hash(const char *ip)
{
    uint32_t h = 2166136261u;          /* FNV-1a */
    for (; *ip; ip++)
        h = (h ^ (unsigned char)*ip) * 16777619u;
    return h % SB__HTTP_ADDR_BUCKETS;
}

/* Returns the entry of ip, created with no connections when absent. */
static sb__http_addr_t *addr_get(sb_http_server_t *srv, const char *ip)
{
    unsigned b = addr_hash(ip);
    for (sb__http_addr_t *a = srv->addrs[b]; a; a = a->next) {
        if (strcmp(a->ip, ip) == 0)
            return a;
    }
    sb__http_addr_t *a = SB_NEW(sb__http_addr_t);
    snprintf(a->ip, sizeof a->ip, "%s", ip);
    a->next = srv->addrs[b];
    srv->addrs[b] = a;
    return a;
}

/* Frees the entry when nothing counts on it any more. */
static void addr_drop_if_unused(sb_http_server_t *srv, sb__http_addr_t *a)
{
    if (a->conns > 0)
        return;
    sb__http_addr_t **pp = &srv->addrs[addr_hash(a->ip)];
    while (*pp != a)
        pp = &(*pp)->next;
    *pp = a->next;
    free(a);
}

static void addr_release(sb_http_server_t *srv, sb__http_addr_t *a)
{
    a->conns--;
    addr_drop_if_unused(srv, a);
}

/* The connection to close for a newcomer at the global cap: one that has
 * not sent a complete request and waits for no answer, from the address
 * holding the most connections, the oldest first; NULL when none. */
static sb__http_conn_t *pick_victim(sb_http_server_t *srv)
{
    sb__http_conn_t *best = NULL;
    for (sb__http_conn_t *c = srv->conns; c; c = c->next) {
        if (c->closing || c->lingering || c->proven || c->head ||
            c->writes || c->addr == NULL)
            continue;
        if (best == NULL || c->addr->conns > best->addr->conns ||
            (c->addr->conns == best->addr->conns && c->seq < best->seq))
            best = c;
    }
    return best;
}

static void on_refused_closed(uv_handle_t *h)
{
    sb__http_conn_t *conn = h->data;
    if (--conn->open_handles > 0)
        return;
    sb_http_server_t *srv = conn->srv;
    free(conn);
    srv_handle_gone(srv);
}

/* Closes a connection accepted only to learn its peer: never listed. */
static void conn_refuse(sb__http_conn_t *conn, const char *why)
{
    sb_http_server_t *srv = conn->srv;
    uint64_t now = uv_now(srv->loop);
    srv->stats.rejected++;
    if (srv->warned_at == 0 || now - srv->warned_at >= 10000) {
        srv->warned_at = now;
        sb_warn("http: refusing connections from %s: %s (%llu refused so "
                "far)", conn->remote[0] ? conn->remote : "?", why,
                (unsigned long long)srv->stats.rejected);
    } else {
        sb_debug("http: %s: connection refused: %s", conn->remote, why);
    }
    conn->closing = 1;
    srv->open_handles++;
    uv_close((uv_handle_t *)&conn->tcp, on_refused_closed);
    uv_close((uv_handle_t *)&conn->timer, on_refused_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    sb_http_server_t *srv = server->data;
    if (status < 0) {
        sb_warn("http: accept: %s", sb_strerror(status));
        return;
    }
    if (srv->closing)
        return;
    sb__http_conn_t *conn = SB_NEW(sb__http_conn_t);
    conn->srv = srv;
    uv_tcp_init(srv->loop, &conn->tcp);
    uv_timer_init(srv->loop, &conn->timer);
    conn->tcp.data = conn->timer.data = conn;
    conn->open_handles = 2;
    if (uv_accept(server, (uv_stream_t *)&conn->tcp) != 0) {
        conn_refuse(conn, "accept failed");
        return;
    }
    set_remote(conn, conn->remote, sizeof conn->remote);
    sb__http_addr_t *a = addr_get(srv, conn->remote);
    if (a->conns >= srv->opts.max_connections_per_address) {
        addr_drop_if_unused(srv, a);
        conn_refuse(conn, "over http.max_connections_per_address");
        return;
    }
    if (srv->nconns - srv->nclosing >= srv->opts.max_connections) {
        sb__http_conn_t *victim = pick_victim(srv);
        if (victim == NULL) {
            addr_drop_if_unused(srv, a);
            conn_refuse(conn, "over http.max_connections");
            return;
        }
        sb_debug("http: %s: connection closed to make room for %s",
                 victim->remote, conn->remote);
        srv->stats.evicted++;
        conn_close(victim);
    }
    a->conns++;
    conn->addr = a;
    conn->since = uv_now(srv->loop);
    conn->seq = ++srv->accepts;
    conn->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = conn;
    srv->conns = conn;
    srv->nconns++;
    srv->stats.accepted++;
    uv_tcp_nodelay(&conn->tcp, 1);
    llhttp_init(&conn->parser, HTTP_REQUEST, parser_settings());
    conn->parser.data = conn;
    conn_read_start(conn);
    conn_update_timer(conn);
}

/* ---- the server --------------------------------------------------------- */

static int parse_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    if (strchr(host, ':'))
        return uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss);
    return uv_ip4_addr(host, port, (struct sockaddr_in *)ss);
}

int sb_http_server_new(uv_loop_t *loop, const sb_http_server_opts_t *opts,
                       sb_http_handler_cb handler, void *arg,
                       sb_http_server_t **out)
{
    sb_http_server_opts_t o;
    struct sockaddr_storage ss;
    if (opts)
        o = *opts;
    else
        memset(&o, 0, sizeof o);
    if (o.host == NULL)
        o.host = "127.0.0.1";
    if (handler == NULL || strlen(o.host) >= 64 || o.port < 0 || o.port > 65535 ||
        parse_addr(o.host, o.port, &ss) != 0)
        return SB_EINVAL;
    if (o.max_header_bytes == 0)
        o.max_header_bytes = SB_HTTP_DEF_MAX_HEADER;
    if (o.max_body_bytes == 0)
        o.max_body_bytes = SB_HTTP_DEF_MAX_BODY;
    if (o.idle_timeout_ms <= 0)
        o.idle_timeout_ms = SB_HTTP_DEF_IDLE_MS;
    if (o.request_timeout_ms <= 0)
        o.request_timeout_ms = SB_HTTP_DEF_REQUEST_MS;
    if (o.max_connections <= 0)
        o.max_connections = SB_HTTP_DEF_MAX_CONNS;
    if (o.max_connections_per_address <= 0)
        o.max_connections_per_address = SB_HTTP_DEF_MAX_PER_ADDR;
    if (o.close_grace_ms <= 0)
        o.close_grace_ms = SB_HTTP_DEF_GRACE_MS;

    sb_http_server_t *srv = SB_NEW(sb_http_server_t);
    srv->loop = loop;
    srv->opts = o;
    snprintf(srv->host, sizeof srv->host, "%s", o.host);
    srv->opts.host = srv->host;
    srv->handler = handler;
    srv->handler_arg = arg;
    *out = srv;
    return 0;
}

int sb_http_server_listen(sb_http_server_t *srv)
{
    struct sockaddr_storage ss;
    if (srv->listener_init || srv->closing)
        return SB_ESTATE;
    parse_addr(srv->host, srv->opts.port, &ss);
    int rc = uv_tcp_init(srv->loop, &srv->listener);
    if (rc < 0)
        return rc;
    srv->listener.data = srv;
    srv->listener_init = 1;
    srv->open_handles++;
    rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->listener, 511, on_connection);
    if (rc < 0)
        return rc;
    srv->listening = 1;
    return 0;
}

int sb_http_server_port(const sb_http_server_t *srv)
{
    struct sockaddr_storage ss;
    int n = sizeof ss;
    if (!srv->listening ||
        uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &n) != 0)
        return 0;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void sb_http_server_stats(const sb_http_server_t *srv,
                          sb_http_server_stats_t *out)
{
    *out = srv->stats;
    out->connections = srv->nconns;
}

static void srv_handle_gone(sb_http_server_t *srv)
{
    if (--srv->open_handles > 0 || srv->nconns > 0 || !srv->closing)
        return;
    sb_http_server_close_cb cb = srv->close_cb;
    void *arg = srv->close_arg;
    free(srv);
    if (cb)
        cb(arg);
}

static void on_srv_handle_closed(uv_handle_t *h)
{
    srv_handle_gone(h->data);
}

static void server_maybe_done(sb_http_server_t *srv)
{
    if (!srv->closing || srv->nconns > 0)
        return;
    if (!uv_is_closing((uv_handle_t *)&srv->grace))
        uv_close((uv_handle_t *)&srv->grace, on_srv_handle_closed);
}

static void on_grace(uv_timer_t *t)
{
    sb_http_server_t *srv = t->data;
    sb__http_conn_t *conn, *next;
    if (srv->nconns > 0)
        sb_warn("http: closing %d connection(s) with unanswered requests",
                srv->nconns);
    for (conn = srv->conns; conn; conn = next) {
        next = conn->next;
        conn_close(conn);
    }
}

/* Stops reading new requests; the connection closes once what it has
 * received is answered. */
static void conn_drain(sb__http_conn_t *conn)
{
    if (conn->closing)
        return;
    conn->no_more = 1;
    sb__http_req_free(conn->cur);
    conn->cur = NULL;
    if (!conn->lingering)
        conn_read_stop(conn);
    if (conn->head == NULL && conn->writes == 0)
        conn_close(conn);
    else
        conn_update_timer(conn);
}

void sb_http_server_close(sb_http_server_t *srv, sb_http_server_close_cb cb,
                          void *arg)
{
    sb__http_conn_t *conn, *next;
    if (srv->closing)
        return;
    srv->closing = 1;
    srv->close_cb = cb;
    srv->close_arg = arg;
    if (srv->listener_init)
        uv_close((uv_handle_t *)&srv->listener, on_srv_handle_closed);
    uv_timer_init(srv->loop, &srv->grace);
    srv->grace.data = srv;
    srv->open_handles++;
    uv_timer_start(&srv->grace, on_grace, (uint64_t)srv->opts.close_grace_ms, 0);
    for (conn = srv->conns; conn; conn = next) {
        next = conn->next;
        conn_drain(conn);
    }
    server_maybe_done(srv);
}
