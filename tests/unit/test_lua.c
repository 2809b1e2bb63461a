/*
 * test_lua.c: the Lua runtime on a real libuv loop: the scheduler (yield,
 * resume, cancel on hangup, close), the sandbox, the instruction and
 * memory limits, plugin load and reload, hook chains, plugin errors, the
 * call binding with a test double, http.request against the http module's
 * server on 127.0.0.1, and one RCML application end to end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <lauxlib.h>

#include "http.h"
#include "sb_lua.h"
#include "test_lua_fake_call.h"
#include "util.h"

#define LIB_PATH SB_SOURCE_DIR "/lua"
#define PLUGINS_PATH SB_SOURCE_DIR "/plugins"
#define FIXTURE_PLUGINS SB_FIXTURES "/plugins"

/* ------------------------------------------------------------------------ */
/* Harness                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct env_s {
    uv_loop_t loop;
    uv_timer_t guard;           /* ends a stuck test instead of hanging */
    int timed_out;
    sb_lua_t *rt;
    char log_path[256];
} env_t;

typedef struct outcome_s {
    int done;
    int status;
    int nres;
    char msg[4096];
    char results[1024];         /* results joined with '|' */
} outcome_t;

static void on_guard(uv_timer_t *t)
{
    ((env_t *)t->data)->timed_out = 1;
}

static void run_until(env_t *e, const int *flag)
{
    uv_timer_start(&e->guard, on_guard, 10000, 0);
    while (!*flag && !e->timed_out)
        uv_run(&e->loop, UV_RUN_ONCE);
    uv_timer_stop(&e->guard);
    assert_false(e->timed_out);
}

static void env_start(env_t *e, sb_lua_opts_t *opts)
{
    memset(e, 0, sizeof *e);
    assert_int_equal(uv_loop_init(&e->loop), 0);
    uv_timer_init(&e->loop, &e->guard);
    e->guard.data = e;
    sb_lua_opts_t defaults;
    memset(&defaults, 0, sizeof defaults);
    if (opts == NULL)
        opts = &defaults;
    opts->lib_path = LIB_PATH;
    char err[512];
    int rc = sb_lua_new(&e->loop, opts, &e->rt, err, sizeof err);
    if (rc != 0)
        fail_msg("sb_lua_new: %s", err);
}

static void on_rt_closed(void *arg)
{
    *(int *)arg = 1;
}

