/*
 * Files (seed 000): streamed uploads into object storage, with metadata in
 * the store.  POST /api/files/upload, GET /api/files/session/{session_id},
 * GET|DELETE /api/files/{file_id}, GET /api/files/{file_id}/download.
 *
 * An upload is a ROUTE_STREAM route: the multipart body is parsed as it
 * arrives, each file part is written straight into an object-storage
 * writer while its SHA-256 is computed and its first bytes are kept for
 * libmagic, so memory stays flat whatever the size.  The order of events
 * is what keeps storage and metadata consistent:
 *
 *   1. each object is committed (durable) when its part ends;
 *   2. when the body is complete, all the rows are inserted in one
 *      transaction; a file is listed only from here on, and its bytes are
 *      already durable;
 *   3. if anything fails before 2 (a limit, a bad body, a vanished client,
 *      a failed insert), release() removes the objects of this request.
 *
 * A crash between 1 and 2 leaves objects no row lists; the orphan sweep
 * (files/sweep.c) removes them once they are older than SHEAF_ORPHAN_GRACE.
 * Deletion runs the other way round: the row goes first, then the object.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/sha256.h"
#include "files/filename.h"
#include "files/sniff.h"
#include "http/multipart.h"

#define UPLOAD_MAX_FILES 100          /* file parts in one request */
#define SESSION_FIELD_MAX 256         /* bytes of the session_id field kept */
#define DOWNLOAD_WINDOW (1024 * 1024) /* bytes fetched at a time without a file descriptor */

/* One file part: being written, then committed. */
struct upload_file {
	struct file_row row;
	struct blob_writer *writer;   /* open while the part streams */
	struct sha256 *sha;
	char *head;                   /* the first SNIFF_BYTES, for libmagic */
	size_t head_len;
	bool committed;               /* the object is durable under row.storage_key */
	bool guarded;                 /* in app->uploading, so the sweep leaves it alone */
};

struct upload {
	struct request *req;
	struct multipart *mp;
	char session_id[SESSION_ID_MAX + 1];
	bool have_session;
	enum { PART_OTHER, PART_SESSION, PART_FILE } part;
	struct buf field;             /* the session_id field as it arrives */
	struct upload_file files[UPLOAD_MAX_FILES];
	size_t n;
	uint64_t received;            /* body bytes so far */
	bool listed;                  /* rows are in: release keeps the objects */
	/* A failure found in a callback, replied once the parser stops. */
	int status;
	const char *code;
	char detail[512];
};

static int fail(struct upload *up, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct upload *up, int status, const char *code, const char *fmt, ...)
{
	if (up->status)   /* the first failure is the one to report */
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(up->detail, sizeof up->detail, fmt, ap);
	va_end(ap);
	up->status = status;
	up->code = code;
	return -1;
}

static void reply_failure(struct upload *up)
{
	if (up->status == 413)
		http_add_header(up->req, "Connection", "close");
	http_reply_error(up->req, up->status, up->code, "%s", up->detail);
}

void api_remove_objects(struct request *req, struct store_keys *keys)
{
	for (size_t i = 0; i < keys->n; i++) {
		struct error e;
		if (blob_remove(req->app->blob, keys->keys[i], &e) == BLOB_ERROR)
			log_warn("could not remove object %s (the sweep will retry): %s",
				 keys->keys[i], e.msg);
	}
	store_keys_free(keys);
}

/* Checks that the caller owns session id; replies 404 or 500 otherwise. */
static int session_exists(struct request *req, const char *id, struct upload *up)
{
	struct session_row row;
	struct error e;
	enum store_rc rc = store_session_get(req->app->store, req->user_id, id, &row, &e);
	if (rc == STORE_OK)
		return 0;
	if (rc == STORE_NOT_FOUND)
		return fail(up, 404, "not_found", "no session %s", id);
	log_error("read session (request %s): %s", req->request_id, e.msg);
	return fail(up, 500, "internal", "the metadata store failed; see the server log");
}

