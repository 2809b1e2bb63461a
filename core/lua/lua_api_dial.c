/*
 * lua_api_dial.c: real calls in Lua. Three things live here:
 *   - call:dial{...}, the yielding primitive under plugins/rcml/dial.lua;
 *   - sb_lua_real_call_ops, the sb.call ops over core/call's sb_call_t;
 *   - sb_lua_call_runner, the runner the call manager starts RCML
 *     sessions through (server.c connects the two).
 * The rest of the call object (fields, answer, hangup, reject, pause) is
 * lua_api_call.c, which knows calls only through the ops table.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "lua_int.h"

/* ------------------------------------------------------------------------ */
/* call:dial                                                                */
/* ------------------------------------------------------------------------ */

/* Owner: itself; freed by on_dial_done or dial_op_cancel. Holds one call
 * reference while pending. */
typedef struct dial_op_s {
    sb_lua_op_t op;
    void *call;
    const sb_lua_call_ops_t *ops;
    void *req;
} dial_op_t;

static void push_result(lua_State *L, const sb_call_dial_result_t *r)
{
    lua_createtable(L, 0, 8);
    if (r->call_sid) {
        lua_pushstring(L, r->call_sid);
        lua_setfield(L, -2, "sid");
    }
    lua_pushstring(L, r->status ? r->status : "failed");
    lua_setfield(L, -2, "status");
    lua_pushinteger(L, r->duration);
    lua_setfield(L, -2, "duration");
    if (r->ring_duration >= 0) {
        lua_pushinteger(L, r->ring_duration);
        lua_setfield(L, -2, "ring_duration");
    }
    if (r->sip_call_id) {
        lua_pushstring(L, r->sip_call_id);
        lua_setfield(L, -2, "sip_call_id");
    }
    if (r->sip_status > 0) {
        lua_pushinteger(L, r->sip_status);
        lua_setfield(L, -2, "sip_status");
    }
    lua_createtable(L, (int)r->header_count, 0);
    for (size_t i = 0; i < r->header_count; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, r->headers[i].name);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, r->headers[i].value);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "headers");
    if (r->recording_url) {
        lua_pushstring(L, r->recording_url);
        lua_setfield(L, -2, "recording_url");
    }
}

static void on_dial_done(const sb_call_dial_result_t *r, void *arg)
{
    dial_op_t *d = arg;
    sb_lua_session_t *s = sb_lua_op_finish(&d->op);
    d->ops->unref(d->call);
    free(d);
    if (s == NULL)
        return;
    push_result(sb_lua_session_thread(s), r);
    sb_lua_session_resume(s, 1);
}

static void dial_op_cancel(sb_lua_op_t *op)
{
    dial_op_t *d = (dial_op_t *)op;
    d->ops->dial_cancel(d->call, d->req);
    d->ops->unref(d->call);
    free(d);
}

/* Optional string field of the table at idx (borrowed from the table,
 * which the caller keeps on the stack). */
static const char *opt_string(lua_State *L, int idx, const char *name)
{
    const char *v = NULL;
    int t = lua_getfield(L, idx, name);
    if (t == LUA_TSTRING || t == LUA_TNUMBER)
        v = lua_tostring(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "dial: field '%s' must be a string", name);
    lua_pop(L, 1);
    return v;
}

static lua_Integer opt_integer(lua_State *L, int idx, const char *name,
                               lua_Integer def, lua_Integer min, lua_Integer max)
{
    lua_Integer v = def;
    int t = lua_getfield(L, idx, name);
    if (t != LUA_TNIL) {
        int isnum;
        v = lua_tointegerx(L, -1, &isnum);
        if (!isnum || v < min || v > max)
            luaL_error(L, "dial: field '%s' must be an integer in %d..%d", name,
                       (int)min, (int)max);
    }
    lua_pop(L, 1);
    return v;
}

