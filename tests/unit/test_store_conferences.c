/* test_store_conferences.c: conference_store.h on a real SQLite file:
 * what sb_store_conference_put and sb_store_participant_put write
 * (defaults included) and update, a completed conference being final,
 * sb_store_conference_end and sb_store_participant_set with their owner
 * checks, start-up recovery, bad input, and migration 7's triggers,
 * checks and computed participant sid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "conference_store.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/sb-store-conf-XXXXXX";
static int dbs;

#define AC1 "AC0123456789abcdef0123456789abcdef"
#define AC2 "ACfedcba9876543210fedcba9876543210"
#define CF1 "CF00000000000000000000000000000001"
#define CF2 "CF00000000000000000000000000000002"
#define CF3 "CF00000000000000000000000000000003"
#define CA1 "ID00000000000000000000000000000007-CA00000000000000000000000000000001"
#define CA2 "ID00000000000000000000000000000007-CA00000000000000000000000000000002"
#define CA3 "CA00000000000000000000000000000003"

typedef struct {
    sb_store_t *st;
    char path[256];
} fx_t;

static int fx_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    char err[512] = "";
    snprintf(fx->path, sizeof fx->path, "%s/conf%d.db", tmpdir, dbs++);
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

/* Runs sql through another connection; returns sqlite3_exec's code. */
static int exec_other(fx_t *fx, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void put_conf(fx_t *fx, const char *sid, const char *acc, const char *status)
{
    sb_conference_t c = {.sid = sid, .account_sid = acc, .friendly_name = "room",
                         .status = status, .date_created = 1000, .date_updated = 1000};
    assert_int_equal(sb_store_conference_put(fx->st, &c), 0);
}

static void put_part(fx_t *fx, const char *conf, const char *call, const char *acc,
                     const char *status)
{
    sb_participant_t p = {.conference_sid = conf, .call_sid = call, .account_sid = acc,
                          .status = status, .start_conference_on_enter = 1,
                          .date_created = 1000, .date_updated = 1000};
    assert_int_equal(sb_store_participant_put(fx->st, &p), 0);
}

/* ---- conferences ------------------------------------------------------------ */

static void test_store_conferences_put_writes_fields_and_defaults(void **state)
{
    fx_t *fx = *state;
    char v[512];
    sb_conference_t c = {.sid = CF1, .account_sid = AC1, .friendly_name = "Sales room",
                         .date_created = 1700000000};
    assert_int_equal(sb_store_conference_put(fx->st, &c), 0);
    query(fx, "SELECT account_sid || '|' || friendly_name || '|' || status || '|' || "
              "api_version || '|' || date_created FROM conferences WHERE sid = '" CF1 "'",
          v, sizeof v);
    assert_string_equal(v, AC1 "|Sales room|init|2012-04-24|1700000000");
    query(fx, "SELECT typeof(region) || typeof(reason_conference_ended) || "
              "typeof(call_sid_ending_conference) FROM conferences", v, sizeof v);
    assert_string_equal(v, "nullnullnull");
    /* date_updated 0 is now. */
    query(fx, "SELECT abs(date_updated - strftime('%s','now')) < 5 FROM conferences",
          v, sizeof v);
    assert_string_equal(v, "1");

    sb_conference_t d = {.sid = CF2, .account_sid = AC2, .friendly_name = "x",
                         .status = "in-progress", .api_version = "2010-04-01",
                         .date_created = 5, .date_updated = 6};
    assert_int_equal(sb_store_conference_put(fx->st, &d), 0);
    query(fx, "SELECT status || '|' || api_version || '|' || date_created || '|' || "
              "date_updated FROM conferences WHERE sid = '" CF2 "'", v, sizeof v);
    assert_string_equal(v, "in-progress|2010-04-01|5|6");
    /* date_created 0 is now. */
    sb_conference_t e = {.sid = CF3, .account_sid = AC1, .friendly_name = "y"};
    assert_int_equal(sb_store_conference_put(fx->st, &e), 0);
    query(fx, "SELECT abs(date_created - strftime('%s','now')) < 5 AND "
              "date_updated = date_created FROM conferences WHERE sid = '" CF3 "'",
          v, sizeof v);
    assert_string_equal(v, "1");
}

static void test_store_conferences_put_updates_status_not_identity(void **state)
{
    fx_t *fx = *state;
    char v[512];
    sb_conference_t c = {.sid = CF1, .account_sid = AC1, .friendly_name = "room",
                         .date_created = 100, .date_updated = 100};
    assert_int_equal(sb_store_conference_put(fx->st, &c), 0);
    /* The room starts: another account and name on the update change
     * nothing but what an update may change. */
    sb_conference_t u = {.sid = CF1, .account_sid = AC2, .friendly_name = "other",
                         .status = "in-progress", .api_version = "x",
                         .date_created = 999, .date_updated = 200};
    assert_int_equal(sb_store_conference_put(fx->st, &u), 0);
    query(fx, "SELECT account_sid || '|' || friendly_name || '|' || status || '|' || "
              "api_version || '|' || date_created || '|' || date_updated "
              "FROM conferences", v, sizeof v);
    assert_string_equal(v, AC1 "|room|in-progress|2012-04-24|100|200");
    /* It ends, with a reason and the call that ended it. */
    u.status = "completed";
    u.reason_conference_ended = SB_CONF_ENDED_MODERATOR_LEFT;
    u.call_sid_ending_conference = CA1;
    u.date_updated = 300;
    assert_int_equal(sb_store_conference_put(fx->st, &u), 0);
    query(fx, "SELECT status || '|' || reason_conference_ended || '|' || "
              "call_sid_ending_conference || '|' || date_updated FROM conferences",
          v, sizeof v);
    assert_string_equal(v, "completed|participant-with-end-conference-on-exit-left|"
                           CA1 "|300");
    query(fx, "SELECT count(*) FROM conferences", v, sizeof v);
    assert_string_equal(v, "1");
}

static void test_store_conferences_completed_is_final(void **state)
{
    fx_t *fx = *state;
    char v[512];
    sb_conference_t c = {.sid = CF1, .account_sid = AC1, .friendly_name = "room",
                         .status = "completed",
                         .reason_conference_ended = SB_CONF_ENDED_LAST_LEFT,
                         .date_created = 100, .date_updated = 150};
    assert_int_equal(sb_store_conference_put(fx->st, &c), 0);
    c.status = "in-progress";
    c.reason_conference_ended = NULL;
    c.date_updated = 400;
    assert_int_equal(sb_store_conference_put(fx->st, &c), 0);
    c.status = "completed";
    c.reason_conference_ended = SB_CONF_ENDED_API;
    assert_int_equal(sb_store_conference_put(fx->st, &c), 0);
    query(fx, "SELECT status || '|' || reason_conference_ended || '|' || date_updated "
              "FROM conferences", v, sizeof v);
    assert_string_equal(v, "completed|last-participant-left|150");
}

static void test_store_conferences_put_bad_input_is_einval(void **state)
{
    fx_t *fx = *state;
    char v[64], longname[SB_CONFERENCE_NAME_MAX + 2];
    sb_conference_t c = {.sid = CF1, .account_sid = AC1, .friendly_name = "room"};
    assert_int_equal(sb_store_conference_put(fx->st, NULL), SB_EINVAL);
    const char *sids[] = {NULL, "", "CF1", "RE00000000000000000000000000000001",
                          CF1 "0", CA1};
    for (size_t i = 0; i < SB_COUNTOF(sids); i++) {
        c.sid = sids[i];
        assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    }
    c.sid = CF1;
    c.account_sid = NULL;
    assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    c.account_sid = "not-an-account";
    assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    c.account_sid = AC1;
    c.friendly_name = NULL;
    assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    c.friendly_name = "";
    assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    memset(longname, 'n', sizeof longname);
    longname[SB_CONFERENCE_NAME_MAX + 1] = '\0';
    c.friendly_name = longname;
    assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    c.friendly_name = "room";
    const char *bad[] = {"running", "COMPLETED", "", "in_progress"};
    for (size_t i = 0; i < SB_COUNTOF(bad); i++) {
        c.status = bad[i];
        assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    }
    c.status = "completed";
    c.call_sid_ending_conference = "bogus";
    assert_int_equal(sb_store_conference_put(fx->st, &c), SB_EINVAL);
    query(fx, "SELECT count(*) FROM conferences", v, sizeof v);
    assert_string_equal(v, "0");
    /* Exactly the longest name is fine. */
    longname[SB_CONFERENCE_NAME_MAX] = '\0';
    c.friendly_name = longname;
    c.call_sid_ending_conference = CA3;
    assert_int_equal(sb_store_conference_put(fx->st, &c), 0);
}

static void test_store_conferences_end_checks_owner_and_closes_members(void **state)
{
    fx_t *fx = *state;
    char v[512];
    put_conf(fx, CF1, AC1, "in-progress");
    put_conf(fx, CF2, AC1, "in-progress");
    put_part(fx, CF1, CA1, AC1, NULL);
    put_part(fx, CF1, CA2, AC1, "completed");
    put_part(fx, CF2, CA3, AC1, NULL);

    assert_int_equal(sb_store_conference_end(fx->st, AC2, CF1, SB_CONF_ENDED_API, NULL, 2000),
                     SB_ENOENT);
    assert_int_equal(sb_store_conference_end(fx->st, AC1, CF3, SB_CONF_ENDED_API, NULL, 2000),
                     SB_ENOENT);
    assert_int_equal(sb_store_conference_end(fx->st, AC1, "CF3", NULL, NULL, 2000),
                     SB_EINVAL);
    assert_int_equal(sb_store_conference_end(fx->st, "AC", CF1, NULL, NULL, 2000),
                     SB_EINVAL);
    assert_int_equal(sb_store_conference_end(fx->st, AC1, CF1, NULL, "bogus", 2000),
                     SB_EINVAL);
    query(fx, "SELECT group_concat(status) FROM conferences", v, sizeof v);
    assert_string_equal(v, "in-progress,in-progress");

    assert_int_equal(sb_store_conference_end(fx->st, AC1, CF1, SB_CONF_ENDED_API, NULL, 2000),
                     0);
    query(fx, "SELECT status || '|' || reason_conference_ended || '|' || "
              "ifnull(call_sid_ending_conference, 'NULL') || '|' || date_updated "
              "FROM conferences WHERE sid = '" CF1 "'", v, sizeof v);
    assert_string_equal(v, "completed|conference-ended-via-api|NULL|2000");
    /* Its connected member is closed now; the one who had left keeps its
     * date; the other room's member is untouched. */
    query(fx, "SELECT group_concat(call_sid || '=' || status || '@' || date_updated, ' ') "
              "FROM (SELECT * FROM participants ORDER BY rowid)", v, sizeof v);
    assert_string_equal(v, CA1 "=completed@2000 " CA2 "=completed@1000 "
                           CA3 "=connected@1000");
    query(fx, "SELECT status FROM conferences WHERE sid = '" CF2 "'", v, sizeof v);
    assert_string_equal(v, "in-progress");

    /* Again: nothing changes, the first end wins. */
    assert_int_equal(sb_store_conference_end(fx->st, AC1, CF1, SB_CONF_ENDED_LAST_LEFT,
                                             CA1, 3000), 0);
    query(fx, "SELECT reason_conference_ended || '|' || date_updated FROM conferences "
              "WHERE sid = '" CF1 "'", v, sizeof v);
    assert_string_equal(v, "conference-ended-via-api|2000");
    /* Any owner. */
    assert_int_equal(sb_store_conference_end(fx->st, NULL, CF2, SB_CONF_ENDED_LAST_KICKED,
                                             CA3, 0), 0);
    query(fx, "SELECT status || '|' || reason_conference_ended || '|' || "
              "call_sid_ending_conference || '|' || "
              "(abs(date_updated - strftime('%s','now')) < 5) FROM conferences "
              "WHERE sid = '" CF2 "'", v, sizeof v);
    assert_string_equal(v, "completed|last-participant-kicked|" CA3 "|1");
}

/* ---- participants -------------------------------------------------------------- */

static void test_store_conferences_participant_put_and_update(void **state)
{
    fx_t *fx = *state;
    char v[512];
    sb_participant_t p = {.conference_sid = CF1, .call_sid = CA1, .account_sid = AC1,
                          .muted = 1, .start_conference_on_enter = 7,
                          .date_created = 100};
    assert_int_equal(sb_store_participant_put(fx->st, &p), 0);
    query(fx, "SELECT sid || '|' || conference_sid || '|' || account_sid || '|' || "
              "muted || hold || start_conference_on_enter || end_conference_on_exit || "
              "'|' || status || '|' || date_created FROM participants", v, sizeof v);
    assert_string_equal(v, CA1 "|" CF1 "|" AC1 "|1010|connected|100");
    query(fx, "SELECT abs(date_updated - strftime('%s','now')) < 5 FROM participants",
          v, sizeof v);
    assert_string_equal(v, "1");

    /* Unmuted, held, then it leaves: one row, updated. */
    sb_participant_t u = {.conference_sid = CF1, .call_sid = CA1, .account_sid = AC2,
                          .hold = 1, .start_conference_on_enter = 1,
                          .end_conference_on_exit = 1, .date_created = 999,
                          .date_updated = 200};
    assert_int_equal(sb_store_participant_put(fx->st, &u), 0);
    u.status = "completed";
    u.date_updated = 300;
    assert_int_equal(sb_store_participant_put(fx->st, &u), 0);
    query(fx, "SELECT account_sid || '|' || muted || hold || start_conference_on_enter || "
              "end_conference_on_exit || '|' || status || '|' || date_created || '|' || "
              "date_updated FROM participants", v, sizeof v);
    assert_string_equal(v, AC1 "|0111|completed|100|300");
    /* It joins again: connected again, same row. */
    u.status = NULL;
    u.date_updated = 400;
    assert_int_equal(sb_store_participant_put(fx->st, &u), 0);
    query(fx, "SELECT count(*) || '|' || status || '|' || date_updated FROM participants",
          v, sizeof v);
    assert_string_equal(v, "1|connected|400");
    /* Another room: a second row for the same call. */
    p.conference_sid = CF2;
    assert_int_equal(sb_store_participant_put(fx->st, &p), 0);
    query(fx, "SELECT group_concat(conference_sid) FROM "
              "(SELECT * FROM participants WHERE sid = '" CA1 "' ORDER BY rowid)",
          v, sizeof v);
    assert_string_equal(v, CF1 "," CF2);
}

static void test_store_conferences_participant_bad_input_is_einval(void **state)
{
    fx_t *fx = *state;
    char v[64];
    sb_participant_t p = {.conference_sid = CF1, .call_sid = CA1, .account_sid = AC1};
    assert_int_equal(sb_store_participant_put(fx->st, NULL), SB_EINVAL);
    p.conference_sid = "CF1";
    assert_int_equal(sb_store_participant_put(fx->st, &p), SB_EINVAL);
    p.conference_sid = NULL;
    assert_int_equal(sb_store_participant_put(fx->st, &p), SB_EINVAL);
    p.conference_sid = CF1;
    p.call_sid = "RE00000000000000000000000000000001";
    assert_int_equal(sb_store_participant_put(fx->st, &p), SB_EINVAL);
    p.call_sid = NULL;
    assert_int_equal(sb_store_participant_put(fx->st, &p), SB_EINVAL);
    p.call_sid = CA1;
    p.account_sid = CF2;
    assert_int_equal(sb_store_participant_put(fx->st, &p), SB_EINVAL);
    p.account_sid = AC1;
    p.status = "in-progress";
    assert_int_equal(sb_store_participant_put(fx->st, &p), SB_EINVAL);
    query(fx, "SELECT count(*) FROM participants", v, sizeof v);
    assert_string_equal(v, "0");
    /* Both call SID forms are fine. */
    p.status = NULL;
    p.call_sid = CA3;
    assert_int_equal(sb_store_participant_put(fx->st, &p), 0);
}

static void test_store_conferences_participant_set(void **state)
{
    fx_t *fx = *state;
    char v[512];
    put_part(fx, CF1, CA1, AC1, NULL);
    put_part(fx, CF1, CA2, AC1, NULL);

    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF1, CA1, 1, -1, NULL, 2000), 0);
    query(fx, "SELECT muted || hold || '|' || status || '|' || date_updated "
              "FROM participants WHERE call_sid = '" CA1 "'", v, sizeof v);
    assert_string_equal(v, "10|connected|2000");
    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF1, CA1, -1, 1, NULL, 2100), 0);
    query(fx, "SELECT muted || hold || '|' || date_updated FROM participants "
              "WHERE call_sid = '" CA1 "'", v, sizeof v);
    assert_string_equal(v, "11|2100");
    assert_int_equal(sb_store_participant_set(fx->st, NULL, CF1, CA1, 0, 0, "completed",
                                              2200), 0);
    query(fx, "SELECT muted || hold || '|' || status || '|' || date_updated "
              "FROM participants WHERE call_sid = '" CA1 "'", v, sizeof v);
    assert_string_equal(v, "00|completed|2200");
    /* The other member was not touched. */
    query(fx, "SELECT muted || hold || '|' || status || '|' || date_updated "
              "FROM participants WHERE call_sid = '" CA2 "'", v, sizeof v);
    assert_string_equal(v, "00|connected|1000");

    /* Another account's, another room's, unknown: as absent. */
    assert_int_equal(sb_store_participant_set(fx->st, AC2, CF1, CA2, 1, -1, NULL, 0),
                     SB_ENOENT);
    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF2, CA2, 1, -1, NULL, 0),
                     SB_ENOENT);
    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF1, CA3, 1, -1, NULL, 0),
                     SB_ENOENT);
    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF1, CA2, 2, -1, NULL, 0),
                     SB_EINVAL);
    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF1, CA2, -1, -2, NULL, 0),
                     SB_EINVAL);
    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF1, CA2, -1, -1, "gone", 0),
                     SB_EINVAL);
    assert_int_equal(sb_store_participant_set(fx->st, AC1, "CF", CA2, 1, -1, NULL, 0),
                     SB_EINVAL);
    assert_int_equal(sb_store_participant_set(fx->st, AC1, CF1, "x", 1, -1, NULL, 0),
                     SB_EINVAL);
    query(fx, "SELECT muted || '|' || date_updated FROM participants "
              "WHERE call_sid = '" CA2 "'", v, sizeof v);
    assert_string_equal(v, "0|1000");
}