static int set_session(struct upload *up, const char *id)
{
	if (up->have_session && strcmp(up->session_id, id) != 0)
		return fail(up, 400, "bad_request", "session_id is given twice, differently");
	if (!id_session_valid(id))
		return fail(up, 422, "invalid_field",
			    "session_id: must be 1-64 characters of A-Z, a-z, 0-9, _ and -");
	if (!up->have_session && session_exists(up->req, id, up))
		return -1;
	snprintf(up->session_id, sizeof up->session_id, "%s", id);
	up->have_session = true;
	return 0;
}

static int file_begin(struct upload *up, const struct multipart_part *part)
{
	struct request *req = up->req;
	if (!up->have_session)
		return fail(up, 400, "bad_request", "the session_id field must come before the "
			    "files (or pass ?session_id=)");
	if (up->n == UPLOAD_MAX_FILES)
		return fail(up, 413, "payload_too_large", "at most %d files per upload",
			    UPLOAD_MAX_FILES);
	struct upload_file *f = &up->files[up->n++];
	struct file_row *row = &f->row;
	id_random(row->id, 16);
	snprintf(row->owner_id, sizeof row->owner_id, "%s", req->user_id);
	snprintf(row->session_id, sizeof row->session_id, "%s", up->session_id);
	filename_display(part->filename, row->filename, sizeof row->filename);
	char stored[128];
	filename_storage(row->filename, stored, sizeof stored);
	/* The file id makes the key unique: a second upload of the same name never
	 * overwrites the first. */
	struct buf key;
	buf_init(&key, sizeof row->storage_key - 1);
	buf_printf(&key, "uploads/%s/", up->session_id);
	buf_printf(&key, "%s-%s", row->id, stored);
	memcpy(row->storage_key, key.data, key.len + 1);
	buf_free(&key);
	sweep_guard_add(req->app->uploading, row->storage_key);
	f->guarded = true;
	f->sha = sha256_new();
	f->head = xmalloc(SNIFF_BYTES);
	struct error e;
	if (!(f->writer = blob_writer_open(req->app->blob, row->storage_key, &e))) {
		log_error("upload (request %s): %s", req->request_id, e.msg);
		return fail(up, 503, "unavailable", "object storage refused the file; see the "
			    "server log");
	}
	return 0;
}

static int on_part_begin(void *ctx, const struct multipart_part *part)
{
	struct upload *up = ctx;
	if (part->filename) {
		up->part = PART_FILE;
		return file_begin(up, part);
	}
	up->part = strcmp(part->name, "session_id") == 0 ? PART_SESSION : PART_OTHER;
	buf_reset(&up->field);
	return 0;
}

static int on_part_data(void *ctx, const char *p, size_t n)
{
	struct upload *up = ctx;
	if (up->part == PART_SESSION) {
		if (buf_append(&up->field, p, n))
			return fail(up, 422, "invalid_field", "session_id: too long");
		return 0;
	}
	if (up->part != PART_FILE)
		return 0;
	struct upload_file *f = &up->files[up->n - 1];
	const struct config *cfg = up->req->app->cfg;
	if ((uint64_t)f->row.size + n > (uint64_t)cfg->upload_max_file)
		return fail(up, 413, "payload_too_large", "%s is larger than the limit of %lld "
			    "bytes per file (SHEAF_UPLOAD_MAX_FILE)", f->row.filename,
			    cfg->upload_max_file);
	struct error e;
	if (blob_writer_write(f->writer, p, n, &e) != BLOB_OK) {
		log_error("upload (request %s): %s", up->req->request_id, e.msg);
		return fail(up, 503, "unavailable", "object storage failed while writing; see the "
			    "server log");
	}
	sha256_update(f->sha, p, n);
	if (f->head_len < SNIFF_BYTES) {
		size_t take = n < SNIFF_BYTES - f->head_len ? n : SNIFF_BYTES - f->head_len;
		memcpy(f->head + f->head_len, p, take);
		f->head_len += take;
	}
	f->row.size += (int64_t)n;
	return 0;
}

