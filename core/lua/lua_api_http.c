/*
 * lua_api_http.c: http.request, the yielding HTTP client for Lua, on the
 * http module's libcurl-on-libuv client.
 *
 * core.http_request{ method, url, params | body, content_type, headers,
 *                    timeout, max_bytes }
 * The plugin environment sees it as http.request. When the server is
 * built without the http module, the function exists and answers
 * nil, "network".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lua_int.h"

#ifdef SB_LUA_HAVE_HTTP
#include "http.h"

/* Owner: itself; freed in on_fetch_done (the client always calls it, also
 * after a cancel). */
typedef struct http_op_s {
    sb_lua_op_t op;
    sb_http_fetch_t *handle;    /* valid until on_fetch_done returns */
    int rcml;                   /* core.rcml_fetch: counted in metrics */
    uint64_t t0_ns;             /* start (uv_hrtime), when rcml */
} http_op_t;

/* An RCML fetch that ended: its time and, unless 2xx, why (metrics). A
 * fetch cancelled by a hang-up is not counted. */
static void count_rcml(const http_op_t *h, int err, const sb_http_response_t *resp)
{
    if (!h->rcml || !sb_metrics_on || err == SB_ECANCELED)
        return;
    const char *why = NULL;
    if (err == SB_ETIMEDOUT)
        why = "timeout";
    else if (err == SB_ENETWORK)
        why = "network";
    else if (err == SB_ETOOBIG)
        why = "too-big";
    else if (err < 0)
        why = "other";
    else if (resp == NULL || resp->status < 200 || resp->status > 299)
        why = "http";
    sb_metrics_rcml_fetch((double)(uv_hrtime() - h->t0_ns) / 1e9, why);
}

static void push_response(lua_State *L, const sb_http_response_t *r)
{
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");
    lua_pushlstring(L, r->body, r->body_len);
    lua_setfield(L, -2, "body");
    if (r->content_type) {
        lua_pushstring(L, r->content_type);
        lua_setfield(L, -2, "content_type");
    }
    lua_pushstring(L, r->url);
    lua_setfield(L, -2, "url");
    lua_newtable(L);
    for (size_t i = 0; r->headers && i < r->headers->count; i++) {
        char name[128];
        size_t n = 0;
        for (const char *p = r->headers->items[i].name; *p && n < sizeof name - 1;
             p++)
            name[n++] = (char)tolower((unsigned char)*p);
        name[n] = '\0';
        if (lua_getfield(L, -1, name) == LUA_TSTRING) {
            lua_pushliteral(L, ", ");
            lua_pushstring(L, r->headers->items[i].value);
            lua_concat(L, 3);
        } else {
            lua_pop(L, 1);
            lua_pushstring(L, r->headers->items[i].value);
        }
        lua_setfield(L, -2, name);
    }
    lua_setfield(L, -2, "headers");
}

static void on_fetch_done(int err, const sb_http_response_t *resp, void *arg)
{
    http_op_t *h = arg;
    sb_lua_session_t *s = sb_lua_op_finish(&h->op);
    if (s != NULL)
        count_rcml(h, err, resp);
    free(h);
    if (s == NULL)
        return;                 /* cancelled: the session moved on */
    lua_State *co = sb_lua_session_thread(s);
    if (err < 0) {
        sb_lua_push_error(co, err);
        /* curl's text is the useful one for network errors; for our own
         * limits it would be misleading ("Failed writing header"). */
        lua_pushstring(co, err == SB_ENETWORK && resp && resp->error
                               ? resp->error : sb_strerror(err));
        sb_lua_session_resume(s, 3);
        return;
    }
    push_response(co, resp);
    sb_lua_session_resume(s, 1);
}

static void http_cancel(sb_lua_op_t *op)
{
    http_op_t *h = (http_op_t *)op;
    sb_http_fetch_cancel(h->handle);    /* on_fetch_done frees h later */
}

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(((const sb_http_pair_t *)a)->name,
                  ((const sb_http_pair_t *)b)->name);
}

/* Converts a value to text for a parameter or header: strings, numbers and
 * booleans. Returns NULL for other types. Never raises. */
static const char *scalar(lua_State *L, int idx, char *tmp, size_t tmplen)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return lua_tostring(L, idx);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(tmp, tmplen, LUA_INTEGER_FMT, lua_tointeger(L, idx));
        else
            snprintf(tmp, tmplen, "%.14g", lua_tonumber(L, idx));
        return tmp;
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? "true" : "false";
    default:
        return NULL;
    }
}

/* Reads the table at idx (an array of { name, value } or a map) into out.
 * Returns NULL, or a static message describing the first bad entry. */
static const char *read_pairs(lua_State *L, int idx, sb_http_params_t *out,
                              int sort_map)
{
    char tmp[64];
    idx = lua_absindex(L, idx);
    if (lua_rawlen(L, idx) > 0) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, idx, i) != LUA_TTABLE) {
                lua_pop(L, 1);
                return "array entries must be { name, value }";
            }
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            const char *name = lua_type(L, -2) == LUA_TSTRING
                                   ? lua_tostring(L, -2) : NULL;
            const char *value = scalar(L, -1, tmp, sizeof tmp);
            if (name == NULL || value == NULL) {
                lua_pop(L, 3);
                return "array entries must be { name, value }";
            }
            sb_http_params_add(out, name, value);
            lua_pop(L, 3);
        }
        return NULL;
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *name = lua_type(L, -2) == LUA_TSTRING
                               ? lua_tostring(L, -2) : NULL;
        const char *value = scalar(L, -1, tmp, sizeof tmp);
        if (name == NULL || value == NULL) {
            lua_pop(L, 2);
            return "names must be strings and values scalars";
        }
        sb_http_params_add(out, name, value);
        lua_pop(L, 1);
    }
    if (sort_map && out->count > 1)
        qsort(out->items, out->count, sizeof *out->items, cmp_pair);
    return NULL;
}

