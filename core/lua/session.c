/*
 * session.c: the coroutine scheduler. One coroutine per session, a ready
 * queue run by one loop (drain), the pending-operation slot with its
 * cancel hook, cancellation on hangup and forced close.
 *
 * Entry points: sb_lua_session_*, sb_lua_op_*, sb_lua_push_error.
 *
 * Flat scheduling as in OpenResty: a primitive yields straight to C, and
 * every resume goes through the ready queue, so a completion that happens
 * while Lua runs (a C function called from Lua finishing another session's
 * request) is queued instead of resuming Lua inside Lua. A bare
 * coroutine.yield() at the top of a session is a yield to the event loop:
 * the session resumes in a later loop iteration.
 */
#include <string.h>

#include "lua_int.h"

static sb_lua_session_t **slot_of(lua_State *co)
{
    return (sb_lua_session_t **)lua_getextraspace(co);
}

sb_lua_session_t *sb_lua_session_of(lua_State *co)
{
    return *slot_of(co);
}

lua_State *sb_lua_session_thread(sb_lua_session_t *s)
{
    return s->co;
}

const char *sb_lua_session_sid(const sb_lua_session_t *s)
{
    return s->sid;
}

int sb_lua_push_error(lua_State *L, int err)
{
    lua_pushnil(L);
    lua_pushstring(L, sb_err_reason(err));
    return 2;
}

int sb_lua_session_new(sb_lua_t *rt, const char *sid,
                       sb_lua_session_done_cb done, void *arg,
                       sb_lua_session_t **out)
{
    if (rt->closing || rt->L == NULL)
        return SB_ESTATE;
    sb_lua_session_t *s = SB_NEW(sb_lua_session_t);
    s->rt = rt;
    SB_LUA_UNCAPPED_BEGIN(rt);
    s->co = lua_newthread(rt->L);
    s->ref = luaL_ref(rt->L, LUA_REGISTRYINDEX);
    SB_LUA_UNCAPPED_END(rt);
    *slot_of(s->co) = s;
    s->state = SESSION_NEW;
    s->done = done;
    s->done_arg = arg;
    if (sid)
        snprintf(s->sid, sizeof s->sid, "%s", sid);
    s->next = rt->sessions;
    if (rt->sessions)
        rt->sessions->prev = s;
    rt->sessions = s;
    *out = s;
    return 0;
}

int sb_lua_session_load(sb_lua_session_t *s, const char *code, size_t len,
                        const char *chunkname, char *err, size_t errlen)
{
    if (luaL_loadbufferx(s->co, code, len, chunkname, "t") != LUA_OK) {
        if (err && errlen)
            snprintf(err, errlen, "%s", lua_tostring(s->co, -1));
        lua_pop(s->co, 1);
        return SB_ESYNTAX;
    }
    return 0;
}

int sb_lua_session_push_function(sb_lua_session_t *s, const char *module,
                                 const char *field)
{
    sb_lua_t *rt = s->rt;
    lua_State *L = rt->L;
    SB_LUA_UNCAPPED_BEGIN(rt);
    /* A loaded module needs no call into Lua, so this works while Lua
     * runs too; loading one does not. */
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, module);
    lua_remove(L, -2);
    SB_LUA_UNCAPPED_END(rt);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        char err[512];
        if (rt->running) {
            sb_log_call(SB_LOG_ERROR, s->sid, "lua: module \"%s\" not loaded",
                        module);
            return SB_ENOENT;
        }
        lua_getglobal(L, "require");
        lua_pushstring(L, module);
        if (sb__lua_call(rt, 1, 1, err, sizeof err) < 0) {
            sb_log_call(SB_LOG_ERROR, s->sid, "lua: require \"%s\": %s",
                        module, err);
            return SB_ENOENT;
        }
    }
    int t = lua_getfield(L, -1, field);
    if (t != LUA_TFUNCTION) {
        sb_log_call(SB_LOG_ERROR, s->sid, "lua: %s.%s is not a function",
                    module, field);
        lua_pop(L, 2);
        return SB_ENOENT;
    }
    lua_remove(L, -2);
    lua_xmove(L, s->co, 1);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Ready queue                                                              */
