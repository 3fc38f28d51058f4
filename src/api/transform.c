/*
 * POST /api/datasets/{dataset_id}/transform: steps (query/transform.h) over
 * one of the caller's datasets make a new dataset, owned by the caller,
 * whose parent_id is the source.
 *
 * The steps compile into one sandboxed SELECT; its rows are written as a
 * CSV file (UTF-8, a header row), which becomes the new dataset's original
 * object, and the new dataset is then ingested like an upload of that file:
 * within the request when it is small (201), as a background job otherwise
 * (202, with progress).  Types are inferred again from the rows, so a real
 * column whose values are all whole numbers comes back as integer.  The
 * steps are kept in the dataset's options for lineage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/id.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "datasets/render.h"
#include "query/transform.h"
#include "tools/schema.h"

#define JSON(...) #__VA_ARGS__
#define CHUNK (1 << 16)   /* bytes of CSV written at a time */

/* The request body: checked with tools/schema.c before anything runs. */
static const char body_schema[] = JSON({
	"type": "object", "additionalProperties": false, "required": ["steps"],
	"properties": {
		"name": {"type": "string", "minLength": 1, "maxLength": 200},
		"description": {"type": "string", "maxLength": 2000},
		"steps": {"type": "array", "minItems": 1, "maxItems": 32, "items": {
			"type": "object", "required": ["op"],
			"properties": {
				"op": {"enum": ["filter", "select", "rename", "derive", "sort",
						"deduplicate", "join", "aggregate", "limit"]},
				"where": {"type": "string", "minLength": 1},
				"columns": {"type": ["array", "object"]},
				"name": {"type": "string", "minLength": 1},
				"expression": {"type": "string", "minLength": 1},
				"by": {"type": "array", "minItems": 1, "maxItems": 16},
				"dataset_id": {"type": "string", "minLength": 1},
				"on": {"type": "array", "minItems": 1, "maxItems": 16},
				"how": {"enum": ["inner", "left"]},
				"aggregations": {"type": "array", "minItems": 1, "maxItems": 64, "items": {
					"type": "object", "required": ["function"], "additionalProperties": false,
					"properties": {
						"column": {"type": "string"},
						"function": {"enum": ["sum", "mean", "count", "min", "max",
								      "median", "std", "nunique"]},
						"as": {"type": "string", "minLength": 1}}}},
				"n": {"type": "integer", "minimum": 1}},
			"additionalProperties": false}}}
});

struct transform_job {
	json_t *body;
	struct dataset_row source;
	char user_id[USER_ID_MAX + 1];
	struct app *app;
};

static void job_free(struct transform_job *job)
{
	json_decref(job->body);
	dataset_row_clear(&job->source);
	free(job);
}

/* A join's dataset: the caller's own and ready. */
static struct table *open_joined(void *arg, const char *id, struct error *e)
{
	struct transform_job *job = arg;
	struct dataset_row row;
	struct error se;
	if (!id_user_valid(id)) {
		error_set(e, "dataset_id %.40s is not a dataset id", id);
		return NULL;
	}
	enum store_rc rc = store_dataset_get(job->app->store, job->user_id, id, &row, &se);
	if (rc == STORE_NOT_FOUND) {
		error_set(e, "no dataset %.40s to join", id);
		return NULL;
	}
	if (rc != STORE_OK) {
		error_set(e, "the dataset %.40s could not be read: %.300s", id, se.msg);
		return NULL;
	}
	struct table *t = NULL;
	if (strcmp(row.status, "ready") != 0)
		error_set(e, "dataset %.40s is %s, not ready to join", id, row.status);
	else
		t = dataset_open(job->app, &row, e);
	dataset_row_clear(&row);
	return t;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Runs the plan and writes its rows as CSV to path.  SQL_OK with *bytes,
 * or a status with e set. */
static enum sql_status write_csv(struct table *t, const struct transform_plan *plan,
				 const struct sql_limits *lim, const char *path, int64_t *bytes,
				 struct error *e)
{
	struct sql_query *q;
	enum sql_status s = sql_prepare_joined(t, plan->att, plan->natt, plan->sql, NULL, lim, &q, e);
	if (s != SQL_OK)
		return s;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		error_set(e, "cannot write %s: %s", path, strerror(errno));
		sql_close(q);
		return SQL_FAILED;
	}
	size_t n = sql_ncols(q);
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	enum column_kind *kinds = xcalloc(n ? n : 1, sizeof *kinds);
	for (size_t i = 0; i < n; i++) {
		names[i] = sql_name(q, i);
		kinds[i] = sql_kind(q, i);
	}
	struct render_export *x = render_new(sql_take_stmt(q), n, names, kinds, RENDER_CSV, -1,
					     NULL);
	free(names);
	free(kinds);
	char *buf = xmalloc(CHUNK);
	*bytes = 0;
	for (;;) {
		struct error re;
		sql_enter(q);
		ssize_t got = render_read(x, buf, CHUNK, &re);
		sql_leave(q);
		if (got < 0) {
			s = sql_failure(q, e);
			break;
		}
		if (got == 0)
			break;
		if (write_all(fd, buf, (size_t)got) < 0) {
			error_set(e, "cannot write %s: %s", path, strerror(errno));
			s = SQL_FAILED;
			break;
		}
		*bytes += got;
	}
	free(buf);
	render_free(x);
	sql_close(q);
	if (close(fd) < 0 && s == SQL_OK) {
		error_set(e, "cannot write %s: %s", path, strerror(errno));
		s = SQL_FAILED;
	}
	if (s != SQL_OK)
		unlink(path);
	return s;
}

