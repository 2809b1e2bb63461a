/* sid.c: SID generation and validation (see sid.h for the forms). */
#include "sid.h"
#include "crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

void sb_sid_new(const char *prefix, char *out)
{
    unsigned char r[16];
    sb_random_bytes(r, sizeof r);
    out[0] = prefix[0];
    out[1] = prefix[1];
    sb_hex(r, sizeof r, out + 2);
}

void sb_sid_new_call(const char *instance_id, char *out)
{
    char ca[SB_SID_LEN + 1];
    sb_sid_new("CA", ca);
    snprintf(out, SB_SID_SIZE, "%s-%s", instance_id, ca);
}

void sb_sid_account(const char *email, char *out)
{
    char lower[320];
    size_t n = strlen(email);
    if (n >= sizeof lower)
        n = sizeof lower - 1;
    for (size_t i = 0; i < n; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    lower[n] = '\0';
    out[0] = 'A';
    out[1] = 'C';
    sb_md5_hex(lower, n, out + 2);
}

static int alnum_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return 0;
    return 1;
}

int sb_sid_valid(const char *s, const char *prefix)
{
    if (s == NULL)
        return 0;
    size_t n = strlen(s);
    if (n == SB_SID_LEN && alnum_run(s, n))
        return prefix == NULL || (s[0] == prefix[0] && s[1] == prefix[1]);
    if (n == SB_CALL_SID_LEN && s[0] == 'I' && s[1] == 'D' && s[34] == '-' &&
        s[35] == 'C' && s[36] == 'A' && alnum_run(s, 34) && alnum_run(s + 35, 34))
        return prefix == NULL || strcmp(prefix, "CA") == 0;
    return 0;
}
