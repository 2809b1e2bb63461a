/*
 * client.c: `switchboard console`, the operator's end of the console
 * socket. Three ways to run: each -e chunk in order; a script read whole
 * from stdin when stdin is not a terminal; or an interactive session on
 * libedit with history (~/.switchboard_history, mode 0600), Tab
 * completion answered by the server, multi-line input while the server
 * says a chunk is incomplete, Ctrl-C (cancels the line being typed, or
 * sends "cancel" for the running command) and Ctrl-D (leaves).
 *
 * Plain blocking I/O with poll(): the client does one thing at a time.
 * SIGINT is caught without SA_RESTART, so a blocked read or poll returns
 * EINTR and the flag is looked at; libedit's own signal handling is off
 * (it would re-send the signal to the whole process group), and its
 * input comes through our read function, which turns SIGINT into ^C.
 *
 * Leaves out: evaluation (the server), the protocol's framing (proto.c).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <wchar.h>

#include <histedit.h>

#include "con_int.h"

#define HISTORY_SIZE 1000
#define COMPLETE_TIMEOUT_MS 5000
#define HELLO_TIMEOUT_MS 10000
#define SIGINTS_TO_LEAVE 3          /* while a command does not answer */

enum { RUN_OK, RUN_ERROR, RUN_INCOMPLETE, RUN_LOST };

typedef struct client_s {
    int fd;
    const char *path;
    sb_buf_t in;
    int64_t next_id;
    EditLine *el;
    History *hist;
    char *hist_path;
    int continuation;           /* the chunk so far is incomplete */
    int interrupted;            /* ^C while editing */
} client_t;

static volatile sig_atomic_t got_sigint;
static volatile sig_atomic_t got_sigwinch;

static void on_signal(int sig)
{
    if (sig == SIGINT)
        got_sigint = 1;
    else if (sig == SIGWINCH)
        got_sigwinch = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;                /* no SA_RESTART: reads see EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGWINCH, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ------------------------------------------------------------------------ */
/* Socket                                                                   */
/* ------------------------------------------------------------------------ */

static int connect_socket(const char *path, int *out)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof sa.sun_path)
        return ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    while (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return e;
    }
    *out = fd;
    return 0;
}

/* Sends msg (takes the reference). Returns 0 or -1 (connection lost). */
static int send_json(client_t *cl, json_t *msg)
{
    sb_buf_t b = SB_BUF_INIT;
    int rc = sb__con_frame_put(&b, msg, SB_CON_MAX_REQUEST);
    json_decref(msg);
    if (rc < 0) {
        sb_buf_free(&b);
        fprintf(stderr, "switchboard: the request is larger than %u bytes\n",
                SB_CON_MAX_REQUEST);
        return -2;
    }
    size_t off = 0;
    while (off < b.len) {
        ssize_t n = send(cl->fd, b.data + off, b.len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sb_buf_free(&b);
            return -1;
        }
        off += (size_t)n;
    }
    sb_buf_free(&b);
    return 0;
}

/* Reads one message. Returns 1 (*out owned), 0 on timeout (timeout_ms
 * >= 0), -1 when SIGINT arrived (flag cleared), -2 when the connection
 * is gone or sent garbage. */
