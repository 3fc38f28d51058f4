/*
 * Cleaning client filenames for display, storage keys and download
 * headers; see filename.h.  Each function first builds the cleaned name in
 * a temporary as long as it needs (the input is bounded by whoever read it,
 * e.g. multipart's max_filename_bytes), then shortens it into out.
 */
#include "files/filename.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/utf8.h"

#define REPLACEMENT "\xef\xbf\xbd"   /* U+FFFD */

/* Characters a display name drops: the valid UTF-8 sequence s of n bytes. */
static bool dropped(const unsigned char *s, size_t n)
{
	if (n == 1)
		return s[0] < 0x20 || s[0] == 0x7f;
	if (n == 2)
		return (s[0] == 0xc2 && s[1] <= 0x9f) ||            /* C1 */
		       (s[0] == 0xd8 && s[1] == 0x9c);              /* U+061C */
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x80)
		return s[2] == 0x8e || s[2] == 0x8f ||              /* U+200E, U+200F */
		       (s[2] >= 0xa8 && s[2] <= 0xae);              /* U+2028-U+202E */
	if (n == 3 && s[0] == 0xe2 && s[1] == 0x81)
		return s[2] >= 0xa6 && s[2] <= 0xa9;                /* U+2066-U+2069 */
	return false;
}

static bool space_or_dot(char c)
{
	return c == ' ' || c == '.';
}

/* The length of the extension (".xxx") to keep when s (len bytes) is cut
 * to limit bytes: the last dot, not at the start, with 1 to
 * FILENAME_EXT_MAX bytes after it and room left for a stem; else 0. */
static size_t extension(const char *s, size_t len, size_t limit)
{
	for (size_t i = len; i-- > 1;) {
		if (len - i > FILENAME_EXT_MAX + 1)
			break;
		if (s[i] == '.')
			return i + 1 < len && len - i < limit ? len - i : 0;
	}
	return 0;
}

/* Copies "file", or as much of it as fits. */
static void fallback(char *out, size_t cap)
{
	size_t n = cap - 1 < 4 ? cap - 1 : 4;
	memcpy(out, "file", n);
	out[n] = '\0';
}

void filename_display(const char *given, char *out, size_t cap)
{
	if (!cap)
		return;
	size_t limit = cap - 1 < FILENAME_DISPLAY_MAX ? cap - 1 : FILENAME_DISPLAY_MAX;
	const char *base = given;
	for (const char *p = given; *p; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;

	char *tmp = xmalloc(3 * strlen(base) + 1);
	size_t len = 0;
	for (const char *p = base; *p;) {
		size_t n = utf8_seq(p);
		if (n == 0) {
			memcpy(tmp + len, REPLACEMENT, 3);
			len += 3;
			p++;
			continue;
		}
		if (!dropped((const unsigned char *)p, n)) {
			memcpy(tmp + len, p, n);
			len += n;
		}
		p += n;
	}
	tmp[len] = '\0';

	char *s = tmp;
	while (space_or_dot(*s))
		s++;
	len -= (size_t)(s - tmp);
	while (len && space_or_dot(s[len - 1]))
		len--;
	s[len] = '\0';

	size_t ext = 0, stem = len;
	if (len > limit) {
		ext = extension(s, len, limit);
		stem = utf8_prefix(s, limit - ext);
		while (stem && space_or_dot(s[stem - 1]))
			stem--;
		if (stem == 0 && ext) {
			/* No character of the stem fits: a bare ".ext" would lose
			 * its dot on the next cleaning, so keep the start instead. */
			ext = 0;
			stem = utf8_prefix(s, limit);
			while (stem && space_or_dot(s[stem - 1]))
				stem--;
		}
	}
	if (stem == 0) {
		fallback(out, cap);
	} else {
		memcpy(out, s, stem);
		memcpy(out + stem, s + len - ext, ext);
		out[stem + ext] = '\0';
	}
	free(tmp);
}

static bool storage_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

void filename_storage(const char *display, char *out, size_t cap)
{
	if (!cap)
		return;
	size_t limit = cap - 1 < FILENAME_STORAGE_MAX ? cap - 1 : FILENAME_STORAGE_MAX;
	char *tmp = xmalloc(strlen(display) + 1);
	size_t len = 0;
	for (const char *p = display; *p;) {
		size_t n = utf8_seq(p);
		char c = n == 1 && storage_char((unsigned char)*p) ? *p : '_';
		p += n ? n : 1;
		if ((c == '_' && len && tmp[len - 1] == '_') || (c == '.' && len == 0))
			continue;
		tmp[len++] = c;
	}
	tmp[len] = '\0';

	size_t ext = 0, stem = len;
	if (len > limit) {
		ext = extension(tmp, len, limit);
		stem = limit - ext;
	}
	if (stem == 0) {
		fallback(out, cap);
	} else {
		memcpy(out, tmp, stem);
		memcpy(out + stem, tmp + len - ext, ext);
		out[stem + ext] = '\0';
	}
	free(tmp);
}

/* RFC 5987 attr-char: what filename* may carry unencoded. */
static bool attr_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$&+-.^_`|~", c) != NULL);
}

static bool type_valid(const char *t)
{
	static const char tspecial[] = "()<>@,;:\\\"/[]?={} \t";
	size_t n = 0;
	for (; t[n]; n++) {
		unsigned char c = (unsigned char)t[n];
		if (c <= 0x20 || c >= 0x7f || strchr(tspecial, c))
			return false;
	}
	return n > 0 && n <= CONTENT_DISPOSITION_TYPE_MAX;
}

void content_disposition(const char *name, const char *type, char *out, size_t cap)
{
	if (!cap)
		return;
	if (!type || !type_valid(type))
		type = "attachment";
	char disp[FILENAME_DISPLAY_MAX + 1];
	filename_display(name, disp, sizeof disp);

	struct buf b;
	buf_init(&b, CONTENT_DISPOSITION_MAX);
	int rc = buf_puts(&b, type) | buf_puts(&b, "; filename=\"");
	bool plain = true;
	for (const char *p = disp; *p;) {
		size_t n = utf8_seq(p);   /* display names are valid UTF-8 */
		unsigned char c = (unsigned char)*p;
		if (n == 1 && c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%') {
			rc |= buf_append(&b, p, 1);
		} else {
			rc |= buf_append(&b, "_", 1);
			plain = false;
		}
		p += n ? n : 1;
	}
	rc |= buf_puts(&b, "\"");
	if (!plain) {
		static const char hex[] = "0123456789ABCDEF";
		rc |= buf_puts(&b, "; filename*=UTF-8''");
		for (const unsigned char *p = (const unsigned char *)disp; *p; p++) {
			char enc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			rc |= attr_char(*p) ? buf_append(&b, p, 1) : buf_append(&b, enc, 3);
		}
	}
	const char *value = rc == 0 && b.len < cap ? b.data : type;
	size_t n = strlen(value);
	if (n >= cap)
		n = 0;
	memcpy(out, value, n);
	out[n] = '\0';
	buf_free(&b);
}
