/*
 * The importer: source file -> dataset file, in two streaming passes.
 *
 * Pass 1 reads every row to fix the header, the column count and each
 * column's type (infer.h) -- a type is only known once the last value has
 * been seen.  Pass 2 reads the rows again, converts each field to its
 * column's type, inserts it into the `data` table and feeds the column's
 * profile.  Both passes share one row path: CSV records (after encoding
 * conversion) and spreadsheet rows arrive as arrays of text fields.
 *
 * A large CSV file is read about once (import.h): pass 1 stops after a
 * prefix, and pass 2 checks every value against the types guessed from it
 * (convert_cell says whether a value fits); run_passes falls back to the
 * two full passes when the guess was wrong.
 *
 * Threads (pipeline.h): the reading thread only parses and copies rows into
 * batches.  In pass 1, two column threads run the inference, each for every
 * other column.  In pass 2, the two column threads convert their columns'
 * cells in place and feed the profiles, then the writer thread appends the
 * typed rows to the data table with the direct B-tree writer (sqlwriter.h;
 * SQLite's own insert path was most of an import's time).  SQLite then
 * opens the file and adds the metadata tables.
 *
 * The dataset file is written with journaling and syncing off: it is a new
 * private file that becomes visible only after the caller has stored it,
 * so a crash can only leave a temporary file behind, never a half-written
 * dataset anyone reads.
 */
#include "ingest/import.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/sandbox.h"
#include "ingest/csv.h"
#include "ingest/encoding.h"
#include "ingest/infer.h"
#include "ingest/pipeline.h"
#include "ingest/profile.h"
#include "ingest/sqlwriter.h"
#include "ingest/value.h"
#include "ingest/xls.h"
#include "ingest/xlsx.h"

#define READ_CHUNK (1024 * 1024)
#define PASS1_SHARE 400          /* per mille of the work that pass 1 stands for */
#define NAME_MAX_BYTES 255       /* a column name is cut to this many bytes */
#define COLUMN_THREADS 2
#define DATASET_PAGE_SIZE 16384
#define MEMO_MAX 40              /* longest date/time text a column remembers */

struct column {
	char *name;                  /* unique in the table, case-insensitively */
	char *source_name;           /* the header as written ("" without one) */
	struct column_infer *infer;
	struct column_type type;
	struct profile *profile;
	bool open;                   /* speculative pass 2: no value in the prefix, so
				      * inferred there (and converted as text) */
	atomic_bool settled;         /* pass 1: inference can only say text now */
	char text[VALUE_TEXT_MAX];   /* a converted date/time value, bound while inserting */
	/* The last date/time value converted (pass 2): its text as written,
	 * parsed, and its canonical form in text.  Sorted or grouped files
	 * repeat the same instant row after row. */
	struct value_datetime memo_dt;
	char memo_raw[MEMO_MAX];
	uint8_t memo_raw_len;        /* 0: nothing remembered */
	uint8_t memo_len;            /* of the canonical form */
	uint8_t memo_kind;           /* the column kind it was parsed as */
};

struct importer {
	const struct import_options *opt;
	struct import_result *out;
	struct error *e;

	int pass;                    /* 1 or 2 */
	bool header_done;            /* the first row has been handled */
	bool has_header;
	size_t ncols;
	struct column *cols;
	int64_t rows;                /* data rows seen in this pass */
	int64_t ragged;              /* rows with the wrong field count (pass 1) */
	int64_t total_rows;          /* rows found by pass 1, for pass 2's progress */

	/* progress: the current pass runs from prog_lo to prog_hi per mille */
	uint64_t total_bytes, done_bytes;
	int64_t last_per_mille, prog_lo, prog_hi;
	bool cancelled;

	/* Speculation (large CSV files): pass 1 reads only a prefix, pass 2
	 * converts with the types guessed from it and checks that every value
	 * fits; the rare file where one does not is read again in full. */
	uint64_t prefix_limit;       /* pass 1 stops past this many bytes (0: never) */
	bool prefix_stopped;         /* ... and did */
	bool speculative;            /* pass 2 runs on guessed types */
	bool first_unsure;           /* the first row's role was decided by the types */
	int64_t prefix_rows;         /* data rows pass 1 saw */
	int64_t bad_at;              /* an encoding error's byte offset, else -1 */
	atomic_bool misfit;          /* a value did not fit its guessed type */

	/* pass 2 */
	struct sqlw *sw;             /* the data table being written */
	bool created;                /* the output file exists */
	struct sqlw_value *row_values; /* the writer thread's row */
	sqlite3 *db;                 /* the file, for the metadata tables at the end */
	struct pipeline *pipe;       /* pass 1: fields to inference; pass 2: converted rows
				      * to the writer and the profiler */
	struct column_part *parts;   /* the column consumers of both passes (COLUMN_THREADS) */
	struct csv_field *first;     /* pass 1: a first row not yet known to be a header */
};

void import_result_clear(struct import_result *r)
{
	if (!r)
		return;
	free(r->sheet);
	json_decref(r->columns_info);
	json_decref(r->warnings);
	memset(r, 0, sizeof *r);
}

static void warn(struct importer *im, const char *code, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void warn(struct importer *im, const char *code, int64_t line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_t *w = json_pack("{s:s, s:s}", "code", code, "message", msg);
	if (line > 0)
		json_object_set_new(w, "line", json_integer(line));
	json_array_append_new(im->out->warnings, w);
}

/* Progress, throttled to whole per-mille steps.  Returns true to stop. */
static bool report(struct importer *im, int64_t per_mille)
{
	if (im->cancelled)
		return true;
	if (!im->opt->progress || per_mille <= im->last_per_mille)
		return false;
	im->last_per_mille = per_mille;
	if (im->opt->progress(im->opt->progress_ctx, per_mille))
		im->cancelled = true;
	return im->cancelled;
}

/* The next pass takes share per mille of what is left of the work. */
static void begin_pass(struct importer *im, int pass, int64_t share)
{
	im->pass = pass;
	im->prog_lo = im->last_per_mille > 0 ? im->last_per_mille : 0;
	im->prog_hi = im->prog_lo + (1000 - im->prog_lo) * share / 1000;
}

static bool report_share(struct importer *im, int64_t done, int64_t total)
{
	return report(im, im->prog_lo + (im->prog_hi - im->prog_lo) * done / total);
}

static bool report_bytes(struct importer *im)
{
	if (!im->total_bytes)
		return report(im, im->prog_lo);
	return report_share(im, (int64_t)(im->done_bytes * 1000 / im->total_bytes), 1000);
}

static bool report_rows(struct importer *im)
{
	if (im->pass == 1 || im->speculative || im->total_rows <= 0 || (im->rows & 1023))
		return im->cancelled;
	return report_share(im, im->rows, im->total_rows);
}

/* ---- the header ---- */

static bool looks_like_value(const char *s, size_t len)
{
	int64_t i;
	double d;
	bool b, pct;
	struct value_datetime dt;
	return value_parse_int(s, len, &i) || value_parse_real(s, len, &d, &pct) ||
	       value_parse_bool(s, len, &b) || value_parse_date(s, len, &dt) ||
	       value_parse_datetime(s, len, &dt) || value_parse_time(s, len, &dt);
}

enum first_row { FIRST_HEADER, FIRST_DATA, FIRST_UNSURE };

/* What the first row is, from itself: a header unless every non-empty
 * field in it looks like a value; then it is only "unsure", and the types
 * of the rows below decide (settle_first_row). */
static enum first_row first_row_kind(const struct importer *im, const struct csv_field *f,
				     size_t n)
{
	if (im->opt->header == IMPORT_HEADER_YES)
		return FIRST_HEADER;
	if (im->opt->header == IMPORT_HEADER_NO)
		return FIRST_DATA;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (f[i].len == 0)
			continue;
		any = true;
		if (!looks_like_value(f[i].ptr, f[i].len))
			return FIRST_HEADER;
	}
	return any ? FIRST_UNSURE : FIRST_HEADER;   /* an all-empty row names nothing, but is no data */
}

/* Whether s could be a value of a column of type t. */
static bool fits(const struct column_type *t, const char *s, size_t len)
{
	int64_t i;
	double d;
	bool b, pct;
	struct value_datetime dt;
	if (infer_is_null(s, len))
		return true;
	switch (t->kind) {
	case COLUMN_INT:
		return value_parse_int(s, len, &i);
	case COLUMN_REAL:
		return value_parse_real(s, len, &d, &pct) && pct == t->percent;
	case COLUMN_BOOL:
		return value_parse_bool(s, len, &b);
	case COLUMN_DATE:
		return value_parse_date(s, len, &dt);
	case COLUMN_DATETIME:
		return value_parse_datetime(s, len, &dt) || value_parse_date(s, len, &dt);
	case COLUMN_TIME:
		return value_parse_time(s, len, &dt);
	case COLUMN_TEXT:
		break;
	}
	return true;
}

