/*
 * metrics.c: the process-wide counters of metrics.h and their writer.
 *
 * All counters live in static arrays indexed by small integers (method,
 * code - 100, bucket), so counting is an index computation and an
 * increment. They are touched by the reactor thread only. Families with
 * many possible series (method x code) write only the non-zero ones.
 * The event-loop lag timer is the one libuv handle here; the server
 * starts it with the loop and closes it with the other modules.
 */
#include "metrics.h"
#include "buf.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_metrics_on = 1;

void sb_metrics_enable(int on) { sb_metrics_on = on ? 1 : 0; }

/* ---- helpers ------------------------------------------------------------ */

void sb_metrics_family(sb_buf_t *b, const char *name, const char *type, const char *help)
{
    sb_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void sb_metrics_hist_observe(sb_metrics_hist_t *h, const double *bounds, int nb, double v)
{
    int i = 0;
    while (i < nb && v > bounds[i])
        i++;
    h->n[i]++;
    h->count++;
    h->sum += v;
}

void sb_metrics_hist_write(sb_buf_t *b, const char *name, const char *labels,
                           const double *bounds, int nb, const sb_metrics_hist_t *h)
{
    const char *sep = labels && *labels ? "," : "";
    if (labels == NULL)
        labels = "";
    uint64_t cum = 0;
    for (int i = 0; i < nb; i++) {
        cum += h->n[i];
        sb_buf_printf(b, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, bounds[i],
                      (unsigned long long)cum);
    }
    sb_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep,
                  (unsigned long long)h->count);
    if (*labels) {
        sb_buf_printf(b, "%s_sum{%s} %.9g\n", name, labels, h->sum);
        sb_buf_printf(b, "%s_count{%s} %llu\n", name, labels, (unsigned long long)h->count);
    } else {
        sb_buf_printf(b, "%s_sum %.9g\n", name, h->sum);
        sb_buf_printf(b, "%s_count %llu\n", name, (unsigned long long)h->count);
    }
}

/* ---- SIP ---------------------------------------------------------------- */

static const char *const methods[] = {"INVITE", "ACK", "BYE", "CANCEL", "REGISTER",
                                      "OPTIONS", "INFO", "UPDATE", "PRACK", "SUBSCRIBE",
                                      "NOTIFY", "REFER", "MESSAGE", "PUBLISH", "other"};
#define N_METHODS ((int)(sizeof methods / sizeof methods[0]))
#define N_CODES 600                             /* 100..699 */

static uint64_t sip_req[2][N_METHODS];
static uint64_t sip_resp[2][N_METHODS][N_CODES];

int sb_metrics_sip_method_index(const char *m)
{
    if (m == NULL)
        return N_METHODS - 1;
    /* The first letter narrows it to one or two candidates. */
    switch (m[0]) {
    case 'I': return strcmp(m, "INVITE") == 0 ? 0 : strcmp(m, "INFO") == 0 ? 6 : N_METHODS - 1;
    case 'A': return strcmp(m, "ACK") == 0 ? 1 : N_METHODS - 1;
    case 'B': return strcmp(m, "BYE") == 0 ? 2 : N_METHODS - 1;
    case 'C': return strcmp(m, "CANCEL") == 0 ? 3 : N_METHODS - 1;
    case 'R': return strcmp(m, "REGISTER") == 0 ? 4 : strcmp(m, "REFER") == 0 ? 11
                                                                               : N_METHODS - 1;
    case 'O': return strcmp(m, "OPTIONS") == 0 ? 5 : N_METHODS - 1;
    case 'U': return strcmp(m, "UPDATE") == 0 ? 7 : N_METHODS - 1;
    case 'P': return strcmp(m, "PRACK") == 0 ? 8 : strcmp(m, "PUBLISH") == 0 ? 13
                                                                             : N_METHODS - 1;
    case 'S': return strcmp(m, "SUBSCRIBE") == 0 ? 9 : N_METHODS - 1;
    case 'N': return strcmp(m, "NOTIFY") == 0 ? 10 : N_METHODS - 1;
    case 'M': return strcmp(m, "MESSAGE") == 0 ? 12 : N_METHODS - 1;
    default: return N_METHODS - 1;
    }
}

void sb_metrics_sip_request(int sent, const char *method)
{
    if (!sb_metrics_on)
        return;
    sip_req[sent ? 1 : 0][sb_metrics_sip_method_index(method)]++;
}

static uint64_t registrations[4];
static const char *const reg_results[] = {"ok", "challenged", "rejected", "other"};

void sb_metrics_sip_response(int sent, const char *method, int code)
{
    if (!sb_metrics_on || code < 100 || code > 699)
        return;
    int mi = sb_metrics_sip_method_index(method);
    sip_resp[sent ? 1 : 0][mi][code - 100]++;
    if (sent && mi == 4 && code >= 200)
        sb_metrics_registration(code < 300 ? "ok" : code == 401 || code == 407
                                                        ? "challenged" : "rejected");
}

