/*
 * loop.h: the reactor. sofia-sip's su_root is the outermost loop; libuv is
 * embedded in it through uv_backend_fd() and one sofia timer re-armed to
 * uv_backend_timeout() after every uv_run(UV_RUN_NOWAIT). Modules above see
 * a uv_loop_t for their handles and, for sip/ only, the su_root.
 *
 * Shutdown: modules register a closer at init. SIGINT/SIGTERM (or
 * sb_loop_stop) call the closers one at a time in reverse registration
 * order; each closer starts closing its module and calls sb_loop_closed()
 * exactly once when it is done (possibly from a later callback). When the
 * last one is done the reactor stops and sb_loop_run() returns.
 */
#ifndef SB_LOOP_H
#define SB_LOOP_H

#include <uv.h>

typedef struct sb_loop_s sb_loop_t;
struct su_root_s;

typedef void (*sb_loop_close_cb)(void *arg);
typedef void (*sb_loop_hup_cb)(void *arg);

/* Creates the reactor (su_root with threading off, the uv loop, signal
 * handlers). Returns 0 and *out (owned; sb_loop_free), or a negative code. */
int sb_loop_new(sb_loop_t **out);

/* Returns borrowed pointers valid until sb_loop_free. */
uv_loop_t *sb_loop_uv(sb_loop_t *loop);
struct su_root_s *sb_loop_su_root(sb_loop_t *loop);

/* Registers a module closer (name borrowed: a string literal). */
void sb_loop_add_closer(sb_loop_t *loop, const char *name, sb_loop_close_cb cb,
                        void *arg);
/* Called by a module once its closer has finished closing everything. */
void sb_loop_closed(sb_loop_t *loop);
/* Registers the SIGHUP callback (one; the logger reopens its file). */
void sb_loop_on_hup(sb_loop_t *loop, sb_loop_hup_cb cb, void *arg);

/* Runs until shutdown completes. Returns 0, or SB_ETIMEDOUT when a module
 * did not finish closing within the shutdown deadline. */
int sb_loop_run(sb_loop_t *loop);
/* Starts the ordered shutdown, as SIGTERM does. Safe to call twice. */
void sb_loop_stop(sb_loop_t *loop);
/* Returns 1 while shutting down. */
int sb_loop_stopping(sb_loop_t *loop);

/* For code that runs inside a sofia callback (sip/ after each nua event):
 * libuv applies handle changes (new reads, polls, timers) only inside
 * uv_run, so this runs uv_run(UV_RUN_NOWAIT) and re-arms the timer. A no-op
 * when called from inside a libuv callback. */
void sb_loop_sync(sb_loop_t *loop);

/* Closes the uv loop and destroys the su_root. Returns the result of
 * uv_loop_close() (0 when every handle was closed; the open ones are
 * logged otherwise). The loop is freed either way. */
int sb_loop_free(sb_loop_t *loop);

#endif
