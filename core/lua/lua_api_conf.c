/*
 * lua_api_conf.c: call:conference{...}, for <Dial><Conference>. Like a
 * gather, in two steps, so that the application can play its waitUrl
 * between them: call:conference joins and returns a membership at once;
 * membership:waiting() tells whether the room has started;
 * membership:wait() waits until the call leaves the room;
 * membership:leave() takes it out. See docs/plugin-api.md.
 */
#include <string.h>

#include "lua_int.h"

#define CONF_MT "sb.conference"

/* Owner: Lua (full userdata). The membership itself is the call's (C);
 * the userdata holds a call reference until the member left. */
typedef struct lconf_s {
    void *call;
    const sb_lua_call_ops_t *ops;
    int left;                   /* the C side reported the end */
    int waiting;                /* wait() pends */
    char reason[32];
    char sid[SB_SID_SIZE];
    struct cwait_op_s *op;
} lconf_t;

typedef struct cwait_op_s {
    sb_lua_op_t op;
    lconf_t *u;
} cwait_op_t;

static void release(lconf_t *u)
{
    if (u->call) {
        u->ops->unref(u->call);
        u->call = NULL;
    }
}

/* The member left: wakes wait() or keeps the reason for it. The userdata
 * is anchored by the waiting session's stack while wait() pends; when it
 * does not, the C side was detached first (__gc). */
static void on_left(const sb_call_conf_result_t *r, void *arg)
{
    lconf_t *u = arg;
    u->left = 1;
    snprintf(u->reason, sizeof u->reason, "%s", r->reason ? r->reason : "left");
    snprintf(u->sid, sizeof u->sid, "%s", r->conference_sid ? r->conference_sid : "");
    cwait_op_t *w = u->op;
    if (w == NULL)
        return;
    u->op = NULL;
    u->waiting = 0;
    sb_lua_session_t *s = sb_lua_op_finish(&w->op);
    free(w);
    release(u);
    if (s == NULL)
        return;
    lua_State *co = sb_lua_session_thread(s);
    lua_createtable(co, 0, 2);
    lua_pushstring(co, u->reason);
    lua_setfield(co, -2, "reason");
    lua_pushstring(co, u->sid);
    lua_setfield(co, -2, "conference_sid");
    sb_lua_session_resume(s, 1);
}

static void cwait_cancel(sb_lua_op_t *op)
{
    cwait_op_t *w = (cwait_op_t *)op;
    lconf_t *u = w->u;
    u->op = NULL;
    u->waiting = 0;
    free(w);
    /* The session goes (the call hung up, or the application was
     * replaced): the membership ends with the call, or now. */
    if (u->call && !u->left) {
        u->ops->conference_detach(u->call);
        u->ops->conference_leave(u->call);
    }
    release(u);
}

