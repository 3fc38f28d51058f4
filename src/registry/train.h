/*
 * Training requests: what `POST /api/models` and `sheaf train` ask for,
 * checked, normalised (defaults filled in, kept with the model as its
 * spec), and carried out on a dataset's file.
 *
 * A request trains on the dataset's own columns, or on the result of a
 * read-only SQL query over its data table ("sql"), so derived features
 * need no new dataset.  The job that trains for the API is in job.c.
 */
#ifndef SHEAF_REGISTRY_TRAIN_H
#define SHEAF_REGISTRY_TRAIN_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "base/error.h"
#include "datasets/table.h"
#include "frame/frame.h"
#include "models/model.h"
#include "query/sql.h"

#define TRAIN_MAX_FEATURES 1000

struct train_request {
	json_t *json;              /* the normalised request, every field present */
	const char *dataset_id;    /* "" when none was given (the CLI) */
	const char *name;
	const char *target;
	const char *sql;           /* NULL: the dataset's own columns */
	const json_t *features;    /* array of names, or NULL: every usable column */
	const char *time_column;   /* split "time" */
	struct model_spec spec;    /* task, log_target, params, split, fraction, valid_from,
				    * seed (time_column set when training) */
};

/* The JSON Schema of a request body (a new reference), for checks and the
 * OpenAPI document. */
json_t *train_request_schema(void);

/*
 * Reads body (a request; strings are copied into r->json) into r.  -1 with
 * e naming the field and the rule ("params.eta: must be at most 1").
 * train_request_free in both cases.
 */
int train_request_parse(const json_t *body, struct train_request *r, struct error *e);
void train_request_free(struct train_request *r);

/* Checks the names in r against t's columns, or the query's result columns
 * (the query is prepared, not run).  -1 with e set and *why the reason. */
int train_request_check(const struct train_request *r, struct table *t,
			const struct sql_limits *lim, enum sql_status *why, struct error *e);

/*
 * Trains per r on t, whose file is named key (the frame cache's key;
 * frames may be NULL: no caching).  progress as in model_train.  NULL with
 * e set (and *why SQL_OK unless reading the data failed).
 */
struct model *train_on_table(const struct train_request *r, struct table *t, const char *key,
			     struct frame_cache *frames, const struct sql_limits *lim,
			     model_progress_fn progress, void *arg, enum sql_status *why,
			     struct error *e);

#endif
