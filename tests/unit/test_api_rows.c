/* test_api_rows.c: the store's generic row layer (rows.h) and account
 * tree (account_tree.h) that the REST API is built on, on real SQLite
 * files migrated to the latest schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "account_tree.h"
#include "rows.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/sb-rows-XXXXXX";
static int dbn;

/* The applications table as a caller describes it. */
static const sb_rows_col_t app_cols[] = {
    {"sid", SB_ROWS_TEXT},          {"account_sid", SB_ROWS_TEXT},
    {"friendly_name", SB_ROWS_TEXT}, {"voice_caller_id_lookup", SB_ROWS_INT},
    {"rcml_url", SB_ROWS_TEXT},     {"date_created", SB_ROWS_INT},
    {"date_updated", SB_ROWS_INT},
};
static const sb_rows_table_t apps = {"applications", app_cols, 7};
enum { C_SID, C_ACC, C_NAME, C_LOOKUP, C_URL, C_CREATED, C_UPDATED };

typedef struct {
    sb_store_t *store;
    char admin[SB_SID_SIZE];
} fx_t;

static int setup(void **state)
{
    fx_t *fx = SB_NEW(fx_t);
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/rows%d.db", tmpdir, dbn++);
    assert_int_equal(sb_store_open(path, &fx->store, err, sizeof err), 0);
    char *gen = NULL;
    assert_int_equal(sb_store_bootstrap_admin(fx->store, "root@example.com",
                                              "Root-Password-1", &gen), 0);
    sb_sid_account("root@example.com", fx->admin);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    sb_store_close(fx->store);
    free(fx);
    return 0;
}

static void set_text(sb_rows_val_t *v, const char *s)
{
    v->set = 1;
    v->null = s == NULL;
    v->s = s;
}

static void set_int(sb_rows_val_t *v, int64_t i)
{
    v->set = 1;
    v->null = 0;
    v->i = i;
}

static int insert_app(fx_t *fx, const char *sid, const char *name, int64_t created)
{
    sb_rows_val_t v[7];
    memset(v, 0, sizeof v);
    set_text(&v[C_SID], sid);
    set_text(&v[C_ACC], fx->admin);
    set_text(&v[C_NAME], name);
    set_int(&v[C_CREATED], created);
    set_int(&v[C_UPDATED], created);
    return sb_rows_insert(fx->store, &apps, v);
}

static void test_api_rows_table_check_rejects_bad_identifiers(void **state)
{
    assert_int_equal(sb_rows_table_check(&apps), 0);
    static const sb_rows_col_t bad_cols[] = {{"sid", SB_ROWS_TEXT},
                                             {"x; DROP TABLE a", SB_ROWS_TEXT}};
    sb_rows_table_t bad = {"applications", bad_cols, 2};
    assert_int_equal(sb_rows_table_check(&bad), SB_EINVAL);
    sb_rows_table_t bad_name = {"Apps", app_cols, 7};
    assert_int_equal(sb_rows_table_check(&bad_name), SB_EINVAL);
    static const sb_rows_col_t int_key[] = {{"n", SB_ROWS_INT}};
    sb_rows_table_t ik = {"t", int_key, 1};
    assert_int_equal(sb_rows_table_check(&ik), SB_EINVAL);
    assert_int_equal(sb_rows_col(&apps, "rcml_url"), C_URL);
    assert_int_equal(sb_rows_col(&apps, "nope"), -1);
}

