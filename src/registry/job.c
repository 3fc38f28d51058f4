/*
 * The registry's models as the API and the tools show and load them, and
 * its jobs: training a model, and predicting a batch of rows.
 */
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "models/eclo.h"
#include "registry/cache.h"
#include "registry/train.h"

void model_object_key(const char *owner, const char *id, char *out, size_t cap)
{
	snprintf(out, cap, "models/%s/%s.model", owner, id);
}

struct model *registry_get(struct app *app, const struct model_row *row, struct error *e)
{
	if (strcmp(row->status, "ready") != 0 || !*row->storage_key) {
		error_set(e, "model %s is %s", row->id, row->status);
		return NULL;
	}
	return model_cache_get(app->models, app->blob, row->storage_key, e);
}

void registry_put(struct app *app, struct model *m)
{
	model_cache_put(app->models, m);
}

enum registry_status registry_ready(struct app *app, const struct model_row *row,
				    struct model **m, struct error *e)
{
	*m = NULL;
	if (strcmp(row->status, "ready") != 0) {
		error_set(e, "model %s is %s%s%s", row->id, row->status, *row->error ? ": " : "",
			  row->error);
		return REGISTRY_NOT_READY;
	}
	if ((*m = registry_get(app, row, e)))
		return REGISTRY_OK;
	/* Deleted since its row was read: its object is gone too. */
	struct model_row again = { 0 };
	struct error ge;
	if (store_model_get(app->store, row->owner_id, row->id, &again, &ge) == STORE_NOT_FOUND) {
		error_set(e, "no model %s", row->id);
		return REGISTRY_NOT_FOUND;
	}
	model_row_clear(&again);
	return REGISTRY_FAILED;
}

json_t *registry_model_json(const struct model_row *r)
{
	char created[RFC3339_LEN], updated[RFC3339_LEN];
	/* "s?" writes null for NULL: no error shows as null. */
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:s?, s:s, s:I, "
			      "s:s, s:s}",
			      "id", r->id, "model_id", r->id, "name", r->name, "version",
			      (json_int_t)r->version, "dataset_id", r->dataset_id, "target",
			      r->target, "task", r->task, "status", r->status, "progress",
			      (json_int_t)(r->progress / 10), "error", *r->error ? r->error : NULL,
			      "job_id", r->job_id, "size_bytes", (json_int_t)r->size_bytes,
			      "created_at", clock_rfc3339(r->created_at, created), "updated_at",
			      clock_rfc3339(r->updated_at, updated));
	json_t *spec = json_loads(r->spec ? r->spec : "{}", 0, NULL);
	json_object_set_new(o, "request", spec ? spec : json_object());
	json_t *info = r->info ? json_loads(r->info, 0, NULL) : NULL;
	static const char *const copied[] = { "features", "classes", "log_target", "params",
					      "validation", "training_rows", "importance",
					      "training_ms", "xgboost", "dataset_version" };
	for (size_t i = 0; info && i < sizeof copied / sizeof copied[0]; i++) {
		json_t *v = json_object_get(info, copied[i]);
		if (v)
			json_object_set(o, copied[i], v);
	}
	json_decref(info);
	return o;
}

char *registry_batch_payload(const char *model_id, const char *preset, json_t *rows)
{
	/* "total" first: registry_batch_total reads it without parsing rows. */
	json_t *p = json_pack("{s:I, s:O}", "total", (json_int_t)json_array_size(rows), "rows",
			      rows);
	if (model_id)
		json_object_set_new(p, "model_id", json_string(model_id));
	if (preset)
		json_object_set_new(p, "preset", json_string(preset));
	char *text = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return text;
}

long long registry_batch_total(const char *payload)
{
	long long n = 0;
	return payload && sscanf(payload, "{\"total\":%lld", &n) == 1 ? n : 0;
}

static enum job_outcome internal_failure(const char *what, const char *id, struct error *e)
{
	log_error("%s %s: %s", what, id, e->msg);
	error_set(e, "internal error while %s; see the server log", what);
	return JOB_FAILED;
}

/* ---- training ---------------------------------------------------------- */

static bool on_train_progress(void *arg, int per_mille)
{
	return !job_progress(arg, per_mille, per_mille < 50 ? "reading the data" : "training");
}

