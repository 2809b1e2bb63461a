/*
 * call.h: the call module's public header. Calls and their legs, the call
 * detail records (CDR) lifecycle, number routing, bridging and the state
 * of transfers.
 *
 * A call (sb_call_t) is one leg in Restcomm's sense: one row of the Calls
 * resource, one SIP dialog, one media endpoint. An incoming INVITE makes
 * an inbound call, routed by the number matcher to an application (RCML)
 * that the runner starts; a <Dial> makes outbound-dial calls whose parent
 * is the inbound one, bridged to it when one answers. Calls are refcounted
 * (sb_call_ref / sb_call_unref): the manager holds one reference while the
 * call is live, and every other holder (a Lua handle, a pending request)
 * holds its own.
 *
 * The module never includes Lua headers: the RCML session is started and
 * stopped through a runner (a table of callbacks) that server.c connects
 * to core/lua at start-up.
 */
#ifndef SB_CALL_H
#define SB_CALL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "config.h"
#include "sid.h"

struct sb_store_s;
struct sb_sip_s;
struct sb_media_engine_s;
struct sb_media_endpoint_s;
struct sb_http_client_s;
struct sb_media_cache_s;
struct sb_media_tts_s;
struct sb_call_refer_s;
struct sb_call_conf_event_s;

typedef struct sb_call_mgr_s sb_call_mgr_t;
typedef struct sb_call_s sb_call_t;
typedef struct sb_call_dial_s sb_call_dial_t;
typedef struct sb_call_req_s sb_call_req_t;

typedef enum {
    SB_CALL_QUEUED = 0,
    SB_CALL_RINGING,
    SB_CALL_IN_PROGRESS,
    SB_CALL_COMPLETED,
    SB_CALL_BUSY,
    SB_CALL_FAILED,
    SB_CALL_NO_ANSWER,
    SB_CALL_CANCELED
} sb_call_status_t;

typedef enum {
    SB_CALL_INBOUND = 0,
    SB_CALL_OUTBOUND_DIAL,
    SB_CALL_OUTBOUND_API
} sb_call_dir_t;

/* Returns borrowed (static) Restcomm names: "in-progress", "outbound-dial". */
const char *sb_call_status_name(sb_call_status_t s);
const char *sb_call_dir_name(sb_call_dir_t d);

/* A name/value pair (parameters, headers). Borrowed where it appears. */
typedef struct sb_call_pair_s {
    const char *name;
    const char *value;
} sb_call_pair_t;

/* ---- the manager ---------------------------------------------------------- */

/* What the manager works with. Everything borrowed; each must outlive the
 * manager (the loop's reverse close order ensures it when the manager
 * starts after them). http may be NULL (no status callbacks); cache and
 * tts may be NULL (playing a URL or text then fails with SB_EMEDIA). */
typedef struct sb_call_deps_s {
    uv_loop_t *loop;
    const sb_config_t *cfg;
    struct sb_store_s *store;
    struct sb_sip_s *sip;
    struct sb_media_engine_s *media;
    struct sb_http_client_s *http;
    struct sb_media_cache_s *cache;     /* audio for Play URLs */
    struct sb_media_tts_s *tts;         /* speech for Say */
    struct sb_media_asr_s *asr;         /* speech input of Gather; may be
                                           NULL (digits only) */
} sb_call_deps_t;

/* Creates the manager and takes the SIP agent's INVITE handler. Returns 0
 * and *out (owned: sb_call_mgr_close), or SB_EINVAL for missing deps. */
int sb_call_mgr_new(const sb_call_deps_t *deps, sb_call_mgr_t **out);

/* Hangs up every live call (BYE, CANCEL or 503), cancels their sessions,
 * gives the INVITE handler back, closes the manager's handles and frees
 * it; cb(arg) fires once from a later loop callback. */
void sb_call_mgr_close(sb_call_mgr_t *mgr, void (*cb)(void *arg), void *arg);

/* For the media engine's events (server.c passes these to
 * sb_media_engine_new with the manager as arg): a DTMF digit and an RTP
 * timeout on an endpoint of a call. */
void sb_call_on_media_dtmf(struct sb_media_endpoint_s *ep, char digit,
                           int duration_ms, sb_call_mgr_t *mgr);
void sb_call_on_media_timeout(struct sb_media_endpoint_s *ep, sb_call_mgr_t *mgr);
/* A key went down (RFC 4733 event start): a gather's prompts stop. */
void sb_call_on_media_dtmf_begin(struct sb_media_endpoint_s *ep, char digit,
                                 sb_call_mgr_t *mgr);

/* ---- the application runner (RCML sessions) -------------------------------- */

/* An RCML document already fetched (a REST redirect fetches before it
 * swaps): the application's first request is not sent again. */
typedef struct sb_call_doc_s {
    int status;                 /* its HTTP status (2xx) */
    const char *body;
    size_t body_len;
    const char *content_type;   /* may be NULL */
    const char *url;            /* final URL, after HTTP redirects */
} sb_call_doc_t;

/* An application to run on a call. Borrowed for the start call. */
typedef struct sb_call_app_s {
    const char *url;
    const char *method;             /* NULL: POST */
    const char *fallback_url;       /* may be NULL */
    const char *fallback_method;    /* NULL: POST */
    const sb_call_pair_t *params;   /* extra request parameters, kept on
                                       every request of the session */
    size_t param_count;
    const sb_call_doc_t *document;  /* the first document, fetched
                                       already; NULL: fetch url */
} sb_call_app_t;

