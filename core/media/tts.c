/*
 * tts.c: text-to-speech with espeak-ng. Owns the one thread that talks to
 * espeak-ng (its state is global, so one synthesizer per process), the
 * queue of texts waiting for it, and a memory cache of finished prompts
 * keyed by (espeak voice, text), bounded by bytes with LRU eviction.
 *
 * A key is an entry: PENDING while queued or being synthesized (requests
 * for it wait on the entry: single flight) and READY once its audio is
 * known. The thread synthesizes in AUDIO_OUTPUT_SYNCHRONOUS mode,
 * resamples 22050 -> 8000 Hz (sb_media_audio_from_pcm) and posts the entry
 * back with a uv_async_t; every completion, also cache hits and
 * cancellations, is delivered from that async callback, so no callback runs
 * inside the call that started it. Everything but the queue and the done
 * list belongs to the loop thread. SSML is not interpreted.
 */
#include "media.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <espeak-ng/speak_lib.h>

#include "util.h"

#define CACHE_BYTES_DEFAULT (64u * 1024 * 1024)
#define MAX_CHARS_DEFAULT 4096
#define SYNTH_MAX_SECONDS 3600  /* what sb_media_audio_from_pcm accepts */

typedef enum { ENTRY_PENDING, ENTRY_READY } entry_state_t;

typedef struct entry_s entry_t;

struct sb_media_tts_req_s {
    sb_media_tts_t *tts;
    entry_t *entry;             /* waiting on it; NULL once ready */
    sb_media_tts_req_t *prev, *next;  /* entry's waiters or tts's ready */
    sb_media_tts_done_cb cb;
    void *arg;
    int flags;
    int status;
    sb_media_audio_t *audio;    /* one reference, when status is 0 */
};

/* Owner: the tts (its table). The thread borrows a PENDING entry from
 * dequeue to its post on the done list; meanwhile the loop reads nothing
 * the thread writes (status, audio) and never frees it. */
struct entry_s {
    entry_t *hnext;             /* hash chain */
    entry_t *lru_prev, *lru_next;  /* READY entries, most recent first */
    entry_t *qnext;             /* the thread's queue or the done list */
    uint64_t hash;
    entry_state_t state;
    char *voice;                /* espeak voice name */
    char *text;
    size_t textlen;
    sb_media_audio_t *audio;    /* READY: one reference */
    int status;                 /* the thread's result */
    size_t bytes;               /* accounted while READY */
    sb_media_tts_req_t *waiters, *waiters_tail;  /* in request order */
};

struct sb_media_tts_s {
    uv_loop_t *loop;
    uv_async_t async;
    uv_thread_t thread;
    size_t cache_bytes, max_chars;
    char *data_path;

    /* Shared with the thread, under mu. */
    uv_mutex_t mu;
    uv_cond_t cv;
    entry_t *queue_head, *queue_tail;
    entry_t *done_head, *done_tail;
    int stop;
    int init_done, init_status;
    int rate;                   /* espeak's sample rate */

    /* Loop thread only. */
    entry_t **buckets;
    size_t nbuckets, nentries;
    entry_t *lru_head, *lru_tail;
    size_t bytes;
    sb_media_tts_req_t *ready_head, *ready_tail;
    int closing;
    int thread_live;
    size_t outstanding;         /* requests whose cb has not run */
    sb_media_tts_closed_cb closed_cb;
    void *closed_arg;
    sb_media_tts_stats_t stats;
};

/* espeak-ng keeps global state: one live synthesizer per process. */
static int tts_live;

/* ---- voices -------------------------------------------------------------- */

typedef struct lang_map_s {
    const char *lang;           /* lowercase BCP 47 tag or primary subtag */
    const char *voice;          /* espeak-ng voice name */
} lang_map_t;

/* Exact tags first are not needed: lookup tries the whole tag, then its
 * primary subtag. Every voice here exists in espeak-ng-data 1.51. */
