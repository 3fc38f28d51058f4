/*
 * Fuzz target: multipart/form-data bodies (http/multipart.c) and the
 * filename cleaners (files/filename.c) on what they contain.
 *
 * Input: byte 0 picks a boundary, byte 1 seeds the piece sizes (pieces of
 * 1 to byte 1 % 64 + 1 bytes), byte 2 picks the limits (bit 0: tight ones,
 * else bit 1: the defaults spelled out, else NULL) and, in bits 2-4, the
 * part_begin or part_end call (counting both) that stops the parse, if any;
 * the rest is the body.  The body is parsed whole, in pieces, and a byte
 * at a time when short: all runs must report the same parts, the same
 * bytes and the same outcome, messages included.  Always: begin and end
 * alternate, data comes only inside a part and never empty, no more data
 * than body, no callback after a failure, a failure says why and lasts,
 * success ends outside a part.  Every name and filename seen, and the body
 * itself as a string, go through filename_display, filename_storage and
 * content_disposition, whose outputs must keep their documented promises,
 * also with small buffers and the name as the disposition type; the body
 * is also tried as a Content-Type for multipart_boundary.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "blob/blob.h"
#include "files/filename.h"
#include "http/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const boundaries[] = {
	"b",
	"AaB03x",
	"----WebKitFormBoundary7MA4YWxkTrZu0gW",
	"x y'()+_,-./:=?z",
};

static const struct multipart_limits tight = { 64, 3, 8, 12 };
static const struct multipart_limits defaults = {
	MULTIPART_DEFAULT_HEADER_BYTES, MULTIPART_DEFAULT_PARTS, MULTIPART_DEFAULT_NAME_BYTES,
	MULTIPART_DEFAULT_FILENAME_BYTES
};

static void check_header(const char *h, size_t cap)
{
	if (strlen(h) >= cap)
		abort();
	for (const unsigned char *p = (const unsigned char *)h; *p; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();   /* no CR, LF or anything else a header must not carry */
}

/* Smaller buffers than the documented ones, and given as the type too. */
static void check_small(const char *given)
{
	size_t len = strlen(given), cap = 1 + len % 40;
	char small[41];
	filename_display(given, small, cap);
	if (strlen(small) >= cap || !utf8_valid(small) || strpbrk(small, "/\\\r\n"))
		abort();
	filename_storage(given, small, cap);
	if (strlen(small) >= cap || (small[0] && !blob_key_valid(small)))
		abort();
	char h[CONTENT_DISPOSITION_MAX + 1];
	content_disposition(given, given, h, sizeof h);
	check_header(h, sizeof h);
	if (strncmp(h, "attachment; ", 12) != 0 && (strncmp(h, given, len) != 0 || h[len] != ';'))
		abort();   /* the type given, if it is one, else attachment */
	cap = 1 + len % 200;
	content_disposition(given, NULL, h, cap);
	check_header(h, cap);
	if (h[0] && strncmp(h, "attachment", 10) != 0)
		abort();
}

