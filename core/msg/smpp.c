/*
 * smpp.c: the SMPP 3.4 client towards one SMSC (sms.smpp_host), written
 * on libuv with the PDUs packed and unpacked by libsmpp34.
 *
 *   connect -> bind_transceiver -> bound: queued messages go out as
 *   submit_sm (a window of SMPP_WINDOW in flight), enquire_link every
 *   sms.smpp_enquire_link seconds (no answer within that time drops the
 *   link); deliver_sm is answered and is either a delivery receipt
 *   (esm_class 0x04: the message's status becomes delivered or
 *   undelivered) or an SMS for one of our numbers (sms.c's inbound path).
 *
 * A refused bind, a dropped or silent connection: the link is closed and
 * tried again after a back-off (1 s, doubling up to
 * sms.smpp_reconnect_max); messages in flight go back to the front of
 * the queue and are submitted again once bound, so none is lost
 * silently. A body longer than one PDU is split with a concatenation UDH
 * (8-bit reference, at most 32 parts; a longer body fails with 30001):
 * 160 / 153 characters in the SMSC default alphabet
 * (ASCII bodies, sent as such: data_coding 0), 70 / 67 UTF-16 code units
 * in UCS-2 (data_coding 8) otherwise. Not done: GSM 03.38 packing of
 * non-ASCII GSM characters, TON/NPI mapping, several SMSCs.
 */
#include "msg_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <smpp34.h>
#include <smpp34_structs.h>
#include <smpp34_params.h>

#define SMPP_WINDOW 10
#define SMPP_MAX_PDU 4096
#define SMPP_MAX_PARTS 32

typedef enum { L_IDLE, L_CONNECTING, L_BINDING, L_BOUND, L_CLOSING } link_state_t;

/* One submit_sm in flight: its sequence number and message part. */
typedef struct {
    uint32_t seq;
    sb__sms_t *d;               /* NULL: a slot free, or the message ended */
    int part;
} inflight_t;

/* Owner: the messaging module (m->smpp); freed once its handles closed. */
struct sb__smpp_s {
    sb_msg_t *m;
    link_state_t state;
    uv_tcp_t tcp;
    int tcp_open;               /* tcp initialised and not closed yet */
    uv_connect_t connect_req;
    uv_timer_t timer;           /* reconnect, bind timeout, enquire_link */
    uv_timer_t kick;            /* sends the queue outside the caller's stack */
    sb_buf_t rbuf;
    uint32_t seq;
    int backoff_ms;
    int64_t link_asked_ms;      /* enquire_link sent and not answered, or 0 */
    sb__sms_t *qhead, *qtail;   /* waiting for a window slot or the bind */
    inflight_t inflight[SMPP_WINDOW * SMPP_MAX_PARTS];
    int ninflight;
    uint8_t ref;                /* concatenation reference */
    int closing;
    int handles;                /* handles not closed yet */
    void (*close_cb)(void *);
    void *close_arg;
};

static void drop_link(sb__smpp_t *s, const char *why);
static void pump(sb__smpp_t *s);
static void on_timer(uv_timer_t *t);

static uint32_t next_seq(sb__smpp_t *s)
{
    s->seq = s->seq >= 0x7FFFFFFF ? 1 : s->seq + 1;
    return s->seq;
}

/* ---- the queue -------------------------------------------------------------- */

static void queue_push(sb__smpp_t *s, sb__sms_t *d, int front)
{
    d->qnext = NULL;
    if (s->qhead == NULL) {
        s->qhead = s->qtail = d;
    } else if (front) {
        d->qnext = s->qhead;
        s->qhead = d;
    } else {
        s->qtail->qnext = d;
        s->qtail = d;
    }
}

static int queue_remove(sb__smpp_t *s, sb__sms_t *d)
{
    sb__sms_t **pp = &s->qhead, *prev = NULL;
    for (; *pp; prev = *pp, pp = &(*pp)->qnext) {
        if (*pp == d) {
            *pp = d->qnext;
            if (s->qtail == d)
                s->qtail = prev;
            d->qnext = NULL;
            return 1;
        }
    }
    return 0;
}

/* ---- writing ------------------------------------------------------------------ */

typedef struct {
    uv_write_t req;
    uint8_t data[SMPP_MAX_PDU];
} wbuf_t;

