/*
 * XGBoost's C API behind xgb.h.  Every call's status is checked; a failure
 * carries XGBGetLastError's text (the library keeps it per thread).
 */
#include "models/xgb.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "base/alloc.h"
#include "base/dynlib.h"

/* XGBoost, loaded on first use (base/dynlib.h): its functions by their own
 * names.  Written once by dynlib_ready, read-only after. */
static struct {
	__typeof__(XGBGetLastError) *XGBGetLastError;
	__typeof__(XGBoostVersion) *XGBoostVersion;
	__typeof__(XGBoosterCreate) *XGBoosterCreate;
	__typeof__(XGBoosterEvalOneIter) *XGBoosterEvalOneIter;
	__typeof__(XGBoosterFeatureScore) *XGBoosterFeatureScore;
	__typeof__(XGBoosterFree) *XGBoosterFree;
	__typeof__(XGBoosterGetNumFeature) *XGBoosterGetNumFeature;
	__typeof__(XGBoosterLoadModelFromBuffer) *XGBoosterLoadModelFromBuffer;
	__typeof__(XGBoosterPredictFromDense) *XGBoosterPredictFromDense;
	__typeof__(XGBoosterSaveJsonConfig) *XGBoosterSaveJsonConfig;
	__typeof__(XGBoosterSaveModelToBuffer) *XGBoosterSaveModelToBuffer;
	__typeof__(XGBoosterSetParam) *XGBoosterSetParam;
	__typeof__(XGBoosterUpdateOneIter) *XGBoosterUpdateOneIter;
	__typeof__(XGDMatrixCreateFromMat) *XGDMatrixCreateFromMat;
	__typeof__(XGDMatrixFree) *XGDMatrixFree;
	__typeof__(XGDMatrixSetFloatInfo) *XGDMatrixSetFloatInfo;
} X;

#ifndef SHEAF_XGBOOST_SONAME
#define SHEAF_XGBOOST_SONAME "libxgboost.so.0"
#endif

#define SYM(f) { #f, &X.f }
static const struct dynlib_sym xgb_syms[] = {
	SYM(XGBGetLastError),
	SYM(XGBoostVersion),
	SYM(XGBoosterCreate),
	SYM(XGBoosterEvalOneIter),
	SYM(XGBoosterFeatureScore),
	SYM(XGBoosterFree),
	SYM(XGBoosterGetNumFeature),
	SYM(XGBoosterLoadModelFromBuffer),
	SYM(XGBoosterPredictFromDense),
	SYM(XGBoosterSaveJsonConfig),
	SYM(XGBoosterSaveModelToBuffer),
	SYM(XGBoosterSetParam),
	SYM(XGBoosterUpdateOneIter),
	SYM(XGDMatrixCreateFromMat),
	SYM(XGDMatrixFree),
	SYM(XGDMatrixSetFloatInfo),
};
#undef SYM
static struct dynlib_lazy xgb_lib = DYNLIB_LAZY(SHEAF_XGBOOST_SONAME, xgb_syms);

/* 0 once XGBoost is there, or -1 with e set. */
static int xgb_ready(struct error *e)
{
	struct error why;
	if (dynlib_ready(&xgb_lib, &why) < 0)
		return error_set(e, "xgboost: %s", why.msg);
	return 0;
}

struct xgb_model {
	BoosterHandle booster;
	size_t ncol;
	enum xgb_task task;
	int nclass;
};

static int fail(struct error *e, const char *what)
{
	return error_set(e, "xgboost: %s: %s", what, X.XGBGetLastError());
}

void xgb_params_default(struct xgb_params *p, enum xgb_task task)
{
	*p = (struct xgb_params){
		.task = task, .nclass = 2, .rounds = 200, .eta = 0.1, .max_depth = 6,
		.min_child_weight = 1, .subsample = 1, .colsample_bytree = 1, .lambda = 1,
		.alpha = 0, .seed = 0, .threads = 0,
	};
}

static DMatrixHandle matrix(const struct xgb_matrix *m, struct error *e)
{
	DMatrixHandle dm = NULL;
	if (X.XGDMatrixCreateFromMat(m->x, m->nrow, m->ncol, NAN, &dm) != 0) {
		fail(e, "matrix");
		return NULL;
	}
	if (m->y && X.XGDMatrixSetFloatInfo(dm, "label", m->y, m->nrow) != 0) {
		fail(e, "labels");
		X.XGDMatrixFree(dm);
		return NULL;
	}
	return dm;
}

static const char *objective(enum xgb_task t)
{
	return t == XGB_REGRESSION ? "reg:squarederror" : t == XGB_BINARY ? "binary:logistic"
									  : "multi:softprob";
}

