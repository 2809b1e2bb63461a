/*
 * digest.c: HTTP Digest authentication for the registrar (RFC 7616 with
 * the SIP profile of RFC 8760): MD5 and SHA-256, qop=auth only.
 *
 * Nonces are stateless: hex(timestamp, counter, HMAC-SHA256 of both under
 * a per-process random key), so any nonce can be checked for authenticity
 * and age without a table, and a restart invalidates every earlier nonce.
 * Replay protection needs state: the highest nonce-count seen per nonce is
 * kept in a bounded table. When it is full, expired entries go first, then
 * the oldest; the newest evicted timestamp becomes a floor below which an
 * untracked nonce is refused as stale (its nc history is unknown), so
 * eviction never lets a replay through.
 *
 * Parsing works on sofia's already-split "name=value" parameters; the
 * registrar decides what each failure means on the wire.
 *
 * Also here: the failed-authentication memory (sb_authlim_t) that puts a
 * guessing address, and a login being guessed, into a back-off. Each is a
 * fixed table (least recently used replaced); a failure past the
 * threshold doubles the back-off, from 5 s up to SB_AUTHLIM_MAX_MS. A
 * login's back-off refuses only addresses that have failed before, so a
 * guesser cannot lock a phone out from elsewhere.
 */
#include "sip_int.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* ---- parsing ------------------------------------------------------------- */

void sb__digest_creds_clear(sb_digest_creds_t *c)
{
    free(c->username);
    free(c->realm);
    free(c->nonce);
    free(c->uri);
    free(c->response);
    free(c->cnonce);
    free(c->qop);
    free(c->opaque);
    memset(c, 0, sizeof *c);
}

/* Copies a token or quoted-string value, undoing quoted-pair escapes.
 * Returns owned text, or NULL (with *why) when malformed or too long. */
static char *unquote(const char *v, const char **why)
{
    size_t n = strlen(v);
    if (n == 0) {
        *why = "empty parameter value";
        return NULL;
    }
    if (v[0] != '"') {
        /* A token: no quotes, spaces or separators inside. */
        if (n > SB_DIGEST_MAX_VALUE) {
            *why = "parameter value too long";
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)v[i];
            if (ch <= ' ' || ch == '"' || ch == ',' || ch >= 0x7f) {
                *why = "invalid character in parameter value";
                return NULL;
            }
        }
        return sb_xstrndup(v, n);
    }
    if (n < 2 || v[n - 1] != '"') {
        *why = "unterminated quoted string";
        return NULL;
    }
    char *out = sb_xmalloc(n);
    size_t o = 0;
    for (size_t i = 1; i < n - 1; i++) {
        unsigned char ch = (unsigned char)v[i];
        if (ch == '\\') {
            if (i + 1 >= n - 1) {
                free(out);
                *why = "unterminated quoted string";
                return NULL;
            }
            ch = (unsigned char)v[++i];
        } else if (ch == '"') {
            free(out);
            *why = "stray quote in parameter value";
            return NULL;
        }
        if (ch < ' ' && ch != '\t') {
            free(out);
            *why = "control character in parameter value";
            return NULL;
        }
        out[o++] = (char)ch;
    }
    out[o] = '\0';
    if (o > SB_DIGEST_MAX_VALUE) {
        free(out);
        *why = "parameter value too long";
        return NULL;
    }
    return out;
}

static int is_hex_string(const char *s, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return 1;
}

static int fail_parse(sb_digest_creds_t *out, const char *why)
{
    out->error = why;
    return SB_ESYNTAX;
}

