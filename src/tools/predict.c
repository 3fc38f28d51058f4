/*
 * Account tools for predictions: the ECLO preset (models/eclo.h) over a
 * list of accidents, the caller's trained models (registry/registry.h)
 * over rows, and the list of those models.  Both predict within the call,
 * as the API's synchronous predict routes do, for at most 1000 rows (the
 * input schemas say so); larger batches are the API's batch jobs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/id.h"
#include "base/log.h"
#include "models/eclo.h"
#include "registry/registry.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

/* ---- predict_eclo ---- */

static int predict_eclo(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			struct tool_error *err)
{
	const struct eclo *p = ctx->app->eclo;
	if (!p)
		return tool_fail(err, TOOL_ERR_NOT_FOUND, "the ECLO model is off "
				 "(SHEAF_ECLO_MODEL=off)");
	const json_t *accidents = json_object_get(args, "accidents");
	size_t n = json_array_size(accidents);
	json_t *items = json_array();
	struct error e;
	if (eclo_predict_items(p, accidents, 0, n, items, &e) < 0) {
		json_decref(items);
		log_error("ECLO prediction (tool): %s", e.msg);
		return tool_fail(err, TOOL_ERR_INTERNAL, "the prediction failed; see the server log");
	}
	size_t refused = 0, i;
	json_t *item;
	json_array_foreach(items, i, item)
		refused += !json_is_null(json_object_get(item, "error"));
	out->result = json_pack("{s:o, s:s}", "predictions", items, "model_version",
				eclo_version(p));
	if (n == 1 && !refused) {
		item = json_array_get(items, 0);
		out->summary = tool_printf("ECLO %.2f: %s.", json_number_value(json_object_get(item,
					   "eclo")), json_string_value(json_object_get(item,
					   "interpretation")));
	} else {
		out->summary = tool_printf("%zu of %zu accident%s predicted%s.", n - refused, n,
					   n == 1 ? "" : "s", refused ? "; see error for the rest" : "");
	}
	return 0;
}

static const struct tool predict_eclo_tool = {
	.name = "predict_eclo",
	.title = "Predict accident severity (ECLO)",
	.description = "Predicts the ECLO (Equivalent Casualty Loss Only: 10 x deaths + 5 x serious "
		       "+ 3 x light + 1 x reported injuries) of Daegu traffic accidents from eleven "
		       "fields, with its level: 경미 (below 3), 일반 (3-5), 심각 (5-10), 매우 심각 (10 "
		       "and up). The text fields take the values the model was trained on; an "
		       "accident with a missing field or an unknown value gets eclo null and error "
		       "saying why, the others are still predicted. Korean: 사고 심각도 예측, ECLO "
		       "예측, 교통사고, 대구.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["accidents"], "properties": {
		"accidents": {"type": "array", "minItems": 1, "maxItems": 1000, "items": {
			"type": "object",
			"description": "One accident; every field but time_period is required",
			"properties": {
				"weather": {"type": "string", "description": "기상상태: 맑음, 흐림, 비, 눈, 안개, 기타"},
				"road_surface": {"type": "string", "description": "노면상태: 건조, 젖음/습기, 적설, ..."},
				"road_type": {"type": "string", "description": "도로형태, as \"kind - detail\": \"교차로 - 교차로안\", \"단일로 - 기타\", ..."},
				"accident_type": {"type": "string", "description": "사고유형: 차대사람, 차대차, 차량단독"},
				"time_period": {"type": "string", "description": "시간대: 심야, 출근시간대, 퇴근시간대, 일반시간대 (default: from accident_hour)"},
				"district": {"type": "string", "description": "시군구, the full address down to the dong: \"대구광역시 수성구 상동\""},
				"day_of_week": {"type": "string", "description": "요일: 월요일 ... 일요일"},
				"accident_hour": {"type": ["integer", "string"], "description": "사고시, 0-23"},
				"accident_year": {"type": ["integer", "string"], "description": "사고연"},
				"accident_month": {"type": ["integer", "string"], "description": "사고월, 1-12"},
				"accident_day": {"type": ["integer", "string"], "description": "사고일, 1-31"}}}}}}),
	.output_schema = JSON({"type": "object", "required": ["predictions", "model_version"],
		"properties": {
			"predictions": {"type": "array", "items": {"type": "object",
				"required": ["index", "eclo", "interpretation", "detail", "error"],
				"properties": {
					"index": {"type": "integer", "description": "The accident's place, from 1"},
					"eclo": {"type": ["number", "null"]},
					"interpretation": {"type": ["string", "null"], "description": "경미, 일반, 심각 or 매우 심각"},
					"detail": {"type": ["string", "null"]},
					"error": {"type": ["string", "null"], "description": "Why this accident was not predicted"}}}},
			"model_version": {"type": "string"}}}),
	.read_only = true,
	.scope = TOOL_ON_ACCOUNT,
	.run = predict_eclo,
};

