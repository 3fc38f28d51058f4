/*
 * The tool groups, one file each; registry.c lists them in this order.
 * Each list is NULL-terminated.
 */
#ifndef SHEAF_TOOLS_GROUPS_H
#define SHEAF_TOOLS_GROUPS_H

#include "tools/tools.h"

extern const struct tool *const tools_info[];    /* info.c: shape, types, missing values, describe */
extern const struct tool *const tools_stats[];   /* stats.c: statistics, percentiles, histograms, outliers, correlation */
extern const struct tool *const tools_values[];  /* values.c: value counts, unique values, categories, cross tabs, group by */
extern const struct tool *const tools_rows[];    /* rows.c: filter, sort, sample */
extern const struct tool *const tools_time[];    /* time.c: date ranges, temporal patterns, geo bounds */
extern const struct tool *const tools_sql[];     /* sql.c: SQL over the dataset */
extern const struct tool *const tools_catalog[]; /* catalog.c: the caller's datasets, their profiles */
extern const struct tool *const tools_transform[]; /* transform.c: a new dataset from steps */
extern const struct tool *const tools_predict[]; /* predict.c: ECLO, trained models */

/* ---- for the account tools (catalog.c) ---- */

struct dataset_row;

/*
 * The caller's dataset id into row (dataset_row_clear): 0, or -1 with err
 * set and nothing in row to clear -- TOOL_ERR_ARGUMENT when id is not an
 * id, TOOL_ERR_NOT_FOUND when the caller has no such dataset (someone
 * else's included), TOOL_ERR_NOT_READY when ready is asked and it is
 * processing or failed, TOOL_ERR_INTERNAL when the store failed.
 */
int tool_dataset_row(struct tool_ctx *ctx, const char *id, bool ready, struct dataset_row *row,
		     struct tool_error *err);
/* The file of row (ready), open (table_close); NULL with err set. */
struct table *tool_dataset_open(struct tool_ctx *ctx, const struct dataset_row *row,
				struct tool_error *err);

#define TOOLS_JSON_TEXT_(...) #__VA_ARGS__

/* The JSON Schema of a dataset as dataset_json (datasets/datasets.h) shows
 * it, for the account tools' output schemas. */
#define TOOL_DATASET_SCHEMA TOOLS_JSON_TEXT_({"type": "object",                          \
	"required": ["id", "dataset_id", "name", "description", "status", "progress", "error", \
		     "rows", "columns", "size_bytes", "data_bytes", "format", "source_name",   \
		     "encoding", "delimiter", "sheet", "version", "parent_id", "uploaded_at",  \
		     "updated_at"],                                                            \
	"properties": {                                                                        \
		"id": {"type": "string"},                                                      \
		"dataset_id": {"type": "string", "description": "The same as id"},             \
		"name": {"type": "string"},                                                    \
		"description": {"type": "string"},                                             \
		"status": {"type": "string", "description": "processing, ready or failed"},    \
		"progress": {"type": "integer", "description": "Percent of the ingest done"},  \
		"error": {"type": ["string", "null"], "description": "Why the ingest failed"}, \
		"rows": {"type": "integer"},                                                   \
		"columns": {"type": "integer"},                                                \
		"size_bytes": {"type": "integer", "description": "Size of the uploaded file"}, \
		"data_bytes": {"type": "integer", "description": "Size of the dataset file"},  \
		"format": {"type": "string", "description": "csv, xlsx or xls"},               \
		"source_name": {"type": "string", "description": "The uploaded file's name"},  \
		"encoding": {"type": ["string", "null"]},                                      \
		"delimiter": {"type": ["string", "null"]},                                     \
		"sheet": {"type": ["string", "null"]},                                         \
		"version": {"type": "integer"},                                                \
		"parent_id": {"type": ["string", "null"],                                      \
			      "description": "The dataset this one was derived from"},         \
		"uploaded_at": {"type": "string", "description": "RFC 3339"},                  \
		"updated_at": {"type": "string", "description": "RFC 3339"},                   \
		"job_id": {"type": "string", "description": "The ingest job"},                 \
		"columns_info": {"type": "array", "items": {"type": "object"},                 \
			"description": "Per column: name, source_name, type, role, categorical, percent, unique, nulls and (describe_dataset) profile"}, \
		"warnings": {"type": "array", "items": {"type": "object"},                     \
			     "description": "What the import noticed: code, message, line?"}}})

#endif
