/*
 * The HTTP API: the route table (api/routes.c, the one source of routes and
 * of the OpenAPI document) and the handlers, one file per resource.
 */
#ifndef SHEAF_API_API_H
#define SHEAF_API_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "auth/password.h"
#include "base/error.h"
#include "http/multipart.h"
#include "http/request.h"
#include "query/sql.h"
#include "store/store.h"

extern const struct route api_routes[];
extern const size_t api_routes_count;

/* The OpenAPI 3.1 document for routes (a new reference; NULL with e set if an
 * operation's JSON in the table does not parse). */
json_t *openapi_build(const struct route *routes, size_t n, const char *version,
		      struct error *e);

/* The server's authenticate hook (http_server_config.authenticate). */
int api_authenticate(struct request *req);

/* Helpers shared by handlers. */
json_t *api_user_json(const struct user_row *u);   /* never the hash */
void api_store_failed(struct request *req, const char *what, const struct error *e);
void api_hasher_failed(struct request *req, enum password_rc rc, const struct error *e);
/* Issues a new token pair (a new refresh family) for u and replies with it. */
void api_start_login(struct request *req, int status, const struct user_row *u);
/*
 * What a password handler hands to its second half, which runs on the
 * slow-work threads (http_defer) because it hashes.  The strings point into
 * body, which the second half releases.
 */
struct password_job {
	json_t *body;
	const char *password;      /* the one to hash or check */
	const char *new_password;  /* password change: the one to hash */
	char email[EMAIL_MAX + 1];
	bool email_ok;             /* login: email is a well-formed address */
	bool known;                /* login: u holds the account */
	struct user_row u;
};

/* A job for body's handler, in the request's pool. */
struct password_job *api_password_job(struct request *req, json_t *body);
/* Sends job to the slow-work threads; on a full queue (already answered 503)
 * releases it and returns -1. */
int api_defer_password_job(struct request *req, http_deferred_fn fn, struct password_job *job);
/* Releases the body and wipes the hash: the last thing a second half does. */
void api_password_job_done(struct password_job *job);

/* The {name} path parameter when it is a well-formed id, or NULL after
 * replying 400 invalid_id naming what it is ("a file id"). */
const char *api_path_id(struct request *req, const char *name, const char *what);

/* The checks an upload passes before its body is read: a multipart/form-data
 * Content-Type with a boundary (415 or 400, the detail starting with what,
 * which describes the expected body) and a Content-Length within limit (413
 * naming limit_name, e.g. "per request (SHEAF_UPLOAD_MAX_REQUEST)").
 * 0 with boundary filled, or -1 after replying. */
int api_upload_begin(struct request *req, const char *what, long long limit, const char *limit_name,
		     char boundary[MULTIPART_BOUNDARY_MAX + 1]);

/* Removes the objects behind keys (logging failures: the sweep retries
 * them) and frees keys. */
void api_remove_objects(struct request *req, struct store_keys *keys);

/* Per-account failed-attempt limit: count an attempt before checking a
 * password (replies 429 and returns -1 when over), give it back after a
 * check that did not fail. */
int api_account_attempt(struct request *req, const char *email);
void api_account_refund(struct request *req, const char *email);

void api_health(struct request *req);
void api_openapi(struct request *req);
void api_docs(struct request *req);
void api_session_create(struct request *req);
void api_session_get(struct request *req);
void api_session_list(struct request *req);
void api_session_delete(struct request *req);
void api_auth_register(struct request *req);
void api_auth_login(struct request *req);
void api_auth_refresh(struct request *req);
void api_auth_logout(struct request *req);
void api_me_get(struct request *req);
void api_me_update(struct request *req);
void api_me_password(struct request *req);
void api_file_upload(struct request *req);
void api_dataset_upload(struct request *req);
void api_dataset_list(struct request *req);
void api_dataset_get(struct request *req);
void api_dataset_update(struct request *req);
void api_dataset_delete(struct request *req);
void api_dataset_preview(struct request *req);
void api_dataset_rows(struct request *req);
void api_dataset_export(struct request *req);
void api_dataset_share(struct request *req);
void api_dataset_shares(struct request *req);
void api_dataset_unshare(struct request *req);
void api_shared_get(struct request *req);
void api_shared_preview(struct request *req);
void api_shared_rows(struct request *req);
void api_shared_export(struct request *req);
/* The dataset a request names: the caller's own by {dataset_id}, or the one
 * a live share link's {token} opens.  0, or -1 after replying (404). */
struct dataset_row;
int api_find_dataset(struct request *req, bool shared, struct dataset_row *row);
/* api_find_dataset for the caller's own dataset that must also be ready:
 * 0, or -1 after replying (404, 409 not_ready); row may hold data to
 * clear either way. */
int api_find_ready(struct request *req, struct dataset_row *row);
/* Opens a dataset's table, or logs why and replies 500 (NULL). */
struct table *api_open_dataset(struct request *req, const struct dataset_row *row);
/* Opens a ready dataset's table with the page time limit, or replies 409
 * (not ready) / 500 and returns NULL. */
struct table *api_open_ready(struct request *req, const struct dataset_row *row);
/* dataset_enqueue (datasets/datasets.h), or -1 after replying 500. */
int api_dataset_enqueue(struct request *req, struct dataset_row *row, const char *spool,
			char job_id[USER_ID_MAX + 1]);
/* Runs the dataset's ingest job on this (slow-work) thread and replies 201
 * with the dataset, or 422 with why it failed (the dataset is dropped). */
void api_dataset_ingest_now(struct request *req, const struct dataset_row *row,
			    const char *job_id);
/* Leaves the ingest to the job queue and replies 202 with the dataset. */
void api_dataset_ingest_later(struct request *req, const struct dataset_row *row);
void api_dataset_query(struct request *req);
void api_dataset_transform(struct request *req);
void api_tools_list(struct request *req);
void api_dataset_tool(struct request *req);
struct job_row;
/* A job as the API shows it. */
json_t *api_job_json(const struct job_row *j);
void api_model_create(struct request *req);
void api_model_list(struct request *req);
void api_model_get(struct request *req);
void api_model_delete(struct request *req);
void api_model_predict(struct request *req);
void api_model_predict_batch(struct request *req);
/* Queues a batch prediction of rows (with the model model_id, or the
 * preset) and replies 202, or 429 when the queue is full. */
void api_batch_enqueue(struct request *req, const char *model_id, const char *preset,
		       json_t *rows);
void api_batch_results(struct request *req);
void api_job_get(struct request *req);
void api_job_cancel(struct request *req);
void api_eclo_predict(struct request *req);
void api_eclo_schema(struct request *req);
void api_eclo_batch(struct request *req);
void api_mcp_post(struct request *req);
void api_mcp_get(struct request *req);
void api_mcp_delete(struct request *req);
void api_file_list(struct request *req);
void api_file_get(struct request *req);
void api_file_download(struct request *req);
void api_file_delete(struct request *req);

#endif
