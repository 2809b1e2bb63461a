/*
 * message.c: SIP MESSAGE (RFC 3428), both ways, for the messaging module.
 *
 * Out: sb_sip_message_send puts one MESSAGE on a handle of its own and
 * reports the final answer (or a transport error as 408/503) through one
 * callback. In: a MESSAGE outside any dialog is described to the handler
 * set with sb_sip_set_message_handler, which returns the status to answer
 * at once (202 Accepted when it took the message, 404, 403, 413, 415 ...).
 *
 * The handles of outgoing MESSAGEs carry a msg_req_t as their magic. Its
 * first member is NULL where a leg keeps its sb_sip_t, so leg.c, which
 * looks at every handle's magic, never takes one for a leg. Left out: the
 * messaging decisions (who the recipient is, what to record): core/msg.
 */
#include "sip_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/url.h>

/* Largest body accepted or sent (a SIP MESSAGE should stay well inside
 * a UDP datagram; RFC 3428 says 1300 bytes over UDP). */
#define SB_SIP_MESSAGE_MAX_BODY 8192

/* One MESSAGE we sent. Owner: the sip module, until its answer (or the
 * shutdown) has been reported and the handle destroyed. */
struct sb_sip_message_s {
    void *not_a_leg;            /* always NULL: see the header comment */
    sb_sip_t *sip;
    nua_handle_t *nh;
    sb_sip_message_done_cb cb; /* NULL once canceled */
    void *arg;
    struct sb_sip_message_s *next, **pprev;
};

static void unlink_msg(sb_sip_message_t *m)
{
    if (m->pprev) {
        *m->pprev = m->next;
        if (m->next)
            m->next->pprev = m->pprev;
        m->pprev = NULL;
        m->next = NULL;
    }
}

static void free_msg(sb_sip_message_t *m)
{
    unlink_msg(m);
    if (m->nh) {
        nua_handle_bind(m->nh, NULL);
        nua_handle_destroy(m->nh);
    }
    free(m);
}

int sb_sip_message_send(sb_sip_t *sip, const sb_sip_message_req_t *req,
                        sb_sip_message_done_cb cb, void *arg,
                        sb_sip_message_t **out)
{
    if (sip->shutting_down || sip->nua == NULL)
        return SB_ESTATE;
    if (req->request_uri == NULL || req->from_user == NULL || req->body == NULL ||
        strlen(req->body) > SB_SIP_MESSAGE_MAX_BODY)
        return SB_EINVAL;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *ru = url_make(home, req->request_uri);
    int ok = ru && (ru->url_type == url_sip || ru->url_type == url_sips) &&
             ru->url_host;
    su_home_deinit(home);
    if (!ok)
        return SB_EINVAL;
    int bad;
    char *hdrs = sb__sip_join_headers(req->headers, req->header_count, &bad);
    if (bad)
        return SB_EINVAL;

    sb_buf_t from = SB_BUF_INIT;
    sb_buf_puts(&from, "<sip:");
    sb__sip_escape_user(&from, req->from_user);
    sb_buf_printf(&from, "@%s>", sb_sip_domain(sip));
    char *to = sb_xasprintf("<%s>", req->to_uri ? req->to_uri : req->request_uri);

    sb_sip_message_t *m = SB_NEW(sb_sip_message_t);
    m->sip = sip;
    m->cb = cb;
    m->arg = arg;
    m->nh = nua_handle(sip->nua, (void *)m,
                       TAG_IF(req->dest, NUTAG_PROXY(req->dest)),
                       SIPTAG_TO_STR(to), SIPTAG_FROM_STR(sb_buf_str(&from)),
                       TAG_END());
    free(to);
    sb_buf_free(&from);
    if (m->nh == NULL) {
        free(hdrs);
        free(m);
        return SB_ENOMEM;
    }
    m->next = sip->messages;
    if (m->next)
        m->next->pprev = &m->next;
    m->pprev = &sip->messages;
    sip->messages = m;
    nua_message(m->nh, NUTAG_URL(req->request_uri),
                TAG_IF(req->dest, NUTAG_PROXY(req->dest)),   /* see leg.c */
                SIPTAG_CONTENT_TYPE_STR(req->content_type ? req->content_type
                                                          : "text/plain;charset=UTF-8"),
                SIPTAG_PAYLOAD_STR(req->body),
                TAG_IF(hdrs, SIPTAG_HEADER_STR(hdrs)),
                TAG_END());
    free(hdrs);
    if (out)
        *out = m;
    return 0;
}

void sb_sip_message_cancel(sb_sip_message_t *m)
{
    if (m)
        m->cb = NULL;
}

