/*
 * usage.c: Usage Records, computed on request by SQL aggregation (the
 * row layer's sb_rows_aggregate) over the tables that exist:
 *
 *   calls, calls-inbound, calls-outbound   calls (duration, direction, price)
 *   sms, sms-inbound, sms-outbound         sms_messages (direction, price)
 *   recordings                             recordings (duration, price)
 *   phonenumbers                           incoming_phone_numbers
 *
 * Rows are counted by date_created (seconds) within the account. Minutes
 * are the summed durations rounded up, as Restcomm reports them. A table
 * that does not exist yet counts zero; an optional column that is absent
 * (price, duration, direction) counts zero too.
 *
 * /Usage/Records and /AllTime, /Today, /Yesterday, /ThisMonth, /LastMonth
 * give one record per category (zeros included); /Daily, /Monthly,
 * /Yearly one per category and period with activity.
 */
#include "api_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

typedef enum { U_MINUTES, U_COUNT } usage_kind_t;

typedef struct {
    const char *name, *description, *table;
    usage_kind_t kind;
    const char *usage_unit, *count_unit;
    const char *dir;            /* direction filter: "inbound", "outbound%" */
} category_t;

static const category_t categories[] = {
    {"calls", "Total Calls", "calls", U_MINUTES, "minutes", "calls", NULL},
    {"calls-inbound", "Inbound Calls", "calls", U_MINUTES, "minutes", "calls", "inbound"},
    {"calls-outbound", "Outbound Calls", "calls", U_MINUTES, "minutes", "calls",
     "outbound%"},
    {"sms", "Total SMS Messages", "sms_messages", U_COUNT, "messages", "messages", NULL},
    {"sms-inbound", "Inbound SMS Messages", "sms_messages", U_COUNT, "messages",
     "messages", "inbound"},
    {"sms-outbound", "Outbound SMS Messages", "sms_messages", U_COUNT, "messages",
     "messages", "outbound%"},
    {"recordings", "Recordings", "recordings", U_MINUTES, "minutes", "recordings", NULL},
    {"phonenumbers", "Phone Numbers", "incoming_phone_numbers", U_COUNT, "numbers",
     "numbers", NULL},
};

typedef enum { P_ALL, P_DAY, P_MONTH, P_YEAR } period_t;

/* ---- dates ------------------------------------------------------------------- */

static time_t day_start(time_t t)
{
    return t - (t % 86400 + 86400) % 86400;
}

#define DAY_BUF 48

static void ymd(time_t t, char out[DAY_BUF])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, DAY_BUF, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday);
}

/* First day of the month of t, moved by months. */
static time_t month_start(time_t t, int months)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    tm.tm_mday = 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_mon += months;
    return timegm(&tm);
}

/* "YYYY-MM-DD", or "+Ndays" / "-Nday(s)" from today. Returns 0 or -1. */
static int parse_day(const char *s, time_t now, time_t *out)
{
    if (s[0] == '+' || s[0] == '-') {
        char *end = NULL;
        errno = 0;
        long n = strtol(s + 1, &end, 10);
        if (end == s + 1 || errno || n > 36500 ||
            (strcmp(end, "days") != 0 && strcmp(end, "day") != 0))
            return -1;
        *out = day_start(now) + (s[0] == '-' ? -n : n) * 86400;
        return 0;
    }
    time_t t;
    if (strlen(s) != 10 || sb_time_parse_date(s, &t) != 0)
        return -1;
    *out = t;
    return 0;
}

/* ---- aggregation --------------------------------------------------------------- */

typedef struct {
    sb__api_ctx_t *ctx;
    sb__api_w_t *w;
    const category_t *cat;
    period_t period;
    time_t from, to;            /* the range asked, whole days */
    int written;
} agg_t;

