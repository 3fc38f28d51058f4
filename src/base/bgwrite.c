/*
 * Background writes (bgwrite.h): a ring of buffers, two counters (handed
 * over, written) and one thread that writes the oldest buffer handed over.
 * The producer owns buffer `submitted % nbuf` while fewer than nbuf are
 * waiting to be written; the thread owns the ones in between.  A hand-off
 * is a few microseconds against milliseconds of disk per buffer, so one
 * mutex and two condition variables are plenty.
 */
#include "base/bgwrite.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"

struct piece {
	size_t len;
	uint64_t off;
};

struct bgwrite {
	int fd;
	char *name;
	bool direct;                  /* O_DIRECT still on (the thread's, then the caller's) */
	size_t nbuf, cap;
	uint8_t *buf[BGWRITE_MAX_BUFFERS];
	struct piece piece[BGWRITE_MAX_BUFFERS];

	pthread_mutex_t lock;
	pthread_cond_t work;          /* a buffer was handed over, or stop */
	pthread_cond_t done;          /* a buffer was written, or a write failed */
	uint64_t submitted, written;
	bool stop;
	bool failed;
	char msg[sizeof ((struct error *)0)->msg];
	pthread_t thread;
	bool started;
};

/* pwrite of all n bytes, through the page cache once direct I/O is refused. */
static int write_piece(struct bgwrite *b, const uint8_t *p, size_t n, uint64_t off, char *msg,
		       size_t msg_size)
{
	uint64_t start = off;
	size_t total = n;
	while (n > 0) {
		ssize_t k = pwrite(b->fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && errno == EINVAL && b->direct) {
			b->direct = false;
			int fl = fcntl(b->fd, F_GETFL);
			if (fl >= 0 && fcntl(b->fd, F_SETFL, fl & ~O_DIRECT) == 0)
				continue;
			errno = EINVAL;
		}
		if (k < 0) {
			snprintf(msg, msg_size, "write %s: %s", b->name, strerror(errno));
			return -1;
		}
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	if (!b->direct)
		sync_file_range(b->fd, (off_t)start, (off_t)total, SYNC_FILE_RANGE_WRITE);
	return 0;
}

/* Keeps the first failure's message; called with the lock held. */
static void keep_failure(struct bgwrite *b, const char *msg)
{
	if (!b->failed) {
		b->failed = true;
		snprintf(b->msg, sizeof b->msg, "%s", msg);
	}
}

static void *run(void *arg)
{
	struct bgwrite *b = arg;
	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (b->written == b->submitted && !b->stop)
			pthread_cond_wait(&b->work, &b->lock);
		if (b->stop)
			break;
		size_t k = (size_t)(b->written % b->nbuf);
		bool skip = b->failed;
		pthread_mutex_unlock(&b->lock);
		char msg[sizeof b->msg];
		int rc = skip ? 0 : write_piece(b, b->buf[k], b->piece[k].len, b->piece[k].off,
						 msg, sizeof msg);
		pthread_mutex_lock(&b->lock);
		if (rc < 0)
			keep_failure(b, msg);
		b->written++;
		pthread_cond_signal(&b->done);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

struct bgwrite *bgwrite_new(int fd, const char *name, size_t nbuf, size_t cap, bool direct)
{
	struct bgwrite *b = xcalloc(1, sizeof *b);
	b->fd = fd;
	b->name = xstrdup(name);
	b->direct = direct;
	b->nbuf = nbuf < 2 ? 2 : nbuf > BGWRITE_MAX_BUFFERS ? BGWRITE_MAX_BUFFERS : nbuf;
	b->cap = cap;
	for (size_t i = 0; i < b->nbuf; i++)
		b->buf[i] = xmalloc_huge(cap);
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->done, NULL);
	return b;
}

/* Called with the lock held. */
static int failed(struct bgwrite *b, struct error *e)
{
	if (!b->failed)
		return 0;
	error_set(e, "%s", b->msg);
	return -1;
}

uint8_t *bgwrite_buffer(struct bgwrite *b, struct error *e)
{
	pthread_mutex_lock(&b->lock);
	while (b->submitted - b->written == b->nbuf && !b->failed)
		pthread_cond_wait(&b->done, &b->lock);
	uint8_t *p = failed(b, e) ? NULL : b->buf[b->submitted % b->nbuf];
	pthread_mutex_unlock(&b->lock);
	return p;
}

int bgwrite_submit(struct bgwrite *b, size_t len, uint64_t off, struct error *e)
{
	pthread_mutex_lock(&b->lock);
	int rc = failed(b, e);
	if (rc == 0 && !b->started) {
		if (pthread_create(&b->thread, NULL, run, b) == 0) {
			b->started = true;
		} else {   /* no thread to be had: write here and now */
			size_t k = (size_t)(b->submitted % b->nbuf);
			char msg[sizeof b->msg];
			if (write_piece(b, b->buf[k], len, off, msg, sizeof msg) < 0) {
				keep_failure(b, msg);
				rc = failed(b, e);
			}
			pthread_mutex_unlock(&b->lock);
			return rc;
		}
	}
	if (rc == 0) {
		size_t k = (size_t)(b->submitted % b->nbuf);
		b->piece[k] = (struct piece){ .len = len, .off = off };
		b->submitted++;
		pthread_cond_signal(&b->work);
	}
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int bgwrite_drain(struct bgwrite *b, struct error *e)
{
	pthread_mutex_lock(&b->lock);
	while (b->written != b->submitted)
		pthread_cond_wait(&b->done, &b->lock);
	int rc = failed(b, e);
	pthread_mutex_unlock(&b->lock);
	return rc;
}

int bgwrite_now(struct bgwrite *b, const void *p, size_t n, uint64_t off, struct error *e)
{
	if (bgwrite_drain(b, e) < 0)
		return -1;
	char msg[sizeof b->msg];
	if (write_piece(b, p, n, off, msg, sizeof msg) < 0) {
		pthread_mutex_lock(&b->lock);
		keep_failure(b, msg);
		pthread_mutex_unlock(&b->lock);
		return error_set(e, "%s", msg);
	}
	return 0;
}

void bgwrite_free(struct bgwrite *b)
{
	if (!b)
		return;
	if (b->started) {
		pthread_mutex_lock(&b->lock);
		b->stop = true;
		pthread_cond_signal(&b->work);
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->thread, NULL);
	}
	for (size_t i = 0; i < b->nbuf; i++)
		free(b->buf[i]);
	pthread_cond_destroy(&b->work);
	pthread_cond_destroy(&b->done);
	pthread_mutex_destroy(&b->lock);
	free(b->name);
	free(b);
}
