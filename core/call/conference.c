/*
 * conference.c: <Dial><Conference>. A conference is a named room of one
 * account, live on this server from its first member to its last (or to
 * the departure of a member with endConferenceOnExit). Its audio is a
 * media room (media/mixer.c); this file keeps who is in it, when it
 * starts (the first member with startConferenceOnEnter), the beeps, the
 * wait music of members who came before the start, the rows of the
 * Conferences and Participants resources, status callbacks, and the REST
 * actions on live rooms (end, mute, hold, kick).
 *
 * A member joins with sb_call_conference and is reported once, when it
 * leaves (kicked, the room ended, or the call hung up). Until the room
 * starts it hears wait music: the server's own (a soft arpeggio made
 * here, in memory) unless the application plays its waitUrl itself, in
 * which case the start interrupts whatever the call plays.
 *
 * Owner: the manager's list holds each live room; a room holds a
 * reference on each member's call while it is a member.
 */
#include "call_int.h"
#include "conference_store.h"
#include "recording_store.h"

#include <math.h>
#include <string.h>
#include <unistd.h>

typedef struct member_s member_t;
typedef struct conf_s conf_t;

struct member_s {
    member_t *next;
    conf_t *conf;
    sb_call_t *call;                /* a reference */
    int muted, hold;
    int start_on_enter, end_on_exit;
    int beep_enter, beep_exit;
    int music;                      /* plays the server's wait music */
    int waiting;                    /* joined before the start */
    int left;
    const char *reason;             /* why it left */
    char conf_sid[SB_SID_SIZE];
    sb_call_conf_done_cb cb;
    void *arg;
};

struct conf_s {
    conf_t *next;                   /* mgr->confs */
    sb_call_mgr_t *mgr;
    char sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char *name;
    sb_media_room_t *room;
    member_t *members;
    int n;
    int max;
    int started;
    int ended;
    char *sc_url, *sc_method;
    unsigned sc_events;
    int sc_seq;
    sb_media_rec_t *rec;            /* record="record-from-start" */
};

/* A room's recording outlives the room by the time its file takes to
 * complete: what storing its row needs. Owner: itself (freed when done). */
typedef struct {
    sb_call_mgr_t *mgr;
    char sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char conf_sid[SB_SID_SIZE];
    char *path;
    int64_t start_s;
} conf_rec_t;

#define HOLD_SECONDS 8

/* ---- the server's wait music ------------------------------------------------ */

/* A slow arpeggio of soft tones with a fade on each note, 8 s, looped:
 * made once, on first need. */
static sb_media_audio_t *hold_music(void)
{
    static sb_media_audio_t *music;
    if (music)
        return music;
    static const double notes[] = {261.63, 329.63, 392.00, 523.25,
                                   392.00, 329.63, 293.66, 349.23,
                                   440.00, 587.33, 440.00, 349.23,
                                   246.94, 293.66, 392.00, 493.88};
    size_t per = (size_t)(8000 * HOLD_SECONDS) / 16, n = per * 16;
    int16_t *pcm = sb_xmalloc(n * sizeof(*pcm));
    for (size_t k = 0; k < 16; k++) {
        for (size_t i = 0; i < per; i++) {
            double t = (double)i / 8000.0;
            double env = fmin(1.0, (double)i / 200.0) *
                         exp(-2.2 * t);                 /* a plucked note */
            double v = sin(2 * M_PI * notes[k] * t) +
                       0.3 * sin(4 * M_PI * notes[k] * t);
            pcm[k * per + i] = (int16_t)(4000.0 * env * v);
        }
    }
    if (sb_media_audio_from_pcm(pcm, n, 8000, &music) != 0)
        music = NULL;
    free(pcm);
    return music;
}

/* ---- rows and callbacks ------------------------------------------------------ */

static void save_conf(conf_t *c, const char *status, const char *reason,
                      const char *ending_call)
{
    sb_conference_t row = {
        .sid = c->sid,
        .account_sid = c->account_sid,
        .friendly_name = c->name,
        .status = status,
        .reason_conference_ended = reason,
        .call_sid_ending_conference = ending_call,
    };
    int rc = sb_store_conference_put(c->mgr->store, &row);
    if (rc != 0)
        sb_warn("conference %s: cannot store: %s", c->sid, sb_strerror(rc));
}

