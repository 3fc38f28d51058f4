/*
 * Training requests; see train.h.
 */
#include "registry/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "store/store.h"
#include "tools/schema.h"

#define NAME "{\"type\": \"string\", \"minLength\": 1, \"maxLength\": 255}"

static const char schema_text[] =
	"{\"type\": \"object\", \"additionalProperties\": false, \"required\": [\"target\"],\n"
	" \"properties\": {\n"
	"  \"dataset_id\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 64,\n"
	"                 \"description\": \"The dataset to train on (its latest ready version).\"},\n"
	"  \"name\": " NAME ",\n"
	"  \"target\": " NAME ",\n"
	"  \"features\": {\"type\": \"array\", \"items\": " NAME ", \"minItems\": 1,\n"
	"               \"maxItems\": 1000, \"uniqueItems\": true,\n"
	"               \"description\": \"Columns to learn from; default every usable column but "
	"the target and the time column (identifier-like text columns are left out).\"},\n"
	"  \"sql\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 100000,\n"
	"          \"description\": \"Train on the result of this read-only query over the "
	"dataset's table `data` instead of its columns: derived features without a new "
	"dataset.\"},\n"
	"  \"task\": {\"enum\": [\"regression\", \"classification\"], \"default\": \"regression\"},\n"
	"  \"log_target\": {\"type\": \"boolean\", \"default\": false,\n"
	"                 \"description\": \"Regression: train on log1p(target); predictions and "
	"metrics stay on the original scale.\"},\n"
	"  \"params\": {\"type\": \"object\", \"additionalProperties\": false, \"properties\": {\n"
	"    \"rounds\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 5000, \"default\": 200},\n"
	"    \"eta\": {\"type\": \"number\", \"exclusiveMinimum\": 0, \"maximum\": 1, \"default\": 0.1},\n"
	"    \"max_depth\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 20, \"default\": 6},\n"
	"    \"min_child_weight\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1000000,\n"
	"                         \"default\": 1},\n"
	"    \"subsample\": {\"type\": \"number\", \"exclusiveMinimum\": 0, \"maximum\": 1,\n"
	"                  \"default\": 1},\n"
	"    \"colsample_bytree\": {\"type\": \"number\", \"exclusiveMinimum\": 0, \"maximum\": 1,\n"
	"                         \"default\": 1},\n"
	"    \"lambda\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1000000, \"default\": 1},\n"
	"    \"alpha\": {\"type\": \"number\", \"minimum\": 0, \"maximum\": 1000000, \"default\": 0},\n"
	"    \"seed\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 9007199254740991,\n"
	"             \"default\": 0},\n"
	"    \"threads\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 256, \"default\": 0,\n"
	"                \"description\": \"0: XGBoost's default.\"}}},\n"
	"  \"validation\": {\"type\": \"object\", \"additionalProperties\": false, \"properties\": {\n"
	"    \"split\": {\"enum\": [\"random\", \"time\"], \"default\": \"random\"},\n"
	"    \"fraction\": {\"type\": \"number\", \"exclusiveMinimum\": 0, \"exclusiveMaximum\": 1,\n"
	"                 \"default\": 0.2, \"description\": \"Share of the rows held out.\"},\n"
	"    \"time_column\": " NAME ",\n"
	"    \"from\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 40,\n"
	"             \"description\": \"Split time: hold out the rows at or after this time "
	"(e.g. \\\"2018\\\" or \\\"2018-07-01\\\") instead of a fraction.\"},\n"
	"    \"seed\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 9007199254740991,\n"
	"             \"default\": 0}}}}}";

json_t *train_request_schema(void)
{
	json_error_t je;
	json_t *s = json_loads(schema_text, 0, &je);
	if (!s)   /* a constant: caught by the first test */
		abort();
	return s;
}

void train_request_free(struct train_request *r)
{
	json_decref(r->json);
	memset(r, 0, sizeof *r);
}

