/*
 * The ECLO preset (models/eclo.h) with a small model trained here on
 * hand-built columns of the eleven fields: the interpretation thresholds
 * (exactly at 3, 5 and 10; negative, infinite and NaN values), the time
 * period of every hour, the accident check (each field missing, null, of
 * the wrong type, out of range, an unknown category; whole reals and digit
 * strings as integers; February 29th in leap and common years, impossible
 * dates; unknown fields; every problem listed at once; time_period derived
 * from the hour when absent), the schema, batch items (indexes, per-item
 * errors, order), and the models eclo_new refuses.  Then the preset loader
 * (registry/preset.h): the built-in model, "off", a missing file, a file
 * that is not a model, a model that is not an ECLO model, and a model file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/sha256.h"
#include "models/eclo.h"
#include "models/model.h"
#include "registry/preset.h"

#include "testutil.h"

#define N 240

/* ---- the training columns ---------------------------------------------- */

static const char *const weathers[] = { "맑음", "흐림", "비", "눈" };
static const char *const surfaces[] = { "건조", "젖음/습기", "적설" };
static const char *const road_types[] = { "교차로 - 교차로안", "단일로 - 기타", "단일로 - 터널" };
static const char *const accident_types[] = { "차대사람", "차대차", "차량단독" };
static const char *const periods[] = { "심야", "출근시간대", "퇴근시간대", "일반시간대" };
static const char *const districts[] = { "대구광역시 수성구 상동", "대구광역시 중구 동인동1가" };
static const char *const days[] = { "월요일", "화요일", "수요일", "목요일", "금요일", "토요일",
				    "일요일" };
static const double type_effect[] = { 9, 4, 1.5 };   /* by accident type */

struct text_spec {
	const char *name;
	const char *const *values;
	size_t nvalues;
};

static const struct text_spec texts[7] = {
	{ "weather", weathers, 4 },
	{ "road_surface", surfaces, 3 },
	{ "road_type", road_types, 3 },
	{ "accident_type", accident_types, 3 },
	{ "time_period", periods, 4 },
	{ "district", districts, 2 },
	{ "day_of_week", days, 7 },
};

static const char *const number_names[4] = { "accident_hour", "accident_year", "accident_month",
					     "accident_day" };

static uint64_t rng = 12345;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void text_init(struct frame_column *c, const char *name, const char *const *values,
		      size_t nvalues)
{
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	c->kind = COLUMN_TEXT;
	c->n = N;
	c->valid = xmalloc(N);
	c->code = xmalloc(N * sizeof *c->code);
	c->ndict = nvalues;
	c->dict = xmalloc(nvalues * sizeof *c->dict);
	c->dict_len = xmalloc(nvalues * sizeof *c->dict_len);
	for (size_t k = 0; k < nvalues; k++) {
		c->dict[k] = xstrdup(values[k]);
		c->dict_len[k] = (uint32_t)strlen(values[k]);
	}
}

static void number_init(struct frame_column *c, const char *name, enum column_kind kind)
{
	memset(c, 0, sizeof *c);
	c->name = xstrdup(name);
	c->kind = kind;
	c->n = N;
	c->valid = xmalloc(N);
	c->num = xmalloc(N * sizeof *c->num);
	if (kind != COLUMN_REAL)
		c->i64 = xmalloc(N * sizeof *c->i64);
}

static void number_set(struct frame_column *c, size_t r, double v)
{
	c->valid[r] = 1;
	c->num[r] = v;
	if (c->i64)
		c->i64[r] = (int64_t)v;
}

/*
 * The eleven ECLO columns (text[0..7), then the four numbers), the ECLO
 * target, and two extras: a boolean target (for a classification model)
 * and a number "speed" (a twelfth feature), plus accident_hour as text.
 */
struct data {
	struct frame_column text[7], num[4];
	struct frame_column eclo, serious, speed, hour_text;
};

static void make(struct data *d)
{
	static const char *const hours_text[24] = {
		"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11",
		"12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23",
	};
	for (size_t i = 0; i < 7; i++)
		text_init(&d->text[i], texts[i].name, texts[i].values, texts[i].nvalues);
	for (size_t i = 0; i < 4; i++)
		number_init(&d->num[i], number_names[i], COLUMN_INT);
	number_init(&d->eclo, "eclo", COLUMN_REAL);
	number_init(&d->serious, "serious", COLUMN_BOOL);
	number_init(&d->speed, "speed", COLUMN_REAL);
	text_init(&d->hour_text, "accident_hour", hours_text, 24);
	for (size_t r = 0; r < N; r++) {
		for (size_t i = 0; i < 7; i++) {
			if (i == 4)
				continue;   /* the time period follows from the hour */
			d->text[i].code[r] = (uint32_t)(uniform() * (double)texts[i].nvalues);
			d->text[i].valid[r] = 1;
		}
		int hour = (int)(r % 24);
		const char *period = eclo_time_period(hour);
		for (uint32_t k = 0; k < 4; k++)
			if (strcmp(periods[k], period) == 0)
				d->text[4].code[r] = k;
		d->text[4].valid[r] = 1;
		number_set(&d->num[0], r, hour);
		number_set(&d->num[1], r, 2019 + (double)(r % 4));
		number_set(&d->num[2], r, 1 + (double)(r % 12));
		number_set(&d->num[3], r, 1 + (double)(r % 28));
		d->hour_text.code[r] = (uint32_t)hour;
		d->hour_text.valid[r] = 1;
		double v = type_effect[d->text[3].code[r]] + (hour < 6 ? 1 : 0) + uniform() * 0.5;
		number_set(&d->eclo, r, v);
		number_set(&d->serious, r, v > 5);
		number_set(&d->speed, r, uniform() * 100);
	}
}

static void data_free(struct data *d)
{
	for (size_t i = 0; i < 7; i++)
		frame_column_free(&d->text[i]);
	for (size_t i = 0; i < 4; i++)
		frame_column_free(&d->num[i]);
	frame_column_free(&d->eclo);
	frame_column_free(&d->serious);
	frame_column_free(&d->speed);
	frame_column_free(&d->hour_text);
}

