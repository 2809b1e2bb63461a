/*
 * registrar.c: REGISTER for the configured SIP domain (RFC 3261 section
 * 10.3), the location service behind Dial Client, and binding expiry.
 *
 * A REGISTER is handled to the end inside the nua callback: the request
 * URI must name our domain, then Digest authentication (digest.c) against
 * the client's stored HA1, then the To URI must be the authenticated
 * login's address of record, then the contacts are applied to the login's
 * bindings (Call-ID/CSeq ordering, expires bounds, '*' removal, the
 * per-login maximum) and the whole new set is written in one transaction.
 * The database is the only copy of the bindings, so they survive a restart
 * and a second node could share them; one uv timer, armed for the soonest
 * expiry, deletes expired rows and logs them.
 *
 * Answers that reveal nothing about a login: an unknown login and a wrong
 * password both get 403 after the same hashing work; a disabled client or
 * an inactive account also gets 403, but only after a correct password.
 * No Digest credentials for our realm: 401 (fresh challenges). Credentials
 * we cannot use as sent (unparsable header, missing or repeated parameter,
 * bad nc or response format, a qop or algorithm we never offered, a uri
 * other than the Request-URI): 400 with a Warning naming the problem. The
 * nonce is checked before the password: one we never issued (invented,
 * garbled, from before a restart) gets 401 stale=true with fresh nonces
 * whatever the password (a phone retries without asking its user, as
 * after a restart), so a guesser must fetch every nonce and no answer to
 * an invented one tells whether the password was right. A right password
 * on a nonce of ours that is not fresh (expired, replayed nc, evicted
 * from the nc memory): 401 with stale=true.
 *
 * Guessing is limited (digest.c's sb_authlim_t): after
 * SB_AUTHLIM_ADDR_FAILURES failures an address, and after
 * SB_AUTHLIM_LOGIN_FAILURES a login (for addresses that have failed
 * before), is refused with 403 "Too Many Failed Attempts" and Retry-After
 * without any check, for a back-off that doubles with each further
 * failure; each back-off is logged as a warning.
 * The same checks authenticate INVITEs (sb__sip_reg_invite_auth, as a
 * proxy would: 407 and Proxy-Authorization) from sources that are not
 * trusted peers: an INVITE whose From names a Client, or that carries
 * credentials for our realm, must prove it; any other is anonymous and
 * its call may reach only this server's numbers and Clients (call/).
 * Not here: RFC 5626 outbound flows and Path (bindings are reached at the
 * REGISTER's source address), GRUU, TCP connection reuse bookkeeping.
 */
#include "sip_int.h"
#include "sip_store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tagarg.h>
#include <sofia-sip/url.h>

#define MAX_CONTACT_URI 512       /* longest contact URI we store */
#define MAX_INSTANCE 256          /* longest +sip.instance we store */
#define DEFAULT_EXPIRES 3600      /* when the REGISTER names none */

struct sb__sip_reg_s {
    sb_sip_t *sip;
    sb_store_t *store;          /* borrowed; NULL until started */
    sb_digest_t *digest;
    sb_authlim_t *authlim;      /* failed-authentication back-offs */
    uv_timer_t timer;           /* soonest binding expiry */
};

/* The source of the request being handled: where to reach the client. */
typedef struct {
    char ip[INET6_ADDRSTRLEN];
    int port;
    const char *transport;      /* "udp" / "tcp" */
} source_t;

static int64_t now_s(void) { return (int64_t)time(NULL); }
static int64_t mono_ms(void) { return (int64_t)(uv_hrtime() / 1000000); }

/* Copies s into buf for a log line: non-printable bytes become '?', and
 * long values are cut, so network input cannot forge log lines. */
static const char *log_safe(const char *s, char *buf, size_t n)
{
    size_t o = 0;
    if (s == NULL)
        s = "";
    for (; *s && o + 4 < n; s++)
        buf[o++] = (unsigned char)*s >= ' ' && (unsigned char)*s < 0x7f ? *s : '?';
    if (*s)
        buf[o++] = '.', buf[o++] = '.', buf[o++] = '.';
    buf[o] = '\0';
    return buf;
}

static void reply(nua_t *nua, nua_handle_t *nh, int status, char const *phrase,
                  tag_type_t tag, tag_value_t value, ...)
{
    ta_list ta;
    ta_start(ta, tag, value);
    nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua), ta_tags(ta));
    ta_end(ta);
}

