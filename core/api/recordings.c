/*
 * recordings.c: the Recordings resource (restcomm.md 2.7, with Twilio's
 * extra fields and filters): the rows the call module writes through
 * recording_store.h, listed per account (always paged, as Notifications)
 * and per call (Restcomm's bare list, paged only on request), one by SID,
 * and deleted with their files. A field table for the generic layer plus
 * the item handler, which also dispatches the media (RE....wav,
 * RE....mp3) to recording_media.c and decides which requests need no
 * credentials: the media, unless recordings.media_auth is set, since the
 * random 34-character SID is the capability (Restcomm serves them open).
 *
 * Isolation: every path names an account; a recording of any other
 * account is 404, as an unknown one, whoever asks.
 */
#include "api_int.h"
#include "recording_store.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* ---- rendering ------------------------------------------------------------ */

/* Duration: seconds as Restcomm writes them, Java's Double.toString for
 * the values a recording can have ("3.0", "2.5", "12.345"): the shortest
 * decimal that reads back as the stored number, with at least one digit
 * after the point. A string in both XML and JSON, as Restcomm's. */
static void render_duration(sb__api_ctx_t *ctx, sb__api_w_t *w,
                            const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    const sb_rows_val_t *v = &vals[sb__api_col(res, "duration")];
    double d = v->null || v->s == NULL ? 0.0 : strtod(v->s, NULL);
    if (!isfinite(d) || d < 0)
        d = 0;
    char num[64];
    if (d >= 1e7) {
        snprintf(num, sizeof num, "%.1f", d);
    } else {
        for (int p = 1; p <= 9; p++) {
            snprintf(num, sizeof num, "%.*f", p, d);
            if (strtod(num, NULL) == d)
                break;
        }
    }
    sb__api_w_str(w, "Duration", "duration", num, 0);
}

/* The Host header, when it is a plain host[:port] (else NULL). */
static const char *request_host(const sb__api_ctx_t *ctx)
{
    const char *h = sb_http_req_header(ctx->req, "Host");
    if (h == NULL || *h == '\0' || strlen(h) > 255)
        return NULL;
    for (const char *p = h; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
              c == '[' || c == ']'))
            return NULL;
    }
    return h;
}

/* FileUri: where the WAV is served. Restcomm resolves it against its
 * public address; we use the address the client reached us by (its Host
 * header), or the bare path when there is none. */
static void render_file_uri(sb__api_ctx_t *ctx, sb__api_w_t *w,
                            const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    const char *host = request_host(ctx);
    sb_buf_t b = SB_BUF_INIT;
    if (host)
        sb_buf_printf(&b, "http://%s", host);
    sb_buf_printf(&b, "%s/Accounts/%s/Recordings/%s.wav", SB_API_PREFIX,
                  vals[res->owner_col].s, vals[0].s);
    sb__api_w_str(w, "FileUri", "file_uri", sb_buf_str(&b), 0);
    sb_buf_free(&b);
}

/* StartTime (Twilio's): when the recording began, RFC 2822 as the dates. */
static void render_start(sb__api_ctx_t *ctx, sb__api_w_t *w,
                         const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    const sb_rows_val_t *v = &vals[sb__api_col(res, "start_time")];
    if (v->null) {
        sb__api_w_str(w, "StartTime", "start_time", NULL, 0);
        return;
    }
    char d[SB_TIME_BUF];
    sb_time_rfc2822((time_t)v->i, d);
    sb__api_w_str(w, "StartTime", "start_time", d, 0);
}

/* Restcomm's fields in its order, then Twilio's. */
static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("CallSid", "call_sid", "call_sid", SB__T_TEXT, 0),
    SB__FIELD("Duration", "duration", NULL, SB__T_CUSTOM, 0, .render = render_duration),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("FileUri", "file_uri", NULL, SB__T_CUSTOM, 0, .render = render_file_uri),
    SB__FIELD("Channels", "channels", "channels", SB__T_INT, 0),
    SB__FIELD("Source", "source", "source", SB__T_TEXT, 0),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
    SB__FIELD("StartTime", "start_time", NULL, SB__T_CUSTOM, 0, .render = render_start),
    SB__FIELD("ConferenceSid", "conference_sid", "conference_sid", SB__T_TEXT, 0),
    SB__FIELD("ErrorCode", "error_code", "error_code", SB__T_INT, 0),
    SB__FIELD("Price", "price", "price", SB__T_TEXT, 0),
    SB__FIELD("PriceUnit", "price_unit", "price_unit", SB__T_TEXT, 0),
    /* Read by the renderers and the sorts, never written out. The
     * duration is REAL in the table and read as its text. */
    SB__FIELD("_duration", "_duration", "duration", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("_start", "_start", "start_time", SB__T_INT, SB__F_HIDDEN),
};

