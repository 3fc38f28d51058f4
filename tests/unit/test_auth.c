/*
 * The pieces accounts stand on (src/auth): HS256 access tokens, the
 * password policy and the argon2id hasher, email and display-name rules,
 * the signing key file and refresh tokens.
 *
 * The JWT cases do not trust jwt_sign to make their bad tokens: each one is
 * built here from its JSON with libsodium (HMAC-SHA256 with a key of any
 * length, unpadded base64url), so a rejection is known to come from the
 * one thing that case changed, under a signature that is otherwise valid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/identity.h"
#include "auth/jwt.h"
#include "auth/password.h"
#include "auth/secret.h"

#include "testutil.h"

#define NOW INT64_C(1700000000)
#define STD_HEADER "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define B64_ALPHABET "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

static const unsigned char key_bytes[] = "unit-test-signing-key-0123456789-abcdef";
static const struct jwt_key key = { key_bytes, sizeof key_bytes - 1 };

/* ---- scratch memory ---------------------------------------------------- */

/* Strings a case makes are kept here and freed after it, so a failed
 * assertion (which longjmps out of the case) leaks nothing. */
static char **kept;
static size_t nkept, kept_cap;

static char *keep(char *s)
{
	assert_non_null(s);
	if (nkept == kept_cap) {
		kept_cap = kept_cap ? kept_cap * 2 : 256;
		char **grown = realloc(kept, kept_cap * sizeof *kept);
		if (!grown) {
			free(s);
			fail();
		}
		kept = grown;
	}
	kept[nkept++] = s;
	return s;
}

static int free_kept(void **state)
{
	(void)state;
	while (nkept)
		free(kept[--nkept]);
	free(kept);
	kept = NULL;
	kept_cap = 0;
	return 0;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	int rc = vasprintf(&s, f, ap);
	va_end(ap);
	assert_true(rc >= 0);
	return keep(s);
}

/* ---- building tokens by hand ------------------------------------------ */

static char *b64(const void *data, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, B64);
	char *out = keep(malloc(cap));
	sodium_bin2base64(out, cap, data, len, B64);
	return out;
}

static char *b64s(const char *s)
{
	return b64(s, strlen(s));
}

static void hmac(const struct jwt_key *k, const char *msg, unsigned char mac[32])
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, k->bytes, k->len);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, mac);
}

/* "h.p.sig" with a valid signature over "h.p" (h and p already encoded). */
static char *sign_parts(const struct jwt_key *k, const char *h, const char *p)
{
	char *signed_part = fmt("%s.%s", h, p);
	unsigned char mac[32];
	hmac(k, signed_part, mac);
	return fmt("%s.%s", signed_part, b64(mac, sizeof mac));
}

static char *sign_json(const struct jwt_key *k, const char *header, const char *payload)
{
	return sign_parts(k, b64s(header), b64s(payload));
}

/* The claims of a good token at NOW, as an object to change. */
static json_t *good_claims(void)
{
	json_t *c = json_pack("{s:s, s:I, s:I, s:s, s:I}", "sub", "user_1", "iat",
			      (json_int_t)(NOW - 10), "exp", (json_int_t)(NOW + 900), "jti",
			      "jti-1", "ver", (json_int_t)3);
	assert_non_null(c);
	return c;
}

/* Signs header with the claims; takes the reference to claims. */
static char *sign_obj(const struct jwt_key *k, const char *header, json_t *claims)
{
	char *text = json_dumps(claims, JSON_COMPACT);
	json_decref(claims);
	keep(text);
	return sign_json(k, header, text);
}

