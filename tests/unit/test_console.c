/*
 * test_console.c: the console server on a real libuv loop with a real Lua
 * runtime, driven through its Unix socket by a raw client in the test
 * (frames of the wire protocol): evaluation and pretty-printing, errors,
 * incomplete chunks, per-console globals, commands that wait without
 * blocking others, cancel, disconnect mid-command, the instruction limit,
 * completion, the socket file's mode and life cycle, hooks (rows, counts,
 * unavailable subsystems), store-backed registrations, plugin reload, and
 * the framing itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "con_int.h"
#include "sip_store.h"
#include "store.h"

#define LIB_PATH SB_SOURCE_DIR "/lua"

/* ------------------------------------------------------------------------ */
/* Harness                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct env_s {
    uv_loop_t loop;
    uv_timer_t guard;
    int timed_out;
    char dir[64];
    char sock[128];
    char plugins[128];
    sb_lua_t *rt;
    sb_con_t *con;
} env_t;

typedef struct client_s {
    int fd;
    sb_buf_t in;
    sb_buf_t out;               /* output text seen so far */
    int closed;
} client_t;

static void on_guard(uv_timer_t *t)
{
    ((env_t *)t->data)->timed_out = 1;
}

static void on_flag(void *arg)
{
    *(int *)arg = 1;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void env_start_with(env_t *e, long instruction_limit,
                           const sb_con_hooks_t *hooks)
{
    memset(e, 0, sizeof *e);
    snprintf(e->dir, sizeof e->dir, "/tmp/sb-con-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->sock, sizeof e->sock, "%s/console.sock", e->dir);
    snprintf(e->plugins, sizeof e->plugins, "%s/plugins", e->dir);
    assert_int_equal(mkdir(e->plugins, 0700), 0);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    uv_timer_init(&e->loop, &e->guard);
    e->guard.data = e;

    const char *paths[] = {e->plugins};
    sb_lua_opts_t lo;
    memset(&lo, 0, sizeof lo);
    lo.lib_path = LIB_PATH;
    lo.plugin_paths = paths;
    lo.plugin_path_count = 1;
    lo.instruction_limit = instruction_limit;
    char err[512];
    if (sb_lua_new(&e->loop, &lo, &e->rt, err, sizeof err) != 0)
        fail_msg("sb_lua_new: %s", err);

    sb_con_opts_t co = {.path = e->sock, .lua = e->rt, .hooks = hooks};
    if (sb_con_new(&e->loop, &co, &e->con, err, sizeof err) != 0)
        fail_msg("sb_con_new: %s", err);
}

static void env_start(env_t *e)
{
    env_start_with(e, 0, NULL);
}

static void run_until(env_t *e, const int *flag)
{
    uv_timer_start(&e->guard, on_guard, 10000, 0);
    while (!*flag && !e->timed_out)
        uv_run(&e->loop, UV_RUN_ONCE);
    uv_timer_stop(&e->guard);
    assert_false(e->timed_out);
}

static void rm_tree(const char *dir)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void env_stop(env_t *e)
{
    int closed = 0;
    if (e->con) {
        sb_con_close(e->con, on_flag, &closed);
        run_until(e, &closed);
    }
    closed = 0;
    sb_lua_close(e->rt, on_flag, &closed);
    run_until(e, &closed);
    uv_close((uv_handle_t *)&e->guard, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    rm_tree(e->dir);
}

static int raw_connect(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Pumps the loop and the client's socket until a message arrives; output
 * messages are collected into c->out and skipped unless want is
 * "output". Returns the message (owned) or NULL when the server closed. */
static json_t *next_msg(env_t *e, client_t *c, const char *want)
{
    uv_timer_start(&e->guard, on_guard, 10000, 0);
    json_t *msg = NULL;
    while (!e->timed_out) {
        int rc = sb__con_frame_take(&c->in, SB_CON_MAX_FRAME, &msg);
        assert_true(rc >= 0);
        if (rc == 1) {
            const char *op = json_string_value(json_object_get(msg, "op"));
            if (op && strcmp(op, "output") == 0 && (want == NULL ||
                                                     strcmp(want, "output") != 0)) {
                sb_buf_puts(&c->out, json_string_value(json_object_get(msg, "text")));
                json_decref(msg);
                msg = NULL;
                continue;
            }
            break;
        }
        if (c->closed)
            break;
        uv_run(&e->loop, UV_RUN_NOWAIT);
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 5) > 0) {
            char buf[65536];
            ssize_t n = read(c->fd, buf, sizeof buf);
            if (n <= 0)
                c->closed = 1;
            else
                sb_buf_append(&c->in, buf, (size_t)n);
        }
    }
    uv_timer_stop(&e->guard);
    assert_false(e->timed_out);
    return msg;
}

static void client_open(env_t *e, client_t *c)
{
    memset(c, 0, sizeof *c);
    c->fd = raw_connect(e->sock);
    assert_true(c->fd >= 0);
    json_t *hello = next_msg(e, c, NULL);
    assert_non_null(hello);
    assert_string_equal(json_string_value(json_object_get(hello, "op")), "hello");
    assert_int_equal(json_integer_value(json_object_get(hello, "protocol")),
                     SB_CON_PROTOCOL);
    json_decref(hello);
}

static void client_close(client_t *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    sb_buf_free(&c->in);
    sb_buf_free(&c->out);
}

static void send_raw(client_t *c, const void *p, size_t n)
{
    assert_int_equal(write(c->fd, p, n), (ssize_t)n);
}

static void send_json(client_t *c, json_t *m)
{
    sb_buf_t b = SB_BUF_INIT;
    assert_int_equal(sb__con_frame_put(&b, m, SB_CON_MAX_REQUEST), 0);
    json_decref(m);
    send_raw(c, b.data, b.len);
    sb_buf_free(&b);
}

static void send_eval(client_t *c, int id, const char *code, int interactive)
{
    send_json(c, json_pack("{s:s, s:i, s:s, s:b}", "op", "eval", "id", id,
                           "code", code, "interactive", interactive));
}

typedef struct result_s {
    char status[32];
    char text[8192];
} result_t;

/* Waits for the result of eval id. */
static void wait_result(env_t *e, client_t *c, int id, result_t *r)
{
    json_t *m = next_msg(e, c, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "op")), "result");
    assert_int_equal(json_integer_value(json_object_get(m, "id")), id);
    snprintf(r->status, sizeof r->status, "%s",
             json_string_value(json_object_get(m, "status")));
    snprintf(r->text, sizeof r->text, "%s",
             json_string_value(json_object_get(m, "text")));
    json_decref(m);
}