/* ---- predict_model ---- */

static int predict_model(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			 struct tool_error *err)
{
	struct app *app = ctx->app;
	const char *id = json_string_value(json_object_get(args, "model_id"));
	const json_t *rows = json_object_get(args, "rows");
	if (!id_user_valid(id))
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.model_id: \"%.80s\" is not a model id "
				 "(1-64 characters of A-Z, a-z, 0-9, _ and -)", id);
	struct model_row row = { 0 };
	struct error e;
	enum store_rc rc = store_model_get(app->store, ctx->user_id, id, &row, &e);
	if (rc != STORE_OK) {
		model_row_clear(&row);
		if (rc == STORE_NOT_FOUND)
			return tool_fail(err, TOOL_ERR_NOT_FOUND, "no model %s", id);
		log_error("read model %s (tool): %s", id, e.msg);
		return tool_fail(err, TOOL_ERR_INTERNAL, "the model could not be read; see the server "
				 "log");
	}
	struct model *m;
	int out_rc = 0;
	switch (registry_ready(app, &row, &m, &e)) {
	case REGISTRY_OK:
		break;
	case REGISTRY_NOT_READY:
		out_rc = tool_fail(err, TOOL_ERR_NOT_READY, "%s", e.msg);
		break;
	case REGISTRY_NOT_FOUND:
		out_rc = tool_fail(err, TOOL_ERR_NOT_FOUND, "%s", e.msg);
		break;
	default:
		log_error("loading model %s (tool): %s", id, e.msg);
		out_rc = tool_fail(err, TOOL_ERR_INTERNAL, "the model could not be loaded; see the "
				   "server log");
	}
	if (out_rc == 0) {
		json_t *pred = model_predict(m, rows, &e);
		registry_put(app, m);
		if (pred) {
			out->result = json_pack("{s:o, s:s, s:I}", "predictions", pred, "model_id",
						row.id, "version", (json_int_t)row.version);
			out->summary = tool_printf("%zu prediction%s of %s (%s, version %lld).",
						   json_array_size(pred),
						   json_array_size(pred) == 1 ? "" : "s", row.name,
						   row.target, (long long)row.version);
		} else {
			out_rc = tool_fail(err, TOOL_ERR_ARGUMENT, "args.%s", e.msg);
		}
	}
	model_row_clear(&row);
	return out_rc;
}

