/*
 * The analysis tool registry: one table of tools that the HTTP API, the
 * chat loop and the MCP server all call.
 *
 * A tool has a name, a title, a description (English, with Korean keywords
 * where they help a model or a person find it), a JSON Schema for its
 * arguments and one for its result, whether it only reads, and a handler.
 * tool_call() checks the arguments against the input schema (an error names
 * the bad field), runs the handler over an open dataset and returns
 * structured JSON -- numbers as numbers, tables as {"columns":[...],
 * "rows":[[...]]} -- plus a one-line human summary.
 *
 * Handlers read the dataset through the SQL sandbox (query/sql.h) with the
 * same time and memory limits as user queries, or through the helpers
 * below, and never see HTTP.
 */
#ifndef SHEAF_TOOLS_TOOLS_H
#define SHEAF_TOOLS_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "datasets/table.h"
#include "frame/frame.h"
#include "query/sql.h"

enum tool_error_kind {
	TOOL_ERR_ARGUMENT,   /* bad arguments: a field, a column, a combination (422) */
	TOOL_ERR_TIMEOUT,    /* past the time limit (422) */
	TOOL_ERR_TOO_BIG,    /* past the memory or size limits (422) */
	TOOL_ERR_INTERNAL,   /* the dataset file could not be read (500) */
	TOOL_ERR_NOT_FOUND,  /* account tools: no such dataset or model of the caller's (404) */
	TOOL_ERR_NOT_READY,  /* account tools: the dataset or model is still being made (409) */
	TOOL_ERR_CANCELLED,  /* the caller gave up (tool_cancelled) */
};

struct tool_error {
	enum tool_error_kind kind;
	char msg[512];
};

/*
 * Where a tool works.  Dataset tools run over one open dataset (ctx->t);
 * the API reaches them at /api/datasets/{id}/tools/{name} and MCP adds a
 * dataset_id argument for them.  Account tools work across the caller's
 * datasets and models (ctx->app, ctx->user_id): listing, describing,
 * transforming, predicting.
 */
enum tool_scope {
	TOOL_ON_DATASET,
	TOOL_ON_ACCOUNT,
};

struct app;

/* Long work reports how far it is (done of total, total 0 when unknown)
 * and asks whether the caller gave up. */
struct tool_progress {
	void (*report)(void *arg, double done, double total, const char *message);
	bool (*cancelled)(void *arg);
	void *arg;
};

/* What a handler works on. */
struct tool_ctx {
	struct table *t;             /* dataset tools: the dataset, open */
	struct sql_limits lim;       /* for every query the tool runs */
	struct frame_cache *frames;  /* column arrays (NULL: none, use SQL) */
	const char *key;             /* the dataset file's key in frames */
	struct app *app;             /* account tools: the running application */
	const char *user_id;         /* account tools: whose datasets and models */
	const struct tool_progress *progress;   /* NULL: nobody is listening */
};

struct tool_output {
	json_t *result;              /* a new reference: the structured result */
	char *summary;               /* malloc'd: one or two sentences for people */
};

typedef int (*tool_fn)(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		       struct tool_error *err);

struct tool {
	const char *name;            /* [a-z_]+, stable */
	const char *title;
	const char *description;
	const char *input_schema;    /* JSON text of an object schema */
	const char *output_schema;   /* JSON text of an object schema */
	bool read_only;              /* false: it creates something */
	bool destructive;            /* it removes or overwrites what exists */
	enum tool_scope scope;
	tool_fn run;
};

/* The registry, in listing order. */
size_t tools_count(void);
const struct tool *tool_at(size_t i);
const struct tool *tool_find(const char *name);

/* Checks every tool's schemas parse and use only what schema.c checks;
 * -1 with e naming the tool otherwise (the tests call it; so does start-up). */
int tools_check(struct error *e);

/* The dataset tools as [{"name","title","description","input_schema",
 * "output_schema","read_only"}...], a new reference. */
json_t *tools_list_json(void);

/* Parsed schemas of one tool (borrowed; valid for the process's life). */
const json_t *tool_input_schema(const struct tool *tool);
const json_t *tool_output_schema(const struct tool *tool);

