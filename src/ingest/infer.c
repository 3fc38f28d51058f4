/*
 * Column type inference: one pass over a column, tracking for each candidate
 * type whether every value so far parses as it, plus a bounded set of value
 * hashes for the categorical flag and the numeric range for the
 * latitude/longitude role.  The rules are in infer.h.
 */
#include "ingest/infer.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "ingest/value.h"

/* Integers beyond this cannot all be represented exactly as doubles. */
#define EXACT_DOUBLE_INT ((int64_t)1 << 53)

struct column_infer {
	uint64_t rows, nulls, values;
	bool can_bool, can_int, can_real, can_date, can_datetime, can_time;
	uint64_t percent_values;   /* reals written with '%' */
	bool big_int;              /* an integer a double would round */
	bool has_range;
	double min, max;
	/* Open-addressing set of value hashes; 0 marks an empty slot. */
	uint64_t *set;
	size_t set_cap, set_len;
	bool set_full;
	bool skip_distinct;        /* the caller counts distinct values itself */
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

struct column_infer *infer_new(void)
{
	struct column_infer *ci = xcalloc(1, sizeof *ci);
	ci->can_bool = ci->can_int = ci->can_real = true;
	ci->can_date = ci->can_datetime = ci->can_time = true;
	return ci;
}

void infer_free(struct column_infer *ci)
{
	if (!ci)
		return;
	free(ci->set);
	free(ci);
}

bool infer_is_null(const char *s, size_t len)
{
	/* Most fields are longer than any null word and start with no space,
	 * or start with a digit, which no null word does: answer those without
	 * looking further. */
	if (len && s[0] >= '0' && s[0] <= '9')
		return false;
	if (len > 4 && !is_space(s[0]) && !is_space(s[len - 1]))
		return false;
	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	if (len == 0)
		return true;
	switch (len) {
	case 1:
		return s[0] == '-';
	case 2:
		return strncasecmp(s, "na", 2) == 0;
	case 3:
		return strncasecmp(s, "n/a", 3) == 0 || strncasecmp(s, "nan", 3) == 0;
	case 4:
		return strncasecmp(s, "#n/a", 4) == 0 || strncasecmp(s, "null", 4) == 0 ||
		       strncasecmp(s, "none", 4) == 0;
	default:
		return false;
	}
}

static bool set_insert(uint64_t *set, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	while (set[i]) {
		if (set[i] == h)
			return false;
		i = (i + 1) & (cap - 1);
	}
	set[i] = h;
	return true;
}

static void remember(struct column_infer *ci, const char *s, size_t len)
{
	if (ci->set_full)
		return;
	if ((ci->set_len + 1) * 4 > ci->set_cap * 3) {
		size_t cap = ci->set_cap ? ci->set_cap * 2 : 64;
		uint64_t *set = xzalloc_touched(cap, sizeof *set);
		for (size_t i = 0; i < ci->set_cap; i++)
			if (ci->set[i])
				set_insert(set, cap, ci->set[i]);
		free(ci->set);
		ci->set = set;
		ci->set_cap = cap;
	}
	uint64_t h = hash_bytes(s, len);
	if (ci->set_len == INFER_MAX_DISTINCT) {
		/* Full: a new value means "more than the cap", so stop counting. */
		size_t i = (size_t)h & (ci->set_cap - 1);
		while (ci->set[i] && ci->set[i] != h)
			i = (i + 1) & (ci->set_cap - 1);
		if (!ci->set[i]) {
			ci->set_full = true;
			free(ci->set);
			ci->set = NULL;
			ci->set_cap = 0;
		}
		return;
	}
	if (set_insert(ci->set, ci->set_cap, h))
		ci->set_len++;
}

static void note_number(struct column_infer *ci, double v)
{
	if (!ci->has_range || v < ci->min)
		ci->min = v;
	if (!ci->has_range || v > ci->max)
		ci->max = v;
	ci->has_range = true;
}

void infer_add(struct column_infer *ci, const char *s, size_t len)
{
	ci->rows++;
	if (infer_is_null(s, len)) {
		ci->nulls++;
		return;
	}
	while (len && is_space(*s)) {
		s++;
		len--;
	}
	while (len && is_space(s[len - 1]))
		len--;
	ci->values++;
	if (!ci->skip_distinct)
		remember(ci, s, len);

	bool b;
	if (ci->can_bool && !value_parse_bool(s, len, &b))
		ci->can_bool = false;

	int64_t i;
	bool is_int = (ci->can_int || ci->can_real) && value_parse_int(s, len, &i);
	if (!is_int)
		ci->can_int = false;
	if (is_int) {
		note_number(ci, (double)i);
		if (i > EXACT_DOUBLE_INT || i < -EXACT_DOUBLE_INT)
			ci->big_int = true;
	} else if (ci->can_real) {
		double r;
		bool pct;
		if (value_parse_real(s, len, &r, &pct)) {
			note_number(ci, r);
			if (pct)
				ci->percent_values++;
		} else {
			ci->can_real = false;
		}
	}

	struct value_datetime dt;
	if (ci->can_date || ci->can_datetime) {
		bool is_date = value_parse_date(s, len, &dt);
		if (!is_date)
			ci->can_date = false;
		if (!is_date && ci->can_datetime && !value_parse_datetime(s, len, &dt))
			ci->can_datetime = false;
	}
	if (ci->can_time && !value_parse_time(s, len, &dt))
		ci->can_time = false;
}

static bool name_is(const char *name, const char *const *list, size_t n)
{
	size_t len = strlen(name);
	while (len && is_space(*name)) {
		name++;
		len--;
	}
	while (len && is_space(name[len - 1]))
		len--;
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && strncasecmp(name, list[i], len) == 0)
			return true;
	return false;
}

