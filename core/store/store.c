/*
 * store.c: opening the database, WAL and busy timeout, the migration
 * runner, the prepared-statement cache, write batches (one transaction
 * for many writes) and the meta table.
 *
 * Migrations are numbered from 1 and live in migrations.c; each runs in its
 * own transaction with the schema_version bump, so a crash mid-way leaves
 * the previous version intact. A database whose version is newer than this
 * build knows is refused rather than touched.
 *
 * The database holds tokens and password hashes: it is created 0600
 * (SQLite gives its -wal and -shm files the mode of the database), and an
 * existing one readable by others is made 0600 at open, with its -wal and
 * -shm, whatever the umask.
 */
#include "store_int.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const char *const sb__store_migrations[];
extern const int sb__store_migration_count;

int sb_store_latest_version(void) { return sb__store_migration_count; }
int sb_store_schema_version(sb_store_t *store) { return store->version; }

char *sb__store_col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? sb_xstrdup((const char *)t) : NULL;
}

int sb__store_exec(sb_store_t *store, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(store->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        sb_error("store: %s: %s", store->path, msg ? msg : "error");
        sqlite3_free(msg);
        return SB_ESTORE;
    }
    return 0;
}

sqlite3_stmt *sb__store_prepare(sb_store_t *store, const char *sql)
{
    for (int i = 0; i < store->cached; i++) {
        if (strcmp(store->cache[i].sql, sql) == 0) {
            sqlite3_stmt *st = store->cache[i].stmt;
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return st;
        }
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
                           NULL) != SQLITE_OK) {
        sb_error("store: cannot prepare statement: %s", sqlite3_errmsg(store->db));
        return NULL;
    }
    if (store->cached == SB_STMT_CACHE) {
        /* Full: drop the oldest entry. Dynamic SQL (filters) is bounded by
         * the number of filter combinations, so this is rare. */
        sqlite3_finalize(store->cache[0].stmt);
        free(store->cache[0].sql);
        memmove(&store->cache[0], &store->cache[1],
                sizeof store->cache[0] * (SB_STMT_CACHE - 1));
        store->cached--;
    }
    store->cache[store->cached].sql = sb_xstrdup(sql);
    store->cache[store->cached].stmt = st;
    store->cached++;
    return st;
}

static int read_version(sb_store_t *store, int *version)
{
    sqlite3_stmt *st;
    *version = 0;
    if (sqlite3_prepare_v2(store->db,
                           "SELECT count(*) FROM sqlite_master WHERE type='table' "
                           "AND name='schema_version'", -1, &st, NULL) != SQLITE_OK)
        return SB_ESTORE;
    int has = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    if (!has)
        return 0;
    if (sqlite3_prepare_v2(store->db, "SELECT max(version) FROM schema_version", -1,
                           &st, NULL) != SQLITE_OK)
        return SB_ESTORE;
    if (sqlite3_step(st) == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return 0;
}

static int migrate(sb_store_t *store, char *err, size_t errlen)
{
    for (int v = store->version + 1; v <= sb__store_migration_count; v++) {
        char *msg = NULL;
        char *sql = sb_xasprintf("BEGIN IMMEDIATE;\n%s;\n"
                                 "INSERT INTO schema_version(version, applied) "
                                 "VALUES (%d, strftime('%%s','now'));\nCOMMIT;",
                                 sb__store_migrations[v - 1], v);
        int rc = sqlite3_exec(store->db, sql, NULL, NULL, &msg);
        free(sql);
        if (rc != SQLITE_OK) {
            snprintf(err, errlen, "%s: migration %d failed: %s", store->path, v,
                     msg ? msg : sqlite3_errmsg(store->db));
            sqlite3_free(msg);
            sqlite3_exec(store->db, "ROLLBACK", NULL, NULL, NULL);
            return SB_ESTORE;
        }
        store->version = v;
        sb_info("store: %s migrated to schema version %d", store->path, v);
    }
    return 0;
}

/* Takes group and other permissions away from path (when it exists and
 * has any). */
static void make_private(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || (sb.st_mode & 077) == 0)
        return;
    if (chmod(path, sb.st_mode & 0700) == 0)
        sb_info("store: %s was readable by others: now mode %04o", path,
                (unsigned)(sb.st_mode & 0700));
    else
        sb_warn("store: %s is readable by others and cannot be changed: %s",
                path, strerror(errno));
}

/* Creates the database file 0600 when it does not exist (SQLite would
 * create it 0644 less the umask), and makes an existing one and its
 * -wal and -shm private. Special names (":memory:", "", URIs) are left
 * alone. */
static void private_files(const char *path)
{
    if (path[0] == '\0' || path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);                  /* an empty file is an empty database */
        return;
    }
    make_private(path);
    static const char *const suffixes[] = {"-wal", "-shm", "-journal"};
    for (size_t i = 0; i < SB_COUNTOF(suffixes); i++) {
        char *p = sb_xasprintf("%s%s", path, suffixes[i]);
        make_private(p);
        free(p);
    }
}

