/*
 * relay.c: the packet path. Every RTP packet from a phone lands in the
 * engine's one receive buffer, is checked against the latched source
 * (symmetric RTP), counted, and, when the endpoint is bridged, rewritten in
 * place (SSRC, sequence, timestamp, payload type; G.711 transcoded when the
 * legs differ) and sent from the peer endpoint's socket (send() once the
 * socket is connected to the latched phone, sendto() before).
 * Telephone-events are relayed the same way and reported upward once per
 * event; comfort noise is counted and dropped. Nothing here allocates,
 * except a copy when the kernel's send buffer is full.
 * RTCP from phones is counted, not relayed: each leg gets our own reports.
 */
#include "engine_int.h"
#include "util.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* A phone silent this long may re-latch from a new address (NAT rebinding,
 * a phone that changed its source port). */
#define RELATCH_MS 2000
/* A telephone-event with no end packet is reported after this silence. */
#define DTMF_STALE_MS 1000
#define RTCP_INTERVAL_MS 5000

static void copy_addr(struct sockaddr_storage *dst, const struct sockaddr *src)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst, src, src->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                 : sizeof(struct sockaddr_in));
}

/* ---- sending ------------------------------------------------------------------ */

static socklen_t addr_len(const struct sockaddr_storage *ss)
{
    return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
}

/* Symmetric RTP and connected sockets: once latched, the RTP socket is
 * connect()ed to the phone, which spares the kernel a route lookup on
 * every send, and the kernel then drops packets from any other source
 * before they cost a wakeup. So that a phone behind a rebinding NAT can
 * still re-latch, the sweep dissolves the association when the phone has
 * been silent RELATCH_MS; a new remote address from the SDP dissolves it
 * at once (apply_remote). */
void sb__media_rtp_connect(sb_media_endpoint_t *ep, int on)
{
    if (ep->rtp_fd < 0)
        return;
    if (on) {
        ep->connected = connect(ep->rtp_fd, (const struct sockaddr *)&ep->remote,
                                addr_len(&ep->remote)) == 0;
        return;
    }
    if (!ep->connected)
        return;
    struct sockaddr_storage none;
    memset(&none, 0, sizeof(none));
    none.ss_family = AF_UNSPEC;
    connect(ep->rtp_fd, (const struct sockaddr *)&none, sizeof(none));
    ep->connected = 0;
}

void sb__media_relatch_check(sb_media_endpoint_t *ep, uint64_t now)
{
    if (ep->connected && now - ep->last_rx_ms >= RELATCH_MS)
        sb__media_rtp_connect(ep, 0);
}

/* Returns 0, or an errno value (EAGAIN: the socket is full). */
static int rtp_sendto(sb_media_endpoint_t *ep, const uint8_t *p, size_t n)
{
    for (;;) {
        ssize_t r = ep->connected
            ? send(ep->rtp_fd, p, n, 0)
            : sendto(ep->rtp_fd, p, n, 0, (const struct sockaddr *)&ep->remote,
                     addr_len(&ep->remote));
        if (r >= 0)
            return 0;
        if (errno != EINTR)
            return errno == EWOULDBLOCK || errno == ENOBUFS ? EAGAIN : errno;
    }
}

static void rtp_want_writable(sb_media_endpoint_t *ep, int on)
{
    uv_poll_start(&ep->rtp, UV_READABLE | (on ? UV_WRITABLE : 0),
                  sb__media_on_rtp_poll);
}

/* Keeps a copy of the packet, since the receive buffer is reused at once.
 * Returns 0, or -1 when the queue is full. */
static int txq_push(sb_media_endpoint_t *ep, const uint8_t *p, size_t n)
{
    if (ep->txq_len >= SB__MAX_QUEUED_SENDS)
        return -1;
    sb__txq_t *q = sb_xmalloc(sizeof(*q) + n);
    q->next = NULL;
    q->len = n;
    memcpy(q->data, p, n);
    *ep->txq_tail = q;
    ep->txq_tail = &q->next;
    if (ep->txq_len++ == 0)
        rtp_want_writable(ep, 1);
    return 0;
}

