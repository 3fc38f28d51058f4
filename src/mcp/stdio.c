/*
 * MCP over stdio: one JSON-RPC message per line on stdin, answers and
 * progress notifications one per line on stdout, logs on stderr only.
 *
 * The reading thread parses each line.  initialize and notifications are
 * handled there, in order; other requests go to a small pool of threads,
 * so a long tool call does not hold up a listing, and a
 * notifications/cancelled can reach a call still running (its answer is
 * then never written).  A line longer than SHEAF_MCP_MAX_MESSAGE is
 * skipped to its end and answered with an Invalid Request error.  At the
 * end of stdin the calls already read are answered, and the process exits.
 */
#include "mcp/stdio.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/log.h"
#include "mcp/mcp.h"

#define WORKERS 4

struct call {
	struct call *next;           /* in the queue, then in flight */
	struct rpc_msg msg;
	char *id_key;                /* the id as JSON text: 1 and "1" differ */
	struct mcp_exchange x;
	struct stdio_server *srv;
};

struct stdio_server {
	struct mcp_server *mcp;
	int out;
	const char *user_id;
	struct mcp_session session;
	pthread_mutex_t write_lock;
	bool write_failed;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct call *queue, *queue_tail;
	struct call *inflight;
	bool closing;
};

/* One line on stdout; steals msg.  Writes are whole lines under the lock,
 * so answers from several threads never interleave. */
static void emit(struct stdio_server *s, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	json_decref(msg);
	size_t len = strlen(text);
	text[len] = 0;
	pthread_mutex_lock(&s->write_lock);
	const char *parts[2] = { text, "\n" };
	size_t sizes[2] = { len, 1 };
	for (int i = 0; i < 2 && !s->write_failed; i++) {
		const char *p = parts[i];
		size_t left = sizes[i];
		while (left) {
			ssize_t w = write(s->out, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				s->write_failed = true;   /* the client went away */
				break;
			}
			p += w;
			left -= (size_t)w;
		}
	}
	pthread_mutex_unlock(&s->write_lock);
	free(text);
}

/* The exchange's notification hook: nothing once the call is cancelled. */
static void notify(void *arg, json_t *msg)
{
	struct call *c = arg;
	if (atomic_load(&c->x.cancelled)) {
		json_decref(msg);
		return;
	}
	emit(c->srv, msg);
}

static void unlink_inflight(struct stdio_server *s, struct call *c)
{
	for (struct call **p = &s->inflight; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
}

static void call_free(struct call *c)
{
	rpc_msg_clear(&c->msg);
	free(c->id_key);
	free(c);
}

static void *worker(void *arg)
{
	struct stdio_server *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->queue && !s->closing)
			pthread_cond_wait(&s->wake, &s->lock);
		struct call *c = s->queue;
		if (!c)
			break;   /* closing, and nothing left */
		s->queue = c->next;
		if (!s->queue)
			s->queue_tail = NULL;
		c->next = s->inflight;
		s->inflight = c;
		pthread_mutex_unlock(&s->lock);

		json_t *response = atomic_load(&c->x.cancelled) ? NULL
				   : mcp_handle_request(s->mcp, &c->msg, &c->x);

		pthread_mutex_lock(&s->lock);
		unlink_inflight(s, c);
		bool drop = atomic_load(&c->x.cancelled);
		pthread_mutex_unlock(&s->lock);
		if (response && !drop)
			emit(s, response);
		else
			json_decref(response);
		call_free(c);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* notifications/cancelled: the call with that id stops and is not answered. */
static void cancel(struct stdio_server *s, const json_t *params)
{
	const json_t *id = json_object_get(params, "requestId");
	if (!json_is_string(id) && !json_is_integer(id))
		return;   /* malformed: ignored, as the spec asks */
	char *key = json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT);
	pthread_mutex_lock(&s->lock);
	for (int list = 0; list < 2; list++)
		for (struct call *c = list ? s->queue : s->inflight; c; c = c->next)
			if (strcmp(c->id_key, key) == 0)
				atomic_store(&c->x.cancelled, true);
	pthread_mutex_unlock(&s->lock);
	const char *reason = json_string_value(json_object_get(params, "reason"));
	log_info("mcp: request %s cancelled by the client%s%s", key, reason ? ": " : "",
		 reason ? reason : "");
	free(key);
}

