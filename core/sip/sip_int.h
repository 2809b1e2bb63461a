/*
 * sip_int.h: shared between the files of core/sip only. Holds the agent
 * struct (agent.c owns it), the registrar's entry points (registrar.c) and
 * the digest authentication primitives (digest.c). Includes sofia headers,
 * so nothing outside core/sip may include it.
 */
#ifndef SB_SIP_INT_H
#define SB_SIP_INT_H

#include "sip.h"
#include "util.h"

#include <stdint.h>

#define NUA_MAGIC_T struct sb_sip_s
#include <sofia-sip/nua.h>

typedef struct sb__sip_reg_s sb__sip_reg_t;

/* Owner: the loop's shutdown (agent.c frees it after nua_destroy). */
struct sb_sip_s {
    sb_loop_t *loop;
    const sb_config_t *cfg;
    nua_t *nua;
    char uri[160];
    uv_timer_t destroy_timer;   /* runs nua_destroy outside nua's callback */
    int shutting_down;
    sb__sip_reg_t *reg;         /* the registrar (registrar.c); owned */
    /* Call legs (leg.c). */
    sb_sip_invite_cb on_invite; /* new INVITEs; NULL: refused 480 */
    void *on_invite_arg;
    struct sb_sip_leg_s *legs;  /* every leg not yet freed; owned */
    int nlegs;
    /* MESSAGE (message.c). */
    sb_sip_message_cb on_message;   /* incoming; NULL: answered 503 */
    void *on_message_arg;
    struct sb_sip_message_s *messages;  /* sent, not answered; owned */
    struct sb__sip_bye_s *byes; /* BYEs for a past run's dialogs, not
                                   answered (dialog.c); owned */
};

/* ---- registrar.c --------------------------------------------------------- */

/* Creates the registrar of sip (no store yet: REGISTER is answered 503
 * until sb_sip_registrar_start). Returns owned; released by
 * sb__sip_reg_close. */
sb__sip_reg_t *sb__sip_reg_new(sb_sip_t *sip);
/* Answers one REGISTER (nua_i_register): nh and msg borrowed for the call.
 * Responds through nua with NUTAG_WITH_THIS and destroys nh. */
void sb__sip_reg_on_register(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                             sip_t const *msg);
/* Stops the expiry timer and frees reg once libuv has closed it. The store
 * is not touched after this call. */
void sb__sip_reg_close(sb__sip_reg_t *reg);

/* Authenticates an INVITE from an untrusted source (ip:port over
 * transport). Returns 1 when it has answered (407 challenge, 403, 400,
 * 500: the caller destroys nh), else 0 with *login the authenticated
 * Client's login (owned) or NULL for an anonymous caller: one whose From
 * names no Client and who sent no credentials for our realm. */
int sb__sip_reg_invite_auth(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                            sip_t const *m, const char *ip, int port,
                            const char *transport, char **login);

/* The expiry a REGISTER asks for one contact, per RFC 3261 10.2.1.1:
 * the contact's expires parameter (param, NULL when absent), else the
 * Expires header (have_header, header_delta), else the default (max
 * expires, capped at 3600). Values above max_expires are lowered to it.
 * Returns 0 and *out (0 means remove), SB_ESYNTAX for a parameter that is
 * not a number, or SB_ELIMIT when 0 < value < min_expires (423). */
int sb__sip_reg_expires(const char *param, int have_header,
                        unsigned long header_delta, int min_expires,
                        int max_expires, int64_t *out);

/* ---- digest.c ------------------------------------------------------------ */

#define SB_DIGEST_NONCE_LEN 64      /* hex characters */
#define SB_DIGEST_LIFETIME 300      /* seconds a nonce is accepted */
#define SB_DIGEST_NC_SLOTS 16384    /* nonces whose nc is remembered */
#define SB_DIGEST_MAX_VALUE 512     /* longest parameter value accepted */

typedef enum {
    SB_DIGEST_MD5 = 0,
    SB_DIGEST_SHA256 = 1,
} sb_digest_alg_t;

/* One Digest Authorization header, parsed. Strings are owned by the struct
 * (sb__digest_creds_clear). */
typedef struct sb_digest_creds_s {
    char *username;
    char *realm;
    char *nonce;
    char *uri;
    char *response;             /* lowercased hex */
    char *cnonce;
    char *qop;
    char *opaque;               /* ignored; we never send one */
    char nc_text[9];            /* the 8 hex digits as sent */
    uint32_t nc;
    sb_digest_alg_t alg;
    const char *error;          /* static: why parsing failed */
} sb_digest_creds_t;