static void txq_flush(sb_media_endpoint_t *ep)
{
    while (ep->txq_head) {
        sb__txq_t *q = ep->txq_head;
        int err = rtp_sendto(ep, q->data, q->len);
        if (err == EAGAIN)
            return;
        if (err)
            ep->st.tx_dropped++;
        ep->txq_head = q->next;
        ep->txq_len--;
        free(q);
    }
    ep->txq_tail = &ep->txq_head;
    rtp_want_writable(ep, 0);
}

void sb__media_txq_clear(sb_media_endpoint_t *ep)
{
    while (ep->txq_head) {
        sb__txq_t *q = ep->txq_head;
        ep->txq_head = q->next;
        free(q);
    }
    ep->txq_tail = &ep->txq_head;
    ep->txq_len = 0;
}

/* RTCP is best effort: a report the kernel cannot take now is dropped
 * (the next one comes in five seconds). */
static int rtcp_send(sb_media_endpoint_t *ep, const uint8_t *p, size_t n)
{
    if (ep->rtcp_fd < 0 || ep->remote_rtcp.ss_family == AF_UNSPEC)
        return -1;
    ssize_t r;
    do {
        r = sendto(ep->rtcp_fd, p, n, 0,
                   (const struct sockaddr *)&ep->remote_rtcp,
                   addr_len(&ep->remote_rtcp));
    } while (r < 0 && errno == EINTR);
    return r < 0 ? -1 : 0;
}

void sb__media_send(sb_media_endpoint_t *ep, int rtcp, const uint8_t *p,
                    size_t n)
{
    if (rtcp) {
        if (rtcp_send(ep, p, n) != 0) {
            ep->st.tx_dropped++;
            return;
        }
        ep->st.rtcp_tx++;
        return;
    }
    /* Older packets waiting go first, so the order holds. */
    int err = ep->txq_head ? EAGAIN : rtp_sendto(ep, p, n);
    if (err == EAGAIN) {
        if (txq_push(ep, p, n) != 0) {
            ep->st.tx_dropped++;
            return;
        }
        ep->st.tx_queued++;
    } else if (err) {
        ep->st.tx_dropped++;
        return;
    }
    ep->st.tx_packets++;
    ep->st.tx_bytes += n;
}

/* Rewrites the packet at p (already parsed into h) for q's stream and
 * sends it to q's phone. */
static void forward(sb_media_endpoint_t *q, uint8_t *p, size_t n,
                    const sb__rtp_t *h, int pt, uint32_t samples, uint64_t now)
{
    uint16_t seq;
    uint32_t ts;
    int marker = h->marker;
    sb__outstream_map(&q->out, h->ssrc, h->seq, h->ts, samples, now, &seq, &ts,
                      &marker);
    sb__rtp_rewrite(p, marker, pt, seq, ts, q->out.ssrc);
    if (q->rec_out && samples > 0)
        sb__media_rec_sent(q, ts, p + h->payload_off, h->payload_len);
    sb__media_send(q, 0, p, n);
}

void sb__media_send_dtmf_packet(sb_media_endpoint_t *ep, int marker,
                                const sb__dtmf_t *ev)
{
    sb__dtmf_tx_t *t = &ep->txd;
    uint8_t pkt[SB__RTP_HDR + SB__DTMF_PAYLOAD];
    if (!ep->can_send) {
        ep->st.tx_dropped++;
        return;
    }
    uint16_t seq;
    uint32_t ts;
    /* The generator is a source of its own; its "SSRC" only has to differ
     * from what was relayed before, which the reset at start guarantees. */
    sb__outstream_map(&ep->out, ~ep->out.ssrc, t->seq++, t->event_ts, 0,
                      uv_now(ep->w->loop), &seq, &ts, &marker);
    sb__rtp_write_header(pkt, marker, ep->nego.tx_dtmf_pt, seq, ts,
                         ep->out.ssrc);
    sb__dtmf_build(pkt + SB__RTP_HDR, ev);
    sb__media_send(ep, 0, pkt, sizeof(pkt));
}