static const lang_map_t langs[] = {
    {"en", "en-us"}, {"en-us", "en-us"}, {"en-ca", "en-us"},
    {"en-gb", "en-gb-x-rp"}, {"en-uk", "en-gb-x-rp"}, {"en-au", "gmw/en"},
    {"en-nz", "gmw/en"}, {"en-ie", "gmw/en"}, {"en-in", "gmw/en"},
    {"en-za", "gmw/en"}, {"en-029", "en-029"}, {"en-jm", "en-029"},
    {"en-tt", "en-029"}, {"en-gb-scotland", "en-gb-scotland"},
    {"en-gb-wls", "gmw/en"},
    {"es", "es"}, {"es-es", "es"}, {"es-mx", "es-419"}, {"es-us", "es-419"},
    {"es-419", "es-419"}, {"es-ar", "es-419"}, {"es-co", "es-419"},
    {"es-cl", "es-419"}, {"es-pe", "es-419"}, {"es-ve", "es-419"},
    {"fr", "fr"}, {"fr-fr", "fr"}, {"fr-ca", "fr"},
    {"fr-be", "fr-be"}, {"fr-ch", "fr-ch"},
    {"de", "de"}, {"it", "it"}, {"pt", "pt"}, {"pt-pt", "pt"},
    {"pt-br", "pt-br"}, {"nl", "nl"}, {"ru", "ru"}, {"ja", "ja"},
    {"zh", "cmn"}, {"zh-cn", "cmn"}, {"zh-tw", "cmn"}, {"cmn", "cmn"},
    {"zh-hk", "yue"}, {"yue", "yue"}, {"ko", "ko"}, {"pl", "pl"},
    {"sv", "sv"}, {"da", "da"}, {"nb", "nb"}, {"no", "nb"}, {"nn", "nb"},
    {"fi", "fi"}, {"tr", "tr"}, {"cs", "cs"}, {"el", "el"}, {"hu", "hu"},
    {"ro", "ro"}, {"uk", "uk"}, {"ar", "ar"}, {"he", "he"}, {"iw", "he"},
    {"hi", "hi"}, {"id", "id"}, {"vi", "vi"}, {"th", "th"}, {"ca", "ca"},
    {"sk", "sk"}, {"bg", "bg"}, {"hr", "hr"}, {"sr", "sr"}, {"sl", "sl"},
    {"et", "et"}, {"lv", "lv"}, {"lt", "lt"}, {"is", "is"}, {"ga", "ga"},
    {"cy", "cy"}, {"ms", "ms"}, {"ta", "ta"}, {"te", "te"}, {"bn", "bn"},
    {"af", "af"}, {"sq", "sq"}, {"eu", "eu"}, {"fa", "fa"}, {"ka", "ka"},
    {"mk", "mk"}, {"sw", "sw"}, {"ur", "ur"}, {"mt", "mt"}, {"gu", "gu"},
    {"kn", "kn"}, {"ml", "ml"}, {"mr", "mr"}, {"pa", "pa"}, {"ne", "ne"},
    {"hy", "hy"}, {"az", "az"}, {"kk", "kk"}, {"eo", "eo"},
    {"la", "la"},
};

/* Amazon Polly voices (Twilio's "Polly.<Name>") that are female. */
static const char *const polly_female[] = {
    "Joanna", "Salli", "Kendra", "Kimberly", "Ivy", "Ruth", "Danielle",
    "Amy", "Emma", "Nicole", "Olivia", "Raveena", "Aditi", "Kajal", "Aria",
    "Ayanda", "Niamh", "Celine", "Lea", "Chantal", "Gabrielle", "Marlene",
    "Vicki", "Conchita", "Lucia", "Penelope", "Lupe", "Mia", "Carla",
    "Bianca", "Camila", "Vitoria", "Ines", "Tatyana", "Mizuki", "Zhiyu",
    "Seoyeon", "Astrid", "Liv", "Naja", "Lotte", "Ewa", "Maja", "Carmen",
    "Filiz", "Gwyneth", "Dora", "Hannah", "Elin", "Ida", "Suvi", "Laura",
    "Hiujin", "Kazuha", "Tomoko", "Sofie", "Isabelle",
};

static int voice_is_woman(const char *voice)
{
    if (voice == NULL)
        return 0;
    if (strcasecmp(voice, "woman") == 0 || strcasecmp(voice, "alice") == 0
        || strcasecmp(voice, "female") == 0)
        return 1;
    if (strncasecmp(voice, "Polly.", 6) == 0) {
        const char *name = voice + 6;
        size_t n = strcspn(name, "-.");    /* "Polly.Joanna-Neural" */
        for (size_t i = 0; i < sizeof polly_female / sizeof *polly_female;
             i++)
            if (strlen(polly_female[i]) == n
                && strncasecmp(polly_female[i], name, n) == 0)
                return 1;
    }
    return 0;
}

