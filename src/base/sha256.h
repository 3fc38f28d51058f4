/*
 * SHA-256 of streamed bytes (uploads, datasets).
 *
 * OpenSSL's libcrypto rather than libsodium here: libcrypto uses the CPU's
 * SHA instructions and hashes at several GB/s, while libsodium's portable
 * code manages about 250 MB/s on the test machine, which made hashing the
 * bottleneck of large uploads (bench/upload).  libsodium stays for
 * everything else (passwords, HMAC, random numbers).  libcrypto is loaded
 * by the first sha256_new (base/dynlib.h), not at start.
 */
#ifndef SHEAF_BASE_SHA256_H
#define SHEAF_BASE_SHA256_H

#include <stddef.h>

#define SHA256_HEX 65   /* 64 hex digits and a NUL */

struct sha256;

/* Aborts on out of memory, like xmalloc, and (with a message) when
 * libcrypto cannot be loaded. */
struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Writes the digest as lower-case hex and frees h. */
void sha256_finish(struct sha256 *h, char out[SHA256_HEX]);
void sha256_free(struct sha256 *h);    /* without a digest; NULL is fine */

#endif
