/*
 * test_lua_fake_call.c: the call double for test_lua.c (see the header).
 */
#include "test_lua_fake_call.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static void fc_ref(void *call)
{
    ((fake_call_t *)call)->refs++;
}

static void fc_unref(void *call)
{
    fake_call_t *c = call;
    sb_assert(c->refs > 0);
    c->refs--;
}

static void fc_info(void *call, sb_rcml_call_info_t *ci)
{
    fake_call_t *c = call;
    static const sb_rcml_header_t hdrs[] = {{"X-Test", "yes"}};
    ci->call_sid = c->sid;
    ci->instance_id = "ID0";
    ci->account_sid = "AC0";
    ci->from = "bob";
    ci->to = "+15550100";
    ci->call_status = c->status;
    ci->direction = "inbound";
    ci->call_timestamp = "2024-01-01T00:00:00Z";
    ci->headers = hdrs;
    ci->header_count = 1;
}

/* What the call module does when a call ends: the handle dies first, then
 * the session's waiting request is cancelled (its Lua code sees
 * nil, "hangup"); a request outside any session just fails. */
static void end_call(fake_call_t *c)
{
    if (c->ended)
        return;
    c->ended = 1;
    snprintf(c->status, sizeof c->status, "completed");
    sb_lua_call_dead(c->rt, c);
    if (c->session)
        sb_lua_session_cancel(c->session, SB_EHANGUP);
    if (c->answer_pending) {
        uv_timer_stop(&c->answer_timer);
        c->answer_pending = 0;
        c->answer_cb(SB_EHANGUP, c->answer_arg);
    }
    if (c->play_pending) {
        sb_call_play_result_t r = {.err = SB_EHANGUP};
        uv_timer_stop(&c->play_timer);
        c->play_pending = 0;
        c->play_cb(&r, c->play_arg);
    }
}

static int fc_hangup(void *call)
{
    fake_call_t *c = call;
    if (c->ended)
        return SB_EHANGUP;
    c->hangups++;
    end_call(c);
    return 0;
}

static int fc_reject(void *call, int status)
{
    fake_call_t *c = call;
    if (c->ended)
        return SB_EHANGUP;
    if (strcmp(c->status, "ringing") != 0)
        return SB_ESTATE;
    c->rejects++;
    c->last_reject = status;
    end_call(c);
    return 0;
}

static void on_answer_timer(uv_timer_t *t)
{
    fake_call_t *c = t->data;
    c->answer_pending = 0;
    snprintf(c->status, sizeof c->status, "in-progress");
    c->answer_cb(0, c->answer_arg);
}

static int fc_answer(void *call, sb_lua_call_done_cb cb, void *arg, void **req)
{
    fake_call_t *c = call;
    if (c->ended)
        return SB_EHANGUP;
    if (c->answer_pending)
        return SB_ESTATE;
    c->answers++;
    c->answer_cb = cb;
    c->answer_arg = arg;
    c->answer_pending = 1;
    uv_timer_start(&c->answer_timer, on_answer_timer,
                   (uint64_t)c->answer_delay_ms, 0);
    *req = c;
    return 0;
}

static void fc_cancel(void *call, void *req)
{
    fake_call_t *c = call;
    if (c->answer_pending) {
        uv_timer_stop(&c->answer_timer);
        c->answer_pending = 0;
    }
}

static void on_play_timer(uv_timer_t *t)
{
    fake_call_t *c = t->data;
    c->play_pending = 0;
    sb_call_play_result_t r = c->play_result;
    r.why = c->play_why[0] ? c->play_why : NULL;
    c->play_cb(&r, c->play_arg);
}