/* How the manager drives RCML sessions without knowing Lua. */
typedef struct sb_call_runner_s {
    /* Starts app on call (borrowed; take a reference to keep it). Before
     * any Lua runs it calls sb_call_app_attach with its session, which
     * reports its end with sb_call_app_done (possibly before start
     * returns). Returns 0, or a negative code when no session started
     * (the call is then hung up). */
    int (*start)(void *arg, sb_call_t *call, const sb_call_app_t *app);
    /* The call ended: whatever the session waits for returns
     * `nil, sb_err_reason(err)`; the session then runs to its end. */
    void (*cancel)(void *arg, void *session, int err);
    /* Ends the session without running more of it and without touching
     * the call (a REFER hands the call to new RCML). sb_call_app_done is
     * not called for it. */
    void (*stop)(void *arg, void *session);
    /* The call is over: the handles Lua holds become dead (they drop their
     * references). */
    void (*dead)(void *arg, sb_call_t *call);
    /* A REFER arrived (transfer.c): runs the refer handlers on refer
     * (borrowed; take a reference to keep it) and calls
     * sb_call_refer_done when they are through. Returns 0, or a negative
     * code (the REFER is then refused with 500). May be NULL: REFER is
     * then refused with 501. */
    int (*refer)(void *arg, struct sb_call_refer_s *refer);
    /* A conference event (join, leave, start, end, mute), from the loop
     * after it happened: runs the plugins' "conference.<event>" hooks.
     * ev is borrowed for the call. May be NULL. */
    void (*conf_event)(void *arg, const struct sb_call_conf_event_s *ev);
} sb_call_runner_t;

/* What a conference hook is told. */
typedef struct sb_call_conf_event_s {
    const char *event;          /* "join", "leave", "start", "end", "mute" */
    const char *conference_sid;
    const char *name;           /* the room's name */
    const char *account_sid;
    sb_call_t *call;            /* the member concerned (live or not), or
                                   NULL */
    int members;                /* in the room after the event */
    int muted;                  /* the member is muted (or held) */
} sb_call_conf_event_t;

/* Sets the runner (r borrowed: static). Without one, calls are refused
 * with 503. */
void sb_call_mgr_set_runner(sb_call_mgr_t *mgr, const sb_call_runner_t *r,
                            void *arg);

/* The runner: session (opaque) now runs call's application, replacing
 * any session before it (which the runner has stopped). */
void sb_call_app_attach(sb_call_t *call, void *session);

/* The runner: session (stopped by the runner's stop) no longer runs the
 * call; nothing else happens. Ignored for another session. */
void sb_call_app_detach(sb_call_t *call, void *session);

/* The runner reports that session ended with status (0: the application
 * finished; else a SB_E* code: the call is hung up). Ignored for a
 * session that is not the call's current one. */
void sb_call_app_done(sb_call_t *call, void *session, int status);

/* ---- calls ------------------------------------------------------------------ */

void sb_call_ref(sb_call_t *call);
void sb_call_unref(sb_call_t *call);

/* Returns borrowed SID (valid while a reference is held). */
const char *sb_call_sid(const sb_call_t *call);
sb_call_status_t sb_call_status(const sb_call_t *call);
/* 1 until the call reached a final status. */
int sb_call_alive(const sb_call_t *call);

/* What an RCML session knows about its call (the voice-request
 * parameters, restcomm.md 3.1). Every pointer is borrowed and valid until
 * the call changes (a status change, a dial) or is released. */
typedef struct sb_call_info_s {
    const char *call_sid;
    const char *instance_id;
    const char *outbound_call_sid;  /* the current dial leg, or NULL */
    const char *account_sid;
    const char *from;
    const char *to;
    const char *status;             /* "ringing", "in-progress", ... */
    const char *direction;
    const char *caller_name;        /* NULL when unknown */
    const char *forwarded_from;     /* NULL: derived from Diversion */
    const char *timestamp;          /* creation, ISO 8601 */
    const char *refer_target;       /* the three after a REFER, else NULL */
    const char *transferor;
    const char *transferee;
    const sb_call_pair_t *headers;  /* X-* and Diversion of the INVITE */
    size_t header_count;
} sb_call_info_t;

void sb_call_info(const sb_call_t *call, sb_call_info_t *out);

/* The same, as the RCML request builder takes it (rcml.h); the strings
 * are the call's, borrowed. */
struct sb_rcml_call_info_s;
void sb_call_rcml_info(const sb_call_t *call, struct sb_rcml_call_info_s *out);

/* Completion of a call request: err 0 or SB_E*. Never called from inside
 * the function that started the request. */
typedef void (*sb_call_done_cb)(int err, void *arg);

/* Answers an inbound call (200 OK with our SDP). cb fires once, later,
 * with 0 (also when already answered) or an error; *req identifies the
 * request for sb_call_req_cancel. Returns 0, or SB_EHANGUP (call over),
 * SB_ESTATE (not an inbound call). */
int sb_call_answer(sb_call_t *call, sb_call_done_cb cb, void *arg,
                   sb_call_req_t **req);
/* Stops a request: its cb never fires. */
void sb_call_req_cancel(sb_call_req_t *req);

/* Ends the call whatever its state (BYE, CANCEL, or 480 to an unanswered
 * INVITE). Synchronous: the call is over when it returns. Returns 0 or
 * SB_EHANGUP when it was already over. */
int sb_call_hangup(sb_call_t *call);

/* Refuses an unanswered inbound call with sip_status (486 makes it busy,
 * anything else failed). Returns 0, SB_ESTATE (answered already or not
 * inbound), SB_EHANGUP. */