/* Writes the model's bytes as key. */
static int store_bytes(struct app *app, const char *key, const char *data, size_t len,
		       struct error *e)
{
	struct blob_writer *w = blob_writer_open(app->blob, key, e);
	if (!w)
		return -1;
	if (blob_writer_write(w, data, len, e) != BLOB_OK) {
		blob_writer_abort(w);
		return -1;
	}
	return blob_writer_commit(w, NULL, e) == BLOB_OK ? 0 : -1;
}

static enum job_outcome train_run(struct job_ctx *ctx, const struct job_row *job, void *arg,
				  char **result, struct error *e)
{
	struct app *app = arg;
	struct model_row row;
	enum store_rc rc = store_model_get(app->store, job->owner_id, job->subject_id, &row, e);
	if (rc == STORE_NOT_FOUND)
		return JOB_CANCELLED;   /* deleted before it ran */
	if (rc != STORE_OK)
		return internal_failure("reading the model's record", job->subject_id, e);
	if (strcmp(row.status, "training") != 0) {
		model_row_clear(&row);
		return JOB_DONE;
	}
	job_progress(ctx, 0, "starting");
	enum job_outcome out = JOB_FAILED;
	struct train_request req;
	struct dataset_row ds = { 0 };
	struct table *t = NULL;
	struct model *m = NULL;
	char *bytes = NULL;
	json_t *spec = json_loads(row.spec, 0, NULL);
	memset(&req, 0, sizeof req);
	if (!spec || train_request_parse(spec, &req, e) < 0) {
		if (!spec)
			error_set(e, "the stored request is not JSON");
		out = internal_failure("reading the training request", row.id, e);
		goto done;
	}
	rc = store_dataset_get(app->store, job->owner_id, req.dataset_id, &ds, e);
	if (rc == STORE_NOT_FOUND) {
		error_set(e, "dataset %s was deleted before training began", req.dataset_id);
		goto done;
	}
	if (rc != STORE_OK) {
		out = internal_failure("reading the dataset's record", row.id, e);
		goto done;
	}
	if (strcmp(ds.status, "ready") != 0) {
		error_set(e, "dataset %s is %s, not ready", ds.id, ds.status);
		goto done;
	}
	if (!(t = dataset_open(app, &ds, e))) {
		out = internal_failure("opening the dataset", row.id, e);
		goto done;
	}
	/* Training reads the whole table: the streaming limits apply. */
	struct sql_limits lim = {
		.time_ms = app->cfg->query_stream_timeout_ms,
		.memory_bytes = app->cfg->query_memory,
		.max_value_bytes = app->cfg->query_max_value,
	};
	enum sql_status why;
	m = train_on_table(&req, t, ds.data_key, app->frames, &lim, on_train_progress, ctx, &why,
			   e);
	if (!m) {
		if (job_should_stop(ctx))
			out = JOB_CANCELLED;
		else if (why == SQL_FAILED)
			out = internal_failure("reading the dataset", row.id, e);
		goto done;
	}
	size_t len;
	if (model_save(m, &bytes, &len, e) < 0) {
		out = internal_failure("saving the model", row.id, e);
		goto done;
	}
	model_object_key(row.owner_id, row.id, row.storage_key, sizeof row.storage_key);
	if (store_bytes(app, row.storage_key, bytes, len, e) < 0) {
		out = internal_failure("storing the model", row.id, e);
		goto done;
	}
	json_t *info = model_info(m);
	json_object_set_new(info, "dataset_version", json_integer(ds.version));
	row.info = json_dumps(info, JSON_COMPACT);
	row.size_bytes = (int64_t)len;
	rc = store_model_ready(app->store, &row, clock_now_ms(), e);
	if (rc != STORE_OK) {
		struct error re;
		if (blob_remove(app->blob, row.storage_key, &re) == BLOB_ERROR)
			log_warn("removing model %s: %s", row.storage_key, re.msg);
		json_decref(info);
		if (rc == STORE_ERROR)
			out = internal_failure("recording the model", row.id, e);
		else
			out = JOB_CANCELLED;   /* deleted while training */
		goto done;
	}
	json_t *res = json_pack("{s:s, s:I, s:O}", "model_id", row.id, "version",
				(json_int_t)row.version, "validation",
				json_object_get(info, "validation"));
	*result = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	json_decref(info);
	out = JOB_DONE;
done:
	free(bytes);
	model_free(m);
	table_close(t);
	dataset_row_clear(&ds);
	train_request_free(&req);
	json_decref(spec);
	model_row_clear(&row);
	return out;
}

