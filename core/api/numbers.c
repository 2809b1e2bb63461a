/*
 * numbers.c: the IncomingPhoneNumbers resource. A field table for the
 * generic layer plus one hook that checks the number: pure-SIP numbers
 * (isSIP=true) are kept as given and may be regular expressions (compiled
 * with the matcher's engine, core/call, so a bad one is refused with the
 * reason) or "*"; other numbers are normalized to "+" and digits. A number
 * already taken in the domain is 400 with body 21452, as in Restcomm.
 *
 * The Local, TollFree and Mobile factory paths create (and list) numbers
 * of that type locally: there is no external number provider. Also here:
 * the number summaries Applications show with includeNumbers=true.
 */
#include "api_int.h"
#include "call.h"

#include <string.h>

static void render_app_name(sb__api_ctx_t *ctx, sb__api_w_t *w, const char *sid,
                            const char *xml, const char *json);

#define APP_NAME(fn, column, xml, json)                                       \
    static void fn(sb__api_ctx_t *ctx, sb__api_w_t *w,                       \
                   const sb__api_resource_t *res, const sb_rows_val_t *vals) \
    {                                                                         \
        const sb_rows_val_t *v = &vals[sb__api_col(res, column)];            \
        if (!v->null)                                                         \
            render_app_name(ctx, w, v->s, xml, json);                         \
    }
APP_NAME(voice_app_name, "voice_application_sid", "VoiceApplicationName",
         "voice_application_name")
APP_NAME(sms_app_name, "sms_application_sid", "SmsApplicationName",
         "sms_application_name")
APP_NAME(ussd_app_name, "ussd_application_sid", "UssdApplicationName",
         "ussd_application_name")
APP_NAME(refer_app_name, "refer_application_sid", "ReferApplicationName",
         "refer_application_name")

static void render_capabilities(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                const sb__api_resource_t *res,
                                const sb_rows_val_t *vals)
{
    static const struct {
        const char *col, *xml, *json, *twilio;
    } caps[] = {
        {"voice_capable", "Voice", "voice_capable", "voice"},
        {"sms_capable", "Sms", "sms_capable", "sms"},
        {"mms_capable", "Mms", "mms_capable", "mms"},
        {"fax_capable", "Fax", "fax_capable", "fax"},
    };
    /* Twilio names them {"voice", "sms", "mms", "fax"}. */
    int tw = w->json == SB__API_JSON_TWILIO;
    sb__api_w_obj_begin(w, "Capabilities", "capabilities");
    for (size_t i = 0; i < SB_COUNTOF(caps); i++)
        sb__api_w_bool(w, caps[i].xml, tw ? caps[i].twilio : caps[i].json,
                       vals[sb__api_col(res, caps[i].col)].i != 0);
    sb__api_w_obj_end(w, "Capabilities");
}

static int prepare_number(sb__api_ctx_t *ctx, sb__api_edit_t *e);
static void number_conflict(sb__api_ctx_t *ctx, sb__api_edit_t *e);