static void save_member(member_t *m, const char *status)
{
    sb_participant_t row = {
        .conference_sid = m->conf->sid,
        .call_sid = m->call->sid,
        .account_sid = m->conf->account_sid,
        .status = status,
        .muted = m->muted,
        .hold = m->hold,
        .start_conference_on_enter = m->start_on_enter,
        .end_conference_on_exit = m->end_on_exit,
    };
    int rc = sb_store_participant_put(m->conf->mgr->store, &row);
    if (rc != 0)
        sb_log_call(SB_LOG_WARN, m->call->sid, "conference: cannot store: %s",
                    sb_strerror(rc));
}

/* A conference event on its way to the plugins' hooks (runner's
 * conf_event), run from the loop: a handler may change the room
 * (mute, kick) without re-entering the code that raised the event. */
typedef struct conf_ev_s {
    sb_call_mgr_t *mgr;
    char event[8];
    char sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char *name;
    sb_call_t *call;                /* a reference, or NULL */
    int members, muted;
} conf_ev_t;

static void fire_conf_event(void *arg)
{
    conf_ev_t *e = arg;
    sb_call_mgr_t *mgr = e->mgr;
    if (mgr->runner && mgr->runner->conf_event && !mgr->closing) {
        sb_call_conf_event_t ev = {
            .event = e->event,
            .conference_sid = e->sid,
            .name = e->name,
            .account_sid = e->account_sid,
            .call = e->call,
            .members = e->members,
            .muted = e->muted,
        };
        mgr->runner->conf_event(mgr->runner_arg, &ev);
    }
    if (e->call)
        sb_call_unref(e->call);
    free(e->name);
    free(e);
}

static void hook_event(conf_t *c, unsigned ev, member_t *m)
{
    sb_call_mgr_t *mgr = c->mgr;
    if (mgr->runner == NULL || mgr->runner->conf_event == NULL)
        return;
    conf_ev_t *e = SB_NEW(conf_ev_t);
    e->mgr = mgr;
    snprintf(e->event, sizeof e->event, "%s",
             ev == SB_CONF_EV_JOIN ? "join" : ev == SB_CONF_EV_LEAVE ? "leave"
             : ev == SB_CONF_EV_START ? "start" : ev == SB_CONF_EV_END ? "end" : "mute");
    snprintf(e->sid, sizeof e->sid, "%s", c->sid);
    snprintf(e->account_sid, sizeof e->account_sid, "%s", c->account_sid);
    e->name = sb_xstrdup(c->name);
    if (m) {
        e->call = m->call;
        sb_call_ref(m->call);
        e->muted = m->muted || m->hold;
    }
    for (member_t *x = c->members; x; x = x->next)
        if (!x->left)
            e->members++;
    sb__call_defer(mgr, fire_conf_event, e);
}

/* statusCallback (Twilio's events: start end join leave mute), and the
 * plugins' conference hooks. */
static void callback(conf_t *c, unsigned ev, const char *name, member_t *m)
{
    hook_event(c, ev, m);
    if (c->sc_url == NULL || !(c->sc_events & ev) || m == NULL)
        return;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    char num[16];
    sb_http_params_add(&p, "ConferenceSid", c->sid);
    sb_http_params_add(&p, "FriendlyName", c->name);
    sb_http_params_add(&p, "StatusCallbackEvent", name);
    sb_http_params_add(&p, "Muted", m->muted ? "true" : "false");
    sb_http_params_add(&p, "Hold", m->hold ? "true" : "false");
    snprintf(num, sizeof num, "%d", c->sc_seq++);
    sb_http_params_add(&p, "SequenceNumber", num);
    sb__call_request(m->call, "conference: status callback", c->sc_url,
                     c->sc_method, &p, NULL);
    sb_http_params_free(&p);
}

/* ---- membership ------------------------------------------------------------------ */

/* The live room of account_sid with that name (name) or SID (sid). */
static conf_t *find(sb_call_mgr_t *mgr, const char *account_sid,
                    const char *name, const char *sid)
{
    const char *key = name ? name : sid;
    if (key == NULL)
        return NULL;
    for (conf_t *c = mgr->confs; c; c = c->next)
        if (!c->ended && !strcmp(c->account_sid, account_sid) &&
            !strcmp(name ? c->name : c->sid, key))
            return c;
    return NULL;
}

static void conf_free(conf_t *c)
{
    for (conf_t **p = &c->mgr->confs; *p; p = &(*p)->next) {
        if (*p == c) {
            *p = c->next;
            break;
        }
    }
    if (c->room)
        sb_media_room_destroy(c->room, NULL, NULL);
    free(c->name);
    free(c->sc_url);
    free(c->sc_method);
    free(c);
}

