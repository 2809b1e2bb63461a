/*
 * bench_asr.c: speech recognition (core/media/asr.c) at real time. For
 * each N, rounds of N sessions start together on one recognizer (-c
 * decoders, default 2, the server's default); one feeder thread paces
 * 20 ms frames for all N sessions on absolute deadlines, as a media
 * worker feeds its calls: a lead of faint noise (200..700 ms, so the
 * utterances do not end in lockstep), one utterance of our own TTS passed
 * through G.711 mu-law as a phone would send it, then noise until the
 * round ends. The utterances are the 12 hints of an IVR menu, said by
 * four espeak-ng voices (en-US and en-GB, man and woman) in turn.
 *
 * Per N: results right (the hint that was said), the decoder threads' CPU
 * per second of utterance decoded (real-time factor per decoder), latency
 * from the end of speech (the last frame of the utterance fed) to
 * on_result, p50 and p99, which includes the end_silence_ms the detector
 * must hear first (-e, default 700) and any wait for a decoder, and the
 * process's CPU (% of one core; TTS rendering excluded). Before the
 * table, the resident memory of the dictionary and of each decoder.
 * After it, the confidence of right matches, wrong ones, and speech
 * outside the hints. Timings are printed, never judged.
 *
 * Usage: bench_asr [-n 1,2,4,8] [-c decoders] [-u utterances per N]
 *                  [-e end_silence_ms] [-v]   (-v: one line per result)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/resource.h>

#include "../bench_threads.h"
#include "asr.h"
#include "media.h"
#include "media_int.h"
#include "util.h"

#define MAX_N 64
#define FRAME 160
#define HINTS "sales, support, billing, technical support, operator, yes, " \
              "no, cancel, main menu, account balance, agent, four two seven"

static const char *const phrases[] = {
    "sales", "support", "billing", "technical support", "operator", "yes",
    "no", "cancel", "main menu", "account balance", "agent",
    "four two seven",
};
/* Outside the hints: what a caller might say instead. */
static const char *const others[] = {
    "hello there", "I want to talk to sales", "goodbye", "pizza",
    "my account", "what",
};
static const char *const voices[][2] = {
    {"woman", "en-US"}, {"man", "en-US"}, {"woman", "en-GB"},
    {"man", "en-GB"},
};
#define NPHRASES (int)SB_COUNTOF(phrases)
#define NOTHERS (int)SB_COUNTOF(others)
#define NVOICES (int)SB_COUNTOF(voices)

/* ---- speech ----------------------------------------------------------------- */

typedef struct clip_s {
    const char *text;
    int16_t *pcm;               /* through mu-law, as a phone sends it */
    size_t n;
} clip_t;

static clip_t clips[NVOICES][NPHRASES];
static clip_t other_clips[NOTHERS];

static void on_synth(int status, sb_media_audio_t *audio, int flags,
                     void *arg)
{
    (void)flags;
    clip_t *c = arg;
    if (status != 0) {
        fprintf(stderr, "tts failed for \"%s\": %s\n", c->text,
                sb_strerror(status));
        exit(1);
    }
    c->n = audio->nsamples;
    c->pcm = malloc(c->n * sizeof *c->pcm);
    for (size_t i = 0; i < c->n; i++)
        c->pcm[i] = sb__media_ulaw_to_linear(audio->ulaw[i]);
    sb_media_audio_unref(audio);
}

static void on_tts_closed(void *arg)
{
    (void)arg;
}

static void render(uv_loop_t *loop)
{
    sb_media_tts_t *tts;
    if (sb_media_tts_new(loop, NULL, &tts) != 0) {
        fprintf(stderr, "no text-to-speech\n");
        exit(1);
    }
    for (int v = 0; v < NVOICES; v++)
        for (int p = 0; p < NPHRASES; p++) {
            clips[v][p].text = phrases[p];
            sb_media_tts_synth(tts, phrases[p], voices[v][0], voices[v][1],
                               on_synth, &clips[v][p], NULL);
        }
    for (int p = 0; p < NOTHERS; p++) {
        other_clips[p].text = others[p];
        sb_media_tts_synth(tts, others[p], "woman", "en-US", on_synth,
                           &other_clips[p], NULL);
    }
    uv_run(loop, UV_RUN_DEFAULT);
    sb_media_tts_close(tts, on_tts_closed, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
}

/* ---- one round: N sessions fed at real time ----------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

typedef struct sess_s {
    sb_media_asr_sess_t *s;
    const clip_t *clip;
    int other;                  /* outside the hints */
    size_t lead;                /* samples of noise before the clip */
    uint64_t t_speech_end;      /* feeder: the clip's last frame fed */
    uint64_t t_result;
    int calls;
    int status;
    char text[96];
    double confidence;
} sess_t;

