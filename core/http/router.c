/*
 * router.c: method + path pattern -> handler.
 *
 * Patterns are split into segments once, at sb_http_router_add: literal,
 * {name}, or a trailing "*". A request path is split on '/' in its raw
 * form and each segment is decoded afterwards, so an encoded slash (%2F)
 * stays inside its segment. The best match is chosen by specificity (see
 * http.h), which makes the order plugins add routes in mostly irrelevant.
 * Routes live in a plain array: there are tens of them, not thousands.
 * Answers 404 and 405 itself; everything else belongs to the handlers.
 */
#include "http_int.h"

#include <string.h>

typedef enum { SEG_LIT = 2, SEG_PARAM = 1, SEG_WILD = 0 } seg_kind_t;

typedef struct {
    seg_kind_t kind;
    char *text;                 /* owned: literal text or param name */
} seg_t;

typedef struct {
    int id;
    char *method;               /* owned; "*" matches any */
    seg_t *segs;                /* owned array */
    size_t nsegs;
    sb_http_handler_cb cb;
    void *arg;
} route_t;

/* Owner: whoever called sb_http_router_new. */
struct sb_http_router_s {
    route_t *routes;            /* owned array, in order of addition */
    size_t count, cap;
    int next_id;
};

/* Splits "/a/b/" into "a", "b": a leading slash is skipped and one
 * trailing slash ignored, so "/a/b" and "/a/b/" are the same path. */
typedef struct {
    const char *p;
    size_t len;
} span_t;

static size_t split_path(const char *path, span_t **out)
{
    size_t n = 0, cap = 8;
    span_t *v = sb_xmalloc(cap * sizeof *v);
    const char *p = path[0] == '/' ? path + 1 : path;
    size_t len = strlen(p);
    if (len > 0 && p[len - 1] == '/')
        len--;
    size_t i = 0;
    if (len > 0) {
        for (;;) {
            const char *slash = memchr(p + i, '/', len - i);
            size_t end = slash ? (size_t)(slash - p) : len;
            if (n == cap) {
                cap *= 2;
                v = sb_xrealloc(v, cap * sizeof *v);
            }
            v[n].p = p + i;
            v[n].len = end - i;
            n++;
            if (slash == NULL)
                break;
            i = end + 1;
        }
    }
    *out = v;
    return n;
}

sb_http_router_t *sb_http_router_new(void)
{
    sb_http_router_t *r = SB_NEW(sb_http_router_t);
    r->next_id = 1;
    return r;
}

static void route_free(route_t *rt)
{
    for (size_t i = 0; i < rt->nsegs; i++)
        free(rt->segs[i].text);
    free(rt->segs);
    free(rt->method);
}

void sb_http_router_free(sb_http_router_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->count; i++)
        route_free(&r->routes[i]);
    free(r->routes);
    free(r);
}

int sb_http_router_add(sb_http_router_t *r, const char *method,
                       const char *pattern, sb_http_handler_cb cb, void *arg,
                       int *id)
{
    if (method == NULL || method[0] == '\0' || pattern == NULL ||
        pattern[0] != '/' || cb == NULL)
        return SB_EINVAL;
    span_t *sp;
    size_t n = split_path(pattern, &sp);
    route_t rt = {0};
    rt.segs = sb_xcalloc(n ? n : 1, sizeof *rt.segs);
    rt.nsegs = n;
    for (size_t i = 0; i < n; i++) {
        seg_t *s = &rt.segs[i];
        if (sp[i].len == 1 && sp[i].p[0] == '*') {
            s->kind = SEG_WILD;
            s->text = sb_xstrdup("*");
            if (i != n - 1)
                goto invalid;
        } else if (sp[i].len > 0 && sp[i].p[0] == '{') {
            if (sp[i].len < 3 || sp[i].p[sp[i].len - 1] != '}')
                goto invalid;
            s->kind = SEG_PARAM;
            s->text = sb_xstrndup(sp[i].p + 1, sp[i].len - 2);
        } else {
            s->kind = SEG_LIT;
            s->text = sb_xstrndup(sp[i].p, sp[i].len);
        }
    }
    free(sp);
    rt.method = sb_xstrdup(method);
    rt.cb = cb;
    rt.arg = arg;
    rt.id = r->next_id++;
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->routes = sb_xrealloc(r->routes, r->cap * sizeof *r->routes);
    }
    r->routes[r->count++] = rt;
    if (id)
        *id = rt.id;
    return 0;

invalid:
    free(sp);
    route_free(&rt);
    return SB_EINVAL;
}

int sb_http_router_remove(sb_http_router_t *r, int id)
{
    for (size_t i = 0; i < r->count; i++) {
        if (r->routes[i].id == id) {
            route_free(&r->routes[i]);
            memmove(&r->routes[i], &r->routes[i + 1],
                    (r->count - i - 1) * sizeof *r->routes);
            r->count--;
            return 0;
        }
    }
    return SB_ENOENT;
}