static double num(const json_t *o, const char *key, double dflt)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}

static const char *text(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

int train_request_parse(const json_t *body, struct train_request *r, struct error *e)
{
	memset(r, 0, sizeof *r);
	json_t *schema = train_request_schema();
	int rc = schema_validate(schema, body, "body", e);
	json_decref(schema);
	if (rc < 0)
		return -1;
	json_t *j = r->json = json_deep_copy(body);
	json_t *params = json_object_get(j, "params");
	json_t *valid = json_object_get(j, "validation");
	if (!params)
		json_object_set_new(j, "params", params = json_object());
	if (!valid)
		json_object_set_new(j, "validation", valid = json_object());

	const char *task = text(j, "task");
	struct model_spec *s = &r->spec;
	s->task = task && strcmp(task, "classification") == 0 ? XGB_BINARY : XGB_REGRESSION;
	s->log_target = json_is_true(json_object_get(j, "log_target"));
	if (s->log_target && s->task != XGB_REGRESSION)
		return error_set(e, "body.log_target: only for regression");
	struct xgb_params *p = &s->params;
	xgb_params_default(p, s->task);
	p->rounds = (int)num(params, "rounds", p->rounds);
	p->eta = num(params, "eta", p->eta);
	p->max_depth = num(params, "max_depth", p->max_depth);
	p->min_child_weight = num(params, "min_child_weight", p->min_child_weight);
	p->subsample = num(params, "subsample", p->subsample);
	p->colsample_bytree = num(params, "colsample_bytree", p->colsample_bytree);
	p->lambda = num(params, "lambda", p->lambda);
	p->alpha = num(params, "alpha", p->alpha);
	p->seed = (uint64_t)num(params, "seed", 0);
	p->threads = (int)num(params, "threads", 0);

	const char *split = text(valid, "split");
	s->split = split && strcmp(split, "time") == 0 ? "time" : "random";
	s->fraction = num(valid, "fraction", 0.2);
	s->seed = (uint64_t)num(valid, "seed", 0);
	s->valid_from = text(valid, "from");
	r->time_column = text(valid, "time_column");
	if (strcmp(s->split, "time") == 0 && !r->time_column)
		return error_set(e, "body.validation.time_column: a time split needs the date or "
				 "datetime column to split by");
	if (strcmp(s->split, "time") != 0 && (r->time_column || s->valid_from))
		return error_set(e, "body.validation: time_column and from are for split \"time\"");

	/* Names are kept in fields of DATASET_NAME_MAX bytes; the schema counts
	 * characters. */
	static const char *const named[] = { "name", "target" };
	for (size_t k = 0; k < 2; k++) {
		const char *v = text(j, named[k]);
		if (v && strlen(v) > DATASET_NAME_MAX)
			return error_set(e, "body.%s: at most %d bytes of UTF-8", named[k],
					 DATASET_NAME_MAX);
	}
	if (r->time_column && strlen(r->time_column) > DATASET_NAME_MAX)
		return error_set(e, "body.validation.time_column: at most %d bytes of UTF-8",
				 DATASET_NAME_MAX);
	r->dataset_id = text(j, "dataset_id");
	if (!r->dataset_id)
		r->dataset_id = "";
	r->target = text(j, "target");
	r->sql = text(j, "sql");
	r->features = json_object_get(j, "features");
	if (!text(j, "name"))
		json_object_set_new(j, "name", json_string(r->target));
	r->name = text(j, "name");
	size_t i;
	const json_t *f;
	json_array_foreach(r->features, i, f) {
		if (strcmp(json_string_value(f), r->target) == 0)
			return error_set(e, "body.features[%zu]: the target cannot be a feature", i);
		if (json_string_length(f) > DATASET_NAME_MAX)
			return error_set(e, "body.features[%zu]: at most %d bytes of UTF-8", i,
					 DATASET_NAME_MAX);
	}
	/* Every field present, defaults included: the stored spec says exactly
	 * how the model was made. */
	json_object_set_new(j, "task", json_string(s->task == XGB_REGRESSION ? "regression"
									: "classification"));
	json_object_set_new(j, "log_target", json_boolean(s->log_target));
	json_object_set_new(params, "rounds", json_integer(p->rounds));
	json_object_set_new(params, "eta", json_real(p->eta));
	json_object_set_new(params, "max_depth", json_integer((json_int_t)p->max_depth));
	json_object_set_new(params, "min_child_weight", json_real(p->min_child_weight));
	json_object_set_new(params, "subsample", json_real(p->subsample));
	json_object_set_new(params, "colsample_bytree", json_real(p->colsample_bytree));
	json_object_set_new(params, "lambda", json_real(p->lambda));
	json_object_set_new(params, "alpha", json_real(p->alpha));
	json_object_set_new(params, "seed", json_integer((json_int_t)p->seed));
	json_object_set_new(params, "threads", json_integer(p->threads));
	json_object_set_new(valid, "split", json_string(s->split));
	json_object_set_new(valid, "fraction", json_real(s->fraction));
	json_object_set_new(valid, "seed", json_integer((json_int_t)s->seed));
	return 0;
}

/* The names a request uses, for checking: target, features, time column. */
static int check_name(const char *name, const char *where, const char *const *have, size_t n,
		      struct error *e)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(have[i], name) == 0)
			return 0;
	return error_set(e, "%s: no column \"%s\" in the %s", where, name,
			 n ? "training data" : "training data (it has no columns)");
}

