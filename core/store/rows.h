/*
 * rows.h: the generic row layer of the store. A caller describes a table
 * as a column list (sb_rows_table_t) and reads or writes rows as arrays
 * of values, one per column; this file composes and caches the SQL, so no
 * SQL text leaves the store. The REST resources (core/api) are built on
 * it: a new resource is a field table, not new SQL.
 *
 * Conventions: column 0 of every table is its key (a unique TEXT SID).
 * Every table has SQLite's implicit rowid, which gives "insertion order"
 * (order_col -1) and the tie-break of every other order. Values are
 * TEXT or INTEGER; NULL is a flag on the value.
 */
#ifndef SB_STORE_ROWS_H
#define SB_STORE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef enum { SB_ROWS_TEXT = 0, SB_ROWS_INT } sb_rows_type_t;

typedef struct sb_rows_col_s {
    const char *name;           /* SQL identifier: [a-z_][a-z0-9_]* */
    sb_rows_type_t type;
} sb_rows_col_t;

/* A table description. Borrowed by every call: it usually lives in static
 * storage. Identifiers are checked by sb_rows_table_check. */
typedef struct sb_rows_table_s {
    const char *name;
    const sb_rows_col_t *cols;
    int ncols;
} sb_rows_table_t;

/* One value. For writes, set marks the columns written (insert: the
 * others take their SQL default; update: the others are left alone) and
 * s is borrowed for the call. For reads, set is 1 for every column. */
typedef struct sb_rows_val_s {
    unsigned char set;
    unsigned char null;
    int64_t i;                  /* INT columns */
    const char *s;              /* TEXT columns; never NULL when !null */
} sb_rows_val_t;

/* A row read by sb_rows_get: ncols values whose strings are owned by the
 * row (one block); release with sb_row_free. */
typedef struct sb_row_s {
    sb_rows_val_t *v;
    int n;
    char *mem;
} sb_row_t;

void sb_row_free(sb_row_t *row);

typedef enum {
    SB_ROWS_EQ = 0,
    SB_ROWS_NE,
    SB_ROWS_LT,
    SB_ROWS_LE,
    SB_ROWS_GT,
    SB_ROWS_GE,
    SB_ROWS_EQ_NOCASE,          /* TEXT, ASCII case-insensitive */
    SB_ROWS_LIKE,               /* TEXT pattern: '%' any run, '_' one
                                   character, '\' escapes the next one
                                   (see sb_rows_like_escape) */
    SB_ROWS_IS_NULL,
    SB_ROWS_NOT_NULL,
    SB_ROWS_IN_ACCOUNT_TREE     /* TEXT: an account SID of the tree under
                                   s (s itself and its descendants) */
} sb_rows_op_t;

/* A condition on column col; conditions are joined with AND. s is used
 * for TEXT columns and i for INT ones (both borrowed). */
typedef struct sb_rows_cond_s {
    int col;
    sb_rows_op_t op;
    const char *s;
    int64_t i;
} sb_rows_cond_t;

typedef struct sb_rows_query_s {
    const sb_rows_cond_t *conds;
    int nconds;
    int order_col;              /* -1: insertion order; columns used for
                                   ordering should be NOT NULL, or
                                   flagged order_nullable */
    int desc;
    int order_nullable;         /* order_col may hold NULL (sorted first
                                   ascending, last descending): keyset
                                   paging then keeps the NULL rows */
    const char *after;          /* key of the last row already seen: the
                                   rows that follow it in this order
                                   (keyset paging, O(limit)); ignored
                                   when no such row exists */
    int64_t offset;             /* used when after is NULL or unknown */
    int64_t limit;              /* < 0: no limit */
} sb_rows_query_t;

/* Called once per row with ncols values borrowed until it returns. A
 * non-zero return stops the listing (sb_rows_list then returns it). */
typedef int (*sb_rows_each_cb)(const sb_rows_val_t *vals, void *arg);

/* Returns 0 when every identifier of t is well-formed and column 0 is
 * TEXT, else SB_EINVAL. The other functions assume a checked table. */
int sb_rows_table_check(const sb_rows_table_t *t);

/* Returns the index of the column named name, or -1. */
int sb_rows_col(const sb_rows_table_t *t, const char *name);

