/*
 * sms.c: SMS: validation, the sms_messages rows, delivery over SIP
 * MESSAGE (a Client's every registered contact, or a number through
 * sip.outbound_proxy) or SMPP (smpp.c), status callbacks, and incoming
 * MESSAGE: between two Clients of one account (relayed and recorded), or
 * to a number (recorded as received, then the number's SMS application
 * runs through the runner).
 *
 * Who sent an incoming MESSAGE: a From user that is a Client counts as
 * that Client only when the request comes from the address of one of its
 * registered contacts (the registrar authenticated that binding);
 * anything else is an outside sender, which may reach numbers only.
 * Left out: MMS, push notifications, Restcomm's libphonenumber E.164
 * normalization of numbers.
 */
#include "msg_int.h"
#include "call.h"
#include "http.h"
#include "notify.h"
#include "rows.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- the rows ---------------------------------------------------------- */

static const sb_rows_col_t sms_cols[] = {
    {"sid", SB_ROWS_TEXT},          {"account_sid", SB_ROWS_TEXT},
    {"sender", SB_ROWS_TEXT},       {"recipient", SB_ROWS_TEXT},
    {"body", SB_ROWS_TEXT},         {"status", SB_ROWS_TEXT},
    {"direction", SB_ROWS_TEXT},    {"error_code", SB_ROWS_INT},
    {"error_message", SB_ROWS_TEXT}, {"num_segments", SB_ROWS_INT},
    {"call_sid", SB_ROWS_TEXT},     {"status_callback", SB_ROWS_TEXT},
    {"status_callback_method", SB_ROWS_TEXT}, {"smsc_id", SB_ROWS_TEXT},
    {"date_sent", SB_ROWS_INT},     {"date_created", SB_ROWS_INT},
    {"date_updated", SB_ROWS_INT},
};
enum { S_SID, S_ACCOUNT, S_FROM, S_TO, S_BODY, S_STATUS, S_DIRECTION,
       S_ERROR_CODE, S_ERROR_MESSAGE, S_SEGMENTS, S_CALL, S_CB, S_CB_METHOD,
       S_SMSC, S_SENT, S_CREATED, S_UPDATED, S_NCOLS };
static const sb_rows_table_t sms_table = {"sms_messages", sms_cols, S_NCOLS};

static const sb_rows_col_t client_cols[] = {
    {"sid", SB_ROWS_TEXT}, {"account_sid", SB_ROWS_TEXT},
    {"login", SB_ROWS_TEXT}, {"status", SB_ROWS_INT},
};
static const sb_rows_table_t clients = {"clients", client_cols, 4};

static const sb_rows_col_t number_cols[] = {
    {"sid", SB_ROWS_TEXT}, {"sms_url", SB_ROWS_TEXT},
    {"sms_method", SB_ROWS_TEXT}, {"sms_fallback_url", SB_ROWS_TEXT},
    {"sms_fallback_method", SB_ROWS_TEXT}, {"sms_application_sid", SB_ROWS_TEXT},
};
static const sb_rows_table_t numbers = {"incoming_phone_numbers", number_cols, 6};

static const sb_rows_col_t app_cols[] = {
    {"sid", SB_ROWS_TEXT}, {"rcml_url", SB_ROWS_TEXT},
};
static const sb_rows_table_t apps = {"applications", app_cols, 2};

static void set_s(sb_rows_val_t *v, const char *s)
{
    v->set = 1;
    v->null = s == NULL;
    v->s = s;
}

static void set_i(sb_rows_val_t *v, int64_t i)
{
    v->set = 1;
    v->i = i;
}

static int64_t now_s(void)
{
    return sb_time_now_ms() / 1000;
}

/* ---- validation ---------------------------------------------------------- */

/* Characters (code points) of a UTF-8 string, or -1 when it is not
 * well-formed UTF-8 (overlongs, surrogates and NUL refused). */
