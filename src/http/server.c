/*
 * libmicrohttpd glue; see server.h.
 *
 * The access handler is called several times per request: once when the
 * headers are in (we create the request and decide on the body ceiling),
 * once per chunk of body (kept up to the ceiling, counted beyond it), and
 * once at the end (dispatch, then queue the response).  The completion
 * callback writes the access log line and frees the request.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/utf8.h"
#include "http/mhd.h"
#include "http/push.h"
#include "http/request.h"

/* Past this many bytes of an over-limit body we stop draining and close. */
#define DRAIN_MIN (64LL << 20)
/* libmicrohttpd's per-connection buffer, which also bounds how much of a body
 * one read takes: 256 KiB reads keep large uploads off the syscall treadmill
 * (64 KiB took four times the recv calls).  Untouched pages cost nothing. */
#define CONNECTION_MEMORY (256 * 1024)
/* ... so request headers get a ceiling of their own (431 past it). */
#define HEADERS_MAX (32 * 1024)
/* Deferred requests waiting for a slow-work thread; more get 503 at once. */
#define SLOW_QUEUE_MAX 256

struct slow_job {
	struct request *req;      /* NULL for http_run's work */
	http_deferred_fn fn;
	void (*run)(void *arg);   /* http_run's */
	void *arg;
	struct slow_job *next;
};

/* The slow-work threads and their queue (see http_defer). */
struct slow_pool {
	pthread_mutex_t lock;
	pthread_cond_t ready;
	struct slow_job *head, *tail;
	int queued;
	bool stopping;
	int n;
	pthread_t *threads;
};

struct http_server {
	struct MHD_Daemon *daemon;
	struct http_server_config cfg;
	char *host;
	char *cors;
	char url[300];
	atomic_int inflight;
	atomic_int connections;
	_Atomic int64_t refusal_logged;   /* monotonic second of the last refusal line */
	_Atomic int64_t library_logged;   /* ... and of the last libmicrohttpd message */
	atomic_bool draining;
	struct slow_pool slow;
	struct push_watch *pushes;
};

static bool cors_allowed(const struct http_server *s, const char *origin)
{
	if (!origin || !*s->cors)
		return false;
	if (strcmp(s->cors, "*") == 0)
		return true;
	size_t n = strlen(origin);
	for (const char *p = s->cors; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == n && len && strncmp(p, origin, n) == 0)
			return true;
		p += len;
	}
	return false;
}

static struct request *request_new(struct http_server *s, struct MHD_Connection *conn,
				   const char *url, const char *method)
{
	struct request *req = xcalloc(1, sizeof *req);
	req->server = s;
	req->pool = pool_new();
	req->app = s->cfg.app;
	req->conn = conn;
	req->start_ns = clock_mono_ns();
	req->method = http_method_parse(method);
	req->method_name = pool_strndup(req->pool, method, 16);
	req->path = pool_strdup(req->pool, url);
	atomic_init(&req->hung_up, false);
	buf_init(&req->body, (size_t)s->cfg.max_body);

	const char *given = mhd.lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
	if (given && id_request_valid(given))
		snprintf(req->request_id, sizeof req->request_id, "%s", given);
	else
		id_random(req->request_id, 16);
	return req;
}

static void request_free(struct request *req)
{
	if (req->stream.release)
		req->stream.release(req->stream.arg);
	if (req->response)
		mhd.destroy_response(req->response);
	buf_free(&req->body);
	pool_free(req->pool);
	free(req);
}

static void preflight(struct http_server *s, struct request *req, unsigned allowed)
{
	char allow[128];
	http_allow_list(allowed, allow, sizeof allow);
	http_reply_empty(req, 204);
	http_add_header(req, "Allow", allow);
	const char *origin = http_header(req, "Origin");
	if (cors_allowed(s, origin) && http_header(req, "Access-Control-Request-Method")) {
		const char *want = http_header(req, "Access-Control-Request-Headers");
		http_add_header(req, "Access-Control-Allow-Methods", allow);
		http_add_header(req, "Access-Control-Allow-Headers",
				want ? want : "Content-Type, Authorization, X-Request-Id");
		http_add_header(req, "Access-Control-Max-Age", "600");
	}
}

/* Runs the authenticate hook for a ROUTE_USER route (req->route set).
 * Returns 0 to go on, -1 when it replied. */
