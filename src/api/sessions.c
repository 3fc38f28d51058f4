/*
 * Sessions (seed 000): a named bucket that files are uploaded into.
 * POST /api/session, GET|DELETE /api/session/{session_id}, GET /api/sessions.
 * Every session belongs to the user who made it; ids are unique per user,
 * and another user's session is "not found", never "forbidden".
 */
#include "api/api.h"
#include "app.h"
#include "base/clock.h"

/* created/updated/file_count of a row; with_count leaves file_count out (create). */
static json_t *session_json(const struct session_row *row, bool with_count)
{
	char created[RFC3339_LEN], updated[RFC3339_LEN];
	json_t *o = json_pack("{s:s, s:s, s:s}", "session_id", row->id, "created_at",
			      clock_rfc3339(row->created_at, created), "updated_at",
			      clock_rfc3339(row->updated_at, updated));
	if (with_count)
		json_object_set_new(o, "file_count", json_integer(row->file_count));
	return o;
}

/* The {session_id} path parameter, or NULL after replying 400. */
static const char *path_session_id(struct request *req)
{
	const char *id = http_param(req, "session_id");
	if (!id_session_valid(id)) {
		http_reply_error(req, 400, "invalid_id",
				 "a session id is 1-64 characters of A-Z, a-z, 0-9, _ and -");
		return NULL;
	}
	return id;
}

void api_session_create(struct request *req)
{
	json_t *body;
	const char *wanted = NULL;
	if (http_json_body(req, true, &body))
		return;
	if (body && http_json_string(req, body, "session_id", false, &wanted)) {
		json_decref(body);
		return;
	}
	if (wanted && !id_session_valid(wanted)) {
		json_decref(body);
		http_reply_error(req, 422, "invalid_field",
				 "session_id: must be 1-64 characters of A-Z, a-z, 0-9, _ and -");
		return;
	}

	char generated[ID_CHARS(18)];
	const char *id = wanted;
	if (!id) {
		id_random(generated, 18);   /* 144 bits: unguessable */
		id = generated;
	}
	struct session_row row;
	struct error e;
	enum store_rc rc = store_session_create(req->app->store, req->user_id, id, clock_now_ms(),
						&row, &e);
	if (rc == STORE_OK)
		http_reply_json(req, 201, session_json(&row, false));
	else if (rc == STORE_CONFLICT)
		http_reply_error(req, 409, "conflict", "session %s already exists", id);
	else
		api_store_failed(req, "create session", &e);
	json_decref(body);
}

void api_session_get(struct request *req)
{
	const char *id = path_session_id(req);
	if (!id)
		return;
	struct session_row row;
	struct error e;
	enum store_rc rc = store_session_get(req->app->store, req->user_id, id, &row, &e);
	if (rc == STORE_OK)
		http_reply_json(req, 200, session_json(&row, true));
	else if (rc == STORE_NOT_FOUND)
		http_reply_error(req, 404, "not_found", "no session %s", id);
	else
		api_store_failed(req, "read session", &e);
}

void api_session_list(struct request *req)
{
	long long limit, offset;
	if (http_query_int(req, "limit", 20, 1, 100, &limit) ||
	    http_query_int(req, "offset", 0, 0, (long long)1 << 53, &offset))
		return;
	struct session_row *rows;
	size_t n;
	int64_t total;
	struct error e;
	if (store_session_list(req->app->store, req->user_id, limit, offset, &rows, &n, &total,
			       &e) != STORE_OK) {
		api_store_failed(req, "list sessions", &e);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(items, session_json(&rows[i], true));
	free(rows);
	http_reply_json(req, 200, json_pack("{s:o, s:I, s:I, s:I}", "sessions", items, "total",
					    (json_int_t)total, "limit", (json_int_t)limit, "offset",
					    (json_int_t)offset));
}

void api_session_delete(struct request *req)
{
	const char *id = path_session_id(req);
	if (!id)
		return;
	struct error e;
	struct store_keys orphans = { NULL, 0 };
	enum store_rc rc = store_session_delete(req->app->store, req->user_id, id, &orphans, &e);
	if (rc == STORE_OK) {
		/* The rows are gone, so no file is listed any more; the bytes go now,
		 * and whatever fails to go is swept later as an orphan. */
		api_remove_objects(req, &orphans);
		http_reply_empty(req, 204);
	}
	else if (rc == STORE_NOT_FOUND)
		http_reply_error(req, 404, "not_found", "no session %s", id);
	else
		api_store_failed(req, "delete session", &e);
}