static void source_of(nua_t *nua, source_t *src)
{
    snprintf(src->ip, sizeof src->ip, "0.0.0.0");
    src->port = 0;
    src->transport = "udp";
    msg_t *m = nua_current_request(nua);
    su_addrinfo_t *ai = m ? msg_addrinfo(m) : NULL;
    if (ai == NULL || ai->ai_addr == NULL)
        return;
    if (ai->ai_protocol == IPPROTO_TCP)
        src->transport = "tcp";
    if (ai->ai_addr->sa_family == AF_INET6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ai->ai_addr;
        inet_ntop(AF_INET6, &a->sin6_addr, src->ip, sizeof src->ip);
        src->port = ntohs(a->sin6_port);
    } else if (ai->ai_addr->sa_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)ai->ai_addr;
        inet_ntop(AF_INET, &a->sin_addr, src->ip, sizeof src->ip);
        src->port = ntohs(a->sin_port);
    }
}

/* The domain, or any address we listen on (any IP literal when we listen
 * on a wildcard address). IPv6 hosts come bracketed in URIs. */
static int host_is_ours(const sb_config_t *cfg, const char *host)
{
    if (host == NULL || *host == '\0')
        return 0;
    char h[128];
    size_t n = strlen(host);
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        host++;
        n -= 2;
    }
    if (n >= sizeof h)
        return 0;
    memcpy(h, host, n);
    h[n] = '\0';
    if (cfg->sip_domain && strcasecmp(h, cfg->sip_domain) == 0)
        return 1;
    unsigned char tmp[16];
    int is_ip = inet_pton(AF_INET, h, tmp) == 1 || inet_pton(AF_INET6, h, tmp) == 1;
    for (int i = 0; i < cfg->sip_listen_count; i++) {
        const char *l = cfg->sip_listen[i].host;
        if (strcasecmp(h, l) == 0)
            return 1;
        if (is_ip && (strcmp(l, "0.0.0.0") == 0 || strcmp(l, "::") == 0))
            return 1;
    }
    return 0;
}

/* ---- expiry -------------------------------------------------------------- */

int sb__sip_reg_expires(const char *param, int have_header,
                        unsigned long header_delta, int min_expires,
                        int max_expires, int64_t *out)
{
    uint64_t v;
    if (param != NULL) {
        /* delta-seconds: digits only; huge values saturate, not wrap. */
        if (!isdigit((unsigned char)*param))
            return SB_ESYNTAX;
        v = 0;
        for (const char *p = param; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return SB_ESYNTAX;
            if (v < UINT32_MAX)
                v = v * 10 + (uint64_t)(*p - '0');
        }
    } else if (have_header) {
        v = header_delta;
    } else {
        v = DEFAULT_EXPIRES < max_expires ? DEFAULT_EXPIRES : (uint64_t)max_expires;
    }
    if (v == 0) {
        *out = 0;
        return 0;
    }
    if (v < (uint64_t)min_expires)
        return SB_ELIMIT;
    *out = v > (uint64_t)max_expires ? max_expires : (int64_t)v;
    return 0;
}

static void on_expired(const sb_registration_t *r, void *arg)
{
    char l[64], c[128];
    sb_info("sip: registration of %s at %s expired", log_safe(r->login, l, sizeof l),
            log_safe(r->contact, c, sizeof c));
}

static void on_timer(uv_timer_t *t);

/* Arms the timer for the soonest expiry (or stops it when none is left). */
static void rearm(sb__sip_reg_t *reg)
{
    int64_t at;
    if (reg->store == NULL ||
        sb_store_registrations_next_expiry(reg->store, &at) != 0) {
        uv_timer_stop(&reg->timer);
        return;
    }
    int64_t delta = at - now_s();
    if (delta < 0)
        delta = 0;
    if (delta > 3600)
        delta = 3600;       /* re-checked hourly: tolerates clock changes */
    /* Half a second late: a binding expires once now >= expires_at, and
     * time() has whole seconds. */
    uv_timer_start(&reg->timer, on_timer, (uint64_t)delta * 1000 + 500, 0);
}

static void on_timer(uv_timer_t *t)
{
    sb__sip_reg_t *reg = t->data;
    if (reg->store == NULL)
        return;
    sb_store_registrations_expire(reg->store, now_s(), on_expired, reg);
    rearm(reg);
}

/* ---- lifecycle ----------------------------------------------------------- */

sb__sip_reg_t *sb__sip_reg_new(sb_sip_t *sip)
{
    sb__sip_reg_t *reg = SB_NEW(sb__sip_reg_t);
    reg->sip = sip;
    reg->digest = sb__digest_new(SB_DIGEST_LIFETIME, SB_DIGEST_NC_SLOTS);
    reg->authlim = sb__authlim_new();
    uv_timer_init(sb_loop_uv(sip->loop), &reg->timer);
    reg->timer.data = reg;
    return reg;
}

static void on_reg_closed(uv_handle_t *h)
{
    sb__sip_reg_t *reg = h->data;
    sb__digest_free(reg->digest);
    sb__authlim_free(reg->authlim);
    free(reg);
}