static const char *lang_lookup(const char *tag)
{
    for (size_t i = 0; i < sizeof langs / sizeof *langs; i++)
        if (strcmp(langs[i].lang, tag) == 0)
            return langs[i].voice;
    return NULL;
}

int sb_media_tts_voice(const char *voice, const char *language, char *out,
                       size_t outlen)
{
    char tag[32];
    const char *name = NULL;
    int known = 1;
    if (language == NULL || language[0] == '\0')
        language = "en";
    size_t n = strlen(language);
    if (n < sizeof tag) {
        for (size_t i = 0; i <= n; i++) {
            char c = language[i];
            tag[i] = c == '_' ? '-' : (char)tolower((unsigned char)c);
        }
        name = lang_lookup(tag);
        if (name == NULL) {
            char *dash = strchr(tag, '-');
            if (dash != NULL) {
                *dash = '\0';
                name = lang_lookup(tag);
            }
        }
    }
    if (name == NULL) {
        name = "en-us";
        known = 0;
    }
    if (out != NULL && outlen > 0)
        snprintf(out, outlen, "%s%s", name, voice_is_woman(voice) ? "+f2" : "");
    return known;
}

/* ---- the synthesis thread ----------------------------------------------- */

typedef struct pcmbuf_s {
    int16_t *p;
    size_t n, cap, max;
    int overflow;
} pcmbuf_t;

static int on_samples(short *wav, int numsamples, espeak_EVENT *events)
{
    pcmbuf_t *b = events != NULL ? events->user_data : NULL;
    if (b == NULL || wav == NULL || numsamples <= 0)
        return 0;
    size_t k = (size_t)numsamples;
    if (b->n + k > b->max) {
        b->overflow = 1;
        return 1;               /* abort the synthesis */
    }
    if (b->n + k > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16384;
        while (cap < b->n + k)
            cap *= 2;
        b->p = sb_xrealloc(b->p, cap * sizeof *b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->n, wav, k * sizeof *wav);
    b->n += k;
    return 0;
}

/* Runs on the thread: fills e->status and e->audio. current is the voice
 * espeak has loaded (loading one reads its dictionary). */
static void synthesize(sb_media_tts_t *tts, entry_t *e, char *current,
                       size_t curlen)
{
    e->status = SB_EMEDIA;
    e->audio = NULL;
    if (strcmp(current, e->voice) != 0) {
        current[0] = '\0';
        if (espeak_SetVoiceByName(e->voice) != EE_OK)
            return;
        snprintf(current, curlen, "%s", e->voice);
    }
    pcmbuf_t b = {0};
    b.max = (size_t)SYNTH_MAX_SECONDS * (size_t)tts->rate;
    espeak_ERROR err = espeak_Synth(e->text, e->textlen + 1, 0, POS_CHARACTER,
                                    0, espeakCHARS_UTF8, NULL, &b);
    if (err == EE_OK && !b.overflow && b.n > 0) {
        int rc = sb_media_audio_from_pcm(b.p, b.n, (unsigned)tts->rate,
                                         &e->audio);
        e->status = rc == 0 ? 0 : SB_EMEDIA;
    } else if (b.overflow) {
        e->status = SB_ETOOBIG;
    }
    free(b.p);
}

/* espeak-ng 1.51 cannot start again after espeak_Terminate (its fifo
 * thread's flags survive and the second terminate waits forever), so the
 * engine is started once per process and kept: later synthesizers reuse
 * it, and must ask for the same data. Its memory stays reachable from its
 * globals until exit. Guarded by engine_mu (and used by one thread at a
 * time anyway: tts_live). */
static pthread_mutex_t engine_mu = PTHREAD_MUTEX_INITIALIZER;
static int engine_rate;         /* > 0 once started */
static char *engine_path;       /* the data it was started with */

/* espeak-ng quietly falls back to its default data when path holds none;
 * a path that was asked for must be used. */
static int data_present(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/espeak-ng-data/phontab", path);
    if (access(buf, R_OK) == 0)
        return 1;
    snprintf(buf, sizeof buf, "%s/phontab", path);
    return access(buf, R_OK) == 0;
}

static int engine_start(const char *path)
{
    pthread_mutex_lock(&engine_mu);
    int rate = engine_rate;
    if (rate > 0) {
        int same = (path == NULL && engine_path == NULL)
                   || (path != NULL && engine_path != NULL
                       && strcmp(path, engine_path) == 0);
        if (!same)
            rate = 0;
    } else if (path != NULL && !data_present(path)) {
        rate = 0;
    } else {
        rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, path,
                                 espeakINITIALIZE_DONT_EXIT);
        /* A missing data directory still reports a rate; loading a voice
         * tells. */
        if (rate > 0 && espeak_SetVoiceByName("en-us") != EE_OK)
            rate = 0;
        if (rate > 0) {
            engine_rate = rate;
            engine_path = path != NULL ? sb_xstrdup(path) : NULL;
        }
    }
    pthread_mutex_unlock(&engine_mu);
    return rate;
}

