/*
 * notifications.c: recording notifications (notify.h). One INSERT per
 * notification through a cached statement; reading them back is the REST
 * resource's business (generic row layer).
 */
#include "notify.h"
#include "store_int.h"
#include "util.h"

#include <stdarg.h>
#include <string.h>

#define MAX_TEXT (64 * 1024)

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL) {
        sqlite3_bind_null(st, i);
        return;
    }
    size_t n = strlen(s);
    if (n > MAX_TEXT) {
        /* Cut on a UTF-8 boundary. */
        n = MAX_TEXT;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    sqlite3_bind_text(st, i, s, (int)n, SQLITE_TRANSIENT);
}

int sb_notify_record(sb_store_t *store, const sb_notify_t *n, char *sid)
{
    if (n == NULL || n->account_sid == NULL || n->code <= 0)
        return SB_EINVAL;
    sqlite3_stmt *st = sb__store_prepare(
        store, "INSERT INTO notifications (sid, account_sid, call_sid, log, "
               "error_code, more_info, message_text, message_date, request_url, "
               "request_method, request_variables, response_headers, response_body, "
               "date_created, date_updated) VALUES "
               "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)");
    if (st == NULL)
        return SB_ESTORE;
    char nsid[SB_SID_SIZE], more[64];
    sb_sid_new("NO", nsid);
    snprintf(more, sizeof more, "/restcomm/errors/%d.html", n->code);
    int64_t ms = n->time_ms > 0 ? n->time_ms : sb_time_now_ms();
    sqlite3_bind_text(st, 1, nsid, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, n->account_sid, -1, SQLITE_TRANSIENT);
    bind_text(st, 3, n->call_sid);
    sqlite3_bind_int(st, 4, n->level == SB_NOTIFY_WARNING ? 1 : 0);
    sqlite3_bind_int(st, 5, n->code);
    sqlite3_bind_text(st, 6, more, -1, SQLITE_TRANSIENT);
    bind_text(st, 7, n->message);
    sqlite3_bind_int64(st, 8, ms);
    bind_text(st, 9, n->request_url);
    bind_text(st, 10, n->request_method);
    bind_text(st, 11, n->request_variables);
    bind_text(st, 12, n->response_headers);
    bind_text(st, 13, n->response_body);
    sqlite3_bind_int64(st, 14, ms / 1000);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        sb_error("store: cannot record notification %d: %s", n->code,
                 sqlite3_errmsg(store->db));
        return SB_ESTORE;
    }
    if (sid)
        memcpy(sid, nsid, SB_SID_SIZE);
    return 0;
}

int sb_notify_message(sb_store_t *store, const char *account_sid,
                      const char *call_sid, sb_notify_level_t level, int code,
                      const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sb_notify_t n = {.account_sid = account_sid, .call_sid = call_sid,
                     .level = level, .code = code, .message = msg};
    return sb_notify_record(store, &n, NULL);
}