static void test_api_rows_insert_get_update_delete(void **state)
{
    fx_t *fx = *state;
    const char *sid = "AP0123456789abcdef0123456789abcdef";
    assert_int_equal(insert_app(fx, sid, "first", 100), 0);

    sb_rows_cond_t by_sid = {.col = C_SID, .op = SB_ROWS_EQ, .s = sid};
    sb_row_t row;
    assert_int_equal(sb_rows_get(fx->store, &apps, &by_sid, 1, &row), 0);
    assert_int_equal(row.n, 7);
    assert_string_equal(row.v[C_NAME].s, "first");
    assert_true(row.v[C_URL].null);                 /* not set: NULL */
    assert_int_equal(row.v[C_LOOKUP].i, 0);         /* SQL default */
    assert_int_equal(row.v[C_CREATED].i, 100);
    sb_row_free(&row);

    sb_rows_val_t v[7];
    memset(v, 0, sizeof v);
    set_text(&v[C_URL], "http://127.0.0.1/x.xml");
    set_int(&v[C_LOOKUP], 1);
    int64_t changed = -1;
    assert_int_equal(sb_rows_update(fx->store, &apps, &by_sid, 1, v, &changed), 0);
    assert_int_equal(changed, 1);
    assert_int_equal(sb_rows_get(fx->store, &apps, &by_sid, 1, &row), 0);
    assert_string_equal(row.v[C_URL].s, "http://127.0.0.1/x.xml");
    assert_int_equal(row.v[C_LOOKUP].i, 1);
    assert_string_equal(row.v[C_NAME].s, "first");  /* untouched */
    sb_row_free(&row);

    /* Setting NULL clears. */
    memset(v, 0, sizeof v);
    set_text(&v[C_URL], NULL);
    assert_int_equal(sb_rows_update(fx->store, &apps, &by_sid, 1, v, NULL), 0);
    assert_int_equal(sb_rows_get(fx->store, &apps, &by_sid, 1, &row), 0);
    assert_true(row.v[C_URL].null);
    sb_row_free(&row);

    int64_t deleted = 0;
    assert_int_equal(sb_rows_delete(fx->store, &apps, &by_sid, 1, &deleted), 0);
    assert_int_equal(deleted, 1);
    assert_int_equal(sb_rows_get(fx->store, &apps, &by_sid, 1, &row), SB_ENOENT);
    /* A delete without conditions is refused rather than emptying a table. */
    assert_int_equal(sb_rows_delete(fx->store, &apps, NULL, 0, NULL), SB_EINVAL);
}

static void test_api_rows_constraints_map_to_codes(void **state)
{
    fx_t *fx = *state;
    const char *sid = "AP00000000000000000000000000000001";
    assert_int_equal(insert_app(fx, sid, "a", 1), 0);
    assert_int_equal(insert_app(fx, sid, "b", 2), SB_EEXIST);
    /* A missing NOT NULL column and a dangling foreign key: SB_EINVAL. */
    sb_rows_val_t v[7];
    memset(v, 0, sizeof v);
    set_text(&v[C_SID], "AP00000000000000000000000000000002");
    set_text(&v[C_ACC], fx->admin);
    assert_int_equal(sb_rows_insert(fx->store, &apps, v), SB_EINVAL);
    set_text(&v[C_ACC], "AC00000000000000000000000000000000");
    set_text(&v[C_NAME], "x");
    set_int(&v[C_CREATED], 1);
    set_int(&v[C_UPDATED], 1);
    assert_int_equal(sb_rows_insert(fx->store, &apps, v), SB_EINVAL);
}

typedef struct {
    char names[32][16];
    int n;
} seen_t;

static int collect(const sb_rows_val_t *vals, void *arg)
{
    seen_t *s = arg;
    snprintf(s->names[s->n++], sizeof s->names[0], "%s", vals[C_NAME].s);
    return 0;
}

static int stop_at_two(const sb_rows_val_t *vals, void *arg)
{
    return ++*(int *)arg == 2 ? 7 : 0;
}

static void list(fx_t *fx, const sb_rows_query_t *q, seen_t *s)
{
    memset(s, 0, sizeof *s);
    assert_int_equal(sb_rows_list(fx->store, &apps, q, collect, s), 0);
}

