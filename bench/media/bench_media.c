/*
 * bench_media.c: how many concurrent G.711 calls the media relay carries on
 * this machine. For each step, N calls are set up on 127.0.0.1 as the
 * server would set them up (two endpoints per call, answered from a phone's
 * SDP, bridged); a generator thread then plays both phones of every call,
 * 50 packets per second each way (20 ms of PCMU), paced in 1 ms slots, and
 * counts what comes back through the relay. The relay runs on the main
 * thread in one libuv loop, as in the server.
 *
 * Output: one table row per step (offered and relayed packets per second,
 * loss, sequence gaps, CPU of the relay thread and of the generator), then
 * the largest step with under 0.1% loss. Timings are printed, never judged
 * (DESIGN.md: timings live in benchmarks).
 *
 * Usage: bench_media [-c 100,500,1000,2000] [-s seconds] [-S] [-t threads]
 *                    [-m relay|record|inband]
 *
 * -m record: every call's A leg is also recorded to a WAV file (a tmpfs
 * or disk folder, -o DIR, default /tmp), as <Record> does, on the same
 * worker; the table adds the recorders' frames, packets that came too
 * late for their frame, frames the disk could not take, and checks each
 * file's length against the frames reported. -m inband: the phones do
 * not offer telephone-event and both legs of every call run the in-band
 * DTMF detector, as during a <Gather> (so 2 detectors per call).
 * -m conference [-R size]: the 2 * calls phones are members of rooms of
 * `size` (default 5) instead of bridged pairs; every member talks (the
 * generator's payload is loud noise, the mixer's worst case: each member
 * gets a frame of its own). The table adds the rooms' late ticks and the
 * worker's CPU per member per tick; the delay columns mean nothing then.
 *
 * -t 1 (the default, as the server runs) relays on a media worker thread
 * ("sb-media-0", its CPU read from the kernel); -t 0 relays on the main
 * thread's loop.
 *
 * With 2+ CPUs the relay is pinned to CPU 0 and the generator to CPU 1, so
 * that the scheduler's placement is not measured as relay cost. -S makes
 * the generator poll its sockets without sleeping (the relay then never
 * pays for waking it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
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
#define PTIME_MS 20
#define SLOTS PTIME_MS          /* one slot per ms */
#define PAYLOAD 160
#define PKT (12 + PAYLOAD)
#define BATCH 64
#define DRAIN_MS 300
#define LAT_BUCKETS 20000       /* 0.1 ms each: up to 2 s */

typedef struct {
    uint16_t seq;               /* next seq this phone sends */
    uint32_t ts;
    uint64_t sent;
    uint64_t received;          /* what the other phone got from it */
    uint16_t last_rx_seq;
    int rx_started;
    uint64_t gaps;
} leg_t;

typedef struct {
    int calls;
    double seconds;
    /* call i: dir 0 is A -> relay(a_i) -> relay(b_i) -> B, dir 1 back */
    leg_t *legs;                /* [2 * calls] */
    unsigned *a_port, *b_port;  /* the endpoints' RTP ports */
    int16_t *by_port;           /* source port -> call index or -1 */
    uint8_t *dir_of_port;
    int sock[2];                /* generator sockets: A phones, B phones */
    struct sockaddr_in sock_addr[2];
    uv_async_t *done;
    uint64_t lat_hist[LAT_BUCKETS + 1];     /* 0.1 ms buckets, overflow */
    double cpu_s;
    int spin;                   /* poll the sockets instead of sleeping */
    atomic_int finished;
} gen_t;

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* ---- the generator thread ------------------------------------------------- */

