/*
 * rows.c: the generic row layer (rows.h). Composes SELECT / INSERT /
 * UPDATE / DELETE / aggregate statements from a table description and a
 * list of conditions, prepares them through the store's statement cache
 * (the SQL text is the key, so each shape of query is compiled once), and
 * binds values by column type.
 *
 * Paging is O(page): with a keyset ("after") the statement seeks to the
 * row after the given key through the index; with an offset SQLite skips
 * index entries, not rows. Row counts are cached per connection until the
 * database changes; the cache hangs off the sqlite3 handle (a destructor
 * registered with the connection frees it on close), so store.c needs no
 * knowledge of it. Transactions are plain BEGIN IMMEDIATE / COMMIT.
 */
#include "rows.h"
#include "store_int.h"
#include "util.h"

#include <string.h>

/* ---- rows ---------------------------------------------------------------- */

void sb_row_free(sb_row_t *row)
{
    if (row == NULL)
        return;
    free(row->v);
    free(row->mem);
    memset(row, 0, sizeof *row);
}

static int ident_ok(const char *s)
{
    if (s == NULL || !((*s >= 'a' && *s <= 'z') || *s == '_'))
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

int sb_rows_table_check(const sb_rows_table_t *t)
{
    if (t == NULL || !ident_ok(t->name) || t->ncols < 1 ||
        t->cols[0].type != SB_ROWS_TEXT)
        return SB_EINVAL;
    for (int i = 0; i < t->ncols; i++)
        if (!ident_ok(t->cols[i].name))
            return SB_EINVAL;
    return 0;
}

int sb_rows_col(const sb_rows_table_t *t, const char *name)
{
    for (int i = 0; i < t->ncols; i++)
        if (strcmp(t->cols[i].name, name) == 0)
            return i;
    return -1;
}

void sb_rows_like_escape(sb_buf_t *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '%' || *s == '_' || *s == '\\')
            sb_buf_putc(out, '\\');
        sb_buf_putc(out, *s);
    }
}

/* ---- per-connection state: the count cache -------------------------------- */

#define COUNT_CACHE 32
#define CKPT_CACHE 8
#define CKPT_STRIDE 256

/* Checkpoints of one ordered, filtered listing: the sort value and rowid
 * of every CKPT_STRIDE-th row, so that an offset becomes a keyset seek
 * plus at most CKPT_STRIDE skipped rows. */
typedef struct {
    char *key;                  /* owned: table, WHERE, order, values */
    int64_t changes;
    unsigned version;
    int n;
    int64_t upto;               /* rows examined when built */
    int64_t *rowid;             /* owned arrays of n */
    int64_t *ival;
    char **sval;
} ckpt_t;

typedef struct rows_conn_s {
    sqlite3 *db;
    struct rows_conn_s *next;
    struct {
        char *key;              /* owned: SQL and bound values */
        int64_t changes;        /* sqlite3_total_changes64 then */
        unsigned version;       /* data version then */
        int64_t count;
    } counts[COUNT_CACHE];
    int next_slot;
    ckpt_t ckpts[CKPT_CACHE];
    int next_ckpt;
} rows_conn_t;

/* All connections with state. One thread uses the store (DESIGN.md), so
 * a plain list is enough. */
static rows_conn_t *conns;

static void ckpt_clear(ckpt_t *k)
{
    for (int i = 0; k->sval && i < k->n; i++)
        free(k->sval[i]);
    free(k->sval);
    free(k->ival);
    free(k->rowid);
    free(k->key);
    memset(k, 0, sizeof *k);
}

static void conn_destroy(void *p)
{
    rows_conn_t *c = p;
    for (rows_conn_t **pp = &conns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    }
    for (int i = 0; i < COUNT_CACHE; i++)
        free(c->counts[i].key);
    for (int i = 0; i < CKPT_CACHE; i++)
        ckpt_clear(&c->ckpts[i]);
    free(c);
}

static void conn_marker(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    sqlite3_result_null(ctx);
}

