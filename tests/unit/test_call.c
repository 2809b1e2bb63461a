/* test_call.c: the call module on a real reactor, without Lua: a server
 * side (SIP agent A, the call manager, a media engine, a store with one
 * number) and a phone (SIP agent B) on loopback. A C runner stands in for
 * the RCML sessions and follows a script per test:
 *   - answer: the application answers; the phone hangs up;
 *   - dial: the application dials the phone back (a <Sip> target), the
 *     phone answers and later hangs up the dialled leg, the dial reports
 *     completed, the application hangs up the caller;
 *   - busy: the dialled phone answers 486, the dial reports busy with
 *     sip_status 486, the application rejects the caller with 486;
 *   - unknown number: 404 before any application runs;
 *   - play: the application plays 300 ms of silence on the unanswered
 *     call: the play answers it and completes after the silence;
 *   - play, hang-up: a tone without end; the phone hangs up, the play
 *     completes with SB_EHANGUP;
 *   - ringback: the application answers, then dials; while the callee
 *     rings the caller's endpoint plays (the engine's clock counts it),
 *     and no longer once the callee answered.
 * Each checks the SIP events the phone saw, the runner's calls, the call
 * records and the manager's statistics. The REFER flows are tested end to
 * end in tests/integration/refer_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "call.h"
#include "call_store.h"
#include "loop.h"
#include "media.h"
#include "rows.h"
#include "sip.h"
#include "store.h"
#include "util.h"

static char tmpdir[] = "/tmp/sb_test_call_XXXXXX";
static int dbn;

static const char *OFFER =
    "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
    "t=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

typedef enum {
    S_ANSWER, S_DIAL, S_BUSY, S_UNKNOWN, S_PLAY, S_PLAY_HANGUP, S_RINGBACK
} script_t;

typedef struct fx_s {
    script_t script;
    sb_loop_t *loop;
    sb_store_t *store;
    sb_config_t cfg_a, cfg_b;
    sb_sip_t *a, *b;
    sb_media_engine_t *media;
    sb_call_mgr_t *mgr;
    uv_timer_t watchdog, step;
    int failed;
    char why[256];
    int port_a, port_b;

    /* The phone. */
    sb_sip_leg_t *caller;           /* B -> A */
    sb_sip_leg_t *callee;           /* A's dial -> B */
    int caller_progress, caller_answered, caller_ended, caller_failed;
    int callee_invites, callee_ended;

    /* The runner. */
    int starts, cancels, deads;
    char url[128];
    sb_call_t *call;                /* a reference while the script runs */
    char call_sid[SB_SID_SIZE];
    char status_at_start[32];
    sb_call_req_t *req;
    char dial_status[32];
    int dial_sip;
    int64_t dial_duration;
    char dial_sid[SB_SID_SIZE];
    int dials_done;
    sb_call_stats_t stats;

    /* Playback. */
    int plays_done;
    int play_err;
    int64_t play_started_ms, play_ms;
    char status_after_play_start[32];
    int refusals_ok;                /* synchronous refusals as documented */
    int64_t ring_playing;           /* endpoints playing while it rang */
    int64_t answer_playing;         /* ... after the callee answered */
} fx_t;

static void failf(fx_t *fx, const char *fmt, ...)
{
    if (fx->failed)
        return;
    fx->failed = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fx->why, sizeof fx->why, fmt, ap);
    va_end(ap);
    sb_loop_stop(fx->loop);
}

static void finish(fx_t *fx)
{
    sb_call_mgr_stats(fx->mgr, &fx->stats);
    sb_loop_stop(fx->loop);
}

/* ---- the phone ------------------------------------------------------------------ */

static void on_finish(uv_timer_t *t)
{
    finish(t->data);
}

/* The caller hangs up (BYE); the server gets 300 ms to take it in. */
static void on_hangup_caller(uv_timer_t *t)
{
    fx_t *fx = t->data;
    if (fx->caller) {
        sb_sip_leg_t *l = fx->caller;
        fx->caller = NULL;
        sb_sip_leg_release(l);
        fx->caller_ended++;
        uv_timer_start(&fx->step, on_finish, 300, 0);
    }
}

