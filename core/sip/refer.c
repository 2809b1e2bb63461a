/*
 * refer.c: REFER (RFC 3515) inside a call leg's dialog. nua hands us the
 * REFER (NUTAG_APPL_METHOD("REFER")); we save it, describe it to the
 * leg's user as an SB_SIP_LEG_REFER event, and answer it when the user
 * decides (sb_sip_leg_refer_respond), possibly much later. An accepted
 * REFER opens nua's implicit subscription; progress goes out as NOTIFYs
 * with message/sipfrag bodies (sb_sip_leg_refer_notify), the last one
 * terminating it. A REFER that carries Refer-Sub: false (RFC 4488) is
 * answered with Refer-Sub: false and gets no NOTIFY.
 *
 * Every answer carries Event: refer; errors carry a Reason header
 * (RFC 3326 form, the text Restcomm puts in its free-text one).
 *
 * A REFER outside any dialog gets 404 here (Restcomm's answer). A REFER
 * with a To tag no dialog has never reaches us: the stack answers 481.
 */
#include "sip_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag_io.h>

/* Refer-Sub: false in msg (parsed, or as an unknown header). */
static int refer_sub_false(sip_t const *msg)
{
    sip_refer_sub_t const *rs = sip_refer_sub(msg);
    if (rs && rs->rs_value)
        return strcasecmp(rs->rs_value, "false") == 0;
    for (sip_unknown_t const *u = msg->sip_unknown; u; u = u->un_next)
        if (u->un_name && strcasecmp(u->un_name, "Refer-Sub") == 0 && u->un_value)
            return strncasecmp(u->un_value, "false", 5) == 0;
    return 0;
}

static char *reason_value(int status, const char *text)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_printf(&b, "SIP;cause=%d;text=\"", status);
    for (const char *p = text; *p; p++)
        if (*p != '"' && *p != '\\' && *p != '\r' && *p != '\n')
            sb_buf_putc(&b, *p);
    sb_buf_putc(&b, '"');
    return sb_buf_steal(&b);
}

void sb__sip_leg_on_refer(sb_sip_leg_t *leg, nua_t *nua, sip_t const *msg,
                          tagi_t tags[])
{
    nua_handle_t *nh = sb__sip_leg_nh(leg);
    if (msg == NULL || msg->sip_refer_to == NULL) {
        char *r = reason_value(400, "Missing Refer-To");
        nua_respond(nh, 400, "Missing Refer-To", NUTAG_WITH_THIS(nua),
                    SIPTAG_EVENT_STR("refer"), SIPTAG_REASON_STR(r), TAG_END());
        free(r);
        return;
    }
    if (sb__sip_leg_refer_save(leg, nua) != 0) {
        nua_respond(nh, SIP_491_REQUEST_PENDING, NUTAG_WITH_THIS(nua),
                    SIPTAG_EVENT_STR("refer"), TAG_END());
        return;
    }
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_event_t const *event = NULL;
    tl_gets(tags, NUTAG_REFER_EVENT_REF(event), TAG_END());
    char *ev = event ? sip_header_as_string(home, (sip_header_t const *)event) : NULL;
    sb__sip_leg_refer_set_event(leg, ev ? ev : "refer");

    url_t const *rt = msg->sip_refer_to->r_url;
    url_t const *cu = msg->sip_contact ? msg->sip_contact->m_url : NULL;
    sb_sip_refer_info_t info = {
        .refer_to = url_as_string(home, rt),
        .refer_to_user = rt->url_user ? rt->url_user : "",
        .refer_to_sip = rt->url_type == url_sip || rt->url_type == url_sips,
        .referred_by = msg->sip_referred_by
                           ? url_as_string(home, msg->sip_referred_by->b_url) : NULL,
        .contact_user = cu && cu->url_user ? cu->url_user : "",
        .to_user = msg->sip_to && msg->sip_to->a_url->url_user
                       ? msg->sip_to->a_url->url_user : "",
        .from_user = msg->sip_from && msg->sip_from->a_url->url_user
                         ? msg->sip_from->a_url->url_user : "",
        .refer_sub = !refer_sub_false(msg),
        .event_id = msg->sip_cseq ? (int)msg->sip_cseq->cs_seq : 0,
    };
    if (info.refer_to == NULL)
        info.refer_to = "";
    sb_sip_header_t hdr[SB_SIP_MAX_HEADERS];
    size_t nh_ = 0;
    for (sip_unknown_t const *u = msg->sip_unknown; u && nh_ < SB_SIP_MAX_HEADERS;
         u = u->un_next) {
        if (u->un_name && u->un_value && strncasecmp(u->un_name, "X-", 2) == 0) {
            hdr[nh_].name = u->un_name;
            hdr[nh_].value = u->un_value;
            nh_++;
        }
    }
    sb_sip_leg_event_t e = {
        .type = SB_SIP_LEG_REFER,
        .headers = hdr,
        .header_count = nh_,
        .refer = &info,
    };
    sb__sip_leg_deliver(leg, &e);
    su_home_deinit(home);
    /* Nobody took it (a leg being released): refuse it now. */
    if (sb__sip_leg_refer_pending(leg) && !sb__sip_leg_has_handler(leg))
        sb_sip_leg_refer_respond(leg, 480, "The call is ending", 0);
}