static long utf8_chars(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    long n = 0;
    while (*p) {
        unsigned c = *p;
        int len;
        unsigned cp;
        if (c < 0x80) {
            len = 1;
            cp = c;
        } else if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return -1;
        }
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return -1;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return -1;
        p += len;
        n++;
    }
    return n;
}

/* A number or login as SMS addresses hold them: printable ASCII without
 * spaces, 1..64 characters. */
static int address_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return 0;
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || strchr("<>\"@;", *s))
            return 0;
    return 1;
}

/* The login of "client:alice" (or NULL when addr has no such prefix). */
static const char *client_prefix(const char *addr)
{
    return strncasecmp(addr, "client:", 7) == 0 ? addr + 7 : NULL;
}

/* Looks up the client with login; fills account (SB_SID_SIZE) and the
 * login as stored. Returns 0, SB_ENOENT or SB_ESTORE. */
static int find_client(sb_msg_t *m, const char *login, char *account,
                       char *stored, size_t stored_len)
{
    sb_rows_cond_t c = {.col = 2, .op = SB_ROWS_EQ_NOCASE, .s = login};
    sb_row_t row;
    int rc = sb_rows_get(m->store, &clients, &c, 1, &row);
    if (rc != 0)
        return rc;
    snprintf(account, SB_SID_SIZE, "%s", row.v[1].s);
    if (stored)
        snprintf(stored, stored_len, "%s", row.v[2].s);
    rc = row.v[3].i == 0 ? SB_EPERM : 0;        /* a disabled client */
    sb_row_free(&row);
    return rc;
}

/* ---- status callbacks ---------------------------------------------------- */

static void on_callback_done(int err, const sb_http_response_t *resp, void *arg)
{
    char *url = arg;
    if (err != 0 && err != SB_ECANCELED)
        sb_warn("sms: status callback %s failed: %s", url, sb_strerror(err));
    else if (err == 0 && (resp->status < 200 || resp->status > 299))
        sb_warn("sms: status callback %s answered %d", url, resp->status);
    free(url);
}

static void post_status(sb__sms_t *d, const char *status, int error_code)
{
    sb_msg_t *m = d->m;
    if (d->status_callback == NULL || m->http == NULL)
        return;
    sb_http_params_t p = SB_HTTP_PARAMS_INIT;
    char code[16];
    sb_http_params_add(&p, "SmsSid", d->sid);
    sb_http_params_add(&p, "MessageSid", d->sid);
    sb_http_params_add(&p, "AccountSid", d->account_sid);
    sb_http_params_add(&p, "From", d->from);
    sb_http_params_add(&p, "To", d->to);
    sb_http_params_add(&p, "Body", d->body);
    sb_http_params_add(&p, "SmsStatus", status);
    sb_http_params_add(&p, "MessageStatus", status);
    sb_http_params_add(&p, "ApiVersion", "2012-04-24");
    if (error_code) {
        snprintf(code, sizeof code, "%d", error_code);
        sb_http_params_add(&p, "ErrorCode", code);
    }
    sb_http_fetch_req_t req = {
        .method = d->status_callback_method ? d->status_callback_method : "POST",
        .url = d->status_callback,
        .params = &p,
        .timeout_ms = 10000,
    };
    char *url = sb_xstrdup(d->status_callback);
    if (sb_http_fetch(m->http, &req, on_callback_done, url, NULL) != 0) {
        sb_warn("sms %s: cannot request status callback %s", d->sid, url);
        free(url);
    }
    sb_http_params_free(&p);
}

/* ---- deliveries -------------------------------------------------------- */

static void free_sms(sb__sms_t *d)
{
    if (d->pprev) {
        *d->pprev = d->next;
        if (d->next)
            d->next->pprev = d->pprev;
    }
    free(d->from);
    free(d->to);
    free(d->body);
    free(d->status_callback);
    free(d->status_callback_method);
    free(d);
}

