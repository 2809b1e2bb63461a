/*
 * recording_store.h: recordings (migration 6, the recordings table), as
 * the call module writes them: one row per audio file made by <Record>,
 * <Dial record="true"> or a conference, inserted once the file is
 * written. The file itself is "<file_name>" (default "<sid>.wav") in the
 * recordings folder (recordings.dir); the store knows only its name. The
 * REST API lists and renders the table through the generic row layer
 * (rows.h) and uses the functions below for the media and for deletion.
 *
 * Times are seconds since the epoch. No SQL or sqlite type crosses this
 * header.
 */
#ifndef SB_RECORDING_STORE_H
#define SB_RECORDING_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* The longest file name a recording may have (without the folder). */
#define SB_RECORDING_FILE_MAX 128

/* One recording. For sb_store_recording_put every string is borrowed for
 * the call; NULL strings take the default shown. */
typedef struct sb_recording_s {
    const char *sid;            /* required: "RE" + 32 hex (sb_sid_new) */
    const char *account_sid;    /* required: the owner */
    const char *call_sid;       /* the call recorded, or NULL */
    const char *conference_sid; /* the conference recorded, or NULL */
    const char *api_version;    /* NULL: 2012-04-24 */
    const char *source;         /* Twilio's: RecordVerb (NULL), DialVerb,
                                   Conference, OutboundAPI, Trunking */
    const char *status;         /* completed (NULL), in-progress, absent,
                                   failed, ... */
    const char *file_name;      /* the WAV in recordings.dir, a plain name
                                   (sb_store_recording_name_ok); NULL:
                                   "<sid>.wav" */
    const char *price;          /* decimal text, or NULL */
    const char *price_unit;     /* NULL: USD */
    double duration;            /* seconds (fractional); < 0 is stored 0 */
    int channels;               /* 1 or 2; 0 means 1 */
    int error_code;             /* 0: none (NULL) */
    int64_t start_time;         /* when the recording began; <= 0: NULL */
    int64_t date_created;       /* 0: now */
    int64_t date_updated;       /* 0: date_created */
} sb_recording_t;

/* Inserts r. Returns 0; SB_EINVAL when sid is not an RE SID, account_sid
 * is not an AC SID, channels is not 1 or 2, or file_name is refused by
 * sb_store_recording_name_ok; SB_EEXIST when sid exists; SB_ESTORE on a
 * database error (logged). */
int sb_store_recording_put(sb_store_t *store, const sb_recording_t *r);

/* Looks up recording sid and, when account_sid is not NULL, checks that
 * it belongs to that account (another account's recording is SB_ENOENT,
 * as an unknown one). On success writes its WAV file name (no folder; at
 * most SB_RECORDING_FILE_MAX bytes and the NUL) into file (size
 * file_len) and, when owner is not NULL, the owning account's SID into
 * owner (SB_SID_SIZE). Returns 0, SB_ENOENT, SB_EINVAL (sid malformed, a
 * stored file name sb_store_recording_name_ok refuses, which is never
 * served, or a name longer than file_len allows), or SB_ESTORE. */
int sb_store_recording_file(sb_store_t *store, const char *account_sid,
                            const char *sid, char *file, size_t file_len,
                            char *owner);

/* Deletes recording sid of account_sid (NULL: whatever its owner) and
 * writes the WAV file name it had into file (size file_len; may be NULL)
 * so that the caller removes the files. Returns 0, SB_ENOENT (unknown, or
 * another account's), or SB_ESTORE. */
int sb_store_recording_delete(sb_store_t *store, const char *account_sid,
                              const char *sid, char *file, size_t file_len);

/* Returns 1 when name is acceptable as a recording's file name: at most
 * SB_RECORDING_FILE_MAX bytes of [A-Za-z0-9._-], not starting with '.',
 * ending in ".wav" (any case). */
int sb_store_recording_name_ok(const char *name);

#endif
