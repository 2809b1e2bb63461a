/* test_config.c: the configuration file: defaults, every key, and every
 * kind of error with its file, line and key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "util.h"

#include <lauxlib.h>
#include <lua.h>

static char tmpdir[] = "/tmp/sb-config-XXXXXX";

static const char *write_conf(const char *name, const char *text)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads text; returns the rc and leaves the error line in err. */
static int load_text(const char *text, char *err, size_t errlen)
{
    sb_config_t cfg;
    sb_config_defaults(&cfg, "/plugins");
    int rc = sb_config_load(&cfg, write_conf("t.lua", text), err, errlen);
    sb_config_free(&cfg);
    return rc;
}

static void test_config_defaults_match_design(void **state)
{
    sb_config_t cfg;
    sb_config_defaults(&cfg, "/usr/share/switchboard/plugins");
    assert_int_equal(cfg.sip_listen_count, 2);
    assert_int_equal(cfg.sip_listen[0].transport, SB_TRANSPORT_UDP);
    assert_int_equal(cfg.sip_listen[1].transport, SB_TRANSPORT_TCP);
    assert_string_equal(cfg.sip_listen[0].host, "127.0.0.1");
    assert_int_equal(cfg.sip_listen[0].port, 5080);
    assert_string_equal(cfg.sip_domain, "127.0.0.1");
    assert_null(cfg.sip_outbound_proxy);
    assert_string_equal(cfg.http_host, "127.0.0.1");
    assert_int_equal(cfg.http_port, 8080);
    assert_string_equal(cfg.store_path, "./switchboard.db");
    assert_string_equal(cfg.console_socket, "./switchboard.sock");
    assert_string_equal(cfg.admin_email, "administrator@company.com");
    assert_null(cfg.admin_password);
    assert_int_equal(cfg.plugin_path_count, 1);
    assert_string_equal(cfg.plugin_paths[0], "/usr/share/switchboard/plugins");
    assert_int_equal(cfg.refer_notify, 1);
    assert_int_equal(cfg.log_level, SB_LOG_INFO);
    sb_config_free(&cfg);
}

static void test_config_full_file_sets_every_key(void **state)
{
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    int rc = sb_config_load(&cfg, SB_FIXTURES "/config/full.lua", err, sizeof err);
    assert_int_equal(rc, 0);
    assert_int_equal(cfg.sip_listen[0].port, 5090);
    assert_string_equal(cfg.sip_domain, "pbx.example.com");
    assert_string_equal(cfg.sip_outbound_proxy, "sip:carrier.example.com:5060");
    assert_int_equal(cfg.sip_min_expires, 30);
    assert_int_equal(cfg.http_port, 8090);
    assert_string_equal(cfg.store_path, "/tmp/sb-test.db");
    assert_int_equal(cfg.plugin_path_count, 2);
    assert_string_equal(cfg.plugin_paths[1], "/srv/plugins");
    assert_non_null(strstr(cfg.plugin_options, "[\"refer\"]="));
    assert_non_null(strstr(cfg.plugin_options, "[\"strict\"]=true"));
    assert_string_equal(cfg.console_socket, "/tmp/sb-test.sock");
    assert_string_equal(cfg.admin_email, "ops@example.com");
    assert_string_equal(cfg.admin_password, "Secret-Passw0rd");
    assert_int_equal(cfg.log_level, SB_LOG_DEBUG);
    assert_string_equal(cfg.log_file, "/tmp/sb-test.log");
    assert_int_equal(cfg.refer_notify, 0);
    assert_int_equal(cfg.media_port_min, 30000);
    assert_string_equal(cfg.path, SB_FIXTURES "/config/full.lua");
    sb_config_free(&cfg);
}

static void test_config_derived_defaults_follow_file(void **state)
{
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    const char *p = write_conf("d.lua", "sip.listen = { \"udp:127.0.0.2:5060\" }\n"
                                        "store.path = \"/var/lib/sb/main.db\"\n");
    assert_int_equal(sb_config_load(&cfg, p, err, sizeof err), 0);
    assert_string_equal(cfg.sip_domain, "127.0.0.2");
    assert_string_equal(cfg.console_socket, "/var/lib/sb/main.sock");
    sb_config_free(&cfg);
}

static void test_config_plugin_options_round_trip_through_lua(void **state)
{
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    const char *p = write_conf("o.lua",
        "plugins.options = { refer = { note = \"a \\\"q\\\"\\n\", n = 3 } }\n");
    assert_int_equal(sb_config_load(&cfg, p, err, sizeof err), 0);
    lua_State *L = luaL_newstate();
    char *chunk = sb_xasprintf("return %s", cfg.plugin_options);
    assert_int_equal(luaL_loadstring(L, chunk), LUA_OK);
    assert_int_equal(lua_pcall(L, 0, 1, 0), LUA_OK);
    lua_getfield(L, -1, "refer");
    lua_getfield(L, -1, "note");
    assert_string_equal(lua_tostring(L, -1), "a \"q\"\n");
    lua_getfield(L, -2, "n");
    assert_int_equal(lua_tointeger(L, -1), 3);
    lua_close(L);
    free(chunk);
    sb_config_free(&cfg);
}

