/*
 * negotiate.c: offer/answer (RFC 3264) over plain descriptions. We offer
 * PCMU, PCMA and telephone-event; answering, we take the first format of
 * the phone's offer that we support, so the phone's preference wins; with
 * none in common the answer fails with SB_ECODEC (the SIP side sends 488).
 * The result (sb__nego_t) tells the packet path what to send and how to
 * read each received payload type. Pure functions; no SDP text here.
 */
#include "media_int.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define PT_PCMU 0
#define PT_PCMA 8
#define PT_CN 13

sb_media_codec_t sb__media_codec_of(const sb_media_format_t *f)
{
    if (f->channels > 1 || (f->rate != 0 && f->rate != 8000))
        return SB_MEDIA_CODEC_NONE;
    if (f->name[0] == '\0') {
        if (f->pt == PT_PCMU)
            return SB_MEDIA_PCMU;
        if (f->pt == PT_PCMA)
            return SB_MEDIA_PCMA;
        return SB_MEDIA_CODEC_NONE;
    }
    if (strcasecmp(f->name, "PCMU") == 0)
        return SB_MEDIA_PCMU;
    if (strcasecmp(f->name, "PCMA") == 0)
        return SB_MEDIA_PCMA;
    return SB_MEDIA_CODEC_NONE;
}

static int is_cn(const sb_media_format_t *f)
{
    return f->name[0] ? strcasecmp(f->name, "CN") == 0 : f->pt == PT_CN;
}

static void add_format(sb_media_desc_t *d, int pt, const char *name,
                       unsigned rate, const char *fmtp)
{
    if (d->nformats >= SB_MEDIA_MAX_FORMATS)
        return;
    sb_media_format_t *f = &d->formats[d->nformats++];
    memset(f, 0, sizeof(*f));
    f->pt = pt;
    snprintf(f->name, sizeof(f->name), "%s", name);
    f->rate = rate;
    snprintf(f->fmtp, sizeof(f->fmtp), "%s", fmtp ? fmtp : "");
}

void sb__media_make_offer(sb_media_desc_t *local)
{
    local->nformats = 0;
    add_format(local, PT_PCMU, "PCMU", 8000, NULL);
    add_format(local, PT_PCMA, "PCMA", 8000, NULL);
    add_format(local, SB__DTMF_PT, "telephone-event", 8000, "0-15");
    local->dtmf_pt = SB__DTMF_PT;
    local->ptime = 20;
    local->dir = SB_MEDIA_SENDRECV;
}

void sb__media_nego_default(sb__nego_t *nego)
{
    memset(nego, 0, sizeof(*nego));
    nego->codec = SB_MEDIA_CODEC_NONE;
    nego->tx_pt = -1;
    nego->tx_dtmf_pt = -1;
    nego->rx_kind[PT_PCMU] = SB__PT_PCMU;
    nego->rx_kind[PT_PCMA] = SB__PT_PCMA;
    nego->rx_kind[PT_CN] = SB__PT_CN;
    nego->rx_kind[SB__DTMF_PT] = SB__PT_DTMF;
}

/* What the phone may send us: every format of its description we can
 * read, plus the static G.711 and CN types, which cannot mean anything
 * else. */
static void fill_rx(const sb_media_desc_t *remote, sb__nego_t *nego,
                    int dtmf_ok)
{
    memset(nego->rx_kind, 0, sizeof(nego->rx_kind));
    nego->rx_kind[PT_PCMU] = SB__PT_PCMU;
    nego->rx_kind[PT_PCMA] = SB__PT_PCMA;
    nego->rx_kind[PT_CN] = SB__PT_CN;
    for (int i = 0; i < remote->nformats; i++) {
        const sb_media_format_t *f = &remote->formats[i];
        if (f->pt < 0 || f->pt > 127)
            continue;
        sb_media_codec_t c = sb__media_codec_of(f);
        if (c == SB_MEDIA_PCMU)
            nego->rx_kind[f->pt] = SB__PT_PCMU;
        else if (c == SB_MEDIA_PCMA)
            nego->rx_kind[f->pt] = SB__PT_PCMA;
        else if (is_cn(f))
            nego->rx_kind[f->pt] = SB__PT_CN;
    }
    if (dtmf_ok && remote->dtmf_pt >= 0 && remote->dtmf_pt <= 127)
        nego->rx_kind[remote->dtmf_pt] = SB__PT_DTMF;
}

static int check_remote(const sb_media_desc_t *remote)
{
    if (remote->nformats <= 0 || remote->nformats > SB_MEDIA_MAX_FORMATS)
        return SB_EINVAL;
    if (remote->dtmf_pt > 127)
        return SB_EINVAL;
    return 0;
}