int sb_call_reject(sb_call_t *call, int sip_status);

/* Sends 180 Ringing on an unanswered inbound call (once). Returns 0. */
int sb_call_ring(sb_call_t *call);

/* ---- playback (play.c) ------------------------------------------------------ */

typedef struct sb_call_play_s sb_call_play_t;

/* What to play towards the call's phone. At most one of url, text, tone
 * and digits is set; with none, silence of ms. Borrowed for the
 * sb_call_play call (copied). */
typedef struct sb_call_play_opts_s {
    const char *url;            /* absolute http, https or file URL */
    const char *text;           /* spoken by the TTS */
    const char *voice;          /* for text: "man", "woman", ...; NULL: man */
    const char *language;       /* for text: "en-US", "es", ...; NULL: en */
    const char *tone;           /* "ringback", "busy", "beep", "dialtone",
                                   optionally ":<country>" */
    const char *digits;         /* DTMF as in-band tones, 'w' a pause */
    int loop;                   /* times to play; 0: until cancelled or
                                   hung up (silence: always once) */
    unsigned ms;                /* tone or silence length; 0: until
                                   stopped (silence needs ms > 0) */
} sb_call_play_opts_t;

/* How a play ended. Borrowed for the callback. */
typedef struct sb_call_play_result_s {
    int err;                    /* 0 (played to the end), SB_EHANGUP,
                                   SB_ENETWORK, SB_ETIMEDOUT, SB_ENOENT,
                                   SB_EFORMAT, SB_ETOOBIG, SB_EPERM,
                                   SB_EINVAL, SB_EMEDIA, ... */
    int http_status;            /* the origin's status of a failed URL, or 0 */
    const char *why;            /* one line for a Notification ("HTTP 404
                                   from http://x/a.wav"), NULL on success */
    int language_fallback;      /* text was spoken in English because its
                                   language is unknown (played anyway) */
} sb_call_play_result_t;

typedef void (*sb_call_play_done_cb)(const sb_call_play_result_t *r,
                                     void *arg);

/* Plays opts on call (borrowed): fetches the URL through the audio cache
 * or synthesizes the text (both start at once), answers an unanswered
 * inbound call and starts playing once its ACK has arrived, then plays
 * loop times on the media clock. cb fires once, later (never inside this
 * call): when the sound ended, failed, or the call ended first
 * (SB_EHANGUP). Returns 0 and *out (for sb_call_play_cancel; valid until
 * cb runs), or without calling cb: SB_EHANGUP (the call is over),
 * SB_EINVAL (several sources, loop < 0, silence without ms), SB_ESTATE
 * (an outgoing call not answered yet, or no media endpoint). */
int sb_call_play(sb_call_t *call, const sb_call_play_opts_t *opts,
                 sb_call_play_done_cb cb, void *arg, sb_call_play_t **out);

/* Stops a play: the sound stops (sb_media_endpoint_stop), a fetch or
 * synthesis under way is given up, and cb never fires. */
void sb_call_play_cancel(sb_call_play_t *p);

/* Starts fetching opts->url or synthesizing opts->text (other fields are
 * ignored) so that a later play finds it ready; nothing is played and
 * nothing reports back. Returns 0, SB_EINVAL (neither url nor text),
 * SB_EMEDIA (no cache or TTS), or what sb_media_cache_get /
 * sb_media_tts_synth refuse with (SB_EPERM for a URL that is not http,
 * https or file under media.root). */
int sb_call_prefetch(sb_call_t *call, const sb_call_play_opts_t *opts);

/* ---- gathering input (gather.c) -------------------------------------------- */

typedef struct sb_call_gather_s sb_call_gather_t;

#define SB_CALL_GATHER_MAX_DIGITS 128

/* What to collect. Borrowed for sb_call_gather_start (copied). */
typedef struct sb_call_gather_opts_s {
    int dtmf;                   /* digits: RFC 4733, or in-band for a phone
                                   without telephone-event */
    int speech;                 /* speech, recognized against hints */
    const char *hints;          /* "sales, support": the grammar */
    const char *language;       /* NULL: en-US */
    const char *finish_on_key;  /* keys that end the input (not part of
                                   the digits); NULL or "": none */
    int num_digits;             /* input ends after this many; 0: no limit */
    unsigned timeout_ms;        /* after the prompts: for the first digit,
                                   and between digits */
    unsigned speech_timeout_ms; /* silence that ends an utterance; 0: 1 s */
    const char *partial_url;    /* partial speech results are POSTed here
                                   (UnstableSpeechResult); NULL: none */
    const char *partial_method; /* NULL: POST */
} sb_call_gather_opts_t;

/* How a gather ended. Borrowed for the callback. */
typedef struct sb_call_gather_result_s {
    int err;                    /* 0, SB_EHANGUP, SB_ECANCELED */
    const char *how;            /* "finish-key", "num-digits", "timeout",
                                   "speech", "hangup" */
    const char *digits;         /* collected, without the finishing key */
    char key;                   /* the finishing key, or 0 */
    const char *speech;         /* the recognized text, or NULL */
    double confidence;          /* of speech, 0..1 */
    const char *speech_error;   /* why speech was not recognized (no
                                   recognizer, no usable hints), or NULL */
} sb_call_gather_result_t;

typedef void (*sb_call_gather_done_cb)(const sb_call_gather_result_t *r,
                                       void *arg);

