/*
 * main.c: the command line. `switchboard [serve] [-c FILE]` runs the
 * server; `console [-c FILE] [-s SOCKET] [-e CODE]...` connects to a
 * running server's console; `check-config FILE` validates a
 * configuration; `passwd [-c FILE] EMAIL` sets an account's password
 * (passwd.c); `version` and `--help` print and exit. Exit codes
 * (README.md, "Command line"):
 *   0  success (serve: clean shutdown)
 *   1  serve: the server could not start or did not shut down cleanly;
 *      console: the code raised an error, did not compile, or was
 *      cancelled with Ctrl-C
 *   2  usage error (unknown command or option)
 *   3  configuration error (file, line and key on stderr)
 *   4  console: no server on the socket, or the connection was lost
 *
 * Serving wires the modules in dependency order; any failure after the
 * reactor exists stops it the ordered way, so nothing stays half-started.
 */
#include "util.h"
#include "loop.h"
#include "config.h"
#include "store.h"
#include "sip.h"
#include "server.h"
#include "console.h"
#include "passwd.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXIT_START 1
#define EXIT_USAGE 2
#define EXIT_CONFIG 3

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: switchboard [serve] [-c FILE]   run the server\n"
            "       switchboard console [-c FILE] [-s SOCKET] [-e CODE]...\n"
            "                                       Lua console into the running server\n"
            "       switchboard check-config FILE   check a configuration file\n"
            "       switchboard passwd [-c FILE] EMAIL\n"
            "                                       set an account's password (from\n"
            "                                       the terminal, or stdin's first line)\n"
            "       switchboard version             print the version\n"
            "       switchboard --help              show this help\n"
            "\n"
            "With no -c, the server runs on embedded defaults: SIP on UDP and\n"
            "TCP 127.0.0.1:5080, REST on http://127.0.0.1:8080/restcomm, the\n"
            "database ./switchboard.db.\n"
            "\n"
            "console connects to SOCKET, else to FILE's console.socket, else to\n"
            "./switchboard.sock. It runs each -e CODE in order; else, when stdin\n"
            "is not a terminal, stdin as one script; else an interactive session\n"
            "(history in ~/.switchboard_history; Tab completes; Ctrl-C cancels;\n"
            "Ctrl-D leaves). Type help() there for the helpers.\n"
            "\n"
            "Exit status: 0 success, 1 start-up or shutdown failure (console:\n"
            "the code failed or was cancelled), 2 usage error, 3 configuration\n"
            "error, 4 console: cannot reach the server.\n");
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The plugins and Lua library: the source tree's for the binary of the
 * build directory; else the install's, found from the binary's own place
 * (BINDIR/../share/switchboard: an unpacked package or a DESTDIR tree
 * works where it lies), else at the configured SB_DATADIR. */
static const char *data_dir(void)
{
    static char dir[PATH_MAX];
    char exe[PATH_MAX], build[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';             /* exe: the binary's folder */
        if (realpath(SB_BUILD_DIR, build) && strcmp(exe, build) == 0)
            return SB_SOURCE_DIR;
        char rel[PATH_MAX + 64], plugins[PATH_MAX + 80];
        snprintf(rel, sizeof rel, "%s/%s", exe, SB_BIN_TO_DATADIR);
        snprintf(plugins, sizeof plugins, "%s/plugins", rel);
        if (is_dir(plugins) && realpath(rel, dir))
            return dir;
    }
    if (is_dir(SB_DATADIR "/plugins"))
        return SB_DATADIR;
    return SB_SOURCE_DIR;
}

static int load_config(sb_config_t *cfg, const char *path)
{
    char plugins[1024], err[1024];
    snprintf(plugins, sizeof plugins, "%s/plugins", data_dir());
    sb_config_defaults(cfg, plugins);
    if (path == NULL)
        return 0;
    if (sb_config_load(cfg, path, err, sizeof err) != 0) {
        fprintf(stderr, "switchboard: %s\n", err);
        return EXIT_CONFIG;
    }
    return 0;
}

static int cmd_check_config(const char *path)
{
    sb_config_t cfg;
    int rc = load_config(&cfg, path);
    if (rc == 0)
        printf("%s: OK\n", path);
    sb_config_free(&cfg);
    return rc;
}

/* The console client: the socket from -s, else from the configuration
 * (-c FILE, or the defaults: next to ./switchboard.db). */
static int cmd_console(const char *config_path, const char *socket_path,
                       const char **codes, int ncodes)
{
    sb_config_t cfg;
    int rc = 0;
    memset(&cfg, 0, sizeof cfg);
    if (socket_path == NULL) {
        rc = load_config(&cfg, config_path);
        socket_path = cfg.console_socket;
    }
    if (rc == 0) {
        sb_con_client_opts_t opts = {
            .path = socket_path,
            .codes = codes,
            .ncodes = ncodes,
        };
        rc = sb_con_client_run(&opts);
    }
    sb_config_free(&cfg);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = "serve";
    const char *config_path = NULL;
    const char *socket_path = NULL;
    const char *passwd_key = NULL;
    const char **codes = sb_xcalloc((size_t)argc, sizeof *codes);
    int ncodes = 0;
    int i = 1;

    if (i < argc && argv[i][0] != '-')
        cmd = argv[i++];
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            free(codes);
            return 0;
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc &&
                   (strcmp(cmd, "serve") == 0 || strcmp(cmd, "console") == 0 ||
                    strcmp(cmd, "passwd") == 0)) {
            config_path = argv[++i];
        } else if (strcmp(argv[i], "-s") == 0 && i + 1 < argc &&
                   strcmp(cmd, "console") == 0) {
            socket_path = argv[++i];
        } else if (strcmp(argv[i], "-e") == 0 && i + 1 < argc &&
                   strcmp(cmd, "console") == 0) {
            codes[ncodes++] = argv[++i];
        } else if (strcmp(cmd, "check-config") == 0 && config_path == NULL &&
                   argv[i][0] != '-') {
            config_path = argv[i];
        } else if (strcmp(cmd, "passwd") == 0 && passwd_key == NULL &&
                   argv[i][0] != '-') {
            passwd_key = argv[i];
        } else {
            fprintf(stderr, "switchboard: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            free(codes);
            return EXIT_USAGE;
        }
    }

    if (strcmp(cmd, "console") == 0) {
        int rc = cmd_console(config_path, socket_path, codes, ncodes);
        free(codes);
        return rc;
    }
    free(codes);
    if (strcmp(cmd, "version") == 0) {
        printf("switchboard %s\n", SB_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "check-config") == 0) {
        if (config_path == NULL) {
            fprintf(stderr, "switchboard: check-config needs a FILE\n");
            return EXIT_USAGE;
        }
        return cmd_check_config(config_path);
    }
    if (strcmp(cmd, "passwd") == 0) {
        if (passwd_key == NULL) {
            fprintf(stderr, "switchboard: passwd needs an EMAIL\n");
            return EXIT_USAGE;
        }
        sb_config_t pcfg;
        int prc = load_config(&pcfg, config_path);
        if (prc == 0)
            prc = sb_passwd_run(&pcfg, passwd_key);
        sb_config_free(&pcfg);
        return prc;
    }
    if (strcmp(cmd, "serve") != 0) {
        fprintf(stderr, "switchboard: unknown command '%s'\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }

    sb_config_t cfg;
    int rc = load_config(&cfg, config_path);
    if (rc != 0) {
        sb_config_free(&cfg);
        return rc;
    }
    rc = sb_server_run(&cfg, data_dir());
    sb_config_free(&cfg);
    return rc;
}
