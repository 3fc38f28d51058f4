/*
 * The job queue (jobs/jobs.h) over a real SQLite store, one fresh store per
 * case: outcomes recorded (done with a result, failed with an error and the
 * on_failed hook), many workers running many jobs at once and each exactly
 * once, throttled progress, cancellation of running and of queued jobs,
 * jobs_run_now on the caller's thread and waiting for someone else's run,
 * jobs_wait running out of time, a stop putting a running job back in the
 * queue for the next start, and recovery of jobs a dead process left
 * "running" (requeued at start or later, or failed after max_attempts).
 *
 * Handlers and the test thread meet on one condition variable: the test
 * waits for "the handler started" or "it ran N times", never for a fixed
 * time.  The only sleeps are where time itself is the subject (the
 * progress throttle, a wait that must time out).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/id.h"
#include "jobs/jobs.h"
#include "store/store.h"

#include "testutil.h"

#define MAX_JOBS 32
#define WAIT_MS 10000     /* how long a test waits for something that must happen */

struct fx {
	char dir[64];
	struct store *st;
	struct jobs *q;

	pthread_mutex_t lock;
	pthread_cond_t cond;        /* any field below changed */
	int runs[MAX_JOBS];         /* handler calls per payload n */
	int started;                /* "block" handlers entered */
	bool release;               /* "block" handlers may finish */
	int inside, max_inside, want_inside;   /* "count" handlers running at once */
	pthread_t ok_thread;        /* the thread the last "ok" handler ran on */

	int hooks;                  /* on_failed calls */
	char hook_id[USER_ID_MAX + 1];
	char hook_status[JOB_STATUS_MAX + 1];
	char hook_error[JOB_ERROR_MAX + 1];

	/* What the "throttle" handler saw. */
	bool throttle_ran;
	int64_t gap_ms;             /* between its first write and the throttled call's read */
	int64_t after_throttled, after_interval, after_last;
	char msg_throttled[JOB_MESSAGE_MAX + 1], msg_interval[JOB_MESSAGE_MAX + 1];
	char msg_last[JOB_MESSAGE_MAX + 1];
	bool ret_throttled, ret_interval;
};

/* ---- helpers ---------------------------------------------------------- */

