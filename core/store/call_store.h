/*
 * call_store.h: call detail records (migration 5, the calls table), as
 * the call module writes them: one row per call leg, written when the leg
 * starts and rewritten at each change of status. The REST API reads the
 * same table through the generic row layer (rows.h).
 *
 * Times are seconds since the epoch. No SQL or sqlite type crosses this
 * header.
 */
#ifndef SB_CALL_STORE_H
#define SB_CALL_STORE_H

#include <stdint.h>

#include "store.h"

/* One record. For sb_store_cdr_put every string is borrowed for the call;
 * NULL strings are stored as SQL NULL (from/to as ""). Times and durations
 * below 0 are stored as NULL. */
typedef struct sb_cdr_s {
    const char *sid;
    const char *parent_call_sid;
    const char *account_sid;
    const char *instance_id;
    const char *phone_number_sid;
    const char *from;
    const char *to;
    const char *caller_name;
    const char *forwarded_from;
    const char *status;         /* queued, ringing, in-progress, completed,
                                   busy, failed, no-answer, canceled */
    const char *direction;      /* inbound, outbound-dial, outbound-api */
    const char *api_version;    /* NULL: 2012-04-24 */
    const char *sip_call_id;
    int64_t start_time;
    int64_t end_time;
    int64_t duration;
    int64_t ring_duration;
    int64_t date_created;
    int64_t date_updated;
    /* Quality (stored only when has_quality): see migration 0009. */
    int has_quality;
    const char *codec;          /* "PCMU", "PCMA" */
    int64_t rtp_received, rtp_sent, rtp_lost;
    int64_t jitter_us;
    int64_t mos_x100;           /* MOS times 100 */
} sb_cdr_t;

/* Inserts the record, or updates every field but sid, account_sid,
 * direction and date_created when sid exists. Returns 0 or SB_ESTORE. */
int sb_store_cdr_put(sb_store_t *store, const sb_cdr_t *c);

/* Reads the status (and the To) of record sid into out buffers (either
 * may be NULL). Returns 0, SB_ENOENT or SB_ESTORE. */
int sb_store_cdr_status(sb_store_t *store, const char *sid, char *status,
                        size_t status_len, char *to, size_t to_len);

/* ---- after a crash (dialogs.c, migration 12, issue 23) ------------------ */

/* One record left live, as sb_store_cdr_interrupt reports it before
 * closing it. Borrowed for the callback. */
typedef void (*sb_store_cdr_live_cb)(const char *sid, const char *status,
                                     const char *direction, void *arg);

/* Closes the records the previous run left live (queued, ringing,
 * in-progress) with end_reason 'interrupted': in-progress becomes
 * completed with the talk time up to alive_at (the last moment that run
 * was known alive, or 0 when unknown), an outbound ringing or queued leg
 * no-answer, anything else failed; end_time is alive_at (never before
 * the record's last update). each (may be NULL) sees every record first.
 * *n (may be NULL) gets how many were closed. Returns 0 or SB_ESTORE. */
int sb_store_cdr_interrupt(sb_store_t *store, int64_t alive_at, int64_t now,
                           sb_store_cdr_live_cb each, void *arg, int64_t *n);

/* What a BYE in an established INVITE dialog needs (sip.h's
 * sb_sip_dialog_t, as stored). Strings borrowed (put) or borrowed for the
 * callback (take). */
typedef struct sb_store_dialog_s {
    const char *call_sid;
    const char *sip_call_id;
    int outgoing;
    const char *local, *remote, *remote_target;
    const char *route_set;      /* may be NULL */
    int64_t local_cseq;
    const char *dest;           /* may be NULL */
} sb_store_dialog_t;

/* Saves (or replaces) the dialog of call leg d->call_sid. Returns 0 or
 * SB_ESTORE. */
int sb_store_dialog_put(sb_store_t *store, const sb_store_dialog_t *d, int64_t now);
/* Forgets the dialog of call leg sid (none is fine). Returns 0 or
 * SB_ESTORE. */
int sb_store_dialog_delete(sb_store_t *store, const char *sid);

typedef void (*sb_store_dialog_cb)(const sb_store_dialog_t *d, void *arg);
/* Calls each for every stored dialog, oldest first, then deletes them
 * all. *n (may be NULL) gets the count. Returns 0 or SB_ESTORE. */
int sb_store_dialogs_take(sb_store_t *store, sb_store_dialog_cb each, void *arg,
                          int64_t *n);

#endif
