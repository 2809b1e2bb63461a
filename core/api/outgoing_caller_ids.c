/*
 * outgoing_caller_ids.c: the OutgoingCallerIds resource (issue 21): the
 * numbers an account may show as its caller ID, with Restcomm's fields
 * (Sid PN..., AccountSid, FriendlyName, PhoneNumber, DateCreated,
 * DateUpdated, Uri). A field table for the generic layer and one hook.
 *
 * Create takes PhoneNumber (required; normalized to E.164 the way
 * Restcomm's libphonenumber call with region US does for the usual
 * inputs: ten digits are a US number) and FriendlyName (default: the
 * national form of a US number, else the number); update changes
 * FriendlyName only. No verification call is placed: the number is
 * recorded as given (Twilio's dialect answers its validation request with
 * the caller ID itself). The same number twice in one account is 400
 * (Twilio's code 21450).
 */
#include "api_int.h"

#include <string.h>

static int prepare_caller_id(sb__api_ctx_t *ctx, sb__api_edit_t *e);
static void caller_id_conflict(sb__api_ctx_t *ctx, sb__api_edit_t *e);

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("FriendlyName", "friendly_name", "friendly_name", SB__T_TEXT, SB__F_W),
    SB__FIELD("PhoneNumber", "phone_number", "phone_number", SB__T_TEXT,
              SB__F_CREATE | SB__F_REQ, .max = 64),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("_api_version", "_api_version", "api_version", SB__T_TEXT, SB__F_HIDDEN),
};

static const sb__api_filter_t filters[] = {
    {"PhoneNumber", "phone_number", SB__FILT_EQ},
    {"FriendlyName", "friendly_name", SB__FILT_EQ},
};

static const sb__api_sort_t sorts[] = {
    {"DateCreated", "date_created"},
    {"PhoneNumber", "phone_number"},
    {"FriendlyName", "friendly_name"},
};

sb__api_resource_t sb__api_caller_ids = {
    .path = "OutgoingCallerIds",
    .xml_item = "OutgoingCallerId",
    .xml_list = "OutgoingCallerIds",
    .json_list = "outgoing_caller_ids",
    .always_paged = 0,          /* Restcomm: a bare list (paged on request) */
    .table_name = "outgoing_caller_ids",
    .sid_prefix = "PN",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_CREATE | SB__OP_UPDATE | SB__OP_DELETE,
    .delete_status = 200,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated",
    .prepare = prepare_caller_id,
    .conflict = caller_id_conflict,
};

/* E.164 from what people type: separators go, an optional '+', 2 to 15
 * digits; without '+', ten digits are a US number (+1) and eleven digits
 * starting with 1 are one too. Returns 0 or SB_EINVAL. */
static int e164(const char *in, char out[24])
{
    char d[16];
    size_t n = 0;
    const char *p = in;
    int plus = 0;
    while (*p == ' ')
        p++;
    if (*p == '+') {
        plus = 1;
        p++;
    }
    for (; *p; p++) {
        if (*p == ' ' || *p == '-' || *p == '.' || *p == '(' || *p == ')')
            continue;
        if (*p < '0' || *p > '9' || n == 15)
            return SB_EINVAL;
        d[n++] = *p;
    }
    d[n] = '\0';
    if (n < 2)
        return SB_EINVAL;
    if (!plus && n == 10)
        snprintf(out, 24, "+1%s", d);
    else
        snprintf(out, 24, "+%s", d);
    return 0;
}

static int prepare_caller_id(sb__api_ctx_t *ctx, sb__api_edit_t *e)
{
    if (!e->create)
        return 0;
    char num[24];
    /* A '+' sent unencoded in a form arrives as a space: e164 skips it. */
    if (e164(sb__api_edit_get(e, "phone_number")->s, num) != 0) {
        sb__api_error_code(ctx, 400, 21401, "Invalid phone number.");
        return 1;
    }
    sb__api_edit_text(e, "phone_number", num);
    if (sb__api_edit_get(e, "friendly_name") == NULL) {
        char nat[32];
        sb__api_edit_text(e, "friendly_name",
                          sb__api_number_national(num, nat, sizeof nat) ? nat : num);
    }
    return 0;
}

static void caller_id_conflict(sb__api_ctx_t *ctx, sb__api_edit_t *e)
{
    sb__api_error_code(ctx, 400, 21450, "Phone number %s is already a caller ID of this "
                       "account", sb__api_edit_get(e, "phone_number")->s);
}
