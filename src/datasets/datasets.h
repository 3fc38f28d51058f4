/*
 * The datasets service: what the API, the CLI and the job queue share about
 * datasets -- where their bytes live, the ingest job, and opening a ready
 * dataset's file for reading.
 *
 * Storage layout (object keys):
 *   datasets/<owner>/<id>/original       the upload, byte for byte
 *   datasets/<owner>/<id>/v<N>-<run>.sqlite  version N's dataset file (import.h)
 * Each node keeps copies of dataset files it reads in DATA_DIR/cache/, under
 * the same key: the objects are immutable, so a cached copy never goes
 * stale; it is fetched again when missing.
 *
 * An upload's life: the API writes the original object, then creates the
 * dataset row ("processing") and its ingest job in one transaction.  The job
 * (here) imports the file -- from a local spool copy when this node still
 * has it, otherwise from the original object -- writes the dataset file to
 * storage, puts it in the cache, and marks the row "ready" (or "failed"
 * with the reason).
 */
#ifndef SHEAF_DATASETS_DATASETS_H
#define SHEAF_DATASETS_DATASETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/error.h"
#include "datasets/table.h"
#include "ingest/import.h"
#include "jobs/jobs.h"
#include "query/sql.h"
#include "store/store.h"

struct app;

#define DATASET_INGEST_KIND "ingest"

/* The ingest job kind; its arg is the struct app. */
extern const struct job_kind dataset_ingest_kind;

/* Object keys of a dataset (cap >= STORAGE_KEY_MAX + 1).  A data key also
 * names the ingest run that wrote it (run: a random tag), so two runs of
 * one job -- one taken over from a worker that only looked dead -- never
 * write or remove each other's file. */
void dataset_original_key(const char *owner, const char *id, char *out, size_t cap);
void dataset_data_key(const char *owner, const char *id, int64_t version, const char *run,
		      char *out, size_t cap);

/* DATA_DIR/tmp/name (the directory is created). */
int dataset_tmp_path(const struct app *app, const char *name, char *out, size_t cap,
		     struct error *e);

/*
 * Stores the dataset file an import wrote at path as ds's data object
 * (moved into local storage, or copied to S3 and kept as this node's cached
 * copy) under a key naming this run, and fills ds's data_key, data_bytes,
 * rows, columns, encoding, delimiter, sheet and summary from res.  The row
 * in the store is not touched.  0, or -1 with e set.
 */
int dataset_store_file(struct app *app, struct dataset_row *ds, const char *path,
		       const char *run, const struct import_result *res, struct error *e);

/* Where uploads are spooled for ingestion (DATA_DIR/tmp/, created). */
int dataset_spool_path(const struct app *app, const char *id, char *out, size_t cap,
		       struct error *e);

/*
 * The import options a dataset row keeps (row->options), as JSON: format,
 * encoding, delimiter, sheet, header ("auto", "yes", "no"), strict.  The
 * reading side fills opt from the JSON and the app's limits; its strings
 * point into json, which must outlive opt.
 */
void dataset_import_options(const struct app *app, const json_t *json,
			    struct import_options *opt);

/* Checks a dataset's name (1 to DATASET_NAME_MAX bytes of UTF-8) and
 * description (at most DATASET_DESCRIPTION_MAX bytes of UTF-8); NULL skips
 * one.  -1 with e naming the field and the rule. */
int dataset_check_texts(const char *name, const char *description, struct error *e);

/* The name a dataset gets from its file's name: without the extension. */
void dataset_default_name(const char *file_name, char *out, size_t cap);

/* The import choices a user may make; NULL or "" keeps the default. */
struct dataset_choices {
	const char *format;      /* csv, tsv, xlsx, xls */
	const char *delimiter;   /* , ; | or a tab (also "tab", "\t", "comma", ...) */
	const char *encoding;    /* any name encoding_normalize takes */
	const char *sheet;       /* a sheet name or 0-based index */
	const char *header;      /* auto, true/yes/1, false/no/0 */
	const char *strict;      /* true/false */
};

/* Checks the choices and returns the options JSON a dataset row keeps
 * (malloc'd), with *format set to the format asked for ("" to detect,
 * static text).  NULL with e naming the field ("delimiter: one of ..."). */
char *dataset_options(const struct dataset_choices *c, const char **format, struct error *e);

/* Records a new dataset row (status processing) and its ingest job, which
 * reads spool ("" when the original object is to be read); job_id gets the
 * job's id.  0, or -1 with e set. */
int dataset_enqueue(struct app *app, struct dataset_row *row, const char *spool,
		    char job_id[USER_ID_MAX + 1], struct error *e);