void sb__media_send_frame(sb_media_endpoint_t *ep, const uint8_t *payload,
                          size_t n, uint64_t now_ms)
{
    uint8_t pkt[SB__RTP_HDR + 2 * SB__FRAME_SAMPLES];
    if (!ep->can_send || ep->nego.codec == SB_MEDIA_CODEC_NONE ||
        n > 2 * SB__FRAME_SAMPLES) {
        ep->st.tx_dropped++;
        return;
    }
    uint16_t seq;
    uint32_t ts;
    int marker = 0;             /* set by the mapping for a new source */
    sb__outstream_map(&ep->out, ep->gen_ssrc, ep->gen_seq++, ep->gen_ts,
                      (uint32_t)n, now_ms, &seq, &ts, &marker);
    ep->gen_ts += (uint32_t)n;
    sb__rtp_write_header(pkt, marker, ep->nego.tx_pt, seq, ts, ep->out.ssrc);
    memcpy(pkt + SB__RTP_HDR, payload, n);
    if (ep->rec_out)
        sb__media_rec_sent(ep, ts, payload, n);
    sb__media_send(ep, 0, pkt, SB__RTP_HDR + n);
}

/* ---- receiving ------------------------------------------------------------------ */

/* Symmetric RTP: the first acceptable packet decides where we send, and
 * later packets must come from there, unless it fell silent long enough to
 * re-latch. Returns 1 when the packet may be used. */
static int check_source(sb_media_endpoint_t *ep, const struct sockaddr *addr,
                        uint64_t now)
{
    if (ep->latched && sb__media_addr_equal(addr, &ep->remote)) {
        if (!ep->connected)             /* back after a silence */
            sb__media_rtp_connect(ep, 1);
        return 1;
    }
    if (ep->latched && now - ep->last_rx_ms < RELATCH_MS)
        return 0;
    if (addr->sa_family != ep->engine->bind_addr.ss_family)
        return 0;
    sb__media_rtp_connect(ep, 0);
    copy_addr(&ep->remote, addr);
    sb__media_rtp_connect(ep, 1);
    ep->latched = 1;
    ep->st.latched = 1;
    /* A phone that can only be reached through its NAT mapping can now be
     * sent to even if its SDP said 0.0.0.0 or a private address. */
    ep->has_remote = 1;
    return 1;
}

typedef struct {
    int count;
    int digit[2];
    int duration_ms[2];
    char begin;                 /* a new event began: its digit */
} dtmf_reports_t;

static void dtmf_report_add(dtmf_reports_t *r, int event, uint16_t duration)
{
    char d = sb__dtmf_digit_of(event);
    if (d && r->count < 2) {
        r->digit[r->count] = d;
        r->duration_ms[r->count] = duration / SB__RTP_CLOCK_KHZ;
        r->count++;
    }
}

static void dtmf_received(sb_media_endpoint_t *ep, const sb__rtp_t *h,
                          const sb__dtmf_t *ev, uint64_t now,
                          dtmf_reports_t *r)
{
    sb__dtmf_rx_t *d = &ep->rxd;
    if (!d->active || h->ts != d->ts) {
        if (d->active && !d->reported)
            dtmf_report_add(r, d->event, d->duration);
        d->active = 1;
        d->ts = h->ts;
        d->event = ev->event;
        d->duration = 0;
        d->reported = 0;
        r->begin = sb__dtmf_digit_of(ev->event);
    }
    d->last_ms = now;
    if (ev->duration > d->duration)
        d->duration = ev->duration;
    if (ev->end && !d->reported) {
        d->reported = 1;
        dtmf_report_add(r, d->event, d->duration);
    }
}

/* Digits go up to the engine's loop as events, in order. */
static void dtmf_deliver(sb_media_endpoint_t *ep, const dtmf_reports_t *r)
{
    if (r->begin && !ep->destroying) {
        sb__media_req_t *req = SB_NEW(sb__media_req_t);
        req->kind = SB__REQ_EV_DTMF_BEGIN;
        req->ep = ep;
        req->digit = r->begin;
        sb__media_post_req(ep->engine, req);
    }
    for (int i = 0; i < r->count; i++)
        sb__media_post_digit(ep, (char)r->digit[i], r->duration_ms[i]);
}

