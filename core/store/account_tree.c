/*
 * account_tree.c: ancestry, depth, sub-tree status and password rotation
 * for accounts (account_tree.h). Plain reads and field updates of the
 * Accounts resource go through the generic row layer; what needs a
 * recursive query or a multi-table transaction lives here.
 */
#include "account_tree.h"
#include "rows.h"
#include "store_int.h"
#include "util.h"

#include <string.h>

/* Accounts are at most a few levels deep (the API allows three); the
 * bound only protects against a corrupt parent cycle. */
#define MAX_DEPTH 32

static int parent_of(sb_store_t *store, const char *sid, char out[SB_SID_SIZE])
{
    sqlite3_stmt *st = sb__store_prepare(store,
                                         "SELECT parent_sid FROM accounts WHERE sid=?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? SB_ENOENT : SB_ESTORE;
    }
    const unsigned char *p = sqlite3_column_text(st, 0);
    snprintf(out, SB_SID_SIZE, "%s", p ? (const char *)p : "");
    sqlite3_reset(st);
    return 0;
}

int sb_store_account_in_tree(sb_store_t *store, const char *ancestor,
                             const char *sid)
{
    char cur[SB_SID_SIZE];
    snprintf(cur, sizeof cur, "%s", sid);
    for (int i = 0; i < MAX_DEPTH && cur[0]; i++) {
        if (strcmp(cur, ancestor) == 0)
            return 1;
        char parent[SB_SID_SIZE];
        int rc = parent_of(store, cur, parent);
        if (rc == SB_ENOENT)
            return 0;
        if (rc != 0)
            return rc;
        memcpy(cur, parent, sizeof cur);
    }
    return 0;
}

int sb_store_account_depth(sb_store_t *store, const char *sid, int *depth)
{
    char cur[SB_SID_SIZE];
    snprintf(cur, sizeof cur, "%s", sid);
    *depth = 0;
    for (int i = 0; i < MAX_DEPTH; i++) {
        char parent[SB_SID_SIZE];
        int rc = parent_of(store, cur, parent);
        if (rc != 0)
            return i == 0 ? rc : SB_ESTORE;
        if (parent[0] == '\0')
            return 0;
        (*depth)++;
        memcpy(cur, parent, sizeof cur);
    }
    return SB_ESTORE;
}

#define SUBTREE "WITH RECURSIVE sub(sid) AS (SELECT ?1 UNION " \
                "SELECT a.sid FROM accounts a JOIN sub ON a.parent_sid = sub.sid) "

static int run_tree(sb_store_t *store, const char *sql, const char *sid,
                    const char *status, int64_t now, int64_t *changed)
{
    sqlite3_stmt *st = sb__store_prepare(store, sql);
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    if (status) {
        sqlite3_bind_text(st, 2, status, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, now);
    }
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: account tree update: %s", sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    if (changed)
        *changed = sqlite3_changes64(store->db);
    return 0;
}

int sb_store_account_set_status_tree(sb_store_t *store, const char *sid,
                                     const char *status, int64_t now,
                                     int64_t *changed)
{
    /* Resources of a closed account go away; numbers first, since they
     * point at applications. */
    static const char *const owned[] = {"incoming_phone_numbers", "clients",
                                        "applications"};
    int rc = sb_store_begin(store);
    if (rc != 0)
        return rc;
    if (strcmp(status, "closed") == 0) {
        for (size_t i = 0; i < SB_COUNTOF(owned); i++) {
            if (!sb_rows_table_exists(store, owned[i]))
                continue;
            char *sql = sb_xasprintf(SUBTREE "DELETE FROM %s WHERE account_sid IN "
                                     "(SELECT sid FROM sub)", owned[i]);
            rc = run_tree(store, sql, sid, NULL, 0, NULL);
            free(sql);
            if (rc != 0)
                goto fail;
        }
    }
    rc = run_tree(store,
                  SUBTREE "UPDATE accounts SET status=?2, date_updated=?3 "
                          "WHERE sid IN (SELECT sid FROM sub) AND status <> 'closed'",
                  sid, status, now, changed);
    if (rc != 0)
        goto fail;
    return sb_store_commit(store);

fail:
    sb_store_rollback(store);
    return rc;
}

int sb_store_account_set_password(sb_store_t *store, const char *sid,
                                  const char *password_hash,
                                  const char *auth_token, int64_t now)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "UPDATE accounts SET password_hash=?2, auth_token=?3, date_updated=?4, "
               "status=CASE status WHEN 'uninitialized' THEN 'active' ELSE status END "
               "WHERE sid=?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, password_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, auth_token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot change password: %s", sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    return sqlite3_changes64(store->db) > 0 ? 0 : SB_ENOENT;
}