int sb__digest_parse(const char *const *params, sb_digest_creds_t *out)
{
    char *algorithm = NULL, *nc = NULL, *userhash = NULL;
    int rc = 0;
    memset(out, 0, sizeof *out);
    if (params == NULL)
        return fail_parse(out, "no digest parameters");

    static const struct {
        const char *name;
        size_t off;
    } known[] = {
        {"username", offsetof(sb_digest_creds_t, username)},
        {"realm", offsetof(sb_digest_creds_t, realm)},
        {"nonce", offsetof(sb_digest_creds_t, nonce)},
        {"uri", offsetof(sb_digest_creds_t, uri)},
        {"response", offsetof(sb_digest_creds_t, response)},
        {"cnonce", offsetof(sb_digest_creds_t, cnonce)},
        {"qop", offsetof(sb_digest_creds_t, qop)},
        {"opaque", offsetof(sb_digest_creds_t, opaque)},
    };
    for (size_t i = 0; params[i] != NULL; i++) {
        if (i >= 32) {
            rc = fail_parse(out, "too many digest parameters");
            goto done;
        }
        const char *p = params[i];
        const char *eq = strchr(p, '=');
        if (eq == NULL || eq == p) {
            rc = fail_parse(out, "digest parameter without a value");
            goto done;
        }
        size_t nlen = (size_t)(eq - p);
        /* sofia keeps whitespace around '=' in some inputs; trim it. */
        while (nlen > 0 && (p[nlen - 1] == ' ' || p[nlen - 1] == '\t'))
            nlen--;
        const char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        char **slot = NULL;
        for (size_t k = 0; k < SB_COUNTOF(known); k++) {
            if (strlen(known[k].name) == nlen && strncasecmp(p, known[k].name, nlen) == 0) {
                slot = (char **)((char *)out + known[k].off);
                break;
            }
        }
        if (slot == NULL) {
            if (nlen == 9 && strncasecmp(p, "algorithm", 9) == 0)
                slot = &algorithm;
            else if (nlen == 2 && strncasecmp(p, "nc", 2) == 0)
                slot = &nc;
            else if (nlen == 8 && strncasecmp(p, "userhash", 8) == 0)
                slot = &userhash;
            else
                continue;       /* RFC 7616: unknown parameters are ignored */
        }
        if (*slot != NULL) {
            rc = fail_parse(out, "repeated digest parameter");
            goto done;
        }
        const char *why = NULL;
        *slot = unquote(v, &why);
        if (*slot == NULL) {
            rc = fail_parse(out, why);
            goto done;
        }
    }

    if (!out->username || !out->realm || !out->nonce || !out->uri || !out->response) {
        rc = fail_parse(out, "missing digest parameter");
        goto done;
    }
    if (out->username[0] == '\0') {
        rc = fail_parse(out, "empty username");
        goto done;
    }
    if (algorithm == NULL || strcasecmp(algorithm, "MD5") == 0)
        out->alg = SB_DIGEST_MD5;
    else if (strcasecmp(algorithm, "SHA-256") == 0)
        out->alg = SB_DIGEST_SHA256;
    else {
        rc = fail_parse(out, "unsupported digest algorithm");
        goto done;
    }
    if (userhash && strcasecmp(userhash, "false") != 0) {
        rc = fail_parse(out, "userhash is not supported");
        goto done;
    }
    /* We always challenge with qop="auth": its nc is our replay guard, so
     * RFC 2069-style credentials without it are refused. */
    if (out->qop == NULL || strcasecmp(out->qop, "auth") != 0) {
        rc = fail_parse(out, "qop=auth required");
        goto done;
    }
    if (nc == NULL || out->cnonce == NULL) {
        rc = fail_parse(out, "missing nc or cnonce");
        goto done;
    }
    if (!is_hex_string(nc, 8)) {
        rc = fail_parse(out, "nc is not 8 hex digits");
        goto done;
    }
    memcpy(out->nc_text, nc, 9);
    out->nc = (uint32_t)strtoul(nc, NULL, 16);
    if (out->nc == 0) {
        rc = fail_parse(out, "nc must start at 1");
        goto done;
    }
    size_t want = sb__digest_hex_size(out->alg) - 1;
    if (!is_hex_string(out->response, want)) {
        rc = fail_parse(out, "response is not a digest of the algorithm");
        goto done;
    }
    for (char *c = out->response; *c; c++)
        *c = (char)tolower((unsigned char)*c);

done:
    free(algorithm);
    free(nc);
    free(userhash);
    return rc;
}

/* ---- hashing ------------------------------------------------------------- */

size_t sb__digest_hex_size(sb_digest_alg_t alg)
{
    return alg == SB_DIGEST_SHA256 ? 65 : 33;
}

static void hash_hex(sb_digest_alg_t alg, const sb_buf_t *b, char *out)
{
    if (alg == SB_DIGEST_SHA256)
        sb_sha256_hex(b->data ? b->data : "", b->len, out);
    else
        sb_md5_hex(b->data ? b->data : "", b->len, out);
}

void sb__digest_ha1(sb_digest_alg_t alg, const char *username, const char *realm,
                    const char *password, char *out)
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s:%s:%s", username, realm, password);
    hash_hex(alg, &b, out);
    /* The buffer held the password: wipe it before it returns to malloc. */
    if (b.data)
        memset(b.data, 0, b.cap);
    sb_buf_free(&b);
}

