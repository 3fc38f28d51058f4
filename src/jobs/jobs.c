/*
 * The job queue: worker threads that claim jobs from the store and run
 * their kinds' handlers, and one keeper thread that beats for the jobs this
 * process runs and recovers other runners' stale jobs; see jobs.h.
 *
 * All the durable state is in the store.  In memory there is only what the
 * threads share: the stop flag, which runner names are busy (for the
 * heartbeat), and two generation counters that let sleepers wait without
 * missing a wake-up -- notify_gen (a job may be queued: workers claim
 * again) and done_gen (a local job ended: jobs_wait reads the row again).
 * Jobs created by another process are found by polling the store.
 */
#include "jobs/jobs.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"

#define CLAIM_POLL_MS 1000  /* idle workers look for other processes' jobs this often */
#define WAIT_POLL_MS 100    /* jobs_wait reads a row run elsewhere this often */
#define NODE_MAX (JOB_WORKER_MAX - 21)   /* room for ":N" with any 64-bit N */

/* A job running in this process: its runner's name, for the heartbeat, and
 * a cancellation asked in this process, seen by the handler at once (one
 * asked on another node is seen at the next progress write). */
struct runner {
	const char *worker;
	const char *job_id;
	atomic_bool cancel;
	struct runner *next;
};

struct worker {
	struct jobs *q;
	pthread_t thread;
	char name[JOB_WORKER_MAX + 1];
};

struct jobs {
	struct store *st;
	const struct job_kind *kinds;
	const char **kind_names;    /* for store_job_claim */
	size_t nkinds;
	void *arg;
	int64_t heartbeat_ms, stale_ms, max_attempts;
	char node[NODE_MAX + 1];

	atomic_bool stopping;       /* read without the lock by handlers */
	pthread_mutex_t lock;
	pthread_cond_t wake;        /* workers and keeper: notify_gen moved, or stop */
	pthread_cond_t changed;     /* waiters: done_gen or callers moved, or stop */
	uint64_t notify_gen;
	uint64_t done_gen;
	struct runner *running;
	int callers;                /* threads inside jobs_run_now / jobs_wait */

	struct worker *workers;
	int nworkers;               /* threads started */
	pthread_t keeper;
	bool keeper_started;
};

struct job_ctx {
	struct jobs *q;
	const char *id;
	const char *worker;
	bool written;               /* a progress write happened */
	int64_t last_write_ms;      /* monotonic */
	int64_t last_check_ms;      /* monotonic: last look at the row */
	bool cancel;                /* the store said cancellation was asked */
	atomic_bool *cancel_here;   /* jobs_cancel in this process said so */
	bool lost;                  /* the job is no longer ours (recovered elsewhere) */
	bool message_pending;       /* message not written yet (throttled) */
	char message[JOB_MESSAGE_MAX + 1];
};

static atomic_uint_fast64_t next_runner_id = 1;

static int64_t mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

/* A CLOCK_MONOTONIC deadline ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(int64_t ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)(ms / 1000);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return ts;
}

static void runner_name(const struct jobs *q, char out[JOB_WORKER_MAX + 1])
{
	unsigned long long n = (unsigned long long)atomic_fetch_add(&next_runner_id, 1);
	snprintf(out, JOB_WORKER_MAX + 1, "%s:%llu", q->node, n);
}

static const struct job_kind *find_kind(const struct jobs *q, const char *name)
{
	for (size_t i = 0; i < q->nkinds; i++)
		if (strcmp(q->kinds[i].name, name) == 0)
			return &q->kinds[i];
	return NULL;
}

static bool ended(const char *status)
{
	return strcmp(status, "done") == 0 || strcmp(status, "failed") == 0 ||
	       strcmp(status, "cancelled") == 0;
}

static bool stopping(struct jobs *q)
{
	return atomic_load(&q->stopping);
}

/* ---- handlers' side --------------------------------------------------- */

