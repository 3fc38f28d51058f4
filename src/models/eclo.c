/*
 * The ECLO preset; see eclo.h.
 */
#include "models/eclo.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

struct field {
	const char *name;
	const char *label;          /* the TAAS column it comes from */
	bool integer;               /* else a text category */
	int min, max;               /* integer range */
	const char *description;
};

static const struct field fields[ECLO_FIELDS] = {
	{ "weather", "기상상태", false, 0, 0, "Weather: 맑음, 흐림, 비, 눈, 안개, 기타." },
	{ "road_surface", "노면상태", false, 0, 0, "Road surface: 건조, 젖음/습기, 적설, ..." },
	{ "road_type", "도로형태", false, 0, 0,
	  "Road type, as \"kind - detail\": \"교차로 - 교차로안\", \"단일로 - 기타\", ..." },
	{ "accident_type", "사고유형", false, 0, 0, "Accident type: 차대사람, 차대차, 차량단독." },
	{ "time_period", "시간대", false, 0, 0,
	  "Time period: 심야 (22-5시), 출근시간대 (7-9시), 퇴근시간대 (17-19시), 일반시간대 "
	  "(the rest). Optional: derived from accident_hour when absent." },
	{ "district", "시군구", false, 0, 0,
	  "District, as the full address down to the dong: \"대구광역시 수성구 상동\"." },
	{ "day_of_week", "요일", false, 0, 0, "Day of the week: 월요일 ... 일요일." },
	{ "accident_hour", "사고시", true, 0, 23, "Hour of the accident, 0-23." },
	{ "accident_year", "사고연", true, 1970, 2100, "Year of the accident." },
	{ "accident_month", "사고월", true, 1, 12, "Month of the accident, 1-12." },
	{ "accident_day", "사고일", true, 1, 31, "Day of the month, 1-31." },
};

enum { F_TIME_PERIOD = 4, F_HOUR = 7, F_YEAR = 8, F_MONTH = 9, F_DAY = 10 };

static const struct {
	double below;
	const char *label, *detail;
} levels[] = {
	{ ECLO_GENERAL, "경미",
	  "경미한 사고 수준입니다. 부상 가능성이 낮고, 대부분 경상 또는 부상신고 수준으로 "
	  "예상됩니다." },
	{ ECLO_SERIOUS, "일반",
	  "일반적인 사고 수준입니다. 경상 가능성이 있으며, 치료가 필요할 수 있습니다." },
	{ ECLO_GRAVE, "심각",
	  "심각한 사고 수준입니다. 중상 가능성이 있으며, 장기 치료나 입원이 필요할 수 "
	  "있습니다." },
	{ INFINITY, "매우 심각",
	  "매우 심각한 사고 수준입니다. 사망에 준하는 피해 가능성이 있으며, 즉각적인 응급 "
	  "처치가 필요합니다." },
};

struct eclo {
	struct model *model;
	char *version;
	const struct feature *feature[ECLO_FIELDS];
};

void eclo_free(struct eclo *p)
{
	if (!p)
		return;
	model_free(p->model);
	free(p->version);
	free(p);
}

struct eclo *eclo_new(struct model *m, const char *version, struct error *e)
{
	const struct feature_set *fs = model_features(m);
	json_t *info = model_info(m);
	const char *task = json_string_value(json_object_get(info, "task"));
	bool regression = task && strcmp(task, "regression") == 0;
	json_decref(info);
	if (!regression) {
		error_set(e, "an ECLO model predicts a number (regression)");
		return NULL;
	}
	struct eclo *p = xcalloc(1, sizeof *p);
	for (size_t i = 0; i < ECLO_FIELDS; i++) {
		for (size_t k = 0; k < fs->n; k++)
			if (strcmp(fs->f[k].name, fields[i].name) == 0)
				p->feature[i] = &fs->f[k];
		const struct feature *f = p->feature[i];
		enum feature_encoding want = fields[i].integer ? FEATURE_NUMBER : FEATURE_CATEGORY;
		if (!f || f->enc != want) {
			error_set(e, "the model has no %s feature %s", fields[i].integer ? "number"
						 : "category", fields[i].name);
			free(p);
			return NULL;
		}
	}
	if (fs->n != ECLO_FIELDS) {
		error_set(e, "the model reads %zu features; an ECLO model reads the %d fields",
			  fs->n, ECLO_FIELDS);
		free(p);
		return NULL;
	}
	p->model = m;
	p->version = xstrdup(version);
	return p;
}

const char *eclo_version(const struct eclo *p)
{
	return p->version;
}

struct model *eclo_model(const struct eclo *p)
{
	return p->model;
}

