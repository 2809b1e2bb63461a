/*
 * lua_api_core.c: the built-in module "switchboard.core", the C half of
 * the host API that the Lua library (lua/switchboard) builds on.
 *
 * core.log(level, msg)          log a line, prefixed with the session SID
 * core.sid()                    SID of the running session, or nil
 * core.notify(t)                raise a Notification (see sb_lua_notify_cb)
 * core.sleep(seconds)           wait (yields); true | nil, reason
 * core.scan(dir)                relative paths of *.lua under dir, sorted
 * core.readfile(path [, max])   whole file as a string | nil, message
 * core.memory()                 bytes held by the state
 *
 * Also the timer op behind sleep and behind a bare coroutine.yield.
 * File access here is synchronous: it happens only when plugins load or
 * reload (a few small files), never on a call's path.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lua_int.h"

#define READFILE_DEFAULT_MAX (1024 * 1024)
#define SCAN_MAX_DEPTH 4
#define SLEEP_MAX_SECONDS 86400.0

/* core.log(level, msg): level is "error", "warn"/"warning", "info",
 * "debug" or "trace". Context: anywhere. Returns nothing. */
static int lcore_log(lua_State *L)
{
    const char *lvl = luaL_checkstring(L, 1);
    const char *msg = luaL_checkstring(L, 2);
    sb_log_level_t level;
    if (strcmp(lvl, "warning") == 0)
        level = SB_LOG_WARN;
    else if (sb_log_parse_level(lvl, &level) != 0)
        return luaL_argerror(L, 1, "unknown log level");
    sb_lua_session_t *s = sb_lua_session_of(L);
    const char *sid = s && s->sid[0] ? s->sid : NULL;
    if (!SB_LOG_ENABLED(level) && level != SB_LOG_ERROR)
        return 0;
    /* The plugin a line belongs to: the manager writes "plugin NAME: ..."
     * about a plugin and "[NAME] ..." for plugin:log. */
    char plugin[64] = "";
    size_t n = 0;
    int errors_in_plugin = 0;
    if (strncmp(msg, "plugin ", 7) == 0) {
        n = strcspn(msg + 7, ": ");
        if (n > 0 && n < sizeof plugin && msg[7 + n] == ':') {
            memcpy(plugin, msg + 7, n);
            plugin[n] = '\0';
            errors_in_plugin = 1;
        }
    } else if (msg[0] == '[') {
        n = strcspn(msg + 1, "] ");
        if (n > 0 && n < sizeof plugin && msg[1 + n] == ']') {
            memcpy(plugin, msg + 1, n);
            plugin[n] = '\0';
        }
    }
    /* An error the manager reports about a plugin's code (load, verb,
     * hook, route); a plugin's own plugin:log("error") is not one. */
    if (level == SB_LOG_ERROR && errors_in_plugin)
        sb_metrics_lua_error(plugin);
    if (SB_LOG_ENABLED(level))
        sb_log_emit_plugin(level, sid, plugin[0] ? plugin : NULL, "%s", msg);
    return 0;
}

/* core.sid(): returns the running session's SID, or nil. */
static int lcore_sid(lua_State *L)
{
    sb_lua_session_t *s = sb_lua_session_of(L);
    if (s && s->sid[0])
        lua_pushstring(L, s->sid);
    else
        lua_pushnil(L);
    return 1;
}

static const char *opt_field(lua_State *L, int idx, const char *name)
{
    lua_getfield(L, idx, name);
    const char *v = lua_isstring(L, -1) ? lua_tostring(L, -1) : NULL;
    lua_pop(L, 1);              /* the table still holds the string */
    return v;
}

/* core.notify{ code =, level = "error"|"warning", message =, url =,
 * method =, body =, call_sid =, account_sid = }. Context: anywhere.
 * Returns nothing. */
static int lcore_notify(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    sb_lua_t *rt = sb__lua_runtime(L);
    sb_lua_notification_t n;
    memset(&n, 0, sizeof n);
    lua_getfield(L, 1, "code");
    n.code = (int)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    const char *lvl = opt_field(L, 1, "level");
    n.level = lvl && strcmp(lvl, "error") != 0 ? 1 : 0;
    n.message = opt_field(L, 1, "message");
    if (n.message == NULL)
        n.message = "";
    n.url = opt_field(L, 1, "url");
    n.method = opt_field(L, 1, "method");
    n.body = opt_field(L, 1, "body");
    n.call_sid = opt_field(L, 1, "call_sid");
    n.account_sid = opt_field(L, 1, "account_sid");
    if (n.call_sid == NULL) {
        sb_lua_session_t *s = sb_lua_session_of(L);
        n.call_sid = s && s->sid[0] ? s->sid : NULL;
    }
    sb_log_call(n.level == 0 ? SB_LOG_ERROR : SB_LOG_WARN, n.call_sid,
                "notification %d: %s%s%s", n.code, n.message,
                n.url ? " url=" : "", n.url ? n.url : "");
    if (rt->notify)
        rt->notify(&n, rt->notify_arg);
    return 0;
}

static int lcore_memory(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)sb__lua_runtime(L)->mem_used);
    return 1;
}

/* ------------------------------------------------------------------------ */
/* sleep                                                                    */
/* ------------------------------------------------------------------------ */

