/*
 * api.h: the api module's public header. The Restcomm-compatible REST API
 * under /restcomm/2012-04-24: HTTP Basic authentication, XML or JSON
 * representations, Restcomm's paging, and the resources (Accounts,
 * Applications, Clients, IncomingPhoneNumbers, Notifications, Usage
 * Records). docs/rest.md is the reference and lists where we differ from
 * Restcomm.
 *
 * The module mounts one route on the caller's router and does its own
 * resource routing below it, because Restcomm lets ".json" end any path
 * segment (Accounts.json/AC.../Calls). Routes that other modules or Lua
 * plugins add later with literal segments are more specific and win.
 */
#ifndef SB_API_H
#define SB_API_H

#include <uv.h>

#include "config.h"
#include "http.h"
#include "store.h"

typedef struct sb_api_s sb_api_t;

/* Mounts the REST API on router. Borrows router, store and cfg: all three
 * must outlive the api (cfg->sip_domain is the realm of client digest
 * hashes). Returns 0 and *out (owned: sb_api_free), or SB_EINVAL when the
 * route cannot be added. */
int sb_api_new(sb_http_router_t *router, sb_store_t *store,
               const sb_config_t *cfg, sb_api_t **out);

/* Optional: runs password hashing and verification (PBKDF2, about 100 ms
 * each) on loop's thread pool instead of the calling thread, so a burst
 * of password logins cannot stall signalling. Borrows loop (must outlive
 * the api). Without it the work runs inline. */
void sb_api_use_loop(sb_api_t *api, uv_loop_t *loop);

/* Optional: the call manager whose live calls the Supervisor metrics
 * report (borrowed; pass NULL before it closes). Without it the live
 * counters are 0. */
struct sb_call_mgr_s;
void sb_api_use_calls(sb_api_t *api, struct sb_call_mgr_s *calls);

/* Unmounts the route (when the router still exists: call it before
 * sb_http_router_free, or pass a router already freed as NULL through
 * sb_api_detach) and frees the api. Thread-pool jobs still running keep
 * the api alive until they finish; their requests are answered 503. */
void sb_api_free(sb_api_t *api);

/* Forgets the router without touching it (for a caller that frees the
 * router first). */
void sb_api_detach(sb_api_t *api);

#endif
