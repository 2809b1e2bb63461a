/*
 * recording_media.c: the audio of a recording over HTTP: GET and HEAD of
 * Recordings/{RE}.wav (the file the call module wrote, audio/x-wav) and
 * Recordings/{RE}.mp3 (audio/mpeg, converted from the WAV with
 * libsndfile's LAME encoder on first request and kept next to it as
 * "<sid>.mp3"; made again if the WAV is newer).
 *
 * Nothing touches the disk on the loop thread: opening, reading and
 * converting run on libuv's thread pool. Concurrent requests for the MP3
 * of one recording share one conversion (single flight); conversions of
 * different recordings run at most MP3_MAX_RUNNING at once (503 beyond).
 *
 * Range requests: one range (bytes=a-b, a-, -n) gets 206 with
 * Content-Range, an unsatisfiable one 416 with "bytes * / size"; several
 * ranges, a malformed header or an If-Range (we send no validators) get
 * the whole file, as RFC 9110 allows. Every answer says Accept-Ranges.
 *
 * The HTTP server takes whole bodies (no streaming), so a body is read
 * into memory on the thread pool and capped: at most MEDIA_MAX_BODY bytes
 * per answer (a range asking for more is shortened, and Content-Range
 * says so; a whole file above it is 413: fetch it in ranges), and at most
 * MEDIA_BUDGET bytes held by all answers being prepared (503 beyond).
 *
 * libsndfile belongs to core/media; it is used here until media/ offers
 * a conversion call (FIXME: move encode_mp3 there).
 */
#include "api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <sndfile.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define MEDIA_MAX_BODY ((int64_t)64 * 1024 * 1024)
#define MEDIA_BUDGET ((int64_t)256 * 1024 * 1024)
#define MP3_MAX_RUNNING 2
#define MP3_COMPRESSION 0.5     /* libsndfile's scale: 32 kb/s at 8 kHz mono */
#define MP3_FRAMES 4096         /* frames converted at a time */

/* Bytes of bodies read and not yet handed to the HTTP server, over every
 * api instance (thread-pool threads add, the loop releases). */
static _Atomic int64_t media_bytes;

/* ---- ranges ---------------------------------------------------------------- */

typedef enum { R_NONE = 0, R_FROM_TO, R_FROM, R_SUFFIX } range_kind_t;

typedef struct {
    range_kind_t kind;
    int64_t a, b;               /* FROM_TO: a-b; FROM: a-; SUFFIX: -a */
} range_t;

/* Parses up to 18 digits at *p. Returns 0 or -1. */
static int parse_pos(const char **p, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    int n = 0;
    while (*s >= '0' && *s <= '9') {
        if (++n > 18)
            return -1;
        v = v * 10 + (*s++ - '0');
    }
    if (n == 0)
        return -1;
    *p = s;
    *out = v;
    return 0;
}

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Range header → one range, or R_NONE for no header, another unit,
 * several ranges or bad syntax (all served as the whole file). */
static void parse_range(const char *h, range_t *r)
{
    memset(r, 0, sizeof *r);
    if (h == NULL)
        return;
    const char *p = skip_ws(h);
    if (strncasecmp(p, "bytes", 5) != 0)
        return;
    p = skip_ws(p + 5);
    if (*p++ != '=' || strchr(p, ',') != NULL)
        return;
    p = skip_ws(p);
    range_t t = {0};
    if (*p == '-') {
        p++;
        if (parse_pos(&p, &t.a) != 0)
            return;
        t.kind = R_SUFFIX;
    } else {
        if (parse_pos(&p, &t.a) != 0 || *p++ != '-')
            return;
        if (*skip_ws(p) == '\0') {
            t.kind = R_FROM;
        } else {
            if (parse_pos(&p, &t.b) != 0 || t.b < t.a)
                return;
            t.kind = R_FROM_TO;
        }
    }
    if (*skip_ws(p) != '\0')
        return;
    *r = t;
}

