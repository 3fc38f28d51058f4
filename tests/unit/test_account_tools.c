/*
 * The tools MCP reaches beyond the analysis tools (tools/sql.c, catalog.c,
 * transform.c, predict.c), run through tool_call over a real application
 * (app_open with a temporary data dir: SQLite store, local objects, job
 * workers, the built-in ECLO model):
 *
 *   query_sql     typed columns and rows, params, limit and truncated (at
 *                 the limit, past it, and the 4 MB cap), bad, forbidden,
 *                 too slow and too big SQL with their error kinds;
 *   catalog       list_datasets (newest first, paging, only the caller's),
 *                 describe_dataset (dataset_json plus the file's profiles,
 *                 any status), profile (all columns, one, an unknown one
 *                 naming the columns there are); bad ids, unknown ids and
 *                 another user's datasets; a dataset still processing;
 *   transform     a new dataset from steps, ingested by the job worker
 *                 with progress reported; bad steps; a caller that gives
 *                 up (the ingest cancelled, the dataset left failed); the
 *                 input schema is dataset_derive_schema's properties plus
 *                 dataset_id;
 *   predictions   predict_eclo with a good and a bad accident (and the
 *                 item schema naming eclo_schema's fields); list_models and
 *                 predict_model over a model trained by the real job, a
 *                 failed model (not ready), unknown and other users' ids.
 *
 * Every result is checked against its tool's output schema, and every
 * tool's schemas pass tools_check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "app.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/id.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "models/eclo.h"
#include "registry/registry.h"
#include "registry/train.h"
#include "tools/schema.h"
#include "tools/tools.h"

#include "testutil.h"

#define OTHER_USER "other-user"

struct fx {
	char dir[64];
	struct config cfg;
	struct app app;
	char ds[USER_ID_MAX + 1];        /* the local user's 30-row dataset */
	char older[USER_ID_MAX + 1];     /* the local user's first dataset */
	char theirs[USER_ID_MAX + 1];    /* OTHER_USER's dataset */
};

static struct fx *fx;

/* ---- fixture ------------------------------------------------------------- */

/* A dataset row for owner with the CSV text as its original, recorded with
 * its ingest job queued; the job's id in job_id. */
static void record_dataset(const char *owner, const char *name, const char *csv,
			   char id[USER_ID_MAX + 1], char job_id[USER_ID_MAX + 1])
{
	struct error e = { { 0 } };
	struct dataset_row row = { 0 };
	id_random(row.id, 16);
	snprintf(row.owner_id, sizeof row.owner_id, "%s", owner);
	snprintf(row.name, sizeof row.name, "%s", name);
	snprintf(row.source_name, sizeof row.source_name, "%s.csv", name);
	snprintf(row.format, sizeof row.format, "csv");
	dataset_original_key(owner, row.id, row.original_key, sizeof row.original_key);
	struct dataset_choices c = { 0 };
	const char *format;
	row.options = dataset_options(&c, &format, &e);
	assert_non_null(row.options);
	row.size_bytes = (int64_t)strlen(csv);
	struct mem_reader r = { csv, strlen(csv) };
	expect_rc(blob_put(fx->app.blob, row.original_key, mem_read, &r, NULL, &e), BLOB_OK, e);
	expect_rc(dataset_enqueue(&fx->app, &row, "", job_id, &e), 0, e);
	snprintf(id, USER_ID_MAX + 1, "%s", row.id);
	free(row.options);
}

/* The same, ingested now. */
static void make_dataset(const char *owner, const char *name, const char *csv,
			 char id[USER_ID_MAX + 1])
{
	char job_id[USER_ID_MAX + 1];
	record_dataset(owner, name, csv, id, job_id);
	struct job_row job;
	struct error e = { { 0 } };
	expect_rc(jobs_run_now(fx->app.jobs, job_id, 60000, &job, &e), 0, e);
	assert_string_equal(job.status, "done");
	job_row_clear(&job);
}

static char *csv_30(void)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	buf_puts(&b, "id,score,city,flag,day\n");
	static const char *const cities[] = { "대구", "서울", "부산" };
	for (int i = 0; i < 30; i++) {
		if (i % 5 == 0)
			buf_printf(&b, "%d,,", i);
		else
			buf_printf(&b, "%d,%.2f,", i, i * 1.5);
		buf_printf(&b, "%s,%s,2024-03-%02d\n", cities[i % 3], i % 2 ? "true" : "false",
			   i + 1);
	}
	return buf_detach(&b);
}

