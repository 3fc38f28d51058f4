/*
 * Growable byte buffer with a ceiling.
 *
 * Every buffer is created with a limit; an append that would cross it fails
 * with -1 and leaves the buffer as it was, so callers turn "too big" into a
 * clean error (413, 422) instead of growing without bound.  The data is
 * always NUL-terminated (the terminator is not counted in len or the limit).
 */
#ifndef SHEAF_BASE_BUF_H
#define SHEAF_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;    /* NULL until the first append */
	size_t len;
	size_t cap;
	size_t limit;  /* largest len this buffer may reach */
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);          /* releases data; b can be reused after buf_init */
void buf_reset(struct buf *b);         /* len = 0, keeps the allocation */

/* Append n bytes.  Returns 0, or -1 (buffer unchanged) when the limit would be crossed. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Give the data away: returns it (never NULL, "" when empty) and re-inits b. */
char *buf_detach(struct buf *b);

#endif
