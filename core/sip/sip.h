/*
 * sip.h: the SIP side of Switchboard: one nua user agent on the reactor's
 * su_root, bound to the configured address (UDP and/or TCP). No sofia type
 * leaves this module: higher modules get plain descriptions and callbacks.
 *
 * This header grows with call legs and REFER; what exists now is the agent
 * itself, OPTIONS (answered 200 with Allow on every listen address), the
 * registrar with its location service, and the ordered shutdown. A method
 * not in SB_SIP_ALLOW is answered 405 with Allow by the stack.
 */
#ifndef SB_SIP_H
#define SB_SIP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"

typedef struct sb_sip_s sb_sip_t;

/* Methods Switchboard handles; the Allow header of every answer. Set as
 * the whole list (not merged with nua's defaults), so anything else gets
 * 405 Method Not Allowed with this Allow header. */
#define SB_SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, UPDATE, REFER, MESSAGE"

struct sb_store_s;

/* Creates the agent and binds cfg's listen address (cfg borrowed for the
 * agent's lifetime). Registers a closer with loop. Returns 0 and *out
 * (owned by the loop's shutdown: freed when its closer finishes), or
 * SB_EIO with one line in err naming the address and the reason. */
int sb_sip_new(sb_loop_t *loop, const sb_config_t *cfg, sb_sip_t **out,
               char *err, size_t errlen);

/* Returns borrowed text: the URI the agent is bound to. */
const char *sb_sip_bound_uri(sb_sip_t *sip);

/* Turns logging of every SIP message sent and received (whole, at info
 * level) on or off; process-wide, as sofia-sip's log is. Returns the
 * previous state (0 or 1). */
int sb_sip_trace(sb_sip_t *sip, int on);

/* ---- registrar (registrar.c) --------------------------------------------- */

/* Gives the registrar its database (borrowed; must stay open until the
 * agent's closer has run, which the loop's reverse close order ensures when
 * the store starts first). Until this is called REGISTER is answered 503.
 * Deletes bindings that expired while the server was down, logs how many
 * were restored and arms the expiry timer. Returns 0, SB_EINVAL, or
 * SB_ESTORE. */
int sb_sip_registrar_start(sb_sip_t *sip, struct sb_store_s *store);

/* One live contact of a client login, as the location service returns it.
 * Owned by the array it is in (sb_sip_contacts_free). */
typedef struct sb_sip_contact_s {
    char *uri;                  /* the Contact URI: the Request-URI to use */
    char *dest;                 /* where to send: "sip:IP:PORT;transport=T",
                                   the REGISTER's source (received/rport),
                                   which reaches clients behind NAT */
    char *source_ip;
    int source_port;
    char transport[8];          /* "udp" or "tcp" */
    char *instance;             /* +sip.instance or NULL */
    char *user_agent;           /* or NULL */
    int64_t expires_at;         /* seconds since the epoch */
} sb_sip_contact_t;

/* Every live contact of login (matched case-insensitively, as logins are
 * unique regardless of case), most recently registered first. Returns 0
 * with *out owned (NULL when *n is 0: not registered), SB_ESTATE before
 * sb_sip_registrar_start, or SB_ESTORE. */
int sb_sip_location_lookup(sb_sip_t *sip, const char *login,
                           sb_sip_contact_t **out, size_t *n);
/* Frees n contacts and the array (NULL is fine). */
void sb_sip_contacts_free(sb_sip_contact_t *c, size_t n);

/* For metrics: logins with at least one live contact (*users) and live
 * contacts (*contacts); either may be NULL. Returns 0, SB_ESTATE before
 * sb_sip_registrar_start, or SB_ESTORE. */
int sb_sip_registered_count(sb_sip_t *sip, int64_t *users, int64_t *contacts);

/* ---- call legs (leg.c) --------------------------------------------------- */

/* One INVITE dialog seen from our side: an incoming leg (a phone called
 * us) or an outgoing leg (we called a phone). The sip module owns it; the
 * user (call/) holds a borrowed pointer from creation until it calls
 * sb_sip_leg_release, and gets every event of the leg through one handler.
 * Bodies are SDP text; the sip module never interprets them. */
typedef struct sb_sip_leg_s sb_sip_leg_t;

/* A header as name and value, both borrowed. */
typedef struct sb_sip_header_s {
    const char *name;
    const char *value;
} sb_sip_header_t;

#define SB_SIP_MAX_HEADERS 32      /* X- headers kept per message */

/* An incoming INVITE, described. Every pointer is borrowed for the
 * on_invite callback only. Strings are never NULL unless stated. */