/* Each bad file gives rc SB_ECONFIG and this exact "file:line: key" start. */
static void expect_error(const char *text, const char *where, const char *what)
{
    char err[512] = "";
    char want[300];
    assert_int_equal(load_text(text, err, sizeof err), SB_ECONFIG);
    snprintf(want, sizeof want, "%s/t.lua:%s", tmpdir, where);
    if (strncmp(err, want, strlen(want)) != 0 || strstr(err, what) == NULL)
        fail_msg("got \"%s\", want prefix \"%s\" containing \"%s\"", err, want, what);
}

static void test_config_syntax_error_names_line(void **state)
{
    expect_error("sip = {\n  listen = { \"udp:127.0.0.1:5080\" \n\n", "4:", "expected");
}

static void test_config_unknown_top_level_key(void **state)
{
    expect_error("-- a comment\nsipp = { listen = {} }\n", "2:", "unknown key 'sipp'");
}

static void test_config_unknown_nested_key(void **state)
{
    expect_error("sip = {\n  domain = \"x\",\n  lissten = { \"udp:127.0.0.1:1\" },\n}\n",
                 "3: sip.lissten", "unknown key");
}

static void test_config_unknown_dotted_key(void **state)
{
    expect_error("\nhttp.lissten = \"127.0.0.1:1\"\n", "2:", "unknown key 'http.lissten'");
}

static void test_config_non_numeric_port(void **state)
{
    expect_error("sip = {\n listen = { \"udp:127.0.0.1:50x0\" } }\n", "2: sip.listen",
                 "port must be a number");
    expect_error("http.listen = \"127.0.0.1:http\"\n", "1: http.listen",
                 "port must be a number");
}

static void test_config_wrong_type(void **state)
{
    expect_error("log = {\n  level = 3 }\n", "2: log.level", "expected");
    expect_error("refer = { notify = \"no\" }\n", "1: refer.notify", "expected a boolean");
    expect_error("store = { path = 12 }\n", "1: store.path", "expected a string");
    expect_error("sip = \"x\"\n", "1:", "expected a table");
}

static void test_config_bad_values(void **state)
{
    expect_error("sip.listen = { \"sctp:127.0.0.1:5060\" }\n", "1: sip.listen",
                 "transport must be udp or tcp");
    expect_error("sip.outbound_proxy = \"carrier.example.com\"\n",
                 "1: sip.outbound_proxy", "not a SIP URI");
    expect_error("media = { port_min = 30000, port_max = 20000 }\n", "1: media.port_max",
                 "greater");
    expect_error("sip.listen = { \"udp:127.0.0.1:5060\", \"tcp:127.0.0.1:5061\" }\n",
                 "1: sip.listen", "same IP and port");
    expect_error("admin.password = \"short\"\n", "1: admin.password", "at least 8");
    expect_error("media.ip = \"pbx.example.com\"\n", "1: media.ip",
                 "not an IPv4 or IPv6 address");
    expect_error("media.ip = \"0.0.0.0\"\n", "1: media.ip", "not 0.0.0.0");
    expect_error("media.bind_ip = \"any\"\n", "1: media.bind_ip", "not an IPv4");
    expect_error("media.bind_ip = \"::\"\n", "1: media.ip", "same IP family");
    expect_error("sip.listen = { \"udp:0.0.0.0:5060\" }\n", "1: sip.listen",
                 "set media.ip");
}

/* Issue 23's keys: connection caps and the Lua time limit, with their
 * defaults and bounds. */
static void test_config_hardening_keys(void **state)
{
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(cfg.http_max_connections, 1024);
    assert_int_equal(cfg.http_max_connections_per_address, 64);
    assert_int_equal(cfg.lua_time_limit_ms, 2000);
    const char *p = write_conf("h.lua", "http.max_connections = 200\n"
                                        "http.max_connections_per_address = 8\n"
                                        "lua.time_limit = 500\n");
    assert_int_equal(sb_config_load(&cfg, p, err, sizeof err), 0);
    assert_int_equal(cfg.http_max_connections, 200);
    assert_int_equal(cfg.http_max_connections_per_address, 8);
    assert_int_equal(cfg.lua_time_limit_ms, 500);
    sb_config_free(&cfg);
    expect_error("http.max_connections_per_address = 0\n",
                 "1: http.max_connections_per_address", "");
    expect_error("lua.time_limit = 5\n", "1: lua.time_limit", "");
}