static void test_api_rows_list_orders_pages_and_seeks(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE], names[10][8];
    char sids[10][SB_SID_SIZE];
    for (int i = 0; i < 10; i++) {
        snprintf(sid, sizeof sid, "AP%032d", i);
        snprintf(sids[i], sizeof sids[i], "%s", sid);
        /* Names in reverse of insertion order. */
        snprintf(names[i], sizeof names[i], "n%d", 9 - i);
        assert_int_equal(insert_app(fx, sid, names[i], 1000 + i), 0);
    }
    sb_rows_cond_t mine = {.col = C_ACC, .op = SB_ROWS_EQ, .s = fx->admin};
    seen_t s;

    /* Insertion order, offset and limit. */
    sb_rows_query_t q = {.conds = &mine, .nconds = 1, .order_col = -1,
                         .offset = 3, .limit = 4};
    list(fx, &q, &s);
    assert_int_equal(s.n, 4);
    assert_string_equal(s.names[0], "n6");
    assert_string_equal(s.names[3], "n3");

    /* By name, ascending, then keyset after the third row. */
    q = (sb_rows_query_t){.conds = &mine, .nconds = 1, .order_col = C_NAME,
                          .limit = 3};
    list(fx, &q, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[0], "n0");
    assert_string_equal(s.names[2], "n2");
    q.after = sids[7];                              /* the row named n2 */
    q.offset = 999;                                 /* ignored with a key */
    list(fx, &q, &s);
    assert_int_equal(s.n, 3);
    assert_string_equal(s.names[0], "n3");
    assert_string_equal(s.names[2], "n5");

    /* Descending with a key. */
    q = (sb_rows_query_t){.conds = &mine, .nconds = 1, .order_col = C_NAME,
                          .desc = 1, .after = sids[0], .limit = -1};
    list(fx, &q, &s);                               /* after n9 */
    assert_int_equal(s.n, 9);
    assert_string_equal(s.names[0], "n8");
    assert_string_equal(s.names[8], "n0");

    /* An unknown key falls back to the offset. */
    q = (sb_rows_query_t){.conds = &mine, .nconds = 1, .order_col = -1,
                          .after = "APffffffffffffffffffffffffffffffff",
                          .offset = 8, .limit = 10};
    list(fx, &q, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.names[0], "n1");

    /* A non-zero callback return stops the listing and is returned. */
    q = (sb_rows_query_t){.conds = &mine, .nconds = 1, .order_col = -1, .limit = -1};
    int calls = 0;
    assert_int_equal(sb_rows_list(fx->store, &apps, &q, stop_at_two, &calls), 7);
    assert_int_equal(calls, 2);
}

/* Deep offsets go through checkpoints (every 256 rows): the rows must be
 * exactly those a full listing has at those positions, in both
 * directions, by rowid and by a column, before and after a change. */
typedef struct {
    char (*names)[16];
    int n;
} all_t;

static int collect_all(const sb_rows_val_t *vals, void *arg)
{
    all_t *a = arg;
    snprintf(a->names[a->n++], 16, "%s", vals[C_NAME].s);
    return 0;
}

static void test_api_rows_deep_offsets_match_plain_offsets(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE], name[16];
    assert_int_equal(sb_store_begin(fx->store), 0);
    for (int i = 0; i < 1000; i++) {
        snprintf(sid, sizeof sid, "AP%032d", i);
        /* Names not in insertion order. */
        snprintf(name, sizeof name, "n%04d", (i * 7) % 1000);
        assert_int_equal(insert_app(fx, sid, name, i), 0);
    }
    assert_int_equal(sb_store_commit(fx->store), 0);
    sb_rows_cond_t mine = {.col = C_ACC, .op = SB_ROWS_EQ, .s = fx->admin};
    static const int64_t offsets[] = {255, 256, 257, 511, 512, 700, 998, 999, 1000, 1500};
    all_t all = {.names = calloc(1000, 16)};
    for (int pass = 0; pass < 2; pass++) {
        for (int order = 0; order < 4; order++) {
            int oc = order < 2 ? -1 : C_NAME, desc = order % 2;
            /* The oracle: everything, in order, from offset 0. */
            all.n = 0;
            sb_rows_query_t full = {.conds = &mine, .nconds = 1, .order_col = oc,
                                    .desc = desc, .limit = -1};
            assert_int_equal(sb_rows_list(fx->store, &apps, &full, collect_all, &all), 0);
            assert_int_equal(all.n, pass ? 999 : 1000);
            for (int rep = 0; rep < 2; rep++) {     /* build, then reuse */
                for (size_t k = 0; k < SB_COUNTOF(offsets); k++) {
                    seen_t s;
                    sb_rows_query_t q = {.conds = &mine, .nconds = 1, .order_col = oc,
                                         .desc = desc, .offset = offsets[k], .limit = 3};
                    list(fx, &q, &s);
                    int64_t left = all.n - offsets[k];
                    assert_int_equal(s.n, left < 0 ? 0 : left > 3 ? 3 : left);
                    for (int j = 0; j < s.n; j++)
                        assert_string_equal(s.names[j], all.names[offsets[k] + j]);
                }
            }
        }
        /* Change the data: the checkpoints must not be reused. */
        sb_rows_cond_t ten = {.col = C_SID, .op = SB_ROWS_EQ,
                              .s = "AP00000000000000000000000000000010"};
        assert_int_equal(sb_rows_delete(fx->store, &apps, &ten, 1, NULL), 0);
    }
    free(all.names);
}

