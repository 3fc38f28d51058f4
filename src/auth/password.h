/*
 * Passwords: the policy new passwords must meet, and argon2id hashing
 * through libsodium, by a struct hasher the server makes once.
 *
 * Hashing costs memory (SHEAF_PASSWORD_MEMORY per hash) and CPU, so at
 * most `concurrency` hashes run at once; more callers queue for up to
 * PASSWORD_QUEUE_WAIT_MS and then give up with PASSWORD_BUSY, which the API
 * answers with 503.  A login flood therefore cannot exhaust memory.
 *
 * The parameters are written into every hash string (the PHC format), so
 * changing them affects new hashes only; password_needs_rehash() tells a
 * login to upgrade an old hash.
 */
#ifndef SHEAF_AUTH_PASSWORD_H
#define SHEAF_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"

#define PASSWORD_MIN_CHARS 10
#define PASSWORD_MAX_BYTES 1024     /* longer input is refused before hashing */
#define PASSWORD_HASH_MAX 128       /* crypto_pwhash_STRBYTES */
#define PASSWORD_QUEUE_WAIT_MS 10000

enum password_rc {
	PASSWORD_OK = 0,
	PASSWORD_MISMATCH = 1,
	PASSWORD_BUSY = 2,          /* no hashing slot freed up in time */
	PASSWORD_ERROR = -1,
};

struct hasher;

/*
 * A hasher making new hashes at the given cost (ops >= 1 passes, memory in
 * bytes >= 8 KiB) with at most concurrency (>= 1) running at once.  It makes
 * one decoy hash at once, so this takes as long as a hash.  NULL with e set
 * when libsodium refuses the parameters.
 */
struct hasher *hasher_new(unsigned long long ops, size_t memory, int concurrency,
			  struct error *e);
void hasher_free(struct hasher *h);   /* NULL is fine */

/*
 * Whether pw is acceptable as a new password: at least PASSWORD_MIN_CHARS
 * characters, at most PASSWORD_MAX_BYTES bytes, at least two kinds of
 * characters (lower-case, upper-case, digits, anything else), and not the
 * account's email.  Returns 0, or -1 with a sentence for the user in e.
 */
int password_policy_check(const char *pw, const char *email, struct error *e);

/* Hashes pw into out (PASSWORD_HASH_MAX bytes).  PASSWORD_OK, _BUSY or _ERROR. */
enum password_rc password_hash(struct hasher *h, const char *pw, char out[PASSWORD_HASH_MAX],
			       struct error *e);

/*
 * Checks pw against a stored hash in constant time: PASSWORD_OK,
 * _MISMATCH, _BUSY.  A NULL hash (no such account) or one that is not an
 * argon2id string (a disabled account) is checked against a decoy hash
 * instead, so it costs the same time as a wrong password and never matches.
 */
enum password_rc password_verify(struct hasher *h, const char *hash, const char *pw,
				 struct error *e);

/* Whether hash was made with other parameters than the current ones. */
bool password_needs_rehash(const struct hasher *h, const char *hash);

#endif
