/*
 * Datasets (seeds 002, 003): upload and ingest, list, details, preview,
 * rows, export, delete, and share links.
 *
 * POST /api/datasets/upload is a ROUTE_STREAM route: the multipart body's
 * file part goes at once to object storage (the original, kept) and, when
 * objects are not local files, to a local spool file the ingest job reads
 * (saving a download from the object store); the text fields (name,
 * description, sheet, encoding, delimiter, header, strict, format) are
 * small and collected.  When the body is complete, the dataset row and its
 * ingest job are created in one transaction.  Small uploads are then
 * ingested on a slow-work thread before the answer (201, "ready", or 422
 * naming the problem in the file); larger ones answer 202 "processing" and
 * a job worker ingests them while GET /api/datasets/{id} shows progress.
 * As for files, anything that fails before the row exists is undone by the
 * request's release(), and the orphan sweep covers a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "auth/secret.h"
#include "base/log.h"
#include "base/utf8.h"
#include "datasets/datasets.h"
#include "files/filename.h"
#include "http/multipart.h"

#define FIELD_MAX 256                 /* bytes of a short text field */
#define FRAMING_ALLOWANCE (64 * 1024)  /* multipart framing and fields beyond the file */
#define SYNC_WAIT_MS (120 * 1000)     /* longest a small upload waits for its ingest */
#define PREVIEW_DEFAULT 20
#define PREVIEW_MAX 1000
#define ROWS_DEFAULT 100
#define ROWS_MAX 10000
#define FILTERS_MAX 32
#define TABLE_CALL_MS 10000           /* SQLite time per page or export piece */
#define SORTS_MAX 8

enum ds_field {
	F_NONE = -1,
	F_NAME,
	F_DESCRIPTION,
	F_SHEET,
	F_ENCODING,
	F_DELIMITER,
	F_HEADER,
	F_STRICT,
	F_FORMAT,
	F_COUNT,
};

static const char *const field_names[F_COUNT] = {
	"name", "description", "sheet", "encoding", "delimiter", "header", "strict", "format",
};

struct ds_upload {
	struct request *req;
	struct multipart *mp;
	enum { P_OTHER, P_FIELD, P_FILE } part;
	enum ds_field field;
	struct buf value;             /* the field being received */
	char *fields[F_COUNT];        /* received text fields (malloc'd) */
	uint64_t received;

	bool have_file;
	struct dataset_row row;
	struct blob_writer *writer;
	bool committed;               /* the original object is durable */
	bool guarded;
	char spool[4096];
	int spool_fd;
	char head[8];                 /* the file's first bytes, for its format */
	size_t head_len;
	bool listed;                  /* the row exists: release keeps the objects */
	char job_id[USER_ID_MAX + 1];

	int status;
	const char *code;
	char detail[600];
};

static int fail(struct ds_upload *up, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct ds_upload *up, int status, const char *code, const char *fmt, ...)
{
	if (up->status)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(up->detail, sizeof up->detail, fmt, ap);
	va_end(ap);
	up->status = status;
	up->code = code;
	return -1;
}

static void reply_failure(struct ds_upload *up)
{
	if (up->status == 413)
		http_add_header(up->req, "Connection", "close");
	http_reply_error(up->req, up->status, up->code, "%s", up->detail);
}

/* ---- upload ---- */

