/* UTF-8 sequence checks; see utf8.h. */
#include "base/utf8.h"

size_t utf8_seqn(const char *str, size_t left)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;
	unsigned min;
	if (left == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	unsigned cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t utf8_seq(const char *s)
{
	/* A NUL ends the string and is not a continuation byte, so the
	 * check stops there before reading past it. */
	return utf8_seqn(s, 4);
}

size_t utf8_prefix(const char *s, size_t max)
{
	size_t used = 0;
	while (s[used]) {
		size_t n = utf8_seq(s + used);
		if (n == 0)
			n = 1;
		if (used + n > max)
			break;
		used += n;
	}
	return used;
}

bool utf8_valid(const char *s)
{
	while (*s) {
		size_t n = utf8_seq(s);
		if (!n)
			return false;
		s += n;
	}
	return true;
}