void sb_metrics_registration(const char *result)
{
    if (!sb_metrics_on)
        return;
    int i = 0;
    while (i < 3 && strcmp(reg_results[i], result) != 0)
        i++;
    registrations[i]++;
}

static void write_sip(sb_buf_t *b)
{
    static const char *const dirs[] = {"received", "sent"};
    sb_metrics_family(b, "switchboard_sip_requests_total", "counter",
                      "SIP requests by direction and method (sent: counted when their "
                      "transaction ends).");
    for (int d = 0; d < 2; d++)
        for (int m = 0; m < N_METHODS; m++)
            if (sip_req[d][m] || (m == 0))
                sb_buf_printf(b, "switchboard_sip_requests_total{direction=\"%s\","
                                 "method=\"%s\"} %llu\n",
                              dirs[d], methods[m], (unsigned long long)sip_req[d][m]);
    sb_metrics_family(b, "switchboard_sip_responses_total", "counter",
                      "SIP responses by direction, the request's method and the code.");
    for (int d = 0; d < 2; d++)
        for (int m = 0; m < N_METHODS; m++)
            for (int c = 0; c < N_CODES; c++)
                if (sip_resp[d][m][c])
                    sb_buf_printf(b, "switchboard_sip_responses_total{direction=\"%s\","
                                     "method=\"%s\",code=\"%d\"} %llu\n",
                                  dirs[d], methods[m], c + 100,
                                  (unsigned long long)sip_resp[d][m][c]);
    sb_metrics_family(b, "switchboard_sip_registrations_total", "counter",
                      "REGISTER requests answered, by result.");
    for (int i = 0; i < 4; i++)
        sb_buf_printf(b, "switchboard_sip_registrations_total{result=\"%s\"} %llu\n",
                      reg_results[i], (unsigned long long)registrations[i]);
}

/* ---- RCML fetches --------------------------------------------------------- */

static const double rcml_bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                     0.5, 1, 2.5, 5, 10};
#define RCML_NB ((int)(sizeof rcml_bounds / sizeof rcml_bounds[0]))
static sb_metrics_hist_t rcml_hist;
static const char *const rcml_failures[] = {"http", "timeout", "network", "too-big", "other"};
static uint64_t rcml_failed[5];

void sb_metrics_rcml_fetch(double secs, const char *failure)
{
    if (!sb_metrics_on)
        return;
    sb_metrics_hist_observe(&rcml_hist, rcml_bounds, RCML_NB, secs);
    if (failure == NULL)
        return;
    int i = 0;
    while (i < 4 && strcmp(rcml_failures[i], failure) != 0)
        i++;
    rcml_failed[i]++;
}

/* ---- store ---------------------------------------------------------------- */

static const double store_bounds[] = {0.00001, 0.000025, 0.00005, 0.0001, 0.00025,
                                      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25};
#define STORE_NB ((int)(sizeof store_bounds / sizeof store_bounds[0]))
static sb_metrics_hist_t store_hist;

void sb_metrics_store_step(uint64_t ns)
{
    sb_metrics_hist_observe(&store_hist, store_bounds, STORE_NB, (double)ns / 1e9);
}

/* ---- Lua errors -------------------------------------------------------- */

#define MAX_PLUGINS 64
static char *plugin_names[MAX_PLUGINS];
static uint64_t plugin_errors[MAX_PLUGINS + 1];     /* the last: "other" */
static int n_plugins;

void sb_metrics_lua_error(const char *plugin)
{
    if (!sb_metrics_on)
        return;
    if (plugin == NULL || *plugin == '\0')
        plugin = "unknown";
    for (int i = 0; i < n_plugins; i++)
        if (strcmp(plugin_names[i], plugin) == 0) {
            plugin_errors[i]++;
            return;
        }
    if (n_plugins == MAX_PLUGINS) {
        plugin_errors[MAX_PLUGINS]++;
        return;
    }
    plugin_names[n_plugins] = sb_xstrdup(plugin);
    plugin_errors[n_plugins++]++;
}

void sb_metrics_label(sb_buf_t *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            sb_buf_putc(b, '\\');
        if (*v == '\n') {
            sb_buf_puts(b, "\\n");
            continue;
        }
        sb_buf_putc(b, *v);
    }
}

/* ---- event-loop lag -------------------------------------------------------- */

#define LAG_PERIOD_MS 250
static const double lag_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                    0.1, 0.25, 0.5, 1};
#define LAG_NB ((int)(sizeof lag_bounds / sizeof lag_bounds[0]))
static sb_metrics_hist_t lag_hist;
static double lag_last;
static uv_timer_t *lag_timer;
static uint64_t lag_armed_ns;
static void (*lag_close_cb)(void *);
static void *lag_close_arg;

