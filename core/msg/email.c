/*
 * email.c: e-mail (REST Email/Messages and <Email>): validation, the
 * email_messages row, sending through the http module's SMTP client
 * (libcurl on the thread pool), and the outcome recorded; a failure is
 * also a Notification of the account (error, code 13001 as Restcomm's
 * "error sending" family, with the server's words).
 */
#include "msg_int.h"
#include "notify.h"
#include "rows.h"
#include "smtp.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const sb_rows_col_t cols[] = {
    {"sid", SB_ROWS_TEXT},      {"account_sid", SB_ROWS_TEXT},
    {"sender", SB_ROWS_TEXT},   {"recipient", SB_ROWS_TEXT},
    {"cc", SB_ROWS_TEXT},       {"bcc", SB_ROWS_TEXT},
    {"subject", SB_ROWS_TEXT},  {"body", SB_ROWS_TEXT},
    {"content_type", SB_ROWS_TEXT}, {"status", SB_ROWS_TEXT},
    {"error_message", SB_ROWS_TEXT}, {"call_sid", SB_ROWS_TEXT},
    {"date_sent", SB_ROWS_INT}, {"date_created", SB_ROWS_INT},
    {"date_updated", SB_ROWS_INT},
};
enum { E_SID, E_ACCOUNT, E_FROM, E_TO, E_CC, E_BCC, E_SUBJECT, E_BODY, E_CTYPE,
       E_STATUS, E_ERROR, E_CALL, E_SENT, E_CREATED, E_UPDATED, E_NCOLS };
static const sb_rows_table_t table = {"email_messages", cols, E_NCOLS};

#define EMAIL_MAX_BODY (256 * 1024)

/* One e-mail being sent. Owner: itself, freed in on_sent. */
typedef struct {
    sb_msg_t *m;
    char sid[SB_SID_SIZE];
    char account_sid[SB_SID_SIZE];
    char *call_sid;
    sb_msg_op_t *op;
} email_t;

static void set_s(sb_rows_val_t *v, const char *s)
{
    v->set = 1;
    v->null = s == NULL || *s == '\0';
    v->s = s;
}

static void set_i(sb_rows_val_t *v, int64_t i)
{
    v->set = 1;
    v->i = i;
}

int sb__msg_email_busy(const sb_msg_t *m)
{
    return m->emails > 0;
}

/* An address list: comma-separated addresses, each with one '@', no
 * spaces inside, no angle brackets or CR/LF. */
static int addresses_ok(const char *list, int required)
{
    if (list == NULL || *list == '\0')
        return !required;
    if (strlen(list) > 2048)
        return 0;
    int n = 0;
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        int at = 0, len = 0;
        for (; *p && *p != ','; p++, len++) {
            if (*p == '@')
                at++;
            if (*p == ' ' || *p == '<' || *p == '>' || *p == '\r' || *p == '\n' ||
                (unsigned char)*p < 0x20)
                return 0;
        }
        if (at != 1 || len < 3)
            return 0;
        n++;
    }
    return n > 0;
}

static void on_sent(int err, const char *reason, void *arg)
{
    email_t *e = arg;
    sb_msg_t *m = e->m;
    m->emails--;
    const char *status = err == 0 ? "sent" : "failed";
    sb_rows_val_t v[E_NCOLS];
    memset(v, 0, sizeof v);
    int64_t t = sb_time_now_ms() / 1000;
    set_s(&v[E_STATUS], status);
    set_i(&v[E_UPDATED], t);
    if (err == 0)
        set_i(&v[E_SENT], t);
    else
        set_s(&v[E_ERROR], reason ? reason : sb_strerror(err));
    sb_rows_cond_t c = {.col = E_SID, .op = SB_ROWS_EQ, .s = e->sid};
    if (m->store)
        sb_rows_update(m->store, &table, &c, 1, v, NULL);
    if (err != 0) {
        sb_warn("email %s: not sent: %s", e->sid, reason ? reason : sb_strerror(err));
        sb_notify_message(m->store, e->account_sid, e->call_sid, SB_NOTIFY_ERROR, 13001,
                          "email %s not sent: %s", e->sid,
                          reason ? reason : sb_strerror(err));
    } else {
        sb_info("email %s: sent", e->sid);
    }
    sb_msg_op_t *op = e->op;
    if (op && op->ecb)
        op->ecb(e->sid, status, err ? (reason ? reason : sb_strerror(err)) : NULL,
                op->arg);
    free(op);
    free(e->call_sid);
    free(e);
}