static rows_conn_t *conn_state(sb_store_t *store)
{
    for (rows_conn_t *c = conns; c; c = c->next)
        if (c->db == store->db)
            return c;
    rows_conn_t *c = SB_NEW(rows_conn_t);
    c->db = store->db;
    /* The function exists only so that the connection owns c: SQLite
     * calls conn_destroy when the connection closes. */
    if (sqlite3_create_function_v2(store->db, "sb_rows_state", 0, SQLITE_UTF8, c,
                                   conn_marker, NULL, NULL,
                                   conn_destroy) != SQLITE_OK) {
        free(c);
        return NULL;
    }
    c->next = conns;
    conns = c;
    return c;
}

/* ---- statement building ------------------------------------------------- */

#define MAX_BINDS 64

typedef struct {
    sb_buf_t sql;
    int n;
    struct {
        sb_rows_type_t type;
        int null;
        const char *s;
        int64_t i;
    } b[MAX_BINDS];
    int overflow;
} stmt_t;

static void bind_add(stmt_t *q, sb_rows_type_t type, int null, const char *s,
                     int64_t i)
{
    if (q->n == MAX_BINDS) {
        q->overflow = 1;
        return;
    }
    q->b[q->n].type = type;
    q->b[q->n].null = null || (type == SB_ROWS_TEXT && s == NULL);
    q->b[q->n].s = s;
    q->b[q->n].i = i;
    q->n++;
    sb_buf_printf(&q->sql, "?%d", q->n);
}

static void put_cols(stmt_t *q, const sb_rows_table_t *t)
{
    for (int i = 0; i < t->ncols; i++) {
        if (i)
            sb_buf_puts(&q->sql, ", ");
        sb_buf_puts(&q->sql, t->cols[i].name);
    }
}

/* Appends " WHERE ..." for conds. Returns SB_EINVAL for a bad column. */
static int put_where(stmt_t *q, const sb_rows_table_t *t,
                     const sb_rows_cond_t *conds, int nconds, int *first)
{
    static const char *const ops[] = {"=", "<>", "<", "<=", ">", ">="};
    for (int k = 0; k < nconds; k++) {
        const sb_rows_cond_t *c = &conds[k];
        if (c->col < 0 || c->col >= t->ncols)
            return SB_EINVAL;
        const sb_rows_col_t *col = &t->cols[c->col];
        sb_buf_puts(&q->sql, *first ? " WHERE " : " AND ");
        *first = 0;
        sb_buf_puts(&q->sql, col->name);
        switch (c->op) {
        case SB_ROWS_EQ: case SB_ROWS_NE: case SB_ROWS_LT:
        case SB_ROWS_LE: case SB_ROWS_GT: case SB_ROWS_GE:
            sb_buf_printf(&q->sql, " %s ", ops[c->op]);
            bind_add(q, col->type, 0, c->s, c->i);
            break;
        case SB_ROWS_EQ_NOCASE:
            sb_buf_puts(&q->sql, " = ");
            bind_add(q, SB_ROWS_TEXT, 0, c->s, 0);
            sb_buf_puts(&q->sql, " COLLATE NOCASE");
            break;
        case SB_ROWS_LIKE:
            sb_buf_puts(&q->sql, " LIKE ");
            bind_add(q, SB_ROWS_TEXT, 0, c->s, 0);
            sb_buf_puts(&q->sql, " ESCAPE '\\'");
            break;
        case SB_ROWS_IS_NULL:
            sb_buf_puts(&q->sql, " IS NULL");
            break;
        case SB_ROWS_NOT_NULL:
            sb_buf_puts(&q->sql, " IS NOT NULL");
            break;
        case SB_ROWS_IN_ACCOUNT_TREE:
            /* Sub-accounts are at most a few levels deep; UNION (not
             * ALL) stops a corrupt parent cycle. */
            sb_buf_puts(&q->sql, " IN (WITH RECURSIVE sub(sid) AS (SELECT ");
            bind_add(q, SB_ROWS_TEXT, 0, c->s, 0);
            sb_buf_puts(&q->sql, " UNION SELECT a.sid FROM accounts a JOIN sub "
                                 "ON a.parent_sid = sub.sid) SELECT sid FROM sub)");
            break;
        default:
            return SB_EINVAL;
        }
    }
    return q->overflow ? SB_EINVAL : 0;
}

