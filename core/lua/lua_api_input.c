/*
 * lua_api_input.c: what the caller says, for plugins: call:gather{...}
 * (digits and speech; returns a gather object at once, whose :wait()
 * waits for the input to end) and call:record{...} (waits for the
 * recording). See docs/plugin-api.md.
 *
 * A gather is split in two so that the RCML interpreter can run the
 * Gather's nested Say/Play/Pause as ordinary verbs between start and wait:
 * input that comes during them interrupts them (their call:play returns
 * nil, "interrupted") and counts.
 */
#include <string.h>

#include "lua_int.h"

#define GATHER_MT "sb.gather"

/* Owner: Lua (full userdata). g is the C gather until it is freed (after
 * wait's callback, or cancel). */
typedef struct lgather_s {
    void *call;                 /* a reference while g lives */
    const sb_lua_call_ops_t *ops;
    void *g;
    int waiting;
} lgather_t;

/* ---- call:gather -------------------------------------------------------------- */

static const char *opt_string(lua_State *L, int idx, const char *name)
{
    int t = lua_getfield(L, idx, name);
    const char *v = NULL;
    if (t == LUA_TSTRING)
        v = lua_tostring(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "%s must be a string, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);              /* the table keeps the string alive */
    return v;
}

static double opt_number(lua_State *L, int idx, const char *name, double def,
                         double min, double max)
{
    int t = lua_getfield(L, idx, name);
    double v = def;
    if (t == LUA_TNUMBER)
        v = lua_tonumber(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "%s must be a number, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);
    if (v < min || v > max)
        luaL_error(L, "%s must be in %g..%g", name, min, max);
    return v;
}

static int opt_bool(lua_State *L, int idx, const char *name, int def)
{
    int t = lua_getfield(L, idx, name);
    int v = def;
    if (t == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "%s must be a boolean, got %s", name, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* call:gather{ input = "dtmf" | "speech" | "dtmf speech", timeout = 5,
 * finish_on_key = "#", num_digits = 0, hints = "a, b", language = "en-US",
 * speech_timeout = 1, partial_url =, partial_method = } -> gather object,
 * or nil, reason ("hangup", "state" when the call has no media or
 * gathers already). Starts listening at once; does not wait. */
int sb__lua_call_gather(lua_State *L)
{
    const sb_lua_call_ops_t *ops;
    void *call = sb__lua_call_get(L, 1, &ops);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (ops->gather_start == NULL)
        return luaL_error(L, "call:gather: this call cannot gather input");
    const char *input = opt_string(L, 2, "input");
    sb_call_gather_opts_t o = {
        .dtmf = input == NULL || strstr(input, "dtmf") != NULL,
        .speech = input != NULL && strstr(input, "speech") != NULL,
        .hints = opt_string(L, 2, "hints"),
        .language = opt_string(L, 2, "language"),
        .finish_on_key = opt_string(L, 2, "finish_on_key"),
        .num_digits = (int)opt_number(L, 2, "num_digits", 0, 0,
                                      SB_CALL_GATHER_MAX_DIGITS),
        .timeout_ms = (unsigned)(opt_number(L, 2, "timeout", 5, 0, 86400) * 1000),
        .speech_timeout_ms = (unsigned)(opt_number(L, 2, "speech_timeout", 1,
                                                   0, 60) * 1000),
        .partial_url = opt_string(L, 2, "partial_url"),
        .partial_method = opt_string(L, 2, "partial_method"),
    };
    if (!o.dtmf && !o.speech)
        return luaL_error(L, "call:gather: input must name dtmf or speech");
    if (call == NULL)
        return sb_lua_push_error(L, SB_EHANGUP);
    void *g = NULL;
    int rc = ops->gather_start(call, &o, &g);
    if (rc == SB_EINVAL)
        return luaL_error(L, "call:gather: invalid finish_on_key");
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    lgather_t *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    u->call = call;
    u->ops = ops;
    u->g = g;
    ops->ref(call);
    luaL_setmetatable(L, GATHER_MT);
    return 1;
}

/* ---- gather:wait ------------------------------------------------------------------ */

typedef struct gwait_op_s {
    sb_lua_op_t op;
    lgather_t *u;               /* the userdata, anchored by the stack of
                                   the waiting coroutine (self) */
} gwait_op_t;

static void gather_release(lgather_t *u)
{
    u->g = NULL;
    u->waiting = 0;
    if (u->call) {
        u->ops->unref(u->call);
        u->call = NULL;
    }
}

static void on_gathered(const sb_call_gather_result_t *r, void *arg)
{
    gwait_op_t *w = arg;
    lgather_t *u = w->u;
    sb_lua_session_t *s = sb_lua_op_finish(&w->op);
    free(w);
    gather_release(u);          /* C frees the gather after this returns */
    if (s == NULL)
        return;
    lua_State *co = sb_lua_session_thread(s);
    if (r->err) {
        sb_lua_push_error(co, r->err);
        sb_lua_session_resume(s, 2);
        return;
    }
    lua_createtable(co, 0, 6);
    lua_pushstring(co, r->digits ? r->digits : "");
    lua_setfield(co, -2, "digits");
    lua_pushstring(co, r->how);
    lua_setfield(co, -2, "how");
    if (r->key) {
        char k[2] = {r->key, 0};
        lua_pushstring(co, k);
        lua_setfield(co, -2, "key");
    }
    if (r->speech) {
        lua_pushstring(co, r->speech);
        lua_setfield(co, -2, "speech");
        lua_pushnumber(co, r->confidence);
        lua_setfield(co, -2, "confidence");
    }
    if (r->speech_error) {
        lua_pushstring(co, r->speech_error);
        lua_setfield(co, -2, "speech_error");
    }
    sb_lua_session_resume(s, 1);
}

static void gwait_cancel(sb_lua_op_t *op)
{
    gwait_op_t *w = (gwait_op_t *)op;
    lgather_t *u = w->u;
    void *g = u->g;
    const sb_lua_call_ops_t *ops = u->ops;
    void *call = u->call;
    gather_release(u);
    free(w);
    if (g)
        ops->gather_cancel(call, g);
}

static lgather_t *check_gather(lua_State *L)
{
    return luaL_checkudata(L, 1, GATHER_MT);
}

/* gather:wait() -> { digits, how, key, speech, confidence, speech_error }
 * or nil, reason. Waits for the input to end (the timeout runs from this
 * call: the prompts are over). Once only. */
static int lgather_wait(lua_State *L)
{
    lgather_t *u = check_gather(L);
    if (u->g == NULL || u->waiting)
        return luaL_error(L, "gather:wait: the gather is over");
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0) {
        lgather_t copy = *u;
        gather_release(u);
        copy.ops->gather_cancel(copy.call, copy.g);
        return sb_lua_push_error(L, rc);
    }
    gwait_op_t *w = SB_NEW(gwait_op_t);
    w->op.cancel = gwait_cancel;
    w->u = u;
    u->waiting = 1;
    u->ops->gather_wait(u->call, u->g, on_gathered, w);
    lua_settop(L, 1);           /* self stays on the stack: u lives */
    return sb_lua_op_yield(L, s, &w->op);
}

/* gather:cancel(): stops listening; idempotent. */
static int lgather_cancel(lua_State *L)
{
    lgather_t *u = check_gather(L);
    if (u->g && !u->waiting) {
        lgather_t copy = *u;
        gather_release(u);
        copy.ops->gather_cancel(copy.call, copy.g);
    }
    return 0;
}

static int lgather_gc(lua_State *L)
{
    return lgather_cancel(L);
}

/* ---- call:record ------------------------------------------------------------------- */

typedef struct record_op_s {
    sb_lua_op_t op;
    void *call;
    const sb_lua_call_ops_t *ops;
    void *req;
} record_op_t;

static void on_recorded(const sb_call_record_result_t *r, void *arg)
{
    record_op_t *p = arg;
    sb_lua_session_t *s = sb_lua_op_finish(&p->op);
    p->ops->unref(p->call);
    free(p);
    if (s == NULL)
        return;
    lua_State *co = sb_lua_session_thread(s);
    if (r->err && r->sid == NULL) {
        lua_pushnil(co);
        lua_pushstring(co, sb_err_reason(r->err));
        lua_pushstring(co, r->why ? r->why : sb_strerror(r->err));
        sb_lua_session_resume(s, 3);
        return;
    }
    lua_createtable(co, 0, 6);
    if (r->sid) {
        lua_pushstring(co, r->sid);
        lua_setfield(co, -2, "sid");
        lua_pushstring(co, r->url);
        lua_setfield(co, -2, "url");
    }
    lua_pushnumber(co, r->duration_s);
    lua_setfield(co, -2, "duration");
    lua_pushstring(co, r->digits ? r->digits : "");
    lua_setfield(co, -2, "digits");
    if (r->err) {
        lua_pushstring(co, r->why ? r->why : sb_strerror(r->err));
        lua_setfield(co, -2, "error");
    }
    sb_lua_session_resume(s, 1);
}

static void record_cancel(sb_lua_op_t *op)
{
    record_op_t *p = (record_op_t *)op;
    /* The recording goes on to its end (and its action is requested if
     * the caller hung up): only the waiter goes. */
    p->ops->record_detach(p->call, p->req);
    p->ops->unref(p->call);
    free(p);
}

/* call:record{ max_length = 3600, timeout = 5 (silence, 0: none),
 * finish_on_key = "1234567890*#", beep = true, trim = true, action =,
 * method = } -> { sid, url, duration, digits, error } or nil, reason,
 * detail. Waits. */
int sb__lua_call_record(lua_State *L)
{
    const sb_lua_call_ops_t *ops;
    void *call = sb__lua_call_get(L, 1, &ops);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (ops->record == NULL)
        return luaL_error(L, "call:record: this call cannot record");
    const char *keys = opt_string(L, 2, "finish_on_key");
    sb_call_record_opts_t o = {
        .max_ms = (unsigned)(opt_number(L, 2, "max_length", 3600, 1, 86400) * 1000),
        .silence_ms = (unsigned)(opt_number(L, 2, "timeout", 5, 0, 3600) * 1000),
        .finish_on_key = keys ? keys : "1234567890*#",
        .beep = opt_bool(L, 2, "beep", 1),
        .trim = opt_bool(L, 2, "trim", 1),
        .action_url = opt_string(L, 2, "action"),
        .action_method = opt_string(L, 2, "method"),
    };
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    if (call == NULL)
        return sb_lua_push_error(L, SB_EHANGUP);
    record_op_t *p = SB_NEW(record_op_t);
    p->op.cancel = record_cancel;
    p->call = call;
    p->ops = ops;
    ops->ref(call);
    rc = ops->record(call, &o, on_recorded, p, &p->req);
    if (rc < 0) {
        ops->unref(call);
        free(p);
        return sb_lua_push_error(L, rc);
    }
    lua_settop(L, 0);
    return sb_lua_op_yield(L, s, &p->op);
}

static const luaL_Reg gather_methods[] = {
    {"wait", lgather_wait},
    {"cancel", lgather_cancel},
    {NULL, NULL},
};

void sb__lua_inject_input(lua_State *L)
{
    luaL_newmetatable(L, GATHER_MT);
    luaL_newlib(L, gather_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lgather_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, GATHER_MT);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}
