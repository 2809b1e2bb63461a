/*
 * server.c: the console's Unix-socket server inside the running server.
 *
 * Owns: the listening socket (created 0600; a stale one is replaced, a
 * live one or a file that is not a socket makes start-up fail), the
 * connections and their framing, one Lua session per eval and per
 * completion request (lua/switchboard/console.lua does the evaluating),
 * cancellation, the call-rate sampler behind stats(), and the removal of
 * the socket file at shutdown.
 *
 * Entry points: sb_con_new, sb_con_clients, sb_con_close, and for host.c
 * sb__con_find, sb__con_output, sb__con_stats, sb__con_hooks.
 *
 * Leaves out: the helpers' Lua side (console.lua), the Lua-facing C
 * functions (host.c), the client (client.c). Nothing here blocks: a
 * command that waits is a suspended coroutine, and one that computes is
 * stopped by the runtime's instruction limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <lauxlib.h>

#include "con_int.h"

#define READ_CHUNK (64 * 1024)
#define OUTPUT_BACKLOG (8u * 1024 * 1024)   /* queued bytes before print
                                               output is dropped */
#define SAMPLE_MS 5000
#define SAMPLES 13                          /* one minute of samples */
#define CHUNK_NAME_MAX 64

/* Owner: its console (con->conns); freed in on_conn_closed, after every
 * session it started has fired its done callback. */
struct sb__con_conn_s {
    sb_con_t *con;
    uv_pipe_t pipe;
    uv_shutdown_t shutdown;
    uint64_t id;
    int pid;                    /* peer process, for the log */
    sb_buf_t in;
    char *rbuf;                 /* READ_CHUNK bytes for libuv reads */
    int env_ref;                /* luaL_ref of the console's global
                                   environment table; released in
                                   conn_close */
    sb_lua_session_t *eval;     /* the running eval, or NULL */
    int64_t eval_id;
    size_t dropped;             /* output bytes dropped during this eval */
    sb_lua_session_t *complete; /* the running completion, or NULL */
    int64_t complete_id;
    int draining;               /* sent an error: closing after the write */
    int closing;
    sb__con_conn_t *prev, *next;
};

typedef struct sample_s {
    int64_t t_ms;
    int64_t total;
} sample_t;

/* Owner: the caller of sb_con_new (sb_con_close). */
struct sb_con_s {
    uv_loop_t *loop;
    sb_lua_t *lua;
    sb_con_hooks_t hooks;
    char *path;
    dev_t dev;                  /* the socket file this server made */
    ino_t ino;
    uv_pipe_t listener;
    uv_timer_t sampler;         /* only when hooks.call_counts is set */
    int have_sampler;
    sb__con_conn_t *conns;
    int nconns;
    uint64_t next_id;
    int64_t started_ms;
    sb__con_box_t *box;         /* Lua userdata; anchored by box_ref */
    int box_ref;                /* luaL_ref of the host box; released in
                                   sb_con_close */
    sample_t samples[SAMPLES];
    int nsamples, sample_pos;
    int handles;                /* open uv handles */
    int closing;
    sb_con_close_cb close_cb;
    void *close_arg;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static void conn_close(sb__con_conn_t *c);

/* ------------------------------------------------------------------------ */
/* Sending                                                                  */
/* ------------------------------------------------------------------------ */

/* Owner: itself, freed in on_written. */
typedef struct wreq_s {
    uv_write_t req;
    sb__con_conn_t *conn;
    char data[];
} wreq_t;

static void on_written(uv_write_t *req, int status)
{
    wreq_t *w = (wreq_t *)req;
    sb__con_conn_t *c = w->conn;
    free(w);
    if (status < 0 && status != UV_ECANCELED && !c->closing) {
        sb_debug("console %llu: write failed: %s", (unsigned long long)c->id,
                 uv_strerror(status));
        conn_close(c);
    }
}

/* Sends msg (takes the reference). */
static void send_msg(sb__con_conn_t *c, json_t *msg)
{
    if (c->closing || msg == NULL) {
        json_decref(msg);
        return;
    }
    sb_buf_t b = SB_BUF_INIT;
    int rc = sb__con_frame_put(&b, msg, SB_CON_MAX_FRAME);
    json_decref(msg);
    if (rc < 0) {
        /* A result too large for a frame: say so instead. */
        json_t *small = json_pack("{s:s, s:s}", "op", "output", "stream", "stderr");
        json_object_set_new(small, "text",
                            json_string("[console: a message larger than the "
                                        "16 MiB frame limit was dropped]\n"));
        sb__con_frame_put(&b, small, SB_CON_MAX_FRAME);
        json_decref(small);
    }
    wreq_t *w = sb_xmalloc(sizeof *w + b.len);
    w->conn = c;
    memcpy(w->data, b.data, b.len);
    uv_buf_t ub = uv_buf_init(w->data, (unsigned int)b.len);
    sb_buf_free(&b);
    rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &ub, 1, on_written);
    if (rc < 0) {
        /* Reported later by the read side; never closed from here, since
         * this may run inside Lua (print). */
        free(w);
        sb_debug("console %llu: cannot write: %s", (unsigned long long)c->id,
                 uv_strerror(rc));
    }
}

