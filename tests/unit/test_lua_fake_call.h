/*
 * test_lua_fake_call.h: a call double behind sb_lua_call_ops_t, standing in
 * for the call module (which comes with the calls issue). It counts
 * references and actions, answers after a timer, and on hangup does what
 * the call module will do: mark the Lua handle dead and cancel the call's
 * session with SB_EHANGUP.
 */
#ifndef TEST_LUA_FAKE_CALL_H
#define TEST_LUA_FAKE_CALL_H

#include <uv.h>

#include "sb_lua.h"

/* Owner: the test (embedded or static). */
typedef struct fake_call_s {
    sb_lua_t *rt;
    sb_lua_session_t *session;  /* cancelled on hangup; may be NULL */
    char sid[80];
    char status[32];            /* "ringing", "in-progress", "completed" */
    int refs;                   /* references held (Lua handles, ops) */
    int ended;
    int hangups;
    int rejects;
    int last_reject;
    int answers;
    int answer_delay_ms;
    uv_timer_t answer_timer;
    int answer_pending;
    sb_lua_call_done_cb answer_cb;
    void *answer_arg;

    /* play: completes after play_delay_ms (silence: its ms) with
     * play_result (err, http_status, why, language_fallback). */
    int plays;
    int play_cancels;
    int play_delay_ms;
    int play_pending;
    sb_call_play_result_t play_result;
    char play_why[160];
    char last_play[256];        /* "url=...", "text=...|voice|language",
                                   "tone=...", "digits=...", "silence=MS",
                                   then ";loop=N" */
    uv_timer_t play_timer;
    sb_call_play_done_cb play_cb;
    void *play_arg;
    /* prefetch: the items started, joined with ','. */
    int prefetches;
    char prefetched[512];
} fake_call_t;

extern const sb_lua_call_ops_t fake_call_ops;

/* Sets up the call (timer on loop). */
void fake_call_init(fake_call_t *c, uv_loop_t *loop, sb_lua_t *rt,
                    const char *sid);
/* The remote side hangs up: as hangup, without counting a hangup. */
void fake_call_remote_hangup(fake_call_t *c);
/* Scripts the next plays' result: err (0: success), detail why (may be
 * NULL), http status, language fallback flag. */
void fake_call_play_result(fake_call_t *c, int err, const char *why,
                           int http_status, int lang_fallback);
/* Closes the timer handles (run the loop afterwards). */
void fake_call_close(fake_call_t *c);

#endif
