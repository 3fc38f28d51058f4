/*
 * The metadata store interface (store/store.h), run against a fresh store
 * per case: migrations (apply, re-apply, a failing migration rolling back
 * its whole batch, an out-of-order list, a database newer than the binary,
 * an old database's sessions handed to the built-in user), users (create, lookup,
 * email conflicts, updates, password changes that revoke), refresh tokens
 * (rotation, reuse detection, expiry, revocation, purging, a rotation
 * race), sessions (create, conflict, get, delete, newest-first listing and
 * paging, isolation between owners), concurrent creates from many
 * threads, ping, and persistence across a close and reopen; datasets
 * (create with their ingest job, progress joined from the job, ready and
 * failed only while processing, updates, six list orders with paging,
 * delete that cancels jobs and returns object keys), share links (owner
 * checks, expiry, revocation, listing), jobs (life cycle, claims by age and
 * kind, cancel, recovery of stale jobs, a claim race across two stores on
 * one database), and failure paths (an unmigrated store; a refused write
 * inside a transaction undoes all of it).
 *
 * Only the store_* wrappers and st->ops are used, so another backend can
 * run the same cases: fresh_store_url() is the one place that names the
 * backend.  The SQLite-specific cases (ping after the database file is
 * renamed away, triggers that refuse writes) skip themselves for other
 * URLs.
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
	/* The batch is one transaction: v2's failure undoes v1 too. */
	expect_rc(migrate_list(f->st, broken, 3, &applied, &e), STORE_ERROR, e);
	assert_int_equal(applied, 0);
	if (!strstr(e.msg, "broken_t2")) {
		print_error("message does not name the failed migration: \"%s\"\n", e.msg);
		fail();
	}
	assert_int_equal(schema_version(f->st), 0);

	/* A version committed by an earlier run stays when a later batch fails. */
	expect_rc(migrate_list(f->st, broken, 1, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 1);
	expect_rc(migrate_list(f->st, broken, 3, &applied, &e), STORE_ERROR, e);
	assert_int_equal(applied, 0);
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
	expect_rc(store_session_delete(f->st, LOCAL_USER_ID, "sess-A_1", NULL, &e), STORE_OK, e);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "sess-A_1", &row, &e), STORE_NOT_FOUND, e);
	expect_rc(store_session_delete(f->st, LOCAL_USER_ID, "sess-A_1", NULL, &e), STORE_NOT_FOUND, e);
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
	expect_rc(store_session_delete(f->st, LOCAL_USER_ID, "gone", NULL, &e), STORE_OK, e);

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

/* ---- users -------------------------------------------------------------- */

/* A user row with every field set from id and email. */
static struct user_row user_of(const char *id, const char *email, int64_t now)
{
	struct user_row u;
	memset(&u, 0, sizeof u);
	snprintf(u.id, sizeof u.id, "%s", id);
	snprintf(u.email, sizeof u.email, "%s", email);
	snprintf(u.name, sizeof u.name, "Name of %s", id);
	snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$v=19$m=1024,t=1,p=1$%s", id);
	u.created_at = now;
	u.updated_at = now + 1;
	u.token_version = 5;
	return u;
}

static void add_user(struct store *st, const char *id, const char *email)
{
	struct error e = { { 0 } };
	struct user_row u = user_of(id, email, 1000);
	expect_rc(store_user_create(st, &u, &e), STORE_OK, e);
}

static void assert_user_equal(const struct user_row *a, const struct user_row *b)
{
	assert_string_equal(a->id, b->id);
	assert_string_equal(a->email, b->email);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->password_hash, b->password_hash);
	assert_int_equal(a->created_at, b->created_at);
	assert_int_equal(a->updated_at, b->updated_at);
	assert_int_equal(a->token_version, b->token_version);
}

