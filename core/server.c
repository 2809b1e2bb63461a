/*
 * server.c: start-up and shutdown of the whole server.
 *
 * Order of start: log, reactor, store (migrations), HTTP client and Lua
 * runtime (plugins), REST listener, SIP agent, media (the engine, the
 * text-to-speech thread and the audio cache, which fetches through the
 * HTTP client), calls, messaging (SMS and e-mail), the console socket,
 * then the first-start administrator. Modules register their closers with
 * the reactor in that order, so SIGTERM closes them in reverse: the
 * console first (its commands are cancelled), then messaging, calls, the audio cache, the TTS, the
 * media engine, SIP, the REST listener, Lua, the HTTP client and the
 * store. A failure
 * after the reactor exists stops the modules already started the same
 * way, so nothing is left half-started, and the process exits 1.
 */
#include "server.h"
#include "util.h"
#include "loop.h"
#include "store.h"
#include "sip.h"
#include "http.h"
#include "api.h"
#include "sb_lua.h"
#include "media.h"
#include "asr.h"
#include "call.h"
#include "notify.h"
#include "conference_store.h"
#include "console.h"
#include "msg.h"
#include "sb_lua_msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REST_BASE "/restcomm/2012-04-24"

typedef struct {
    const sb_config_t *cfg;
    sb_loop_t *loop;
    sb_store_t *store;
    sb_http_server_t *http;
    sb_http_router_t *router;
    sb_http_server_t *metrics_http;     /* metrics.listen, or NULL */
    sb_http_router_t *metrics_router;
    sb_api_t *api;
    sb_http_client_t *client;   /* outgoing HTTP: RCML fetches, callbacks */
    sb_lua_t *lua;
    char lua_lib[1024];
    sb_media_engine_t *media;
    sb_media_tts_t *tts;        /* NULL when espeak-ng cannot start */
    sb_media_asr_t *asr;        /* NULL without a speech model */
    sb_media_cache_t *cache;    /* audio for Play, fetched by client */
    sb_call_mgr_t *calls;
    sb_msg_t *msg;              /* SMS and e-mail (issue 19) */
    sb_sip_t *sip;              /* for the console's sip.trace */
    sb_con_t *console;
    int64_t started_ms;
} server_t;

/* GET /metrics: the families the api cannot see (api.h sb_api_use_metrics). */
static void write_metrics(void *arg, sb_buf_t *b)
{
    server_t *s = arg;
    if (s->media) {
        sb_media_clock_stats_t cs;
        sb_media_engine_clock_stats(s->media, &cs);
        sb_buf_puts(b, "# HELP switchboard_media_frames_total Generated 20 ms frames sent (plays, tones, rooms).\n"
                       "# TYPE switchboard_media_frames_total counter\n");
        sb_buf_printf(b, "switchboard_media_frames_total %llu\n", (unsigned long long)cs.frames);
        sb_buf_puts(b, "# HELP switchboard_media_late_frames_total Frames sent more than 5 ms after their time.\n"
                       "# TYPE switchboard_media_late_frames_total counter\n");
        sb_buf_printf(b, "switchboard_media_late_frames_total %llu\n",
                      (unsigned long long)cs.late_frames);
        sb_buf_puts(b, "# HELP switchboard_media_clock_missed_ticks_total Media clock expirations that came together (the worker fell behind).\n"
                       "# TYPE switchboard_media_clock_missed_ticks_total counter\n");
        sb_buf_printf(b, "switchboard_media_clock_missed_ticks_total %llu\n",
                      (unsigned long long)cs.missed_ticks);
        sb_buf_puts(b, "# HELP switchboard_media_playing Endpoints playing a source now.\n"
                       "# TYPE switchboard_media_playing gauge\n");
        sb_buf_printf(b, "switchboard_media_playing %llu\n", (unsigned long long)cs.playing);
    }
    if (s->media)
        sb_media_engine_write_metrics(s->media, b);
    sb_metrics_write(b);
    sb_buf_puts(b, "# HELP switchboard_uptime_seconds Seconds since the server started.\n"
                   "# TYPE switchboard_uptime_seconds gauge\n");
    sb_buf_printf(b, "switchboard_uptime_seconds %.3f\n",
                  (double)(sb_time_now_ms() - s->started_ms) / 1000.0);
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    sb_buf_puts(b, "# HELP switchboard_resident_memory_bytes The process's resident memory.\n"
                   "# TYPE switchboard_resident_memory_bytes gauge\n");
    sb_buf_printf(b, "switchboard_resident_memory_bytes %lld\n",
                  (long long)resident * (long long)sysconf(_SC_PAGESIZE));
}

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
    sb_api_free(s->api);
    s->api = NULL;
    sb_http_router_free(s->router);
    s->router = NULL;
    sb_loop_closed(s->loop);
}