void sb__media_post_digit(sb_media_endpoint_t *ep, char digit, int duration_ms)
{
    if (ep->destroying)
        return;
    ep->st.rx_dtmf++;
    sb__media_req_t *req = SB_NEW(sb__media_req_t);
    req->kind = SB__REQ_EV_DTMF;
    req->ep = ep;
    req->digit = digit;
    req->duration_ms = duration_ms;
    sb__media_post_req(ep->engine, req);
}

void sb__media_flush_dtmf(sb_media_endpoint_t *ep, uint64_t now)
{
    sb__dtmf_rx_t *d = &ep->rxd;
    if (!d->active || d->reported || now - d->last_ms < DTMF_STALE_MS)
        return;
    dtmf_reports_t r = {0};
    d->reported = 1;
    dtmf_report_add(&r, d->event, d->duration);
    dtmf_deliver(ep, &r);
}

static void handle_rtp(sb_media_endpoint_t *ep, uint8_t *p, size_t n,
                       const struct sockaddr *addr);

/* Reads one datagram and its source into the engine's buffer. Returns its
 * length, 0 when there was none (or an error), -1 when one was read and
 * dropped (empty or truncated). */
static ssize_t recv_with_source(sb_media_endpoint_t *ep,
                                struct sockaddr_storage *from)
{
    sb__media_worker_t *w = ep->w;
    struct iovec iov = {w->rxbuf, sizeof(w->rxbuf)};
    struct msghdr msg = {
        .msg_name = from,
        .msg_namelen = sizeof(*from),
        .msg_iov = &iov,
        .msg_iovlen = 1,
    };
    ssize_t nread;
    do {
        nread = recvmsg(ep->rtp_fd, &msg, MSG_DONTWAIT);
    } while (nread < 0 && errno == EINTR);
    if (nread < 0)
        return 0;
    if (nread == 0 || msg.msg_namelen == 0)
        return -1;
    if (msg.msg_flags & MSG_TRUNC) {
        ep->st.rx_dropped++;
        return -1;
    }
    return nread;
}

/* The packet just handled latched the socket (connect()). Whatever was
 * queued before that, from anyone, would from now on be read without its
 * source: read it now, with it, so that a stranger's queued packets are
 * dropped rather than relayed as the phone's. Bounded: what arrives from
 * here on can only come from the phone. */
static void drain_with_source(sb_media_endpoint_t *ep)
{
    for (int i = 0; i < 4096 && !ep->destroying; i++) {
        struct sockaddr_storage from;
        ssize_t nread = recv_with_source(ep, &from);
        if (nread == 0)
            return;
        if (nread > 0)
            handle_rtp(ep, ep->w->rxbuf, (size_t)nread,
                       (const struct sockaddr *)&from);
    }
}