static void on_caller(sb_sip_leg_t *leg, const sb_sip_leg_event_t *ev, void *arg)
{
    fx_t *fx = arg;
    switch (ev->type) {
    case SB_SIP_LEG_PROGRESS:
        fx->caller_progress++;
        break;
    case SB_SIP_LEG_ANSWERED:
        fx->caller_answered++;
        if (ev->sdp == NULL || strstr(ev->sdp, "m=audio") == NULL)
            failf(fx, "the answer has no SDP");
        if (fx->script == S_ANSWER || fx->script == S_PLAY_HANGUP)
            uv_timer_start(&fx->step, on_hangup_caller, 300, 0);
        break;
    case SB_SIP_LEG_FAILED:
        fx->caller_failed = ev->status;
        sb_sip_leg_release(leg);
        fx->caller = NULL;
        finish(fx);
        break;
    case SB_SIP_LEG_ENDED:
        fx->caller_ended++;
        sb_sip_leg_release(leg);
        fx->caller = NULL;
        finish(fx);
        break;
    default:
        break;
    }
}

static void on_callee(sb_sip_leg_t *leg, const sb_sip_leg_event_t *ev, void *arg)
{
    fx_t *fx = arg;
    if (ev->type == SB_SIP_LEG_ENDED) {
        fx->callee_ended++;
        sb_sip_leg_release(leg);
        fx->callee = NULL;
    }
}

static void on_hangup_callee(uv_timer_t *t)
{
    fx_t *fx = t->data;
    if (fx->callee) {
        sb_sip_leg_t *l = fx->callee;
        fx->callee = NULL;
        sb_sip_leg_release(l);          /* BYE: the dialled party hangs up */
    }
}


static void on_ringback_answer(uv_timer_t *t)
{
    fx_t *fx = t->data;
    sb_media_clock_stats_t cs;
    sb_media_engine_clock_stats(fx->media, &cs);
    fx->ring_playing = (int64_t)cs.playing;
    if (fx->callee) {
        sb_sip_leg_respond(fx->callee, 200, NULL, OFFER, NULL, 0);
        uv_timer_start(&fx->step, on_hangup_callee, 500, 0);
    }
}

/* INVITEs reaching the phone (A's dial). */
static void on_phone_invite(sb_sip_leg_t *leg, const sb_sip_invite_info_t *in, void *arg)
{
    fx_t *fx = arg;
    fx->callee_invites++;
    if (strcmp(in->ruri_user, "carol") != 0)
        failf(fx, "the dial's Request-URI user is %s", in->ruri_user);
    if (fx->script == S_BUSY) {
        sb_sip_leg_respond(leg, 486, NULL, NULL, NULL, 0);
        sb_sip_leg_release(leg);
        return;
    }
    fx->callee = leg;
    sb_sip_leg_set_handler(leg, on_callee, fx);
    sb_sip_leg_respond(leg, 180, NULL, NULL, NULL, 0);
    if (fx->script == S_RINGBACK) {
        /* Ring a while: the caller hears ringback meanwhile. */
        uv_timer_start(&fx->step, on_ringback_answer, 400, 0);
        return;
    }
    sb_sip_leg_respond(leg, 200, NULL, OFFER, NULL, 0);
    uv_timer_start(&fx->step, on_hangup_callee, 500, 0);
}

/* ---- the runner -------------------------------------------------------------- */

static void on_answered(int err, void *arg)
{
    fx_t *fx = arg;
    fx->req = NULL;
    if (err != 0)
        failf(fx, "answer failed: %s", sb_strerror(err));
}

static void on_dialled(const sb_call_dial_result_t *r, void *arg)
{
    fx_t *fx = arg;
    fx->dials_done++;
    if (fx->script == S_RINGBACK) {
        sb_media_clock_stats_t cs;
        sb_media_engine_clock_stats(fx->media, &cs);
        fx->answer_playing = (int64_t)cs.playing;
    }
    snprintf(fx->dial_status, sizeof fx->dial_status, "%s", r->status);
    snprintf(fx->dial_sid, sizeof fx->dial_sid, "%s", r->call_sid ? r->call_sid : "");
    fx->dial_sip = r->sip_status;
    fx->dial_duration = r->duration;
    if (fx->script == S_BUSY)
        sb_call_reject(fx->call, 486);
    else
        sb_call_hangup(fx->call);
}