/* The claims with name set to the JSON value text (NULL: removed). */
static char *sign_with(const char *name, const char *value_json)
{
	json_t *c = good_claims();
	if (value_json) {
		json_t *v = json_loads(value_json, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		assert_non_null(v);
		json_object_set_new(c, name, v);
	} else {
		json_object_del(c, name);
	}
	return sign_obj(&key, STD_HEADER, c);
}

/* Splits a token at its dots into three kept strings. */
static void split(const char *tok, char **h, char **p, char **s)
{
	const char *d1 = strchr(tok, '.');
	assert_non_null(d1);
	const char *d2 = strchr(d1 + 1, '.');
	assert_non_null(d2);
	*h = keep(strndup(tok, (size_t)(d1 - tok)));
	*p = keep(strndup(d1 + 1, (size_t)(d2 - d1 - 1)));
	*s = keep(strdup(d2 + 1));
}

static void accept_at(const struct jwt_key *k, const char *tok, int64_t now,
		      struct jwt_claims *out, int line)
{
	struct error e = { { 0 } };
	struct jwt_claims c;
	if (jwt_verify(k, tok, now, out ? out : &c, &e) != 0) {
		print_error("line %d: token refused (%s): %.300s\n", line, e.msg, tok);
		fail();
	}
}

/* Expects a refusal with a message; returns the message (kept). */
static const char *reject_at(const struct jwt_key *k, const char *tok, int64_t now, int line)
{
	struct error e = { { 0 } };
	struct jwt_claims c;
	if (jwt_verify(k, tok, now, &c, &e) != -1) {
		print_error("line %d: token accepted: %.300s\n", line, tok);
		fail();
	}
	if (e.msg[0] == '\0') {
		print_error("line %d: token refused without a message: %.300s\n", line, tok);
		fail();
	}
	return fmt("%s", e.msg);
}

#define ACCEPT(tok) accept_at(&key, (tok), NOW, NULL, __LINE__)
#define REJECT(tok) reject_at(&key, (tok), NOW, __LINE__)

/* Asserts that msg mentions what. */
#define assert_mentions(msg, what)                                                   \
	do {                                                                         \
		if (!strstr((msg), (what))) {                                        \
			print_error("\"%s\" does not mention \"%s\"\n", (msg), (what)); \
			fail();                                                      \
		}                                                                    \
	} while (0)

/* ---- jwt: what is accepted -------------------------------------------- */

static void test_jwt_round_trip(void **state)
{
	(void)state;
	struct jwt_claims in = { .iat = NOW, .exp = NOW + 900, .ver = 7 };
	snprintf(in.sub, sizeof in.sub, "%s", "Ab3_-xYz");
	id_random(in.jti, 18);
	char *tok = keep(jwt_sign(&key, &in));

	/* Three unpadded base64url parts under the fixed header. */
	assert_int_equal(strspn(tok, B64_ALPHABET "."), strlen(tok));
	char *h, *p, *s;
	split(tok, &h, &p, &s);
	assert_string_equal(h, b64s(STD_HEADER));
	assert_int_equal(strlen(s), 43);

	struct jwt_claims out;
	memset(&out, 0x55, sizeof out);
	accept_at(&key, tok, NOW, &out, __LINE__);
	assert_string_equal(out.sub, in.sub);
	assert_string_equal(out.jti, in.jti);
	assert_int_equal(out.iat, in.iat);
	assert_int_equal(out.exp, in.exp);
	assert_int_equal(out.ver, in.ver);

	/* Valid through its last second, from the allowed skew before iat. */
	accept_at(&key, tok, NOW + 899, NULL, __LINE__);
	accept_at(&key, tok, NOW - JWT_CLOCK_SKEW_S, NULL, __LINE__);
	reject_at(&key, tok, NOW + 900, __LINE__);
	reject_at(&key, tok, NOW - JWT_CLOCK_SKEW_S - 1, __LINE__);

	/* The largest claims fit; the built-in user's id is a subject too. */
	memset(in.sub, 'u', USER_ID_MAX);
	in.sub[USER_ID_MAX] = '\0';
	memset(in.jti, 'j', JWT_JTI_MAX);
	in.jti[JWT_JTI_MAX] = '\0';
	in.ver = INT64_MAX;
	tok = keep(jwt_sign(&key, &in));
	accept_at(&key, tok, NOW, &out, __LINE__);
	assert_string_equal(out.sub, in.sub);
	assert_string_equal(out.jti, in.jti);
	assert_int_equal(out.ver, INT64_MAX);
	snprintf(in.sub, sizeof in.sub, "%s", "local");
	tok = keep(jwt_sign(&key, &in));
	accept_at(&key, tok, NOW, &out, __LINE__);
	assert_string_equal(out.sub, "local");

	/* A key longer than a SHA-256 block (HMAC hashes it first). */
	unsigned char long_bytes[100];
	memset(long_bytes, 0xa5, sizeof long_bytes);
	struct jwt_key long_key = { long_bytes, sizeof long_bytes };
	tok = keep(jwt_sign(&long_key, &in));
	accept_at(&long_key, tok, NOW, NULL, __LINE__);
	reject_at(&key, tok, NOW, __LINE__);
}

static void test_jwt_hand_made_tokens_verify(void **state)
{
	(void)state;
	/* The builders of the rejection cases make good tokens when nothing is changed. */
	struct jwt_claims out;
	accept_at(&key, sign_obj(&key, STD_HEADER, good_claims()), NOW, &out, __LINE__);
	assert_string_equal(out.sub, "user_1");
	assert_string_equal(out.jti, "jti-1");
	assert_int_equal(out.iat, NOW - 10);
	assert_int_equal(out.exp, NOW + 900);
	assert_int_equal(out.ver, 3);

	/* typ may be left out (RFC 7519 makes it optional); unknown header fields
	 * and claims are ignored; white space in the JSON is fine. */
	ACCEPT(sign_obj(&key, "{\"alg\":\"HS256\"}", good_claims()));
	ACCEPT(sign_obj(&key, "{\"typ\":\"JWT\",\"kid\":\"k1\",\"alg\":\"HS256\"}", good_claims()));
	ACCEPT(sign_with("aud", "\"sheaf\""));
	ACCEPT(sign_json(&key, " { \"alg\" : \"HS256\" } ",
			 "{ \"sub\": \"user_1\", \"iat\": 1699999990, \"exp\": 1700000900,\n"
			 "  \"jti\": \"x\", \"ver\": 0 }"));

	/* Time boundaries: nbf and iat up to the skew ahead, exp one second ahead. */
	ACCEPT(sign_with("nbf", "1700000060"));
	ACCEPT(sign_with("nbf", "0"));
	ACCEPT(sign_with("iat", "1700000060"));
	ACCEPT(sign_with("exp", "1700000001"));
	ACCEPT(sign_with("ver", "-1"));
	/* jti is opaque: any characters up to its length. */
	ACCEPT(sign_with("jti", "\"a b/c.d \\u00e9\""));
}

/* ---- jwt: what is refused --------------------------------------------- */

static void test_jwt_wrong_key(void **state)
{
	(void)state;
	char *tok = sign_obj(&key, STD_HEADER, good_claims());
	unsigned char other_bytes[sizeof key_bytes];
	memcpy(other_bytes, key_bytes, sizeof other_bytes);
	other_bytes[0] ^= 1;
	struct jwt_key other = { other_bytes, key.len };
	assert_mentions(reject_at(&other, tok, NOW, __LINE__), "signature");
	/* A key that only extends ours, or is a prefix of it, is another key.
	 * (Not with zero bytes appended: HMAC pads a short key with zeros, so
	 * "k" and "k\0" are one key; that is HMAC, not the token code.) */
	struct jwt_key prefix = { key_bytes, key.len - 1 };
	reject_at(&prefix, tok, NOW, __LINE__);
	unsigned char longer_bytes[sizeof key_bytes];
	memcpy(longer_bytes, key_bytes, key.len);
	longer_bytes[key.len] = 'x';
	struct jwt_key longer = { longer_bytes, key.len + 1 };
	reject_at(&longer, tok, NOW, __LINE__);
}

static void test_jwt_algorithm(void **state)
{
	(void)state;
	const char *headers[] = {
		"{\"alg\":\"none\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"hs256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"RS256\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS256 \",\"typ\":\"JWT\"}",
		"{\"alg\":\"\",\"typ\":\"JWT\"}",
		"{\"typ\":\"JWT\"}",
		"{\"alg\":null,\"typ\":\"JWT\"}",
		"{\"alg\":256,\"typ\":\"JWT\"}",
		"{\"alg\":[\"HS256\"],\"typ\":\"JWT\"}",
		"{\"ALG\":\"HS256\",\"typ\":\"JWT\"}",
		"{}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
		REJECT(sign_obj(&key, headers[i], good_claims()));

	/* "none" with no signature at all, and with the signature of our header. */
	char *h, *p, *s;
	split(sign_obj(&key, STD_HEADER, good_claims()), &h, &p, &s);
	char *none = b64s("{\"alg\":\"none\",\"typ\":\"JWT\"}");
	REJECT(fmt("%s.%s.", none, p));
	REJECT(fmt("%s.%s", none, p));
	REJECT(fmt("%s.%s.%s", none, p, s));
}

static void test_jwt_type_and_crit(void **state)
{
	(void)state;
	const char *headers[] = {
		"{\"alg\":\"HS256\",\"typ\":\"jwt\"}",
		"{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
		"{\"alg\":\"HS256\",\"typ\":\"\"}",
		"{\"alg\":\"HS256\",\"typ\":null}",
		"{\"alg\":\"HS256\",\"typ\":1}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"exp\"]}",
		"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[]}",
		"{\"alg\":\"HS256\",\"crit\":null}",
	};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++)
		REJECT(sign_obj(&key, headers[i], good_claims()));
}

static void test_jwt_parts(void **state)
{
	(void)state;
	char *tok = sign_obj(&key, STD_HEADER, good_claims());
	char *h, *p, *s;
	split(tok, &h, &p, &s);
	ACCEPT(tok);

	REJECT(fmt("%s.%s", h, p));
	REJECT(fmt("%s.%s", p, s));
	REJECT(fmt("%s.%s.%s.%s", h, p, s, s));
	REJECT(fmt("%s.", tok));
	REJECT(fmt(".%s", tok));
	REJECT(fmt("%s.%s..%s", h, p, s));
	REJECT(h);
	REJECT("");
	REJECT(".");
	REJECT("..");
	REJECT("...");
	/* Empty parts, each under a valid signature where there is one. */
	REJECT(fmt(".%s.%s", p, s));
	REJECT(sign_parts(&key, "", p));
	REJECT(sign_parts(&key, h, ""));
	REJECT(fmt("%s.%s.", h, p));
	/* Surrounding white space is not stripped. */
	REJECT(fmt(" %s", tok));
	REJECT(fmt("%s ", tok));
	REJECT(fmt("%s\n", tok));
}

/* The index of c in the base64url alphabet. */
static int b64_index(char c)
{
	const char *at = strchr(B64_ALPHABET, c);
	assert_non_null(at);
	return (int)(at - B64_ALPHABET);
}

/* s with its last character changed so that one of the unused low bits is
 * set: the same bytes under a lenient decoder, not canonical base64. */
static char *set_trailing_bit(const char *s, int unused_bits)
{
	char *t = fmt("%s", s);
	size_t n = strlen(t);
	int v = b64_index(t[n - 1]);
	assert_int_equal(v & ((1 << unused_bits) - 1), 0);
	t[n - 1] = B64_ALPHABET[v | 1];
	return t;
}

static void test_jwt_base64_strictness(void **state)
{
	(void)state;
	/* A payload whose length leaves bits over (n % 3 == 1: 4 unused bits). */
	const char *payload_fmt = "{\"sub\":\"user_1\",\"iat\":1699999990,\"exp\":1700000900,"
				  "\"jti\":\"%s\",\"ver\":3}";
	char *payload = NULL;
	for (int pad = 0; pad < 3; pad++) {
		payload = fmt(payload_fmt, fmt("j%.*s", pad, "xx"));
		if (strlen(payload) % 3 == 1)
			break;
	}
	assert_int_equal(strlen(payload) % 3, 1);
	char *h = b64s(STD_HEADER), *p = b64s(payload);
	ACCEPT(sign_parts(&key, h, p));

	/* Padding, under a valid signature of exactly those characters. */
	REJECT(sign_parts(&key, h, fmt("%s==", p)));
	REJECT(sign_parts(&key, h, fmt("%s=", p)));
	REJECT(sign_parts(&key, fmt("%s=", h), p));
	char *h2, *p2, *s2;
	split(sign_parts(&key, h, p), &h2, &p2, &s2);
	REJECT(fmt("%s.%s.%s=", h, p, s2));

	/* Non-canonical trailing bits: the payload (4 unused bits) and the
	 * signature (32 bytes in 43 characters: 2 unused bits). */
	REJECT(sign_parts(&key, h, set_trailing_bit(p, 4)));
	assert_mentions(REJECT(fmt("%s.%s.%s", h, p, set_trailing_bit(s2, 2))), "signature");

	/* The standard alphabet's '+' and '/' in place of '-' and '_'.  Find
	 * tokens whose parts hold each, by varying the jti. */
	bool done_payload = false, done_sig = false;
	for (int i = 0; i < 5000 && !(done_payload && done_sig); i++) {
		char *tok = sign_with("jti", fmt("\"%d~~~?>>\"", i));
		char *hh, *pp, *ss;
		split(tok, &hh, &pp, &ss);
		char *dash;
		if (!done_payload && (dash = strpbrk(pp, "-_"))) {
			*dash = *dash == '-' ? '+' : '/';
			REJECT(sign_parts(&key, hh, pp));
			done_payload = true;
		}
		if (!done_sig && (dash = strpbrk(ss, "-_"))) {
			*dash = *dash == '-' ? '+' : '/';
			assert_mentions(REJECT(fmt("%s.%s.%s", hh, pp, ss)), "signature");
			done_sig = true;
		}
	}
	assert_true(done_payload && done_sig);

	/* Characters outside any base64 alphabet. */
	REJECT(sign_parts(&key, h, fmt("%s*", p)));
	REJECT(sign_parts(&key, fmt("%s%%", h), p));
	REJECT(fmt("%s.%s.%s!", h, p, s2));
	/* An impossible length (4k + 1 characters). */
	REJECT(sign_parts(&key, h, fmt("%sA", p)));
}

static void test_jwt_signature_length(void **state)
{
	(void)state;
	char *h, *p, *s;
	split(sign_obj(&key, STD_HEADER, good_claims()), &h, &p, &s);
	unsigned char mac[64];
	hmac(&key, fmt("%s.%s", h, p), mac);
	memcpy(mac + 32, mac, 32);
	const size_t lens[] = { 0, 1, 31, 33, 48, 64 };
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
		REJECT(fmt("%s.%s.%s", h, p, b64(mac, lens[i])));
	assert_string_equal(b64(mac, 32), s);
	ACCEPT(fmt("%s.%s.%s", h, p, s));
	/* 31 bytes followed by the 32nd's characters cut short. */
	REJECT(fmt("%s.%s.%.42s", h, p, s));
}

static void test_jwt_tampering(void **state)
{
	(void)state;
	char *h, *p, *s;
	split(sign_obj(&key, STD_HEADER, good_claims()), &h, &p, &s);

	/* One character of the payload changed to another valid one. */
	char *bad = fmt("%s", p);
	bad[5] = bad[5] == 'A' ? 'B' : 'A';
	assert_mentions(REJECT(fmt("%s.%s.%s", h, bad, s)), "signature");
	/* Another token's payload under this signature. */
	json_t *c = good_claims();
	json_object_set_new(c, "sub", json_string("admin"));
	char *h2, *p2, *s2;
	split(sign_obj(&key, STD_HEADER, c), &h2, &p2, &s2);
	REJECT(fmt("%s.%s.%s", h, p2, s));
	/* A header with the same meaning but other bytes. */
	REJECT(fmt("%s.%s.%s", b64s("{\"typ\":\"JWT\",\"alg\":\"HS256\"}"), p, s));
	/* Signature bits flipped. */
	char *flipped = fmt("%s", s);
	flipped[0] = flipped[0] == 'A' ? 'B' : 'A';
	REJECT(fmt("%s.%s.%s", h, p, flipped));
}

static void test_jwt_not_json(void **state)
{
	(void)state;
	json_t *c = good_claims();
	char *claims = keep(json_dumps(c, JSON_COMPACT));
	json_decref(c);

	const char *not_objects[] = {
		"", "not json", "[\"HS256\"]", "\"HS256\"", "256", "null", "true",
		"{\"alg\":\"HS256\"", "{\"alg\":\"HS256\",}", "{'alg':'HS256'}",
	};
	for (size_t i = 0; i < sizeof not_objects / sizeof not_objects[0]; i++) {
		if (not_objects[i][0])
			REJECT(sign_json(&key, not_objects[i], claims));
		REJECT(sign_json(&key, STD_HEADER, not_objects[i]));
	}
	/* Duplicate keys, whichever copy is the good one. */
	REJECT(sign_json(&key, "{\"alg\":\"HS256\",\"alg\":\"none\"}", claims));
	REJECT(sign_json(&key, "{\"alg\":\"none\",\"alg\":\"HS256\"}", claims));
	REJECT(sign_json(&key, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"typ\":\"JWT\"}", claims));
	const char *dup_payloads[] = {
		"{\"sub\":\"user_1\",\"sub\":\"admin\",\"iat\":1699999990,\"exp\":1700000900,"
		"\"jti\":\"j\",\"ver\":3}",
		"{\"sub\":\"user_1\",\"iat\":1699999990,\"exp\":1700000900,\"exp\":9999999999,"
		"\"jti\":\"j\",\"ver\":3}",
		"{\"sub\":\"user_1\",\"iat\":1699999990,\"exp\":1700000900,\"jti\":\"j\","
		"\"ver\":3,\"ver\":4}",
	};
	for (size_t i = 0; i < sizeof dup_payloads / sizeof dup_payloads[0]; i++)
		REJECT(sign_json(&key, STD_HEADER, dup_payloads[i]));

	/* Anything after the object: more JSON, junk, a NUL byte and junk. */
	REJECT(sign_json(&key, STD_HEADER, fmt("%s{}", claims)));
	REJECT(sign_json(&key, STD_HEADER, fmt("%s x", claims)));
	REJECT(sign_json(&key, STD_HEADER " x", claims));
	size_t n = strlen(claims);
	char *with_nul = fmt("%sXjunk", claims);
	with_nul[n] = '\0';
	REJECT(sign_parts(&key, b64s(STD_HEADER), b64(with_nul, n + 5)));
	/* Not UTF-8. */
	REJECT(sign_json(&key, STD_HEADER,
			 "{\"sub\":\"user_1\",\"iat\":1699999990,\"exp\":1700000900,"
			 "\"jti\":\"j\xff\",\"ver\":3}"));
}

static void test_jwt_missing_claims(void **state)
{
	(void)state;
	const char *required[] = { "sub", "iat", "exp", "jti", "ver" };
	for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
		assert_mentions(REJECT(sign_with(required[i], NULL)), required[i]);
	REJECT(sign_json(&key, STD_HEADER, "{}"));
}

static void test_jwt_claim_types(void **state)
{
	(void)state;
	static const struct {
		const char *name, *value;
	} bad[] = {
		{ "sub", "42" }, { "sub", "null" }, { "sub", "\"\"" }, { "sub", "true" },
		{ "sub", "[\"user_1\"]" }, { "sub", "{\"id\":\"user_1\"}" },
		{ "jti", "7" }, { "jti", "\"\"" }, { "jti", "null" }, { "jti", "[]" },
		{ "iat", "\"1699999990\"" }, { "iat", "1699999990.0" }, { "iat", "1.7e9" },
		{ "iat", "true" }, { "iat", "null" },
		{ "exp", "\"1700000900\"" }, { "exp", "1700000900.5" }, { "exp", "null" },
		{ "exp", "{}" },
		{ "ver", "\"3\"" }, { "ver", "3.0" }, { "ver", "false" }, { "ver", "null" },
		{ "nbf", "\"0\"" }, { "nbf", "0.0" }, { "nbf", "null" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct error e = { { 0 } };
		struct jwt_claims c;
		char *tok = sign_with(bad[i].name, bad[i].value);
		if (jwt_verify(&key, tok, NOW, &c, &e) != -1 || !e.msg[0]) {
			print_error("%s = %s: accepted or no message\n", bad[i].name, bad[i].value);
			fail();
		}
	}
	/* Integers beyond 64 bits are not integers we can hold. */
	REJECT(sign_json(&key, STD_HEADER,
			 "{\"sub\":\"user_1\",\"iat\":1699999990,\"exp\":99999999999999999999,"
			 "\"jti\":\"j\",\"ver\":3}"));
	REJECT(sign_json(&key, STD_HEADER,
			 "{\"sub\":\"user_1\",\"iat\":1699999990,\"exp\":1700000900,"
			 "\"jti\":\"j\",\"ver\":1e400}"));
}

static void test_jwt_subject_and_jti(void **state)
{
	(void)state;
	const char *bad_subs[] = { "\"a b\"", "\"a/b\"", "\"a.b\"", "\"../x\"", "\"\\u00e9\"",
				   "\"user\\n\"", "\"user_1 \"", "\"a+b\"" };
	for (size_t i = 0; i < sizeof bad_subs / sizeof bad_subs[0]; i++)
		assert_mentions(REJECT(sign_with("sub", bad_subs[i])), "sub");

	char long_id[USER_ID_MAX + 2];
	memset(long_id, 'a', sizeof long_id - 1);
	long_id[USER_ID_MAX] = '\0';
	ACCEPT(sign_with("sub", fmt("\"%s\"", long_id)));
	long_id[USER_ID_MAX] = 'a';
	long_id[USER_ID_MAX + 1] = '\0';
	assert_mentions(REJECT(sign_with("sub", fmt("\"%s\"", long_id))), "sub");

	char long_jti[JWT_JTI_MAX + 2];
	memset(long_jti, 'j', sizeof long_jti - 1);
	long_jti[JWT_JTI_MAX] = '\0';
	ACCEPT(sign_with("jti", fmt("\"%s\"", long_jti)));
	long_jti[JWT_JTI_MAX] = 'j';
	long_jti[JWT_JTI_MAX + 1] = '\0';
	assert_mentions(REJECT(sign_with("jti", fmt("\"%s\"", long_jti))), "jti");
	/* 64 characters but more bytes. */
	char *wide = fmt("\"%s\\u00e9\"", fmt("%.*s", JWT_JTI_MAX - 1, long_jti));
	assert_mentions(REJECT(sign_with("jti", wide)), "jti");

	/* A NUL inside a claim string, escaped in the JSON. */
	REJECT(sign_with("sub", "\"user\\u0000admin\""));
	REJECT(sign_with("jti", "\"jti\\u0000x\""));
	REJECT(sign_with("sub", "\"\\u0000\""));
	REJECT(sign_obj(&key, "{\"alg\":\"HS256\\u0000x\",\"typ\":\"JWT\"}", good_claims()));
}

static void test_jwt_times(void **state)
{
	(void)state;
	assert_mentions(REJECT(sign_with("exp", "1700000000")), "expired");
	REJECT(sign_with("exp", "1699999999"));
	REJECT(sign_with("exp", "0"));
	REJECT(sign_with("exp", "-9223372036854775808"));
	REJECT(sign_with("iat", "1700000061"));
	REJECT(sign_with("iat", "9223372036854775807"));
	REJECT(sign_with("nbf", "1700000061"));
	REJECT(sign_with("nbf", "9223372036854775807"));

	/* exp at or before iat, with both otherwise in range. */
	json_t *c = good_claims();
	json_object_set_new(c, "iat", json_integer(NOW + 30));
	json_object_set_new(c, "exp", json_integer(NOW + 30));
	REJECT(sign_obj(&key, STD_HEADER, c));
	c = good_claims();
	json_object_set_new(c, "iat", json_integer(NOW + 30));
	json_object_set_new(c, "exp", json_integer(NOW + 29));
	REJECT(sign_obj(&key, STD_HEADER, c));
	c = good_claims();
	json_object_set_new(c, "iat", json_integer(NOW + 30));
	json_object_set_new(c, "exp", json_integer(NOW + 31));
	ACCEPT(sign_obj(&key, STD_HEADER, c));

	/* Extreme values that must not overflow anything. */
	c = good_claims();
	json_object_set_new(c, "iat", json_integer(INT64_MIN));
	json_object_set_new(c, "exp", json_integer(INT64_MAX));
	ACCEPT(sign_obj(&key, STD_HEADER, c));
	accept_at(&key, sign_obj(&key, STD_HEADER, good_claims()), NOW, NULL, __LINE__);
	reject_at(&key, sign_obj(&key, STD_HEADER, good_claims()), INT64_MAX, __LINE__);
	reject_at(&key, sign_with("iat", "0"), INT64_MIN, __LINE__);
}

static void test_jwt_length_limit(void **state)
{
	(void)state;
	/* Pad the claims until the token is exactly JWT_MAX_LEN, then one more. */
	char *at_limit = NULL, *over = NULL;
	char *pad = keep(calloc(JWT_MAX_LEN, 1));
	for (size_t n = 0; n < JWT_MAX_LEN && !(at_limit && over); n++) {
		memset(pad, 'p', n);
		pad[n] = '\0';
		char *tok = sign_with("pad", fmt("\"%s\"", pad));
		size_t len = strlen(tok);
		if (len == JWT_MAX_LEN)
			at_limit = tok;
		else if (len == JWT_MAX_LEN + 1)
			over = tok;
		else if (len > JWT_MAX_LEN + 1)
			break;
	}
	assert_non_null(at_limit);
	assert_non_null(over);
	ACCEPT(at_limit);
	assert_mentions(REJECT(over), "longer");

	char *huge = keep(malloc(1 << 20));
	memset(huge, 'A', (1 << 20) - 1);
	huge[(1 << 20) - 1] = '\0';
	huge[1000] = huge[2000] = '.';
	REJECT(huge);
}

/* ---- password policy --------------------------------------------------- */

#define HANGUL "\xed\x95\x9c"        /* 한: 3 bytes, the "other" kind */
#define EMOJI "\xf0\x9f\x98\x80"     /* 😀: 4 bytes */

static void policy_ok(const char *pw, const char *email, int line)
{
	struct error e = { { 0 } };
	if (password_policy_check(pw, email, &e) != 0) {
		print_error("line %d: \"%s\" refused: %s\n", line, pw, e.msg);
		fail();
	}
}

static void policy_bad(const char *pw, const char *email, int line)
{
	struct error e = { { 0 } };
	if (password_policy_check(pw, email, &e) != -1 || !e.msg[0]) {
		print_error("line %d: \"%s\" accepted or refused without a message\n", line, pw);
		fail();
	}
}

#define POLICY_OK(pw, email) policy_ok((pw), (email), __LINE__)
#define POLICY_BAD(pw, email) policy_bad((pw), (email), __LINE__)

/* n copies of s, kept. */
static char *repeat(const char *s, size_t n)
{
	size_t len = strlen(s);
	char *out = keep(malloc(len * n + 1));
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * len, s, len);
	out[len * n] = '\0';
	return out;
}

static void test_password_policy_length_and_kinds(void **state)
{
	(void)state;
	POLICY_OK("abcdefghi1", NULL);
	POLICY_OK("abcdefghiJ", NULL);
	POLICY_OK("abcdefghi!", NULL);
	POLICY_OK("ABCDEFGHI ", NULL);     /* a space is a character of the other kind */
	POLICY_BAD("abcdefgh1", NULL);     /* 9 */
	POLICY_BAD("", NULL);
	POLICY_BAD("abcdefghij", NULL);    /* one kind each */
	POLICY_BAD("ABCDEFGHIJ", NULL);
	POLICY_BAD("0123456789", NULL);
	POLICY_BAD("!@#$%^&*()", NULL);
	POLICY_BAD(repeat("a", 200), NULL);

	/* Characters, not bytes: 10 Hangul is 30 bytes but one kind; 9 and a digit
	 * is 10 characters of two kinds; 8 and a digit (25 bytes) is too short. */
	POLICY_BAD(repeat(HANGUL, 10), NULL);
	POLICY_OK(fmt("%s1", repeat(HANGUL, 9)), NULL);
	POLICY_BAD(fmt("%s1", repeat(HANGUL, 8)), NULL);
	POLICY_OK(fmt("%s1", repeat(EMOJI, 9)), NULL);
	POLICY_BAD(fmt("%s1", repeat(EMOJI, 8)), NULL);
	POLICY_OK(fmt("%s12345", repeat("\xc3\xa9", 5)), NULL);
	POLICY_BAD(fmt("%s1234", repeat("\xc3\xa9", 5)), NULL);
}

static void test_password_policy_bytes_and_encoding(void **state)
{
	(void)state;
	/* At most PASSWORD_MAX_BYTES bytes, whatever the characters. */
	POLICY_OK(repeat("aB", PASSWORD_MAX_BYTES / 2), NULL);
	POLICY_BAD(fmt("%sc", repeat("aB", PASSWORD_MAX_BYTES / 2)), NULL);
	POLICY_OK(fmt("%s1", repeat(HANGUL, (PASSWORD_MAX_BYTES - 1) / 3)), NULL);
	POLICY_BAD(fmt("%s12", repeat(HANGUL, (PASSWORD_MAX_BYTES - 1) / 3)), NULL);
	POLICY_BAD(repeat("aB", 100000), NULL);

	/* Control characters anywhere. */
	POLICY_BAD("abcdefghi1\t", NULL);
	POLICY_BAD("abcdefghi1\n", NULL);
	POLICY_BAD("abc\x01" "defghi1", NULL);
	POLICY_BAD("abcdefghi1\x1f", NULL);
	POLICY_BAD("abcdefghi1\x7f", NULL);
	POLICY_BAD("\x1b[0mabcdefghi1", NULL);

	/* Not UTF-8: stray bytes, overlong forms, surrogates, cut-short sequences. */
	POLICY_BAD("abcdefghi1\xff", NULL);
	POLICY_BAD("abcdefghi1\x80", NULL);
	POLICY_BAD("abcdefghi1\xc0\xaf", NULL);
	POLICY_BAD("abcdefghi1\xed\xa0\x80", NULL);
	POLICY_BAD("abcdefghi1\xe2\x82", NULL);
	POLICY_BAD("\xf4\x90\x80\x80" "abcdefghi1", NULL);
}

static void test_password_policy_email(void **state)
{
	(void)state;
	POLICY_BAD("kim.minjun@example.com", "kim.minjun@example.com");
	POLICY_BAD("Kim.MinJun@Example.COM", "kim.minjun@example.com");
	POLICY_OK("kim.minjun@example.com!", "kim.minjun@example.com");
	POLICY_OK("kim.minjun@example.com", "other@example.com");
	POLICY_OK("kim.minjun@example.com", NULL);
	POLICY_OK("kim.minjun@example.com", "");
}

/* ---- password hashing -------------------------------------------------- */

#define FAST_OPS 1ULL
#define FAST_MEMORY ((size_t)1 << 20)

static struct hasher *fast_hasher(unsigned long long ops, size_t memory, int concurrency)
{
	struct error e = { { 0 } };
	struct hasher *h = hasher_new(ops, memory, concurrency, &e);
	if (!h) {
		print_error("hasher_new: %s\n", e.msg);
		fail();
	}
	return h;
}

static int hasher_setup(void **state)
{
	struct error e = { { 0 } };
	*state = hasher_new(FAST_OPS, FAST_MEMORY, 2, &e);
	return *state ? 0 : -1;
}

static int hasher_teardown(void **state)
{
	hasher_free(*state);
	return free_kept(state);
}

static void hash_ok(struct hasher *h, const char *pw, char out[PASSWORD_HASH_MAX])
{
	struct error e = { { 0 } };
	memset(out, 0x55, PASSWORD_HASH_MAX);
	if (password_hash(h, pw, out, &e) != PASSWORD_OK) {
		print_error("password_hash: %s\n", e.msg);
		fail();
	}
	assert_true(memchr(out, '\0', PASSWORD_HASH_MAX) != NULL);
	assert_true(strncmp(out, "$argon2id$", 10) == 0);
}

static void test_hasher_hash_verify(void **state)
{
	struct hasher *h = *state;
	struct error e = { { 0 } };
	char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
	hash_ok(h, "correct horse 1", a);
	hash_ok(h, "correct horse 1", b);
	assert_string_not_equal(a, b);    /* salted */

	assert_int_equal(password_verify(h, a, "correct horse 1", &e), PASSWORD_OK);
	assert_int_equal(password_verify(h, b, "correct horse 1", &e), PASSWORD_OK);
	assert_int_equal(password_verify(h, a, "correct horse 2", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, a, "Correct horse 1", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, a, "correct horse 1 ", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, a, "", &e), PASSWORD_MISMATCH);

	/* No account, a disabled account, and strings that are not argon2id hashes. */
	assert_int_equal(password_verify(h, NULL, "correct horse 1", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "!", "correct horse 1", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "!", "!", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "", "", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "$argon2id$", "x", &e), PASSWORD_MISMATCH);
	assert_int_equal(password_verify(h, "$argon2id$v=19$m=1024,t=1,p=1$garbage$garbage",
					 "x", &e),
			 PASSWORD_MISMATCH);
	char truncated[PASSWORD_HASH_MAX];
	snprintf(truncated, sizeof truncated, "%.*s", (int)strlen(a) - 4, a);
	assert_int_equal(password_verify(h, truncated, "correct horse 1", &e), PASSWORD_MISMATCH);

	/* An argon2i hash of the right password is still not accepted. */
	char argon2i[crypto_pwhash_argon2i_STRBYTES];
	assert_int_equal(crypto_pwhash_argon2i_str(argon2i, "correct horse 1", 15, 3,
						   crypto_pwhash_argon2i_MEMLIMIT_MIN),
			 0);
	assert_int_equal(password_verify(h, argon2i, "correct horse 1", &e), PASSWORD_MISMATCH);

	/* Long and non-ASCII passwords. */
	char *longpw = repeat("aB3", PASSWORD_MAX_BYTES / 3);
	hash_ok(h, longpw, a);
	assert_int_equal(password_verify(h, a, longpw, &e), PASSWORD_OK);
	longpw[10] = 'x';
	assert_int_equal(password_verify(h, a, longpw, &e), PASSWORD_MISMATCH);
	hash_ok(h, HANGUL HANGUL "pw1", a);
	assert_int_equal(password_verify(h, a, HANGUL HANGUL "pw1", &e), PASSWORD_OK);
}

static void test_hasher_needs_rehash(void **state)
{
	struct hasher *h = *state;
	struct hasher *more_ops = fast_hasher(FAST_OPS + 1, FAST_MEMORY, 1);
	struct hasher *more_mem = fast_hasher(FAST_OPS, FAST_MEMORY * 2, 1);
	struct error e = { { 0 } };
	char a[PASSWORD_HASH_MAX], b[PASSWORD_HASH_MAX];
	hash_ok(h, "pw-one-2345", a);
	hash_ok(more_ops, "pw-one-2345", b);

	assert_false(password_needs_rehash(h, a));
	assert_true(password_needs_rehash(more_ops, a));
	assert_true(password_needs_rehash(more_mem, a));
	assert_true(password_needs_rehash(h, b));
	assert_false(password_needs_rehash(more_ops, b));
	assert_true(password_needs_rehash(h, "!"));
	assert_true(password_needs_rehash(h, ""));

	/* The parameters travel in the hash: any hasher verifies any hash. */
	assert_int_equal(password_verify(more_mem, a, "pw-one-2345", &e), PASSWORD_OK);
	assert_int_equal(password_verify(h, b, "pw-one-2345", &e), PASSWORD_OK);
	hasher_free(more_ops);
	hasher_free(more_mem);
}

static void test_hasher_rejects_parameters(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	assert_null(hasher_new(0, FAST_MEMORY, 1, &e));
	assert_true(e.msg[0] != '\0');
	memset(&e, 0, sizeof e);
	assert_null(hasher_new(FAST_OPS, 1024, 1, &e));
	assert_true(e.msg[0] != '\0');
	memset(&e, 0, sizeof e);
	assert_null(hasher_new(FAST_OPS, 0, 1, &e));
	assert_true(e.msg[0] != '\0');
	/* Above libsodium's ceiling: the first (decoy) hash fails, and nothing leaks. */
	memset(&e, 0, sizeof e);
	assert_null(hasher_new(FAST_OPS, (size_t)crypto_pwhash_argon2id_MEMLIMIT_MAX + 1, 1, &e));
	assert_true(e.msg[0] != '\0');
	memset(&e, 0, sizeof e);
	assert_null(hasher_new((unsigned long long)crypto_pwhash_argon2id_OPSLIMIT_MAX + 1,
			       FAST_MEMORY, 1, &e));
	assert_true(e.msg[0] != '\0');
	hasher_free(NULL);

	/* The smallest accepted memory works. */
	struct hasher *h = fast_hasher(FAST_OPS, crypto_pwhash_argon2id_MEMLIMIT_MIN, 1);
	char a[PASSWORD_HASH_MAX];
	hash_ok(h, "tiny-memory-1", a);
	assert_int_equal(password_verify(h, a, "tiny-memory-1", &e), PASSWORD_OK);
	hasher_free(h);
}

#define HASH_THREADS 6

struct hash_job {
	struct hasher *h;
	pthread_barrier_t *start;
	int index;
	int hashed, verified, rejected;   /* results, checked by the main thread */
	struct error e;
};

static void *hash_job_run(void *arg)
{
	struct hash_job *j = arg;
	char pw[32], other[32], hash[PASSWORD_HASH_MAX];
	snprintf(pw, sizeof pw, "thread-%d-password", j->index);
	snprintf(other, sizeof other, "thread-%d-passwore", j->index);
	pthread_barrier_wait(j->start);
	for (int round = 0; round < 3; round++) {
		if (password_hash(j->h, pw, hash, &j->e) != PASSWORD_OK)
			return NULL;
		j->hashed++;
		if (password_verify(j->h, hash, pw, &j->e) == PASSWORD_OK)
			j->verified++;
		if (password_verify(j->h, hash, other, &j->e) == PASSWORD_MISMATCH)
			j->rejected++;
	}
	return NULL;
}

static void test_hasher_concurrency_one(void **state)
{
	(void)state;
	/* One slot, many callers: every one queues and finishes correctly. */
	struct hasher *h = fast_hasher(FAST_OPS, FAST_MEMORY, 1);
	pthread_t tid[HASH_THREADS];
	struct hash_job jobs[HASH_THREADS];
	pthread_barrier_t start;
	assert_int_equal(pthread_barrier_init(&start, NULL, HASH_THREADS), 0);
	for (int i = 0; i < HASH_THREADS; i++) {
		memset(&jobs[i], 0, sizeof jobs[i]);
		jobs[i].h = h;
		jobs[i].start = &start;
		jobs[i].index = i;
		assert_int_equal(pthread_create(&tid[i], NULL, hash_job_run, &jobs[i]), 0);
	}
	for (int i = 0; i < HASH_THREADS; i++)
		pthread_join(tid[i], NULL);
	pthread_barrier_destroy(&start);
	hasher_free(h);
	for (int i = 0; i < HASH_THREADS; i++) {
		if (jobs[i].hashed != 3)
			print_error("thread %d: %s\n", i, jobs[i].e.msg);
		assert_int_equal(jobs[i].hashed, 3);
		assert_int_equal(jobs[i].verified, 3);
		assert_int_equal(jobs[i].rejected, 3);
	}
}

/* ---- identity ---------------------------------------------------------- */

static void email_is(const char *in, const char *want, int line)
{
	struct error e = { { 0 } };
	char out[EMAIL_MAX + 1];
	if (email_normalise(in, out, &e) != 0) {
		print_error("line %d: \"%s\" refused: %s\n", line, in, e.msg);
		fail();
	}
	if (strcmp(out, want) != 0) {
		print_error("line %d: \"%s\" became \"%s\", expected \"%s\"\n", line, in, out, want);
		fail();
	}
}

static void email_bad(const char *in, int line)
{
	struct error e = { { 0 } };
	char out[EMAIL_MAX + 1];
	if (email_normalise(in, out, &e) != -1 || !e.msg[0]) {
		print_error("line %d: \"%s\" accepted or refused without a message\n", line, in);
		fail();
	}
}

#define EMAIL_IS(in, want) email_is((in), (want), __LINE__)
#define EMAIL_BAD(in) email_bad((in), __LINE__)

static void test_email_normalise(void **state)
{
	(void)state;
	EMAIL_IS("kim@example.com", "kim@example.com");
	EMAIL_IS("  Kim.MinJun@Example.COM \t\r\n", "kim.minjun@example.com");
	EMAIL_IS("a+tag_1!#$%&'*/=?^`{|}~-@sub-1.example.co.kr",
		 "a+tag_1!#$%&'*/=?^`{|}~-@sub-1.example.co.kr");
	EMAIL_IS("x@a.b", "x@a.b");
	/* UTF-8 is kept as it is; only ASCII letters change case. */
	EMAIL_IS("Bj\xc3\x96rn@M\xc3\xbcller.DE", "bj\xc3\x96rn@m\xc3\xbcller.de");
	EMAIL_IS(HANGUL "@" HANGUL ".kr", HANGUL "@" HANGUL ".kr");

	/* Lengths: 64-byte local part, EMAIL_MAX bytes in all (after trimming). */
	char *local64 = repeat("l", 64);
	EMAIL_IS(fmt("%s@x.com", local64), fmt("%s@x.com", local64));
	EMAIL_BAD(fmt("%sl@x.com", local64));
	char *domain = fmt("%s.%s.%s.com", repeat("d", 63), repeat("e", 61), repeat("f", 59));
	char *max = fmt("%s@%s", local64, domain);
	assert_int_equal(strlen(max), EMAIL_MAX);
	EMAIL_IS(max, max);
	EMAIL_IS(fmt("  %s  ", max), max);
	EMAIL_BAD(fmt("%s@a%s", local64, domain));
}

static void test_email_rejections(void **state)
{
	(void)state;
	const char *bad[] = {
		"", "   ", "\t\n",
		"kim.example.com", "kim@@example.com", "a@b@example.com",
		"@example.com", "kim@", "kim@.", "kim@com",
		"k im@example.com", "\"kim\"@example.com", "kim<x>@example.com", "(kim)@example.com",
		"kim,lee@example.com", "kim;@example.com", "kim:x@example.com", "k[1]@example.com",
		"k\\m@example.com", "kim\x01@example.com", "kim\x7f@example.com",
		"\xff" "kim@example.com", "kim@ex\xff.com", "kim\xc0\xaf@example.com",
		"kim@exa mple.com", "kim@exam_ple.com", "kim@example.com/", "kim@exa!mple.com",
		"kim@.example.com", "kim@example..com", "kim@example.com.", "kim@example.",
		"kim@-example.com", "kim@example-.com", "kim@example.-com", "kim@example.com-",
		"kim@exa\tmple.com",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		email_bad(bad[i], __LINE__);
}

static void name_is(const char *in, const char *want, int line)
{
	struct error e = { { 0 } };
	char out[USER_NAME_MAX + 1];
	if (user_name_clean(in, out, &e) != 0) {
		print_error("line %d: \"%s\" refused: %s\n", line, in, e.msg);
		fail();
	}
	if (strcmp(out, want) != 0) {
		print_error("line %d: \"%s\" became \"%s\", expected \"%s\"\n", line, in, out, want);
		fail();
	}
}

static void name_bad(const char *in, int line)
{
	struct error e = { { 0 } };
	char out[USER_NAME_MAX + 1];
	if (user_name_clean(in, out, &e) != -1 || !e.msg[0]) {
		print_error("line %d: \"%s\" accepted or refused without a message\n", line, in);
		fail();
	}
}

#define NAME_IS(in, want) name_is((in), (want), __LINE__)
#define NAME_BAD(in) name_bad((in), __LINE__)

static void test_user_name_clean(void **state)
{
	(void)state;
	NAME_IS("Kim Min-jun", "Kim Min-jun");
	NAME_IS("  \t Kim  Min-jun \r\n", "Kim  Min-jun");
	NAME_IS("\xea\xb9\x80\xeb\xaf\xbc\xec\xa4\x80", "\xea\xb9\x80\xeb\xaf\xbc\xec\xa4\x80");

	/* At most 100 characters, counted as characters. */
	NAME_IS(repeat("n", USER_NAME_MAX_CHARS), repeat("n", USER_NAME_MAX_CHARS));
	NAME_BAD(repeat("n", USER_NAME_MAX_CHARS + 1));
	NAME_IS(repeat(HANGUL, USER_NAME_MAX_CHARS), repeat(HANGUL, USER_NAME_MAX_CHARS));
	NAME_BAD(repeat(HANGUL, USER_NAME_MAX_CHARS + 1));
	NAME_IS(repeat(EMOJI, USER_NAME_MAX_CHARS), repeat(EMOJI, USER_NAME_MAX_CHARS));
	NAME_BAD(repeat(EMOJI, USER_NAME_MAX_CHARS + 1));
	NAME_IS(fmt("   %s   ", repeat("n", USER_NAME_MAX_CHARS)), repeat("n", USER_NAME_MAX_CHARS));

	/* Control characters inside, and invalid UTF-8. */
	NAME_BAD("Kim\tMin");
	NAME_BAD("Kim\nMin");
	NAME_BAD("Kim\x01");
	NAME_BAD("Kim\x7f" "Min");
	NAME_BAD("\x1b[31mKim");
	NAME_BAD("Kim\xff");
	NAME_BAD("Kim\xc0\xaf");
	NAME_BAD("Kim\xed\xa0\x80");
	NAME_BAD("Kim\xe2\x82");
}

/* ---- signing key and refresh tokens ------------------------------------ */

struct key_fx {
	char dir[64];
	char path[128];
	unsigned char *key;
	size_t len;
	const char *note;
};

static int key_setup(void **state)
{
	struct key_fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/sheaf-test-auth.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/%s", f->dir, SIGNING_KEY_FILE);
	*state = f;
	return 0;
}

static int key_teardown(void **state)
{
	struct key_fx *f = *state;
	if (f) {
		free(f->key);
		rm_rf(f->dir);
		free(f);
	}
	return free_kept(state);
}

static int load_key(struct key_fx *f, const char *configured, struct error *e)
{
	free(f->key);
	f->key = NULL;
	f->note = "unset";
	memset(e, 0, sizeof *e);
	return signing_key_load(configured, f->dir, &f->key, &f->len, &f->note, e);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static char *read_text(const char *path)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	char *buf = keep(calloc(1, 256));
	size_t n = fread(buf, 1, 255, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

static void test_signing_key_configured(void **state)
{
	struct key_fx *f = *state;
	struct error e;
	const char *secret = "a configured secret of more than thirty-two bytes";
	assert_int_equal(load_key(f, secret, &e), 0);
	assert_int_equal(f->len, strlen(secret));
	assert_memory_equal(f->key, secret, f->len);
	assert_null(f->note);
	/* Nothing was written to the data dir. */
	assert_int_equal(access(f->path, F_OK), -1);
	/* An empty configured secret means none. */
	assert_int_equal(load_key(f, "", &e), 0);
	assert_int_equal(f->len, SIGNING_KEY_BYTES);
	assert_int_equal(access(f->path, F_OK), 0);
}

static void test_signing_key_file_made_then_read(void **state)
{
	struct key_fx *f = *state;
	struct error e;
	assert_int_equal(load_key(f, NULL, &e), 0);
	assert_non_null(f->key);
	assert_int_equal(f->len, SIGNING_KEY_BYTES);
	assert_non_null(f->note);
	assert_true(strstr(f->note, "new") != NULL);

	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	char *text = read_text(f->path);
	assert_int_equal(strlen(text), 2 * SIGNING_KEY_BYTES + 1);
	assert_int_equal(strspn(text, "0123456789abcdef"), 2 * SIGNING_KEY_BYTES);
	assert_int_equal(text[2 * SIGNING_KEY_BYTES], '\n');
	unsigned char from_file[SIGNING_KEY_BYTES];
	assert_int_equal(sodium_hex2bin(from_file, sizeof from_file, text, 2 * SIGNING_KEY_BYTES,
					NULL, NULL, NULL),
			 0);
	assert_memory_equal(from_file, f->key, SIGNING_KEY_BYTES);

	unsigned char first[SIGNING_KEY_BYTES];
	memcpy(first, f->key, sizeof first);
	assert_int_equal(load_key(f, NULL, &e), 0);
	assert_int_equal(f->len, SIGNING_KEY_BYTES);
	assert_memory_equal(f->key, first, SIGNING_KEY_BYTES);
	assert_null(f->note);
	assert_string_equal(read_text(f->path), text);

	/* A key written by hand without the newline, or with CRLF, reads the same. */
	write_file(f->path, fmt("%.64s", text), 0600);
	assert_int_equal(load_key(f, NULL, &e), 0);
	assert_memory_equal(f->key, first, SIGNING_KEY_BYTES);
	write_file(f->path, fmt("%.64s\r\n", text), 0600);
	assert_int_equal(load_key(f, NULL, &e), 0);
	assert_memory_equal(f->key, first, SIGNING_KEY_BYTES);
	/* Upper-case hex is hex. */
	char *upper = fmt("%s", text);
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	write_file(f->path, upper, 0600);
	assert_int_equal(load_key(f, NULL, &e), 0);
	assert_memory_equal(f->key, first, SIGNING_KEY_BYTES);
}

static void test_signing_key_remade_after_removal(void **state)
{
	struct key_fx *f = *state;
	struct error e;
	assert_int_equal(load_key(f, NULL, &e), 0);
	unsigned char first[SIGNING_KEY_BYTES];
	memcpy(first, f->key, sizeof first);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(load_key(f, NULL, &e), 0);
	assert_non_null(f->note);
	assert_memory_not_equal(f->key, first, SIGNING_KEY_BYTES);
}

static void test_signing_key_corrupt(void **state)
{
	struct key_fx *f = *state;
	struct error e;
	char hex64[2 * SIGNING_KEY_BYTES + 1];
	memset(hex64, 'a', sizeof hex64 - 1);
	hex64[sizeof hex64 - 1] = '\0';
	const char *bad[] = {
		"",
		"\n",
		"abc\n",
		fmt("%.63s\n", hex64),
		fmt("%sa\n", hex64),
		fmt("%saa", hex64),
		fmt("%.63sz\n", hex64),
		fmt("%.62s \n", hex64),
		fmt(" %.63s\n", hex64),
		fmt("%.32s\n%.31s\n", hex64, hex64),
		fmt("%s%s\n", hex64, hex64),
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_file(f->path, bad[i], 0600);
		if (load_key(f, NULL, &e) != -1) {
			print_error("key file %zu (\"%s\") accepted\n", i, bad[i]);
			fail();
		}
		assert_null(f->key);
		assert_mentions(e.msg, f->path);
		/* The bad file is left for the operator to look at. */
		assert_string_equal(read_text(f->path), bad[i]);
	}

	/* A directory or a symlink in its place is not a key file. */
	assert_int_equal(unlink(f->path), 0);
	char *target = fmt("%s/real-key", f->dir);
	write_file(target, fmt("%s\n", hex64), 0600);
	assert_int_equal(symlink(target, f->path), 0);
	assert_int_equal(load_key(f, NULL, &e), -1);
	assert_mentions(e.msg, f->path);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0700), 0);
	assert_int_equal(load_key(f, NULL, &e), -1);
	assert_mentions(e.msg, f->path);
	assert_int_equal(rmdir(f->path), 0);

	/* A data dir path too long to hold the file name. */
	char *deep = keep(malloc(5000));
	memset(deep, 'd', 4999);
	deep[0] = '/';
	deep[4999] = '\0';
	unsigned char *k2 = NULL;
	size_t len2 = 0;
	const char *note2 = NULL;
	memset(&e, 0, sizeof e);
	assert_int_equal(signing_key_load(NULL, deep, &k2, &len2, &note2, &e), -1);
	assert_null(k2);
	assert_true(e.msg[0] != '\0');

	/* A data dir that does not exist. */
	char *missing = fmt("%s/no/such/dir", f->dir);
	unsigned char *k = (unsigned char *)"x";
	size_t len = 0;
	const char *note = NULL;
	memset(&e, 0, sizeof e);
	assert_int_equal(signing_key_load(NULL, missing, &k, &len, &note, &e), -1);
	assert_null(k);
	assert_true(e.msg[0] != '\0');
}

static void test_signing_key_readable_by_others(void **state)
{
	struct key_fx *f = *state;
	struct error e;
	unsigned char want[SIGNING_KEY_BYTES];
	char hex[2 * SIGNING_KEY_BYTES + 1];
	for (size_t i = 0; i < sizeof want; i++)
		want[i] = (unsigned char)(i * 7 + 1);
	sodium_bin2hex(hex, sizeof hex, want, sizeof want);
	const mode_t modes[] = { 0640, 0604, 0644, 0660 };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		write_file(f->path, fmt("%s\n", hex), modes[i]);
		assert_int_equal(load_key(f, NULL, &e), 0);
		assert_memory_equal(f->key, want, SIGNING_KEY_BYTES);
		assert_non_null(f->note);
		assert_true(strstr(f->note, "chmod") != NULL);
	}
	write_file(f->path, fmt("%s\n", hex), 0400);
	assert_int_equal(load_key(f, NULL, &e), 0);
	assert_memory_equal(f->key, want, SIGNING_KEY_BYTES);
	assert_null(f->note);
}

#define KEY_THREADS 8

struct key_job {
	const char *dir;
	pthread_barrier_t *start;
	unsigned char *key;
	size_t len;
	const char *note;
	int rc;
	struct error e;
};

static void *key_job_run(void *arg)
{
	struct key_job *j = arg;
	pthread_barrier_wait(j->start);
	j->rc = signing_key_load(NULL, j->dir, &j->key, &j->len, &j->note, &j->e);
	return NULL;
}

static void test_signing_key_race(void **state)
{
	struct key_fx *f = *state;
	/* Servers starting at once on one data dir all end up with one key. */
	for (int round = 0; round < 5; round++) {
		unlink(f->path);
		pthread_t tid[KEY_THREADS];
		struct key_job jobs[KEY_THREADS];
		pthread_barrier_t start;
		assert_int_equal(pthread_barrier_init(&start, NULL, KEY_THREADS), 0);
		for (int i = 0; i < KEY_THREADS; i++) {
			memset(&jobs[i], 0, sizeof jobs[i]);
			jobs[i].dir = f->dir;
			jobs[i].start = &start;
			assert_int_equal(pthread_create(&tid[i], NULL, key_job_run, &jobs[i]), 0);
		}
		for (int i = 0; i < KEY_THREADS; i++)
			pthread_join(tid[i], NULL);
		pthread_barrier_destroy(&start);
		int made = 0, failed = 0;
		for (int i = 0; i < KEY_THREADS; i++) {
			if (jobs[i].rc != 0) {
				print_error("round %d thread %d: %s\n", round, i, jobs[i].e.msg);
				failed++;
				continue;
			}
			made += jobs[i].note != NULL;
			if (memcmp(jobs[i].key, jobs[0].key, SIGNING_KEY_BYTES) != 0)
				failed++;
		}
		for (int i = 0; i < KEY_THREADS; i++)
			free(jobs[i].key);
		assert_int_equal(failed, 0);
		assert_int_equal(made, 1);
	}
	/* Only the key file is left: no temporary files. */
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	int entries = 0, key_files = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		entries++;
		key_files += strcmp(de->d_name, SIGNING_KEY_FILE) == 0;
	}
	closedir(d);
	assert_int_equal(entries, 1);
	assert_int_equal(key_files, 1);
}