enum column_role infer_role(const char *name, double lo, double hi)
{
	static const char *const lat[] = { "lat", "latitude", "\xEC\x9C\x84\xEB\x8F\x84" };
	static const char *const lng[] = { "lng", "lon", "long", "longitude",
					   "\xEA\xB2\xBD\xEB\x8F\x84" };
	static const char *const y[] = { "y" };
	static const char *const x[] = { "x" };
	if (!name)
		return COLUMN_ROLE_NONE;
	if ((name_is(name, lat, 3) || strstr(name, "\xEC\x9C\x84\xEB\x8F\x84")) && lo >= -90 &&
	    hi <= 90)
		return COLUMN_ROLE_LATITUDE;
	if ((name_is(name, lng, 5) || strstr(name, "\xEA\xB2\xBD\xEB\x8F\x84")) && lo >= -180 &&
	    hi <= 180)
		return COLUMN_ROLE_LONGITUDE;
	if (name_is(name, y, 1) && lo >= 33 && hi <= 39)
		return COLUMN_ROLE_LATITUDE;
	if (name_is(name, x, 1) && lo >= 124 && hi <= 132)
		return COLUMN_ROLE_LONGITUDE;
	return COLUMN_ROLE_NONE;
}

void infer_result(const struct column_infer *ci, const char *column_name,
		  struct column_type *out)
{
	memset(out, 0, sizeof *out);
	out->rows = ci->rows;
	out->nulls = ci->nulls;
	out->distinct = ci->set_full ? INFER_MAX_DISTINCT : ci->set_len;
	out->distinct_capped = ci->set_full;
	out->kind = COLUMN_TEXT;
	if (ci->values == 0)
		return;
	bool mixed_pct = ci->percent_values && ci->percent_values != ci->values;
	if (ci->can_bool)
		out->kind = COLUMN_BOOL;
	else if (ci->can_int)
		out->kind = COLUMN_INT;
	else if (ci->can_real && !mixed_pct && !ci->big_int)
		out->kind = COLUMN_REAL;
	else if (ci->can_date)
		out->kind = COLUMN_DATE;
	else if (ci->can_datetime)
		out->kind = COLUMN_DATETIME;
	else if (ci->can_time)
		out->kind = COLUMN_TIME;

	if (out->kind == COLUMN_INT || out->kind == COLUMN_REAL) {
		out->min = ci->min;
		out->max = ci->max;
		out->percent = out->kind == COLUMN_REAL && ci->percent_values == ci->values;
		if (!out->percent && ci->has_range)
			out->role = infer_role(column_name, ci->min, ci->max);
	}
	if (out->kind == COLUMN_TEXT && !ci->skip_distinct)
		out->categorical = infer_categorical(ci->set_len, ci->set_full, ci->values);
}

bool infer_categorical(uint64_t distinct, bool capped, uint64_t values)
{
	uint64_t limit = values / 20;
	if (limit < 20)
		limit = 20;
	return !capped && distinct <= limit && distinct < values;
}

bool infer_settled(const struct column_infer *ci)
{
	return ci->skip_distinct && ci->values > 0 && !ci->can_bool && !ci->can_int &&
	       !ci->can_real && !ci->can_date && !ci->can_datetime && !ci->can_time;
}

void infer_count(struct column_infer *ci, bool null)
{
	ci->rows++;
	if (null)
		ci->nulls++;
	else
		ci->values++;
}

void infer_skip_distinct(struct column_infer *ci)
{
	ci->skip_distinct = true;
	ci->set_full = false;
	ci->set_len = 0;
}

const char *column_kind_name(enum column_kind kind)
{
	switch (kind) {
	case COLUMN_TEXT: return "text";
	case COLUMN_BOOL: return "boolean";
	case COLUMN_INT: return "integer";
	case COLUMN_REAL: return "real";
	case COLUMN_DATE: return "date";
	case COLUMN_DATETIME: return "datetime";
	case COLUMN_TIME: return "time";
	}
	return "text";
}
