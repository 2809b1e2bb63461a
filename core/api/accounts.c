/*
 * accounts.c: the Accounts resource. Rendering and listing go through the
 * generic layer (the field table below); create and update are written
 * out here because they do more than store parameters: the SID is
 * AC + md5(e-mail), passwords are hashed on the thread pool and rotate
 * the token, Status applies to a whole sub-tree (closing is final), only
 * an Administrator may set roles, and each account gets the SIP client
 * Restcomm links to it. DELETE is 405, as in Restcomm.
 *
 * Roles (roles.c): a new sub-account is a Developer (or its creator's
 * role, when lower) unless Role says otherwise; Role may not rise above
 * the creator's own; only an Administrator changes a role afterwards. An
 * unknown role name is 400.
 */
#include "api_int.h"

#include <string.h>
#include <strings.h>

static const char *const statuses[] = {"active", "suspended", "closed", "inactive",
                                       "uninitialized", NULL};

static void render_account_uri(sb__api_ctx_t *ctx, sb__api_w_t *w,
                               const sb__api_resource_t *res,
                               const sb_rows_val_t *vals)
{
    sb_buf_t b = SB_BUF_INIT;
    if (w->json == SB__API_JSON_TWILIO)   /* Twilio's form */
        sb_buf_printf(&b, "/%s/Accounts/%s.json", SB_API_TWILIO_VERSION, vals[0].s);
    else                                  /* Restcomm's */
        sb_buf_printf(&b, "/%s/Accounts%s/%s", SB_API_VERSION, w->json ? ".json" : "",
                      vals[0].s);
    sb__api_w_str(w, "Uri", "uri", sb_buf_str(&b), 0);
    sb_buf_free(&b);
}

static void render_subresources(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                const sb__api_resource_t *res,
                                const sb_rows_val_t *vals)
{
    static const struct {
        const char *xml, *json, *path;
    } subs[] = {
        {"AvailablePhoneNumbers", "available_phone_numbers", "AvailablePhoneNumbers"},
        {"Calls", "calls", "Calls"},
        {"Conferences", "conferences", "Conferences"},
        {"IncomingPhoneNumbers", "incoming_phone_numbers", "IncomingPhoneNumbers"},
        {"Notifications", "notifications", "Notifications"},
        {"OutgoingCallerIds", "outgoing_caller_ids", "OutgoingCallerIds"},
        {"Recordings", "recordings", "Recordings"},
        {"Sandbox", "sandbox", "Sandbox"},
        {"SMSMessages", "sms_messages", "SMS/Messages"},
        {"Transcriptions", "transcriptions", "Transcriptions"},
    };
    sb__api_w_obj_begin(w, "SubresourceUris", "subresource_uris");
    for (size_t i = 0; i < SB_COUNTOF(subs); i++) {
        sb_buf_t b = SB_BUF_INIT;
        sb_buf_printf(&b, "/%s/Accounts/%s/%s%s", SB__API_VER(w->json), vals[0].s,
                      subs[i].path, w->json ? ".json" : "");
        sb__api_w_str(w, subs[i].xml, subs[i].json, sb_buf_str(&b), 0);
        sb_buf_free(&b);
    }
    sb__api_w_obj_end(w, "SubresourceUris");
}

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("FriendlyName", "friendly_name", "friendly_name", SB__T_TEXT, SB__F_W),
    SB__FIELD("EmailAddress", "email_address", "email_address", SB__T_TEXT, 0),
    SB__FIELD("Status", "status", "status", SB__T_ENUM, SB__F_W, .choices = statuses),
    SB__FIELD("Role", "role", "role", SB__T_TEXT, SB__F_W),
    SB__FIELD("Type", "type", "type", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("AuthToken", "auth_token", "auth_token", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_CUSTOM, 0, .render = render_account_uri),
    SB__FIELD("SubresourceUris", "subresource_uris", NULL, SB__T_CUSTOM,
              0, .render = render_subresources),
    SB__FIELD("ParentSid", "parent_sid", "parent_sid", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("PasswordHash", "password_hash", "password_hash", SB__T_TEXT,
              SB__F_HIDDEN),
};

sb__api_resource_t sb__api_accounts = {
    .path = "Accounts",
    .xml_item = "Account",
    .xml_list = "Accounts",
    .json_list = "accounts",
    .table_name = "accounts",
    .sid_prefix = "AC",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET | SB__OP_CREATE | SB__OP_UPDATE,
};

/* ---- list and get ---------------------------------------------------------- */

void sb__api_accounts_list(sb__api_ctx_t *ctx)
{
    /* The caller's sub-accounts (its children), as Restcomm lists them. */
    sb_rows_cond_t c = {.col = sb__api_col(&sb__api_accounts, "parent_sid"),
                        .op = SB_ROWS_EQ, .s = ctx->me.sid};
    sb__api_list_with(ctx, &sb__api_accounts, &c, 1);
}

void sb__api_accounts_get(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    sb__api_send_row(ctx, &sb__api_accounts, ctx->op.sid);
}

void sb__api_accounts_delete(sb__api_ctx_t *ctx)
{
    sb__api_error(ctx, 405, "Accounts cannot be deleted; close them with "
                            "Status=closed");
}

/* ---- validation ----------------------------------------------------------- */

static int email_ok(const char *e)
{
    const char *at = strchr(e, '@');
    size_t n = strlen(e);
    if (at == NULL || at == e || strchr(at + 1, '@') || n > 254 ||
        (size_t)(at - e) > 64)
        return 0;
    for (const char *p = e; p < at; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c == 0x7f || strchr("()<>,;:\\\"[]", c))
            return 0;
    }
    const char *d = at + 1;
    if (*d == '\0' || *d == '.' || d[strlen(d) - 1] == '.' || strstr(d, ".."))
        return 0;
    for (const char *p = d; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '.' || c >= 0x80))
            return 0;
    }
    return 1;
}

