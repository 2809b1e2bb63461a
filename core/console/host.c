/*
 * host.c: the Lua module "switchboard.console.host", the C half of the
 * console helpers (lua/switchboard/console.lua is the other half). Each
 * function is a closure over a box holding the console; once the console
 * closes the box is emptied and the functions answer nil, "unavailable"
 * (write does nothing).
 *
 * host.write(conn_id, stream, text)   print() output of a console
 * host.has(name)                      whether hook `name` is wired
 * host.calls() / conferences() / registrations() / numbers()
 *                                     rows, columns | nil, reason
 * host.call(sid)                      call object | nil, reason
 * host.sip_trace(on)                  previous boolean | nil, reason
 * host.log_level([name])              level name (sets it when given)
 * host.stats()                        table (console.lua documents it)
 *
 * Context: console sessions (anywhere Lua runs, in fact); none waits.
 */
#include <string.h>

#include <lauxlib.h>

#include "con_int.h"

#define ROWS_MT "sb.console.rows"
#define BOX_MT "sb.console"

enum { LIST_CALLS, LIST_REGISTRATIONS, LIST_NUMBERS, LIST_CONFERENCES };

static sb_con_t *con_of(lua_State *L)
{
    sb__con_box_t *box = lua_touserdata(L, lua_upvalueindex(1));
    return box ? box->con : NULL;
}

static int unavailable(lua_State *L)
{
    lua_pushnil(L);
    lua_pushliteral(L, "unavailable");
    return 2;
}

/* host.write(conn_id, stream, text). Returns nothing. */
static int lhost_write(lua_State *L)
{
    lua_Integer id = luaL_checkinteger(L, 1);
    const char *stream = luaL_checkstring(L, 2);
    size_t len;
    const char *text = luaL_checklstring(L, 3, &len);
    sb_con_t *con = con_of(L);
    if (con == NULL || id < 0)
        return 0;
    sb__con_conn_t *c = sb__con_find(con, (uint64_t)id);
    if (c)
        sb__con_output(c, strcmp(stream, "stderr") == 0 ? "stderr" : "stdout",
                       text, len);
    return 0;
}

/* host.has(name): true when the hook of that name is wired. */
static int lhost_has(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    sb_con_t *con = con_of(L);
    int has = 0;
    if (con) {
        const sb_con_hooks_t *h = sb__con_hooks(con);
        has = (strcmp(name, "calls") == 0 && h->calls) ||
              (strcmp(name, "conferences") == 0 && h->conferences) ||
              (strcmp(name, "call") == 0 && h->call) ||
              (strcmp(name, "registrations") == 0 && h->registrations) ||
              (strcmp(name, "numbers") == 0 && h->numbers) ||
              (strcmp(name, "sip_trace") == 0 && h->sip_trace) ||
              (strcmp(name, "call_counts") == 0 && h->call_counts) ||
              (strcmp(name, "registered") == 0 && h->registered);
    }
    lua_pushboolean(L, has);
    return 1;
}

static int rows_gc(lua_State *L)
{
    sb__con_rows_clear(luaL_checkudata(L, 1, ROWS_MT));
    return 0;
}