static void on_written(uv_write_t *req, int status)
{
    free(req->data);
}

/* Packs the PDU pdu of type and writes it. Returns 0 or SB_E*. */
static int send_pdu(sb__smpp_t *s, uint32_t type, void *pdu)
{
    if (!s->tcp_open || s->state == L_CLOSING || s->state == L_IDLE ||
        s->state == L_CONNECTING)
        return SB_ESTATE;
    wbuf_t *w = SB_NEW(wbuf_t);
    int len = 0;
    if (smpp34_pack(type, w->data, sizeof w->data, &len, pdu) != 0) {
        sb_warn("smpp: cannot pack PDU 0x%08x: %s", type, smpp34_strerror);
        free(w);
        return SB_EINVAL;
    }
    w->req.data = w;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    int rc = uv_write(&w->req, (uv_stream_t *)&s->tcp, &b, 1, on_written);
    if (rc != 0) {
        free(w);
        return SB_ENETWORK;
    }
    return 0;
}

/* The generic header of every PDU struct. */
#define HEADER(pdu, type, status_, seq_)                                   \
    do {                                                                   \
        (pdu).command_length = 0;                                          \
        (pdu).command_id = (type);                                         \
        (pdu).command_status = (status_);                                  \
        (pdu).sequence_number = (seq_);                                    \
    } while (0)

static void copy_c(uint8_t *dst, size_t size, const char *src)
{
    snprintf((char *)dst, size, "%s", src ? src : "");
}

/* ---- submitting ---------------------------------------------------------------- */

static int is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return 0;
    return 1;
}

/* UTF-8 -> UTF-16BE; returns code units written (out has room for max). */
static size_t to_ucs2(const char *s, uint8_t *out, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;
    while (*p && n + 2 <= max * 2) {
        unsigned cp, len;
        if (*p < 0x80) {
            cp = *p;
            len = 1;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1F;
            len = 2;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0F;
            len = 3;
        } else {
            cp = *p & 0x07;
            len = 4;
        }
        for (unsigned i = 1; i < len && p[i]; i++)
            cp = (cp << 6) | (p[i] & 0x3F);
        p += len;
        if (cp >= 0x10000) {
            if (n / 2 + 2 > max)
                break;
            cp -= 0x10000;
            unsigned hi = 0xD800 | (cp >> 10), lo = 0xDC00 | (cp & 0x3FF);
            out[n++] = (uint8_t)(hi >> 8);
            out[n++] = (uint8_t)hi;
            out[n++] = (uint8_t)(lo >> 8);
            out[n++] = (uint8_t)lo;
        } else {
            out[n++] = (uint8_t)(cp >> 8);
            out[n++] = (uint8_t)cp;
        }
    }
    return n / 2;
}

/* The parts of d's body: payload bytes per part into parts[i] (each at
 * most 140 octets with the UDH). Returns the number of parts and sets
 * *coding. */
typedef struct {
    uint8_t data[160];
    size_t len;
} part_t;

static int split_body(const char *body, part_t *parts, int *coding, uint8_t ref)
{
    static uint8_t ucs[2 * (SMPP_MAX_PARTS + 1) * 70];
    size_t units, one, each, unit_bytes;
    const uint8_t *src;
    if (is_ascii(body)) {
        *coding = 0;
        src = (const uint8_t *)body;
        units = strlen(body);
        one = 160;
        each = 153;
        unit_bytes = 1;
    } else {
        *coding = 8;
        units = to_ucs2(body, ucs, sizeof ucs / 2);
        src = ucs;
        one = 70;
        each = 67;
        unit_bytes = 2;
    }
    if (units <= one) {
        memcpy(parts[0].data, src, units * unit_bytes);
        parts[0].len = units * unit_bytes;
        return 1;
    }
    int total = (int)((units + each - 1) / each);
    if (total > SMPP_MAX_PARTS)
        return -1;
    for (int i = 0; i < total; i++) {
        size_t off = (size_t)i * each;
        size_t n = units - off < each ? units - off : each;
        /* Do not split a surrogate pair. */
        if (unit_bytes == 2 && n == each && off + n < units &&
            (src[(off + n - 1) * 2] & 0xFC) == 0xD8)
            n--;
        uint8_t *p = parts[i].data;
        p[0] = 0x05;            /* UDH length */
        p[1] = 0x00;            /* IEI: concatenation, 8-bit reference */
        p[2] = 0x03;
        p[3] = ref;
        p[4] = (uint8_t)total;
        p[5] = (uint8_t)(i + 1);
        memcpy(p + 6, src + off * unit_bytes, n * unit_bytes);
        parts[i].len = 6 + n * unit_bytes;
    }
    return total;
}

