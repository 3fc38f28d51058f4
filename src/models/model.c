/*
 * Models; see model.h.  The saved form is one line of JSON (everything but
 * the trees) followed by XGBoost's own bytes.
 */
#include "models/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/sha256.h"
#include "models/metrics.h"

#define FORMAT "sheaf-model-1"
#define MIN_ROWS 10

struct model {
	enum xgb_task task;
	bool log_target;
	char *target;
	struct feature_set fs;
	char **classes;
	size_t nclasses;
	struct xgb_model *booster;
	json_t *info;
};

void model_free(struct model *m)
{
	if (!m)
		return;
	free(m->target);
	features_free(&m->fs);
	for (size_t i = 0; i < m->nclasses; i++)
		free(m->classes[i]);
	free(m->classes);
	xgb_free(m->booster);
	json_decref(m->info);
	free(m);
}

/* ---- training ---- */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static int by_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The shortest text that reads back as v, so distinct classes keep
 * distinct names (1 and 1.0000000000000002 too). */
static char *number_text(double v)
{
	char buf[40];
	for (int digits = 15; digits <= 17; digits++) {
		snprintf(buf, sizeof buf, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return xstrdup(buf);
}

/* Classes of a classification target and each row's class (NAN: none). */
static int classify(struct model *m, const struct frame_column *t, float *y, struct error *e)
{
	if (t->code && !t->dict_full) {
		/* Text: classes in name order. */
		size_t *order = xmalloc((t->ndict ? t->ndict : 1) * sizeof *order);
		size_t n = 0;
		for (size_t k = 0; k < t->ndict; k++)
			order[n++] = k;
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && strcmp(t->dict[order[j]], t->dict[order[j - 1]]) < 0; j--) {
				size_t x = order[j];
				order[j] = order[j - 1];
				order[j - 1] = x;
			}
		if (n > MODEL_MAX_CLASSES) {
			free(order);
			return error_set(e, "target %s has %zu classes; at most %d", t->name, n,
					 MODEL_MAX_CLASSES);
		}
		float *cls = xmalloc((t->ndict ? t->ndict : 1) * sizeof *cls);
		m->classes = xmalloc((n ? n : 1) * sizeof *m->classes);
		for (size_t i = 0; i < n; i++) {
			m->classes[i] = xstrdup(t->dict[order[i]]);
			cls[order[i]] = (float)i;
		}
		m->nclasses = n;
		for (size_t r = 0; r < t->n; r++)
			y[r] = t->code[r] == FRAME_NULL ? NAN : cls[t->code[r]];
		free(cls);
		free(order);
		return 0;
	}
	if (!t->num)
		return error_set(e, "target %s has too many distinct values to classify", t->name);
	/* Numbers: the distinct values, ascending. */
	double *v = xmalloc((t->n ? t->n : 1) * sizeof *v);
	size_t n = 0;
	for (size_t r = 0; r < t->n; r++)
		if (t->valid[r])
			v[n++] = t->num[r];
	qsort(v, n, sizeof *v, by_double);
	size_t d = 0;
	for (size_t i = 0; i < n; i++)
		if (i == 0 || v[i] != v[d - 1])
			v[d++] = v[i];
	if (d > MODEL_MAX_CLASSES) {
		free(v);
		return error_set(e, "target %s has %zu distinct values; at most %d classes "
				 "(use regression for a quantity)", t->name, d, MODEL_MAX_CLASSES);
	}
	m->classes = xmalloc((d ? d : 1) * sizeof *m->classes);
	for (size_t i = 0; i < d; i++)
		m->classes[i] = t->kind == COLUMN_BOOL ? xstrdup(v[i] ? "true" : "false")
						       : number_text(v[i]);
	m->nclasses = d;
	for (size_t r = 0; r < t->n; r++) {
		y[r] = NAN;
		if (!t->valid[r])
			continue;
		double *at = bsearch(&t->num[r], v, d, sizeof *v, by_double);
		y[r] = (float)(at - v);
	}
	free(v);
	return 0;
}

struct split {
	size_t *train, *valid;
	size_t ntrain, nvalid;
};

static int time_cmp(const void *pa, const void *pb, void *arg)
{
	const struct frame_column *c = arg;
	uint32_t a = c->code[*(const size_t *)pa], b = c->code[*(const size_t *)pb];
	if (a == b)
		return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
	if (a == FRAME_NULL)
		return -1;   /* no time: kept for training */
	if (b == FRAME_NULL)
		return 1;
	int d = strcmp(c->dict[a], c->dict[b]);
	return d ? d : (*(const size_t *)pa < *(const size_t *)pb ? -1 : 1);
}

static int split_rows(const struct model_spec *spec, const float *y, size_t n,
		      struct split *s, struct error *e)
{
	size_t *rows = xmalloc((n ? n : 1) * sizeof *rows), m = 0;
	for (size_t r = 0; r < n; r++)
		if (!isnan(y[r]))
			rows[m++] = r;
	if (m < MIN_ROWS) {
		free(rows);
		return error_set(e, "only %zu rows have a target; at least %d are needed", m,
				 MIN_ROWS);
	}
	size_t k = (size_t)llround((double)m * spec->fraction);
	if (k < 1)
		k = 1;
	if (k >= m)
		k = m - 1;
	if (spec->split && strcmp(spec->split, "time") == 0) {
		const struct frame_column *c = spec->time_column;
		if (!c || !c->code || c->dict_full) {
			free(rows);
			return error_set(e, "a time split needs a date or datetime column");
		}
		qsort_r(rows, m, sizeof *rows, time_cmp, (void *)c);
		if (spec->valid_from) {
			/* The rows at or after valid_from, latest last. */
			k = 0;
			while (k < m && c->code[rows[m - 1 - k]] != FRAME_NULL &&
			       strcmp(c->dict[c->code[rows[m - 1 - k]]], spec->valid_from) >= 0)
				k++;
			if (k < 1 || k >= m) {
				free(rows);
				return error_set(e, "%zu of %zu rows are at or after %s: both the "
						 "training and the validation rows need some", k, m,
						 spec->valid_from);
			}
		}
	} else {
		uint64_t seed = spec->seed;
		for (size_t i = m - 1; i > 0; i--) {   /* Fisher-Yates */
			size_t j = (size_t)(splitmix(&seed) % (i + 1));
			size_t t = rows[i];
			rows[i] = rows[j];
			rows[j] = t;
		}
	}
	s->train = rows;
	s->ntrain = m - k;
	s->valid = xmalloc(k * sizeof *s->valid);
	memcpy(s->valid, rows + (m - k), k * sizeof *s->valid);
	s->nvalid = k;
	return 0;
}

struct progress {
	model_progress_fn fn;
	void *arg;
};

static bool round_done(void *arg, int round, int rounds, double metric)
{
	struct progress *p = arg;
	(void)metric;
	return !p->fn || p->fn(p->arg, (int)(50 + 900 * (int64_t)round / (rounds ? rounds : 1)));
}

static json_t *jnum(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* Validation metrics on the original scale. */
static json_t *validate(struct model *m, const float *x, size_t nvalid, const float *y_orig,
			const float *y_class, struct error *e)
{
	size_t per = m->task == XGB_MULTICLASS ? m->nclasses : 1;
	float *p = xmalloc((nvalid * per + 1) * sizeof *p);
	struct xgb_matrix vm = { x, nvalid, m->fs.width, NULL };
	if (xgb_predict(m->booster, &vm, p, e) < 0) {
		free(p);
		return NULL;
	}
	json_t *out;
	if (m->task == XGB_REGRESSION) {
		if (m->log_target)
			for (size_t i = 0; i < nvalid; i++)
				p[i] = (float)expm1(p[i]);
		out = json_pack("{s:o, s:o, s:o}", "rmse", jnum(metric_rmse(y_orig, p, nvalid)),
				"mae", jnum(metric_mae(y_orig, p, nvalid)),
				"rmsle", jnum(metric_rmsle(y_orig, p, nvalid)));
	} else {
		int nclass = m->task == XGB_MULTICLASS ? (int)m->nclasses : 2;
		out = json_pack("{s:o, s:o, s:o}",
				"accuracy", jnum(metric_accuracy(y_class, p, nvalid, nclass)),
				"log_loss", jnum(metric_logloss(y_class, p, nvalid, nclass)),
				"auc", jnum(nclass == 2 ? metric_auc(y_class, p, nvalid) : NAN));
	}
	free(p);
	return out;
}

static json_t *importance(struct model *m, struct error *e)
{
	double *gain = xcalloc(m->fs.width + 1, sizeof *gain);
	if (xgb_importance(m->booster, gain, e) < 0) {
		free(gain);
		return NULL;
	}
	/* Per feature: the sum over its matrix columns; largest first. */
	size_t n = m->fs.n, at = 0;
	double *per = xcalloc(n + 1, sizeof *per);
	for (size_t i = 0; i < n; i++) {
		size_t w = feature_width(&m->fs.f[i]);
		for (size_t k = 0; k < w; k++)
			per[i] += gain[at + k];
		at += w;
	}
	double total = 0;
	for (size_t i = 0; i < n; i++)
		total += per[i];
	json_t *list = json_array();
	bool *done = xcalloc(n + 1, sizeof *done);
	for (size_t round = 0; round < n; round++) {
		size_t best = n;
		for (size_t i = 0; i < n; i++)
			if (!done[i] && (best == n || per[i] > per[best]))
				best = i;
		done[best] = true;
		json_array_append_new(list, json_pack("{s:s, s:o}", "feature", m->fs.f[best].name,
						      "share", jnum(total > 0 ? per[best] / total : 0)));
	}
	free(done);
	free(per);
	free(gain);
	return list;
}

static json_t *params_json(const struct xgb_params *p)
{
	return json_pack("{s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "rounds", p->rounds,
			 "eta", p->eta, "max_depth", p->max_depth, "min_child_weight",
			 p->min_child_weight, "subsample", p->subsample, "colsample_bytree",
			 p->colsample_bytree, "lambda", p->lambda, "alpha", p->alpha, "seed",
			 (json_int_t)p->seed);
}

static const char *task_name(enum xgb_task t)
{
	return t == XGB_REGRESSION ? "regression" : "classification";
}

struct model *model_train(const struct frame_column *const *features, size_t n,
			  const struct frame_column *target, const struct model_spec *spec,
			  model_progress_fn progress, void *arg, struct error *e)
{
	int64_t start = clock_mono_ns();
	struct model *m = xcalloc(1, sizeof *m);
	m->task = spec->task == XGB_REGRESSION ? XGB_REGRESSION : XGB_BINARY;
	m->log_target = spec->task == XGB_REGRESSION && spec->log_target;
	m->target = xstrdup(target->name);
	size_t rows = target->n;
	float *y = xmalloc((rows + 1) * sizeof *y), *y_orig = xmalloc((rows + 1) * sizeof *y_orig);
	struct split s = { 0 };
	float *xtr = NULL, *xva = NULL, *ytr = NULL, *yva = NULL, *yva_orig = NULL;
	if (m->task == XGB_REGRESSION) {
		if (!target->num) {
			error_set(e, "target %s is %s; regression needs a number column",
				  target->name, column_kind_name(target->kind));
			goto fail;
		}
		for (size_t r = 0; r < rows; r++) {
			y_orig[r] = target->valid[r] ? (float)target->num[r] : NAN;
			if (m->log_target && !isnan(y_orig[r]) && y_orig[r] <= -1) {
				error_set(e, "target %s has values of -1 or less: no log1p transform",
					  target->name);
				goto fail;
			}
			y[r] = m->log_target && !isnan(y_orig[r]) ? (float)log1p(y_orig[r]) : y_orig[r];
		}
	} else {
		if (classify(m, target, y, e) < 0)
			goto fail;
		if (m->nclasses < 2) {
			error_set(e, "target %s has %zu class; classification needs at least 2",
				  target->name, m->nclasses);
			goto fail;
		}
		if (m->nclasses > 2)
			m->task = XGB_MULTICLASS;
		memcpy(y_orig, y, rows * sizeof *y);
	}
	if (split_rows(spec, y, rows, &s, e) < 0)
		goto fail;
	if (features_fit(&m->fs, features, n, y, s.train, s.ntrain, e) < 0)
		goto fail;
	if (progress && !progress(arg, 50)) {
		error_set(e, "training stopped");
		goto fail;
	}
	size_t w = m->fs.width;
	xtr = xmalloc((s.ntrain * w + 1) * sizeof *xtr);
	xva = xmalloc((s.nvalid * w + 1) * sizeof *xva);
	ytr = xmalloc((s.ntrain + 1) * sizeof *ytr);
	yva = xmalloc((s.nvalid + 1) * sizeof *yva);
	yva_orig = xmalloc((s.nvalid + 1) * sizeof *yva_orig);
	features_matrix(&m->fs, features, s.train, s.ntrain, xtr);
	features_matrix(&m->fs, features, s.valid, s.nvalid, xva);
	for (size_t i = 0; i < s.ntrain; i++)
		ytr[i] = y[s.train[i]];
	for (size_t i = 0; i < s.nvalid; i++) {
		yva[i] = y[s.valid[i]];
		yva_orig[i] = y_orig[s.valid[i]];
	}
	struct xgb_params p = spec->params;
	p.task = m->task;
	p.nclass = (int)m->nclasses;
	struct xgb_matrix tm = { xtr, s.ntrain, w, ytr }, vm = { xva, s.nvalid, w, yva };
	struct progress pr = { progress, arg };
	if (!(m->booster = xgb_train(&tm, &vm, &p, round_done, &pr, e)))
		goto fail;
	json_t *metrics = validate(m, xva, s.nvalid, yva_orig, yva, e);
	json_t *imp = metrics ? importance(m, e) : NULL;
	if (!imp) {
		json_decref(metrics);
		goto fail;
	}
	char version[32];
	xgb_version(version, sizeof version);
	json_t *classes = json_array();
	for (size_t i = 0; i < m->nclasses; i++)
		json_array_append_new(classes, json_string(m->classes[i]));
	m->info = json_pack("{s:s, s:s, s:b, s:o, s:o, s:o, s:{s:s, s:f, s:I, s:o}, s:I, s:o, "
			    "s:I, s:s}",
			    "task", task_name(m->task), "target", m->target,
			    "log_target", m->log_target, "features", features_json(&m->fs),
			    "classes", classes, "params", params_json(&p),
			    "validation", "split", spec->split ? spec->split : "random",
			    "fraction", spec->fraction, "rows", (json_int_t)s.nvalid,
			    "metrics", metrics,
			    "training_rows", (json_int_t)s.ntrain, "importance", imp,
			    "training_ms", (json_int_t)((clock_mono_ns() - start) / 1000000),
			    "xgboost", version);
	if (spec->split && strcmp(spec->split, "time") == 0 && spec->valid_from)
		json_object_set_new(json_object_get(m->info, "validation"), "from",
				    json_string(spec->valid_from));
	if (progress)
		progress(arg, 1000);
	goto done;
fail:
	model_free(m);
	m = NULL;
done:
	free(y);
	free(y_orig);
	free(s.train);
	free(s.valid);
	free(xtr);
	free(xva);
	free(ytr);
	free(yva);
	free(yva_orig);
	return m;
}

json_t *model_info(const struct model *m)
{
	return json_deep_copy(m->info);
}

/* ---- prediction ---- */

/* Row i's prediction from p (per values per row). */
static json_t *prediction(const struct model *m, const float *p)
{
	if (m->task == XGB_REGRESSION)
		return jnum(m->log_target ? expm1(p[0]) : p[0]);
	json_t *probs = json_object();
	size_t best = 0;
	for (size_t k = 0; k < m->nclasses; k++) {
		double q = m->task == XGB_BINARY ? (k ? p[0] : 1 - p[0]) : p[k];
		double qb = m->task == XGB_BINARY ? (best ? p[0] : 1 - p[0]) : p[best];
		json_object_set_new(probs, m->classes[k], jnum(q));
		if (q > qb)
			best = k;
	}
	return json_pack("{s:s, s:o}", "class", m->classes[best], "probabilities", probs);
}

json_t *model_predict_each(struct model *m, const json_t *rows, char **errors,
			   struct error *e)
{
	size_t n = json_array_size(rows), w = m->fs.width, good = 0;
	size_t per = m->task == XGB_MULTICLASS ? m->nclasses : 1;
	float *x = xmalloc((n * w + 1) * sizeof *x), *p = xmalloc((n * per + 1) * sizeof *p);
	size_t *at = xmalloc((n + 1) * sizeof *at);   /* row i's place in x, or n */
	for (size_t i = 0; i < n; i++) {
		const json_t *row = json_array_get(rows, i);
		struct error re;
		errors[i] = NULL;
		at[i] = n;
		if (!json_is_object(row)) {
			errors[i] = xstrdup("an object of column values is needed");
			continue;
		}
		if (features_row_json(&m->fs, row, x + good * w, &re) < 0) {
			errors[i] = xstrdup(re.msg);
			continue;
		}
		at[i] = good++;
	}
	json_t *out = NULL;
	struct xgb_matrix xm = { x, good, w, NULL };
	if (good == 0 || xgb_predict(m->booster, &xm, p, e) == 0) {
		out = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, at[i] < n ? prediction(m, p + at[i] * per)
							     : json_null());
	} else {
		for (size_t i = 0; i < n; i++) {
			free(errors[i]);
			errors[i] = NULL;
		}
	}
	free(at);
	free(x);
	free(p);
	return out;
}

json_t *model_predict(struct model *m, const json_t *rows, struct error *e)
{
	size_t n = json_array_size(rows);
	char **errors = xcalloc(n + 1, sizeof *errors);
	json_t *out = model_predict_each(m, rows, errors, e);
	for (size_t i = 0; i < n; i++) {
		if (errors[i] && out) {
			error_set(e, "rows[%zu]%s%s", i,
				  json_is_object(json_array_get(rows, i)) ? "." : ": ", errors[i]);
			json_decref(out);
			out = NULL;
		}
		free(errors[i]);
	}
	free(errors);
	return out;
}

const struct feature_set *model_features(const struct model *m)
{
	return &m->fs;
}

/* ---- saving ---- */

int model_save(struct model *m, char **out, size_t *len, struct error *e)
{
	char *trees;
	size_t tlen;
	if (xgb_save(m->booster, &trees, &tlen, e) < 0)
		return -1;
	/* The training time stays out of the file, so training the same data
	 * the same way gives the same bytes (the registry keeps it apart). */
	json_t *info = json_deep_copy(m->info);
	json_object_del(info, "training_ms");
	/* The trees' length and digest: XGBoost reads past the end of a cut
	 * buffer, so model_load checks them before handing it the bytes. */
	char digest[SHA256_HEX];
	struct sha256 *h = sha256_new();
	sha256_update(h, trees, tlen);
	sha256_finish(h, digest);
	json_t *head = json_pack("{s:s, s:I, s:s, s:o}", "format", FORMAT, "trees_bytes",
				 (json_int_t)tlen, "trees_sha256", digest, "info", info);
	char *text = json_dumps(head, JSON_COMPACT);
	json_decref(head);
	size_t hlen = strlen(text);
	*len = hlen + 1 + tlen;
	*out = xmalloc(*len);
	memcpy(*out, text, hlen);
	(*out)[hlen] = '\n';
	memcpy(*out + hlen + 1, trees, tlen);
	free(text);
	free(trees);
	return 0;
}

struct model *model_load(const char *data, size_t len, struct error *e)
{
	const char *nl = memchr(data, '\n', len);
	if (!nl) {
		error_set(e, "not a sheaf model: no header");
		return NULL;
	}
	json_error_t je;
	json_t *head = json_loadb(data, (size_t)(nl - data), 0, &je);
	const char *format = json_string_value(json_object_get(head, "format"));
	json_t *info = json_object_get(head, "info");
	if (!format || strcmp(format, FORMAT) != 0 || !json_is_object(info)) {
		json_decref(head);
		error_set(e, "not a sheaf model (format %s)", FORMAT);
		return NULL;
	}
	/* The trees exactly as saved, or XGBoost never sees them. */
	const char *trees = nl + 1;
	size_t tlen = len - (size_t)(trees - data);
	const char *want = json_string_value(json_object_get(head, "trees_sha256"));
	json_int_t want_len = json_integer_value(json_object_get(head, "trees_bytes"));
	char digest[SHA256_HEX] = "";
	if (want && want_len == (json_int_t)tlen) {
		struct sha256 *h = sha256_new();
		sha256_update(h, trees, tlen);
		sha256_finish(h, digest);
	}
	if (!want || strcmp(digest, want) != 0) {
		json_decref(head);
		error_set(e, "the model is damaged: its trees are %zu bytes, not the %lld saved, or "
			  "their digest differs", tlen, (long long)want_len);
		return NULL;
	}
	struct model *m = xcalloc(1, sizeof *m);
	m->info = json_incref(info);
	json_decref(head);
	const char *task = json_string_value(json_object_get(info, "task"));
	const char *target = json_string_value(json_object_get(info, "target"));
	m->target = xstrdup(target ? target : "");
	m->log_target = json_is_true(json_object_get(info, "log_target"));
	const json_t *classes = json_object_get(info, "classes");
	m->nclasses = json_array_size(classes);
	m->classes = xmalloc((m->nclasses + 1) * sizeof *m->classes);
	for (size_t i = 0; i < m->nclasses; i++) {
		const char *c = json_string_value(json_array_get(classes, i));
		m->classes[i] = xstrdup(c ? c : "");
	}
	m->task = task && strcmp(task, "classification") == 0
		  ? (m->nclasses > 2 ? XGB_MULTICLASS : XGB_BINARY) : XGB_REGRESSION;
	if (features_from_json(&m->fs, json_object_get(info, "features"), e) < 0 ||
	    !(m->booster = xgb_load(trees, tlen, e))) {
		model_free(m);
		return NULL;
	}
	if (xgb_ncol(m->booster) != m->fs.width) {
		error_set(e, "the model's trees use %zu features, its header %zu",
			  xgb_ncol(m->booster), m->fs.width);
		model_free(m);
		return NULL;
	}
	return m;
}
