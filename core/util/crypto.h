/*
 * crypto.h: randomness, digests and password hashing. The only user of
 * libcrypto (OpenSSL) in the tree; everything else asks here.
 *
 * Password hashes are "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>":
 * PBKDF2-HMAC-SHA256, 16-byte random salt, 32-byte output.
 */
#ifndef SB_CRYPTO_H
#define SB_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SB_PASSWORD_ITERATIONS 120000

/* Fills buf with n bytes from the kernel's CSPRNG. Returns 0 or SB_EIO. */
int sb_random_bytes(void *buf, size_t n);
/* Writes 2n lowercase hex chars and a NUL to out (size 2n+1). */
void sb_hex(const void *bytes, size_t n, char *out);
/* out: 33 bytes. */
void sb_md5_hex(const void *data, size_t n, char out[33]);
/* out: 65 bytes. */
void sb_sha256_hex(const void *data, size_t n, char out[65]);
/* Raw SHA-256 (32 bytes) of data. */
void sb_sha256(const void *data, size_t n, uint8_t out[32]);
/* Constant-time comparison of two strings; their lengths may leak, their
 * contents do not. Returns 1 when equal. */
int sb_ct_streq(const char *a, const char *b);

/* Returns owned hash string of password (format above); iterations 0 means
 * SB_PASSWORD_ITERATIONS. */
char *sb_password_hash(const char *password, unsigned iterations);
/* Returns 1 when password matches stored (a string from sb_password_hash),
 * 0 otherwise, including when stored is malformed. Constant time in the
 * hash comparison. */
int sb_password_verify(const char *password, const char *stored);
/* Returns owned random token of 32 lowercase hex chars (128 bits). */
char *sb_token_new(void);

#endif