int sb__sip_message_response(sb_sip_t *sip, nua_handle_t *nh, int status,
                             const char *phrase)
{
    sb_sip_message_t *m = nh ? (sb_sip_message_t *)nua_handle_magic(nh) : NULL;
    if (m == NULL || m->not_a_leg != NULL || m->sip != sip)
        return 0;
    if (status < 200)
        return 1;
    sb_sip_message_done_cb cb = m->cb;
    void *arg = m->arg;
    free_msg(m);
    if (cb)
        cb(status, phrase, arg);
    return 1;
}

void sb__sip_messages_shutdown(sb_sip_t *sip)
{
    while (sip->messages) {
        sb_sip_message_t *m = sip->messages;
        sb_sip_message_done_cb cb = m->cb;
        void *arg = m->arg;
        free_msg(m);
        if (cb)
            cb(503, "Shutting Down", arg);
    }
}

void sb_sip_set_message_handler(sb_sip_t *sip, sb_sip_message_cb cb, void *arg)
{
    sip->on_message = cb;
    sip->on_message_arg = arg;
}

static void answer(nua_t *nua, nua_handle_t *nh, int status, const char *phrase)
{
    nua_respond(nh, status, phrase ? phrase : sip_status_phrase(status),
                NUTAG_WITH_THIS(nua), TAG_END());
    nua_handle_destroy(nh);
}

void sb__sip_on_message(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                        sip_t const *msg)
{
    if (nh && nua_handle_magic(nh) != NULL) {
        /* Inside a call's dialog: not a message for us; the handle is the
         * leg's, so it stays. */
        nua_respond(nh, SIP_405_METHOD_NOT_ALLOWED, NUTAG_WITH_THIS(nua),
                    SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, UPDATE, REFER"),
                    TAG_END());
        return;
    }
    if (msg == NULL || msg->sip_request == NULL || msg->sip_from == NULL ||
        msg->sip_to == NULL) {
        answer(nua, nh, 400, "Bad Request");
        return;
    }
    if (msg->sip_to->a_tag) {
        /* RFC 3428: MESSAGE is sent outside dialogs; we hold none. */
        answer(nua, nh, 481, NULL);
        return;
    }
    if (sip->shutting_down || sip->on_message == NULL) {
        answer(nua, nh, 503, "Service Unavailable");
        return;
    }
    url_t const *ruri = msg->sip_request->rq_url;
    if (ruri->url_type != url_sip && ruri->url_type != url_sips) {
        answer(nua, nh, SIP_416_UNSUPPORTED_URI);
        return;
    }
    const char *ctype = msg->sip_content_type && msg->sip_content_type->c_type
                            ? msg->sip_content_type->c_type
                            : "text/plain";
    if (strncasecmp(ctype, "text/plain", 10) != 0) {
        nua_respond(nh, SIP_415_UNSUPPORTED_MEDIA, NUTAG_WITH_THIS(nua),
                    SIPTAG_ACCEPT_STR("text/plain"), TAG_END());
        nua_handle_destroy(nh);
        return;
    }
    size_t len = msg->sip_payload ? msg->sip_payload->pl_len : 0;
    if (len > SB_SIP_MESSAGE_MAX_BODY) {
        answer(nua, nh, 413, NULL);
        return;
    }
    char *body = sb_xmalloc(len + 1);
    if (len)
        memcpy(body, msg->sip_payload->pl_data, len);
    body[len] = '\0';

    sb_sip_header_t hdr[SB_SIP_MAX_HEADERS];
    size_t nhdr = 0;
    for (sip_unknown_t const *u = msg->sip_unknown; u && nhdr < SB_SIP_MAX_HEADERS;
         u = u->un_next) {
        if (u->un_name && u->un_value && strncasecmp(u->un_name, "X-", 2) == 0) {
            hdr[nhdr].name = u->un_name;
            hdr[nhdr].value = u->un_value;
            nhdr++;
        }
    }
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char ip[64];
    sb_sip_message_info_t info = {
        .request_uri = url_as_string(home, ruri),
        .ruri_user = ruri->url_user ? ruri->url_user : "",
        .from_uri = url_as_string(home, msg->sip_from->a_url),
        .from_user = msg->sip_from->a_url->url_user ? msg->sip_from->a_url->url_user : "",
        .to_user = msg->sip_to->a_url->url_user ? msg->sip_to->a_url->url_user : "",
        .body = body,
        .body_len = len,
        .headers = hdr,
        .header_count = nhdr,
    };
    sb__sip_source_of(nua, ip, sizeof ip, &info.source_port, &info.transport);
    info.source_ip = ip;
    int status = sip->on_message(&info, sip->on_message_arg);
    su_home_deinit(home);
    free(body);
    if (status < 200 || status > 699)
        status = 500;
    answer(nua, nh, status, NULL);
}
