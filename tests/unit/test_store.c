/*
 * The metadata store interface (store/store.h), run against a fresh store
 * per case: migrations (apply, re-apply, a failing migration rolled back,
 * an out-of-order list, a database newer than the binary), sessions
 * (create, conflict, get, delete, newest-first listing and paging),
 * concurrent creates from many threads, ping, and persistence across a
 * close and reopen.
 *
 * Only the store_* wrappers and st->ops are used, so another backend can
 * run the same cases: fresh_store_url() is the one place that names the
 * backend.  The one SQLite-specific case (ping after the database file is
 * renamed away) skips itself for other URLs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

#include "testutil.h"

#define CONNECTIONS 4

struct fx {
	char dir[64];           /* mkdtemp scratch directory, removed in teardown */
	char *url;              /* this case's store */
	struct store *st;
	struct session_row *rows;   /* a list result, freed in teardown */
};

/* ---- helpers ---------------------------------------------------------- */

/*
 * The URL of a fresh, empty store for one test case.  By default a new
 * SQLite file under the case's scratch directory (the "x/" level also
 * proves store_open creates missing directories).  SHEAF_TEST_DATABASE_URL
 * overrides it, e.g. for a PostgreSQL backend; that database must be empty
 * at the start of every case.  Returns malloc'd memory.
 */
static char *fresh_store_url(const char *dir)
{
	const char *env = getenv("SHEAF_TEST_DATABASE_URL");
	char *url;
	if (env && *env)
		url = strdup(env);
	else if (asprintf(&url, "sqlite:%s/x/sheaf.db", dir) < 0)
		url = NULL;
	assert_non_null(url);
	return url;
}

/* The database file behind a SQLite URL, or NULL for any other backend. */
static const char *sqlite_path(const char *url)
{
	if (strncmp(url, "sqlite:", 7) != 0)
		return NULL;
	url += 7;
	if (strncmp(url, "//", 2) == 0)
		url += 2;
	return url;
}

/* Fails the test with the store's message when rc is not the expected code. */
#define expect_rc(call, want, err)                                                       \
	do {                                                                             \
		int got_ = (int)(call);                                                  \
		if (got_ != (int)(want)) {                                               \
			print_error("%s returned %d, expected %d (message: \"%s\")\n", #call, \
				    got_, (int)(want), (err).msg);                           \
			fail();                                                          \
		}                                                                        \
	} while (0)

static struct store *open_store(const char *url, int connections)
{
	struct error e = { { 0 } };
	struct store *st = store_open(url, &(struct store_options){ .connections = connections, .lock_timeout_ms = -1 }, &e);
	if (!st) {
		print_error("store_open(%s): %s\n", url, e.msg);
		fail();
	}
	return st;
}

static int last_version(void)
{
	return store_migrations[store_migrations_count - 1].version;
}

static void migrate(struct store *st)
{
	struct error e = { { 0 } };
	int applied = -1;
	expect_rc(store_migrate(st, &applied, &e), STORE_OK, e);
}

static int schema_version(struct store *st)
{
	struct error e = { { 0 } };
	int v = -1;
	expect_rc(st->ops->schema_version(st, &v, &e), STORE_OK, e);
	return v;
}

/* Runs a custom migration list; returns its rc, *applied and the message in *e. */
static enum store_rc migrate_list(struct store *st, const struct migration *list, size_t n,
				  int *applied, struct error *e)
{
	memset(e, 0, sizeof *e);
	*applied = -1;
	return st->ops->migrate(st, list, n, applied, e);
}

