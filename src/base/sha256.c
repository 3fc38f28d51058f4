/*
 * SHA-256 through OpenSSL's EVP interface; see sha256.h.  libcrypto is
 * loaded on first use (base/dynlib.h): most commands never hash, and
 * linked the usual way it would be mapped and relocated at every start.
 */
#include "base/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/dynlib.h"

/* libcrypto's functions without the EVP_ prefix.  Written once by
 * dynlib_ready, read-only after. */
static struct {
	__typeof__(EVP_DigestFinal_ex) *DigestFinal_ex;
	__typeof__(EVP_DigestInit_ex) *DigestInit_ex;
	__typeof__(EVP_DigestUpdate) *DigestUpdate;
	__typeof__(EVP_MD_CTX_free) *MD_CTX_free;
	__typeof__(EVP_MD_CTX_new) *MD_CTX_new;
	__typeof__(EVP_sha256) *sha256;
} E;

#ifndef SHEAF_CRYPTO_SONAME
#define SHEAF_CRYPTO_SONAME "libcrypto.so.3"
#endif

#define SYM(f) { "EVP_" #f, &E.f }
static const struct dynlib_sym crypto_syms[] = {
	SYM(DigestFinal_ex),
	SYM(DigestInit_ex),
	SYM(DigestUpdate),
	SYM(MD_CTX_free),
	SYM(MD_CTX_new),
	SYM(sha256),
};
#undef SYM
static struct dynlib_lazy crypto_lib = DYNLIB_LAZY(SHEAF_CRYPTO_SONAME, crypto_syms);

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
	struct error why;
	if (dynlib_ready(&crypto_lib, &why) < 0) {
		/* Same policy as a failed start: hashing has no error path. */
		fprintf(stderr, "sheaf: SHA-256 needs OpenSSL's libcrypto: %s\n", why.msg);
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
