/*
 * config.c: evaluates the configuration file and fills sb_config_t.
 *
 * The file is a Lua chunk run in an empty environment: no standard library,
 * an instruction budget, and a metatable that refuses unknown top-level
 * names on the spot (so Lua reports their line). Once the chunk has run,
 * each section table is checked against one schema table below, which is
 * the single list of keys, types and bounds. For errors found in that pass,
 * the line is recovered by scanning the source for the key (scan.c), since
 * a table constructor's keys carry no line information at run time.
 *
 * Entry points: sb_config_defaults, sb_config_load, sb_config_free.
 */
#include "config.h"
#include "config_int.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_FILE_SIZE (1024 * 1024)
#define INSTRUCTION_BUDGET 10000000

typedef enum {
    T_STRING,       /* char * */
    T_INT,          /* int, within [min, max] */
    T_SIZE,         /* size_t, within [min, max] */
    T_LONG,         /* long, within [min, max] */
    T_BOOL,         /* int 0/1 */
    T_LISTEN_LIST,  /* sip.listen */
    T_HOSTPORT,     /* http.listen: host + port fields */
    T_PATH_LIST,    /* plugins.paths */
    T_NET_LIST,     /* sip.trusted: "IP" or "IP/prefix" strings */
    T_OPTIONS,      /* plugins.options: serialized table */
    T_LOGLEVEL,     /* log.level */
    T_SIP_URI       /* a string starting with sip: or sips: */
} keytype_t;

typedef struct {
    const char *section;
    const char *key;
    keytype_t type;
    size_t offset;
    long long min, max;
    const char *help;
} keydef_t;

#define OFF(f) offsetof(sb_config_t, f)

