/* test_msg.c: the messaging module (core/msg) on a real SQLite file and a
 * real libuv loop, without SIP: what sb_msg_sms_send refuses (and that a
 * refusal records nothing), a message with no route and one to a Client
 * that is not registered (recorded, failed, the waiter told at once), the
 * e-mail checks, an e-mail to an SMTP port nobody listens on (failed,
 * recorded, Notification 13001), and the close with nothing left open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <uv.h>

#include "config.h"
#include "msg.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/sb-msg-XXXXXX";
static int dbs;

#define AC1 "AC0123456789abcdef0123456789abcdef"
#define AC2 "ACfedcba9876543210fedcba9876543210"

typedef struct {
    uv_loop_t loop;
    sb_config_t cfg;
    sb_store_t *st;
    sb_msg_t *msg;
    char path[256];
    int done, closed;
    char status[32];
    int code;
    char reason[256];
} fx_t;

static void sql(fx_t *fx, const char *q)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    char *err = NULL;
    int rc = sqlite3_exec(db, q, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", q, err);
    sqlite3_free(err);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static void query(fx_t *fx, const char *q, char *out, size_t len)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    out[0] = '\0';
    if (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, len, "%s", t ? (const char *)t : "NULL");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static int fx_setup(void **state)
{
    fx_t *fx = calloc(1, sizeof *fx);
    char err[512] = "";
    snprintf(fx->path, sizeof fx->path, "%s/msg%d.db", tmpdir, dbs++);
    if (sb_store_open(fx->path, &fx->st, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        free(fx);
        return -1;
    }
    sb_config_defaults(&fx->cfg, "plugins");
    fx->cfg.sms_max_length = 20;
    uv_loop_init(&fx->loop);
    sql(fx, "INSERT INTO accounts (sid, email_address, friendly_name, status, role, type, "
            "auth_token, password_hash, date_created, date_updated) VALUES "
            "('" AC1 "', 'a@x.org', 'a', 'active', 'Administrator', 'Full', 't1', 'h', 1, 1),"
            "('" AC2 "', 'b@x.org', 'b', 'active', 'Administrator', 'Full', 't2', 'h', 1, 1)");
    sql(fx, "INSERT INTO clients (sid, account_sid, login, ha1_md5, ha1_sha256, "
            "date_created, date_updated) VALUES "
            "('CL00000000000000000000000000000001', '" AC1 "', 'alice', 'x', 'y', 1, 1),"
            "('CL00000000000000000000000000000002', '" AC2 "', 'eve', 'x', 'y', 1, 1)");
    sql(fx, "INSERT INTO incoming_phone_numbers (sid, account_sid, friendly_name, "
            "phone_number, pure_sip, date_created, date_updated) VALUES "
            "('PN00000000000000000000000000000001', '" AC1 "', '5000', '5000', 1, 1, 1),"
            "('PN00000000000000000000000000000002', '" AC2 "', '6000', '6000', 1, 1, 1)");
    *state = fx;
    return 0;
}

static void on_closed(void *arg)
{
    fx_t *fx = arg;
    fx->closed = 1;
}

static void start(fx_t *fx)
{
    sb_msg_deps_t deps = {.loop = &fx->loop, .cfg = &fx->cfg, .store = fx->st};
    assert_int_equal(sb_msg_new(&deps, &fx->msg), 0);
}

static int fx_teardown(void **state)
{
    fx_t *fx = *state;
    if (fx->msg) {
        sb_msg_close(fx->msg, on_closed, fx);
        while (!fx->closed)
            uv_run(&fx->loop, UV_RUN_ONCE);
    }
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    sb_store_close(fx->st);
    sb_config_free(&fx->cfg);
    free(fx);
    return 0;
}

static void on_sms(const char *sid, const char *status, int code, void *arg)
{
    fx_t *fx = arg;
    fx->done++;
    snprintf(fx->status, sizeof fx->status, "%s", status);
    fx->code = code;
}

static int send_sms(fx_t *fx, const char *from, const char *to, const char *body,
                    char *sid)
{
    sb_msg_sms_req_t req = {.account_sid = AC1, .from = from, .to = to, .body = body};
    char err[256];
    return sb_msg_sms_send(fx->msg, &req, sid, err, sizeof err, on_sms, fx, NULL);
}

static void test_msg_sms_bad_input_is_refused_and_not_recorded(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE], n[32];
    start(fx);
    assert_int_equal(send_sms(fx, "5000", "alice", NULL, sid), SB_EINVAL);
    assert_int_equal(send_sms(fx, NULL, "alice", "hi", sid), SB_EINVAL);
    assert_int_equal(send_sms(fx, "5000", "", "hi", sid), SB_EINVAL);
    assert_int_equal(send_sms(fx, "5000", "alice", "\xff\xfe", sid), SB_EINVAL);
    assert_int_equal(send_sms(fx, "5000", "alice", "\xc0\xaf", sid), SB_EINVAL);
    assert_int_equal(send_sms(fx, "5000", "alice", "123456789012345678901", sid),
                     SB_ETOOBIG);
    /* 20 characters of two bytes each: within the limit. */
    assert_int_equal(send_sms(fx, "5000", "alice", "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                              "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", sid), 0);
    assert_int_equal(send_sms(fx, "6000", "alice", "hi", sid), SB_EPERM);
    assert_int_equal(send_sms(fx, "client:eve", "alice", "hi", sid), SB_EPERM);
    assert_int_equal(send_sms(fx, "5000", "client:eve", "hi", sid), SB_ENOENT);
    assert_int_equal(send_sms(fx, "5000", "eve", "hi", sid), SB_ENOENT);
    assert_int_equal(send_sms(fx, "5000", "a b", "hi", sid), SB_EINVAL);
    sb_msg_sms_req_t req = {.account_sid = AC1, .from = "5000", .to = "alice",
                            .body = "hi", .status_callback = "ftp://x"};
    assert_int_equal(sb_msg_sms_send(fx->msg, &req, sid, NULL, 0, NULL, NULL, NULL),
                     SB_EINVAL);
    query(fx, "SELECT count(*) FROM sms_messages", n, sizeof n);
    assert_string_equal(n, "1");
}

static void test_msg_sms_without_route_fails_at_once(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE], q[256], v[64];
    start(fx);
    assert_int_equal(send_sms(fx, "5000", "+15550100", "hello", sid), 0);
    assert_int_equal(fx->done, 1);
    assert_string_equal(fx->status, "failed");
    assert_int_equal(fx->code, 30008);
    snprintf(q, sizeof q, "SELECT status||' '||error_code||' '||direction FROM "
             "sms_messages WHERE sid = '%s'", sid);
    query(fx, q, v, sizeof v);
    assert_string_equal(v, "failed 30008 outbound-api");
}