static void close_http(void *arg)
{
    server_t *s = arg;
    sb_http_server_close(s->http, on_http_closed, s);
}

/* metrics.listen: closed before the REST listener, whose api it borrows. */
static void on_metrics_http_closed(void *arg)
{
    server_t *s = arg;
    s->metrics_http = NULL;
    sb_http_router_free(s->metrics_router);
    s->metrics_router = NULL;
    sb_loop_closed(s->loop);
}

static void close_metrics_http(void *arg)
{
    server_t *s = arg;
    sb_http_server_close(s->metrics_http, on_metrics_http_closed, s);
}

static void on_lag_closed(void *arg)
{
    server_t *s = arg;
    sb_loop_closed(s->loop);
}

static void close_lag(void *arg)
{
    sb_metrics_lag_close(on_lag_closed, arg);
}

static void on_client_closed(void *arg)
{
    server_t *s = arg;
    s->client = NULL;
    sb_loop_closed(s->loop);
}

static void close_client(void *arg)
{
    server_t *s = arg;
    sb_http_client_close(s->client, on_client_closed, s);
}

static void on_lua_closed(void *arg)
{
    server_t *s = arg;
    s->lua = NULL;
    sb_loop_closed(s->loop);
}

static void close_lua(void *arg)
{
    server_t *s = arg;
    sb_lua_close(s->lua, on_lua_closed, s);
}

/* Notifications raised by Lua (RCML fetch and parse errors, plugin
 * errors) are recorded for the Notifications resource. */
static void on_lua_notify(const sb_lua_notification_t *n, void *arg)
{
    server_t *s = arg;
    if (s->store == NULL || n->account_sid == NULL || n->account_sid[0] == '\0')
        return;
    sb_notify_t rec = {
        .account_sid = n->account_sid,
        .call_sid = n->call_sid,
        .level = n->level ? SB_NOTIFY_WARNING : SB_NOTIFY_ERROR,
        .code = n->code,
        .message = n->message,
        .request_url = n->url,
        .request_method = n->method,
        .response_body = n->body,
    };
    sb_notify_record(s->store, &rec, NULL);
}

/* The HTTP client and the Lua runtime with its plugins. A plugin that
 * fails to load is logged and left out; the server still starts, since
 * plugins can be fixed and reloaded from the console. */
static int start_lua(server_t *s, const char *datadir, char *err, size_t errlen)
{
    const sb_config_t *cfg = s->cfg;
    sb_http_client_opts_t copts = {.user_agent = "Switchboard/" SB_VERSION_STRING};
    int rc = sb_http_client_new(sb_loop_uv(s->loop), &copts, &s->client);
    if (rc != 0) {
        snprintf(err, errlen, "http: cannot create the HTTP client: %s", sb_strerror(rc));
        return rc;
    }
    sb_loop_add_closer(s->loop, "http-client", close_client, s);

    snprintf(s->lua_lib, sizeof s->lua_lib, "%s/lua", datadir);
    sb_lua_opts_t lopts = {
        .memory_limit = cfg->lua_memory_limit,
        .instruction_limit = cfg->lua_instruction_limit,
        .time_limit_ms = cfg->lua_time_limit_ms,
        .plugin_paths = (const char *const *)cfg->plugin_paths,
        .plugin_path_count = cfg->plugin_path_count,
        .plugin_options = cfg->plugin_options,
        .lib_path = s->lua_lib,
        .http = s->client,
        .notify = on_lua_notify,
        .notify_arg = s,
    };
    char why[1024] = "";
    rc = sb_lua_new(sb_loop_uv(s->loop), &lopts, &s->lua, why, sizeof why);
    if (rc != 0) {
        snprintf(err, errlen, "lua: cannot start the Lua runtime: %s", why);
        return rc;
    }
    sb_loop_add_closer(s->loop, "lua", close_lua, s);
    int failed = sb_lua_load_plugins(s->lua, why, sizeof why);
    if (failed > 0)
        sb_warn("lua: %d plugin(s) failed to load: %s", failed, why);
    return 0;
}