static void train_failed(const struct job_row *job, const char *error, void *arg)
{
	struct app *app = arg;
	struct error e;
	enum store_rc rc = store_model_fail(app->store, job->owner_id, job->subject_id,
					    error && *error ? error : "training was stopped",
					    clock_now_ms(), &e);
	if (rc == STORE_ERROR)
		log_error("marking model %s failed: %s", job->subject_id, e.msg);
}

const struct job_kind model_train_kind = {
	.name = MODEL_TRAIN_KIND,
	.run = train_run,
	.on_failed = train_failed,
};

/* ---- batch prediction -------------------------------------------------- */

/* Items for rows[from..to) of a general model: {"index","prediction","error"}. */
static int model_items(struct model *m, const json_t *rows, size_t from, size_t to, json_t *out,
		       struct error *e)
{
	size_t n = to - from;
	json_t *part = json_array();
	for (size_t i = from; i < to; i++)
		json_array_append(part, json_array_get(rows, i));
	char **errors = xcalloc(n + 1, sizeof *errors);
	json_t *pred = model_predict_each(m, part, errors, e);
	for (size_t i = 0; pred && i < n; i++) {
		json_array_append_new(out, json_pack("{s:I, s:O, s:o}", "index",
						     (json_int_t)(from + i + 1), "prediction",
						     json_array_get(pred, i), "error",
						     errors[i] ? json_string(errors[i])
							       : json_null()));
	}
	for (size_t i = 0; i < n; i++)
		free(errors[i]);
	free(errors);
	json_decref(part);
	if (!pred)
		return -1;
	json_decref(pred);
	return 0;
}

static enum job_outcome batch_run(struct job_ctx *ctx, const struct job_row *job, void *arg,
				  char **result, struct error *e)
{
	struct app *app = arg;
	json_t *payload = json_loads(job->payload ? job->payload : "{}", JSON_ALLOW_NUL, NULL);
	const json_t *rows = json_object_get(payload, "rows");
	const char *model_id = json_string_value(json_object_get(payload, "model_id"));
	const char *preset = json_string_value(json_object_get(payload, "preset"));
	struct model *m = NULL;
	const struct eclo *eclo = NULL;
	enum job_outcome out = JOB_FAILED;
	if (!json_is_array(rows)) {
		error_set(e, "the batch has no rows");
		goto done;
	}
	if (preset && strcmp(preset, "eclo") == 0) {
		if (!(eclo = app->eclo)) {
			error_set(e, "this server has no ECLO model");
			goto done;
		}
	} else if (model_id) {
		struct model_row row;
		enum store_rc rc = store_model_get(app->store, job->owner_id, model_id, &row, e);
		if (rc == STORE_NOT_FOUND) {
			error_set(e, "model %s was deleted", model_id);
			goto done;
		}
		if (rc != STORE_OK) {
			out = internal_failure("reading the model's record", model_id, e);
			goto done;
		}
		m = registry_get(app, &row, e);
		model_row_clear(&row);
		if (!m)
			goto done;
	} else {
		error_set(e, "the batch names no model");
		goto done;
	}
	size_t n = json_array_size(rows);
	json_t *items = json_array();
	char msg[80];
	for (size_t at = 0; at < n; at += BATCH_CHUNK) {
		snprintf(msg, sizeof msg, "predicted %zu of %zu", at, n);
		if (job_progress(ctx, (int64_t)(at * 1000 / (n ? n : 1)), msg)) {
			json_decref(items);
			out = JOB_CANCELLED;
			goto done;
		}
		size_t to = at + BATCH_CHUNK < n ? at + BATCH_CHUNK : n;
		int rc = eclo ? eclo_predict_items(eclo, rows, at, to, items, e)
			      : model_items(m, rows, at, to, items, e);
		if (rc < 0) {
			json_decref(items);
			out = internal_failure("predicting", job->id, e);
			goto done;
		}
	}
	json_t *res = json_pack("{s:o}", "results", items);
	*result = json_dumps(res, JSON_COMPACT);
	json_decref(res);
	out = JOB_DONE;
done:
	if (m)
		registry_put(app, m);
	json_decref(payload);
	return out;
}

const struct job_kind predict_batch_kind = {
	.name = PREDICT_BATCH_KIND,
	.run = batch_run,
};