#define URLF (SB__F_W | SB__F_CLEAR | SB__F_XOMIT)
#define APPF (SB__F_W | SB__F_CLEAR | SB__F_XOMIT)

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("FriendlyName", "friendly_name", "friendly_name", SB__T_TEXT, SB__F_W),
    SB__FIELD("PhoneNumber", "phone_number", "phone_number", SB__T_TEXT,
              SB__F_CREATE | SB__F_REQ, .max = 128),
    SB__FIELD("VoiceUrl", "voice_url", "voice_url", SB__T_URL, URLF),
    SB__FIELD("VoiceMethod", "voice_method", "voice_method", SB__T_METHOD,
              SB__F_W, .def = "POST"),
    SB__FIELD("VoiceFallbackUrl", "voice_fallback_url", "voice_fallback_url",
              SB__T_URL, URLF),
    SB__FIELD("VoiceFallbackMethod", "voice_fallback_method", "voice_fallback_method",
              SB__T_METHOD, SB__F_W, .def = "POST"),
    SB__FIELD("StatusCallback", "status_callback", "status_callback", SB__T_URL, URLF),
    SB__FIELD("StatusCallbackMethod", "status_callback_method",
              "status_callback_method", SB__T_METHOD, SB__F_W, .def = "POST"),
    SB__FIELD("VoiceCallerIdLookup", "voice_caller_id_lookup", "voice_caller_id_lookup",
              SB__T_BOOL, SB__F_W, .def = "false"),
    SB__FIELD("VoiceApplicationSid", "voice_application_sid", "voice_application_sid",
              SB__T_SID, APPF, .prefix = "AP"),
    SB__FIELD("VoiceApplicationName", "voice_application_name", NULL, SB__T_CUSTOM, 0,
              .render = voice_app_name),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("SmsUrl", "sms_url", "sms_url", SB__T_URL, URLF),
    SB__FIELD("SmsMethod", "sms_method", "sms_method", SB__T_METHOD, SB__F_W,
              .def = "POST"),
    SB__FIELD("SmsFallbackUrl", "sms_fallback_url", "sms_fallback_url", SB__T_URL, URLF),
    SB__FIELD("SmsFallbackMethod", "sms_fallback_method", "sms_fallback_method",
              SB__T_METHOD, SB__F_W, .def = "POST"),
    SB__FIELD("SmsApplicationSid", "sms_application_sid", "sms_application_sid",
              SB__T_SID, APPF, .prefix = "AP"),
    SB__FIELD("SmsApplicationName", "sms_application_name", NULL, SB__T_CUSTOM, 0,
              .render = sms_app_name),
    SB__FIELD("UssdUrl", "ussd_url", "ussd_url", SB__T_URL, URLF),
    SB__FIELD("UssdMethod", "ussd_method", "ussd_method", SB__T_METHOD, SB__F_W,
              .def = "POST"),
    SB__FIELD("UssdFallbackUrl", "ussd_fallback_url", "ussd_fallback_url", SB__T_URL,
              URLF),
    SB__FIELD("UssdFallbackMethod", "ussd_fallback_method", "ussd_fallback_method",
              SB__T_METHOD, SB__F_W, .def = "POST"),
    SB__FIELD("UssdApplicationSid", "ussd_application_sid", "ussd_application_sid",
              SB__T_SID, APPF, .prefix = "AP"),
    SB__FIELD("UssdApplicationName", "ussd_application_name", NULL, SB__T_CUSTOM, 0,
              .render = ussd_app_name),
    SB__FIELD("ReferUrl", "refer_url", "refer_url", SB__T_URL, URLF),
    SB__FIELD("ReferMethod", "refer_method", "refer_method", SB__T_METHOD, SB__F_W,
              .def = "POST"),
    SB__FIELD("ReferApplicationSid", "refer_application_sid", "refer_application_sid",
              SB__T_SID, APPF, .prefix = "AP"),
    SB__FIELD("ReferApplicationName", "refer_application_name", NULL, SB__T_CUSTOM, 0,
              .render = refer_app_name),
    SB__FIELD("Capabilities", "capabilities", NULL, SB__T_CUSTOM, 0,
              .render = render_capabilities),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    /* Parameters that are not elements of their own. */
    /* Every capability defaults to false, as in Restcomm (its own tests
     * expect that of a number created without them). */
    SB__FIELD("VoiceCapable", "voice_capable", "voice_capable", SB__T_BOOL,
              SB__F_W | SB__F_HIDDEN, .def = "false"),
    SB__FIELD("SmsCapable", "sms_capable", "sms_capable", SB__T_BOOL,
              SB__F_W | SB__F_HIDDEN, .def = "false"),
    SB__FIELD("MmsCapable", "mms_capable", "mms_capable", SB__T_BOOL,
              SB__F_W | SB__F_HIDDEN, .def = "false"),
    SB__FIELD("FaxCapable", "fax_capable", "fax_capable", SB__T_BOOL,
              SB__F_W | SB__F_HIDDEN, .def = "false"),
    SB__FIELD("isSIP", "pure_sip", "pure_sip", SB__T_BOOL,
              SB__F_CREATE | SB__F_HIDDEN, .def = "false"),
    SB__FIELD("Cost", "cost", "cost", SB__T_TEXT, SB__F_W | SB__F_HIDDEN, .max = 32),
    SB__FIELD("NumberType", "number_type", "number_type", SB__T_TEXT, SB__F_HIDDEN),
};

static const sb__api_filter_t filters[] = {
    {"PhoneNumber", "phone_number", SB__FILT_WILDCARD},
    {"FriendlyName", "friendly_name", SB__FILT_CONTAINS},
};

static const sb__api_sort_t sorts[] = {
    {"PhoneNumber", "phone_number"},
    {"FriendlyName", "friendly_name"},
    {"DateCreated", "date_created"},
};

sb__api_resource_t sb__api_numbers = {
    .path = "IncomingPhoneNumbers",
    .xml_item = "IncomingPhoneNumber",
    .xml_list = "IncomingPhoneNumbers",
    .json_list = "incomingPhoneNumbers",
    .always_paged = 1,
    .table_name = "incoming_phone_numbers",
    .sid_prefix = "PN",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_CREATE | SB__OP_UPDATE | SB__OP_DELETE,
    .delete_status = 204,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "PhoneNumber",
    .prepare = prepare_number,
    .conflict = number_conflict,
};