/* ---- calls: the media engine and the call manager ---- */

static void on_media_dtmf(sb_media_endpoint_t *ep, char digit, int ms, void *arg)
{
    server_t *s = arg;
    if (s->calls)
        sb_call_on_media_dtmf(ep, digit, ms, s->calls);
}

static void on_media_dtmf_begin(sb_media_endpoint_t *ep, char digit, void *arg)
{
    server_t *s = arg;
    if (s->calls)
        sb_call_on_media_dtmf_begin(ep, digit, s->calls);
}

static void on_media_timeout(sb_media_endpoint_t *ep, void *arg)
{
    server_t *s = arg;
    if (s->calls)
        sb_call_on_media_timeout(ep, s->calls);
}

static void on_media_closed(void *arg)
{
    server_t *s = arg;
    s->media = NULL;
    sb_loop_closed(s->loop);
}

static void close_media(void *arg)
{
    server_t *s = arg;
    sb_media_engine_close(s->media, on_media_closed, s);
}

/* ---- media: text-to-speech and the audio cache ---- */

static void on_tts_closed(void *arg)
{
    server_t *s = arg;
    s->tts = NULL;
    sb_loop_closed(s->loop);
}

static void close_tts(void *arg)
{
    server_t *s = arg;
    sb_media_tts_close(s->tts, on_tts_closed, s);
}

static void on_asr_closed(void *arg)
{
    server_t *s = arg;
    s->asr = NULL;
    sb_loop_closed(s->loop);
}

static void close_asr(void *arg)
{
    server_t *s = arg;
    sb_media_asr_close(s->asr, on_asr_closed, s);
}

static void on_cache_closed(void *arg)
{
    server_t *s = arg;
    s->cache = NULL;
    sb_loop_closed(s->loop);
}

static void close_cache(void *arg)
{
    server_t *s = arg;
    sb_media_cache_close(s->cache, on_cache_closed, s);
}

/* The cache's fetcher over the HTTP client: one GET with the cached
 * copy's validators. Owner: itself, freed after done. */
typedef struct media_fetch_s {
    sb_media_fetch_done_cb done;
    void *arg;
    sb_http_fetch_t *h;         /* valid until on_media_fetched */
} media_fetch_t;

static void on_media_fetched(int err, const sb_http_response_t *resp, void *arg)
{
    media_fetch_t *f = arg;
    sb_media_fetch_done_cb done = f->done;
    void *darg = f->arg;
    free(f);
    switch (err) {
    case 0:
    case SB_ETIMEDOUT:
    case SB_ETOOBIG:
    case SB_ECANCELED:
        break;
    default:
        /* Resolve, connect, reset, protocol errors, too many redirects. */
        sb_debug("media: fetch of %s failed: %s", resp->url,
                 resp->error ? resp->error : sb_strerror(err));
        err = SB_ENETWORK;
        break;
    }
    if (err != 0) {
        done(err, NULL, darg);
        return;
    }
    sb_media_fetch_result_t r = {
        .status = resp->status,
        .content_type = resp->content_type,
        .etag = sb_http_response_header(resp, "ETag"),
        .last_modified = sb_http_response_header(resp, "Last-Modified"),
        .cache_control = sb_http_response_header(resp, "Cache-Control"),
        .expires = sb_http_response_header(resp, "Expires"),
        .date = sb_http_response_header(resp, "Date"),
        .body = resp->body,
        .len = resp->body_len,
    };
    done(0, &r, darg);
}

