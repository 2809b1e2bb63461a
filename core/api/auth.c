/*
 * auth.c: HTTP Basic authentication and password rules.
 *
 * The user is an AccountSid or an e-mail address; the secret is the
 * account's AuthToken (random, compared in constant time) or its
 * password (PBKDF2, verified on the thread pool since one check costs
 * about 100 ms). A verified password is remembered as the SHA-256 of
 * (user, password, stored hash) in a fixed-size table, never as text, so
 * later requests cost one hash; changing the password changes the stored
 * hash and so retires every cached entry at once.
 *
 * Failed-login work is limited per client IP, so that a flood of wrong
 * passwords cannot take the thread pool from good logins: an address
 * runs at most SB__API_LOGIN_INFLIGHT password checks at once; after
 * SB__API_LOGIN_FAILURES failures its checks are refused for a back-off
 * that doubles with each further failure (1 s up to 5 min, logged), and
 * addresses with recent failures share only part of the pending budget
 * (SB__API_SUSPECT_PENDING), the rest being kept for everyone else.
 * Refusals are 429 with Retry-After and cost no hashing. A cached good
 * login (and the AuthToken) is never limited: it costs one hash.
 *
 * Also here: Restcomm's password strength score (its JavaScript validator,
 * rewritten), which accounts and clients must reach.
 */
#include "api_int.h"

#include <string.h>
#include <strings.h>

/* ---- Basic credentials ---------------------------------------------------- */

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64 (padding optional) into out (cap bytes, NUL
 * added). Returns the length or -1. */
long sb__api_b64_decode(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (; *in && *in != '='; in++) {
        int v = b64_value((unsigned char)*in);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n + 1 >= cap)
                return -1;
            out[n++] = (char)((acc >> bits) & 0xff);
        }
    }
    while (*in == '=')
        in++;
    if (*in)
        return -1;
    out[n] = '\0';
    return (long)n;
}

static void cred_key(const char *user, const char *secret, const char *stored,
                     uint8_t key[32])
{
    sb_buf_t b = SB_BUF_INIT;
    sb_buf_append(&b, user, strlen(user) + 1);
    sb_buf_append(&b, secret, strlen(secret) + 1);
    sb_buf_puts(&b, stored ? stored : "");
    sb_sha256(b.data, b.len, key);
    memset(b.data, 0, b.len);
    sb_buf_free(&b);
}

static unsigned cred_slot(const uint8_t key[32])
{
    return ((unsigned)key[0] | (unsigned)key[1] << 8) % SB__API_CRED_SLOTS;
}

static void unauthorized(sb__api_ctx_t *ctx)
{
    sb__api_error(ctx, 401, "Unauthorized");
}

/* ---- failed-login limits ---------------------------------------------- */

static uint64_t now_ms(void)
{
    return uv_hrtime() / 1000000;
}

/* The record of ip, or NULL; with create, a free or reusable slot (the
 * least recently used with no check running) is taken for it. */
static sb__api_login_t *login_get(sb_api_t *api, const char *ip, int create)
{
    sb__api_login_t *spare = NULL;
    for (int i = 0; i < SB__API_LOGIN_ADDRS; i++) {
        sb__api_login_t *l = &api->logins[i];
        if (l->ip[0] && strcmp(l->ip, ip) == 0)
            return l;
        if (l->inflight == 0 &&
            (spare == NULL || (spare->ip[0] && (!l->ip[0] || l->used < spare->used))))
            spare = l;
    }
    if (!create || spare == NULL)
        return NULL;
    memset(spare, 0, sizeof *spare);
    snprintf(spare->ip, sizeof spare->ip, "%s", ip);
    return spare;
}

static void too_many(sb__api_ctx_t *ctx, uint64_t wait_ms)
{
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)((wait_ms + 999) / 1000));
    sb_http_resp_header(ctx->req, "Retry-After", s);
    sb__api_error(ctx, 429, "Too many failed logins; retry later");
}

/* Before a password check. Returns 0 when it may run (counted), or 1
 * after answering 429. */