static void on_played(const sb_call_play_result_t *r, void *arg)
{
    fx_t *fx = arg;
    fx->plays_done++;
    fx->play_err = r->err;
    fx->play_ms = sb_time_now_ms() - fx->play_started_ms;
    if (r->err == 0 && fx->call)
        sb_call_hangup(fx->call);
}

static void start_dial(fx_t *fx, sb_call_t *call)
{
    char dest[96];
    snprintf(dest, sizeof dest, "sip:carol@127.0.0.1:%d", fx->port_b);
    sb_call_dial_target_t t = {.kind = SB_DIAL_SIP, .dest = dest};
    sb_call_dial_opts_t o = {.targets = &t, .target_count = 1, .timeout_s = 5,
                             .ring_tone = "de"};
    sb_call_dial_t *d;
    int rc = sb_call_dial(call, &o, on_dialled, fx, &d);
    if (rc != 0)
        failf(fx, "sb_call_dial: %s", sb_strerror(rc));
}

static void on_answered_dial(int err, void *arg)
{
    fx_t *fx = arg;
    fx->req = NULL;
    if (err != 0 || fx->call == NULL)
        failf(fx, "answer failed: %s", sb_strerror(err));
    else
        start_dial(fx, fx->call);
}

/* What sb_call_play refuses at once, without calling back. */
static int play_refusals(sb_call_t *call)
{
    sb_call_play_t *p = NULL;
    sb_call_play_opts_t two = {.tone = "beep", .digits = "1", .loop = 1};
    sb_call_play_opts_t none = {.loop = 1};
    sb_call_play_opts_t url = {.url = "http://127.0.0.1:1/a.wav", .loop = 1};
    sb_call_play_opts_t neg = {.tone = "beep", .loop = -1};
    return sb_call_play(call, &two, on_played, NULL, &p) == SB_EINVAL &&
           sb_call_play(call, &none, on_played, NULL, &p) == SB_EINVAL &&
           sb_call_play(call, &neg, on_played, NULL, &p) == SB_EINVAL &&
           /* No audio cache in this fixture. */
           sb_call_play(call, &url, on_played, NULL, &p) == SB_EMEDIA &&
           sb_call_prefetch(call, &url) == SB_EMEDIA &&
           sb_call_status(call) == SB_CALL_RINGING;
}

static int r_start(void *arg, sb_call_t *call, const sb_call_app_t *app)
{
    fx_t *fx = arg;
    fx->starts++;
    snprintf(fx->url, sizeof fx->url, "%s", app->url);
    sb_call_info_t ci;
    sb_call_info(call, &ci);
    snprintf(fx->status_at_start, sizeof fx->status_at_start, "%s", ci.status);
    snprintf(fx->call_sid, sizeof fx->call_sid, "%s", ci.call_sid);
    fx->call = call;
    sb_call_ref(call);
    sb_call_app_attach(call, fx);
    if (fx->script == S_ANSWER) {
        if (sb_call_answer(call, on_answered, fx, &fx->req) != 0)
            failf(fx, "sb_call_answer refused");
        return 0;
    }
    if (fx->script == S_RINGBACK) {
        if (sb_call_answer(call, on_answered_dial, fx, &fx->req) != 0)
            failf(fx, "sb_call_answer refused");
        return 0;
    }
    if (fx->script == S_PLAY || fx->script == S_PLAY_HANGUP) {
        fx->refusals_ok = play_refusals(call);
        sb_call_play_opts_t silence = {.ms = 300, .loop = 1};
        sb_call_play_opts_t tone = {.tone = "ringback:uk", .loop = 0};
        sb_call_play_t *p;
        fx->play_started_ms = sb_time_now_ms();
        int rc = sb_call_play(call, fx->script == S_PLAY ? &silence : &tone,
                              on_played, fx, &p);
        if (rc != 0)
            failf(fx, "sb_call_play: %s", sb_strerror(rc));
        sb_call_info_t ci;
        sb_call_info(call, &ci);
        snprintf(fx->status_after_play_start, sizeof fx->status_after_play_start,
                 "%s", ci.status);
        return 0;
    }
    start_dial(fx, call);
    return 0;
}

static void r_cancel(void *arg, void *session, int err)
{
    fx_t *fx = arg;
    fx->cancels++;
    if (session != fx || err != SB_EHANGUP)
        failf(fx, "cancel with the wrong session or reason");
    if (fx->call) {
        sb_call_app_done(fx->call, fx, 0);
        sb_call_unref(fx->call);
        fx->call = NULL;
    }
}

