/*
 * conference_store.h: conferences and participants (migration 7), as the
 * call module's rooms write them: one conference row per room, written
 * when the room is made and at each change of status, and one
 * participant row per call and room, written when the call joins, at
 * each change (mute, hold) and when it leaves. Completed rows stay, for
 * the history. The REST API lists and renders both tables through the
 * generic row layer (rows.h) and uses the functions below for what its
 * live actions change (end, mute, hold, kick).
 *
 * Times are seconds since the epoch. No SQL or sqlite type crosses this
 * header.
 */
#ifndef SB_CONFERENCE_STORE_H
#define SB_CONFERENCE_STORE_H

#include <stdint.h>

#include "store.h"

/* The longest friendly_name (the room's name) a conference may have, in
 * bytes. */
#define SB_CONFERENCE_NAME_MAX 255

/* Twilio's reasons a conference ended (reason_conference_ended), and
 * ours for rooms a previous run left open. */
#define SB_CONF_ENDED_API "conference-ended-via-api"
#define SB_CONF_ENDED_MODERATOR_LEFT "participant-with-end-conference-on-exit-left"
#define SB_CONF_ENDED_MODERATOR_KICKED "participant-with-end-conference-on-exit-kicked"
#define SB_CONF_ENDED_LAST_LEFT "last-participant-left"
#define SB_CONF_ENDED_LAST_KICKED "last-participant-kicked"
#define SB_CONF_ENDED_INTERRUPTED "interrupted"

/* One conference. For sb_store_conference_put every string is borrowed
 * for the call; NULL strings take the default shown. */
typedef struct sb_conference_s {
    const char *sid;            /* required: "CF" + 32 hex (sb_sid_new) */
    const char *account_sid;    /* required: the owner */
    const char *friendly_name;  /* required: the room's name, 1 to
                                   SB_CONFERENCE_NAME_MAX bytes */
    const char *status;         /* "init" (NULL), "in-progress" or
                                   "completed" */
    const char *api_version;    /* NULL: 2012-04-24 */
    const char *reason_conference_ended;    /* with completed: one of
                                   SB_CONF_ENDED_*; else NULL */
    const char *call_sid_ending_conference; /* the call whose leaving (or
                                   kick) ended it, or NULL */
    int64_t date_created;       /* 0: now (used on insert only) */
    int64_t date_updated;       /* 0: now */
} sb_conference_t;

/* Inserts c, or, when its SID exists, updates status, the two reason
 * fields (NULL clears them) and date_updated; account_sid, friendly_name,
 * api_version and date_created of a row are never changed. A completed
 * conference is final: a put on it changes nothing (and returns 0), so
 * the first end recorded (by the room or by sb_store_conference_end)
 * keeps its reason. Returns 0; SB_EINVAL when sid is not a CF SID,
 * account_sid not an AC SID, call_sid_ending_conference not a call SID,
 * friendly_name empty or too long, or status none of the three;
 * SB_ESTORE on a database error (logged). */
int sb_store_conference_put(sb_store_t *store, const sb_conference_t *c);

/* Marks conference sid of account_sid (NULL: whatever its owner)
 * completed with reason and call_sid (either may be NULL) and
 * date_updated now (<= 0: the current time), unless it is completed
 * already (then nothing changes: the first end wins), and in the same
 * transaction marks each of its participants still connected completed.
 * Returns 0 (also when it was completed already), SB_ENOENT (unknown, or
 * another account's), SB_EINVAL (malformed SIDs) or SB_ESTORE. */
int sb_store_conference_end(sb_store_t *store, const char *account_sid,
                            const char *sid, const char *reason,
                            const char *call_sid, int64_t now);

/* One participant: a call's membership of a room. Strings are borrowed
 * for the call. */
typedef struct sb_participant_s {
    const char *conference_sid; /* required: the room's CF SID */
    const char *call_sid;       /* required: a call SID (either form) */
    const char *account_sid;    /* required: the owner (the room's) */
    const char *status;         /* "connected" (NULL) or "completed"
                                   (it left; the row stays) */
    int muted;                  /* 0 or 1 (non-zero is 1), as are the */
    int hold;                   /* other flags */
    int start_conference_on_enter;
    int end_conference_on_exit;
    int64_t date_created;       /* 0: now (used on insert only) */
    int64_t date_updated;       /* 0: now */
} sb_participant_t;

/* Inserts p, or, when the call already has a row in that conference (it
 * joined again, or something changed), updates status, the four flags
 * and date_updated; account_sid and date_created of a row are never
 * changed. Returns 0; SB_EINVAL when a SID is malformed or status is
 * neither of the two; SB_ESTORE on a database error (logged). */
int sb_store_participant_put(sb_store_t *store, const sb_participant_t *p);

/* Changes what the REST API's live actions change on participant
 * call_sid of conference conference_sid, owned by account_sid (NULL:
 * whatever its owner): muted and hold (-1: left alone, else 0 or 1) and
 * status (NULL: left alone), with date_updated now (<= 0: the current
 * time). Returns 0, SB_ENOENT (no such participant, or another
 * account's), SB_EINVAL (malformed SIDs, a bad status) or SB_ESTORE. */
int sb_store_participant_set(sb_store_t *store, const char *account_sid,
                             const char *conference_sid, const char *call_sid,
                             int muted, int hold, const char *status,
                             int64_t now);

/* At start-up, before any room exists: conferences a previous run left
 * init or in-progress become completed (reason "interrupted",
 * date_updated now), and participants left connected become completed.
 * Logs what it closed. *n (may be NULL) gets the number of conferences
 * closed. Returns 0 or SB_ESTORE. */
int sb_store_conference_recover(sb_store_t *store, int64_t now, int64_t *n);

#endif
