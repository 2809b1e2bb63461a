/*
 * resource.c: the generic resource layer. A resource is a field table
 * (api_int.h: XML name, JSON name, parameter, column, type, flags,
 * default) plus a few optional hooks; from it this file serves list
 * (with filters, SortBy and Restcomm paging), get, create, update and
 * delete, parses and validates parameters by type, and writes rows as
 * XML or JSON. Resource files hold tables and hooks only.
 */
#include "api_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- init ----------------------------------------------------------------- */

int sb__api_col(const sb__api_resource_t *res, const char *column)
{
    return sb_rows_col(&res->table, column);
}

int sb__api_field_index(const sb__api_resource_t *res, const char *xml)
{
    for (int i = 0; i < res->nfields; i++)
        if (strcmp(res->fields[i].xml, xml) == 0)
            return i;
    return -1;
}

int sb__api_resource_init(sb_api_t *api, sb__api_resource_t *res)
{
    if (res->refs++ > 0)
        return 0;
    if (res->nfields > (int)SB_COUNTOF(res->colmap))
        return SB_EINVAL;
    res->cols = sb_xcalloc((size_t)res->nfields, sizeof *res->cols);
    int n = 0;
    for (int i = 0; i < res->nfields; i++) {
        const sb__api_field_t *f = &res->fields[i];
        res->colmap[i] = -1;
        if (f->column == NULL)
            continue;
        res->cols[n].name = f->column;
        res->cols[n].type = (f->type == SB__T_BOOL || f->type == SB__T_INT ||
                             f->type == SB__T_DATE || f->type == SB__T_MSDATE)
                                ? SB_ROWS_INT : SB_ROWS_TEXT;
        res->colmap[i] = n++;
    }
    res->table.name = res->table_name;
    res->table.cols = res->cols;
    res->table.ncols = n;
    res->sid_col = sb__api_col(res, "sid");
    res->owner_col = res->owner_column ? sb__api_col(res, res->owner_column) : -1;
    res->created_col = sb__api_col(res, "date_created");
    res->updated_col = sb__api_col(res, "date_updated");
    res->version_col = sb__api_col(res, "api_version");
    if (sb_rows_table_check(&res->table) != 0 || res->sid_col != 0 ||
        (res->owner_column && res->owner_col < 0)) {
        res->refs = 1;
        sb__api_resource_close(res);
        return SB_EINVAL;
    }
    (void)api;
    return 0;
}

void sb__api_resource_close(sb__api_resource_t *res)
{
    if (res->refs == 0 || --res->refs > 0)
        return;
    free(res->cols);
    res->cols = NULL;
    res->table.cols = NULL;
    res->table.ncols = 0;
}

/* ---- edits ---------------------------------------------------------------- */

void sb__api_edit_init(sb__api_edit_t *e, const sb__api_resource_t *res)
{
    memset(e, 0, sizeof *e);
    e->res = res;
    e->v = sb_xcalloc((size_t)res->table.ncols, sizeof *e->v);
}

void sb__api_edit_free(sb__api_edit_t *e)
{
    for (int i = 0; i < e->nowned; i++)
        free(e->owned[i]);
    free(e->owned);
    free(e->v);
    memset(e, 0, sizeof *e);
}

static const char *edit_keep(sb__api_edit_t *e, char *s)
{
    if (e->nowned == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 16;
        e->owned = sb_xrealloc(e->owned, (size_t)e->cap * sizeof *e->owned);
    }
    e->owned[e->nowned++] = s;
    return s;
}

void sb__api_edit_text(sb__api_edit_t *e, const char *column, const char *s)
{
    int c = sb__api_col(e->res, column);
    sb_assert(c >= 0);
    e->v[c].set = 1;
    e->v[c].null = s == NULL;
    e->v[c].s = s ? edit_keep(e, sb_xstrdup(s)) : NULL;
}

void sb__api_edit_int(sb__api_edit_t *e, const char *column, int64_t i)
{
    int c = sb__api_col(e->res, column);
    sb_assert(c >= 0);
    e->v[c].set = 1;
    e->v[c].null = 0;
    e->v[c].i = i;
}

void sb__api_edit_null(sb__api_edit_t *e, const char *column)
{
    int c = sb__api_col(e->res, column);
    sb_assert(c >= 0);
    e->v[c].set = 1;
    e->v[c].null = 1;
    e->v[c].s = NULL;
}

const sb_rows_val_t *sb__api_edit_get(const sb__api_edit_t *e, const char *column)
{
    int c = sb__api_col(e->res, column);
    if (c < 0)
        return NULL;
    if (e->v[c].set)
        return &e->v[c];
    return e->old ? &e->old[c] : NULL;
}

