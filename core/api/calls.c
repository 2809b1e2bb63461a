/*
 * calls.c: the Calls resource, read side (restcomm.md 2.4, 2.7): the call
 * records the call module writes (one per leg), listed per account with
 * Restcomm's filters (To, From, Status, StartTime, EndTime,
 * ParentCallSid) and paging, one by SID; and the Supervisor resource's
 * metrics (live and maximum concurrent calls, registered users, totals)
 * from the call manager (sb_api_use_calls).
 *
 * POST Calls creates an outbound-api call (sb_call_create) and answers
 * 201 with it as created (queued); POST Calls/{CA} modifies a live call:
 * Status=canceled|completed, Mute, and a new Url (fetched before it is
 * swapped in, so the answer waits for that fetch). A per-account rate
 * (calls.api_rate) limits creation.
 */
#include "api_int.h"
#include "call.h"
#include "sip_store.h"

#include <ctype.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The call manager for metrics (NULL: counts from the store only). */
void sb_api_use_calls(sb_api_t *api, struct sb_call_mgr_s *calls)
{
    api->calls = calls;
}

/* StartTime / EndTime: seconds in the table, ISO 8601 out (Joda's form);
 * RFC 2822 in Twilio's dialect, as its other dates. */
static void render_time(sb__api_ctx_t *ctx, sb__api_w_t *w, const char *xml,
                        const char *json, const sb_rows_val_t *v)
{
    if (v->null) {
        sb__api_w_str(w, xml, json, NULL, SB__W_JOMIT);
        return;
    }
    char d[SB_TIME_BUF];
    if (ctx->json == SB__API_JSON_TWILIO)
        sb_time_rfc2822((time_t)v->i, d);
    else
        sb_time_iso8601_ms(v->i * 1000, d);
    sb__api_w_str(w, xml, json, d, 0);
}

static void render_start(sb__api_ctx_t *ctx, sb__api_w_t *w,
                         const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    render_time(ctx, w, "StartTime", "start_time", &vals[sb__api_col(res, "start_time")]);
}

static void render_end(sb__api_ctx_t *ctx, sb__api_w_t *w,
                       const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    render_time(ctx, w, "EndTime", "end_time", &vals[sb__api_col(res, "end_time")]);
}

static void render_subresources(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                const sb__api_resource_t *res,
                                const sb_rows_val_t *vals)
{
    (void)ctx;
    const char *ac = vals[res->owner_col].s;
    const char *sid = vals[0].s;
    sb__api_w_obj_begin(w, "SubresourceUris", "subresource_uris");
    static const char *const subs[][2] = {
        {"Notifications", "notifications"},
        {"Recordings", "recordings"},
    };
    for (size_t i = 0; i < SB_COUNTOF(subs); i++) {
        sb_buf_t b = SB_BUF_INIT;
        sb_buf_printf(&b, "/%s/Accounts/%s/Calls/%s/%s%s", SB__API_VER(w->json), ac, sid,
                      subs[i][0], w->json ? ".json" : "");
        sb__api_w_str(w, subs[i][0], subs[i][1], sb_buf_str(&b), 0);
        sb_buf_free(&b);
    }
    sb__api_w_obj_end(w, "SubresourceUris");
}

/* Quality (an extension, docs/rest.md): what the leg's phone sent and
 * was sent, loss, jitter and the MOS estimate, once the leg is over. */
static void render_quality(sb__api_ctx_t *ctx, sb__api_w_t *w,
                           const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    const sb_rows_val_t *codec = &vals[sb__api_col(res, "codec")];
    if (codec->null)
        return;
    int64_t rx = vals[sb__api_col(res, "rtp_packets_received")].i;
    int64_t lost = vals[sb__api_col(res, "rtp_packets_lost")].i;
    sb__api_w_obj_begin(w, "Quality", "quality");
    sb__api_w_str(w, "Codec", "codec", codec->s, 0);
    sb__api_w_int(w, "PacketsReceived", "packets_received", rx);
    sb__api_w_int(w, "PacketsSent", "packets_sent",
                  vals[sb__api_col(res, "rtp_packets_sent")].i);
    sb__api_w_int(w, "PacketsLost", "packets_lost", lost);
    sb__api_w_fixed(w, "LossPercent", "loss_percent",
                    rx + lost > 0 ? lost * 10000 / (rx + lost) : 0, 2, 100);
    sb__api_w_fixed(w, "JitterMs", "jitter_ms", vals[sb__api_col(res, "jitter_us")].i,
                    2, 1000);
    sb__api_w_fixed(w, "Mos", "mos", vals[sb__api_col(res, "mos_x100")].i, 2, 100);
    sb__api_w_obj_end(w, "Quality");
}

