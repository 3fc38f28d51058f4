/*
 * Dataset file reading (datasets/table.h) against small dataset files
 * written by hand here in the importer's format 1 (ingest/import.h): a
 * data table, sheaf_columns and sheaf_meta.  The main fixture has Korean
 * column names, names with spaces, '=' and a double quote, NULLs in every
 * type, booleans, reals (0.1, 1e20, -0.0), percent fractions, dates,
 * datetimes and times, and lives at a path with ' ', '?', '#' and '%' to
 * exercise the URI escaping.
 *
 * Covered: open and metadata, every filter operator on every type with its
 * value conversions, filter errors and their messages, sorting with NULLs
 * and ties, paging and totals, page JSON typing, CSV export byte for byte,
 * JSON and NDJSON exports parsed back, exports pulled through 1..7 byte
 * buffers, refusal of files that are not datasets, a data column named
 * "rowid", the per-call time limit, a file written by the real importer,
 * and SQL injection attempts in filters and sort keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "datasets/table.h"
#include "ingest/import.h"

#include "testutil.h"

struct fx {
	char dir[64];
	char path[128];
	struct table *t;
	char out[1024];     /* the last ids() answer */
};

/* The main fixture.  Rows (id: name, "a b", "x=y", ok, ...) are chosen so
 * that every operator has a non-trivial answer; see the cases below. */
static const char dataset_sql[] =
	"CREATE TABLE data (\"id\" INTEGER, \"이름\" TEXT, \"a b\" REAL, \"x=y\" INTEGER, "
	"\"ok\" INTEGER, \"날짜\" TEXT, \"dt\" TEXT, \"t\" TEXT, \"a\" TEXT, \"a=b\" TEXT, "
	"\"pct\" REAL, \"q\"\"x\" TEXT, \"위도\" REAL);"
	"INSERT INTO data VALUES "
	"(1, '김철수', 0.1, 1234, 1, '2024-03-05', '2024-03-05T12:30:00', '08:00:00', 'x', 'p', "
	"  0.12, 'a', 37.5),"
	"(2, 'Lee, \"Jr\"', 1e20, NULL, 0, '2023-12-31', '2023-12-31T23:59:59', '23:59:59', 'y', "
	"  'q', 0.5, NULL, 35.1),"
	"(3, NULL, -2.5, 7, NULL, NULL, NULL, NULL, 'x', NULL, NULL, 'b', NULL),"
	"(4, ' lead', NULL, 7, 1, '2024-01-01', '2024-01-01T00:00:00', '00:00:00', NULL, 'p', "
	"  1.0, 'a', 36),"
	"(5, 'line1' || char(10) || 'line2', 3.0, -5, 0, '2024-03-05', NULL, '12:00:00', 'Z', "
	"  'r', 0.0, 'c', NULL),"
	"(6, 'KIMchi 100%_x', -0.0, 7, 1, '2024-03-06', '2024-03-06T08:00:00.5', NULL, 'x', "
	"  's ', NULL, 'b', NULL);"
	"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, source_name TEXT, "
	"  type TEXT, role TEXT, categorical INTEGER, percent INTEGER, profile TEXT);"
	"INSERT INTO sheaf_columns VALUES "
	"(0, 'id', 'id', 'integer', NULL, 0, 0, '{\"min\":1,\"max\":6}'),"
	"(1, '이름', '이름 ', 'text', NULL, 0, 0, NULL),"
	"(2, 'a b', 'a b', 'real', NULL, 0, 0, NULL),"
	"(3, 'x=y', 'x=y', 'integer', NULL, 0, 0, NULL),"
	"(4, 'ok', 'OK', 'boolean', NULL, 0, 0, NULL),"
	"(5, '날짜', '날짜', 'date', NULL, 0, 0, NULL),"
	"(6, 'dt', 'dt', 'datetime', NULL, 0, 0, NULL),"
	"(7, 't', 't', 'time', NULL, 0, 0, NULL),"
	"(8, 'a', 'a', 'text', NULL, 1, 0, NULL),"
	"(9, 'a=b', 'a=b', 'text', NULL, 1, 0, NULL),"
	"(10, 'pct', 'pct', 'real', NULL, 0, 1, NULL),"
	"(11, 'q\"x', 'q\"x', 'text', NULL, 1, 0, NULL),"
	"(12, '위도', '위도', 'real', 'latitude', 0, 0, '{}');"
	"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO sheaf_meta VALUES ('format', '1'), ('source_format', 'csv'), "
	"('encoding', 'UTF-8'), ('delimiter', ','), ('header', '1'), ('rows', '6'), "
	"('columns', '13'), ('warnings', '[]'), ('created_at', '1700000000000');";