static int file_begin(struct ds_upload *up, const struct multipart_part *part)
{
	struct request *req = up->req;
	struct app *app = req->app;
	struct error e;
	if (up->have_file)
		return fail(up, 400, "bad_request", "one file per dataset upload");
	up->have_file = true;
	struct dataset_row *row = &up->row;
	id_random(row->id, 16);
	snprintf(row->owner_id, sizeof row->owner_id, "%s", req->user_id);
	filename_display(part->filename, row->source_name, sizeof row->source_name);
	dataset_original_key(row->owner_id, row->id, row->original_key, sizeof row->original_key);
	sweep_guard_add(app->uploading, row->original_key);
	up->guarded = true;
	/* A local copy for the ingest job, unless objects are local files
	 * already (then the job reads the original where it is). */
	if (!blob_has_local_paths(app->blob) &&
	    (dataset_spool_path(app, row->id, up->spool, sizeof up->spool, &e) < 0 ||
	     (up->spool_fd = open(up->spool, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)) {
		log_error("dataset upload (request %s): spool %s: %s", req->request_id, up->spool,
			  up->spool_fd < 0 ? strerror(errno) : e.msg);
		up->spool[0] = 0;
		return fail(up, 500, "internal", "could not keep the upload on local disk; see the "
			    "server log");
	}
	if (!(up->writer = blob_writer_open(app->blob, row->original_key, &e))) {
		log_error("dataset upload (request %s): %s", req->request_id, e.msg);
		return fail(up, 503, "unavailable", "object storage refused the file; see the "
			    "server log");
	}
	return 0;
}

static int field_begin(struct ds_upload *up, const char *name)
{
	up->field = F_NONE;
	for (int i = 0; i < F_COUNT; i++)
		if (strcmp(name, field_names[i]) == 0)
			up->field = (enum ds_field)i;
	buf_free(&up->value);
	buf_init(&up->value, up->field == F_DESCRIPTION ? DATASET_DESCRIPTION_MAX : FIELD_MAX);
	return 0;
}

static int on_part_begin(void *ctx, const struct multipart_part *part)
{
	struct ds_upload *up = ctx;
	if (part->filename) {
		if (strcmp(part->name, "file") != 0)
			return fail(up, 400, "bad_request",
				    "the file part must be named \"file\" (got \"%s\")", part->name);
		up->part = P_FILE;
		return file_begin(up, part);
	}
	up->part = P_FIELD;
	return field_begin(up, part->name);
}

static int on_part_data(void *ctx, const char *p, size_t n)
{
	struct ds_upload *up = ctx;
	if (up->part == P_FIELD) {
		if (up->field == F_NONE)
			return 0;
		if (buf_append(&up->value, p, n))
			return fail(up, 422, "invalid_field", "%s: longer than %zu bytes",
				    field_names[up->field], up->value.limit);
		return 0;
	}
	if (up->part != P_FILE)
		return 0;
	const struct config *cfg = up->req->app->cfg;
	if ((uint64_t)up->row.size_bytes + n > (uint64_t)cfg->dataset_max_upload)
		return fail(up, 413, "payload_too_large", "%s is larger than the dataset upload "
			    "limit of %lld bytes (SHEAF_DATASET_MAX_UPLOAD)", up->row.source_name,
			    cfg->dataset_max_upload);
	struct error e;
	if (blob_writer_write(up->writer, p, n, &e) != BLOB_OK) {
		log_error("dataset upload (request %s): %s", up->req->request_id, e.msg);
		return fail(up, 503, "unavailable", "object storage failed while writing; see the "
			    "server log");
	}
	if (up->spool_fd >= 0 && fs_write_all(up->spool_fd, p, n) < 0) {
		log_error("dataset upload (request %s): spool: %s", up->req->request_id,
			  strerror(errno));
		return fail(up, 507, "insufficient_storage", "could not keep the upload on local "
			    "disk; see the server log");
	}
	if (up->head_len < sizeof up->head) {
		size_t take = n < sizeof up->head - up->head_len ? n : sizeof up->head - up->head_len;
		memcpy(up->head + up->head_len, p, take);
		up->head_len += take;
	}
	up->row.size_bytes += (int64_t)n;
	return 0;
}

static int on_part_end(void *ctx)
{
	struct ds_upload *up = ctx;
	if (up->part == P_FIELD && up->field != F_NONE) {
		free(up->fields[up->field]);
		up->fields[up->field] = xstrndup(up->value.data ? up->value.data : "", up->value.len);
		return 0;
	}
	if (up->part != P_FILE)
		return 0;
	struct error e;
	struct blob_writer *w = up->writer;
	up->writer = NULL;
	if (blob_writer_commit(w, NULL, &e) != BLOB_OK) {
		log_error("dataset upload (request %s): %s", up->req->request_id, e.msg);
		return fail(up, 503, "unavailable", "object storage could not keep the file; see "
			    "the server log");
	}
	up->committed = true;
	if (up->spool_fd >= 0 && close(up->spool_fd) < 0) {
		up->spool_fd = -1;
		return fail(up, 507, "insufficient_storage", "could not keep the upload on local "
			    "disk");
	}
	up->spool_fd = -1;
	return 0;
}

static int upload_data(struct request *req, void *arg, const char *p, size_t n)
{
	struct ds_upload *up = arg;
	up->received += n;
	/* Fields and multipart framing add little; the file limit is checked per byte. */
	if (up->received > (uint64_t)req->app->cfg->dataset_max_upload + FRAMING_ALLOWANCE) {
		fail(up, 413, "payload_too_large", "the upload is larger than the dataset upload "
		     "limit of %lld bytes (SHEAF_DATASET_MAX_UPLOAD)",
		     req->app->cfg->dataset_max_upload);
		reply_failure(up);
		return -1;
	}
	struct error e;
	if (multipart_feed(up->mp, p, n, &e)) {
		if (!up->status)
			fail(up, 400, "bad_request", "malformed multipart body: %s", e.msg);
		reply_failure(up);
		return -1;
	}
	return 0;
}

/* Checks the text fields and turns them into the row's name, description,
 * format and import options.  Returns 0 or -1 after fail(). */
static int settle_fields(struct ds_upload *up)
{
	char **f = up->fields;
	struct dataset_row *row = &up->row;
	struct error e;
	const char *name = f[F_NAME] && *f[F_NAME] ? f[F_NAME] : NULL;
	const char *desc = f[F_DESCRIPTION] ? f[F_DESCRIPTION] : "";
	if (dataset_check_texts(name, desc, &e) < 0)
		return fail(up, 422, "invalid_field", "%s", e.msg);
	if (name)
		snprintf(row->name, sizeof row->name, "%s", name);
	else
		dataset_default_name(row->source_name, row->name, sizeof row->name);
	snprintf(row->description, sizeof row->description, "%s", desc);
	struct dataset_choices c = {
		.format = f[F_FORMAT], .delimiter = f[F_DELIMITER], .encoding = f[F_ENCODING],
		.sheet = f[F_SHEET], .header = f[F_HEADER], .strict = f[F_STRICT],
	};
	const char *format;
	if (!(row->options = dataset_options(&c, &format, &e)))
		return fail(up, 422, "invalid_field", "%s", e.msg);
	if (!*format)
		format = dataset_sniff_format(up->head, up->head_len);
	snprintf(row->format, sizeof row->format, "%s", format);
	return 0;
}

/* Reads the dataset and replies with it; 500 when the store fails. */
static void reply_dataset(struct request *req, int status, const char *owner, const char *id)
{
	struct dataset_row row;
	struct error e;
	enum store_rc rc = store_dataset_get(req->app->store, owner, id, &row, &e);
	if (rc == STORE_OK) {
		http_reply_json(req, status, dataset_json(&row, true));
		dataset_row_clear(&row);
	} else if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "dataset %s was deleted meanwhile", id);
	} else {
		api_store_failed(req, "read dataset", &e);
	}
}

