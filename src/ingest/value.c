/*
 * Field parsers for type inference: numbers, booleans, dates and times in
 * the forms Korean public data files use.  The rules are written down in
 * value.h; this file only implements them.  Everything works on ptr+len
 * with explicit bounds, because fields come straight out of a CSV or XLSX
 * reader and are not NUL-terminated.
 */
#include "ingest/value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A number longer than this is not one we accept (it would exceed the
 * significant-digit limit or carry absurd exponents anyway). */
#define NUMBER_MAX 96
#define REAL_SIG_DIGITS 17

/* UTF-8 spellings of the Korean units and words. */
#define KO_YEAR "\xEB\x85\x84"    /* 년 */
#define KO_MONTH "\xEC\x9B\x94"   /* 월 */
#define KO_DAY "\xEC\x9D\xBC"     /* 일 */
#define KO_HOUR "\xEC\x8B\x9C"    /* 시 */
#define KO_MINUTE "\xEB\xB6\x84"  /* 분 */
#define KO_SECOND "\xEC\xB4\x88"  /* 초 */

struct cursor {
	const char *p, *end;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

static struct cursor trimmed(const char *s, size_t len)
{
	struct cursor c = { s, s + len };
	while (c.p < c.end && is_space(*c.p))
		c.p++;
	while (c.end > c.p && is_space(c.end[-1]))
		c.end--;
	return c;
}

static bool at_end(const struct cursor *c)
{
	return c->p == c->end;
}

static bool peek(const struct cursor *c, char ch)
{
	return c->p < c->end && *c->p == ch;
}

static bool eat(struct cursor *c, char ch)
{
	if (!peek(c, ch))
		return false;
	c->p++;
	return true;
}

static bool eat_str(struct cursor *c, const char *s)
{
	size_t n = strlen(s);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n) != 0)
		return false;
	c->p += n;
	return true;
}

static void skip_spaces(struct cursor *c)
{
	while (c->p < c->end && is_space(*c->p))
		c->p++;
}

/* Reads min..max digits as a number; false when fewer than min are there.
 * More than max digits in a row also fail, so "123" is not a 2-digit hour. */
static bool digits(struct cursor *c, int min, int max, int *out)
{
	int n = 0, v = 0;
	while (c->p < c->end && is_digit(*c->p) && n < max) {
		v = v * 10 + (*c->p - '0');
		c->p++;
		n++;
	}
	if (n < min || (c->p < c->end && is_digit(*c->p)))
		return false;
	*out = v;
	return true;
}

/*
 * The integer part of a number: plain digits or ','-grouped digits, no
 * leading zeros.  Appends the digits (without commas) to dst and returns how
 * many it read, 0 when there is no digit, -1 when the part is malformed.
 */
static int int_part(struct cursor *c, char *dst, size_t *dlen)
{
	const char *start = c->p;
	while (c->p < c->end && is_digit(*c->p))
		dst[(*dlen)++] = *c->p++;
	int n = (int)(c->p - start);
	if (n == 0)
		return 0;
	if (n > 1 && start[0] == '0')
		return -1;
	if (!peek(c, ','))
		return n;
	if (n > 3 || start[0] == '0')
		return -1;
	while (eat(c, ',')) {
		for (int i = 0; i < 3; i++) {
			if (c->p >= c->end || !is_digit(*c->p))
				return -1;
			dst[(*dlen)++] = *c->p++;
			n++;
		}
		if (c->p < c->end && is_digit(*c->p))
			return -1;
	}
	return n;
}

/* The common shape, in one pass: an optional '-' and at most 18 plain
 * digits (so no overflow), no leading zero, nothing around them.  false:
 * not that shape; the full parser decides. */
