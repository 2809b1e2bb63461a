/*
 * msg_int.h: shared between the files of core/msg only: the module
 * struct, one SMS delivery, and the SMPP client's entry points (smpp.c).
 */
#ifndef SB_MSG_INT_H
#define SB_MSG_INT_H

#include "msg.h"

#include <stdint.h>

typedef struct sb__smpp_s sb__smpp_t;

/* One SMS on its way out. Owner: the module (the list m->deliveries)
 * until its final status is recorded; SMPP holds it while it is queued or
 * submitted. */
typedef struct sb__sms_s {
    struct sb_msg_s *m;
    char sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char *from, *to, *body;
    char *status_callback, *status_callback_method;
    int pending;                /* SIP MESSAGEs not answered yet */
    int finished;               /* a final status was recorded */
    sb_sip_message_t *sent[16]; /* SIP MESSAGEs in flight (NULL once
                                   answered) */
    struct sb__sms_leg_s {
        struct sb__sms_s *d;
        int i;
    } legs[16];                 /* the callback argument of each */
    int nsent;
    sb_msg_op_t *op;            /* the waiter, or NULL */
    struct sb__sms_s *next, **pprev;    /* m->deliveries */
    struct sb__sms_s *qnext;    /* SMPP queue */
    int parts_left;             /* SMPP segments not acknowledged */
    int attempts;               /* SMPP submissions */
} sb__sms_t;

/* A waiter (a Lua session, a REST request) of one message. */
struct sb_msg_op_s {
    sb_msg_sms_done_cb cb;
    sb_msg_email_done_cb ecb;
    void *arg;
};

struct sb_msg_s {
    uv_loop_t *loop;
    const sb_config_t *cfg;
    struct sb_store_s *store;
    sb_sip_t *sip;
    struct sb_http_client_s *http;
    struct sb_call_numbers_s *numbers;
    sb_msg_runner_cb runner;
    void *runner_arg;
    sb__sms_t *deliveries;
    sb__smpp_t *smpp;           /* NULL without sms.smpp_host */
    int emails;                 /* e-mails being sent */
    int closing;
    void (*close_cb)(void *);
    void *close_arg;
    uv_timer_t close_timer;
    sb_msg_stats_t stats;
};

/* sms.c: records the final (or an intermediate) status of d and POSTs
 * its status callback; a final status ("sent", "delivered", "failed",
 * "undelivered") also answers the waiter and, unless keep, frees d. */
void sb__msg_sms_status(sb__sms_t *d, const char *status, int error_code,
                        const char *error_message, int final);
/* Records the SMSC's id of d (for the delivery receipt). */
void sb__msg_sms_smsc_id(sb__sms_t *d, const char *smsc_id);
/* A delivery receipt for the message the SMSC knows as smsc_id. */
void sb__msg_sms_receipt(struct sb_msg_s *m, const char *smsc_id,
                         const char *status, int error_code);
/* An SMS received (SIP MESSAGE to a number, SMPP deliver_sm): recorded
 * and handed to the number's application. Returns 0, or SB_ENOENT when no
 * number matches to. */
int sb__msg_sms_inbound(struct sb_msg_s *m, const char *from, const char *to,
                        const char *body);

/* smpp.c */
int sb__smpp_new(struct sb_msg_s *m, sb__smpp_t **out);
/* Queues d for submit_sm (sent at once when bound; kept and retried
 * across reconnections otherwise). */
void sb__smpp_submit(sb__smpp_t *s, sb__sms_t *d);
/* Drops d from the queue (when it is finished elsewhere). */
void sb__smpp_forget(sb__smpp_t *s, sb__sms_t *d);
/* Closes the connection; cb fires once every handle is closed. */
void sb__smpp_close(sb__smpp_t *s, void (*cb)(void *), void *arg);
int sb__smpp_bound(const sb__smpp_t *s);

/* email.c: 1 while e-mails are being sent (close waits for them). */
int sb__msg_email_busy(const struct sb_msg_s *m);

#endif
