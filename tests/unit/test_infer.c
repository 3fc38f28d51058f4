/*
 * Field parsers (ingest/value.h) and column type inference (ingest/infer.h),
 * including the value forms seen in the Daegu accident data: "2019-01-01 00"
 * (test.csv), "2016년 1월 1일 01시" (TAAS), "2020-03-23", "08:00", Y/N,
 * coordinates in 위도/경도 columns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ingest/infer.h"
#include "ingest/value.h"

#define S(lit) lit, strlen(lit)

static bool is_int(const char *s, int64_t want)
{
	int64_t v = -12345;
	return value_parse_int(s, strlen(s), &v) && v == want;
}

static bool not_int(const char *s)
{
	int64_t v;
	return !value_parse_int(s, strlen(s), &v);
}

static bool is_real(const char *s, double want, bool want_pct)
{
	double v = -1;
	bool pct = !want_pct;
	return value_parse_real(s, strlen(s), &v, &pct) && pct == want_pct &&
	       fabs(v - want) <= fabs(want) * 1e-15;
}

static bool not_real(const char *s)
{
	double v;
	bool pct;
	return !value_parse_real(s, strlen(s), &v, &pct);
}

static void test_int(void **state)
{
	(void)state;
	assert_true(is_int("0", 0));
	assert_true(is_int("-0", 0));
	assert_true(is_int("42", 42));
	assert_true(is_int("  +42\t", 42));
	assert_true(is_int("-17", -17));
	assert_true(is_int("1,234", 1234));
	assert_true(is_int("12,345,678", 12345678));
	assert_true(is_int("9223372036854775807", INT64_MAX));
	assert_true(is_int("-9223372036854775808", INT64_MIN));
	assert_true(is_int("2016010100100051", 2016010100100051LL));   /* TAAS 사고번호 */
	assert_true(is_int("20240305", 20240305));                     /* compact date: an int */
	assert_true(not_int("9223372036854775808"));
	assert_true(not_int("-9223372036854775809"));
	assert_true(not_int(""));
	assert_true(not_int("   "));
	assert_true(not_int("-"));
	assert_true(not_int("+"));
	assert_true(not_int("007"));
	assert_true(not_int("01234"));
	assert_true(not_int("1,23"));
	assert_true(not_int("12,34"));
	assert_true(not_int("1234,567"));
	assert_true(not_int("0,123"));
	assert_true(not_int("1,2345"));
	assert_true(not_int("1,"));
	assert_true(not_int(",123"));
	assert_true(not_int("1 234"));
	assert_true(not_int("1.0"));
	assert_true(not_int("12%"));
	assert_true(not_int("0x10"));
	assert_true(not_int("24세"));
	/* The one-pass shape (at most 18 digits) and its edges. */
	assert_true(is_int("123456789012345678", 123456789012345678LL));
	assert_true(is_int("-123456789012345678", -123456789012345678LL));
	assert_true(is_int("1234567890123456789", 1234567890123456789LL));
	assert_true(not_int("-007"));
	assert_true(not_int("-00"));
	assert_true(not_int("4-2"));
	/* Not NUL-terminated: only len bytes are read. */
	int64_t v;
	assert_true(value_parse_int("123456", 3, &v));
	assert_int_equal(v, 123);
}

