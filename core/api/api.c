/*
 * api.c: the REST API's glue. Mounts one route (SB_API_PREFIX/ *) on the
 * http router and, for each request: splits and decodes the path,
 * strips ".json" from any segment (Restcomm's AcceptFilter), picks XML or
 * JSON, rejects invalid UTF-8, matches the resource route table, then
 * authenticates (auth.c) before answering 404/405 or calling the handler.
 * Also here: error bodies, the thread-pool bridge for password hashing,
 * and the operated account ({AC}) with its isolation check.
 *
 * Resource logic lives in resource.c (the generic layer) and one file per
 * resource.
 */
#include "api_int.h"

#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int64_t sb__api_now(void)
{
    return (int64_t)time(NULL);
}

/* ---- answers -------------------------------------------------------------- */

static void ctx_free(sb__api_ctx_t *ctx)
{
    for (int i = 0; i < ctx->nsegs; i++)
        free(ctx->segs[i]);
    free(ctx->path);
    sb_account_clear(&ctx->me);
    sb_account_clear(&ctx->op);
    free(ctx->w_in1);
    free(ctx->w_in2);
    free(ctx->w_out);
    sb_http_params_free(&ctx->query);
    sb_http_params_free(&ctx->form);
    if (ctx->hold_free)
        ctx->hold_free(ctx->hold);
    free(ctx);
}

void sb__api_send(sb__api_ctx_t *ctx, int status, const char *body, size_t len)
{
    const char *ct = NULL;
    if (len > 0)
        ct = ctx->json ? "application/json" : "application/xml";
    if (sb__api_hold_until_durable(ctx, status, ct, body, len))
        return;                     /* durable.c answers after the commit */
    sb__api_metrics_request(ctx, status);
    sb_http_respond(ctx->req, status, ct, body, len);
    ctx_free(ctx);
}

void sb__api_send_raw(sb__api_ctx_t *ctx, int status, const char *ctype,
                      const char *body, size_t len)
{
    if (sb__api_hold_until_durable(ctx, status, ctype, body, len))
        return;                     /* durable.c answers after the commit */
    sb__api_metrics_request(ctx, status);
    sb_http_respond(ctx->req, status, ctype, body, len);
    ctx_free(ctx);
}

void sb__api_send_doc(sb__api_ctx_t *ctx, sb__api_w_t *w)
{
    sb__api_send(ctx, 200, sb_buf_str(&w->buf), w->buf.len);
    sb__api_w_free(w);
}

void sb__api_error(sb__api_ctx_t *ctx, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    sb_buf_t b = SB_BUF_INIT;
    if (ctx->json == SB__API_JSON_TWILIO) {
        sb__api_twilio_error_body(&b, status, 0, msg);  /* twilio.c */
    } else if (ctx->json) {
        sb_buf_puts(&b, "{\"message\":");
        sb__api_json_escape(&b, msg);
        sb_buf_puts(&b, "}");
    } else {
        sb_buf_puts(&b, "<RestcommResponse><Message>");
        sb__api_xml_escape(&b, msg);
        sb_buf_puts(&b, "</Message></RestcommResponse>");
    }
    if (status == 401)
        sb_http_resp_header(ctx->req, "WWW-Authenticate", "Basic realm=\"Restcomm realm\"");
    if (status == 405 && ctx->route)
        sb_http_resp_header(ctx->req, "Allow", ctx->route->methods);
    sb__api_send(ctx, status, sb_buf_str(&b), b.len);
    sb_buf_free(&b);
}

const char *sb__api_param(sb__api_ctx_t *ctx, const char *name)
{
    const char *v = sb_http_params_get(&ctx->form, name);
    return v ? v : sb_http_params_get(&ctx->query, name);
}

/* Handlers read the query and form pairs (decoded by the HTTP server)
 * through ctx, which owns these copies. */