/* Evaluates code and checks status and text (text NULL: not checked). */
static void expect(env_t *e, client_t *c, const char *code, const char *status,
                   const char *text)
{
    static int id = 100;
    result_t r;
    send_eval(c, ++id, code, 1);
    wait_result(e, c, id, &r);
    if (strcmp(r.status, status) != 0 || (text && strcmp(r.text, text) != 0))
        fail_msg("%s: got %s \"%s\", want %s \"%s\"", code, r.status, r.text,
                 status, text ? text : "*");
}

/* Evaluates code and checks that the text contains needle. */
static void expect_has(env_t *e, client_t *c, const char *code,
                       const char *status, const char *needle)
{
    static int id = 5000;
    result_t r;
    send_eval(c, ++id, code, 1);
    wait_result(e, c, id, &r);
    if (strcmp(r.status, status) != 0 || strstr(r.text, needle) == NULL)
        fail_msg("%s: got %s \"%s\", want %s containing \"%s\"", code, r.status,
                 r.text, status, needle);
}

/* Pumps the loop for about ms milliseconds. */
static void pump(env_t *e, int ms)
{
    for (int i = 0; i < ms; i++) {
        uv_run(&e->loop, UV_RUN_NOWAIT);
        usleep(1000);
    }
}

/* ------------------------------------------------------------------------ */
/* Framing                                                                  */
/* ------------------------------------------------------------------------ */

