/*
 * cache.c: the audio cache behind <Play>. It maps a URL to decoded audio
 * (sb_media_audio_t) under RFC 9111-lite rules: s-maxage / max-age /
 * Expires give a lifetime, no-cache stores but revalidates on every use,
 * no-store keeps nothing, and a stale entry with an ETag or Last-Modified
 * is revalidated with a conditional GET (304 keeps the decoded audio).
 * One download and one decode (a "flight") serve every concurrent request
 * for a URL. Decoded audio is bounded by an LRU on mem_bytes; with a dir,
 * the downloaded bytes are also kept on disk next to a small metadata file,
 * bounded by an LRU on disk_bytes and found again after a restart.
 * file:// URLs are read only from under media_root, checked on realpath.
 *
 * Everything here runs on the cache's loop, except decoding and file I/O,
 * which run in libuv's thread pool. The network is an injected
 * sb_media_fetcher_t: this file never sees HTTP beyond the fields of
 * sb_media_fetch_result_t. Left out: Vary, Range, progressive playback
 * of a download still under way, redirects and credentials (the fetcher's).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "media.h"
#include "util.h"

#define DEF_MEM_BYTES   ((size_t)256 << 20)
#define DEF_DISK_BYTES  ((size_t)1 << 30)
#define DEF_FILE_BYTES  ((size_t)32 << 20)
#define DEF_SECONDS     3600u
#define MAX_URL         8192
#define MAX_HDR         1024          /* longer header values are ignored */
#define MAX_META_FILE   (16 * 1024)
#define MAX_LIFETIME_S  (10LL * 365 * 86400)
#define META_MAGIC      "sb-media-cache 1"

/* ---- small intrusive lists ----------------------------------------------- */

typedef struct link_s {
    struct link_s *prev, *next;
} link_t;

#define CONTAINER(p, type, field) ((type *)((char *)(p)-offsetof(type, field)))

static void list_init(link_t *h) { h->prev = h->next = h; }
static int list_empty(const link_t *h) { return h->next == h; }

static void list_insert_after(link_t *at, link_t *n)
{
    n->prev = at;
    n->next = at->next;
    at->next->prev = n;
    at->next = n;
}

static void list_push_front(link_t *h, link_t *n) { list_insert_after(h, n); }
static void list_push_back(link_t *h, link_t *n)
{
    list_insert_after(h->prev, n);
}

static void list_remove(link_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

/* Moves every node of from to the end of to; from is left empty. */
static void list_splice(link_t *from, link_t *to)
{
    if (list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    list_init(from);
}

/* ---- types --------------------------------------------------------------- */

/* What the cache knows about one stored response besides its audio. */
typedef struct meta_s {
    char *etag, *last_modified, *content_type, *cache_control; /* owned */
    int64_t fresh_until;        /* wall clock ms: fresh while now < it */
    int no_cache, must_revalidate;
    int store;                  /* computed policies only: keep it? */
} meta_t;

typedef struct flight_s flight_t;

/* One URL the cache knows: audio in memory, a copy on disk, a flight, or
 * several of these. Owner: the cache's table (or, once purged while a
 * flight or disk job still uses it, that flight or job, see settle()). */
typedef struct entry_s {
    char *key;                  /* the URL without fragment; for files
                                   "file:" + realpath */
    uint32_t hash;
    struct entry_s *hnext;      /* bucket chain */
    int in_table;
    int is_file;
    char name[65];              /* sha256 hex of key: disk file names */
    meta_t meta;
    sb_media_audio_t *audio;    /* the cache's reference, or NULL */
    link_t mem_link;            /* in mem_lru while audio */
    int on_disk;
    uint64_t body_size;         /* the disk copy's body file */
    uint64_t disk_size;         /* body and metadata files */
    link_t disk_link;           /* in disk_lru while on_disk */
    int disk_busy;              /* disk jobs under way on its files */
    int drop_disk;              /* unlink its files once idle */
    int64_t mtime_ns;           /* file:// identity */
    uint64_t fsize;
    flight_t *flight;           /* the download/decode under way */
} entry_t;

typedef enum { REQ_STARTUP, REQ_RESOLVING, REQ_WAITING, REQ_DONE } req_state_t;

typedef struct resolve_s resolve_t;

/* One sb_media_cache_get. Owner: the cache, until its callback returns. */
struct sb_media_cache_req_s {
    sb_media_cache_t *cache;
    sb_media_cache_done_cb cb;
    void *arg;
    req_state_t state;
    link_t link;                /* startup list, flight waiters or done */
    char *url;                  /* REQ_STARTUP: owned */
    flight_t *flight;           /* REQ_WAITING */
    resolve_t *resolve;         /* REQ_RESOLVING */
    int status;                 /* REQ_DONE */
    sb_media_audio_t *audio;    /* REQ_DONE, status 0: one reference */
    sb_media_cache_error_t err;
};

/* A download and/or a decode for one entry, shared by its waiters. Owner:
 * the cache (its flights list); freed when the fetch and the thread-pool
 * job it started have both come back. Fields read by the thread-pool job
 * are set before it is queued and not touched on the loop until it ends. */
struct flight_s {
    sb_media_cache_t *cache;
    entry_t *entry;             /* NULL once abandoned or closing */
    link_t link;                /* in cache->flights */
    link_t waiters;
    int nwaiters;
    int fetching;
    void *handle;               /* the fetcher's, while fetching */
    int conditional;
    int working;
    uv_work_t work;
    /* the job's input */
    char *read_path;            /* file to decode: disk copy or file:// */
    void *body;                 /* bytes to decode (owned) */
    size_t len;
    char *body_path, *meta_path, *meta_text;  /* disk copy to write */
    int write_body, write_meta;
    int from_disk;              /* decoding the disk copy */
    int is_file;
    int64_t mtime_ns;
    uint64_t fsize;
    meta_t meta;                /* what the entry gets with the audio */
    int http_status;
    /* the job's output */
    int status;
    sb_media_audio_t *audio;
    int wrote;
    char why[160];
};

/* realpath() and stat() of a file:// URL, in the thread pool. */
struct resolve_s {
    uv_work_t work;
    sb_media_cache_t *cache;
    sb_media_cache_req_t *req;  /* NULL once canceled */
    link_t link;                /* in cache->resolves */
    char *path;                 /* decoded from the URL */
    char *real;                 /* result */
    int status;
    char why[160];
    int64_t mtime_ns;
    uint64_t size;
};

enum { DJ_UNLINK, DJ_META };

/* Unlinking a disk copy or rewriting its metadata, in the thread pool. */
typedef struct disk_job_s {
    uv_work_t work;
    sb_media_cache_t *cache;
    entry_t *entry;             /* holds one disk_busy; NULL for strays */
    int op;
    char *body_path, *meta_path, *meta_text;
} disk_job_t;

/* One metadata file found by the start-up scan. */
typedef struct scan_rec_s {
    char *url;
    meta_t meta;
    uint64_t body_size;
    uint64_t size;              /* body + metadata */
    int64_t mtime;
} scan_rec_t;

typedef struct scan_s {
    uv_work_t work;
    sb_media_cache_t *cache;
    scan_rec_t *recs;
    size_t n, cap;
} scan_t;

struct sb_media_cache_s {
    uv_loop_t *loop;
    sb_media_cache_opts_t opts; /* defaults applied; strings below */
    char *dir;                  /* owned copy of opts.dir, or NULL */
    char *root;                 /* realpath of media_root, or NULL */
    char *root_given;           /* media_root as configured, or NULL */
    sb_media_fetcher_t fetcher;
    int have_fetcher;
    entry_t **buckets;
    size_t nbuckets, nentries;
    link_t mem_lru;             /* entries with audio, most recent first */
    link_t disk_lru;            /* entries on disk, most recent first */
    uint64_t mem_used, disk_used;
    link_t flights;
    link_t resolves;
    link_t startup;             /* http requests waiting for the scan */
    link_t done;                /* requests whose callback is due */
    uv_idle_t idle;             /* delivers them, never inside a call */
    int busy;                   /* fetches and thread-pool jobs out */
    scan_t *scan;               /* the start-up scan, while it runs */
    int purge_all_after_scan;
    char **purge_after_scan;    /* urls purged while scanning */
    size_t npurge_after_scan;
    int closing, close_started;
    sb_media_cache_closed_cb close_cb;
    void *close_arg;
    sb_media_cache_stats_t st;
};

static void settle(sb_media_cache_t *c, entry_t *e);
static void maybe_finish_close(sb_media_cache_t *c);
static void flight_fetch(flight_t *fl, int conditional);
static void flight_queue_work(flight_t *fl);

/* ---- helpers ------------------------------------------------------------- */

static void meta_free(meta_t *m)
{
    free(m->etag);
    free(m->last_modified);
    free(m->content_type);
    free(m->cache_control);
    memset(m, 0, sizeof(*m));
}

/* Moves src into dst (dst's strings are freed; src is left empty). */
static void meta_move(meta_t *dst, meta_t *src)
{
    meta_free(dst);
    *dst = *src;
    memset(src, 0, sizeof(*src));
}

/* A header value worth keeping: present, short, one line. Returns owned
 * copy or NULL. */
static char *hdr_dup(const char *s)
{
    if (!s || !*s || strlen(s) > MAX_HDR || strpbrk(s, "\r\n"))
        return NULL;
    return sb_xstrdup(s);
}

static void set_why(char *why, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_why(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, n, fmt, ap);
    va_end(ap);
}

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

/* ---- dates and Cache-Control --------------------------------------------- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static int month_index(const char *s)
{
    static const char *const names[] = {"jan", "feb", "mar", "apr", "may",
                                        "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"};
    for (int i = 0; i < 12; i++)
        if (strncasecmp(s, names[i], 3) == 0 && strlen(s) == 3)
            return i + 1;
    return 0;
}

/* Parses an HTTP date in any of RFC 9110's three forms ("Sun, 06 Nov 1994
 * 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37
 * 1994") into seconds since the epoch. Returns 0 or -1. */
static int parse_http_date(const char *s, int64_t *out)
{
    char mon[4] = "";
    int d = 0, y = 0, hh = 0, mm = 0, ss = 0;
    const char *comma = strchr(s, ',');
    if (comma) {
        if (sscanf(comma + 1, " %2d %3s %4d %2d:%2d:%2d", &d, mon, &y, &hh,
                   &mm, &ss) != 6 &&
            sscanf(comma + 1, " %2d-%3[A-Za-z]-%4d %2d:%2d:%2d", &d, mon, &y,
                   &hh, &mm, &ss) != 6)
            return -1;
        if (y < 100)
            y += y < 70 ? 2000 : 1900;
    } else if (sscanf(s, "%*3s %3s %2d %2d:%2d:%2d %4d", mon, &d, &hh, &mm,
                      &ss, &y) != 6) {
        return -1;
    }
    int m = month_index(mon);
    if (!m || d < 1 || d > 31 || y < 1900 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    *out = days_from_civil(y, (unsigned)m, (unsigned)d) * 86400 + hh * 3600 +
           mm * 60 + ss;
    return 0;
}

typedef struct cachectl_s {
    int no_store, no_cache, must_revalidate;
    int64_t max_age, s_maxage;  /* -1 when absent */
} cachectl_t;

static int64_t cc_seconds(const char *v, size_t n)
{
    int64_t x = 0;
    if (n == 0)
        return 0;               /* invalid: treated as stale (RFC 9111) */
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return 0;
        if (x < MAX_LIFETIME_S)
            x = x * 10 + (v[i] - '0');
    }
    return x > MAX_LIFETIME_S ? MAX_LIFETIME_S : x;
}

static void parse_cc(const char *s, cachectl_t *cc)
{
    memset(cc, 0, sizeof(*cc));
    cc->max_age = cc->s_maxage = -1;
    if (!s)
        return;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *name = p;
        while (*p && *p != '=' && *p != ',' && *p != ' ' && *p != '\t')
            p++;
        size_t nlen = (size_t)(p - name);
        while (*p == ' ' || *p == '\t')
            p++;
        const char *val = NULL;
        size_t vlen = 0;
        if (*p == '=') {
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '"') {
                val = ++p;
                while (*p && *p != '"')
                    p++;
                vlen = (size_t)(p - val);
                if (*p == '"')
                    p++;
            } else {
                val = p;
                while (*p && *p != ',' && *p != ' ' && *p != '\t')
                    p++;
                vlen = (size_t)(p - val);
            }
        }
        while (*p && *p != ',')
            p++;
#define IS(lit) (nlen == sizeof(lit) - 1 && strncasecmp(name, lit, nlen) == 0)
        if (IS("no-store"))
            cc->no_store = 1;
        else if (IS("no-cache"))
            cc->no_cache = 1;
        else if (IS("must-revalidate") || IS("proxy-revalidate"))
            cc->must_revalidate = 1;
        else if (IS("max-age"))
            cc->max_age = cc_seconds(val, vlen);
        else if (IS("s-maxage"))
            cc->s_maxage = cc_seconds(val, vlen);
#undef IS
    }
}

