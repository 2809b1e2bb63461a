/*
 * server.c: start-up and shutdown of the whole server.
 *
 * Order of start: log, reactor, store (migrations), REST listener, SIP
 * agent, then the first-start administrator. Modules register their closers with the reactor in
 * that order, so SIGTERM closes them in reverse: SIP first (stop accepting
 * and end calls), then HTTP, then the store. A failure after the reactor
 * exists stops the modules already started the same way, so nothing is
 * left half-started, and the process exits 1.
 */
#include "server.h"
#include "util.h"
#include "loop.h"
#include "store.h"
#include "sip.h"
#include "http.h"

#include <stdio.h>
#include <string.h>

#define REST_BASE "/restcomm/2012-04-24"

typedef struct {
    const sb_config_t *cfg;
    sb_loop_t *loop;
    sb_store_t *store;
    sb_http_server_t *http;
    sb_http_router_t *router;
} server_t;

static void on_hup(void *arg)
{
    if (sb_log_reopen() != 0)
        sb_error("cannot reopen the log file");
    else
        sb_info("log file reopened");
}

static void close_store(void *arg)
{
    server_t *s = arg;
    sb_store_close(s->store);
    s->store = NULL;
    sb_loop_closed(s->loop);
}

static void on_http_closed(void *arg)
{
    server_t *s = arg;
    s->http = NULL;
    sb_http_router_free(s->router);
    s->router = NULL;
    sb_loop_closed(s->loop);
}

static void close_http(void *arg)
{
    server_t *s = arg;
    sb_http_server_close(s->http, on_http_closed, s);
}

/* Until the REST resources are mounted every API path asks for
 * credentials, with Restcomm's realm and error body. */
static void on_rest(sb_http_req_t *req, void *arg)
{
    static const char body[] =
        "<RestcommResponse><Message>Unauthorized</Message></RestcommResponse>";
    sb_http_resp_header(req, "WWW-Authenticate", "Basic realm=\"Restcomm realm\"");
    sb_http_respond(req, 401, "application/xml", body, sizeof body - 1);
}

static int start_http(server_t *s, char *err, size_t errlen)
{
    const sb_config_t *cfg = s->cfg;
    sb_http_server_opts_t opts = {
        .host = cfg->http_host,
        .port = cfg->http_port,
        .max_header_bytes = cfg->http_max_header,
        .max_body_bytes = cfg->http_max_body,
        .idle_timeout_ms = cfg->http_idle_timeout_ms,
        .request_timeout_ms = cfg->http_request_timeout_ms,
        .cors = 1,
    };
    s->router = sb_http_router_new();
    sb_http_router_add(s->router, "*", REST_BASE "/*", on_rest, s, NULL);
    int rc = sb_http_server_new(sb_loop_uv(s->loop), &opts, sb_http_router_dispatch,
                                s->router, &s->http);
    if (rc == 0)
        rc = sb_http_server_listen(s->http);
    /* Registered even on failure: the server object is released by close. */
    if (s->http)
        sb_loop_add_closer(s->loop, "http", close_http, s);
    else {
        sb_http_router_free(s->router);
        s->router = NULL;
    }
    if (rc != 0)
        snprintf(err, errlen, "http: cannot listen on %s:%d: %s", cfg->http_host,
                 cfg->http_port, sb_strerror(rc));
    return rc;
}

static int start_store(server_t *s, char *err, size_t errlen)
{
    int rc = sb_store_open(s->cfg->store_path, &s->store, err, errlen);
    if (rc != 0)
        return rc;
    sb_loop_add_closer(s->loop, "store", close_store, s);
    sb_store_instance_id(s->store);
    return 0;
}

/* After every listener is up, so a failed start never consumes the one
 * showing of a generated password. */
static int bootstrap_admin(server_t *s, char *err, size_t errlen)
{
    const sb_config_t *cfg = s->cfg;
    char *generated = NULL;
    int rc = sb_store_bootstrap_admin(s->store, cfg->admin_email, cfg->admin_password,
                                      &generated);
    if (rc < 0) {
        snprintf(err, errlen, "store: cannot create the administrator account");
        return rc;
    }
    if (rc == 0) {
        sb_info("created administrator account %s", cfg->admin_email);
        if (generated) {
            /* Shown once, on the terminal; only its hash is stored. */
            fprintf(stderr,
                    "\n  Administrator account: %s\n"
                    "  Generated password:    %s\n"
                    "  (shown once; only a salted hash is stored)\n\n",
                    cfg->admin_email, generated);
            free(generated);
        }
    }
    return 0;
}

int sb_server_run(const sb_config_t *cfg, const char *datadir)
{
    server_t s = {.cfg = cfg};
    char err[1024] = "";
    int rc;
    int64_t t0 = sb_time_now_ms();

    sb_log_set_level((sb_log_level_t)cfg->log_level);
    if (cfg->log_file && (rc = sb_log_open(cfg->log_file)) != 0) {
        fprintf(stderr, "switchboard: cannot open log file %s: %s\n", cfg->log_file,
                sb_strerror(rc));
        return 1;
    }
    rc = sb_loop_new(&s.loop);
    if (rc != 0) {
        fprintf(stderr, "switchboard: cannot create the event loop: %s\n",
                sb_strerror(rc));
        sb_log_close();
        return 1;
    }
    sb_loop_on_hup(s.loop, on_hup, NULL);

    sb_sip_t *sip = NULL;
    rc = start_store(&s, err, sizeof err);
    if (rc == 0)
        rc = start_http(&s, err, sizeof err);
    if (rc == 0)
        rc = sb_sip_new(s.loop, cfg, &sip, err, sizeof err);
    if (rc == 0)
        rc = bootstrap_admin(&s, err, sizeof err);

    int status = 0;
    if (rc != 0) {
        fprintf(stderr, "switchboard: %s\n", err);
        sb_log_emit(SB_LOG_ERROR, NULL, "%s", err);
        status = 1;
        sb_loop_stop(s.loop);
    } else {
        sb_info("switchboard %s ready in %lld ms: SIP %s, REST http://%s:%d%s, "
                "database %s (schema %d)", SB_VERSION_STRING,
                (long long)(sb_time_now_ms() - t0), sb_sip_bound_uri(sip),
                cfg->http_host, cfg->http_port, REST_BASE, cfg->store_path,
                sb_store_schema_version(s.store));
    }
    if (sb_loop_run(s.loop) != 0)
        status = 1;
    if (sb_loop_free(s.loop) != 0) {
        sb_error("shutdown: uv_loop_close failed: handles were left open");
        status = 1;
    }
    if (status == 0)
        sb_info("stopped");
    sb_log_close();
    return status;
}
