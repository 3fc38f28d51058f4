/*
 * Random ids from libsodium's CSPRNG (getrandom underneath), encoded as
 * unpadded base64url so they can sit in URLs and file names untouched.
 */
#include "base/id.h"

#include <sodium.h>
#include <string.h>

void id_random(char *out, size_t nbytes)
{
	unsigned char raw[64];
	if (nbytes > sizeof raw)
		nbytes = sizeof raw;
	randombytes_buf(raw, nbytes);
	sodium_bin2base64(out, ID_CHARS(nbytes), raw, nbytes,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

static bool chars_in(const char *s, size_t max, const char *extra)
{
	size_t n = 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (n >= max)
			return false;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
			continue;
		if (!strchr(extra, c))
			return false;
	}
	return n > 0;
}

bool id_session_valid(const char *s)
{
	return s && chars_in(s, SESSION_ID_MAX, "_-");
}

bool id_request_valid(const char *s)
{
	return s && chars_in(s, REQUEST_ID_MAX, "._:-");
}