static sb_media_dir_t answer_dir(sb_media_dir_t offered)
{
    switch (offered) {
    case SB_MEDIA_SENDONLY: return SB_MEDIA_RECVONLY;
    case SB_MEDIA_RECVONLY: return SB_MEDIA_SENDONLY;
    case SB_MEDIA_INACTIVE: return SB_MEDIA_INACTIVE;
    default:                return SB_MEDIA_SENDRECV;
    }
}

int sb__media_make_answer(const sb_media_desc_t *remote,
                          sb_media_desc_t *local, sb__nego_t *nego)
{
    int rc = check_remote(remote);
    if (rc)
        return rc;
    const sb_media_format_t *chosen = NULL;
    sb_media_codec_t codec = SB_MEDIA_CODEC_NONE;
    for (int i = 0; i < remote->nformats && !chosen; i++) {
        codec = sb__media_codec_of(&remote->formats[i]);
        if (codec != SB_MEDIA_CODEC_NONE)
            chosen = &remote->formats[i];
    }
    if (!chosen)
        return SB_ECODEC;

    local->nformats = 0;
    add_format(local, chosen->pt, sb_media_codec_name(codec), 8000, NULL);
    local->dtmf_pt = -1;
    if (remote->dtmf_pt >= 0) {
        add_format(local, remote->dtmf_pt, "telephone-event", 8000, "0-15");
        local->dtmf_pt = remote->dtmf_pt;
    }
    local->ptime = remote->ptime ? remote->ptime : 20;
    local->dir = answer_dir(remote->dir);

    memset(nego, 0, sizeof(*nego));
    nego->codec = codec;
    nego->tx_pt = chosen->pt;
    nego->tx_dtmf_pt = remote->dtmf_pt;
    fill_rx(remote, nego, 1);
    return 0;
}

int sb__media_read_answer(const sb_media_desc_t *offered,
                          const sb_media_desc_t *remote, sb__nego_t *nego)
{
    int rc = check_remote(remote);
    if (rc)
        return rc;
    int offered_codec[3] = {0, 0, 0};
    for (int i = 0; i < offered->nformats; i++)
        offered_codec[sb__media_codec_of(&offered->formats[i])] = 1;

    const sb_media_format_t *chosen = NULL;
    sb_media_codec_t codec = SB_MEDIA_CODEC_NONE;
    for (int i = 0; i < remote->nformats && !chosen; i++) {
        codec = sb__media_codec_of(&remote->formats[i]);
        if (codec != SB_MEDIA_CODEC_NONE && offered_codec[codec])
            chosen = &remote->formats[i];
    }
    if (!chosen)
        return SB_ECODEC;

    int dtmf_ok = offered->dtmf_pt >= 0 && remote->dtmf_pt >= 0;
    memset(nego, 0, sizeof(*nego));
    nego->codec = codec;
    nego->tx_pt = chosen->pt;
    nego->tx_dtmf_pt = dtmf_ok ? remote->dtmf_pt : -1;
    fill_rx(remote, nego, dtmf_ok);
    /* The phone may also send with the types we offered (RFC 3264 section
     * 5.1: the offerer receives with its own numbering). */
    if (dtmf_ok && offered->dtmf_pt <= 127)
        nego->rx_kind[offered->dtmf_pt] = SB__PT_DTMF;
    return 0;
}

int sb__media_desc_same(const sb_media_desc_t *a, const sb_media_desc_t *b)
{
    if (strcmp(a->addr, b->addr) != 0 || a->ipv6 != b->ipv6 ||
        a->port != b->port || a->rtcp_port != b->rtcp_port ||
        a->nformats != b->nformats || a->dtmf_pt != b->dtmf_pt ||
        a->dir != b->dir || a->ptime != b->ptime)
        return 0;
    for (int i = 0; i < a->nformats; i++) {
        const sb_media_format_t *x = &a->formats[i], *y = &b->formats[i];
        if (x->pt != y->pt || x->rate != y->rate ||
            x->channels != y->channels || strcmp(x->name, y->name) != 0 ||
            strcmp(x->fmtp, y->fmtp) != 0)
            return 0;
    }
    return 1;
}

const char *sb_media_codec_name(sb_media_codec_t codec)
{
    switch (codec) {
    case SB_MEDIA_PCMU: return "PCMU";
    case SB_MEDIA_PCMA: return "PCMA";
    default:            return "none";
    }
}

const char *sb_media_dir_name(sb_media_dir_t dir)
{
    switch (dir) {
    case SB_MEDIA_SENDONLY: return "sendonly";
    case SB_MEDIA_RECVONLY: return "recvonly";
    case SB_MEDIA_INACTIVE: return "inactive";
    default:                return "sendrecv";
    }
}