/*
 * Runs tool over ctx's dataset with args (an object; NULL is {}).  0 with
 * out filled, or -1 with err set.  Argument errors start with the field's
 * path, e.g. "args.column: no column \"x\" in this dataset".
 */
int tool_call(const struct tool *tool, struct tool_ctx *ctx, const json_t *args,
	      struct tool_output *out, struct tool_error *err);
void tool_output_clear(struct tool_output *out);

/* A page of a listing as the result: {key: list (taken), "total", "limit",
 * "offset"}, summarised as "Datasets 1 to 50 of 70, newest first." (what:
 * the items' plural, lower case). */
void tool_page(struct tool_output *out, const char *key, const char *what, json_t *list,
	       int64_t total, int64_t limit, int64_t offset);

/* Progress through ctx->progress (nothing when nobody listens), and
 * whether the caller gave up. */
void tool_report(struct tool_ctx *ctx, double done, double total, const char *message);
bool tool_cancelled(struct tool_ctx *ctx);

/* ---- for handlers (tools/common.c) ---- */

/* Records an error; returns -1. */
int tool_fail(struct tool_error *err, enum tool_error_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Kinds a tool accepts for a column, as a bit set of (1 << enum column_kind). */
#define TOOL_KINDS_ANY      0xFFFFu
#define TOOL_KINDS_NUMERIC  ((1u << COLUMN_INT) | (1u << COLUMN_REAL) | (1u << COLUMN_BOOL))
#define TOOL_KINDS_TEMPORAL ((1u << COLUMN_DATE) | (1u << COLUMN_DATETIME) | (1u << COLUMN_TIME))

/* The column named by the string args[field] (field must be present, the
 * schema made sure it is a string), of one of the kinds.  NULL with err set
 * ("args.column: no column \"x\" in this dataset; it has: a, b, c"). */
const struct table_column *tool_column(struct tool_ctx *ctx, const json_t *args,
				       const char *field, unsigned kinds,
				       struct tool_error *err);
/* The same for a column name given directly (path names it in errors). */
const struct table_column *tool_column_named(struct tool_ctx *ctx, const char *name,
					     const char *path, unsigned kinds,
					     struct tool_error *err);

/* name as a double-quoted SQL identifier appended to b. */
int tool_ident(struct buf *b, const char *name);

/* A prepared query (trusted SQL built by the tool, still run through the
 * sandbox and its limits).  NULL with err set. */
struct sql_query *tool_sql(struct tool_ctx *ctx, const char *sql, const json_t *params,
			   struct tool_error *err);
/* The same for SQL that answers one row (an aggregate): prepared and
 * stepped onto that row.  NULL with err set. */
struct sql_query *tool_sql_row(struct tool_ctx *ctx, const char *sql, const json_t *params,
			       struct tool_error *err);
/* After sql_step gave neither SQLITE_ROW nor SQLITE_DONE. */
int tool_sql_failed(struct sql_query *q, struct tool_error *err);
/* Value i of q's current row as JSON typed by kind (datasets/render.h). */
json_t *tool_value(struct sql_query *q, int i, enum column_kind kind);

/*
 * Column arrays (frame/frame.h) of names[0..n) from ctx's frame cache,
 * which must be set (without one, tools read through SQL).  0, or -1 with
 * err set.  Every successful call is paired with tool_frame_release.
 */
int tool_frame(struct tool_ctx *ctx, const char *const *names, size_t n,
	       const struct frame_column **cols, struct tool_error *err);
void tool_frame_release(struct tool_ctx *ctx, const struct frame_column **cols, size_t n);

/* A real for JSON: null when not finite. */
json_t *tool_real(double x);
/* {"columns": names, "rows": rows} taking rows' reference. */
json_t *tool_table(const char *const *names, size_t n, json_t *rows);
/* A malloc'd printf. */
char *tool_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* SELECT c FROM data WHERE c IS NOT NULL, prepared; NULL with err set. */
struct sql_query *tool_non_null(struct tool_ctx *ctx, const struct table_column *c,
				struct tool_error *err);
/* The p-quantile (0..1) of sorted[0..n) with linear interpolation between
 * the closest ranks (numpy's default, pandas' quantile). */
double tool_quantile(const double *sorted, size_t n, double p);

#endif
