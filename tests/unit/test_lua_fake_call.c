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

const sb_lua_call_ops_t fake_call_ops = {
    .ref = fc_ref,
    .unref = fc_unref,
    .info = fc_info,
    .hangup = fc_hangup,
    .reject = fc_reject,
    .answer = fc_answer,
    .cancel = fc_cancel,
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
}

void fake_call_remote_hangup(fake_call_t *c)
{
    end_call(c);
}

void fake_call_close(fake_call_t *c)
{
    uv_close((uv_handle_t *)&c->answer_timer, NULL);
}
