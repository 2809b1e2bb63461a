/*
 * available_numbers.c: searching the number pool (pool.c; docs/rest.md
 * "AvailablePhoneNumbers: the number pool"): AvailablePhoneNumbers/{ISO}/
 * Local|TollFree|Mobile (filters AreaCode, Contains with Twilio's keypad
 * letters, InRegion, InPostalCode, InLocality, Voice/Sms/Mms/FaxEnabled;
 * paged), Twilio's AvailablePhoneNumbers (the countries) and
 * AvailablePhoneNumbers/{ISO}, and Restcomm's IncomingPhoneNumbers/
 * AvailableCountries, each in Restcomm's XML, Restcomm's JSON (gson's
 * camelCase, bare arrays) and Twilio's JSON. Read-only: the pool is
 * written by pool.c only.
 */
#include "api_int.h"
#include "pool_int.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>


/* ---- AvailableCountries / AvailablePhoneNumbers --------------------------- */

typedef struct {
    char (*v)[3];
    int n, cap;
} countries_t;

static int on_country(const sb_rows_val_t *vals, void *arg)
{
    countries_t *c = arg;
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->v[i], vals[C_COUNTRY].s) == 0)
            return 0;
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = sb_xrealloc(c->v, (size_t)c->cap * sizeof *c->v);
    }
    snprintf(c->v[c->n++], 3, "%s", vals[C_COUNTRY].s);
    return 0;
}

/* The countries with numbers for sale, sorted. Returns 0 or 1 after
 * answering 500. */
static int list_countries(sb__api_ctx_t *ctx, countries_t *c)
{
    /* Sorted by country, the listing hands each country's rows together. */
    sb_rows_cond_t cond = {.col = C_TAKEN, .op = SB_ROWS_EQ, .i = 0};
    sb_rows_query_t q = {.conds = &cond, .nconds = 1, .order_col = C_COUNTRY, .limit = -1};
    if (sb_rows_list(ctx->api->store, &pool_table, &q, on_country, c) != 0) {
        free(c->v);
        sb__api_error(ctx, 500, "Database error");
        return 1;
    }
    return 0;
}

static void twilio_country(sb__api_ctx_t *ctx, sb__api_w_t *w, const char *iso)
{
    static const char *const kinds[][2] = {
        {"local", "Local"}, {"toll_free", "TollFree"}, {"mobile", "Mobile"}};
    sb_buf_t b = SB_BUF_INIT;
    sb__api_w_obj_begin(w, NULL, NULL);
    sb__api_w_str(w, NULL, "country_code", iso, 0);
    sb__api_w_str(w, NULL, "country", iso, 0);
    sb_buf_printf(&b, "AvailablePhoneNumbers/%s", iso);
    sb_buf_t u = SB_BUF_INIT;
    sb__api_uri(&u, w->json, ctx->op.sid, sb_buf_str(&b), NULL);
    sb__api_w_str(w, NULL, "uri", sb_buf_str(&u), 0);
    sb__api_w_bool(w, NULL, "beta", 0);
    sb__api_w_obj_begin(w, NULL, "subresource_uris");
    for (size_t i = 0; i < SB_COUNTOF(kinds); i++) {
        sb_buf_reset(&u);
        sb_buf_reset(&b);
        sb_buf_printf(&b, "AvailablePhoneNumbers/%s/%s", iso, kinds[i][1]);
        sb__api_uri(&u, w->json, ctx->op.sid, sb_buf_str(&b), NULL);
        sb__api_w_str(w, NULL, kinds[i][0], sb_buf_str(&u), 0);
    }
    sb__api_w_obj_end(w, NULL);
    sb__api_w_obj_end(w, NULL);
    sb_buf_free(&u);
    sb_buf_free(&b);
}

/* An ISO 3166 alpha-2 code from the path, upper-cased into out. Returns 0
 * or 1 after answering 400. */
static int path_country(sb__api_ctx_t *ctx, const char *seg, char out[3])
{
    if (strlen(seg) != 2 || !isalpha((unsigned char)seg[0]) ||
        !isalpha((unsigned char)seg[1])) {
        sb__api_error(ctx, 400, "%s is not an ISO 3166 country code (two letters)", seg);
        return 1;
    }
    out[0] = (char)toupper((unsigned char)seg[0]);
    out[1] = (char)toupper((unsigned char)seg[1]);
    out[2] = '\0';
    return 0;
}