static struct model *train(const struct frame_column *const *f, size_t n,
			   const struct frame_column *target, enum xgb_task task)
{
	struct model_spec s = { .task = task, .split = "random", .fraction = 0.2, .seed = 3 };
	xgb_params_default(&s.params, task);
	s.params.rounds = 30;
	s.params.threads = 1;
	struct error e = { { 0 } };
	struct model *m = model_train(f, n, target, &s, NULL, NULL, &e);
	if (!m)
		fail_msg("model_train: %s", e.msg);
	return m;
}

/* The eleven columns in field order into f; returns 11. */
static size_t eleven(struct data *d, const struct frame_column **f)
{
	for (size_t i = 0; i < 7; i++)
		f[i] = &d->text[i];
	for (size_t i = 0; i < 4; i++)
		f[7 + i] = &d->num[i];
	return 11;
}

/* ---- fixture: one ECLO model for the whole group ----------------------- */

struct fx {
	struct data d;
	struct eclo *p;
	char dir[64];
};

static struct fx *fx;

static int group_setup(void **state)
{
	(void)state;
	fx = xcalloc(1, sizeof *fx);
	make(&fx->d);
	const struct frame_column *f[12];
	size_t n = eleven(&fx->d, f);
	struct model *m = train(f, n, &fx->d.eclo, XGB_REGRESSION);
	struct error e = { { 0 } };
	fx->p = eclo_new(m, "test", &e);
	if (!fx->p) {
		print_error("eclo_new: %s\n", e.msg);
		model_free(m);
		return -1;
	}
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sheaf-test-eclo.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	eclo_free(fx->p);
	data_free(&fx->d);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* A valid accident, time_period left out. */
static json_t *accident(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:i}",
			 "weather", "맑음", "road_surface", "건조", "road_type", "교차로 - 교차로안",
			 "accident_type", "차대사람", "district", "대구광역시 수성구 상동",
			 "day_of_week", "월요일", "accident_hour", 14, "accident_year", 2024,
			 "accident_month", 3, "accident_day", 15);
}

/* eclo_check of a, which must be accepted; returns the row (caller decrefs). */
static json_t *check_ok(const json_t *a)
{
	json_t *row = (json_t *)a, *problems = (json_t *)a;
	int rc = eclo_check(fx->p, a, &row, &problems);
	if (rc != 0) {
		char *text = json_dumps(problems, JSON_ENSURE_ASCII);
		print_error("eclo_check refused: %s\n", text);
		free(text);
		json_decref(problems);
		fail();
	}
	assert_null(problems);
	assert_non_null(row);
	return row;
}

/* eclo_check of a, which must be refused with exactly nfields problems on
 * the fields named (in any order); returns the problems (caller decrefs). */
static json_t *check_refused(const json_t *a, size_t nfields, ...)
{
	json_t *row = (json_t *)a, *problems = NULL;
	assert_int_equal(eclo_check(fx->p, a, &row, &problems), -1);
	assert_null(row);
	assert_true(json_is_array(problems));
	if (json_array_size(problems) != nfields) {
		char *text = json_dumps(problems, JSON_ENSURE_ASCII);
		print_error("expected %zu problems, got: %s\n", nfields, text);
		free(text);
		json_decref(problems);
		fail();
	}
	va_list ap;
	va_start(ap, nfields);
	for (size_t i = 0; i < nfields; i++) {
		const char *field = va_arg(ap, const char *);
		bool found = false;
		size_t k;
		json_t *pr;
		json_array_foreach(problems, k, pr) {
			assert_true(json_is_string(json_object_get(pr, "message")));
			assert_true(json_string_length(json_object_get(pr, "message")) > 0);
			if (strcmp(json_string_value(json_object_get(pr, "field")), field) == 0)
				found = true;
		}
		if (!found) {
			char *text = json_dumps(problems, JSON_ENSURE_ASCII);
			print_error("no problem with field %s in %s\n", field, text);
			free(text);
			va_end(ap);
			json_decref(problems);
			fail();
		}
	}
	va_end(ap);
	return problems;
}

/* The message of the problem of field (which must be there). */
static const char *message_of(const json_t *problems, const char *field)
{
	size_t k;
	json_t *pr;
	json_array_foreach(problems, k, pr)
		if (strcmp(json_string_value(json_object_get(pr, "field")), field) == 0)
			return json_string_value(json_object_get(pr, "message"));
	fail_msg("no problem for %s", field);
	return NULL;
}

static const json_t *problem_of(const json_t *problems, const char *field)
{
	size_t k;
	json_t *pr;
	json_array_foreach(problems, k, pr)
		if (strcmp(json_string_value(json_object_get(pr, "field")), field) == 0)
			return pr;
	fail_msg("no problem for %s", field);
	return NULL;
}

/* One field of a valid accident replaced by v (taken; NULL removes it). */
static json_t *with(const char *field, json_t *v)
{
	json_t *a = accident();
	if (v)
		json_object_set_new(a, field, v);
	else
		json_object_del(a, field);
	return a;
}

static void refused_on(const char *field, json_t *v, const char *want_in_message)
{
	json_t *a = with(field, v);
	json_t *problems = check_refused(a, 1, field);
	const char *msg = message_of(problems, field);
	if (want_in_message && !strstr(msg, want_in_message))
		fail_msg("%s: message \"%s\" lacks \"%s\"", field, msg, want_in_message);
	json_decref(problems);
	json_decref(a);
}

/* ---- interpretation and time periods ----------------------------------- */

static void expect_label(double v, const char *want)
{
	const char *label = NULL, *detail = NULL;
	eclo_interpret(v, &label, &detail);
	assert_non_null(label);
	assert_non_null(detail);
	if (strcmp(label, want) != 0)
		fail_msg("eclo_interpret(%.17g) = %s, expected %s", v, label, want);
	/* Each detail sentence opens with its label ("경미한 사고", "매우 심각한 ..."). */
	assert_int_equal(strncmp(detail, label, strlen(label)), 0);
}

