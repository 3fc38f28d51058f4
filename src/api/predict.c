/*
 * The ECLO preset (seed 003's contract): POST /api/predict/eclo,
 * GET /api/predict/eclo/schema, POST /api/predict/eclo/batch.  See
 * models/eclo.h for the fields, the checks and the interpretation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/log.h"
#include "models/eclo.h"

/* 503 when this server has no ECLO model; else the preset. */
static const struct eclo *preset(struct request *req)
{
	if (!req->app->eclo)
		http_reply_error(req, 503, "no_model", "this server has no ECLO model "
				 "(SHEAF_ECLO_MODEL is off or its file could not be read)");
	return req->app->eclo;
}

void api_eclo_schema(struct request *req)
{
	const struct eclo *p = preset(req);
	if (p)
		http_reply_json(req, 200, eclo_schema(p));
}

void api_eclo_predict(struct request *req)
{
	const struct eclo *p = preset(req);
	json_t *body;
	if (!p || http_json_body(req, false, &body))
		return;
	json_t *row, *problems;
	if (eclo_check(p, body, &row, &problems) < 0) {
		size_t n = json_array_size(problems);
		const char *first = json_string_value(json_object_get(json_array_get(problems, 0),
								      "message"));
		json_t *err = http_error_body("invalid_accident", "", req->request_id,
					      clock_now_ms());
		char detail[700];
		snprintf(detail, sizeof detail, "%s%s", first ? first : "invalid accident",
			 n > 1 ? " (and more: see fields)" : "");
		json_object_set_new(err, "detail", json_string(detail));
		json_object_set_new(err, "fields", problems);
		http_reply_json(req, 422, err);
		json_decref(body);
		return;
	}
	json_decref(row);
	json_t *one = json_array(), *items = json_array();
	json_array_append(one, body);
	struct error e;
	int64_t t0 = clock_mono_ns();
	int rc = eclo_predict_items(p, one, 0, 1, items, &e);
	json_decref(one);
	json_decref(body);
	if (rc < 0) {
		log_error("ECLO prediction (request %s): %s", req->request_id, e.msg);
		http_reply_error(req, 500, "internal", "the prediction failed; see the server log");
		json_decref(items);
		return;
	}
	json_t *item = json_array_get(items, 0);
	char id[ID_CHARS(16) + 6], ts[RFC3339_LEN];
	memcpy(id, "pred_", 5);
	id_random(id + 5, 16);
	json_t *out = json_pack("{s:O, s:O, s:O, s:s, s:s, s:s, s:I}",
				"eclo", json_object_get(item, "eclo"),
				"interpretation", json_object_get(item, "interpretation"),
				"detail", json_object_get(item, "detail"),
				"prediction_id", id, "model_version", eclo_version(p),
				"timestamp", clock_rfc3339(clock_now_ms(), ts),
				"elapsed_us", (json_int_t)((clock_mono_ns() - t0) / 1000));
	json_decref(items);
	http_reply_json(req, 200, out);
}

void api_eclo_batch(struct request *req)
{
	const struct eclo *p = preset(req);
	json_t *body;
	if (!p || http_json_body(req, false, &body))
		return;
	json_t *rows = json_object_get(body, "accidents");
	size_t max = (size_t)req->app->cfg->batch_max_rows;
	if (!json_is_array(rows))
		http_reply_error(req, 422, "invalid_argument", "body.accidents: an array of "
				 "accidents is required");
	else if (json_array_size(rows) > max)
		http_reply_error(req, 413, "too_many_rows", "body.accidents: %zu accidents; at "
				 "most %zu in one batch (SHEAF_BATCH_MAX_ROWS)",
				 json_array_size(rows), max);
	else   /* each accident is checked when the batch runs, and answered per item */
		api_batch_enqueue(req, NULL, "eclo", rows);
	json_decref(body);
}
