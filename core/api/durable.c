/*
 * durable.c: a REST write is answered only once it is durable (issue
 * 23). The call path batches its store writes (one transaction per loop
 * turn, store.c); a REST write made while such a batch is open joins it
 * and is not on disk until the batch commits. Its answer, already
 * rendered, waits here for that commit (sb_store_when_durable) and goes
 * out with every other answer of the batch on the same commit, so REST
 * writes keep sharing commits instead of paying one each. Reads (GET,
 * HEAD, OPTIONS) are never held.
 */
#include "api_int.h"

#include <string.h>

/* Owner: the store's waiting list until on_durable. */
typedef struct held_s {
    sb__api_ctx_t *ctx;
    int status;
    char *ctype;                /* NULL: none */
    char *body;
    size_t len;
} held_t;

static void on_durable(int status, void *arg)
{
    held_t *h = arg;
    sb__api_ctx_t *ctx = h->ctx;
    sb_api_t *api = ctx->api;
    api->durable_pending--;
    if (status != 0) {
        /* The transaction holding the write could not be committed. */
        sb__api_error(ctx, 500, "Database error");
    } else {
        sb__api_send_raw(ctx, h->status, h->ctype, h->body, h->len);
    }
    free(h->ctype);
    free(h->body);
    free(h);
    sb__api_release(api);
}

int sb__api_hold_until_durable(sb__api_ctx_t *ctx, int status, const char *ctype,
                               const char *body, size_t len)
{
    const char *m = ctx->method;
    if (m == NULL || strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
        strcmp(m, "OPTIONS") == 0 || ctx->api->store == NULL)
        return 0;
    held_t *h = SB_NEW(held_t);
    h->ctx = ctx;
    h->status = status;
    h->ctype = ctype ? sb_xstrdup(ctype) : NULL;
    h->body = sb_xmalloc(len + 1);
    if (len > 0)
        memcpy(h->body, body, len);
    h->body[len] = '\0';
    h->len = len;
    if (sb_store_when_durable(ctx->api->store, on_durable, h) != 0) {
        free(h->ctype);
        free(h->body);
        free(h);
        return 0;               /* nothing waits for a commit */
    }
    ctx->api->durable_pending++;
    return 1;
}