bool job_progress(struct job_ctx *ctx, int64_t per_mille, const char *message)
{
	if (per_mille < 0)
		per_mille = 0;
	if (per_mille > 1000)
		per_mille = 1000;
	if (message) {
		size_t n = utf8_prefix(message, JOB_MESSAGE_MAX);
		memcpy(ctx->message, message, n);
		ctx->message[n] = '\0';
		ctx->message_pending = true;
	}
	if (atomic_load(ctx->cancel_here))
		ctx->cancel = true;
	if (ctx->cancel || ctx->lost || stopping(ctx->q))
		return true;
	int64_t now = mono_ms();
	bool edge = per_mille == 0 || per_mille == 1000;
	if (!edge && ctx->written && now - ctx->last_write_ms < JOBS_PROGRESS_INTERVAL_MS)
		return false;
	ctx->written = true;
	ctx->last_write_ms = ctx->last_check_ms = now;
	bool cancel = false;
	struct error e;
	enum store_rc rc = store_job_progress(ctx->q->st, ctx->id, ctx->worker, per_mille,
					      ctx->message_pending ? ctx->message : NULL,
					      clock_now_ms(), &cancel, &e);
	if (rc == STORE_OK) {
		ctx->message_pending = false;
		ctx->cancel = cancel;
	} else if (rc == STORE_CONFLICT) {
		ctx->lost = true;
	} else {
		/* A store hiccup is no reason to abandon the work: the next
		 * write tries again, and the heartbeat keeps the job ours. */
		log_warn("job %s: progress not recorded: %s", ctx->id, e.msg);
	}
	return ctx->cancel || ctx->lost || stopping(ctx->q);
}

bool job_should_stop(struct job_ctx *ctx)
{
	if (atomic_load(ctx->cancel_here))
		ctx->cancel = true;
	if (ctx->cancel || ctx->lost || stopping(ctx->q))
		return true;
	int64_t now = mono_ms();
	if (now - ctx->last_check_ms < JOBS_PROGRESS_INTERVAL_MS)
		return false;
	ctx->last_check_ms = now;
	struct job_row row = { 0 };
	struct error e;
	enum store_rc rc = store_job_get(ctx->q->st, ctx->id, &row, &e);
	if (rc == STORE_OK) {
		ctx->cancel = row.cancel_requested;
		ctx->lost = strcmp(row.status, "running") != 0 ||
			    strcmp(row.worker, ctx->worker) != 0;
	} else if (rc == STORE_NOT_FOUND) {
		ctx->lost = true;
	} else {
		log_warn("job %s: cannot read its row: %s", ctx->id, e.msg);
	}
	job_row_clear(&row);
	return ctx->cancel || ctx->lost || stopping(ctx->q);
}

/* ---- running one job -------------------------------------------------- */

static void add_runner(struct jobs *q, struct runner *r)
{
	pthread_mutex_lock(&q->lock);
	r->next = q->running;
	q->running = r;
	pthread_mutex_unlock(&q->lock);
}

static void remove_runner(struct jobs *q, struct runner *r)
{
	pthread_mutex_lock(&q->lock);
	for (struct runner **p = &q->running; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			break;
		}
	}
	q->done_gen++;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

/* Whether cancellation of job id was asked, per its row (false when the
 * row cannot be read: the job then runs again and learns it then). */
static bool cancel_asked(struct jobs *q, const char *id)
{
	struct job_row row = { 0 };
	struct error e;
	bool asked = store_job_get(q->st, id, &row, &e) == STORE_OK && row.cancel_requested;
	job_row_clear(&row);
	return asked;
}

/* Records how a run ended and calls on_failed when it failed or was
 * cancelled.  row is the claimed row; its status and error are updated for
 * the hook. */