static int login_admit(sb__api_ctx_t *ctx)
{
    sb_api_t *api = ctx->api;
    const char *ip = sb_http_req_remote(ctx->req);
    uint64_t now = now_ms();
    sb__api_login_t *l = login_get(api, ip ? ip : "", 1);
    if (l == NULL)                       /* every slot busy: cannot happen
                                            while pending <= 64 < 256 */
        return 0;
    if (l->failures && now - l->last_fail > SB__API_LOGIN_FORGET_MS)
        l->failures = 0;
    l->used = now;
    if (now < l->blocked_until) {
        too_many(ctx, l->blocked_until - now);
        return 1;
    }
    if (l->inflight >= SB__API_LOGIN_INFLIGHT ||
        (l->failures > 0 && api->suspect_pending >= SB__API_SUSPECT_PENDING)) {
        too_many(ctx, 1000);
        return 1;
    }
    l->inflight++;
    ctx->w_suspect = l->failures > 0;
    api->suspect_pending += ctx->w_suspect;
    return 0;
}

/* After a password check admitted by login_admit from ip (ok: it
 * matched; suspect: as login_admit counted it). */
static void login_done(sb_api_t *api, const char *ip, int suspect, int ok)
{
    api->suspect_pending -= suspect;
    sb__api_login_t *l = login_get(api, ip ? ip : "", 0);
    if (l == NULL)
        return;
    if (l->inflight > 0)
        l->inflight--;
    if (ok)
        return;
    uint64_t now = now_ms();
    l->failures++;
    l->last_fail = now;
    if (l->failures >= SB__API_LOGIN_FAILURES) {
        int over = l->failures - SB__API_LOGIN_FAILURES;
        uint64_t backoff = over >= 20 ? SB__API_LOGIN_MAX_BACKOFF_MS
                                      : (uint64_t)1000 << over;
        if (backoff > SB__API_LOGIN_MAX_BACKOFF_MS)
            backoff = SB__API_LOGIN_MAX_BACKOFF_MS;
        l->blocked_until = now + backoff;
        sb_warn("api: %s: %d failed logins; password checks from it refused "
                "for %llu s", l->ip, l->failures,
                (unsigned long long)(backoff / 1000));
    }
}


static void verify_work(sb__api_ctx_t *ctx)
{
    ctx->w_result = sb_password_verify(ctx->w_in1, ctx->w_in2);
}

/* Offloads a password check unless the address is over its limits. */
static void offload_check(sb__api_ctx_t *ctx, void (*done)(sb__api_ctx_t *))
{
    if (login_admit(ctx))
        return;
    sb_api_t *api = ctx->api;
    char ip[64];
    const char *r = sb_http_req_remote(ctx->req);
    snprintf(ip, sizeof ip, "%s", r ? r : "");
    int suspect = ctx->w_suspect;
    if (sb__api_offload(ctx, verify_work, done))
        login_done(api, ip, suspect, 1);  /* not run (ctx is answered) */
}

static void verify_done(sb__api_ctx_t *ctx)
{
    memset(ctx->w_in1, 0, strlen(ctx->w_in1));
    login_done(ctx->api, sb_http_req_remote(ctx->req), ctx->w_suspect,
               ctx->w_result);
    if (!ctx->w_result) {
        unauthorized(ctx);
        return;
    }
    /* w_out holds the cache key computed before the work. */
    uint8_t *key = (uint8_t *)ctx->w_out;
    unsigned slot = cred_slot(key);
    memcpy(ctx->api->creds[slot], key, 32);
    ctx->api->cred_used[slot] = 1;
    sb__api_authorized(ctx);
}

static void verify_unknown_done(sb__api_ctx_t *ctx)
{
    memset(ctx->w_in1, 0, strlen(ctx->w_in1));
    login_done(ctx->api, sb_http_req_remote(ctx->req), ctx->w_suspect, 0);
    unauthorized(ctx);
}