static void thread_main(void *arg)
{
    sb_media_tts_t *tts = arg;
    char current[64] = "";
    int rate = engine_start(tts->data_path);
    int ok = rate > 0;
    if (ok) {
        espeak_SetSynthCallback(on_samples);
        ok = espeak_SetVoiceByName("en-us") == EE_OK;
        if (ok)
            snprintf(current, sizeof current, "en-us");
    }
    uv_mutex_lock(&tts->mu);
    tts->rate = rate;
    tts->init_status = ok ? 0 : SB_EMEDIA;
    tts->init_done = 1;
    uv_cond_broadcast(&tts->cv);
    uv_mutex_unlock(&tts->mu);
    if (!ok)
        return;
    for (;;) {
        uv_mutex_lock(&tts->mu);
        while (!tts->stop && tts->queue_head == NULL)
            uv_cond_wait(&tts->cv, &tts->mu);
        if (tts->stop) {
            uv_mutex_unlock(&tts->mu);
            break;
        }
        entry_t *e = tts->queue_head;
        tts->queue_head = e->qnext;
        if (tts->queue_head == NULL)
            tts->queue_tail = NULL;
        e->qnext = NULL;
        uv_mutex_unlock(&tts->mu);

        synthesize(tts, e, current, sizeof current);

        uv_mutex_lock(&tts->mu);
        if (tts->done_tail != NULL)
            tts->done_tail->qnext = e;
        else
            tts->done_head = e;
        tts->done_tail = e;
        uv_mutex_unlock(&tts->mu);
        uv_async_send(&tts->async);
    }
}

/* ---- the table (loop thread) -------------------------------------------- */

static uint64_t key_hash(const char *voice, const char *text, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (const char *p = voice; *p != '\0'; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ull;
    h = (h ^ 0xFF) * 1099511628211ull;   /* separator no name contains */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)text[i]) * 1099511628211ull;
    return h;
}

static entry_t *table_find(sb_media_tts_t *tts, uint64_t h, const char *voice,
                           const char *text, size_t len)
{
    for (entry_t *e = tts->buckets[h & (tts->nbuckets - 1)]; e != NULL;
         e = e->hnext)
        if (e->hash == h && e->textlen == len && strcmp(e->voice, voice) == 0
            && memcmp(e->text, text, len) == 0)
            return e;
    return NULL;
}

static void table_insert(sb_media_tts_t *tts, entry_t *e)
{
    if (tts->nentries + 1 > tts->nbuckets) {
        size_t nb = tts->nbuckets * 2;
        entry_t **b = sb_xcalloc(nb, sizeof *b);
        for (size_t i = 0; i < tts->nbuckets; i++) {
            entry_t *x = tts->buckets[i];
            while (x != NULL) {
                entry_t *next = x->hnext;
                x->hnext = b[x->hash & (nb - 1)];
                b[x->hash & (nb - 1)] = x;
                x = next;
            }
        }
        free(tts->buckets);
        tts->buckets = b;
        tts->nbuckets = nb;
    }
    entry_t **slot = &tts->buckets[e->hash & (tts->nbuckets - 1)];
    e->hnext = *slot;
    *slot = e;
    tts->nentries++;
}

