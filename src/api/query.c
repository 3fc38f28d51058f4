/*
 * POST /api/datasets/{dataset_id}/query: user SQL over a dataset's rows
 * (the table data), through the sandbox of query/sql.h.
 *
 * Two shapes of answer:
 *   - the default: at most `limit` rows (default QUERY_DEFAULT_LIMIT, at
 *     most SHEAF_QUERY_MAX_ROWS) and SHEAF_QUERY_MAX_BYTES of JSON, built
 *     on a slow-work thread and sent whole; answers of cacheable queries
 *     are kept in the cache under the dataset file's key (which names the
 *     version), the SQL, the parameters and the limit;
 *   - streamed (`"stream": true`, or `Accept: text/csv`): the same JSON
 *     object, or CSV, rendered as the client reads it, in constant memory,
 *     with every row unless `limit` is given.  Errors found before the
 *     first row are answered with a status; a failure after that cuts the
 *     response short (the chunked body never ends properly, so no client
 *     mistakes it for a whole answer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/sha256.h"
#include "datasets/datasets.h"
#include "datasets/render.h"
#include "query/sql.h"

#define QUERY_DEFAULT_LIMIT 1000
#define CACHE_PREFIX "query:"

struct query_job {
	json_t *body;                /* holds sql and params */
	const char *sql;
	const json_t *params;
	long long limit;             /* < 0: every row (streams only) */
	bool stream;
	bool csv;
	char cache_key[sizeof CACHE_PREFIX + SHA256_HEX];
	struct dataset_row row;
	int64_t start_ns;
};

/* A streamed answer in flight. */
struct query_stream {
	struct table *t;
	struct sql_query *q;
	struct render_export *x;
	int64_t start_ns;
	int first_step;              /* the caller's first step, for the column types */
	char id[USER_ID_MAX + 1];
};

static void job_free(struct query_job *job)
{
	json_decref(job->body);
	dataset_row_clear(&job->row);
	free(job);
}

static int status_of(enum sql_status s)
{
	switch (s) {
	case SQL_FORBIDDEN:
	case SQL_INVALID: return 400;
	case SQL_TIMEOUT:
	case SQL_TOO_BIG: return 422;
	default: return 500;
	}
}

static const char *code_of(enum sql_status s)
{
	switch (s) {
	case SQL_FORBIDDEN: return "forbidden_sql";
	case SQL_INVALID: return "bad_sql";
	case SQL_TIMEOUT: return "query_timeout";
	case SQL_TOO_BIG: return "query_too_big";
	default: return "internal";
	}
}

static void reply_sql_error(struct request *req, const struct query_job *job, enum sql_status s,
			    const struct error *e)
{
	if (s == SQL_FAILED) {
		log_error("query on dataset %s (request %s): %s", job->row.id, req->request_id,
			  e->msg);
		http_reply_error(req, 500, "internal", "the dataset file could not be read; see "
				 "the server log");
		return;
	}
	http_reply_error(req, status_of(s), code_of(s), "%s", e->msg);
}

/* {"columns":[{"name","type"}],"rows":[ -- types from the first row when
 * the result column is not one of the dataset's. */
static int write_head(struct buf *b, struct sql_query *q, int first_step)
{
	sqlite3_stmt *st = sql_stmt(q);
	int rc = buf_puts(b, "{\"columns\":[");
	for (size_t i = 0; i < sql_ncols(q) && rc == 0; i++) {
		int type = first_step == SQLITE_ROW && st ? sqlite3_column_type(st, (int)i) : SQLITE_NULL;
		rc |= buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
		rc |= render_json_string(b, sql_name(q, i), strlen(sql_name(q, i)));
		rc |= buf_printf(b, ",\"type\":\"%s\"}", render_kind_name(sql_kind(q, i), type));
	}
	return rc ? rc : buf_puts(b, "],\"rows\":[");
}

static int write_counts(struct buf *b, uint64_t rows, bool truncated)
{
	return buf_printf(b, "],\"row_count\":%llu,\"truncated\":%s", (unsigned long long)rows,
			  truncated ? "true" : "false");
}

static int write_end(struct buf *b, int64_t start_ns, bool cached)
{
	return buf_printf(b, ",\"elapsed_ms\":%lld,\"cached\":%s}",
			  (long long)((clock_mono_ns() - start_ns) / 1000000),
			  cached ? "true" : "false");
}

/* ---- whole answers ---- */