/* ---- parsing -------------------------------------------------------------- */

static int url_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    if (s[0] == '/')
        return 1;
    const char *rest = NULL;
    if (strncasecmp(s, "http://", 7) == 0)
        rest = s + 7;
    else if (strncasecmp(s, "https://", 8) == 0)
        rest = s + 8;
    return rest && *rest && *rest != '/';
}

int sb__api_parse_value(sb__api_edit_t *e, const sb__api_field_t *f,
                        const char *text, sb_rows_val_t *v, char *err,
                        size_t errlen)
{
    const char *name = f->param ? f->param : f->xml;
    size_t len = strlen(text);
    v->set = 1;
    v->null = 0;
    v->s = NULL;
    v->i = 0;
    if (len == 0 && (f->flags & SB__F_CLEAR)) {
        v->null = 1;
        return 0;
    }
    switch (f->type) {
    case SB__T_TEXT: {
        size_t max = f->max ? (size_t)f->max : 255;
        if (len > max) {
            snprintf(err, errlen, "%s is too long (at most %zu bytes)", name, max);
            return SB_EINVAL;
        }
        v->s = edit_keep(e, sb_xstrdup(text));
        return 0;
    }
    case SB__T_SID:
        if (!sb_sid_valid(text, f->prefix) || len != SB_SID_LEN) {
            snprintf(err, errlen, "%s is not a valid %s SID", name,
                     f->prefix ? f->prefix : "");
            return SB_EINVAL;
        }
        v->s = edit_keep(e, sb_xstrdup(text));
        return 0;
    case SB__T_URL:
        if (len > (f->max ? (size_t)f->max : 2048) || !url_ok(text)) {
            snprintf(err, errlen, "%s is not a valid URL (http://, https:// or "
                     "an absolute path)", name);
            return SB_EINVAL;
        }
        v->s = edit_keep(e, sb_xstrdup(text));
        return 0;
    case SB__T_METHOD:
        if (strcasecmp(text, "GET") == 0) {
            v->s = "GET";
        } else if (strcasecmp(text, "POST") == 0) {
            v->s = "POST";
        } else {
            snprintf(err, errlen, "%s must be GET or POST", name);
            return SB_EINVAL;
        }
        return 0;
    case SB__T_BOOL:
        if (strcasecmp(text, "true") == 0 || strcmp(text, "1") == 0) {
            v->i = 1;
        } else if (strcasecmp(text, "false") == 0 || strcmp(text, "0") == 0) {
            v->i = 0;
        } else {
            snprintf(err, errlen, "%s must be true or false", name);
            return SB_EINVAL;
        }
        return 0;
    case SB__T_INT: {
        char *end = NULL;
        errno = 0;
        long long x = strtoll(text, &end, 10);
        if (len == 0 || *end || errno || x < f->min || x > f->max) {
            snprintf(err, errlen, "%s must be an integer from %lld to %lld", name,
                     (long long)f->min, (long long)f->max);
            return SB_EINVAL;
        }
        v->i = x;
        return 0;
    }
    case SB__T_ENUM:
        for (const char *const *c = f->choices; c && *c; c++) {
            if (strcasecmp(text, *c) == 0) {
                v->s = *c;
                return 0;
            }
        }
        {
            sb_buf_t b = SB_BUF_INIT;
            for (const char *const *c = f->choices; c && *c; c++)
                sb_buf_printf(&b, "%s%s", c == f->choices ? "" : ", ", *c);
            snprintf(err, errlen, "%s must be one of: %s", name, sb_buf_str(&b));
            sb_buf_free(&b);
        }
        return SB_EINVAL;
    default:
        snprintf(err, errlen, "%s cannot be set", name);
        return SB_EINVAL;
    }
}

/* ---- rendering ------------------------------------------------------------ */

static unsigned wflags(unsigned f)
{
    return ((f & SB__F_XOMIT) ? SB__W_XOMIT : 0) | ((f & SB__F_JOMIT) ? SB__W_JOMIT : 0);
}