static void update_row(sb_msg_t *m, const char *sid, const char *status,
                       int error_code, const char *error_message, int sent)
{
    sb_rows_val_t v[S_NCOLS];
    memset(v, 0, sizeof v);
    int64_t t = now_s();
    set_s(&v[S_STATUS], status);
    set_i(&v[S_UPDATED], t);
    if (error_code) {
        set_i(&v[S_ERROR_CODE], error_code);
        set_s(&v[S_ERROR_MESSAGE], error_message);
    }
    if (sent)
        set_i(&v[S_SENT], t);
    /* A delivery receipt may overtake the answer to the last part of a
     * long message: "sent" never replaces what the receipt said. */
    sb_rows_cond_t c[3] = {
        {.col = S_SID, .op = SB_ROWS_EQ, .s = sid},
        {.col = S_STATUS, .op = SB_ROWS_NE, .s = "delivered"},
        {.col = S_STATUS, .op = SB_ROWS_NE, .s = "undelivered"},
    };
    int nc = strcmp(status, "sent") == 0 ? 3 : 1;
    if (sb_rows_update(m->store, &sms_table, c, nc, v, NULL) != 0)
        sb_warn("sms %s: cannot record status %s", sid, status);
}

void sb__msg_sms_status(sb__sms_t *d, const char *status, int error_code,
                        const char *error_message, int final)
{
    sb_msg_t *m = d->m;
    if (d->finished)
        return;
    int sent = strcmp(status, "sent") == 0 || strcmp(status, "delivered") == 0;
    update_row(m, d->sid, status, error_code, error_message, sent);
    sb_info("sms %s: %s%s%s", d->sid, status, error_message ? ": " : "",
            error_message ? error_message : "");
    if (strcmp(status, "sending") != 0)
        post_status(d, status, error_code);
    if (!final)
        return;
    d->finished = 1;
    if (sent)
        m->stats.sent++;
    else
        m->stats.failed++;
    for (int i = 0; i < d->nsent; i++)
        if (d->sent[i])
            sb_sip_message_cancel(d->sent[i]);
    sb_msg_op_t *op = d->op;
    d->op = NULL;
    if (m->smpp)
        sb__smpp_forget(m->smpp, d);
    /* An SMPP message stays known by its SMSC id in the table; the
     * delivery itself ends here. */
    char sid[SB_SID_SIZE];
    snprintf(sid, sizeof sid, "%s", d->sid);
    free_sms(d);
    if (op && op->cb) {
        sb_msg_sms_done_cb cb = op->cb;
        void *arg = op->arg;
        free(op);
        cb(sid, status, error_code, arg);
    } else {
        free(op);
    }
}

void sb__msg_sms_smsc_id(sb__sms_t *d, const char *smsc_id)
{
    sb_rows_val_t v[S_NCOLS];
    memset(v, 0, sizeof v);
    set_s(&v[S_SMSC], smsc_id);
    sb_rows_cond_t c = {.col = S_SID, .op = SB_ROWS_EQ, .s = d->sid};
    sb_rows_update(d->m->store, &sms_table, &c, 1, v, NULL);
}

void sb__msg_sms_receipt(sb_msg_t *m, const char *smsc_id, const char *status,
                         int error_code)
{
    sb_rows_cond_t c = {.col = S_SMSC, .op = SB_ROWS_EQ, .s = smsc_id};
    sb_row_t row;
    if (sb_rows_get(m->store, &sms_table, &c, 1, &row) != 0) {
        sb_warn("smpp: receipt for unknown message %s", smsc_id);
        return;
    }
    /* The delivery has ended (at submit_sm_resp); a callback still goes
     * out, from the recorded row. */
    sb__sms_t d = {.m = m};
    snprintf(d.sid, sizeof d.sid, "%s", row.v[S_SID].s);
    snprintf(d.account_sid, sizeof d.account_sid, "%s", row.v[S_ACCOUNT].s);
    d.from = (char *)row.v[S_FROM].s;
    d.to = (char *)row.v[S_TO].s;
    d.body = (char *)row.v[S_BODY].s;
    d.status_callback = row.v[S_CB].null ? NULL : (char *)row.v[S_CB].s;
    d.status_callback_method = row.v[S_CB_METHOD].null ? NULL
                                                         : (char *)row.v[S_CB_METHOD].s;
    update_row(m, d.sid, status, error_code,
               error_code ? "delivery receipt: not delivered" : NULL, 0);
    sb_info("sms %s: %s (delivery receipt)", d.sid, status);
    post_status(&d, status, error_code);
    sb_row_free(&row);
}

