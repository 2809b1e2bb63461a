/*
 * sms.c: the messaging resources (issue 19, docs/messaging.md):
 * SMS/Messages (Restcomm's path) and Messages (Twilio's, an alias of the
 * same resource): POST sends through the messaging module, GET lists
 * with the filters To, From, StartTime, EndTime, Body (paged in JSON,
 * Restcomm's bare list in XML unless Page/PageSize is given), and one
 * message by SID; Email/Messages: POST sends an e-mail, GET lists and
 * reads what was sent.
 *
 * Isolation: every path names an account and only its own rows are ever
 * read; another account's message is 404 as an unknown one.
 */
#include "api_int.h"
#include "msg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- SMS ------------------------------------------------------------------ */

/* Error{ErrorCode, ErrorMessage} when the message failed, else nothing in
 * XML and nulls in JSON (error_code, error_message, as Twilio). */
static void render_error(sb__api_ctx_t *ctx, sb__api_w_t *w,
                         const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    const sb_rows_val_t *code = &vals[sb__api_col(res, "error_code")];
    const sb_rows_val_t *msg = &vals[sb__api_col(res, "error_message")];
    if (w->json) {
        if (code->null)
            sb__api_w_str(w, "ErrorCode", "error_code", NULL, 0);
        else
            sb__api_w_int(w, "ErrorCode", "error_code", code->i);
        sb__api_w_str(w, "ErrorMessage", "error_message", msg->null ? NULL : msg->s, 0);
        return;
    }
    if (code->null)
        return;
    sb__api_w_obj_begin(w, "Error", "error");
    sb__api_w_int(w, "ErrorCode", "error_code", code->i);
    sb__api_w_str(w, "ErrorMessage", "error_message", msg->null ? "" : msg->s, 0);
    sb__api_w_obj_end(w, "Error");
}

static const sb__api_field_t sms_fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("DateSent", "date_sent", "date_sent", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("From", "from", "sender", SB__T_TEXT, 0),
    SB__FIELD("To", "to", "recipient", SB__T_TEXT, 0),
    SB__FIELD("Body", "body", "body", SB__T_TEXT, 0),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
    SB__FIELD("Direction", "direction", "direction", SB__T_TEXT, 0),
    SB__FIELD("Price", "price", NULL, SB__T_CUSTOM, 0,
              .render = sb__api_twilio_message_price),
    SB__FIELD("PriceUnit", "price_unit", "price_unit", SB__T_TEXT, 0),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("NumSegments", "num_segments", "num_segments", SB__T_INT, SB__F_JSTR),
    SB__FIELD("CallSid", "call_sid", "call_sid", SB__T_TEXT, SB__F_XOMIT | SB__F_JOMIT),
    SB__FIELD("Error", "error", NULL, SB__T_CUSTOM, 0, .render = render_error),
    SB__FIELD("_error_code", "_error_code", "error_code", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_price", "_price", "price", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("_error_message", "_error_message", "error_message", SB__T_TEXT,
              SB__F_HIDDEN),
};

static const sb__api_filter_t sms_filters[] = {
    {"To", "recipient", SB__FILT_EQ},
    {"From", "sender", SB__FILT_EQ},
    {"StartTime", "date_created", SB__FILT_DATE_FROM},
    {"EndTime", "date_created", SB__FILT_DATE_TO},
    {"Body", "body", SB__FILT_CONTAINS},
    {"Status", "status", SB__FILT_EQ},
    {"DateSent>", "date_created", SB__FILT_DATE_FROM},
    {"DateSent<", "date_created", SB__FILT_DATE_TO},
};

static const sb__api_sort_t sms_sorts[] = {
    {"DateCreated", "date_created"},
    {"From", "sender"},
    {"To", "recipient"},
    {"Status", "status"},
};

/* Restcomm's SMS/Messages and Twilio's Messages: the same rows. */
#define SMS_RESOURCE(path_)                                                \
    {                                                                      \
        .path = (path_), .xml_item = "SMSMessage", .xml_list = "SMSMessages", \
        .json_list = "messages", .always_paged = 1,                        \
        .table_name = "sms_messages", .sid_prefix = "SM",                  \
        .owner_column = "account_sid", .fields = sms_fields,               \
        .nfields = (int)SB_COUNTOF(sms_fields),                            \
        .ops = SB__OP_LIST | SB__OP_GET, .filters = sms_filters,           \
        .nfilters = (int)SB_COUNTOF(sms_filters), .sorts = sms_sorts,      \
        .nsorts = (int)SB_COUNTOF(sms_sorts), .default_sort = "DateCreated", \
    }

sb__api_resource_t sb__api_sms = SMS_RESOURCE("SMS/Messages");
sb__api_resource_t sb__api_messages = SMS_RESOURCE("Messages");

/* Restcomm answers 400 with a message for every refusal of a send. */
static int refusal_status(int rc)
{
    switch (rc) {
    case SB_ESTATE:
        return 503;
    case SB_ESTORE:
        return 500;
    default:
        return 400;
    }
}

/* Loads the operated account and checks that messaging runs. Returns 0,
 * or 1 after answering. */
static int messaging_ready(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return 1;
    if (ctx->api->msg == NULL) {
        sb__api_error(ctx, 503, "Messaging is not available");
        return 1;
    }
    return 0;
}