void sb__sip_refer_out_of_dialog(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                                 sip_t const *msg)
{
    (void)sip;
    (void)msg;
    char *r = reason_value(404, "SIP REFER should be sent in dialog");
    nua_respond(nh, 404, "Not Found", NUTAG_WITH_THIS(nua),
                SIPTAG_EVENT_STR("refer"), SIPTAG_REASON_STR(r), TAG_END());
    free(r);
    nua_handle_destroy(nh);
}

int sb_sip_leg_refer_respond(sb_sip_leg_t *leg, int status, const char *reason,
                             int subscription)
{
    nua_saved_event_t saved[1];
    if (status < 200 || status > 699)
        return SB_EINVAL;
    if (sb__sip_leg_refer_take(leg, saved) != 0)
        return SB_ESTATE;
    nua_handle_t *nh = sb__sip_leg_nh(leg);
    char *r = status >= 300 && reason ? reason_value(status, reason) : NULL;
    const char *phrase = status == 202 ? "Accepted" : sip_status_phrase(status);
    if (nh) {
        /* Outside the REFER's dispatch: counted here as REFER's. */
        sb_metrics_sip_response(1, "REFER", status);
        (nua_respond)(nh, status, phrase ? phrase : "Failed", NUTAG_WITH_SAVED(saved),
                    SIPTAG_EVENT_STR("refer"),
                    TAG_IF(status < 300 && !subscription,
                           SIPTAG_HEADER_STR("Refer-Sub: false")),
                    TAG_IF(r, SIPTAG_REASON_STR(r)), TAG_END());
    }
    nua_destroy_event(saved);
    free(r);
    sb__sip_leg_refer_set_subscribed(leg, status < 300 && subscription);
    return 0;
}

int sb_sip_leg_refer_notify(sb_sip_leg_t *leg, int status, const char *phrase,
                            int final)
{
    nua_handle_t *nh = sb__sip_leg_nh(leg);
    const char *event = sb__sip_leg_refer_event(leg);
    if (nh == NULL || !sb__sip_leg_refer_subscribed(leg) || event == NULL)
        return SB_ESTATE;
    if (status < 100 || status > 699)
        return SB_EINVAL;
    if (phrase == NULL || *phrase == '\0')
        phrase = sip_status_phrase(status);
    char frag[160];
    snprintf(frag, sizeof frag, "SIP/2.0 %d %s\r\n", status, phrase ? phrase : "");
    nua_notify(nh, SIPTAG_EVENT_STR(event),
               SIPTAG_CONTENT_TYPE_STR("message/sipfrag;version=2.0"),
               SIPTAG_PAYLOAD_STR(frag),
               NUTAG_SUBSTATE(final ? nua_substate_terminated : nua_substate_active),
               TAG_IF(final, SIPTAG_SUBSCRIPTION_STATE_STR("terminated;reason=noresource")),
               TAG_END());
    if (final)
        sb__sip_leg_refer_set_subscribed(leg, 0);
    return 0;
}