static void make_db(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "fixture: %s\n", msg);
	sqlite3_free(msg);
	assert_int_equal(rc, SQLITE_OK);
	sqlite3_close(db);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	snprintf(f->dir, sizeof f->dir, "/tmp/sheaf-test-table.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/d ?#%%41.db", f->dir);
	make_db(f->path, dataset_sql);
	struct error e = { "" };
	f->t = table_open(f->path, &e);
	if (!f->t) {
		fprintf(stderr, "table_open: %s\n", e.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	table_close(f->t);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* The ids of the matching rows in order ("1,3"), "-" for none, or
 * "error: <message>".  filters and sorts are NULL-terminated lists. */
static const char *query_ids(struct fx *f, const char *const *filters, const char *const *sorts)
{
	struct error e = { "" };
	struct table_query *q = table_query_new(f->t);
	for (; filters && *filters; filters++)
		if (table_query_filter(q, *filters, &e) < 0)
			goto fail;
	for (; sorts && *sorts; sorts++)
		if (table_query_sort(q, *sorts, &e) < 0)
			goto fail;
	json_t *page = table_page_json(f->t, q, &e);
	if (!page)
		goto fail;
	json_t *rows = json_object_get(page, "rows");
	size_t i;
	json_t *row;
	f->out[0] = '\0';
	json_array_foreach(rows, i, row) {
		size_t n = strlen(f->out);
		snprintf(f->out + n, sizeof f->out - n, "%s%lld", i ? "," : "",
			 (long long)json_integer_value(json_array_get(row, 0)));
	}
	if (!f->out[0])
		snprintf(f->out, sizeof f->out, "-");
	assert_int_equal(json_integer_value(json_object_get(page, "total")), json_array_size(rows));
	json_decref(page);
	table_query_free(q);
	return f->out;
fail:
	snprintf(f->out, sizeof f->out, "error: %s", e.msg);
	table_query_free(q);
	return f->out;
}

static const char *ids(struct fx *f, const char *filter)
{
	const char *filters[] = { filter, NULL };
	return query_ids(f, filters, NULL);
}

static const char *sorted(struct fx *f, const char *s1, const char *s2)
{
	const char *sorts[] = { s1, s2, NULL };
	return query_ids(f, NULL, sorts);
}

/* The names (first column, text) of the rows matching one filter, joined by
 * ',', into out. */
static const char *names(struct table *t, const char *filter, char *out, size_t cap)
{
	struct error e = { "" };
	struct table_query *q = table_query_new(t);
	if (table_query_filter(q, filter, &e) < 0) {
		snprintf(out, cap, "error: %s", e.msg);
		table_query_free(q);
		return out;
	}
	json_t *page = table_page_json(t, q, &e);
	assert_non_null(page);
	size_t i, n = 0;
	json_t *row;
	out[0] = '\0';
	json_array_foreach(json_object_get(page, "rows"), i, row)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "",
				      json_string_value(json_array_get(row, 0)));
	json_decref(page);
	table_query_free(q);
	return out;
}

/* Everything an export yields, read with cap-byte reads; malloc'd. */
static char *export_all(struct table *t, const struct table_query *q, enum table_format fmt,
			size_t cap, size_t *len)
{
	struct error e = { "" };
	struct table_export *x = table_export_new(t, q, fmt, &e);
	assert_non_null(x);
	struct buf b;
	buf_init(&b, 1 << 20);
	char chunk[64];
	assert_true(cap <= sizeof chunk);
	ssize_t n;
	while ((n = table_export_read(x, chunk, cap, &e)) > 0) {
		assert_true((size_t)n <= cap);
		assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
	}
	assert_int_equal(n, 0);
	assert_int_equal(table_export_read(x, chunk, cap, &e), 0);   /* stays at the end */
	table_export_free(x);
	*len = b.len;
	return buf_detach(&b);
}

/* ---- cases ---- */

static void test_open_and_columns(void **state)
{
	struct fx *f = *state;
	struct table *t = f->t;
	assert_int_equal(table_ncolumns(t), 13);
	assert_int_equal(table_nrows(t), 6);
	assert_string_equal(table_meta(t, "format"), "1");
	assert_string_equal(table_meta(t, "encoding"), "UTF-8");
	assert_null(table_meta(t, "nope"));
	assert_int_equal(table_find_column(t, "이름"), 1);
	assert_int_equal(table_find_column(t, "a=b"), 9);
	assert_int_equal(table_find_column(t, "q\"x"), 11);
	assert_int_equal(table_find_column(t, "A"), -1);
	assert_null(table_column(t, 13));

	const struct table_column *c = table_column(t, 1);
	assert_string_equal(c->name, "이름");
	assert_string_equal(c->source_name, "이름 ");
	assert_int_equal(c->kind, COLUMN_TEXT);
	assert_int_equal(table_column(t, 0)->kind, COLUMN_INT);
	assert_int_equal(table_column(t, 2)->kind, COLUMN_REAL);
	assert_int_equal(table_column(t, 4)->kind, COLUMN_BOOL);
	assert_int_equal(table_column(t, 5)->kind, COLUMN_DATE);
	assert_int_equal(table_column(t, 6)->kind, COLUMN_DATETIME);
	assert_int_equal(table_column(t, 7)->kind, COLUMN_TIME);
	assert_true(table_column(t, 10)->percent);
	assert_true(table_column(t, 8)->categorical);
	assert_int_equal(table_column(t, 12)->role, COLUMN_ROLE_LATITUDE);

	json_t *cols = table_columns_json(t);
	json_t *want = json_loads(
		"[{\"name\":\"id\",\"source_name\":\"id\",\"type\":\"integer\",\"role\":null,"
		"\"categorical\":false,\"percent\":false,\"profile\":{\"min\":1,\"max\":6}},"
		"{\"name\":\"이름\",\"source_name\":\"이름 \",\"type\":\"text\",\"role\":null,"
		"\"categorical\":false,\"percent\":false,\"profile\":null}]", 0, NULL);
	assert_non_null(want);
	assert_int_equal(json_array_size(cols), 13);
	assert_true(json_equal(json_array_get(cols, 0), json_array_get(want, 0)));
	assert_true(json_equal(json_array_get(cols, 1), json_array_get(want, 1)));
	json_t *lat = json_array_get(cols, 12);
	assert_string_equal(json_string_value(json_object_get(lat, "role")), "latitude");
	assert_string_equal(json_string_value(json_object_get(lat, "type")), "real");
	assert_true(json_is_true(json_object_get(json_array_get(cols, 10), "percent")));
	json_decref(want);
	json_decref(cols);
}

static void test_filter_numbers(void **state)
{
	struct fx *f = *state;
	assert_string_equal(ids(f, "id=3"), "3");
	assert_string_equal(ids(f, "id>=4"), "4,5,6");
	assert_string_equal(ids(f, "id<2"), "1");
	assert_string_equal(ids(f, "id<=2"), "1,2");
	assert_string_equal(ids(f, "id>5"), "6");
	assert_string_equal(ids(f, "id!=3"), "1,2,4,5,6");
	assert_string_equal(ids(f, "id > 4"), "5,6");          /* spaces around the operator */
	assert_string_equal(ids(f, "id>4.5"), "5,6");          /* a real against integers */
	/* "x=y" is the longest name followed by an operator. */
	assert_string_equal(ids(f, "x=y=7"), "3,4,6");
	assert_string_equal(ids(f, "x=y!=7"), "1,2,5");        /* != keeps NULLs */
	assert_string_equal(ids(f, "x=y="), "2");              /* IS NULL */
	assert_string_equal(ids(f, "x=y!="), "1,3,4,5,6");     /* IS NOT NULL */
	assert_string_equal(ids(f, "x=y= "), "2");             /* spaces are no value in typed columns */
	assert_string_equal(ids(f, "x=y>=1,234"), "1");        /* thousands separators */
	assert_string_equal(ids(f, "x=y<1.5"), "5");
	assert_string_equal(ids(f, "x=y<-4"), "5");
	assert_string_equal(ids(f, "x=y=12%"), "-");
	assert_string_equal(ids(f, "a b>1"), "2,5");
	assert_string_equal(ids(f, "a b=0.1"), "1");
	assert_string_equal(ids(f, "a b<0"), "3");             /* -0.0 is not below 0 */
	assert_string_equal(ids(f, "a b=0"), "6");
	assert_string_equal(ids(f, "a b = 3"), "5");
	assert_string_equal(ids(f, "a b=1e20"), "2");
	assert_string_equal(ids(f, "a b~2.5"), "3");           /* contains on the number's text */
	assert_string_equal(ids(f, "pct=12%"), "1");           /* percent columns hold fractions */
	assert_string_equal(ids(f, "pct>=50%"), "2,4");
	assert_string_equal(ids(f, "pct=0.5"), "2");
	assert_string_equal(ids(f, "위도>=36"), "1,4");
	assert_string_equal(ids(f, "위도>36"), "1");
}

static void test_filter_bool_and_dates(void **state)
{
	struct fx *f = *state;
	assert_string_equal(ids(f, "ok=true"), "1,4,6");
	assert_string_equal(ids(f, "ok=예"), "1,4,6");
	assert_string_equal(ids(f, "ok=Y"), "1,4,6");
	assert_string_equal(ids(f, "ok=1"), "1,4,6");
	assert_string_equal(ids(f, "ok=N"), "2,5");
	assert_string_equal(ids(f, "ok= 0 "), "2,5");
	assert_string_equal(ids(f, "ok!=true"), "2,3,5");
	assert_string_equal(ids(f, "ok="), "3");

	assert_string_equal(ids(f, "날짜=2024. 3. 5."), "1,5");
	assert_string_equal(ids(f, "날짜=2024년 3월 5일"), "1,5");
	assert_string_equal(ids(f, "날짜>2024/1/1"), "1,5,6");
	assert_string_equal(ids(f, "날짜<=2024-01-01"), "2,4");
	assert_string_equal(ids(f, "날짜~2024-03"), "1,5,6");
	assert_string_equal(ids(f, "날짜!~2024-03"), "2,3,4");

	assert_string_equal(ids(f, "dt>=2024-03-05"), "1,6");  /* a bare date: its midnight */
	assert_string_equal(ids(f, "dt=2024-03-05 12:30"), "1");
	assert_string_equal(ids(f, "dt=2024-01-01"), "4");
	assert_string_equal(ids(f, "dt>2024-03-06T08:00:00"), "6");
	assert_string_equal(ids(f, "dt<2024-01-01 00:00:01"), "2,4");

	assert_string_equal(ids(f, "t<08:00"), "4");
	assert_string_equal(ids(f, "t>=12시"), "2,5");
	assert_string_equal(ids(f, "t=8:00:00"), "1");
	assert_string_equal(ids(f, "t="), "3,6");
}

static void test_filter_text(void **state)
{
	struct fx *f = *state;
	assert_string_equal(ids(f, "이름=김철수"), "1");
	assert_string_equal(ids(f, "이름= lead"), "4");         /* text values keep their spaces */
	assert_string_equal(ids(f, "이름=lead"), "-");
	assert_string_equal(ids(f, "이름=Lee, \"Jr\""), "2");
	assert_string_equal(ids(f, "이름~kim"), "6");          /* ASCII case-insensitive */
	assert_string_equal(ids(f, "이름~철"), "1");
	assert_string_equal(ids(f, "이름~%"), "6");            /* no LIKE wildcards */
	assert_string_equal(ids(f, "이름~_"), "6");
	assert_string_equal(ids(f, "이름~e"), "2,4,5");
	assert_string_equal(ids(f, "이름!~kim"), "1,2,3,4,5"); /* !~ keeps NULLs */
	assert_string_equal(ids(f, "이름="), "3");
	assert_string_equal(ids(f, "이름>L"), "1,2,5");        /* byte order: 한글 and "l" > "L" */
	/* Names with '=': the longest one followed by an operator. */
	assert_string_equal(ids(f, "a=x"), "1,3,6");
	assert_string_equal(ids(f, "a=b=p"), "1,4");
	assert_string_equal(ids(f, "a=b"), "-");               /* column a equals "b" */
	assert_string_equal(ids(f, "a=b!=p"), "2,3,5,6");
	assert_string_equal(ids(f, "a<x"), "5");               /* "Z" < "x" */
	assert_string_equal(ids(f, "q\"x=a"), "1,4");
	/* in-lists; an empty item matches NULL. */
	assert_string_equal(ids(f, "id in 1|3|5"), "1,3,5");
	assert_string_equal(ids(f, "ok IN yes"), "1,4,6");
	assert_string_equal(ids(f, "이름 in 김철수| lead|"), "1,3,4");
	assert_string_equal(ids(f, "날짜 in 2024.1.1|2023-12-31"), "2,4");
	assert_string_equal(ids(f, "x=y in |"), "2");
	assert_string_equal(ids(f, "x=y in 7|"), "2,3,4,6");
	/* Several filters are ANDed. */
	const char *two[] = { "x=y=7", "a=x", NULL };
	assert_string_equal(query_ids(f, two, NULL), "3,6");
}

static void test_filter_errors(void **state)
{
	struct fx *f = *state;
	assert_string_equal(ids(f, "nosuch=1"), "error: filter \"nosuch=1\": unknown column \"nosuch\"");
	assert_string_equal(ids(f, "nosuch != 1"),
			    "error: filter \"nosuch != 1\": unknown column \"nosuch\"");
	assert_string_equal(ids(f, "nosuch in 1|2"),
			    "error: filter \"nosuch in 1|2\": unknown column \"nosuch\"");
	assert_string_equal(ids(f, "id"), "error: filter \"id\": no operator (use =, !=, <, <=, >, "
			    ">=, ~, !~ or \"in\")");
	assert_string_equal(ids(f, ""), "error: filter \"\": no operator (use =, !=, <, <=, >, "
			    ">=, ~, !~ or \"in\")");
	assert_string_equal(ids(f, "id=abc"),
			    "error: \"abc\" is not a valid value for column \"id\" (type integer)");
	assert_string_equal(ids(f, "id=007"),
			    "error: \"007\" is not a valid value for column \"id\" (type integer)");
	assert_string_equal(ids(f, "a b>NaN"),
			    "error: \"NaN\" is not a valid value for column \"a b\" (type real)");
	assert_string_equal(ids(f, "ok=maybe"),
			    "error: \"maybe\" is not a valid value for column \"ok\" (type boolean)");
	assert_string_equal(ids(f, "날짜=2024-13-01"),
			    "error: \"2024-13-01\" is not a valid value for column \"날짜\" (type date)");
	assert_string_equal(ids(f, "dt<noon"),
			    "error: \"noon\" is not a valid value for column \"dt\" (type datetime)");
	assert_string_equal(ids(f, "t=25:00"),
			    "error: \"25:00\" is not a valid value for column \"t\" (type time)");
	assert_string_equal(ids(f, "id in 1|x"),
			    "error: \"x\" is not a valid value for column \"id\" (type integer)");
	assert_string_equal(ids(f, "id>"), "error: filter \"id>\": operator > needs a value");
	assert_string_equal(ids(f, "이름~"), "error: filter \"이름~\": operator ~ needs a value");
	assert_string_equal(ids(f, "ok~t"), "error: filter \"ok~t\": operator ~ does not apply to "
			    "the boolean column \"ok\"");
	assert_string_equal(ids(f, "id in"), "error: filter \"id in\": no values after \"in\"");

	/* A long expression is quoted shortened, without cutting a character. */
	struct buf longf;
	buf_init(&longf, 1024);
	for (int i = 0; i < 60; i++)
		buf_puts(&longf, "가");
	buf_puts(&longf, "=1");
	const char *msg = ids(f, longf.data);
	buf_free(&longf);
	assert_non_null(strstr(msg, "error: filter \"가가"));
	assert_non_null(strstr(msg, "가\xe2\x80\xa6\": unknown column"));
	assert_null(strstr(msg, "=1"));
	/* Invalid UTF-8 is never copied into a message (it goes into JSON). */
	assert_string_equal(ids(f, "no\xffsuch\xc3=1"),
			    "error: filter \"no?such?=1\": unknown column \"no?such?\"");

	/* A rejected filter leaves the query as it was. */
	struct error e = { "" };
	struct table_query *q = table_query_new(f->t);
	assert_int_equal(table_query_filter(q, "x=y=7", &e), 0);
	assert_int_equal(table_query_filter(q, "id in 1|3|bad", &e), -1);
	assert_int_equal(table_query_filter(q, "id<5", &e), 0);
	json_t *page = table_page_json(f->t, q, &e);
	assert_non_null(page);
	assert_int_equal(json_integer_value(json_object_get(page, "total")), 2);
	json_decref(page);
	table_query_free(q);

	/* Limits on the number of filters and sort keys. */
	q = table_query_new(f->t);
	for (int i = 0; i < TABLE_MAX_FILTERS; i++)
		assert_int_equal(table_query_filter(q, "id>0", &e), 0);
	assert_int_equal(table_query_filter(q, "id>0", &e), -1);
	assert_string_equal(e.msg, "more than 64 filters");
	for (int i = 0; i < TABLE_MAX_SORT_KEYS; i++)
		assert_int_equal(table_query_sort(q, "id", &e), 0);
	assert_int_equal(table_query_sort(q, "id", &e), -1);
	page = table_page_json(f->t, q, &e);
	assert_non_null(page);
	assert_int_equal(json_integer_value(json_object_get(page, "total")), 6);
	json_decref(page);
	table_query_free(q);
}

static void test_sort(void **state)
{
	struct fx *f = *state;
	assert_string_equal(sorted(f, NULL, NULL), "1,2,3,4,5,6");
	assert_string_equal(sorted(f, "a b", NULL), "3,6,1,5,2,4");      /* NULL last */
	assert_string_equal(sorted(f, "-a b", NULL), "2,5,1,6,3,4");     /* NULL last too */
	assert_string_equal(sorted(f, "+a b", NULL), "3,6,1,5,2,4");
	assert_string_equal(sorted(f, "x=y", NULL), "5,3,4,6,1,2");      /* ties in file order */
	assert_string_equal(sorted(f, "-x=y", NULL), "1,3,4,6,5,2");
	assert_string_equal(sorted(f, "a", "-id"), "5,6,3,1,2,4");
	assert_string_equal(sorted(f, "-a", "id"), "2,1,3,6,5,4");
	assert_string_equal(sorted(f, "날짜", NULL), "2,4,1,5,6,3");
	assert_string_equal(sorted(f, "-ok", "-id"), "6,4,1,5,2,3");
	assert_string_equal(sorted(f, "q\"x", NULL), "1,4,3,6,5,2");
	assert_string_equal(sorted(f, "nosuch", NULL), "error: sort: unknown column \"nosuch\"");
	assert_string_equal(sorted(f, "", NULL), "error: sort: unknown column \"\"");
	assert_string_equal(sorted(f, "-", NULL), "error: sort: unknown column \"-\"");
}

static void test_paging(void **state)
{
	struct fx *f = *state;
	struct error e = { "" };
	struct table_query *q = table_query_new(f->t);
	assert_int_equal(table_query_filter(q, "x=y=7", &e), 0);
	table_query_page(q, 1, 1);
	json_t *page = table_page_json(f->t, q, &e);
	json_t *want = json_loads(
		"{\"columns\":[{\"name\":\"id\",\"type\":\"integer\"},{\"name\":\"이름\",\"type\":\"text\"},"
		"{\"name\":\"a b\",\"type\":\"real\"},{\"name\":\"x=y\",\"type\":\"integer\"},"
		"{\"name\":\"ok\",\"type\":\"boolean\"},{\"name\":\"날짜\",\"type\":\"date\"},"
		"{\"name\":\"dt\",\"type\":\"datetime\"},{\"name\":\"t\",\"type\":\"time\"},"
		"{\"name\":\"a\",\"type\":\"text\"},{\"name\":\"a=b\",\"type\":\"text\"},"
		"{\"name\":\"pct\",\"type\":\"real\"},{\"name\":\"q\\\"x\",\"type\":\"text\"},"
		"{\"name\":\"위도\",\"type\":\"real\"}],"
		"\"rows\":[[4,\" lead\",null,7,true,\"2024-01-01\",\"2024-01-01T00:00:00\","
		"\"00:00:00\",null,\"p\",1.0,\"a\",36.0]],"
		"\"total\":3,\"offset\":1,\"limit\":1}", 0, NULL);
	assert_non_null(page);
	assert_non_null(want);
	assert_true(json_equal(page, want));
	json_decref(want);
	json_decref(page);

	/* The first page of everything: typed values. */
	table_query_free(q);
	q = table_query_new(f->t);
	table_query_page(q, 0, 3);
	page = table_page_json(f->t, q, &e);
	want = json_loads(
		"[[1,\"김철수\",0.1,1234,true,\"2024-03-05\",\"2024-03-05T12:30:00\",\"08:00:00\","
		"\"x\",\"p\",0.12,\"a\",37.5],"
		"[2,\"Lee, \\\"Jr\\\"\",1e20,null,false,\"2023-12-31\",\"2023-12-31T23:59:59\","
		"\"23:59:59\",\"y\",\"q\",0.5,null,35.1],"
		"[3,null,-2.5,7,null,null,null,null,\"x\",null,null,\"b\",null]]", 0, NULL);
	assert_non_null(want);
	assert_true(json_equal(json_object_get(page, "rows"), want));
	assert_int_equal(json_integer_value(json_object_get(page, "total")), 6);
	assert_int_equal(json_integer_value(json_object_get(page, "limit")), 3);
	json_decref(want);
	json_decref(page);

	/* Past the end; and no limit means the default page size. */
	table_query_page(q, 10, 5);
	page = table_page_json(f->t, q, &e);
	assert_int_equal(json_array_size(json_object_get(page, "rows")), 0);
	assert_int_equal(json_integer_value(json_object_get(page, "total")), 6);
	assert_int_equal(json_integer_value(json_object_get(page, "offset")), 10);
	json_decref(page);
	table_query_page(q, 0, -1);
	page = table_page_json(f->t, q, &e);
	assert_int_equal(json_array_size(json_object_get(page, "rows")), 6);
	assert_int_equal(json_integer_value(json_object_get(page, "limit")), TABLE_DEFAULT_LIMIT);
	json_decref(page);
	table_query_free(q);
}

static const char csv_want[] =
	"id,이름,a b,x=y,ok,날짜,dt,t,a,a=b,pct,\"q\"\"x\",위도\r\n"
	"1,김철수,0.1,1234,true,2024-03-05,2024-03-05T12:30:00,08:00:00,x,p,0.12,a,37.5\r\n"
	"2,\"Lee, \"\"Jr\"\"\",1e+20,,false,2023-12-31,2023-12-31T23:59:59,23:59:59,y,q,0.5,,35.1\r\n"
	"3,,-2.5,7,,,,,x,,,b,\r\n"
	"4,\" lead\",,7,true,2024-01-01,2024-01-01T00:00:00,00:00:00,,p,1,a,36\r\n"
	"5,\"line1\nline2\",3,-5,false,2024-03-05,,12:00:00,Z,r,0,c,\r\n"
	"6,KIMchi 100%_x,0,7,true,2024-03-06,2024-03-06T08:00:00.5,,x,\"s \",,b,\r\n";

static void test_export_csv(void **state)
{
	struct fx *f = *state;
	struct table_query *q = table_query_new(f->t);
	size_t len;
	char *csv = export_all(f->t, q, TABLE_CSV, 64, &len);
	assert_int_equal(len, strlen(csv_want));
	assert_string_equal(csv, csv_want);
	free(csv);

	/* Filters, sort and paging apply; the query may go before the export. */
	struct error e = { "" };
	assert_int_equal(table_query_filter(q, "id<=3", &e), 0);
	assert_int_equal(table_query_sort(q, "-id", &e), 0);
	table_query_page(q, 1, 5);
	struct table_export *x = table_export_new(f->t, q, TABLE_CSV, &e);
	table_query_free(q);
	char big[4096];
	ssize_t n = table_export_read(x, big, sizeof big - 1, &e);
	assert_true(n > 0);
	big[n] = '\0';
	assert_string_equal(big, "id,이름,a b,x=y,ok,날짜,dt,t,a,a=b,pct,\"q\"\"x\",위도\r\n"
			    "2,\"Lee, \"\"Jr\"\"\",1e+20,,false,2023-12-31,2023-12-31T23:59:59,"
			    "23:59:59,y,q,0.5,,35.1\r\n"
			    "1,김철수,0.1,1234,true,2024-03-05,2024-03-05T12:30:00,08:00:00,x,p,"
			    "0.12,a,37.5\r\n");
	assert_int_equal(table_export_read(x, big, sizeof big, &e), 0);
	table_export_free(x);
}

/* Reals need the shortest text that reads back: 0.1, 1/3, 2^-1074, 1e300. */
static void test_export_reals(void **state)
{
	struct fx *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/reals.db", f->dir);
	make_db(path,
		"CREATE TABLE data (\"v\" REAL, \"w\" INTEGER);"
		"INSERT INTO data VALUES (0.1, 9223372036854775807), (1.0/3, -9223372036854775808),"
		"  (4.9406564584124654e-324, 0), (1e300, NULL), (NULL, 1), (0.30000000000000004, 2),"
		"  (123456789012345680000.0, 3), (-1.5e-7, 4);"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, source_name TEXT,"
		"  type TEXT, role TEXT, categorical INTEGER, percent INTEGER, profile TEXT);"
		"INSERT INTO sheaf_columns VALUES (0, 'v', 'v', 'real', NULL, 0, 0, NULL),"
		"  (1, 'w', 'w', 'integer', NULL, 0, 0, NULL);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '8');");
	struct error e = { "" };
	struct table *t = table_open(path, &e);
	assert_non_null(t);
	struct table_query *q = table_query_new(t);
	size_t len;
	char *csv = export_all(t, q, TABLE_CSV, 64, &len);
	assert_string_equal(csv, "v,w\r\n0.1,9223372036854775807\r\n"
			    "0.3333333333333333,-9223372036854775808\r\n"
			    "4.94065645841247e-324,0\r\n1e+300,\r\n,1\r\n0.30000000000000004,2\r\n"
			    "1.2345678901234568e+20,3\r\n-1.5e-07,4\r\n");
	free(csv);
	/* 1/3 needs 16 digits, not 15: check the read-back rule directly. */
	char *json = export_all(t, q, TABLE_JSON, 64, &len);
	json_t *arr = json_loads(json, 0, NULL);
	assert_non_null(arr);
	assert_true(json_real_value(json_object_get(json_array_get(arr, 1), "v")) == 1.0 / 3);
	assert_true(json_real_value(json_object_get(json_array_get(arr, 5), "v")) ==
		    0.30000000000000004);
	assert_true(json_is_real(json_object_get(json_array_get(arr, 3), "v")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(arr, 0), "w")),
			 INT64_MAX);
	json_decref(arr);
	free(json);
	table_query_free(q);
	table_close(t);
}