static bool name_taken(const struct importer *im, size_t upto, const char *name)
{
	for (size_t i = 0; i < upto; i++)
		if (strcasecmp(im->cols[i].name, name) == 0)
			return true;
	return false;
}

/* Trimmed, cut to NAME_MAX_BYTES on a character boundary. */
static char *clean_name(const char *s, size_t len)
{
	while (len && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
		s++;
		len--;
	}
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
		       s[len - 1] == '\n'))
		len--;
	if (len > NAME_MAX_BYTES) {
		len = NAME_MAX_BYTES;
		while (len && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	return xstrndup(s, len);
}

static void name_columns(struct importer *im, const struct csv_field *f, size_t n)
{
	int64_t renamed_empty = 0;
	for (size_t i = 0; i < n; i++) {
		struct column *c = &im->cols[i];
		char *name = im->has_header ? clean_name(f[i].ptr, f[i].len) : xstrdup("");
		c->source_name = im->has_header ? xstrndup(f[i].ptr, f[i].len) : xstrdup("");
		char buf[NAME_MAX_BYTES + 32];
		if (!*name || name_taken(im, i, name)) {
			bool empty = !*name;
			for (unsigned k = empty ? (unsigned)i + 1 : 2;; k++) {
				if (empty)
					snprintf(buf, sizeof buf, "column_%u", k);
				else
					snprintf(buf, sizeof buf, "%s_%u", name, k);
				if (!name_taken(im, i, buf))
					break;
			}
			if (empty && im->has_header)
				renamed_empty++;
			else if (!empty)
				warn(im, "duplicate_header", 0,
				     "column %zu repeats the name \"%s\"; it is called \"%s\"", i + 1,
				     name, buf);
			free(name);
			name = xstrdup(buf);
		}
		c->name = name;
	}
	if (renamed_empty)
		warn(im, "empty_header", 0, "%" PRId64 " column%s had no name and got column_N names",
		     renamed_empty, renamed_empty == 1 ? "" : "s");
}

/* ---- the row path ---- */

static int stop(struct importer *im, enum import_failure why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int stop(struct importer *im, enum import_failure why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(im->e->msg, sizeof im->e->msg, fmt, ap);
	va_end(ap);
	im->out->failure = why;
	return -1;
}

/* One field of column c as a typed cell.  Inference guaranteed the
 * conversion; should it still fail, the text is kept (never lost). */
/* A row whose fields all lie in one stretch of the reader's input (no
 * quoted field moved into its own buffer) is copied to the batch with one
 * memcpy instead of one per field. */
struct row_span {
	const char *start;
	size_t len;
	size_t off;   /* where the stretch went in the batch's arena */
};

static bool find_span(const struct csv_field *f, size_t n, struct row_span *sp)
{
	if (n < 2 || !f[0].ptr)
		return false;
	const char *end = f[0].ptr + f[0].len;
	for (size_t i = 1; i < n; i++) {
		/* Each field starts just past the previous one and its delimiter. */
		if (!f[i].ptr || f[i].ptr != end + 1)
			return false;
		end = f[i].ptr + f[i].len;
	}
	sp->start = f[0].ptr;
	sp->len = (size_t)(end - f[0].ptr);
	return true;
}

/* A text cell of s: from the copied row when it lies there, else copied. */
static void put_text(struct importer *im, const struct row_span *sp, struct cell *cell,
		     const char *s, size_t len)
{
	if (sp && s >= sp->start && s + len <= sp->start + sp->len)
		cell_set_text(cell, sp->off + (size_t)(s - sp->start), len);
	else
		pipeline_text(im->pipe, cell, s, len);
}

/* Consumer: appends a batch to the data table. */
static int write_batch(void *ctx, struct batch *b, struct error *e)
{
	struct importer *im = ctx;
	struct sqlw_value *vals = im->row_values;
	const struct cell *c = b->cells;
	for (size_t r = 0; r < b->rows; r++) {
		for (size_t i = 0; i < b->ncols; i++, c++) {
			struct sqlw_value *v = &vals[i];
			switch (c->type) {
			case CELL_INT:
				v->type = SQLW_INT;
				v->i = c->v.i;
				break;
			case CELL_REAL:
				v->type = SQLW_REAL;
				v->r = c->v.r;
				break;
			case CELL_TEXT:
				v->type = SQLW_TEXT;
				v->s = cell_text(b, c);
				v->len = c->v.t.len;
				break;
			default:
				v->type = SQLW_NULL;
				break;
			}
		}
		if (sqlw_append(im->sw, vals, e) < 0)
			return -1;
	}
	return 0;
}

/* A consumer that owns every COLUMN_THREADS-th column from first on: the
 * inference of pass 1 and the profiles of pass 2 each run on
 * COLUMN_THREADS threads this way. */
struct column_part {
	struct importer *im;
	size_t first;
	size_t *mine;         /* pass 2: the columns this thread converts and profiles */
	size_t nmine;
};

/* Rough cost of converting and profiling one value of a column, to split
 * pass 2's columns evenly between its threads: text and dates (hashing,
 * parsing, formatting) weigh more than numbers. */
static unsigned column_cost(const struct column *c)
{
	switch (c->type.kind) {
	case COLUMN_INT:
	case COLUMN_BOOL:
		return 2;
	case COLUMN_REAL:
		return 3;
	default:
		return 4;
	}
}

/* Gives each of parts[0..n) its columns: heaviest first, each to the
 * lightest part so far. */
static void split_columns(struct importer *im, struct column_part *parts, size_t n)
{
	size_t *order = xmalloc(im->ncols * sizeof *order);
	unsigned load[COLUMN_THREADS] = { 0 };
	for (size_t i = 0; i < im->ncols; i++)
		order[i] = i;
	for (size_t i = 1; i < im->ncols; i++)   /* insertion sort by cost, stable */
		for (size_t j = i; j > 0 && column_cost(&im->cols[order[j]]) >
						 column_cost(&im->cols[order[j - 1]]); j--) {
			size_t t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (size_t k = 0; k < n; k++) {
		parts[k].mine = xmalloc(im->ncols * sizeof *parts[k].mine);
		parts[k].nmine = 0;
	}
	for (size_t i = 0; i < im->ncols; i++) {
		size_t best = 0;
		for (size_t k = 1; k < n; k++)
			if (load[k] < load[best])
				best = k;
		parts[best].mine[parts[best].nmine++] = order[i];
		load[best] += column_cost(&im->cols[order[i]]);
	}
	free(order);
}

/* Whether a real written as s (parsed as a non-percent real) is an
 * integer a double would round: inference makes such a column text. */
static bool big_integer(const char *s, size_t len)
{
	int64_t i;
	return len >= 16 && value_parse_int(s, len, &i) &&
	       (i > ((int64_t)1 << 53) || i < -((int64_t)1 << 53));
}

/* Whether a field is one of the null words (infer.h), answered inline for
 * the usual field: one starting with a digit is a value. */
static inline bool null_word(const char *s, size_t len)
{
	if (len && (unsigned)(unsigned char)s[0] - '0' <= 9)
		return false;
	return infer_is_null(s, len);
}

/* Parses a date, datetime or time value s of column c (kind k) into *dt
 * and leaves its canonical text in c->text; returns that text's length,
 * or 0 when s is not such a value.  A value equal to the one before is
 * taken from the memo. */
static size_t temporal_convert(struct column *c, enum column_kind k, const char *s, size_t len,
			       struct value_datetime *dt)
{
	if (len == c->memo_raw_len && k == c->memo_kind && memcmp(s, c->memo_raw, len) == 0) {
		*dt = c->memo_dt;
		return c->memo_len;
	}
	bool ok;
	if (k == COLUMN_DATE)
		ok = value_parse_date(s, len, dt);
	else if (k == COLUMN_DATETIME)
		ok = value_parse_datetime(s, len, dt) || value_parse_date(s, len, dt);
	else
		ok = value_parse_time(s, len, dt);
	if (!ok)
		return 0;
	size_t n;
	if (k == COLUMN_DATE)
		n = value_format_date(dt, c->text, sizeof c->text);
	else if (k == COLUMN_DATETIME)
		n = value_format_datetime(dt, c->text, sizeof c->text);
	else
		n = value_format_time(dt, c->text, sizeof c->text);
	if (len < MEMO_MAX && n < MEMO_MAX) {
		memcpy(c->memo_raw, s, len);
		c->memo_raw_len = (uint8_t)len;
		c->memo_len = (uint8_t)n;
		c->memo_kind = (uint8_t)k;
		c->memo_dt = *dt;
	} else {
		c->memo_raw_len = 0;
	}
	return n;
}

/*
 * A raw text cell of column c (of kind k), converted in place to the
 * column's type and added to its profile (k: this column thread's side
 * arena, for dates in canonical form).  Returns whether the value fits the
 * type as inference (infer.h) decides it: after a whole-file inference it
 * always does; after a guess from a prefix, false says the guess was
 * wrong.  A value that does not fit keeps its text (never lost) and is
 * profiled as a null (a number column) or as text (a date column).
 * Always inlined with k a constant, so each column kind gets its own loop.
 */
static inline __attribute__((always_inline)) bool
convert_cell(struct column *c, enum column_kind k, struct batch *b, unsigned side,
	     struct cell *cell)
{
	struct profile *p = c->profile;
	if (cell->type != CELL_TEXT) {
		profile_add_null(p);
		return true;
	}
	const char *s = cell_text(b, cell);
	size_t len = cell->v.t.len;
	if (k == COLUMN_TEXT ? len == 0 : null_word(s, len)) {
		cell->type = CELL_NULL;
		profile_add_null(p);
		return true;
	}
	int64_t i;
	double r;
	bool pct, flag;
	switch (k) {
	case COLUMN_INT:
		if (!value_parse_int(s, len, &i))
			break;
		cell->type = CELL_INT;
		cell->v.i = i;
		profile_add_int(p, i);
		return true;
	case COLUMN_BOOL:
		if (!value_parse_bool(s, len, &flag))
			break;
		cell->type = CELL_INT;
		cell->v.i = flag;
		profile_add_int(p, flag);
		return true;
	case COLUMN_REAL:
		if (!value_parse_real(s, len, &r, &pct) || pct != c->type.percent ||
		    (!pct && big_integer(s, len)))
			break;
		cell->type = CELL_REAL;
		cell->v.r = r;
		profile_add_real(p, r);
		return true;
	case COLUMN_TEXT:
		if (c->open)
			infer_add(c->infer, s, len);
		profile_add_text(p, s, len);
		return true;
	case COLUMN_DATE:
	case COLUMN_DATETIME:
	case COLUMN_TIME: {
		/* Its canonical text, usually no longer than the value as
		 * written ("2024-03-05 10:00:00" -> "...T10:00:00"), so in place
		 * of it (the cell's bytes are this thread's), else into the side
		 * arena. */
		struct value_datetime dt;
		size_t n = temporal_convert(c, k, s, len, &dt);
		if (!n) {
			profile_add_text(p, s, len);
			return false;
		}
		if (n <= len) {
			memcpy((char *)s, c->text, n);
			cell->v.t.len = n;
		} else {
			batch_side_text(b, side, cell, c->text, n);
		}
		profile_add_temporal(p, cell_text(b, cell), cell->v.t.len, &dt);
		return true;
	}
	}
	/* A number that does not parse: stored as text, not profiled. */
	profile_add_null(p);
	return false;
}

/* Column i's cells of batch b, converted and profiled as kind k. */
static inline __attribute__((always_inline)) bool
convert_column(struct column *c, enum column_kind k, struct batch *b, unsigned side, size_t i)
{
	bool fit = true;
	struct cell *cell = b->cells + i;
	for (size_t r = 0; r < b->rows; r++, cell += b->ncols)
		fit &= convert_cell(c, k, b, side, cell);
	return fit;
}

/* Pass 2's column threads (first stage): convert their columns' cells in
 * place and feed their profiles; the writer (second stage) then sees typed
 * rows. */
static int convert_batch(void *ctx, struct batch *b, struct error *e)
{
	struct column_part *part = ctx;
	struct importer *im = part->im;
	unsigned side = (unsigned)part->first;
	bool fit = true;
	(void)e;
	/* Column by column: a column's profile (hash tables, sketches, sample)
	 * stays in the cache for the batch's rows, where row by row every
	 * column's would take turns evicting the others'. */
	for (size_t k = 0; k < part->nmine; k++) {
		size_t i = part->mine[k];
		struct column *c = &im->cols[i];
		switch (c->type.kind) {
		case COLUMN_TEXT:
			fit &= convert_column(c, COLUMN_TEXT, b, side, i);
			break;
		case COLUMN_BOOL:
			fit &= convert_column(c, COLUMN_BOOL, b, side, i);
			break;
		case COLUMN_INT:
			fit &= convert_column(c, COLUMN_INT, b, side, i);
			break;
		case COLUMN_REAL:
			fit &= convert_column(c, COLUMN_REAL, b, side, i);
			break;
		case COLUMN_DATE:
			fit &= convert_column(c, COLUMN_DATE, b, side, i);
			break;
		case COLUMN_DATETIME:
			fit &= convert_column(c, COLUMN_DATETIME, b, side, i);
			break;
		case COLUMN_TIME:
			fit &= convert_column(c, COLUMN_TIME, b, side, i);
			break;
		}
	}
	if (!fit && im->speculative)
		atomic_store_explicit(&im->misfit, true, memory_order_relaxed);
	return 0;
}

/* Pass 1 runs inference on two threads, each owning every other column,
 * fed by the reading thread through the same pipeline as pass 2. */

static int infer_batch(void *ctx, struct batch *b, struct error *e)
{
	struct column_part *part = ctx;
	struct importer *im = part->im;
	(void)e;
	for (size_t r = 0; r < b->rows; r++) {
		const struct cell *cells = b->cells + r * b->ncols;
		for (size_t i = part->first; i < b->ncols; i += COLUMN_THREADS) {
			const struct cell *c = &cells[i];
			struct column *col = &im->cols[i];
			if (c->type == CELL_TEXT)
				infer_add(col->infer, cell_text(b, c), c->v.t.len);
			else if (c->type == CELL_PRESENT)
				infer_count(col->infer, false);
			else
				infer_add(col->infer, "", 0);
			/* Once settled as text, the reader stops copying its bytes. */
			if (c->type == CELL_TEXT && !atomic_load_explicit(&col->settled,
									  memory_order_relaxed) &&
			    infer_settled(col->infer))
				atomic_store_explicit(&col->settled, true, memory_order_relaxed);
		}
	}
	return 0;
}

static int start_inference(struct importer *im)
{
	pipeline_fn fns[COLUMN_THREADS];
	void *ctxs[COLUMN_THREADS];
	size_t n = im->ncols < COLUMN_THREADS ? (im->ncols ? im->ncols : 1) : COLUMN_THREADS;
	for (size_t i = 0; i < n; i++) {
		im->parts[i] = (struct column_part){ .im = im, .first = i };
		fns[i] = infer_batch;
		ctxs[i] = &im->parts[i];
	}
	struct error pe;
	if (!(im->pipe = pipeline_start(im->ncols, fns, ctxs, NULL, n, &pe)))
		return stop(im, IMPORT_INTERNAL, "%s", pe.msg);
	return 0;
}

/* Ends pass 1's pipeline: every row has been inferred. */
static int finish_inference(struct importer *im)
{
	struct error pe;
	int rc = im->pipe ? pipeline_finish(im->pipe, &pe) : 0;
	pipeline_free(im->pipe);
	im->pipe = NULL;
	if (rc < 0)
		return stop(im, IMPORT_INTERNAL, "%s", pe.msg);
	return 0;
}

static void free_first(struct importer *im)
{
	if (!im->first)
		return;
	for (size_t i = 0; i < im->ncols; i++)
		free((char *)im->first[i].ptr);
	free(im->first);
	im->first = NULL;
}

/* After pass 1, an unsure first row is data when every field of it fits
 * its column's type ("1,2" over numbers), else a header ("t,y" over
 * numbers: words that are also booleans). */
static void settle_first_row(struct importer *im)
{
	if (!im->first)
		return;
	im->first_unsure = true;
	bool data = true;
	for (size_t i = 0; i < im->ncols && data; i++) {
		struct column_type t;
		infer_result(im->cols[i].infer, NULL, &t);
		data = fits(&t, im->first[i].ptr, im->first[i].len);
	}
	im->has_header = !data;
	if (data) {
		for (size_t i = 0; i < im->ncols; i++)
			infer_add(im->cols[i].infer, im->first[i].ptr, im->first[i].len);
		im->rows++;
	}
	name_columns(im, im->first, im->ncols);
	free_first(im);
}

/* The reader's part of both passes: the row's fields as text cells (empty
 * ones null) for the column threads, which infer from them (pass 1) or
 * convert them (pass 2). */
static int queue_fields(struct importer *im, const struct csv_field *f, size_t n)
{
	struct cell *cells = pipeline_row(im->pipe);
	struct row_span span, *sp = NULL;
	if (find_span(f, n, &span)) {
		span.off = pipeline_copy(im->pipe, span.start, span.len);
		sp = &span;
	}
	if (sp && im->pass == 2 && n == im->ncols) {   /* the common row: no checks */
		for (size_t i = 0; i < n; i++) {
			if (f[i].len)
				cell_set_text(&cells[i], span.off + (size_t)(f[i].ptr - span.start),
					      f[i].len);
			else
				cells[i].type = CELL_NULL;
		}
		goto commit;
	}
	for (size_t i = 0; i < im->ncols; i++) {
		if (i >= n || !f[i].len)
			cells[i].type = CELL_NULL;
		else if (im->pass == 2 ||
			 !atomic_load_explicit(&im->cols[i].settled, memory_order_relaxed))
			put_text(im, sp, &cells[i], f[i].ptr, f[i].len);
		else   /* a text column: only whether it is null still counts */
			cells[i].type = infer_is_null(f[i].ptr, f[i].len) ? CELL_NULL : CELL_PRESENT;
	}
commit:;
	struct error pe;
	if (pipeline_commit(im->pipe, &pe) < 0)
		return stop(im, IMPORT_INTERNAL, "%s", pe.msg);
	return 0;
}

/* One row of fields from any source; line is its 1-based line (CSV) or
 * row number (spreadsheets).  Returns 0 or -1 (im->e set). */
static int take_row(struct importer *im, const struct csv_field *f, size_t n, int64_t line)
{
	if (!im->header_done) {
		im->header_done = true;
		if (n > im->opt->max_columns)
			return stop(im, IMPORT_BAD_INPUT,
				    "line %" PRId64 ": %zu columns, more than the limit of %zu", line,
				    n, im->opt->max_columns);
		if (im->pass == 1) {
			enum first_row kind = first_row_kind(im, f, n);
			im->ncols = n;
			im->cols = xcalloc(n, sizeof *im->cols);
			for (size_t i = 0; i < n; i++) {
				/* The profiles count distinct values in pass 2. */
				im->cols[i].infer = infer_new();
				infer_skip_distinct(im->cols[i].infer);
			}
			/* An unsure first row sits out inference until the rows
			 * below have shown their types. */
			im->has_header = kind != FIRST_DATA;
			if (kind == FIRST_UNSURE) {
				im->first = xcalloc(n, sizeof *im->first);
				for (size_t i = 0; i < n; i++) {
					im->first[i].ptr = xstrndup(f[i].ptr, f[i].len);
					im->first[i].len = f[i].len;
				}
			} else {
				name_columns(im, f, n);
			}
			if (start_inference(im) < 0)
				return -1;
		}
		if (im->has_header)
			return 0;
	}
	if (im->pass == 1 && im->prefix_limit && im->done_bytes >= im->prefix_limit) {
		im->prefix_stopped = true;   /* enough to guess the types from */
		return -1;
	}
	if (im->speculative && atomic_load_explicit(&im->misfit, memory_order_relaxed))
		return -1;                   /* the guess was wrong: no use going on */
	/* A row the data table cannot take is the file's fault; only rows of
	 * many long fields can be one, so most files skip the sum. */
	size_t kept = n < im->ncols ? n : im->ncols, bytes = 0;
	if ((uint64_t)kept * im->opt->max_field_bytes > SQLW_MAX_ROW_BYTES) {
		for (size_t i = 0; i < kept; i++)
			bytes += f[i].len;
		if (bytes > SQLW_MAX_ROW_BYTES)
			return stop(im, IMPORT_BAD_INPUT,
				    "line %" PRId64 ": a row of %zu bytes, more than the limit of %u",
				    line, bytes, SQLW_MAX_ROW_BYTES);
	}
	im->rows++;
	if (n != im->ncols && (im->pass == 1 || (im->speculative && im->rows > im->prefix_rows))) {
		if (im->opt->strict)
			return stop(im, IMPORT_BAD_INPUT,
				    "line %" PRId64 ": %zu fields where the header has %zu (strict mode)",
				    line, n, im->ncols);
		if (im->ragged < IMPORT_WARNINGS_LISTED)
			warn(im, "ragged_row", line, "line %" PRId64 ": %zu fields, expected %zu; %s",
			     line, n, im->ncols,
			     n < im->ncols ? "padded with empty values" : "extra fields dropped");
		im->ragged++;
	}
	if (queue_fields(im, f, n) < 0)
		return -1;
	if (im->pass == 1)
		return 0;
	if (report_rows(im))
		return stop(im, IMPORT_CANCELLED, "cancelled");
	return 0;
}

/* ---- CSV ---- */

struct csv_pass {
	struct importer *im;
	struct csv_reader *reader;
	bool row_failed;   /* take_row failed: im->e holds why */
};

static int on_record(void *ctx, const struct csv_field *fields, size_t n, size_t line)
{
	struct csv_pass *p = ctx;
	if (take_row(p->im, fields, n, (int64_t)line) < 0) {
		p->row_failed = true;
		return -1;
	}
	return 0;
}

static int on_utf8(void *ctx, const char *data, size_t n)
{
	struct csv_pass *p = ctx;
	struct error ce;
	if (csv_reader_feed(p->reader, data, n, &ce) < 0) {
		if (!p->row_failed)
			stop(p->im, IMPORT_BAD_INPUT, "%s", ce.msg);
		return -1;
	}
	return 0;
}

/* The pass that reads a UTF-8 file in full first checks that it is UTF-8
 * on a thread of its own, beside the parse (which needs only bytes; the
 * check was the reading thread's largest cost after parsing itself).  The
 * two share the chunks read: a ring of CHECK_RING buffers, each refilled
 * only once the check is done with it. */
#define CHECK_RING 4

struct utf8_check {
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *ring;                   /* the CHECK_RING buffers, in one block */
	char *buf[CHECK_RING];
	size_t len[CHECK_RING];
	uint64_t filled, checked;     /* chunks handed over, chunks checked */
	bool eof;                     /* no chunk will follow */
	bool stop;                    /* the parse ended early: no need to go on */
	bool failed;                  /* written by the thread, read after the join */
	char msg[sizeof ((struct error *)0)->msg];
};

static int discard(void *ctx, const char *p, size_t n)
{
	(void)ctx;
	(void)p;
	(void)n;
	return 0;
}

static void *check_utf8(void *arg)
{
	struct utf8_check *c = arg;
	struct error e;
	struct encoding_converter *conv = encoding_converter_new("UTF-8", &e);
	pthread_mutex_lock(&c->mu);
	for (;;) {
		while (c->checked == c->filled && !c->eof && !c->stop)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stop || c->checked == c->filled)
			break;
		unsigned k = (unsigned)(c->checked % CHECK_RING);
		pthread_mutex_unlock(&c->mu);
		int rc = conv ? encoding_convert(conv, c->buf[k], c->len[k], discard, NULL, &e) : -1;
		pthread_mutex_lock(&c->mu);
		if (rc < 0) {
			c->failed = true;
			snprintf(c->msg, sizeof c->msg, "%s", conv ? e.msg : "cannot check UTF-8");
			break;
		}
		c->checked++;
		pthread_cond_broadcast(&c->cv);
	}
	if (!c->failed && !c->stop && conv && encoding_finish(conv, &e) < 0) {
		c->failed = true;
		snprintf(c->msg, sizeof c->msg, "%s", e.msg);
	}
	c->stop = true;   /* a failed check takes no more chunks */
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	encoding_converter_free(conv);
	return NULL;
}

static int check_start(struct utf8_check *c)
{
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	c->ring = xmalloc_huge(CHECK_RING * READ_CHUNK);
	for (unsigned k = 0; k < CHECK_RING; k++)
		c->buf[k] = c->ring + k * READ_CHUNK;
	if (pthread_create(&c->thread, NULL, check_utf8, c) != 0) {
		free(c->ring);
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		return -1;
	}
	c->started = true;
	return 0;
}

/* The buffer for the next chunk, once the check is done with it; NULL
 * when the check has failed (no use reading on). */
static char *check_next_buffer(struct utf8_check *c)
{
	pthread_mutex_lock(&c->mu);
	while (c->filled - c->checked == CHECK_RING && !c->stop)
		pthread_cond_wait(&c->cv, &c->mu);
	char *b = c->failed ? NULL : c->buf[c->filled % CHECK_RING];
	pthread_mutex_unlock(&c->mu);
	return b;
}

/* Hands the chunk just read (n bytes; 0 at the end) to the check. */
static void check_hand_over(struct utf8_check *c, size_t n)
{
	pthread_mutex_lock(&c->mu);
	if (n) {
		c->len[c->filled % CHECK_RING] = n;
		c->filled++;
	} else {
		c->eof = true;
	}
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

/* Ends the check (early, when the parse stopped) and frees it. */
static void check_end(struct utf8_check *c, bool early)
{
	if (!c->started)
		return;
	pthread_mutex_lock(&c->mu);
	if (early)
		c->stop = true;
	c->eof = true;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	free(c->ring);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
}

/* Reads the whole file through the converter and the CSV reader.  On a
 * conversion error *bad_at gets the byte offset (for the UTF-8 retry). */
static int csv_run(struct importer *im, int fd, const char *encoding, char delimiter,
		   char *used_delimiter, int64_t *bad_at)
{
	struct csv_options co = {
		.delimiter = delimiter,
		.max_field_bytes = im->opt->max_field_bytes,
		.max_fields = im->opt->max_columns + 1,
	};
	struct csv_callbacks cb = { .record = on_record };
	struct csv_pass p = { .im = im };
	struct error ce;
	int rc = -1;
	*bad_at = -1;
	p.reader = csv_reader_new(&co, &cb, &p);
	struct encoding_converter *conv = encoding_converter_new(encoding, &ce);
	/* UTF-8 is parsed as it is: pass 2 reads bytes pass 1 checked, and
	 * pass 1 checks them on another thread meanwhile. */
	bool raw_utf8 = strcmp(encoding, "UTF-8") == 0;
	struct utf8_check check = { .started = false };
	char *own = NULL, *chunk;
	if (!p.reader || !conv) {
		stop(im, IMPORT_BAD_INPUT, "%s", conv ? "bad delimiter" : ce.msg);
		goto out;
	}
	/* The check runs in the pass that reads the whole file first: pass 1,
	 * or pass 2 when pass 1 read only a prefix. */
	if (raw_utf8 && (im->pass == 1 ? !im->prefix_limit : im->speculative) &&
	    check_start(&check) < 0) {
		stop(im, IMPORT_INTERNAL, "cannot start the UTF-8 check");
		goto out;
	}
	if (!check.started)
		own = xmalloc_huge(READ_CHUNK);
	if (lseek(fd, 0, SEEK_SET) < 0) {
		stop(im, IMPORT_INTERNAL, "seeking the upload: %s", strerror(errno));
		goto out;
	}
	im->done_bytes = 0;
	for (;;) {
		if (!(chunk = own ? own : check_next_buffer(&check)))
			goto out;   /* the check failed: it says why */
		ssize_t got = read(fd, chunk, READ_CHUNK);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			stop(im, IMPORT_INTERNAL, "reading the upload: %s", strerror(errno));
			goto out;
		}
		if (check.started)
			check_hand_over(&check, (size_t)got);
		if (got == 0)
			break;
		if (raw_utf8 ? on_utf8(&p, chunk, (size_t)got) < 0
			     : encoding_convert(conv, chunk, (size_t)got, on_utf8, &p, &ce) < 0) {
			if (im->prefix_stopped)
				break;
			if (raw_utf8)
				goto out;
			if (!p.row_failed && im->out->failure == IMPORT_OK) {
				stop(im, IMPORT_BAD_INPUT, "the file is not valid %s: %s", encoding,
				     ce.msg);
				const char *at = strstr(ce.msg, "byte offset ");
				if (at)
					*bad_at = strtoll(at + 12, NULL, 10);
			}
			goto out;
		}
		im->done_bytes += (uint64_t)got;
		if (report_bytes(im)) {
			stop(im, IMPORT_CANCELLED, "cancelled");
			goto out;
		}
	}
	if (im->prefix_stopped) {
		*used_delimiter = csv_reader_delimiter(p.reader);
		rc = 0;
		goto out;
	}
	if (encoding_finish(conv, &ce) < 0) {
		stop(im, IMPORT_BAD_INPUT, "the file is not valid %s: %s", encoding, ce.msg);
		goto out;
	}
	if (csv_reader_finish(p.reader, &ce) < 0) {
		if (!p.row_failed)
			stop(im, IMPORT_BAD_INPUT, "%s", ce.msg);
		goto out;
	}
	*used_delimiter = csv_reader_delimiter(p.reader);
	rc = 0;
out:
	check_end(&check, rc < 0);
	/* Bad bytes explain whatever else went wrong after them. */
	if (check.failed && im->out->failure != IMPORT_CANCELLED) {
		stop(im, IMPORT_BAD_INPUT, "the file is not valid %s: %s", encoding, check.msg);
		const char *at = strstr(check.msg, "byte offset ");
		if (at)
			*bad_at = strtoll(at + 12, NULL, 10);
		rc = -1;
	}
	free(own);
	encoding_converter_free(conv);
	csv_reader_free(p.reader);
	return rc;
}

/* Forgets what pass 1 learnt, to run it again with another encoding. */
static void reset_columns(struct importer *im)
{
	free_first(im);
	pipeline_free(im->pipe);
	im->pipe = NULL;
	for (size_t i = 0; i < im->ncols; i++) {
		free(im->cols[i].name);
		free(im->cols[i].source_name);
		infer_free(im->cols[i].infer);
		profile_free(im->cols[i].profile);
	}
	free(im->cols);
	im->cols = NULL;
	im->ncols = 0;
	im->header_done = false;
	im->has_header = false;
	im->first_unsure = false;
	im->rows = im->ragged = 0;
	json_array_clear(im->out->warnings);
}

static int csv_pass1(struct importer *im, int fd)
{
	char sample[ENCODING_SAMPLE_BYTES];
	char enc[ENCODING_NAME_MAX];
	struct error ee;
	ssize_t n = pread(fd, sample, sizeof sample, 0);
	if (n < 0)
		return stop(im, IMPORT_INTERNAL, "reading the upload: %s", strerror(errno));
	bool given = im->opt->encoding && *im->opt->encoding;
	if (given ? encoding_normalize(im->opt->encoding, enc, &ee) < 0
		  : encoding_detect(sample, (size_t)n, enc, &ee) < 0)
		return stop(im, IMPORT_BAD_INPUT, "%s", ee.msg);
	char delim = 0;
	int64_t bad_at;
	if (csv_run(im, fd, enc, im->opt->delimiter, &delim, &bad_at) == 0)
		goto done;
	/* Detection saw only the start of the file: a file that is ASCII there
	 * and Korean further on looked like UTF-8.  Look again where it broke. */
	if (given || strcmp(enc, "UTF-8") != 0 || bad_at < 0 ||
	    im->out->failure != IMPORT_BAD_INPUT)
		return -1;
	int64_t from = bad_at > 1024 ? bad_at - 1024 : 0;
	n = pread(fd, sample, sizeof sample, from);
	char again[ENCODING_NAME_MAX];
	if (n <= 0 || encoding_detect(sample, (size_t)n, again, &ee) < 0 ||
	    strcmp(again, "UTF-8") == 0)
		return -1;
	char first_error[sizeof im->e->msg];
	snprintf(first_error, sizeof first_error, "%s", im->e->msg);
	reset_columns(im);
	im->out->failure = IMPORT_OK;
	int64_t first_bad = bad_at;
	if (csv_run(im, fd, again, im->opt->delimiter, &delim, &bad_at) < 0) {
		snprintf(im->e->msg, sizeof im->e->msg, "%s", first_error);
		im->out->failure = IMPORT_BAD_INPUT;
		return -1;
	}
	warn(im, "encoding_redetected", 0,
	     "the start of the file looked like UTF-8 but byte %" PRId64 " is not; read as %s",
	     first_bad, again);
	memcpy(enc, again, sizeof enc);
done:
	memcpy(im->out->encoding, enc, sizeof im->out->encoding);
	im->out->encoding[sizeof im->out->encoding - 1] = 0;
	im->out->delimiter = delim;
	return 0;
}

static int csv_pass2(struct importer *im, int fd)
{
	char delim;
	return csv_run(im, fd, im->out->encoding, im->out->delimiter, &delim, &im->bad_at);
}

/* ---- spreadsheets ---- */

struct sheet_pass {
	struct importer *im;
	struct csv_field *fields;
	size_t cap;
	bool row_failed;
};

static int on_sheet_row(void *ctx, uint32_t row, const struct xlsx_cell *cells, size_t n)
{
	struct sheet_pass *p = ctx;
	if (n > p->cap) {
		p->cap = n;
		p->fields = xrealloc(p->fields, n * sizeof *p->fields);
	}
	for (size_t i = 0; i < n; i++) {
		p->fields[i].ptr = cells[i].text;
		p->fields[i].len = strlen(cells[i].text);
	}
	if (n == 0)
		return 0;
	if (take_row(p->im, p->fields, n, row) < 0) {
		p->row_failed = true;
		return -1;
	}
	return 0;
}

/* Resolves opt->sheet against the workbook's sheet names. */
static int pick_sheet(struct importer *im, size_t count, const char *(*name_of)(const void *, size_t),
		      const void *book, size_t *index)
{
	const char *want = im->opt->sheet;
	*index = 0;
	if (!want || !*want)
		return 0;
	for (size_t i = 0; i < count; i++)
		if (strcmp(name_of(book, i), want) == 0) {
			*index = i;
			return 0;
		}
	char *end;
	errno = 0;
	unsigned long long k = strtoull(want, &end, 10);
	if (!errno && *want >= '0' && *want <= '9' && !*end && k < count) {
		*index = (size_t)k;
		return 0;
	}
	struct buf names;
	buf_init(&names, 2048);
	for (size_t i = 0; i < count && i < 20; i++)
		buf_printf(&names, "%s\"%s\"", i ? ", " : "", name_of(book, i));
	stop(im, IMPORT_BAD_INPUT, "no sheet \"%s\"; the workbook has %zu: %s", want, count,
	     names.data ? names.data : "");
	buf_free(&names);
	return -1;
}

static const char *xlsx_name_of(const void *book, size_t i)
{
	return xlsx_sheet_name(book, i);
}

static const char *xls_name_of(const void *book, size_t i)
{
	return xls_sheet_name(book, i);
}

static enum import_failure sheet_failure(const char *msg)
{
	return strncmp(msg, "stopped by the receiver", 23) == 0 ? IMPORT_INTERNAL
							       : IMPORT_BAD_INPUT;
}

static int sheet_pass(struct importer *im, const char *path)
{
	struct xlsx_limits lim = {
		.max_member_bytes = im->opt->xlsx_max_bytes,
		.max_ratio = im->opt->xlsx_max_ratio,
		.max_columns = im->opt->max_columns + 1,
		.max_cell_bytes = im->opt->max_field_bytes,
	};
	struct xlsx_callbacks cb = { .row = on_sheet_row };
	struct sheet_pass p = { .im = im };
	struct error se;
	size_t index;
	int rc = -1;
	struct xlsx *book = xlsx_open(path, &lim, &se);
	if (!book)
		return stop(im, IMPORT_BAD_INPUT, "%s", se.msg);
	if (pick_sheet(im, xlsx_sheet_count(book), xlsx_name_of, book, &index) < 0)
		goto out;
	if (im->pass == 1) {
		free(im->out->sheet);
		im->out->sheet = xstrdup(xlsx_sheet_name(book, index));
		report(im, im->prog_lo);
	}
	if (xlsx_read_sheet(book, index, &cb, &p, &se) < 0) {
		if (!p.row_failed)
			stop(im, sheet_failure(se.msg), "%s", se.msg);
		goto out;
	}
	if (report(im, im->prog_hi)) {
		stop(im, IMPORT_CANCELLED, "cancelled");
		goto out;
	}
	rc = 0;
out:
	free(p.fields);
	xlsx_close(book);
	return rc;
}

/* ---- XLS, converted to CSV in a sandbox ----
 *
 * FreeXL is not safe on hostile files (over-reads, an invalid free, and a
 * few kilobytes that make it allocate a gigabyte), so an .xls file is read
 * in a forked child with memory and CPU limits, which writes the chosen
 * sheet as UTF-8 CSV.  The two passes then read that CSV. */

#define XLS_MEMORY (1536ull << 20)
#define XLS_CPU_S 60
#define XLS_WALL_S 120

struct xls_job {
	struct importer *im;
	const char *src;
	const char *csv;
	FILE *out;
};

static void csv_put(FILE *f, const char *s, size_t n)
{
	if (strcspn(s, ",\"\r\n") == n) {
		fwrite(s, 1, n, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			fputc('"', f);
		fputc(s[i], f);
	}
	fputc('"', f);
}

static int on_xls_row(void *ctx, uint32_t row, const struct xlsx_cell *cells, size_t n)
{
	struct xls_job *job = ctx;
	(void)row;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', job->out);
		csv_put(job->out, cells[i].text, strlen(cells[i].text));
	}
	fputc('\n', job->out);
	return ferror(job->out) ? -1 : 0;
}

/* In the child: the sheet as CSV into job->csv; the sheet's name as the
 * message on success. */
static int xls_convert(void *arg, char msg[SANDBOX_MSG_MAX])
{
	struct xls_job *job = arg;
	struct importer *im = job->im;
	struct error e;
	struct xls_limits lim = { .max_cell_bytes = im->opt->max_field_bytes };
	struct xls *book = xls_open(job->src, &lim, &e);
	if (!book) {
		snprintf(msg, SANDBOX_MSG_MAX, "%s", e.msg);
		return -1;
	}
	size_t index;
	int rc = -1;
	if (pick_sheet(im, xls_sheet_count(book), xls_name_of, book, &index) < 0) {
		snprintf(msg, SANDBOX_MSG_MAX, "%s", im->e->msg);
		goto out;
	}
	if (!(job->out = fopen(job->csv, "w"))) {
		snprintf(msg, SANDBOX_MSG_MAX, "internal: %s: %s", job->csv, strerror(errno));
		goto out;
	}
	struct xlsx_callbacks cb = { .row = on_xls_row };
	if (xls_read_sheet(book, index, &cb, job, &e) < 0) {
		snprintf(msg, SANDBOX_MSG_MAX, "%s", e.msg);
		goto out;
	}
	if (fclose(job->out) != 0) {
		job->out = NULL;
		snprintf(msg, SANDBOX_MSG_MAX, "internal: writing %s", job->csv);
		goto out;
	}
	job->out = NULL;
	snprintf(msg, SANDBOX_MSG_MAX, "%s", xls_sheet_name(book, index));
	rc = 0;
out:
	if (job->out)
		fclose(job->out);
	xls_close(book);
	return rc;
}

/* Converts src into the CSV file csv; sets the sheet's name.  0 or -1. */
static int xls_to_csv(struct importer *im, const char *src, const char *csv)
{
	struct xls_job job = { .im = im, .src = src, .csv = csv };
	struct sandbox_limits lim = {
		.memory_bytes = XLS_MEMORY, .cpu_seconds = XLS_CPU_S, .wall_seconds = XLS_WALL_S,
	};
	char msg[SANDBOX_MSG_MAX];
	report(im, 0);
	int rc = sandbox_run(xls_convert, &job, &lim, msg);
	if (rc == 0) {
		im->out->sheet = xstrdup(msg);
		return 0;
	}
	if (rc == -1 && strncmp(msg, "internal: ", 10) == 0)
		return stop(im, IMPORT_INTERNAL, "reading the XLS file: %s", msg + 10);
	if (rc == -3)
		return stop(im, IMPORT_INTERNAL, "reading the XLS file: %s", msg);
	if (rc == -1)
		return stop(im, IMPORT_BAD_INPUT, "%s", msg);
	return stop(im, IMPORT_BAD_INPUT, "the XLS file could not be read safely: the reader %s",
		    msg);
}

/* ---- the dataset file ---- */

static const char *declared_type(enum column_kind k)
{
	switch (k) {
	case COLUMN_INT:
	case COLUMN_BOOL:
		return "INTEGER";
	case COLUMN_REAL:
		return "REAL";
	default:
		return "TEXT";
	}
}

static const char *type_name(const struct column_type *t)
{
	return t->kind == COLUMN_BOOL ? "boolean" : column_kind_name(t->kind);
}

static const char *role_name(enum column_role r)
{
	return r == COLUMN_ROLE_LATITUDE ? "latitude" : r == COLUMN_ROLE_LONGITUDE ? "longitude"
										   : NULL;
}

static void quote_ident(struct buf *b, const char *name)
{
	buf_puts(b, "\"");
	for (const char *p = name; *p; p++) {
		buf_append(b, p, 1);
		if (*p == '"')
			buf_append(b, p, 1);   /* "" is one " inside an identifier */
	}
	buf_puts(b, "\"");
}

static int exec(struct importer *im, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(im->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		stop(im, IMPORT_INTERNAL, "writing the dataset: %s", err ? err : "?");
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Starts the data table's writer (see sqlwriter.h: SQLite's own insert
 * path was most of an import's time). */
static int open_output(struct importer *im, const char *dst)
{
	struct buf sql;
	struct error we;
	buf_init(&sql, 16u << 20);   /* 2000 quoted names of 255 bytes fit */
	buf_puts(&sql, "CREATE TABLE data (");
	for (size_t i = 0; i < im->ncols; i++) {
		if (i)
			buf_puts(&sql, ", ");
		quote_ident(&sql, im->cols[i].name);
		buf_printf(&sql, " %s", declared_type(im->cols[i].type.kind));
	}
	buf_puts(&sql, ")");
	im->sw = sqlw_create(dst, DATASET_PAGE_SIZE, "data", sql.data, im->ncols, &we);
	buf_free(&sql);
	if (!im->sw)
		return stop(im, IMPORT_INTERNAL, "creating the dataset file: %s", we.msg);
	im->created = true;
	im->row_values = xcalloc(im->ncols, sizeof *im->row_values);
	return 0;
}

static int write_metadata(struct importer *im);

/* The data table is complete: SQLite opens the file and adds the
 * metadata tables.  Journal and syncing are off: the file is private until
 * the caller stores it (which syncs it). */
static int finish_output(struct importer *im, const char *dst)
{
	struct error we;
	struct sqlw *sw = im->sw;
	im->sw = NULL;
	if (sqlw_finish(sw, &we) < 0)
		return stop(im, IMPORT_INTERNAL, "writing the dataset file: %s", we.msg);
	if (sqlite3_open_v2(dst, &im->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK)
		return stop(im, IMPORT_INTERNAL, "opening the dataset file: %s",
			    im->db ? sqlite3_errmsg(im->db) : "out of memory");
	if (exec(im, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;") < 0 ||
	    write_metadata(im) < 0 || exec(im, "COMMIT;") < 0)
		return -1;
	if (sqlite3_close(im->db) != SQLITE_OK)
		return stop(im, IMPORT_INTERNAL, "closing the dataset file: %s",
			    sqlite3_errmsg(im->db));
	im->db = NULL;
	return 0;
}

static int put_meta(struct importer *im, sqlite3_stmt *st, const char *key, const char *value)
{
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_reset(st);
	if (rc < 0)
		stop(im, IMPORT_INTERNAL, "writing metadata: %s", sqlite3_errmsg(im->db));
	return rc;
}

static int write_metadata(struct importer *im)
{
	if (exec(im, "CREATE TABLE sheaf_meta (key TEXT PRIMARY KEY, value TEXT);"
		     "CREATE TABLE sheaf_columns (position INTEGER PRIMARY KEY, name TEXT NOT NULL,"
		     " source_name TEXT NOT NULL, type TEXT NOT NULL, role TEXT,"
		     " categorical INTEGER NOT NULL, percent INTEGER NOT NULL, profile TEXT);") < 0)
		return -1;
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (sqlite3_prepare_v2(im->db,
			       "INSERT INTO sheaf_columns VALUES (?, ?, ?, ?, ?, ?, ?, ?)", -1, &st,
			       NULL) != SQLITE_OK)
		return stop(im, IMPORT_INTERNAL, "writing metadata: %s", sqlite3_errmsg(im->db));
	for (size_t i = 0; i < im->ncols; i++) {
		struct column *c = &im->cols[i];
		json_t *info = json_array_get(im->out->columns_info, i);
		char *profile = json_dumps(json_object_get(info, "profile"), JSON_COMPACT);
		sqlite3_bind_int64(st, 1, (int64_t)i);
		sqlite3_bind_text(st, 2, c->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, c->source_name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, type_name(&c->type), -1, SQLITE_STATIC);
		const char *role = role_name(c->type.role);
		if (role)
			sqlite3_bind_text(st, 5, role, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 5);
		sqlite3_bind_int(st, 6, c->type.categorical);
		sqlite3_bind_int(st, 7, c->type.percent);
		sqlite3_bind_text(st, 8, profile, -1, free);
		int step = sqlite3_step(st);
		sqlite3_reset(st);
		if (step != SQLITE_DONE) {
			stop(im, IMPORT_INTERNAL, "writing metadata: %s", sqlite3_errmsg(im->db));
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(im->db, "INSERT INTO sheaf_meta VALUES (?, ?)", -1, &st, NULL) !=
	    SQLITE_OK) {
		stop(im, IMPORT_INTERNAL, "writing metadata: %s", sqlite3_errmsg(im->db));
		goto out;
	}
	char num[32], cols[32], now[32], delim[2] = { im->out->delimiter, 0 };
	snprintf(num, sizeof num, "%" PRId64, im->out->rows);
	snprintf(cols, sizeof cols, "%" PRId64, im->out->columns);
	snprintf(now, sizeof now, "%" PRId64, clock_now_ms());
	char *warnings = json_dumps(im->out->warnings, JSON_COMPACT);
	rc = put_meta(im, st, "format", "1") || put_meta(im, st, "source_format", im->out->format) ||
	     put_meta(im, st, "encoding", im->out->encoding) ||
	     put_meta(im, st, "delimiter", delim) ||
	     put_meta(im, st, "sheet", im->out->sheet ? im->out->sheet : "") ||
	     put_meta(im, st, "header", im->has_header ? "1" : "0") ||
	     put_meta(im, st, "rows", num) || put_meta(im, st, "columns", cols) ||
	     put_meta(im, st, "warnings", warnings) || put_meta(im, st, "created_at", now)
		     ? -1
		     : 0;
	free(warnings);
out:
	sqlite3_finalize(st);
	return rc;
}

/* After pass 1: every column's type and a profile for it.  guessed: the
 * types come from a prefix (pass 2 infers the columns it had no value
 * in); ranges: the inferred numeric ranges are the whole file's, for the
 * profiles' histograms. */
static void settle_types(struct importer *im, bool guessed, bool ranges)
{
	for (size_t i = 0; i < im->ncols; i++) {
		struct column *c = &im->cols[i];
		infer_result(c->infer, c->name, &c->type);
		/* A guess from a prefix knows no column's range, and a column
		 * with no value there is inferred in pass 2. */
		c->open = guessed && c->type.rows == c->type.nulls;
		struct profile_options po = {
			.kind = c->type.kind,
			.have_range = ranges &&
				      (c->type.kind == COLUMN_INT || c->type.kind == COLUMN_REAL),
			.min = c->type.min,
			.max = c->type.max,
			/* Quantile samples share a budget of 8M values (64 MiB), so a
			 * wide file does not multiply the default 100,000 per column. */
			.sample = im->ncols > 80 ? (unsigned)(8000000 / im->ncols) : 0,
		};
		c->profile = profile_new(&po);
	}
}

static void finish_columns_info(struct importer *im)
{
	for (size_t i = 0; i < im->ncols; i++) {
		struct column *c = &im->cols[i];
		json_t *profile = profile_json(c->profile);
		json_t *distinct = json_object_get(profile, "distinct");
		if (c->type.kind == COLUMN_TEXT)
			c->type.categorical = infer_categorical(
				(uint64_t)json_integer_value(distinct),
				!json_is_true(json_object_get(profile, "distinct_exact")),
				(uint64_t)json_integer_value(json_object_get(profile, "count")));
		double lo, hi;
		if ((c->type.kind == COLUMN_INT || c->type.kind == COLUMN_REAL) && !c->type.percent)
			c->type.role = profile_range(c->profile, &lo, &hi)
					       ? infer_role(c->name, lo, hi)
					       : COLUMN_ROLE_NONE;
		json_t *info = json_pack(
			"{s:s, s:s, s:s, s:b, s:b, s:O, s:O, s:o}", "name", c->name, "source_name",
			c->source_name, "type", type_name(&c->type), "categorical",
			c->type.categorical, "percent", c->type.percent, "unique",
			distinct ? distinct : json_null(), "nulls",
			json_object_get(profile, "nulls") ? json_object_get(profile, "nulls")
							  : json_null(),
			"profile", profile);
		const char *role = role_name(c->type.role);
		json_object_set_new(info, "role", role ? json_string(role) : json_null());
		json_array_append_new(im->out->columns_info, info);
	}
}

static void free_columns(struct importer *im)
{
	for (size_t i = 0; i < im->ncols; i++) {
		free(im->cols[i].name);
		free(im->cols[i].source_name);
		infer_free(im->cols[i].infer);
		profile_free(im->cols[i].profile);
	}
	free(im->cols);
}

static const char *detect_format(int fd)
{
	unsigned char magic[8] = { 0 };
	ssize_t n = pread(fd, magic, sizeof magic, 0);
	if (n >= 4 && memcmp(magic, "PK\x03\x04", 4) == 0)
		return "xlsx";
	if (n >= 8 && memcmp(magic, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
		return "xls";
	return "csv";
}

static int run_pass(struct importer *im, const char *fmt, const char *src, int fd)
{
	if (strcmp(fmt, "xlsx") == 0)
		return sheet_pass(im, src);
	return im->pass == 1 ? csv_pass1(im, fd) : csv_pass2(im, fd);
}

/* Pass 1 (see the top): the header, the column count and the types. */
static int pass_one(struct importer *im, const char *fmt, const char *src, int fd)
{
	begin_pass(im, 1, PASS1_SHARE);
	im->out->passes += !im->prefix_limit;
	if (run_pass(im, fmt, src, fd) < 0 || finish_inference(im) < 0)
		return -1;
	settle_first_row(im);
	if (!im->header_done)
		return stop(im, IMPORT_BAD_INPUT, "the file has no rows");
	im->total_rows = im->prefix_rows = im->rows;
	settle_types(im, im->prefix_stopped, !im->prefix_stopped);
	return 0;
}

/* Pass 2: the data table and the profiles, into a new file at dst. */
static int pass_two(struct importer *im, const char *fmt, const char *src, int fd,
		    const char *dst)
{
	begin_pass(im, 2, 1000);
	im->out->passes++;
	im->bad_at = -1;
	if (open_output(im, dst) < 0)
		return -1;
	im->header_done = false;
	im->rows = 0;
	if (!im->ncols)
		return 0;
	/* Column threads first (convert, profile), then the writer. */
	pipeline_fn fns[1 + COLUMN_THREADS];
	void *ctxs[1 + COLUMN_THREADS];
	int stages[1 + COLUMN_THREADS];
	size_t n = 0;
	for (size_t i = 0; i < COLUMN_THREADS && i < im->ncols; i++, n++) {
		im->parts[i] = (struct column_part){ .im = im, .first = i };
		fns[n] = convert_batch;
		ctxs[n] = &im->parts[i];
		stages[n] = 0;
	}
	split_columns(im, im->parts, n);
	fns[n] = write_batch;
	ctxs[n] = im;
	stages[n++] = 1;
	struct error pe;
	if (!(im->pipe = pipeline_start(im->ncols, fns, ctxs, stages, n, &pe)))
		return stop(im, IMPORT_INTERNAL, "%s", pe.msg);
	if (run_pass(im, fmt, src, fd) < 0)
		return -1;
	if (pipeline_finish(im->pipe, &pe) < 0)
		return stop(im, IMPORT_INTERNAL, "%s", pe.msg);
	pipeline_free(im->pipe);
	im->pipe = NULL;
	return 0;
}

/* Forgets pass 2's output, to write it again. */
static void drop_pass_two(struct importer *im)
{
	pipeline_free(im->pipe);
	im->pipe = NULL;
	sqlw_abort(im->sw);
	im->sw = NULL;
	free(im->row_values);
	im->row_values = NULL;
	for (size_t k = 0; k < COLUMN_THREADS; k++) {
		free(im->parts[k].mine);
		im->parts[k].mine = NULL;
	}
	im->out->failure = IMPORT_OK;
	im->speculative = false;
	atomic_store(&im->misfit, false);
}

/* After a speculative pass 2: whether the guessed types held.  A column
 * with no value in the prefix was inferred over the file; if it is not
 * text after all, *retype says so and pass 2 must run again with its
 * type (unless that could change the header: then everything does). */
static bool guess_held(struct importer *im, bool *retype)
{
	*retype = false;
	if (atomic_load(&im->misfit))
		return false;
	for (size_t i = 0; i < im->ncols; i++) {
		struct column *c = &im->cols[i];
		if (!c->open)
			continue;
		struct column_type t;
		infer_result(c->infer, c->name, &t);
		if (t.kind != COLUMN_TEXT)
			*retype = true;
	}
	return !*retype || !im->first_unsure;
}

/* Pass 2 again with the types of the columns guess_held found open. */
static void retype_open_columns(struct importer *im)
{
	for (size_t i = 0; i < im->ncols; i++) {
		struct column *c = &im->cols[i];
		profile_free(c->profile);
		c->profile = NULL;
	}
	settle_types(im, false, false);   /* every type is now known, but no range */
	im->total_rows = im->rows;
}

/* Runs both passes: on a large CSV file, pass 1 over a prefix and a
 * speculative pass 2 that is redone in full when the guess fails. */
static int run_passes(struct importer *im, const char *fmt, const char *src, int fd,
		      const char *dst)
{
	uint64_t prefix = im->opt->prefix_bytes ? im->opt->prefix_bytes : IMPORT_PREFIX_BYTES;
	if (strcmp(fmt, "csv") == 0 && prefix < im->total_bytes / 2)
		im->prefix_limit = prefix;
	if (pass_one(im, fmt, src, fd) < 0)
		return -1;
	im->prefix_limit = 0;
	im->speculative = im->prefix_stopped;
	im->prefix_stopped = false;
	if (!im->speculative)
		return pass_two(im, fmt, src, fd, dst);
	int rc = pass_two(im, fmt, src, fd, dst);
	bool retype = false;
	/* A failure other than a wrong guess or bad encoding (which a full
	 * pass 1 may explain better: it looks again at the encoding) is the
	 * file's own. */
	if (rc < 0 && !atomic_load(&im->misfit) && im->bad_at < 0)
		return -1;
	if (rc == 0 && guess_held(im, &retype) && !retype)
		goto held;
	int64_t rows = im->rows;
	drop_pass_two(im);
	if (retype && !im->first_unsure) {
		im->rows = rows;
		retype_open_columns(im);
		return pass_two(im, fmt, src, fd, dst);
	}
	reset_columns(im);
	if (pass_one(im, fmt, src, fd) < 0)
		return -1;
	return pass_two(im, fmt, src, fd, dst);
held:
	im->speculative = false;
	im->total_rows = im->rows;
	return 0;
}

int import_file(const char *src_path, const char *dst_path, const struct import_options *opt_in,
		struct import_result *out, struct error *e)
{
	struct import_options opt = *opt_in;
	if (!opt.max_columns || opt.max_columns > IMPORT_DEFAULT_MAX_COLUMNS)
		opt.max_columns = IMPORT_DEFAULT_MAX_COLUMNS;
	if (!opt.max_field_bytes)
		opt.max_field_bytes = IMPORT_DEFAULT_MAX_FIELD_BYTES;
	memset(out, 0, sizeof *out);
	out->columns_info = json_array();
	out->warnings = json_array();
	struct column_part parts[COLUMN_THREADS] = { { 0 } };
	struct importer im = { .opt = &opt, .out = out, .e = e, .pass = 1, .last_per_mille = -1,
			       .parts = parts, .bad_at = -1 };
	int rc = -1;
	char *xls_csv = NULL;   /* an .xls file's sheet, converted */

	int fd = open(src_path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		stop(&im, IMPORT_INTERNAL, "opening the upload: %s", strerror(errno));
		goto out;
	}
	im.total_bytes = (uint64_t)sb.st_size;
	const char *fmt = opt.format && *opt.format ? opt.format : detect_format(fd);
	if (strcmp(fmt, "csv") && strcmp(fmt, "xlsx") && strcmp(fmt, "xls")) {
		stop(&im, IMPORT_BAD_INPUT, "unknown format \"%s\": use csv, xlsx or xls", fmt);
		goto out;
	}
	snprintf(out->format, sizeof out->format, "%s", fmt);
	if (sb.st_size == 0) {
		stop(&im, IMPORT_BAD_INPUT, "the file is empty");
		goto out;
	}

	if (strcmp(fmt, "xls") == 0) {
		/* From here on the passes read the sheet as CSV. */
		size_t n = strlen(dst_path) + 8;
		xls_csv = xmalloc(n);
		snprintf(xls_csv, n, "%s.csv", dst_path);
		if (xls_to_csv(&im, src_path, xls_csv) < 0)
			goto out;
		close(fd);
		if ((fd = open(xls_csv, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) < 0) {
			stop(&im, IMPORT_INTERNAL, "reading the converted sheet: %s", strerror(errno));
			goto out;
		}
		im.total_bytes = (uint64_t)sb.st_size;
		opt.encoding = "UTF-8";
		opt.delimiter = ',';
		fmt = "csv";
	}
	if (run_passes(&im, fmt, src_path, fd, dst_path) < 0)
		goto out;
	if (im.ragged > IMPORT_WARNINGS_LISTED)
		warn(&im, "ragged_rows", 0, "%" PRId64 " rows in all had the wrong number of fields",
		     im.ragged);
	if (im.rows != im.total_rows) {
		stop(&im, IMPORT_INTERNAL, "the file changed while it was read (%" PRId64
					    " rows, then %" PRId64 ")", im.total_rows, im.rows);
		goto out;
	}
	out->rows = im.rows;
	out->columns = (int64_t)im.ncols;
	finish_columns_info(&im);
	if (xls_csv) {
		/* A spreadsheet has no encoding or delimiter to report. */
		out->encoding[0] = 0;
		out->delimiter = 0;
	}
	if (finish_output(&im, dst_path) < 0)
		goto out;
	struct stat db;
	if (stat(dst_path, &db) == 0)
		out->data_bytes = db.st_size;
	report(&im, 1000);
	rc = 0;
out:
	if (xls_csv) {
		unlink(xls_csv);
		free(xls_csv);
	}
	pipeline_free(im.pipe);
	for (size_t k = 0; k < COLUMN_THREADS; k++)
		free(parts[k].mine);
	free_first(&im);
	sqlw_abort(im.sw);
	free(im.row_values);
	sqlite3_close(im.db);
	if (fd >= 0)
		close(fd);
	free_columns(&im);
	if (rc < 0) {
		if (out->failure == IMPORT_OK)
			out->failure = IMPORT_INTERNAL;
		if (im.created)
			unlink(dst_path);
	}
	return rc;
}
