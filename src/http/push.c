/*
 * Pushes: responses written while they are sent (see request.h), and the
 * watch over them (push.h).
 *
 * A push is shared by two sides, each holding a reference: the producer
 * (until http_push_end) and libmicrohttpd (until it frees the response).
 * libmicrohttpd pulls the body through push_read.  When nothing is waiting,
 * push_read parks (suspends) the connection and returns 0; a write or the
 * end wakes it (resume).  A parked connection is invisible to
 * libmicrohttpd's own checks, which is why the watch exists.
 *
 * Locks: the push's lock is taken before libmicrohttpd's (suspend and
 * resume take its connection lock), never after.  libmicrohttpd frees a
 * response, which takes the watch's lock and then the push's, only for a
 * connection it is not parking; and nobody calls into libmicrohttpd while
 * holding the watch's lock.
 */
#include "http/push.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "http/mhd.h"
#include "http/request.h"

/* What a push may hold unsent before its client counts as gone. */
#define PUSH_PENDING_MAX (64u << 20)
/* How often the watch looks at parked pushes. */
#define WATCH_TICK_MS 1000

struct http_push {
	pthread_mutex_t lock;
	int refs;                     /* the producer's and libmicrohttpd's */
	struct MHD_Connection *conn;
	struct push_watch *watch;
	struct buf pending;           /* written, not yet taken by libmicrohttpd */
	size_t taken;                 /* ... of which this much has been */
	bool parked;                  /* push_read suspended the connection */
	bool ended;                   /* http_push_end */
	bool gone;                    /* nothing more will be delivered */
	int64_t last_write_ns;
	char *keepalive;
	void (*on_gone)(void *arg);
	void *arg;
	struct http_push *prev, *next;   /* in the watch, while libmicrohttpd holds it */
};

struct parked {
	struct MHD_Connection *conn;
	atomic_bool *hung_up;
	struct parked *prev, *next;
};

struct push_watch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct http_push *head;
	struct parked *parked;      /* deferred requests */
	bool stopping;
	pthread_t thread;
};

/* ---- one push ---- */

/* Lets libmicrohttpd take up a parked connection again.  Locked. */
static void unpark(struct http_push *p)
{
	if (p->parked) {
		p->parked = false;
		mhd.resume_connection(p->conn);
	}
}

/* Locked. */
static void make_gone(struct http_push *p, const char *why)
{
	if (p->gone || p->ended)   /* an ended push finishes sending what it has */
		return;
	p->gone = true;
	log_info("push: %s; its producer is told to stop", why);
	if (p->on_gone)
		p->on_gone(p->arg);
	unpark(p);
}

static void push_unref(struct http_push *p)
{
	pthread_mutex_lock(&p->lock);
	bool last = --p->refs == 0;
	pthread_mutex_unlock(&p->lock);
	if (!last)
		return;
	pthread_mutex_destroy(&p->lock);
	buf_free(&p->pending);
	free(p->keepalive);
	free(p);
}

/* Locked.  Appends, or makes the push gone when its client has fallen too
 * far behind. */
static int push_append(struct http_push *p, const char *data, size_t len)
{
	if (p->taken && p->taken == p->pending.len) {
		buf_reset(&p->pending);
		p->taken = 0;
	} else if (p->taken > p->pending.len / 2) {
		memmove(p->pending.data, p->pending.data + p->taken, p->pending.len - p->taken);
		p->pending.len -= p->taken;
		p->taken = 0;
	}
	if (buf_append(&p->pending, data, len)) {
		make_gone(p, "the client stopped reading its event stream");
		return -1;
	}
	p->last_write_ns = clock_mono_ns();
	unpark(p);
	return 0;
}

static ssize_t push_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_push *p = cls;
	(void)pos;
	ssize_t n;
	pthread_mutex_lock(&p->lock);
	if (p->gone) {
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else if (p->taken < p->pending.len) {
		size_t left = p->pending.len - p->taken;
		n = (ssize_t)(left < max ? left : max);
		memcpy(out, p->pending.data + p->taken, (size_t)n);
		p->taken += (size_t)n;
	} else if (p->ended) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else {
		/* Nothing yet: park until a write, the end or the watch wakes us. */
		p->parked = true;
		mhd.suspend_connection(p->conn);
		n = 0;
	}
	pthread_mutex_unlock(&p->lock);
	return n;
}

/* libmicrohttpd is done with the response (sent, failed, or never queued). */
static void push_release(void *cls)
{
	struct http_push *p = cls;
	struct push_watch *w = p->watch;
	pthread_mutex_lock(&w->lock);
	if (p->prev)
		p->prev->next = p->next;
	else
		w->head = p->next;
	if (p->next)
		p->next->prev = p->prev;
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_lock(&p->lock);
	p->parked = false;   /* the connection is going; never resume it */
	if (!p->ended && !p->gone) {
		p->gone = true;
		log_info("push: the client went away; its producer is told to stop");
		if (p->on_gone)
			p->on_gone(p->arg);
	}
	pthread_mutex_unlock(&p->lock);
	push_unref(p);
}

