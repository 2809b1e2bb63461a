/*
 * loop.c: the one-thread reactor joining sofia-sip and libuv (DESIGN.md,
 * "Process model"), signals and the ordered shutdown.
 *
 * su_root_run() is the outer loop. libuv's epoll fd is registered with the
 * su_root for input; when it is readable, or when our one sofia timer
 * expires, we run uv_run(UV_RUN_NOWAIT) and re-arm the timer to
 * uv_backend_timeout(): 1 ms when libuv has work pending (0), a long idle
 * interval when it has no timers (-1). The timer is re-armed only after a
 * uv_run, never from a prepoll hook (that would postpone it on every pass).
 */
#include "loop.h"
#include "util.h"

#include <signal.h>
#include <string.h>

#include <sofia-sip/su.h>
#include <sofia-sip/su_wait.h>

#define IDLE_MS 60000
#define SHUTDOWN_DEADLINE_MS 10000
#define MAX_CLOSERS 32

typedef struct {
    const char *name;
    sb_loop_close_cb cb;
    void *arg;
} closer_t;

struct sb_loop_s {
    su_root_t *root;            /* owned */
    su_timer_t *timer;          /* owned; re-armed after every uv_run */
    su_wait_t wait;             /* uv backend fd, registered with root */
    int reg_index;              /* from su_root_register, > 0 */
    uv_loop_t uv;
    uv_signal_t sig_int, sig_term, sig_hup;
    uv_timer_t deadline;        /* shutdown deadline */
    int in_uv;                  /* inside uv_run: guards sb_loop_sync */
    int stopping;
    int stopped;
    int timed_out;
    closer_t closers[MAX_CLOSERS];
    int n_closers;
    int next_closer;            /* index of the closer running now, counts down */
    sb_loop_hup_cb hup_cb;
    void *hup_arg;
};

static void on_uv_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg);

static void run_uv(sb_loop_t *loop)
{
    if (loop->in_uv)
        return;
    loop->in_uv = 1;
    uv_run(&loop->uv, UV_RUN_NOWAIT);
    loop->in_uv = 0;
    if (loop->stopped)
        return;
    int ms = uv_backend_timeout(&loop->uv);
    if (ms == 0)
        ms = 1;
    else if (ms < 0 || ms > IDLE_MS)
        ms = IDLE_MS;
    su_timer_reset(loop->timer);
    su_timer_set_interval(loop->timer, on_uv_timer, (su_timer_arg_t *)loop,
                          (su_duration_t)ms);
}

static void on_uv_timer(su_root_magic_t *magic, su_timer_t *t, su_timer_arg_t *arg)
{
    run_uv((sb_loop_t *)arg);
}

static int on_uv_readable(su_root_magic_t *magic, su_wait_t *w, su_wakeup_arg_t *arg)
{
    run_uv((sb_loop_t *)arg);
    return 0;
}

void sb_loop_sync(sb_loop_t *loop)
{
    run_uv(loop);
}

static void next_close(sb_loop_t *loop);

static void finish(sb_loop_t *loop)
{
    uv_close((uv_handle_t *)&loop->sig_int, NULL);
    uv_close((uv_handle_t *)&loop->sig_term, NULL);
    uv_close((uv_handle_t *)&loop->sig_hup, NULL);
    uv_close((uv_handle_t *)&loop->deadline, NULL);
    /* One more pass runs the close callbacks above. */
    loop->stopped = 1;
    su_root_break(loop->root);
}

static void next_close(sb_loop_t *loop)
{
    if (loop->next_closer < 0) {
        finish(loop);
        return;
    }
    closer_t *c = &loop->closers[loop->next_closer];
    sb_debug("shutdown: closing %s", c->name);
    c->cb(c->arg);
}

void sb_loop_closed(sb_loop_t *loop)
{
    if (!loop->stopping || loop->stopped || loop->next_closer < 0)
        return;
    sb_debug("shutdown: %s closed", loop->closers[loop->next_closer].name);
    loop->next_closer--;
    next_close(loop);
}

static void on_deadline(uv_timer_t *t)
{
    sb_loop_t *loop = t->data;
    if (loop->next_closer >= 0)
        sb_error("shutdown: %s did not close within %d ms",
                 loop->closers[loop->next_closer].name, SHUTDOWN_DEADLINE_MS);
    loop->timed_out = 1;
    loop->next_closer = -1;
    finish(loop);
}

void sb_loop_stop(sb_loop_t *loop)
{
    if (loop->stopping)
        return;
    loop->stopping = 1;
    sb_info("shutting down");
    uv_timer_start(&loop->deadline, on_deadline, SHUTDOWN_DEADLINE_MS, 0);
    uv_unref((uv_handle_t *)&loop->deadline);
    loop->next_closer = loop->n_closers - 1;
    next_close(loop);
}

int sb_loop_stopping(sb_loop_t *loop) { return loop->stopping; }

