/*
 * bench_play.c: how many calls one media worker keeps playing a prompt on
 * its 20 ms clock. For each step, N endpoints are set up on 127.0.0.1 as
 * the server would set them up (answered from a phone's SDP) on an engine
 * with one worker thread; each plays one shared cached prompt (a 3 s
 * 1 kHz sine, looped until stopped) towards its own "phone", a UDP socket
 * of a receiver thread. The receiver reads the kernel's receive timestamp
 * of every packet (SO_TIMESTAMPNS: on loopback, taken inside the worker's
 * send), so its figures are the worker's timing, not the receiver's.
 *
 * Measured over a window of S seconds per step (after a 1 s warm-up): the
 * frames received against the N*50*S expected, sequence gaps, the share
 * of frames more than 5 ms late by the engine's clock stats and as seen
 * by the phones (time since the tick's first frame, which shows the time
 * a tick's pass over N endpoints takes), the inter-arrival jitter of each
 * stream (|gap - 20 ms|, pooled over all streams), missed clock ticks, and
 * the CPU of the worker thread (found by its name, "sb-media-0").
 *
 * Output: one table row per step; steps that miss the target (no loss,
 * under 0.1% of frames more than 5 ms late) are marked '*' by the engine's
 * clock stats and '+' by the phones' timestamps. The engine counts a
 * tick's frames late only when the tick itself came late, while the
 * phones also see the time the pass over the tick's N endpoints takes.
 * Timings are printed, never judged (DESIGN.md: timings live in
 * benchmarks).
 *
 * Usage: bench_play [-c 1000,2000,3000,4000] [-s seconds] [-n nice]
 *
 * With 2+ CPUs the main thread and the media worker are pinned to CPU 0
 * and the receiver to CPU 1. The receiver never waits on its sockets (it
 * reads each once per 20 ms, asleep on a timer in between), so the
 * worker's sends wake nobody: phones are remote in real life, and their
 * wakeups are not the server's cost. The loopback delivery into the
 * phones' sockets does run on the worker's CPU, in its send: about a
 * quarter of its cost per frame, which a real network would not charge.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "../bench_threads.h"
#include "media.h"
#include "util.h"

#define MAX_STEPS 16
#define TICK_NS 20000000LL
#define PKT (12 + 160)
#define BATCH 8                 /* recvmmsg per socket */
#define SLICES 20               /* receiver: sockets read per ms */
#define PHASE_BIN_NS 50000LL    /* tick-phase histogram: 50 us bins */
#define PHASE_BINS (int)(TICK_NS / PHASE_BIN_NS)
#define HIST_NS 10000LL         /* jitter and lateness: 10 us buckets */
#define HIST_BUCKETS 10000      /* up to 100 ms, then overflow */
#define LATE_NS 5000000LL
#define WARMUP_NS 1000000000LL
#define DRAIN_MS 150
#define PROMPT_HZ 1000
#define PROMPT_S 3

/* ---- time and CPU ---------------------------------------------------------- */

static int64_t rt_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static double thread_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Seconds CPU 0 was stolen by the hypervisor (/proc/stat "steal"; 0 on
 * bare metal): a virtual CPU that is not running stalls the clock. */
static double cpu0_steal_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return 0;
    char line[512];
    unsigned long long v[8] = {0};
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "cpu0 ", 5) == 0) {
            sscanf(line + 5, "%llu %llu %llu %llu %llu %llu %llu %llu",
                   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
            break;
        }
    }
    fclose(f);
    return (double)v[7] / (double)sysconf(_SC_CLK_TCK);
}

/* With 2 or more CPUs: the worker on CPU 0, the receiver on CPU 1, so that
 * the scheduler's placement is not measured as playback cost. */
static void pin_to_cpu(int cpu)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* ---- the receiver (the phones) ---------------------------------------------- */