static void env_stop(env_t *e)
{
    int closed = 0;
    sb_lua_close(e->rt, on_rt_closed, &closed);
    run_until(e, &closed);
    uv_close((uv_handle_t *)&e->guard, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    if (e->log_path[0]) {
        sb_log_open(NULL);
        unlink(e->log_path);
    }
}

static void on_done(sb_lua_session_t *s, int status, const char *msg, void *arg)
{
    outcome_t *o = arg;
    o->done++;
    o->status = status;
    snprintf(o->msg, sizeof o->msg, "%s", msg ? msg : "");
    o->results[0] = '\0';
    if (status != 0)
        return;
    lua_State *co = sb_lua_session_thread(s);
    o->nres = lua_gettop(co);
    size_t pos = 0;
    for (int i = 1; i <= o->nres; i++) {
        const char *v = luaL_tolstring(co, i, NULL);
        pos += (size_t)snprintf(o->results + pos, sizeof o->results - pos,
                                "%s%s", i > 1 ? "|" : "", v);
        lua_pop(co, 1);
        if (pos >= sizeof o->results)
            break;
    }
}

static sb_lua_session_t *start_code(env_t *e, const char *sid, const char *code,
                                    outcome_t *o)
{
    sb_lua_session_t *s;
    memset(o, 0, sizeof *o);
    assert_int_equal(sb_lua_session_new(e->rt, sid, on_done, o, &s), 0);
    char err[512];
    int rc = sb_lua_session_load(s, code, strlen(code), "=test", err, sizeof err);
    if (rc != 0)
        fail_msg("load: %s", err);
    assert_int_equal(sb_lua_session_start(s, 0), 0);
    return s;
}

/* Runs code to completion and checks it returned results. */
static void eval(env_t *e, const char *code, const char *expect)
{
    outcome_t o;
    start_code(e, NULL, code, &o);
    run_until(e, &o.done);
    if (o.status != 0)
        fail_msg("session failed: %s", o.msg);
    assert_string_equal(o.results, expect);
}

static void capture_log(env_t *e)
{
    snprintf(e->log_path, sizeof e->log_path, "/tmp/sb_test_lua_%d.log",
             (int)getpid());
    assert_int_equal(sb_log_open(e->log_path), 0);
}

static char *read_log(env_t *e)
{
    FILE *f = fopen(e->log_path, "rb");
    assert_non_null(f);
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Scheduler                                                                */
/* ------------------------------------------------------------------------ */

static void test_lua_new_close_leaves_loop_clean(void **state)
{
    env_t e;
    env_start(&e, NULL);
    assert_true(sb_lua_memory(e.rt) > 0);
    env_stop(&e);
}

static void test_lua_bad_options_are_refused(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    sb_lua_t *rt = NULL;
    char err[256];
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    assert_int_equal(sb_lua_new(&loop, &o, &rt, err, sizeof err), SB_EINVAL);
    o.lib_path = LIB_PATH;
    o.plugin_options = "{ broken";
    assert_int_equal(sb_lua_new(&loop, &o, &rt, err, sizeof err), SB_EINVAL);
    assert_non_null(strstr(err, "plugins.options"));
    o.plugin_options = "os.exit(1)";
    assert_int_equal(sb_lua_new(&loop, &o, &rt, err, sizeof err), SB_EINVAL);
    o.plugin_options = "42";
    assert_int_equal(sb_lua_new(&loop, &o, &rt, err, sizeof err), SB_EINVAL);
    o.plugin_options = NULL;
    o.lib_path = "/nonexistent";
    assert_int_equal(sb_lua_new(&loop, &o, &rt, err, sizeof err), SB_EINVAL);
    assert_null(rt);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_lua_sleep_yields_and_resumes(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t o;
    start_code(&e, "CAsleep", "local core = require 'switchboard.core'\n"
                              "local ok = core.sleep(0.02)\n"
                              "local again = core.sleep(0)\n"
                              "return ok, again, core.sid()", &o);
    assert_int_equal(o.done, 0);            /* it yielded to the loop */
    run_until(&e, &o.done);
    assert_int_equal(o.done, 1);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.results, "true|true|CAsleep");
    env_stop(&e);
}

/* A loop of sleep(0), or of bare coroutine.yield(), must still let the
 * event loop reach timers and I/O: the second session's 10 ms sleep ends
 * it. Before the fix this test never returned (ctest's timeout fails it). */
static void test_lua_sleep_zero_loop_lets_the_loop_run(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t spin, yielder, stopper;
    start_code(&e, NULL, "local core = require 'switchboard.core'\n"
                         "local n = 0\n"
                         "while not stop do core.sleep(0); n = n + 1 end\n"
                         "return n > 0", &spin);
    start_code(&e, NULL, "while not stop do coroutine.yield() end\n"
                         "return 'yielded'", &yielder);
    start_code(&e, NULL, "local core = require 'switchboard.core'\n"
                         "core.sleep(0.01)\n"
                         "stop = true\n"
                         "return 'stopped'", &stopper);
    run_until(&e, &stopper.done);
    run_until(&e, &spin.done);
    run_until(&e, &yielder.done);
    assert_string_equal(stopper.results, "stopped");
    assert_string_equal(spin.results, "true");
    assert_string_equal(yielder.results, "yielded");
    env_stop(&e);
}

static void test_lua_sessions_interleave(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t a, b;
    start_code(&e, NULL, "local core = require 'switchboard.core'\n"
                         "order = (order or '') .. 'a1'\n"
                         "core.sleep(0.05)\n"
                         "order = order .. 'a2'\n"
                         "return order", &a);
    start_code(&e, NULL, "local core = require 'switchboard.core'\n"
                         "order = order .. 'b1'\n"
                         "core.sleep(0.01)\n"
                         "order = order .. 'b2'\n"
                         "return order", &b);
    run_until(&e, &a.done);
    assert_string_equal(b.results, "a1b1b2");
    assert_string_equal(a.results, "a1b1b2a2");
    env_stop(&e);
}

static void test_lua_cancel_resumes_with_hangup(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t o;
    sb_lua_session_t *s = start_code(&e, "CAcancel",
        "local core = require 'switchboard.core'\n"
        "local a, b = core.sleep(30)\n"
        "local c, d = core.sleep(30)\n"        /* dead: must not wait */
        "return a, b, c, d", &o);
    assert_int_equal(o.done, 0);
    sb_lua_session_cancel(s, SB_EHANGUP);
    /* The coroutine ran to its end inside cancel. */
    assert_int_equal(o.done, 1);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.results, "nil|hangup|nil|hangup");
    env_stop(&e);                           /* the timer handle closed */
}

static void test_lua_cancel_reason_is_passed(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t o;
    sb_lua_session_t *s = start_code(&e, NULL,
        "return require('switchboard.core').sleep(30)", &o);
    sb_lua_session_cancel(s, SB_ETIMEDOUT);
    assert_string_equal(o.results, "nil|timeout");
    env_stop(&e);
}

static void test_lua_close_session_closes_coroutine(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t o;
    sb_lua_session_t *s = start_code(&e, NULL,
        "local guard <close> = setmetatable({}, { __close = function ()\n"
        "  closed_flag = 'closed' end })\n"
        "require('switchboard.core').sleep(30)\n"
        "reached = true", &o);
    sb_lua_session_close(s);
    assert_int_equal(o.done, 1);
    assert_int_equal(o.status, SB_ECANCELED);
    eval(&e, "return closed_flag, reached", "closed|nil");
    env_stop(&e);
}

static void test_lua_runtime_close_closes_live_sessions(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t o1, o2;
    start_code(&e, NULL, "require('switchboard.core').sleep(30)", &o1);
    start_code(&e, NULL, "coroutine.yield() require('switchboard.core').sleep(30)",
               &o2);
    env_stop(&e);
    assert_int_equal(o1.done, 1);
    assert_int_equal(o1.status, SB_ECANCELED);
    assert_int_equal(o2.done, 1);
    assert_int_equal(o2.status, SB_ECANCELED);
}

static void test_lua_bare_yield_goes_back_to_loop(void **state)
{
    env_t e;
    env_start(&e, NULL);
    outcome_t o;
    start_code(&e, NULL, "local n = 0\n"
                         "for i = 1, 3 do coroutine.yield(i); n = n + 1 end\n"
                         "return n", &o);
    assert_int_equal(o.done, 0);
    run_until(&e, &o.done);
    assert_string_equal(o.results, "3");
    env_stop(&e);
}

static void test_lua_wait_outside_session_raises(void **state)
{
    env_t e;
    env_start(&e, NULL);
    /* Inside a user coroutine the primitive cannot reach the scheduler. */
    eval(&e, "local co = coroutine.create(function ()\n"
             "  return require('switchboard.core').sleep(1) end)\n"
             "local ok, err = coroutine.resume(co)\n"
             "return ok, err:match('outside a session') ~= nil",
         "false|true");
    env_stop(&e);
}

static void test_lua_session_error_is_contained(void **state)
{
    env_t e;
    env_start(&e, NULL);
    capture_log(&e);
    outcome_t o;
    start_code(&e, "CAerr", "local function inner() error('boom here') end\n"
                            "inner()", &o);
    assert_int_equal(o.done, 1);
    assert_int_equal(o.status, SB_ESCRIPT);
    assert_non_null(strstr(o.msg, "boom here"));
    assert_non_null(strstr(o.msg, "stack traceback"));
    assert_non_null(strstr(o.msg, "inner"));
    assert_non_null(strstr(read_log(&e), "[CAerr] lua: session failed"));
    eval(&e, "return 'still alive'", "still alive");
    env_stop(&e);
}

static void test_lua_syntax_error_in_session_code(void **state)
{
    env_t e;
    env_start(&e, NULL);
    sb_lua_session_t *s;
    outcome_t o;
    memset(&o, 0, sizeof o);
    assert_int_equal(sb_lua_session_new(e.rt, NULL, on_done, &o, &s), 0);
    char err[256];
    assert_int_equal(sb_lua_session_load(s, "return (", 8, "=x", err, sizeof err),
                     SB_ESYNTAX);
    assert_non_null(strstr(err, "unexpected"));
    sb_lua_session_close(s);
    assert_int_equal(o.status, SB_ECANCELED);
    env_stop(&e);
}

/* ------------------------------------------------------------------------ */
/* Limits                                                                   */
/* ------------------------------------------------------------------------ */

static void test_lua_instruction_limit_stops_loop(void **state)
{
    env_t e;
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.instruction_limit = 200000;
    env_start(&e, &o);
    outcome_t r;
    start_code(&e, "CAspin", "while true do end", &r);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, SB_ELIMIT);
    assert_non_null(strstr(r.msg, "instruction limit exceeded"));

    /* pcall cannot swallow it. */
    start_code(&e, NULL, "while true do pcall(function () while true do end end) end",
               &r);
    assert_int_equal(r.status, SB_ELIMIT);

    /* Nor can spawning coroutines. */
    start_code(&e, NULL, "while true do\n"
                         "  coroutine.resume(coroutine.create(function ()\n"
                         "    for i = 1, 150000 do end end))\n"
                         "end", &r);
    assert_int_equal(r.status, SB_ELIMIT);

    /* The budget is per resume: waiting code gets a fresh one each time. */
    eval(&e, "local core = require 'switchboard.core'\n"
             "for round = 1, 3 do\n"
             "  for i = 1, 40000 do end\n"
             "  core.sleep(0)\n"
             "end\n"
             "return 'ok'", "ok");
    env_stop(&e);
}

