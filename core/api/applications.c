/*
 * applications.c: the Applications resource: a field table for the
 * generic layer. With includeNumbers=true each application carries the
 * numbers that use it (<Numbers>, from numbers.c).
 */
#include "api_int.h"

#include <string.h>
#include <strings.h>

static const char *const kinds[] = {"voice", "sms", "ussd", NULL};

static void render_numbers(sb__api_ctx_t *ctx, sb__api_w_t *w,
                           const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    const char *inc = sb__api_param(ctx, "includeNumbers");
    if (inc == NULL || strcasecmp(inc, "true") != 0)
        return;
    sb__api_w_arr_begin(w, "Numbers", "numbers", NULL);
    sb__api_app_numbers(ctx, w, vals[0].s);
    sb__api_w_arr_end(w, "Numbers");
}

/* Twilio's dialect names the RCML URL voice_url. */
static void render_voice_url(sb__api_ctx_t *ctx, sb__api_w_t *w,
                             const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    if (w->json != SB__API_JSON_TWILIO)
        return;
    const sb_rows_val_t *v = &vals[sb__api_col(res, "rcml_url")];
    sb__api_w_str(w, NULL, "voice_url", v->null ? NULL : v->s, 0);
}

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("FriendlyName", "friendly_name", "friendly_name", SB__T_TEXT,
              SB__F_W | SB__F_REQ),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("VoiceCallerIdLookup", "voice_caller_id_lookup", "voice_caller_id_lookup", SB__T_BOOL,
              SB__F_W, .def = "false"),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("RcmlUrl", "rcml_url", "rcml_url", SB__T_URL,
              SB__F_W | SB__F_CLEAR | SB__F_XOMIT),
    SB__FIELD("Kind", "kind", "kind", SB__T_ENUM,
              SB__F_W | SB__F_CLEAR | SB__F_XOMIT, .choices = kinds),
    SB__FIELD("Numbers", "numbers", NULL, SB__T_CUSTOM, 0, .render = render_numbers),
    SB__FIELD("VoiceUrl", "voice_url", NULL, SB__T_CUSTOM, 0, .render = render_voice_url),
};

sb__api_resource_t sb__api_applications = {
    .path = "Applications",
    .xml_item = "Application",
    .xml_list = "Applications",
    .json_list = "applications",
    .table_name = "applications",
    .sid_prefix = "AP",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_CREATE | SB__OP_UPDATE | SB__OP_DELETE,
    .delete_status = 200,
};