static void test_export_json(void **state)
{
	struct fx *f = *state;
	struct error e = { "" };
	struct table_query *q = table_query_new(f->t);
	size_t len;
	char *text = export_all(f->t, q, TABLE_JSON, 64, &len);
	const char *head = "[\n{\"id\":1,\"이름\":\"김철수\",\"a b\":0.1,";
	assert_int_equal(strncmp(text, head, strlen(head)), 0);
	assert_non_null(strstr(text, "\"이름\":\"line1\\nline2\""));
	assert_non_null(strstr(text, "\"q\\\"x\":"));
	assert_non_null(strstr(text, "\"pct\":1.0,"));
	assert_non_null(strstr(text, "},\n{\"id\":2,"));
	assert_int_equal(strcmp(text + len - 4, "}\n]\n"), 0);
	json_error_t err;
	json_t *arr = json_loads(text, 0, &err);
	assert_non_null(arr);
	free(text);

	/* The same values, with the same JSON types, as the page. */
	table_query_page(q, 0, 100);
	json_t *page = table_page_json(f->t, q, &e);
	json_t *rows = json_object_get(page, "rows");
	assert_int_equal(json_array_size(arr), 6);
	for (size_t i = 0; i < 6; i++) {
		json_t *obj = json_array_get(arr, i);
		assert_int_equal(json_object_size(obj), 13);
		for (size_t j = 0; j < 13; j++) {
			json_t *v = json_object_get(obj, table_column(f->t, j)->name);
			assert_non_null(v);
			assert_true(json_equal(v, json_array_get(json_array_get(rows, i), j)));
		}
	}
	json_decref(arr);

	/* NDJSON: one object per line. */
	table_query_page(q, 0, -1);
	text = export_all(f->t, q, TABLE_NDJSON, 64, &len);
	char *line = text;
	for (size_t i = 0; i < 6; i++) {
		char *nl = strchr(line, '\n');
		assert_non_null(nl);
		*nl = '\0';
		json_t *obj = json_loads(line, 0, &err);
		assert_non_null(obj);
		assert_true(json_equal(json_object_get(obj, "이름"),
				       json_array_get(json_array_get(rows, i), 1)));
		json_decref(obj);
		line = nl + 1;
	}
	assert_string_equal(line, "");
	free(text);
	json_decref(page);

	/* No rows. */
	assert_int_equal(table_query_filter(q, "id>100", &e), 0);
	text = export_all(f->t, q, TABLE_JSON, 64, &len);
	assert_string_equal(text, "[]\n");
	free(text);
	text = export_all(f->t, q, TABLE_NDJSON, 64, &len);
	assert_string_equal(text, "");
	free(text);
	text = export_all(f->t, q, TABLE_CSV, 64, &len);
	assert_string_equal(text, "id,이름,a b,x=y,ok,날짜,dt,t,a,a=b,pct,\"q\"\"x\",위도\r\n");
	free(text);
	table_query_free(q);
}

