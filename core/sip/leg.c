/*
 * leg.c: call legs, the SIP half of the back-to-back user agent. One leg
 * is one INVITE dialog on one nua handle, incoming or outgoing. nua runs
 * with its SDP engine off (NUTAG_MEDIA_ENABLE(0)): bodies pass through as
 * text and the call module answers them with the media engine's SDP.
 *
 * Entry points: sb__sip_leg_event (agent.c hands it every session event),
 * the sb_sip_leg_* functions of sip.h, and the shutdown pair used by the
 * agent's closer.
 *
 * What nua does for us and we rely on: 100 Trying, 481 for requests in
 * unknown dialogs, 200 to BYE and CANCEL (then 487 to the INVITE), ACK of
 * our 2xx, retransmissions, session timers (RFC 4028: refreshing with
 * UPDATE when we are the refresher, BYE when the peer fails to refresh).
 * What we check ourselves, before anything reaches the call module:
 * Max-Forwards 0 (483), a missing Contact (400), a body that is not SDP
 * (415), a non-SIP Request-URI (416).
 *
 * Lifetime: a leg is freed when its user has released it AND nua is done
 * with the dialog (nua_i_state terminated), and not while an event of it
 * is being dispatched.
 */
#include "sip_int.h"
#include "dialog_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag_io.h>
#include <sofia-sip/url.h>

typedef enum {
    L_IN_PROCEEDING = 0,        /* incoming, no final answer yet */
    L_IN_ANSWERED,              /* incoming, 2xx sent, waiting for ACK */
    L_OUT_CALLING,              /* outgoing, no final answer yet */
    L_CONFIRMED,                /* dialog established */
    L_ENDING,                   /* we ended it (BYE, CANCEL, error answer) */
    L_OVER                      /* the peer ended it, or it failed */
} leg_state_t;

/* Owner: the sip module (sip->legs); the user holds it until release. */
struct sb_sip_leg_s {
    sb_sip_t *sip;
    nua_handle_t *nh;           /* NULL once destroyed */
    int outgoing;
    leg_state_t state;
    int released;               /* the user let go */
    int terminated;             /* nua reported the dialog terminated */
    int dispatching;            /* inside a callback of this leg */
    int reported_end;           /* ENDED or FAILED delivered */
    int late_offer;             /* incoming INVITE without SDP */
    sb_sip_leg_cb cb;
    void *arg;
    char *call_id;
    char *auth_user;
    char *auth_password;
    int auth_tried;
    /* REFER (refer.c): the one awaiting our answer, the Event of its
     * implicit subscription, and whether NOTIFYs may go out. */
    nua_saved_event_t refer_saved[1];
    int refer_pending;
    char *refer_event;
    int refer_subscribed;
    sb__sip_dlg_t *dlg;         /* what a BYE needs (dialog.c); owned */
    sb_sip_leg_t *prev, *next;  /* sip->legs */
};

/* ---- small helpers -------------------------------------------------------- */

static void leg_link(sb_sip_t *sip, sb_sip_leg_t *leg)
{
    leg->next = sip->legs;
    if (sip->legs)
        sip->legs->prev = leg;
    sip->legs = leg;
    sip->nlegs++;
}

static void leg_free(sb_sip_leg_t *leg)
{
    sb_sip_t *sip = leg->sip;
    if (leg->prev)
        leg->prev->next = leg->next;
    else
        sip->legs = leg->next;
    if (leg->next)
        leg->next->prev = leg->prev;
    sip->nlegs--;
    if (leg->refer_pending)
        nua_destroy_event(leg->refer_saved);
    if (leg->nh) {
        nua_handle_bind(leg->nh, NULL);
        nua_handle_destroy(leg->nh);
    }
    sb__sip_dlg_free(leg->dlg);
    free(leg->call_id);
    free(leg->refer_event);
    free(leg->auth_user);
    free(leg->auth_password);
    free(leg);
}

/* Frees the leg when nobody needs it any more. Returns 1 when freed. */
static int leg_maybe_free(sb_sip_leg_t *leg)
{
    if (leg->released && leg->terminated && !leg->dispatching) {
        leg_free(leg);
        return 1;
    }
    return 0;
}

static void deliver(sb_sip_leg_t *leg, sb_sip_leg_event_t *ev)
{
    if (leg->released || leg->cb == NULL)
        return;
    if (ev->call_id == NULL)
        ev->call_id = leg->call_id ? leg->call_id : "";
    leg->dispatching++;
    leg->cb(leg, ev, leg->arg);
    leg->dispatching--;
}

