/*
 * /mcp: the Model Context Protocol over Streamable HTTP (mcp/mcp.h has the
 * protocol; this file the transport), as the 2026-07-28 and 2025-11-25
 * revisions' transport pages describe it.
 *
 * POST carries one JSON-RPC message.  Before it is read:
 *   - an Origin header that is not loopback, SHEAF_PUBLIC_URL or listed in
 *     SHEAF_MCP_ORIGINS gets 403 (DNS rebinding);
 *   - the bearer token is checked like every /api route (ROUTE_USER);
 *   - a body over SHEAF_MCP_MAX_MESSAGE gets 413.
 * Then:
 *   - notifications and responses get 202 with no body;
 *   - a 2026-07-28 request (its _meta names the version) must carry
 *     MCP-Protocol-Version, Mcp-Method and, for tools/call,
 *     resources/read and prompts/get, Mcp-Name, equal to the body's values
 *     (Mcp-Name may be =?base64?...?=): else 400 with HeaderMismatch;
 *     an Mcp-Session-Id on it is ignored;
 *   - initialize opens a 2025-era session: the answer carries a new
 *     Mcp-Session-Id, which the client's later requests repeat (an unknown
 *     or expired one gets 404); DELETE with it ends the session;
 *   - the answer is application/json, or text/event-stream when the client
 *     accepts it and asked for progress (a progressToken): the progress
 *     notifications, then the answer.  The call runs on a slow-work thread
 *     and the events are sent when it ends.
 * GET (a standalone event stream) is not offered: 405.
 */
#include <pthread.h>
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
	struct rpc_msg msg;
	struct mcp_exchange x;
	struct mcp_session session;
	bool in_session;
	char session_id[MCP_SESSION_ID_LEN + 1];
	bool sse;
	struct buf events;       /* SSE: the notifications so far */
	pthread_mutex_t lock;
};

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

/* Notifications (progress) of an SSE answer wait in job->events. */
static void keep_event(void *arg, json_t *msg)
{
	struct mcp_job *job = arg;
	pthread_mutex_lock(&job->lock);
	sse_event(&job->events, msg);
	pthread_mutex_unlock(&job->lock);
	json_decref(msg);
}

static void run_request(struct request *req, void *arg)
{
	struct mcp_job *job = arg;
	struct app *app = req->app;
	char *key = NULL;
	if (job->in_session) {
		key = json_dumps(job->msg.id, JSON_ENCODE_ANY | JSON_COMPACT);
		mcp_sessions_track(app->mcp_sessions, job->session_id, key, &job->x);
	}
	json_t *response = mcp_handle_request(app->mcp, &job->msg, &job->x);
	if (job->in_session)
		mcp_sessions_untrack(app->mcp_sessions, &job->x);
	free(key);
	if (job->x.opened_session) {
		mcp_sessions_open(app->mcp_sessions, req->user_id, &job->session, job->session_id);
		http_add_header(req, HEADER_SESSION, job->session_id);
	}
	if (job->sse && job->x.http_status == 200) {
		pthread_mutex_lock(&job->lock);
		sse_event(&job->events, response);
		pthread_mutex_unlock(&job->lock);
		json_decref(response);
		http_add_header(req, "Cache-Control", "no-cache");
		http_add_header(req, "X-Accel-Buffering", "no");
		size_t len = job->events.len;
		http_reply_owned(req, 200, "text/event-stream", buf_detach(&job->events), len);
	} else {
		reply_rpc(req, job->x.http_status, response);
	}
	job_free(job);
}

static bool accepts(const char *accept, const char *type)
{
	return !accept || strstr(accept, type) || strstr(accept, "*/*");
}

void api_mcp_post(struct request *req)
{
	struct app *app = req->app;
	const struct config *cfg = app->cfg;
	const char *origin = http_header(req, "Origin");
	if (origin && !origin_allowed(cfg, origin)) {
		log_warn("mcp: refused Origin %.200s (request %s)", origin, req->request_id);
		reply_rpc(req, 403, rpc_errorf(NULL, RPC_INVALID_REQUEST, "Forbidden: Origin "
					       "%.200s is not allowed (SHEAF_MCP_ORIGINS)", origin));
		return;
	}
	const char *accept = http_header(req, "Accept");
	if (!accepts(accept, "application/json") && !accepts(accept, "text/event-stream")) {
		reply_rpc(req, 406, rpc_error(NULL, RPC_INVALID_REQUEST, "Not Acceptable: accept "
					      "application/json and text/event-stream", NULL));
		return;
	}
	if (req->body.len > (size_t)cfg->mcp_max_message || req->body_too_big) {
		http_add_header(req, "Connection", "close");
		reply_rpc(req, 413, rpc_errorf(NULL, RPC_INVALID_REQUEST, "Invalid Request: the "
					       "message is longer than %lld bytes "
					       "(SHEAF_MCP_MAX_MESSAGE)", cfg->mcp_max_message));
		return;
	}
	struct mcp_job *job = xcalloc(1, sizeof *job);
	pthread_mutex_init(&job->lock, NULL);
	buf_init(&job->events, (size_t)cfg->mcp_max_message * 2 + 65536);
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
	const char *sid = http_header(req, HEADER_SESSION);
	if (sid && !modern && !(kind == RPC_REQUEST && strcmp(m->method, "initialize") == 0)) {
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
	if (modern) {
		json_t *mismatch = check_headers(req, m);
		if (mismatch) {
			reply_rpc(req, 400, mismatch);
			job_free(job);
			return;
		}
	}
	job->x.transport = MCP_HTTP;
	job->x.user_id = req->user_id;
	job->x.session = &job->session;
	atomic_init(&job->x.cancelled, false);
	const json_t *token = json_object_get(meta, "progressToken");
	job->sse = token && accepts(accept, "text/event-stream");
	if (job->sse) {
		job->x.notify = keep_event;
		job->x.notify_arg = job;
	}
	if (http_defer(req, run_request, job) < 0)
		job_free(job);
}

void api_mcp_get(struct request *req)
{
	http_add_header(req, "Allow", "POST, DELETE");
	reply_rpc(req, 405, rpc_error(NULL, RPC_INVALID_REQUEST, "Method Not Allowed: sheaf "
				      "offers no standalone event stream; POST requests to /mcp",
				      NULL));
}

void api_mcp_delete(struct request *req)
{
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