static int free_slots(const sb__smpp_t *s)
{
    int used = 0;
    for (int i = 0; i < s->ninflight; i++)
        if (s->inflight[i].d)
            used++;
    return SMPP_WINDOW * SMPP_MAX_PARTS - used;
}

static inflight_t *new_slot(sb__smpp_t *s)
{
    for (int i = 0; i < s->ninflight; i++)
        if (s->inflight[i].d == NULL)
            return &s->inflight[i];
    if (s->ninflight < (int)SB_COUNTOF(s->inflight))
        return &s->inflight[s->ninflight++];
    return NULL;
}

/* Submits every part of d. Returns 0, or SB_E* (d stays queued). */
static int submit(sb__smpp_t *s, sb__sms_t *d)
{
    static part_t parts[SMPP_MAX_PARTS];
    int coding;
    int n = split_body(d->body, parts, &coding, ++s->ref);
    if (n < 0)
        return SB_ETOOBIG;
    if (free_slots(s) < n)
        return SB_EBUSY;
    d->parts_left = n;
    d->attempts++;
    for (int i = 0; i < n; i++) {
        submit_sm_t pdu;
        memset(&pdu, 0, sizeof pdu);
        uint32_t seq = next_seq(s);
        HEADER(pdu, SUBMIT_SM, ESME_ROK, seq);
        pdu.source_addr_ton = d->from[0] == '+' ? TON_International : TON_Unknown;
        pdu.source_addr_npi = NPI_ISDN_E163_E164;
        copy_c(pdu.source_addr, sizeof pdu.source_addr,
               d->from[0] == '+' ? d->from + 1 : d->from);
        pdu.dest_addr_ton = d->to[0] == '+' ? TON_International : TON_Unknown;
        pdu.dest_addr_npi = NPI_ISDN_E163_E164;
        copy_c(pdu.destination_addr, sizeof pdu.destination_addr,
               d->to[0] == '+' ? d->to + 1 : d->to);
        pdu.esm_class = n > 1 ? 0x40 : 0x00;
        pdu.registered_delivery = 1;
        pdu.data_coding = (uint8_t)coding;
        pdu.sm_length = (uint8_t)parts[i].len;
        memcpy(pdu.short_message, parts[i].data, parts[i].len);
        inflight_t *slot = new_slot(s);
        slot->seq = seq;
        slot->d = d;
        slot->part = i;
        int rc = send_pdu(s, SUBMIT_SM, &pdu);
        if (rc != 0) {
            /* The link is failing; what went out is dropped with it. */
            for (int k = 0; k < s->ninflight; k++)
                if (s->inflight[k].d == d)
                    s->inflight[k].d = NULL;
            d->parts_left = 0;
            return rc;
        }
    }
    s->m->stats.smpp_submits++;
    sb_debug("smpp: sms %s submitted in %d part(s)", d->sid, n);
    return 0;
}

static void pump(sb__smpp_t *s)
{
    while (s->state == L_BOUND && s->qhead) {
        sb__sms_t *d = s->qhead;
        s->qhead = d->qnext;
        if (s->qhead == NULL)
            s->qtail = NULL;
        d->qnext = NULL;
        int rc = submit(s, d);
        if (rc == SB_ETOOBIG) {
            sb__msg_sms_status(d, "failed", 30001,
                               "the body needs more than 32 SMPP parts", 1);
            continue;
        }
        if (rc != 0) {
            queue_push(s, d, 1);
            return;
        }
    }
}

static void on_kick(uv_timer_t *t)
{
    pump(t->data);
}

void sb__smpp_submit(sb__smpp_t *s, sb__sms_t *d)
{
    queue_push(s, d, 0);
    if (s->state != L_BOUND)
        sb_debug("smpp: sms %s waits for the SMSC", d->sid);
    uv_timer_start(&s->kick, on_kick, 0, 0);
}