static int read_msg(client_t *cl, int timeout_ms, json_t **out)
{
    for (;;) {
        int rc = sb__con_frame_take(&cl->in, SB_CON_MAX_FRAME, out);
        if (rc == 1)
            return 1;
        if (rc < 0)
            return -2;
        if (got_sigint) {
            got_sigint = 0;
            return -1;
        }
        struct pollfd p = {.fd = cl->fd, .events = POLLIN};
        int n = poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -2;
        if (n == 0)
            return 0;
        char buf[65536];
        ssize_t r = read(cl->fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -2;
        sb_buf_append(&cl->in, buf, (size_t)r);
    }
}

static void put_text(FILE *f, json_t *text)
{
    const char *s = json_string_value(text);
    if (s)
        fwrite(s, 1, json_string_length(text), f);
}

static void lost(client_t *cl)
{
    fprintf(stderr, "switchboard: the connection to the console at %s was "
            "lost\n", cl->path);
}

/* Sends one eval and waits for its result, copying its output as it
 * comes. Ctrl-C sends "cancel"; after SIGINTS_TO_LEAVE of them without
 * an answer the client gives up. Returns RUN_*. */
static int run_code(client_t *cl, const char *code, size_t len,
                    const char *chunk, int interactive)
{
    int64_t id = ++cl->next_id;
    json_t *m = json_pack("{s:s, s:I, s:s, s:b}", "op", "eval", "id",
                          (json_int_t)id, "chunk", chunk, "interactive",
                          interactive);
    json_object_set_new(m, "code", sb__con_json_text(code, len));
    int rc = send_json(cl, m);
    if (rc == -2)
        return RUN_ERROR;
    if (rc < 0) {
        lost(cl);
        return RUN_LOST;
    }
    fflush(stdout);
    int sigints = 0;
    for (;;) {
        json_t *msg;
        rc = read_msg(cl, -1, &msg);
        if (rc == -1) {
            if (++sigints >= SIGINTS_TO_LEAVE) {
                fprintf(stderr, "\nswitchboard: the server does not answer; "
                        "leaving\n");
                return RUN_LOST;
            }
            if (send_json(cl, json_pack("{s:s}", "op", "cancel")) < 0) {
                lost(cl);
                return RUN_LOST;
            }
            continue;
        }
        if (rc < 0) {
            lost(cl);
            return RUN_LOST;
        }
        const char *op = json_string_value(json_object_get(msg, "op"));
        json_t *jid = json_object_get(msg, "id");
        int mine = json_is_integer(jid) && json_integer_value(jid) == id;
        if (op && strcmp(op, "output") == 0 && mine) {
            const char *stream = json_string_value(json_object_get(msg, "stream"));
            FILE *f = stream && strcmp(stream, "stderr") == 0 ? stderr : stdout;
            put_text(f, json_object_get(msg, "text"));
            fflush(f);
        } else if (op && strcmp(op, "error") == 0) {
            fprintf(stderr, "switchboard: console: %s\n",
                    json_string_value(json_object_get(msg, "text")));
            json_decref(msg);
            return RUN_LOST;
        } else if (op && strcmp(op, "result") == 0 && mine) {
            const char *status = json_string_value(json_object_get(msg, "status"));
            json_t *text = json_object_get(msg, "text");
            int out = RUN_ERROR;
            if (status && strcmp(status, "ok") == 0) {
                if (json_string_length(text) > 0) {
                    put_text(stdout, text);
                    fputc('\n', stdout);
                }
                out = RUN_OK;
            } else if (status && strcmp(status, "incomplete") == 0) {
                out = RUN_INCOMPLETE;
            } else if (status && strcmp(status, "canceled") == 0) {
                /* The terminal echoed ^C: start a line of our own. */
                if (sigints > 0 && isatty(STDIN_FILENO))
                    fputc('\n', stderr);
                fputs("canceled\n", stderr);
            } else {
                put_text(stderr, text);
                fputc('\n', stderr);
            }
            fflush(stdout);
            fflush(stderr);
            json_decref(msg);
            return out;
        }
        json_decref(msg);
    }
}

/* ------------------------------------------------------------------------ */
/* Line editing                                                             */
/* ------------------------------------------------------------------------ */

static client_t *client_of(EditLine *el)
{
    client_t *cl = NULL;
    el_get(el, EL_CLIENTDATA, &cl);
    return cl;
}

static char *prompt(EditLine *el)
{
    return client_of(el)->continuation ? "sb>> " : "sb> ";
}

/* libedit's input: one character from stdin; SIGINT becomes ^C (bound to
 * on_interrupt), SIGWINCH a resize. UTF-8 (or the locale's encoding) is
 * decoded here since this replaces libedit's own reader. */
static int read_char(EditLine *el, wchar_t *wc)
{
    char buf[MB_LEN_MAX];
    size_t n = 0;
    for (;;) {
        if (got_sigint) {
            got_sigint = 0;
            *wc = 3;                    /* ^C */
            return 1;
        }
        if (got_sigwinch) {
            got_sigwinch = 0;
            el_resize(el);
        }
        unsigned char ch;
        ssize_t r = read(STDIN_FILENO, &ch, 1);
        if (r == 0)
            return 0;
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf[n++] = (char)ch;
        mbstate_t st;
        memset(&st, 0, sizeof st);
        size_t k = mbrtowc(wc, buf, n, &st);
        if (k == (size_t)-2 && n < sizeof buf)
            continue;                   /* more bytes of this character */
        if (k == (size_t)-1 || k == (size_t)-2)
            *wc = (wchar_t)(unsigned char)buf[0];
        return 1;
    }
}

/* ^C while editing: the line (and any incomplete chunk) is dropped. */
static unsigned char on_interrupt(EditLine *el, int ch)
{
    client_t *cl = client_of(el);
    cl->interrupted = 1;
    const LineInfo *li = el_line(el);
    el_cursor(el, (int)(li->lastchar - li->cursor));
    return CC_NEWLINE;
}

static int is_word(int c)
{
    return isalnum(c) || c == '_' || c == '.' || c == ':';
}

static int terminal_width(void)
{
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 80;
}

/* Lists candidates in columns, showing what follows the last '.' or ':'. */
static void list_candidates(json_t *items)
{
    size_t n = json_array_size(items), width = 0;
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(items, i));
        const char *last = s + strlen(s);
        while (last > s && last[-1] != '.' && last[-1] != ':')
            last--;
        size_t w = strlen(last);
        if (w > width)
            width = w;
    }
    width += 2;
    size_t cols = (size_t)terminal_width() / width;
    if (cols == 0)
        cols = 1;
    fputc('\n', stdout);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(items, i));
        const char *last = s + strlen(s);
        while (last > s && last[-1] != '.' && last[-1] != ':')
            last--;
        fprintf(stdout, "%-*s", (int)width, last);
        if ((i + 1) % cols == 0 || i + 1 == n)
            fputc('\n', stdout);
    }
    fflush(stdout);
}

