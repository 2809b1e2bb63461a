/*
 * pool.c: the number pool (issue 21, docs/rest.md "The number pool").
 * The operator lists the numbers offered for sale in a file
 * (numbers.pool, one "country,type,number,capabilities[,region
 * [,postal_code[,locality[,friendly_name]]]]" line per number); it is
 * loaded into the number_pool table at start-up and again whenever the
 * file changes (polled every second) or the server gets SIGHUP. A reload
 * is read, parsed, sorted and compared with the pool as last written on
 * the thread pool; the changes are then written on the loop thread
 * POOL_STEP_OPS at a time, each step a transaction of its own, one step
 * per turn of the loop: an edit of up to that many numbers is applied at
 * once, and a whole new file of 100,000 numbers never holds the loop for
 * more than a few milliseconds at a time. A malformed file is refused as
 * a whole with file:line (at start-up the server does not start; on a
 * reload the old pool stays).
 *
 * The searches are served by available_numbers.c. Buying is POST
 * IncomingPhoneNumbers (numbers.c calls sb__api_pool_claim); a
 * bought number leaves the available list through the table's triggers
 * (migration 0010), and comes back when the IncomingPhoneNumber is
 * deleted.
 */
#include "api_int.h"
#include "pool_int.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#define POOL_MAX_BYTES (64u << 20)      /* the file */
#define POOL_MAX_NUMBERS 1000000
#define POOL_POLL_MS 1000

#define CAP_VOICE 1u
#define CAP_SMS 2u
#define CAP_MMS 4u
#define CAP_FAX 8u

/* ---- the table ------------------------------------------------------------ */

static const sb_rows_col_t pool_cols[] = {
    {"phone_number", SB_ROWS_TEXT}, {"iso_country", SB_ROWS_TEXT},
    {"number_type", SB_ROWS_TEXT},  {"friendly_name", SB_ROWS_TEXT},
    {"voice_capable", SB_ROWS_INT}, {"sms_capable", SB_ROWS_INT},
    {"mms_capable", SB_ROWS_INT},   {"fax_capable", SB_ROWS_INT},
    {"region", SB_ROWS_TEXT},       {"postal_code", SB_ROWS_TEXT},
    {"locality", SB_ROWS_TEXT},     {"taken", SB_ROWS_INT},
};
const sb_rows_table_t sb__api_pool_table = {"number_pool", pool_cols, SB__POOL_NCOLS};

/* ---- the file ------------------------------------------------------------- */

typedef struct {
    char number[24];            /* "+" and up to 20 digits */
    char country[3];
    const char *type;           /* static: local, tollfree, mobile */
    unsigned caps;
    char *region, *postal, *locality, *name;    /* owned, NULL when empty */
    int line;                   /* in the file, for messages */
} entry_t;

typedef struct {
    entry_t *v;
    size_t n, cap;
    char err[512];              /* "" when parsed */
} entries_t;

static void entries_free(entries_t *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].region);
        free(l->v[i].postal);
        free(l->v[i].locality);
        free(l->v[i].name);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static const char *parse_type(const char *s)
{
    if (strcasecmp(s, "local") == 0)
        return "local";
    if (strcasecmp(s, "tollfree") == 0 || strcasecmp(s, "toll-free") == 0)
        return "tollfree";
    if (strcasecmp(s, "mobile") == 0)
        return "mobile";
    return NULL;
}

/* "voice+sms", "voice|sms|mms|fax", "all", "none" or "" (none). */
static int parse_caps(const char *s, unsigned *out)
{
    *out = 0;
    if (*s == '\0' || strcasecmp(s, "none") == 0)
        return 0;
    if (strcasecmp(s, "all") == 0) {
        *out = CAP_VOICE | CAP_SMS | CAP_MMS | CAP_FAX;
        return 0;
    }
    while (*s) {
        size_t n = strcspn(s, "+|");
        if (n == 5 && strncasecmp(s, "voice", 5) == 0)
            *out |= CAP_VOICE;
        else if (n == 3 && strncasecmp(s, "sms", 3) == 0)
            *out |= CAP_SMS;
        else if (n == 3 && strncasecmp(s, "mms", 3) == 0)
            *out |= CAP_MMS;
        else if (n == 3 && strncasecmp(s, "fax", 3) == 0)
            *out |= CAP_FAX;
        else
            return SB_EINVAL;
        s += n;
        if (*s)
            s++;
    }
    return 0;
}

