/*
 * sb_lua.h: the lua module's public header (named sb_lua.h, not lua.h, so
 * that it never shadows Lua's own <lua.h>). One lua_State per process,
 * its sandbox and limits, the coroutine scheduler, the plugin loader and
 * the C side of the host API.
 *
 * Model (DESIGN.md "The Lua side", STYLE.md 7):
 * - One coroutine per session (an RCML run on a call, later a console line).
 *   The runtime owns sessions; the caller keeps a borrowed pointer until the
 *   session's done callback fires (exactly once).
 * - sb_lua_resume is the only caller of lua_resume. Resumes requested while
 *   Lua is running (a C function called from Lua completes another
 *   session's request) are queued and run after the current one returns, so
 *   Lua is never entered re-entrantly.
 * - A primitive that waits (sleep, http.request, call:answer, ...) starts a
 *   C request, leaves an sb_lua_op_t in the session's pending slot and
 *   yields. Its completion takes the op back (sb_lua_op_finish), pushes
 *   results on the session's thread and calls sb_lua_session_resume. When
 *   the session is cancelled (the call ended) the op's cancel function runs
 *   and the coroutine gets `nil, "hangup"` (or the reason given).
 * - Limits: an instruction budget per resume (count hook; "instruction
 *   limit exceeded"), and a memory cap enforced by the state's allocator
 *   while Lua runs (the allocation fails, Lua raises "not enough memory",
 *   the session ends with SB_ENOMEM; the process goes on).
 *
 * The Lua-facing API (the plugin object, the call object, sleep,
 * http.request, the hook events) is documented in docs/plugin-api.md.
 */
#ifndef SB_LUA_H
#define SB_LUA_H

#include <stddef.h>
#include <uv.h>

#include <lua.h>

#include "call.h"
#include "rcml.h"

typedef struct sb_lua_s sb_lua_t;
typedef struct sb_lua_session_s sb_lua_session_t;
typedef struct sb_lua_op_s sb_lua_op_t;
struct sb_http_client_s;

/* ------------------------------------------------------------------------ */
/* Runtime                                                                  */
/* ------------------------------------------------------------------------ */

/* A Notification raised by Lua code (RCML fetch/parse errors, unknown
 * verbs, plugin errors). Every pointer is borrowed for the callback only;
 * any of them may be NULL except message. */
typedef struct sb_lua_notification_s {
    const char *call_sid;
    const char *account_sid;
    int code;                   /* Restcomm/Twilio error code: 12100, ... */
    int level;                  /* 0 error, 1 warning (Restcomm's Log) */
    const char *message;
    const char *url;            /* request URL that failed, if any */
    const char *method;
    const char *body;           /* response body or document, if any */
} sb_lua_notification_t;

typedef void (*sb_lua_notify_cb)(const sb_lua_notification_t *n, void *arg);
typedef void (*sb_lua_close_cb)(void *arg);

/* Options for sb_lua_new. Pointers are borrowed for the call (copied).
 * Zero fields take the default shown. */
typedef struct sb_lua_opts_s {
    size_t memory_limit;        /* bytes the state may hold: 256 MiB */
    long instruction_limit;     /* VM instructions per resume: 10,000,000 */
    long time_limit_ms;         /* wall-clock time per resume, checked
                                   every 50 VM instructions (so time spent
                                   in C functions such as string.rep
                                   counts): 2000 */
    const char *const *plugin_paths;    /* folders scanned for *.lua */
    int plugin_path_count;
    const char *plugin_options; /* a Lua table constructor, "{...}" (the
                                   config's plugins.options); NULL: "{}" */
    const char *lib_path;       /* folder holding switchboard/ (the
                                   source tree's or the install's lua/);
                                   required */
    struct sb_http_client_s *http;  /* client for http.request (borrowed;
                                   must outlive the runtime). NULL: the
                                   runtime makes its own, when the http
                                   module is built in */
    sb_lua_notify_cb notify;    /* NULL: notifications are only logged */
    void *notify_arg;
} sb_lua_opts_t;

