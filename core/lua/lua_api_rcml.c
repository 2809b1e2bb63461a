/*
 * lua_api_rcml.c: the RCML parser and voice parameters seen from Lua.
 *
 * core.rcml_parse(text [, limits])   verb tree | nil, reason, message
 * sb_lua_push_rcml / sb_lua_push_params for C callers.
 *
 * The tree is copied into Lua tables and the C document freed at once, so
 * nothing of the parser outlives the call.
 */
#include <string.h>

#include "lua_int.h"

static void push_node(lua_State *L, const sb_rcml_node_t *n)
{
    luaL_checkstack(L, 6, "RCML tree too deep");
    lua_createtable(L, 0, 5);
    lua_pushstring(L, n->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, n->text);
    lua_setfield(L, -2, "text");
    lua_pushinteger(L, n->line);
    lua_setfield(L, -2, "line");
    lua_createtable(L, 0, (int)n->attr_count);
    for (size_t i = 0; i < n->attr_count; i++) {
        lua_pushstring(L, n->attrs[i].value);
        lua_setfield(L, -2, n->attrs[i].name);
    }
    lua_setfield(L, -2, "attrs");
    lua_createtable(L, (int)n->child_count, 0);
    for (size_t i = 0; i < n->child_count; i++) {
        push_node(L, &n->children[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "children");
}

void sb_lua_push_rcml(lua_State *L, const sb_rcml_doc_t *doc)
{
    push_node(L, &doc->root);
}

void sb_lua_push_params(lua_State *L, const sb_rcml_params_t *p)
{
    lua_createtable(L, (int)p->count, 0);
    for (size_t i = 0; i < p->count; i++) {
        lua_createtable(L, 2, 0);
        lua_pushstring(L, p->items[i].name);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, p->items[i].value);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

static int push_doc(lua_State *L)
{
    sb_lua_push_rcml(L, lua_touserdata(L, 1));
    return 1;
}

static lua_Integer opt_int_field(lua_State *L, int idx, const char *name)
{
    lua_getfield(L, idx, name);
    lua_Integer v = luaL_optinteger(L, -1, 0);
    lua_pop(L, 1);
    return v < 0 ? 0 : v;
}

/* core.rcml_parse(text [, limits])
 * limits: { max_bytes =, max_depth =, max_nodes =, max_attrs =,
 *           max_total_attrs = } (0 or absent: default).
 * Context: anywhere (does not wait).
 * Returns the tree ({ name = "Response", attrs, text, line, children }),
 * or nil, reason, message with reason "too-big" (size), "syntax" (not
 * XML), "invalid-rcml" (root is not <Response>), "forbidden" (entity
 * declarations) or "limit" (depth, element or attribute count). */
static int lrcml_parse(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    sb_rcml_limits_t lim;
    memset(&lim, 0, sizeof lim);
    if (lua_istable(L, 2)) {
        lim.max_bytes = (size_t)opt_int_field(L, 2, "max_bytes");
        lim.max_depth = (int)opt_int_field(L, 2, "max_depth");
        lim.max_nodes = (size_t)opt_int_field(L, 2, "max_nodes");
        lim.max_attrs = (size_t)opt_int_field(L, 2, "max_attrs");
        lim.max_total_attrs = (size_t)opt_int_field(L, 2, "max_total_attrs");
    }
    sb_rcml_doc_t *doc = NULL;
    char err[256];
    int rc = sb_rcml_parse(text, len, &lim, &doc, err, sizeof err);
    if (rc < 0) {
        sb_lua_push_error(L, rc);
        lua_pushstring(L, err);
        return 3;
    }
    /* Pushing may raise a memory error (the state's cap): build the tree
     * under a protected call so the document is freed either way. */
    lua_pushcfunction(L, push_doc);
    lua_pushlightuserdata(L, doc);
    rc = lua_pcall(L, 1, 1, 0);
    sb_rcml_free(doc);
    if (rc != LUA_OK)
        return lua_error(L);
    return 1;
}

static const luaL_Reg rcml_funcs[] = {
    {"rcml_parse", lrcml_parse},
    {NULL, NULL},
};

void sb__lua_inject_rcml(lua_State *L)
{
    luaL_setfuncs(L, rcml_funcs, 0);
}