/* The JSON Schema of a transformation request: {"steps", "name"?,
 * "description"?} (datasets/derive.c). */
extern const char dataset_derive_schema[];

/* Its "properties" as JSON text without the braces, for schemas that take a
 * transformation request and more (the transform tool's). */
#define DATASET_DERIVE_PROPERTIES DATASET_JSON_TEXT_(                                      \
	"name": {"type": "string", "minLength": 1, "maxLength": 200},                       \
	"description": {"type": "string", "maxLength": 2000},                               \
	"steps": {"type": "array", "minItems": 1, "maxItems": 32, "items": {                \
		"type": "object", "required": ["op"],                                        \
		"properties": {                                                              \
			"op": {"enum": ["filter", "select", "rename", "derive", "sort",       \
					"deduplicate", "join", "aggregate", "limit"]},        \
			"where": {"type": "string", "minLength": 1},                         \
			"columns": {"type": ["array", "object"]},                            \
			"name": {"type": "string", "minLength": 1},                          \
			"expression": {"type": "string", "minLength": 1},                    \
			"by": {"type": "array", "minItems": 1, "maxItems": 16},              \
			"dataset_id": {"type": "string", "minLength": 1},                    \
			"on": {"type": "array", "minItems": 1, "maxItems": 16},              \
			"how": {"enum": ["inner", "left"]},                                  \
			"aggregations": {"type": "array", "minItems": 1, "maxItems": 64,     \
				"items": {"type": "object", "required": ["function"],        \
					  "additionalProperties": false, "properties": {      \
					"column": {"type": "string"},                        \
					"function": {"enum": ["sum", "mean", "count", "min", \
							      "max", "median", "std",        \
							      "nunique"]},                   \
					"as": {"type": "string", "minLength": 1}}}},         \
			"n": {"type": "integer", "minimum": 1}},                             \
		"additionalProperties": false}})
#define DATASET_JSON_TEXT_(...) #__VA_ARGS__

/*
 * Compiles body's steps over src (the user's, ready, open as t), writes the
 * rows as the new dataset's original and records the dataset (row, which
 * the caller clears) with its ingest job (job_id) queued.  SQL_OK, or the
 * status of what failed with e set (SQL_FAILED: the server's fault).
 * stop(stop_arg), when given, is asked while the rows are computed: true
 * stops the derivation (SQL_CANCELLED) before any dataset exists.
 */
enum sql_status dataset_derive(struct app *app, const char *user_id,
			       const struct dataset_row *src, struct table *t,
			       const json_t *body, bool (*stop)(void *arg), void *stop_arg,
			       struct dataset_row *row,
			       char job_id[USER_ID_MAX + 1], struct error *e);

/* The format of a file from its first bytes: "xlsx" (a zip), "xls" (an OLE2
 * compound file) or "csv". */
const char *dataset_sniff_format(const void *head, size_t n);

/* The payload of an ingest job: where the upload was spooled ("" when it
 * was not); the job removes that file when it is done with it. */
char *dataset_ingest_payload(const char *spool);

/*
 * Opens the ready dataset's file for reading, fetching it into the local
 * cache first when needed.  NULL with e set.
 */
struct table *dataset_open(struct app *app, const struct dataset_row *row, struct error *e);

/*
 * A dataset as the API and the tools show it, a new reference: id,
 * dataset_id, name, description, status, progress (percent), error, rows,
 * columns, size_bytes, data_bytes, format, source_name, encoding,
 * delimiter, sheet, version, parent_id (empty texts as null), uploaded_at,
 * updated_at, job_id when there is one; full adds columns_info and
 * warnings from the summary (a row without a summary, still processing,
 * always has them, empty).
 */
json_t *dataset_json(const struct dataset_row *r, bool full);

/* Replaces o's columns_info (from dataset_json(r, true)) by the columns of
 * r's file t (table_columns_json, each with its profile), keeping the
 * summary's fields the file lacks (unique, nulls). */
void dataset_json_columns(json_t *o, const struct table *t);

/* Removes this node's cached copy of a dataset file (after a delete). */
void dataset_uncache(const struct app *app, const char *data_key);

/* After a delete: this node's spool of the upload (a job that was still
 * queued never ran to remove it) and cached copies of keys. */
void dataset_forget_local(const struct app *app, const char *id, const struct store_keys *keys);

/* Removes leftovers of ingest jobs that died with the process (their
 * half-written files in DATA_DIR/tmp, untouched for ten minutes, and
 * spools as old, which jobs can do without).  Called at start, before jobs
 * run. */
void dataset_clean_tmp(const struct app *app);

#endif
