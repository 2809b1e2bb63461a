/*
 * roles.c: Restcomm's permission model, enforced in one place for every
 * route of both dialects (sb__api_authorized calls sb__api_role_check
 * before any handler runs).
 *
 * A permission is Restcomm's Domain:Action pair (RestComm:Create:Calls).
 * The domain comes from the route's pattern (the resource under
 * Accounts/{AC}/, with a few aliases: SMS and Messages are SmsMessages,
 * Participants are Calls, Version is Usage); the action from the method
 * (GET reads, DELETE deletes, POST/PUT on a collection creates and on an
 * item modifies). An Administrator may do everything; Developer and
 * Unprivileged have the table below (Restcomm's shipped restcomm.xml,
 * with one difference: a Developer may also send SMS); Guest and any
 * role we do not know have nothing. As in Restcomm (SECURED_ACCOUNT),
 * only an Administrator operates on an account other than its own
 * through Accounts/{AC}; every other resource of a descendant stays open
 * to its ancestors, whatever their role.
 *
 * Also here: role names, their order (Guest < Unprivileged < Developer <
 * Administrator) for the escalation checks of accounts.c.
 */
#include "api_int.h"

#include <string.h>
#include <strings.h>

#define P_CREATE 0x1
#define P_READ   0x2
#define P_MODIFY 0x4
#define P_DELETE 0x8
#define P_ALL    0xf

static const char *const role_names[] = {
    [SB__API_ROLE_GUEST] = "Guest",
    [SB__API_ROLE_UNPRIVILEGED] = "Unprivileged",
    [SB__API_ROLE_DEVELOPER] = "Developer",
    [SB__API_ROLE_ADMINISTRATOR] = "Administrator",
};

/* What Developer and Unprivileged may do per domain. A domain missing
 * here is open to Administrators only. */
static const struct {
    const char *domain;
    unsigned developer, unprivileged;
} perms[] = {
    {"Accounts", P_ALL, P_READ},
    {"Applications", P_ALL, 0},
    {"AvailablePhoneNumbers", P_READ, 0},
    {"Calls", P_ALL, 0},
    {"Clients", P_ALL, 0},
    {"Conferences", P_ALL, 0},
    {"EmailMessages", P_ALL, 0},
    {"IncomingPhoneNumbers", P_ALL, 0},
    {"Notifications", P_READ, 0},
    {"OutgoingCallerIds", P_ALL, 0},
    {"Plugins", P_ALL, 0},
    {"Recordings", P_READ | P_DELETE, 0},
    /* Restcomm's table grants Read only; a Developer places calls and
     * sends e-mail, so we let it send SMS too. */
    {"SmsMessages", P_READ | P_CREATE, 0},
    {"Transcriptions", P_READ, 0},
    {"Usage", P_ALL, 0},
};

/* Route patterns (after "Accounts/{AC}/") whose domain is not their
 * first segment. NULL domain: not role-checked (the handler decides). */
static const struct {
    const char *prefix, *domain;
} aliases[] = {
    {"Calls/{SUB}/Recordings", "Recordings"},
    {"Calls/{SUB}/Notifications", "Notifications"},
    {"Conferences/{SID}/Participants", "Calls"},
    {"SMS", "SmsMessages"},
    {"Messages", "SmsMessages"},
    {"Email", "EmailMessages"},
    {"Version", "Usage"},
    /* Restcomm: the super admin, i.e. a top-level account (calls.c). */
    {"Supervisor", NULL},
};

int sb__api_role_parse(const char *s)
{
    if (s == NULL)
        return -1;
    for (int i = 0; i < (int)SB_COUNTOF(role_names); i++)
        if (strcasecmp(s, role_names[i]) == 0)
            return i;
    return -1;
}

const char *sb__api_role_name(int role)
{
    if (role < 0 || role >= (int)SB_COUNTOF(role_names))
        return "Guest";
    return role_names[role];
}

