/*
 * msg.h: the messaging module (issue 19, docs/messaging.md): SMS sent
 * over REST or by <Sms>, delivered as SIP MESSAGE to every registered
 * contact of a Client, or to a number through sip.outbound_proxy, or
 * through an SMPP 3.4 SMSC (smpp.c) when sms.smpp_host is set; SMS
 * received by a number (SIP MESSAGE or SMPP deliver_sm), which runs the
 * number's SMS application through the runner set by server.c; MESSAGE
 * passed directly between two Clients of one account; and e-mail over
 * SMTP (email.c). Every message is a row of sms_messages or
 * email_messages (migration 8); every change of an SMS's status after
 * queued is POSTed to its StatusCallback.
 *
 * Sits beside call/: it uses the store, the SIP agent, the HTTP client
 * and the number matcher, and reports upward (SMS applications run in
 * Lua) through the runner callback only.
 */
#ifndef SB_MSG_H
#define SB_MSG_H

#include <stddef.h>
#include <uv.h>

#include "config.h"
#include "sip.h"
#include "util.h"

struct sb_store_s;
struct sb_http_client_s;

typedef struct sb_msg_s sb_msg_t;

/* What the module works with. Borrowed: each must outlive the module
 * (server.c closes the module before them). */
typedef struct sb_msg_deps_s {
    uv_loop_t *loop;
    const sb_config_t *cfg;
    struct sb_store_s *store;
    sb_sip_t *sip;                      /* NULL: no SIP delivery */
    struct sb_http_client_s *http;      /* status callbacks; may be NULL */
} sb_msg_deps_t;

/* Creates the module, sets the SIP agent's MESSAGE handler and, when
 * sms.smpp_host is set, starts connecting to the SMSC. Returns 0 and
 * *out (owned: sb_msg_close), or SB_E*. */
int sb_msg_new(const sb_msg_deps_t *deps, sb_msg_t **out);

/* Stops: the MESSAGE handler is removed, deliveries in flight end (their
 * callbacks fire with status "failed" and SB_ECANCELED), the SMPP
 * connection closes; cb(arg) fires once from a later loop callback, after
 * which m is freed. */
void sb_msg_close(sb_msg_t *m, void (*cb)(void *arg), void *arg);

/* ---- SMS ----------------------------------------------------------------- */

/* An SMS to send. Every pointer borrowed for the call (copied). */
typedef struct sb_msg_sms_req_s {
    const char *account_sid;    /* the owner (required) */
    const char *from;           /* a number or Client of the account */
    const char *to;             /* "client:alice", a Client login, or a number */
    const char *body;           /* UTF-8, 1..sms.max_length characters */
    const char *direction;      /* NULL: outbound-api; outbound-call,
                                   outbound-reply */
    const char *call_sid;       /* the call an <Sms> ran on, or NULL */
    const char *status_callback;        /* absolute URL or NULL */
    const char *status_callback_method; /* NULL: POST */
    const sb_sip_header_t *headers;     /* X-* to pass on, or NULL */
    size_t header_count;
} sb_msg_sms_req_t;

/* The outcome of one SMS: status "sent", "delivered", "failed" or
 * "undelivered"; error_code 0 or Twilio's 300xx. Borrowed for the call. */
typedef void (*sb_msg_sms_done_cb)(const char *sid, const char *status,
                                   int error_code, void *arg);

typedef struct sb_msg_op_s sb_msg_op_t;

/* Validates req, records it (status queued) and starts its delivery.
 * Returns 0 with the new SMS SID in sid (SB_SID_SIZE) and, when cb is
 * not NULL, *op (borrowed until cb fires or sb_msg_op_forget); cb fires
 * once with the first final status (sent or failed): later, or already
 * before this returns when the delivery fails at once (a Client that is
 * not registered, no route to numbers). On a refusal
 * returns SB_EINVAL (bad From/To/Body, message in err, nothing recorded),
 * SB_ENOENT (unknown Client), SB_EPERM (a From the account does not own),
 * SB_ETOOBIG (Body over sms.max_length), or SB_ESTORE. */
int sb_msg_sms_send(sb_msg_t *m, const sb_msg_sms_req_t *req,
                    char sid[SB_SID_SIZE], char *err, size_t errlen,
                    sb_msg_sms_done_cb cb, void *arg, sb_msg_op_t **op);

/* The waiter of op is gone: its callback will not fire (the delivery goes
 * on and is recorded). */
void sb_msg_op_forget(sb_msg_op_t *op);

/* An SMS received by a number with an application: what the runner gets.
 * Borrowed for the call. */
typedef struct sb_msg_inbound_s {
    const char *sid;            /* the SM... of the received message */
    const char *account_sid;    /* the number's owner */
    const char *from, *to, *body;
    const char *url, *method;   /* the SmsUrl (or the application's URL) */
    const char *fallback_url, *fallback_method;
} sb_msg_inbound_t;

/* Runs an SMS application (server.c: the Lua SMS interpreter). */
typedef void (*sb_msg_runner_cb)(const sb_msg_inbound_t *in, void *arg);
void sb_msg_set_runner(sb_msg_t *m, sb_msg_runner_cb cb, void *arg);

/* Counters for tests and benchmarks. */
typedef struct sb_msg_stats_s {
    long long sent, failed, received, smpp_binds, smpp_submits;
    int smpp_bound;
} sb_msg_stats_t;
void sb_msg_stats(const sb_msg_t *m, sb_msg_stats_t *out);

/* ---- e-mail --------------------------------------------------------------- */

typedef struct sb_msg_email_req_s {
    const char *account_sid;
    const char *from;           /* NULL: email.from */
    const char *to, *cc, *bcc;  /* comma-separated addresses */
    const char *subject;        /* NULL: "Restcomm Email Service" */
    const char *body;
    const char *content_type;   /* NULL: text/plain */
    const char *call_sid;       /* or NULL */
} sb_msg_email_req_t;

/* The outcome: status "sent" or "failed", error text or NULL. */
typedef void (*sb_msg_email_done_cb)(const char *sid, const char *status,
                                     const char *error, void *arg);

/* Validates, records (queued) and sends over SMTP off the loop. Returns 0
 * with the EM... SID in sid; cb (may be NULL) fires once later. Errors:
 * SB_EINVAL (message in err), SB_ESTATE (email.smtp_url not set). A
 * failure to send is recorded (status failed) and raised as a
 * Notification (code 13001 family: 12400 here) of the account. */
int sb_msg_email_send(sb_msg_t *m, const sb_msg_email_req_t *req,
                      char sid[SB_SID_SIZE], char *err, size_t errlen,
                      sb_msg_email_done_cb cb, void *arg, sb_msg_op_t **op);

#endif