void sb__api_authenticate(sb__api_ctx_t *ctx)
{
    sb_api_t *api = ctx->api;
    const char *h = sb_http_req_header(ctx->req, "Authorization");
    char decoded[768];
    if (h == NULL) {
        unauthorized(ctx);
        return;
    }
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Basic ", 6) != 0) {
        unauthorized(ctx);
        return;
    }
    h += 6;
    while (*h == ' ')
        h++;
    long n = sb__api_b64_decode(h, decoded, sizeof decoded);
    char *colon = n > 0 ? strchr(decoded, ':') : NULL;
    if (colon == NULL || colon == decoded || (long)strlen(decoded) != n ||
        !sb_http_utf8_valid(decoded, (size_t)n)) {
        unauthorized(ctx);
        return;
    }
    *colon = '\0';
    const char *user = decoded, *secret = colon + 1;

    int rc = sb_store_account_get(api->store, user, &ctx->me);
    if (rc == SB_ENOENT) {
        /* The same PBKDF2 work as a wrong password, against a hash nothing
         * matches, so the time of the 401 does not tell which users
         * exist. */
        ctx->w_in1 = sb_xstrdup(secret);
        ctx->w_in2 = sb_xasprintf("pbkdf2-sha256$%u$%032d$%064d",
                                  (unsigned)SB_PASSWORD_ITERATIONS, 0, 0);
        memset(decoded, 0, sizeof decoded);
        offload_check(ctx, verify_unknown_done);
        return;
    }
    if (rc != 0) {
        sb__api_error(ctx, 500, "Database error");
        return;
    }
    if (ctx->me.auth_token && sb_ct_streq(secret, ctx->me.auth_token)) {
        sb__api_authorized(ctx);
        return;
    }
    uint8_t key[32];
    cred_key(user, secret, ctx->me.password_hash, key);
    unsigned slot = cred_slot(key);
    if (api->cred_used[slot] && memcmp(api->creds[slot], key, 32) == 0) {
        memset(decoded, 0, sizeof decoded);
        sb__api_authorized(ctx);
        return;
    }
    ctx->w_in1 = sb_xstrdup(secret);
    ctx->w_in2 = sb_xstrdup(ctx->me.password_hash ? ctx->me.password_hash : "");
    ctx->w_out = sb_xmalloc(32);
    memcpy(ctx->w_out, key, 32);
    memset(decoded, 0, sizeof decoded);
    offload_check(ctx, verify_done);
}

/* ---- password strength ---------------------------------------------------- */

/* Restcomm scores passwords with a JavaScript function (identity module,
 * JavascriptPasswordValidator) and wants at least 50. This is the same
 * arithmetic over Unicode code points, with one deliberate difference:
 * the original builds a RegExp from each character to count repeats, so
 * a password containing * + ? ( ) [ or \ throws and is always "weak"; we
 * count such characters literally. */

static int is_sym(uint32_t c)
{
    /* [$-/:-?{-~!^_`\[\]] */
    return (c >= '$' && c <= '/') || (c >= ':' && c <= '?') ||
           (c >= '{' && c <= '~') || c == '!' || c == '^' || c == '_' ||
           c == '`' || c == '[' || c == ']';
}

static int is_low(uint32_t c) { return c >= 'a' && c <= 'z'; }
static int is_up(uint32_t c) { return c >= 'A' && c <= 'Z'; }
static int is_dig(uint32_t c) { return c >= '0' && c <= '9'; }

static uint32_t lower_cp(uint32_t c)
{
    return is_up(c) ? c + 32 : c;
}

/* Decodes UTF-8 into code points (at most cap). Returns the count. */
static size_t utf8_cps(const char *s, uint32_t *out, size_t cap)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p && n < cap) {
        uint32_t c = *p++;
        int more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
        if (more)
            c &= 0x3f >> more;
        while (more-- > 0 && (*p & 0xc0) == 0x80)
            c = (c << 6) | (*p++ & 0x3f);
        out[n++] = c;
    }
    return n;
}

/* 1 when the lower-cased password contains the 3-character sequence seq
 * (code points) forwards or backwards. */