static void copy_params(const sb_http_params_t *from, sb_http_params_t *to)
{
    for (size_t i = 0; i < from->count; i++)
        sb_http_params_add(to, from->items[i].name, from->items[i].value);
}

/* Twilio's names for Restcomm's parameters, in Twilio's dialect: the
 * Restcomm name is added when only the Twilio one was given. */
static void twilio_aliases(sb__api_ctx_t *ctx)
{
    static const struct {
        const sb__api_resource_t *res;
        const char *twilio, *restcomm;
    } aliases[] = {
        {&sb__api_applications, "VoiceUrl", "RcmlUrl"},
    };
    for (size_t i = 0; i < SB_COUNTOF(aliases); i++) {
        if (ctx->route->res != aliases[i].res || sb__api_param(ctx, aliases[i].restcomm))
            continue;
        const char *v = sb__api_param(ctx, aliases[i].twilio);
        if (v)
            sb_http_params_add(&ctx->form, aliases[i].restcomm, v);
    }
}

static void parse_params(sb__api_ctx_t *ctx)
{
    copy_params(sb_http_req_query(ctx->req), &ctx->query);
    copy_params(sb_http_req_form(ctx->req), &ctx->form);
}

void sb__api_uri(sb_buf_t *b, int json, const char *ac, const char *path,
                 const char *sid)
{
    sb_buf_printf(b, "/%s/Accounts/%s", SB__API_VER(json), ac);
    if (path)
        sb_buf_printf(b, "/%s", path);
    if (sid)
        sb_buf_printf(b, "/%s", sid);
    if (json)
        sb_buf_puts(b, ".json");
}

/* ---- the operated account ------------------------------------------------ */