static int group_setup(void **state)
{
	(void)state;
	log_setup(LOG_ERROR, LOG_TEXT);
	fx = xcalloc(1, sizeof *fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/sheaf-test-acctools.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	char flag[128];
	snprintf(flag, sizeof flag, "--data-dir=%s", fx->dir);
	char *argv[] = { flag };
	struct error e = { { 0 } };
	setenv("SHEAF_ECLO_MODEL", "builtin", 1);
	setenv("SHEAF_JOB_WORKERS", "1", 1);   /* test_transform_cancelled keeps it busy */
	expect_rc(config_load(&fx->cfg, 1, argv, NULL, &e), 0, e);
	assert_int_equal(app_open(&fx->app, &fx->cfg, APP_LOCAL, 4, 1), 0);
	log_setup(LOG_ERROR, LOG_TEXT);

	struct user_row u = { 0 };
	snprintf(u.id, sizeof u.id, OTHER_USER);
	snprintf(u.email, sizeof u.email, "other@example.com");
	snprintf(u.name, sizeof u.name, "Other");
	snprintf(u.password_hash, sizeof u.password_hash, "!");
	u.created_at = u.updated_at = clock_now_ms();
	expect_rc(store_user_create(fx->app.store, &u, &e), STORE_OK, e);

	char *csv = csv_30();
	make_dataset(LOCAL_USER_ID, "first", "a,b\n1,x\n2,y\n", fx->older);
	usleep(5000);   /* newest first: distinct creation times */
	make_dataset(LOCAL_USER_ID, "sales", csv, fx->ds);
	make_dataset(OTHER_USER, "secret", csv, fx->theirs);
	free(csv);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	app_close(&fx->app);
	config_free(&fx->cfg);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* ---- calling tools ------------------------------------------------------- */

struct progress_log {
	int reports;
	double last_done, last_total;
	bool cancel;
};

static void on_report(void *arg, double done, double total, const char *message)
{
	struct progress_log *p = arg;
	assert_non_null(message);
	p->reports++;
	p->last_done = done;
	p->last_total = total;
}

static bool on_cancelled(void *arg)
{
	return ((struct progress_log *)arg)->cancel;
}

/* Runs tool name for user over the dataset table t (NULL: an account
 * tool) with args (JSON text).  0 with out filled and its result checked
 * against the output schema, or -1 with err. */
static int call_as(const char *user, struct table *t, const char *name, const char *args,
		   struct progress_log *plog, struct tool_output *out, struct tool_error *err)
{
	const struct tool *tool = tool_find(name);
	assert_non_null(tool);
	assert_int_equal(tool->scope == TOOL_ON_DATASET, t != NULL);
	json_error_t je;
	json_t *a = json_loads(args, 0, &je);
	if (!a)
		fail_msg("bad test args %s: %s", args, je.text);
	struct tool_progress progress = { on_report, on_cancelled, plog };
	struct tool_ctx ctx = {
		.t = t,
		.lim = sql_limits_for(&fx->cfg, false),
		.app = &fx->app,
		.user_id = user,
		.progress = plog ? &progress : NULL,
	};
	int rc = tool_call(tool, &ctx, a, out, err);
	json_decref(a);
	if (rc == 0) {
		struct error e = { { 0 } };
		if (schema_validate(tool_output_schema(tool), out->result, "result", &e) < 0) {
			char *text = json_dumps(out->result, JSON_COMPACT);
			fail_msg("%s's result does not match its output schema: %s\n%.2000s", name,
				 e.msg, text);
		}
		assert_non_null(out->summary);
	}
	return rc;
}

static json_t *ok_call(const char *name, const char *args)
{
	struct tool_output out;
	struct tool_error err = { 0 };
	if (call_as(LOCAL_USER_ID, NULL, name, args, NULL, &out, &err) < 0)
		fail_msg("%s %s failed: %s", name, args, err.msg);
	free(out.summary);
	return out.result;
}

/* The kind of the error of a call that must fail, with its message in
 * msg (cap bytes). */
static enum tool_error_kind failed_call_as(const char *user, const char *name, const char *args,
					   char *msg, size_t cap)
{
	struct tool_output out;
	struct tool_error err = { 0 };
	if (call_as(user, NULL, name, args, NULL, &out, &err) == 0) {
		char *text = json_dumps(out.result, JSON_COMPACT);
		fail_msg("%s %s should have failed; it gave %.500s", name, args, text);
	}
	snprintf(msg, cap, "%s", err.msg);
	return err.kind;
}

#define expect_failure(user, name, args, kind, needle)                                  \
	do {                                                                             \
		char msg_[600];                                                          \
		enum tool_error_kind k_ = failed_call_as(user, name, args, msg_, sizeof msg_); \
		if (k_ != (kind) || !strstr(msg_, needle))                               \
			fail_msg("%s %s: kind %d \"%s\"; expected kind %d with \"%s\"", name, \
				 args, (int)k_, msg_, (int)(kind), needle);              \
	} while (0)

static struct table *open_ds(const char *id, struct dataset_row *row)
{
	struct error e = { { 0 } };
	expect_rc(store_dataset_get(fx->app.store, LOCAL_USER_ID, id, row, &e), STORE_OK, e);
	struct table *t = dataset_open(&fx->app, row, &e);
	if (!t)
		fail_msg("open %s: %s", id, e.msg);
	return t;
}

/* query_sql over the sales dataset. */
static int sql_call(const char *args, struct sql_limits *lim, struct tool_output *out,
		    struct tool_error *err)
{
	struct dataset_row row;
	struct table *t = open_ds(fx->ds, &row);
	int rc;
	if (lim) {
		/* tighter limits than the configuration's */
		const struct tool *tool = tool_find("query_sql");
		json_t *a = json_loads(args, 0, NULL);
		struct tool_ctx ctx = { .t = t, .lim = *lim, .app = &fx->app,
					.user_id = LOCAL_USER_ID };
		rc = tool_call(tool, &ctx, a, out, err);
		json_decref(a);
	} else {
		rc = call_as(LOCAL_USER_ID, t, "query_sql", args, NULL, out, err);
	}
	table_close(t);
	dataset_row_clear(&row);
	return rc;
}

static json_t *sql_ok(const char *args)
{
	struct tool_output out;
	struct tool_error err = { 0 };
	if (sql_call(args, NULL, &out, &err) < 0)
		fail_msg("query_sql %s failed: %s", args, err.msg);
	free(out.summary);
	return out.result;
}

static void sql_fails(const char *args, struct sql_limits *lim, enum tool_error_kind kind,
		      const char *needle)
{
	struct tool_output out;
	struct tool_error err = { 0 };
	if (sql_call(args, lim, &out, &err) == 0)
		fail_msg("query_sql %s should have failed", args);
	if (err.kind != kind || !strstr(err.msg, needle))
		fail_msg("query_sql %s: kind %d \"%s\"; expected kind %d with \"%s\"", args,
			 (int)err.kind, err.msg, (int)kind, needle);
}

static const char *str_at(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static json_int_t int_at(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* ---- the registry ------------------------------------------------------- */

static void test_registry_lists_them(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	expect_rc(tools_check(&e), 0, e);
	static const struct { const char *name; enum tool_scope scope; bool read_only; } want[] = {
		{ "query_sql", TOOL_ON_DATASET, true },
		{ "list_datasets", TOOL_ON_ACCOUNT, true },
		{ "describe_dataset", TOOL_ON_ACCOUNT, true },
		{ "profile", TOOL_ON_ACCOUNT, true },
		{ "transform", TOOL_ON_ACCOUNT, false },
		{ "predict_eclo", TOOL_ON_ACCOUNT, true },
		{ "predict_model", TOOL_ON_ACCOUNT, true },
		{ "list_models", TOOL_ON_ACCOUNT, true },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const struct tool *t = tool_find(want[i].name);
		assert_non_null(t);
		assert_int_equal(t->scope, want[i].scope);
		assert_int_equal(t->read_only, want[i].read_only);
		assert_false(t->destructive);
		assert_non_null(strstr(t->description, "Korean:"));
	}
	/* GET /api/tools: the dataset tools only. */
	json_t *list = tools_list_json();
	size_t i;
	json_t *item;
	bool sql = false;
	json_array_foreach(list, i, item) {
		const struct tool *t = tool_find(str_at(item, "name"));
		assert_int_equal(t->scope, TOOL_ON_DATASET);
		sql = sql || strcmp(t->name, "query_sql") == 0;
	}
	assert_true(sql);
	json_decref(list);
}

/* ---- query_sql ----------------------------------------------------------- */

static void test_sql_happy(void **state)
{
	(void)state;
	json_t *r = sql_ok("{\"sql\": \"SELECT id, score, city, flag, day, score * 2 AS twice, "
			   "NULL AS empty FROM data WHERE id < 3 ORDER BY id\"}");
	json_t *cols = json_object_get(r, "columns");
	static const char *const names[] = { "id", "score", "city", "flag", "day", "twice",
					     "empty" };
	static const char *const types[] = { "integer", "real", "text", "boolean", "date", "null",
					     "null" };
	assert_int_equal(json_array_size(cols), 7);
	for (size_t i = 0; i < 7; i++) {
		assert_string_equal(str_at(json_array_get(cols, i), "name"), names[i]);
		assert_string_equal(str_at(json_array_get(cols, i), "type"), types[i]);
	}
	assert_int_equal(int_at(r, "row_count"), 3);
	assert_false(json_is_true(json_object_get(r, "truncated")));
	json_t *rows = json_object_get(r, "rows");
	json_t *row1 = json_array_get(rows, 1);
	assert_int_equal(json_integer_value(json_array_get(row1, 0)), 1);
	assert_true(json_is_real(json_array_get(row1, 1)));
	assert_float_equal(json_real_value(json_array_get(row1, 1)), 1.5, 1e-9);
	assert_string_equal(json_string_value(json_array_get(row1, 2)), "서울");
	assert_true(json_is_true(json_array_get(row1, 3)));
	assert_string_equal(json_string_value(json_array_get(row1, 4)), "2024-03-02");
	assert_true(json_is_null(json_array_get(json_array_get(rows, 0), 1)));   /* id 0: no score */
	json_decref(r);

	/* Parameters, by position and by name. */
	r = sql_ok("{\"sql\": \"SELECT count(*) AS n FROM data WHERE city = ? AND id > ?\", "
		   "\"params\": [\"대구\", 10]}");
	assert_int_equal(json_integer_value(json_array_get(json_array_get(
		json_object_get(r, "rows"), 0), 0)), 6);
	assert_string_equal(str_at(json_array_get(json_object_get(r, "columns"), 0), "type"),
			    "integer");
	json_decref(r);
	r = sql_ok("{\"sql\": \"SELECT sum(score) FROM data WHERE city = :c\", "
		   "\"params\": {\"c\": \"부산\"}}");
	assert_int_equal(int_at(r, "row_count"), 1);
	json_decref(r);
	/* No rows: the columns still named. */
	r = sql_ok("{\"sql\": \"SELECT id FROM data WHERE id > 1000\"}");
	assert_int_equal(int_at(r, "row_count"), 0);
	assert_int_equal(json_array_size(json_object_get(r, "columns")), 1);
	json_decref(r);
}

static void test_sql_limit_and_truncated(void **state)
{
	(void)state;
	json_t *r = sql_ok("{\"sql\": \"SELECT * FROM data\"}");   /* default 100 */
	assert_int_equal(int_at(r, "row_count"), 30);
	assert_false(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);
	r = sql_ok("{\"sql\": \"SELECT * FROM data\", \"limit\": 5}");
	assert_int_equal(int_at(r, "row_count"), 5);
	assert_int_equal(json_array_size(json_object_get(r, "rows")), 5);
	assert_true(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);
	r = sql_ok("{\"sql\": \"SELECT * FROM data\", \"limit\": 30}");   /* exactly all */
	assert_int_equal(int_at(r, "row_count"), 30);
	assert_false(json_is_true(json_object_get(r, "truncated")));
	json_decref(r);
	r = sql_ok("{\"sql\": \"SELECT * FROM data\", \"limit\": 29.0}");  /* 29.0 is an integer */
	assert_int_equal(int_at(r, "row_count"), 29);
	json_decref(r);
	/* 1000 rows of 10 KB: the 4 MB cap cuts them short. */
	r = sql_ok("{\"sql\": \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
		   "LIMIT 1000) SELECT x, hex(zeroblob(5000)) AS pad FROM c\", \"limit\": 1000}");
	json_int_t n = int_at(r, "row_count");
	assert_true(n > 300 && n < 500);
	assert_true(json_is_true(json_object_get(r, "truncated")));
	assert_int_equal((json_int_t)json_array_size(json_object_get(r, "rows")), n);
	json_decref(r);

	struct tool_output out;
	struct tool_error err;
	assert_int_equal(sql_call("{\"sql\": \"SELECT 1\", \"limit\": 0}", NULL, &out, &err), -1);
	assert_int_equal(err.kind, TOOL_ERR_ARGUMENT);
	assert_non_null(strstr(err.msg, "args.limit"));
	assert_int_equal(sql_call("{\"sql\": \"SELECT 1\", \"limit\": 1001}", NULL, &out, &err), -1);
	assert_int_equal(sql_call("{\"sql\": \"\"}", NULL, &out, &err), -1);
	assert_non_null(strstr(err.msg, "args.sql"));
	assert_int_equal(sql_call("{}", NULL, &out, &err), -1);
	assert_int_equal(sql_call("{\"sql\": \"SELECT 1\", \"params\": 3}", NULL, &out, &err), -1);
	assert_non_null(strstr(err.msg, "args.params"));
}

static void test_sql_errors(void **state)
{
	(void)state;
	sql_fails("{\"sql\": \"SELEC id FROM data\"}", NULL, TOOL_ERR_ARGUMENT, "syntax error");
	sql_fails("{\"sql\": \"SELECT nope FROM data\"}", NULL, TOOL_ERR_ARGUMENT, "no such column");
	sql_fails("{\"sql\": \"DELETE FROM data\"}", NULL, TOOL_ERR_ARGUMENT, "");
	sql_fails("{\"sql\": \"SELECT * FROM sqlite_schema\"}", NULL, TOOL_ERR_ARGUMENT, "");
	sql_fails("{\"sql\": \"SELECT 1; SELECT 2\"}", NULL, TOOL_ERR_ARGUMENT, "");
	sql_fails("{\"sql\": \"SELECT ?\"}", NULL, TOOL_ERR_ARGUMENT, "");
	/* Past the time limit, and past the value limit. */
	struct sql_limits lim = sql_limits_for(&fx->cfg, false);
	lim.time_ms = 50;
	sql_fails("{\"sql\": \"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
		  "SELECT count(*) FROM c\"}", &lim, TOOL_ERR_TIMEOUT, "add LIMIT");
	lim = sql_limits_for(&fx->cfg, false);
	lim.max_value_bytes = 1000;
	sql_fails("{\"sql\": \"SELECT zeroblob(100000)\"}", &lim, TOOL_ERR_TOO_BIG, "1000 bytes");
}

/* ---- catalog ------------------------------------------------------------- */

static void test_list_datasets(void **state)
{
	(void)state;
	json_t *r = ok_call("list_datasets", "{}");
	assert_int_equal(int_at(r, "total"), 2);   /* not OTHER_USER's */
	assert_int_equal(int_at(r, "limit"), 50);
	assert_int_equal(int_at(r, "offset"), 0);
	json_t *list = json_object_get(r, "datasets");
	assert_int_equal(json_array_size(list), 2);
	json_t *first = json_array_get(list, 0);
	assert_string_equal(str_at(first, "id"), fx->ds);             /* newest first */
	assert_string_equal(str_at(json_array_get(list, 1), "id"), fx->older);
	assert_string_equal(str_at(first, "status"), "ready");
	assert_int_equal(int_at(first, "rows"), 30);
	assert_int_equal(int_at(first, "columns"), 5);
	assert_int_equal(int_at(first, "progress"), 100);
	assert_true(json_is_null(json_object_get(first, "error")));
	assert_true(json_is_null(json_object_get(first, "parent_id")));
	assert_null(json_object_get(first, "columns_info"));          /* the summary form */
	/* The same as the API's list builds it. */
	struct dataset_row row;
	struct error e = { { 0 } };
	expect_rc(store_dataset_get(fx->app.store, LOCAL_USER_ID, fx->ds, &row, &e), STORE_OK, e);
	json_t *want = dataset_json(&row, false);
	assert_true(json_equal(want, first));
	json_decref(want);
	dataset_row_clear(&row);
	json_decref(r);

	r = ok_call("list_datasets", "{\"limit\": 1, \"offset\": 1}");
	assert_int_equal(int_at(r, "total"), 2);
	assert_int_equal(json_array_size(json_object_get(r, "datasets")), 1);
	assert_string_equal(str_at(json_array_get(json_object_get(r, "datasets"), 0), "id"),
			    fx->older);
	json_decref(r);
	r = ok_call("list_datasets", "{\"offset\": 10}");
	assert_int_equal(json_array_size(json_object_get(r, "datasets")), 0);
	json_decref(r);
	expect_failure(LOCAL_USER_ID, "list_datasets", "{\"limit\": 201}", TOOL_ERR_ARGUMENT,
		       "args.limit");
	expect_failure(LOCAL_USER_ID, "list_datasets", "{\"offset\": -1}", TOOL_ERR_ARGUMENT,
		       "args.offset");
	expect_failure(LOCAL_USER_ID, "list_datasets", "{\"sort\": \"name\"}", TOOL_ERR_ARGUMENT,
		       "args.sort");

	r = NULL;
	struct tool_output out;
	struct tool_error err;
	assert_int_equal(call_as(OTHER_USER, NULL, "list_datasets", "{}", NULL, &out, &err), 0);
	assert_int_equal(int_at(out.result, "total"), 1);
	assert_string_equal(str_at(json_array_get(json_object_get(out.result, "datasets"), 0), "id"),
			    fx->theirs);
	tool_output_clear(&out);
}

static void test_describe_dataset(void **state)
{
	(void)state;
	char args[200];
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\"}", fx->ds);
	json_t *r = ok_call("describe_dataset", args);
	/* What GET /api/datasets/{id} answers: dataset_json(row, true) with the
	 * file's columns. */
	struct dataset_row row;
	struct table *t = open_ds(fx->ds, &row);
	json_t *want = dataset_json(&row, true);
	dataset_json_columns(want, t);
	table_close(t);
	dataset_row_clear(&row);
	assert_true(json_equal(want, r));
	json_decref(want);
	assert_string_equal(str_at(r, "name"), "sales");
	json_t *cols = json_object_get(r, "columns_info");
	assert_int_equal(json_array_size(cols), 5);
	json_t *score = json_array_get(cols, 1);
	assert_string_equal(str_at(score, "name"), "score");
	assert_string_equal(str_at(score, "type"), "real");
	assert_int_equal(int_at(score, "nulls"), 6);                 /* the summary's field */
	json_t *prof = json_object_get(score, "profile");              /* the file's */
	assert_int_equal(int_at(prof, "count"), 24);
	assert_non_null(json_object_get(prof, "histogram"));
	assert_true(json_is_array(json_object_get(r, "warnings")));
	json_decref(r);

	expect_failure(LOCAL_USER_ID, "describe_dataset", "{}", TOOL_ERR_ARGUMENT,
		       "args.dataset_id");
	expect_failure(LOCAL_USER_ID, "describe_dataset", "{\"dataset_id\": \"../etc\"}",
		       TOOL_ERR_ARGUMENT, "not a dataset id");
	expect_failure(LOCAL_USER_ID, "describe_dataset", "{\"dataset_id\": \"AAAAAAAAAAAAAAAAAAAAAA\"}",
		       TOOL_ERR_NOT_FOUND, "no dataset AAAAAAAAAAAAAAAAAAAAAA");
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\"}", fx->theirs);
	expect_failure(LOCAL_USER_ID, "describe_dataset", args, TOOL_ERR_NOT_FOUND, "no dataset");
	expect_failure(LOCAL_USER_ID, "profile", args, TOOL_ERR_NOT_FOUND, "no dataset");
	/* Its owner sees it. */
	struct tool_output out;
	struct tool_error err;
	assert_int_equal(call_as(OTHER_USER, NULL, "describe_dataset", args, NULL, &out, &err), 0);
	assert_string_equal(str_at(out.result, "name"), "secret");
	tool_output_clear(&out);
}

static void test_profile(void **state)
{
	(void)state;
	char args[300];
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\"}", fx->ds);
	json_t *r = ok_call("profile", args);
	assert_string_equal(str_at(r, "dataset_id"), fx->ds);
	assert_int_equal(int_at(r, "rows"), 30);
	json_t *cols = json_object_get(r, "columns");
	assert_int_equal(json_array_size(cols), 5);
	json_t *city = json_array_get(cols, 2);
	assert_string_equal(str_at(city, "name"), "city");
	assert_string_equal(str_at(city, "type"), "text");
	json_t *prof = json_object_get(city, "profile");
	assert_int_equal(int_at(prof, "distinct"), 3);
	assert_int_equal(json_array_size(json_object_get(prof, "top")), 3);
	json_t *id = json_object_get(json_array_get(cols, 0), "profile");
	assert_int_equal(int_at(id, "min"), 0);
	assert_int_equal(int_at(id, "max"), 29);
	assert_non_null(json_object_get(json_object_get(id, "quantiles"), "p50"));
	json_decref(r);

	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"column\": \"day\"}", fx->ds);
	r = ok_call("profile", args);
	cols = json_object_get(r, "columns");
	assert_int_equal(json_array_size(cols), 1);
	assert_string_equal(str_at(json_array_get(cols, 0), "type"), "date");
	assert_string_equal(str_at(json_object_get(json_array_get(cols, 0), "profile"), "min"),
			    "2024-03-01");
	json_decref(r);

	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"column\": \"nope\"}", fx->ds);
	expect_failure(LOCAL_USER_ID, "profile", args, TOOL_ERR_ARGUMENT,
		       "args.column: no column \"nope\" in this dataset; it has: id, score, city, "
		       "flag, day");
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"columns\": [\"id\"]}", fx->ds);
	expect_failure(LOCAL_USER_ID, "profile", args, TOOL_ERR_ARGUMENT, "args.columns");
}