/* Issue 23: time spent inside C functions (string.rep, gsub) runs no VM
 * instruction, so a loop of big C calls took 5-12 s within the
 * instruction budget. The per-resume deadline is checked at every call.
 * The bound on the elapsed time is generous: the regression ran for
 * minutes. */
static void test_lua_time_limit_stops_c_heavy_loop(void **state)
{
    env_t e;
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.time_limit_ms = 200;
    env_start(&e, &o);
    outcome_t r;
    uint64_t t0 = uv_hrtime();
    start_code(&e, "CArep", "local s = string.rep('x', 1024 * 1024)\n"
                            "while true do local t = s:rep(8) end", &r);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, SB_ELIMIT);
    assert_non_null(strstr(r.msg, "time limit exceeded"));
    assert_true(uv_hrtime() - t0 < 5000000000u);

    t0 = uv_hrtime();
    start_code(&e, NULL, "local s = string.rep('ab', 512 * 1024)\n"
                         "while true do\n"
                         "  pcall(function () local t = s:gsub('a', 'cc') end)\n"
                         "end", &r);
    assert_int_equal(r.status, SB_ELIMIT);
    assert_non_null(strstr(r.msg, "time limit exceeded"));
    assert_true(uv_hrtime() - t0 < 5000000000u);

    /* Waiting code gets a fresh deadline at each resume. */
    eval(&e, "local core = require 'switchboard.core'\n"
             "local s = string.rep('x', 1024 * 1024)\n"
             "for round = 1, 3 do\n"
             "  local t = s:rep(4)\n"
             "  core.sleep(0.15)\n"
             "end\n"
             "return 'ok'", "ok");
    env_stop(&e);
}

static void test_lua_memory_cap_is_contained(void **state)
{
    env_t e;
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.memory_limit = 8u * 1024 * 1024;
    env_start(&e, &o);
    outcome_t r;
    start_code(&e, "CAmem", "local t = {}\n"
                            "for i = 1, 1e8 do t[i] = { i, tostring(i) } end", &r);
    assert_int_equal(r.done, 1);
    assert_int_equal(r.status, SB_ENOMEM);
    assert_true(sb_lua_memory(e.rt) <= o.memory_limit);

    /* A string past the cap is refused too. */
    eval(&e, "local ok, err = pcall(string.rep, 'x', 64 * 1024 * 1024)\n"
             "return ok, err", "false|not enough memory");

    /* And the state goes on working. */
    eval(&e, "collectgarbage() return 6 * 7", "42");
    assert_true(sb_lua_memory(e.rt) < 4u * 1024 * 1024);
    env_stop(&e);
}

/* ------------------------------------------------------------------------ */
/* Sandbox and plugins                                                      */
/* ------------------------------------------------------------------------ */

static const char *const basic_paths[] = {FIXTURE_PLUGINS "/basic"};

static void test_lua_sandbox_hides_dangerous_globals(void **state)
{
    env_t e;
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.plugin_paths = basic_paths;
    o.plugin_path_count = 1;
    env_start(&e, &o);
    char err[512];
    assert_int_equal(sb_lua_load_plugins(e.rt, err, sizeof err), 0);
    eval(&e, "return require('switchboard.plugins').default:fire('probe')",
         "nil,nil,nil,nil,nil,nil,nil,function,false,function,function,"
         "function,table,function,probe");
    eval(&e, "return require('switchboard.plugins').default:fire('string_mt')",
         "false");
    /* The trusted state is trimmed as well. */
    eval(&e, "return type(io), type(os.execute), type(os.exit), type(dofile),\n"
             "  type(loadfile), type(package.loadlib), package.cpath",
         "nil|nil|nil|nil|nil|nil|");
    env_stop(&e);
}

static const char *const loadtime_paths[] = {FIXTURE_PLUGINS "/loadtime"};

static void test_lua_plugin_load_failures_are_contained(void **state)
{
    env_t e;
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.plugin_paths = loadtime_paths;
    o.plugin_path_count = 1;
    o.instruction_limit = 500000;
    env_start(&e, &o);
    capture_log(&e);
    char err[1024];
    assert_int_equal(sb_lua_load_plugins(e.rt, err, sizeof err), 2);
    char *log = read_log(&e);
    assert_non_null(strstr(log, "plugin spins: runtime error"));
    assert_non_null(strstr(log, "instruction limit exceeded"));
    assert_non_null(strstr(log, "plugin waits: runtime error"));
    assert_non_null(strstr(log, "outside a session"));
    eval(&e, "local m = require('switchboard.plugins').default\n"
             "return m:verb('Ok') ~= nil, m.loaded.spins, m.loaded.waits",
         "true|nil|nil");
    env_stop(&e);
}

static void test_lua_shipped_plugins_load(void **state)
{
    env_t e;
    static const char *const paths[] = {PLUGINS_PATH};
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.plugin_paths = paths;
    o.plugin_path_count = 1;
    o.plugin_options = "{ visual_designer = { keep_unknown = true } }";
    env_start(&e, &o);
    char err[1024];
    int failed = sb_lua_load_plugins(e.rt, err, sizeof err);
    if (failed)
        fail_msg("%s", err);
    eval(&e, "local m = require('switchboard.plugins').default\n"
             "local names = {}\n"
             "for _, p in ipairs(m:list()) do names[#names + 1] = p.name end\n"
             "return table.concat(names, ','), m:verb('Pause').plugin",
         "rcml.dial,rcml.email,rcml.gather,rcml.hangup,rcml.pause,rcml.play,"
         "rcml.record,rcml.redirect,rcml.reject,"
         "rcml.say,rcml.sms,refer,"
         "visual_designer|rcml.pause");
    env_stop(&e);
}

static const char *const hook_paths[] = {FIXTURE_PLUGINS "/hooks"};