static int media_fetch(void *ctx, const char *url, const char *if_none_match,
                       const char *if_modified_since, size_t max_bytes,
                       sb_media_fetch_done_cb done, void *arg, void **handle)
{
    server_t *s = ctx;
    if (s->client == NULL)
        return SB_ESTATE;
    sb_http_params_t hdrs = SB_HTTP_PARAMS_INIT;
    if (if_none_match && *if_none_match)
        sb_http_params_add(&hdrs, "If-None-Match", if_none_match);
    if (if_modified_since && *if_modified_since)
        sb_http_params_add(&hdrs, "If-Modified-Since", if_modified_since);
    sb_http_fetch_req_t req = {
        .method = "GET",
        .url = url,
        .headers = hdrs.count ? &hdrs : NULL,
        .max_response_bytes = max_bytes ? max_bytes : s->cfg->media_max_file_bytes,
    };
    media_fetch_t *f = SB_NEW(media_fetch_t);
    f->done = done;
    f->arg = arg;
    int rc = sb_http_fetch(s->client, &req, on_media_fetched, f, &f->h);
    sb_http_params_free(&hdrs);
    if (rc != 0) {
        free(f);
        return rc;
    }
    *handle = f;
    return 0;
}

static void media_fetch_cancel(void *ctx, void *handle)
{
    (void)ctx;
    media_fetch_t *f = handle;
    sb_http_fetch_cancel(f->h);
}

/* The recordings folder, private to the server's user (0700): recordings
 * are the callers' voices. A folder that cannot be made is reported;
 * each Record then fails with a Notification, and calls go on. */
static void make_recordings_dir(const char *dir)
{
    if (dir == NULL)
        return;
    if (sb_mkdir_p(dir, 0700) != 0) {
        sb_warn("recordings: cannot use %s: %s", dir, strerror(errno));
        return;
    }
    struct stat st;
    if (stat(dir, &st) == 0 && (st.st_mode & 077) != 0 &&
        chmod(dir, st.st_mode & 0700) != 0)
        sb_warn("recordings: cannot make %s private: %s", dir, strerror(errno));
}

/* After the media engine, before the calls: they close after the calls
 * have ended. Neither stops the server from starting: without espeak-ng
 * data Say fails (and is reported), and a cache folder that cannot be
 * made leaves the cache in memory only. */
static void start_playback(server_t *s)
{
    const sb_config_t *cfg = s->cfg;
    sb_media_tts_opts_t topts = {
        .cache_bytes = cfg->tts_cache_bytes,
        .max_chars = cfg->tts_max_chars,
    };
    int rc = sb_media_tts_new(sb_loop_uv(s->loop), &topts, &s->tts);
    if (rc == 0)
        sb_loop_add_closer(s->loop, "tts", close_tts, s);
    else
        sb_warn("media: text-to-speech is not available: %s", sb_strerror(rc));

    sb_media_cache_opts_t copts = {
        .dir = cfg->media_cache_dir,
        .media_root = cfg->media_root,
        .mem_bytes = cfg->media_cache_bytes,
        .disk_bytes = cfg->media_cache_disk_bytes,
        .max_file_bytes = cfg->media_max_file_bytes,
        .default_ttl_s = (unsigned)cfg->media_default_ttl_s,
    };
    sb_media_fetcher_t fetcher = {
        .fetch = media_fetch,
        .cancel = media_fetch_cancel,
        .ctx = s,
    };
    rc = sb_media_cache_new(sb_loop_uv(s->loop), &copts, &fetcher, &s->cache);
    if (rc != 0 && copts.dir) {
        sb_warn("media: cannot use %s for the audio cache (%s); keeping "
                "audio in memory only", copts.dir, sb_strerror(rc));
        copts.dir = NULL;
        rc = sb_media_cache_new(sb_loop_uv(s->loop), &copts, &fetcher, &s->cache);
    }
    if (rc == 0)
        sb_loop_add_closer(s->loop, "media-cache", close_cache, s);
    else
        sb_warn("media: no audio cache: %s", sb_strerror(rc));
    make_recordings_dir(cfg->recordings_dir);

    /* Speech input: without the model, Gather gathers digits only (and
     * says so in a Notification). */
    sb_media_asr_opts_t aopts = {
        .model = cfg->asr_model,
        .dict = cfg->asr_dict,
        .max_concurrent = cfg->asr_max_concurrent,
    };
    rc = sb_media_asr_new(sb_loop_uv(s->loop), &aopts, &s->asr);
    if (rc == 0)
        sb_loop_add_closer(s->loop, "asr", close_asr, s);
    else
        sb_warn("media: speech recognition is not available (%s: %s)",
                cfg->asr_model, sb_strerror(rc));
}

