/* Spreadsheet cell values; see sheetval.h. */
#include "ingest/sheetval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sheet_format_number(double v, char *out, size_t cap)
{
	if (v == 0) {
		snprintf(out, cap, "0");
		return;
	}
	if (v == trunc(v) && fabs(v) < 9007199254740992.0) {
		snprintf(out, cap, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(out, cap, "%.*g", prec, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* Civil date from days since 1970-01-01 (H. Hinnant's algorithm). */
static void civil(long long z, int *y, int *m, int *d)
{
	z += 719468;
	long long era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long long yy = (long long)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yy + (*m <= 2));
}

bool sheet_format_serial(double serial, bool date1904, bool with_time, char *out, size_t cap)
{
	if (!(serial >= 0 && serial <= SHEET_MAX_SERIAL - (date1904 ? 1462 : 0)))
		return false;
	long long secs = llround(serial * 86400.0);
	long long days = secs / 86400;
	long long tod = secs % 86400;
	int y, m, d;
	if (!date1904 && days == 60) {
		y = 1900, m = 2, d = 29;   /* the day Lotus and Excel believe in */
	} else {
		/* 1900: day 1 is 1900-01-01 (day 0 is 1899-12-31), and serials past the
		 * fake 29 February are one too high.  1904: day 0 is 1904-01-01. */
		long long unix_days = date1904 ? days - 24107
					       : days - 25568 - (days > 60 ? 1 : 0);
		civil(unix_days, &y, &m, &d);
	}
	if (with_time)
		snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, (int)(tod / 3600),
			 (int)(tod / 60 % 60), (int)(tod % 60));
	else
		snprintf(out, cap, "%04d-%02d-%02d", y, m, d);
	return true;
}


void sheet_format_time(double serial, char *out, size_t cap)
{
	long long secs = llround((serial - floor(serial)) * 86400.0) % 86400;
	snprintf(out, cap, "%02lld:%02lld:%02lld", secs / 3600, secs / 60 % 60, secs % 60);
}

/* The code unit of "_xHHHH_" at s (len bytes left), or -1. */
static long escape_at(const char *s, size_t len)
{
	if (len < 7 || s[0] != '_' || s[1] != 'x' || s[6] != '_')
		return -1;
	long v = 0;
	for (int i = 2; i < 6; i++) {
		char c = s[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

static size_t put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t sheet_decode_escapes(char *s, size_t len)
{
	if (!memchr(s, '_', len))
		return len;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		long u = escape_at(s + i, len - i);
		if (u > 0 && u >= 0xD800 && u <= 0xDBFF) {
			long lo = escape_at(s + i + 7, len - i - 7);
			if (lo >= 0xDC00 && lo <= 0xDFFF) {
				unsigned long cp = 0x10000 + (((unsigned long)u - 0xD800) << 10) +
						   ((unsigned long)lo - 0xDC00);
				o += put_utf8(s + o, cp);
				i += 14;
				continue;
			}
			u = -1;   /* a lone surrogate stays as written */
		}
		if (u > 0 && !(u >= 0xDC00 && u <= 0xDFFF)) {
			o += put_utf8(s + o, (unsigned long)u);
			i += 7;
			continue;
		}
		s[o++] = s[i++];
	}
	return o;
}
