/*
 * route.h: shared between the files of core/call only: what an incoming
 * call (or a REFER) resolves to: the number that matched, its account and
 * the application to run (route.c).
 */
#ifndef SB_CALL_ROUTE_H
#define SB_CALL_ROUTE_H

#include "call_int.h"

/* Owner: the caller (sb__route_clear). */
typedef struct sb__route_s {
    char number_sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char *phone_number;         /* as stored (may be a pattern) */
    int account_active;
    char *url;                  /* voice: the application's RCML URL or
                                   the number's VoiceUrl; NULL when none */
    char *method;
    char *fallback_url;
    char *fallback_method;
    char *refer_url;            /* refer: ReferApplicationSid's RCML URL
                                   or ReferUrl; NULL when none */
    char *refer_method;
    char *status_callback;
    char *status_callback_method;
} sb__route_t;

/* Finds the number for user (the To user of an INVITE) with the number
 * matcher and loads what it routes to. Returns 0 and fills *out,
 * SB_ENOENT when no number matches, or SB_ESTORE. */
int sb__route_lookup(sb_call_mgr_t *mgr, const char *user, sb__route_t *out);
void sb__route_clear(sb__route_t *r);

#endif