static void test_interpret_thresholds(void **state)
{
	(void)state;
	assert_true(ECLO_GENERAL == 3.0 && ECLO_SERIOUS == 5.0 && ECLO_GRAVE == 10.0);
	expect_label(0, "경미");
	expect_label(1, "경미");
	expect_label(2.999999, "경미");
	expect_label(nextafter(3, 0), "경미");
	expect_label(3, "일반");                 /* a boundary starts the next level */
	expect_label(nextafter(3, 10), "일반");
	expect_label(4.5, "일반");
	expect_label(nextafter(5, 0), "일반");
	expect_label(5, "심각");
	expect_label(7, "심각");
	expect_label(nextafter(10, 0), "심각");
	expect_label(10, "매우 심각");
	expect_label(10.0001, "매우 심각");
	expect_label(1e300, "매우 심각");
	expect_label(INFINITY, "매우 심각");
	/* Below zero (a regression may undershoot): the mildest. */
	expect_label(-0.0, "경미");
	expect_label(-0.5, "경미");
	expect_label(-1e300, "경미");
	expect_label(-INFINITY, "경미");

	/* The four details differ. */
	const char *l[4], *dt[4];
	eclo_interpret(1, &l[0], &dt[0]);
	eclo_interpret(4, &l[1], &dt[1]);
	eclo_interpret(6, &l[2], &dt[2]);
	eclo_interpret(11, &l[3], &dt[3]);
	for (int i = 0; i < 4; i++)
		for (int k = i + 1; k < 4; k++) {
			assert_string_not_equal(l[i], l[k]);
			assert_string_not_equal(dt[i], dt[k]);
		}
}

static void test_interpret_nan(void **state)
{
	(void)state;
	/* NaN is no ECLO value, but the call must still give one of the four
	 * labels with its own detail (never NULL, never a mismatched pair). */
	const char *label = NULL, *detail = NULL;
	eclo_interpret(NAN, &label, &detail);
	assert_non_null(label);
	assert_non_null(detail);
	static const char *const labels[] = { "경미", "일반", "심각", "매우 심각" };
	bool known = false;
	for (int i = 0; i < 4; i++)
		known |= strcmp(label, labels[i]) == 0;
	assert_true(known);
	assert_int_equal(strncmp(detail, label, strlen(label)), 0);
	eclo_interpret(-NAN, &label, &detail);
	assert_non_null(label);
	assert_int_equal(strncmp(detail, label, strlen(label)), 0);
}

static void test_time_period_every_hour(void **state)
{
	(void)state;
	static const char *const want[24] = {
		"심야", "심야", "심야", "심야", "심야", "심야",               /* 0-5 */
		"일반시간대",                                                 /* 6 */
		"출근시간대", "출근시간대", "출근시간대",                     /* 7-9 */
		"일반시간대", "일반시간대", "일반시간대", "일반시간대",       /* 10-13 */
		"일반시간대", "일반시간대", "일반시간대",                     /* 14-16 */
		"퇴근시간대", "퇴근시간대", "퇴근시간대",                     /* 17-19 */
		"일반시간대", "일반시간대",                                   /* 20-21 */
		"심야", "심야",                                               /* 22-23 */
	};
	for (int h = 0; h < 24; h++) {
		const char *got = eclo_time_period(h);
		assert_non_null(got);
		if (strcmp(got, want[h]) != 0)
			fail_msg("eclo_time_period(%d) = %s, expected %s", h, got, want[h]);
	}
}

/* ---- the check ------------------------------------------------------------ */

static void test_check_valid(void **state)
{
	(void)state;
	json_t *a = accident();
	json_object_set_new(a, "time_period", json_string("일반시간대"));
	json_t *row = check_ok(a);
	/* The row is the accident, field for field. */
	assert_int_equal(json_object_size(row), ECLO_FIELDS);
	assert_true(json_equal(row, a));
	assert_true(json_is_integer(json_object_get(row, "accident_hour")));
	json_decref(row);
	json_decref(a);
}

static void test_check_time_period_derived(void **state)
{
	(void)state;
	static const struct {
		int hour;
		const char *period;
	} cases[] = { { 8, "출근시간대" }, { 18, "퇴근시간대" }, { 23, "심야" }, { 3, "심야" },
		      { 12, "일반시간대" }, { 6, "일반시간대" } };
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *a = with("accident_hour", json_integer(cases[i].hour));
		json_t *row = check_ok(a);
		assert_int_equal(json_object_size(row), ECLO_FIELDS);
		assert_string_equal(json_string_value(json_object_get(row, "time_period")),
				    cases[i].period);
		json_decref(row);
		json_decref(a);
	}
	/* Given, it is kept as given (even if the hour says otherwise). */
	json_t *a = with("time_period", json_string("심야"));
	json_t *row = check_ok(a);
	assert_string_equal(json_string_value(json_object_get(row, "time_period")), "심야");
	json_decref(row);
	json_decref(a);
	/* No hour: nothing to derive it from, and the hour is the problem. */
	a = with("accident_hour", NULL);
	json_t *problems = check_refused(a, 1, "accident_hour");
	json_decref(problems);
	json_decref(a);
	/* A bad hour: the hour is the only problem (no period is made up). */
	a = with("accident_hour", json_integer(30));
	problems = check_refused(a, 1, "accident_hour");
	json_decref(problems);
	json_decref(a);
}

/* time_period: null is "not given", as null is "missing" for the required
 * fields: the period comes from the hour. */
static void test_check_time_period_null_derived(void **state)
{
	(void)state;
	json_t *a = with("time_period", json_null());
	json_t *row = check_ok(a);
	const char *period = json_string_value(json_object_get(row, "time_period"));
	char got[64];
	snprintf(got, sizeof got, "%s", period ? period : "(absent)");
	size_t size = json_object_size(row);
	json_decref(row);
	json_decref(a);
	if (strcmp(got, "일반시간대") != 0)
		fail_msg("time_period null, accident_hour 14: the row's time_period is %s, "
			 "expected 일반시간대 (derived as when absent)", got);
	assert_int_equal(size, ECLO_FIELDS);
}

