/*
 * HS256 JWTs; see jwt.h.  libsodium does the HMAC, the base64url and the
 * constant-time compare; jansson parses the two JSON parts.  The header we
 * write is fixed, so signing never parses anything.
 */
#include "auth/jwt.h"

#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static void hmac(const struct jwt_key *key, const char *msg, size_t len,
		 unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key->bytes, key->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof st);
}

/* Appends base64url(data) to b. */
static void append_b64(struct buf *b, const void *data, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64);
	char *tmp = xmalloc(cap);
	sodium_bin2base64(tmp, cap, data, len, B64);
	buf_append(b, tmp, strlen(tmp));
	free(tmp);
}

char *jwt_sign(const struct jwt_key *key, const struct jwt_claims *c)
{
	json_t *payload = json_pack("{s:s, s:I, s:I, s:s, s:I}", "sub", c->sub, "iat",
				    (json_int_t)c->iat, "exp", (json_int_t)c->exp, "jti", c->jti,
				    "ver", (json_int_t)c->ver);
	char *text = json_dumps(payload, JSON_COMPACT);
	json_decref(payload);

	struct buf b;
	buf_init(&b, JWT_MAX_LEN * 2);
	append_b64(&b, HEADER, strlen(HEADER));
	buf_append(&b, ".", 1);
	append_b64(&b, text, strlen(text));
	free(text);

	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	hmac(key, b.data, b.len, mac);
	buf_append(&b, ".", 1);
	append_b64(&b, mac, sizeof mac);
	return buf_detach(&b);
}

/* Strictly decodes one base64url part into out (at most cap bytes). */
static int decode(const char *s, size_t len, unsigned char *out, size_t cap, size_t *n)
{
	const char *end;
	if (len == 0 ||
	    sodium_base642bin(out, cap, s, len, NULL, n, &end, B64) != 0 || end != s + len)
		return -1;
	return 0;
}

/* Decodes and parses one JSON part; NULL when it is not a JSON object. */
static json_t *decode_object(const char *s, size_t len)
{
	unsigned char *raw = xmalloc(len + 1);
	size_t n;
	json_t *obj = NULL;
	if (decode(s, len, raw, len, &n) == 0) {
		obj = json_loadb((const char *)raw, n, JSON_REJECT_DUPLICATES, NULL);
		if (obj && !json_is_object(obj)) {
			json_decref(obj);
			obj = NULL;
		}
	}
	free(raw);
	return obj;
}

static int check_header(json_t *h, struct error *e)
{
	json_t *alg = json_object_get(h, "alg");
	if (!json_is_string(alg))
		return error_set(e, "the token header names no algorithm");
	if (strcmp(json_string_value(alg), "HS256") != 0)
		return error_set(e, "the token algorithm must be HS256");
	json_t *typ = json_object_get(h, "typ");
	if (typ && (!json_is_string(typ) || strcmp(json_string_value(typ), "JWT") != 0))
		return error_set(e, "the token type must be JWT");
	if (json_object_get(h, "crit"))
		return error_set(e, "the token marks extensions critical");
	return 0;
}

static int claim_int(json_t *p, const char *name, bool required, int64_t *out,
		     struct error *e)
{
	json_t *v = json_object_get(p, name);
	if (!v && !required)
		return 0;
	if (!json_is_integer(v))
		return error_set(e, "the token's %s claim is missing or not an integer", name);
	*out = json_integer_value(v);
	return 0;
}

static int claim_string(json_t *p, const char *name, char *out, size_t cap,
			bool (*valid)(const char *), struct error *e)
{
	json_t *v = json_object_get(p, name);
	const char *s = json_string_value(v);
	if (!s || !*s || json_string_length(v) >= cap || strlen(s) != json_string_length(v) ||
	    (valid && !valid(s)))
		return error_set(e, "the token's %s claim is missing or malformed", name);
	memcpy(out, s, json_string_length(v) + 1);
	return 0;
}

static int check_payload(json_t *p, int64_t now_s, struct jwt_claims *out, struct error *e)
{
	int64_t nbf = 0;
	if (claim_string(p, "sub", out->sub, sizeof out->sub, id_user_valid, e) ||
	    claim_string(p, "jti", out->jti, sizeof out->jti, NULL, e) ||
	    claim_int(p, "iat", true, &out->iat, e) || claim_int(p, "exp", true, &out->exp, e) ||
	    claim_int(p, "ver", true, &out->ver, e) ||
	    claim_int(p, "nbf", false, &nbf, e))
		return -1;
	if (out->exp <= now_s)
		return error_set(e, "the token has expired");
	if (out->iat > now_s + JWT_CLOCK_SKEW_S || nbf > now_s + JWT_CLOCK_SKEW_S)
		return error_set(e, "the token is not valid yet");
	if (out->exp <= out->iat)
		return error_set(e, "the token expires before it was issued");
	return 0;
}

int jwt_verify(const struct jwt_key *key, const char *token, int64_t now_s,
	       struct jwt_claims *out, struct error *e)
{
	size_t len = strnlen(token, JWT_MAX_LEN + 1);
	if (len > JWT_MAX_LEN)
		return error_set(e, "the token is longer than %d bytes", JWT_MAX_LEN);
	const char *dot1 = memchr(token, '.', len);
	const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
		return error_set(e, "a token has three dot-separated parts");

	json_t *header = decode_object(token, (size_t)(dot1 - token));
	if (!header)
		return error_set(e, "the token header is not base64url-encoded JSON");
	int rc = check_header(header, e);
	json_decref(header);
	if (rc)
		return -1;

	unsigned char given[crypto_auth_hmacsha256_BYTES + 1], want[crypto_auth_hmacsha256_BYTES];
	size_t n;
	const char *sig = dot2 + 1;
	if (decode(sig, len - (size_t)(sig - token), given, sizeof given, &n) ||
	    n != crypto_auth_hmacsha256_BYTES)
		return error_set(e, "the token signature is malformed");
	hmac(key, token, (size_t)(dot2 - token), want);
	if (crypto_verify_32(given, want) != 0)
		return error_set(e, "the token signature does not match");

	json_t *payload = decode_object(dot1 + 1, (size_t)(dot2 - dot1 - 1));
	if (!payload)
		return error_set(e, "the token payload is not base64url-encoded JSON");
	memset(out, 0, sizeof *out);
	rc = check_payload(payload, now_s, out, e);
	json_decref(payload);
	return rc;
}