static void r_stop(void *arg, void *session)
{
    (void)arg;
    (void)session;
}

static void r_dead(void *arg, sb_call_t *call)
{
    fx_t *fx = arg;
    (void)call;
    fx->deads++;
}

static const sb_call_runner_t runner = {
    .start = r_start, .cancel = r_cancel, .stop = r_stop, .dead = r_dead,
};

/* ---- the fixture ------------------------------------------------------------------ */

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

static const sb_rows_col_t num_cols[] = {
    {"sid", SB_ROWS_TEXT},          {"account_sid", SB_ROWS_TEXT},
    {"friendly_name", SB_ROWS_TEXT}, {"phone_number", SB_ROWS_TEXT},
    {"pure_sip", SB_ROWS_INT},      {"voice_url", SB_ROWS_TEXT},
    {"date_created", SB_ROWS_INT},  {"date_updated", SB_ROWS_INT},
};
static const sb_rows_table_t numbers = {"incoming_phone_numbers", num_cols, 8};

static void closed_cb(void *arg)
{
    fx_t *fx = arg;
    sb_loop_closed(fx->loop);
}

static void close_calls(void *arg)
{
    fx_t *fx = arg;
    if (fx->call) {
        sb_call_unref(fx->call);
        fx->call = NULL;
    }
    sb_call_mgr_close(fx->mgr, closed_cb, fx);
}

static void close_media(void *arg)
{
    fx_t *fx = arg;
    sb_media_engine_close(fx->media, closed_cb, fx);
}

static void close_store(void *arg)
{
    fx_t *fx = arg;
    sb_store_close(fx->store);
    sb_loop_closed(fx->loop);
}

static void on_timer_closed(uv_handle_t *h)
{
    fx_t *fx = h->data;
    if (h == (uv_handle_t *)&fx->step)
        sb_loop_closed(fx->loop);
}

static void close_timers(void *arg)
{
    fx_t *fx = arg;
    uv_close((uv_handle_t *)&fx->watchdog, on_timer_closed);
    uv_close((uv_handle_t *)&fx->step, on_timer_closed);
}

static void on_watchdog(uv_timer_t *t)
{
    failf(t->data, "timed out");
}

static void on_go(uv_timer_t *t)
{
    fx_t *fx = t->data;
    char ruri[96];
    snprintf(ruri, sizeof ruri, "sip:%s@127.0.0.1:%d",
             fx->script == S_UNKNOWN ? "5555" : "1000", fx->port_a);
    sb_sip_invite_req_t req = {
        .request_uri = ruri, .from_user = "bob", .from_display = "Bob", .sdp = OFFER,
    };
    if (sb_sip_leg_invite(fx->b, &req, on_caller, fx, &fx->caller) != 0)
        failf(fx, "the phone cannot call");
}