/* Control characters, embedded NULs and invalid UTF-8 in JSON strings; a
 * single-column CSV writes NULL as "" so no line is blank. */
static void test_export_escapes(void **state)
{
	struct fx *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/esc.db", f->dir);
	make_db(path,
		"CREATE TABLE data (\"v\" TEXT);"
		"INSERT INTO data VALUES ('a' || char(1) || char(9) || char(13) || '\\/'), (NULL),"
		"  (CAST(x'610062' AS TEXT)), (CAST(x'61ff62c3' AS TEXT)), ('');"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, source_name TEXT,"
		"  type TEXT, role TEXT, categorical INTEGER, percent INTEGER, profile TEXT);"
		"INSERT INTO sheaf_columns VALUES (0, 'v', 'v', 'text', NULL, 0, 0, NULL);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '5');");
	struct error e = { "" };
	struct table *t = table_open(path, &e);
	assert_non_null(t);
	struct table_query *q = table_query_new(t);
	size_t len;
	char *text = export_all(t, q, TABLE_NDJSON, 3, &len);
	assert_string_equal(text, "{\"v\":\"a\\u0001\\t\\r\\\\/\"}\n{\"v\":null}\n"
			    "{\"v\":\"a\\u0000b\"}\n{\"v\":\"a\xef\xbf\xbd" "b\xef\xbf\xbd\"}\n"
			    "{\"v\":\"\"}\n");
	free(text);
	static const char csv[] = "v\r\n\"a\x01\t\r\\/\"\r\n\"\"\r\na\0b\r\na\xff" "b\xc3\r\n"
				  "\"\"\r\n";
	text = export_all(t, q, TABLE_CSV, 5, &len);
	assert_int_equal(len, sizeof csv - 1);
	assert_memory_equal(text, csv, len);
	free(text);
	/* The page JSON copes with the invalid bytes too. */
	table_query_page(q, 3, 1);
	json_t *page = table_page_json(t, q, &e);
	assert_non_null(page);
	assert_string_equal(json_string_value(json_array_get(json_array_get(
		json_object_get(page, "rows"), 0), 0)), "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	json_decref(page);
	table_query_free(q);
	table_close(t);
}

static void test_export_tiny_reads(void **state)
{
	struct fx *f = *state;
	struct error e = { "" };
	struct table_query *q = table_query_new(f->t);
	assert_int_equal(table_query_sort(q, "-a b", &e), 0);
	const enum table_format fmts[] = { TABLE_CSV, TABLE_JSON, TABLE_NDJSON };
	for (size_t k = 0; k < 3; k++) {
		size_t want_len;
		char *want = export_all(f->t, q, fmts[k], 64, &want_len);
		for (size_t cap = 1; cap <= 7; cap++) {
			size_t len;
			char *got = export_all(f->t, q, fmts[k], cap, &len);
			assert_int_equal(len, want_len);
			assert_memory_equal(got, want, len);
			free(got);
		}
		free(want);
	}
	table_query_free(q);
}

static void test_refuses_non_datasets(void **state)
{
	struct fx *f = *state;
	struct error e = { "" };
	char path[160];

	snprintf(path, sizeof path, "%s/plain.db", f->dir);
	make_db(path, "CREATE TABLE foo (x); INSERT INTO foo VALUES (1);");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "not a dataset file: no sheaf_meta table");

	snprintf(path, sizeof path, "%s/text.csv", f->dir);
	write_file(path, "a,b,c\n1,2,3\nThis is certainly not a SQLite database file at all.\n");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "not a dataset file: not a SQLite database");

	snprintf(path, sizeof path, "%s/empty", f->dir);
	write_file(path, "");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "not a dataset file: no sheaf_meta table");

	snprintf(path, sizeof path, "%s/missing.db", f->dir);
	assert_null(table_open(path, &e));
	assert_non_null(strstr(e.msg, "cannot open dataset file"));

	snprintf(path, sizeof path, "%s/v2.db", f->dir);
	make_db(path, "CREATE TABLE data (x INTEGER);"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, "
		"  source_name TEXT, type TEXT, role TEXT, categorical INTEGER, percent INTEGER,"
		"  profile TEXT);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '2'), ('rows', '0');");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "unsupported dataset format \"2\" (this sheaf reads 1)");

	snprintf(path, sizeof path, "%s/nocols.db", f->dir);
	make_db(path, "CREATE TABLE data (x INTEGER);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '0');");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "not a dataset file: no sheaf_columns table");

	snprintf(path, sizeof path, "%s/mismatch.db", f->dir);
	make_db(path, "CREATE TABLE data (x INTEGER, y TEXT);"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, "
		"  source_name TEXT, type TEXT, role TEXT, categorical INTEGER, percent INTEGER,"
		"  profile TEXT);"
		"INSERT INTO sheaf_columns VALUES (0, 'x', 'x', 'integer', NULL, 0, 0, NULL);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '0');");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "dataset file is corrupt: sheaf_columns does not match data");

	snprintf(path, sizeof path, "%s/badtype.db", f->dir);
	make_db(path, "CREATE TABLE data (x INTEGER);"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, "
		"  source_name TEXT, type TEXT, role TEXT, categorical INTEGER, percent INTEGER,"
		"  profile TEXT);"
		"INSERT INTO sheaf_columns VALUES (0, 'x', 'x', 'blob', NULL, 0, 0, NULL);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '0');");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "dataset file is corrupt: bad sheaf_columns row 0");

	snprintf(path, sizeof path, "%s/norows.db", f->dir);
	make_db(path, "CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', 'many');");
	assert_null(table_open(path, &e));
	assert_string_equal(e.msg, "dataset file is corrupt: bad row count in sheaf_meta");

	/* The file opened by setup is intact and readable after all this. */
	assert_string_equal(ids(f, "id>0"), "1,2,3,4,5,6");
}

