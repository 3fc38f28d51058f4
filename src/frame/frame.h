/*
 * Frames: a dataset's columns as typed arrays in memory, loaded once and
 * kept warm, for analysis tools that scan whole columns.
 *
 * SQLite stores rows; a tool that aggregates one column of ten million rows
 * pays for decoding every row through the VM.  A frame column is the same
 * values laid out for a tight C loop: numbers as doubles (and integers
 * exactly as int64), text, dates and times dictionary-encoded (a code per
 * row, the distinct strings once), NULLs as a byte per row.
 *
 * The cache: columns are loaded on first use with one scan of the data
 * table (all missing columns of a request together) and kept, keyed by the
 * dataset file (immutable, so a column never goes stale), within a byte
 * budget; the least recently used columns go first.  A column in use is
 * never freed under its user (reference counts).  All functions are safe
 * from many threads; one load runs at a time per cache, and a request
 * waiting for it gets the loaded column.
 *
 * A text column with more distinct values than FRAME_DICT_MAX (ids, free
 * text) is not dictionary-encoded: its frame column says so (dict_full)
 * and tools fall back to SQL for it.
 */
#ifndef SHEAF_FRAME_FRAME_H
#define SHEAF_FRAME_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "datasets/table.h"
#include "query/sql.h"

#define FRAME_DICT_MAX (1u << 20)   /* distinct strings a text column may hold */
#define FRAME_NULL UINT32_MAX       /* the code of a NULL (and of a number in a text column: no) */

struct frame_column {
	char *name;
	enum column_kind kind;
	size_t n;                  /* rows */
	uint8_t *valid;            /* n: 1 when the value is not NULL (nor non-numeric text
				    * in a numeric column) */
	size_t not_numbers;        /* numeric kinds: rows whose value kept its text */
	double *num;               /* numeric kinds: n values (0 where not valid) */
	int64_t *i64;              /* integer and boolean kinds: n exact values */
	uint32_t *code;            /* other kinds: n codes into dict, FRAME_NULL for NULL */
	char **dict;               /* ndict strings, NUL-terminated, in first-seen order */
	uint32_t *dict_len;
	size_t ndict;
	bool dict_full;            /* over FRAME_DICT_MAX distinct: codes and dict absent */
	size_t bytes;              /* memory held */
	double *sorted;            /* numeric kinds: the valid values ascending, made on
				    * first demand (frame_sorted); NULL until then */
	size_t nsorted;
};

/* Frees what c holds (its arrays, dictionary and name) and zeroes it: for
 * the cache's own columns, and for columns built by hand (tests). */
void frame_column_free(struct frame_column *c);

struct frame_cache;

/* A cache holding at most max_bytes of columns (0: no caching, every
 * request loads its columns and frees them after). */
struct frame_cache *frame_cache_new(size_t max_bytes);
void frame_cache_free(struct frame_cache *fc);   /* NULL is fine; nothing may be in use */

/*
 * The columns names[0..n) of t (whose file is named by key, e.g. its
 * object key), loaded as needed within lim (the SQL sandbox's limits apply
 * to the scan).  Fills cols[i] with borrowed pointers valid until
 * frame_release(fc, cols, n).  0, or -1 with e set (an unknown column, a
 * failed scan) and nothing held.
 */
int frame_get(struct frame_cache *fc, struct table *t, const char *key,
	      const char *const *names, size_t n, const struct sql_limits *lim,
	      const struct frame_column **cols, enum sql_status *why, struct error *e);
void frame_release(struct frame_cache *fc, const struct frame_column **cols, size_t n);

/*
 * The valid values of numeric column c (from frame_get, still held)
 * ascending, *n of them: sorted once and kept with the column, so quantile
 * questions after the first cost no sort.  Safe from many threads.
 */
const double *frame_sorted(struct frame_cache *fc, const struct frame_column *c, size_t *n);

/*
 * The result of a query over t's data table (the SQL sandbox and lim apply)
 * as frame columns of their own, not cached: *cols is a malloc'd array of
 * *n columns named as the result columns, freed with frame_columns_free.
 * A result column that is a column of data keeps that column's kind (an
 * integer one that meets reals in a compound SELECT becomes real; text in
 * a numeric column is skipped by the numbers, as in the dataset); an
 * expression's kind comes from its values (integers, reals, else text), so
 * the query runs twice.  0, or -1 with e set and *why the reason.
 */
int frame_query(struct table *t, const char *sql, const struct sql_limits *lim,
		struct frame_column **cols, size_t *n, enum sql_status *why, struct error *e);
void frame_columns_free(struct frame_column *cols, size_t n);   /* NULL is fine */

/* Bytes held now, and columns loaded since the start (for tests and logs). */
size_t frame_cache_bytes(struct frame_cache *fc);
uint64_t frame_cache_loads(struct frame_cache *fc);

#endif