static void test_lua_hooks_priority_first_non_nil_and_errors(void **state)
{
    env_t e;
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.plugin_paths = hook_paths;
    o.plugin_path_count = 1;
    env_start(&e, &o);
    capture_log(&e);
    char err[512];
    assert_int_equal(sb_lua_load_plugins(e.rt, err, sizeof err), 0);
    outcome_t r;
    start_code(&e, "CAhooks", "local t = {}\n"
        "local r = require('switchboard.plugins').default:fire('ev', t)\n"
        "return r, table.concat(t, ',')", &r);
    run_until(&e, &r.done);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.results, "a0-won|c20,a10,b5,a0");
    char *log = read_log(&e);
    char *line = strstr(log, "plugin c_bad: hook ev failed");
    assert_non_null(line);
    assert_non_null(strstr(line, "c exploded"));
    /* The line carries the session's call SID. */
    while (line > log && line[-1] != '\n')
        line--;
    assert_non_null(strstr(line, "[CAhooks]"));
    env_stop(&e);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_lua_reload_keeps_old_version_on_error(void **state)
{
    char dir[] = "/tmp/sb_test_lua_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[512];
    snprintf(path, sizeof path, "%s/a.lua", dir);
    write_file(path, "plugin:hook('v', function () return 'v1' end)\n");
    const char *paths[] = {dir};

    env_t e;
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.plugin_paths = paths;
    o.plugin_path_count = 1;
    env_start(&e, &o);
    char err[1024];
    assert_int_equal(sb_lua_load_plugins(e.rt, err, sizeof err), 0);
    const char *fire = "return require('switchboard.plugins').default:fire('v')";
    eval(&e, fire, "v1");

    write_file(path, "plugin:hook('v', function () return 'v2' end\n");
    assert_int_equal(sb_lua_reload(e.rt, "a", err, sizeof err), SB_ESYNTAX);
    assert_non_null(strstr(err, "plugin a: syntax error"));
    eval(&e, fire, "v1");

    write_file(path, "plugin:hook('v', function () return 'v3' end)\n"
                     "error('not today')\n");
    assert_int_equal(sb_lua_reload(e.rt, "a", err, sizeof err), SB_EINVAL);
    assert_non_null(strstr(err, "not today"));
    eval(&e, fire, "v1");

    write_file(path, "plugin:hook('v', function () return 'v4' end)\n");
    assert_int_equal(sb_lua_reload(e.rt, "a", err, sizeof err), 0);
    eval(&e, fire, "v4");

    assert_int_equal(sb_lua_reload(e.rt, "nope", err, sizeof err), SB_ENOENT);

    /* A rescan picks up a new file and drops a deleted one. */
    char path_b[512];
    snprintf(path_b, sizeof path_b, "%s/b.lua", dir);
    write_file(path_b, "plugin:hook('w', function () return 'b' end)\n");
    unlink(path);
    assert_int_equal(sb_lua_reload(e.rt, NULL, err, sizeof err), 0);
    eval(&e, "local m = require('switchboard.plugins').default\n"
             "return m:fire('v'), m:fire('w')", "nil|b");
    unlink(path_b);
    rmdir(dir);
    env_stop(&e);
}

/* ------------------------------------------------------------------------ */
/* RCML parse binding                                                       */
/* ------------------------------------------------------------------------ */

static void test_lua_rcml_parse_binding(void **state)
{
    env_t e;
    env_start(&e, NULL);
    eval(&e, "local core = require 'switchboard.core'\n"
             "local t = core.rcml_parse([[<Response><Say voice='woman'>Hi"
             "</Say><Gather><Pause length='2'/></Gather></Response>]])\n"
             "local g = t.children[2]\n"
             "return t.name, #t.children, t.children[1].text,\n"
             "  t.children[1].attrs.voice, g.children[1].attrs.length,\n"
             "  t.children[1].line",
         "Response|2|Hi|woman|2|1");
    eval(&e, "local core = require 'switchboard.core'\n"
             "local a, r1 = core.rcml_parse('nope')\n"
             "local b, r2 = core.rcml_parse('<html/>')\n"
             "local c, r3 = core.rcml_parse(string.rep(' ', 2 * 1024 * 1024))\n"
             "local d, r4, m4 = core.rcml_parse('<Response/>', { max_bytes = 4 })\n"
             "return r1, r2, r3, r4, m4:match('limit') ~= nil",
         "syntax|invalid-rcml|too-big|too-big|true");
    env_stop(&e);
}

/* ------------------------------------------------------------------------ */
/* Call binding                                                             */
/* ------------------------------------------------------------------------ */

static void test_lua_call_binding_fields_and_methods(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "ID0-CAcall");

    outcome_t o;
    sb_lua_session_t *s;
    memset(&o, 0, sizeof o);
    assert_int_equal(sb_lua_session_new(e.rt, c.sid, on_done, &o, &s), 0);
    c.session = s;
    const char *code =
        "local call, same = ...\n"
        "local from = call.from\n"
        "local before = call.status .. ',' .. tostring(call.answered)\n"
        "local p = call:params()\n"
        "local ok = call:answer()\n"
        "local after = call.status .. ',' .. tostring(call.answered)\n"
        "local paused = call:pause(0.01)\n"
        "local h = call:hangup()\n"
        "local p2, p2err = call:pause(5)\n"
        "local h2, h2err = call:hangup()\n"
        "return rawequal(call, same), call.sid, from, before, p[1][1],\n"
        "  p[#p][1], ok, after, paused, h, p2err, h2err, call.alive,\n"
        "  call.status, tostring(call), getmetatable(call),\n"
        "  (pcall(function () call.sid = 'x' end))";
    char err[256];
    assert_int_equal(sb_lua_session_load(s, code, strlen(code), "=c", err,
                                         sizeof err), 0);
    lua_State *co = sb_lua_session_thread(s);
    sb_lua_call_push(e.rt, co, &c, &fake_call_ops);
    sb_lua_call_push(e.rt, co, &c, &fake_call_ops);
    assert_int_equal(c.refs, 1);            /* one userdata, one ref */
    assert_int_equal(sb_lua_session_start(s, 2), 0);
    run_until(&e, &o.done);
    assert_int_equal(o.status, 0);
    assert_string_equal(o.results,
        "true|ID0-CAcall|bob|ringing,false|CallSid|SipHeader_X-Test|true|"
        "in-progress,true|true|true|hangup|hangup|false|completed|"
        "sb.call: ID0-CAcall (ended)|sb.call|false");
    assert_int_equal(c.answers, 1);
    assert_int_equal(c.hangups, 1);
    assert_int_equal(c.refs, 0);            /* dropped when the call ended */
    fake_call_close(&c);
    env_stop(&e);
}

