/*
 * sip.h: the SIP side of Switchboard: one nua user agent on the reactor's
 * su_root, bound to the configured address (UDP and/or TCP). No sofia type
 * leaves this module: higher modules get plain descriptions and callbacks.
 *
 * This header grows with call legs and REFER; what exists now is the agent
 * itself, OPTIONS (answered 200 with Allow on every listen address), and the
 * ordered shutdown. A method
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
#define SB_SIP_ALLOW "INVITE, ACK, BYE, CANCEL, OPTIONS"

/* Creates the agent and binds cfg's listen address (cfg borrowed for the
 * agent's lifetime). Registers a closer with loop. Returns 0 and *out
 * (owned by the loop's shutdown: freed when its closer finishes), or
 * SB_EIO with one line in err naming the address and the reason. */
int sb_sip_new(sb_loop_t *loop, const sb_config_t *cfg, sb_sip_t **out,
               char *err, size_t errlen);

/* Returns borrowed text: the URI the agent is bound to. */
const char *sb_sip_bound_uri(sb_sip_t *sip);

#endif