static void record_end(struct jobs *q, const struct job_kind *kind, struct job_ctx *ctx,
		       struct job_row *row, enum job_outcome outcome, const char *result,
		       const char *error, int64_t elapsed_ms)
{
	if (ctx->lost) {
		log_warn("job %s: taken over by another runner while %s ran it; its outcome "
			 "is dropped", row->id, ctx->worker);
		return;
	}
	const char *status;
	if (outcome != JOB_DONE && stopping(q) && !ctx->cancel && !cancel_asked(q, row->id))
		status = "queued";   /* stopped by our shutdown, not by its own fault */
	else if (outcome == JOB_DONE)
		status = "done";
	else if (outcome == JOB_FAILED)
		status = "failed";
	else
		status = "cancelled";
	if (outcome == JOB_FAILED && !*error)
		error = "failed";

	struct error e;
	enum store_rc rc = store_job_finish(q->st, row->id, ctx->worker, status,
					    outcome == JOB_DONE ? result : NULL,
					    strcmp(status, "failed") == 0 ? error : NULL,
					    clock_now_ms(), &e);
	if (rc == STORE_CONFLICT) {
		log_warn("job %s: no longer %s's when it ended %s; its outcome is dropped",
			 row->id, ctx->worker, status);
		return;
	}
	if (rc != STORE_OK) {
		/* It stays "running" under a name nobody beats for, so
		 * recovery requeues it once it is stale. */
		log_error("job %s: cannot record that it ended %s: %s", row->id, status, e.msg);
		return;
	}
	log_fields(strcmp(status, "failed") == 0 ? LOG_WARN : LOG_INFO, "job_ended",
		   LOG_STR("job_id", row->id), LOG_STR("kind", row->kind),
		   LOG_STR("status", status), LOG_INT("attempt", row->attempts),
		   LOG_INT("ms", elapsed_ms), LOG_STR("error", strcmp(status, "failed") == 0 ?
						     error : ""));
	if (strcmp(status, "failed") != 0 && strcmp(status, "cancelled") != 0)
		return;
	const char *why = strcmp(status, "failed") == 0 ? error : "cancelled";
	snprintf(row->status, sizeof row->status, "%s", status);
	snprintf(row->error, sizeof row->error, "%.*s", (int)utf8_prefix(why, JOB_ERROR_MAX),
		 why);
	if (kind && kind->on_failed)
		kind->on_failed(row, why, q->arg);
}