static void test_user_create_get_find(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct user_row in = user_of("u_Kim-1", "kim@example.com", 1700000000123);
	snprintf(in.name, sizeof in.name, "%s", "\xea\xb9\x80\xeb\xaf\xbc\xec\xa4\x80 O'Neil");
	expect_rc(store_user_create(f->st, &in, &e), STORE_OK, e);

	struct user_row out;
	memset(&out, 0x55, sizeof out);
	expect_rc(store_user_get(f->st, "u_Kim-1", &out, &e), STORE_OK, e);
	assert_user_equal(&out, &in);
	memset(&out, 0x55, sizeof out);
	expect_rc(store_user_find_email(f->st, "kim@example.com", &out, &e), STORE_OK, e);
	assert_user_equal(&out, &in);

	/* Exact matches only (emails are normalised before they get here). */
	expect_rc(store_user_get(f->st, "u_kim-1", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_get(f->st, "u_Kim", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_get(f->st, "", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_find_email(f->st, "kim@example.co", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_find_email(f->st, "x@example.com", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_find_email(f->st, "%@example.com", &out, &e), STORE_NOT_FOUND, e);

	/* The built-in local user the migration made, which no password matches. */
	expect_rc(store_user_get(f->st, LOCAL_USER_ID, &out, &e), STORE_OK, e);
	assert_string_equal(out.id, LOCAL_USER_ID);
	assert_string_equal(out.password_hash, "!");
	assert_int_equal(out.token_version, 0);
	struct user_row by_email;
	expect_rc(store_user_find_email(f->st, out.email, &by_email, &e), STORE_OK, e);
	assert_string_equal(by_email.id, LOCAL_USER_ID);
}

static void test_user_email_conflict(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_user(f->st, "u1", "kim@example.com");
	struct user_row dup = user_of("u2", "kim@example.com", 2000);
	expect_rc(store_user_create(f->st, &dup, &e), STORE_CONFLICT, e);
	struct user_row out;
	expect_rc(store_user_get(f->st, "u2", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_find_email(f->st, "kim@example.com", &out, &e), STORE_OK, e);
	assert_string_equal(out.id, "u1");
	assert_int_equal(out.created_at, 1000);
	/* The local user's address is taken too. */
	struct user_row local;
	expect_rc(store_user_get(f->st, LOCAL_USER_ID, &local, &e), STORE_OK, e);
	dup = user_of("u3", local.email, 2000);
	expect_rc(store_user_create(f->st, &dup, &e), STORE_CONFLICT, e);
	/* Another address is fine. */
	dup = user_of("u2", "lee@example.com", 2000);
	expect_rc(store_user_create(f->st, &dup, &e), STORE_OK, e);
}

static void test_user_update(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_user(f->st, "u1", "kim@example.com");
	add_user(f->st, "u2", "lee@example.com");
	struct user_row before, out, again;
	expect_rc(store_user_get(f->st, "u1", &before, &e), STORE_OK, e);

	expect_rc(store_user_update(f->st, "u1", "New Name", NULL, 5000, &out, &e), STORE_OK, e);
	assert_string_equal(out.name, "New Name");
	assert_string_equal(out.email, "kim@example.com");
	assert_int_equal(out.updated_at, 5000);
	assert_int_equal(out.created_at, before.created_at);
	assert_string_equal(out.password_hash, before.password_hash);
	assert_int_equal(out.token_version, before.token_version);
	expect_rc(store_user_get(f->st, "u1", &again, &e), STORE_OK, e);
	assert_user_equal(&again, &out);

	expect_rc(store_user_update(f->st, "u1", NULL, "kim2@example.com", 6000, &out, &e),
		  STORE_OK, e);
	assert_string_equal(out.name, "New Name");
	assert_string_equal(out.email, "kim2@example.com");
	assert_int_equal(out.updated_at, 6000);
	expect_rc(store_user_find_email(f->st, "kim@example.com", &again, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_find_email(f->st, "kim2@example.com", &again, &e), STORE_OK, e);
	assert_string_equal(again.id, "u1");

	expect_rc(store_user_update(f->st, "u1", "Both", "kim3@example.com", 7000, &out, &e),
		  STORE_OK, e);
	assert_string_equal(out.name, "Both");
	assert_string_equal(out.email, "kim3@example.com");
	assert_int_equal(out.updated_at, 7000);
	/* Its own address again is no conflict. */
	expect_rc(store_user_update(f->st, "u1", NULL, "kim3@example.com", 7500, &out, &e),
		  STORE_OK, e);

	/* Nothing to change: the row as it is. */
	expect_rc(store_user_get(f->st, "u1", &before, &e), STORE_OK, e);
	expect_rc(store_user_update(f->st, "u1", NULL, NULL, 8000, &out, &e), STORE_OK, e);
	assert_user_equal(&out, &before);

	/* Another user's address: a conflict, and the name in the same call is not
	 * changed either. */
	expect_rc(store_user_update(f->st, "u1", "Lost", "lee@example.com", 9000, &out, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_user_get(f->st, "u1", &again, &e), STORE_OK, e);
	assert_user_equal(&again, &before);
	expect_rc(store_user_find_email(f->st, "lee@example.com", &again, &e), STORE_OK, e);
	assert_string_equal(again.id, "u2");

	expect_rc(store_user_update(f->st, "nobody", "X", NULL, 9000, &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_user_update(f->st, "nobody", NULL, "n@example.com", 9000, &out, &e),
		  STORE_NOT_FOUND, e);
	expect_rc(store_user_find_email(f->st, "n@example.com", &again, &e), STORE_NOT_FOUND, e);
}

/* ---- refresh tokens ---------------------------------------------------- */

/* A refresh row: hash is padded to 64 characters so it looks like a real one. */
static struct refresh_row refresh_of(const char *hash, const char *user, const char *family,
				     int64_t created, int64_t expires)
{
	struct refresh_row r;
	memset(&r, 0, sizeof r);
	snprintf(r.token_hash, sizeof r.token_hash, "%-64s", hash);
	for (char *p = r.token_hash; *p; p++)
		if (*p == ' ')
			*p = '0';
	snprintf(r.user_id, sizeof r.user_id, "%s", user);
	snprintf(r.family_id, sizeof r.family_id, "%s", family);
	r.created_at = created;
	r.expires_at = expires;
	return r;
}

/* The stored hash of refresh_of(name, ...). */
static const char *hash_of(const char *name, char out[65])
{
	struct refresh_row r = refresh_of(name, "", "", 0, 0);
	memcpy(out, r.token_hash, 65);
	return out;
}

static void insert_refresh(struct store *st, const char *name, const char *user,
			   const char *family, int64_t created, int64_t expires)
{
	struct error e = { { 0 } };
	struct refresh_row r = refresh_of(name, user, family, created, expires);
	struct user_row u;
	if (store_user_get(st, user, &u, &e) == STORE_OK)   /* issued as of now */
		r.token_version = u.token_version;
	expect_rc(store_refresh_insert(st, &r, &e), STORE_OK, e);
}

/* Rotates old into new at now; returns the rc and fills *fresh. */
static enum store_rc rotate(struct store *st, const char *old, const char *new_name, int64_t now,
			    struct refresh_row *fresh, struct error *e)
{
	char h[65];
	*fresh = refresh_of(new_name, "should-be-replaced", "should-be-replaced", now,
			    now + 100000);
	memset(e, 0, sizeof *e);
	return store_refresh_rotate(st, hash_of(old, h), fresh, now, e);
}

static void test_refresh_rotate_and_reuse(void **state)
{
	struct fx *f = *state;
	struct error e;
	struct refresh_row fresh;
	add_user(f->st, "u1", "kim@example.com");
	insert_refresh(f->st, "t1", "u1", "fam-1", 1000, 100000);

	expect_rc(rotate(f->st, "t1", "t2", 2000, &fresh, &e), STORE_OK, e);
	assert_string_equal(fresh.user_id, "u1");
	assert_string_equal(fresh.family_id, "fam-1");
	expect_rc(rotate(f->st, "t2", "t3", 3000, &fresh, &e), STORE_OK, e);
	assert_string_equal(fresh.user_id, "u1");
	assert_string_equal(fresh.family_id, "fam-1");

	/* t1 comes back: reuse, and the whole family goes, t3 included. */
	expect_rc(rotate(f->st, "t1", "t4", 4000, &fresh, &e), STORE_REUSED, e);
	expect_rc(rotate(f->st, "t3", "t5", 4001, &fresh, &e), STORE_NOT_FOUND, e);
	/* Nothing was stored for the refused rotations. */
	expect_rc(rotate(f->st, "t4", "t6", 4002, &fresh, &e), STORE_NOT_FOUND, e);
	expect_rc(rotate(f->st, "t5", "t7", 4003, &fresh, &e), STORE_NOT_FOUND, e);
	/* A revoked family stays revoked: t1 and t2 again change nothing. */
	expect_rc(rotate(f->st, "t2", "t8", 4004, &fresh, &e), STORE_NOT_FOUND, e);
	expect_rc(rotate(f->st, "t1", "t9", 4005, &fresh, &e), STORE_NOT_FOUND, e);

	/* Unknown tokens. */
	expect_rc(rotate(f->st, "never-issued", "t10", 4006, &fresh, &e), STORE_NOT_FOUND, e);
	fresh = refresh_of("t11", "", "", 0, 100000);
	expect_rc(store_refresh_rotate(f->st, "", &fresh, 5000, &e), STORE_NOT_FOUND, e);
}

static void test_refresh_reuse_spares_other_families(void **state)
{
	struct fx *f = *state;
	struct error e;
	struct refresh_row fresh;
	add_user(f->st, "u1", "kim@example.com");
	add_user(f->st, "u2", "lee@example.com");
	insert_refresh(f->st, "a1", "u1", "fam-a", 1000, 100000);
	insert_refresh(f->st, "b1", "u1", "fam-b", 1000, 100000);   /* another login */
	insert_refresh(f->st, "c1", "u2", "fam-c", 1000, 100000);   /* another user */
	expect_rc(rotate(f->st, "a1", "a2", 2000, &fresh, &e), STORE_OK, e);
	expect_rc(rotate(f->st, "a1", "a3", 2001, &fresh, &e), STORE_REUSED, e);
	expect_rc(rotate(f->st, "a2", "a4", 2002, &fresh, &e), STORE_NOT_FOUND, e);
	expect_rc(rotate(f->st, "b1", "b2", 2003, &fresh, &e), STORE_OK, e);
	assert_string_equal(fresh.family_id, "fam-b");
	expect_rc(rotate(f->st, "c1", "c2", 2004, &fresh, &e), STORE_OK, e);
	assert_string_equal(fresh.user_id, "u2");
	assert_string_equal(fresh.family_id, "fam-c");
}

static void test_refresh_expiry(void **state)
{
	struct fx *f = *state;
	struct error e;
	struct refresh_row fresh;
	add_user(f->st, "u1", "kim@example.com");
	insert_refresh(f->st, "t1", "u1", "fam-1", 100, 1000);
	insert_refresh(f->st, "t2", "u1", "fam-2", 100, 1000);
	/* Expired at expires_at itself; usable the millisecond before. */
	expect_rc(rotate(f->st, "t1", "t3", 1000, &fresh, &e), STORE_NOT_FOUND, e);
	expect_rc(rotate(f->st, "t1", "t3", 5000, &fresh, &e), STORE_NOT_FOUND, e);
	expect_rc(rotate(f->st, "t2", "t4", 999, &fresh, &e), STORE_OK, e);
	/* The refused rotation stored nothing; the good one did. */
	expect_rc(rotate(f->st, "t3", "t5", 1001, &fresh, &e), STORE_NOT_FOUND, e);
	expect_rc(rotate(f->st, "t4", "t6", 1001, &fresh, &e), STORE_OK, e);
	/* A used token that comes back after expiry is still reuse. */
	expect_rc(rotate(f->st, "t2", "t7", 200000, &fresh, &e), STORE_REUSED, e);
	expect_rc(rotate(f->st, "t6", "t8", 1002, &fresh, &e), STORE_NOT_FOUND, e);
}

static void test_refresh_revoke(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct refresh_row fresh;
	char h[65];
	add_user(f->st, "u1", "kim@example.com");
	insert_refresh(f->st, "t1", "u1", "fam-1", 1000, 100000);
	insert_refresh(f->st, "o1", "u1", "fam-2", 1000, 100000);
	expect_rc(rotate(f->st, "t1", "t2", 2000, &fresh, &e), STORE_OK, e);

	/* Revoking the current token ends its family. */
	expect_rc(store_refresh_revoke(f->st, hash_of("t2", h), 3000, &e), STORE_OK, e);
	expect_rc(rotate(f->st, "t2", "t3", 3001, &fresh, &e), STORE_NOT_FOUND, e);
	/* Already revoked: fine, and still revoked. */
	expect_rc(store_refresh_revoke(f->st, hash_of("t2", h), 3002, &e), STORE_OK, e);
	expect_rc(store_refresh_revoke(f->st, hash_of("t1", h), 3003, &e), STORE_OK, e);
	expect_rc(rotate(f->st, "t1", "t4", 3004, &fresh, &e), STORE_NOT_FOUND, e);
	/* Unknown. */
	expect_rc(store_refresh_revoke(f->st, hash_of("never", h), 3005, &e), STORE_NOT_FOUND, e);
	expect_rc(store_refresh_revoke(f->st, "", 3005, &e), STORE_NOT_FOUND, e);
	/* The other family is untouched. */
	expect_rc(rotate(f->st, "o1", "o2", 3006, &fresh, &e), STORE_OK, e);

	/* Revoking with a used (older) token of a family ends it too. */
	expect_rc(store_refresh_revoke(f->st, hash_of("o1", h), 3007, &e), STORE_OK, e);
	expect_rc(rotate(f->st, "o2", "o3", 3008, &fresh, &e), STORE_NOT_FOUND, e);

	/* An expired token can still be revoked (logging out late is not an error). */
	insert_refresh(f->st, "x1", "u1", "fam-3", 4000, 5000);
	expect_rc(store_refresh_revoke(f->st, hash_of("x1", h), 6000, &e), STORE_OK, e);
}

static void test_refresh_insert_purges_expired(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct refresh_row fresh;
	char h[65];
	add_user(f->st, "u1", "kim@example.com");
	add_user(f->st, "u2", "lee@example.com");
	insert_refresh(f->st, "old", "u1", "fam-1", 100, 1000);
	insert_refresh(f->st, "edge", "u1", "fam-2", 100, 2000);
	insert_refresh(f->st, "live", "u1", "fam-3", 100, 100000);
	insert_refresh(f->st, "other", "u2", "fam-4", 100, 1000);
	/* Expired rows are still there until the next insert of their user
	 * (revoke finds them: it does not look at expiry). */
	insert_refresh(f->st, "new", "u1", "fam-5", 2000, 100000);

	expect_rc(store_refresh_revoke(f->st, hash_of("old", h), 2001, &e), STORE_NOT_FOUND, e);
	expect_rc(store_refresh_revoke(f->st, hash_of("edge", h), 2001, &e), STORE_NOT_FOUND, e);
	/* Another user's expired token stays. */
	expect_rc(store_refresh_revoke(f->st, hash_of("other", h), 2001, &e), STORE_OK, e);
	expect_rc(rotate(f->st, "live", "live2", 2002, &fresh, &e), STORE_OK, e);
	expect_rc(rotate(f->st, "new", "new2", 2003, &fresh, &e), STORE_OK, e);

	/* Rotation inserts but does not purge: nothing of u1 has expired anyway,
	 * so just check that a duplicate hash is refused without damage. */
	expect_rc(rotate(f->st, "new2", "live2", 2004, &fresh, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
	expect_rc(rotate(f->st, "new2", "new3", 2005, &fresh, &e), STORE_OK, e);
}

static void test_user_set_password(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct refresh_row fresh;
	struct user_row before, after;
	add_user(f->st, "u1", "kim@example.com");
	add_user(f->st, "u2", "lee@example.com");
	insert_refresh(f->st, "a1", "u1", "fam-a", 1000, 100000);
	insert_refresh(f->st, "b1", "u1", "fam-b", 1000, 100000);
	insert_refresh(f->st, "c1", "u2", "fam-c", 1000, 100000);
	expect_rc(store_user_get(f->st, "u1", &before, &e), STORE_OK, e);

	/* Without revoke: a new hash, the same version, tokens still good. */
	expect_rc(store_user_set_password(f->st, "u1", "$argon2id$new-1", NULL, false, 2000, &e),
		  STORE_OK, e);
	expect_rc(store_user_get(f->st, "u1", &after, &e), STORE_OK, e);
	assert_string_equal(after.password_hash, "$argon2id$new-1");
	assert_int_equal(after.token_version, before.token_version);
	assert_int_equal(after.updated_at, 2000);
	assert_int_equal(after.created_at, before.created_at);
	assert_string_equal(after.email, before.email);
	assert_string_equal(after.name, before.name);
	expect_rc(rotate(f->st, "a1", "a2", 2001, &fresh, &e), STORE_OK, e);

	/* With revoke: the version goes up and every token of the user dies. */
	expect_rc(store_user_set_password(f->st, "u1", "$argon2id$new-2", NULL, true, 3000, &e),
		  STORE_OK, e);
	expect_rc(store_user_get(f->st, "u1", &after, &e), STORE_OK, e);
	assert_string_equal(after.password_hash, "$argon2id$new-2");
	assert_int_equal(after.token_version, before.token_version + 1);
	assert_int_equal(after.updated_at, 3000);
	expect_rc(rotate(f->st, "a2", "a3", 3001, &fresh, &e), STORE_NOT_FOUND, e);
	expect_rc(rotate(f->st, "b1", "b2", 3002, &fresh, &e), STORE_NOT_FOUND, e);
	/* A token used before the change is revoked, not reused. */
	expect_rc(rotate(f->st, "a1", "a4", 3003, &fresh, &e), STORE_NOT_FOUND, e);
	/* Other users keep theirs. */
	expect_rc(rotate(f->st, "c1", "c2", 3004, &fresh, &e), STORE_OK, e);
	struct user_row other;
	expect_rc(store_user_get(f->st, "u2", &other, &e), STORE_OK, e);
	assert_int_equal(other.token_version, 5);

	/* Again: the version keeps counting; a login after the change works. */
	insert_refresh(f->st, "d1", "u1", "fam-d", 4000, 100000);
	expect_rc(store_user_set_password(f->st, "u1", "$argon2id$new-3", NULL, true, 5000, &e),
		  STORE_OK, e);
	expect_rc(store_user_get(f->st, "u1", &after, &e), STORE_OK, e);
	assert_int_equal(after.token_version, before.token_version + 2);
	expect_rc(rotate(f->st, "d1", "d2", 5001, &fresh, &e), STORE_NOT_FOUND, e);
	insert_refresh(f->st, "e1", "u1", "fam-e", 6000, 100000);
	expect_rc(rotate(f->st, "e1", "e2", 6001, &fresh, &e), STORE_OK, e);

	/* A user without any refresh token (the revoking step changes no row). */
	add_user(f->st, "u3", "park@example.com");
	expect_rc(store_user_set_password(f->st, "u3", "$argon2id$p", NULL, true, 6500, &e), STORE_OK, e);
	expect_rc(store_user_get(f->st, "u3", &after, &e), STORE_OK, e);
	assert_string_equal(after.password_hash, "$argon2id$p");
	assert_int_equal(after.token_version, 6);

	expect_rc(store_user_set_password(f->st, "nobody", "$argon2id$x", NULL, true, 7000, &e),
		  STORE_NOT_FOUND, e);
	expect_rc(store_user_set_password(f->st, "nobody", "$argon2id$x", NULL, false, 7000, &e),
		  STORE_NOT_FOUND, e);
}

#define ROTATE_THREADS 8

struct rotator {
	struct store *st;
	pthread_barrier_t *start;
	const char *old;
	char new_name[32];
	enum store_rc rc;
	struct error e;
};

static void *rotator_run(void *arg)
{
	struct rotator *r = arg;
	struct refresh_row fresh;
	pthread_barrier_wait(r->start);
	r->rc = rotate(r->st, r->old, r->new_name, 2000, &fresh, &r->e);
	return NULL;
}

static void test_refresh_rotate_race(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_user(f->st, "u1", "kim@example.com");
	/* Several rounds: many requests present the same token at once. */
	for (int round = 0; round < 10; round++) {
		char old[32], family[32];
		snprintf(old, sizeof old, "race-%d", round);
		snprintf(family, sizeof family, "fam-%d", round);
		insert_refresh(f->st, old, "u1", family, 1000, 100000);

		pthread_t tid[ROTATE_THREADS];
		struct rotator r[ROTATE_THREADS];
		pthread_barrier_t start;
		assert_int_equal(pthread_barrier_init(&start, NULL, ROTATE_THREADS), 0);
		for (int i = 0; i < ROTATE_THREADS; i++) {
			memset(&r[i], 0, sizeof r[i]);
			r[i].st = f->st;
			r[i].start = &start;
			r[i].old = old;
			snprintf(r[i].new_name, sizeof r[i].new_name, "race-%d-%d", round, i);
			assert_int_equal(pthread_create(&tid[i], NULL, rotator_run, &r[i]), 0);
		}
		/* One wins; the next one in line sees a used token (reuse: the family is
		 * revoked); any later one sees a revoked token (not found). */
		int ok = 0, reused = 0, gone = 0, other = 0, winner = -1;
		for (int i = 0; i < ROTATE_THREADS; i++) {
			pthread_join(tid[i], NULL);
			if (r[i].rc == STORE_OK) {
				ok++;
				winner = i;
			} else if (r[i].rc == STORE_REUSED) {
				reused++;
			} else if (r[i].rc == STORE_NOT_FOUND) {
				gone++;
			} else {
				print_error("round %d thread %d: rc %d (%s)\n", round, i, r[i].rc,
					    r[i].e.msg);
				other++;
			}
		}
		pthread_barrier_destroy(&start);
		assert_int_equal(other, 0);
		assert_int_equal(ok, 1);
		assert_true(reused >= 1);
		assert_int_equal(ok + reused + gone, ROTATE_THREADS);
		/* The family ended revoked: the winner's new token is dead too. */
		struct refresh_row fresh;
		expect_rc(rotate(f->st, r[winner].new_name, "after", 3000, &fresh, &e),
			  STORE_NOT_FOUND, e);
		for (int i = 0; i < ROTATE_THREADS; i++)
			if (i != winner)
				expect_rc(rotate(f->st, r[i].new_name, "after", 3000, &fresh, &e),
					  STORE_NOT_FOUND, e);
	}
}

/* ---- sessions by owner ------------------------------------------------- */

static void test_sessions_isolated_by_owner(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct session_row row;
	add_user(f->st, "u2", "lee@example.com");

	/* The same id for two owners: two sessions. */
	expect_rc(store_session_create(f->st, LOCAL_USER_ID, "same", 100, &row, &e), STORE_OK, e);
	expect_rc(store_session_create(f->st, "u2", "same", 200, &row, &e), STORE_OK, e);
	expect_rc(store_session_create(f->st, "u2", "same", 300, &row, &e), STORE_CONFLICT, e);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "same", &row, &e), STORE_OK, e);
	assert_int_equal(row.created_at, 100);
	expect_rc(store_session_get(f->st, "u2", "same", &row, &e), STORE_OK, e);
	assert_int_equal(row.created_at, 200);

	/* Someone else's session is not found, not forbidden, and cannot be deleted. */
	create_ok(f->st, "mine", 400);
	create_ok(f->st, "mine-too", 500);
	expect_rc(store_session_get(f->st, "u2", "mine", &row, &e), STORE_NOT_FOUND, e);
	expect_rc(store_session_delete(f->st, "u2", "mine", NULL, &e), STORE_NOT_FOUND, e);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "mine", &row, &e), STORE_OK, e);
	expect_rc(store_session_get(f->st, "nobody", "mine", &row, &e), STORE_NOT_FOUND, e);
	expect_rc(store_session_get(f->st, "", "mine", &row, &e), STORE_NOT_FOUND, e);

	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, "u2", 10, 0, &f->rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 1);
	assert_int_equal(n, 1);
	assert_string_equal(f->rows[0].id, "same");
	assert_int_equal(f->rows[0].created_at, 200);
	free(f->rows);
	f->rows = NULL;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 10, 0, &f->rows, &n, &total, &e),
		  STORE_OK, e);
	assert_int_equal(total, 3);
	assert_int_equal(n, 3);
	assert_string_equal(f->rows[0].id, "mine-too");
	assert_string_equal(f->rows[1].id, "mine");
	assert_string_equal(f->rows[2].id, "same");
	assert_int_equal(f->rows[2].created_at, 100);
	free(f->rows);
	f->rows = NULL;
	expect_rc(store_session_list(f->st, "nobody", 10, 0, &f->rows, &n, &total, &e), STORE_OK,
		  e);
	assert_int_equal(total, 0);
	assert_int_equal(n, 0);
	free(f->rows);
	f->rows = NULL;

	/* Deleting one owner's "same" leaves the other's. */
	expect_rc(store_session_delete(f->st, "u2", "same", NULL, &e), STORE_OK, e);
	expect_rc(store_session_get(f->st, "u2", "same", &row, &e), STORE_NOT_FOUND, e);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "same", &row, &e), STORE_OK, e);
	assert_int_equal(row.created_at, 100);
}

/* ---- migrating an old database ----------------------------------------- */

static void test_migrate_from_v1(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	int applied = -1;
	assert_true(store_migrations_count >= 2);
	assert_int_equal(store_migrations[0].version, 1);

	/* A database as the first release left it: migration 1 exactly, plus the
	 * rows that release wrote (the insert runs in the same step, so it stays
	 * portable SQL and needs no backend-specific access). */
	char *sql = NULL;
	assert_true(asprintf(&sql, "%s\nINSERT INTO sessions (id, created_at, updated_at) VALUES "
				   "('old-1', 1000, 1500), ('old-2', 3000, 3000), "
				   "('Old-1', 2000, 2000);\n",
			     store_migrations[0].sql) > 0);
	const struct migration v1[] = {
		{ store_migrations[0].version, store_migrations[0].name, sql },
	};
	enum store_rc rc = migrate_list(f->st, v1, 1, &applied, &e);
	free(sql);
	expect_rc(rc, STORE_OK, e);
	assert_int_equal(applied, 1);
	assert_int_equal(schema_version(f->st), 1);

	expect_rc(store_migrate(f->st, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, (int)store_migrations_count - 1);
	assert_int_equal(schema_version(f->st), last_version());

	/* The old sessions now belong to the built-in user, times unchanged. */
	struct session_row row;
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "old-1", &row, &e), STORE_OK, e);
	assert_int_equal(row.created_at, 1000);
	assert_int_equal(row.updated_at, 1500);
	expect_rc(store_session_get(f->st, LOCAL_USER_ID, "Old-1", &row, &e), STORE_OK, e);
	assert_int_equal(row.created_at, 2000);
	size_t n = 0;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 10, 0, &f->rows, &n, &total, &e),
		  STORE_OK, e);
	assert_int_equal(total, 3);
	assert_int_equal(n, 3);
	assert_string_equal(f->rows[0].id, "old-2");
	assert_string_equal(f->rows[1].id, "Old-1");
	assert_string_equal(f->rows[2].id, "old-1");

	/* The built-in user exists, dated from the oldest session, and cannot log in. */
	struct user_row local;
	expect_rc(store_user_get(f->st, LOCAL_USER_ID, &local, &e), STORE_OK, e);
	assert_string_equal(local.password_hash, "!");
	assert_int_equal(local.created_at, 1000);
	assert_int_equal(local.token_version, 0);

	/* The migrated schema works for new owners and keeps per-owner ids. */
	add_user(f->st, "u2", "lee@example.com");
	expect_rc(store_session_create(f->st, "u2", "old-1", 5000, &row, &e), STORE_OK, e);
	expect_rc(store_session_create(f->st, LOCAL_USER_ID, "old-1", 5000, &row, &e),
		  STORE_CONFLICT, e);
	create_ok(f->st, "new-1", 6000);
}

static void test_migrate_from_empty_v1(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	int applied = -1;
	expect_rc(migrate_list(f->st, store_migrations, 1, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, 1);
	assert_int_equal(schema_version(f->st), 1);
	expect_rc(store_migrate(f->st, &applied, &e), STORE_OK, e);
	assert_int_equal(applied, (int)store_migrations_count - 1);

	struct user_row local;
	expect_rc(store_user_get(f->st, LOCAL_USER_ID, &local, &e), STORE_OK, e);
	assert_int_equal(local.created_at, 0);
	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_session_list(f->st, LOCAL_USER_ID, 10, 0, &f->rows, &n, &total, &e),
		  STORE_OK, e);
	assert_int_equal(total, 0);
	assert_int_equal(n, 0);
}

static void test_open_rejects_unknown_url(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct store *st = store_open("nosuchdb://x", NULL, &e);
	assert_null(st);
	assert_true(e.msg[0] != '\0');
}

/* A password write that expects the old hash loses to one that came first,
 * and a refresh token issued for an old token version is refused. */
static void test_password_races(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct user_row u = { .id = "race", .email = "race@example.com", .name = "",
			      .password_hash = "$argon2id$old" };
	expect_rc(store_user_create(f->st, &u, &e), STORE_OK, e);
	expect_rc(store_user_set_password(f->st, "race", "$argon2id$a", "$argon2id$old", true, 10,
					  &e), STORE_OK, e);
	expect_rc(store_user_set_password(f->st, "race", "$argon2id$b", "$argon2id$old", false, 11,
					  &e), STORE_CONFLICT, e);
	expect_rc(store_user_get(f->st, "race", &u, &e), STORE_OK, e);
	assert_string_equal(u.password_hash, "$argon2id$a");
	assert_int_equal(u.token_version, 1);
	struct refresh_row r = refresh_of("stale", "race", "fam", 20, 100000);
	r.token_version = 0;
	expect_rc(store_refresh_insert(f->st, &r, &e), STORE_CONFLICT, e);
	r.token_version = 1;
	expect_rc(store_refresh_insert(f->st, &r, &e), STORE_OK, e);
}

