/*
 * sip_store.h: what the SIP registrar needs from the database: a client's
 * digest credentials (clients_auth.c, reading the clients table the REST
 * resource owns) and the registrations table (registrations.c), the
 * location service that survives a restart.
 *
 * Times are seconds since the epoch. No SQL or sqlite type crosses this
 * header.
 */
#ifndef SB_SIP_STORE_H
#define SB_SIP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* ---- client credentials (clients_auth.c) --------------------------------- */

/* A client as the registrar sees it. Strings owned by the struct. */
typedef struct sb_client_auth_s {
    char sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char *login;
    char *ha1_md5;              /* md5 hex of "login:realm:password"; may be NULL */
    char *ha1_sha256;           /* sha256 hex of the same; may be NULL */
    int enabled;                /* clients.status == 1 */
    int account_active;         /* the owning account's status is 'active' */
} sb_client_auth_t;

/* Loads the client whose login is exactly login (case-sensitive, as SIP
 * user names are). Returns 0 and fills *out (sb_client_auth_clear), or
 * SB_ENOENT, or SB_ESTORE. */
int sb_store_client_auth_get(sb_store_t *store, const char *login,
                             sb_client_auth_t *out);
/* Frees the strings of c (not c itself). */
void sb_client_auth_clear(sb_client_auth_t *c);

/* ---- registrations (registrations.c) ------------------------------------- */

/* One binding of a login to a contact. Strings owned by the struct. */
typedef struct sb_registration_s {
    char *login;
    char client_sid[SB_SID_SIZE];   /* "" when unknown */
    char *contact;              /* contact URI, as registered */
    char *instance;             /* +sip.instance value or NULL */
    int reg_id;                 /* RFC 5626 reg-id, 0 when absent */
    int64_t expires_at;
    char *source_ip;            /* where the REGISTER came from (received) */
    int source_port;            /* (rport) */
    char *transport;            /* "udp" or "tcp" */
    char *user_agent;           /* may be NULL */
    char *call_id;
    uint32_t cseq;
    int64_t date_created;
    int64_t date_updated;
} sb_registration_t;

/* Frees the strings of r (not r itself). */
void sb_registration_clear(sb_registration_t *r);
/* Frees n registrations and the array. */
void sb_registrations_free(sb_registration_t *r, size_t n);

/* Live bindings of login (expires_at > now), most recently updated first.
 * Returns 0 with *out owned (sb_registrations_free; NULL when *n is 0), or
 * SB_ESTORE. */
int sb_store_registrations_get(sb_store_t *store, const char *login, int64_t now,
                               sb_registration_t **out, size_t *n);

/* Makes set (n entries, borrowed) the complete list of login's bindings,
 * in one transaction: rows of login not in set are deleted. Returns 0 or
 * SB_ESTORE (nothing changed). */
int sb_store_registrations_replace(sb_store_t *store, const char *login,
                                   const sb_registration_t *set, size_t n);

/* Called for each binding removed by sb_store_registrations_expire; r is
 * borrowed for the call. */
typedef void (*sb_store_registration_cb)(const sb_registration_t *r, void *arg);

/* Deletes every binding with expires_at <= now, calling cb (may be NULL)
 * for each first. Returns the number removed (>= 0) or SB_ESTORE. */
int sb_store_registrations_expire(sb_store_t *store, int64_t now,
                                  sb_store_registration_cb cb, void *arg);

/* The soonest expires_at of any binding. Returns 0 and *at, SB_ENOENT when
 * there is none, or SB_ESTORE. */
int sb_store_registrations_next_expiry(sb_store_t *store, int64_t *at);

/* Counts live bindings (expires_at > now): distinct logins in *users,
 * bindings in *contacts (either may be NULL). Returns 0 or SB_ESTORE. */
int sb_store_registrations_count(sb_store_t *store, int64_t now, int64_t *users,
                                 int64_t *contacts);

#endif
