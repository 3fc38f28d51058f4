/*
 * The JSON Schema subset of schema.h.  Validation walks the value and the
 * schema together, carrying the path for the message.
 */
#include "tools/schema.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define PATH_MAX_LEN 256

/* Characters of UTF-8 text: bytes that are not continuation bytes. */
static size_t count_chars(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	return n;
}

static const char *type_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

/* Whether v is of the schema type name: integers are numbers, and a real
 * with no fraction counts as an integer (JSON does not tell 2 from 2.0). */
static bool is_type(const json_t *v, const char *name)
{
	if (strcmp(name, "number") == 0)
		return json_is_number(v);
	if (strcmp(name, "integer") == 0)
		return json_is_integer(v) ||
		       (json_is_real(v) && isfinite(json_real_value(v)) &&
			floor(json_real_value(v)) == json_real_value(v) &&
			fabs(json_real_value(v)) < 9007199254740992.0);
	return strcmp(type_of(v), name) == 0;
}

static int fail(struct error *e, const char *path, const char *fmt, const char *detail)
{
	char msg[400];
	snprintf(msg, sizeof msg, fmt, detail);
	return error_set(e, "%s: %s", path, msg);
}

static int check_type(const json_t *schema, const json_t *v, const char *path, struct error *e)
{
	const json_t *type = json_object_get(schema, "type");
	if (!type)
		return 0;
	if (json_is_string(type)) {
		if (is_type(v, json_string_value(type)))
			return 0;
		const char *t = json_string_value(type);
		const char *article = strchr("aeiou", t[0]) ? "an" : "a";
		char want[64];
		snprintf(want, sizeof want, "%s %s", article, t);
		return fail(e, path, "must be %s", want);
	}
	char names[200] = "";
	size_t i;
	const json_t *t;
	json_array_foreach(type, i, t) {
		if (is_type(v, json_string_value(t)))
			return 0;
		if (i)
			strncat(names, " or ", sizeof names - strlen(names) - 1);
		strncat(names, json_string_value(t), sizeof names - strlen(names) - 1);
	}
	return fail(e, path, "must be %s", names);
}

static bool json_same(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	return json_equal(a, b);
}

static int check_enum(const json_t *schema, const json_t *v, const char *path, struct error *e)
{
	const json_t *c = json_object_get(schema, "const");
	if (c && !json_same(c, v)) {
		char *text = json_dumps(c, JSON_ENCODE_ANY | JSON_COMPACT);
		int rc = fail(e, path, "must be %s", text ? text : "?");
		free(text);
		return rc;
	}
	const json_t *en = json_object_get(schema, "enum");
	if (!en)
		return 0;
	size_t i;
	const json_t *item;
	json_array_foreach(en, i, item)
		if (json_same(item, v))
			return 0;
	char *text = json_dumps(en, JSON_ENCODE_ANY | JSON_COMPACT);
	char list[300];
	snprintf(list, sizeof list, "%.290s", text ? text : "?");
	free(text);
	return fail(e, path, "must be one of %s", list);
}

static int check_number(const json_t *schema, const json_t *v, const char *path, struct error *e)
{
	if (!json_is_number(v))
		return 0;
	double x = json_number_value(v);
	static const struct { const char *key; int cmp; const char *words; } bounds[] = {
		{ "minimum", -1, "at least" },
		{ "maximum", 1, "at most" },
		{ "exclusiveMinimum", -2, "more than" },
		{ "exclusiveMaximum", 2, "less than" },
	};
	for (size_t i = 0; i < sizeof bounds / sizeof *bounds; i++) {
		const json_t *b = json_object_get(schema, bounds[i].key);
		if (!b)
			continue;
		double y = json_number_value(b);
		bool bad = bounds[i].cmp == -1 ? x < y : bounds[i].cmp == 1 ? x > y :
			   bounds[i].cmp == -2 ? x <= y : x >= y;
		if (bad) {
			char want[80];
			snprintf(want, sizeof want, "%s %.17g", bounds[i].words, y);
			return fail(e, path, "must be %s", want);
		}
	}
	return 0;
}