/* Copies the X- headers (and, for INVITE, Diversion) of msg into hdr
 * (at most SB_SIP_MAX_HEADERS), pointing into msg. */
static size_t collect_headers(sip_t const *msg, int with_diversion,
                              sb_sip_header_t *hdr)
{
    size_t n = 0;
    if (msg == NULL)
        return 0;
    for (sip_unknown_t const *u = msg->sip_unknown; u && n < SB_SIP_MAX_HEADERS;
         u = u->un_next) {
        if (u->un_name == NULL || u->un_value == NULL)
            continue;
        if (strncasecmp(u->un_name, "X-", 2) == 0 ||
            (with_diversion && strcasecmp(u->un_name, "Diversion") == 0)) {
            hdr[n].name = u->un_name;
            hdr[n].value = u->un_value;
            n++;
        }
    }
    return n;
}

/* The body of msg when it is SDP (or untyped text starting "v="). */
static int sdp_of(sip_t const *msg, const char **sdp, size_t *len)
{
    *sdp = NULL;
    *len = 0;
    if (msg == NULL || msg->sip_payload == NULL || msg->sip_payload->pl_len == 0)
        return 0;
    sip_content_type_t const *ct = msg->sip_content_type;
    if (ct && ct->c_type && strcasecmp(ct->c_type, "application/sdp") != 0)
        return -1;
    *sdp = msg->sip_payload->pl_data;
    *len = msg->sip_payload->pl_len;
    return 1;
}

/* Joins headers into "Name: value\r\n..." (without the last CRLF), after
 * checking names are tokens and neither contains CR or LF. Returns owned
 * text, NULL when there is none, or sets *bad. */
char *sb__sip_join_headers(const sb_sip_header_t *h, size_t n, int *bad)
{
    sb_buf_t b = SB_BUF_INIT;
    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = h[i].name, *value = h[i].value ? h[i].value : "";
        if (name == NULL || *name == '\0' || strpbrk(value, "\r\n")) {
            *bad = 1;
            break;
        }
        for (const char *p = name; *p; p++) {
            if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                  (*p >= '0' && *p <= '9') || strchr("-.!%*_+`'~", *p))) {
                *bad = 1;
                break;
            }
        }
        if (*bad)
            break;
        if (b.len)
            sb_buf_puts(&b, "\r\n");
        sb_buf_printf(&b, "%s: %s", name, value);
    }
    if (*bad || b.len == 0) {
        sb_buf_free(&b);
        return NULL;
    }
    return sb_buf_steal(&b);
}

/* Percent-encodes what a URI user part may not hold. */
void sb__sip_escape_user(sb_buf_t *b, const char *user)
{
    static const char ok[] = "-_.!~*'()&=+$,;?/";
    for (const unsigned char *p = (const unsigned char *)user; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || strchr(ok, *p))
            sb_buf_putc(b, (char)*p);
        else
            sb_buf_printf(b, "%%%02X", *p);
    }
}

static void quote_display(sb_buf_t *b, const char *d)
{
    sb_buf_putc(b, '"');
    for (; *d; d++) {
        if (*d == '"' || *d == '\\')
            sb_buf_putc(b, '\\');
        if (*d != '\r' && *d != '\n')
            sb_buf_putc(b, *d);
    }
    sb_buf_putc(b, '"');
}

/* Unquotes a display name into out. */
static void unquote(const char *s, char *out, size_t n)
{
    size_t o = 0;
    if (s == NULL) {
        out[0] = '\0';
        return;
    }
    while (*s == ' ')
        s++;
    int quoted = *s == '"';
    if (quoted)
        s++;
    for (; *s && o + 1 < n; s++) {
        if (quoted && *s == '"')
            break;
        if (quoted && *s == '\\' && s[1])
            s++;
        out[o++] = *s;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

void sb__sip_source_of(nua_t *nua, char *ip, size_t iplen, int *port,
                       const char **transport)
{
    snprintf(ip, iplen, "0.0.0.0");
    *port = 0;
    *transport = "udp";
    msg_t *m = nua_current_request(nua);
    su_addrinfo_t *ai = m ? msg_addrinfo(m) : NULL;
    if (ai == NULL || ai->ai_addr == NULL)
        return;
    if (ai->ai_protocol == IPPROTO_TCP)
        *transport = "tcp";
    if (ai->ai_addr->sa_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ai->ai_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, ip, iplen);
        *port = ntohs(a->sin6_port);
    } else if (ai->ai_addr->sa_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ai->ai_addr;
        inet_ntop(AF_INET, &a->sin_addr, ip, iplen);
        *port = ntohs(a->sin_port);
    }
}

/* ---- incoming INVITE ------------------------------------------------------ */

static void refuse(nua_t *nua, nua_handle_t *nh, int status, const char *phrase)
{
    nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua),
                SIPTAG_ALLOW_STR(SB_SIP_ALLOW), TAG_END());
    nua_handle_destroy(nh);
}