/* Parses the parameters of a Digest credential (params borrowed: sofia's
 * msg_param_t list, NULL-terminated "name=value" strings). Returns 0 and
 * fills *out, or SB_ESYNTAX with out->error set: missing or repeated
 * parameter, empty or oversized value, unterminated quote, nc that is not
 * 8 hex digits, response of the wrong length for the algorithm, qop other
 * than auth, algorithm other than MD5 and SHA-256, userhash=true. out is
 * freeable either way. */
int sb__digest_parse(const char *const *params, sb_digest_creds_t *out);
void sb__digest_creds_clear(sb_digest_creds_t *c);

/* Hex digest size (with NUL) of an algorithm: 33 or 65. */
size_t sb__digest_hex_size(sb_digest_alg_t alg);
/* HA1 = H(username ":" realm ":" password) in lowercase hex (out: 65). */
void sb__digest_ha1(sb_digest_alg_t alg, const char *username, const char *realm,
                    const char *password, char *out);
/* The response a client must send (qop=auth), lowercase hex (out: 65). */
void sb__digest_response(sb_digest_alg_t alg, const char *ha1, const char *method,
                         const char *uri, const char *nonce, const char *nc,
                         const char *cnonce, const char *qop, char *out);

/* Nonces and the nonce-count memory. */
typedef struct sb_digest_s sb_digest_t;

typedef enum {
    SB_NONCE_OK = 0,
    SB_NONCE_INVALID,           /* not ours (forged, garbled, older process) */
    SB_NONCE_STALE,             /* ours but expired, or too old to track */
    SB_NONCE_REPLAY,            /* nc not above the highest seen */
} sb_nonce_verdict_t;

/* Returns owned state with a fresh random key. lifetime in seconds; slots
 * bounds the nc memory. */
sb_digest_t *sb__digest_new(int lifetime, size_t slots);
void sb__digest_free(sb_digest_t *d);
/* Writes a new nonce for time now into out (SB_DIGEST_NONCE_LEN + 1). */
void sb__digest_nonce(sb_digest_t *d, int64_t now, char *out);
/* Checks a nonce's authenticity and age without recording anything. */
sb_nonce_verdict_t sb__digest_nonce_check(sb_digest_t *d, const char *nonce,
                                          int64_t now);
/* For a nonce that passed the check and a verified response: records nc.
 * Returns SB_NONCE_OK, SB_NONCE_REPLAY (nc not above the highest seen) or
 * SB_NONCE_STALE (evicted from the bounded memory: its nc is unknown). */
sb_nonce_verdict_t sb__digest_nc_use(sb_digest_t *d, const char *nonce,
                                     uint32_t nc, int64_t now);
/* Returns owned WWW-Authenticate value: Digest realm, nonce, algorithm,
 * qop="auth" and stale=true when asked. */
char *sb__digest_challenge(sb_digest_t *d, const char *realm, sb_digest_alg_t alg,
                           int stale, int64_t now);
/* A per-process HA1 to verify against when the user is unknown, so an
 * unknown user costs the same work as a wrong password (out: 65). */
void sb__digest_dummy_ha1(sb_digest_t *d, sb_digest_alg_t alg, char *out);
/* Number of nonces whose nc is remembered (tests). */
size_t sb__digest_tracked(sb_digest_t *d);

/* Failed-authentication limits (digest.c): per source address and per
 * login, a back-off after a number of failures, doubling with each
 * further one. Times are milliseconds on any monotonic clock. */
#define SB_AUTHLIM_SLOTS 1024             /* addresses, and logins, kept */
#define SB_AUTHLIM_ADDR_FAILURES 10       /* failures before an address waits */
#define SB_AUTHLIM_LOGIN_FAILURES 20      /* failures before a login waits */
#define SB_AUTHLIM_FORGET_MS (15 * 60 * 1000)  /* quiet time that clears them */
#define SB_AUTHLIM_FIRST_MS 5000               /* first back-off */
#define SB_AUTHLIM_MAX_MS (15 * 60 * 1000)     /* longest back-off */

typedef struct sb_authlim_s sb_authlim_t;

/* Returns owned, empty state. */
sb_authlim_t *sb__authlim_new(void);
void sb__authlim_free(sb_authlim_t *l);
/* Before checking credentials of login (borrowed; NULL: unknown) from ip:
 * returns 0 when the check may run, or the milliseconds left of the
 * back-off that refuses it (the address's own, or the login's when this
 * address has failed before). */
int64_t sb__authlim_check(sb_authlim_t *l, const char *ip, const char *login,
                          int64_t now);
/* Records a failed check from ip (for login when it exists, else NULL).
 * Sets the back-off each failure started (ms), 0 when none: the caller
 * logs them. */
void sb__authlim_fail(sb_authlim_t *l, const char *ip, const char *login,
                      int64_t now, int64_t *addr_backoff,
                      int64_t *login_backoff);