static const char *status_value(const char *s)
{
    for (const char *const *p = statuses; *p; p++)
        if (strcasecmp(s, *p) == 0)
            return *p;
    return NULL;
}

static int is_admin(const sb_account_t *a)
{
    return sb__api_role_of(a) == SB__API_ROLE_ADMINISTRATOR;
}

static void bad_role(sb__api_ctx_t *ctx, const char *role)
{
    sb__api_error(ctx, 400, "Role %.64s is not valid; it must be one of: "
                            "Administrator, Developer, Unprivileged, Guest", role);
}

/* ---- create --------------------------------------------------------------- */

/* What a create or update carries across the password hashing. */
typedef struct {
    char *email, *friendly, *status, *role, *password;
    char *hash;                 /* result of the work */
    int has_friendly, has_role;
} change_t;

static void change_free(void *p)
{
    change_t *c = p;
    if (c == NULL)
        return;
    free(c->email);
    free(c->friendly);
    free(c->status);
    free(c->role);
    if (c->password) {
        memset(c->password, 0, strlen(c->password));
        free(c->password);
    }
    free(c->hash);
    free(c);
}

static void hash_work(sb__api_ctx_t *ctx)
{
    change_t *c = ctx->hold;
    c->hash = sb_password_hash(c->password, 0);
}