/* Starts collecting on call at once: digits (and speech) that come while
 * the prompts play count, and the first of them stops the prompts (every
 * play of the call ends with SB_EINTERRUPTED, and new ones are refused
 * with it until the gather ends). Nothing reports until
 * sb_call_gather_wait. Returns 0 and *out (owned: wait then free, or
 * cancel), SB_EHANGUP, SB_ESTATE (no media, or a gather runs already),
 * SB_EINVAL (neither dtmf nor speech). */
int sb_call_gather_start(sb_call_t *call, const sb_call_gather_opts_t *opts,
                         sb_call_gather_t **out);

/* The prompts are over: the timeout starts (unless input already ended).
 * cb fires once, later. g is freed after cb returns. */
void sb_call_gather_wait(sb_call_gather_t *g, sb_call_gather_done_cb cb,
                         void *arg);

/* Ends g without a callback and frees it (before or during wait). */
void sb_call_gather_cancel(sb_call_gather_t *g);

/* ---- recording (record.c) --------------------------------------------------- */

typedef struct sb_call_record_s sb_call_record_t;

/* Borrowed for sb_call_record (copied). */
typedef struct sb_call_record_opts_s {
    unsigned max_ms;            /* 0: no limit */
    unsigned silence_ms;        /* silence that ends it; 0: never */
    const char *finish_on_key;  /* keys that end it; NULL or "": none */
    int beep;                   /* a 500 ms 1 kHz beep first */
    int trim;                   /* trailing silence cut */
    /* The action, requested by the call module with the recording's
     * parameters when the caller hangs up first (the application cannot
     * any more); NULL: none. */
    const char *action_url;
    const char *action_method;
} sb_call_record_opts_t;

typedef struct sb_call_record_result_s {
    int err;                    /* 0; SB_EIO (the file failed: what was
                                   written is kept), SB_EHANGUP (hung up
                                   before anything was recorded),
                                   SB_EMEDIA, ... */
    const char *sid;            /* RE..., NULL when nothing was stored */
    const char *url;            /* RecordingUrl, NULL with sid */
    double duration_s;          /* of the file */
    const char *digits;         /* the key that ended it, "hangup", or "" */
    const char *why;            /* one line when err != 0 */
} sb_call_record_result_t;
/* sb_call_record also returns SB_ELIMIT when recordings.max_concurrent
 * recordings run already. */

typedef void (*sb_call_record_done_cb)(const sb_call_record_result_t *r,
                                       void *arg);

/* Records what the caller says into recordings.dir (answering an
 * unanswered call first), after a beep when opts->beep. cb fires once,
 * later, when it ended (silence, key, max length, hang-up: then also
 * when the call is over already, unless detached). Returns 0 and *out,
 * or SB_EHANGUP / SB_ESTATE / SB_EBUSY (a recording runs) without cb. */
int sb_call_record(sb_call_t *call, const sb_call_record_opts_t *opts,
                   sb_call_record_done_cb cb, void *arg,
                   sb_call_record_t **out);

/* The waiter goes away (its session ended): the recording goes on to its
 * end and is stored (and its action requested if the call is over), but
 * cb never fires. */
void sb_call_record_detach(sb_call_record_t *r);

/* The URL of recording sid of account_sid, as RecordingUrl gives it:
 * "http://HOST:PORT/restcomm/2012-04-24/Accounts/AC.../Recordings/RE...wav".
 * Returns an owned string. */
char *sb_call_recording_url(sb_call_mgr_t *mgr, const char *account_sid,
                            const char *sid);

/* ---- dial ----------------------------------------------------------------- */

typedef enum {
    SB_DIAL_NUMBER = 0,         /* to sip.outbound_proxy (or back to us) */
    SB_DIAL_CLIENT,             /* every registered contact of a login */
    SB_DIAL_SIP                 /* a SIP URI */
} sb_dial_kind_t;

/* Status callback events of a dialled leg (restcomm.md 3.2). */
#define SB_DIAL_EV_INITIATED 0x1
#define SB_DIAL_EV_RINGING   0x2
#define SB_DIAL_EV_ANSWERED  0x4
#define SB_DIAL_EV_COMPLETED 0x8

/* One noun of a Dial. Borrowed for the sb_call_dial call (copied). */
typedef struct sb_call_dial_target_s {
    sb_dial_kind_t kind;
    const char *dest;           /* number, client login or SIP URI */
    const sb_call_pair_t *headers;  /* X- headers for the INVITE */
    size_t header_count;
    const char *username;       /* Sip: digest credentials, or NULL */
    const char *password;
    const char *status_callback;        /* URL or NULL */
    const char *status_callback_method; /* NULL: POST */
    unsigned status_events;     /* SB_DIAL_EV_*; 0: completed only */
} sb_call_dial_target_t;

typedef struct sb_call_dial_opts_s {
    const sb_call_dial_target_t *targets;
    size_t target_count;        /* 1..SB_DIAL_MAX_TARGETS */
    int timeout_s;              /* ring time; 0: 30 */
    int time_limit_s;           /* talk time; 0: 14400 */
    const char *caller_id;      /* From user; NULL: the caller's From */
    int hangup_on_star;         /* '*' from the caller ends the bridge */
    int return_on_answer;       /* cb fires when a leg answers (status
                                   "answered"), the bridge staying up;
                                   when it ends later, the caller is hung
                                   up unless an application runs on it */
    /* The Dial's action (absolute URL, NULL: none) and its method (NULL:
     * POST). The caller's application requests it when the dial ends;
     * when the caller hangs up while bridged there is no application
     * left to do it, so the dial requests it itself (fire and forget, the
     * answer ignored, as Restcomm reports the outcome): the standard
     * parameters with CallStatus=completed plus DialCallSid,
     * DialCallStatus=completed, DialCallDuration, DialRingDuration (and
     * DialSipCallId, DialSipResponseCode, DialSipHeader_* when a target is
     * a SIP URI). Copied. */
    const char *action_url;
    const char *action_method;
    /* Ringback played to an answered caller while the targets ring:
     * "ringback:<ring_tone>", a country code (Twilio's ringTone: "us",
     * "uk", "de", ...; the tone generator takes "us" for one it does not
     * know). NULL or "": "us". Copied. */
    const char *ring_tone;
    /* Records the bridge from the answer to its end into a Recording of
     * the caller's call (DialVerb): 1 both legs mixed, 2 one channel
     * each (Twilio's record-from-answer-dual); 0 none. */
    int record;
} sb_call_dial_opts_t;