/* A number as "+digits": an optional '+', digits, and the separators
 * people write (space, '-', '.', parentheses); 2 to 20 digits. */
static int parse_number(const char *in, char out[24])
{
    size_t n = 0;
    const char *p = in;
    out[n++] = '+';
    if (*p == '+')
        p++;
    for (; *p; p++) {
        if (*p == ' ' || *p == '-' || *p == '.' || *p == '(' || *p == ')')
            continue;
        if (*p < '0' || *p > '9' || n > 20)
            return SB_EINVAL;
        out[n++] = *p;
    }
    out[n] = '\0';
    return n >= 3 ? 0 : SB_EINVAL;
}

static char *opt_dup(const char *s)
{
    return *s ? sb_xstrdup(s) : NULL;
}

/* Parses the whole file text. On error l->err says where and why. */
static void parse_pool(const char *path, char *text, entries_t *l)
{
    int line = 0;
    for (char *p = text; p && *p;) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        char *s = trim(p);
        p = nl ? nl + 1 : NULL;
        if (*s == '\0' || *s == '#')
            continue;
        if (line == 1 && strncasecmp(s, "country,", 8) == 0)
            continue;                   /* a header line */
        char *f[8] = {0};
        int nf = 0;
        for (char *tok = s;; ) {
            char *comma = strchr(tok, ',');
            if (comma)
                *comma = '\0';
            if (nf == 8) {
                snprintf(l->err, sizeof l->err, "%s:%d: more than 8 fields", path, line);
                return;
            }
            f[nf++] = trim(tok);
            if (!comma)
                break;
            tok = comma + 1;
        }
        if (nf < 4) {
            snprintf(l->err, sizeof l->err, "%s:%d: expected country,type,number,"
                     "capabilities[,region[,postal_code[,locality[,friendly_name]]]]",
                     path, line);
            return;
        }
        entry_t e = {.line = line};
        if (strlen(f[0]) != 2 || !isalpha((unsigned char)f[0][0]) ||
            !isalpha((unsigned char)f[0][1])) {
            snprintf(l->err, sizeof l->err, "%s:%d: country '%s' is not an ISO 3166 "
                     "two-letter code", path, line, f[0]);
            return;
        }
        e.country[0] = (char)toupper((unsigned char)f[0][0]);
        e.country[1] = (char)toupper((unsigned char)f[0][1]);
        if ((e.type = parse_type(f[1])) == NULL) {
            snprintf(l->err, sizeof l->err, "%s:%d: type '%s' is not local, tollfree "
                     "or mobile", path, line, f[1]);
            return;
        }
        if (parse_number(f[2], e.number) != 0) {
            snprintf(l->err, sizeof l->err, "%s:%d: '%s' is not a phone number "
                     "(+ and 2 to 20 digits)", path, line, f[2]);
            return;
        }
        if (parse_caps(f[3], &e.caps) != 0) {
            snprintf(l->err, sizeof l->err, "%s:%d: capabilities '%s': use voice, sms, "
                     "mms, fax joined with '+', or all, or none", path, line, f[3]);
            return;
        }
        for (int i = 4; i < nf; i++) {
            if (strlen(f[i]) > 255) {
                snprintf(l->err, sizeof l->err, "%s:%d: field %d is longer than 255 bytes",
                         path, line, i + 1);
                return;
            }
        }
        if (l->n == POOL_MAX_NUMBERS) {
            snprintf(l->err, sizeof l->err, "%s:%d: more than %d numbers", path, line,
                     POOL_MAX_NUMBERS);
            return;
        }
        e.region = nf > 4 ? opt_dup(f[4]) : NULL;
        e.postal = nf > 5 ? opt_dup(f[5]) : NULL;
        e.locality = nf > 6 ? opt_dup(f[6]) : NULL;
        e.name = nf > 7 ? opt_dup(f[7]) : NULL;
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 64;
            l->v = sb_xrealloc(l->v, l->cap * sizeof *l->v);
        }
        l->v[l->n++] = e;
    }
}

static int by_number(const void *a, const void *b)
{
    return strcmp(((const entry_t *)a)->number, ((const entry_t *)b)->number);
}

/* Reads and parses path. A missing file gives *missing = 1 and no
 * error. Runs on the thread pool: no store, no loop. */
