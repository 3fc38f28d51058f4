/*
 * SHA-256 through OpenSSL's EVP interface; see sha256.h.  libcrypto is
 * loaded on first use (base/dynlib.h): most commands never hash, and
 * linked the usual way it would be mapped and relocated at every start.
 */
#include "base/sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/dynlib.h"

/* libcrypto's functions without the EVP_ prefix.  Written once under
 * crypto_once, read-only after. */
static struct {
	__typeof__(EVP_DigestFinal_ex) *DigestFinal_ex;
	__typeof__(EVP_DigestInit_ex) *DigestInit_ex;
	__typeof__(EVP_DigestUpdate) *DigestUpdate;
	__typeof__(EVP_MD_CTX_free) *MD_CTX_free;
	__typeof__(EVP_MD_CTX_new) *MD_CTX_new;
	__typeof__(EVP_sha256) *sha256;
} E;
static pthread_once_t crypto_once = PTHREAD_ONCE_INIT;
static struct error crypto_load_error;
static int crypto_loaded = -1;

#ifndef SHEAF_CRYPTO_SONAME
#define SHEAF_CRYPTO_SONAME "libcrypto.so.3"
#endif

static void crypto_open(void)
{
#define SYM(f) { "EVP_" #f, &E.f }
	static const struct dynlib_sym syms[] = {
		SYM(DigestFinal_ex),
		SYM(DigestInit_ex),
		SYM(DigestUpdate),
		SYM(MD_CTX_free),
		SYM(MD_CTX_new),
		SYM(sha256),
	};
#undef SYM
	crypto_loaded = dynlib_load(SHEAF_CRYPTO_SONAME, syms, sizeof syms / sizeof *syms,
				    &crypto_load_error);
}

struct sha256 {
	EVP_MD_CTX *ctx;
};

static void die(void)
{
	fprintf(stderr, "sheaf: libcrypto could not start a SHA-256 (out of memory?)\n");
	abort();
}

struct sha256 *sha256_new(void)
{
	pthread_once(&crypto_once, crypto_open);
	if (crypto_loaded < 0) {
		/* Same policy as a failed start: hashing has no error path. */
		fprintf(stderr, "sheaf: SHA-256 needs OpenSSL's libcrypto: %s\n",
			crypto_load_error.msg);
		abort();
	}
	struct sha256 *h = malloc(sizeof *h);
	if (!h || !(h->ctx = E.MD_CTX_new()) ||
	    E.DigestInit_ex(h->ctx, E.sha256(), NULL) != 1)
		die();
	return h;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (n && E.DigestUpdate(h->ctx, p, n) != 1)
		die();
}

void sha256_finish(struct sha256 *h, char out[SHA256_HEX])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (E.DigestFinal_ex(h->ctx, digest, &len) != 1 || len != 32)
		die();
	static const char hex[] = "0123456789abcdef";
	for (unsigned int i = 0; i < len; i++) {
		out[2 * i] = hex[digest[i] >> 4];
		out[2 * i + 1] = hex[digest[i] & 15];
	}
	out[64] = '\0';
	sha256_free(h);
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	E.MD_CTX_free(h->ctx);
	free(h);
}