/* Drops a dataset whose ingest failed within its upload: the client gets
 * the reason now, so nothing is left in the list. */
static void drop_dataset(struct request *req, const char *owner, const char *id)
{
	struct store_keys keys = { 0 };
	struct error e;
	if (store_dataset_delete(req->app->store, owner, id, &keys, &e) == STORE_OK)
		api_remove_objects(req, &keys);
	else
		store_keys_free(&keys);
}

void api_dataset_ingest_now(struct request *req, const struct dataset_row *row,
			    const char *job_id)
{
	struct job_row job;
	struct error e;
	int rc = jobs_run_now(req->app->jobs, job_id, SYNC_WAIT_MS, &job, &e);
	if (rc < 0) {
		api_store_failed(req, "run ingest", &e);
		return;
	}
	if (rc == 0 && strcmp(job.status, "failed") == 0) {
		bool ours = strncmp(job.error, "internal error", 14) == 0;
		drop_dataset(req, row->owner_id, row->id);
		if (ours)
			http_reply_error(req, 500, "internal", "%s", job.error);
		else
			http_reply_error(req, 422, "invalid_file", "%s: %s", row->source_name,
					 job.error);
	} else {
		reply_dataset(req, rc == 0 && strcmp(job.status, "done") == 0 ? 201 : 202,
			      row->owner_id, row->id);
	}
	job_row_clear(&job);
}

/* The slow-work half of a small upload: ingest now, answer with the result. */
static void ingest_now(struct request *req, void *arg)
{
	struct ds_upload *up = arg;
	api_dataset_ingest_now(req, &up->row, up->job_id);
}

void api_dataset_ingest_later(struct request *req, const struct dataset_row *row)
{
	jobs_notify(req->app->jobs);
	reply_dataset(req, 202, row->owner_id, row->id);
}