static void load_file(const char *path, entries_t *l, int *missing)
{
    *missing = 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        if (errno == ENOENT)
            *missing = 1;
        else
            snprintf(l->err, sizeof l->err, "%s: %s", path, strerror(errno));
        return;
    }
    sb_buf_t b = SB_BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (b.len + n > POOL_MAX_BYTES) {
            snprintf(l->err, sizeof l->err, "%s: larger than %u bytes", path,
                     POOL_MAX_BYTES);
            break;
        }
        sb_buf_append(&b, chunk, n);
    }
    if (ferror(fp) && l->err[0] == '\0')
        snprintf(l->err, sizeof l->err, "%s: read error", path);
    fclose(fp);
    if (l->err[0] == '\0') {
        sb_buf_putc(&b, '\0');
        if (memchr(b.data, '\0', b.len - 1))
            snprintf(l->err, sizeof l->err, "%s: not a text file", path);
        else
            parse_pool(path, b.data, l);
    }
    sb_buf_free(&b);
    /* Sorted by number: duplicates are neighbours, and a reload is a
     * merge of two sorted lists (pool_diff). */
    if (l->err[0] == '\0' && l->n > 1) {
        qsort(l->v, l->n, sizeof *l->v, by_number);
        for (size_t i = 1; i < l->n; i++) {
            if (strcmp(l->v[i - 1].number, l->v[i].number) == 0) {
                const entry_t *a = &l->v[i - 1], *b2 = &l->v[i];
                snprintf(l->err, sizeof l->err, "%s:%d: %s is listed twice (also on "
                         "line %d)", path, a->line > b2->line ? a->line : b2->line,
                         a->number, a->line < b2->line ? a->line : b2->line);
                break;
            }
        }
    }
}

/* One change of a reload: delete the row of del (a number no longer in
 * the file, or changed), then insert put (new or changed). Either may be
 * NULL. Both borrow from the old and new lists. */
typedef struct {
    const char *del;
    const entry_t *put;
    int clear;                  /* delete every row first */
} op_t;

static int insert_entry(sb_store_t *store, const entry_t *e)
{
    char nat[32];
    const char *name = e->name ? e->name
                       : sb__api_number_national(e->number, nat, sizeof nat) ? nat
                                                                            : e->number;
    sb_rows_val_t v[C_COUNT] = {
        [C_NUMBER] = {.set = 1, .s = e->number},
        [C_COUNTRY] = {.set = 1, .s = e->country},
        [C_TYPE] = {.set = 1, .s = e->type},
        [C_NAME] = {.set = 1, .s = name},
        [C_VOICE] = {.set = 1, .i = (e->caps & CAP_VOICE) != 0},
        [C_SMS] = {.set = 1, .i = (e->caps & CAP_SMS) != 0},
        [C_MMS] = {.set = 1, .i = (e->caps & CAP_MMS) != 0},
        [C_FAX] = {.set = 1, .i = (e->caps & CAP_FAX) != 0},
        [C_REGION] = {.set = 1, .null = e->region == NULL, .s = e->region},
        [C_POSTAL] = {.set = 1, .null = e->postal == NULL, .s = e->postal},
        [C_LOCALITY] = {.set = 1, .null = e->locality == NULL, .s = e->locality},
    };
    return sb_rows_insert(store, &pool_table, v);
}

/* Applies ops[0..n) in one transaction. Returns 0 or an error (none of
 * them applied). Loop thread. */
static int apply_ops(sb_store_t *store, const op_t *ops, size_t n, char *err, size_t errlen)
{
    if (sb_store_begin(store) != 0) {
        snprintf(err, errlen, "cannot begin a transaction");
        return SB_ESTORE;
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        if (ops[i].clear) {
            sb_rows_cond_t all = {.col = C_NUMBER, .op = SB_ROWS_NOT_NULL};
            rc = sb_rows_delete(store, &pool_table, &all, 1, NULL);
        }
        if (rc == 0 && ops[i].del) {
            sb_rows_cond_t c = {.col = C_NUMBER, .op = SB_ROWS_EQ, .s = ops[i].del};
            rc = sb_rows_delete(store, &pool_table, &c, 1, NULL);
        }
        if (rc == 0 && ops[i].put)
            rc = insert_entry(store, ops[i].put);
        if (rc != 0)
            snprintf(err, errlen, "cannot write %s: %s",
                     ops[i].put ? ops[i].put->number : ops[i].del ? ops[i].del : "the pool",
                     sb_strerror(rc));
    }
    if (rc == 0 && sb_store_commit(store) != 0) {
        snprintf(err, errlen, "cannot commit");
        rc = SB_ESTORE;
    }
    if (rc != 0)
        sb_store_rollback(store);
    return rc;
}

