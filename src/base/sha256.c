/* SHA-256 through OpenSSL's EVP interface; see sha256.h. */
#include "base/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

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
	struct sha256 *h = malloc(sizeof *h);
	if (!h || !(h->ctx = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		die();
	return h;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		die();
}

void sha256_finish(struct sha256 *h, char out[SHA256_HEX])
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(h->ctx, digest, &len) != 1 || len != 32)
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
	EVP_MD_CTX_free(h->ctx);
	free(h);
}
