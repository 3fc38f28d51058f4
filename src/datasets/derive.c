/*
 * Derived datasets: transformation steps (query/transform.h) over one of a
 * user's datasets make a new dataset, owned by that user, whose parent_id
 * is the source.  The API (POST /api/datasets/{id}/transform) and the
 * transform tool share it.
 *
 * The steps compile into one sandboxed SELECT; its rows are written as a
 * CSV file (UTF-8, a header row), which becomes the new dataset's original
 * object, and the new dataset is recorded with its ingest job queued, like
 * an upload of that file.  Types are inferred again from the rows, so a
 * real column whose values are all whole numbers comes back as integer.
 * The steps are kept in the dataset's options for lineage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "datasets/render.h"
#include "query/transform.h"
#include "tools/schema.h"

#define JSON(...) #__VA_ARGS__
#define CHUNK (1 << 16)   /* bytes of CSV written at a time */

const char dataset_derive_schema[] = JSON({"type": "object", "additionalProperties": false,
	"required": ["steps"], "properties": {) DATASET_DERIVE_PROPERTIES "}}";

struct joiner {
	struct app *app;
	const char *user_id;
};

/* A join's dataset: the user's own and ready. */
static struct table *open_joined(void *arg, const char *id, struct error *e)
{
	struct joiner *j = arg;
	struct dataset_row row;
	struct error se;
	if (!id_user_valid(id)) {
		error_set(e, "dataset_id %.40s is not a dataset id", id);
		return NULL;
	}
	enum store_rc rc = store_dataset_get(j->app->store, j->user_id, id, &row, &se);
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
		t = dataset_open(j->app, &row, e);
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

/* The new dataset's row, before it is recorded. */
static void new_row(const char *user_id, const struct dataset_row *src, const json_t *body,
		    struct dataset_row *row)
{
	memset(row, 0, sizeof *row);
	id_random(row->id, 16);
	snprintf(row->owner_id, sizeof row->owner_id, "%s", user_id);
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
	dataset_original_key(row->owner_id, row->id, row->original_key, sizeof row->original_key);
	json_t *opt = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:O}}", "format", "csv",
				"encoding", "utf-8", "delimiter", ",", "header", "yes",
				"transform", "parent_id", src->id, "steps",
				json_object_get(body, "steps"));
	row->options = json_dumps(opt, JSON_COMPACT);
	json_decref(opt);
}

int dataset_enqueue(struct app *app, struct dataset_row *row, const char *spool,
		    char job_id[USER_ID_MAX + 1], struct error *e)
{
	int64_t now = clock_now_ms();
	snprintf(row->status, sizeof row->status, "processing");
	row->version = 1;
	row->created_at = row->updated_at = now;
	struct job_row job = { 0 };
	id_random(job.id, 16);
	snprintf(job_id, USER_ID_MAX + 1, "%s", job.id);
	snprintf(row->job_id, sizeof row->job_id, "%s", job.id);
	snprintf(job.owner_id, sizeof job.owner_id, "%s", row->owner_id);
	snprintf(job.kind, sizeof job.kind, "%s", DATASET_INGEST_KIND);
	snprintf(job.subject_id, sizeof job.subject_id, "%s", row->id);
	job.payload = dataset_ingest_payload(spool);
	job.created_at = now;
	enum store_rc rc = store_dataset_create(app->store, row, &job, e);
	free(job.payload);
	return rc == STORE_OK ? 0 : -1;
}

enum sql_status dataset_derive(struct app *app, const char *user_id,
			       const struct dataset_row *src, struct table *t,
			       const json_t *body, bool (*stop)(void *arg), void *stop_arg,
			       struct dataset_row *row, char job_id[USER_ID_MAX + 1],
			       struct error *e)
{
	struct sql_limits lim = sql_limits_for(app->cfg, true);
	lim.stop = stop;
	lim.stop_arg = stop_arg;
	struct joiner j = { app, user_id };
	struct transform_plan plan;
	memset(row, 0, sizeof *row);
	enum sql_status s = transform_compile(t, json_object_get(body, "steps"), &lim,
					      open_joined, &j, &plan, e);
	if (s != SQL_OK)
		return s;
	char spool[4096];
	int64_t bytes = 0;
	new_row(user_id, src, body, row);
	if (dataset_spool_path(app, row->id, spool, sizeof spool, e) < 0) {
		s = SQL_FAILED;
		goto out;
	}
	s = write_csv(t, &plan, &lim, spool, &bytes, e);
	if (s != SQL_OK)
		goto out;
	row->size_bytes = bytes;
	/* The CSV is the new dataset's original: moved into local storage, or
	 * copied to S3 with the spool kept for the ingest job. */
	bool moved = false;
	sweep_guard_add(app->uploading, row->original_key);
	if (blob_adopt(app->blob, row->original_key, spool, &moved, e) != BLOB_OK) {
		sweep_guard_remove(app->uploading, row->original_key);
		unlink(spool);
		s = SQL_FAILED;
		goto out;
	}
	int rc = dataset_enqueue(app, row, moved ? "" : spool, job_id, e);
	sweep_guard_remove(app->uploading, row->original_key);
	if (rc < 0) {
		blob_remove(app->blob, row->original_key, NULL);
		if (!moved)
			unlink(spool);
		s = SQL_FAILED;
		goto out;
	}
	log_fields(LOG_INFO, "dataset_transformed", LOG_STR("dataset_id", row->id),
		   LOG_STR("parent_id", src->id), LOG_INT("bytes", bytes));
out:
	transform_plan_free(&plan);
	if (s != SQL_OK)
		dataset_row_clear(row);
	return s;
}