/* Replaces the whole table with l in one transaction (start-up). */
static int store_pool(sb_store_t *store, const entries_t *l, char *err, size_t errlen)
{
    if (sb_store_begin(store) != 0) {
        snprintf(err, errlen, "cannot begin a transaction");
        return SB_ESTORE;
    }
    sb_rows_cond_t all = {.col = C_NUMBER, .op = SB_ROWS_NOT_NULL};
    int rc = sb_rows_delete(store, &pool_table, &all, 1, NULL);
    for (size_t i = 0; rc == 0 && i < l->n; i++)
        if ((rc = insert_entry(store, &l->v[i])) != 0)
            snprintf(err, errlen, "cannot write %s: %s", l->v[i].number, sb_strerror(rc));
    if (rc == 0 && sb_store_commit(store) != 0) {
        snprintf(err, errlen, "cannot commit");
        rc = SB_ESTORE;
    }
    if (rc != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "cannot empty the pool");
        sb_store_rollback(store);
    }
    return rc;
}

static int entry_same(const entry_t *a, const entry_t *b)
{
#define SAME_STR(x, y) ((x) == NULL ? (y) == NULL : (y) != NULL && strcmp((x), (y)) == 0)
    return strcmp(a->country, b->country) == 0 && a->type == b->type &&
           a->caps == b->caps && SAME_STR(a->region, b->region) &&
           SAME_STR(a->postal, b->postal) && SAME_STR(a->locality, b->locality) &&
           SAME_STR(a->name, b->name);
#undef SAME_STR
}

/* The changes from cur to next (both sorted by number): a merge. With
 * cur unknown (a reload failed half-way), every row is rewritten. */
static op_t *pool_diff(const entries_t *cur, int cur_known, const entries_t *next,
                       size_t *nops)
{
    op_t *ops = NULL;
    size_t n = 0, cap = 0, i = 0, j = 0;
    static const entries_t none = {0};
    if (!cur_known) {
        cur = &none;
        ops = sb_xcalloc(1, sizeof *ops);
        ops[0].clear = 1;
        n = cap = 1;
    }
    while (i < cur->n || j < next->n) {
        op_t op = {0};
        int c = i == cur->n ? 1 : j == next->n ? -1
                                               : strcmp(cur->v[i].number, next->v[j].number);
        if (c < 0) {
            op.del = cur->v[i++].number;
        } else if (c > 0) {
            op.put = &next->v[j++];
        } else {
            if (!entry_same(&cur->v[i], &next->v[j])) {
                op.del = cur->v[i].number;
                op.put = &next->v[j];
            }
            i++;
            j++;
        }
        if (op.del == NULL && op.put == NULL)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            ops = sb_xrealloc(ops, cap * sizeof *ops);
        }
        ops[n++] = op;
    }
    *nops = n;
    return ops;
}

/* ---- the watcher ---------------------------------------------------------- */

/* A reload applies at most this many changes per turn of the loop, each
 * turn in a transaction of its own: about 10 ms, so a large new file never
 * stalls calls and requests (an edit of up to this many numbers is
 * applied at once). */
#define POOL_STEP_OPS 500

struct sb__api_pool_s {
    sb_api_t *api;              /* NULL once closing */
    char *path;
    uv_fs_poll_t poll;
    uv_signal_t hup;
    uv_timer_t step;            /* the next turn of an apply */
    uv_work_t work;
    int open_handles;           /* initialized and not yet closed */
    int poll_open, hup_open, step_open;
    int cur_known;              /* cur matches the table */
    int working;                /* a reload on the thread pool */
    int applying;               /* its changes being written */
    int again;                  /* another change came during it */
    entries_t cur;              /* the pool as written (sorted) */
    entries_t job;              /* the reload's result */
    int job_missing;
    op_t *ops;                  /* job's changes from cur; borrow both */
    size_t nops, done;
};

static void pool_maybe_free(struct sb__api_pool_s *p)
{
    if (p->api == NULL && p->open_handles == 0 && !p->working) {
        free(p->ops);
        entries_free(&p->job);
        entries_free(&p->cur);
        free(p->path);
        free(p);
    }
}

static void reload_start(struct sb__api_pool_s *p);

static void on_reload_work(uv_work_t *w)
{
    struct sb__api_pool_s *p = w->data;
    /* cur is not written while this runs (the loop waits for us). */
    entries_free(&p->job);
    load_file(p->path, &p->job, &p->job_missing);
    if (!p->job_missing && p->job.err[0] == '\0')
        p->ops = pool_diff(&p->cur, p->cur_known, &p->job, &p->nops);
}