static void gen_drain(gen_t *g, int s)
{
    static __thread uint8_t bufs[BATCH][256];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_in from[BATCH];
    for (;;) {
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = bufs[i];
            iov[i].iov_len = sizeof(bufs[i]);
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
        int n = recvmmsg(g->sock[s], msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        uint64_t now = now_ns();
        for (int i = 0; i < n; i++) {
            if (msgs[i].msg_len < PKT)
                continue;
            /* The payload carries the send time (the relay does not
             * transcode PCMU to PCMU), so we see the one-way delay. */
            uint64_t sent_ns;
            memcpy(&sent_ns, bufs[i] + 12, sizeof(sent_ns));
            uint64_t b = now > sent_ns ? (now - sent_ns) / 100000 : 0;
            g->lat_hist[b < LAT_BUCKETS ? b : LAT_BUCKETS]++;
            unsigned port = ntohs(from[i].sin_port);
            int call = g->by_port[port];
            if (call < 0)
                continue;
            /* Socket 1 (B phones) hears what A sent: dir 0. */
            leg_t *l = &g->legs[2 * call + (s == 1 ? 0 : 1)];
            uint16_t seq = (uint16_t)((bufs[i][2] << 8) | bufs[i][3]);
            if (l->rx_started && seq != (uint16_t)(l->last_rx_seq + 1))
                l->gaps++;
            l->rx_started = 1;
            l->last_rx_seq = seq;
            l->received++;
        }
        if (n < BATCH)
            return;
    }
}

static void gen_send_slot(gen_t *g, int slot, uint8_t (*pkts)[PKT])
{
    for (int s = 0; s < 2; s++) {
        struct mmsghdr msgs[BATCH];
        struct iovec iov[BATCH];
        struct sockaddr_in to[BATCH];
        int n = 0;
        uint64_t stamp = now_ns();
        for (int c = slot; c < g->calls; c += SLOTS) {
            leg_t *l = &g->legs[2 * c + s];
            uint8_t *p = pkts[n];
            p[0] = 0x80;
            p[1] = 0;                       /* PCMU */
            put16(p + 2, l->seq++);
            put32(p + 4, l->ts);
            l->ts += PAYLOAD;
            put32(p + 8, (uint32_t)(2 * c + s + 1));
            memcpy(p + 12, &stamp, sizeof(stamp));
            memset(&to[n], 0, sizeof(to[n]));
            to[n].sin_family = AF_INET;
            to[n].sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            to[n].sin_port = htons((uint16_t)(s == 0 ? g->a_port[c]
                                                     : g->b_port[c]));
            iov[n].iov_base = p;
            iov[n].iov_len = PKT;
            memset(&msgs[n].msg_hdr, 0, sizeof(msgs[n].msg_hdr));
            msgs[n].msg_hdr.msg_iov = &iov[n];
            msgs[n].msg_hdr.msg_iovlen = 1;
            msgs[n].msg_hdr.msg_name = &to[n];
            msgs[n].msg_hdr.msg_namelen = sizeof(to[n]);
            l->sent++;
            if (++n == BATCH || c + SLOTS >= g->calls) {
                int off = 0;
                while (off < n) {
                    int r = sendmmsg(g->sock[s], msgs + off,
                                     (unsigned)(n - off), 0);
                    if (r <= 0) {
                        if (r < 0 && errno == EINTR)
                            continue;
                        break;      /* counted as loss */
                    }
                    off += r;
                }
                n = 0;
            }
        }
    }
}

/* With 2 or more CPUs the relay runs on CPU 0 and the generator on CPU 1:
 * otherwise the scheduler's wake-affine placement (each side wakes the
 * other on every packet burst) often stacks both threads on one CPU while
 * the other idles, and the table measures the scheduler, not the relay. */
static void pin_to_cpu(int cpu)
{
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *gen_main(void *arg)
{
    gen_t *g = arg;
    pin_to_cpu(1);
    static uint8_t pkts[BATCH][PKT];
    memset(pkts, 0xCE, sizeof(pkts));
    double cpu0 = thread_cpu_s();
    double start = now_s();
    double end = start + g->seconds;
    double next = start;
    long slot = 0;
    struct pollfd pfd[2] = {{g->sock[0], POLLIN, 0}, {g->sock[1], POLLIN, 0}};
    for (;;) {
        double t = now_s();
        if (t >= next) {
            if (t >= end)
                break;
            gen_send_slot(g, (int)(slot % SLOTS), pkts);
            slot++;
            next = start + (double)slot / 1000.0;
            /* Drain even when late, or a generator that falls behind
             * would overflow its own receive buffers. */
            gen_drain(g, 0);
            gen_drain(g, 1);
            continue;
        }
        if (g->spin) {
            /* Never asleep in the sockets' wait queues, so the relay's
             * sends to the phones do not pay for waking the generator
             * (a cross-CPU wakeup per burst): phones are remote in real
             * life, and their wakeups are not the server's cost. */
            gen_drain(g, 0);
            gen_drain(g, 1);
            continue;
        }
        /* Asleep on a timer, not in the sockets' wait queues: the relay's
         * sends to the phones then wake nobody (phones are remote in real
         * life, and their wakeups are not the server's cost); what came
         * back is drained at the next slot, at most 1 ms later. */
        struct timespec ts = {0, (long)((next - t) * 1e9)};
        nanosleep(&ts, NULL);
    }
    double drain_end = now_s() + DRAIN_MS / 1000.0;
    for (double t = now_s(); t < drain_end; t = now_s()) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        if (ppoll(pfd, 2, &ts, NULL) > 0) {
            gen_drain(g, 0);
            gen_drain(g, 1);
        }
    }
    g->cpu_s = thread_cpu_s() - cpu0;
    atomic_store(&g->finished, 1);
    uv_async_send(g->done);
    return NULL;
}

/* ---- the relay side (main thread) ---------------------------------------- */

static int open_gen_socket(struct sockaddr_in *out)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0)
        return -1;
    int size = 32 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    /* DF set, as the relay's sockets do: no per-packet IP ID hashing. */
    int pmtu = IP_PMTUDISC_DO;
    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    socklen_t len = sizeof(*out);
    getsockname(fd, (struct sockaddr *)out, &len);
    return fd;
}