/* Decides whether and how long a response is kept (RFC 9111 §4.2, as a
 * shared cache: s-maxage wins over max-age, which wins over Expires minus
 * Date). No lifetime and validators: default_ttl_s; no lifetime and no
 * validators, or an immediately stale response without validators: not
 * kept, since it could only be downloaded again. Fills m's flags. */
static void policy(const sb_media_cache_t *c, const char *cache_control,
                   const char *expires, const char *date, int has_validators,
                   int64_t now_ms, meta_t *m)
{
    cachectl_t cc;
    parse_cc(cache_control, &cc);
    m->no_cache = cc.no_cache;
    m->must_revalidate = cc.must_revalidate;
    m->store = 0;
    m->fresh_until = 0;
    if (cc.no_store)
        return;
    int64_t life = -1;
    if (cc.s_maxage >= 0) {
        life = cc.s_maxage;
    } else if (cc.max_age >= 0) {
        life = cc.max_age;
    } else if (expires) {
        int64_t ex, base;
        if (parse_http_date(expires, &ex) != 0) {
            life = 0;               /* "0" and other junk: already expired */
        } else {
            if (!date || parse_http_date(date, &base) != 0)
                base = now_ms / 1000;
            life = ex - base;
            if (life < 0)
                life = 0;
            if (life > MAX_LIFETIME_S)
                life = MAX_LIFETIME_S;
        }
    }
    if (cc.no_cache)
        life = 0;
    if (life < 0) {
        if (!has_validators)
            return;
        life = c->opts.default_ttl_s;
    }
    if (life == 0 && !has_validators)
        return;
    m->store = 1;
    m->fresh_until = now_ms + life * 1000;
}

/* ---- URLs ---------------------------------------------------------------- */

enum { URL_HTTP = 1, URL_FILE = 2 };

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Classifies url. http(s): *key gets the URL without its fragment. file:
 * *path gets the percent-decoded absolute path. Returns URL_HTTP,
 * URL_FILE, or SB_EINVAL / SB_EPERM with why set. */