#define SB_DIAL_MAX_TARGETS 10
#define SB_DIAL_MAX_HEADERS 32  /* X- headers per target */
#define SB_DIAL_MAX_BRANCHES 32 /* after Client contacts are expanded */

/* How a Dial ended (the action parameters, restcomm.md 3.3). Borrowed for
 * the callback. */
typedef struct sb_call_dial_result_s {
    const char *call_sid;       /* DialCallSid: the answered leg, else the
                                   last leg tried, else NULL */
    const char *status;         /* completed, busy, no-answer, failed,
                                   canceled */
    int64_t duration;           /* DialCallDuration: talk seconds */
    int64_t ring_duration;      /* DialRingDuration; -1 when no leg */
    const char *sip_call_id;    /* DialSipCallId of that leg, or NULL */
    int sip_status;             /* DialSipResponseCode: the final answer
                                   of the last failed leg, 200 when one
                                   answered, 0 when none was sent */
    const sb_call_pair_t *headers;  /* DialSipHeader_X-*: X- headers of
                                   the final response or the BYE */
    size_t header_count;
    const char *recording_url;  /* RecordingUrl of record, or NULL */
} sb_call_dial_result_t;

typedef void (*sb_call_dial_done_cb)(const sb_call_dial_result_t *r, void *arg);

/* Dials opts' targets in parallel from call (the caller, borrowed): the
 * first leg that answers is bridged to the caller (answering the caller
 * first if needed) and the others are cancelled. A caller that is
 * answered already hears ringback (opts->ring_tone) until a target's
 * early media is connected, one answers, or the dial ends. cb fires once, later,
 * when the dial is over: no leg answered (busy, no-answer after timeout_s,
 * failed), or the bridge ended (the dialled party hung up, time_limit_s
 * passed, or the caller pressed '*' with hangup_on_star). When the caller
 * hangs up first, the dial ends its legs and cb does not fire (the
 * runner's cancel reaches the waiting session instead). Returns 0 and
 * *out (for sb_call_dial_cancel, valid until cb), SB_EHANGUP (the call is
 * over), SB_EBUSY (a dial is already running on it), SB_EINVAL (no
 * target, too many, bad destination). */
int sb_call_dial(sb_call_t *call, const sb_call_dial_opts_t *opts,
                 sb_call_dial_done_cb cb, void *arg, sb_call_dial_t **out);

/* Stops a dial: its legs are ended (CANCEL or BYE) and cb never fires. */
void sb_call_dial_cancel(sb_call_dial_t *d);

/* ---- calls created over REST (originate.c) --------------------------------- */

/* Where a created call goes: the To of POST Calls parsed. */
typedef struct sb_call_target_s {
    sb_dial_kind_t kind;
    char dest[512];             /* number, Client login, or "sip:..." URI */
    sb_call_pair_t headers[SB_DIAL_MAX_HEADERS];   /* owned X- headers */
    size_t header_count;
} sb_call_target_t;

/* Parses To: "client:alice", a SIP URI ("sip:bob@host", or anything with
 * '@'), or a number; each optionally followed by "?X-Header=value&..."
 * (form-encoded custom INVITE headers, X- only). Returns 0 and *out
 * (release with sb_call_target_clear), or SB_EINVAL. */
int sb_call_parse_target(const char *to, sb_call_target_t *out);
void sb_call_target_clear(sb_call_target_t *t);

/* Borrowed for sb_call_create (copied). */
typedef struct sb_call_create_opts_s {
    const char *account_sid;
    const char *from;           /* the caller ID: From's user part */
    sb_call_target_t target;
    const char *url;            /* the application, fetched at the answer */
    const char *method;         /* NULL: POST */
    const char *fallback_url;
    const char *fallback_method;
    const char *status_callback;
    const char *status_callback_method;
    unsigned status_events;     /* SB_DIAL_EV_*; 0: completed only */
    int timeout_s;              /* ring time; 0: 60 */
    const char *username;       /* digest credentials for a SIP target */
    const char *password;
    const char *send_digits;    /* played as tones at the answer, before
                                   the Url is fetched; 'w' waits 0.5 s */
    int record;                 /* both sides of the whole call, from the
                                   answer, into a Recording of the call */
} sb_call_create_opts_t;

/* Creates an outbound-api call (status queued) and sends its INVITEs:
 * the number through sip.outbound_proxy, every registered contact of the
 * Client (the first to answer wins), or the SIP URI. When it is answered
 * the application at url runs on it. Returns 0 and the call's SID in sid
 * (the call may already have failed by the time the caller looks, e.g.
 * a Client with no registration), SB_ENOENT (the Client is not one of
 * the account's), SB_EBUSY (admission control refused it), SB_EINVAL,
 * SB_ESTATE (shutting down). */