static void test_lua_call_gc_drops_reference(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "CAgc");
    outcome_t o;
    sb_lua_session_t *s;
    memset(&o, 0, sizeof o);
    assert_int_equal(sb_lua_session_new(e.rt, NULL, on_done, &o, &s), 0);
    const char *code = "local call = ... return call.sid";
    assert_int_equal(sb_lua_session_load(s, code, strlen(code), "=c", NULL, 0), 0);
    sb_lua_call_push(e.rt, sb_lua_session_thread(s), &c, &fake_call_ops);
    assert_int_equal(c.refs, 1);
    sb_lua_session_start(s, 1);
    assert_string_equal(o.results, "CAgc");
    eval(&e, "collectgarbage() collectgarbage() return 1", "1");
    assert_int_equal(c.refs, 0);            /* __gc dropped it, no hangup */
    assert_int_equal(c.hangups, 0);
    fake_call_close(&c);
    env_stop(&e);
}

static void test_lua_call_remote_hangup_cancels_answer(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "CAremote");
    c.answer_delay_ms = 60000;
    outcome_t o;
    sb_lua_session_t *s;
    memset(&o, 0, sizeof o);
    assert_int_equal(sb_lua_session_new(e.rt, c.sid, on_done, &o, &s), 0);
    c.session = s;
    const char *code = "local call = ...\n"
                       "local ok, err = call:answer()\n"
                       "return ok, err, call.alive, call:params()";
    assert_int_equal(sb_lua_session_load(s, code, strlen(code), "=c", NULL, 0), 0);
    sb_lua_call_push(e.rt, sb_lua_session_thread(s), &c, &fake_call_ops);
    sb_lua_session_start(s, 1);
    assert_int_equal(o.done, 0);
    assert_int_equal(c.refs, 2);            /* handle + pending answer */
    fake_call_remote_hangup(&c);
    assert_int_equal(o.done, 1);
    assert_string_equal(o.results, "nil|hangup|false|nil|hangup");
    assert_int_equal(c.refs, 0);
    fake_call_close(&c);
    env_stop(&e);
}

/* Runs code on fake call c in a new session (the call as its argument);
 * with wait, until the session ends. */
static void run_on_call(env_t *e, fake_call_t *c, const char *code,
                        outcome_t *o, int wait)
{
    sb_lua_session_t *s;
    memset(o, 0, sizeof *o);
    assert_int_equal(sb_lua_session_new(e->rt, c->sid, on_done, o, &s), 0);
    c->session = s;
    char err[512];
    if (sb_lua_session_load(s, code, strlen(code), "=play", err, sizeof err) != 0)
        fail_msg("load: %s", err);
    sb_lua_call_push(e->rt, sb_lua_session_thread(s), c, &fake_call_ops);
    assert_int_equal(sb_lua_session_start(s, 1), 0);
    if (wait) {
        run_until(e, &o->done);
        c->session = NULL;              /* freed with its done */
        if (o->status != 0)
            fail_msg("session failed: %s", o->msg);
    }
}

/* call:play waits for the sound and returns true and an info table; the
 * options reach the call as given (loop defaults to 1). */
static void test_lua_call_play_success_returns_info(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "CAplay");
    c.play_delay_ms = 30;
    outcome_t o;
    run_on_call(&e, &c,
        "local call = ...\n"
        "local before = tostring(call.answered)\n"
        "local ok, info = call:play{ url = 'http://x/a.wav', loop = 2 }\n"
        "local n = 0 for _ in pairs(info) do n = n + 1 end\n"
        "return before, ok, type(info), n, call.answered", &o, 1);
    assert_string_equal(o.results, "false|true|table|0|true");
    assert_int_equal(c.plays, 1);
    assert_string_equal(c.last_play, "url=http://x/a.wav;loop=2");

    /* Text with a language the synthesizer did not know. */
    fake_call_play_result(&c, 0, NULL, 0, 1);
    run_on_call(&e, &c,
        "local call = ...\n"
        "local ok, info = call:play{ text = 'Hallo', voice = 'woman',\n"
        "                            language = 'xx-XX' }\n"
        "return ok, info.language_fallback", &o, 1);
    assert_string_equal(o.results, "true|true");
    assert_string_equal(c.last_play, "text=Hallo|woman|xx-XX;loop=1");

    fake_call_play_result(&c, 0, NULL, 0, 0);
    run_on_call(&e, &c,
        "local call = ...\n"
        "local a = call:play{ tone = 'ringback:de', ms = 500 }\n"
        "local b = call:play{ digits = '12w#', loop = 0 }\n"
        "local d = call:play('http://x/short.wav')\n"
        "return a, b, d", &o, 1);
    assert_string_equal(o.results, "true|true|true");
    assert_int_equal(c.plays, 5);
    assert_string_equal(c.last_play, "url=http://x/short.wav;loop=1");
    assert_int_equal(c.refs, 1);            /* only the handle's */
    fake_call_close(&c);
    env_stop(&e);
}

/* A failure comes back as nil, reason, detail; misuse raises. */
static void test_lua_call_play_failure_gives_reason_and_detail(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "CAplayfail");
    fake_call_play_result(&c, SB_ENOENT, "HTTP 404 from http://x/y.wav", 404, 0);
    outcome_t o;
    run_on_call(&e, &c,
        "local call = ...\n"
        "local ok, reason, detail = call:play{ url = 'http://x/y.wav' }\n"
        "return ok, reason, detail", &o, 1);
    assert_string_equal(o.results, "nil|not-found|HTTP 404 from http://x/y.wav");

    fake_call_play_result(&c, SB_EFORMAT, "http://x/z.wav: not a WAV or MP3 file",
                          0, 0);
    run_on_call(&e, &c,
        "local call = ...\n"
        "return call:play{ url = 'http://x/z.wav' }", &o, 1);
    assert_string_equal(o.results, "nil|format|http://x/z.wav: not a WAV or MP3 file");

    /* Refused at once (not an http, https or file URL). */
    int plays = c.plays;
    run_on_call(&e, &c,
        "local call = ...\n"
        "return call:play{ url = 'ftp://x/a.wav' }", &o, 1);
    assert_string_equal(o.results, "nil|forbidden|ftp://x/a.wav: not permitted");
    assert_int_equal(c.plays, plays);

    run_on_call(&e, &c,
        "local call = ...\n"
        "local function err(t)\n"
        "  local ok, msg = pcall(call.play, call, t)\n"
        "  return ok and 'no error' or (msg:match('call:play: [^(]*') or msg)\n"
        "end\n"
        "return err{ url = 'http://a', text = 'b' }, err{},\n"
        "  err{ tone = 'beep', loop = -1 }, err{ text = '' },\n"
        "  err{ url = 42 }", &o, 1);
    assert_string_equal(o.results,
        "call:play: give only one of url, text, tone and digits|"
        "call:play: nothing to play |"
        "call:play: loop must be an integer in 0..10000|"
        "call:play: text must not be empty|"
        "call:play: url must be a string, got number");
    assert_int_equal(c.plays, plays);
    fake_call_close(&c);
    env_stop(&e);
}