int sb__api_load_op(sb__api_ctx_t *ctx)
{
    const char *key = ctx->ac_key;
    sb_api_t *api = ctx->api;
    if (ctx->have_op)
        return 0;
    if (!sb_sid_valid(key, "AC") && strchr(key, '@') == NULL) {
        sb__api_error(ctx, 400, "Invalid AccountSid %s", key);
        return 1;
    }
    int rc = sb_store_account_get(api->store, key, &ctx->op);
    if (rc == SB_ENOENT) {
        sb__api_error(ctx, 404, "The requested account was not found");
        return 1;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    ctx->have_op = 1;
    if (strcmp(ctx->op.sid, ctx->me.sid) == 0)
        return 0;
    rc = sb_store_account_in_tree(api->store, ctx->me.sid, ctx->op.sid);
    if (rc < 0) {
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    if (rc == 0) {
        /* A sibling or an ancestor. */
        sb__api_error(ctx, 403, "Insufficient permissions to access this account");
        return 1;
    }
    return 0;
}

/* ---- thread pool ---------------------------------------------------------- */

static void api_really_free(sb_api_t *api)
{
    sb__api_pool_close(api);
    for (int i = 0; i < api->nresources; i++)
        sb__api_resource_close((sb__api_resource_t *)api->resources[i]);
    sb__api_calls_free(api);
    free(api);
}

static void on_work(uv_work_t *w)
{
    sb__api_ctx_t *ctx = w->data;
    ctx->work_fn(ctx);
}

void sb__api_release(sb_api_t *api)
{
    if (api->freeing && api->pending == 0 && api->plugin_pending == 0 &&
        api->calls_pending == 0 && api->durable_pending == 0)
        api_really_free(api);
}

static void on_work_done(uv_work_t *w, int status)
{
    sb__api_ctx_t *ctx = w->data;
    sb_api_t *api = ctx->api;
    api->pending--;
    if (api->freeing) {
        sb__api_error(ctx, 503, "The server is shutting down");
        sb__api_release(api);
        return;
    }
    ctx->done_fn(ctx);
}

int sb__api_offload(sb__api_ctx_t *ctx, void (*fn)(sb__api_ctx_t *),
                    void (*done)(sb__api_ctx_t *))
{
    sb_api_t *api = ctx->api;
    ctx->work_fn = fn;
    ctx->done_fn = done;
    if (api->loop == NULL) {
        fn(ctx);
        done(ctx);
        return 0;
    }
    if (api->pending >= SB__API_MAX_PENDING) {
        sb_http_resp_header(ctx->req, "Retry-After", "1");
        sb__api_error(ctx, 503, "Too many logins in progress; retry later");
        return 1;
    }
    ctx->work.data = ctx;
    if (uv_queue_work(api->loop, &ctx->work, on_work, on_work_done) != 0) {
        sb__api_error(ctx, 503, "Cannot schedule work");
        return 1;
    }
    api->pending++;
    return 0;
}

/* ---- routing -------------------------------------------------------------- */

static void accounts_collection(sb__api_ctx_t *ctx)
{
    if (strcmp(ctx->method, "GET") == 0)
        sb__api_accounts_list(ctx);
    else
        sb__api_accounts_create(ctx);
}

static void accounts_item(sb__api_ctx_t *ctx)
{
    if (strcmp(ctx->method, "GET") == 0)
        sb__api_accounts_get(ctx);
    else if (strcmp(ctx->method, "DELETE") == 0)
        sb__api_accounts_delete(ctx);
    else
        sb__api_accounts_update(ctx);
}

static sb__api_route_t *add_route(sb_api_t *api, const char *pattern,
                                  const char *methods, sb__api_handler_t fn,
                                  const sb__api_resource_t *res, int self_update)
{
    sb_assert(api->nroutes < SB__API_MAX_ROUTES);
    sb__api_route_t *r = &api->routes[api->nroutes++];
    r->pattern = pattern;
    r->methods = methods;
    r->fn = fn;
    r->res = res;
    r->self_update = self_update;
    return r;
}

/* Returns 1 when method is in the comma-separated list. */
static int method_in(const char *list, const char *method)
{
    size_t n = strlen(method);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t l = c ? (size_t)(c - p) : strlen(p);
        if (l == n && memcmp(p, method, n) == 0)
            return 1;
        if (!c)
            break;
        p = c + 1;
    }
    return 0;
}

/* Matches ctx->segs against pattern; on success fills the captures and
 * returns the number of literal segments + 1 (more literal wins). */
static int match_pattern(sb__api_ctx_t *ctx, const char *pattern,
                         const char **ac, const char **sid, const char **sub)
{
    int i = 0, lits = 0;
    const char *p = pattern;
    *ac = *sid = *sub = NULL;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (l == 1 && p[0] == '*' && !slash)
            return lits + 1;            /* the rest, zero or more segments */
        if (i >= ctx->nsegs)
            return 0;
        const char *seg = ctx->segs[i];
        if (l >= 2 && p[0] == '{') {
            if (strncmp(p, "{AC}", 4) == 0)
                *ac = seg;
            else if (strncmp(p, "{SID}", 5) == 0)
                *sid = seg;
            else
                *sub = seg;
        } else {
            if (strlen(seg) != l || memcmp(seg, p, l) != 0)
                return 0;
            lits++;
        }
        i++;
        p = slash ? slash + 1 : p + l;
    }
    return i == ctx->nsegs ? lits + 1 : 0;
}

/* The segment index a final "*" of pattern starts at, else nsegs. */
static int tail_of(const char *pattern, int nsegs)
{
    size_t l = strlen(pattern);
    if (l < 2 || strcmp(pattern + l - 2, "/*") != 0)
        return nsegs;
    int n = 0;
    for (const char *p = pattern; *p; p++)
        n += *p == '/';
    return n;
}