static void test_check_missing_and_null(void **state)
{
	(void)state;
	static const char *const required[] = {
		"weather", "road_surface", "road_type", "accident_type", "district", "day_of_week",
		"accident_hour", "accident_year", "accident_month", "accident_day",
	};
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
		refused_on(required[i], NULL, "required");
		refused_on(required[i], json_null(), "required");
	}
	/* The message names the field and its Korean label. */
	json_t *a = with("weather", NULL);
	json_t *problems = check_refused(a, 1, "weather");
	assert_non_null(strstr(message_of(problems, "weather"), "기상상태"));
	assert_null(json_object_get(problem_of(problems, "weather"), "allowed"));
	json_decref(problems);
	json_decref(a);
	/* Everything missing: ten problems (time_period is optional). */
	json_t *empty = json_object();
	problems = check_refused(empty, 10, "weather", "road_surface", "road_type",
				 "accident_type", "district", "day_of_week", "accident_hour",
				 "accident_year", "accident_month", "accident_day");
	json_decref(problems);
	json_decref(empty);
}

static void test_check_wrong_types(void **state)
{
	(void)state;
	static const char *const text_fields[] = { "weather", "road_surface", "road_type",
						   "accident_type", "time_period", "district",
						   "day_of_week" };
	for (size_t i = 0; i < 7; i++) {
		refused_on(text_fields[i], json_integer(1), "text");
		refused_on(text_fields[i], json_true(), "text");
		refused_on(text_fields[i], json_pack("[s]", "맑음"), "text");
		refused_on(text_fields[i], json_pack("{s:s}", "v", "맑음"), "text");
	}
	/* Text given the wrong way lists the allowed values. */
	json_t *a = with("accident_type", json_real(1.5));
	json_t *problems = check_refused(a, 1, "accident_type");
	const json_t *allowed = json_object_get(problem_of(problems, "accident_type"), "allowed");
	assert_int_equal(json_array_size(allowed), 3);
	json_decref(problems);
	json_decref(a);

	for (size_t i = 0; i < 4; i++) {
		const char *f = number_names[i];
		refused_on(f, json_real(7.5), "whole number");
		refused_on(f, json_real(1e12), "whole number");
		refused_on(f, json_true(), "whole number");
		refused_on(f, json_false(), "whole number");
		refused_on(f, json_string("seven"), "whole number");
		refused_on(f, json_string(""), "whole number");
		refused_on(f, json_string("7.0"), "whole number");
		refused_on(f, json_string("7a"), "whole number");
		refused_on(f, json_string("0x7"), "whole number");
		refused_on(f, json_string("1234567890123"), "whole number");
		refused_on(f, json_pack("[i]", 7), "whole number");
		refused_on(f, json_object(), "whole number");
	}
	/* Integers never come with an allowed list. */
	a = with("accident_day", json_string("x"));
	problems = check_refused(a, 1, "accident_day");
	assert_null(json_object_get(problem_of(problems, "accident_day"), "allowed"));
	json_decref(problems);
	json_decref(a);
}

static void test_check_integer_forms(void **state)
{
	(void)state;
	/* A real without a fraction, and the digits of an integer, are integers. */
	json_t *a = accident();
	json_object_set_new(a, "accident_hour", json_real(7.0));
	json_object_set_new(a, "accident_year", json_string("2023"));
	json_object_set_new(a, "accident_month", json_string("12"));
	json_object_set_new(a, "accident_day", json_real(31.0));
	json_t *row = check_ok(a);
	for (size_t i = 0; i < 4; i++)
		assert_true(json_is_integer(json_object_get(row, number_names[i])));
	assert_int_equal(json_integer_value(json_object_get(row, "accident_hour")), 7);
	assert_int_equal(json_integer_value(json_object_get(row, "accident_year")), 2023);
	assert_int_equal(json_integer_value(json_object_get(row, "accident_month")), 12);
	assert_int_equal(json_integer_value(json_object_get(row, "accident_day")), 31);
	/* The period follows the hour however it was written. */
	assert_string_equal(json_string_value(json_object_get(row, "time_period")), "출근시간대");
	json_decref(row);
	json_decref(a);

	a = with("accident_hour", json_string("0"));
	row = check_ok(a);
	assert_int_equal(json_integer_value(json_object_get(row, "accident_hour")), 0);
	assert_string_equal(json_string_value(json_object_get(row, "time_period")), "심야");
	json_decref(row);
	json_decref(a);
	a = with("accident_hour", json_real(-0.0));
	row = check_ok(a);
	assert_int_equal(json_integer_value(json_object_get(row, "accident_hour")), 0);
	json_decref(row);
	json_decref(a);
	/* Digit strings are range-checked like numbers. */
	refused_on("accident_month", json_string("13"), "13 is not from 1 to 12");
	refused_on("accident_hour", json_string("-1"), "-1 is not from 0 to 23");
	refused_on("accident_hour", json_real(24.0), "24 is not from 0 to 23");
}

static void test_check_ranges(void **state)
{
	(void)state;
	static const struct {
		const char *field;
		long long lo, hi;
	} r[] = { { "accident_hour", 0, 23 }, { "accident_year", 1970, 2100 },
		  { "accident_month", 1, 12 }, { "accident_day", 1, 31 } };
	for (size_t i = 0; i < 4; i++) {
		char want[64];
		snprintf(want, sizeof want, "%lld is not from %lld to %lld", r[i].lo - 1, r[i].lo,
			 r[i].hi);
		refused_on(r[i].field, json_integer(r[i].lo - 1), want);
		snprintf(want, sizeof want, "%lld is not from %lld to %lld", r[i].hi + 1, r[i].lo,
			 r[i].hi);
		refused_on(r[i].field, json_integer(r[i].hi + 1), want);
		refused_on(r[i].field, json_integer(-1000000), "is not from");
		refused_on(r[i].field, json_integer(1000000000000LL), "is not from");
		/* The bounds themselves are fine (day 31: the accident is in March). */
		for (int end = 0; end < 2; end++) {
			json_t *a = with(r[i].field, json_integer(end ? r[i].hi : r[i].lo));
			if (strcmp(r[i].field, "accident_month") == 0)
				json_object_set_new(a, "accident_day", json_integer(1));
			json_t *row = check_ok(a);
			json_decref(row);
			json_decref(a);
		}
	}
}