const char *eclo_time_period(int hour)
{
	if (hour >= 7 && hour <= 9)
		return "출근시간대";
	if (hour >= 17 && hour <= 19)
		return "퇴근시간대";
	if (hour >= 22 || hour <= 5)
		return "심야";
	return "일반시간대";
}

void eclo_interpret(double eclo, const char **label, const char **detail)
{
	size_t i = 0;
	while (i + 1 < sizeof levels / sizeof levels[0] && !(eclo < levels[i].below))
		i++;
	*label = levels[i].label;
	*detail = levels[i].detail;
}

/* The allowed values of text field i, sorted (a new array). */
static json_t *allowed(const struct eclo *p, size_t i)
{
	const struct feature *f = p->feature[i];
	json_t *a = json_array();
	for (size_t k = 0; k < f->ncategories; k++)
		json_array_append_new(a, json_string(f->sorted[k]));
	return a;
}

json_t *eclo_schema(const struct eclo *p)
{
	json_t *list = json_array();
	for (size_t i = 0; i < ECLO_FIELDS; i++) {
		const struct field *fd = &fields[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s}", "name", fd->name, "label",
				      fd->label, "type", fd->integer ? "integer" : "string",
				      "required", i != F_TIME_PERIOD, "description", fd->description);
		if (fd->integer) {
			json_object_set_new(o, "minimum", json_integer(fd->min));
			json_object_set_new(o, "maximum", json_integer(fd->max));
		} else {
			json_object_set_new(o, "allowed", allowed(p, i));
		}
		json_array_append_new(list, o);
	}
	json_t *levels_json = json_array();
	double from = 0;
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		json_array_append_new(levels_json,
				      json_pack("{s:s, s:f, s:o, s:s}", "label", levels[i].label,
						"from", from, "to", isfinite(levels[i].below)
						? json_real(levels[i].below) : json_null(),
						"detail", levels[i].detail));
		from = levels[i].below;
	}
	return json_pack("{s:o, s:o, s:s, s:s}", "fields", list, "interpretation", levels_json,
			 "model_version", p->version,
			 "formula", "ECLO = 10 x 사망자수 + 5 x 중상자수 + 3 x 경상자수 + 1 x 부상신고자수");
}

static void problem(json_t *problems, const struct field *fd, json_t *allowed_values,
		    const char *fmt, const char *value)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, fd->name, fd->label, value);
	json_t *o = json_pack("{s:s, s:s}", "field", fd->name, "message", msg);
	if (allowed_values)
		json_object_set_new(o, "allowed", allowed_values);
	json_array_append_new(problems, o);
}

/* An integer field's value: a JSON integer, a real without a fraction, or
 * the text of one (as seed 003's clients sent them).  false when not. */
static bool integer_value(const json_t *v, long long *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double x = json_real_value(v);
		if (x != floor(x) || fabs(x) > 1e9)
			return false;
		*out = (long long)x;
		return true;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		char *end;
		size_t n = json_string_length(v), i = s[0] == '-';
		if (n <= i || n > 12)
			return false;
		for (; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
		*out = strtoll(s, &end, 10);
		return *end == '\0';
	}
	return false;
}

