/*
 * transform: steps (query/transform.h) over one of the caller's datasets
 * make a new dataset (datasets/derive.c), as POST
 * /api/datasets/{id}/transform does.  The tool waits for the new dataset's
 * ingest, reporting its progress, and answers with the dataset; a caller
 * that gives up cancels the ingest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/clock.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

#define WAIT_SLICE_MS 250   /* between progress reports and looks at cancellation */

static int derive_failed(enum sql_status s, const struct error *e, struct tool_error *err)
{
	switch (s) {
	case SQL_FORBIDDEN:
	case SQL_INVALID:
		return tool_fail(err, TOOL_ERR_ARGUMENT, "%s", e->msg);
	case SQL_TIMEOUT:
		return tool_fail(err, TOOL_ERR_TIMEOUT, "%s", e->msg);
	case SQL_CANCELLED:
		return tool_fail(err, TOOL_ERR_CANCELLED, "%s", e->msg);
	case SQL_TOO_BIG:
		return tool_fail(err, TOOL_ERR_TOO_BIG, "%s", e->msg);
	default:
		log_error("transform (tool): %s", e->msg);
		return tool_fail(err, TOOL_ERR_INTERNAL, "the transformation failed; see the "
				 "server log");
	}
}

/* The new dataset as it is now: 0 with out->result set, or -1. */
static int answer(struct tool_ctx *ctx, const char *id, struct tool_output *out,
		  struct tool_error *err)
{
	struct dataset_row row;
	if (tool_dataset_row(ctx, id, false, &row, err) < 0)
		return -1;
	out->result = dataset_json(&row, true);
	if (strcmp(row.status, "ready") == 0)
		out->summary = tool_printf("New dataset %s (%s): %lld rows and %lld columns.",
					   row.name, row.id, (long long)row.rows,
					   (long long)row.columns);
	else
		out->summary = tool_printf("New dataset %s (%s) is still %s; describe_dataset "
					   "shows when it is ready.", row.name, row.id, row.status);
	dataset_row_clear(&row);
	return 0;
}

/*
 * Waits for the ingest job of dataset id.  0 when it ended well or when
 * the job queue is stopping (the ingest then resumes at the next start),
 * -1 with err set when it failed, was cancelled, or the caller gave up
 * (the job is then cancelled).
 */
static int wait_ingest(struct tool_ctx *ctx, const char *id, const char *job_id,
		       struct tool_error *err)
{
	struct app *app = ctx->app;
	for (;;) {
		struct job_row job;
		struct error e;
		int64_t t0 = clock_mono_ns();
		int rc = jobs_wait(app->jobs, job_id, WAIT_SLICE_MS, &job, &e);
		if (rc < 0) {
			log_error("transform (tool): waiting for job %s: %s", job_id, e.msg);
			return tool_fail(err, TOOL_ERR_INTERNAL, "the new dataset's ingest could not "
					 "be followed; see the server log");
		}
		if (rc == 0) {
			int out = 0;
			if (strcmp(job.status, "failed") == 0)
				/* The job's own words: a problem in the rows, or ours. */
				out = tool_fail(err, strncmp(job.error, "internal error", 14) == 0
						? TOOL_ERR_INTERNAL : TOOL_ERR_ARGUMENT,
						"the new dataset %s could not be ingested: %s", id,
						job.error);
			else if (strcmp(job.status, "cancelled") == 0)
				out = tool_fail(err, TOOL_ERR_CANCELLED, "the ingest of the new dataset "
						"%s was cancelled", id);
			job_row_clear(&job);
			return out;
		}
		char msg[JOB_MESSAGE_MAX + 32];
		snprintf(msg, sizeof msg, "ingesting the new dataset%s%s", *job.message ? ": " : "",
			 job.message);
		tool_report(ctx, (double)job.progress / 10, 100, msg);
		job_row_clear(&job);
		if (tool_cancelled(ctx)) {
			enum store_rc cr = jobs_cancel(app->jobs, ctx->user_id, job_id, &e);
			if (cr == STORE_ERROR)
				log_error("transform (tool): cancelling job %s: %s", job_id, e.msg);
			if (cr == STORE_CONFLICT)
				return tool_fail(err, TOOL_ERR_CANCELLED, "cancelled, but the ingest of "
						 "the new dataset %s had ended meanwhile", id);
			return tool_fail(err, TOOL_ERR_CANCELLED, "cancelled; the new dataset %s is "
					 "left failed", id);
		}
		/* jobs_wait returns at once while the queue stops: answer with the
		 * dataset as it is rather than spin. */
		if ((clock_mono_ns() - t0) / 1000000 < WAIT_SLICE_MS / 2)
			return 0;
	}
}

static int transform(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		     struct tool_error *err)
{
	struct app *app = ctx->app;
	struct dataset_row src, row;
	const char *id = json_string_value(json_object_get(args, "dataset_id"));
	if (tool_dataset_row(ctx, id, true, &src, err) < 0)
		return -1;
	struct table *t = tool_dataset_open(ctx, &src, err);
	if (!t) {
		dataset_row_clear(&src);
		return -1;
	}
	char job_id[USER_ID_MAX + 1];
	struct error e;
	/* args is a transformation request with dataset_id besides, which
	 * dataset_derive does not read. */
	enum sql_status s = dataset_derive(app, ctx->user_id, &src, t, args, ctx->lim.stop,
					   ctx->lim.stop_arg, &row, job_id, &e);
	table_close(t);
	dataset_row_clear(&src);
	if (s != SQL_OK)
		return derive_failed(s, &e, err);
	jobs_notify(app->jobs);
	char new_id[USER_ID_MAX + 1];
	snprintf(new_id, sizeof new_id, "%s", row.id);
	dataset_row_clear(&row);
	tool_report(ctx, 0, 100, "ingesting the new dataset");
	if (wait_ingest(ctx, new_id, job_id, err) < 0)
		return -1;
	return answer(ctx, new_id, out, err);
}

static const struct tool transform_tool = {
	.name = "transform",
	.title = "Transform into a new dataset",
	.description = "Makes a new dataset (the caller's, parent_id the source) from steps over a "
		       "ready dataset, applied in order, and waits until it is ingested; the source "
		       "is not changed. Steps (each an object with op): filter {where: SQL "
		       "condition}; select {columns: [names]}; rename {columns: {old: new}}; derive "
		       "{name, expression: SQL expression}; sort {by: [{column, descending?}]}; "
		       "deduplicate {columns?: [names]}; join {dataset_id, on: [names] or [{left, "
		       "right}], how?: inner|left, columns?: [names]}; aggregate {by: [names], "
		       "aggregations: [{column?, function: sum|mean|count|min|max|median|std|"
		       "nunique, as?}]}; limit {n}. Expressions are SQLite over the current columns "
		       "(quote names with \"...\"). Returns the new dataset. Korean: 데이터 변환, "
		       "필터, 파생 변수, 집계, 조인, 정렬, 중복 제거, 새 데이터셋.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["dataset_id", "steps"], "properties": {
		"dataset_id": {"type": "string", "minLength": 1, "maxLength": 64,
			       "description": "The source dataset (ready)"},) DATASET_DERIVE_PROPERTIES
		"}}",
	.output_schema = TOOL_DATASET_SCHEMA,
	.read_only = false,
	.destructive = false,
	.scope = TOOL_ON_ACCOUNT,
	.run = transform,
};

const struct tool *const tools_transform[] = {
	&transform_tool,
	NULL,
};
