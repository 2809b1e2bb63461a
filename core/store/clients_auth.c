/*
 * clients_auth.c: a client's digest credentials and standing, for the SIP
 * registrar. Reads the clients table (owned by the REST resource, migration
 * 2) joined with its account; never writes it.
 */
#include "sip_store.h"
#include "store_int.h"
#include "util.h"

#include <string.h>

void sb_client_auth_clear(sb_client_auth_t *c)
{
    free(c->login);
    /* HA1s are password equivalents: wipe them before freeing. */
    if (c->ha1_md5)
        memset(c->ha1_md5, 0, strlen(c->ha1_md5));
    if (c->ha1_sha256)
        memset(c->ha1_sha256, 0, strlen(c->ha1_sha256));
    free(c->ha1_md5);
    free(c->ha1_sha256);
    memset(c, 0, sizeof *c);
}

int sb_store_client_auth_get(sb_store_t *store, const char *login,
                             sb_client_auth_t *out)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT c.sid, c.account_sid, c.login, c.status, c.ha1_md5, "
               "c.ha1_sha256, a.status FROM clients c LEFT JOIN accounts a "
               "ON a.sid = c.account_sid WHERE c.login = ?1 LIMIT 1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? SB_ENOENT : SB_ESTORE;
    }
    memset(out, 0, sizeof *out);
    const unsigned char *t = sqlite3_column_text(st, 0);
    snprintf(out->sid, sizeof out->sid, "%s", t ? (const char *)t : "");
    t = sqlite3_column_text(st, 1);
    snprintf(out->account_sid, sizeof out->account_sid, "%s", t ? (const char *)t : "");
    out->login = sb__store_col_text(st, 2);
    out->enabled = sqlite3_column_int(st, 3) == 1;
    out->ha1_md5 = sb__store_col_text(st, 4);
    out->ha1_sha256 = sb__store_col_text(st, 5);
    t = sqlite3_column_text(st, 6);
    out->account_active = t != NULL && strcmp((const char *)t, "active") == 0;
    sqlite3_reset(st);
    return 0;
}