static void bind_all(sqlite3_stmt *st, stmt_t *q)
{
    for (int i = 0; i < q->n; i++) {
        if (q->b[i].null)
            sqlite3_bind_null(st, i + 1);
        else if (q->b[i].type == SB_ROWS_TEXT)
            sqlite3_bind_text(st, i + 1, q->b[i].s, -1, SQLITE_STATIC);
        else
            sqlite3_bind_int64(st, i + 1, q->b[i].i);
    }
}

static sqlite3_stmt *prepare_bound(sb_store_t *store, stmt_t *q)
{
    sqlite3_stmt *st = sb__store_prepare(store, sb_buf_str(&q->sql));
    if (st != NULL)
        bind_all(st, q);
    return st;
}

/* Fills vals (ncols) from the current row of st, borrowing its memory. */
static void read_vals(sqlite3_stmt *st, const sb_rows_table_t *t,
                      sb_rows_val_t *vals)
{
    for (int i = 0; i < t->ncols; i++) {
        sb_rows_val_t *v = &vals[i];
        v->set = 1;
        v->null = sqlite3_column_type(st, i) == SQLITE_NULL;
        v->i = 0;
        v->s = NULL;
        if (v->null)
            continue;
        if (t->cols[i].type == SB_ROWS_INT)
            v->i = sqlite3_column_int64(st, i);
        else
            v->s = (const char *)sqlite3_column_text(st, i);
        if (t->cols[i].type == SB_ROWS_TEXT && v->s == NULL)
            v->null = 1;
    }
}

static int step_error(sb_store_t *store, int rc, const char *what)
{
    int prim = rc & 0xff;
    if (prim == SQLITE_CONSTRAINT) {
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return SB_EEXIST;
        return SB_EINVAL;
    }
    sb_error("store: %s: %s", what, sqlite3_errmsg(store->db));
    return SB_ESTORE;
}

/* ---- reads --------------------------------------------------------------- */

int sb_rows_get(sb_store_t *store, const sb_rows_table_t *t,
                const sb_rows_cond_t *conds, int nconds, sb_row_t *out)
{
    stmt_t q = {0};
    int first = 1, rc;
    memset(out, 0, sizeof *out);
    sb_buf_puts(&q.sql, "SELECT ");
    put_cols(&q, t);
    sb_buf_printf(&q.sql, " FROM %s", t->name);
    if ((rc = put_where(&q, t, conds, nconds, &first)) != 0) {
        sb_buf_free(&q.sql);
        return rc;
    }
    sb_buf_puts(&q.sql, " ORDER BY rowid LIMIT 1");
    sqlite3_stmt *st = prepare_bound(store, &q);
    sb_buf_free(&q.sql);
    if (st == NULL)
        return SB_ESTORE;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? SB_ENOENT : step_error(store, rc, "get");
    }
    /* Copy: one block for every string, the values pointing into it. */
    size_t total = 0;
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].type == SB_ROWS_TEXT && sqlite3_column_type(st, i) != SQLITE_NULL)
            total += (size_t)sqlite3_column_bytes(st, i) + 1;
    out->v = sb_xcalloc((size_t)t->ncols, sizeof *out->v);
    out->n = t->ncols;
    out->mem = sb_xmalloc(total ? total : 1);
    read_vals(st, t, out->v);
    char *p = out->mem;
    for (int i = 0; i < t->ncols; i++) {
        if (out->v[i].s) {
            size_t n = strlen(out->v[i].s);
            memcpy(p, out->v[i].s, n + 1);
            out->v[i].s = p;
            p += n + 1;
        }
    }
    sqlite3_reset(st);
    return 0;
}

/* Finds the sort value and rowid of the row keyed after. Returns 1 when
 * found. */