void sb__sip_reg_close(sb__sip_reg_t *reg)
{
    if (reg == NULL)
        return;
    reg->store = NULL;
    uv_close((uv_handle_t *)&reg->timer, on_reg_closed);
}

int sb_sip_registrar_start(sb_sip_t *sip, struct sb_store_s *store)
{
    sb__sip_reg_t *reg = sip->reg;
    if (reg == NULL || store == NULL)
        return SB_EINVAL;
    reg->store = store;
    int64_t now = now_s();
    int n = sb_store_registrations_expire(store, now, on_expired, reg);
    if (n < 0)
        return n;
    int64_t users = 0, contacts = 0;
    int rc = sb_store_registrations_count(store, now, &users, &contacts);
    if (rc != 0)
        return rc;
    sb_info("sip: registrar for domain %s: %lld contact(s) of %lld user(s) restored",
            sip->cfg->sip_domain, (long long)contacts, (long long)users);
    rearm(reg);
    return 0;
}

/* ---- authentication ------------------------------------------------------ */

/* COMPAT: libre before 2.0 (baresip v0.x and v1.x, Debian 12's baresip)
 * abandons the registration when any challenge names an algorithm it does
 * not know, where RFC 7616 section 3.7 says to skip such a challenge. Those
 * clients are challenged with MD5 alone. */
static int md5_only_client(sip_t const *m)
{
    const char *ua = m->sip_user_agent ? m->sip_user_agent->g_string : NULL;
    return ua && (strncmp(ua, "baresip v0.", 11) == 0 ||
                  strncmp(ua, "baresip v1.", 11) == 0);
}

/* What differs between authenticating a REGISTER (as a registrar: 401,
 * WWW-Authenticate, Authorization) and an INVITE (as the proxy in front
 * of our applications: 407, Proxy-Authenticate, Proxy-Authorization). */
typedef struct {
    const char *method;         /* for log lines */
    int proxy;                  /* 1: the 407 set of headers */
} flavor_t;

static const flavor_t register_flavor = {"REGISTER", 0};
static const flavor_t invite_flavor = {"INVITE", 1};

/* Answers 401 with one challenge per algorithm, in our order of
 * preference: MD5 first, because sipp and many deployed phones answer only
 * the first challenge, then SHA-256 (RFC 8760) for the clients that pick
 * the strongest algorithm they support. Credentials of either algorithm
 * are verified whichever challenge they answer. */
static void challenge(sb__sip_reg_t *reg, nua_t *nua, nua_handle_t *nh,
                      sip_t const *m, int stale, const flavor_t *f)
{
    const char *realm = reg->sip->cfg->sip_domain;
    int64_t now = now_s();
    char *md5 = sb__digest_challenge(reg->digest, realm, SB_DIGEST_MD5, stale, now);
    char *sha = md5_only_client(m) ? NULL
                                   : sb__digest_challenge(reg->digest, realm,
                                                          SB_DIGEST_SHA256, stale, now);
    if (f->proxy)
        reply(nua, nh, SIP_407_PROXY_AUTH_REQUIRED, SIPTAG_PROXY_AUTHENTICATE_STR(md5),
              TAG_IF(sha, SIPTAG_PROXY_AUTHENTICATE_STR(sha)), TAG_END());
    else
        reply(nua, nh, SIP_401_UNAUTHORIZED, SIPTAG_WWW_AUTHENTICATE_STR(md5),
              TAG_IF(sha, SIPTAG_WWW_AUTHENTICATE_STR(sha)), TAG_END());
    free(md5);
    free(sha);
}

static void bad_request(nua_t *nua, nua_handle_t *nh, const char *phrase,
                        const char *why)
{
    char warning[256];
    snprintf(warning, sizeof warning, "399 switchboard \"%s\"", why);
    reply(nua, nh, 400, phrase, SIPTAG_WARNING_STR(warning), TAG_END());
}

/* The credentials of m as f reads them. */
static msg_auth_t const *credentials_of(sip_t const *m, const flavor_t *f)
{
    return f->proxy ? m->sip_proxy_authorization : m->sip_authorization;
}

/* Authenticates the request (a REGISTER or an INVITE, as f says). Returns
 * 0 with *client filled (owned), or 1 when a response has been sent. */
