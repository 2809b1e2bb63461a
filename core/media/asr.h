/*
 * asr.h: speech recognition for <Gather input="speech"> (asr.c), with
 * pocketsphinx and a grammar made of the Gather's hints. Part of the media
 * module (library sb_media_asr); nothing else sees pocketsphinx.
 *
 * A recognizer (sb_media_asr_t) is a pool of decoders shared by every
 * Gather of the process; a session (sb_media_asr_sess_t) is one Gather's
 * recognition. The media worker feeds a session the caller's audio (8 kHz
 * linear PCM, from any thread); the session finds the utterance with an
 * energy detector as the audio comes, and when the caller has spoken and
 * then been silent for end_silence_ms (or at sb_media_asr_finish), the
 * utterance is decoded in one pass by one of the pool's decoder threads.
 *
 * Threading: sb_media_asr_feed and sb_media_asr_tap may be called from
 * any thread; every other function only from the thread of the loop given
 * to sb_media_asr_new. Every callback runs on that loop, never inside the
 * call that caused it. Decoding never runs on the loop or in feed.
 */
#ifndef SB_MEDIA_ASR_H
#define SB_MEDIA_ASR_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sb_media_asr_s sb_media_asr_t;            /* the pool */
typedef struct sb_media_asr_sess_s sb_media_asr_sess_t;  /* one Gather */

/* Debian's pocketsphinx-en-us paths, used when opts leave them NULL. */
#define SB_MEDIA_ASR_MODEL "/usr/share/pocketsphinx/model/en-us/en-us"
#define SB_MEDIA_ASR_DICT \
    "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"

typedef struct sb_media_asr_opts_s {
    const char *model;          /* acoustic model directory, a 16 kHz
                                   model (audio is upsampled); NULL:
                                   SB_MEDIA_ASR_MODEL */
    const char *dict;           /* pronunciation dictionary (CMU format);
                                   NULL: SB_MEDIA_ASR_DICT */
    int max_concurrent;         /* decoders (each a thread) at once, 1..64;
                                   0: 2 */
    size_t max_buffer_ms;       /* utterance audio kept per session; past
                                   it the oldest is dropped and counted;
                                   0: 30000; at least 1000 */
} sb_media_asr_opts_t;

/* Loads the dictionary and one decoder (about 30 ms: call it at start-up),
 * so that a model or dictionary that cannot load is found here. loop is
 * borrowed and must outlive the recognizer; opts (may be NULL) is copied.
 * Returns 0 and *out (owned: sb_media_asr_close), SB_EINVAL for bad
 * options, or SB_EMEDIA when the model or the dictionary cannot be loaded
 * (the reason is logged). The recognizer keeps loop alive only while a
 * session awaits its result. */
int sb_media_asr_new(uv_loop_t *loop, const sb_media_asr_opts_t *opts,
                     sb_media_asr_t **out);

typedef struct sb_media_asr_result_s {
    int status;                 /* 0; SB_ECANCELED (sb_media_asr_cancel,
                                   sb_media_asr_close); SB_EMEDIA (the
                                   decoder failed: logged) */
    const char *text;           /* borrowed for the callback: the hint that
                                   matched, lowercased, as written in the
                                   hints ("sales", "four two seven",
                                   "427" for the hint "427"); digits as
                                   numerals for $OOV_CLASS_DIGIT_SEQUENCE;
                                   "" when nothing matched or status != 0 */
    double confidence;          /* 0..1, 0 when text is "". A heuristic
                                   (the path's acoustic score per frame),
                                   not a probability: 0.88 on average for
                                   right matches, 0.48 for speech outside
                                   the hints forced onto one (bench/asr);
                                   it ranks, it cannot reject reliably */
    int speech_seen;            /* the detector heard speech */
    const char *unknown_words;  /* borrowed for the callback: hint words
                                   not in the dictionary, ", "-separated
                                   ("acme, zorp"), "" when none; their
                                   phrases were left out of the grammar */
    uint64_t speech_ms;         /* length of the utterance decoded */
    uint64_t dropped_ms;        /* audio dropped past max_buffer_ms */
} sb_media_asr_result_t;

/* What a session reports. Each runs on the recognizer's loop. They may
 * call any function of this header (start, cancel, unref, even close). */
typedef struct sb_media_asr_events_s {
    /* The caller started speaking (once per session): stop the prompt
     * (barge-in). May be NULL. */
    void (*on_speech)(void *arg);
    /* A partial hypothesis. This recognizer decodes each utterance in one
     * pass after its end (see asr.c) and never calls it; it is here for
     * a streaming engine. May be NULL. */
    void (*on_partial)(const char *text, void *arg);
    /* The result, exactly once for every session that started (r is
     * borrowed for the call). Required. */
    void (*on_result)(const sb_media_asr_result_t *r, void *arg);
    void *arg;
} sb_media_asr_events_t;