typedef struct round_s {
    sess_t *ss;
    int n;
    size_t frames;
} round_t;

static uint32_t rng = 2463534242u;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void feeder_main(void *arg)
{
    round_t *r = arg;
    int16_t frame[FRAME];
    uint32_t x = 12345;
    uint64_t t0 = now_ns();
    for (size_t f = 0; f < r->frames; f++) {
        uint64_t due = t0 + (uint64_t)f * 20000000u;
        struct timespec ts = {(time_t)(due / 1000000000u),
                              (long)(due % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        for (int i = 0; i < r->n; i++) {
            sess_t *s = &r->ss[i];
            size_t at = f * FRAME;
            for (int k = 0; k < FRAME; k++) {
                x = x * 1103515245u + 12345u;
                int v = (int)((x >> 16) % 9) - 4;
                size_t p = at + (size_t)k;
                if (p >= s->lead && p - s->lead < s->clip->n)
                    v += s->clip->pcm[p - s->lead];
                frame[k] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768
                                                                     : v);
            }
            sb_media_asr_feed(s->s, frame, FRAME);
            if (s->t_speech_end == 0 && at + FRAME >= s->lead + s->clip->n)
                s->t_speech_end = now_ns();
        }
    }
}

static void on_result(const sb_media_asr_result_t *res, void *arg)
{
    sess_t *s = arg;
    s->t_result = now_ns();
    s->calls++;
    s->status = res->status;
    snprintf(s->text, sizeof s->text, "%s", res->text);
    s->confidence = res->confidence;
}

static void run_round(uv_loop_t *loop, sb_media_asr_t *asr, sess_t *ss, int n,
                      unsigned end_ms)
{
    size_t longest = 0;
    for (int i = 0; i < n; i++) {
        sess_t *s = &ss[i];
        sb_media_asr_events_t ev = {NULL, NULL, on_result, s};
        int rc = sb_media_asr_start(asr, HINTS, "en-US", end_ms, &ev, &s->s);
        if (rc != 0) {
            fprintf(stderr, "start: %s\n", sb_strerror(rc));
            exit(1);
        }
        s->lead = (200 + rnd() % 500) * 8;
        if (s->lead + s->clip->n > longest)
            longest = s->lead + s->clip->n;
    }
    round_t r = {ss, n, (longest + (end_ms + 1500) * 8) / FRAME};
    uv_thread_t th;
    uv_thread_create(&th, feeder_main, &r);
    uv_run(loop, UV_RUN_DEFAULT);   /* until every result */
    uv_thread_join(&th);
    for (int i = 0; i < n; i++) {
        if (ss[i].calls != 1)
            fprintf(stderr, "session %d: %d results\n", i, ss[i].calls);
        sb_media_asr_finish(ss[i].s);
        sb_media_asr_unref(ss[i].s);
    }
    uv_run(loop, UV_RUN_DEFAULT);
}

/* ---- measures ---------------------------------------------------------------- */

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = 0;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            sscanf(line + 6, "%ld", &v);
    if (f != NULL)
        fclose(f);
    return v;
}

