/*
 * The datasets service: storage keys, the local cache of dataset files, and
 * the ingest job.  See datasets.h for the life of an upload.
 */
#include "datasets/datasets.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "base/log.h"
#include "base/utf8.h"
#include "ingest/encoding.h"

#define TMP_IDLE_S 600   /* a temporary file unchanged this long belongs to no live ingest */

void dataset_original_key(const char *owner, const char *id, char *out, size_t cap)
{
	snprintf(out, cap, "datasets/%s/%s/original", owner, id);
}

void dataset_data_key(const char *owner, const char *id, int64_t version, const char *run,
		      char *out, size_t cap)
{
	snprintf(out, cap, "datasets/%s/%s/v%" PRId64 "-%s.sqlite", owner, id, version, run);
}

static int tmp_path(const struct app *app, const char *name, char *out, size_t cap,
		    struct error *e)
{
	if ((size_t)snprintf(out, cap, "%s/tmp/%s", app->cfg->data_dir, name) >= cap)
		return error_set(e, "data directory path too long");
	return fs_mkdirs(out, false, false, e);
}

int dataset_tmp_path(const struct app *app, const char *name, char *out, size_t cap,
		     struct error *e)
{
	return tmp_path(app, name, out, cap, e);
}

int dataset_spool_path(const struct app *app, const char *id, char *out, size_t cap,
		       struct error *e)
{
	char name[USER_ID_MAX + 16];
	snprintf(name, sizeof name, "spool-%s", id);
	return tmp_path(app, name, out, cap, e);
}

static int cache_path(const struct app *app, const char *key, char *out, size_t cap,
		      struct error *e)
{
	if ((size_t)snprintf(out, cap, "%s/cache/%s", app->cfg->data_dir, key) >= cap)
		return error_set(e, "data directory path too long");
	return fs_mkdirs(out, false, false, e);
}

void dataset_uncache(const struct app *app, const char *data_key)
{
	char path[4096];
	if (*data_key && cache_path(app, data_key, path, sizeof path, NULL) == 0)
		unlink(path);
}

void dataset_forget_local(const struct app *app, const char *id, const struct store_keys *keys)
{
	char path[4200];
	if (dataset_spool_path(app, id, path, sizeof path, NULL) == 0)
		unlink(path);
	for (size_t i = 0; i < keys->n; i++)
		dataset_uncache(app, keys->keys[i]);
}

