/*
 * registrations.c: the registrar's bindings (migration 4). The registrar
 * computes a login's whole new binding set and hands it here to replace
 * the old one in a single transaction, so a crash never leaves half a
 * REGISTER applied. Expiry is a range delete on the expires_at index.
 */
#include "sip_store.h"
#include "store_int.h"
#include "util.h"

#include <string.h>

#define REG_COLS "login, client_sid, contact, instance, reg_id, expires_at, " \
                 "source_ip, source_port, transport, user_agent, call_id, "   \
                 "cseq, date_created, date_updated"

void sb_registration_clear(sb_registration_t *r)
{
    free(r->login);
    free(r->contact);
    free(r->instance);
    free(r->source_ip);
    free(r->transport);
    free(r->user_agent);
    free(r->call_id);
    memset(r, 0, sizeof *r);
}

void sb_registrations_free(sb_registration_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_registration_clear(&r[i]);
    free(r);
}

static void read_row(sqlite3_stmt *st, sb_registration_t *r)
{
    memset(r, 0, sizeof *r);
    r->login = sb__store_col_text(st, 0);
    const unsigned char *t = sqlite3_column_text(st, 1);
    snprintf(r->client_sid, sizeof r->client_sid, "%s", t ? (const char *)t : "");
    r->contact = sb__store_col_text(st, 2);
    r->instance = sb__store_col_text(st, 3);
    r->reg_id = sqlite3_column_int(st, 4);
    r->expires_at = sqlite3_column_int64(st, 5);
    r->source_ip = sb__store_col_text(st, 6);
    r->source_port = sqlite3_column_int(st, 7);
    r->transport = sb__store_col_text(st, 8);
    r->user_agent = sb__store_col_text(st, 9);
    r->call_id = sb__store_col_text(st, 10);
    r->cseq = (uint32_t)sqlite3_column_int64(st, 11);
    r->date_created = sqlite3_column_int64(st, 12);
    r->date_updated = sqlite3_column_int64(st, 13);
}

int sb_store_registrations_get(sb_store_t *store, const char *login, int64_t now,
                               sb_registration_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT " REG_COLS " FROM registrations WHERE login = ?1 AND "
               "expires_at > ?2 ORDER BY date_updated DESC, id DESC");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    size_t cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = sb_xrealloc(*out, cap * sizeof **out);
        }
        read_row(st, &(*out)[(*n)++]);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot read registrations: %s", sqlite3_errmsg(store->db));
        sb_registrations_free(*out, *n);
        *out = NULL;
        *n = 0;
        return SB_ESTORE;
    }
    return 0;
}

static int step_done(sb_store_t *store, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot %s: %s", what, sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    return 0;
}

static void bind_opt_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int sb_store_registrations_replace(sb_store_t *store, const char *login,
                                   const sb_registration_t *set, size_t n)
{
    sqlite3_stmt *st;
    if (sb__store_exec(store, "SAVEPOINT registrations_replace") != 0)
        return SB_ESTORE;
    st = sb__store_prepare(store, "DELETE FROM registrations WHERE login = ?1");
    if (st == NULL)
        goto fail;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    if (step_done(store, st, "delete registrations") != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        const sb_registration_t *r = &set[i];
        st = sb__store_prepare(store, "INSERT INTO registrations (" REG_COLS ") "
                                      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                                      "?10, ?11, ?12, ?13, ?14)");
        if (st == NULL)
            goto fail;
        sqlite3_bind_text(st, 1, r->login ? r->login : login, -1, SQLITE_TRANSIENT);
        bind_opt_text(st, 2, r->client_sid);
        sqlite3_bind_text(st, 3, r->contact, -1, SQLITE_TRANSIENT);
        bind_opt_text(st, 4, r->instance);
        sqlite3_bind_int(st, 5, r->reg_id);
        sqlite3_bind_int64(st, 6, r->expires_at);
        sqlite3_bind_text(st, 7, r->source_ip ? r->source_ip : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 8, r->source_port);
        sqlite3_bind_text(st, 9, r->transport ? r->transport : "udp", -1,
                          SQLITE_TRANSIENT);
        bind_opt_text(st, 10, r->user_agent);
        sqlite3_bind_text(st, 11, r->call_id ? r->call_id : "", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 12, r->cseq);
        sqlite3_bind_int64(st, 13, r->date_created);
        sqlite3_bind_int64(st, 14, r->date_updated);
        if (step_done(store, st, "save a registration") != 0)
            goto fail;
    }
    if (sb__store_exec(store, "RELEASE registrations_replace") != 0)
        goto fail;
    return 0;

fail:
    sqlite3_exec(store->db, "ROLLBACK TO registrations_replace; "
                            "RELEASE registrations_replace", NULL, NULL, NULL);
    return SB_ESTORE;
}

int sb_store_registrations_expire(sb_store_t *store, int64_t now,
                                  sb_store_registration_cb cb, void *arg)
{
    if (cb) {
        sqlite3_stmt *st = sb__store_prepare(
            store, "SELECT " REG_COLS " FROM registrations WHERE expires_at <= ?1 "
                   "ORDER BY expires_at, id");
        if (st == NULL)
            return SB_ESTORE;
        sqlite3_bind_int64(st, 1, now);
        /* Collected first: the callback may use the store. */
        sb_registration_t *rows = NULL;
        size_t n = 0, cap = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 8;
                rows = sb_xrealloc(rows, cap * sizeof *rows);
            }
            read_row(st, &rows[n++]);
        }
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            for (size_t i = 0; i < n; i++)
                cb(&rows[i], arg);
        sb_registrations_free(rows, n);
        if (rc != SQLITE_DONE) {
            sb_error("store: cannot read registrations: %s", sqlite3_errmsg(store->db));
            return SB_ESTORE;
        }
    }
    sqlite3_stmt *st = sb__store_prepare(
        store, "DELETE FROM registrations WHERE expires_at <= ?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    if (step_done(store, st, "delete expired registrations") != 0)
        return SB_ESTORE;
    return sqlite3_changes(store->db);
}

int sb_store_registrations_next_expiry(sb_store_t *store, int64_t *at)
{
    sqlite3_stmt *st = sb__store_prepare(store,
                                         "SELECT min(expires_at) FROM registrations");
    if (st == NULL)
        return SB_ESTORE;
    int rc = sqlite3_step(st);
    int found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (found)
        *at = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (rc != SQLITE_ROW)
        return SB_ESTORE;
    return found ? 0 : SB_ENOENT;
}

int sb_store_registrations_count(sb_store_t *store, int64_t now, int64_t *users,
                                 int64_t *contacts)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT count(DISTINCT login), count(*) FROM registrations "
               "WHERE expires_at > ?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (users)
            *users = sqlite3_column_int64(st, 0);
        if (contacts)
            *contacts = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : SB_ESTORE;
}