static int authenticate(struct http_server *s, struct request *req)
{
	if ((req->route->flags & ROUTE_PUBLIC) || !s->cfg.authenticate)
		return 0;
	if (s->cfg.authenticate(req))
		return -1;
	req->authenticated = true;
	return 0;
}

/* The route, as soon as the headers are in; NULL when dispatch will answer
 * 404, 405 or OPTIONS. */
static const struct route *route_early(struct http_server *s, struct request *req)
{
	unsigned allowed;
	if (router_match(s->cfg.routes, s->cfg.n_routes, req->method, req->path, &req->route,
			 &req->params, &allowed) != ROUTE_FOUND)
		req->route = NULL;
	return req->route;
}

void http_stream(struct request *req, const struct http_stream *stream)
{
	req->stream = *stream;
}

/* A ROUTE_STREAM request at its headers: authenticate, then let the handler
 * set up its stream (or reply).  Returns -1 when there is a reply to send. */
static int stream_begin(struct http_server *s, struct request *req)
{
	if (!req->authenticated && authenticate(s, req))
		return -1;
	req->route->handler(req);
	if (req->response)
		return -1;
	if (!req->stream.data) {
		log_error("stream handler for %s gave no stream", req->route->pattern);
		http_reply_error(req, 500, "internal", "the server did not produce a response");
		return -1;
	}
	return 0;
}

static void dispatch(struct http_server *s, struct request *req)
{
	if (req->body_too_big) {
		http_reply_error(req, 413, "payload_too_large",
				 "the request body is larger than the limit of %lld bytes (%s)",
				 req->large_body ? s->cfg.large_body : s->cfg.max_body,
				 req->large_body ? "SHEAF_BATCH_MAX_BODY" : "SHEAF_MAX_BODY");
		return;
	}
	unsigned allowed;
	enum router_result r = router_match(s->cfg.routes, s->cfg.n_routes, req->method,
					    req->path, &req->route, &req->params, &allowed);
	if (r == ROUTE_FOUND) {
		if (!req->authenticated && authenticate(s, req))
			return;
		req->route->handler(req);
		if (!req->response && !req->deferred) {
			log_error("handler for %s %s gave no response", req->method_name,
				  req->route->pattern);
			http_reply_error(req, 500, "internal", "the server did not produce a response");
		}
		return;
	}
	if (r == ROUTE_NOT_FOUND) {
		http_reply_error(req, 404, "not_found", "there is nothing at %.*s",
				 (int)utf8_prefix(req->path, 200), req->path);
		return;
	}
	if (req->method == HTTP_OPTIONS) {
		preflight(s, req, allowed);
		return;
	}
	char allow[128];
	http_allow_list(allowed, allow, sizeof allow);
	http_reply_error(req, 405, "method_not_allowed", "%.16s is not allowed here; allowed: %s",
			 req->method_name, allow);
	http_add_header(req, "Allow", allow);
}

static enum MHD_Result queue(struct http_server *s, struct request *req)
{
	struct MHD_Response *r = req->response;
	req->queued = true;
	mhd.add_response_header(r, "X-Request-Id", req->request_id);
	for (size_t i = 0; i < req->n_headers; i++)
		mhd.add_response_header(r, req->headers[i].name, req->headers[i].value);
	const char *origin = http_header(req, "Origin");
	bool any = strcmp(s->cors, "*") == 0;
	if (cors_allowed(s, origin)) {
		mhd.add_response_header(r, "Access-Control-Allow-Origin", any ? "*" : origin);
		mhd.add_response_header(r, "Access-Control-Expose-Headers", "X-Request-Id");
	}
	/* With a list of origins the answer depends on Origin, matched or not:
	 * tell caches, or one could serve a blocked origin's answer to another. */
	if (*s->cors && !any)
		mhd.add_response_header(r, "Vary", "Origin");
	if (atomic_load(&s->draining))
		mhd.add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	return mhd.queue_response(req->conn, (unsigned)req->status, r);
}

struct framing {
	int content_lengths;
	int transfer_encodings;
	const char *first_length;
	bool lengths_differ;
	bool other_coding;      /* a Transfer-Encoding that is not exactly "chunked" */
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;
	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		const char *v = value ? value : "";
		if (!f->first_length)
			f->first_length = v;
		else if (strcmp(f->first_length, v) != 0)
			f->lengths_differ = true;
		f->content_lengths++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->transfer_encodings++;
		const char *v = value ? value : "";
		while (*v == ' ' || *v == '\t')
			v++;
		size_t len = strlen(v);
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
			len--;
		if (len != 7 || strncasecmp(v, "chunked", 7) != 0)
			f->other_coding = true;
	}
	return MHD_YES;
}

