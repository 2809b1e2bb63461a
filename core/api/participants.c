/*
 * participants.c: the Participants resource of a conference (restcomm.md
 * 2.7, with Twilio's fields and actions): the rows the rooms write through
 * conference_store.h. The list shows the conference's current members
 * (status connected), as Restcomm's and Twilio's do, or those who left
 * with Status=completed; the instance answers for both. POST changes a
 * live member (Muted, or Restcomm's Mute; Hold with HoldUrl) and DELETE
 * removes it from the room (Twilio's kick), both through the call manager.
 *
 * Restcomm renders a participant as its Call: <Call> elements in <Calls>,
 * JSON member "calls", Sid = the call's SID. A call may have rows in
 * several conferences, so rows are always looked up with their
 * conference, and the list pages by Page alone (AfterSid, which names a
 * call, could name another conference's row).
 *
 * Errors: malformed SIDs 400; an unknown or another account's conference
 * or participant 404; a change on a completed conference or on a member
 * who left 410; bad values 400; a member with no live room on this
 * server (SB_ENOENT from the call manager) 404.
 */
#include "api_int.h"
#include "call.h"
#include "conference_store.h"

#include <string.h>
#include <strings.h>

/* ---- rendering ------------------------------------------------------------ */

/* Uri: the participant under its conference (Restcomm writes the call's
 * Uri; Twilio this one). */
static void render_uri(sb__api_ctx_t *ctx, sb__api_w_t *w,
                       const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_printf(&b, "/%s/Accounts/%s/Conferences/%s/Participants/%s%s",
                  SB__API_VER(w->json), vals[res->owner_col].s,
                  vals[sb__api_col(res, "conference_sid")].s, vals[0].s,
                  w->json ? ".json" : "");
    sb__api_w_str(w, "Uri", "uri", sb_buf_str(&b), 0);
    sb_buf_free(&b);
}

/* Restcomm's fields in its order (its EndConferenceOnEnter is the
 * endConferenceOnExit flag), then Twilio's. */
static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("ConferenceSid", "conference_sid", "conference_sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("Muted", "muted", "muted", SB__T_BOOL, 0),
    SB__FIELD("Hold", "hold", "hold", SB__T_BOOL, 0),
    SB__FIELD("StartConferenceOnEnter", "start_conference_on_enter",
              "start_conference_on_enter", SB__T_BOOL, 0),
    SB__FIELD("EndConferenceOnEnter", "end_conference_on_enter",
              "end_conference_on_exit", SB__T_BOOL, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_CUSTOM, 0, .render = render_uri),
    SB__FIELD("CallSid", "call_sid", "call_sid", SB__T_TEXT, 0),
    SB__FIELD("EndConferenceOnExit", "end_conference_on_exit", "end_conference_on_exit",
              SB__T_BOOL, 0),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
};

static const sb__api_sort_t sorts[] = {
    {"DateCreated", "date_created"},
    {"DateUpdated", "date_updated"},
};

sb__api_resource_t sb__api_participants = {
    .path = "Participants",
    .xml_item = "Call",
    .xml_list = "Calls",
    .json_list = "calls",
    .always_paged = 1,
    .table_name = "participants",
    .sid_prefix = "CA",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_UPDATE | SB__OP_DELETE,
    .delete_status = 204,
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated",
};

/* ---- helpers ------------------------------------------------------------------ */

/* 1 or 0 for a boolean parameter (true/false, 1/0, any case), else -1. */
static int parse_bool(const char *s)
{
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
        return 1;
    if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        return 0;
    return -1;
}

/* Removes every pair named name from p. */
static void params_drop(sb_http_params_t *p, const char *name)
{
    sb_http_params_t keep = SB_HTTP_PARAMS_INIT;
    for (size_t i = 0; i < p->count; i++)
        if (strcmp(p->items[i].name, name) != 0)
            sb_http_params_add(&keep, p->items[i].name, p->items[i].value);
    sb_http_params_free(p);
    *p = keep;
}

/* Loads participant ctx->sub of conference ctx->sid (owned by the
 * operated account) into *row. Returns 0, or 1 after answering. */