int sb_call_create(sb_call_mgr_t *mgr, const sb_call_create_opts_t *o,
                   char sid[SB_SID_SIZE]);

/* ---- live call modification (modify.c) -------------------------------------- */

/* Borrowed for sb_call_modify_url (copied). */
typedef struct sb_call_modify_opts_s {
    const char *url;
    const char *method;             /* NULL: POST */
    const char *fallback_url;       /* tried when url gives no document */
    const char *fallback_method;
    const char *status_callback;    /* replaces the call's, when set */
    const char *status_callback_method;
    int move_connected;             /* the bridged leg runs url too
                                       (else it is hung up) */
} sb_call_modify_opts_t;

/* err 0: the new application runs; else why (one line) says what failed
 * (the call is as it was unless err is SB_EHANGUP). */
typedef void (*sb_call_modify_cb)(int err, const char *why, void *arg);

/* Fetches o->url (then o->fallback_url) with the call's parameters and,
 * once a document arrived, runs it on the call in place of its current
 * application (sb_call_redirect with that document). A failed fetch
 * writes a Notification and leaves the call alone. cb fires once, later.
 * Returns 0; 1 when it was applied at once without cb (a created call not
 * answered yet: it will fetch the new url at the answer); SB_EBUSY (a
 * modification is under way), SB_EHANGUP, SB_EINVAL, SB_ESTATE. */
int sb_call_modify_url(sb_call_t *call, const sb_call_modify_opts_t *o,
                       sb_call_modify_cb cb, void *arg);

/* Mutes or unmutes the call: what its phone says no longer reaches the
 * call it is bridged to, or its conference. Returns 0 or SB_EHANGUP. */
int sb_call_mute(sb_call_t *call, int muted);
int sb_call_muted(const sb_call_t *call);
/* 1 while sb_call_modify_url is fetching for the call. */
int sb_call_modifying(const sb_call_t *call);
/* The call's media quality so far: what its phone sent and was sent, the
 * loss and jitter of what it sent, and a MOS estimate from them
 * (sb_media_quality). Returns 0, or SB_ESTATE without media. */
typedef struct sb_call_quality_s {
    const char *codec;          /* "PCMU", "PCMA", "" (static) */
    uint64_t received, sent, lost;
    double loss_pct, jitter_ms, r, mos;
} sb_call_quality_t;
int sb_call_quality(const sb_call_t *call, sb_call_quality_t *out);
/* Returns borrowed account SID of the call. */
const char *sb_call_account(const sb_call_t *call);

/* ---- bridges and new applications (transfer.c) ---------------------------- */

/* These change what a call is connected to; each completes later, from
 * the loop (the Lua session that asks must not be running when another
 * session is stopped), through cb with 0 or an error, once, unless
 * sb_call_req_cancel runs first. They return 0 and *req, or SB_EHANGUP
 * when the call is over. */

/* Takes call out of the bridge it is in (a Dial's, or sb_call_bridge's):
 * both calls stay up, no longer connected; the application that made the
 * Dial stops without running further (it hangs nobody up). */
int sb_call_unbridge(sb_call_t *call, sb_call_done_cb cb, void *arg,
                     sb_call_req_t **req);

/* What a redirect does with the call at the other end of a bridge. */
typedef enum {
    SB_REDIRECT_HANGUP_PEER = 0,    /* it is hung up (Restcomm's live call
                                       modification without
                                       MoveConnectedCallLeg) */
    SB_REDIRECT_KEEP_PEER,          /* it stays up, unbridged, as it is
                                       (a transfer ends it itself) */
    SB_REDIRECT_MOVE_PEER           /* it runs the same application too
                                       (fetched with its own parameters) */
} sb_call_peer_mode_t;

/* Runs app on call from now on: unbridges it, stops its current
 * application (without hanging up) and starts app (CallStatus is the
 * call's, e.g. in-progress); the call it was bridged to is dealt with as
 * peer says. cb gets 0 once the new application started. */
int sb_call_redirect(sb_call_t *call, const sb_call_app_t *app,
                     sb_call_peer_mode_t peer, sb_call_done_cb cb, void *arg,
                     sb_call_req_t **req);

/* Connects a and b (unbridging each first); cb fires when one of them
 * ends, after the other was hung up too (0), or SB_EHANGUP when one was
 * over already. */
int sb_call_bridge(sb_call_t *a, sb_call_t *b, sb_call_done_cb cb, void *arg,
                   sb_call_req_t **req);

/* Returns borrowed call a call is bridged to, or NULL. */
sb_call_t *sb_call_peer(const sb_call_t *call);

/* ---- transfer: REFER (transfer.c) ------------------------------------------- */

/* One REFER received on a call's dialog, handed to the runner's refer
 * handlers. Refcounted: the runner (its Lua handle) holds references. */
typedef struct sb_call_refer_s sb_call_refer_t;

/* What the REFER says and what it would reach (restcomm.md 1.2). Every
 * pointer is borrowed, valid while a reference is held. */
