/*
 * Jobs: GET /api/jobs/{job_id} (state, progress, result) and
 * DELETE /api/jobs/{job_id} (cancel), for every kind -- ingestion,
 * training, batch prediction -- and the batch results of seed 003,
 * GET /api/predict/batch/{batch_id}/results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "registry/registry.h"

static json_t *time_or_null(int64_t ms)
{
	char ts[RFC3339_LEN];
	return ms ? json_string(clock_rfc3339(ms, ts)) : json_null();
}

json_t *api_job_json(const struct job_row *j)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:o, s:I, s:b, s:o, s:o, s:o}",
			      "id", j->id, "job_id", j->id, "kind", j->kind, "subject_id",
			      j->subject_id, "status", j->status, "progress",
			      (json_int_t)(j->progress / 10), "message", j->message, "error",
			      *j->error ? json_string(j->error) : json_null(), "attempts",
			      (json_int_t)j->attempts, "cancel_requested", j->cancel_requested,
			      "created_at", time_or_null(j->created_at), "started_at",
			      time_or_null(j->started_at), "finished_at",
			      time_or_null(j->finished_at));
	json_t *result = j->result ? json_loads(j->result, JSON_ALLOW_NUL, NULL) : NULL;
	json_object_set_new(o, "result", result ? result : json_null());
	return o;
}

/* The caller's job named by {name}: 0, or -1 after replying 404.  Someone
 * else's job is "no such job", like one that does not exist. */
static int find_job(struct request *req, const char *param, const char *kind,
		    struct job_row *row)
{
	row->payload = row->result = NULL;
	const char *id = api_path_id(req, param, "a job id");
	if (!id)
		return -1;
	struct error e;
	enum store_rc rc = store_job_get(req->app->store, id, row, &e);
	if (rc == STORE_OK && (strcmp(row->owner_id, req->user_id) != 0 ||
			       (kind && strcmp(row->kind, kind) != 0))) {
		job_row_clear(row);
		rc = STORE_NOT_FOUND;
	}
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no %s %s", kind ? "batch" : "job", id);
		return -1;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "read job", &e);
		return -1;
	}
	return 0;
}

void api_job_get(struct request *req)
{
	struct job_row row;
	if (find_job(req, "job_id", NULL, &row))
		return;
	http_reply_json(req, 200, api_job_json(&row));
	job_row_clear(&row);
}

void api_job_cancel(struct request *req)
{
	const char *id = api_path_id(req, "job_id", "a job id");
	if (!id)
		return;
	struct error e;
	enum store_rc rc = jobs_cancel(req->app->jobs, req->user_id, id, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no job %s", id);
		return;
	}
	if (rc == STORE_CONFLICT) {
		http_reply_error(req, 409, "already_finished", "job %s has already finished", id);
		return;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "cancel job", &e);
		return;
	}
	struct job_row row;
	if (find_job(req, "job_id", NULL, &row))
		return;
	/* A queued job is cancelled now; a running one stops at its next
	 * progress report. */
	http_reply_json(req, 202, api_job_json(&row));
	job_row_clear(&row);
}

/* Seed 003's names for a batch's states. */
static const char *batch_status(const char *job_status)
{
	if (strcmp(job_status, "queued") == 0)
		return "pending";
	if (strcmp(job_status, "running") == 0)
		return "processing";
	if (strcmp(job_status, "done") == 0)
		return "success";
	return job_status;   /* failed, cancelled */
}

void api_batch_results(struct request *req)
{
	struct job_row row;
	if (find_job(req, "batch_id", PREDICT_BATCH_KIND, &row))
		return;
	long long total = registry_batch_total(row.payload);
	const char *status = batch_status(row.status);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:o}", "batch_id", row.id,
			      "status", status, "progress", (json_int_t)(row.progress / 10),
			      "total", (json_int_t)total, "processed",
			      (json_int_t)(row.progress * total / 1000), "message", row.message,
			      "created_at", time_or_null(row.created_at), "finished_at",
			      time_or_null(row.finished_at));
	if (strcmp(row.status, "failed") == 0 || strcmp(row.status, "cancelled") == 0)
		json_object_set_new(o, "error", json_string(*row.error ? row.error
								 : "cancelled by its owner"));
	static const char lead[] = "{\"results\":";
	size_t rlen = row.result ? strlen(row.result) : 0;
	if (strcmp(row.status, "done") != 0 || rlen < sizeof lead ||
	    memcmp(row.result, lead, sizeof lead - 1) != 0 || row.result[rlen - 1] != '}') {
		http_reply_json(req, 200, o);
		job_row_clear(&row);
		return;
	}
	/* Done: the stored results array goes out as it is, spliced after the
	 * other fields (tens of megabytes are not parsed and printed again). */
	json_object_set_new(o, "message", json_string("Batch prediction completed."));
	char *head = http_json_text(o);
	json_decref(o);
	size_t hlen = strlen(head), items = rlen - (sizeof lead - 1) - 1;
	char *out = xmalloc(hlen + sizeof ",\"results\":" + items + 2);
	size_t at = hlen - 1;   /* without the closing brace */
	memcpy(out, head, at);
	memcpy(out + at, ",\"results\":", sizeof ",\"results\":" - 1);
	at += sizeof ",\"results\":" - 1;
	memcpy(out + at, row.result + sizeof lead - 1, items);
	at += items;
	out[at++] = '}';
	free(head);
	job_row_clear(&row);
	http_reply_owned(req, 200, "application/json", out, at);
}