/*
 * Rejects requests whose body length is ambiguous or unknowable (RFC 9112
 * section 6.3): two different Content-Length values, Content-Length with
 * Transfer-Encoding, or a transfer coding other than plain chunked.  A front proxy and sheaf could otherwise disagree
 * about where the body ends, which is how requests get smuggled.
 */
static const char *ambiguous_framing(struct MHD_Connection *conn)
{
	struct framing f = { 0 };
	mhd.get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.lengths_differ)
		return "conflicting Content-Length headers";
	if (f.content_lengths && f.transfer_encodings)
		return "both Content-Length and Transfer-Encoding";
	if (f.transfer_encodings > 1 || f.other_coding)
		return "a Transfer-Encoding other than a single \"chunked\"";
	return NULL;
}

/* True when the method name is an HTTP token (RFC 9110 section 5.6.2). */
static enum MHD_Result add_header_bytes(void *cls, enum MHD_ValueKind kind, const char *key,
					size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	(void)key;
	(void)value;
	*(size_t *)cls += key_size + value_size + 4;   /* ": " and CRLF */
	return MHD_YES;
}

static size_t header_bytes(struct MHD_Connection *conn)
{
	size_t total = 0;
	mhd.get_connection_values_n(conn, MHD_HEADER_KIND, add_header_bytes, &total);
	return total;
}

static bool method_is_token(const char *m)
{
	if (!*m)
		return false;
	for (; *m; m++) {
		unsigned char c = (unsigned char)*m;
		if (c <= ' ' || c >= 127 || strchr("\"(),/:;<=>?@[\\]{}", c))
			return false;
	}
	return true;
}

static long long content_length(struct MHD_Connection *conn)
{
	const char *cl = mhd.lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return -1;
	char *end;
	errno = 0;
	long long n = strtoll(cl, &end, 10);
	return (errno || *end || n < 0) ? -1 : n;
}

/* Whether the request announces a body.  Answering before the headers
 * are even done being processed makes libmicrohttpd close the connection,
 * so early answers are kept for requests whose body we would rather not
 * read; a bodiless request is answered the normal way and keeps its
 * connection (and any pipelined requests behind it). */
