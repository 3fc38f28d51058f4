/*
 * The row pipeline (pipeline.h): a ring of batches, a sequence number per
 * batch, and one thread per consumer that walks the ring in order.
 *
 * A batch is free, being filled, or published with a count of consumers
 * that still have to see it; the last one to finish frees it.  One mutex
 * and three condition variables (a batch is ready for the first stage; for
 * the second; a batch was freed) are plenty: there are a few thousand
 * hand-offs per second, not millions, and each wakes only the threads that
 * can go on.
 */
#include "ingest/pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define ARENA_START (256 * 1024)

struct slot {
	struct batch b;
	uint64_t seq;             /* which batch this is, from 0 */
	int pending[2];           /* consumers of each stage yet to see it; free when both 0 */
};

struct consumer {
	struct pipeline *p;
	pipeline_fn fn;
	void *ctx;
	int stage;
	pthread_t thread;
	bool started;
};

struct pipeline {
	size_t ncols;
	size_t batch_rows;            /* rows per batch, for this width */
	struct slot slots[PIPELINE_BATCHES];
	pthread_mutex_t lock;
	pthread_cond_t published[2];  /* a batch is ready for that stage, or the end */
	pthread_cond_t freed;         /* a batch became free, or a consumer failed */
	uint64_t next_seq;            /* sequence of the batch being filled */
	struct slot *filling;
	bool finished;                /* no more batches will come */
	bool stopping;                /* consumers quit now */
	atomic_bool failed;           /* set after err, so a reader that sees it sees err */
	struct error err;             /* the first consumer error */
	struct consumer consumers[PIPELINE_CONSUMERS_MAX];
	size_t nconsumers;
	int per_stage[2];             /* consumers in each stage */
};

static void batch_reset(struct batch *b)
{
	b->rows = 0;
	b->used = 0;
	for (size_t i = 0; i < PIPELINE_CONSUMERS_MAX; i++)
		b->side[i].used = 0;
}

static bool slot_free(const struct slot *s)
{
	return s->pending[0] == 0 && s->pending[1] == 0;
}

/* Whether s is batch want and ready for a consumer of stage. */
static bool ready_for(const struct slot *s, uint64_t want, int stage)
{
	if (s->seq != want || s->pending[stage] == 0)
		return false;
	return stage == 0 || s->pending[0] == 0;
}

void batch_side_text(struct batch *b, unsigned k, struct cell *c, const char *s, size_t len)
{
	struct side_arena *a = &b->side[k];
	if (a->used + len > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		while (cap < a->used + len)
			cap *= 2;
		a->data = xrealloc(a->data, cap);
		a->cap = cap;
	}
	memcpy(a->data + a->used, s, len);
	c->type = CELL_TEXT;
	c->arena = k + 1;
	c->v.t.off = a->used;
	c->v.t.len = len;
	a->used += len;
}

static void *consume(void *arg)
{
	struct consumer *c = arg;
	struct pipeline *p = c->p;
	uint64_t want = 0;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct slot *s = &p->slots[want % PIPELINE_BATCHES];
		while (!p->stopping && !ready_for(s, want, c->stage) &&
		       !(p->finished && want >= p->next_seq))
			pthread_cond_wait(&p->published[c->stage], &p->lock);
		if (p->stopping || (p->finished && want >= p->next_seq))
			break;
		pthread_mutex_unlock(&p->lock);
		struct error e;
		int rc = p->failed ? 0 : c->fn(c->ctx, &s->b, &e);
		pthread_mutex_lock(&p->lock);
		if (rc < 0 && !p->failed) {
			p->err = e;
			atomic_store(&p->failed, true);
			pthread_cond_broadcast(&p->freed);
		}
		if (--s->pending[c->stage] == 0) {
			if (slot_free(s)) {
				batch_reset(&s->b);
				pthread_cond_broadcast(&p->freed);
			} else {
				/* The first stage is done: the second may start. */
				pthread_cond_broadcast(&p->published[1]);
			}
		}
		want++;
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pipeline *pipeline_start(size_t ncols, const pipeline_fn *fns, void *const *ctxs,
				const int *stages, size_t n, struct error *e)
{
	struct pipeline *p = xcalloc(1, sizeof *p);
	p->ncols = ncols ? ncols : 1;
	p->batch_rows = PIPELINE_BATCH_CELLS / p->ncols;
	if (p->batch_rows > PIPELINE_BATCH_ROWS)
		p->batch_rows = PIPELINE_BATCH_ROWS;
	if (p->batch_rows < 1)
		p->batch_rows = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->published[0], NULL);
	pthread_cond_init(&p->published[1], NULL);
	pthread_cond_init(&p->freed, NULL);
	for (size_t i = 0; i < PIPELINE_BATCHES; i++) {
		struct batch *b = &p->slots[i].b;
		b->ncols = p->ncols;
		b->cells = xmalloc(p->batch_rows * p->ncols * sizeof *b->cells);
		b->cap = ARENA_START;
		b->arena = xmalloc(b->cap);
	}
	p->filling = &p->slots[0];
	if (n < 1 || n > PIPELINE_CONSUMERS_MAX) {
		error_set(e, "pipeline: %zu consumers", n);
		pipeline_free(p);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		struct consumer *c = &p->consumers[i];
		c->p = p;
		c->fn = fns[i];
		c->ctx = ctxs[i];
		c->stage = stages && stages[i] ? 1 : 0;
		p->per_stage[c->stage]++;
		if (pthread_create(&c->thread, NULL, consume, c) != 0) {
			error_set(e, "pipeline: cannot start a thread");
			pipeline_free(p);
			return NULL;
		}
		c->started = true;
		p->nconsumers++;
	}
	return p;
}