static void on_message_done(int status, const char *phrase, void *arg)
{
    struct sb__sms_leg_s *leg = arg;
    sb__sms_t *d = leg->d;
    d->sent[leg->i] = NULL;     /* the sip module has freed it */
    d->pending--;
    if (status >= 200 && status < 300) {
        sb__msg_sms_status(d, "sent", 0, NULL, 1);
        return;
    }
    sb_debug("sms %s: MESSAGE answered %d %s", d->sid, status, phrase ? phrase : "");
    if (d->pending > 0)
        return;
    char why[128];
    snprintf(why, sizeof why, "SIP %d %s", status, phrase ? phrase : "");
    /* 30003 unreachable handset, 30005 unknown destination, 30008 other. */
    int code = status == 404 || status == 604 ? 30005
               : status == 408 || status == 480 || status == 503 ? 30003
                                                                 : 30008;
    sb__msg_sms_status(d, "failed", code, why, 1);
}

/* Sends d as one MESSAGE to uri via dest. Returns 0 or SB_E*. */
static int send_one(sb__sms_t *d, const char *uri, const char *dest,
                    const char *from_user, const sb_sip_header_t *h, size_t nh)
{
    if (d->nsent >= (int)SB_COUNTOF(d->sent))
        return SB_ELIMIT;
    sb_sip_message_req_t req = {
        .request_uri = uri,
        .dest = dest,
        .from_user = from_user,
        .body = d->body,
        .headers = h,
        .header_count = nh,
    };
    sb_sip_message_t *sm = NULL;
    struct sb__sms_leg_s *leg = &d->legs[d->nsent];
    leg->d = d;
    leg->i = d->nsent;
    int rc = sb_sip_message_send(d->m->sip, &req, on_message_done, leg, &sm);
    if (rc == 0) {
        d->sent[d->nsent++] = sm;
        d->pending++;
    }
    return rc;
}

/* The From user of our MESSAGE: a Client's login without "client:". */
static const char *from_user_of(const char *from)
{
    const char *c = client_prefix(from);
    return c ? c : from;
}

/* Starts the delivery of a recorded message. to_client: the login when
 * the recipient is a Client. */
static void deliver(sb__sms_t *d, const char *to_client,
                    const sb_sip_header_t *h, size_t nh)
{
    sb_msg_t *m = d->m;
    sb__msg_sms_status(d, "sending", 0, NULL, 0);
    if (to_client) {
        sb_sip_contact_t *c = NULL;
        size_t n = 0;
        if (m->sip == NULL || sb_sip_location_lookup(m->sip, to_client, &c, &n) != 0 ||
            n == 0) {
            sb__msg_sms_status(d, "failed", 30003, "the client is not registered", 1);
            return;
        }
        for (size_t i = 0; i < n; i++)
            send_one(d, c[i].uri, c[i].dest, from_user_of(d->from), h, nh);
        sb_sip_contacts_free(c, n);
        if (d->pending == 0)
            sb__msg_sms_status(d, "failed", 30008, "no MESSAGE could be sent", 1);
        return;
    }
    if (m->smpp) {
        sb__smpp_submit(m->smpp, d);
        return;
    }
    char *uri = NULL;
    if (m->sip == NULL || m->cfg->sip_outbound_proxy == NULL ||
        sb_sip_uri_with_user(m->cfg->sip_outbound_proxy, d->to, &uri) != 0) {
        sb__msg_sms_status(d, "failed", 30008,
                           "no route to numbers (no SMSC, no sip.outbound_proxy)", 1);
        return;
    }
    int rc = send_one(d, uri, m->cfg->sip_outbound_proxy, from_user_of(d->from), h, nh);
    free(uri);
    if (rc != 0)
        sb__msg_sms_status(d, "failed", 30008, sb_strerror(rc), 1);
}