/* The bytes to send of a file of size bytes: 200 (all), 206 or 416. */
static int resolve_range(const range_t *r, int64_t size, int64_t *first,
                         int64_t *last)
{
    switch (r->kind) {
    case R_FROM_TO:
    case R_FROM:
        if (r->a >= size)
            return 416;
        *first = r->a;
        *last = r->kind == R_FROM || r->b >= size ? size - 1 : r->b;
        return 206;
    case R_SUFFIX:
        if (r->a == 0 || size == 0)
            return 416;
        *first = r->a >= size ? 0 : size - r->a;
        *last = size - 1;
        return 206;
    default:
        *first = 0;
        *last = size - 1;
        return 200;
    }
}

/* ---- serving a file ---------------------------------------------------------- */

/* One media answer being prepared; ctx->hold. */
typedef struct {
    char *path;
    const char *ctype;
    int head;
    range_t range;
    /* results of the read */
    int status;                 /* 200, 206, 404, 413, 416, 500, 503 */
    int err;                    /* errno (negative) behind a 404/500 */
    int64_t size, first, last;
    char *data;
    size_t len;
    int64_t reserved;           /* bytes counted in media_bytes */
} media_t;

static void media_free(void *p)
{
    media_t *m = p;
    if (m == NULL)
        return;
    if (m->reserved)
        atomic_fetch_sub(&media_bytes, m->reserved);
    free(m->data);
    free(m->path);
    free(m);
}

/* Thread pool: open, size, range, read. */
static void read_work(sb__api_ctx_t *ctx)
{
    media_t *m = ctx->hold;
    int fd = open(m->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        m->err = -errno;
        m->status = errno == ENOENT || errno == ELOOP || errno == ENOTDIR ? 404 : 500;
        return;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        m->err = -errno;
        m->status = 500;
        close(fd);
        return;
    }
    if (!S_ISREG(st.st_mode)) {
        m->status = 404;
        close(fd);
        return;
    }
    m->size = st.st_size;
    m->status = resolve_range(&m->range, m->size, &m->first, &m->last);
    if (m->status == 416) {
        close(fd);
        return;
    }
    int64_t len = m->last - m->first + 1;
    if (len > MEDIA_MAX_BODY) {
        if (m->status == 200) {
            m->status = 413;
            close(fd);
            return;
        }
        m->last = m->first + MEDIA_MAX_BODY - 1;
        len = MEDIA_MAX_BODY;
    }
    m->len = (size_t)len;
    if (m->head || len == 0) {
        close(fd);
        return;
    }
    if (atomic_fetch_add(&media_bytes, len) + len > MEDIA_BUDGET) {
        atomic_fetch_sub(&media_bytes, len);
        m->status = 503;
        close(fd);
        return;
    }
    m->reserved = len;
    m->data = sb_xmalloc((size_t)len);
    size_t done = 0;
    while (done < m->len) {
        ssize_t n = pread(fd, m->data + done, m->len - done, (off_t)(m->first + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* An error, or the file shrank under us. */
            m->err = n < 0 ? -errno : SB_EIO;
            m->status = 500;
            break;
        }
        done += (size_t)n;
    }
    close(fd);
}

static void read_done(sb__api_ctx_t *ctx)
{
    media_t *m = ctx->hold;
    char cr[96];
    sb_http_resp_header(ctx->req, "Accept-Ranges", "bytes");
    switch (m->status) {
    case 206:
        snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", (long long)m->first,
                 (long long)m->last, (long long)m->size);
        sb_http_resp_header(ctx->req, "Content-Range", cr);
        /* fall through */
    case 200:
        sb__api_send_raw(ctx, m->status, m->ctype, m->data, m->len);
        return;
    case 416:
        snprintf(cr, sizeof cr, "bytes */%lld", (long long)m->size);
        sb_http_resp_header(ctx->req, "Content-Range", cr);
        sb__api_error(ctx, 416, "Range not satisfiable (the file has %lld bytes)",
                      (long long)m->size);
        return;
    case 404:
        sb_warn("api: recording file %s is missing", m->path);
        sb__api_error(ctx, 404, "The requested resource was not found");
        return;
    case 413:
        sb__api_error(ctx, 413, "The file has %lld bytes; fetch it in parts of at "
                      "most %lld bytes with Range requests", (long long)m->size,
                      (long long)MEDIA_MAX_BODY);
        return;
    case 503:
        sb_http_resp_header(ctx->req, "Retry-After", "1");
        sb__api_error(ctx, 503, "Too many recordings being sent; retry later");
        return;
    default:
        sb_error("api: cannot read %s: %s", m->path, sb_strerror(m->err));
        sb__api_error(ctx, 500, "Cannot read the recording");
    }
}