static int has_seq(const uint32_t *lp, size_t n, const uint32_t *seq)
{
    for (size_t i = 0; i + 3 <= n; i++) {
        if (lp[i] == seq[0] && lp[i + 1] == seq[1] && lp[i + 2] == seq[2])
            return 1;
        if (lp[i] == seq[2] && lp[i + 1] == seq[1] && lp[i + 2] == seq[0])
            return 1;
    }
    return 0;
}

static int count_seqs(const uint32_t *lp, size_t n, const uint32_t *alphabet,
                      size_t alen)
{
    int count = 0;
    for (size_t i = 0; i + 2 < alen; i++)
        count += has_seq(lp, n, alphabet + i);
    return count;
}

int sb__api_password_strength(const char *password)
{
    uint32_t p[256], lp[256];
    if (password == NULL || *password == '\0')
        return 0;
    size_t n = utf8_cps(password, p, SB_COUNTOF(p));
    int lower = 0, upper = 0, numbers = 0, symbols = 0, mid_num = 0, mid_sym = 0;
    int consec_low = 0, consec_up = 0, consec_num = 0, only_num = 1, only_let = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = p[i];
        lp[i] = lower_cp(c);
        lower += is_low(c);
        upper += is_up(c);
        numbers += is_dig(c);
        symbols += is_sym(c);
        if (i > 0 && i + 1 < n) {
            mid_num += is_dig(c);
            mid_sym += is_sym(c);
        }
        if (i + 1 < n) {
            consec_low += is_low(c) && is_low(p[i + 1]);
            consec_up += is_up(c) && is_up(p[i + 1]);
            consec_num += is_dig(c) && is_dig(p[i + 1]);
        }
        if (!is_dig(c))
            only_num = 0;
        if (!is_low(c) && !is_up(c))
            only_let = 0;
    }
    int req = (lower > 0) + (upper > 0) + (numbers > 0) + (symbols > 0) + (n >= 8);
    if (req < 3)
        req = 0;

    static const char letters[] = "abcdefghijklmnopqrstuvwxyz";
    static const char digits[] = "01234567890";
    uint32_t la[32], da[16], sa[16];
    for (size_t i = 0; i < sizeof letters - 1; i++)
        la[i] = (unsigned char)letters[i];
    for (size_t i = 0; i < sizeof digits - 1; i++)
        da[i] = (unsigned char)digits[i];
    size_t sn = utf8_cps("\\!@#$%&/()=?\xc2\xbf", sa, SB_COUNTOF(sa));
    int seq_let = count_seqs(lp, n, la, sizeof letters - 1);
    int seq_num = count_seqs(lp, n, da, sizeof digits - 1);
    int seq_sym = count_seqs(lp, n, sa, sn);

    /* Repeats: for each distinct (lower-cased) character seen more than
     * once, add its number of occurrences. */
    int repeated = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0, cnt = 0;
        for (size_t j = 0; j < i; j++)
            if (lp[j] == lp[i])
                seen = 1;
        if (seen)
            continue;
        for (size_t j = 0; j < n; j++)
            cnt += lp[j] == lp[i];
        if (cnt > 1)
            repeated += cnt;
    }

    double s = (double)n * 4;
    if (upper)
        s += ((double)n - upper) * 2;
    if (lower)
        s += ((double)n - lower) * 2;
    if (upper || lower)
        s += numbers * 4;
    s += symbols * 6;
    s += (mid_sym + mid_num) * 2;
    s += req * 2;
    s -= consec_low * 2 + consec_up * 2 + consec_num * 2;
    s -= seq_num * 3 + seq_let * 3 + seq_sym * 3;
    if (only_num)
        s -= (double)n;
    if (only_let)
        s -= (double)n;
    if (repeated)
        s -= ((double)repeated / (double)n) * 10;
    /* Math.round: halves go up. */
    long r = (long)(s + 0.5);
    if (s + 0.5 < 0 && (double)r != s + 0.5)
        r--;
    if (r < 0)
        r = 0;
    if (r > 100)
        r = 100;
    return (int)r;
}

int sb__api_password_ok(const char *password)
{
    return sb__api_password_strength(password) >= SB__API_STRONG_PASSWORD;
}
