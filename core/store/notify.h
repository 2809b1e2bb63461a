/*
 * notify.h: the internal API every subsystem uses to record an error or a
 * warning as a Restcomm Notification (served by the REST API under
 * /Accounts/{AC}/Notifications and /Calls/{CA}/Notifications). Part of
 * the store module so that call/, rcml/, lua/ and sip/ can record without
 * depending on api/.
 *
 * Codes are Restcomm's (restcomm.md 2.6): 11200 HTTP retrieval failure,
 * 11100 invalid URL, 12100 document parse failure, 13xxx verb attribute
 * errors, 21402 URL not found, ... MoreInfo becomes
 * "/restcomm/errors/<code>.html" as in Restcomm's default dictionary.
 */
#ifndef SB_STORE_NOTIFY_H
#define SB_STORE_NOTIFY_H

#include <stdint.h>

#include "store.h"

typedef enum {
    SB_NOTIFY_ERROR = 0,        /* Restcomm Log 0 */
    SB_NOTIFY_WARNING = 1       /* Restcomm Log 1 */
} sb_notify_level_t;

/* Well-known codes, for readability at call sites. */
#define SB_NOTIFY_INVALID_URL       11100
#define SB_NOTIFY_HTTP_FAILURE      11200
#define SB_NOTIFY_HTTP_CONNECTION   11205
#define SB_NOTIFY_HTTP_PROTOCOL     11206
#define SB_NOTIFY_DOCUMENT_PARSE    12100
#define SB_NOTIFY_CONTENT_TYPE      12300
#define SB_NOTIFY_INTERNAL          12400
#define SB_NOTIFY_URL_NOT_FOUND     21402

/* One notification. Every pointer is borrowed for the call (copied);
 * NULL means "not known". Texts longer than 64 KiB are cut. */
typedef struct sb_notify_s {
    const char *account_sid;    /* required */
    const char *call_sid;       /* the call it concerns, or NULL */
    sb_notify_level_t level;
    int code;                   /* Restcomm error code, > 0 */
    const char *message;        /* MessageText */
    const char *request_url;    /* the request that failed */
    const char *request_method;
    const char *request_variables;  /* its parameters or body */
    const char *response_headers;
    const char *response_body;
    int64_t time_ms;            /* when; 0: now */
} sb_notify_t;

/* Records n. Returns 0 and, when sid is not NULL, the new notification's
 * SID in sid (SB_SID_SIZE); SB_EINVAL when account_sid or code is
 * missing; SB_ESTORE on a database error (also logged). */
int sb_notify_record(sb_store_t *store, const sb_notify_t *n, char *sid);

/* A shorthand: an error or warning with a printf message and nothing
 * else. Returns as sb_notify_record. */
int sb_notify_message(sb_store_t *store, const char *account_sid,
                      const char *call_sid, sb_notify_level_t level, int code,
                      const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#endif