static int authenticate(sb__sip_reg_t *reg, nua_t *nua, nua_handle_t *nh,
                        sip_t const *m, const source_t *src, sb_client_auth_t *client,
                        const flavor_t *f)
{
    const char *auth_header = f->proxy ? "Proxy-Authorization" : "Authorization";
    const sb_config_t *cfg = reg->sip->cfg;
    char l1[64];
    memset(client, 0, sizeof *client);

    /* sofia keeps a header it could not parse in sip_error, as an error
     * header naming it, and also repeats of a single-valued header (a
     * second Max-Forwards) as headers of their own class, whose fields
     * are not an error's: read each node's name through its class. */
    for (msg_header_t const *h = (msg_header_t const *)m->sip_error; h;
         h = h->sh_next) {
        msg_hclass_t const *hc = h->sh_class;
        const char *name = hc == sip_error_class || hc == msg_error_class
                               ? h->sh_error->er_name
                               : hc->hc_name;
        if (name && strcasecmp(name, auth_header) == 0) {
            bad_request(nua, nh, "Malformed Authorization Header",
                        "unparsable Authorization header");
            return 1;
        }
    }

    sb_digest_creds_t cr;
    int found = 0;
    for (msg_auth_t const *au = credentials_of(m, f); au; au = au->au_next) {
        if (au->au_scheme == NULL || strcasecmp(au->au_scheme, "Digest") != 0)
            continue;
        int rc = sb__digest_parse(au->au_params, &cr);
        int ours = cr.realm == NULL || strcmp(cr.realm, cfg->sip_domain) == 0;
        if (rc != 0 && ours) {
            sb_info("sip: %s from %s:%d: malformed %s: %s", f->method, src->ip,
                    src->port, auth_header, cr.error);
            bad_request(nua, nh, "Malformed Authorization Header", cr.error);
            sb__digest_creds_clear(&cr);
            return 1;
        }
        if (rc == 0 && ours) {
            found = 1;
            break;
        }
        sb__digest_creds_clear(&cr);    /* credentials for another realm */
    }
    if (!found) {
        challenge(reg, nua, nh, m, 0, f);
        return 1;
    }

    /* The digest covers the uri parameter; it must be this request's. */
    su_home_t home[1] = {SU_HOME_INIT(home)};
    url_t *du = url_make(home, cr.uri);
    int uri_ok = du != NULL && url_cmp_all(du, m->sip_request->rq_url) == 0;
    su_home_deinit(home);
    if (!uri_ok) {
        bad_request(nua, nh, "Malformed Authorization Header",
                    "digest uri differs from the Request-URI");
        sb__digest_creds_clear(&cr);
        return 1;
    }

    /* The nonce before the password (see the top of the file). */
    int64_t now = now_s();
    sb_nonce_verdict_t v = sb__digest_nonce_check(reg->digest, cr.nonce, now);
    if (v == SB_NONCE_INVALID) {
        sb_debug("sip: %s for %s from %s:%d: a nonce we never issued, "
                 "challenging", f->method, log_safe(cr.username, l1, sizeof l1),
                 src->ip, src->port);
        challenge(reg, nua, nh, m, 1, f);
        sb__digest_creds_clear(&cr);
        return 1;
    }

    int rc = sb_store_client_auth_get(reg->store, cr.username, client);
    if (rc != 0 && rc != SB_ENOENT) {
        reply(nua, nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        sb__digest_creds_clear(&cr);
        return 1;
    }
    const char *ha1 = NULL;
    char dummy[65];
    if (rc == 0)
        ha1 = cr.alg == SB_DIGEST_SHA256 ? client->ha1_sha256 : client->ha1_md5;
    int known = rc == 0 && ha1 != NULL && *ha1 != '\0' &&
                strcmp(client->login, cr.username) == 0;
    /* A login that exists is limited by its own name, an unknown one only
     * through the address. */
    const char *login = rc == 0 ? client->login : NULL;
    int64_t wait = sb__authlim_check(reg->authlim, src->ip, login, mono_ms());
    if (wait > 0) {
        char after[24];
        snprintf(after, sizeof after, "%lld", (long long)((wait + 999) / 1000));
        sb_debug("sip: %s for %s from %s:%d refused unchecked: back-off "
                 "(%s s left)", f->method, log_safe(cr.username, l1, sizeof l1),
                 src->ip, src->port, after);
        reply(nua, nh, 403, "Too Many Failed Attempts",
              SIPTAG_RETRY_AFTER_STR(after), TAG_END());
        sb_client_auth_clear(client);
        sb__digest_creds_clear(&cr);
        return 1;
    }
    if (!known) {
        /* Same work as a real check, so timing does not tell logins apart. */
        sb__digest_dummy_ha1(reg->digest, cr.alg, dummy);
        ha1 = dummy;
    }
    char want[65];
    sb__digest_response(cr.alg, ha1, m->sip_request->rq_method_name, cr.uri,
                        cr.nonce, cr.nc_text, cr.cnonce, cr.qop, want);
    int match = sb_ct_streq(want, cr.response);
    if (!known || !match) {
        const char *why = "wrong password";
        if (rc == SB_ENOENT || (rc == 0 && strcmp(client->login, cr.username) != 0))
            why = "unknown login";      /* or a login in another case */
        else if (!known)
            why = "no HA1 stored for the algorithm";
        sb_info("sip: %s for %s from %s:%d refused: %s", f->method,
                log_safe(cr.username, l1, sizeof l1), src->ip, src->port, why);
        int64_t ab, lb;
        sb__authlim_fail(reg->authlim, src->ip, login, mono_ms(), &ab, &lb);
        if (ab > 0)
            sb_warn("sip: %s: %s: %d failed authentications; refused "
                    "for %lld s", f->method, src->ip,
                    sb__authlim_failures(reg->authlim, src->ip, 0),
                    (long long)(ab / 1000));
        if (lb > 0)
            sb_warn("sip: %s: login %s: %d failed authentications; "
                    "refused for %lld s from addresses that failed", f->method,
                    log_safe(login, l1, sizeof l1),
                    sb__authlim_failures(reg->authlim, login, 1),
                    (long long)(lb / 1000));
        reply(nua, nh, SIP_403_FORBIDDEN, TAG_END());
        sb_client_auth_clear(client);
        sb__digest_creds_clear(&cr);
        return 1;
    }

    /* The password is right, on a nonce of ours: fresh, not replayed? */
    if (v == SB_NONCE_OK)
        v = sb__digest_nc_use(reg->digest, cr.nonce, cr.nc, now);
    if (v != SB_NONCE_OK) {
        sb_debug("sip: %s for %s: %s nonce, challenging again", f->method, client->login,
                 v == SB_NONCE_REPLAY ? "replayed" : v == SB_NONCE_STALE ? "stale"
                                                                           : "unknown");
        challenge(reg, nua, nh, m, 1, f);
        sb_client_auth_clear(client);
        sb__digest_creds_clear(&cr);
        return 1;
    }
    sb__digest_creds_clear(&cr);
    if (!client->enabled || !client->account_active) {
        sb_info("sip: %s for %s from %s:%d refused: %s", f->method, client->login,
                src->ip, src->port,
                !client->enabled ? "client disabled" : "account not active");
        reply(nua, nh, SIP_403_FORBIDDEN, TAG_END());
        sb_client_auth_clear(client);
        return 1;
    }
    return 0;
}

/* ---- bindings ------------------------------------------------------------ */

typedef struct {
    sb_registration_t r;
    url_t const *url;           /* parsed contact (request or home) */
    int touched;                /* added or refreshed by this request */
    int is_new;
} binding_t;

/* Returns the unquoted value of a contact parameter (owned), or NULL. */
static char *contact_param(sip_contact_t const *c, const char *name)
{
    const char *v = msg_params_find(c->m_params, name);
    if (v == NULL)
        return NULL;
    size_t n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
        return sb_xstrndup(v + 1, n - 2);
    return sb_xstrdup(v);
}

static int same_binding(const binding_t *b, url_t const *url, const char *instance,
                        int reg_id)
{
    if (instance && b->r.instance)
        return strcmp(instance, b->r.instance) == 0 && reg_id == b->r.reg_id;
    return b->url != NULL && url_cmp_all(b->url, url) == 0;
}

/* Appends ";expires=N" forms of the live bindings to out. */
static void contacts_header(const binding_t *b, size_t n, int64_t now, sb_buf_t *out)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i].r.expires_at <= now)
            continue;
        if (out->len)
            sb_buf_puts(out, ", ");
        sb_buf_printf(out, "<%s>;expires=%lld", b[i].r.contact,
                      (long long)(b[i].r.expires_at - now));
        if (b[i].r.instance)
            sb_buf_printf(out, ";+sip.instance=\"%s\"", b[i].r.instance);
        if (b[i].r.reg_id)
            sb_buf_printf(out, ";reg-id=%d", b[i].r.reg_id);
    }
}