static int check_names(const struct train_request *r, const char *const *have, size_t n,
		       struct error *e)
{
	if (check_name(r->target, "body.target", have, n, e) < 0)
		return -1;
	if (r->time_column &&
	    check_name(r->time_column, "body.validation.time_column", have, n, e) < 0)
		return -1;
	size_t i;
	const json_t *f;
	json_array_foreach(r->features, i, f) {
		char where[40];
		snprintf(where, sizeof where, "body.features[%zu]", i);
		if (check_name(json_string_value(f), where, have, n, e) < 0)
			return -1;
	}
	return 0;
}

int train_request_check(const struct train_request *r, struct table *t,
			const struct sql_limits *lim, enum sql_status *why, struct error *e)
{
	*why = SQL_OK;
	size_t n;
	const char **have;
	struct sql_query *q = NULL;
	if (r->sql) {
		if ((*why = sql_prepare(t, r->sql, NULL, lim, &q, e)) != SQL_OK) {
			char msg[sizeof e->msg];
			snprintf(msg, sizeof msg, "%s", e->msg);
			return error_set(e, "body.sql: %s", msg);
		}
		n = (size_t)sqlite3_column_count(sql_stmt(q));
		have = xcalloc(n + 1, sizeof *have);
		for (size_t i = 0; i < n; i++)
			have[i] = sqlite3_column_name(sql_stmt(q), (int)i);
	} else {
		n = table_ncolumns(t);
		have = xcalloc(n + 1, sizeof *have);
		for (size_t i = 0; i < n; i++)
			have[i] = table_column(t, i)->name;
	}
	int rc = check_names(r, have, n, e);
	if (rc < 0)
		*why = SQL_INVALID;
	free(have);
	sql_close(q);
	return rc;
}

/* Whether c can be a feature nobody asked for: not identifier-like text
 * (a dictionary past its limit, or a distinct value on most rows). */
static bool usable_by_default(const struct frame_column *c)
{
	if (c->num || c->kind == COLUMN_DATE || c->kind == COLUMN_DATETIME ||
	    c->kind == COLUMN_TIME)
		return true;
	return c->code && !c->dict_full && (c->ndict <= 1000 || c->ndict * 2 <= c->n);
}