static bool simple_int(const char *p, const char *end, int64_t *out)
{
	bool neg = p < end && *p == '-';
	p += neg;
	size_t n = (size_t)(end - p);
	if (n == 0 || n > 18 || (n > 1 && *p == '0'))
		return false;
	uint64_t v = 0;
	for (; p < end; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';
		if (d > 9)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

bool value_parse_int(const char *s, size_t len, int64_t *out)
{
	if (simple_int(s, s + len, out))
		return true;
	struct cursor c = trimmed(s, len);
	if (c.end - c.p > NUMBER_MAX)
		return false;
	bool neg = peek(&c, '-');
	if (neg || peek(&c, '+'))
		c.p++;
	char buf[NUMBER_MAX + 1];
	size_t n = 0;
	if (int_part(&c, buf, &n) <= 0 || !at_end(&c))
		return false;
	uint64_t v = 0;
	const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(buf[i] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg)
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*out = (int64_t)v;
	return true;
}

/* The powers of ten a double holds exactly. */
static const double exact_pow10[] = {
	1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* Clinger's fast path: a decimal whose digits, as an integer, are below
 * 2^53 and that has at most 22 fraction digits is that integer divided by
 * an exact power of ten, and IEEE division rounds correctly -- the same
 * double strtod gives, at a fraction of its cost (it was a tenth of an
 * import of numeric data).  buf: optional sign, digits, optional '.' and
 * digits (no exponent); nf: the fraction digits. */
static bool exact_decimal(const char *buf, size_t n, int nf, double *out)
{
	if (nf > 22)
		return false;
	bool neg = n && buf[0] == '-';
	uint64_t m = 0;
	for (size_t i = (n && (buf[0] == '-' || buf[0] == '+')); i < n; i++) {
		if (buf[i] == '.')
			continue;
		m = m * 10 + (uint64_t)(buf[i] - '0');
		if (m > (1ULL << 53))
			return false;
	}
	double v = (double)m / exact_pow10[nf];
	*out = neg ? -v : v;
	return true;
}

/* The common shape, in one pass: [sign] digits [. digits], no grouping,
 * exponent, percent or spaces, at most 19 digits and 15 significant ones
 * (from the first non-zero digit on: the digits as an integer, below
 * 10^15), so that integer is exact and exact_decimal's reasoning holds.
 * false: not that shape (or a leading zero, which the full parser
 * refuses); the full parser decides. */
static bool simple_real(const char *p, const char *end, double *out)
{
	bool neg = false;
	if (p < end && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (end - p > 20)
		return false;
	const char *int_start = p;
	uint64_t m = 0;
	unsigned d;
	while (p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
		m = m * 10 + d;
		p++;
	}
	size_t ni = (size_t)(p - int_start), nf = 0;
	if (ni > 1 && *int_start == '0')
		return false;
	if (p < end && *p == '.') {
		const char *frac = ++p;
		while (p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
			m = m * 10 + d;
			p++;
		}
		nf = (size_t)(p - frac);
	}
	if (p != end || ni + nf == 0 || ni + nf > 19 || m >= 1000000000000000ULL)
		return false;
	double v = (double)m / exact_pow10[nf];
	*out = neg ? -v : v;
	return true;
}

bool value_parse_real(const char *s, size_t len, double *out, bool *percent)
{
	if (simple_real(s, s + len, out)) {
		*percent = false;
		return true;
	}
	struct cursor c = trimmed(s, len);
	if (c.end - c.p > NUMBER_MAX)
		return false;
	if (simple_real(c.p, c.end, out)) {
		*percent = false;
		return true;
	}
	/* Rebuilt without commas for strtod.  sheaf never calls setlocale(), so
	 * strtod's decimal point is '.'. */
	char buf[NUMBER_MAX + 8];
	size_t n = 0;
	if (peek(&c, '-') || peek(&c, '+'))
		buf[n++] = *c.p++;
	size_t mant = n;
	int ni = int_part(&c, buf, &n);
	if (ni < 0)
		return false;
	int nf = 0;
	if (eat(&c, '.')) {
		buf[n++] = '.';
		while (c.p < c.end && is_digit(*c.p)) {
			buf[n++] = *c.p++;
			nf++;
		}
	}
	if (ni + nf == 0)
		return false;
	/* Significant digits: from the first non-zero digit to the last. */
	size_t first = n, last = 0;
	for (size_t i = mant; i < n; i++) {
		if (buf[i] >= '1' && buf[i] <= '9') {
			if (first == n)
				first = i;
			last = i;
		}
	}
	if (first < n) {
		size_t sig = last - first + 1;
		for (size_t i = first; i <= last; i++)
			if (buf[i] == '.')
				sig--;
		if (sig > REAL_SIG_DIGITS)
			return false;
	}
	bool has_exp = peek(&c, 'e') || peek(&c, 'E');
	if (has_exp) {
		c.p++;
		buf[n++] = 'e';
		if (peek(&c, '-') || peek(&c, '+'))
			buf[n++] = *c.p++;
		int ne = 0;
		while (c.p < c.end && is_digit(*c.p)) {
			buf[n++] = *c.p++;
			ne++;
		}
		if (ne == 0)
			return false;
	}
	bool pct = eat(&c, '%');
	if (!at_end(&c))
		return false;
	buf[n] = '\0';
	double v;
	if (has_exp || !exact_decimal(buf, n, nf, &v))
		v = strtod(buf, NULL);
	if (!isfinite(v))
		return false;
	if (pct)
		v /= 100;
	*out = v;
	*percent = pct;
	return true;
}

bool value_parse_bool(const char *s, size_t len, bool *out)
{
	static const struct {
		const char *word;
		bool value;
	} words[] = {
		{ "true", true }, { "false", false }, { "yes", true }, { "no", false },
		{ "y", true },    { "n", false },     { "t", true },   { "f", false },
		{ "\xEC\x98\x88", true },                           /* 예 */
		{ "\xEC\x95\x84\xEB\x8B\x88\xEC\x98\xA4", false },  /* 아니오 */
		{ "\xEC\xB0\xB8", true },                           /* 참 */
		{ "\xEA\xB1\xB0\xEC\xA7\x93", false },              /* 거짓 */
	};
	struct cursor c = trimmed(s, len);
	size_t n = (size_t)(c.end - c.p);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (strlen(words[i].word) == n && strncasecmp(c.p, words[i].word, n) == 0) {
			*out = words[i].value;
			return true;
		}
	}
	return false;
}

static bool leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool valid_date(int y, int m, int d)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1)
		return false;
	return d <= days[m - 1] + (m == 2 && leap(y));
}

/* A date at the cursor.  *numeric tells the caller which form it was. */
static bool date_part(struct cursor *c, struct value_datetime *v, bool *numeric)
{
	int y, m, d;
	if (!digits(c, 4, 4, &y))
		return false;
	struct cursor k = *c;
	skip_spaces(&k);
	if (eat_str(&k, KO_YEAR)) {
		skip_spaces(&k);
		if (!digits(&k, 1, 2, &m))
			return false;
		skip_spaces(&k);
		if (!eat_str(&k, KO_MONTH))
			return false;
		skip_spaces(&k);
		if (!digits(&k, 1, 2, &d))
			return false;
		skip_spaces(&k);
		if (!eat_str(&k, KO_DAY))
			return false;
		*c = k;
		*numeric = false;
	} else {
		char sep = c->p < c->end ? *c->p : 0;
		if (sep != '-' && sep != '/' && sep != '.')
			return false;
		c->p++;
		if (sep == '.')
			skip_spaces(c);   /* Korean office software writes "2024. 3. 5." */
		if (!digits(c, 1, 2, &m) || !eat(c, sep))
			return false;
		if (sep == '.')
			skip_spaces(c);
		if (!digits(c, 1, 2, &d))
			return false;
		if (sep == '.')
			eat(c, '.');
		*numeric = true;
	}
	if (!valid_date(y, m, d))
		return false;
	v->year = y;
	v->month = m;
	v->day = d;
	return true;
}

/* How the time at the cursor was written; a zone may follow TIME_COLON. */
enum time_form { TIME_NONE, TIME_HOUR, TIME_COLON, TIME_KOREAN };

static enum time_form time_part(struct cursor *c, struct value_datetime *v, bool hour_only_ok)
{
	int h = 0, mi = 0, se = 0;
	const char *start = c->p;
	if (!digits(c, 1, 2, &h) || h > 23)
		return TIME_NONE;
	int hour_digits = (int)(c->p - start);
	enum time_form form;
	if (eat(c, ':')) {
		if (!digits(c, 2, 2, &mi) || mi > 59)
			return TIME_NONE;
		if (eat(c, ':')) {
			if (!digits(c, 2, 2, &se) || se > 59)
				return TIME_NONE;
			if (eat(c, '.')) {
				int nd = 0;
				int32_t ns = 0;
				while (c->p < c->end && is_digit(*c->p) && nd < 9) {
					ns = ns * 10 + (*c->p++ - '0');
					nd++;
				}
				if (nd == 0 || (c->p < c->end && is_digit(*c->p)))
					return TIME_NONE;
				for (int i = nd; i < 9; i++)
					ns *= 10;
				v->nanos = ns;
				v->frac_digits = nd;
			}
		}
		form = TIME_COLON;
	} else {
		struct cursor k = *c;
		skip_spaces(&k);
		if (eat_str(&k, KO_HOUR)) {
			*c = k;
			struct cursor m = k;
			skip_spaces(&m);
			if (digits(&m, 1, 2, &mi) && (skip_spaces(&m), eat_str(&m, KO_MINUTE))) {
				if (mi > 59)
					return TIME_NONE;
				*c = m;
				struct cursor sc = m;
				skip_spaces(&sc);
				if (digits(&sc, 1, 2, &se) && (skip_spaces(&sc), eat_str(&sc, KO_SECOND))) {
					if (se > 59)
						return TIME_NONE;
					*c = sc;
				} else {
					se = 0;
				}
			} else {
				mi = 0;
			}
			form = TIME_KOREAN;
		} else if (hour_only_ok && hour_digits == 2) {
			form = TIME_HOUR;
		} else {
			return TIME_NONE;
		}
	}
	v->hour = h;
	v->minute = mi;
	v->second = se;
	return form;
}

/* Exactly two digits, whatever follows ("+0900" holds two pairs). */
static bool two_digits(struct cursor *c, int *out)
{
	if (c->end - c->p < 2 || !is_digit(c->p[0]) || !is_digit(c->p[1]))
		return false;
	*out = (c->p[0] - '0') * 10 + (c->p[1] - '0');
	c->p += 2;
	return true;
}

static bool zone_part(struct cursor *c, struct value_datetime *v)
{
	if (eat(c, 'Z') || eat(c, 'z')) {
		v->has_tz = true;
		v->tz_minutes = 0;
		return true;
	}
	if (!peek(c, '+') && !peek(c, '-'))
		return true;
	int sign = *c->p++ == '-' ? -1 : 1;
	int h, m = 0;
	if (!two_digits(c, &h))
		return false;
	if (eat(c, ':')) {
		if (!two_digits(c, &m))
			return false;
	} else if (c->p < c->end && is_digit(*c->p)) {
		if (!two_digits(c, &m))
			return false;
	}
	if (h > 18 || m > 59)
		return false;
	v->has_tz = true;
	v->tz_minutes = sign * (h * 60 + m);
	return true;
}

/* Two ASCII digits at p as 0-99, or -1. */
static int two_at(const char *p)
{
	unsigned a = (unsigned)(unsigned char)p[0] - '0', b = (unsigned)(unsigned char)p[1] - '0';
	return a <= 9 && b <= 9 ? (int)(a * 10 + b) : -1;
}

/* The ISO forms most files use, read at fixed positions: "YYYY-MM-DD" at
 * s (10 bytes), and "HH:MM:SS" at t (8 bytes).  false: not exactly that
 * (the full parser decides). */
static bool iso_date(const char *s, struct value_datetime *v)
{
	int c = two_at(s), y = two_at(s + 2), m = two_at(s + 5), d = two_at(s + 8);
	if (c < 0 || y < 0 || m < 0 || d < 0 || s[4] != '-' || s[7] != '-' ||
	    !valid_date(c * 100 + y, m, d))
		return false;
	*v = (struct value_datetime){ .year = c * 100 + y, .month = m, .day = d };
	return true;
}

static bool iso_time(const char *t, struct value_datetime *v)
{
	int h = two_at(t), mi = two_at(t + 3), se = two_at(t + 6);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59 || t[2] != ':' || t[5] != ':')
		return false;
	v->hour = h;
	v->minute = mi;
	v->second = se;
	return true;
}

