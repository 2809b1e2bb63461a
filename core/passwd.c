/*
 * passwd.c: the `switchboard passwd [-c FILE] EMAIL` command. Reads the
 * new password (from the terminal without echo, or the first line of
 * stdin), opens the configured database as the server does (migrations
 * included: an upgraded binary brings an old database up to date), and
 * sets the password through the api module, so the strength rule, the
 * hash and the new auth token are the REST update's (the account's linked
 * Client keeps its own password). SQLite's WAL and busy timeout let it write while a
 * server is running; the server keeps no copy of a password hash.
 *
 * Left out: creating a database (the server's first start does that,
 * with the administrator), and accounts by any key but e-mail or SID.
 */
#include "passwd.h"
#include "api.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PASSWORD 1024

/* The terminal's settings while echo is off, for the signal handler. */
static struct termios saved_tty;
static volatile sig_atomic_t echo_off;

static void on_fatal_signal(int sig)
{
    if (echo_off)
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Reads one line of at most MAX_PASSWORD - 1 bytes into buf, without its
 * line ending. Returns 0, or -1 at end of input or on a longer line. */
static int read_line(char *buf, size_t size)
{
    if (fgets(buf, (int)size, stdin) == NULL)
        return -1;
    size_t n = strlen(buf);
    if (n == size - 1 && buf[n - 1] != '\n' && !feof(stdin))
        return -1;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

/* One answer read from the terminal with echo off. Echo goes off (and
 * what was typed before is dropped) before the prompt shows, so nothing
 * typed after the prompt is lost or echoed. */
static int prompt_hidden(const char *prompt, char *buf, size_t size)
{
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &saved_tty) != 0) {
        fputs(prompt, stderr);
        fflush(stderr);
        return read_line(buf, size);
    }
    t = saved_tty;
    t.c_lflag &= ~(tcflag_t)ECHO;
    t.c_lflag |= ECHONL;
    echo_off = 1;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
    fputs(prompt, stderr);
    fflush(stderr);
    int rc = read_line(buf, size);
    tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_tty);
    echo_off = 0;
    return rc;
}

static int read_password(const char *key, char *pw, size_t size)
{
    if (!isatty(STDIN_FILENO)) {
        if (read_line(pw, size) != 0 || pw[0] == '\0') {
            fprintf(stderr, "switchboard: passwd: no password on stdin (one "
                            "line, at most %d bytes)\n", MAX_PASSWORD - 1);
            return -1;
        }
        return 0;
    }
    struct sigaction sa = {.sa_handler = on_fatal_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);

    char again[MAX_PASSWORD];
    char prompt[512];
    snprintf(prompt, sizeof prompt, "New password for %s: ", key);
    int rc = -1;
    if (prompt_hidden(prompt, pw, size) != 0 || pw[0] == '\0')
        fprintf(stderr, "switchboard: passwd: no password given\n");
    else if (prompt_hidden("Retype the new password: ", again, sizeof again) != 0 ||
             strcmp(pw, again) != 0)
        fprintf(stderr, "switchboard: passwd: the passwords do not match\n");
    else
        rc = 0;
    memset(again, 0, sizeof again);
    return rc;
}

/* Run as root on a database someone else owns (the service's user): act
 * as that owner, so the -wal and -shm files SQLite may create are the
 * server's and it can still open them. */
static int become_owner(const char *path, const struct stat *st)
{
    if (geteuid() != 0 || st->st_uid == 0)
        return 0;
    if (setgroups(0, NULL) != 0 || setgid(st->st_gid) != 0 ||
        setuid(st->st_uid) != 0) {
        fprintf(stderr, "switchboard: passwd: cannot act as the owner (uid %u) "
                        "of %s: %s\n", (unsigned)st->st_uid, path, strerror(errno));
        return -1;
    }
    return 0;
}

int sb_passwd_run(const sb_config_t *cfg, const char *key)
{
    struct stat st;
    if (stat(cfg->store_path, &st) != 0) {
        fprintf(stderr, "switchboard: passwd: no database at %s: %s (start the "
                        "server once, or give its configuration with -c)\n",
                cfg->store_path, strerror(errno));
        return 1;
    }
    if (become_owner(cfg->store_path, &st) != 0)
        return 1;

    char pw[MAX_PASSWORD];
    if (read_password(key, pw, sizeof pw) != 0) {
        memset(pw, 0, sizeof pw);
        return 1;
    }

    sb_log_set_level(SB_LOG_WARN);
    sb_store_t *store = NULL;
    char err[1024] = "";
    int rc = sb_store_open(cfg->store_path, &store, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "switchboard: passwd: %s\n", err);
        memset(pw, 0, sizeof pw);
        return 1;
    }
    rc = sb_api_account_set_password(store, cfg->sip_domain, key, pw);
    memset(pw, 0, sizeof pw);
    sb_store_close(store);

    switch (rc) {
    case 0:
        printf("password of %s changed (its auth token was renewed)\n", key);
        return 0;
    case SB_EINVAL:
        fprintf(stderr, "switchboard: passwd: password too weak (Restcomm's "
                        "strength rule, as REST applies it: make it longer, "
                        "mix cases, digits and symbols); nothing changed\n");
        break;
    case SB_ENOENT:
        fprintf(stderr, "switchboard: passwd: no account %s in %s\n", key,
                cfg->store_path);
        break;
    case SB_EPERM:
        fprintf(stderr, "switchboard: passwd: account %s is closed\n", key);
        break;
    default:
        fprintf(stderr, "switchboard: passwd: cannot change the password in "
                        "%s: %s\n", cfg->store_path, sb_strerror(rc));
        break;
    }
    return 1;
}
