/*
 * transcriptions.c: the Transcriptions resource (issue 21): list (paged,
 * filters StartTime, EndTime, TranscriptionText), one by SID, DELETE;
 * also Twilio's Recordings/{RE}/Transcriptions. Restcomm's fields (Sid,
 * DateCreated, DateUpdated, AccountSid, Status, RecordingSid, Duration,
 * TranscriptionText, Price, PriceUnit, Uri) and, in Twilio's dialect,
 * its api_version and type too. Nothing writes the table yet, so the
 * lists are empty until transcription exists; the resource is here so
 * clients that read it (Restcomm's console, Twilio's library) work.
 */
#include "api_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Duration: seconds, a number as Restcomm's double ("3.0" in XML); a
 * string of whole seconds in Twilio's dialect, as Twilio writes it. */
static void render_duration(sb__api_ctx_t *ctx, sb__api_w_t *w,
                            const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    const sb_rows_val_t *v = &vals[sb__api_col(res, "duration")];
    double d = v->null ? 0.0 : strtod(v->s, NULL);
    if (!isfinite(d) || d < 0 || d > 1e9)
        d = 0;
    if (w->json == SB__API_JSON_TWILIO) {
        char num[32];
        snprintf(num, sizeof num, "%.0f", d);
        sb__api_w_str(w, NULL, "duration", num, 0);
        return;
    }
    sb__api_w_fixed(w, "Duration", "duration", (int64_t)llround(d * 1000), 1, 1000);
}

static void render_price(sb__api_ctx_t *ctx, sb__api_w_t *w,
                         const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    sb__api_render_price(ctx, w, res, vals, 0);
}

/* Twilio's members Restcomm does not write. */
static void render_twilio(sb__api_ctx_t *ctx, sb__api_w_t *w,
                          const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    if (w->json != SB__API_JSON_TWILIO)
        return;
    sb__api_w_str(w, NULL, "api_version", vals[sb__api_col(res, "api_version")].s, 0);
    sb__api_w_str(w, NULL, "type", "fast", 0);
}

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
    SB__FIELD("RecordingSid", "recording_sid", "recording_sid", SB__T_TEXT, 0),
    SB__FIELD("Duration", "duration", NULL, SB__T_CUSTOM, 0, .render = render_duration),
    SB__FIELD("TranscriptionText", "transcription_text", "transcription_text",
              SB__T_TEXT, 0),
    SB__FIELD("Price", "price", NULL, SB__T_CUSTOM, 0, .render = render_price),
    SB__FIELD("PriceUnit", "price_unit", "price_unit", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("_twilio", "_twilio", NULL, SB__T_CUSTOM, 0, .render = render_twilio),
    /* duration is REAL in the table and read as its text. */
    SB__FIELD("_duration", "_duration", "duration", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("_price", "_price", "price", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("_api_version", "_api_version", "api_version", SB__T_TEXT, SB__F_HIDDEN),
};

static const sb__api_filter_t filters[] = {
    {"StartTime", "date_created", SB__FILT_DATE_FROM},
    {"EndTime", "date_created", SB__FILT_DATE_TO},
    {"TranscriptionText", "transcription_text", SB__FILT_CONTAINS},
    {"RecordingSid", "recording_sid", SB__FILT_EQ},
};

static const sb__api_sort_t sorts[] = {
    {"DateCreated", "date_created"},
};

sb__api_resource_t sb__api_transcriptions = {
    .path = "Transcriptions",
    .xml_item = "Transcription",
    .xml_list = "Transcriptions",
    .json_list = "transcriptions",
    .always_paged = 1,
    .table_name = "transcriptions",
    .sid_prefix = "TR",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_DELETE,
    .delete_status = 200,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated",
};

void sb__api_recording_transcriptions(sb__api_ctx_t *ctx)
{
    /* segs: Accounts {AC} Recordings {RE} Transcriptions */
    if (sb__api_load_op(ctx))
        return;
    if (!sb_sid_valid(ctx->sub, "RE")) {
        sb__api_error(ctx, 400, "%s is not a valid recording SID", ctx->sub);
        return;
    }
    const sb__api_resource_t *res = &sb__api_transcriptions;
    sb_rows_cond_t c[2] = {
        {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
        {.col = sb__api_col(res, "recording_sid"), .op = SB_ROWS_EQ, .s = ctx->sub},
    };
    sb__api_list_with(ctx, res, c, 2);
}
