/*
 * plugins.c: the REST side of plugin routes. A request under
 * /Accounts/{AC}/Plugins/... is authenticated and checked against the
 * account tree like any resource (api.c, sb__api_load_op), then handed to
 * the handler the server wired (the Lua runtime) as an
 * sb_api_plugin_req_t, which wraps the request context until the handler
 * answers. The api counts unanswered plugin requests so that it outlives
 * them when the server closes.
 */
#include "api_int.h"

#include <string.h>
#include <strings.h>

struct sb_api_plugin_req_s {
    sb__api_ctx_t *ctx;
    char *path;                 /* "/" + the segments below Plugins */
};

void sb_api_use_plugins(sb_api_t *api, sb_api_plugin_cb cb, void *arg)
{
    api->plugin_cb = cb;
    api->plugin_arg = arg;
}

void sb__api_plugin_route(sb__api_ctx_t *ctx)
{
    sb_api_t *api = ctx->api;
    if (sb__api_load_op(ctx))
        return;
    if (api->plugin_cb == NULL) {
        sb__api_error(ctx, 404, "The requested resource was not found");
        return;
    }
    sb_buf_t b = SB_BUF_INIT;
    for (int i = ctx->tail; i < ctx->nsegs; i++) {
        sb_buf_putc(&b, '/');
        sb_buf_puts(&b, ctx->segs[i]);
    }
    if (b.len == 0)
        sb_buf_putc(&b, '/');
    sb_api_plugin_req_t *pr = SB_NEW(sb_api_plugin_req_t);
    pr->ctx = ctx;
    pr->path = sb_buf_steal(&b);
    api->plugin_pending++;
    api->plugin_cb(pr, api->plugin_arg);
}

const char *sb_api_plugin_method(const sb_api_plugin_req_t *pr)
{
    return pr->ctx->method;
}

const char *sb_api_plugin_path(const sb_api_plugin_req_t *pr)
{
    return pr->path;
}

const char *sb_api_plugin_account(const sb_api_plugin_req_t *pr)
{
    return pr->ctx->op.sid;
}

const char *sb_api_plugin_caller(const sb_api_plugin_req_t *pr)
{
    return pr->ctx->me.sid;
}

int sb_api_plugin_json(const sb_api_plugin_req_t *pr)
{
    return pr->ctx->json;
}

const sb_http_req_t *sb_api_plugin_http(const sb_api_plugin_req_t *pr)
{
    return pr->ctx->req;
}

/* Frees pr (its ctx is already answered and freed) and lets the api go
 * if it was waiting for this answer. */
static void finish(sb_api_plugin_req_t *pr, sb_api_t *api)
{
    free(pr->path);
    free(pr);
    api->plugin_pending--;
    sb__api_release(api);
}

void sb_api_plugin_respond(sb_api_plugin_req_t *pr, int status,
                           const char *content_type,
                           const sb_http_params_t *headers,
                           const char *body, size_t len)
{
    sb__api_ctx_t *ctx = pr->ctx;
    if (status < 200 || status > 599) {
        sb_warn("api: plugin route %s answered status %d; sending 500",
                pr->path, status);
        sb_api_plugin_error(pr, 500, "The plugin gave an invalid status", NULL);
        return;
    }
    for (size_t i = 0; headers && i < headers->count; i++) {
        const sb_http_pair_t *h = &headers->items[i];
        if (strcasecmp(h->name, "Content-Type") == 0)
            continue;
        if (sb_http_resp_header(ctx->req, h->name, h->value) != 0)
            sb_warn("api: plugin route %s: header %s refused", pr->path, h->name);
    }
    sb_api_t *api = ctx->api;
    sb__api_send_raw(ctx, status, len > 0 ? content_type : NULL, body, len);
    finish(pr, api);
}

void sb_api_plugin_error(sb_api_plugin_req_t *pr, int status,
                         const char *message, const char *allow)
{
    sb__api_ctx_t *ctx = pr->ctx;
    ctx->route = NULL;          /* no Allow header from the api's route */
    if (allow)
        sb_http_resp_header(ctx->req, "Allow", allow);
    sb_api_t *api = ctx->api;
    sb__api_error(ctx, status, "%s", message);
    finish(pr, api);
}