static void on_conf_recorded(sb_media_rec_t *rec, const sb_media_rec_result_t *r,
                             void *arg)
{
    (void)rec;
    conf_rec_t *cr = arg;
    if (r->status != 0)
        sb_warn("conference %s: recording %s: %s", cr->conf_sid, cr->sid,
                r->why ? r->why : sb_strerror(r->status));
    if (r->duration_ms > 0) {
        sb_recording_t row = {
            .sid = cr->sid,
            .account_sid = cr->account_sid,
            .conference_sid = cr->conf_sid,
            .source = "Conference",
            .status = r->status ? "failed" : "completed",
            .duration = (double)r->duration_ms / 1000.0,
            .channels = 1,
            .start_time = cr->start_s,
        };
        int rc = sb_store_recording_put(cr->mgr->store, &row);
        if (rc != 0)
            sb_warn("conference %s: cannot store recording %s: %s", cr->conf_sid,
                    cr->sid, sb_strerror(rc));
    } else {
        unlink(cr->path);
    }
    free(cr->path);
    free(cr);
}

/* Records the whole room from now to its end. */
static void start_recording(conf_t *c)
{
    conf_rec_t *cr = SB_NEW(conf_rec_t);
    cr->mgr = c->mgr;
    sb_sid_new("RE", cr->sid);
    snprintf(cr->account_sid, sizeof cr->account_sid, "%s", c->account_sid);
    snprintf(cr->conf_sid, sizeof cr->conf_sid, "%s", c->sid);
    cr->path = sb_xasprintf("%s/%s.wav", c->mgr->cfg->recordings_dir, cr->sid);
    cr->start_s = sb__call_now_ms() / 1000;
    sb_media_rec_opts_t o = {.path = cr->path};
    if (sb_media_room_record(c->room, &o, on_conf_recorded, cr, &c->rec) != 0) {
        free(cr->path);
        free(cr);
        return;
    }
    sb_info("conference %s (%s): recording %s", c->name, c->sid, cr->sid);
}

static void beep(conf_t *c)
{
    sb_media_play_t b = {.tone = "beep", .ms = 300};
    sb_media_room_play(c->room, &b, NULL, NULL);
}

static void stop_music(member_t *m)
{
    if (m->music && m->call->ep && !m->call->over)
        sb_media_endpoint_stop(m->call->ep);
    m->music = 0;
}

static void start_music(member_t *m)
{
    sb_media_audio_t *a = hold_music();
    if (a == NULL || m->call->ep == NULL || m->call->over)
        return;
    sb_media_play_t src = {.audio = a, .loop = 0};
    if (sb_media_endpoint_play(m->call->ep, &src, NULL, NULL) == 0)
        m->music = 1;
}

static void deliver(void *arg)
{
    member_t *m = arg;
    sb_call_conf_done_cb cb = m->cb;
    m->cb = NULL;
    if (cb) {
        sb_call_conf_result_t r = {
            .conference_sid = m->conf_sid,
            .reason = m->reason,
        };
        cb(&r, m->arg);
    }
    sb_call_unref(m->call);
    free(m);
}

static void end_conf(conf_t *c, const char *reason, const char *call_sid);

/* m leaves (once): out of the room, its row completed, its waiter told. */
static void leave(member_t *m, const char *reason, int ending)
{
    if (m->left)
        return;
    conf_t *c = m->conf;
    m->left = 1;
    m->reason = reason;
    for (member_t **p = &c->members; *p; p = &(*p)->next) {
        if (*p == m) {
            *p = m->next;
            break;
        }
    }
    c->n--;
    stop_music(m);
    if (m->call->ep)
        sb_media_room_leave(c->room, m->call->ep, NULL, NULL);
    if (m->call->conf_member == m)
        m->call->conf_member = NULL;
    save_member(m, "completed");
    callback(c, SB_CONF_EV_LEAVE, "participant-leave", m);
    sb_log_call(SB_LOG_INFO, m->call->sid, "conference %s: left (%s)", c->name,
                reason);
    if (m->beep_exit && c->n > 0 && !ending)
        beep(c);
    m->conf = NULL;
    sb__call_defer(c->mgr, deliver, m);
    if (!ending) {
        if (m->end_on_exit && c->started)
            end_conf(c, SB_CONF_ENDED_MODERATOR_LEFT, m->call->sid);
        else if (c->n == 0)
            end_conf(c, SB_CONF_ENDED_LAST_LEFT, m->call->sid);
    }
}