/* Tab: asks the server for the candidates of the word before the cursor;
 * inserts their common prefix, or lists them. */
static unsigned char on_complete(EditLine *el, int ch)
{
    client_t *cl = client_of(el);
    const LineInfo *li = el_line(el);
    const char *p = li->cursor;
    while (p > li->buffer && is_word((unsigned char)p[-1]))
        p--;
    size_t toklen = (size_t)(li->cursor - p);
    char token[512];
    if (toklen >= sizeof token)
        return CC_ERROR;
    memcpy(token, p, toklen);
    token[toklen] = '\0';

    int64_t id = ++cl->next_id;
    if (send_json(cl, json_pack("{s:s, s:I, s:s}", "op", "complete", "id",
                                (json_int_t)id, "text", token)) < 0)
        return CC_ERROR;
    json_t *items = NULL, *msg = NULL;
    for (;;) {
        int rc = read_msg(cl, COMPLETE_TIMEOUT_MS, &msg);
        if (rc <= 0)
            return CC_ERROR;
        const char *op = json_string_value(json_object_get(msg, "op"));
        json_t *jid = json_object_get(msg, "id");
        if (op && strcmp(op, "completions") == 0 && json_is_integer(jid) &&
            json_integer_value(jid) == id) {
            items = json_object_get(msg, "items");
            break;
        }
        json_decref(msg);
    }
    size_t n = json_array_size(items);
    if (n == 0) {
        json_decref(msg);
        return CC_ERROR;                    /* beeps */
    }
    const char *first = json_string_value(json_array_get(items, 0));
    size_t common = first ? strlen(first) : 0;
    for (size_t i = 1; i < n && first; i++) {
        const char *s = json_string_value(json_array_get(items, i));
        size_t k = 0;
        while (k < common && s && s[k] == first[k])
            k++;
        common = k;
    }
    unsigned char ret = CC_REFRESH;
    if (first && common > toklen && strncmp(first, token, toklen) == 0) {
        char *ins = sb_xstrndup(first + toklen, common - toklen);
        el_insertstr(el, ins);
        free(ins);
    } else if (n > 1) {
        list_candidates(items);
        ret = CC_REDISPLAY;
    }
    json_decref(msg);
    return ret;
}