/* The one list of configuration keys. README.md documents the same keys. */
static const keydef_t schema[] = {
    {"sip", "listen", T_LISTEN_LIST, 0, 0, 0, "list of \"udp:IP:PORT\" or \"tcp:IP:PORT\""},
    {"sip", "domain", T_STRING, OFF(sip_domain), 0, 0, "SIP domain"},
    {"sip", "outbound_proxy", T_SIP_URI, OFF(sip_outbound_proxy), 0, 0, "SIP URI"},
    {"sip", "min_expires", T_INT, OFF(sip_min_expires), 1, 86400, "seconds"},
    {"sip", "max_expires", T_INT, OFF(sip_max_expires), 1, 604800, "seconds"},
    {"sip", "max_contacts", T_INT, OFF(sip_max_contacts), 1, 1000, "contacts per login"},
    {"sip", "trusted", T_NET_LIST, 0, 0, 0, "list of \"IP\" or \"IP/prefix\""},
    {"http", "listen", T_HOSTPORT, 0, 0, 0, "\"IP:PORT\""},
    {"http", "max_body", T_SIZE, OFF(http_max_body), 1024, 1LL << 30, "bytes"},
    {"http", "max_header", T_SIZE, OFF(http_max_header), 1024, 1LL << 20, "bytes"},
    {"http", "idle_timeout", T_INT, OFF(http_idle_timeout_ms), 100, 3600000, "milliseconds"},
    {"http", "request_timeout", T_INT, OFF(http_request_timeout_ms), 100, 3600000, "milliseconds"},
    {"http", "max_connections", T_INT, OFF(http_max_connections), 1, 1000000, "connections"},
    {"http", "max_connections_per_address", T_INT, OFF(http_max_connections_per_address), 1, 1000000, "connections"},
    {"store", "path", T_STRING, OFF(store_path), 0, 0, "database file"},
    {"plugins", "paths", T_PATH_LIST, 0, 0, 0, "list of folders"},
    {"plugins", "options", T_OPTIONS, 0, 0, 0, "table per plugin name"},
    {"lua", "memory_limit", T_SIZE, OFF(lua_memory_limit), 1 << 20, 1LL << 40, "bytes"},
    {"lua", "instruction_limit", T_LONG, OFF(lua_instruction_limit), 1000, 1LL << 40, "instructions"},
    {"lua", "time_limit", T_LONG, OFF(lua_time_limit_ms), 10, 3600000, "milliseconds"},
    {"console", "socket", T_STRING, OFF(console_socket), 0, 0, "Unix socket path"},
    {"admin", "email", T_STRING, OFF(admin_email), 0, 0, "e-mail address"},
    {"admin", "password", T_STRING, OFF(admin_password), 0, 0, "password"},
    {"log", "level", T_LOGLEVEL, 0, 0, 0, "error, warn, info, debug or trace"},
    {"log", "file", T_STRING, OFF(log_file), 0, 0, "file path"},
    {"log", "format", T_STRING, OFF(log_format), 0, 0, "\"text\" or \"json\""},
    {"refer", "notify", T_BOOL, OFF(refer_notify), 0, 1, "boolean"},
    {"calls", "max_concurrent", T_INT, OFF(calls_max_concurrent), 0, 1000000,
     "live calls, 0 for no limit"},
    {"calls", "max_rate", T_INT, OFF(calls_max_rate), 0, 1000000,
     "new inbound calls per second, 0 for no limit"},
    {"calls", "max_load", T_INT, OFF(calls_max_load), 0, 99,
     "percent of the event loop busy, 0 for no limit"},
    {"calls", "api_rate", T_INT, OFF(calls_api_rate), 0, 1000000,
     "calls an account may create over REST per second, 0 for no limit"},
    {"metrics", "enabled", T_BOOL, OFF(metrics_enabled), 0, 1, "boolean"},
    {"metrics", "auth", T_STRING, OFF(metrics_auth), 0, 0, "user:password"},
    {"metrics", "listen", T_HOSTPORT, 0, 0, 0, "\"IP:PORT\""},
    {"media", "port_min", T_INT, OFF(media_port_min), 1024, 65534, "UDP port"},
    {"media", "port_max", T_INT, OFF(media_port_max), 1025, 65535, "UDP port"},
    {"media", "timeout", T_INT, OFF(media_timeout_s), 1, 86400, "seconds"},
    {"media", "ip", T_STRING, OFF(media_ip), 0, 0, "IP address for SDP"},
    {"media", "bind_ip", T_STRING, OFF(media_bind_ip), 0, 0,
     "IP address RTP sockets bind to"},
    {"media", "threads", T_INT, OFF(media_threads), 0, 64,
     "media worker threads, 0 to run media on the main loop"},
    {"media", "cache_dir", T_STRING, OFF(media_cache_dir), 0, 0,
     "folder for the audio cache"},
    {"media", "cache_bytes", T_SIZE, OFF(media_cache_bytes), 1 << 20, 1LL << 40,
     "bytes of decoded audio kept in memory"},
    {"media", "cache_disk_bytes", T_SIZE, OFF(media_cache_disk_bytes), 1 << 20,
     1LL << 44, "bytes of audio files kept on disk"},
    {"media", "max_file_bytes", T_SIZE, OFF(media_max_file_bytes), 1024, 1LL << 30,
     "bytes of one audio download"},
    {"media", "root", T_STRING, OFF(media_root), 0, 0,
     "folder file:// Play URLs may read"},
    {"media", "default_ttl", T_INT, OFF(media_default_ttl_s), 0, 31536000,
     "seconds"},
    {"tts", "cache_bytes", T_SIZE, OFF(tts_cache_bytes), 1 << 20, 1LL << 40,
     "bytes of synthesized speech kept in memory"},
    {"tts", "max_chars", T_SIZE, OFF(tts_max_chars), 1, 1000000,
     "characters of one text"},
    {"recordings", "dir", T_STRING, OFF(recordings_dir), 0, 0,
     "folder for recordings"},
    {"recordings", "media_auth", T_BOOL, OFF(recordings_media_auth), 0, 1,
     "boolean"},
    {"recordings", "max_concurrent", T_INT, OFF(recordings_max_concurrent), 0,
     1000000, "recordings at once, 0 for no limit"},
    {"numbers", "pool", T_STRING, OFF(numbers_pool), 0, 0,
     "file of the numbers offered for sale"},
    {"asr", "max_concurrent", T_INT, OFF(asr_max_concurrent), 1, 256,
     "speech recognizers running at once"},
    {"asr", "model", T_STRING, OFF(asr_model), 0, 0,
     "pocketsphinx acoustic model folder"},
    {"asr", "dict", T_STRING, OFF(asr_dict), 0, 0,
     "pronunciation dictionary file"},
    {"sms", "max_length", T_INT, OFF(sms_max_length), 1, 10000,
     "characters of one message body"},
    {"sms", "smpp_host", T_STRING, OFF(sms_smpp_host), 0, 0, "SMSC host"},
    {"sms", "smpp_port", T_INT, OFF(sms_smpp_port), 1, 65535, "TCP port"},
    {"sms", "smpp_system_id", T_STRING, OFF(sms_smpp_system_id), 0, 0,
     "SMPP system_id"},
    {"sms", "smpp_password", T_STRING, OFF(sms_smpp_password), 0, 0,
     "SMPP password"},
    {"sms", "smpp_system_type", T_STRING, OFF(sms_smpp_system_type), 0, 0,
     "SMPP system_type"},
    {"sms", "smpp_enquire_link", T_INT, OFF(sms_smpp_enquire_link), 1, 3600,
     "seconds"},
    {"sms", "smpp_reconnect_max", T_INT, OFF(sms_smpp_reconnect_max), 1, 3600,
     "seconds"},
    {"email", "smtp_url", T_STRING, OFF(email_smtp_url), 0, 0,
     "smtp:// or smtps:// URL"},
    {"email", "user", T_STRING, OFF(email_user), 0, 0, "SMTP user"},
    {"email", "password", T_STRING, OFF(email_password), 0, 0, "SMTP password"},
    {"email", "from", T_STRING, OFF(email_from), 0, 0, "default sender address"},
};

