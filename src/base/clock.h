/*
 * Wall-clock and monotonic time, and the one timestamp format sheaf shows
 * people: RFC 3339 in UTC with milliseconds, e.g. 2026-11-21T23:30:00.123Z.
 */
#ifndef SHEAF_BASE_CLOCK_H
#define SHEAF_BASE_CLOCK_H

#include <stdint.h>

#define RFC3339_LEN 64   /* room for any formatted timestamp plus NUL */

int64_t clock_now_ms(void);        /* milliseconds since the Unix epoch */
int64_t clock_mono_ns(void);       /* monotonic nanoseconds, for durations */

/* Writes ms as RFC 3339 UTC into out (RFC3339_LEN bytes); returns out. */
char *clock_rfc3339(int64_t ms, char out[RFC3339_LEN]);

#endif