static char *history_path(const char *given)
{
    if (given)
        return sb_xstrdup(given);
    const char *home = getenv("HOME");
    if (home == NULL || *home == '\0') {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (home == NULL)
        return NULL;
    return sb_xasprintf("%s/.switchboard_history", home);
}

static void history_save(client_t *cl)
{
    if (cl->hist_path == NULL)
        return;
    HistEvent ev;
    mode_t old = umask(0177);               /* it may hold secrets */
    history(cl->hist, &ev, H_SAVE, cl->hist_path);
    umask(old);
    chmod(cl->hist_path, 0600);
}

static int is_blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

static int repl(client_t *cl, json_t *hello)
{
    setlocale(LC_CTYPE, "");
    printf("Switchboard %s console on %s (server pid %lld). help() lists the "
           "helpers; Ctrl-D leaves.\n",
           json_string_value(json_object_get(hello, "version")), cl->path,
           (long long)json_integer_value(json_object_get(hello, "pid")));
    HistEvent ev;
    cl->hist = history_init();
    history(cl->hist, &ev, H_SETSIZE, HISTORY_SIZE);
    history(cl->hist, &ev, H_SETUNIQUE, 1);
    cl->hist_path = history_path(NULL);
    if (cl->hist_path)
        history(cl->hist, &ev, H_LOAD, cl->hist_path);

    cl->el = el_init("switchboard", stdin, stdout, stderr);
    el_set(cl->el, EL_CLIENTDATA, cl);
    el_set(cl->el, EL_EDITOR, "emacs");
    el_set(cl->el, EL_SIGNAL, 0);
    el_set(cl->el, EL_PROMPT, prompt);
    el_set(cl->el, EL_HIST, history, cl->hist);
    el_set(cl->el, EL_GETCFN, read_char);
    el_source(cl->el, NULL);                /* ~/.editrc, if any */
    /* The wide form: libedit's narrow EL_ADDFN leaks its copies. */
    el_wset(cl->el, EL_ADDFN, L"sb-complete", L"complete a name or field",
            on_complete);
    el_set(cl->el, EL_BIND, "^I", "sb-complete", NULL);
    el_wset(cl->el, EL_ADDFN, L"sb-interrupt", L"drop the line", on_interrupt);
    el_set(cl->el, EL_BIND, "^C", "sb-interrupt", NULL);

    sb_buf_t chunk = SB_BUF_INIT;
    int status = SB_CON_EXIT_OK;
    for (;;) {
        int count = 0;
        cl->interrupted = 0;
        const char *line = el_gets(cl->el, &count);
        if (cl->interrupted) {
            fputs("^C\n", stdout);
            sb_buf_reset(&chunk);
            cl->continuation = 0;
            continue;
        }
        if (line == NULL || count <= 0) {
            fputc('\n', stdout);            /* Ctrl-D */
            break;
        }
        size_t len = strlen(line);
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        char *text = sb_xstrndup(line, len);
        if (!cl->continuation && is_blank(text)) {
            free(text);
            continue;
        }
        if (!is_blank(text)) {
            history(cl->hist, &ev, H_ENTER, text);
            history_save(cl);
        }
        if (!cl->continuation &&
            (strcmp(text, "exit") == 0 || strcmp(text, "quit") == 0)) {
            free(text);
            break;
        }
        if (chunk.len > 0)
            sb_buf_putc(&chunk, '\n');
        sb_buf_puts(&chunk, text);
        free(text);
        int rc = run_code(cl, chunk.data, chunk.len, "console", 1);
        if (rc == RUN_INCOMPLETE) {
            cl->continuation = 1;
            continue;
        }
        cl->continuation = 0;
        sb_buf_reset(&chunk);
        if (rc == RUN_LOST) {
            status = SB_CON_EXIT_CONNECT;
            break;
        }
    }
    sb_buf_free(&chunk);
    history_save(cl);
    el_end(cl->el);
    history_end(cl->hist);
    free(cl->hist_path);
    return status;
}

/* ------------------------------------------------------------------------ */
/* Entry                                                                    */
/* ------------------------------------------------------------------------ */

static int exit_of(int run)
{
    switch (run) {
    case RUN_OK: return SB_CON_EXIT_OK;
    case RUN_LOST: return SB_CON_EXIT_CONNECT;
    default: return SB_CON_EXIT_ERROR;
    }
}

/* All of stdin, up to the request limit. Returns 0, or -1 (message
 * printed). */
static int read_stdin(sb_buf_t *out)
{
    char buf[65536];
    for (;;) {
        ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            if (got_sigint)
                return -1;
            continue;
        }
        if (n < 0) {
            fprintf(stderr, "switchboard: reading stdin: %s\n", strerror(errno));
            return -1;
        }
        if (n == 0)
            return 0;
        sb_buf_append(out, buf, (size_t)n);
        if (out->len > SB_CON_MAX_REQUEST - 4096) {
            fprintf(stderr, "switchboard: the script on stdin is larger than "
                    "%u bytes\n", SB_CON_MAX_REQUEST - 4096);
            return -1;
        }
    }
}

