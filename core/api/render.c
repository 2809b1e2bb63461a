/*
 * render.c: the one writer behind every representation. The same calls
 * produce XML (elements named in PascalCase inside <RestcommResponse>) or
 * JSON (snake_case members, no wrapper), so resources describe a document
 * once. Text is escaped here; invalid XML characters (C0 controls other
 * than tab, CR, LF) become U+FFFD since input is only checked for UTF-8.
 */
#include "api_int.h"

#include <inttypes.h>
#include <string.h>

void sb__api_xml_escape(sb_buf_t *b, const char *s)
{
    const char *run = s;
    for (; *s; s++) {
        const char *rep = NULL;
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&apos;"; break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                rep = "\xef\xbf\xbd";
        }
        if (rep) {
            sb_buf_append(b, run, (size_t)(s - run));
            sb_buf_puts(b, rep);
            run = s + 1;
        }
    }
    sb_buf_append(b, run, (size_t)(s - run));
}

void sb__api_json_escape(sb_buf_t *b, const char *s)
{
    const char *run = s;
    sb_buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        sb_buf_append(b, run, (size_t)(s - run));
        switch (c) {
        case '"': sb_buf_puts(b, "\\\""); break;
        case '\\': sb_buf_puts(b, "\\\\"); break;
        case '\n': sb_buf_puts(b, "\\n"); break;
        case '\r': sb_buf_puts(b, "\\r"); break;
        case '\t': sb_buf_puts(b, "\\t"); break;
        default: sb_buf_printf(b, "\\u%04x", c);
        }
        run = s + 1;
    }
    sb_buf_append(b, run, (size_t)(s - run));
    sb_buf_putc(b, '"');
}

void sb__api_w_init(sb__api_w_t *w, int json)
{
    memset(w, 0, sizeof *w);
    sb_buf_init(&w->buf);
    w->json = json;
    w->first[0] = 1;
    w->array[0] = 1;             /* the top level takes bare values */
}

void sb__api_w_free(sb__api_w_t *w)
{
    sb_buf_free(&w->buf);
}

void sb__api_w_doc_begin(sb__api_w_t *w)
{
    if (!w->json)
        sb_buf_puts(&w->buf, "<RestcommResponse>");
}

void sb__api_w_doc_end(sb__api_w_t *w)
{
    if (!w->json)
        sb_buf_puts(&w->buf, "</RestcommResponse>");
}

/* JSON: the separator and the member name before a value. */
static void json_key(sb__api_w_t *w, const char *name)
{
    if (!w->first[w->depth])
        sb_buf_putc(&w->buf, ',');
    w->first[w->depth] = 0;
    if (!w->array[w->depth] && name) {
        sb__api_json_escape(&w->buf, name);
        sb_buf_putc(&w->buf, ':');
    }
}

static void push(sb__api_w_t *w, int array)
{
    if (w->depth + 1 < (int)sizeof w->first) {
        w->depth++;
        w->first[w->depth] = 1;
        w->array[w->depth] = (unsigned char)array;
    }
}

void sb__api_w_obj_begin(sb__api_w_t *w, const char *xml, const char *json)
{
    if (w->json) {
        json_key(w, json);
        sb_buf_putc(&w->buf, '{');
    } else {
        sb_buf_printf(&w->buf, "<%s>", xml);
    }
    push(w, 0);
}

void sb__api_w_obj_end(sb__api_w_t *w, const char *xml)
{
    if (w->depth > 0)
        w->depth--;
    if (w->json)
        sb_buf_putc(&w->buf, '}');
    else
        sb_buf_printf(&w->buf, "</%s>", xml);
}

void sb__api_w_arr_begin(sb__api_w_t *w, const char *xml, const char *json,
                         const char *xml_attrs)
{
    if (w->json) {
        json_key(w, json);
        sb_buf_putc(&w->buf, '[');
    } else if (xml_attrs && *xml_attrs) {
        sb_buf_printf(&w->buf, "<%s %s>", xml, xml_attrs);
    } else {
        sb_buf_printf(&w->buf, "<%s>", xml);
    }
    push(w, 1);
}

void sb__api_w_arr_end(sb__api_w_t *w, const char *xml)
{
    if (w->depth > 0)
        w->depth--;
    if (w->json)
        sb_buf_putc(&w->buf, ']');
    else
        sb_buf_printf(&w->buf, "</%s>", xml);
}

void sb__api_w_str(sb__api_w_t *w, const char *xml, const char *json,
                   const char *v, unsigned flags)
{
    if (w->json) {
        if (v == NULL && (flags & SB__W_JOMIT))
            return;
        json_key(w, json);
        if (v)
            sb__api_json_escape(&w->buf, v);
        else
            sb_buf_puts(&w->buf, "null");
        return;
    }
    if (v == NULL) {
        if (!(flags & SB__W_XOMIT))
            sb_buf_printf(&w->buf, "<%s/>", xml);
        return;
    }
    sb_buf_printf(&w->buf, "<%s>", xml);
    sb__api_xml_escape(&w->buf, v);
    sb_buf_printf(&w->buf, "</%s>", xml);
}

void sb__api_w_int(sb__api_w_t *w, const char *xml, const char *json, int64_t v)
{
    if (w->json) {
        json_key(w, json);
        sb_buf_printf(&w->buf, "%" PRId64, v);
    } else {
        sb_buf_printf(&w->buf, "<%s>%" PRId64 "</%s>", xml, v, xml);
    }
}

void sb__api_w_fixed(sb__api_w_t *w, const char *xml, const char *json, int64_t v,
                     int decimals, int64_t scale)
{
    /* v / scale with decimals digits, written as a number, not text. */
    char num[48];
    snprintf(num, sizeof num, "%.*f", decimals, (double)v / (double)scale);
    if (w->json) {
        json_key(w, json);
        sb_buf_puts(&w->buf, num);
    } else {
        sb_buf_printf(&w->buf, "<%s>%s</%s>", xml, num, xml);
    }
}

void sb__api_w_bool(sb__api_w_t *w, const char *xml, const char *json, int v)
{
    if (w->json) {
        json_key(w, json);
        sb_buf_puts(&w->buf, v ? "true" : "false");
    } else {
        sb_buf_printf(&w->buf, "<%s>%s</%s>", xml, v ? "true" : "false", xml);
    }
}
