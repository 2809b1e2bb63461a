/*
 * lua_api_msg.c: messaging for Lua. Registers the module
 * "switchboard.messaging" ({ sms_send, email_send }), which host.lua
 * exposes to plugins as sms.send and email.send, and starts the sessions
 * of SMS applications (switchboard.sms.run).
 *
 * sms_send{ account_sid, from, to, body, direction, call_sid,
 *           status_callback, status_callback_method, wait }
 *   -> { sid, status, error_code } | nil, reason, message
 * With wait = true it waits (session context) for the first final status
 * (sent or failed); otherwise it returns at once with status "queued".
 * email_send{ account_sid, from, to, cc, bcc, subject, body, type,
 *             call_sid } -> { sid, status = "queued" } | nil, reason, message
 * (never waits; the outcome is recorded, and a failure is a Notification).
 */
#include "lua_int.h"
#include "sb_lua_msg.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#define MSG_KEY "sb.messaging"

/* The registry holds one of these: the module the functions use now.
 * Owner: Lua (full userdata). */
typedef struct {
    sb_msg_t *msg;
} msg_ref_t;

static sb_msg_t *current(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, MSG_KEY);
    msg_ref_t *r = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return r ? r->msg : NULL;
}

static const char *opt_field(lua_State *L, int t, const char *name)
{
    lua_getfield(L, t, name);
    const char *s = NULL;
    if (lua_type(L, -1) == LUA_TSTRING)
        s = lua_tostring(L, -1);
    else if (!lua_isnil(L, -1))
        luaL_error(L, "field %s must be a string", name);
    lua_pop(L, 1);      /* the string stays referenced by the table */
    return s;
}

/* One waiting sms.send. Owner: itself; freed on completion or cancel. */
typedef struct {
    sb_lua_op_t op;             /* first: the session's pending slot */
    sb_msg_op_t *mop;
    int started;                /* sb_msg_sms_send has returned */
    int early;                  /* the outcome came before it returned */
    char sid[SB_SID_SIZE];
    char status[16];
    int error_code;
} sms_wait_t;

static void push_result(lua_State *L, const char *sid, const char *status, int code)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, sid);
    lua_setfield(L, -2, "sid");
    lua_pushstring(L, status);
    lua_setfield(L, -2, "status");
    if (code) {
        lua_pushinteger(L, code);
        lua_setfield(L, -2, "error_code");
    }
}

static void on_sms_done(const char *sid, const char *status, int code, void *arg)
{
    sms_wait_t *w = arg;
    if (!w->started) {
        w->early = 1;
        snprintf(w->sid, sizeof w->sid, "%s", sid);
        snprintf(w->status, sizeof w->status, "%s", status);
        w->error_code = code;
        return;
    }
    sb_lua_session_t *s = sb_lua_op_finish(&w->op);
    if (s) {
        lua_State *co = sb_lua_session_thread(s);
        push_result(co, sid, status, code);
        sb_lua_session_resume(s, 1);
    }
    free(w);
}

static void cancel_sms(sb_lua_op_t *op)
{
    sms_wait_t *w = (sms_wait_t *)op;
    sb_msg_op_forget(w->mop);
    free(w);
}

static const char *reason_of(int rc)
{
    switch (rc) {
    case SB_EPERM:
        return "forbidden";
    case SB_ENOENT:
        return "not-found";
    case SB_ETOOBIG:
        return "too-big";
    case SB_ESTATE:
        return "state";
    case SB_EINVAL:
        return "invalid";
    default:
        return sb_err_reason(rc);
    }
}

/* Pushes nil, the reason of rc and message; returns 3. */
static int push_refusal(lua_State *L, int rc, const char *message)
{
    lua_pushnil(L);
    lua_pushstring(L, reason_of(rc));
    lua_pushstring(L, message);
    return 3;
}

/* sms_send{...}: see the header comment. */
static int lmsg_sms_send(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    sb_msg_sms_req_t req = {
        .account_sid = opt_field(L, 1, "account_sid"),
        .from = opt_field(L, 1, "from"),
        .to = opt_field(L, 1, "to"),
        .body = opt_field(L, 1, "body"),
        .direction = opt_field(L, 1, "direction"),
        .call_sid = opt_field(L, 1, "call_sid"),
        .status_callback = opt_field(L, 1, "status_callback"),
        .status_callback_method = opt_field(L, 1, "status_callback_method"),
    };
    lua_getfield(L, 1, "wait");
    int wait = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (req.account_sid == NULL)
        return luaL_error(L, "sms.send: account_sid is required");
    sb_msg_t *msg = current(L);
    if (msg == NULL)
        return push_refusal(L, SB_ESTATE, "messaging is not available");
    sb_lua_session_t *s = NULL;
    if (wait) {
        int err = sb_lua_op_check(L, &s);   /* raises outside a session */
        if (err != 0)
            return sb_lua_push_error(L, err);
    }
    char sid[SB_SID_SIZE], why[256];
    sms_wait_t *w = wait ? SB_NEW(sms_wait_t) : NULL;
    int rc = sb_msg_sms_send(msg, &req, sid, why, sizeof why,
                             wait ? on_sms_done : NULL, w, w ? &w->mop : NULL);
    if (rc != 0) {
        free(w);
        return push_refusal(L, rc, why);
    }
    if (!wait) {
        push_result(L, sid, "queued", 0);
        return 1;
    }
    w->started = 1;
    if (w->early) {
        push_result(L, w->sid, w->status, w->error_code);
        free(w);
        return 1;
    }
    w->op.cancel = cancel_sms;
    return sb_lua_op_yield(L, s, &w->op);
}