static int url_parse(const sb_media_cache_t *c, const char *url, char **key,
                     char **path, char *why, size_t whylen)
{
    size_t n = strlen(url);
    *key = *path = NULL;
    if (n == 0 || n > MAX_URL) {
        set_why(why, whylen, n ? "URL too long" : "empty URL");
        return SB_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if ((uint8_t)url[i] <= 0x20 || url[i] == 0x7f) {
            set_why(why, whylen, "not a URL (space or control character)");
            return SB_EINVAL;
        }
    }
    size_t s = 0;
    char c0 = url[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z'))) {
        set_why(why, whylen, "not a URL");
        return SB_EINVAL;
    }
    while (s < n && url[s] != ':') {
        char ch = url[s];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '+' || ch == '-' ||
              ch == '.')) {
            set_why(why, whylen, "not a URL");
            return SB_EINVAL;
        }
        s++;
    }
    if (s == n || s > 32) {
        set_why(why, whylen, "not a URL (no scheme)");
        return SB_EINVAL;
    }
    const char *rest = url + s + 1;
    if ((s == 4 && strncasecmp(url, "http", 4) == 0) ||
        (s == 5 && strncasecmp(url, "https", 5) == 0)) {
        if (strncmp(rest, "//", 2) != 0 || rest[2] == '\0' || rest[2] == '/' ||
            rest[2] == '?' || rest[2] == '#') {
            set_why(why, whylen, "not a URL (no host)");
            return SB_EINVAL;
        }
        const char *hash = strchr(url, '#');
        *key = hash ? sb_xstrndup(url, (size_t)(hash - url)) : sb_xstrdup(url);
        return URL_HTTP;
    }
    if (!(s == 4 && strncasecmp(url, "file", 4) == 0)) {
        set_why(why, whylen, "URL scheme %.*s: is not allowed", (int)s, url);
        return SB_EPERM;
    }
    if (!c->root) {
        set_why(why, whylen, "file URLs are not allowed (no media_root)");
        return SB_EPERM;
    }
    if (strncmp(rest, "//", 2) == 0) {
        const char *host = rest + 2, *slash = strchr(host, '/');
        size_t hl = slash ? (size_t)(slash - host) : strlen(host);
        if (!(hl == 0 || (hl == 9 && strncasecmp(host, "localhost", 9) == 0))) {
            set_why(why, whylen, "file URL names another host");
            return SB_EPERM;
        }
        rest = host + hl;
    }
    size_t plen = strcspn(rest, "?#");
    if (plen == 0 || rest[0] != '/') {
        set_why(why, whylen, "file URL without an absolute path");
        return SB_EINVAL;
    }
    char *p = sb_xmalloc(plen + 1);
    size_t o = 0;
    for (size_t i = 0; i < plen; i++) {
        if (rest[i] == '%') {
            if (i + 2 >= plen) {
                free(p);
                set_why(why, whylen, "bad %%-escape in file URL");
                return SB_EINVAL;
            }
            int a = hexval(rest[i + 1]), b = hexval(rest[i + 2]);
            if (a < 0 || b < 0 || (a == 0 && b == 0)) {
                free(p);
                set_why(why, whylen, "bad %%-escape in file URL");
                return SB_EINVAL;
            }
            p[o++] = (char)(a * 16 + b);
            i += 2;
        } else {
            p[o++] = rest[i];
        }
    }
    p[o] = '\0';
    /* No ".." segment at all: nothing legitimate needs one, and refusing
     * it lexically says nothing about files outside the root. */
    for (const char *q = p; (q = strstr(q, "..")) != NULL; q += 2) {
        if ((q == p || q[-1] == '/') && (q[2] == '/' || q[2] == '\0')) {
            free(p);
            set_why(why, whylen, "file URL escapes media_root (..)");
            return SB_EPERM;
        }
    }
    *path = p;
    return URL_FILE;
}

/* ---- the table and the LRUs ---------------------------------------------- */

static entry_t *table_find(const sb_media_cache_t *c, const char *key)
{
    uint32_t h = hash_str(key);
    for (entry_t *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && strcmp(e->key, key) == 0)
            return e;
    return NULL;
}

static void table_add(sb_media_cache_t *c, entry_t *e)
{
    if (c->nentries + 1 > c->nbuckets) {
        size_t nb = c->nbuckets * 2;
        entry_t **b = sb_xcalloc(nb, sizeof(*b));
        for (size_t i = 0; i < c->nbuckets; i++) {
            entry_t *x = c->buckets[i], *next;
            for (; x; x = next) {
                next = x->hnext;
                x->hnext = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
            }
        }
        free(c->buckets);
        c->buckets = b;
        c->nbuckets = nb;
    }
    entry_t **slot = &c->buckets[e->hash & (c->nbuckets - 1)];
    e->hnext = *slot;
    *slot = e;
    e->in_table = 1;
    c->nentries++;
}

static void table_del(sb_media_cache_t *c, entry_t *e)
{
    if (!e->in_table)
        return;
    entry_t **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    e->hnext = NULL;
    e->in_table = 0;
    c->nentries--;
}

static entry_t *entry_new(sb_media_cache_t *c, const char *key, int is_file)
{
    entry_t *e = SB_NEW(entry_t);
    e->key = sb_xstrdup(key);
    e->hash = hash_str(key);
    e->is_file = is_file;
    if (!is_file)
        sb_sha256_hex(key, strlen(key), e->name);
    list_init(&e->mem_link);
    list_init(&e->disk_link);
    table_add(c, e);
    return e;
}

static void entry_free(sb_media_cache_t *c, entry_t *e)
{
    table_del(c, e);
    meta_free(&e->meta);
    free(e->key);
    free(e);
}

static void mem_remove(sb_media_cache_t *c, entry_t *e)
{
    if (!e->audio)
        return;
    c->mem_used -= e->audio->bytes;
    list_remove(&e->mem_link);
    sb_media_audio_unref(e->audio);
    e->audio = NULL;
}

/* Evicts least recently used audio until the total fits mem_bytes. Entries
 * with a flight are skipped: a revalidation may still need their audio. */
static void mem_enforce(sb_media_cache_t *c)
{
    link_t *l = c->mem_lru.prev;
    while (c->mem_used > c->opts.mem_bytes && l != &c->mem_lru) {
        entry_t *e = CONTAINER(l, entry_t, mem_link);
        l = l->prev;
        if (e->flight)
            continue;
        mem_remove(c, e);
        settle(c, e);
    }
}

/* Forgets e's disk copy in the accounting; settle() unlinks the files. */
static void disk_forget(sb_media_cache_t *c, entry_t *e)
{
    if (!e->on_disk)
        return;
    e->on_disk = 0;
    c->disk_used -= e->disk_size;
    e->disk_size = 0;
    list_remove(&e->disk_link);
    e->drop_disk = 1;
}

static void disk_enforce(sb_media_cache_t *c)
{
    link_t *l = c->disk_lru.prev;
    while (c->disk_used > c->opts.disk_bytes && l != &c->disk_lru) {
        entry_t *e = CONTAINER(l, entry_t, disk_link);
        l = l->prev;
        if (e->flight || e->disk_busy)
            continue;
        disk_forget(c, e);
        settle(c, e);
    }
}

static void disk_set(sb_media_cache_t *c, entry_t *e, uint64_t body_size,
                     uint64_t size)
{
    if (e->on_disk) {
        c->disk_used -= e->disk_size;
        list_remove(&e->disk_link);
    }
    e->on_disk = 1;
    e->drop_disk = 0;
    e->body_size = body_size;
    e->disk_size = size;
    c->disk_used += size;
    list_push_front(&c->disk_lru, &e->disk_link);
}

static void touch(sb_media_cache_t *c, entry_t *e)
{
    if (e->audio) {
        list_remove(&e->mem_link);
        list_push_front(&c->mem_lru, &e->mem_link);
    }
    if (e->on_disk) {
        list_remove(&e->disk_link);
        list_push_front(&c->disk_lru, &e->disk_link);
    }
}

static void entry_drop_content(sb_media_cache_t *c, entry_t *e)
{
    mem_remove(c, e);
    disk_forget(c, e);
}

/* ---- disk files ---------------------------------------------------------- */

static char *disk_path(const sb_media_cache_t *c, const char *name,
                       const char *ext)
{
    return sb_xasprintf("%s/%s.%s", c->dir, name, ext);
}

static char *meta_text(const char *url, const meta_t *m, size_t body_len)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s\nurl %s\n", META_MAGIC, url);
    if (m->etag)
        sb_buf_printf(&b, "etag %s\n", m->etag);
    if (m->last_modified)
        sb_buf_printf(&b, "last-modified %s\n", m->last_modified);
    if (m->content_type)
        sb_buf_printf(&b, "content-type %s\n", m->content_type);
    if (m->cache_control)
        sb_buf_printf(&b, "cache-control %s\n", m->cache_control);
    sb_buf_printf(&b, "fresh-until %lld\nno-cache %d\nmust-revalidate %d\n"
                  "body-size %zu\n",
                  (long long)m->fresh_until, m->no_cache, m->must_revalidate,
                  body_len);
    return sb_buf_steal(&b);
}

/* Parses a metadata file's text (modified in place). Returns 0 and fills
 * *url (owned) and m, or -1. */