void sb__media_on_rtp_poll(uv_poll_t *handle, int status, int events)
{
    sb_media_endpoint_t *ep = handle->data;
    if (ep->destroying)
        return;
    if (status < 0) {
        /* A connected socket holds the ICMP error of an earlier send
         * (the phone's port closed): libuv stops the handle on POLLERR.
         * Clear the error and go on listening. */
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(ep->rtp_fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rtp_want_writable(ep, ep->txq_head != NULL);
        return;
    }
    if (events & UV_WRITABLE)
        txq_flush(ep);
    if (!(events & UV_READABLE))
        return;
    sb__media_worker_t *e = ep->w;
    ssize_t nread;
    if (ep->connected) {
        /* The kernel only lets the latched phone through: no address to
         * ask for (but see drain_with_source). MSG_TRUNC returns the
         * datagram's real length. */
        do {
            nread = recv(ep->rtp_fd, e->rxbuf, sizeof(e->rxbuf),
                         MSG_DONTWAIT | MSG_TRUNC);
        } while (nread < 0 && errno == EINTR);
        if (nread <= 0)
            return;
        if ((size_t)nread > sizeof(e->rxbuf)) {
            ep->st.rx_dropped++;
            return;
        }
        handle_rtp(ep, e->rxbuf, (size_t)nread,
                   (const struct sockaddr *)&ep->remote);
        return;
    }
    struct sockaddr_storage from;
    nread = recv_with_source(ep, &from);
    if (nread <= 0)
        return;
    handle_rtp(ep, e->rxbuf, (size_t)nread, (const struct sockaddr *)&from);
    if (ep->connected && !ep->destroying)
        drain_with_source(ep);
}

static void handle_rtp(sb_media_endpoint_t *ep, uint8_t *p, size_t n,
                       const struct sockaddr *addr)
{
    uint64_t now = uv_now(ep->w->loop);
    sb__rtp_t h;

    if (sb__rtp_is_rtcp(p, n)) {            /* rtcp-mux from the phone */
        ep->st.rtcp_rx++;
        return;
    }
    if (sb__rtp_parse(p, n, &h) != 0) {
        ep->st.rx_dropped++;
        return;
    }
    sb__pt_kind_t kind = (sb__pt_kind_t)ep->nego.rx_kind[h.pt];
    if (kind == SB__PT_NONE || !check_source(ep, addr, now)) {
        ep->st.rx_dropped++;
        return;
    }
    ep->st.rx_packets++;
    ep->st.rx_bytes += n;
    ep->last_rx_ms = now;
    ep->timed_out = 0;
    sb__rxstats_update(&ep->rx, h.ssrc, h.seq);

    sb_media_endpoint_t *q = ep->peer;
    int relay = q && q->can_send && !q->txd.active && !q->playing;
    switch (kind) {
    case SB__PT_CN:
        ep->st.rx_cn++;
        return;
    case SB__PT_DTMF: {
        sb__dtmf_t ev;
        if (sb__dtmf_parse(p + h.payload_off, h.payload_len, &ev) != 0) {
            ep->st.rx_dropped++;
            return;
        }
        dtmf_reports_t r = {0};
        dtmf_received(ep, &h, &ev, now, &r);
        if (relay && q->nego.tx_dtmf_pt >= 0)
            forward(q, p, n, &h, q->nego.tx_dtmf_pt, 0, now);
        dtmf_deliver(ep, &r);
        return;
    }
    default: {
        sb__rxstats_jitter(&ep->rx, h.ts, uv_hrtime() / 125000);   /* 8 kHz */
        if (ep->listening)
            sb__media_listen_packet(ep, &h, p + h.payload_off, h.payload_len,
                                    kind == SB__PT_PCMA);
        if (!relay || ep->muted || q->nego.codec == SB_MEDIA_CODEC_NONE)
            return;
        sb_media_codec_t from = kind == SB__PT_PCMU ? SB_MEDIA_PCMU
                                                    : SB_MEDIA_PCMA;
        sb__media_g711_transcode(p + h.payload_off, h.payload_len, from,
                                 q->nego.codec);
        forward(q, p, n, &h, q->nego.tx_pt, (uint32_t)h.payload_len, now);
        return;
    }
    }
}

void sb__media_on_rtcp_poll(uv_poll_t *handle, int status, int events)
{
    sb_media_endpoint_t *ep = handle->data;
    if (ep->destroying || ep->rtcp_fd < 0)
        return;
    if (status < 0) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(ep->rtcp_fd, SOL_SOCKET, SO_ERROR, &err, &len);
        uv_poll_start(&ep->rtcp, UV_READABLE, sb__media_on_rtcp_poll);
        return;
    }
    struct sockaddr_storage from;
    socklen_t flen = sizeof(from);
    uint8_t *buf = ep->w->rxbuf;
    ssize_t nread;
    do {
        nread = recvfrom(ep->rtcp_fd, buf, SB__RXBUF_SIZE, MSG_DONTWAIT,
                         (struct sockaddr *)&from, &flen);
    } while (nread < 0 && errno == EINTR);
    if (nread <= 0)
        return;
    if (!sb__rtp_is_rtcp(buf, (size_t)nread)) {
        ep->st.rx_dropped++;
        return;
    }
    if (!ep->rtcp_latched &&
        from.ss_family == ep->engine->bind_addr.ss_family) {
        ep->remote_rtcp = from;
        ep->rtcp_latched = 1;
    }
    ep->st.rtcp_rx++;
}

