/*
 * state.c: the one lua_State of the process and its limits.
 *
 * Owns: the allocator with its memory cap, the instruction-count and
 * per-resume deadline hook,
 * sb_lua_resume (the only call of lua_resume), the trimmed standard
 * library, package.path, the runtime's creation and its ordered close,
 * and the C entry points of the plugin loader (which itself is Lua:
 * lua/switchboard/plugins.lua, wired by lua/switchboard/host.lua).
 *
 * Leaves out: sessions and the ready queue (session.c), the Lua-visible
 * functions (lua_api_*.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lua_int.h"

/* ------------------------------------------------------------------------ */
/* Memory                                                                   */
/* ------------------------------------------------------------------------ */

/* Lua's allocator. The cap applies only while Lua runs (rt->enforce_mem):
 * C code that pushes values between resumes runs unprotected, where a
 * failed allocation would be a panic. Frees and shrinks never fail. */
static void *l_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    sb_lua_t *rt = ud;
    if (ptr == NULL)
        osize = 0;              /* osize then encodes the object type */
    if (nsize == 0) {
        free(ptr);
        rt->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && rt->enforce_mem &&
        rt->mem_used - osize + nsize > rt->mem_limit)
        return NULL;
    void *p = realloc(ptr, nsize);
    if (p == NULL)
        return NULL;
    rt->mem_used = rt->mem_used - osize + nsize;
    return p;
}

static int l_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    sb_log_emit(SB_LOG_ERROR, NULL, "lua: unprotected error: %s",
                msg ? msg : "(not a string)");
    abort();
    return 0;
}

sb_lua_t *sb__lua_runtime(lua_State *L)
{
    void *ud = NULL;
    lua_getallocf(L, &ud);
    return ud;
}

size_t sb_lua_memory(const sb_lua_t *rt)
{
    return rt->mem_used;
}

lua_State *sb_lua_state(sb_lua_t *rt)
{
    return rt->L;
}

uv_loop_t *sb_lua_loop(sb_lua_t *rt)
{
    return rt->loop;
}

/* ------------------------------------------------------------------------ */
/* Instruction budget                                                       */
/* ------------------------------------------------------------------------ */

/* Fires every instr_step instructions of a thread. The budget is shared by
 * every thread resumed in one sb_lua_resume, so a loop that spawns user
 * coroutines cannot escape it. Besides the instructions, each resume has
 * a wall-clock deadline, read from a coarse clock at each firing: time
 * spent inside C functions (string.rep, gsub, table.concat) or in one
 * instruction on a large value (a concatenation) is invisible to the
 * count, and the deadline sees it. The period is short (INSTR_STEP) so
 * that at most a few such costly operations run past the deadline; a hook
 * at every call was tried and doubled the cost of calls. Once either
 * limit is spent the hook fires on every instruction and raises in any
 * function that is not part of the shipped library (plugin code, console
 * code): a plugin that catches the error with pcall gets it again at its
 * next instruction. The library's own code (the RCML interpreter, the
 * plugin manager) gets a small grace budget so that it can take its
 * failure path: log, Notification, hang up.
 *
 * One C call is not interrupted: a single pattern match whose cost grows
 * as a power of its subject (several ".-" against a long string) runs to
 * its end. */
#define INSTR_GRACE 200000
#define INSTR_STEP 50
#define HOOK_MASK LUA_MASKCOUNT