static void test_processing_dataset(void **state)
{
	(void)state;
	/* A job of a kind no worker runs keeps its dataset processing. */
	struct dataset_row row = { 0 };
	struct error e = { { 0 } };
	id_random(row.id, 16);
	snprintf(row.owner_id, sizeof row.owner_id, LOCAL_USER_ID);
	snprintf(row.name, sizeof row.name, "pending");
	snprintf(row.source_name, sizeof row.source_name, "pending.csv");
	snprintf(row.status, sizeof row.status, "processing");
	row.version = 1;
	row.created_at = row.updated_at = clock_now_ms();
	struct job_row job = { 0 };
	id_random(job.id, 16);
	snprintf(row.job_id, sizeof row.job_id, "%s", job.id);
	snprintf(job.owner_id, sizeof job.owner_id, LOCAL_USER_ID);
	snprintf(job.kind, sizeof job.kind, "no_such_kind");
	snprintf(job.subject_id, sizeof job.subject_id, "%s", row.id);
	job.created_at = row.created_at;
	expect_rc(store_dataset_create(fx->app.store, &row, &job, &e), STORE_OK, e);

	char args[200];
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\"}", row.id);
	json_t *r = ok_call("describe_dataset", args);   /* any status */
	assert_string_equal(str_at(r, "status"), "processing");
	assert_string_equal(str_at(r, "job_id"), job.id);
	assert_int_equal(json_array_size(json_object_get(r, "columns_info")), 0);
	json_decref(r);
	char want[200];
	snprintf(want, sizeof want, "dataset %s is processing", row.id);
	expect_failure(LOCAL_USER_ID, "profile", args, TOOL_ERR_NOT_READY, want);
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"steps\": [{\"op\": \"limit\", "
		 "\"n\": 1}]}", row.id);
	expect_failure(LOCAL_USER_ID, "transform", args, TOOL_ERR_NOT_READY, want);
	/* It is in the list, with its (empty) columns. */
	r = ok_call("list_datasets", "{\"limit\": 1}");
	json_t *first = json_array_get(json_object_get(r, "datasets"), 0);
	assert_string_equal(str_at(first, "id"), row.id);
	assert_non_null(json_object_get(first, "columns_info"));
	json_decref(r);

	struct store_keys keys = { 0 };
	expect_rc(store_dataset_delete(fx->app.store, LOCAL_USER_ID, row.id, &keys, &e), STORE_OK, e);
	store_keys_free(&keys);
}