static void table_remove(sb_media_tts_t *tts, entry_t *e)
{
    entry_t **pp = &tts->buckets[e->hash & (tts->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    tts->nentries--;
}

static void lru_unlink(sb_media_tts_t *tts, entry_t *e)
{
    if (e->lru_prev != NULL)
        e->lru_prev->lru_next = e->lru_next;
    else
        tts->lru_head = e->lru_next;
    if (e->lru_next != NULL)
        e->lru_next->lru_prev = e->lru_prev;
    else
        tts->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(sb_media_tts_t *tts, entry_t *e)
{
    e->lru_prev = NULL;
    e->lru_next = tts->lru_head;
    if (tts->lru_head != NULL)
        tts->lru_head->lru_prev = e;
    else
        tts->lru_tail = e;
    tts->lru_head = e;
}

static void entry_free(entry_t *e)
{
    sb_media_audio_unref(e->audio);
    free(e->voice);
    free(e->text);
    free(e);
}

/* Drops a READY entry from the cache. */
static void entry_evict(sb_media_tts_t *tts, entry_t *e)
{
    lru_unlink(tts, e);
    table_remove(tts, e);
    tts->bytes -= e->bytes;
    tts->stats.evictions++;
    entry_free(e);
}

/* ---- requests ------------------------------------------------------------- */

static void ready_push(sb_media_tts_t *tts, sb_media_tts_req_t *r)
{
    r->entry = NULL;
    r->next = NULL;
    r->prev = tts->ready_tail;
    if (tts->ready_tail != NULL)
        tts->ready_tail->next = r;
    else
        tts->ready_head = r;
    tts->ready_tail = r;
    uv_async_send(&tts->async);
}

static void waiter_unlink(entry_t *e, sb_media_tts_req_t *r)
{
    if (r->prev != NULL)
        r->prev->next = r->next;
    else
        e->waiters = r->next;
    if (r->next != NULL)
        r->next->prev = r->prev;
    else
        e->waiters_tail = r->prev;
    r->prev = r->next = NULL;
}

/* Completes every waiter of e with status (and a reference to audio). */
static void entry_finish_waiters(sb_media_tts_t *tts, entry_t *e, int status,
                                 sb_media_audio_t *audio)
{
    while (e->waiters != NULL) {
        sb_media_tts_req_t *r = e->waiters;
        waiter_unlink(e, r);
        r->status = status;
        r->audio = status == 0 ? sb_media_audio_ref(audio) : NULL;
        ready_push(tts, r);
    }
}

/* Takes the thread's finished entries: caches the successes, fails the
 * waiters of the others. */
static void take_done(sb_media_tts_t *tts)
{
    uv_mutex_lock(&tts->mu);
    entry_t *e = tts->done_head;
    tts->done_head = tts->done_tail = NULL;
    uv_mutex_unlock(&tts->mu);
    while (e != NULL) {
        entry_t *next = e->qnext;
        e->qnext = NULL;
        if (e->status == 0) {
            e->state = ENTRY_READY;
            e->bytes = e->audio->bytes + sizeof *e + strlen(e->voice)
                       + e->textlen + 2;
            tts->bytes += e->bytes;
            lru_push_front(tts, e);
            entry_finish_waiters(tts, e, 0, e->audio);
            /* The newest entry goes last, even when it alone is too big:
             * its waiters hold their own references. */
            while (tts->bytes > tts->cache_bytes && tts->lru_tail != NULL)
                entry_evict(tts, tts->lru_tail);
        } else {
            tts->stats.failures++;
            entry_finish_waiters(tts, e, e->status, NULL);
            table_remove(tts, e);
            entry_free(e);
        }
        e = next;
    }
}

static void on_closed(uv_handle_t *h)
{
    sb_media_tts_t *tts = h->data;
    sb_media_tts_closed_cb cb = tts->closed_cb;
    void *arg = tts->closed_arg;
    free(tts->buckets);
    free(tts->data_path);
    uv_mutex_destroy(&tts->mu);
    uv_cond_destroy(&tts->cv);
    free(tts);
    if (cb != NULL)
        cb(arg);
}

static void on_async(uv_async_t *h)
{
    sb_media_tts_t *tts = h->data;
    if (!tts->closing)
        take_done(tts);
    /* Callbacks may synth, cancel or close: take one request at a time. */
    while (tts->ready_head != NULL) {
        sb_media_tts_req_t *r = tts->ready_head;
        tts->ready_head = r->next;
        if (tts->ready_head != NULL)
            tts->ready_head->prev = NULL;
        else
            tts->ready_tail = NULL;
        sb_media_tts_done_cb cb = r->cb;
        void *arg = r->arg;
        int status = r->status, flags = r->flags;
        sb_media_audio_t *audio = r->audio;
        free(r);
        /* The handle keeps the loop alive only while a request is owed a
         * callback. */
        if (--tts->outstanding == 0 && !tts->closing)
            uv_unref((uv_handle_t *)&tts->async);
        if (cb != NULL)
            cb(status, audio, flags, arg);
        else
            sb_media_audio_unref(audio);
    }
    if (tts->closing && !uv_is_closing((uv_handle_t *)&tts->async))
        uv_close((uv_handle_t *)&tts->async, on_closed);
}

/* ---- public ------------------------------------------------------------------- */

/* Stops the thread and waits for it (at most the synthesis under way). */
static void thread_stop(sb_media_tts_t *tts)
{
    if (!tts->thread_live)
        return;
    uv_mutex_lock(&tts->mu);
    tts->stop = 1;
    uv_cond_broadcast(&tts->cv);
    uv_mutex_unlock(&tts->mu);
    uv_thread_join(&tts->thread);
    tts->thread_live = 0;
    __atomic_store_n(&tts_live, 0, __ATOMIC_RELEASE);
}

int sb_media_tts_new(uv_loop_t *loop, const sb_media_tts_opts_t *opts,
                     sb_media_tts_t **out)
{
    int expected = 0;
    if (!__atomic_compare_exchange_n(&tts_live, &expected, 1, 0,
                                     __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        return SB_EBUSY;
    sb_media_tts_t *tts = SB_NEW(sb_media_tts_t);
    tts->loop = loop;
    tts->cache_bytes = opts != NULL && opts->cache_bytes > 0
                       ? opts->cache_bytes : CACHE_BYTES_DEFAULT;
    tts->max_chars = opts != NULL && opts->max_chars > 0 ? opts->max_chars
                                                         : MAX_CHARS_DEFAULT;
    if (opts != NULL && opts->data_path != NULL)
        tts->data_path = sb_xstrdup(opts->data_path);
    if (uv_mutex_init(&tts->mu) != 0 || uv_cond_init(&tts->cv) != 0)
        abort();

    /* The thread posts results only for jobs, and there are none before
     * this returns: the async handle can come after it has started. */
    int rc = uv_thread_create(&tts->thread, thread_main, tts);
    if (rc == 0) {
        uv_mutex_lock(&tts->mu);
        while (!tts->init_done)
            uv_cond_wait(&tts->cv, &tts->mu);
        rc = tts->init_status;
        uv_mutex_unlock(&tts->mu);
        tts->thread_live = 1;
        if (rc == 0)
            rc = uv_async_init(loop, &tts->async, on_async);
        if (rc != 0)
            thread_stop(tts);   /* joins; the thread may already be gone */
    } else {
        rc = SB_EMEDIA;
        __atomic_store_n(&tts_live, 0, __ATOMIC_RELEASE);
    }
    if (rc != 0) {
        uv_mutex_destroy(&tts->mu);
        uv_cond_destroy(&tts->cv);
        free(tts->data_path);
        free(tts);
        return rc;
    }
    tts->async.data = tts;
    uv_unref((uv_handle_t *)&tts->async);
    tts->nbuckets = 64;
    tts->buckets = sb_xcalloc(tts->nbuckets, sizeof *tts->buckets);
    *out = tts;
    return 0;
}

/* Counts code points of UTF-8 text up to limit + 1; tells whether any is
 * not white space. */
static size_t text_chars(const char *text, size_t limit, int *blank)
{
    size_t n = 0;
    *blank = 1;
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0';
         p++) {
        if ((*p & 0xC0) != 0x80 && ++n > limit)
            break;
        if (*p >= 0x80 || !isspace(*p))
            *blank = 0;
    }
    return n;
}

int sb_media_tts_synth(sb_media_tts_t *tts, const char *text,
                       const char *voice, const char *language,
                       sb_media_tts_done_cb cb, void *arg,
                       sb_media_tts_req_t **req)
{
    if (tts == NULL)
        return SB_EINVAL;
    if (tts->closing)
        return SB_ESTATE;
    if (text == NULL)
        return SB_EINVAL;
    int blank;
    size_t chars = text_chars(text, tts->max_chars, &blank);
    if (chars > tts->max_chars)
        return SB_ETOOBIG;
    if (blank)
        return SB_EINVAL;

    char name[64];
    int known = sb_media_tts_voice(voice, language, name, sizeof name);
    sb_media_tts_req_t *r = SB_NEW(sb_media_tts_req_t);
    r->tts = tts;
    r->cb = cb;
    r->arg = arg;
    r->flags = known ? 0 : SB_MEDIA_TTS_LANG_FALLBACK;
    tts->stats.requests++;
    if (tts->outstanding++ == 0)
        uv_ref((uv_handle_t *)&tts->async);

    size_t len = strlen(text);
    uint64_t h = key_hash(name, text, len);
    entry_t *e = table_find(tts, h, name, text, len);
    if (e != NULL && e->state == ENTRY_READY) {
        tts->stats.hits++;
        lru_unlink(tts, e);
        lru_push_front(tts, e);
        r->status = 0;
        r->audio = sb_media_audio_ref(e->audio);
        ready_push(tts, r);
    } else {
        if (e != NULL) {
            tts->stats.joined++;
        } else {
            tts->stats.syntheses++;
            e = SB_NEW(entry_t);
            e->hash = h;
            e->state = ENTRY_PENDING;
            e->voice = sb_xstrdup(name);
            e->text = sb_xstrndup(text, len);
            e->textlen = len;
            table_insert(tts, e);
            uv_mutex_lock(&tts->mu);
            if (tts->queue_tail != NULL)
                tts->queue_tail->qnext = e;
            else
                tts->queue_head = e;
            tts->queue_tail = e;
            uv_cond_signal(&tts->cv);
            uv_mutex_unlock(&tts->mu);
        }
        r->entry = e;
        r->next = NULL;
        r->prev = e->waiters_tail;
        if (e->waiters_tail != NULL)
            e->waiters_tail->next = r;
        else
            e->waiters = r;
        e->waiters_tail = r;
    }
    if (req != NULL)
        *req = r;
    return 0;
}

void sb_media_tts_cancel(sb_media_tts_req_t *req)
{
    if (req == NULL || req->status == SB_ECANCELED)
        return;
    sb_media_tts_t *tts = req->tts;
    if (req->entry != NULL) {
        /* The synthesis goes on: its result is cached for the next one. */
        waiter_unlink(req->entry, req);
        req->status = SB_ECANCELED;
        ready_push(tts, req);
        return;
    }
    /* Already in the ready list (a hit, or finished): keep its place. */
    sb_media_audio_unref(req->audio);
    req->audio = NULL;
    req->status = SB_ECANCELED;
}

void sb_media_tts_stats(const sb_media_tts_t *tts, sb_media_tts_stats_t *out)
{
    *out = tts->stats;
    out->entries = 0;
    for (const entry_t *e = tts->lru_head; e != NULL; e = e->lru_next)
        out->entries++;
    out->bytes = tts->bytes;
}

void sb_media_tts_close(sb_media_tts_t *tts, sb_media_tts_closed_cb cb,
                        void *arg)
{
    if (tts->closing)
        return;
    tts->closing = 1;
    tts->closed_cb = cb;
    tts->closed_arg = arg;
    thread_stop(tts);
    /* The loop now owns every entry, queued, finished or cached. */
    tts->queue_head = tts->queue_tail = NULL;
    tts->done_head = tts->done_tail = NULL;
    for (sb_media_tts_req_t *r = tts->ready_head; r != NULL; r = r->next) {
        sb_media_audio_unref(r->audio);
        r->audio = NULL;
        r->status = SB_ECANCELED;
    }
    for (size_t i = 0; i < tts->nbuckets; i++) {
        entry_t *e = tts->buckets[i];
        while (e != NULL) {
            entry_t *next = e->hnext;
            entry_finish_waiters(tts, e, SB_ECANCELED, NULL);
            entry_free(e);
            e = next;
        }
        tts->buckets[i] = NULL;
    }
    tts->nentries = 0;
    tts->lru_head = tts->lru_tail = NULL;
    tts->bytes = 0;
    /* The callbacks and the close run from on_async. */
    uv_ref((uv_handle_t *)&tts->async);
    uv_async_send(&tts->async);
}