/* Runs a job claimed by worker on this thread and records its end. */
static void run_claimed(struct jobs *q, const char *worker, struct job_row *row)
{
	struct runner me = { .worker = worker, .job_id = row->id };
	atomic_init(&me.cancel, false);
	add_runner(q, &me);
	const struct job_kind *kind = find_kind(q, row->kind);
	struct job_ctx ctx = { .q = q, .id = row->id, .worker = worker,
			       .last_check_ms = mono_ms(), .cancel_here = &me.cancel };
	char *result = NULL;
	struct error err = { .msg = "" };
	int64_t t0 = mono_ms();
	log_debug("job %s (%s) started by %s, attempt %lld", row->id, row->kind, worker,
		  (long long)row->attempts);
	enum job_outcome outcome;
	if (kind) {
		outcome = kind->run(&ctx, row, q->arg, &result, &err);
	} else {
		/* The claim filters by kind, so only a store that ignores the
		 * filter gets here. */
		outcome = JOB_FAILED;
		error_set(&err, "no handler for job kind %s", row->kind);
	}
	record_end(q, kind, &ctx, row, outcome, result, err.msg, mono_ms() - t0);
	free(result);
	remove_runner(q, &me);
	/* Jobs handle big data (a batch of 100,000 rows is hundreds of MB of
	 * JSON): give the freed memory back to the system, which glibc keeps
	 * per thread otherwise. */
	malloc_trim(0);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct jobs *q = w->q;
	bool store_down = false;
	pthread_mutex_lock(&q->lock);
	while (!stopping(q)) {
		uint64_t seen = q->notify_gen;
		pthread_mutex_unlock(&q->lock);
		struct job_row row = { 0 };
		struct error e;
		enum store_rc rc = store_job_claim(q->st, w->name, q->kind_names, q->nkinds,
						   NULL, clock_now_ms(), &row, &e);
		if (rc == STORE_OK) {
			store_down = false;
			run_claimed(q, w->name, &row);
			job_row_clear(&row);
			pthread_mutex_lock(&q->lock);
			continue;   /* there may be more */
		}
		if (rc == STORE_ERROR && !store_down)
			log_error("jobs: %s cannot claim jobs: %s", w->name, e.msg);
		store_down = rc == STORE_ERROR;
		pthread_mutex_lock(&q->lock);
		struct timespec until = deadline_in(CLAIM_POLL_MS);
		while (!stopping(q) && q->notify_gen == seen &&
		       pthread_cond_timedwait(&q->wake, &q->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* ---- heartbeat and recovery ------------------------------------------- */

static void free_rows(struct job_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		job_row_clear(&rows[i]);
	free(rows);
}

/* One recovery pass: stale jobs go back to the queue, or fail and get their
 * kinds' on_failed.  -1 with e set when the store cannot do it. */
static int recover(struct jobs *q, struct error *e)
{
	int64_t now = clock_now_ms();
	struct job_row *failed = NULL;
	size_t nfailed = 0, requeued = 0;
	if (store_job_recover(q->st, now - q->stale_ms, q->max_attempts, now, &failed,
			      &nfailed, &requeued, e) != STORE_OK)
		return -1;
	for (size_t i = 0; i < nfailed; i++) {
		const struct job_kind *kind = find_kind(q, failed[i].kind);
		log_fields(LOG_WARN, "job_ended", LOG_STR("job_id", failed[i].id),
			   LOG_STR("kind", failed[i].kind), LOG_STR("status", failed[i].status),
			   LOG_INT("attempt", failed[i].attempts),
			   LOG_STR("error", failed[i].error));
		if (kind && kind->on_failed)
			kind->on_failed(&failed[i], failed[i].error, q->arg);
	}
	free_rows(failed, nfailed);
	if (requeued) {
		log_warn("jobs: %zu interrupted job(s) queued again", requeued);
		jobs_notify(q);
	}
	return 0;
}

static void beat(struct jobs *q)
{
	char (*names)[JOB_WORKER_MAX + 1] = NULL;
	size_t n = 0, cap = 0;
	pthread_mutex_lock(&q->lock);
	for (struct runner *r = q->running; r; r = r->next) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			names = xrealloc(names, cap * sizeof *names);
		}
		snprintf(names[n++], JOB_WORKER_MAX + 1, "%s", r->worker);
	}
	pthread_mutex_unlock(&q->lock);
	for (size_t i = 0; i < n; i++) {
		struct error e;
		if (store_job_heartbeat(q->st, names[i], clock_now_ms(), &e) != STORE_OK)
			log_warn("jobs: heartbeat of %s not recorded: %s", names[i], e.msg);
	}
	free(names);
}

static void *keeper_main(void *arg)
{
	struct jobs *q = arg;
	/* Often enough that a dead runner's job waits at most about 1.5
	 * stale periods, rarely enough not to load the store. */
	int64_t recover_every = q->stale_ms / 2;
	int64_t next_recover = mono_ms() + recover_every;
	bool recover_failing = false;
	pthread_mutex_lock(&q->lock);
	while (!stopping(q)) {
		struct timespec until = deadline_in(q->heartbeat_ms);
		while (!stopping(q) &&
		       pthread_cond_timedwait(&q->wake, &q->lock, &until) != ETIMEDOUT)
			;
		if (stopping(q))
			break;
		pthread_mutex_unlock(&q->lock);
		beat(q);
		if (mono_ms() >= next_recover) {
			struct error e;
			int rc = recover(q, &e);
			if (rc && !recover_failing)
				log_error("jobs: recovery of stale jobs failed: %s", e.msg);
			recover_failing = rc != 0;
			next_recover = mono_ms() + recover_every;
		}
		pthread_mutex_lock(&q->lock);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* ---- the queue -------------------------------------------------------- */

static void node_name(const struct jobs_options *opt, char out[NODE_MAX + 1])
{
	char tmp[NODE_MAX + 1];
	const char *node = opt ? opt->node : NULL;
	if (!node || !*node) {
		char host[256];
		if (gethostname(host, sizeof host) != 0 || !*host)
			snprintf(host, sizeof host, "localhost");
		host[sizeof host - 1] = '\0';
		snprintf(tmp, sizeof tmp, "%.*s:%ld", (int)utf8_prefix(host, NODE_MAX - 21), host,
			 (long)getpid());
		node = tmp;
	}
	size_t n = utf8_prefix(node, NODE_MAX);
	memcpy(out, node, n);
	out[n] = '\0';
}

static void free_queue(struct jobs *q)
{
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->wake);
	pthread_cond_destroy(&q->changed);
	free(q->workers);
	free(q->kind_names);
	free(q);
}

/* Stops and joins whatever threads were started. */
void jobs_begin_stop(struct jobs *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	atomic_store(&q->stopping, true);
	pthread_cond_broadcast(&q->wake);
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

static void halt(struct jobs *q)
{
	jobs_begin_stop(q);
	for (int i = 0; i < q->nworkers; i++)
		pthread_join(q->workers[i].thread, NULL);
	if (q->keeper_started)
		pthread_join(q->keeper, NULL);
	pthread_mutex_lock(&q->lock);
	while (q->callers > 0)
		pthread_cond_wait(&q->changed, &q->lock);
	pthread_mutex_unlock(&q->lock);
}

struct jobs *jobs_start(struct store *st, const struct job_kind *kinds, size_t nkinds,
			const struct jobs_options *opt, void *arg, struct error *e)
{
	struct jobs *q = xcalloc(1, sizeof *q);
	q->st = st;
	q->kinds = kinds;
	q->nkinds = nkinds;
	q->kind_names = xcalloc(nkinds ? nkinds : 1, sizeof *q->kind_names);
	for (size_t i = 0; i < nkinds; i++)
		q->kind_names[i] = kinds[i].name;
	q->arg = arg;
	q->heartbeat_ms = opt && opt->heartbeat_ms > 0 ? opt->heartbeat_ms : 5000;
	q->stale_ms = opt && opt->stale_ms > 0 ? opt->stale_ms : 6 * q->heartbeat_ms;
	if (q->stale_ms < 2 * q->heartbeat_ms) {
		/* Else our own running jobs would look dead between beats. */
		log_warn("jobs: stale time %lld ms raised to two heartbeats, %lld ms",
			 (long long)q->stale_ms, (long long)(2 * q->heartbeat_ms));
		q->stale_ms = 2 * q->heartbeat_ms;
	}
	q->max_attempts = opt && opt->max_attempts > 0 ? opt->max_attempts : 3;
	node_name(opt, q->node);
	atomic_init(&q->stopping, false);
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->wake, &attr);
	pthread_cond_init(&q->changed, &attr);
	pthread_condattr_destroy(&attr);

	if (recover(q, e)) {
		free_queue(q);
		return NULL;
	}
	int nworkers = opt && opt->workers > 1 ? opt->workers : 1;
	q->workers = xcalloc((size_t)nworkers, sizeof *q->workers);
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &q->workers[i];
		w->q = q;
		runner_name(q, w->name);
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			error_set(e, "jobs: cannot start worker thread %d of %d", i + 1, nworkers);
			goto fail;
		}
		q->nworkers++;
	}
	if (pthread_create(&q->keeper, NULL, keeper_main, q) != 0) {
		error_set(e, "jobs: cannot start the heartbeat thread");
		goto fail;
	}
	q->keeper_started = true;
	log_info("jobs: %d worker(s) as %s, heartbeat %lld ms, stale after %lld ms", nworkers,
		 q->node, (long long)q->heartbeat_ms, (long long)q->stale_ms);
	return q;
fail:
	halt(q);
	free_queue(q);
	return NULL;
}

void jobs_stop(struct jobs *q)
{
	if (!q)
		return;
	halt(q);
	free_queue(q);
}

void jobs_notify(struct jobs *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->notify_gen++;
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->lock);
}