/* Owner: itself; freed in on_sleep_closed. */
typedef struct sleep_op_s {
    sb_lua_op_t op;             /* first: the pending-slot view */
    sb_lua_t *rt;
    uv_timer_t timer;
    int push_true;
} sleep_op_t;

static void on_sleep_closed(uv_handle_t *h)
{
    sleep_op_t *sl = h->data;
    sb_lua_t *rt = sl->rt;
    free(sl);
    sb__lua_handle_closed(rt);
}

static void on_sleep_timer(uv_timer_t *t)
{
    sleep_op_t *sl = t->data;
    sb_lua_session_t *s = sb_lua_op_finish(&sl->op);
    int push_true = sl->push_true;
    uv_close((uv_handle_t *)&sl->timer, on_sleep_closed);
    if (s == NULL)
        return;
    if (push_true)
        lua_pushboolean(s->co, 1);
    sb_lua_session_resume(s, push_true ? 1 : 0);
}

static void sleep_cancel(sb_lua_op_t *op)
{
    sleep_op_t *sl = (sleep_op_t *)op;
    uv_timer_stop(&sl->timer);
    uv_close((uv_handle_t *)&sl->timer, on_sleep_closed);
}

void sb__lua_sleep_start(sb_lua_session_t *s, uint64_t ms, int push_true)
{
    sb_lua_t *rt = s->rt;
    sleep_op_t *sl = SB_NEW(sleep_op_t);
    sl->rt = rt;
    sl->push_true = push_true;
    sl->op.cancel = sleep_cancel;
    uv_timer_init(rt->loop, &sl->timer);
    sl->timer.data = sl;
    sb__lua_handle_open(rt);
    /* Never 0: libuv 1.44 runs a 0 ms timer started from a timer callback
     * again in the same pass, so a sleep(0) loop would never let the loop
     * reach I/O and the whole server would stop answering. */
    uv_timer_start(&sl->timer, on_sleep_timer, ms ? ms : 1, 0);
    sl->op.session = s;
    s->pending = &sl->op;
}

/* sleep(seconds)
 * Context: a session (verb, hook run by a session); raises elsewhere.
 * Waits seconds (fractions allowed, 0 yields to the event loop once).
 * Returns true, or nil, "hangup" when the session's call ends first. */
static int lcore_sleep(lua_State *L)
{
    lua_Number sec = luaL_checknumber(L, 1);
    luaL_argcheck(L, sec >= 0 && sec <= SLEEP_MAX_SECONDS, 1,
                  "seconds out of range");
    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    sb__lua_sleep_start(s, (uint64_t)(sec * 1000.0 + 0.5), 1);
    return lua_yield(L, 0);
}

/* ------------------------------------------------------------------------ */
/* Files (plugin loading only)                                              */
/* ------------------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n > m && strcmp(s + n - m, suffix) == 0;
}

static void scan_dir(lua_State *L, const char *root, const char *rel, int depth,
                     int *count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, rel[0] ? "/" : "", rel);
    DIR *d = opendir(path);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096], full[8192];
        snprintf(sub, sizeof sub, "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < SCAN_MAX_DEPTH)
                scan_dir(L, root, sub, depth + 1, count);
        } else if (S_ISREG(st.st_mode) && ends_with(e->d_name, ".lua")) {
            lua_pushstring(L, sub);
            lua_rawseti(L, -2, ++*count);
        }
    }
    closedir(d);
}

/* core.scan(dir): returns an array of paths relative to dir of every
 * regular *.lua file under it (hidden entries skipped, at most 4 folders
 * deep), sorted; an empty array when dir cannot be read. */
static int lcore_scan(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    int count = 0;
    lua_newtable(L);
    scan_dir(L, dir, "", 0, &count);
    /* Sort with table.sort for a stable load order. */
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_remove(L, -2);
    lua_pushvalue(L, -2);
    lua_call(L, 1, 0);
    return 1;
}

/* core.readfile(path [, max_bytes]): returns the file's content, or nil
 * and a message (missing, unreadable, over max_bytes: 1 MiB). */
static int lcore_readfile(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lua_Integer max = luaL_optinteger(L, 2, READFILE_DEFAULT_MAX);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: %s", path, strerror(errno));
        return 2;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    size_t total = 0;
    for (;;) {
        char *p = luaL_prepbuffer(&b);
        size_t n = fread(p, 1, LUAL_BUFFERSIZE, f);
        total += n;
        if ((lua_Integer)total > max) {
            fclose(f);
            lua_pushnil(L);
            lua_pushfstring(L, "%s: larger than %d bytes", path, (int)max);
            return 2;
        }
        luaL_addsize(&b, n);
        if (n < LUAL_BUFFERSIZE)
            break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s: read error", path);
        return 2;
    }
    luaL_pushresult(&b);
    return 1;
}

static const luaL_Reg core_funcs[] = {
    {"log", lcore_log},
    {"sid", lcore_sid},
    {"notify", lcore_notify},
    {"memory", lcore_memory},
    {"sleep", lcore_sleep},
    {"scan", lcore_scan},
    {"readfile", lcore_readfile},
    {NULL, NULL},
};

void sb__lua_inject_core(lua_State *L)
{
    luaL_setfuncs(L, core_funcs, 0);
}