static void test_api_rows_count_cache_sees_writes(void **state)
{
    fx_t *fx = *state;
    sb_rows_cond_t mine = {.col = C_ACC, .op = SB_ROWS_EQ, .s = fx->admin};
    int64_t n = -1;
    assert_int_equal(sb_rows_count(fx->store, &apps, &mine, 1, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000010", "a", 1), 0);
    assert_int_equal(sb_rows_count(fx->store, &apps, &mine, 1, &n), 0);
    assert_int_equal(n, 1);                          /* not the cached 0 */
    assert_int_equal(sb_rows_count(fx->store, &apps, &mine, 1, &n), 0);
    assert_int_equal(n, 1);                          /* cached */
    sb_rows_cond_t one = {.col = C_SID, .op = SB_ROWS_EQ,
                          .s = "AP00000000000000000000000000000010"};
    assert_int_equal(sb_rows_delete(fx->store, &apps, &one, 1, NULL), 0);
    assert_int_equal(sb_rows_count(fx->store, &apps, &mine, 1, &n), 0);
    assert_int_equal(n, 0);
    /* Different values of the same statement are different entries. */
    sb_rows_cond_t other = {.col = C_ACC, .op = SB_ROWS_EQ, .s = "ACnone"};
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000011", "b", 1), 0);
    assert_int_equal(sb_rows_count(fx->store, &apps, &other, 1, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sb_rows_count(fx->store, &apps, &mine, 1, &n), 0);
    assert_int_equal(n, 1);
}

static int count_rows(const sb_rows_val_t *vals, void *arg)
{
    (*(int *)arg)++;
    return 0;
}

static void test_api_rows_like_escape_matches_literally(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000020", "50%_off", 1), 0);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000021", "500ff", 1), 0);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000022", "a\\b", 1), 0);
    sb_buf_t p = SB_BUF_INIT;
    sb_buf_putc(&p, '%');
    sb_rows_like_escape(&p, "%_");
    sb_buf_putc(&p, '%');
    sb_rows_cond_t c = {.col = C_NAME, .op = SB_ROWS_LIKE, .s = sb_buf_str(&p)};
    sb_rows_query_t q = {.conds = &c, .nconds = 1, .order_col = -1, .limit = -1};
    int n = 0;
    assert_int_equal(sb_rows_list(fx->store, &apps, &q, count_rows, &n), 0);
    assert_int_equal(n, 1);
    sb_buf_reset(&p);
    sb_rows_like_escape(&p, "a\\b");
    c.s = sb_buf_str(&p);
    n = 0;
    assert_int_equal(sb_rows_list(fx->store, &apps, &q, count_rows, &n), 0);
    assert_int_equal(n, 1);
    /* Unescaped, '_' is a wildcard: "50%_off" and "500ff" both match. */
    c.s = "50%";
    n = 0;
    assert_int_equal(sb_rows_list(fx->store, &apps, &q, count_rows, &n), 0);
    assert_int_equal(n, 2);
    sb_buf_free(&p);
}

typedef struct {
    char keys[8][16];
    int64_t counts[8], sums[8];
    double fsums[8];
    int n;
} groups_t;

static int on_group(const sb_rows_group_t *grp, void *arg)
{
    groups_t *g = arg;
    snprintf(g->keys[g->n], sizeof g->keys[0], "%s", grp->key);
    g->counts[g->n] = grp->count;
    g->sums[g->n] = grp->sum;
    g->fsums[g->n] = grp->fsum;
    g->n++;
    return 0;
}

static void test_api_rows_aggregate_groups_by_period(void **state)
{
    fx_t *fx = *state;
    time_t d1, d2, d3;
    sb_time_parse_date("2024-01-05T10:00:00", &d1);
    sb_time_parse_date("2024-01-05T23:59:59", &d2);
    sb_time_parse_date("2024-03-01T00:00:00", &d3);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000030", "1.5", d1), 0);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000031", "-0.25", d2), 0);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000032", "c", d3), 0);
    sb_rows_cond_t mine = {.col = C_ACC, .op = SB_ROWS_EQ, .s = fx->admin};
    groups_t g = {0};
    assert_int_equal(sb_rows_aggregate(fx->store, &apps, &mine, 1, C_CREATED, "day",
                                       C_CREATED, C_NAME, on_group, &g), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.keys[0], "2024-01-05");
    assert_int_equal(g.counts[0], 2);
    assert_int_equal(g.sums[0], (int64_t)d1 + d2);
    assert_true(g.fsums[0] > 1.2499 && g.fsums[0] < 1.2501);    /* 1.5 - 0.25 */
    assert_string_equal(g.keys[1], "2024-03-01");
    memset(&g, 0, sizeof g);
    assert_int_equal(sb_rows_aggregate(fx->store, &apps, &mine, 1, C_CREATED, "month",
                                       -1, -1, on_group, &g), 0);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.keys[1], "2024-03");
    assert_int_equal(g.sums[1], 0);
    memset(&g, 0, sizeof g);
    assert_int_equal(sb_rows_aggregate(fx->store, &apps, &mine, 1, C_CREATED, NULL,
                                       -1, -1, on_group, &g), 0);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.counts[0], 3);
    /* No rows: no group at all. */
    memset(&g, 0, sizeof g);
    sb_rows_cond_t none = {.col = C_ACC, .op = SB_ROWS_EQ, .s = "ACnobody"};
    assert_int_equal(sb_rows_aggregate(fx->store, &apps, &none, 1, C_CREATED, NULL,
                                       -1, -1, on_group, &g), 0);
    assert_int_equal(g.n, 0);
    assert_int_equal(sb_rows_aggregate(fx->store, &apps, &mine, 1, C_CREATED, "week",
                                       -1, -1, on_group, &g), SB_EINVAL);
    assert_int_equal(sb_rows_table_exists(fx->store, "applications"), 1);
    assert_int_equal(sb_rows_has_column(fx->store, "applications", "rcml_url"), 1);
    assert_int_equal(sb_rows_has_column(fx->store, "applications", "price"), 0);
    assert_int_equal(sb_rows_has_column(fx->store, "nope", "sid"), 0);
    assert_int_equal(sb_rows_table_exists(fx->store, "nope"), 0);
}