static void create_ok(struct store *st, const char *id, int64_t now)
{
	struct error e = { { 0 } };
	struct session_row row;
	memset(&row, 0x55, sizeof row);
	expect_rc(store_session_create(st, LOCAL_USER_ID, id, now, &row, &e), STORE_OK, e);
	assert_string_equal(row.id, id);
	assert_int_equal(row.created_at, now);
	assert_int_equal(row.updated_at, now);
	assert_int_equal(row.file_count, 0);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/sheaf-test-store.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	f->url = fresh_store_url(f->dir);
	struct error e = { { 0 } };
	f->st = store_open(f->url, &(struct store_options){ .connections = CONNECTIONS, .lock_timeout_ms = -1 }, &e);
	if (!f->st) {
		print_error("store_open(%s): %s\n", f->url, e.msg);
		rm_rf(f->dir);
		free(f->url);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	store_close(f->st);
	free(f->rows);
	rm_rf(f->dir);
	free(f->url);
	free(f);
	*state = NULL;
	return 0;
}

static int setup_migrated(void **state)
{
	if (setup(state))
		return -1;
	struct fx *f = *state;
	struct error e = { { 0 } };
	int applied;
	if (store_migrate(f->st, &applied, &e) != STORE_OK) {
		print_error("store_migrate: %s\n", e.msg);
		teardown(state);   /* cmocka runs no teardown after a failed setup */
		return -1;
	}
	return 0;
}

/* ---- migrations ------------------------------------------------------- */

static void test_migrations_list_is_ordered(void **state)
{
	(void)state;
	assert_true(store_migrations_count > 0);
	assert_true(store_migrations[0].version > 0);
	for (size_t i = 0; i < store_migrations_count; i++) {
		assert_non_null(store_migrations[i].name);
		assert_non_null(store_migrations[i].sql);
		if (i)
			assert_true(store_migrations[i].version > store_migrations[i - 1].version);
	}
}

static void test_migrate_fresh_then_again(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	int applied = -1;

	assert_int_equal(schema_version(f->st), 0);
	expect_rc(store_migrate(f->st, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, (int)store_migrations_count);
	assert_int_equal(schema_version(f->st), last_version());

	applied = -1;
	expect_rc(store_migrate(f->st, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 0);
	assert_int_equal(schema_version(f->st), last_version());

	/* The schema is usable. */
	create_ok(f->st, "after-migrate", 42);
}

static void test_unmigrated_store_reports_errors(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct session_row row;
	expect_rc(store_session_create(f->st, LOCAL_USER_ID, "s1", 1, &row, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
	memset(&e, 0, sizeof e);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "s1", &row, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
}

static void test_migrate_failure_rolls_back(void **state)
{
	struct fx *f = *state;
	struct error e;
	int applied;
	const struct migration broken[] = {
		{ 1, "make_t1", "CREATE TABLE t1 (x INTEGER)" },
		{ 2, "broken_t2", "CREATE TABLE t2 (x INTEGER); THIS IS NOT SQL" },
		{ 3, "make_t3", "CREATE TABLE t3 (x INTEGER)" },
	};
	expect_rc(migrate_list(f->st, broken, 3, &applied, &e), STORE_ERROR, e);
	assert_int_equal(applied, 1);
	if (!strstr(e.msg, "broken_t2")) {
		print_error("message does not name the failed migration: \"%s\"\n", e.msg);
		fail();
	}
	assert_int_equal(schema_version(f->st), 1);

	/* The failure is stable: the same list fails the same way, nothing more applied. */
	expect_rc(migrate_list(f->st, broken, 3, &applied, &e), STORE_ERROR, e);
	assert_int_equal(applied, 0);
	assert_int_equal(schema_version(f->st), 1);

	/* A fixed v2 creates t2 again (so the failed one left no t2), v3 runs
	 * (so it did not run before), and v4 writes into t1 (so v1 stayed). */
	const struct migration fixed[] = {
		broken[0],
		{ 2, "fixed_t2", "CREATE TABLE t2 (x INTEGER)" },
		broken[2],
		{ 4, "use_t1", "INSERT INTO t1 (x) VALUES (1)" },
	};
	expect_rc(migrate_list(f->st, fixed, 4, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 3);
	assert_int_equal(schema_version(f->st), 4);
}

static void test_migrate_rejects_out_of_order(void **state)
{
	struct fx *f = *state;
	struct error e;
	int applied;
	const struct migration swapped[] = {
		{ 1, "make_a", "CREATE TABLE a (x INTEGER)" },
		{ 3, "make_c", "CREATE TABLE c (x INTEGER)" },
		{ 2, "make_b", "CREATE TABLE b (x INTEGER)" },
	};
	const struct migration duplicate[] = {
		{ 1, "make_a", "CREATE TABLE a (x INTEGER)" },
		{ 1, "make_b", "CREATE TABLE b (x INTEGER)" },
	};
	expect_rc(migrate_list(f->st, swapped, 3, &applied, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(applied, 0);
	assert_int_equal(schema_version(f->st), 0);

	expect_rc(migrate_list(f->st, duplicate, 2, &applied, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(applied, 0);
	assert_int_equal(schema_version(f->st), 0);

	/* Nothing of the rejected lists was applied: all three tables can be made. */
	const struct migration good[] = { swapped[0], swapped[2], swapped[1] };
	expect_rc(migrate_list(f->st, good, 3, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 3);
	assert_int_equal(schema_version(f->st), 3);
}

static void test_migrate_refuses_newer_database(void **state)
{
	struct fx *f = *state;
	struct error e;
	int applied;
	const struct migration three[] = {
		{ 1, "one", "CREATE TABLE m1 (x INTEGER)" },
		{ 2, "two", "CREATE TABLE m2 (x INTEGER)" },
		{ 3, "three", "CREATE TABLE m3 (x INTEGER)" },
	};
	expect_rc(migrate_list(f->st, three, 3, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 3);
	assert_int_equal(schema_version(f->st), 3);

	expect_rc(migrate_list(f->st, three, 2, &applied, &e), STORE_ERROR, e);
	assert_int_equal(applied, 0);
	if (!strstr(e.msg, "3")) {
		print_error("message does not give the database's version: \"%s\"\n", e.msg);
		fail();
	}
	assert_int_equal(schema_version(f->st), 3);

	/* The full list is still fine. */
	expect_rc(migrate_list(f->st, three, 3, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 0);
}

/* ---- sessions --------------------------------------------------------- */

static void test_session_create_get_delete(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct session_row row;

	create_ok(f->st, "sess-A_1", 1700000000123);
	memset(&row, 0, sizeof row);
	expect_rc(store_session_create(f->st, LOCAL_USER_ID, "sess-A_1", 1700000000999, &row, &e),
		  STORE_CONFLICT, e);

	memset(&row, 0x55, sizeof row);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "sess-A_1", &row, &e), STORE_OK, e);
	assert_string_equal(row.id, "sess-A_1");
	/* The conflicting create changed nothing. */
	assert_int_equal(row.created_at, 1700000000123);
	assert_int_equal(row.updated_at, 1700000000123);
	assert_int_equal(row.file_count, 0);

	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "no-such-session", &row, &e), STORE_NOT_FOUND, e);
	/* Ids are exact: neither a prefix nor another case matches. */
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "sess-A", &row, &e), STORE_NOT_FOUND, e);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "SESS-A_1", &row, &e), STORE_NOT_FOUND, e);

	create_ok(f->st, "sess-B", 5);
	expect_rc(store_session_delete(f->st, LOCAL_USER_ID, "sess-A_1", &e), STORE_OK, e);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "sess-A_1", &row, &e), STORE_NOT_FOUND, e);
	expect_rc(store_session_delete(f->st, LOCAL_USER_ID, "sess-A_1", &e), STORE_NOT_FOUND, e);
	/* Only that one went. */
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "sess-B", &row, &e), STORE_OK, e);
	assert_int_equal(row.created_at, 5);

	/* A deleted id can be created again. */
	create_ok(f->st, "sess-A_1", 77);
}

static void test_session_list_newest_first(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char id[32];
	/* Created in an order that is not the time order, so sorting is tested. */
	for (int k = 0; k < 25; k++) {
		int i = (k * 7) % 25;
		snprintf(id, sizeof id, "s%02d", i);
		create_ok(f->st, id, 1000 + 10 * (int64_t)i);
	}

	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 10, 0, &f->rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(n, 10);
	assert_int_equal(total, 25);
	for (size_t j = 0; j < n; j++) {
		int i = 24 - (int)j;
		snprintf(id, sizeof id, "s%02d", i);
		assert_string_equal(f->rows[j].id, id);
		assert_int_equal(f->rows[j].created_at, 1000 + 10 * i);
		assert_int_equal(f->rows[j].updated_at, 1000 + 10 * i);
		assert_int_equal(f->rows[j].file_count, 0);
	}
	free(f->rows);
	f->rows = NULL;
}

static void test_session_list_paging(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char id[32];
	int seen[25] = { 0 };
	for (int i = 0; i < 25; i++) {
		snprintf(id, sizeof id, "p%02d", i);
		create_ok(f->st, id, 5000 + (int64_t)i);
	}

	int64_t prev = INT64_MAX;
	int pages = 0;
	for (int64_t offset = 0;; offset += 7) {
		size_t n = 99;
		int64_t total = -1;
		expect_rc(store_session_list(f->st, LOCAL_USER_ID, 7, offset, &f->rows, &n, &total, &e),
			  STORE_OK, e);
		assert_int_equal(total, 25);
		assert_true(n <= 7);
		for (size_t j = 0; j < n; j++) {
			int i = -1;
			assert_int_equal(sscanf(f->rows[j].id, "p%d", &i), 1);
			assert_in_range(i, 0, 24);
			seen[i]++;
			assert_true(f->rows[j].created_at < prev);
			prev = f->rows[j].created_at;
		}
		free(f->rows);
		f->rows = NULL;
		if (n == 0)
			break;
		pages++;
		assert_true(pages <= 4);
	}
	assert_int_equal(pages, 4);
	for (int i = 0; i < 25; i++)
		assert_int_equal(seen[i], 1);

	/* Past the end. */
	const int64_t offsets[] = { 25, 26, 1000 };
	for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
		size_t n = 99;
		int64_t total = -1;
		expect_rc(store_session_list(f->st, LOCAL_USER_ID, 10, offsets[k], &f->rows, &n, &total, &e),
			  STORE_OK, e);
		assert_int_equal(n, 0);
		assert_int_equal(total, 25);
		free(f->rows);
		f->rows = NULL;
	}
}