typedef struct sb_sip_invite_info_s {
    const char *call_id;
    const char *request_uri;        /* "sip:1111@127.0.0.1:5080" */
    const char *ruri_user;          /* "" when none */
    const char *from_uri;
    const char *from_user;          /* "" when none */
    const char *from_display;       /* unquoted; NULL when absent */
    const char *to_uri;
    const char *to_user;            /* "" when none */
    const char *contact;            /* the Contact URI */
    const char *sdp;                /* body, or NULL (late offer) */
    size_t sdp_len;
    const sb_sip_header_t *headers; /* X-* and Diversion, in order */
    size_t header_count;
    int max_forwards;               /* as received (70 when absent) */
    const char *source_ip;
    int source_port;
    const char *transport;          /* "udp" or "tcp" */
    const char *user_agent;         /* NULL when absent */
    int trusted;                    /* from a trusted peer (sip.trusted) */
    int self;                       /* this server's own INVITE (a number
                                       dialled with no proxy): from one of
                                       its addresses, with the Call-ID of
                                       one of its outgoing legs */
    const char *auth_login;         /* the Client that proved its identity
                                       (digest), or NULL */
} sb_sip_invite_info_t;

typedef enum {
    SB_SIP_LEG_PROGRESS = 1,    /* outgoing: a 101..199 response */
    SB_SIP_LEG_ANSWERED,        /* outgoing: the 2xx (ACK already sent) */
    SB_SIP_LEG_FAILED,          /* outgoing: a final response >= 300; the
                                   leg is over */
    SB_SIP_LEG_CONFIRMED,       /* incoming: the ACK to our 2xx arrived
                                   (sdp: the answer of a late offer) */
    SB_SIP_LEG_OFFER,           /* a re-INVITE with an offer: fill
                                   answer/status before returning */
    SB_SIP_LEG_ENDED,           /* the dialog ended: BYE or CANCEL from the
                                   peer, a session-timer or ACK timeout, a
                                   transport error; the leg is over */
    SB_SIP_LEG_REFER            /* an in-dialog REFER (see refer fields) */
} sb_sip_leg_event_type_t;

/* What a REFER carries (SB_SIP_LEG_REFER). Borrowed for the callback. */
typedef struct sb_sip_refer_info_s {
    const char *refer_to;       /* the Refer-To URI (headers kept) */
    const char *refer_to_user;  /* user part, "" when none */
    int refer_to_sip;           /* 1 when Refer-To is a sip:/sips: URI */
    const char *referred_by;    /* Referred-By URI or NULL */
    const char *contact_user;   /* user part of the REFER's Contact */
    const char *to_user;        /* user part of the REFER's To */
    const char *from_user;
    int refer_sub;              /* 0 when Refer-Sub: false (RFC 4488) */
    int event_id;               /* CSeq of the REFER: Event: refer;id=N */
} sb_sip_refer_info_t;

/* One event of a leg. Pointers are borrowed for the callback. */
typedef struct sb_sip_leg_event_s {
    sb_sip_leg_event_type_t type;
    int status;                 /* the response or cause: PROGRESS, ANSWERED,
                                   FAILED: the status; ENDED: 0 for a BYE
                                   from the peer, 487 for its CANCEL, 408
                                   for a timeout, 500 for other errors */
    const char *phrase;         /* may be NULL */
    const char *sdp;            /* body when SDP, else NULL */
    size_t sdp_len;
    const sb_sip_header_t *headers; /* X-* of the message (response, BYE) */
    size_t header_count;
    const char *call_id;
    /* OFFER: the handler writes the answer SDP here (NUL-terminated; owned
     * by the sip module) and sets *reply to 200, or to an error status
     * (488 when the offer cannot be answered). */
    struct sb_buf_s *answer;
    int *reply;
    const sb_sip_refer_info_t *refer;  /* REFER */
} sb_sip_leg_event_t;

typedef void (*sb_sip_leg_cb)(sb_sip_leg_t *leg, const sb_sip_leg_event_t *ev,
                              void *arg);

/* An incoming INVITE (not a re-INVITE). The handler takes the leg: it must
 * answer it (sb_sip_leg_respond, now or later) and release it. leg and
 * info are valid for the call (leg until released). */
typedef void (*sb_sip_invite_cb)(sb_sip_leg_t *leg,
                                 const sb_sip_invite_info_t *info, void *arg);

/* Sets the handler of new INVITEs (NULL: refuse them with 480). */
void sb_sip_set_invite_handler(sb_sip_t *sip, sb_sip_invite_cb cb, void *arg);

/* Sets the handler of leg's events (NULL: events are dropped). */
void sb_sip_leg_set_handler(sb_sip_leg_t *leg, sb_sip_leg_cb cb, void *arg);