static int meta_parse(char *text, char **url, meta_t *m, uint64_t *body_size)
{
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    int have_size = 0;
    *url = NULL;
    memset(m, 0, sizeof(*m));
    if (!line || strcmp(line, META_MAGIC) != 0)
        return -1;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        const char *k = line, *v = sp + 1;
        if (strcmp(k, "url") == 0 && !*url)
            *url = sb_xstrdup(v);
        else if (strcmp(k, "etag") == 0 && !m->etag)
            m->etag = hdr_dup(v);
        else if (strcmp(k, "last-modified") == 0 && !m->last_modified)
            m->last_modified = hdr_dup(v);
        else if (strcmp(k, "content-type") == 0 && !m->content_type)
            m->content_type = hdr_dup(v);
        else if (strcmp(k, "cache-control") == 0 && !m->cache_control)
            m->cache_control = hdr_dup(v);
        else if (strcmp(k, "fresh-until") == 0)
            m->fresh_until = strtoll(v, NULL, 10);
        else if (strcmp(k, "no-cache") == 0)
            m->no_cache = atoi(v) != 0;
        else if (strcmp(k, "must-revalidate") == 0)
            m->must_revalidate = atoi(v) != 0;
        else if (strcmp(k, "body-size") == 0) {
            *body_size = strtoull(v, NULL, 10);
            have_size = 1;
        }
    }
    if (!*url || !have_size) {
        free(*url);
        *url = NULL;
        meta_free(m);
        return -1;
    }
    return 0;
}

/* Reads a whole regular file (not through a symlink) of at most max
 * bytes. Thread pool. Returns 0 and *out (owned), or an SB_E* code. */
static int read_file(const char *path, size_t max, void **out, size_t *len,
                     char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        set_why(why, whylen, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT || e == ENOTDIR ? SB_ENOENT
             : e == EACCES || e == ELOOP || e == EPERM ? SB_EPERM : SB_EIO;
    }
    struct stat st;
    int rc = 0;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_why(why, whylen, "%s is not a regular file", path);
        rc = SB_ENOENT;
        goto out;
    }
    if ((uint64_t)st.st_size > max) {
        set_why(why, whylen, "file larger than %zu bytes", max);
        rc = SB_ETOOBIG;
        goto out;
    }
    size_t want = (size_t)st.st_size, got = 0;
    buf = sb_xmalloc(want + 1);
    while (got < want) {
        ssize_t r = read(fd, buf + got, want - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            set_why(why, whylen, "short read on %s", path);
            rc = SB_EIO;
            goto out;
        }
        got += (size_t)r;
    }
    buf[want] = '\0';
    *out = buf;
    *len = want;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

/* Writes data to path through a temporary file and a rename, so readers
 * see the old file or the new one. Thread pool. Returns 0 or -1. */
static int write_atomic(const char *path, const void *data, size_t len)
{
    char *tmp = sb_xasprintf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = -1;
    if (fd < 0)
        goto out;
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        p += w;
        left -= (size_t)w;
    }
    if (close(fd) == 0 && left == 0 && rename(tmp, path) == 0)
        rc = 0;
out:
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    return rc;
}

static void on_disk_job(uv_work_t *w)
{
    disk_job_t *j = CONTAINER(w, disk_job_t, work);
    if (j->op == DJ_UNLINK) {
        unlink(j->meta_path);   /* metadata first: it is the commit mark */
        unlink(j->body_path);
    } else {
        write_atomic(j->meta_path, j->meta_text, strlen(j->meta_text));
    }
}

static void on_disk_job_done(uv_work_t *w, int status)
{
    disk_job_t *j = CONTAINER(w, disk_job_t, work);
    sb_media_cache_t *c = j->cache;
    c->busy--;
    entry_t *e = j->entry;
    free(j->body_path);
    free(j->meta_path);
    free(j->meta_text);
    free(j);
    if (e) {
        e->disk_busy--;
        settle(c, e);
    }
    maybe_finish_close(c);
}

/* Starts a disk job on name's files; e (may be NULL) is busy meanwhile.
 * Takes meta_text. */
static void disk_job(sb_media_cache_t *c, entry_t *e, const char *name,
                     int op, char *meta_text)
{
    disk_job_t *j = SB_NEW(disk_job_t);
    j->cache = c;
    j->entry = e;
    j->op = op;
    j->body_path = disk_path(c, name, "body");
    j->meta_path = disk_path(c, name, "meta");
    j->meta_text = meta_text;
    if (uv_queue_work(c->loop, &j->work, on_disk_job, on_disk_job_done) != 0) {
        free(j->body_path);
        free(j->meta_path);
        free(j->meta_text);
        free(j);
        return;
    }
    c->busy++;
    if (e)
        e->disk_busy++;
}

/* Called whenever something that keeps e alive may have ended: unlinks a
 * dropped disk copy once no job uses the files, frees e once it holds
 * nothing. */
static void settle(sb_media_cache_t *c, entry_t *e)
{
    if (e->drop_disk && !e->flight && !e->disk_busy && !c->closing) {
        e->drop_disk = 0;
        entry_t *live = e->in_table ? NULL : table_find(c, e->key);
        /* A purged entry's files now belong to its successor, if it has
         * (or is making) a copy of its own. */
        if (!live || !(live->on_disk || live->flight || live->disk_busy))
            disk_job(c, e, e->name, DJ_UNLINK, NULL);
    }
    if (!e->audio && !e->on_disk && !e->flight && !e->disk_busy)
        entry_free(c, e);
}

/* ---- completions --------------------------------------------------------- */

static void on_idle(uv_idle_t *h);

/* Queues req's callback. Takes audio (one reference) when status is 0. */
static void req_done(sb_media_cache_req_t *req, int status,
                     sb_media_audio_t *audio, int http_status,
                     const char *why)
{
    sb_media_cache_t *c = req->cache;
    req->state = REQ_DONE;
    req->status = status;
    req->audio = status == 0 ? audio : NULL;
    req->err.http_status = http_status;
    snprintf(req->err.why, sizeof(req->err.why), "%s",
             why && *why ? why : status ? sb_strerror(status) : "");
    list_push_back(&c->done, &req->link);
    if (!uv_is_active((uv_handle_t *)&c->idle))
        uv_idle_start(&c->idle, on_idle);
}

static void on_idle(uv_idle_t *h)
{
    sb_media_cache_t *c = h->data;
    link_t q;
    list_init(&q);
    list_splice(&c->done, &q);
    while (!list_empty(&q)) {
        sb_media_cache_req_t *req = CONTAINER(q.next, sb_media_cache_req_t,
                                              link);
        list_remove(&req->link);
        req->cb(req->status, req->audio, &req->err, req->arg);
        free(req);
    }
    if (list_empty(&c->done))
        uv_idle_stop(&c->idle);
    maybe_finish_close(c);
}

/* ---- flights ------------------------------------------------------------- */

static flight_t *flight_new(sb_media_cache_t *c, entry_t *e)
{
    flight_t *fl = SB_NEW(flight_t);
    fl->cache = c;
    fl->entry = e;
    e->flight = fl;
    list_init(&fl->waiters);
    list_push_back(&c->flights, &fl->link);
    return fl;
}

static void flight_join(flight_t *fl, sb_media_cache_req_t *req)
{
    req->state = REQ_WAITING;
    req->flight = fl;
    list_push_back(&fl->waiters, &req->link);
    fl->nwaiters++;
}

static void flight_reset_job(flight_t *fl)
{
    free(fl->read_path);
    free(fl->body);
    free(fl->body_path);
    free(fl->meta_path);
    free(fl->meta_text);
    fl->read_path = fl->body_path = fl->meta_path = fl->meta_text = NULL;
    fl->body = NULL;
    fl->len = 0;
    fl->write_body = fl->write_meta = fl->from_disk = 0;
    fl->status = 0;
    fl->wrote = 0;
    fl->why[0] = '\0';
}

/* Ends fl: detaches it from its entry (which may then be freed) and frees
 * it. Its waiters must have been answered. */
static void flight_end(flight_t *fl)
{
    sb_media_cache_t *c = fl->cache;
    entry_t *e = fl->entry;
    list_remove(&fl->link);
    if (e) {
        e->flight = NULL;
        fl->entry = NULL;
    }
    flight_reset_job(fl);
    meta_free(&fl->meta);
    sb_media_audio_unref(fl->audio);
    free(fl);
    if (e)
        settle(c, e);
}

/* Answers every waiter (each gets its own reference to audio, borrowed
 * here) and ends fl. */