static int seek_after(sb_store_t *store, const sb_rows_table_t *t, int order_col,
                      const char *after, int64_t *rowid, sb_rows_val_t *ov,
                      char **ovtext)
{
    sb_buf_t sql = SB_BUF_INIT;
    sb_buf_printf(&sql, "SELECT rowid, %s FROM %s WHERE %s = ?1",
                  order_col >= 0 ? t->cols[order_col].name : "rowid", t->name,
                  t->cols[0].name);
    sqlite3_stmt *st = sb__store_prepare(store, sb_buf_str(&sql));
    sb_buf_free(&sql);
    if (st == NULL)
        return 0;
    sqlite3_bind_text(st, 1, after, -1, SQLITE_STATIC);
    int found = sqlite3_step(st) == SQLITE_ROW;
    if (found) {
        *rowid = sqlite3_column_int64(st, 0);
        memset(ov, 0, sizeof *ov);
        if (order_col >= 0) {
            if (sqlite3_column_type(st, 1) == SQLITE_NULL) {
                found = 0;          /* cannot seek past a NULL: use offset */
            } else if (t->cols[order_col].type == SB_ROWS_INT) {
                ov->i = sqlite3_column_int64(st, 1);
            } else {
                *ovtext = sb_xstrdup((const char *)sqlite3_column_text(st, 1));
                ov->s = *ovtext;
            }
        }
    }
    sqlite3_reset(st);
    return found;
}

/* Appends the SQL and every bound value of q: a cache key. */
static void stmt_key(sb_buf_t *key, const stmt_t *q)
{
    sb_buf_puts(key, sb_buf_str(&q->sql));
    for (int i = 0; i < q->n; i++) {
        if (q->b[i].null)
            sb_buf_puts(key, "\x1fN");
        else if (q->b[i].type == SB_ROWS_TEXT)
            sb_buf_printf(key, "\x1fT%s", q->b[i].s);
        else
            sb_buf_printf(key, "\x1fI%lld", (long long)q->b[i].i);
    }
}

/* What identifies the database's content: this connection's changes and
 * the data version (other connections' commits). Returns 0, or -1 when
 * it cannot be told (then nothing may be cached). */
static int db_version(sb_store_t *store, int64_t *changes, unsigned *version)
{
    *changes = sqlite3_total_changes64(store->db);
    *version = 0;
    return sqlite3_file_control(store->db, "main", SQLITE_FCNTL_DATA_VERSION,
                                version) == SQLITE_OK ? 0 : -1;
}

/* Builds checkpoints for the first upto rows of the listing w (the FROM
 * ... WHERE part with its binds) ordered by oc. Returns 0 or SB_ESTORE. */
static int ckpt_build(sb_store_t *store, const sb_rows_table_t *t, const stmt_t *w,
                      int oc, int desc, int64_t upto, ckpt_t *k)
{
    const char *dir = desc ? "DESC" : "ASC";
    stmt_t q = {0};
    sb_buf_printf(&q.sql, "SELECT rowid, %s%s", oc >= 0 ? t->cols[oc].name : "rowid",
                  sb_buf_str(&w->sql));
    if (oc >= 0)
        sb_buf_printf(&q.sql, " ORDER BY %s %s, rowid %s", t->cols[oc].name, dir, dir);
    else
        sb_buf_printf(&q.sql, " ORDER BY rowid %s", dir);
    sb_buf_printf(&q.sql, " LIMIT %lld", (long long)upto);
    memcpy(q.b, w->b, sizeof q.b);
    q.n = w->n;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(store->db, sb_buf_str(&q.sql), -1, &st, NULL);
    sb_buf_free(&q.sql);
    if (rc != SQLITE_OK)
        return SB_ESTORE;
    bind_all(st, &q);
    int cap = (int)(upto / CKPT_STRIDE) + 1;
    int text = oc >= 0 && t->cols[oc].type == SB_ROWS_TEXT;
    k->rowid = sb_xcalloc((size_t)cap, sizeof *k->rowid);
    k->ival = sb_xcalloc((size_t)cap, sizeof *k->ival);
    k->sval = text ? sb_xcalloc((size_t)cap, sizeof *k->sval) : NULL;
    int64_t pos = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (++pos % CKPT_STRIDE != 0)
            continue;
        if (sqlite3_column_type(st, 1) == SQLITE_NULL)
            break;                  /* cannot seek past NULL: stop here */
        k->rowid[k->n] = sqlite3_column_int64(st, 0);
        if (text)
            k->sval[k->n] = sb_xstrdup((const char *)sqlite3_column_text(st, 1));
        else
            k->ival[k->n] = sqlite3_column_int64(st, 1);
        k->n++;
    }
    sqlite3_finalize(st);
    k->upto = upto;
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : SB_ESTORE;
}

