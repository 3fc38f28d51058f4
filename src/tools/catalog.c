/*
 * Account tools about the caller's datasets: the list, one dataset as the
 * API shows it, and the column profiles the import stored in the dataset
 * file (ingest/profile.h).  Also the lookup the other account tools share
 * (groups.h): the caller's dataset by id, with the errors a client sees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/id.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

int tool_dataset_row(struct tool_ctx *ctx, const char *id, bool ready, struct dataset_row *row,
		     struct tool_error *err)
{
	memset(row, 0, sizeof *row);
	if (!id_user_valid(id))
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.dataset_id: \"%.80s\" is not a dataset "
				 "id (1-64 characters of A-Z, a-z, 0-9, _ and -)", id ? id : "");
	struct error e;
	enum store_rc rc = store_dataset_get(ctx->app->store, ctx->user_id, id, row, &e);
	if (rc == STORE_NOT_FOUND) {
		dataset_row_clear(row);
		return tool_fail(err, TOOL_ERR_NOT_FOUND, "no dataset %s", id);
	}
	if (rc != STORE_OK) {
		dataset_row_clear(row);
		log_error("read dataset %s (tool): %s", id, e.msg);
		return tool_fail(err, TOOL_ERR_INTERNAL, "the dataset could not be read; see the "
				 "server log");
	}
	if (ready && strcmp(row->status, "ready") != 0) {
		tool_fail(err, TOOL_ERR_NOT_READY, "dataset %s is %s%s%s", id, row->status,
			  *row->error ? ": " : "", row->error);
		dataset_row_clear(row);
		return -1;
	}
	return 0;
}

struct table *tool_dataset_open(struct tool_ctx *ctx, const struct dataset_row *row,
				struct tool_error *err)
{
	struct error e;
	struct table *t = dataset_open(ctx->app, row, &e);
	if (!t) {
		log_error("open dataset %s (tool): %s", row->id, e.msg);
		tool_fail(err, TOOL_ERR_INTERNAL, "the dataset's file could not be read; see the "
			  "server log");
	}
	return t;
}

/* An integer argument (the schema made sure it is one, maybe written 5.0). */
static int64_t int_arg(const json_t *args, const char *name, int64_t def)
{
	const json_t *v = json_object_get(args, name);
	return v ? (int64_t)json_number_value(v) : def;
}

/* ---- list_datasets ---- */

static int list_datasets(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			 struct tool_error *err)
{
	int64_t limit = int_arg(args, "limit", 50), offset = int_arg(args, "offset", 0);
	struct dataset_row *rows;
	size_t n;
	int64_t total;
	struct error e;
	if (store_dataset_list(ctx->app->store, ctx->user_id, DATASET_SORT_NEWEST, limit, offset,
			       &rows, &n, &total, &e) != STORE_OK) {
		log_error("list datasets (tool): %s", e.msg);
		return tool_fail(err, TOOL_ERR_INTERNAL, "the datasets could not be listed; see the "
				 "server log");
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, dataset_json(&rows[i], false));
	dataset_rows_free(rows, n);
	tool_page(out, "datasets", "datasets", list, total, limit, offset);
	return 0;
}

static const struct tool list_datasets_tool = {
	.name = "list_datasets",
	.title = "List my datasets",
	.description = "The caller's datasets, newest first: id, name, status (processing, ready, "
		       "failed), rows, columns, sizes, format and dates, a page at a time. Use an "
		       "id with describe_dataset, profile, query_sql and the analysis tools. "
		       "Korean: 데이터셋 목록, 내 데이터, 업로드한 파일.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50,
			  "description": "Datasets in the page"},
		"offset": {"type": "integer", "minimum": 0, "default": 0,
			   "description": "Datasets skipped (newest first)"}}}),
	.output_schema = JSON({"type": "object", "required": ["datasets", "total", "limit", "offset"],
		"properties": {
			"datasets": {"type": "array", "items":) TOOL_DATASET_SCHEMA JSON(},
			"total": {"type": "integer", "description": "The caller's datasets in all"},
			"limit": {"type": "integer"}, "offset": {"type": "integer"}}}),
	.read_only = true,
	.scope = TOOL_ON_ACCOUNT,
	.run = list_datasets,
};

/* ---- describe_dataset ---- */

static int describe_dataset(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			    struct tool_error *err)
{
	struct dataset_row row;
	const char *id = json_string_value(json_object_get(args, "dataset_id"));
	if (tool_dataset_row(ctx, id, false, &row, err) < 0)
		return -1;
	json_t *o = dataset_json(&row, true);
	/* As GET /api/datasets/{id}: a file that cannot be opened leaves the
	 * summary's columns, and the log says why. */
	if (strcmp(row.status, "ready") == 0) {
		struct error e;
		struct table *t = dataset_open(ctx->app, &row, &e);
		if (t) {
			dataset_json_columns(o, t);
			table_close(t);
		} else {
			log_error("open dataset %s (tool): %s", row.id, e.msg);
		}
	}
	out->result = o;
	if (strcmp(row.status, "ready") == 0)
		out->summary = tool_printf("%s: %lld rows and %lld columns.", row.name,
					   (long long)row.rows, (long long)row.columns);
	else
		out->summary = tool_printf("%s is %s%s%s.", row.name, row.status,
					   *row.error ? ": " : "", row.error);
	dataset_row_clear(&row);
	return 0;
}

