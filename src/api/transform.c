/*
 * POST /api/datasets/{dataset_id}/transform: steps (query/transform.h) over
 * one of the caller's datasets make a new dataset (datasets/derive.c),
 * ingested within the request when it is small (201), as a background job
 * otherwise (202, with progress).
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "tools/schema.h"

struct transform_job {
	json_t *body;
	struct dataset_row source;
};

static void job_free(struct transform_job *job)
{
	json_decref(job->body);
	dataset_row_clear(&job->source);
	free(job);
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

static void run_transform(struct request *req, void *arg)
{
	struct transform_job *job = arg;
	struct app *app = req->app;
	struct error e;
	struct table *t = api_open_dataset(req, &job->source);
	if (!t) {
		job_free(job);
		return;
	}
	struct dataset_row row;
	char job_id[USER_ID_MAX + 1];
	enum sql_status s = dataset_derive(app, req->user_id, &job->source, t, job->body, NULL,
					   NULL, &row, job_id, &e);
	table_close(t);
	if (s != SQL_OK) {
		reply_status(req, s, &e);
	} else if (row.size_bytes <= app->cfg->dataset_sync_bytes) {
		api_dataset_ingest_now(req, &row, job_id);
	} else {
		api_dataset_ingest_later(req, &row);
	}
	dataset_row_clear(&row);
	job_free(job);
}

void api_dataset_transform(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	json_t *schema = json_loads(dataset_derive_schema, 0, NULL);
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
	if (api_find_ready(req, &job->source) < 0) {
		job_free(job);
		return;
	}
	if (http_defer(req, run_transform, job) < 0)
		job_free(job);
}
