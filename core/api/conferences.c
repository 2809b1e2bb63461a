/*
 * conferences.c: the Conferences resource (restcomm.md 2.7, with
 * Twilio's fields and its one update): the rows the call module's rooms
 * write through conference_store.h, listed per account (always paged, as
 * Restcomm) with Status, FriendlyName, DateCreated and DateUpdated
 * filters, one by SID, and POST Status=completed, which ends the live
 * room through the call manager (sb_api_use_calls) and answers the
 * conference as it is then. Participants live in participants.c; the
 * conference lookup they share is here.
 *
 * Errors: a malformed SID is 400, an unknown one or another account's
 * 404; ending a completed conference is 410 (Restcomm's answer to a
 * change on a completed call); a conference that is not completed but
 * has no live room on this server (sb_call_conf_end's SB_ENOENT) is 404.
 */
#include "api_int.h"
#include "call.h"
#include "conference_store.h"

#include <string.h>
#include <strings.h>

/* ---- rendering ------------------------------------------------------------ */

/* SubresourceUris: Participants, as Restcomm writes it (in JSON too, where
 * Restcomm's own converter puts the member beside an empty object). */
static void render_subresources(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                const sb__api_resource_t *res,
                                const sb_rows_val_t *vals)
{
    (void)ctx;
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_printf(&b, "/%s/Accounts/%s/Conferences/%s/Participants%s", SB__API_VER(w->json),
                  vals[res->owner_col].s, vals[0].s, w->json ? ".json" : "");
    sb__api_w_obj_begin(w, "SubresourceUris", "subresource_uris");
    sb__api_w_str(w, "Participants", "participants", sb_buf_str(&b), 0);
    sb__api_w_obj_end(w, "SubresourceUris");
    sb_buf_free(&b);
}

/* Restcomm's fields in its order, then Twilio's. */
static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("FriendlyName", "friendly_name", "friendly_name", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("SubresourceUris", "subresource_uris", NULL, SB__T_CUSTOM, 0,
              .render = render_subresources),
    SB__FIELD("Region", "region", "region", SB__T_TEXT, 0),
    SB__FIELD("ReasonConferenceEnded", "reason_conference_ended",
              "reason_conference_ended", SB__T_TEXT, 0),
    SB__FIELD("CallSidEndingConference", "call_sid_ending_conference",
              "call_sid_ending_conference", SB__T_TEXT, 0),
};

/* Twilio's filters (Status is checked and applied by the list handler).
 * Dates are whole days (YYYY-MM-DD): DateCreated is that day,
 * DateCreated< on or before it (Twilio's DateCreated<=), DateCreated> on
 * or after it; the same for DateUpdated. */
static const sb__api_filter_t filters[] = {
    {"FriendlyName", "friendly_name", SB__FILT_EQ},
    {"DateCreated", "date_created", SB__FILT_DATE_FROM},
    {"DateCreated", "date_created", SB__FILT_DATE_TO},
    {"DateCreated<", "date_created", SB__FILT_DATE_TO},
    {"DateCreated>", "date_created", SB__FILT_DATE_FROM},
    {"DateUpdated", "date_updated", SB__FILT_DATE_FROM},
    {"DateUpdated", "date_updated", SB__FILT_DATE_TO},
    {"DateUpdated<", "date_updated", SB__FILT_DATE_TO},
    {"DateUpdated>", "date_updated", SB__FILT_DATE_FROM},
};

static const sb__api_sort_t sorts[] = {
    {"DateCreated", "date_created"},
    {"DateUpdated", "date_updated"},
};

sb__api_resource_t sb__api_conferences = {
    .path = "Conferences",
    .xml_item = "Conference",
    .xml_list = "Conferences",
    .json_list = "conferences",
    .always_paged = 1,
    .table_name = "conferences",
    .sid_prefix = "CF",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_UPDATE,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated",
};

/* ---- shared with participants.c ---------------------------------------------- */