/* ---- datasets ----------------------------------------------------------- */

/* A processing upload of owner with every field set. */
static struct dataset_row dataset_of(const char *id, const char *owner, int64_t created)
{
	struct dataset_row d;
	memset(&d, 0, sizeof d);
	snprintf(d.id, sizeof d.id, "%s", id);
	snprintf(d.owner_id, sizeof d.owner_id, "%s", owner);
	snprintf(d.name, sizeof d.name, "Name of %s", id);
	snprintf(d.description, sizeof d.description, "About %s: O'Neil \"quoted\"", id);
	snprintf(d.source_name, sizeof d.source_name, "%s.csv", id);
	snprintf(d.format, sizeof d.format, "csv");
	snprintf(d.status, sizeof d.status, "processing");
	d.version = 1;
	d.size_bytes = 1234;
	snprintf(d.original_key, sizeof d.original_key, "orig/%s", id);
	snprintf(d.encoding, sizeof d.encoding, "utf-8");
	snprintf(d.delimiter, sizeof d.delimiter, ",");
	d.options = (char *)"{\"header\":true}";
	d.created_at = created;
	d.updated_at = created;
	return d;
}

static struct job_row job_of(const char *id, const char *owner, const char *kind,
			     const char *subject, int64_t created)
{
	struct job_row j;
	memset(&j, 0, sizeof j);
	snprintf(j.id, sizeof j.id, "%s", id);
	snprintf(j.owner_id, sizeof j.owner_id, "%s", owner);
	snprintf(j.kind, sizeof j.kind, "%s", kind);
	snprintf(j.subject_id, sizeof j.subject_id, "%s", subject);
	snprintf(j.status, sizeof j.status, "running");   /* ignored by create */
	snprintf(j.message, sizeof j.message, "waiting");
	j.payload = (char *)"{\"dataset\":1}";
	j.created_at = created;
	j.progress = 77;   /* ignored too */
	return j;
}

static void add_dataset(struct store *st, const struct dataset_row *d, const char *job_id)
{
	struct error e = { { 0 } };
	struct job_row j;
	if (job_id)
		j = job_of(job_id, d->owner_id, "ingest", "", d->created_at);
	expect_rc(store_dataset_create(st, d, job_id ? &j : NULL, &e), STORE_OK, e);
}

static void add_job(struct store *st, const char *id, const char *kind, int64_t created)
{
	struct error e = { { 0 } };
	struct job_row j = job_of(id, "u1", kind, "", created);
	expect_rc(store_job_create(st, &j, &e), STORE_OK, e);
}

/* The job's row as stored now (strings freed here: only fixed fields are kept). */
static struct job_row job_now(struct store *st, const char *id)
{
	struct error e = { { 0 } };
	struct job_row j;
	expect_rc(store_job_get(st, id, &j, &e), STORE_OK, e);
	job_row_clear(&j);
	return j;
}

static void claim(struct store *st, const char *worker, const char *only_id, int64_t now,
		  const char *want_id)
{
	struct error e = { { 0 } };
	struct job_row j;
	expect_rc(store_job_claim(st, worker, NULL, 0, only_id, now, &j, &e), STORE_OK, e);
	assert_string_equal(j.id, want_id);
	job_row_clear(&j);
}

static void test_dataset_create_get(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct dataset_row in = dataset_of("d1", "u1", 1700000000123);
	snprintf(in.name, sizeof in.name, "%s", "\xea\xb9\x80 sales 2024");
	snprintf(in.parent_id, sizeof in.parent_id, "d0");
	in.version = 2;
	struct job_row job = job_of("j1", "u1", "ingest", "ignored", 1700000000123);
	expect_rc(store_dataset_create(f->st, &in, &job, &e), STORE_OK, e);

	struct dataset_row out;
	memset(&out, 0x55, sizeof out);
	expect_rc(store_dataset_get(f->st, "u1", "d1", &out, &e), STORE_OK, e);
	assert_string_equal(out.id, "d1");
	assert_string_equal(out.owner_id, "u1");
	assert_string_equal(out.name, in.name);
	assert_string_equal(out.description, in.description);
	assert_string_equal(out.source_name, "d1.csv");
	assert_string_equal(out.format, "csv");
	assert_string_equal(out.status, "processing");
	assert_string_equal(out.error, "");
	assert_string_equal(out.job_id, "j1");   /* the job it was created with */
	assert_int_equal(out.progress, 0);
	assert_int_equal(out.version, 2);
	assert_string_equal(out.parent_id, "d0");
	assert_int_equal(out.size_bytes, 1234);
	assert_string_equal(out.original_key, "orig/d1");
	assert_string_equal(out.data_key, "");
	assert_int_equal(out.data_bytes, 0);
	assert_int_equal(out.rows, 0);
	assert_int_equal(out.columns, 0);
	assert_string_equal(out.encoding, "utf-8");
	assert_string_equal(out.delimiter, ",");
	assert_string_equal(out.sheet, "");
	assert_string_equal(out.options, "{\"header\":true}");
	assert_null(out.summary);
	assert_int_equal(out.created_at, 1700000000123);
	assert_int_equal(out.updated_at, 1700000000123);
	dataset_row_clear(&out);
	assert_null(out.options);
	dataset_row_clear(&out);   /* twice is fine */

	/* The job came with it: queued, about the dataset, whatever status was given. */
	struct job_row j;
	memset(&j, 0x55, sizeof j);
	expect_rc(store_job_get(f->st, "j1", &j, &e), STORE_OK, e);
	assert_string_equal(j.status, "queued");
	assert_string_equal(j.subject_id, "d1");
	assert_string_equal(j.kind, "ingest");
	assert_string_equal(j.owner_id, "u1");
	assert_string_equal(j.message, "waiting");
	assert_string_equal(j.error, "");
	assert_string_equal(j.payload, "{\"dataset\":1}");
	assert_null(j.result);
	assert_int_equal(j.progress, 0);
	assert_int_equal(j.attempts, 0);
	assert_false(j.cancel_requested);
	assert_string_equal(j.worker, "");
	assert_int_equal(j.heartbeat_at, 0);
	assert_int_equal(j.created_at, 1700000000123);
	assert_int_equal(j.started_at, 0);
	assert_int_equal(j.finished_at, 0);
	job_row_clear(&j);

	/* A taken dataset id, or a taken job id: nothing is created. */
	struct dataset_row again = dataset_of("d1", "u1", 5);
	expect_rc(store_dataset_create(f->st, &again, NULL, &e), STORE_CONFLICT, e);
	struct dataset_row d2 = dataset_of("d2", "u1", 6);
	expect_rc(store_dataset_create(f->st, &d2, &job, &e), STORE_CONFLICT, e);
	expect_rc(store_dataset_get(f->st, "u1", "d2", &out, &e), STORE_NOT_FOUND, e);
	/* Another owner's id space is the same table: ids are global. */
	struct dataset_row theirs = dataset_of("d1", "u2", 7);
	expect_rc(store_dataset_create(f->st, &theirs, NULL, &e), STORE_CONFLICT, e);

	/* Without a job and without options: "{}", no job, no progress. */
	d2.options = NULL;
	d2.status[0] = '\0';
	expect_rc(store_dataset_create(f->st, &d2, NULL, &e), STORE_OK, e);
	expect_rc(store_dataset_get(f->st, "u1", "d2", &out, &e), STORE_OK, e);
	assert_string_equal(out.options, "{}");
	assert_string_equal(out.job_id, "");
	assert_string_equal(out.status, "processing");
	assert_int_equal(out.progress, 0);
	dataset_row_clear(&out);

	/* Someone else's dataset is not found, exactly like a missing one. */
	expect_rc(store_dataset_get(f->st, "u2", "d1", &out, &e), STORE_NOT_FOUND, e);
	assert_null(out.options);
	expect_rc(store_dataset_get(f->st, "", "d1", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_dataset_get(f->st, "u1", "D1", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_dataset_get(f->st, "u1", "nope", &out, &e), STORE_NOT_FOUND, e);
}

static void test_dataset_ready_fail_progress(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct dataset_row d = dataset_of("d1", "u1", 100);
	add_dataset(f->st, &d, "j1");
	struct dataset_row d2 = dataset_of("d2", "u1", 200);
	add_dataset(f->st, &d2, "j2");
	struct dataset_row out;
	bool cancel = true;

	/* While processing, progress is the job's. */
	claim(f->st, "w1", "j1", 1000, "j1");
	expect_rc(store_job_progress(f->st, "j1", "w1", 420, "reading", 1100, &cancel, &e),
		  STORE_OK, e);
	assert_false(cancel);
	expect_rc(store_dataset_get(f->st, "u1", "d1", &out, &e), STORE_OK, e);
	assert_int_equal(out.progress, 420);
	assert_string_equal(out.status, "processing");
	dataset_row_clear(&out);

	/* Ready: the ingest's results, progress 1000 whatever the job said. */
	struct dataset_row r = d;
	snprintf(r.data_key, sizeof r.data_key, "data/d1.sqlite");
	r.data_bytes = 98765;
	r.rows = 1000000;
	r.columns = 12;
	snprintf(r.encoding, sizeof r.encoding, "cp949");
	snprintf(r.delimiter, sizeof r.delimiter, ";");
	snprintf(r.sheet, sizeof r.sheet, "Sheet1");
	snprintf(r.name, sizeof r.name, "not taken from row");
	r.summary = (char *)"{\"columns_info\":[]}";
	expect_rc(store_dataset_ready(f->st, &r, 2000, &e), STORE_OK, e);
	expect_rc(store_dataset_get(f->st, "u1", "d1", &out, &e), STORE_OK, e);
	assert_string_equal(out.status, "ready");
	assert_int_equal(out.progress, 1000);
	assert_string_equal(out.data_key, "data/d1.sqlite");
	assert_int_equal(out.data_bytes, 98765);
	assert_int_equal(out.rows, 1000000);
	assert_int_equal(out.columns, 12);
	assert_string_equal(out.encoding, "cp949");
	assert_string_equal(out.delimiter, ";");
	assert_string_equal(out.sheet, "Sheet1");
	assert_string_equal(out.summary, "{\"columns_info\":[]}");
	assert_string_equal(out.name, "Name of d1");
	assert_string_equal(out.error, "");
	assert_int_equal(out.updated_at, 2000);
	assert_int_equal(out.created_at, 100);
	dataset_row_clear(&out);

	/* Only once, and never after the fact. */
	expect_rc(store_dataset_ready(f->st, &r, 2100, &e), STORE_CONFLICT, e);
	expect_rc(store_dataset_fail(f->st, "u1", "d1", "late", 2100, &e), STORE_CONFLICT, e);
	expect_rc(store_dataset_get(f->st, "u1", "d1", &out, &e), STORE_OK, e);
	assert_string_equal(out.status, "ready");
	assert_int_equal(out.updated_at, 2000);
	dataset_row_clear(&out);
	/* Someone else's, or none: not found. */
	snprintf(r.owner_id, sizeof r.owner_id, "u2");
	expect_rc(store_dataset_ready(f->st, &r, 2100, &e), STORE_NOT_FOUND, e);
	snprintf(r.owner_id, sizeof r.owner_id, "u1");
	snprintf(r.id, sizeof r.id, "gone");
	expect_rc(store_dataset_ready(f->st, &r, 2100, &e), STORE_NOT_FOUND, e);
	expect_rc(store_dataset_fail(f->st, "u2", "d2", "x", 2100, &e), STORE_NOT_FOUND, e);
	expect_rc(store_dataset_fail(f->st, "u1", "gone", "x", 2100, &e), STORE_NOT_FOUND, e);

	/* Failed: the message, and the job's last progress. */
	claim(f->st, "w1", "j2", 3000, "j2");
	expect_rc(store_job_progress(f->st, "j2", "w1", 300, NULL, 3100, &cancel, &e), STORE_OK, e);
	expect_rc(store_dataset_fail(f->st, "u1", "d2", "bad bytes at line 7", 3200, &e),
		  STORE_OK, e);
	expect_rc(store_dataset_get(f->st, "u1", "d2", &out, &e), STORE_OK, e);
	assert_string_equal(out.status, "failed");
	assert_string_equal(out.error, "bad bytes at line 7");
	assert_int_equal(out.progress, 300);
	assert_int_equal(out.updated_at, 3200);
	assert_null(out.summary);
	dataset_row_clear(&out);
	expect_rc(store_dataset_fail(f->st, "u1", "d2", "again", 3300, &e), STORE_CONFLICT, e);
	struct dataset_row r2 = d2;
	expect_rc(store_dataset_ready(f->st, &r2, 3300, &e), STORE_CONFLICT, e);

	/* A failed dataset without a job has progress 0. */
	struct dataset_row d3 = dataset_of("d3", "u1", 300);
	add_dataset(f->st, &d3, NULL);
	expect_rc(store_dataset_fail(f->st, "u1", "d3", "no", 3400, &e), STORE_OK, e);
	expect_rc(store_dataset_get(f->st, "u1", "d3", &out, &e), STORE_OK, e);
	assert_int_equal(out.progress, 0);
	dataset_row_clear(&out);
}

static void test_dataset_update(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct dataset_row d = dataset_of("d1", "u1", 100);
	add_dataset(f->st, &d, NULL);
	struct dataset_row out;

	memset(&out, 0x55, sizeof out);
	expect_rc(store_dataset_update(f->st, "u1", "d1", "Renamed", NULL, 200, &out, &e),
		  STORE_OK, e);
	assert_string_equal(out.name, "Renamed");
	assert_string_equal(out.description, d.description);
	assert_int_equal(out.updated_at, 200);
	assert_string_equal(out.options, "{\"header\":true}");
	dataset_row_clear(&out);

	expect_rc(store_dataset_update(f->st, "u1", "d1", NULL, "", 300, &out, &e), STORE_OK, e);
	assert_string_equal(out.name, "Renamed");
	assert_string_equal(out.description, "");
	assert_int_equal(out.updated_at, 300);
	dataset_row_clear(&out);

	expect_rc(store_dataset_update(f->st, "u1", "d1", "Both", "New words", 400, &out, &e),
		  STORE_OK, e);
	assert_string_equal(out.name, "Both");
	assert_string_equal(out.description, "New words");
	dataset_row_clear(&out);

	/* Nothing to change: the row as it is, untouched. */
	expect_rc(store_dataset_update(f->st, "u1", "d1", NULL, NULL, 500, &out, &e), STORE_OK, e);
	assert_string_equal(out.name, "Both");
	assert_int_equal(out.updated_at, 400);
	dataset_row_clear(&out);

	expect_rc(store_dataset_update(f->st, "u2", "d1", "Mine now", NULL, 600, &out, &e),
		  STORE_NOT_FOUND, e);
	expect_rc(store_dataset_update(f->st, "u2", "d1", NULL, NULL, 600, &out, &e),
		  STORE_NOT_FOUND, e);
	expect_rc(store_dataset_update(f->st, "u1", "nope", "x", NULL, 600, &out, &e),
		  STORE_NOT_FOUND, e);
	expect_rc(store_dataset_get(f->st, "u1", "d1", &out, &e), STORE_OK, e);
	assert_string_equal(out.name, "Both");
	assert_int_equal(out.updated_at, 400);
	dataset_row_clear(&out);
}

/* Spec of the listing test's datasets. */
struct lds {
	const char *id;
	const char *name;
	int64_t created, rows, size;
};

static const struct lds *lds_rows;
static enum dataset_sort lds_sort;

static int cmp_i64_desc(int64_t a, int64_t b)
{
	return a > b ? -1 : a < b;
}

/* The order dataset_list promises, written independently of the SQL. */
static int lds_cmp(const void *pa, const void *pb)
{
	const struct lds *a = &lds_rows[*(const int *)pa], *b = &lds_rows[*(const int *)pb];
	int c = 0;
	switch (lds_sort) {
	case DATASET_SORT_NEWEST:
		break;
	case DATASET_SORT_OLDEST:
		c = -cmp_i64_desc(a->created, b->created);
		return c ? c : strcmp(a->id, b->id);
	case DATASET_SORT_NAME:
		c = strcmp(a->name, b->name);
		break;
	case DATASET_SORT_NAME_DESC:
		c = -strcmp(a->name, b->name);
		break;
	case DATASET_SORT_ROWS:
		c = cmp_i64_desc(a->rows, b->rows);
		break;
	case DATASET_SORT_SIZE:
		c = cmp_i64_desc(a->size, b->size);
		break;
	}
	if (!c)
		c = cmp_i64_desc(a->created, b->created);
	return c ? c : -strcmp(a->id, b->id);
}

static void test_dataset_list_sort_paging(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	/* Ties in every key, so the tie-breakers are tested too; names in byte
	 * order put "Zeta" before "alpha". */
	static const struct lds spec[] = {
		{ "a01", "alpha", 100, 10, 500 },  { "a02", "Zeta", 200, 10, 500 },
		{ "a03", "alpha", 200, 30, 100 },  { "a04", "beta", 300, 0, 900 },
		{ "a05", "\xea\xb0\x80", 300, 30, 100 }, { "a06", "beta", 50, 5, 900 },
		{ "a07", "gamma", 200, 10, 1 },    { "a08", "alpha", 400, 99, 500 },
		{ "a09", "delta", 250, 7, 20 },    { "a10", "Zeta", 200, 0, 0 },
		{ "a11", "eps", 400, 99, 3 },      { "a12", "alpha", 100, 10, 500 },
	};
	enum { N = sizeof spec / sizeof spec[0] };
	for (int i = 0; i < N; i++) {
		struct dataset_row d = dataset_of(spec[i].id, "u1", spec[i].created);
		snprintf(d.name, sizeof d.name, "%s", spec[i].name);
		d.rows = spec[i].rows;
		d.size_bytes = spec[i].size;
		add_dataset(f->st, &d, NULL);
	}
	/* Someone else's are never listed. */
	struct dataset_row other = dataset_of("b01", "u2", 150);
	add_dataset(f->st, &other, NULL);

	const enum dataset_sort sorts[] = { DATASET_SORT_NEWEST, DATASET_SORT_OLDEST,
					    DATASET_SORT_NAME, DATASET_SORT_NAME_DESC,
					    DATASET_SORT_ROWS, DATASET_SORT_SIZE };
	for (size_t k = 0; k < sizeof sorts / sizeof sorts[0]; k++) {
		int order[N];
		for (int i = 0; i < N; i++)
			order[i] = i;
		lds_rows = spec;
		lds_sort = sorts[k];
		qsort(order, N, sizeof order[0], lds_cmp);

		/* All at once, then in pages of 5: the same sequence. */
		struct dataset_row *rows = NULL;
		size_t n = 99;
		int64_t total = -1;
		expect_rc(store_dataset_list(f->st, "u1", sorts[k], 100, 0, &rows, &n, &total, &e),
			  STORE_OK, e);
		assert_int_equal(total, N);
		assert_int_equal(n, N);
		for (int i = 0; i < N; i++) {
			if (strcmp(rows[i].id, spec[order[i]].id) != 0) {
				print_error("sort %d position %d: %s, expected %s\n", (int)sorts[k], i,
					    rows[i].id, spec[order[i]].id);
				fail();
			}
			assert_string_equal(rows[i].name, spec[order[i]].name);
			assert_int_equal(rows[i].rows, spec[order[i]].rows);
			assert_int_equal(rows[i].size_bytes, spec[order[i]].size);
			assert_string_equal(rows[i].owner_id, "u1");
			assert_non_null(rows[i].options);
		}
		dataset_rows_free(rows, n);

		int seen = 0;
		for (int64_t offset = 0; offset <= N; offset += 5) {
			rows = NULL;
			expect_rc(store_dataset_list(f->st, "u1", sorts[k], 5, offset, &rows, &n,
						     &total, &e), STORE_OK, e);
			assert_int_equal(total, N);
			assert_int_equal(n, offset + 5 <= N ? 5 : N - offset);
			for (size_t j = 0; j < n; j++)
				assert_string_equal(rows[j].id, spec[order[seen++]].id);
			dataset_rows_free(rows, n);
		}
		assert_int_equal(seen, N);
	}

	/* Past the end, and an owner with none. */
	struct dataset_row *rows = NULL;
	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_dataset_list(f->st, "u1", DATASET_SORT_NEWEST, 10, 1000, &rows, &n, &total,
				     &e), STORE_OK, e);
	assert_int_equal(n, 0);
	assert_int_equal(total, N);
	dataset_rows_free(rows, n);
	expect_rc(store_dataset_list(f->st, "nobody", DATASET_SORT_NAME, 10, 0, &rows, &n, &total,
				     &e), STORE_OK, e);
	assert_int_equal(n, 0);
	assert_int_equal(total, 0);
	dataset_rows_free(rows, n);
	expect_rc(store_dataset_list(f->st, "u2", DATASET_SORT_NEWEST, 10, 0, &rows, &n, &total,
				     &e), STORE_OK, e);
	assert_int_equal(n, 1);
	assert_int_equal(total, 1);
	assert_string_equal(rows[0].id, "b01");
	dataset_rows_free(rows, n);
	dataset_rows_free(NULL, 0);
}

static void test_dataset_list_progress(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct dataset_row d1 = dataset_of("d1", "u1", 100), d2 = dataset_of("d2", "u1", 200);
	add_dataset(f->st, &d1, "j1");
	add_dataset(f->st, &d2, "j2");
	bool cancel;
	claim(f->st, "w", "j2", 1000, "j2");
	expect_rc(store_job_progress(f->st, "j2", "w", 640, NULL, 1001, &cancel, &e), STORE_OK, e);

	struct dataset_row *rows = NULL;
	size_t n = 0;
	int64_t total = 0;
	expect_rc(store_dataset_list(f->st, "u1", DATASET_SORT_NEWEST, 10, 0, &rows, &n, &total,
				     &e), STORE_OK, e);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].id, "d2");
	assert_int_equal(rows[0].progress, 640);
	assert_string_equal(rows[1].id, "d1");
	assert_int_equal(rows[1].progress, 0);
	dataset_rows_free(rows, n);
}

