/*
 * accounts.c: the accounts table as the core needs it (authentication, the
 * first-start administrator). The REST resource goes through rows.h.
 */
#include "store_int.h"
#include "util.h"

#include <string.h>
#include <time.h>

#define ACCOUNT_COLS "sid, parent_sid, email_address, friendly_name, type, " \
                     "status, role, auth_token, password_hash, date_created, "  \
                     "date_updated"

void sb_account_clear(sb_account_t *a)
{
    free(a->email);
    free(a->friendly_name);
    free(a->type);
    free(a->status);
    free(a->role);
    free(a->auth_token);
    free(a->password_hash);
    memset(a, 0, sizeof *a);
}

static void copy_sid(char *dst, const unsigned char *src)
{
    snprintf(dst, SB_SID_SIZE, "%s", src ? (const char *)src : "");
}

int sb_store_account_get(sb_store_t *store, const char *key, sb_account_t *out)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT " ACCOUNT_COLS " FROM accounts WHERE sid=?1 OR "
               "email_address=?1 COLLATE NOCASE LIMIT 1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? SB_ENOENT : SB_ESTORE;
    }
    memset(out, 0, sizeof *out);
    copy_sid(out->sid, sqlite3_column_text(st, 0));
    copy_sid(out->parent_sid, sqlite3_column_text(st, 1));
    out->email = sb__store_col_text(st, 2);
    out->friendly_name = sb__store_col_text(st, 3);
    out->type = sb__store_col_text(st, 4);
    out->status = sb__store_col_text(st, 5);
    out->role = sb__store_col_text(st, 6);
    out->auth_token = sb__store_col_text(st, 7);
    out->password_hash = sb__store_col_text(st, 8);
    out->date_created = sqlite3_column_int64(st, 9);
    out->date_updated = sqlite3_column_int64(st, 10);
    sqlite3_reset(st);
    return 0;
}

int sb_store_account_insert(sb_store_t *store, const sb_account_t *a)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "INSERT INTO accounts (" ACCOUNT_COLS ") VALUES "
               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, a->sid, -1, SQLITE_TRANSIENT);
    if (a->parent_sid[0])
        sqlite3_bind_text(st, 2, a->parent_sid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, a->email, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, a->friendly_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, a->type ? a->type : "Full", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, a->status ? a->status : "active", -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, a->role, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, a->auth_token, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, a->password_hash, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 10, a->date_created);
    sqlite3_bind_int64(st, 11, a->date_updated);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return SB_EEXIST;
    sb_error("store: cannot insert account: %s", sqlite3_errmsg(store->db));
    return SB_ESTORE;
}

int sb_store_account_count(sb_store_t *store, int64_t *n)
{
    sqlite3_stmt *st = sb__store_prepare(store, "SELECT count(*) FROM accounts");
    if (st == NULL)
        return SB_ESTORE;
    int rc = sqlite3_step(st);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : SB_ESTORE;
}

/* 16 characters from an alphabet without look-alikes: about 90 bits. */
static char *generate_password(void)
{
    static const char alphabet[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char r[16];
    char *p = sb_xmalloc(sizeof r + 1);
    sb_random_bytes(r, sizeof r);
    for (size_t i = 0; i < sizeof r; i++)
        p[i] = alphabet[r[i] % (sizeof alphabet - 1)];
    p[sizeof r] = '\0';
    return p;
}

int sb_store_bootstrap_admin(sb_store_t *store, const char *email,
                             const char *password, char **generated)
{
    int64_t n = 0;
    *generated = NULL;
    int rc = sb_store_account_count(store, &n);
    if (rc != 0)
        return rc;
    if (n > 0)
        return 1;

    char *pw = password ? NULL : generate_password();
    sb_account_t a;
    memset(&a, 0, sizeof a);
    sb_sid_account(email, a.sid);
    a.email = (char *)email;
    a.friendly_name = (char *)"Default Administrator Account";
    a.type = (char *)"Full";
    a.status = (char *)"active";
    a.role = (char *)"Administrator";
    a.auth_token = sb_token_new();
    a.password_hash = sb_password_hash(password ? password : pw, 0);
    a.date_created = a.date_updated = (int64_t)time(NULL);
    rc = sb_store_account_insert(store, &a);
    free(a.auth_token);
    free(a.password_hash);
    if (rc != 0) {
        free(pw);
        return rc;
    }
    *generated = pw;
    return 0;
}