static void run_whole(struct request *req, struct query_job *job, struct sql_query *q, int step)
{
	const struct config *cfg = req->app->cfg;
	struct buf out;
	buf_init(&out, (size_t)cfg->query_max_bytes);
	size_t ncols = sql_ncols(q);
	sqlite3_stmt *st = sql_stmt(q);
	uint64_t rows = 0;
	bool truncated = false;
	struct error e;
	if (write_head(&out, q, step) < 0)
		goto too_big;
	while (step == SQLITE_ROW) {
		if (rows == (uint64_t)job->limit) {
			truncated = true;
			break;
		}
		size_t mark = out.len;
		int rc = buf_puts(&out, rows ? ",[" : "[");
		for (size_t i = 0; i < ncols && rc == 0; i++) {
			if (i)
				rc = buf_puts(&out, ",");
			if (rc == 0)
				rc = render_value(&out, st, (int)i, sql_kind(q, i), RENDER_ARRAYS, ncols);
		}
		if (rc == 0)
			rc = buf_puts(&out, "]");
		/* Room for the closing fields: a row that crowds them out is left out. */
		if (rc == 0 && out.len + 128 > out.limit)
			rc = -1;
		if (rc) {
			out.len = mark;
			out.data[mark] = 0;
			truncated = true;
			break;
		}
		rows++;
		step = sql_step(q);
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		enum sql_status s = sql_failure(q, &e);
		buf_free(&out);
		reply_sql_error(req, job, s, &e);
		return;
	}
	write_counts(&out, rows, truncated);
	if (*job->cache_key && sql_cacheable(q) && out.len <= (size_t)cfg->query_cache_max) {
		struct error ce;
		if (cache_set(req->app->cache, job->cache_key, out.data, out.len,
			      cfg->query_cache_ttl * 1000, &ce) == CACHE_ERROR)
			log_warn("query cache: %s", ce.msg);
	}
	write_end(&out, job->start_ns, false);
	size_t len = out.len;
	http_reply_owned(req, 200, "application/json", buf_detach(&out), len);
	return;
too_big:
	buf_free(&out);
	http_reply_error(req, 422, "query_too_big", "the answer's column list is longer than "
			 "SHEAF_QUERY_MAX_BYTES");
}

/* ---- streamed answers ---- */

static int stream_head(void *arg, struct buf *b)
{
	struct query_stream *s = arg;
	return write_head(b, s->q, s->first_step);
}

static int stream_tail(void *arg, struct buf *b, uint64_t rows, bool truncated)
{
	struct query_stream *s = arg;
	int rc = write_counts(b, rows, truncated);
	return rc ? rc : write_end(b, s->start_ns, false);
}

static ssize_t stream_read(void *ctx, uint64_t pos, char *buf, size_t max)
{
	struct query_stream *s = ctx;
	struct error e;
	(void)pos;
	sql_enter(s->q);
	ssize_t n = render_read(s->x, buf, max, &e);
	sql_leave(s->q);
	if (n < 0) {
		struct error why;
		sql_failure(s->q, &why);
		log_warn("streamed query on dataset %s cut short: %s (%s)", s->id, why.msg, e.msg);
	}
	return n;
}

static void stream_release(void *ctx)
{
	struct query_stream *s = ctx;
	render_free(s->x);
	sql_close(s->q);
	table_close(s->t);
	free(s);
}

static void run_stream(struct request *req, struct query_job *job, struct table *t,
		       struct sql_query *q, int step)
{
	struct query_stream *s = xcalloc(1, sizeof *s);
	s->t = t;
	s->q = q;
	s->start_ns = job->start_ns;
	s->first_step = step;
	snprintf(s->id, sizeof s->id, "%s", job->row.id);
	size_t n = sql_ncols(q);
	const char **names = xcalloc(n ? n : 1, sizeof *names);
	enum column_kind *kinds = xcalloc(n ? n : 1, sizeof *kinds);
	for (size_t i = 0; i < n; i++) {
		names[i] = sql_name(q, i);
		kinds[i] = sql_kind(q, i);
	}
	struct render_frame frame = { stream_head, stream_tail, s };
	s->x = render_new(sql_take_stmt(q), n, names, kinds, job->csv ? RENDER_CSV : RENDER_ARRAYS,
			  job->limit, job->csv ? NULL : &frame);
	render_stepped(s->x, step);
	free(names);
	free(kinds);
	http_reply_stream(req, 200, job->csv ? "text/csv; charset=utf-8" : "application/json",
			  HTTP_LENGTH_UNKNOWN, stream_read, s, stream_release);
}