/* ---- MP3 conversion ------------------------------------------------------------ */

/* One conversion; the requests waiting for it. Owned by the api's list
 * while it runs; counted in api->pending so the api outlives it. */
typedef struct sb__api_mp3_job_s {
    uv_work_t work;
    sb_api_t *api;
    struct sb__api_mp3_job_s *next;
    char sid[SB_SID_SIZE];
    char *wav, *mp3, *tmp;
    int deleted;                /* loop: the recording was deleted meanwhile */
    int cleanup;                /* second round: remove what it made */
    int result;                 /* thread: 0, SB_ENOENT, SB_EFORMAT, SB_EIO */
    int made;                   /* thread: converted now, not found ready */
    char why[160];              /* thread: what failed */
    sb__api_ctx_t **waiters;
    int nwaiters, cap;
} mp3_job_t;

static int mtime_newer_or_same(const struct stat *a, const struct stat *b)
{
    if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
        return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
    return a->st_mtim.tv_nsec >= b->st_mtim.tv_nsec;
}

static int mp3_rate_ok(int rate)
{
    static const int rates[] = {8000, 11025, 12000, 16000, 22050, 24000,
                                32000, 44100, 48000};
    for (size_t i = 0; i < SB_COUNTOF(rates); i++)
        if (rates[i] == rate)
            return 1;
    return 0;
}

/* Thread pool: wav → tmp (MP3) → rename to mp3. Returns 0 or a code with
 * job->why filled. */