static void test_real(void **state)
{
	(void)state;
	assert_true(is_real("3.5", 3.5, false));
	assert_true(is_real("-0", 0, false));
	assert_true(is_real("-0.25", -0.25, false));
	assert_true(is_real(".5", 0.5, false));
	assert_true(is_real("5.", 5, false));
	assert_true(is_real("1,234.5", 1234.5, false));
	assert_true(is_real("1e308", 1e308, false));
	assert_true(is_real("2.5E-3", 2.5e-3, false));
	assert_true(is_real("1e+3", 1000, false));
	assert_true(is_real("12%", 0.12, true));
	assert_true(is_real("-3.5%", -0.035, true));
	assert_true(is_real("1,000%", 10, true));
	assert_true(is_real("35.8450271854", 35.8450271854, false));
	assert_true(is_real("128.5814016425", 128.5814016425, false));
	assert_true(is_real("99.0", 99, false));
	assert_true(is_real("0.00000000000000000000001", 1e-23, false));
	assert_true(is_real("12345678901234567", 12345678901234567.0, false));
	assert_true(not_real("123456789012345678"));   /* 18 digits: a double would round */
	assert_true(not_real("1e309"));
	assert_true(not_real("-1e309"));
	assert_true(not_real("NaN"));
	assert_true(not_real("nan"));
	assert_true(not_real("inf"));
	assert_true(not_real("-Infinity"));
	assert_true(not_real("1,23"));
	assert_true(not_real("1,5"));
	assert_true(not_real("007"));
	assert_true(not_real("00.5"));
	assert_true(not_real("."));
	assert_true(not_real("e5"));
	assert_true(not_real("1e"));
	assert_true(not_real("1e+"));
	assert_true(not_real("%"));
	assert_true(not_real("12 %"));
	assert_true(not_real("12%%"));
	assert_true(not_real("1.2.3"));
	assert_true(not_real("6~8"));
	assert_true(not_real(""));
	assert_true(not_real("0x1p3"));
	/* The one-pass shape (15 significant digits) and past it. */
	assert_true(is_real("123456789012345", 123456789012345.0, false));
	assert_true(is_real("1234567890123456", 1234567890123456.0, false));
	assert_true(is_real("0.000000000000000001", 1e-18, false));
	assert_true(is_real("-37.123456", -37.123456, false));
	assert_true(is_real(" 37.5", 37.5, false));
	assert_true(not_real("37..5"));
	assert_true(not_real("-."));
}

static void test_bool(void **state)
{
	(void)state;
	static const char *yes[] = { "true", "TRUE", "Yes", "y", "Y", "t", " T ", "예", "참" };
	static const char *no[] = { "false", "False", "NO", "n", "N", "f", "아니오", "거짓" };
	bool b;
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		b = false;
		assert_true(value_parse_bool(yes[i], strlen(yes[i]), &b));
		assert_true(b);
	}
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		b = true;
		assert_true(value_parse_bool(no[i], strlen(no[i]), &b));
		assert_false(b);
	}
	assert_false(value_parse_bool(S("1"), &b));
	assert_false(value_parse_bool(S("0"), &b));
	assert_false(value_parse_bool(S(""), &b));
	assert_false(value_parse_bool(S("yess"), &b));
	assert_false(value_parse_bool(S("아니"), &b));
}

static void check_date(const char *s, const char *canon)
{
	struct value_datetime v;
	char buf[VALUE_TEXT_MAX];
	if (!canon) {
		if (value_parse_date(s, strlen(s), &v))
			fail_msg("\"%s\" parsed as a date", s);
		return;
	}
	if (!value_parse_date(s, strlen(s), &v))
		fail_msg("\"%s\" is not a date", s);
	value_format_date(&v, buf, sizeof buf);
	assert_string_equal(buf, canon);
}

static void check_datetime(const char *s, const char *canon)
{
	struct value_datetime v;
	char buf[VALUE_TEXT_MAX];
	if (!canon) {
		if (value_parse_datetime(s, strlen(s), &v))
			fail_msg("\"%s\" parsed as a datetime", s);
		return;
	}
	if (!value_parse_datetime(s, strlen(s), &v))
		fail_msg("\"%s\" is not a datetime", s);
	value_format_datetime(&v, buf, sizeof buf);
	assert_string_equal(buf, canon);
	struct value_datetime again;
	assert_true(value_parse_datetime(buf, strlen(buf), &again));
	assert_memory_equal(&v, &again, sizeof v);
}

static void check_time(const char *s, const char *canon)
{
	struct value_datetime v;
	char buf[VALUE_TEXT_MAX];
	if (!canon) {
		if (value_parse_time(s, strlen(s), &v))
			fail_msg("\"%s\" parsed as a time", s);
		return;
	}
	if (!value_parse_time(s, strlen(s), &v))
		fail_msg("\"%s\" is not a time", s);
	value_format_time(&v, buf, sizeof buf);
	assert_string_equal(buf, canon);
}