/* The end of an apply: the new list becomes the current one. */
static void apply_done(struct sb__api_pool_s *p, int ok, const char *err)
{
    if (ok) {
        sb_info("numbers: pool reloaded: %zu numbers from %s (%zu changes)", p->job.n,
                p->path, p->nops);
        entries_free(&p->cur);
        p->cur = p->job;
        p->cur_known = 1;
        memset(&p->job, 0, sizeof p->job);
    } else {
        sb_error("numbers: pool %s not fully reloaded: %s", p->path, err);
        entries_free(&p->job);
    }
    free(p->ops);
    p->ops = NULL;
    p->nops = p->done = 0;
    p->applying = 0;
    if (p->again && p->api) {
        p->again = 0;
        reload_start(p);
    }
}

static void on_step(uv_timer_t *t);

/* Writes the next POOL_STEP_OPS changes, then comes back on the next turn
 * of the loop (the step timer) until all are written. */
static void apply_step(struct sb__api_pool_s *p)
{
    char err[256];
    do {
        size_t n = p->nops - p->done;
        if (n > POOL_STEP_OPS)
            n = POOL_STEP_OPS;
        if (n > 0 && apply_ops(p->api->store, p->ops + p->done, n, err, sizeof err) != 0) {
            /* The old list no longer describes the table, so forget it:
             * the next reload rewrites every number. */
            entries_free(&p->cur);
            p->cur_known = 0;
            apply_done(p, 0, err);
            return;
        }
        p->done += n;
    } while (p->done < p->nops && !p->step_open);
    /* 1 ms, not 0: a timer started at 0 from its own callback can run
     * again in the same pass of the loop, before any I/O. */
    if (p->done < p->nops)
        uv_timer_start(&p->step, on_step, 1, 0);
    else
        apply_done(p, 1, NULL);
}

static void on_step(uv_timer_t *t)
{
    struct sb__api_pool_s *p = t->data;
    if (p->api == NULL || !p->applying)
        return;
    apply_step(p);
}

static void on_reload_done(uv_work_t *w, int status)
{
    struct sb__api_pool_s *p = w->data;
    p->working = 0;
    if (p->api == NULL || status != 0) {
        pool_maybe_free(p);
        return;
    }
    if (p->job_missing || p->job.err[0]) {
        if (p->job_missing)
            sb_warn("numbers: pool file %s is gone; keeping the numbers loaded", p->path);
        else
            sb_error("numbers: pool not reloaded (the old one stays): %s", p->job.err);
        entries_free(&p->job);
        free(p->ops);
        p->ops = NULL;
        if (p->again) {
            p->again = 0;
            reload_start(p);
        }
        return;
    }
    p->applying = 1;
    p->done = 0;
    apply_step(p);
}

static void reload_start(struct sb__api_pool_s *p)
{
    if (p->working || p->applying) {
        p->again = 1;
        return;
    }
    p->work.data = p;
    if (uv_queue_work(p->api->loop, &p->work, on_reload_work, on_reload_done) == 0)
        p->working = 1;
}

static void on_poll(uv_fs_poll_t *h, int status, const uv_stat_t *prev,
                    const uv_stat_t *curr)
{
    struct sb__api_pool_s *p = h->data;
    (void)prev;
    (void)curr;
    if (status == 0 && p->api)
        reload_start(p);        /* created or changed */
}

static void on_hup(uv_signal_t *h, int signum)
{
    struct sb__api_pool_s *p = h->data;
    (void)signum;
    if (p->api)
        reload_start(p);
}

static void on_handle_closed(uv_handle_t *h)
{
    struct sb__api_pool_s *p = h->data;
    p->open_handles--;
    pool_maybe_free(p);
}