/* Answers an incoming leg's INVITE: status 180/183 (sdp optional), 200
 * (sdp required unless the INVITE had none: then sdp is our offer and the
 * ACK carries the answer), or a final error >= 300 (the leg is then over:
 * an ENDED event follows only for a 2xx leg). phrase NULL: the standard
 * one. headers (may be NULL) are added. Everything borrowed (copied).
 * Returns 0, SB_ESTATE when a final answer was already sent or the leg is
 * outgoing, SB_EINVAL for a bad status or header. */
int sb_sip_leg_respond(sb_sip_leg_t *leg, int status, const char *phrase,
                       const char *sdp, const sb_sip_header_t *headers,
                       size_t header_count);

/* An INVITE to send. Every pointer borrowed for the call (copied). */
typedef struct sb_sip_invite_req_s {
    const char *request_uri;    /* "sip:+131313@127.0.0.1:5070" */
    const char *dest;           /* next hop URI ("sip:IP:PORT;transport=udp")
                                   or NULL: resolved from request_uri */
    const char *from_user;      /* user part of our From */
    const char *from_display;   /* or NULL */
    const char *to_uri;         /* NULL: the request URI */
    const char *sdp;            /* the offer (required) */
    const sb_sip_header_t *headers;   /* extra headers (X-*) or NULL */
    size_t header_count;
    int max_forwards;           /* 0: 70 */
    const char *auth_user;      /* digest credentials for a 401/407, or NULL */
    const char *auth_password;
} sb_sip_invite_req_t;

/* Sends an INVITE on a new outgoing leg whose events go to cb. Returns 0
 * and *out (borrowed until sb_sip_leg_release), SB_EINVAL for a bad URI
 * or header, SB_ESTATE while shutting down. No event fires before this
 * returns. */
int sb_sip_leg_invite(sb_sip_t *sip, const sb_sip_invite_req_t *req,
                      sb_sip_leg_cb cb, void *arg, sb_sip_leg_t **out);

/* Ends the leg whatever its state: an incoming leg not answered yet gets
 * status (>= 300; 0 means 480), an outgoing one not answered is CANCELled,
 * an answered one gets BYE. No event fires for the ending itself; a leg
 * already ending or over is left alone. Returns 0. */
int sb_sip_leg_end(sb_sip_leg_t *leg, int status);

/* The user is done with leg: no more events; the leg is ended (as
 * sb_sip_leg_end(leg, 0)) if it is still up, and freed once the stack is
 * done with its dialog. leg must not be used afterwards. */
void sb_sip_leg_release(sb_sip_leg_t *leg);

/* Answers the REFER of leg's last SB_SIP_LEG_REFER event (now or later):
 * 202 Accepted (subscription 1: the implicit subscription starts and
 * NOTIFYs may follow; 0: Refer-Sub: false, RFC 4488) or an error status
 * >= 300 with reason (text, may be NULL) in a Reason header. Every answer
 * has Event: refer. Returns 0, SB_EINVAL (status), SB_ESTATE (no REFER
 * awaits an answer). */
int sb_sip_leg_refer_respond(sb_sip_leg_t *leg, int status, const char *reason,
                             int subscription);

/* Sends a NOTIFY with message/sipfrag "SIP/2.0 <status> <phrase>" on the
 * accepted REFER's subscription (phrase NULL: the standard one); final
 * ends the subscription (Subscription-State: terminated). Returns 0,
 * SB_EINVAL, or SB_ESTATE (no subscription: Refer-Sub: false, not
 * accepted, or already ended). */
int sb_sip_leg_refer_notify(sb_sip_leg_t *leg, int status, const char *phrase,
                            int final);

/* Returns borrowed Call-ID of the leg ("" for an outgoing leg before its
 * first response), valid until release. */
const char *sb_sip_leg_call_id(const sb_sip_leg_t *leg);

/* Returns 1 for a leg we called, 0 for one that called us. */
int sb_sip_leg_outgoing(const sb_sip_leg_t *leg);

/* Number of legs alive (for stats and tests). */
int sb_sip_leg_count(const sb_sip_t *sip);

/* Builds "sip:<user>@<host:port and params of uri>" from a SIP URI such as
 * the outbound proxy's: *out is owned. user is escaped as a URI user part
 * needs. Returns 0 or SB_EINVAL when uri is not a sip:/sips: URI. */
int sb_sip_uri_with_user(const char *uri, const char *user, char **out);

/* Returns the domain our URIs use (the configured sip.domain). */
const char *sb_sip_domain(const sb_sip_t *sip);

/* 1 when uri is a sip:/sips: URI of this server: its host our domain or a
 * listen address, its port (5060 or 5061 when absent) one we listen on, no maddr
 * parameter and no headers (which would route it elsewhere); else 0.
 * What a call that may not leave the server may still dial (call/). */
int sb_sip_uri_is_local(sb_sip_t *sip, const char *uri);

