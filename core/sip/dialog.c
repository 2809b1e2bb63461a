/*
 * dialog.c: INVITE dialogs that outlive the process (issue 23). A leg
 * remembers what a BYE in its dialog needs (Call-ID, both tags and
 * addresses, the remote target, the route set, the next hop) once the
 * dialog is established; the call module stores it through
 * sb_sip_leg_dialog. After a crash the next run reads the stored dialogs
 * back and ends each with sb_sip_dialog_bye, so far ends and carriers
 * stop billing for calls nobody carries any more.
 *
 * The BYE goes out on a fresh nua handle with nua_method: nua_bye refuses
 * a handle without a session ("Invalid handle for BYE"), while an
 * extension request takes the Call-ID, From, To (with their tags), CSeq
 * and Route it is given and leaves them alone. Its CSeq is above anything
 * the dialog can have used (nua starts a dialog's local CSeq below 2^27),
 * so the far end does not refuse it as out of order.
 *
 * Deliberately left out: CANCEL of an outgoing INVITE still unanswered
 * (it needs the lost transaction's Via branch) and final answers to
 * incoming INVITEs still ringing; those transactions time out at the far
 * end.
 */
#include "dialog_int.h"

#include <stdio.h>
#include <string.h>

#include <sofia-sip/sip_header.h>
#include <sofia-sip/url.h>

/* The CSeq of a BYE sent for a past run's dialog: below 2^31 (RFC 3261
 * 8.1.1.5), above every local CSeq nua starts a dialog with. */
#define BYE_CSEQ 2147483000LL

struct sb__sip_dlg_s {
    int outgoing;
    int established;
    char *local;                /* with our tag once established */
    char *remote;
    char *target;
    char *route;                /* NULL: none */
    char *dest;                 /* NULL: none */
    int64_t cseq;
};

/* Owner: sip->byes until answered (or freed after nua_destroy). */
typedef struct sb__sip_bye_s {
    void *not_a_leg;            /* always NULL: leg.c reads a handle's magic
                                   as a leg only when this is its agent */
    sb_sip_t *sip;
    nua_handle_t *nh;
    char *label;
    struct sb__sip_bye_s *next, **pprev;
} sb__sip_bye_t;

/* ---- remembering a dialog ------------------------------------------------- */

static char *hdr_text(sip_header_t const *h)
{
    if (h == NULL)
        return NULL;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char *s = sip_header_as_string(home, h);
    char *out = s ? sb_xstrdup(s) : NULL;
    su_home_deinit(home);
    return out;
}

static char *url_text(url_t const *u)
{
    if (u == NULL)
        return NULL;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    char *s = url_as_string(home, u);
    char *out = s ? sb_xstrdup(s) : NULL;
    su_home_deinit(home);
    return out;
}

/* The Record-Route set as a Route value: in the order received (we are
 * the UAS) or reversed (the UAC), RFC 3261 12.1.1 and 12.1.2. */
static char *route_text(sip_record_route_t const *rr, int reverse)
{
    size_t n = 0;
    for (sip_record_route_t const *r = rr; r; r = r->r_next)
        n++;
    if (n == 0 || n > 32)
        return NULL;
    char *parts[32];
    size_t i = 0;
    for (sip_record_route_t const *r = rr; r; r = r->r_next)
        parts[i++] = hdr_text((sip_header_t const *)r);
    sb_buf_t b = SB_BUF_INIT;
    for (i = 0; i < n; i++) {
        char *p = parts[reverse ? n - 1 - i : i];
        if (p && *p) {
            if (b.len)
                sb_buf_puts(&b, ", ");
            sb_buf_puts(&b, p);
        }
        free(p);
    }
    char *out = b.len ? sb_xstrdup(sb_buf_str(&b)) : NULL;
    sb_buf_free(&b);
    return out;
}