static void test_session_list_empty(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 10, 0, &f->rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(n, 0);
	assert_int_equal(total, 0);
}

/* ---- concurrency ------------------------------------------------------ */

#define THREADS 8
#define PER_THREAD 50

struct worker {
	struct store *st;
	pthread_barrier_t *start;
	int index;
	const char *same_id;    /* NULL: create PER_THREAD ids of our own */
	int ok, conflict, other;
	struct error e;         /* the first unexpected failure */
};

static void *worker_run(void *arg)
{
	struct worker *w = arg;
	pthread_barrier_wait(w->start);
	int count = w->same_id ? 1 : PER_THREAD;
	for (int i = 0; i < count; i++) {
		char id[32];
		struct session_row row;
		struct error e = { { 0 } };
		if (w->same_id)
			snprintf(id, sizeof id, "%s", w->same_id);
		else
			snprintf(id, sizeof id, "t%d-%02d", w->index, i);
		enum store_rc rc = store_session_create(w->st, LOCAL_USER_ID, id, 1000 * w->index + i, &row, &e);
		if (rc == STORE_OK && strcmp(row.id, id) == 0)
			w->ok++;
		else if (rc == STORE_CONFLICT)
			w->conflict++;
		else if (w->other++ == 0)
			w->e = e;
	}
	return NULL;
}