/* Returns 1 when the pool has an available number in iso. */
static int country_known(sb__api_ctx_t *ctx, const char *iso, int *err)
{
    sb_rows_cond_t c[2] = {
        {.col = C_COUNTRY, .op = SB_ROWS_EQ, .s = iso},
        {.col = C_TAKEN, .op = SB_ROWS_EQ, .i = 0},
    };
    int64_t n = 0;
    *err = sb_rows_count(ctx->api->store, &pool_table, c, 2, &n) != 0;
    return n > 0;
}

void sb__api_available_countries(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    countries_t c = {0};
    /* Twilio's AvailablePhoneNumbers/{ISO}: one country. */
    if (ctx->sub) {
        char iso[3];
        int err = 0;
        if (path_country(ctx, ctx->sub, iso))
            return;
        if (!country_known(ctx, iso, &err)) {
            if (err)
                sb__api_error(ctx, 500, "Database error");
            else
                sb__api_error(ctx, 404, "No phone numbers are available in %s", iso);
            return;
        }
        sb__api_w_t w;
        sb__api_w_init(&w, ctx->json);
        twilio_country(ctx, &w, iso);
        sb__api_send_doc(ctx, &w);
        return;
    }
    if (list_countries(ctx, &c))
        return;
    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    if (ctx->json == SB__API_JSON_TWILIO) {
        /* Twilio's list: {"countries": [...], "uri": ...}. */
        sb__api_w_obj_begin(&w, NULL, NULL);
        sb__api_w_arr_begin(&w, NULL, "countries", NULL);
        for (int i = 0; i < c.n; i++)
            twilio_country(ctx, &w, c.v[i]);
        sb__api_w_arr_end(&w, NULL);
        sb__api_w_str(&w, NULL, "uri", ctx->path, 0);
        sb__api_w_obj_end(&w, NULL);
    } else {
        /* Restcomm's: <AvailableCountries><AvailableCountry>US</...>, or
         * a JSON array of codes. */
        sb__api_w_doc_begin(&w);
        sb__api_w_arr_begin(&w, "AvailableCountries", NULL, NULL);
        for (int i = 0; i < c.n; i++)
            sb__api_w_str(&w, "AvailableCountry", NULL, c.v[i], 0);
        sb__api_w_arr_end(&w, "AvailableCountries");
        sb__api_w_doc_end(&w);
    }
    free(c.v);
    sb__api_send_doc(ctx, &w);
}

/* Twilio's letters on a phone keypad (Contains). */
static char keypad(char c)
{
    static const char map[] = "22233344455566677778889999";
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'z' ? map[c - 'a'] : 0;
}

typedef struct {
    sb__api_ctx_t *ctx;
    sb__api_w_t *w;
    int64_t shown;
} avail_t;

static void opt_str(sb__api_w_t *w, const char *xml, const char *json,
                    const sb_rows_val_t *v)
{
    /* Restcomm's JSON is gson's, which leaves nulls out. */
    sb__api_w_str(w, xml, json, v->null ? NULL : v->s,
                  w->json == 1 ? SB__W_JOMIT : 0);
}

