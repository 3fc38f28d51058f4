/*
 * Fuzz target: access-token verification (auth/jwt.c).
 *
 * Each input is tried twice.  First as a whole token, exactly as a client
 * would send it.  Random bytes almost never carry a valid HMAC, so that
 * mostly exercises splitting, base64 and header checks; to reach the
 * payload checks too, the input is then read as JSON text and signed here
 * with the fuzz key: "HEADER\nPAYLOAD" (or, without a newline, PAYLOAD under
 * the standard header).  Whenever a token verifies, its claims must obey
 * the documented rules, and signing them again must give a token that
 * verifies to the same claims.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/jwt.h"
#include "base/id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_NOW INT64_C(1700000000)
#define STD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* The corpus's valid tokens are signed with this key (32 bytes). */
static const unsigned char fuzz_key_bytes[] = "sheaf-fuzz-key-0123456789abcdef!";
static const struct jwt_key fuzz_key = { fuzz_key_bytes, sizeof fuzz_key_bytes - 1 };

static void check_claims(const struct jwt_claims *c)
{
	size_t sub = strnlen(c->sub, sizeof c->sub), jti = strnlen(c->jti, sizeof c->jti);
	if (sub == 0 || sub > USER_ID_MAX || !id_user_valid(c->sub) || jti == 0 ||
	    jti > JWT_JTI_MAX || c->exp <= FUZZ_NOW || c->iat > FUZZ_NOW + JWT_CLOCK_SKEW_S ||
	    c->exp <= c->iat)
		abort();
}

/* Verifies token; on success checks the claims and that re-signing them round-trips. */
static void verify(const char *token)
{
	struct jwt_claims c;
	struct error e = { { 0 } };
	if (jwt_verify(&fuzz_key, token, FUZZ_NOW, &c, &e) != 0) {
		if (!e.msg[0])
			abort();   /* every refusal says why */
		return;
	}
	check_claims(&c);
	char *again = jwt_sign(&fuzz_key, &c);
	if (!again || strlen(again) > JWT_MAX_LEN)
		abort();
	struct jwt_claims c2;
	if (jwt_verify(&fuzz_key, again, FUZZ_NOW, &c2, &e) != 0 || strcmp(c.sub, c2.sub) != 0 ||
	    strcmp(c.jti, c2.jti) != 0 || c.iat != c2.iat || c.exp != c2.exp || c.ver != c2.ver)
		abort();
	free(again);
}

static char *b64(const char *s, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64);
	char *out = malloc(cap);
	sodium_bin2base64(out, cap, (const unsigned char *)s, len, B64);
	return out;
}

/* header and payload as JSON text, made into a token with a valid signature. */
static void verify_signed(const char *header, size_t hlen, const char *payload, size_t plen)
{
	char *h = b64(header, hlen), *p = b64(payload, plen);
	size_t signed_len = strlen(h) + 1 + strlen(p);
	char *token = malloc(signed_len + 1 + sodium_base64_ENCODED_LEN(32, B64));
	memcpy(token, h, strlen(h));
	token[strlen(h)] = '.';
	memcpy(token + strlen(h) + 1, p, strlen(p));
	free(h);
	free(p);

	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, fuzz_key.bytes, fuzz_key.len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)token, signed_len);
	crypto_auth_hmacsha256_final(&st, mac);
	token[signed_len] = '.';
	sodium_bin2base64(token + signed_len + 1, sodium_base64_ENCODED_LEN(32, B64), mac,
			  sizeof mac, B64);
	verify(token);
	free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (sodium_init() < 0)
			abort();
		ready = 1;
	}
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	verify(s);

	/* Bytes after a NUL never reach jwt_verify as a token, but they are JSON
	 * text here, where jansson must refuse them. */
	if (size <= 2 * JWT_MAX_LEN) {
		const char *nl = memchr(s, '\n', size);
		if (nl)
			verify_signed(s, (size_t)(nl - s), nl + 1, size - (size_t)(nl + 1 - s));
		else
			verify_signed(STD_HEADER, strlen(STD_HEADER), s, size);
	}
	free(s);
	return 0;
}