void dataset_clean_tmp(const struct app *app)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/tmp", app->cfg->data_dir);
	DIR *d = opendir(dir);
	if (!d)
		return;
	/* Only files left alone for a while: an ingest that is alive writes
	 * its file all the time (`sheaf import` may be running right now). */
	time_t cutoff = time(NULL) - TMP_IDLE_S;
	struct dirent *de;
	while ((de = readdir(d))) {
		struct stat sb;
		/* A spool is only a local copy of an original that is in
		 * storage: a job that finds it gone fetches the original. */
		if ((strncmp(de->d_name, "ingest-", 7) == 0 || strncmp(de->d_name, "fetch-", 6) == 0 ||
		     strncmp(de->d_name, "spool-", 6) == 0) &&
		    fstatat(dirfd(d), de->d_name, &sb, 0) == 0 && sb.st_mtime < cutoff)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

static const char *text_or(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : def;
}

void dataset_import_options(const struct app *app, const json_t *json,
			    struct import_options *opt)
{
	const struct config *cfg = app->cfg;
	memset(opt, 0, sizeof *opt);
	opt->format = text_or(json, "format", NULL);
	opt->encoding = text_or(json, "encoding", NULL);
	const char *d = text_or(json, "delimiter", NULL);
	opt->delimiter = d ? d[0] : 0;
	opt->sheet = text_or(json, "sheet", NULL);
	const char *h = text_or(json, "header", "auto");
	opt->header = strcmp(h, "yes") == 0 ? IMPORT_HEADER_YES
		      : strcmp(h, "no") == 0 ? IMPORT_HEADER_NO
					       : IMPORT_HEADER_AUTO;
	opt->strict = json_is_true(json_object_get(json, "strict"));
	opt->max_columns = (size_t)cfg->dataset_max_columns;
	opt->max_field_bytes = (size_t)cfg->dataset_max_field;
	opt->xlsx_max_bytes = (uint64_t)cfg->dataset_xlsx_max_bytes;
	opt->xlsx_max_ratio = (unsigned)cfg->dataset_xlsx_max_ratio;
}

int dataset_check_texts(const char *name, const char *description, struct error *e)
{
	if (name && (!*name || strlen(name) > DATASET_NAME_MAX || !utf8_valid(name)))
		return error_set(e, "name: 1 to %d bytes of UTF-8", DATASET_NAME_MAX);
	if (description && (strlen(description) > DATASET_DESCRIPTION_MAX ||
			    !utf8_valid(description)))
		return error_set(e, "description: at most %d bytes of UTF-8",
				 DATASET_DESCRIPTION_MAX);
	return 0;
}

void dataset_default_name(const char *file_name, char *out, size_t cap)
{
	snprintf(out, cap, "%.*s", (int)utf8_prefix(file_name, cap - 1), file_name);
	char *dot = strrchr(out, '.');
	if (dot && dot != out)
		*dot = 0;
}

static bool parse_flag(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = true;
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool given(const char *s)
{
	return s && *s;
}

char *dataset_options(const struct dataset_choices *c, const char **format, struct error *e)
{
	json_t *opt = json_object();
	char *out = NULL;
	char delim = 0;
	*format = "";
	if (given(c->format)) {
		static const char *const formats[] = { "csv", "tsv", "xlsx", "xls" };
		size_t i;
		for (i = 0; i < 4 && strcasecmp(c->format, formats[i]) != 0; i++)
			;
		if (i == 4) {
			error_set(e, "format: one of csv, tsv, xlsx, xls");
			goto out;
		}
		*format = i == 1 ? "csv" : formats[i];
		if (i == 1)
			delim = '\t';
		json_object_set_new(opt, "format", json_string(*format));
	}
	if (given(c->delimiter)) {
		static const struct {
			const char *name;
			char c;
		} names[] = { { ",", ',' }, { ";", ';' }, { "|", '|' }, { "\t", '\t' },
			      { "tab", '\t' }, { "\\t", '\t' }, { "comma", ',' },
			      { "semicolon", ';' }, { "pipe", '|' } };
		size_t i, n = sizeof names / sizeof names[0];
		for (i = 0; i < n && strcasecmp(c->delimiter, names[i].name) != 0; i++)
			;
		if (i == n) {
			error_set(e, "delimiter: one of \",\", \";\", \"|\" or a tab (\"tab\")");
			goto out;
		}
		delim = names[i].c;
	}
	if (delim)
		json_object_set_new(opt, "delimiter", json_stringn(&delim, 1));
	if (given(c->encoding)) {
		char canon[ENCODING_NAME_MAX];
		struct error ee;
		if (encoding_normalize(c->encoding, canon, &ee) < 0) {
			error_set(e, "encoding: %s", ee.msg);
			goto out;
		}
		json_object_set_new(opt, "encoding", json_string(canon));
	}
	if (given(c->sheet)) {
		if (!utf8_valid(c->sheet) || strlen(c->sheet) > DATASET_NAME_MAX) {
			error_set(e, "sheet: at most %d bytes of UTF-8", DATASET_NAME_MAX);
			goto out;
		}
		json_object_set_new(opt, "sheet", json_string(c->sheet));
	}
	if (given(c->header)) {
		bool yes;
		if (strcasecmp(c->header, "auto") == 0)
			json_object_set_new(opt, "header", json_string("auto"));
		else if (parse_flag(c->header, &yes))
			json_object_set_new(opt, "header", json_string(yes ? "yes" : "no"));
		else {
			error_set(e, "header: auto, true or false");
			goto out;
		}
	}
	bool strict = false;
	if (given(c->strict) && !parse_flag(c->strict, &strict)) {
		error_set(e, "strict: true or false");
		goto out;
	}
	json_object_set_new(opt, "strict", json_boolean(strict));
	out = json_dumps(opt, JSON_COMPACT | JSON_SORT_KEYS);
out:
	json_decref(opt);
	return out;
}

const char *dataset_sniff_format(const void *head, size_t n)
{
	if (n >= 4 && memcmp(head, "PK\x03\x04", 4) == 0)
		return "xlsx";
	if (n >= 8 && memcmp(head, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0)
		return "xls";
	return "csv";
}

char *dataset_ingest_payload(const char *spool)
{
	json_t *o = json_pack("{s:s}", "spool", spool ? spool : "");
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* ---- moving bytes between files and objects ---- */


/* Fetches object key into a new file at path (replaced if it exists). */
static int fetch_file(struct app *app, const char *key, const char *path, struct error *e)
{
	char part[4200];
	char name[64];
	char rnd[17];
	id_random(rnd, 8);
	snprintf(name, sizeof name, "fetch-%s", rnd);
	if (tmp_path(app, name, part, sizeof part, e) < 0)
		return -1;
	int fd = open(part, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return error_set(e, "creating %s: %s", part, strerror(errno));
	enum blob_rc rc = blob_get(app->blob, key, 0, 0, blob_write_fd, &fd, e);
	if (close(fd) < 0 && rc == BLOB_OK) {
		error_set(e, "writing %s: %s", part, strerror(errno));
		rc = BLOB_ERROR;
	}
	if (rc == BLOB_OK && rename(part, path) < 0) {
		error_set(e, "renaming into %s: %s", path, strerror(errno));
		rc = BLOB_ERROR;
	}
	if (rc != BLOB_OK) {
		unlink(part);
		if (rc == BLOB_NOT_FOUND)
			error_set(e, "object %s is missing", key);
		return -1;
	}
	return 0;
}

/* ---- the cache's size ---- */

struct cached {
	char *path;
	off_t size;
	time_t used;
};

struct cache_list {
	struct cached *files;
	size_t n, cap;
	uint64_t total;
};

/* Every file below dir (depth-limited: the cache is datasets/owner/id/file). */
static void list_cached(const char *dir, int depth, struct cache_list *l)
{
	DIR *d = depth > 0 ? opendir(dir) : NULL;
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char path[4200];
		struct stat sb;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path ||
		    lstat(path, &sb) < 0)
			continue;
		if (S_ISDIR(sb.st_mode)) {
			list_cached(path, depth - 1, l);
			continue;
		}
		if (!S_ISREG(sb.st_mode))
			continue;
		if (l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			l->files = xrealloc(l->files, l->cap * sizeof *l->files);
		}
		l->files[l->n++] = (struct cached){ xstrdup(path), sb.st_size, sb.st_mtime };
		l->total += (uint64_t)sb.st_size;
	}
	closedir(d);
}

static int by_use(const void *a, const void *b)
{
	const struct cached *x = a, *y = b;
	return (x->used > y->used) - (x->used < y->used);
}

/* Removes the least recently used cached files until the cache fits
 * SHEAF_DATASET_CACHE_SIZE again, sparing keep (just fetched).  A file in
 * use stays readable to whoever has it open.  Two trims at once may both
 * remove files; the cache is then only smaller than it needed to be. */
static void cache_trim(const struct app *app, const char *keep)
{
	uint64_t limit = (uint64_t)app->cfg->dataset_cache_size;
	char dir[4096];
	struct cache_list l = { 0 };
	if (!limit)
		return;
	snprintf(dir, sizeof dir, "%s/cache", app->cfg->data_dir);
	list_cached(dir, 5, &l);
	qsort(l.files, l.n, sizeof *l.files, by_use);
	for (size_t i = 0; i < l.n; i++) {
		if (l.total > limit && strcmp(l.files[i].path, keep) != 0 &&
		    unlink(l.files[i].path) == 0) {
			l.total -= (uint64_t)l.files[i].size;
			log_info("dataset cache: removed %s (least recently used)", l.files[i].path);
		}
		free(l.files[i].path);
	}
	free(l.files);
}

struct table *dataset_open(struct app *app, const struct dataset_row *row, struct error *e)
{
	char path[4096];
	if (!*row->data_key) {
		error_set(e, "dataset %s has no data file (status %s)", row->id, row->status);
		return NULL;
	}
	/* Objects that are local files are read where they are. */
	if (blob_local_path(app->blob, row->data_key, path, sizeof path) == 0)
		return table_open(path, e);
	if (cache_path(app, row->data_key, path, sizeof path, e) < 0)
		return NULL;
	if (access(path, R_OK) == 0) {
		/* Its modification time says when it was last used, for trimming. */
		utimensat(AT_FDCWD, path, NULL, 0);
	} else {
		if (fetch_file(app, row->data_key, path, e) < 0)
			return NULL;
		cache_trim(app, path);
	}
	return table_open(path, e);
}

/* ---- the JSON of a dataset ---- */

json_t *dataset_json(const struct dataset_row *r, bool full)
{
	char created[RFC3339_LEN], updated[RFC3339_LEN];
	/* "s?" writes null for NULL: an empty text shows as null. */
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s?, s:I, s:I, s:I, s:I, s:s, s:s, "
			      "s:s?, s:s?, s:s?, s:I, s:s?, s:s, s:s}",
			      "id", r->id, "dataset_id", r->id, "name", r->name, "description",
			      r->description, "status", r->status, "progress",
			      (json_int_t)(r->progress / 10), "error", *r->error ? r->error : NULL,
			      "rows", (json_int_t)r->rows, "columns", (json_int_t)r->columns,
			      "size_bytes", (json_int_t)r->size_bytes, "data_bytes",
			      (json_int_t)r->data_bytes, "format", r->format, "source_name",
			      r->source_name, "encoding", *r->encoding ? r->encoding : NULL,
			      "delimiter", *r->delimiter ? r->delimiter : NULL,
			      "sheet", *r->sheet ? r->sheet : NULL, "version", (json_int_t)r->version,
			      "parent_id", *r->parent_id ? r->parent_id : NULL,
			      "uploaded_at", clock_rfc3339(r->created_at, created), "updated_at",
			      clock_rfc3339(r->updated_at, updated));
	if (*r->job_id)
		json_object_set_new(o, "job_id", json_string(r->job_id));
	json_t *summary = r->summary ? json_loads(r->summary, 0, NULL) : NULL;
	json_t *cols = json_object_get(summary, "columns_info");
	json_t *warnings = json_object_get(summary, "warnings");
	if (full || !summary) {
		/* json_object_set_new steals: a borrowed member needs its own reference. */
		json_object_set_new(o, "columns_info", cols ? json_incref(cols) : json_array());
		json_object_set_new(o, "warnings", warnings ? json_incref(warnings) : json_array());
	}
	json_decref(summary);
	return o;
}

void dataset_json_columns(json_t *o, const struct table *t)
{
	/* The profiles live in the dataset file, not the store; the summary's
	 * fields (unique, nulls) stay, as in the upload's answer: fields may be
	 * added, never dropped. */
	json_t *cols = table_columns_json(t);
	json_t *summary = json_object_get(o, "columns_info");
	size_t i;
	json_t *c;
	if (json_array_size(summary) == json_array_size(cols))
		json_array_foreach(cols, i, c)
			json_object_update_missing(c, json_array_get(summary, i));
	json_object_set_new(o, "columns_info", cols);
}

/* ---- the ingest job ---- */

struct ingest {
	struct job_ctx *ctx;
	struct app *app;
};

static bool on_progress(void *arg, int64_t per_mille)
{
	struct ingest *in = arg;
	return job_progress(in->ctx, per_mille, per_mille < 400 ? "reading" : "writing");
}

static char *summary_json(const struct import_result *r)
{
	json_t *cols = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(r->columns_info, i, c) {
		json_t *copy = json_copy(c);
		json_object_del(copy, "profile");
		json_array_append_new(cols, copy);
	}
	json_t *o = json_pack("{s:o, s:O}", "columns_info", cols, "warnings", r->warnings);
	char *s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

static void remove_spool(const struct job_row *job)
{
	json_t *p = json_loads(job->payload ? job->payload : "{}", 0, NULL);
	const char *spool = json_string_value(json_object_get(p, "spool"));
	if (spool && *spool)
		unlink(spool);
	json_decref(p);
}

/* A failure on our side: the log gets the details, the dataset (and the
 * upload's answer, a 500 for this prefix) a sentence without paths. */
static enum job_outcome internal_failure(const char *dataset, const char *what, struct error *e)
{
	log_error("ingest of dataset %s: %s: %s", dataset, what, e->msg);
	error_set(e, "internal error while %s; see the server log", what);
	return JOB_FAILED;
}

int dataset_store_file(struct app *app, struct dataset_row *ds, const char *path,
		       const char *run, const struct import_result *res, struct error *e)
{
	char cached[4200];
	dataset_data_key(ds->owner_id, ds->id, ds->version, run, ds->data_key, sizeof ds->data_key);
	/* Local storage takes the file as it is; a remote one gets a copy and
	 * the file becomes this node's cached copy. */
	bool moved;
	if (blob_adopt(app->blob, ds->data_key, path, &moved, e) != BLOB_OK)
		return -1;
	if (!moved && cache_path(app, ds->data_key, cached, sizeof cached, NULL) == 0 &&
	    rename(path, cached) < 0)
		log_warn("caching dataset %s: %s", ds->id, strerror(errno));
	ds->data_bytes = res->data_bytes;
	ds->rows = res->rows;
	ds->columns = res->columns;
	snprintf(ds->encoding, sizeof ds->encoding, "%s", res->encoding);
	ds->delimiter[0] = res->delimiter;
	ds->delimiter[1] = 0;
	snprintf(ds->sheet, sizeof ds->sheet, "%s", res->sheet ? res->sheet : "");
	free(ds->summary);
	ds->summary = summary_json(res);
	return 0;
}

/* Imports src into the dataset's file, stores it and marks the row ready. */
static enum job_outcome ingest_file(struct ingest *in, struct dataset_row *ds, const char *src,
				    const char *job_id, struct error *e)
{
	struct app *app = in->app;
	char dst[4200], name[USER_ID_MAX + 32];
	/* Each run writes its own files: if the job was taken over by another
	 * runner (its worker looked dead), the two never touch each other's. */
	char run[ID_CHARS(9) + 1];
	id_random(run, 9);
	snprintf(name, sizeof name, "ingest-%s-%s.sqlite", job_id, run);
	if (tmp_path(app, name, dst, sizeof dst, e) < 0)
		return internal_failure(ds->id, "making a temporary file", e);

	json_t *optjson = json_loads(ds->options ? ds->options : "{}", 0, NULL);
	struct import_options opt;
	dataset_import_options(app, optjson, &opt);
	opt.progress = on_progress;
	opt.progress_ctx = in;
	struct import_result res;
	int64_t t0 = clock_mono_ns();
	int rc = import_file(src, dst, &opt, &res, e);
	json_decref(optjson);
	if (rc < 0) {
		enum import_failure why = res.failure;
		import_result_clear(&res);
		if (why == IMPORT_CANCELLED)
			return JOB_CANCELLED;
		if (why == IMPORT_INTERNAL)
			return internal_failure(ds->id, "importing", e);
		return JOB_FAILED;
	}
	enum job_outcome out = JOB_FAILED;
	if (dataset_store_file(app, ds, dst, run, &res, e) < 0) {
		internal_failure(ds->id, "storing the dataset file", e);
		goto out;
	}
	enum store_rc src_rc = store_dataset_ready(app->store, ds, clock_now_ms(), e);
	if (src_rc == STORE_OK) {
		out = JOB_DONE;
		log_fields(LOG_INFO, "dataset_ready", LOG_STR("dataset_id", ds->id),
			   LOG_INT("rows", res.rows), LOG_INT("columns", res.columns),
			   LOG_INT("passes", res.passes),
			   LOG_INT("ms", (clock_mono_ns() - t0) / 1000000));
	} else {
		/* Deleted (or failed) meanwhile: nothing may point at the file. */
		struct error re;
		blob_remove(app->blob, ds->data_key, &re);
		dataset_uncache(app, ds->data_key);
		if (src_rc == STORE_ERROR)
			internal_failure(ds->id, "recording the result", e);
		else
			out = JOB_CANCELLED;
	}
out:
	unlink(dst);
	import_result_clear(&res);
	return out;
}

static enum job_outcome ingest_run(struct job_ctx *ctx, const struct job_row *job, void *arg,
				   char **result, struct error *e)
{
	struct app *app = arg;
	struct ingest in = { .ctx = ctx, .app = app };
	struct dataset_row ds;
	(void)result;
	enum store_rc rc = store_dataset_get(app->store, job->owner_id, job->subject_id, &ds, e);
	if (rc == STORE_NOT_FOUND) {
		remove_spool(job);
		return JOB_CANCELLED;
	}
	if (rc != STORE_OK)
		return internal_failure(job->subject_id, "reading the dataset's record", e);
	if (strcmp(ds.status, "processing") != 0) {
		dataset_row_clear(&ds);
		remove_spool(job);
		return JOB_DONE;
	}
	job_progress(ctx, 0, "starting");

	/* The spool copy if this node still has it, else the original object. */
	json_t *payload = json_loads(job->payload ? job->payload : "{}", 0, NULL);
	const char *spool = json_string_value(json_object_get(payload, "spool"));
	char fetched[4200] = "", local[4200];
	const char *src = spool && *spool && access(spool, R_OK) == 0 ? spool : NULL;
	enum job_outcome out = JOB_FAILED;
	/* The original itself, when objects are local files: no copy. */
	if (!src && blob_local_path(app->blob, ds.original_key, local, sizeof local) == 0 &&
	    access(local, R_OK) == 0)
		src = local;
	if (!src) {
		char name[USER_ID_MAX + 32];
		char run[ID_CHARS(9) + 1];
		id_random(run, 9);
		snprintf(name, sizeof name, "ingest-%s-%s.src", job->id, run);
		if (tmp_path(app, name, fetched, sizeof fetched, e) < 0 ||
		    fetch_file(app, ds.original_key, fetched, e) < 0) {
			internal_failure(ds.id, "fetching the upload from storage", e);
			fetched[0] = 0;
			goto out;
		}
		src = fetched;
	}
	out = ingest_file(&in, &ds, src, job->id, e);
out:
	if (*fetched)
		unlink(fetched);
	if (out != JOB_CANCELLED || job_should_stop(ctx) == false)
		remove_spool(job);
	json_decref(payload);
	dataset_row_clear(&ds);
	return out;
}

static void ingest_failed(const struct job_row *job, const char *error, void *arg)
{
	struct app *app = arg;
	struct error e;
	remove_spool(job);
	enum store_rc rc = store_dataset_fail(app->store, job->owner_id, job->subject_id,
					      error && *error ? error : "the import was stopped",
					      clock_now_ms(), &e);
	if (rc == STORE_ERROR)
		log_error("marking dataset %s failed: %s", job->subject_id, e.msg);
}

const struct job_kind dataset_ingest_kind = {
	.name = DATASET_INGEST_KIND,
	.run = ingest_run,
	.on_failed = ingest_failed,
};