/* Starts THREADS workers at once; sums their counts. */
static void run_workers(struct store *st, const char *same_id, int *ok, int *conflict)
{
	pthread_t tid[THREADS];
	struct worker w[THREADS];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].st = st;
		w[i].start = &start;
		w[i].index = i;
		w[i].same_id = same_id;
		assert_int_equal(pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
	}
	*ok = *conflict = 0;
	int other = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		*ok += w[i].ok;
		*conflict += w[i].conflict;
		if (w[i].other)
			print_error("thread %d: %d unexpected results, first: \"%s\"\n", i,
				    w[i].other, w[i].e.msg);
		other += w[i].other;
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(other, 0);
}

static void test_concurrent_creates(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	int ok, conflict;
	run_workers(f->st, NULL, &ok, &conflict);
	assert_int_equal(ok, THREADS * PER_THREAD);
	assert_int_equal(conflict, 0);

	size_t n = 0;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 1000, 0, &f->rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, THREADS * PER_THREAD);
	assert_int_equal(n, THREADS * PER_THREAD);
	/* Every row is one a thread made, with its own timestamp. */
	for (size_t j = 0; j < n; j++) {
		int t = -1, i = -1;
		assert_int_equal(sscanf(f->rows[j].id, "t%d-%d", &t, &i), 2);
		assert_in_range(t, 0, THREADS - 1);
		assert_in_range(i, 0, PER_THREAD - 1);
		assert_int_equal(f->rows[j].created_at, 1000 * t + i);
	}
}

