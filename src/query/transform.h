/*
 * Transformations: a list of steps over a dataset, compiled into one
 * SELECT that the SQL sandbox runs (its result becomes a new dataset).
 *
 * Steps (each an object with "op"):
 *   filter       {"where": SQL boolean expression}       rows where it is true
 *   select       {"columns": [names]}                    these columns, in this order
 *   rename       {"columns": {"old": "new", ...}}        new names, same order
 *   derive       {"name", "expression": SQL expression}  a new column (or replaces one)
 *   sort         {"by": [{"column", "descending"?}]}     NULLs last, ties in row order
 *   deduplicate  {"columns"?: [names]}                   first row of each distinct
 *                                                        key (all columns by default)
 *   join         {"dataset_id", "on": [names] or [{"left","right"}],
 *                 "how"?: "inner"|"left", "columns"?: [the other's columns]}
 *                the other dataset's columns added; a name already taken gets
 *                the suffix "_right"; keys compare with = (NULL matches nothing)
 *   aggregate    {"by": [names], "aggregations": [{"column"?, "function", "as"?}]}
 *                functions sum, mean, count, min, max, median, std (sample),
 *                nunique; rows with a NULL key are left out (as pandas does)
 *   limit        {"n"}                                   the first n rows
 *
 * Each step is checked when compiled (its SQL is prepared in the sandbox),
 * so an error names the step: "steps[2] (derive): no such column: x".
 * Expressions are SQLite expressions over the current columns (quote names
 * with "..."); they run in the sandbox like any query.
 */
#ifndef SHEAF_QUERY_TRANSFORM_H
#define SHEAF_QUERY_TRANSFORM_H

#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "query/sql.h"

#define TRANSFORM_MAX_STEPS 32

/* Opens the dataset a join names (the caller's own), or NULL with e set;
 * the compiler closes what it opened with table_close. */
typedef struct table *(*transform_open_fn)(void *arg, const char *dataset_id, struct error *e);

struct transform_plan {
	char *sql;                          /* the final SELECT */
	struct sql_attach att[SQL_ATTACH_MAX];
	size_t natt;                        /* joined datasets (their tables are owned) */
	char alias[SQL_ATTACH_MAX][8];
};

/*
 * Compiles steps (an array) over t.  SQL_OK with plan filled, or the
 * status of the first bad step with e naming it (SQL_INVALID for a
 * malformed step or an unknown dataset as well).
 */
enum sql_status transform_compile(struct table *t, const json_t *steps,
				  const struct sql_limits *lim, transform_open_fn open,
				  void *arg, struct transform_plan *plan, struct error *e);
void transform_plan_free(struct transform_plan *plan);

#endif