/* Reads the first row (insertion order) matching conds into *out.
 * Returns 0, SB_ENOENT, or SB_ESTORE. */
int sb_rows_get(sb_store_t *store, const sb_rows_table_t *t,
                const sb_rows_cond_t *conds, int nconds, sb_row_t *out);

/* Lists rows (see sb_rows_query_t), calling each for every row. Returns
 * 0, the callback's non-zero value, or SB_ESTORE. */
int sb_rows_list(sb_store_t *store, const sb_rows_table_t *t,
                 const sb_rows_query_t *q, sb_rows_each_cb each, void *arg);

/* Counts the rows matching conds. Counts are cached per statement and
 * values until the database changes (this connection's writes or another
 * process's commit), so paging through a large table does not recount.
 * Returns 0 or SB_ESTORE. */
int sb_rows_count(sb_store_t *store, const sb_rows_table_t *t,
                  const sb_rows_cond_t *conds, int nconds, int64_t *out);

/* Inserts one row from the values marked set (ncols values). Returns 0,
 * SB_EEXIST (a UNIQUE or PRIMARY KEY constraint), SB_EINVAL (another
 * constraint: NOT NULL, CHECK, FOREIGN KEY), or SB_ESTORE. */
int sb_rows_insert(sb_store_t *store, const sb_rows_table_t *t,
                   const sb_rows_val_t *vals);

/* Updates the columns marked set in the rows matching conds. *changed
 * (may be NULL) gets the number of rows changed. Returns 0, SB_EEXIST,
 * SB_EINVAL or SB_ESTORE as insert does. */
int sb_rows_update(sb_store_t *store, const sb_rows_table_t *t,
                   const sb_rows_cond_t *conds, int nconds,
                   const sb_rows_val_t *vals, int64_t *changed);

/* Deletes the rows matching conds (at least one condition is required:
 * SB_EINVAL otherwise). Returns 0 or SB_ESTORE. */
int sb_rows_delete(sb_store_t *store, const sb_rows_table_t *t,
                   const sb_rows_cond_t *conds, int nconds,
                   int64_t *deleted);

/* One group of an aggregate (borrowed for the callback). */
typedef struct sb_rows_group_s {
    const char *key;            /* "2024-01-05", "2024-01", "2024", or "" */
    int64_t count;              /* rows */
    int64_t sum;                /* total of the INT column sum_col */
    double fsum;                /* total of fsum_col read as a number
                                   (TEXT prices such as "-0.0075") */
} sb_rows_group_t;

typedef int (*sb_rows_group_cb)(const sb_rows_group_t *g, void *arg);

/* Aggregates rows matching conds, grouped by period of the INT column
 * time_col (seconds since the epoch, UTC): "day", "month", "year", or
 * NULL for one group (none when no row matches). Groups come in
 * ascending key order; sum_col and fsum_col may be -1 (0 then). each must
 * not use the store. Returns 0, SB_EINVAL for an unknown period, the
 * callback's non-zero value, or SB_ESTORE. */
int sb_rows_aggregate(sb_store_t *store, const sb_rows_table_t *t,
                      const sb_rows_cond_t *conds, int nconds, int time_col,
                      const char *period, int sum_col, int fsum_col,
                      sb_rows_group_cb each, void *arg);

/* Returns 1 when table has a column named column, 0 when not (or when
 * the table does not exist). */
int sb_rows_has_column(sb_store_t *store, const char *table, const char *column);

/* Returns 1 when a table named name exists, 0 when not. */
int sb_rows_table_exists(sb_store_t *store, const char *name);

/* Appends s to a LIKE pattern being built in out (an sb_buf_t) with
 * '%', '_' and '\' escaped, so that it matches literally. */
struct sb_buf_s;
void sb_rows_like_escape(struct sb_buf_s *out, const char *s);

/* Transactions: several writes that succeed or fail together. Inside a
 * write batch (sb_store_batch_begin) they are savepoints of the batch, so
 * a rollback never undoes the batch's other writes. begin returns 0 or
 * SB_ESTORE (also when one is already open outside a batch). */
int sb_store_begin(sb_store_t *store);
int sb_store_commit(sb_store_t *store);
void sb_store_rollback(sb_store_t *store);

#endif