static void test_console_frames_round_trip_and_split(void **state)
{
    sb_buf_t b = SB_BUF_INIT;
    json_t *m = json_pack("{s:s, s:i}", "op", "eval", "id", 7);
    assert_int_equal(sb__con_frame_put(&b, m, 1024), 0);
    assert_int_equal(sb__con_frame_put(&b, m, 1024), 0);
    assert_int_equal(sb__con_frame_put(&b, m, 4), SB_ETOOBIG);
    json_decref(m);

    /* Fed a byte at a time, two frames come out whole. */
    sb_buf_t in = SB_BUF_INIT;
    int got = 0;
    for (size_t i = 0; i < b.len; i++) {
        sb_buf_append(&in, b.data + i, 1);
        json_t *out;
        int rc = sb__con_frame_take(&in, 1024, &out);
        assert_true(rc >= 0);
        if (rc == 1) {
            assert_int_equal(json_integer_value(json_object_get(out, "id")), 7);
            json_decref(out);
            got++;
        }
    }
    assert_int_equal(got, 2);
    assert_int_equal(in.len, 0);

    /* A length over the limit, and a frame that is not an object. */
    json_t *out;
    sb_buf_reset(&in);
    sb_buf_append(&in, "\x7f\x00\x00\x00", 4);
    assert_int_equal(sb__con_frame_take(&in, 1024, &out), SB_ETOOBIG);
    sb_buf_reset(&in);
    sb_buf_append(&in, "\x00\x00\x00\x03[1]", 7);
    assert_int_equal(sb__con_frame_take(&in, 1024, &out), SB_EINVAL);
    assert_int_equal(in.len, 0);
    sb_buf_free(&in);
    sb_buf_free(&b);
}

static void test_console_utf8_clean_replaces_bad_bytes(void **state)
{
    size_t n;
    char *s = sb__con_utf8_clean("caf\xc3\xa9 \xff ok \xe2\x82", 13, &n);
    assert_string_equal(s, "caf\xc3\xa9 \xef\xbf\xbd ok \xef\xbf\xbd\xef\xbf\xbd");
    assert_int_equal(n, strlen(s));
    free(s);
    /* Overlong encodings and surrogates are not UTF-8 either. */
    s = sb__con_utf8_clean("\xc0\xaf\xed\xa0\x80", 5, &n);
    assert_int_equal(n, 15);
    free(s);
}

/* ------------------------------------------------------------------------ */
/* Evaluation                                                               */
/* ------------------------------------------------------------------------ */

static void test_console_eval_pretty_prints_results(void **state)
{
    env_t e;
    client_t c;
    env_start(&e);
    client_open(&e, &c);
    expect(&e, &c, "1 + 1", "ok", "2");
    expect(&e, &c, "{ a = { b = 1 }, 'x' }", "ok", "{ \"x\", a = { b = 1 } }");
    expect(&e, &c, "x = 5", "ok", "");
    expect(&e, &c, "x, 'text', nil", "ok", "5\ttext\tnil");
    expect_has(&e, &c, "local t = {} t.self = t return t", "ok",
               "self = <cycle: table: 0x");
    /* print output comes before the result, as it happens. */
    expect(&e, &c, "print('hello', 42) return 'done'", "ok", "done");
    assert_string_equal(sb_buf_str(&c.out), "hello\t42\n");
    /* The full state, not the plugin sandbox. */
    expect(&e, &c, "type(debug.getinfo) .. type(require)", "ok", "functionfunction");
    client_close(&c);
    env_stop(&e);
}