/* Pushes rows (an array of tables) and columns (an array of names). */
static void push_rows(lua_State *L, const sb_con_rows_t *r)
{
    lua_createtable(L, r->nrows, 0);
    for (int i = 0; i < r->nrows; i++) {
        const sb__con_row_t *row = &r->rows[i];
        lua_createtable(L, 0, row->n);
        for (int j = 0; j < row->n; j++) {
            const sb__con_field_t *f = &row->fields[j];
            if (f->is_int)
                lua_pushinteger(L, (lua_Integer)f->i);
            else
                lua_pushstring(L, f->s);
            lua_setfield(L, -2, r->cols[f->col]);
        }
        lua_rawseti(L, -2, i + 1);
    }
    lua_createtable(L, r->ncols, 0);
    for (int i = 0; i < r->ncols; i++) {
        lua_pushstring(L, r->cols[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* host.calls() / host.registrations() / host.numbers() (upvalue 2 says
 * which): rows, columns | nil, "unavailable" | nil, reason. */
static int lhost_list(lua_State *L)
{
    sb_con_t *con = con_of(L);
    int which = (int)lua_tointeger(L, lua_upvalueindex(2));
    if (con == NULL)
        return unavailable(L);
    const sb_con_hooks_t *h = sb__con_hooks(con);
    sb_con_list_fn fn = NULL;
    void *arg = NULL;
    switch (which) {
    case LIST_CALLS: fn = h->calls, arg = h->calls_arg; break;
    case LIST_CONFERENCES: fn = h->conferences, arg = h->conferences_arg; break;
    case LIST_REGISTRATIONS:
        fn = h->registrations, arg = h->registrations_arg;
        break;
    default: fn = h->numbers, arg = h->numbers_arg; break;
    }
    if (fn == NULL)
        return unavailable(L);
    /* The rows live in a userdata until they are Lua tables: a memory
     * error while pushing them cannot leak them. */
    sb_con_rows_t *r = lua_newuserdatauv(L, sizeof *r, 0);
    memset(r, 0, sizeof *r);
    luaL_setmetatable(L, ROWS_MT);
    int rc = fn(arg, r);
    if (rc < 0) {
        sb__con_rows_clear(r);
        return sb_lua_push_error(L, rc);
    }
    push_rows(L, r);
    sb__con_rows_clear(r);
    return 2;
}

/* host.call(sid): the call object | nil, "not-found" | nil, reason. */
static int lhost_call(lua_State *L)
{
    const char *sid = luaL_checkstring(L, 1);
    sb_con_t *con = con_of(L);
    if (con == NULL || sb__con_hooks(con)->call == NULL)
        return unavailable(L);
    const sb_con_hooks_t *h = sb__con_hooks(con);
    int top = lua_gettop(L);
    int rc = h->call(h->call_arg, L, sid);
    if (rc < 0) {
        lua_settop(L, top);
        return sb_lua_push_error(L, rc);
    }
    if (rc == 0) {
        lua_settop(L, top);
        return sb_lua_push_error(L, SB_ENOENT);
    }
    lua_settop(L, top + 1);
    return 1;
}

/* host.sip_trace(on): the previous state | nil, reason. */
static int lhost_sip_trace(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TBOOLEAN);
    sb_con_t *con = con_of(L);
    if (con == NULL || sb__con_hooks(con)->sip_trace == NULL)
        return unavailable(L);
    const sb_con_hooks_t *h = sb__con_hooks(con);
    int rc = h->sip_trace(h->sip_trace_arg, lua_toboolean(L, 1));
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    lua_pushboolean(L, rc);
    return 1;
}

/* host.log_level([name]): sets the level when name is given; returns the
 * current level's name. Raises on an unknown name. */
static int lhost_log_level(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        const char *name = luaL_checkstring(L, 1);
        sb_log_level_t level;
        if (strcmp(name, "warning") == 0)
            level = SB_LOG_WARN;
        else if (sb_log_parse_level(name, &level) != 0)
            return luaL_argerror(L, 1, "unknown log level (error, warn, "
                                       "info, debug, trace)");
        if (level != sb_log_get_level()) {
            sb_log_set_level(level);
            sb_log_emit(SB_LOG_INFO, NULL, "console: log level set to %s",
                        sb_log_level_name(level));
        }
    }
    lua_pushstring(L, sb_log_level_name(sb_log_get_level()));
    return 1;
}

static void set_int(lua_State *L, const char *k, int64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

/* host.stats(): { uptime_ms, lua_memory, rss, consoles, calls_active,
 * calls_total, calls_per_second, registered_users, registered_contacts },
 * the call and registration fields only when their hooks are wired. */
static int lhost_stats(lua_State *L)
{
    sb_con_t *con = con_of(L);
    if (con == NULL)
        return unavailable(L);
    sb__con_stats_t st;
    sb__con_stats(con, &st);
    lua_createtable(L, 0, 9);
    set_int(L, "uptime_ms", st.uptime_ms);
    set_int(L, "lua_memory", (int64_t)st.lua_memory);
    set_int(L, "rss", (int64_t)st.rss);
    set_int(L, "consoles", st.consoles);
    if (st.have_calls) {
        set_int(L, "calls_active", st.calls_active);
        set_int(L, "calls_total", st.calls_total);
        lua_pushnumber(L, st.calls_per_second);
        lua_setfield(L, -2, "calls_per_second");
    }
    if (st.have_registered) {
        set_int(L, "registered_users", st.registered_users);
        set_int(L, "registered_contacts", st.registered_contacts);
    }
    return 1;
}

sb__con_box_t *sb__con_host_register(lua_State *L, sb_con_t *con)
{
    static const struct {
        const char *name;
        lua_CFunction fn;
        int list;               /* -1: not a listing */
    } funcs[] = {
        {"write", lhost_write, -1},
        {"has", lhost_has, -1},
        {"calls", lhost_list, LIST_CALLS},
        {"conferences", lhost_list, LIST_CONFERENCES},
        {"registrations", lhost_list, LIST_REGISTRATIONS},
        {"numbers", lhost_list, LIST_NUMBERS},
        {"call", lhost_call, -1},
        {"sip_trace", lhost_sip_trace, -1},
        {"log_level", lhost_log_level, -1},
        {"stats", lhost_stats, -1},
    };
    if (luaL_newmetatable(L, ROWS_MT)) {
        lua_pushcfunction(L, rows_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    luaL_newmetatable(L, BOX_MT);
    lua_pop(L, 1);

    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_createtable(L, 0, (int)SB_COUNTOF(funcs));
    sb__con_box_t *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->con = con;
    luaL_setmetatable(L, BOX_MT);
    /* stack: loaded, host, box */
    for (size_t i = 0; i < SB_COUNTOF(funcs); i++) {
        lua_pushvalue(L, -1);
        int nup = 1;
        if (funcs[i].list >= 0) {
            lua_pushinteger(L, funcs[i].list);
            nup = 2;
        }
        lua_pushcclosure(L, funcs[i].fn, nup);
        lua_setfield(L, -3, funcs[i].name);
    }
    lua_setfield(L, -2, "box");            /* host.box anchors it too */
    lua_setfield(L, -2, "switchboard.console.host");
    lua_pop(L, 1);
    return box;
}