static json_t *dated(long long y, long long m, long long d)
{
	json_t *a = accident();
	json_object_set_new(a, "accident_year", json_integer(y));
	json_object_set_new(a, "accident_month", json_integer(m));
	json_object_set_new(a, "accident_day", json_integer(d));
	return a;
}

static void expect_date(long long y, long long m, long long d, bool ok)
{
	json_t *a = dated(y, m, d);
	if (ok) {
		json_t *row = check_ok(a);
		json_decref(row);
	} else {
		json_t *problems = check_refused(a, 1, "accident_day");
		char want[64];
		snprintf(want, sizeof want, "%04lld-%02lld-%02lld is not a date", y, m, d);
		const char *msg = message_of(problems, "accident_day");
		if (!strstr(msg, want))
			fail_msg("message \"%s\" lacks \"%s\"", msg, want);
		json_decref(problems);
	}
	json_decref(a);
}

static void test_check_dates(void **state)
{
	(void)state;
	expect_date(2024, 2, 29, true);    /* leap */
	expect_date(2023, 2, 29, false);   /* common */
	expect_date(2023, 2, 28, true);
	expect_date(2000, 2, 29, true);    /* divisible by 400: leap */
	expect_date(2100, 2, 29, false);   /* by 100, not by 400: common */
	expect_date(1970, 2, 29, false);
	expect_date(1972, 2, 29, true);
	expect_date(2024, 2, 30, false);
	expect_date(2024, 2, 31, false);
	expect_date(2024, 4, 31, false);
	expect_date(2024, 6, 31, false);
	expect_date(2024, 9, 31, false);
	expect_date(2024, 11, 31, false);
	expect_date(2024, 4, 30, true);
	static const int long_months[] = { 1, 3, 5, 7, 8, 10, 12 };
	for (size_t i = 0; i < 7; i++)
		expect_date(2023, long_months[i], 31, true);
	/* A bad month is the month's problem, not the date's. */
	json_t *a = dated(2024, 13, 31);
	json_t *problems = check_refused(a, 1, "accident_month");
	json_decref(problems);
	json_decref(a);
}

static void test_check_unknown_category(void **state)
{
	(void)state;
	json_t *a = with("weather", json_string("폭우"));
	json_t *problems = check_refused(a, 1, "weather");
	const json_t *pr = problem_of(problems, "weather");
	assert_non_null(strstr(json_string_value(json_object_get(pr, "message")), "폭우"));
	/* The allowed values: the model's categories, sorted. */
	const json_t *allowed = json_object_get(pr, "allowed");
	assert_int_equal(json_array_size(allowed), 4);
	for (size_t i = 0; i + 1 < json_array_size(allowed); i++)
		assert_true(strcmp(json_string_value(json_array_get(allowed, i)),
				   json_string_value(json_array_get(allowed, i + 1))) < 0);
	for (size_t k = 0; k < 4; k++) {
		bool found = false;
		for (size_t i = 0; i < 4; i++)
			found |= strcmp(json_string_value(json_array_get(allowed, i)), weathers[k]) == 0;
		assert_true(found);
	}
	json_decref(problems);
	json_decref(a);
	/* Exact text only: case, spaces and near misses are unknown. */
	refused_on("road_type", json_string("교차로-교차로안"), "is not one of");
	refused_on("road_type", json_string("교차로 - 교차로안 "), "is not one of");
	refused_on("district", json_string("수성구 상동"), "is not one of");
	refused_on("day_of_week", json_string("월"), "is not one of");
	refused_on("time_period", json_string("새벽"), "is not one of");
	refused_on("accident_type", json_string(""), "is not one of");
	/* A very long value is cut short in the message, not refused otherwise. */
	char long_value[2000];
	memset(long_value, 'x', sizeof long_value - 1);
	long_value[sizeof long_value - 1] = 0;
	refused_on("weather", json_string(long_value), "is not one of");
}

static void test_check_unknown_field(void **state)
{
	(void)state;
	json_t *a = with("speed", json_integer(80));
	json_t *problems = check_refused(a, 1, "speed");
	assert_non_null(strstr(message_of(problems, "speed"), "unknown field"));
	json_decref(problems);
	json_decref(a);
	/* Names are exact. */
	a = accident();
	json_object_set_new(a, "Weather", json_string("맑음"));
	problems = check_refused(a, 1, "Weather");
	json_decref(problems);
	json_decref(a);
}

static void test_check_many_problems(void **state)
{
	(void)state;
	json_t *a = accident();
	json_object_del(a, "weather");
	json_object_set_new(a, "accident_hour", json_integer(99));
	json_object_set_new(a, "district", json_string("서울특별시"));
	json_object_set_new(a, "accident_month", json_string("March"));
	json_object_set_new(a, "road_surface", json_integer(3));
	json_object_set_new(a, "extra", json_true());
	json_t *problems = check_refused(a, 6, "weather", "accident_hour", "district",
					 "accident_month", "road_surface", "extra");
	json_decref(problems);
	json_decref(a);
	/* An impossible date with another problem: both. */
	a = dated(2023, 2, 29);
	json_object_set_new(a, "weather", json_string("?"));
	problems = check_refused(a, 2, "weather", "accident_day");
	json_decref(problems);
	json_decref(a);
}

static void test_check_not_an_object(void **state)
{
	(void)state;
	json_t *values[] = { json_array(), json_string("x"), json_integer(1), json_null() };
	for (size_t i = 0; i < 4; i++) {
		json_t *row = values[i], *problems = NULL;
		assert_int_equal(eclo_check(fx->p, values[i], &row, &problems), -1);
		assert_null(row);
		assert_int_equal(json_array_size(problems), 1);
		assert_string_equal(json_string_value(json_object_get(json_array_get(problems, 0),
									  "field")), "");
		json_decref(problems);
		json_decref(values[i]);
	}
	json_t *row = (json_t *)fx, *problems = NULL;
	assert_int_equal(eclo_check(fx->p, NULL, &row, &problems), -1);
	assert_null(row);
	assert_int_equal(json_array_size(problems), 1);
	json_decref(problems);
}

/* ---- schema ------------------------------------------------------------ */