/* ---- transform ----------------------------------------------------------- */

static void test_transform_schema(void **state)
{
	(void)state;
	const json_t *in = tool_input_schema(tool_find("transform"));
	json_t *req = json_loads(dataset_derive_schema, 0, NULL);
	assert_non_null(req);
	json_t *props = json_deep_copy(json_object_get(in, "properties"));
	assert_non_null(json_object_get(props, "dataset_id"));
	json_object_del(props, "dataset_id");
	assert_true(json_equal(props, json_object_get(req, "properties")));
	assert_true(json_equal(json_object_get(in, "additionalProperties"),
			       json_object_get(req, "additionalProperties")));
	json_decref(props);
	json_decref(req);
}

static void test_transform(void **state)
{
	(void)state;
	char args[600];
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"name\": \"small\", \"steps\": ["
		 "{\"op\": \"filter\", \"where\": \"id < 10\"},"
		 "{\"op\": \"derive\", \"name\": \"double\", \"expression\": \"id * 2\"},"
		 "{\"op\": \"select\", \"columns\": [\"id\", \"double\", \"city\"]}]}", fx->ds);
	struct progress_log plog = { 0 };
	struct tool_output out;
	struct tool_error err = { 0 };
	if (call_as(LOCAL_USER_ID, NULL, "transform", args, &plog, &out, &err) < 0)
		fail_msg("transform: %s", err.msg);
	json_t *r = out.result;
	assert_string_equal(str_at(r, "status"), "ready");
	assert_string_equal(str_at(r, "name"), "small");
	assert_string_equal(str_at(r, "parent_id"), fx->ds);
	assert_int_equal(int_at(r, "rows"), 10);
	assert_int_equal(int_at(r, "columns"), 3);
	assert_int_equal(json_array_size(json_object_get(r, "columns_info")), 3);
	assert_true(plog.reports >= 1);
	assert_true(plog.last_total == 100);
	char new_id[USER_ID_MAX + 1];
	snprintf(new_id, sizeof new_id, "%s", str_at(r, "id"));
	tool_output_clear(&out);

	/* The new dataset answers queries. */
	struct dataset_row row;
	struct table *t = open_ds(new_id, &row);
	assert_int_equal(call_as(LOCAL_USER_ID, t, "query_sql", "{\"sql\": \"SELECT sum(double) "
				 "FROM data\"}", NULL, &out, &err), 0);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(
		json_object_get(out.result, "rows"), 0), 0)), 90);
	tool_output_clear(&out);
	table_close(t);
	dataset_row_clear(&row);
	struct store_keys keys = { 0 };
	struct error e = { { 0 } };
	expect_rc(store_dataset_delete(fx->app.store, LOCAL_USER_ID, new_id, &keys, &e), STORE_OK, e);
	store_keys_free(&keys);

	/* Bad steps name the step; nothing is made. */
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"steps\": [{\"op\": \"limit\", "
		 "\"n\": 3}, {\"op\": \"derive\", \"name\": \"x\", \"expression\": \"nope + 1\"}]}",
		 fx->ds);
	expect_failure(LOCAL_USER_ID, "transform", args, TOOL_ERR_ARGUMENT, "steps[1]");
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"steps\": []}", fx->ds);
	expect_failure(LOCAL_USER_ID, "transform", args, TOOL_ERR_ARGUMENT, "args.steps");
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"steps\": [{\"op\": \"explode\"}]}",
		 fx->ds);
	expect_failure(LOCAL_USER_ID, "transform", args, TOOL_ERR_ARGUMENT, "args.steps[0].op");
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"steps\": [{\"op\": \"join\", "
		 "\"dataset_id\": \"%s\", \"on\": [\"id\"]}]}", fx->ds, fx->theirs);
	expect_failure(LOCAL_USER_ID, "transform", args, TOOL_ERR_ARGUMENT, "to join");
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"steps\": [{\"op\": \"limit\", "
		 "\"n\": 1}]}", fx->theirs);
	expect_failure(LOCAL_USER_ID, "transform", args, TOOL_ERR_NOT_FOUND, "no dataset");
	json_t *list = ok_call("list_datasets", "{}");
	assert_int_equal(int_at(list, "total"), 2);
	json_decref(list);
}

