/*
 * params.c: the standard voice-request parameters (restcomm.md 3.1, 1.5)
 * and the small ordered name/value list that carries them.
 *
 * Entry points: sb_rcml_voice_params, sb_rcml_uri_user, sb_rcml_params_*.
 * The order of the parameters is Restcomm's (VoiceInterpreter#parameters);
 * encoding them as a query string or a form body is the HTTP client's job.
 */
#include "rcml.h"

#include <string.h>
#include <strings.h>

#include "util.h"

void sb_rcml_params_init(sb_rcml_params_t *p)
{
    p->items = NULL;
    p->count = 0;
    p->cap = 0;
}

void sb_rcml_params_free(sb_rcml_params_t *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    free(p->items);
    sb_rcml_params_init(p);
}

void sb_rcml_params_add(sb_rcml_params_t *p, const char *name,
                        const char *value)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->items = sb_xrealloc(p->items, p->cap * sizeof *p->items);
    }
    p->items[p->count].name = sb_xstrdup(name);
    p->items[p->count].value = sb_xstrdup(value ? value : "");
    p->count++;
}

const char *sb_rcml_params_get(const sb_rcml_params_t *p, const char *name)
{
    for (size_t i = 0; i < p->count; i++) {
        if (strcmp(p->items[i].name, name) == 0)
            return p->items[i].value;
    }
    return NULL;
}

int sb_rcml_uri_user(const char *value, char *out, size_t outlen)
{
    static const char *const schemes[] = {"sips:", "sip:", "tel:"};
    if (outlen == 0)
        return SB_EINVAL;
    out[0] = '\0';
    if (value == NULL)
        return SB_ENOENT;
    const char *start = NULL;
    for (size_t i = 0; i < SB_COUNTOF(schemes) && start == NULL; i++) {
        size_t n = strlen(schemes[i]);
        for (const char *s = value; *s; s++) {
            if (strncasecmp(s, schemes[i], n) == 0) {
                start = s + n;
                break;
            }
        }
    }
    if (start == NULL)
        return SB_ENOENT;
    size_t n = strcspn(start, "@;>?, \t");
    if (n == 0)
        return SB_ENOENT;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, start, n);
    out[n] = '\0';
    return 0;
}

static void add_opt(sb_rcml_params_t *p, const char *name, const char *v)
{
    if (v != NULL)
        sb_rcml_params_add(p, name, v);
}

void sb_rcml_voice_params(const sb_rcml_call_info_t *ci, sb_rcml_params_t *out)
{
    const char *diversion = NULL;
    for (size_t i = 0; i < ci->header_count; i++) {
        if (ci->headers[i].name &&
            strcasecmp(ci->headers[i].name, "Diversion") == 0) {
            diversion = ci->headers[i].value;
            break;
        }
    }
    char fwd[128];
    const char *forwarded = ci->forwarded_from;
    if (forwarded == NULL && sb_rcml_uri_user(diversion, fwd, sizeof fwd) == 0)
        forwarded = fwd;

    sb_rcml_params_add(out, "CallSid", ci->call_sid);
    sb_rcml_params_add(out, "InstanceId", ci->instance_id);
    add_opt(out, "OutboundCallSid", ci->outbound_call_sid);
    sb_rcml_params_add(out, "AccountSid", ci->account_sid);
    sb_rcml_params_add(out, "From", ci->from);
    sb_rcml_params_add(out, "To", ci->to);
    sb_rcml_params_add(out, "CallStatus", ci->call_status);
    sb_rcml_params_add(out, "ApiVersion", SB_RCML_API_VERSION);
    sb_rcml_params_add(out, "Direction", ci->direction);
    sb_rcml_params_add(out, "CallerName",
                       ci->caller_name && ci->caller_name[0]
                           ? ci->caller_name : "null");
    sb_rcml_params_add(out, "ForwardedFrom",
                       forwarded && forwarded[0] ? forwarded : "null");
    sb_rcml_params_add(out, "CallTimestamp", ci->call_timestamp);
    add_opt(out, "ReferTarget", ci->refer_target);
    add_opt(out, "Transferor", ci->transferor);
    add_opt(out, "Transferee", ci->transferee);

    for (size_t i = 0; i < ci->header_count; i++) {
        const char *name = ci->headers[i].name;
        if (name == NULL || strncasecmp(name, "X-", 2) != 0)
            continue;
        char *key = sb_xasprintf("SipHeader_%s", name);
        sb_rcml_params_add(out, key, ci->headers[i].value);
        free(key);
    }
    if (diversion)
        sb_rcml_params_add(out, "SipHeader_Diversion", diversion);
}
