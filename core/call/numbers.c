/*
 * numbers.c: the number matcher (call.h), the one function call routing
 * and REFER use to find the IncomingPhoneNumber a dialled string reaches.
 *
 * Order, as Restcomm's NumberSelectorService: the string as given, then
 * its '+' / no-'+' variant, each as an exact phone number; then, when the
 * string holds only digits and * # + , characters, the pattern numbers
 * (pure-SIP numbers holding one of * # ^ | . $ \ [ ]) longest pattern
 * first, each tried as a substring search on both candidates; then the
 * catch-all number "*". Patterns are compiled once (regex.c, linear time)
 * and kept until meta 'numbers_version' changes (triggers bump it on every
 * change to the numbers table). Not done: Restcomm's libphonenumber US
 * normalization of the candidate, and organizations (one SIP domain).
 */
#include "call.h"
#include "rows.h"
#include "store.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The columns the matcher reads; the REST resource (core/api/numbers.c)
 * owns the table's full description. */
static const sb_rows_col_t cols[] = {
    {"sid", SB_ROWS_TEXT},
    {"account_sid", SB_ROWS_TEXT},
    {"phone_number", SB_ROWS_TEXT},
    {"pure_sip", SB_ROWS_INT},
    {"voice_url", SB_ROWS_TEXT},
    {"voice_method", SB_ROWS_TEXT},
    {"voice_fallback_url", SB_ROWS_TEXT},
    {"voice_fallback_method", SB_ROWS_TEXT},
    {"voice_application_sid", SB_ROWS_TEXT},
    {"status_callback", SB_ROWS_TEXT},
    {"status_callback_method", SB_ROWS_TEXT},
    {"refer_url", SB_ROWS_TEXT},
    {"refer_method", SB_ROWS_TEXT},
    {"refer_application_sid", SB_ROWS_TEXT},
};
enum { C_SID, C_ACCOUNT, C_NUMBER, C_PURE_SIP, C_VOICE_URL, C_VOICE_METHOD,
       C_VOICE_FB_URL, C_VOICE_FB_METHOD, C_VOICE_APP, C_STATUS_CB,
       C_STATUS_CB_METHOD, C_REFER_URL, C_REFER_METHOD, C_REFER_APP };
static const sb_rows_table_t numbers = {"incoming_phone_numbers", cols,
                                        (int)SB_COUNTOF(cols)};

typedef struct {
    char *number;
    char sid[SB_SID_SIZE];
    size_t len;
    sb_call_regex_t *re;
} pattern_t;

/* Owner: whoever called sb_call_numbers_new. */
struct sb_call_numbers_s {
    struct sb_store_s *store;
    char *version;              /* numbers_version the cache was built at */
    pattern_t *pats;
    int npats;
    uint64_t loads;             /* times the patterns were compiled */
};

int sb_call_number_is_pattern(const char *number)
{
    return number && strcmp(number, "*") != 0 && strpbrk(number, "*#^|.$\\[]") != NULL;
}

int sb_call_numbers_new(struct sb_store_s *store, sb_call_numbers_t **out)
{
    sb_call_numbers_t *m = SB_NEW(sb_call_numbers_t);
    m->store = store;
    *out = m;
    return 0;
}

static void drop_patterns(sb_call_numbers_t *m)
{
    for (int i = 0; i < m->npats; i++) {
        free(m->pats[i].number);
        sb_call_regex_free(m->pats[i].re);
    }
    free(m->pats);
    m->pats = NULL;
    m->npats = 0;
}

void sb_call_numbers_free(sb_call_numbers_t *m)
{
    if (m == NULL)
        return;
    drop_patterns(m);
    free(m->version);
    free(m);
}

uint64_t sb_call_numbers_loads(const sb_call_numbers_t *m)
{
    return m->loads;
}

void sb_call_number_clear(sb_call_number_t *n)
{
    free(n->phone_number);
    free(n->voice_url);
    free(n->voice_method);
    free(n->voice_fallback_url);
    free(n->voice_fallback_method);
    free(n->voice_application_sid);
    free(n->status_callback);
    free(n->status_callback_method);
    free(n->refer_url);
    free(n->refer_method);
    free(n->refer_application_sid);
    memset(n, 0, sizeof *n);
}

typedef struct {
    sb_call_numbers_t *m;
    int cap;
} load_t;

static int on_pattern_row(const sb_rows_val_t *v, void *arg)
{
    load_t *l = arg;
    sb_call_numbers_t *m = l->m;
    const char *num = v[C_NUMBER].s;
    if (!sb_call_number_is_pattern(num))
        return 0;
    char err[256];
    sb_call_regex_t *re = NULL;
    if (sb_call_regex_compile(num, &re, err, sizeof err) != 0) {
        /* The REST API refuses such patterns; one written another way is
         * skipped rather than matched wrongly. */
        sb_warn("numbers: pattern %s of %s skipped: %s", num, v[C_SID].s, err);
        return 0;
    }
    if (m->npats == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        m->pats = sb_xrealloc(m->pats, (size_t)l->cap * sizeof *m->pats);
    }
    pattern_t *p = &m->pats[m->npats++];
    p->number = sb_xstrdup(num);
    p->len = strlen(num);
    snprintf(p->sid, sizeof p->sid, "%s", v[C_SID].s);
    p->re = re;
    return 0;
}

