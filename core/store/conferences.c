/*
 * conferences.c: conference and participant rows (conference_store.h,
 * migration 7). The call module's rooms upsert them as things happen; the
 * REST API reads both tables through the generic row layer and comes
 * here for the rows its live actions change: a conference ended, a
 * participant muted, held or kicked. Start-up recovery closes what a
 * previous run left open.
 *
 * Every write checks its SIDs, so a bad caller gets SB_EINVAL instead of
 * a row the REST API could never address. A completed conference is
 * final: no later write reopens it or changes why it ended.
 */
#include "conference_store.h"
#include "rows.h"
#include "store_int.h"
#include "util.h"

#include <string.h>
#include <time.h>

static int conf_sid_ok(const char *s)
{
    return sb_sid_valid(s, "CF") && strlen(s) == SB_SID_LEN;
}

static int account_ok(const char *s)
{
    return sb_sid_valid(s, "AC") && strlen(s) == SB_SID_LEN;
}

static int conf_status_ok(const char *s)
{
    return strcmp(s, "init") == 0 || strcmp(s, "in-progress") == 0 ||
           strcmp(s, "completed") == 0;
}

static int part_status_ok(const char *s)
{
    return strcmp(s, "connected") == 0 || strcmp(s, "completed") == 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s && *s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static int64_t now_or(int64_t t)
{
    return t > 0 ? t : (int64_t)time(NULL);
}

/* Steps st (a write) and resets it. Returns 0 or SB_ESTORE after
 * logging what failed. */
static int run(sb_store_t *store, sqlite3_stmt *st, const char *what,
               const char *sid)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    sb_error("store: cannot %s %s: %s", what, sid, sqlite3_errmsg(store->db));
    return SB_ESTORE;
}

/* ---- conferences ---------------------------------------------------------- */

int sb_store_conference_put(sb_store_t *store, const sb_conference_t *c)
{
    if (c == NULL || !conf_sid_ok(c->sid) || !account_ok(c->account_sid) ||
        c->friendly_name == NULL || c->friendly_name[0] == '\0' ||
        strlen(c->friendly_name) > SB_CONFERENCE_NAME_MAX ||
        (c->status && !conf_status_ok(c->status)) ||
        (c->call_sid_ending_conference && *c->call_sid_ending_conference &&
         !sb_sid_valid(c->call_sid_ending_conference, "CA")))
        return SB_EINVAL;
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "INSERT INTO conferences (sid, account_sid, friendly_name, status, "
        "api_version, reason_conference_ended, call_sid_ending_conference, "
        "date_created, date_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
        "ON CONFLICT(sid) DO UPDATE SET status = ?4, "
        "reason_conference_ended = ?6, call_sid_ending_conference = ?7, "
        "date_updated = ?9 WHERE conferences.status <> 'completed'");
    if (st == NULL)
        return SB_ESTORE;
    int64_t now = (int64_t)time(NULL);
    bind_text(st, 1, c->sid);
    bind_text(st, 2, c->account_sid);
    bind_text(st, 3, c->friendly_name);
    bind_text(st, 4, c->status ? c->status : "init");
    bind_text(st, 5, c->api_version ? c->api_version : "2012-04-24");
    bind_text(st, 6, c->reason_conference_ended);
    bind_text(st, 7, c->call_sid_ending_conference);
    sqlite3_bind_int64(st, 8, c->date_created > 0 ? c->date_created : now);
    sqlite3_bind_int64(st, 9, c->date_updated > 0 ? c->date_updated : now);
    return run(store, st, "save conference", c->sid);
}

/* Marks the participants of conference sid still connected completed. */
static int close_members(sb_store_t *store, const char *sid, int64_t now)
{
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "UPDATE participants SET status = 'completed', date_updated = ?2 "
        "WHERE conference_sid = ?1 AND status = 'connected'");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    return run(store, st, "close the participants of", sid);
}

