/*
 * admit.c: admission control for new inbound calls. Before any work is
 * spent on an INVITE (routing, a media endpoint, the application), it is
 * refused with 503 Service Unavailable and a Retry-After when
 *   - calls.max_concurrent calls are live already,
 *   - calls.max_rate new calls were admitted within the last second
 *     (a token bucket: up to max_rate at once, refilled at max_rate/s), or
 *   - the server is overloaded: its event loop thread was busy more than
 *     calls.max_load percent of the time (its CPU time over wall time,
 *     sampled every SB__ADMIT_SAMPLE_MS and smoothed).
 * An overloaded server that keeps accepting calls falls behind on all of
 * them: SIP retransmissions pile up and every call fails. Refusing new calls
 * early keeps the admitted ones served; a 503 also tells a proxy in front
 * (RFC 3263 failover) to try another node.
 *
 * The decisions are pure functions of their inputs (sb__admit_*), so that
 * the unit tests can drive them with their own clock; the manager feeds
 * them the live count, the time and the load samples.
 */
#include "call_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Overload ends this many points under calls.max_load, so that the state
 * does not flap around the limit. */
#define LOAD_HYSTERESIS 10

void sb__admit_init(sb__admit_t *a, int max_concurrent, int max_rate,
                    int max_load, uint64_t now_ms)
{
    memset(a, 0, sizeof(*a));
    a->max_concurrent = max_concurrent;
    a->max_rate = max_rate;
    a->max_load = max_load;
    a->tokens = max_rate;
    a->tokens_ms = now_ms;
}

const char *sb__admit_check(sb__admit_t *a, int64_t live, uint64_t now_ms,
                            int *retry_after_s)
{
    if (a->max_concurrent > 0 && live >= a->max_concurrent) {
        *retry_after_s = 5;
        return "calls.max_concurrent reached";
    }
    if (a->max_load > 0 && a->overloaded) {
        *retry_after_s = 5;
        return "overloaded (calls.max_load)";
    }
    if (a->max_rate > 0) {
        if (now_ms > a->tokens_ms) {
            a->tokens += (double)(now_ms - a->tokens_ms) * a->max_rate / 1000.0;
            if (a->tokens > a->max_rate)
                a->tokens = a->max_rate;
            a->tokens_ms = now_ms;
        }
        if (a->tokens < 1.0) {
            *retry_after_s = 1;
            return "calls.max_rate reached";
        }
        a->tokens -= 1.0;
    }
    return NULL;
}

/* The load is the mean of the new sample and the previous load: a burst
 * shorter than a sample moves it by half; a loop that goes from idle to
 * saturated crosses a 90 % limit at the fourth sample (one second). */
int sb__admit_sample(sb__admit_t *a, int busy_pct)
{
    if (a->max_load <= 0)
        return 0;
    if (busy_pct < 0)
        busy_pct = 0;
    if (busy_pct > 100)
        busy_pct = 100;
    a->load = (a->load + busy_pct + 1) / 2;
    int was = a->overloaded;
    if (!was && a->load > a->max_load)
        a->overloaded = 1;
    else if (was && a->load < a->max_load - (a->max_load > 2 * LOAD_HYSTERESIS
                                                 ? LOAD_HYSTERESIS
                                                 : a->max_load / 2))
        a->overloaded = 0;
    return a->overloaded != was;
}

/* ---- the manager's side ------------------------------------------------------ */

/* The loop thread's CPU time, in ns. The outer loop is sofia's
 * (core/loop), so libuv's idle-time metric does not see its waits; the
 * thread's CPU time over wall time counts everything the loop does (SIP,
 * media, HTTP, Lua, the kernel's share), and nothing of other threads. */
static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_load_timer(uv_timer_t *t)
{
    sb_call_mgr_t *mgr = t->data;
    uint64_t cpu = thread_cpu_ns();
    uint64_t now = uv_hrtime();
    uint64_t wall = now - mgr->load_wall_ns;
    uint64_t cpu_d = cpu - mgr->load_cpu_ns;
    mgr->load_wall_ns = now;
    mgr->load_cpu_ns = cpu;
    if (wall == 0)
        return;
    int busy = cpu_d >= wall ? 100 : (int)(cpu_d * 100 / wall);
    sb__admit_t *a = &mgr->admit;
    if (!sb__admit_sample(a, busy))
        return;
    if (a->overloaded)
        sb_warn("call: overloaded (event loop %d%% busy, calls.max_load is %d%%): "
                "refusing new calls with 503", a->load, a->max_load);
    else
        sb_warn("call: load down to %d%%: accepting new calls again (%lld refused)",
                a->load, (long long)mgr->stats.refused);
}

void sb__call_admit_start(sb_call_mgr_t *mgr)
{
    const sb_config_t *cfg = mgr->cfg;
    sb__admit_init(&mgr->admit, cfg->calls_max_concurrent, cfg->calls_max_rate,
                   cfg->calls_max_load, uv_hrtime() / 1000000);
    uv_timer_init(mgr->loop, &mgr->load_timer);
    mgr->load_timer.data = mgr;
    if (cfg->calls_max_load > 0) {
        mgr->load_wall_ns = uv_hrtime();
        mgr->load_cpu_ns = thread_cpu_ns();
        uv_timer_start(&mgr->load_timer, on_load_timer, SB__ADMIT_SAMPLE_MS,
                       SB__ADMIT_SAMPLE_MS);
    }
}

int sb__call_admit(sb_call_mgr_t *mgr, sb_sip_leg_t *leg,
                   const sb_sip_invite_info_t *in)
{
    int retry = 0;
    /* uv_hrtime, not uv_now: SIP events come from sofia's side of the
     * reactor, where libuv's cached time may be a second old. */
    const char *why = sb__admit_check(&mgr->admit, mgr->stats.live,
                                      uv_hrtime() / 1000000, &retry);
    if (why == NULL)
        return 1;
    mgr->stats.refused++;
    sb_debug("call: INVITE %s from %s refused: 503, %s", in->call_id,
             in->from_user, why);
    char value[16];
    snprintf(value, sizeof(value), "%d", retry);
    sb_sip_header_t h = {"Retry-After", value};
    sb_sip_leg_respond(leg, 503, "Service Unavailable", NULL, &h, 1);
    sb_sip_leg_release(leg);
    return 0;
}
