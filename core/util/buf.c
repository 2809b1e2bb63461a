/* buf.c: the growable buffer of buf.h. */
#include "buf.h"
#include "mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_buf_init(sb_buf_t *b) { b->data = NULL; b->len = b->cap = 0; }

void sb_buf_free(sb_buf_t *b)
{
    free(b->data);
    sb_buf_init(b);
}

void sb_buf_reset(sb_buf_t *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void sb_buf_reserve(sb_buf_t *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    b->data = sb_xrealloc(b->data, cap);
    if (b->cap == 0)
        b->data[0] = '\0';     /* a fresh buffer is an empty string */
    b->cap = cap;
}

void sb_buf_append(sb_buf_t *b, const void *p, size_t n)
{
    sb_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sb_buf_puts(sb_buf_t *b, const char *s) { sb_buf_append(b, s, strlen(s)); }

void sb_buf_putc(sb_buf_t *b, char c) { sb_buf_append(b, &c, 1); }

void sb_buf_vprintf(sb_buf_t *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        sb_buf_append(b, small, (size_t)n);
    } else {
        sb_buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void sb_buf_printf(sb_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sb_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void sb_buf_consume(sb_buf_t *b, size_t n)
{
    if (n >= b->len) {
        sb_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

char *sb_buf_steal(sb_buf_t *b)
{
    char *p = b->data ? b->data : sb_xstrdup("");
    sb_buf_init(b);
    return p;
}

const char *sb_buf_str(const sb_buf_t *b) { return b->data ? b->data : ""; }