static int64_t mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { .tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

static int payload_n(const struct job_row *job)
{
	int n = 0;
	if (!job->payload || sscanf(job->payload, "{\"n\":%d}", &n) != 1 || n < 0 || n >= MAX_JOBS)
		return 0;
	return n;
}

/* Creates a queued job of kind with payload {"n":n}; its id goes to id. */
static void create_job(struct fx *f, const char *kind, int n, char id[USER_ID_MAX + 1])
{
	struct job_row job = { 0 };
	id_random(job.id, 16);
	snprintf(job.owner_id, sizeof job.owner_id, "%s", LOCAL_USER_ID);
	snprintf(job.kind, sizeof job.kind, "%s", kind);
	char payload[32];
	snprintf(payload, sizeof payload, "{\"n\":%d}", n);
	job.payload = payload;
	job.created_at = clock_now_ms();
	struct error e = { { 0 } };
	expect_rc(store_job_create(f->st, &job, &e), STORE_OK, e);
	memcpy(id, job.id, sizeof job.id);
}

static void get_job(struct fx *f, const char *id, struct job_row *row)
{
	struct error e = { { 0 } };
	memset(row, 0, sizeof *row);
	expect_rc(store_job_get(f->st, id, row, &e), STORE_OK, e);
}

/* Waits (on the fixture's condition) until *counter >= want. */
static void wait_count(struct fx *f, const int *counter, int want)
{
	pthread_mutex_lock(&f->lock);
	int64_t deadline = mono_ms() + WAIT_MS;
	while (*counter < want && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	int got = *counter;
	pthread_mutex_unlock(&f->lock);
	if (got < want) {
		print_error("waited %d ms for a count of %d, got %d\n", WAIT_MS, want, got);
		fail();
	}
}

static int read_count(struct fx *f, const int *counter)
{
	pthread_mutex_lock(&f->lock);
	int v = *counter;
	pthread_mutex_unlock(&f->lock);
	return v;
}

static void release_blocked(struct fx *f)
{
	pthread_mutex_lock(&f->lock);
	f->release = true;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

/* jobs_wait that must see the job end; *row as jobs_wait. */
static void wait_ended(struct fx *f, const char *id, struct job_row *row)
{
	struct error e = { { 0 } };
	int rc = jobs_wait(f->q, id, WAIT_MS, row, &e);
	if (rc != 0) {
		print_error("jobs_wait(%s) returned %d (status \"%s\", message \"%s\")\n", id, rc,
			    rc > 0 ? row->status : "", e.msg);
		fail();
	}
}

/* ---- the kinds -------------------------------------------------------- */

static void count_run(struct fx *f, const struct job_row *job)
{
	pthread_mutex_lock(&f->lock);
	f->runs[payload_n(job)]++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static enum job_outcome run_ok(struct job_ctx *ctx, const struct job_row *job, void *arg,
			       char **result, struct error *e)
{
	(void)e;
	struct fx *f = arg;
	job_progress(ctx, 0, "starting");
	pthread_mutex_lock(&f->lock);
	f->ok_thread = pthread_self();
	pthread_mutex_unlock(&f->lock);
	count_run(f, job);
	*result = strdup("{\"ok\":true}");
	job_progress(ctx, 1000, "finished");
	return JOB_DONE;
}

static enum job_outcome run_bad(struct job_ctx *ctx, const struct job_row *job, void *arg,
				char **result, struct error *e)
{
	(void)ctx;
	(void)result;
	count_run(arg, job);
	error_set(e, "boom");
	return JOB_FAILED;
}

/* Runs until released (then done) or told to stop (then cancelled). */
static enum job_outcome run_block(struct job_ctx *ctx, const struct job_row *job, void *arg,
				  char **result, struct error *e)
{
	(void)result;
	(void)e;
	struct fx *f = arg;
	pthread_mutex_lock(&f->lock);
	f->started++;
	pthread_cond_broadcast(&f->cond);
	while (!f->release) {
		pthread_mutex_unlock(&f->lock);
		if (job_progress(ctx, 10, "blocked"))
			return JOB_CANCELLED;
		pthread_mutex_lock(&f->lock);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 2 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	pthread_mutex_unlock(&f->lock);
	count_run(f, job);
	return JOB_DONE;
}

/* Stays inside until want_inside handlers were inside at once. */
static enum job_outcome run_count(struct job_ctx *ctx, const struct job_row *job, void *arg,
				  char **result, struct error *e)
{
	(void)ctx;
	(void)result;
	(void)e;
	struct fx *f = arg;
	pthread_mutex_lock(&f->lock);
	f->inside++;
	if (f->inside > f->max_inside)
		f->max_inside = f->inside;
	pthread_cond_broadcast(&f->cond);
	int64_t deadline = mono_ms() + WAIT_MS;
	while (f->max_inside < f->want_inside && mono_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&f->cond, &f->lock, &ts);
	}
	f->inside--;
	f->runs[payload_n(job)]++;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
	return JOB_DONE;
}

static void read_progress(struct fx *f, const char *id, int64_t *progress, char *message)
{
	struct job_row row;
	get_job(f, id, &row);
	*progress = row.progress;
	snprintf(message, JOB_MESSAGE_MAX + 1, "%s", row.message);
	job_row_clear(&row);
}

static enum job_outcome run_throttle(struct job_ctx *ctx, const struct job_row *job, void *arg,
				     char **result, struct error *e)
{
	(void)result;
	(void)e;
	struct fx *f = arg;
	int64_t p;
	char m[JOB_MESSAGE_MAX + 1];
	job_progress(ctx, 0, "zero");               /* always written */
	int64_t t0 = mono_ms();
	bool r1 = job_progress(ctx, 500, "half");   /* within the interval: kept back */
	read_progress(f, job->id, &p, m);
	int64_t gap = mono_ms() - t0;
	pthread_mutex_lock(&f->lock);
	f->gap_ms = gap;
	f->ret_throttled = r1;
	f->after_throttled = p;
	snprintf(f->msg_throttled, sizeof f->msg_throttled, "%s", m);
	pthread_mutex_unlock(&f->lock);

	sleep_ms(JOBS_PROGRESS_INTERVAL_MS + 20);
	bool r2 = job_progress(ctx, 600, NULL);     /* written, with the kept message */
	read_progress(f, job->id, &p, m);
	pthread_mutex_lock(&f->lock);
	f->ret_interval = r2;
	f->after_interval = p;
	snprintf(f->msg_interval, sizeof f->msg_interval, "%s", m);
	pthread_mutex_unlock(&f->lock);

	job_progress(ctx, 5000, "end");             /* clamped to 1000, always written */
	read_progress(f, job->id, &p, m);
	pthread_mutex_lock(&f->lock);
	f->after_last = p;
	snprintf(f->msg_last, sizeof f->msg_last, "%s", m);
	f->throttle_ran = true;
	pthread_mutex_unlock(&f->lock);
	count_run(f, job);
	return JOB_DONE;
}

static void on_failed(const struct job_row *job, const char *error, void *arg)
{
	struct fx *f = arg;
	pthread_mutex_lock(&f->lock);
	f->hooks++;
	snprintf(f->hook_id, sizeof f->hook_id, "%s", job->id);
	snprintf(f->hook_status, sizeof f->hook_status, "%s", job->status);
	snprintf(f->hook_error, sizeof f->hook_error, "%s", error);
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static const struct job_kind kinds[] = {
	{ "ok", run_ok, on_failed },
	{ "bad", run_bad, on_failed },
	{ "block", run_block, on_failed },
	{ "count", run_count, on_failed },
	{ "throttle", run_throttle, on_failed },
};
#define NKINDS (sizeof kinds / sizeof kinds[0])

static void start(struct fx *f, int workers, int64_t heartbeat_ms, int64_t stale_ms,
		  int64_t max_attempts)
{
	struct jobs_options opt = { .workers = workers, .heartbeat_ms = heartbeat_ms,
				    .stale_ms = stale_ms, .max_attempts = max_attempts,
				    .node = "test-node" };
	struct error e = { { 0 } };
	f->q = jobs_start(f->st, kinds, NKINDS, &opt, f, &e);
	if (!f->q) {
		print_error("jobs_start: %s\n", e.msg);
		fail();
	}
}

/* Starts a queue whose only worker is held by a "block" job; its id goes to id. */
static void start_busy(struct fx *f, char id[USER_ID_MAX + 1])
{
	start(f, 1, 0, 0, 0);
	create_job(f, "block", 0, id);
	jobs_notify(f->q);
	wait_count(f, &f->started, 1);
}

/* As a dead process would leave it: claimed by worker at claimed_at, never beating. */
static void claim_as(struct fx *f, const char *id, const char *worker, int64_t claimed_at)
{
	struct job_row row = { 0 };
	struct error e = { { 0 } };
	expect_rc(store_job_claim(f->st, worker, NULL, 0, id, claimed_at, &row, &e), STORE_OK, e);
	assert_string_equal(row.status, "running");
	job_row_clear(&row);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/sheaf-test-jobs.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	char url[128];
	snprintf(url, sizeof url, "sqlite:%s/x.db", f->dir);
	struct error e = { { 0 } };
	f->st = store_open(url, &(struct store_options){ .connections = 4, .lock_timeout_ms = -1 },
			   &e);
	int applied;
	if (!f->st || store_migrate(f->st, &applied, &e) != STORE_OK) {
		print_error("store %s: %s\n", url, e.msg);
		store_close(f->st);
		rm_rf(f->dir);
		free(f);
		return -1;
	}
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	jobs_stop(f->q);
	store_close(f->st);
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	rm_rf(f->dir);
	free(f);
	return 0;
}

/* ---- cases ------------------------------------------------------------ */

static void test_done_and_failed(void **state)
{
	struct fx *f = *state;
	start(f, 2, 0, 0, 0);
	char ok[USER_ID_MAX + 1], bad[USER_ID_MAX + 1];
	create_job(f, "ok", 1, ok);
	create_job(f, "bad", 2, bad);
	jobs_notify(f->q);

	struct job_row row;
	wait_ended(f, ok, &row);
	assert_string_equal(row.status, "done");
	assert_non_null(row.result);
	assert_string_equal(row.result, "{\"ok\":true}");
	assert_string_equal(row.error, "");
	assert_int_equal(row.attempts, 1);
	assert_int_equal(row.progress, 1000);
	assert_true(row.finished_at > 0);
	job_row_clear(&row);
	assert_false(pthread_equal(f->ok_thread, pthread_self()));

	wait_ended(f, bad, &row);
	assert_string_equal(row.status, "failed");
	assert_string_equal(row.error, "boom");
	job_row_clear(&row);
	wait_count(f, &f->hooks, 1);
	assert_string_equal(f->hook_id, bad);
	assert_string_equal(f->hook_status, "failed");
	assert_string_equal(f->hook_error, "boom");
	assert_int_equal(read_count(f, &f->runs[1]), 1);
	assert_int_equal(read_count(f, &f->runs[2]), 1);
	assert_int_equal(read_count(f, &f->hooks), 1);
}

static void test_workers_run_concurrently_once_each(void **state)
{
	struct fx *f = *state;
	enum { WORKERS = 4, JOBS = 16 };
	f->want_inside = WORKERS;
	start(f, WORKERS, 0, 0, 0);
	char ids[JOBS][USER_ID_MAX + 1];
	for (int i = 0; i < JOBS; i++) {
		create_job(f, "count", i, ids[i]);
		jobs_notify(f->q);
	}
	for (int i = 0; i < JOBS; i++) {
		struct job_row row;
		wait_ended(f, ids[i], &row);
		assert_string_equal(row.status, "done");
		assert_int_equal(row.attempts, 1);
		job_row_clear(&row);
	}
	for (int i = 0; i < JOBS; i++)
		assert_int_equal(read_count(f, &f->runs[i]), 1);
	assert_int_equal(read_count(f, &f->max_inside), WORKERS);
	assert_int_equal(read_count(f, &f->hooks), 0);
}

static void test_progress_is_throttled(void **state)
{
	struct fx *f = *state;
	start(f, 1, 0, 0, 0);
	char id[USER_ID_MAX + 1];
	create_job(f, "throttle", 3, id);
	jobs_notify(f->q);
	struct job_row row;
	wait_ended(f, id, &row);
	assert_string_equal(row.status, "done");
	job_row_clear(&row);

	pthread_mutex_lock(&f->lock);
	assert_true(f->throttle_ran);
	assert_false(f->ret_throttled);
	assert_false(f->ret_interval);
	/* Only meaningful when the machine did not stall past the interval. */
	if (f->gap_ms < JOBS_PROGRESS_INTERVAL_MS - 50) {
		assert_int_equal(f->after_throttled, 0);
		assert_string_equal(f->msg_throttled, "zero");
	}
	assert_int_equal(f->after_interval, 600);
	assert_string_equal(f->msg_interval, "half");
	assert_int_equal(f->after_last, 1000);
	assert_string_equal(f->msg_last, "end");
	pthread_mutex_unlock(&f->lock);
}

static void test_cancel_running(void **state)
{
	struct fx *f = *state;
	char id[USER_ID_MAX + 1];
	start_busy(f, id);
	struct error e = { { 0 } };
	expect_rc(store_job_cancel(f->st, NULL, id, clock_now_ms(), &e), STORE_OK, e);
	struct job_row row;
	wait_ended(f, id, &row);
	assert_string_equal(row.status, "cancelled");
	assert_true(row.cancel_requested);
	job_row_clear(&row);
	wait_count(f, &f->hooks, 1);
	assert_string_equal(f->hook_id, id);
	assert_string_equal(f->hook_status, "cancelled");
	assert_int_equal(read_count(f, &f->runs[0]), 0);   /* it never finished its work */

	expect_rc(jobs_cancel(f->q, NULL, id, &e), STORE_CONFLICT, e);
	assert_int_equal(read_count(f, &f->hooks), 1);
}

static void test_cancel_queued(void **state)
{
	struct fx *f = *state;
	char busy[USER_ID_MAX + 1], id[USER_ID_MAX + 1];
	start_busy(f, busy);
	create_job(f, "ok", 5, id);
	struct error e = { { 0 } };
	expect_rc(jobs_cancel(f->q, "someone-else", id, &e), STORE_NOT_FOUND, e);
	assert_int_equal(read_count(f, &f->hooks), 0);
	expect_rc(jobs_cancel(f->q, LOCAL_USER_ID, id, &e), STORE_OK, e);
	/* The hook ran on this thread, before jobs_cancel returned. */
	assert_int_equal(read_count(f, &f->hooks), 1);
	assert_string_equal(f->hook_id, id);
	assert_string_equal(f->hook_status, "cancelled");
	assert_string_equal(f->hook_error, "cancelled");
	struct job_row row;
	get_job(f, id, &row);
	assert_string_equal(row.status, "cancelled");
	assert_int_equal(row.attempts, 0);
	job_row_clear(&row);
	expect_rc(jobs_cancel(f->q, NULL, id, &e), STORE_CONFLICT, e);
	assert_int_equal(read_count(f, &f->hooks), 1);

	release_blocked(f);
	wait_ended(f, busy, &row);
	assert_string_equal(row.status, "done");
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->runs[5]), 0);
	assert_int_equal(read_count(f, &f->hooks), 1);
}

static void test_run_now(void **state)
{
	struct fx *f = *state;
	char busy[USER_ID_MAX + 1], id[USER_ID_MAX + 1];
	start_busy(f, busy);
	create_job(f, "ok", 6, id);

	struct job_row row;
	struct error e = { { 0 } };
	assert_int_equal(jobs_run_now(f->q, id, 1000, &row, &e), 0);
	assert_true(pthread_equal(f->ok_thread, pthread_self()));
	assert_string_equal(row.status, "done");
	assert_string_equal(row.result, "{\"ok\":true}");
	assert_int_equal(row.attempts, 1);
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->runs[6]), 1);

	/* The worker has the other one: run_now waits for it, here in vain. */
	int64_t t0 = mono_ms();
	assert_int_equal(jobs_run_now(f->q, busy, 20, &row, &e), 1);
	assert_true(mono_ms() - t0 >= 20);
	assert_string_equal(row.status, "running");
	assert_memory_equal(row.worker, "test-node:", strlen("test-node:"));
	job_row_clear(&row);

	release_blocked(f);
	assert_int_equal(jobs_run_now(f->q, busy, WAIT_MS, &row, &e), 0);
	assert_string_equal(row.status, "done");
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->runs[0]), 1);

	assert_int_equal(jobs_run_now(f->q, "no-such-job", 10, &row, &e), -1);
}