/* Restcomm's StartTime/EndTime and Twilio's DateCreated (that day),
 * DateCreated< (on or before that day) and DateCreated> (on or after),
 * all on DateCreated, whole days (YYYY-MM-DD). */
static const sb__api_filter_t filters[] = {
    {"CallSid", "call_sid", SB__FILT_EQ},
    {"StartTime", "date_created", SB__FILT_DATE_FROM},
    {"EndTime", "date_created", SB__FILT_DATE_TO},
    {"DateCreated", "date_created", SB__FILT_DATE_FROM},
    {"DateCreated", "date_created", SB__FILT_DATE_TO},
    {"DateCreated<", "date_created", SB__FILT_DATE_TO},
    {"DateCreated>", "date_created", SB__FILT_DATE_FROM},
    {"ConferenceSid", "conference_sid", SB__FILT_EQ},
};

static const sb__api_sort_t sorts[] = {
    {"DateCreated", "date_created"},
    {"Duration", "duration"},
    {"CallSid", "call_sid"},
};

static const char *const nullable_sorts[] = {"call_sid", NULL};

sb__api_resource_t sb__api_recordings = {
    .path = "Recordings",
    .xml_item = "Recording",
    .xml_list = "Recordings",
    .json_list = "recordings",
    .always_paged = 1,
    .table_name = "recordings",
    .sid_prefix = "RE",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_DELETE,
    .delete_status = 204,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated",
    .sub_accounts = 1,
    .nullable_sorts = nullable_sorts,
};

/* Per call, Restcomm answers a plain list (a bare JSON array); Page,
 * PageSize or AfterSid turn paging on. */
sb__api_resource_t sb__api_call_recordings = {
    .path = "Recordings",
    .xml_item = "Recording",
    .xml_list = "Recordings",
    .json_list = "recordings",
    .always_paged = 0,
    .table_name = "recordings",
    .sid_prefix = "RE",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated",
    .nullable_sorts = nullable_sorts,
};

/* ---- the item and its media ---------------------------------------------- */

/* "wav" or "mp3" when seg is "<RE sid>.wav" or "<RE sid>.mp3" (any case
 * of the extension), with the bare SID copied into sid; else NULL. */
static const char *media_kind(const char *seg, char sid[SB_SID_SIZE])
{
    size_t n = seg ? strlen(seg) : 0;
    if (n < 5 || n - 4 >= SB_SID_SIZE || seg[n - 4] != '.')
        return NULL;
    const char *kind = strcasecmp(seg + n - 3, "wav") == 0   ? "wav"
                       : strcasecmp(seg + n - 3, "mp3") == 0 ? "mp3"
                                                             : NULL;
    if (kind == NULL)
        return NULL;
    memcpy(sid, seg, n - 4);
    sid[n - 4] = '\0';
    return kind;
}

int sb__api_recording_anonymous(const sb__api_ctx_t *ctx)
{
    const sb_config_t *cfg = ctx->api->cfg;
    char sid[SB_SID_SIZE];
    if (cfg && cfg->recordings_media_auth)
        return 0;
    return strcmp(ctx->method, "GET") == 0 && media_kind(ctx->sid, sid) != NULL;
}

static void not_found(sb__api_ctx_t *ctx)
{
    sb__api_error(ctx, 404, "The requested resource was not found");
}

/* GET of RE....wav / RE....mp3. Authenticated requests went through the
 * account check of every resource (sb__api_load_op); anonymous ones only
 * learn whether this account has this recording. */