static void flight_finish(flight_t *fl, int status, sb_media_audio_t *audio,
                          int http_status, const char *why)
{
    if (status != 0)
        fl->cache->st.errors++;
    while (!list_empty(&fl->waiters)) {
        sb_media_cache_req_t *req = CONTAINER(fl->waiters.next,
                                              sb_media_cache_req_t, link);
        list_remove(&req->link);
        req->flight = NULL;
        req_done(req, status, status == 0 ? sb_media_audio_ref(audio) : NULL,
                 http_status, why);
    }
    fl->nwaiters = 0;
    flight_end(fl);
}

static int can_serve_stale(const entry_t *e)
{
    return e && e->audio && !e->meta.must_revalidate && !e->meta.no_cache;
}

/* Puts fl's decoded audio into its entry, with its metadata and disk copy,
 * when the response may be kept. */
static void flight_install(sb_media_cache_t *c, flight_t *fl, entry_t *e)
{
    if (!e->in_table) {             /* purged meanwhile */
        if (fl->wrote && fl->write_body)
            e->drop_disk = 1;
        return;
    }
    if (!fl->meta.store) {
        entry_drop_content(c, e);
        return;
    }
    mem_remove(c, e);
    if (fl->audio->bytes <= c->opts.mem_bytes) {
        e->audio = sb_media_audio_ref(fl->audio);
        c->mem_used += e->audio->bytes;
        list_push_front(&c->mem_lru, &e->mem_link);
    }
    meta_move(&e->meta, &fl->meta);
    if (fl->is_file) {
        e->mtime_ns = fl->mtime_ns;
        e->fsize = fl->fsize;
    }
    if (fl->write_body) {
        if (fl->wrote)
            disk_set(c, e, fl->len, fl->len + strlen(fl->meta_text));
        else
            disk_forget(c, e);      /* the old files may be half replaced */
    }
    mem_enforce(c);
    disk_enforce(c);
}

static void flight_work(uv_work_t *w)
{
    flight_t *fl = CONTAINER(w, flight_t, work);
    const sb_media_cache_t *c = fl->cache;
    char dwhy[160] = "";
    if (fl->read_path) {
        fl->status = read_file(fl->read_path, c->opts.max_file_bytes,
                               &fl->body, &fl->len, fl->why, sizeof(fl->why));
        if (fl->status != 0)
            return;
    }
    sb_media_audio_limits_t lim = {c->opts.max_file_bytes,
                                   c->opts.max_seconds};
    fl->status = sb_media_audio_decode(fl->body, fl->len,
                                       fl->meta.content_type, &lim,
                                       &fl->audio, dwhy, sizeof(dwhy));
    if (fl->status != 0) {          /* the decoder names the Content-Type */
        set_why(fl->why, sizeof(fl->why), "%s",
                dwhy[0] ? dwhy : sb_strerror(fl->status));
        return;
    }
    fl->wrote = 1;
    if (fl->write_body &&
        write_atomic(fl->body_path, fl->body, fl->len) != 0)
        fl->wrote = 0;
    if (fl->wrote && fl->write_meta &&
        write_atomic(fl->meta_path, fl->meta_text, strlen(fl->meta_text)) != 0) {
        fl->wrote = 0;
        unlink(fl->body_path);      /* a body without meta is never used */
    }
}

static void on_flight_work_done(uv_work_t *w, int uvst)
{
    flight_t *fl = CONTAINER(w, flight_t, work);
    sb_media_cache_t *c = fl->cache;
    entry_t *e = fl->entry;
    c->busy--;
    fl->working = 0;
    if (uvst == UV_ECANCELED) {
        fl->status = SB_ECANCELED;
        set_why(fl->why, sizeof(fl->why), "canceled");
    }
    if (c->closing) {               /* its waiters were answered already */
        flight_end(fl);
        maybe_finish_close(c);
        return;
    }
    if (fl->status == 0) {
        if (e)
            flight_install(c, fl, e);
        flight_finish(fl, 0, fl->audio, 0, NULL);
        return;
    }
    if (fl->from_disk && e && fl->nwaiters > 0 && c->have_fetcher) {
        /* The disk copy is gone or corrupt: forget it, ask the network. */
        sb_warn("media cache: disk copy of %s unusable (%s); downloading",
                e->key, fl->why);
        disk_forget(c, e);
        flight_reset_job(fl);
        flight_fetch(fl, 0);
        return;
    }
    if (e && e->in_table)
        entry_drop_content(c, e);   /* the origin's answer replaces it */
    flight_finish(fl, fl->status, NULL, fl->http_status, fl->why);
}

static void flight_queue_work(flight_t *fl)
{
    sb_media_cache_t *c = fl->cache;
    int r = uv_queue_work(c->loop, &fl->work, flight_work,
                          on_flight_work_done);
    if (r != 0) {
        flight_finish(fl, r, NULL, 0, "cannot queue the decode");
        return;
    }
    c->busy++;
    fl->working = 1;
}

/* Decodes e's disk copy; meta (may be NULL: keep e's) is what the entry
 * keeps, rewritten to disk when rewrite is set. */
static void flight_decode_disk(flight_t *fl, int rewrite)
{
    sb_media_cache_t *c = fl->cache;
    entry_t *e = fl->entry;
    fl->read_path = disk_path(c, e->name, "body");
    fl->from_disk = 1;
    if (!fl->meta.store) {      /* no new policy: the stored one */
        meta_free(&fl->meta);
        fl->meta.etag = sb_xstrdup(e->meta.etag);
        fl->meta.last_modified = sb_xstrdup(e->meta.last_modified);
        fl->meta.content_type = sb_xstrdup(e->meta.content_type);
        fl->meta.cache_control = sb_xstrdup(e->meta.cache_control);
        fl->meta.fresh_until = e->meta.fresh_until;
        fl->meta.no_cache = e->meta.no_cache;
        fl->meta.must_revalidate = e->meta.must_revalidate;
        fl->meta.store = 1;
    }
    if (rewrite && e->disk_busy == 0) {
        fl->write_meta = 1;
        fl->meta_path = disk_path(c, e->name, "meta");
        fl->meta_text = meta_text(e->key, &fl->meta, (size_t)e->body_size);
    }
    flight_queue_work(fl);
}

/* Answers a revalidation from the stored copy (after a 304, or a failed
 * revalidation that may be served stale). */
static void flight_serve_stored(flight_t *fl, int rewrite_meta)
{
    sb_media_cache_t *c = fl->cache;
    entry_t *e = fl->entry;
    if (e->audio) {
        touch(c, e);
        if (rewrite_meta && e->on_disk && !e->disk_busy)
            disk_job(c, e, e->name, DJ_META,
                     meta_text(e->key, &e->meta, (size_t)e->body_size));
        flight_finish(fl, 0, e->audio, 0, NULL);
    } else if (e->on_disk) {
        flight_decode_disk(fl, rewrite_meta);
    } else {
        flight_fetch(fl, 0);
    }
}

