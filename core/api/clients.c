/*
 * clients.c: the Clients resource (SIP user agents that register with
 * us). A field table for the generic layer plus one hook: the Login rules
 * (no '?', '=', '@'; unique in the SIP domain: the same account gets its
 * existing client back, another account gets 409), the password strength
 * check, and the digest hashes the registrar authenticates with
 * (HA1 = md5 and sha256 of "login:realm:password", realm = the SIP
 * domain). The password itself is never stored nor written out.
 *
 * Also the SIP client Restcomm creates with each account (Login = the
 * e-mail's local part) and keeps in step with the account's password.
 */
#include "api_int.h"

#include <string.h>

static void render_algorithm(sb__api_ctx_t *ctx, sb__api_w_t *w,
                             const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    sb__api_w_str(w, "Password_Algorithm", "password_algorithm", "md5", 0);
}

static int prepare_client(sb__api_ctx_t *ctx, sb__api_edit_t *e);
static void client_conflict(sb__api_ctx_t *ctx, sb__api_edit_t *e);

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("FriendlyName", "friendly_name", "friendly_name", SB__T_TEXT, SB__F_W),
    SB__FIELD("Login", "login", "login", SB__T_TEXT,
              SB__F_CREATE | SB__F_REQ, .max = 64),
    SB__FIELD("Password_Algorithm", "password_algorithm", NULL, SB__T_CUSTOM,
              0, .render = render_algorithm),
    SB__FIELD("Status", "status", "status", SB__T_INT,
              SB__F_W | SB__F_JSTR, .def = "1", .min = 0, .max = 1),
    SB__FIELD("VoiceUrl", "voice_url", "voice_url", SB__T_URL,
              SB__F_W | SB__F_CLEAR | SB__F_XOMIT),
    SB__FIELD("VoiceMethod", "voice_method", "voice_method", SB__T_METHOD,
              SB__F_W, .def = "POST"),
    SB__FIELD("VoiceFallbackUrl", "voice_fallback_url", "voice_fallback_url", SB__T_URL,
              SB__F_W | SB__F_CLEAR | SB__F_XOMIT),
    SB__FIELD("VoiceFallbackMethod", "voice_fallback_method", "voice_fallback_method", SB__T_METHOD,
              SB__F_W, .def = "POST"),
    SB__FIELD("VoiceApplicationSid", "voice_application_sid", "voice_application_sid", SB__T_SID,
              SB__F_W | SB__F_CLEAR | SB__F_XOMIT, .prefix = "AP"),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("Ha1Md5", "ha1_md5", "ha1_md5", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("Ha1Sha256", "ha1_sha256", "ha1_sha256", SB__T_TEXT, SB__F_HIDDEN),
};

sb__api_resource_t sb__api_clients = {
    .path = "Clients",
    .xml_item = "Client",
    .xml_list = "Clients",
    .json_list = "clients",
    .table_name = "clients",
    .sid_prefix = "CL",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_CREATE | SB__OP_UPDATE | SB__OP_DELETE,
    .delete_status = 200,
    .prepare = prepare_client,
    .conflict = client_conflict,
};

void sb__api_client_ha1(const char *login, const char *realm,
                        const char *password, char md5[33], char sha256[65])
{
    char *a1 = sb_xasprintf("%s:%s:%s", login, realm, password);
    sb_md5_hex(a1, strlen(a1), md5);
    sb_sha256_hex(a1, strlen(a1), sha256);
    memset(a1, 0, strlen(a1));
    free(a1);
}

static const char *realm_of(sb__api_ctx_t *ctx)
{
    const sb_config_t *cfg = ctx->api->cfg;
    return cfg && cfg->sip_domain ? cfg->sip_domain : "";
}

/* A Login may not hold '?', '=', '@' (Restcomm), nor ':' (it would split
 * the digest A1), whitespace or control characters. */
static int login_ok(const char *s)
{
    if (*s == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || strchr("?=@:", *p))
            return 0;
    return 1;
}

/* Returns 1 when app names an application of account. */
static int app_of_account(sb__api_ctx_t *ctx, const char *app, const char *account)
{
    const sb__api_resource_t *apps = &sb__api_applications;
    sb_rows_cond_t c[2] = {
        {.col = apps->sid_col, .op = SB_ROWS_EQ, .s = app},
        {.col = apps->owner_col, .op = SB_ROWS_EQ, .s = account},
    };
    sb_row_t row;
    if (sb_rows_get(ctx->api->store, &apps->table, c, 2, &row) != 0)
        return 0;
    sb_row_free(&row);
    return 1;
}