int sb_store_conference_end(sb_store_t *store, const char *account_sid,
                            const char *sid, const char *reason,
                            const char *call_sid, int64_t now)
{
    if (!conf_sid_ok(sid) || (account_sid && !account_ok(account_sid)) ||
        (call_sid && *call_sid && !sb_sid_valid(call_sid, "CA")))
        return SB_EINVAL;
    now = now_or(now);
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT account_sid, status FROM conferences WHERE sid = ?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return SB_ENOENT;
        sb_error("store: cannot read conference %s: %s", sid, sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    const char *acc = (const char *)sqlite3_column_text(st, 0);
    const char *status = (const char *)sqlite3_column_text(st, 1);
    int mine = acc && (account_sid == NULL || strcmp(acc, account_sid) == 0);
    int done = status && strcmp(status, "completed") == 0;
    sqlite3_reset(st);
    if (!mine)
        return SB_ENOENT;
    if (done)
        return 0;

    /* The owner and status were read just above, on this same thread. */
    if (sb_store_begin(store) != 0)
        return SB_ESTORE;
    st = sb__store_prepare(
        store,
        "UPDATE conferences SET status = 'completed', "
        "reason_conference_ended = ?2, call_sid_ending_conference = ?3, "
        "date_updated = ?4 WHERE sid = ?1 AND status <> 'completed'");
    if (st == NULL) {
        sb_store_rollback(store);
        return SB_ESTORE;
    }
    bind_text(st, 1, sid);
    bind_text(st, 2, reason);
    bind_text(st, 3, call_sid);
    sqlite3_bind_int64(st, 4, now);
    rc = run(store, st, "end conference", sid);
    if (rc == 0)
        rc = close_members(store, sid, now);
    if (rc != 0) {
        sb_store_rollback(store);
        return rc;
    }
    return sb_store_commit(store);
}

/* ---- participants --------------------------------------------------------- */

int sb_store_participant_put(sb_store_t *store, const sb_participant_t *p)
{
    if (p == NULL || !conf_sid_ok(p->conference_sid) ||
        !sb_sid_valid(p->call_sid, "CA") || !account_ok(p->account_sid) ||
        (p->status && !part_status_ok(p->status)))
        return SB_EINVAL;
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "INSERT INTO participants (conference_sid, call_sid, account_sid, muted, "
        "hold, start_conference_on_enter, end_conference_on_exit, status, "
        "date_created, date_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10) ON CONFLICT(conference_sid, call_sid) DO UPDATE SET muted = ?4, "
        "hold = ?5, start_conference_on_enter = ?6, end_conference_on_exit = ?7, "
        "status = ?8, date_updated = ?10");
    if (st == NULL)
        return SB_ESTORE;
    int64_t now = (int64_t)time(NULL);
    bind_text(st, 1, p->conference_sid);
    bind_text(st, 2, p->call_sid);
    bind_text(st, 3, p->account_sid);
    sqlite3_bind_int(st, 4, p->muted != 0);
    sqlite3_bind_int(st, 5, p->hold != 0);
    sqlite3_bind_int(st, 6, p->start_conference_on_enter != 0);
    sqlite3_bind_int(st, 7, p->end_conference_on_exit != 0);
    bind_text(st, 8, p->status ? p->status : "connected");
    sqlite3_bind_int64(st, 9, p->date_created > 0 ? p->date_created : now);
    sqlite3_bind_int64(st, 10, p->date_updated > 0 ? p->date_updated : now);
    return run(store, st, "save participant", p->call_sid);
}

int sb_store_participant_set(sb_store_t *store, const char *account_sid,
                             const char *conference_sid, const char *call_sid,
                             int muted, int hold, const char *status,
                             int64_t now)
{
    if (!conf_sid_ok(conference_sid) || !sb_sid_valid(call_sid, "CA") ||
        (account_sid && !account_ok(account_sid)) ||
        (status && !part_status_ok(status)) || muted < -1 || muted > 1 ||
        hold < -1 || hold > 1)
        return SB_EINVAL;
    /* One statement whatever is changed: -1 / NULL keep the column. */
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "UPDATE participants SET "
        "muted = CASE WHEN ?4 < 0 THEN muted ELSE ?4 END, "
        "hold = CASE WHEN ?5 < 0 THEN hold ELSE ?5 END, "
        "status = ifnull(?6, status), date_updated = ?7 "
        "WHERE conference_sid = ?1 AND call_sid = ?2 "
        "AND (?3 IS NULL OR account_sid = ?3)");
    if (st == NULL)
        return SB_ESTORE;
    bind_text(st, 1, conference_sid);
    bind_text(st, 2, call_sid);
    bind_text(st, 3, account_sid);
    sqlite3_bind_int(st, 4, muted);
    sqlite3_bind_int(st, 5, hold);
    bind_text(st, 6, status);
    sqlite3_bind_int64(st, 7, now_or(now));
    int rc = run(store, st, "update participant", call_sid);
    if (rc != 0)
        return rc;
    return sqlite3_changes(store->db) > 0 ? 0 : SB_ENOENT;
}

/* ---- recovery --------------------------------------------------------------- */

int sb_store_conference_recover(sb_store_t *store, int64_t now, int64_t *n)
{
    if (n)
        *n = 0;
    now = now_or(now);
    if (sb_store_begin(store) != 0)
        return SB_ESTORE;
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "UPDATE conferences SET status = 'completed', "
        "reason_conference_ended = '" SB_CONF_ENDED_INTERRUPTED "', "
        "date_updated = ?1 WHERE status IN ('init', 'in-progress')");
    if (st)
        sqlite3_bind_int64(st, 1, now);
    int rc = st ? run(store, st, "recover", "conferences") : SB_ESTORE;
    int64_t rooms = rc == 0 ? sqlite3_changes(store->db) : 0, members = 0;
    if (rc == 0) {
        st = sb__store_prepare(
            store, "UPDATE participants SET status = 'completed', date_updated = ?1 "
                   "WHERE status = 'connected'");
        if (st)
            sqlite3_bind_int64(st, 1, now);
        rc = st ? run(store, st, "recover", "participants") : SB_ESTORE;
        members = rc == 0 ? sqlite3_changes(store->db) : 0;
    }
    if (rc != 0) {
        sb_store_rollback(store);
        return rc;
    }
    if (sb_store_commit(store) != 0)
        return SB_ESTORE;
    if (rooms > 0 || members > 0)
        sb_info("store: closed %lld conferences and %lld participants left live "
                "by the last run", (long long)rooms, (long long)members);
    if (n)
        *n = rooms;
    return 0;
}