static void on_calls_closed(void *arg)
{
    server_t *s = arg;
    s->calls = NULL;
    sb_loop_closed(s->loop);
}

static void close_calls(void *arg)
{
    server_t *s = arg;
    if (s->api)
        sb_api_use_calls(s->api, NULL);
    sb_call_mgr_close(s->calls, on_calls_closed, s);
}

/* After the SIP agent: the manager takes its INVITE handler. Closed in
 * reverse: calls (hang-ups), then media, then SIP. */
static int start_calls(server_t *s, sb_sip_t *sip, char *err, size_t errlen)
{
    const sb_config_t *cfg = s->cfg;
    /* Both filled and checked by the config (media.bind_ip, media.ip). */
    const char *bind = cfg->media_bind_ip;
    sb_media_opts_t mopts = {
        .bind_ip = bind,
        .sdp_ip = cfg->media_ip,
        .port_min = cfg->media_port_min,
        .port_max = cfg->media_port_max,
        .timeout_s = cfg->media_timeout_s,
        .threads = cfg->media_threads,
    };
    sb_media_events_t mev = {
        .on_dtmf = on_media_dtmf,
        .on_dtmf_begin = on_media_dtmf_begin,
        .on_timeout = on_media_timeout,
        .arg = s,
    };
    int rc = sb_media_engine_new(sb_loop_uv(s->loop), &mopts, &mev, &s->media);
    if (rc != 0) {
        snprintf(err, errlen, "media: cannot start the media engine on %s ports "
                 "%d-%d: %s", bind, cfg->media_port_min, cfg->media_port_max,
                 sb_strerror(rc));
        return rc;
    }
    sb_loop_add_closer(s->loop, "media", close_media, s);
    start_playback(s);
    sb_call_deps_t deps = {
        .loop = sb_loop_uv(s->loop),
        .cfg = cfg,
        .store = s->store,
        .sip = sip,
        .media = s->media,
        .http = s->client,
        .cache = s->cache,
        .tts = s->tts,
        .asr = s->asr,
    };
    sb_store_conference_recover(s->store, sb_time_now_ms() / 1000, NULL);
    rc = sb_call_mgr_new(&deps, &s->calls);
    if (rc != 0) {
        snprintf(err, errlen, "call: cannot start the call manager: %s",
                 sb_strerror(rc));
        return rc;
    }
    sb_loop_add_closer(s->loop, "calls", close_calls, s);
    sb_call_mgr_set_runner(s->calls, &sb_lua_call_runner, s->lua);
    if (s->api)
        sb_api_use_calls(s->api, s->calls);
    if (s->api)
        sb_api_use_metrics(s->api, write_metrics, s);
    return 0;
}

/* ---- messaging: SMS over SIP MESSAGE and SMPP, e-mail over SMTP ---- */

static void on_msg_closed(void *arg)
{
    server_t *s = arg;
    s->msg = NULL;
    sb_loop_closed(s->loop);
}

static void close_msg(void *arg)
{
    server_t *s = arg;
    if (s->api)
        sb_api_use_messaging(s->api, NULL);
    if (s->lua)
        sb_lua_use_messaging(s->lua, NULL);
    sb_msg_close(s->msg, on_msg_closed, s);
}

/* After the calls (it uses the number matcher's tables and the SIP
 * agent); closed before them. */
static int start_messaging(server_t *s, sb_sip_t *sip, char *err, size_t errlen)
{
    sb_msg_deps_t deps = {
        .loop = sb_loop_uv(s->loop),
        .cfg = s->cfg,
        .store = s->store,
        .sip = sip,
        .http = s->client,
    };
    int rc = sb_msg_new(&deps, &s->msg);
    if (rc != 0) {
        snprintf(err, errlen, "msg: cannot start messaging: %s", sb_strerror(rc));
        return rc;
    }
    sb_loop_add_closer(s->loop, "messaging", close_msg, s);
    if (s->lua) {
        sb_lua_use_messaging(s->lua, s->msg);
        sb_msg_set_runner(s->msg, sb_lua_sms_runner, s->lua);
    }
    if (s->api)
        sb_api_use_messaging(s->api, s->msg);
    return 0;
}