#define SB_LUA_DEFAULT_MEMORY_LIMIT (256u * 1024 * 1024)
#define SB_LUA_DEFAULT_INSTRUCTION_LIMIT 10000000L
#define SB_LUA_DEFAULT_TIME_LIMIT_MS 2000L

/* Creates the state: standard libraries without io, os.execute, os.exit,
 * os.remove, os.rename, os.tmpname, dofile, loadfile, package.loadlib or
 * C module searchers; package.path limited to lib_path; the built-in
 * module "switchboard.core"; the plugin manager (not loaded yet: call
 * sb_lua_load_plugins). Borrows loop (must outlive the runtime).
 * Returns 0 and *out (owned: sb_lua_close), SB_EINVAL (no lib_path, bad
 * plugin_options; message in err), or SB_ENOMEM. err may be NULL. */
int sb_lua_new(uv_loop_t *loop, const sb_lua_opts_t *opts, sb_lua_t **out,
               char *err, size_t errlen);

/* Loads every plugin found under the plugin paths (each *.lua, also in
 * sub-folders; the name is the relative path without ".lua", '/' -> '.',
 * e.g. "rcml.pause"; the first path that has a name wins). A plugin that
 * fails to compile or run is logged and skipped; the others load.
 * Returns the number of plugins that failed (0 when all loaded); when err
 * is not NULL the first failure is written there. */
int sb_lua_load_plugins(sb_lua_t *rt, char *err, size_t errlen);

/* Reloads one plugin by name, or rescans every path when name is NULL
 * (new files load, deleted files unload, the rest reload). The new version
 * is compiled and run first; if that fails the old version stays loaded
 * with its registrations. Must not be called while Lua is running (from
 * Lua, use the manager: require("switchboard.plugins").default:reload()).
 * Returns 0, SB_ENOENT (no such plugin), SB_ESYNTAX (compile error) or
 * SB_EINVAL (runtime error in the new version), with the message in err. */
int sb_lua_reload(sb_lua_t *rt, const char *name, char *err, size_t errlen);

/* Returns borrowed main state (valid until sb_lua_close). Use it only
 * outside Lua execution, to push values for a session. */
lua_State *sb_lua_state(sb_lua_t *rt);
/* Returns borrowed loop given to sb_lua_new. */
uv_loop_t *sb_lua_loop(sb_lua_t *rt);

/* Bytes the state holds now. */
size_t sb_lua_memory(const sb_lua_t *rt);

/* Closes every live session (each done callback fires with SB_ECANCELED),
 * cancels their requests, closes the runtime's handles (and its own HTTP
 * client), closes the state, frees rt, then calls cb(arg) once from a
 * later loop callback. Must not be called while Lua is running. */
void sb_lua_close(sb_lua_t *rt, sb_lua_close_cb cb, void *arg);

/* The only caller of lua_resume. Resumes co with nargs values from its
 * stack, under the instruction budget and the memory cap; asserts that Lua
 * is not already running. Returns LUA_OK, LUA_YIELD or an error status (the
 * message on co's stack), and *nres as lua_resume does. Sessions and the
 * loader call it; other modules use sessions instead. */
int sb_lua_resume(sb_lua_t *rt, lua_State *co, int nargs, int *nres);

/* ------------------------------------------------------------------------ */
/* Sessions                                                                 */
/* ------------------------------------------------------------------------ */

/* Fires once when the session's coroutine ends. status: 0 (returned: its
 * results are on sb_lua_session_thread(s), exactly lua_gettop of them),
 * SB_ECANCELED (closed by sb_lua_session_close or sb_lua_close), SB_ELIMIT
 * (instruction limit), SB_ENOMEM (memory cap), SB_ESCRIPT (a Lua error) or
 * SB_ESYNTAX (the chunk given to sb_lua_session_load did not compile);
 * msg is the error text with a traceback (borrowed, for the callback) or
 * NULL; errors are already logged with the session's SID. An error status
 * means the Lua code could not finish its own failure path: the owner
 * hangs up the call. s is freed when the callback returns. */