/* Returns an owned copy of at most max bytes of s (sb_xstrndup copies
 * exactly n bytes, so it cannot cut a string that may be shorter). */
static char *dup_max(const char *s, size_t max)
{
    return sb_xstrndup(s, strnlen(s, max));
}

static void bindings_free(binding_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_registration_clear(&b[i].r);
    free(b);
}

/* A value that goes into the database and into our responses: printable
 * ASCII without quotes or backslashes. */
static int clean_text(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || (unsigned char)*s >= 0x7f || *s == '"' ||
            *s == '\\')
            return 0;
    return 1;
}

/* Applies the contacts of m to login's bindings and answers. */
static void update_bindings(sb__sip_reg_t *reg, nua_t *nua, nua_handle_t *nh,
                            sip_t const *m, const source_t *src,
                            const sb_client_auth_t *client)
{
    const sb_config_t *cfg = reg->sip->cfg;
    const char *login = client->login;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    binding_t *b = NULL;
    size_t nb = 0;
    int64_t now = now_s();
    char l1[128], l2[64];

    /* Expires header: delta-seconds or (obsolete) an absolute date. */
    int have_header = m->sip_expires != NULL;
    unsigned long header_delta = 0;
    if (have_header) {
        header_delta = m->sip_expires->ex_delta;
        if (m->sip_expires->ex_date) {
            sip_time_t t = sip_now();
            header_delta = m->sip_expires->ex_date > t ? m->sip_expires->ex_date - t : 0;
        }
    }

    /* Validate every contact before touching anything. */
    size_t ncontacts = 0;
    int star = 0;
    for (sip_contact_t const *c = m->sip_contact; c; c = c->m_next) {
        ncontacts++;
        if (c->m_url->url_type == url_any)
            star = 1;
    }
    if (star && (ncontacts != 1 || !have_header || header_delta != 0)) {
        bad_request(nua, nh, "Invalid Wildcard",
                    "Contact: * needs Expires: 0 and no other contact");
        goto done;
    }
    if (ncontacts > (size_t)cfg->sip_max_contacts) {
        sb_info("sip: REGISTER for %s refused: %zu contacts in one request (max %d)",
                login, ncontacts, cfg->sip_max_contacts);
        reply(nua, nh, 403, "Too Many Contacts", TAG_END());
        goto done;
    }
    for (sip_contact_t const *c = m->sip_contact; c && !star; c = c->m_next) {
        if (c->m_url->url_type != url_sip && c->m_url->url_type != url_sips) {
            bad_request(nua, nh, "Unsupported Contact URI",
                        "contacts must be sip: or sips: URIs");
            goto done;
        }
        int64_t e;
        int rc = sb__sip_reg_expires(c->m_expires, have_header, header_delta,
                                     cfg->sip_min_expires, cfg->sip_max_expires, &e);
        if (rc == SB_ESYNTAX) {
            bad_request(nua, nh, "Invalid Expires", "contact expires is not a number");
            goto done;
        }
        if (rc == SB_ELIMIT) {
            char min[24];
            snprintf(min, sizeof min, "%d", cfg->sip_min_expires);
            reply(nua, nh, SIP_423_INTERVAL_TOO_BRIEF, SIPTAG_MIN_EXPIRES_STR(min),
                  TAG_END());
            goto done;
        }
    }

    /* The current bindings. */
    sb_registration_t *cur = NULL;
    size_t ncur = 0;
    if (sb_store_registrations_get(reg->store, login, now, &cur, &ncur) != 0) {
        reply(nua, nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        goto done;
    }
    size_t cap = ncur + ncontacts;
    b = sb_xcalloc(cap ? cap : 1, sizeof *b);
    for (size_t i = 0; i < ncur; i++) {
        b[i].r = cur[i];
        b[i].url = url_make(home, cur[i].contact);
    }
    free(cur);      /* the strings now belong to b */
    nb = ncur;

    const char *call_id = m->sip_call_id ? m->sip_call_id->i_id : "";
    uint32_t cseq = m->sip_cseq ? m->sip_cseq->cs_seq : 0;
    int changed = 0, added = 0;

    for (sip_contact_t const *c = m->sip_contact; c; c = c->m_next) {
        if (star) {
            for (size_t i = 0; i < nb; i++) {
                if (strcmp(b[i].r.call_id, call_id) == 0 && cseq <= b[i].r.cseq) {
                    reply(nua, nh, 500, "Out of Order CSeq", TAG_END());
                    goto done;
                }
                b[i].r.expires_at = 0;
            }
            changed = 1;
            break;
        }
        int64_t expires = 0;
        sb__sip_reg_expires(c->m_expires, have_header, header_delta,
                            cfg->sip_min_expires, cfg->sip_max_expires, &expires);
        char *uri = url_as_string(home, c->m_url);
        char *instance = contact_param(c, "+sip.instance");
        char *reg_id_s = contact_param(c, "reg-id");
        int reg_id = reg_id_s ? atoi(reg_id_s) : 0;
        free(reg_id_s);
        if (uri == NULL || strlen(uri) > MAX_CONTACT_URI || !clean_text(uri) ||
            (instance && (strlen(instance) > MAX_INSTANCE || !clean_text(instance))) ||
            reg_id < 0) {
            free(instance);
            bad_request(nua, nh, "Invalid Contact", "contact URI or parameters too "
                        "long or with invalid characters");
            goto done;
        }
        binding_t *hit = NULL;
        for (size_t i = 0; i < nb; i++)
            if (b[i].r.expires_at > 0 && same_binding(&b[i], c->m_url, instance, reg_id)) {
                hit = &b[i];
                break;
            }
        if (hit && !hit->touched && strcmp(hit->r.call_id, call_id) == 0 &&
            cseq <= hit->r.cseq) {
            free(instance);
            reply(nua, nh, 500, "Out of Order CSeq", TAG_END());
            goto done;
        }
        if (hit == NULL && expires == 0) {
            free(instance);             /* removing what is not there */
            continue;
        }
        if (hit == NULL) {
            hit = &b[nb++];
            hit->r.login = sb_xstrdup(login);
            hit->r.date_created = now;
            hit->is_new = 1;
            added++;
        }
        changed = 1;
        hit->touched = 1;
        hit->url = c->m_url;
        free(hit->r.contact);
        hit->r.contact = sb_xstrdup(uri);
        free(hit->r.instance);
        hit->r.instance = instance;
        hit->r.reg_id = reg_id;
        hit->r.expires_at = expires ? now + expires : 0;
        snprintf(hit->r.client_sid, sizeof hit->r.client_sid, "%s", client->sid);
        free(hit->r.source_ip);
        hit->r.source_ip = sb_xstrdup(src->ip);
        hit->r.source_port = src->port;
        free(hit->r.transport);
        hit->r.transport = sb_xstrdup(src->transport);
        free(hit->r.user_agent);
        hit->r.user_agent = m->sip_user_agent && m->sip_user_agent->g_string
                                ? dup_max(m->sip_user_agent->g_string, 256)
                                : NULL;
        free(hit->r.call_id);
        hit->r.call_id = dup_max(call_id, 256);
        hit->r.cseq = cseq;
        hit->r.date_updated = now;
    }

    /* Keep the live ones; enforce the per-login maximum. */
    size_t live = 0;
    for (size_t i = 0; i < nb; i++)
        if (b[i].r.expires_at > now)
            live++;
    if (added > 0 && live > (size_t)cfg->sip_max_contacts) {
        sb_info("sip: REGISTER for %s refused: %zu contacts would exceed the "
                "maximum of %d", login, live, cfg->sip_max_contacts);
        reply(nua, nh, 403, "Too Many Contacts", TAG_END());
        goto done;
    }
    if (changed) {
        sb_registration_t *set = sb_xcalloc(live ? live : 1, sizeof *set);
        size_t k = 0;
        for (size_t i = 0; i < nb; i++)
            if (b[i].r.expires_at > now)
                set[k++] = b[i].r;      /* shallow: b keeps ownership */
        int rc = sb_store_registrations_replace(reg->store, login, set, k);
        free(set);
        if (rc != 0) {
            reply(nua, nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
            goto done;
        }
        for (size_t i = 0; i < nb; i++) {
            if (!b[i].touched && !star)
                continue;
            log_safe(b[i].r.contact, l1, sizeof l1);
            if (b[i].r.expires_at <= now)
                sb_info("sip: unregistered %s at %s", login, l1);
            else if (b[i].is_new)
                sb_info("sip: registered %s at %s via %s:%s:%d for %llds (%s)", login,
                        l1, b[i].r.transport, b[i].r.source_ip, b[i].r.source_port,
                        (long long)(b[i].r.expires_at - now),
                        log_safe(b[i].r.user_agent, l2, sizeof l2));
            else
                sb_debug("sip: refreshed %s at %s for %llds", login, l1,
                         (long long)(b[i].r.expires_at - now));
        }
        rearm(reg);
    }

    sb_buf_t contacts = SB_BUF_INIT;
    contacts_header(b, nb, now, &contacts);
    reply(nua, nh, SIP_200_OK,
          TAG_IF(contacts.len, SIPTAG_CONTACT_STR(sb_buf_str(&contacts))),
          SIPTAG_DATE(sip_date_create(home, sip_now())), TAG_END());
    sb_buf_free(&contacts);

done:
    bindings_free(b, nb);
    su_home_deinit(home);
}

void sb__sip_reg_on_register(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                             sip_t const *m)
{
    sb__sip_reg_t *reg = sip->reg;
    source_t src;
    char l1[64];
    source_of(nua, &src);

    if (reg == NULL || reg->store == NULL || sip->shutting_down) {
        reply(nua, nh, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("5"),
              TAG_END());
        goto out;
    }
    if (m == NULL || m->sip_request == NULL || m->sip_to == NULL) {
        reply(nua, nh, SIP_400_BAD_REQUEST, TAG_END());
        goto out;
    }
    url_t const *ruri = m->sip_request->rq_url;
    if ((ruri->url_type != url_sip && ruri->url_type != url_sips) ||
        !host_is_ours(sip->cfg, ruri->url_host)) {
        sb_info("sip: REGISTER from %s:%d for domain %s refused: not ours", src.ip,
                src.port, log_safe(ruri->url_host, l1, sizeof l1));
        reply(nua, nh, 404, "Domain Not Served", TAG_END());
        goto out;
    }

    sb_client_auth_t client;
    if (authenticate(reg, nua, nh, m, &src, &client, &register_flavor) != 0)
        goto out;

    /* The address of record is the authenticated login's. */
    url_t const *to = m->sip_to->a_url;
    if (to->url_user == NULL || strcasecmp(to->url_user, client.login) != 0 ||
        !host_is_ours(sip->cfg, to->url_host)) {
        sb_info("sip: REGISTER by %s for another address of record refused",
                client.login);
        reply(nua, nh, 403, "Not Your Address Of Record", TAG_END());
        sb_client_auth_clear(&client);
        goto out;
    }
    update_bindings(reg, nua, nh, m, &src, &client);
    sb_client_auth_clear(&client);

out:
    nua_handle_destroy(nh);
}

/* ---- INVITE authentication ---------------------------------------------- */

/* 1 when m carries Digest credentials for our realm in f's header. */
static int has_our_credentials(sip_t const *m, const char *realm, const flavor_t *f)
{
    for (msg_auth_t const *au = credentials_of(m, f); au; au = au->au_next) {
        if (au->au_scheme == NULL || strcasecmp(au->au_scheme, "Digest") != 0)
            continue;
        const char *r = msg_params_find(au->au_params, "realm=");
        if (r == NULL)
            return 1;           /* malformed: authenticate() says so */
        size_t n = strlen(r);
        if (n >= 2 && r[0] == '"' && r[n - 1] == '"')
            r++, n -= 2;
        if (n == strlen(realm) && strncmp(r, realm, n) == 0)
            return 1;
    }
    return 0;
}

int sb__sip_reg_invite_auth(sb_sip_t *sip, nua_t *nua, nua_handle_t *nh,
                            sip_t const *m, const char *ip, int port,
                            const char *transport, char **login)
{
    sb__sip_reg_t *reg = sip->reg;
    *login = NULL;
    if (reg == NULL || reg->store == NULL)
        return 0;
    source_t src;
    snprintf(src.ip, sizeof src.ip, "%s", ip);
    src.port = port;
    src.transport = transport;

    if (!has_our_credentials(m, sip->cfg->sip_domain, &invite_flavor)) {
        /* No credentials: a caller claiming a Client's name must prove
         * it; anyone else is an anonymous caller. */
        const char *user = m->sip_from->a_url->url_user;
        sb_client_auth_t c;
        int rc = user && *user ? sb_store_client_auth_get(reg->store, user, &c)
                               : SB_ENOENT;
        if (rc == SB_ENOENT)
            return 0;
        if (rc == 0)
            sb_client_auth_clear(&c);
        else {
            reply(nua, nh, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
            return 1;
        }
        challenge(reg, nua, nh, m, 0, &invite_flavor);
        return 1;
    }
    sb_client_auth_t client;
    if (authenticate(reg, nua, nh, m, &src, &client, &invite_flavor) != 0)
        return 1;
    *login = sb_xstrdup(client.login);
    sb_client_auth_clear(&client);
    return 0;
}

/* ---- location service ---------------------------------------------------- */

void sb_sip_contacts_free(sb_sip_contact_t *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].uri);
        free(c[i].dest);
        free(c[i].source_ip);
        free(c[i].instance);
        free(c[i].user_agent);
    }
    free(c);
}