static int file_end(struct upload *up)
{
	struct upload_file *f = &up->files[up->n - 1];
	struct error e;
	struct blob_writer *w = f->writer;
	f->writer = NULL;
	if (blob_writer_commit(w, NULL, &e) != BLOB_OK) {
		log_error("upload (request %s): %s", up->req->request_id, e.msg);
		return fail(up, 503, "unavailable", "object storage could not keep the file; see "
			    "the server log");
	}
	f->committed = true;
	sha256_finish(f->sha, f->row.sha256);
	f->sha = NULL;
	char type[SNIFF_TYPE_MAX];
	sniff_mime(up->req->app->sniffer, f->head, f->head_len, type);
	snprintf(f->row.file_type, sizeof f->row.file_type, "%s", type);
	free(f->head);
	f->head = NULL;
	return 0;
}

static int on_part_end(void *ctx)
{
	struct upload *up = ctx;
	if (up->part == PART_FILE)
		return file_end(up);
	if (up->part == PART_SESSION)
		return set_session(up, up->field.data ? up->field.data : "");
	return 0;
}

static json_t *file_json(const struct file_row *row)
{
	char at[RFC3339_LEN], url[128];
	snprintf(url, sizeof url, "/api/files/%s/download", row->id);
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "file_id", row->id,
			 "session_id", row->session_id, "filename", row->filename, "file_type",
			 row->file_type, "size", (json_int_t)row->size, "sha256", row->sha256,
			 "storage_path", row->storage_key, "uploaded_at",
			 clock_rfc3339(row->uploaded_at, at), "url", url);
}

static int upload_data(struct request *req, void *arg, const char *p, size_t n)
{
	struct upload *up = arg;
	up->received += n;
	if (up->received > (uint64_t)req->app->cfg->upload_max_request) {
		fail(up, 413, "payload_too_large", "the upload is larger than the limit of %lld "
		     "bytes per request (SHEAF_UPLOAD_MAX_REQUEST)",
		     req->app->cfg->upload_max_request);
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

static void upload_end(struct request *req, void *arg)
{
	struct upload *up = arg;
	struct error e;
	if (multipart_finish(up->mp, &e))
		fail(up, 400, "bad_request", "malformed multipart body: %s", e.msg);
	else if (up->n == 0)
		fail(up, 400, "bad_request", "no file part in the upload (a part with a filename)");
	if (up->status) {
		reply_failure(up);
		return;
	}
	struct file_row *rows = xcalloc(up->n, sizeof *rows);
	int64_t now = clock_now_ms();
	for (size_t i = 0; i < up->n; i++) {
		up->files[i].row.uploaded_at = now;
		rows[i] = up->files[i].row;
	}
	enum store_rc rc = store_file_create(req->app->store, rows, up->n, &e);
	if (rc == STORE_OK) {
		up->listed = true;
		json_t *list = json_array();
		for (size_t i = 0; i < up->n; i++)
			json_array_append_new(list, file_json(&rows[i]));
		log_fields(LOG_INFO, "files_uploaded", LOG_STR("session_id", up->session_id),
			   LOG_INT("files", up->n), LOG_INT("bytes", up->received),
			   LOG_STR("request_id", req->request_id));
		http_reply_json(req, 201, json_pack("{s:o}", "files", list));
	} else if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "session %s was deleted during the upload",
				 up->session_id);
	} else {
		api_store_failed(req, "record files", &e);
	}
	free(rows);
}

/* Runs when the request is freed: undoes whatever was not listed. */
static void upload_release(void *arg)
{
	struct upload *up = arg;
	for (size_t i = 0; i < up->n; i++) {
		struct upload_file *f = &up->files[i];
		blob_writer_abort(f->writer);
		if (f->committed && !up->listed) {
			struct error e;
			if (blob_remove(up->req->app->blob, f->row.storage_key, &e) == BLOB_ERROR)
				log_warn("could not remove %s after a failed upload (the sweep will "
					 "retry): %s", f->row.storage_key, e.msg);
		}
		free(f->head);
		sha256_free(f->sha);
		if (f->guarded)
			sweep_guard_remove(up->req->app->uploading, f->row.storage_key);
	}
	multipart_free(up->mp);
	buf_free(&up->field);
	free(up);
}

