/*
 * lua_api_route.c: serves plugin routes (plugin:route). The REST module
 * hands over an authenticated request under /Accounts/{AC}/Plugins/...;
 * this file runs switchboard.host.serve_route(req) in a session of its own
 * (so a handler may wait: sleep, http.request) and turns what it returns
 * into the HTTP answer. The Lua side matches the route, calls the
 * handler under pcall and shapes its results (docs/plugin-api.md,
 * "plugin:route"); a session that ends in error, or is closed when the
 * server stops, still answers (500, 503).
 */
#include <string.h>

#include "api.h"
#include "lua_int.h"

/* Pushes params as { name = value } (the first value of a repeated name
 * wins); lower-cases names when lower is set (headers). */
static void push_pairs(lua_State *L, const sb_http_params_t *p, int lower)
{
    lua_createtable(L, 0, (int)p->count);
    for (size_t i = p->count; i-- > 0;) {
        const sb_http_pair_t *h = &p->items[i];
        if (lower) {
            char name[128];
            size_t n = strlen(h->name);
            if (n >= sizeof name)
                continue;
            for (size_t k = 0; k <= n; k++) {
                char c = h->name[k];
                name[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
            }
            lua_pushstring(L, name);
        } else {
            lua_pushstring(L, h->name);
        }
        lua_pushstring(L, h->value);
        lua_rawset(L, -3);
    }
}

static void push_request(lua_State *L, const sb_api_plugin_req_t *pr)
{
    const sb_http_req_t *req = sb_api_plugin_http(pr);
    lua_createtable(L, 0, 9);
    lua_pushstring(L, sb_api_plugin_method(pr));
    lua_setfield(L, -2, "method");
    lua_pushstring(L, sb_api_plugin_path(pr));
    lua_setfield(L, -2, "path");
    lua_pushstring(L, sb_api_plugin_account(pr));
    lua_setfield(L, -2, "account_sid");
    lua_pushstring(L, sb_api_plugin_caller(pr));
    lua_setfield(L, -2, "caller_sid");
    lua_pushstring(L, sb_api_plugin_json(pr) ? "json" : "xml");
    lua_setfield(L, -2, "format");
    push_pairs(L, sb_http_req_query(req), 0);
    lua_setfield(L, -2, "query");
    push_pairs(L, sb_http_req_form(req), 0);
    lua_setfield(L, -2, "form");
    push_pairs(L, sb_http_req_headers(req), 1);
    lua_setfield(L, -2, "headers");
    size_t len = 0;
    const char *body = sb_http_req_body(req, &len);
    lua_pushlstring(L, body ? body : "", body ? len : 0);
    lua_setfield(L, -2, "body");
}

/* serve_route returned: status, body, content_type, headers, error. */
static void answer(sb_api_plugin_req_t *pr, lua_State *co)
{
    int top = lua_gettop(co);
    int status = top >= 1 ? (int)lua_tointeger(co, 1) : 0;
    size_t len = 0;
    const char *body = top >= 2 ? lua_tolstring(co, 2, &len) : NULL;
    const char *ctype = top >= 3 ? lua_tostring(co, 3) : NULL;
    int is_error = top >= 5 && lua_toboolean(co, 5);
    sb_http_params_t headers;
    sb_http_params_init(&headers);
    const char *allow = NULL;
    if (top >= 4 && lua_istable(co, 4)) {
        lua_pushnil(co);
        while (lua_next(co, 4) != 0) {
            if (lua_type(co, -2) == LUA_TSTRING && lua_type(co, -1) == LUA_TSTRING) {
                const char *name = lua_tostring(co, -2);
                if (strcmp(name, "Allow") == 0)
                    allow = lua_tostring(co, -1);
                sb_http_params_add(&headers, name, lua_tostring(co, -1));
            }
            lua_pop(co, 1);
        }
    }
    if (is_error)
        sb_api_plugin_error(pr, status, body ? body : "Error", allow);
    else
        sb_api_plugin_respond(pr, status, ctype, &headers, body, body ? len : 0);
    sb_http_params_free(&headers);
}

static void on_route_done(sb_lua_session_t *s, int status, const char *msg,
                          void *arg)
{
    (void)msg;
    sb_api_plugin_req_t *pr = arg;
    if (status == 0)
        answer(pr, sb_lua_session_thread(s));
    else if (status == SB_ECANCELED)
        sb_api_plugin_error(pr, 503, "The server is shutting down", NULL);
    else
        sb_api_plugin_error(pr, 500, "The plugin failed", NULL);
}

void sb_lua_serve_route(sb_api_plugin_req_t *pr, void *arg)
{
    sb_lua_t *rt = arg;
    sb_lua_session_t *s;
    if (sb_lua_session_new(rt, NULL, on_route_done, pr, &s) != 0) {
        sb_api_plugin_error(pr, 503, "Cannot run the plugin now", NULL);
        return;
    }
    if (sb_lua_session_push_function(s, "switchboard.host", "serve_route") != 0) {
        sb_lua_session_close(s);        /* done fires: 503 */
        return;
    }
    lua_State *co = sb_lua_session_thread(s);
    SB_LUA_UNCAPPED_BEGIN(rt);
    push_request(co, pr);
    SB_LUA_UNCAPPED_END(rt);
    sb_lua_session_start(s, 1);         /* done may fire in here */
}