static const sb__api_field_t fields[] = {
    SB__FIELD("Sid", "sid", "sid", SB__T_TEXT, 0),
    SB__FIELD("InstanceId", "instance_id", "instance_id", SB__T_TEXT, 0),
    SB__FIELD("DateCreated", "date_created", "date_created", SB__T_DATE, 0),
    SB__FIELD("DateUpdated", "date_updated", "date_updated", SB__T_DATE, 0),
    SB__FIELD("ParentCallSid", "parent_call_sid", "parent_call_sid", SB__T_TEXT,
              SB__F_JOMIT),
    SB__FIELD("AccountSid", "account_sid", "account_sid", SB__T_TEXT, 0),
    SB__FIELD("To", "to", "recipient", SB__T_TEXT, 0),
    SB__FIELD("From", "from", "sender", SB__T_TEXT, 0),
    SB__FIELD("_from_formatted", "from_formatted", NULL, SB__T_CUSTOM, 0,   /* Twilio */
              .render = sb__api_twilio_from_formatted),
    SB__FIELD("_to_formatted", "to_formatted", NULL, SB__T_CUSTOM, 0,       /* Twilio */
              .render = sb__api_twilio_to_formatted),
    SB__FIELD("PhoneNumberSid", "phone_number_sid", "phone_number_sid", SB__T_TEXT,
              SB__F_JOMIT),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
    SB__FIELD("StartTime", "start_time", NULL, SB__T_CUSTOM, 0, .render = render_start),
    SB__FIELD("EndTime", "end_time", NULL, SB__T_CUSTOM, 0, .render = render_end),
    SB__FIELD("Duration", "duration", "duration", SB__T_INT, 0),
    SB__FIELD("Price", "price", NULL, SB__T_CUSTOM, 0, .render = sb__api_twilio_call_price),
    SB__FIELD("PriceUnit", "price_unit", "price_unit", SB__T_TEXT, 0),
    SB__FIELD("Direction", "direction", "direction", SB__T_TEXT, 0),
    SB__FIELD("AnsweredBy", "answered_by", "answered_by", SB__T_TEXT, 0),
    SB__FIELD("ApiVersion", "api_version", "api_version", SB__T_TEXT, 0),
    SB__FIELD("ForwardedFrom", "forwarded_from", "forwarded_from", SB__T_TEXT, 0),
    SB__FIELD("CallerName", "caller_name", "caller_name", SB__T_TEXT, 0),
    SB__FIELD("Uri", "uri", NULL, SB__T_URI, 0),
    SB__FIELD("SubresourceUris", "subresource_uris", NULL, SB__T_CUSTOM, 0,
              .render = render_subresources),
    SB__FIELD("Ring_duration", "ring_duration", "ring_duration", SB__T_INT, 0),
    SB__FIELD("Quality", "quality", NULL, SB__T_CUSTOM, 0, .render = render_quality),
    /* An extension (docs/rest.md, issue 23): "interrupted" for a call the
     * server died with, closed by its next start; NULL otherwise. */
    SB__FIELD("EndReason", "end_reason", "end_reason", SB__T_TEXT, 0),
    SB__FIELD("_codec", "_codec", "codec", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("_price", "_price", "price", SB__T_TEXT, SB__F_HIDDEN),
    SB__FIELD("_rx", "_rx", "rtp_packets_received", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_tx", "_tx", "rtp_packets_sent", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_lost", "_lost", "rtp_packets_lost", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_jitter", "_jitter", "jitter_us", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_mos", "_mos", "mos_x100", SB__T_INT, SB__F_HIDDEN),
    /* Read by the renderers and filters, never written out. */
    SB__FIELD("_start", "_start", "start_time", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_end", "_end", "end_time", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_sipcid", "_sipcid", "sip_call_id", SB__T_TEXT, SB__F_HIDDEN),
};

static const sb__api_filter_t filters[] = {
    {"To", "recipient", SB__FILT_PATTERN},
    {"From", "sender", SB__FILT_PATTERN},
    {"Status", "status", SB__FILT_EQ},
    {"StartTime", "start_time", SB__FILT_DATE_FROM},
    {"EndTime", "end_time", SB__FILT_DATE_TO},
    {"ParentCallSid", "parent_call_sid", SB__FILT_EQ},
};

static const sb__api_sort_t sorts[] = {
    {"DateCreated", "date_created"},
    {"From", "sender"},
    {"To", "recipient"},
    {"Direction", "direction"},
    {"Status", "status"},
    {"Duration", "duration"},
    {"Price", "price"},
};

static const char *const nullable_sorts[] = {"price", NULL};

sb__api_resource_t sb__api_calls = {
    .path = "Calls",
    .xml_item = "Call",
    .xml_list = "Calls",
    .json_list = "calls",
    .always_paged = 1,
    .table_name = "calls",
    .sid_prefix = "CA",
    .owner_column = "account_sid",
    .fields = fields,
    .nfields = (int)SB_COUNTOF(fields),
    .ops = SB__OP_LIST | SB__OP_GET,
    .filters = filters,
    .nfilters = (int)SB_COUNTOF(filters),
    .sorts = sorts,
    .nsorts = (int)SB_COUNTOF(sorts),
    .default_sort = "DateCreated:desc",  /* newest first, as Restcomm */
    .sub_accounts = 1,
    .nullable_sorts = nullable_sorts,
};

/* ---- Supervisor --------------------------------------------------------- */

typedef struct live_s {
    sb__api_w_t *w;
    const char *account;        /* only calls of this account tree, or NULL */
    sb__api_ctx_t *ctx;
} live_t;

static int write_live(sb_call_t *call, void *arg)
{
    live_t *l = arg;
    sb_call_info_t ci;
    sb_call_info(call, &ci);
    if (l->account && sb_store_account_in_tree(l->ctx->api->store, l->account,
                                               ci.account_sid) != 1)
        return 0;
    sb__api_w_obj_begin(l->w, "LiveCallDetail", NULL);
    sb__api_w_str(l->w, "CallSid", "CallSid", ci.call_sid, 0);
    sb__api_w_str(l->w, "AccountSid", "AccountSid", ci.account_sid, 0);
    sb__api_w_str(l->w, "Direction", "Direction", ci.direction, 0);
    sb__api_w_str(l->w, "Status", "Status", ci.status, 0);
    sb__api_w_str(l->w, "From", "From", ci.from, 0);
    sb__api_w_str(l->w, "To", "To", ci.to, 0);
    sb__api_w_str(l->w, "CallTimestamp", "CallTimestamp", ci.timestamp, 0);
    sb__api_w_obj_end(l->w, "LiveCallDetail");
    return 0;
}

/* GET Accounts/{AC}/Supervisor[/metrics|/livecalls] (restcomm.md 2.7): the
 * counters of the whole server, for a top-level account. */
void sb__api_supervisor(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    if (ctx->me.parent_sid[0] != '\0') {
        sb__api_error(ctx, 403, "Supervisor metrics need a top-level account");
        return;
    }
    const char *what = ctx->sub ? ctx->sub : "";
    if (*what && strcmp(what, "metrics") != 0 && strcmp(what, "livecalls") != 0) {
        sb__api_error(ctx, 404, "The requested resource was not found");
        return;
    }
    sb_call_stats_t st;
    memset(&st, 0, sizeof st);
    if (ctx->api->calls)
        sb_call_mgr_stats(ctx->api->calls, &st);
    int64_t users = 0;
    sb_store_registrations_count(ctx->api->store, sb__api_now(), &users, NULL);
    char now[SB_TIME_BUF];
    sb_time_iso8601_ms(sb_time_now_ms(), now);

    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    sb__api_w_doc_begin(&w);
    sb__api_w_obj_begin(&w, "Supervisor", NULL);
    sb__api_w_str(&w, "DateTime", "DateTime", now, 0);
    sb__api_w_str(&w, "InstanceId", "InstanceId",
                  sb_store_instance_id(ctx->api->store), 0);
    sb__api_w_str(&w, "Version", "Version", SB_VERSION_STRING, 0);
    sb__api_w_str(&w, "Revision", "Revision", "", 0);
    if (*what == '\0') {
        sb__api_w_str(&w, "Status", "Status", "OK", 0);
    }
    if (strcmp(what, "metrics") == 0) {
        sb__api_w_obj_begin(&w, "Metrics", "Metrics");
        static const char *const names[] = {
            "LiveCalls", "LiveIncomingCalls", "LiveOutgoingCalls",
            "MaximumConcurrentCalls", "MaximumConcurrentIncomingCalls",
            "MaximumConcurrentOutgoingCalls", "TotalCallsSinceUptime",
            "IncomingCallsSinceUptime", "OutgoingCallsSinceUptime",
            "CompletedCalls", "FailedCalls", "RegisteredUsers", "MgcpEndpoints",
            "MgcpConnections", "HeapInUseBytes", "RefusedCalls",
        };
        /* The allocator's bytes in use (glibc): what live objects cost,
         * unlike the resident size, which keeps freed peaks. */
        struct mallinfo2 mi = mallinfo2();
        int64_t vals[] = {
            st.live, st.live_incoming, st.live_outgoing, st.max_concurrent,
            st.max_concurrent_incoming, st.max_concurrent_outgoing, st.total,
            st.total_incoming, st.total_outgoing, st.completed, st.failed, users,
            st.media_endpoints, st.media_endpoints,
            (int64_t)(mi.uordblks + mi.hblkhd), st.refused,
        };
        for (size_t i = 0; i < SB_COUNTOF(names); i++)
            sb__api_w_int(&w, names[i], names[i], vals[i]);
        sb__api_w_obj_end(&w, "Metrics");
    }
    if (*what && ctx->api->calls) {
        sb__api_w_arr_begin(&w, "LiveCallDetails", "LiveCallDetails", NULL);
        live_t l = {.w = &w, .ctx = ctx};
        sb_call_mgr_each(ctx->api->calls, write_live, &l);
        sb__api_w_arr_end(&w, "LiveCallDetails");
    }
    sb__api_w_obj_end(&w, "Supervisor");
    sb__api_w_doc_end(&w);
    sb__api_send_doc(ctx, &w);
}

/* ---- creating and modifying calls ------------------------------------------ */

/* One account's token bucket for POST Calls. */
typedef struct sb__api_rate_s {
    struct sb__api_rate_s *next;
    char sid[SB_SID_SIZE];
    double tokens;
    int64_t ms;
} rate_t;

void sb__api_calls_free(sb_api_t *api)
{
    for (size_t i = 0; i < SB_COUNTOF(api->call_rates); i++) {
        rate_t *r = api->call_rates[i];
        while (r) {
            rate_t *next = r->next;
            free(r);
            r = next;
        }
        api->call_rates[i] = NULL;
    }
}

/* 1 when account may create one more call now (taking a token). */
static int rate_take(sb_api_t *api, const char *account)
{
    int per_s = api->cfg ? api->cfg->calls_api_rate : 0;
    if (per_s <= 0)
        return 1;
    unsigned h = 5381;
    for (const char *c = account; *c; c++)
        h = h * 33 + (unsigned char)*c;
    rate_t **head = &api->call_rates[h % SB_COUNTOF(api->call_rates)];
    rate_t *r = *head;
    while (r && strcmp(r->sid, account) != 0)
        r = r->next;
    int64_t now = sb_time_now_ms();
    if (r == NULL) {
        r = SB_NEW(rate_t);
        snprintf(r->sid, sizeof r->sid, "%s", account);
        r->tokens = per_s;
        r->ms = now;
        r->next = *head;
        *head = r;
    }
    r->tokens += (double)(now - r->ms) * per_s / 1000.0;
    if (r->tokens > per_s)
        r->tokens = per_s;
    r->ms = now;
    if (r->tokens < 1.0)
        return 0;
    r->tokens -= 1.0;
    return 1;
}

static int http_url(const char *u)
{
    return u && (strncasecmp(u, "http://", 7) == 0 || strncasecmp(u, "https://", 8) == 0) &&
           strlen(u) < 2048 && !strpbrk(u, " \r\n\t");
}

/* NULL or GET/POST (any case): 1; else 0. */
static int method_ok(const char *m)
{
    return m == NULL || *m == '\0' || strcasecmp(m, "GET") == 0 ||
           strcasecmp(m, "POST") == 0;
}

static const char *method_norm(const char *m)
{
    if (m == NULL || *m == '\0')
        return NULL;
    return strcasecmp(m, "GET") == 0 ? "GET" : "POST";
}

/* initiated ringing answered completed, split on spaces or commas, in
 * one value (Restcomm) or repeated (Twilio's library): ORed into *out. */
static int parse_events1(const char *s, unsigned *out)
{
    if (s == NULL)
        return 0;
    while (*s) {
        size_t n = strcspn(s, " ,");
        if (n > 0) {
            if (n == 9 && strncasecmp(s, "initiated", n) == 0)
                *out |= SB_DIAL_EV_INITIATED;
            else if (n == 7 && strncasecmp(s, "ringing", n) == 0)
                *out |= SB_DIAL_EV_RINGING;
            else if (n == 8 && strncasecmp(s, "answered", n) == 0)
                *out |= SB_DIAL_EV_ANSWERED;
            else if (n == 9 && strncasecmp(s, "completed", n) == 0)
                *out |= SB_DIAL_EV_COMPLETED;
            else
                return SB_EINVAL;
        }
        s += n;
        while (*s == ' ' || *s == ',')
            s++;
    }
    return 0;
}

static int parse_events(sb__api_ctx_t *ctx, unsigned *out)
{
    *out = 0;
    const sb_http_params_t *lists[] = {&ctx->form, &ctx->query};
    for (size_t l = 0; l < SB_COUNTOF(lists); l++)
        for (size_t i = 0; i < lists[l]->count; i++)
            if (strcmp(lists[l]->items[i].name, "StatusCallbackEvent") == 0 &&
                parse_events1(lists[l]->items[i].value, out) != 0)
                return SB_EINVAL;
    return 0;
}

/* Answers the call sid of the operated account (status 200 or 201). XML
 * is the bare <Call>, as Restcomm answers a created call; JSON the call
 * object. */
static void send_call(sb__api_ctx_t *ctx, const char *sid, int status, int bare)
{
    const sb__api_resource_t *res = &sb__api_calls;
    if (ctx->api->calls)
        sb_call_mgr_flush(ctx->api->calls);
    sb_rows_cond_t conds[2] = {
        {.col = res->sid_col, .op = SB_ROWS_EQ, .s = sid},
        {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
    };
    sb_row_t row;
    int rc = sb_rows_get(ctx->api->store, &res->table, conds, 2, &row);
    if (rc != 0) {
        sb__api_error(ctx, rc == SB_ENOENT ? 404 : 500, "%s",
                      rc == SB_ENOENT ? "The requested resource was not found"
                                      : "Database error");
        return;
    }
    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    if (!bare)
        sb__api_w_doc_begin(&w);
    sb__api_render_row(ctx, &w, res, row.v);
    if (!bare)
        sb__api_w_doc_end(&w);
    sb_row_free(&row);
    sb__api_send(ctx, status, sb_buf_str(&w.buf), w.buf.len);
    sb__api_w_free(&w);
}

/* The Url of ApplicationSid (of the operated account), owned, or NULL. */
static char *application_url(sb__api_ctx_t *ctx, const char *app_sid)
{
    static const sb_rows_col_t cols[] = {
        {"sid", SB_ROWS_TEXT},
        {"account_sid", SB_ROWS_TEXT},
        {"rcml_url", SB_ROWS_TEXT},
    };
    static const sb_rows_table_t apps = {"applications", cols, 3};
    sb_rows_cond_t c[2] = {
        {.col = 0, .op = SB_ROWS_EQ, .s = app_sid},
        {.col = 1, .op = SB_ROWS_EQ, .s = ctx->op.sid},
    };
    sb_row_t row;
    if (sb_rows_get(ctx->api->store, &apps, c, 2, &row) != 0)
        return NULL;
    char *u = row.v[2].null || row.v[2].s[0] == '\0' ? NULL : sb_xstrdup(row.v[2].s);
    sb_row_free(&row);
    return u;
}

/* 1 when s is "true" (any case), 0 for "false"; -1 otherwise. */
static int parse_bool(const char *s)
{
    if (s == NULL)
        return -1;
    if (strcasecmp(s, "true") == 0)
        return 1;
    if (strcasecmp(s, "false") == 0)
        return 0;
    return -1;
}

static void calls_create(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    if (ctx->api->calls == NULL) {
        sb__api_error(ctx, 503, "Calls cannot be created on this server");
        return;
    }
    const char *from = sb__api_param(ctx, "From");
    const char *to = sb__api_param(ctx, "To");
    const char *url = sb__api_param(ctx, "Url");
    const char *app_sid = sb__api_param(ctx, "ApplicationSid");
    if (from == NULL || *from == '\0') {
        sb__api_error(ctx, 400, "From can not be null.");
        return;
    }
    if (to == NULL || *to == '\0') {
        sb__api_error(ctx, 400, "To can not be null.");
        return;
    }
    char *app_url = NULL;
    if ((url == NULL || *url == '\0') && app_sid && *app_sid) {
        app_url = application_url(ctx, app_sid);
        if (app_url == NULL) {
            sb__api_error(ctx, 400, "ApplicationSid %s is not an application of "
                          "this account with an RCML URL", app_sid);
            return;
        }
        url = app_url;
    }
    if (url == NULL || *url == '\0') {
        sb__api_error(ctx, 400, "Url can not be null.");
        return;
    }
    const char *bad = NULL;
    char badbuf[128];
    const char *fb = sb__api_param(ctx, "FallbackUrl");
    const char *sc = sb__api_param(ctx, "StatusCallback");
    const char *tmo = sb__api_param(ctx, "Timeout");
    const char *digits = sb__api_param(ctx, "SendDigits");
    const char *record = sb__api_param(ctx, "Record");
    unsigned events = 0;
    long timeout = 60;
    if (!http_url(url))
        bad = "Url is not a valid http or https URL";
    else if (fb && *fb && !http_url(fb))
        bad = "FallbackUrl is not a valid http or https URL";
    else if (sc && *sc && !http_url(sc))
        bad = "StatusCallback is not a valid http or https URL";
    else if (!method_ok(sb__api_param(ctx, "Method")))
        bad = "Method must be GET or POST";
    else if (!method_ok(sb__api_param(ctx, "FallbackMethod")))
        bad = "FallbackMethod must be GET or POST";
    else if (!method_ok(sb__api_param(ctx, "StatusCallbackMethod")))
        bad = "StatusCallbackMethod must be GET or POST";
    else if (parse_events(ctx, &events) != 0)
        bad = "StatusCallbackEvent takes initiated, ringing, answered and completed";
    else if (record && parse_bool(record) < 0)
        bad = "Record must be true or false";
    if (bad == NULL && tmo) {
        char *end = NULL;
        timeout = strtol(tmo, &end, 10);
        if (*tmo == '\0' || *end != '\0' || timeout < 1 || timeout > 600)
            bad = "Timeout must be a number of seconds from 1 to 600";
    }
    if (bad == NULL && digits) {
        size_t n = strlen(digits);
        int ok = n <= 32;
        for (size_t i = 0; ok && i < n; i++)
            ok = isdigit((unsigned char)digits[i]) || strchr("*#wWABCD", digits[i]);
        if (!ok)
            bad = "SendDigits takes at most 32 of 0-9 * # A-D and w (a pause)";
    }
    if (bad == NULL && strlen(from) > 128) {
        bad = "From is too long";
    } else if (bad == NULL) {
        for (const char *c = from; *c; c++) {
            if ((unsigned char)*c < 0x21 || strchr("<>\"@;:?&", *c)) {
                snprintf(badbuf, sizeof badbuf,
                         "From must be a number or a user name, not '%.40s'", from);
                bad = badbuf;
                break;
            }
        }
    }
    if (bad) {
        sb__api_error(ctx, 400, "%s", bad);
        free(app_url);
        return;
    }
    sb_call_create_opts_t o = {
        .account_sid = ctx->op.sid,
        .from = strncasecmp(from, "client:", 7) == 0 ? from + 7 : from,
        .url = url,
        .method = method_norm(sb__api_param(ctx, "Method")),
        .fallback_url = fb && *fb ? fb : NULL,
        .fallback_method = method_norm(sb__api_param(ctx, "FallbackMethod")),
        .status_callback = sc && *sc ? sc : NULL,
        .status_callback_method = method_norm(sb__api_param(ctx, "StatusCallbackMethod")),
        .status_events = events,
        .timeout_s = (int)timeout,
        .username = sb__api_param(ctx, "Username"),
        .password = sb__api_param(ctx, "Password"),
        .send_digits = digits,
        .record = parse_bool(record) == 1,
    };
    if (sb_call_parse_target(to, &o.target) != 0) {
        sb__api_error(ctx, 400, "To must be a number, client:<login> or a SIP URI, "
                      "optionally followed by ?X-Header=value");
        free(app_url);
        return;
    }
    if (!rate_take(ctx->api, ctx->op.sid)) {
        sb_call_target_clear(&o.target);
        free(app_url);
        sb_http_resp_header(ctx->req, "Retry-After", "1");
        sb__api_error(ctx, 429, "Too many calls created; this account may create "
                      "%d per second", ctx->api->cfg->calls_api_rate);
        return;
    }
    char sid[SB_SID_SIZE];
    int rc = sb_call_create(ctx->api->calls, &o, sid);
    char login[sizeof o.target.dest];
    snprintf(login, sizeof login, "%s", o.target.dest);
    sb_call_target_clear(&o.target);
    free(app_url);
    switch (rc) {
    case 0:
        send_call(ctx, sid, 201, 1);
        return;
    case SB_ENOENT:
        sb__api_error(ctx, 400, "client:%s is not a Client of this account", login);
        return;
    case SB_EBUSY:
        sb_http_resp_header(ctx->req, "Retry-After", "1");
        sb__api_error(ctx, 503, "The server is at its call limit; retry later");
        return;
    case SB_EINVAL:
        sb__api_error(ctx, 400, "The call cannot be made to %s", login);
        return;
    default:
        sb__api_error(ctx, 503, "The server cannot create calls now");
        return;
    }
}

void sb__api_calls_collection(sb__api_ctx_t *ctx)
{
    if (strcmp(ctx->method, "POST") == 0)
        calls_create(ctx);
    else
        sb__api_collection(ctx);
}

/* A modification waiting for its Url. */
typedef struct mod_wait_s {
    sb__api_ctx_t *ctx;
    char sid[SB_SID_SIZE];
} mod_wait_t;

static void on_modified(int err, const char *why, void *arg)
{
    mod_wait_t *mw = arg;
    sb__api_ctx_t *ctx = mw->ctx;
    sb_api_t *api = ctx->api;
    api->calls_pending--;
    if (api->freeing)
        sb__api_error(ctx, 503, "The server is shutting down");
    else if (err == 0)
        send_call(ctx, mw->sid, 200, 0);
    else if (err == SB_EHANGUP)
        sb__api_error(ctx, 410, "Call is already completed.");
    else
        sb__api_error(ctx, 400, "The call was not changed: %s",
                      why ? why : sb_strerror(err));
    free(mw);
    sb__api_release(api);
}


static void calls_modify(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    const char *sid = ctx->sid;
    const char *status = sb__api_param(ctx, "Status");
    const char *url = sb__api_param(ctx, "Url");
    const char *mute = sb__api_param(ctx, "Mute");
    const char *move = sb__api_param(ctx, "MoveConnectedCallLeg");
    const char *fb = sb__api_param(ctx, "FallbackUrl");
    const char *sc = sb__api_param(ctx, "StatusCallback");
    const char *bad = NULL;
    if (status && strcmp(status, "canceled") != 0 && strcmp(status, "completed") != 0)
        bad = "Status must be canceled or completed";
    else if (url && !http_url(url))
        bad = "Url is not a valid http or https URL";
    else if (fb && *fb && !http_url(fb))
        bad = "FallbackUrl is not a valid http or https URL";
    else if (sc && *sc && !http_url(sc))
        bad = "StatusCallback is not a valid http or https URL";
    else if (!method_ok(sb__api_param(ctx, "Method")) ||
             !method_ok(sb__api_param(ctx, "FallbackMethod")) ||
             !method_ok(sb__api_param(ctx, "StatusCallbackMethod")))
        bad = "Methods must be GET or POST";
    else if (mute && parse_bool(mute) < 0)
        bad = "Mute must be true or false";
    else if (move && parse_bool(move) < 0)
        bad = "MoveConnectedCallLeg must be true or false";
    else if (!status && !url && !mute)
        bad = "Give Url, Status or Mute";
    else if (status && url)
        bad = "You can either redirect a call using the Url parameter or end it "
              "with the Status parameter, not both";
    if (bad) {
        sb__api_error(ctx, 400, "%s", bad);
        return;
    }
    sb_call_t *call = ctx->api->calls ? sb_call_mgr_find(ctx->api->calls, sid) : NULL;
    if (call && strcmp(sb_call_account(call), ctx->op.sid) != 0)
        call = NULL;                /* another account's: nothing to learn */
    if (call == NULL) {
        /* A record of this account that is over: 410; else unknown. */
        const sb__api_resource_t *res = &sb__api_calls;
        sb_rows_cond_t conds[2] = {
            {.col = res->sid_col, .op = SB_ROWS_EQ, .s = sid},
            {.col = res->owner_col, .op = SB_ROWS_EQ, .s = ctx->op.sid},
        };
        int64_t n = 0;
        if (sb_rows_count(ctx->api->store, &res->table, conds, 2, &n) == 0 && n > 0)
            sb__api_error(ctx, 410, "Call is already completed.");
        else
            sb__api_error(ctx, 404, "The requested resource was not found");
        return;
    }
    if (sb_call_modifying(call)) {
        sb__api_error(ctx, 409, "A modification of this call is under way; "
                      "retry once it is done");
        return;
    }
    char csid[SB_SID_SIZE];
    snprintf(csid, sizeof csid, "%s", sb_call_sid(call));
    if (status) {
        sb_call_status_t st = sb_call_status(call);
        if (strcmp(status, "completed") == 0 || st == SB_CALL_QUEUED ||
            st == SB_CALL_RINGING)
            sb_call_hangup(call);   /* canceled: only before the answer */
        send_call(ctx, csid, 200, 0);
        return;
    }
    if (mute)
        sb_call_mute(call, parse_bool(mute));
    if (url == NULL) {
        send_call(ctx, csid, 200, 0);
        return;
    }
    sb_call_modify_opts_t mo = {
        .url = url,
        .method = method_norm(sb__api_param(ctx, "Method")),
        .fallback_url = fb && *fb ? fb : NULL,
        .fallback_method = method_norm(sb__api_param(ctx, "FallbackMethod")),
        .status_callback = sc && *sc ? sc : NULL,
        .status_callback_method = method_norm(sb__api_param(ctx, "StatusCallbackMethod")),
        .move_connected = parse_bool(move) == 1,
    };
    mod_wait_t *mw = SB_NEW(mod_wait_t);
    mw->ctx = ctx;
    snprintf(mw->sid, sizeof mw->sid, "%s", csid);
    int rc = sb_call_modify_url(call, &mo, on_modified, mw);
    if (rc == 0) {
        ctx->api->calls_pending++;
        return;
    }
    free(mw);
    if (rc == 1)
        send_call(ctx, csid, 200, 0);
    else if (rc == SB_EBUSY)
        sb__api_error(ctx, 409, "A modification of this call is under way; "
                      "retry once it is done");
    else if (rc == SB_EHANGUP)
        sb__api_error(ctx, 410, "Call is already completed.");
    else
        sb__api_error(ctx, 503, "The call cannot be modified now: %s", sb_strerror(rc));
}

void sb__api_calls_item(sb__api_ctx_t *ctx)
{
    if (strcmp(ctx->method, "POST") == 0)
        calls_modify(ctx);
    else
        sb__api_item(ctx);
}
