/*
 * What a file is, decided by its bytes (libmagic), never by the name or
 * the Content-Type a client claims.
 */
#ifndef SHEAF_FILES_SNIFF_H
#define SHEAF_FILES_SNIFF_H

#include <stddef.h>

#include "base/error.h"

#define SNIFF_BYTES (64 * 1024)    /* how much of a file's start is looked at */
#define SNIFF_TYPE_MAX 128

struct sniffer;

/* A sniffer usable from `handles` threads at once (libmagic handles are not
 * thread-safe, so each caller borrows one).  NULL with e set when libmagic
 * or its database cannot be loaded. */
struct sniffer *sniffer_new(int handles, struct error *e);
void sniffer_free(struct sniffer *sn);   /* NULL is fine */

/* The MIME type of data (the first bytes of a file, at most SNIFF_BYTES are
 * useful) into out, e.g. "text/csv" or "application/pdf"; an empty file is
 * "application/x-empty", anything unrecognised "application/octet-stream". */
void sniff_mime(struct sniffer *sn, const void *data, size_t len, char out[SNIFF_TYPE_MAX]);

#endif