static void end_conf(conf_t *c, const char *reason, const char *call_sid)
{
    if (c->ended)
        return;
    c->ended = 1;
    member_t *first = c->members;
    if (first)
        callback(c, SB_CONF_EV_END, "conference-end", first);
    else
        hook_event(c, SB_CONF_EV_END, NULL);   /* the last one left */
    while (c->members)
        leave(c->members, "conference-ended", 1);
    save_conf(c, "completed", reason, call_sid);
    sb_info("conference %s (%s): ended (%s)", c->name, c->sid, reason);
    conf_free(c);
}

static void start_conf(conf_t *c, member_t *by)
{
    if (c->started)
        return;
    c->started = 1;
    save_conf(c, "in-progress", NULL, NULL);
    callback(c, SB_CONF_EV_START, "conference-start", by);
    for (member_t *m = c->members; m; m = m->next) {
        if (m->waiting) {
            m->waiting = 0;
            stop_music(m);
            /* The application's own wait music (waitUrl) stops too. */
            sb__call_plays_interrupt(m->call);
        }
    }
}

int sb_call_conference(sb_call_t *call, const sb_call_conf_opts_t *o,
                       sb_call_conf_done_cb cb, void *arg)
{
    if (call->over)
        return SB_EHANGUP;
    if (o == NULL || o->name == NULL || !*o->name ||
        strlen(o->name) > SB_CONFERENCE_NAME_MAX)
        return SB_EINVAL;
    if (call->ep == NULL || call->conf_member)
        return SB_ESTATE;
    sb_call_mgr_t *mgr = call->mgr;
    conf_t *c = find(mgr, call->account_sid, o->name, NULL);
    int max = o->max_participants > 0 ? o->max_participants : 40;
    if (c && c->n >= c->max)
        return SB_ELIMIT;
    if (c == NULL) {
        c = SB_NEW(conf_t);
        c->mgr = mgr;
        sb_sid_new("CF", c->sid);
        snprintf(c->account_sid, sizeof c->account_sid, "%s", call->account_sid);
        c->name = sb_xstrdup(o->name);
        c->max = max;
        if (sb_media_room_new(mgr->media, &c->room) != 0) {
            free(c->name);
            free(c);
            return SB_ESTATE;
        }
        if (o->status_callback && *o->status_callback) {
            c->sc_url = sb_xstrdup(o->status_callback);
            c->sc_method = sb_xstrdup(o->status_callback_method &&
                                              *o->status_callback_method
                                          ? o->status_callback_method : "POST");
            c->sc_events = o->status_events ? o->status_events
                                            : SB_CONF_EV_START | SB_CONF_EV_END;
        }
        c->next = mgr->confs;
        mgr->confs = c;
        save_conf(c, "init", NULL, NULL);
        if (o->record)
            start_recording(c);
        sb_log_call(SB_LOG_INFO, call->sid, "conference %s (%s): created",
                    c->name, c->sid);
    }
    int rc = sb_media_room_join(c->room, call->ep, o->muted, NULL, NULL);
    if (rc != 0) {
        if (c->n == 0)
            end_conf(c, SB_CONF_ENDED_LAST_LEFT, call->sid);
        return rc;
    }
    member_t *m = SB_NEW(member_t);
    m->conf = c;
    snprintf(m->conf_sid, sizeof m->conf_sid, "%s", c->sid);
    m->call = call;
    sb_call_ref(call);
    m->muted = o->muted;
    m->start_on_enter = o->start_on_enter;
    m->end_on_exit = o->end_on_exit;
    m->beep_enter = o->beep_enter;
    m->beep_exit = o->beep_exit;
    m->cb = cb;
    m->arg = arg;
    m->next = c->members;
    c->members = m;
    c->n++;
    call->conf_member = m;
    save_member(m, "connected");
    callback(c, SB_CONF_EV_JOIN, "participant-join", m);
    sb_log_call(SB_LOG_INFO, call->sid, "conference %s: joined (%d members)",
                c->name, c->n);
    if (m->beep_enter)
        beep(c);
    if (m->start_on_enter) {
        start_conf(c, m);
    } else if (!c->started) {
        m->waiting = 1;
        if (o->hold_music)
            start_music(m);
    }
    return 0;
}

int sb_call_conference_waiting(const sb_call_t *call)
{
    const member_t *m = call->conf_member;
    return m && m->waiting;
}

void sb_call_conference_leave(sb_call_t *call)
{
    member_t *m = call->conf_member;
    if (m)
        leave(m, "left", 0);
}

void sb_call_conference_detach(sb_call_t *call)
{
    member_t *m = call->conf_member;
    if (m)
        m->cb = NULL;
}