/* ------------------------------------------------------------------------ */

static void enqueue(sb_lua_session_t *s, int nargs)
{
    sb_lua_t *rt = s->rt;
    s->state = SESSION_READY;
    s->nargs = nargs;
    s->next_ready = NULL;
    if (rt->ready_tail)
        rt->ready_tail->next_ready = s;
    else
        rt->ready_head = s;
    rt->ready_tail = s;
}

static void dequeue(sb_lua_session_t *s)
{
    sb_lua_t *rt = s->rt;
    sb_lua_session_t **pp = &rt->ready_head, *prev = NULL;
    while (*pp && *pp != s) {
        prev = *pp;
        pp = &(*pp)->next_ready;
    }
    if (*pp == NULL)
        return;
    *pp = s->next_ready;
    if (rt->ready_tail == s)
        rt->ready_tail = prev;
    s->next_ready = NULL;
}

static void session_unlink(sb_lua_session_t *s)
{
    sb_lua_t *rt = s->rt;
    if (s->prev)
        s->prev->next = s->next;
    else if (rt->sessions == s)
        rt->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void session_free(sb_lua_session_t *s)
{
    sb_lua_t *rt = s->rt;
    if (rt->L) {
        *slot_of(s->co) = NULL;
        luaL_unref(rt->L, LUA_REGISTRYINDEX, s->ref);
    }
    free(s);
}

/* The coroutine ended (st from lua_resume) or was closed (st = -1). */
static void finish(sb_lua_session_t *s, int st)
{
    sb_lua_t *rt = s->rt;
    lua_State *L = rt->L;
    int status = 0;
    const char *msg = NULL;
    int pushed = 0;

    if (st == -1) {
        status = SB_ECANCELED;
    } else if (st != LUA_OK) {
        const char *m = lua_tostring(s->co, -1);
        luaL_traceback(L, s->co, m ? m : "(error object is not a string)", 0);
        pushed = 1;
        msg = lua_tostring(L, -1);
        status = st == LUA_ERRMEM ? SB_ENOMEM
                 : rt->instr_tripped ? SB_ELIMIT : SB_ESCRIPT;
        sb_log_call(SB_LOG_ERROR, s->sid, "lua: session failed: %s", msg);
        sb_metrics_lua_error(NULL);
    }
    s->state = SESSION_DONE;
    s->pending = NULL;
    session_unlink(s);          /* sb_lua_close from done must not see it */
    if (s->done)
        s->done(s, status, msg, s->done_arg);
    if (pushed && rt->L)
        lua_pop(L, 1);
    if (st != LUA_OK && st != -1 && rt->L)
        sb__lua_reset_thread(rt, s->co);   /* close what the error left */
    session_free(s);
}

static void cancel_pending(sb_lua_session_t *s)
{
    sb_lua_op_t *op = s->pending;
    if (op == NULL)
        return;
    s->pending = NULL;
    op->session = NULL;
    op->cancel(op);
}

static void close_now(sb_lua_session_t *s)
{
    cancel_pending(s);
    if (s->state == SESSION_READY)
        dequeue(s);
    if (s->rt->L)
        sb__lua_reset_thread(s->rt, s->co);
    finish(s, -1);
}

static void run(sb_lua_session_t *s)
{
    sb_lua_t *rt = s->rt;
    int nres = 0;
    s->state = SESSION_RUNNING;
    int st = sb_lua_resume(rt, s->co, s->nargs, &nres);
    if (st != LUA_YIELD) {
        finish(s, st);
        return;
    }
    lua_pop(s->co, nres);       /* what a bare yield passed: dropped */
    s->state = SESSION_SUSPENDED;
    if (s->close_requested) {
        close_now(s);
        return;
    }
    if (s->pending == NULL) {
        /* coroutine.yield() at the top: back to the loop, resume later. */
        sb__lua_sleep_start(s, 0, 0);
    }
    if (s->dead && s->pending) {
        /* Cancelled while it ran, then it waited anyway (a primitive that
         * does not check): do not wait. */
        cancel_pending(s);
        sb_lua_push_error(s->co, s->cancel_err);
        enqueue(s, 2);
    }
}

void sb__lua_drain(sb_lua_t *rt)
{
    if (rt->draining || rt->running)
        return;
    rt->draining = 1;
    while (rt->ready_head && rt->L) {
        sb_lua_session_t *s = rt->ready_head;
        rt->ready_head = s->next_ready;
        if (rt->ready_head == NULL)
            rt->ready_tail = NULL;
        s->next_ready = NULL;
        run(s);
    }
    rt->draining = 0;
}

int sb_lua_session_start(sb_lua_session_t *s, int nargs)
{
    if (s->state != SESSION_NEW)
        return SB_ESTATE;
    enqueue(s, nargs);
    sb__lua_drain(s->rt);
    return 0;
}

void sb_lua_session_resume(sb_lua_session_t *s, int nres)
{
    sb_lua_t *rt = s->rt;
    sb_assert(s->state == SESSION_SUSPENDED && s->pending == NULL);
    if (rt->pushing) {
        rt->pushing = 0;
        rt->enforce_mem = rt->running;
    }
    enqueue(s, nres);
    sb__lua_drain(s->rt);
}

void sb_lua_session_cancel(sb_lua_session_t *s, int err)
{
    if (s->state == SESSION_DONE)
        return;
    if (!s->dead) {
        s->dead = 1;
        s->cancel_err = err ? err : SB_EHANGUP;
    }
    if (s->state == SESSION_SUSPENDED && s->pending) {
        cancel_pending(s);
        SB_LUA_UNCAPPED_BEGIN(s->rt);
        sb_lua_push_error(s->co, s->cancel_err);
        SB_LUA_UNCAPPED_END(s->rt);
        enqueue(s, 2);
        sb__lua_drain(s->rt);
    }
}

void sb_lua_session_close(sb_lua_session_t *s)
{
    if (s->state == SESSION_DONE)
        return;
    if (s->state == SESSION_RUNNING) {
        s->dead = 1;
        if (!s->cancel_err)
            s->cancel_err = SB_ECANCELED;
        s->close_requested = 1;
        return;
    }
    close_now(s);
}

/* ------------------------------------------------------------------------ */
/* Primitives                                                               */
/* ------------------------------------------------------------------------ */

int sb_lua_op_check(lua_State *L, sb_lua_session_t **out)
{
    sb_lua_session_t *s = sb_lua_session_of(L);
    if (s == NULL)
        return luaL_error(L, "attempt to wait outside a session (at load "
                             "time, or inside a user coroutine)");
    if (!lua_isyieldable(L))
        return luaL_error(L, "attempt to wait across a C-call boundary");
    if (s->dead)
        return s->cancel_err;
    if (s->pending)
        return luaL_error(L, "session is already waiting");
    *out = s;
    return 0;
}

int sb_lua_op_yield(lua_State *L, sb_lua_session_t *s, sb_lua_op_t *op)
{
    op->session = s;
    s->pending = op;
    return lua_yield(L, 0);
}

sb_lua_session_t *sb_lua_op_finish(sb_lua_op_t *op)
{
    sb_lua_session_t *s = op->session;
    if (s == NULL)
        return NULL;
    op->session = NULL;
    if (s->pending == op)
        s->pending = NULL;
    /* The caller now pushes results on s->co, possibly while another
     * session runs: no cap until sb_lua_session_resume. */
    if (s->rt->running) {
        s->rt->pushing = 1;
        s->rt->enforce_mem = 0;
    }
    return s;
}

void sb_lua_session_resume_status(sb_lua_session_t *s, int err)
{
    lua_State *co = sb_lua_session_thread(s);
    if (err < 0) {
        sb_lua_push_error(co, err);
        sb_lua_session_resume(s, 2);
    } else {
        lua_pushboolean(co, 1);
        sb_lua_session_resume(s, 1);
    }
}