static void test_schema(void **state)
{
	(void)state;
	static const char *const names[ECLO_FIELDS] = {
		"weather", "road_surface", "road_type", "accident_type", "time_period", "district",
		"day_of_week", "accident_hour", "accident_year", "accident_month", "accident_day",
	};
	static const char *const labels[ECLO_FIELDS] = {
		"기상상태", "노면상태", "도로형태", "사고유형", "시간대", "시군구", "요일",
		"사고시", "사고연", "사고월", "사고일",
	};
	static const int lo[4] = { 0, 1970, 1, 1 }, hi[4] = { 23, 2100, 12, 31 };
	json_t *s = eclo_schema(fx->p);
	assert_non_null(s);
	assert_string_equal(json_string_value(json_object_get(s, "model_version")), "test");
	assert_true(json_is_string(json_object_get(s, "formula")));
	const json_t *fields = json_object_get(s, "fields");
	assert_int_equal(json_array_size(fields), ECLO_FIELDS);
	for (size_t i = 0; i < ECLO_FIELDS; i++) {
		const json_t *f = json_array_get(fields, i);
		assert_string_equal(json_string_value(json_object_get(f, "name")), names[i]);
		assert_string_equal(json_string_value(json_object_get(f, "label")), labels[i]);
		assert_true(json_string_length(json_object_get(f, "description")) > 0);
		const json_t *req = json_object_get(f, "required");
		assert_true(json_is_boolean(req));
		assert_int_equal(json_is_true(req), i != 4);   /* time_period is optional */
		const char *type = json_string_value(json_object_get(f, "type"));
		if (i < 7) {
			assert_string_equal(type, "string");
			assert_null(json_object_get(f, "minimum"));
			/* The model's categories of the field, sorted. */
			const json_t *allowed = json_object_get(f, "allowed");
			assert_int_equal(json_array_size(allowed), texts[i].nvalues);
			for (size_t k = 0; k + 1 < json_array_size(allowed); k++)
				assert_true(strcmp(json_string_value(json_array_get(allowed, k)),
						   json_string_value(json_array_get(allowed, k + 1)))
					    < 0);
			for (size_t v = 0; v < texts[i].nvalues; v++) {
				bool found = false;
				for (size_t k = 0; k < json_array_size(allowed); k++)
					found |= strcmp(json_string_value(json_array_get(allowed, k)),
							texts[i].values[v]) == 0;
				assert_true(found);
			}
		} else {
			assert_string_equal(type, "integer");
			assert_null(json_object_get(f, "allowed"));
			assert_int_equal(json_integer_value(json_object_get(f, "minimum")), lo[i - 7]);
			assert_int_equal(json_integer_value(json_object_get(f, "maximum")), hi[i - 7]);
		}
	}
	/* The levels, contiguous from 0; the last open-ended. */
	const json_t *levels = json_object_get(s, "interpretation");
	static const char *const lv[4] = { "경미", "일반", "심각", "매우 심각" };
	static const double from[4] = { 0, 3, 5, 10 }, to[3] = { 3, 5, 10 };
	assert_int_equal(json_array_size(levels), 4);
	for (size_t i = 0; i < 4; i++) {
		const json_t *l = json_array_get(levels, i);
		assert_string_equal(json_string_value(json_object_get(l, "label")), lv[i]);
		assert_true(json_is_number(json_object_get(l, "from")));
		assert_true(json_number_value(json_object_get(l, "from")) == from[i]);
		if (i < 3) {
			assert_true(json_is_number(json_object_get(l, "to")));
			assert_true(json_number_value(json_object_get(l, "to")) == to[i]);
		} else {
			assert_true(json_is_null(json_object_get(l, "to")));
		}
		/* The same sentence eclo_interpret gives inside the level. */
		const char *label, *detail;
		eclo_interpret(from[i] + 0.5, &label, &detail);
		assert_string_equal(json_string_value(json_object_get(l, "detail")), detail);
	}
	json_decref(s);
}

/* ---- batch items ------------------------------------------------------- */

