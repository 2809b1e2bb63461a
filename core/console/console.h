/*
 * console.h: the console module: a Unix-socket server inside the running
 * server that evaluates operator Lua in the live state, and the client
 * behind `switchboard console` (libedit line editing).
 *
 * Model:
 * - The server listens on cfg->console_socket with mode 0600, owned by the
 *   server's user. Anyone who can connect is the operator: a console runs
 *   in the server's full Lua state (require, debug, _G), NOT in the plugin
 *   sandbox. The peer's uid is checked too (the server's uid or root).
 * - Every request to evaluate code is its own Lua session (a coroutine in
 *   core/lua), so a console line may wait (sleep, http.request,
 *   call:hangup) while the server goes on; the instruction limit applies
 *   to each resume, so a busy loop is stopped, never the server. Cancel
 *   (Ctrl-C) closes the session; a console that disconnects has its
 *   sessions closed. Several consoles may be connected at once, each with
 *   its own global environment (lua/switchboard/console.lua).
 * - Helpers over other subsystems (calls, registrations, numbers, SIP
 *   trace, call counters) come through sb_con_hooks_t, filled in by the
 *   composition root, so this module never includes call/ or sip/
 *   headers. A NULL hook means "not in this build yet"; the console says
 *   so and shows no made-up data.
 *
 * Wire protocol (version 1). Both directions send frames: a 4-byte
 * big-endian length N, then N bytes of one UTF-8 JSON object. A request
 * frame is at most SB_CON_MAX_REQUEST bytes, a reply frame at most
 * SB_CON_MAX_FRAME; a peer that sends a bad frame gets an "error" message
 * and is disconnected.
 *
 *   server -> client on connect:
 *     {"op":"hello","protocol":1,"version":"0.1.0","pid":123}
 *   client -> server:
 *     {"op":"eval","id":N,"code":"...","interactive":true|false,
 *      "chunk":"console"}       evaluate; one at a time per connection.
 *                                 interactive: an incomplete chunk answers
 *                                 "incomplete" instead of an error.
 *                                 chunk: the chunk name in messages.
 *     {"op":"complete","id":N,"text":"string.fo"}   completion candidates
 *     {"op":"cancel"}            stop the running eval (if any)
 *   server -> client:
 *     {"op":"output","id":N,"stream":"stdout"|"stderr","text":"..."}
 *                                 print() output of eval N, as it happens
 *     {"op":"result","id":N,"status":S,"text":"..."}   eval N ended; S is
 *                                 "ok" (text: the results, pretty-printed,
 *                                 "" for none), "error" (text: message and
 *                                 traceback), "incomplete", or "canceled"
 *     {"op":"completions","id":N,"items":["string.format", ...]}
 *     {"op":"error","text":"..."}  protocol error; the server then closes
 * Text that is not valid UTF-8 is sent with each bad byte replaced by
 * U+FFFD. Unknown fields are ignored, so the protocol can grow.
 */
#ifndef SB_CONSOLE_H
#define SB_CONSOLE_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <lua.h>

#include "sb_lua.h"

#define SB_CON_PROTOCOL 1
#define SB_CON_MAX_REQUEST (4u * 1024 * 1024)
#define SB_CON_MAX_FRAME (16u * 1024 * 1024)
#define SB_CON_MAX_CLIENTS 32

typedef struct sb_con_s sb_con_t;
typedef struct sb_con_rows_s sb_con_rows_t;
typedef void (*sb_con_close_cb)(void *arg);

/* ------------------------------------------------------------------------ */
/* Hooks: what the console shows of other subsystems                        */
/* ------------------------------------------------------------------------ */

/* A listing a hook fills: rows of named fields (column order is the order
 * of first appearance). Owned by the console; strings are copied. */
void sb_con_rows_add(sb_con_rows_t *r);     /* starts the next row */
void sb_con_rows_str(sb_con_rows_t *r, const char *name, const char *value);
void sb_con_rows_int(sb_con_rows_t *r, const char *name, int64_t value);

/* Every hook runs on the loop thread while a console's Lua code runs: it
 * must not block, call into Lua (except `call`, which only pushes) or
 * yield. Each gets its own arg. A NULL hook makes its helper say "not
 * available yet". Hooks return 0 or SB_E* (the reason is shown). */
typedef int (*sb_con_list_fn)(void *arg, sb_con_rows_t *out);
typedef int (*sb_con_call_fn)(void *arg, lua_State *L, const char *sid);
typedef int (*sb_con_toggle_fn)(void *arg, int on);
typedef int (*sb_con_counts_fn)(void *arg, int64_t *a, int64_t *b);