static void sms_create(sb__api_ctx_t *ctx)
{
    if (messaging_ready(ctx))
        return;
    /* Custom X-* parameters become headers of the MESSAGE. */
    sb_sip_header_t hdr[SB_SIP_MAX_HEADERS];
    size_t nh = 0;
    for (size_t i = 0; i < ctx->form.count && nh < SB_SIP_MAX_HEADERS; i++) {
        const sb_http_pair_t *p = &ctx->form.items[i];
        if (strncasecmp(p->name, "X-", 2) == 0) {
            hdr[nh].name = p->name;
            hdr[nh].value = p->value;
            nh++;
        }
    }
    sb_msg_sms_req_t req = {
        .account_sid = ctx->op.sid,
        .from = sb__api_param(ctx, "From"),
        .to = sb__api_param(ctx, "To"),
        .body = sb__api_param(ctx, "Body"),
        .status_callback = sb__api_param(ctx, "StatusCallback"),
        .status_callback_method = sb__api_param(ctx, "StatusCallbackMethod"),
        .headers = hdr,
        .header_count = nh,
    };
    const char *m = req.status_callback_method;
    if (m && *m && strcasecmp(m, "GET") != 0 && strcasecmp(m, "POST") != 0) {
        sb__api_error(ctx, 400, "StatusCallbackMethod must be GET or POST.");
        return;
    }
    char sid[SB_SID_SIZE], err[256];
    int rc = sb_msg_sms_send(ctx->api->msg, &req, sid, err, sizeof err, NULL, NULL,
                             NULL);
    if (rc != 0) {
        sb__api_error(ctx, refusal_status(rc), "%s", err);
        return;
    }
    sb__api_send_row(ctx, ctx->route->res, sid);
}

void sb__api_sms_collection(sb__api_ctx_t *ctx)
{
    if (strcmp(ctx->method, "GET") == 0)
        sb__api_list(ctx);
    else
        sms_create(ctx);
}

/* ---- e-mail ----------------------------------------------------------------- */

static const sb__api_field_t email_fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateSent", "date_sent", "date_sent", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("From", "from", "sender", SB__T_TEXT, 0),
    SB__FIELD("To", "to", "recipient", SB__T_TEXT, 0),
    SB__FIELD("CC", "cc", "cc", SB__T_TEXT, SB__F_XOMIT | SB__F_JOMIT),
    SB__FIELD("BCC", "bcc", "bcc", SB__T_TEXT, SB__F_XOMIT | SB__F_JOMIT),
    SB__FIELD("Subject", "subject", "subject", SB__T_TEXT, 0),
    SB__FIELD("Body", "body", "body", SB__T_TEXT, 0),
    SB__FIELD("Type", "type", "content_type", SB__T_TEXT, 0),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
    SB__FIELD("ErrorMessage", "error_message", "error_message", SB__T_TEXT,
              SB__F_XOMIT | SB__F_JOMIT),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
};

static const sb__api_filter_t email_filters[] = {
    {"To", "recipient", SB__FILT_EQ},
    {"From", "sender", SB__FILT_EQ},
    {"StartTime", "date_created", SB__FILT_DATE_FROM},
    {"EndTime", "date_created", SB__FILT_DATE_TO},
};

sb__api_resource_t sb__api_email = {
    .path = "Email/Messages",
    .xml_item = "EmailMessage",
    .xml_list = "EmailMessages",
    .json_list = "messages",
    .always_paged = 1,
    .table_name = "email_messages",
    .sid_prefix = "EM",
    .owner_column = "account_sid",
    .fields = email_fields,
    .nfields = (int)SB_COUNTOF(email_fields),
    .ops = SB__OP_LIST | SB__OP_GET,
    .filters = email_filters,
    .nfilters = (int)SB_COUNTOF(email_filters),
    .sorts = sms_sorts,
    .nsorts = 1,
    .default_sort = "DateCreated",
};

static void email_create(sb__api_ctx_t *ctx)
{
    if (messaging_ready(ctx))
        return;
    /* Restcomm requires From, To, Subject and Body. */
    static const char *const required[] = {"From", "To", "Subject", "Body"};
    for (size_t i = 0; i < SB_COUNTOF(required); i++) {
        const char *v = sb__api_param(ctx, required[i]);
        if ((v == NULL || *v == '\0') &&
            !(i == 0 && ctx->api->cfg && ctx->api->cfg->email_from)) {
            sb__api_error(ctx, 400, "%s can not be null.", required[i]);
            return;
        }
    }
    sb_msg_email_req_t req = {
        .account_sid = ctx->op.sid,
        .from = sb__api_param(ctx, "From"),
        .to = sb__api_param(ctx, "To"),
        .cc = sb__api_param(ctx, "CC"),
        .bcc = sb__api_param(ctx, "BCC"),
        .subject = sb__api_param(ctx, "Subject"),
        .body = sb__api_param(ctx, "Body"),
        .content_type = sb__api_param(ctx, "Type"),
    };
    char sid[SB_SID_SIZE], err[256];
    int rc = sb_msg_email_send(ctx->api->msg, &req, sid, err, sizeof err, NULL, NULL,
                               NULL);
    if (rc != 0) {
        sb__api_error(ctx, refusal_status(rc), "%s", err);
        return;
    }
    sb__api_send_row(ctx, ctx->route->res, sid);
}

void sb__api_email_collection(sb__api_ctx_t *ctx)
{
    if (strcmp(ctx->method, "GET") == 0)
        sb__api_list(ctx);
    else
        email_create(ctx);
}

void sb_api_use_messaging(sb_api_t *api, struct sb_msg_s *msg)
{
    api->msg = msg;
}
