/*
 * store.h: the database. SQLite in WAL mode with a busy timeout, numbered
 * migrations applied at open (schema_version table), prepared statements
 * cached per SQL text. No sqlite type or SQL string leaves this module's
 * API, except through the generic row layer (rows.h) whose callers describe
 * tables as field tables and never write SQL.
 */
#ifndef SB_STORE_H
#define SB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "sid.h"

typedef struct sb_store_s sb_store_t;

/* Opens (creating when absent) the database at path and migrates it to the
 * latest schema. Returns 0 and *out (owned; sb_store_close), or SB_ESTORE /
 * SB_EVERSION with one line in err (size errlen) naming the file and the
 * reason (unwritable path, not a database, newer schema, ...). */
int sb_store_open(const char *path, sb_store_t **out, char *err, size_t errlen);
void sb_store_close(sb_store_t *store);

/* The schema version the database is at, and the newest this build knows. */
int sb_store_schema_version(sb_store_t *store);
int sb_store_latest_version(void);

/* Key/value metadata (instance id, ...). get returns 0 and an owned string,
 * or SB_ENOENT. */
int sb_store_meta_get(sb_store_t *store, const char *key, char **out);
int sb_store_meta_set(sb_store_t *store, const char *key, const char *value);

/* Write batching. Between sb_store_batch_begin and sb_store_batch_end
 * every write on this store, from any module, goes into one transaction:
 * one commit (one WAL append, one round of file locks) instead of one per
 * statement. This connection reads its own writes at once; other
 * connections see them at the commit. Batches nest: the outermost end
 * commits. Keep a batch short (a loop turn): it holds the write lock.
 * begin returns 0, or SB_ESTORE when no batch could start (then do not
 * call end: writes commit one by one as usual). end returns 0 or
 * SB_ESTORE (the commit failed, logged; the transaction stays open with
 * its writes and the next batch's end, or sb_store_close, commits it). */
int sb_store_batch_begin(sb_store_t *store);
int sb_store_batch_end(sb_store_t *store);

/* Durability of what was written so far (durable.c; issue 23: a REST
 * write is answered only once it is committed). Returns 1 when every
 * write made so far is committed (no transaction is open): cb is not
 * called. Returns 0 when writes wait in an open transaction (a batch):
 * cb(0, arg) fires once after the commit that makes them durable, from
 * inside sb_store_batch_end or sb_store_commit, so the writes of one
 * batch are answered together on its single commit; or cb(SB_ESTORE,
 * arg) from sb_store_close when they could not be committed. */
typedef void (*sb_store_durable_cb)(int status, void *arg);
int sb_store_when_durable(sb_store_t *store, sb_store_durable_cb cb, void *arg);

/* The instance id ("ID" + 32 hex), made and saved on first use. Returns
 * borrowed text valid until sb_store_close. */
const char *sb_store_instance_id(sb_store_t *store);

/* ---- accounts ------------------------------------------------------------ */

typedef struct sb_account_s {
    char sid[SB_SID_SIZE];
    char parent_sid[SB_SID_SIZE];   /* "" for a top-level account */
    char *email;
    char *friendly_name;
    char *type;                     /* "Full" or "Trial" */
    char *status;                   /* active, suspended, closed, inactive, uninitialized */
    char *role;
    char *auth_token;               /* random, 32 hex */
    char *password_hash;            /* sb_password_hash() form */
    int64_t date_created;           /* seconds since the epoch */
    int64_t date_updated;
} sb_account_t;

/* Frees the strings of a (not a itself). */
void sb_account_clear(sb_account_t *a);

/* Loads the account whose SID or e-mail (case-insensitive) is key. Returns
 * 0 and fills *out (strings owned by *out), SB_ENOENT, or SB_ESTORE. */
int sb_store_account_get(sb_store_t *store, const char *key, sb_account_t *out);
/* Inserts a (borrowed). Returns 0, SB_EEXIST (sid or e-mail taken), or
 * SB_ESTORE. */
int sb_store_account_insert(sb_store_t *store, const sb_account_t *a);
int sb_store_account_count(sb_store_t *store, int64_t *n);

/* First start: when there is no account at all, creates the administrator
 * (status active, role Administrator) with email and password. When
 * password is NULL one is generated and returned owned in *generated (the
 * caller prints it once); otherwise *generated is NULL. Returns 0 when the
 * admin was created, 1 when accounts already existed, or a negative code. */
int sb_store_bootstrap_admin(sb_store_t *store, const char *email,
                             const char *password, char **generated);

/* ---- for the other files of store/ --------------------------------------- */

#endif