static int set_params(BoosterHandle b, const struct xgb_params *p, struct error *e)
{
	char num[64];
	struct { const char *key; double v; } nums[] = {
		{ "eta", p->eta }, { "max_depth", p->max_depth },
		{ "min_child_weight", p->min_child_weight }, { "subsample", p->subsample },
		{ "colsample_bytree", p->colsample_bytree }, { "lambda", p->lambda },
		{ "alpha", p->alpha },
	};
	if (X.XGBoosterSetParam(b, "objective", objective(p->task)) != 0 ||
	    X.XGBoosterSetParam(b, "tree_method", "hist") != 0 ||
	    X.XGBoosterSetParam(b, "verbosity", "0") != 0 ||
	    X.XGBoosterSetParam(b, "eval_metric", p->task == XGB_REGRESSION ? "rmse"
						 : p->task == XGB_BINARY ? "logloss" : "mlogloss") != 0)
		return fail(e, "parameters");
	for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
		snprintf(num, sizeof num, "%.17g", nums[i].v);
		if (X.XGBoosterSetParam(b, nums[i].key, num) != 0)
			return fail(e, nums[i].key);
	}
	snprintf(num, sizeof num, "%llu", (unsigned long long)(p->seed & INT64_MAX));
	if (X.XGBoosterSetParam(b, "seed", num) != 0)
		return fail(e, "seed");
	if (p->task == XGB_MULTICLASS) {
		snprintf(num, sizeof num, "%d", p->nclass);
		if (X.XGBoosterSetParam(b, "num_class", num) != 0)
			return fail(e, "num_class");
	}
	if (p->threads > 0) {
		snprintf(num, sizeof num, "%d", p->threads);
		if (X.XGBoosterSetParam(b, "nthread", num) != 0)
			return fail(e, "nthread");
	}
	return 0;
}

/* The number after the last ':' of an evaluation line "[3]\tvalid-rmse:0.25". */
static double eval_value(const char *line)
{
	const char *colon = line ? strrchr(line, ':') : NULL;
	return colon ? strtod(colon + 1, NULL) : NAN;
}

struct xgb_model *xgb_train(const struct xgb_matrix *train, const struct xgb_matrix *valid,
			    const struct xgb_params *p, xgb_progress_fn progress, void *arg,
			    struct error *e)
{
	if (xgb_ready(e) < 0)
		return NULL;
	if (train->nrow == 0 || train->ncol == 0 || !train->y) {
		error_set(e, "xgboost: nothing to train on (%zu rows, %zu features)", train->nrow,
			  train->ncol);
		return NULL;
	}
	DMatrixHandle dtrain = matrix(train, e), dvalid = NULL;
	if (!dtrain)
		return NULL;
	if (valid && valid->nrow && !(dvalid = matrix(valid, e))) {
		X.XGDMatrixFree(dtrain);
		return NULL;
	}
	DMatrixHandle cache[2] = { dtrain, dvalid };
	BoosterHandle b = NULL;
	struct xgb_model *m = NULL;
	if (X.XGBoosterCreate(cache, dvalid ? 2 : 1, &b) != 0) {
		fail(e, "booster");
		goto out;
	}
	if (set_params(b, p, e) < 0)
		goto out;
	for (int i = 0; i < p->rounds; i++) {
		if (X.XGBoosterUpdateOneIter(b, i, dtrain) != 0) {
			fail(e, "training");
			goto out;
		}
		double metric = NAN;
		if (dvalid) {
			const char *names[] = { "valid" };
			const char *line = NULL;
			if (X.XGBoosterEvalOneIter(b, i, &dvalid, names, 1, &line) != 0) {
				fail(e, "evaluation");
				goto out;
			}
			metric = eval_value(line);
		}
		if (progress && !progress(arg, i + 1, p->rounds, metric)) {
			error_set(e, "training stopped after %d of %d rounds", i + 1, p->rounds);
			goto out;
		}
	}
	m = xcalloc(1, sizeof *m);
	m->booster = b;
	m->ncol = train->ncol;
	m->task = p->task;
	m->nclass = p->task == XGB_MULTICLASS ? p->nclass : 1;
	b = NULL;
out:
	if (b)
		X.XGBoosterFree(b);
	X.XGDMatrixFree(dtrain);
	if (dvalid)
		X.XGDMatrixFree(dvalid);
	return m;
}

int xgb_predict(struct xgb_model *m, const struct xgb_matrix *x, float *out, struct error *e)
{
	if (x->ncol != m->ncol)
		return error_set(e, "xgboost: %zu features given, the model has %zu", x->ncol,
				 m->ncol);
	if (x->nrow == 0)
		return 0;
	/* In-place prediction: safe from many threads at once, no DMatrix. */
	char array[256];
	snprintf(array, sizeof array, "{\"data\": [%llu, true], \"shape\": [%zu, %zu], "
		 "\"typestr\": \"<f4\", \"version\": 3}",
		 (unsigned long long)(uintptr_t)x->x, x->nrow, x->ncol);
	const char *config = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
			     "\"iteration_end\": 0, \"strict_shape\": false, \"missing\": NaN, "
			     "\"cache_id\": 0}";
	const bst_ulong *shape = NULL;
	bst_ulong dim = 0;
	const float *result = NULL;
	if (X.XGBoosterPredictFromDense(m->booster, array, config, NULL, &shape, &dim, &result) != 0)
		return fail(e, "prediction");
	size_t want = x->nrow * (size_t)m->nclass, got = 1;
	for (bst_ulong i = 0; i < dim; i++)
		got *= (size_t)shape[i];
	if (got != want)
		return error_set(e, "xgboost: %zu predictions for %zu rows", got, x->nrow);
	memcpy(out, result, want * sizeof *out);
	return 0;
}