static unsigned parse_events(lua_State *L, int idx)
{
    unsigned ev = 0;
    static const char *const names[] = {"initiated", "ringing", "answered",
                                        "completed"};
    int t = lua_getfield(L, idx, "status_events");
    if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        for (int i = 0; i < 4; i++) {
            const char *p = s;
            size_t n = strlen(names[i]);
            while ((p = strstr(p, names[i])) != NULL) {
                int start_ok = p == s || strchr(" ,\t", p[-1]);
                int end_ok = p[n] == '\0' || strchr(" ,\t", p[n]);
                if (start_ok && end_ok)
                    ev |= 1u << i;
                p += n;
            }
        }
    } else if (t == LUA_TTABLE) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer k = 1; k <= n; k++) {
            lua_rawgeti(L, -1, k);
            const char *s = lua_tostring(L, -1);
            for (int i = 0; s && i < 4; i++)
                if (strcasecmp(s, names[i]) == 0)
                    ev |= 1u << i;
            lua_pop(L, 1);
        }
    } else if (t != LUA_TNIL) {
        luaL_error(L, "dial: status_events must be a string or a list");
    }
    lua_pop(L, 1);
    return ev;
}

/* Reads target table at idx into t; header pairs go to hdr (room for
 * SB_DIAL_MAX_HEADERS). Strings are borrowed from the table. */