/* Checks hints (borrowed) as sb_media_asr_start would, for the caller's
 * Notification: a comma-separated list of words and phrases ("sales,
 * support, one two three"); case and punctuation are ignored; a number is
 * said digit by digit ("427": "four two seven"; 0 is "zero" or "oh"); the
 * hint $OOV_CLASS_DIGIT_SEQUENCE lets any string of digits be said
 * (measured: it makes the other hints much less accurate, "sales" comes
 * back as "80"). A phrase with a word the dictionary lacks is left out,
 * and the word is written to unknown (may be NULL; ", "-separated, cut
 * to len), as are class tokens other than that one. Pure but for reading
 * asr's dictionary; loop thread. Returns the number of usable phrases
 * (> 0), SB_EINVAL when none is usable, SB_ETOOBIG past 16 KiB, 500
 * phrases or 32 words in a phrase. */
int sb_media_asr_check_hints(sb_media_asr_t *asr, const char *hints,
                             char *unknown, size_t len);

/* Starts recognizing one utterance against the grammar of hints
 * (borrowed; see sb_media_asr_check_hints). language (may be NULL) must
 * be English ("en", "en-US", "en-GB", any "en-*"; NULL means "en-US"):
 * there is only an English model. end_silence_ms: the utterance ends when
 * speech was heard and then this much non-speech followed (measured in
 * audio fed, not in wall time); 0: only at sb_media_asr_finish. ev is
 * copied. Returns 0 and *out: one reference owned by the caller (drop it
 * with sb_media_asr_unref); or SB_EINVAL (not English, no usable hint, ev
 * or ev->on_result NULL), SB_ETOOBIG (hints too large) or SB_ESTATE
 * (closing); no callback runs then. A session waits for no decoder while
 * it listens: decoders are taken only to decode a finished utterance, in
 * the order utterances finish; when all max_concurrent are busy the
 * utterance waits (its audio kept) for the next free one. */
int sb_media_asr_start(sb_media_asr_t *asr, const char *hints,
                       const char *language, unsigned end_silence_ms,
                       const sb_media_asr_events_t *ev,
                       sb_media_asr_sess_t **out);

/* Feeds n samples of 8 kHz mono linear PCM (borrowed; copied). Any thread;
 * thread-safe; never waits for decoding (it takes the session's lock for
 * a copy and a few dozen operations of speech detection per 20 ms). Audio
 * after the utterance ended, after cancel or after the result is ignored.
 * Valid until the caller's sb_media_asr_unref. */
void sb_media_asr_feed(sb_media_asr_sess_t *s, const int16_t *pcm8k,
                       size_t n);

/* sb_media_asr_feed with a sb_media_tap_cb's signature (arg is the
 * session), to be given to sb_media_endpoint_listen directly. */
void sb_media_asr_tap(const int16_t *pcm8k, size_t n, void *arg);

/* No more audio: the utterance heard so far is decoded and reported (text
 * "" and speech_seen 0 at once when no speech was heard). No-op once the
 * utterance has ended. Loop thread. */
void sb_media_asr_finish(sb_media_asr_sess_t *s);

/* on_result then reports SB_ECANCELED, later (never inside this call),
 * even when a result was found but not yet delivered. No-op after
 * on_result. Loop thread. */
void sb_media_asr_cancel(sb_media_asr_sess_t *s);

/* Drops the caller's reference. Call it exactly once, when no thread can
 * feed s any more (for a media tap: after sb_media_endpoint_listen's
 * callback that removed it); before or after on_result. The session is
 * freed when the recognizer is done with it too. Loop thread. */
void sb_media_asr_unref(sb_media_asr_sess_t *s);

typedef struct sb_media_asr_stats_s {
    uint64_t sessions;          /* started */
    uint64_t results;           /* results with status 0 */
    uint64_t matched;           /* of which text was not "" */
    uint64_t canceled;          /* results with SB_ECANCELED */
    uint64_t failures;          /* results with SB_EMEDIA */
    uint64_t decoded_ms;        /* utterance audio decoded */
    uint64_t decode_ms;         /* wall time decoders spent on it */
    uint64_t dropped_ms;        /* audio dropped past max_buffer_ms */
    unsigned listening;         /* sessions collecting audio now */
    unsigned waiting;           /* utterances waiting for a decoder now */
    unsigned decoding;          /* utterances being decoded now */
    unsigned decoders;          /* decoder threads started (lazily) */
} sb_media_asr_stats_t;

/* Copies asr's counters to *out. Loop thread. */
void sb_media_asr_stats(sb_media_asr_t *asr, sb_media_asr_stats_t *out);

typedef void (*sb_media_asr_closed_cb)(void *arg);

/* Cancels every session whose result is owed (SB_ECANCELED), stops the
 * decoder threads without waiting for them on the loop (a decode under
 * way finishes first: at most a few hundred ms for a 30 s utterance),
 * frees the recognizer, then calls cb (may be NULL) from the loop.
 * Sessions the caller still holds stay valid (feed is a no-op) until
 * sb_media_asr_unref. */
void sb_media_asr_close(sb_media_asr_t *asr, sb_media_asr_closed_cb cb,
                        void *arg);

#endif