/* A column named "rowid" does not take the place of the real rowid in the
 * tie-break, and is itself readable, filterable and sortable. */
static void test_rowid_column(void **state)
{
	struct fx *f = *state;
	char path[160], out[256];
	snprintf(path, sizeof path, "%s/rowid.db", f->dir);
	make_db(path,
		"CREATE TABLE data (\"name\" TEXT, \"rowid\" INTEGER, \"v\" INTEGER);"
		"INSERT INTO data VALUES ('a', 3, 1), ('b', 2, 1), ('c', 1, 0), ('d', NULL, 1);"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, source_name TEXT,"
		"  type TEXT, role TEXT, categorical INTEGER, percent INTEGER, profile TEXT);"
		"INSERT INTO sheaf_columns VALUES (0, 'name', 'name', 'text', NULL, 0, 0, NULL),"
		"  (1, 'rowid', 'rowid', 'integer', NULL, 0, 0, NULL),"
		"  (2, 'v', 'v', 'integer', NULL, 0, 0, NULL);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '4');");
	struct error e = { "" };
	struct table *t = table_open(path, &e);
	assert_non_null(t);
	assert_string_equal(names(t, "rowid>=2", out, sizeof out), "a,b");
	assert_string_equal(names(t, "v=1", out, sizeof out), "a,b,d");

	struct table_query *q = table_query_new(t);
	assert_int_equal(table_query_sort(q, "-v", &e), 0);
	size_t len;
	char *csv = export_all(t, q, TABLE_CSV, 64, &len);
	assert_string_equal(csv, "name,rowid,v\r\na,3,1\r\nb,2,1\r\nd,,1\r\nc,1,0\r\n");
	free(csv);
	table_query_free(q);
	q = table_query_new(t);
	assert_int_equal(table_query_sort(q, "rowid", &e), 0);
	csv = export_all(t, q, TABLE_CSV, 64, &len);
	assert_string_equal(csv, "name,rowid,v\r\nc,1,0\r\nb,2,1\r\na,3,1\r\nd,,1\r\n");
	free(csv);
	table_query_free(q);
	table_close(t);
}

