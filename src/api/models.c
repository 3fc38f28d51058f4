/*
 * Models: POST/GET /api/models, GET/DELETE /api/models/{model_id},
 * POST /api/models/{model_id}/predict and /predict/batch.
 *
 * Training is a job (registry/job.c): the request is checked here against
 * the dataset's columns (names, the query's result columns), so a typo is
 * a 422 now, not a failed job later; then the model row and its job are
 * recorded together and the answer is 202 with both ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "registry/registry.h"
#include "registry/train.h"

#define PREDICT_MAX_ROWS 10000    /* rows of one synchronous predict request */

static void reply_invalid(struct request *req, const struct error *e)
{
	http_reply_error(req, 422, "invalid_argument", "%s", e->msg);
}

void api_model_create(struct request *req)
{
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	struct train_request tr;
	struct error e;
	struct dataset_row ds = { 0 };
	struct table *t = NULL;
	if (train_request_parse(body, &tr, &e) < 0) {
		reply_invalid(req, &e);
		goto done;
	}
	if (!*tr.dataset_id) {
		http_reply_error(req, 422, "invalid_argument", "body.dataset_id: the dataset to "
				 "train on is required");
		goto done;
	}
	if (!id_user_valid(tr.dataset_id)) {
		http_reply_error(req, 404, "not_found", "no dataset %.64s", tr.dataset_id);
		goto done;
	}
	enum store_rc rc = store_dataset_get(req->app->store, req->user_id, tr.dataset_id, &ds, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no dataset %s", tr.dataset_id);
		goto done;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "read dataset", &e);
		goto done;
	}
	if (!(t = api_open_ready(req, &ds)))
		goto done;
	struct sql_limits lim = sql_limits_for(req->app->cfg, false);
	enum sql_status why;
	if (train_request_check(&tr, t, &lim, &why, &e) < 0) {
		if (why == SQL_FAILED) {
			log_error("model request (request %s): %s", req->request_id, e.msg);
			http_reply_error(req, 500, "internal", "the dataset could not be read; see "
					 "the server log");
		} else {
			reply_invalid(req, &e);
		}
		goto done;
	}

	struct model_row row = { 0 };
	struct job_row job = { 0 };
	int64_t now = clock_now_ms();
	id_random(row.id, 16);
	id_random(job.id, 16);
	snprintf(row.owner_id, sizeof row.owner_id, "%s", req->user_id);
	snprintf(row.name, sizeof row.name, "%s", tr.name);
	snprintf(row.dataset_id, sizeof row.dataset_id, "%s", ds.id);
	snprintf(row.target, sizeof row.target, "%s", tr.target);
	snprintf(row.task, sizeof row.task, "%s",
		 tr.spec.task == XGB_REGRESSION ? "regression" : "classification");
	snprintf(row.status, sizeof row.status, "training");
	snprintf(row.job_id, sizeof row.job_id, "%s", job.id);
	row.spec = json_dumps(tr.json, JSON_COMPACT);
	row.created_at = row.updated_at = now;
	snprintf(job.owner_id, sizeof job.owner_id, "%s", req->user_id);
	snprintf(job.kind, sizeof job.kind, MODEL_TRAIN_KIND);
	snprintf(job.message, sizeof job.message, "queued");
	job.payload = "{}";
	job.created_at = now;
	rc = store_model_create(req->app->store, &row, &job, &e);
	if (rc != STORE_OK) {
		api_store_failed(req, "record model", &e);
		free(row.spec);
		goto done;
	}
	jobs_notify(req->app->jobs);
	log_fields(LOG_INFO, "model_training_queued", LOG_STR("model_id", row.id),
		   LOG_STR("dataset_id", ds.id), LOG_STR("request_id", req->request_id));
	char url[128];
	snprintf(url, sizeof url, "/api/models/%s", row.id);
	http_add_header(req, "Location", url);
	http_reply_json(req, 202, registry_model_json(&row));
	free(row.spec);
done:
	table_close(t);
	dataset_row_clear(&ds);
	train_request_free(&tr);
	json_decref(body);
}

void api_model_list(struct request *req)
{
	long long limit, offset;
	if (http_query_int(req, "limit", 20, 1, 100, &limit) ||
	    http_query_int(req, "offset", 0, 0, 1LL << 40, &offset))
		return;
	struct model_row *rows;
	size_t n;
	int64_t total;
	struct error e;
	if (store_model_list(req->app->store, req->user_id, limit, offset, &rows, &n, &total, &e) !=
	    STORE_OK) {
		api_store_failed(req, "list models", &e);
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, registry_model_json(&rows[i]));
	model_rows_free(rows, n);
	http_reply_json(req, 200, json_pack("{s:o, s:I, s:I, s:I}", "models", list, "total",
					    (json_int_t)total, "limit", (json_int_t)limit,
					    "offset", (json_int_t)offset));
}

/* The caller's model named by {model_id}: 0, or -1 after replying. */
static int find_model(struct request *req, struct model_row *row)
{
	row->spec = row->info = NULL;
	const char *id = api_path_id(req, "model_id", "a model id");
	if (!id)
		return -1;
	struct error e;
	enum store_rc rc = store_model_get(req->app->store, req->user_id, id, row, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no model %s", id);
		return -1;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "read model", &e);
		return -1;
	}
	return 0;
}

void api_model_get(struct request *req)
{
	struct model_row row;
	if (find_model(req, &row))
		return;
	http_reply_json(req, 200, registry_model_json(&row));
	model_row_clear(&row);
}