void sb__smpp_forget(sb__smpp_t *s, sb__sms_t *d)
{
    queue_remove(s, d);
    for (int i = 0; i < s->ninflight; i++)
        if (s->inflight[i].d == d)
            s->inflight[i].d = NULL;
}

int sb__smpp_bound(const sb__smpp_t *s)
{
    return s->state == L_BOUND;
}

/* ---- receiving ----------------------------------------------------------------- */

static void on_submit_resp(sb__smpp_t *s, const uint8_t *buf, int len)
{
    submit_sm_resp_t r;
    memset(&r, 0, sizeof r);
    if (smpp34_unpack(SUBMIT_SM_RESP, &r, buf, len) != 0 && r.command_status == 0) {
        sb_warn("smpp: bad submit_sm_resp: %s", smpp34_strerror);
        return;
    }
    inflight_t *slot = NULL;
    for (int i = 0; i < s->ninflight; i++)
        if (s->inflight[i].d && s->inflight[i].seq == r.sequence_number)
            slot = &s->inflight[i];
    if (slot == NULL)
        return;
    sb__sms_t *d = slot->d;
    int part = slot->part;
    slot->d = NULL;
    if (r.command_status != ESME_ROK) {
        for (int i = 0; i < s->ninflight; i++)
            if (s->inflight[i].d == d)
                s->inflight[i].d = NULL;
        if (r.command_status == ESME_RTHROTTLED || r.command_status == ESME_RMSGQFUL) {
            queue_push(s, d, 0);        /* try again later */
            return;
        }
        char why[64];
        snprintf(why, sizeof why, "SMSC refused: status 0x%02x", r.command_status);
        sb__msg_sms_status(d, "failed", 30008, why, 1);
        return;
    }
    if (part == 0 && r.message_id[0])
        sb__msg_sms_smsc_id(d, (const char *)r.message_id);
    if (--d->parts_left == 0) {
        sb__msg_sms_status(d, "sent", 0, NULL, 1);
        pump(s);
    }
}

/* The value of "key:" in a receipt's text ("id:123 ... stat:DELIVRD"). */
static int receipt_field(const char *text, const char *key, char *out, size_t len)
{
    const char *p = strstr(text, key);
    if (p == NULL)
        return 0;
    p += strlen(key);
    size_t n = 0;
    while (p[n] && p[n] != ' ' && n + 1 < len)
        n++;
    memcpy(out, p, n);
    out[n] = '\0';
    return 1;
}

/* A deliver_sm body as UTF-8 (UCS-2 converted; Latin-1 octets kept when
 * they are not ASCII). Returns owned text. */
static char *body_text(const deliver_sm_t *p)
{
    size_t len = p->sm_length;
    const uint8_t *b = p->short_message;
    if (p->esm_class & 0x40 && len > 0 && b[0] + 1u <= len) {
        len -= b[0] + 1u;       /* skip a UDH */
        b += b[0] + 1u;
    }
    sb_buf_t out = SB_BUF_INIT;
    if (p->data_coding == 8) {
        for (size_t i = 0; i + 1 < len; i += 2) {
            unsigned cp = (unsigned)b[i] << 8 | b[i + 1];
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < len) {
                unsigned lo = (unsigned)b[i + 2] << 8 | b[i + 3];
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 2;
            }
            char u[4];
            int n;
            if (cp < 0x80) {
                u[0] = (char)cp;
                n = 1;
            } else if (cp < 0x800) {
                u[0] = (char)(0xC0 | cp >> 6);
                u[1] = (char)(0x80 | (cp & 0x3F));
                n = 2;
            } else if (cp < 0x10000) {
                u[0] = (char)(0xE0 | cp >> 12);
                u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[2] = (char)(0x80 | (cp & 0x3F));
                n = 3;
            } else {
                u[0] = (char)(0xF0 | cp >> 18);
                u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
                u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
                u[3] = (char)(0x80 | (cp & 0x3F));
                n = 4;
            }
            sb_buf_append(&out, u, (size_t)n);
        }
    } else {
        for (size_t i = 0; i < len; i++) {
            unsigned c = b[i];
            if (c == 0)
                continue;
            if (c < 0x80) {
                sb_buf_putc(&out, (char)c);
            } else {
                sb_buf_putc(&out, (char)(0xC0 | c >> 6));
                sb_buf_putc(&out, (char)(0x80 | (c & 0x3F)));
            }
        }
    }
    return sb_buf_steal(&out);
}