static int opt_bool(lua_State *L, const char *name, int def)
{
    int t = lua_getfield(L, 2, name);
    int v = t == LUA_TNIL ? def : lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

static const char *opt_str(lua_State *L, const char *name)
{
    int t = lua_getfield(L, 2, name);
    const char *v = t == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (t != LUA_TNIL && t != LUA_TSTRING)
        luaL_error(L, "call:conference: %s must be a string", name);
    lua_pop(L, 1);
    return v;
}

/* call:conference{ name =, muted = false, beep_enter = true,
 * beep_exit = true, start_on_enter = true, end_on_exit = false,
 * max_participants = 40, hold_music = true, status_callback =,
 * status_callback_method =, status_events = "start end join leave mute
 * hold", record = false } -> membership, or nil, reason ("limit": full; "state";
 * "hangup"). Does not wait. */
int sb__lua_call_conference(lua_State *L)
{
    const sb_lua_call_ops_t *ops;
    void *call = sb__lua_call_get(L, 1, &ops);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (ops->conference == NULL)
        return luaL_error(L, "call:conference: this call cannot join a conference");
    const char *events = opt_str(L, "status_events");
    unsigned ev = 0;
    if (events) {
        static const struct { const char *n; unsigned v; } names[] = {
            {"start", SB_CONF_EV_START}, {"end", SB_CONF_EV_END},
            {"join", SB_CONF_EV_JOIN}, {"leave", SB_CONF_EV_LEAVE},
            {"mute", SB_CONF_EV_MUTE}, {"hold", SB_CONF_EV_HOLD},
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (strstr(events, names[i].n))
                ev |= names[i].v;
    }
    lua_getfield(L, 2, "max_participants");
    lua_Integer max = luaL_optinteger(L, -1, 40);
    lua_pop(L, 1);
    if (max < 1 || max > 1000)
        return luaL_error(L, "call:conference: max_participants must be 1..1000");
    sb_call_conf_opts_t o = {
        .name = opt_str(L, "name"),
        .muted = opt_bool(L, "muted", 0),
        .beep_enter = opt_bool(L, "beep_enter", 1),
        .beep_exit = opt_bool(L, "beep_exit", 1),
        .start_on_enter = opt_bool(L, "start_on_enter", 1),
        .end_on_exit = opt_bool(L, "end_on_exit", 0),
        .max_participants = (int)max,
        .hold_music = opt_bool(L, "hold_music", 1),
        .status_callback = opt_str(L, "status_callback"),
        .status_callback_method = opt_str(L, "status_callback_method"),
        .status_events = ev,
        .record = opt_bool(L, "record", 0),
    };
    if (o.name == NULL)
        return luaL_error(L, "call:conference: name is required");
    if (call == NULL)
        return sb_lua_push_error(L, SB_EHANGUP);
    lconf_t *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    u->ops = ops;
    int rc = ops->conference(call, &o, on_left, u);
    if (rc < 0) {
        lua_pop(L, 1);
        return sb_lua_push_error(L, rc);
    }
    u->call = call;
    ops->ref(call);
    luaL_setmetatable(L, CONF_MT);
    return 1;
}

static lconf_t *check(lua_State *L)
{
    return luaL_checkudata(L, 1, CONF_MT);
}

/* membership:waiting() -> true while the room has not started. */
static int lconf_waiting(lua_State *L)
{
    lconf_t *u = check(L);
    lua_pushboolean(L, u->call && !u->left &&
                           u->ops->conference_waiting(u->call));
    return 1;
}

/* membership:wait() -> { reason, conference_sid } once the call left
 * the room, or nil, reason. */
static int lconf_wait(lua_State *L)
{
    lconf_t *u = check(L);
    if (u->left) {
        lua_createtable(L, 0, 2);
        lua_pushstring(L, u->reason);
        lua_setfield(L, -2, "reason");
        lua_pushstring(L, u->sid);
        lua_setfield(L, -2, "conference_sid");
        release(u);
        return 1;
    }
    if (u->waiting || u->call == NULL)
        return luaL_error(L, "membership:wait: not a live membership");
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    cwait_op_t *w = SB_NEW(cwait_op_t);
    w->op.cancel = cwait_cancel;
    w->u = u;
    u->op = w;
    u->waiting = 1;
    lua_settop(L, 1);
    return sb_lua_op_yield(L, s, &w->op);
}

/* membership:leave(): the call leaves the room (wait() then returns). */
static int lconf_leave(lua_State *L)
{
    lconf_t *u = check(L);
    if (u->call && !u->left)
        u->ops->conference_leave(u->call);
    return 0;
}

static int lconf_gc(lua_State *L)
{
    lconf_t *u = check(L);
    if (u->call && !u->left) {
        /* Nobody can wait any more: the call leaves the room. */
        u->ops->conference_detach(u->call);
        u->ops->conference_leave(u->call);
    }
    release(u);
    return 0;
}

static const luaL_Reg conf_methods[] = {
    {"waiting", lconf_waiting},
    {"wait", lconf_wait},
    {"leave", lconf_leave},
    {NULL, NULL},
};

void sb__lua_inject_conference(lua_State *L)
{
    luaL_newmetatable(L, CONF_MT);
    luaL_newlib(L, conf_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, lconf_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, CONF_MT);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

/* ------------------------------------------------------------------------ */
/* Conference hooks: "conference.join", ".leave", ".start", ".end", ".mute" */
/* ------------------------------------------------------------------------ */

static void on_conf_hooks_done(sb_lua_session_t *s, int status, const char *msg,
                               void *arg)
{
    (void)arg;
    if (status != 0)
        sb_log_call(SB_LOG_WARN, s && s->sid[0] ? s->sid : NULL,
                    "conference: hook handlers ended with %s%s%s",
                    sb_err_name(status), msg ? ": " : "", msg ? msg : "");
}

/* The runner's conf_event: a session runs switchboard.host.run_conference
 * with { event, conference_sid, name, account_sid, call_sid, call,
 * members, muted } (call_sid: the member concerned, nil for a room event
 * with no member; call: its call object while it is live). */
void sb__lua_conf_event(void *arg, const sb_call_conf_event_t *ev)
{
    sb_lua_t *rt = arg;
    sb_lua_session_t *s;
    const char *sid = ev->call ? sb_call_sid(ev->call) : ev->conference_sid;
    if (sb_lua_session_new(rt, sid, on_conf_hooks_done, NULL, &s) != 0)
        return;
    if (sb_lua_session_push_function(s, "switchboard.host", "run_conference") != 0) {
        sb_lua_session_close(s);
        return;
    }
    lua_State *co = sb_lua_session_thread(s);
    SB_LUA_UNCAPPED_BEGIN(rt);
    lua_createtable(co, 0, 7);
    lua_pushstring(co, ev->event);
    lua_setfield(co, -2, "event");
    lua_pushstring(co, ev->conference_sid);
    lua_setfield(co, -2, "conference_sid");
    lua_pushstring(co, ev->name);
    lua_setfield(co, -2, "name");
    lua_pushstring(co, ev->account_sid);
    lua_setfield(co, -2, "account_sid");
    lua_pushinteger(co, ev->members);
    lua_setfield(co, -2, "members");
    lua_pushboolean(co, ev->muted);
    lua_setfield(co, -2, "muted");
    if (ev->call) {
        lua_pushstring(co, sb_call_sid(ev->call));
        lua_setfield(co, -2, "call_sid");
    }
    if (ev->call && sb_call_alive(ev->call)) {
        sb_lua_call_push(rt, co, ev->call, &sb_lua_real_call_ops);
        lua_setfield(co, -2, "call");
    }
    SB_LUA_UNCAPPED_END(rt);
    sb_lua_session_start(s, 1);
}