int api_dataset_enqueue(struct request *req, struct dataset_row *row, const char *spool,
			char job_id[USER_ID_MAX + 1])
{
	struct error e;
	if (dataset_enqueue(req->app, row, spool, job_id, &e) < 0) {
		api_store_failed(req, "record dataset", &e);
		return -1;
	}
	return 0;
}

static void upload_end(struct request *req, void *arg)
{
	struct ds_upload *up = arg;
	struct app *app = req->app;
	struct error e;
	if (multipart_finish(up->mp, &e))
		fail(up, 400, "bad_request", "malformed multipart body: %s", e.msg);
	else if (!up->have_file)
		fail(up, 400, "bad_request", "no file in the upload (a part named \"file\" with a "
		     "filename)");
	else if (up->row.size_bytes == 0)
		fail(up, 422, "invalid_file", "%s is empty", up->row.source_name);
	if (up->status || settle_fields(up) < 0) {
		reply_failure(up);
		return;
	}
	struct dataset_row *row = &up->row;
	if (api_dataset_enqueue(req, row, up->spool, up->job_id) < 0)
		return;
	up->listed = true;
	log_fields(LOG_INFO, "dataset_uploaded", LOG_STR("dataset_id", row->id),
		   LOG_INT("bytes", row->size_bytes), LOG_STR("request_id", req->request_id));
	/* Small: ingested on a slow-work thread before the answer.  When those
	 * are all busy, the job runs in the background like a large one. */
	if (row->size_bytes <= app->cfg->dataset_sync_bytes &&
	    http_defer_quiet(req, ingest_now, up) == 0)
		return;
	api_dataset_ingest_later(req, row);
}

static void upload_release(void *arg)
{
	struct ds_upload *up = arg;
	struct app *app = up->req->app;
	blob_writer_abort(up->writer);
	if (up->spool_fd >= 0)
		close(up->spool_fd);
	if (!up->listed) {
		struct error e;
		if (up->committed && blob_remove(app->blob, up->row.original_key, &e) == BLOB_ERROR)
			log_warn("could not remove %s after a failed upload (the sweep will retry): "
				 "%s", up->row.original_key, e.msg);
		if (*up->spool)
			unlink(up->spool);
	}
	if (up->guarded)
		sweep_guard_remove(app->uploading, up->row.original_key);
	for (int i = 0; i < F_COUNT; i++)
		free(up->fields[i]);
	free(up->row.options);
	multipart_free(up->mp);
	buf_free(&up->value);
	free(up);
}

void api_dataset_upload(struct request *req)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	/* The framing and text fields come on top of the file's bytes. */
	if (api_upload_begin(req, "a dataset upload is multipart/form-data with a \"file\" part",
			     req->app->cfg->dataset_max_upload + FRAMING_ALLOWANCE,
			     "for a dataset file, with its form fields (SHEAF_DATASET_MAX_UPLOAD)",
			     boundary))
		return;
	struct ds_upload *up = xcalloc(1, sizeof *up);
	up->req = req;
	up->spool_fd = -1;
	up->field = F_NONE;
	buf_init(&up->value, FIELD_MAX);
	static const struct multipart_callbacks cb = {
		.part_begin = on_part_begin,
		.part_data = on_part_data,
		.part_end = on_part_end,
	};
	up->mp = multipart_new(boundary, NULL, &cb, up);
	http_stream(req, &(struct http_stream){ .data = upload_data, .end = upload_end,
						.release = upload_release, .arg = up });
}

/* ---- reading ---- */

/* The {dataset_id} path parameter, or NULL after replying 400. */
static const char *path_id(struct request *req)
{
	return api_path_id(req, "dataset_id", "a dataset id");
}

/* The dataset the request names: the caller's own by {dataset_id}, or the
 * one a live share link's {token} opens (any owner's).  0, or -1 after
 * replying (404 for unknown, someone else's, expired or revoked alike). */
int api_find_dataset(struct request *req, bool shared, struct dataset_row *row)
{
	struct error e;
	enum store_rc rc;
	if (shared) {
		const char *token = http_param(req, "token");
		if (!token || !refresh_token_valid(token)) {
			http_reply_error(req, 404, "not_found", "no such share link (or it expired "
					 "or was revoked)");
			return -1;
		}
		char hash[REFRESH_HASH_CHARS + 1];
		refresh_token_hash(token, hash);
		struct share_row share;
		rc = store_share_resolve(req->app->store, hash, clock_now_ms(), &share, row, &e);
		if (rc == STORE_NOT_FOUND) {
			http_reply_error(req, 404, "not_found", "no such share link (or it expired "
					 "or was revoked)");
			return -1;
		}
	} else {
		const char *id = path_id(req);
		if (!id)
			return -1;
		rc = store_dataset_get(req->app->store, req->user_id, id, row, &e);
		if (rc == STORE_NOT_FOUND) {
			http_reply_error(req, 404, "not_found", "no dataset %s", id);
			return -1;
		}
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "read dataset", &e);
		return -1;
	}
	return 0;
}

