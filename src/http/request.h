/*
 * What a handler sees of an HTTP request, and how it answers.
 *
 * The server creates one struct request per request, with a memory pool
 * that lives until the response has been sent.  A handler reads the
 * method, path parameters, query, headers and body, then calls exactly one
 * http_reply_* function.  A handler that does not reply gets a 500.
 *
 * Every error a client sees goes through http_reply_error(), which writes
 * {"error","detail","timestamp","request_id"}.
 */
#ifndef SHEAF_HTTP_REQUEST_H
#define SHEAF_HTTP_REQUEST_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/id.h"
#include "base/pool.h"
#include "http/router.h"

struct app;               /* the application's state, opaque to http/ */
struct http_server;
struct MHD_Connection;
struct MHD_Response;

#define HTTP_HEADERS_MAX 16

/*
 * The body of a ROUTE_STREAM route, in pieces.  Its handler runs when the
 * headers are in; it either replies at once (a bad request) or calls
 * http_stream().  Then data() gets the body as it arrives (return -1 after
 * replying to stop: the server answers and closes the connection), end()
 * runs once the body is complete and replies (or defers), and release()
 * runs when the request is freed, always, whether the client finished,
 * failed or vanished: it is where half-done work is undone.
 */
struct http_stream {
	int (*data)(struct request *req, void *arg, const char *p, size_t n);
	void (*end)(struct request *req, void *arg);
	void (*release)(void *arg);
	void *arg;
};
struct request {
	struct app *app;
	struct http_server *server;
	struct pool *pool;
	struct MHD_Connection *conn;

	unsigned method;
	const char *method_name;
	const char *path;             /* percent-decoded path, without the query */
	const struct route *route;
	struct route_params params;
	char request_id[REQUEST_ID_MAX + 1];
	char user_id[USER_ID_MAX + 1];  /* who is asking; set by authentication, else "" */
	bool authenticated;             /* the authenticate hook passed */
	bool deferred;                  /* parked while http_defer's work runs */
	bool queued;                    /* the response was handed to libmicrohttpd */
	bool watch_hang_up;             /* http_watch_hang_up was called */
	atomic_bool hung_up;            /* ... and the client has gone */
	struct parked *parked;          /* its entry in the server's watch */
	struct http_stream stream;      /* set by http_stream(); data is NULL otherwise */
	int64_t start_ns;

	struct buf body;              /* limited to the configured max body */
	bool body_too_big;
	bool large_body;              /* a ROUTE_LARGE route: the larger limit applies */
	uint64_t body_seen;           /* bytes received, kept or not */

	/* The answer, set by http_reply_*. */
	int status;
	size_t bytes;
	struct MHD_Response *response;
	size_t n_headers;
	struct { const char *name, *value; } headers[HTTP_HEADERS_MAX];
};

/*
 * Slow work (password hashing, and later anything that takes more than a
 * few milliseconds) does not run on the HTTP threads, which would stall
 * every other request behind it.  A handler calls http_defer(req, fn, arg)
 * and returns without replying: the server parks the connection and runs
 * fn(req, arg) on its slow-work threads, where fn reads and replies as a
 * handler does.  Returns 0, after which fn owns arg; or -1 when the queue
 * is full, after replying 503 "busy" with Retry-After (fn will not run, the
 * caller still owns arg).
 */
typedef void (*http_deferred_fn)(struct request *req, void *arg);

/* Takes the body of a ROUTE_STREAM request (see struct http_stream). */
void http_stream(struct request *req, const struct http_stream *stream);
int http_defer(struct request *req, http_deferred_fn fn, void *arg);
/* The same, but a full queue is only -1, with no reply: for a caller that
 * has another way to answer. */
int http_defer_quiet(struct request *req, http_deferred_fn fn, void *arg);
/* Called before http_defer: the client is watched while the work runs (it
 * is unseen by libmicrohttpd then), and the flag returned becomes true
 * within a second or so of it hanging up, so the work can give up.  The
 * flag lives as long as the request. */
const atomic_bool *http_watch_hang_up(struct request *req);

/* Lookups.  Results live in the request's pool or MHD's connection; NULL when absent. */
const char *http_header(struct request *req, const char *name);
const char *http_query(struct request *req, const char *name);
const char *http_param(struct request *req, const char *name);
/* Every value of a repeated query parameter, in order: the first max go to
 * out; returns how many there are (maybe more than max). */
size_t http_query_all(struct request *req, const char *name, const char **out, size_t max);

/*
 * The client's address as text, for rate limits and logs: IPv4 as
 * "192.0.2.1", IPv6 as its /64 prefix "2001:db8:1:2::/64" (one client
 * usually holds a whole /64).  "unknown" if the socket has none.
 */
#define HTTP_ADDR_MAX 64
const char *http_client_address(struct request *req, char out[HTTP_ADDR_MAX]);