static void send_result(sb__con_conn_t *c, int64_t id, const char *status,
                        const char *text, size_t len)
{
    json_t *m = json_pack("{s:s, s:I, s:s}", "op", "result", "id", (json_int_t)id,
                          "status", status);
    json_object_set_new(m, "text", sb__con_json_text(text, len));
    send_msg(c, m);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn_close(req->data);
}

/* Sends {"op":"error"} and closes once it is written. */
static void fail_conn(sb__con_conn_t *c, const char *text)
{
    if (c->closing || c->draining)
        return;
    sb_info("console %llu: %s; disconnecting", (unsigned long long)c->id, text);
    send_msg(c, json_pack("{s:s, s:s}", "op", "error", "text", text));
    c->draining = 1;
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, on_shutdown) < 0)
        conn_close(c);
}

void sb__con_output(sb__con_conn_t *c, const char *stream, const char *text,
                    size_t len)
{
    if (c->closing || c->draining)
        return;
    if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > OUTPUT_BACKLOG) {
        c->dropped += len;
        return;
    }
    json_t *m = json_pack("{s:s, s:I, s:s}", "op", "output", "id",
                          (json_int_t)c->eval_id, "stream", stream);
    json_object_set_new(m, "text", sb__con_json_text(text, len));
    send_msg(c, m);
}

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

/* Drops the frames of console.lua and xpcall from a runtime traceback
 * (the instruction limit or the memory cap ended the session outside the
 * console's own error handler). */
static size_t trim_traceback(const char *msg)
{
    const char *cut = strstr(msg, "\n\t[C]: in function 'xpcall'");
    if (cut == NULL)
        cut = strstr(msg, "\n\t[C]: in ?");
    return cut ? (size_t)(cut - msg) : strlen(msg);
}