typedef struct sb_call_refer_info_s {
    const char *transferor;     /* user part of the REFER's Contact */
    const char *transferee;     /* user part of its To */
    const char *target;         /* user part of Refer-To */
    const char *refer_to;       /* the Refer-To URI */
    int refer_to_sip;           /* Refer-To is a sip:/sips: URI */
    const char *referred_by;    /* Referred-By URI or NULL */
    int subscription;           /* NOTIFYs go out (refer.notify and no
                                   Refer-Sub: false) */
    const char *transferor_sid; /* the call whose dialog got the REFER */
    const char *transferee_sid; /* the call it is bridged to, or NULL */
    /* The number the inbound call dialled (its To, through the matcher),
     * NULL fields when none matched. refer_url: ReferApplicationSid's URL
     * or ReferUrl; refer_method NULL: POST. */
    const char *number_sid;
    const char *phone_number;
    const char *account_sid;
    const char *refer_url;
    const char *refer_method;
    const sb_call_pair_t *headers;  /* X- headers of the REFER */
    size_t header_count;
    int answered;               /* accept or reject was done */
    int accepted;
} sb_call_refer_info_t;

void sb_call_refer_ref(sb_call_refer_t *r);
void sb_call_refer_unref(sb_call_refer_t *r);
void sb_call_refer_info(const sb_call_refer_t *r, sb_call_refer_info_t *out);
/* Returns borrowed calls (NULL for a transferee the REFER had none). */
sb_call_t *sb_call_refer_transferor(const sb_call_refer_t *r);
sb_call_t *sb_call_refer_transferee(const sb_call_refer_t *r);

/* 202 Accepted; with a subscription, NOTIFY "SIP/2.0 100 Trying" follows.
 * Returns 0, SB_ESTATE (answered already), SB_EHANGUP (the transferor's
 * dialog is gone). */
int sb_call_refer_accept(sb_call_refer_t *r);
/* Refuses with status (400..699) and reason (Reason header; may be NULL).
 * Returns as accept. */
int sb_call_refer_reject(sb_call_refer_t *r, int status, const char *reason);
/* Reports progress to the transferor: NOTIFY with a sipfrag of status
 * (reason NULL: the standard phrase); status >= 200 ends the
 * subscription. Without a subscription (Restcomm mode, Refer-Sub: false)
 * nothing is sent and 0 is returned. Returns 0, SB_ESTATE (not accepted,
 * or final already sent), SB_EHANGUP. */
int sb_call_refer_notify(sb_call_refer_t *r, int status, const char *reason);
/* The runner: the handlers are through. An unanswered REFER is refused
 * 603 now. */
void sb_call_refer_done(sb_call_refer_t *r);

/* ---- metrics (the Supervisor resource) --------------------------------------- */

typedef struct sb_call_stats_s {
    int64_t live;               /* calls not yet over */
    int64_t live_incoming;
    int64_t live_outgoing;
    int64_t max_concurrent;     /* highest live since start */
    int64_t max_concurrent_incoming;
    int64_t max_concurrent_outgoing;
    int64_t total;              /* calls since start */
    int64_t total_incoming;
    int64_t total_outgoing;
    int64_t completed;          /* ended completed */
    int64_t failed;             /* ended busy, failed, no-answer, canceled */
    int64_t refused;            /* INVITEs refused 503 by admission control */
    /* Calls over, by final status (sb_call_status_t) and direction
     * (inbound, outbound-dial, outbound-api). */
    int64_t ended[SB_CALL_CANCELED + 1][3];
    int64_t media_endpoints;
} sb_call_stats_t;

void sb_call_mgr_stats(const sb_call_mgr_t *mgr, sb_call_stats_t *out);

/* Calls visits every live call (borrowed for the call) until it returns
 * non-zero. */
void sb_call_mgr_each(sb_call_mgr_t *mgr,
                      int (*each)(sb_call_t *call, void *arg), void *arg);

/* Commits the call records written so far (a REST answer that reads
 * them back needs them). */
void sb_call_mgr_flush(sb_call_mgr_t *mgr);

/* Returns borrowed live call with this SID, or NULL. */
sb_call_t *sb_call_mgr_find(sb_call_mgr_t *mgr, const char *sid);

/* ---- number matching (numbers.c, regex.c) -------------------------------- */

/* The matcher: finds the IncomingPhoneNumber a dialled string reaches, for
 * INVITE routing and REFER alike (restcomm.md 1.4): the string as given,
 * then its '+' / no-'+' variant, as exact numbers; then pattern numbers
 * (pure-SIP numbers holding one of * # ^ | . $ \ [ ]), longest first, as
 * substring searches (only for strings of digits and * # + ,); then the
 * catch-all number "*". Compiled patterns are cached until a number
 * changes. */
typedef struct sb_call_numbers_s sb_call_numbers_t;

typedef enum {
    SB_NUMBER_EXACT = 0,        /* the string itself */
    SB_NUMBER_VARIANT,          /* with or without the leading '+' */
    SB_NUMBER_PATTERN,          /* a regular-expression number */
    SB_NUMBER_CATCH_ALL         /* the "*" number */
} sb_call_number_kind_t;

/* A matched number: what routing and REFER need. Strings are owned (NULL
 * when unset); release with sb_call_number_clear. An application SID, when
 * set, overrides the URL next to it (voice, refer). */
typedef struct sb_call_number_s {
    char sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    sb_call_number_kind_t kind;
    int pure_sip;
    char *phone_number;         /* as stored: the pattern of a pattern number */
    char *voice_url, *voice_method, *voice_fallback_url, *voice_fallback_method;
    char *voice_application_sid;
    char *status_callback, *status_callback_method;
    char *refer_url, *refer_method, *refer_application_sid;
} sb_call_number_t;

void sb_call_number_clear(sb_call_number_t *n);

/* Creates a matcher over store (borrowed; must outlive it). Returns 0 and
 * *out (owned: sb_call_numbers_free). */
int sb_call_numbers_new(struct sb_store_s *store, sb_call_numbers_t **out);
void sb_call_numbers_free(sb_call_numbers_t *m);