static const char *const sections[] = {"sip", "http", "store", "plugins", "lua",
                                       "console", "admin", "log", "refer", "calls",
                                       "media", "tts", "recordings", "asr", "metrics",
                                       "sms", "email", "numbers"};

const char *sb_config_transport_name(sb_transport_t t)
{
    return t == SB_TRANSPORT_TCP ? "tcp" : "udp";
}

int sb_config_defaults(sb_config_t *cfg, const char *default_plugins)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->sip_listen[0] = (sb_listen_t){SB_TRANSPORT_UDP, "127.0.0.1", 5080};
    cfg->sip_listen[1] = (sb_listen_t){SB_TRANSPORT_TCP, "127.0.0.1", 5080};
    cfg->sip_listen_count = 2;
    cfg->sip_min_expires = 60;
    cfg->sip_max_expires = 3600;
    cfg->sip_max_contacts = 10;
    cfg->sms_max_length = 1600;
    cfg->sms_smpp_port = 2775;
    cfg->sms_smpp_enquire_link = 30;
    cfg->sms_smpp_reconnect_max = 30;
    cfg->http_host = sb_xstrdup("127.0.0.1");
    cfg->http_port = 8080;
    cfg->http_max_body = 1024 * 1024;
    cfg->http_max_header = 16 * 1024;
    cfg->http_idle_timeout_ms = 60000;
    cfg->http_request_timeout_ms = 10000;
    cfg->http_max_connections = 1024;
    cfg->http_max_connections_per_address = 64;
    cfg->store_path = sb_xstrdup("./switchboard.db");
    if (default_plugins) {
        cfg->plugin_paths[0] = sb_xstrdup(default_plugins);
        cfg->plugin_path_count = 1;
    }
    cfg->plugin_options = sb_xstrdup("{}");
    cfg->lua_memory_limit = 256u * 1024 * 1024;
    cfg->lua_instruction_limit = 10000000;
    cfg->lua_time_limit_ms = 2000;
    cfg->admin_email = sb_xstrdup("administrator@company.com");
    cfg->log_level = SB_LOG_INFO;
    cfg->refer_notify = 1;
    cfg->calls_api_rate = 50;
    cfg->metrics_enabled = 1;
    cfg->media_port_min = 20000;
    cfg->media_port_max = 30000;
    cfg->media_timeout_s = 60;
    cfg->media_threads = 1;
    cfg->media_cache_bytes = 256u * 1024 * 1024;
    cfg->media_cache_disk_bytes = 1024u * 1024 * 1024;
    cfg->media_max_file_bytes = 32u * 1024 * 1024;
    cfg->tts_cache_bytes = 64u * 1024 * 1024;
    cfg->tts_max_chars = 4096;
    cfg->asr_max_concurrent = 2;
    cfg->asr_model = sb_xstrdup("/usr/share/pocketsphinx/model/en-us/en-us");
    cfg->asr_dict = sb_xstrdup("/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict");
    sb__config_finish(cfg);
    return 0;
}

/* Returns AF_INET or AF_INET6 when s is an address literal, else 0. */
static int ip_family(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, s, buf) == 1)
        return AF_INET;
    if (inet_pton(AF_INET6, s, buf) == 1)
        return AF_INET6;
    return 0;
}

/* Returns 1 for 0.0.0.0 and ::. */
static int ip_unspecified(const char *s)
{
    unsigned char buf[sizeof(struct in6_addr)] = {0};
    static const unsigned char zero[sizeof(struct in6_addr)];
    int af = ip_family(s);
    if (af == 0 || inet_pton(af, s, buf) != 1)
        return 0;
    return memcmp(buf, zero, af == AF_INET ? 4 : 16) == 0;
}