static void run(fx_t *fx, script_t script)
{
    char err[256], path[300];
    memset(fx, 0, sizeof *fx);
    fx->script = script;
    fx->port_a = free_port();
    fx->port_b = free_port();
    sb_config_defaults(&fx->cfg_a, NULL);
    sb_config_defaults(&fx->cfg_b, NULL);
    fx->cfg_a.sip_listen[0] = (sb_listen_t){SB_TRANSPORT_UDP, "127.0.0.1", fx->port_a};
    fx->cfg_b.sip_listen[0] = (sb_listen_t){SB_TRANSPORT_UDP, "127.0.0.1", fx->port_b};
    fx->cfg_a.sip_listen_count = fx->cfg_b.sip_listen_count = 1;
    /* Agent B stands in for the carrier and the phones: a trusted peer,
     * so the calls it places may dial out (docs/security.md). */
    fx->cfg_a.sip_trusted[0] = (sb_netblock_t){AF_INET, {127, 0, 0, 1}, 32};
    fx->cfg_a.sip_trusted_count = 1;

    snprintf(path, sizeof path, "%s/c%d.db", tmpdir, dbn++);
    assert_int_equal(sb_store_open(path, &fx->store, err, sizeof err), 0);
    char *gen = NULL;
    assert_int_equal(sb_store_bootstrap_admin(fx->store, "c@example.com", "x-Y-z-123456",
                                              &gen), 0);
    char ac[SB_SID_SIZE];
    sb_sid_account("c@example.com", ac);
    sb_rows_val_t v[8] = {
        {1, 0, 0, "PN00000000000000000000000000000001"}, {1, 0, 0, ac},
        {1, 0, 0, "1000"}, {1, 0, 0, "1000"}, {1, 0, 1, NULL},
        {1, 0, 0, "http://127.0.0.1:1/app.xml"}, {1, 0, 1, NULL}, {1, 0, 1, NULL},
    };
    assert_int_equal(sb_rows_insert(fx->store, &numbers, v), 0);

    assert_int_equal(sb_loop_new(&fx->loop), 0);
    uv_loop_t *uv = sb_loop_uv(fx->loop);
    sb_loop_add_closer(fx->loop, "store", close_store, fx);
    uv_timer_init(uv, &fx->watchdog);
    uv_timer_init(uv, &fx->step);
    fx->watchdog.data = fx->step.data = fx;
    sb_loop_add_closer(fx->loop, "timers", close_timers, fx);
    sb_media_opts_t mo = {.port_min = 46000, .port_max = 46999};
    assert_int_equal(sb_media_engine_new(uv, &mo, NULL, &fx->media), 0);
    sb_loop_add_closer(fx->loop, "media", close_media, fx);
    assert_int_equal(sb_sip_new(fx->loop, &fx->cfg_a, &fx->a, err, sizeof err), 0);
    assert_int_equal(sb_sip_new(fx->loop, &fx->cfg_b, &fx->b, err, sizeof err), 0);
    sb_sip_set_invite_handler(fx->b, on_phone_invite, fx);
    sb_call_deps_t deps = {
        .loop = uv, .cfg = &fx->cfg_a, .store = fx->store, .sip = fx->a,
        .media = fx->media,
    };
    assert_int_equal(sb_call_mgr_new(&deps, &fx->mgr), 0);
    sb_call_mgr_set_runner(fx->mgr, &runner, fx);
    sb_loop_add_closer(fx->loop, "calls", close_calls, fx);

    uv_timer_start(&fx->watchdog, on_watchdog, 15000, 0);
    uv_timer_start(&fx->step, on_go, 50, 0);
    assert_int_equal(sb_loop_run(fx->loop), 0);
    assert_int_equal(sb_loop_free(fx->loop), 0);
    sb_config_free(&fx->cfg_a);
    sb_config_free(&fx->cfg_b);
    if (fx->failed)
        fail_msg("%s", fx->why);
}

/* Status of a call record, from a fresh store handle (the fixture's is
 * closed). */
static void record(fx_t *fx, const char *sid, char *status)
{
    char path[300], err[256];
    snprintf(path, sizeof path, "%s/c%d.db", tmpdir, dbn - 1);
    sb_store_t *st;
    assert_int_equal(sb_store_open(path, &st, err, sizeof err), 0);
    assert_int_equal(sb_store_cdr_status(st, sid, status, 32, NULL, 0), 0);
    sb_store_close(st);
    (void)fx;
}

/* ---- tests ------------------------------------------------------------------------ */

static void test_call_inbound_answered_then_caller_hangs_up(void **state)
{
    (void)state;
    fx_t fx;
    /* The phone hangs up a while after the answer. */
    run(&fx, S_ANSWER);
    assert_int_equal(fx.starts, 1);
    assert_string_equal(fx.url, "http://127.0.0.1:1/app.xml");
    assert_string_equal(fx.status_at_start, "ringing");
    assert_true(fx.caller_progress >= 1);           /* 180 Ringing */
    assert_int_equal(fx.caller_answered, 1);
    assert_int_equal(fx.cancels, 1);                /* the BYE reached the app */
    char st[32];
    record(&fx, fx.call_sid, st);
    assert_string_equal(st, "completed");
    assert_int_equal(fx.stats.total, 1);
    assert_int_equal(fx.stats.total_incoming, 1);
}