static bool is_named(const char *name, const char *a, const char *b)
{
	return (a && strcmp(name, a) == 0) || (b && strcmp(name, b) == 0);
}

struct model *train_on_table(const struct train_request *r, struct table *t, const char *key,
			     struct frame_cache *frames, const struct sql_limits *lim,
			     model_progress_fn progress, void *arg, enum sql_status *why,
			     struct error *e)
{
	*why = SQL_OK;
	/* All columns the model may read, by name: from the query, or from the
	 * dataset (through the cache; a private uncached one when there is
	 * none). */
	struct frame_column *own = NULL;
	size_t nown = 0, ncols;
	const struct frame_column **cols;
	const char **names = NULL;
	struct frame_cache *fc = NULL;
	if (r->sql) {
		if (frame_query(t, r->sql, lim, &own, &nown, why, e) < 0)
			return NULL;
		ncols = nown;
		cols = xcalloc(ncols + 1, sizeof *cols);
		for (size_t i = 0; i < ncols; i++)
			cols[i] = &own[i];
	} else {
		/* Named features: only the columns used; else every column. */
		fc = frames ? frames : frame_cache_new(0);
		size_t nt = table_ncolumns(t);
		names = xcalloc(nt + 1, sizeof *names);
		ncols = 0;
		for (size_t i = 0; i < nt; i++) {
			const char *name = table_column(t, i)->name;
			bool used = !r->features || is_named(name, r->target, r->time_column);
			size_t k;
			const json_t *f;
			json_array_foreach(r->features, k, f)
				used |= strcmp(json_string_value(f), name) == 0;
			if (used)
				names[ncols++] = name;
		}
		cols = xcalloc(ncols + 1, sizeof *cols);
		if (frame_get(fc, t, key, names, ncols, lim, cols, why, e) < 0) {
			free(cols);
			free(names);
			if (fc != frames)
				frame_cache_free(fc);
			return NULL;
		}
	}
	const struct frame_column *target = NULL;
	const struct frame_column **feats = xcalloc(ncols + 1, sizeof *feats);
	size_t nfeats = 0;
	struct model_spec spec = r->spec;
	for (size_t i = 0; i < ncols; i++) {
		if (strcmp(cols[i]->name, r->target) == 0)
			target = cols[i];
		if (r->time_column && strcmp(cols[i]->name, r->time_column) == 0)
			spec.time_column = cols[i];
	}
	struct model *m = NULL;
	if (r->features) {
		size_t i;
		const json_t *f;
		json_array_foreach(r->features, i, f) {
			const char *name = json_string_value(f);
			size_t k = 0;
			while (k < ncols && strcmp(cols[k]->name, name) != 0)
				k++;
			if (k == ncols) {
				error_set(e, "features[%zu]: no column \"%s\"", i, name);
				goto done;
			}
			if (cols[k]->code == NULL && !cols[k]->num) {
				error_set(e, "features[%zu]: column %s has too many distinct "
					  "values to be a category", i, name);
				goto done;
			}
			feats[nfeats++] = cols[k];
		}
	} else {
		for (size_t i = 0; i < ncols; i++)
			if (!is_named(cols[i]->name, r->target, r->time_column) &&
			    usable_by_default(cols[i]))
				feats[nfeats++] = cols[i];
	}
	if (!target) {
		error_set(e, "target: no column \"%s\"", r->target);
		goto done;
	}
	if (r->time_column && !spec.time_column) {
		error_set(e, "validation.time_column: no column \"%s\"", r->time_column);
		goto done;
	}
	if (nfeats == 0) {
		error_set(e, "no column to learn from: name the features");
		goto done;
	}
	m = model_train(feats, nfeats, target, &spec, progress, arg, e);
done:
	free(feats);
	if (fc) {
		frame_release(fc, cols, ncols);
		if (fc != frames)
			frame_cache_free(fc);
	}
	free(cols);
	free(names);
	frame_columns_free(own, nown);
	return m;
}