/* Fills the values derived from others when the file left them out. */
void sb__config_finish(sb_config_t *cfg)
{
    if (cfg->sip_domain == NULL && cfg->sip_listen_count > 0)
        cfg->sip_domain = sb_xstrdup(cfg->sip_listen[0].host);
    if (cfg->media_bind_ip == NULL && cfg->sip_listen_count > 0)
        cfg->media_bind_ip = sb_xstrdup(cfg->sip_listen[0].host);
    if (cfg->media_ip == NULL && cfg->sip_listen_count > 0) {
        /* Phones cannot send to 0.0.0.0: a wildcard bind leaves media.ip
         * unset, and cross_checks asks for it. */
        const char *h = cfg->sip_listen[0].host;
        if (ip_family(h) != 0 && !ip_unspecified(h))
            cfg->media_ip = sb_xstrdup(h);
    }
    if (cfg->console_socket == NULL) {
        size_t n = strlen(cfg->store_path);
        if (n > 3 && strcmp(cfg->store_path + n - 3, ".db") == 0)
            n -= 3;
        cfg->console_socket = sb_xasprintf("%.*s.sock", (int)n, cfg->store_path);
    }
    if (cfg->media_cache_dir == NULL) {
        /* The folder "media-cache" next to the database. */
        const char *slash = strrchr(cfg->store_path, '/');
        if (slash == NULL)
            cfg->media_cache_dir = sb_xstrdup("media-cache");
        else
            cfg->media_cache_dir = sb_xasprintf("%.*s/media-cache",
                                                (int)(slash - cfg->store_path),
                                                cfg->store_path);
    }
    if (cfg->recordings_dir == NULL) {
        /* The folder "recordings" next to the database. */
        const char *slash = strrchr(cfg->store_path, '/');
        if (slash == NULL)
            cfg->recordings_dir = sb_xstrdup("recordings");
        else
            cfg->recordings_dir = sb_xasprintf("%.*s/recordings",
                                               (int)(slash - cfg->store_path),
                                               cfg->store_path);
    }
}

void sb_config_free(sb_config_t *cfg)
{
    free(cfg->path);
    free(cfg->sip_domain);
    free(cfg->sip_outbound_proxy);
    free(cfg->http_host);
    free(cfg->store_path);
    for (int i = 0; i < cfg->plugin_path_count; i++)
        free(cfg->plugin_paths[i]);
    free(cfg->plugin_options);
    free(cfg->console_socket);
    free(cfg->admin_email);
    free(cfg->admin_password);
    free(cfg->metrics_auth);
    free(cfg->log_file);
    free(cfg->log_format);
    free(cfg->metrics_host);
    free(cfg->media_ip);
    free(cfg->media_bind_ip);
    free(cfg->media_cache_dir);
    free(cfg->media_root);
    free(cfg->recordings_dir);
    free(cfg->numbers_pool);
    free(cfg->asr_model);
    free(cfg->asr_dict);
    free(cfg->sms_smpp_host);
    free(cfg->sms_smpp_system_id);
    free(cfg->sms_smpp_password);
    free(cfg->sms_smpp_system_type);
    free(cfg->email_smtp_url);
    free(cfg->email_user);
    free(cfg->email_password);
    free(cfg->email_from);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- evaluation ---------------------------------------------------------- */

typedef struct {
    const char *path;
    const char *src;
    size_t srclen;
    char *err;
    size_t errlen;
} ctx_t;

/* Writes "FILE:LINE: section.key: message" (LINE found by scanning). */
static int fail_key(ctx_t *c, const char *section, const char *key,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail_key(ctx_t *c, const char *section, const char *key,
                    const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = sb__config_find_line(c->src, c->srclen, section, key);
    if (key)
        snprintf(c->err, c->errlen, "%s:%d: %s.%s: %s", c->path, line, section,
                 key, msg);
    else
        snprintf(c->err, c->errlen, "%s:%d: %s: %s", c->path, line, section, msg);
    return SB_ECONFIG;
}

static int is_section(const char *name)
{
    for (size_t i = 0; i < SB_COUNTOF(sections); i++)
        if (strcmp(sections[i], name) == 0)
            return 1;
    return 0;
}

static const keydef_t *find_key(const char *section, const char *key)
{
    for (size_t i = 0; i < SB_COUNTOF(schema); i++)
        if (strcmp(schema[i].section, section) == 0 && strcmp(schema[i].key, key) == 0)
            return &schema[i];
    return NULL;
}

/* env.__newindex: only section names may be assigned at top level. */
static int env_newindex(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    if (lua_type(L, 2) != LUA_TSTRING || !is_section(k))
        return luaL_error(L, "unknown key '%s'", k ? k : luaL_typename(L, 2));
    if (!lua_istable(L, 3))
        return luaL_error(L, "%s: expected a table, got %s", k, luaL_typename(L, 3));
    lua_rawset(L, 1);
    return 0;
}

/* env.__index: reading an undefined name is an error, not a silent nil. */
static int env_index(lua_State *L)
{
    const char *k = lua_tostring(L, 2);
    return luaL_error(L, "unknown name '%s'", k ? k : "?");
}

/* section.__newindex: dotted assignment (sip.listen = ...) of known keys. */
static int section_newindex(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "section");
    const char *section = lua_tostring(L, -1);
    const char *k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : NULL;
    if (k == NULL || find_key(section, k) == NULL)
        return luaL_error(L, "unknown key '%s.%s'", section,
                          k ? k : luaL_typename(L, 2));
    lua_pop(L, 2);
    lua_rawset(L, 1);
    return 0;
}

static void on_budget(lua_State *L, lua_Debug *ar)
{
    lua_getinfo(L, "Sl", ar);
    luaL_error(L, "%s:%d: configuration runs too long (more than %d instructions)",
               ar->short_src, ar->currentline, INSTRUCTION_BUDGET);
}

static int read_file(const char *path, char **out, size_t *outlen, char *err,
                     size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return SB_EIO;
    }
    char *buf = sb_xmalloc(MAX_FILE_SIZE + 1);
    size_t n = fread(buf, 1, MAX_FILE_SIZE + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || n > MAX_FILE_SIZE) {
        snprintf(err, errlen, "%s: %s", path,
                 bad ? "read error" : "file larger than 1 MiB");
        free(buf);
        return SB_EIO;
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    return 0;
}

/* ---- conversion of one value --------------------------------------------- */

static int get_integer(lua_State *L, int idx, long long *out)
{
    int isnum = 0;
    if (lua_type(L, idx) != LUA_TNUMBER)
        return -1;
    lua_Integer v = lua_tointegerx(L, idx, &isnum);
    if (!isnum)
        return -1;
    *out = v;
    return 0;
}

static int parse_port(const char *s, int *port)
{
    char *end;
    if (*s == '\0')
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < 1 || v > 65535)
        return -1;
    *port = (int)v;
    return 0;
}

