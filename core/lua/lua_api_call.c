/*
 * lua_api_call.c: the "sb.call" userdata, the call object plugins and the
 * RCML interpreter receive.
 *
 * A userdata holds a pointer to the call, its ops and one reference
 * (STYLE.md 6). The same call pushed twice gives the same userdata (a
 * weak-valued cache keyed by the call pointer), so handles compare equal.
 * When the call ends, sb_lua_call_dead marks the userdata dead and drops
 * its reference at once; __gc only drops the reference of a live handle,
 * it never hangs up.
 *
 * Fields: sid, account_sid, from, to, direction, status, caller_name,
 * answered, alive. Methods: params, answer (waits), hangup, reject,
 * pause (waits), play (waits), prefetch, gather and record
 * (lua_api_input.c), dial, redirect, unbridge, bridge (lua_api_dial.c).
 * See docs/plugin-api.md.
 */
#include <string.h>

#include "lua_int.h"

#define CALL_MT "sb.call"
#define CACHE_KEY "sb.call.cache"

/* Owner: Lua (full userdata). */
typedef struct lcall_s {
    void *call;                 /* NULL once dead */
    const sb_lua_call_ops_t *ops;
    int dead;
    char sid[SB_SID_SIZE];      /* kept after death for logs */
} lcall_t;

static lcall_t *check_call(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, CALL_MT);
}

static void push_cache(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
}

void sb_lua_call_push(sb_lua_t *rt, lua_State *L, void *call,
                      const sb_lua_call_ops_t *ops)
{
    SB_LUA_UNCAPPED_BEGIN(rt);
    push_cache(L);
    if (lua_rawgetp(L, -1, call) == LUA_TUSERDATA) {
        lua_remove(L, -2);
        SB_LUA_UNCAPPED_END(rt);
        return;
    }
    lua_pop(L, 1);
    lcall_t *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    c->call = call;
    c->ops = ops;
    sb_rcml_call_info_t ci;
    memset(&ci, 0, sizeof ci);
    ops->info(call, &ci);
    snprintf(c->sid, sizeof c->sid, "%s", ci.call_sid ? ci.call_sid : "");
    ops->ref(call);
    luaL_setmetatable(L, CALL_MT);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, -3, call);   /* cache[call] = ud */
    lua_remove(L, -2);
    SB_LUA_UNCAPPED_END(rt);
}

void sb_lua_call_dead(sb_lua_t *rt, void *call)
{
    lua_State *L = rt->L;
    if (L == NULL)
        return;
    push_cache(L);
    if (lua_rawgetp(L, -1, call) == LUA_TUSERDATA) {
        lcall_t *c = lua_touserdata(L, -1);
        if (!c->dead) {
            c->dead = 1;
            c->call = NULL;
            c->ops->unref(call);
        }
        lua_pushnil(L);
        lua_rawsetp(L, -3, call);
    }
    lua_pop(L, 2);
}

void *sb__lua_call_get(lua_State *L, int idx, const sb_lua_call_ops_t **ops)
{
    lcall_t *c = check_call(L, idx);
    *ops = c->ops;
    return c->dead ? NULL : c->call;
}