typedef void (*sb_lua_session_done_cb)(sb_lua_session_t *s, int status,
                                       const char *msg, void *arg);

/* Creates a session: a new coroutine anchored in the registry. sid (the
 * call SID, borrowed and copied, may be NULL) prefixes every log line the
 * session's Lua code writes. Push the function and its arguments on
 * sb_lua_session_thread(s), then call sb_lua_session_start.
 * Returns 0 and *out (borrowed until done fires). */
int sb_lua_session_new(sb_lua_t *rt, const char *sid,
                       sb_lua_session_done_cb done, void *arg,
                       sb_lua_session_t **out);

/* Returns borrowed coroutine of the session (valid until done returns). */
lua_State *sb_lua_session_thread(sb_lua_session_t *s);
/* Returns borrowed SID given at creation ("" when none). */
const char *sb_lua_session_sid(const sb_lua_session_t *s);

/* Compiles len bytes of code (text only) with chunkname (borrowed; "=..."
 * or "@file") in the trusted global environment and pushes the function
 * on the session's thread. Returns 0 or SB_ESYNTAX (message in err). */
int sb_lua_session_load(sb_lua_session_t *s, const char *code, size_t len,
                        const char *chunkname, char *err, size_t errlen);

/* Pushes module[field] (require(module) in the trusted environment) on
 * the session's thread, e.g. ("switchboard.host", "run_rcml"). Returns 0,
 * or SB_ENOENT when the module cannot be loaded or the field is not a
 * function (nothing pushed; the reason is logged). */
int sb_lua_session_push_function(sb_lua_session_t *s, const char *module,
                                 const char *field);

/* Runs the function at the bottom of the session's stack with the nargs
 * values above it, until it yields on a primitive or ends. When it ends,
 * done fires before this returns. Returns 0, or SB_ESTATE when already
 * started (nothing happens). */
int sb_lua_session_start(sb_lua_session_t *s, int nargs);

/* The session's call ended (or its owner wants it to stop): marks the
 * session dead, so every later primitive returns `nil, reason` at once
 * instead of waiting; if a primitive is waiting now, its request is
 * cancelled and the coroutine is resumed with `nil, reason` (reason is
 * sb_err_reason(err), e.g. "hangup" for SB_EHANGUP). When called while the
 * session's own Lua code runs, only the mark is set. No-op after done. */
void sb_lua_session_cancel(sb_lua_session_t *s, int err);

/* Stops a session without running any more of its Lua code: cancels the
 * waiting request, closes the coroutine (lua_resetthread: pending
 * to-be-closed variables are closed), and fires done with SB_ECANCELED
 * before returning. When its Lua code is running now, the close happens as
 * soon as it yields. */
void sb_lua_session_close(sb_lua_session_t *s);

/* Returns the session whose coroutine is co, or NULL (the main thread, a
 * plugin being loaded, a user coroutine inside a session). */
sb_lua_session_t *sb_lua_session_of(lua_State *co);

/* ------------------------------------------------------------------------ */
/* Asynchronous primitives (for C code that adds a Lua function that waits) */
/* ------------------------------------------------------------------------ */

typedef void (*sb_lua_cancel_fn)(sb_lua_op_t *op);

/* Embedded at the start of a primitive's request struct. Owner: the
 * primitive's request (it frees itself: after completion, or in cancel). */
struct sb_lua_op_s {
    sb_lua_session_t *session;  /* set by sb_lua_op_yield; NULL once the
                                   op was cancelled or finished */
    sb_lua_cancel_fn cancel;    /* stops the request; after it returns the
                                   request must never touch the session */
};

