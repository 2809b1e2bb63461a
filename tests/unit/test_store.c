/* test_store.c: opening, migrations, version refusal, the first-start
 * administrator and the metadata table, on real SQLite files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "rows.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/sb-store-XXXXXX";

static const char *db_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

static void test_store_new_database_is_migrated_to_latest(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "";
    assert_int_equal(sb_store_open(db_path("new.db"), &st, err, sizeof err), 0);
    assert_true(sb_store_latest_version() >= 1);
    assert_int_equal(sb_store_schema_version(st), sb_store_latest_version());
    sb_store_close(st);
    /* Reopening applies nothing and keeps the version. */
    assert_int_equal(sb_store_open(db_path("new.db"), &st, err, sizeof err), 0);
    assert_int_equal(sb_store_schema_version(st), sb_store_latest_version());
    sb_store_close(st);
}

static void test_store_uses_wal_mode(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "";
    assert_int_equal(sb_store_open(db_path("wal.db"), &st, err, sizeof err), 0);
    sb_store_close(st);
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(db_path("wal.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_store_newer_database_is_refused(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "";
    assert_int_equal(sb_store_open(db_path("newer.db"), &st, err, sizeof err), 0);
    sb_store_close(st);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(db_path("newer.db"), &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO schema_version VALUES (999, 0)",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    st = NULL;
    assert_int_equal(sb_store_open(db_path("newer.db"), &st, err, sizeof err), SB_EVERSION);
    assert_null(st);
    assert_non_null(strstr(err, "999"));
    assert_non_null(strstr(err, "newer"));
}

static unsigned mode_of(const char *path)
{
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    return (unsigned)(sb.st_mode & 0777);
}

/* Issue 23: the database and its WAL were created 0644, so every local
 * user could read tokens and hashes. Created 0600 whatever the umask; an
 * existing database readable by others is made private at open. */
static void test_store_files_are_private(void **state)
{
    mode_t old = umask(022);
    sb_store_t *st = NULL;
    char err[512] = "";
    char wal[300], shm[300];
    assert_int_equal(sb_store_open(db_path("private.db"), &st, err, sizeof err), 0);
    char *generated = NULL;
    assert_int_equal(sb_store_bootstrap_admin(st, "a@example.com",
                                              "Private-Db-Pw-1", &generated), 0);
    snprintf(wal, sizeof wal, "%s-wal", db_path("private.db"));
    snprintf(shm, sizeof shm, "%s-shm", db_path("private.db"));
    assert_int_equal(mode_of(db_path("private.db")), 0600);
    assert_int_equal(mode_of(wal), 0600);
    assert_int_equal(mode_of(shm), 0600);
    sb_store_close(st);

    /* A database an older version left 0644 (its WAL too). */
    assert_int_equal(chmod(db_path("private.db"), 0644), 0);
    int fd = open(wal, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(chmod(wal, 0644), 0);
    st = NULL;
    assert_int_equal(sb_store_open(db_path("private.db"), &st, err, sizeof err), 0);
    assert_int_equal(mode_of(db_path("private.db")), 0600);
    assert_int_equal(mode_of(wal), 0600);
    sb_store_close(st);
    umask(old);
}

static void test_store_unwritable_path_is_refused(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "";
    assert_int_equal(sb_store_open("/nonexistent-dir/sub/x.db", &st, err, sizeof err),
                     SB_ESTORE);
    assert_non_null(strstr(err, "/nonexistent-dir/sub/x.db"));
    assert_int_equal(sb_store_open("/proc/sb-test.db", &st, err, sizeof err), SB_ESTORE);
    assert_non_null(strstr(err, "/proc/sb-test.db"));
}

static void test_store_not_a_database_is_refused(void **state)
{
    FILE *f = fopen(db_path("junk.db"), "w");
    fputs("this is not an sqlite database, just text that is long enough to "
          "fill a header page........................................", f);
    fclose(f);
    sb_store_t *st = NULL;
    char err[512] = "";
    assert_int_equal(sb_store_open(db_path("junk.db"), &st, err, sizeof err), SB_ESTORE);
    assert_non_null(strstr(err, "junk.db"));
}

static void test_store_bootstrap_admin_once(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "";
    char *generated = NULL;
    assert_int_equal(sb_store_open(db_path("admin.db"), &st, err, sizeof err), 0);
    assert_int_equal(sb_store_bootstrap_admin(st, "Admin@Example.com", NULL, &generated), 0);
    assert_non_null(generated);
    assert_true(strlen(generated) >= 16);

    sb_account_t a;
    assert_int_equal(sb_store_account_get(st, "admin@example.COM", &a), 0);
    assert_string_equal(a.status, "active");
    assert_string_equal(a.role, "Administrator");
    assert_true(sb_sid_valid(a.sid, "AC"));
    /* The password is stored only as a salted slow hash. */
    assert_null(strstr(a.password_hash, generated));
    assert_true(sb_password_verify(generated, a.password_hash));
    assert_false(sb_password_verify("wrong", a.password_hash));
    assert_int_equal(strlen(a.auth_token), 32);
    char sid[SB_SID_SIZE];
    snprintf(sid, sizeof sid, "%s", a.sid);
    sb_account_clear(&a);
    assert_int_equal(sb_store_account_get(st, sid, &a), 0);
    sb_account_clear(&a);

    /* A second start creates nothing and generates nothing. */
    char *again = NULL;
    assert_int_equal(sb_store_bootstrap_admin(st, "other@example.com", "Pw-12345678", &again), 1);
    assert_null(again);
    assert_int_equal(sb_store_account_get(st, "other@example.com", &a), SB_ENOENT);
    int64_t n = 0;
    assert_int_equal(sb_store_account_count(st, &n), 0);
    assert_int_equal(n, 1);
    free(generated);
    sb_store_close(st);
}

static void test_store_duplicate_email_is_eexist(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "";
    char *gen = NULL;
    assert_int_equal(sb_store_open(db_path("dup.db"), &st, err, sizeof err), 0);
    assert_int_equal(sb_store_bootstrap_admin(st, "a@example.com", "Pw-12345678", &gen), 0);
    sb_account_t a = {0};
    sb_sid_new("AC", a.sid);
    a.email = "A@example.com";
    a.auth_token = "t";
    a.password_hash = "h";
    assert_int_equal(sb_store_account_insert(st, &a), SB_EEXIST);
    sb_store_close(st);
}

static void test_store_instance_id_is_stable(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "", first[SB_SID_SIZE];
    assert_int_equal(sb_store_open(db_path("inst.db"), &st, err, sizeof err), 0);
    snprintf(first, sizeof first, "%s", sb_store_instance_id(st));
    assert_true(sb_sid_valid(first, "ID"));
    sb_store_close(st);
    assert_int_equal(sb_store_open(db_path("inst.db"), &st, err, sizeof err), 0);
    assert_string_equal(sb_store_instance_id(st), first);
    char *v = NULL;
    assert_int_equal(sb_store_meta_get(st, "missing", &v), SB_ENOENT);
    assert_int_equal(sb_store_meta_set(st, "k", "v1"), 0);
    assert_int_equal(sb_store_meta_set(st, "k", "v2"), 0);
    assert_int_equal(sb_store_meta_get(st, "k", &v), 0);
    assert_string_equal(v, "v2");
    free(v);
    sb_store_close(st);
}

/* Another connection's view of meta key k: its value, or "" when absent. */
static void meta_seen_by_other(const char *path, const char *k, char *out, size_t n)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    out[0] = '\0';
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?1",
                                        -1, &q, NULL), SQLITE_OK);
    sqlite3_bind_text(q, 1, k, -1, SQLITE_STATIC);
    if (sqlite3_step(q) == SQLITE_ROW)
        snprintf(out, n, "%s", (const char *)sqlite3_column_text(q, 0));
    sqlite3_finalize(q);
    sqlite3_close(db);
}

/* A write batch commits once at its end; a transaction inside it is a
 * savepoint, so rolling that back keeps the batch's other writes. */
static void test_store_batch_and_nested_transactions(void **state)
{
    sb_store_t *st = NULL;
    char err[512] = "", seen[64];
    const char *path = db_path("batch.db");
    assert_int_equal(sb_store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(sb_store_batch_begin(st), 0);
    assert_int_equal(sb_store_meta_set(st, "kept", "1"), 0);
    meta_seen_by_other(path, "kept", seen, sizeof seen);
    assert_string_equal(seen, "");             /* not committed yet */

    assert_int_equal(sb_store_begin(st), 0);
    assert_int_equal(sb_store_meta_set(st, "undone", "1"), 0);
    sb_store_rollback(st);
    assert_int_equal(sb_store_begin(st), 0);
    assert_int_equal(sb_store_meta_set(st, "nested", "1"), 0);
    assert_int_equal(sb_store_commit(st), 0);

    assert_int_equal(sb_store_batch_end(st), 0);
    meta_seen_by_other(path, "kept", seen, sizeof seen);
    assert_string_equal(seen, "1");
    meta_seen_by_other(path, "nested", seen, sizeof seen);
    assert_string_equal(seen, "1");
    meta_seen_by_other(path, "undone", seen, sizeof seen);
    assert_string_equal(seen, "");

    /* Outside a batch a transaction is a real one again. */
    assert_int_equal(sb_store_begin(st), 0);
    assert_int_equal(sb_store_meta_set(st, "plain", "1"), 0);
    assert_int_equal(sb_store_commit(st), 0);
    meta_seen_by_other(path, "plain", seen, sizeof seen);
    assert_string_equal(seen, "1");
    sb_store_close(st);
}

static int setup(void **state) { return mkdtemp(tmpdir) ? 0 : -1; }

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_new_database_is_migrated_to_latest),
        cmocka_unit_test(test_store_uses_wal_mode),
        cmocka_unit_test(test_store_newer_database_is_refused),
        cmocka_unit_test(test_store_files_are_private),
        cmocka_unit_test(test_store_unwritable_path_is_refused),
        cmocka_unit_test(test_store_not_a_database_is_refused),
        cmocka_unit_test(test_store_bootstrap_admin_once),
        cmocka_unit_test(test_store_duplicate_email_is_eexist),
        cmocka_unit_test(test_store_instance_id_is_stable),
        cmocka_unit_test(test_store_batch_and_nested_transactions),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