/* ---- the operator console and what it shows of the server ---- */

static int each_call_row(sb_call_t *call, void *arg)
{
    sb_con_rows_t *out = arg;
    sb_call_info_t ci;
    sb_call_info(call, &ci);
    sb_con_rows_add(out);
    sb_con_rows_str(out, "sid", ci.call_sid);
    sb_con_rows_str(out, "from", ci.from);
    sb_con_rows_str(out, "to", ci.to);
    sb_con_rows_str(out, "direction", ci.direction);
    sb_con_rows_str(out, "state", ci.status);
    char day[20];
    time_t t0;
    if (ci.timestamp && snprintf(day, sizeof day, "%s", ci.timestamp) > 0 &&
        sb_time_parse_date(day, &t0) == 0)
        sb_con_rows_int(out, "duration", sb_time_now_ms() / 1000 - (int64_t)t0);
    sb_con_rows_str(out, "legs", ci.outbound_call_sid);
    return 0;
}

static int con_calls(void *arg, sb_con_rows_t *out)
{
    server_t *s = arg;
    if (s->calls)
        sb_call_mgr_each(s->calls, each_call_row, out);
    return 0;
}

static int each_conference_row(const sb_call_conf_info_t *c, void *arg)
{
    sb_con_rows_t *out = arg;
    sb_con_rows_add(out);
    sb_con_rows_str(out, "sid", c->sid);
    sb_con_rows_str(out, "name", c->name);
    sb_con_rows_str(out, "account_sid", c->account_sid);
    sb_con_rows_int(out, "members", c->members);
    sb_con_rows_int(out, "muted", c->muted);
    sb_con_rows_str(out, "started", c->started ? "yes" : "no");
    sb_con_rows_str(out, "recording", c->recording ? "yes" : "no");
    return 0;
}

static int con_conferences(void *arg, sb_con_rows_t *out)
{
    server_t *s = arg;
    if (s->calls)
        sb_call_mgr_each_conference(s->calls, each_conference_row, out);
    return 0;
}

static int con_call(void *arg, lua_State *L, const char *sid)
{
    server_t *s = arg;
    sb_call_t *call = s->calls ? sb_call_mgr_find(s->calls, sid) : NULL;
    if (call == NULL)
        return 0;
    sb_lua_call_push(s->lua, L, call, &sb_lua_real_call_ops);
    return 1;
}

static int con_call_counts(void *arg, int64_t *active, int64_t *total)
{
    server_t *s = arg;
    sb_call_stats_t st;
    if (s->calls == NULL)
        return SB_ESTATE;
    sb_call_mgr_stats(s->calls, &st);
    *active = st.live;
    *total = st.total;
    return 0;
}

static void on_console_closed(void *arg)
{
    server_t *s = arg;
    s->console = NULL;
    sb_loop_closed(s->loop);
}

static void close_console(void *arg)
{
    server_t *s = arg;
    sb_con_close(s->console, on_console_closed, s);
}

static int con_sip_trace(void *arg, int on)
{
    return sb_sip_trace(arg, on);
}

/* After Lua and the calls, so it closes before them. */
static int start_console(server_t *s, char *err, size_t errlen)
{
    sb_con_hooks_t hooks = {
        .calls = con_calls, .calls_arg = s,
        .conferences = con_conferences, .conferences_arg = s,
        .sip_trace = s->sip ? con_sip_trace : NULL, .sip_trace_arg = s->sip,
        .call = con_call, .call_arg = s,
        .call_counts = con_call_counts, .call_counts_arg = s,
    };
    sb_con_hooks_from_store(&hooks, s->store);
    sb_con_opts_t opts = {
        .path = s->cfg->console_socket,
        .lua = s->lua,
        .hooks = &hooks,
        .started_ms = s->started_ms,
    };
    int rc = sb_con_new(sb_loop_uv(s->loop), &opts, &s->console, err, errlen);
    if (rc == 0)
        sb_loop_add_closer(s->loop, "console", close_console, s);
    return rc;
}