int sb__lua_call_info(lua_State *L, int idx, sb_rcml_call_info_t *ci)
{
    lcall_t *c = check_call(L, idx);
    memset(ci, 0, sizeof *ci);
    if (c->dead)
        return SB_EHANGUP;
    c->ops->info(c->call, ci);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Fields                                                                   */
/* ------------------------------------------------------------------------ */

static int lcall_index(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    const char *key = luaL_checkstring(L, 2);
    /* Methods first. */
    luaL_getmetatable(L, CALL_MT);
    lua_getfield(L, -1, "methods");
    if (lua_getfield(L, -1, key) != LUA_TNIL)
        return 1;
    lua_pop(L, 3);

    if (strcmp(key, "sid") == 0) {
        lua_pushstring(L, c->sid);
        return 1;
    }
    if (strcmp(key, "alive") == 0) {
        lua_pushboolean(L, !c->dead);
        return 1;
    }
    if (c->dead) {
        if (strcmp(key, "status") == 0)
            lua_pushliteral(L, "completed");
        else if (strcmp(key, "answered") == 0)
            lua_pushboolean(L, 0);
        else
            lua_pushnil(L);
        return 1;
    }
    if (strcmp(key, "quality") == 0) {
        /* The media so far: { codec, received, sent, lost, loss_percent,
         * jitter_ms, r, mos } (sb_call_quality), or nil. */
        sb_call_quality_t q;
        if (c->ops != &sb_lua_real_call_ops || sb_call_quality(c->call, &q) != 0) {
            lua_pushnil(L);
            return 1;
        }
        lua_createtable(L, 0, 8);
        lua_pushstring(L, q.codec);
        lua_setfield(L, -2, "codec");
        lua_pushinteger(L, (lua_Integer)q.received);
        lua_setfield(L, -2, "received");
        lua_pushinteger(L, (lua_Integer)q.sent);
        lua_setfield(L, -2, "sent");
        lua_pushinteger(L, (lua_Integer)q.lost);
        lua_setfield(L, -2, "lost");
        lua_pushnumber(L, q.loss_pct);
        lua_setfield(L, -2, "loss_percent");
        lua_pushnumber(L, q.jitter_ms);
        lua_setfield(L, -2, "jitter_ms");
        lua_pushnumber(L, q.r);
        lua_setfield(L, -2, "r");
        lua_pushnumber(L, q.mos);
        lua_setfield(L, -2, "mos");
        return 1;
    }
    sb_rcml_call_info_t ci;
    memset(&ci, 0, sizeof ci);
    c->ops->info(c->call, &ci);
    const char *v = NULL;
    if (strcmp(key, "account_sid") == 0)
        v = ci.account_sid;
    else if (strcmp(key, "from") == 0)
        v = ci.from;
    else if (strcmp(key, "to") == 0)
        v = ci.to;
    else if (strcmp(key, "direction") == 0)
        v = ci.direction;
    else if (strcmp(key, "status") == 0)
        v = ci.call_status;
    else if (strcmp(key, "caller_name") == 0)
        v = ci.caller_name;
    else if (strcmp(key, "answered") == 0) {
        lua_pushboolean(L, ci.call_status &&
                               strcmp(ci.call_status, "in-progress") == 0);
        return 1;
    }
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

static int lcall_newindex(lua_State *L)
{
    return luaL_error(L, "sb.call fields are read-only");
}

static int lcall_tostring(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    lua_pushfstring(L, "sb.call: %s%s", c->sid, c->dead ? " (ended)" : "");
    return 1;
}

static int lcall_gc(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    if (!c->dead && c->call) {
        c->dead = 1;
        c->ops->unref(c->call);
        c->call = NULL;
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* Methods                                                                  */
/* ------------------------------------------------------------------------ */

static int push_params(lua_State *L)
{
    sb_lua_push_params(L, lua_touserdata(L, 1));
    return 1;
}

/* call:params()
 * Context: anywhere. Returns the standard voice-request parameters
 * (restcomm.md 3.1) as an array of { name, value }, or nil, "hangup". */
static int lcall_params(lua_State *L)
{
    sb_rcml_call_info_t ci;
    if (sb__lua_call_info(L, 1, &ci) < 0)
        return sb_lua_push_error(L, SB_EHANGUP);
    sb_rcml_params_t p = SB_RCML_PARAMS_INIT;
    sb_rcml_voice_params(&ci, &p);
    /* Copy into Lua under a protected call (a memory error must not leak
     * the list), then free. */
    lua_pushcfunction(L, push_params);
    lua_pushlightuserdata(L, &p);
    int rc = lua_pcall(L, 1, 1, 0);
    sb_rcml_params_free(&p);
    if (rc != LUA_OK)
        return lua_error(L);
    return 1;
}

/* call:hangup()
 * Context: anywhere. Ends the call (whatever its state).
 * Returns true, or nil, reason ("hangup" when it had already ended). */
static int lcall_hangup(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    if (c->dead)
        return sb_lua_push_error(L, SB_EHANGUP);
    void *call = c->call;
    const sb_lua_call_ops_t *ops = c->ops;
    int rc = ops->hangup(call);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* call:mute(on)
 * Context: anywhere. What the call's phone says stops reaching the party
 * it is bridged to, or its conference room (on = false: again).
 * Returns true, or nil, reason ("hangup"). */
static int lcall_mute(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    int on = lua_toboolean(L, 2);
    if (c->dead)
        return sb_lua_push_error(L, SB_EHANGUP);
    if (c->ops != &sb_lua_real_call_ops)
        return luaL_error(L, "call:mute: not supported by this call object");
    int rc = sb_call_mute(c->call, on);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* call:reject(status)
 * Context: anywhere, before the call is answered. status: a SIP final
 * status 400..699 (603 Decline, 486 Busy Here). Returns true, or nil,
 * reason ("state" when the call was already answered, "hangup"). */
static int lcall_reject(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    lua_Integer status = luaL_checkinteger(L, 2);
    luaL_argcheck(L, status >= 400 && status <= 699, 2,
                  "SIP status 400..699 expected");
    if (c->dead)
        return sb_lua_push_error(L, SB_EHANGUP);
    int rc = c->ops->reject(c->call, (int)status);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    lua_pushboolean(L, 1);
    return 1;
}

/* Owner: itself; freed by on_answered or answer_cancel. Holds one call
 * reference while pending. */
typedef struct answer_op_s {
    sb_lua_op_t op;
    void *call;
    const sb_lua_call_ops_t *ops;
    void *req;
} answer_op_t;

static void on_answered(int err, void *arg)
{
    answer_op_t *a = arg;
    sb_lua_session_t *s = sb_lua_op_finish(&a->op);
    a->ops->unref(a->call);
    free(a);
    if (s == NULL)
        return;
    sb_lua_session_resume_status(s, err);
}

static void answer_cancel(sb_lua_op_t *op)
{
    answer_op_t *a = (answer_op_t *)op;
    a->ops->cancel(a->call, a->req);
    a->ops->unref(a->call);
    free(a);
}

/* call:answer()
 * Context: a session. Answers the call and waits for the answer to
 * complete. Returns true (also when already answered), or nil, reason. */
static int lcall_answer(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    if (c->dead)
        return sb_lua_push_error(L, SB_EHANGUP);
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    answer_op_t *a = SB_NEW(answer_op_t);
    a->op.cancel = answer_cancel;
    a->call = c->call;
    a->ops = c->ops;
    a->ops->ref(a->call);
    rc = c->ops->answer(c->call, on_answered, a, &a->req);
    if (rc < 0) {
        a->ops->unref(a->call);
        free(a);
        return sb_lua_push_error(L, rc);
    }
    return sb_lua_op_yield(L, s, &a->op);
}

/* Owner: itself; freed by on_played or play_op_cancel. Holds one call
 * reference while pending. */
typedef struct play_op_s {
    sb_lua_op_t op;
    void *call;
    const sb_lua_call_ops_t *ops;
    void *req;
    int pause;                  /* call:pause: true or nil, reason only */
} play_op_t;

static void on_played(const sb_call_play_result_t *r, void *arg)
{
    play_op_t *p = arg;
    sb_lua_session_t *s = sb_lua_op_finish(&p->op);
    int pause = p->pause;
    p->ops->unref(p->call);
    free(p);
    if (s == NULL)
        return;
    lua_State *co = sb_lua_session_thread(s);
    if (r->err == 0) {
        lua_pushboolean(co, 1);
        if (pause) {
            sb_lua_session_resume(s, 1);
            return;
        }
        lua_createtable(co, 0, 1);
        if (r->language_fallback) {
            lua_pushboolean(co, 1);
            lua_setfield(co, -2, "language_fallback");
        }
        sb_lua_session_resume(s, 2);
        return;
    }
    lua_pushnil(co);
    lua_pushstring(co, sb_err_reason(r->err));
    if (pause || r->why == NULL) {
        sb_lua_session_resume(s, 2);
        return;
    }
    lua_pushstring(co, r->why);
    sb_lua_session_resume(s, 3);
}

static void play_op_cancel(sb_lua_op_t *op)
{
    play_op_t *p = (play_op_t *)op;
    p->ops->play_cancel(p->call, p->req);
    p->ops->unref(p->call);
    free(p);
}

/* Starts opts on the call at index 1 and yields; on a refusal pushes
 * nil, reason, detail at once. */
static int play_start(lua_State *L, lcall_t *c, sb_lua_session_t *s,
                      const sb_call_play_opts_t *opts, int pause)
{
    play_op_t *p = SB_NEW(play_op_t);
    p->op.cancel = play_op_cancel;
    p->call = c->call;
    p->ops = c->ops;
    p->pause = pause;
    p->ops->ref(p->call);
    int rc = c->ops->play(c->call, opts, on_played, p, &p->req);
    if (rc < 0) {
        p->ops->unref(p->call);
        free(p);
        if (pause && rc != SB_EHANGUP && rc != SB_EINTERRUPTED) {
            /* No media to pace it (no endpoint): a timer does. */
            sb__lua_sleep_start(s, opts->ms, 1);
            return lua_yield(L, 0);
        }
        if (pause)
            return sb_lua_push_error(L, rc);
        lua_pushnil(L);
        lua_pushstring(L, sb_err_reason(rc));
        if (opts->url)
            lua_pushfstring(L, "%s: %s", opts->url, sb_strerror(rc));
        else
            lua_pushstring(L, sb_strerror(rc));
        return 3;
    }
    /* The strings were copied: nothing on this stack is needed while the
     * session waits. */
    lua_settop(L, 0);
    return sb_lua_op_yield(L, s, &p->op);
}

/* A string field of the play table at idx, NULL when absent; raises for
 * another type or an empty string (borrowed from the table). */
static const char *play_field(lua_State *L, int idx, const char *name)
{
    int t = lua_getfield(L, idx, name);
    const char *v = NULL;
    if (t == LUA_TSTRING) {
        v = lua_tostring(L, -1);
        if (*v == '\0')
            luaL_error(L, "call:play: %s must not be empty", name);
    } else if (t != LUA_TNIL) {
        luaL_error(L, "call:play: %s must be a string, got %s", name,
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);          /* the table keeps the string alive */
    return v;
}

static lua_Integer play_int(lua_State *L, int idx, const char *name,
                            lua_Integer def, lua_Integer max)
{
    lua_Integer v = def;
    if (lua_getfield(L, idx, name) != LUA_TNIL) {
        int isnum;
        v = lua_tointegerx(L, -1, &isnum);
        if (!isnum || v < 0 || v > max)
            luaL_error(L, "call:play: %s must be an integer in 0..%d", name,
                       (int)max);
    }
    lua_pop(L, 1);
    return v;
}

/* call:play{ url =, text =, voice =, language =, tone =, digits =,
 *            loop = 1, ms = }
 * Also call:play(url).
 * Context: a session. Plays one of url (absolute http, https or file:
 * fetched through the audio cache), text (text-to-speech in voice and
 * language), tone ("ringback", "busy", "beep", "dialtone", with
 * ":<country>"), digits (in-band DTMF, 'w' half a second of pause), or,
 * with none of them, ms milliseconds of silence. loop: times to play, 0
 * until the call ends; ms: the length of a tone. An unanswered call is
 * answered first; the sound starts once the answer is confirmed. Waits
 * until the sound has been played.
 * Returns true, info ({ language_fallback = true } when the language was
 * not known and English was spoken), or nil, reason, detail: reason
 * "hangup", "network", "timeout", "not-found", "format", "too-big",
 * "forbidden", "invalid", "media" or "canceled"; detail one line for a
 * Notification ("HTTP 404 from http://x/a.wav"). Misuse (two sources,
 * nothing to play, wrong types) raises. */
static int lcall_play(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING) {
        lua_createtable(L, 0, 1);           /* call:play(url) */
        lua_pushvalue(L, 2);
        lua_setfield(L, -2, "url");
        lua_replace(L, 2);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    sb_call_play_opts_t opts = {
        .url = play_field(L, 2, "url"),
        .text = play_field(L, 2, "text"),
        .voice = play_field(L, 2, "voice"),
        .language = play_field(L, 2, "language"),
        .tone = play_field(L, 2, "tone"),
        .digits = play_field(L, 2, "digits"),
        .loop = (int)play_int(L, 2, "loop", 1, 10000),
        .ms = (unsigned)play_int(L, 2, "ms", 0, 86400000),
    };
    int sources = !!opts.url + !!opts.text + !!opts.tone + !!opts.digits;
    if (sources > 1)
        return luaL_error(L, "call:play: give only one of url, text, tone "
                          "and digits");
    if (sources == 0 && opts.ms == 0)
        return luaL_error(L, "call:play: nothing to play (url, text, tone, "
                          "digits or ms expected)");
    if (c->dead)
        return sb_lua_push_error(L, SB_EHANGUP);
    if (c->ops->play == NULL)
        return luaL_error(L, "this call cannot play");
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    return play_start(L, c, s, &opts, 0);
}

/* call:prefetch(list)
 * list: { { url = "http://..." }, { text =, voice =, language = }, ... }
 * Context: anywhere. Starts fetching each URL into the audio cache and
 * synthesizing each text, without playing and without waiting, so that a
 * document's Play and Say find them ready. Items that are not usable
 * (wrong types, a refused URL) are skipped; nothing fails.
 * Returns the number of items started. */
static int lcall_prefetch(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer started = 0;
    if (!c->dead && c->ops->prefetch) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
        if (n > 256)
            n = 256;                        /* a document's worth */
        for (lua_Integer k = 1; k <= n; k++) {
            if (lua_rawgeti(L, 2, k) != LUA_TTABLE) {
                lua_pop(L, 1);
                continue;
            }
            sb_call_play_opts_t opts;
            memset(&opts, 0, sizeof opts);
            const char **slots[] = {&opts.url, &opts.text, &opts.voice,
                                    &opts.language};
            static const char *const names[] = {"url", "text", "voice",
                                                "language"};
            for (int i = 0; i < 4; i++) {
                if (lua_getfield(L, -1, names[i]) == LUA_TSTRING)
                    *slots[i] = lua_tostring(L, -1);
                lua_pop(L, 1);              /* the item keeps it alive */
            }
            if ((opts.url || opts.text) && c->ops->prefetch(c->call, &opts) == 0)
                started++;
            lua_pop(L, 1);
        }
    }
    lua_pushinteger(L, started);
    return 1;
}

/* call:pause(seconds)
 * Context: a session. Waits. On an answered call the wait is silence
 * played on the media clock (so it ends on a frame boundary with the
 * sound around it); before the answer nothing is sent (a Pause before
 * answer keeps the call ringing). Returns true, or nil, "hangup" when
 * the call ends first. */
static int lcall_pause(lua_State *L)
{
    lcall_t *c = check_call(L, 1);
    lua_Number sec = luaL_checknumber(L, 2);
    luaL_argcheck(L, sec >= 0 && sec <= 86400, 2, "seconds out of range");
    if (c->dead)
        return sb_lua_push_error(L, SB_EHANGUP);
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    uint64_t ms = (uint64_t)(sec * 1000.0 + 0.5);
    if (ms > 0 && c->ops->play) {
        sb_rcml_call_info_t ci;
        memset(&ci, 0, sizeof ci);
        c->ops->info(c->call, &ci);
        if (ci.call_status && strcmp(ci.call_status, "in-progress") == 0) {
            sb_call_play_opts_t opts = {.loop = 1, .ms = (unsigned)ms};
            return play_start(L, c, s, &opts, 1);
        }
    }
    sb__lua_sleep_start(s, ms, 1);
    return lua_yield(L, 0);
}

static const luaL_Reg call_methods[] = {
    {"params", lcall_params},
    {"hangup", lcall_hangup},
    {"mute", lcall_mute},
    {"reject", lcall_reject},
    {"answer", lcall_answer},
    {"pause", lcall_pause},
    {"play", lcall_play},
    {"prefetch", lcall_prefetch},
    {"gather", sb__lua_call_gather},
    {"record", sb__lua_call_record},
    {"conference", sb__lua_call_conference},
    {"dial", sb__lua_call_dial},
    {"redirect", sb__lua_call_redirect},
    {"unbridge", sb__lua_call_unbridge},
    {"bridge", sb__lua_call_bridge},
    {NULL, NULL},
};

static const luaL_Reg call_meta[] = {
    {"__index", lcall_index},
    {"__newindex", lcall_newindex},
    {"__tostring", lcall_tostring},
    {"__gc", lcall_gc},
    {NULL, NULL},
};

void sb__lua_inject_call(lua_State *L)
{
    luaL_newmetatable(L, CALL_MT);          /* sets __name = "sb.call" */
    luaL_setfuncs(L, call_meta, 0);
    luaL_newlib(L, call_methods);
    lua_setfield(L, -2, "methods");
    lua_pushliteral(L, CALL_MT);
    lua_setfield(L, -2, "__metatable");     /* plugins cannot change it */
    lua_pop(L, 1);

    lua_newtable(L);                        /* the weak-valued cache */
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, CACHE_KEY);
}

int sb_lua_session_start_rcml(sb_lua_session_t *s, void *call,
                              const sb_lua_call_ops_t *ops,
                              const sb_lua_app_t *app)
{
    int rc = sb_lua_session_push_function(s, "switchboard.host", "run_rcml");
    if (rc < 0)
        return rc;
    lua_State *co = sb_lua_session_thread(s);
    sb_lua_call_push(s->rt, co, call, ops);
    SB_LUA_UNCAPPED_BEGIN(s->rt);
    lua_createtable(co, 0, 5);
    if (app->url) {
        lua_pushstring(co, app->url);
        lua_setfield(co, -2, "url");
    }
    lua_pushstring(co, app->method ? app->method : "POST");
    lua_setfield(co, -2, "method");
    if (app->fallback_url) {
        lua_pushstring(co, app->fallback_url);
        lua_setfield(co, -2, "fallback_url");
    }
    lua_pushstring(co, app->fallback_method ? app->fallback_method : "POST");
    lua_setfield(co, -2, "fallback_method");
    if (app->extra) {
        sb_lua_push_params(co, app->extra);
        lua_setfield(co, -2, "params");
    }
    if (app->timeout_ms > 0) {
        lua_pushnumber(co, app->timeout_ms / 1000.0);
        lua_setfield(co, -2, "timeout");
    }
    if (app->doc_body) {
        /* As host.fetch answers: { status, body, content_type, url }. */
        lua_createtable(co, 0, 4);
        lua_pushinteger(co, app->doc_status);
        lua_setfield(co, -2, "status");
        lua_pushlstring(co, app->doc_body, app->doc_len);
        lua_setfield(co, -2, "body");
        if (app->doc_type) {
            lua_pushstring(co, app->doc_type);
            lua_setfield(co, -2, "content_type");
        }
        lua_pushstring(co, app->doc_url ? app->doc_url : app->url);
        lua_setfield(co, -2, "url");
        lua_setfield(co, -2, "document");
    }
    SB_LUA_UNCAPPED_END(s->rt);
    return sb_lua_session_start(s, 2);
}