void sb__api_render_row(sb__api_ctx_t *ctx, sb__api_w_t *w,
                        const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    sb__api_w_obj_begin(w, res->xml_item, NULL);
    for (int i = 0; i < res->nfields; i++) {
        const sb__api_field_t *f = &res->fields[i];
        if (f->flags & SB__F_HIDDEN)
            continue;
        if (f->type == SB__T_CUSTOM) {
            f->render(ctx, w, res, vals);
            continue;
        }
        if (f->type == SB__T_URI) {
            sb_buf_t b = SB_BUF_INIT;
            const char *owner = res->owner_col >= 0 ? vals[res->owner_col].s : NULL;
            sb__api_uri(&b, w->json, owner ? owner : "", res->path, vals[0].s);
            sb__api_w_str(w, f->xml, f->json, sb_buf_str(&b), 0);
            sb_buf_free(&b);
            continue;
        }
        const sb_rows_val_t *v = &vals[res->colmap[i]];
        if (v->null) {
            sb__api_w_str(w, f->xml, f->json, NULL, wflags(f->flags));
            continue;
        }
        switch (f->type) {
        case SB__T_BOOL:
            sb__api_w_bool(w, f->xml, f->json, v->i != 0);
            break;
        case SB__T_INT:
            if (w->json && (f->flags & SB__F_JSTR)) {
                char num[32];
                snprintf(num, sizeof num, "%lld", (long long)v->i);
                sb__api_w_str(w, f->xml, f->json, num, 0);
            } else {
                sb__api_w_int(w, f->xml, f->json, v->i);
            }
            break;
        case SB__T_DATE: {
            char d[SB_TIME_BUF];
            sb_time_rfc2822((time_t)v->i, d);
            sb__api_w_str(w, f->xml, f->json, d, 0);
            break;
        }
        case SB__T_MSDATE: {
            char d[SB_TIME_BUF];
            sb_time_iso8601_ms(v->i, d);
            sb__api_w_str(w, f->xml, f->json, d, 0);
            break;
        }
        default:
            sb__api_w_str(w, f->xml, f->json, v->s, wflags(f->flags));
        }
    }
    sb__api_w_obj_end(w, res->xml_item);
}

void sb__api_send_row(sb__api_ctx_t *ctx, const sb__api_resource_t *res,
                      const char *sid)
{
    sb_rows_cond_t conds[2] = {{.col = res->sid_col, .op = SB_ROWS_EQ, .s = sid}};
    int n = 1;
    if (res->owner_col >= 0 && ctx->have_op)
        conds[n++] = (sb_rows_cond_t){.col = res->owner_col, .op = SB_ROWS_EQ,
                                      .s = ctx->op.sid};
    sb_row_t row;
    int rc = sb_rows_get(ctx->api->store, &res->table, conds, n, &row);
    if (rc == SB_ENOENT) {
        sb__api_error(ctx, 404, "The requested resource was not found");
        return;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    sb__api_w_doc_begin(&w);
    sb__api_render_row(ctx, &w, res, row.v);
    sb__api_w_doc_end(&w);
    sb_row_free(&row);
    sb__api_send_doc(ctx, &w);
}

/* ---- paging --------------------------------------------------------------- */

int sb__api_wants_paging(sb__api_ctx_t *ctx, const sb__api_resource_t *res)
{
    return res->always_paged || ctx->json == SB__API_JSON_TWILIO ||
           sb__api_param(ctx, "Page") ||
           sb__api_param(ctx, "PageSize") || sb__api_param(ctx, "AfterSid");
}

static int parse_nonneg(const char *s, int64_t *out)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (*s == '\0' || *end || errno || x < 0 || x > 1000000000LL)
        return SB_EINVAL;
    *out = x;
    return 0;
}

