/*
 * log.c: the process logger. Lines look like
 *   2026-11-23T18:53:01.123Z INFO  [CA0123...] message
 * Output goes to stderr until sb_log_open() names a file; SIGHUP reopens it.
 */
#include "log.h"
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

void sb_log_vemit(sb_log_level_t level, const char *call_sid, const char *fmt,
                  va_list ap)
{
    FILE *f = out_file ? out_file : stderr;
    struct timeval tv;
    struct tm tm;
    char ts[32];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
    if (level > SB_LOG_TRACE)
        level = SB_LOG_TRACE;
    if (call_sid && *call_sid)
        fprintf(f, "%s.%03dZ %s [%s] ", ts, (int)(tv.tv_usec / 1000),
                level_tags[level], call_sid);
    else
        fprintf(f, "%s.%03dZ %s ", ts, (int)(tv.tv_usec / 1000), level_tags[level]);
    vfprintf(f, fmt, ap);
    fputc('\n', f);
}

void sb_log_emit(sb_log_level_t level, const char *call_sid, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_log_vemit(level, call_sid, fmt, ap);
    va_end(ap);
}