static void on_eval_done(sb_lua_session_t *s, int status, const char *msg,
                         void *arg)
{
    sb__con_conn_t *c = arg;
    if (c->eval != s)
        return;
    c->eval = NULL;
    if (c->closing)
        return;
    if (c->dropped > 0) {
        char note[160];
        int n = snprintf(note, sizeof note,
                         "[console: %zu bytes of output dropped: the client "
                         "did not read fast enough]\n", c->dropped);
        sb__con_output(c, "stderr", note, (size_t)n);
    }
    if (status == 0) {
        lua_State *co = sb_lua_session_thread(s);
        const char *kind = lua_type(co, 1) == LUA_TSTRING ? lua_tostring(co, 1)
                                                          : "error";
        size_t len = 0;
        const char *text = lua_type(co, 2) == LUA_TSTRING
                               ? lua_tolstring(co, 2, &len) : "";
        send_result(c, c->eval_id, kind, text, len);
        return;
    }
    if (status == SB_ECANCELED) {
        send_result(c, c->eval_id, "canceled", "canceled", 8);
        return;
    }
    sb_buf_t b = SB_BUF_INIT;
    if (status == SB_ENOMEM)
        sb_buf_puts(&b, "not enough memory (the lua.memory_limit cap): ");
    const char *m = msg ? msg : sb_strerror(status);
    sb_buf_append(&b, m, trim_traceback(m));
    if (status == SB_ELIMIT)
        sb_buf_puts(&b, "\n(a console command gets the lua.instruction_limit "
                        "between two waits, like any session)");
    send_result(c, c->eval_id, "error", sb_buf_str(&b), b.len);
    sb_buf_free(&b);
}

static void on_complete_done(sb_lua_session_t *s, int status, const char *msg,
                             void *arg)
{
    sb__con_conn_t *c = arg;
    if (c->complete != s)
        return;
    c->complete = NULL;
    if (c->closing)
        return;
    json_t *items = json_array();
    lua_State *co = sb_lua_session_thread(s);
    if (status == 0 && lua_type(co, 1) == LUA_TSTRING) {
        size_t len;
        const char *p = lua_tolstring(co, 1, &len);
        const char *end = p + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            if (n > 0)
                json_array_append_new(items, sb__con_json_text(p, n));
            p += n + 1;
        }
    } else if (status != 0 && status != SB_ECANCELED) {
        sb_debug("console %llu: completion failed: %s",
                 (unsigned long long)c->id, msg ? msg : sb_strerror(status));
    }
    json_t *m = json_pack("{s:s, s:I}", "op", "completions", "id",
                          (json_int_t)c->complete_id);
    json_object_set_new(m, "items", items);
    send_msg(c, m);
}

/* Creates a session running switchboard.console[fn](env, ...). The
 * caller pushes its arguments after env on the returned thread. */
static sb_lua_session_t *new_session(sb__con_conn_t *c, const char *fn,
                                     sb_lua_session_done_cb done, int *rc)
{
    sb_lua_session_t *s;
    *rc = sb_lua_session_new(c->con->lua, NULL, done, c, &s);
    if (*rc < 0)
        return NULL;
    *rc = sb_lua_session_push_function(s, "switchboard.console", fn);
    if (*rc < 0) {
        sb_lua_session_close(s);    /* its done ignores it: not ours yet */
        return NULL;
    }
    lua_State *co = sb_lua_session_thread(s);
    lua_rawgeti(co, LUA_REGISTRYINDEX, c->env_ref);
    return s;
}

static void start_eval(sb__con_conn_t *c, int64_t id, const char *code,
                       size_t len, const char *chunk, int interactive)
{
    if (c->eval) {
        static const char busy[] = "a command is already running on this "
                                   "console (Ctrl-C cancels it)";
        send_result(c, id, "error", busy, sizeof busy - 1);
        return;
    }
    int rc;
    sb_lua_session_t *s = new_session(c, "eval", on_eval_done, &rc);
    if (s == NULL) {
        char text[200];
        int n = snprintf(text, sizeof text, "cannot run the command: %s%s",
                         sb_strerror(rc),
                         rc == SB_ENOENT ? " (the Lua library switchboard.console "
                                           "did not load; see the server log)" : "");
        send_result(c, id, "error", text, (size_t)n);
        return;
    }
    char name[CHUNK_NAME_MAX + 2];
    snprintf(name, sizeof name, "=%s", chunk);
    lua_State *co = sb_lua_session_thread(s);
    lua_pushlstring(co, code, len);
    lua_pushstring(co, name);
    lua_pushboolean(co, interactive);
    lua_pushinteger(co, (lua_Integer)c->id);
    c->eval = s;
    c->eval_id = id;
    c->dropped = 0;
    sb_debug("console %llu: eval %lld (%zu bytes)", (unsigned long long)c->id,
             (long long)id, len);
    sb_lua_session_start(s, 5);             /* done may fire in here */
}