void api_file_upload(struct request *req)
{
	char boundary[MULTIPART_BOUNDARY_MAX + 1];
	if (api_upload_begin(req, "an upload is multipart/form-data with a session_id field and "
			     "file parts", req->app->cfg->upload_max_request,
			     "per request (SHEAF_UPLOAD_MAX_REQUEST)", boundary))
		return;
	struct upload *up = xcalloc(1, sizeof *up);
	up->req = req;
	buf_init(&up->field, SESSION_FIELD_MAX);
	const char *sid = http_query(req, "session_id");
	if (sid && set_session(up, sid)) {
		reply_failure(up);
		upload_release(up);
		return;
	}
	static const struct multipart_callbacks cb = {
		.part_begin = on_part_begin,
		.part_data = on_part_data,
		.part_end = on_part_end,
	};
	up->mp = multipart_new(boundary, NULL, &cb, up);
	http_stream(req, &(struct http_stream){ .data = upload_data, .end = upload_end,
						.release = upload_release, .arg = up });
}

/* The {file_id} path parameter, or NULL after replying 400. */
static const char *path_file_id(struct request *req)
{
	return api_path_id(req, "file_id", "a file id");
}

/* The caller's file named in the path, or -1 after replying. */
static int owned_file(struct request *req, struct file_row *row)
{
	const char *id = path_file_id(req);
	if (!id)
		return -1;
	struct error e;
	enum store_rc rc = store_file_get(req->app->store, req->user_id, id, row, &e);
	if (rc == STORE_OK)
		return 0;
	if (rc == STORE_NOT_FOUND)
		http_reply_error(req, 404, "not_found", "no file %s", id);
	else
		api_store_failed(req, "read file", &e);
	return -1;
}

void api_file_get(struct request *req)
{
	struct file_row row;
	if (owned_file(req, &row) == 0)
		http_reply_json(req, 200, file_json(&row));
}

void api_file_list(struct request *req)
{
	const char *sid = http_param(req, "session_id");
	if (!id_session_valid(sid)) {
		http_reply_error(req, 400, "invalid_id",
				 "a session id is 1-64 characters of A-Z, a-z, 0-9, _ and -");
		return;
	}
	long long limit, offset;
	if (http_query_int(req, "limit", 20, 1, 100, &limit) ||
	    http_query_int(req, "offset", 0, 0, (long long)1 << 53, &offset))
		return;
	struct file_row *rows;
	size_t n;
	int64_t total;
	struct error e;
	enum store_rc rc = store_file_list(req->app->store, req->user_id, sid, limit, offset, &rows,
					   &n, &total, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no session %s", sid);
		return;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "list files", &e);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, file_json(&rows[i]));
	free(rows);
	http_reply_json(req, 200, json_pack("{s:s, s:o, s:I, s:I, s:I}", "session_id", sid,
					    "files", items, "total", (json_int_t)total, "limit",
					    (json_int_t)limit, "offset", (json_int_t)offset));
}

void api_file_delete(struct request *req)
{
	const char *id = path_file_id(req);
	if (!id)
		return;
	struct file_row row;
	struct error e;
	enum store_rc rc = store_file_delete(req->app->store, req->user_id, id, &row, &e);
	if (rc == STORE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "no file %s", id);
		return;
	}
	if (rc != STORE_OK) {
		api_store_failed(req, "delete file", &e);
		return;
	}
	struct store_keys keys = { .keys = xmalloc(sizeof(char *)), .n = 1 };
	keys.keys[0] = xstrdup(row.storage_key);
	api_remove_objects(req, &keys);
	http_reply_empty(req, 204);
}

/* Without a file descriptor (S3), the object is read a window at a time. */
struct window_reader {
	struct blob_store *blob;
	char key[STORAGE_KEY_MAX + 1];
	uint64_t start;        /* of the response in the object */
	uint64_t length;
	char *win;
	uint64_t win_off;      /* object offset of win[0] */
	size_t win_len;
};