static void test_date(void **state)
{
	(void)state;
	check_date("2024-03-05", "2024-03-05");
	check_date("2024/03/05", "2024-03-05");
	check_date("2024.03.05", "2024-03-05");
	check_date("2024.3.5", "2024-03-05");
	check_date("2024.3.5.", "2024-03-05");
	check_date("2024. 3. 5.", "2024-03-05");
	check_date("2024. 03. 05", "2024-03-05");
	check_date("2024- 3-5", NULL);
	check_date("2024 .3.5", NULL);
	check_date(" 2020-03-23 ", "2020-03-23");
	check_date("2016년 1월 1일", "2016-01-01");
	check_date("2016년1월1일", "2016-01-01");
	check_date("2016 년 12 월 31 일", "2016-12-31");
	check_date("2024-02-29", "2024-02-29");
	check_date("2000-02-29", "2000-02-29");
	check_date("2023-02-29", NULL);
	check_date("1900-02-29", NULL);
	check_date("2024-04-31", NULL);
	check_date("2024-13-01", NULL);
	check_date("2024-00-10", NULL);
	check_date("2024-01-00", NULL);
	check_date("2024-01-32", NULL);
	check_date("2024-03/05", NULL);
	check_date("2024.3.5..", NULL);
	check_date("2024-003-05", NULL);
	check_date("24-03-05", NULL);
	check_date("20240305", NULL);
	check_date("0999-01-01", NULL);
	check_date("2016년 1월", NULL);
	check_date("2016년 1월 1일 01시", NULL);
	check_date("2024-03-05T00:00", NULL);
	check_date("", NULL);
	check_date("2024-", NULL);
	/* Ten bytes read at fixed positions, and near misses. */
	check_date("2024-02-30", NULL);
	check_date("2024-1-305", NULL);
	check_date("2024-03-5 ", "2024-03-05");
	check_date("2024_03_05", NULL);
	check_date("１９９９-01-01", NULL);
}

static void test_datetime(void **state)
{
	(void)state;
	check_datetime("2024-03-05T12:30:00Z", "2024-03-05T12:30:00Z");
	check_datetime("2024-03-05t12:30:00z", "2024-03-05T12:30:00Z");
	check_datetime("2024-03-05 12:30", "2024-03-05T12:30:00");
	check_datetime("2024-03-05  9:05:07", "2024-03-05T09:05:07");
	check_datetime("2024-03-05T12:30:00.5+09:00", "2024-03-05T12:30:00.5+09:00");
	check_datetime("2024-03-05T12:30:00.123456789-0530", "2024-03-05T12:30:00.123456789-05:30");
	check_datetime("2024-03-05T12:30:00+09", "2024-03-05T12:30:00+09:00");
	check_datetime("2024-03-05T12:30:00+00:00", "2024-03-05T12:30:00Z");
	check_datetime("2024/03/05 23:59:59", "2024-03-05T23:59:59");
	check_datetime("2024.3.5 08:00", "2024-03-05T08:00:00");
	check_datetime("2024. 3. 5. 08:00", "2024-03-05T08:00:00");
	check_datetime("2019-01-01 00", "2019-01-01T00:00:00");
	check_datetime("2022-01-01 01", "2022-01-01T01:00:00");
	check_datetime("2022-12-31 23", "2022-12-31T23:00:00");
	check_datetime("2016년 1월 1일 01시", "2016-01-01T01:00:00");
	check_datetime("2016년 10월 10일 00시", "2016-10-10T00:00:00");
	check_datetime("2016년 1월 1일 01시 30분", "2016-01-01T01:30:00");
	check_datetime("2016년 1월 1일 01시 30분 15초", "2016-01-01T01:30:15");
	check_datetime("2016년 1월 1일 13:45", "2016-01-01T13:45:00");
	check_datetime("2024-03-05 01시", "2024-03-05T01:00:00");
	check_datetime("2019-01-01 24", NULL);
	check_datetime("2019-01-01 0", NULL);
	check_datetime("2019-01-01 000", NULL);
	check_datetime("2019-01-01T00", "2019-01-01T00:00:00");   /* ISO reduced precision */
	check_datetime("2024-03-05", NULL);
	check_datetime("2024-03-05T", NULL);
	check_datetime("2024-03-05 24:00", NULL);
	check_datetime("2024-03-05 12:60", NULL);
	check_datetime("2024-03-05 12:30:60", NULL);
	check_datetime("2024-03-05 12:3", NULL);
	check_datetime("2024-03-05 12:30:00.", NULL);
	check_datetime("2024-03-05 12:30:00.1234567890", NULL);
	check_datetime("2024-03-05T12:30:00+19:00", NULL);
	check_datetime("2024-03-05T12:30:00+09:60", NULL);
	check_datetime("2024-03-05T12:30:00+9", NULL);
	check_datetime("2024-03-05T12:30:00Zx", NULL);
	check_datetime("2023-02-29 10:00", NULL);
	check_datetime("2016년 1월 1일 24시", NULL);
	check_datetime("2016년 1월 1일 01시 60분", NULL);
	check_datetime("2016년 1월 1일 01", NULL);
	check_datetime("2016년 1월 1일T01:00", NULL);
	check_datetime("2024-03-0512:30", NULL);
	/* Nineteen bytes read at fixed positions, and near misses. */
	check_datetime("2024-03-05 12:30:00", "2024-03-05T12:30:00");
	check_datetime("2024-03-05t23:59:59", "2024-03-05T23:59:59");
	check_datetime("2024-02-30 12:30:00", NULL);
	check_datetime("2024-03-05 24:00:00", NULL);
	check_datetime("2024-03-05x12:30:00", NULL);
	check_datetime("2024-03-05 12-30-00", NULL);
	check_datetime("2024-03-05 1:30:00 ", "2024-03-05T01:30:00");
}

