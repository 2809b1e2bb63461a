/*
 * metrics.h: the process-wide counters of GET /metrics that several
 * modules feed and no one module owns: SIP requests and responses by
 * method and code, RCML fetches, store statements, Lua errors per plugin
 * and the event loop's lag; plus the histogram and family helpers the
 * other writers (api, media, server) share.
 *
 * Every sb_metrics_* counting function runs on the reactor thread (the
 * signalling thread) only: plain increments, no lock, no allocation on
 * the hot path. Media workers keep their own counters (core/media).
 * sb_metrics_on is 0 with metrics.enabled = false: nothing is counted.
 */
#ifndef SB_METRICS_H
#define SB_METRICS_H

#include <stdint.h>
#include <uv.h>

struct sb_buf_s;

/* 1 unless metrics.enabled = false (sb_metrics_enable). Read by the
 * counting functions' callers' inline checks. */
extern int sb_metrics_on;
void sb_metrics_enable(int on);

/* ---- histograms --------------------------------------------------------- */

#define SB_METRICS_MAX_BUCKETS 16

/* Counts per bucket (not cumulative; the writer sums), the total and the
 * sum of observed values. bounds are the buckets' upper limits in base
 * units, ascending; the +Inf bucket is implicit. */
typedef struct sb_metrics_hist_s {
    uint64_t n[SB_METRICS_MAX_BUCKETS + 1];
    uint64_t count;
    double sum;
} sb_metrics_hist_t;

void sb_metrics_hist_observe(sb_metrics_hist_t *h, const double *bounds, int nb,
                             double v);
/* Writes name_bucket{labels,le=...}, name_sum and name_count. labels
 * (borrowed) is "" or a list such as `worker="0"` without braces. */
void sb_metrics_hist_write(struct sb_buf_s *b, const char *name, const char *labels,
                           const double *bounds, int nb, const sb_metrics_hist_t *h);
/* Writes "# HELP name help\n# TYPE name type\n". */
void sb_metrics_family(struct sb_buf_s *b, const char *name, const char *type,
                       const char *help);

/* ---- SIP ------------------------------------------------------------------ */

/* The method labels: the methods we know, then "other". */
int sb_metrics_sip_method_index(const char *method);

/* A request received (sent = 0) or sent (sent = 1); method borrowed. */
void sb_metrics_sip_request(int sent, const char *method);
/* A response received (sent = 0) or sent (sent = 1) to a request of
 * method; code 100..699 (others are ignored). */
void sb_metrics_sip_response(int sent, const char *method, int code);
/* A REGISTER answered: result is one of "ok", "unregistered", "challenged",
 * "rejected" (a borrowed literal). */
void sb_metrics_registration(const char *result);

/* ---- RCML, store, Lua ---------------------------------------------------- */

/* One RCML document fetch over HTTP that ended after secs. failure is
 * NULL for a 2xx answer, else one of "http" (any other status),
 * "timeout", "network", "too-big", "other". */
void sb_metrics_rcml_fetch(double secs, const char *failure);

/* One sqlite3_step took ns nanoseconds. */
void sb_metrics_store_step(uint64_t ns);

/* An error in plugin's code (borrowed; copied the first time it is seen;
 * at most 64 distinct names, the rest count under "other"). */
void sb_metrics_lua_error(const char *plugin);

/* ---- event-loop lag -------------------------------------------------------- */

/* Starts a timer on loop that fires every 250 ms and records how late it
 * fired. Returns 0 or a UV error. */
int sb_metrics_lag_start(uv_loop_t *loop);
/* Closes that timer; cb(arg) runs from its close callback (or at once
 * when it never started). */
void sb_metrics_lag_close(void (*cb)(void *), void *arg);

/* Appends every family above to b, in Prometheus' text format. */
void sb_metrics_write(struct sb_buf_s *b);

/* Appends v as a label value, escaped as the text format wants (\\, \",
 * \n). */
void sb_metrics_label(struct sb_buf_s *b, const char *v);

/* Clears every counter (unit tests). */
void sb_metrics_reset(void);

#endif