static void on_fetched(int err, const sb_media_fetch_result_t *res, void *arg)
{
    flight_t *fl = arg;
    sb_media_cache_t *c = fl->cache;
    entry_t *e = fl->entry;
    c->busy--;
    fl->fetching = 0;
    fl->handle = NULL;
    if (!e || c->closing) {         /* abandoned: nobody waits */
        flight_end(fl);
        maybe_finish_close(c);
        return;
    }
    if (err == 0 && !res)
        err = SB_ENETWORK;
    int64_t now = sb_time_now_ms();
    if (err != 0) {
        if (fl->conditional && can_serve_stale(e) &&
            (err == SB_ENETWORK || err == SB_ETIMEDOUT)) {
            sb_warn("media cache: %s unreachable (%s); serving stale copy",
                    e->key, sb_strerror(err));
            flight_finish(fl, 0, e->audio, 0, NULL);
            return;
        }
        char why[160];
        set_why(why, sizeof(why), "%s fetching %s",
                err == SB_ETOOBIG ? "file too large" : sb_strerror(err),
                e->key);
        flight_finish(fl, err, NULL, 0, why);
        return;
    }
    if (res->status == 304) {
        if (!fl->conditional) {
            flight_finish(fl, SB_ENOENT, NULL, 304, "unexpected HTTP 304");
            return;
        }
        c->st.not_modified++;
        meta_t m = {0};
        m.etag = hdr_dup(res->etag);
        if (!m.etag)
            m.etag = sb_xstrdup(e->meta.etag);
        m.last_modified = hdr_dup(res->last_modified);
        if (!m.last_modified)
            m.last_modified = sb_xstrdup(e->meta.last_modified);
        m.content_type = sb_xstrdup(e->meta.content_type);
        m.cache_control = hdr_dup(res->cache_control);
        if (!m.cache_control && !res->expires)
            m.cache_control = sb_xstrdup(e->meta.cache_control);
        policy(c, m.cache_control, res->expires, res->date, 1, now, &m);
        if (!m.store) {             /* the 304 forbids keeping it */
            meta_free(&m);
            if (e->audio) {
                sb_media_audio_t *a = sb_media_audio_ref(e->audio);
                entry_drop_content(c, e);
                flight_finish(fl, 0, a, 0, NULL);
                sb_media_audio_unref(a);
            } else {
                disk_forget(c, e);
                flight_fetch(fl, 0);
            }
            return;
        }
        if (e->audio) {
            meta_move(&e->meta, &m);
            flight_serve_stored(fl, 1);
        } else {
            meta_move(&fl->meta, &m);
            flight_serve_stored(fl, 1);
        }
        return;
    }
    if (res->status < 200 || res->status > 299) {
        if (res->status >= 500 && fl->conditional && can_serve_stale(e)) {
            sb_warn("media cache: %s answered %d; serving stale copy",
                    e->key, res->status);
            flight_finish(fl, 0, e->audio, 0, NULL);
            return;
        }
        if (res->status < 500 && e->in_table)
            entry_drop_content(c, e);   /* gone: keep no stale copy */
        char why[160];
        set_why(why, sizeof(why), "HTTP %d from %s", res->status, e->key);
        flight_finish(fl, SB_ENOENT, NULL, res->status, why);
        return;
    }
    if (res->len > c->opts.max_file_bytes) {
        char why[160];
        set_why(why, sizeof(why), "larger than %zu bytes",
                c->opts.max_file_bytes);
        flight_finish(fl, SB_ETOOBIG, NULL, res->status, why);
        return;
    }
    if (!res->body || res->len == 0) {
        flight_finish(fl, SB_EFORMAT, NULL, res->status, "empty body");
        return;
    }
    meta_free(&fl->meta);
    fl->meta.etag = hdr_dup(res->etag);
    fl->meta.last_modified = hdr_dup(res->last_modified);
    fl->meta.content_type = hdr_dup(res->content_type);
    fl->meta.cache_control = hdr_dup(res->cache_control);
    policy(c, res->cache_control, res->expires, res->date,
           fl->meta.etag || fl->meta.last_modified, now, &fl->meta);
    fl->http_status = res->status;
    fl->body = sb_xmalloc(res->len);
    memcpy(fl->body, res->body, res->len);
    fl->len = res->len;
    /* A purged entry (out of the table) never writes: its successor may
     * have written the same files since. */
    if (c->dir && fl->meta.store && !e->disk_busy && e->in_table &&
        res->len + MAX_META_FILE <= c->opts.disk_bytes) {
        fl->write_body = fl->write_meta = 1;
        fl->body_path = disk_path(c, e->name, "body");
        fl->meta_path = disk_path(c, e->name, "meta");
        fl->meta_text = meta_text(e->key, &fl->meta, res->len);
        e->drop_disk = 0;           /* the write replaces the old files */
    }
    flight_queue_work(fl);
}

static void flight_fetch(flight_t *fl, int conditional)
{
    sb_media_cache_t *c = fl->cache;
    entry_t *e = fl->entry;
    if (!c->have_fetcher) {
        flight_finish(fl, SB_ENETWORK, NULL, 0, "no HTTP client configured");
        return;
    }
    fl->conditional = conditional;
    const char *inm = conditional ? e->meta.etag : NULL;
    const char *ims = conditional ? e->meta.last_modified : NULL;
    void *handle = NULL;
    c->busy++;
    fl->fetching = 1;
    c->st.downloads++;
    if (conditional)
        c->st.revalidated++;
    int r = c->fetcher.fetch(c->fetcher.ctx, e->key, inm, ims,
                             c->opts.max_file_bytes, on_fetched, fl, &handle);
    if (r != 0) {
        c->busy--;
        fl->fetching = 0;
        char why[160];
        set_why(why, sizeof(why), "cannot fetch %s: %s", e->key,
                sb_strerror(r));
        flight_finish(fl, r, NULL, 0, why);
        return;
    }
    fl->handle = handle;
}

/* Detaches fl, which nobody waits for any more, from its entry and stops
 * its download; on_fetched frees it. */
static void flight_abandon(flight_t *fl)
{
    sb_media_cache_t *c = fl->cache;
    entry_t *e = fl->entry;
    void *handle = fl->handle;
    fl->entry = NULL;
    if (e) {
        e->flight = NULL;
        settle(c, e);
    }
    if (c->fetcher.cancel)
        c->fetcher.cancel(c->fetcher.ctx, handle);   /* last: may call back */
}

/* ---- get ----------------------------------------------------------------- */

static void get_http(sb_media_cache_t *c, sb_media_cache_req_t *req,
                     const char *key)
{
    entry_t *e = table_find(c, key);
    if (e && e->flight) {
        if (e->flight->fetching)
            c->st.misses++;
        else
            c->st.hits++;
        flight_join(e->flight, req);
        return;
    }
    int64_t now = sb_time_now_ms();
    int fresh = e && now < e->meta.fresh_until;
    if (e && e->audio && fresh) {
        c->st.hits++;
        touch(c, e);
        req_done(req, 0, sb_media_audio_ref(e->audio), 0, NULL);
        return;
    }
    if (!e)
        e = entry_new(c, key, 0);
    flight_t *fl = flight_new(c, e);
    flight_join(fl, req);
    if (!e->audio && e->on_disk && fresh) {
        c->st.hits++;
        touch(c, e);
        flight_decode_disk(fl, 0);
        return;
    }
    c->st.misses++;
    int validators = (e->audio || e->on_disk) &&
                     (e->meta.etag || e->meta.last_modified);
    flight_fetch(fl, validators);
}

/* 1 when path is root or below it (root without a trailing slash). */
static int path_under(const char *path, const char *root)
{
    if (!root)
        return 0;
    size_t rl = strlen(root);
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    if (rl == 1 && root[0] == '/')
        return path[0] == '/';
    return strncmp(path, root, rl) == 0 && (path[rl] == '/' || path[rl] == 0);
}

static void on_resolve(uv_work_t *w)
{
    resolve_t *j = CONTAINER(w, resolve_t, work);
    const sb_media_cache_t *c = j->cache;
    /* Lexically outside the root (as configured or resolved): one answer
     * whatever the file, so that a document cannot probe which files
     * exist elsewhere on the host. */
    if (!path_under(j->path, c->root) && !path_under(j->path, c->root_given)) {
        set_why(j->why, sizeof(j->why), "%s is outside media_root", j->path);
        j->status = SB_EPERM;
        return;
    }
    char *real = realpath(j->path, NULL);
    if (!real) {
        int e = errno;
        set_why(j->why, sizeof(j->why), "%s: %s", j->path, strerror(e));
        j->status = e == ENOENT || e == ENOTDIR ? SB_ENOENT
                  : e == EACCES || e == ELOOP ? SB_EPERM : SB_EIO;
        return;
    }
    size_t rl = strlen(c->root);
    if (!(strncmp(real, c->root, rl) == 0 &&
          (real[rl] == '/' || (rl == 1 && c->root[0] == '/')))) {
        set_why(j->why, sizeof(j->why), "%s is outside media_root", j->path);
        j->status = SB_EPERM;
        free(real);
        return;
    }
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_why(j->why, sizeof(j->why), "%s is not a regular file", j->path);
        j->status = SB_ENOENT;
        free(real);
        return;
    }
    if ((uint64_t)st.st_size > c->opts.max_file_bytes) {
        set_why(j->why, sizeof(j->why), "%s is larger than %zu bytes",
                j->path, c->opts.max_file_bytes);
        j->status = SB_ETOOBIG;
        free(real);
        return;
    }
    j->real = real;
    j->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
    j->size = (uint64_t)st.st_size;
}