typedef struct {
    int have;
    uint16_t last_seq;
    int64_t last_ts;
    uint64_t received;          /* in the window */
    uint64_t gaps;              /* seq numbers skipped, in the window */
    int64_t first_in, last_in;  /* first and last timestamp in it */
} stream_t;

typedef struct {
    int n;
    int *fd;
    unsigned *port;
    stream_t *st;
    double seconds;
    /* Set by the main thread: start of the warm-up (realtime ns). */
    _Atomic int64_t warm_start;
    /* Set by the receiver once it knows the tick's phase: the window,
     * [win_start, win_end), placed between two ticks' bursts. */
    _Atomic int64_t win_start, win_end;
    atomic_int stop;
    uint64_t phase_hist[PHASE_BINS];
    int64_t phi;                /* realtime ns mod 20 ms of a tick's start */
    int phase_gapless;          /* the bursts covered the whole 20 ms */
    uint64_t jit_hist[HIST_BUCKETS + 1];
    uint64_t late_hist[HIST_BUCKETS + 1];
    uint64_t bad, rtcp, reordered, no_ts;
    double cpu_s, wall_s;
} rx_t;

static int64_t mod_tick(int64_t t)
{
    int64_t m = t % TICK_NS;
    return m < 0 ? m + TICK_NS : m;
}

static void hist_add(uint64_t *h, int64_t ns)
{
    int64_t b = ns / HIST_NS;
    h[b < 0 ? 0 : b < HIST_BUCKETS ? b : HIST_BUCKETS]++;
}

/* Value (ms) below which a share q of the histogram lies; the largest
 * value seen for q = 1. */
static double hist_q(const uint64_t *h, double q)
{
    uint64_t total = 0, acc = 0;
    for (int i = 0; i <= HIST_BUCKETS; i++)
        total += h[i];
    if (!total)
        return 0;
    int last = 0;
    for (int i = 0; i <= HIST_BUCKETS; i++) {
        if (!h[i])
            continue;
        last = i;
        acc += h[i];
        if (q < 1 && (double)acc >= q * (double)total)
            return (double)(i + 1) * HIST_NS / 1e6;
    }
    return (double)(last + 1) * HIST_NS / 1e6;
}

static uint64_t hist_above(const uint64_t *h, int64_t ns)
{
    uint64_t n = 0;
    for (int i = (int)(ns / HIST_NS); i <= HIST_BUCKETS; i++)
        n += h[i];
    return n;
}

/* The ticks' phase from the warm-up's arrival times modulo 20 ms: each
 * tick's frames form one burst, so the bins hold a cluster; its start
 * follows the longest run of (nearly) empty bins, circularly. A tick
 * delayed by a stall spreads its frames thinly over the gap, so bins under
 * 1/20 of the fullest count as empty. Then the window:
 * S seconds (a whole number of ticks) starting half a tick before a
 * burst, so that no burst straddles its edges. */
static void rx_set_window(rx_t *rx, int64_t now_ts)
{
    uint64_t top = 0;
    for (int i = 0; i < PHASE_BINS; i++)
        if (rx->phase_hist[i] > top)
            top = rx->phase_hist[i];
    int best_len = 0, best_end = 0, run = 0;
    for (int i = 0; i < 2 * PHASE_BINS; i++) {
        if (rx->phase_hist[i % PHASE_BINS] * 20 < top) {
            if (++run > best_len && run <= PHASE_BINS) {
                best_len = run;
                best_end = i % PHASE_BINS;
            }
        } else {
            run = 0;
        }
    }
    int start_bin;
    if (best_len == 0) {        /* no gap at all: start at the quietest */
        rx->phase_gapless = 1;
        start_bin = 0;
        for (int i = 1; i < PHASE_BINS; i++)
            if (rx->phase_hist[i] < rx->phase_hist[start_bin])
                start_bin = i;
    } else {
        start_bin = (best_end + 1) % PHASE_BINS;
    }
    rx->phi = start_bin * PHASE_BIN_NS;
    /* 100 ms ahead: the receiver may lag behind the timestamps. */
    int64_t ws = now_ts - mod_tick(now_ts - rx->phi) + 5 * TICK_NS -
                 TICK_NS / 2;
    int64_t ticks = llround(rx->seconds * 1000.0 / 20.0);
    atomic_store(&rx->win_end, ws + ticks * TICK_NS);
    atomic_store(&rx->win_start, ws);
}

