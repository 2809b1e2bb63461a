/* test_store_durable.c: what survives a crash (issue 23) on a real
 * SQLite file: sb_store_when_durable (a callback per write waiting in a
 * batch, fired once on the batch's commit, never for a write already
 * committed), the call_dialogs rows (put, replace, delete, take), and
 * sb_store_cdr_interrupt closing the records a dead run left live with
 * the talk time up to its last sign of life, leaving the others alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "call_store.h"
#include "rows.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/sb-store-durable-XXXXXX";
static int dbs;

#define AC1 "AC0123456789abcdef0123456789abcdef"
#define CA1 "ID00000000000000000000000000000007-CA00000000000000000000000000000001"
#define CA2 "ID00000000000000000000000000000007-CA00000000000000000000000000000002"
#define CA3 "ID00000000000000000000000000000007-CA00000000000000000000000000000003"
#define CA4 "ID00000000000000000000000000000007-CA00000000000000000000000000000004"
#define CA5 "ID00000000000000000000000000000007-CA00000000000000000000000000000005"

typedef struct {
    sb_store_t *st;
    char path[256];
} fx_t;

static int fx_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    char err[512] = "";
    snprintf(fx->path, sizeof fx->path, "%s/d%d.db", tmpdir, dbs++);
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

/* One value through another connection, which sees only what is
 * committed, as a process started after a crash would. */
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

static void put_call(fx_t *fx, const char *sid, const char *status, const char *dir,
                     int64_t start, int64_t ring, int64_t updated)
{
    sb_cdr_t c = {.sid = sid, .account_sid = AC1, .from = "bob", .to = "1111",
                  .status = status, .direction = dir, .start_time = start,
                  .end_time = -1, .duration = ring >= 0 ? 0 : -1, .ring_duration = ring,
                  .date_created = start, .date_updated = updated};
    assert_int_equal(sb_store_cdr_put(fx->st, &c), 0);
}

/* ---- sb_store_when_durable -------------------------------------------------- */

typedef struct {
    int calls;
    int status;
    fx_t *fx;
    char seen[16];              /* what another connection saw then */
} waiter_t;

static void on_durable(int status, void *arg)
{
    waiter_t *w = arg;
    w->calls++;
    w->status = status;
    query(w->fx, "SELECT count(*) FROM meta WHERE key = 'k1'", w->seen, sizeof w->seen);
}

static void test_store_durable_nothing_open_is_durable_now(void **state)
{
    fx_t *fx = *state;
    waiter_t w = {.fx = fx};
    assert_int_equal(sb_store_meta_set(fx->st, "k1", "v"), 0);
    assert_int_equal(sb_store_when_durable(fx->st, on_durable, &w), 1);
    assert_int_equal(w.calls, 0);
}

static void test_store_durable_waits_for_the_batch_commit(void **state)
{
    fx_t *fx = *state;
    char v[32];
    waiter_t w1 = {.fx = fx}, w2 = {.fx = fx};
    assert_int_equal(sb_store_batch_begin(fx->st), 0);
    assert_int_equal(sb_store_meta_set(fx->st, "k1", "v"), 0);
    assert_int_equal(sb_store_when_durable(fx->st, on_durable, &w1), 0);
    /* A nested batch and a transaction inside it commit nothing. */
    assert_int_equal(sb_store_batch_begin(fx->st), 0);
    assert_int_equal(sb_store_begin(fx->st), 0);
    assert_int_equal(sb_store_meta_set(fx->st, "k2", "v"), 0);
    assert_int_equal(sb_store_commit(fx->st), 0);
    assert_int_equal(sb_store_when_durable(fx->st, on_durable, &w2), 0);
    assert_int_equal(sb_store_batch_end(fx->st), 0);
    assert_int_equal(w1.calls + w2.calls, 0);
    query(fx, "SELECT count(*) FROM meta WHERE key IN ('k1', 'k2')", v, sizeof v);
    assert_string_equal(v, "0");          /* not on disk yet */
    /* The outermost end commits: both answered, in order, once. */
    assert_int_equal(sb_store_batch_end(fx->st), 0);
    assert_int_equal(w1.calls, 1);
    assert_int_equal(w2.calls, 1);
    assert_int_equal(w1.status, 0);
    assert_string_equal(w1.seen, "1");    /* committed when called */
    assert_int_equal(sb_store_batch_end(fx->st), 0);
    assert_int_equal(w1.calls, 1);
}