sb__sip_dlg_t *sb__sip_dlg_incoming(nua_t *nua, sip_t const *invite)
{
    char ip[64];
    int port;
    const char *transport;
    sb__sip_source_of(nua, ip, sizeof ip, &port, &transport);
    sb__sip_dlg_t *d = SB_NEW(sb__sip_dlg_t);
    d->remote = hdr_text((sip_header_t const *)invite->sip_from);
    d->local = hdr_text((sip_header_t const *)invite->sip_to);
    d->target = invite->sip_contact ? url_text(invite->sip_contact->m_url) : NULL;
    d->route = route_text(invite->sip_record_route, 0);
    /* Back where the INVITE came from, as the registrar does for clients
     * behind NAT; a proxy in front of us is that source too. */
    if (port > 0 && strcmp(ip, "0.0.0.0") != 0)
        d->dest = strchr(ip, ':')
                      ? sb_xasprintf("sip:[%s]:%d;transport=%s", ip, port, transport)
                      : sb_xasprintf("sip:%s:%d;transport=%s", ip, port, transport);
    return d;
}

sb__sip_dlg_t *sb__sip_dlg_outgoing(const char *dest)
{
    sb__sip_dlg_t *d = SB_NEW(sb__sip_dlg_t);
    d->outgoing = 1;
    d->dest = dest ? sb_xstrdup(dest) : NULL;
    return d;
}

void sb__sip_dlg_ack(sb__sip_dlg_t *d, sip_t const *ack)
{
    if (d == NULL || d->outgoing || d->established || ack == NULL ||
        ack->sip_to == NULL || ack->sip_to->a_tag == NULL)
        return;
    free(d->local);
    d->local = hdr_text((sip_header_t const *)ack->sip_to);
    d->cseq = 1;                /* nua's own is unknown: see BYE_CSEQ */
    d->established = d->local && d->remote && d->target;
}

void sb__sip_dlg_answered(sb__sip_dlg_t *d, sip_t const *ok)
{
    if (d == NULL || !d->outgoing || d->established || ok == NULL ||
        ok->sip_from == NULL || ok->sip_to == NULL || ok->sip_to->a_tag == NULL ||
        ok->sip_contact == NULL)
        return;
    d->local = hdr_text((sip_header_t const *)ok->sip_from);
    d->remote = hdr_text((sip_header_t const *)ok->sip_to);
    d->target = url_text(ok->sip_contact->m_url);
    d->route = route_text(ok->sip_record_route, 1);
    d->cseq = ok->sip_cseq ? (int64_t)ok->sip_cseq->cs_seq + 1 : 1;
    d->established = d->local && d->remote && d->target;
}

int sb__sip_dlg_get(const sb__sip_dlg_t *d, const char *call_id, sb_sip_dialog_t *out)
{
    memset(out, 0, sizeof *out);
    if (d == NULL || !d->established || call_id == NULL || *call_id == '\0')
        return SB_ESTATE;
    out->call_id = call_id;
    out->outgoing = d->outgoing;
    out->local = d->local;
    out->remote = d->remote;
    out->remote_target = d->target;
    out->route_set = d->route;
    out->local_cseq = d->cseq;
    out->dest = d->dest;
    return 0;
}

void sb__sip_dlg_free(sb__sip_dlg_t *d)
{
    if (d == NULL)
        return;
    free(d->local);
    free(d->remote);
    free(d->target);
    free(d->route);
    free(d->dest);
    free(d);
}

/* ---- ending a past run's dialog -------------------------------------------- */

static void bye_free(sb__sip_bye_t *b)
{
    if (b->pprev) {
        *b->pprev = b->next;
        if (b->next)
            b->next->pprev = b->pprev;
    }
    if (b->nh) {
        nua_handle_bind(b->nh, NULL);
        nua_handle_destroy(b->nh);
    }
    free(b->label);
    free(b);
}

/* Checks what the far end needs to recognise the dialog and picks the
 * next hop (the stored one, else the first route, else the target).
 * Returns 0 and *hop (owned), or SB_EINVAL. */
