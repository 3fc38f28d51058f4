/*
 * The HTTP server: libmicrohttpd with an epoll thread pool, in front of the
 * router.  It owns the per-request lifecycle: request id, body ceiling,
 * dispatch, common response headers (X-Request-Id, CORS), the access log
 * line, and graceful shutdown (quiesce, then wait for in-flight requests).
 */
#ifndef SHEAF_HTTP_SERVER_H
#define SHEAF_HTTP_SERVER_H

#include <stddef.h>

#include "base/error.h"
#include "http/router.h"

struct app;
struct http_server;

struct http_server_config {
	const char *host;
	int port;                    /* 0: the kernel picks a free port */
	int workers;                 /* threads; >= 1 */
	int slow_workers;            /* threads for http_defer'd work; >= 1 */
	long long max_body;          /* bytes */
	long long large_body;        /* bytes, for ROUTE_LARGE routes; < max_body: max_body */
	int max_connections;
	int conn_timeout;            /* seconds */
	const char *cors_origins;    /* "", "*" or comma-separated origins */
	const struct route *routes;
	size_t n_routes;
	struct app *app;             /* handed to every handler as req->app */
	/* Called before the handler of every ROUTE_USER route: sets req->user_id
	 * and returns 0, or replies (401...) and returns -1.  NULL: no check. */
	int (*authenticate)(struct request *req);
};

/*
 * Binds and starts serving.  On success *out is running and the bound
 * address is available from http_server_url().  Strings in cfg are copied.
 * libmicrohttpd is loaded here, on the first call (http/mhd.h): a missing
 * library is an error in e like any other.
 */
int http_server_start(struct http_server **out, const struct http_server_config *cfg,
		      struct error *e);

/* "http://127.0.0.1:8080" with the real port; owned by the server. */
const char *http_server_url(const struct http_server *s);

/* Stops accepting connections; requests already started carry on. */
void http_server_quiesce(struct http_server *s);
/* Requests between their first byte and their completed response. */
int http_server_inflight(const struct http_server *s);
/* Closes every connection and frees the server.  NULL is fine. */
void http_server_stop(struct http_server *s);

#endif
