/*
 * dialogs.c: what survives a crash of the calls it was carrying
 * (migration 12, issue 23): the call_dialogs rows (per leg, what a BYE in
 * its established dialog needs) and the closing of the call records the
 * dead run left live, marked end_reason 'interrupted'. The call module
 * decides when; the SIP module sends the BYEs.
 */
#include "call_store.h"
#include "store_int.h"
#include "util.h"

#include <string.h>

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int sb_store_cdr_interrupt(sb_store_t *store, int64_t alive_at, int64_t now,
                           sb_store_cdr_live_cb each, void *arg, int64_t *n)
{
    if (n)
        *n = 0;
    if (each) {
        sqlite3_stmt *st = sb__store_prepare(
            store, "SELECT sid, status, direction FROM calls WHERE status IN "
                   "('queued', 'ringing', 'in-progress') ORDER BY date_created");
        if (st == NULL)
            return SB_ESTORE;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            each((const char *)sqlite3_column_text(st, 0),
                 (const char *)sqlite3_column_text(st, 1),
                 (const char *)sqlite3_column_text(st, 2), arg);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE)
            return SB_ESTORE;
    }
    /* SET expressions all read the row as it was. ?2: the end. */
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "UPDATE calls SET end_reason = 'interrupted', "
        "end_time = max(date_updated, ?2), "
        "duration = CASE status WHEN 'in-progress' THEN "
        "  max(0, max(date_updated, ?2) - coalesce(start_time, date_created) - "
        "  coalesce(ring_duration, 0)) ELSE 0 END, "
        "ring_duration = CASE status WHEN 'in-progress' THEN ring_duration ELSE "
        "  max(0, max(date_updated, ?2) - coalesce(start_time, date_created)) END, "
        "status = CASE WHEN status = 'in-progress' THEN 'completed' "
        "  WHEN direction LIKE 'outbound%' THEN 'no-answer' ELSE 'failed' END, "
        "date_updated = ?1 "
        "WHERE status IN ('queued', 'ringing', 'in-progress')");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, alive_at > 0 ? alive_at : 0);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot close the interrupted calls: %s",
                 sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    if (n)
        *n = sqlite3_changes(store->db);
    return 0;
}

int sb_store_dialog_put(sb_store_t *store, const sb_store_dialog_t *d, int64_t now)
{
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "INSERT OR REPLACE INTO call_dialogs (call_sid, sip_call_id, outgoing, "
        "local_party, remote_party, remote_target, route_set, local_cseq, "
        "destination, date_created) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
    if (st == NULL)
        return SB_ESTORE;
    bind_text(st, 1, d->call_sid);
    bind_text(st, 2, d->sip_call_id);
    sqlite3_bind_int(st, 3, d->outgoing ? 1 : 0);
    bind_text(st, 4, d->local);
    bind_text(st, 5, d->remote);
    bind_text(st, 6, d->remote_target);
    bind_text(st, 7, d->route_set);
    sqlite3_bind_int64(st, 8, d->local_cseq);
    bind_text(st, 9, d->dest);
    sqlite3_bind_int64(st, 10, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot save the dialog of call %s: %s", d->call_sid,
                 sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    return 0;
}

int sb_store_dialog_delete(sb_store_t *store, const char *sid)
{
    sqlite3_stmt *st =
        sb__store_prepare(store, "DELETE FROM call_dialogs WHERE call_sid = ?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot forget the dialog of call %s: %s", sid,
                 sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    return 0;
}

int sb_store_dialogs_take(sb_store_t *store, sb_store_dialog_cb each, void *arg,
                          int64_t *n)
{
    if (n)
        *n = 0;
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT call_sid, sip_call_id, outgoing, local_party, remote_party, "
               "remote_target, route_set, local_cseq, destination FROM call_dialogs "
               "ORDER BY date_created, call_sid");
    if (st == NULL)
        return SB_ESTORE;
    int rc;
    int64_t count = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        sb_store_dialog_t d = {
            .call_sid = (const char *)sqlite3_column_text(st, 0),
            .sip_call_id = (const char *)sqlite3_column_text(st, 1),
            .outgoing = sqlite3_column_int(st, 2),
            .local = (const char *)sqlite3_column_text(st, 3),
            .remote = (const char *)sqlite3_column_text(st, 4),
            .remote_target = (const char *)sqlite3_column_text(st, 5),
            .route_set = (const char *)sqlite3_column_text(st, 6),
            .local_cseq = sqlite3_column_int64(st, 7),
            .dest = (const char *)sqlite3_column_text(st, 8),
        };
        count++;
        if (each)
            each(&d, arg);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return SB_ESTORE;
    if (count > 0 && sb__store_exec(store, "DELETE FROM call_dialogs") != 0)
        return SB_ESTORE;
    if (n)
        *n = count;
    return 0;
}