/* Call from a Lua C function before starting a request. Raises a Lua error
 * when the code cannot wait here (not inside a session's own coroutine,
 * e.g. at plugin load time or inside a user coroutine). Returns 0 with *s
 * set, or the session's cancel reason (e.g. SB_EHANGUP) when the session is
 * dead: then push `nil, reason` (sb_lua_push_error) instead of waiting. */
int sb_lua_op_check(lua_State *L, sb_lua_session_t **s);

/* Stores op in the session's pending slot and yields. Use as the return
 * statement of the Lua C function: `return sb_lua_op_yield(L, s, op);`.
 * The values the coroutine sees are those pushed by the completion. */
int sb_lua_op_yield(lua_State *L, sb_lua_session_t *s, sb_lua_op_t *op);

/* Completion side: takes op out of its session's pending slot. Returns the
 * session to resume, or NULL when the op was cancelled (then just free the
 * request). */
sb_lua_session_t *sb_lua_op_finish(sb_lua_op_t *op);

/* Resumes a suspended session with the nres values pushed on its thread
 * (after sb_lua_op_finish). Safe from any callback, also while Lua runs
 * (the resume is queued). */
void sb_lua_session_resume(sb_lua_session_t *s, int nres);

/* Completes an operation that yields true or nil, reason: pushes true when
 * err is 0 (or positive), else nil and sb_err_reason(err), and resumes s as
 * sb_lua_session_resume does. */
void sb_lua_session_resume_status(sb_lua_session_t *s, int err);

/* Pushes `nil, sb_err_reason(err)` and returns 2. */
int sb_lua_push_error(lua_State *L, int err);

/* ------------------------------------------------------------------------ */
/* RCML                                                                     */
/* ------------------------------------------------------------------------ */

/* Pushes doc as a Lua table: { name = "Response", attrs = { name =
 * "value", ... }, text = "...", line = n, children = { node, ... } },
 * the verbs being root.children. Borrows doc. */
void sb_lua_push_rcml(lua_State *L, const sb_rcml_doc_t *doc);

/* Pushes params as an array of { name, value } pairs. Borrows params. */
void sb_lua_push_params(lua_State *L, const sb_rcml_params_t *params);

/* ------------------------------------------------------------------------ */
/* The call object ("sb.call" userdata)                                     */
/* ------------------------------------------------------------------------ */

/* Completion of an asynchronous call operation: err 0 or SB_E*. */
typedef void (*sb_lua_call_done_cb)(int err, void *arg);

/* What the binding needs from a call. The call module implements it (a
 * test double does in tests/unit/test_lua_fake_call.c). call is opaque. */
typedef struct sb_lua_call_ops_s {
    void (*ref)(void *call);            /* the userdata holds one ref */
    void (*unref)(void *call);
    /* Fills *ci with borrowed strings valid until the call is changed. */
    void (*info)(void *call, sb_rcml_call_info_t *ci);
    int (*hangup)(void *call);          /* 0 or SB_E*; may end the call
                                           synchronously */
    int (*reject)(void *call, int sip_status);  /* before answer only */
    /* Answers; cb fires once (never from inside answer) unless answer
     * returns an error. *req identifies the request for cancel. */
    int (*answer)(void *call, sb_lua_call_done_cb cb, void *arg, void **req);
    /* Stops an answer request: its cb must not fire afterwards. */
    void (*cancel)(void *call, void *req);
    /* Dials (call.h sb_call_dial); NULL when the call cannot dial. cb
     * fires once, later, unless dial returns an error or dial_cancel
     * runs first. */
    int (*dial)(void *call, const sb_call_dial_opts_t *opts,
                sb_call_dial_done_cb cb, void *arg, void **req);
    void (*dial_cancel)(void *call, void *req);
    /* Plays (call.h sb_call_play); NULL when the call cannot play (then
     * call:play raises and call:pause only waits). cb fires once, later,
     * unless play returns an error or play_cancel runs first. */
    int (*play)(void *call, const sb_call_play_opts_t *opts,
                sb_call_play_done_cb cb, void *arg, void **req);
    void (*play_cancel)(void *call, void *req);
    /* Starts fetching or synthesizing without playing (sb_call_prefetch):
     * 0 or SB_E*. May be NULL. */
    int (*prefetch)(void *call, const sb_call_play_opts_t *opts);
    /* Input (call.h sb_call_gather_*, sb_call_record); NULL when the
     * call cannot gather or record (the methods raise). */
    int (*gather_start)(void *call, const sb_call_gather_opts_t *opts,
                        void **g);
    void (*gather_wait)(void *call, void *g, sb_call_gather_done_cb cb,
                        void *arg);
    void (*gather_cancel)(void *call, void *g);
    int (*record)(void *call, const sb_call_record_opts_t *opts,
                  sb_call_record_done_cb cb, void *arg, void **req);
    void (*record_detach)(void *call, void *req);
    /* Conferences (call.h sb_call_conference*); NULL: cannot join. */
    int (*conference)(void *call, const sb_call_conf_opts_t *opts,
                      sb_call_conf_done_cb cb, void *arg);
    int (*conference_waiting)(void *call);
    void (*conference_leave)(void *call);
    void (*conference_detach)(void *call);
} sb_lua_call_ops_t;