static uint64_t coarse_ns(void)
{
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int trusted_frame(sb_lua_t *rt, lua_State *L, lua_Debug *ar)
{
    if (!lua_getinfo(L, "S", ar) || ar->source[0] != '@')
        return 0;
    size_t n = strlen(rt->lib_path);
    return strncmp(ar->source + 1, rt->lib_path, n) == 0 &&
           ar->source[1 + n] == '/';
}

static void on_count(lua_State *L, lua_Debug *ar)
{
    sb_lua_t *rt = sb__lua_runtime(L);
    if (!rt->instr_tripped) {
        /* A user coroutine left in per-instruction mode by an earlier
         * resume comes back to the normal period here. */
        int period = lua_gethookcount(L);
        rt->instr_used += period;
        if (period != rt->instr_step)
            lua_sethook(L, on_count, HOOK_MASK, rt->instr_step);
        int over_budget = rt->instr_used >= rt->instr_limit;
        if (!over_budget && coarse_ns() < rt->deadline_ns)
            return;
        rt->instr_tripped = over_budget ? 1 : 2;
        rt->instr_grace = INSTR_GRACE;
        lua_sethook(L, on_count, HOOK_MASK, 1);
        luaL_error(L, over_budget ? "instruction limit exceeded"
                                  : "time limit exceeded");
    }
    /* Tripped: this thread may not have the per-instruction hook yet. */
    lua_sethook(L, on_count, HOOK_MASK, 1);
    if (trusted_frame(rt, L, ar) && --rt->instr_grace > 0)
        return;
    luaL_error(L, rt->instr_tripped == 2 ? "time limit exceeded"
                                         : "instruction limit exceeded");
}

static void arm_limits(sb_lua_t *rt, lua_State *co)
{
    rt->instr_used = 0;
    rt->instr_tripped = 0;
    rt->deadline_ns = coarse_ns() + rt->time_limit_ns;
    lua_sethook(co, on_count, HOOK_MASK, rt->instr_step);
}

int sb_lua_resume(sb_lua_t *rt, lua_State *co, int nargs, int *nres)
{
    sb_assert(!rt->running);
    arm_limits(rt, co);
    rt->running = 1;
    rt->enforce_mem = 1;
    int st = lua_resume(co, NULL, nargs, nres);
    rt->enforce_mem = 0;
    rt->running = 0;
    return st;
}

void sb__lua_reset_thread(sb_lua_t *rt, lua_State *co)
{
    sb_assert(!rt->running);
    int before = lua_status(co);    /* an error status is returned again */
    arm_limits(rt, co);
    rt->running = 1;
    rt->enforce_mem = 1;
    int st = lua_resetthread(co);
    rt->enforce_mem = 0;
    rt->running = 0;
    if ((before == LUA_OK || before == LUA_YIELD) && st != LUA_OK) {
        /* A __close handler of the closed coroutine failed. */
        const char *msg = lua_tostring(co, -1);
        sb_log_emit(SB_LOG_WARN, NULL, "lua: error while closing a coroutine: %s",
                    msg ? msg : "?");
    }
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int sb__lua_call(sb_lua_t *rt, int nargs, int nres, char *err, size_t errlen)
{
    lua_State *L = rt->L;
    int base = lua_gettop(L) - nargs - 1;   /* below the function */
    lua_State *co = lua_newthread(L);
    lua_insert(L, base + 1);                /* stack: co, fn, args */
    lua_xmove(L, co, nargs + 1);
    int n = 0;
    int st = sb_lua_resume(rt, co, nargs, &n);
    int rc = 0;
    if (st == LUA_OK) {
        if (nres != LUA_MULTRET) {
            lua_settop(co, nres);
            n = nres;
        }
        lua_xmove(co, L, n);
        lua_remove(L, base + 1);            /* the thread */
    } else {
        if (st == LUA_YIELD) {
            set_err(err, errlen, "attempt to yield outside a session");
            rc = SB_EINVAL;
        } else {
            const char *msg = lua_tostring(co, -1);
            luaL_traceback(L, co, msg ? msg : "(error object is not a string)",
                           0);
            set_err(err, errlen, "%s", lua_tostring(L, -1));
            lua_pop(L, 1);
            rc = st == LUA_ERRMEM ? SB_ENOMEM
                 : rt->instr_tripped ? SB_ELIMIT : SB_ESCRIPT;
        }
        sb__lua_reset_thread(rt, co);
        lua_settop(L, base);
    }
    sb__lua_drain(rt);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* The trusted global environment                                           */
/* ------------------------------------------------------------------------ */

static void set_nil(lua_State *L, const char *table, const char *field)
{
    if (table) {
        if (lua_getglobal(L, table) == LUA_TTABLE) {
            lua_pushnil(L);
            lua_setfield(L, -2, field);
        }
        lua_pop(L, 1);
    } else {
        lua_pushnil(L);
        lua_setglobal(L, field);
    }
}

static void trim_stdlib(sb_lua_t *rt, lua_State *L)
{
    luaL_openlibs(L);
    static const char *const os_drop[] = {"execute", "exit", "remove",
                                          "rename", "tmpname", "setlocale"};
    set_nil(L, NULL, "io");
    set_nil(L, NULL, "dofile");
    set_nil(L, NULL, "loadfile");
    for (size_t i = 0; i < SB_COUNTOF(os_drop); i++)
        set_nil(L, "os", os_drop[i]);
    set_nil(L, "package", "loadlib");
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_pushnil(L);
    lua_setfield(L, -2, "io");
    lua_pop(L, 1);

    /* Only our library folder, and no C modules. */
    lua_pushfstring(L, "%s/?.lua;%s/?/init.lua", rt->lib_path, rt->lib_path);
    lua_setfield(L, -2, "path");
    lua_pushliteral(L, "");
    lua_setfield(L, -2, "cpath");
    lua_getfield(L, -1, "searchers");       /* keep preload and Lua files */
    lua_pushnil(L);
    lua_rawseti(L, -2, 4);
    lua_pushnil(L);
    lua_rawseti(L, -2, 3);
    lua_pop(L, 2);

    /* getmetatable("") must not hand plugins the shared string table. */
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

/* Calls require(module)[fn] with nargs arguments already on the stack. */
static int call_module(sb_lua_t *rt, const char *module, const char *fn,
                       int nargs, int nres, char *err, size_t errlen)
{
    lua_State *L = rt->L;
    lua_getglobal(L, "require");
    lua_pushstring(L, module);
    int rc = sb__lua_call(rt, 1, 1, err, errlen);
    if (rc < 0) {
        lua_pop(L, nargs);
        return rc;
    }
    lua_getfield(L, -1, fn);
    lua_remove(L, -2);
    if (!lua_isfunction(L, -1)) {
        lua_pop(L, 1 + nargs);
        set_err(err, errlen, "%s.%s is not a function", module, fn);
        return SB_ENOENT;
    }
    lua_insert(L, -(nargs + 1));
    return sb__lua_call(rt, nargs, nres, err, errlen);
}

int sb_lua_new(uv_loop_t *loop, const sb_lua_opts_t *opts, sb_lua_t **out,
               char *err, size_t errlen)
{
    if (opts == NULL || opts->lib_path == NULL) {
        set_err(err, errlen, "lua: no library path");
        return SB_EINVAL;
    }
    sb_lua_t *rt = SB_NEW(sb_lua_t);
    rt->loop = loop;
    rt->mem_limit = opts->memory_limit ? opts->memory_limit
                                       : SB_LUA_DEFAULT_MEMORY_LIMIT;
    rt->instr_limit = opts->instruction_limit > 0
                          ? opts->instruction_limit
                          : SB_LUA_DEFAULT_INSTRUCTION_LIMIT;
    rt->instr_step = rt->instr_limit < INSTR_STEP ? (int)rt->instr_limit
                                                  : INSTR_STEP;
    rt->time_limit_ns = (uint64_t)(opts->time_limit_ms > 0
                                       ? opts->time_limit_ms
                                       : SB_LUA_DEFAULT_TIME_LIMIT_MS) *
                        1000000u;
    rt->notify = opts->notify;
    rt->notify_arg = opts->notify_arg;
    rt->lib_path = sb_xstrdup(opts->lib_path);
    rt->plugin_options = sb_xstrdup(opts->plugin_options ? opts->plugin_options
                                                         : "{}");
    if (opts->plugin_path_count > 0) {
        rt->plugin_paths = sb_xcalloc((size_t)opts->plugin_path_count,
                                      sizeof(char *));
        for (int i = 0; i < opts->plugin_path_count; i++)
            rt->plugin_paths[i] = sb_xstrdup(opts->plugin_paths[i]);
        rt->plugin_path_count = opts->plugin_path_count;
    }
    rt->http = opts->http;

    lua_State *L = lua_newstate(l_alloc, rt);
    if (L == NULL) {
        free(rt->lib_path);
        free(rt->plugin_options);
        for (int i = 0; i < rt->plugin_path_count; i++)
            free(rt->plugin_paths[i]);
        free(rt->plugin_paths);
        free(rt);
        return SB_ENOMEM;
    }
    rt->L = L;
    lua_atpanic(L, l_panic);
    *(sb_lua_session_t **)lua_getextraspace(L) = NULL;
    trim_stdlib(rt, L);
    sb__lua_inject_call(L);
    sb__lua_inject_input(L);
    sb__lua_inject_conference(L);
    sb__lua_inject_refer(L);

    /* package.loaded["switchboard.core"] */
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "loaded");
    lua_newtable(L);
    sb__lua_inject_core(L);
    sb__lua_inject_rcml(L);
    sb__lua_inject_http(L);
    lua_newtable(L);                        /* core.plugin_paths */
    for (int i = 0; i < rt->plugin_path_count; i++) {
        lua_pushstring(L, rt->plugin_paths[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "plugin_paths");
    lua_setfield(L, -2, "switchboard.core");
    lua_pop(L, 2);

    /* plugins.options: a table constructor evaluated in an empty env. */
    char msg[512] = "";
    char *chunk = sb_xasprintf("return %s", rt->plugin_options);
    int rc = luaL_loadbufferx(L, chunk, strlen(chunk), "=plugins.options", "t");
    free(chunk);
    if (rc == LUA_OK) {
        lua_newtable(L);
        lua_setupvalue(L, -2, 1);           /* _ENV = {} */
        rc = sb__lua_call(rt, 0, 1, msg, sizeof msg);
        if (rc == 0 && !lua_istable(L, -1)) {
            lua_pop(L, 1);
            snprintf(msg, sizeof msg, "not a table");
            rc = SB_EINVAL;
        }
    } else {
        snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        rc = SB_EINVAL;
    }
    if (rc < 0) {
        set_err(err, errlen, "lua: plugins.options: %s", msg);
        goto fail;
    }
    /* stack: options. host.init(options) sets up the plugin manager. */
    rc = call_module(rt, "switchboard.host", "init", 1, 0, msg, sizeof msg);
    if (rc < 0) {
        set_err(err, errlen, "lua: cannot start the Lua library: %s", msg);
        goto fail;
    }
    sb_assert(lua_gettop(L) == 0);
    if (rt->http == NULL)
        sb__lua_http_init(rt);
    *out = rt;
    return 0;

fail:
    /* Nothing asynchronous exists yet: free now. */
    lua_close(L);
    free(rt->lib_path);
    free(rt->plugin_options);
    for (int i = 0; i < rt->plugin_path_count; i++)
        free(rt->plugin_paths[i]);
    free(rt->plugin_paths);
    free(rt);
    return rc == SB_ENOMEM ? SB_ENOMEM : SB_EINVAL;
}

/* ------------------------------------------------------------------------ */
/* Plugins (the manager is lua/switchboard/plugins.lua)                     */
/* ------------------------------------------------------------------------ */

static int kind_to_err(const char *kind)
{
    if (kind && strcmp(kind, "not-found") == 0)
        return SB_ENOENT;
    if (kind && strcmp(kind, "syntax") == 0)
        return SB_ESYNTAX;
    return SB_EINVAL;
}

/* Loads every plugin host.discover() finds, one sb__lua_call per file so
 * that each main chunk has its own instruction budget. With unload, the
 * plugins whose file is gone are unloaded afterwards. Returns the number of
 * failures (or -1 when the library itself failed); *first_err gets the
 * first failure's code and err its message. */
static int load_each(sb_lua_t *rt, int unload, int *first_err, char *err,
                     size_t errlen)
{
    lua_State *L = rt->L;
    char msg[1024] = "";
    *first_err = 0;
    int rc = call_module(rt, "switchboard.host", "discover", 0, 1, msg,
                         sizeof msg);
    if (rc < 0) {
        set_err(err, errlen, "%s", msg);
        *first_err = rc;
        return -1;
    }
    int list = lua_gettop(L);
    lua_newtable(L);
    int names = lua_gettop(L);
    int failed = 0;
    lua_Integer n = (lua_Integer)lua_rawlen(L, list);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "path");            /* stack: entry, name, path */
        const char *name = lua_tostring(L, -2);
        lua_pushvalue(L, -2);
        lua_rawseti(L, names, i);
        lua_pushvalue(L, -2);
        lua_pushvalue(L, -2);
        int code = 0;
        rc = call_module(rt, "switchboard.host", "load_one", 2, 3, msg,
                         sizeof msg);
        if (rc < 0) {
            /* The chunk escaped the manager (instruction limit, memory). */
            code = rc;
            char detail[sizeof msg];
            memcpy(detail, msg, sizeof msg);
            snprintf(msg, sizeof msg, "plugin %s: runtime error: %.900s",
                     name ? name : "?", detail);
            sb_log_emit_plugin(SB_LOG_ERROR, NULL, name, "%s", msg);
            sb_metrics_lua_error(name);
        } else {
            if (!lua_toboolean(L, -3)) {
                code = kind_to_err(lua_tostring(L, -2));
                snprintf(msg, sizeof msg, "%s",
                         lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
            }
            lua_pop(L, 3);
        }
        /* reload(): one line per plugin with its result (a failure is
         * the error line the manager wrote). */
        if (unload && code == 0)
            sb_log_emit_plugin(SB_LOG_INFO, NULL, name, "plugin %s: reloaded",
                               name ? name : "?");
        if (code < 0) {
            if (failed++ == 0) {
                *first_err = code;
                set_err(err, errlen, "%s", msg);
            }
        }
        lua_pop(L, 3);
    }
    if (unload) {
        lua_pushvalue(L, names);
        if (call_module(rt, "switchboard.host", "unload_missing", 1, 0, msg,
                        sizeof msg) < 0)
            sb_log_emit(SB_LOG_ERROR, NULL, "lua: unloading plugins: %s", msg);
    }
    lua_settop(L, list - 1);
    return failed;
}

int sb_lua_load_plugins(sb_lua_t *rt, char *err, size_t errlen)
{
    int first;
    set_err(err, errlen, "%s", "");
    int failed = load_each(rt, 0, &first, err, errlen);
    return failed < 0 ? 1 : failed;
}

int sb_lua_reload(sb_lua_t *rt, const char *name, char *err, size_t errlen)
{
    lua_State *L = rt->L;
    char msg[1024] = "";
    set_err(err, errlen, "%s", "");
    if (name == NULL) {
        int first;
        int failed = load_each(rt, 1, &first, err, errlen);
        return failed == 0 ? 0 : first;
    }
    lua_pushstring(L, name);
    int rc = call_module(rt, "switchboard.host", "reload", 1, 3, msg,
                         sizeof msg);
    if (rc < 0) {
        set_err(err, errlen, "plugin %s: runtime error: %s", name, msg);
        sb_log_emit_plugin(SB_LOG_ERROR, NULL, name, "%s", err ? err : msg);
        sb_metrics_lua_error(name);
        return rc;
    }
    /* true | nil, kind, message */
    if (lua_toboolean(L, -3)) {
        lua_pop(L, 3);
        return 0;
    }
    rc = kind_to_err(lua_tostring(L, -2));
    set_err(err, errlen, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
    lua_pop(L, 3);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Handles and close                                                        */
/* ------------------------------------------------------------------------ */

void sb__lua_handle_open(sb_lua_t *rt)
{
    rt->handles++;
}

static void on_close_timer_closed(uv_handle_t *h)
{
    sb_lua_t *rt = h->data;
    sb_lua_close_cb cb = rt->close_cb;
    void *arg = rt->close_arg;
    free(rt);
    if (cb)
        cb(arg);
}

static void finish_close(sb_lua_t *rt)
{
    if (rt->handles > 0 || rt->close_timer.data != NULL)
        return;
    if (rt->loop == NULL) {
        on_close_timer_closed((uv_handle_t *)&rt->close_timer);
        return;
    }
    rt->close_timer.data = rt;
    uv_timer_init(rt->loop, &rt->close_timer);
    uv_close((uv_handle_t *)&rt->close_timer, on_close_timer_closed);
}

void sb__lua_handle_closed(sb_lua_t *rt)
{
    sb_assert(rt->handles > 0);
    rt->handles--;
    if (rt->closing && rt->handles == 0)
        finish_close(rt);
}

void sb_lua_close(sb_lua_t *rt, sb_lua_close_cb cb, void *arg)
{
    if (rt == NULL || rt->closing)
        return;
    sb_assert(!rt->running);
    rt->closing = 1;
    rt->close_cb = cb;
    rt->close_arg = arg;

    /* Sessions first: their done callbacks may still use the state. */
    while (rt->sessions)
        sb_lua_session_close(rt->sessions);

    if (rt->L) {
        lua_close(rt->L);                   /* runs __gc: call refs drop */
        rt->L = NULL;
    }
    sb__lua_http_close(rt);
    for (int i = 0; i < rt->plugin_path_count; i++)
        free(rt->plugin_paths[i]);
    free(rt->plugin_paths);
    free(rt->plugin_options);
    free(rt->lib_path);
    rt->plugin_paths = NULL;
    rt->plugin_options = NULL;
    rt->lib_path = NULL;
    finish_close(rt);
}