static int check_string(const json_t *schema, const json_t *v, const char *path, struct error *e)
{
	if (!json_is_string(v))
		return 0;
	size_t chars = count_chars(json_string_value(v), json_string_length(v));
	const json_t *min = json_object_get(schema, "minLength");
	const json_t *max = json_object_get(schema, "maxLength");
	char want[64];
	if (min && chars < (size_t)json_integer_value(min)) {
		snprintf(want, sizeof want, "%lld", (long long)json_integer_value(min));
		return fail(e, path, json_integer_value(min) == 1 ? "must not be empty" :
				     "must have at least %s characters", want);
	}
	if (max && chars > (size_t)json_integer_value(max)) {
		snprintf(want, sizeof want, "%lld", (long long)json_integer_value(max));
		return fail(e, path, "must have at most %s characters", want);
	}
	return 0;
}

static int validate(const json_t *schema, const json_t *v, const char *path, struct error *e);

static int check_array(const json_t *schema, const json_t *v, const char *path, struct error *e)
{
	if (!json_is_array(v))
		return 0;
	size_t n = json_array_size(v);
	const json_t *min = json_object_get(schema, "minItems");
	const json_t *max = json_object_get(schema, "maxItems");
	char want[64];
	if (min && n < (size_t)json_integer_value(min)) {
		snprintf(want, sizeof want, "%lld", (long long)json_integer_value(min));
		return fail(e, path, "must have at least %s items", want);
	}
	if (max && n > (size_t)json_integer_value(max)) {
		snprintf(want, sizeof want, "%lld", (long long)json_integer_value(max));
		return fail(e, path, "must have at most %s items", want);
	}
	const json_t *items = json_object_get(schema, "items");
	for (size_t i = 0; items && i < n; i++) {
		char sub[PATH_MAX_LEN];
		snprintf(sub, sizeof sub, "%s[%zu]", path, i);
		if (validate(items, json_array_get(v, i), sub, e) < 0)
			return -1;
	}
	if (json_is_true(json_object_get(schema, "uniqueItems")))
		for (size_t i = 0; i < n; i++)
			for (size_t j = i + 1; j < n; j++)
				if (json_same(json_array_get(v, i), json_array_get(v, j))) {
					snprintf(want, sizeof want, "%zu and %zu", i, j);
					return fail(e, path, "must not repeat an item (items %s "
							     "are equal)", want);
				}
	return 0;
}

static int check_object(const json_t *schema, const json_t *v, const char *path, struct error *e)
{
	if (!json_is_object(v))
		return 0;
	const json_t *required = json_object_get(schema, "required");
	size_t i;
	const json_t *name;
	char sub[PATH_MAX_LEN];
	json_array_foreach(required, i, name) {
		if (!json_object_get(v, json_string_value(name))) {
			snprintf(sub, sizeof sub, "%s.%s", path, json_string_value(name));
			return fail(e, sub, "%s", "is required");
		}
	}
	const json_t *props = json_object_get(schema, "properties");
	const json_t *extra = json_object_get(schema, "additionalProperties");
	const char *key;
	const json_t *item;
	json_object_foreach((json_t *)v, key, item) {
		snprintf(sub, sizeof sub, "%s.%.100s", path, key);
		const json_t *ps = json_object_get(props, key);
		if (ps) {
			if (validate(ps, item, sub, e) < 0)
				return -1;
		} else if (json_is_false(extra)) {
			return fail(e, sub, "%s", "is not a known field");
		} else if (json_is_object(extra) && validate(extra, item, sub, e) < 0) {
			return -1;
		}
	}
	return 0;
}

static int check_alternatives(const json_t *schema, const json_t *v, const char *path,
			      struct error *e)
{
	const json_t *any = json_object_get(schema, "anyOf");
	const json_t *one = json_object_get(schema, "oneOf");
	size_t i;
	const json_t *alt;
	struct error first;
	if (any) {
		json_array_foreach(any, i, alt) {
			struct error ignore;
			if (validate(alt, v, path, i ? &ignore : &first) == 0)
				return 0;
		}
		*e = first;
		return -1;
	}
	if (one) {
		size_t matched = 0;
		json_array_foreach(one, i, alt) {
			struct error ignore;
			if (validate(alt, v, path, matched || i ? &ignore : &first) == 0)
				matched++;
		}
		if (matched == 1)
			return 0;
		if (matched == 0) {
			*e = first;
			return -1;
		}
		return fail(e, path, "%s", "matches more than one of the allowed forms");
	}
	return 0;
}