static void on_deliver(sb__smpp_t *s, const uint8_t *buf, int len)
{
    deliver_sm_t p;
    memset(&p, 0, sizeof p);
    int bad = smpp34_unpack(DELIVER_SM, &p, buf, len) != 0;
    deliver_sm_resp_t r;
    memset(&r, 0, sizeof r);
    HEADER(r, DELIVER_SM_RESP, bad ? ESME_RSYSERR : ESME_ROK, p.sequence_number);
    send_pdu(s, DELIVER_SM_RESP, &r);
    if (bad) {
        sb_warn("smpp: bad deliver_sm: %s", smpp34_strerror);
        destroy_tlv(p.tlv);
        return;
    }
    char *text = body_text(&p);
    if (p.esm_class & 0x04) {
        char id[80] = "", stat[16] = "";
        receipt_field(text, "id:", id, sizeof id);
        receipt_field(text, "stat:", stat, sizeof stat);
        for (tlv_t *t = p.tlv; t; t = t->next)
            if (t->tag == TLVID_receipted_message_id && id[0] == '\0')
                snprintf(id, sizeof id, "%.*s", (int)t->length, (const char *)t->value.octet);
        if (id[0]) {
            int ok = strcasecmp(stat, "DELIVRD") == 0;
            int final = ok || strcasecmp(stat, "UNDELIV") == 0 ||
                        strcasecmp(stat, "REJECTD") == 0 ||
                        strcasecmp(stat, "EXPIRED") == 0 || strcasecmp(stat, "DELETED") == 0;
            if (final)
                sb__msg_sms_receipt(s->m, id, ok ? "delivered" : "undelivered",
                                    ok ? 0 : 30006);
        }
    } else {
        char from[32], to[32];
        snprintf(from, sizeof from, "%s%s", p.source_addr_ton == TON_International ? "+" : "",
                 (const char *)p.source_addr);
        snprintf(to, sizeof to, "%s", (const char *)p.destination_addr);
        int rc = sb__msg_sms_inbound(s->m, from, to, text);
        if (rc != 0)
            sb_info("smpp: deliver_sm for %s: %s", to, sb_strerror(rc));
    }
    free(text);
    destroy_tlv(p.tlv);
}

static void on_bind_resp(sb__smpp_t *s, const uint8_t *buf, int len)
{
    bind_transceiver_resp_t r;
    memset(&r, 0, sizeof r);
    smpp34_unpack(BIND_TRANSCEIVER_RESP, &r, buf, len);
    destroy_tlv(r.tlv);
    if (r.command_status != ESME_ROK) {
        char why[64];
        snprintf(why, sizeof why, "bind refused (status 0x%02x)", r.command_status);
        drop_link(s, why);
        return;
    }
    s->state = L_BOUND;
    s->backoff_ms = 0;
    uv_timer_start(&s->timer, on_timer,
                   (uint64_t)s->m->cfg->sms_smpp_enquire_link * 1000, 0);
    s->m->stats.smpp_binds++;
    sb_info("smpp: bound to %s:%d as %s", s->m->cfg->sms_smpp_host,
            s->m->cfg->sms_smpp_port,
            s->m->cfg->sms_smpp_system_id ? s->m->cfg->sms_smpp_system_id : "");
    pump(s);
}

