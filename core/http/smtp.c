/*
 * smtp.c: e-mail over SMTP with libcurl's easy interface, run on libuv's
 * thread pool (uv_queue_work): the worker builds the message (RFC 5322
 * headers, the body as given), runs the transfer and keeps curl's error
 * text; the loop thread gets the result in the after-work callback. No
 * curl handle is shared between threads. Not done: attachments, MIME
 * multipart, OAuth.
 */
#include "smtp.h"
#include "util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One mail in flight. Owner: itself, freed after the callback. */
typedef struct {
    uv_work_t work;
    char *url, *user, *password, *from, *to, *cc, *bcc, *subject, *body, *ctype;
    int timeout_ms;
    char *payload;              /* the whole message text */
    size_t len, off;
    int err;
    char reason[CURL_ERROR_SIZE + 64];
    sb_http_smtp_done_cb cb;
    void *arg;
} smtp_job_t;

static char *dup0(const char *s)
{
    return s && *s ? sb_xstrdup(s) : NULL;
}

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static size_t on_read(char *ptr, size_t size, size_t nmemb, void *userp)
{
    smtp_job_t *j = userp;
    size_t room = size * nmemb, left = j->len - j->off;
    size_t n = left < room ? left : room;
    memcpy(ptr, j->payload + j->off, n);
    j->off += n;
    return n;
}

/* Appends each address of a comma-separated list as a recipient. */
static struct curl_slist *add_rcpts(struct curl_slist *l, const char *list)
{
    if (list == NULL)
        return l;
    char *copy = sb_xstrdup(list), *save = NULL;
    for (char *a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        while (*a == ' ')
            a++;
        size_t n = strlen(a);
        while (n && a[n - 1] == ' ')
            a[--n] = '\0';
        if (n == 0)
            continue;
        char *r = sb_xasprintf("<%s>", a);
        l = curl_slist_append(l, r);
        free(r);
    }
    free(copy);
    return l;
}

static void build_payload(smtp_job_t *j)
{
    sb_buf_t b = SB_BUF_INIT;
    char date[64];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &tm);
    sb_buf_printf(&b, "Date: %s\r\nFrom: %s\r\nTo: %s\r\n", date, j->from, j->to);
    if (j->cc)
        sb_buf_printf(&b, "Cc: %s\r\n", j->cc);
    sb_buf_printf(&b, "Subject: %s\r\nMIME-Version: 1.0\r\nContent-Type: %s\r\n\r\n",
                  j->subject ? j->subject : "",
                  j->ctype ? j->ctype : "text/plain; charset=UTF-8");
    /* Bare LFs become CRLF; curl dot-stuffs lines itself. */
    for (const char *p = j->body ? j->body : ""; *p; p++) {
        if (*p == '\n' && (p == j->body || p[-1] != '\r'))
            sb_buf_putc(&b, '\r');
        sb_buf_putc(&b, *p);
    }
    sb_buf_puts(&b, "\r\n");
    j->len = b.len;
    j->payload = sb_buf_steal(&b);
}

static void on_work(uv_work_t *w)
{
    smtp_job_t *j = w->data;
    build_payload(j);
    CURL *c = curl_easy_init();
    if (c == NULL) {
        j->err = SB_ENOMEM;
        return;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *rcpt = add_rcpts(NULL, j->to);
    rcpt = add_rcpts(rcpt, j->cc);
    rcpt = add_rcpts(rcpt, j->bcc);
    char *mail_from = sb_xasprintf("<%s>", j->from);
    curl_easy_setopt(c, CURLOPT_URL, j->url);
    curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, j);
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(j->timeout_ms > 0 ? j->timeout_ms : 30000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    if (j->user) {
        curl_easy_setopt(c, CURLOPT_USERNAME, j->user);
        curl_easy_setopt(c, CURLOPT_PASSWORD, j->password ? j->password : "");
    }
    CURLcode rc = curl_easy_perform(c);
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (rc == CURLE_OK) {
        j->err = 0;
    } else {
        j->err = rc == CURLE_OPERATION_TIMEDOUT ? SB_ETIMEDOUT
                 : code >= 400                 ? SB_EREJECTED
                                               : SB_ENETWORK;
        snprintf(j->reason, sizeof j->reason, "SMTP %ld: %s", code,
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
    }
    curl_slist_free_all(rcpt);
    free(mail_from);
    curl_easy_cleanup(c);
}

static void job_free(smtp_job_t *j)
{
    free(j->url);
    free(j->user);
    free(j->password);
    free(j->from);
    free(j->to);
    free(j->cc);
    free(j->bcc);
    free(j->subject);
    free(j->body);
    free(j->ctype);
    free(j->payload);
    free(j);
}

static void on_after(uv_work_t *w, int status)
{
    smtp_job_t *j = w->data;
    int err = status == UV_ECANCELED ? SB_ECANCELED : j->err;
    j->cb(err, err ? j->reason : NULL, j->arg);
    job_free(j);
}

int sb_http_smtp_send(uv_loop_t *loop, const sb_http_smtp_req_t *req,
                      sb_http_smtp_done_cb cb, void *arg)
{
    if (req->url == NULL || req->from == NULL || *req->from == '\0' ||
        req->to == NULL || *req->to == '\0' || has_crlf(req->from) ||
        has_crlf(req->to) || has_crlf(req->cc) || has_crlf(req->bcc) ||
        has_crlf(req->subject) || has_crlf(req->content_type))
        return SB_EINVAL;
    smtp_job_t *j = SB_NEW(smtp_job_t);
    j->url = sb_xstrdup(req->url);
    j->user = dup0(req->user);
    j->password = dup0(req->password);
    j->from = sb_xstrdup(req->from);
    j->to = sb_xstrdup(req->to);
    j->cc = dup0(req->cc);
    j->bcc = dup0(req->bcc);
    j->subject = dup0(req->subject);
    j->body = sb_xstrdup(req->body ? req->body : "");
    j->ctype = dup0(req->content_type);
    j->timeout_ms = req->timeout_ms;
    j->cb = cb;
    j->arg = arg;
    j->work.data = j;
    int rc = uv_queue_work(loop, &j->work, on_work, on_after);
    if (rc != 0) {
        job_free(j);
        return SB_EINVAL;
    }
    return 0;
}