static void test_wait_times_out(void **state)
{
	struct fx *f = *state;
	start(f, 2, 0, 0, 0);
	/* No queue here knows this kind, so it stays queued. */
	char id[USER_ID_MAX + 1];
	create_job(f, "unknown", 7, id);
	jobs_notify(f->q);
	struct job_row row;
	struct error e = { { 0 } };
	int64_t t0 = mono_ms();
	assert_int_equal(jobs_wait(f->q, id, 30, &row, &e), 1);
	int64_t waited = mono_ms() - t0;
	assert_true(waited >= 30);
	assert_true(waited < 5000);
	assert_string_equal(row.status, "queued");
	job_row_clear(&row);
	assert_int_equal(jobs_run_now(f->q, id, 0, &row, &e), 1);
	assert_string_equal(row.status, "queued");
	job_row_clear(&row);
	assert_int_equal(jobs_wait(f->q, "no-such-job", 10, &row, &e), -1);
}

static void test_stop_requeues_running(void **state)
{
	struct fx *f = *state;
	char id[USER_ID_MAX + 1];
	start_busy(f, id);
	jobs_stop(f->q);
	f->q = NULL;

	struct job_row row;
	get_job(f, id, &row);
	assert_string_equal(row.status, "queued");
	assert_string_equal(row.worker, "");
	assert_int_equal(row.attempts, 0);   /* a clean stop is not an interruption */
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->hooks), 0);

	release_blocked(f);
	start(f, 1, 0, 0, 0);
	wait_ended(f, id, &row);
	assert_string_equal(row.status, "done");
	assert_int_equal(row.attempts, 1);
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->started), 2);
	assert_int_equal(read_count(f, &f->runs[0]), 1);
	assert_int_equal(read_count(f, &f->hooks), 0);
}