int sb_sip_location_lookup(sb_sip_t *sip, const char *login, sb_sip_contact_t **out,
                           size_t *n)
{
    *out = NULL;
    *n = 0;
    if (sip->reg == NULL || sip->reg->store == NULL)
        return SB_ESTATE;
    sb_registration_t *r = NULL;
    size_t nr = 0;
    int rc = sb_store_registrations_get(sip->reg->store, login, now_s(), &r, &nr);
    if (rc != 0)
        return rc;
    if (nr == 0)
        return 0;
    sb_sip_contact_t *c = sb_xcalloc(nr, sizeof *c);
    for (size_t i = 0; i < nr; i++) {
        int v6 = strchr(r[i].source_ip, ':') != NULL;
        c[i].uri = r[i].contact, r[i].contact = NULL;
        c[i].dest = sb_xasprintf("sip:%s%s%s:%d;transport=%s", v6 ? "[" : "",
                                 r[i].source_ip, v6 ? "]" : "", r[i].source_port,
                                 r[i].transport);
        c[i].source_ip = r[i].source_ip, r[i].source_ip = NULL;
        c[i].source_port = r[i].source_port;
        snprintf(c[i].transport, sizeof c[i].transport, "%s", r[i].transport);
        c[i].instance = r[i].instance, r[i].instance = NULL;
        c[i].user_agent = r[i].user_agent, r[i].user_agent = NULL;
        c[i].expires_at = r[i].expires_at;
    }
    sb_registrations_free(r, nr);
    *out = c;
    *n = nr;
    return 0;
}

int sb_sip_registered_count(sb_sip_t *sip, int64_t *users, int64_t *contacts)
{
    if (users)
        *users = 0;
    if (contacts)
        *contacts = 0;
    if (sip->reg == NULL || sip->reg->store == NULL)
        return SB_ESTATE;
    return sb_store_registrations_count(sip->reg->store, now_s(), users, contacts);
}