/* Inserts the row of a new message. Returns 0 or SB_ESTORE. */
static int insert_row(sb_msg_t *m, const char *sid, const char *account,
                      const char *from, const char *to, const char *body,
                      const char *status, const char *direction,
                      const char *call_sid, const char *cb, const char *cb_method,
                      int segments)
{
    sb_rows_val_t v[S_NCOLS];
    memset(v, 0, sizeof v);
    int64_t t = now_s();
    set_s(&v[S_SID], sid);
    set_s(&v[S_ACCOUNT], account);
    set_s(&v[S_FROM], from);
    set_s(&v[S_TO], to);
    set_s(&v[S_BODY], body);
    set_s(&v[S_STATUS], status);
    set_s(&v[S_DIRECTION], direction);
    set_i(&v[S_SEGMENTS], segments);
    set_s(&v[S_CALL], call_sid);
    set_s(&v[S_CB], cb);
    set_s(&v[S_CB_METHOD], cb_method);
    set_i(&v[S_CREATED], t);
    set_i(&v[S_UPDATED], t);
    if (strcmp(status, "received") == 0)
        set_i(&v[S_SENT], t);
    int rc = sb_rows_insert(m->store, &sms_table, v);
    return rc == 0 ? 0 : SB_ESTORE;
}

/* Segments of a body: 160 GSM-ish characters in one, 153 per part when
 * split (UDH); 70 / 67 for UCS-2 (any non-ASCII character). */
static int segments_of(const char *body, long chars)
{
    int ucs2 = 0;
    for (const unsigned char *p = (const unsigned char *)body; *p; p++)
        if (*p >= 0x80)
            ucs2 = 1;
    long one = ucs2 ? 70 : 160, part = ucs2 ? 67 : 153;
    if (chars <= one)
        return 1;
    return (int)((chars + part - 1) / part);
}