static bool key_exists(struct store *st, const char *key)
{
	struct error e = { { 0 } };
	bool exists = false;
	expect_rc(store_dataset_key_exists(st, key, &exists, &e), STORE_OK, e);
	return exists;
}

static void test_dataset_delete(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct dataset_row d1 = dataset_of("d1", "u1", 100);
	add_dataset(f->st, &d1, "j1");
	struct dataset_row d2 = dataset_of("d2", "u1", 200);
	add_dataset(f->st, &d2, "j2");
	struct dataset_row d3 = dataset_of("d3", "u2", 300);
	add_dataset(f->st, &d3, "j3");
	/* A second job on d1 that runs, and one of another dataset. */
	struct job_row extra = job_of("j1b", "u1", "train", "d1", 150);
	expect_rc(store_job_create(f->st, &extra, &e), STORE_OK, e);
	claim(f->st, "w", "j1b", 1000, "j1b");
	struct share_row sh = { .id = "s1", .dataset_id = "d1", .owner_id = "u1",
				.token_hash = "h1", .created_at = 10, .expires_at = 99999 };
	expect_rc(store_share_create(f->st, &sh, &e), STORE_OK, e);
	struct share_row sh2 = { .id = "s2", .dataset_id = "d2", .owner_id = "u1",
				 .token_hash = "h2", .created_at = 10, .expires_at = 99999 };
	expect_rc(store_share_create(f->st, &sh2, &e), STORE_OK, e);

	/* d2 is ready: both of its keys. */
	struct dataset_row r = d2;
	snprintf(r.data_key, sizeof r.data_key, "data/d2");
	expect_rc(store_dataset_ready(f->st, &r, 500, &e), STORE_OK, e);
	assert_true(key_exists(f->st, "orig/d1"));
	assert_true(key_exists(f->st, "data/d2"));
	assert_true(key_exists(f->st, "orig/d2"));
	assert_false(key_exists(f->st, "orig/d"));
	assert_false(key_exists(f->st, ""));
	assert_false(key_exists(f->st, "nothing"));

	/* Not the owner's: nothing happens. */
	struct store_keys keys = { NULL, 0 };
	expect_rc(store_dataset_delete(f->st, "u2", "d1", &keys, &e), STORE_NOT_FOUND, e);
	assert_int_equal(keys.n, 0);
	assert_true(key_exists(f->st, "orig/d1"));
	assert_false(job_now(f->st, "j1b").cancel_requested);

	/* d1 is processing: only its original key; its queued job is cancelled,
	 * its running one asked to stop, its share gone. */
	expect_rc(store_dataset_delete(f->st, "u1", "d1", &keys, &e), STORE_OK, e);
	assert_int_equal(keys.n, 1);
	assert_string_equal(keys.keys[0], "orig/d1");
	store_keys_free(&keys);
	struct dataset_row out;
	expect_rc(store_dataset_get(f->st, "u1", "d1", &out, &e), STORE_NOT_FOUND, e);
	assert_false(key_exists(f->st, "orig/d1"));
	struct job_row j = job_now(f->st, "j1");
	assert_string_equal(j.status, "cancelled");
	assert_true(j.finished_at > 0);
	j = job_now(f->st, "j1b");
	assert_string_equal(j.status, "running");
	assert_true(j.cancel_requested);
	bool cancel = false;
	expect_rc(store_job_progress(f->st, "j1b", "w", 10, NULL, 1100, &cancel, &e), STORE_OK, e);
	assert_true(cancel);
	struct share_row rs;
	expect_rc(store_share_resolve(f->st, "h1", 50, &rs, &out, &e), STORE_NOT_FOUND, e);
	/* The queued one is not claimable any more. */
	struct job_row cj;
	expect_rc(store_job_claim(f->st, "w", NULL, 0, "j1", 1200, &cj, &e), STORE_NOT_FOUND, e);

	/* d2: both keys (original first); others untouched. */
	expect_rc(store_dataset_delete(f->st, "u1", "d2", &keys, &e), STORE_OK, e);
	assert_int_equal(keys.n, 2);
	assert_string_equal(keys.keys[0], "orig/d2");
	assert_string_equal(keys.keys[1], "data/d2");
	store_keys_free(&keys);
	assert_false(key_exists(f->st, "data/d2"));
	assert_string_equal(job_now(f->st, "j3").status, "queued");
	assert_true(key_exists(f->st, "orig/d3"));

	/* Gone is gone; orphans may be NULL. */
	expect_rc(store_dataset_delete(f->st, "u1", "d2", &keys, &e), STORE_NOT_FOUND, e);
	assert_int_equal(keys.n, 0);
	expect_rc(store_dataset_delete(f->st, "u2", "d3", NULL, &e), STORE_OK, e);
	assert_string_equal(job_now(f->st, "j3").status, "cancelled");

	/* A deleted dataset's ingest finds it gone. */
	expect_rc(store_dataset_ready(f->st, &r, 600, &e), STORE_NOT_FOUND, e);
	/* And the id can be used again. */
	add_dataset(f->st, &d1, NULL);
}

/* ---- share links --------------------------------------------------------- */

static struct share_row share_of(const char *id, const char *dataset, const char *owner,
				 const char *hash, int64_t created, int64_t expires)
{
	struct share_row s;
	memset(&s, 0, sizeof s);
	snprintf(s.id, sizeof s.id, "%s", id);
	snprintf(s.dataset_id, sizeof s.dataset_id, "%s", dataset);
	snprintf(s.owner_id, sizeof s.owner_id, "%s", owner);
	snprintf(s.token_hash, sizeof s.token_hash, "%s", hash);
	s.created_at = created;
	s.expires_at = expires;
	return s;
}

static void test_shares(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct dataset_row d = dataset_of("d1", "u1", 100);
	add_dataset(f->st, &d, "j1");
	struct dataset_row d2 = dataset_of("d2", "u2", 100);
	add_dataset(f->st, &d2, NULL);

	struct share_row s1 = share_of("s1", "d1", "u1", "hash-1", 1000, 5000);
	struct share_row s2 = share_of("s2", "d1", "u1", "hash-2", 2000, 3000);
	struct share_row s3 = share_of("s3", "d1", "u1", "hash-3", 1500, 9000);
	expect_rc(store_share_create(f->st, &s1, &e), STORE_OK, e);
	expect_rc(store_share_create(f->st, &s2, &e), STORE_OK, e);
	expect_rc(store_share_create(f->st, &s3, &e), STORE_OK, e);
	/* Not the owner's dataset, or none: not found, nothing stored. */
	struct share_row bad = share_of("s4", "d2", "u1", "hash-4", 1000, 5000);
	expect_rc(store_share_create(f->st, &bad, &e), STORE_NOT_FOUND, e);
	bad = share_of("s4", "nope", "u1", "hash-4", 1000, 5000);
	expect_rc(store_share_create(f->st, &bad, &e), STORE_NOT_FOUND, e);
	/* The same token hash or id twice. */
	bad = share_of("s5", "d1", "u1", "hash-1", 1000, 5000);
	expect_rc(store_share_create(f->st, &bad, &e), STORE_CONFLICT, e);
	bad = share_of("s1", "d1", "u1", "hash-5", 1000, 5000);
	expect_rc(store_share_create(f->st, &bad, &e), STORE_CONFLICT, e);

	/* Resolving: any owner, live only; the dataset as dataset_get has it. */
	bool cancel;
	claim(f->st, "w", "j1", 1000, "j1");
	expect_rc(store_job_progress(f->st, "j1", "w", 512, NULL, 1001, &cancel, &e), STORE_OK, e);
	struct share_row rs;
	struct dataset_row out;
	memset(&rs, 0x55, sizeof rs);
	memset(&out, 0x55, sizeof out);
	expect_rc(store_share_resolve(f->st, "hash-1", 4999, &rs, &out, &e), STORE_OK, e);
	assert_string_equal(rs.id, "s1");
	assert_string_equal(rs.dataset_id, "d1");
	assert_string_equal(rs.owner_id, "u1");
	assert_string_equal(rs.token_hash, "hash-1");
	assert_int_equal(rs.created_at, 1000);
	assert_int_equal(rs.expires_at, 5000);
	assert_int_equal(rs.revoked_at, 0);
	assert_string_equal(out.id, "d1");
	assert_string_equal(out.owner_id, "u1");
	assert_int_equal(out.progress, 512);
	assert_string_equal(out.options, "{\"header\":true}");
	dataset_row_clear(&out);
	/* Expiry is exclusive: at expires_at it is dead. */
	expect_rc(store_share_resolve(f->st, "hash-1", 5000, &rs, &out, &e), STORE_NOT_FOUND, e);
	assert_null(out.options);
	expect_rc(store_share_resolve(f->st, "hash-2", 3500, &rs, &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_share_resolve(f->st, "hash-9", 0, &rs, &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_share_resolve(f->st, "", 0, &rs, &out, &e), STORE_NOT_FOUND, e);

	/* Revoking: once, the first time kept; only by the owner, for that dataset. */
	expect_rc(store_share_revoke(f->st, "u2", "d1", "s3", 6000, &e), STORE_NOT_FOUND, e);
	expect_rc(store_share_revoke(f->st, "u1", "d2", "s3", 6000, &e), STORE_NOT_FOUND, e);
	expect_rc(store_share_revoke(f->st, "u1", "d1", "nope", 6000, &e), STORE_NOT_FOUND, e);
	expect_rc(store_share_resolve(f->st, "hash-3", 6000, &rs, &out, &e), STORE_OK, e);
	dataset_row_clear(&out);
	expect_rc(store_share_revoke(f->st, "u1", "d1", "s3", 6000, &e), STORE_OK, e);
	expect_rc(store_share_revoke(f->st, "u1", "d1", "s3", 7000, &e), STORE_OK, e);
	expect_rc(store_share_resolve(f->st, "hash-3", 6001, &rs, &out, &e), STORE_NOT_FOUND, e);

	/* Listing: newest first, revoked and expired included. */
	struct share_row *rows = NULL;
	size_t n = 99;
	expect_rc(store_share_list(f->st, "u1", "d1", &rows, &n, &e), STORE_OK, e);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].id, "s2");
	assert_string_equal(rows[1].id, "s3");
	assert_int_equal(rows[1].revoked_at, 6000);
	assert_string_equal(rows[2].id, "s1");
	assert_int_equal(rows[2].revoked_at, 0);
	assert_string_equal(rows[2].token_hash, "hash-1");
	free(rows);
	rows = NULL;
	expect_rc(store_share_list(f->st, "u2", "d1", &rows, &n, &e), STORE_NOT_FOUND, e);
	assert_null(rows);
	assert_int_equal(n, 0);
	expect_rc(store_share_list(f->st, "u1", "nope", &rows, &n, &e), STORE_NOT_FOUND, e);
	expect_rc(store_share_list(f->st, "u2", "d2", &rows, &n, &e), STORE_OK, e);
	assert_int_equal(n, 0);
	free(rows);
}

/* ---- jobs ---------------------------------------------------------------- */

