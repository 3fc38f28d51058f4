/*
 * A row pipeline: one producer thread fills batches of converted rows, and
 * several consumer threads each see every batch, in order.
 *
 * The importer's second pass does three independent things per row: parse
 * and convert the fields, insert them into SQLite, and feed the column
 * profiles.  On one thread they add up; here the caller converts, one
 * consumer inserts and another profiles, each on its own core when there
 * is one.  A batch holds up to PIPELINE_BATCH_ROWS rows of typed cells
 * (fewer for wide tables: at most PIPELINE_BATCH_CELLS cells),
 * with text copied into the batch's own arena (the parser's buffers do not
 * outlive a row).  PIPELINE_BATCHES batches circulate, so memory is
 * bounded: a producer that runs ahead waits for a free batch.
 */
#ifndef SHEAF_INGEST_PIPELINE_H
#define SHEAF_INGEST_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define PIPELINE_BATCH_ROWS 1024
#define PIPELINE_BATCH_CELLS 65536   /* 1.5 MiB of cells per batch */
#define PIPELINE_BATCHES 4
#define PIPELINE_CONSUMERS_MAX 4

enum cell_type {
	CELL_NULL,
	CELL_INT,
	CELL_REAL,
	CELL_TEXT,
	CELL_PRESENT,   /* a non-null value whose bytes the consumer does not need */
};

struct cell {
	enum cell_type type;
	unsigned arena;           /* text: 0 the batch's arena, k its side arena k - 1 */
	union {
		int64_t i;
		double r;
		struct {
			size_t off;       /* into the batch's arena */
			size_t len;
		} t;
	} v;
};

struct side_arena {
	char *data;
	size_t used, cap;
};

struct batch {
	size_t ncols;
	size_t rows;              /* complete rows */
	struct cell *cells;       /* rows * ncols, row-major */
	char *arena;
	size_t used, cap;
	/* Text a first-stage consumer makes (a date in canonical form) goes to
	 * its own side arena: consumers never write the same memory. */
	struct side_arena side[PIPELINE_CONSUMERS_MAX];
};

/* A consumer: sees each batch once, in order, on its own thread.  Returns 0,
 * or -1 with e set to stop the pipeline.  A first-stage consumer may change
 * the cells of its own columns (see pipeline_start), and rewrite their text
 * in place in the batch's arena (no longer than it was); a second-stage
 * one sees the batch after every first-stage consumer is done with it. */
typedef int (*pipeline_fn)(void *ctx, struct batch *b, struct error *e);

struct pipeline;

/* Starts n consumer threads (1..PIPELINE_CONSUMERS_MAX).  stages[i] is 0
 * or 1, consumer i's stage (NULL: all 0).  NULL with e set when a thread
 * cannot start. */
struct pipeline *pipeline_start(size_t ncols, const pipeline_fn *fns, void *const *ctxs,
				const int *stages, size_t n, struct error *e);

/* The next row's ncols cells, in the batch being filled (never NULL).  Fill
 * them (pipeline_text for text), then call pipeline_commit. */
struct cell *pipeline_row(struct pipeline *p);

/* A text cell: copies len bytes into the current batch's arena. */
void pipeline_text(struct pipeline *p, struct cell *c, const char *s, size_t len);

/* Copies len bytes into the current batch's arena and returns their offset:
 * a whole row copied at once, its text cells then set with cell_set_text. */
size_t pipeline_copy(struct pipeline *p, const char *s, size_t len);

static inline void cell_set_text(struct cell *c, size_t off, size_t len)
{
	c->type = CELL_TEXT;
	c->arena = 0;
	c->v.t.off = off;
	c->v.t.len = len;
}

/* The row is complete; a full batch goes to the consumers.  Returns 0, or
 * -1 with e set when a consumer failed (then stop producing). */
int pipeline_commit(struct pipeline *p, struct error *e);

/* Sends the last rows and waits until every consumer has seen every batch.
 * Returns 0, or -1 with the first consumer error. */
int pipeline_finish(struct pipeline *p, struct error *e);

/* Stops the consumers (dropping batches not yet seen) and frees p; after
 * pipeline_finish, or instead of it to abandon the work.  NULL is fine. */
void pipeline_free(struct pipeline *p);

static inline const char *cell_text(const struct batch *b, const struct cell *c)
{
	return (c->arena ? b->side[c->arena - 1].data : b->arena) + c->v.t.off;
}

/* For first-stage consumer number k (0-based, its place in pipeline_start's
 * lists): a text cell of len bytes copied into the batch's side arena k. */
void batch_side_text(struct batch *b, unsigned k, struct cell *c, const char *s, size_t len);

#endif