/* One line (without its newline). */
static void take_line(struct stdio_server *s, const char *line, size_t len)
{
	size_t skip = 0;
	while (skip < len && (line[skip] == ' ' || line[skip] == '\t' || line[skip] == '\r'))
		skip++;
	if (skip == len)
		return;   /* blank lines carry no message */
	struct rpc_msg m;
	json_t *reply;
	enum rpc_kind kind = rpc_parse(line, len, &m, &reply);
	if (kind == RPC_INVALID) {
		if (reply)
			emit(s, reply);
		rpc_msg_clear(&m);
		return;
	}
	if (kind == RPC_RESPONSE) {   /* we never ask, so nothing waits for it */
		rpc_msg_clear(&m);
		return;
	}
	if (kind == RPC_NOTIFICATION) {
		if (strcmp(m.method, "notifications/cancelled") == 0)
			cancel(s, m.params);
		else
			mcp_handle_notification(s->mcp, &m, &s->session);
		rpc_msg_clear(&m);
		return;
	}
	struct call *c = xcalloc(1, sizeof *c);
	c->msg = m;
	c->srv = s;
	c->id_key = json_dumps(m.id, JSON_ENCODE_ANY | JSON_COMPACT);
	c->x.transport = MCP_STDIO;
	c->x.user_id = s->user_id;
	c->x.session = &s->session;
	c->x.notify = notify;
	c->x.notify_arg = c;
	atomic_init(&c->x.cancelled, false);
	if (strcmp(m.method, "initialize") == 0) {
		/* In order: the requests after it run under the version it sets. */
		emit(s, mcp_handle_request(s->mcp, &c->msg, &c->x));
		call_free(c);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->queue_tail)
		s->queue_tail->next = c;
	else
		s->queue = c;
	s->queue_tail = c;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

int mcp_stdio_run(struct app *app, int in, int out, const char *user_id)
{
	struct stdio_server s = { .out = out, .user_id = user_id };
	s.mcp = mcp_server_new(app);
	pthread_mutex_init(&s.write_lock, NULL);
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.wake, NULL);
	pthread_t threads[WORKERS];
	for (int i = 0; i < WORKERS; i++)
		pthread_create(&threads[i], NULL, worker, &s);

	size_t max = (size_t)app->cfg->mcp_max_message;
	struct buf line;
	buf_init(&line, max + 1);
	bool oversized = false;
	char chunk[65536];
	int rc = 0;
	for (;;) {
		ssize_t n = read(in, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("mcp: reading stdin: %s", strerror(errno));
			rc = 1;
			break;
		}
		if (n == 0)
			break;
		const char *p = chunk, *end = chunk + n;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl ? nl : end;
			if (!oversized && buf_append(&line, p, (size_t)(stop - p)) < 0) {
				oversized = true;
				buf_reset(&line);
			}
			p = stop;
			if (!nl)
				break;
			p++;
			if (oversized)
				emit(&s, rpc_errorf(NULL, RPC_INVALID_REQUEST, "Invalid Request: the "
						    "message is longer than %zu bytes "
						    "(SHEAF_MCP_MAX_MESSAGE)", max));
			else
				take_line(&s, line.data ? line.data : "", line.len);
			oversized = false;
			buf_reset(&line);
		}
	}
	if (line.len && !oversized)   /* a last message without its newline */
		take_line(&s, line.data, line.len);
	buf_free(&line);

	/* stdin is closed: what was asked is still answered (a script may pipe
	 * its requests in), each call bounded by SHEAF_MCP_TIMEOUT; a client
	 * that wants us gone sooner sends a signal. */
	pthread_mutex_lock(&s.lock);
	s.closing = true;
	pthread_cond_broadcast(&s.wake);
	pthread_mutex_unlock(&s.lock);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(threads[i], NULL);
	pthread_cond_destroy(&s.wake);
	pthread_mutex_destroy(&s.lock);
	pthread_mutex_destroy(&s.write_lock);
	mcp_server_free(s.mcp);
	return rc;
}