/* "HOST:PORT" or "[V6]:PORT" into host (size hostlen) and port. */
int sb__config_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
    const char *colon;
    const char *h = s;
    size_t hl;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        h = s + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - s);
    }
    if (hl == 0 || hl >= hostlen)
        return -1;
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (parse_port(colon + 1, port) != 0)
        return -2;
    /* The host must be an IP literal: we bind to it. */
    unsigned char tmp[16];
    if (uv_inet_pton(AF_INET, host, tmp) != 0 && uv_inet_pton(AF_INET6, host, tmp) != 0)
        return -3;
    return 0;
}

static int conv_listen(ctx_t *c, lua_State *L, sb_config_t *cfg, const keydef_t *k)
{
    if (!lua_istable(L, -1))
        return fail_key(c, k->section, k->key, "expected %s, got %s", k->help,
                        luaL_typename(L, -1));
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n < 1 || n > SB_CONFIG_MAX_LISTEN)
        return fail_key(c, k->section, k->key, "expected 1 to %d addresses",
                        SB_CONFIG_MAX_LISTEN);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        sb_listen_t *l = &cfg->sip_listen[i - 1];
        if (s == NULL)
            return fail_key(c, k->section, k->key, "entry %lld: expected %s",
                            (long long)i, k->help);
        if (strncmp(s, "udp:", 4) == 0)
            l->transport = SB_TRANSPORT_UDP;
        else if (strncmp(s, "tcp:", 4) == 0)
            l->transport = SB_TRANSPORT_TCP;
        else
            return fail_key(c, k->section, k->key,
                            "'%s': transport must be udp or tcp", s);
        int rc = sb__config_split_hostport(s + 4, l->host, sizeof l->host, &l->port);
        if (rc == -2)
            return fail_key(c, k->section, k->key,
                            "'%s': port must be a number from 1 to 65535", s);
        if (rc == -3)
            return fail_key(c, k->section, k->key,
                            "'%s': host must be an IP address", s);
        if (rc != 0)
            return fail_key(c, k->section, k->key, "'%s': expected %s", s, k->help);
        lua_pop(L, 1);
    }
    cfg->sip_listen_count = (int)n;
    return 0;
}

static int conv_paths(ctx_t *c, lua_State *L, sb_config_t *cfg, const keydef_t *k)
{
    if (lua_type(L, -1) == LUA_TSTRING) {
        /* A single folder is accepted as a one-element list. */
        for (int i = 0; i < cfg->plugin_path_count; i++)
            free(cfg->plugin_paths[i]);
        cfg->plugin_paths[0] = sb_xstrdup(lua_tostring(L, -1));
        cfg->plugin_path_count = 1;
        return 0;
    }
    if (!lua_istable(L, -1))
        return fail_key(c, k->section, k->key, "expected %s, got %s", k->help,
                        luaL_typename(L, -1));
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    if (n > SB_CONFIG_MAX_PATHS)
        return fail_key(c, k->section, k->key, "at most %d folders",
                        SB_CONFIG_MAX_PATHS);
    for (int i = 0; i < cfg->plugin_path_count; i++)
        free(cfg->plugin_paths[i]);
    cfg->plugin_path_count = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        if (lua_type(L, -1) != LUA_TSTRING)
            return fail_key(c, k->section, k->key, "entry %lld: expected a string",
                            (long long)i);
        cfg->plugin_paths[cfg->plugin_path_count++] = sb_xstrdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return 0;
}

