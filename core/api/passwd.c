/*
 * passwd.c: an account's password set outside any request, for the
 * `switchboard passwd` command (core/passwd.c). The rules and effects are
 * those of a REST update carrying Password (accounts.c, update_apply):
 * Restcomm's strength rule, a salted PBKDF2 hash, a new auth token, an
 * "uninitialized" account made "active". The account's linked Client
 * keeps its own password (it never shares the account's: docs/security.md).
 *
 * It runs synchronously (the hash costs about 100 ms): it is for the
 * command line, never for the event loop. A running server needs no
 * notice: REST authentication reads the account on every request and
 * keys its cache of verified passwords by the stored hash (auth.c).
 */
#include "api_int.h"
#include "account_tree.h"

#include <string.h>

int sb_api_account_set_password(sb_store_t *store, const char *realm,
                                const char *key, const char *password)
{
    (void)realm;                /* the Clients' realm: no Client changes */
    if (password == NULL || !sb__api_password_ok(password))
        return SB_EINVAL;
    sb_account_t a;
    memset(&a, 0, sizeof a);
    int rc = sb_store_account_get(store, key, &a);
    if (rc != 0)
        return rc;
    if (a.status && strcmp(a.status, "closed") == 0) {
        sb_account_clear(&a);
        return SB_EPERM;
    }

    char *hash = sb_password_hash(password, 0);
    char *token = sb_token_new();
    int64_t now = sb__api_now();
    rc = sb_store_account_set_password(store, a.sid, hash, token, now);
    free(token);
    free(hash);

    sb_account_clear(&a);
    return rc;
}
