/*
 * recordings.c: recording rows (recording_store.h, migration 6). The call
 * module inserts one row per finished file; the REST API reads the table
 * through the generic row layer and comes here for what the media and
 * DELETE need: the file name of a recording an account owns, and the
 * deletion that hands the file name back. Files themselves are never
 * touched here (the store does no file I/O besides the database).
 *
 * File names are checked on the way in and on the way out, so a row
 * written by hand can never make the API open a path outside the
 * recordings folder.
 */
#include "recording_store.h"
#include "store_int.h"
#include "util.h"

#include <string.h>
#include <strings.h>
#include <time.h>

int sb_store_recording_name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '.')
        return 0;
    size_t n = 0;
    for (const char *p = name; *p; p++, n++) {
        char c = *p;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok || n >= SB_RECORDING_FILE_MAX)
            return 0;
    }
    /* A WAV: the MP3 made from it is "<sid>.mp3", never the source. */
    return n > 4 && strcasecmp(name + n - 4, ".wav") == 0;
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

int sb_store_recording_put(sb_store_t *store, const sb_recording_t *r)
{
    if (r == NULL || !sb_sid_valid(r->sid, "RE") || strlen(r->sid) != SB_SID_LEN ||
        !sb_sid_valid(r->account_sid, "AC") ||
        (r->channels != 0 && r->channels != 1 && r->channels != 2) ||
        (r->file_name && !sb_store_recording_name_ok(r->file_name)))
        return SB_EINVAL;
    sqlite3_stmt *st = sb__store_prepare(
        store,
        "INSERT INTO recordings (sid, account_sid, call_sid, conference_sid, "
        "api_version, duration, channels, source, status, start_time, "
        "error_code, price, price_unit, file_name, date_created, date_updated) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
        "?15, ?16)");
    if (st == NULL)
        return SB_ESTORE;
    int64_t created = r->date_created > 0 ? r->date_created : (int64_t)time(NULL);
    bind_text(st, 1, r->sid);
    bind_text(st, 2, r->account_sid);
    bind_text(st, 3, r->call_sid && *r->call_sid ? r->call_sid : NULL);
    bind_text(st, 4, r->conference_sid && *r->conference_sid ? r->conference_sid
                                                              : NULL);
    bind_text(st, 5, r->api_version ? r->api_version : "2012-04-24");
    sqlite3_bind_double(st, 6, r->duration > 0 ? r->duration : 0.0);
    sqlite3_bind_int(st, 7, r->channels ? r->channels : 1);
    bind_text(st, 8, r->source ? r->source : "RecordVerb");
    bind_text(st, 9, r->status ? r->status : "completed");
    if (r->start_time > 0)
        sqlite3_bind_int64(st, 10, r->start_time);
    else
        sqlite3_bind_null(st, 10);
    if (r->error_code != 0)
        sqlite3_bind_int(st, 11, r->error_code);
    else
        sqlite3_bind_null(st, 11);
    bind_text(st, 12, r->price);
    bind_text(st, 13, r->price_unit ? r->price_unit : "USD");
    bind_text(st, 14, r->file_name);
    sqlite3_bind_int64(st, 15, created);
    sqlite3_bind_int64(st, 16, r->date_updated > 0 ? r->date_updated : created);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return SB_EEXIST;
    sb_error("store: cannot save recording %s: %s", r->sid,
             sqlite3_errmsg(store->db));
    return SB_ESTORE;
}

/* Copies the file name of the row at st's columns (file_name, sid) into
 * file. Returns 0 or SB_EINVAL for a name that must not be served. */
static int copy_file_name(sqlite3_stmt *st, int name_col, const char *sid,
                          char *file, size_t file_len)
{
    const char *name = (const char *)sqlite3_column_text(st, name_col);
    char def[SB_SID_SIZE + 8];
    if (name == NULL) {
        snprintf(def, sizeof def, "%s.wav", sid);
        name = def;
    }
    if (!sb_store_recording_name_ok(name)) {
        sb_warn("store: recording %s has an unusable file name; not served", sid);
        return SB_EINVAL;
    }
    if (file && file_len > 0 && (size_t)snprintf(file, file_len, "%s", name) >= file_len)
        return SB_EINVAL;
    return 0;
}

int sb_store_recording_file(sb_store_t *store, const char *account_sid,
                            const char *sid, char *file, size_t file_len,
                            char *owner)
{
    if (!sb_sid_valid(sid, "RE") || strlen(sid) != SB_SID_LEN)
        return SB_EINVAL;
    sqlite3_stmt *st = sb__store_prepare(
        store, "SELECT file_name, account_sid FROM recordings WHERE sid = ?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_reset(st);
        if (rc == SQLITE_DONE)
            return SB_ENOENT;
        sb_error("store: cannot read recording %s: %s", sid, sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    const char *acc = (const char *)sqlite3_column_text(st, 1);
    if (acc == NULL || (account_sid && strcmp(acc, account_sid) != 0)) {
        sqlite3_reset(st);
        return SB_ENOENT;
    }
    if (owner)
        snprintf(owner, SB_SID_SIZE, "%s", acc);
    rc = copy_file_name(st, 0, sid, file, file_len);
    sqlite3_reset(st);
    return rc;
}

int sb_store_recording_delete(sb_store_t *store, const char *account_sid,
                              const char *sid, char *file, size_t file_len)
{
    if (!sb_sid_valid(sid, "RE") || strlen(sid) != SB_SID_LEN)
        return SB_ENOENT;
    char name[SB_RECORDING_FILE_MAX + 1];
    int rc = sb_store_recording_file(store, account_sid, sid, name, sizeof name, NULL);
    if (rc == SB_EINVAL)
        name[0] = '\0';        /* an unusable name: no file of ours to remove */
    else if (rc != 0)
        return rc;
    /* The owner was checked just above, on this same thread. */
    sqlite3_stmt *st = sb__store_prepare(store, "DELETE FROM recordings WHERE sid = ?1");
    if (st == NULL)
        return SB_ESTORE;
    sqlite3_bind_text(st, 1, sid, -1, SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot delete recording %s: %s", sid, sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    if (sqlite3_changes(store->db) == 0)
        return SB_ENOENT;
    if (file && file_len > 0)
        snprintf(file, file_len, "%s", name);
    return 0;
}