/* Turns a deep offset into a seek: finds the last checkpoint at or
 * before offset. Returns 1 and fills the seek point (text copied into
 * *text) and *skipped (rows before it), or 0 to use the plain offset. */
static int ckpt_seek(sb_store_t *store, const sb_rows_table_t *t, const stmt_t *w,
                     int oc, int desc, int64_t offset, int64_t *rowid,
                     sb_rows_val_t *val, char **text, int64_t *skipped)
{
    int64_t want = offset / CKPT_STRIDE;
    rows_conn_t *c = conn_state(store);
    int64_t changes;
    unsigned version;
    if (want < 1 || c == NULL || db_version(store, &changes, &version) != 0)
        return 0;
    sb_buf_t key = SB_BUF_INIT;
    sb_buf_printf(&key, "%s|%d|%d|", t->name, oc, desc);
    stmt_key(&key, w);
    ckpt_t *k = NULL;
    for (int i = 0; i < CKPT_CACHE; i++) {
        ckpt_t *e = &c->ckpts[i];
        if (e->key && e->changes == changes && e->version == version &&
            strcmp(e->key, sb_buf_str(&key)) == 0) {
            k = e;
            break;
        }
    }
    if (k && k->upto < want * CKPT_STRIDE) {
        /* Built for a shallower offset: rebuild deeper. */
        ckpt_clear(k);
        k = NULL;
    }
    if (k == NULL) {
        k = &c->ckpts[c->next_ckpt];
        c->next_ckpt = (c->next_ckpt + 1) % CKPT_CACHE;
        ckpt_clear(k);
        if (ckpt_build(store, t, w, oc, desc, want * CKPT_STRIDE, k) != 0) {
            ckpt_clear(k);
            sb_buf_free(&key);
            return 0;
        }
        k->key = sb_buf_steal(&key);
        k->changes = changes;
        k->version = version;
    }
    sb_buf_free(&key);
    int64_t j = want < k->n ? want : k->n;
    if (j < 1)
        return 0;
    memset(val, 0, sizeof *val);
    *rowid = k->rowid[j - 1];
    if (k->sval) {
        *text = sb_xstrdup(k->sval[j - 1]);
        val->s = *text;
    } else {
        val->i = k->ival[j - 1];
    }
    *skipped = j * CKPT_STRIDE;
    return 1;
}