/* sip.trusted: addresses and blocks of both families, matched by prefix;
 * none by default; a bad entry names the key. */
static void test_config_trusted_peers(void **state)
{
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(cfg.sip_trusted_count, 0);
    assert_int_equal(sb_config_trusted(&cfg, "127.0.0.1"), 0);
    const char *p = write_conf("tr.lua", "sip.trusted = { \"203.0.113.10\", "
                                         "\"198.51.100.0/23\", \"2001:db8::/32\", "
                                         "\"10.1.2.3/0\" }\n");
    assert_int_equal(sb_config_load(&cfg, p, err, sizeof err), 0);
    assert_int_equal(cfg.sip_trusted_count, 4);
    assert_int_equal(sb_config_trusted(&cfg, "203.0.113.10"), 1);
    assert_int_equal(sb_config_trusted(&cfg, "198.51.101.255"), 1);  /* /23 */
    assert_int_equal(sb_config_trusted(&cfg, "2001:db8:1::5"), 1);
    assert_int_equal(sb_config_trusted(&cfg, "2001:db9::5"), 0);
    assert_int_equal(sb_config_trusted(&cfg, "not an address"), 0);
    /* /0 of IPv4 trusts every IPv4 address, no IPv6 one. */
    assert_int_equal(sb_config_trusted(&cfg, "192.0.2.1"), 1);
    assert_int_equal(sb_config_trusted(&cfg, "::1"), 0);
    sb_config_free(&cfg);
    sb_config_defaults(&cfg, "/plugins");
    p = write_conf("tr.lua", "sip.trusted = \"198.51.100.0/24\"\n");
    assert_int_equal(sb_config_load(&cfg, p, err, sizeof err), 0);
    assert_int_equal(sb_config_trusted(&cfg, "198.51.100.7"), 1);
    assert_int_equal(sb_config_trusted(&cfg, "198.51.101.7"), 0);
    sb_config_free(&cfg);
    expect_error("sip.trusted = { \"carrier.example.com\" }\n", "1: sip.trusted",
                 "not an IP address");
    expect_error("sip.trusted = { \"10.0.0.0/33\" }\n", "1: sip.trusted",
                 "not an IP address");
    expect_error("sip.trusted = { 10 }\n", "1: sip.trusted", "entry 1");
}

/* metrics.listen gets a listener of its own (with the line for start-up
 * errors); log.format is "text" or "json". */
static void test_config_metrics_listen_and_log_format(void **state)
{
    (void)state;
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    assert_null(cfg.metrics_host);
    assert_null(cfg.log_format);
    const char *p = write_conf("m.lua", "http.listen = \"127.0.0.1:8081\"\n"
                                        "log.format = \"json\"\n"
                                        "metrics.listen = \"127.0.0.1:9464\"\n");
    assert_int_equal(sb_config_load(&cfg, p, err, sizeof err), 0);
    assert_string_equal(cfg.metrics_host, "127.0.0.1");
    assert_int_equal(cfg.metrics_port, 9464);
    assert_int_equal(cfg.metrics_listen_line, 3);
    assert_int_equal(cfg.http_port, 8081);          /* untouched by metrics.listen */
    assert_string_equal(cfg.log_format, "json");
    sb_config_free(&cfg);
    expect_error("metrics.listen = \"localhost:9464\"\n", "1: metrics.listen",
                 "host must be an IP address");
    expect_error("metrics.listen = \"127.0.0.1:0\"\n", "1: metrics.listen", "port");
    expect_error("\nlog.format = \"xml\"\n", "2: log.format", "\"text\" or \"json\"");
}

/* SIP on every interface: RTP binds there too, and the SDP carries the
 * media.ip phones can reach; media.bind_ip narrows RTP to one address. */
static void test_config_media_addresses(void **state)
{
    (void)state;
    sb_config_t cfg;
    char err[512];
    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(sb_config_load(&cfg, write_conf("m.lua",
                     "sip.listen = { \"udp:0.0.0.0:5060\" }\nmedia.ip = \"192.0.2.10\"\n"),
                     err, sizeof err), 0);
    assert_string_equal(cfg.media_bind_ip, "0.0.0.0");
    assert_string_equal(cfg.media_ip, "192.0.2.10");
    sb_config_free(&cfg);

    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(sb_config_load(&cfg, write_conf("m.lua",
                     "sip.listen = { \"udp:127.0.0.1:5060\" }\n"
                     "media = { bind_ip = \"127.0.0.2\" }\n"), err, sizeof err), 0);
    assert_string_equal(cfg.media_bind_ip, "127.0.0.2");
    assert_string_equal(cfg.media_ip, "127.0.0.1");
    sb_config_free(&cfg);
}