struct table *api_open_dataset(struct request *req, const struct dataset_row *row)
{
	struct error e;
	struct table *t = dataset_open(req->app, row, &e);
	if (!t) {
		log_error("open dataset %s (request %s): %s", row->id, req->request_id, e.msg);
		http_reply_error(req, 500, "internal", "the dataset file could not be read; see "
				 "the server log");
	}
	return t;
}

/* Opens a ready dataset's table, or replies 409 (not ready) / 500. */
/* 0 when row is ready, else -1 after replying 409 not_ready. */
static int check_ready(struct request *req, const struct dataset_row *row)
{
	if (strcmp(row->status, "ready") == 0)
		return 0;
	http_reply_error(req, 409, "not_ready", "dataset %s is %s%s%s", row->id, row->status,
			 *row->error ? ": " : "", row->error);
	return -1;
}

int api_find_ready(struct request *req, struct dataset_row *row)
{
	if (api_find_dataset(req, false, row) < 0)
		return -1;
	return check_ready(req, row);
}

struct table *api_open_ready(struct request *req, const struct dataset_row *row)
{
	if (check_ready(req, row) < 0)
		return NULL;
	struct table *t = api_open_dataset(req, row);
	if (!t)
		return NULL;
	/* A filter or sort over a big dataset must not hold an HTTP thread
	 * for long: each page, and each piece of an export, gets this much. */
	table_set_time_limit(t, TABLE_CALL_MS);
	return t;
}

