/*
 * Frames (frame/frame.h): column arrays of a dataset file written by the
 * real importer -- values, NULLs, text kept in a numeric column, the
 * dictionary of a text column, the cache (a second request loads nothing,
 * columns of two files kept apart, eviction of unused columns only, no
 * caching with a zero budget), an unknown column, and many threads asking
 * at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/table.h"
#include "frame/frame.h"
#include "ingest/import.h"
#include "query/memory.h"

#include "testutil.h"

#define ROWS 5000

struct fx {
	char dir[64];
	char path[2][128];
	struct table *t[2];
};

static const struct sql_limits lim = { .time_ms = 10000, .memory_bytes = 64 << 20,
					 .max_value_bytes = 1 << 20 };

static void write_csv(const char *path, int variant)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("id,score,city,day,flag,mixed\n", f);
	static const char *const cities[] = { "대구", "서울", "부산", "a,b" };
	for (int i = 0; i < ROWS; i++) {
		/* score: NULL every 7th row; mixed: numbers and one word, so text. */
		if (i % 7 == 0)
			fprintf(f, "%d,,", i);
		else
			fprintf(f, "%d,%.2f,", i, i * 0.5 + variant);
		fprintf(f, "\"%s\",2024-01-%02d,%s,%s\n", cities[(i + variant) % 4], 1 + i % 28,
			i % 3 ? "true" : "false", i == 4000 ? "twelve" : "12");
	}
	fclose(f);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sheaf-frame-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	for (int v = 0; v < 2; v++) {
		char csv[160], dir[64];
		memcpy(dir, fx->dir, sizeof dir);
		snprintf(csv, sizeof csv, "%s/in%d.csv", dir, v);
		snprintf(fx->path[v], sizeof fx->path[v], "%s/d%d.sqlite", dir, v);
		write_csv(csv, v);
		struct import_options o = { 0 };
		struct import_result r;
		struct error e;
		expect_rc(import_file(csv, fx->path[v], &o, &r, &e), 0, e);
		import_result_clear(&r);
		fx->t[v] = table_open(fx->path[v], &e);
		assert_non_null(fx->t[v]);
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	for (int v = 0; v < 2; v++)
		table_close(fx->t[v]);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

static void test_values(void **state)
{
	struct fx *fx = *state;
	struct frame_cache *fc = frame_cache_new(1 << 30);
	const char *names[] = { "id", "score", "city", "day", "flag", "mixed" };
	const struct frame_column *c[6];
	enum sql_status why;
	struct error e;
	expect_rc(frame_get(fc, fx->t[0], "k0", names, 6, &lim, c, &why, &e), 0, e);
	for (int i = 0; i < 6; i++)
		assert_int_equal(c[i]->n, ROWS);
	assert_int_equal(c[0]->kind, COLUMN_INT);
	assert_int_equal(c[1]->kind, COLUMN_REAL);
	assert_int_equal(c[4]->kind, COLUMN_BOOL);
	assert_int_equal(c[5]->kind, COLUMN_TEXT);
	for (int i = 0; i < ROWS; i++) {
		assert_true(c[0]->valid[i]);
		assert_int_equal(c[0]->i64[i], i);
		assert_true(c[0]->num[i] == i);
		assert_int_equal(c[1]->valid[i], i % 7 != 0);
		if (i % 7)
			assert_true(c[1]->num[i] == i * 0.5);
		assert_int_equal(c[4]->i64[i], i % 3 != 0);
	}
	/* Text: codes in first-seen order, the strings once each. */
	assert_int_equal(c[2]->ndict, 4);
	assert_string_equal(c[2]->dict[c[2]->code[0]], "대구");
	assert_string_equal(c[2]->dict[c[2]->code[3]], "a,b");
	assert_int_equal(c[2]->dict_len[c[2]->code[3]], 3);
	assert_int_equal(c[3]->ndict, 28);
	assert_string_equal(c[3]->dict[c[3]->code[27]], "2024-01-28");
	assert_int_equal(c[5]->ndict, 2);
	assert_string_equal(c[5]->dict[c[5]->code[4000]], "twelve");
	assert_false(c[5]->dict_full);
	frame_release(fc, c, 6);
	frame_cache_free(fc);
}

static void test_cache(void **state)
{
	struct fx *fx = *state;
	struct frame_cache *fc = frame_cache_new(1 << 30);
	const char *names[] = { "score", "city" };
	const struct frame_column *a[2], *b[2], *other[2];
	enum sql_status why;
	struct error e;
	expect_rc(frame_get(fc, fx->t[0], "k0", names, 2, &lim, a, &why, &e), 0, e);
	assert_int_equal(frame_cache_loads(fc), 2);
	size_t bytes = frame_cache_bytes(fc);
	assert_true(bytes >= ROWS * 14);   /* score: 1 + 8, city: 1 + 4 per row */
	expect_rc(frame_get(fc, fx->t[0], "k0", names, 2, &lim, b, &why, &e), 0, e);
	assert_int_equal(frame_cache_loads(fc), 2);          /* nothing loaded again */
	assert_ptr_equal(a[0], b[0]);
	/* Another file's columns are its own. */
	expect_rc(frame_get(fc, fx->t[1], "k1", names, 2, &lim, other, &why, &e), 0, e);
	assert_int_equal(frame_cache_loads(fc), 4);
	assert_true(other[0]->num[1] == 0.5 + 1);
	assert_string_equal(other[1]->dict[other[1]->code[0]], "서울");
	frame_release(fc, a, 2);
	frame_release(fc, b, 2);
	frame_release(fc, other, 2);
	/* An unknown column: an error, nothing held. */
	const char *bad[] = { "score", "nope" };
	assert_int_equal(frame_get(fc, fx->t[0], "k0", bad, 2, &lim, a, &why, &e), -1);
	assert_int_equal(why, SQL_INVALID);
	assert_non_null(strstr(e.msg, "nope"));
	frame_cache_free(fc);
}

static void test_eviction(void **state)
{
	struct fx *fx = *state;
	/* Room for about one numeric column. */
	struct frame_cache *fc = frame_cache_new(ROWS * 20);
	const char *s[] = { "score" }, *i[] = { "id" };
	const struct frame_column *a[1], *b[1];
	enum sql_status why;
	struct error e;
	expect_rc(frame_get(fc, fx->t[0], "k0", s, 1, &lim, a, &why, &e), 0, e);
	expect_rc(frame_get(fc, fx->t[0], "k0", i, 1, &lim, b, &why, &e), 0, e);
	/* Both in use: over budget, but nothing in use is freed. */
	assert_true(a[0]->num[1] == 0.5);
	assert_int_equal(b[0]->i64[ROWS - 1], ROWS - 1);
	frame_release(fc, a, 1);          /* now score can go */
	assert_true(frame_cache_bytes(fc) <= ROWS * 20);
	frame_release(fc, b, 1);
	expect_rc(frame_get(fc, fx->t[0], "k0", i, 1, &lim, b, &why, &e), 0, e);
	assert_int_equal(frame_cache_loads(fc), 2);          /* id stayed */
	frame_release(fc, b, 1);
	frame_cache_free(fc);
	/* A zero budget keeps nothing. */
	fc = frame_cache_new(0);
	expect_rc(frame_get(fc, fx->t[0], "k0", s, 1, &lim, a, &why, &e), 0, e);
	frame_release(fc, a, 1);
	assert_int_equal(frame_cache_bytes(fc), 0);
	frame_cache_free(fc);
}

struct worker {
	struct frame_cache *fc;
	struct table *t;
	const char *key;
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	const char *names[] = { "score", "city", "id" };
	for (int round = 0; round < 20; round++) {
		const struct frame_column *c[3];
		enum sql_status why;
		struct error e;
		/* Each thread has its own connection: tables are single-threaded. */
		if (frame_get(w->fc, w->t, w->key, names + round % 2, 2, &lim, c, &why, &e) < 0) {
			w->bad++;
			continue;
		}
		if (c[0]->n != ROWS || c[1]->n != ROWS)
			w->bad++;
		frame_release(w->fc, c, 2);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *fx = *state;
	struct frame_cache *fc = frame_cache_new(ROWS * 30);   /* small: evictions happen */
	pthread_t th[6];
	struct worker w[6];
	for (int i = 0; i < 6; i++) {
		struct error e;
		w[i] = (struct worker){ fc, table_open(fx->path[i % 2], &e), i % 2 ? "k1" : "k0", 0 };
		assert_non_null(w[i].t);
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
		table_close(w[i].t);
	}
	frame_cache_free(fc);
}

int main(void)
{
	if (sqlmem_install() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
