/*
 * asr.c: speech recognition for <Gather input="speech"> with pocketsphinx
 * (Debian's 0.8+5prealpha). Owns the recognizer's decoder threads, the
 * pronunciation dictionary (loaded once), each session's audio and its
 * speech detector, and the grammar made of a Gather's hints. Entry points
 * are in asr.h; nothing outside this file sees pocketsphinx.
 *
 * A session listens first: feed appends the 8 kHz audio to the session's
 * ring and runs an energy detector on each 20 ms (on_speech at the onset;
 * the utterance ends after end_silence_ms of non-speech). Only then is the
 * utterance queued for a decoder, which decodes it in one pass, batch
 * mode, after upsampling it to 16 kHz. Why so:
 *  - one pass over the whole utterance gets batch cepstral mean
 *    normalization, as the model was trained. Streaming decoding has to
 *    start each utterance from a mean carried over from earlier callers
 *    (results then depend on who spoke before) or from the model's
 *    initial mean, which failed on loud audio (29/48 against 42/48 for
 *    batch, espeak-ng voices). Decoding costs about 1.5% of real time, so
 *    a 3 s utterance adds ~50 ms after its end. The price: no partial
 *    hypotheses (on_partial is never called).
 *  - a decoder is busy only while it decodes, not for the whole Gather,
 *    so max_concurrent decoders serve many Gathers at once; a burst waits
 *    in a FIFO of finished utterances, in order.
 *  - 16 kHz: the en-us model is a 16 kHz model. Fed 8 kHz audio with
 *    -samprate 8000 -nfft 256 its filterbank no longer matches the
 *    model's, and 3/90 test utterances were right against 52/90
 *    upsampled. The empty band above 4 kHz still mismatches; adding
 *    white noise of +-32 after upsampling brought 52/90 to 79/90.
 * Dedicated threads rather than libuv's pool: a decoder holds ~8 MB and
 * its grammar, so each thread keeps one and reuses it (switching grammar
 * only when the hints differ), and decodes of 20 ms to 0.5 s do not hold
 * back the pool's file and TTS work. Decoders start with no words (only
 * the model's fillers: 5 MB instead of 28 MB with the whole dictionary)
 * and take each session's words from the recognizer's one copy of the
 * dictionary as they need them.
 *
 * Left out: partial results, free dictation without hints (en-us.lm is
 * 27 MB and poor on the phone), languages other than English, rejection
 * of speech outside the grammar beyond pocketsphinx's own (a match on
 * out-of-grammar speech is common: see confidence).
 */
#include "asr.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>

#include <pocketsphinx.h>
#include <sphinxbase/ckd_alloc.h>
#include <sphinxbase/err.h>
#include <sphinxbase/jsgf.h>
#include <speex/speex_resampler.h>

#include "util.h"

#define MAX_CONCURRENT_DEFAULT 2
#define MAX_CONCURRENT_LIMIT 64
#define MAX_BUFFER_MS_DEFAULT 30000
#define MAX_BUFFER_MS_LIMIT 600000
#define HINTS_MAX_BYTES 16384
#define HINTS_MAX_PHRASES 500
#define PHRASE_MAX_WORDS 32
#define UNKNOWN_MAX 512
#define DICT_MAX_BYTES (64u * 1024 * 1024)
#define DECODER_MAX_WORDS 20000 /* added words before a decoder is renewed */

/* The speech detector works on 20 ms frames of 8 kHz audio, with the
 * recorder's rule (listen.c): speech is energy 12 dB over an adaptive
 * noise floor (falls at once, rises 3 dB/s) and over -55 dBFS. Three
 * frames in a row make an onset, so a click does not barge in. */
#define FRAME 160
#define VAD_MARGIN_DB 12.0
#define VAD_MIN_DB (-55.0)
#define VAD_FLOOR_MIN_DB (-70.0)
#define VAD_RISE_DB (3.0 * FRAME / 8000.0)
#define VAD_ONSET_FRAMES 3
#define PREROLL_MS 300          /* audio decoded before the onset */
#define TAIL_MS 400             /* and after the last speech frame */
#define NOISE_AMPL 32           /* white noise added at 16 kHz */

/* Confidence: logistic of the best path's acoustic score per frame.
 * Measured on espeak-ng voices: right matches -14..-35, matches forced
 * on out-of-grammar speech -20..-47. */
#define CONF_CENTER (-32.0)
#define CONF_SCALE 4.0

/* ---- the grammar -------------------------------------------------------- */

/* One hint phrase as the grammar knows it. A word "zero|oh" stands for a
 * digit 0 of a number, which may be said either way. */
typedef struct phrase_s {
    char *display;              /* what a match reports */
    char **words;
    int nwords;
} phrase_t;

/* Built on the loop at start; immutable after, so decoder threads read it
 * without a lock. Owner: its session. */
typedef struct grammar_s {
    char *jsgf;
    char **words;               /* distinct dictionary words it uses */
    size_t nwords;
    phrase_t *phrases;
    size_t nphrases;
    int digits;                 /* $OOV_CLASS_DIGIT_SEQUENCE */
    char *unknown;              /* ", "-joined, "" when none */
} grammar_t;

static const char *const digit_words[10] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
    "nine",
};

/* ---- the recognizer and its sessions ------------------------------------ */

typedef enum {
    SESS_LISTENING,             /* feed appends and detects */
    SESS_QUEUED,                /* the utterance waits for a decoder */
    SESS_DECODING,              /* a decoder thread has it */
    SESS_DONE                   /* result known; delivery pending or made */
} sess_state_t;

#define NOTE_SPEECH 1u
#define NOTE_DONE 2u

/* Owner: shared by three references, dropped by whoever holds them: the
 * caller's (sb_media_asr_unref), the recognizer's (until on_result
 * returns) and the decoder queue's (from queueing until a decoder thread
 * or cancel is done with it). The last one frees it, on any thread. */
struct sb_media_asr_sess_s {
    sb_media_asr_t *asr;        /* used only while LISTENING, or on its
                                   lists (the recognizer outlives both) */
    int refs;                   /* atomic */
    sb_media_asr_events_t ev;
    grammar_t g;
    unsigned end_silence_ms;

    /* Guarded by mu: feed's side. Once the state leaves LISTENING the
     * ring is never written again, so a decoder reads it unlocked. */
    uv_mutex_t mu;
    sess_state_t state;
    int16_t *ring;
    size_t cap, cap_max, len, head;   /* in samples */
    uint64_t base;              /* stream position of ring[head] */
    uint64_t pos;               /* samples fed */
    double acc;                 /* sum of squares of the current frame */
    size_t nacc;
    double floor_db;
    int floor_set;
    int run;                    /* speech frames in a row, before onset */
    uint64_t run_start;
    int speech;                 /* onset seen */
    uint64_t speech_start, speech_end;
    unsigned silence_ms;        /* non-speech since the last speech */
    uint64_t dropped;           /* samples lost to cap_max */
    uint64_t utt_from, utt_to;  /* the utterance, when it ended */

    /* Guarded by asr->mu. */
    sb_media_asr_sess_t *qnext;
    int in_queue;
    sb_media_asr_sess_t *nnext;
    unsigned notes;
    int in_notes;

