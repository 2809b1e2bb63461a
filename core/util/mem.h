/*
 * mem.h: allocation that aborts on out-of-memory, so callers never handle a
 * NULL from these. Sizes that come from the network or a document must be
 * bounded by the caller before they reach here.
 */
#ifndef SB_MEM_H
#define SB_MEM_H

#include <stddef.h>

void *sb_xmalloc(size_t n);
void *sb_xcalloc(size_t count, size_t size);
void *sb_xrealloc(void *p, size_t n);
/* Returns owned copy; NULL in gives NULL out. */
char *sb_xstrdup(const char *s);
/* Returns owned, NUL-terminated copy of n bytes. */
char *sb_xstrndup(const char *s, size_t n);
/* Returns owned printf result. */
char *sb_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define SB_NEW(type) ((type *)sb_xcalloc(1, sizeof(type)))
#define SB_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