void sb__digest_response(sb_digest_alg_t alg, const char *ha1, const char *method,
                         const char *uri, const char *nonce, const char *nc,
                         const char *cnonce, const char *qop, char *out)
{
    char ha2[65];
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_printf(&b, "%s:%s", method, uri);
    hash_hex(alg, &b, ha2);
    sb_buf_reset(&b);
    sb_buf_printf(&b, "%s:%s:%s:%s:%s:%s", ha1, nonce, nc, cnonce, qop, ha2);
    hash_hex(alg, &b, out);
    sb_buf_free(&b);
}

/* HMAC-SHA256 (RFC 2104) over util's one-shot SHA-256; inputs are small. */
static void hmac_sha256(const uint8_t key[32], const void *msg, size_t len,
                        uint8_t out[32])
{
    uint8_t block[64 + 64];
    uint8_t inner[32];
    sb_assert(len <= 64);
    for (int i = 0; i < 64; i++)
        block[i] = (uint8_t)((i < 32 ? key[i] : 0) ^ 0x36);
    memcpy(block + 64, msg, len);
    sb_sha256(block, 64 + len, inner);
    for (int i = 0; i < 64; i++)
        block[i] = (uint8_t)((i < 32 ? key[i] : 0) ^ 0x5c);
    memcpy(block + 64, inner, 32);
    sb_sha256(block, 64 + 32, out);
}

/* ---- nonces and the nc table --------------------------------------------- */

typedef struct {
    char nonce[SB_DIGEST_NONCE_LEN + 1];
    int64_t ts;                 /* the nonce's issue time */
    uint32_t nc;                /* highest nonce-count accepted */
    uint32_t next;              /* chain: slot index + 1, 0 ends */
    int used;
} nc_slot_t;

struct sb_digest_s {
    uint8_t key[32];
    uint64_t counter;
    int lifetime;
    nc_slot_t *slots;
    size_t cap, count;
    uint32_t *buckets;          /* slot index + 1, 0 empty */
    size_t nbuckets;
    uint32_t free_head;         /* free slots: index + 1 chain */
    int64_t floor_ts;           /* untracked nonces issued <= this are stale */
    char dummy_ha1[2][65];
};

sb_digest_t *sb__digest_new(int lifetime, size_t slots)
{
    sb_digest_t *d = SB_NEW(sb_digest_t);
    if (sb_random_bytes(d->key, sizeof d->key) != 0)
        sb_assert(!"no randomness for the digest key");
    sb_random_bytes(&d->counter, sizeof d->counter);
    d->lifetime = lifetime;
    d->cap = slots < 4 ? 4 : slots;
    d->slots = sb_xcalloc(d->cap, sizeof *d->slots);
    d->nbuckets = 1;
    while (d->nbuckets < d->cap)
        d->nbuckets <<= 1;
    d->buckets = sb_xcalloc(d->nbuckets, sizeof *d->buckets);
    for (size_t i = 0; i < d->cap; i++)
        d->slots[i].next = i + 1 < d->cap ? (uint32_t)(i + 2) : 0;
    d->free_head = 1;
    d->floor_ts = INT64_MIN;
    /* Unknown users are checked against a random secret's HA1. */
    char secret[65];
    sb_hex(d->key, 16, secret);
    sb__digest_ha1(SB_DIGEST_MD5, "-", "-", secret, d->dummy_ha1[SB_DIGEST_MD5]);
    sb__digest_ha1(SB_DIGEST_SHA256, "-", "-", secret, d->dummy_ha1[SB_DIGEST_SHA256]);
    return d;
}

void sb__digest_free(sb_digest_t *d)
{
    if (d == NULL)
        return;
    free(d->slots);
    free(d->buckets);
    memset(d, 0, sizeof *d);
    free(d);
}

void sb__digest_dummy_ha1(sb_digest_t *d, sb_digest_alg_t alg, char *out)
{
    memcpy(out, d->dummy_ha1[alg], sb__digest_hex_size(alg));
}

size_t sb__digest_tracked(sb_digest_t *d) { return d->count; }

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

void sb__digest_nonce(sb_digest_t *d, int64_t now, char *out)
{
    uint8_t raw[32];
    uint8_t mac[32];
    put_be64(raw, (uint64_t)now);
    put_be64(raw + 8, d->counter++);
    hmac_sha256(d->key, raw, 16, mac);
    memcpy(raw + 16, mac, 16);
    sb_hex(raw, 32, out);
}