    /* Written by whoever completes it (a decoder thread, or the loop)
     * before it posts NOTE_DONE; read by the loop after. */
    int status;
    char *text;                 /* owned; NULL means "" */
    double confidence;
    uint64_t decode_ns;
    char why[200];

    /* Loop thread only. */
    sb_media_asr_sess_t *prev, *next;   /* asr's sessions owed a result */
    sb_media_asr_sess_t *dnext;         /* a delivery batch */
    unsigned taken;
    int canceled, delivered, speech_reported;
    int abort;                  /* atomic: read by the decoder thread */
};

/* A dictionary line: word and phones are NUL-terminated in the text. */
typedef struct dict_entry_s {
    uint32_t word;              /* offset of "either(2)" */
    uint32_t phones;            /* offset of "AY DH ER" */
    uint16_t blen;              /* length of the base word "either" */
    uint16_t alt;               /* 1 for "word(n)" */
} dict_entry_t;

/* One decoder thread. Owner: the recognizer; the fields after thread
 * belong to the thread. */
typedef struct worker_s {
    sb_media_asr_t *asr;
    int index;
    uv_thread_t thread;
    ps_decoder_t *ps;
    size_t added;               /* words added to ps's dictionary */
    char *jsgf;                 /* the grammar ps has now */
    int gen;                    /* its search is named g<gen % 2> */
    SpeexResamplerState *rs;
    int16_t *pcm;               /* the utterance at 16 kHz */
    size_t pcm_cap;
} worker_t;

/* Owner: whoever called sb_media_asr_new, until sb_media_asr_close. */
struct sb_media_asr_s {
    uv_loop_t *loop;
    uv_async_t async;
    char *model;
    int max_concurrent;
    size_t max_buffer_ms;

    /* The dictionary, sorted by base word; immutable after new. */
    char *dict_text;
    dict_entry_t *dict;
    size_t ndict;

    /* Shared with the threads and with feed, under mu. */
    uv_mutex_t mu;
    uv_cond_t cv;
    sb_media_asr_sess_t *queue_head, *queue_tail;
    sb_media_asr_sess_t *notes_head, *notes_tail;
    ps_decoder_t *spare;        /* made by new, for the first thread */
    int stop;
    int exited;                 /* threads that have left */
    unsigned listening, waiting, decoding;

    /* Loop thread only. */
    worker_t *workers;
    int nworkers;
    sb_media_asr_sess_t *live;  /* sessions owed a result */
    size_t outstanding;
    int closing;
    sb_media_asr_closed_cb closed_cb;
    void *closed_arg;
    sb_media_asr_stats_t stats;
};

/* ---- pocketsphinx's log ------------------------------------------------- */

/* sphinxbase logs through one process-wide callback. INFO goes nowhere;
 * the first error since sphinx_err_reset() is kept per thread, so the
 * thread that saw a failure can say why. */
static __thread char sphinx_err[200];

static void on_sphinx_log(void *user, err_lvl_t lvl, const char *fmt, ...)
{
    (void)user;
    if (lvl < ERR_ERROR || sphinx_err[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sphinx_err, sizeof sphinx_err, fmt, ap);
    va_end(ap);
    sphinx_err[strcspn(sphinx_err, "\n")] = '\0';
}

static void sphinx_log_setup(void)
{
    err_set_callback(on_sphinx_log, NULL);
    /* Some output (the configuration dump) goes to this stream
     * directly. */
    err_set_logfp(NULL);
}

static void sphinx_err_reset(void)
{
    sphinx_err[0] = '\0';
}

static const char *sphinx_why(const char *fallback)
{
    return sphinx_err[0] != '\0' ? sphinx_err : fallback;
}

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* ---- the dictionary (loaded once, read by every thread) ----------------- */

static char tolower_ascii(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static const char *dict_text_g;  /* for the qsort comparator; new() only */

static int entry_cmp(const void *a, const void *b)
{
    const dict_entry_t *x = a, *y = b;
    size_t n = x->blen < y->blen ? x->blen : y->blen;
    int c = memcmp(dict_text_g + x->word, dict_text_g + y->word, n);
    if (c != 0)
        return c;
    if (x->blen != y->blen)
        return x->blen < y->blen ? -1 : 1;
    /* The base word before its alternatives, which ps_add_word needs;
     * then file order. */
    if (x->alt != y->alt)
        return x->alt - y->alt;
    return x->word < y->word ? -1 : x->word > y->word;
}

static int dict_load(sb_media_asr_t *asr, const char *path, char *why,
                     size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, whylen, "cannot open dictionary %s", path);
        return SB_EMEDIA;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size <= 0
        || (uint64_t)st.st_size > DICT_MAX_BYTES) {
        fclose(f);
        snprintf(why, whylen, "dictionary %s is empty or over %u bytes", path,
                 DICT_MAX_BYTES);
        return SB_EMEDIA;
    }
    size_t size = (size_t)st.st_size;
    char *text = sb_xmalloc(size + 1);
    size_t got = fread(text, 1, size, f);
    fclose(f);
    text[got] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < got; i++)
        lines += text[i] == '\n';
    dict_entry_t *ents = sb_xcalloc(lines, sizeof *ents);
    size_t n = 0;
    char *p = text;
    while (*p != '\0') {
        char *eol = strchr(p, '\n');
        char *next = eol != NULL ? eol + 1 : p + strlen(p);
        if (eol != NULL)
            *eol = '\0';
        size_t wl = strcspn(p, " \t\r");
        char *ph = p + wl;
        ph += strspn(ph, " \t");
        size_t pl = strlen(ph);
        while (pl > 0 && (ph[pl - 1] == '\r' || ph[pl - 1] == ' '
                          || ph[pl - 1] == '\t'))
            ph[--pl] = '\0';
        if (wl > 0 && wl < 0xFFFF && pl > 0 && p[0] != '#'
            && strncmp(p, ";;;", 3) != 0) {
            p[wl] = '\0';
            /* Old CMU dictionaries are upper case; hints are folded. */
            for (size_t i = 0; i < wl; i++)
                p[i] = tolower_ascii(p[i]);
            size_t bl = wl;
            char *paren = memchr(p, '(', wl);
            if (paren != NULL && paren > p && p[wl - 1] == ')')
                bl = (size_t)(paren - p);
            ents[n].word = (uint32_t)(p - text);
            ents[n].phones = (uint32_t)(ph - text);
            ents[n].blen = (uint16_t)bl;
            ents[n].alt = bl != wl;
            n++;
        }
        p = next;
    }
    if (n == 0) {
        free(ents);
        free(text);
        snprintf(why, whylen, "dictionary %s has no entries", path);
        return SB_EMEDIA;
    }
    dict_text_g = text;
    qsort(ents, n, sizeof *ents, entry_cmp);
    dict_text_g = NULL;
    asr->dict_text = text;
    asr->dict = ents;
    asr->ndict = n;
    return 0;
}

/* Index of the first entry of word (its base form), or -1. */
static long dict_find(const sb_media_asr_t *asr, const char *word)
{
    size_t wl = strlen(word), lo = 0, hi = asr->ndict;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const dict_entry_t *e = &asr->dict[mid];
        size_t n = e->blen < wl ? e->blen : wl;
        int c = memcmp(asr->dict_text + e->word, word, n);
        if (c == 0)
            c = e->blen < wl ? -1 : e->blen > wl;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < asr->ndict && asr->dict[lo].blen == wl
        && memcmp(asr->dict_text + asr->dict[lo].word, word, wl) == 0)
        return (long)lo;
    return -1;
}

