/*
 * inbound.c: a new INVITE becomes an inbound call: routed by the number
 * matcher on the To user (404 when no number matches, 403 when its
 * account is not active), its SDP answered by a fresh media endpoint (488
 * without a common codec, 400 for SDP we cannot read), the call record
 * written with status ringing, 180 Ringing sent, and the number's
 * application started through the runner with CallStatus=ringing.
 *
 * With no number of that name, a Client calling another Client of its
 * account by login is connected directly (p2p.c).
 *
 * The caller is one of three: a trusted peer (sip.trusted: its From is
 * believed), a Client that answered the sip module's digest challenge,
 * or anonymous. Only the first two make a trusted call, one whose
 * application may dial out of this server (dial.c).
 *
 * Routing itself (which number, which application URL) is route.c.
 */
#include "call_int.h"
#include "route.h"

#include <string.h>
#include <strings.h>

static void refuse(sb_sip_leg_t *leg, int status, const char *phrase)
{
    sb_sip_leg_respond(leg, status, phrase, NULL, NULL, 0);
    sb_sip_leg_release(leg);
}

/* The user part of a Diversion value ("<sip:11223344@xyz.com>;..."). */
static char *diversion_user(const sb_sip_invite_info_t *in)
{
    for (size_t i = 0; i < in->header_count; i++) {
        if (strcasecmp(in->headers[i].name, "Diversion") != 0)
            continue;
        const char *v = in->headers[i].value;
        const char *p = strstr(v, "sip:");
        size_t skip = 4;
        if (p == NULL) {
            p = strstr(v, "sips:");
            skip = 5;
        }
        if (p == NULL) {
            p = strstr(v, "tel:");
            skip = 4;
        }
        if (p == NULL)
            return NULL;
        p += skip;
        size_t n = strcspn(p, "@;>");
        return n ? sb_xstrndup(p, n) : NULL;
    }
    return NULL;
}

