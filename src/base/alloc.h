/*
 * Allocation wrappers that never return NULL.
 *
 * sheaf decides out-of-memory once, here: a failed allocation prints a
 * message and aborts.  Call sites therefore never check for NULL.  Memory is
 * ordinary malloc memory and is released with free().
 */
#ifndef SHEAF_BASE_ALLOC_H
#define SHEAF_BASE_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
/* Zeroed like xcalloc, but written through now.  For a table that threads
 * will read and write at random: calloc's fresh pages are the shared zero
 * page until written, and a write after a read is a copy-on-write fault
 * whose TLB flush interrupts every thread of the process. */
void *xzalloc_touched(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* n bytes at an address that is a multiple of align (a power of two that
 * is a multiple of sizeof(void *)): buffers for direct I/O (O_DIRECT). */
void *xmalloc_aligned(size_t align, size_t n);
/* A big buffer that is filled soon and whole (I/O buffers): aligned for
 * direct I/O, and from 1 MiB on backed by transparent huge pages where the
 * kernel offers them (madvise mode), so that its first filling costs one
 * page fault per 2 MiB instead of one per 4 KiB (on a virtual machine a
 * fault costs a microsecond or more: 2,000 of them for an 8 MiB buffer).
 * The size is then rounded up to 2 MiB.  Freed with free(). */
void *xmalloc_huge(size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