/* The query of ?filter=...&sort=...; NULL after replying 400. */
static struct table_query *read_query(struct request *req, struct table *t)
{
	struct table_query *q = table_query_new(t);
	const char *items[FILTERS_MAX];
	struct error e;
	size_t n = http_query_all(req, "filter", items, FILTERS_MAX);
	if (n > FILTERS_MAX) {
		http_reply_error(req, 400, "bad_request", "at most %d filters", FILTERS_MAX);
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		if (table_query_filter(q, items[i], &e) < 0) {
			http_reply_error(req, 400, "bad_filter", "%s", e.msg);
			goto fail;
		}
	n = http_query_all(req, "sort", items, SORTS_MAX);
	if (n > SORTS_MAX) {
		http_reply_error(req, 400, "bad_request", "at most %d sort keys", SORTS_MAX);
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		if (table_query_sort(q, items[i], &e) < 0) {
			http_reply_error(req, 400, "bad_sort", "%s", e.msg);
			goto fail;
		}
	return q;
fail:
	table_query_free(q);
	return NULL;
}

static void dataset_get(struct request *req, bool shared)
{
	struct dataset_row row;
	if (api_find_dataset(req, shared, &row) < 0)
		return;
	json_t *o = dataset_json(&row, true);
	if (strcmp(row.status, "ready") == 0) {
		struct error e;
		struct table *t = dataset_open(req->app, &row, &e);
		if (!t) {
			log_error("open dataset %s (request %s): %s", row.id, req->request_id, e.msg);
		} else {
			dataset_json_columns(o, t);
			if (shared) {
				struct table_query *q = table_query_new(t);
				table_query_page(q, 0, PREVIEW_DEFAULT);
				json_t *page = table_page_json(t, q, &e);
				if (page)
					json_object_set_new(o, "preview", page);
				table_query_free(q);
			}
			table_close(t);
		}
	}
	if (shared) {
		json_object_del(o, "job_id");
		json_object_del(o, "source_name");
	}
	dataset_row_clear(&row);
	http_reply_json(req, 200, o);
}

void api_dataset_get(struct request *req)
{
	dataset_get(req, false);
}

void api_shared_get(struct request *req)
{
	dataset_get(req, true);
}

static void dataset_page(struct request *req, bool shared, bool preview)
{
	struct dataset_row row;
	long long offset = 0, limit;
	if (preview ? http_query_int(req, "rows", PREVIEW_DEFAULT, 1, PREVIEW_MAX, &limit)
		    : (http_query_int(req, "limit", ROWS_DEFAULT, 1, ROWS_MAX, &limit) ||
		       http_query_int(req, "offset", 0, 0, (long long)1 << 53, &offset)))
		return;
	if (api_find_dataset(req, shared, &row) < 0)
		return;
	struct table *t = api_open_ready(req, &row);
	struct table_query *q = NULL;
	if (!t)
		goto out;
	if (!(q = preview ? table_query_new(t) : read_query(req, t)))
		goto out;
	table_query_page(q, offset, limit);
	struct error e;
	json_t *page = table_page_json(t, q, &e);
	if (!page && strstr(e.msg, "ran longer than")) {
		http_reply_error(req, 422, "query_timeout", "the filters and sort took longer than "
				 "%d s on this dataset; narrow the filters or drop the sort",
				 TABLE_CALL_MS / 1000);
		goto out;
	}
	if (!page) {
		log_error("read dataset %s (request %s): %s", row.id, req->request_id, e.msg);
		http_reply_error(req, 500, "internal", "reading the dataset failed; see the "
				 "server log");
		goto out;
	}
	json_object_set_new(page, "dataset_id", json_string(row.id));
	http_reply_json(req, 200, page);
out:
	table_query_free(q);
	table_close(t);
	dataset_row_clear(&row);
}

void api_dataset_preview(struct request *req)
{
	dataset_page(req, false, true);
}

void api_dataset_rows(struct request *req)
{
	dataset_page(req, false, false);
}

void api_shared_rows(struct request *req)
{
	dataset_page(req, true, false);
}

void api_shared_preview(struct request *req)
{
	dataset_page(req, true, true);
}

/* An export in flight: the table and the query stay open until the client
 * has taken the whole body. */
struct export {
	struct table *t;
	struct table_query *q;
	struct table_export *x;
	char id[USER_ID_MAX + 1];
	bool bom;                     /* a UTF-8 BOM first, for spreadsheet programs */
};

static ssize_t export_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct export *ex = ctx;
	struct error e;
	if (pos == 0 && ex->bom && max >= 3) {
		memcpy(buf, "\xEF\xBB\xBF", 3);
		return 3;
	}
	ssize_t n = table_export_read(ex->x, buf, max, &e);
	if (n < 0)
		log_error("export of dataset %s cut short: %s", ex->id, e.msg);
	return n;
}

static void export_free(void *ctx)
{
	struct export *ex = ctx;
	table_export_free(ex->x);
	table_query_free(ex->q);
	table_close(ex->t);
	free(ex);
}

static void dataset_export(struct request *req, bool shared)
{
	const char *format = http_query(req, "format");
	enum table_format f;
	if (!format || !*format || !strcasecmp(format, "csv"))
		f = TABLE_CSV;
	else if (!strcasecmp(format, "json"))
		f = TABLE_JSON;
	else {
		http_reply_error(req, 400, "bad_request", "format: csv or json");
		return;
	}
	struct dataset_row row;
	if (api_find_dataset(req, shared, &row) < 0)
		return;
	struct export *ex = xcalloc(1, sizeof *ex);
	snprintf(ex->id, sizeof ex->id, "%s", row.id);
	/* Excel reads a CSV without a BOM as the local code page (CP949 in
	 * Korea), garbling Hangul; ?bom=1 is for those who open it there. */
	const char *bom = http_query(req, "bom");
	ex->bom = f == TABLE_CSV && bom && (!strcmp(bom, "1") || !strcasecmp(bom, "true"));
	struct error e;
	if (!(ex->t = api_open_ready(req, &row)) || !(ex->q = read_query(req, ex->t)))
		goto fail;
	if (!(ex->x = table_export_new(ex->t, ex->q, f, &e))) {
		log_error("export dataset %s (request %s): %s", row.id, req->request_id, e.msg);
		http_reply_error(req, 500, "internal", "the export could not start; see the "
				 "server log");
		goto fail;
	}
	/* A file name from the dataset's name, safe for the header. */
	char disposition[512], name[DATASET_NAME_MAX + 8];
	snprintf(name, sizeof name, "%s.%s", row.name, f == TABLE_CSV ? "csv" : "json");
	content_disposition(name, "attachment", disposition, sizeof disposition);
	http_add_header(req, "Content-Disposition", disposition);
	dataset_row_clear(&row);
	http_reply_stream(req, 200, f == TABLE_CSV ? "text/csv; charset=utf-8" : "application/json",
			  HTTP_LENGTH_UNKNOWN, export_read, ex, export_free);
	return;
fail:
	dataset_row_clear(&row);
	export_free(ex);
}

void api_dataset_export(struct request *req)
{
	dataset_export(req, false);
}

void api_shared_export(struct request *req)
{
	dataset_export(req, true);
}

void api_dataset_list(struct request *req)
{
	long long limit, offset;
	if (http_query_int(req, "limit", 20, 1, 100, &limit) ||
	    http_query_int(req, "offset", 0, 0, (long long)1 << 53, &offset))
		return;
	static const struct {
		const char *name;
		enum dataset_sort sort;
	} sorts[] = {
		{ "newest", DATASET_SORT_NEWEST }, { "-created", DATASET_SORT_NEWEST },
		{ "-uploaded_at", DATASET_SORT_NEWEST }, { "oldest", DATASET_SORT_OLDEST },
		{ "created", DATASET_SORT_OLDEST }, { "uploaded_at", DATASET_SORT_OLDEST },
		{ "name", DATASET_SORT_NAME }, { "-name", DATASET_SORT_NAME_DESC },
		{ "-rows", DATASET_SORT_ROWS }, { "rows", DATASET_SORT_ROWS },
		{ "-size", DATASET_SORT_SIZE }, { "size", DATASET_SORT_SIZE },
		{ "-size_bytes", DATASET_SORT_SIZE }, { "size_bytes", DATASET_SORT_SIZE },
	};
	const char *want = http_query(req, "sort");
	enum dataset_sort sort = DATASET_SORT_NEWEST;
	if (want && *want) {
		size_t i, n = sizeof sorts / sizeof sorts[0];
		for (i = 0; i < n && strcmp(sorts[i].name, want) != 0; i++)
			;
		if (i == n) {
			http_reply_error(req, 400, "bad_request", "sort: newest (default), oldest, "
					 "name, -name, rows (most first) or size (largest first)");
			return;
		}
		sort = sorts[i].sort;
	}
	struct dataset_row *rows;
	size_t n;
	int64_t total;
	struct error e;
	if (store_dataset_list(req->app->store, req->user_id, sort, limit, offset, &rows, &n,
			       &total, &e) != STORE_OK) {
		api_store_failed(req, "list datasets", &e);
		return;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, dataset_json(&rows[i], false));
	dataset_rows_free(rows, n);
	http_reply_json(req, 200, json_pack("{s:o, s:I, s:I, s:I}", "datasets", list, "total",
					    (json_int_t)total, "limit", (json_int_t)limit, "offset",
					    (json_int_t)offset));
}

void api_dataset_update(struct request *req)
{
	const char *id = path_id(req);
	json_t *body;
	if (!id || http_json_body(req, false, &body))
		return;
	static const char *const fields[] = { "name", "description", NULL };
	const char *name = NULL, *desc = NULL;
	if (http_json_only(req, body, fields) ||
	    http_json_string(req, body, "name", false, &name) ||
	    http_json_string(req, body, "description", false, &desc))
		goto out;
	struct error e;
	if (dataset_check_texts(name, desc, &e) < 0) {
		http_reply_error(req, 422, "invalid_field", "%s", e.msg);
		goto out;
	}
	struct dataset_row row;
	enum store_rc rc = store_dataset_update(req->app->store, req->user_id, id, name, desc,
						clock_now_ms(), &row, &e);
	if (rc == STORE_OK) {
		http_reply_json(req, 200, dataset_json(&row, true));
		dataset_row_clear(&row);
	} else if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no dataset %s", id);
	} else {
		api_store_failed(req, "update dataset", &e);
	}
out:
	json_decref(body);
}