static void test_console_errors_carry_a_traceback(void **state)
{
    env_t e;
    client_t c;
    env_start(&e);
    client_open(&e, &c);
    expect_has(&e, &c, "error('boom')", "error", "console:1: boom\nstack traceback:");
    expect_has(&e, &c, "1 +* 2", "error", "unexpected symbol");
    expect_has(&e, &c, "nosuch.field", "error", "attempt to index a nil value");
    expect(&e, &c, "'still here'", "ok", "still here");
    client_close(&c);
    env_stop(&e);
}

static void test_console_incomplete_chunk_only_when_interactive(void **state)
{
    env_t e;
    client_t c;
    env_start(&e);
    client_open(&e, &c);
    expect(&e, &c, "function double(n)", "incomplete", "");
    expect(&e, &c, "function double(n)\n  return n * 2\nend", "ok", "");
    expect(&e, &c, "double(21)", "ok", "42");
    result_t r;
    send_eval(&c, 9, "function broken(", 0);
    wait_result(&e, &c, 9, &r);
    assert_string_equal(r.status, "error");
    assert_non_null(strstr(r.text, "<eof>"));
    client_close(&c);
    env_stop(&e);
}

static void test_console_each_console_has_its_own_globals(void **state)
{
    env_t e;
    client_t a, b;
    env_start(&e);
    client_open(&e, &a);
    client_open(&e, &b);
    assert_int_equal(sb_con_clients(e.con), 2);
    expect(&e, &a, "mine = 'a'", "ok", "");
    expect(&e, &b, "mine", "ok", "nil");
    expect(&e, &a, "mine", "ok", "a");
    expect(&e, &b, "_G.shared = 1", "ok", "");
    expect(&e, &a, "shared", "ok", "1");
    client_close(&a);
    client_close(&b);
    env_stop(&e);
}

static void test_console_waiting_command_does_not_block_others(void **state)
{
    env_t e;
    client_t a, b;
    env_start(&e);
    client_open(&e, &a);
    client_open(&e, &b);
    send_eval(&a, 1, "sleep(0.3) return 'late'", 1);
    /* A second eval on the same console is refused while one runs. */
    result_t r;
    send_eval(&a, 2, "1", 1);
    wait_result(&e, &a, 2, &r);
    assert_string_equal(r.status, "error");
    assert_non_null(strstr(r.text, "already running"));
    /* The other console answers while the first waits. */
    send_eval(&b, 3, "'early'", 1);
    wait_result(&e, &b, 3, &r);
    assert_string_equal(r.text, "early");
    wait_result(&e, &a, 1, &r);
    assert_string_equal(r.status, "ok");
    assert_string_equal(r.text, "late");
    client_close(&a);
    client_close(&b);
    env_stop(&e);
}

static void test_console_cancel_stops_the_running_command(void **state)
{
    env_t e;
    client_t c;
    env_start(&e);
    client_open(&e, &c);
    send_eval(&c, 1, "print('started') sleep(60) _G.after = true", 1);
    json_t *m = next_msg(&e, &c, "output");
    assert_string_equal(json_string_value(json_object_get(m, "text")), "started\n");
    json_decref(m);
    send_json(&c, json_pack("{s:s}", "op", "cancel"));
    result_t r;
    wait_result(&e, &c, 1, &r);
    assert_string_equal(r.status, "canceled");
    expect(&e, &c, "_G.after", "ok", "nil");
    /* A loop that keeps waiting is cancelled the same way. (A bare
     * coroutine.yield() or sleep(0) loop would do, but with libuv 1.44 a
     * 0 ms timer re-armed from its own callback starves the loop: see
     * the report; core/lua owns that.) */
    send_eval(&c, 2, "while true do sleep(0.001) end", 1);
    pump(&e, 20);
    send_json(&c, json_pack("{s:s}", "op", "cancel"));
    wait_result(&e, &c, 2, &r);
    assert_string_equal(r.status, "canceled");
    expect(&e, &c, "'alive'", "ok", "alive");
    client_close(&c);
    env_stop(&e);
}