static void test_time(void **state)
{
	(void)state;
	check_time("12:30", "12:30:00");
	check_time("08:00", "08:00:00");
	check_time("23:59", "23:59:00");
	check_time("9:05", "09:05:00");
	check_time("12:30:15", "12:30:15");
	check_time("12:30:15.250", "12:30:15.250");
	check_time("01시", "01:00:00");
	check_time("1시 5분", "01:05:00");
	check_time("13시 30분 15초", "13:30:15");
	check_time("12", NULL);
	check_time("24:00", NULL);
	check_time("12:30Z", NULL);
	check_time("12:30:15.", NULL);
	check_time("24시", NULL);
	check_time("1:2", NULL);
	check_time("", NULL);
}

static void feed(struct column_infer *ci, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		infer_add(ci, v[i], strlen(v[i]));
}

#define FEED(ci, ...)                                                              \
	do {                                                                       \
		static const char *const vals_[] = { __VA_ARGS__ };                \
		feed(ci, vals_, sizeof vals_ / sizeof vals_[0]);                   \
	} while (0)

static struct column_type infer_of(const char *name, const char *const *v, size_t n)
{
	struct column_infer *ci = infer_new();
	feed(ci, v, n);
	struct column_type t;
	infer_result(ci, name, &t);
	infer_free(ci);
	return t;
}

#define INFER(name, ...)                                                           \
	({                                                                         \
		static const char *const vals_[] = { __VA_ARGS__ };                \
		infer_of(name, vals_, sizeof vals_ / sizeof vals_[0]);             \
	})

static void test_nulls(void **state)
{
	(void)state;
	static const char *nulls[] = { "", "  ", "NA", "na", "N/A", "#N/A", "null", "NULL",
				       "None", "NaN", "-", " - " };
	for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
		assert_true(infer_is_null(nulls[i], strlen(nulls[i])));
	assert_false(infer_is_null(S("0")));
	assert_false(infer_is_null(S("--")));
	assert_false(infer_is_null(S("nil")));
}