static const sb__api_route_t *find_route(sb__api_ctx_t *ctx)
{
    sb_api_t *api = ctx->api;
    const sb__api_route_t *best = NULL;
    int best_score = 0;
    for (int k = 0; k < api->nroutes; k++) {
        const char *ac, *sid, *sub;
        int score = match_pattern(ctx, api->routes[k].pattern, &ac, &sid, &sub);
        if (score > best_score) {
            ctx->tail = tail_of(api->routes[k].pattern, ctx->nsegs);
            best = &api->routes[k];
            best_score = score;
            ctx->ac_key = ac;
            ctx->sid = sid;
            ctx->sub = sub;
        }
    }
    return best;
}

/* After authentication: account status, then 404 / 405 / the handler. */
void sb__api_authorized(sb__api_ctx_t *ctx)
{
    const sb__api_route_t *r = ctx->route;
    const char *status = ctx->me.status ? ctx->me.status : "";
    if (strcmp(status, "active") != 0) {
        /* An uninitialized account may only set its password. */
        int allowed = strcmp(status, "uninitialized") == 0 && r && r->self_update &&
                      (strcmp(ctx->method, "POST") == 0 ||
                       strcmp(ctx->method, "PUT") == 0) &&
                      ctx->ac_key &&
                      (strcmp(ctx->ac_key, ctx->me.sid) == 0 ||
                       strcasecmp(ctx->ac_key, ctx->me.email ? ctx->me.email : "") == 0) &&
                      sb__api_param(ctx, "Password") != NULL;
        if (!allowed) {
            sb__api_error(ctx, 403, "Provided Account is not active");
            return;
        }
    }
    if (r == NULL) {
        sb__api_error(ctx, 404, "The requested resource was not found");
        return;
    }
    if (!method_in(r->methods, ctx->method)) {
        sb__api_error(ctx, 405, "Method %s is not allowed here", ctx->method);
        return;
    }
    if (sb__api_role_check(ctx))    /* roles.c: one check for every route */
        return;
    r->fn(ctx);
}

/* Splits the raw path after the prefix into decoded segments, stripping
 * ".json". Returns 0, or 400/404 for the caller to answer. */
static int split_segments(sb__api_ctx_t *ctx, const char *raw)
{
    int twilio = strncmp(raw, SB_API_TWILIO_PREFIX "/", strlen(SB_API_TWILIO_PREFIX) + 1) == 0;
    const char *p = raw + strlen(twilio ? SB_API_TWILIO_PREFIX : SB_API_PREFIX);
    if (twilio)
        ctx->json = SB__API_JSON_TWILIO;
    ctx->path = sb_xasprintf("/%s%s", twilio ? SB_API_TWILIO_VERSION : SB_API_VERSION, p);
    while (*p == '/')
        p++;
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t l = slash ? (size_t)(slash - p) : strlen(p);
        if (l > 0) {
            if (ctx->nsegs == SB__API_MAX_SEGS)
                return 404;
            char *seg = NULL;
            if (sb_http_url_decode(p, l, &seg) != 0)
                return 400;
            size_t sl = strlen(seg);
            if (!sb_http_utf8_valid(seg, sl)) {
                free(seg);
                return 400;
            }
            if (sl > 5 && strcmp(seg + sl - 5, ".json") == 0) {
                seg[sl - 5] = '\0';
                if (!ctx->json)
                    ctx->json = 1;
            }
            ctx->segs[ctx->nsegs++] = seg;
        }
        if (!slash)
            break;
        p = slash + 1;
    }
    return 0;
}