/* ---- predictions --------------------------------------------------------- */

static void test_predict_eclo(void **state)
{
	(void)state;
	assert_non_null(fx->app.eclo);
	/* The item schema names eclo_schema's fields. */
	json_t *schema = eclo_schema(fx->app.eclo);
	const json_t *props = json_object_get(json_object_get(json_object_get(json_object_get(
		tool_input_schema(tool_find("predict_eclo")), "properties"), "accidents"), "items"),
		"properties");
	json_t *fields = json_object_get(schema, "fields");
	assert_int_equal(json_object_size(props), json_array_size(fields));
	json_t *accident = json_object();
	size_t i;
	json_t *f;
	json_array_foreach(fields, i, f) {
		const char *name = str_at(f, "name");
		assert_non_null(json_object_get(props, name));
		json_t *allowed = json_object_get(f, "allowed");
		if (allowed)
			json_object_set(accident, name, json_array_get(allowed, 0));
	}
	json_decref(schema);
	json_object_del(accident, "time_period");   /* from the hour */
	json_object_set_new(accident, "accident_hour", json_integer(8));
	json_object_set_new(accident, "accident_year", json_integer(2021));
	json_object_set_new(accident, "accident_month", json_string("5"));
	json_object_set_new(accident, "accident_day", json_integer(10));
	json_t *bad = json_deep_copy(accident);
	json_object_set_new(bad, "weather", json_string("sunny"));
	json_object_del(bad, "district");
	json_t *args = json_pack("{s:[O, O]}", "accidents", accident, bad);
	char *text = json_dumps(args, JSON_COMPACT);
	json_t *r = ok_call("predict_eclo", text);
	free(text);
	assert_string_equal(str_at(r, "model_version"), eclo_version(fx->app.eclo));
	json_t *preds = json_object_get(r, "predictions");
	assert_int_equal(json_array_size(preds), 2);
	json_t *good = json_array_get(preds, 0), *refused = json_array_get(preds, 1);
	assert_int_equal(int_at(good, "index"), 1);
	assert_true(json_is_number(json_object_get(good, "eclo")));
	assert_non_null(str_at(good, "interpretation"));
	assert_true(json_is_null(json_object_get(good, "error")));
	assert_int_equal(int_at(refused, "index"), 2);
	assert_true(json_is_null(json_object_get(refused, "eclo")));
	assert_true(json_is_null(json_object_get(refused, "interpretation")));
	assert_non_null(strstr(str_at(refused, "error"), "weather"));
	assert_non_null(strstr(str_at(refused, "error"), "district"));
	json_decref(r);
	json_decref(args);

	/* Prediction as the API's one-accident route gives it. */
	json_t *one = json_pack("[O]", accident), *items = json_array();
	struct error e = { { 0 } };
	expect_rc(eclo_predict_items(fx->app.eclo, one, 0, 1, items, &e), 0, e);
	args = json_pack("{s:[O]}", "accidents", accident);
	text = json_dumps(args, JSON_COMPACT);
	r = ok_call("predict_eclo", text);
	free(text);
	assert_true(json_equal(json_object_get(r, "predictions"), items));
	json_decref(r);
	json_decref(args);
	json_decref(one);
	json_decref(items);
	json_decref(accident);
	json_decref(bad);

	expect_failure(LOCAL_USER_ID, "predict_eclo", "{\"accidents\": []}", TOOL_ERR_ARGUMENT,
		       "args.accidents");
	expect_failure(LOCAL_USER_ID, "predict_eclo", "{\"accidents\": [3]}", TOOL_ERR_ARGUMENT,
		       "args.accidents[0]");
	expect_failure(LOCAL_USER_ID, "predict_eclo", "{\"accidents\": [{\"weather\": 3}]}",
		       TOOL_ERR_ARGUMENT, "args.accidents[0].weather");

	/* Without the model. */
	struct eclo *keep = fx->app.eclo;
	fx->app.eclo = NULL;
	expect_failure(LOCAL_USER_ID, "predict_eclo", "{\"accidents\": [{}]}", TOOL_ERR_NOT_FOUND,
		       "SHEAF_ECLO_MODEL=off");
	fx->app.eclo = keep;
}