int sb__api_pool_open(sb_api_t *api)
{
    const char *path = api->cfg ? api->cfg->numbers_pool : NULL;
    entries_t l = {0};
    int missing = 0;
    char err[256];
    if (path)
        load_file(path, &l, &missing);
    if (l.err[0]) {
        sb_error("numbers: %s", l.err);
        entries_free(&l);
        return SB_EINVAL;
    }
    if (missing)
        sb_warn("numbers: pool file %s does not exist yet: no numbers for sale until "
                "it does", path);
    /* Without a pool (or with a missing file) the table is emptied, so it
     * never offers numbers the configuration no longer names. */
    if (store_pool(api->store, &l, err, sizeof err) != 0) {
        sb_error("numbers: pool %s: %s", path ? path : "(none)", err);
        entries_free(&l);
        return SB_EINVAL;
    }
    if (path == NULL) {
        entries_free(&l);
        return 0;
    }
    if (!missing)
        sb_info("numbers: pool: %zu numbers from %s", l.n, path);
    struct sb__api_pool_s *p = SB_NEW(struct sb__api_pool_s);
    p->api = api;
    p->path = sb_xstrdup(path);
    p->cur = l;                 /* taken */
    p->cur_known = 1;
    api->pool = p;
    return 0;
}

void sb__api_pool_watch(sb_api_t *api, uv_loop_t *loop)
{
    struct sb__api_pool_s *p = api->pool;
    if (p == NULL || loop == NULL || p->open_handles > 0)
        return;
    p->poll.data = p;
    p->hup.data = p;
    p->step.data = p;
    /* The watchers never keep the loop alive on their own (unref). */
    if (uv_fs_poll_init(loop, &p->poll) == 0) {
        p->open_handles++;
        p->poll_open = 1;
        if (uv_fs_poll_start(&p->poll, on_poll, p->path, POOL_POLL_MS) != 0)
            sb_warn("numbers: cannot watch %s; SIGHUP reloads it", p->path);
        uv_unref((uv_handle_t *)&p->poll);
    }
    if (uv_signal_init(loop, &p->hup) == 0) {
        p->open_handles++;
        p->hup_open = 1;
        uv_signal_start(&p->hup, on_hup, SIGHUP);
        uv_unref((uv_handle_t *)&p->hup);
    }
    if (uv_timer_init(loop, &p->step) == 0) {
        p->open_handles++;
        p->step_open = 1;
    }
}

void sb__api_pool_close(sb_api_t *api)
{
    struct sb__api_pool_s *p = api->pool;
    if (p == NULL)
        return;
    api->pool = NULL;
    p->api = NULL;
    p->applying = 0;
    if (p->poll_open)
        uv_close((uv_handle_t *)&p->poll, on_handle_closed);
    if (p->hup_open)
        uv_close((uv_handle_t *)&p->hup, on_handle_closed);
    if (p->step_open)
        uv_close((uv_handle_t *)&p->step, on_handle_closed);
    p->poll_open = p->hup_open = p->step_open = 0;
    pool_maybe_free(p);
}

/* ---- claiming a number ---------------------------------------------------- */

int sb__api_pool_claim(sb__api_ctx_t *ctx, sb__api_edit_t *e)
{
    if (ctx->api->pool == NULL)
        return 0;               /* no pool: numbers are made locally */
    const char *number = sb__api_edit_get(e, "phone_number")->s;
    sb_rows_cond_t c[2] = {
        {.col = C_NUMBER, .op = SB_ROWS_EQ, .s = number},
        {.col = C_TAKEN, .op = SB_ROWS_EQ, .i = 0},
    };
    sb_row_t row;
    int rc = sb_rows_get(ctx->api->store, &pool_table, c, 2, &row);
    if (rc == SB_ENOENT) {
        /* Restcomm's answer to a number its provider cannot sell. */
        if (ctx->json == SB__API_JSON_TWILIO) {
            sb__api_error_code(ctx, 400, 21452, "%s is not an available phone number",
                               number);
        } else {
            static const char body[] = "21452";
            sb__api_send_raw(ctx, 400, "text/plain", body, sizeof body - 1);
        }
        return 1;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    /* What the request left unsaid comes from the pool. */
    static const struct {
        int col;
        const char *field, *column;
    } caps[] = {
        {C_VOICE, "VoiceCapable", "voice_capable"},
        {C_SMS, "SmsCapable", "sms_capable"},
        {C_MMS, "MmsCapable", "mms_capable"},
        {C_FAX, "FaxCapable", "fax_capable"},
    };
    for (size_t i = 0; i < SB_COUNTOF(caps); i++)
        if (sb__api_param(ctx, caps[i].field) == NULL)
            sb__api_edit_int(e, caps[i].column, row.v[caps[i].col].i);
    if (ctx->sub == NULL)
        sb__api_edit_text(e, "number_type", row.v[C_TYPE].s);
    if (sb__api_param(ctx, "FriendlyName") == NULL)
        sb__api_edit_text(e, "friendly_name", row.v[C_NAME].s);
    sb_row_free(&row);
    return 0;
}

