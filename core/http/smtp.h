/*
 * smtp.h: one e-mail sent over SMTP (smtp:// or smtps://, STARTTLS when
 * the server offers it) with libcurl, on libuv's thread pool so that the
 * loop never waits on a mail server. Part of the http module, which owns
 * libcurl; the messaging module (core/msg/email.c) is its user.
 */
#ifndef SB_HTTP_SMTP_H
#define SB_HTTP_SMTP_H

#include <stddef.h>
#include <uv.h>

/* One mail. Every pointer borrowed for the call (copied). */
typedef struct sb_http_smtp_req_s {
    const char *url;            /* smtp://host:port or smtps://host:port */
    const char *user, *password;    /* NULL: no AUTH */
    const char *from;           /* envelope and header sender */
    const char *to, *cc, *bcc;  /* comma-separated; cc, bcc may be NULL */
    const char *subject;
    const char *body;
    const char *content_type;   /* NULL: text/plain; charset=UTF-8 */
    int timeout_ms;             /* 0: 30000 */
} sb_http_smtp_req_t;

/* err 0 when the server accepted the mail, else SB_ENETWORK, SB_ETIMEDOUT
 * or SB_EREJECTED (the server refused; reason has its words). reason is
 * borrowed for the callback (NULL on success). */
typedef void (*sb_http_smtp_done_cb)(int err, const char *reason, void *arg);

/* Starts sending. Returns 0 (cb fires once, later, on the loop thread) or
 * SB_EINVAL (no URL, sender or recipient; a header with CR or LF). */
int sb_http_smtp_send(uv_loop_t *loop, const sb_http_smtp_req_t *req,
                      sb_http_smtp_done_cb cb, void *arg);

#endif
