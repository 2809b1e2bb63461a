/*
 * test_http.h: helpers shared by the http unit tests (test_http*.c): a
 * per-test loop with a watchdog, and a raw TCP client for sending exact
 * bytes (malformed requests, pipelining, slow senders).
 */
#ifndef SB_TEST_HTTP_H
#define SB_TEST_HTTP_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <uv.h>

#include "http.h"
#include "util.h"

/* One loop per test. t_env_finish asserts uv_loop_close() == 0. */
typedef struct {
    uv_loop_t loop;
    uv_timer_t watchdog;
    uv_prepare_t prepare;       /* stops uv_run once the condition holds */
    int (*done)(void *arg);
    void *done_arg;
    int fired;
} t_env_t;

void t_env_init(t_env_t *env);
/* Runs the loop until *flag is non-zero; fails the test after 10 s. */
void t_run_until(t_env_t *env, const int *flag);
/* Runs the loop until done(arg) returns non-zero; fails after 10 s. */
void t_run_while(t_env_t *env, int (*done)(void *arg), void *arg);
/* Runs the loop for ms milliseconds. */
void t_run_for(t_env_t *env, int ms);
/* Closes the watchdog, runs until the loop has no handles, asserts that
 * uv_loop_close() returns 0. */
void t_env_finish(t_env_t *env);

/* Raw TCP client: connects to 127.0.0.1:port, sends what it is given,
 * collects everything received until EOF. */
typedef struct {
    uv_tcp_t tcp;
    uv_connect_t creq;
    sb_buf_t in;                /* received bytes */
    sb_buf_t pending;           /* to send once connected */
    int connected;
    int eof;                    /* EOF or error seen */
    int err;                    /* connect or read error, 0 for EOF */
    int closed;
} t_raw_t;

t_raw_t *t_raw_connect(t_env_t *env, int port);
/* The same from a local address of the loopback net (127.0.0.2, ...),
 * which the server sees as another peer; NULL: the system's choice. */
t_raw_t *t_raw_connect_from(t_env_t *env, int port, const char *from);
void t_raw_send(t_raw_t *raw, const char *data, size_t len);
void t_raw_sends(t_raw_t *raw, const char *text);
/* Closes and frees (from the close callback). */
void t_raw_close(t_raw_t *raw);
/* The same with a TCP RST instead of a FIN. */
void t_raw_reset(t_raw_t *raw);

/* Sends text on a new connection and returns owned everything received
 * until the server closes. */
char *t_raw_request(t_env_t *env, int port, const char *text);

/* Number of occurrences of needle in hay. */
int t_count(const char *hay, const char *needle);

/* Test groups (test_http_server.c, test_http_client.c). */
int t_http_server_tests(void);
int t_http_client_tests(void);

#endif
