/*
 * Inside http/: the watch over live pushes (http_reply_push in request.h).
 *
 * libmicrohttpd parks a push's connection while it waits for data, and a
 * parked connection sees nothing of its client.  One thread per server
 * looks at each parked push once a second: a client that has hung up makes
 * the push gone (its producer is told), and a push quiet for a while gets
 * its keep-alive text, which also keeps proxies from timing it out.  It
 * watches deferred requests that ask (http_watch_hang_up) the same way.
 */
#ifndef SHEAF_HTTP_PUSH_H
#define SHEAF_HTTP_PUSH_H

#include <stdatomic.h>
#include <stddef.h>

struct http_server;
struct push_watch;
struct request;
struct MHD_Response;
struct MHD_Connection;

/* Makes r the request's response (reply.c; every http_reply_* ends here). */
void http_set_response(struct request *req, int status, struct MHD_Response *r,
		       const char *content_type, size_t len);

struct push_watch *push_watch_new(void);
/* Every live push is made gone: the server is stopping and their producers
 * should stop too. */
void push_watch_cancel_all(struct push_watch *w);
/* After libmicrohttpd has stopped (no push is left). */
void push_watch_free(struct push_watch *w);

/* A deferred request's parked connection, watched for its client hanging
 * up (http_watch_hang_up): then *hung_up becomes true.  Unparked before
 * the request is resumed. */
struct parked;
struct parked *push_watch_park(struct push_watch *w, struct MHD_Connection *conn,
			       atomic_bool *hung_up);
void push_watch_unpark(struct push_watch *w, struct parked *p);

/* The server's watch (server.c). */
struct push_watch *http_server_push_watch(struct http_server *s);

#endif