static void add_account(fx_t *fx, const char *email, const char *parent,
                        const char *status, char sid[SB_SID_SIZE])
{
    sb_account_t a;
    memset(&a, 0, sizeof a);
    sb_sid_account(email, a.sid);
    snprintf(a.parent_sid, sizeof a.parent_sid, "%s", parent ? parent : "");
    a.email = (char *)email;
    a.friendly_name = (char *)email;
    a.status = (char *)status;
    a.auth_token = (char *)"00000000000000000000000000000000";
    a.password_hash = (char *)"x";
    a.date_created = a.date_updated = 1;
    assert_int_equal(sb_store_account_insert(fx->store, &a), 0);
    memcpy(sid, a.sid, SB_SID_SIZE);
}

static void test_api_rows_account_tree(void **state)
{
    fx_t *fx = *state;
    char child[SB_SID_SIZE], grand[SB_SID_SIZE], other[SB_SID_SIZE];
    add_account(fx, "child@example.com", fx->admin, "active", child);
    add_account(fx, "grand@example.com", child, "active", grand);
    add_account(fx, "other@example.com", fx->admin, "active", other);

    assert_int_equal(sb_store_account_in_tree(fx->store, fx->admin, grand), 1);
    assert_int_equal(sb_store_account_in_tree(fx->store, child, grand), 1);
    assert_int_equal(sb_store_account_in_tree(fx->store, grand, grand), 1);
    assert_int_equal(sb_store_account_in_tree(fx->store, grand, child), 0);
    assert_int_equal(sb_store_account_in_tree(fx->store, other, grand), 0);
    assert_int_equal(sb_store_account_in_tree(fx->store, child, "ACnope"), 0);

    int depth = -1;
    assert_int_equal(sb_store_account_depth(fx->store, fx->admin, &depth), 0);
    assert_int_equal(depth, 0);
    assert_int_equal(sb_store_account_depth(fx->store, grand, &depth), 0);
    assert_int_equal(depth, 2);
    assert_int_equal(sb_store_account_depth(fx->store, "ACnope", &depth), SB_ENOENT);

    /* Suspending the child suspends the grandchild, not the sibling. */
    int64_t changed = 0;
    assert_int_equal(sb_store_account_set_status_tree(fx->store, child, "suspended",
                                                      5, &changed), 0);
    assert_int_equal(changed, 2);
    sb_account_t a;
    assert_int_equal(sb_store_account_get(fx->store, grand, &a), 0);
    assert_string_equal(a.status, "suspended");
    assert_int_equal(a.date_updated, 5);
    sb_account_clear(&a);
    assert_int_equal(sb_store_account_get(fx->store, other, &a), 0);
    assert_string_equal(a.status, "active");
    sb_account_clear(&a);

    /* Closing deletes the sub-tree's applications; closed is final. */
    assert_int_equal(sb_rows_insert(fx->store, &apps, (sb_rows_val_t[7]){
        {1, 0, 0, "AP00000000000000000000000000000040"}, {1, 0, 0, grand},
        {1, 0, 0, "g"}, {0}, {0}, {1, 0, 1, NULL}, {1, 0, 1, NULL}}), 0);
    assert_int_equal(sb_store_account_set_status_tree(fx->store, child, "closed", 6,
                                                      NULL), 0);
    sb_rows_cond_t c = {.col = C_ACC, .op = SB_ROWS_EQ, .s = grand};
    int64_t n = -1;
    assert_int_equal(sb_rows_count(fx->store, &apps, &c, 1, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(sb_store_account_set_status_tree(fx->store, child, "active", 7,
                                                      &changed), 0);
    assert_int_equal(changed, 0);
    assert_int_equal(sb_store_account_get(fx->store, child, &a), 0);
    assert_string_equal(a.status, "closed");
    sb_account_clear(&a);
}

static void test_api_rows_password_change_activates(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE];
    add_account(fx, "new@example.com", fx->admin, "uninitialized", sid);
    assert_int_equal(sb_store_account_set_password(fx->store, sid, "hash2",
                                                   "11111111111111111111111111111111", 9), 0);
    sb_account_t a;
    assert_int_equal(sb_store_account_get(fx->store, sid, &a), 0);
    assert_string_equal(a.status, "active");
    assert_string_equal(a.password_hash, "hash2");
    assert_string_equal(a.auth_token, "11111111111111111111111111111111");
    sb_account_clear(&a);
    /* A suspended account stays suspended. */
    assert_int_equal(sb_store_account_set_status_tree(fx->store, sid, "suspended", 10,
                                                      NULL), 0);
    assert_int_equal(sb_store_account_set_password(fx->store, sid, "hash3", "t", 11), 0);
    assert_int_equal(sb_store_account_get(fx->store, sid, &a), 0);
    assert_string_equal(a.status, "suspended");
    sb_account_clear(&a);
    assert_int_equal(sb_store_account_set_password(fx->store, "ACnope", "h", "t", 1),
                     SB_ENOENT);
}

static void test_api_rows_transactions_roll_back(void **state)
{
    fx_t *fx = *state;
    assert_int_equal(sb_store_begin(fx->store), 0);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000050", "t", 1), 0);
    sb_store_rollback(fx->store);
    sb_rows_cond_t c = {.col = C_SID, .op = SB_ROWS_EQ,
                        .s = "AP00000000000000000000000000000050"};
    sb_row_t row;
    assert_int_equal(sb_rows_get(fx->store, &apps, &c, 1, &row), SB_ENOENT);
    assert_int_equal(sb_store_begin(fx->store), 0);
    assert_int_equal(insert_app(fx, "AP00000000000000000000000000000050", "t", 1), 0);
    assert_int_equal(sb_store_commit(fx->store), 0);
    assert_int_equal(sb_rows_get(fx->store, &apps, &c, 1, &row), 0);
    sb_row_free(&row);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    sb_log_set_level(SB_LOG_WARN);
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_rows_table_check_rejects_bad_identifiers),
        T(test_api_rows_insert_get_update_delete),
        T(test_api_rows_constraints_map_to_codes),
        T(test_api_rows_list_orders_pages_and_seeks),
        T(test_api_rows_deep_offsets_match_plain_offsets),
        T(test_api_rows_count_cache_sees_writes),
        T(test_api_rows_like_escape_matches_literally),
        T(test_api_rows_aggregate_groups_by_period),
        T(test_api_rows_account_tree),
        T(test_api_rows_password_change_activates),
        T(test_api_rows_transactions_roll_back),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return rc;
}