int sb_store_open(const char *path, sb_store_t **out, char *err, size_t errlen)
{
    sb_store_t *store = SB_NEW(sb_store_t);
    int rc;
    store->path = sb_xstrdup(path);
    private_files(path);

    if (sqlite3_open_v2(path, &store->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: cannot open database: %s", path,
                 store->db ? sqlite3_errmsg(store->db) : "out of memory");
        rc = SB_ESTORE;
        goto fail;
    }
    sqlite3_extended_result_codes(store->db, 1);
    sqlite3_busy_timeout(store->db, 5000);
    /* journal_mode answers with a row; WAL is refused by a read-only file. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(store->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) !=
            SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        snprintf(err, errlen, "%s: cannot open database: %s", path,
                 sqlite3_errmsg(store->db));
        sqlite3_finalize(st);
        rc = SB_ESTORE;
        goto fail;
    }
    const char *mode = (const char *)sqlite3_column_text(st, 0);
    int wal = mode && strcmp(mode, "wal") == 0;
    sqlite3_finalize(st);
    if (!wal) {
        snprintf(err, errlen, "%s: cannot switch the database to WAL mode "
                 "(is the file or its folder read-only?)", path);
        rc = SB_ESTORE;
        goto fail;
    }
    if (sqlite3_exec(store->db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK ||
        read_version(store, &store->version) != 0) {
        snprintf(err, errlen, "%s: not a usable database: %s", path,
                 sqlite3_errmsg(store->db));
        rc = SB_ESTORE;
        goto fail;
    }
    if (store->version > sb__store_migration_count) {
        snprintf(err, errlen, "%s: database schema version %d is newer than this "
                 "switchboard supports (%d); use a newer switchboard or another "
                 "database", path, store->version, sb__store_migration_count);
        rc = SB_EVERSION;
        goto fail;
    }
    rc = migrate(store, err, errlen);
    if (rc != 0)
        goto fail;
    *out = store;
    return 0;

fail:
    sb_store_close(store);
    return rc;
}

int sb_store_batch_begin(sb_store_t *store)
{
    /* A transaction still open here is a batch whose commit failed: it
     * goes on, and this batch's end commits it. */
    if (store->batch == 0 && sqlite3_get_autocommit(store->db) &&
        sb__store_exec(store, "BEGIN") != 0)
        return SB_ESTORE;
    store->batch++;
    return 0;
}

int sb_store_batch_end(sb_store_t *store)
{
    if (store->batch <= 0)
        return 0;
    if (--store->batch > 0)
        return 0;
    if (sqlite3_get_autocommit(store->db))
        return 0;               /* already ended (an error rolled it back) */
    /* On failure (logged) the transaction stays open, its writes kept: the
     * next batch, or the close, commits them. */
    int rc = sb__store_exec(store, "COMMIT");
    store->commit_failed = rc != 0;
    if (rc == 0)
        sb__store_durable(store, 0);    /* durable.c */
    return rc;
}

void sb_store_close(sb_store_t *store)
{
    if (store == NULL)
        return;
    if (store->db && !sqlite3_get_autocommit(store->db)) {
        store->batch = 1;
        if (sb_store_batch_end(store) != 0)
            sb__store_exec(store, "ROLLBACK");
    }
    sb__store_durable(store, SB_ESTORE);  /* what is left was not committed */
    for (int i = 0; i < store->cached; i++) {
        sqlite3_finalize(store->cache[i].stmt);
        free(store->cache[i].sql);
    }
    if (store->db)
        sqlite3_close(store->db);
    free(store->path);
    free(store);
}

int sb_store_meta_get(sb_store_t *store, const char *key, char **out)
{
    sqlite3_stmt *st = sb__store_prepare(store, "SELECT value FROM meta WHERE key=?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sb__store_col_text(st, 0);
        sqlite3_reset(st);
        return 0;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SB_ENOENT : SB_ESTORE;
}

int sb_store_meta_set(sb_store_t *store, const char *key, const char *value)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "INSERT INTO meta(key, value) VALUES (?1, ?2) "
               "ON CONFLICT(key) DO UPDATE SET value=excluded.value");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot save %s: %s", key, sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    return 0;
}

const char *sb_store_instance_id(sb_store_t *store)
{
    if (store->instance_id[0])
        return store->instance_id;
    char *v = NULL;
    if (sb_store_meta_get(store, "instance_id", &v) == 0 && sb_sid_valid(v, "ID")) {
        snprintf(store->instance_id, sizeof store->instance_id, "%s", v);
    } else {
        sb_sid_new("ID", store->instance_id);
        sb_store_meta_set(store, "instance_id", store->instance_id);
    }
    free(v);
    return store->instance_id;
}