static const struct tool predict_model_tool = {
	.name = "predict_model",
	.title = "Predict with a trained model",
	.description = "Predicts with one of the caller's trained models (list_models gives them "
		       "and their features): each row is an object of feature values by name; a "
		       "regression gives a number per row, a classification {class, "
		       "probabilities}, in row order. A row with a value of the wrong type fails the "
		       "call, naming the row and the feature. Korean: 모델 예측, 머신러닝 예측, "
		       "회귀, 분류.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["model_id", "rows"], "properties": {
		"model_id": {"type": "string", "minLength": 1, "maxLength": 64},
		"rows": {"type": "array", "minItems": 1, "maxItems": 1000,
			 "items": {"type": "object"},
			 "description": "Feature values by name, one object per row"}}}),
	.output_schema = JSON({"type": "object", "required": ["predictions", "model_id", "version"],
		"properties": {
			"predictions": {"type": "array", "items": {"type": ["number", "object", "null"]},
				"description": "Per row: a number (regression) or {class, probabilities} (classification); null when the model gave no finite value"},
			"model_id": {"type": "string"},
			"version": {"type": "integer"}}}),
	.read_only = true,
	.scope = TOOL_ON_ACCOUNT,
	.run = predict_model,
};

/* ---- list_models ---- */

static int list_models(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		       struct tool_error *err)
{
	const json_t *l = json_object_get(args, "limit"), *o = json_object_get(args, "offset");
	int64_t limit = l ? (int64_t)json_number_value(l) : 50;
	int64_t offset = o ? (int64_t)json_number_value(o) : 0;
	struct model_row *rows;
	size_t n;
	int64_t total;
	struct error e;
	if (store_model_list(ctx->app->store, ctx->user_id, limit, offset, &rows, &n, &total, &e) !=
	    STORE_OK) {
		log_error("list models (tool): %s", e.msg);
		return tool_fail(err, TOOL_ERR_INTERNAL, "the models could not be listed; see the "
				 "server log");
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, registry_model_json(&rows[i]));
	model_rows_free(rows, n);
	tool_page(out, "models", "models", list, total, limit, offset);
	return 0;
}

static const struct tool list_models_tool = {
	.name = "list_models",
	.title = "List my models",
	.description = "The caller's trained models, newest first: id, name, version, the dataset "
		       "and target column, task (regression or classification), status (training, "
		       "ready, failed), and once trained the features, validation metrics and "
		       "feature importance. Korean: 모델 목록, 학습된 모델, 머신러닝 모델.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"limit": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50,
			  "description": "Models in the page"},
		"offset": {"type": "integer", "minimum": 0, "default": 0,
			   "description": "Models skipped (newest first)"}}}),
	.output_schema = JSON({"type": "object", "required": ["models", "total", "limit", "offset"],
		"properties": {
			"models": {"type": "array", "items": {"type": "object",
				"required": ["id", "model_id", "name", "version", "dataset_id", "target",
					     "task", "status", "progress", "error", "job_id",
					     "size_bytes", "created_at", "updated_at", "request"],
				"properties": {
					"id": {"type": "string"},
					"model_id": {"type": "string", "description": "The same as id"},
					"name": {"type": "string"},
					"version": {"type": "integer"},
					"dataset_id": {"type": "string", "description": "Trained on (may since be deleted)"},
					"target": {"type": "string", "description": "The column predicted"},
					"task": {"type": "string", "description": "regression or classification"},
					"status": {"type": "string", "description": "training, ready or failed"},
					"progress": {"type": "integer", "description": "Percent of the training done"},
					"error": {"type": ["string", "null"], "description": "Why training failed"},
					"job_id": {"type": "string"},
					"size_bytes": {"type": "integer"},
					"created_at": {"type": "string"},
					"updated_at": {"type": "string"},
					"request": {"type": "object", "description": "What was asked: features, params, validation"},
					"features": {"description": "What the model reads from a row"},
					"validation": {"description": "The held-out split and its metrics"},
					"importance": {"description": "[{feature, gain}], most important first"}}}},
			"total": {"type": "integer", "description": "The caller's models in all"},
			"limit": {"type": "integer"}, "offset": {"type": "integer"}}}),
	.read_only = true,
	.scope = TOOL_ON_ACCOUNT,
	.run = list_models,
};

const struct tool *const tools_predict[] = {
	&predict_eclo_tool,
	&predict_model_tool,
	&list_models_tool,
	NULL,
};