int sb__api_conference_load(sb__api_ctx_t *ctx, const char *sid, int *completed)
{
    const sb__api_resource_t *res = &sb__api_conferences;
    if (!sb_sid_valid(sid, "CF")) {
        sb__api_error(ctx, 400, "%s is not a valid CF SID", sid);
        return 1;
    }
    sb_rows_cond_t c[2] = {
        {.col = res->sid_col, .op = SB_ROWS_EQ, .s = sid},
        {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
    };
    sb_row_t row;
    int rc = sb_rows_get(ctx->api->store, &res->table, c, 2, &row);
    if (rc == SB_ENOENT) {
        sb__api_error(ctx, 404, "The requested resource was not found");
        return 1;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    const sb_rows_val_t *st = &row.v[sb__api_col(res, "status")];
    if (completed)
        *completed = !st->null && strcmp(st->s, "completed") == 0;
    sb_row_free(&row);
    return 0;
}

/* ---- the list --------------------------------------------------------------- */

/* Returns the stored form of a Status parameter (any case), or NULL. */
static const char *conference_status(const char *s)
{
    static const char *const known[] = {"init", "in-progress", "completed"};
    for (size_t i = 0; i < SB_COUNTOF(known); i++)
        if (strcasecmp(s, known[i]) == 0)
            return known[i];
    return NULL;
}

void sb__api_conferences_list(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = &sb__api_conferences;
    if (sb__api_load_op(ctx))
        return;
    sb_rows_cond_t c[2] = {{.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid}};
    int n = 1;
    const char *status = sb__api_param(ctx, "Status");
    if (status && *status) {
        const char *known = conference_status(status);
        if (known == NULL) {
            sb__api_error(ctx, 400, "Status must be one of: init, in-progress, completed");
            return;
        }
        c[n++] = (sb_rows_cond_t){.col = sb__api_col(res, "status"), .op = SB_ROWS_EQ,
                                  .s = known};
    }
    sb__api_list_with(ctx, res, c, n);
}

/* ---- the instance ------------------------------------------------------------- */

/* POST (or PUT) Conferences/{CF} with Status=completed: Twilio's end of a
 * live room. The answer is the conference afterwards (completed, reason
 * conference-ended-via-api unless the room recorded its end first). */
static void conference_end(sb__api_ctx_t *ctx)
{
    sb_api_t *api = ctx->api;
    int completed = 0;
    if (sb__api_load_op(ctx) || sb__api_conference_load(ctx, ctx->sid, &completed))
        return;
    const char *status = sb__api_param(ctx, "Status");
    if (status == NULL || *status == '\0') {
        sb__api_error(ctx, 400, "Status can not be null.");
        return;
    }
    if (strcasecmp(status, "completed") != 0) {
        sb__api_error(ctx, 400, "Status must be completed (the only change a "
                      "conference accepts)");
        return;
    }
    if (completed) {
        sb__api_error(ctx, 410, "Conference is already completed.");
        return;
    }
    int rc = api->calls ? sb_call_conf_end(api->calls, ctx->op.sid, ctx->sid)
                        : SB_ENOENT;
    if (rc == SB_ENOENT) {
        sb__api_error(ctx, 404, "Conference %s is not live on this server", ctx->sid);
        return;
    }
    if (rc != 0) {
        sb__api_error(ctx, rc == SB_EINVAL ? 400 : 500, "Cannot end conference %s: %s",
                      ctx->sid, sb_strerror(rc));
        return;
    }
    /* The room ended; make the row say so now, whenever the room writes
     * its own end (the first one recorded is kept). */
    rc = sb_store_conference_end(api->store, ctx->op.sid, ctx->sid, SB_CONF_ENDED_API,
                                 NULL, sb__api_now());
    if (rc != 0 && rc != SB_ENOENT)
        sb_warn("api: conference %s ended, but its row was not updated: %s", ctx->sid,
                sb_strerror(rc));
    sb_info("api: conference %s ended over REST by %s", ctx->sid, ctx->me.sid);
    sb__api_send_row(ctx, &sb__api_conferences, ctx->sid);
}

void sb__api_conference_item(sb__api_ctx_t *ctx)
{
    if (strcmp(ctx->method, "GET") == 0)
        sb__api_get(ctx);
    else
        conference_end(ctx);
}