/* Adds a response header (both strings are copied into the pool). */
void http_add_header(struct request *req, const char *name, const char *value);

/* Replies.  Each sets req->status and the response; call one per request. */
void http_reply_json(struct request *req, int status, json_t *body);  /* takes body's reference */
/* body as the API sends it: compact, keys in order, and every real in its
 * shortest exact form (jansson alone writes 35.838856960000001 for
 * 35.83885696).  malloc'd; NULL when body cannot be encoded. */
char *http_json_text(const json_t *body);
/* len bytes of data (malloc'd; the reply frees it). */
void http_reply_owned(struct request *req, int status, const char *content_type, char *data,
		      size_t len);
void http_reply_empty(struct request *req, int status);
void http_reply_static(struct request *req, int status, const char *content_type,
		       const void *data, size_t len);  /* data must outlive the server */
/* length bytes of the open file fd from offset, sent with sendfile where the
 * kernel allows; the reply owns fd (closed when sent, or on failure). */
void http_reply_fd(struct request *req, int status, const char *content_type, int fd,
		   uint64_t offset, uint64_t length);
/* length bytes pulled from read(ctx, pos, buf, max) as the client takes
 * them (pos counts from 0; return bytes given, 0 at the end, or -1 to cut
 * the response short); release(ctx) runs when the response is done with.
 * With length HTTP_LENGTH_UNKNOWN the body is sent chunked until read
 * returns 0. */
#define HTTP_LENGTH_UNKNOWN UINT64_MAX
typedef ssize_t (*http_read_fn)(void *ctx, uint64_t pos, char *buf, size_t max);
void http_reply_stream(struct request *req, int status, const char *content_type,
		       uint64_t length, http_read_fn read, void *ctx, void (*release)(void *ctx));
/*
 * A response written while it is being sent (an event stream): the status
 * and headers go out when the handler returns, then the body as the
 * producer, another thread, writes it (chunked), until http_push_end, which
 * the producer must call once.
 *
 * keepalive (NULL: none) is written whenever HTTP_PUSH_KEEPALIVE_S seconds
 * pass without a write, so proxies keep a quiet stream open.  gone(arg)
 * runs at most once, before http_push_end, when nothing more can be
 * delivered: the client hung up (noticed within a second or so), stopped
 * reading (64 MiB waiting), or the server is stopping.  It runs on a
 * server thread with the push locked, so it only sets a flag; writes
 * return -1 after it.
 */
#define HTTP_PUSH_KEEPALIVE_S 15
struct http_push;
struct http_push *http_reply_push(struct request *req, int status, const char *content_type,
				  const char *keepalive, void (*gone)(void *arg), void *arg);
/* 0, or -1 when the push is gone (the bytes are dropped). */
int http_push_write(struct http_push *p, const char *data, size_t len);
/* The producer is done: what was written is sent, then the body ends.  p
 * is not to be used after. */
void http_push_end(struct http_push *p);
/* Runs fn(arg) on the slow-work threads without parking the request, for
 * a push's producer; fn must not touch req.  0, after which fn owns arg;
 * -1 when the queue is full or the server is stopping (fn will not run). */
int http_run(struct request *req, void (*fn)(void *arg), void *arg);

void http_reply_error(struct request *req, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The error body, built on its own so it can be unit-tested: a new reference. */
json_t *http_error_body(const char *code, const char *detail, const char *request_id,
			int64_t now_ms);

/*
 * Input helpers.  Each returns 0 on success; on bad input it has already
 * replied (400/415/422 naming the field) and returns -1, so a handler just
 * returns.
 */

/* The body as a JSON object.  An empty body gives *out = NULL when allow_empty. */
int http_json_body(struct request *req, bool allow_empty, json_t **out);
/* obj[field] as a string; absent gives *out = NULL (an error when required). */
int http_json_string(struct request *req, json_t *obj, const char *field, bool required,
		     const char **out);
/* Refuses (422) a body with a field not in the NULL-terminated list. */
int http_json_only(struct request *req, json_t *obj, const char *const *fields);

/*
 * A Range header against an entity of size bytes (RFC 9110 14.2): returns 1
 * with *start and *length set to one satisfiable byte range, 0 when the whole
 * entity should be sent (no header, a unit other than bytes, several
 * ranges, or syntax we do not accept), -1 when unsatisfiable (416).
 */
int http_range(const char *header, uint64_t size, uint64_t *start, uint64_t *length);
/* Whether an If-None-Match header matches etag (a quoted strong ETag). */
bool http_etag_matches(const char *if_none_match, const char *etag);

/* ?name= as an integer in [min, max]; absent gives def. */
int http_query_int(struct request *req, const char *name, long long def, long long min,
		   long long max, long long *out);

#endif