/* Playback and text-to-speech (issue 15): defaults, a file that sets them,
 * and values out of range reported with their line and key. */
static void test_config_media_playback_keys(void **state)
{
    (void)state;
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(cfg.media_threads, 1);
    assert_string_equal(cfg.media_cache_dir, "./media-cache");
    assert_int_equal(cfg.media_cache_bytes, 256u * 1024 * 1024);
    assert_int_equal(cfg.media_cache_disk_bytes, 1024u * 1024 * 1024);
    assert_int_equal(cfg.media_max_file_bytes, 32u * 1024 * 1024);
    assert_null(cfg.media_root);
    assert_int_equal(cfg.media_default_ttl_s, 0);
    assert_int_equal(cfg.tts_cache_bytes, 64u * 1024 * 1024);
    assert_int_equal(cfg.tts_max_chars, 4096);
    sb_config_free(&cfg);

    /* The cache folder follows the database unless set. */
    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(sb_config_load(&cfg, write_conf("p.lua",
                     "store.path = \"/var/lib/sb/main.db\"\n"
                     "media = { threads = 0, cache_bytes = 8 * 1024 * 1024,\n"
                     "  root = \"/srv/audio\", default_ttl = 300 }\n"
                     "tts.max_chars = 500\n"), err, sizeof err), 0);
    assert_string_equal(cfg.media_cache_dir, "/var/lib/sb/media-cache");
    assert_int_equal(cfg.media_threads, 0);
    assert_int_equal(cfg.media_cache_bytes, 8u * 1024 * 1024);
    assert_string_equal(cfg.media_root, "/srv/audio");
    assert_int_equal(cfg.media_default_ttl_s, 300);
    assert_int_equal(cfg.tts_max_chars, 500);
    assert_int_equal(cfg.tts_cache_bytes, 64u * 1024 * 1024);
    sb_config_free(&cfg);

    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(sb_config_load(&cfg, write_conf("p.lua",
                     "media.cache_dir = \"/tmp/sb-cache\"\n"), err, sizeof err), 0);
    assert_string_equal(cfg.media_cache_dir, "/tmp/sb-cache");
    sb_config_free(&cfg);

    expect_error("media = {\n  threads = 65 }\n", "2: media.threads",
                 "out of range 0..64");
    expect_error("media.threads = 1.5\n", "1: media.threads", "a fraction");
    expect_error("tts = { max_chars = 0 }\n", "1: tts.max_chars", "out of range");
    expect_error("media.cache_bytes = \"lots\"\n", "1: media.cache_bytes",
                 "expected an integer");
    expect_error("media.root = \"audio\"\n", "1: media.root",
                 "not an absolute path");
    expect_error("tts.voice = \"alice\"\n", "1:", "unknown key 'tts.voice'");
}

static void test_config_reading_unknown_name_is_error(void **state)
{
    expect_error("x = os.getenv(\"HOME\")\n", "1:", "unknown");
}

static void test_config_endless_loop_is_stopped(void **state)
{
    expect_error("while true do end\n", "1:", "too long");
}

static void test_config_missing_file_is_io_error(void **state)
{
    sb_config_t cfg;
    char err[512] = "";
    sb_config_defaults(&cfg, "/plugins");
    assert_int_equal(sb_config_load(&cfg, "/nonexistent/sb.lua", err, sizeof err), SB_EIO);
    assert_non_null(strstr(err, "/nonexistent/sb.lua"));
    sb_config_free(&cfg);
}

static int setup(void **state)
{
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_match_design),
        cmocka_unit_test(test_config_full_file_sets_every_key),
        cmocka_unit_test(test_config_derived_defaults_follow_file),
        cmocka_unit_test(test_config_plugin_options_round_trip_through_lua),
        cmocka_unit_test(test_config_syntax_error_names_line),
        cmocka_unit_test(test_config_unknown_top_level_key),
        cmocka_unit_test(test_config_unknown_nested_key),
        cmocka_unit_test(test_config_unknown_dotted_key),
        cmocka_unit_test(test_config_non_numeric_port),
        cmocka_unit_test(test_config_wrong_type),
        cmocka_unit_test(test_config_bad_values),
        cmocka_unit_test(test_config_hardening_keys),
        cmocka_unit_test(test_config_trusted_peers),
        cmocka_unit_test(test_config_media_addresses),
        cmocka_unit_test(test_config_media_playback_keys),
        cmocka_unit_test(test_config_metrics_listen_and_log_format),
        cmocka_unit_test(test_config_reading_unknown_name_is_error),
        cmocka_unit_test(test_config_endless_loop_is_stopped),
        cmocka_unit_test(test_config_missing_file_is_io_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
