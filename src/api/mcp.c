/*
 * /mcp: the Model Context Protocol over Streamable HTTP (mcp/mcp.h has the
 * protocol; this file the transport), as the 2026-07-28 and 2025-11-25
 * revisions' transport pages describe it.
 *
 * Every /mcp route is public to the router and does its own checks, in
 * this order, before a byte of the body is read:
 *   - an Origin header that is not loopback, SHEAF_PUBLIC_URL or listed in
 *     SHEAF_MCP_ORIGINS gets 403 (DNS rebinding), token or not;
 *   - the bearer token is checked like every /api route (401);
 *   - POST: an Accept without JSON or events gets 406; a body over
 *     SHEAF_MCP_MAX_MESSAGE gets 413.
 * POST carries one JSON-RPC message.  Then:
 *   - notifications and responses get 202 with no body;
 *   - a 2026-07-28 request (its _meta names the version) must carry
 *     MCP-Protocol-Version, Mcp-Method and, for tools/call,
 *     resources/read and prompts/get, Mcp-Name, equal to the body's values
 *     (Mcp-Name may be =?base64?...?=): else 400 with HeaderMismatch;
 *     an Mcp-Session-Id on it is ignored;
 *   - initialize opens a 2025-era session: the answer carries a new
 *     Mcp-Session-Id, which the client's later requests repeat (an unknown
 *     or expired one gets 404); DELETE with it ends the session;
 *   - a request refused before it runs (bad version...) gets its HTTP
 *     status with the JSON-RPC error;
 *   - the answer is application/json, or, when the client accepts
 *     text/event-stream and asked for progress (a progressToken), a live
 *     event stream (http_reply_push): each progress notification as it
 *     happens, then the answer, with a keep-alive comment in quiet spells.
 *     The call runs on a slow-work thread.  A client that closes the
 *     stream cancels a 2026-07-28 request (the spec's rule; its answer is
 *     never sent), and so does one that closes its connection while a JSON
 *     answer is being worked on; a 2025-era request goes on, as that
 *     revision asks, and its answer is dropped.
 * GET (a standalone event stream) is not offered: 405.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"
#include "mcp/mcp.h"
#include "mcp/sessions.h"

#define HEADER_SESSION "Mcp-Session-Id"

static void reply_rpc(struct request *req, int status, json_t *response)
{
	http_reply_json(req, status, response);
}

/* ---- Origin ---- */