static double process_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6
           + (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of the decoder threads ("sb-asr-N"). */
static double decoders_cpu_s(int max)
{
    double sum = 0;
    for (int i = 0; i < max; i++) {
        char name[24];
        snprintf(name, sizeof name, "sb-asr-%d", i);
        pid_t tid = find_thread(name);
        if (tid > 0)
            sum += tid_cpu_s(tid);
    }
    return sum;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void on_closed(void *arg)
{
    (void)arg;
}

static sb_media_asr_t *asr_new(uv_loop_t *loop, int decoders)
{
    sb_media_asr_opts_t o = {NULL, NULL, decoders, 0};
    sb_media_asr_t *asr;
    int rc = sb_media_asr_new(loop, &o, &asr);
    if (rc != 0) {
        fprintf(stderr, "recognizer: %s\n", sb_strerror(rc));
        exit(1);
    }
    return asr;
}

static void asr_close(uv_loop_t *loop, sb_media_asr_t *asr)
{
    sb_media_asr_close(asr, on_closed, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
}

/* Memory: the dictionary with one decoder, then 8 decoders, then the same
 * after each has decoded once (words and grammar added). */
static void measure_memory(uv_loop_t *loop, unsigned end_ms)
{
    enum { D = 8 };
    long r0 = rss_kb();
    sb_media_asr_t *asr = asr_new(loop, D);
    long r1 = rss_kb();
    sess_t ss[D];
    memset(ss, 0, sizeof ss);
    for (int i = 0; i < D; i++)
        ss[i].clip = &clips[0][i % NPHRASES];
    run_round(loop, asr, ss, D, end_ms);
    sb_media_asr_stats_t st;
    sb_media_asr_stats(asr, &st);
    long r2 = rss_kb();
    printf("memory: dictionary + first decoder %.1f MB; %u decoders after "
           "decoding: %.1f MB, %.1f MB per further decoder\n",
           (r1 - r0) / 1024.0, st.decoders, (r2 - r0) / 1024.0,
           st.decoders > 1 ? (r2 - r1) / 1024.0 / (st.decoders - 1) : 0.0);
    asr_close(loop, asr);
}

int main(int argc, char **argv)
{
    int ns[16] = {1, 2, 4, 8}, nn = 4, decoders = 2, per_n = 16, verbose = 0;
    unsigned end_ms = 700;
    int opt;
    while ((opt = getopt(argc, argv, "n:c:u:e:v")) != -1) {
        switch (opt) {
        case 'n': {
            nn = 0;
            for (char *t = strtok(optarg, ","); t != NULL && nn < 16;
                 t = strtok(NULL, ","))
                ns[nn++] = atoi(t);
            break;
        }
        case 'c': decoders = atoi(optarg); break;
        case 'u': per_n = atoi(optarg); break;
        case 'e': end_ms = (unsigned)atoi(optarg); break;
        case 'v': verbose = 1; break;
        default:
            fprintf(stderr, "usage: %s [-n 1,2,4,8] [-c decoders] "
                    "[-u utterances] [-e end_silence_ms] [-v]\n", argv[0]);
            return 2;
        }
    }
    sb_log_set_level(SB_LOG_WARN);
    uv_loop_t loop;
    uv_loop_init(&loop);
    render(&loop);
    printf("bench_asr: pocketsphinx 5prealpha, en-us model, 8 kHz mu-law "
           "speech upsampled to 16 kHz; %ld CPUs\n",
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("hints: %s\nend_silence_ms %u, %d decoders (max_concurrent)\n\n",
           HINTS, end_ms, decoders);
    measure_memory(&loop, end_ms);
    printf("\n%3s %4s %7s %10s %9s %9s %9s %9s %6s %6s\n", "N", "dec",
           "right", "RTF/dec", "decode", "lat p50", "lat p99", "-silence",
           "CPU%", "dec%");
    double conf_right = 0, conf_wrong = 0;
    int n_right = 0, n_wrong = 0, clip_i = 0;
    for (int k = 0; k < nn; k++) {
        int n = ns[k] < 1 ? 1 : ns[k] > MAX_N ? MAX_N : ns[k];
        int rounds = (per_n + n - 1) / n;
        sb_media_asr_t *asr = asr_new(&loop, decoders);
        uint64_t *lat = calloc((size_t)(rounds * n), sizeof *lat);
        int nlat = 0, right = 0, total = 0;
        double cpu0 = process_cpu_s();
        uint64_t w0 = now_ns();
        for (int r = 0; r < rounds; r++) {
            sess_t ss[MAX_N];
            memset(ss, 0, sizeof ss);
            for (int i = 0; i < n; i++, clip_i++)
                ss[i].clip = &clips[clip_i % NVOICES][(clip_i / NVOICES)
                                                      % NPHRASES];
            run_round(&loop, asr, ss, n, end_ms);
            for (int i = 0; i < n; i++) {
                int ok = ss[i].status == 0
                         && strcmp(ss[i].text, ss[i].clip->text) == 0;
                right += ok;
                total++;
                if (ss[i].text[0] != '\0') {
                    if (ok) {
                        conf_right += ss[i].confidence;
                        n_right++;
                    } else {
                        conf_wrong += ss[i].confidence;
                        n_wrong++;
                    }
                }
                if (ss[i].t_result > ss[i].t_speech_end
                    && ss[i].t_speech_end > 0)
                    lat[nlat++] = ss[i].t_result - ss[i].t_speech_end;
                if (verbose)
                    printf("    %-18s -> %-18s %.2f %5.0f ms\n",
                           ss[i].clip->text, ss[i].text, ss[i].confidence,
                           (double)(ss[i].t_result - ss[i].t_speech_end)
                               / 1e6);
            }
        }
        double wall = (double)(now_ns() - w0) / 1e9;
        double cpu = process_cpu_s() - cpu0;
        double dcpu = decoders_cpu_s(decoders);
        sb_media_asr_stats_t st;
        sb_media_asr_stats(asr, &st);
        qsort(lat, (size_t)nlat, sizeof *lat, cmp_u64);
        double p50 = nlat ? lat[nlat / 2] / 1e6 : 0;
        double p99 = nlat ? lat[(nlat * 99) / 100 < nlat ? (nlat * 99) / 100
                                                         : nlat - 1] / 1e6
                          : 0;
        double rtf = st.decoded_ms ? dcpu / (st.decoded_ms / 1000.0) : 0;
        double dec_ms = st.results ? (double)st.decode_ms / st.results : 0;
        printf("%3d %4u %3d/%-3d %10.4f %7.0fms %7.0fms %7.0fms %7.0fms %5.1f "
               "%5.1f\n", n, st.decoders, right, total, rtf, dec_ms, p50, p99,
               p50 - end_ms, 100.0 * cpu / wall, 100.0 * dcpu / wall);
        fflush(stdout);
        free(lat);
        asr_close(&loop, asr);
    }

    /* Speech outside the hints: what the grammar forces it into. */
    sb_media_asr_t *asr = asr_new(&loop, decoders);
    sess_t ss[NOTHERS];
    memset(ss, 0, sizeof ss);
    for (int i = 0; i < NOTHERS; i++)
        ss[i].clip = &other_clips[i];
    run_round(&loop, asr, ss, NOTHERS, end_ms);
    double conf_other = 0;
    int n_other = 0, matched_other = 0;
    for (int i = 0; i < NOTHERS; i++) {
        if (ss[i].text[0] != '\0') {
            matched_other++;
            conf_other += ss[i].confidence;
            n_other++;
        }
        if (verbose)
            printf("    %-24s -> \"%s\" %.2f\n", ss[i].clip->text, ss[i].text,
                   ss[i].confidence);
    }
    asr_close(&loop, asr);
    printf("\nconfidence: right matches %.2f (n=%d), wrong matches %.2f "
           "(n=%d), outside the hints %.2f (%d of %d matched a hint)\n",
           n_right ? conf_right / n_right : 0, n_right,
           n_wrong ? conf_wrong / n_wrong : 0, n_wrong,
           n_other ? conf_other / n_other : 0, matched_other, NOTHERS);
    printf("\nRTF/dec: decoder threads' CPU per second of utterance decoded."
           " decode: mean wall\ntime of one decode. lat: the utterance's "
           "last sample fed to on_result;\n-silence: p50 minus "
           "end_silence_ms (below 0 when a clip ends quietly: the\n"
           "detector's end of speech comes before its last sample). CPU%%: "
           "the process\n(feeder + loop + decoders), dec%%: the decoders, in "
           "%% of one core.\n");
    uv_loop_close(&loop);
    return 0;
}
