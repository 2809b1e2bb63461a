/*
 * buf.h: a growable byte buffer, always NUL-terminated so its data can be
 * used as a C string. Embedded in its owner: sb_buf_init / sb_buf_free.
 */
#ifndef SB_BUF_H
#define SB_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct sb_buf_s {
    char *data;     /* owned; NULL until the first append */
    size_t len;
    size_t cap;
} sb_buf_t;

#define SB_BUF_INIT {NULL, 0, 0}

void sb_buf_init(sb_buf_t *b);
void sb_buf_free(sb_buf_t *b);
void sb_buf_reset(sb_buf_t *b);                 /* len = 0, keeps memory */
void sb_buf_reserve(sb_buf_t *b, size_t extra);
void sb_buf_append(sb_buf_t *b, const void *p, size_t n);
void sb_buf_puts(sb_buf_t *b, const char *s);
void sb_buf_putc(sb_buf_t *b, char c);
void sb_buf_printf(sb_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_buf_vprintf(sb_buf_t *b, const char *fmt, va_list ap);
/* Drops the first n bytes. */
void sb_buf_consume(sb_buf_t *b, size_t n);
/* Returns owned string (the buffer's memory); the buffer is left empty. */
char *sb_buf_steal(sb_buf_t *b);
/* Returns borrowed string: "" when empty. Valid until the next append. */
const char *sb_buf_str(const sb_buf_t *b);

#endif