/* Pushes the call's userdata (the same one for the same call pointer while
 * it lives, so handles compare equal). Takes one reference on the call
 * (ops->ref) for the userdata. ops borrowed: must be static. */
void sb_lua_call_push(sb_lua_t *rt, lua_State *L, void *call,
                      const sb_lua_call_ops_t *ops);

/* The call ended: its userdata (if any) is marked dead and drops its
 * reference now; methods then return `nil, "hangup"`, call.sid still
 * answers. Does not touch sessions: cancel those with
 * sb_lua_session_cancel. */
void sb_lua_call_dead(sb_lua_t *rt, void *call);

/* Real calls (core/call): the ops of sb_call_t, and the runner that
 * starts RCML sessions on them. server.c passes &sb_lua_call_runner with
 * the runtime as arg to sb_call_mgr_set_runner. */
extern const sb_lua_call_ops_t sb_lua_real_call_ops;
extern const sb_call_runner_t sb_lua_call_runner;

/* An application to run: what a number or a REFER points at. Borrowed. */
typedef struct sb_lua_app_s {
    const char *url;
    const char *method;             /* NULL: POST */
    const char *fallback_url;       /* may be NULL */
    const char *fallback_method;    /* NULL: POST */
    const sb_rcml_params_t *extra;  /* added to every request, or NULL */
    int timeout_ms;                 /* per fetch; 0: 10000 */
    /* The first document, already fetched (doc_body not NULL): the
     * interpreter runs it instead of requesting url. */
    int doc_status;
    const char *doc_body;
    size_t doc_len;
    const char *doc_type;           /* Content-Type or NULL */
    const char *doc_url;            /* final URL or NULL: url */
} sb_lua_app_t;

/* Pushes switchboard.host.run_rcml, the call and the app table on the
 * session's thread and starts it: the RCML interpreter runs app on call.
 * Returns what sb_lua_session_start returns, or SB_ENOENT when the
 * interpreter module is missing. */
int sb_lua_session_start_rcml(sb_lua_session_t *s, void *call,
                              const sb_lua_call_ops_t *ops,
                              const sb_lua_app_t *app);

/* ------------------------------------------------------------------------ */
/* Plugin routes                                                            */
/* ------------------------------------------------------------------------ */

/* The REST module's plugin handler (sb_api_plugin_cb): server.c passes it
 * with the runtime as arg to sb_api_use_plugins. Runs
 * switchboard.host.serve_route(req) in a session and answers pr when the
 * session ends (500 when the Lua side fails, 503 when the runtime closes
 * first). Takes pr. */
struct sb_api_plugin_req_s;
void sb_lua_serve_route(struct sb_api_plugin_req_s *pr, void *arg);

#endif