static int start_metrics_http(server_t *s, char *err, size_t errlen);

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
        .max_connections = cfg->http_max_connections,
        .max_connections_per_address = cfg->http_max_connections_per_address,
        .cors = 1,
    };
    s->router = sb_http_router_new();
    int rc = sb_api_new(s->router, s->store, cfg, &s->api);
    if (rc != 0) {
        snprintf(err, errlen, "api: cannot mount the REST API: %s", sb_strerror(rc));
        sb_http_router_free(s->router);
        s->router = NULL;
        return rc;
    }
    sb_api_use_loop(s->api, sb_loop_uv(s->loop));
    sb_api_use_recordings(s->api, cfg->recordings_dir);
    if (s->lua)
        sb_api_use_plugins(s->api, sb_lua_serve_route, s->lua);
    rc = sb_http_server_new(sb_loop_uv(s->loop), &opts, sb_http_router_dispatch,
                                s->router, &s->http);
    if (rc == 0)
        rc = sb_http_server_listen(s->http);
    /* Registered even on failure: the server object is released by close. */
    if (s->http)
        sb_loop_add_closer(s->loop, "http", close_http, s);
    else {
        sb_api_free(s->api);
        s->api = NULL;
        sb_http_router_free(s->router);
        s->router = NULL;
    }
    if (rc != 0) {
        snprintf(err, errlen, "http: cannot listen on %s:%d: %s", cfg->http_host,
                 cfg->http_port, sb_strerror(rc));
        return rc;
    }
    return start_metrics_http(s, err, errlen);
}

/* metrics.listen: GET /metrics on a listener of its own. */
static int start_metrics_http(server_t *s, char *err, size_t errlen)
{
    const sb_config_t *cfg = s->cfg;
    if (cfg->metrics_host == NULL)
        return 0;
    sb_http_server_opts_t opts = {
        .host = cfg->metrics_host,
        .port = cfg->metrics_port,
        .max_header_bytes = cfg->http_max_header,
        .max_body_bytes = 4096,
        .idle_timeout_ms = cfg->http_idle_timeout_ms,
        .request_timeout_ms = cfg->http_request_timeout_ms,
        .max_connections = 64,
        .max_connections_per_address = 16,
    };
    s->metrics_router = sb_http_router_new();
    int rc = sb_api_mount_metrics(s->api, s->metrics_router);
    if (rc == 0)
        rc = sb_http_server_new(sb_loop_uv(s->loop), &opts, sb_http_router_dispatch,
                                s->metrics_router, &s->metrics_http);
    if (rc == 0)
        rc = sb_http_server_listen(s->metrics_http);
    if (s->metrics_http)
        sb_loop_add_closer(s->loop, "metrics-http", close_metrics_http, s);
    else {
        sb_http_router_free(s->metrics_router);
        s->metrics_router = NULL;
    }
    if (rc != 0)
        snprintf(err, errlen, "%s:%d: metrics.listen: cannot listen on %s:%d: %s",
                 cfg->path ? cfg->path : "(defaults)", cfg->metrics_listen_line,
                 cfg->metrics_host, cfg->metrics_port, sb_strerror(rc));
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
    s.started_ms = t0;

    sb_log_set_level((sb_log_level_t)cfg->log_level);
    if (cfg->log_format)
        sb_log_set_format(cfg->log_format);
    sb_metrics_enable(cfg->metrics_enabled);
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
    if (cfg->metrics_enabled && sb_metrics_lag_start(sb_loop_uv(s.loop)) == 0)
        sb_loop_add_closer(s.loop, "metrics-lag", close_lag, &s);

    sb_sip_t *sip = NULL;
    rc = start_store(&s, err, sizeof err);
    if (rc == 0)
        rc = start_lua(&s, datadir, err, sizeof err);
    if (rc == 0)
        rc = start_http(&s, err, sizeof err);
    if (rc == 0)
        rc = sb_sip_new(s.loop, cfg, &sip, err, sizeof err);
    /* The registrar keeps its bindings in the store (issue 5). */
    if (rc == 0 && (rc = sb_sip_registrar_start(sip, s.store)) != 0)
        snprintf(err, sizeof err, "sip: cannot start the registrar: %s",
                 sb_strerror(rc));
    s.sip = sip;
    if (rc == 0)
        rc = start_calls(&s, sip, err, sizeof err);
    if (rc == 0)
        rc = start_messaging(&s, sip, err, sizeof err);
    if (rc == 0)
        rc = start_console(&s, err, sizeof err);
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