static int bye_check(const sb_sip_dialog_t *d, char **hop)
{
    if (d->call_id == NULL || !*d->call_id || d->local == NULL ||
        d->remote == NULL || d->remote_target == NULL)
        return SB_EINVAL;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_from_t *from = sip_from_make(home, d->local);
    sip_to_t *to = sip_to_make(home, d->remote);
    url_t *target = url_make(home, d->remote_target);
    sip_route_t *route = d->route_set && *d->route_set
                             ? sip_route_make(home, d->route_set) : NULL;
    int ok = from && from->a_tag && to && to->a_tag && target &&
             (target->url_type == url_sip || target->url_type == url_sips) &&
             target->url_host && (!d->route_set || !*d->route_set || route);
    url_t *du = d->dest && *d->dest ? url_make(home, d->dest) : NULL;
    if (ok && d->dest && *d->dest &&
        (du == NULL || du->url_host == NULL ||
         (du->url_type != url_sip && du->url_type != url_sips)))
        ok = 0;
    if (ok)
        *hop = sb_xstrdup(du ? d->dest
                          : route ? url_as_string(home, route->r_url)
                                  : d->remote_target);
    su_home_deinit(home);
    return ok ? 0 : SB_EINVAL;
}

int sb_sip_dialog_bye(sb_sip_t *sip, const sb_sip_dialog_t *d, const char *label)
{
    if (sip->shutting_down || sip->nua == NULL)
        return SB_ESTATE;
    char *hop = NULL;
    int rc = bye_check(d, &hop);
    if (rc != 0)
        return rc;
    sb__sip_bye_t *b = SB_NEW(sb__sip_bye_t);
    b->sip = sip;
    b->label = sb_xstrdup(label && *label ? label : d->call_id);
    b->nh = nua_handle(sip->nua, (void *)b, TAG_END());
    if (b->nh == NULL) {
        free(hop);
        bye_free(b);
        return SB_ENOMEM;
    }
    b->next = sip->byes;
    if (b->next)
        b->next->pprev = &b->next;
    b->pprev = &sip->byes;
    sip->byes = b;
    int64_t seq = d->local_cseq + 1 > BYE_CSEQ ? d->local_cseq + 1 : BYE_CSEQ;
    if (seq > 2147483647LL)
        seq = 2147483647LL;
    char cseq[32];
    snprintf(cseq, sizeof cseq, "%lld BYE", (long long)seq);
    /* The next hop goes with the request: sofia-sip 1.12 does not apply
     * a NUTAG_PROXY given to nua_handle() (test_sip_dialog checks it). */
    nua_method(b->nh, NUTAG_METHOD("BYE"), NUTAG_URL(d->remote_target),
               NUTAG_PROXY(hop),
               SIPTAG_CALL_ID_STR(d->call_id), SIPTAG_FROM_STR(d->local),
               SIPTAG_TO_STR(d->remote), SIPTAG_CSEQ_STR(cseq),
               TAG_IF(d->route_set && *d->route_set, SIPTAG_ROUTE_STR(d->route_set)),
               SIPTAG_REASON_STR("Q.850;cause=41;text=\"server restarted\""),
               TAG_END());
    sb_debug("sip: BYE for %s (Call-ID %s) sent to %s via %s", b->label, d->call_id,
             d->remote_target, hop);
    free(hop);
    return 0;
}

int sb__sip_bye_response(sb_sip_t *sip, nua_handle_t *nh, void *hmagic, int status,
                         const char *phrase)
{
    sb__sip_bye_t *b = hmagic;
    if (b == NULL || b->not_a_leg != NULL || b->sip != sip || b->nh != nh)
        return 0;
    if (status < 200)
        return 1;
    sb_debug("sip: BYE for %s answered %d %s", b->label, status, phrase ? phrase : "");
    bye_free(b);
    return 1;
}

void sb__sip_byes_free(sb_sip_t *sip)
{
    while (sip->byes) {
        sb__sip_bye_t *b = sip->byes;
        b->nh = NULL;           /* nua_destroy freed the handles */
        bye_free(b);
    }
}