static void test_predict_items(void **state)
{
	(void)state;
	json_t *severe = accident();                        /* 차대사람 */
	json_t *mild = with("accident_type", json_string("차량단독"));
	json_t *bad = with("weather", NULL);
	json_t *accidents = json_pack("[o, o, o, s, o]", severe, bad, mild, "not an accident",
				      json_deep_copy(severe));
	json_t *out = json_pack("[s]", "kept");   /* items are appended */
	struct error e = { { 0 } };
	expect_rc(eclo_predict_items(fx->p, accidents, 0, 5, out, &e), 0, e);
	assert_int_equal(json_array_size(out), 6);
	assert_string_equal(json_string_value(json_array_get(out, 0)), "kept");
	for (size_t i = 0; i < 5; i++) {
		const json_t *it = json_array_get(out, i + 1);
		assert_int_equal(json_integer_value(json_object_get(it, "index")), (json_int_t)i + 1);
		assert_non_null(json_object_get(it, "eclo"));
		assert_non_null(json_object_get(it, "interpretation"));
		assert_non_null(json_object_get(it, "detail"));
		assert_non_null(json_object_get(it, "error"));
		bool failed = i == 1 || i == 3;
		if (failed) {
			assert_true(json_is_null(json_object_get(it, "eclo")));
			assert_true(json_is_null(json_object_get(it, "interpretation")));
			assert_true(json_is_null(json_object_get(it, "detail")));
			assert_true(json_string_length(json_object_get(it, "error")) > 0);
		} else {
			assert_true(json_is_null(json_object_get(it, "error")));
			double v = json_number_value(json_object_get(it, "eclo"));
			assert_true(json_is_real(json_object_get(it, "eclo")));
			const char *label, *detail;
			eclo_interpret(v, &label, &detail);
			assert_string_equal(json_string_value(json_object_get(it, "interpretation")),
					    label);
			assert_string_equal(json_string_value(json_object_get(it, "detail")), detail);
		}
	}
	/* The check's message is the error: the missing field is named. */
	const json_t *bad_item = json_array_get(out, 2);
	assert_non_null(strstr(json_string_value(json_object_get(bad_item, "error")), "weather"));
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(out, 4), "error")),
			       "object"));
	/* In order: the same accident twice predicts the same; a pedestrian
	 * accident is worse than a single-vehicle one (as trained). */
	double v_severe = json_number_value(json_object_get(json_array_get(out, 1), "eclo"));
	double v_mild = json_number_value(json_object_get(json_array_get(out, 3), "eclo"));
	double v_again = json_number_value(json_object_get(json_array_get(out, 5), "eclo"));
	assert_true(v_severe == v_again);
	assert_true(v_severe > v_mild + 3);
	/* The value is the model's prediction for the checked row. */
	json_t *row = check_ok(severe);
	json_t *rows = json_pack("[o]", row);
	json_t *pred = model_predict(eclo_model(fx->p), rows, &e);
	assert_non_null(pred);
	assert_true(fabs(json_number_value(json_array_get(pred, 0)) - v_severe) < 1e-9);
	json_decref(pred);
	json_decref(rows);
	json_decref(out);

	/* A slice: indexes count from the start of the whole list. */
	out = json_array();
	expect_rc(eclo_predict_items(fx->p, accidents, 2, 4, out, &e), 0, e);
	assert_int_equal(json_array_size(out), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 0), "index")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(out, 1), "index")), 4);
	assert_true(json_number_value(json_object_get(json_array_get(out, 0), "eclo")) == v_mild);
	assert_true(json_is_null(json_object_get(json_array_get(out, 1), "eclo")));
	json_decref(out);
	/* Past the end of the list: those items are errors, not crashes. */
	out = json_array();
	expect_rc(eclo_predict_items(fx->p, accidents, 4, 7, out, &e), 0, e);
	assert_int_equal(json_array_size(out), 3);
	assert_true(json_is_null(json_object_get(json_array_get(out, 0), "error")));
	for (size_t i = 1; i < 3; i++) {
		const json_t *it = json_array_get(out, i);
		assert_int_equal(json_integer_value(json_object_get(it, "index")), (json_int_t)i + 5);
		assert_true(json_is_null(json_object_get(it, "eclo")));
		assert_true(json_is_string(json_object_get(it, "error")));
	}
	json_decref(out);
	/* An empty slice appends nothing. */
	out = json_array();
	expect_rc(eclo_predict_items(fx->p, accidents, 3, 3, out, &e), 0, e);
	assert_int_equal(json_array_size(out), 0);
	json_decref(out);
	/* All failing: every item has its error. */
	json_t *all_bad = json_pack("[{}, [], {s:i}]", "accident_hour", 3);
	out = json_array();
	expect_rc(eclo_predict_items(fx->p, all_bad, 0, 3, out, &e), 0, e);
	assert_int_equal(json_array_size(out), 3);
	for (size_t i = 0; i < 3; i++)
		assert_true(json_is_string(json_object_get(json_array_get(out, i), "error")));
	json_decref(out);
	json_decref(all_bad);
	json_decref(accidents);
}

/* ---- eclo_new ------------------------------------------------------------ */

static void expect_refused(struct model *m, const char *want)
{
	struct error e = { { 0 } };
	struct eclo *p = eclo_new(m, "v", &e);
	if (p) {
		eclo_free(p);
		fail_msg("eclo_new accepted a model it should refuse (%s)", want);
	}
	if (!strstr(e.msg, want))
		fail_msg("eclo_new: \"%s\" lacks \"%s\"", e.msg, want);
	model_free(m);   /* a refused model stays the caller's */
}

static void test_new_refuses(void **state)
{
	(void)state;
	struct data *d = &fx->d;
	const struct frame_column *f[12];
	size_t n = eleven(d, f);

	/* A classification on the eleven fields. */
	expect_refused(train(f, n, &d->serious, XGB_BINARY), "regression");
	/* Ten fields: day_of_week missing (the last text one moved out). */
	const struct frame_column *ten[10];
	for (size_t i = 0, k = 0; i < 11; i++)
		if (i != 6)
			ten[k++] = f[i];
	expect_refused(train(ten, 10, &d->eclo, XGB_REGRESSION), "day_of_week");
	/* ...or accident_day, a number. */
	expect_refused(train(f, 10, &d->eclo, XGB_REGRESSION), "accident_day");
	/* Twelve: one too many. */
	f[11] = &d->speed;
	expect_refused(train(f, 12, &d->eclo, XGB_REGRESSION), "12 features");
	/* The hour as a category, not a number. */
	f[7] = &d->hour_text;
	expect_refused(train(f, 11, &d->eclo, XGB_REGRESSION), "accident_hour");
}

static void test_new_accessors(void **state)
{
	(void)state;
	assert_string_equal(eclo_version(fx->p), "test");
	struct model *m = eclo_model(fx->p);
	assert_non_null(m);
	assert_int_equal(model_features(m)->n, ECLO_FIELDS);
	eclo_free(NULL);
}

/* ---- the preset loader -------------------------------------------------- */

static void test_preset_builtin(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct eclo *p = eclo_preset_load("builtin", &e);
	if (!p)
		fail_msg("eclo_preset_load(builtin): %s", e.msg);
	const char *v = eclo_version(p);
	assert_int_equal(strncmp(v, "eclo-", 5), 0);
	assert_int_equal(strlen(v), 5 + 12);
	assert_int_equal(strspn(v + 5, "0123456789abcdef"), 12);
	json_t *s = eclo_schema(p);
	const json_t *fields = json_object_get(s, "fields");
	assert_int_equal(json_array_size(fields), ECLO_FIELDS);
	assert_string_equal(json_string_value(json_object_get(s, "model_version")), v);

	/* An accident of the first allowed value of each text field predicts. */
	json_t *a = json_pack("{s:i, s:i, s:i, s:i}", "accident_hour", 8, "accident_year", 2022,
			      "accident_month", 2, "accident_day", 28);
	for (size_t i = 0; i < 7; i++) {
		const json_t *f = json_array_get(fields, i);
		const json_t *allowed = json_object_get(f, "allowed");
		assert_true(json_array_size(allowed) > 0);
		json_object_set(a, json_string_value(json_object_get(f, "name")),
				json_array_get(allowed, 0));
	}
	json_t *list = json_pack("[o]", a);
	json_t *out = json_array();
	expect_rc(eclo_predict_items(p, list, 0, 1, out, &e), 0, e);
	const json_t *it = json_array_get(out, 0);
	assert_true(json_is_null(json_object_get(it, "error")));
	assert_true(json_is_number(json_object_get(it, "eclo")));
	json_decref(out);
	json_decref(list);
	json_decref(s);

	/* The same bytes, the same version. */
	struct eclo *again = eclo_preset_load("builtin", &e);
	assert_non_null(again);
	assert_string_equal(eclo_version(again), v);
	eclo_free(again);
	eclo_free(p);
}