bool value_parse_date(const char *s, size_t len, struct value_datetime *out)
{
	if (len == 10 && iso_date(s, out))
		return true;
	struct cursor c = trimmed(s, len);
	struct value_datetime v = { 0 };
	bool numeric;
	if (!date_part(&c, &v, &numeric) || !at_end(&c))
		return false;
	*out = v;
	return true;
}

bool value_parse_datetime(const char *s, size_t len, struct value_datetime *out)
{
	if (len == 19 && (s[10] == ' ' || s[10] == 'T' || s[10] == 't') && iso_date(s, out) &&
	    iso_time(s + 11, out))
		return true;
	struct cursor c = trimmed(s, len);
	struct value_datetime v = { 0 };
	bool numeric;
	if (!date_part(&c, &v, &numeric))
		return false;
	if (numeric && (peek(&c, 'T') || peek(&c, 't'))) {
		c.p++;
	} else {
		if (at_end(&c) || !is_space(*c.p))
			return false;
		skip_spaces(&c);
	}
	enum time_form form = time_part(&c, &v, numeric);
	if (form == TIME_NONE)
		return false;
	if (form == TIME_COLON && !zone_part(&c, &v))
		return false;
	if (!at_end(&c))
		return false;
	*out = v;
	return true;
}

bool value_parse_time(const char *s, size_t len, struct value_datetime *out)
{
	struct cursor c = trimmed(s, len);
	struct value_datetime v = { 0 };
	if (time_part(&c, &v, false) == TIME_NONE || !at_end(&c))
		return false;
	*out = v;
	return true;
}

