/*
 * proto.c: the console's wire format, shared by the server and the
 * client: frames of a 4-byte big-endian length and one JSON object
 * (console.h documents the messages), and the UTF-8 cleaning that lets
 * any Lua string travel as JSON text.
 *
 * Leaves out: sockets and I/O (server.c, client.c).
 */
#include <string.h>

#include "con_int.h"

int sb__con_frame_put(sb_buf_t *out, const json_t *msg, size_t max)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    if (text == NULL)
        return SB_EINVAL;
    size_t n = strlen(text);
    if (n > max || n > 0xffffffffu) {
        free(text);
        return SB_ETOOBIG;
    }
    unsigned char hdr[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16),
                            (unsigned char)(n >> 8), (unsigned char)n};
    sb_buf_append(out, hdr, 4);
    sb_buf_append(out, text, n);
    free(text);
    return 0;
}

int sb__con_frame_take(sb_buf_t *in, size_t max, json_t **out)
{
    *out = NULL;
    if (in->len < 4)
        return 0;
    const unsigned char *p = (const unsigned char *)in->data;
    size_t n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (n > max)
        return SB_ETOOBIG;
    if (in->len - 4 < n)
        return 0;
    json_error_t jerr;
    json_t *msg = json_loadb(in->data + 4, n, JSON_REJECT_DUPLICATES, &jerr);
    sb_buf_consume(in, n + 4);
    if (msg == NULL)
        return SB_EINVAL;
    if (!json_is_object(msg)) {
        json_decref(msg);
        return SB_EINVAL;
    }
    *out = msg;
    return 1;
}

/* Length of the well-formed UTF-8 sequence at s (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned int min, cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2, min = 0x80, cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3, min = 0x800, cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4, min = 0x10000, cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

char *sb__con_utf8_clean(const char *s, size_t len, size_t *outlen)
{
    sb_buf_t b = SB_BUF_INIT;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    sb_buf_reserve(&b, len + 1);
    while (i < len) {
        size_t k = utf8_seq(p + i, len - i);
        if (k > 0) {
            i += k;
            run += k;
            continue;
        }
        sb_buf_append(&b, s + i - run, run);
        run = 0;
        sb_buf_append(&b, "\xef\xbf\xbd", 3);
        i++;
    }
    sb_buf_append(&b, s + i - run, run);
    if (outlen)
        *outlen = b.len;
    if (b.data == NULL)
        return sb_xstrdup("");
    return sb_buf_steal(&b);
}

json_t *sb__con_json_text(const char *s, size_t len)
{
    size_t n;
    char *clean = sb__con_utf8_clean(s, len, &n);
    json_t *j = json_stringn_nocheck(clean, n);
    free(clean);
    return j;
}
