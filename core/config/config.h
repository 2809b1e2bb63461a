/*
 * config.h: the configuration file (a Lua chunk evaluated in an empty
 * sandbox) turned into a plain C struct with defaults and validation.
 *
 * Every key is optional; with no file at all the server runs on the
 * embedded defaults below. An unknown key, a value of the wrong type or an
 * invalid value is an error that names the file, the line and the key.
 * Keys are written either as nested tables (sip = { listen = {...} }) or as
 * dotted assignments (sip.listen = {...}); both forms are accepted.
 */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stddef.h>

#define SB_CONFIG_MAX_LISTEN 8
#define SB_CONFIG_MAX_PATHS 8
#define SB_CONFIG_MAX_TRUSTED 32

typedef enum { SB_TRANSPORT_UDP, SB_TRANSPORT_TCP } sb_transport_t;

/* An address block: addr/prefix (IPv4 in the first 4 bytes). */
typedef struct sb_netblock_s {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;                 /* 0..32 or 0..128 */
} sb_netblock_t;

typedef struct sb_listen_s {
    sb_transport_t transport;
    char host[64];              /* IPv4 or IPv6 literal, no brackets */
    int port;
} sb_listen_t;

/* Owner: the caller of sb_config_load / sb_config_defaults; all strings are
 * owned by the struct and freed by sb_config_free. */
