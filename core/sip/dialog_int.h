/*
 * dialog_int.h: shared between leg.c, agent.c and dialog.c only. What a
 * leg remembers of its INVITE dialog so that the call module can persist
 * it (sb_sip_leg_dialog) and a later run can end the dialog with a BYE
 * (sb_sip_dialog_bye, issue 23).
 */
#ifndef SB_SIP_DIALOG_INT_H
#define SB_SIP_DIALOG_INT_H

#include "sip_int.h"

/* Owner: the leg (leg.c frees it with sb__sip_dlg_free). */
typedef struct sb__sip_dlg_s sb__sip_dlg_t;

/* An incoming INVITE (nua's current request): remembers the remote
 * party (From), its Contact, the Record-Route set and where the INVITE
 * came from. Returns owned. */
sb__sip_dlg_t *sb__sip_dlg_incoming(nua_t *nua, sip_t const *invite);
/* An outgoing INVITE sent to dest (next hop URI, or NULL: its
 * Request-URI). Returns owned. */
sb__sip_dlg_t *sb__sip_dlg_outgoing(const char *dest);
/* The ACK to our 2xx (incoming) or the 2xx to our INVITE (outgoing):
 * the dialog is established; its tags, target and route set are known
 * from now on. dlg and msg may be NULL (ignored). */
void sb__sip_dlg_ack(sb__sip_dlg_t *dlg, sip_t const *ack);
void sb__sip_dlg_answered(sb__sip_dlg_t *dlg, sip_t const *ok);
/* Fills out (strings borrowed from dlg). Returns 0, or SB_ESTATE when
 * the dialog is not established. */
int sb__sip_dlg_get(const sb__sip_dlg_t *dlg, const char *call_id,
                    sb_sip_dialog_t *out);
void sb__sip_dlg_free(sb__sip_dlg_t *dlg);

/* agent.c: the final answer to a BYE sent by sb_sip_dialog_bye (the
 * nua_r_method of its handle, hmagic its record). Returns 1 when it was
 * ours. */
int sb__sip_bye_response(sb_sip_t *sip, nua_handle_t *nh, void *hmagic,
                         int status, const char *phrase);
/* agent.c, after nua_destroy: frees the records of BYEs never answered. */
void sb__sip_byes_free(sb_sip_t *sip);

#endif