static void media_get(sb__api_ctx_t *ctx, const char *sid, const char *kind)
{
    sb_api_t *api = ctx->api;
    if (ctx->me.sid[0] != '\0') {
        if (sb__api_load_op(ctx))
            return;
    } else {
        int rc = sb_store_account_get(api->store, ctx->ac_key, &ctx->op);
        if (rc == SB_ENOENT) {
            not_found(ctx);
            return;
        }
        if (rc != 0) {
            sb__api_error(ctx, 500, "Database error");
            return;
        }
        ctx->have_op = 1;
    }
    char file[SB_RECORDING_FILE_MAX + 1];
    int rc = sb_store_recording_file(api->store, ctx->op.sid, sid, file, sizeof file,
                                     NULL);
    if (rc == SB_ENOENT || rc == SB_EINVAL || api->recordings_dir == NULL) {
        not_found(ctx);
        return;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    sb__api_recording_media(ctx, sid, kind, file);
}

/* ---- delete ----------------------------------------------------------------- */

typedef struct {
    char *paths[3];             /* WAV, MP3, an MP3 being written */
} doomed_t;

static void doomed_free(void *p)
{
    doomed_t *d = p;
    for (size_t i = 0; i < SB_COUNTOF(d->paths); i++)
        free(d->paths[i]);
    free(d);
}

/* Thread pool: removes the files; a missing one is fine. */
static void unlink_work(sb__api_ctx_t *ctx)
{
    doomed_t *d = ctx->hold;
    ctx->w_result = 0;
    for (size_t i = 0; i < SB_COUNTOF(d->paths); i++)
        if (d->paths[i] && unlink(d->paths[i]) != 0 && errno != ENOENT)
            ctx->w_result = -errno;
}

static void unlink_done(sb__api_ctx_t *ctx)
{
    if (ctx->w_result != 0)
        sb_warn("api: recording %s deleted, but its files could not all be "
                "removed: %s", ctx->sid, sb_strerror(ctx->w_result));
    sb__api_send(ctx, 204, NULL, 0);
}

/* DELETE Recordings/{RE}: the row, then its files (off the loop); the
 * answer comes when both are gone. */
static void recording_delete(sb__api_ctx_t *ctx)
{
    sb_api_t *api = ctx->api;
    if (sb__api_load_op(ctx))
        return;
    if (!sb_sid_valid(ctx->sid, "RE") || strlen(ctx->sid) != SB_SID_LEN) {
        sb__api_error(ctx, 400, "%s is not a valid RE SID", ctx->sid);
        return;
    }
    char file[SB_RECORDING_FILE_MAX + 1] = "";
    int rc = sb_store_recording_delete(api->store, ctx->op.sid, ctx->sid, file,
                                       sizeof file);
    if (rc == SB_ENOENT) {
        not_found(ctx);
        return;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    sb__api_recording_media_forget(api, ctx->sid);
    const char *dir = api->recordings_dir;
    if (dir == NULL) {
        sb__api_send(ctx, 204, NULL, 0);
        return;
    }
    doomed_t *d = SB_NEW(doomed_t);
    if (file[0] != '\0')
        d->paths[0] = sb_xasprintf("%s/%s", dir, file);
    d->paths[1] = sb_xasprintf("%s/%s.mp3", dir, ctx->sid);
    d->paths[2] = sb_xasprintf("%s/%s.mp3.tmp", dir, ctx->sid);
    ctx->hold = d;
    ctx->hold_free = doomed_free;
    sb__api_offload(ctx, unlink_work, unlink_done);
}

void sb__api_recording_item(sb__api_ctx_t *ctx)
{
    char sid[SB_SID_SIZE];
    const char *kind = media_kind(ctx->sid, sid);
    if (kind) {
        if (strcmp(ctx->method, "GET") != 0) {
            /* The route allows DELETE on the resource, not on its media. */
            ctx->route = NULL;
            sb_http_resp_header(ctx->req, "Allow", "GET,HEAD");
            sb__api_error(ctx, 405, "Method %s is not allowed here", ctx->method);
            return;
        }
        if (!sb_sid_valid(sid, "RE") || strlen(sid) != SB_SID_LEN) {
            not_found(ctx);
            return;
        }
        media_get(ctx, sid, kind);
        return;
    }
    if (strcmp(ctx->method, "DELETE") == 0)
        recording_delete(ctx);
    else
        sb__api_get(ctx);
}

/* GET Calls/{CA}/Recordings. */
void sb__api_call_recordings_list(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    if (!sb_sid_valid(ctx->sub, "CA")) {
        sb__api_error(ctx, 400, "%s is not a valid call SID", ctx->sub);
        return;
    }
    const sb__api_resource_t *res = &sb__api_call_recordings;
    sb_rows_cond_t c[2] = {
        {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
        {.col = sb__api_col(res, "call_sid"), .op = SB_ROWS_EQ, .s = ctx->sub},
    };
    sb__api_list_with(ctx, res, c, 2);
}