void sb__call_conference_over(sb_call_t *call)
{
    member_t *m = call->conf_member;
    if (m)
        leave(m, "hangup", 0);
}

/* ---- REST actions ------------------------------------------------------------------ */

static member_t *member_of(conf_t *c, const char *call_sid)
{
    for (member_t *m = c->members; m; m = m->next)
        if (!strcmp(m->call->sid, call_sid) ||
            (strlen(m->call->sid) > strlen(call_sid) &&
             !strcmp(m->call->sid + strlen(m->call->sid) - strlen(call_sid),
                     call_sid)))
            return m;
    return NULL;
}

/* The member call_sid of the live room conf_sid of account_sid. */
static int lookup(sb_call_mgr_t *mgr, const char *account_sid,
                  const char *conf_sid, const char *call_sid, member_t **out)
{
    if (!account_sid || !conf_sid || !call_sid)
        return SB_EINVAL;
    conf_t *c = find(mgr, account_sid, NULL, conf_sid);
    *out = c ? member_of(c, call_sid) : NULL;
    return *out ? 0 : SB_ENOENT;
}

int sb_call_conf_end(sb_call_mgr_t *mgr, const char *account_sid,
                     const char *conf_sid)
{
    if (!account_sid || !conf_sid)
        return SB_EINVAL;
    conf_t *c = find(mgr, account_sid, NULL, conf_sid);
    if (c == NULL)
        return SB_ENOENT;
    end_conf(c, SB_CONF_ENDED_API, NULL);
    return 0;
}

int sb_call_conf_mute(sb_call_mgr_t *mgr, const char *account_sid,
                      const char *conf_sid, const char *call_sid, int muted)
{
    member_t *m;
    int rc = lookup(mgr, account_sid, conf_sid, call_sid, &m);
    if (rc != 0)
        return rc;
    conf_t *c = m->conf;
    m->muted = muted != 0;
    if (m->call->ep)
        sb_media_room_mute(c->room, m->call->ep, m->muted || m->hold);
    save_member(m, "connected");
    callback(c, SB_CONF_EV_MUTE, m->muted ? "participant-mute"
                                          : "participant-unmute", m);
    return 0;
}

void sb_call_mgr_each_conference(sb_call_mgr_t *mgr,
                                 int (*each)(const sb_call_conf_info_t *c, void *arg),
                                 void *arg)
{
    for (conf_t *c = mgr->confs; c; c = c->next) {
        if (c->ended)
            continue;
        sb_call_conf_info_t info = {
            .sid = c->sid,
            .account_sid = c->account_sid,
            .name = c->name,
            .started = c->started,
            .recording = c->rec != NULL,
        };
        for (member_t *m = c->members; m; m = m->next) {
            if (m->left)
                continue;
            info.members++;
            if (m->muted || m->hold)
                info.muted++;
        }
        if (each(&info, arg))
            return;
    }
}

int sb__call_conference_mute(sb_call_t *call, int muted)
{
    member_t *m = call->conf_member;
    if (m == NULL || m->left)
        return SB_ENOENT;
    return sb_call_conf_mute(call->mgr, m->conf->account_sid, m->conf->sid,
                             call->sid, muted);
}

int sb_call_conf_hold(sb_call_mgr_t *mgr, const char *account_sid,
                      const char *conf_sid, const char *call_sid, int hold,
                      const char *hold_url)
{
    (void)hold_url;             /* the server's music; see the header */
    member_t *m;
    int rc = lookup(mgr, account_sid, conf_sid, call_sid, &m);
    if (rc != 0)
        return rc;
    conf_t *c = m->conf;
    if (hold && !m->hold) {
        m->hold = 1;
        start_music(m);
    } else if (!hold && m->hold) {
        m->hold = 0;
        stop_music(m);
    }
    if (m->call->ep)
        sb_media_room_mute(c->room, m->call->ep, m->muted || m->hold);
    save_member(m, "connected");
    callback(c, SB_CONF_EV_HOLD, m->hold ? "participant-hold"
                                         : "participant-unhold", m);
    return 0;
}

int sb_call_conf_kick(sb_call_mgr_t *mgr, const char *account_sid,
                      const char *conf_sid, const char *call_sid)
{
    member_t *m;
    int rc = lookup(mgr, account_sid, conf_sid, call_sid, &m);
    if (rc != 0)
        return rc;
    leave(m, "kicked", 0);
    return 0;
}

void sb__call_conferences_close(sb_call_mgr_t *mgr)
{
    while (mgr->confs)
        end_conf(mgr->confs, SB_CONF_ENDED_INTERRUPTED, NULL);
}