/* As sb_call_play: refuses what it refuses, answers a ringing call. */
static int fc_play(void *call, const sb_call_play_opts_t *o,
                   sb_call_play_done_cb cb, void *arg, void **req)
{
    fake_call_t *c = call;
    if (c->ended)
        return SB_EHANGUP;
    if (c->play_pending)
        return SB_EBUSY;
    if (o->url && strncmp(o->url, "http://", 7) != 0 &&
        strncmp(o->url, "https://", 8) != 0 && strncmp(o->url, "file://", 7) != 0)
        return SB_EPERM;
    c->plays++;
    int n;
    if (o->url)
        n = snprintf(c->last_play, sizeof c->last_play, "url=%s", o->url);
    else if (o->text)
        n = snprintf(c->last_play, sizeof c->last_play, "text=%s|%s|%s", o->text,
                     o->voice ? o->voice : "-", o->language ? o->language : "-");
    else if (o->tone)
        n = snprintf(c->last_play, sizeof c->last_play, "tone=%s", o->tone);
    else if (o->digits)
        n = snprintf(c->last_play, sizeof c->last_play, "digits=%s", o->digits);
    else
        n = snprintf(c->last_play, sizeof c->last_play, "silence=%u", o->ms);
    if (n > 0 && (size_t)n < sizeof c->last_play)
        snprintf(c->last_play + n, sizeof c->last_play - (size_t)n, ";loop=%d",
                 o->loop);
    snprintf(c->status, sizeof c->status, "in-progress");
    c->play_cb = cb;
    c->play_arg = arg;
    c->play_pending = 1;
    int silence = !o->url && !o->text && !o->tone && !o->digits;
    uv_timer_start(&c->play_timer, on_play_timer,
                   silence ? o->ms : (uint64_t)c->play_delay_ms, 0);
    *req = c;
    return 0;
}

static void fc_play_cancel(void *call, void *req)
{
    fake_call_t *c = call;
    (void)req;
    c->play_cancels++;
    if (c->play_pending) {
        uv_timer_stop(&c->play_timer);
        c->play_pending = 0;
    }
}

static int fc_prefetch(void *call, const sb_call_play_opts_t *o)
{
    fake_call_t *c = call;
    const char *what = o->url ? o->url : o->text;
    if (what == NULL)
        return SB_EINVAL;
    if (o->url && strncmp(o->url, "http", 4) != 0)
        return SB_EPERM;
    size_t len = strlen(c->prefetched);
    snprintf(c->prefetched + len, sizeof c->prefetched - len, "%s%s",
             len ? "," : "", what);
    c->prefetches++;
    return 0;
}

void fake_call_play_result(fake_call_t *c, int err, const char *why,
                           int http_status, int lang_fallback)
{
    memset(&c->play_result, 0, sizeof c->play_result);
    c->play_result.err = err;
    c->play_result.http_status = http_status;
    c->play_result.language_fallback = lang_fallback;
    snprintf(c->play_why, sizeof c->play_why, "%s", why ? why : "");
}

const sb_lua_call_ops_t fake_call_ops = {
    .ref = fc_ref,
    .unref = fc_unref,
    .info = fc_info,
    .hangup = fc_hangup,
    .reject = fc_reject,
    .answer = fc_answer,
    .cancel = fc_cancel,
    .play = fc_play,
    .play_cancel = fc_play_cancel,
    .prefetch = fc_prefetch,
};

void fake_call_init(fake_call_t *c, uv_loop_t *loop, sb_lua_t *rt,
                    const char *sid)
{
    memset(c, 0, sizeof *c);
    c->rt = rt;
    snprintf(c->sid, sizeof c->sid, "%s", sid);
    snprintf(c->status, sizeof c->status, "ringing");
    c->answer_delay_ms = 10;
    uv_timer_init(loop, &c->answer_timer);
    c->answer_timer.data = c;
    c->play_delay_ms = 10;
    uv_timer_init(loop, &c->play_timer);
    c->play_timer.data = c;
}

void fake_call_remote_hangup(fake_call_t *c)
{
    end_call(c);
}

void fake_call_close(fake_call_t *c)
{
    uv_close((uv_handle_t *)&c->answer_timer, NULL);
    uv_close((uv_handle_t *)&c->play_timer, NULL);
}
