/*
 * calls.c: call detail records (migration 5). One upsert per change keeps
 * the row current; the call module calls it at each status change, which
 * is a handful of writes per call. Closing the records a crash left
 * live is in dialogs.c.
 */
#include "call_store.h"
#include "store_int.h"
#include "util.h"

#include <string.h>

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static void bind_opt_int(sqlite3_stmt *st, int i, int64_t v)
{
    if (v >= 0)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

/* The quality columns of record c (written once, when the leg ends). */
static int cdr_quality(sb_store_t *store, const sb_cdr_t *c)
{
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "UPDATE calls SET codec = ?2, rtp_packets_received = ?3, rtp_packets_sent = ?4, "
        "rtp_packets_lost = ?5, jitter_us = ?6, mos_x100 = ?7 WHERE sid = ?1");
    if (st == NULL)
        return SB_ESTORE;
    bind_text(st, 1, c->sid);
    bind_text(st, 2, c->codec);
    sqlite3_bind_int64(st, 3, c->rtp_received);
    sqlite3_bind_int64(st, 4, c->rtp_sent);
    sqlite3_bind_int64(st, 5, c->rtp_lost);
    sqlite3_bind_int64(st, 6, c->jitter_us);
    sqlite3_bind_int64(st, 7, c->mos_x100);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot save the quality of call %s: %s", c->sid,
                 sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    return 0;
}

int sb_store_cdr_put(sb_store_t *store, const sb_cdr_t *c)
{
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "INSERT INTO calls (sid, parent_call_sid, account_sid, instance_id, "
        "phone_number_sid, sender, recipient, caller_name, forwarded_from, "
        "status, direction, api_version, sip_call_id, start_time, end_time, "
        "duration, ring_duration, date_created, date_updated) VALUES "
        "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
        "?16, ?17, ?18, ?19) ON CONFLICT(sid) DO UPDATE SET "
        "parent_call_sid = ?2, instance_id = ?4, phone_number_sid = ?5, "
        "sender = ?6, recipient = ?7, caller_name = ?8, forwarded_from = ?9, "
        "status = ?10, api_version = ?12, sip_call_id = ?13, start_time = ?14, "
        "end_time = ?15, duration = ?16, ring_duration = ?17, "
        "date_updated = ?19");
    if (st == NULL)
        return SB_ESTORE;
    bind_text(st, 1, c->sid);
    bind_text(st, 2, nonempty(c->parent_call_sid));
    bind_text(st, 3, c->account_sid);
    bind_text(st, 4, nonempty(c->instance_id));
    bind_text(st, 5, nonempty(c->phone_number_sid));
    bind_text(st, 6, c->from ? c->from : "");
    bind_text(st, 7, c->to ? c->to : "");
    bind_text(st, 8, c->caller_name);
    bind_text(st, 9, c->forwarded_from);
    bind_text(st, 10, c->status);
    bind_text(st, 11, c->direction);
    bind_text(st, 12, c->api_version ? c->api_version : "2012-04-24");
    bind_text(st, 13, nonempty(c->sip_call_id));
    bind_opt_int(st, 14, c->start_time > 0 ? c->start_time : -1);
    bind_opt_int(st, 15, c->end_time > 0 ? c->end_time : -1);
    bind_opt_int(st, 16, c->duration);
    bind_opt_int(st, 17, c->ring_duration);
    sqlite3_bind_int64(st, 18, c->date_created);
    sqlite3_bind_int64(st, 19, c->date_updated);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot save call %s: %s", c->sid,
                 sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    if (c->has_quality)
        return cdr_quality(store, c);
    return 0;
}

int sb_store_cdr_status(sb_store_t *store, const char *sid, char *status,
                        size_t status_len, char *to, size_t to_len)
{
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT status, recipient FROM calls WHERE sid = ?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        return rc == SQLITE_DONE ? SB_ENOENT : SB_ESTORE;
    }
    const unsigned char *t = sqlite3_column_text(st, 0);
    if (status)
        snprintf(status, status_len, "%s", t ? (const char *)t : "");
    t = sqlite3_column_text(st, 1);
    if (to)
        snprintf(to, to_len, "%s", t ? (const char *)t : "");
    sqlite3_reset(st);
    return 0;
}