static void test_call_dial_bridges_and_reports_completed(void **state)
{
    (void)state;
    fx_t fx;
    run(&fx, S_DIAL);
    assert_int_equal(fx.callee_invites, 1);
    assert_int_equal(fx.caller_answered, 1);        /* answered with the callee */
    assert_int_equal(fx.dials_done, 1);
    assert_string_equal(fx.dial_status, "completed");
    assert_int_equal(fx.dial_sip, 200);
    assert_true(sb_sid_valid(fx.dial_sid, "CA"));
    assert_int_equal(fx.caller_ended, 1);           /* the app hung up after */
    assert_int_equal(fx.cancels, 1);
    char st[32];
    record(&fx, fx.call_sid, st);
    assert_string_equal(st, "completed");
    record(&fx, fx.dial_sid, st);
    assert_string_equal(st, "completed");
    assert_int_equal(fx.stats.total, 2);
    assert_int_equal(fx.stats.total_outgoing, 1);
    assert_int_equal(fx.stats.max_concurrent, 2);
    assert_int_equal(fx.stats.live, 0);
}

static void test_call_dial_busy_and_reject(void **state)
{
    (void)state;
    fx_t fx;
    run(&fx, S_BUSY);
    assert_int_equal(fx.dials_done, 1);
    assert_string_equal(fx.dial_status, "busy");
    assert_int_equal(fx.dial_sip, 486);
    assert_int_equal(fx.dial_duration, 0);
    assert_int_equal(fx.caller_answered, 0);
    assert_int_equal(fx.caller_failed, 486);
    char st[32];
    record(&fx, fx.call_sid, st);
    assert_string_equal(st, "busy");
    record(&fx, fx.dial_sid, st);
    assert_string_equal(st, "busy");
}

/* A play on a ringing call answers it, starts once the ACK came, and
 * completes after its 300 ms; the application then hangs up. */
static void test_call_play_answers_and_completes(void **state)
{
    (void)state;
    fx_t fx;
    run(&fx, S_PLAY);
    assert_true(fx.refusals_ok);
    assert_string_equal(fx.status_after_play_start, "in-progress");
    assert_int_equal(fx.caller_answered, 1);
    assert_int_equal(fx.plays_done, 1);
    assert_int_equal(fx.play_err, 0);
    /* The silence was played: 15 frames, of which the engine may send up
     * to 3 at once when its clock catches up. */
    if (fx.play_ms < 240 || fx.play_ms > 3000)
        fail_msg("the play took %lld ms", (long long)fx.play_ms);
    assert_int_equal(fx.caller_ended, 1);       /* hung up by the app */
    char st[32];
    record(&fx, fx.call_sid, st);
    assert_string_equal(st, "completed");
}

/* The phone hangs up during an endless tone: the play ends with
 * SB_EHANGUP, once. */
static void test_call_play_ends_with_hangup(void **state)
{
    (void)state;
    fx_t fx;
    run(&fx, S_PLAY_HANGUP);
    assert_int_equal(fx.caller_answered, 1);
    assert_int_equal(fx.plays_done, 1);
    assert_int_equal(fx.play_err, SB_EHANGUP);
    assert_true(fx.play_ms >= 250);
    assert_int_equal(fx.cancels, 1);
}

/* An answered caller hears ringback while the dial rings, and not after
 * the answer (the relay takes over). */
static void test_call_dial_plays_ringback_to_answered_caller(void **state)
{
    (void)state;
    fx_t fx;
    run(&fx, S_RINGBACK);
    assert_int_equal(fx.dials_done, 1);
    assert_string_equal(fx.dial_status, "completed");
    assert_int_equal(fx.ring_playing, 1);
    assert_int_equal(fx.answer_playing, 0);
}

static void test_call_unknown_number_is_404(void **state)
{
    (void)state;
    fx_t fx;
    run(&fx, S_UNKNOWN);
    assert_int_equal(fx.caller_failed, 404);
    assert_int_equal(fx.starts, 0);
    assert_int_equal(fx.stats.total, 0);
}

int main(void)
{
    if (mkdtemp(tmpdir) == NULL)
        return 1;
    sb_log_set_level(SB_LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_call_inbound_answered_then_caller_hangs_up),
        cmocka_unit_test(test_call_dial_bridges_and_reports_completed),
        cmocka_unit_test(test_call_dial_busy_and_reject),
        cmocka_unit_test(test_call_unknown_number_is_404),
        cmocka_unit_test(test_call_play_answers_and_completes),
        cmocka_unit_test(test_call_play_ends_with_hangup),
        cmocka_unit_test(test_call_dial_plays_ringback_to_answered_caller),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        return 1;
    return rc;
}
