/* store_int.h: shared between the files of core/store only. */
#ifndef SB_STORE_INT_H
#define SB_STORE_INT_H

#include "store.h"
#include <sqlite3.h>
#include <uv.h>
#include "metrics.h"

/* Every sqlite3_step in the store is timed for GET /metrics
 * (switchboard_store_statement_duration_seconds): two monotonic clock
 * reads and a histogram increment; nothing while metrics are off. The
 * store runs on the reactor thread only. */
static inline int sb__store_step(sqlite3_stmt *st)
{
    if (!sb_metrics_on)
        return (sqlite3_step)(st);
    uint64_t t0 = uv_hrtime();
    int rc = (sqlite3_step)(st);
    sb_metrics_store_step(uv_hrtime() - t0);
    return rc;
}
#define sqlite3_step(st) sb__store_step(st)

#define SB_STMT_CACHE 256

struct sb_store_s {
    sqlite3 *db;
    char *path;
    int version;
    char instance_id[SB_SID_SIZE];
    struct {
        char *sql;                  /* owned copy, the cache key */
        sqlite3_stmt *stmt;
    } cache[SB_STMT_CACHE];
    int cached;
    int batch;                      /* sb_store_batch_begin depth */
    int nested_tx;                  /* sb_store_begin inside a batch:
                                       savepoints open */
    struct sb__store_waiter_s *waiters, **waiters_tail; /* durable.c */
    int commit_failed;              /* the last batch's COMMIT failed: its
                                       transaction is still open */
};

/* Returns a cached, reset statement for sql (borrowed until close), or NULL
 * after logging the error. */
sqlite3_stmt *sb__store_prepare(sb_store_t *store, const char *sql);
/* Runs sql (no results). Returns 0 or SB_ESTORE, logging the error. */
int sb__store_exec(sb_store_t *store, const char *sql);
/* Returns an owned copy of column i, or NULL for SQL NULL. */
char *sb__store_col_text(sqlite3_stmt *st, int i);
/* durable.c: the open transaction ended (status 0: committed, else
 * SB_ESTORE at close: rolled back); calls every sb_store_when_durable
 * callback waiting, in order, when no transaction is open any more. */
void sb__store_durable(sb_store_t *store, int status);

#endif