/* Matches phone (borrowed). Returns 0 and fills *out, SB_ENOENT when no
 * number matches, or SB_ESTORE. */
int sb_call_number_match(sb_call_numbers_t *m, const char *phone,
                         sb_call_number_t *out);

/* How many times the patterns were (re)compiled: for tests and stats. */
uint64_t sb_call_numbers_loads(const sb_call_numbers_t *m);

/* Returns 1 when number is a pattern number's text (not "*"). */
int sb_call_number_is_pattern(const char *number);

/* Regular expressions of pattern numbers: Java-like syntax, run by a
 * Pike VM in time linear in the input (no backtracking, so a pattern such
 * as (a+)+$ cannot stall the server). A quantifier with nothing before it
 * is a literal ("+1.*", "*77#"). */
typedef struct sb_call_regex_s sb_call_regex_t;

/* Compiles pattern (borrowed). Returns 0 and *out (owned:
 * sb_call_regex_free), or SB_EINVAL with the reason in err (errlen bytes;
 * err may be NULL): syntax errors, back-references, look-around,
 * possessive quantifiers, or a program over 8192 states. */
int sb_call_regex_compile(const char *pattern, sb_call_regex_t **out, char *err,
                          size_t errlen);
/* Returns 1 when re matches anywhere in s (Java's find()), else 0. */
int sb_call_regex_find(const sb_call_regex_t *re, const char *s);
void sb_call_regex_free(sb_call_regex_t *re);

/* ---- conferences (conference.c) ------------------------------------------- */

/* Status callback events of a conference (statusCallbackEvent). */
#define SB_CONF_EV_START 0x01
#define SB_CONF_EV_END   0x02
#define SB_CONF_EV_JOIN  0x04
#define SB_CONF_EV_LEAVE 0x08
#define SB_CONF_EV_MUTE  0x10
#define SB_CONF_EV_HOLD  0x20

/* Borrowed for sb_call_conference (copied). */
typedef struct sb_call_conf_opts_s {
    const char *name;           /* the room, per account; 1..255 bytes */
    int muted;
    int beep_enter, beep_exit;  /* a beep in the room when this member
                                   comes, and when it goes */
    int start_on_enter;         /* the room starts with this member */
    int end_on_exit;            /* the room ends when it leaves */
    int max_participants;       /* of a room this member creates; 0: 40 */
    int hold_music;             /* until the start, the server's wait
                                   music (0: the application plays its
                                   own; the start interrupts it) */
    /* Of a room this member creates (NULL: none); events: SB_CONF_EV_*,
     * 0: start and end. */
    const char *status_callback;
    const char *status_callback_method;
    unsigned status_events;
    /* Of a room this member creates: the whole room is recorded, from now
     * to its end, into a Recording with its ConferenceSid. */
    int record;
} sb_call_conf_opts_t;

typedef struct sb_call_conf_result_s {
    const char *conference_sid;
    const char *reason;         /* "left", "kicked", "conference-ended",
                                   "hangup" */
} sb_call_conf_result_t;

typedef void (*sb_call_conf_done_cb)(const sb_call_conf_result_t *r,
                                     void *arg);

/* call joins the conference o->name of its account (created if it is not
 * live). Returns 0, then cb fires once, later, when the call leaves it;
 * or SB_ELIMIT (the room is full), SB_EINVAL (bad name), SB_ESTATE (no
 * media, or in a conference already), SB_EHANGUP, without cb. */
int sb_call_conference(sb_call_t *call, const sb_call_conf_opts_t *o,
                       sb_call_conf_done_cb cb, void *arg);
/* 1 while call's conference has not started. */
int sb_call_conference_waiting(const sb_call_t *call);
/* call leaves its conference (its cb fires); no-op when not in one. */
void sb_call_conference_leave(sb_call_t *call);
/* The waiter goes away: the membership goes on, cb never fires. */
void sb_call_conference_detach(sb_call_t *call);

/* REST actions on live rooms: */

/* A live room as the console lists it. Borrowed for the callback. */
typedef struct sb_call_conf_info_s {
    const char *sid;
    const char *account_sid;
    const char *name;
    int members;                /* in the room now */
    int muted;                  /* of them, muted or held */
    int started;                /* 0 while members wait for a moderator */
    int recording;
} sb_call_conf_info_t;

/* Visits every live room until each returns non-zero. */
void sb_call_mgr_each_conference(sb_call_mgr_t *mgr,
                                 int (*each)(const sb_call_conf_info_t *c, void *arg),
                                 void *arg);

/* Each acts on the live room conf_sid of account_sid. Returns 0,
 * SB_ENOENT when no live room of that account has that SID (also for
 * another account's), SB_EINVAL (bad arguments). */
int sb_call_conf_end(sb_call_mgr_t *mgr, const char *account_sid, const char *conf_sid);
/* The member call_sid of the room: mute/unmute; hold (hold_url: RCML
 * whose Play/Say/Pause it hears while held, NULL: the server's hold
 * music) or unhold; kick (it leaves the room; its Dial ends and its
 * document goes on). SB_ENOENT also when the call is not a member. */
int sb_call_conf_mute(sb_call_mgr_t *mgr, const char *account_sid, const char *conf_sid, const char *call_sid, int muted);
int sb_call_conf_hold(sb_call_mgr_t *mgr, const char *account_sid, const char *conf_sid, const char *call_sid, int hold, const char *hold_url);
int sb_call_conf_kick(sb_call_mgr_t *mgr, const char *account_sid, const char *conf_sid, const char *call_sid);

#endif