static void create_done(sb__api_ctx_t *ctx)
{
    change_t *c = ctx->hold;
    sb_account_t a;
    memset(&a, 0, sizeof a);
    sb_sid_account(c->email, a.sid);
    snprintf(a.parent_sid, sizeof a.parent_sid, "%s", ctx->me.sid);
    a.email = c->email;
    a.friendly_name = c->friendly;
    a.type = (char *)"Full";
    a.status = c->status;
    a.role = c->role;
    a.auth_token = sb_token_new();
    a.password_hash = c->hash;
    a.date_created = a.date_updated = sb__api_now();
    int rc = sb_store_account_insert(ctx->api->store, &a);
    free(a.auth_token);
    if (rc == SB_EEXIST) {
        sb__api_error(ctx, 409, "The email address used for the new account is "
                                "already in use.");
        return;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    sb__api_client_link(ctx, a.sid, c->email, c->friendly);
    sb__api_send_row(ctx, &sb__api_accounts, a.sid);
}

void sb__api_accounts_create(sb__api_ctx_t *ctx)
{
    sb_store_t *store = ctx->api->store;
    int depth = 0;
    if (sb_store_account_depth(store, ctx->me.sid, &depth) != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    if (depth >= 2) {
        sb__api_error(ctx, 400, "This account is not allowed to have sub-accounts");
        return;
    }
    const char *email = sb__api_param(ctx, "EmailAddress");
    const char *password = sb__api_param(ctx, "Password");
    const char *status = sb__api_param(ctx, "Status");
    const char *friendly = sb__api_param(ctx, "FriendlyName");
    const char *role = sb__api_param(ctx, "Role");
    /* Twilio creates a sub-account from a FriendlyName alone (it signs in
     * with its AuthToken): made-up e-mail and password, never shown. */
    char made_email[96], made_password[64];
    if (ctx->json == SB__API_JSON_TWILIO && (email == NULL || *email == '\0') &&
        (password == NULL || *password == '\0')) {
        char *a = sb_token_new(), *b = sb_token_new();
        snprintf(made_email, sizeof made_email, "%s@subaccounts.invalid", a);
        snprintf(made_password, sizeof made_password, "Tw-%s-%.8s!", b, a);
        free(a);
        free(b);
        email = made_email;
        password = made_password;
    }
    if (email == NULL || *email == '\0') {
        sb__api_error(ctx, 400, "EmailAddress can not be null.");
        return;
    }
    if (password == NULL || *password == '\0') {
        sb__api_error(ctx, 400, "Password can not be null.");
        return;
    }
    if (!email_ok(email)) {
        sb__api_error(ctx, 400, "Provided email address %s is not valid", email);
        return;
    }
    if (status && status_value(status) == NULL) {
        sb__api_error(ctx, 400, "Status must be one of: active, suspended, closed, "
                                "inactive, uninitialized");
        return;
    }
    if (friendly && strlen(friendly) > 255) {
        sb__api_error(ctx, 400, "FriendlyName is too long (at most 255 bytes)");
        return;
    }
    /* The new account's role: as asked, but never above the creator's;
     * by default Developer (or the creator's, when lower). */
    int mine = sb__api_role_of(&ctx->me);
    int want = mine < SB__API_ROLE_DEVELOPER ? mine : SB__API_ROLE_DEVELOPER;
    if (role) {
        want = sb__api_role_parse(role);
        if (want < 0) {
            bad_role(ctx, role);
            return;
        }
        if (want > mine) {
            sb__api_error(ctx, 403, "A sub-account cannot have a role above its "
                                    "creator's (%s)", sb__api_role_name(mine));
            return;
        }
    }
    if (!sb__api_password_ok(password)) {
        sb__api_error(ctx, 400, "Password too weak");
        return;
    }
    change_t *c = SB_NEW(change_t);
    c->email = sb_xstrdup(email);
    for (char *p = c->email; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + 32);
    char sid[SB_SID_SIZE];
    sb_sid_account(c->email, sid);
    sb_account_t existing;
    int rc = sb_store_account_get(store, sid, &existing);
    if (rc == 0 || (rc = sb_store_account_get(store, c->email, &existing)) == 0) {
        sb_account_clear(&existing);
        change_free(c);
        sb__api_error(ctx, 409, "The email address used for the new account is "
                                "already in use.");
        return;
    }
    c->friendly = sb_xstrdup(friendly && *friendly ? friendly : c->email);
    c->status = sb_xstrdup(status ? status_value(status) : "active");
    c->role = sb_xstrdup(sb__api_role_name(want));
    c->password = sb_xstrdup(password);
    ctx->hold = c;
    ctx->hold_free = change_free;
    sb__api_offload(ctx, hash_work, create_done);
}

/* ---- update --------------------------------------------------------------- */

static void update_apply(sb__api_ctx_t *ctx)
{
    change_t *c = ctx->hold;
    sb_store_t *store = ctx->api->store;
    int64_t now = sb__api_now();
    const sb__api_resource_t *res = &sb__api_accounts;

    sb__api_edit_t e;
    sb__api_edit_init(&e, res);
    if (c->has_friendly)
        sb__api_edit_text(&e, "friendly_name", c->friendly);
    if (c->has_role)
        sb__api_edit_text(&e, "role", c->role);
    sb__api_edit_int(&e, "date_updated", now);
    sb_rows_cond_t cond = {.col = 0, .op = SB_ROWS_EQ, .s = ctx->op.sid};
    int rc = sb_rows_update(store, &res->table, &cond, 1, e.v, NULL);
    sb__api_edit_free(&e);
    if (rc == 0 && c->status)
        rc = sb_store_account_set_status_tree(store, ctx->op.sid, c->status, now, NULL);
    if (rc == 0 && c->hash) {
        char *token = sb_token_new();
        rc = sb_store_account_set_password(store, ctx->op.sid, c->hash, token, now);
        free(token);
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    sb__api_send_row(ctx, res, ctx->op.sid);
}

void sb__api_accounts_update(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    if (ctx->op.status && strcmp(ctx->op.status, "closed") == 0) {
        sb__api_error(ctx, 400, "Account is closed");
        return;
    }
    const char *friendly = sb__api_param(ctx, "FriendlyName");
    const char *status = sb__api_param(ctx, "Status");
    const char *role = sb__api_param(ctx, "Role");
    const char *password = sb__api_param(ctx, "Password");
    int self = strcmp(ctx->op.sid, ctx->me.sid) == 0;

    if (friendly && strlen(friendly) > 255) {
        sb__api_error(ctx, 400, "FriendlyName is too long (at most 255 bytes)");
        return;
    }
    if (status && status_value(status) == NULL) {
        sb__api_error(ctx, 400, "Status must be one of: active, suspended, closed, "
                                "inactive, uninitialized");
        return;
    }
    if (status && self && strcmp(status_value(status), ctx->op.status) != 0) {
        sb__api_error(ctx, 403, "An account cannot change its own status");
        return;
    }
    /* EmailAddress cannot change (the SID derives from it): validated,
     * then ignored, as Restcomm does. */
    const char *email = sb__api_param(ctx, "EmailAddress");
    if (email && !email_ok(email)) {
        sb__api_error(ctx, 400, "Provided email address %.254s is not valid", email);
        return;
    }
    if (role && sb__api_role_parse(role) < 0) {
        bad_role(ctx, role);
        return;
    }
    if (role && !is_admin(&ctx->me)) {
        sb__api_error(ctx, 403, "Only Administrator allowed");
        return;
    }
    if (password && !sb__api_password_ok(password)) {
        sb__api_error(ctx, 400, "Password too weak");
        return;
    }
    change_t *c = SB_NEW(change_t);
    c->has_friendly = friendly != NULL;
    c->friendly = sb_xstrdup(friendly);
    c->has_role = role != NULL;
    c->role = role ? sb_xstrdup(sb__api_role_name(sb__api_role_parse(role))) : NULL;
    if (status && !(self && strcmp(status_value(status), ctx->op.status) == 0))
        c->status = sb_xstrdup(status_value(status));
    ctx->hold = c;
    ctx->hold_free = change_free;
    if (password) {
        c->password = sb_xstrdup(password);
        sb__api_offload(ctx, hash_work, update_apply);
    } else {
        update_apply(ctx);
    }
}