/* ---- RTCP reports ----------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* A compound packet: SR (with one report block when we receive) and SDES
 * with a CNAME (RFC 3550 section 6.1). Jitter, LSR and DLSR are 0. */
void sb__media_rtcp_tick(sb_media_endpoint_t *ep, uint64_t now)
{
    if (now < ep->next_rtcp_ms || !ep->can_send || !ep->out.started)
        return;
    ep->next_rtcp_ms = now + RTCP_INTERVAL_MS - 500 +
                       sb__media_random(&ep->w->rng) % 1000;
    uint8_t pkt[28 + 24 + 4 + 20];
    int rc = ep->rx.init ? 1 : 0;
    size_t sr_len = 28 + 24 * (size_t)rc;
    pkt[0] = (uint8_t)(0x80 | rc);
    pkt[1] = 200;
    pkt[2] = 0;
    pkt[3] = (uint8_t)(sr_len / 4 - 1);
    put32(pkt + 4, ep->out.ssrc);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    put32(pkt + 8, (uint32_t)tv.tv_sec + 2208988800u);
    put32(pkt + 12, (uint32_t)(((uint64_t)tv.tv_usec << 32) / 1000000));
    uint64_t el = now > ep->out.last_ms ? now - ep->out.last_ms : 0;
    put32(pkt + 16, ep->out.last_ts + (uint32_t)(el * SB__RTP_CLOCK_KHZ));
    put32(pkt + 20, (uint32_t)ep->st.tx_packets);
    put32(pkt + 24, (uint32_t)(ep->st.tx_bytes - SB__RTP_HDR * ep->st.tx_packets));
    if (rc) {
        uint8_t *b = pkt + 28;
        uint32_t expected = sb__rxstats_ext_max(&ep->rx) - ep->rx.base_seq + 1;
        uint32_t received = (uint32_t)ep->rx.received;
        uint32_t exp_int = expected - ep->rtcp_expected_prior;
        uint32_t rec_int = received - ep->rtcp_received_prior;
        ep->rtcp_expected_prior = expected;
        ep->rtcp_received_prior = received;
        int32_t lost_int = (int32_t)(exp_int - rec_int);
        uint32_t fraction = exp_int == 0 || lost_int <= 0
                                ? 0 : ((uint32_t)lost_int << 8) / exp_int;
        uint64_t lost = sb__rxstats_lost(&ep->rx);
        if (lost > 0x7FFFFF)
            lost = 0x7FFFFF;
        put32(b, ep->rx.ssrc);
        put32(b + 4, ((fraction & 0xFF) << 24) | (uint32_t)lost);
        put32(b + 8, sb__rxstats_ext_max(&ep->rx));
        put32(b + 12, 0);
        put32(b + 16, 0);
        put32(b + 20, 0);
    }
    /* SDES: one chunk, CNAME "switchboard", padded to 32 bits. */
    uint8_t *s = pkt + sr_len;
    static const char cname[] = "switchboard";
    size_t clen = sizeof(cname) - 1;
    size_t chunk = 4 + 2 + clen + 1;        /* ssrc, item, END */
    chunk = (chunk + 3) & ~(size_t)3;
    memset(s, 0, 4 + chunk);
    s[0] = 0x81;
    s[1] = 202;
    s[3] = (uint8_t)(chunk / 4);
    put32(s + 4, ep->out.ssrc);
    s[8] = 1;
    s[9] = (uint8_t)clen;
    memcpy(s + 10, cname, clen);
    sb__media_send(ep, 1, pkt, sr_len + 4 + chunk);
}