int sb_msg_sms_send(sb_msg_t *m, const sb_msg_sms_req_t *req,
                    char sid[SB_SID_SIZE], char *err, size_t errlen,
                    sb_msg_sms_done_cb cb, void *arg, sb_msg_op_t **op)
{
    char scratch[8];
    if (err == NULL) {
        err = scratch;
        errlen = sizeof scratch;
    }
    if (m->closing) {
        snprintf(err, errlen, "The server is shutting down");
        return SB_ESTATE;
    }
    if (req->from == NULL || *req->from == '\0') {
        snprintf(err, errlen, "From can not be null.");
        return SB_EINVAL;
    }
    if (req->to == NULL || *req->to == '\0') {
        snprintf(err, errlen, "To can not be null.");
        return SB_EINVAL;
    }
    if (req->body == NULL || *req->body == '\0') {
        snprintf(err, errlen, "Body can not be null.");
        return SB_EINVAL;
    }
    if (!address_ok(req->from) || !address_ok(req->to)) {
        snprintf(err, errlen, "%s is not a valid address.",
                 address_ok(req->from) ? "To" : "From");
        return SB_EINVAL;
    }
    long chars = utf8_chars(req->body);
    if (chars < 0) {
        snprintf(err, errlen, "Body is not valid UTF-8.");
        return SB_EINVAL;
    }
    if (chars > m->cfg->sms_max_length) {
        snprintf(err, errlen, "Body is longer than %d characters.",
                 m->cfg->sms_max_length);
        return SB_ETOOBIG;
    }
    if (req->status_callback && *req->status_callback &&
        strncmp(req->status_callback, "http://", 7) != 0 &&
        strncmp(req->status_callback, "https://", 8) != 0) {
        snprintf(err, errlen, "StatusCallback is not an http(s) URL.");
        return SB_EINVAL;
    }

    /* From: a Client or a number of the account. */
    char owner[SB_SID_SIZE] = "";
    const char *from_login = client_prefix(req->from);
    int rc = find_client(m, from_login ? from_login : req->from, owner, NULL, 0);
    int from_ok = rc == 0 && strcmp(owner, req->account_sid) == 0;
    if (!from_ok && from_login == NULL) {
        sb_call_number_t num;
        if (sb_call_number_match(m->numbers, req->from, &num) == 0) {
            from_ok = strcmp(num.account_sid, req->account_sid) == 0 &&
                      num.kind != SB_NUMBER_CATCH_ALL;
            sb_call_number_clear(&num);
        }
    }
    if (!from_ok) {
        snprintf(err, errlen, "From %s is not a number or client of this account.",
                 req->from);
        return SB_EPERM;
    }

    /* To: a Client of the account, or a number. */
    char login[128] = "";
    const char *to_login = client_prefix(req->to);
    rc = find_client(m, to_login ? to_login : req->to, owner, login, sizeof login);
    int to_client = rc == 0 && strcmp(owner, req->account_sid) == 0;
    if (!to_client && to_login) {
        snprintf(err, errlen, "Client %s not found.", to_login);
        return SB_ENOENT;
    }
    if (!to_client) {
        /* A number: digits, '+', '*', '#'. */
        for (const char *p = req->to; *p; p++)
            if (!((*p >= '0' && *p <= '9') || strchr("+*#", *p))) {
                snprintf(err, errlen, "To %s is neither a client of this account "
                         "nor a phone number.", req->to);
                return SB_ENOENT;
            }
    }

    sb__sms_t *d = SB_NEW(sb__sms_t);
    d->m = m;
    sb_sid_new("SM", d->sid);
    snprintf(d->account_sid, sizeof d->account_sid, "%s", req->account_sid);
    d->from = sb_xstrdup(req->from);
    d->to = sb_xstrdup(req->to);
    d->body = sb_xstrdup(req->body);
    if (req->status_callback && *req->status_callback) {
        d->status_callback = sb_xstrdup(req->status_callback);
        d->status_callback_method = sb_xstrdup(req->status_callback_method &&
                                               strcasecmp(req->status_callback_method,
                                                          "GET") == 0
                                                   ? "GET"
                                                   : "POST");
    }
    const char *direction = req->direction ? req->direction : "outbound-api";
    if (insert_row(m, d->sid, d->account_sid, d->from, d->to, d->body, "queued",
                   direction, req->call_sid, d->status_callback,
                   d->status_callback_method, segments_of(d->body, chars)) != 0) {
        free_sms(d);
        snprintf(err, errlen, "The message could not be stored.");
        return SB_ESTORE;
    }
    d->next = m->deliveries;
    if (d->next)
        d->next->pprev = &d->next;
    d->pprev = &m->deliveries;
    m->deliveries = d;
    snprintf(sid, SB_SID_SIZE, "%s", d->sid);
    if (cb) {
        d->op = SB_NEW(sb_msg_op_t);
        d->op->cb = cb;
        d->op->arg = arg;
        if (op)
            *op = d->op;
    }
    sb_info("sms %s: queued from %s to %s (%ld characters, %s)", d->sid, d->from,
            d->to, chars, direction);
    deliver(d, to_client ? login : NULL, req->headers, req->header_count);
    return 0;
}

void sb_msg_op_forget(sb_msg_op_t *op)
{
    if (op) {
        op->cb = NULL;
        op->ecb = NULL;
    }
}

