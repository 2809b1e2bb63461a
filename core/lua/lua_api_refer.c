/*
 * lua_api_refer.c: the "sb.refer" userdata, the event the "refer" hooks
 * receive for a REFER (call transfer), and the runner callback that
 * starts those hooks in a session of their own:
 * switchboard.host.run_refer(ev), which fires "refer" (user handlers
 * first, plugins/refer.lua last) and refuses a REFER nobody answered.
 *
 * The userdata holds one reference on the call module's sb_call_refer_t;
 * __gc drops it and never answers the REFER (the session's end does, see
 * sb_call_refer_done). See docs/plugin-api.md ("refer") for the fields.
 */
#include <string.h>

#include "lua_int.h"

#define REFER_MT "sb.refer"

/* Owner: Lua (full userdata). */
typedef struct lrefer_s {
    sb_call_refer_t *r;         /* one reference; NULL after __gc */
} lrefer_t;

static lrefer_t *check_refer(lua_State *L, int idx)
{
    lrefer_t *u = luaL_checkudata(L, idx, REFER_MT);
    if (u->r == NULL)
        luaL_error(L, "sb.refer: used after collection");
    return u;
}

/* Pushes { uri =, scheme =, user =, host =, port = } for a SIP URI. */
static void push_uri(lua_State *L, const char *uri)
{
    lua_createtable(L, 0, 5);
    lua_pushstring(L, uri);
    lua_setfield(L, -2, "uri");
    const char *p = uri;
    const char *colon = strchr(p, ':');
    if (colon == NULL)
        return;
    lua_pushlstring(L, p, (size_t)(colon - p));
    lua_setfield(L, -2, "scheme");
    p = colon + 1;
    size_t rest = strcspn(p, ";?>");
    const char *at = memchr(p, '@', rest);
    if (at) {
        lua_pushlstring(L, p, (size_t)(at - p));
        lua_setfield(L, -2, "user");
        rest -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *hp = p;
    size_t hl = rest;
    const char *pc = NULL;
    if (*hp == '[') {
        const char *close = memchr(hp, ']', hl);
        if (close && (size_t)(close + 1 - hp) < hl && close[1] == ':')
            pc = close + 1;
    } else {
        pc = memchr(hp, ':', hl);
    }
    lua_pushlstring(L, hp, pc ? (size_t)(pc - hp) : hl);
    lua_setfield(L, -2, "host");
    if (pc) {
        lua_pushinteger(L, (lua_Integer)strtol(pc + 1, NULL, 10));
        lua_setfield(L, -2, "port");
    }
}

static void push_opt(lua_State *L, const char *s)
{
    if (s)
        lua_pushstring(L, s);
    else
        lua_pushnil(L);
}

static void push_call(lua_State *L, sb_call_t *call)
{
    if (call == NULL) {
        lua_pushnil(L);
        return;
    }
    sb_lua_call_push(sb__lua_runtime(L), L, call, &sb_lua_real_call_ops);
}

/* ev.<field> (and methods). */
static int lrefer_index(lua_State *L)
{
    lrefer_t *u = check_refer(L, 1);
    const char *key = luaL_checkstring(L, 2);
    luaL_getmetatable(L, REFER_MT);
    lua_getfield(L, -1, "methods");
    if (lua_getfield(L, -1, key) != LUA_TNIL)
        return 1;
    lua_pop(L, 3);

    sb_call_refer_info_t in;
    sb_call_refer_info(u->r, &in);
    if (strcmp(key, "transferor") == 0)
        push_opt(L, in.transferor);
    else if (strcmp(key, "transferee") == 0)
        push_opt(L, in.transferee);
    else if (strcmp(key, "target") == 0)
        push_opt(L, in.target);
    else if (strcmp(key, "refer_to") == 0)
        push_uri(L, in.refer_to ? in.refer_to : "");
    else if (strcmp(key, "refer_to_sip") == 0)
        lua_pushboolean(L, in.refer_to_sip);
    else if (strcmp(key, "referred_by") == 0)
        push_opt(L, in.referred_by);
    else if (strcmp(key, "subscription") == 0)
        lua_pushboolean(L, in.subscription);
    else if (strcmp(key, "answered") == 0)
        lua_pushboolean(L, in.answered);
    else if (strcmp(key, "accepted") == 0)
        lua_pushboolean(L, in.accepted);
    else if (strcmp(key, "transferor_sid") == 0)
        push_opt(L, in.transferor_sid);
    else if (strcmp(key, "transferee_sid") == 0)
        push_opt(L, in.transferee_sid);
    else if (strcmp(key, "transferor_call") == 0)
        push_call(L, sb_call_refer_transferor(u->r));
    else if (strcmp(key, "transferee_call") == 0 || strcmp(key, "call") == 0)
        push_call(L, sb_call_refer_transferee(u->r));
    else if (strcmp(key, "number") == 0) {
        if (in.number_sid == NULL) {
            lua_pushnil(L);
        } else {
            lua_createtable(L, 0, 5);
            lua_pushstring(L, in.number_sid);
            lua_setfield(L, -2, "sid");
            push_opt(L, in.phone_number);
            lua_setfield(L, -2, "phone_number");
            push_opt(L, in.account_sid);
            lua_setfield(L, -2, "account_sid");
            push_opt(L, in.refer_url);
            lua_setfield(L, -2, "refer_url");
            lua_pushstring(L, in.refer_method && *in.refer_method ? in.refer_method
                                                                  : "POST");
            lua_setfield(L, -2, "refer_method");
        }
    } else if (strcmp(key, "headers") == 0) {
        lua_createtable(L, (int)in.header_count, 0);
        for (size_t i = 0; i < in.header_count; i++) {
            lua_createtable(L, 2, 0);
            lua_pushstring(L, in.headers[i].name);
            lua_rawseti(L, -2, 1);
            lua_pushstring(L, in.headers[i].value);
            lua_rawseti(L, -2, 2);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
    } else {
        lua_pushnil(L);
    }
    return 1;
}

static int lrefer_newindex(lua_State *L)
{
    return luaL_error(L, "sb.refer fields are read-only");
}

static int lrefer_tostring(lua_State *L)
{
    lrefer_t *u = check_refer(L, 1);
    sb_call_refer_info_t in;
    sb_call_refer_info(u->r, &in);
    lua_pushfstring(L, "sb.refer: %s -> %s (%s)", in.transferor ? in.transferor : "?",
                    in.target ? in.target : "?", in.transferor_sid);
    return 1;
}

static int lrefer_gc(lua_State *L)
{
    lrefer_t *u = luaL_checkudata(L, 1, REFER_MT);
    if (u->r) {
        sb_call_refer_unref(u->r);
        u->r = NULL;
    }
    return 0;
}

static int push_result(lua_State *L, int rc)
{
    if (rc < 0)
        return sb_lua_push_error(L, rc == SB_ESTATE ? SB_ESTATE : rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* ev:accept()
 * Context: anywhere. 202 Accepted; with a subscription the NOTIFY
 * "SIP/2.0 100 Trying" follows. Returns true, or nil, reason ("state":
 * answered already; "hangup": the transferor's dialog is gone). */
static int lrefer_accept(lua_State *L)
{
    return push_result(L, sb_call_refer_accept(check_refer(L, 1)->r));
}

/* ev:reject(status[, reason])
 * Context: anywhere. Refuses the REFER with status (400..699) and a Reason
 * header. Returns true, or nil, reason. */
static int lrefer_reject(lua_State *L)
{
    lrefer_t *u = check_refer(L, 1);
    lua_Integer status = luaL_checkinteger(L, 2);
    luaL_argcheck(L, status >= 400 && status <= 699, 2, "SIP status 400..699 expected");
    const char *reason = luaL_optstring(L, 3, NULL);
    return push_result(L, sb_call_refer_reject(u->r, (int)status, reason));
}

/* ev:notify(status[, reason])
 * Context: anywhere, after accept. A sipfrag NOTIFY of status to the
 * transferor; status >= 200 ends the subscription. Without a subscription
 * (Refer-Sub: false, refer.notify = false) nothing is sent. Returns true,
 * or nil, reason. */
static int lrefer_notify(lua_State *L)
{
    lrefer_t *u = check_refer(L, 1);
    lua_Integer status = luaL_checkinteger(L, 2);
    luaL_argcheck(L, status >= 100 && status <= 699, 2, "SIP status 100..699 expected");
    const char *reason = luaL_optstring(L, 3, NULL);
    return push_result(L, sb_call_refer_notify(u->r, (int)status, reason));
}

static const luaL_Reg refer_methods[] = {
    {"accept", lrefer_accept},
    {"reject", lrefer_reject},
    {"notify", lrefer_notify},
    {NULL, NULL},
};

static const luaL_Reg refer_meta[] = {
    {"__index", lrefer_index},
    {"__newindex", lrefer_newindex},
    {"__tostring", lrefer_tostring},
    {"__gc", lrefer_gc},
    {NULL, NULL},
};

void sb__lua_inject_refer(lua_State *L)
{
    luaL_newmetatable(L, REFER_MT);
    luaL_setfuncs(L, refer_meta, 0);
    luaL_newlib(L, refer_methods);
    lua_setfield(L, -2, "methods");
    lua_pushliteral(L, REFER_MT);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

/* ------------------------------------------------------------------------ */
/* The runner's refer                                                       */
/* ------------------------------------------------------------------------ */

static void on_refer_done(sb_lua_session_t *s, int status, const char *msg,
                          void *arg)
{
    (void)msg;
    sb_call_refer_t *r = arg;
    if (status != 0)
        sb_log_call(SB_LOG_WARN, s && s->sid[0] ? s->sid : NULL,
                    "transfer: refer handlers ended with %s", sb_err_name(status));
    sb_call_refer_done(r);
    sb_call_refer_unref(r);
}

int sb__lua_refer_run(void *arg, sb_call_refer_t *refer)
{
    sb_lua_t *rt = arg;
    sb_call_refer_info_t in;
    sb_call_refer_info(refer, &in);
    sb_lua_session_t *s;
    sb_call_refer_ref(refer);           /* the session's, until done */
    int rc = sb_lua_session_new(rt, in.transferor_sid, on_refer_done, refer, &s);
    if (rc != 0) {
        sb_call_refer_unref(refer);
        return rc;
    }
    rc = sb_lua_session_push_function(s, "switchboard.host", "run_refer");
    if (rc != 0) {
        sb_lua_session_close(s);        /* done fires: refuses, unrefs */
        return 0;
    }
    lua_State *co = sb_lua_session_thread(s);
    SB_LUA_UNCAPPED_BEGIN(rt);
    lrefer_t *u = lua_newuserdatauv(co, sizeof *u, 0);
    u->r = refer;
    sb_call_refer_ref(refer);           /* the userdata's */
    luaL_setmetatable(co, REFER_MT);
    SB_LUA_UNCAPPED_END(rt);
    return sb_lua_session_start(s, 1);
}
