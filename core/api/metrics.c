/*
 * metrics.c: GET /metrics, the server's counters in Prometheus' text
 * exposition format (version 0.0.4) on the HTTP listener: calls (live,
 * started, ended by direction and final status, refused by admission
 * control), registrations, the REST API's requests by route and status
 * class with a latency histogram, and whatever the server adds through
 * sb_api_use_metrics (the media workers, SIP, RCML fetches, the store,
 * Lua errors, the event loop's lag, the process). Off with
 * metrics.enabled = false; behind HTTP Basic with metrics.auth =
 * "user:password"; with metrics.listen on a listener of its own
 * (sb_api_mount_metrics) instead of the REST listener.
 *
 * The REST counters are kept here too: sb__api_metrics_request is called
 * with every answer (api.c).
 */
#include "api_int.h"
#include "call.h"
#include "sip_store.h"

#include <string.h>
#include <strings.h>

/* Upper bounds of the REST latency histogram, in seconds. */
static const double bounds[SB__API_LAT_BUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05,
                                                   0.1, 0.25, 0.5, 1.0, 2.5};

void sb__api_metrics_request(sb__api_ctx_t *ctx, int status)
{
    sb_api_t *api = ctx->api;
    int r = ctx->route ? (int)(ctx->route - api->routes) : SB__API_MAX_ROUTES;
    if (r < 0 || r > SB__API_MAX_ROUTES)
        return;
    sb__api_route_stats_t *st = &api->rstats[r];
    int cls = status / 100 - 1;
    if (cls < 0 || cls > 4)
        cls = 4;
    st->codes[cls]++;
    double secs = (double)(uv_hrtime() - ctx->t0_ns) / 1e9;
    st->sum += secs;
    for (int i = 0; i < SB__API_LAT_BUCKETS; i++)
        if (secs <= bounds[i])
            st->buckets[i]++;
    st->count++;
}

void sb_api_use_metrics(sb_api_t *api, sb_api_metrics_cb cb, void *arg)
{
    api->metrics_cb = cb;
    api->metrics_arg = arg;
}



static void write_calls(sb_api_t *api, sb_buf_t *b)
{
    sb_call_stats_t st;
    memset(&st, 0, sizeof st);
    if (api->calls)
        sb_call_mgr_stats(api->calls, &st);
    sb_metrics_family(b, "switchboard_calls_active", "gauge",
                      "Calls (legs) not over, by direction.");
    sb_buf_printf(b, "switchboard_calls_active{direction=\"inbound\"} %lld\n",
                  (long long)st.live_incoming);
    sb_buf_printf(b, "switchboard_calls_active{direction=\"outbound\"} %lld\n",
                  (long long)st.live_outgoing);
    sb_metrics_family(b, "switchboard_calls_started_total", "counter",
           "Calls (legs) since start, by direction.");
    sb_buf_printf(b, "switchboard_calls_started_total{direction=\"inbound\"} %lld\n",
                  (long long)st.total_incoming);
    sb_buf_printf(b, "switchboard_calls_started_total{direction=\"outbound\"} %lld\n",
                  (long long)st.total_outgoing);
    sb_metrics_family(b, "switchboard_calls_ended_total", "counter",
           "Calls (legs) over since start, by direction and final status.");
    static const char *const dirs[] = {"inbound", "outbound-dial", "outbound-api"};
    for (int s = SB_CALL_COMPLETED; s <= SB_CALL_CANCELED; s++)
        for (int d = 0; d < 3; d++)
            sb_buf_printf(b, "switchboard_calls_ended_total{direction=\"%s\",status=\"%s\"} %lld\n",
                          dirs[d], sb_call_status_name((sb_call_status_t)s),
                          (long long)st.ended[s][d]);
    sb_metrics_family(b, "switchboard_calls_refused_total", "counter",
           "New calls refused by admission control (503).");
    sb_buf_printf(b, "switchboard_calls_refused_total %lld\n", (long long)st.refused);
    sb_metrics_family(b, "switchboard_calls_max_concurrent", "gauge",
           "The most calls (legs) up at once since start.");
    sb_buf_printf(b, "switchboard_calls_max_concurrent %lld\n", (long long)st.max_concurrent);
}

static void write_registrations(sb_api_t *api, sb_buf_t *b)
{
    int64_t users = 0, contacts = 0;
    sb_store_registrations_count(api->store, sb__api_now(), &users, &contacts);
    sb_metrics_family(b, "switchboard_registered_users", "gauge",
                      "Clients with a live SIP registration.");
    sb_buf_printf(b, "switchboard_registered_users %lld\n", (long long)users);
    sb_metrics_family(b, "switchboard_registered_contacts", "gauge",
                      "Live SIP registration contacts.");
    sb_buf_printf(b, "switchboard_registered_contacts %lld\n", (long long)contacts);
}

