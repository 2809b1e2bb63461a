/*
 * call_int.h: shared between the files of core/call only: the manager and
 * call structs, the dial, and the internal functions each file offers the
 * others.
 */
#ifndef SB_CALL_INT_H
#define SB_CALL_INT_H

#include "call.h"
#include "call_store.h"
#include "http.h"
#include "media.h"
#include "sip.h"
#include "util.h"

#include <stdint.h>

#define SB__CALL_MAX_HEADERS 32
/* CDR writes commit at most this often (and at once when idle longer). */
#define SB__CALL_CDR_COMMIT_MS 5

/* A callback to run from the loop, not from inside the caller. Owner: the
 * manager's queue until run (or cancelled: fn set to NULL). */
typedef struct sb__call_deferred_s {
    void (*fn)(void *arg);
    void *arg;
    struct sb__call_deferred_s *next;
} sb__call_deferred_t;

/* Admission control (admit.c): the limits and their state. */
#define SB__ADMIT_SAMPLE_MS 250
typedef struct sb__admit_s {
    int max_concurrent, max_rate, max_load;     /* 0: no limit */
    double tokens;              /* calls that may start now (max_rate) */
    uint64_t tokens_ms;         /* when tokens was last refilled */
    int load;                   /* smoothed percent of the loop busy */
    int overloaded;
} sb__admit_t;

void sb__admit_init(sb__admit_t *a, int max_concurrent, int max_rate,
                    int max_load, uint64_t now_ms);
/* Decides on one new call, given the live calls and the time. Returns
 * NULL to admit it (taking a token), or why not, with the Retry-After
 * seconds in *retry_after_s. */
const char *sb__admit_check(sb__admit_t *a, int64_t live, uint64_t now_ms,
                            int *retry_after_s);
/* Feeds one load sample (percent of the last interval the loop was busy).
 * Returns 1 when the overloaded state changed. */
int sb__admit_sample(sb__admit_t *a, int busy_pct);

/* Owner: server.c (sb_call_mgr_new / sb_call_mgr_close). */
struct sb_call_mgr_s {
    uv_loop_t *loop;
    const sb_config_t *cfg;
    struct sb_store_s *store;
    sb_sip_t *sip;
    sb_media_engine_t *media;
    sb_http_client_t *http;
    sb_media_cache_t *cache;        /* may be NULL */
    sb_media_tts_t *tts;            /* may be NULL */
    struct sb_media_asr_s *asr;     /* may be NULL: no speech input */
    int recordings;                 /* record.c objects alive */
    struct conf_s *confs;           /* live conferences (conference.c) */
    const char *instance_id;        /* the store's; borrowed */
    sb_call_numbers_t *numbers;     /* the number matcher; owned */

    const sb_call_runner_t *runner;
    void *runner_arg;

    sb_call_t *calls;               /* live calls (each holds a ref) */
    int closing;
    void (*close_cb)(void *);
    void *close_arg;

    uv_timer_t defer_timer;         /* runs the deferred queue */
    sb__call_deferred_t *defer_head, *defer_tail;
    int handles;                    /* open uv handles (dials, the timer) */
    int defer_closed;               /* the deferred queue's timer is closed */
    /* CDR writes share a store batch (one transaction), committed by
     * cdr_timer at most every SB__CALL_CDR_COMMIT_MS. */
    int cdr_batch;                  /* a batch is open */
    uv_timer_t cdr_timer;
    int64_t cdr_commit_ms;          /* the last commit */
    uv_timer_t alive_timer;         /* notes when calls were last known
                                       up, for the next run (recover.c) */

    sb__admit_t admit;
    uv_timer_t load_timer;          /* samples the loop's load (max_load) */
    uint64_t load_wall_ns, load_cpu_ns;

    sb_call_stats_t stats;
};

/* A request awaiting completion (answer). Owner: the call (call->reqs)
 * until completed or cancelled. */
struct sb_call_req_s {
    sb_call_t *call;
    sb_call_done_cb cb;
    void *arg;
    int queued;                     /* its completion is queued */
    /* Requests of transfer.c cancel themselves (NULL: an answer). */
    void (*cancel_fn)(struct sb_call_req_s *req);
    int err;
    sb_call_req_t *next;
};