static bool announces_body(struct MHD_Connection *conn)
{
	return content_length(conn) > 0 ||
	       mhd.lookup_connection_value(conn, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http_server *s = cls;
	struct request *req = *con_cls;
	(void)version;

	if (!req) {
		req = request_new(s, conn, url, method);
		*con_cls = req;
		atomic_fetch_add(&s->inflight, 1);
		log_debug("request started method=%s path=%s request_id=%s", req->method_name,
			  req->path, req->request_id);
		const char *ambiguous = ambiguous_framing(conn);
		if (ambiguous || !method_is_token(method)) {
			/* Answered before the body is read, so the connection closes after. */
			if (ambiguous)
				http_reply_error(req, 400, "bad_request",
						 "the request has %s; its body length is ambiguous",
						 ambiguous);
			else
				http_reply_error(req, 400, "bad_request",
						 "the request method is not a valid HTTP token");
			return queue(s, req);
		}
		if (header_bytes(conn) > HEADERS_MAX) {
			http_reply_error(req, 431, "headers_too_large",
					 "the request headers are larger than %d bytes", HEADERS_MAX);
			return queue(s, req);
		}
		const struct route *route = route_early(s, req);
		bool body = announces_body(conn);
		if (!route && body) {   /* 404, 405 or OPTIONS: no reason to read a body */
			dispatch(s, req);
			return queue(s, req);
		}
		if (route && (route->flags & ROUTE_STREAM))
			return stream_begin(s, req) ? queue(s, req) : MHD_YES;
		if (route && (route->flags & ROUTE_LARGE) && s->cfg.large_body > s->cfg.max_body) {
			req->body.limit = (size_t)s->cfg.large_body;   /* nothing read yet */
			req->large_body = true;
		}
		if (content_length(conn) > (long long)req->body.limit) {
			req->body_too_big = true;
			/* A client that waits for 100 Continue never has to send the body. */
			const char *expect = mhd.lookup_connection_value(conn, MHD_HEADER_KIND,
									 MHD_HTTP_HEADER_EXPECT);
			if (expect && strcasecmp(expect, "100-continue") == 0) {
				dispatch(s, req);
				return queue(s, req);
			}
		}
		/* A client without a valid token is turned away before it can make us
		 * read and hold its body. */
		if (!req->body_too_big && route && body && authenticate(s, req))
			return queue(s, req);
		return MHD_YES;
	}

	if (req->stream.data && *upload_data_size) {
		/* libmicrohttpd can only send a response once the whole body is in, so
		 * after a failure the rest is read and dropped (up to a point: past it
		 * the connection is closed without an answer). */
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (!req->response) {
			if (req->stream.data(req, req->stream.arg, upload_data, n) && !req->response)
				return MHD_NO;
			req->body_seen = 0;   /* from here on it counts what is dropped */
			return MHD_YES;
		}
		req->body_seen += n;
		return req->body_seen > DRAIN_MIN ? MHD_NO : MHD_YES;
	}
	if (req->stream.data && !req->response && !req->deferred) {
		req->stream.end(req, req->stream.arg);
		if (req->deferred)
			return MHD_YES;
		if (!req->response)
			http_reply_error(req, 500, "internal", "the server did not produce a response");
		return queue(s, req);
	}

	if (*upload_data_size) {
		req->body_seen += *upload_data_size;
		if (!req->body_too_big && buf_append(&req->body, upload_data, *upload_data_size)) {
			req->body_too_big = true;
			buf_free(&req->body);
		}
		*upload_data_size = 0;
		long long limit = (long long)req->body.limit;
		long long cap = limit * 2 > DRAIN_MIN ? limit * 2 : DRAIN_MIN;
		if (req->body_too_big && !req->response && req->body_seen > (uint64_t)cap) {
			/* Draining a huge body wastes the link: answer now, MHD closes after. */
			dispatch(s, req);
			return queue(s, req);
		}
		return MHD_YES;
	}

	if (req->deferred) {   /* back from the slow-work threads with an answer */
		req->deferred = false;
		return queue(s, req);
	}
	if (req->response && !req->queued)   /* answered while the body was dropped */
		return queue(s, req);
	if (req->response)   /* answered early (oversized body); nothing more to do */
		return MHD_YES;
	dispatch(s, req);
	if (req->deferred)   /* parked; MHD calls again once the work is done */
		return MHD_YES;
	return queue(s, req);
}

static void *slow_worker(void *arg)
{
	struct slow_pool *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->ready, &p->lock);
		struct slow_job *job = p->head;
		if (!job)
			break;   /* stopping, and nothing left to run */
		p->head = job->next;
		if (!p->head)
			p->tail = NULL;
		p->queued--;
		pthread_mutex_unlock(&p->lock);

		struct request *req = job->req;
		if (!req) {
			job->run(job->arg);
			free(job);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		job->fn(req, job->arg);
		if (!req->response) {
			log_error("deferred work for %s %s gave no response", req->method_name,
				  req->path);
			http_reply_error(req, 500, "internal", "the server did not produce a response");
		}
		free(job);
		if (req->parked) {
			push_watch_unpark(req->server->pushes, req->parked);
			req->parked = NULL;
		}
		/* The last touch of req here: once resumed, MHD may finish and free it. */
		mhd.resume_connection(req->conn);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int http_defer(struct request *req, http_deferred_fn fn, void *arg)
{
	if (http_defer_quiet(req, fn, arg) == 0)
		return 0;
	http_add_header(req, "Retry-After", "1");
	http_reply_error(req, 503, "busy", "the server is busy with slow work; try again in "
			 "a moment");
	return -1;
}

/* Queues job on the slow-work threads; -1 when full or stopping.  With a
 * request, the request is parked before the job is visible, so a fast job
 * cannot resume it first. */
static int slow_enqueue(struct slow_pool *p, struct slow_job *job)
{
	pthread_mutex_lock(&p->lock);
	if (p->queued >= SLOW_QUEUE_MAX || p->stopping) {
		pthread_mutex_unlock(&p->lock);
		free(job);
		return -1;
	}
	if (job->req) {
		job->req->deferred = true;
		mhd.suspend_connection(job->req->conn);
		if (job->req->watch_hang_up)
			job->req->parked = push_watch_park(job->req->server->pushes,
							   job->req->conn, &job->req->hung_up);
	}
	if (p->tail)
		p->tail->next = job;
	else
		p->head = job;
	p->tail = job;
	p->queued++;
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int http_defer_quiet(struct request *req, http_deferred_fn fn, void *arg)
{
	struct slow_job *job = xcalloc(1, sizeof *job);
	job->req = req;
	job->fn = fn;
	job->arg = arg;
	return slow_enqueue(&req->server->slow, job);
}

int http_run(struct request *req, void (*fn)(void *arg), void *arg)
{
	struct slow_job *job = xcalloc(1, sizeof *job);
	job->run = fn;
	job->arg = arg;
	return slow_enqueue(&req->server->slow, job);
}

const atomic_bool *http_watch_hang_up(struct request *req)
{
	req->watch_hang_up = true;
	return &req->hung_up;
}

struct push_watch *http_server_push_watch(struct http_server *s)
{
	return s->pushes;
}

static void slow_start(struct slow_pool *p, int n)
{
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready, NULL);
	p->n = n > 0 ? n : 1;
	p->threads = xcalloc((size_t)p->n, sizeof *p->threads);
	for (int i = 0; i < p->n; i++)
		if (pthread_create(&p->threads[i], NULL, slow_worker, p) != 0) {
			fprintf(stderr, "sheaf: cannot start a thread\n");
			abort();
		}
}

/* Runs what is queued, then joins the threads.  The lock outlives them:
 * libmicrohttpd still serves until it is stopped, and a handler deferring
 * meanwhile must find the pool stopping (503), not a destroyed mutex. */
static void slow_stop(struct slow_pool *p)
{
	if (!p->threads)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
}

/* The path as the access log shows it: a {token} parameter (a share link's
 * secret) is replaced by "-", so the log grants nothing.  In the pool. */
static const char *logged_path(struct request *req)
{
	for (size_t i = 0; i < req->params.n; i++) {
		const struct route_param *p = &req->params.p[i];
		size_t at = (size_t)(p->value - req->path);
		if (p->name_len != 5 || memcmp(p->name, "token", 5) != 0 ||
		    p->value < req->path || at + p->value_len > strlen(req->path))
			continue;
		struct buf b;
		buf_init(&b, strlen(req->path) + 1);
		buf_append(&b, req->path, at);
		buf_puts(&b, "-");
		buf_puts(&b, req->path + at + p->value_len);
		char *masked = pool_strdup(req->pool, b.data);
		buf_free(&b);
		return masked;
	}
	return req->path;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http_server *s = cls;
	struct request *req = *con_cls;
	(void)conn;
	if (!req)
		return;
	*con_cls = NULL;
	double ms = (double)(clock_mono_ns() - req->start_ns) / 1e6;
	if (log_enabled(LOG_INFO)) {
		struct log_field f[] = {
			LOG_STR("method", req->method_name),
			LOG_STR("path", logged_path(req)),
			LOG_INT("status", req->status),
			LOG_INT("bytes", req->bytes),
			LOG_NUM("duration_ms", ms),
			LOG_STR("request_id", req->request_id),
		};
		log_event(LOG_INFO, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "request"
					: "request aborted", f, sizeof f / sizeof f[0]);
	}
	request_free(req);
	atomic_fetch_sub(&s->inflight, 1);
}

/* libmicrohttpd's hook for percent-decoding the path and query. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *str)
{
	(void)cls;
	(void)conn;
	return http_unescape(str);
}

/* True at most once per second per counter: a flood must not become a log flood. */
static bool once_a_second(_Atomic int64_t *last_logged)
{
	int64_t now = clock_mono_ns() / 1000000000;
	int64_t last = atomic_load(last_logged);
	return now != last && atomic_compare_exchange_strong(last_logged, &last, now);
}

/*
 * The connection ceiling is ours, not libmicrohttpd's: its own limit
 * (MHD_OPTION_CONNECTION_LIMIT, 0.9.75 with epoll) can stop serving a
 * thread for a whole idle timeout when the per-thread share is a multiple of
 * 128 and is reached.  Counting here and refusing at accept time keeps the
 * listener alive; a refused client sees its connection closed at once.
 */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	(void)conn;
	(void)socket_context;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
		atomic_fetch_add(&s->connections, 1);
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&s->connections, 1);
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	struct http_server *s = cls;
	(void)addr;
	(void)len;
	if (atomic_load(&s->connections) < s->cfg.max_connections)
		return MHD_YES;
	if (once_a_second(&s->refusal_logged))
		log_warn("refusing connections: %d open, the limit (SHEAF_MAX_CONNECTIONS)",
			 atomic_load(&s->connections));
	return MHD_NO;
}