static void reply_status(struct request *req, enum sql_status s, const struct error *e)
{
	switch (s) {
	case SQL_FORBIDDEN:
	case SQL_INVALID:
		http_reply_error(req, 400, "bad_transform", "%s", e->msg);
		break;
	case SQL_TIMEOUT:
		http_reply_error(req, 422, "query_timeout", "%s", e->msg);
		break;
	case SQL_TOO_BIG:
		http_reply_error(req, 422, "query_too_big", "%s", e->msg);
		break;
	default:
		log_error("transform (request %s): %s", req->request_id, e->msg);
		http_reply_error(req, 500, "internal", "the transformation failed; see the server "
				 "log");
	}
}

/* The new dataset's row, before it is recorded. */
static void new_row(struct transform_job *job, struct dataset_row *row, int64_t bytes)
{
	const struct dataset_row *src = &job->source;
	json_t *body = job->body;
	memset(row, 0, sizeof *row);
	id_random(row->id, 16);
	snprintf(row->owner_id, sizeof row->owner_id, "%s", job->user_id);
	const char *name = json_string_value(json_object_get(body, "name"));
	const char *desc = json_string_value(json_object_get(body, "description"));
	if (name)
		snprintf(row->name, sizeof row->name, "%s", name);
	else
		snprintf(row->name, sizeof row->name, "%.*s (transformed)",
			 (int)(sizeof row->name - 16), src->name);
	snprintf(row->description, sizeof row->description, "%s", desc ? desc : "");
	char base[sizeof row->source_name - 20];
	dataset_default_name(src->source_name, base, sizeof base);
	snprintf(row->source_name, sizeof row->source_name, "%s-transformed.csv", base);
	snprintf(row->format, sizeof row->format, "csv");
	snprintf(row->parent_id, sizeof row->parent_id, "%s", src->id);
	row->size_bytes = bytes;
	dataset_original_key(row->owner_id, row->id, row->original_key, sizeof row->original_key);
	json_t *opt = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:O}}", "format", "csv",
				"encoding", "utf-8", "delimiter", ",", "header", "yes",
				"transform", "parent_id", src->id, "steps",
				json_object_get(body, "steps"));
	row->options = json_dumps(opt, JSON_COMPACT);
	json_decref(opt);
}

static void run_transform(struct request *req, void *arg)
{
	struct transform_job *job = arg;
	struct app *app = req->app;
	const struct config *cfg = app->cfg;
	struct error e;
	struct table *t = api_open_dataset(req, &job->source);
	if (!t) {
		job_free(job);
		return;
	}
	struct sql_limits lim = api_query_limits(cfg, true);
	struct transform_plan plan;
	enum sql_status s = transform_compile(t, json_object_get(job->body, "steps"), &lim,
					      open_joined, job, &plan, &e);
	struct dataset_row row = { 0 };
	char spool[4096] = "", job_id[USER_ID_MAX + 1];
	int64_t bytes = 0;
	if (s != SQL_OK) {
		reply_status(req, s, &e);
		goto out;
	}
	new_row(job, &row, 0);
	if (dataset_spool_path(app, row.id, spool, sizeof spool, &e) < 0) {
		reply_status(req, SQL_FAILED, &e);
		spool[0] = 0;
		goto out;
	}
	s = write_csv(t, &plan, &lim, spool, &bytes, &e);
	if (s != SQL_OK) {
		spool[0] = 0;
		reply_status(req, s, &e);
		goto out;
	}
	row.size_bytes = bytes;
	/* The CSV is the new dataset's original: moved into local storage, or
	 * copied to S3 with the spool kept for the ingest job. */
	bool moved = false;
	sweep_guard_add(app->uploading, row.original_key);
	if (blob_adopt(app->blob, row.original_key, spool, &moved, &e) != BLOB_OK) {
		sweep_guard_remove(app->uploading, row.original_key);
		reply_status(req, SQL_FAILED, &e);
		goto out;
	}
	if (moved)
		spool[0] = 0;
	int rc = api_dataset_enqueue(req, &row, spool, job_id);
	sweep_guard_remove(app->uploading, row.original_key);
	if (rc < 0) {
		blob_remove(app->blob, row.original_key, NULL);
		goto out;
	}
	spool[0] = 0;   /* the job owns it now */
	log_fields(LOG_INFO, "dataset_transformed", LOG_STR("dataset_id", row.id),
		   LOG_STR("parent_id", job->source.id), LOG_INT("bytes", bytes),
		   LOG_STR("request_id", req->request_id));
	if (bytes <= cfg->dataset_sync_bytes)
		api_dataset_ingest_now(req, &row, job_id);
	else
		api_dataset_ingest_later(req, &row);
out:
	if (*spool)
		unlink(spool);
	free(row.options);
	transform_plan_free(&plan);
	table_close(t);
	job_free(job);
}

void api_dataset_transform(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	json_t *schema = json_loads(body_schema, 0, NULL);
	struct error e;
	int bad = schema_validate(schema, body, "body", &e);
	json_decref(schema);
	if (bad) {
		http_reply_error(req, 422, "invalid_field", "%s", e.msg);
		json_decref(body);
		return;
	}
	struct transform_job *job = xcalloc(1, sizeof *job);
	job->body = body;
	job->app = req->app;
	snprintf(job->user_id, sizeof job->user_id, "%s", req->user_id);
	if (api_find_ready(req, &job->source) < 0) {
		job_free(job);
		return;
	}
	if (http_defer(req, run_transform, job) < 0)
		job_free(job);
}