static size_t clamp(int n, size_t cap)
{
	if (n < 0)
		return 0;
	return (size_t)n < cap ? (size_t)n : (cap ? cap - 1 : 0);
}

/* Two digits of 0-99 at p (the importer formats millions of these; snprintf
 * was a tenth of its time). */
static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

size_t value_format_date(const struct value_datetime *v, char *buf, size_t cap)
{
	if (cap > 10 && v->year >= 1000 && v->year <= 9999 && v->month >= 0 && v->month <= 99 &&
	    v->day >= 0 && v->day <= 99) {
		put2(buf, v->year / 100);
		put2(buf + 2, v->year % 100);
		buf[4] = '-';
		put2(buf + 5, v->month);
		buf[7] = '-';
		put2(buf + 8, v->day);
		buf[10] = 0;
		return 10;
	}
	return clamp(snprintf(buf, cap, "%04d-%02d-%02d", v->year, v->month, v->day), cap);
}

size_t value_format_time(const struct value_datetime *v, char *buf, size_t cap)
{
	int n;
	if (cap > 8 && v->hour >= 0 && v->hour <= 99 && v->minute >= 0 && v->minute <= 99 &&
	    v->second >= 0 && v->second <= 99) {
		put2(buf, v->hour);
		buf[2] = ':';
		put2(buf + 3, v->minute);
		buf[5] = ':';
		put2(buf + 6, v->second);
		buf[8] = 0;
		n = 8;
	} else {
		n = snprintf(buf, cap, "%02d:%02d:%02d", v->hour, v->minute, v->second);
	}
	if (v->frac_digits > 0 && n >= 0 && (size_t)n < cap) {
		int32_t f = v->nanos;
		for (int i = v->frac_digits; i < 9; i++)
			f /= 10;
		n += snprintf(buf + n, cap - (size_t)n, ".%0*d", v->frac_digits, (int)f);
	}
	return clamp(n, cap);
}

size_t value_format_datetime(const struct value_datetime *v, char *buf, size_t cap)
{
	size_t n = value_format_date(v, buf, cap);
	if (n + 1 < cap) {
		buf[n++] = 'T';
		n += value_format_time(v, buf + n, cap - n);
	}
	if (v->has_tz && n + 1 < cap) {
		int tz = v->tz_minutes;
		if (tz == 0)
			n += clamp(snprintf(buf + n, cap - n, "Z"), cap - n);
		else
			n += clamp(snprintf(buf + n, cap - n, "%c%02d:%02d", tz < 0 ? '-' : '+',
					    abs(tz) / 60, abs(tz) % 60), cap - n);
	}
	return n;
}

int64_t value_days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}