/* The caller hangs up while a play waits: the play is cancelled and the
 * session sees nil, "hangup"; no reference is left. */
static void test_lua_call_play_hangup_cancels(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "CAplayhup");
    c.play_delay_ms = 60000;
    outcome_t o;
    run_on_call(&e, &c,
        "local call = ...\n"
        "local ok, err = call:play{ url = 'http://x/long.wav', loop = 0 }\n"
        "local ok2, err2 = call:play{ tone = 'beep' }\n"
        "return ok, err, ok2, err2, call.alive", &o, 0);
    assert_int_equal(o.done, 0);
    assert_int_equal(c.plays, 1);
    assert_int_equal(c.refs, 2);            /* handle + pending play */
    fake_call_remote_hangup(&c);
    assert_int_equal(o.done, 1);
    assert_string_equal(o.results, "nil|hangup|nil|hangup|false");
    assert_int_equal(c.play_cancels, 1);
    assert_int_equal(c.plays, 1);
    assert_int_equal(c.refs, 0);
    fake_call_close(&c);
    env_stop(&e);
}

/* call:prefetch starts what it can and returns at once. */
static void test_lua_call_prefetch_starts_usable_items(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "CAprefetch");
    outcome_t o;
    run_on_call(&e, &c,
        "local call = ...\n"
        "local n = call:prefetch{ { url = 'http://x/1.wav' },\n"
        "  { text = 'Welcome', voice = 'man', language = 'en' },\n"
        "  { url = 'ftp://x/2.wav' }, 42, { other = 1 }, { url = {} } }\n"
        "local empty = call:prefetch{}\n"
        "local ok = pcall(call.prefetch, call, 'http://x/1.wav')\n"
        "return n, empty, ok, call.status", &o, 1);
    assert_string_equal(o.results, "2|0|false|ringing");
    assert_string_equal(c.prefetched, "http://x/1.wav,Welcome");
    assert_int_equal(c.plays, 0);           /* nothing played or answered */
    fake_call_close(&c);
    env_stop(&e);
}

/* call:pause on an answered call is silence on the media clock; before
 * the answer it is a timer and does not answer. */
static void test_lua_call_pause_plays_silence_when_answered(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "CApause");
    outcome_t o;
    run_on_call(&e, &c,
        "local call = ...\n"
        "local a = call:pause(0.02)\n"
        "local st = call.status\n"
        "call:answer()\n"
        "local b = call:pause(0.03)\n"
        "return a, st, b", &o, 1);
    assert_string_equal(o.results, "true|ringing|true");
    assert_int_equal(c.plays, 1);
    assert_string_equal(c.last_play, "silence=30;loop=1");
    fake_call_close(&c);
    env_stop(&e);
}

/* Session A hangs up call B while B waits: B's resume must be queued, not
 * run inside A (sb_lua_resume asserts against that). */
static void test_lua_cross_session_completion_is_queued(void **state)
{
    env_t e;
    env_start(&e, NULL);
    fake_call_t cb;
    fake_call_init(&cb, &e.loop, e.rt, "CAb");
    outcome_t ob, oa;
    sb_lua_session_t *sb_, *sa;
    memset(&ob, 0, sizeof ob);
    memset(&oa, 0, sizeof oa);
    assert_int_equal(sb_lua_session_new(e.rt, "CAb", on_done, &ob, &sb_), 0);
    cb.session = sb_;
    const char *code_b = "local call = ...\n"
                         "local ok, err = call:pause(30)\n"
                         "trace = (trace or '') .. 'B:' .. tostring(err) .. ';'\n"
                         "return err";
    sb_lua_session_load(sb_, code_b, strlen(code_b), "=b", NULL, 0);
    sb_lua_call_push(e.rt, sb_lua_session_thread(sb_), &cb, &fake_call_ops);
    sb_lua_session_start(sb_, 1);

    assert_int_equal(sb_lua_session_new(e.rt, "CAa", on_done, &oa, &sa), 0);
    const char *code_a = "local other = ...\n"
                         "other:hangup()\n"
                         "trace = (trace or '') .. 'A:after-hangup;'\n"
                         "require('switchboard.core').sleep(0)\n"
                         "return trace";
    sb_lua_session_load(sa, code_a, strlen(code_a), "=a", NULL, 0);
    sb_lua_call_push(e.rt, sb_lua_session_thread(sa), &cb, &fake_call_ops);
    sb_lua_session_start(sa, 1);
    run_until(&e, &oa.done);
    assert_string_equal(ob.results, "hangup");
    assert_string_equal(oa.results, "A:after-hangup;B:hangup;");
    fake_call_close(&cb);
    env_stop(&e);
}

/* ------------------------------------------------------------------------ */
/* http.request on a local server                                           */
/* ------------------------------------------------------------------------ */

typedef struct app_s {
    sb_http_server_t *srv;
    int port;
    int requests;
    sb_http_req_t *held;        /* a request left unanswered */
    char last_method[8];
    char last_call_sid[96];
    char last_from[32];
    char last_header[32];
    char paths[512];
    int closed;
} app_t;

static void on_app_request(sb_http_req_t *req, void *arg)
{
    app_t *a = arg;
    a->requests++;
    const char *path = sb_http_req_path(req);
    size_t n = strlen(a->paths);
    snprintf(a->paths + n, sizeof a->paths - n, "%s%s", n ? "," : "", path);
    snprintf(a->last_method, sizeof a->last_method, "%s", sb_http_req_method(req));
    const char *v = sb_http_req_param(req, "CallSid");
    snprintf(a->last_call_sid, sizeof a->last_call_sid, "%s", v ? v : "");
    v = sb_http_req_param(req, "From");
    snprintf(a->last_from, sizeof a->last_from, "%s", v ? v : "");
    v = sb_http_req_header(req, "X-Test-Header");
    snprintf(a->last_header, sizeof a->last_header, "%s", v ? v : "");

    if (strcmp(path, "/slow") == 0) {
        a->held = req;
        return;
    }
    if (strcmp(path, "/echo") == 0) {
        const char *q = sb_http_req_param(req, "A");
        char body[128];
        snprintf(body, sizeof body, "%s A=%s", sb_http_req_method(req), q ? q : "");
        sb_http_resp_header(req, "X-Reply", "yes");
        sb_http_respond(req, 201, "text/plain", body, strlen(body));
        return;
    }
    if (strcmp(path, "/app/start.xml") == 0) {
        const char *x = "<Response><Bogus/><Pause length=\"0\"/>"
                        "<Redirect>next.xml</Redirect></Response>";
        sb_http_respond(req, 200, "text/xml", x, strlen(x));
        return;
    }
    if (strcmp(path, "/app/big.xml") == 0) {
        size_t n = 10u * 1024 * 1024;
        char *x = malloc(n);
        memset(x, ' ', n);
        memcpy(x, "<Response>", 10);
        memcpy(x + n - 11, "</Response>", 11);
        sb_http_respond(req, 200, "text/xml", x, n);
        free(x);
        return;
    }
    if (strcmp(path, "/app/spin.xml") == 0) {
        const char *x = "<Response><Spin/><Pause length=\"30\"/></Response>";
        sb_http_respond(req, 200, "text/xml", x, strlen(x));
        return;
    }
    if (strcmp(path, "/app/next.xml") == 0) {
        const char *x = "<Response><Reject reason=\"busy\"/></Response>";
        sb_http_respond(req, 200, "application/xml", x, strlen(x));
        return;
    }
    sb_http_respond(req, 404, "text/plain", "no", 2);
}

