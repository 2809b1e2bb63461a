/*
 * log.c: the process logger. Lines look like
 *   2026-11-23T18:53:01.123Z INFO  [CA0123...] message
 * or, with log.format = "json", like
 *   {"ts":"2026-11-23T18:53:01.123Z","level":"info","msg":"...","call_sid":"CA..."}
 * Output goes to stderr until sb_log_open() names a file; SIGHUP reopens it.
 * A line is built in a buffer and written with one fwrite.
 */
#include "log.h"
#include "buf.h"
#include "err.h"
#include "mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static sb_log_level_t cur_level = SB_LOG_INFO;
static FILE *out_file;      /* NULL means stderr */
static char *out_path;
static int json_format;     /* log.format = "json" */

static const char *const level_names[] = {"error", "warn", "info", "debug", "trace"};
static const char *const level_tags[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};

int sb_log_parse_level(const char *name, sb_log_level_t *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (name && strcmp(name, level_names[i]) == 0) {
            *out = (sb_log_level_t)i;
            return 0;
        }
    }
    return SB_EINVAL;
}

const char *sb_log_level_name(sb_log_level_t level)
{
    return level <= SB_LOG_TRACE ? level_names[level] : "?";
}

void sb_log_set_level(sb_log_level_t level) { cur_level = level; }
sb_log_level_t sb_log_get_level(void) { return cur_level; }

int sb_log_open(const char *path)
{
    if (path == NULL) {
        sb_log_close();
        return 0;
    }
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return uv_translate_sys_error(errno);
    setvbuf(f, NULL, _IOLBF, 0);
    sb_log_close();
    out_file = f;
    out_path = sb_xstrdup(path);
    return 0;
}

int sb_log_reopen(void)
{
    if (out_path == NULL)
        return 0;
    FILE *f = fopen(out_path, "a");
    if (f == NULL)
        return uv_translate_sys_error(errno);
    setvbuf(f, NULL, _IOLBF, 0);
    fclose(out_file);
    out_file = f;
    return 0;
}

void sb_log_close(void)
{
    if (out_file)
        fclose(out_file);
    out_file = NULL;
    free(out_path);
    out_path = NULL;
}

int sb_log_set_format(const char *name)
{
    if (name && strcmp(name, "text") == 0)
        json_format = 0;
    else if (name && strcmp(name, "json") == 0)
        json_format = 1;
    else
        return SB_EINVAL;
    return 0;
}

int sb_log_is_json(void) { return json_format; }

/* Appends msg with every line break (and the blanks after it) folded into
 * " | ", trailing breaks dropped. */
static void put_folded(sb_buf_t *b, const char *msg)
{
    for (const char *p = msg; *p; p++) {
        if (*p == '\n' || *p == '\r') {
            while (p[1] == '\n' || p[1] == '\r' || p[1] == '\t' || p[1] == ' ')
                p++;
            if (p[1] != '\0')
                sb_buf_puts(b, " | ");
            continue;
        }
        sb_buf_putc(b, *p);
    }
}

/* Length of the valid UTF-8 sequence at p, or 0. */
static int utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    int n = p[0] >= 0xF0 && p[0] <= 0xF4 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 ? 2 : 0;
    if (p[0] >= 0xF8)
        n = 0;
    for (int i = 1; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* A JSON string (quotes included): control characters escaped, bytes
 * that are not UTF-8 replaced by U+FFFD. */
static void put_json_str(sb_buf_t *b, const char *s)
{
    sb_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            sb_buf_putc(b, '\\');
            sb_buf_putc(b, (char)c);
        } else if (c == '\n') {
            sb_buf_puts(b, "\\n");
        } else if (c == '\t') {
            sb_buf_puts(b, "\\t");
        } else if (c < 0x20 || c == 0x7F) {
            sb_buf_printf(b, "\\u%04x", c);
        } else if (c >= 0x80) {
            int n = utf8_len(p);
            if (n == 0) {
                sb_buf_puts(b, "\\ufffd");
                p++;
                continue;
            }
            sb_buf_append(b, p, (size_t)n);
            p += n;
            continue;
        } else {
            sb_buf_putc(b, (char)c);
        }
        p++;
    }
    sb_buf_putc(b, '"');
}

static void emit(sb_log_level_t level, const char *call_sid, const char *plugin,
                 const char *fmt, va_list ap)
{
    FILE *f = out_file ? out_file : stderr;
    struct timeval tv;
    struct tm tm;
    char ts[32];
    char stack[1024];
    char *msg = stack;

    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(stack, sizeof stack, fmt, ap);
    if (n >= (int)sizeof stack) {
        msg = sb_xmalloc((size_t)n + 1);
        vsnprintf(msg, (size_t)n + 1, fmt, ap2);
    } else if (n < 0) {
        stack[0] = '\0';
    }
    va_end(ap2);

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    if (level > SB_LOG_TRACE)
        level = SB_LOG_TRACE;

    sb_buf_t b = SB_BUF_INIT;
    if (json_format) {
        sb_buf_printf(&b, "{\"ts\":\"%s.%03dZ\",\"level\":\"%s\",\"msg\":", ts,
                      (int)(tv.tv_usec / 1000), level_names[level]);
        sb_buf_t folded = SB_BUF_INIT;
        put_folded(&folded, msg);
        put_json_str(&b, folded.len ? sb_buf_str(&folded) : "");
        sb_buf_free(&folded);
        if (call_sid && *call_sid) {
            sb_buf_puts(&b, ",\"call_sid\":");
            put_json_str(&b, call_sid);
        }
        if (plugin && *plugin) {
            sb_buf_puts(&b, ",\"plugin\":");
            put_json_str(&b, plugin);
        }
        sb_buf_puts(&b, "}\n");
    } else {
        if (call_sid && *call_sid)
            sb_buf_printf(&b, "%s.%03dZ %s [%s] ", ts, (int)(tv.tv_usec / 1000),
                          level_tags[level], call_sid);
        else
            sb_buf_printf(&b, "%s.%03dZ %s ", ts, (int)(tv.tv_usec / 1000),
                          level_tags[level]);
        put_folded(&b, msg);
        sb_buf_putc(&b, '\n');
    }
    fwrite(b.data, 1, b.len, f);
    sb_buf_free(&b);
    if (msg != stack)
        free(msg);
}

void sb_log_vemit(sb_log_level_t level, const char *call_sid, const char *fmt,
                  va_list ap)
{
    emit(level, call_sid, NULL, fmt, ap);
}

void sb_log_emit(sb_log_level_t level, const char *call_sid, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, call_sid, NULL, fmt, ap);
    va_end(ap);
}

void sb_log_emit_plugin(sb_log_level_t level, const char *call_sid, const char *plugin,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    emit(level, call_sid, plugin, fmt, ap);
    va_end(ap);
}