static int by_length_desc(const void *a, const void *b)
{
    const pattern_t *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? 1 : -1;
    return strcmp(x->number, y->number);    /* stable, deterministic */
}

/* Reloads the compiled patterns when the numbers changed. */
static int refresh(sb_call_numbers_t *m)
{
    char *v = NULL;
    int rc = sb_store_meta_get(m->store, "numbers_version", &v);
    if (rc != 0 && rc != SB_ENOENT)
        return rc;
    if (v && m->version && strcmp(v, m->version) == 0) {
        free(v);
        return 0;
    }
    drop_patterns(m);
    sb_rows_cond_t sip = {.col = C_PURE_SIP, .op = SB_ROWS_EQ, .i = 1};
    sb_rows_query_t q = {.conds = &sip, .nconds = 1, .order_col = -1, .limit = -1};
    load_t l = {.m = m};
    rc = sb_rows_list(m->store, &numbers, &q, on_pattern_row, &l);
    if (rc != 0) {
        free(v);
        drop_patterns(m);
        return rc;
    }
    if (m->npats > 1)
        qsort(m->pats, (size_t)m->npats, sizeof *m->pats, by_length_desc);
    free(m->version);
    m->version = v ? v : sb_xstrdup("");
    m->loads++;
    return 0;
}

static char *dup_or_null(const sb_rows_val_t *v)
{
    return v->null ? NULL : sb_xstrdup(v->s);
}

/* Loads the number whose column col equals value into out. Returns 0,
 * SB_ENOENT or SB_ESTORE. */
static int load(sb_call_numbers_t *m, int col, const char *value,
                sb_call_number_kind_t kind, sb_call_number_t *out)
{
    sb_rows_cond_t c = {.col = col, .op = SB_ROWS_EQ, .s = value};
    sb_row_t row;
    int rc = sb_rows_get(m->store, &numbers, &c, 1, &row);
    if (rc != 0)
        return rc;
    const sb_rows_val_t *v = row.v;
    memset(out, 0, sizeof *out);
    snprintf(out->sid, sizeof out->sid, "%s", v[C_SID].s);
    snprintf(out->account_sid, sizeof out->account_sid, "%s", v[C_ACCOUNT].s);
    out->kind = kind;
    out->pure_sip = v[C_PURE_SIP].i != 0;
    out->phone_number = dup_or_null(&v[C_NUMBER]);
    out->voice_url = dup_or_null(&v[C_VOICE_URL]);
    out->voice_method = dup_or_null(&v[C_VOICE_METHOD]);
    out->voice_fallback_url = dup_or_null(&v[C_VOICE_FB_URL]);
    out->voice_fallback_method = dup_or_null(&v[C_VOICE_FB_METHOD]);
    out->voice_application_sid = dup_or_null(&v[C_VOICE_APP]);
    out->status_callback = dup_or_null(&v[C_STATUS_CB]);
    out->status_callback_method = dup_or_null(&v[C_STATUS_CB_METHOD]);
    out->refer_url = dup_or_null(&v[C_REFER_URL]);
    out->refer_method = dup_or_null(&v[C_REFER_METHOD]);
    out->refer_application_sid = dup_or_null(&v[C_REFER_APP]);
    sb_row_free(&row);
    return 0;
}

/* Restcomm tries patterns only on strings of [\d,*#+]. */
static int dialable(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || strchr(",*#+", *s)))
            return 0;
    return 1;
}

int sb_call_number_match(sb_call_numbers_t *m, const char *phone,
                         sb_call_number_t *out)
{
    memset(out, 0, sizeof *out);
    if (phone == NULL || *phone == '\0' || strlen(phone) > 256)
        return SB_ENOENT;
    char *variant = phone[0] == '+' ? sb_xstrdup(phone + 1)
                                    : sb_xasprintf("+%s", phone);
    const char *cands[2] = {phone, variant[0] ? variant : NULL};
    int rc = SB_ENOENT;

    for (int i = 0; i < 2 && rc == SB_ENOENT; i++)
        if (cands[i])
            rc = load(m, C_NUMBER, cands[i], i ? SB_NUMBER_VARIANT : SB_NUMBER_EXACT,
                      out);
    if (rc == SB_ENOENT && dialable(phone)) {
        if ((rc = refresh(m)) == 0) {
            rc = SB_ENOENT;
            for (int p = 0; p < m->npats && rc == SB_ENOENT; p++) {
                for (int i = 0; i < 2; i++) {
                    if (cands[i] && sb_call_regex_find(m->pats[p].re, cands[i])) {
                        rc = load(m, C_SID, m->pats[p].sid, SB_NUMBER_PATTERN, out);
                        break;
                    }
                }
            }
            if (rc == SB_ENOENT)
                rc = load(m, C_NUMBER, "*", SB_NUMBER_CATCH_ALL, out);
        }
    }
    free(variant);
    return rc;
}