static void on_lag_tick(uv_timer_t *t)
{
    uint64_t now = uv_hrtime();
    uint64_t due = lag_armed_ns + (uint64_t)LAG_PERIOD_MS * 1000000u;
    double late = now > due ? (double)(now - due) / 1e9 : 0.0;
    lag_last = late;
    if (sb_metrics_on)
        sb_metrics_hist_observe(&lag_hist, lag_bounds, LAG_NB, late);
    lag_armed_ns = now;
    uv_timer_start(t, on_lag_tick, LAG_PERIOD_MS, 0);
}

int sb_metrics_lag_start(uv_loop_t *loop)
{
    if (lag_timer)
        return UV_EBUSY;
    uv_timer_t *t = SB_NEW(uv_timer_t);
    int rc = uv_timer_init(loop, t);
    if (rc != 0) {
        free(t);
        return rc;
    }
    /* uv_timer_start takes the loop's cached time as its base; refresh
     * it so the deadline and lag_armed_ns start together. */
    uv_update_time(loop);
    lag_armed_ns = uv_hrtime();
    uv_timer_start(t, on_lag_tick, LAG_PERIOD_MS, 0);
    uv_unref((uv_handle_t *)t);
    lag_timer = t;
    return 0;
}

static void on_lag_closed(uv_handle_t *h)
{
    free(h);
    void (*cb)(void *) = lag_close_cb;
    lag_close_cb = NULL;
    if (cb)
        cb(lag_close_arg);
}

void sb_metrics_lag_close(void (*cb)(void *), void *arg)
{
    if (lag_timer == NULL) {
        if (cb)
            cb(arg);
        return;
    }
    lag_close_cb = cb;
    lag_close_arg = arg;
    uv_timer_stop(lag_timer);
    uv_close((uv_handle_t *)lag_timer, on_lag_closed);
    lag_timer = NULL;
}

/* ---- writer ------------------------------------------------------------- */

void sb_metrics_write(sb_buf_t *b)
{
    write_sip(b);

    sb_metrics_family(b, "switchboard_rcml_fetch_duration_seconds", "histogram",
                      "Time to fetch an RCML document (any answer or failure).");
    sb_metrics_hist_write(b, "switchboard_rcml_fetch_duration_seconds", "", rcml_bounds,
                          RCML_NB, &rcml_hist);
    sb_metrics_family(b, "switchboard_rcml_fetch_failures_total", "counter",
                      "RCML fetches without a 2xx answer, by reason.");
    for (int i = 0; i < 5; i++)
        sb_buf_printf(b, "switchboard_rcml_fetch_failures_total{reason=\"%s\"} %llu\n",
                      rcml_failures[i], (unsigned long long)rcml_failed[i]);

    sb_metrics_family(b, "switchboard_store_statement_duration_seconds", "histogram",
                      "Time of one SQLite statement step (a statement, or one row of a "
                      "query).");
    sb_metrics_hist_write(b, "switchboard_store_statement_duration_seconds", "",
                          store_bounds, STORE_NB, &store_hist);

    sb_metrics_family(b, "switchboard_lua_errors_total", "counter",
                      "Errors raised by plugin code, by plugin.");
    for (int i = 0; i <= n_plugins; i++) {
        if (i == n_plugins && plugin_errors[MAX_PLUGINS] == 0)
            break;
        sb_buf_puts(b, "switchboard_lua_errors_total{plugin=\"");
        sb_metrics_label(b, i < n_plugins ? plugin_names[i] : "other");
        sb_buf_printf(b, "\"} %llu\n",
                      (unsigned long long)plugin_errors[i < n_plugins ? i : MAX_PLUGINS]);
    }

    sb_metrics_family(b, "switchboard_event_loop_lag_seconds", "histogram",
                      "How late a 250 ms timer on the signalling thread fired.");
    sb_metrics_hist_write(b, "switchboard_event_loop_lag_seconds", "", lag_bounds, LAG_NB,
                          &lag_hist);
    sb_metrics_family(b, "switchboard_event_loop_lag_last_seconds", "gauge",
                      "The last lag measured on the signalling thread.");
    sb_buf_printf(b, "switchboard_event_loop_lag_last_seconds %.6f\n", lag_last);
}

void sb_metrics_reset(void)
{
    memset(sip_req, 0, sizeof sip_req);
    memset(sip_resp, 0, sizeof sip_resp);
    memset(registrations, 0, sizeof registrations);
    memset(&rcml_hist, 0, sizeof rcml_hist);
    memset(rcml_failed, 0, sizeof rcml_failed);
    memset(&store_hist, 0, sizeof store_hist);
    memset(&lag_hist, 0, sizeof lag_hist);
    for (int i = 0; i < n_plugins; i++)
        free(plugin_names[i]);
    n_plugins = 0;
    memset(plugin_errors, 0, sizeof plugin_errors);
    lag_last = 0;
}
