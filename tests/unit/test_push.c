/* Pushes (http_reply_push): a real server on a loopback port, a raw socket
 * for the client, and the test as the producer, so that each step waits
 * for the one before it and nothing depends on timing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "http/request.h"
#include "http/server.h"

/* What the handler and the gone hook share with the test. */
struct fixture {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct http_push *push;
	int gone;
	struct http_server *srv;
	int port;
	int deferred_saw;   /* 0 running, 1 the hang-up seen, -1 not within 20 s */
	bool deferred_started;
};

static void on_gone(void *arg)
{
	struct fixture *f = arg;
	pthread_mutex_lock(&f->lock);
	f->gone++;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

static void push_handler(struct request *req)
{
	struct fixture *f = (struct fixture *)(void *)req->app;
	http_add_header(req, "Cache-Control", "no-cache");
	struct http_push *p = http_reply_push(req, 200, "text/event-stream", NULL, on_gone, f);
	pthread_mutex_lock(&f->lock);
	f->push = p;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
}

/* Deferred work that waits for its client to hang up. */
static void wait_for_hang_up(struct request *req, void *arg)
{
	struct fixture *f = arg;
	const atomic_bool *gone = &req->hung_up;
	pthread_mutex_lock(&f->lock);
	f->deferred_started = true;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	int saw = -1;
	for (int i = 0; i < 2000 && saw < 0; i++) {
		if (atomic_load(gone))
			saw = 1;
		else
			nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	pthread_mutex_lock(&f->lock);
	f->deferred_saw = saw;
	pthread_cond_broadcast(&f->changed);
	pthread_mutex_unlock(&f->lock);
	http_reply_empty(req, 204);
}

static void watched_handler(struct request *req)
{
	struct fixture *f = (struct fixture *)(void *)req->app;
	assert_false(atomic_load(http_watch_hang_up(req)));
	http_defer(req, wait_for_hang_up, f);
}

static const struct route routes[] = {
	{ HTTP_GET, "/push", push_handler, "{}", ROUTE_PUBLIC },
	{ HTTP_GET, "/watched", watched_handler, "{}", ROUTE_PUBLIC },
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->changed, NULL);
	struct http_server_config cfg = {
		.host = "127.0.0.1",
		.workers = 2,
		.slow_workers = 1,
		.max_body = 1 << 20,
		.max_connections = 16,
		.conn_timeout = 30,
		.cors_origins = "",
		.routes = routes,
		.n_routes = sizeof routes / sizeof *routes,
		.app = (struct app *)(void *)f,
	};
	struct error e;
	if (http_server_start(&f->srv, &cfg, &e)) {
		print_error("server: %s\n", e.msg);
		return -1;
	}
	const char *url = http_server_url(f->srv);
	f->port = atoi(strrchr(url, ':') + 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	http_server_stop(f->srv);
	pthread_cond_destroy(&f->changed);
	pthread_mutex_destroy(&f->lock);
	free(f);
	return 0;
}

/* Waits (up to 20 s) until *what is nonzero. */
static bool wait_for(struct fixture *f, const void *const *what_ptr, const int *what_int)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&f->lock);
	int rc = 0;
	while (rc == 0 && !(what_ptr ? *what_ptr != NULL : *what_int != 0))
		rc = pthread_cond_timedwait(&f->changed, &f->lock, &until);
	bool ok = what_ptr ? *what_ptr != NULL : *what_int != 0;
	pthread_mutex_unlock(&f->lock);
	return ok;
}

