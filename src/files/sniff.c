/*
 * libmagic behind a small pool of handles; see sniff.h.  Loading the magic
 * database costs milliseconds, so handles are made once and lent out.
 */
#include "files/sniff.h"

#include <magic.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

struct sniffer {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int n;
	magic_t *handles;
	bool *busy;
};

struct sniffer *sniffer_new(int handles, struct error *e)
{
	struct sniffer *sn = xcalloc(1, sizeof *sn);
	sn->n = handles > 0 ? handles : 1;
	sn->handles = xcalloc((size_t)sn->n, sizeof *sn->handles);
	sn->busy = xcalloc((size_t)sn->n, sizeof *sn->busy);
	pthread_mutex_init(&sn->lock, NULL);
	pthread_cond_init(&sn->freed, NULL);
	for (int i = 0; i < sn->n; i++) {
		/* MAGIC_ERROR: report problems instead of guessing; no compressed-file
		 * or ELF digging, which only costs time on uploads. */
		sn->handles[i] = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS |
					    MAGIC_NO_CHECK_ELF);
		if (!sn->handles[i] || magic_load(sn->handles[i], NULL) != 0) {
			error_set(e, "libmagic: %s", sn->handles[i] ? magic_error(sn->handles[i])
								    : "cannot start");
			sniffer_free(sn);
			return NULL;
		}
	}
	return sn;
}

void sniffer_free(struct sniffer *sn)
{
	if (!sn)
		return;
	for (int i = 0; i < sn->n; i++)
		if (sn->handles[i])
			magic_close(sn->handles[i]);
	pthread_mutex_destroy(&sn->lock);
	pthread_cond_destroy(&sn->freed);
	free(sn->handles);
	free(sn->busy);
	free(sn);
}

void sniff_mime(struct sniffer *sn, const void *data, size_t len, char out[SNIFF_TYPE_MAX])
{
	if (len == 0) {
		snprintf(out, SNIFF_TYPE_MAX, "application/x-empty");
		return;
	}
	pthread_mutex_lock(&sn->lock);
	int i;
	for (;;) {
		for (i = 0; i < sn->n && sn->busy[i]; i++)
			;
		if (i < sn->n)
			break;
		pthread_cond_wait(&sn->freed, &sn->lock);
	}
	sn->busy[i] = true;
	pthread_mutex_unlock(&sn->lock);

	const char *type = magic_buffer(sn->handles[i], data, len < SNIFF_BYTES ? len : SNIFF_BYTES);
	snprintf(out, SNIFF_TYPE_MAX, "%s", type && *type ? type : "application/octet-stream");

	pthread_mutex_lock(&sn->lock);
	sn->busy[i] = false;
	pthread_cond_signal(&sn->freed);
	pthread_mutex_unlock(&sn->lock);
}