/* 1 when the INVITE is one this server sent itself (a number of ours
 * dialled with no outbound proxy comes back to us): it comes from one of
 * our addresses (any port, UDP or TCP; any address when we listen on all)
 * and carries the Call-ID of one of our outgoing legs, which we chose
 * (sb_sip_leg_invite). */
static int from_self(const sb_sip_t *sip, const char *ip, const char *call_id)
{
    int ours = 0;
    for (int i = 0; i < sip->cfg->sip_listen_count && !ours; i++) {
        const char *h = sip->cfg->sip_listen[i].host;
        ours = strcmp(h, ip) == 0 || strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0;
    }
    if (!ours)
        return 0;
    for (const sb_sip_leg_t *l = sip->legs; l; l = l->next)
        if (l->outgoing && l->call_id && strcmp(l->call_id, call_id) == 0)
            return 1;
    return 0;
}

static void on_new_invite(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                          sip_t const *msg)
{
    if (msg == NULL || msg->sip_request == NULL || msg->sip_from == NULL ||
        msg->sip_to == NULL || msg->sip_call_id == NULL) {
        refuse(nua, nh, 400, "Bad Request");
        return;
    }
    if (sip->shutting_down) {
        refuse(nua, nh, 503, "Shutting Down");
        return;
    }
    if (sip->on_invite == NULL) {
        refuse(nua, nh, SIP_480_TEMPORARILY_UNAVAILABLE);
        return;
    }
    int mf = msg->sip_max_forwards ? (int)msg->sip_max_forwards->mf_count : 70;
    if (msg->sip_max_forwards && mf <= 0) {
        refuse(nua, nh, SIP_483_TOO_MANY_HOPS);
        return;
    }
    url_t const *ruri = msg->sip_request->rq_url;
    if (ruri->url_type != url_sip && ruri->url_type != url_sips) {
        refuse(nua, nh, SIP_416_UNSUPPORTED_URI);
        return;
    }
    if (msg->sip_contact == NULL || msg->sip_contact->m_url->url_type == url_any) {
        refuse(nua, nh, 400, "Missing Contact");
        return;
    }
    const char *sdp;
    size_t sdp_len;
    if (sdp_of(msg, &sdp, &sdp_len) < 0) {
        nua_respond(nh, SIP_415_UNSUPPORTED_MEDIA, NUTAG_WITH_THIS(nua),
                    SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
        nua_handle_destroy(nh);
        return;
    }

    /* Who is calling: a trusted peer (sip.trusted, or this server calling
     * itself), an authenticated Client, or an anonymous caller. */
    char ip[64];
    int port;
    const char *transport;
    sb__sip_source_of(nua, ip, sizeof ip, &port, &transport);
    int trusted = sb_config_trusted(sip->cfg, ip);
    int self = from_self(sip, ip, msg->sip_call_id->i_id);
    char *login = NULL;
    if (!trusted && !self &&
        sb__sip_reg_invite_auth(sip, nua, nh, msg, ip, port, transport, &login) != 0) {
        nua_handle_destroy(nh);
        return;
    }

    su_home_t home[1] = {SU_HOME_INIT(home)};
    sb_sip_leg_t *leg = SB_NEW(sb_sip_leg_t);
    leg->sip = sip;
    leg->nh = nh;
    leg->state = L_IN_PROCEEDING;
    leg->call_id = sb_xstrdup(msg->sip_call_id->i_id);
    leg->late_offer = sdp == NULL;
    leg->dlg = sb__sip_dlg_incoming(nua, msg);
    leg_link(sip, leg);
    nua_handle_bind(nh, leg);

    sb_sip_header_t hdr[SB_SIP_MAX_HEADERS];
    char display[256];
    unquote(msg->sip_from->a_display, display, sizeof display);
    sb_sip_invite_info_t info = {
        .call_id = leg->call_id,
        .request_uri = url_as_string(home, ruri),
        .ruri_user = ruri->url_user ? ruri->url_user : "",
        .from_uri = url_as_string(home, msg->sip_from->a_url),
        .from_user = msg->sip_from->a_url->url_user ? msg->sip_from->a_url->url_user : "",
        .from_display = display[0] ? display : NULL,
        .to_uri = url_as_string(home, msg->sip_to->a_url),
        .to_user = msg->sip_to->a_url->url_user ? msg->sip_to->a_url->url_user : "",
        .contact = url_as_string(home, msg->sip_contact->m_url),
        .sdp = sdp,
        .sdp_len = sdp_len,
        .headers = hdr,
        .header_count = collect_headers(msg, 1, hdr),
        .max_forwards = mf,
        .user_agent = msg->sip_user_agent ? msg->sip_user_agent->g_string : NULL,
        .source_ip = ip,
        .source_port = port,
        .transport = transport,
        .trusted = trusted,
        .self = self,
        .auth_login = login,
    };
    if (!info.request_uri || !info.from_uri || !info.to_uri || !info.contact) {
        su_home_deinit(home);
        free(login);
        nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        leg->state = L_ENDING;
        leg->released = 1;      /* terminated (nua_i_state) frees it */
        return;
    }
    leg->dispatching++;
    sip->on_invite(leg, &info, sip->on_invite_arg);
    leg->dispatching--;
    su_home_deinit(home);
    free(login);
    leg_maybe_free(leg);
}

/* A re-INVITE on an established leg: the handler answers the offer (or,
 * for an INVITE without SDP, writes our offer). */
static void on_reinvite(sb_sip_leg_t *leg, sip_t const *msg)
{
    const char *sdp;
    size_t len;
    if (sdp_of(msg, &sdp, &len) < 0) {
        nua_respond(leg->nh, SIP_415_UNSUPPORTED_MEDIA,
                    SIPTAG_ACCEPT_STR("application/sdp"), TAG_END());
        return;
    }
    if (leg->state != L_CONFIRMED || leg->released) {
        nua_respond(leg->nh, SIP_491_REQUEST_PENDING, TAG_END());
        return;
    }
    sb_buf_t answer = SB_BUF_INIT;
    int reply = 488;
    sb_sip_leg_event_t ev = {
        .type = SB_SIP_LEG_OFFER, .sdp = sdp, .sdp_len = len,
        .answer = &answer, .reply = &reply,
    };
    leg->late_offer = sdp == NULL;
    deliver(leg, &ev);
    if (leg->nh == NULL)
        goto out;
    if (reply >= 200 && reply < 300 && answer.len > 0)
        nua_respond(leg->nh, reply, sip_status_phrase(reply),
                    SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                    SIPTAG_PAYLOAD_STR(sb_buf_str(&answer)), TAG_END());
    else
        nua_respond(leg->nh, reply >= 300 ? reply : 488,
                    sip_status_phrase(reply >= 300 ? reply : 488), TAG_END());
out:
    sb_buf_free(&answer);
}

/* ---- outgoing INVITE responses --------------------------------------------- */

static int try_auth(sb_sip_leg_t *leg, int status, sip_t const *msg)
{
    if (leg->auth_user == NULL || leg->auth_tried || msg == NULL)
        return 0;
    msg_auth_t const *au = status == 401 ? msg->sip_www_authenticate
                                         : msg->sip_proxy_authenticate;
    if (au == NULL || au->au_scheme == NULL)
        return 0;
    const char *realm = msg_params_find(au->au_params, "realm=");
    if (realm == NULL)
        return 0;
    leg->auth_tried = 1;
    char *cred = sb_xasprintf("%s:%s:%s:%s", au->au_scheme, realm, leg->auth_user,
                              leg->auth_password ? leg->auth_password : "");
    nua_authenticate(leg->nh, NUTAG_AUTH(cred), TAG_END());
    free(cred);
    return 1;
}

static void on_invite_response(sb_sip_leg_t *leg, int status, const char *phrase,
                               sip_t const *msg)
{
    if (msg && msg->sip_call_id && (leg->call_id == NULL || leg->call_id[0] == '\0')) {
        free(leg->call_id);
        leg->call_id = sb_xstrdup(msg->sip_call_id->i_id);
    }
    if (!leg->outgoing)
        return;                 /* a response to a re-INVITE we never send */
    sb_sip_header_t hdr[SB_SIP_MAX_HEADERS];
    const char *sdp = NULL;
    size_t len = 0;
    if (sdp_of(msg, &sdp, &len) < 0)
        sdp = NULL, len = 0;
    sb_sip_leg_event_t ev = {
        .status = status, .phrase = phrase, .sdp = sdp, .sdp_len = len,
        .headers = hdr, .header_count = collect_headers(msg, 0, hdr),
    };
    if (status < 200) {
        if (status <= 100 || leg->state != L_OUT_CALLING)
            return;
        ev.type = SB_SIP_LEG_PROGRESS;
        deliver(leg, &ev);
        return;
    }
    if (status < 300) {
        if (leg->state == L_OUT_CALLING && !leg->released) {
            leg->state = L_CONFIRMED;
            sb__sip_dlg_answered(leg->dlg, msg);
            ev.type = SB_SIP_LEG_ANSWERED;
            deliver(leg, &ev);
        } else if (leg->state == L_ENDING || leg->released) {
            /* Answered as our CANCEL crossed it: hang up. */
            leg->state = L_ENDING;
            nua_bye(leg->nh, TAG_END());
        }
        return;
    }
    if ((status == 401 || status == 407) && leg->state == L_OUT_CALLING &&
        try_auth(leg, status, msg))
        return;
    if (leg->state == L_OUT_CALLING) {
        leg->state = L_OVER;
        if (!leg->reported_end) {
            leg->reported_end = 1;
            ev.type = SB_SIP_LEG_FAILED;
            deliver(leg, &ev);
        }
    }
}

/* ---- the dispatcher ------------------------------------------------------- */

static void on_ended(sb_sip_leg_t *leg, int cause, sip_t const *msg)
{
    leg_state_t was = leg->state;
    leg->state = L_OVER;
    if (leg->reported_end || was == L_ENDING)
        return;
    leg->reported_end = 1;
    sb_sip_header_t hdr[SB_SIP_MAX_HEADERS];
    sb_sip_leg_event_t ev = {
        .type = was == L_OUT_CALLING ? SB_SIP_LEG_FAILED : SB_SIP_LEG_ENDED,
        .status = cause,
        .headers = hdr,
        .header_count = collect_headers(msg, 0, hdr),
    };
    deliver(leg, &ev);
}

int sb__sip_leg_event(sb_sip_t *sip, nua_event_t event, int status,
                      char const *phrase, nua_t *nua, nua_handle_t *nh,
                      sip_t const *msg, tagi_t tags[])
{
    sb_sip_leg_t *leg = nh ? (sb_sip_leg_t *)nua_handle_magic(nh) : NULL;
    if (leg != NULL && leg->sip != sip)
        leg = NULL;

    switch (event) {
    case nua_i_invite:
        if (leg == NULL)
            on_new_invite(sip, nua, nh, msg);
        else
            on_reinvite(leg, msg);
        return 1;
    case nua_i_cancel:
        if (leg && leg->state == L_IN_PROCEEDING)
            on_ended(leg, 487, msg);
        return 1;
    case nua_i_ack:
        if (leg && (leg->state == L_IN_ANSWERED || leg->state == L_CONFIRMED)) {
            const char *sdp;
            size_t len;
            if (sdp_of(msg, &sdp, &len) <= 0)
                sdp = NULL, len = 0;
            int first = leg->state == L_IN_ANSWERED;
            leg->state = L_CONFIRMED;
            sb__sip_dlg_ack(leg->dlg, msg);
            if (first || sdp) {
                sb_sip_leg_event_t ev = {.type = SB_SIP_LEG_CONFIRMED, .sdp = sdp,
                                         .sdp_len = len};
                deliver(leg, &ev);
            }
        }
        return 1;
    case nua_i_bye:
        if (leg)
            on_ended(leg, 0, msg);
        return 1;
    case nua_r_invite:
        if (leg)
            on_invite_response(leg, status, phrase, msg);
        return 1;
    case nua_r_bye:
    case nua_r_cancel:
    case nua_r_update:
    case nua_i_update:
    case nua_i_prack:
    case nua_i_info:
        return leg != NULL;
    case nua_i_state: {
        if (leg == NULL)
            return 0;
        int cs = -1;
        tl_gets(tags, NUTAG_CALLSTATE_REF(cs), TAG_END());
        if (cs == nua_callstate_terminated) {
            if (leg->state != L_OVER && leg->state != L_ENDING)
                on_ended(leg, status >= 300 ? status : 500, NULL);
            leg->state = L_OVER;
            leg->terminated = 1;
            leg_maybe_free(leg);
        }
        return 1;
    }
    case nua_i_refer:
        if (leg == NULL)
            return 0;           /* out of dialog: refer.c answers */
        sb__sip_leg_on_refer(leg, nua, msg, tags);
        return 1;
    default:
        return leg != NULL;
    }
}

/* ---- the API -------------------------------------------------------------- */

void sb_sip_set_invite_handler(sb_sip_t *sip, sb_sip_invite_cb cb, void *arg)
{
    sip->on_invite = cb;
    sip->on_invite_arg = arg;
}

void sb_sip_leg_set_handler(sb_sip_leg_t *leg, sb_sip_leg_cb cb, void *arg)
{
    leg->cb = cb;
    leg->arg = arg;
}

int sb_sip_leg_respond(sb_sip_leg_t *leg, int status, const char *phrase,
                       const char *sdp, const sb_sip_header_t *headers,
                       size_t header_count)
{
    if (leg->outgoing || leg->state != L_IN_PROCEEDING || leg->nh == NULL)
        return SB_ESTATE;
    if (status < 101 || status > 699 || (status >= 200 && status < 300 && !sdp))
        return SB_EINVAL;
    int bad;
    char *hdrs = sb__sip_join_headers(headers, header_count, &bad);
    if (bad)
        return SB_EINVAL;
    if (phrase == NULL)
        phrase = sip_status_phrase(status);
    if (phrase == NULL)
        phrase = status < 200 ? "Session Progress" : status < 300 ? "OK" : "Failed";
    nua_respond(leg->nh, status, phrase,
                TAG_IF(sdp, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                TAG_IF(sdp, SIPTAG_PAYLOAD_STR(sdp)),
                TAG_IF(hdrs, SIPTAG_HEADER_STR(hdrs)),
                TAG_IF(status >= 300, SIPTAG_ALLOW_STR(SB_SIP_ALLOW)),
                TAG_END());
    free(hdrs);
    if (status >= 300)
        leg->state = L_ENDING;
    else if (status >= 200)
        leg->state = L_IN_ANSWERED;
    return 0;
}

int sb_sip_leg_invite(sb_sip_t *sip, const sb_sip_invite_req_t *req,
                      sb_sip_leg_cb cb, void *arg, sb_sip_leg_t **out)
{
    if (sip->shutting_down || sip->nua == NULL)
        return SB_ESTATE;
    if (req->request_uri == NULL || req->sdp == NULL || req->from_user == NULL)
        return SB_EINVAL;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *ru = url_make(home, req->request_uri);
    url_t *du = req->dest ? url_make(home, req->dest) : NULL;
    url_t *tu = req->to_uri ? url_make(home, req->to_uri) : NULL;
    int ok = ru && (ru->url_type == url_sip || ru->url_type == url_sips) &&
             ru->url_host && (!req->dest || (du && du->url_host)) &&
             (!req->to_uri || (tu && tu->url_host));
    su_home_deinit(home);
    if (!ok)
        return SB_EINVAL;
    int bad;
    char *hdrs = sb__sip_join_headers(req->headers, req->header_count, &bad);
    if (bad)
        return SB_EINVAL;

    sb_buf_t from = SB_BUF_INIT;
    if (req->from_display && *req->from_display) {
        quote_display(&from, req->from_display);
        sb_buf_putc(&from, ' ');
    }
    sb_buf_puts(&from, "<sip:");
    sb__sip_escape_user(&from, req->from_user);
    sb_buf_printf(&from, "@%s>", sb_sip_domain(sip));
    char *to = sb_xasprintf("<%s>", req->to_uri ? req->to_uri : req->request_uri);
    char mf[16];
    snprintf(mf, sizeof mf, "%d", req->max_forwards > 0 ? req->max_forwards : 70);

    sb_sip_leg_t *leg = SB_NEW(sb_sip_leg_t);
    leg->sip = sip;
    leg->outgoing = 1;
    leg->state = L_OUT_CALLING;
    leg->cb = cb;
    leg->arg = arg;
    leg->auth_user = sb_xstrdup(req->auth_user);
    leg->auth_password = sb_xstrdup(req->auth_password);
    leg->dlg = sb__sip_dlg_outgoing(req->dest);
    /* Our own Call-ID, known from the start: an INVITE we send to
     * ourselves (a number of ours dialled with no proxy) is matched to
     * the leg that sent it when it arrives (call/inbound.c). */
    char *token = sb_token_new();
    leg->call_id = sb_xasprintf("%s@%s", token, sb_sip_domain(sip));
    free(token);
    leg->nh = nua_handle(sip->nua, leg,
                         TAG_IF(req->dest, NUTAG_PROXY(req->dest)),
                         SIPTAG_CALL_ID_STR(leg->call_id),
                         SIPTAG_TO_STR(to), SIPTAG_FROM_STR(sb_buf_str(&from)),
                         TAG_END());
    free(to);
    sb_buf_free(&from);
    if (leg->nh == NULL) {
        free(hdrs);
        free(leg->auth_user);
        free(leg->auth_password);
        sb__sip_dlg_free(leg->dlg);
        free(leg);
        return SB_ENOMEM;
    }
    leg_link(sip, leg);
    /* The next hop again with the request: this sofia-sip takes
     * NUTAG_PROXY from the request's tags, not from nua_handle()'s, and
     * would send to the Request-URI (a Client's Contact, maybe behind a
     * NAT) instead of where the Client registered from. */
    nua_invite(leg->nh, NUTAG_URL(req->request_uri),
               TAG_IF(req->dest, NUTAG_PROXY(req->dest)),
               SIPTAG_CONTENT_TYPE_STR("application/sdp"),
               SIPTAG_PAYLOAD_STR(req->sdp),
               SIPTAG_MAX_FORWARDS_STR(mf),
               TAG_IF(hdrs, SIPTAG_HEADER_STR(hdrs)),
               TAG_END());
    free(hdrs);
    *out = leg;
    return 0;
}

int sb_sip_leg_end(sb_sip_leg_t *leg, int status)
{
    if (leg->nh == NULL)
        return 0;
    switch (leg->state) {
    case L_IN_PROCEEDING:
        if (status < 300 || status > 699)
            status = 480;
        nua_respond(leg->nh, status, sip_status_phrase(status), TAG_END());
        leg->state = L_ENDING;
        break;
    case L_OUT_CALLING:
        nua_cancel(leg->nh, TAG_END());
        leg->state = L_ENDING;
        break;
    case L_IN_ANSWERED:
    case L_CONFIRMED:
        nua_bye(leg->nh, TAG_END());
        leg->state = L_ENDING;
        break;
    case L_ENDING:
    case L_OVER:
        break;
    }
    return 0;
}

void sb_sip_leg_release(sb_sip_leg_t *leg)
{
    if (leg == NULL || leg->released)
        return;
    if (leg->refer_pending) {
        nua_respond(leg->nh, 480, "Temporarily Unavailable",
                    NUTAG_WITH_SAVED(leg->refer_saved), TAG_END());
        nua_destroy_event(leg->refer_saved);
        leg->refer_pending = 0;
    }
    sb_sip_leg_end(leg, 0);
    leg->released = 1;
    leg->cb = NULL;
    /* A leg whose dialog is over from our side but never reached the
     * terminated state (a failed outgoing INVITE, for one) is done. */
    if (leg->state == L_OVER && !leg->terminated && leg->reported_end &&
        leg->outgoing && !leg->dispatching) {
        leg->terminated = 1;
    }
    leg_maybe_free(leg);
}

const char *sb_sip_leg_call_id(const sb_sip_leg_t *leg)
{
    return leg->call_id ? leg->call_id : "";
}

int sb_sip_leg_outgoing(const sb_sip_leg_t *leg) { return leg->outgoing; }

int sb_sip_leg_dialog(const sb_sip_leg_t *leg, sb_sip_dialog_t *out)
{
    return sb__sip_dlg_get(leg->dlg, leg->call_id, out);
}

int sb_sip_leg_count(const sb_sip_t *sip) { return sip->nlegs; }

const char *sb_sip_domain(const sb_sip_t *sip)
{
    if (sip->cfg->sip_domain && *sip->cfg->sip_domain)
        return sip->cfg->sip_domain;
    return sip->cfg->sip_listen[0].host;
}

int sb_sip_uri_is_local(sb_sip_t *sip, const char *uri)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *u = uri ? url_make(home, uri) : NULL;
    int ok = u && (u->url_type == url_sip || u->url_type == url_sips) && u->url_host &&
             u->url_headers == NULL &&
             (u->url_params == NULL || !url_has_param(u, "maddr"));
    if (ok) {
        /* The host: our domain or a listen address; the port (5060, or
         * 5061 for sips, when absent): one we listen on. */
        int host = strcasecmp(u->url_host, sb_sip_domain(sip)) == 0;
        int want = u->url_port ? atoi(u->url_port) : u->url_type == url_sips ? 5061 : 5060;
        int port = 0;
        for (int i = 0; i < sip->cfg->sip_listen_count; i++) {
            const sb_listen_t *l = &sip->cfg->sip_listen[i];
            host = host || strcmp(u->url_host, l->host) == 0;
            port = port || want == l->port;
        }
        ok = host && port;
    }
    su_home_deinit(home);
    return ok;
}

int sb_sip_uri_trusted(sb_sip_t *sip, const char *uri)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *u = uri ? url_make(home, uri) : NULL;
    char host[64] = "";
    if (u && u->url_host) {
        /* An IPv6 reference keeps its brackets in url_host. */
        const char *h = u->url_host;
        size_t n = strlen(h);
        if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
            h++, n -= 2;
        if (n < sizeof host)
            memcpy(host, h, n), host[n] = '\0';
    }
    int ok = host[0] && sb_config_trusted(sip->cfg, host);
    su_home_deinit(home);
    return ok;
}

