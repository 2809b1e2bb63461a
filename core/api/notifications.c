/*
 * notifications.c: the Notifications resource (read-only): the errors and
 * warnings subsystems record through notify.h (core/store), listed per
 * account with filters and paging, one by SID, and per call
 * (/Calls/{CallSid}/Notifications). A field table for the generic layer.
 */
#include "api_int.h"

#include <string.h>

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("CallSid", "call_sid", "call_sid", SB__T_TEXT,
              SB__F_XOMIT | SB__F_JOMIT),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("Log", "log", "log", SB__T_INT, 0),
    SB__FIELD("ErrorCode", "error_code", "error_code", SB__T_INT, 0),
    SB__FIELD("MoreInfo", "more_info", "more_info", SB__T_TEXT, 0),
    SB__FIELD("MessageText", "message_text", "message_text", SB__T_TEXT, 0),
    SB__FIELD("MessageDate", "message_date", "message_date", SB__T_MSDATE, 0),
    SB__FIELD("RequestUrl", "request_url", "request_url", SB__T_TEXT, 0),
    SB__FIELD("RequestMethod", "request_method", "request_method", SB__T_TEXT, 0),
    SB__FIELD("RequestVariables", "request_variables", "request_variables",
              SB__T_TEXT, 0),
    SB__FIELD("ResponseHeaders", "response_headers", "response_headers", SB__T_TEXT, 0),
    SB__FIELD("ResponseBody", "response_body", "response_body", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
};

static const sb__api_filter_t filters[] = {
    {"StartTime", "date_created", SB__FILT_DATE_FROM},
    {"EndTime", "date_created", SB__FILT_DATE_TO},
    {"ErrorCode", "error_code", SB__FILT_INT},
    {"Log", "log", SB__FILT_INT},
    {"RequestUrl", "request_url", SB__FILT_CONTAINS},
    {"MessageText", "message_text", SB__FILT_CONTAINS},
};

static const sb__api_sort_t sorts[] = {
    {"DateCreated", "date_created"},
    {"ErrorCode", "error_code"},
    {"Log", "log"},
    {"CallSid", "call_sid"},
    {"MessageText", "message_text"},
};

static const char *const nullable_sorts[] = {"call_sid", "message_text", NULL};

sb__api_resource_t sb__api_notifications = {
    .path = "Notifications",
    .xml_item = "Notification",
    .xml_list = "Notifications",
    .json_list = "notifications",
    .always_paged = 1,
    .table_name = "notifications",
    .sid_prefix = "NO",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated",
    .sub_accounts = 1,
    .nullable_sorts = nullable_sorts,
};

void sb__api_call_notifications(sb__api_ctx_t *ctx)
{
    /* segs: Accounts {AC} Calls {CallSid} Notifications */
    if (sb__api_load_op(ctx))
        return;
    if (!sb_sid_valid(ctx->sub, "CA")) {
        sb__api_error(ctx, 400, "%s is not a valid call SID", ctx->sub);
        return;
    }
    const sb__api_resource_t *res = &sb__api_notifications;
    sb_rows_cond_t c[2] = {
        {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
        {.col = sb__api_col(res, "call_sid"), .op = SB_ROWS_EQ, .s = ctx->sub},
    };
    sb__api_list_with(ctx, res, c, 2);
}