void api_dataset_delete(struct request *req)
{
	const char *id = path_id(req);
	if (!id)
		return;
	struct store_keys keys = { 0 };
	struct error e;
	enum store_rc rc = store_dataset_delete(req->app->store, req->user_id, id, &keys, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no dataset %s", id);
	} else if (rc != STORE_OK) {
		api_store_failed(req, "delete dataset", &e);
	} else {
		dataset_forget_local(req->app, id, &keys);
		api_remove_objects(req, &keys);
		log_fields(LOG_INFO, "dataset_deleted", LOG_STR("dataset_id", id),
			   LOG_STR("request_id", req->request_id));
		http_reply_empty(req, 204);
		return;
	}
	store_keys_free(&keys);
}

/* ---- share links ---- */

static json_t *share_json(const struct share_row *s, int64_t now)
{
	char created[RFC3339_LEN], expires[RFC3339_LEN], revoked[RFC3339_LEN];
	const char *state = s->revoked_at ? "revoked" : s->expires_at <= now ? "expired" : "active";
	return json_pack("{s:s, s:s, s:s, s:s, s:o, s:s}", "share_id", s->id, "dataset_id",
			 s->dataset_id, "created_at", clock_rfc3339(s->created_at, created),
			 "expires_at", clock_rfc3339(s->expires_at, expires), "revoked_at",
			 s->revoked_at ? json_string(clock_rfc3339(s->revoked_at, revoked))
				       : json_null(),
			 "status", state);
}