void sb__call_on_invite(sb_sip_leg_t *leg, const sb_sip_invite_info_t *in,
                        void *arg)
{
    sb_call_mgr_t *mgr = arg;
    if (mgr->closing || mgr->runner == NULL) {
        refuse(leg, 503, "Service Unavailable");
        return;
    }
    if (!sb__call_admit(mgr, leg, in))
        return;
    const char *to_user = in->to_user[0] ? in->to_user : in->ruri_user;

    /* Who calls: the Client that proved it (digest), or for a trusted
     * peer its From; anyone else is anonymous, whatever its From says. */
    const char *caller_login = in->auth_login ? in->auth_login
                               : in->trusted ? in->from_user : NULL;
    int trusted = in->auth_login != NULL || in->trusted;
    if (in->self) {
        /* Our own dial of a number we serve: the call that dialled it
         * decides (even if our address is also a trusted peer's), so an
         * anonymous call gains nothing by the detour. */
        const sb_call_t *b = sb__call_by_sip_call_id(mgr, in->call_id);
        const sb_call_t *p = b && b->branch_of ? sb__dial_parent(b->branch_of) : NULL;
        trusted = b != NULL && b->trusted;
        caller_login = p ? p->client_login : NULL;
    }

    /* Routing. */
    sb__route_t route;
    int rc = sb__route_lookup(mgr, to_user, &route);
    int p2p = 0;
    if (rc == SB_ENOENT && caller_login &&
        sb__call_route_p2p(mgr, caller_login, to_user, &route) == 0) {
        p2p = 1;
        rc = 0;
    }
    if (rc == SB_ENOENT) {
        sb_info("call: no number matches '%s' (from %s, Call-ID %s): 404",
                to_user, in->from_user, in->call_id);
        refuse(leg, 404, "Not Found");
        return;
    }
    if (rc != 0) {
        refuse(leg, 500, "Server Internal Error");
        return;
    }
    if (!route.account_active) {
        sb_info("call: number %s belongs to account %s, which is not active: 403",
                to_user, route.account_sid);
        sb__route_clear(&route);
        refuse(leg, 403, "Forbidden");
        return;
    }
    if (!p2p && (route.url == NULL || route.url[0] == '\0')) {
        sb_info("call: number %s has no voice application: 404", to_user);
        sb__route_clear(&route);
        refuse(leg, 404, "Not Found");
        return;
    }

    /* Media: our answer to the offer, or our offer for a late one. */
    sb_media_endpoint_t *ep = NULL;
    sb_media_desc_t remote, local;
    sb_buf_t sdp = SB_BUF_INIT;
    int status = 0;
    const char *phrase = NULL;
    if (in->sdp && sb_media_sdp_parse(in->sdp, in->sdp_len, &remote) != 0) {
        status = 400, phrase = "Malformed SDP";
    } else if ((rc = sb_media_endpoint_create(mgr->media, &ep)) != 0) {
        status = 503, phrase = "Media Unavailable";
    } else {
        rc = in->sdp ? sb_media_endpoint_answer(ep, &remote, &local)
                     : sb_media_endpoint_offer(ep, &local);
        if (rc == SB_ECODEC)
            status = 488, phrase = "Not Acceptable Here";
        else if (rc != 0)
            status = 488, phrase = "Unusable SDP";
        else if (sb_media_sdp_write(&local, &sdp) != 0)
            status = 500, phrase = "Server Internal Error";
    }
    if (status) {
        sb_info("call: INVITE %s from %s to %s refused: %d %s", in->call_id,
                in->from_user, to_user, status, phrase);
        if (ep)
            sb_media_endpoint_destroy(ep, NULL, NULL);
        sb_buf_free(&sdp);
        sb__route_clear(&route);
        refuse(leg, status, phrase);
        return;
    }

    /* The call. */
    sb_call_t *call = sb__call_new(mgr, SB_CALL_INBOUND);
    snprintf(call->account_sid, sizeof call->account_sid, "%s", route.account_sid);
    snprintf(call->phone_number_sid, sizeof call->phone_number_sid, "%s",
             route.number_sid);
    call->from = sb_xstrdup(in->from_user);
    call->to = sb_xstrdup(to_user);
    if (caller_login && sb__call_client_of(mgr, call->account_sid, caller_login))
        call->client_login = sb_xstrdup(caller_login);
    call->trusted = trusted;
    call->caller_name = sb_xstrdup(in->from_display);
    call->forwarded_from = diversion_user(in);
    call->sip_call_id = sb_xstrdup(in->call_id);
    call->max_forwards = in->max_forwards;
    call->local_sdp = sb_buf_steal(&sdp);
    if (route.status_callback) {
        /* The number's StatusCallback: requested when the call ends. */
        call->sc_url = sb_xstrdup(route.status_callback);
        call->sc_method = sb_xstrdup(route.status_callback_method);
        call->sc_events = SB_DIAL_EV_COMPLETED;
    }
    if (in->header_count) {
        call->headers = sb_xcalloc(in->header_count, sizeof *call->headers);
        for (size_t i = 0; i < in->header_count; i++) {
            call->headers[i].name = sb_xstrdup(in->headers[i].name);
            call->headers[i].value = sb_xstrdup(in->headers[i].value);
        }
        call->header_count = in->header_count;
    }
    call->leg = leg;
    call->ep = ep;
    sb_media_endpoint_set_data(ep, call);
    sb_sip_leg_set_handler(leg, sb__call_on_leg, call);
    sb_log_call(SB_LOG_INFO, call->sid, "call: %s -> %s (number %s, Call-ID %s, %s)",
                in->from_user, to_user, p2p ? "none: Client to Client" : route.number_sid,
                in->call_id, in->self ? (trusted ? "this server, trusted"
                                                 : "this server, untrusted")
                             : in->auth_login ? "authenticated Client"
                             : in->trusted ? "trusted peer" : "anonymous");
    sb_call_ref(call);
    sb__call_set_status(call, SB_CALL_RINGING);
    sb_call_ring(call);

    sb_call_app_t app = {
        .url = route.url,
        .method = route.method,
        .fallback_url = route.fallback_url,
        .fallback_method = route.fallback_method,
    };
    rc = p2p ? sb__call_p2p_start(call) : mgr->runner->start(mgr->runner_arg, call, &app);
    sb__route_clear(&route);
    if (rc != 0) {
        sb_log_call(SB_LOG_ERROR, call->sid, "call: cannot start the application: %s",
                    sb_strerror(rc));
        if (!call->over) {
            sb_sip_leg_end(call->leg, 500);
            sb__call_end(call, SB_CALL_FAILED);
        }
    }
    sb_call_unref(call);
}