static int prepare_client(sb__api_ctx_t *ctx, sb__api_edit_t *e)
{
    const char *password = sb__api_param(ctx, "Password");
    const sb_rows_val_t *login = sb__api_edit_get(e, "login");
    const sb_rows_val_t *app = sb__api_edit_get(e, "voice_application_sid");
    char md5[33], sha[65];

    if (e->create) {
        if (!login_ok(login->s)) {
            sb__api_error(ctx, 400, "Login %s contains invalid character(s)", login->s);
            return 1;
        }
        /* The login is unique in the domain: the same account gets its
         * client back, another account a conflict. */
        const sb__api_resource_t *res = e->res;
        sb_rows_cond_t c = {.col = sb__api_col(res, "login"), .op = SB_ROWS_EQ_NOCASE,
                            .s = login->s};
        sb_row_t row;
        if (sb_rows_get(ctx->api->store, &res->table, &c, 1, &row) == 0) {
            int mine = strcmp(row.v[res->owner_col].s, ctx->op.sid) == 0;
            char sid[SB_SID_SIZE];
            snprintf(sid, sizeof sid, "%s", row.v[0].s);
            sb_row_free(&row);
            if (mine)
                sb__api_send_row(ctx, res, sid);
            else
                client_conflict(ctx, e);
            return 1;
        }
        if (password == NULL || *password == '\0') {
            sb__api_error(ctx, 400, "Password can not be null.");
            return 1;
        }
        if (sb__api_edit_get(e, "friendly_name") == NULL)
            sb__api_edit_text(e, "friendly_name", login->s);
    }
    if (password) {
        if (!sb__api_password_ok(password)) {
            sb__api_error(ctx, 400, "Password too weak");
            return 1;
        }
        sb__api_client_ha1(login->s, realm_of(ctx), password, md5, sha);
        sb__api_edit_text(e, "ha1_md5", md5);
        sb__api_edit_text(e, "ha1_sha256", sha);
    }
    if (app && !app->null && e->v[sb__api_col(e->res, "voice_application_sid")].set &&
        !app_of_account(ctx, app->s, ctx->op.sid)) {
        sb__api_error(ctx, 400, "VoiceApplicationSid %s is not an application of "
                                "this account", app->s);
        return 1;
    }
    return 0;
}

static void client_conflict(sb__api_ctx_t *ctx, sb__api_edit_t *e)
{
    sb__api_error(ctx, 409, "A client with the same name was already created by "
                            "another account. Please, choose a different name and "
                            "try again.");
}

/* ---- the client linked to an account --------------------------------------- */

static char *local_part(const char *email)
{
    const char *at = strchr(email, '@');
    return sb_xstrndup(email, at ? (size_t)(at - email) : strlen(email));
}

void sb__api_client_link(sb__api_ctx_t *ctx, const char *account_sid,
                         const char *email, const char *friendly_name)
{
    const sb__api_resource_t *res = &sb__api_clients;
    char *login = local_part(email);
    if (!login_ok(login)) {
        free(login);
        return;
    }
    char sid[SB_SID_SIZE];
    sb_sid_new("CL", sid);
    int64_t now = sb__api_now();
    sb__api_edit_t e;
    sb__api_edit_init(&e, res);
    sb__api_edit_text(&e, "sid", sid);
    sb__api_edit_text(&e, "account_sid", account_sid);
    sb__api_edit_text(&e, "login", login);
    sb__api_edit_text(&e, "friendly_name", friendly_name);
    sb__api_edit_int(&e, "status", 1);
    /* No password yet: empty hashes match no digest (the registrar and
     * the INVITE check refuse a login without one). */
    sb__api_edit_text(&e, "ha1_md5", "");
    sb__api_edit_text(&e, "ha1_sha256", "");
    sb__api_edit_text(&e, "voice_method", "POST");
    sb__api_edit_text(&e, "voice_fallback_method", "POST");
    sb__api_edit_text(&e, "api_version", SB_API_VERSION);
    sb__api_edit_int(&e, "date_created", now);
    sb__api_edit_int(&e, "date_updated", now);
    /* A login already taken (by anyone) is left alone, as in Restcomm. */
    int rc = sb_rows_insert(ctx->api->store, &res->table, e.v);
    if (rc != 0 && rc != SB_EEXIST)
        sb_warn("api: cannot create the client of account %s", account_sid);
    sb__api_edit_free(&e);
    free(login);
}