/* 1 when the host of uri is an address in sip.trusted, else 0. */
int sb_sip_uri_trusted(sb_sip_t *sip, const char *uri);


/* ---- MESSAGE (message.c) ------------------------------------------------- */

/* An incoming MESSAGE outside any dialog, described. Every pointer is
 * borrowed for the handler only. Only text/plain bodies reach the handler
 * (others get 415); body is NUL-terminated (it may hold other NULs). */
typedef struct sb_sip_message_info_s {
    const char *request_uri;
    const char *ruri_user;          /* "" when none */
    const char *from_uri;
    const char *from_user;          /* "" when none */
    const char *to_user;            /* "" when none */
    const char *body;
    size_t body_len;
    const sb_sip_header_t *headers; /* X-* headers, in order */
    size_t header_count;
    const char *source_ip;
    int source_port;
    const char *transport;          /* "udp" or "tcp" */
} sb_sip_message_info_t;

/* Handles one incoming MESSAGE and returns the status to answer it with
 * (200 or 202 when taken; 403, 404, 413, 480, 488, 500 ...). */
typedef int (*sb_sip_message_cb)(const sb_sip_message_info_t *info, void *arg);

/* Sets the handler of incoming MESSAGEs (NULL: answered 503). */
void sb_sip_set_message_handler(sb_sip_t *sip, sb_sip_message_cb cb, void *arg);

/* A MESSAGE to send. Every pointer borrowed for the call (copied). */
typedef struct sb_sip_message_req_s {
    const char *request_uri;    /* "sip:alice@127.0.0.1:5062" */
    const char *dest;           /* next hop URI or NULL (from request_uri) */
    const char *from_user;      /* user part of our From */
    const char *to_uri;         /* NULL: the request URI */
    const char *content_type;   /* NULL: text/plain;charset=UTF-8 */
    const char *body;           /* at most 8192 bytes */
    const sb_sip_header_t *headers;   /* extra headers (X-*) or NULL */
    size_t header_count;
} sb_sip_message_req_t;

typedef struct sb_sip_message_s sb_sip_message_t;

/* Fires once with the final status (2xx: accepted; 408 for a timeout, 503
 * for a transport error or the shutdown) unless canceled first. phrase is
 * borrowed for the callback and may be NULL. */
typedef void (*sb_sip_message_done_cb)(int status, const char *phrase, void *arg);

/* Sends a MESSAGE. Returns 0 and *out (may be NULL; borrowed until cb
 * fires or sb_sip_message_cancel), SB_EINVAL for a bad URI, header or
 * body size, SB_ESTATE while shutting down. cb never fires before this
 * returns. */
int sb_sip_message_send(sb_sip_t *sip, const sb_sip_message_req_t *req,
                        sb_sip_message_done_cb cb, void *arg,
                        sb_sip_message_t **out);

/* The callback of m will not fire (the transaction still completes). */
void sb_sip_message_cancel(sb_sip_message_t *m);

/* ---- dialogs that outlive the process (dialog.c) ------------------------- */

/* What ending an established INVITE dialog with a BYE needs, as the call
 * module stores it when the dialog is established (issue 23: after a
 * crash, the next run hangs up the legs the dead one left up). Strings
 * are header values as they go on the wire. */
typedef struct sb_sip_dialog_s {
    const char *call_id;
    int outgoing;               /* 1: we sent the INVITE */
    const char *local;          /* our From of in-dialog requests: name-addr
                                   with our tag */
    const char *remote;         /* their To: name-addr with their tag */
    const char *remote_target;  /* their Contact URI: the Request-URI */
    const char *route_set;      /* Route header value (comma-separated, in
                                   sending order), or NULL */
    int64_t local_cseq;         /* the next CSeq of ours, as far as known */
    const char *dest;           /* next hop URI ("sip:IP:PORT;transport=T"),
                                   or NULL: from the route set or target */
} sb_sip_dialog_t;

/* The established dialog of leg, borrowed until the leg is released.
 * Returns 0, or SB_ESTATE when it is not established (yet). */
int sb_sip_leg_dialog(const sb_sip_leg_t *leg, sb_sip_dialog_t *out);

/* Sends a BYE in dialog d outside any live dialog of this agent (the
 * dialog belonged to an earlier run), with a CSeq above any the dialog
 * can have used and a Reason header. label (the call SID, may be NULL)
 * names it in the logs; the answer is logged at debug. Everything is
 * borrowed (copied). Returns 0, SB_EINVAL (no Call-ID, tags or target),
 * SB_ESTATE while shutting down, or SB_ENOMEM. */
int sb_sip_dialog_bye(sb_sip_t *sip, const sb_sip_dialog_t *d, const char *label);


#endif