static void test_store_durable_transaction_commit_fires(void **state)
{
    fx_t *fx = *state;
    waiter_t w = {.fx = fx};
    assert_int_equal(sb_store_begin(fx->st), 0);
    assert_int_equal(sb_store_meta_set(fx->st, "k1", "v"), 0);
    assert_int_equal(sb_store_when_durable(fx->st, on_durable, &w), 0);
    assert_int_equal(sb_store_commit(fx->st), 0);
    assert_int_equal(w.calls, 1);
    assert_string_equal(w.seen, "1");
}

static void test_store_durable_close_answers_what_waits(void **state)
{
    fx_t *fx = *state;
    waiter_t w = {.fx = fx};
    assert_int_equal(sb_store_batch_begin(fx->st), 0);
    assert_int_equal(sb_store_meta_set(fx->st, "k1", "v"), 0);
    assert_int_equal(sb_store_when_durable(fx->st, on_durable, &w), 0);
    sb_store_close(fx->st);             /* commits the open batch */
    fx->st = NULL;
    assert_int_equal(w.calls, 1);
    assert_int_equal(w.status, 0);
    assert_string_equal(w.seen, "1");
}

/* ---- call_dialogs -------------------------------------------------------------- */

typedef struct {
    int n;
    char sids[4][80];
    char all[4][512];
} taken_t;

static void on_dialog(const sb_store_dialog_t *d, void *arg)
{
    taken_t *t = arg;
    assert_true(t->n < 4);
    snprintf(t->sids[t->n], sizeof t->sids[0], "%s", d->call_sid);
    snprintf(t->all[t->n], sizeof t->all[0], "%s|%d|%s|%s|%s|%s|%lld|%s", d->sip_call_id,
             d->outgoing, d->local, d->remote, d->remote_target,
             d->route_set ? d->route_set : "NULL", (long long)d->local_cseq,
             d->dest ? d->dest : "NULL");
    t->n++;
}

