/*
 * User SQL over one dataset file, sandboxed.
 *
 * A query gets its own connection to the dataset file (read-only,
 * immutable) with:
 *   - one statement only, and only a read: SELECT, WITH ... SELECT, VALUES
 *     or EXPLAIN of one of those (sqlite3_stmt_readonly and an authorizer
 *     that allows nothing else: no ATTACH/DETACH, no PRAGMA, no writes, no
 *     schema changes, no transactions);
 *   - one readable table, data (plus json_each/json_tree); not the
 *     metadata tables, not sqlite_schema, not dbstat;
 *   - an allow-list of functions: SQLite's scalar, aggregate, window, math,
 *     date and JSON functions, and sheaf's median, percentile, stddev and
 *     variance aggregates (query/functions.h).  load_extension, fts3_tokenizer,
 *     sqlite_compileoption_* and anything else are refused, and extension
 *     loading is switched off as well;
 *   - a time limit on SQLite's own work (a progress handler), counted over
 *     all of a streamed query's steps together;
 *   - a memory limit: the connection's heap is metered (query/memory.h) and
 *     temporary tables and sorts stay in that memory, never on disk;
 *   - limits on the length of one value (randomblob/zeroblob/group_concat
 *     bombs), of the SQL text, on expression depth, compound selects and
 *     parameters.
 *
 * Parameters are JSON: an array binds ?, ?1, ... in order; an object binds
 * :name, @name and $name.  Numbers, strings, booleans (1/0) and null are
 * accepted; every parameter in the SQL must get a value.
 *
 * A struct sql_query and its connection are used by one thread at a time.
 */
#ifndef SHEAF_QUERY_SQL_H
#define SHEAF_QUERY_SQL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "datasets/table.h"

struct sql_limits {
	int64_t time_ms;          /* SQLite work of the whole query */
	int64_t memory_bytes;     /* heap the query's connection may hold */
	int64_t max_value_bytes;  /* longest string or blob the query may build */
	/* Asked every few thousand SQLite steps, with stop_arg: true stops the
	 * query as SQL_CANCELLED (its caller gave up).  NULL: never asked. */
	bool (*stop)(void *arg);
	void *stop_arg;
};

struct config;
/* The limits from the configuration: a query's or tool's, or (stream) a
 * streamed answer's or a transformation's. */
struct sql_limits sql_limits_for(const struct config *cfg, bool stream);

/* What went wrong, for the status a client sees. */
enum sql_status {
	SQL_OK,
	SQL_FORBIDDEN,   /* not a single read-only statement, or it touches what it may not */
	SQL_INVALID,     /* syntax, unknown names, bad parameters, a runtime error */
	SQL_TIMEOUT,     /* ran past the time limit */
	SQL_CANCELLED,   /* stopped by the limits' stop hook */
	SQL_TOO_BIG,     /* past the memory limit or the value-size limit */
	SQL_FAILED,      /* the dataset file could not be read: the server's fault */
};

struct sql_query;

/*
 * Prepares sql (NUL-terminated) with params (NULL, an array or an object)
 * over t's dataset file.  SQL_OK with *out set, or a status with e holding
 * a message meant for the user.
 */
enum sql_status sql_prepare(const struct table *t, const char *sql, const json_t *params,
			    const struct sql_limits *lim, struct sql_query **out,
			    struct error *e);

/* Another dataset a query may read, as ALIAS.data: the joins of
 * transforms.  alias is chosen by the caller ([a-z][a-z0-9_]*, not main or
 * temp); user SQL never attaches anything. */
struct sql_attach {
	const char *alias;
	const struct table *t;
};

#define SQL_ATTACH_MAX 4

/* sql_prepare with the datasets of att[0..natt) readable as well. */
enum sql_status sql_prepare_joined(const struct table *t, const struct sql_attach *att,
				   size_t natt, const char *sql, const json_t *params,
				   const struct sql_limits *lim, struct sql_query **out,
				   struct error *e);

/* The result's columns: name, and the dataset column's kind when the result
 * column is one of data's columns, else RENDER_ANY (datasets/render.h). */
size_t sql_ncols(const struct sql_query *q);
const char *sql_name(const struct sql_query *q, size_t i);
enum column_kind sql_kind(const struct sql_query *q, size_t i);

/* Whether equal SQL and parameters always give the same rows on the same
 * file: false when the query calls random(), randomblob(), the current
 * time, or mentions 'now'. */
bool sql_cacheable(const struct sql_query *q);

/*
 * Stepping.  Every sqlite3_step of the statement must run between
 * sql_enter and sql_leave (they arm the time limit with what is left and
 * meter the thread's SQLite memory); sql_step does so itself.  After a
 * failed step, sql_failure classifies it with a message for the user.
 */
sqlite3_stmt *sql_stmt(struct sql_query *q);
void sql_enter(struct sql_query *q);
void sql_leave(struct sql_query *q);
/* SQLITE_ROW, SQLITE_DONE, or another code (then see sql_failure). */
int sql_step(struct sql_query *q);
enum sql_status sql_failure(struct sql_query *q, struct error *e);
/* The time limit the query runs under (its sql_limits.time_ms). */
int64_t sql_time_limit_ms(const struct sql_query *q);
/* Milliseconds of SQLite work so far, and the memory high-water mark. */
int64_t sql_elapsed_ms(const struct sql_query *q);
int64_t sql_peak_bytes(const struct sql_query *q);

/* Gives the statement away (to a render_export, which finalizes it); the
 * query must then be closed only after the statement is finalized. */
sqlite3_stmt *sql_take_stmt(struct sql_query *q);
void sql_close(struct sql_query *q);   /* NULL is allowed */

#endif