/* A dataset without columns (data has the importer's placeholder). */
static void test_no_columns(void **state)
{
	struct fx *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/nocolumns.db", f->dir);
	make_db(path,
		"CREATE TABLE data (\"column_1\" TEXT); INSERT INTO data VALUES (NULL), (NULL);"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, source_name TEXT,"
		"  type TEXT, role TEXT, categorical INTEGER, percent INTEGER, profile TEXT);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '2');");
	struct error e = { "" };
	struct table *t = table_open(path, &e);
	assert_non_null(t);
	assert_int_equal(table_ncolumns(t), 0);
	struct table_query *q = table_query_new(t);
	assert_int_equal(table_query_filter(q, "column_1=", &e), -1);
	assert_string_equal(e.msg, "filter \"column_1=\": unknown column \"column_1\"");
	json_t *page = table_page_json(t, q, &e);
	json_t *want = json_loads("{\"columns\":[],\"rows\":[[],[]],\"total\":2,\"offset\":0,"
				  "\"limit\":100}", 0, NULL);
	assert_true(json_equal(page, want));
	json_decref(page);
	json_decref(want);
	size_t len;
	char *text = export_all(t, q, TABLE_CSV, 2, &len);
	assert_string_equal(text, "\r\n\r\n\r\n");
	free(text);
	text = export_all(t, q, TABLE_JSON, 2, &len);
	assert_string_equal(text, "[\n{},\n{}\n]\n");
	free(text);
	table_query_free(q);
	table_close(t);
}

