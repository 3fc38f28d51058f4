/*
 * Identifiers: random, URL-safe, unguessable ids, and the checks for ids
 * that clients choose themselves.
 */
#ifndef SHEAF_BASE_ID_H
#define SHEAF_BASE_ID_H

#include <stdbool.h>
#include <stddef.h>

/* Characters needed for an id made of nbytes random bytes, plus NUL. */
#define ID_CHARS(nbytes) (((nbytes) * 4 + 2) / 3 + 1)

/* Fills out with nbytes of OS randomness as unpadded base64url (A-Z a-z 0-9 - _). */
void id_random(char *out, size_t nbytes);

/* A session id: 1-64 characters of [A-Za-z0-9_-]. */
#define SESSION_ID_MAX 64
bool id_session_valid(const char *s);

/* A user id: 1-64 characters of [A-Za-z0-9_-] (made by id_random, 16 bytes,
 * or the built-in local user's "local"). */
#define USER_ID_MAX 64
#define id_user_valid id_session_valid

/* An incoming X-Request-Id we are willing to echo: 1-128 of [A-Za-z0-9._:-]. */
#define REQUEST_ID_MAX 128
bool id_request_valid(const char *s);

#endif