void api_model_delete(struct request *req)
{
	const char *id = api_path_id(req, "model_id", "a model id");
	if (!id)
		return;
	struct store_keys keys = { 0 };
	struct error e;
	enum store_rc rc = store_model_delete(req->app->store, req->user_id, id, &keys, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no model %s", id);
	} else if (rc != STORE_OK) {
		api_store_failed(req, "delete model", &e);
	} else {
		for (size_t i = 0; i < keys.n; i++)
			model_cache_forget(req->app->models, keys.keys[i]);
		api_remove_objects(req, &keys);
		log_fields(LOG_INFO, "model_deleted", LOG_STR("model_id", id),
			   LOG_STR("request_id", req->request_id));
		http_reply_empty(req, 204);
		return;
	}
	store_keys_free(&keys);
}

/* The rows of a predict body {"rows": [...]}: borrowed from body, or NULL
 * after replying. */
static const json_t *body_rows(struct request *req, json_t *body, const char *field,
			       size_t max)
{
	const json_t *rows = json_object_get(body, field);
	if (!json_is_array(rows)) {
		http_reply_error(req, 422, "invalid_argument", "body.%s: an array of rows (objects "
				 "of column values) is required", field);
		return NULL;
	}
	if (json_array_size(rows) > max) {
		http_reply_error(req, 413, "too_many_rows", "body.%s: %zu rows; at most %zu in one "
				 "request", field, json_array_size(rows), max);
		return NULL;
	}
	return rows;
}

/* The caller's ready model, warm; NULL after replying. */
static struct model *ready_model(struct request *req, struct model_row *row)
{
	struct error e;
	struct model *m = NULL;
	switch (registry_ready(req->app, row, &m, &e)) {
	case REGISTRY_OK:
		break;
	case REGISTRY_NOT_READY:
		http_reply_error(req, 409, "not_ready", "%s", e.msg);
		break;
	case REGISTRY_NOT_FOUND:
		http_reply_error(req, 404, "not_found", "%s", e.msg);
		break;
	default:
		log_error("loading model %s (request %s): %s", row->id, req->request_id, e.msg);
		http_reply_error(req, 500, "internal", "the model could not be loaded; see the "
				 "server log");
	}
	return m;
}

void api_model_predict(struct request *req)
{
	struct model_row row;
	if (find_model(req, &row))
		return;
	json_t *body = NULL;
	struct model *m = NULL;
	const json_t *rows;
	if (http_json_body(req, false, &body) || !(rows = body_rows(req, body, "rows",
								     PREDICT_MAX_ROWS)))
		goto done;
	if (!(m = ready_model(req, &row)))
		goto done;
	struct error e;
	int64_t t0 = clock_mono_ns();
	json_t *pred = model_predict(m, rows, &e);
	if (!pred) {
		http_reply_error(req, 422, "invalid_argument", "body.%s", e.msg);
		goto done;
	}
	http_reply_json(req, 200, json_pack("{s:o, s:s, s:I, s:I}", "predictions", pred,
					    "model_id", row.id, "version",
					    (json_int_t)row.version, "elapsed_us",
					    (json_int_t)((clock_mono_ns() - t0) / 1000)));
done:
	registry_put(req->app, m);
	json_decref(body);
	model_row_clear(&row);
}

/* Queues a batch job over rows and replies 202 {batch_id, status, total,
 * results_url, estimated_completion}; 429 when SHEAF_BATCH_MAX_QUEUED are
 * already waiting or running. */
void api_batch_enqueue(struct request *req, const char *model_id, const char *preset,
		       json_t *rows)
{
	struct job_row job = { 0 };
	struct error e;
	int64_t now = clock_now_ms();
	id_random(job.id, 16);
	snprintf(job.owner_id, sizeof job.owner_id, "%s", req->user_id);
	snprintf(job.kind, sizeof job.kind, PREDICT_BATCH_KIND);
	snprintf(job.subject_id, sizeof job.subject_id, "%s", model_id ? model_id : "");
	snprintf(job.message, sizeof job.message, "queued");
	job.payload = registry_batch_payload(model_id, preset, rows);
	job.created_at = now;
	enum store_rc rc = store_job_create_bounded(req->app->store, &job,
						    req->app->cfg->batch_max_queued, &e);
	free(job.payload);
	if (rc == STORE_FULL) {
		http_add_header(req, "Retry-After", "5");
		http_reply_error(req, 429, "queue_full", "%lld batches are queued or running (the "
				 "limit, SHEAF_BATCH_MAX_QUEUED); try again shortly",
				 req->app->cfg->batch_max_queued);
		return;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "queue batch", &e);
		return;
	}
	jobs_notify(req->app->jobs);
	size_t n = json_array_size(rows);
	char url[128], eta[RFC3339_LEN];
	snprintf(url, sizeof url, "/api/predict/batch/%s/results", job.id);
	http_add_header(req, "Location", url);
	/* A generous guess: rows go at tens of thousands a second; the queue
	 * ahead is not counted. */
	http_reply_json(req, 202, json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "batch_id", job.id,
					    "job_id", job.id, "status", "pending", "total",
					    (json_int_t)n, "results_url", url,
					    "estimated_completion",
					    clock_rfc3339(now + 1000 + (int64_t)n / 10, eta)));
}

void api_model_predict_batch(struct request *req)
{
	struct model_row row;
	if (find_model(req, &row))
		return;
	json_t *body = NULL;
	const json_t *rows;
	if (http_json_body(req, false, &body) ||
	    !(rows = body_rows(req, body, "rows", (size_t)req->app->cfg->batch_max_rows)))
		goto done;
	if (strcmp(row.status, "ready") != 0) {
		http_reply_error(req, 409, "not_ready", "model %s is %s", row.id, row.status);
		goto done;
	}
	api_batch_enqueue(req, row.id, NULL, (json_t *)rows);
done:
	json_decref(body);
	model_row_clear(&row);
}