typedef struct sb_config_s {
    char *path;                 /* file it came from, NULL for defaults */

    /* sip.* */
    sb_listen_t sip_listen[SB_CONFIG_MAX_LISTEN];
    int sip_listen_count;       /* default: udp and tcp on 127.0.0.1:5080 */
    char *sip_domain;           /* default: the first listen host */
    char *sip_outbound_proxy;   /* SIP URI or NULL */
    int sip_min_expires;        /* registrar: default 60 */
    int sip_max_expires;        /* registrar: default 3600 */
    int sip_max_contacts;       /* per client login: default 10 */
    /* Peers whose INVITEs are trusted (the carrier, the Kamailio in
     * front): their From is believed and their calls may dial out.
     * Default: none. */
    sb_netblock_t sip_trusted[SB_CONFIG_MAX_TRUSTED];
    int sip_trusted_count;

    /* http.* (the REST listener) */
    char *http_host;            /* default 127.0.0.1 */
    int http_port;              /* default 8080 */
    size_t http_max_body;       /* default 1 MiB */
    size_t http_max_header;     /* default 16 KiB */
    int http_idle_timeout_ms;   /* default 60000 */
    int http_request_timeout_ms;/* slow request: default 10000 */
    int http_max_connections;   /* default 1024 */
    int http_max_connections_per_address;  /* from one peer IP: default 64 */

    /* store.* */
    char *store_path;           /* default ./switchboard.db */

    /* plugins.* */
    char *plugin_paths[SB_CONFIG_MAX_PATHS];
    int plugin_path_count;      /* default: the install's plugins/ folder */
    char *plugin_options;       /* plugins.options as a Lua table
                                   constructor ("{...}"), never NULL */

    /* lua.* */
    size_t lua_memory_limit;    /* bytes; default 256 MiB */
    long lua_instruction_limit; /* per resume; default 10,000,000 */
    long lua_time_limit_ms;     /* wall clock per resume; default 2000 */

    /* console.* */
    char *console_socket;       /* default: next to the database */

    /* admin.* */
    char *admin_email;          /* default administrator@company.com */
    char *admin_password;       /* NULL: generated on first start */

    /* log.* */
    int log_level;              /* sb_log_level_t; default info */
    char *log_file;             /* NULL: stderr */
    char *log_format;           /* "text" (default, NULL) or "json" */

    /* refer.* */
    int refer_notify;           /* send NOTIFY sipfrag; default 1 */

    /* calls.* (admission control; 0 turns a limit off, the default) */
    int calls_max_concurrent;   /* live calls */
    int calls_max_rate;         /* new inbound calls per second */
    int calls_max_load;         /* percent of the loop's time busy */
    int calls_api_rate;         /* calls one account creates over REST
                                   per second (POST Calls) */

    /* metrics.* (GET /metrics) */
    int metrics_enabled;        /* default 1 */
    char *metrics_auth;         /* "user:password" for HTTP Basic, or NULL */
    char *metrics_host;         /* metrics.listen: its own listener, or NULL */
    int metrics_port;           /*   (NULL: served on http.listen) */
    int metrics_listen_line;    /* the line of metrics.listen, for errors */

    /* media.* */
    int media_port_min;         /* default 20000 */
    int media_port_max;         /* default 30000 */
    int media_timeout_s;        /* no-RTP timeout; default 60 */
    char *media_ip;             /* address put in SDP; default first SIP host */
    char *media_bind_ip;        /* address RTP sockets bind to (may be
                                   0.0.0.0 or ::); default first SIP host */
    int media_threads;          /* media workers; default 1; 0: media runs
                                   on the main loop */
    char *media_cache_dir;      /* on-disk audio cache; default
                                   "media-cache" next to the database */
    size_t media_cache_bytes;   /* decoded audio kept in memory; 256 MiB */
    size_t media_cache_disk_bytes;  /* on-disk copies kept; 1 GiB */
    size_t media_max_file_bytes;    /* one Play download; 32 MiB */
    char *media_root;           /* folder file:// Play URLs must be under;
                                   NULL (default): file:// refused */
    int media_default_ttl_s;    /* lifetime of a response with validators
                                   but no max-age/Expires; default 0
                                   (revalidate on each use) */

    /* tts.* */
    size_t tts_cache_bytes;     /* synthesized prompts kept; 64 MiB */
    size_t tts_max_chars;       /* longest text of one Say; 4096 */

    /* recordings.* */
    char *recordings_dir;       /* WAV (and MP3) files of Record and Dial
                                   record; default "recordings" next to
                                   the database */
    int recordings_media_auth;  /* the media URLs ask for credentials;
                                   default 0 (Restcomm: the unguessable
                                   SID is the capability) */
    int recordings_max_concurrent;  /* 0 (default): no limit */

    /* numbers.* (issue 21; docs/rest.md "The number pool") */
    char *numbers_pool;         /* the pool file AvailablePhoneNumbers
                                   offers; NULL (default): no pool */

    /* asr.* (speech input of Gather) */
    int asr_max_concurrent;     /* recognizers at once; default 2 */
    char *asr_model;            /* acoustic model folder; default Debian's
                                   pocketsphinx-en-us */
    char *asr_dict;             /* pronunciation dictionary */

    /* sms.* (messaging, issue 19; docs/messaging.md) */
    int sms_max_length;         /* characters of one Body; default 1600 */
    char *sms_smpp_host;        /* the SMSC; NULL (default): no SMPP */
    int sms_smpp_port;          /* default 2775 */
    char *sms_smpp_system_id;
    char *sms_smpp_password;
    char *sms_smpp_system_type; /* default "" */
    int sms_smpp_enquire_link;  /* keep-alive seconds; default 30 */
    int sms_smpp_reconnect_max; /* longest back-off, seconds; default 30 */

    /* email.* (SMTP through libcurl) */
    char *email_smtp_url;       /* smtp://host:port or smtps://...; NULL:
                                   e-mail is refused */
    char *email_user;
    char *email_password;
    char *email_from;           /* default sender; NULL: From required */
} sb_config_t;

/* Fills cfg with the embedded defaults. default_plugins (borrowed, copied)
 * is the install's plugins folder. Returns 0. */
int sb_config_defaults(sb_config_t *cfg, const char *default_plugins);

/* Loads path over the defaults. On failure returns SB_ECONFIG (or SB_EIO
 * when the file cannot be read) and writes one line, "FILE:LINE: key:
 * message", into errbuf (size errlen). cfg is left freeable either way. */
int sb_config_load(sb_config_t *cfg, const char *path, char *errbuf,
                   size_t errlen);

/* Frees every string in cfg (not cfg itself). */
void sb_config_free(sb_config_t *cfg);

/* Returns borrowed "udp" or "tcp". */
const char *sb_config_transport_name(sb_transport_t t);

/* 1 when ip (an IPv4 or IPv6 literal) is in one of sip.trusted's
 * blocks, else 0. */
int sb_config_trusted(const sb_config_t *cfg, const char *ip);

#endif