static int validate(const json_t *schema, const json_t *v, const char *path, struct error *e)
{
	if (json_is_true(schema))
		return 0;
	if (json_is_false(schema))
		return fail(e, path, "%s", "is not allowed");
	if (check_type(schema, v, path, e) || check_enum(schema, v, path, e) ||
	    check_number(schema, v, path, e) || check_string(schema, v, path, e) ||
	    check_array(schema, v, path, e) || check_object(schema, v, path, e) ||
	    check_alternatives(schema, v, path, e))
		return -1;
	return 0;
}

int schema_validate(const json_t *schema, const json_t *value, const char *root,
		    struct error *e)
{
	return validate(schema, value, root, e);
}

/* ---- checking the schemas themselves ---- */

static const char *const known_types[] = {
	"object", "array", "string", "integer", "number", "boolean", "null",
};

static bool known_type(const json_t *t)
{
	if (!json_is_string(t))
		return false;
	for (size_t i = 0; i < sizeof known_types / sizeof *known_types; i++)
		if (strcmp(json_string_value(t), known_types[i]) == 0)
			return true;
	return false;
}

static int check_schema(const json_t *s, const char *path, struct error *e)
{
	if (json_is_boolean(s))
		return 0;
	if (!json_is_object(s))
		return error_set(e, "%s: a schema must be an object or a boolean", path);
	const char *key;
	const json_t *v;
	char sub[PATH_MAX_LEN];
	json_object_foreach((json_t *)s, key, v) {
		snprintf(sub, sizeof sub, "%s.%s", path, key);
		if (!strcmp(key, "description") || !strcmp(key, "title") || !strcmp(key, "default") ||
		    !strcmp(key, "examples") || !strcmp(key, "const") || !strcmp(key, "$schema"))
			continue;
		if (!strcmp(key, "type")) {
			bool ok = known_type(v);
			size_t i;
			const json_t *t;
			if (json_is_array(v)) {
				ok = json_array_size(v) > 0;
				json_array_foreach(v, i, t)
					ok = ok && known_type(t);
			}
			if (!ok)
				return error_set(e, "%s: unknown type", sub);
		} else if (!strcmp(key, "properties")) {
			if (!json_is_object(v))
				return error_set(e, "%s: must be an object", sub);
			const char *pk;
			const json_t *ps;
			json_object_foreach((json_t *)v, pk, ps) {
				char psub[2 * PATH_MAX_LEN];
				snprintf(psub, sizeof psub, "%s.%s", sub, pk);
				if (check_schema(ps, psub, e) < 0)
					return -1;
			}
		} else if (!strcmp(key, "required")) {
			size_t i;
			const json_t *r;
			if (!json_is_array(v))
				return error_set(e, "%s: must be an array", sub);
			json_array_foreach(v, i, r)
				if (!json_is_string(r))
					return error_set(e, "%s: must hold names", sub);
		} else if (!strcmp(key, "additionalProperties") || !strcmp(key, "items")) {
			if (check_schema(v, sub, e) < 0)
				return -1;
		} else if (!strcmp(key, "anyOf") || !strcmp(key, "oneOf")) {
			size_t i;
			const json_t *alt;
			if (!json_is_array(v) || json_array_size(v) == 0)
				return error_set(e, "%s: must be a non-empty array", sub);
			json_array_foreach(v, i, alt)
				if (check_schema(alt, sub, e) < 0)
					return -1;
		} else if (!strcmp(key, "enum")) {
			if (!json_is_array(v) || json_array_size(v) == 0)
				return error_set(e, "%s: must be a non-empty array", sub);
		} else if (!strcmp(key, "minimum") || !strcmp(key, "maximum") ||
			   !strcmp(key, "exclusiveMinimum") || !strcmp(key, "exclusiveMaximum")) {
			if (!json_is_number(v))
				return error_set(e, "%s: must be a number", sub);
		} else if (!strcmp(key, "minItems") || !strcmp(key, "maxItems") ||
			   !strcmp(key, "minLength") || !strcmp(key, "maxLength")) {
			if (!json_is_integer(v) || json_integer_value(v) < 0)
				return error_set(e, "%s: must be a count", sub);
		} else if (!strcmp(key, "uniqueItems")) {
			if (!json_is_boolean(v))
				return error_set(e, "%s: must be a boolean", sub);
		} else {
			return error_set(e, "%s: keyword not supported by schema.c", sub);
		}
	}
	return 0;
}

int schema_check_schema(const json_t *schema, struct error *e)
{
	return check_schema(schema, "schema", e);
}