static bool origin_in(const char *list, const char *origin)
{
	size_t olen = strlen(origin);
	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		while (n && (*p == ' ')) {
			p++;
			n--;
		}
		while (n && p[n - 1] == ' ')
			n--;
		if ((n == 1 && *p == '*') || (n == olen && strncasecmp(p, origin, n) == 0))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* http(s)://localhost, 127.x.x.x or [::1], any port. */
static bool origin_loopback(const char *origin)
{
	const char *host = NULL;
	if (strncasecmp(origin, "http://", 7) == 0)
		host = origin + 7;
	else if (strncasecmp(origin, "https://", 8) == 0)
		host = origin + 8;
	if (!host)
		return false;
	size_t n;
	if (strncasecmp(host, "localhost", 9) == 0)
		n = 9;
	else if (strncmp(host, "[::1]", 5) == 0)
		n = 5;
	else if (strncmp(host, "127.", 4) == 0)
		n = 4 + strspn(host + 4, "0123456789.");
	else
		return false;
	host += n;
	if (*host == ':')
		host += 1 + strspn(host + 1, "0123456789");
	return *host == 0;
}

static bool origin_allowed(const struct config *cfg, const char *origin)
{
	return origin_loopback(origin) || origin_in(cfg->mcp_origins, origin) ||
	       (*cfg->public_url && strcasecmp(cfg->public_url, origin) == 0);
}

/* ---- header checks (2026-07-28) ---- */

/* A header's value without the spaces and tabs around it (RFC 9110 5.5),
 * malloc'd; NULL when absent. */
static char *header_trimmed(struct request *req, const char *name)
{
	const char *v = http_header(req, name);
	if (!v)
		return NULL;
	v += strspn(v, " \t");
	size_t n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return xstrndup(v, n);
}

/* h decoded from the =?base64?...?= form when it has it (in place); -1
 * when that form is malformed. */
static int header_decode(char *h)
{
	size_t n = strlen(h);
	if (n < 11 || strncmp(h, "=?base64?", 9) != 0 || strcmp(h + n - 2, "?=") != 0)
		return 0;
	size_t in = n - 11, len;
	unsigned char *out = xmalloc(in + 1);
	int rc = sodium_base642bin(out, in, h + 9, in, NULL, &len, NULL,
				   sodium_base64_VARIANT_ORIGINAL);
	if (rc != 0)
		rc = sodium_base642bin(out, in, h + 9, in, NULL, &len, NULL,
				       sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	if (rc == 0 && memchr(out, 0, len))
		rc = -1;   /* a NUL inside: never a name */
	if (rc == 0) {
		memcpy(h, out, len);
		h[len] = 0;
	}
	free(out);
	return rc == 0 ? 0 : -1;
}

/* The standard headers of a modern request against its body: NULL when
 * they match, else the HeaderMismatch error response. */
static json_t *check_headers(struct request *req, const struct rpc_msg *m)
{
	const char *version = json_string_value(json_object_get(json_object_get(m->params, "_meta"),
						"io.modelcontextprotocol/protocolVersion"));
	const char *field = strcmp(m->method, "resources/read") == 0 ? "uri"
			    : strcmp(m->method, "tools/call") == 0 ||
			      strcmp(m->method, "prompts/get") == 0 ? "name" : NULL;
	const char *body = field ? json_string_value(json_object_get(m->params, field)) : NULL;
	char *hv = header_trimmed(req, "MCP-Protocol-Version");
	char *hm = header_trimmed(req, "Mcp-Method");
	char *hn = field ? header_trimmed(req, "Mcp-Name") : NULL;
	json_t *err = NULL;
	if (!hv)
		err = rpc_error(m->id, MCP_HEADER_MISMATCH, "Header mismatch: the "
				"MCP-Protocol-Version header is required", NULL);
	else if (version && strcmp(hv, version) != 0)
		err = rpc_errorf(m->id, MCP_HEADER_MISMATCH, "Header mismatch: "
				 "MCP-Protocol-Version header value '%.40s' does not match body "
				 "value '%.40s'", hv, version);
	else if (!hm)
		err = rpc_error(m->id, MCP_HEADER_MISMATCH, "Header mismatch: the Mcp-Method "
				"header is required", NULL);
	else if (strcmp(hm, m->method) != 0)
		err = rpc_errorf(m->id, MCP_HEADER_MISMATCH, "Header mismatch: Mcp-Method header "
				 "value '%.100s' does not match body value '%.100s'", hm,
				 m->method);
	else if (field && !hn)
		err = rpc_error(m->id, MCP_HEADER_MISMATCH, "Header mismatch: the Mcp-Name "
				"header is required for this method", NULL);
	else if (field && header_decode(hn) < 0)
		err = rpc_error(m->id, MCP_HEADER_MISMATCH, "Header mismatch: the Mcp-Name "
				"header's base64 value is malformed", NULL);
	else if (field && (!body || strcmp(hn, body) != 0))
		err = rpc_errorf(m->id, MCP_HEADER_MISMATCH, "Header mismatch: Mcp-Name header "
				 "value '%.100s' does not match body value '%.100s'", hn,
				 body ? body : "");
	free(hv);
	free(hm);
	free(hn);
	return err;
}

/* ---- running a request ---- */

struct mcp_job {
	struct app *app;
	struct rpc_msg msg;
	struct mcp_exchange x;
	char user_id[USER_ID_MAX + 1];   /* the request may be gone before the job */
	struct mcp_session session;
	bool in_session;
	char session_id[MCP_SESSION_ID_LEN + 1];
	struct http_push *push;          /* streamed: the event stream */
	bool sse;                        /* the answer is an event stream */
	struct buf events;               /* ... which waits here when not streamed */
	pthread_mutex_t lock;
};

static struct mcp_job *job_new(struct request *req)
{
	struct mcp_job *job = xcalloc(1, sizeof *job);
	job->app = req->app;
	pthread_mutex_init(&job->lock, NULL);
	buf_init(&job->events, (size_t)req->app->cfg->mcp_max_message * 2 + 65536);
	snprintf(job->user_id, sizeof job->user_id, "%s", req->user_id);
	job->x.transport = MCP_HTTP;
	job->x.user_id = job->user_id;
	job->x.session = &job->session;
	atomic_init(&job->x.cancelled, false);
	return job;
}

static void job_free(struct mcp_job *job)
{
	rpc_msg_clear(&job->msg);
	buf_free(&job->events);
	pthread_mutex_destroy(&job->lock);
	free(job);
}

static void sse_event(struct buf *b, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	buf_printf(b, "event: message\ndata: %s\n\n", text);
	free(text);
}

/* Runs the request, known to the session (if any) meanwhile so that
 * notifications/cancelled can reach it. */
static json_t *job_run(struct mcp_job *job)
{
	struct app *app = job->app;
	char *key = NULL;
	if (job->in_session) {
		key = json_dumps(job->msg.id, JSON_ENCODE_ANY | JSON_COMPACT);
		mcp_sessions_track(app->mcp_sessions, job->session_id, key, &job->x);
	}
	json_t *response = mcp_run_request(app->mcp, &job->msg, &job->x);
	if (job->in_session)
		mcp_sessions_untrack(app->mcp_sessions, &job->x);
	free(key);
	return response;
}

/* ---- the answer as one body ---- */

/* The notifications of an event stream that is sent whole wait in
 * job->events. */
static void keep_event(void *arg, json_t *msg)
{
	struct mcp_job *job = arg;
	pthread_mutex_lock(&job->lock);
	sse_event(&job->events, msg);
	pthread_mutex_unlock(&job->lock);
	json_decref(msg);
}

static void sse_headers(struct request *req)
{
	http_add_header(req, "Cache-Control", "no-cache");
	http_add_header(req, "X-Accel-Buffering", "no");
}

static void run_request(struct request *req, void *arg)
{
	struct mcp_job *job = arg;
	json_t *response = job_run(job);
	if (job->x.opened_session) {
		mcp_sessions_open(job->app->mcp_sessions, job->user_id, &job->session,
				  job->session_id);
		http_add_header(req, HEADER_SESSION, job->session_id);
	}
	if (job->sse) {
		pthread_mutex_lock(&job->lock);
		sse_event(&job->events, response);
		pthread_mutex_unlock(&job->lock);
		json_decref(response);
		sse_headers(req);
		size_t len = job->events.len;
		http_reply_owned(req, 200, "text/event-stream", buf_detach(&job->events), len);
	} else {
		reply_rpc(req, job->x.http_status, response);
	}
	job_free(job);
}

/* ---- the answer as a live event stream ---- */

static void push_event(struct http_push *push, json_t *msg)
{
	struct buf b;
	buf_init(&b, SIZE_MAX);
	sse_event(&b, msg);
	http_push_write(push, b.data, b.len);
	buf_free(&b);
}

/* A progress notification goes out as it happens. */
static void stream_notify(void *arg, json_t *msg)
{
	struct mcp_job *job = arg;
	if (!atomic_load(&job->x.cancelled))
		push_event(job->push, msg);
	json_decref(msg);
}

/* The stream cannot be delivered any more.  With protocol 2026-07-28 a
 * closed stream is the client cancelling its request; the 2025 revisions
 * say it is not (the client cancels with notifications/cancelled), so the
 * work goes on and its answer is dropped. */
static void stream_gone(void *arg)
{
	struct mcp_job *job = arg;
	if (job->x.modern)
		atomic_store(&job->x.cancelled, true);
}

static void stream_run(void *arg)
{
	struct mcp_job *job = arg;
	json_t *response = job_run(job);
	if (!atomic_load(&job->x.cancelled))   /* a cancelled request gets no answer */
		push_event(job->push, response);
	else
		log_info("mcp: request cancelled; its answer is not sent");
	json_decref(response);
	http_push_end(job->push);
	job_free(job);
}

/* Answers job's request with an event stream written as the work goes:
 * progress notifications as they happen, then the response. */
static void stream_start(struct request *req, struct mcp_job *job)
{
	sse_headers(req);
	job->push = http_reply_push(req, 200, "text/event-stream", ": keep-alive\n\n",
				    stream_gone, job);
	job->x.notify = stream_notify;
	job->x.notify_arg = job;
	if (http_run(req, stream_run, job) == 0)
		return;
	push_event(job->push, rpc_error(job->msg.id, RPC_INTERNAL_ERROR, "Internal error: the "
					"server is busy with slow work; try again in a moment",
					NULL));
	http_push_end(job->push);
	job_free(job);
}

/* ---- POST ---- */

static bool accepts(const char *accept, const char *type)
{
	return !accept || strstr(accept, type) || strstr(accept, "*/*");
}

/* What every /mcp request passes first, in this order: the Origin (a page
 * on another site must not reach a local server, token or not), then the
 * token.  0 to go on, -1 when it replied. */
static int gate(struct request *req)
{
	const char *origin = http_header(req, "Origin");
	if (origin && !origin_allowed(req->app->cfg, origin)) {
		log_warn("mcp: refused Origin %.200s (request %s)", origin, req->request_id);
		reply_rpc(req, 403, rpc_errorf(NULL, RPC_INVALID_REQUEST, "Forbidden: Origin "
					       "%.200s is not allowed (SHEAF_MCP_ORIGINS)", origin));
		return -1;
	}
	return api_authenticate(req);
}

static void too_big(struct request *req)
{
	http_add_header(req, "Connection", "close");
	reply_rpc(req, 413, rpc_errorf(NULL, RPC_INVALID_REQUEST, "Invalid Request: the message "
				       "is longer than %lld bytes (SHEAF_MCP_MAX_MESSAGE)",
				       req->app->cfg->mcp_max_message));
}

static int body_data(struct request *req, void *arg, const char *p, size_t n)
{
	(void)arg;
	if (buf_append(&req->body, p, n) == 0)
		return 0;
	too_big(req);
	return -1;
}

static void body_end(struct request *req, void *arg)
{
	(void)arg;
	struct app *app = req->app;
	struct mcp_job *job = job_new(req);
	json_t *reply;
	enum rpc_kind kind = rpc_parse(req->body.data ? req->body.data : "", req->body.len,
				       &job->msg, &reply);
	if (kind == RPC_INVALID) {
		reply_rpc(req, 400, reply ? reply : rpc_error(NULL, RPC_INVALID_REQUEST,
							      "Invalid Request", NULL));
		job_free(job);
		return;
	}
	const struct rpc_msg *m = &job->msg;
	const json_t *meta = json_object_get(m->params, "_meta");
	bool modern = json_object_get(meta, "io.modelcontextprotocol/protocolVersion") != NULL;
	bool initialize = kind == RPC_REQUEST && strcmp(m->method, "initialize") == 0;
	const char *sid = http_header(req, HEADER_SESSION);
	if (sid && !modern && !initialize) {
		if (!mcp_sessions_get(app->mcp_sessions, sid, req->user_id, &job->session)) {
			reply_rpc(req, 404, rpc_error(m->id, RPC_INVALID_REQUEST, "Session not "
						      "found: it ended or expired; send initialize "
						      "again", NULL));
			job_free(job);
			return;
		}
		job->in_session = true;
		snprintf(job->session_id, sizeof job->session_id, "%s", sid);
		const char *hv = http_header(req, "MCP-Protocol-Version");
		if (hv && !mcp_version_known(hv)) {
			reply_rpc(req, 400, rpc_errorf(m->id, RPC_INVALID_REQUEST, "Bad Request: "
						       "unsupported MCP-Protocol-Version %.40s", hv));
			job_free(job);
			return;
		}
	}
	if (kind != RPC_REQUEST) {
		if (kind == RPC_NOTIFICATION && job->in_session) {
			if (strcmp(m->method, "notifications/cancelled") == 0) {
				const json_t *id = json_object_get(m->params, "requestId");
				if (json_is_string(id) || json_is_integer(id)) {
					char *key = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
					mcp_sessions_cancel(app->mcp_sessions, sid, key);
					free(key);
				}
			} else {
				mcp_handle_notification(app->mcp, m, &job->session);
				mcp_sessions_put(app->mcp_sessions, sid, &job->session);
			}
		}
		http_reply_empty(req, 202);
		job_free(job);
		return;
	}
	json_t *refused = modern ? check_headers(req, m) : NULL;
	if (!refused) {
		refused = mcp_check_request(app->mcp, m, &job->x);
		if (refused)
			reply_rpc(req, job->x.http_status, refused);
	} else {
		reply_rpc(req, 400, refused);
	}
	if (refused) {
		job_free(job);
		return;
	}
	/* Progress asked for, and the client takes events: an event stream.
	 * initialize is answered whole, since its answer names the session in
	 * a header. */
	job->sse = json_object_get(meta, "progressToken") &&
		   accepts(http_header(req, "Accept"), "text/event-stream");
	if (job->sse && !initialize) {
		stream_start(req, job);
		return;
	}
	if (job->sse) {
		job->x.notify = keep_event;
		job->x.notify_arg = job;
	}
	/* A 2026-07-28 client that gives up closes its connection (it sends no
	 * notifications/cancelled over HTTP): the same as closing a stream. */
	if (job->x.modern)
		job->x.hung_up = http_watch_hang_up(req);
	if (http_defer(req, run_request, job) < 0)
		job_free(job);
}

/* A ROUTE_STREAM handler: it runs when the headers are in, so Origin,
 * token, Accept and a declared length over the limit are refused before a
 * byte of the body is read. */
void api_mcp_post(struct request *req)
{
	if (gate(req))
		return;
	const struct config *cfg = req->app->cfg;
	const char *accept = http_header(req, "Accept");
	if (!accepts(accept, "application/json") && !accepts(accept, "text/event-stream")) {
		reply_rpc(req, 406, rpc_error(NULL, RPC_INVALID_REQUEST, "Not Acceptable: accept "
					      "application/json and text/event-stream", NULL));
		return;
	}
	const char *length = http_header(req, "Content-Length");
	if (length && strtoll(length, NULL, 10) > cfg->mcp_max_message) {
		too_big(req);
		return;
	}
	req->body.limit = (size_t)cfg->mcp_max_message;
	http_stream(req, &(struct http_stream){ .data = body_data, .end = body_end });
}

void api_mcp_get(struct request *req)
{
	if (gate(req))
		return;
	http_add_header(req, "Allow", "POST, DELETE");
	reply_rpc(req, 405, rpc_error(NULL, RPC_INVALID_REQUEST, "Method Not Allowed: sheaf "
				      "offers no standalone event stream; POST requests to /mcp",
				      NULL));
}

void api_mcp_delete(struct request *req)
{
	if (gate(req))
		return;
	const char *sid = http_header(req, HEADER_SESSION);
	if (!sid) {
		http_add_header(req, "Allow", "POST, DELETE");
		reply_rpc(req, 405, rpc_error(NULL, RPC_INVALID_REQUEST, "Method Not Allowed: "
					      "DELETE ends a session named by Mcp-Session-Id",
					      NULL));
		return;
	}
	if (!mcp_sessions_close(req->app->mcp_sessions, sid, req->user_id)) {
		reply_rpc(req, 404, rpc_error(NULL, RPC_INVALID_REQUEST, "Session not found",
					      NULL));
		return;
	}
	http_reply_empty(req, 204);
}