int sb_sip_uri_with_user(const char *uri, const char *user, char **out)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *u = uri ? url_make(home, uri) : NULL;
    if (u == NULL || (u->url_type != url_sip && u->url_type != url_sips) ||
        u->url_host == NULL) {
        su_home_deinit(home);
        return SB_EINVAL;
    }
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_puts(&b, u->url_type == url_sips ? "sips:" : "sip:");
    if (user && *user) {
        sb__sip_escape_user(&b, user);
        sb_buf_putc(&b, '@');
    }
    sb_buf_puts(&b, u->url_host);
    if (u->url_port)
        sb_buf_printf(&b, ":%s", u->url_port);
    if (u->url_params)
        sb_buf_printf(&b, ";%s", u->url_params);
    su_home_deinit(home);
    *out = sb_buf_steal(&b);
    return 0;
}

/* ---- shutdown ------------------------------------------------------------- */

void sb__sip_legs_shutdown(sb_sip_t *sip)
{
    for (sb_sip_leg_t *l = sip->legs; l; l = l->next) {
        if (!l->released) {
            l->cb = NULL;
            sb_sip_leg_end(l, 503);
        }
    }
}

void sb__sip_legs_free(sb_sip_t *sip)
{
    while (sip->legs) {
        sb_sip_leg_t *l = sip->legs;
        l->nh = NULL;           /* nua_destroy took the handles */
        if (l->refer_pending) {
            l->refer_pending = 0;
            nua_destroy_event(l->refer_saved);
        }
        leg_free(l);
    }
}

