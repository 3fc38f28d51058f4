/*
 * Loaded models, kept warm: a model is read from object storage and parsed
 * once, then shared by every request that predicts with it, from any
 * thread (model_predict is thread-safe).
 *
 * Entries are keyed by the model's object key (immutable: a key never
 * names other bytes, so an entry never goes stale).  At most max models
 * stay loaded; past that the least recently used one that nobody holds is
 * freed.  A held model is never freed under its user (reference counts);
 * a forgotten one (its model was deleted) goes when its last user lets go.
 */
#ifndef SHEAF_REGISTRY_CACHE_H
#define SHEAF_REGISTRY_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "blob/blob.h"
#include "models/model.h"

#define MODEL_MAX_BYTES (1LL << 30)   /* a stored model larger than this is refused */

struct model_cache;

struct model_cache *model_cache_new(size_t max);   /* max < 1 means 1 */
void model_cache_free(struct model_cache *c);      /* NULL is fine; nothing may be held */

/*
 * The model stored under key, loaded from bs when it is not warm; held
 * until model_cache_put.  Two threads asking for a cold model at once load
 * it once.  NULL with e set when it cannot be read or parsed.
 */
struct model *model_cache_get(struct model_cache *c, struct blob_store *bs, const char *key,
			      struct error *e);

/* Adds a model loaded elsewhere (a built-in one) under key, held once by
 * the cache itself so it is never evicted; the cache frees it. */
void model_cache_pin(struct model_cache *c, const char *key, struct model *m);

/* Lets go of a model from model_cache_get. */
void model_cache_put(struct model_cache *c, struct model *m);

/* Drops key's model once nobody holds it (after a delete). */
void model_cache_forget(struct model_cache *c, const char *key);

/* Models loaded since the start, and loaded now (for tests and logs). */
uint64_t model_cache_loads(struct model_cache *c);
size_t model_cache_count(struct model_cache *c);

#endif