/* ---- incoming ------------------------------------------------------------ */

int sb__msg_sms_inbound(sb_msg_t *m, const char *from, const char *to,
                        const char *body)
{
    sb_call_number_t num;
    int rc = sb_call_number_match(m->numbers, to, &num);
    if (rc != 0)
        return rc;
    sb_rows_cond_t c = {.col = 0, .op = SB_ROWS_EQ, .s = num.sid};
    sb_row_t row;
    rc = sb_rows_get(m->store, &numbers, &c, 1, &row);
    if (rc != 0) {
        sb_call_number_clear(&num);
        return rc;
    }
    char sid[SB_SID_SIZE];
    sb_sid_new("SM", sid);
    rc = insert_row(m, sid, num.account_sid, from, to, body, "received", "inbound",
                    NULL, NULL, NULL, 1);
    if (rc != 0) {
        sb_row_free(&row);
        sb_call_number_clear(&num);
        return rc;
    }
    m->stats.received++;
    sb_info("sms %s: received from %s for %s", sid, from, to);
    char *url = NULL;
    const sb_rows_val_t *v = row.v;
    if (!v[5].null && *v[5].s) {
        sb_rows_cond_t ac = {.col = 0, .op = SB_ROWS_EQ, .s = v[5].s};
        sb_row_t app;
        if (sb_rows_get(m->store, &apps, &ac, 1, &app) == 0) {
            if (!app.v[1].null)
                url = sb_xstrdup(app.v[1].s);
            sb_row_free(&app);
        }
    } else if (!v[1].null && *v[1].s) {
        url = sb_xstrdup(v[1].s);
    }
    if (url && m->runner) {
        sb_msg_inbound_t in = {
            .sid = sid,
            .account_sid = num.account_sid,
            .from = from,
            .to = to,
            .body = body,
            .url = url,
            .method = v[5].null && !v[2].null ? v[2].s : "POST",
            .fallback_url = v[5].null && !v[3].null ? v[3].s : NULL,
            .fallback_method = v[5].null && !v[4].null ? v[4].s : NULL,
        };
        m->runner(&in, m->runner_arg);
    } else {
        sb_info("sms %s: number %s has no SMS application", sid, num.sid);
    }
    free(url);
    sb_row_free(&row);
    sb_call_number_clear(&num);
    return 0;
}

/* The Client an incoming MESSAGE comes from: its login is the From user
 * and the request comes from one of its registered contacts. */
static int sender_client(sb_msg_t *m, const sb_sip_message_info_t *info,
                         char account[SB_SID_SIZE], char *login, size_t len)
{
    if (*info->from_user == '\0' ||
        find_client(m, info->from_user, account, login, len) != 0)
        return 0;
    sb_sip_contact_t *c = NULL;
    size_t n = 0;
    int ok = 0;
    if (sb_sip_location_lookup(m->sip, login, &c, &n) == 0) {
        for (size_t i = 0; i < n && !ok; i++)
            ok = c[i].source_port == info->source_port &&
                 strcmp(c[i].source_ip, info->source_ip) == 0;
        sb_sip_contacts_free(c, n);
    }
    return ok;
}