/* email_send{...}: see the header comment. */
static int lmsg_email_send(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    sb_msg_email_req_t req = {
        .account_sid = opt_field(L, 1, "account_sid"),
        .from = opt_field(L, 1, "from"),
        .to = opt_field(L, 1, "to"),
        .cc = opt_field(L, 1, "cc"),
        .bcc = opt_field(L, 1, "bcc"),
        .subject = opt_field(L, 1, "subject"),
        .body = opt_field(L, 1, "body"),
        .content_type = opt_field(L, 1, "type"),
        .call_sid = opt_field(L, 1, "call_sid"),
    };
    if (req.account_sid == NULL)
        return luaL_error(L, "email.send: account_sid is required");
    sb_msg_t *msg = current(L);
    if (msg == NULL)
        return push_refusal(L, SB_ESTATE, "messaging is not available");
    char sid[SB_SID_SIZE], why[256];
    int rc = sb_msg_email_send(msg, &req, sid, why, sizeof why, NULL, NULL, NULL);
    if (rc != 0)
        return push_refusal(L, rc, why);
    push_result(L, sid, "queued", 0);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"sms_send", lmsg_sms_send},
    {"email_send", lmsg_email_send},
    {NULL, NULL},
};

void sb_lua_use_messaging(sb_lua_t *rt, sb_msg_t *msg)
{
    lua_State *L = sb_lua_state(rt);
    SB_LUA_UNCAPPED_BEGIN(rt);
    if (lua_getfield(L, LUA_REGISTRYINDEX, MSG_KEY) == LUA_TNIL) {
        lua_pop(L, 1);
        msg_ref_t *r = lua_newuserdatauv(L, sizeof *r, 0);
        r->msg = NULL;
        lua_setfield(L, LUA_REGISTRYINDEX, MSG_KEY);
        /* package.loaded["switchboard.messaging"] */
        lua_getglobal(L, "package");
        lua_getfield(L, -1, "loaded");
        luaL_newlib(L, funcs);
        lua_setfield(L, -2, "switchboard.messaging");
        lua_pop(L, 2);
        lua_getfield(L, LUA_REGISTRYINDEX, MSG_KEY);
    }
    msg_ref_t *r = lua_touserdata(L, -1);
    r->msg = msg;
    lua_pop(L, 1);
    SB_LUA_UNCAPPED_END(rt);
}

static void on_sms_session_done(sb_lua_session_t *s, int status, const char *msg,
                                void *arg)
{
    (void)arg;
    if (status != 0)
        sb_warn("sms %s: application ended with %s", sb_lua_session_sid(s),
                sb_strerror(status));
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

void sb_lua_sms_runner(const sb_msg_inbound_t *in, void *arg)
{
    sb_lua_t *rt = arg;
    sb_lua_session_t *s = NULL;
    if (sb_lua_session_new(rt, in->sid, on_sms_session_done, NULL, &s) != 0) {
        sb_warn("sms %s: cannot start its application", in->sid);
        return;
    }
    if (sb_lua_session_push_function(s, "switchboard.sms", "run") != 0) {
        sb_lua_session_close(s);
        return;
    }
    lua_State *co = sb_lua_session_thread(s);
    SB_LUA_UNCAPPED_BEGIN(rt);
    lua_createtable(co, 0, 5);
    set_str(co, "sid", in->sid);
    set_str(co, "account_sid", in->account_sid);
    set_str(co, "from", in->from);
    set_str(co, "to", in->to);
    set_str(co, "body", in->body);
    lua_createtable(co, 0, 4);
    set_str(co, "url", in->url);
    set_str(co, "method", in->method ? in->method : "POST");
    set_str(co, "fallback_url", in->fallback_url);
    set_str(co, "fallback_method", in->fallback_method ? in->fallback_method : "POST");
    SB_LUA_UNCAPPED_END(rt);
    sb_lua_session_start(s, 2);
}