static void rx_packet(rx_t *rx, int idx, const uint8_t *p, size_t len,
                      int64_t ts)
{
    if (len >= 2 && p[1] >= 200 && p[1] <= 204) {
        rx->rtcp++;
        return;
    }
    if (len != PKT || (p[0] & 0xC0) != 0x80 || (p[1] & 0x7F) != 0) {
        rx->bad++;
        return;
    }
    uint16_t seq = (uint16_t)((p[2] << 8) | p[3]);
    stream_t *s = &rx->st[idx];
    int64_t warm = atomic_load_explicit(&rx->warm_start, memory_order_relaxed);
    int64_t ws = atomic_load_explicit(&rx->win_start, memory_order_relaxed);
    if (ws == 0 && warm != 0 && ts >= warm) {
        if (ts < warm + WARMUP_NS)
            rx->phase_hist[mod_tick(ts) / PHASE_BIN_NS]++;
        else
            rx_set_window(rx, ts);
        ws = atomic_load_explicit(&rx->win_start, memory_order_relaxed);
    }
    if (ws != 0 && ts >= ws && ts < rx->win_end) {
        if (!s->received)
            s->first_in = ts;
        s->last_in = ts;
        s->received++;
        if (s->have) {
            uint16_t want = (uint16_t)(s->last_seq + 1);
            int16_t d = (int16_t)(seq - want);
            if (d > 0)
                s->gaps += (uint64_t)d;
            else if (d < 0)
                rx->reordered++;
            else
                hist_add(rx->jit_hist, llabs(ts - s->last_ts - TICK_NS));
        }
        hist_add(rx->late_hist, mod_tick(ts - rx->phi));
    }
    s->have = 1;
    s->last_seq = seq;
    s->last_ts = ts;
}

static void rx_drain(rx_t *rx, int idx)
{
    static __thread uint8_t bufs[BATCH][256];
    static __thread uint8_t ctl[BATCH][64];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = sizeof(bufs[i]);
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_control = ctl[i];
            msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i]);
        }
        int n = recvmmsg(rx->fd[idx], msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            int64_t ts = 0;
            for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[i].msg_hdr); c;
                 c = CMSG_NXTHDR(&msgs[i].msg_hdr, c)) {
                if (c->cmsg_level == SOL_SOCKET &&
                    c->cmsg_type == SCM_TIMESTAMPNS) {
                    struct timespec t;
                    memcpy(&t, CMSG_DATA(c), sizeof(t));
                    ts = (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
                }
            }
            if (!ts) {
                rx->no_ts++;
                ts = rt_ns();
            }
            rx_packet(rx, idx, bufs[i], msgs[i].msg_len, ts);
        }
        if (n < BATCH)
            return;
    }
}

/* Each socket is read once per 20 ms, a twentieth of them each ms, never
 * waited on: no epoll or poll entry on the sockets, so the worker's sends
 * find no one to wake (phones are remote in real life: their wakeups are
 * not the server's cost), and the kernel's timestamps make the reading
 * time irrelevant. */