static void check_names(const char *given)
{
	char d[FILENAME_DISPLAY_MAX + 1], again[FILENAME_DISPLAY_MAX + 1];
	filename_display(given, d, sizeof d);
	size_t n = strlen(d);
	if (n == 0 || n > FILENAME_DISPLAY_MAX || !utf8_valid(d) || d[0] == ' ' || d[0] == '.' ||
	    d[n - 1] == ' ' || d[n - 1] == '.')
		abort();
	for (const unsigned char *p = (const unsigned char *)d; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\' ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			abort();
	filename_display(d, again, sizeof again);
	if (strcmp(d, again) != 0)
		abort();   /* cleaning is idempotent */

	char s[FILENAME_STORAGE_MAX + 1];
	filename_storage(given, s, sizeof s);
	if (!blob_key_valid(s) || strlen(s) > FILENAME_STORAGE_MAX)
		abort();
	filename_storage(d, s, sizeof s);
	if (!blob_key_valid(s) || strlen(s) > FILENAME_STORAGE_MAX)
		abort();

	char h[CONTENT_DISPOSITION_MAX + 1];
	content_disposition(given, NULL, h, sizeof h);
	check_header(h, sizeof h);
	if (strncmp(h, "attachment; filename=\"", 22) != 0)
		abort();
	check_small(given);
}

struct trace {
	uint64_t hash;        /* FNV-1a over events and data, in order */
	bool in_part, failed;
	size_t begins, ends, bytes;
	size_t stop_at;       /* the begin or end callback that stops (1-based; 0: none) */
	const struct multipart_limits *lim;   /* what the callbacks check against */
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 1099511628211u;
}

static void mix_str(struct trace *t, const char *s)
{
	mix(t, s ? s : "\x01(null)", s ? strlen(s) + 1 : 8);
}

static int on_begin(void *ctx, const struct multipart_part *p)
{
	struct trace *t = ctx;
	if (t->failed || t->in_part || p->index != t->begins || !p->name)
		abort();
	if (strlen(p->name) > t->lim->max_name_bytes || !utf8_valid(p->name))
		abort();
	if (p->filename &&
	    (strlen(p->filename) > t->lim->max_filename_bytes || !utf8_valid(p->filename)))
		abort();
	if (p->content_type && !*p->content_type)
		abort();
	t->in_part = true;
	t->begins++;
	mix(t, "B", 1);
	mix_str(t, p->name);
	mix_str(t, p->filename);
	mix_str(t, p->content_type);
	check_names(p->name);
	if (p->filename)
		check_names(p->filename);
	return t->begins + t->ends == t->stop_at ? -1 : 0;
}

static int on_data(void *ctx, const char *p, size_t n)
{
	struct trace *t = ctx;
	if (t->failed || !t->in_part || n == 0 || !p)
		abort();
	t->bytes += n;
	mix(t, p, n);
	return 0;
}

static int on_end(void *ctx)
{
	struct trace *t = ctx;
	if (t->failed || !t->in_part)
		abort();
	t->in_part = false;
	t->ends++;
	mix(t, "E", 1);
	return t->begins + t->ends == t->stop_at ? -1 : 0;
}

static const struct multipart_callbacks callbacks = { on_begin, on_data, on_end };

/* Parses body in pieces (seed 0: whole) with lim (NULL: the defaults);
 * returns the outcome. */
static int run(const char *boundary, const struct multipart_limits *lim, const char *body,
	       size_t size, unsigned seed, size_t stop_at, struct trace *t)
{
	memset(t, 0, sizeof *t);
	t->stop_at = stop_at;
	t->hash = 14695981039346656037u;
	t->lim = lim ? lim : &defaults;
	struct multipart *mp = multipart_new(boundary, lim, &callbacks, t);
	if (!mp)
		abort();
	struct error e = { { 0 } };
	int rc = 0;
	uint32_t x = seed * 2654435761u + 1;
	for (size_t at = 0; at < size && rc == 0;) {
		size_t n = size - at;
		if (seed) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			size_t max = seed % 64 + 1;
			n = 1 + x % max;
			if (n > size - at)
				n = size - at;
		}
		rc = multipart_feed(mp, body + at, n, &e);
		at += n;
	}
	if (rc == 0)
		rc = multipart_finish(mp, &e);
	if (rc == 0 && (t->in_part || t->begins != t->ends))
		abort();
	if (rc != 0) {
		bool stopped = strstr(e.msg, "stopped by the receiver") != NULL;
		if (!e.msg[0] || stopped != (stop_at && t->begins + t->ends == stop_at))
			abort();
		t->failed = true;
		/* Failed for good, and quietly. */
		struct error again = { { 0 } };
		if (multipart_feed(mp, "\r\n", 2, &again) != -1 || strcmp(again.msg, e.msg) != 0 ||
		    multipart_finish(mp, NULL) != -1)
			abort();
	}
	if (t->bytes > size || t->ends > t->begins || t->begins > t->ends + 1)
		abort();
	mix(t, &rc, sizeof rc);
	mix_str(t, rc ? e.msg : "");
	multipart_free(mp);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	const char *boundary = boundaries[data[0] % (sizeof boundaries / sizeof *boundaries)];
	unsigned seed = data[1];
	const struct multipart_limits *lim = data[2] & 1 ? &tight : data[2] & 2 ? &defaults : NULL;
	size_t stop_at = (data[2] >> 2) & 7;
	const char *body = (const char *)data + 3;
	size_t n = size - 3;

	struct trace whole, pieces, bytewise;
	int rc = run(boundary, lim, body, n, 0, stop_at, &whole);
	if (run(boundary, lim, body, n, seed ? seed : 1, stop_at, &pieces) != rc ||
	    pieces.hash != whole.hash)
		abort();   /* the cut must not matter */
	if (n <= 512 && (run(boundary, lim, body, n, 64, stop_at, &bytewise) != rc ||
			 bytewise.hash != whole.hash))
		abort();

	/* The body as a client-supplied name and Content-Type. */
	char *s = malloc(n + 1);
	memcpy(s, body, n);
	s[n] = '\0';
	check_names(s);
	char b[MULTIPART_BOUNDARY_MAX + 1];
	if (multipart_boundary(s, b, sizeof b, NULL) == 0) {
		struct multipart *mp = multipart_new(b, NULL, NULL, NULL);
		if (!mp || !b[0] || strlen(b) > MULTIPART_BOUNDARY_MAX)
			abort();
		multipart_free(mp);
	} else if (b[0]) {
		abort();
	}
	free(s);
	return 0;
}
