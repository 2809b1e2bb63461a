/*
 * sdp.c: SDP text <-> sb_media_desc_t. The only media file that includes
 * sofia-sip: sdp_parse() reads the phone's text, and we keep what the
 * engine needs of the first audio RTP/AVP stream (DESIGN.md: the SDP text
 * comes from sip/, media works on a plain description). Writing is plain
 * text in the fixed order v= o= s= c= t= m= a=..., which sofia reads back.
 * Left out: several streams (video and others are ignored), ICE, SRTP,
 * rtcp-mux, bandwidth lines.
 */
#include "media_int.h"
#include "util.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sdp.h>

/* Bound on the text we hand to the parser (sip/ bounds bodies too). */
#define MAX_SDP_LEN 65536

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

static int is_ip_literal(const char *s, int ipv6)
{
    unsigned char tmp[16];
    return inet_pton(ipv6 ? AF_INET6 : AF_INET, s, tmp) == 1;
}

static sdp_media_t *pick_audio(sdp_session_t *s)
{
    sdp_media_t *first = NULL;
    for (sdp_media_t *m = s->sdp_media; m; m = m->m_next) {
        if (m->m_type != sdp_media_audio || m->m_proto != sdp_proto_rtp)
            continue;
        if (m->m_port != 0)
            return m;
        if (!first)
            first = m;
    }
    return first;
}

static unsigned attr_uint(sdp_attribute_t const *a, sdp_attribute_t const *a2,
                          const char *name)
{
    sdp_attribute_t *at = sdp_attribute_find2(a, a2, name);
    if (!at || !at->a_value)
        return 0;
    char *end;
    unsigned long v = strtoul(at->a_value, &end, 10);
    if (end == at->a_value || v > 65535)
        return 0;
    return (unsigned)v;
}

static int fill_desc(sdp_session_t *s, sb_media_desc_t *out)
{
    sdp_media_t *m = pick_audio(s);
    if (!m)
        return SB_EINVAL;
    sdp_connection_t *c = sdp_media_connections(m);
    if (!c || !c->c_address)
        return SB_EINVAL;
    if (c->c_addrtype != sdp_addr_ip4 && c->c_addrtype != sdp_addr_ip6)
        return SB_EINVAL;
    memset(out, 0, sizeof(*out));
    out->ipv6 = c->c_addrtype == sdp_addr_ip6;
    if (strlen(c->c_address) >= sizeof(out->addr) ||
        !is_ip_literal(c->c_address, out->ipv6))
        return SB_EINVAL;
    copy_str(out->addr, sizeof(out->addr), c->c_address);
    if (m->m_port > 65535)
        return SB_EINVAL;
    out->port = (unsigned)m->m_port;
    out->rtcp_port = attr_uint(m->m_attributes, NULL, "rtcp");
    out->ptime = attr_uint(m->m_attributes, s->sdp_attributes, "ptime");
    out->dir = (sb_media_dir_t)(m->m_mode & 3);
    out->dtmf_pt = -1;
    if (s->sdp_origin) {
        out->session_id = s->sdp_origin->o_id;
        out->session_version = s->sdp_origin->o_version;
    }
    for (sdp_rtpmap_t *r = m->m_rtpmaps; r; r = r->rm_next) {
        if (out->nformats == SB_MEDIA_MAX_FORMATS)
            break;
        sb_media_format_t *f = &out->formats[out->nformats++];
        f->pt = r->rm_pt;
        copy_str(f->name, sizeof(f->name), r->rm_encoding);
        f->rate = r->rm_rate > 1000000 ? 0 : (unsigned)r->rm_rate;
        f->channels = r->rm_params ? (unsigned)strtoul(r->rm_params, NULL, 10)
                                   : 0;
        copy_str(f->fmtp, sizeof(f->fmtp), r->rm_fmtp);
        if (out->dtmf_pt < 0 && f->rate == 8000 &&
            strcasecmp(f->name, "telephone-event") == 0)
            out->dtmf_pt = f->pt;
    }
    if (out->nformats == 0)
        return SB_EINVAL;
    return 0;
}

