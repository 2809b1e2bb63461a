/*
 * api.h: the api module's public header. The Restcomm-compatible REST API
 * under /restcomm/2012-04-24: HTTP Basic authentication, XML or JSON
 * representations, Restcomm's paging, and the resources (Accounts,
 * Applications, Clients, IncomingPhoneNumbers, Notifications, Usage
 * Records, Calls, Recordings and their media, Conferences and their
 * Participants, Supervisor) and the routes Lua plugins add under
 * /Accounts/{AccountSid}/Plugins. docs/rest.md is the reference and lists
 * where we differ from Restcomm.
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

/* Optional: the folder of recording files (recordings.dir), borrowed: it
 * must outlive the api. The media of a recording is "<dir>/<file name>"
 * (the WAV the call module wrote) and "<dir>/<sid>.mp3", made from the WAV
 * on first request. Until called, cfg->recordings_dir is used; NULL turns
 * the media off (404) and makes DELETE remove rows only. */
void sb_api_use_recordings(sb_api_t *api, const char *dir);

/* Optional: the messaging module (borrowed; pass NULL before it closes)
 * behind SMS/Messages, Messages and Email/Messages. Without it sending
 * answers 503; the lists still work. */
struct sb_msg_s;
void sb_api_use_messaging(sb_api_t *api, struct sb_msg_s *msg);

/* Optional: cb(arg, out) appends the server's own families (media, the
 * process) to GET /metrics, in Prometheus' text format, with their HELP
 * and TYPE lines. Borrowed until sb_api_free. */
struct sb_buf_s;
typedef void (*sb_api_metrics_cb)(void *arg, struct sb_buf_s *out);
void sb_api_use_metrics(sb_api_t *api, sb_api_metrics_cb cb, void *arg);
/* metrics.listen: mounts GET /metrics (with metrics.auth) on router, a
 * listener of its own; the REST listener then does not serve it. The
 * route borrows api: close that listener before sb_api_free. Returns 0
 * or a negative SB_E* code. */
int sb_api_mount_metrics(sb_api_t *api, sb_http_router_t *router);

/* ---- plugin routes ------------------------------------------------------ */

/* A request under /Accounts/{AccountSid}/Plugins/..., authenticated and
 * checked against the account tree like every other resource, handed to
 * the plugin handler (the Lua runtime, wired by the server). Owned by the
 * api until answered with sb_api_plugin_respond or sb_api_plugin_error,
 * exactly once, from any later loop callback. */
typedef struct sb_api_plugin_req_s sb_api_plugin_req_t;
typedef void (*sb_api_plugin_cb)(sb_api_plugin_req_t *pr, void *arg);

/* Optional: the handler of plugin routes (borrowed arg). Without one, or
 * after passing NULL, every plugin route answers 404. */
void sb_api_use_plugins(sb_api_t *api, sb_api_plugin_cb cb, void *arg);

/* Accessors; strings borrowed until the answer. */
const char *sb_api_plugin_method(const sb_api_plugin_req_t *pr);  /* HEAD is GET */
/* The path below Plugins, decoded, from "/": "/queue/7" (".json" on a
 * segment is Restcomm's format selector and is removed, as everywhere). */
const char *sb_api_plugin_path(const sb_api_plugin_req_t *pr);
const char *sb_api_plugin_account(const sb_api_plugin_req_t *pr);  /* in the URL */
const char *sb_api_plugin_caller(const sb_api_plugin_req_t *pr);   /* authenticated */
int sb_api_plugin_json(const sb_api_plugin_req_t *pr);  /* JSON asked for */
/* Returns the HTTP request for its query, form, headers and body. */
const sb_http_req_t *sb_api_plugin_http(const sb_api_plugin_req_t *pr);

/* Answers with status (200..599), content_type (may be NULL when len is
 * 0), the headers given as pairs (may be NULL; invalid ones are skipped
 * with a warning) and len bytes of body (borrowed, copied). Takes pr. */
void sb_api_plugin_respond(sb_api_plugin_req_t *pr, int status,
                           const char *content_type,
                           const sb_http_params_t *headers,
                           const char *body, size_t len);
/* Answers with Restcomm's error body (XML or JSON as asked), and an Allow
 * header when allow is not NULL (405). Takes pr. */
void sb_api_plugin_error(sb_api_plugin_req_t *pr, int status,
                         const char *message, const char *allow);

/* Unmounts the route (when the router still exists: call it before
 * sb_http_router_free, or pass a router already freed as NULL through
 * sb_api_detach) and frees the api. Thread-pool jobs still running keep
 * the api alive until they finish; their requests are answered 503. */
void sb_api_free(sb_api_t *api);

/* Forgets the router without touching it (for a caller that frees the
 * router first). */
void sb_api_detach(sb_api_t *api);

/* Sets the password of the account whose e-mail or SID is key (borrowed),
 * with the effects of a REST update carrying Password: a new salted hash
 * and a new auth token (the linked Client keeps its own password; realm
 * is unused). Needs no api: for `switchboard
 * passwd`; it blocks for the hashing (about 100 ms), so never call it on
 * the event loop. Returns 0, SB_EINVAL (too weak by Restcomm's rule),
 * SB_ENOENT (no such account), SB_EPERM (the account is closed) or
 * SB_ESTORE. */
int sb_api_account_set_password(sb_store_t *store, const char *realm,
                                const char *key, const char *password);

#endif