/* ---- for refer.c ------------------------------------------------------------ */

nua_handle_t *sb__sip_leg_nh(sb_sip_leg_t *leg) { return leg->nh; }

int sb__sip_leg_refer_save(sb_sip_leg_t *leg, nua_t *nua)
{
    if (leg->refer_pending)
        return SB_EBUSY;
    if (nua_save_event(nua, leg->refer_saved) == 0)
        return SB_ENOMEM;
    leg->refer_pending = 1;
    return 0;
}

int sb__sip_leg_refer_take(sb_sip_leg_t *leg, nua_saved_event_t *out)
{
    if (!leg->refer_pending)
        return SB_ESTATE;
    out[0] = leg->refer_saved[0];
    leg->refer_pending = 0;
    return 0;
}

void sb__sip_leg_deliver(sb_sip_leg_t *leg, sb_sip_leg_event_t *ev)
{
    deliver(leg, ev);
}

int sb__sip_leg_confirmed(const sb_sip_leg_t *leg)
{
    return leg->state == L_CONFIRMED && !leg->released;
}

int sb__sip_leg_refer_pending(const sb_sip_leg_t *leg) { return leg->refer_pending; }

int sb__sip_leg_has_handler(const sb_sip_leg_t *leg)
{
    return !leg->released && leg->cb != NULL;
}

void sb__sip_leg_refer_set_event(sb_sip_leg_t *leg, const char *event)
{
    free(leg->refer_event);
    leg->refer_event = sb_xstrdup(event);
}

const char *sb__sip_leg_refer_event(const sb_sip_leg_t *leg) { return leg->refer_event; }

void sb__sip_leg_refer_set_subscribed(sb_sip_leg_t *leg, int on)
{
    leg->refer_subscribed = on;
}

int sb__sip_leg_refer_subscribed(const sb_sip_leg_t *leg)
{
    return leg->refer_subscribed && leg->nh != NULL;
}