/* ---- matching ----------------------------------------------------------- */

/* Returns 1 when rt's pattern matches the n decoded segments dec. */
static int path_matches(const route_t *rt, char **dec, size_t n)
{
    for (size_t i = 0; i < rt->nsegs; i++) {
        const seg_t *s = &rt->segs[i];
        if (s->kind == SEG_WILD)
            return 1;                 /* the rest, even nothing */
        if (i >= n)
            return 0;
        if (s->kind == SEG_LIT && strcmp(s->text, dec[i]) != 0)
            return 0;
    }
    return rt->nsegs == n;
}

/* >0 when a is more specific than b: compared segment by segment. */
static int specificity_cmp(const route_t *a, const route_t *b)
{
    size_t n = a->nsegs < b->nsegs ? a->nsegs : b->nsegs;
    for (size_t i = 0; i < n; i++)
        if (a->segs[i].kind != b->segs[i].kind)
            return (int)a->segs[i].kind - (int)b->segs[i].kind;
    return (int)a->nsegs - (int)b->nsegs;
}

/* 2: exact method, 1: "*" or HEAD served by GET, 0: no. */
static int method_matches(const route_t *rt, const char *method)
{
    if (strcmp(rt->method, method) == 0)
        return 2;
    if (strcmp(rt->method, "*") == 0)
        return 1;
    if (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0)
        return 1;
    return 0;
}

static void add_allow(sb_buf_t *allow, const char *m)
{
    /* Avoid duplicates: the list is short. */
    const char *s = sb_buf_str(allow);
    size_t ml = strlen(m);
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t l = comma ? (size_t)(comma - s) : strlen(s);
        if (l == ml && memcmp(s, m, ml) == 0)
            return;
        if (!comma)
            break;
        s = comma + 2;
    }
    if (allow->len)
        sb_buf_puts(allow, ", ");
    sb_buf_puts(allow, m);
}

static void fill_params(sb_http_req_t *req, const route_t *rt, span_t *raw,
                        char **dec, size_t n)
{
    for (size_t i = 0; i < rt->nsegs; i++) {
        const seg_t *s = &rt->segs[i];
        if (s->kind == SEG_PARAM) {
            sb_http_params_add(&req->path_params, s->text, dec[i]);
        } else if (s->kind == SEG_WILD) {
            sb_buf_t rest = SB_BUF_INIT;
            if (i < n) {
                const char *from = raw[i].p;
                const char *to = raw[n - 1].p + raw[n - 1].len;
                sb__http_pct_decode(from, (size_t)(to - from), 0, &rest);
            }
            sb_http_params_add(&req->path_params, "*", sb_buf_str(&rest));
            sb_buf_free(&rest);
        }
    }
}

void sb_http_router_dispatch(sb_http_req_t *req, void *router)
{
    sb_http_router_t *r = router;
    span_t *raw;
    size_t n = split_path(req->raw_path, &raw);
    char **dec = sb_xcalloc(n ? n : 1, sizeof *dec);
    for (size_t i = 0; i < n; i++) {
        /* The whole path decoded when the request arrived; cannot fail. */
        if (sb_http_url_decode(raw[i].p, raw[i].len, &dec[i]) < 0)
            dec[i] = sb_xstrndup(raw[i].p, raw[i].len);
    }

    const route_t *best = NULL;
    int best_m = 0, path_hit = 0;
    sb_buf_t allow = SB_BUF_INIT;
    for (size_t i = 0; i < r->count; i++) {
        const route_t *rt = &r->routes[i];
        if (!path_matches(rt, dec, n))
            continue;
        path_hit = 1;
        add_allow(&allow, rt->method);
        if (strcmp(rt->method, "GET") == 0)
            add_allow(&allow, "HEAD");
        int m = method_matches(rt, req->method);
        if (m == 0)
            continue;
        int c = best ? specificity_cmp(rt, best) : 1;
        if (c > 0 || (c == 0 && m > best_m)) {
            best = rt;
            best_m = m;
        }
    }

    sb_http_handler_cb cb = NULL;
    void *arg = NULL;
    if (best) {
        sb_http_params_free(&req->path_params);
        fill_params(req, best, raw, dec, n);
        cb = best->cb;
        arg = best->arg;
    }
    for (size_t i = 0; i < n; i++)
        free(dec[i]);
    free(dec);
    free(raw);

    if (cb) {
        sb_buf_free(&allow);
        cb(req, arg);                 /* may add or remove routes */
    } else if (path_hit) {
        static const char text[] = "Method Not Allowed\n";
        sb_http_resp_header(req, "Allow", sb_buf_str(&allow));
        sb_buf_free(&allow);
        sb_http_respond(req, 405, "text/plain; charset=utf-8", text,
                        sizeof text - 1);
    } else {
        static const char text[] = "Not Found\n";
        sb_buf_free(&allow);
        sb_http_respond(req, 404, "text/plain; charset=utf-8", text,
                        sizeof text - 1);
    }
}