struct cell *pipeline_row(struct pipeline *p)
{
	struct batch *b = &p->filling->b;
	return b->cells + b->rows * b->ncols;
}

size_t pipeline_copy(struct pipeline *p, const char *s, size_t len)
{
	struct batch *b = &p->filling->b;
	if (b->used + len > b->cap) {
		size_t cap = b->cap;
		while (cap < b->used + len)
			cap *= 2;
		b->arena = xrealloc(b->arena, cap);
		b->cap = cap;
	}
	size_t off = b->used;
	memcpy(b->arena + off, s, len);
	b->used += len;
	return off;
}

void pipeline_text(struct pipeline *p, struct cell *c, const char *s, size_t len)
{
	cell_set_text(c, pipeline_copy(p, s, len), len);
}

/* Hands the batch being filled to the consumers and waits for the next free
 * one.  Called with the lock held. */
static void publish(struct pipeline *p)
{
	struct slot *s = p->filling;
	s->seq = p->next_seq++;
	s->pending[0] = p->per_stage[0];
	s->pending[1] = p->per_stage[1];
	/* Only the stage that can start is woken. */
	pthread_cond_broadcast(&p->published[p->per_stage[0] ? 0 : 1]);
	struct slot *next = &p->slots[p->next_seq % PIPELINE_BATCHES];
	while (!slot_free(next) && !p->failed)
		pthread_cond_wait(&p->freed, &p->lock);
	p->filling = next;
}

int pipeline_commit(struct pipeline *p, struct error *e)
{
	struct batch *b = &p->filling->b;
	b->rows++;
	if (b->rows < p->batch_rows && b->used < ARENA_START * 16)
		return p->failed ? (*e = p->err, -1) : 0;
	pthread_mutex_lock(&p->lock);
	if (!p->failed)
		publish(p);
	int rc = p->failed ? -1 : 0;
	if (rc)
		*e = p->err;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int pipeline_finish(struct pipeline *p, struct error *e)
{
	pthread_mutex_lock(&p->lock);
	if (!p->failed && p->filling->b.rows)
		publish(p);
	p->finished = true;
	pthread_cond_broadcast(&p->published[0]);
	pthread_cond_broadcast(&p->published[1]);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nconsumers; i++) {
		pthread_join(p->consumers[i].thread, NULL);
		p->consumers[i].started = false;
	}
	if (p->failed) {
		*e = p->err;
		return -1;
	}
	return 0;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->published[0]);
	pthread_cond_broadcast(&p->published[1]);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nconsumers; i++)
		if (p->consumers[i].started)
			pthread_join(p->consumers[i].thread, NULL);
	for (size_t i = 0; i < PIPELINE_BATCHES; i++) {
		free(p->slots[i].b.cells);
		free(p->slots[i].b.arena);
		for (size_t k = 0; k < PIPELINE_CONSUMERS_MAX; k++)
			free(p->slots[i].b.side[k].data);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->published[0]);
	pthread_cond_destroy(&p->published[1]);
	pthread_cond_destroy(&p->freed);
	free(p);
}