static int unhex(const char *s, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[2 * i + k];
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= c - '0';
            else if (c >= 'a' && c <= 'f')
                v |= c - 'a' + 10;
            else
                return -1;      /* we only ever issue lowercase */
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

sb_nonce_verdict_t sb__digest_nonce_check(sb_digest_t *d, const char *nonce,
                                          int64_t now)
{
    uint8_t raw[32];
    uint8_t mac[32];
    if (strlen(nonce) != SB_DIGEST_NONCE_LEN || unhex(nonce, raw, 32) != 0)
        return SB_NONCE_INVALID;
    hmac_sha256(d->key, raw, 16, mac);
    char want[33], got[33];
    sb_hex(mac, 16, want);
    sb_hex(raw + 16, 16, got);
    if (!sb_ct_streq(want, got))
        return SB_NONCE_INVALID;
    int64_t ts = (int64_t)get_be64(raw);
    if (ts > now + 5)                   /* from the future: not ours */
        return SB_NONCE_INVALID;
    if (now - ts >= d->lifetime)
        return SB_NONCE_STALE;
    return SB_NONCE_OK;
}

static uint32_t bucket_of(sb_digest_t *d, const char *nonce)
{
    /* The nonce ends in MAC bytes: already uniformly distributed. */
    uint32_t h = 0;
    for (int i = 0; i < 8; i++)
        h = (h << 4) | (uint32_t)(nonce[SB_DIGEST_NONCE_LEN - 1 - i] & 0x0f);
    return h & (uint32_t)(d->nbuckets - 1);
}

static void slot_unlink(sb_digest_t *d, uint32_t idx)
{
    nc_slot_t *s = &d->slots[idx];
    uint32_t *link = &d->buckets[bucket_of(d, s->nonce)];
    while (*link && *link != idx + 1)
        link = &d->slots[*link - 1].next;
    if (*link)
        *link = s->next;
    s->used = 0;
    s->next = d->free_head;
    d->free_head = idx + 1;
    d->count--;
}

/* Makes room when the table is full: expired entries first (they fail the
 * age check anyway, so no floor is needed for them), then the oldest. */
static void make_room(sb_digest_t *d, int64_t now)
{
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].used && now - d->slots[i].ts >= d->lifetime)
            slot_unlink(d, (uint32_t)i);
    if (d->count < d->cap)
        return;
    /* Everything issued in the oldest second goes at once: under load that
     * is a batch, so the scan is not repeated for every insertion. */
    int64_t oldest = INT64_MAX;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].ts < oldest)
            oldest = d->slots[i].ts;
    for (size_t i = 0; i < d->cap; i++)
        if (d->slots[i].used && d->slots[i].ts <= oldest)
            slot_unlink(d, (uint32_t)i);
    if (oldest > d->floor_ts)
        d->floor_ts = oldest;
}

sb_nonce_verdict_t sb__digest_nc_use(sb_digest_t *d, const char *nonce,
                                     uint32_t nc, int64_t now)
{
    uint8_t raw[8];
    if (strlen(nonce) != SB_DIGEST_NONCE_LEN || unhex(nonce, raw, 8) != 0)
        return SB_NONCE_INVALID;
    uint32_t b = bucket_of(d, nonce);
    for (uint32_t i = d->buckets[b]; i; i = d->slots[i - 1].next) {
        nc_slot_t *s = &d->slots[i - 1];
        if (strcmp(s->nonce, nonce) == 0) {
            if (nc <= s->nc)
                return SB_NONCE_REPLAY;
            s->nc = nc;
            return SB_NONCE_OK;
        }
    }
    int64_t ts = (int64_t)get_be64(raw);
    if (ts <= d->floor_ts)
        return SB_NONCE_STALE;
    if (d->count == d->cap)
        make_room(d, now);
    if (ts <= d->floor_ts)              /* make_room may have raised it */
        return SB_NONCE_STALE;
    uint32_t idx = d->free_head - 1;
    nc_slot_t *s = &d->slots[idx];
    d->free_head = s->next;
    memcpy(s->nonce, nonce, SB_DIGEST_NONCE_LEN + 1);
    s->ts = ts;
    s->nc = nc;
    s->used = 1;
    s->next = d->buckets[b];
    d->buckets[b] = idx + 1;
    d->count++;
    return SB_NONCE_OK;
}