static void test_concurrent_same_id(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	/* Several rounds, each a fresh id raced by every thread. */
	for (int round = 0; round < 10; round++) {
		char id[32];
		snprintf(id, sizeof id, "race-%d", round);
		int ok, conflict;
		run_workers(f->st, id, &ok, &conflict);
		assert_int_equal(ok, 1);
		assert_int_equal(conflict, THREADS - 1);
		struct session_row row;
		expect_rc(store_session_get(f->st, LOCAL_USER_ID, id, &row, &e), STORE_OK, e);
		assert_in_range(row.created_at, 0, 1000 * (THREADS - 1));
		assert_int_equal(row.created_at % 1000, 0);
	}
	size_t n = 0;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 100, 0, &f->rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 10);
}

/* ---- ping and persistence --------------------------------------------- */

static void test_ping_fresh(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	expect_rc(store_ping(f->st, &e), STORE_OK, e);
	migrate(f->st);
	expect_rc(store_ping(f->st, &e), STORE_OK, e);
}

static void test_ping_after_file_renamed(void **state)
{
	struct fx *f = *state;
	const char *path = sqlite_path(f->url);
	if (!path)
		skip();
	struct error e = { { 0 } };
	migrate(f->st);
	expect_rc(store_ping(f->st, &e), STORE_OK, e);

	char moved[256];
	snprintf(moved, sizeof moved, "%s.moved", path);
	assert_int_equal(rename(path, moved), 0);
	memset(&e, 0, sizeof e);
	expect_rc(store_ping(f->st, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');

	/* Back in place: healthy again. */
	assert_int_equal(rename(moved, path), 0);
	expect_rc(store_ping(f->st, &e), STORE_OK, e);
}

static void test_persistence_across_reopen(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	create_ok(f->st, "keep-1", 111);
	create_ok(f->st, "keep-2", 222);
	create_ok(f->st, "gone", 333);
	expect_rc(store_session_delete(f->st, LOCAL_USER_ID, "gone", &e), STORE_OK, e);

	store_close(f->st);
	f->st = NULL;
	f->st = open_store(f->url, 2);

	assert_int_equal(schema_version(f->st), last_version());
	int applied = -1;
	expect_rc(store_migrate(f->st, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 0);

	struct session_row row;
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "keep-1", &row, &e), STORE_OK, e);
	assert_int_equal(row.created_at, 111);
	assert_int_equal(row.updated_at, 111);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "gone", &row, &e), STORE_NOT_FOUND, e);

	size_t n = 0;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 10, 0, &f->rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 2);
	assert_int_equal(n, 2);
	assert_string_equal(f->rows[0].id, "keep-2");
	assert_string_equal(f->rows[1].id, "keep-1");
	expect_rc(store_session_create(f->st, LOCAL_USER_ID, "keep-1", 999, &row, &e), STORE_CONFLICT, e);
}

static void test_open_rejects_unknown_url(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct store *st = store_open("nosuchdb://x", NULL, &e);
	assert_null(st);
	assert_true(e.msg[0] != '\0');
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TM(fn) cmocka_unit_test_setup_teardown(fn, setup_migrated, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_list_is_ordered),
		cmocka_unit_test(test_open_rejects_unknown_url),
		T(test_migrate_fresh_then_again),
		T(test_unmigrated_store_reports_errors),
		T(test_migrate_failure_rolls_back),
		T(test_migrate_rejects_out_of_order),
		T(test_migrate_refuses_newer_database),
		TM(test_session_create_get_delete),
		TM(test_session_list_newest_first),
		TM(test_session_list_paging),
		TM(test_session_list_empty),
		TM(test_concurrent_creates),
		TM(test_concurrent_same_id),
		T(test_ping_fresh),
		T(test_ping_after_file_renamed),
		TM(test_persistence_across_reopen),
	};
#undef T
#undef TM
	return cmocka_run_group_tests(tests, NULL, NULL);
}