/* ---- application names and summaries ---------------------------------------- */

static void render_app_name(sb__api_ctx_t *ctx, sb__api_w_t *w, const char *sid,
                            const char *xml, const char *json)
{
    const sb__api_resource_t *apps = &sb__api_applications;
    sb_rows_cond_t c = {.col = apps->sid_col, .op = SB_ROWS_EQ, .s = sid};
    sb_row_t row;
    if (sb_rows_get(ctx->api->store, &apps->table, &c, 1, &row) != 0) {
        sb__api_w_str(w, xml, json, NULL, 0);
        return;
    }
    sb__api_w_str(w, xml, json, row.v[sb__api_col(apps, "friendly_name")].s, 0);
    sb_row_free(&row);
}

typedef struct {
    sb__api_ctx_t *ctx;
    sb__api_w_t *w;
    char (*seen)[SB_SID_SIZE];
    int nseen, cap;
} summary_t;

static int on_summary(const sb_rows_val_t *v, void *arg)
{
    summary_t *s = arg;
    const sb__api_resource_t *res = &sb__api_numbers;
    for (int i = 0; i < s->nseen; i++)
        if (strcmp(s->seen[i], v[0].s) == 0)
            return 0;
    if (s->nseen == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->seen = sb_xrealloc(s->seen, (size_t)s->cap * sizeof *s->seen);
    }
    snprintf(s->seen[s->nseen++], SB_SID_SIZE, "%s", v[0].s);
    static const struct {
        const char *xml, *json, *col;
        unsigned flags;
    } f[] = {
        {"Sid", "sid", "sid", 0},
        {"FriendlyName", "friendly_name", "friendly_name", 0},
        {"PhoneNumber", "phone_number", "phone_number", 0},
        {"VoiceApplicationSid", "voice_application_sid", "voice_application_sid",
         SB__W_XOMIT | SB__W_JOMIT},
        {"SmsApplicationSid", "sms_application_sid", "sms_application_sid",
         SB__W_XOMIT | SB__W_JOMIT},
        {"UssdApplicationSid", "ussd_application_sid", "ussd_application_sid",
         SB__W_XOMIT | SB__W_JOMIT},
        {"ReferApplicationSid", "refer_application_sid", "refer_application_sid",
         SB__W_XOMIT | SB__W_JOMIT},
    };
    sb__api_w_obj_begin(s->w, "Number", NULL);
    for (size_t i = 0; i < SB_COUNTOF(f); i++) {
        const sb_rows_val_t *x = &v[sb__api_col(res, f[i].col)];
        sb__api_w_str(s->w, f[i].xml, f[i].json, x->null ? NULL : x->s, f[i].flags);
    }
    sb__api_w_obj_end(s->w, "Number");
    return 0;
}

void sb__api_app_numbers(sb__api_ctx_t *ctx, sb__api_w_t *w, const char *app)
{
    static const char *const uses[] = {"voice_application_sid", "sms_application_sid",
                                       "ussd_application_sid", "refer_application_sid"};
    const sb__api_resource_t *res = &sb__api_numbers;
    if (res->refs == 0)
        return;
    summary_t s = {.ctx = ctx, .w = w};
    for (size_t i = 0; i < SB_COUNTOF(uses); i++) {
        sb_rows_cond_t c = {.col = sb__api_col(res, uses[i]), .op = SB_ROWS_EQ, .s = app};
        sb_rows_query_t q = {.conds = &c, .nconds = 1,
                             .order_col = sb__api_col(res, "phone_number"), .limit = -1};
        sb_rows_list(ctx->api->store, &res->table, &q, on_summary, &s);
    }
    free(s.seen);
}

/* ---- create and update rules ---------------------------------------------- */

/* Non-SIP numbers: spaces, dashes, dots and parentheses go (a '+' sent
 * unencoded in a form arrives as a space, so " 1555" is "+1555" as in
 * Restcomm); what is left must be an optional '+' and 2 to 20 digits; the
 * result is "+digits". */
static char *normalize(const char *in)
{
    char digits[32];
    size_t n = 0;
    const char *p = in;
    while (*p == ' ')
        p++;
    if (*p == '+')
        p++;
    for (; *p; p++) {
        if (*p == ' ' || *p == '-' || *p == '.' || *p == '(' || *p == ')')
            continue;
        if (*p < '0' || *p > '9' || n == 20)
            return NULL;
        digits[n++] = *p;
    }
    if (n < 2)
        return NULL;
    digits[n] = '\0';
    return sb_xasprintf("+%s", digits);
}