/*
 * libmicrohttpd's own messages (thread, socket and protocol errors) are
 * warnings: they are rare in normal operation and explain failures nothing
 * else reports.  At most one a second, since a misbehaving client can cause
 * them on purpose.
 */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *s = cls;
	if (!log_enabled(LOG_WARN) || !once_a_second(&s->library_logged))
		return;
	char msg[1024];
	vsnprintf(msg, sizeof msg, fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	log_warn("libmicrohttpd: %s", msg);
}

static int open_listener(struct http_server *s, struct error *e)
{
	char port[16];
	snprintf(port, sizeof port, "%d", s->cfg.port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	int rc = getaddrinfo(s->host, port, &hints, &res);
	if (rc) {
		error_set(e, "cannot resolve listen host \"%s\": %s", s->host, gai_strerror(rc));
		return -1;
	}
	int fd = -1, err = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			err = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
			break;
		err = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		error_set(e, "cannot listen on %s:%d: %s", s->host, s->cfg.port, strerror(err));
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &len);
	char addr[INET6_ADDRSTRLEN] = "?";
	int real_port = 0;
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
		real_port = ntohs(a->sin6_port);
		snprintf(s->url, sizeof s->url, "http://[%s]:%d", addr, real_port);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
		real_port = ntohs(a->sin_port);
		snprintf(s->url, sizeof s->url, "http://%s:%d", addr, real_port);
	}
	return fd;
}