static int on_available(const sb_rows_val_t *v, void *arg)
{
    avail_t *a = arg;
    sb__api_w_t *w = a->w;
    int tw = w->json == SB__API_JSON_TWILIO;
    int rj = w->json == 1;          /* Restcomm's JSON: gson's camelCase */
    static const sb_rows_val_t none = {.set = 1, .null = 1};
    sb__api_w_obj_begin(w, "AvailablePhoneNumber", NULL);
    sb__api_w_str(w, "FriendlyName", rj ? "friendlyName" : "friendly_name", v[C_NAME].s, 0);
    sb__api_w_str(w, "PhoneNumber", rj ? "phoneNumber" : "phone_number", v[C_NUMBER].s, 0);
    opt_str(w, "Lata", "lata", &none);
    if (tw)
        opt_str(w, NULL, "locality", &v[C_LOCALITY]);
    opt_str(w, "RateCenter", rj ? "rateCenter" : "rate_center", &v[C_LOCALITY]);
    opt_str(w, "Latitude", "latitude", &none);
    opt_str(w, "Longitude", "longitude", &none);
    opt_str(w, "Region", "region", &v[C_REGION]);
    opt_str(w, "PostalCode", rj ? "postalCode" : "postal_code", &v[C_POSTAL]);
    sb__api_w_str(w, "IsoCountry", rj ? "isoCountry" : "iso_country", v[C_COUNTRY].s, 0);
    if (rj) {
        sb__api_w_bool(w, NULL, "voiceCapable", v[C_VOICE].i != 0);
        sb__api_w_bool(w, NULL, "smsCapable", v[C_SMS].i != 0);
        sb__api_w_bool(w, NULL, "mmsCapable", v[C_MMS].i != 0);
        sb__api_w_bool(w, NULL, "faxCapable", v[C_FAX].i != 0);
    } else {
        if (tw) {
            sb__api_w_str(w, NULL, "address_requirements", "none", 0);
            sb__api_w_bool(w, NULL, "beta", 0);
        }
        sb__api_w_obj_begin(w, "Capabilities", "capabilities");
        sb__api_w_bool(w, "Voice", "voice", v[C_VOICE].i != 0);
        sb__api_w_bool(w, "Sms", "SMS", v[C_SMS].i != 0);
        sb__api_w_bool(w, "Mms", "MMS", v[C_MMS].i != 0);
        sb__api_w_bool(w, "Fax", "fax", v[C_FAX].i != 0);
        sb__api_w_obj_end(w, "Capabilities");
    }
    sb__api_w_obj_end(w, "AvailablePhoneNumber");
    a->shown++;
    return 0;
}

/* A boolean filter: "true"/"false" (any case), else 400. Returns 1 when
 * the condition was added, 0 when absent, -1 after answering. */
static int bool_filter(sb__api_ctx_t *ctx, const char *name, int col, sb_rows_cond_t *c)
{
    const char *v = sb__api_param(ctx, name);
    if (v == NULL || *v == '\0')
        return 0;
    int b;
    if (strcasecmp(v, "true") == 0)
        b = 1;
    else if (strcasecmp(v, "false") == 0)
        b = 0;
    else {
        sb__api_error(ctx, 400, "%s must be true or false", name);
        return -1;
    }
    *c = (sb_rows_cond_t){.col = col, .op = SB_ROWS_EQ, .i = b};
    return 1;
}