static void test_refresh_tokens(void **state)
{
	(void)state;
	char a[REFRESH_TOKEN_CHARS + 1], b[REFRESH_TOKEN_CHARS + 1];
	refresh_token_new(a);
	refresh_token_new(b);
	assert_int_equal(strlen(a), REFRESH_TOKEN_CHARS);
	assert_int_equal(strspn(a, B64_ALPHABET), REFRESH_TOKEN_CHARS);
	assert_string_not_equal(a, b);
	assert_true(refresh_token_valid(a));
	assert_true(refresh_token_valid(b));
	/* 32 bytes: the last character carries 4 bits and 2 zero bits. */
	unsigned char raw[33];
	size_t n = 0;
	assert_int_equal(sodium_base642bin(raw, sizeof raw, a, strlen(a), NULL, &n, NULL, B64), 0);
	assert_int_equal(n, 32);

	assert_true(refresh_token_valid(repeat("A", 43)));
	assert_true(refresh_token_valid(fmt("%s-", repeat("_", 42))));
	assert_false(refresh_token_valid(repeat("A", 42)));
	assert_false(refresh_token_valid(repeat("A", 44)));
	assert_false(refresh_token_valid(""));
	const char *bad_chars[] = { "+", "/", "=", " ", ".", "\n", "\xc3\xa9", "~" };
	for (size_t i = 0; i < sizeof bad_chars / sizeof bad_chars[0]; i++) {
		char *t = fmt("%.*s%s", 43 - (int)strlen(bad_chars[i]), a, bad_chars[i]);
		assert_false(refresh_token_valid(t));
		t = fmt("%s%.*s", bad_chars[i], 43 - (int)strlen(bad_chars[i]), a);
		assert_false(refresh_token_valid(t));
	}
	assert_false(refresh_token_valid(fmt("%s ", a)));
	assert_false(refresh_token_valid(fmt(" %s", a)));

	char ha[REFRESH_HASH_CHARS + 1], ha2[REFRESH_HASH_CHARS + 1], hb[REFRESH_HASH_CHARS + 1];
	refresh_token_hash(a, ha);
	refresh_token_hash(a, ha2);
	refresh_token_hash(b, hb);
	assert_int_equal(strlen(ha), REFRESH_HASH_CHARS);
	assert_int_equal(strspn(ha, "0123456789abcdef"), REFRESH_HASH_CHARS);
	assert_string_equal(ha, ha2);
	assert_string_not_equal(ha, hb);
	/* It is plain SHA-256 (FIPS 180-2's "abc" vector). */
	refresh_token_hash("abc", ha);
	assert_string_equal(ha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
#define T(fn) cmocka_unit_test_teardown(fn, free_kept)
#define TH(fn) cmocka_unit_test_setup_teardown(fn, hasher_setup, hasher_teardown)
#define TK(fn) cmocka_unit_test_setup_teardown(fn, key_setup, key_teardown)
	const struct CMUnitTest tests[] = {
		T(test_jwt_round_trip),
		T(test_jwt_hand_made_tokens_verify),
		T(test_jwt_wrong_key),
		T(test_jwt_algorithm),
		T(test_jwt_type_and_crit),
		T(test_jwt_parts),
		T(test_jwt_base64_strictness),
		T(test_jwt_signature_length),
		T(test_jwt_tampering),
		T(test_jwt_not_json),
		T(test_jwt_missing_claims),
		T(test_jwt_claim_types),
		T(test_jwt_subject_and_jti),
		T(test_jwt_times),
		T(test_jwt_length_limit),
		T(test_password_policy_length_and_kinds),
		T(test_password_policy_bytes_and_encoding),
		T(test_password_policy_email),
		TH(test_hasher_hash_verify),
		TH(test_hasher_needs_rehash),
		T(test_hasher_rejects_parameters),
		T(test_hasher_concurrency_one),
		T(test_email_normalise),
		T(test_email_rejections),
		T(test_user_name_clean),
		TK(test_signing_key_configured),
		TK(test_signing_key_file_made_then_read),
		TK(test_signing_key_remade_after_removal),
		TK(test_signing_key_corrupt),
		TK(test_signing_key_readable_by_others),
		TK(test_signing_key_race),
		T(test_refresh_tokens),
	};
#undef T
#undef TH
#undef TK
	return cmocka_run_group_tests(tests, NULL, NULL);
}