static const struct tool describe_dataset_tool = {
	.name = "describe_dataset",
	.title = "Describe a dataset",
	.description = "One of the caller's datasets as the API shows it: name, status and ingest "
		       "progress (or why it failed), rows, columns, file details, and per column "
		       "its type, role, categorical flag, distinct and missing counts and profile "
		       "(count, nulls, distinct, min, max, mean, std, quantiles, top values, "
		       "histogram), with the import's warnings. Korean: 데이터셋 정보, 데이터 설명, "
		       "컬럼 정보, 메타데이터.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["dataset_id"], "properties": {
		"dataset_id": {"type": "string", "minLength": 1, "maxLength": 64,
			       "description": "The dataset (list_datasets gives the ids)"}}}),
	.output_schema = TOOL_DATASET_SCHEMA,
	.read_only = true,
	.scope = TOOL_ON_ACCOUNT,
	.run = describe_dataset,
};

/* ---- profile ---- */

static int profile(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		   struct tool_error *err)
{
	struct dataset_row row;
	const char *id = json_string_value(json_object_get(args, "dataset_id"));
	const char *only = json_string_value(json_object_get(args, "column"));
	if (tool_dataset_row(ctx, id, true, &row, err) < 0)
		return -1;
	struct table *t = tool_dataset_open(ctx, &row, err);
	if (!t) {
		dataset_row_clear(&row);
		return -1;
	}
	json_t *cols = table_columns_json(t);
	int rc = 0;
	if (only) {
		/* tool_column_named's message lists the columns there are. */
		struct tool_ctx sub = *ctx;
		sub.t = t;
		const struct table_column *c = tool_column_named(&sub, only, "args.column",
								 TOOL_KINDS_ANY, err);
		if (c) {
			json_t *one = json_array();
			json_array_append(one, json_array_get(cols, (size_t)table_find_column(t, only)));
			json_decref(cols);
			cols = one;
		} else {
			rc = -1;
		}
	}
	if (rc == 0) {
		out->result = json_pack("{s:s, s:I, s:o}", "dataset_id", row.id, "rows",
					(json_int_t)table_nrows(t), "columns", cols);
		out->summary = only ? tool_printf("The profile of %s in %s.", only, row.name)
				    : tool_printf("Profiles of the %zu columns of %s.",
						  json_array_size(cols), row.name);
	} else {
		json_decref(cols);
	}
	table_close(t);
	dataset_row_clear(&row);
	return rc;
}

static const struct tool profile_tool = {
	.name = "profile",
	.title = "Column profiles",
	.description = "The profile the import computed for each column of a ready dataset, or for "
		       "one: count, nulls, distinct (exact or estimated), min, max, mean, std, "
		       "quantiles (p25, p50, p75), top values with counts, a histogram (numbers: "
		       "edges and counts; dates: by month or year; times: by hour), text lengths, "
		       "and which of these are exact. Cheap: nothing is recomputed. Korean: 프로파일, "
		       "컬럼 통계, 요약 통계, 분포.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["dataset_id"], "properties": {
		"dataset_id": {"type": "string", "minLength": 1, "maxLength": 64,
			       "description": "The dataset (list_datasets gives the ids)"},
		"column": {"type": "string", "minLength": 1,
			   "description": "Only this column (default: all)"}}}),
	.output_schema = JSON({"type": "object", "required": ["dataset_id", "rows", "columns"],
		"properties": {
			"dataset_id": {"type": "string"},
			"rows": {"type": "integer"},
			"columns": {"type": "array", "items": {"type": "object",
				"required": ["name", "source_name", "type", "role", "categorical",
					     "percent", "profile"],
				"properties": {
					"name": {"type": "string"},
					"source_name": {"type": "string", "description": "The header as written"},
					"type": {"type": "string"},
					"role": {"type": ["string", "null"], "description": "latitude, longitude or null"},
					"categorical": {"type": "boolean"},
					"percent": {"type": "boolean"},
					"profile": {"type": ["object", "null"], "description": "count, nulls, distinct, distinct_exact, top [{value, count}], top_exact; numbers: min, max, mean, std, quantiles {p25, p50, p75}, histogram {edges, counts}; dates and times: min, max, quantiles, histogram {unit, labels, counts}; booleans: mean; text: min_length, max_length"}}}}}}),
	.read_only = true,
	.scope = TOOL_ON_ACCOUNT,
	.run = profile,
};

const struct tool *const tools_catalog[] = {
	&list_datasets_tool,
	&describe_dataset_tool,
	&profile_tool,
	NULL,
};
