/* test_store_recordings.c: recording_store.h on a real SQLite file: what
 * sb_store_recording_put writes (defaults included), the owner check and
 * file names of sb_store_recording_file, sb_store_recording_delete, the
 * file-name rule, and migration 6's date_updated trigger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "recording_store.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/sb-store-rec-XXXXXX";
static int dbs;

#define AC1 "AC0123456789abcdef0123456789abcdef"
#define AC2 "ACfedcba9876543210fedcba9876543210"
#define RE1 "RE00000000000000000000000000000001"
#define RE2 "RE00000000000000000000000000000002"
#define RE3 "RE00000000000000000000000000000003"
#define CALL "ID00000000000000000000000000000007-CA00000000000000000000000000000009"

typedef struct {
    sb_store_t *st;
    char path[256];
} fx_t;

static int fx_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    char err[512] = "";
    snprintf(fx->path, sizeof fx->path, "%s/rec%d.db", tmpdir, dbs++);
    if (sb_store_open(fx->path, &fx->st, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    fx_t *fx = *state;
    sb_store_close(fx->st);
    free(fx);
    return 0;
}

/* Runs a one-value query on the database file through another
 * connection, as an operator's tools would see it; "NULL" for SQL NULL. */
static void query(fx_t *fx, const char *sql, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    const unsigned char *t = sqlite3_column_text(q, 0);
    snprintf(out, len, "%s", t ? (const char *)t : "NULL");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void exec_other(fx_t *fx, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void test_store_recordings_put_writes_fields_and_defaults(void **state)
{
    fx_t *fx = *state;
    char v[256];
    sb_recording_t r = {.sid = RE1, .account_sid = AC1, .call_sid = CALL,
                        .duration = 3.25, .start_time = 1700000000,
                        .date_created = 1700000004};
    assert_int_equal(sb_store_recording_put(fx->st, &r), 0);
    query(fx, "SELECT account_sid || '|' || call_sid || '|' || api_version || '|' || "
              "source || '|' || status || '|' || channels || '|' || price_unit || '|' || "
              "start_time || '|' || date_created || '|' || date_updated "
              "FROM recordings WHERE sid = '" RE1 "'", v, sizeof v);
    assert_string_equal(v, AC1 "|" CALL "|2012-04-24|RecordVerb|completed|1|USD|"
                           "1700000000|1700000004|1700000004");
    query(fx, "SELECT duration FROM recordings WHERE sid = '" RE1 "'", v, sizeof v);
    assert_string_equal(v, "3.25");
    query(fx, "SELECT typeof(conference_sid) || typeof(error_code) || typeof(price) || "
              "typeof(file_name) FROM recordings WHERE sid = '" RE1 "'", v, sizeof v);
    assert_string_equal(v, "nullnullnullnull");

    sb_recording_t d = {.sid = RE2, .account_sid = AC1, .call_sid = "",
                        .conference_sid = "CF00000000000000000000000000000001",
                        .source = "DialVerb", .status = "failed", .channels = 2,
                        .error_code = 16104, .price = "-0.0025", .price_unit = "EUR",
                        .file_name = "dial-2.WAV", .duration = -1};
    assert_int_equal(sb_store_recording_put(fx->st, &d), 0);
    query(fx, "SELECT ifnull(call_sid, 'NULL') || '|' || conference_sid || '|' || source || "
              "'|' || status || '|' || channels || '|' || error_code || '|' || price || "
              "'|' || price_unit || '|' || file_name || '|' || duration || '|' || "
              "ifnull(start_time, 'NULL') FROM recordings WHERE sid = '" RE2 "'",
          v, sizeof v);
    assert_string_equal(v, "NULL|CF00000000000000000000000000000001|DialVerb|failed|2|"
                           "16104|-0.0025|EUR|dial-2.WAV|0.0|NULL");
    /* date_created 0 is now. */
    query(fx, "SELECT abs(date_created - strftime('%s','now')) < 5 FROM recordings "
              "WHERE sid = '" RE2 "'", v, sizeof v);
    assert_string_equal(v, "1");
}

static void test_store_recordings_put_bad_input_is_einval(void **state)
{
    fx_t *fx = *state;
    sb_recording_t r = {.sid = RE1, .account_sid = AC1};
    assert_int_equal(sb_store_recording_put(fx->st, NULL), SB_EINVAL);
    r.sid = "RE1";
    assert_int_equal(sb_store_recording_put(fx->st, &r), SB_EINVAL);
    r.sid = "CA00000000000000000000000000000001";
    assert_int_equal(sb_store_recording_put(fx->st, &r), SB_EINVAL);
    r.sid = NULL;
    assert_int_equal(sb_store_recording_put(fx->st, &r), SB_EINVAL);
    r.sid = RE1;
    r.account_sid = "not-an-account";
    assert_int_equal(sb_store_recording_put(fx->st, &r), SB_EINVAL);
    r.account_sid = AC1;
    r.channels = 3;
    assert_int_equal(sb_store_recording_put(fx->st, &r), SB_EINVAL);
    r.channels = 0;
    const char *names[] = {"../x.wav", "a/b.wav", ".hidden.wav", "x.mp3", "x", "",
                           "spa ce.wav", "x.wav\n"};
    for (size_t i = 0; i < SB_COUNTOF(names); i++) {
        r.file_name = names[i];
        assert_int_equal(sb_store_recording_put(fx->st, &r), SB_EINVAL);
    }
    char v[64];
    query(fx, "SELECT count(*) FROM recordings", v, sizeof v);
    assert_string_equal(v, "0");
}

static void test_store_recordings_put_twice_is_eexist(void **state)
{
    fx_t *fx = *state;
    sb_recording_t r = {.sid = RE1, .account_sid = AC1, .duration = 1};
    assert_int_equal(sb_store_recording_put(fx->st, &r), 0);
    r.account_sid = AC2;
    assert_int_equal(sb_store_recording_put(fx->st, &r), SB_EEXIST);
    char v[64];
    query(fx, "SELECT account_sid FROM recordings WHERE sid = '" RE1 "'", v, sizeof v);
    assert_string_equal(v, AC1);
}

static void test_store_recordings_file_checks_the_owner(void **state)
{
    fx_t *fx = *state;
    char file[SB_RECORDING_FILE_MAX + 1], owner[SB_SID_SIZE];
    sb_recording_t a = {.sid = RE1, .account_sid = AC1};
    sb_recording_t b = {.sid = RE2, .account_sid = AC2, .file_name = "named.wav"};
    assert_int_equal(sb_store_recording_put(fx->st, &a), 0);
    assert_int_equal(sb_store_recording_put(fx->st, &b), 0);

    assert_int_equal(sb_store_recording_file(fx->st, AC1, RE1, file, sizeof file, owner), 0);
    assert_string_equal(file, RE1 ".wav");
    assert_string_equal(owner, AC1);
    assert_int_equal(sb_store_recording_file(fx->st, AC2, RE2, file, sizeof file, NULL), 0);
    assert_string_equal(file, "named.wav");
    /* Another account's recording is as unknown as an absent one. */
    strcpy(file, "untouched");
    assert_int_equal(sb_store_recording_file(fx->st, AC1, RE2, file, sizeof file, NULL),
                     SB_ENOENT);
    assert_string_equal(file, "untouched");
    assert_int_equal(sb_store_recording_file(fx->st, AC2, RE1, file, sizeof file, NULL),
                     SB_ENOENT);
    assert_int_equal(sb_store_recording_file(fx->st, AC1, RE3, file, sizeof file, NULL),
                     SB_ENOENT);
    /* Any owner: the owner is reported. */
    assert_int_equal(sb_store_recording_file(fx->st, NULL, RE2, file, sizeof file, owner), 0);
    assert_string_equal(owner, AC2);
    assert_int_equal(sb_store_recording_file(fx->st, AC1, "RE1", file, sizeof file, NULL),
                     SB_EINVAL);
    assert_int_equal(sb_store_recording_file(fx->st, AC1, NULL, file, sizeof file, NULL),
                     SB_EINVAL);
    /* A buffer too small for the name is refused, never cut. */
    char small[8];
    assert_int_equal(sb_store_recording_file(fx->st, AC1, RE1, small, sizeof small, NULL),
                     SB_EINVAL);
}

static void test_store_recordings_file_refuses_a_hand_written_path(void **state)
{
    fx_t *fx = *state;
    char file[SB_RECORDING_FILE_MAX + 1] = "";
    exec_other(fx, "INSERT INTO recordings (sid, account_sid, file_name, date_created) "
                   "VALUES ('" RE3 "', '" AC1 "', '../../etc/passwd.wav', 1)");
    assert_int_equal(sb_store_recording_file(fx->st, AC1, RE3, file, sizeof file, NULL),
                     SB_EINVAL);
    assert_string_equal(file, "");
    /* It can still be deleted; there is no file of ours to remove. */
    strcpy(file, "x");
    assert_int_equal(sb_store_recording_delete(fx->st, AC1, RE3, file, sizeof file), 0);
    assert_string_equal(file, "");
}

static void test_store_recordings_delete_only_the_owners(void **state)
{
    fx_t *fx = *state;
    char file[SB_RECORDING_FILE_MAX + 1] = "", v[64];
    sb_recording_t a = {.sid = RE1, .account_sid = AC1, .file_name = "one.wav"};
    sb_recording_t b = {.sid = RE2, .account_sid = AC2};
    assert_int_equal(sb_store_recording_put(fx->st, &a), 0);
    assert_int_equal(sb_store_recording_put(fx->st, &b), 0);

    assert_int_equal(sb_store_recording_delete(fx->st, AC2, RE1, file, sizeof file),
                     SB_ENOENT);
    query(fx, "SELECT count(*) FROM recordings", v, sizeof v);
    assert_string_equal(v, "2");
    assert_int_equal(sb_store_recording_delete(fx->st, AC1, RE1, file, sizeof file), 0);
    assert_string_equal(file, "one.wav");
    query(fx, "SELECT group_concat(sid) FROM recordings", v, sizeof v);
    assert_string_equal(v, RE2);
    assert_int_equal(sb_store_recording_delete(fx->st, AC1, RE1, file, sizeof file),
                     SB_ENOENT);
    assert_int_equal(sb_store_recording_delete(fx->st, AC1, "bogus", NULL, 0), SB_ENOENT);
    /* Any owner, no file buffer. */
    assert_int_equal(sb_store_recording_delete(fx->st, NULL, RE2, NULL, 0), 0);
    query(fx, "SELECT count(*) FROM recordings", v, sizeof v);
    assert_string_equal(v, "0");
}

static void test_store_recordings_row_without_date_updated_gets_created(void **state)
{
    fx_t *fx = *state;
    char v[64];
    /* What a tool (or the usage test) writes: the minimum. */
    exec_other(fx, "INSERT INTO recordings (sid, account_sid, duration, date_created) "
                   "VALUES ('" RE3 "', '" AC1 "', 90, 1234)");
    query(fx, "SELECT date_updated || '|' || status || '|' || channels FROM recordings",
          v, sizeof v);
    assert_string_equal(v, "1234|completed|1");
}

static void test_store_recordings_name_rule(void **state)
{
    (void)state;
    assert_true(sb_store_recording_name_ok(RE1 ".wav"));
    assert_true(sb_store_recording_name_ok("a-b_c.1.WAV"));
    assert_false(sb_store_recording_name_ok(NULL));
    assert_false(sb_store_recording_name_ok(".wav"));
    assert_false(sb_store_recording_name_ok("..wav"));
    assert_false(sb_store_recording_name_ok("x/../y.wav"));
    assert_false(sb_store_recording_name_ok("x.wav.mp3"));
    char longname[SB_RECORDING_FILE_MAX + 8];
    memset(longname, 'a', sizeof longname);
    strcpy(longname + SB_RECORDING_FILE_MAX - 4, ".wav");
    assert_true(sb_store_recording_name_ok(longname));     /* exactly the max */
    memset(longname, 'a', sizeof longname);
    strcpy(longname + SB_RECORDING_FILE_MAX - 3, ".wav");
    assert_false(sb_store_recording_name_ok(longname));    /* one more */
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
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_recordings_put_writes_fields_and_defaults),
        T(test_store_recordings_put_bad_input_is_einval),
        T(test_store_recordings_put_twice_is_eexist),
        T(test_store_recordings_file_checks_the_owner),
        T(test_store_recordings_file_refuses_a_hand_written_path),
        T(test_store_recordings_delete_only_the_owners),
        T(test_store_recordings_row_without_date_updated_gets_created),
        cmocka_unit_test(test_store_recordings_name_rule),
    };
#undef T
    return cmocka_run_group_tests(tests, setup, teardown);
}