/* ---- hints -> grammar (loop thread) ------------------------------------- */

static void grammar_free(grammar_t *g)
{
    for (size_t i = 0; i < g->nphrases; i++) {
        free(g->phrases[i].display);
        for (int k = 0; k < g->phrases[i].nwords; k++)
            free(g->phrases[i].words[k]);
        free(g->phrases[i].words);
    }
    free(g->phrases);
    for (size_t i = 0; i < g->nwords; i++)
        free(g->words[i]);
    free(g->words);
    free(g->jsgf);
    free(g->unknown);
    memset(g, 0, sizeof *g);
}

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '\''
           || c >= 0x80;
}

static int all_digits(const char *w)
{
    if (*w == '\0')
        return 0;
    for (; *w != '\0'; w++)
        if (*w < '0' || *w > '9')
            return 0;
    return 1;
}

/* Adds w to the grammar's words; words_unique() removes repeats. */
static void words_add(grammar_t *g, const char *w, size_t *cap)
{
    if (g->nwords == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        g->words = sb_xrealloc(g->words, *cap * sizeof *g->words);
    }
    g->words[g->nwords++] = sb_xstrdup(w);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void words_unique(grammar_t *g)
{
    if (g->nwords == 0)
        return;
    qsort(g->words, g->nwords, sizeof *g->words, cmp_str);
    size_t n = 1;
    for (size_t i = 1; i < g->nwords; i++) {
        if (strcmp(g->words[i], g->words[n - 1]) == 0)
            free(g->words[i]);
        else
            g->words[n++] = g->words[i];
    }
    g->nwords = n;
}

/* Appends w to the unknown list (deduplicated, bounded). */
static void unknown_add(sb_buf_t *u, const char *w)
{
    size_t wl = strlen(w);
    const char *s = sb_buf_str(u);
    for (const char *p = s; u->len && p < s + u->len;) {
        const char *end = strstr(p, ", ");
        size_t n = end != NULL ? (size_t)(end - p) : (size_t)(s + u->len - p);
        if (n == wl && memcmp(p, w, wl) == 0)
            return;
        if (end == NULL)
            break;
        p = end + 2;
    }
    if (u->len + wl + 2 > UNKNOWN_MAX)
        return;
    if (u->len > 0)
        sb_buf_append(u, ", ", 2);
    sb_buf_append(u, w, wl);
}

/* Splits one phrase (text, n bytes) into dictionary words. Returns 1 when
 * usable (ph filled), 0 when it is empty or has unknown words (added to
 * unk), SB_ETOOBIG past PHRASE_MAX_WORDS. */
static int phrase_parse(const sb_media_asr_t *asr, const char *text, size_t n,
                        phrase_t *ph, sb_buf_t *unk)
{
    char tok[64 + 1];
    char *words[PHRASE_MAX_WORDS];
    int nw = 0, bad = 0, rc = 1;
    sb_buf_t disp;
    sb_buf_init(&disp);
    size_t i = 0;
    while (i < n) {
        while (i < n && !is_word_char((unsigned char)tolower_ascii(text[i])))
            i++;
        size_t tl = 0;
        int too_long = 0;
        while (i < n && is_word_char((unsigned char)tolower_ascii(text[i]))) {
            if (tl < sizeof tok - 1)
                tok[tl++] = tolower_ascii(text[i]);
            else
                too_long = 1;
            i++;
        }
        tok[tl] = '\0';
        /* Apostrophes alone are not a word ("'" between spaces). */
        if (tl == 0 || strspn(tok, "'") == tl)
            continue;
        if (disp.len > 0)
            sb_buf_append(&disp, " ", 1);
        sb_buf_append(&disp, tok, tl);
        if (too_long) {
            unknown_add(unk, tok);
            bad = 1;
            continue;
        }
        if (all_digits(tok)) {
            for (size_t d = 0; d < tl && rc == 1; d++) {
                const char *w = digit_words[tok[d] - '0'];
                if (dict_find(asr, w) < 0
                    || (tok[d] == '0' && dict_find(asr, "oh") < 0)) {
                    unknown_add(unk, tok);
                    bad = 1;
                    break;
                }
                if (nw == PHRASE_MAX_WORDS)
                    rc = SB_ETOOBIG;
                else
                    words[nw++] = sb_xstrdup(tok[d] == '0' ? "zero|oh" : w);
            }
            continue;
        }
        if (dict_find(asr, tok) < 0) {
            unknown_add(unk, tok);
            bad = 1;
            continue;
        }
        if (nw == PHRASE_MAX_WORDS)
            rc = SB_ETOOBIG;
        else
            words[nw++] = sb_xstrdup(tok);
    }
    if (rc == 1 && (bad || nw == 0))
        rc = 0;
    if (rc != 1) {
        for (int k = 0; k < nw; k++)
            free(words[k]);
        sb_buf_free(&disp);
        return rc;
    }
    ph->words = sb_xcalloc((size_t)nw, sizeof *ph->words);
    memcpy(ph->words, words, (size_t)nw * sizeof *words);
    ph->nwords = nw;
    ph->display = sb_xstrdup(sb_buf_str(&disp));
    sb_buf_free(&disp);
    return 1;
}

static int grammar_build(const sb_media_asr_t *asr, const char *hints,
                         grammar_t *g)
{
    memset(g, 0, sizeof *g);
    if (hints == NULL)
        return SB_EINVAL;
    size_t hl = strlen(hints);
    if (hl > HINTS_MAX_BYTES)
        return SB_ETOOBIG;
    sb_buf_t unk;
    sb_buf_init(&unk);
    size_t cap = 0, wcap = 0;
    int rc = 0;
    const char *p = hints;
    while (rc == 0 && *p != '\0') {
        size_t n = strcspn(p, ",");
        const char *q = p;
        size_t m = n;
        while (m > 0 && (*q == ' ' || *q == '\t' || *q == '\n'
                         || *q == '\r')) {
            q++;
            m--;
        }
        while (m > 0 && (q[m - 1] == ' ' || q[m - 1] == '\t'
                         || q[m - 1] == '\n' || q[m - 1] == '\r'))
            m--;
        p += n + (p[n] == ',');
        if (m == 0)
            continue;
        if (q[0] == '$') {
            /* Google's class tokens, as Twilio accepts them. Only the
             * digit sequence is known here, and only with the digit
             * words in the dictionary. */
            static const char cls[] = "$OOV_CLASS_DIGIT_SEQUENCE";
            int known = m == sizeof cls - 1 && strncasecmp(q, cls, m) == 0
                        && dict_find(asr, "oh") >= 0;
            for (int d = 0; d < 10 && known; d++)
                known = dict_find(asr, digit_words[d]) >= 0;
            if (known) {
                g->digits = 1;
            } else {
                char tok[64];
                snprintf(tok, sizeof tok, "%.*s", (int)(m < 60 ? m : 60), q);
                unknown_add(&unk, tok);
            }
            continue;
        }
        phrase_t ph = {0};
        int r = phrase_parse(asr, q, m, &ph, &unk);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == 0)
            continue;
        int dup = 0;
        for (size_t i = 0; i < g->nphrases && !dup; i++)
            dup = strcmp(g->phrases[i].display, ph.display) == 0;
        if (dup || g->nphrases == HINTS_MAX_PHRASES) {
            if (!dup)
                rc = SB_ETOOBIG;
            free(ph.display);
            for (int k = 0; k < ph.nwords; k++)
                free(ph.words[k]);
            free(ph.words);
            continue;
        }
        if (g->nphrases == cap) {
            cap = cap ? cap * 2 : 8;
            g->phrases = sb_xrealloc(g->phrases, cap * sizeof *g->phrases);
        }
        g->phrases[g->nphrases++] = ph;
    }
    g->unknown = sb_xstrdup(sb_buf_str(&unk));
    sb_buf_free(&unk);
    if (rc == 0 && g->nphrases == 0 && !g->digits)
        rc = SB_EINVAL;
    if (rc != 0) {
        char *u = g->unknown;
        g->unknown = NULL;
        grammar_free(g);
        g->unknown = u;         /* kept for check_hints */
        return rc;
    }

    /* The JSGF text and the distinct words. */
    sb_buf_t j;
    sb_buf_init(&j);
    sb_buf_printf(&j, "#JSGF V1.0;\ngrammar sb;\npublic <hint> = ");
    for (size_t i = 0; i < g->nphrases; i++) {
        sb_buf_printf(&j, "%s(", i ? " | " : "");
        for (int k = 0; k < g->phrases[i].nwords; k++) {
            const char *w = g->phrases[i].words[k];
            if (strcmp(w, "zero|oh") == 0) {
                sb_buf_printf(&j, " ( zero | oh )");
                words_add(g, "zero", &wcap);
                words_add(g, "oh", &wcap);
            } else {
                sb_buf_printf(&j, " %s", w);
                words_add(g, w, &wcap);
            }
        }
        sb_buf_printf(&j, " )");
    }
    if (g->digits) {
        sb_buf_printf(&j, "%s<digits>;\n<digits> = ( oh", g->nphrases ? " | "
                                                                      : "");
        words_add(g, "oh", &wcap);
        for (int d = 0; d < 10; d++) {
            sb_buf_printf(&j, " | %s", digit_words[d]);
            words_add(g, digit_words[d], &wcap);
        }
        sb_buf_printf(&j, " )+;\n");
    } else {
        sb_buf_printf(&j, ";\n");
    }
    g->jsgf = sb_xstrdup(sb_buf_str(&j));
    sb_buf_free(&j);
    words_unique(g);
    return 0;
}

