/*
 * Parsers for one spreadsheet field, used by type inference (infer.h) and by
 * the importer to turn text into typed values.
 *
 * Every parser takes the field as ptr+len (UTF-8, not NUL-terminated),
 * ignores surrounding ASCII spaces and tabs, returns true when the whole
 * field is a value of that type and fills *out; on false *out is
 * unspecified.  Nothing is allocated.  A field the parsers reject keeps its
 * original text in the caller; these functions never "repair" a value.
 *
 * Rules (chosen for the forms real Korean public data uses):
 *
 * - Integers: optional sign, then either plain digits or digits grouped by
 *   ',' in correct groups of three ("1,234,567"; "1,23" and "12,34" are not
 *   numbers).  Leading zeros are refused ("007", "01234"): such fields are
 *   codes (zip codes, ids) and must stay text so the zeros survive.  "0" and
 *   "-0" are integers (value 0).  Values outside int64 are not integers.
 *   Compact dates such as "20240305" are integers, never dates.
 * - Reals: an integer part as above (or none: ".5"), optional '.' and
 *   fraction digits, optional exponent ("1e308", "2.5E-3"), optional '%'
 *   directly after the number, which divides by 100 and sets *percent.
 *   Words like "NaN" or "inf" and results that overflow a double are not
 *   reals.  More than 17 significant digits are refused, because a double
 *   cannot carry them and converting would lose data.  Only '.' is a decimal
 *   point (Korean data uses it; "1,5" is text).
 * - Booleans: true/false, yes/no, y/n, t/f (ASCII, any case), 예/아니오,
 *   참/거짓.  "1"/"0" are not booleans here: a 0/1 column is an integer
 *   column (counts such as 사망자수 are mostly 0 and 1).
 * - Dates: year (4 digits, 1000-9999), month, day with one separator used
 *   twice: '-', '/' or '.' ("2024-03-05", "2024/3/5", "2024.03.05"; the
 *   '.' form may have spaces after each dot and a trailing dot, as Korean
 *   office software writes "2024. 3. 5."), or Korean
 *   "2016년 1월 1일" (spaces between the parts optional).  Month and day are
 *   1 or 2 digits and checked against the calendar (leap years included).
 * - Times: "HH:MM", "HH:MM:SS", "HH:MM:SS.fraction" (up to 9 digits) and
 *   Korean "01시", "01시 30분", "01시 30분 15초".  Hour 0-23, minute and
 *   second 0-59 (no leap seconds, no "24:00").  A bare number is never a time.
 * - Datetimes: a date, then 'T' or spaces, then a time, then optionally a
 *   zone ('Z', "+09:00", "+0900", "+09") directly after an "HH:MM" time.
 *   After a numeric date the time may also be a bare two-digit hour
 *   ("2019-01-01 00" as in the Daegu accident data, or ISO's reduced
 *   "2019-01-01T00"); after either date form it may be Korean
 *   ("2016년 1월 1일 01시").  A date alone is not a datetime.
 */
#ifndef SHEAF_INGEST_VALUE_H
#define SHEAF_INGEST_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A date, a time of day, or both.  Fields that the parsed form lacks are 0. */
struct value_datetime {
	int year, month, day;      /* 0 for a time alone */
	int hour, minute, second;
	int32_t nanos;             /* fraction of the second, in nanoseconds */
	int frac_digits;           /* 0-9 digits of fraction as written */
	bool has_tz;
	int tz_minutes;            /* offset east of UTC; 0 with 'Z' */
};

/* Longest canonical text a value_format_* function writes, with its NUL. */
#define VALUE_TEXT_MAX 48

bool value_parse_int(const char *s, size_t len, int64_t *out);
/* *percent is set to whether the field ended in '%' (then *out is value/100). */
bool value_parse_real(const char *s, size_t len, double *out, bool *percent);
bool value_parse_bool(const char *s, size_t len, bool *out);
bool value_parse_date(const char *s, size_t len, struct value_datetime *out);
bool value_parse_datetime(const char *s, size_t len, struct value_datetime *out);
bool value_parse_time(const char *s, size_t len, struct value_datetime *out);
/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (negative
 * before it); 1970-01-01 was a Thursday. */
int64_t value_days_from_civil(int64_t y, int m, int d);

/*
 * Canonical ISO 8601 text into buf (cap >= VALUE_TEXT_MAX always suffices):
 * "2024-03-05", "2024-03-05T12:30:00[.fraction][Z|+09:00]", "12:30:00[.f]".
 * The fraction keeps the digits written.  Returns the length written.
 * The result parses back, with the matching parser, to the same value.
 */
size_t value_format_date(const struct value_datetime *v, char *buf, size_t cap);
size_t value_format_datetime(const struct value_datetime *v, char *buf, size_t cap);
size_t value_format_time(const struct value_datetime *v, char *buf, size_t cap);

#endif