/* Owner: refcounted; the manager's live list holds one reference. */
struct sb_call_s {
    int refs;
    sb_call_mgr_t *mgr;
    sb_call_t *prev, *next;         /* mgr->calls while live */
    int listed;

    char sid[SB_SID_SIZE];
    char parent_sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char phone_number_sid[SB_SID_SIZE];
    char *from;                     /* user parts */
    char *to;
    char *caller_name;
    char *forwarded_from;
    char *sip_call_id;
    char timestamp[SB_TIME_BUF];    /* creation, ISO 8601 */
    sb_call_dir_t dir;
    sb_call_status_t status;
    int over;                       /* a final status was reached */
    int64_t start_ms, answer_ms, end_ms;
    int max_forwards;               /* of the INVITE that made it */

    sb_call_pair_t *headers;        /* owned copies: X-* and Diversion */
    size_t header_count;

    sb_sip_leg_t *leg;              /* until released */
    sb_media_endpoint_t *ep;        /* until destroyed */
    char *local_sdp;                /* incoming: our answer (or offer) */
    int ringing_sent;
    int early_media;                /* 183 with SDP sent */
    int acked;                      /* inbound: the ACK to our 200 came */
    sb_call_play_t *plays;          /* plays not finished (play.c) */
    sb_call_gather_t *gather;       /* collecting input (gather.c) */
    sb_call_record_t *record;       /* recording (record.c) */
    struct member_s *conf_member;   /* its conference membership */

    void *session;                  /* the runner's, while it runs */
    sb_call_req_t *reqs;            /* pending answer requests */

    sb_call_dial_t *dial;           /* the dial this call runs */
    sb_call_dial_t *branch_of;      /* the dial this call is a leg of */
    sb_call_t *peer;                /* bridged to (no reference) */
    char *outbound_sid;             /* OutboundCallSid for the session */

    /* Status callbacks of a dialled leg. */
    char *sc_url;
    char *sc_method;
    unsigned sc_events;
    int sc_seq;

    sb_call_req_t *bridge_req;      /* sb_call_bridge waiting for the end */

    char *client_login;             /* the Client this leg reaches (a
                                       dialled or created call to a
                                       Client) or comes from (an inbound
                                       call whose From is a Client of the
                                       account), else NULL */
    int trusted;                    /* may reach what is outside this
                                       server (numbers through the
                                       outbound proxy, SIP addresses of
                                       other hosts): a caller from a
                                       trusted peer or an authenticated
                                       Client, a call created over REST,
                                       a leg this server dialled, or a
                                       transferee the trusted transferor
                                       sent on (transfer.c) */
    int far_trusted;                /* a leg we dialled: its far end is a
                                       Client or in sip.trusted, so it may
                                       transfer its peer out (transfer.c) */
    struct orig_s *orig;            /* a created call until it is answered
                                       (originate.c) */
    int muted;                      /* Mute=true (modify.c) */
    /* Quality of the leg's media, taken when it ends (call.c). */
    int has_quality;
    char codec[8];
    int64_t q_received, q_sent, q_lost, q_jitter_us, q_mos_x100;
    int modifying;                  /* a REST modification is under way */

    /* REFER parameters (issue 9), NULL when none. */
    char *refer_target;
    char *transferor;
    char *transferee;
    int dialog_saved;               /* its dialog is in the store, for a
                                       crash (recover.c) */
};

/* call.c */
/* Creates a call (status queued, not listed yet, refs 1 for the list) and
 * lists it. */
sb_call_t *sb__call_new(sb_call_mgr_t *mgr, sb_call_dir_t dir);
/* Moves the call to status (writes the CDR, counts, callbacks). A final
 * status ends the call: the leg is released, media destroyed, the session
 * cancelled, the dial cancelled, the call unlisted. */
void sb__call_set_status(sb_call_t *call, sb_call_status_t status);
/* Ends the call with status (a final one) unless it is over. */
void sb__call_end(sb_call_t *call, sb_call_status_t status);
/* Writes the call's CDR. Writes share a store batch (one transaction)
 * committed on the next loop turn, or SB__CALL_CDR_COMMIT_MS after the
 * last commit when that is later. */
void sb__call_save(sb_call_t *call);

/* recover.c (issue 23) */
/* At start: closes the records the last run left live (interrupted),
 * sends a BYE on every leg whose dialog was stored (a few per loop turn),
 * and starts mgr->alive_timer (the caller counts the handle). */