/* Records a model for the local user trained by body's request (JSON
 * text), with its job queued: the ids in id and job_id. */
static void record_model(const char *body_text, char id[USER_ID_MAX + 1],
			 char job_id[USER_ID_MAX + 1])
{
	json_t *body = json_loads(body_text, 0, NULL);
	assert_non_null(body);
	struct train_request tr;
	struct error e = { { 0 } };
	expect_rc(train_request_parse(body, &tr, &e), 0, e);
	struct model_row row = { 0 };
	struct job_row job = { 0 };
	int64_t now = clock_now_ms();
	id_random(row.id, 16);
	id_random(job.id, 16);
	snprintf(row.owner_id, sizeof row.owner_id, LOCAL_USER_ID);
	snprintf(row.name, sizeof row.name, "%s", tr.name);
	snprintf(row.dataset_id, sizeof row.dataset_id, "%s", tr.dataset_id);
	snprintf(row.target, sizeof row.target, "%s", tr.target);
	snprintf(row.task, sizeof row.task, "regression");
	snprintf(row.status, sizeof row.status, "training");
	snprintf(row.job_id, sizeof row.job_id, "%s", job.id);
	row.spec = json_dumps(tr.json, JSON_COMPACT);
	row.created_at = row.updated_at = now;
	snprintf(job.owner_id, sizeof job.owner_id, LOCAL_USER_ID);
	snprintf(job.kind, sizeof job.kind, MODEL_TRAIN_KIND);
	job.payload = "{}";
	job.created_at = now;
	expect_rc(store_model_create(fx->app.store, &row, &job, &e), STORE_OK, e);
	snprintf(id, USER_ID_MAX + 1, "%s", row.id);
	snprintf(job_id, USER_ID_MAX + 1, "%s", job.id);
	free(row.spec);
	train_request_free(&tr);
	json_decref(body);
}