/* On a slow-work thread: open, prepare, first step, then answer. */
static void run_query(struct request *req, void *arg)
{
	struct query_job *job = arg;
	struct error e;
	struct table *t = api_open_dataset(req, &job->row);
	if (!t) {
		job_free(job);
		return;
	}
	struct sql_limits lim = sql_limits_for(req->app->cfg, job->stream);
	struct sql_query *q;
	enum sql_status s = sql_prepare(t, job->sql, job->params, &lim, &q, &e);
	if (s != SQL_OK) {
		reply_sql_error(req, job, s, &e);
		table_close(t);
		job_free(job);
		return;
	}
	int step = sql_step(q);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		s = sql_failure(q, &e);
		reply_sql_error(req, job, s, &e);
		sql_close(q);
		table_close(t);
		job_free(job);
		return;
	}
	if (job->stream) {
		run_stream(req, job, t, q, step);   /* the stream owns q and t now */
	} else {
		run_whole(req, job, q, step);
		sql_close(q);
		table_close(t);
	}
	job_free(job);
}

static void cache_key(struct query_job *job)
{
	struct sha256 *h = sha256_new();
	char *params = job->params ? json_dumps(job->params, JSON_COMPACT | JSON_SORT_KEYS |
						 JSON_ENCODE_ANY) : NULL;
	char limit[32];
	snprintf(limit, sizeof limit, "%lld", job->limit);
	const char *parts[] = { job->row.data_key, job->sql, params ? params : "", limit };
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		sha256_update(h, parts[i], strlen(parts[i]) + 1);   /* with the NUL: unambiguous */
	char hex[SHA256_HEX];
	sha256_finish(h, hex);
	free(params);
	snprintf(job->cache_key, sizeof job->cache_key, "%s%s", CACHE_PREFIX, hex);
}

/* A cached answer, or false. */
static bool reply_cached(struct request *req, struct query_job *job)
{
	char *value;
	size_t len;
	struct error e;
	enum cache_rc rc = cache_get(req->app->cache, job->cache_key, &value, &len, &e);
	if (rc == CACHE_ERROR)
		log_warn("query cache: %s", e.msg);
	if (rc != CACHE_OK)
		return false;
	struct buf out;
	buf_init(&out, len + 128);
	buf_append(&out, value, len);
	free(value);
	write_end(&out, job->start_ns, true);
	size_t n = out.len;
	http_reply_owned(req, 200, "application/json", buf_detach(&out), n);
	return true;
}

static bool wants_csv(struct request *req)
{
	const char *accept = http_header(req, "Accept");
	return accept && strstr(accept, "text/csv");
}

void api_dataset_query(struct request *req)
{
	const struct config *cfg = req->app->cfg;
	json_t *body;
	if (http_json_body(req, false, &body))
		return;
	static const char *const fields[] = { "sql", "params", "limit", "stream", NULL };
	const char *sql;
	if (http_json_only(req, body, fields) || http_json_string(req, body, "sql", true, &sql)) {
		json_decref(body);
		return;
	}
	const json_t *params = json_object_get(body, "params");
	const json_t *limit = json_object_get(body, "limit");
	const json_t *stream = json_object_get(body, "stream");
	if (params && !json_is_array(params) && !json_is_object(params) && !json_is_null(params)) {
		http_reply_error(req, 422, "invalid_field", "params must be an array (for ?) or "
				 "an object (for :name)");
		json_decref(body);
		return;
	}
	if (stream && !json_is_boolean(stream)) {
		http_reply_error(req, 422, "invalid_field", "stream must be true or false");
		json_decref(body);
		return;
	}
	bool csv = wants_csv(req);
	bool streamed = csv || json_is_true(stream);
	long long max = streamed ? (long long)1 << 53 : cfg->query_max_rows;
	if (limit && (!json_is_integer(limit) || json_integer_value(limit) < 1 ||
		      json_integer_value(limit) > max)) {
		http_reply_error(req, 422, "invalid_field", "limit must be an integer from 1 to %lld%s",
				 max, streamed ? "" : " (SHEAF_QUERY_MAX_ROWS; stream the "
				 "answer for more)");
		json_decref(body);
		return;
	}
	if (!*sql) {
		http_reply_error(req, 422, "invalid_field", "sql must not be empty");
		json_decref(body);
		return;
	}
	struct query_job *job = xcalloc(1, sizeof *job);
	job->body = body;
	job->sql = sql;
	job->params = params;
	job->stream = streamed;
	job->csv = csv;
	job->limit = limit ? json_integer_value(limit) : streamed ? -1 : QUERY_DEFAULT_LIMIT;
	if (!limit && !streamed && job->limit > cfg->query_max_rows)
		job->limit = cfg->query_max_rows;
	job->start_ns = clock_mono_ns();
	if (api_find_ready(req, &job->row) < 0) {
		job_free(job);
		return;
	}
	if (!streamed && cfg->query_cache_ttl > 0) {
		cache_key(job);
		if (reply_cached(req, job)) {
			job_free(job);
			return;
		}
	}
	if (http_defer(req, run_query, job) < 0)
		job_free(job);
}