static void test_store_dialogs_put_delete_take(void **state)
{
    fx_t *fx = *state;
    char v[64];
    sb_store_dialog_t a = {.call_sid = CA1, .sip_call_id = "c1@h", .outgoing = 0,
                           .local = "<sip:1111@127.0.0.1>;tag=l1",
                           .remote = "\"Bob\" <sip:bob@127.0.0.1>;tag=r1",
                           .remote_target = "sip:bob@127.0.0.1:5062",
                           .route_set = "<sip:p1;lr>, <sip:p2;lr>", .local_cseq = 1,
                           .dest = "sip:127.0.0.1:5062;transport=udp"};
    sb_store_dialog_t b = {.call_sid = CA2, .sip_call_id = "c2@h", .outgoing = 1,
                           .local = "<sip:bob@127.0.0.1>;tag=l2",
                           .remote = "<sip:+1313@127.0.0.1:5070>;tag=r2",
                           .remote_target = "sip:+1313@127.0.0.1:5070", .local_cseq = 7};
    sb_store_dialog_t c = b;
    c.call_sid = CA3;
    assert_int_equal(sb_store_dialog_put(fx->st, &a, 100), 0);
    assert_int_equal(sb_store_dialog_put(fx->st, &b, 101), 0);
    assert_int_equal(sb_store_dialog_put(fx->st, &c, 102), 0);
    b.local_cseq = 9;                       /* put again: replaced */
    assert_int_equal(sb_store_dialog_put(fx->st, &b, 101), 0);
    assert_int_equal(sb_store_dialog_delete(fx->st, CA3), 0);
    assert_int_equal(sb_store_dialog_delete(fx->st, CA3), 0);   /* none: fine */
    query(fx, "SELECT count(*) FROM call_dialogs", v, sizeof v);
    assert_string_equal(v, "2");

    taken_t t = {0};
    int64_t n = -1;
    assert_int_equal(sb_store_dialogs_take(fx->st, on_dialog, &t, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.sids[0], CA1);  /* oldest first */
    assert_string_equal(t.all[0], "c1@h|0|<sip:1111@127.0.0.1>;tag=l1|\"Bob\" "
                                  "<sip:bob@127.0.0.1>;tag=r1|sip:bob@127.0.0.1:5062|"
                                  "<sip:p1;lr>, <sip:p2;lr>|1|sip:127.0.0.1:5062;transport=udp");
    assert_string_equal(t.sids[1], CA2);
    assert_string_equal(t.all[1], "c2@h|1|<sip:bob@127.0.0.1>;tag=l2|"
                                  "<sip:+1313@127.0.0.1:5070>;tag=r2|"
                                  "sip:+1313@127.0.0.1:5070|NULL|9|NULL");
    query(fx, "SELECT count(*) FROM call_dialogs", v, sizeof v);
    assert_string_equal(v, "0");          /* taken: gone */
    memset(&t, 0, sizeof t);
    assert_int_equal(sb_store_dialogs_take(fx->st, on_dialog, &t, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(t.n, 0);
}

/* ---- sb_store_cdr_interrupt ---------------------------------------------------- */

static int live_seen;

static void on_live(const char *sid, const char *status, const char *direction, void *arg)
{
    (void)sid;
    (void)direction;
    (void)arg;
    assert_true(strcmp(status, "in-progress") == 0 || strcmp(status, "ringing") == 0 ||
                strcmp(status, "queued") == 0);
    live_seen++;
}

static void test_store_cdr_interrupt_closes_live_records(void **state)
{
    fx_t *fx = *state;
    char v[256];
    /* Answered at 1005 (rang 5 s), last alive at 1030: 25 s of talk. */
    put_call(fx, CA1, "in-progress", "inbound", 1000, 5, 1005);
    /* An outbound leg ringing since 1010. */
    put_call(fx, CA2, "ringing", "outbound-dial", 1010, -1, 1010);
    /* An inbound call ringing, and one answered after the last sign of
     * life (its end is its own last update, not before). */
    put_call(fx, CA3, "ringing", "inbound", 1020, -1, 1020);
    put_call(fx, CA4, "in-progress", "outbound-api", 1028, 4, 1032);
    /* Over before the crash: left alone. */
    sb_cdr_t done = {.sid = CA5, .account_sid = AC1, .status = "completed",
                     .direction = "inbound", .start_time = 900, .end_time = 960,
                     .duration = 50, .ring_duration = 10, .date_created = 900,
                     .date_updated = 960};
    assert_int_equal(sb_store_cdr_put(fx->st, &done), 0);

    int64_t n = -1;
    live_seen = 0;
    assert_int_equal(sb_store_cdr_interrupt(fx->st, 1030, 2000, on_live, NULL, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(live_seen, 4);
#define ROW(sid) "SELECT status || '|' || end_time || '|' || duration || '|' || " \
                 "ring_duration || '|' || coalesce(end_reason, 'NULL') || '|' || " \
                 "date_updated FROM calls WHERE sid = '" sid "'"
    query(fx, ROW(CA1), v, sizeof v);
    assert_string_equal(v, "completed|1030|25|5|interrupted|2000");
    query(fx, ROW(CA2), v, sizeof v);
    assert_string_equal(v, "no-answer|1030|0|20|interrupted|2000");
    query(fx, ROW(CA3), v, sizeof v);
    assert_string_equal(v, "failed|1030|0|10|interrupted|2000");
    query(fx, ROW(CA4), v, sizeof v);
    assert_string_equal(v, "completed|1032|0|4|interrupted|2000");
    query(fx, ROW(CA5), v, sizeof v);
    assert_string_equal(v, "completed|960|50|10|NULL|960");
    /* Nothing left: a second pass changes nothing. */
    assert_int_equal(sb_store_cdr_interrupt(fx->st, 1030, 3000, NULL, NULL, &n), 0);
    assert_int_equal(n, 0);
    /* No sign of life known (0): the end is the last update. */
    put_call(fx, CA3 "x", "in-progress", "inbound", 5000, 2, 5002);
    assert_int_equal(sb_store_cdr_interrupt(fx->st, 0, 6000, NULL, NULL, &n), 0);
    assert_int_equal(n, 1);
    query(fx, ROW(CA3 "x"), v, sizeof v);
    assert_string_equal(v, "completed|5002|0|2|interrupted|6000");
#undef ROW
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_durable_nothing_open_is_durable_now),
        T(test_store_durable_waits_for_the_batch_commit),
        T(test_store_durable_transaction_commit_fires),
        T(test_store_durable_close_answers_what_waits),
        T(test_store_dialogs_put_delete_take),
        T(test_store_cdr_interrupt_closes_live_records),
    };
#undef T
    return cmocka_run_group_tests(tests, setup, teardown);
}