static void test_job_life_cycle(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_job(f->st, "j1", "ingest", 100);
	struct job_row dup = job_of("j1", "u1", "ingest", "", 100);
	expect_rc(store_job_create(f->st, &dup, &e), STORE_CONFLICT, e);
	struct job_row j;
	expect_rc(store_job_get(f->st, "nope", &j, &e), STORE_NOT_FOUND, e);
	assert_null(j.payload);

	/* Claimed: running for w1, first attempt. */
	memset(&j, 0x55, sizeof j);
	expect_rc(store_job_claim(f->st, "w1", NULL, 0, NULL, 1000, &j, &e), STORE_OK, e);
	assert_string_equal(j.id, "j1");
	assert_string_equal(j.status, "running");
	assert_string_equal(j.worker, "w1");
	assert_int_equal(j.attempts, 1);
	assert_int_equal(j.started_at, 1000);
	assert_int_equal(j.heartbeat_at, 1000);
	assert_int_equal(j.finished_at, 0);
	assert_string_equal(j.payload, "{\"dataset\":1}");
	assert_null(j.result);
	job_row_clear(&j);
	assert_null(j.payload);
	expect_rc(store_job_claim(f->st, "w2", NULL, 0, NULL, 1001, &j, &e), STORE_NOT_FOUND, e);
	assert_null(j.payload);

	/* Progress: only from its worker; a NULL message keeps the last. */
	bool cancel = true;
	expect_rc(store_job_progress(f->st, "j1", "w2", 5, "x", 1100, &cancel, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_job_progress(f->st, "nope", "w1", 5, "x", 1100, &cancel, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_job_progress(f->st, "j1", "w1", 250, "parsing", 1200, &cancel, &e),
		  STORE_OK, e);
	assert_false(cancel);
	expect_rc(store_job_progress(f->st, "j1", "w1", 500, NULL, 1300, &cancel, &e), STORE_OK, e);
	j = job_now(f->st, "j1");
	assert_int_equal(j.progress, 500);
	assert_string_equal(j.message, "parsing");
	assert_int_equal(j.heartbeat_at, 1300);

	/* Heartbeat: every running job of the worker, nobody else's. */
	add_job(f->st, "j2", "ingest", 200);
	add_job(f->st, "j3", "ingest", 300);
	add_job(f->st, "j4", "ingest", 400);
	claim(f->st, "w1", NULL, 1400, "j2");
	claim(f->st, "w2", NULL, 1400, "j3");
	expect_rc(store_job_heartbeat(f->st, "w1", 2000, &e), STORE_OK, e);
	expect_rc(store_job_heartbeat(f->st, "nobody", 2000, &e), STORE_OK, e);
	assert_int_equal(job_now(f->st, "j1").heartbeat_at, 2000);
	assert_int_equal(job_now(f->st, "j2").heartbeat_at, 2000);
	assert_int_equal(job_now(f->st, "j3").heartbeat_at, 1400);
	assert_int_equal(job_now(f->st, "j4").heartbeat_at, 0);

	/* Finishing: only by its worker, only once. */
	expect_rc(store_job_finish(f->st, "j1", "w2", "done", NULL, NULL, 2100, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_job_finish(f->st, "j1", "w1", "exploded", NULL, NULL, 2100, &e),
		  STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
	expect_rc(store_job_finish(f->st, "j1", "w1", "done", "{\"rows\":3}", NULL, 2100, &e),
		  STORE_OK, e);
	expect_rc(store_job_get(f->st, "j1", &j, &e), STORE_OK, e);
	assert_string_equal(j.status, "done");
	assert_string_equal(j.result, "{\"rows\":3}");
	assert_string_equal(j.error, "");
	assert_string_equal(j.worker, "");
	assert_int_equal(j.progress, 1000);
	assert_int_equal(j.finished_at, 2100);
	assert_int_equal(j.started_at, 1000);
	job_row_clear(&j);
	expect_rc(store_job_finish(f->st, "j1", "w1", "failed", NULL, "x", 2200, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_job_progress(f->st, "j1", "w1", 5, NULL, 2200, &cancel, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_job_finish(f->st, "nope", "w1", "done", NULL, NULL, 2200, &e),
		  STORE_CONFLICT, e);

	expect_rc(store_job_finish(f->st, "j2", "w1", "failed", NULL, "no such column", 2300, &e),
		  STORE_OK, e);
	expect_rc(store_job_get(f->st, "j2", &j, &e), STORE_OK, e);
	assert_string_equal(j.status, "failed");
	assert_string_equal(j.error, "no such column");
	assert_null(j.result);
	assert_int_equal(j.finished_at, 2300);
	job_row_clear(&j);
	expect_rc(store_job_finish(f->st, "j3", "w2", "cancelled", NULL, NULL, 2400, &e),
		  STORE_OK, e);
	assert_string_equal(job_now(f->st, "j3").status, "cancelled");

	/* Put back at a clean shutdown: queued again, the attempt not counted. */
	claim(f->st, "w3", NULL, 2500, "j4");
	expect_rc(store_job_finish(f->st, "j4", "w9", "queued", NULL, NULL, 2600, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_job_finish(f->st, "j4", "w3", "queued", NULL, NULL, 2600, &e), STORE_OK, e);
	j = job_now(f->st, "j4");
	assert_string_equal(j.status, "queued");
	assert_string_equal(j.worker, "");
	assert_int_equal(j.attempts, 0);
	assert_int_equal(j.finished_at, 0);
	expect_rc(store_job_heartbeat(f->st, "w3", 2700, &e), STORE_OK, e);
	assert_int_equal(job_now(f->st, "j4").heartbeat_at, 0);
	claim(f->st, "w4", NULL, 2800, "j4");
	j = job_now(f->st, "j4");
	assert_int_equal(j.attempts, 1);
	assert_string_equal(j.worker, "w4");
	assert_int_equal(j.started_at, 2800);
}

static void test_job_claim_order_kinds(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	/* Created out of order; ties on created_at go by id. */
	add_job(f->st, "c", "ingest", 300);
	add_job(f->st, "a", "train", 100);
	add_job(f->st, "b2", "ingest", 200);
	add_job(f->st, "b1", "predict_batch", 200);
	add_job(f->st, "d", "train", 400);

	static const char *const ingest[] = { "ingest" };
	static const char *const two[] = { "predict_batch", "ingest" };
	static const char *const unknown[] = { "nothing" };
	struct job_row j;
	expect_rc(store_job_claim(f->st, "w", unknown, 1, NULL, 1000, &j, &e), STORE_NOT_FOUND, e);
	/* only_id: that job, if queued and of a wanted kind. */
	expect_rc(store_job_claim(f->st, "w", ingest, 1, "a", 1000, &j, &e), STORE_NOT_FOUND, e);
	expect_rc(store_job_claim(f->st, "w", NULL, 0, "zzz", 1000, &j, &e), STORE_NOT_FOUND, e);
	expect_rc(store_job_claim(f->st, "w", ingest, 1, "c", 1000, &j, &e), STORE_OK, e);
	assert_string_equal(j.id, "c");
	job_row_clear(&j);
	expect_rc(store_job_claim(f->st, "w", NULL, 0, "c", 1000, &j, &e), STORE_NOT_FOUND, e);

	expect_rc(store_job_claim(f->st, "w", two, 2, NULL, 1000, &j, &e), STORE_OK, e);
	assert_string_equal(j.id, "b1");
	assert_string_equal(j.kind, "predict_batch");
	job_row_clear(&j);
	expect_rc(store_job_claim(f->st, "w", two, 2, NULL, 1000, &j, &e), STORE_OK, e);
	assert_string_equal(j.id, "b2");
	job_row_clear(&j);
	expect_rc(store_job_claim(f->st, "w", two, 2, NULL, 1000, &j, &e), STORE_NOT_FOUND, e);
	/* Any kind (NULL, or an empty list): the oldest. */
	expect_rc(store_job_claim(f->st, "w", two, 0, NULL, 1000, &j, &e), STORE_OK, e);
	assert_string_equal(j.id, "a");
	job_row_clear(&j);
	claim(f->st, "w", NULL, 1000, "d");
	expect_rc(store_job_claim(f->st, "w", NULL, 0, NULL, 1000, &j, &e), STORE_NOT_FOUND, e);
}

static void test_job_cancel(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_job(f->st, "q", "ingest", 100);
	add_job(f->st, "r", "ingest", 200);
	add_job(f->st, "done", "ingest", 50);
	claim(f->st, "w", "done", 900, "done");
	expect_rc(store_job_finish(f->st, "done", "w", "done", NULL, NULL, 950, &e), STORE_OK, e);
	claim(f->st, "w", "r", 1000, "r");

	/* Not the owner's: not found, nothing changes. */
	expect_rc(store_job_cancel(f->st, "u2", "q", 1100, &e), STORE_NOT_FOUND, e);
	expect_rc(store_job_cancel(f->st, "u1", "nope", 1100, &e), STORE_NOT_FOUND, e);
	expect_rc(store_job_cancel(f->st, NULL, "nope", 1100, &e), STORE_NOT_FOUND, e);
	assert_string_equal(job_now(f->st, "q").status, "queued");

	/* Queued: cancelled at once, never claimed. */
	expect_rc(store_job_cancel(f->st, "u1", "q", 1100, &e), STORE_OK, e);
	struct job_row j = job_now(f->st, "q");
	assert_string_equal(j.status, "cancelled");
	assert_int_equal(j.finished_at, 1100);
	assert_int_equal(j.attempts, 0);
	struct job_row c;
	expect_rc(store_job_claim(f->st, "w", NULL, 0, NULL, 1150, &c, &e), STORE_NOT_FOUND, e);
	expect_rc(store_job_cancel(f->st, "u1", "q", 1200, &e), STORE_CONFLICT, e);
	assert_int_equal(job_now(f->st, "q").finished_at, 1100);

	/* Running: asked, and the worker hears it at its next report. */
	bool cancel = true;
	expect_rc(store_job_progress(f->st, "r", "w", 100, NULL, 1250, &cancel, &e), STORE_OK, e);
	assert_false(cancel);
	expect_rc(store_job_cancel(f->st, NULL, "r", 1300, &e), STORE_OK, e);
	expect_rc(store_job_cancel(f->st, "u1", "r", 1300, &e), STORE_OK, e);   /* again: fine */
	j = job_now(f->st, "r");
	assert_string_equal(j.status, "running");
	assert_true(j.cancel_requested);
	assert_int_equal(j.finished_at, 0);
	expect_rc(store_job_progress(f->st, "r", "w", 200, "stopping", 1400, &cancel, &e), STORE_OK,
		  e);
	assert_true(cancel);
	expect_rc(store_job_finish(f->st, "r", "w", "cancelled", NULL, NULL, 1500, &e), STORE_OK, e);
	expect_rc(store_job_cancel(f->st, "u1", "r", 1600, &e), STORE_CONFLICT, e);
	expect_rc(store_job_cancel(f->st, "u1", "done", 1600, &e), STORE_CONFLICT, e);
	expect_rc(store_job_cancel(f->st, "u2", "done", 1600, &e), STORE_NOT_FOUND, e);
	assert_string_equal(job_now(f->st, "done").status, "done");
}

static void test_job_recover(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	/* fresh: beating; stale1: silent, one attempt; spent: silent, third
	 * attempt; queued: never started; ended: finished long ago. */
	add_job(f->st, "fresh", "ingest", 10);
	add_job(f->st, "stale1", "ingest", 20);
	add_job(f->st, "spent", "ingest", 30);
	add_job(f->st, "queued", "ingest", 40);
	add_job(f->st, "ended", "ingest", 5);
	claim(f->st, "w0", "ended", 100, "ended");
	expect_rc(store_job_finish(f->st, "ended", "w0", "done", NULL, NULL, 150, &e), STORE_OK, e);
	claim(f->st, "w1", "fresh", 1000, "fresh");
	claim(f->st, "w1", "stale1", 1000, "stale1");
	for (int i = 0; i < 3; i++) {
		claim(f->st, "w2", "spent", 1000 + i, "spent");
		if (i < 2)   /* the clean way back keeps attempts; simulate deaths via recover */
			expect_rc(store_job_recover(f->st, 5000, 99, 1100 + i, NULL, NULL, NULL, &e),
				  STORE_OK, e);
	}
	/* That requeued stale1 and fresh too: take them again. */
	claim(f->st, "w1", "fresh", 3000, "fresh");
	claim(f->st, "w1", "stale1", 3000, "stale1");
	expect_rc(store_job_heartbeat(f->st, "w1", 3000, &e), STORE_OK, e);
	bool cancel;
	expect_rc(store_job_progress(f->st, "fresh", "w1", 10, NULL, 9000, &cancel, &e), STORE_OK,
		  e);
	struct job_row j = job_now(f->st, "spent");
	assert_int_equal(j.attempts, 3);
	assert_int_equal(job_now(f->st, "stale1").attempts, 2);

	/* Stale before 5000, at most 3 attempts: spent fails, stale1 goes back. */
	struct job_row *failed = NULL;
	size_t nfailed = 99, requeued = 99;
	expect_rc(store_job_recover(f->st, 5000, 3, 6000, &failed, &nfailed, &requeued, &e),
		  STORE_OK, e);
	assert_int_equal(requeued, 1);
	assert_int_equal(nfailed, 1);
	assert_string_equal(failed[0].id, "spent");
	assert_string_equal(failed[0].status, "failed");
	assert_string_equal(failed[0].error, "interrupted 3 times");
	assert_string_equal(failed[0].kind, "ingest");
	assert_string_equal(failed[0].owner_id, "u1");
	assert_string_equal(failed[0].payload, "{\"dataset\":1}");
	assert_int_equal(failed[0].finished_at, 6000);
	assert_int_equal(failed[0].attempts, 3);
	job_row_clear(&failed[0]);
	free(failed);

	j = job_now(f->st, "spent");
	assert_string_equal(j.status, "failed");
	assert_string_equal(j.error, "interrupted 3 times");
	assert_int_equal(j.finished_at, 6000);
	assert_string_equal(j.worker, "");
	j = job_now(f->st, "stale1");
	assert_string_equal(j.status, "queued");
	assert_string_equal(j.worker, "");
	assert_int_equal(j.attempts, 2);
	j = job_now(f->st, "fresh");
	assert_string_equal(j.status, "running");
	assert_string_equal(j.worker, "w1");
	assert_string_equal(job_now(f->st, "queued").status, "queued");
	assert_string_equal(job_now(f->st, "ended").status, "done");
	/* The old worker's reports now conflict: it lost the job. */
	expect_rc(store_job_progress(f->st, "stale1", "w1", 20, NULL, 6100, &cancel, &e),
		  STORE_CONFLICT, e);
	expect_rc(store_job_finish(f->st, "spent", "w2", "done", NULL, NULL, 6100, &e),
		  STORE_CONFLICT, e);

	/* Nothing stale: nothing happens. */
	expect_rc(store_job_recover(f->st, 5000, 3, 6200, &failed, &nfailed, &requeued, &e),
		  STORE_OK, e);
	assert_int_equal(nfailed, 0);
	assert_int_equal(requeued, 0);
	free(failed);
	/* Failed rows nobody asked for are dropped. */
	claim(f->st, "w5", "stale1", 6300, "stale1");
	expect_rc(store_job_recover(f->st, 7000, 1, 7000, NULL, NULL, &requeued, &e), STORE_OK, e);
	assert_int_equal(requeued, 0);
	assert_string_equal(job_now(f->st, "stale1").error, "interrupted 3 times");
}

#define CLAIM_THREADS 8
#define CLAIM_JOBS 200

struct claimer {
	struct store *st;
	pthread_barrier_t *start;
	char worker[16];
	const char *const *kinds;
	size_t nkinds;
	char (*claimed)[USER_ID_MAX + 1];
	int n;
	int errors;
	struct error e;
};

static void *claimer_run(void *arg)
{
	struct claimer *c = arg;
	pthread_barrier_wait(c->start);
	for (;;) {
		struct job_row j;
		struct error e = { { 0 } };
		enum store_rc rc = store_job_claim(c->st, c->worker, c->kinds, c->nkinds, NULL, 5000,
						   &j, &e);
		if (rc == STORE_NOT_FOUND)
			break;
		if (rc != STORE_OK || strcmp(j.worker, c->worker) != 0 || j.attempts != 1 ||
		    (c->nkinds == 1 && strcmp(j.kind, c->kinds[0]) != 0)) {
			if (c->errors++ == 0)
				c->e = e;
			if (rc != STORE_OK)
				break;
		}
		snprintf(c->claimed[c->n++], USER_ID_MAX + 1, "%s", j.id);
		job_row_clear(&j);
	}
	return NULL;
}

/* Many workers, some through a second store on the same database (as a
 * second process would be), some for one kind only, drain the queue: each
 * job exactly once. */
static void test_job_claim_race(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char id[32];
	for (int i = 0; i < CLAIM_JOBS; i++) {
		snprintf(id, sizeof id, "job%03d", i);
		add_job(f->st, id, i % 3 ? "ingest" : "train", 1000 + i);
	}
	struct store *second = sqlite_path(f->url) ? open_store(f->url, CONNECTIONS) : NULL;

	pthread_t tid[CLAIM_THREADS];
	struct claimer c[CLAIM_THREADS];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, CLAIM_THREADS), 0);
	for (int i = 0; i < CLAIM_THREADS; i++) {
		memset(&c[i], 0, sizeof c[i]);
		static const char *const kinds[] = { "train", "ingest" };
		c[i].st = second && i % 2 ? second : f->st;
		c[i].kinds = i % 4 == 0 ? NULL : i % 4 == 1 ? kinds : i % 4 == 2 ? kinds + 1 : kinds;
		c[i].nkinds = i % 4 == 0 ? 0 : i % 4 == 3 ? 2 : 1;
		c[i].start = &start;
		snprintf(c[i].worker, sizeof c[i].worker, "w%d", i);
		c[i].claimed = calloc(CLAIM_JOBS, sizeof *c[i].claimed);
		assert_non_null(c[i].claimed);
		assert_int_equal(pthread_create(&tid[i], NULL, claimer_run, &c[i]), 0);
	}
	int seen[CLAIM_JOBS] = { 0 };
	int total = 0, errors = 0;
	for (int i = 0; i < CLAIM_THREADS; i++) {
		pthread_join(tid[i], NULL);
		if (c[i].errors)
			print_error("claimer %d: %d errors, first: %s\n", i, c[i].errors, c[i].e.msg);
		errors += c[i].errors;
		for (int k = 0; k < c[i].n; k++) {
			int n = -1;
			assert_int_equal(sscanf(c[i].claimed[k], "job%d", &n), 1);
			assert_in_range(n, 0, CLAIM_JOBS - 1);
			seen[n]++;
			/* The store agrees on who has it. */
			assert_string_equal(job_now(f->st, c[i].claimed[k]).worker, c[i].worker);
		}
		total += c[i].n;
		free(c[i].claimed);
	}
	pthread_barrier_destroy(&start);
	store_close(second);
	assert_int_equal(errors, 0);
	assert_int_equal(total, CLAIM_JOBS);
	for (int i = 0; i < CLAIM_JOBS; i++)
		assert_int_equal(seen[i], 1);
	struct job_row j;
	expect_rc(store_job_claim(f->st, "late", NULL, 0, NULL, 6000, &j, &e), STORE_NOT_FOUND, e);
}

/* ---- failures ------------------------------------------------------------ */

static void test_dataset_ops_unmigrated(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct dataset_row d = dataset_of("d1", "u1", 1), out;
	struct job_row j = job_of("j1", "u1", "ingest", "", 1);
	expect_rc(store_dataset_create(f->st, &d, &j, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
	memset(&out, 0x55, sizeof out);
	expect_rc(store_dataset_get(f->st, "u1", "d1", &out, &e), STORE_ERROR, e);
	assert_null(out.options);
	struct dataset_row *rows = (struct dataset_row *)&out;
	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_dataset_list(f->st, "u1", DATASET_SORT_NAME, 10, 0, &rows, &n, &total, &e),
		  STORE_ERROR, e);
	assert_null(rows);
	assert_int_equal(n, 0);
	struct store_keys keys = { NULL, 0 };
	expect_rc(store_dataset_delete(f->st, "u1", "d1", &keys, &e), STORE_ERROR, e);
	assert_int_equal(keys.n, 0);
	bool exists = true;
	expect_rc(store_dataset_key_exists(f->st, "k", &exists, &e), STORE_ERROR, e);
	struct share_row sh, *shares = &sh;
	expect_rc(store_share_resolve(f->st, "h", 1, &sh, &out, &e), STORE_ERROR, e);
	assert_null(out.options);
	expect_rc(store_share_list(f->st, "u1", "d1", &shares, &n, &e), STORE_ERROR, e);
	assert_null(shares);
	expect_rc(store_job_create(f->st, &j, &e), STORE_ERROR, e);
	memset(&j, 0x55, sizeof j);
	expect_rc(store_job_claim(f->st, "w", NULL, 0, NULL, 1, &j, &e), STORE_ERROR, e);
	assert_null(j.payload);
	bool cancel = true;
	expect_rc(store_job_progress(f->st, "j1", "w", 1, NULL, 1, &cancel, &e), STORE_ERROR, e);
	assert_false(cancel);
	expect_rc(store_job_cancel(f->st, NULL, "j1", 1, &e), STORE_ERROR, e);
	struct job_row *failed = &j;
	size_t nfailed = 99, requeued = 99;
	expect_rc(store_job_recover(f->st, 1, 3, 1, &failed, &nfailed, &requeued, &e), STORE_ERROR,
		  e);
	assert_null(failed);
	assert_int_equal(nfailed, 0);
	assert_int_equal(requeued, 0);
}

/*
 * Migrates, then adds a SQLite trigger that refuses some writes (a failing
 * write in the middle of a transaction).  Skips for other backends.
 */
static void add_refusing_trigger(struct fx *f, const char *sql)
{
	if (!sqlite_path(f->url))
		skip();
	struct error e = { { 0 } };
	struct migration *list = calloc(store_migrations_count + 1, sizeof *list);
	assert_non_null(list);
	memcpy(list, store_migrations, store_migrations_count * sizeof *list);
	list[store_migrations_count] = (struct migration){ last_version() + 1, "refuse", sql };
	int applied;
	enum store_rc rc = migrate_list(f->st, list, store_migrations_count + 1, &applied, &e);
	free(list);
	expect_rc(rc, STORE_OK, e);
}

static void test_dataset_delete_failure_rolls_back(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_refusing_trigger(f, "CREATE TRIGGER refuse BEFORE UPDATE OF cancel_requested ON jobs "
				"WHEN NEW.subject_id = 'd1' BEGIN SELECT RAISE(ABORT, 'refused'); END");
	struct dataset_row d = dataset_of("d1", "u1", 100);
	add_dataset(f->st, &d, "j1");
	struct job_row j2 = job_of("j2", "u1", "ingest", "d1", 200);
	expect_rc(store_job_create(f->st, &j2, &e), STORE_OK, e);
	claim(f->st, "w", "j1", 1000, "j1");
	struct share_row sh = share_of("s1", "d1", "u1", "h1", 10, 99999);
	expect_rc(store_share_create(f->st, &sh, &e), STORE_OK, e);

	struct store_keys keys = { NULL, 0 };
	memset(&e, 0, sizeof e);
	expect_rc(store_dataset_delete(f->st, "u1", "d1", &keys, &e), STORE_ERROR, e);
	assert_non_null(strstr(e.msg, "refused"));
	assert_int_equal(keys.n, 0);
	/* Nothing of it happened. */
	struct dataset_row out;
	struct share_row rs;
	expect_rc(store_share_resolve(f->st, "h1", 50, &rs, &out, &e), STORE_OK, e);
	assert_string_equal(out.status, "processing");
	dataset_row_clear(&out);
	assert_string_equal(job_now(f->st, "j2").status, "queued");
	assert_false(job_now(f->st, "j1").cancel_requested);
	assert_true(key_exists(f->st, "orig/d1"));
}

static void test_job_recover_failure_rolls_back(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_refusing_trigger(f, "CREATE TRIGGER refuse BEFORE UPDATE OF status ON jobs "
				"WHEN NEW.status = 'queued' AND OLD.id = 'stuck' "
				"BEGIN SELECT RAISE(ABORT, 'refused'); END");
	add_job(f->st, "spent", "ingest", 10);
	add_job(f->st, "stuck", "ingest", 20);
	claim(f->st, "w", "spent", 100, "spent");
	expect_rc(store_job_recover(f->st, 5000, 99, 150, NULL, NULL, NULL, &e), STORE_OK, e);
	claim(f->st, "w", "spent", 200, "spent");
	claim(f->st, "w", "stuck", 200, "stuck");
	assert_int_equal(job_now(f->st, "spent").attempts, 2);

	/* spent would fail, but stuck cannot be requeued: neither happens. */
	struct job_row *failed = (struct job_row *)&e;
	size_t nfailed = 99, requeued = 99;
	memset(&e, 0, sizeof e);
	expect_rc(store_job_recover(f->st, 5000, 2, 6000, &failed, &nfailed, &requeued, &e),
		  STORE_ERROR, e);
	assert_non_null(strstr(e.msg, "refused"));
	assert_null(failed);
	assert_int_equal(nfailed, 0);
	assert_int_equal(requeued, 0);
	struct job_row j = job_now(f->st, "spent");
	assert_string_equal(j.status, "running");
	assert_string_equal(j.error, "");
	assert_int_equal(j.finished_at, 0);
	assert_string_equal(job_now(f->st, "stuck").status, "running");
}

/* ---- models ---------------------------------------------------------------- */

/* A model about to be created by owner (status, version and progress set to
 * nonsense: model_create ignores them), with its training job "j-<id>". */
static struct model_row model_of(const char *id, const char *owner, const char *name,
				 int64_t created)
{
	struct model_row m;
	memset(&m, 0, sizeof m);
	snprintf(m.id, sizeof m.id, "%s", id);
	snprintf(m.owner_id, sizeof m.owner_id, "%s", owner);
	snprintf(m.name, sizeof m.name, "%s", name);
	snprintf(m.dataset_id, sizeof m.dataset_id, "ds-%s", id);
	snprintf(m.target, sizeof m.target, "eclo");
	snprintf(m.task, sizeof m.task, "regression");
	snprintf(m.status, sizeof m.status, "ready");     /* ignored */
	snprintf(m.job_id, sizeof m.job_id, "j-%s", id);
	m.version = 99;                                     /* ignored: set by create */
	m.progress = 555;                                   /* ignored */
	m.spec = (char *)"{\"features\":[\"weather\"],\"params\":{\"rounds\":10}}";
	m.created_at = created;
	m.updated_at = created;
	return m;
}

/* Creates model id of owner with its "train" job j-<id>; returns its version. */
static int64_t add_model(struct store *st, const char *id, const char *owner, const char *name,
			 int64_t created)
{
	struct error e = { { 0 } };
	struct model_row m = model_of(id, owner, name, created);
	struct job_row j = job_of(m.job_id, owner, "train", "ignored", created);
	expect_rc(store_model_create(st, &m, &j, &e), STORE_OK, e);
	return m.version;
}

/* The model's row as stored now (spec and info freed: fixed fields only). */
static struct model_row model_now(struct store *st, const char *owner, const char *id)
{
	struct error e = { { 0 } };
	struct model_row m;
	expect_rc(store_model_get(st, owner, id, &m, &e), STORE_OK, e);
	model_row_clear(&m);
	return m;
}

static bool model_key_exists(struct store *st, const char *key)
{
	struct error e = { { 0 } };
	bool exists = true;   /* a "false" answer must be written */
	expect_rc(store_model_key_exists(st, key, &exists, &e), STORE_OK, e);
	return exists;
}

/* Marks id ready with storage key "models/<owner>/<id>.model". */
static void ready_model(struct store *st, const char *owner, const char *id, int64_t now)
{
	struct error e = { { 0 } };
	struct model_row r = model_of(id, owner, "", 0);
	snprintf(r.storage_key, sizeof r.storage_key, "models/%s/%s.model", owner, id);
	r.size_bytes = 4321;
	r.info = (char *)"{\"task\":\"regression\"}";
	expect_rc(store_model_ready(st, &r, now, &e), STORE_OK, e);
}

static void test_model_create_get(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct model_row in = model_of("m1", "u1", "\xea\xb9\x80 severity", 1700000000123);
	struct job_row job = job_of("j-m1", "u1", "train", "not the model", 1700000000123);
	expect_rc(store_model_create(f->st, &in, &job, &e), STORE_OK, e);
	assert_int_equal(in.version, 1);      /* the first of its name */

	struct model_row out;
	memset(&out, 0x55, sizeof out);
	expect_rc(store_model_get(f->st, "u1", "m1", &out, &e), STORE_OK, e);
	assert_string_equal(out.id, "m1");
	assert_string_equal(out.owner_id, "u1");
	assert_string_equal(out.name, in.name);
	assert_int_equal(out.version, 1);
	assert_string_equal(out.dataset_id, "ds-m1");
	assert_string_equal(out.target, "eclo");
	assert_string_equal(out.task, "regression");
	assert_string_equal(out.status, "training");   /* whatever was given */
	assert_string_equal(out.error, "");
	assert_string_equal(out.job_id, "j-m1");
	assert_int_equal(out.progress, 0);
	assert_string_equal(out.storage_key, "");
	assert_int_equal(out.size_bytes, 0);
	assert_string_equal(out.spec, in.spec);
	assert_null(out.info);
	assert_int_equal(out.created_at, 1700000000123);
	assert_int_equal(out.updated_at, 1700000000123);
	model_row_clear(&out);
	assert_null(out.spec);
	model_row_clear(&out);   /* twice is fine */
	model_row_clear(NULL);

	/* Its job came with it: queued, a "train" job about the model. */
	struct job_row j;
	expect_rc(store_job_get(f->st, "j-m1", &j, &e), STORE_OK, e);
	assert_string_equal(j.status, "queued");
	assert_string_equal(j.kind, "train");
	assert_string_equal(j.subject_id, "m1");
	assert_string_equal(j.owner_id, "u1");
	assert_string_equal(j.payload, "{\"dataset\":1}");
	assert_int_equal(j.progress, 0);
	assert_int_equal(j.created_at, 1700000000123);
	job_row_clear(&j);

	/* Without a spec: "{}". */
	struct model_row bare = model_of("m0", "u1", "bare", 5);
	bare.spec = NULL;
	struct job_row bj = job_of("j-m0", "u1", "train", "", 5);
	expect_rc(store_model_create(f->st, &bare, &bj, &e), STORE_OK, e);
	expect_rc(store_model_get(f->st, "u1", "m0", &out, &e), STORE_OK, e);
	assert_string_equal(out.spec, "{}");
	model_row_clear(&out);

	/* Someone else's model is not found, exactly like a missing one; *out
	 * holds nothing to free. */
	memset(&out, 0x55, sizeof out);
	expect_rc(store_model_get(f->st, "u2", "m1", &out, &e), STORE_NOT_FOUND, e);
	assert_null(out.spec);
	assert_null(out.info);
	expect_rc(store_model_get(f->st, "", "m1", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_model_get(f->st, "u1", "M1", &out, &e), STORE_NOT_FOUND, e);
	expect_rc(store_model_get(f->st, "u1", "nope", &out, &e), STORE_NOT_FOUND, e);
}

static void test_model_create_conflicts(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	assert_int_equal(add_model(f->st, "m1", "u1", "sev", 100), 1);

	/* A taken model id (any owner's: ids are global): nothing is created,
	 * not even the job. */
	struct model_row again = model_of("m1", "u2", "sev", 200);
	snprintf(again.job_id, sizeof again.job_id, "j-other");
	struct job_row j = job_of("j-other", "u2", "train", "", 200);
	expect_rc(store_model_create(f->st, &again, &j, &e), STORE_CONFLICT, e);
	struct job_row got;
	expect_rc(store_job_get(f->st, "j-other", &got, &e), STORE_NOT_FOUND, e);
	assert_string_equal(model_now(f->st, "u1", "m1").owner_id, "u1");

	/* A taken job id: the model row is undone too. */
	struct model_row m2 = model_of("m2", "u1", "sev", 300);
	snprintf(m2.job_id, sizeof m2.job_id, "j-m1");
	struct job_row j2 = job_of("j-m1", "u1", "train", "", 300);
	expect_rc(store_model_create(f->st, &m2, &j2, &e), STORE_CONFLICT, e);
	struct model_row out;
	expect_rc(store_model_get(f->st, "u1", "m2", &out, &e), STORE_NOT_FOUND, e);
	/* The job j-m1 is still m1's. */
	expect_rc(store_job_get(f->st, "j-m1", &got, &e), STORE_OK, e);
	assert_string_equal(got.subject_id, "m1");
	assert_int_equal(got.created_at, 100);
	job_row_clear(&got);

	/* Neither failure used up a version. */
	assert_int_equal(add_model(f->st, "m2", "u1", "sev", 400), 2);
	size_t n = 9;
	int64_t total = -1;
	struct model_row *rows = NULL;
	expect_rc(store_model_list(f->st, "u1", 100, 0, &rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 2);
	model_rows_free(rows, n);
	expect_rc(store_model_list(f->st, "u2", 100, 0, &rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 0);
	assert_int_equal(n, 0);
	model_rows_free(rows, n);
}

static void test_model_versions(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	/* Versions count per (owner, name). */
	assert_int_equal(add_model(f->st, "a1", "u1", "sev", 100), 1);
	assert_int_equal(add_model(f->st, "a2", "u1", "sev", 200), 2);
	assert_int_equal(add_model(f->st, "b1", "u1", "other", 300), 1);
	assert_int_equal(add_model(f->st, "a3", "u1", "sev", 400), 3);
	assert_int_equal(add_model(f->st, "c1", "u2", "sev", 500), 1);   /* another owner */
	assert_int_equal(add_model(f->st, "d1", "u1", "Sev", 600), 1);   /* names are exact */
	assert_int_equal(add_model(f->st, "d2", "u1", "sev ", 700), 1);
	assert_int_equal(model_now(f->st, "u1", "a2").version, 2);
	assert_int_equal(model_now(f->st, "u2", "c1").version, 1);

	/* Failed and ready versions count alike. */
	expect_rc(store_model_fail(f->st, "u1", "a3", "boom", 800, &e), STORE_OK, e);
	ready_model(f->st, "u1", "a2", 800);
	assert_int_equal(add_model(f->st, "a4", "u1", "sev", 900), 4);

	/* One more than the newest that is still there: deleting a middle one
	 * leaves a gap, deleting the newest frees its number. */
	expect_rc(store_model_delete(f->st, "u1", "a2", NULL, &e), STORE_OK, e);
	assert_int_equal(add_model(f->st, "a5", "u1", "sev", 1000), 5);
	expect_rc(store_model_delete(f->st, "u1", "a5", NULL, &e), STORE_OK, e);
	assert_int_equal(add_model(f->st, "a6", "u1", "sev", 1100), 5);
	/* All gone: 1 again. */
	const char *ids[] = { "a1", "a3", "a4", "a6" };
	for (size_t i = 0; i < 4; i++)
		expect_rc(store_model_delete(f->st, "u1", ids[i], NULL, &e), STORE_OK, e);
	assert_int_equal(add_model(f->st, "a7", "u1", "sev", 1200), 1);
	/* Another owner's versions never counted. */
	assert_int_equal(add_model(f->st, "c2", "u2", "sev", 1300), 2);
}

static void test_model_ready_fail(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_model(f->st, "m1", "u1", "sev", 100);
	add_model(f->st, "m2", "u1", "sev", 200);
	add_model(f->st, "m3", "u1", "sev", 300);

	/* Progress is the training job's while training. */
	claim(f->st, "w", "j-m1", 1000, "j-m1");
	bool cancel = true;
	expect_rc(store_job_progress(f->st, "j-m1", "w", 420, "training", 1100, &cancel, &e),
		  STORE_OK, e);
	assert_false(cancel);
	struct model_row out = model_now(f->st, "u1", "m1");
	assert_int_equal(out.progress, 420);
	assert_string_equal(out.status, "training");
	assert_int_equal(model_now(f->st, "u1", "m2").progress, 0);

	/* Not the owner's, or not there: not found, nothing changes. */
	struct model_row r = model_of("m1", "u2", "", 0);
	snprintf(r.storage_key, sizeof r.storage_key, "models/u1/m1.model");
	r.size_bytes = 999;
	r.info = (char *)"{\"task\":\"regression\",\"training_rows\":10}";
	expect_rc(store_model_ready(f->st, &r, 1200, &e), STORE_NOT_FOUND, e);
	expect_rc(store_model_fail(f->st, "u2", "m1", "x", 1200, &e), STORE_NOT_FOUND, e);
	expect_rc(store_model_fail(f->st, "u1", "nope", "x", 1200, &e), STORE_NOT_FOUND, e);
	assert_string_equal(model_now(f->st, "u1", "m1").status, "training");

	/* Ready: the key, size and info from the row; progress 1000. */
	snprintf(r.owner_id, sizeof r.owner_id, "u1");
	expect_rc(store_model_ready(f->st, &r, 1300, &e), STORE_OK, e);
	expect_rc(store_model_get(f->st, "u1", "m1", &out, &e), STORE_OK, e);
	assert_string_equal(out.status, "ready");
	assert_string_equal(out.error, "");
	assert_int_equal(out.progress, 1000);
	assert_string_equal(out.storage_key, "models/u1/m1.model");
	assert_int_equal(out.size_bytes, 999);
	assert_string_equal(out.info, r.info);
	assert_int_equal(out.version, 1);          /* untouched */
	assert_string_equal(out.name, "sev");
	assert_string_equal(out.dataset_id, "ds-m1");
	assert_int_equal(out.created_at, 100);
	assert_int_equal(out.updated_at, 1300);
	model_row_clear(&out);
	assert_true(model_key_exists(f->st, "models/u1/m1.model"));

	/* Only while training: ready twice, or failing a ready one, conflicts. */
	r.size_bytes = 1;
	expect_rc(store_model_ready(f->st, &r, 1400, &e), STORE_CONFLICT, e);
	expect_rc(store_model_fail(f->st, "u1", "m1", "late", 1400, &e), STORE_CONFLICT, e);
	out = model_now(f->st, "u1", "m1");
	assert_string_equal(out.status, "ready");
	assert_int_equal(out.size_bytes, 999);
	assert_int_equal(out.updated_at, 1300);
	assert_string_equal(out.error, "");

	/* Failed: the message; progress stays the job's last. */
	claim(f->st, "w", "j-m2", 1500, "j-m2");
	expect_rc(store_job_progress(f->st, "j-m2", "w", 130, NULL, 1550, &cancel, &e), STORE_OK, e);
	expect_rc(store_model_fail(f->st, "u1", "m2", "target eclo has 3 rows", 1600, &e), STORE_OK,
		  e);
	out = model_now(f->st, "u1", "m2");
	assert_string_equal(out.status, "failed");
	assert_string_equal(out.error, "target eclo has 3 rows");
	assert_int_equal(out.progress, 130);
	assert_string_equal(out.storage_key, "");
	assert_int_equal(out.updated_at, 1600);
	struct model_row r2 = model_of("m2", "u1", "", 0);
	snprintf(r2.storage_key, sizeof r2.storage_key, "models/u1/m2.model");
	expect_rc(store_model_ready(f->st, &r2, 1700, &e), STORE_CONFLICT, e);
	expect_rc(store_model_fail(f->st, "u1", "m2", "again", 1700, &e), STORE_CONFLICT, e);
	out = model_now(f->st, "u1", "m2");
	assert_string_equal(out.status, "failed");
	assert_string_equal(out.error, "target eclo has 3 rows");
	assert_false(model_key_exists(f->st, "models/u1/m2.model"));

	/* Ready without info: info stays NULL. */
	struct model_row r3 = model_of("m3", "u1", "", 0);
	snprintf(r3.storage_key, sizeof r3.storage_key, "models/u1/m3.model");
	r3.info = NULL;
	expect_rc(store_model_ready(f->st, &r3, 1800, &e), STORE_OK, e);
	expect_rc(store_model_get(f->st, "u1", "m3", &out, &e), STORE_OK, e);
	assert_string_equal(out.status, "ready");
	assert_null(out.info);
	assert_int_equal(out.progress, 1000);
	model_row_clear(&out);

	/* Deleted meanwhile: not found (the job finding its model gone). */
	add_model(f->st, "m4", "u1", "sev", 1900);
	expect_rc(store_model_delete(f->st, "u1", "m4", NULL, &e), STORE_OK, e);
	struct model_row r4 = model_of("m4", "u1", "", 0);
	snprintf(r4.storage_key, sizeof r4.storage_key, "models/u1/m4.model");
	expect_rc(store_model_ready(f->st, &r4, 2000, &e), STORE_NOT_FOUND, e);
	expect_rc(store_model_fail(f->st, "u1", "m4", "x", 2000, &e), STORE_NOT_FOUND, e);
	assert_false(model_key_exists(f->st, "models/u1/m4.model"));
}

static void test_model_list(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	/* Created out of order; ties on created_at go by id (descending). */
	add_model(f->st, "m3", "u1", "a", 300);
	add_model(f->st, "m1", "u1", "a", 100);
	add_model(f->st, "m5", "u1", "b", 500);
	add_model(f->st, "m2b", "u1", "b", 200);
	add_model(f->st, "m2a", "u1", "c", 200);
	add_model(f->st, "x1", "u2", "a", 400);   /* another owner's */
	ready_model(f->st, "u1", "m3", 1000);
	claim(f->st, "w", "j-m5", 1000, "j-m5");
	bool cancel;
	expect_rc(store_job_progress(f->st, "j-m5", "w", 250, NULL, 1000, &cancel, &e), STORE_OK, e);

	static const char *const want[] = { "m5", "m3", "m2b", "m2a", "m1" };
	struct model_row *rows = (struct model_row *)&e;
	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_model_list(f->st, "u1", 100, 0, &rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 5);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(rows[i].id, want[i]);
		assert_string_equal(rows[i].owner_id, "u1");
		assert_non_null(rows[i].spec);
	}
	/* Rows as model_get has them: progress, versions, info. */
	assert_int_equal(rows[0].progress, 250);
	assert_string_equal(rows[0].status, "training");
	assert_int_equal(rows[1].progress, 1000);
	assert_string_equal(rows[1].status, "ready");
	assert_string_equal(rows[1].info, "{\"task\":\"regression\"}");
	assert_string_equal(rows[1].storage_key, "models/u1/m3.model");
	assert_null(rows[0].info);
	/* Versions go by order of creation, not by created_at: m5 came first. */
	assert_int_equal(rows[0].version, 1);
	assert_int_equal(rows[2].version, 2);
	model_rows_free(rows, n);

	/* Pages: every row exactly once, in order; total is always all of them. */
	for (int64_t limit = 1; limit <= 6; limit++) {
		size_t seen = 0;
		for (int64_t off = 0; off < 7; off += limit) {
			expect_rc(store_model_list(f->st, "u1", limit, off, &rows, &n, &total, &e),
				  STORE_OK, e);
			assert_int_equal(total, 5);
			size_t expect_n = off >= 5 ? 0 : (size_t)(5 - off < limit ? 5 - off : limit);
			assert_int_equal(n, expect_n);
			for (size_t i = 0; i < n; i++)
				assert_string_equal(rows[i].id, want[off + (int64_t)i]);
			seen += n;
			model_rows_free(rows, n);
		}
		assert_int_equal(seen, 5);
	}

	/* The other owner sees only theirs; nobody's list is empty. */
	expect_rc(store_model_list(f->st, "u2", 10, 0, &rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 1);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].id, "x1");
	model_rows_free(rows, n);
	expect_rc(store_model_list(f->st, "nobody", 10, 0, &rows, &n, &total, &e), STORE_OK, e);
	assert_int_equal(total, 0);
	assert_int_equal(n, 0);
	model_rows_free(rows, n);
	model_rows_free(NULL, 0);
}

static void test_model_delete(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_model(f->st, "m1", "u1", "sev", 100);   /* ready, with a running extra job */
	add_model(f->st, "m2", "u1", "sev", 200);   /* training, its job queued */
	add_model(f->st, "m3", "u1", "sev", 300);   /* training, its job running */
	add_model(f->st, "x1", "u2", "sev", 400);   /* another owner's */
	ready_model(f->st, "u1", "m1", 500);
	ready_model(f->st, "u2", "x1", 500);
	/* m1's training job ran and finished; a batch job on it runs now, one is queued. */
	claim(f->st, "w", "j-m1", 600, "j-m1");
	expect_rc(store_job_finish(f->st, "j-m1", "w", "done", NULL, NULL, 650, &e), STORE_OK, e);
	struct job_row b1 = job_of("b1", "u1", "predict_batch", "m1", 700);
	struct job_row b2 = job_of("b2", "u1", "predict_batch", "m1", 710);
	struct job_row bx = job_of("bx", "u1", "predict_batch", "m2", 720);
	expect_rc(store_job_create(f->st, &b1, &e), STORE_OK, e);
	expect_rc(store_job_create(f->st, &b2, &e), STORE_OK, e);
	expect_rc(store_job_create(f->st, &bx, &e), STORE_OK, e);
	claim(f->st, "w", "b1", 800, "b1");
	claim(f->st, "w", "j-m3", 800, "j-m3");

	assert_true(model_key_exists(f->st, "models/u1/m1.model"));
	assert_true(model_key_exists(f->st, "models/u2/x1.model"));
	assert_false(model_key_exists(f->st, "models/u1/m1"));
	assert_false(model_key_exists(f->st, "models/u1/m1.model "));
	assert_false(model_key_exists(f->st, "MODELS/u1/m1.model"));
	assert_false(model_key_exists(f->st, ""));   /* training models' empty key is no key */
	assert_false(model_key_exists(f->st, "nothing"));

	/* Not the owner's: not found, nothing happens. */
	struct store_keys keys = { NULL, 0 };
	expect_rc(store_model_delete(f->st, "u2", "m1", &keys, &e), STORE_NOT_FOUND, e);
	assert_int_equal(keys.n, 0);
	assert_null(keys.keys);
	expect_rc(store_model_delete(f->st, "u1", "x1", &keys, &e), STORE_NOT_FOUND, e);
	assert_int_equal(keys.n, 0);
	expect_rc(store_model_delete(f->st, "u1", "nope", &keys, &e), STORE_NOT_FOUND, e);
	assert_int_equal(keys.n, 0);
	assert_string_equal(model_now(f->st, "u1", "m1").status, "ready");
	assert_string_equal(model_now(f->st, "u2", "x1").status, "ready");
	assert_false(job_now(f->st, "b1").cancel_requested);
	assert_string_equal(job_now(f->st, "b2").status, "queued");

	/* m1: its key to remove; its queued job cancelled, its running one
	 * asked to stop, its finished one left alone. */
	expect_rc(store_model_delete(f->st, "u1", "m1", &keys, &e), STORE_OK, e);
	assert_int_equal(keys.n, 1);
	assert_string_equal(keys.keys[0], "models/u1/m1.model");
	store_keys_free(&keys);
	struct model_row out;
	expect_rc(store_model_get(f->st, "u1", "m1", &out, &e), STORE_NOT_FOUND, e);
	assert_false(model_key_exists(f->st, "models/u1/m1.model"));
	struct job_row j = job_now(f->st, "b2");
	assert_string_equal(j.status, "cancelled");
	assert_true(j.finished_at > 0);
	j = job_now(f->st, "b1");
	assert_string_equal(j.status, "running");
	assert_true(j.cancel_requested);
	assert_int_equal(j.finished_at, 0);
	bool cancel = false;
	expect_rc(store_job_progress(f->st, "b1", "w", 10, NULL, 900, &cancel, &e), STORE_OK, e);
	assert_true(cancel);
	j = job_now(f->st, "j-m1");
	assert_string_equal(j.status, "done");
	assert_int_equal(j.finished_at, 650);
	struct job_row cj;
	expect_rc(store_job_claim(f->st, "w", NULL, 0, "b2", 950, &cj, &e), STORE_NOT_FOUND, e);
	/* Other models' jobs are untouched. */
	assert_string_equal(job_now(f->st, "bx").status, "queued");
	assert_string_equal(job_now(f->st, "j-m2").status, "queued");
	assert_false(job_now(f->st, "j-m3").cancel_requested);

	/* m2, still training: no key; its queued training job cancelled. */
	keys.n = 7;   /* overwritten */
	expect_rc(store_model_delete(f->st, "u1", "m2", &keys, &e), STORE_OK, e);
	assert_int_equal(keys.n, 0);
	store_keys_free(&keys);
	j = job_now(f->st, "j-m2");
	assert_string_equal(j.status, "cancelled");
	assert_true(j.cancel_requested);
	assert_string_equal(job_now(f->st, "bx").status, "cancelled");

	/* m3, training now: the training job hears it; orphans may be NULL. */
	expect_rc(store_model_delete(f->st, "u1", "m3", NULL, &e), STORE_OK, e);
	j = job_now(f->st, "j-m3");
	assert_string_equal(j.status, "running");
	assert_true(j.cancel_requested);
	expect_rc(store_job_progress(f->st, "j-m3", "w", 500, NULL, 1000, &cancel, &e), STORE_OK, e);
	assert_true(cancel);
	/* ...and, finishing, finds its model gone. */
	struct model_row r = model_of("m3", "u1", "", 0);
	snprintf(r.storage_key, sizeof r.storage_key, "models/u1/m3.model");
	expect_rc(store_model_ready(f->st, &r, 1100, &e), STORE_NOT_FOUND, e);

	/* Gone is gone; the other owner's is still there. */
	expect_rc(store_model_delete(f->st, "u1", "m1", &keys, &e), STORE_NOT_FOUND, e);
	assert_int_equal(keys.n, 0);
	assert_true(model_key_exists(f->st, "models/u2/x1.model"));
	expect_rc(store_model_delete(f->st, "u2", "x1", &keys, &e), STORE_OK, e);
	assert_int_equal(keys.n, 1);
	assert_string_equal(keys.keys[0], "models/u2/x1.model");
	store_keys_free(&keys);
	/* The id can be used again (with a new job: jobs outlive their models). */
	struct model_row again = model_of("m1", "u1", "sev", 2000);
	snprintf(again.job_id, sizeof again.job_id, "j-m1-again");
	struct job_row aj = job_of("j-m1-again", "u1", "train", "", 2000);
	expect_rc(store_model_create(f->st, &again, &aj, &e), STORE_OK, e);
	assert_int_equal(again.version, 1);
	assert_string_equal(job_now(f->st, "j-m1").status, "done");
}

static void test_job_create_bounded(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	/* Three "train" slots, counted across owners. */
	struct job_row a = job_of("a", "u1", "train", "m1", 100);
	struct job_row b = job_of("b", "u2", "train", "m2", 110);
	struct job_row c = job_of("c", "u3", "train", "", 120);
	struct job_row d = job_of("d", "u1", "train", "m4", 130);
	expect_rc(store_job_create_bounded(f->st, &a, 3, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &b, 3, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &c, 3, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &d, 3, &e), STORE_FULL, e);
	struct job_row got;
	expect_rc(store_job_get(f->st, "d", &got, &e), STORE_NOT_FOUND, e);
	/* A bigger bound has room. */
	expect_rc(store_job_create_bounded(f->st, &d, 4, &e), STORE_OK, e);

	/* What was created is an ordinary queued job. */
	expect_rc(store_job_get(f->st, "b", &got, &e), STORE_OK, e);
	assert_string_equal(got.status, "queued");
	assert_string_equal(got.owner_id, "u2");
	assert_string_equal(got.kind, "train");
	assert_string_equal(got.subject_id, "m2");
	assert_string_equal(got.message, "waiting");
	assert_string_equal(got.payload, "{\"dataset\":1}");
	assert_int_equal(got.created_at, 110);
	assert_int_equal(got.progress, 0);
	job_row_clear(&got);
	/* A taken id is a conflict, not a full queue. */
	struct job_row dup = job_of("a", "u1", "ingest", "", 140);
	expect_rc(store_job_create_bounded(f->st, &dup, 100, &e), STORE_CONFLICT, e);

	/* Other kinds do not count, and have their own bound. */
	struct job_row i1 = job_of("i1", "u1", "ingest", "", 150);
	struct job_row i2 = job_of("i2", "u1", "ingest", "", 160);
	struct job_row p1 = job_of("p1", "u1", "predict_batch", "", 170);
	expect_rc(store_job_create_bounded(f->st, &i1, 1, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &i2, 1, &e), STORE_FULL, e);
	expect_rc(store_job_create_bounded(f->st, &p1, 1, &e), STORE_OK, e);
	/* Unbounded creates of other kinds do not take train slots either. */
	add_job(f->st, "i3", "ingest", 180);
	struct job_row t5 = job_of("t5", "u9", "train", "", 190);
	expect_rc(store_job_create_bounded(f->st, &t5, 4, &e), STORE_FULL, e);

	/* Running jobs count; finished ones (done, failed, cancelled) do not. */
	claim(f->st, "w", "a", 1000, "a");
	expect_rc(store_job_create_bounded(f->st, &t5, 4, &e), STORE_FULL, e);
	expect_rc(store_job_finish(f->st, "a", "w", "done", NULL, NULL, 1100, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &t5, 4, &e), STORE_OK, e);   /* b c d t5 */
	struct job_row t6 = job_of("t6", "u9", "train", "", 200);
	expect_rc(store_job_create_bounded(f->st, &t6, 4, &e), STORE_FULL, e);
	claim(f->st, "w", "b", 1200, "b");
	expect_rc(store_job_finish(f->st, "b", "w", "failed", NULL, "boom", 1300, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &t6, 4, &e), STORE_OK, e);   /* c d t5 t6 */
	struct job_row t7 = job_of("t7", "u9", "train", "", 210);
	expect_rc(store_job_create_bounded(f->st, &t7, 4, &e), STORE_FULL, e);
	expect_rc(store_job_cancel(f->st, "u3", "c", 1400, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &t7, 4, &e), STORE_OK, e);   /* d t5 t6 t7 */
	struct job_row t8 = job_of("t8", "u9", "train", "", 220);
	expect_rc(store_job_create_bounded(f->st, &t8, 4, &e), STORE_FULL, e);
	/* A running job asked to cancel still runs: it still counts. */
	claim(f->st, "w", "d", 1500, "d");
	expect_rc(store_job_cancel(f->st, NULL, "d", 1600, &e), STORE_OK, e);
	expect_rc(store_job_create_bounded(f->st, &t8, 4, &e), STORE_FULL, e);

	/* A training job made with its model takes a slot like any other. */
	struct model_row m = model_of("m9", "u1", "sev", 2000);
	struct job_row mj = job_of("j-m9", "u1", "train", "", 2000);
	expect_rc(store_model_create(f->st, &m, &mj, &e), STORE_OK, e);   /* unbounded itself */
	expect_rc(store_job_create_bounded(f->st, &t8, 5, &e), STORE_FULL, e);
	expect_rc(store_job_create_bounded(f->st, &t8, 6, &e), STORE_OK, e);

	/* No room at all. */
	struct job_row z = job_of("z", "u1", "brand_new_kind", "", 300);
	expect_rc(store_job_create_bounded(f->st, &z, 0, &e), STORE_FULL, e);
	expect_rc(store_job_get(f->st, "z", &got, &e), STORE_NOT_FOUND, e);
	expect_rc(store_job_create_bounded(f->st, &z, 1, &e), STORE_OK, e);
}

#define BOUND_THREADS 8
#define BOUND_MAX 5

struct bounder {
	struct store *st;
	pthread_barrier_t *start;
	const char *kind;
	int index, round;
	enum store_rc rc;
	struct error e;
};

static void *bounder_run(void *arg)
{
	struct bounder *b = arg;
	char id[32], owner[16];
	snprintf(id, sizeof id, "r%d-%s-%d", b->round, b->kind, b->index);
	snprintf(owner, sizeof owner, "u%d", b->index % 3);
	struct job_row j = job_of(id, owner, b->kind, "", 1000 + b->index);
	pthread_barrier_wait(b->start);
	b->rc = store_job_create_bounded(b->st, &j, BOUND_MAX, &b->e);
	return NULL;
}

/* Threads (half of them through a second store on the same database, as
 * another process would be) race for BOUND_MAX slots: exactly that many
 * win, the rest are told the queue is full, nobody errs. */
static void test_job_create_bounded_race(void **state)
{
	struct fx *f = *state;
	struct store *second = sqlite_path(f->url) ? open_store(f->url, CONNECTIONS) : NULL;
	static const char *const kinds[] = { "train", "predict_batch", "train" };
	for (int round = 0; round < 6; round++) {
		const char *kind = kinds[round % 3];
		pthread_t tid[BOUND_THREADS];
		struct bounder b[BOUND_THREADS];
		pthread_barrier_t start;
		assert_int_equal(pthread_barrier_init(&start, NULL, BOUND_THREADS), 0);
		for (int i = 0; i < BOUND_THREADS; i++) {
			memset(&b[i], 0, sizeof b[i]);
			b[i].st = second && i % 2 ? second : f->st;
			b[i].start = &start;
			b[i].kind = kind;
			b[i].index = i;
			b[i].round = round;
			assert_int_equal(pthread_create(&tid[i], NULL, bounder_run, &b[i]), 0);
		}
		int ok = 0, full = 0;
		for (int i = 0; i < BOUND_THREADS; i++) {
			pthread_join(tid[i], NULL);
			if (b[i].rc == STORE_OK)
				ok++;
			else if (b[i].rc == STORE_FULL)
				full++;
			else
				print_error("round %d thread %d: rc %d: %s\n", round, i, (int)b[i].rc,
					    b[i].e.msg);
		}
		pthread_barrier_destroy(&start);
		assert_int_equal(ok, BOUND_MAX);
		assert_int_equal(full, BOUND_THREADS - BOUND_MAX);
		/* The winners' jobs are there, the losers' are not. */
		for (int i = 0; i < BOUND_THREADS; i++) {
			char id[32];
			snprintf(id, sizeof id, "r%d-%s-%d", round, kind, i);
			struct error e = { { 0 } };
			struct job_row j;
			expect_rc(store_job_get(f->st, id, &j, &e),
				  b[i].rc == STORE_OK ? STORE_OK : STORE_NOT_FOUND, e);
			if (b[i].rc == STORE_OK)
				job_row_clear(&j);
		}
		/* Drain this kind, so the next round of it starts empty. */
		static const char *kind_list[1];
		kind_list[0] = kind;
		for (int i = 0; i < BOUND_MAX; i++) {
			struct error e = { { 0 } };
			struct job_row j;
			expect_rc(store_job_claim(f->st, "drain", kind_list, 1, NULL, 5000, &j, &e),
				  STORE_OK, e);
			expect_rc(store_job_finish(f->st, j.id, "drain", "done", NULL, NULL, 5001, &e),
				  STORE_OK, e);
			job_row_clear(&j);
		}
	}
	store_close(second);
}

#define VERSION_THREADS 8

struct versioner {
	struct store *st;
	pthread_barrier_t *start;
	int index;
	enum store_rc rc;
	int64_t version;
	struct error e;
};

static void *versioner_run(void *arg)
{
	struct versioner *v = arg;
	char id[32];
	snprintf(id, sizeof id, "v%d", v->index);
	struct model_row m = model_of(id, "u1", "raced", 100 + v->index);
	struct job_row j = job_of(m.job_id, "u1", "train", "", 100 + v->index);
	pthread_barrier_wait(v->start);
	v->rc = store_model_create(v->st, &m, &j, &v->e);
	v->version = m.version;
	return NULL;
}

/* Models of one name created at once get distinct versions 1..n, each the
 * version the store keeps. */
static void test_model_create_race(void **state)
{
	struct fx *f = *state;
	struct store *second = sqlite_path(f->url) ? open_store(f->url, CONNECTIONS) : NULL;
	pthread_t tid[VERSION_THREADS];
	struct versioner v[VERSION_THREADS];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, VERSION_THREADS), 0);
	for (int i = 0; i < VERSION_THREADS; i++) {
		memset(&v[i], 0, sizeof v[i]);
		v[i].st = second && i % 2 ? second : f->st;
		v[i].start = &start;
		v[i].index = i;
		assert_int_equal(pthread_create(&tid[i], NULL, versioner_run, &v[i]), 0);
	}
	int seen[VERSION_THREADS + 1] = { 0 };
	for (int i = 0; i < VERSION_THREADS; i++) {
		pthread_join(tid[i], NULL);
		expect_rc(v[i].rc, STORE_OK, v[i].e);
		assert_in_range(v[i].version, 1, VERSION_THREADS);
		seen[v[i].version]++;
		char id[32];
		snprintf(id, sizeof id, "v%d", i);
		assert_int_equal(model_now(f->st, "u1", id).version, v[i].version);
	}
	pthread_barrier_destroy(&start);
	store_close(second);
	for (int k = 1; k <= VERSION_THREADS; k++)
		assert_int_equal(seen[k], 1);
}

static void test_model_ops_unmigrated(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct model_row m = model_of("m1", "u1", "sev", 1), out;
	struct job_row j = job_of("j-m1", "u1", "train", "", 1);
	expect_rc(store_model_create(f->st, &m, &j, &e), STORE_ERROR, e);
	assert_true(e.msg[0] != '\0');
	memset(&out, 0x55, sizeof out);
	expect_rc(store_model_get(f->st, "u1", "m1", &out, &e), STORE_ERROR, e);
	assert_null(out.spec);
	assert_null(out.info);
	struct model_row *rows = &out;
	size_t n = 99;
	int64_t total = -1;
	expect_rc(store_model_list(f->st, "u1", 10, 0, &rows, &n, &total, &e), STORE_ERROR, e);
	assert_null(rows);
	assert_int_equal(n, 0);
	expect_rc(store_model_ready(f->st, &m, 1, &e), STORE_ERROR, e);
	expect_rc(store_model_fail(f->st, "u1", "m1", "x", 1, &e), STORE_ERROR, e);
	struct store_keys keys = { NULL, 0 };
	expect_rc(store_model_delete(f->st, "u1", "m1", &keys, &e), STORE_ERROR, e);
	assert_int_equal(keys.n, 0);
	bool exists = true;
	expect_rc(store_model_key_exists(f->st, "k", &exists, &e), STORE_ERROR, e);
	assert_false(exists);
	expect_rc(store_job_create_bounded(f->st, &j, 5, &e), STORE_ERROR, e);
}

static void test_model_delete_failure_rolls_back(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_refusing_trigger(f, "CREATE TRIGGER refuse BEFORE UPDATE OF cancel_requested ON jobs "
				"WHEN NEW.subject_id = 'm1' AND OLD.status = 'running' "
				"BEGIN SELECT RAISE(ABORT, 'refused'); END");
	add_model(f->st, "m1", "u1", "sev", 100);
	ready_model(f->st, "u1", "m1", 200);
	struct job_row q = job_of("q", "u1", "predict_batch", "m1", 300);
	struct job_row r = job_of("r", "u1", "predict_batch", "m1", 310);
	expect_rc(store_job_create(f->st, &q, &e), STORE_OK, e);
	expect_rc(store_job_create(f->st, &r, &e), STORE_OK, e);
	claim(f->st, "w", "r", 400, "r");

	/* The queued job would be cancelled, but asking the running one fails:
	 * none of it happens, and no key is handed out. */
	struct store_keys keys = { NULL, 0 };
	memset(&e, 0, sizeof e);
	expect_rc(store_model_delete(f->st, "u1", "m1", &keys, &e), STORE_ERROR, e);
	assert_non_null(strstr(e.msg, "refused"));
	assert_int_equal(keys.n, 0);
	assert_null(keys.keys);
	struct model_row m = model_now(f->st, "u1", "m1");
	assert_string_equal(m.status, "ready");
	assert_true(model_key_exists(f->st, "models/u1/m1.model"));
	struct job_row j = job_now(f->st, "q");
	assert_string_equal(j.status, "queued");
	assert_false(j.cancel_requested);
	assert_false(job_now(f->st, "r").cancel_requested);
}

/* A model_create whose job insert fails leaves no model row either (and no
 * version taken). */
static void test_model_create_failure_rolls_back(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	add_refusing_trigger(f, "CREATE TRIGGER refuse BEFORE INSERT ON jobs "
				"WHEN NEW.id = 'j-bad' BEGIN SELECT RAISE(ABORT, 'refused'); END");
	assert_int_equal(add_model(f->st, "m1", "u1", "sev", 100), 1);
	struct model_row m = model_of("bad", "u1", "sev", 200);
	struct job_row j = job_of("j-bad", "u1", "train", "", 200);
	memset(&e, 0, sizeof e);
	expect_rc(store_model_create(f->st, &m, &j, &e), STORE_ERROR, e);
	assert_non_null(strstr(e.msg, "refused"));
	struct model_row out;
	expect_rc(store_model_get(f->st, "u1", "bad", &out, &e), STORE_NOT_FOUND, e);
	assert_int_equal(add_model(f->st, "m2", "u1", "sev", 300), 2);
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
		TM(test_password_races),
		TM(test_session_list_newest_first),
		TM(test_session_list_paging),
		TM(test_session_list_empty),
		TM(test_concurrent_creates),
		TM(test_concurrent_same_id),
		T(test_ping_fresh),
		T(test_ping_after_file_renamed),
		TM(test_persistence_across_reopen),
		TM(test_user_create_get_find),
		TM(test_user_email_conflict),
		TM(test_user_update),
		TM(test_user_set_password),
		TM(test_refresh_rotate_and_reuse),
		TM(test_refresh_reuse_spares_other_families),
		TM(test_refresh_expiry),
		TM(test_refresh_revoke),
		TM(test_refresh_insert_purges_expired),
		TM(test_refresh_rotate_race),
		TM(test_sessions_isolated_by_owner),
		T(test_migrate_from_v1),
		T(test_migrate_from_empty_v1),
		TM(test_dataset_create_get),
		TM(test_dataset_ready_fail_progress),
		TM(test_dataset_update),
		TM(test_dataset_list_sort_paging),
		TM(test_dataset_list_progress),
		TM(test_dataset_delete),
		TM(test_shares),
		TM(test_job_life_cycle),
		TM(test_job_claim_order_kinds),
		TM(test_job_cancel),
		TM(test_job_recover),
		TM(test_job_claim_race),
		T(test_dataset_ops_unmigrated),
		T(test_dataset_delete_failure_rolls_back),
		T(test_job_recover_failure_rolls_back),
		TM(test_model_create_get),
		TM(test_model_create_conflicts),
		TM(test_model_versions),
		TM(test_model_ready_fail),
		TM(test_model_list),
		TM(test_model_delete),
		TM(test_job_create_bounded),
		TM(test_job_create_bounded_race),
		TM(test_model_create_race),
		T(test_model_ops_unmigrated),
		T(test_model_delete_failure_rolls_back),
		T(test_model_create_failure_rolls_back),
	};
#undef T
#undef TM
	return cmocka_run_group_tests(tests, NULL, NULL);
}