static void app_start(env_t *e, app_t *a)
{
    memset(a, 0, sizeof *a);
    sb_http_server_opts_t so;
    memset(&so, 0, sizeof so);
    so.close_grace_ms = 100;
    assert_int_equal(sb_http_server_new(&e->loop, &so, on_app_request, a, &a->srv),
                     0);
    assert_int_equal(sb_http_server_listen(a->srv), 0);
    a->port = sb_http_server_port(a->srv);
}

static void on_app_closed(void *arg)
{
    ((app_t *)arg)->closed = 1;
}

static void app_stop(env_t *e, app_t *a)
{
    if (a->held) {
        sb_http_respond(a->held, 200, "text/plain", "late", 4);
        a->held = NULL;
    }
    sb_http_server_close(a->srv, on_app_closed, a);
    run_until(e, &a->closed);
}

static void test_lua_http_request_against_local_server(void **state)
{
    env_t e;
    env_start(&e, NULL);
    app_t a;
    app_start(&e, &a);
    char code[1024];
    snprintf(code, sizeof code,
        "local core = require 'switchboard.core'\n"
        "local base = 'http://127.0.0.1:%d'\n"
        "local r = core.http_request{ url = base .. '/echo', method = 'POST',\n"
        "  params = { { 'A', 'x y' } }, headers = { ['X-Test-Header'] = 'h1' } }\n"
        "local g = core.http_request{ url = base .. '/echo', params = { A = 7 } }\n"
        "local nf = core.http_request{ url = base .. '/missing' }\n"
        "local bad, why = core.http_request{ url = 'ftp://x' }\n"
        "local dead, dwhy = core.http_request{ url = 'http://127.0.0.1:1/',\n"
        "  timeout = 2 }\n"
        "return r.status, r.body, r.headers['x-reply'], r.content_type,\n"
        "  g.body, nf.status, why, dwhy",
        a.port);
    outcome_t o;
    start_code(&e, NULL, code, &o);
    run_until(&e, &o.done);
    if (o.status != 0)
        fail_msg("%s", o.msg);
    assert_string_equal(o.results,
        "201|POST A=x y|yes|text/plain|GET A=7|404|invalid|network");
    assert_string_equal(a.last_header, "");   /* the last request had none */
    app_stop(&e, &a);
    env_stop(&e);
}

static void test_lua_http_request_timeout_and_hangup(void **state)
{
    env_t e;
    env_start(&e, NULL);
    app_t a;
    app_start(&e, &a);
    char code[512];
    snprintf(code, sizeof code,
        "local core = require 'switchboard.core'\n"
        "return core.http_request{ url = 'http://127.0.0.1:%d/slow',\n"
        "  timeout = 0.2 }", a.port);
    outcome_t o;
    start_code(&e, NULL, code, &o);
    run_until(&e, &o.done);
    assert_int_equal(o.status, 0);
    assert_true(strncmp(o.results, "nil|timeout|", 12) == 0);
    if (a.held) {                           /* answer the abandoned one */
        sb_http_respond(a.held, 200, "text/plain", "x", 1);
        a.held = NULL;
    }

    /* A call that ends while the request waits: nil, "hangup" at once. */
    snprintf(code, sizeof code,
        "local core = require 'switchboard.core'\n"
        "return core.http_request{ url = 'http://127.0.0.1:%d/slow' }", a.port);
    sb_lua_session_t *s = start_code(&e, NULL, code, &o);
    while (a.held == NULL && !e.timed_out)
        uv_run(&e.loop, UV_RUN_ONCE);
    assert_non_null(a.held);
    assert_int_equal(o.done, 0);
    sb_lua_session_cancel(s, SB_EHANGUP);
    assert_int_equal(o.done, 1);
    assert_string_equal(o.results, "nil|hangup");
    app_stop(&e, &a);
    env_stop(&e);
}

/* ------------------------------------------------------------------------ */
/* RCML end to end                                                          */
/* ------------------------------------------------------------------------ */

typedef struct notes_s {
    int count;
    int codes[8];
    char sid[96];
} notes_t;

static void on_notify(const sb_lua_notification_t *n, void *arg)
{
    notes_t *ns = arg;
    if (ns->count < 8)
        ns->codes[ns->count] = n->code;
    ns->count++;
    snprintf(ns->sid, sizeof ns->sid, "%s", n->call_sid ? n->call_sid : "");
}