static void parse_target(lua_State *L, int idx, sb_call_dial_target_t *t,
                         sb_call_pair_t *hdr)
{
    memset(t, 0, sizeof *t);
    const char *kind = opt_string(L, idx, "kind");
    if (kind == NULL || strcmp(kind, "number") == 0)
        t->kind = SB_DIAL_NUMBER;
    else if (strcmp(kind, "client") == 0)
        t->kind = SB_DIAL_CLIENT;
    else if (strcmp(kind, "sip") == 0)
        t->kind = SB_DIAL_SIP;
    else
        luaL_error(L, "dial: unknown target kind '%s'", kind);
    t->dest = opt_string(L, idx, "dest");
    if (t->dest == NULL)
        luaL_error(L, "dial: a target needs dest");
    t->username = opt_string(L, idx, "username");
    t->password = opt_string(L, idx, "password");
    t->status_callback = opt_string(L, idx, "status_callback");
    t->status_callback_method = opt_string(L, idx, "status_callback_method");
    t->status_events = parse_events(L, idx);
    t->headers = hdr;
    size_t n = 0;
    if (lua_getfield(L, idx, "headers") == LUA_TTABLE) {
        int h = lua_gettop(L);
        lua_pushnil(L);
        while (lua_next(L, h) != 0 && n < SB_DIAL_MAX_HEADERS) {
            if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                hdr[n].name = lua_tostring(L, -2);
                hdr[n].value = lua_tostring(L, -1);
                n++;
            } else if (lua_type(L, -1) == LUA_TTABLE) {
                lua_rawgeti(L, -1, 1);
                lua_rawgeti(L, -2, 2);
                if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                    /* Both stay referenced by the pair table. */
                    hdr[n].name = lua_tostring(L, -2);
                    hdr[n].value = lua_tostring(L, -1);
                    n++;
                }
                lua_pop(L, 2);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    t->header_count = n;
}

/* call:dial{ targets = { { kind = "number"|"client"|"sip", dest = "...",
 *     headers = { ["X-H"] = "v" } or { {"X-H", "v"} }, username, password,
 *     status_callback, status_callback_method,
 *     status_events = "initiated ringing answered completed" }, ... },
 *   timeout = 30, time_limit = 14400, caller_id = "...",
 *   hangup_on_star = false, wait = "end" | "answer",
 *   action_url = "http://...", action_method = "POST",
 *   ring_tone = "us", record = "none" | "mixed" | "dual" }
 * Context: a session. Rings every target at once; the first to answer is
 * bridged to this call (answered then if needed); waits until no target
 * can answer or the bridge ends (wait = "end", the default), or only
 * until a target answers (wait = "answer": status "answered", the bridge
 * stays up; when it ends the call is hung up unless new RCML took it).
 * An answered call hears ringback meanwhile, of the country ring_tone
 * names (Twilio's ringTone: "us", "uk", "de", ...; unknown codes: "us").
 * action_url (absolute) is requested by the call module itself, with the
 * action parameters, when this call hangs up while bridged (its session
 * cannot run a document any more); otherwise acting on the result is the
 * caller's business. record: the bridge is recorded from the answer to
 * its end (both legs into one channel, or one channel each); the result
 * then has recording_url (the result waits until the file is stored).
 * Returns { sid, status, duration, ring_duration, sip_call_id, sip_status,
 *   headers = { {name, value}, ... }, recording_url } (status: completed, busy,
 *   no-answer, failed, canceled), or nil, reason ("hangup" when this call
 *   ended, "invalid" for an unusable target). */
int sb__lua_call_dial(lua_State *L)
{
    const sb_lua_call_ops_t *ops;
    void *call = sb__lua_call_get(L, 1, &ops);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (call == NULL)
        return sb_lua_push_error(L, SB_EHANGUP);
    if (ops->dial == NULL)
        return luaL_error(L, "this call cannot dial");
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);

    if (lua_getfield(L, 2, "targets") != LUA_TTABLE)
        return luaL_error(L, "dial: targets must be a list");
    int ti = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, ti);
    if (n < 1 || n > SB_DIAL_MAX_TARGETS)
        return luaL_error(L, "dial: 1 to %d targets expected", SB_DIAL_MAX_TARGETS);

    /* Everything is copied by ops->dial before this function yields. */
    sb_call_dial_target_t targets[SB_DIAL_MAX_TARGETS];
    sb_call_pair_t *hdrs = lua_newuserdatauv(L, sizeof(sb_call_pair_t) *
                                                    SB_DIAL_MAX_HEADERS *
                                                    (size_t)n, 0);
    for (lua_Integer k = 1; k <= n; k++) {
        if (lua_rawgeti(L, ti, k) != LUA_TTABLE)
            return luaL_error(L, "dial: target %d must be a table", (int)k);
        parse_target(L, lua_gettop(L), &targets[k - 1],
                     hdrs + (k - 1) * SB_DIAL_MAX_HEADERS);
        lua_pop(L, 1);
    }
    sb_call_dial_opts_t opts = {
        .targets = targets,
        .target_count = (size_t)n,
        .timeout_s = (int)opt_integer(L, 2, "timeout", 30, 1, 86400),
        .time_limit_s = (int)opt_integer(L, 2, "time_limit", 14400, 1, 86400 * 7),
        .caller_id = opt_string(L, 2, "caller_id"),
        .action_url = opt_string(L, 2, "action_url"),
        .action_method = opt_string(L, 2, "action_method"),
        .ring_tone = opt_string(L, 2, "ring_tone"),
    };
    lua_getfield(L, 2, "hangup_on_star");
    opts.hangup_on_star = lua_toboolean(L, -1);
    lua_pop(L, 1);
    const char *record = opt_string(L, 2, "record");
    if (record && strcmp(record, "mixed") == 0)
        opts.record = 1;
    else if (record && strcmp(record, "dual") == 0)
        opts.record = 2;
    else if (record && strcmp(record, "none") != 0)
        return luaL_error(L, "dial: record must be \"none\", \"mixed\" or \"dual\"");
    const char *wait = opt_string(L, 2, "wait");
    if (wait && strcmp(wait, "answer") == 0)
        opts.return_on_answer = 1;
    else if (wait && strcmp(wait, "end") != 0)
        return luaL_error(L, "dial: wait must be \"answer\" or \"end\"");

    dial_op_t *d = SB_NEW(dial_op_t);
    d->op.cancel = dial_op_cancel;
    d->call = call;
    d->ops = ops;
    ops->ref(call);
    rc = ops->dial(call, &opts, on_dial_done, d, &d->req);
    if (rc < 0) {
        ops->unref(call);
        free(d);
        return sb_lua_push_error(L, rc == SB_EHANGUP ? SB_EHANGUP : rc);
    }
    /* ops->dial copied what it needs: drop the arguments and the header
     * scratch, which would otherwise stay on the waiting session's stack
     * (and alive) for the whole call. */
    lua_settop(L, 0);
    return sb_lua_op_yield(L, s, &d->op);
}

/* ------------------------------------------------------------------------ */
/* call:redirect, call:unbridge, call:bridge (transfers)                    */
/* ------------------------------------------------------------------------ */

/* Owner: itself; freed by on_req_done or req_op_cancel. Holds one call
 * reference while pending. */