/* The same, trained now: the job ends want_status. */
static void train(const char *body_text, char id[USER_ID_MAX + 1], const char *want_status)
{
	char job_id[USER_ID_MAX + 1];
	record_model(body_text, id, job_id);
	struct job_row done;
	struct error e = { { 0 } };
	expect_rc(jobs_run_now(fx->app.jobs, job_id, 120000, &done, &e), 0, e);
	if (strcmp(done.status, want_status) != 0)
		fail_msg("training ended %s (%s); expected %s", done.status, done.error, want_status);
	job_row_clear(&done);
}

static void test_models(void **state)
{
	(void)state;
	json_t *r = ok_call("list_models", "{}");
	assert_int_equal(int_at(r, "total"), 0);
	json_decref(r);

	char body[400], mid[USER_ID_MAX + 1], failed[USER_ID_MAX + 1];
	snprintf(body, sizeof body, "{\"dataset_id\": \"%s\", \"target\": \"score\", \"name\": "
		 "\"quick\", \"features\": [\"id\", \"city\"], \"params\": {\"rounds\": 5}}", fx->ds);
	train(body, mid, "done");
	snprintf(body, sizeof body, "{\"dataset_id\": \"%s\", \"target\": \"nope\", \"name\": "
		 "\"broken\"}", fx->ds);
	train(body, failed, "failed");

	r = ok_call("list_models", "{}");
	assert_int_equal(int_at(r, "total"), 2);
	json_t *models = json_object_get(r, "models");
	json_t *m = NULL, *x;
	size_t i;
	json_array_foreach(models, i, x)
		if (strcmp(str_at(x, "id"), mid) == 0)
			m = x;
	assert_non_null(m);
	assert_string_equal(str_at(m, "status"), "ready");
	assert_string_equal(str_at(m, "target"), "score");
	assert_true(json_is_null(json_object_get(m, "error")));
	assert_non_null(json_object_get(m, "features"));
	struct model_row row;
	struct error e = { { 0 } };
	expect_rc(store_model_get(fx->app.store, LOCAL_USER_ID, mid, &row, &e), STORE_OK, e);
	json_t *want = registry_model_json(&row);
	assert_true(json_equal(want, m));
	json_decref(want);
	model_row_clear(&row);
	json_decref(r);
	r = ok_call("list_models", "{\"limit\": 1, \"offset\": 1}");
	assert_int_equal(json_array_size(json_object_get(r, "models")), 1);
	json_decref(r);

	char args[400];
	snprintf(args, sizeof args, "{\"model_id\": \"%s\", \"rows\": [{\"id\": 3, \"city\": "
		 "\"부산\"}, {\"id\": 20, \"city\": \"대구\"}, {}]}", mid);
	r = ok_call("predict_model", args);
	json_t *preds = json_object_get(r, "predictions");
	assert_int_equal(json_array_size(preds), 3);
	assert_true(json_is_number(json_array_get(preds, 0)));
	assert_string_equal(str_at(r, "model_id"), mid);
	assert_int_equal(int_at(r, "version"), 1);
	json_decref(r);

	snprintf(args, sizeof args, "{\"model_id\": \"%s\", \"rows\": [{\"id\": \"many\"}]}", mid);
	expect_failure(LOCAL_USER_ID, "predict_model", args, TOOL_ERR_ARGUMENT, "args.rows[0]");
	snprintf(args, sizeof args, "{\"model_id\": \"%s\", \"rows\": [{}]}", failed);
	char want_msg[200];
	snprintf(want_msg, sizeof want_msg, "model %s is failed", failed);
	expect_failure(LOCAL_USER_ID, "predict_model", args, TOOL_ERR_NOT_READY, want_msg);
	expect_failure(LOCAL_USER_ID, "predict_model", "{\"model_id\": \"AAAAAAAAAAAAAAAAAAAAAA\", "
		       "\"rows\": [{}]}", TOOL_ERR_NOT_FOUND, "no model AAAAAAAAAAAAAAAAAAAAAA");
	expect_failure(LOCAL_USER_ID, "predict_model", "{\"model_id\": \"a/b\", \"rows\": [{}]}",
		       TOOL_ERR_ARGUMENT, "not a model id");
	snprintf(args, sizeof args, "{\"model_id\": \"%s\", \"rows\": []}", mid);
	expect_failure(LOCAL_USER_ID, "predict_model", args, TOOL_ERR_ARGUMENT, "args.rows");
	/* Someone else's. */
	snprintf(args, sizeof args, "{\"model_id\": \"%s\", \"rows\": [{}]}", mid);
	expect_failure(OTHER_USER, "predict_model", args, TOOL_ERR_NOT_FOUND, "no model");
	struct tool_output out;
	struct tool_error err;
	assert_int_equal(call_as(OTHER_USER, NULL, "list_models", "{}", NULL, &out, &err), 0);
	assert_int_equal(int_at(out.result, "total"), 0);
	tool_output_clear(&out);
}