int sb__api_role_of(const sb_account_t *a)
{
    int r = sb__api_role_parse(a->role);
    return r < 0 ? SB__API_ROLE_GUEST : r;
}

/* The domain of a route pattern into out (cap bytes); returns 0, or 1
 * when the route is not role-checked. */
static int route_domain(const char *pattern, char *out, size_t cap)
{
    static const char acc[] = "Accounts/{AC}/";
    if (strncmp(pattern, acc, sizeof acc - 1) != 0) {
        /* "Accounts", "Accounts/{AC}", or a route outside any account. */
        snprintf(out, cap, "%.*s", (int)strcspn(pattern, "/"), pattern);
        return 0;
    }
    const char *rest = pattern + sizeof acc - 1;
    for (size_t i = 0; i < SB_COUNTOF(aliases); i++) {
        size_t n = strlen(aliases[i].prefix);
        if (strncmp(rest, aliases[i].prefix, n) == 0 &&
            (rest[n] == '\0' || rest[n] == '/')) {
            if (aliases[i].domain == NULL)
                return 1;
            snprintf(out, cap, "%s", aliases[i].domain);
            return 0;
        }
    }
    snprintf(out, cap, "%.*s", (int)strcspn(rest, "/"), rest);
    return 0;
}

/* The action of method on a route: POST/PUT/PATCH on an item (the last
 * segment a capture or "*") modify, on a collection create. */
static unsigned route_action(const char *pattern, const char *method,
                             const char **name)
{
    if (strcmp(method, "GET") == 0) {
        *name = "Read";
        return P_READ;
    }
    if (strcmp(method, "DELETE") == 0) {
        *name = "Delete";
        return P_DELETE;
    }
    const char *last = strrchr(pattern, '/');
    last = last ? last + 1 : pattern;
    if (last[0] == '{' || strcmp(last, "*") == 0) {
        *name = "Modify";
        return P_MODIFY;
    }
    *name = "Create";
    return P_CREATE;
}

/* 1 when the {AC} of the request names the caller itself. */
static int names_self(const sb__api_ctx_t *ctx)
{
    const char *k = ctx->ac_key;
    return k && (strcmp(k, ctx->me.sid) == 0 ||
                 (ctx->me.email && strcasecmp(k, ctx->me.email) == 0));
}

int sb__api_role_check(sb__api_ctx_t *ctx)
{
    const sb__api_route_t *r = ctx->route;
    int role = sb__api_role_of(&ctx->me);
    if (role == SB__API_ROLE_ADMINISTRATOR)
        return 0;
    /* An uninitialized account setting its password (the one thing it
     * may do, checked before) is not a Modify:Accounts of its role. */
    if (ctx->me.status && strcmp(ctx->me.status, "uninitialized") == 0)
        return 0;
    char domain[48];
    if (route_domain(r->pattern, domain, sizeof domain))
        return 0;
    const char *act_name;
    unsigned act = route_action(r->pattern, ctx->method, &act_name);
    unsigned granted = 0;
    for (size_t i = 0; i < SB_COUNTOF(perms); i++) {
        if (strcmp(perms[i].domain, domain) != 0)
            continue;
        granted = role == SB__API_ROLE_DEVELOPER      ? perms[i].developer
                  : role == SB__API_ROLE_UNPRIVILEGED ? perms[i].unprivileged
                                                      : 0;
        break;
    }
    const char *rname = ctx->me.role && *ctx->me.role ? ctx->me.role : "(none)";
    if (!(granted & act)) {
        sb__api_error(ctx, 403, "Insufficient permissions: the %s role lacks "
                                "RestComm:%s:%s", rname, act_name, domain);
        return 1;
    }
    /* Accounts/{AC}: only an Administrator acts on another account. */
    if (strcmp(r->pattern, "Accounts/{AC}") == 0 && !names_self(ctx)) {
        sb__api_error(ctx, 403, "Insufficient permissions: only an Administrator "
                                "operates on another account");
        return 1;
    }
    return 0;
}