struct http_push *http_reply_push(struct request *req, int status, const char *content_type,
				  const char *keepalive, void (*gone)(void *arg), void *arg)
{
	struct http_push *p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->lock, NULL);
	p->refs = 2;
	p->conn = req->conn;
	p->watch = http_server_push_watch(req->server);
	buf_init(&p->pending, PUSH_PENDING_MAX);
	p->last_write_ns = clock_mono_ns();
	p->keepalive = keepalive ? xstrdup(keepalive) : NULL;
	p->on_gone = gone;
	p->arg = arg;

	struct push_watch *w = p->watch;
	pthread_mutex_lock(&w->lock);
	p->next = w->head;
	if (w->head)
		w->head->prev = p;
	w->head = p;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);

	struct MHD_Response *r = mhd.create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024,
								   push_read, p, push_release);
	http_set_response(req, status, r, content_type, 0);
	return p;
}

int http_push_write(struct http_push *p, const char *data, size_t len)
{
	pthread_mutex_lock(&p->lock);
	int rc = p->gone || p->ended ? -1 : push_append(p, data, len);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void http_push_end(struct http_push *p)
{
	pthread_mutex_lock(&p->lock);
	p->ended = true;
	unpark(p);
	pthread_mutex_unlock(&p->lock);
	push_unref(p);
}

/* ---- the watch ---- */

/* Whether the client of a parked connection has closed it (or reset it):
 * a peek finds the end of its stream.  Data it sent meanwhile (a pipelined
 * request) is left for libmicrohttpd. */
static bool hung_up(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		mhd.get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!info)
		return false;
	char c;
	ssize_t n = recv(info->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void look_at(struct http_push *p, int64_t now)
{
	pthread_mutex_lock(&p->lock);
	if (p->parked && !p->gone && !p->ended) {
		if (hung_up(p->conn))
			make_gone(p, "the client closed its event stream");
		else if (p->keepalive && now - p->last_write_ns >= HTTP_PUSH_KEEPALIVE_S * 1000000000LL)
			push_append(p, p->keepalive, strlen(p->keepalive));
	}
	pthread_mutex_unlock(&p->lock);
}

/* The pushes alive now, each with a reference the caller drops; malloc'd. */
static struct http_push **snapshot(struct push_watch *w, size_t *n)
{
	*n = 0;
	for (struct http_push *p = w->head; p; p = p->next)
		(*n)++;
	struct http_push **all = xcalloc(*n ? *n : 1, sizeof *all);
	size_t i = 0;
	for (struct http_push *p = w->head; p; p = p->next) {
		pthread_mutex_lock(&p->lock);
		p->refs++;
		pthread_mutex_unlock(&p->lock);
		all[i++] = p;
	}
	return all;
}

struct parked *push_watch_park(struct push_watch *w, struct MHD_Connection *conn,
			       atomic_bool *hung_up)
{
	struct parked *p = xcalloc(1, sizeof *p);
	p->conn = conn;
	p->hung_up = hung_up;
	pthread_mutex_lock(&w->lock);
	p->next = w->parked;
	if (w->parked)
		w->parked->prev = p;
	w->parked = p;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return p;
}

void push_watch_unpark(struct push_watch *w, struct parked *p)
{
	pthread_mutex_lock(&w->lock);
	if (p->prev)
		p->prev->next = p->next;
	else
		w->parked = p->next;
	if (p->next)
		p->next->prev = p->prev;
	pthread_mutex_unlock(&w->lock);
	free(p);
}

/* Locked: the entries live while they are listed. */
static void look_at_parked(struct push_watch *w)
{
	for (struct parked *p = w->parked; p; p = p->next)
		if (!atomic_load(p->hung_up) && hung_up(p->conn)) {
			log_info("push: a client hung up while its request was being worked on");
			atomic_store(p->hung_up, true);
		}
}

static void *watch_main(void *arg)
{
	struct push_watch *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		if (!w->head && !w->parked) {
			pthread_cond_wait(&w->wake, &w->lock);
			continue;
		}
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += WATCH_TICK_MS / 1000;
		pthread_cond_timedwait(&w->wake, &w->lock, &until);
		if (w->stopping)
			break;
		look_at_parked(w);
		size_t n;
		struct http_push **all = snapshot(w, &n);
		pthread_mutex_unlock(&w->lock);
		int64_t now = clock_mono_ns();
		for (size_t i = 0; i < n; i++) {
			look_at(all[i], now);
			push_unref(all[i]);
		}
		free(all);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct push_watch *push_watch_new(void)
{
	struct push_watch *w = xcalloc(1, sizeof *w);
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	if (pthread_create(&w->thread, NULL, watch_main, w) != 0) {
		fprintf(stderr, "sheaf: cannot start a thread\n");
		abort();
	}
	return w;
}

void push_watch_cancel_all(struct push_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	size_t n;
	struct http_push **all = snapshot(w, &n);
	pthread_mutex_unlock(&w->lock);
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&all[i]->lock);
		make_gone(all[i], "the server is stopping");
		pthread_mutex_unlock(&all[i]->lock);
		push_unref(all[i]);
	}
	free(all);
}

void push_watch_free(struct push_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	if (w->head || w->parked)
		log_error("push: %s still watched when the server stopped", "a connection");
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
