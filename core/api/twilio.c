/*
 * twilio.c: what Twilio's dialect (/2010-04-01) writes differently from
 * Restcomm's, for the resources that share one field table: Twilio's
 * error body {"code", "message", "more_info", "status"} (api.c's
 * sb__api_error calls sb__api_twilio_error_body on those paths), the
 * from_formatted / to_formatted members of Calls, and prices as Twilio
 * writes them (a string with five decimals, negative for a charge, or
 * null, always present). Also the national format of a North American
 * number, which OutgoingCallerIds and the number pool use as the default
 * FriendlyName, as Restcomm and Twilio do.
 *
 * Restcomm's own renderings are untouched: every function here writes
 * Restcomm's form unless the writer is in Twilio's dialect.
 */
#include "api_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Twilio's code for an answer that has no more specific one. */
int sb__api_twilio_code(int status)
{
    switch (status) {
    case 400: return 20001;     /* invalid parameter */
    case 401: return 20003;     /* authentication */
    case 403: return 20403;
    case 404: return 20404;
    case 405: return 20004;     /* method not allowed */
    case 409: return 20409;
    case 413: return 20413;
    case 429: return 20429;
    case 503: return 20503;
    default: return status >= 500 ? 20500 : status * 50;
    }
}

void sb__api_twilio_error_body(sb_buf_t *b, int status, int code, const char *msg)
{
    if (code <= 0)
        code = sb__api_twilio_code(status);
    sb_buf_printf(b, "{\"code\":%d,\"message\":", code);
    sb__api_json_escape(b, msg);
    sb_buf_printf(b, ",\"more_info\":\"https://www.twilio.com/docs/errors/%d\","
                  "\"status\":%d}", code, status);
}

void sb__api_error_code(sb__api_ctx_t *ctx, int status, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ctx->json != SB__API_JSON_TWILIO) {
        sb__api_error(ctx, status, "%s", msg);
        return;
    }
    sb_buf_t b = SB_BUF_INIT;
    sb__api_twilio_error_body(&b, status, code, msg);
    sb__api_send(ctx, status, sb_buf_str(&b), b.len);
    sb_buf_free(&b);
}

int sb__api_number_national(const char *number, char *out, size_t outlen)
{
    /* +1 NPA NXX XXXX, NPA and NXX not starting with 0 or 1. Written by
     * hand: this runs for two members of every Call of a page. */
    const char *d = number;
    if (d == NULL || outlen < 15 || d[0] != '+' || d[1] != '1')
        return 0;
    for (int i = 2; i < 12; i++)
        if (d[i] < '0' || d[i] > '9')
            return 0;
    if (d[12] != '\0' || d[2] < '2' || d[5] < '2')
        return 0;
    char *o = out;
    *o++ = '(';
    memcpy(o, d + 2, 3), o += 3;
    *o++ = ')';
    *o++ = ' ';
    memcpy(o, d + 5, 3), o += 3;
    *o++ = '-';
    memcpy(o, d + 8, 4), o += 4;
    *o = '\0';
    return 1;
}

/* Column indexes of a resource, looked up once (the renderers below run
 * for every row of a page). */
static int col_of(const sb__api_resource_t *res, const char *column,
                  const sb__api_resource_t **cached_res, int *cached)
{
    if (*cached_res != res) {
        *cached = sb__api_col(res, column);
        *cached_res = res;
    }
    return *cached;
}
#define COL(res, name)                                                  \
    ({                                                                  \
        static const sb__api_resource_t *r_;                            \
        static int c_;                                                  \
        col_of((res), (name), &r_, &c_);                                \
    })

/* Twilio's formatted form of a call party: the national form of a North
 * American number, the number itself otherwise (SIP URIs, clients). */
static void render_formatted(sb__api_w_t *w, const char *json, const sb_rows_val_t *v)
{
    if (w->json != SB__API_JSON_TWILIO)
        return;
    if (v->null) {
        sb__api_w_str(w, NULL, json, NULL, 0);
        return;
    }
    char nat[32];
    sb__api_w_str(w, NULL, json, sb__api_number_national(v->s, nat, sizeof nat) ? nat : v->s,
                  0);
}

void sb__api_twilio_from_formatted(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                   const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    render_formatted(w, "from_formatted", &vals[COL(res, "sender")]);
}

void sb__api_twilio_to_formatted(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                 const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    (void)ctx;
    render_formatted(w, "to_formatted", &vals[COL(res, "recipient")]);
}

/* A price as Twilio writes it: five decimals, negative for a charge
 * ("0.0075" -> "-0.00750", "0" -> "0.00000"). Plain decimals with up to
 * five fraction digits are rewritten as text (every row of a page has
 * one); anything else goes through strtod. Returns 0 when p is not a
 * number. */
static int twilio_price(const char *p, char out[48])
{
    const char *s = p;
    if (*s == '-' || *s == '+')
        s++;
    size_t ni = strspn(s, "0123456789");
    const char *frac = s[ni] == '.' ? s + ni + 1 : NULL;
    size_t nf = frac ? strspn(frac, "0123456789") : 0;
    if (ni > 0 && ni < 30 && nf <= 5 && (frac ? frac[nf] : s[ni]) == '\0') {
        int zero = 1;
        for (size_t i = 0; i < ni; i++)
            zero &= s[i] == '0';
        for (size_t i = 0; i < nf; i++)
            zero &= frac[i] == '0';
        char *o = out;
        if (!zero)
            *o++ = '-';
        while (ni > 1 && *s == '0')     /* "007.5" -> "7.5" */
            s++, ni--;
        memcpy(o, s, ni), o += ni;
        *o++ = '.';
        for (size_t i = 0; i < 5; i++)
            *o++ = i < nf ? frac[i] : '0';
        *o = '\0';
        return 1;
    }
    char *end = NULL;
    double v = strtod(p, &end);
    if (end == p || *end != '\0' || !isfinite(v))
        return 0;
    snprintf(out, 48, "%.5f", v == 0 ? 0.0 : -fabs(v));
    return 1;
}

void sb__api_render_price(sb__api_ctx_t *ctx, sb__api_w_t *w,
                          const sb__api_resource_t *res, const sb_rows_val_t *vals,
                          unsigned restcomm_flags)
{
    (void)ctx;
    const sb_rows_val_t *v = &vals[COL(res, "price")];
    if (w->json != SB__API_JSON_TWILIO) {
        sb__api_w_str(w, "Price", "price", v->null ? NULL : v->s, restcomm_flags);
        return;
    }
    char num[48];
    sb__api_w_str(w, NULL, "price", !v->null && twilio_price(v->s, num) ? num : NULL, 0);
}

void sb__api_twilio_call_price(sb__api_ctx_t *ctx, sb__api_w_t *w,
                               const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    /* Restcomm writes a Call's Price in XML only. */
    sb__api_render_price(ctx, w, res, vals, SB__W_JOMIT);
}

void sb__api_twilio_message_price(sb__api_ctx_t *ctx, sb__api_w_t *w,
                                  const sb__api_resource_t *res, const sb_rows_val_t *vals)
{
    sb__api_render_price(ctx, w, res, vals, 0);
}
