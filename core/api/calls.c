/*
 * calls.c: the Calls resource, read side (restcomm.md 2.4, 2.7): the call
 * records the call module writes (one per leg), listed per account with
 * Restcomm's filters (To, From, Status, StartTime, EndTime,
 * ParentCallSid) and paging, one by SID; and the Supervisor resource's
 * metrics (live and maximum concurrent calls, registered users, totals)
 * from the call manager (sb_api_use_calls).
 *
 * Creating calls (POST Calls) and live call modification belong to the
 * REST-originated calls work, not here.
 */
#include "api_int.h"
#include "call.h"
#include "sip_store.h"

#include <malloc.h>
#include <string.h>

/* The call manager for metrics (NULL: counts from the store only). */
void sb_api_use_calls(sb_api_t *api, struct sb_call_mgr_s *calls)
{
    api->calls = calls;
}

/* StartTime / EndTime: seconds in the table, ISO 8601 out (Joda's form). */
static void render_time(sb__api_w_t *w, const char *xml, const char *json,
                        const sb_rows_val_t *v)
{
    if (v->null) {
        sb__api_w_str(w, xml, json, NULL, SB__W_JOMIT);
        return;
    }
    char d[SB_TIME_BUF];
    sb_time_iso8601_ms(v->i * 1000, d);
    sb__api_w_str(w, xml, json, d, 0);
}

static void render_start(sb__api_ctx_t *ctx, sb__api_w_t *w,
                         const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    render_time(w, "StartTime", "start_time", &vals[sb__api_col(res, "start_time")]);
}

static void render_end(sb__api_ctx_t *ctx, sb__api_w_t *w,
                       const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    render_time(w, "EndTime", "end_time", &vals[sb__api_col(res, "end_time")]);
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
        sb_buf_printf(&b, "/%s/Accounts/%s/Calls/%s/%s%s", SB_API_VERSION, ac, sid,
                      subs[i][0], w->json ? ".json" : "");
        sb__api_w_str(w, subs[i][0], subs[i][1], sb_buf_str(&b), 0);
        sb_buf_free(&b);
    }
    sb__api_w_obj_end(w, "SubresourceUris");
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
    SB__FIELD("PhoneNumberSid", "phone_number_sid", "phone_number_sid", SB__T_TEXT,
              SB__F_JOMIT),
    SB__FIELD("Status", "status", "status", SB__T_TEXT, 0),
    SB__FIELD("StartTime", "start_time", NULL, SB__T_CUSTOM, 0, .render = render_start),
    SB__FIELD("EndTime", "end_time", NULL, SB__T_CUSTOM, 0, .render = render_end),
    SB__FIELD("Duration", "duration", "duration", SB__T_INT, 0),
    SB__FIELD("Price", "price", "price", SB__T_TEXT, SB__F_JOMIT),
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
    /* Read by the renderers and filters, never written out. */
    SB__FIELD("_start", "_start", "start_time", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_end", "_end", "end_time", SB__T_INT, SB__F_HIDDEN),
    SB__FIELD("_sipcid", "_sipcid", "sip_call_id", SB__T_TEXT, SB__F_HIDDEN),
};

static const sb__api_filter_t filters[] = {
    {"To", "recipient", SB__FILT_EQ},
    {"From", "sender", SB__FILT_EQ},
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
};

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
