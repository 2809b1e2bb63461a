/*
 * lua_int.h: what the files of core/lua share and nothing outside sees:
 * the runtime and session structs and the sb__lua_* helpers.
 */
#ifndef SB_LUA_INT_H
#define SB_LUA_INT_H

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "sb_lua.h"
#include "util.h"

typedef enum {
    SESSION_NEW,                /* function pushed, never resumed */
    SESSION_READY,              /* in the ready queue */
    SESSION_RUNNING,            /* inside sb_lua_resume */
    SESSION_SUSPENDED,          /* yielded on a primitive */
    SESSION_DONE
} session_state_t;

/* Owner: the runtime (rt->sessions list); the creator holds a borrowed
 * pointer until done fires. */
struct sb_lua_session_s {
    sb_lua_t *rt;
    lua_State *co;              /* the coroutine, anchored by ref */
    int ref;                    /* luaL_ref in the registry for co; released
                                   in session_free */
    session_state_t state;
    int nargs;                  /* values to resume with when READY */
    sb_lua_op_t *pending;       /* the waiting request, or NULL */
    int dead;                   /* cancelled: primitives do not wait */
    int cancel_err;             /* SB_E* reason given to cancel */
    int close_requested;        /* close as soon as it yields */
    char sid[SB_SID_SIZE];
    sb_lua_session_done_cb done;
    void *done_arg;
    sb_lua_session_t *next_ready;
    sb_lua_session_t *prev, *next;  /* rt->sessions */
};

/* Owner: the caller of sb_lua_new (sb_lua_close). */
struct sb_lua_s {
    uv_loop_t *loop;
    lua_State *L;               /* NULL once closed */

    /* Memory: every byte the state holds goes through l_alloc. */
    size_t mem_used;
    size_t mem_limit;
    int enforce_mem;            /* 1 while Lua runs */
    int pushing;                /* C is pushing results for a resume: the
                                   cap is off (sb_lua_op_finish to
                                   sb_lua_session_resume) */

    /* Instruction budget per resume. */
    long instr_limit;
    long instr_used;
    int instr_step;             /* count hook period */
    int instr_tripped;          /* the budget (1) or the time (2) ran out
                                   in this resume */
    long instr_grace;           /* library instructions left after that */
    uint64_t time_limit_ns;     /* per resume */
    uint64_t deadline_ns;       /* of the current resume (monotonic) */

    int running;                /* inside lua_resume or a thread reset */
    int draining;               /* the ready queue is being run */

    sb_lua_session_t *sessions; /* every live session */
    sb_lua_session_t *ready_head, *ready_tail;

    struct sb_http_client_s *http;  /* borrowed or owned (own_http) */
    int own_http;
    sb_lua_notify_cb notify;
    void *notify_arg;

    char **plugin_paths;        /* owned copies */
    int plugin_path_count;
    char *plugin_options;       /* owned */
    char *lib_path;             /* owned */

    int handles;                /* open uv handles of primitives */
    int closing;
    sb_lua_close_cb close_cb;
    void *close_arg;
    uv_timer_t close_timer;     /* the deferred close callback */
};

/* C code that pushes onto a thread other than the running one (or onto
 * the main thread) while Lua runs must not hit the memory cap: the error
 * would be raised outside any protected call. Bracket it with these. */
#define SB_LUA_UNCAPPED_BEGIN(rt)                                           \
    int sb_saved_enforce_ = (rt)->enforce_mem;                              \
    (rt)->enforce_mem = 0
#define SB_LUA_UNCAPPED_END(rt) ((rt)->enforce_mem = sb_saved_enforce_)

/* Returns the runtime of any thread of the state. */
sb_lua_t *sb__lua_runtime(lua_State *L);

/* Runs the function and nargs arguments on rt->L in a fresh coroutine
 * through sb_lua_resume (so under the limits); a yield is an error. On
 * success leaves nres results on rt->L (LUA_MULTRET for all) and returns
 * 0; otherwise pops the function and arguments, writes the message (with
 * a traceback) into err and returns SB_EINVAL, SB_ELIMIT or SB_ENOMEM.
 * Runs the ready queue afterwards. Not while Lua runs. */
int sb__lua_call(sb_lua_t *rt, int nargs, int nres, char *err,
                 size_t errlen);

/* Runs the ready queue unless Lua is already running or draining. */
void sb__lua_drain(sb_lua_t *rt);

/* Closes a coroutine's pending to-be-closed variables and frees its stack
 * (lua_resetthread) under the running flag. */
void sb__lua_reset_thread(sb_lua_t *rt, lua_State *co);

/* Starts a timer op of ms milliseconds for s (which must be suspended or
 * about to yield); when it fires the coroutine is resumed with nres_true
 * values: `true` when 1, nothing when 0. Sets s->pending. */
void sb__lua_sleep_start(sb_lua_session_t *s, uint64_t ms, int push_true);

/* A handle of the runtime was opened / has closed. */
void sb__lua_handle_open(sb_lua_t *rt);
void sb__lua_handle_closed(sb_lua_t *rt);

/* Library openers (one per lua_api_*.c). Each leaves the stack as found. */
void sb__lua_inject_core(lua_State *L);     /* fills the table at -1 */
void sb__lua_inject_rcml(lua_State *L);     /* fills the table at -1 */
void sb__lua_inject_http(lua_State *L);     /* fills the table at -1 */
void sb__lua_inject_call(lua_State *L);     /* registers "sb.call" */
void sb__lua_inject_input(lua_State *L);    /* registers "sb.gather" */

/* Creates the runtime's own HTTP client when none was given. Returns 0 or
 * an error (http.request then answers nil, "network"). */
int sb__lua_http_init(sb_lua_t *rt);
/* Closes the own client; calls sb__lua_handle_closed when done. Returns 1
 * when a close is under way, 0 when there was nothing to close. */
int sb__lua_http_close(sb_lua_t *rt);

/* The call binding: fills *ci for a userdata at idx, returns 0 or
 * SB_EHANGUP when the call is dead. */
int sb__lua_call_info(lua_State *L, int idx, sb_rcml_call_info_t *ci);
/* The call of the sb.call userdata at idx (raises when it is not one) and
 * its ops, or NULL when the call is dead. */
void *sb__lua_call_get(lua_State *L, int idx, const sb_lua_call_ops_t **ops);
/* call:dial{...}, call:redirect{...}, call:unbridge(), call:bridge(other)
 * (lua_api_dial.c). */
int sb__lua_call_dial(lua_State *L);
/* lua_api_input.c: call:gather, call:record */
int sb__lua_call_gather(lua_State *L);
int sb__lua_call_record(lua_State *L);
/* lua_api_conf.c: call:conference */
int sb__lua_call_conference(lua_State *L);
void sb__lua_inject_conference(lua_State *L);   /* "sb.conference" */
int sb__lua_call_redirect(lua_State *L);
int sb__lua_call_unbridge(lua_State *L);
int sb__lua_call_bridge(lua_State *L);
/* The runner's refer: runs the "refer" hooks on a REFER (lua_api_refer.c). */
int sb__lua_refer_run(void *arg, sb_call_refer_t *refer);
/* lua_api_conf.c: the runner's conf_event (the conference hooks). */
void sb__lua_conf_event(void *arg, const sb_call_conf_event_t *ev);
/* Registers the "sb.refer" metatable (lua_api_refer.c). */
void sb__lua_inject_refer(lua_State *L);

#endif