static void test_msg_sms_to_unregistered_client_fails_30003(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE];
    start(fx);
    assert_int_equal(send_sms(fx, "client:alice", "client:alice", "hi me", sid), 0);
    assert_int_equal(fx->done, 1);
    assert_string_equal(fx->status, "failed");
    assert_int_equal(fx->code, 30003);
}

static void on_email(const char *sid, const char *status, const char *error, void *arg)
{
    fx_t *fx = arg;
    fx->done++;
    snprintf(fx->status, sizeof fx->status, "%s", status);
    snprintf(fx->reason, sizeof fx->reason, "%s", error ? error : "");
}

static void test_msg_email_checks(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE], err[256];
    start(fx);
    sb_msg_email_req_t req = {.account_sid = AC1, .from = "a@x.org", .to = "b@x.org",
                              .subject = "s", .body = "b"};
    assert_int_equal(sb_msg_email_send(fx->msg, &req, sid, err, sizeof err, NULL, NULL,
                                       NULL), SB_ESTATE);
    fx->cfg.email_smtp_url = sb_xstrdup("smtp://127.0.0.1:1");
    req.to = "nobody";
    assert_int_equal(sb_msg_email_send(fx->msg, &req, sid, err, sizeof err, NULL, NULL,
                                       NULL), SB_EINVAL);
    req.to = "b@x.org";
    req.cc = "c@x.org, <d@x.org>";
    assert_int_equal(sb_msg_email_send(fx->msg, &req, sid, err, sizeof err, NULL, NULL,
                                       NULL), SB_EINVAL);
    req.cc = NULL;
    req.subject = "a\r\nBcc: e@x.org";
    assert_int_equal(sb_msg_email_send(fx->msg, &req, sid, err, sizeof err, NULL, NULL,
                                       NULL), SB_EINVAL);
    req.subject = "s";
    req.content_type = "application/pdf";
    assert_int_equal(sb_msg_email_send(fx->msg, &req, sid, err, sizeof err, NULL, NULL,
                                       NULL), SB_EINVAL);
    req.content_type = NULL;
    req.from = NULL;        /* no email.from either */
    assert_int_equal(sb_msg_email_send(fx->msg, &req, sid, err, sizeof err, NULL, NULL,
                                       NULL), SB_EINVAL);
}

static void test_msg_email_unreachable_server_is_failed_and_notified(void **state)
{
    fx_t *fx = *state;
    char sid[SB_SID_SIZE], err[256], q[256], v[256];
    fx->cfg.email_smtp_url = sb_xstrdup("smtp://127.0.0.1:1");
    start(fx);
    sb_msg_email_req_t req = {.account_sid = AC1, .from = "a@x.org", .to = "b@x.org",
                              .bcc = "c@x.org", .body = "b"};
    assert_int_equal(sb_msg_email_send(fx->msg, &req, sid, err, sizeof err, on_email, fx,
                                       NULL), 0);
    assert_int_equal(fx->done, 0);      /* sent off the loop */
    while (fx->done == 0)
        uv_run(&fx->loop, UV_RUN_ONCE);
    assert_string_equal(fx->status, "failed");
    assert_true(fx->reason[0] != '\0');
    snprintf(q, sizeof q, "SELECT status||' '||subject FROM email_messages WHERE sid = '%s'",
             sid);
    query(fx, q, v, sizeof v);
    assert_string_equal(v, "failed Restcomm Email Service");
    query(fx, "SELECT count(*) FROM notifications WHERE error_code = 13001", v, sizeof v);
    assert_string_equal(v, "1");
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    sb_log_set_level(SB_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_msg_sms_bad_input_is_refused_and_not_recorded,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_msg_sms_without_route_fails_at_once,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_msg_sms_to_unregistered_client_fails_30003,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_msg_email_checks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(
            test_msg_email_unreachable_server_is_failed_and_notified, fx_setup,
            fx_teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
