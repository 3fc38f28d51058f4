/* The orphan sweep and its timer thread; see sweep.h. */
#include "files/sweep.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"

struct sweep_guard {
	pthread_mutex_t lock;
	char **keys;
	size_t n, cap;
};

struct sweep_guard *sweep_guard_new(void)
{
	struct sweep_guard *g = xcalloc(1, sizeof *g);
	pthread_mutex_init(&g->lock, NULL);
	return g;
}

void sweep_guard_free(struct sweep_guard *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->keys[i]);
	free(g->keys);
	pthread_mutex_destroy(&g->lock);
	free(g);
}

void sweep_guard_add(struct sweep_guard *g, const char *key)
{
	pthread_mutex_lock(&g->lock);
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->keys = xrealloc(g->keys, g->cap * sizeof *g->keys);
	}
	g->keys[g->n++] = xstrdup(key);
	pthread_mutex_unlock(&g->lock);
}

void sweep_guard_remove(struct sweep_guard *g, const char *key)
{
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n; i++) {
		if (strcmp(g->keys[i], key) == 0) {
			free(g->keys[i]);
			g->keys[i] = g->keys[--g->n];
			break;
		}
	}
	pthread_mutex_unlock(&g->lock);
}

bool sweep_guard_has(struct sweep_guard *g, const char *key)
{
	bool found = false;
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < g->n && !found; i++)
		found = strcmp(g->keys[i], key) == 0;
	pthread_mutex_unlock(&g->lock);
	return found;
}

struct pass {
	struct sweep_guard *guard;
	struct store *st;
	struct blob_store *bs;
	int64_t cutoff_ms;
	long removed;
	int failed;
	struct error *e;
	enum store_rc (*exists)(struct store *st, const char *key, bool *listed, struct error *e);
};

static enum store_rc file_listed(struct store *st, const char *key, bool *listed,
				 struct error *e)
{
	return store_file_key_exists(st, key, listed, e);
}

static enum store_rc dataset_listed(struct store *st, const char *key, bool *listed,
				    struct error *e)
{
	return store_dataset_key_exists(st, key, listed, e);
}

static enum store_rc model_listed(struct store *st, const char *key, bool *listed,
				  struct error *e)
{
	return store_model_key_exists(st, key, listed, e);
}

/* Each prefix swept, with the question that tells whether a key is listed. */
static const struct {
	const char *prefix;
	enum store_rc (*exists)(struct store *st, const char *key, bool *listed, struct error *e);
} swept[] = {
	{ SWEEP_PREFIX, file_listed },
	{ SWEEP_DATASET_PREFIX, dataset_listed },
	{ SWEEP_MODEL_PREFIX, model_listed },
};

static int consider(void *ctx, const char *key, const struct blob_info *info)
{
	struct pass *p = ctx;
	if (info->mtime_ms >= p->cutoff_ms || (p->guard && sweep_guard_has(p->guard, key)))
		return 0;
	bool listed;
	if (p->exists(p->st, key, &listed, p->e) != STORE_OK) {
		p->failed = 1;
		return 1;   /* a store we cannot ask is no reason to delete anything */
	}
	/* Asked once more after the row check: an upload could have started
	 * writing this key and listed it in between (not with random ids, but
	 * the guard is cheap). */
	if (listed || (p->guard && sweep_guard_has(p->guard, key)))
		return 0;
	struct error e;
	if (blob_remove(p->bs, key, &e) == BLOB_ERROR) {
		log_warn("sweep: could not remove orphan %s: %s", key, e.msg);
		return 0;
	}
	log_info("sweep: removed orphan %s (%llu bytes)", key, (unsigned long long)info->size);
	p->removed++;
	return 0;
}

int files_sweep(struct store *st, struct blob_store *bs, struct sweep_guard *guard,
		int64_t grace_ms, int64_t now_ms, long *removed, struct error *e)
{
	struct pass p = { .guard = guard, .st = st, .bs = bs, .cutoff_ms = now_ms - grace_ms,
			  .e = e };
	enum blob_rc rc = BLOB_OK;
	for (size_t i = 0; i < sizeof swept / sizeof swept[0] && rc == BLOB_OK && !p.failed; i++) {
		p.exists = swept[i].exists;
		rc = blob_list(bs, swept[i].prefix, consider, &p, e);
	}
	*removed = p.removed;
	return rc == BLOB_OK && !p.failed ? 0 : -1;
}

struct sweeper {
	struct sweep_guard *guard;
	struct store *st;
	struct blob_store *bs;
	long long interval_s, grace_s;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
};

static void *sweep_loop(void *arg)
{
	struct sweeper *sw = arg;
	pthread_mutex_lock(&sw->lock);
	while (!sw->stopping) {
		pthread_mutex_unlock(&sw->lock);
		long removed;
		struct error e;
		if (files_sweep(sw->st, sw->bs, sw->guard, sw->grace_s * 1000, clock_now_ms(),
				&removed, &e))
			log_warn("sweep: %s", e.msg);
		else if (removed)
			log_notice("sweep: removed %ld orphaned object(s)", removed);
		pthread_mutex_lock(&sw->lock);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += sw->interval_s;
		while (!sw->stopping &&
		       pthread_cond_timedwait(&sw->wake, &sw->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&sw->lock);
	return NULL;
}

struct sweeper *sweeper_start(struct store *st, struct blob_store *bs,
			      struct sweep_guard *guard, long long interval_s, long long grace_s)
{
	struct sweeper *sw = xcalloc(1, sizeof *sw);
	sw->guard = guard;
	sw->st = st;
	sw->bs = bs;
	sw->interval_s = interval_s;
	sw->grace_s = grace_s;
	pthread_mutex_init(&sw->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&sw->wake, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&sw->thread, NULL, sweep_loop, sw) != 0) {
		log_error("sweep: cannot start its thread; orphans will not be swept");
		pthread_mutex_destroy(&sw->lock);
		pthread_cond_destroy(&sw->wake);
		free(sw);
		return NULL;
	}
	return sw;
}

void sweeper_stop(struct sweeper *sw)
{
	if (!sw)
		return;
	pthread_mutex_lock(&sw->lock);
	sw->stopping = true;
	pthread_cond_signal(&sw->wake);
	pthread_mutex_unlock(&sw->lock);
	pthread_join(sw->thread, NULL);
	pthread_mutex_destroy(&sw->lock);
	pthread_cond_destroy(&sw->wake);
	free(sw);
}