static int on_sip_message(const sb_sip_message_info_t *info, void *arg)
{
    sb_msg_t *m = arg;
    if (m->closing)
        return 503;
    const char *to = *info->ruri_user ? info->ruri_user : info->to_user;
    if (*to == '\0')
        return 404;
    if (utf8_chars(info->body) < 0 || strlen(info->body) != info->body_len)
        return 488;
    if (info->body_len == 0)
        return 400;
    if (utf8_chars(info->body) > m->cfg->sms_max_length)
        return 413;
    char account[SB_SID_SIZE], login[128];
    int from_client = sender_client(m, info, account, login, sizeof login);

    /* To a Client: only from a Client of the same account. */
    char to_account[SB_SID_SIZE], to_login[128];
    if (find_client(m, to, to_account, to_login, sizeof to_login) == 0) {
        if (!from_client || strcmp(account, to_account) != 0) {
            sb_info("sms: MESSAGE from %s:%d (%s) to client %s refused",
                    info->source_ip, info->source_port, info->from_user, to);
            return 403;
        }
        char from[140], dest[140], sid[SB_SID_SIZE], err[160];
        snprintf(from, sizeof from, "client:%s", login);
        snprintf(dest, sizeof dest, "client:%s", to_login);
        sb_msg_sms_req_t req = {
            .account_sid = account,
            .from = from,
            .to = dest,
            .body = info->body,
            .direction = "inbound",
            .headers = info->headers,
            .header_count = info->header_count,
        };
        int rc = sb_msg_sms_send(m, &req, sid, err, sizeof err, NULL, NULL, NULL);
        if (rc != 0) {
            sb_info("sms: MESSAGE %s -> %s refused: %s", login, to_login, err);
            return rc == SB_ETOOBIG ? 413 : 500;
        }
        return 202;
    }
    int rc = sb__msg_sms_inbound(m, from_client ? login : info->from_user, to,
                                 info->body);
    if (rc == SB_ENOENT)
        return 404;
    return rc == 0 ? 202 : 500;
}

/* ---- the module ---------------------------------------------------------- */

int sb_msg_new(const sb_msg_deps_t *deps, sb_msg_t **out)
{
    sb_msg_t *m = SB_NEW(sb_msg_t);
    m->loop = deps->loop;
    m->cfg = deps->cfg;
    m->store = deps->store;
    m->sip = deps->sip;
    m->http = deps->http;
    int rc = sb_call_numbers_new(m->store, &m->numbers);
    if (rc != 0) {
        free(m);
        return rc;
    }
    if (m->cfg->sms_smpp_host && (rc = sb__smpp_new(m, &m->smpp)) != 0) {
        sb_call_numbers_free(m->numbers);
        free(m);
        return rc;
    }
    uv_timer_init(m->loop, &m->close_timer);
    m->close_timer.data = m;
    if (m->sip)
        sb_sip_set_message_handler(m->sip, on_sip_message, m);
    *out = m;
    return 0;
}

void sb_msg_set_runner(sb_msg_t *m, sb_msg_runner_cb cb, void *arg)
{
    m->runner = cb;
    m->runner_arg = arg;
}

void sb_msg_stats(const sb_msg_t *m, sb_msg_stats_t *out)
{
    *out = m->stats;
    out->smpp_bound = m->smpp ? sb__smpp_bound(m->smpp) : 0;
}

static void on_close_timer_closed(uv_handle_t *h)
{
    sb_msg_t *m = h->data;
    void (*cb)(void *) = m->close_cb;
    void *arg = m->close_arg;
    sb_call_numbers_free(m->numbers);
    free(m);
    if (cb)
        cb(arg);
}

static void on_close_tick(uv_timer_t *t)
{
    sb_msg_t *m = t->data;
    if (m->smpp || sb__msg_email_busy(m))
        return;                 /* the SMPP close or an e-mail is pending */
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, on_close_timer_closed);
}

static void on_smpp_closed(void *arg)
{
    sb_msg_t *m = arg;
    m->smpp = NULL;
}

void sb_msg_close(sb_msg_t *m, void (*cb)(void *arg), void *arg)
{
    m->closing = 1;
    m->close_cb = cb;
    m->close_arg = arg;
    if (m->sip)
        sb_sip_set_message_handler(m->sip, NULL, NULL);
    m->runner = NULL;
    while (m->deliveries)
        sb__msg_sms_status(m->deliveries, "failed", 30008, "the server stopped", 1);
    if (m->smpp)
        sb__smpp_close(m->smpp, on_smpp_closed, m);
    uv_timer_start(&m->close_timer, on_close_tick, 0, 20);
}
