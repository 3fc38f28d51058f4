/*
 * What went wrong, in words, carried up from deep layers.
 *
 * Functions that can fail take a `struct error *` and return -1 after
 * recording a message with error_set() (git's `return error(...)` habit).
 * The message is for logs and operators; the API layer decides what the
 * client sees.  A NULL error pointer is allowed and discards the message.
 */
#ifndef SHEAF_BASE_ERROR_H
#define SHEAF_BASE_ERROR_H

struct error {
	char msg[512];
};

/* Records the message and returns -1. */
int error_set(struct error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
