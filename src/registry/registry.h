/*
 * The model registry: what the API, the CLI and the job queue share about
 * trained models -- where their bytes live, loading them warm, and the two
 * job kinds of prediction work.
 *
 *   models/<owner>/<id>.model   a trained model (model_save's bytes)
 *
 * A model's life: POST /api/models checks the request (train.h), creates
 * the model row ("training") and its "train" job in one transaction; the
 * job trains on the dataset, writes the object, and marks the row "ready"
 * with the model's info (or "failed" with the reason).  Predictions load
 * the model once into the warm cache (cache.h) and share it.
 *
 * Batch predictions are "predict_batch" jobs: the rows travel in the job's
 * payload and the results come back in its result, so a batch survives a
 * restart like any job (a re-run computes the same answers).
 */
#ifndef SHEAF_REGISTRY_REGISTRY_H
#define SHEAF_REGISTRY_REGISTRY_H

#include <stddef.h>

#include "base/error.h"
#include "jobs/jobs.h"
#include "models/model.h"
#include "store/store.h"

struct app;

#define MODEL_TRAIN_KIND "train"
#define PREDICT_BATCH_KIND "predict_batch"
#define BATCH_CHUNK 500              /* rows predicted between progress reports */

/* The job kinds; their arg is the struct app. */
extern const struct job_kind model_train_kind;
extern const struct job_kind predict_batch_kind;

/* models/<owner>/<id>.model (cap >= STORAGE_KEY_MAX + 1). */
void model_object_key(const char *owner, const char *id, char *out, size_t cap);

/* The ready model of row, warm (held: registry_put).  NULL with e set. */
struct model *registry_get(struct app *app, const struct model_row *row, struct error *e);
void registry_put(struct app *app, struct model *m);

/* What registry_ready found. */
enum registry_status {
	REGISTRY_OK,
	REGISTRY_NOT_READY,    /* training or failed: "model X is training" */
	REGISTRY_NOT_FOUND,    /* deleted since its row was read: "no model X" */
	REGISTRY_FAILED,       /* its object could not be loaded: the server's fault */
};

/* The model of row (its owner's, as read from the store), ready and warm:
 * REGISTRY_OK with *m held (registry_put), or another status with e set
 * (for REGISTRY_FAILED a message for the log, not for the client). */
enum registry_status registry_ready(struct app *app, const struct model_row *row,
				    struct model **m, struct error *e);

/* A model as the API and the tools show it, a new reference: id, model_id,
 * name, version, dataset_id, target, task, status, progress (percent),
 * error (null when none), job_id, size_bytes, created_at, updated_at,
 * request (what was asked), and once trained features, classes,
 * log_target, params, validation, training_rows, importance, training_ms,
 * xgboost, dataset_version from its info. */
json_t *registry_model_json(const struct model_row *r);

/* The payload of a batch job: {"total", "rows" (taken by reference), and
 * "model_id" or "preset":"eclo"}, as compact JSON with "total" first.
 * malloc'd text. */
char *registry_batch_payload(const char *model_id, const char *preset, json_t *rows);

/* The "total" of such a payload, read from its first bytes (a batch's rows
 * can be megabytes, and its state is polled). */
long long registry_batch_total(const char *payload);

#endif