int sb_rows_list(sb_store_t *store, const sb_rows_table_t *t,
                 const sb_rows_query_t *qr, sb_rows_each_cb each, void *arg)
{
    stmt_t w = {0}, q = {0};
    int first = 1, rc;
    int oc = qr->order_col;
    if (oc >= t->ncols)
        return SB_EINVAL;
    const char *dir = qr->desc ? "DESC" : "ASC";
    int64_t after_rowid = 0, offset = qr->offset > 0 ? qr->offset : 0;
    sb_rows_val_t after_val;
    char *after_text = NULL;

    /* The FROM ... WHERE part, shared with the checkpoint query. */
    sb_buf_printf(&w.sql, " FROM %s", t->name);
    if ((rc = put_where(&w, t, qr->conds, qr->nconds, &first)) != 0)
        goto done;
    int keyset = qr->after &&
                 seek_after(store, t, oc, qr->after, &after_rowid, &after_val,
                            &after_text);
    if (keyset) {
        offset = 0;
    } else if (offset >= CKPT_STRIDE) {
        int64_t skipped = 0;
        if (ckpt_seek(store, t, &w, oc, qr->desc, offset, &after_rowid, &after_val,
                      &after_text, &skipped)) {
            keyset = 1;
            offset -= skipped;
        }
    }

    sb_buf_puts(&q.sql, "SELECT ");
    put_cols(&q, t);
    sb_buf_puts(&q.sql, sb_buf_str(&w.sql));
    memcpy(q.b, w.b, sizeof q.b);
    q.n = w.n;
    if (keyset) {
        const char *cmp = qr->desc ? "<" : ">";
        sb_buf_puts(&q.sql, first ? " WHERE " : " AND ");
        if (oc >= 0) {
            /* Descending, NULLs come after every value (the seek point is
             * never NULL): they follow it. Only for nullable columns, so
             * the range stays an index range for the others. */
            int nulls = qr->desc && qr->order_nullable;
            sb_buf_printf(&q.sql, "%s(%s, rowid) %s (", nulls ? "(" : "",
                          t->cols[oc].name, cmp);
            bind_add(&q, t->cols[oc].type, 0, after_val.s, after_val.i);
            sb_buf_puts(&q.sql, ", ");
            bind_add(&q, SB_ROWS_INT, 0, NULL, after_rowid);
            sb_buf_puts(&q.sql, ")");
            if (nulls)
                sb_buf_printf(&q.sql, " OR %s IS NULL)", t->cols[oc].name);
        } else {
            sb_buf_printf(&q.sql, "rowid %s ", cmp);
            bind_add(&q, SB_ROWS_INT, 0, NULL, after_rowid);
        }
    }
    if (oc >= 0)
        sb_buf_printf(&q.sql, " ORDER BY %s %s, rowid %s", t->cols[oc].name, dir, dir);
    else
        sb_buf_printf(&q.sql, " ORDER BY rowid %s", dir);
    sb_buf_puts(&q.sql, " LIMIT ");
    bind_add(&q, SB_ROWS_INT, 0, NULL, qr->limit < 0 ? -1 : qr->limit);
    if (offset > 0) {
        sb_buf_puts(&q.sql, " OFFSET ");
        bind_add(&q, SB_ROWS_INT, 0, NULL, offset);
    }
    if (q.overflow) {
        rc = SB_EINVAL;
        goto done;
    }

    /* A statement of its own, not the shared cache: the callback may run
     * other statements, and a cache eviction must not finalize this one
     * while it is being stepped. */
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(store->db, sb_buf_str(&q.sql), -1, &st, NULL) != SQLITE_OK) {
        sb_error("store: cannot prepare list: %s", sqlite3_errmsg(store->db));
        rc = SB_ESTORE;
        goto done;
    }
    bind_all(st, &q);
    sb_rows_val_t stackv[32];
    sb_rows_val_t *vals = t->ncols <= 32 ? stackv
                                          : sb_xcalloc((size_t)t->ncols, sizeof *vals);
    rc = 0;
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        read_vals(st, t, vals);
        if ((rc = each(vals, arg)) != 0)
            break;
    }
    if (rc == 0 && s != SQLITE_DONE)
        rc = step_error(store, s, "list");
    sqlite3_finalize(st);
    if (vals != stackv)
        free(vals);

done:
    free(after_text);
    sb_buf_free(&w.sql);
    sb_buf_free(&q.sql);
    return rc;
}

int sb_rows_count(sb_store_t *store, const sb_rows_table_t *t,
                  const sb_rows_cond_t *conds, int nconds, int64_t *out)
{
    stmt_t q = {0};
    int first = 1, rc;
    *out = 0;
    sb_buf_printf(&q.sql, "SELECT count(*) FROM %s", t->name);
    if ((rc = put_where(&q, t, conds, nconds, &first)) != 0) {
        sb_buf_free(&q.sql);
        return rc;
    }

    /* The cache key: the SQL and every bound value. */
    sb_buf_t key = SB_BUF_INIT;
    stmt_key(&key, &q);
    rows_conn_t *c = conn_state(store);
    int64_t changes;
    unsigned version;
    if (db_version(store, &changes, &version) != 0)
        c = NULL;                   /* cannot tell: do not cache */
    if (c) {
        for (int i = 0; i < COUNT_CACHE; i++) {
            if (c->counts[i].key && c->counts[i].changes == changes &&
                c->counts[i].version == version &&
                strcmp(c->counts[i].key, sb_buf_str(&key)) == 0) {
                *out = c->counts[i].count;
                sb_buf_free(&key);
                sb_buf_free(&q.sql);
                return 0;
            }
        }
    }

    sqlite3_stmt *st = prepare_bound(store, &q);
    sb_buf_free(&q.sql);
    if (st == NULL) {
        sb_buf_free(&key);
        return SB_ESTORE;
    }
    int s = sqlite3_step(st);
    if (s == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        rc = 0;
    } else {
        rc = step_error(store, s, "count");
    }
    sqlite3_reset(st);
    if (rc == 0 && c) {
        int slot = c->next_slot;
        c->next_slot = (slot + 1) % COUNT_CACHE;
        free(c->counts[slot].key);
        c->counts[slot].key = sb_buf_steal(&key);
        c->counts[slot].changes = changes;
        c->counts[slot].version = version;
        c->counts[slot].count = *out;
    }
    sb_buf_free(&key);
    return rc;
}