static const char *str_field(lua_State *L, int idx, const char *name,
                             size_t *len)
{
    lua_getfield(L, idx, name);
    const char *v = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, len)
                                                   : NULL;
    lua_pop(L, 1);              /* the table keeps the string alive */
    return v;
}

/* http.request{ method = "GET", url = "http://...", params = {...},
 *               body = "...", content_type = "...", headers = {...},
 *               timeout = seconds, max_bytes = n }
 * Context: a session (raises elsewhere). params: a map (sent sorted by
 * name) or an array of { name, value } (sent in order); for POST/PUT
 * without body they form an x-www-form-urlencoded body, otherwise the
 * query string. Redirects are followed with the same method and params.
 * Returns { status, body, content_type, url, headers = { lowercase name =
 * value } } for any HTTP answer (4xx and 5xx included), or nil, reason,
 * message with reason "timeout", "network", "too-big", "limit" (too many
 * redirects), "invalid" (bad request), "hangup" (the call ended). */
static int request(lua_State *L, int rcml)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    sb_lua_t *rt = sb__lua_runtime(L);
    sb_http_fetch_req_t req;
    memset(&req, 0, sizeof req);
    req.method = str_field(L, 1, "method", NULL);
    req.url = str_field(L, 1, "url", NULL);
    luaL_argcheck(L, req.url != NULL, 1, "url (a string) expected");
    req.body = str_field(L, 1, "body", &req.body_len);
    req.content_type = str_field(L, 1, "content_type", NULL);
    lua_getfield(L, 1, "timeout");
    lua_Number t = luaL_optnumber(L, -1, 0);
    lua_pop(L, 1);
    luaL_argcheck(L, t >= 0 && t <= 3600, 1, "timeout out of range");
    req.timeout_ms = (int)(t * 1000.0 + 0.5);
    lua_getfield(L, 1, "max_bytes");
    lua_Integer mb = luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    luaL_argcheck(L, mb >= 0, 1, "max_bytes must be >= 0");
    req.max_response_bytes = (size_t)mb;

    sb_lua_session_t *s;
    int rc = sb_lua_op_check(L, &s);
    if (rc < 0)
        return sb_lua_push_error(L, rc);
    if (rt->http == NULL) {
        sb_lua_push_error(L, SB_ENETWORK);
        lua_pushliteral(L, "no HTTP client");
        return 3;
    }

    sb_http_params_t params = SB_HTTP_PARAMS_INIT;
    sb_http_params_t headers = SB_HTTP_PARAMS_INIT;
    const char *bad = NULL;
    if (lua_getfield(L, 1, "params") == LUA_TTABLE)
        bad = read_pairs(L, -1, &params, 1);
    lua_pop(L, 1);
    if (bad == NULL && lua_getfield(L, 1, "headers") == LUA_TTABLE)
        bad = read_pairs(L, -1, &headers, 0);
    lua_pop(L, 1);
    if (bad) {
        sb_http_params_free(&params);
        sb_http_params_free(&headers);
        return luaL_error(L, "http.request: %s", bad);
    }
    req.params = params.count ? &params : NULL;
    req.headers = headers.count ? &headers : NULL;

    http_op_t *h = SB_NEW(http_op_t);
    h->op.cancel = http_cancel;
    h->rcml = rcml;
    h->t0_ns = rcml ? uv_hrtime() : 0;
    rc = sb_http_fetch(rt->http, &req, on_fetch_done, h, &h->handle);
    sb_http_params_free(&params);
    sb_http_params_free(&headers);
    if (rc < 0) {
        free(h);
        sb_lua_push_error(L, rc);
        lua_pushstring(L, sb_strerror(rc));
        return 3;
    }
    return sb_lua_op_yield(L, s, &h->op);
}

static int lhttp_request(lua_State *L)
{
    return request(L, 0);
}

/* core.rcml_fetch{...}: http.request for the RCML runner's documents
 * (host.fetch), timed and counted in GET /metrics. Same arguments and
 * returns as core.http_request. */
static int lhttp_rcml_fetch(lua_State *L)
{
    return request(L, 1);
}

static void on_client_closed(void *arg)
{
    sb__lua_handle_closed(arg);
}

int sb__lua_http_init(sb_lua_t *rt)
{
    int rc = sb_http_client_new(rt->loop, NULL, &rt->http);
    if (rc < 0) {
        rt->http = NULL;
        return rc;
    }
    rt->own_http = 1;
    return 0;
}

int sb__lua_http_close(sb_lua_t *rt)
{
    if (!rt->own_http || rt->http == NULL)
        return 0;
    sb__lua_handle_open(rt);
    sb_http_client_close(rt->http, on_client_closed, rt);
    rt->http = NULL;
    rt->own_http = 0;
    return 1;
}

#else /* !SB_LUA_HAVE_HTTP */

static int lhttp_request(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    sb_lua_push_error(L, SB_ENETWORK);
    lua_pushliteral(L, "built without the http module");
    return 3;
}

static int lhttp_rcml_fetch(lua_State *L)
{
    return lhttp_request(L);
}

int sb__lua_http_init(sb_lua_t *rt)
{
    return SB_ENOENT;
}

int sb__lua_http_close(sb_lua_t *rt)
{
    return 0;
}

#endif

static const luaL_Reg http_funcs[] = {
    {"http_request", lhttp_request},
    {"rcml_fetch", lhttp_rcml_fetch},
    {NULL, NULL},
};

void sb__lua_inject_http(lua_State *L)
{
    luaL_setfuncs(L, http_funcs, 0);
}
