/*
 * A streaming writer of a new SQLite database file holding one rowid table.
 *
 * The importer writes each dataset's `data` table once, in rowid order, by
 * one writer, into a file nobody else has open.  SQLite has no bulk-load
 * API, and its per-row path (bind, step, VDBE record building, B-tree
 * insert) dominated import time; this module instead lays the table's
 * B-tree out directly in the documented file format
 * (https://www.sqlite.org/fileformat2.html): leaf pages are filled as rows
 * arrive, interior pages are built bottom-up a level at a time, and page 1
 * (database header plus sqlite_schema) is written last.  The result is an
 * ordinary database: SQLite opens it read-write afterwards, and the
 * importer adds its small metadata tables through SQLite itself.
 *
 * What the file holds, exactly:
 *   - rollback-journal format (versions 1/1), UTF-8, schema format 4, no
 *     reserved bytes, no auto-vacuum, no free pages; the lock-byte page (the
 *     page at byte offset 1 GiB) is left unused as SQLite requires;
 *   - sqlite_schema with one row ('table', name, name, root, create_sql);
 *   - the table's rows with rowids 1, 2, 3, ... in append order.  Records
 *     are built as SQLite builds them: integers in the smallest serial type
 *     (8 and 9 for 0 and 1), text as serial type 2n+13.  Two choices differ
 *     from what an INSERT into a REAL-affinity column would store, and only
 *     in bytes on disk, never in what SQLite reads back:
 *       * a REAL is always serial type 7 (eight bytes, exact bits), so -0.0
 *         keeps its sign; SQLite would store an integral value such as 2.0
 *         as the integer 2 and convert it back to 2.0 on reading;
 *       * a NaN REAL is stored as NULL, as sqlite3_bind_double does.
 *
 * Values are stored as given: the writer applies no column affinity.  The
 * caller passes what SQLite's affinity would have produced (text in TEXT
 * columns, numbers in INTEGER/REAL columns), otherwise newer SQLite versions'
 * integrity_check reports "NUMERIC value in ..." or "TEXT value in ...".
 * Text must be valid UTF-8 (not checked); it may contain NUL bytes.
 *
 * Memory is bounded by the page size, the row being appended and the
 * B-tree's depth, never by the table: one leaf page, one partly built
 * interior page per level, and SQLW_OUT_BUFFERS output buffers of
 * SQLW_OUT_BYTES: each written with one pwrite when it fills, by a thread
 * of its own (base/bgwrite.h) while the next one fills.
 *
 * Durability: sqlw_finish does not fsync.  The file becomes durable with
 * the next SQLite transaction on it (the importer's metadata tables) or an
 * explicit fsync by the caller.
 */
#ifndef SHEAF_INGEST_SQLWRITER_H
#define SHEAF_INGEST_SQLWRITER_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

#define SQLW_DEFAULT_PAGE_SIZE 16384
#define SQLW_OUT_BYTES (2u * 1024 * 1024)
#define SQLW_OUT_BUFFERS 3
/* One row's record, as SQLite's default SQLITE_MAX_LENGTH. */
#define SQLW_MAX_ROW_BYTES 1000000000u
/* SQLite's hard column ceiling; SQLite itself refuses more than its
 * SQLITE_MAX_COLUMN (2000 by default) when it parses create_sql. */
#define SQLW_MAX_COLUMNS 32767

struct sqlw_value {
	enum sqlw_type {
		SQLW_NULL,
		SQLW_INT,
		SQLW_REAL,
		SQLW_TEXT,
	} type;
	size_t len;         /* SQLW_TEXT */
	union {
		int64_t i;      /* SQLW_INT */
		double r;       /* SQLW_REAL; NaN is stored as NULL */
		const char *s;  /* SQLW_TEXT: len bytes of UTF-8 (NUL bytes allowed;
				 * s may be NULL when len is 0) */
	};
};

struct sqlw;

/*
 * Creates path (O_EXCL: an existing file is an error and is left alone)
 * and returns a writer for a table of ncols columns (1..SQLW_MAX_COLUMNS).
 * page_size: a power of two from 512 to 65536; 0 means
 * SQLW_DEFAULT_PAGE_SIZE.  table_name: the table's name as stored in
 * sqlite_schema's name and tbl_name.  create_sql: the exact CREATE TABLE
 * statement stored in sqlite_schema; it must declare ncols columns and
 * name table_name (not checked: SQLite checks it when it opens the file).
 * Both strings are copied.  NULL on failure, with e set.
 */
struct sqlw *sqlw_create(const char *path, uint32_t page_size, const char *table_name,
			 const char *create_sql, size_t ncols, struct error *e);

/*
 * Appends one row of ncols values; it gets the next rowid (1, 2, 3, ...).
 * The row's memory is not kept: it may be reused as soon as this returns.
 * Returns 0, or -1 with e set:
 *   - a refused row (a value of a bad type, a record over
 *     SQLW_MAX_ROW_BYTES or with a header over SQLite's 98307 bytes) is
 *     not written and takes no rowid; the writer goes on;
 *   - a failed write (disk full, file size limit, I/O error) leaves the
 *     writer failed: it accepts nothing more, and the caller ends it with
 *     sqlw_abort (or sqlw_finish, which then fails and removes the file).
 */
int sqlw_append(struct sqlw *w, const struct sqlw_value *row, struct error *e);

/* Rows appended so far. */
int64_t sqlw_rows(const struct sqlw *w);

/*
 * Writes the interior pages and page 1, and closes the file.  w is freed
 * whatever happens.  On failure the file is removed and -1 returned with e
 * set.
 */
int sqlw_finish(struct sqlw *w, struct error *e);

/* Closes and removes the file and frees w.  NULL is a no-op. */
void sqlw_abort(struct sqlw *w);

/*
 * Test hook, the twin of sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE):
 * moves the lock-byte offset (default 0x40000000) so that tests reach the
 * lock-byte page without writing a gigabyte.  Set both to the same value
 * while no writer and no connection is open.  Returns the old value.
 */
uint32_t sqlw_test_pending_byte(uint32_t offset);

#endif