static void test_console_disconnect_mid_command_cancels_it(void **state)
{
    env_t e;
    client_t a, b;
    env_start(&e);
    client_open(&e, &a);
    client_open(&e, &b);
    send_eval(&a, 1, "print('waiting') sleep(0.2) _G.touched = true", 1);
    json_t *m = next_msg(&e, &a, "output");
    json_decref(m);
    client_close(&a);
    /* The server notices, closes the session, and goes on. */
    uv_timer_start(&e.guard, on_guard, 10000, 0);
    while (sb_con_clients(e.con) != 1 && !e.timed_out)
        uv_run(&e.loop, UV_RUN_ONCE);
    uv_timer_stop(&e.guard);
    assert_false(e.timed_out);
    pump(&e, 400);                  /* past the sleep it was in */
    expect(&e, &b, "_G.touched", "ok", "nil");
    client_close(&b);
    env_stop(&e);
}

static void test_console_instruction_limit_stops_a_busy_loop(void **state)
{
    env_t e;
    client_t c;
    env_start_with(&e, 200000, NULL);
    client_open(&e, &c);
    expect_has(&e, &c, "while true do end", "error", "instruction limit exceeded");
    /* pcall cannot swallow it. */
    expect_has(&e, &c, "pcall(function() while true do end end) return 'escaped'",
               "error", "instruction limit exceeded");
    expect(&e, &c, "'fine'", "ok", "fine");
    client_close(&c);
    env_stop(&e);
}

static void test_console_completion_answers_candidates(void **state)
{
    env_t e;
    client_t c;
    env_start(&e);
    client_open(&e, &c);
    expect(&e, &c, "my_table = { alpha = 1, beta = 2 }", "ok", "");
    struct {
        const char *text;
        const char *items;
    } cases[] = {
        {"string.for", "string.format"},
        {"my_table.", "my_table.alpha,my_table.beta"},
        {"relo", "reload"},
        {"sip.", "sip.trace"},
        {"zzz_nothing", ""},
    };
    for (size_t i = 0; i < SB_COUNTOF(cases); i++) {
        send_json(&c, json_pack("{s:s, s:i, s:s}", "op", "complete", "id",
                                (int)i + 1, "text", cases[i].text));
        json_t *m = next_msg(&e, &c, NULL);
        assert_string_equal(json_string_value(json_object_get(m, "op")),
                            "completions");
        assert_int_equal(json_integer_value(json_object_get(m, "id")), (int)i + 1);
        sb_buf_t got = SB_BUF_INIT;
        json_t *items = json_object_get(m, "items");
        for (size_t k = 0; k < json_array_size(items); k++) {
            if (k)
                sb_buf_putc(&got, ',');
            sb_buf_puts(&got, json_string_value(json_array_get(items, k)));
        }
        assert_string_equal(sb_buf_str(&got), cases[i].items);
        sb_buf_free(&got);
        json_decref(m);
    }
    client_close(&c);
    env_stop(&e);
}

static void test_console_protocol_error_disconnects_only_that_client(void **state)
{
    env_t e;
    client_t bad, good;
    env_start(&e);
    client_open(&e, &bad);
    client_open(&e, &good);
    send_raw(&bad, "\x00\x00\x00\x05hello", 9);
    json_t *m = next_msg(&e, &bad, NULL);
    assert_non_null(m);
    assert_string_equal(json_string_value(json_object_get(m, "op")), "error");
    json_decref(m);
    assert_null(next_msg(&e, &bad, NULL));      /* then closed */
    /* An unknown op is answered, not fatal. */
    send_json(&good, json_pack("{s:s}", "op", "future-thing"));
    m = next_msg(&e, &good, NULL);
    assert_string_equal(json_string_value(json_object_get(m, "op")), "error");
    json_decref(m);
    expect(&e, &good, "'ok'", "ok", "ok");
    client_close(&bad);
    client_close(&good);
    env_stop(&e);
}

