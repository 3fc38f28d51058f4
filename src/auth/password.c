/*
 * Password policy and argon2id hashing; see password.h.
 *
 * The slot counter is a mutex and a condition variable on the monotonic
 * clock rather than a POSIX semaphore, whose timed wait follows the wall
 * clock and would misbehave when the clock is stepped.
 */
#include "auth/password.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

#include "base/alloc.h"
#include "base/utf8.h"

struct hasher {
	unsigned long long ops;
	size_t memory;
	int free_slots;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	char decoy[PASSWORD_HASH_MAX];
};

static int take_slot(struct hasher *h)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PASSWORD_QUEUE_WAIT_MS / 1000;
	until.tv_nsec += (PASSWORD_QUEUE_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	int rc = 0;
	pthread_mutex_lock(&h->lock);
	while (h->free_slots == 0 && rc == 0)
		rc = pthread_cond_timedwait(&h->freed, &h->lock, &until);
	if (h->free_slots > 0) {
		h->free_slots--;
		rc = 0;
	}
	pthread_mutex_unlock(&h->lock);
	return rc ? -1 : 0;
}

static void give_slot(struct hasher *h)
{
	pthread_mutex_lock(&h->lock);
	h->free_slots++;
	pthread_cond_signal(&h->freed);
	pthread_mutex_unlock(&h->lock);
}

static int hash_now(struct hasher *h, const char *pw, char out[PASSWORD_HASH_MAX])
{
	return crypto_pwhash_str_alg(out, pw, strlen(pw), h->ops, h->memory,
				     crypto_pwhash_ALG_ARGON2ID13);
}

struct hasher *hasher_new(unsigned long long ops, size_t memory, int concurrency,
			  struct error *e)
{
	if (ops < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
	    memory < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
		error_set(e, "argon2id needs at least %llu pass(es) and %zu bytes of memory",
			  (unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MIN,
			  (size_t)crypto_pwhash_argon2id_MEMLIMIT_MIN);
		return NULL;
	}
	struct hasher *h = xcalloc(1, sizeof *h);
	h->ops = ops;
	h->memory = memory;
	h->free_slots = concurrency > 0 ? concurrency : 1;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&h->freed, &attr);
	pthread_condattr_destroy(&attr);

	unsigned char random[32];
	char secret[sizeof random * 2 + 1];
	randombytes_buf(random, sizeof random);
	sodium_bin2hex(secret, sizeof secret, random, sizeof random);
	if (hash_now(h, secret, h->decoy) != 0) {
		error_set(e, "argon2id with %llu pass(es) and %zu bytes failed (out of memory?)",
			  ops, memory);
		hasher_free(h);
		return NULL;
	}
	return h;
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->freed);
	free(h);
}

int password_policy_check(const char *pw, const char *email, struct error *e)
{
	size_t bytes = strlen(pw);
	if (bytes > PASSWORD_MAX_BYTES)
		return error_set(e, "must be at most %d bytes long", PASSWORD_MAX_BYTES);
	size_t chars = 0;
	bool lower = false, upper = false, digit = false, other = false;
	for (const char *p = pw; *p;) {
		size_t n = utf8_seq(p);
		if (n == 0)
			return error_set(e, "must be valid UTF-8");
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return error_set(e, "must not contain control characters");
		if (*p >= 'a' && *p <= 'z')
			lower = true;
		else if (*p >= 'A' && *p <= 'Z')
			upper = true;
		else if (*p >= '0' && *p <= '9')
			digit = true;
		else
			other = true;
		chars++;
		p += n;
	}
	if (chars < PASSWORD_MIN_CHARS)
		return error_set(e, "must be at least %d characters long (this one has %zu)",
				 PASSWORD_MIN_CHARS, chars);
	if (lower + upper + digit + other < 2)
		return error_set(e, "must mix at least two kinds of characters: lower-case letters, "
				    "upper-case letters, digits, and symbols or other characters");
	if (email && strcasecmp(pw, email) == 0)
		return error_set(e, "must not be the email address");
	return 0;
}

enum password_rc password_hash(struct hasher *h, const char *pw, char out[PASSWORD_HASH_MAX],
			       struct error *e)
{
	if (take_slot(h)) {
		error_set(e, "too many password hashes in progress");
		return PASSWORD_BUSY;
	}
	int rc = hash_now(h, pw, out);
	give_slot(h);
	if (rc != 0) {
		error_set(e, "argon2id hashing failed (out of memory?)");
		return PASSWORD_ERROR;
	}
	return PASSWORD_OK;
}

static bool is_argon2id(const char *hash)
{
	return strncmp(hash, crypto_pwhash_argon2id_STRPREFIX,
		       strlen(crypto_pwhash_argon2id_STRPREFIX)) == 0;
}

enum password_rc password_verify(struct hasher *h, const char *hash, const char *pw,
				 struct error *e)
{
	bool usable = hash && is_argon2id(hash);
	if (take_slot(h)) {
		error_set(e, "too many password checks in progress");
		return PASSWORD_BUSY;
	}
	int rc = crypto_pwhash_str_verify(usable ? hash : h->decoy, pw, strlen(pw));
	give_slot(h);
	return usable && rc == 0 ? PASSWORD_OK : PASSWORD_MISMATCH;
}

bool password_needs_rehash(const struct hasher *h, const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, h->ops, h->memory) != 0;
}