int sb__api_page_prepare(sb__api_ctx_t *ctx, const sb_rows_table_t *t,
                         const sb_rows_cond_t *conds, int nconds,
                         sb_rows_query_t *q, sb__api_page_t *pg)
{
    const char *ps = sb__api_param(ctx, "Page");
    const char *ss = sb__api_param(ctx, "PageSize");
    const char *after = sb__api_param(ctx, "AfterSid");
    memset(pg, 0, sizeof *pg);
    pg->size = SB__API_DEFAULT_PAGE_SIZE;
    if (ps && parse_nonneg(ps, &pg->page) != 0) {
        sb__api_error(ctx, 400, "Page must be a non-negative integer");
        return 1;
    }
    if (ss && (parse_nonneg(ss, &pg->size) != 0 || pg->size < 1 ||
               pg->size > SB__API_MAX_PAGE_SIZE)) {
        sb__api_error(ctx, 400, "PageSize must be an integer from 1 to %d",
                      SB__API_MAX_PAGE_SIZE);
        return 1;
    }
    if (after && *after && !sb_sid_valid(after, NULL)) {
        sb__api_error(ctx, 400, "AfterSid is not a valid SID");
        return 1;
    }
    if (sb_rows_count(ctx->api->store, t, conds, nconds, &pg->total) != 0) {
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    pg->numpages = pg->total / pg->size;
    if (pg->page > pg->numpages) {
        sb__api_error(ctx, 400, "Page %lld is past the last page (%lld)",
                      (long long)pg->page, (long long)pg->numpages);
        return 1;
    }
    q->offset = pg->page * pg->size;
    q->limit = pg->size;
    q->after = after && *after ? after : NULL;
    return 0;
}

/* The page URIs: the request path, the other query parameters (filters),
 * then Page and PageSize. */
static void page_uri(sb__api_ctx_t *ctx, sb_buf_t *b, int64_t page, int64_t size,
                     const char *after)
{
    sb_buf_puts(b, ctx->path);
    sb_buf_putc(b, '?');
    const sb_http_params_t *qp = &ctx->query;
    sb_http_params_t keep = SB_HTTP_PARAMS_INIT;
    for (size_t i = 0; i < qp->count; i++) {
        const char *n = qp->items[i].name;
        if (strcmp(n, "Page") && strcmp(n, "PageSize") && strcmp(n, "AfterSid"))
            sb_http_params_add(&keep, n, qp->items[i].value);
    }
    if (keep.count) {
        sb_http_form_encode(b, &keep);
        sb_buf_putc(b, '&');
    }
    sb_http_params_free(&keep);
    sb_buf_printf(b, "Page=%lld&PageSize=%lld", (long long)page, (long long)size);
    if (after && *after)
        sb_buf_printf(b, "&AfterSid=%s", after);
}

typedef struct {
    int64_t start, end;
    char *uri, *first, *prev, *next, *last;
} page_view_t;

static void page_view(sb__api_ctx_t *ctx, const sb__api_page_t *pg, page_view_t *v)
{
    sb_buf_t b = SB_BUF_INIT;
    v->start = pg->page * pg->size;
    /* Restcomm's End: on the last page start + items, else the page's
     * last index. */
    v->end = pg->page == pg->numpages ? v->start + pg->shown
                                      : pg->size - 1 + v->start;
    v->uri = sb_xstrdup(ctx->path);
    page_uri(ctx, &b, 0, pg->size, NULL);
    v->first = sb_buf_steal(&b);
    if (pg->page == 0) {
        v->prev = NULL;         /* JSON null; XML "null" */
    } else {
        page_uri(ctx, &b, pg->page - 1, pg->size, NULL);
        v->prev = sb_buf_steal(&b);
    }
    if (pg->page >= pg->numpages) {
        v->next = NULL;
    } else {
        page_uri(ctx, &b, pg->page + 1, pg->size, pg->shown ? pg->last_sid : NULL);
        v->next = sb_buf_steal(&b);
    }
    page_uri(ctx, &b, pg->numpages, pg->size, NULL);
    v->last = sb_buf_steal(&b);
    sb_buf_free(&b);
}

static void page_view_free(page_view_t *v)
{
    free(v->uri);
    free(v->first);
    free(v->prev);
    free(v->next);
    free(v->last);
}

char *sb__api_page_xml_attrs(sb__api_ctx_t *ctx, const sb__api_page_t *pg)
{
    page_view_t v;
    page_view(ctx, pg, &v);
    sb_buf_t b = SB_BUF_INIT;
    /* total is the real count (Restcomm writes the page count there). */
    sb_buf_printf(&b, "page=\"%lld\" numpages=\"%lld\" pagesize=\"%lld\" "
                  "total=\"%lld\" start=\"%lld\" end=\"%lld\"",
                  (long long)pg->page, (long long)pg->numpages, (long long)pg->size,
                  (long long)pg->total, (long long)v.start, (long long)v.end);
    const char *names[] = {"uri", "firstpageuri", "previouspageuri", "nextpageuri",
                           "lastpageuri"};
    const char *vals[] = {v.uri, v.first, v.prev, v.next, v.last};
    for (size_t i = 0; i < SB_COUNTOF(names); i++) {
        sb_buf_printf(&b, " %s=\"", names[i]);
        sb__api_xml_escape(&b, vals[i] ? vals[i] : "null");
        sb_buf_putc(&b, '"');
    }
    page_view_free(&v);
    return sb_buf_steal(&b);
}

void sb__api_page_json(sb__api_ctx_t *ctx, sb__api_w_t *w, const sb__api_page_t *pg)
{
    page_view_t v;
    page_view(ctx, pg, &v);
    sb__api_w_int(w, NULL, "page", pg->page);
    sb__api_w_int(w, NULL, "num_pages", pg->numpages);
    sb__api_w_int(w, NULL, "page_size", pg->size);
    sb__api_w_int(w, NULL, "total", pg->total);
    sb__api_w_int(w, NULL, "start", v.start);
    sb__api_w_int(w, NULL, "end", v.end);
    sb__api_w_str(w, NULL, "uri", v.uri, 0);
    sb__api_w_str(w, NULL, "first_page_uri", v.first, 0);
    sb__api_w_str(w, NULL, "previous_page_uri", v.prev, 0);
    sb__api_w_str(w, NULL, "next_page_uri", v.next, 0);
    sb__api_w_str(w, NULL, "last_page_uri", v.last, 0);
    page_view_free(&v);
}

/* ---- list ----------------------------------------------------------------- */

typedef struct {
    sb__api_ctx_t *ctx;
    const sb__api_resource_t *res;
    sb__api_w_t items;
    sb__api_page_t *pg;
    int64_t shown;
    char last_sid[SB_SID_SIZE];
} list_state_t;

static int on_list_row(const sb_rows_val_t *vals, void *arg)
{
    list_state_t *ls = arg;
    sb__api_render_row(ls->ctx, &ls->items, ls->res, vals);
    ls->shown++;
    snprintf(ls->last_sid, sizeof ls->last_sid, "%s", vals[0].s ? vals[0].s : "");
    return 0;
}

/* Fills conds from the resource's filters. Strings go to arena. Returns
 * the count, or -1 after answering 400. */
static int list_filters(sb__api_ctx_t *ctx, const sb__api_resource_t *res,
                        sb_rows_cond_t *conds, int n, int max, sb_buf_t *arena,
                        char **owned, int *nowned)
{
    for (int k = 0; k < res->nfilters && n < max; k++) {
        const sb__api_filter_t *f = &res->filters[k];
        const char *v = sb__api_param(ctx, f->param);
        if (v == NULL || *v == '\0')
            continue;
        int col = sb__api_col(res, f->column);
        sb_assert(col >= 0);
        sb_rows_cond_t *c = &conds[n];
        memset(c, 0, sizeof *c);
        c->col = col;
        sb_buf_reset(arena);
        switch (f->mode) {
        case SB__FILT_PATTERN:
            if (strchr(v, '%')) {
                for (const char *p = v; *p; p++) {
                    if (*p == '%') {
                        sb_buf_putc(arena, '%');
                    } else {
                        char one[2] = {*p, 0};
                        sb_rows_like_escape(arena, one);
                    }
                }
                c->op = SB_ROWS_LIKE;
                c->s = owned[(*nowned)++] = sb_buf_steal(arena);
                break;
            }
            c->op = SB_ROWS_EQ;
            c->s = v;
            break;
        case SB__FILT_EQ:
            c->op = SB_ROWS_EQ;
            c->s = v;
            break;
        case SB__FILT_WILDCARD:
        case SB__FILT_CONTAINS:
            sb_buf_putc(arena, '%');
            for (const char *p = v; *p; p++) {
                if (f->mode == SB__FILT_WILDCARD && *p == '*') {
                    sb_buf_putc(arena, '_');
                } else {
                    char one[2] = {*p, 0};
                    sb_rows_like_escape(arena, one);
                }
            }
            sb_buf_putc(arena, '%');
            c->op = SB_ROWS_LIKE;
            c->s = owned[(*nowned)++] = sb_buf_steal(arena);
            break;
        case SB__FILT_DATE_FROM:
        case SB__FILT_DATE_TO: {
            /* A date (the whole day), or a date and a time of day
             * ("2024-05-01 13:45:00", 'T' too): from that second on,
             * or up to and including it. */
            time_t t;
            char day[11];
            int hh = -1, mm = 0, ss = 0, used = 0;
            snprintf(day, sizeof day, "%s", v);
            int ok = strlen(v) >= 10 && sb_time_parse_date(day, &t) == 0;
            if (ok && v[10] != '\0')
                ok = (v[10] == ' ' || v[10] == 'T') &&
                     (sscanf(v + 11, "%2d:%2d:%2d%n", &hh, &mm, &ss, &used) == 3 ||
                      sscanf(v + 11, "%2d:%2d%n", &hh, &mm, &used) == 2) &&
                     v[11 + used] == '\0' && hh >= 0 && hh < 24 && mm >= 0 &&
                     mm < 60 && ss >= 0 && ss < 60;
            if (!ok) {
                sb__api_error(ctx, 400, "%s must be a date (YYYY-MM-DD), optionally "
                              "with a time of day (YYYY-MM-DD HH:MM:SS)", f->param);
                return -1;
            }
            int64_t at = (int64_t)t + (hh >= 0 ? hh * 3600 + mm * 60 + ss : 0);
            c->op = f->mode == SB__FILT_DATE_FROM ? SB_ROWS_GE : SB_ROWS_LT;
            c->i = at + (f->mode == SB__FILT_DATE_TO ? (hh >= 0 ? 1 : 86400) : 0);
            break;
        }
        case SB__FILT_INT: {
            char *end = NULL;
            errno = 0;
            long long x = strtoll(v, &end, 10);
            if (*end || errno) {
                sb__api_error(ctx, 400, "%s must be an integer", f->param);
                return -1;
            }
            c->op = SB_ROWS_EQ;
            c->i = x;
            break;
        }
        }
        n++;
    }
    return n;
}

/* Resolves SortBy ("Field[:asc|desc]") and Reverse. Returns 0 or 1 after
 * answering 400. */
static int list_sort(sb__api_ctx_t *ctx, const sb__api_resource_t *res,
                     sb_rows_query_t *q)
{
    const char *sort = sb__api_param(ctx, "SortBy");
    const char *rev = sb__api_param(ctx, "Reverse");
    q->order_col = -1;
    q->desc = 0;
    /* Restcomm's legacy Reverse=true turns the default order around
     * (SortBy, when given, says its own direction). */
    int reverse = !(sort && *sort) && rev && strcasecmp(rev, "true") == 0;
    const char *name = sort && *sort ? sort : res->default_sort;
    if (name == NULL) {
        q->desc = reverse;
        return 0;
    }
    size_t nl = strcspn(name, ":");
    for (int i = 0; i < res->nsorts; i++) {
        if (strlen(res->sorts[i].name) == nl &&
            strncasecmp(res->sorts[i].name, name, nl) == 0) {
            q->order_col = sb__api_col(res, res->sorts[i].column);
            for (const char *const *c = res->nullable_sorts; c && *c; c++)
                if (strcmp(*c, res->sorts[i].column) == 0)
                    q->order_nullable = 1;
            if (name[nl] == ':') {
                const char *dir = name + nl + 1;
                if (strcasecmp(dir, "desc") == 0)
                    q->desc = 1;
                else if (strcasecmp(dir, "asc") == 0)
                    q->desc = 0;
                else
                    goto bad;
            }
            if (reverse)
                q->desc = !q->desc;
            return 0;
        }
    }
bad:
    sb__api_error(ctx, 400, "SortBy %s is not supported here", sort ? sort : "");
    return 1;
}

void sb__api_list(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = ctx->route->res;
    if (sb__api_load_op(ctx))
        return;
    sb_rows_cond_t conds[1] = {{.col = res->owner_col, .op = SB_ROWS_EQ,
                                .s = ctx->op.sid}};
    /* Restcomm's SubAccounts=true: the rows of the operated account and
     * of every account under it. */
    const char *subs = sb__api_param(ctx, "SubAccounts");
    if (subs && res->sub_accounts) {
        if (strcasecmp(subs, "true") == 0) {
            conds[0].op = SB_ROWS_IN_ACCOUNT_TREE;
        } else if (strcasecmp(subs, "false") != 0) {
            sb__api_error(ctx, 400, "SubAccounts must be true or false");
            return;
        }
    }
    sb__api_list_with(ctx, res, conds, res->owner_col >= 0 ? 1 : 0);
}

/* Lists res with the base conditions (ownership) given, plus the
 * resource's filters from the request. */
void sb__api_list_with(sb__api_ctx_t *ctx, const sb__api_resource_t *res,
                       sb_rows_cond_t *base, int nbase)
{
    sb_rows_cond_t conds[24];
    char *owned[24];
    int nowned = 0;
    sb_buf_t arena = SB_BUF_INIT;
    memcpy(conds, base, (size_t)nbase * sizeof *conds);
    int n = list_filters(ctx, res, conds, nbase, (int)SB_COUNTOF(conds), &arena,
                         owned, &nowned);
    sb_rows_query_t q = {.conds = conds, .limit = -1};
    sb__api_page_t pg;
    int paged = sb__api_wants_paging(ctx, res);
    list_state_t ls = {.ctx = ctx, .res = res, .pg = &pg};
    if (n < 0)
        goto out;
    q.nconds = n;
    if (list_sort(ctx, res, &q))
        goto out;
    if (paged && sb__api_page_prepare(ctx, &res->table, conds, n, &q, &pg))
        goto out;

    sb__api_w_init(&ls.items, ctx->json);
    if (sb_rows_list(ctx->api->store, &res->table, &q, on_list_row, &ls) != 0) {
        sb__api_w_free(&ls.items);
        sb__api_error(ctx, 500, "Database error");
        goto out;
    }
    pg.shown = ls.shown;
    memcpy(pg.last_sid, ls.last_sid, sizeof pg.last_sid);

    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    if (ctx->json) {
        if (paged) {
            sb__api_w_obj_begin(&w, NULL, NULL);
            sb__api_page_json(ctx, &w, &pg);
            sb__api_w_arr_begin(&w, NULL, res->json_list, NULL);
        } else {
            sb__api_w_arr_begin(&w, NULL, NULL, NULL);
        }
        sb_buf_append(&w.buf, ls.items.buf.data, ls.items.buf.len);
        sb__api_w_arr_end(&w, NULL);
        if (paged)
            sb__api_w_obj_end(&w, NULL);
    } else {
        char *attrs = paged ? sb__api_page_xml_attrs(ctx, &pg) : NULL;
        sb__api_w_doc_begin(&w);
        sb__api_w_arr_begin(&w, res->xml_list, NULL, attrs);
        sb_buf_append(&w.buf, ls.items.buf.data, ls.items.buf.len);
        sb__api_w_arr_end(&w, res->xml_list);
        sb__api_w_doc_end(&w);
        free(attrs);
    }
    sb__api_w_free(&ls.items);
    sb__api_send_doc(ctx, &w);

out:
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    sb_buf_free(&arena);
}

/* ---- get / create / update / delete --------------------------------------- */

static int check_sid(sb__api_ctx_t *ctx, const sb__api_resource_t *res)
{
    if (!sb_sid_valid(ctx->sid, res->sid_prefix)) {
        sb__api_error(ctx, 400, "%s is not a valid %s SID", ctx->sid, res->sid_prefix);
        return 1;
    }
    return 0;
}

void sb__api_get(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = ctx->route->res;
    if (sb__api_load_op(ctx) || check_sid(ctx, res))
        return;
    sb__api_send_row(ctx, res, ctx->sid);
}

/* Writes an insert/update, maps its errors to answers, then answers the
 * row. Takes e. */
static void finish_write(sb__api_ctx_t *ctx, sb__api_edit_t *e, const char *sid)
{
    const sb__api_resource_t *res = e->res;
    sb_store_t *store = ctx->api->store;
    int rc;
    if (e->create) {
        rc = sb_rows_insert(store, &res->table, e->v);
    } else {
        sb_rows_cond_t c = {.col = res->sid_col, .op = SB_ROWS_EQ, .s = sid};
        rc = sb_rows_update(store, &res->table, &c, 1, e->v, NULL);
    }
    if (rc == SB_EEXIST) {
        if (res->conflict)
            res->conflict(ctx, e);
        else
            sb__api_error(ctx, 409, "A resource with these values already exists");
        sb__api_edit_free(e);
        return;
    }
    sb__api_edit_free(e);
    if (rc == SB_EINVAL) {
        sb__api_error(ctx, 400, "The request refers to a resource that does not exist");
        return;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    sb__api_send_row(ctx, res, sid);
}

void sb__api_create(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = ctx->route->res;
    char err[256];
    if (sb__api_load_op(ctx))
        return;
    sb__api_edit_t e;
    sb__api_edit_init(&e, res);
    e.create = 1;
    for (int i = 0; i < res->nfields; i++) {
        const sb__api_field_t *f = &res->fields[i];
        if (!(f->flags & SB__F_CREATE) || res->colmap[i] < 0)
            continue;
        const char *name = f->param ? f->param : f->xml;
        const char *text = sb__api_param(ctx, name);
        if ((text == NULL || *text == '\0') && (f->flags & SB__F_REQ)) {
            sb__api_edit_free(&e);
            sb__api_error(ctx, 400, "%s can not be null.", name);
            return;
        }
        if (text == NULL)
            text = f->def;
        if (text == NULL)
            continue;
        if (sb__api_parse_value(&e, f, text, &e.v[res->colmap[i]], err, sizeof err)) {
            sb__api_edit_free(&e);
            sb__api_error(ctx, 400, "%s", err);
            return;
        }
    }
    char sid[SB_SID_SIZE];
    sb_sid_new(res->sid_prefix, sid);
    int64_t now = sb__api_now();
    sb__api_edit_text(&e, "sid", sid);
    if (res->owner_col >= 0)
        sb__api_edit_text(&e, res->owner_column, ctx->op.sid);
    if (res->created_col >= 0)
        sb__api_edit_int(&e, "date_created", now);
    if (res->updated_col >= 0)
        sb__api_edit_int(&e, "date_updated", now);
    if (res->version_col >= 0)
        sb__api_edit_text(&e, "api_version", SB_API_VERSION);
    if (res->prepare && res->prepare(ctx, &e)) {
        sb__api_edit_free(&e);
        return;
    }
    finish_write(ctx, &e, sid);
}

/* Loads the row of ctx->sid owned by the operated account. Returns 0, or
 * 1 after answering. */
static int load_item(sb__api_ctx_t *ctx, const sb__api_resource_t *res,
                     sb_row_t *row)
{
    sb_rows_cond_t conds[2] = {{.col = res->sid_col, .op = SB_ROWS_EQ, .s = ctx->sid}};
    int n = 1;
    if (res->owner_col >= 0)
        conds[n++] = (sb_rows_cond_t){.col = res->owner_col, .op = SB_ROWS_EQ,
                                      .s = ctx->op.sid};
    int rc = sb_rows_get(ctx->api->store, &res->table, conds, n, row);
    if (rc == SB_ENOENT) {
        sb__api_error(ctx, 404, "The requested resource was not found");
        return 1;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    return 0;
}

void sb__api_update(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = ctx->route->res;
    char err[256];
    sb_row_t row;
    if (sb__api_load_op(ctx) || check_sid(ctx, res) || load_item(ctx, res, &row))
        return;
    sb__api_edit_t e;
    sb__api_edit_init(&e, res);
    e.old = row.v;
    for (int i = 0; i < res->nfields; i++) {
        const sb__api_field_t *f = &res->fields[i];
        if (!(f->flags & SB__F_UPDATE) || res->colmap[i] < 0)
            continue;
        const char *text = sb__api_param(ctx, f->param ? f->param : f->xml);
        if (text == NULL)
            continue;
        if (sb__api_parse_value(&e, f, text, &e.v[res->colmap[i]], err, sizeof err)) {
            sb__api_edit_free(&e);
            sb_row_free(&row);
            sb__api_error(ctx, 400, "%s", err);
            return;
        }
    }
    if (res->updated_col >= 0)
        sb__api_edit_int(&e, "date_updated", sb__api_now());
    if (res->prepare && res->prepare(ctx, &e)) {
        sb__api_edit_free(&e);
        sb_row_free(&row);
        return;
    }
    char sid[SB_SID_SIZE];
    snprintf(sid, sizeof sid, "%s", ctx->sid);
    e.old = NULL;
    sb_row_free(&row);
    finish_write(ctx, &e, sid);
}

void sb__api_delete(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = ctx->route->res;
    sb_row_t row;
    if (sb__api_load_op(ctx) || check_sid(ctx, res) || load_item(ctx, res, &row))
        return;
    sb_rows_cond_t c = {.col = res->sid_col, .op = SB_ROWS_EQ, .s = ctx->sid};
    int rc = sb_rows_delete(ctx->api->store, &res->table, &c, 1, NULL);
    if (rc != 0) {
        sb_row_free(&row);
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    if (res->deleted)
        res->deleted(ctx, row.v);
    sb_row_free(&row);
    /* Twilio answers every DELETE 204. */
    sb__api_send(ctx, ctx->json == SB__API_JSON_TWILIO ? 204
                      : res->delete_status ? res->delete_status : 200, NULL, 0);
}

void sb__api_item(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = ctx->route->res;
    unsigned need = strcmp(ctx->method, "GET") == 0      ? SB__OP_GET
                    : strcmp(ctx->method, "DELETE") == 0 ? SB__OP_DELETE
                                                         : SB__OP_UPDATE;
    if (!(res->ops & need)) {
        sb__api_error(ctx, 405, "Method %s is not allowed here", ctx->method);
        return;
    }
    if (need == SB__OP_GET)
        sb__api_get(ctx);
    else if (need == SB__OP_DELETE)
        sb__api_delete(ctx);
    else
        sb__api_update(ctx);
}

void sb__api_collection(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = ctx->route->res;
    int get = strcmp(ctx->method, "GET") == 0;
    if (!(res->ops & (get ? SB__OP_LIST : SB__OP_CREATE))) {
        sb__api_error(ctx, 405, "Method %s is not allowed here", ctx->method);
        return;
    }
    if (get)
        sb__api_list(ctx);
    else
        sb__api_create(ctx);
}