static int load_participant(sb__api_ctx_t *ctx, sb_row_t *row)
{
    const sb__api_resource_t *res = &sb__api_participants;
    if (!sb_sid_valid(ctx->sub, "CA")) {
        sb__api_error(ctx, 400, "%s is not a valid call SID", ctx->sub);
        return 1;
    }
    /* call_sid rather than sid (the same value): the key's own column,
     * so the lookup is one primary-key probe. */
    sb_rows_cond_t c[3] = {
        {.col = sb__api_col(res, "call_sid"), .op = SB_ROWS_EQ, .s = ctx->sub},
        {.col = sb__api_col(res, "conference_sid"), .op = SB_ROWS_EQ, .s = ctx->sid},
        {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
    };
    int rc = sb_rows_get(ctx->api->store, &res->table, c, 3, row);
    if (rc == SB_ENOENT) {
        sb__api_error(ctx, 404, "The requested resource was not found");
        return 1;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    return 0;
}

static void send_participant(sb__api_ctx_t *ctx, const sb_row_t *row)
{
    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    sb__api_w_doc_begin(&w);
    sb__api_render_row(ctx, &w, &sb__api_participants, row->v);
    sb__api_w_doc_end(&w);
    sb__api_send_doc(ctx, &w);
}

/* Answers a failed live action (rc from the call manager). */
static void live_error(sb__api_ctx_t *ctx, int rc)
{
    if (rc == SB_ENOENT)
        sb__api_error(ctx, 404, "Participant %s is not in a live conference on this "
                      "server", ctx->sub);
    else
        sb__api_error(ctx, rc == SB_EINVAL ? 400 : 500, "Cannot change participant "
                      "%s: %s", ctx->sub, sb_strerror(rc));
}

/* ---- the list ----------------------------------------------------------------- */

void sb__api_participants_list(sb__api_ctx_t *ctx)
{
    const sb__api_resource_t *res = &sb__api_participants;
    if (sb__api_load_op(ctx) || sb__api_conference_load(ctx, ctx->sid, NULL))
        return;
    const char *status = sb__api_param(ctx, "Status");
    const char *want = "connected";
    if (status && *status) {
        if (strcasecmp(status, "connected") == 0) {
            want = "connected";
        } else if (strcasecmp(status, "completed") == 0 ||
                   strcasecmp(status, "complete") == 0) {
            want = "completed";             /* Twilio spells it "complete" */
        } else {
            sb__api_error(ctx, 400, "Status must be connected or completed");
            return;
        }
    }
    sb_rows_cond_t c[5] = {
        {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
        {.col = sb__api_col(res, "conference_sid"), .op = SB_ROWS_EQ, .s = ctx->sid},
        {.col = sb__api_col(res, "status"), .op = SB_ROWS_EQ, .s = want},
    };
    int n = 3;
    static const char *const flags[][2] = {{"Muted", "muted"}, {"Hold", "hold"}};
    for (size_t i = 0; i < SB_COUNTOF(flags); i++) {
        const char *v = sb__api_param(ctx, flags[i][0]);
        if (v == NULL || *v == '\0')
            continue;
        int b = parse_bool(v);
        if (b < 0) {
            sb__api_error(ctx, 400, "%s must be true or false", flags[i][0]);
            return;
        }
        c[n++] = (sb_rows_cond_t){.col = sb__api_col(res, flags[i][1]),
                                  .op = SB_ROWS_EQ, .i = b};
    }
    params_drop(&ctx->query, "AfterSid");
    params_drop(&ctx->form, "AfterSid");
    sb__api_list_with(ctx, res, c, n);
}

/* ---- the instance -------------------------------------------------------------- */

/* A field description for checking HoldUrl as every URL parameter is. */
static const sb__api_field_t hold_url_field =
    SB__FIELD("HoldUrl", "hold_url", NULL, SB__T_URL, 0);

/* POST (or PUT) Participants/{CA}: Muted (Twilio) or Mute (Restcomm),
 * Hold with HoldUrl (Twilio). */
static void participant_update(sb__api_ctx_t *ctx, sb_row_t *row, int conf_done)
{
    sb_api_t *api = ctx->api;
    const char *mname = "Muted";
    const char *mtext = sb__api_param(ctx, "Muted");
    if (mtext == NULL) {
        mname = "Mute";
        mtext = sb__api_param(ctx, "Mute");
    }
    const char *htext = sb__api_param(ctx, "Hold");
    if (mtext == NULL && htext == NULL) {
        sb__api_error(ctx, 400, "Muted (or Mute) or Hold is required");
        return;
    }
    int muted = mtext ? parse_bool(mtext) : -1;
    if (mtext && muted < 0) {
        sb__api_error(ctx, 400, "%s must be true or false", mname);
        return;
    }
    int hold = htext ? parse_bool(htext) : -1;
    if (htext && hold < 0) {
        sb__api_error(ctx, 400, "Hold must be true or false");
        return;
    }
    const char *utext = sb__api_param(ctx, "HoldUrl");
    sb__api_edit_t e;
    sb__api_edit_init(&e, &sb__api_participants);
    sb_rows_val_t url = {0};
    char err[256];
    if (hold == 1 && utext && *utext &&
        sb__api_parse_value(&e, &hold_url_field, utext, &url, err, sizeof err) != 0) {
        sb__api_edit_free(&e);
        sb__api_error(ctx, 400, "%s", err);
        return;
    }
    const sb_rows_val_t *st = &row->v[sb__api_col(&sb__api_participants, "status")];
    if (conf_done) {
        sb__api_error(ctx, 410, "Conference is already completed.");
    } else if (!st->null && strcmp(st->s, "completed") == 0) {
        sb__api_error(ctx, 410, "Participant has already left the conference.");
    } else if (api->calls == NULL) {
        live_error(ctx, SB_ENOENT);
    } else {
        int rc = 0;
        if (muted >= 0)
            rc = sb_call_conf_mute(api->calls, ctx->op.sid, ctx->sid, ctx->sub, muted);
        if (rc == 0 && hold >= 0)
            rc = sb_call_conf_hold(api->calls, ctx->op.sid, ctx->sid, ctx->sub, hold,
                                   hold == 1 && !url.null ? url.s : NULL);
        if (rc != 0) {
            live_error(ctx, rc);
        } else {
            /* The room changed; the row says so now, whenever the room
             * writes it too. */
            rc = sb_store_participant_set(api->store, ctx->op.sid, ctx->sid, ctx->sub,
                                          muted, hold, NULL, sb__api_now());
            if (rc != 0)
                sb_warn("api: participant %s changed, but its row was not updated: %s",
                        ctx->sub, sb_strerror(rc));
            sb_row_t now;
            if (load_participant(ctx, &now) == 0) {
                send_participant(ctx, &now);
                sb_row_free(&now);
            }
        }
    }
    sb__api_edit_free(&e);
}

/* DELETE Participants/{CA}: Twilio's kick. The member leaves the room;
 * its row stays, completed. */
static void participant_kick(sb__api_ctx_t *ctx, sb_row_t *row, int conf_done)
{
    sb_api_t *api = ctx->api;
    const sb_rows_val_t *st = &row->v[sb__api_col(&sb__api_participants, "status")];
    if (conf_done) {
        sb__api_error(ctx, 410, "Conference is already completed.");
        return;
    }
    if (!st->null && strcmp(st->s, "completed") == 0) {
        sb__api_error(ctx, 410, "Participant has already left the conference.");
        return;
    }
    int rc = api->calls ? sb_call_conf_kick(api->calls, ctx->op.sid, ctx->sid, ctx->sub)
                        : SB_ENOENT;
    if (rc != 0) {
        live_error(ctx, rc);
        return;
    }
    rc = sb_store_participant_set(api->store, ctx->op.sid, ctx->sid, ctx->sub, -1, -1,
                                  "completed", sb__api_now());
    if (rc != 0)
        sb_warn("api: participant %s removed, but its row was not updated: %s", ctx->sub,
                sb_strerror(rc));
    sb_info("api: call %s removed from conference %s over REST", ctx->sub, ctx->sid);
    sb__api_send(ctx, 204, NULL, 0);
}

void sb__api_participant_item(sb__api_ctx_t *ctx)
{
    int conf_done = 0;
    sb_row_t row;
    if (sb__api_load_op(ctx) || sb__api_conference_load(ctx, ctx->sid, &conf_done) ||
        load_participant(ctx, &row))
        return;
    if (strcmp(ctx->method, "GET") == 0)
        send_participant(ctx, &row);
    else if (strcmp(ctx->method, "DELETE") == 0)
        participant_kick(ctx, &row, conf_done);
    else
        participant_update(ctx, &row, conf_done);
    sb_row_free(&row);
}