static void *rx_main(void *arg)
{
    rx_t *rx = arg;
    pin_to_cpu(1);
    double cpu0 = thread_cpu_s();
    int64_t t0 = rt_ns();
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (long slot = 0; !atomic_load(&rx->stop); slot++) {
        int k = (int)(slot % SLICES);
        int from = (int)((long)rx->n * k / SLICES);
        int to = (int)((long)rx->n * (k + 1) / SLICES);
        for (int i = from; i < to; i++)
            rx_drain(rx, i);
        next.tv_nsec += 1000000;
        if (next.tv_nsec >= 1000000000L) {
            next.tv_nsec -= 1000000000L;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    for (int i = 0; i < rx->n; i++)
        rx_drain(rx, i);
    rx->cpu_s = thread_cpu_s() - cpu0;
    rx->wall_s = (double)(rt_ns() - t0) / 1e9;
    return NULL;
}

static int open_phone(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---- the engine side (main thread) ------------------------------------------ */

/* -l: each phone sends one RTP packet first, as a real phone does, so
 * that the endpoint latches onto it and connects its socket (sends then
 * skip the kernel's route lookup). */
static int latch_phones = 0;

static void phone_hello(int fd, unsigned ep_port)
{
    uint8_t pkt[12 + 160];
    memset(pkt, 0xFF, sizeof(pkt));
    pkt[0] = 0x80;
    pkt[1] = 0;                     /* PCMU */
    pkt[2] = pkt[3] = 0;
    memset(pkt + 4, 0, 8);
    struct sockaddr_in to;
    memset(&to, 0, sizeof(to));
    to.sin_family = AF_INET;
    to.sin_port = htons((uint16_t)ep_port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
        perror("phone hello");
}

static int answer_phone(sb_media_endpoint_t *ep, unsigned phone_port)
{
    /* a=rtcp names the RTP port: the endpoint's reports reach the phone
     * socket (and are counted apart) instead of a closed port. */
    char sdp[512];
    snprintf(sdp, sizeof(sdp),
             "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP 0\r\n"
             "a=rtcp:%u\r\na=ptime:20\r\n",
             phone_port, phone_port);
    sb_media_desc_t remote, local;
    int rc = sb_media_sdp_parse(sdp, strlen(sdp), &remote);
    if (rc == 0)
        rc = sb_media_endpoint_answer(ep, &remote, &local);
    return rc;
}

typedef enum {
    ST_WAIT_PLAYING, ST_WARM, ST_WAIT_WINDOW, ST_IN_WINDOW, ST_DRAIN, ST_DONE
} phase_t;

typedef struct {
    int calls;
    uint64_t expected, received, gaps, lost;
    double loss_pct;
    uint64_t frames, late, missed_ticks;
    double late_pct;            /* engine's clock stats */
    double rx_late_pct;         /* phones: > 5 ms after the tick's start */
    double rx_late_p99, rx_late_max;
    double jit_p50, jit_p99, jit_max;
    double cpu_pct, us_per_frame, rx_cpu_pct, steal_pct;
    int gapless;
    int failed;
    const char *why;
} row_t;

typedef struct {
    uv_loop_t *loop;
    sb_media_engine_t *engine;
    rx_t *rx;
    pid_t worker_tid;
    int calls;
    phase_t phase;
    int64_t deadline;           /* realtime ns, for the current phase */
    sb_media_clock_stats_t cs0, cs1;
    double cpu0, cpu1, ks0, ks1;   /* worker CPU, CPU 0 steal */
    int64_t t0, t1;
    sb_media_endpoint_t **eps;
    uv_timer_t timer;
    const char *fail;
} step_t;

static void on_step_timer(uv_timer_t *t)
{
    step_t *s = t->data;
    int64_t now = rt_ns();
    switch (s->phase) {
    case ST_WAIT_PLAYING: {
        sb_media_clock_stats_t cs;
        sb_media_engine_clock_stats(s->engine, &cs);
        if (cs.playing >= (uint64_t)s->calls) {
            atomic_store(&s->rx->warm_start, now);
            s->phase = ST_WARM;
            s->deadline = now + WARMUP_NS + 5000000000LL;
        } else if (now > s->deadline) {
            s->fail = "not all endpoints started playing";
            s->phase = ST_DRAIN;
        }
        break;
    }
    case ST_WARM:
        if (atomic_load(&s->rx->win_start) != 0) {
            s->phase = ST_WAIT_WINDOW;
        } else if (now > s->deadline) {
            s->fail = "no packets reached the phones";
            s->phase = ST_DRAIN;
        }
        break;
    case ST_WAIT_WINDOW:
        if (now >= atomic_load(&s->rx->win_start)) {
            sb_media_engine_clock_stats(s->engine, &s->cs0);
            s->cpu0 = tid_cpu_s(s->worker_tid);
            s->ks0 = cpu0_steal_s();
            s->t0 = now;
            s->phase = ST_IN_WINDOW;
        }
        break;
    case ST_IN_WINDOW:
        if (now >= atomic_load(&s->rx->win_end)) {
            sb_media_engine_clock_stats(s->engine, &s->cs1);
            s->cpu1 = tid_cpu_s(s->worker_tid);
            s->ks1 = cpu0_steal_s();
            s->t1 = now;
            for (int i = 0; i < s->calls; i++)
                sb_media_endpoint_stop(s->eps[i]);
            s->phase = ST_DRAIN;
            s->deadline = now + DRAIN_MS * 1000000LL;
        }
        break;
    case ST_DRAIN:
        if (now >= s->deadline) {
            s->phase = ST_DONE;
            uv_timer_stop(t);
            uv_stop(s->loop);
        }
        break;
    case ST_DONE:
        break;
    }
}

static int play_done, play_cancelled;

static void on_play_done(sb_media_endpoint_t *ep, int status, void *arg)
{
    play_done++;
    if (status == SB_ECANCELED)
        play_cancelled++;
}

static void run_step(uv_loop_t *loop, sb_media_engine_t *engine,
                     pid_t worker_tid,
                     sb_media_audio_t *prompt, int calls,
                     double seconds, row_t *row)
{
    memset(row, 0, sizeof(*row));
    row->calls = calls;
    rx_t *rx = sb_xcalloc(1, sizeof(*rx));
    rx->n = calls;
    rx->seconds = seconds;
    rx->fd = sb_xcalloc((size_t)calls, sizeof(int));
    rx->port = sb_xcalloc((size_t)calls, sizeof(unsigned));
    rx->st = sb_xcalloc((size_t)calls, sizeof(stream_t));
    step_t s;
    memset(&s, 0, sizeof(s));
    s.loop = loop;
    s.engine = engine;
    s.rx = rx;
    s.worker_tid = worker_tid;
    s.calls = calls;
    s.eps = sb_xcalloc((size_t)calls, sizeof(*s.eps));
    int opened = 0, made = 0, rc = 0;
    for (; opened < calls; opened++) {
        rx->fd[opened] = open_phone(&rx->port[opened]);
        if (rx->fd[opened] < 0) {
            perror("phone socket");
            row->why = "phone sockets (fd limit?)";
            goto out;
        }
    }
    pthread_t th;
    pthread_create(&th, NULL, rx_main, rx);
    play_done = play_cancelled = 0;
    sb_media_play_t src = {.audio = prompt, .loop = 0};
    for (; made < calls; made++) {
        if ((rc = sb_media_endpoint_create(engine, &s.eps[made])) != 0)
            break;
        if ((rc = answer_phone(s.eps[made], rx->port[made])) != 0)
            break;
        if (latch_phones)
            phone_hello(rx->fd[made], sb_media_endpoint_port(s.eps[made]));
        if ((rc = sb_media_endpoint_play(s.eps[made], &src, on_play_done,
                                         NULL)) != 0)
            break;
    }
    if (rc) {
        fprintf(stderr, "setup of call %d of %d failed: %s\n", made + 1,
                calls, sb_strerror(rc));
        s.fail = "setup failed";
        s.phase = ST_DRAIN;
        s.deadline = rt_ns();
        if (s.eps[made])
            made++;
    } else {
        s.phase = ST_WAIT_PLAYING;
        s.deadline = rt_ns() + 20000000000LL;
    }
    uv_timer_init(loop, &s.timer);
    s.timer.data = &s;
    uv_timer_start(&s.timer, on_step_timer, 2, 2);
    while (s.phase != ST_DONE)
        uv_run(loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&s.timer, NULL);
    atomic_store(&rx->stop, 1);
    pthread_join(th, NULL);

    if (s.fail) {
        row->why = s.fail;
    } else {
        int64_t ticks = (rx->win_end - rx->win_start) / TICK_NS;
        row->expected = (uint64_t)calls * (uint64_t)ticks;
        /* Loss per call: the frames its first and last frame in the
         * window span, against those received; so a call whose frames
         * straddle the window's edges (late passes) is not counted as
         * losing them, and ticks the worker dropped count as lost. A
         * call that sent nothing in the window lost all of it. */
        uint64_t missing = 0, spanned = 0;
        for (int i = 0; i < calls; i++) {
            const stream_t *st = &rx->st[i];
            row->received += st->received;
            row->gaps += st->gaps;
            uint64_t span = st->received
                ? (uint64_t)llround((double)(st->last_in - st->first_in) /
                                    (double)TICK_NS) + 1
                : (uint64_t)ticks;
            spanned += span;
            missing += span > st->received ? span - st->received : 0;
        }
        row->lost = missing;
        row->loss_pct = spanned ? 100.0 * (double)missing / (double)spanned
                                : 0;
        row->frames = s.cs1.frames - s.cs0.frames;
        row->late = s.cs1.late_frames - s.cs0.late_frames;
        row->missed_ticks = s.cs1.missed_ticks - s.cs0.missed_ticks;
        /* The two counters are read apart: a tick may be half counted. */
        row->late_pct = row->frames ? 100.0 * (double)row->late /
                                          (double)row->frames : 0;
        if (row->late_pct > 100)
            row->late_pct = 100;
        uint64_t rx_n = 0;
        for (int i = 0; i <= HIST_BUCKETS; i++)
            rx_n += rx->late_hist[i];
        row->rx_late_pct = rx_n ? 100.0 * (double)hist_above(rx->late_hist,
                                                             LATE_NS) /
                                      (double)rx_n : 0;
        row->rx_late_p99 = hist_q(rx->late_hist, 0.99);
        row->rx_late_max = hist_q(rx->late_hist, 1);
        row->jit_p50 = hist_q(rx->jit_hist, 0.5);
        row->jit_p99 = hist_q(rx->jit_hist, 0.99);
        row->jit_max = hist_q(rx->jit_hist, 1);
        double wall = (double)(s.t1 - s.t0) / 1e9;
        double cpu = s.cpu1 - s.cpu0;
        row->cpu_pct = wall > 0 ? 100.0 * cpu / wall : 0;
        row->us_per_frame = row->frames ? cpu * 1e6 / (double)row->frames : 0;
        row->steal_pct = wall > 0 ? 100.0 * (s.ks1 - s.ks0) / wall : 0;
        row->rx_cpu_pct = rx->wall_s > 0 ? 100.0 * rx->cpu_s / rx->wall_s : 0;
        row->gapless = rx->phase_gapless;
        if (rx->bad || rx->no_ts || rx->reordered)
            fprintf(stderr, "step %d: %llu malformed packets, %llu without "
                    "a timestamp, %llu reordered\n", calls,
                    (unsigned long long)rx->bad,
                    (unsigned long long)rx->no_ts,
                    (unsigned long long)rx->reordered);
    }

out:
    for (int i = 0; i < made; i++)
        sb_media_endpoint_destroy(s.eps[i], NULL, NULL);
    while (sb_media_engine_endpoints(engine) > 0)
        uv_run(loop, UV_RUN_ONCE);
    uv_run(loop, UV_RUN_NOWAIT);
    if (!row->why && play_done != calls)
        fprintf(stderr, "step %d: %d of %d plays completed\n", calls,
                play_done, calls);
    for (int i = 0; i < opened; i++)
        close(rx->fd[i]);
    row->failed = row->why != NULL;
    free(s.eps);
    free(rx->fd);
    free(rx->port);
    free(rx->st);
    free(rx);
}

/* The prompt every call plays: a 3 s 1 kHz sine at -12 dBFS, made once. */
static sb_media_audio_t *make_prompt(void)
{
    size_t n = 8000 * PROMPT_S;
    int16_t *pcm = sb_xmalloc(n * sizeof(*pcm));
    for (size_t i = 0; i < n; i++)
        pcm[i] = (int16_t)lrint(8192.0 * sin(2.0 * M_PI * PROMPT_HZ *
                                            (double)i / 8000.0));
    sb_media_audio_t *a = NULL;
    int rc = sb_media_audio_from_pcm(pcm, n, 8000, &a);
    free(pcm);
    if (rc) {
        fprintf(stderr, "prompt: %s\n", sb_strerror(rc));
        exit(1);
    }
    return a;
}

static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void on_closed(void *arg) { *(int *)arg = 1; }

int main(int argc, char **argv)
{
    int steps[MAX_STEPS] = {1000, 2000, 3000, 4000};
    int nsteps = 4;
    double seconds = 10.0;
    int nice_value = 0;
    int opt;
    while ((opt = getopt(argc, argv, "c:s:n:lh")) != -1) {
        switch (opt) {
        case 'c': {
            nsteps = 0;
            char *save, *tok = strtok_r(optarg, ",", &save);
            while (tok && nsteps < MAX_STEPS) {
                if (atoi(tok) > 0)
                    steps[nsteps++] = atoi(tok);
                tok = strtok_r(NULL, ",", &save);
            }
            break;
        }
        case 's':
            seconds = atof(optarg);
            break;
        case 'n':
            nice_value = atoi(optarg);
            break;
        case 'l':
            latch_phones = 1;
            break;
        default:
            fprintf(stderr, "usage: %s [-c calls,calls,...] [-s seconds] "
                    "[-n nice] [-l]\n"
                    "  -l: each phone sends one RTP packet first, so the "
                    "endpoint latches (as with\n      real phones)\n"
                    "  -n: run the media worker (and the receiver) at this "
                    "nice value, e.g. -10,\n      as a media server would "
                    "run its media threads (root only)\n", argv[0]);
            return 2;
        }
    }
    if (seconds < 1 || seconds > 120)
        seconds = 10.0;
    raise_fd_limit();
    sb_log_set_level(SB_LOG_WARN);

    /* Pinned (and niced) before the engine starts its worker, which
     * inherits both. */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pin_to_cpu(0);
    if (nice_value && setpriority(PRIO_PROCESS, 0, nice_value) != 0) {
        perror("setpriority");
        nice_value = 0;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    sb_media_opts_t opts = {.bind_ip = "127.0.0.1", .port_min = 16384,
                            .port_max = 65535, .timeout_s = 0,
                            .threads = 1};
    sb_media_engine_t *engine;
    int rc = sb_media_engine_new(&loop, &opts, NULL, &engine);
    if (rc) {
        fprintf(stderr, "engine: %s\n", sb_strerror(rc));
        return 1;
    }
    pid_t tid = -1;
    for (int i = 0; i < 100 && tid < 0; i++) {
        tid = find_thread("sb-media-0");
        if (tid < 0)
            usleep(10000);
    }
    if (tid < 0) {
        fprintf(stderr, "no thread named sb-media-0: the worker's CPU "
                "cannot be measured\n");
        return 1;
    }
    sb_media_audio_t *prompt = make_prompt();

    printf("playback benchmark: each call plays a cached %d s %d Hz prompt "
           "(looped) as G.711 PCMU, 20 ms frames,\n%.1f s window per step, "
           "%ld CPUs, 1 media worker%s, nice %d%s\n\n", PROMPT_S, PROMPT_HZ,
           seconds, ncpu,
           ncpu >= 2 ? " (CPU 0; phones' receiver on CPU 1)" : "",
           nice_value, latch_phones ? ", phones latched" : "");
    double load = 0;
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf", &load) != 1)
            load = 0;
        fclose(lf);
    }
    printf("load average before the run: %.2f (other work on the machine "
           "skews the CPU and lateness columns)\n\n", load);
    printf("%6s %8s %8s %6s %4s %6s %7s %6s %6s %4s %5s %5s %6s %5s %5s "
           "%6s %6s\n", "calls", "expected", "received", "loss%", "gaps",
           "late%", "rxlate%", "rx_p99", "rx_max", "miss", "jit50",
           "jit99", "jitmax", "cpu%", "us/fr", "steal%", "rxcpu%");
    int best = 0, best_rx = 0;
    for (int i = 0; i < nsteps; i++) {
        row_t r;
        run_step(&loop, engine, tid, prompt, steps[i], seconds, &r);
        if (r.failed) {
            printf("%6d  %s\n", steps[i], r.why);
            fflush(stdout);
            break;
        }
        /* The target as the engine sees it, and as the phones do. */
        int ok = r.lost == 0 && r.gaps == 0 && r.late_pct < 0.1;
        int ok_rx = ok && r.rx_late_pct < 0.1;
        printf("%6d %8llu %8llu %6.3f %4llu %6.3f %7.3f %6.2f %6.2f %4llu "
               "%5.2f %5.2f %6.2f %5.1f %5.2f %6.1f %6.1f %s%s%s\n",
               r.calls, (unsigned long long)r.expected,
               (unsigned long long)r.received, r.loss_pct,
               (unsigned long long)r.gaps, r.late_pct, r.rx_late_pct,
               r.rx_late_p99, r.rx_late_max,
               (unsigned long long)r.missed_ticks, r.jit_p50, r.jit_p99,
               r.jit_max, r.cpu_pct, r.us_per_frame, r.steal_pct,
               r.rx_cpu_pct, ok ? "" : "*", ok_rx ? "" : "+",
               r.gapless ? " (bursts fill the 20 ms)" : "");
        fflush(stdout);
        if (ok && r.calls > best)
            best = r.calls;
        if (ok_rx && r.calls > best_rx)
            best_rx = r.calls;
    }
    printf("\nexpected: calls x 50 x seconds; loss%%: frames missing "
           "between each call's first and last frame in the\n"
           "window (dropped ticks included); gaps: RTP sequence numbers "
           "skipped;\n"
           "late%%: frames the engine counts as sent > 5 ms after their "
           "tick (its clock stats);\n"
           "rxlate%%, rx_p99, rx_max (ms): send time after the tick's "
           "first frame, from the kernel's timestamps\n"
           "  (includes the pass over all calls, which late%% does not "
           "see); miss: clock expirations the worker missed;\n"
           "jit50/99/max (ms): |interval - 20 ms| between consecutive "
           "frames of a call, all calls pooled;\n"
           "cpu%%: the media worker thread; us/fr: its CPU per frame "
           "(kernel and loopback delivery included);\n"
           "steal%%: CPU 0's time taken by the hypervisor (a stalled "
           "virtual CPU delays whole ticks); rxcpu%%: the phones' receiver\n"
           "*: misses the target (loss, gaps, or late%% >= 0.1); +: misses "
           "it as the phones see it (rxlate%% >= 0.1)\n");
    printf("largest step meeting the target: %d (target 3000)\n", best);
    printf("largest step meeting it as the phones see it: %d\n", best_rx);

    sb_media_audio_unref(prompt);
    int closed = 0;
    sb_media_engine_close(engine, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 && closed ? 0 : 1;
}