/* The base of links handed out: SHEAF_PUBLIC_URL, else from Host. */
static void public_base(struct request *req, char *out, size_t cap)
{
	const char *base = req->app->cfg->public_url;
	if (base && *base) {
		snprintf(out, cap, "%s", base);
		return;
	}
	const char *host = http_header(req, "Host");
	bool sane = host && *host && strlen(host) < 256;
	for (const char *c = host; sane && *c; c++)
		if (!(((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') || (*c >= '0' && *c <= '9') ||
		      strchr(".-:[]", *c)))
			sane = false;
	snprintf(out, cap, "http://%s", sane ? host : "localhost");
}

void api_dataset_share(struct request *req)
{
	const char *id = path_id(req);
	json_t *body;
	if (!id || http_json_body(req, true, &body))
		return;
	static const char *const fields[] = { "expires_in_days", NULL };
	if (http_json_only(req, body, fields))
		goto out;
	double days = (double)req->app->cfg->share_ttl_days;
	json_t *d = json_object_get(body, "expires_in_days");
	if (d && !json_is_null(d)) {
		if (!json_is_number(d) || json_number_value(d) <= 0 ||
		    json_number_value(d) > 3650) {
			http_reply_error(req, 422, "invalid_field",
					 "expires_in_days: a number of days above 0, at most 3650");
			goto out;
		}
		days = json_number_value(d);
	}
	int64_t now = clock_now_ms();
	struct share_row s = { 0 };
	id_random(s.id, 16);
	snprintf(s.dataset_id, sizeof s.dataset_id, "%s", id);
	snprintf(s.owner_id, sizeof s.owner_id, "%s", req->user_id);
	char token[REFRESH_TOKEN_CHARS + 1];
	refresh_token_new(token);
	refresh_token_hash(token, s.token_hash);
	s.created_at = now;
	s.expires_at = now + (int64_t)(days * 86400000.0);
	struct error e;
	enum store_rc rc = store_share_create(req->app->store, &s, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no dataset %s", id);
	} else if (rc != STORE_OK) {
		api_store_failed(req, "create share", &e);
	} else {
		char base[512], url[1024];
		public_base(req, base, sizeof base);
		snprintf(url, sizeof url, "%s/api/datasets/shared/%s", base, token);
		json_t *o = share_json(&s, now);
		json_object_set_new(o, "share_token", json_string(token));
		json_object_set_new(o, "share_url", json_string(url));
		http_reply_json(req, 201, o);
	}
	explicit_bzero(token, sizeof token);
out:
	json_decref(body);
}

void api_dataset_shares(struct request *req)
{
	const char *id = path_id(req);
	if (!id)
		return;
	struct share_row *rows;
	size_t n;
	struct error e;
	enum store_rc rc = store_share_list(req->app->store, req->user_id, id, &rows, &n, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no dataset %s", id);
		return;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "list shares", &e);
		return;
	}
	int64_t now = clock_now_ms();
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, share_json(&rows[i], now));
	free(rows);
	http_reply_json(req, 200, json_pack("{s:o}", "shares", list));
}

void api_dataset_unshare(struct request *req)
{
	const char *id = path_id(req);
	if (!id)
		return;
	const char *share = api_path_id(req, "share_id", "a share id");
	if (!share)
		return;
	struct error e;
	enum store_rc rc = store_share_revoke(req->app->store, req->user_id, id, share,
					      clock_now_ms(), &e);
	if (rc == STORE_NOT_FOUND)
		http_reply_error(req, 404, "not_found", "no share %s of dataset %s", share, id);
	else if (rc != STORE_OK)
		api_store_failed(req, "revoke share", &e);
	else
		http_reply_empty(req, 204);
}