typedef struct sb_con_hooks_s {
    /* calls(): sid, from, to, direction, state, duration, legs. */
    sb_con_list_fn calls;
    void *calls_arg;
    /* call(sid): pushes the call object on L and returns 1, returns 0
     * (nothing pushed) when there is no such live call, or SB_E*. */
    sb_con_call_fn call;
    void *call_arg;
    /* conferences(): sid, name, account_sid, members, muted, started,
     * recording. */
    sb_con_list_fn conferences;
    void *conferences_arg;
    /* registrations(): login, contact, source, user_agent, expires_in. */
    sb_con_list_fn registrations;
    void *registrations_arg;
    /* numbers(): number, friendly_name, voice, account_sid, sid. */
    sb_con_list_fn numbers;
    void *numbers_arg;
    /* sip.trace(on): returns the previous state (0 or 1) or SB_E*. */
    sb_con_toggle_fn sip_trace;
    void *sip_trace_arg;
    /* stats(): calls up now (a) and since start (b). */
    sb_con_counts_fn call_counts;
    void *call_counts_arg;
    /* stats(): logins registered (a) and their contacts (b). */
    sb_con_counts_fn registered;
    void *registered_arg;
} sb_con_hooks_t;

struct sb_store_s;
/* Fills the registrations and registered hooks (and their args) from the
 * store's registrations table, the registrar's location service, and the
 * numbers hook from its incoming_phone_numbers table. Other hooks are
 * left as they are. store is borrowed and must outlive the
 * console. */
void sb_con_hooks_from_store(sb_con_hooks_t *hooks, struct sb_store_s *store);

/* ------------------------------------------------------------------------ */
/* Server                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct sb_con_opts_s {
    const char *path;               /* socket path (< 108 bytes); required */
    sb_lua_t *lua;                  /* runtime the consoles run in; must
                                       outlive the console (close the
                                       console first) */
    const sb_con_hooks_t *hooks;    /* copied; NULL: none */
    int64_t started_ms;             /* server start (sb_time_now_ms) for
                                       stats().uptime; 0: now */
} sb_con_opts_t;

/* Creates the console server and starts listening. When path exists and
 * is not a socket, refuses (the file is left alone); when it is a socket
 * another process still accepts on, refuses; a stale socket is removed.
 * The socket is created with mode 0600. Registers the Lua module
 * "switchboard.console.host" in opts->lua (call it while Lua is not
 * running). Borrows loop and opts' pointers (path is copied).
 * Returns 0 and *out (owned: sb_con_close), SB_EEXIST (not a socket, or
 * in use), SB_EINVAL (bad options) or a UV error, with one line in err. */
int sb_con_new(uv_loop_t *loop, const sb_con_opts_t *opts, sb_con_t **out,
               char *err, size_t errlen);

/* Number of consoles connected now. */
int sb_con_clients(const sb_con_t *con);

/* Stops listening, closes every session of every console (their results
 * are not sent), disconnects them, removes the socket file (when it is
 * still the one this server made), frees con and calls cb(arg) from a
 * later loop callback. Call it before closing the Lua runtime and not
 * while Lua runs. */
void sb_con_close(sb_con_t *con, sb_con_close_cb cb, void *arg);

/* ------------------------------------------------------------------------ */
/* Client (`switchboard console`)                                           */
/* ------------------------------------------------------------------------ */

/* Exit status of sb_con_client_run (main.c adds 2 usage, 3 config). */
#define SB_CON_EXIT_OK 0
#define SB_CON_EXIT_ERROR 1         /* code raised, did not compile, or
                                       was cancelled */
#define SB_CON_EXIT_CONNECT 4       /* no server on the socket, or the
                                       connection was lost */

typedef struct sb_con_client_opts_s {
    const char *path;               /* socket path; borrowed */
    const char *const *codes;       /* -e chunks, run in order; borrowed */
    int ncodes;
    const char *history;            /* NULL: $HOME/.switchboard_history */
} sb_con_client_opts_t;

/* Connects and runs: each -e chunk in order (stops at the first error);
 * else, when stdin is not a terminal, all of stdin as one chunk; else an
 * interactive session (libedit: history, Tab completion, multi-line
 * input, Ctrl-C cancels the line or the running command, Ctrl-D leaves).
 * Results go to stdout, errors to stderr. Returns an SB_CON_EXIT_* code. */
int sb_con_client_run(const sb_con_client_opts_t *opts);

#endif