/* System-wide UDP receive-buffer drops (/proc/net/snmp RcvbufErrors):
 * tells whether loss happened in a socket queue, on either side. */
static long long udp_rcvbuf_errors(void)
{
    FILE *f = fopen("/proc/net/snmp", "r");
    if (!f)
        return -1;
    char head[512], vals[512];
    long long result = -1;
    while (fgets(head, sizeof(head), f) && fgets(vals, sizeof(vals), f)) {
        if (strncmp(head, "Udp:", 4) != 0)
            continue;
        char *hs, *vs;
        char *h = strtok_r(head, " \n", &hs);
        char *v = strtok_r(vals, " \n", &vs);
        while (h && v) {
            if (strcmp(h, "RcvbufErrors") == 0)
                result = atoll(v);
            h = strtok_r(NULL, " \n", &hs);
            v = strtok_r(NULL, " \n", &vs);
        }
        break;
    }
    fclose(f);
    return result;
}

static void on_gen_done(uv_async_t *h)
{
    uv_stop(h->loop);
}

typedef enum { MODE_RELAY, MODE_RECORD, MODE_INBAND, MODE_CONF } mode_t_;
static mode_t_ mode = MODE_RELAY;
static int room_size = 5;
static const char *rec_dir = "/tmp";

static int answer_phone(sb_media_endpoint_t *ep, unsigned phone_port)
{
    char sdp[512];
    snprintf(sdp, sizeof(sdp),
             "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %u RTP/AVP 0%s\r\n"
             "%sa=ptime:20\r\n",
             phone_port, mode == MODE_INBAND ? "" : " 101",
             mode == MODE_INBAND ? "" : "a=rtpmap:101 telephone-event/8000\r\n");
    sb_media_desc_t remote, local;
    int rc = sb_media_sdp_parse(sdp, strlen(sdp), &remote);
    if (rc == 0)
        rc = sb_media_endpoint_answer(ep, &remote, &local);
    return rc;
}

typedef struct {
    int calls;
    double offered_pps, relayed_pps, loss_pct, relay_cpu_pct, gen_cpu_pct;
    double relay_us_per_pkt;
    long long rcvbuf_drops;
    double p99_ms, max_ms;      /* one-way delay through the relay */
    int late;                   /* the generator fell behind its pacing */
    uint64_t gaps;
    int setup_failed;
    /* -m record */
    uint64_t rec_frames, rec_late, rec_dropped, rec_bad_files, recs;
    /* -m conference */
    int rooms;
    uint64_t mix_ticks, mix_late, member_frames;
    double us_per_member_frame;
} row_t;

typedef struct {
    int done;
    uint64_t frames, late, dropped, bad_files, missing;
} rec_sum_t;

static char *rec_path(int c)
{
    return sb_xasprintf("%s/sb-bench-rec-%d-%d.wav", rec_dir, (int)getpid(), c);
}

