/*
 * http_int.h: what the files of core/http share and nobody else sees: the
 * request and connection structs and the sb__http_* functions between
 * server.c (connections), request.c (answers) and router.c.
 */
#ifndef SB_HTTP_INT_H
#define SB_HTTP_INT_H

#include "http.h"
#include "util.h"

#include <llhttp.h>
#include <stdint.h>

#define SB_HTTP_DEF_MAX_HEADER   (16 * 1024)
#define SB_HTTP_DEF_MAX_BODY     (1024 * 1024)
#define SB_HTTP_DEF_IDLE_MS      60000
#define SB_HTTP_DEF_REQUEST_MS   10000
#define SB_HTTP_DEF_MAX_CONNS    1024
#define SB_HTTP_DEF_MAX_PER_ADDR 64
#define SB__HTTP_ADDR_BUCKETS    256
#define SB_HTTP_DEF_GRACE_MS     5000
/* Requests received but not yet written out, per connection; beyond it the
 * connection stops reading until answers drain. */
#define SB_HTTP_MAX_PIPELINE     32
/* After the last answer of a closing connection: how long unread input is
 * drained (so the close is a FIN, not a RST that could eat the answer). */
#define SB_HTTP_LINGER_MS        2000

typedef struct sb__http_conn_s sb__http_conn_t;

typedef enum {
    SB__REQ_PARSING = 0,   /* being received */
    SB__REQ_PENDING,       /* handed to the handler, unanswered */
    SB__REQ_ANSWERED,      /* answer built in out, waiting for its turn */
    SB__REQ_WRITING        /* out handed to uv_write */
} sb__http_req_state_t;

/* Owner: the connection while PARSING, ANSWERED or WRITING; the handler
 * while PENDING. A PENDING request whose connection closes is detached
 * (conn NULL) and freed by sb_http_respond. */
struct sb_http_req_s {
    sb_http_req_t *next;            /* connection queue, arrival order */
    sb__http_conn_t *conn;          /* NULL once detached */
    sb__http_req_state_t state;

    char *method;                   /* owned */
    sb_buf_t url;                   /* request target as received */
    char *raw_path;                 /* owned */
    char *path;                     /* owned, decoded */
    char *query_string;             /* owned, "" when none */
    sb_http_params_t headers;
    sb_http_params_t query;
    sb_http_params_t form;
    sb_http_params_t path_params;   /* filled by the router */
    sb_buf_t body;

    sb_http_params_t resp_headers;  /* added by sb_http_resp_header */
    sb_buf_t out;                   /* the serialized answer */
    uv_write_t wr;

    uint64_t start_ns;              /* uv_hrtime at the first byte */
    int keep_alive;                 /* 0: Connection: close on the answer */
    int is_head;
    int cors;
    int status;
    size_t resp_bytes;
    char remote[64];
};

/* Open connections from one peer IP. Owner: the server's address table;
 * freed when its count drops to 0. */
typedef struct sb__http_addr_s {
    struct sb__http_addr_s *next;   /* bucket chain */
    int conns;                      /* live (not closing) connections */
    char ip[64];
} sb__http_addr_t;

/* Owner: the server (its list). Freed in the close callback of the last
 * of its two handles. */
struct sb__http_conn_s {
    uv_tcp_t tcp;
    uv_timer_t timer;               /* idle, request deadline or linger */
    uv_shutdown_t shutdown_req;
    sb_http_server_t *srv;
    sb__http_conn_t *prev, *next;   /* server list */

    llhttp_t parser;
    sb_buf_t inbuf;                 /* received, not yet parsed */
    size_t inoff;                   /* parsed up to here */

    sb_http_req_t *cur;             /* request being received */
    sb_http_req_t *ready;           /* just completed, to dispatch */
    sb_http_req_t *head, *tail;     /* queue of received requests */
    int queued;                     /* length of the queue */
    int writes;                     /* uv_write requests in flight */

    sb_buf_t hfield, hvalue;        /* header being received */
    size_t header_bytes;
    uint64_t deadline;              /* uv_now of the request timeout */
    char remote[64];                /* peer IP as text */
    sb__http_addr_t *addr;          /* counted there until conn_close */
    uint64_t since;                 /* uv_now at accept */
    uint64_t seq;                   /* accept order */
    int err_status;                 /* answer for a parse error */

    unsigned no_more : 1;           /* parse no further requests */
    unsigned reading : 1;
    unsigned eof : 1;               /* peer finished sending */
    unsigned lingering : 1;
    unsigned closing : 1;           /* uv_close called */
    unsigned processing : 1;        /* inside conn_process */
    unsigned proven : 1;            /* a complete request was received */
    int open_handles;
};

struct sb_http_server_s {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t grace;
    sb_http_server_opts_t opts;
    char host[64];
    sb_http_handler_cb handler;
    void *handler_arg;

    sb__http_conn_t *conns;
    int nconns;
    int nclosing;                   /* of nconns, closing */
    sb__http_addr_t *addrs[SB__HTTP_ADDR_BUCKETS];  /* by peer IP */
    uint64_t warned_at;             /* uv_now of the last refusal warning */
    uint64_t accepts;               /* connections listed so far */
    int open_handles;               /* listener, grace, rejected sockets */
    int listener_init;
    int listening;
    int closing;
    sb_http_server_close_cb close_cb;
    void *close_arg;
    sb_http_server_stats_t stats;
};

/* form.c */
void sb__http_params_take(sb_http_params_t *p, char *name, char *value);
/* Appends the decoding of len bytes of s to out. Returns 0 or SB_EINVAL
 * (bad escape, %00 or a raw NUL). */
int sb__http_pct_decode(const char *s, size_t len, int plus_is_space,
                        sb_buf_t *out);

/* request.c */
sb_http_req_t *sb__http_req_new(sb__http_conn_t *conn);
void sb__http_req_free(sb_http_req_t *req);
/* Splits the target, decodes path and query, parses a form body. Returns
 * 0 or the status to answer (400). */
int sb__http_req_prepare(sb_http_req_t *req);
/* Builds the answer into req->out and logs it (no sending). */
void sb__http_req_build(sb_http_req_t *req, int status, const char *ctype,
                        const void *body, size_t len);

/* server.c */
/* An answer was built for a request of conn: write what is in order. */
void sb__http_conn_flush(sb__http_conn_t *conn);

#endif
