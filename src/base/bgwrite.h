/*
 * Background writes: a producer fills the buffers of a small ring and hands
 * each over with the file offset it belongs at; a thread of this module
 * writes them there with pwrite, so the producer goes on filling the next
 * buffer while the disk takes the last.
 *
 * Made for the dataset writer (ingest/sqlwriter.h), whose pages go to the
 * disk with direct I/O: such a write returns only once the disk has the
 * bytes, a millisecond or more per buffer, and done inline it stalled the
 * whole import pipeline behind it (a third of the TAAS import's wall time).
 *
 * Direct I/O (O_DIRECT on fd, `direct` true): buffers are aligned to 4096
 * bytes; the caller keeps lengths and offsets whole blocks.  When the file
 * system refuses a direct write after all (EINVAL), O_DIRECT is turned off
 * and the write retried through the page cache; every later write then
 * also starts the page cache's writeback of its range at once
 * (sync_file_range), so the caller's closing fsync has little left to do.
 *
 * Errors: the first failed write is kept; from then on nothing more is
 * written, and bgwrite_buffer, bgwrite_submit and bgwrite_drain fail with
 * its message.  Thread-safety: one producer thread calls the functions.
 */
#ifndef SHEAF_BASE_BGWRITE_H
#define SHEAF_BASE_BGWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define BGWRITE_ALIGN 4096
#define BGWRITE_MAX_BUFFERS 8

struct bgwrite;

/* A ring of nbuf (2..BGWRITE_MAX_BUFFERS) buffers of cap bytes for fd
 * (which stays the caller's to close; `name` is for messages).  The thread
 * starts with the first write handed over.  Never NULL. */
struct bgwrite *bgwrite_new(int fd, const char *name, size_t nbuf, size_t cap, bool direct);

/* The buffer to fill next (cap bytes, BGWRITE_ALIGN-aligned), once the
 * thread is done with it.  The same buffer until bgwrite_submit.  NULL with
 * e set when a write has failed. */
uint8_t *bgwrite_buffer(struct bgwrite *b, struct error *e);

/* Hands over the first len bytes of that buffer, to be written at off.
 * Returns 0, or -1 with e set when a write has failed. */
int bgwrite_submit(struct bgwrite *b, size_t len, uint64_t off, struct error *e);

/* Waits until every buffer handed over is written.  0, or -1 with e set. */
int bgwrite_drain(struct bgwrite *b, struct error *e);

/* Writes n bytes from p at off now, on the caller's thread (after
 * bgwrite_drain: the last write of a file, say its header).  0, or -1. */
int bgwrite_now(struct bgwrite *b, const void *p, size_t n, uint64_t off, struct error *e);

/* Stops the thread (buffers not yet written are dropped: drain first to
 * keep them) and frees b; fd stays open.  NULL is fine. */
void bgwrite_free(struct bgwrite *b);

#endif