static int window_fill(void *ctx, const void *p, size_t n)
{
	struct window_reader *r = ctx;
	if (r->win_len + n > DOWNLOAD_WINDOW)
		return -1;
	memcpy(r->win + r->win_len, p, n);
	r->win_len += n;
	return 0;
}

static ssize_t window_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct window_reader *r = ctx;
	uint64_t at = r->start + pos;
	if (at < r->win_off || at >= r->win_off + r->win_len) {
		uint64_t left = r->length - pos;
		r->win_off = at;
		r->win_len = 0;
		struct error e;
		if (blob_get(r->blob, r->key, at, left < DOWNLOAD_WINDOW ? left : DOWNLOAD_WINDOW,
			     window_fill, r, &e) != BLOB_OK || r->win_len == 0) {
			log_warn("download of %s stopped at byte %llu: %s", r->key,
				 (unsigned long long)at, r->win_len ? "short read" : e.msg);
			return -1;
		}
	}
	size_t off = (size_t)(at - r->win_off);
	size_t n = r->win_len - off < max ? r->win_len - off : max;
	memcpy(buf, r->win + off, n);
	return (ssize_t)n;
}

static void window_free(void *ctx)
{
	struct window_reader *r = ctx;
	free(r->win);
	free(r);
}

void api_file_download(struct request *req)
{
	struct file_row row;
	if (owned_file(req, &row))
		return;
	char etag[70], disposition[CONTENT_DISPOSITION_MAX + 1];
	snprintf(etag, sizeof etag, "\"%s\"", row.sha256);
	content_disposition(row.filename, "attachment", disposition, sizeof disposition);
	if (http_etag_matches(http_header(req, "If-None-Match"), etag)) {
		http_reply_empty(req, 304);
		http_add_header(req, "ETag", etag);
		return;
	}
	uint64_t size = (uint64_t)row.size, start = 0, length = size;
	int range = http_range(http_header(req, "Range"), size, &start, &length);
	if (range < 0) {
		char cr[48];
		snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
		http_reply_error(req, 416, "range_not_satisfiable", "the file has %llu bytes",
				 (unsigned long long)size);
		http_add_header(req, "Content-Range", cr);
		return;
	}
	int status = range ? 206 : 200;
	int fd;
	struct blob_info info;
	struct error e;
	enum blob_rc brc = blob_open_fd(req->app->blob, row.storage_key, &fd, &info, &e);
	if (brc == BLOB_OK && info.size != size) {
		close(fd);
		brc = BLOB_ERROR;
		error_set(&e, "object %s holds %llu bytes, the file row says %llu", row.storage_key,
			  (unsigned long long)info.size, (unsigned long long)size);
	}
	if (brc == BLOB_OK) {
		http_reply_fd(req, status, row.file_type, fd, start, length);
	} else if (!req->app->blob->ops->open_fd) {
		struct window_reader *r = xcalloc(1, sizeof *r);
		r->blob = req->app->blob;
		snprintf(r->key, sizeof r->key, "%s", row.storage_key);
		r->start = start;
		r->length = length;
		r->win = xmalloc(DOWNLOAD_WINDOW);
		http_reply_stream(req, status, row.file_type, length, window_read, r, window_free);
	} else {
		log_error("download (request %s): %s", req->request_id, e.msg);
		http_reply_error(req, brc == BLOB_NOT_FOUND ? 404 : 503,
				 brc == BLOB_NOT_FOUND ? "not_found" : "unavailable",
				 "the bytes of file %s cannot be read; see the server log", row.id);
		return;
	}
	if (range) {
		char cr[80];
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)start,
			 (unsigned long long)(start + length - 1), (unsigned long long)size);
		http_add_header(req, "Content-Range", cr);
	}
	http_add_header(req, "ETag", etag);
	http_add_header(req, "Accept-Ranges", "bytes");
	http_add_header(req, "Content-Disposition", disposition);
	http_add_header(req, "X-Content-Type-Options", "nosniff");
	http_add_header(req, "Cache-Control", "private, no-cache");
}
