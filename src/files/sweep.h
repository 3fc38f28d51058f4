/*
 * The orphan sweep: objects under uploads/ that no file row lists are left
 * by crashes between an object's commit and its row's insert, or by a
 * removal that failed after its row was deleted.  The sweep removes those
 * older than a grace period (younger ones may be uploads about to be
 * listed, on this node or another), at start-up and then periodically, on
 * a thread of its own.
 */
#ifndef SHEAF_FILES_SWEEP_H
#define SHEAF_FILES_SWEEP_H

#include <stdint.h>

#include "base/error.h"
#include "blob/blob.h"
#include "store/store.h"

#define SWEEP_PREFIX "uploads/"

/* One pass: removes orphans last modified before now_ms - grace_ms; *removed
 * counts them.  Returns 0, or -1 with e set (what was removed stays removed). */
int files_sweep(struct store *st, struct blob_store *bs, int64_t grace_ms, int64_t now_ms,
		long *removed, struct error *e);

struct sweeper;

/* Runs files_sweep at once and then every interval_s seconds until stopped. */
struct sweeper *sweeper_start(struct store *st, struct blob_store *bs, long long interval_s,
			      long long grace_s);
void sweeper_stop(struct sweeper *sw);   /* waits for a pass in progress; NULL is fine */

#endif
