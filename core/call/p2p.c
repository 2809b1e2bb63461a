/*
 * p2p.c: peer-to-peer calls. A registered Client that dials another
 * Client's login, with no number of that name, is connected by the
 * server itself, as a PBX connects two extensions: the caller's INVITE
 * becomes an inbound call (recorded, media anchored here) and the callee
 * is dialled at every registered contact, as <Dial><Client> does, with
 * no application. The callee's final refusal reaches the caller (486
 * stays 486); when either party hangs up, the other gets BYE.
 *
 * Both Clients must belong to one account (route_p2p); the caller is
 * the Client that answered the digest challenge (or, from a trusted
 * peer, its From): an anonymous caller never reaches this.
 *
 * Owner: p2p_t, freed when the dial reports.
 */
#include "call_int.h"
#include "route.h"

#include <string.h>

int sb__call_route_p2p(sb_call_mgr_t *mgr, const char *from_user, const char *to_user,
                       sb__route_t *out)
{
    char account[SB_SID_SIZE];
    if (!sb__call_client_account(mgr, from_user, account) ||
        !sb__call_client_of(mgr, account, to_user))
        return SB_ENOENT;
    memset(out, 0, sizeof *out);
    snprintf(out->account_sid, sizeof out->account_sid, "%s", account);
    sb_account_t acct;
    if (sb_store_account_get(mgr->store, account, &acct) == 0) {
        out->account_active = acct.status && strcmp(acct.status, "active") == 0;
        sb_account_clear(&acct);
    }
    return 0;
}

typedef struct p2p_s {
    sb_call_t *call;            /* a reference */
    sb_call_dial_t *dial;
} p2p_t;

static void on_dialled(const sb_call_dial_result_t *r, void *arg)
{
    p2p_t *p = arg;
    sb_call_t *call = p->call;
    if (!call->over) {
        if (call->status == SB_CALL_IN_PROGRESS) {
            sb_call_hangup(call);
        } else {
            /* Never answered: the caller gets the callee's refusal. */
            int st = r->call_sid == NULL ? 480   /* not registered */
                     : r->sip_status >= 300 && r->sip_status <= 699 ? r->sip_status
                     : strcmp(r->status, "busy") == 0 ? 486 : 480;
            sb_log_call(SB_LOG_INFO, call->sid, "call: %s did not answer (%s): %d",
                        call->to, r->status, st);
            sb_call_reject(call, st);
        }
    }
    sb_call_unref(call);
    free(p);
}

int sb__call_p2p_start(sb_call_t *call)
{
    p2p_t *p = SB_NEW(p2p_t);
    p->call = call;
    sb_call_ref(call);
    sb_call_dial_target_t t = {.kind = SB_DIAL_CLIENT, .dest = call->to};
    sb_call_dial_opts_t o = {
        .targets = &t,
        .target_count = 1,
        .timeout_s = 60,
        .caller_id = call->from,
    };
    int rc = sb_call_dial(call, &o, on_dialled, p, &p->dial);
    if (rc != 0) {
        sb_call_unref(call);
        free(p);
        return rc;
    }
    sb_log_call(SB_LOG_INFO, call->sid, "call: %s calls %s directly (no number)",
                call->from, call->to);
    return 0;
}