static void test_recover_at_start(void **state)
{
	struct fx *f = *state;
	char id[USER_ID_MAX + 1];
	create_job(f, "ok", 8, id);
	claim_as(f, id, "dead-node:1", clock_now_ms() - 60000);
	start(f, 1, 10, 50, 3);
	struct job_row row;
	wait_ended(f, id, &row);
	assert_string_equal(row.status, "done");
	assert_int_equal(row.attempts, 2);
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->runs[8]), 1);
	assert_int_equal(read_count(f, &f->hooks), 0);
}

static void test_recover_while_running(void **state)
{
	struct fx *f = *state;
	const int64_t stale = 40;
	char dead[USER_ID_MAX + 1], mine[USER_ID_MAX + 1];
	create_job(f, "ok", 9, dead);
	claim_as(f, dead, "dead-node:2", clock_now_ms());   /* fresh now, silent later */
	start(f, 2, 10, stale, 3);
	create_job(f, "block", 0, mine);
	jobs_notify(f->q);
	wait_count(f, &f->started, 1);

	struct job_row row;
	wait_ended(f, dead, &row);
	assert_string_equal(row.status, "done");
	assert_int_equal(row.attempts, 2);
	job_row_clear(&row);

	/* Our own long job survives many recovery passes: the heartbeat
	 * keeps it fresh. */
	int64_t deadline = mono_ms() + WAIT_MS;
	for (;;) {
		get_job(f, mine, &row);
		bool beaten = row.heartbeat_at > row.started_at + 3 * stale;
		assert_string_equal(row.status, "running");
		assert_int_equal(row.attempts, 1);
		job_row_clear(&row);
		if (beaten)
			break;
		assert_true(mono_ms() < deadline);
		sleep_ms(5);
	}
	release_blocked(f);
	wait_ended(f, mine, &row);
	assert_string_equal(row.status, "done");
	assert_int_equal(row.attempts, 1);
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->hooks), 0);
}

static void test_recover_gives_up(void **state)
{
	struct fx *f = *state;
	char id[USER_ID_MAX + 1];
	create_job(f, "ok", 10, id);
	claim_as(f, id, "dead-node:3", clock_now_ms() - 60000);
	start(f, 1, 10, 50, 1);
	/* Recovery ran inside jobs_start. */
	assert_int_equal(read_count(f, &f->hooks), 1);
	assert_string_equal(f->hook_id, id);
	assert_string_equal(f->hook_status, "failed");
	assert_non_null(strstr(f->hook_error, "interrupted"));
	struct job_row row;
	get_job(f, id, &row);
	assert_string_equal(row.status, "failed");
	assert_non_null(strstr(row.error, "interrupted"));
	assert_int_equal(row.attempts, 1);
	job_row_clear(&row);
	assert_int_equal(read_count(f, &f->runs[10]), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_done_and_failed),
		T(test_workers_run_concurrently_once_each),
		T(test_progress_is_throttled),
		T(test_cancel_running),
		T(test_cancel_queued),
		T(test_run_now),
		T(test_wait_times_out),
		T(test_stop_requeues_running),
		T(test_recover_at_start),
		T(test_recover_while_running),
		T(test_recover_gives_up),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