/* "IP" or "IP/prefix" into b. Returns 0 or -1. */
static int parse_netblock(const char *s, sb_netblock_t *b)
{
    char host[64];
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (n == 0 || n >= sizeof host)
        return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    memset(b, 0, sizeof *b);
    int max;
    if (uv_inet_pton(AF_INET, host, b->addr) == 0)
        b->family = AF_INET, max = 32;
    else if (uv_inet_pton(AF_INET6, host, b->addr) == 0)
        b->family = AF_INET6, max = 128;
    else
        return -1;
    b->prefix = max;
    if (slash) {
        const char *p = slash + 1;
        if (*p == '\0' || strlen(p) > 3 || strspn(p, "0123456789") != strlen(p))
            return -1;
        b->prefix = atoi(p);
        if (b->prefix > max)
            return -1;
    }
    return 0;
}

static int conv_netlist(ctx_t *c, lua_State *L, sb_config_t *cfg, const keydef_t *k)
{
    int single = lua_type(L, -1) == LUA_TSTRING;
    if (!single && !lua_istable(L, -1))
        return fail_key(c, k->section, k->key, "expected %s, got %s", k->help,
                        luaL_typename(L, -1));
    lua_Integer n = single ? 1 : (lua_Integer)lua_rawlen(L, -1);
    if (n > SB_CONFIG_MAX_TRUSTED)
        return fail_key(c, k->section, k->key, "at most %d entries",
                        SB_CONFIG_MAX_TRUSTED);
    for (lua_Integer i = 1; i <= n; i++) {
        if (!single)
            lua_rawgeti(L, -1, i);
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (s == NULL)
            return fail_key(c, k->section, k->key, "entry %lld: expected %s",
                            (long long)i, k->help);
        if (parse_netblock(s, &cfg->sip_trusted[i - 1]) != 0)
            return fail_key(c, k->section, k->key,
                            "'%s' is not an IP address or IP/prefix", s);
        if (!single)
            lua_pop(L, 1);
    }
    cfg->sip_trusted_count = (int)n;
    return 0;
}

int sb_config_trusted(const sb_config_t *cfg, const char *ip)
{
    unsigned char a[16];
    int family;
    if (ip == NULL)
        return 0;
    if (uv_inet_pton(AF_INET, ip, a) == 0)
        family = AF_INET;
    else if (uv_inet_pton(AF_INET6, ip, a) == 0)
        family = AF_INET6;
    else
        return 0;
    for (int i = 0; i < cfg->sip_trusted_count; i++) {
        const sb_netblock_t *b = &cfg->sip_trusted[i];
        if (b->family != family)
            continue;
        int bits = b->prefix, whole = bits / 8, rest = bits % 8;
        if (memcmp(a, b->addr, (size_t)whole) != 0)
            continue;
        if (rest && ((a[whole] ^ b->addr[whole]) & (0xff << (8 - rest)) & 0xff))
            continue;
        return 1;
    }
    return 0;
}

