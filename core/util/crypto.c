/*
 * crypto.c: wrappers over libcrypto for digests and PBKDF2, and getrandom()
 * for randomness. No key material is ever logged.
 */
#include "crypto.h"
#include "err.h"
#include "mem.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

int sb_random_bytes(void *buf, size_t n)
{
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t got = getrandom(p, n, 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return SB_EIO;
        }
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

void sb_hex(const void *bytes, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const uint8_t *b = bytes;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void digest(const EVP_MD *md, const void *data, size_t n, uint8_t *out,
                   unsigned *outlen)
{
    EVP_Digest(data, n, out, outlen, md, NULL);
}

void sb_md5_hex(const void *data, size_t n, char out[33])
{
    uint8_t d[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    digest(EVP_md5(), data, n, d, &len);
    sb_hex(d, len, out);
}

void sb_sha256(const void *data, size_t n, uint8_t out[32])
{
    unsigned len = 0;
    digest(EVP_sha256(), data, n, out, &len);
}

void sb_sha256_hex(const void *data, size_t n, char out[65])
{
    uint8_t d[32];
    sb_sha256(data, n, d);
    sb_hex(d, 32, out);
}

int sb_ct_streq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t n = la > lb ? la : lb;
    unsigned char diff = (unsigned char)(la != lb);
    for (size_t i = 0; i < n; i++) {
        unsigned char ca = i < la ? (unsigned char)a[i] : 0;
        unsigned char cb = i < lb ? (unsigned char)b[i] : 0;
        diff |= ca ^ cb;
    }
    return diff == 0;
}

static void pbkdf2(const char *password, const uint8_t *salt, size_t saltlen,
                   unsigned iterations, uint8_t out[32])
{
    PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)saltlen,
                      (int)iterations, EVP_sha256(), 32, out);
}

char *sb_password_hash(const char *password, unsigned iterations)
{
    uint8_t salt[16], hash[32];
    char salthex[33], hashhex[65];
    if (iterations == 0)
        iterations = SB_PASSWORD_ITERATIONS;
    if (sb_random_bytes(salt, sizeof salt) != 0)
        abort();    /* no entropy: nothing safe to do */
    pbkdf2(password, salt, sizeof salt, iterations, hash);
    sb_hex(salt, sizeof salt, salthex);
    sb_hex(hash, sizeof hash, hashhex);
    return sb_xasprintf("pbkdf2-sha256$%u$%s$%s", iterations, salthex, hashhex);
}

static int unhex(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1)
            return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

int sb_password_verify(const char *password, const char *stored)
{
    unsigned iterations;
    char salthex[33], hashhex[65];
    uint8_t salt[16], hash[32];
    char calc[65];

    if (password == NULL || stored == NULL)
        return 0;
    if (sscanf(stored, "pbkdf2-sha256$%u$%32[0-9a-f]$%64[0-9a-f]", &iterations,
               salthex, hashhex) != 3)
        return 0;
    if (strlen(salthex) != 32 || strlen(hashhex) != 64 || iterations == 0 ||
        iterations > 10000000)
        return 0;
    if (unhex(salthex, 16, salt) != 0)
        return 0;
    pbkdf2(password, salt, sizeof salt, iterations, hash);
    sb_hex(hash, sizeof hash, calc);
    return sb_ct_streq(calc, hashhex);
}

char *sb_token_new(void)
{
    uint8_t r[16];
    char *out = sb_xmalloc(33);
    if (sb_random_bytes(r, sizeof r) != 0)
        abort();
    sb_hex(r, sizeof r, out);
    return out;
}