void sb__api_available_numbers(sb__api_ctx_t *ctx)
{
    /* segs: Accounts {AC} AvailablePhoneNumbers {ISO} <Type> */
    const char *kind = ctx->segs[4];
    const char *type = strcmp(kind, "Local") == 0      ? "local"
                       : strcmp(kind, "TollFree") == 0 ? "tollfree"
                                                       : "mobile";
    char iso[3];
    if (sb__api_load_op(ctx) || path_country(ctx, ctx->sub, iso))
        return;
    int err = 0;
    if (!country_known(ctx, iso, &err)) {
        if (err)
            sb__api_error(ctx, 500, "Database error");
        else
            sb__api_error_code(ctx, 404, 20404, "No phone numbers are available in %s",
                               iso);
        return;
    }

    sb_rows_cond_t c[16];
    int n = 0;
    c[n++] = (sb_rows_cond_t){.col = C_COUNTRY, .op = SB_ROWS_EQ, .s = iso};
    c[n++] = (sb_rows_cond_t){.col = C_TYPE, .op = SB_ROWS_EQ, .s = type};
    c[n++] = (sb_rows_cond_t){.col = C_TAKEN, .op = SB_ROWS_EQ, .i = 0};
    sb_buf_t area = SB_BUF_INIT, pat = SB_BUF_INIT;

    const char *ac = sb__api_param(ctx, "AreaCode");
    if (ac && *ac) {
        size_t l = strlen(ac);
        if (l != 3 || strspn(ac, "0123456789") != 3) {
            sb__api_error(ctx, 400, "AreaCode must be three digits");
            goto out;
        }
        if (strcmp(iso, "US") != 0 && strcmp(iso, "CA") != 0) {
            sb__api_error(ctx, 400, "AreaCode applies to US and CA numbers only");
            goto out;
        }
        sb_buf_puts(&area, "+1");
        sb_buf_puts(&area, ac);
        sb_buf_putc(&area, '%');
        c[n++] = (sb_rows_cond_t){.col = C_NUMBER, .op = SB_ROWS_LIKE,
                                  .s = sb_buf_str(&area)};
    }
    const char *contains = sb__api_param(ctx, "Contains");
    if (contains && *contains) {
        size_t l = strlen(contains);
        if (l < 2 || l > 20) {
            sb__api_error(ctx, 400, "Contains must be 2 to 20 characters: digits, "
                                    "letters and '*'");
            goto out;
        }
        sb_buf_putc(&pat, '%');
        for (const char *p = contains; *p; p++) {
            if (*p >= '0' && *p <= '9') {
                sb_buf_putc(&pat, *p);
            } else if (*p == '*') {
                sb_buf_putc(&pat, '_');
            } else if (keypad(*p)) {
                sb_buf_putc(&pat, keypad(*p));
            } else {
                sb__api_error(ctx, 400, "Contains may hold digits, letters and '*' "
                                        "only");
                goto out;
            }
        }
        sb_buf_putc(&pat, '%');
        c[n++] = (sb_rows_cond_t){.col = C_NUMBER, .op = SB_ROWS_LIKE,
                                  .s = sb_buf_str(&pat)};
    }
    static const struct {
        const char *param;
        int col;
        sb_rows_op_t op;
    } texts[] = {
        {"InRegion", C_REGION, SB_ROWS_EQ_NOCASE},
        {"InPostalCode", C_POSTAL, SB_ROWS_EQ},
        {"InLocality", C_LOCALITY, SB_ROWS_EQ_NOCASE},
        {"InRateCenter", C_LOCALITY, SB_ROWS_EQ_NOCASE},
    };
    for (size_t i = 0; i < SB_COUNTOF(texts); i++) {
        const char *v = sb__api_param(ctx, texts[i].param);
        if (v && *v)
            c[n++] = (sb_rows_cond_t){.col = texts[i].col, .op = texts[i].op, .s = v};
    }
    static const struct {
        const char *param;
        int col;
    } bools[] = {
        {"VoiceEnabled", C_VOICE},
        {"SmsEnabled", C_SMS},
        {"MmsEnabled", C_MMS},
        {"FaxEnabled", C_FAX},
    };
    for (size_t i = 0; i < SB_COUNTOF(bools); i++) {
        int r = bool_filter(ctx, bools[i].param, bools[i].col, &c[n]);
        if (r < 0)
            goto out;
        n += r;
    }

    sb_rows_query_t q = {.conds = c, .nconds = n, .order_col = C_NUMBER, .limit = -1};
    sb__api_page_t pg;
    if (sb__api_page_prepare(ctx, &pool_table, c, n, &q, &pg))
        goto out;
    q.after = NULL;             /* pages by offset: AfterSid names no number */

    sb__api_w_t items;
    sb__api_w_init(&items, ctx->json);      /* bare values: array items */
    avail_t a = {.ctx = ctx, .w = &items};
    if (sb_rows_list(ctx->api->store, &pool_table, &q, on_available, &a) != 0) {
        sb__api_w_free(&items);
        sb__api_error(ctx, 500, "Database error");
        goto out;
    }
    pg.shown = a.shown;

    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    if (ctx->json == SB__API_JSON_TWILIO) {
        sb__api_w_obj_begin(&w, NULL, NULL);
        sb__api_page_json(ctx, &w, &pg);
        sb__api_w_arr_begin(&w, NULL, "available_phone_numbers", NULL);
        sb_buf_append(&w.buf, items.buf.data, items.buf.len);
        sb__api_w_arr_end(&w, NULL);
        sb__api_w_obj_end(&w, NULL);
    } else if (ctx->json) {
        /* Restcomm's JSON: a bare array. */
        sb__api_w_arr_begin(&w, NULL, NULL, NULL);
        sb_buf_append(&w.buf, items.buf.data, items.buf.len);
        sb__api_w_arr_end(&w, NULL);
    } else {
        sb__api_w_doc_begin(&w);
        sb__api_w_arr_begin(&w, "AvailablePhoneNumbers", NULL, NULL);
        sb_buf_append(&w.buf, items.buf.data, items.buf.len);
        sb__api_w_arr_end(&w, "AvailablePhoneNumbers");
        sb__api_w_doc_end(&w);
    }
    sb__api_w_free(&items);
    sb__api_send_doc(ctx, &w);
out:
    sb_buf_free(&area);
    sb_buf_free(&pat);
}