/* A query that runs past the table's time limit stops with a clear error. */
static void test_time_limit(void **state)
{
	struct fx *f = *state;
	char path[160];
	snprintf(path, sizeof path, "%s/big.db", f->dir);
	make_db(path,
		"CREATE TABLE data (\"n\" INTEGER, \"s\" TEXT);"
		"WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 300000)"
		"  INSERT INTO data SELECT i, hex(randomblob(16)) FROM c;"
		"CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT, source_name TEXT,"
		"  type TEXT, role TEXT, categorical INTEGER, percent INTEGER, profile TEXT);"
		"INSERT INTO sheaf_columns VALUES (0, 'n', 'n', 'integer', NULL, 0, 0, NULL),"
		"  (1, 's', 's', 'text', NULL, 0, 0, NULL);"
		"CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		"INSERT INTO sheaf_meta VALUES ('format', '1'), ('rows', '300000');");
	struct error e = { "" };
	struct table *t = table_open(path, &e);
	assert_non_null(t);
	struct table_query *q = table_query_new(t);
	assert_int_equal(table_query_filter(q, "s!~zz", &e), 0);
	assert_int_equal(table_query_sort(q, "-s", &e), 0);
	table_query_page(q, 0, 10);

	table_set_time_limit(t, 1);
	assert_null(table_page_json(t, q, &e));
	assert_string_equal(e.msg, "dataset query: the query ran longer than 1 ms");
	struct table_export *x = table_export_new(t, q, TABLE_CSV, &e);
	assert_non_null(x);
	char chunk[64];
	ssize_t n;
	while ((n = table_export_read(x, chunk, sizeof chunk, &e)) > 0)
		;
	assert_int_equal(n, -1);
	assert_string_equal(e.msg, "dataset export: the query ran longer than 1 ms");
	assert_int_equal(table_export_read(x, chunk, sizeof chunk, &e), -1);
	table_export_free(x);

	/* Without the limit the same query runs to the end. */
	table_set_time_limit(t, 0);
	json_t *page = table_page_json(t, q, &e);
	assert_non_null(page);
	assert_true(json_integer_value(json_object_get(page, "total")) > 250000);
	assert_int_equal(json_array_size(json_object_get(page, "rows")), 10);
	json_decref(page);
	/* A generous limit does not get in the way of quick calls. */
	table_set_time_limit(t, 60000);
	table_query_page(q, 0, 1);
	table_query_free(q);
	q = table_query_new(t);
	table_query_page(q, 5, 2);
	page = table_page_json(t, q, &e);
	assert_non_null(page);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(
		json_object_get(page, "rows"), 0), 0)), 6);
	json_decref(page);
	table_query_free(q);
	table_close(t);
}