static int conv_value(ctx_t *c, lua_State *L, sb_config_t *cfg, const keydef_t *k)
{
    char *base = (char *)cfg;
    long long v;

    switch (k->type) {
    case T_STRING:
    case T_SIP_URI: {
        if (lua_type(L, -1) != LUA_TSTRING)
            return fail_key(c, k->section, k->key, "expected a string (%s), got %s",
                            k->help, luaL_typename(L, -1));
        const char *s = lua_tostring(L, -1);
        if (*s == '\0')
            return fail_key(c, k->section, k->key, "must not be empty");
        if (k->type == T_SIP_URI && strncmp(s, "sip:", 4) != 0 &&
            strncmp(s, "sips:", 5) != 0)
            return fail_key(c, k->section, k->key, "'%s' is not a SIP URI", s);
        if (k->offset == OFF(log_format) && strcmp(s, "text") != 0 && strcmp(s, "json") != 0)
            return fail_key(c, k->section, k->key, "expected %s, got '%s'", k->help, s);
        char **slot = (char **)(base + k->offset);
        free(*slot);
        *slot = sb_xstrdup(s);
        return 0;
    }
    case T_INT:
    case T_SIZE:
    case T_LONG:
        if (get_integer(L, -1, &v) != 0)
            return fail_key(c, k->section, k->key, "expected an integer (%s), got %s",
                            k->help, lua_type(L, -1) == LUA_TNUMBER ? "a fraction"
                                                                    : luaL_typename(L, -1));
        if (v < k->min || v > k->max)
            return fail_key(c, k->section, k->key, "%lld is out of range %lld..%lld",
                            v, k->min, k->max);
        if (k->type == T_INT)
            *(int *)(base + k->offset) = (int)v;
        else if (k->type == T_SIZE)
            *(size_t *)(base + k->offset) = (size_t)v;
        else
            *(long *)(base + k->offset) = (long)v;
        return 0;
    case T_BOOL:
        if (!lua_isboolean(L, -1))
            return fail_key(c, k->section, k->key, "expected a boolean, got %s",
                            luaL_typename(L, -1));
        *(int *)(base + k->offset) = lua_toboolean(L, -1);
        return 0;
    case T_LISTEN_LIST:
        return conv_listen(c, L, cfg, k);
    case T_PATH_LIST:
        return conv_paths(c, L, cfg, k);
    case T_NET_LIST:
        return conv_netlist(c, L, cfg, k);
    case T_HOSTPORT: {
        char host[64];
        int port, rc;
        if (lua_type(L, -1) != LUA_TSTRING)
            return fail_key(c, k->section, k->key, "expected %s, got %s", k->help,
                            luaL_typename(L, -1));
        const char *s = lua_tostring(L, -1);
        rc = sb__config_split_hostport(s, host, sizeof host, &port);
        if (rc == -2)
            return fail_key(c, k->section, k->key,
                            "'%s': port must be a number from 1 to 65535", s);
        if (rc == -3)
            return fail_key(c, k->section, k->key, "'%s': host must be an IP address", s);
        if (rc != 0)
            return fail_key(c, k->section, k->key, "'%s': expected %s", s, k->help);
        if (strcmp(k->section, "metrics") == 0) {
            free(cfg->metrics_host);
            cfg->metrics_host = sb_xstrdup(host);
            cfg->metrics_port = port;
            cfg->metrics_listen_line = sb__config_find_line(c->src, c->srclen, "metrics",
                                                            "listen");
            return 0;
        }
        free(cfg->http_host);
        cfg->http_host = sb_xstrdup(host);
        cfg->http_port = port;
        return 0;
    }
    case T_LOGLEVEL: {
        sb_log_level_t lvl;
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (s == NULL || sb_log_parse_level(s, &lvl) != 0)
            return fail_key(c, k->section, k->key, "expected %s", k->help);
        cfg->log_level = (int)lvl;
        return 0;
    }
    case T_OPTIONS: {
        if (!lua_istable(L, -1))
            return fail_key(c, k->section, k->key, "expected a table, got %s",
                            luaL_typename(L, -1));
        sb_buf_t b = SB_BUF_INIT;
        char why[160];
        if (sb__config_serialize(L, lua_gettop(L), &b, why, sizeof why) != 0) {
            sb_buf_free(&b);
            return fail_key(c, k->section, k->key, "%s", why);
        }
        free(cfg->plugin_options);
        cfg->plugin_options = sb_buf_steal(&b);
        return 0;
    }
    }
    return SB_EINVAL;
}

static int check_section(ctx_t *c, lua_State *L, sb_config_t *cfg, const char *section)
{
    /* stack: env */
    lua_pushstring(L, section);
    lua_rawget(L, -2);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (!lua_istable(L, -1))
        return fail_key(c, section, NULL, "expected a table, got %s",
                        luaL_typename(L, -1));
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        /* stack: env, section, key, value */
        if (lua_type(L, -2) != LUA_TSTRING)
            return fail_key(c, section, NULL, "keys must be names, got %s",
                            luaL_typename(L, -2));
        const char *key = lua_tostring(L, -2);
        const keydef_t *k = find_key(section, key);
        if (k == NULL)
            return fail_key(c, section, key, "unknown key");
        int top = lua_gettop(L);
        int rc = conv_value(c, L, cfg, k);
        if (rc != 0)
            return rc;
        lua_settop(L, top - 1);             /* keep the key for lua_next */
    }
    lua_pop(L, 1);
    return 0;
}

static int cross_checks(ctx_t *c, sb_config_t *cfg)
{
    /* sofia-sip's nua binds one SIP URI, so the transports share an address. */
    for (int i = 1; i < cfg->sip_listen_count; i++) {
        const sb_listen_t *a = &cfg->sip_listen[0], *b = &cfg->sip_listen[i];
        if (strcmp(a->host, b->host) != 0 || a->port != b->port)
            return fail_key(c, "sip", "listen", "all entries must use the same "
                            "IP and port (%s:%d differs from %s:%d)", b->host,
                            b->port, a->host, a->port);
        for (int j = 0; j < i; j++)
            if (cfg->sip_listen[j].transport == b->transport)
                return fail_key(c, "sip", "listen", "%s listed twice",
                                sb_config_transport_name(b->transport));
    }
    if (cfg->media_port_min >= cfg->media_port_max)
        return fail_key(c, "media", "port_max", "must be greater than media.port_min");
    if (cfg->media_bind_ip && ip_family(cfg->media_bind_ip) == 0)
        return fail_key(c, "media", "bind_ip", "'%s' is not an IPv4 or IPv6 address",
                        cfg->media_bind_ip);
    if (cfg->media_ip == NULL && cfg->sip_listen_count > 0)
        return fail_key(c, "sip", "listen", "binds %s: set media.ip to the address "
                        "phones send RTP to", cfg->sip_listen[0].host);
    if (cfg->media_ip) {
        if (ip_family(cfg->media_ip) == 0)
            return fail_key(c, "media", "ip", "'%s' is not an IPv4 or IPv6 address",
                            cfg->media_ip);
        if (ip_unspecified(cfg->media_ip))
            return fail_key(c, "media", "ip", "must be an address phones can "
                            "reach, not %s", cfg->media_ip);
        if (cfg->media_bind_ip &&
            ip_family(cfg->media_ip) != ip_family(cfg->media_bind_ip))
            return fail_key(c, "media", "ip", "%s and media.bind_ip %s are not of "
                            "the same IP family", cfg->media_ip, cfg->media_bind_ip);
    }
    if (cfg->media_root && cfg->media_root[0] != '/')
        return fail_key(c, "media", "root", "'%s' is not an absolute path",
                        cfg->media_root);
    if (cfg->sip_min_expires > cfg->sip_max_expires)
        return fail_key(c, "sip", "max_expires", "must not be less than sip.min_expires");
    if (cfg->console_socket && strlen(cfg->console_socket) >= 100)
        return fail_key(c, "console", "socket", "path longer than 99 bytes");
    if (cfg->admin_password && strlen(cfg->admin_password) < 8)
        return fail_key(c, "admin", "password", "must be at least 8 characters");
    if (cfg->admin_email && strchr(cfg->admin_email, '@') == NULL)
        return fail_key(c, "admin", "email", "'%s' is not an e-mail address",
                        cfg->admin_email);
    return 0;
}

