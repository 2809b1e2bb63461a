/*
 * views.c: hooks the console can serve straight from the store, through
 * its public row layer (rows.h) and the registrar's store API: the live
 * registrations for registrations() and their counts for stats(), and
 * the incoming phone numbers for numbers().
 *
 * Leaves out: anything live that is not in the database (calls, SIP
 * trace): those hooks come from their own modules.
 */
#include <stdio.h>

#include "con_int.h"
#include "rows.h"
#include "sip_store.h"

/* The registrar's table (core/store/migrations/0004_registrations.sql),
 * read-only. Column 0 must be TEXT for the row layer: the login. */
static const sb_rows_col_t reg_cols[] = {
    {"login", SB_ROWS_TEXT},     {"contact", SB_ROWS_TEXT},
    {"source_ip", SB_ROWS_TEXT}, {"source_port", SB_ROWS_INT},
    {"transport", SB_ROWS_TEXT}, {"user_agent", SB_ROWS_TEXT},
    {"expires_at", SB_ROWS_INT},
};
static const sb_rows_table_t reg_table = {"registrations", reg_cols,
                                          (int)SB_COUNTOF(reg_cols)};

typedef struct {
    sb_con_rows_t *out;
    int64_t now;
} reg_list_t;

static int on_registration(const sb_rows_val_t *v, void *arg)
{
    reg_list_t *l = arg;
    char source[128];
    snprintf(source, sizeof source, "%s:%lld/%s", v[2].null ? "?" : v[2].s,
             (long long)v[3].i, v[4].null ? "?" : v[4].s);
    sb_con_rows_add(l->out);
    sb_con_rows_str(l->out, "login", v[0].null ? "" : v[0].s);
    sb_con_rows_str(l->out, "contact", v[1].null ? "" : v[1].s);
    sb_con_rows_str(l->out, "source", source);
    sb_con_rows_str(l->out, "user_agent", v[5].null ? "" : v[5].s);
    sb_con_rows_int(l->out, "expires_in", v[6].i - l->now);
    return 0;
}

static int store_registrations(void *arg, sb_con_rows_t *out)
{
    sb_store_t *store = arg;
    int64_t now = sb_time_now_ms() / 1000;
    sb_rows_cond_t live = {.col = 6, .op = SB_ROWS_GT, .i = now};
    sb_rows_query_t q = {
        .conds = &live, .nconds = 1, .order_col = 0, .limit = 10000,
    };
    reg_list_t l = {out, now};
    return sb_rows_list(store, &reg_table, &q, on_registration, &l);
}

/* The IncomingPhoneNumbers resource's table (0003_numbers.sql). */
static const sb_rows_col_t num_cols[] = {
    {"sid", SB_ROWS_TEXT},          {"phone_number", SB_ROWS_TEXT},
    {"friendly_name", SB_ROWS_TEXT}, {"voice_url", SB_ROWS_TEXT},
    {"voice_application_sid", SB_ROWS_TEXT}, {"account_sid", SB_ROWS_TEXT},
};
static const sb_rows_table_t num_table = {"incoming_phone_numbers", num_cols,
                                          (int)SB_COUNTOF(num_cols)};

static int on_number(const sb_rows_val_t *v, void *arg)
{
    sb_con_rows_t *out = arg;
    sb_con_rows_add(out);
    sb_con_rows_str(out, "number", v[1].null ? "" : v[1].s);
    sb_con_rows_str(out, "friendly_name", v[2].null ? "" : v[2].s);
    /* The application wins over the URL, as in routing. */
    sb_con_rows_str(out, "voice", !v[4].null ? v[4].s : v[3].null ? "" : v[3].s);
    sb_con_rows_str(out, "account_sid", v[5].null ? "" : v[5].s);
    sb_con_rows_str(out, "sid", v[0].null ? "" : v[0].s);
    return 0;
}

static int store_numbers(void *arg, sb_con_rows_t *out)
{
    sb_rows_query_t q = {.order_col = 1, .limit = 10000};
    return sb_rows_list(arg, &num_table, &q, on_number, out);
}

static int store_registered(void *arg, int64_t *users, int64_t *contacts)
{
    return sb_store_registrations_count(arg, sb_time_now_ms() / 1000, users,
                                        contacts);
}

void sb_con_hooks_from_store(sb_con_hooks_t *hooks, struct sb_store_s *store)
{
    hooks->registrations = store_registrations;
    hooks->registrations_arg = store;
    hooks->registered = store_registered;
    hooks->registered_arg = store;
    hooks->numbers = store_numbers;
    hooks->numbers_arg = store;
}