static void test_column_numbers(void **state)
{
	(void)state;
	struct column_type t;
	struct column_infer *ci = infer_new();
	FEED(ci, "1", "2", "-3", "1,000", "", "NA");
	infer_result(ci, "n", &t);
	assert_int_equal(t.kind, COLUMN_INT);
	assert_int_equal(t.rows, 6);
	assert_int_equal(t.nulls, 2);
	assert_true(t.min == -3 && t.max == 1000);
	/* One real turns it into a real column. */
	FEED(ci, "2.5");
	infer_result(ci, "n", &t);
	assert_int_equal(t.kind, COLUMN_REAL);
	assert_false(t.percent);
	assert_true(t.max == 1000);
	/* One bad value: text, and (by construction) nothing converted. */
	FEED(ci, "about 3");
	infer_result(ci, "n", &t);
	assert_int_equal(t.kind, COLUMN_TEXT);
	infer_free(ci);

	t = INFER("사망자수", "0", "0", "1", "0");
	assert_int_equal(t.kind, COLUMN_INT);   /* 0/1 is integer, not boolean */
	t = INFER("p", "12%", "3.5%", "100%");
	assert_int_equal(t.kind, COLUMN_REAL);
	assert_true(t.percent);
	assert_true(fabs(t.max - 1.0) < 1e-12);
	t = INFER("p", "12%", "0.5");
	assert_int_equal(t.kind, COLUMN_TEXT);
	t = INFER("zip", "01234", "12345");
	assert_int_equal(t.kind, COLUMN_TEXT);
	t = INFER("id", "9007199254740993", "1.5");
	assert_int_equal(t.kind, COLUMN_TEXT);
	t = INFER("id", "9007199254740993", "1");
	assert_int_equal(t.kind, COLUMN_INT);
	t = INFER("x", "1,23");
	assert_int_equal(t.kind, COLUMN_TEXT);
	t = INFER("n", " 12 ", "-", "\t7", "N/A");
	assert_int_equal(t.kind, COLUMN_INT);
	assert_int_equal(t.nulls, 2);
	t = INFER("n", "1e308", "-0", "1,234.5");
	assert_int_equal(t.kind, COLUMN_REAL);
	t = INFER("연도", "2010.0", "2013.0", "");   /* CCTV 설치연도 */
	assert_int_equal(t.kind, COLUMN_REAL);
}

static void test_column_other_types(void **state)
{
	(void)state;
	struct column_type t;
	t = INFER("CCTV설치여부", "Y", "N", "Y", "");
	assert_int_equal(t.kind, COLUMN_BOOL);
	t = INFER("b", "true", "no", "예");
	assert_int_equal(t.kind, COLUMN_BOOL);
	t = INFER("데이터기준일자", "2020-03-23", "2019-06-01", "2020.1.14");
	assert_int_equal(t.kind, COLUMN_DATE);
	t = INFER("d", "2020-03-23", "2020-03-23 10:00");
	assert_int_equal(t.kind, COLUMN_DATETIME);
	t = INFER("d", "2020-03-23", "2020-03-23 10:00", "yesterday");
	assert_int_equal(t.kind, COLUMN_TEXT);
	t = INFER("사고일시", "2016년 1월 1일 01시", "2016년 1월 1일 02시", "2016년 10월 10일 00시");
	assert_int_equal(t.kind, COLUMN_DATETIME);
	t = INFER("사고일시", "2022-01-01 01", "2022-01-01 04", "2022-12-31 23");
	assert_int_equal(t.kind, COLUMN_DATETIME);
	t = INFER("평일운영시작시각", "08:00", "23:59", "00:00", "09:30");
	assert_int_equal(t.kind, COLUMN_TIME);
	t = INFER("empty", "", "", "NA");
	assert_int_equal(t.kind, COLUMN_TEXT);
	assert_int_equal(t.nulls, 3);
	assert_int_equal(t.rows, 3);
	assert_false(t.categorical);
	struct column_infer *ci = infer_new();
	infer_result(ci, NULL, &t);
	assert_int_equal(t.kind, COLUMN_TEXT);
	assert_int_equal(t.rows, 0);
	infer_free(ci);
	assert_string_equal(column_kind_name(COLUMN_DATETIME), "datetime");
}

