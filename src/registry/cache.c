/*
 * The warm model cache; see cache.h.  A handful of models at most, so a
 * plain array searched linearly.
 */
#include "registry/cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

struct entry {
	char *key;
	struct model *model;
	int refs;
	bool pinned;       /* built in: never evicted */
	bool forgotten;    /* deleted: freed when refs reach 0 */
	uint64_t used;     /* tick of the last get */
};

struct model_cache {
	pthread_mutex_t lock;
	pthread_mutex_t loading;   /* one load at a time: a cold model is read once */
	struct entry *e;
	size_t n, cap, max;
	uint64_t tick, loads;
};

struct model_cache *model_cache_new(size_t max)
{
	struct model_cache *c = xcalloc(1, sizeof *c);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->loading, NULL);
	c->max = max < 1 ? 1 : max;
	return c;
}

static void entry_free(struct entry *en)
{
	free(en->key);
	model_free(en->model);
}

void model_cache_free(struct model_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		entry_free(&c->e[i]);
	free(c->e);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->loading);
	free(c);
}

/* Under lock. */
static struct entry *find_key(struct model_cache *c, const char *key)
{
	for (size_t i = 0; i < c->n; i++)
		if (!c->e[i].forgotten && strcmp(c->e[i].key, key) == 0)
			return &c->e[i];
	return NULL;
}

static struct entry *find_model(struct model_cache *c, const struct model *m)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->e[i].model == m)
			return &c->e[i];
	return NULL;
}

static void remove_at(struct model_cache *c, size_t i)
{
	entry_free(&c->e[i]);
	c->e[i] = c->e[--c->n];
}

/* Under lock: frees unheld entries past max, least recently used first. */
static void evict(struct model_cache *c)
{
	for (;;) {
		size_t live = 0, victim = c->n;
		for (size_t i = 0; i < c->n; i++) {
			struct entry *en = &c->e[i];
			if (en->pinned)
				continue;
			live++;
			if (en->refs == 0 && (victim == c->n || en->used < c->e[victim].used))
				victim = i;
		}
		if (live <= c->max || victim == c->n)
			return;
		remove_at(c, victim);
	}
}

static struct entry *add(struct model_cache *c, const char *key, struct model *m)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 8;
		c->e = xrealloc(c->e, c->cap * sizeof *c->e);
	}
	struct entry *en = &c->e[c->n++];
	*en = (struct entry){ .key = xstrdup(key), .model = m, .used = ++c->tick };
	return en;
}

static int to_buf(void *ctx, const void *p, size_t n)
{
	return buf_append(ctx, p, n);
}

static struct model *load(struct blob_store *bs, const char *key, struct error *e)
{
	struct buf b;
	buf_init(&b, (size_t)MODEL_MAX_BYTES);
	struct model *m = NULL;
	if (blob_get(bs, key, 0, 0, to_buf, &b, e) == BLOB_OK)
		m = model_load(b.data ? b.data : "", b.len, e);
	buf_free(&b);
	return m;
}

struct model *model_cache_get(struct model_cache *c, struct blob_store *bs, const char *key,
			      struct error *e)
{
	pthread_mutex_lock(&c->lock);
	struct entry *en = find_key(c, key);
	if (en) {
		en->refs++;
		en->used = ++c->tick;
		pthread_mutex_unlock(&c->lock);
		return en->model;
	}
	pthread_mutex_unlock(&c->lock);

	pthread_mutex_lock(&c->loading);
	pthread_mutex_lock(&c->lock);
	en = find_key(c, key);    /* loaded while this thread waited? */
	if (en) {
		en->refs++;
		en->used = ++c->tick;
		pthread_mutex_unlock(&c->lock);
		pthread_mutex_unlock(&c->loading);
		return en->model;
	}
	pthread_mutex_unlock(&c->lock);
	struct model *m = load(bs, key, e);
	if (m) {
		pthread_mutex_lock(&c->lock);
		en = add(c, key, m);
		en->refs = 1;
		c->loads++;
		evict(c);
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_unlock(&c->loading);
	return m;
}

void model_cache_pin(struct model_cache *c, const char *key, struct model *m)
{
	pthread_mutex_lock(&c->lock);
	struct entry *en = add(c, key, m);
	en->pinned = true;
	en->refs = 1;
	pthread_mutex_unlock(&c->lock);
}

void model_cache_put(struct model_cache *c, struct model *m)
{
	if (!m)
		return;
	pthread_mutex_lock(&c->lock);
	struct entry *en = find_model(c, m);
	if (en && --en->refs == 0) {
		if (en->forgotten)
			remove_at(c, (size_t)(en - c->e));
		else
			evict(c);
	}
	pthread_mutex_unlock(&c->lock);
}

void model_cache_forget(struct model_cache *c, const char *key)
{
	pthread_mutex_lock(&c->lock);
	struct entry *en = find_key(c, key);
	if (en && !en->pinned) {
		if (en->refs == 0)
			remove_at(c, (size_t)(en - c->e));
		else
			en->forgotten = true;
	}
	pthread_mutex_unlock(&c->lock);
}

uint64_t model_cache_loads(struct model_cache *c)
{
	pthread_mutex_lock(&c->lock);
	uint64_t n = c->loads;
	pthread_mutex_unlock(&c->lock);
	return n;
}

size_t model_cache_count(struct model_cache *c)
{
	pthread_mutex_lock(&c->lock);
	size_t n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}
