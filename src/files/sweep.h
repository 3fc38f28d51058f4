/*
 * The orphan sweep: objects under uploads/ (and datasets/, models/) that no row lists are left
 * by crashes between an object's commit and its row's insert, or by a
 * removal that failed after its row was deleted.  The sweep removes those
 * older than a grace period (younger ones may be uploads about to be
 * listed, on this node or another), at start-up and then periodically, on
 * a thread of its own.
 */
#ifndef SHEAF_FILES_SWEEP_H
#define SHEAF_FILES_SWEEP_H

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "blob/blob.h"
#include "store/store.h"

#define SWEEP_PREFIX "uploads/"
#define SWEEP_DATASET_PREFIX "datasets/"   /* datasets' originals and files */
#define SWEEP_MODEL_PREFIX "models/"       /* trained models */

/*
 * The keys this process is writing right now (uploads whose rows are not in
 * yet): the sweep never removes them, however long an upload takes.  Other
 * nodes' uploads are protected by the grace period alone.
 */
struct sweep_guard;
struct sweep_guard *sweep_guard_new(void);
void sweep_guard_free(struct sweep_guard *g);   /* NULL is fine */
void sweep_guard_add(struct sweep_guard *g, const char *key);
void sweep_guard_remove(struct sweep_guard *g, const char *key);
bool sweep_guard_has(struct sweep_guard *g, const char *key);

/* One pass: removes orphans last modified before now_ms - grace_ms; *removed
 * counts them.  Returns 0, or -1 with e set (what was removed stays removed). */
int files_sweep(struct store *st, struct blob_store *bs, struct sweep_guard *guard,
		int64_t grace_ms, int64_t now_ms, long *removed, struct error *e);

struct sweeper;

/* Runs files_sweep at once and then every interval_s seconds until stopped. */
struct sweeper *sweeper_start(struct store *st, struct blob_store *bs,
			      struct sweep_guard *guard, long long interval_s, long long grace_s);
void sweeper_stop(struct sweeper *sw);   /* waits for a pass in progress; NULL is fine */

#endif