/* ------------------------------------------------------------------------ */
/* The socket file                                                          */
/* ------------------------------------------------------------------------ */

static void test_console_socket_is_0600_and_removed_at_close(void **state)
{
    env_t e;
    env_start(&e);
    struct stat st;
    assert_int_equal(lstat(e.sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A second server on the same path is refused while this one lives. */
    sb_con_t *other = NULL;
    char err[256] = "";
    sb_con_opts_t co = {.path = e.sock, .lua = e.rt};
    assert_int_equal(sb_con_new(&e.loop, &co, &other, err, sizeof err), SB_EEXIST);
    assert_non_null(strstr(err, "in use"));
    int closed = 0;
    sb_con_close(e.con, on_flag, &closed);
    run_until(&e, &closed);
    e.con = NULL;
    assert_int_equal(lstat(e.sock, &st), -1);
    assert_int_equal(errno, ENOENT);
    env_stop(&e);
}

static void test_console_refuses_a_path_that_is_not_a_socket(void **state)
{
    env_t e;
    env_start(&e);
    char path[160], err[256] = "";
    snprintf(path, sizeof path, "%s/file", e.dir);
    write_file(path, "precious");
    sb_con_t *other = NULL;
    sb_con_opts_t co = {.path = path, .lua = e.rt};
    assert_int_equal(sb_con_new(&e.loop, &co, &other, err, sizeof err), SB_EEXIST);
    assert_non_null(strstr(err, "not a socket"));
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    env_stop(&e);
}

static void test_console_replaces_a_stale_socket(void **state)
{
    env_t e;
    env_start(&e);
    char path[160], err[256] = "";
    snprintf(path, sizeof path, "%s/stale.sock", e.dir);
    /* A socket file nobody listens on: what a crashed server leaves. */
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    assert_true(strlen(path) < sizeof sa.sun_path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    close(fd);
    sb_con_t *second = NULL;
    sb_con_opts_t co = {.path = path, .lua = e.rt};
    if (sb_con_new(&e.loop, &co, &second, err, sizeof err) != 0)
        fail_msg("stale socket not replaced: %s", err);
    fd = raw_connect(path);
    assert_true(fd >= 0);
    close(fd);
    int closed = 0;
    sb_con_close(second, on_flag, &closed);
    run_until(&e, &closed);
    env_stop(&e);
}

static void test_console_close_with_commands_running(void **state)
{
    env_t e;
    client_t a, b;
    env_start(&e);
    client_open(&e, &a);
    client_open(&e, &b);
    send_eval(&a, 1, "sleep(60)", 1);
    send_json(&b, json_pack("{s:s, s:i, s:s}", "op", "complete", "id", 1,
                            "text", "str"));
    pump(&e, 20);
    env_stop(&e);                   /* asserts the loop closes clean */
    client_close(&a);
    client_close(&b);
}

/* ------------------------------------------------------------------------ */
/* Hooks and helpers                                                        */
/* ------------------------------------------------------------------------ */

static int trace_state;

static int fake_calls(void *arg, sb_con_rows_t *out)
{
    assert_ptr_equal(arg, &trace_state);
    sb_con_rows_add(out);
    sb_con_rows_str(out, "sid", "CA1");
    sb_con_rows_str(out, "from", "alice");
    sb_con_rows_int(out, "duration", 12);
    sb_con_rows_add(out);
    sb_con_rows_str(out, "sid", "CA2");
    sb_con_rows_str(out, "from", "bob");
    sb_con_rows_int(out, "duration", 3);
    return 0;
}

static int fake_trace(void *arg, int on)
{
    int prev = trace_state;
    trace_state = on;
    return prev;
}

static int fake_counts(void *arg, int64_t *active, int64_t *total)
{
    *active = 2;
    *total = 40;
    return 0;
}

static int failing_numbers(void *arg, sb_con_rows_t *out)
{
    sb_con_rows_add(out);
    sb_con_rows_str(out, "number", "+1555");
    return SB_ESTORE;
}

static void test_console_helpers_use_hooks_and_say_what_is_missing(void **state)
{
    sb_con_hooks_t h;
    memset(&h, 0, sizeof h);
    h.calls = fake_calls;
    h.calls_arg = &trace_state;
    h.sip_trace = fake_trace;
    h.call_counts = fake_counts;
    env_t e;
    client_t c;
    env_start_with(&e, 0, &h);
    client_open(&e, &c);
    expect(&e, &c, "calls()", "ok",
           "sid  from   duration\nCA1  alice  12\nCA2  bob    3\n(2 rows)");
    expect(&e, &c, "#calls(), calls()[2].from", "ok", "2\tbob");
    /* Not wired: an empty list that says so, never made-up rows. */
    expect_has(&e, &c, "registrations()", "ok", "(no registrations: not available yet");
    expect(&e, &c, "#numbers()", "ok", "0");
    expect_has(&e, &c, "call('CA1')", "ok", "nil\tcall control is not available yet");
    expect_has(&e, &c, "help()", "ok", "registrations()");
    expect_has(&e, &c, "help()", "ok", "[not available yet]");
    expect(&e, &c, "sip.trace(true)", "ok", "false");
    assert_int_equal(trace_state, 1);
    expect(&e, &c, "sip.trace(false)", "ok", "true");
    expect_has(&e, &c, "stats()", "ok", "2 active, 40 total");
    expect(&e, &c, "stats().calls.total, stats().consoles", "ok", "40\t1");
    expect_has(&e, &c, "stats()", "ok", "memory");
    sb_log_level_t before = sb_log_get_level();
    expect(&e, &c, "log.level('debug')", "ok", "debug");
    assert_int_equal(sb_log_get_level(), SB_LOG_DEBUG);
    sb_log_set_level(before);
    expect_has(&e, &c, "log.level('loud')", "error", "unknown log level");
    client_close(&c);
    env_stop(&e);

    /* A hook that fails: its reason, and nothing it half-built. */
    memset(&h, 0, sizeof h);
    h.numbers = failing_numbers;
    env_start_with(&e, 0, &h);
    client_open(&e, &c);
    expect_has(&e, &c, "numbers()", "error", "numbers() failed: store");
    client_close(&c);
    env_stop(&e);
}

static void test_console_registrations_from_the_store(void **state)
{
    char dir[64] = "/tmp/sb-con-db-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char dbpath[128], err[512];
    snprintf(dbpath, sizeof dbpath, "%s/test.db", dir);
    sb_store_t *store;
    if (sb_store_open(dbpath, &store, err, sizeof err) != 0)
        fail_msg("store: %s", err);
    int64_t now = sb_time_now_ms() / 1000;
    sb_registration_t r;
    memset(&r, 0, sizeof r);
    r.login = "alice";
    r.contact = "sip:alice@10.0.0.5:5062";
    r.expires_at = now + 600;
    r.source_ip = "10.0.0.5";
    r.source_port = 5062;
    r.transport = "udp";
    r.user_agent = "Phone/1.0";
    r.call_id = "abc";
    r.cseq = 1;
    r.date_created = r.date_updated = now;
    assert_int_equal(sb_store_registrations_replace(store, "alice", &r, 1), 0);
    sb_registration_t gone = r;
    gone.login = "bob";
    gone.contact = "sip:bob@10.0.0.6";
    gone.expires_at = now - 5;              /* expired: not shown */
    assert_int_equal(sb_store_registrations_replace(store, "bob", &gone, 1), 0);

    sb_con_hooks_t h;
    memset(&h, 0, sizeof h);
    sb_con_hooks_from_store(&h, store);
    env_t e;
    client_t c;
    env_start_with(&e, 0, &h);
    client_open(&e, &c);
    expect(&e, &c, "#registrations()", "ok", "1");
    expect(&e, &c, "registrations()[1].contact, registrations()[1].source",
           "ok", "sip:alice@10.0.0.5:5062\t10.0.0.5:5062/udp");
    expect_has(&e, &c, "registrations()", "ok", "Phone/1.0");
    expect_has(&e, &c, "stats()", "ok", "1 users, 1 contacts");
    expect(&e, &c, "numbers()", "ok", "(no numbers)");
    client_close(&c);
    env_stop(&e);
    sb_store_close(store);
    rm_tree(dir);
}

static void test_console_reload_keeps_old_plugin_on_error(void **state)
{
    env_t e;
    client_t c;
    env_start(&e);
    char path[200];
    snprintf(path, sizeof path, "%s/greet.lua", e.plugins);
    write_file(path, "plugin:hook(\"greet\", function() return \"v1\" end)\n");
    char err[256];
    assert_int_equal(sb_lua_load_plugins(e.rt, err, sizeof err), 0);
    client_open(&e, &c);
    const char *fire = "require('switchboard.plugins').default:fire('greet')";
    expect(&e, &c, fire, "ok", "v1");
    expect_has(&e, &c, "plugins()", "ok", "greet");

    write_file(path, "plugin:hook(\"greet\", function() return \"v2\" end)\n");
    expect(&e, &c, "reload('greet')", "ok", "reloaded greet");
    expect(&e, &c, fire, "ok", "v2");

    write_file(path, "plugin:hook(\"greet\", function() return \"v3\" end\n");
    expect_has(&e, &c, "reload('greet')", "error", "plugin greet: syntax error");
    expect(&e, &c, fire, "ok", "v2");       /* the old one still runs */
    expect_has(&e, &c, "reload()", "error", "syntax error");
    expect_has(&e, &c, "reload('nope')", "error", "no plugin named nope");
    write_file(path, "error('refusing to load')\n");
    expect_has(&e, &c, "reload('greet')", "error", "refusing to load");
    expect(&e, &c, fire, "ok", "v2");

    write_file(path, "plugin:hook(\"greet\", function() return \"v4\" end)\n");
    expect(&e, &c, "reload()", "ok", "reloaded 1 plugin");
    expect(&e, &c, fire, "ok", "v4");
    client_close(&c);
    env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_console_frames_round_trip_and_split),
        cmocka_unit_test(test_console_utf8_clean_replaces_bad_bytes),
        cmocka_unit_test(test_console_eval_pretty_prints_results),
        cmocka_unit_test(test_console_errors_carry_a_traceback),
        cmocka_unit_test(test_console_incomplete_chunk_only_when_interactive),
        cmocka_unit_test(test_console_each_console_has_its_own_globals),
        cmocka_unit_test(test_console_waiting_command_does_not_block_others),
        cmocka_unit_test(test_console_cancel_stops_the_running_command),
        cmocka_unit_test(test_console_disconnect_mid_command_cancels_it),
        cmocka_unit_test(test_console_instruction_limit_stops_a_busy_loop),
        cmocka_unit_test(test_console_completion_answers_candidates),
        cmocka_unit_test(test_console_protocol_error_disconnects_only_that_client),
        cmocka_unit_test(test_console_socket_is_0600_and_removed_at_close),
        cmocka_unit_test(test_console_refuses_a_path_that_is_not_a_socket),
        cmocka_unit_test(test_console_replaces_a_stale_socket),
        cmocka_unit_test(test_console_close_with_commands_running),
        cmocka_unit_test(test_console_helpers_use_hooks_and_say_what_is_missing),
        cmocka_unit_test(test_console_registrations_from_the_store),
        cmocka_unit_test(test_console_reload_keeps_old_plugin_on_error),
    };
    sb_log_set_level(getenv("SB_TEST_DEBUG") ? SB_LOG_DEBUG : SB_LOG_WARN);
    if (getenv("SB_TEST_FILTER"))
        cmocka_set_test_filter(getenv("SB_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