static void test_lat_lng(void **state)
{
	(void)state;
	struct column_type t;
	t = INFER("위도", "35.83885696", "35.844653", "");
	assert_int_equal(t.kind, COLUMN_REAL);
	assert_int_equal(t.role, COLUMN_ROLE_LATITUDE);
	t = INFER("경도", "128.5754182", "128.6046189");
	assert_int_equal(t.role, COLUMN_ROLE_LONGITUDE);
	t = INFER("사고지점 위도(WGS84)", "35.8", "-12.5");
	assert_int_equal(t.role, COLUMN_ROLE_LATITUDE);
	t = INFER(" Latitude ", "51.5", "-33.9");
	assert_int_equal(t.role, COLUMN_ROLE_LATITUDE);
	t = INFER("LNG", "-0.12", "151.2");
	assert_int_equal(t.role, COLUMN_ROLE_LONGITUDE);
	t = INFER("lon", "-0.12", "181");
	assert_int_equal(t.role, COLUMN_ROLE_NONE);
	t = INFER("lat", "128.5", "35.8");
	assert_int_equal(t.role, COLUMN_ROLE_NONE);   /* out of range: not latitude */
	t = INFER("y", "35.8", "37.5");
	assert_int_equal(t.role, COLUMN_ROLE_LATITUDE);
	t = INFER("X", "128.6", "126.9");
	assert_int_equal(t.role, COLUMN_ROLE_LONGITUDE);
	t = INFER("y", "3", "5");
	assert_int_equal(t.role, COLUMN_ROLE_NONE);   /* a plain y, not Korean WGS84 */
	t = INFER("latency", "35.8");
	assert_int_equal(t.role, COLUMN_ROLE_NONE);
	t = INFER("위도", "35.8", "unknown");
	assert_int_equal(t.kind, COLUMN_TEXT);
	assert_int_equal(t.role, COLUMN_ROLE_NONE);
	t = INFER("lat", "", "NA");
	assert_int_equal(t.role, COLUMN_ROLE_NONE);
}

static void test_categorical(void **state)
{
	(void)state;
	struct column_type t;
	t = INFER("요일", "금요일", "토요일", "금요일", "일요일");
	assert_int_equal(t.kind, COLUMN_TEXT);
	assert_true(t.categorical);
	assert_int_equal(t.distinct, 3);
	t = INFER("name", "a", "b", "c");
	assert_false(t.categorical);   /* nothing repeats */
	t = INFER("n", "1", "1", "2");
	assert_false(t.categorical);   /* only text columns */

	/* 1000 rows over 40 values: 40 <= 5% of 1000 = 50. */
	char buf[32];
	struct column_infer *ci = infer_new();
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(buf, sizeof buf, "v%d", i % 40);
		infer_add(ci, buf, (size_t)n);
	}
	infer_result(ci, "c", &t);
	assert_true(t.categorical);
	assert_int_equal(t.distinct, 40);
	infer_free(ci);

	/* 1000 rows over 60 values: too many. */
	ci = infer_new();
	for (int i = 0; i < 1000; i++) {
		int n = snprintf(buf, sizeof buf, "v%d", i % 60);
		infer_add(ci, buf, (size_t)n);
	}
	infer_result(ci, "c", &t);
	assert_false(t.categorical);
	infer_free(ci);

	/* The distinct set stops at the cap. */
	ci = infer_new();
	for (int i = 0; i < 3 * INFER_MAX_DISTINCT; i++) {
		int n = snprintf(buf, sizeof buf, "v%d", i % (INFER_MAX_DISTINCT + 5));
		infer_add(ci, buf, (size_t)n);
	}
	infer_result(ci, "c", &t);
	assert_true(t.distinct_capped);
	assert_false(t.categorical);
	assert_int_equal(t.distinct, INFER_MAX_DISTINCT);
	infer_free(ci);

	/* Exactly at the cap is still counted. */
	ci = infer_new();
	for (int i = 0; i < 2 * INFER_MAX_DISTINCT; i++) {
		int n = snprintf(buf, sizeof buf, "v%d", i % INFER_MAX_DISTINCT);
		infer_add(ci, buf, (size_t)n);
	}
	infer_result(ci, "c", &t);
	assert_false(t.distinct_capped);
	assert_int_equal(t.distinct, INFER_MAX_DISTINCT);
	infer_free(ci);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_real),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_nulls),
		cmocka_unit_test(test_column_numbers),
		cmocka_unit_test(test_column_other_types),
		cmocka_unit_test(test_lat_lng),
		cmocka_unit_test(test_categorical),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