/* ---- recovery and the schema ------------------------------------------------------ */

static void test_store_conferences_recover_closes_what_was_live(void **state)
{
    fx_t *fx = *state;
    char v[512];
    int64_t n = -1;
    put_conf(fx, CF1, AC1, "init");
    put_conf(fx, CF2, AC2, "in-progress");
    sb_conference_t done = {.sid = CF3, .account_sid = AC1, .friendly_name = "old",
                            .status = "completed",
                            .reason_conference_ended = SB_CONF_ENDED_LAST_LEFT,
                            .date_created = 10, .date_updated = 20};
    assert_int_equal(sb_store_conference_put(fx->st, &done), 0);
    put_part(fx, CF2, CA1, AC2, NULL);
    put_part(fx, CF2, CA2, AC2, "completed");
    put_part(fx, CF3, CA3, AC1, "completed");

    assert_int_equal(sb_store_conference_recover(fx->st, 5000, &n), 0);
    assert_int_equal(n, 2);
    query(fx, "SELECT group_concat(sid || '=' || status || '/' || "
              "reason_conference_ended || '@' || date_updated, ' ') FROM "
              "(SELECT * FROM conferences ORDER BY sid)", v, sizeof v);
    assert_string_equal(v, CF1 "=completed/interrupted@5000 "
                           CF2 "=completed/interrupted@5000 "
                           CF3 "=completed/last-participant-left@20");
    query(fx, "SELECT group_concat(call_sid || '=' || status || '@' || date_updated, ' ') "
              "FROM (SELECT * FROM participants ORDER BY rowid)", v, sizeof v);
    assert_string_equal(v, CA1 "=completed@5000 " CA2 "=completed@1000 "
                           CA3 "=completed@1000");
    /* Nothing left to recover. */
    assert_int_equal(sb_store_conference_recover(fx->st, 6000, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sb_store_conference_recover(fx->st, 0, NULL), 0);
}

static void test_store_conferences_schema_defaults_and_checks(void **state)
{
    fx_t *fx = *state;
    char v[512];
    /* What a tool (or the REST integration test) writes: the minimum. */
    assert_int_equal(exec_other(fx, "INSERT INTO conferences (sid, account_sid, "
                                    "friendly_name, date_created) VALUES "
                                    "('" CF1 "', '" AC1 "', 'r', 1234)"), SQLITE_OK);
    query(fx, "SELECT status || '|' || api_version || '|' || date_updated "
              "FROM conferences", v, sizeof v);
    assert_string_equal(v, "init|2012-04-24|1234");
    assert_int_equal(exec_other(fx, "INSERT INTO participants (call_sid, conference_sid, "
                                    "account_sid, date_created) VALUES "
                                    "('" CA1 "', '" CF1 "', '" AC1 "', 1235)"), SQLITE_OK);
    query(fx, "SELECT sid || '|' || muted || hold || start_conference_on_enter || "
              "end_conference_on_exit || '|' || status || '|' || date_updated "
              "FROM participants", v, sizeof v);
    assert_string_equal(v, CA1 "|0010|connected|1235");
    /* The statuses are checked; a call has one row per conference. */
    assert_int_not_equal(exec_other(fx, "UPDATE conferences SET status = 'RUNNING'"),
                         SQLITE_OK);
    assert_int_not_equal(exec_other(fx, "UPDATE participants SET status = 'left'"),
                         SQLITE_OK);
    assert_int_not_equal(exec_other(fx, "INSERT INTO participants (call_sid, "
                                        "conference_sid, account_sid, date_created) "
                                        "VALUES ('" CA1 "', '" CF1 "', '" AC1 "', 1)"),
                         SQLITE_OK);
    /* sid is computed from call_sid and cannot be written. */
    assert_int_not_equal(exec_other(fx, "UPDATE participants SET sid = 'x'"), SQLITE_OK);
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
        T(test_store_conferences_put_writes_fields_and_defaults),
        T(test_store_conferences_put_updates_status_not_identity),
        T(test_store_conferences_completed_is_final),
        T(test_store_conferences_put_bad_input_is_einval),
        T(test_store_conferences_end_checks_owner_and_closes_members),
        T(test_store_conferences_participant_put_and_update),
        T(test_store_conferences_participant_bad_input_is_einval),
        T(test_store_conferences_participant_set),
        T(test_store_conferences_recover_closes_what_was_live),
        T(test_store_conferences_schema_defaults_and_checks),
    };
#undef T
    return cmocka_run_group_tests(tests, setup, teardown);
}