int http_server_start(struct http_server **out, const struct http_server_config *cfg,
		      struct error *e)
{
	struct error why;
	if (mhd_load(&why))
		return error_set(e, "cannot serve HTTP: %s", why.msg);
	struct http_server *s = xcalloc(1, sizeof *s);
	s->cfg = *cfg;
	s->host = xstrdup(cfg->host);
	s->cors = xstrdup(cfg->cors_origins ? cfg->cors_origins : "");
	s->cfg.host = s->host;
	s->cfg.cors_origins = s->cors;
	atomic_init(&s->inflight, 0);
	atomic_init(&s->connections, 0);
	atomic_init(&s->refusal_logged, 0);
	atomic_init(&s->library_logged, 0);
	atomic_init(&s->draining, false);

	int fd = open_listener(s, e);
	if (fd < 0) {
		http_server_stop(s);
		return -1;
	}
	struct MHD_OptionItem opts[16] = { 0 };
	size_t n = 0;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){ (o), (intptr_t)(v), (p) }
	OPT(MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s);
	OPT(MHD_OPTION_LISTEN_SOCKET, fd, NULL);
	if (cfg->workers > 1)   /* a pool of one is no pool: the polling thread serves */
		OPT(MHD_OPTION_THREAD_POOL_SIZE, cfg->workers, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, s);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout, NULL);
	OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, CONNECTION_MEMORY, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, s);
	OPT(MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL);
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	slow_start(&s->slow, cfg->slow_workers);
	s->pushes = push_watch_new();
	s->daemon = mhd.start_daemon(flags, 0, on_accept, s, on_request, s,
				     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!s->daemon) {
		close(fd);
		http_server_stop(s);
		return error_set(e, "libmicrohttpd could not start on %s:%d (see the warning above)",
				 cfg->host, cfg->port);
	}
	*out = s;
	return 0;
}

const char *http_server_url(const struct http_server *s)
{
	return s->url;
}

void http_server_quiesce(struct http_server *s)
{
	atomic_store(&s->draining, true);
	MHD_socket fd = mhd.quiesce_daemon(s->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

int http_server_inflight(const struct http_server *s)
{
	return atomic_load(&s->inflight);
}

void http_server_stop(struct http_server *s)
{
	if (!s)
		return;
	/* Parked connections must be resumed before libmicrohttpd stops: the
	 * deferred ones when their work ends, pushes when their producers end
	 * (told to, here, since their clients would wait for nothing). */
	push_watch_cancel_all(s->pushes);
	slow_stop(&s->slow);
	if (s->daemon)
		mhd.stop_daemon(s->daemon);
	push_watch_free(s->pushes);
	if (s->slow.n) {   /* the pool was started */
		pthread_mutex_destroy(&s->slow.lock);
		pthread_cond_destroy(&s->slow.ready);
	}
	free(s->host);
	free(s->cors);
	free(s);
}