/* 1 when app names an application of the operated account. */
static int own_app(sb__api_ctx_t *ctx, const char *app)
{
    const sb__api_resource_t *apps = &sb__api_applications;
    sb_rows_cond_t c[2] = {
        {.col = apps->sid_col, .op = SB_ROWS_EQ, .s = app},
        {.col = apps->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
    };
    sb_row_t row;
    if (sb_rows_get(ctx->api->store, &apps->table, c, 2, &row) != 0)
        return 0;
    sb_row_free(&row);
    return 1;
}

static int prepare_number(sb__api_ctx_t *ctx, sb__api_edit_t *e)
{
    static const struct {
        const char *col, *param;
    } apps[] = {
        {"voice_application_sid", "VoiceApplicationSid"},
        {"sms_application_sid", "SmsApplicationSid"},
        {"ussd_application_sid", "UssdApplicationSid"},
        {"refer_application_sid", "ReferApplicationSid"},
    };
    if (e->create) {
        const char *number = sb__api_edit_get(e, "phone_number")->s;
        int sip = sb__api_edit_get(e, "pure_sip")->i != 0;
        if (sip) {
            for (const unsigned char *p = (const unsigned char *)number; *p; p++) {
                if (*p <= 0x20 || *p == 0x7f) {
                    sb__api_error(ctx, 400, "PhoneNumber may not contain spaces or "
                                            "control characters");
                    return 1;
                }
            }
            if (sb_call_number_is_pattern(number)) {
                char err[256];
                sb_call_regex_t *re = NULL;
                if (sb_call_regex_compile(number, &re, err, sizeof err) != 0) {
                    sb__api_error(ctx, 400, "Invalid regular expression %s: %s",
                                  number, err);
                    return 1;
                }
                sb_call_regex_free(re);
            }
        } else {
            char *norm = normalize(number);
            if (norm == NULL) {
                sb__api_error(ctx, 400, "PhoneNumber %s is not a valid phone number "
                                        "(use isSIP=true for SIP numbers and "
                                        "patterns)", number);
                return 1;
            }
            sb__api_edit_text(e, "phone_number", norm);
            free(norm);
            /* With a number pool, only its available numbers are sold. */
            if (sb__api_pool_claim(ctx, e))
                return 1;
        }
        if (sb__api_edit_get(e, "friendly_name") == NULL)
            sb__api_edit_text(e, "friendly_name",
                              sb__api_edit_get(e, "phone_number")->s);
        if (ctx->sub)
            sb__api_edit_text(e, "number_type", ctx->sub);
    }
    for (size_t i = 0; i < SB_COUNTOF(apps); i++) {
        int c = sb__api_col(e->res, apps[i].col);
        if (e->v[c].set && !e->v[c].null && !own_app(ctx, e->v[c].s)) {
            sb__api_error(ctx, 400, "%s %s is not an application of this account",
                          apps[i].param, e->v[c].s);
            return 1;
        }
    }
    return 0;
}

static void number_conflict(sb__api_ctx_t *ctx, sb__api_edit_t *e)
{
    /* Restcomm's answer: 400 with the bare error code as the body;
     * Twilio's error body with that code in its dialect. */
    if (ctx->json == SB__API_JSON_TWILIO) {
        sb__api_error_code(ctx, 400, 21452, "Phone number %s is not available",
                           sb__api_edit_get(e, "phone_number")->s);
        return;
    }
    static const char body[] = "21452";
    sb__api_send_raw(ctx, 400, "text/plain", body, sizeof body - 1);
}

/* ---- the factory paths: Local, TollFree, Mobile ------------------------------- */

void sb__api_numbers_factory(sb__api_ctx_t *ctx)
{
    /* segs: Accounts {AC} IncomingPhoneNumbers <Type> */
    const char *type = ctx->segs[3];
    ctx->sub = strcmp(type, "Local") == 0      ? "local"
               : strcmp(type, "TollFree") == 0 ? "tollfree"
                                               : "mobile";
    if (strcmp(ctx->method, "GET") == 0) {
        if (sb__api_load_op(ctx))
            return;
        const sb__api_resource_t *res = &sb__api_numbers;
        sb_rows_cond_t c[2] = {
            {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
            {.col = sb__api_col(res, "number_type"), .op = SB_ROWS_EQ, .s = ctx->sub},
        };
        sb__api_list_with(ctx, res, c, 2);
    } else {
        sb__api_create(ctx);
    }
}