/* jobs_run_now and jobs_wait count themselves in, so jobs_stop waits for them. */
static void enter(struct jobs *q)
{
	pthread_mutex_lock(&q->lock);
	q->callers++;
	pthread_mutex_unlock(&q->lock);
}

static void leave(struct jobs *q)
{
	pthread_mutex_lock(&q->lock);
	q->callers--;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
}

/* jobs_wait's loop; timeout_ms counts from now. */
static int wait_for(struct jobs *q, const char *id, int64_t timeout_ms, struct job_row *row,
		    struct error *e)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		pthread_mutex_lock(&q->lock);
		uint64_t seen = q->done_gen;
		pthread_mutex_unlock(&q->lock);
		memset(row, 0, sizeof *row);
		enum store_rc rc = store_job_get(q->st, id, row, e);
		if (rc != STORE_OK) {
			job_row_clear(row);
			memset(row, 0, sizeof *row);
			if (rc == STORE_NOT_FOUND)
				error_set(e, "no job %s", id);
			return -1;
		}
		if (ended(row->status))
			return 0;
		int64_t left = deadline - mono_ms();
		if (left <= 0 || stopping(q))
			return 1;
		pthread_mutex_lock(&q->lock);
		struct timespec until = deadline_in(left < WAIT_POLL_MS ? left : WAIT_POLL_MS);
		while (!stopping(q) && q->done_gen == seen &&
		       pthread_cond_timedwait(&q->changed, &q->lock, &until) != ETIMEDOUT)
			;
		pthread_mutex_unlock(&q->lock);
		job_row_clear(row);
	}
}