int sb_msg_email_send(sb_msg_t *m, const sb_msg_email_req_t *req,
                      char sid[SB_SID_SIZE], char *err, size_t errlen,
                      sb_msg_email_done_cb cb, void *arg, sb_msg_op_t **op)
{
    char scratch[8];
    if (err == NULL) {
        err = scratch;
        errlen = sizeof scratch;
    }
    const sb_config_t *cfg = m->cfg;
    if (m->closing) {
        snprintf(err, errlen, "The server is shutting down");
        return SB_ESTATE;
    }
    if (cfg->email_smtp_url == NULL) {
        snprintf(err, errlen, "E-mail is not configured (email.smtp_url).");
        return SB_ESTATE;
    }
    const char *from = req->from && *req->from ? req->from : cfg->email_from;
    if (from == NULL || *from == '\0') {
        snprintf(err, errlen, "From can not be null.");
        return SB_EINVAL;
    }
    if (req->to == NULL || *req->to == '\0') {
        snprintf(err, errlen, "To can not be null.");
        return SB_EINVAL;
    }
    if (!addresses_ok(from, 1) || strchr(from, ',')) {
        snprintf(err, errlen, "From is not a valid e-mail address.");
        return SB_EINVAL;
    }
    if (!addresses_ok(req->to, 1) || !addresses_ok(req->cc, 0) ||
        !addresses_ok(req->bcc, 0)) {
        snprintf(err, errlen, "To, CC or BCC holds an invalid e-mail address.");
        return SB_EINVAL;
    }
    const char *subject = req->subject && *req->subject ? req->subject
                                                        : "Restcomm Email Service";
    if (strpbrk(subject, "\r\n") || strlen(subject) > 998) {
        snprintf(err, errlen, "Subject must be one line.");
        return SB_EINVAL;
    }
    const char *body = req->body ? req->body : "";
    if (strlen(body) > EMAIL_MAX_BODY) {
        snprintf(err, errlen, "Body is longer than %d bytes.", EMAIL_MAX_BODY);
        return SB_ETOOBIG;
    }
    const char *ctype = req->content_type && *req->content_type ? req->content_type
                                                                : "text/plain";
    if (strpbrk(ctype, "\r\n") || strncmp(ctype, "text/", 5) != 0) {
        snprintf(err, errlen, "Type must be a text/* content type.");
        return SB_EINVAL;
    }
    email_t *e = SB_NEW(email_t);
    e->m = m;
    sb_sid_new("EM", e->sid);
    snprintf(e->account_sid, sizeof e->account_sid, "%s", req->account_sid);
    e->call_sid = req->call_sid ? sb_xstrdup(req->call_sid) : NULL;

    sb_rows_val_t v[E_NCOLS];
    memset(v, 0, sizeof v);
    int64_t t = sb_time_now_ms() / 1000;
    set_s(&v[E_SID], e->sid);
    set_s(&v[E_ACCOUNT], e->account_sid);
    set_s(&v[E_FROM], from);
    set_s(&v[E_TO], req->to);
    set_s(&v[E_CC], req->cc);
    set_s(&v[E_BCC], req->bcc);
    set_s(&v[E_SUBJECT], subject);
    v[E_BODY].set = 1;
    v[E_BODY].s = body;
    set_s(&v[E_CTYPE], ctype);
    set_s(&v[E_STATUS], "queued");
    set_s(&v[E_CALL], req->call_sid);
    set_i(&v[E_CREATED], t);
    set_i(&v[E_UPDATED], t);
    if (sb_rows_insert(m->store, &table, v) != 0) {
        free(e->call_sid);
        free(e);
        snprintf(err, errlen, "The message could not be stored.");
        return SB_ESTORE;
    }
    char *full_ctype = strstr(ctype, "charset") ? sb_xstrdup(ctype)
                                                 : sb_xasprintf("%s; charset=UTF-8", ctype);
    sb_http_smtp_req_t sreq = {
        .url = cfg->email_smtp_url,
        .user = cfg->email_user,
        .password = cfg->email_password,
        .from = from,
        .to = req->to,
        .cc = req->cc,
        .bcc = req->bcc,
        .subject = subject,
        .body = body,
        .content_type = full_ctype,
    };
    if (cb) {
        e->op = SB_NEW(sb_msg_op_t);
        e->op->ecb = cb;
        e->op->arg = arg;
        if (op)
            *op = e->op;
    }
    snprintf(sid, SB_SID_SIZE, "%s", e->sid);
    int rc = sb_http_smtp_send(m->loop, &sreq, on_sent, e);
    free(full_ctype);
    if (rc != 0) {
        m->emails++;
        on_sent(rc, "the mail could not be queued", e);
        return 0;
    }
    m->emails++;
    sb_info("email %s: queued from %s to %s", e->sid, from, req->to);
    return 0;
}