/* A caller that gives up while the new dataset waits for its ingest: the
 * job is cancelled and the dataset left failed.  The one job worker is kept
 * busy training a long model, so the ingest job is still queued when the
 * tool first looks at cancellation (after WAIT_SLICE_MS). */
static void test_transform_cancelled(void **state)
{
	(void)state;
	assert_int_equal(fx->cfg.job_workers, 1);
	struct buf b;
	buf_init(&b, 1 << 24);
	buf_puts(&b, "k,v,w\n");
	for (int i = 0; i < 50000; i++)
		buf_printf(&b, "%d,%d.5,t%d\n", i, i % 97, i % 13);
	char *csv = buf_detach(&b);
	char big[USER_ID_MAX + 1], mid[USER_ID_MAX + 1], train_job[USER_ID_MAX + 1];
	make_dataset(LOCAL_USER_ID, "big", csv, big);
	free(csv);
	char body[400];
	snprintf(body, sizeof body, "{\"dataset_id\": \"%s\", \"target\": \"v\", \"name\": "
		 "\"long\", \"params\": {\"rounds\": 5000}}", big);
	record_model(body, mid, train_job);
	jobs_notify(fx->app.jobs);
	struct error e = { { 0 } };
	struct job_row job;
	for (int tries = 0;; tries++) {
		expect_rc(store_job_get(fx->app.store, train_job, &job, &e), STORE_OK, e);
		bool running = strcmp(job.status, "running") == 0;
		job_row_clear(&job);
		if (running)
			break;
		assert_true(tries < 1000);
		usleep(10000);
	}

	char args[300];
	snprintf(args, sizeof args, "{\"dataset_id\": \"%s\", \"name\": \"given up\", "
		 "\"steps\": [{\"op\": \"limit\", \"n\": 5}]}", fx->ds);
	struct progress_log plog = { .cancel = true };
	struct tool_output out;
	struct tool_error err = { 0 };
	assert_int_equal(call_as(LOCAL_USER_ID, NULL, "transform", args, &plog, &out, &err), -1);
	assert_int_equal(err.kind, TOOL_ERR_CANCELLED);
	assert_non_null(strstr(err.msg, "left failed"));
	assert_true(plog.reports >= 2);   /* the start, and the first look */

	/* The new dataset: failed, cancelled. */
	json_t *list = ok_call("list_datasets", "{\"limit\": 1}");
	json_t *first = json_array_get(json_object_get(list, "datasets"), 0);
	assert_string_equal(str_at(first, "name"), "given up");
	assert_string_equal(str_at(first, "status"), "failed");
	assert_non_null(strstr(str_at(first, "error"), "cancel"));
	char gone[USER_ID_MAX + 1];
	snprintf(gone, sizeof gone, "%s", str_at(first, "id"));
	json_decref(list);

	expect_rc(jobs_cancel(fx->app.jobs, LOCAL_USER_ID, train_job, &e), STORE_OK, e);
	expect_rc(jobs_wait(fx->app.jobs, train_job, 60000, &job, &e), 0, e);
	assert_string_equal(job.status, "cancelled");
	job_row_clear(&job);
	struct store_keys keys = { 0 };
	const char *ids[] = { gone, big };
	for (size_t i = 0; i < 2; i++) {
		expect_rc(store_dataset_delete(fx->app.store, LOCAL_USER_ID, ids[i], &keys, &e),
			  STORE_OK, e);
		store_keys_free(&keys);
	}
	expect_rc(store_model_delete(fx->app.store, LOCAL_USER_ID, mid, &keys, &e), STORE_OK, e);
	store_keys_free(&keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_lists_them),
		cmocka_unit_test(test_sql_happy),
		cmocka_unit_test(test_sql_limit_and_truncated),
		cmocka_unit_test(test_sql_errors),
		cmocka_unit_test(test_list_datasets),
		cmocka_unit_test(test_describe_dataset),
		cmocka_unit_test(test_profile),
		cmocka_unit_test(test_processing_dataset),
		cmocka_unit_test(test_transform_schema),
		cmocka_unit_test(test_transform),
		cmocka_unit_test(test_predict_eclo),
		cmocka_unit_test(test_models),
		cmocka_unit_test(test_transform_cancelled),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