/* ---- writes -------------------------------------------------------------- */

int sb_rows_insert(sb_store_t *store, const sb_rows_table_t *t,
                   const sb_rows_val_t *vals)
{
    stmt_t q = {0};
    int any = 0;
    sb_buf_printf(&q.sql, "INSERT INTO %s (", t->name);
    for (int i = 0; i < t->ncols; i++) {
        if (!vals[i].set)
            continue;
        sb_buf_printf(&q.sql, "%s%s", any ? ", " : "", t->cols[i].name);
        any = 1;
    }
    if (!any) {
        sb_buf_free(&q.sql);
        return SB_EINVAL;
    }
    sb_buf_puts(&q.sql, ") VALUES (");
    any = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (!vals[i].set)
            continue;
        if (any)
            sb_buf_puts(&q.sql, ", ");
        bind_add(&q, t->cols[i].type, vals[i].null, vals[i].s, vals[i].i);
        any = 1;
    }
    sb_buf_puts(&q.sql, ")");
    if (q.overflow) {
        sb_buf_free(&q.sql);
        return SB_EINVAL;
    }
    sqlite3_stmt *st = prepare_bound(store, &q);
    sb_buf_free(&q.sql);
    if (st == NULL)
        return SB_ESTORE;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : step_error(store, rc, "insert");
}

/* The end of an UPDATE or DELETE: adds the WHERE of conds to q, runs it
 * and reports the rows it changed in *changed (may be NULL). what names
 * the statement in errors. Frees q's SQL. */
static int run_write(sb_store_t *store, stmt_t *q, const sb_rows_table_t *t,
                     const sb_rows_cond_t *conds, int nconds,
                     const char *what, int64_t *changed)
{
    int first = 1;
    int rc = put_where(q, t, conds, nconds, &first);
    if (rc != 0) {
        sb_buf_free(&q->sql);
        return rc;
    }
    sqlite3_stmt *st = prepare_bound(store, q);
    sb_buf_free(&q->sql);
    if (st == NULL)
        return SB_ESTORE;
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return step_error(store, rc, what);
    if (changed)
        *changed = sqlite3_changes64(store->db);
    return 0;
}

int sb_rows_update(sb_store_t *store, const sb_rows_table_t *t,
                   const sb_rows_cond_t *conds, int nconds,
                   const sb_rows_val_t *vals, int64_t *changed)
{
    stmt_t q = {0};
    int any = 0;
    if (changed)
        *changed = 0;
    sb_buf_printf(&q.sql, "UPDATE %s SET ", t->name);
    for (int i = 0; i < t->ncols; i++) {
        if (!vals[i].set)
            continue;
        sb_buf_printf(&q.sql, "%s%s = ", any ? ", " : "", t->cols[i].name);
        bind_add(&q, t->cols[i].type, vals[i].null, vals[i].s, vals[i].i);
        any = 1;
    }
    if (!any) {
        sb_buf_free(&q.sql);
        return 0;                   /* nothing to change */
    }
    return run_write(store, &q, t, conds, nconds, "update", changed);
}

int sb_rows_delete(sb_store_t *store, const sb_rows_table_t *t,
                   const sb_rows_cond_t *conds, int nconds, int64_t *deleted)
{
    stmt_t q = {0};
    if (deleted)
        *deleted = 0;
    if (nconds < 1)
        return SB_EINVAL;
    sb_buf_printf(&q.sql, "DELETE FROM %s", t->name);
    return run_write(store, &q, t, conds, nconds, "delete", deleted);
}

/* ---- aggregates ---------------------------------------------------------- */

