/* test_sip.c: the registrar. Digest primitives against RFC 7616's worked
 * examples, the credential parser on good and malformed input, stateless
 * nonces (tampering, age) and the bounded nc memory (replay, eviction),
 * the expires rules, the registration store, and one end-to-end run: the
 * real agent on a loopback port, a UDP client on the same reactor that
 * registers with digest authentication, the location service and the
 * registered-users count, and a binding removed by the expiry timer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "sip_int.h"
#include "sip_store.h"
#include "store.h"
#include "loop.h"
#include "config.h"

static char tmpdir[] = "/tmp/sb-sip-XXXXXX";

static const char *tmp_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* ---- digest primitives ----------------------------------------------------- */

/* RFC 7616 section 3.9.1 (the same request, MD5 then SHA-256). */
static void test_sip_digest_rfc7616_examples_match(void **state)
{
    const char *nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const char *cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
    char ha1[65], resp[65];
    sb__digest_ha1(SB_DIGEST_MD5, "Mufasa", "http-auth@example.org", "Circle of Life", ha1);
    sb__digest_response(SB_DIGEST_MD5, ha1, "GET", "/dir/index.html", nonce, "00000001",
                        cnonce, "auth", resp);
    assert_string_equal(resp, "8ca523f5e9506fed4657c9700eebdbec");
    sb__digest_ha1(SB_DIGEST_SHA256, "Mufasa", "http-auth@example.org", "Circle of Life",
                   ha1);
    sb__digest_response(SB_DIGEST_SHA256, ha1, "GET", "/dir/index.html", nonce,
                        "00000001", cnonce, "auth", resp);
    assert_string_equal(resp,
                        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

static void test_sip_digest_parse_good_credentials(void **state)
{
    const char *p[] = {"USERNAME=\"al\\\"ice\"", "realm=\"example.com\"",
                       "nonce=\"abc\"", "uri=\"sip:example.com\"",
                       "response=\"0123456789ABCDEF0123456789abcdef\"",
                       "algorithm=md5", "qop=auth", "nc=0000000a", "cnonce=\"xyz\"",
                       "opaque=\"o\"", "future-param=whatever", NULL};
    sb_digest_creds_t c;
    assert_int_equal(sb__digest_parse(p, &c), 0);
    assert_string_equal(c.username, "al\"ice");          /* quoted-pair undone */
    assert_string_equal(c.realm, "example.com");
    assert_string_equal(c.response, "0123456789abcdef0123456789abcdef");
    assert_int_equal(c.alg, SB_DIGEST_MD5);
    assert_int_equal(c.nc, 10);
    assert_string_equal(c.nc_text, "0000000a");
    sb__digest_creds_clear(&c);

    const char *q[] = {"username=\"bob\"", "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:r\"",
                       "response=\"" "0123456789abcdef0123456789abcdef"
                       "0123456789abcdef0123456789abcdef\"",
                       "algorithm=SHA-256", "qop=\"auth\"", "nc=00000001",
                       "cnonce=\"c\"", NULL};
    assert_int_equal(sb__digest_parse(q, &c), 0);
    assert_int_equal(c.alg, SB_DIGEST_SHA256);
    sb__digest_creds_clear(&c);
}

static void test_sip_digest_parse_malformed_is_refused(void **state)
{
#define BASE "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:r\"", "qop=auth", \
             "nc=00000001", "cnonce=\"c\""
#define R32 "response=\"0123456789abcdef0123456789abcdef\""
    const char *cases[][12] = {
        {"username=\"a\"", "realm=\"r\"", NULL},                       /* missing */
        {"username=\"a\"", "username=\"b\"", BASE, R32, NULL},         /* repeated */
        {"username=\"\"", BASE, R32, NULL},                            /* empty user */
        {"username=\"a", BASE, R32, NULL},                             /* unterminated */
        {"username=\"a\"b\"", BASE, R32, NULL},                        /* stray quote */
        {"username=a b", BASE, R32, NULL},                             /* bad token */
        {"username=\"a\"", BASE, "response=\"0123\"", NULL},           /* short */
        {"username=\"a\"", BASE, "response=\"0123456789abcdef0123456789abcdeg\"", NULL},
        {"username=\"a\"", BASE, R32, "algorithm=SHA-256", NULL},      /* length */
        {"username=\"a\"", BASE, R32, "algorithm=MD5-sess", NULL},
        {"username=\"a\"", BASE, R32, "userhash=true", NULL},
        {"username=\"a\"", "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:r\"", R32, NULL},
        {"username=\"a\"", "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:r\"", R32,
         "qop=auth-int", "nc=00000001", "cnonce=\"c\"", NULL},
        {"username=\"a\"", "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:r\"", R32,
         "qop=auth", "nc=1", "cnonce=\"c\"", NULL},
        {"username=\"a\"", "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:r\"", R32,
         "qop=auth", "nc=00000000", "cnonce=\"c\"", NULL},
        {"username=\"a\"", "realm=\"r\"", "nonce=\"n\"", "uri=\"sip:r\"", R32,
         "qop=auth", "nc=00000001", NULL},                             /* no cnonce */
        {"=x", NULL},
        {"username", NULL},
    };
    for (size_t i = 0; i < SB_COUNTOF(cases); i++) {
        sb_digest_creds_t c;
        int rc = sb__digest_parse(cases[i], &c);
        if (rc != SB_ESYNTAX)
            fail_msg("case %zu parsed", i);
        assert_non_null(c.error);
        sb__digest_creds_clear(&c);
    }
    sb_digest_creds_t c;
    assert_int_equal(sb__digest_parse(NULL, &c), SB_ESYNTAX);
    /* An oversized value is refused before anything uses it. */
    char big[SB_DIGEST_MAX_VALUE + 32];
    memset(big, 'x', sizeof big);
    memcpy(big, "username=\"", 10);
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    const char *p[] = {big, BASE, R32, NULL};
    assert_int_equal(sb__digest_parse(p, &c), SB_ESYNTAX);
    sb__digest_creds_clear(&c);
#undef BASE
#undef R32
}

static void test_sip_digest_nonce_tampering_and_age(void **state)
{
    sb_digest_t *d = sb__digest_new(300, 64);
    sb_digest_t *other = sb__digest_new(300, 64);
    char n[SB_DIGEST_NONCE_LEN + 1], m[SB_DIGEST_NONCE_LEN + 1];
    int64_t t = 1700000000;
    sb__digest_nonce(d, t, n);
    sb__digest_nonce(d, t, m);
    assert_int_equal(strlen(n), SB_DIGEST_NONCE_LEN);
    assert_string_not_equal(n, m);                       /* unique per challenge */
    assert_int_equal(sb__digest_nonce_check(d, n, t), SB_NONCE_OK);
    assert_int_equal(sb__digest_nonce_check(d, n, t + 299), SB_NONCE_OK);
    assert_int_equal(sb__digest_nonce_check(d, n, t + 300), SB_NONCE_STALE);
    assert_int_equal(sb__digest_nonce_check(d, n, t - 60), SB_NONCE_INVALID);
    assert_int_equal(sb__digest_nonce_check(other, n, t), SB_NONCE_INVALID);
    char bad[SB_DIGEST_NONCE_LEN + 1];
    for (int pos = 0; pos < SB_DIGEST_NONCE_LEN; pos += 7) {
        memcpy(bad, n, sizeof bad);
        bad[pos] = bad[pos] == '0' ? '1' : '0';
        assert_int_equal(sb__digest_nonce_check(d, bad, t), SB_NONCE_INVALID);
    }
    memcpy(bad, n, sizeof bad);
    for (char *c = bad; *c; c++)
        if (*c >= 'a' && *c <= 'f')
            *c = (char)(*c - 32);
    assert_int_equal(sb__digest_nonce_check(d, bad, t), SB_NONCE_INVALID);
    assert_int_equal(sb__digest_nonce_check(d, "", t), SB_NONCE_INVALID);
    assert_int_equal(sb__digest_nonce_check(d, "0123", t), SB_NONCE_INVALID);
    char *ch = sb__digest_challenge(d, "ex\"ample", SB_DIGEST_SHA256, 1, t);
    assert_non_null(strstr(ch, "realm=\"ex\\\"ample\""));
    assert_non_null(strstr(ch, "algorithm=SHA-256"));
    assert_non_null(strstr(ch, "qop=\"auth\""));
    assert_non_null(strstr(ch, "stale=true"));
    free(ch);
    sb__digest_free(d);
    sb__digest_free(other);
}

static void test_sip_digest_nc_replay_and_eviction(void **state)
{
    sb_digest_t *d = sb__digest_new(300, 4);
    int64_t t = 1700000000;
    char n[6][SB_DIGEST_NONCE_LEN + 1];
    for (int i = 0; i < 6; i++)
        sb__digest_nonce(d, t + i, n[i]);
    assert_int_equal(sb__digest_nc_use(d, n[0], 1, t + 10), SB_NONCE_OK);
    assert_int_equal(sb__digest_nc_use(d, n[0], 1, t + 10), SB_NONCE_REPLAY);
    assert_int_equal(sb__digest_nc_use(d, n[0], 3, t + 10), SB_NONCE_OK);
    assert_int_equal(sb__digest_nc_use(d, n[0], 2, t + 10), SB_NONCE_REPLAY);
    for (int i = 1; i < 4; i++)
        assert_int_equal(sb__digest_nc_use(d, n[i], 1, t + 10), SB_NONCE_OK);
    assert_int_equal(sb__digest_tracked(d), 4);
    /* Full: the oldest nonce (n[0]) is evicted for n[4]. Its history is
     * gone, so it must not be accepted again, even with a new nc. */
    assert_int_equal(sb__digest_nc_use(d, n[4], 1, t + 10), SB_NONCE_OK);
    assert_int_equal(sb__digest_tracked(d), 4);
    assert_int_equal(sb__digest_nc_use(d, n[0], 1, t + 10), SB_NONCE_STALE);
    assert_int_equal(sb__digest_nc_use(d, n[0], 9, t + 10), SB_NONCE_STALE);
    /* The others are still tracked. */
    assert_int_equal(sb__digest_nc_use(d, n[4], 1, t + 10), SB_NONCE_REPLAY);
    assert_int_equal(sb__digest_nc_use(d, n[2], 2, t + 10), SB_NONCE_OK);
    /* Expired entries make room first, without raising the floor. */
    assert_int_equal(sb__digest_nc_use(d, n[5], 1, t + 302), SB_NONCE_OK);
    assert_true(sb__digest_tracked(d) <= 4);
    sb__digest_free(d);
}

/* ---- expires rules ---------------------------------------------------------- */

/* Issue 23: no limit on guessing. An address waits after
 * SB_AUTHLIM_ADDR_FAILURES failures, for a back-off that doubles; a login
 * after SB_AUTHLIM_LOGIN_FAILURES, only for addresses that failed before;
 * quiet time forgets. */
static void test_sip_authlim_backoff_doubles_and_forgets(void **state)
{
    sb_authlim_t *l = sb__authlim_new();
    int64_t now = 1000000, ab, lb;
    for (int i = 1; i < SB_AUTHLIM_ADDR_FAILURES; i++) {
        assert_int_equal(sb__authlim_check(l, "10.0.0.1", "alice", now), 0);
        sb__authlim_fail(l, "10.0.0.1", "alice", now, &ab, &lb);
        assert_int_equal(ab, 0);
    }
    sb__authlim_fail(l, "10.0.0.1", "alice", now, &ab, &lb);
    assert_int_equal(ab, SB_AUTHLIM_FIRST_MS);
    assert_int_equal(sb__authlim_check(l, "10.0.0.1", NULL, now + 1),
                     SB_AUTHLIM_FIRST_MS - 1);
    assert_int_equal(sb__authlim_check(l, "10.0.0.2", "alice", now), 0);
    /* After the wait, the next failure doubles it. */
    now += SB_AUTHLIM_FIRST_MS;
    assert_int_equal(sb__authlim_check(l, "10.0.0.1", NULL, now), 0);
    sb__authlim_fail(l, "10.0.0.1", NULL, now, &ab, &lb);
    assert_int_equal(ab, 2 * SB_AUTHLIM_FIRST_MS);

    /* The login: 11 failures so far; 9 more from other addresses. */
    for (int i = 0; i < SB_AUTHLIM_LOGIN_FAILURES - 11; i++)
        sb__authlim_fail(l, "10.0.1.1", "alice", now, &ab, &lb);
    assert_int_equal(lb, 0);
    sb__authlim_fail(l, "10.0.1.2", "alice", now, &ab, &lb);
    assert_int_equal(lb, SB_AUTHLIM_FIRST_MS);
    assert_int_equal(sb__authlim_failures(l, "alice", 1),
                     SB_AUTHLIM_LOGIN_FAILURES);
    /* An address that failed before waits for the login; a clean one
     * does not (a guesser cannot lock a phone out). */
    assert_true(sb__authlim_check(l, "10.0.1.2", "alice", now) > 0);
    assert_int_equal(sb__authlim_check(l, "10.0.9.9", "alice", now), 0);
    assert_int_equal(sb__authlim_check(l, "10.0.1.2", "bob", now), 0);

    /* Quiet time forgets. */
    now += SB_AUTHLIM_FORGET_MS + SB_AUTHLIM_MAX_MS + 1;
    assert_int_equal(sb__authlim_check(l, "10.0.1.2", "alice", now), 0);
    sb__authlim_fail(l, "10.0.0.1", NULL, now, &ab, &lb);
    assert_int_equal(ab, 0);
    assert_int_equal(sb__authlim_failures(l, "10.0.0.1", 0), 1);
    sb__authlim_free(l);
}

static void test_sip_expires_rules(void **state)
{
    int64_t e;
    assert_int_equal(sb__sip_reg_expires(NULL, 0, 0, 60, 3600, &e), 0);
    assert_int_equal(e, 3600);                                  /* default */
    assert_int_equal(sb__sip_reg_expires(NULL, 0, 0, 60, 600, &e), 0);
    assert_int_equal(e, 600);                                   /* capped default */
    assert_int_equal(sb__sip_reg_expires(NULL, 1, 120, 60, 3600, &e), 0);
    assert_int_equal(e, 120);                                   /* header */
    assert_int_equal(sb__sip_reg_expires("90", 1, 120, 60, 3600, &e), 0);
    assert_int_equal(e, 90);                                    /* param wins */
    assert_int_equal(sb__sip_reg_expires("0", 1, 120, 60, 3600, &e), 0);
    assert_int_equal(e, 0);                                     /* removal */
    assert_int_equal(sb__sip_reg_expires(NULL, 1, 0, 60, 3600, &e), 0);
    assert_int_equal(e, 0);
    assert_int_equal(sb__sip_reg_expires("30", 0, 0, 60, 3600, &e), SB_ELIMIT);
    assert_int_equal(sb__sip_reg_expires(NULL, 1, 59, 60, 3600, &e), SB_ELIMIT);
    assert_int_equal(sb__sip_reg_expires(NULL, 1, (unsigned long)-1, 60, 3600, &e), 0);
    assert_int_equal(e, 3600);                                  /* huge header */
    assert_int_equal(sb__sip_reg_expires("99999999999999999999999999", 0, 0, 60,
                                         3600, &e), 0);
    assert_int_equal(e, 3600);                                  /* no wrap */
    assert_int_equal(sb__sip_reg_expires("18446744073709551616", 0, 0, 60, 3600, &e), 0);
    assert_int_equal(e, 3600);
    assert_int_equal(sb__sip_reg_expires("", 0, 0, 60, 3600, &e), SB_ESYNTAX);
    assert_int_equal(sb__sip_reg_expires("12a", 0, 0, 60, 3600, &e), SB_ESYNTAX);
    assert_int_equal(sb__sip_reg_expires("-5", 0, 0, 60, 3600, &e), SB_ESYNTAX);
}

/* ---- the store --------------------------------------------------------------- */

/* Adds a client row (and uses the bootstrap administrator's account). */
static void add_client(const char *dbpath, const char *login, const char *password,
                       int status, const char *account_status)
{
    sqlite3 *db;
    char md5[65], sha[65];
    assert_int_equal(sqlite3_open(dbpath, &db), SQLITE_OK);
    sb__digest_ha1(SB_DIGEST_MD5, login, "127.0.0.1", password, md5);
    sb__digest_ha1(SB_DIGEST_SHA256, login, "127.0.0.1", password, sha);
    char *sql = sqlite3_mprintf(
        "INSERT INTO accounts (sid, email_address, status, auth_token, password_hash, "
        "date_created, date_updated) VALUES ('AC%s', '%q@example.com', '%q', 't', 'h', 0, 0);"
        "INSERT INTO clients (sid, account_sid, login, status, ha1_md5, ha1_sha256, "
        "date_created, date_updated) VALUES ('CL%s', 'AC%s', '%q', %d, '%s', '%s', 0, 0)",
        md5, login, account_status, md5, md5, login, status, md5, sha);
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("insert client: %s", err);
    sqlite3_free(sql);
    sqlite3_close(db);
}

static void test_sip_store_client_auth(void **state)
{
    sb_store_t *st = NULL;
    char err[256];
    assert_int_equal(sb_store_open(tmp_path("auth.db"), &st, err, sizeof err), 0);
    add_client(tmp_path("auth.db"), "alice", "pw-a", 1, "active");
    add_client(tmp_path("auth.db"), "bob", "pw-b", 0, "active");
    add_client(tmp_path("auth.db"), "carol", "pw-c", 1, "suspended");
    sb_client_auth_t c;
    assert_int_equal(sb_store_client_auth_get(st, "alice", &c), 0);
    char want[65];
    sb__digest_ha1(SB_DIGEST_MD5, "alice", "127.0.0.1", "pw-a", want);
    assert_string_equal(c.ha1_md5, want);
    assert_int_equal(strlen(c.ha1_sha256), 64);
    assert_true(c.enabled && c.account_active);
    assert_string_equal(c.login, "alice");
    assert_memory_equal(c.sid, "CL", 2);
    sb_client_auth_clear(&c);
    assert_int_equal(sb_store_client_auth_get(st, "ALICE", &c), 0);  /* NOCASE */
    assert_string_equal(c.login, "alice");
    sb_client_auth_clear(&c);
    assert_int_equal(sb_store_client_auth_get(st, "bob", &c), 0);
    assert_false(c.enabled);
    sb_client_auth_clear(&c);
    assert_int_equal(sb_store_client_auth_get(st, "carol", &c), 0);
    assert_true(c.enabled);
    assert_false(c.account_active);
    sb_client_auth_clear(&c);
    assert_int_equal(sb_store_client_auth_get(st, "nobody", &c), SB_ENOENT);
    sb_store_close(st);
}

static sb_registration_t reg_row(const char *login, const char *contact, int64_t exp,
                                 int64_t updated)
{
    sb_registration_t r = {0};
    r.login = (char *)login;
    r.contact = (char *)contact;
    r.expires_at = exp;
    r.source_ip = "192.0.2.7";
    r.source_port = 40000;
    r.transport = "udp";
    r.call_id = "cid";
    r.cseq = 7;
    r.date_created = updated;
    r.date_updated = updated;
    return r;
}

static int n_expired;
static void on_expired_row(const sb_registration_t *r, void *arg)
{
    assert_string_equal(r->login, (const char *)arg);
    n_expired++;
}

static void test_sip_store_registrations(void **state)
{
    sb_store_t *st = NULL;
    char err[256];
    assert_int_equal(sb_store_open(tmp_path("regs.db"), &st, err, sizeof err), 0);
    int64_t t = 1700000000;
    sb_registration_t set[3] = {
        reg_row("alice", "sip:alice@192.0.2.7:5060", t + 100, t),
        reg_row("alice", "sip:alice@192.0.2.8:5060", t + 10, t + 1),
        reg_row("alice", "sip:alice@192.0.2.9:5060", t - 1, t),       /* dead */
    };
    set[0].instance = "<urn:uuid:1>";
    set[0].reg_id = 1;
    assert_int_equal(sb_store_registrations_replace(st, "alice", set, 3), 0);
    sb_registration_t one = reg_row("bob", "sip:bob@192.0.2.1", t + 50, t);
    assert_int_equal(sb_store_registrations_replace(st, "bob", &one, 1), 0);

    sb_registration_t *r;
    size_t n;
    assert_int_equal(sb_store_registrations_get(st, "ALICE", t, &r, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(r[0].contact, "sip:alice@192.0.2.8:5060");   /* newest first */
    assert_string_equal(r[1].instance, "<urn:uuid:1>");
    assert_int_equal(r[1].reg_id, 1);
    assert_int_equal(r[1].source_port, 40000);
    assert_int_equal(r[1].cseq, 7);
    assert_null(r[0].instance);
    sb_registrations_free(r, n);

    int64_t users, contacts, at;
    assert_int_equal(sb_store_registrations_count(st, t, &users, &contacts), 0);
    assert_int_equal(users, 2);
    assert_int_equal(contacts, 3);
    assert_int_equal(sb_store_registrations_next_expiry(st, &at), 0);
    assert_int_equal(at, t - 1);
    n_expired = 0;
    assert_int_equal(sb_store_registrations_expire(st, t + 10, on_expired_row, "alice"), 2);
    assert_int_equal(n_expired, 2);
    assert_int_equal(sb_store_registrations_count(st, t + 10, &users, &contacts), 0);
    assert_int_equal(users, 2);
    assert_int_equal(contacts, 2);

    /* Replace is the whole set: an empty one removes the login's rows. */
    assert_int_equal(sb_store_registrations_replace(st, "alice", NULL, 0), 0);
    assert_int_equal(sb_store_registrations_get(st, "alice", t, &r, &n), 0);
    assert_int_equal(n, 0);
    assert_null(r);
    assert_int_equal(sb_store_registrations_expire(st, t + 1000, NULL, NULL), 1);
    assert_int_equal(sb_store_registrations_next_expiry(st, &at), SB_ENOENT);
    sb_store_close(st);
}

/* ---- end to end ---------------------------------------------------------------- */

typedef struct {
    sb_loop_t *loop;
    sb_sip_t *sip;
    sb_store_t *store;
    uv_udp_t udp;
    uv_timer_t timer;
    int sip_port;
    int step;
    int cseq;
    int local_port;
    char nonce[128];
    int failed;
    char why[256];
    int got_200;
    size_t contacts_after_200;
    size_t contacts_after_expiry;
    int64_t users, regs;
    int64_t rows_after_expiry;
    char dest[128];
    char uri[128];
} e2e_t;

static void e2e_fail(e2e_t *e, const char *why)
{
    if (!e->failed) {
        e->failed = 1;
        snprintf(e->why, sizeof e->why, "%s", why);
    }
    sb_loop_stop(e->loop);
}

typedef struct {
    uv_udp_send_t req;
    char data[2048];
} send_t;

static void on_sent(uv_udp_send_t *req, int status)
{
    free(req->data);
}

static void send_register(e2e_t *e, const char *auth)
{
    send_t *s = malloc(sizeof *s);
    int n = snprintf(s->data, sizeof s->data,
        "REGISTER sip:127.0.0.1:%d SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-e2e-%d;rport\r\n"
        "From: <sip:alice@127.0.0.1>;tag=e2e\r\n"
        "To: <sip:alice@127.0.0.1>\r\n"
        "Call-ID: e2e-call@127.0.0.1\r\n"
        "CSeq: %d REGISTER\r\n"
        "Contact: <sip:alice@127.0.0.1:%d>, <sip:alice@127.0.0.1:9>;expires=2\r\n"
        "Expires: 60\r\n"
        "%s%s%s"
        "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n",
        e->sip_port, e->local_port, e->cseq, e->cseq, e->local_port,
        auth ? "Authorization: " : "", auth ? auth : "", auth ? "\r\n" : "");
    e->cseq++;
    s->req.data = s;
    uv_buf_t b = uv_buf_init(s->data, (unsigned)n);
    struct sockaddr_in to;
    uv_ip4_addr("127.0.0.1", e->sip_port, &to);
    if (uv_udp_send(&s->req, &e->udp, &b, 1, (const struct sockaddr *)&to, on_sent) != 0) {
        free(s);
        e2e_fail(e, "udp send");
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    static char mem[8192];
    *buf = uv_buf_init(mem, sizeof mem);
}

static void on_expiry_check(uv_timer_t *t)
{
    e2e_t *e = t->data;
    sb_sip_contact_t *c;
    size_t n;
    if (sb_sip_location_lookup(e->sip, "alice", &c, &n) != 0) {
        e2e_fail(e, "lookup after expiry");
        return;
    }
    e->contacts_after_expiry = n;
    sb_sip_contacts_free(c, n);
    /* The timer deleted the row itself (lookups also skip dead rows). */
    sb_store_registrations_count(e->store, 0, NULL, &e->rows_after_expiry);
    sb_loop_stop(e->loop);
}

static void on_recv(uv_udp_t *u, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags)
{
    e2e_t *e = u->data;
    if (nread <= 0)
        return;
    char msg[8192];
    memcpy(msg, buf->base, (size_t)nread);
    msg[nread] = '\0';
    if (strncmp(msg, "SIP/2.0 1", 9) == 0)
        return;
    if (e->step == 0) {
        /* The 401: answer the MD5 challenge. */
        const char *ch = strstr(msg, "algorithm=MD5");
        const char *nn = strstr(msg, "nonce=\"");
        if (strncmp(msg, "SIP/2.0 401", 11) != 0 || ch == NULL || nn == NULL ||
            strstr(msg, "algorithm=SHA-256") == NULL) {
            e2e_fail(e, "expected 401 with MD5 and SHA-256 challenges");
            return;
        }
        /* The MD5 challenge's own nonce: the last one before its algorithm. */
        const char *p = msg, *last = NULL;
        while ((p = strstr(p, "nonce=\"")) != NULL && p < ch)
            last = p, p++;
        snprintf(e->nonce, sizeof e->nonce, "%.*s", SB_DIGEST_NONCE_LEN, last + 7);
        char ha1[65], resp[65], uri[64], auth[512];
        snprintf(uri, sizeof uri, "sip:127.0.0.1:%d", e->sip_port);
        sb__digest_ha1(SB_DIGEST_MD5, "alice", "127.0.0.1", "alice-pw", ha1);
        sb__digest_response(SB_DIGEST_MD5, ha1, "REGISTER", uri, e->nonce, "00000001",
                            "cn0nce", "auth", resp);
        snprintf(auth, sizeof auth,
                 "Digest username=\"alice\", realm=\"127.0.0.1\", nonce=\"%s\", "
                 "uri=\"%s\", response=\"%s\", algorithm=MD5, qop=auth, "
                 "nc=00000001, cnonce=\"cn0nce\"", e->nonce, uri, resp);
        e->step = 1;
        send_register(e, auth);
        return;
    }
    if (e->step == 1) {
        if (strncmp(msg, "SIP/2.0 200", 11) != 0) {
            e2e_fail(e, "expected 200 to the authenticated REGISTER");
            return;
        }
        e->got_200 = 1;
        e->step = 2;
        sb_sip_contact_t *c;
        size_t n;
        if (sb_sip_location_lookup(e->sip, "alice", &c, &n) != 0) {
            e2e_fail(e, "lookup");
            return;
        }
        e->contacts_after_200 = n;
        for (size_t i = 0; i < n; i++) {
            if (c[i].expires_at - time(NULL) > 30) {
                snprintf(e->dest, sizeof e->dest, "%s", c[i].dest);
                snprintf(e->uri, sizeof e->uri, "%s", c[i].uri);
            }
        }
        sb_sip_contacts_free(c, n);
        sb_sip_registered_count(e->sip, &e->users, &e->regs);
        /* The second contact asked for 2 s: the expiry timer removes it. */
        uv_timer_start(&e->timer, on_expiry_check, 3600, 0);
    }
}

static void on_deadline(uv_timer_t *t)
{
    e2e_fail(t->data, "deadline passed");
}

static void on_e2e_closed(uv_handle_t *h)
{
    e2e_t *e = h->data;
    if (h == (uv_handle_t *)&e->timer)
        sb_loop_closed(e->loop);
}

static void close_e2e(void *arg)
{
    e2e_t *e = arg;
    uv_close((uv_handle_t *)&e->udp, on_e2e_closed);
    uv_close((uv_handle_t *)&e->timer, on_e2e_closed);
}

static void close_store(void *arg)
{
    e2e_t *e = arg;
    sb_store_close(e->store);
    sb_loop_closed(e->loop);
}

static void on_start(uv_timer_t *t)
{
    e2e_t *e = t->data;
    send_register(e, NULL);
    uv_timer_start(&e->timer, on_deadline, 15000, 0);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_sip_register_end_to_end(void **state)
{
    e2e_t e = {0};
    char err[256];
    sb_config_t cfg;
    sb_config_defaults(&cfg, NULL);
    e.sip_port = free_port();
    cfg.sip_listen[0] = (sb_listen_t){SB_TRANSPORT_UDP, "127.0.0.1", e.sip_port};
    cfg.sip_listen_count = 1;
    cfg.sip_min_expires = 1;
    e.cseq = 1;

    assert_int_equal(sb_store_open(tmp_path("e2e.db"), &e.store, err, sizeof err), 0);
    add_client(tmp_path("e2e.db"), "alice", "alice-pw", 1, "active");
    assert_int_equal(sb_loop_new(&e.loop), 0);
    sb_loop_add_closer(e.loop, "store", close_store, &e);

    uv_loop_t *uv = sb_loop_uv(e.loop);
    uv_udp_init(uv, &e.udp);
    uv_timer_init(uv, &e.timer);
    e.udp.data = e.timer.data = &e;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    assert_int_equal(uv_udp_bind(&e.udp, (const struct sockaddr *)&a, 0), 0);
    int alen = sizeof a;
    uv_udp_getsockname(&e.udp, (struct sockaddr *)&a, &alen);
    e.local_port = ntohs(a.sin_port);
    uv_udp_recv_start(&e.udp, on_alloc, on_recv);
    sb_loop_add_closer(e.loop, "e2e", close_e2e, &e);

    assert_int_equal(sb_sip_new(e.loop, &cfg, &e.sip, err, sizeof err), 0);
    /* Before the store is attached the location service is not ready. */
    sb_sip_contact_t *c;
    size_t n;
    assert_int_equal(sb_sip_location_lookup(e.sip, "alice", &c, &n), SB_ESTATE);
    assert_int_equal(sb_sip_registrar_start(e.sip, e.store), 0);
    uv_timer_start(&e.timer, on_start, 50, 0);

    assert_int_equal(sb_loop_run(e.loop), 0);
    assert_int_equal(sb_loop_free(e.loop), 0);
    sb_config_free(&cfg);
    if (e.failed)
        fail_msg("%s", e.why);
    assert_true(e.got_200);
    assert_int_equal(e.contacts_after_200, 2);
    assert_int_equal(e.users, 1);
    assert_int_equal(e.regs, 2);
    char want[128];
    snprintf(want, sizeof want, "sip:127.0.0.1:%d;transport=udp", e.local_port);
    assert_string_equal(e.dest, want);       /* the source address, not the URI */
    snprintf(want, sizeof want, "sip:alice@127.0.0.1:%d", e.local_port);
    assert_string_equal(e.uri, want);
    assert_int_equal(e.contacts_after_expiry, 1);
    assert_int_equal(e.rows_after_expiry, 1);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    sb_log_set_level(SB_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sip_digest_rfc7616_examples_match),
        cmocka_unit_test(test_sip_digest_parse_good_credentials),
        cmocka_unit_test(test_sip_digest_parse_malformed_is_refused),
        cmocka_unit_test(test_sip_digest_nonce_tampering_and_age),
        cmocka_unit_test(test_sip_digest_nc_replay_and_eviction),
        cmocka_unit_test(test_sip_authlim_backoff_doubles_and_forgets),
        cmocka_unit_test(test_sip_expires_rules),
        cmocka_unit_test(test_sip_store_client_auth),
        cmocka_unit_test(test_sip_store_registrations),
        cmocka_unit_test(test_sip_register_end_to_end),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