int jobs_run_now(struct jobs *q, const char *id, int64_t timeout_ms, struct job_row *row,
		 struct error *e)
{
	int64_t deadline = mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	enter(q);
	if (!stopping(q)) {
		char worker[JOB_WORKER_MAX + 1];
		runner_name(q, worker);
		struct job_row claimed = { 0 };
		enum store_rc rc = store_job_claim(q->st, worker, q->kind_names, q->nkinds, id,
						   clock_now_ms(), &claimed, e);
		if (rc == STORE_ERROR) {
			memset(row, 0, sizeof *row);
			leave(q);
			return -1;
		}
		if (rc == STORE_OK) {
			run_claimed(q, worker, &claimed);
			job_row_clear(&claimed);
		}
	}
	/* Ended already when we ran it (0 whatever the time); otherwise
	 * someone else has it, or a stop put it back. */
	int64_t left = deadline - mono_ms();
	int rc = wait_for(q, id, left > 0 ? left : 0, row, e);
	leave(q);
	return rc;
}

int jobs_wait(struct jobs *q, const char *id, int64_t timeout_ms, struct job_row *row,
	      struct error *e)
{
	enter(q);
	int rc = wait_for(q, id, timeout_ms, row, e);
	leave(q);
	return rc;
}

enum store_rc jobs_cancel(struct jobs *q, const char *owner, const char *id, struct error *e)
{
	struct job_row before = { 0 }, after = { 0 };
	enum store_rc rc = store_job_get(q->st, id, &before, e);
	if (rc == STORE_OK)
		rc = store_job_cancel(q->st, owner, id, clock_now_ms(), e);
	if (rc == STORE_OK && strcmp(before.status, "running") == 0) {
		/* Running here?  Its handler sees the flag at its next check. */
		pthread_mutex_lock(&q->lock);
		for (struct runner *r = q->running; r; r = r->next)
			if (strcmp(r->job_id, id) == 0)
				atomic_store(&r->cancel, true);
		pthread_mutex_unlock(&q->lock);
	}
	if (rc != STORE_OK || strcmp(before.status, "queued") != 0)
		goto out;
	/* It was queued.  If no claim happened in between (a claim counts an
	 * attempt), it was this cancel that ended it, so no runner will call
	 * the hook. */
	struct error e2;
	if (store_job_get(q->st, id, &after, &e2) != STORE_OK) {
		log_error("job %s: cancelled, but its row cannot be read for cleanup: %s", id,
			  e2.msg);
		goto out;
	}
	if (strcmp(after.status, "cancelled") == 0 && after.attempts == before.attempts) {
		log_fields(LOG_INFO, "job_ended", LOG_STR("job_id", id), LOG_STR("kind", after.kind),
			   LOG_STR("status", "cancelled"), LOG_INT("attempt", after.attempts),
			   LOG_STR("error", ""));
		const struct job_kind *kind = find_kind(q, after.kind);
		if (kind && kind->on_failed)
			kind->on_failed(&after, "cancelled", q->arg);
	}
out:
	job_row_clear(&before);
	job_row_clear(&after);
	return rc;
}