static void on_rec_done(sb_media_rec_t *rec, const sb_media_rec_result_t *r,
                        void *arg)
{
    (void)rec;
    rec_sum_t *s = arg;
    s->done++;
    s->frames += r->frames;
    s->late += r->late_packets;
    s->dropped += r->dropped_frames;
    s->missing += r->missing_frames;
    if (r->status != 0)
        s->bad_files++;
}

static int spin_generator = 0;
static int media_threads = 1;

/* CPU seconds of the relay: the worker thread, or this one (-t 0). */
static double relay_cpu_s(void)
{
    if (media_threads == 0)
        return thread_cpu_s();
    static pid_t tid = -1;
    if (tid < 0)
        tid = find_thread("sb-media-0");
    return tid < 0 ? 0 : tid_cpu_s(tid);
}

static int run_step(uv_loop_t *loop, sb_media_engine_t *engine, int calls,
                    double seconds, row_t *row)
{
    memset(row, 0, sizeof(*row));
    row->calls = calls;
    gen_t g;
    memset(&g, 0, sizeof(g));
    g.calls = calls;
    g.seconds = seconds;
    g.spin = spin_generator && sysconf(_SC_NPROCESSORS_ONLN) >= 2;
    g.legs = sb_xcalloc(2 * (size_t)calls, sizeof(leg_t));
    g.a_port = sb_xcalloc((size_t)calls, sizeof(unsigned));
    g.b_port = sb_xcalloc((size_t)calls, sizeof(unsigned));
    g.by_port = sb_xmalloc(65536 * sizeof(int16_t));
    for (int i = 0; i < 65536; i++)
        g.by_port[i] = -1;
    sb_media_endpoint_t **eps = sb_xcalloc(2 * (size_t)calls, sizeof(*eps));
    int rc = 0;

    for (int s = 0; s < 2; s++) {
        g.sock[s] = open_gen_socket(&g.sock_addr[s]);
        if (g.sock[s] < 0) {
            perror("generator socket");
            exit(1);
        }
    }
    for (int c = 0; c < calls; c++) {
        sb_media_endpoint_t *a, *b;
        if ((rc = sb_media_endpoint_create(engine, &a)) != 0)
            break;
        eps[2 * c] = a;
        if ((rc = sb_media_endpoint_create(engine, &b)) != 0)
            break;
        eps[2 * c + 1] = b;
        rc = answer_phone(a, ntohs(g.sock_addr[0].sin_port));
        if (rc == 0)
            rc = answer_phone(b, ntohs(g.sock_addr[1].sin_port));
        if (rc == 0 && mode != MODE_CONF)
            rc = sb_media_connect(a, b, NULL, NULL);
        if (rc)
            break;
        g.a_port[c] = sb_media_endpoint_port(a);
        g.b_port[c] = sb_media_endpoint_port(b);
        /* Packets to B phones come from b's port, to A phones from a's. */
        g.by_port[g.a_port[c]] = (int16_t)c;
        g.by_port[g.b_port[c]] = (int16_t)c;
        for (int i = 0; i < 2; i++)
            g.legs[2 * c + i].seq = (uint16_t)(c * 31 + i), g.legs[2 * c + i].ts = (uint32_t)c * 7919u;
    }
    if (rc) {
        fprintf(stderr, "setup of %d calls failed: %s\n", calls,
                sb_strerror(rc));
        row->setup_failed = 1;
    }
    sb_media_room_t **rooms = NULL;
    int nrooms = 0;
    if (!rc && mode == MODE_CONF) {
        nrooms = (2 * calls + room_size - 1) / room_size;
        rooms = sb_xcalloc((size_t)nrooms, sizeof(*rooms));
        for (int i = 0; i < nrooms && !rc; i++)
            rc = sb_media_room_new(engine, &rooms[i]);
        for (int i = 0; i < 2 * calls && !rc; i++)
            rc = sb_media_room_join(rooms[i / room_size], eps[i], 0, NULL, NULL);
        row->rooms = nrooms;
    }
    sb_media_mix_stats_t mix0;
    sb_media_engine_mix_stats(engine, &mix0);
    uv_run(loop, UV_RUN_NOWAIT);        /* deliver the connect completions */
    rec_sum_t rs = {0};
    sb_media_rec_t **recs = NULL;
    if (!rc && mode == MODE_RECORD) {
        recs = sb_xcalloc((size_t)calls, sizeof(*recs));
        for (int c = 0; c < calls; c++) {
            char *path = rec_path(c);
            sb_media_rec_opts_t o = {.path = path};
            if (sb_media_record_start(eps[2 * c], &o, on_rec_done, &rs,
                                      &recs[c]) != 0)
                recs[c] = NULL;
            free(path);
        }
    } else if (!rc && mode == MODE_INBAND) {
        sb_media_listen_t l = {.dtmf = 1};
        for (int i = 0; i < 2 * calls; i++)
            sb_media_endpoint_listen(eps[i], &l, NULL, NULL);
    }

    if (!rc) {
        uv_async_t done;
        uv_async_init(loop, &done, on_gen_done);
        g.done = &done;
        pthread_t th;
        long long drops0 = udp_rcvbuf_errors();
        double cpu0 = relay_cpu_s();
        double t0 = now_s();
        pthread_create(&th, NULL, gen_main, &g);
        while (!atomic_load(&g.finished))
            uv_run(loop, UV_RUN_DEFAULT);
        double wall = now_s() - t0;
        double cpu = relay_cpu_s() - cpu0;
        pthread_join(th, NULL);
        if (recs) {
            int want = 0;
            for (int c = 0; c < calls; c++)
                if (recs[c]) {
                    sb_media_record_stop(recs[c]);
                    want++;
                }
            while (rs.done < want)
                uv_run(loop, UV_RUN_ONCE);
            /* Every file holds exactly the frames its recorder took. */
            for (int c = 0; c < calls; c++) {
                char *path = rec_path(c);
                FILE *f = fopen(path, "rb");
                long size = -1;
                if (f && fseek(f, 0, SEEK_END) == 0)
                    size = ftell(f);
                if (f)
                    fclose(f);
                if (size < 44 || (size - 44) % 320 != 0)
                    rs.bad_files++;
                unlink(path);
                free(path);
            }
            row->recs = (uint64_t)want;
            row->rec_frames = rs.frames;
            row->rec_late = rs.late;
            row->rec_dropped = rs.dropped;
            row->rec_bad_files = rs.bad_files;
        }
        uv_close((uv_handle_t *)&done, NULL);
        uv_run(loop, UV_RUN_NOWAIT);

        uint64_t sent = 0, received = 0, relayed = 0;
        for (int i = 0; i < 2 * calls; i++) {
            sent += g.legs[i].sent;
            received += g.legs[i].received;
            row->gaps += g.legs[i].gaps;
            sb_media_stats_t st;
            sb_media_endpoint_stats(eps[i], &st);
            relayed += st.tx_packets;
        }
        double active = seconds;
        row->offered_pps = (double)sent / active;
        row->relayed_pps = (double)relayed / active;
        row->loss_pct = sent ? 100.0 * (double)(sent - (received < sent ? received : sent)) / (double)sent : 0;
        row->relay_cpu_pct = 100.0 * cpu / wall;
        row->gen_cpu_pct = 100.0 * g.cpu_s / wall;
        row->relay_us_per_pkt = relayed ? cpu * 1e6 / (double)relayed : 0;
        uint64_t total = 0, acc = 0;
        for (int i = 0; i <= LAT_BUCKETS; i++)
            total += g.lat_hist[i];
        for (int i = 0; i <= LAT_BUCKETS && total; i++) {
            acc += g.lat_hist[i];
            if (row->p99_ms == 0 && acc * 100 >= total * 99)
                row->p99_ms = (i + 1) / 10.0;
            if (g.lat_hist[i])
                row->max_ms = (i + 1) / 10.0;
        }
        long long drops1 = udp_rcvbuf_errors();
        row->rcvbuf_drops = drops0 >= 0 && drops1 >= 0 ? drops1 - drops0 : -1;
        row->late = row->offered_pps < 0.99 * 100.0 * calls;
        if (mode == MODE_CONF) {
            sb_media_mix_stats_t mix1;
            sb_media_engine_mix_stats(engine, &mix1);
            row->mix_ticks = mix1.ticks - mix0.ticks;
            row->mix_late = mix1.late - mix0.late;
            row->member_frames = mix1.member_frames - mix0.member_frames;
            row->us_per_member_frame = row->member_frames
                ? cpu * 1e6 / (double)row->member_frames : 0;
        }
    }
    for (int i = 0; i < nrooms; i++)
        sb_media_room_destroy(rooms[i], NULL, NULL);
    free(rooms);

    free(recs);
    for (int i = 0; i < 2 * calls; i++)
        if (eps[i])
            sb_media_endpoint_destroy(eps[i], NULL, NULL);
    while (sb_media_engine_endpoints(engine) > 0)
        uv_run(loop, UV_RUN_ONCE);
    close(g.sock[0]);
    close(g.sock[1]);
    free(eps);
    free(g.legs);
    free(g.a_port);
    free(g.b_port);
    free(g.by_port);
    return row->setup_failed ? -1 : 0;
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
    int steps[MAX_STEPS] = {100, 500, 1000, 1500, 2000, 2500, 3000};
    int nsteps = 7;
    double seconds = 3.0;
    int opt;
    while ((opt = getopt(argc, argv, "c:s:St:m:o:R:h")) != -1) {
        switch (opt) {
        case 'c': {
            nsteps = 0;
            char *save, *tok = strtok_r(optarg, ",", &save);
            while (tok && nsteps < MAX_STEPS) {
                steps[nsteps++] = atoi(tok);
                tok = strtok_r(NULL, ",", &save);
            }
            break;
        }
        case 's':
            seconds = atof(optarg);
            break;
        case 'S':
            spin_generator = 1;
            break;
        case 't':
            media_threads = atoi(optarg) > 0 ? 1 : 0;
            break;
        case 'm':
            mode = !strcmp(optarg, "record") ? MODE_RECORD
                   : !strcmp(optarg, "inband") ? MODE_INBAND
                   : !strcmp(optarg, "conference") ? MODE_CONF : MODE_RELAY;
            break;
        case 'R':
            room_size = atoi(optarg) > 1 ? atoi(optarg) : 2;
            break;
        case 'o':
            rec_dir = optarg;
            break;
        default:
            fprintf(stderr, "usage: %s [-c calls,calls,...] [-s seconds] [-S] [-t 0|1]\n"
                    "  -S: the generator polls its sockets without sleeping "
                    "(no wakeups charged to the relay; takes CPU 1 whole)\n",
                    argv[0]);
            return 2;
        }
    }
    if (seconds < 0.5 || seconds > 60)
        seconds = 3.0;
    raise_fd_limit();
    sb_log_set_level(SB_LOG_WARN);

    uv_loop_t loop;
    uv_loop_init(&loop);
    /* Pinned first: the worker thread inherits CPU 0. */
    pin_to_cpu(0);
    sb_media_opts_t opts = {.bind_ip = "127.0.0.1", .port_min = 16384,
                            .port_max = 65535, .timeout_s = 0,
                            .threads = media_threads};
    sb_media_engine_t *engine;
    int rc = sb_media_engine_new(&loop, &opts, NULL, &engine);
    if (rc) {
        fprintf(stderr, "engine: %s\n", sb_strerror(rc));
        return 1;
    }

    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    printf("media relay benchmark%s: G.711 PCMU, %d ms packets (50 pps each way "
           "per call), %.1f s per step, %ld CPUs, relay on %s%s\n\n",
           mode == MODE_CONF ? " in conference rooms"
           : mode == MODE_RECORD ? " with a recorder per call"
           : mode == MODE_INBAND ? " with in-band DTMF detection on every leg" : "",
           PTIME_MS, seconds, ncpu,
           media_threads ? "a media worker thread" : "the main thread",
           ncpu >= 2 ? (spin_generator
                            ? " (CPU 0; generator on CPU 1, polling)"
                            : " (CPU 0; generator on CPU 1, sleeping)")
                     : "");
    double load[3] = {0, 0, 0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3)
            load[0] = 0;
        fclose(lf);
    }
    printf("load average before the run: %.2f (other work on the machine "
           "skews the CPU columns)\n\n", load[0]);
    printf("%6s %11s %11s %8s %6s %8s %7s %8s %10s %8s %8s\n", "calls",
           "offered_pps", "relayed_pps", "loss_%", "gaps", "q_drops",
           "p99_ms", "max_ms", "relay_cpu%", "gen_cpu%", "us/pkt");
    if (mode == MODE_RECORD)
        printf("%6s %11s %11s %8s %8s\n", "", "rec_frames", "rec_late",
               "rec_drop", "bad_file");
    if (mode == MODE_CONF)
        printf("%6s %11s %11s %8s %10s %12s   (rooms of %d)\n", "", "members",
               "rooms", "ticks", "late_%", "us/member", room_size);
    int best = 0, any_late = 0;
    for (int i = 0; i < nsteps; i++) {
        row_t r;
        if (run_step(&loop, engine, steps[i], seconds, &r) != 0) {
            printf("%6d  setup failed\n", steps[i]);
            break;
        }
        printf("%6d %11.0f %11.0f %8.4f %6llu %8lld %7.1f %8.1f %10.1f "
               "%8.1f %8.2f%s\n",
               r.calls, r.offered_pps, r.relayed_pps, r.loss_pct,
               (unsigned long long)r.gaps, r.rcvbuf_drops, r.p99_ms, r.max_ms,
               r.relay_cpu_pct, r.gen_cpu_pct, r.relay_us_per_pkt,
               r.late ? " *" : "");
        if (mode == MODE_CONF)
            printf("%6s %11d %11d %8llu %10.3f %12.2f\n", "", 2 * r.calls,
                   r.rooms, (unsigned long long)r.mix_ticks,
                   r.mix_ticks ? 100.0 * (double)r.mix_late / (double)r.mix_ticks
                               : 0.0,
                   r.us_per_member_frame);
        if (mode == MODE_RECORD)
            printf("%6s %11llu %11llu %8llu %8llu\n", "",
                   (unsigned long long)r.rec_frames,
                   (unsigned long long)r.rec_late,
                   (unsigned long long)r.rec_dropped,
                   (unsigned long long)r.rec_bad_files);
        fflush(stdout);
        any_late |= r.late;
        if (mode == MODE_CONF && r.mix_ticks &&
            (double)r.mix_late / (double)r.mix_ticks >= 0.001)
            r.loss_pct = 100;   /* late ticks fail the step */
        int rec_ok = mode != MODE_RECORD ||
                     (r.rec_late == 0 && r.rec_dropped == 0 &&
                      r.rec_bad_files == 0 && r.recs == (uint64_t)r.calls);
        if (r.loss_pct < 0.1 && !r.late && rec_ok && r.calls > best)
            best = r.calls;
    }
    printf("\nloss: sent but not back within %d ms of the end; gaps: "
           "sequence jumps seen by the phones;\nq_drops: UDP receive-queue "
           "drops on the machine (RcvbufErrors); p99/max: one-way delay "
           "phone to phone;\nus/pkt: relay thread CPU (kernel included) "
           "per relayed packet\n", DRAIN_MS);
    if (any_late)
        printf("*: the generator could not send the nominal 100 packets/s "
               "per call (CPU starved); such steps do not count\n");
    if (mode == MODE_RECORD)
        printf("rec_frames: 20 ms frames the recorders wrote; rec_late: "
               "packets that came after their frame was written (lost in the "
               "file);\nrec_drop: frames the disk could not take; bad_file: "
               "a file whose length is not whole frames, or a failed one\n");
    if (mode == MODE_CONF)
        printf("members: 2 x calls; late_%%: room ticks mixed more than 5 ms "
               "after their time; us/member: worker CPU per member per tick "
               "(receive, mix, encode, send)\n");
    printf("largest step with loss under 0.1%%%s: %d calls (target %s)\n",
           mode == MODE_RECORD ? " and no frame lost in a file"
           : mode == MODE_CONF ? " and under 0.1% of ticks late" : "", best,
           mode == MODE_CONF ? "1500 members, i.e. 750 calls"
           : mode == MODE_RECORD ? "1000 recordings" : mode == MODE_INBAND
               ? "2000 legs with in-band detection, i.e. 1000 calls" : "2000");

    int closed = 0;
    sb_media_engine_close(engine, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    return uv_loop_close(&loop) == 0 && closed ? 0 : 1;
}