/* Debian's sofia-sip (1.12.11) never returns from sdp_parse, allocating
 * until memory runs out, on an m= line whose protocol is not RTP and whose
 * format list starts with a character outside its token set or ends in
 * blanks (fixed upstream in 2022, not in the package). Both are invalid
 * SDP (RFC 8866 5.14), so such documents are refused before the parser
 * sees them. Lines are split and stripped as sofia does: at any CR or LF,
 * leading blanks skipped. Returns 1 when every m= line is safe. */
int sb__media_sdp_m_lines_safe(const char *text, size_t len)
{
    static const char legal[] = "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-!#$%&'*+.^_`{|}~/ \t";
    const char *p = text, *end = text + len;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *eol = p;
        while (eol < end && *eol != '\r' && *eol != '\n' && *eol != '\0')
            eol++;
        if (eol - p >= 2 && p[0] == 'm' && p[1] == '=') {
            int fields = 0, blank = 1;
            for (const char *q = p + 2; q < eol; q++) {
                if (strchr(legal, *q) == NULL)
                    return 0;
                int b = *q == ' ' || *q == '\t';
                fields += blank && !b;
                blank = b;
            }
            /* Blanks after the protocol with no format behind them. */
            if (blank && fields < 4)
                return 0;
        }
        if (eol < end && *eol == '\0')
            break;                      /* sofia reads up to the NUL only */
        p = eol + 1;
    }
    return 1;
}

int sb_media_sdp_parse(const char *text, size_t len, sb_media_desc_t *out)
{
    if (!text || len == 0 || len > MAX_SDP_LEN)
        return SB_EINVAL;
    if (!sb__media_sdp_m_lines_safe(text, len)) {
        sb_debug("media: bad SDP: an m= line sofia-sip cannot parse safely");
        return SB_EINVAL;
    }
    sdp_parser_t *p = sdp_parse(NULL, text, (issize_t)len, 0);
    if (!p)
        return SB_ENOMEM;
    sdp_session_t *s = sdp_session(p);
    int rc = s ? fill_desc(s, out) : SB_EINVAL;
    if (!s)
        sb_debug("media: bad SDP: %s", sdp_parsing_error(p));
    sdp_parser_free(p);
    return rc;
}

int sb_media_sdp_write(const sb_media_desc_t *d, sb_buf_t *out)
{
    if (d->nformats <= 0 || d->nformats > SB_MEDIA_MAX_FORMATS ||
        d->addr[0] == '\0' || d->port > 65535)
        return SB_EINVAL;
    const char *ipv = d->ipv6 ? "IP6" : "IP4";
    sb_buf_printf(out,
                  "v=0\r\n"
                  "o=switchboard %llu %llu IN %s %s\r\n"
                  "s=switchboard\r\n"
                  "c=IN %s %s\r\n"
                  "t=0 0\r\n"
                  "m=audio %u RTP/AVP",
                  (unsigned long long)d->session_id,
                  (unsigned long long)d->session_version, ipv, d->addr, ipv,
                  d->addr, d->port);
    for (int i = 0; i < d->nformats; i++)
        sb_buf_printf(out, " %d", d->formats[i].pt);
    sb_buf_puts(out, "\r\n");
    for (int i = 0; i < d->nformats; i++) {
        const sb_media_format_t *f = &d->formats[i];
        if (f->name[0] == '\0')
            continue;
        sb_buf_printf(out, "a=rtpmap:%d %s/%u", f->pt, f->name, f->rate);
        if (f->channels > 1)
            sb_buf_printf(out, "/%u", f->channels);
        sb_buf_puts(out, "\r\n");
        if (f->fmtp[0])
            sb_buf_printf(out, "a=fmtp:%d %s\r\n", f->pt, f->fmtp);
    }
    if (d->rtcp_port)
        sb_buf_printf(out, "a=rtcp:%u\r\n", d->rtcp_port);
    if (d->ptime)
        sb_buf_printf(out, "a=ptime:%u\r\n", d->ptime);
    sb_buf_printf(out, "a=%s\r\n", sb_media_dir_name(d->dir));
    return 0;
}