static void write_rest(sb_api_t *api, sb_buf_t *b)
{
    static const char *const classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    sb_metrics_family(b, "switchboard_rest_requests_total", "counter",
           "REST API answers, by route and status class.");
    for (int r = 0; r <= SB__API_MAX_ROUTES; r++) {
        const sb__api_route_stats_t *st = &api->rstats[r];
        if (st->count == 0)
            continue;
        const char *route = r < api->nroutes ? api->routes[r].pattern : "none";
        for (int c = 0; c < 5; c++) {
            if (st->codes[c] == 0)
                continue;
            sb_buf_puts(b, "switchboard_rest_requests_total{route=\"");
            sb_metrics_label(b, route);
            sb_buf_printf(b, "\",code=\"%s\"} %llu\n", classes[c],
                          (unsigned long long)st->codes[c]);
        }
    }
    sb_metrics_family(b, "switchboard_rest_request_duration_seconds", "histogram",
           "REST API answer time, by route.");
    for (int r = 0; r <= SB__API_MAX_ROUTES; r++) {
        const sb__api_route_stats_t *st = &api->rstats[r];
        if (st->count == 0)
            continue;
        const char *route = r < api->nroutes ? api->routes[r].pattern : "none";
        for (int i = 0; i <= SB__API_LAT_BUCKETS; i++) {
            sb_buf_puts(b, "switchboard_rest_request_duration_seconds_bucket{route=\"");
            sb_metrics_label(b, route);
            if (i < SB__API_LAT_BUCKETS)
                sb_buf_printf(b, "\",le=\"%g\"} %llu\n", bounds[i],
                              (unsigned long long)st->buckets[i]);
            else
                sb_buf_printf(b, "\",le=\"+Inf\"} %llu\n", (unsigned long long)st->count);
        }
        sb_buf_puts(b, "switchboard_rest_request_duration_seconds_sum{route=\"");
        sb_metrics_label(b, route);
        sb_buf_printf(b, "\"} %.6f\n", st->sum);
        sb_buf_puts(b, "switchboard_rest_request_duration_seconds_count{route=\"");
        sb_metrics_label(b, route);
        sb_buf_printf(b, "\"} %llu\n", (unsigned long long)st->count);
    }
}

/* metrics.auth = "user:password": HTTP Basic, compared in constant time. */
static int authorized(sb_api_t *api, sb_http_req_t *req)
{
    const char *want = api->cfg ? api->cfg->metrics_auth : NULL;
    if (want == NULL || *want == '\0')
        return 1;
    const char *h = sb_http_req_header(req, "Authorization");
    if (h == NULL || strncasecmp(h, "Basic ", 6) != 0)
        return 0;
    char got[512];
    return sb__api_b64_decode(h + 6, got, sizeof got) >= 0 && sb_ct_streq(got, want);
}

static void on_metrics(sb_http_req_t *req, void *arg)
{
    sb_api_t *api = arg;
    if (api->cfg && !api->cfg->metrics_enabled) {
        sb_http_respond(req, 404, "text/plain", "Not Found\n", 10);
        return;
    }
    if (!authorized(api, req)) {
        sb_http_resp_header(req, "WWW-Authenticate", "Basic realm=\"switchboard metrics\"");
        sb_http_respond(req, 401, "text/plain", "Unauthorized\n", 13);
        return;
    }
    sb_buf_t b = SB_BUF_INIT;
    sb_metrics_family(&b, "switchboard_up", "gauge", "1 while the server answers.");
    sb_buf_puts(&b, "switchboard_up 1\n");
    write_calls(api, &b);
    write_registrations(api, &b);
    write_rest(api, &b);
    if (api->metrics_cb)
        api->metrics_cb(api->metrics_arg, &b);
    sb_http_respond(req, 200, "text/plain; version=0.0.4; charset=utf-8", sb_buf_str(&b),
                    b.len);
    sb_buf_free(&b);
}

int sb_api_mount_metrics(sb_api_t *api, sb_http_router_t *router)
{
    int id;
    return sb_http_router_add(router, "GET", "/metrics", on_metrics, api, &id);
}

int sb__api_metrics_mount(sb_api_t *api)
{
    /* metrics.listen: served on its own listener only (server.c). */
    if (api->cfg && api->cfg->metrics_host)
        return 0;
    return sb_http_router_add(api->router, "GET", "/metrics", on_metrics, api,
                              &api->metrics_route_id);
}