static bool is_category(const struct feature *f, const char *s)
{
	size_t lo = 0, hi = f->ncategories;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(f->sorted[mid], s);
		if (c == 0)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int days_in_month(long long y, long long m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

int eclo_check(const struct eclo *p, const json_t *accident, json_t **row, json_t **problems)
{
	*row = NULL;
	*problems = json_array();
	if (!json_is_object(accident)) {
		json_array_append_new(*problems, json_pack("{s:s, s:s}", "field", "",
							    "message", "an accident is an object of "
							    "the eleven fields"));
		return -1;
	}
	json_t *out = json_object();
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)accident, key, v) {
		size_t i = 0;
		while (i < ECLO_FIELDS && strcmp(fields[i].name, key) != 0)
			i++;
		if (i == ECLO_FIELDS) {
			char msg[400];
			snprintf(msg, sizeof msg, "unknown field \"%.100s\"; the fields are weather, "
				 "road_surface, road_type, accident_type, time_period, district, "
				 "day_of_week, accident_hour, accident_year, accident_month, "
				 "accident_day", key);
			json_array_append_new(*problems, json_pack("{s:s, s:s}", "field", key,
								    "message", msg));
		}
	}
	long long num[ECLO_FIELDS] = { 0 };
	bool ok[ECLO_FIELDS] = { false };
	for (size_t i = 0; i < ECLO_FIELDS; i++) {
		const struct field *fd = &fields[i];
		v = json_object_get(accident, fd->name);
		if (!v || json_is_null(v)) {
			if (i != F_TIME_PERIOD)
				problem(*problems, fd, NULL, "%s (%s) is required%s", "");
			continue;
		}
		if (fd->integer) {
			char text[64];
			if (!integer_value(v, &num[i])) {
				problem(*problems, fd, NULL, "%s (%s) must be a whole number%s", "");
			} else if (num[i] < fd->min || num[i] > fd->max) {
				snprintf(text, sizeof text, "%lld is not from %d to %d", num[i], fd->min,
					 fd->max);
				problem(*problems, fd, NULL, "%s (%s): %s", text);
			} else {
				ok[i] = true;
				json_object_set_new(out, fd->name, json_integer(num[i]));
			}
			continue;
		}
		if (!json_is_string(v)) {
			problem(*problems, fd, allowed(p, i), "%s (%s) must be text%s", "");
		} else if (strlen(json_string_value(v)) != json_string_length(v) ||
			   !is_category(p->feature[i], json_string_value(v))) {
			char value[200];
			snprintf(value, sizeof value, "%.150s", json_string_value(v));
			problem(*problems, fd, allowed(p, i),
				"%s (%s): \"%s\" is not one of the values the model knows", value);
		} else {
			ok[i] = true;
			json_object_set(out, fd->name, (json_t *)v);
		}
	}
	if (ok[F_YEAR] && ok[F_MONTH] && ok[F_DAY] &&
	    num[F_DAY] > days_in_month(num[F_YEAR], num[F_MONTH])) {
		char text[80];
		snprintf(text, sizeof text, "%04lld-%02lld-%02lld is not a date", num[F_YEAR],
			 num[F_MONTH], num[F_DAY]);
		problem(*problems, &fields[F_DAY], NULL, "%s (%s): %s", text);
	}
	const json_t *tp = json_object_get(accident, "time_period");
	if (ok[F_HOUR] && (!tp || json_is_null(tp)))
		json_object_set_new(out, "time_period",
				    json_string(eclo_time_period((int)num[F_HOUR])));
	if (json_array_size(*problems)) {
		json_decref(out);
		return -1;
	}
	json_decref(*problems);
	*problems = NULL;
	*row = out;
	return 0;
}

/* "field: message; field: message" of a problem list, into out. */
static void problems_text(const json_t *problems, char *out, size_t cap)
{
	size_t i, at = 0;
	const json_t *pr;
	out[0] = 0;
	json_array_foreach(problems, i, pr) {
		int n = snprintf(out + at, cap - at, "%s%s", i ? "; " : "",
				 json_string_value(json_object_get(pr, "message")));
		if (n < 0 || (size_t)n >= cap - at)
			break;
		at += (size_t)n;
	}
}

int eclo_predict_items(const struct eclo *p, const json_t *accidents, size_t from, size_t to,
		       json_t *out, struct error *e)
{
	size_t n = to - from;
	json_t *rows = json_array();
	char **errors = xcalloc(n + 1, sizeof *errors);
	for (size_t i = 0; i < n; i++) {
		json_t *row, *problems;
		if (eclo_check(p, json_array_get(accidents, from + i), &row, &problems) < 0) {
			char text[1024];
			problems_text(problems, text, sizeof text);
			errors[i] = xstrdup(text);
			json_decref(problems);
			row = json_null();
		}
		json_array_append_new(rows, row);
	}
	/* Rows that failed their check are null here: the model says so too,
	 * but the check's message is the one to keep. */
	char **model_errors = xcalloc(n + 1, sizeof *model_errors);
	json_t *pred = model_predict_each(p->model, rows, model_errors, e);
	for (size_t i = 0; pred && i < n; i++) {
		const char *err = errors[i] ? errors[i] : model_errors[i];
		json_t *item = json_pack("{s:I}", "index", (json_int_t)(from + i + 1));
		double v = json_number_value(json_array_get(pred, i));
		if (err || !json_is_number(json_array_get(pred, i))) {
			json_object_set_new(item, "eclo", json_null());
			json_object_set_new(item, "interpretation", json_null());
			json_object_set_new(item, "detail", json_null());
			json_object_set_new(item, "error", json_string(err ? err : "no prediction"));
		} else {
			const char *label, *detail;
			eclo_interpret(v, &label, &detail);
			json_object_set_new(item, "eclo", json_real(v));
			json_object_set_new(item, "interpretation", json_string(label));
			json_object_set_new(item, "detail", json_string(detail));
			json_object_set_new(item, "error", json_null());
		}
		json_array_append_new(out, item);
	}
	for (size_t i = 0; i < n; i++) {
		free(errors[i]);
		free(model_errors[i]);
	}
	free(errors);
	free(model_errors);
	json_decref(rows);
	if (!pred)
		return -1;
	json_decref(pred);
	return 0;
}