/* The display text of the phrase hyp matches, numerals for a digit
 * sequence, or hyp itself. Returns owned. */
static char *grammar_match(const grammar_t *g, const char *hyp)
{
    char *words[256];
    int nw = 0;
    char *copy = sb_xstrdup(hyp);
    for (char *save = NULL, *w = strtok_r(copy, " ", &save);
         w != NULL && nw < 256; w = strtok_r(NULL, " ", &save))
        words[nw++] = w;
    char *out = NULL;
    for (size_t i = 0; i < g->nphrases && out == NULL; i++) {
        const phrase_t *ph = &g->phrases[i];
        if (ph->nwords != nw)
            continue;
        int k = 0;
        for (; k < nw; k++) {
            const char *pw = ph->words[k];
            if (strcmp(pw, "zero|oh") == 0) {
                if (strcmp(words[k], "zero") != 0 && strcmp(words[k], "oh"))
                    break;
            } else if (strcmp(pw, words[k]) != 0) {
                break;
            }
        }
        if (k == nw)
            out = sb_xstrdup(ph->display);
    }
    if (out == NULL && g->digits && nw > 0) {
        char num[257];
        int k = 0;
        for (; k < nw; k++) {
            int d = strcmp(words[k], "oh") == 0 ? 0 : -1;
            for (int x = 0; x < 10 && d < 0; x++)
                if (strcmp(words[k], digit_words[x]) == 0)
                    d = x;
            if (d < 0)
                break;
            num[k] = (char)('0' + d);
        }
        num[k] = '\0';
        if (k == nw)
            out = sb_xstrdup(num);
    }
    free(copy);
    return out != NULL ? out : sb_xstrdup(hyp);
}

