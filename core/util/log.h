/*
 * log.h: leveled logging to stderr or a file, with timestamps and an optional
 * per-call prefix (the call SID), as text or as one JSON object per line.
 * One process-wide logger; each line is formatted apart and written with
 * one stdio call, so lines from other threads never interleave.
 */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stdarg.h>

typedef enum {
    SB_LOG_ERROR = 0,
    SB_LOG_WARN,
    SB_LOG_INFO,
    SB_LOG_DEBUG,
    SB_LOG_TRACE
} sb_log_level_t;

/* Parses "error", "warn", "info", "debug", "trace". Returns 0 or SB_EINVAL. */
int sb_log_parse_level(const char *name, sb_log_level_t *out);
/* Returns borrowed (static) name of a level. */
const char *sb_log_level_name(sb_log_level_t level);

void sb_log_set_level(sb_log_level_t level);
sb_log_level_t sb_log_get_level(void);

/* Sends output to path (borrows; copied), or to stderr when path is NULL.
 * Returns 0, or a negative UV error when the file cannot be opened (the
 * previous destination stays in use). */
int sb_log_open(const char *path);
/* Reopens the current file (after logrotate; SIGHUP). No-op on stderr. */
int sb_log_reopen(void);
void sb_log_close(void);

/* log.format: "text" (the default) or "json" (one object per line with
 * ts, level, msg, and call_sid and plugin when known). Returns 0 or
 * SB_EINVAL for another name. */
int sb_log_set_format(const char *name);
int sb_log_is_json(void);

/* Logs one line. call_sid may be NULL; it is printed as a [CA...] prefix.
 * A message of several lines (a Lua traceback) is folded into one: each
 * line break and the indentation after it become " | ". */
void sb_log_emit(sb_log_level_t level, const char *call_sid, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void sb_log_vemit(sb_log_level_t level, const char *call_sid, const char *fmt,
                  va_list ap);

/* As sb_log_emit, for a line that belongs to a plugin (borrowed name, may
 * be NULL): the JSON format carries it as "plugin". */
void sb_log_emit_plugin(sb_log_level_t level, const char *call_sid, const char *plugin,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define SB_LOG_ENABLED(lvl) ((lvl) <= sb_log_get_level())
#define sb_log(lvl, ...)                                                    \
    do { if (SB_LOG_ENABLED(lvl)) sb_log_emit((lvl), NULL, __VA_ARGS__); } while (0)
#define sb_log_call(lvl, sid, ...)                                          \
    do { if (SB_LOG_ENABLED(lvl)) sb_log_emit((lvl), (sid), __VA_ARGS__); } while (0)
#define sb_error(...) sb_log(SB_LOG_ERROR, __VA_ARGS__)
#define sb_warn(...)  sb_log(SB_LOG_WARN, __VA_ARGS__)
#define sb_info(...)  sb_log(SB_LOG_INFO, __VA_ARGS__)
#define sb_debug(...) sb_log(SB_LOG_DEBUG, __VA_ARGS__)

#endif
