/* timefmt.c: date formatting and parsing for the REST representations. */
#include "timefmt.h"
#include "err.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

void sb_time_rfc2822(time_t t, char out[SB_TIME_BUF])
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, SB_TIME_BUF, "%s, %d %s %04d %02d:%02d:%02d +0000",
             days[tm.tm_wday], tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900,
             tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void sb_time_iso8601_ms(int64_t ms, char out[SB_TIME_BUF])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(out, SB_TIME_BUF, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
             tm.tm_sec, (int)(ms % 1000));
}

int sb_time_parse_date(const char *s, time_t *out)
{
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, se = 0, used = 0;
    memset(&tm, 0, sizeof tm);
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3)
        return SB_EINVAL;
    if (s[used] == 'T' || s[used] == ' ') {
        int used2 = 0;
        if (sscanf(s + used + 1, "%2d:%2d:%2d%n", &h, &mi, &se, &used2) != 3)
            return SB_EINVAL;
        used += 1 + used2;
    }
    if (s[used] != '\0' && s[used] != 'Z')
        return SB_EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return SB_EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    *out = timegm(&tm);
    return 0;
}

int64_t sb_time_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}