static int encode_mp3(mp3_job_t *job, int wfd)
{
    SF_INFO in;
    memset(&in, 0, sizeof in);
    SNDFILE *src = sf_open_fd(wfd, SFM_READ, &in, 0);
    if (src == NULL) {
        snprintf(job->why, sizeof job->why, "%s: %s", job->wav, sf_strerror(NULL));
        return SB_EFORMAT;
    }
    if (in.channels < 1 || in.channels > 2 || !mp3_rate_ok(in.samplerate)) {
        snprintf(job->why, sizeof job->why, "%s: %d channels at %d Hz cannot be MP3",
                 job->wav, in.channels, in.samplerate);
        sf_close(src);
        return SB_EFORMAT;
    }
    int rc = 0;
    int ofd = open(job->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (ofd < 0) {
        snprintf(job->why, sizeof job->why, "%s: %s", job->tmp, strerror(errno));
        sf_close(src);
        return SB_EIO;
    }
    SF_INFO out;
    memset(&out, 0, sizeof out);
    out.samplerate = in.samplerate;
    out.channels = in.channels;
    out.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    SNDFILE *dst = sf_open_fd(ofd, SFM_WRITE, &out, 0);
    if (dst == NULL) {
        snprintf(job->why, sizeof job->why, "MP3 encoder: %s", sf_strerror(NULL));
        rc = SB_EIO;
        goto out;
    }
    int mode = SF_BITRATE_MODE_CONSTANT;
    double level = MP3_COMPRESSION;
    sf_command(dst, SFC_SET_BITRATE_MODE, &mode, sizeof mode);
    sf_command(dst, SFC_SET_COMPRESSION_LEVEL, &level, sizeof level);
    /* Floats: libsndfile 1.2.0 loses audio when it encodes stereo shorts
     * (about 20 ms of every 72 ms frame at 8 kHz); floats are right. */
    float *buf = sb_xmalloc(sizeof *buf * MP3_FRAMES * (size_t)in.channels);
    for (;;) {
        sf_count_t n = sf_readf_float(src, buf, MP3_FRAMES);
        if (n <= 0)
            break;
        if (sf_writef_float(dst, buf, n) != n) {
            snprintf(job->why, sizeof job->why, "%s: %s", job->tmp, sf_strerror(dst));
            rc = SB_EIO;
            break;
        }
    }
    free(buf);
    if (sf_close(dst) != 0 && rc == 0) {
        snprintf(job->why, sizeof job->why, "%s: cannot finish the MP3", job->tmp);
        rc = SB_EIO;
    }
out:
    sf_close(src);
    if (close(ofd) != 0 && rc == 0) {
        snprintf(job->why, sizeof job->why, "%s: %s", job->tmp, strerror(errno));
        rc = SB_EIO;
    }
    if (rc == 0 && rename(job->tmp, job->mp3) != 0) {
        snprintf(job->why, sizeof job->why, "%s: %s", job->mp3, strerror(errno));
        rc = SB_EIO;
    }
    if (rc != 0)
        unlink(job->tmp);
    return rc;
}

static void mp3_work(uv_work_t *w)
{
    mp3_job_t *job = w->data;
    if (job->cleanup) {
        unlink(job->mp3);
        unlink(job->tmp);
        return;
    }
    int wfd = open(job->wav, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat ws, ms;
    int e = 0;
    if (wfd < 0 || fstat(wfd, &ws) != 0)
        e = errno;
    else if (!S_ISREG(ws.st_mode))
        e = ENOENT;
    if (e != 0) {
        job->result = e == ENOENT || e == ELOOP || e == ENOTDIR ? SB_ENOENT : SB_EIO;
        snprintf(job->why, sizeof job->why, "%s: %s", job->wav, strerror(e));
        if (wfd >= 0)
            close(wfd);
        return;
    }
    if (stat(job->mp3, &ms) == 0 && S_ISREG(ms.st_mode) && mtime_newer_or_same(&ms, &ws)) {
        close(wfd);
        return;                 /* made before */
    }
    job->made = 1;
    job->result = encode_mp3(job, wfd);
    close(wfd);
}

static void mp3_job_free(mp3_job_t *job)
{
    free(job->waiters);
    free(job->wav);
    free(job->mp3);
    free(job->tmp);
    free(job);
}

static void mp3_after(uv_work_t *w, int status);

/* Queues job's work (or runs it here without a loop). Returns 0 or the
 * libuv error. */
static int mp3_queue(mp3_job_t *job)
{
    sb_api_t *api = job->api;
    job->work.data = job;
    api->pending++;
    if (api->loop == NULL) {
        mp3_work(&job->work);
        mp3_after(&job->work, 0);
        return 0;
    }
    int rc = uv_queue_work(api->loop, &job->work, mp3_work, mp3_after);
    if (rc != 0)
        api->pending--;
    return rc;
}

static void mp3_after(uv_work_t *w, int status)
{
    mp3_job_t *job = w->data;
    sb_api_t *api = job->api;
    (void)status;
    api->pending--;
    if (job->cleanup) {
        mp3_job_free(job);
        sb__api_release(api);
        return;
    }
    for (mp3_job_t **p = &api->mp3_jobs; *p; p = &(*p)->next) {
        if (*p == job) {
            *p = job->next;
            break;
        }
    }
    api->mp3_running--;
    if (job->result == SB_ENOENT)
        sb_warn("api: recording %s: no WAV file to convert (%s)", job->sid, job->why);
    else if (job->result != 0)
        sb_error("api: recording %s: cannot make the MP3: %s", job->sid, job->why);
    else if (job->made && !job->deleted)
        sb_info("api: recording %s converted to MP3", job->sid);
    for (int i = 0; i < job->nwaiters; i++) {
        sb__api_ctx_t *ctx = job->waiters[i];
        if (api->freeing)
            sb__api_error(ctx, 503, "The server is shutting down");
        else if (job->deleted || job->result == SB_ENOENT)
            sb__api_error(ctx, 404, "The requested resource was not found");
        else if (job->result != 0)
            sb__api_error(ctx, 500, "Cannot convert the recording to MP3");
        else
            sb__api_offload(ctx, read_work, read_done);
    }
    job->nwaiters = 0;
    if (job->deleted && job->made && !api->freeing) {
        /* Deleted while converting: the rename may have come after the
         * DELETE removed the files. */
        job->cleanup = 1;
        if (mp3_queue(job) == 0) {
            sb__api_release(api);
            return;
        }
    }
    mp3_job_free(job);
    sb__api_release(api);
}

void sb__api_recording_media_forget(sb_api_t *api, const char *sid)
{
    for (mp3_job_t *job = api->mp3_jobs; job; job = job->next)
        if (strcmp(job->sid, sid) == 0)
            job->deleted = 1;
}

/* Joins the conversion of sid (starting one when none runs). Returns 0,
 * or 1 after answering. */
static int mp3_wait(sb__api_ctx_t *ctx, const char *sid, const char *file)
{
    sb_api_t *api = ctx->api;
    mp3_job_t *job = api->mp3_jobs;
    while (job && strcmp(job->sid, sid) != 0)
        job = job->next;
    int start = job == NULL;
    if (start) {
        if (api->mp3_running >= MP3_MAX_RUNNING) {
            sb_http_resp_header(ctx->req, "Retry-After", "1");
            sb__api_error(ctx, 503, "Too many recordings being converted; retry later");
            return 1;
        }
        job = SB_NEW(mp3_job_t);
        job->api = api;
        snprintf(job->sid, sizeof job->sid, "%s", sid);
        job->wav = sb_xasprintf("%s/%s", api->recordings_dir, file);
        job->mp3 = sb_xasprintf("%s/%s.mp3", api->recordings_dir, sid);
        job->tmp = sb_xasprintf("%s/%s.mp3.tmp", api->recordings_dir, sid);
    }
    if (job->nwaiters == job->cap) {
        job->cap = job->cap ? job->cap * 2 : 4;
        job->waiters = sb_xrealloc(job->waiters, (size_t)job->cap * sizeof *job->waiters);
    }
    job->waiters[job->nwaiters++] = ctx;
    if (!start)
        return 0;
    job->next = api->mp3_jobs;
    api->mp3_jobs = job;
    api->mp3_running++;
    if (mp3_queue(job) != 0) {
        api->mp3_jobs = job->next;
        api->mp3_running--;
        mp3_job_free(job);
        sb__api_error(ctx, 503, "Cannot schedule work");
        return 1;
    }
    return 0;
}

void sb__api_recording_media(sb__api_ctx_t *ctx, const char *sid, const char *kind,
                             const char *file)
{
    sb_api_t *api = ctx->api;
    media_t *m = SB_NEW(media_t);
    m->head = strcmp(sb_http_req_method(ctx->req), "HEAD") == 0;
    if (sb_http_req_header(ctx->req, "If-Range") == NULL)
        parse_range(sb_http_req_header(ctx->req, "Range"), &m->range);
    ctx->hold = m;
    ctx->hold_free = media_free;
    if (strcmp(kind, "wav") == 0) {
        m->path = sb_xasprintf("%s/%s", api->recordings_dir, file);
        m->ctype = "audio/x-wav";
        sb__api_offload(ctx, read_work, read_done);
        return;
    }
    m->path = sb_xasprintf("%s/%s.mp3", api->recordings_dir, sid);
    m->ctype = "audio/mpeg";
    mp3_wait(ctx, sid, file);
}
