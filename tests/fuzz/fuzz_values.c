/*
 * Fuzz target: the field parsers of ingest/value.h and the column state of
 * ingest/infer.h.  Every parser must accept or refuse without reading past
 * the field; whatever it accepts must print in canonical form and parse back
 * to the same value.  The input is also fed, line by line, to one column.
 */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/infer.h"
#include "ingest/value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_dt(const struct value_datetime *a, const struct value_datetime *b)
{
	return a->year == b->year && a->month == b->month && a->day == b->day &&
	       a->hour == b->hour && a->minute == b->minute && a->second == b->second &&
	       a->nanos == b->nanos && a->frac_digits == b->frac_digits &&
	       a->has_tz == b->has_tz && a->tz_minutes == b->tz_minutes;
}

static void one_field(const char *s, size_t len)
{
	char buf[VALUE_TEXT_MAX];
	int64_t i, i2;
	if (value_parse_int(s, len, &i)) {
		int n = snprintf(buf, sizeof buf, "%lld", (long long)i);
		if (!value_parse_int(buf, (size_t)n, &i2) || i2 != i)
			abort();
	}
	double r, r2;
	bool pct, pct2;
	if (value_parse_real(s, len, &r, &pct)) {
		if (!isfinite(r))
			abort();
		int n = snprintf(buf, sizeof buf, "%.17g", r);
		if (!value_parse_real(buf, (size_t)n, &r2, &pct2) || pct2 || r2 != r)
			abort();
	}
	bool b, b2;
	if (value_parse_bool(s, len, &b)) {
		const char *w = b ? "true" : "false";
		if (!value_parse_bool(w, strlen(w), &b2) || b2 != b)
			abort();
	}
	struct value_datetime v, v2;
	size_t n;
	if (value_parse_date(s, len, &v)) {
		n = value_format_date(&v, buf, sizeof buf);
		if (!value_parse_date(buf, n, &v2) || !same_dt(&v, &v2))
			abort();
	}
	if (value_parse_datetime(s, len, &v)) {
		n = value_format_datetime(&v, buf, sizeof buf);
		if (!value_parse_datetime(buf, n, &v2) || !same_dt(&v, &v2))
			abort();
	}
	if (value_parse_time(s, len, &v)) {
		n = value_format_time(&v, buf, sizeof buf);
		if (!value_parse_time(buf, n, &v2) || !same_dt(&v, &v2))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A private copy of exactly size bytes, so ASan sees any over-read. */
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	one_field(copy, size);

	struct column_infer *ci = infer_new();
	size_t start = 0;
	for (size_t k = 0; k <= size; k++) {
		if (k == size || copy[k] == '\n') {
			one_field(copy + start, k - start);
			infer_add(ci, copy + start, k - start);
			start = k + 1;
		}
	}
	struct column_type t;
	infer_result(ci, "lat", &t);
	if (t.nulls > t.rows || t.distinct > t.rows)
		abort();
	infer_free(ci);
	free(copy);
	return 0;
}