int sb_rows_aggregate(sb_store_t *store, const sb_rows_table_t *t,
                      const sb_rows_cond_t *conds, int nconds, int time_col,
                      const char *period, int sum_col, int fsum_col,
                      sb_rows_group_cb each, void *arg)
{
    const char *fmt = NULL;
    if (period == NULL)
        fmt = NULL;
    else if (strcmp(period, "day") == 0)
        fmt = "%Y-%m-%d";
    else if (strcmp(period, "month") == 0)
        fmt = "%Y-%m";
    else if (strcmp(period, "year") == 0)
        fmt = "%Y";
    else
        return SB_EINVAL;
    if (time_col < 0 || time_col >= t->ncols || sum_col >= t->ncols ||
        fsum_col >= t->ncols)
        return SB_EINVAL;

    stmt_t q = {0};
    int first = 1, rc;
    if (fmt)
        sb_buf_printf(&q.sql, "SELECT strftime('%s', %s, 'unixepoch')", fmt,
                      t->cols[time_col].name);
    else
        sb_buf_puts(&q.sql, "SELECT ''");
    sb_buf_printf(&q.sql, ", count(*), ifnull(sum(%s), 0), total(%s) FROM %s",
                  sum_col >= 0 ? t->cols[sum_col].name : "0",
                  fsum_col >= 0 ? t->cols[fsum_col].name : "0", t->name);
    if ((rc = put_where(&q, t, conds, nconds, &first)) != 0) {
        sb_buf_free(&q.sql);
        return rc;
    }
    if (fmt)
        sb_buf_puts(&q.sql, " GROUP BY 1 ORDER BY 1");
    sqlite3_stmt *st = prepare_bound(store, &q);
    sb_buf_free(&q.sql);
    if (st == NULL)
        return SB_ESTORE;
    int s;
    rc = 0;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        sb_rows_group_t g = {
            .key = k ? k : "",
            .count = sqlite3_column_int64(st, 1),
            .sum = sqlite3_column_int64(st, 2),
            .fsum = sqlite3_column_double(st, 3),
        };
        if (fmt == NULL && g.count == 0)
            break;                  /* no rows: no group */
        if ((rc = each(&g, arg)) != 0)
            break;
    }
    if (rc == 0 && s != SQLITE_DONE && s != SQLITE_ROW)
        rc = step_error(store, s, "aggregate");
    sqlite3_reset(st);
    return rc;
}

int sb_rows_has_column(sb_store_t *store, const char *table, const char *column)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    if (st == NULL)
        return 0;
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
    int yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return yes;
}

int sb_rows_table_exists(sb_store_t *store, const char *name)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?1");
    if (st == NULL)
        return 0;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_reset(st);
    return yes;
}

/* ---- transactions -------------------------------------------------------- */

/* Inside a write batch (store.c) a transaction is a savepoint of the
 * batch's: its writes succeed or fail together, and a rollback undoes only
 * them, never the batch's other writes. */
int sb_store_begin(sb_store_t *store)
{
    if (!sqlite3_get_autocommit(store->db)) {
        int rc = sb__store_exec(store, "SAVEPOINT sb_tx");
        if (rc == 0)
            store->nested_tx++;
        return rc;
    }
    return sb__store_exec(store, "BEGIN IMMEDIATE");
}

int sb_store_commit(sb_store_t *store)
{
    if (store->nested_tx > 0) {
        store->nested_tx--;
        int rc = sb__store_exec(store, "RELEASE sb_tx");
        if (rc != 0)
            sb__store_exec(store, "ROLLBACK TO sb_tx; RELEASE sb_tx");
        return rc;
    }
    int rc = sb__store_exec(store, "COMMIT");
    if (rc != 0)
        sb__store_exec(store, "ROLLBACK");
    else
        sb__store_durable(store, 0);
    return rc;
}

void sb_store_rollback(sb_store_t *store)
{
    if (store->nested_tx > 0) {
        store->nested_tx--;
        sb__store_exec(store, "ROLLBACK TO sb_tx; RELEASE sb_tx");
        return;
    }
    if (!sqlite3_get_autocommit(store->db))
        sb__store_exec(store, "ROLLBACK");
}
