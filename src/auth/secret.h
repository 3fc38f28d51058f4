/*
 * Secrets the server keeps: the key that signs access tokens, and the
 * opaque refresh tokens (random, stored only as a hash).
 */
#ifndef SHEAF_AUTH_SECRET_H
#define SHEAF_AUTH_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define SIGNING_KEY_BYTES 32
#define SIGNING_KEY_FILE "signing-key"

/*
 * The token signing key.  With a configured secret (SHEAF_JWT_SECRET) its
 * bytes are the key.  Otherwise the key is read from DATA_DIR/signing-key,
 * or, when that file does not exist, made from 32 random bytes and written
 * there (mode 0600, fsynced, and created atomically, so two servers
 * starting at once end up with the same key).  *key is malloc'd (caller
 * frees); *note, when set, is something the operator should hear (a key
 * was made; the file is readable by others).  Returns 0 or -1 with e set.
 */
int signing_key_load(const char *configured, const char *data_dir, unsigned char **key,
		     size_t *len, const char **note, struct error *e);

/* A refresh token: 32 random bytes as unpadded base64url (43 characters). */
#define REFRESH_TOKEN_CHARS 43
#define REFRESH_HASH_CHARS 64      /* SHA-256 in hex */
void refresh_token_new(char out[REFRESH_TOKEN_CHARS + 1]);
/* Whether s looks like a refresh token at all (length and alphabet). */
bool refresh_token_valid(const char *s);
/* The hash under which a token is stored: hex SHA-256. */
void refresh_token_hash(const char *token, char out[REFRESH_HASH_CHARS + 1]);

#endif