static void test_preset_off_and_missing(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	assert_null(eclo_preset_load("off", &e));
	assert_true(e.msg[0] != '\0');
	assert_non_null(strstr(e.msg, "off"));
	memset(&e, 0, sizeof e);
	assert_null(eclo_preset_load(NULL, &e));
	assert_true(e.msg[0] != '\0');

	char path[128];
	snprintf(path, sizeof path, "%s/no-such.model", fx->dir);
	memset(&e, 0, sizeof e);
	assert_null(eclo_preset_load(path, &e));
	if (!strstr(e.msg, path))
		fail_msg("message \"%s\" does not name %s", e.msg, path);
	/* A directory is no model either. */
	memset(&e, 0, sizeof e);
	assert_null(eclo_preset_load(fx->dir, &e));
	assert_true(e.msg[0] != '\0');
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void test_preset_not_a_model(void **state)
{
	(void)state;
	char path[128];
	struct error e = { { 0 } };
	snprintf(path, sizeof path, "%s/text.model", fx->dir);
	write_file(path, "hello\nworld\n", 12);
	assert_null(eclo_preset_load(path, &e));
	assert_true(e.msg[0] != '\0');
	/* Empty. */
	memset(&e, 0, sizeof e);
	write_file(path, "", 0);
	assert_null(eclo_preset_load(path, &e));
	assert_true(e.msg[0] != '\0');
	/* A real header over bytes that are no booster. */
	char *bytes;
	size_t len;
	expect_rc(model_save(eclo_model(fx->p), &bytes, &len, &e), 0, e);
	const char *nl = memchr(bytes, '\n', len);
	assert_non_null(nl);
	size_t head = (size_t)(nl + 1 - bytes);
	char *bad = xmalloc(head + 20);
	memcpy(bad, bytes, head);
	memcpy(bad + head, "not xgboost at all!", 20);
	write_file(path, bad, head + 20);
	memset(&e, 0, sizeof e);
	assert_null(eclo_preset_load(path, &e));
	assert_true(e.msg[0] != '\0');
	/* Cut short. */
	write_file(path, bytes, len / 2);
	memset(&e, 0, sizeof e);
	assert_null(eclo_preset_load(path, &e));
	assert_true(e.msg[0] != '\0');
	free(bad);
	free(bytes);
}

static void test_preset_file(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	char path[128];
	snprintf(path, sizeof path, "%s/eclo.model", fx->dir);
	char *bytes;
	size_t len;
	expect_rc(model_save(eclo_model(fx->p), &bytes, &len, &e), 0, e);
	write_file(path, bytes, len);
	struct eclo *p = eclo_preset_load(path, &e);
	if (!p)
		fail_msg("eclo_preset_load(%s): %s", path, e.msg);
	/* The version names the bytes, and says they came from a file. */
	char hex[SHA256_HEX], want[64];
	struct sha256 *h = sha256_new();
	sha256_update(h, bytes, len);
	sha256_finish(h, hex);
	snprintf(want, sizeof want, "eclo-%.12s-file", hex);
	assert_string_equal(eclo_version(p), want);
	/* It predicts as the model it was saved from. */
	json_t *list = json_pack("[o]", accident());
	json_t *a = json_array(), *b = json_array();
	expect_rc(eclo_predict_items(p, list, 0, 1, a, &e), 0, e);
	expect_rc(eclo_predict_items(fx->p, list, 0, 1, b, &e), 0, e);
	assert_true(json_number_value(json_object_get(json_array_get(a, 0), "eclo")) ==
		    json_number_value(json_object_get(json_array_get(b, 0), "eclo")));
	json_decref(a);
	json_decref(b);
	json_decref(list);
	eclo_free(p);
	free(bytes);

	/* A sheaf model that is not an ECLO model: refused, nothing leaked. */
	const struct frame_column *f[12];
	size_t n = eleven(&fx->d, f);
	struct model *cls = train(f, n, &fx->d.serious, XGB_BINARY);
	expect_rc(model_save(cls, &bytes, &len, &e), 0, e);
	model_free(cls);
	write_file(path, bytes, len);
	free(bytes);
	memset(&e, 0, sizeof e);
	assert_null(eclo_preset_load(path, &e));
	assert_non_null(strstr(e.msg, "regression"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interpret_thresholds),
		cmocka_unit_test(test_interpret_nan),
		cmocka_unit_test(test_time_period_every_hour),
		cmocka_unit_test(test_check_valid),
		cmocka_unit_test(test_check_time_period_derived),
		cmocka_unit_test(test_check_time_period_null_derived),
		cmocka_unit_test(test_check_missing_and_null),
		cmocka_unit_test(test_check_wrong_types),
		cmocka_unit_test(test_check_integer_forms),
		cmocka_unit_test(test_check_ranges),
		cmocka_unit_test(test_check_dates),
		cmocka_unit_test(test_check_unknown_category),
		cmocka_unit_test(test_check_unknown_field),
		cmocka_unit_test(test_check_many_problems),
		cmocka_unit_test(test_check_not_an_object),
		cmocka_unit_test(test_schema),
		cmocka_unit_test(test_predict_items),
		cmocka_unit_test(test_new_refuses),
		cmocka_unit_test(test_new_accessors),
		cmocka_unit_test(test_preset_builtin),
		cmocka_unit_test(test_preset_off_and_missing),
		cmocka_unit_test(test_preset_not_a_model),
		cmocka_unit_test(test_preset_file),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