static void on_request(sb_http_req_t *req, void *arg)
{
    sb_api_t *api = arg;
    sb__api_ctx_t *ctx = SB_NEW(sb__api_ctx_t);
    ctx->api = api;
    ctx->req = req;
    ctx->t0_ns = uv_hrtime();
    ctx->method = sb_http_req_method(req);
    if (strcmp(ctx->method, "HEAD") == 0)
        ctx->method = "GET";

    int bad = split_segments(ctx, sb_http_req_raw_path(req));
    const char *accept = sb_http_req_header(req, "Accept");
    if (!ctx->json && accept && strstr(accept, "json"))
        ctx->json = 1;
    if (bad == 400) {
        sb__api_error(ctx, 400, "Invalid path");
        return;
    }
    parse_params(ctx);
    if (!sb_http_params_utf8_valid(&ctx->query) ||
        !sb_http_params_utf8_valid(&ctx->form)) {
        sb__api_error(ctx, 400, "Parameters must be valid UTF-8");
        return;
    }
    ctx->route = bad ? NULL : find_route(ctx);
    if (ctx->json == SB__API_JSON_TWILIO && ctx->route)
        twilio_aliases(ctx);
    if (ctx->route && ctx->route->anonymous && ctx->route->anonymous(ctx)) {
        /* Served without credentials (recordings media): the handler
         * checks what the path names; ctx->me stays empty. */
        if (!method_in(ctx->route->methods, ctx->method)) {
            sb__api_error(ctx, 405, "Method %s is not allowed here", ctx->method);
            return;
        }
        ctx->route->fn(ctx);
        return;
    }
    sb__api_authenticate(ctx);
}

/* ---- life cycle ----------------------------------------------------------- */

