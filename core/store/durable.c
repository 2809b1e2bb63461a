/*
 * durable.c: callbacks waiting for the commit of the open transaction
 * (sb_store_when_durable). Writes on the call path share one transaction
 * per loop turn (store.c's write batches); a REST write made while such a
 * batch is open sits in it until the batch commits, so its answer waits
 * for that commit, and every answer of the batch goes out on its one
 * commit instead of one commit (and one WAL append) each.
 */
#include "store_int.h"
#include "util.h"

/* Owner: store->waiters until called. */
typedef struct sb__store_waiter_s {
    sb_store_durable_cb cb;
    void *arg;
    struct sb__store_waiter_s *next;
} sb__store_waiter_t;

int sb_store_when_durable(sb_store_t *store, sb_store_durable_cb cb, void *arg)
{
    if (store->db == NULL || sqlite3_get_autocommit(store->db))
        return 1;
    if (store->commit_failed && store->batch == 0) {
        /* A batch whose commit failed left its transaction open (and this
         * write in it): try again now rather than wait for the next batch,
         * which may never come on an idle server. */
        if (sb__store_exec(store, "COMMIT") == 0) {
            store->commit_failed = 0;
            sb__store_durable(store, 0);
            return 1;
        }
    }
    sb__store_waiter_t *w = SB_NEW(sb__store_waiter_t);
    w->cb = cb;
    w->arg = arg;
    if (store->waiters == NULL)
        store->waiters_tail = &store->waiters;
    *store->waiters_tail = w;
    store->waiters_tail = &w->next;
    return 0;
}

void sb__store_durable(sb_store_t *store, int status)
{
    /* A callback may write again (and open a transaction): only what
     * waited before this commit is answered by it. */
    if (status == 0 && store->db && !sqlite3_get_autocommit(store->db))
        return;
    sb__store_waiter_t *w = store->waiters;
    store->waiters = NULL;
    store->waiters_tail = &store->waiters;
    while (w) {
        sb__store_waiter_t *next = w->next;
        w->cb(status, w->arg);
        free(w);
        w = next;
    }
}
