/*
 * Streaming CSV reader (RFC 4180, forgiving), push style.
 *
 * Dataset ingestion feeds a file's bytes (already UTF-8: encodings are
 * converted before this) in whatever pieces it reads them; the reader hands
 * over one record at a time through a callback.  Unquoted fields are not
 * copied: they point into the data being parsed.
 *
 * What is accepted:
 *   - A UTF-8 BOM at the very start is skipped.
 *   - Records end at LF, CRLF or a lone CR, mixed freely.  The last record
 *     needs no line end.  Empty lines (no bytes at all between two line ends,
 *     including a trailing one) are skipped and give no record, as pandas
 *     does; they still count for line numbers.
 *   - A field starting with '"' is quoted: it may hold delimiters, line ends
 *     and doubled quotes ("" is one ").  Bytes after the closing quote up to
 *     the next delimiter or line end are kept and appended to the value
 *     ("ab"cd gives abcd, "a"" b"x gives a" bx), as Python's csv does.
 *   - A quote anywhere else in an unquoted field is an ordinary byte.
 *   - A quoted field still open at the end of the input is an error.
 *   - Ragged records are passed on as they are: each record has as many
 *     fields as it has; checking them against a header is the caller's job.
 * Line numbers are 1-based physical lines: LF, CRLF and lone CR each end
 * one, also inside quoted fields.
 *
 * Memory: the reader keeps the unfinished record at the end of a feed (and,
 * while sniffing, the first CSV_SNIFF_BYTES), plus a field array and a copy
 * area for fields that need unquoting; all are bounded by the longest
 * record, which the limits bound.  An unfinished quoted field is refused
 * once its raw bytes pass 2 * max_field_bytes + 2 (its value can then only
 * be too long), so no buffer grows past about twice the limits.
 *
 * Not thread-safe: one reader per file.
 */
#ifndef SHEAF_INGEST_CSV_H
#define SHEAF_INGEST_CSV_H

#include <stddef.h>

#include "base/error.h"

#define CSV_DEFAULT_MAX_FIELD_BYTES (1024 * 1024)
#define CSV_DEFAULT_MAX_FIELDS 10000
#define CSV_SNIFF_BYTES (64 * 1024)   /* what csv_reader sniffs from */

/* A field of 0 (or a NULL options pointer) means the default. */
struct csv_options {
	char delimiter;           /* ',', ';', '\t', '|' or any byte but '"', CR, LF;
				   * 0: sniffed with csv_sniff from the first
				   * CSV_SNIFF_BYTES after the BOM (or the whole
				   * input when shorter) */
	size_t max_field_bytes;   /* one field's value, after unquoting (1 MiB) */
	size_t max_fields;        /* fields in one record (10000) */
};

/* One field's value: not NUL-terminated, may hold any byte (NUL included). */
struct csv_field {
	const char *ptr;
	size_t len;
};

/* record gets the n >= 1 fields of one record and the line it starts on.
 * The fields and their bytes live in the reader or in the data being fed:
 * they are valid only during the call, so copy what must outlive it.
 * Return 0 to go on or -1 to stop: the feed or finish then fails with
 * "stopped by the receiver".  record may be NULL.  It must not call back
 * into the reader. */
struct csv_callbacks {
	int (*record)(void *ctx, const struct csv_field *fields, size_t n, size_t line);
};

struct csv_reader;

/* The delimiter of a sample (the start of a file), chosen among ',', ';',
 * '\t' and '|'.  Each candidate splits the first 50 records of the sample
 * (a BOM skipped, quotes respected as the reader does, empty lines skipped,
 * an unfinished last record dropped unless it is the only one); its modal
 * field count must be at least 2, and its score is the share of records
 * having that count.  The highest score wins; ties go to '\t', then ';',
 * then '|', then ',' (a rarer delimiter that splits every line the same
 * way is deliberate, while commas also appear as decimal separators, as in
 * European "1,5;2,5").  With no candidate, ',' (a single column). */
char csv_sniff(const char *sample, size_t n);

/* A reader; opt and cb are copied, ctx is passed to the callback.  NULL
 * when opt->delimiter is '"', CR or LF. */
struct csv_reader *csv_reader_new(const struct csv_options *opt, const struct csv_callbacks *cb,
				  void *ctx);

/* Parses the next n bytes; any split works, down to one byte at a time, and
 * gives the same records.  Returns 0, or -1 with e set when a limit is
 * crossed (the message names the record's line and the limit) or the
 * callback stopped.  After -1 the reader stays failed: every later feed or
 * finish returns -1 with the same message and makes no callback. */
int csv_reader_feed(struct csv_reader *r, const char *data, size_t n, struct error *e);

/* The input is complete: emits the last record (if it had no line end).
 * Returns 0, or -1 with e set as for feed, or for a quoted field not
 * closed. */
int csv_reader_finish(struct csv_reader *r, struct error *e);

/* The delimiter in use: the given one, or the sniffed one once sniffing is
 * done (0 before that). */
char csv_reader_delimiter(const struct csv_reader *r);

void csv_reader_free(struct csv_reader *r);   /* NULL is fine; makes no callback */

#endif