char *sb__digest_challenge(sb_digest_t *d, const char *realm, sb_digest_alg_t alg,
                           int stale, int64_t now)
{
    char nonce[SB_DIGEST_NONCE_LEN + 1];
    sb__digest_nonce(d, now, nonce);
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_puts(&b, "Digest realm=\"");
    for (const char *p = realm; *p; p++) {
        if (*p == '"' || *p == '\\')
            sb_buf_putc(&b, '\\');
        sb_buf_putc(&b, *p);
    }
    sb_buf_printf(&b, "\", nonce=\"%s\", algorithm=%s, qop=\"auth\"%s", nonce,
                  alg == SB_DIGEST_SHA256 ? "SHA-256" : "MD5",
                  stale ? ", stale=true" : "");
    return sb_buf_steal(&b);
}

/* ---- failed-authentication limits ---------------------------------------- */

typedef struct {
    char key[128];              /* IP or login; "" when free */
    int failures;               /* recent, see SB_AUTHLIM_FORGET_MS */
    int64_t last_fail;          /* ms */
    int64_t blocked_until;      /* ms; 0 when none */
    int64_t used;               /* ms, for replacement */
} authlim_entry_t;

struct sb_authlim_s {
    authlim_entry_t addrs[SB_AUTHLIM_SLOTS];
    authlim_entry_t logins[SB_AUTHLIM_SLOTS];
};

sb_authlim_t *sb__authlim_new(void)
{
    return SB_NEW(sb_authlim_t);
}

void sb__authlim_free(sb_authlim_t *l)
{
    free(l);
}

static authlim_entry_t *authlim_find(authlim_entry_t *t, const char *key,
                                     int create, int64_t now)
{
    authlim_entry_t *spare = NULL;
    for (size_t i = 0; i < SB_AUTHLIM_SLOTS; i++) {
        if (t[i].key[0] && strcmp(t[i].key, key) == 0)
            return &t[i];
        if (spare == NULL || (spare->key[0] &&
                              (!t[i].key[0] || t[i].used < spare->used)))
            spare = &t[i];
    }
    if (!create || strlen(key) >= sizeof spare->key)
        return NULL;
    memset(spare, 0, sizeof *spare);
    snprintf(spare->key, sizeof spare->key, "%s", key);
    spare->used = now;
    return spare;
}

/* Forgets failures older than SB_AUTHLIM_FORGET_MS. */
static void authlim_age(authlim_entry_t *e, int64_t now)
{
    if (e && e->failures && now - e->last_fail > SB_AUTHLIM_FORGET_MS &&
        now >= e->blocked_until) {
        e->failures = 0;
        e->blocked_until = 0;
    }
}

int64_t sb__authlim_check(sb_authlim_t *l, const char *ip, const char *login,
                          int64_t now)
{
    authlim_entry_t *a = authlim_find(l->addrs, ip, 0, now);
    authlim_age(a, now);
    if (a && now < a->blocked_until)
        return a->blocked_until - now;
    if (a == NULL || a->failures == 0 || login == NULL)
        return 0;
    authlim_entry_t *u = authlim_find(l->logins, login, 0, now);
    authlim_age(u, now);
    if (u && now < u->blocked_until)
        return u->blocked_until - now;
    return 0;
}

static int64_t authlim_bump(authlim_entry_t *e, int threshold, int64_t now)
{
    e->failures++;
    e->last_fail = now;
    e->used = now;
    if (e->failures < threshold)
        return 0;
    int over = e->failures - threshold;
    int64_t b = over >= 20 ? SB_AUTHLIM_MAX_MS
                           : (int64_t)SB_AUTHLIM_FIRST_MS << over;
    if (b > SB_AUTHLIM_MAX_MS)
        b = SB_AUTHLIM_MAX_MS;
    e->blocked_until = now + b;
    return b;
}

void sb__authlim_fail(sb_authlim_t *l, const char *ip, const char *login,
                      int64_t now, int64_t *addr_backoff,
                      int64_t *login_backoff)
{
    authlim_entry_t *a = authlim_find(l->addrs, ip, 1, now);
    authlim_age(a, now);
    *addr_backoff = a ? authlim_bump(a, SB_AUTHLIM_ADDR_FAILURES, now) : 0;
    *login_backoff = 0;
    if (login) {
        authlim_entry_t *u = authlim_find(l->logins, login, 1, now);
        authlim_age(u, now);
        if (u)
            *login_backoff = authlim_bump(u, SB_AUTHLIM_LOGIN_FAILURES, now);
    }
}

int sb__authlim_failures(sb_authlim_t *l, const char *key, int login)
{
    authlim_entry_t *e = authlim_find(login ? l->logins : l->addrs, key, 0, 0);
    return e ? e->failures : 0;
}