static void on_signal(uv_signal_t *h, int signum)
{
    sb_loop_t *loop = h->data;
    if (signum == SIGHUP) {
        if (loop->hup_cb)
            loop->hup_cb(loop->hup_arg);
        return;
    }
    if (loop->stopping) {
        sb_warn("shutdown already in progress (signal %d)", signum);
        return;
    }
    sb_info("received signal %d", signum);
    sb_loop_stop(loop);
}

int sb_loop_new(sb_loop_t **out)
{
    sb_loop_t *loop = SB_NEW(sb_loop_t);
    int rc;

    if (su_init() != 0) {
        free(loop);
        return SB_EIO;
    }
    loop->root = su_root_create(NULL);
    if (loop->root == NULL) {
        rc = SB_EIO;
        goto fail_su;
    }
    /* Before nua_create(): otherwise nua starts a thread of its own. */
    su_root_threading(loop->root, 0);

    rc = uv_loop_init(&loop->uv);
    if (rc != 0)
        goto fail_root;
    loop->uv.data = loop;

    if (su_wait_create(&loop->wait, uv_backend_fd(&loop->uv), SU_WAIT_IN) != 0) {
        rc = SB_EIO;
        goto fail_uv;
    }
    loop->reg_index = su_root_register(loop->root, &loop->wait, on_uv_readable,
                                       (su_wakeup_arg_t *)loop, 0);
    if (loop->reg_index <= 0) {
        rc = SB_EIO;
        goto fail_wait;
    }
    loop->timer = su_timer_create(su_root_task(loop->root), 0);
    if (loop->timer == NULL) {
        rc = SB_EIO;
        goto fail_reg;
    }

    uv_signal_init(&loop->uv, &loop->sig_int);
    uv_signal_init(&loop->uv, &loop->sig_term);
    uv_signal_init(&loop->uv, &loop->sig_hup);
    loop->sig_int.data = loop->sig_term.data = loop->sig_hup.data = loop;
    uv_signal_start(&loop->sig_int, on_signal, SIGINT);
    uv_signal_start(&loop->sig_term, on_signal, SIGTERM);
    uv_signal_start(&loop->sig_hup, on_signal, SIGHUP);
    /* Signal handles alone must not keep the loop alive. */
    uv_unref((uv_handle_t *)&loop->sig_int);
    uv_unref((uv_handle_t *)&loop->sig_term);
    uv_unref((uv_handle_t *)&loop->sig_hup);
    uv_timer_init(&loop->uv, &loop->deadline);
    loop->deadline.data = loop;
    signal(SIGPIPE, SIG_IGN);

    loop->next_closer = -1;
    *out = loop;
    return 0;

fail_reg:
    su_root_deregister(loop->root, loop->reg_index);
fail_wait:
    su_wait_destroy(&loop->wait);
fail_uv:
    uv_loop_close(&loop->uv);
fail_root:
    su_root_destroy(loop->root);
fail_su:
    su_deinit();
    free(loop);
    return rc;
}

uv_loop_t *sb_loop_uv(sb_loop_t *loop) { return &loop->uv; }
struct su_root_s *sb_loop_su_root(sb_loop_t *loop) { return loop->root; }

void sb_loop_add_closer(sb_loop_t *loop, const char *name, sb_loop_close_cb cb,
                        void *arg)
{
    sb_assert(loop->n_closers < MAX_CLOSERS);
    loop->closers[loop->n_closers++] = (closer_t){name, cb, arg};
}

void sb_loop_on_hup(sb_loop_t *loop, sb_loop_hup_cb cb, void *arg)
{
    loop->hup_cb = cb;
    loop->hup_arg = arg;
}

int sb_loop_run(sb_loop_t *loop)
{
    run_uv(loop);            /* arms the timer, starts pending handles */
    if (!loop->stopped)
        su_root_run(loop->root);
    return loop->timed_out ? SB_ETIMEDOUT : 0;
}

static void on_walk(uv_handle_t *h, void *arg)
{
    if (!uv_is_closing(h)) {
        sb_error("shutdown: libuv handle of type %s still open",
                 uv_handle_type_name(h->type));
        uv_close(h, NULL);
    }
}

int sb_loop_free(sb_loop_t *loop)
{
    /* Sofia lets go of libuv's epoll fd before libuv closes it. */
    su_timer_destroy(loop->timer);
    su_root_deregister(loop->root, loop->reg_index);
    /* Let pending close callbacks run. */
    uv_run(&loop->uv, UV_RUN_NOWAIT);
    int rc = uv_loop_close(&loop->uv);
    if (rc != 0) {
        /* Report and close whatever is left so the loop's memory can go;
         * the caller still gets the failure. */
        uv_walk(&loop->uv, on_walk, NULL);
        uv_run(&loop->uv, UV_RUN_NOWAIT);
        uv_loop_close(&loop->uv);
    }
    su_root_destroy(loop->root);
    su_deinit();
    free(loop);
    return rc;
}