static void test_lua_rcml_application_end_to_end(void **state)
{
    env_t e;
    static const char *const paths[] = {PLUGINS_PATH,
                                        FIXTURE_PLUGINS "/spinverb"};
    notes_t notes;
    memset(&notes, 0, sizeof notes);
    sb_lua_opts_t o;
    memset(&o, 0, sizeof o);
    o.plugin_paths = paths;
    o.plugin_path_count = 2;
    o.instruction_limit = 1000000;
    o.notify = on_notify;
    o.notify_arg = &notes;
    env_start(&e, &o);
    char err[1024];
    assert_int_equal(sb_lua_load_plugins(e.rt, err, sizeof err), 0);
    app_t a;
    app_start(&e, &a);

    fake_call_t c;
    fake_call_init(&c, &e.loop, e.rt, "ID0-CArcml");
    outcome_t out;
    memset(&out, 0, sizeof out);
    sb_lua_session_t *s;
    assert_int_equal(sb_lua_session_new(e.rt, c.sid, on_done, &out, &s), 0);
    c.session = s;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/app/start.xml", a.port);
    sb_lua_app_t app = {.url = url};
    assert_int_equal(sb_lua_session_start_rcml(s, &c, &fake_call_ops, &app), 0);
    run_until(&e, &out.done);
    if (out.status != 0)
        fail_msg("%s", out.msg);
    assert_string_equal(out.results, "completed");
    assert_string_equal(a.paths, "/app/start.xml,/app/next.xml");
    assert_string_equal(a.last_method, "POST");
    assert_string_equal(a.last_call_sid, "ID0-CArcml");
    assert_string_equal(a.last_from, "bob");
    assert_int_equal(c.rejects, 1);
    assert_int_equal(c.last_reject, 486);
    assert_int_equal(c.hangups, 0);
    assert_int_equal(notes.count, 1);       /* <Bogus/> */
    assert_int_equal(notes.codes[0], 12200);
    assert_string_equal(notes.sid, "ID0-CArcml");
    assert_int_equal(c.refs, 0);

    /* A fetch that fails: 21402, then the call is hung up. */
    fake_call_t c2;
    fake_call_init(&c2, &e.loop, e.rt, "ID0-CAmissing");
    assert_int_equal(sb_lua_session_new(e.rt, c2.sid, on_done, &out, &s), 0);
    memset(&out, 0, sizeof out);
    c2.session = s;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/app/missing.xml", a.port);
    assert_int_equal(sb_lua_session_start_rcml(s, &c2, &fake_call_ops, &app), 0);
    run_until(&e, &out.done);
    assert_string_equal(out.results, "failed");
    assert_int_equal(notes.count, 2);
    assert_int_equal(notes.codes[1], 21402);
    assert_int_equal(c2.hangups, 1);

    /* A verb that never yields: the instruction limit stops the plugin and
     * the interpreter still takes its failure path (12400, hangup). */
    fake_call_t c3;
    fake_call_init(&c3, &e.loop, e.rt, "ID0-CAspin");
    memset(&out, 0, sizeof out);
    assert_int_equal(sb_lua_session_new(e.rt, c3.sid, on_done, &out, &s), 0);
    c3.session = s;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/app/spin.xml", a.port);
    assert_int_equal(sb_lua_session_start_rcml(s, &c3, &fake_call_ops, &app), 0);
    run_until(&e, &out.done);
    if (out.status != 0)
        fail_msg("%s", out.msg);
    assert_string_equal(out.results, "failed");
    assert_int_equal(notes.count, 3);
    assert_int_equal(notes.codes[2], 12400);
    assert_int_equal(c3.hangups, 1);

    /* An application URL that never answers: 11205 after the timeout. */
    fake_call_t c4;
    fake_call_init(&c4, &e.loop, e.rt, "ID0-CAslow");
    memset(&out, 0, sizeof out);
    assert_int_equal(sb_lua_session_new(e.rt, c4.sid, on_done, &out, &s), 0);
    c4.session = s;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", a.port);
    sb_lua_app_t slow = {.url = url, .timeout_ms = 200};
    assert_int_equal(sb_lua_session_start_rcml(s, &c4, &fake_call_ops, &slow), 0);
    run_until(&e, &out.done);
    assert_string_equal(out.results, "failed");
    assert_int_equal(notes.count, 4);
    assert_int_equal(notes.codes[3], 11205);
    assert_int_equal(c4.hangups, 1);
    if (a.held) {
        sb_http_respond(a.held, 200, "text/plain", "x", 1);
        a.held = NULL;
    }

    /* A 10 MB document: the fetch stops at 1 MiB, 11206. */
    fake_call_t c5;
    fake_call_init(&c5, &e.loop, e.rt, "ID0-CAbig");
    memset(&out, 0, sizeof out);
    assert_int_equal(sb_lua_session_new(e.rt, c5.sid, on_done, &out, &s), 0);
    c5.session = s;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/app/big.xml", a.port);
    assert_int_equal(sb_lua_session_start_rcml(s, &c5, &fake_call_ops, &app), 0);
    run_until(&e, &out.done);
    assert_string_equal(out.results, "failed");
    assert_int_equal(notes.count, 5);
    assert_int_equal(notes.codes[4], 11206);
    assert_int_equal(c5.hangups, 1);

    fake_call_close(&c);
    fake_call_close(&c2);
    fake_call_close(&c3);
    fake_call_close(&c4);
    fake_call_close(&c5);
    app_stop(&e, &a);
    env_stop(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lua_new_close_leaves_loop_clean),
        cmocka_unit_test(test_lua_bad_options_are_refused),
        cmocka_unit_test(test_lua_sleep_yields_and_resumes),
        cmocka_unit_test(test_lua_sleep_zero_loop_lets_the_loop_run),
        cmocka_unit_test(test_lua_sessions_interleave),
        cmocka_unit_test(test_lua_cancel_resumes_with_hangup),
        cmocka_unit_test(test_lua_cancel_reason_is_passed),
        cmocka_unit_test(test_lua_close_session_closes_coroutine),
        cmocka_unit_test(test_lua_runtime_close_closes_live_sessions),
        cmocka_unit_test(test_lua_bare_yield_goes_back_to_loop),
        cmocka_unit_test(test_lua_wait_outside_session_raises),
        cmocka_unit_test(test_lua_session_error_is_contained),
        cmocka_unit_test(test_lua_syntax_error_in_session_code),
        cmocka_unit_test(test_lua_instruction_limit_stops_loop),
        cmocka_unit_test(test_lua_time_limit_stops_c_heavy_loop),
        cmocka_unit_test(test_lua_memory_cap_is_contained),
        cmocka_unit_test(test_lua_sandbox_hides_dangerous_globals),
        cmocka_unit_test(test_lua_plugin_load_failures_are_contained),
        cmocka_unit_test(test_lua_shipped_plugins_load),
        cmocka_unit_test(test_lua_hooks_priority_first_non_nil_and_errors),
        cmocka_unit_test(test_lua_reload_keeps_old_version_on_error),
        cmocka_unit_test(test_lua_rcml_parse_binding),
        cmocka_unit_test(test_lua_call_binding_fields_and_methods),
        cmocka_unit_test(test_lua_call_gc_drops_reference),
        cmocka_unit_test(test_lua_call_remote_hangup_cancels_answer),
        cmocka_unit_test(test_lua_call_play_success_returns_info),
        cmocka_unit_test(test_lua_call_play_failure_gives_reason_and_detail),
        cmocka_unit_test(test_lua_call_play_hangup_cancels),
        cmocka_unit_test(test_lua_call_prefetch_starts_usable_items),
        cmocka_unit_test(test_lua_call_pause_plays_silence_when_answered),
        cmocka_unit_test(test_lua_cross_session_completion_is_queued),
        cmocka_unit_test(test_lua_http_request_against_local_server),
        cmocka_unit_test(test_lua_http_request_timeout_and_hangup),
        cmocka_unit_test(test_lua_rcml_application_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
