/*
 * Email and display-name rules; see identity.h.  Deliberately simpler than
 * RFC 5322 (no quoted local parts, comments or IP literals): these are
 * addresses people type into a sign-up form.
 */
#include "auth/identity.h"

#include <stdio.h>
#include <string.h>

#include "base/utf8.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* s without surrounding white space: *len bytes from the returned pointer. */
static const char *trim(const char *s, size_t *len)
{
	while (is_space(*s))
		s++;
	size_t n = strlen(s);
	while (n && is_space(s[n - 1]))
		n--;
	*len = n;
	return s;
}

static bool local_char_ok(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("\"(),:;<>@[\\]", c);
}

static bool domain_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

int email_normalise(const char *in, char out[EMAIL_MAX + 1], struct error *e)
{
	size_t n;
	const char *s = trim(in, &n);
	if (n == 0)
		return error_set(e, "must not be empty");
	if (n > EMAIL_MAX)
		return error_set(e, "must be at most %d bytes long", EMAIL_MAX);
	memcpy(out, s, n);
	out[n] = '\0';
	const char *at = strchr(out, '@');
	if (!at || strchr(at + 1, '@'))
		return error_set(e, "must look like name@example.com (one @)");
	size_t local_len = (size_t)(at - out);
	if (local_len == 0 || local_len > 64)
		return error_set(e, "the part before @ must be 1-64 bytes long");
	bool dot = false;
	for (char *p = out; *p;) {
		unsigned char c = (unsigned char)*p;
		size_t len = c < 0x80 ? 1 : utf8_seq(p);
		if (len == 0)
			return error_set(e, "must be valid UTF-8");
		if (c >= 'A' && c <= 'Z')
			*p = (char)(c - 'A' + 'a');
		c = (unsigned char)*p;
		if (p < at && c < 0x80 && !local_char_ok(c))
			return error_set(e, "must not contain spaces, quotes, brackets or control "
					    "characters");
		if (p > at && c < 0x80) {
			if (!domain_char_ok(c))
				return error_set(e, "the domain may hold only letters, digits, "
						    "hyphens and dots");
			if (c == '.') {
				if (p == at + 1 || p[1] == '\0' || p[1] == '.' || p[-1] == '-' ||
				    p[1] == '-')
					return error_set(e, "the domain has an empty or malformed part");
				dot = true;
			}
		}
		p += len;
	}
	if (!dot)
		return error_set(e, "the domain needs a dot, as in example.com");
	if (at[1] == '-' || out[n - 1] == '-')
		return error_set(e, "the domain has an empty or malformed part");
	return 0;
}

int user_name_clean(const char *in, char out[USER_NAME_MAX + 1], struct error *e)
{
	size_t n;
	const char *s = trim(in, &n);
	size_t chars = 0;
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return error_set(e, "must not contain control characters");
		size_t len = utf8_seq(s + i);
		if (len == 0)
			return error_set(e, "must be valid UTF-8");
		i += len;
		chars++;
	}
	if (chars > USER_NAME_MAX_CHARS || n > USER_NAME_MAX)
		return error_set(e, "must be at most %d characters long", USER_NAME_MAX_CHARS);
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}
