/*
 * scan.c: two helpers for config.c that work on the file rather than on the
 * evaluated tables: finding the line where a key is written (a small Lua
 * tokenizer that skips comments and strings) and writing plugins.options
 * back out as a Lua table constructor for the Lua runtime to load.
 */
#include "config_int.h"
#include "util.h"

#include <ctype.h>
#include <lauxlib.h>
#include <string.h>

typedef struct {
    const char *p, *end;
    int line;
} lexer_t;

/* Skips "[==[ ... ]==]" given p at the first '['; returns 1 when it was a
 * long bracket. */
static int skip_long(lexer_t *lx)
{
    const char *q = lx->p + 1;
    int level = 0;
    while (q < lx->end && *q == '=') {
        level++;
        q++;
    }
    if (q >= lx->end || *q != '[')
        return 0;
    q++;
    while (q < lx->end) {
        if (*q == '\n')
            lx->line++;
        if (*q == ']') {
            const char *r = q + 1;
            int l = 0;
            while (r < lx->end && *r == '=') {
                l++;
                r++;
            }
            if (l == level && r < lx->end && *r == ']') {
                lx->p = r + 1;
                return 1;
            }
        }
        q++;
    }
    lx->p = lx->end;
    return 1;
}

/* Next token: identifiers are returned as (start, len) with kind 'i', other
 * single characters as themselves; 0 at the end. */
static int next_token(lexer_t *lx, const char **start, size_t *len, int *line)
{
    while (lx->p < lx->end) {
        char ch = *lx->p;
        if (ch == '\n') {
            lx->line++;
            lx->p++;
        } else if (isspace((unsigned char)ch)) {
            lx->p++;
        } else if (ch == '-' && lx->p + 1 < lx->end && lx->p[1] == '-') {
            lx->p += 2;
            if (lx->p < lx->end && *lx->p == '[' && skip_long(lx))
                continue;
            while (lx->p < lx->end && *lx->p != '\n')
                lx->p++;
        } else if (ch == '"' || ch == '\'') {
            lx->p++;
            while (lx->p < lx->end && *lx->p != ch && *lx->p != '\n') {
                if (*lx->p == '\\' && lx->p + 1 < lx->end)
                    lx->p++;
                lx->p++;
            }
            lx->p++;
            *line = lx->line;
            return 's';
        } else if (ch == '[' && skip_long(lx)) {
            *line = lx->line;
            return 's';
        } else if (isalpha((unsigned char)ch) || ch == '_') {
            *start = lx->p;
            while (lx->p < lx->end && (isalnum((unsigned char)*lx->p) || *lx->p == '_'))
                lx->p++;
            *len = (size_t)(lx->p - *start);
            *line = lx->line;
            return 'i';
        } else {
            lx->p++;
            *line = lx->line;
            return ch;
        }
    }
    return 0;
}

static int ident_is(const char *s, size_t n, const char *name)
{
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

int sb__config_find_line(const char *src, size_t len, const char *section,
                         const char *key)
{
    lexer_t lx = {src, src + len, 1};
    const char *s = NULL;
    size_t n = 0;
    int line = 1, tok, section_line = 0;
    int prev_ident_key = 0, prev_line = 0;

    while ((tok = next_token(&lx, &s, &n, &line)) != 0) {
        if (prev_ident_key && tok == '=')
            return prev_line;
        prev_ident_key = 0;
        if (tok != 'i')
            continue;
        if (ident_is(s, n, section) && section_line == 0) {
            section_line = line;
            if (key == NULL)
                return line;
        } else if (section_line && key && ident_is(s, n, key)) {
            prev_ident_key = 1;
            prev_line = line;
        }
    }
    return section_line ? section_line : 1;
}

static void put_string(sb_buf_t *out, const char *s, size_t n)
{
    sb_buf_putc(out, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            sb_buf_printf(out, "\\%c", ch);
        else if (ch < 32 || ch >= 127)
            sb_buf_printf(out, "\\%03u", ch);
        else
            sb_buf_putc(out, (char)ch);
    }
    sb_buf_putc(out, '"');
}

static int put_value(lua_State *L, int idx, sb_buf_t *out, int depth, char *why,
                     size_t whylen)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        put_string(out, s, n);
        return 0;
    }
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            sb_buf_printf(out, "%lld", (long long)lua_tointeger(L, idx));
        else
            sb_buf_printf(out, "%.17g", (double)lua_tonumber(L, idx));
        return 0;
    case LUA_TBOOLEAN:
        sb_buf_puts(out, lua_toboolean(L, idx) ? "true" : "false");
        return 0;
    case LUA_TTABLE:
        if (depth > 16) {
            snprintf(why, whylen, "tables nested deeper than 16 (a cycle?)");
            return -1;
        }
        sb_buf_putc(out, '{');
        idx = lua_absindex(L, idx);
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            int kt = lua_type(L, -2);
            if (kt != LUA_TSTRING && kt != LUA_TNUMBER) {
                snprintf(why, whylen, "keys must be strings or numbers, got %s",
                         luaL_typename(L, -2));
                return -1;
            }
            sb_buf_putc(out, '[');
            if (put_value(L, lua_gettop(L) - 1, out, depth + 1, why, whylen) != 0)
                return -1;
            sb_buf_puts(out, "]=");
            if (put_value(L, lua_gettop(L), out, depth + 1, why, whylen) != 0)
                return -1;
            sb_buf_putc(out, ',');
            lua_pop(L, 1);
        }
        sb_buf_putc(out, '}');
        return 0;
    default:
        snprintf(why, whylen, "values must be strings, numbers, booleans or "
                 "tables, got %s", luaL_typename(L, idx));
        return -1;
    }
}

int sb__config_serialize(lua_State *L, int idx, sb_buf_t *out, char *why,
                         size_t whylen)
{
    int top = lua_gettop(L);
    int rc = put_value(L, idx, out, 0, why, whylen);
    lua_settop(L, top);
    return rc;
}