/* Lua shortens chunk names to 60 bytes in messages ("...tail/conf.lua:3:
 * msg"); put the whole path back in front of ":LINE:". */
static void lua_error_line(const char *path, const char *msg, char *errbuf,
                           size_t errlen)
{
    const char *p = msg;
    while ((p = strchr(p, ':')) != NULL) {
        const char *q = p + 1;
        while (*q >= '0' && *q <= '9')
            q++;
        if (q > p + 1 && *q == ':') {
            snprintf(errbuf, errlen, "%s%s", path, p);
            return;
        }
        p++;
    }
    snprintf(errbuf, errlen, "%s: %s", path, msg);
}

int sb_config_load(sb_config_t *cfg, const char *path, char *errbuf, size_t errlen)
{
    char *src = NULL;
    size_t srclen = 0;
    int rc = read_file(path, &src, &srclen, errbuf, errlen);
    if (rc != 0)
        return rc;

    ctx_t c = {path, src, srclen, errbuf, errlen};
    /* Derived values are computed again once the file has run. */
    free(cfg->sip_domain);
    free(cfg->media_ip);
    free(cfg->media_bind_ip);
    free(cfg->console_socket);
    free(cfg->media_cache_dir);
    free(cfg->recordings_dir);
    cfg->sip_domain = cfg->media_ip = cfg->media_bind_ip = cfg->console_socket = NULL;
    cfg->media_cache_dir = cfg->recordings_dir = NULL;
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        free(src);
        snprintf(errbuf, errlen, "%s: out of memory", path);
        return SB_ENOMEM;
    }
    char *chunkname = sb_xasprintf("@%s", path);
    if (luaL_loadbufferx(L, src, srclen, chunkname, "t") != LUA_OK) {
        lua_error_line(path, lua_tostring(L, -1), errbuf, errlen);
        rc = SB_ECONFIG;
        goto out;
    }
    /* stack: chunk */
    lua_newtable(L);                        /* env */
    for (size_t i = 0; i < SB_COUNTOF(sections); i++) {
        lua_newtable(L);                    /* section */
        lua_newtable(L);                    /* its metatable */
        lua_pushstring(L, sections[i]);
        lua_setfield(L, -2, "section");
        lua_pushcfunction(L, section_newindex);
        lua_setfield(L, -2, "__newindex");
        lua_setmetatable(L, -2);
        lua_setfield(L, -2, sections[i]);
    }
    lua_newtable(L);                        /* env metatable */
    lua_pushcfunction(L, env_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, env_index);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);                   /* stack: chunk, env, env */
    lua_insert(L, 1);                       /* stack: env, chunk, env */
    lua_setupvalue(L, 2, 1);                /* _ENV of the chunk */
    lua_sethook(L, on_budget, LUA_MASKCOUNT, INSTRUCTION_BUDGET);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        lua_error_line(path, m ? m : "error while running the file", errbuf, errlen);
        rc = SB_ECONFIG;
        goto out;
    }
    lua_sethook(L, NULL, 0, 0);
    /* stack: env */
    for (size_t i = 0; i < SB_COUNTOF(sections); i++) {
        rc = check_section(&c, L, cfg, sections[i]);
        if (rc != 0)
            goto out;
    }
    /* Derived defaults follow the file's values. */
    sb__config_finish(cfg);
    rc = cross_checks(&c, cfg);
    if (rc == 0) {
        free(cfg->path);
        cfg->path = sb_xstrdup(path);
    }
out:
    free(chunkname);
    lua_close(L);
    free(src);
    return rc;
}
