/*
 * timefmt.h: the date forms Restcomm's REST API writes.
 */
#ifndef SB_TIMEFMT_H
#define SB_TIMEFMT_H

#include <stdint.h>
#include <time.h>

#define SB_TIME_BUF 48

/* "Wed, 15 Mar 2017 10:10:57 +0000" (DateCreated, DateUpdated). */
void sb_time_rfc2822(time_t t, char out[SB_TIME_BUF]);
/* "2017-03-15T10:10:57.123Z" from milliseconds since the epoch (StartTime). */
void sb_time_iso8601_ms(int64_t ms, char out[SB_TIME_BUF]);
/* Parses "YYYY-MM-DD" (and an optional "THH:MM:SS") as UTC. Returns 0 or
 * SB_EINVAL. */
int sb_time_parse_date(const char *s, time_t *out);
/* Milliseconds since the epoch, wall clock. */
int64_t sb_time_now_ms(void);

#endif