/* Recent failures of an address (login 0) or a login (login 1) (tests). */
int sb__authlim_failures(sb_authlim_t *l, const char *key, int login);

/* ---- leg.c: call legs ------------------------------------------------------ */

/* Handles one nua event if it belongs to a call leg (INVITE dialogs and
 * their requests). Returns 1 when handled, 0 when the agent should. */
int sb__sip_leg_event(sb_sip_t *sip, nua_event_t event, int status,
                      char const *phrase, nua_t *nua, nua_handle_t *nh,
                      sip_t const *msg, tagi_t tags[]);
/* Ends every leg nobody released (before nua_shutdown). */
void sb__sip_legs_shutdown(sb_sip_t *sip);
/* Frees every leg (after nua_destroy, which took their handles). */
void sb__sip_legs_free(sb_sip_t *sip);
/* For refer.c: the leg's handle; saving and taking the REFER awaiting an
 * answer (one at a time: SB_EBUSY); delivering an event; whether the
 * dialog is established. */
nua_handle_t *sb__sip_leg_nh(sb_sip_leg_t *leg);
int sb__sip_leg_refer_save(sb_sip_leg_t *leg, nua_t *nua);
int sb__sip_leg_refer_take(sb_sip_leg_t *leg, nua_saved_event_t *out);
void sb__sip_leg_deliver(sb_sip_leg_t *leg, sb_sip_leg_event_t *ev);
int sb__sip_leg_confirmed(const sb_sip_leg_t *leg);
int sb__sip_leg_refer_pending(const sb_sip_leg_t *leg);
int sb__sip_leg_has_handler(const sb_sip_leg_t *leg);
/* The Event of the REFER's implicit subscription ("refer;id=N"), and
 * whether NOTIFYs may go out on it. */
void sb__sip_leg_refer_set_event(sb_sip_leg_t *leg, const char *event);
const char *sb__sip_leg_refer_event(const sb_sip_leg_t *leg);
void sb__sip_leg_refer_set_subscribed(sb_sip_leg_t *leg, int on);
int sb__sip_leg_refer_subscribed(const sb_sip_leg_t *leg);

/* ---- refer.c: REFER ---------------------------------------------------------- */

/* An in-dialog REFER on leg (nua_i_refer): described to the leg's user,
 * which answers it with sb_sip_leg_refer_respond. */
void sb__sip_leg_on_refer(sb_sip_leg_t *leg, nua_t *nua, sip_t const *msg,
                          tagi_t tags[]);
/* A REFER outside any dialog we know: answered 404 here. */
void sb__sip_refer_out_of_dialog(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                                 sip_t const *msg);

/* leg.c, shared with message.c: "Name: value" lines of checked headers
 * (owned; NULL when none, *bad when one is malformed); a URI user part
 * percent-encoded; the source address of the request being handled. */
char *sb__sip_join_headers(const sb_sip_header_t *h, size_t n, int *bad);
void sb__sip_escape_user(sb_buf_t *b, const char *user);
void sb__sip_source_of(nua_t *nua, char *ip, size_t iplen, int *port,
                       const char **transport);

/* ---- message.c: MESSAGE ----------------------------------------------------- */

/* An incoming MESSAGE (nua_i_message): answered and its handle destroyed. */
void sb__sip_on_message(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                        sip_t const *msg);
/* The answer to a MESSAGE we sent (nua_r_message). Returns 1 when nh was
 * one of ours, 0 otherwise. */
int sb__sip_message_response(sb_sip_t *sip, nua_handle_t *nh, int status,
                             const char *phrase);
/* Reports 503 to every MESSAGE not answered yet and destroys its handle
 * (before nua_shutdown). */
void sb__sip_messages_shutdown(sb_sip_t *sip);

/* ---- agent.c: metrics --------------------------------------------------------- */

/* Counts a response we send on nh (metrics): the method is the request
 * being dispatched when nh is its handle, else INVITE (outside a dispatch
 * only a leg answers its INVITE; refer.c counts its own late answer). */
void sb__sip_count_response(nua_handle_t *nh, int status);
/* Every nua_respond in this module goes through the counter; the status
 * is the first argument after nh (SIP_xxx macros expand to status,
 * phrase, hence the indirection). */
#define SB__SIP_FIRST(...) SB__SIP_FIRST_(__VA_ARGS__, 0)
#define SB__SIP_FIRST_(a, ...) (a)
#define nua_respond(nh, ...)                                                \
    (sb__sip_count_response((nh), SB__SIP_FIRST(__VA_ARGS__)),             \
     (nua_respond)((nh), __VA_ARGS__))

#endif