int xgb_save(struct xgb_model *m, char **out, size_t *len, struct error *e)
{
	bst_ulong n = 0;
	const char *data = NULL;
	if (X.XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"ubj\"}", &n, &data) != 0)
		return fail(e, "save");
	*out = xmalloc(n ? n : 1);
	memcpy(*out, data, n);
	*len = n;
	return 0;
}

struct xgb_model *xgb_load(const void *data, size_t len, struct error *e)
{
	if (xgb_ready(e) < 0)
		return NULL;
	BoosterHandle b = NULL;
	if (X.XGBoosterCreate(NULL, 0, &b) != 0) {
		fail(e, "booster");
		return NULL;
	}
	bst_ulong ncol = 0;
	char obj[64] = "";
	const char *cfg = NULL;
	bst_ulong cfg_len = 0;
	if (X.XGBoosterLoadModelFromBuffer(b, data, len) != 0 ||
	    X.XGBoosterGetNumFeature(b, &ncol) != 0 ||
	    X.XGBoosterSaveJsonConfig(b, &cfg_len, &cfg) != 0) {
		fail(e, "load");
		X.XGBoosterFree(b);
		return NULL;
	}
	/* A loaded model predicts on request threads: one OpenMP thread each.
	 * Requests are parallel already, and waking a team of threads for a
	 * handful of rows costs more than the trees (about half of a single
	 * prediction's time). */
	X.XGBoosterSetParam(b, "nthread", "1");
	struct xgb_model *m = xcalloc(1, sizeof *m);
	m->booster = b;
	m->ncol = ncol;
	/* The task and class count from the saved configuration. */
	const char *o = strstr(cfg, "\"objective\"");
	const char *n = o ? strstr(o, "\"name\":\"") : NULL;
	if (n)
		sscanf(n + 8, "%63[^\"]", obj);
	m->task = strncmp(obj, "multi:", 6) == 0 ? XGB_MULTICLASS
		  : strncmp(obj, "binary:", 7) == 0 ? XGB_BINARY : XGB_REGRESSION;
	m->nclass = 1;
	const char *k = strstr(cfg, "\"num_class\":\"");
	if (m->task == XGB_MULTICLASS && k)
		m->nclass = atoi(k + 13);
	/* One prediction now, while only this thread holds the booster: the
	 * parameter change above is applied (XGBoost configures lazily), so
	 * request threads only ever read it. */
	float *row = xmalloc((m->ncol + 1) * sizeof *row), *out = xmalloc((m->nclass + 1) * sizeof *out);
	for (size_t i = 0; i < m->ncol; i++)
		row[i] = NAN;
	struct xgb_matrix one = { row, 1, m->ncol, NULL };
	int rc = xgb_predict(m, &one, out, e);
	free(row);
	free(out);
	if (rc < 0) {
		xgb_free(m);
		return NULL;
	}
	return m;
}

int xgb_importance(struct xgb_model *m, double *gain, struct error *e)
{
	for (size_t i = 0; i < m->ncol; i++)
		gain[i] = 0;
	bst_ulong n = 0, dim = 0;
	const char **names = NULL;
	const bst_ulong *shape = NULL;
	const float *scores = NULL;
	if (X.XGBoosterFeatureScore(m->booster, "{\"importance_type\": \"total_gain\"}", &n, &names,
				  &dim, &shape, &scores) != 0)
		return fail(e, "importance");
	for (bst_ulong i = 0; i < n; i++) {
		/* Features without names are "f<index>". */
		if (names[i][0] == 'f') {
			unsigned long idx = strtoul(names[i] + 1, NULL, 10);
			if (idx < m->ncol)
				gain[idx] = scores[i];
		}
	}
	return 0;
}

size_t xgb_ncol(const struct xgb_model *m)
{
	return m->ncol;
}

void xgb_free(struct xgb_model *m)
{
	if (!m)
		return;
	X.XGBoosterFree(m->booster);
	free(m);
}

void xgb_version(char *out, size_t cap)
{
	int major, minor, patch;
	struct error e;
	if (xgb_ready(&e) < 0) {
		snprintf(out, cap, "unavailable");
		return;
	}
	X.XGBoostVersion(&major, &minor, &patch);
	snprintf(out, cap, "%d.%d.%d", major, minor, patch);
}