int sb_api_new(sb_http_router_t *router, sb_store_t *store,
               const sb_config_t *cfg, sb_api_t **out)
{
    sb_api_t *api = SB_NEW(sb_api_t);
    api->store = store;
    api->cfg = cfg;
    api->router = router;
    api->recordings_dir = cfg ? cfg->recordings_dir : NULL;

    sb__api_resource_t *resources[] = {&sb__api_accounts, &sb__api_applications,
                                       &sb__api_clients, &sb__api_numbers,
                                       &sb__api_notifications, &sb__api_calls,
                                       &sb__api_recordings, &sb__api_call_recordings,
                                       &sb__api_conferences, &sb__api_participants,
                                       &sb__api_sms, &sb__api_messages, &sb__api_email,
                                       &sb__api_caller_ids, &sb__api_transcriptions};
    for (size_t i = 0; i < SB_COUNTOF(resources); i++) {
        int rc = sb__api_resource_init(api, resources[i]);
        if (rc != 0) {
            sb_error("api: resource %s: bad field table", resources[i]->path);
            api_really_free(api);
            return rc;
        }
        api->resources[api->nresources++] = resources[i];
    }

    add_route(api, "Accounts", "GET,POST", accounts_collection, &sb__api_accounts, 0);
    add_route(api, "Accounts/{AC}", "GET,POST,PUT,DELETE", accounts_item,
              &sb__api_accounts, 1);
    /* The generic resources: the collection and its items. */
    static const struct {
        const char *coll, *item, *coll_methods, *item_methods;
        const sb__api_resource_t *res;
    } generic[] = {
        {"Accounts/{AC}/Applications", "Accounts/{AC}/Applications/{SID}",
         "GET,POST", "GET,POST,PUT,DELETE", &sb__api_applications},
        {"Accounts/{AC}/Clients", "Accounts/{AC}/Clients/{SID}",
         "GET,POST", "GET,POST,PUT,DELETE", &sb__api_clients},
        {"Accounts/{AC}/IncomingPhoneNumbers", "Accounts/{AC}/IncomingPhoneNumbers/{SID}",
         "GET,POST", "GET,POST,PUT,DELETE", &sb__api_numbers},
        {"Accounts/{AC}/Notifications", "Accounts/{AC}/Notifications/{SID}",
         "GET", "GET", &sb__api_notifications},
    };
    for (size_t i = 0; i < SB_COUNTOF(generic); i++) {
        add_route(api, generic[i].coll, generic[i].coll_methods, sb__api_collection,
                  generic[i].res, 0);
        add_route(api, generic[i].item, generic[i].item_methods, sb__api_item,
                  generic[i].res, 0);
    }
    add_route(api, "Accounts/{AC}/IncomingPhoneNumbers/Local", "GET,POST",
              sb__api_numbers_factory, &sb__api_numbers, 0);
    add_route(api, "Accounts/{AC}/IncomingPhoneNumbers/TollFree", "GET,POST",
              sb__api_numbers_factory, &sb__api_numbers, 0);
    add_route(api, "Accounts/{AC}/IncomingPhoneNumbers/Mobile", "GET,POST",
              sb__api_numbers_factory, &sb__api_numbers, 0);
    /* Calls: the records, listed from the store; created and changed
     * through the call manager. */
    add_route(api, "Accounts/{AC}/Calls", "GET,POST", sb__api_calls_collection,
              &sb__api_calls, 0);
    add_route(api, "Accounts/{AC}/Calls/{SID}", "GET,POST", sb__api_calls_item,
              &sb__api_calls, 0);
    add_route(api, "Accounts/{AC}/Calls/{SUB}/Notifications", "GET",
              sb__api_call_notifications, &sb__api_notifications, 0);
    /* Recordings: the list is generic; the item also serves the media
     * (RE....wav, RE....mp3), which may be open to anonymous requests. */
    add_route(api, "Accounts/{AC}/Recordings", "GET", sb__api_collection,
              &sb__api_recordings, 0);
    add_route(api, "Accounts/{AC}/Recordings/{SID}", "GET,DELETE",
              sb__api_recording_item, &sb__api_recordings, 0)->anonymous =
        sb__api_recording_anonymous;
    add_route(api, "Accounts/{AC}/Calls/{SUB}/Recordings", "GET",
              sb__api_call_recordings_list, &sb__api_call_recordings, 0);
    /* Conferences and their participants: listed from the store, changed
     * through the live rooms of the call manager. */
    add_route(api, "Accounts/{AC}/Conferences", "GET", sb__api_conferences_list,
              &sb__api_conferences, 0);
    add_route(api, "Accounts/{AC}/Conferences/{SID}", "GET,POST,PUT",
              sb__api_conference_item, &sb__api_conferences, 0);
    add_route(api, "Accounts/{AC}/Conferences/{SID}/Participants", "GET",
              sb__api_participants_list, &sb__api_participants, 0);
    add_route(api, "Accounts/{AC}/Conferences/{SID}/Participants/{SUB}",
              "GET,POST,PUT,DELETE", sb__api_participant_item, &sb__api_participants, 0);
    /* Messaging (sms.c): Restcomm's SMS/Messages, Twilio's Messages. */
    add_route(api, "Accounts/{AC}/SMS/Messages", "GET,POST", sb__api_sms_collection,
              &sb__api_sms, 0);
    add_route(api, "Accounts/{AC}/SMS/Messages/{SID}", "GET", sb__api_item, &sb__api_sms, 0);
    add_route(api, "Accounts/{AC}/Messages", "GET,POST", sb__api_sms_collection,
              &sb__api_messages, 0);
    add_route(api, "Accounts/{AC}/Messages/{SID}", "GET", sb__api_item,
              &sb__api_messages, 0);
    add_route(api, "Accounts/{AC}/Email/Messages", "GET,POST", sb__api_email_collection,
              &sb__api_email, 0);
    add_route(api, "Accounts/{AC}/Email/Messages/{SID}", "GET", sb__api_item,
              &sb__api_email, 0);
    add_route(api, "Accounts/{AC}/Supervisor", "GET", sb__api_supervisor, NULL, 0);
    add_route(api, "Accounts/{AC}/Supervisor/{SUB}", "GET", sb__api_supervisor, NULL, 0);
    add_route(api, "Accounts/{AC}/Usage/Records", "GET", sb__api_usage, NULL, 0);
    add_route(api, "Accounts/{AC}/Usage/Records/{SUB}", "GET", sb__api_usage, NULL, 0);
    add_route(api, "Accounts/{AC}/Plugins/*", "GET,POST,PUT,DELETE,PATCH",
              sb__api_plugin_route, NULL, 0);
    /* Issue 21: the number pool (pool.c), OutgoingCallerIds,
     * Transcriptions, Version. */
    add_route(api, "Accounts/{AC}/AvailablePhoneNumbers/{SUB}/Local", "GET",
              sb__api_available_numbers, NULL, 0);
    add_route(api, "Accounts/{AC}/AvailablePhoneNumbers/{SUB}/TollFree", "GET",
              sb__api_available_numbers, NULL, 0);
    add_route(api, "Accounts/{AC}/AvailablePhoneNumbers/{SUB}/Mobile", "GET",
              sb__api_available_numbers, NULL, 0);
    add_route(api, "Accounts/{AC}/AvailablePhoneNumbers", "GET",
              sb__api_available_countries, NULL, 0);
    add_route(api, "Accounts/{AC}/AvailablePhoneNumbers/{SUB}", "GET",
              sb__api_available_countries, NULL, 0);
    add_route(api, "Accounts/{AC}/IncomingPhoneNumbers/AvailableCountries", "GET",
              sb__api_available_countries, NULL, 0);
    add_route(api, "Accounts/{AC}/OutgoingCallerIds", "GET,POST", sb__api_collection,
              &sb__api_caller_ids, 0);
    add_route(api, "Accounts/{AC}/OutgoingCallerIds/{SID}", "GET,POST,PUT,DELETE",
              sb__api_item, &sb__api_caller_ids, 0);
    add_route(api, "Accounts/{AC}/Transcriptions", "GET", sb__api_collection,
              &sb__api_transcriptions, 0);
    add_route(api, "Accounts/{AC}/Transcriptions/{SID}", "GET,DELETE", sb__api_item,
              &sb__api_transcriptions, 0);
    add_route(api, "Accounts/{AC}/Recordings/{SUB}/Transcriptions", "GET",
              sb__api_recording_transcriptions, &sb__api_transcriptions, 0);
    add_route(api, "Accounts/{AC}/Version", "GET", sb__api_version, NULL, 0);
    if (sb__api_pool_open(api) != 0) {
        api_really_free(api);
        return SB_EINVAL;
    }

    api->twilio_route_id = -1;
    api->metrics_route_id = -1;
    int rc = sb_http_router_add(router, "*", SB_API_PREFIX "/*", on_request, api,
                                &api->route_id);
    if (rc == 0) {
        rc = sb_http_router_add(router, "*", SB_API_TWILIO_PREFIX "/*", on_request, api,
                                &api->twilio_route_id);
        if (rc == 0 && (rc = sb__api_metrics_mount(api)) != 0)
            sb_http_router_remove(router, api->twilio_route_id);
        if (rc != 0)
            sb_http_router_remove(router, api->route_id);
    }
    if (rc != 0) {
        api_really_free(api);
        return rc;
    }
    *out = api;
    return 0;
}

void sb_api_use_loop(sb_api_t *api, uv_loop_t *loop)
{
    api->loop = loop;
    sb__api_pool_watch(api, loop);
}

void sb_api_use_recordings(sb_api_t *api, const char *dir)
{
    api->recordings_dir = dir;
}

void sb_api_detach(sb_api_t *api)
{
    api->router = NULL;
}

void sb_api_free(sb_api_t *api)
{
    if (api == NULL)
        return;
    if (api->router) {
        sb_http_router_remove(api->router, api->route_id);
        if (api->twilio_route_id >= 0)
            sb_http_router_remove(api->router, api->twilio_route_id);
        if (api->metrics_route_id >= 0)
            sb_http_router_remove(api->router, api->metrics_route_id);
    }
    api->router = NULL;
    api->plugin_cb = NULL;
    sb__api_pool_close(api);
    api->freeing = 1;               /* the last pending request frees it */
    sb__api_release(api);
}