static void start_complete(sb__con_conn_t *c, int64_t id, const char *text,
                           size_t len)
{
    if (c->complete) {
        sb_lua_session_t *old = c->complete;
        c->complete = NULL;                 /* superseded: no answer */
        sb_lua_session_close(old);
    }
    int rc;
    sb_lua_session_t *s = new_session(c, "complete", on_complete_done, &rc);
    if (s == NULL) {
        json_t *m = json_pack("{s:s, s:I, s:[]}", "op", "completions", "id",
                              (json_int_t)id, "items");
        send_msg(c, m);
        return;
    }
    lua_State *co = sb_lua_session_thread(s);
    lua_pushlstring(co, text, len);
    lua_pushinteger(co, (lua_Integer)c->id);
    c->complete = s;
    c->complete_id = id;
    sb_lua_session_start(s, 3);
}

/* ------------------------------------------------------------------------ */
/* Requests                                                                 */
/* ------------------------------------------------------------------------ */

/* The chunk name a client asked for, kept to safe printable text. */
static void chunk_name(json_t *msg, char *out, size_t outlen)
{
    const char *want = json_string_value(json_object_get(msg, "chunk"));
    if (want == NULL || *want == '\0')
        want = "console";
    size_t n = 0;
    for (const char *p = want; *p && n + 1 < outlen && n < CHUNK_NAME_MAX; p++)
        out[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
    out[n] = '\0';
}

static void handle(sb__con_conn_t *c, json_t *msg)
{
    const char *op = json_string_value(json_object_get(msg, "op"));
    json_t *jid = json_object_get(msg, "id");
    int64_t id = json_is_integer(jid) ? (int64_t)json_integer_value(jid) : 0;
    if (op == NULL) {
        fail_conn(c, "protocol error: a message without \"op\"");
        return;
    }
    if (strcmp(op, "eval") == 0) {
        json_t *code = json_object_get(msg, "code");
        if (!json_is_string(code)) {
            fail_conn(c, "protocol error: eval without \"code\"");
            return;
        }
        char name[CHUNK_NAME_MAX + 1];
        chunk_name(msg, name, sizeof name);
        start_eval(c, id, json_string_value(code), json_string_length(code), name,
                   json_is_true(json_object_get(msg, "interactive")));
    } else if (strcmp(op, "complete") == 0) {
        json_t *text = json_object_get(msg, "text");
        if (!json_is_string(text)) {
            fail_conn(c, "protocol error: complete without \"text\"");
            return;
        }
        start_complete(c, id, json_string_value(text), json_string_length(text));
    } else if (strcmp(op, "cancel") == 0) {
        if (c->eval) {
            sb_info("console %llu: command %lld canceled",
                    (unsigned long long)c->id, (long long)c->eval_id);
            sb_lua_session_close(c->eval);  /* done sends "canceled" */
        }
    } else {
        /* A newer client: answer, keep the connection. */
        char text[128];
        snprintf(text, sizeof text, "unknown op \"%.60s\"", op);
        send_msg(c, json_pack("{s:s, s:s}", "op", "error", "text", text));
    }
}

/* ------------------------------------------------------------------------ */
/* Connections                                                              */
/* ------------------------------------------------------------------------ */

static void maybe_finish(sb_con_t *con);

static void on_conn_closed(uv_handle_t *h)
{
    sb__con_conn_t *c = h->data;
    sb_con_t *con = c->con;
    sb_assert(c->eval == NULL && c->complete == NULL);
    if (c->prev)
        c->prev->next = c->next;
    else
        con->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    con->nconns--;
    sb_buf_free(&c->in);
    free(c->rbuf);
    free(c);
    con->handles--;
    maybe_finish(con);
}

/* Cancels what the console runs and closes it. Never called while Lua
 * runs (only from libuv callbacks and sb_con_close). */
static void conn_close(sb__con_conn_t *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    if (c->eval) {
        sb_info("console %llu: disconnected during command %lld; canceling it",
                (unsigned long long)c->id, (long long)c->eval_id);
        sb_lua_session_close(c->eval);      /* done clears c->eval */
    }
    if (c->complete)
        sb_lua_session_close(c->complete);
    sb_assert(c->eval == NULL && c->complete == NULL);
    lua_State *L = sb_lua_state(c->con->lua);
    if (L && c->env_ref != LUA_NOREF) {
        luaL_unref(L, LUA_REGISTRYINDEX, c->env_ref);
        c->env_ref = LUA_NOREF;
    }
    sb_debug("console %llu: disconnected", (unsigned long long)c->id);
    uv_close((uv_handle_t *)&c->pipe, on_conn_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    sb__con_conn_t *c = h->data;
    *buf = uv_buf_init(c->rbuf, READ_CHUNK);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    sb__con_conn_t *c = st->data;
    if (nread < 0) {
        if (nread != UV_EOF)
            sb_debug("console %llu: read: %s", (unsigned long long)c->id,
                     uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    if (c->draining || c->closing)
        return;
    sb_buf_append(&c->in, buf->base, (size_t)nread);
    for (;;) {
        json_t *msg;
        int rc = sb__con_frame_take(&c->in, SB_CON_MAX_REQUEST, &msg);
        if (rc == 0)
            break;
        if (rc < 0) {
            fail_conn(c, rc == SB_ETOOBIG ? "protocol error: request too large"
                                          : "protocol error: not a JSON object");
            break;
        }
        handle(c, msg);
        json_decref(msg);
        if (c->closing || c->draining)
            break;
    }
}

/* Peer's uid and pid; -1 when unknown. */
static void peer_cred(uv_pipe_t *p, long *uid, int *pid)
{
    *uid = -1;
    *pid = -1;
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)p, &fd) != 0)
        return;
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
        *uid = (long)cr.uid;
        *pid = (int)cr.pid;
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    sb_con_t *con = server->data;
    if (status < 0) {
        sb_warn("console: accept: %s", uv_strerror(status));
        return;
    }
    sb__con_conn_t *c = SB_NEW(sb__con_conn_t);
    c->con = con;
    c->env_ref = LUA_NOREF;
    c->rbuf = sb_xmalloc(READ_CHUNK);
    uv_pipe_init(con->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->next = con->conns;
    if (con->conns)
        con->conns->prev = c;
    con->conns = c;
    con->nconns++;
    con->handles++;
    c->id = ++con->next_id;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        conn_close(c);
        return;
    }
    long uid;
    peer_cred(&c->pipe, &uid, &c->pid);
    if (uid != (long)getuid() && uid != 0) {
        /* The socket is 0600 already; this only matters if its mode was
         * changed by hand. */
        sb_warn("console: refused a connection from uid %ld", uid);
        conn_close(c);
        return;
    }
    if (con->closing) {
        conn_close(c);
        return;
    }
    lua_State *L = sb_lua_state(con->lua);
    lua_newtable(L);
    c->env_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    sb_info("console %llu: connected (pid %d)", (unsigned long long)c->id, c->pid);
    uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    if (sb_con_clients(con) > SB_CON_MAX_CLIENTS) {
        fail_conn(c, "too many consoles connected");
        return;
    }
    send_msg(c, json_pack("{s:s, s:i, s:s, s:i}", "op", "hello", "protocol",
                          SB_CON_PROTOCOL, "version", SB_VERSION_STRING, "pid",
                          (int)getpid()));
}

sb__con_conn_t *sb__con_find(sb_con_t *con, uint64_t id)
{
    for (sb__con_conn_t *c = con->conns; c; c = c->next)
        if (c->id == id)
            return c->closing ? NULL : c;
    return NULL;
}

int sb_con_clients(const sb_con_t *con)
{
    int n = 0;
    for (const sb__con_conn_t *c = con->conns; c; c = c->next)
        n += !c->closing;
    return n;
}

/* ------------------------------------------------------------------------ */
/* Stats                                                                    */
/* ------------------------------------------------------------------------ */

const sb_con_hooks_t *sb__con_hooks(sb_con_t *con)
{
    return &con->hooks;
}

static void on_sample(uv_timer_t *t)
{
    sb_con_t *con = t->data;
    int64_t active, total;
    if (con->hooks.call_counts(con->hooks.call_counts_arg, &active, &total) != 0)
        return;
    con->samples[con->sample_pos] = (sample_t){sb_time_now_ms(), total};
    con->sample_pos = (con->sample_pos + 1) % SAMPLES;
    if (con->nsamples < SAMPLES)
        con->nsamples++;
}

void sb__con_stats(sb_con_t *con, sb__con_stats_t *out)
{
    memset(out, 0, sizeof *out);
    int64_t now = sb_time_now_ms();
    out->uptime_ms = now - con->started_ms;
    out->lua_memory = sb_lua_memory(con->lua);
    size_t rss = 0;
    if (uv_resident_set_memory(&rss) == 0)
        out->rss = rss;
    out->consoles = sb_con_clients(con);
    const sb_con_hooks_t *h = &con->hooks;
    if (h->call_counts &&
        h->call_counts(h->call_counts_arg, &out->calls_active, &out->calls_total) == 0) {
        out->have_calls = 1;
        /* The oldest sample of the last minute, else the start. */
        int64_t t0 = con->started_ms, n0 = 0;
        if (con->nsamples > 0) {
            int oldest = con->nsamples < SAMPLES ? 0 : con->sample_pos;
            t0 = con->samples[oldest].t_ms;
            n0 = con->samples[oldest].total;
        }
        if (now - t0 >= 1000)
            out->calls_per_second = (double)(out->calls_total - n0) * 1000.0 /
                                    (double)(now - t0);
    }
    if (h->registered &&
        h->registered(h->registered_arg, &out->registered_users,
                      &out->registered_contacts) == 0)
        out->have_registered = 1;
}

/* ------------------------------------------------------------------------ */
/* Listening and closing                                                    */
/* ------------------------------------------------------------------------ */

/* Checks what is at path: nothing (fine), a stale socket (removed), a
 * socket another process accepts on, or something else (refused). */
static int prepare_path(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        set_err(err, errlen, "console: cannot use %s: %s", path, strerror(errno));
        return uv_translate_sys_error(errno);
    }
    if (!S_ISSOCK(st.st_mode)) {
        set_err(err, errlen, "console: %s exists and is not a socket; not "
                "replacing it (set console.socket to another path)", path);
        return SB_EEXIST;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        set_err(err, errlen, "console: socket: %s", strerror(errno));
        return uv_translate_sys_error(errno);
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    if (rc == 0) {
        set_err(err, errlen, "console: %s is in use: another server is "
                "listening on it", path);
        return SB_EEXIST;
    }
    if (e != ECONNREFUSED && e != ENOENT) {
        set_err(err, errlen, "console: cannot check %s: %s", path, strerror(e));
        return uv_translate_sys_error(e);
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        set_err(err, errlen, "console: cannot remove the stale socket %s: %s",
                path, strerror(errno));
        return uv_translate_sys_error(errno);
    }
    sb_info("console: removed a stale socket %s", path);
    return 0;
}

static void maybe_finish(sb_con_t *con)
{
    if (!con->closing || con->handles > 0)
        return;
    sb_con_close_cb cb = con->close_cb;
    void *arg = con->close_arg;
    free(con->path);
    free(con);
    if (cb)
        cb(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
    sb_con_t *con = h->data;
    con->handles--;
    maybe_finish(con);
}

int sb_con_new(uv_loop_t *loop, const sb_con_opts_t *opts, sb_con_t **out,
               char *err, size_t errlen)
{
    struct sockaddr_un sa;
    if (opts == NULL || opts->path == NULL || opts->path[0] == '\0' ||
        opts->lua == NULL || sb_lua_state(opts->lua) == NULL) {
        set_err(err, errlen, "console: no socket path or Lua runtime");
        return SB_EINVAL;
    }
    if (strlen(opts->path) >= sizeof sa.sun_path) {
        set_err(err, errlen, "console: socket path longer than %zu bytes: %s",
                sizeof sa.sun_path - 1, opts->path);
        return SB_EINVAL;
    }
    int rc = prepare_path(opts->path, err, errlen);
    if (rc < 0)
        return rc;

    sb_con_t *con = SB_NEW(sb_con_t);
    con->loop = loop;
    con->lua = opts->lua;
    if (opts->hooks)
        con->hooks = *opts->hooks;
    con->path = sb_xstrdup(opts->path);
    con->started_ms = opts->started_ms ? opts->started_ms : sb_time_now_ms();
    con->box_ref = LUA_NOREF;

    uv_pipe_init(loop, &con->listener, 0);
    con->listener.data = con;
    con->handles++;
    /* Created owner-only, with no window where it is wider: umask while
     * binding (one thread), then chmod for file systems that ignore it. */
    mode_t old = umask(0177);
    rc = uv_pipe_bind(&con->listener, con->path);
    umask(old);
    if (rc == 0 && chmod(con->path, 0600) != 0)
        rc = uv_translate_sys_error(errno);
    struct stat st;
    if (rc == 0 && lstat(con->path, &st) == 0) {
        con->dev = st.st_dev;
        con->ino = st.st_ino;
    }
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&con->listener, 16, on_connection);
    if (rc < 0) {
        set_err(err, errlen, "console: cannot listen on %s: %s", con->path,
                uv_strerror(rc));
        if (con->ino)
            unlink(con->path);
        con->closing = 1;           /* freed when the handle has closed */
        uv_close((uv_handle_t *)&con->listener, on_handle_closed);
        return rc;
    }

    lua_State *L = sb_lua_state(con->lua);
    con->box = sb__con_host_register(L, con);
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "switchboard.console.host");
    lua_getfield(L, -1, "box");
    con->box_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 2);

    if (con->hooks.call_counts) {
        uv_timer_init(loop, &con->sampler);
        con->sampler.data = con;
        con->handles++;
        con->have_sampler = 1;
        uv_timer_start(&con->sampler, on_sample, SAMPLE_MS, SAMPLE_MS);
    }
    sb_info("console: listening on %s", con->path);
    *out = con;
    return 0;
}

void sb_con_close(sb_con_t *con, sb_con_close_cb cb, void *arg)
{
    if (con == NULL || con->closing)
        return;
    con->closing = 1;
    con->close_cb = cb;
    con->close_arg = arg;
    lua_State *L = sb_lua_state(con->lua);
    con->box->con = NULL;
    if (L && con->box_ref != LUA_NOREF)
        luaL_unref(L, LUA_REGISTRYINDEX, con->box_ref);
    con->box_ref = LUA_NOREF;
    for (sb__con_conn_t *c = con->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&con->listener, on_handle_closed);
    if (con->have_sampler) {
        uv_timer_stop(&con->sampler);
        uv_close((uv_handle_t *)&con->sampler, on_handle_closed);
    }
    /* Only the socket this server made: a newer server may own the path. */
    struct stat st;
    if (lstat(con->path, &st) == 0 && st.st_dev == con->dev &&
        st.st_ino == con->ino)
        unlink(con->path);
}