typedef struct req_op_s {
    sb_lua_op_t op;
    sb_call_t *call;
    sb_call_req_t *req;
} req_op_t;

static void on_req_done(int err, void *arg)
{
    req_op_t *r = arg;
    sb_lua_session_t *s = sb_lua_op_finish(&r->op);
    sb_call_unref(r->call);
    free(r);
    if (s == NULL)
        return;
    sb_lua_session_resume_status(s, err);
}

static void req_op_cancel(sb_lua_op_t *op)
{
    req_op_t *r = (req_op_t *)op;
    sb_call_req_cancel(r->req);
    sb_call_unref(r->call);
    free(r);
}

/* The real call at idx (raises for another kind of call object), or NULL
 * when it ended. */
static sb_call_t *real_call(lua_State *L, int idx, const char *what)
{
    const sb_lua_call_ops_t *ops;
    void *call = sb__lua_call_get(L, idx, &ops);
    if (ops != &sb_lua_real_call_ops)
        luaL_error(L, "%s: not supported by this call object", what);
    return call;
}

/* Common tail: check the session, start the request with start(), yield. */
static int req_start(lua_State *L, sb_call_t *call,
                     int (*start)(lua_State *L, sb_call_t *call, req_op_t *r))
{
    if (call == NULL)
        return sb_lua_push_error(L, SB_EHANGUP);
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    req_op_t *r = SB_NEW(req_op_t);
    r->op.cancel = req_op_cancel;
    r->call = call;
    sb_call_ref(call);
    rc = start(L, call, r);
    if (rc < 0) {
        sb_call_unref(call);
        free(r);
        return sb_lua_push_error(L, rc);
    }
    return sb_lua_op_yield(L, s, &r->op);
}

static int start_unbridge(lua_State *L, sb_call_t *call, req_op_t *r)
{
    (void)L;
    return sb_call_unbridge(call, on_req_done, r, &r->req);
}

/* call:unbridge()
 * Context: a session. Takes the call out of the bridge it is in (a Dial's
 * or call:bridge's): both calls stay up, unconnected; the RCML that made
 * the Dial stops without running further. Returns true, or nil, reason. */
int sb__lua_call_unbridge(lua_State *L)
{
    return req_start(L, real_call(L, 1, "call:unbridge"), start_unbridge);
}

