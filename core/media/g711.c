/*
 * g711.c: ITU-T G.711 mu-law and A-law. Sample conversion is done
 * arithmetically (segment = position of the highest bit); the two
 * 256-entry transcoding tables PCMU<->PCMA go through linear PCM and are
 * built once. Nothing here allocates or knows about RTP.
 */
#include "media_int.h"

#include <pthread.h>

#define ULAW_BIAS 0x84
#define ULAW_CLIP 32635

uint8_t sb__media_ulaw_to_alaw[256];
uint8_t sb__media_alaw_to_ulaw[256];

static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* Index of the highest set bit of v (v > 0). */
static int top_bit(unsigned v)
{
    return 31 - __builtin_clz(v);
}

uint8_t sb__media_linear_to_ulaw(int16_t pcm)
{
    int v = pcm;
    int sign = 0;
    if (v < 0) {
        v = -v;
        sign = 0x80;
    }
    if (v > ULAW_CLIP)
        v = ULAW_CLIP;
    v += ULAW_BIAS;                         /* 132 .. 32767 */
    int exponent = top_bit((unsigned)v) - 7; /* 0 .. 7 */
    int mantissa = (v >> (exponent + 3)) & 0x0F;
    return (uint8_t)~(sign | (exponent << 4) | mantissa);
}

int16_t sb__media_ulaw_to_linear(uint8_t u)
{
    u = (uint8_t)~u;
    int exponent = (u >> 4) & 0x07;
    int mantissa = u & 0x0F;
    int v = (((mantissa << 3) + ULAW_BIAS) << exponent) - ULAW_BIAS;
    return (int16_t)((u & 0x80) ? -v : v);
}

uint8_t sb__media_linear_to_alaw(int16_t pcm)
{
    int v = pcm >> 3;                       /* 13 significant bits */
    int mask = 0xD5;                        /* sign bit set: positive */
    if (v < 0) {
        v = -v - 1;
        mask = 0x55;
    }
    if (v > 0xFFF)
        return (uint8_t)(0x7F ^ mask);
    int seg = v < 0x20 ? 0 : top_bit((unsigned)v) - 4;  /* 0 .. 7 */
    int a = seg << 4;
    a |= seg < 2 ? (v >> 1) & 0x0F : (v >> seg) & 0x0F;
    return (uint8_t)(a ^ mask);
}

int16_t sb__media_alaw_to_linear(uint8_t a)
{
    a ^= 0x55;
    int t = (a & 0x0F) << 4;
    int seg = (a & 0x70) >> 4;
    if (seg == 0)
        t += 8;
    else
        t = (t + 0x108) << (seg - 1);
    return (int16_t)((a & 0x80) ? t : -t);
}

static void build_tables(void)
{
    for (int i = 0; i < 256; i++) {
        sb__media_ulaw_to_alaw[i] =
            sb__media_linear_to_alaw(sb__media_ulaw_to_linear((uint8_t)i));
        sb__media_alaw_to_ulaw[i] =
            sb__media_linear_to_ulaw(sb__media_alaw_to_linear((uint8_t)i));
    }
}

void sb__media_g711_init(void)
{
    pthread_once(&tables_once, build_tables);
}

void sb__media_g711_transcode(uint8_t *p, size_t n, sb_media_codec_t from,
                              sb_media_codec_t to)
{
    const uint8_t *table;
    if (from == to)
        return;
    if (from == SB_MEDIA_PCMU && to == SB_MEDIA_PCMA)
        table = sb__media_ulaw_to_alaw;
    else if (from == SB_MEDIA_PCMA && to == SB_MEDIA_PCMU)
        table = sb__media_alaw_to_ulaw;
    else
        return;
    for (size_t i = 0; i < n; i++)
        p[i] = table[p[i]];
}