static int language_ok(const char *lang)
{
    if (lang == NULL || lang[0] == '\0')
        return 1;
    return strncasecmp(lang, "en", 2) == 0
           && (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_');
}

/* ---- sessions: references, notes ---------------------------------------- */

static void sess_ref(sb_media_asr_sess_t *s)
{
    __atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

static void sess_unref(sb_media_asr_sess_t *s)
{
    if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    grammar_free(&s->g);
    free(s->ring);
    free(s->text);
    uv_mutex_destroy(&s->mu);
    free(s);
}

/* Tells the loop about s. Any thread; s->mu may be held (lock order:
 * s->mu, then asr->mu). */
static void post(sb_media_asr_t *asr, sb_media_asr_sess_t *s, unsigned note)
{
    uv_mutex_lock(&asr->mu);
    s->notes |= note;
    if (!s->in_notes) {
        s->in_notes = 1;
        s->nnext = NULL;
        if (asr->notes_tail != NULL)
            asr->notes_tail->nnext = s;
        else
            asr->notes_head = s;
        asr->notes_tail = s;
    }
    uv_mutex_unlock(&asr->mu);
    uv_async_send(&asr->async);
}

/* ---- listening: the ring and the speech detector (under s->mu) ---------- */

static void ring_drop(sb_media_asr_sess_t *s, size_t k)
{
    s->head = (s->head + k) % s->cap;
    s->len -= k;
    s->base += k;
}

static void ring_append(sb_media_asr_sess_t *s, const int16_t *x, size_t k)
{
    if (!s->speech) {
        /* Before the onset only the pre-roll matters. */
        size_t keep = (size_t)PREROLL_MS * 8 + (VAD_ONSET_FRAMES + 1) * FRAME;
        if (s->len + k > keep)
            ring_drop(s, s->len + k - keep < s->len ? s->len + k - keep
                                                    : s->len);
    }
    if (s->len + k > s->cap && s->cap < s->cap_max) {
        size_t cap = s->cap * 2;
        while (cap < s->len + k)
            cap *= 2;
        if (cap > s->cap_max)
            cap = s->cap_max;
        int16_t *r = sb_xmalloc(cap * sizeof *r);
        size_t first = s->cap - s->head < s->len ? s->cap - s->head : s->len;
        memcpy(r, s->ring + s->head, first * sizeof *r);
        memcpy(r + first, s->ring, (s->len - first) * sizeof *r);
        free(s->ring);
        s->ring = r;
        s->cap = cap;
        s->head = 0;
    }
    if (s->len + k > s->cap) {
        size_t over = s->len + k - s->cap;
        if (over > s->len) {        /* k alone is bigger than the ring */
            x += over - s->len;
            k -= over - s->len;
            s->dropped += over - s->len;
            s->base += over - s->len;
            over = s->len;
        }
        ring_drop(s, over);
        s->dropped += over;
    }
    size_t tail = (s->head + s->len) % s->cap;
    size_t first = s->cap - tail < k ? s->cap - tail : k;
    memcpy(s->ring + tail, x, first * sizeof *x);
    memcpy(s->ring, x + first, (k - first) * sizeof *x);
    s->len += k;
}

/* The utterance is over: it goes to the decoders' queue, with the
 * queue's reference. */
static void utterance_end(sb_media_asr_sess_t *s)
{
    sb_media_asr_t *asr = s->asr;
    uint64_t pre = (uint64_t)PREROLL_MS * 8, tail = (uint64_t)TAIL_MS * 8;
    s->utt_from = s->speech_start > s->base + pre ? s->speech_start - pre
                                                  : s->base;
    s->utt_to = s->speech_end + tail < s->pos ? s->speech_end + tail : s->pos;
    if (s->utt_from < s->base)
        s->utt_from = s->base;
    if (s->utt_to < s->utt_from)
        s->utt_to = s->utt_from;
    s->state = SESS_QUEUED;
    sess_ref(s);
    uv_mutex_lock(&asr->mu);
    asr->listening--;
    asr->waiting++;
    s->in_queue = 1;
    s->qnext = NULL;
    if (asr->queue_tail != NULL)
        asr->queue_tail->qnext = s;
    else
        asr->queue_head = s;
    asr->queue_tail = s;
    uv_cond_signal(&asr->cv);
    uv_mutex_unlock(&asr->mu);
}

static void vad_frame(sb_media_asr_sess_t *s)
{
    double e = s->acc / FRAME;
    s->acc = 0;
    double db = e > 0 ? 10.0 * log10(e / (32768.0 * 32768.0)) : -100.0;
    if (!s->floor_set) {
        s->floor_db = db > VAD_FLOOR_MIN_DB ? db : VAD_FLOOR_MIN_DB;
        s->floor_set = 1;
    }
    int speech = db > s->floor_db + VAD_MARGIN_DB && db > VAD_MIN_DB;
    if (db < s->floor_db)
        s->floor_db = db > VAD_FLOOR_MIN_DB ? db : VAD_FLOOR_MIN_DB;
    else if (s->floor_db + VAD_RISE_DB < db)
        s->floor_db += VAD_RISE_DB;
    else
        s->floor_db = db;

    if (!s->speech) {
        if (!speech) {
            s->run = 0;
            return;
        }
        if (s->run++ == 0)
            s->run_start = s->pos - FRAME;
        if (s->run < VAD_ONSET_FRAMES)
            return;
        s->speech = 1;
        s->speech_start = s->run_start;
        s->speech_end = s->pos;
        s->silence_ms = 0;
        post(s->asr, s, NOTE_SPEECH);
        return;
    }
    if (speech) {
        s->speech_end = s->pos;
        s->silence_ms = 0;
        return;
    }
    s->silence_ms += FRAME / 8;
    if (s->end_silence_ms > 0 && s->silence_ms >= s->end_silence_ms)
        utterance_end(s);
}

void sb_media_asr_feed(sb_media_asr_sess_t *s, const int16_t *pcm8k, size_t n)
{
    if (s == NULL || pcm8k == NULL)
        return;
    uv_mutex_lock(&s->mu);
    while (n > 0 && s->state == SESS_LISTENING) {
        size_t k = FRAME - s->nacc;
        if (k > n)
            k = n;
        ring_append(s, pcm8k, k);
        for (size_t i = 0; i < k; i++)
            s->acc += (double)pcm8k[i] * pcm8k[i];
        s->pos += k;
        s->nacc += k;
        pcm8k += k;
        n -= k;
        if (s->nacc == FRAME) {
            s->nacc = 0;
            vad_frame(s);
        }
    }
    uv_mutex_unlock(&s->mu);
}

void sb_media_asr_tap(const int16_t *pcm8k, size_t n, void *arg)
{
    sb_media_asr_feed(arg, pcm8k, n);
}

/* ---- decoding (decoder threads) ----------------------------------------- */

static ps_decoder_t *decoder_new(const char *model, char *why, size_t whylen)
{
    sphinx_err_reset();
    /* No -dict: the decoder starts with the model's fillers only and
     * gets words as grammars need them (worker_grammar). -bestpath no:
     * no lattice is needed for a grammar. */
    cmd_ln_t *c = cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", model,
                              "-samprate", "16000", "-bestpath", "no", NULL);
    if (c == NULL) {
        snprintf(why, whylen, "bad decoder options: %s",
                 sphinx_why("unknown"));
        return NULL;
    }
    ps_decoder_t *ps = ps_init(c);
    cmd_ln_free_r(c);           /* ps holds its own reference */
    if (ps == NULL)
        snprintf(why, whylen, "cannot load model %s: %s", model,
                 sphinx_why("unknown error"));
    return ps;
}

/* ps_set_jsgf_string, without its leak: 0.8+5prealpha never frees the
 * parsed grammar (~7 KB a call, so per Gather with new hints). */
static int set_jsgf(ps_decoder_t *ps, const char *name, const char *text)
{
    jsgf_t *jsgf = jsgf_parse_string(text, NULL);
    if (jsgf == NULL)
        return -1;
    int rc = -1;
    jsgf_rule_t *rule = jsgf_get_public_rule(jsgf);
    if (rule != NULL) {
        float32 lw = cmd_ln_float32_r(ps_get_config(ps), "-lw");
        fsg_model_t *fsg = jsgf_build_fsg(jsgf, rule, ps_get_logmath(ps), lw);
        if (fsg != NULL) {
            rc = ps_set_fsg(ps, name, fsg);
            fsg_model_free(fsg);    /* the search holds its own */
        }
    }
    jsgf_grammar_free(jsgf);
    return rc;
}

/* Gives w's decoder the words of g it lacks, then g as its search. */
static int worker_grammar(worker_t *w, const grammar_t *g, char *why,
                          size_t whylen)
{
    const sb_media_asr_t *asr = w->asr;
    sphinx_err_reset();
    for (size_t i = 0; i < g->nwords; i++) {
        char *have = ps_lookup_word(w->ps, g->words[i]);
        if (have != NULL) {
            ckd_free(have);
            continue;
        }
        long e = dict_find(asr, g->words[i]);
        if (e < 0) {                /* checked at start: cannot happen */
            snprintf(why, whylen, "word %s vanished", g->words[i]);
            return SB_EMEDIA;
        }
        for (size_t k = (size_t)e; k < asr->ndict
             && asr->dict[k].blen == asr->dict[e].blen
             && memcmp(asr->dict_text + asr->dict[k].word,
                       asr->dict_text + asr->dict[e].word,
                       asr->dict[e].blen) == 0; k++) {
            if (ps_add_word(w->ps, asr->dict_text + asr->dict[k].word,
                            asr->dict_text + asr->dict[k].phones, 0) < 0) {
                snprintf(why, whylen, "cannot add \"%s\": %s",
                         asr->dict_text + asr->dict[k].word,
                         sphinx_why("bad phones?"));
                return SB_EMEDIA;
            }
            w->added++;
        }
    }
    /* Two names in turn: the search in use is replaced only once the new
     * one is current. */
    char name[8], old[8];
    snprintf(name, sizeof name, "g%d", (w->gen + 1) % 2);
    snprintf(old, sizeof old, "g%d", w->gen % 2);
    if (set_jsgf(w->ps, name, g->jsgf) < 0 || ps_set_search(w->ps, name) < 0) {
        snprintf(why, whylen, "grammar refused: %s", sphinx_why("unknown"));
        free(w->jsgf);
        w->jsgf = NULL;
        return SB_EMEDIA;
    }
    if (w->jsgf != NULL)
        ps_unset_search(w->ps, old);
    w->gen++;
    free(w->jsgf);
    w->jsgf = sb_xstrdup(g->jsgf);
    return 0;
}

/* Upsamples s's utterance into w->pcm and adds the noise floor. Returns
 * the samples at 16 kHz. */
static size_t worker_upsample(worker_t *w, const sb_media_asr_sess_t *s)
{
    size_t n8 = (size_t)(s->utt_to - s->utt_from);
    spx_uint32_t lat = (spx_uint32_t)speex_resampler_get_input_latency(w->rs);
    size_t need = 2 * (n8 + lat) + 64;
    if (need > w->pcm_cap) {
        free(w->pcm);
        w->pcm = sb_xmalloc(need * sizeof *w->pcm);
        w->pcm_cap = need;
    }
    speex_resampler_reset_mem(w->rs);
    speex_resampler_skip_zeros(w->rs);
    size_t out = 0;
    size_t start = (s->head + (size_t)(s->utt_from - s->base)) % s->cap;
    size_t first = s->cap - start < n8 ? s->cap - start : n8;
    const int16_t *pieces[3] = {s->ring + start, s->ring, NULL};
    size_t lens[3] = {first, n8 - first, lat};
    int16_t zeros[256] = {0};
    for (int p = 0; p < 3; p++) {
        size_t left = lens[p];
        const int16_t *in = pieces[p];
        while (left > 0) {
            spx_uint32_t inl = (spx_uint32_t)left, outl;
            if (in == NULL && inl > 256)
                inl = 256;
            outl = (spx_uint32_t)(w->pcm_cap - out);
            speex_resampler_process_int(w->rs, 0, in != NULL ? in : zeros,
                                        &inl, w->pcm + out, &outl);
            out += outl;
            left -= inl;
            if (in != NULL)
                in += inl;
            if (inl == 0 || out >= w->pcm_cap)
                break;
        }
    }
    if (out > 2 * n8)
        out = 2 * n8;
    /* Deterministic: the same audio gives the same result. */
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < out; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        int v = w->pcm[i] + (int)(x % (2 * NOISE_AMPL + 1)) - NOISE_AMPL;
        w->pcm[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
    return out;
}

/* Decodes s (DECODING: its ring is frozen); fills its result. */
static void worker_decode(worker_t *w, sb_media_asr_sess_t *s)
{
    uint64_t t0 = now_ns();
    s->status = 0;
    if (__atomic_load_n(&s->abort, __ATOMIC_ACQUIRE)) {
        s->status = SB_ECANCELED;
        return;
    }
    if (w->ps != NULL && w->added > DECODER_MAX_WORDS) {
        ps_free(w->ps);
        w->ps = NULL;
        free(w->jsgf);
        w->jsgf = NULL;
    }
    if (w->ps == NULL) {
        w->added = 0;
        w->ps = decoder_new(w->asr->model, s->why, sizeof s->why);
        if (w->ps == NULL) {
            s->status = SB_EMEDIA;
            return;
        }
    }
    if ((w->jsgf == NULL || strcmp(w->jsgf, s->g.jsgf) != 0)
        && worker_grammar(w, &s->g, s->why, sizeof s->why) != 0) {
        s->status = SB_EMEDIA;
        return;
    }
    size_t n = worker_upsample(w, s);
    sphinx_err_reset();
    if (ps_start_utt(w->ps) < 0
        || ps_process_raw(w->ps, w->pcm, n, FALSE, TRUE) < 0
        || ps_end_utt(w->ps) < 0) {
        snprintf(s->why, sizeof s->why, "decoding failed: %s",
                 sphinx_why("unknown"));
        s->status = SB_EMEDIA;
        /* Its state is unknown now: the next job makes a new one. */
        ps_free(w->ps);
        w->ps = NULL;
        free(w->jsgf);
        w->jsgf = NULL;
        return;
    }
    int32 score;
    const char *hyp = ps_get_hyp(w->ps, &score);
    if (hyp != NULL && hyp[0] != '\0') {
        long ascr = 0, frames = 0;
        for (ps_seg_t *seg = ps_seg_iter(w->ps); seg != NULL;
             seg = ps_seg_next(seg)) {
            int32 a, l, b;
            int sf, ef;
            ps_seg_prob(seg, &a, &l, &b);
            ps_seg_frames(seg, &sf, &ef);
            ascr += a;
            frames += ef - sf + 1;
        }
        double per = frames > 0 ? (double)ascr / (double)frames : -100.0;
        s->confidence = 1.0 / (1.0 + exp(-(per - CONF_CENTER) / CONF_SCALE));
        s->text = grammar_match(&s->g, hyp);
    }
    s->decode_ns = now_ns() - t0;
}

static void worker_main(void *arg)
{
    worker_t *w = arg;
    sb_media_asr_t *asr = w->asr;
    char name[24];
    snprintf(name, sizeof name, "sb-asr-%d", w->index);
    prctl(PR_SET_NAME, name, 0, 0, 0);    /* top -H, bench/asr */
    int err = 0;
    w->rs = speex_resampler_init(1, 8000, 16000, 5, &err);

    uv_mutex_lock(&asr->mu);
    w->ps = asr->spare;
    asr->spare = NULL;
    uv_mutex_unlock(&asr->mu);
    if (w->ps == NULL && w->rs != NULL) {
        /* Made now, while the caller speaks, rather than when its
         * utterance ends. A failure is retried with the first job, which
         * then reports it. */
        char why[200];
        w->ps = decoder_new(asr->model, why, sizeof why);
    }

    uv_mutex_lock(&asr->mu);
    for (;;) {
        while (!asr->stop && asr->queue_head == NULL)
            uv_cond_wait(&asr->cv, &asr->mu);
        if (asr->stop)
            break;
        sb_media_asr_sess_t *s = asr->queue_head;
        asr->queue_head = s->qnext;
        if (asr->queue_head == NULL)
            asr->queue_tail = NULL;
        s->in_queue = 0;
        s->qnext = NULL;
        asr->waiting--;
        asr->decoding++;
        uv_mutex_unlock(&asr->mu);

        uv_mutex_lock(&s->mu);
        int run = s->state == SESS_QUEUED;
        if (run)
            s->state = SESS_DECODING;
        uv_mutex_unlock(&s->mu);
        if (run) {
            if (w->rs == NULL) {
                snprintf(s->why, sizeof s->why, "no resampler");
                s->status = SB_EMEDIA;
            } else {
                worker_decode(w, s);
            }
            uv_mutex_lock(&s->mu);
            s->state = SESS_DONE;
            uv_mutex_unlock(&s->mu);
            post(asr, s, NOTE_DONE);
        }
        sess_unref(s);              /* the queue's reference */
        uv_mutex_lock(&asr->mu);
        asr->decoding--;
    }
    uv_mutex_unlock(&asr->mu);

    if (w->ps != NULL)
        ps_free(w->ps);
    w->ps = NULL;
    if (w->rs != NULL)
        speex_resampler_destroy(w->rs);
    w->rs = NULL;
    free(w->pcm);
    w->pcm = NULL;
    free(w->jsgf);
    w->jsgf = NULL;
    /* The loop joins every thread before it frees asr, so this send is
     * safe; exited is counted first so the loop knows to join. */
    uv_mutex_lock(&asr->mu);
    asr->exited++;
    uv_mutex_unlock(&asr->mu);
    uv_async_send(&asr->async);
}

/* Starts one more decoder thread. Loop thread. */
static int worker_start(sb_media_asr_t *asr)
{
    worker_t *w = &asr->workers[asr->nworkers];
    memset(w, 0, sizeof *w);
    w->asr = asr;
    w->index = asr->nworkers;
    int rc = uv_thread_create(&w->thread, worker_main, w);
    if (rc != 0) {
        sb_warn("asr: cannot start a decoder thread: %s", sb_strerror(rc));
        return SB_EMEDIA;
    }
    asr->nworkers++;
    asr->stats.decoders = (unsigned)asr->nworkers;
    return 0;
}

/* ---- delivery (loop thread) --------------------------------------------- */

static void live_unlink(sb_media_asr_t *asr, sb_media_asr_sess_t *s)
{
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        asr->live = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
}

static void deliver(sb_media_asr_t *asr, sb_media_asr_sess_t *s, unsigned bits)
{
    if (s->delivered)
        return;
    if ((bits & NOTE_SPEECH) && !s->canceled && !s->speech_reported) {
        s->speech_reported = 1;
        if (s->ev.on_speech != NULL)
            s->ev.on_speech(s->ev.arg);
    }
    if (!(bits & NOTE_DONE) || s->delivered)
        return;
    s->delivered = 1;
    live_unlink(asr, s);
    if (--asr->outstanding == 0 && !asr->closing)
        uv_unref((uv_handle_t *)&asr->async);

    sb_media_asr_result_t r;
    memset(&r, 0, sizeof r);
    r.status = s->canceled ? SB_ECANCELED : s->status;
    r.text = r.status == 0 && s->text != NULL ? s->text : "";
    r.confidence = r.text[0] != '\0' ? s->confidence : 0.0;
    uv_mutex_lock(&s->mu);
    r.speech_seen = s->speech;
    r.speech_ms = s->speech ? (s->utt_to - s->utt_from) / 8 : 0;
    r.dropped_ms = s->dropped / 8;
    uv_mutex_unlock(&s->mu);
    r.unknown_words = s->g.unknown != NULL ? s->g.unknown : "";

    if (r.status == 0) {
        asr->stats.results++;
        asr->stats.matched += r.text[0] != '\0';
        if (s->decode_ns > 0) {
            asr->stats.decoded_ms += r.speech_ms;
            asr->stats.decode_ms += s->decode_ns / 1000000;
        }
    } else if (r.status == SB_ECANCELED) {
        asr->stats.canceled++;
    } else {
        asr->stats.failures++;
        sb_error("asr: %s", s->why[0] != '\0' ? s->why : "decoding failed");
    }
    asr->stats.dropped_ms += r.dropped_ms;
    s->ev.on_result(&r, s->ev.arg);
    sess_unref(s);                  /* the recognizer's reference */
}

static void on_closed(uv_handle_t *h)
{
    sb_media_asr_t *asr = h->data;
    sb_media_asr_closed_cb cb = asr->closed_cb;
    void *arg = asr->closed_arg;
    free(asr->workers);
    free(asr->dict);
    free(asr->dict_text);
    free(asr->model);
    uv_mutex_destroy(&asr->mu);
    uv_cond_destroy(&asr->cv);
    free(asr);
    if (cb != NULL)
        cb(arg);
}

static void on_async(uv_async_t *h)
{
    sb_media_asr_t *asr = h->data;
    uv_mutex_lock(&asr->mu);
    sb_media_asr_sess_t *batch = asr->notes_head, *s;
    asr->notes_head = asr->notes_tail = NULL;
    for (s = batch; s != NULL; s = s->nnext) {
        s->taken = s->notes;
        s->notes = 0;
        s->in_notes = 0;
        s->dnext = s->nnext;
    }
    uv_mutex_unlock(&asr->mu);
    /* Callbacks may start, cancel or close: walk on dnext, which only
     * this function writes. */
    for (s = batch; s != NULL;) {
        sb_media_asr_sess_t *next = s->dnext;
        deliver(asr, s, s->taken);
        s = next;
    }
    if (!asr->closing || asr->live != NULL
        || uv_is_closing((uv_handle_t *)&asr->async))
        return;
    uv_mutex_lock(&asr->mu);
    int all_out = asr->exited == asr->nworkers;
    ps_decoder_t *spare = asr->spare;
    asr->spare = NULL;
    uv_mutex_unlock(&asr->mu);
    if (spare != NULL)
        ps_free(spare);
    if (!all_out)
        return;                     /* the last thread to leave sends */
    for (int i = 0; i < asr->nworkers; i++)
        uv_thread_join(&asr->workers[i].thread);
    uv_close((uv_handle_t *)&asr->async, on_closed);
}

/* ---- public ------------------------------------------------------------- */

static int model_present(const char *model, char *why, size_t whylen)
{
    /* ps_init exits the process (E_FATAL) on some missing files: look
     * first. */
    static const char *const files[] = {
        "mdef", "means", "variances", "transition_matrices", "noisedict",
    };
    for (size_t i = 0; i < SB_COUNTOF(files); i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", model, files[i]);
        if (stat(path, &st) != 0) {
            snprintf(why, whylen, "model %s has no %s", model, files[i]);
            return 0;
        }
    }
    return 1;
}

int sb_media_asr_new(uv_loop_t *loop, const sb_media_asr_opts_t *opts,
                     sb_media_asr_t **out)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    if (loop == NULL || out == NULL)
        return SB_EINVAL;
    sb_media_asr_opts_t o = {0};
    if (opts != NULL)
        o = *opts;
    if (o.max_concurrent < 0 || o.max_concurrent > MAX_CONCURRENT_LIMIT
        || o.max_buffer_ms > MAX_BUFFER_MS_LIMIT)
        return SB_EINVAL;
    if (o.max_buffer_ms > 0 && o.max_buffer_ms < 1000)
        o.max_buffer_ms = 1000;
    pthread_once(&once, sphinx_log_setup);

    sb_media_asr_t *asr = SB_NEW(sb_media_asr_t);
    asr->loop = loop;
    asr->model = sb_xstrdup(o.model != NULL ? o.model : SB_MEDIA_ASR_MODEL);
    asr->max_concurrent = o.max_concurrent > 0 ? o.max_concurrent
                                               : MAX_CONCURRENT_DEFAULT;
    asr->max_buffer_ms = o.max_buffer_ms > 0 ? o.max_buffer_ms
                                             : MAX_BUFFER_MS_DEFAULT;
    char why[256] = "";
    int rc = model_present(asr->model, why, sizeof why) ? 0 : SB_EMEDIA;
    if (rc == 0)
        rc = dict_load(asr, o.dict != NULL ? o.dict : SB_MEDIA_ASR_DICT, why,
                       sizeof why);
    if (rc == 0) {
        asr->spare = decoder_new(asr->model, why, sizeof why);
        if (asr->spare == NULL)
            rc = SB_EMEDIA;
    }
    if (rc == 0 && (uv_mutex_init(&asr->mu) != 0
                    || uv_cond_init(&asr->cv) != 0))
        abort();
    if (rc == 0) {
        rc = uv_async_init(loop, &asr->async, on_async);
        if (rc != 0) {
            ps_free(asr->spare);
            uv_mutex_destroy(&asr->mu);
            uv_cond_destroy(&asr->cv);
        }
    }
    if (rc != 0) {
        if (rc == SB_EMEDIA)
            sb_error("asr: %s", why);
        free(asr->dict);
        free(asr->dict_text);
        free(asr->model);
        free(asr);
        return rc;
    }
    asr->async.data = asr;
    uv_unref((uv_handle_t *)&asr->async);
    asr->workers = sb_xcalloc((size_t)asr->max_concurrent,
                              sizeof *asr->workers);
    *out = asr;
    return 0;
}

int sb_media_asr_check_hints(sb_media_asr_t *asr, const char *hints,
                             char *unknown, size_t len)
{
    if (asr == NULL)
        return SB_EINVAL;
    grammar_t g;
    int rc = grammar_build(asr, hints, &g);
    if (unknown != NULL && len > 0)
        snprintf(unknown, len, "%s", g.unknown != NULL ? g.unknown : "");
    if (rc == 0)
        rc = (int)g.nphrases + g.digits;
    grammar_free(&g);
    return rc;
}

int sb_media_asr_start(sb_media_asr_t *asr, const char *hints,
                       const char *language, unsigned end_silence_ms,
                       const sb_media_asr_events_t *ev,
                       sb_media_asr_sess_t **out)
{
    if (asr == NULL || ev == NULL || ev->on_result == NULL || out == NULL)
        return SB_EINVAL;
    if (asr->closing)
        return SB_ESTATE;
    if (!language_ok(language))
        return SB_EINVAL;
    sb_media_asr_sess_t *s = SB_NEW(sb_media_asr_sess_t);
    int rc = grammar_build(asr, hints, &s->g);
    if (rc != 0) {
        grammar_free(&s->g);
        free(s);
        return rc;
    }
    /* Start a decoder thread while there are fewer than sessions owed a
     * result: it loads its decoder while this caller speaks. */
    if (asr->nworkers < asr->max_concurrent
        && (size_t)asr->nworkers < asr->outstanding + 1
        && worker_start(asr) != 0 && asr->nworkers == 0) {
        grammar_free(&s->g);
        free(s);
        return SB_EMEDIA;
    }
    if (uv_mutex_init(&s->mu) != 0)
        abort();
    s->asr = asr;
    s->refs = 2;                    /* the caller's and the recognizer's */
    s->ev = *ev;
    s->end_silence_ms = end_silence_ms;
    s->state = SESS_LISTENING;
    s->cap_max = asr->max_buffer_ms * 8;
    s->cap = s->cap_max < 8000 ? s->cap_max : 8000;
    s->ring = sb_xmalloc(s->cap * sizeof *s->ring);

    s->next = asr->live;
    if (asr->live != NULL)
        asr->live->prev = s;
    asr->live = s;
    if (asr->outstanding++ == 0)
        uv_ref((uv_handle_t *)&asr->async);
    uv_mutex_lock(&asr->mu);
    asr->listening++;
    uv_mutex_unlock(&asr->mu);
    asr->stats.sessions++;
    *out = s;
    return 0;
}

void sb_media_asr_finish(sb_media_asr_sess_t *s)
{
    if (s == NULL || s->delivered)
        return;
    uv_mutex_lock(&s->mu);
    if (s->state == SESS_LISTENING) {
        if (s->speech) {
            utterance_end(s);
        } else {
            sb_media_asr_t *asr = s->asr;
            s->state = SESS_DONE;
            uv_mutex_lock(&asr->mu);
            asr->listening--;
            uv_mutex_unlock(&asr->mu);
            post(asr, s, NOTE_DONE);
        }
    }
    uv_mutex_unlock(&s->mu);
}

void sb_media_asr_cancel(sb_media_asr_sess_t *s)
{
    if (s == NULL || s->delivered || s->canceled)
        return;
    sb_media_asr_t *asr = s->asr;
    s->canceled = 1;
    uv_mutex_lock(&s->mu);
    switch (s->state) {
    case SESS_LISTENING:
        s->state = SESS_DONE;
        uv_mutex_lock(&asr->mu);
        asr->listening--;
        uv_mutex_unlock(&asr->mu);
        post(asr, s, NOTE_DONE);
        break;
    case SESS_QUEUED: {
        /* A decoder thread may have taken it off the queue already; it
         * then finds it DONE and lets it go. */
        int queued;
        uv_mutex_lock(&asr->mu);
        queued = s->in_queue;
        if (queued) {
            sb_media_asr_sess_t **pp = &asr->queue_head, *prev = NULL;
            while (*pp != s) {
                prev = *pp;
                pp = &(*pp)->qnext;
            }
            *pp = s->qnext;
            if (asr->queue_tail == s)
                asr->queue_tail = prev;
            s->in_queue = 0;
            s->qnext = NULL;
            asr->waiting--;
        }
        uv_mutex_unlock(&asr->mu);
        s->state = SESS_DONE;
        post(asr, s, NOTE_DONE);
        if (queued)
            sess_unref(s);          /* the queue's; the caller's remains */
        break;
    }
    case SESS_DECODING:
        /* Its decoder posts NOTE_DONE; delivery reports the cancel. */
        __atomic_store_n(&s->abort, 1, __ATOMIC_RELEASE);
        break;
    case SESS_DONE:
        break;                      /* delivery pending: reports the cancel */
    }
    uv_mutex_unlock(&s->mu);
}

void sb_media_asr_unref(sb_media_asr_sess_t *s)
{
    if (s != NULL)
        sess_unref(s);
}

void sb_media_asr_stats(sb_media_asr_t *asr, sb_media_asr_stats_t *out)
{
    *out = asr->stats;
    uv_mutex_lock(&asr->mu);
    out->listening = asr->listening;
    out->waiting = asr->waiting;
    out->decoding = asr->decoding;
    uv_mutex_unlock(&asr->mu);
}

void sb_media_asr_close(sb_media_asr_t *asr, sb_media_asr_closed_cb cb,
                        void *arg)
{
    if (asr == NULL || asr->closing)
        return;
    asr->closing = 1;
    asr->closed_cb = cb;
    asr->closed_arg = arg;
    for (sb_media_asr_sess_t *s = asr->live; s != NULL; s = s->next)
        sb_media_asr_cancel(s);
    uv_mutex_lock(&asr->mu);
    asr->stop = 1;
    uv_cond_broadcast(&asr->cv);
    uv_mutex_unlock(&asr->mu);
    /* The results and the close come from on_async. */
    uv_ref((uv_handle_t *)&asr->async);
    uv_async_send(&asr->async);
}
