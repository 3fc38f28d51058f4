/*
 * JSON Web Tokens (RFC 7519) signed with HMAC-SHA256 (RFC 7518 "HS256"),
 * the access tokens of the API.
 *
 * Only HS256 is accepted: a header naming any other algorithm ("none",
 * "RS256", "hs256"...) or marking extensions critical is refused, as is
 * anything that is not exactly three unpadded base64url parts, a signature
 * that is not 32 bytes, a payload without sub/iat/exp/jti/ver or with claims of
 * the wrong type, an expired token or one issued in the future.  The
 * signature is checked in constant time before the payload is read.
 */
#ifndef SHEAF_AUTH_JWT_H
#define SHEAF_AUTH_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/id.h"

#define JWT_MAX_LEN 4096           /* longer tokens are refused unread */
#define JWT_JTI_MAX 64
#define JWT_CLOCK_SKEW_S 60        /* how far in the future iat/nbf may be */

struct jwt_key {
	const unsigned char *bytes;
	size_t len;                /* 32 or more (SHEAF_JWT_SECRET has that minimum) */
};

struct jwt_claims {
	char sub[USER_ID_MAX + 1];
	char jti[JWT_JTI_MAX + 1];
	int64_t iat;               /* seconds since the epoch */
	int64_t exp;
	int64_t ver;               /* "ver": the account's token version when issued */
};

/* The compact serialization of claims: a malloc'd string (caller frees). */
char *jwt_sign(const struct jwt_key *key, const struct jwt_claims *claims);

/*
 * Checks token at time now_s and fills *out.  Returns 0, or -1 with the
 * reason in e (for logs and the 401 detail; it never contains the key).
 */
int jwt_verify(const struct jwt_key *key, const char *token, int64_t now_s,
	       struct jwt_claims *out, struct error *e);

#endif