/* A connection that has sent GET path. */
static int send_get(struct fixture *f, const char *path)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	struct timeval tv = { 20, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	char get[256];
	int n = snprintf(get, sizeof get, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
	assert_int_equal(send(fd, get, (size_t)n, 0), n);
	return fd;
}

/* GET /push, once its push exists. */
static int connect_get(struct fixture *f)
{
	int fd = send_get(f, "/push");
	assert_true(wait_for(f, (const void *const *)&f->push, NULL));
	return fd;
}

/* Reads into got (appending) until it holds want; false on EOF or the
 * 20 s receive timeout. */
static bool read_until(int fd, char *got, size_t cap, const char *want)
{
	size_t len = strlen(got);
	while (!strstr(got, want)) {
		if (len + 1 >= cap)
			return false;
		ssize_t n = recv(fd, got + len, cap - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		got[len] = 0;
	}
	return true;
}

/* Each write reaches the client before the next is made: the body is sent
 * as it is written, not when it ends. */
static void test_written_parts_arrive_as_they_are_written(void **state)
{
	struct fixture *f = *state;
	int fd = connect_get(f);
	char got[8192] = "";
	assert_true(read_until(fd, got, sizeof got, "\r\n\r\n"));
	assert_non_null(strstr(got, "HTTP/1.1 200"));
	assert_non_null(strstr(got, "text/event-stream"));
	assert_non_null(strstr(got, "chunked"));
	const char *parts[] = { "event: message\ndata: {\"n\":1}\n\n",
				"event: message\ndata: {\"n\":2}\n\n",
				"event: message\ndata: {\"n\":3}\n\n" };
	for (size_t i = 0; i < 3; i++) {
		char *body = strstr(got, "\r\n\r\n") + 4;
		assert_null(strstr(body, parts[i]));   /* not before it is written */
		assert_int_equal(http_push_write(f->push, parts[i], strlen(parts[i])), 0);
		assert_true(read_until(fd, got, sizeof got, parts[i]));
	}
	http_push_end(f->push);
	assert_true(read_until(fd, got, sizeof got, "\r\n0\r\n\r\n"));   /* the last chunk */
	close(fd);
	assert_int_equal(f->gone, 0);
	f->push = NULL;
}

/* A client that hangs up while the push waits for data is noticed (the
 * connection is parked then, unseen by libmicrohttpd) and the producer told. */
static void test_client_hanging_up_is_noticed(void **state)
{
	struct fixture *f = *state;
	int fd = connect_get(f);
	char got[4096] = "";
	assert_true(read_until(fd, got, sizeof got, "\r\n\r\n"));
	close(fd);
	assert_true(wait_for(f, NULL, &f->gone));
	assert_int_equal(f->gone, 1);
	assert_int_equal(http_push_write(f->push, "x", 1), -1);
	http_push_end(f->push);
	f->push = NULL;
	f->gone = 0;
}

/* Ended pushes are no longer the producer's concern: a hang-up after the
 * end calls nothing. */
static void test_hang_up_after_the_end_is_quiet(void **state)
{
	struct fixture *f = *state;
	int fd = connect_get(f);
	assert_int_equal(http_push_write(f->push, "data: x\n\n", 9), 0);
	http_push_end(f->push);
	char got[4096] = "";
	assert_true(read_until(fd, got, sizeof got, "data: x\n\n"));
	close(fd);
	/* Another request still works, and gone was never called. */
	f->push = NULL;
	fd = connect_get(f);
	http_push_end(f->push);
	got[0] = 0;
	assert_true(read_until(fd, got, sizeof got, "\r\n0\r\n\r\n"));
	close(fd);
	assert_int_equal(f->gone, 0);
	f->push = NULL;
}

/* Stopping the server tells a live push's producer, and does not wait for
 * it (its connection is parked). */
static void test_stopping_the_server_ends_live_pushes(void **state)
{
	struct fixture *f = *state;
	int fd = connect_get(f);
	char got[4096] = "";
	assert_true(read_until(fd, got, sizeof got, "\r\n\r\n"));
	http_server_stop(f->srv);
	f->srv = NULL;
	assert_int_equal(f->gone, 1);
	assert_int_equal(http_push_write(f->push, "x", 1), -1);
	http_push_end(f->push);
	f->push = NULL;
	close(fd);
}

/* A deferred request that asked to be watched learns of its client hanging
 * up while its work runs. */
static void test_deferred_work_sees_its_client_hang_up(void **state)
{
	struct fixture *f = *state;
	int fd = send_get(f, "/watched");
	int started = 0;
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 20;
	pthread_mutex_lock(&f->lock);
	while (!f->deferred_started &&
	       pthread_cond_timedwait(&f->changed, &f->lock, &until) == 0)
		;
	started = f->deferred_started;
	pthread_mutex_unlock(&f->lock);
	assert_true(started);
	assert_int_equal(f->deferred_saw, 0);   /* still waiting: no hang-up yet */
	close(fd);
	assert_true(wait_for(f, NULL, &f->deferred_saw));
	assert_int_equal(f->deferred_saw, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_written_parts_arrive_as_they_are_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_hanging_up_is_noticed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hang_up_after_the_end_is_quiet, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stopping_the_server_ends_live_pushes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deferred_work_sees_its_client_hang_up, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