static void resolve_free(resolve_t *j)
{
    list_remove(&j->link);
    free(j->path);
    free(j->real);
    free(j);
}

static void on_resolved(uv_work_t *w, int uvst)
{
    resolve_t *j = CONTAINER(w, resolve_t, work);
    sb_media_cache_t *c = j->cache;
    sb_media_cache_req_t *req = j->req;
    c->busy--;
    if (!req || c->closing) {
        resolve_free(j);
        maybe_finish_close(c);
        return;
    }
    req->resolve = NULL;
    if (uvst == UV_ECANCELED)
        j->status = SB_ECANCELED;
    if (j->status != 0) {
        c->st.errors++;
        req_done(req, j->status, NULL, 0, j->why);
        resolve_free(j);
        return;
    }
    char *key = sb_xasprintf("file:%s", j->real);
    entry_t *e = table_find(c, key);
    if (e && e->flight) {
        c->st.hits++;
        flight_join(e->flight, req);
    } else if (e && e->audio && e->mtime_ns == j->mtime_ns &&
               e->fsize == j->size) {
        c->st.hits++;
        touch(c, e);
        req_done(req, 0, sb_media_audio_ref(e->audio), 0, NULL);
    } else {
        c->st.misses++;
        if (!e)
            e = entry_new(c, key, 1);
        flight_t *fl = flight_new(c, e);
        flight_join(fl, req);
        fl->is_file = 1;
        fl->read_path = j->real;
        j->real = NULL;
        fl->mtime_ns = j->mtime_ns;
        fl->fsize = j->size;
        fl->meta.store = 1;
        fl->meta.fresh_until = INT64_MAX;   /* checked by mtime and size */
        flight_queue_work(fl);
    }
    free(key);
    resolve_free(j);
}

static void get_file(sb_media_cache_t *c, sb_media_cache_req_t *req,
                     char *path)
{
    resolve_t *j = SB_NEW(resolve_t);
    j->cache = c;
    j->req = req;
    j->path = path;
    list_push_back(&c->resolves, &j->link);
    int r = uv_queue_work(c->loop, &j->work, on_resolve, on_resolved);
    if (r != 0) {
        j->req = NULL;
        resolve_free(j);
        req_done(req, r, NULL, 0, "cannot queue file lookup");
        return;
    }
    c->busy++;
    req->state = REQ_RESOLVING;
    req->resolve = j;
}

int sb_media_cache_get(sb_media_cache_t *cache, const char *url,
                       sb_media_cache_done_cb cb, void *arg,
                       sb_media_cache_req_t **out)
{
    if (!cache || !url || !cb)
        return SB_EINVAL;
    if (cache->closing)
        return SB_ESTATE;
    sb_media_cache_req_t *req = SB_NEW(sb_media_cache_req_t);
    req->cache = cache;
    req->cb = cb;
    req->arg = arg;
    list_init(&req->link);
    if (out)
        *out = req;
    char *key, *path, why[160] = "";
    int kind = url_parse(cache, url, &key, &path, why, sizeof(why));
    if (kind < 0) {
        cache->st.errors++;
        req_done(req, kind, NULL, 0, why);
    } else if (kind == URL_FILE) {
        get_file(cache, req, path);
    } else if (cache->scan) {       /* the disk copies are not known yet */
        req->state = REQ_STARTUP;
        req->url = key;
        list_push_back(&cache->startup, &req->link);
        return 0;
    } else {
        get_http(cache, req, key);
        free(key);
    }
    return 0;
}

void sb_media_cache_cancel(sb_media_cache_req_t *req)
{
    if (!req)
        return;
    switch (req->state) {
    case REQ_DONE:
        if (req->status != SB_ECANCELED) {
            sb_media_audio_unref(req->audio);
            req->audio = NULL;
            req->status = SB_ECANCELED;
            req->err.http_status = 0;
            snprintf(req->err.why, sizeof(req->err.why), "canceled");
        }
        return;
    case REQ_STARTUP:
        list_remove(&req->link);
        free(req->url);
        req->url = NULL;
        break;
    case REQ_RESOLVING:
        req->resolve->req = NULL;
        req->resolve = NULL;
        break;
    case REQ_WAITING: {
        flight_t *fl = req->flight;
        list_remove(&req->link);
        req->flight = NULL;
        fl->nwaiters--;
        req_done(req, SB_ECANCELED, NULL, 0, "canceled");
        if (fl->nwaiters == 0 && fl->fetching)
            flight_abandon(fl);
        return;
    }
    }
    req_done(req, SB_ECANCELED, NULL, 0, "canceled");
}

/* ---- start-up scan ------------------------------------------------------- */

