/*
 * Background jobs: slow work (ingesting a large upload; later training a
 * model, batch prediction) that must not hold an HTTP request and must
 * survive a restart.
 *
 * Jobs are rows in the store (struct job_row), so any node can see them and
 * a restart finds them again.  A queue owns a bounded pool of worker
 * threads; each worker claims the oldest queued job of a kind it knows
 * (store_job_claim is atomic, so two nodes never run one job), runs the
 * kind's handler, and records the outcome.  While jobs run, one heartbeat
 * thread refreshes their heartbeat_at; at start (and then periodically) jobs
 * whose worker stopped beating -- the process died -- are put back in the
 * queue, or failed after max_attempts, and the kind's on_failed hook cleans
 * up after them.
 *
 * Handlers report progress with job_progress(); that is also where they
 * learn a cancellation was asked (the call returns true): they then stop
 * and return JOB_CANCELLED.  Progress writes are throttled (at most one
 * store write per JOBS_PROGRESS_INTERVAL_MS per job, except 0 and 1000).
 *
 * Thread-safe: every function may be called from any thread.
 */
#ifndef SHEAF_JOBS_JOBS_H
#define SHEAF_JOBS_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "store/store.h"

#define JOBS_PROGRESS_INTERVAL_MS 250

enum job_outcome {
	JOB_DONE,
	JOB_FAILED,      /* e holds the message the job row keeps */
	JOB_CANCELLED,
};

struct job_ctx;   /* what a running handler gets; valid during the call */

struct job_kind {
	const char *name;   /* job_row.kind */
	/* Runs the job whose row is job (payload is its JSON input).  May set
	 * *result to a malloc'd JSON text kept in the row (freed by the queue).
	 * Runs on a worker thread; arg is the queue's arg. */
	enum job_outcome (*run)(struct job_ctx *ctx, const struct job_row *job, void *arg,
				char **result, struct error *e);
	/* Called once when a job of this kind ends failed or cancelled for a
	 * reason its run did not see -- recovery gave up after max_attempts, or
	 * it was cancelled while queued -- so the kind can mark what the job
	 * worked on (a dataset becomes "failed").  May be NULL.  Also called
	 * after run returned JOB_FAILED or JOB_CANCELLED, so cleanup lives in
	 * one place. */
	void (*on_failed)(const struct job_row *job, const char *error, void *arg);
};

struct jobs_options {
	int workers;               /* threads; < 1 means 1 */
	int64_t heartbeat_ms;      /* how often running jobs beat; <= 0 means 5000 */
	int64_t stale_ms;          /* a job silent this long is presumed dead; <= 0: 6 beats */
	int64_t max_attempts;      /* starts before an interrupted job fails; <= 0 means 3 */
	const char *node;          /* this process's name; NULL: host:pid.  Each worker
				    * thread (and each jobs_run_now call) writes
				    * "node:N" in job_row.worker, N unique in the
				    * process, so a job taken over by someone else
				    * is never finished by its first runner */
};

struct jobs;

/*
 * Starts the queue over store st with the given kinds (the array and the
 * strings must outlive the queue).  Recovers stale jobs first, then starts
 * the workers, which pick up any queued jobs.  arg is passed to every
 * handler.  NULL with e set on failure.
 */
struct jobs *jobs_start(struct store *st, const struct job_kind *kinds, size_t nkinds,
			const struct jobs_options *opt, void *arg, struct error *e);

/*
 * Stops taking jobs, asks running handlers to stop (job_progress returns
 * true from now on; such jobs are put back to "queued" so the next start
 * runs them again, not failed: a handler that returns JOB_CANCELLED or
 * JOB_FAILED after the stop was asked counts as stopped, unless its
 * cancellation was asked too), waits for the workers and for the
 * jobs_run_now / jobs_wait calls in progress (which return 1 early), frees
 * the queue.  Call it before store_interrupt, or the jobs cannot be put
 * back (they are then recovered as stale later).  NULL is fine.
 */
void jobs_stop(struct jobs *q);

/* The first half of jobs_stop, which returns at once: running handlers are
 * asked to stop (and their jobs go back to the queue), jobs_run_now and
 * jobs_wait return early, no new job starts.  For shutdown, while the HTTP
 * server still answers the requests waiting on those jobs. */
void jobs_begin_stop(struct jobs *q);

/* Wakes the workers after a job was created in the store (by
 * store_job_create or store_dataset_create with a job). */
void jobs_notify(struct jobs *q);

/*
 * Runs the queued job id on the calling thread now, if no worker took it
 * yet (then 0, and *row is its final state), or waits up to timeout_ms for
 * whoever runs it to finish (0 when it finished in time, with *row; 1 when
 * the time ran out, *row as it is then).  -1 with e set on a store error.
 * Small uploads use this to finish within their request.  *row strings are
 * malloc'd: job_row_clear.
 */
int jobs_run_now(struct jobs *q, const char *id, int64_t timeout_ms, struct job_row *row,
		 struct error *e);

/* Waits up to timeout_ms for job id to end: 0 with *row when it did, 1 when
 * the time ran out, -1 with e set (also when there is no such job). */
int jobs_wait(struct jobs *q, const char *id, int64_t timeout_ms, struct job_row *row,
	      struct error *e);

/*
 * Asks job id to stop (owner NULL: any owner's): a queued job ends
 * "cancelled" at once and its kind's on_failed runs here, on the caller's
 * thread; a running one gets cancel_requested and its handler learns it
 * from job_progress.  STORE_NOT_FOUND when it is not owner's,
 * STORE_CONFLICT when it already ended, STORE_ERROR with e set.  Use this
 * rather than store_job_cancel, which cannot run the hook.
 */
enum store_rc jobs_cancel(struct jobs *q, const char *owner, const char *id, struct error *e);

/*
 * For handlers: records progress (per mille, clamped to 0..1000) and an
 * optional message (NULL keeps the last).  Returns true when the job should
 * stop now: cancellation was asked or the queue is stopping.
 */
bool job_progress(struct job_ctx *ctx, int64_t per_mille, const char *message);

/* Whether the job should stop, without writing progress. */
bool job_should_stop(struct job_ctx *ctx);

#endif