static void record(agg_t *a, const char *start, const char *end, int64_t count,
                   int64_t seconds, double price)
{
    const category_t *c = a->cat;
    sb__api_w_t *w = a->w;
    char num[64];
    sb__api_w_obj_begin(w, "UsageRecord", NULL);
    sb__api_w_str(w, "Category", "category", c->name, 0);
    sb__api_w_str(w, "Description", "description", c->description, 0);
    sb__api_w_str(w, "AccountSid", "account_sid", a->ctx->op.sid, 0);
    sb__api_w_str(w, "StartDate", "start_date", start, 0);
    sb__api_w_str(w, "EndDate", "end_date", end, 0);
    int64_t usage = c->kind == U_MINUTES ? (seconds + 59) / 60 : count;
    snprintf(num, sizeof num, "%lld", (long long)usage);
    sb__api_w_str(w, "Usage", "usage", num, 0);
    sb__api_w_str(w, "UsageUnit", "usage_unit", c->usage_unit, 0);
    snprintf(num, sizeof num, "%lld", (long long)count);
    sb__api_w_str(w, "Count", "count", num, 0);
    sb__api_w_str(w, "CountUnit", "count_unit", c->count_unit, 0);
    snprintf(num, sizeof num, "%.6g", price);
    sb__api_w_str(w, "Price", "price", num, 0);
    sb__api_w_str(w, "PriceUnit", "price_unit", "USD", 0);
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s?Category=%s&StartDate=%s&EndDate=%s", a->ctx->path, c->name,
                  start, end);
    sb__api_w_str(w, "Uri", "uri", sb_buf_str(&b), 0);
    sb_buf_free(&b);
    sb__api_w_obj_end(w, "UsageRecord");
    a->written++;
}

static int on_group(const sb_rows_group_t *g, void *arg)
{
    agg_t *a = arg;
    char start[DAY_BUF], end[DAY_BUF];
    if (a->period == P_ALL) {
        ymd(a->from, start);
        ymd(a->to, end);
    } else if (a->period == P_DAY) {
        time_t t;
        sb_time_parse_date(g->key, &t);
        ymd(t, start);
        ymd(t + 86400, end);        /* Restcomm: the next day */
    } else if (a->period == P_MONTH) {
        snprintf(start, sizeof start, "%.7s-01", g->key);
        time_t t;
        sb_time_parse_date(start, &t);
        ymd(month_start(t, 1) - 86400, end);
    } else {
        snprintf(start, sizeof start, "%.4s-01-01", g->key);
        snprintf(end, sizeof end, "%.4s-12-31", g->key);
    }
    record(a, start, end, g->count, g->sum, g->fsum);
    return 0;
}

/* Aggregates one category. Returns 0 or SB_ESTORE. */
static int aggregate(agg_t *a)
{
    sb_store_t *store = a->ctx->api->store;
    const category_t *c = a->cat;
    if (!sb_rows_table_exists(store, c->table))
        goto empty;
    int has_dur = sb_rows_has_column(store, c->table, "duration");
    int has_price = sb_rows_has_column(store, c->table, "price");
    int has_dir = sb_rows_has_column(store, c->table, "direction");
    if (c->dir && !has_dir)
        goto empty;
    sb_rows_col_t cols[6] = {{"sid", SB_ROWS_TEXT}, {"account_sid", SB_ROWS_TEXT},
                             {"date_created", SB_ROWS_INT}};
    int n = 3, dur = -1, price = -1, dir = -1;
    if (has_dur) {
        dur = n;
        cols[n++] = (sb_rows_col_t){"duration", SB_ROWS_INT};
    }
    if (has_price) {
        price = n;
        cols[n++] = (sb_rows_col_t){"price", SB_ROWS_TEXT};
    }
    if (has_dir) {
        dir = n;
        cols[n++] = (sb_rows_col_t){"direction", SB_ROWS_TEXT};
    }
    sb_rows_table_t t = {c->table, cols, n};
    sb_rows_cond_t conds[4] = {
        {.col = 1, .op = SB_ROWS_EQ, .s = a->ctx->op.sid},
        {.col = 2, .op = SB_ROWS_GE, .i = (int64_t)a->from},
        {.col = 2, .op = SB_ROWS_LT, .i = (int64_t)a->to + 86400},
    };
    int nc = 3;
    if (c->dir)
        conds[nc++] = (sb_rows_cond_t){.col = dir,
                                       .op = strchr(c->dir, '%') ? SB_ROWS_LIKE : SB_ROWS_EQ,
                                       .s = c->dir};
    static const char *const periods[] = {NULL, "day", "month", "year"};
    int before = a->written;
    int rc = sb_rows_aggregate(store, &t, conds, nc, 2, periods[a->period],
                               c->kind == U_MINUTES ? dur : -1, price, on_group, a);
    if (rc != 0)
        return rc;
    if (a->period != P_ALL || a->written > before)
        return 0;
empty:
    if (a->period == P_ALL) {
        char start[DAY_BUF], end[DAY_BUF];
        ymd(a->from, start);
        ymd(a->to, end);
        record(a, start, end, 0, 0, 0);
    }
    return 0;
}