static int is_hex_name(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Thread pool: reads every metadata file; drops leftovers (temporary
 * files, a body without metadata, metadata whose body is missing or of
 * another size). */
static void on_scan(uv_work_t *w)
{
    scan_t *s = CONTAINER(w, scan_t, work);
    const sb_media_cache_t *c = s->cache;
    DIR *d = opendir(c->dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *n = de->d_name;
        size_t len = strlen(n);
        if (n[0] == '.')
            continue;
        char *p = sb_xasprintf("%s/%s", c->dir, n);
        if (len > 4 && strcmp(n + len - 4, ".tmp") == 0) {
            unlink(p);
        } else if (len == 69 && strcmp(n + 64, ".body") == 0 &&
                   is_hex_name(n, 64)) {
            char *m = sb_xasprintf("%s/%.64s.meta", c->dir, n);
            if (access(m, F_OK) != 0)
                unlink(p);
            free(m);
        } else if (len == 69 && strcmp(n + 64, ".meta") == 0 &&
                   is_hex_name(n, 64)) {
            char *b = sb_xasprintf("%s/%.64s.body", c->dir, n);
            void *text = NULL;
            size_t tlen = 0;
            char why[8];
            scan_rec_t r;
            memset(&r, 0, sizeof(r));
            uint64_t body_size = 0;
            struct stat st;
            char hex[65];
            int ok = read_file(p, MAX_META_FILE, &text, &tlen, why,
                               sizeof(why)) == 0 &&
                     meta_parse(text, &r.url, &r.meta, &body_size) == 0 &&
                     stat(b, &st) == 0 && S_ISREG(st.st_mode) &&
                     (uint64_t)st.st_size == body_size;
            if (ok) {
                sb_sha256_hex(r.url, strlen(r.url), hex);
                ok = memcmp(hex, n, 64) == 0;
            }
            if (ok) {
                r.body_size = body_size;
                r.size = body_size + tlen;
                r.mtime = (int64_t)st.st_mtime;
                if (s->n == s->cap) {
                    s->cap = s->cap ? s->cap * 2 : 64;
                    s->recs = sb_xrealloc(s->recs, s->cap * sizeof(*s->recs));
                }
                s->recs[s->n++] = r;
            } else {
                free(r.url);
                meta_free(&r.meta);
                unlink(p);
                unlink(b);
            }
            free(text);
            free(b);
        }
        free(p);
    }
    closedir(d);
}

static int rec_cmp(const void *a, const void *b)
{
    const scan_rec_t *x = a, *y = b;
    return (x->mtime > y->mtime) - (x->mtime < y->mtime);
}

static int purged_while_scanning(const sb_media_cache_t *c, const char *url)
{
    if (c->purge_all_after_scan)
        return 1;
    for (size_t i = 0; i < c->npurge_after_scan; i++)
        if (strcmp(c->purge_after_scan[i], url) == 0)
            return 1;
    return 0;
}

static void on_scanned(uv_work_t *w, int uvst)
{
    scan_t *s = CONTAINER(w, scan_t, work);
    sb_media_cache_t *c = s->cache;
    c->busy--;
    c->scan = NULL;
    /* Oldest first, each pushed to the front: the newest ends up first. */
    if (s->n > 1)
        qsort(s->recs, s->n, sizeof(*s->recs), rec_cmp);
    for (size_t i = 0; i < s->n; i++) {
        scan_rec_t *r = &s->recs[i];
        if (!c->closing && !table_find(c, r->url)) {
            entry_t *e = entry_new(c, r->url, 0);
            meta_move(&e->meta, &r->meta);
            disk_set(c, e, r->body_size, r->size);
            if (purged_while_scanning(c, r->url)) {
                disk_forget(c, e);
                settle(c, e);
            }
        }
        free(r->url);
        meta_free(&r->meta);
    }
    free(s->recs);
    free(s);
    for (size_t i = 0; i < c->npurge_after_scan; i++)
        free(c->purge_after_scan[i]);
    free(c->purge_after_scan);
    c->purge_after_scan = NULL;
    c->npurge_after_scan = 0;
    c->purge_all_after_scan = 0;
    if (!c->closing) {
        disk_enforce(c);
        while (!list_empty(&c->startup)) {
            sb_media_cache_req_t *req = CONTAINER(c->startup.next,
                                                  sb_media_cache_req_t, link);
            list_remove(&req->link);
            char *key = req->url;
            req->url = NULL;
            get_http(c, req, key);
            free(key);
        }
    }
    maybe_finish_close(c);
}

/* ---- lifecycle ----------------------------------------------------------- */

int sb_media_cache_new(uv_loop_t *loop, const sb_media_cache_opts_t *opts,
                       const sb_media_fetcher_t *fetcher,
                       sb_media_cache_t **out)
{
    sb_media_cache_opts_t o = {0};
    if (opts)
        o = *opts;
    if (!o.mem_bytes)
        o.mem_bytes = DEF_MEM_BYTES;
    if (!o.disk_bytes)
        o.disk_bytes = DEF_DISK_BYTES;
    if (!o.max_file_bytes)
        o.max_file_bytes = DEF_FILE_BYTES;
    if (!o.max_seconds)
        o.max_seconds = DEF_SECONDS;
    char *root = NULL;
    if (o.media_root && *o.media_root) {
        root = realpath(o.media_root, NULL);
        if (!root) {
            sb_error("media cache: media_root %s: %s", o.media_root,
                     strerror(errno));
            return SB_EIO;
        }
    }
    if (o.dir && *o.dir && sb_mkdir_p(o.dir, 0755) != 0) {
        sb_error("media cache: cannot use directory %s: %s", o.dir,
                 strerror(errno));
        free(root);
        return SB_EIO;
    }
    sb_media_cache_t *c = SB_NEW(sb_media_cache_t);
    c->loop = loop;
    c->opts = o;
    c->root = root;
    c->root_given = root ? sb_xstrdup(o.media_root) : NULL;
    c->dir = o.dir && *o.dir ? sb_xstrdup(o.dir) : NULL;
    c->opts.dir = c->dir;
    c->opts.media_root = c->root;
    if (fetcher && fetcher->fetch) {
        c->fetcher = *fetcher;
        c->have_fetcher = 1;
    }
    c->nbuckets = 64;
    c->buckets = sb_xcalloc(c->nbuckets, sizeof(*c->buckets));
    list_init(&c->mem_lru);
    list_init(&c->disk_lru);
    list_init(&c->flights);
    list_init(&c->resolves);
    list_init(&c->startup);
    list_init(&c->done);
    uv_idle_init(loop, &c->idle);
    c->idle.data = c;
    if (c->dir) {
        scan_t *s = SB_NEW(scan_t);
        s->cache = c;
        if (uv_queue_work(loop, &s->work, on_scan, on_scanned) == 0) {
            c->scan = s;
            c->busy++;
        } else {
            free(s);
        }
    }
    *out = c;
    return 0;
}

void sb_media_cache_stats(const sb_media_cache_t *c,
                          sb_media_cache_stats_t *out)
{
    *out = c->st;
    /* Entries that hold something: a purged one may linger in the table
     * while its files are unlinked, so that no new copy races the unlink. */
    out->entries = 0;
    for (size_t i = 0; i < c->nbuckets; i++)
        for (const entry_t *e = c->buckets[i]; e; e = e->hnext)
            out->entries += e->audio || e->on_disk;
    out->mem_bytes = c->mem_used;
    out->disk_bytes = c->disk_used;
}

static void purge_entry(sb_media_cache_t *c, entry_t *e)
{
    entry_drop_content(c, e);
    if (e->flight || e->disk_busy)
        table_del(c, e);    /* a new get starts afresh; the flight ends */
    settle(c, e);
}

void sb_media_cache_purge(sb_media_cache_t *c, const char *url)
{
    if (c->closing)
        return;
    if (!url) {
        for (size_t i = 0; i < c->nbuckets; i++) {
            entry_t *e = c->buckets[i], *next;
            for (; e; e = next) {
                next = e->hnext;
                purge_entry(c, e);
            }
        }
        if (c->scan)
            c->purge_all_after_scan = 1;
        return;
    }
    char *key, *path, why[160];
    int kind = url_parse(c, url, &key, &path, why, sizeof(why));
    if (kind == URL_FILE) {
        key = sb_xasprintf("file:%s", path);
        free(path);
    } else if (kind < 0) {
        return;
    }
    entry_t *e = table_find(c, key);
    if (e)
        purge_entry(c, e);
    if (c->scan && kind == URL_HTTP) {
        c->purge_after_scan = sb_xrealloc(c->purge_after_scan,
            (c->npurge_after_scan + 1) * sizeof(char *));
        c->purge_after_scan[c->npurge_after_scan++] = key;
        key = NULL;
    }
    free(key);
}

static void on_idle_closed(uv_handle_t *h)
{
    sb_media_cache_t *c = h->data;
    for (size_t i = 0; i < c->nbuckets; i++) {
        entry_t *e = c->buckets[i], *next;
        for (; e; e = next) {
            next = e->hnext;
            if (e->audio)
                sb_media_audio_unref(e->audio);
            meta_free(&e->meta);
            free(e->key);
            free(e);
        }
    }
    free(c->buckets);
    for (size_t i = 0; i < c->npurge_after_scan; i++)
        free(c->purge_after_scan[i]);
    free(c->purge_after_scan);
    sb_media_cache_closed_cb cb = c->close_cb;
    void *arg = c->close_arg;
    free(c->dir);
    free(c->root);
    free(c->root_given);
    free(c);
    if (cb)
        cb(arg);
}

static void maybe_finish_close(sb_media_cache_t *c)
{
    if (!c->closing || c->close_started || c->busy > 0 ||
        !list_empty(&c->done))
        return;
    c->close_started = 1;
    uv_close((uv_handle_t *)&c->idle, on_idle_closed);
}

void sb_media_cache_close(sb_media_cache_t *c, sb_media_cache_closed_cb cb,
                          void *arg)
{
    if (c->closing)
        return;
    c->closing = 1;
    c->close_cb = cb;
    c->close_arg = arg;
    while (!list_empty(&c->startup))
        sb_media_cache_cancel(CONTAINER(c->startup.next, sb_media_cache_req_t,
                                        link));
    for (link_t *l = c->resolves.next; l != &c->resolves; l = l->next) {
        resolve_t *j = CONTAINER(l, resolve_t, link);
        if (j->req)
            sb_media_cache_cancel(j->req);
        uv_cancel((uv_req_t *)&j->work);
    }
    if (c->scan)
        uv_cancel((uv_req_t *)&c->scan->work);
    /* Answer every waiter first, then stop the work: cancelling a fetch
     * may call back into on_fetched, which ends the flight. */
    for (link_t *l = c->flights.next; l != &c->flights; l = l->next) {
        flight_t *fl = CONTAINER(l, flight_t, link);
        while (!list_empty(&fl->waiters)) {
            sb_media_cache_req_t *req = CONTAINER(fl->waiters.next,
                                                  sb_media_cache_req_t, link);
            list_remove(&req->link);
            req->flight = NULL;
            req_done(req, SB_ECANCELED, NULL, 0, "cache closed");
        }
        fl->nwaiters = 0;
        entry_t *e = fl->entry;
        if (e) {
            e->flight = NULL;
            fl->entry = NULL;
            if (!e->in_table)
                settle(c, e);       /* purged: nothing else frees it */
        }
    }
    link_t *l = c->flights.next;
    while (l != &c->flights) {
        flight_t *fl = CONTAINER(l, flight_t, link);
        l = l->next;
        if (fl->working)
            uv_cancel((uv_req_t *)&fl->work);
        else if (fl->fetching && c->fetcher.cancel)
            c->fetcher.cancel(c->fetcher.ctx, fl->handle);
    }
    maybe_finish_close(c);
}