void sb__call_recover_start(sb_call_mgr_t *mgr);
/* Keeps or drops call's stored dialog as the call goes: saved once its
 * leg's dialog is established, deleted when the call is over. Called
 * from sb__call_save and on the leg's CONFIRMED event. */
void sb__call_dialog_sync(sb_call_t *call);
/* Commits the open CDR batch, if any. */
void sb__call_cdr_flush(sb_call_mgr_t *mgr);
/* Answers an inbound call's INVITE now (200 with local_sdp). Returns 0 or
 * SB_E*. */
int sb__call_answer_now(sb_call_t *call);
/* The leg event handler of every call. */
void sb__call_on_leg(sb_sip_leg_t *leg, const sb_sip_leg_event_t *ev, void *arg);
/* Copies n pairs (deep). */
sb_call_pair_t *sb__call_pairs_dup(const sb_call_pair_t *p, size_t n);
void sb__call_pairs_free(sb_call_pair_t *p, size_t n);

/* manager.c */
/* Queues fn(arg) to run from the loop; returns the entry (to cancel it:
 * set ->fn = NULL). */
sb__call_deferred_t *sb__call_defer(sb_call_mgr_t *mgr, void (*fn)(void *),
                                    void *arg);
/* A handle counted in mgr->handles has closed; frees a closing manager
 * after its last one. */
void sb__call_mgr_handle_closed(sb_call_mgr_t *mgr);
void sb__call_list(sb_call_mgr_t *mgr, sb_call_t *call);
/* The live outgoing leg (dialled or created over REST) whose SIP Call-ID
 * is call_id, or NULL (a walk of the live list: only for INVITEs this
 * server sent itself). */
sb_call_t *sb__call_by_sip_call_id(sb_call_mgr_t *mgr, const char *call_id);
void sb__call_unlist(sb_call_mgr_t *mgr, sb_call_t *call);
int64_t sb__call_now_ms(void);

/* admit.c */
/* Sets up admission control from the configuration (manager creation);
 * the load timer counts in mgr->handles. */
void sb__call_admit_start(sb_call_mgr_t *mgr);
/* Returns 1 when a new inbound call may go on; otherwise answers leg 503
 * with a Retry-After, releases it and returns 0. */
int sb__call_admit(sb_call_mgr_t *mgr, sb_sip_leg_t *leg,
                   const sb_sip_invite_info_t *in);

/* inbound.c */
void sb__call_on_invite(sb_sip_leg_t *leg, const sb_sip_invite_info_t *info,
                        void *arg);

/* dial.c */
/* A leg event of a dial branch. */
void sb__dial_on_branch(sb_call_t *branch, const sb_sip_leg_event_t *ev);
/* The branch call ended (any reason): the dial takes note. */
void sb__dial_branch_over(sb_call_t *branch);
/* The caller ended: the dial ends its legs; no callback. */
void sb__dial_parent_over(sb_call_dial_t *d);
/* A DTMF digit from the caller of a dial. */
void sb__dial_on_dtmf(sb_call_dial_t *d, char digit);

/* dial.c, for transfer.c */
/* Takes branch b out of dial d (unbridged, no longer counted; the dial
 * will not end it). */
void sb__dial_detach(sb_call_dial_t *d, sb_call_t *b);
/* The dial's parent (the caller) and its winner (or NULL). */
sb_call_t *sb__dial_parent(const sb_call_dial_t *d);
sb_call_t *sb__dial_winner(const sb_call_dial_t *d);
/* Ends d now as completed (its waiter, if any, gets the result). */
void sb__dial_end(sb_call_dial_t *d);

/* play.c */
/* The call is over: every play not finished completes with SB_EHANGUP. */
void sb__call_plays_over(sb_call_t *call);
/* The call's media can carry sound now (an inbound call's ACK came, or
 * an outgoing call answered): waiting plays start. */
void sb__call_plays_ready(sb_call_t *call);

/* play.c, for gather.c: every play of the call ends with
 * SB_EINTERRUPTED (the caller's input came). */
void sb__call_plays_interrupt(sb_call_t *call);

/* gather.c */
/* A digit from the call's phone; the call is over. */
void sb__call_gather_digit(sb_call_t *call, char digit);
void sb__call_gather_over(sb_call_t *call);
/* A key went down: the prompts stop (the digit counts when it ends). */
void sb__call_gather_begin(sb_call_t *call);
/* 1 while a gather's input has interrupted the prompts. */
int sb__call_gather_barged(const sb_call_t *call);