/* ---- the handler ------------------------------------------------------------------ */

void sb__api_usage(sb__api_ctx_t *ctx)
{
    if (sb__api_load_op(ctx))
        return;
    time_t now = time(NULL), today = day_start(now);
    agg_t a = {.ctx = ctx, .period = P_ALL, .from = 0, .to = today};
    int fixed = 0;
    const char *sub = ctx->sub;
    if (sub == NULL || strcasecmp(sub, "AllTime") == 0) {
        /* the whole range, narrowed by StartDate / EndDate */
    } else if (strcasecmp(sub, "Daily") == 0) {
        a.period = P_DAY;
    } else if (strcasecmp(sub, "Monthly") == 0) {
        a.period = P_MONTH;
    } else if (strcasecmp(sub, "Yearly") == 0) {
        a.period = P_YEAR;
    } else if (strcasecmp(sub, "Today") == 0) {
        a.from = a.to = today;
        fixed = 1;
    } else if (strcasecmp(sub, "Yesterday") == 0) {
        a.from = a.to = today - 86400;
        fixed = 1;
    } else if (strcasecmp(sub, "ThisMonth") == 0) {
        a.from = month_start(now, 0);
        a.to = month_start(now, 1) - 86400;
        fixed = 1;
    } else if (strcasecmp(sub, "LastMonth") == 0) {
        a.from = month_start(now, -1);
        a.to = month_start(now, 0) - 86400;
        fixed = 1;
    } else {
        sb__api_error(ctx, 404, "Unknown usage period %s", sub);
        return;
    }
    if (!fixed) {
        const char *sd = sb__api_param(ctx, "StartDate");
        const char *ed = sb__api_param(ctx, "EndDate");
        if (sd && *sd && parse_day(sd, now, &a.from) != 0) {
            sb__api_error(ctx, 400, "StartDate must be YYYY-MM-DD or a day offset "
                                    "such as -30days");
            return;
        }
        if (ed && *ed && parse_day(ed, now, &a.to) != 0) {
            sb__api_error(ctx, 400, "EndDate must be YYYY-MM-DD or a day offset "
                                    "such as -30days");
            return;
        }
        if (a.to < a.from) {
            sb__api_error(ctx, 400, "EndDate is before StartDate");
            return;
        }
    }
    const char *cat = sb__api_param(ctx, "Category");
    const category_t *only = NULL;
    if (cat && *cat) {
        for (size_t i = 0; i < SB_COUNTOF(categories); i++)
            if (strcmp(categories[i].name, cat) == 0)
                only = &categories[i];
        if (only == NULL) {
            sb_buf_t b = SB_BUF_INIT;
            for (size_t i = 0; i < SB_COUNTOF(categories); i++)
                sb_buf_printf(&b, "%s%s", i ? ", " : "", categories[i].name);
            sb__api_error(ctx, 400, "Category %s is not supported; use one of: %s", cat,
                          sb_buf_str(&b));
            sb_buf_free(&b);
            return;
        }
    }

    sb__api_w_t w;
    sb__api_w_init(&w, ctx->json);
    a.w = &w;
    sb__api_w_doc_begin(&w);
    /* Twilio's dialect wraps every list in its page object. */
    int twilio = ctx->json == SB__API_JSON_TWILIO;
    if (twilio) {
        sb__api_w_obj_begin(&w, NULL, NULL);
        sb__api_w_int(&w, NULL, "page", 0);
        sb__api_w_int(&w, NULL, "page_size", (int64_t)SB_COUNTOF(categories));
        sb__api_w_str(&w, NULL, "uri", ctx->path, 0);
        sb__api_w_str(&w, NULL, "first_page_uri", ctx->path, 0);
        sb__api_w_str(&w, NULL, "previous_page_uri", NULL, 0);
        sb__api_w_str(&w, NULL, "next_page_uri", NULL, 0);
    }
    sb__api_w_arr_begin(&w, "UsageRecords", "usage_records", NULL);
    for (size_t i = 0; i < SB_COUNTOF(categories); i++) {
        if (only && only != &categories[i])
            continue;
        a.cat = &categories[i];
        if (aggregate(&a) != 0) {
            sb__api_w_free(&w);
            sb__api_error(ctx, 500, "Database error");
            return;
        }
    }
    sb__api_w_arr_end(&w, "UsageRecords");
    if (twilio)
        sb__api_w_obj_end(&w, NULL);
    sb__api_w_doc_end(&w);
    sb__api_send_doc(ctx, &w);
}
