/*
 * form.c: name/value lists and the text codecs both the server and the
 * client use: application/x-www-form-urlencoded encode and decode, path
 * percent-decoding, UTF-8 validation and the status reason table.
 *
 * Pure functions on memory, no I/O. Decoders reject %00 so every decoded
 * string can be handed around as a C string without silent truncation.
 * Charset conversion is left out: bytes stay bytes, and callers that need
 * text check them with sb_http_utf8_valid.
 */
#include "http_int.h"

#include <string.h>
#include <strings.h>

void sb_http_params_init(sb_http_params_t *p)
{
    p->items = NULL;
    p->count = p->cap = 0;
}

void sb_http_params_free(sb_http_params_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    free(p->items);
    sb_http_params_init(p);
}

/* Appends a pair whose strings are already owned (takes both). */
void sb__http_params_take(sb_http_params_t *p, char *name, char *value)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->items = sb_xrealloc(p->items, p->cap * sizeof *p->items);
    }
    p->items[p->count].name = name;
    p->items[p->count].value = value;
    p->count++;
}

void sb_http_params_add(sb_http_params_t *p, const char *name,
                        const char *value)
{
    sb__http_params_take(p, sb_xstrdup(name ? name : ""),
                         sb_xstrdup(value ? value : ""));
}

const char *sb_http_params_get(const sb_http_params_t *p, const char *name)
{
    for (size_t i = 0; p && i < p->count; i++)
        if (strcmp(p->items[i].name, name) == 0)
            return p->items[i].value;
    return NULL;
}

const char *sb_http_params_get_ci(const sb_http_params_t *p,
                                  const char *name)
{
    for (size_t i = 0; p && i < p->count; i++)
        if (strcasecmp(p->items[i].name, name) == 0)
            return p->items[i].value;
    return NULL;
}

/* ---- encoding ---------------------------------------------------------- */

static int form_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '*';
}

void sb_http_form_escape(sb_buf_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    sb_buf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (form_safe(c)) {
            sb_buf_putc(out, (char)c);
        } else if (c == ' ') {
            sb_buf_putc(out, '+');
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            sb_buf_append(out, esc, 3);
        }
    }
}

void sb_http_form_encode(sb_buf_t *out, const sb_http_params_t *p)
{
    for (size_t i = 0; p && i < p->count; i++) {
        if (i > 0)
            sb_buf_putc(out, '&');
        sb_http_form_escape(out, p->items[i].name, strlen(p->items[i].name));
        sb_buf_putc(out, '=');
        sb_http_form_escape(out, p->items[i].value,
                            strlen(p->items[i].value));
    }
}

/* ---- decoding ---------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sb__http_pct_decode(const char *s, size_t len, int plus_is_space,
                        sb_buf_t *out)
{
    sb_buf_reserve(out, len);
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            if (len - i < 3)                /* needs '%' and two digits */
                return SB_EINVAL;
            int hi = hexval(s[i + 1]);
            int lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return SB_EINVAL;
            sb_buf_putc(out, (char)(hi * 16 + lo));
            i += 2;
        } else if (c == '+' && plus_is_space) {
            sb_buf_putc(out, ' ');
        } else if (c == '\0') {
            return SB_EINVAL;
        } else {
            sb_buf_putc(out, c);
        }
    }
    return 0;
}

int sb_http_url_decode(const char *s, size_t len, char **out)
{
    sb_buf_t b = SB_BUF_INIT;
    int rc = sb__http_pct_decode(s, len, 0, &b);
    if (rc < 0) {
        sb_buf_free(&b);
        return rc;
    }
    *out = sb_buf_steal(&b);
    return 0;
}

int sb_http_form_decode(const char *s, size_t len, sb_http_params_t *out)
{
    size_t i = 0;
    sb_buf_t name = SB_BUF_INIT, value = SB_BUF_INIT;
    int rc = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t end = amp ? (size_t)(amp - s) : len;
        if (end > i) {
            const char *eq = memchr(s + i, '=', end - i);
            size_t nend = eq ? (size_t)(eq - s) : end;
            sb_buf_reset(&name);
            sb_buf_reset(&value);
            rc = sb__http_pct_decode(s + i, nend - i, 1, &name);
            if (rc == 0 && eq)
                rc = sb__http_pct_decode(eq + 1, end - nend - 1, 1, &value);
            if (rc < 0)
                break;
            sb__http_params_take(out, sb_xstrdup(sb_buf_str(&name)),
                                 sb_xstrdup(sb_buf_str(&value)));
        }
        i = end + 1;
    }
    sb_buf_free(&name);
    sb_buf_free(&value);
    return rc;
}

/* ---- UTF-8 ------------------------------------------------------------- */

int sb_http_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;  /* range of the 2nd byte */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;                    /* no overlongs */
            else if (c == 0xED)
                hi = 0x9F;                    /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;                    /* nothing above U+10FFFF */
        } else {
            return 0;
        }
        if (len - i <= n)
            return 0;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return 0;
        for (size_t k = 2; k <= n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
        i += n + 1;
    }
    return 1;
}

int sb_http_params_utf8_valid(const sb_http_params_t *p)
{
    for (size_t i = 0; p && i < p->count; i++) {
        if (!sb_http_utf8_valid(p->items[i].name, strlen(p->items[i].name)) ||
            !sb_http_utf8_valid(p->items[i].value,
                                strlen(p->items[i].value)))
            return 0;
    }
    return 1;
}

/* ---- status text ------------------------------------------------------- */

const char *sb_http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return "Unknown";
    }
}