/* A file written by the real importer reads as the format says. */
static void test_importer_file(void **state)
{
	struct fx *f = *state;
	char src[160], dst[160], out[256];
	snprintf(src, sizeof src, "%s/in.csv", f->dir);
	snprintf(dst, sizeof dst, "%s/imported.db", f->dir);
	write_file(src, "이름,나이,가입일,시각,비율,참여,메모,x\n"
		   "김철수,30,2024-03-05,2024-03-05 12:30,12%,Y,\"a, b\",0.1\n"
		   "이영희,\"1,234\",2024. 3. 6.,2024-03-06,5%,N,,1e20\n"
		   "박,NA,2024/1/1,2024-01-01T08:00:00,,예,\"x \"\"y\"\"\",-3\n");
	struct import_options opt = { 0 };
	struct import_result r = { 0 };
	struct error e = { "" };
	if (import_file(src, dst, &opt, &r, &e) < 0)
		fail_msg("import: %s", e.msg);
	import_result_clear(&r);
	struct table *t = table_open(dst, &e);
	assert_non_null(t);
	assert_int_equal(table_nrows(t), 3);
	static const enum column_kind kinds[] = {
		COLUMN_TEXT, COLUMN_INT, COLUMN_DATE, COLUMN_DATETIME, COLUMN_REAL, COLUMN_BOOL,
		COLUMN_TEXT, COLUMN_REAL,
	};
	assert_int_equal(table_ncolumns(t), 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(table_column(t, i)->kind, kinds[i]);
	assert_true(table_column(t, 4)->percent);
	json_t *cols = table_columns_json(t);
	assert_true(json_is_object(json_object_get(json_array_get(cols, 1), "profile")));
	json_decref(cols);

	assert_string_equal(names(t, "나이>1,000", out, sizeof out), "이영희");
	assert_string_equal(names(t, "나이=", out, sizeof out), "박");
	assert_string_equal(names(t, "가입일>=2024년 3월 1일", out, sizeof out), "김철수,이영희");
	assert_string_equal(names(t, "시각<2024-03-06", out, sizeof out), "김철수,박");
	assert_string_equal(names(t, "시각=2024-03-06", out, sizeof out), "이영희");
	assert_string_equal(names(t, "비율>=10%", out, sizeof out), "김철수");
	assert_string_equal(names(t, "참여=예", out, sizeof out), "김철수,박");
	assert_string_equal(names(t, "메모~Y", out, sizeof out), "박");
	assert_string_equal(names(t, "x<0", out, sizeof out), "박");

	struct table_query *q = table_query_new(t);
	size_t len;
	char *csv = export_all(t, q, TABLE_CSV, 7, &len);
	assert_string_equal(csv, "이름,나이,가입일,시각,비율,참여,메모,x\r\n"
			    "김철수,30,2024-03-05,2024-03-05T12:30:00,0.12,true,\"a, b\",0.1\r\n"
			    "이영희,1234,2024-03-06,2024-03-06T00:00:00,0.05,false,,1e+20\r\n"
			    "박,,2024-01-01,2024-01-01T08:00:00,,true,\"x \"\"y\"\"\",-3\r\n");
	free(csv);
	table_query_free(q);
	table_close(t);
}

static void test_injection(void **state)
{
	struct fx *f = *state;
	assert_string_equal(ids(f, "이름=x'; DROP TABLE data; --"), "-");
	assert_string_equal(ids(f, "이름=\") OR 1=1 --"), "-");
	assert_string_equal(ids(f, "이름~' OR '1'='1"), "-");
	assert_string_equal(ids(f, "이름 in a') OR (1=1|b"), "-");
	assert_string_equal(ids(f, "id=1 OR 1=1"),
			    "error: \"1 OR 1=1\" is not a valid value for column \"id\" (type integer)");
	assert_string_equal(ids(f, "id) OR (1=1"),
			    "error: filter \"id) OR (1=1\": unknown column \"id) OR (1\"");
	assert_string_equal(ids(f, "\"id\"=1"), "error: filter \"\"id\"=1\": unknown column \"\"id\"\"");
	assert_string_equal(sorted(f, "id; DROP TABLE data", NULL),
			    "error: sort: unknown column \"id; DROP TABLE data\"");
	assert_string_equal(sorted(f, "id DESC", NULL), "error: sort: unknown column \"id DESC\"");
	assert_string_equal(sorted(f, "-(SELECT 1)", NULL),
			    "error: sort: unknown column \"-(SELECT 1)\"");
	assert_string_equal(ids(f, "id>0"), "1,2,3,4,5,6");
	assert_int_equal(table_nrows(f->t), 6);

	/* The file is read-only for this connection whatever happens. */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM data", -1, &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 6);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_and_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_numbers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_bool_and_dates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filter_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_reals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_tiny_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_non_datasets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rowid_column, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_columns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_importer_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_injection, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