static void on_pdu(sb__smpp_t *s, const uint8_t *buf, int len)
{
    uint32_t id = (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
                  (uint32_t)buf[6] << 8 | buf[7];
    uint32_t seq = (uint32_t)buf[12] << 24 | (uint32_t)buf[13] << 16 |
                   (uint32_t)buf[14] << 8 | buf[15];
    switch (id) {
    case BIND_TRANSCEIVER_RESP:
        on_bind_resp(s, buf, len);
        break;
    case SUBMIT_SM_RESP:
        on_submit_resp(s, buf, len);
        break;
    case DELIVER_SM:
        on_deliver(s, buf, len);
        break;
    case ENQUIRE_LINK: {
        enquire_link_resp_t r;
        memset(&r, 0, sizeof r);
        HEADER(r, ENQUIRE_LINK_RESP, ESME_ROK, seq);
        send_pdu(s, ENQUIRE_LINK_RESP, &r);
        break;
    }
    case ENQUIRE_LINK_RESP:
        s->link_asked_ms = 0;
        break;
    case UNBIND: {
        unbind_resp_t r;
        memset(&r, 0, sizeof r);
        HEADER(r, UNBIND_RESP, ESME_ROK, seq);
        send_pdu(s, UNBIND_RESP, &r);
        drop_link(s, "the SMSC unbound");
        break;
    }
    case GENERIC_NACK:
        sb_warn("smpp: generic_nack for sequence %u", seq);
        break;
    default: {
        if (id & 0x80000000u)
            break;
        generic_nack_t r;
        memset(&r, 0, sizeof r);
        HEADER(r, GENERIC_NACK, ESME_RINVCMDID, seq);
        send_pdu(s, GENERIC_NACK, &r);
        break;
    }
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    static char slab[65536];
    (void)h;
    (void)suggested;
    b->base = slab;
    b->len = sizeof slab;
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    sb__smpp_t *s = st->data;
    if (n < 0) {
        drop_link(s, n == UV_EOF ? "the SMSC closed the connection" : uv_strerror((int)n));
        return;
    }
    sb_buf_append(&s->rbuf, b->base, (size_t)n);
    size_t off = 0;
    while (s->rbuf.len - off >= 16 && s->state != L_CLOSING && s->tcp_open) {
        const uint8_t *p = (const uint8_t *)s->rbuf.data + off;
        uint32_t len = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        if (len < 16 || len > SMPP_MAX_PDU) {
            drop_link(s, "a PDU of an impossible length");
            return;
        }
        if (s->rbuf.len - off < len)
            break;
        on_pdu(s, p, (int)len);
        off += len;
    }
    if (!s->tcp_open)
        return;
    if (off) {
        memmove(s->rbuf.data, s->rbuf.data + off, s->rbuf.len - off);
        s->rbuf.len -= off;
    }
}

/* ---- the link --------------------------------------------------------------- */

static void start_connect(sb__smpp_t *s);

static void on_timer(uv_timer_t *t)
{
    sb__smpp_t *s = t->data;
    int period = s->m->cfg->sms_smpp_enquire_link * 1000;
    switch (s->state) {
    case L_IDLE:
        start_connect(s);
        break;
    case L_CONNECTING:
    case L_BINDING:
        drop_link(s, "no answer from the SMSC");
        break;
    case L_BOUND:
        if (s->link_asked_ms) {
            drop_link(s, "enquire_link not answered");
            break;
        }
        enquire_link_t e;
        memset(&e, 0, sizeof e);
        HEADER(e, ENQUIRE_LINK, ESME_ROK, next_seq(s));
        s->link_asked_ms = sb_time_now_ms();
        sb_debug("smpp: enquire_link");
        send_pdu(s, ENQUIRE_LINK, &e);
        uv_timer_start(&s->timer, on_timer, (uint64_t)period, 0);
        break;
    case L_CLOSING:
        break;
    }
}

/* One handle of s closed: frees s after the last one while closing.
 * Returns 1 when s was freed. */
static int handle_closed(sb__smpp_t *s)
{
    s->handles--;
    if (!s->closing || s->handles > 0)
        return 0;
    void (*cb)(void *) = s->close_cb;
    void *arg = s->close_arg;
    sb_buf_free(&s->rbuf);
    free(s);
    cb(arg);
    return 1;
}

static void on_tcp_closed(uv_handle_t *h)
{
    sb__smpp_t *s = h->data;
    if (handle_closed(s))
        return;
    if (!s->closing) {
        s->state = L_IDLE;
        int max = s->m->cfg->sms_smpp_reconnect_max * 1000;
        s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : 1000;
        if (s->backoff_ms > max)
            s->backoff_ms = max;
        sb_info("smpp: reconnecting in %d ms", s->backoff_ms);
        uv_timer_start(&s->timer, on_timer, (uint64_t)s->backoff_ms, 0);
    }
}

/* Closes the connection; messages in flight go back to the queue. */
static void drop_link(sb__smpp_t *s, const char *why)
{
    if (!s->tcp_open)
        return;
    sb_warn("smpp: link to %s:%d down: %s", s->m->cfg->sms_smpp_host,
            s->m->cfg->sms_smpp_port, why);
    uv_timer_stop(&s->timer);
    for (int i = s->ninflight - 1; i >= 0; i--) {
        sb__sms_t *d = s->inflight[i].d;
        if (d == NULL)
            continue;
        for (int k = 0; k < s->ninflight; k++)
            if (s->inflight[k].d == d)
                s->inflight[k].d = NULL;
        queue_push(s, d, 1);
    }
    s->ninflight = 0;
    s->link_asked_ms = 0;
    s->rbuf.len = 0;
    s->tcp_open = 0;
    s->state = s->closing ? L_CLOSING : L_IDLE;
    uv_close((uv_handle_t *)&s->tcp, on_tcp_closed);
}

static void on_connected(uv_connect_t *req, int status)
{
    sb__smpp_t *s = req->data;
    if (!s->tcp_open)
        return;                 /* dropped meanwhile */
    if (status != 0) {
        drop_link(s, uv_strerror(status));
        return;
    }
    s->state = L_BINDING;
    uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
    const sb_config_t *cfg = s->m->cfg;
    bind_transceiver_t b;
    memset(&b, 0, sizeof b);
    HEADER(b, BIND_TRANSCEIVER, ESME_ROK, next_seq(s));
    copy_c(b.system_id, sizeof b.system_id, cfg->sms_smpp_system_id);
    copy_c(b.password, sizeof b.password, cfg->sms_smpp_password);
    copy_c(b.system_type, sizeof b.system_type, cfg->sms_smpp_system_type);
    b.interface_version = SMPP_VERSION;
    send_pdu(s, BIND_TRANSCEIVER, &b);
    uv_timer_start(&s->timer, on_timer, 10000, 0);
}

static void start_connect(sb__smpp_t *s)
{
    const sb_config_t *cfg = s->m->cfg;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (uv_ip4_addr(cfg->sms_smpp_host, cfg->sms_smpp_port, (struct sockaddr_in *)&ss) != 0 &&
        uv_ip6_addr(cfg->sms_smpp_host, cfg->sms_smpp_port, (struct sockaddr_in6 *)&ss) != 0) {
        sb_warn("smpp: %s is not an IP address", cfg->sms_smpp_host);
        return;
    }
    uv_tcp_init(s->m->loop, &s->tcp);
    s->tcp.data = s;
    s->tcp_open = 1;
    s->handles++;
    s->state = L_CONNECTING;
    s->connect_req.data = s;
    int rc = uv_tcp_connect(&s->connect_req, &s->tcp, (struct sockaddr *)&ss, on_connected);
    if (rc != 0) {
        drop_link(s, uv_strerror(rc));
        return;
    }
    uv_timer_start(&s->timer, on_timer, 10000, 0);
}

static void on_timer_closed(uv_handle_t *h)
{
    handle_closed(h->data);
}

int sb__smpp_new(sb_msg_t *m, sb__smpp_t **out)
{
    sb__smpp_t *s = SB_NEW(sb__smpp_t);
    s->m = m;
    uv_timer_init(m->loop, &s->timer);
    s->timer.data = s;
    uv_timer_init(m->loop, &s->kick);
    s->kick.data = s;
    s->handles = 2;
    start_connect(s);
    *out = s;
    return 0;
}

void sb__smpp_close(sb__smpp_t *s, void (*cb)(void *), void *arg)
{
    s->closing = 1;
    s->close_cb = cb;
    s->close_arg = arg;
    /* Messages still queued were failed by sb_msg_close already. */
    s->qhead = s->qtail = NULL;
    if (s->state == L_BOUND) {
        unbind_t u;
        memset(&u, 0, sizeof u);
        HEADER(u, UNBIND, ESME_ROK, next_seq(s));
        send_pdu(s, UNBIND, &u);
    }
    if (s->tcp_open)
        drop_link(s, "shutting down");
    s->state = L_CLOSING;
    uv_timer_stop(&s->timer);
    uv_timer_stop(&s->kick);
    uv_close((uv_handle_t *)&s->timer, on_timer_closed);
    uv_close((uv_handle_t *)&s->kick, on_timer_closed);
}