int sb_con_client_run(const sb_con_client_opts_t *opts)
{
    client_t cl;
    memset(&cl, 0, sizeof cl);
    cl.path = opts->path;
    int e = connect_socket(opts->path, &cl.fd);
    if (e != 0) {
        fprintf(stderr, "switchboard: cannot connect to the console at %s: %s%s\n",
                opts->path, strerror(e),
                e == ENOENT || e == ECONNREFUSED ? " (is the server running? "
                "-s SOCKET or -c FILE names another one)" : "");
        return SB_CON_EXIT_CONNECT;
    }
    install_signals();
    json_t *hello = NULL;
    int rc = read_msg(&cl, HELLO_TIMEOUT_MS, &hello);
    const char *op = rc == 1 ? json_string_value(json_object_get(hello, "op")) : NULL;
    if (op == NULL || strcmp(op, "hello") != 0) {
        if (op && strcmp(op, "error") == 0)
            fprintf(stderr, "switchboard: console: %s\n",
                    json_string_value(json_object_get(hello, "text")));
        else
            fprintf(stderr, "switchboard: no console greeting on %s\n", opts->path);
        json_decref(hello);
        close(cl.fd);
        sb_buf_free(&cl.in);
        return SB_CON_EXIT_CONNECT;
    }

    int status = SB_CON_EXIT_OK;
    if (opts->ncodes > 0) {
        for (int i = 0; i < opts->ncodes && status == SB_CON_EXIT_OK; i++)
            status = exit_of(run_code(&cl, opts->codes[i], strlen(opts->codes[i]),
                                      "(command line)", 0));
    } else if (!isatty(STDIN_FILENO)) {
        sb_buf_t script = SB_BUF_INIT;
        if (read_stdin(&script) == 0)
            status = exit_of(run_code(&cl, script.data ? script.data : "",
                                      script.len, "stdin", 0));
        else
            status = SB_CON_EXIT_ERROR;
        sb_buf_free(&script);
    } else {
        status = repl(&cl, hello);
    }
    json_decref(hello);
    close(cl.fd);
    sb_buf_free(&cl.in);
    return status;
}