/* conference.c */
/* The call is over: it leaves its conference. */
void sb__call_conference_over(sb_call_t *call);
/* The manager closes: every live conference ends. */
void sb__call_conferences_close(sb_call_mgr_t *mgr);

/* record.c */
void sb__call_record_digit(sb_call_t *call, char digit);
/* <Dial record>: records call and other (bridged; mixed, or dual: one
 * channel each) from once the bridge is in place until
 * sb__call_record_stop; cb reports the stored recording. Returns NULL
 * when either has no media (nothing recorded, cb never fires). */
sb_call_record_t *sb__call_record_bridge(sb_call_t *call, sb_call_t *other,
                                         int dual, sb_call_record_done_cb cb,
                                         void *arg);
void sb__call_record_stop(sb_call_record_t *r);
/* A created call's Record=true: both sides of call, mixed, from now to its
 * end, into a Recording of the call (source OutboundAPI). Returns NULL
 * when nothing is recorded (no media, recordings.max_concurrent); the
 * recording goes on by itself (nobody waits for it). */
sb_call_record_t *sb__call_record_whole(sb_call_t *call);
const char *sb__call_record_sid(const sb_call_record_t *r);

/* transfer.c */
/* A REFER on call's dialog (the leg event). */
void sb__call_on_refer(sb_call_t *call, const sb_sip_leg_event_t *ev);
/* The call is over: a bridge waiting on it completes. */
void sb__call_bridge_over(sb_call_t *call);

/* originate.c */
/* The call is over: forks still ringing are cancelled. */
void sb__call_orig_over(sb_call_t *call);
/* The account of the Client login (logins are unique, any case). Returns
 * 1 and out, or 0. */
int sb__call_client_account(sb_call_mgr_t *mgr, const char *login,
                            char out[SB_SID_SIZE]);
/* 1 when login is a Client of account_sid. */
int sb__call_client_of(sb_call_mgr_t *mgr, const char *account_sid, const char *login);
/* A created call not answered yet will run this application instead. */
void sb__call_orig_set_app(sb_call_t *call, const char *url, const char *method,
                           const char *fallback_url, const char *fallback_method);

/* p2p.c */
struct sb__route_s;
/* A Client (from_user) calling another Client of its account (to_user)
 * by login: fills out (account; no URL). Returns 0, or SB_ENOENT. */
int sb__call_route_p2p(sb_call_mgr_t *mgr, const char *from_user, const char *to_user,
                       struct sb__route_s *out);
/* Dials call->to (a Client) for the inbound call and connects them. */
int sb__call_p2p_start(sb_call_t *call);

/* conference.c, for modify.c: mutes the call in its room. */
int sb__call_conference_mute(sb_call_t *call, int muted);

/* statuscb.c */
/* Requests a Dial's action for a caller that hung up while bridged (fire
 * and forget): call's standard parameters with CallStatus=completed, then
 * the Dial* ones. Borrows everything. */
void sb__call_dial_action(sb_call_t *call, const char *url, const char *method,
                          int has_sip, const char *dial_sid, const char *status,
                          int64_t duration, int64_t ring_duration,
                          const char *sip_call_id, int sip_status,
                          const sb_call_pair_t *hdrs, size_t nhdrs,
                          const char *recording_url);
/* Requests an action for a call whose caller hung up (fire and forget):
 * the call's standard parameters with CallStatus=completed, then extra
 * (may be NULL). what names it in the log. Borrows everything. */
void sb__call_action_after_hangup(sb_call_t *call, const char *what,
                                  const char *url, const char *method,
                                  const sb_http_params_t *extra);
/* Adds the call's standard voice parameters (as call:params() gives
 * them; CallStatus is status unless NULL) to out. */
void sb__call_voice_params(sb_call_t *call, const char *status,
                           sb_http_params_t *out);
/* The same with the call's status as it is (status NULL) or status. */
void sb__call_request(sb_call_t *call, const char *what, const char *url,
                      const char *method, const sb_http_params_t *extra,
                      const char *status);
/* Sends the status callback of a dialled leg for event (SB_DIAL_EV_*), if
 * it asked for it. */
void sb__call_status_callback(sb_call_t *call, unsigned event);

#endif
