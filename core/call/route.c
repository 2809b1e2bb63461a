/*
 * route.c: from a dialled user part to an application. The number
 * matcher (numbers.c) picks the IncomingPhoneNumber; this file adds its
 * account's standing and, when the number points at an Application, the
 * application's RCML URL, which wins over the number's own URL (the same
 * for the Refer URL: ReferApplicationSid wins over ReferUrl).
 */
#include "route.h"
#include "rows.h"

#include <string.h>

static const sb_rows_col_t app_cols[] = {
    {"sid", SB_ROWS_TEXT},
    {"rcml_url", SB_ROWS_TEXT},
};
static const sb_rows_table_t applications = {"applications", app_cols,
                                             (int)SB_COUNTOF(app_cols)};

void sb__route_clear(sb__route_t *r)
{
    free(r->phone_number);
    free(r->url);
    free(r->method);
    free(r->fallback_url);
    free(r->fallback_method);
    free(r->refer_url);
    free(r->refer_method);
    free(r->status_callback);
    free(r->status_callback_method);
    memset(r, 0, sizeof *r);
}

/* Takes an owned string out of a matched number ("" counts as unset). */
static char *take(char **p)
{
    char *s = *p;
    *p = NULL;
    if (s && *s == '\0') {
        free(s);
        s = NULL;
    }
    return s;
}

static char *val(const sb_row_t *row, int i)
{
    const sb_rows_val_t *v = &row->v[i];
    return v->null || v->s == NULL || v->s[0] == '\0' ? NULL : sb_xstrdup(v->s);
}

/* The application's RCML URL, or NULL. */
static char *app_url(sb_store_t *store, const char *app_sid)
{
    sb_rows_cond_t c = {.col = 0, .op = SB_ROWS_EQ, .s = app_sid};
    sb_row_t row;
    if (sb_rows_get(store, &applications, &c, 1, &row) != 0)
        return NULL;
    char *u = val(&row, 1);
    sb_row_free(&row);
    return u;
}

int sb__route_lookup(sb_call_mgr_t *mgr, const char *user, sb__route_t *out)
{
    memset(out, 0, sizeof *out);
    if (user == NULL || *user == '\0')
        return SB_ENOENT;
    sb_call_number_t n;
    int rc = sb_call_number_match(mgr->numbers, user, &n);
    if (rc != 0)
        return rc;
    snprintf(out->number_sid, sizeof out->number_sid, "%s", n.sid);
    snprintf(out->account_sid, sizeof out->account_sid, "%s", n.account_sid);
    out->phone_number = take(&n.phone_number);
    out->url = n.voice_application_sid ? app_url(mgr->store, n.voice_application_sid)
                                       : NULL;
    if (out->url == NULL)
        out->url = take(&n.voice_url);
    out->method = take(&n.voice_method);
    out->fallback_url = take(&n.voice_fallback_url);
    out->fallback_method = take(&n.voice_fallback_method);
    out->refer_url = n.refer_application_sid
                         ? app_url(mgr->store, n.refer_application_sid) : NULL;
    if (out->refer_url == NULL)
        out->refer_url = take(&n.refer_url);
    out->refer_method = take(&n.refer_method);
    out->status_callback = take(&n.status_callback);
    out->status_callback_method = take(&n.status_callback_method);
    sb_call_number_clear(&n);

    sb_account_t acct;
    if (sb_store_account_get(mgr->store, out->account_sid, &acct) == 0) {
        out->account_active = acct.status && strcmp(acct.status, "active") == 0;
        sb_account_clear(&acct);
    }
    return 0;
}