static int start_redirect(lua_State *L, sb_call_t *call, req_op_t *r)
{
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *url = opt_string(L, 2, "url");
    if (url == NULL || *url == '\0')
        luaL_error(L, "call:redirect: url expected");
    sb_call_pair_t params[64];
    size_t n = 0;
    if (lua_getfield(L, 2, "params") == LUA_TTABLE) {
        int t = lua_gettop(L);
        lua_Integer len = (lua_Integer)lua_rawlen(L, t);
        for (lua_Integer k = 1; k <= len && n < SB_COUNTOF(params); k++) {
            if (lua_rawgeti(L, t, k) == LUA_TTABLE) {
                lua_rawgeti(L, -1, 1);
                lua_rawgeti(L, -2, 2);
                if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
                    /* Both stay referenced by the pair table. */
                    params[n].name = lua_tostring(L, -2);
                    params[n].value = lua_tostring(L, -1);
                    n++;
                }
                lua_pop(L, 2);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    static const char *const peers[] = {"hangup", "keep", "move", NULL};
    lua_getfield(L, 2, "peer");
    int peer = luaL_checkoption(L, -1, "hangup", peers);
    lua_pop(L, 1);
    sb_call_app_t app = {
        .url = url,
        .method = opt_string(L, 2, "method"),
        .fallback_url = opt_string(L, 2, "fallback_url"),
        .fallback_method = opt_string(L, 2, "fallback_method"),
        .params = params,
        .param_count = n,
    };
    return sb_call_redirect(call, &app, peer == 1 ? SB_REDIRECT_KEEP_PEER
                                        : peer == 2 ? SB_REDIRECT_MOVE_PEER
                                                    : SB_REDIRECT_HANGUP_PEER,
                            on_req_done, r, &r->req);
}

/* call:redirect{ url =, method = "POST", fallback_url =, fallback_method =,
 *                params = { {name, value}, ... }, peer = "hangup" }
 * Context: a session. New RCML on the call from now on: it is taken out of
 * its bridge, its current application stops and the document at url runs
 * with the call's parameters plus params, on every request of that
 * session. The call it was bridged to is hung up (peer = "hangup", as
 * Restcomm's live call modification does), left up and alone ("keep":
 * a transfer handler that ends it itself), or runs the same url too
 * ("move": MoveConnectedCallLeg). Returns true once it started, or nil,
 * reason. */
int sb__lua_call_redirect(lua_State *L)
{
    return req_start(L, real_call(L, 1, "call:redirect"), start_redirect);
}

static int start_bridge(lua_State *L, sb_call_t *call, req_op_t *r)
{
    sb_call_t *other = real_call(L, 2, "call:bridge");
    if (other == NULL)
        return SB_EHANGUP;
    return sb_call_bridge(call, other, on_req_done, r, &r->req);
}

/* call:bridge(other)
 * Context: a session. Connects the two calls (each taken out of any bridge
 * first) and waits until one of them ends; the other is then hung up.
 * Returns true, or nil, reason ("hangup" when one was already over). */
int sb__lua_call_bridge(lua_State *L)
{
    luaL_checkudata(L, 2, "sb.call");
    return req_start(L, real_call(L, 1, "call:bridge"), start_bridge);
}

/* ------------------------------------------------------------------------ */
/* The ops of real calls                                                    */
/* ------------------------------------------------------------------------ */

static void r_ref(void *call) { sb_call_ref(call); }
static void r_unref(void *call) { sb_call_unref(call); }

static void r_info(void *call, sb_rcml_call_info_t *ci)
{
    sb_call_rcml_info(call, ci);
}

static int r_hangup(void *call) { return sb_call_hangup(call); }
static int r_reject(void *call, int status) { return sb_call_reject(call, status); }

static int r_answer(void *call, sb_lua_call_done_cb cb, void *arg, void **req)
{
    sb_call_req_t *r = NULL;
    int rc = sb_call_answer(call, cb, arg, &r);
    *req = r;
    return rc;
}

static void r_cancel(void *call, void *req)
{
    (void)call;
    sb_call_req_cancel(req);
}

static int r_dial(void *call, const sb_call_dial_opts_t *opts,
                  sb_call_dial_done_cb cb, void *arg, void **req)
{
    sb_call_dial_t *d = NULL;
    int rc = sb_call_dial(call, opts, cb, arg, &d);
    *req = d;
    return rc;
}

static void r_dial_cancel(void *call, void *req)
{
    (void)call;
    sb_call_dial_cancel(req);
}

static int r_play(void *call, const sb_call_play_opts_t *opts,
                  sb_call_play_done_cb cb, void *arg, void **req)
{
    sb_call_play_t *p = NULL;
    int rc = sb_call_play(call, opts, cb, arg, &p);
    *req = p;
    return rc;
}

static void r_play_cancel(void *call, void *req)
{
    (void)call;
    sb_call_play_cancel(req);
}

static int r_prefetch(void *call, const sb_call_play_opts_t *opts)
{
    return sb_call_prefetch(call, opts);
}

static int r_gather_start(void *call, const sb_call_gather_opts_t *opts,
                          void **g)
{
    sb_call_gather_t *out = NULL;
    int rc = sb_call_gather_start(call, opts, &out);
    *g = out;
    return rc;
}

static void r_gather_wait(void *call, void *g, sb_call_gather_done_cb cb,
                          void *arg)
{
    (void)call;
    sb_call_gather_wait(g, cb, arg);
}

static void r_gather_cancel(void *call, void *g)
{
    (void)call;
    sb_call_gather_cancel(g);
}

static int r_record(void *call, const sb_call_record_opts_t *opts,
                    sb_call_record_done_cb cb, void *arg, void **req)
{
    sb_call_record_t *r = NULL;
    int rc = sb_call_record(call, opts, cb, arg, &r);
    *req = r;
    return rc;
}

static void r_record_detach(void *call, void *req)
{
    (void)call;
    sb_call_record_detach(req);
}

static int r_conference(void *call, const sb_call_conf_opts_t *opts,
                        sb_call_conf_done_cb cb, void *arg)
{
    return sb_call_conference(call, opts, cb, arg);
}

static int r_conference_waiting(void *call)
{
    return sb_call_conference_waiting(call);
}

static void r_conference_leave(void *call)
{
    sb_call_conference_leave(call);
}

static void r_conference_detach(void *call)
{
    sb_call_conference_detach(call);
}

const sb_lua_call_ops_t sb_lua_real_call_ops = {
    .ref = r_ref,
    .unref = r_unref,
    .info = r_info,
    .hangup = r_hangup,
    .reject = r_reject,
    .answer = r_answer,
    .cancel = r_cancel,
    .dial = r_dial,
    .dial_cancel = r_dial_cancel,
    .play = r_play,
    .play_cancel = r_play_cancel,
    .prefetch = r_prefetch,
    .gather_start = r_gather_start,
    .gather_wait = r_gather_wait,
    .gather_cancel = r_gather_cancel,
    .record = r_record,
    .record_detach = r_record_detach,
    .conference = r_conference,
    .conference_waiting = r_conference_waiting,
    .conference_leave = r_conference_leave,
    .conference_detach = r_conference_detach,
};

/* ------------------------------------------------------------------------ */
/* The runner                                                               */
/* ------------------------------------------------------------------------ */

/* One RCML session on a call: the runner's session handle. Owner: itself,
 * freed when the session's done fires. Holds one call reference. */
typedef struct run_s {
    sb_call_t *call;
    sb_lua_session_t *s;
    int stopped;                /* ended by the runner's stop */
} run_t;

static void on_run_done(sb_lua_session_t *s, int status, const char *msg,
                        void *arg)
{
    (void)s;
    (void)msg;
    run_t *r = arg;
    if (r->stopped)
        sb_call_app_detach(r->call, r);
    else
        sb_call_app_done(r->call, r, status);
    sb_call_unref(r->call);
    free(r);
}

static int run_start(void *arg, sb_call_t *call, const sb_call_app_t *app)
{
    sb_lua_t *rt = arg;
    run_t *r = SB_NEW(run_t);
    r->call = call;
    sb_call_ref(call);
    int rc = sb_lua_session_new(rt, sb_call_sid(call), on_run_done, r, &r->s);
    if (rc != 0) {
        sb_call_unref(call);
        free(r);
        return rc;
    }
    sb_call_app_attach(call, r);
    sb_rcml_params_t extra = SB_RCML_PARAMS_INIT;
    for (size_t i = 0; i < app->param_count; i++)
        sb_rcml_params_add(&extra, app->params[i].name, app->params[i].value);
    sb_lua_app_t la = {
        .url = app->url,
        .method = app->method,
        .fallback_url = app->fallback_url,
        .fallback_method = app->fallback_method,
        .extra = app->param_count ? &extra : NULL,
    };
    if (app->document) {
        la.doc_status = app->document->status;
        la.doc_body = app->document->body;
        la.doc_len = app->document->body_len;
        la.doc_type = app->document->content_type;
        la.doc_url = app->document->url;
    }
    rc = sb_lua_session_start_rcml(r->s, call, &sb_lua_real_call_ops, &la);
    sb_rcml_params_free(&extra);
    if (rc != 0) {
        /* Not started: close it quietly (done fires now and frees r). */
        r->stopped = 1;
        sb_lua_session_close(r->s);
    }
    return rc;
}

static void run_cancel(void *arg, void *session, int err)
{
    (void)arg;
    run_t *r = session;
    sb_lua_session_cancel(r->s, err);
}

static void run_stop(void *arg, void *session)
{
    (void)arg;
    run_t *r = session;
    r->stopped = 1;
    sb_lua_session_close(r->s);
}

static void run_dead(void *arg, sb_call_t *call)
{
    sb_lua_call_dead(arg, call);
}

const sb_call_runner_t sb_lua_call_runner = {
    .start = run_start,
    .cancel = run_cancel,
    .stop = run_stop,
    .dead = run_dead,
    .refer = sb__lua_refer_run,
    .conf_event = sb__lua_conf_event,
};
