/*
 * Fuzz target: the CSV reader (ingest/csv.c).
 *
 * Input: byte 0 picks the delimiter (bits 0-2: sniffed, ',', ';', '\t',
 * '|', 'a', '#', ' ') and, in bit 3, tight limits (4-byte fields, 3 fields)
 * instead of the defaults; byte 1 seeds the piece sizes (1 to byte 1 % 64
 * + 1 bytes); byte 2 % 8 is the record whose callback stops the parse (0:
 * none); the rest is the CSV.  It is parsed whole, in pieces, and a byte at
 * a time when short: all runs must give the same records (hashed), the same
 * outcome and the same message.  Always: at least one field per record and
 * no more than the limit, no field longer than the limit, no more field
 * bytes in all than input bytes, line numbers increasing and never past the
 * input's line count, no callback after a failure, a failure that says why
 * and lasts; a sniffed delimiter is what csv_sniff says of the sample.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char delims[] = { 0, ',', ';', '\t', '|', 'a', '#', ' ' };

struct trace {
	uint64_t hash;
	size_t records, bytes, last_line, max_line;
	size_t stop_at;
	bool failed;
	const struct csv_options *o;
};

static void mix(struct trace *t, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++)
		t->hash = (t->hash ^ b[i]) * 1099511628211u;
}

static int on_record(void *ctx, const struct csv_field *f, size_t n, size_t line)
{
	struct trace *t = ctx;
	size_t maxf = t->o->max_fields ? t->o->max_fields : CSV_DEFAULT_MAX_FIELDS;
	size_t maxb = t->o->max_field_bytes ? t->o->max_field_bytes : CSV_DEFAULT_MAX_FIELD_BYTES;
	if (t->failed || n == 0 || n > maxf || line <= t->last_line || line > t->max_line)
		abort();
	t->last_line = line;
	mix(t, &line, sizeof line);
	mix(t, &n, sizeof n);
	for (size_t i = 0; i < n; i++) {
		if (!f[i].ptr || f[i].len > maxb)
			abort();
		t->bytes += f[i].len;
		mix(t, &f[i].len, sizeof f[i].len);
		mix(t, f[i].ptr, f[i].len);
	}
	return ++t->records == t->stop_at ? -1 : 0;
}

static const struct csv_callbacks callbacks = { on_record };

/* Parses in pieces (seed 0: whole); returns the outcome. */
static int run(const struct csv_options *o, const char *in, size_t size, unsigned seed,
	       size_t stop_at, size_t lines, struct trace *t)
{
	memset(t, 0, sizeof *t);
	t->hash = 14695981039346656037u;
	t->stop_at = stop_at;
	t->o = o;
	t->max_line = lines;
	struct csv_reader *r = csv_reader_new(o, &callbacks, t);
	if (!r)
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
			n = 1 + x % (seed % 64 + 1);
			if (n > size - at)
				n = size - at;
		}
		rc = csv_reader_feed(r, in + at, n, &e);
		at += n;
	}
	if (rc == 0)
		rc = csv_reader_finish(r, &e);
	if (t->bytes > size)
		abort();
	if (rc == 0 && csv_reader_delimiter(r) == 0 && o->delimiter == 0)
		abort();
	if (rc != 0) {
		bool stopped = strstr(e.msg, "stopped by the receiver") != NULL;
		if (!e.msg[0] || stopped != (stop_at && t->records == stop_at))
			abort();
		t->failed = true;
		struct error again = { { 0 } };
		if (csv_reader_feed(r, "a,b\n", 4, &again) != -1 || strcmp(again.msg, e.msg) != 0 ||
		    csv_reader_finish(r, NULL) != -1)
			abort();
	} else if (o->delimiter == 0) {
		/* The sniffed delimiter is csv_sniff's, on the sample after the BOM. */
		size_t skip = size >= 3 && memcmp(in, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		size_t n = size - skip < CSV_SNIFF_BYTES ? size - skip : CSV_SNIFF_BYTES;
		if (n < 3 || memcmp(in + skip, "\xEF\xBB\xBF", 3) != 0) {
			/* (csv_sniff would skip a second BOM; the reader keeps it as data) */
			char want = csv_sniff(in + skip, n);
			if (csv_reader_delimiter(r) != want || !strchr(",;\t|", want))
				abort();
		}
	}
	mix(t, &rc, sizeof rc);
	mix(t, e.msg, rc ? strlen(e.msg) : 0);
	csv_reader_free(r);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	struct csv_options o = { delims[data[0] & 7], 0, 0 };
	if (data[0] & 8) {
		o.max_field_bytes = 4;
		o.max_fields = 3;
	}
	unsigned seed = data[1];
	size_t stop_at = data[2] % 8;
	const char *in = (const char *)data + 3;
	size_t n = size - 3;

	/* Lines the input has: every record starts on one of them. */
	size_t lines = 1;
	for (size_t i = 0; i < n; i++)
		lines += in[i] == '\n' || (in[i] == '\r' && (i + 1 == n || in[i + 1] != '\n'));

	struct trace whole, pieces, bytewise;
	int rc = run(&o, in, n, 0, stop_at, lines, &whole);
	if (run(&o, in, n, seed ? seed : 1, stop_at, lines, &pieces) != rc ||
	    pieces.hash != whole.hash)
		abort();
	if (n <= 4096 && (run(&o, in, n, 64, stop_at, lines, &bytewise) != rc ||
			  bytewise.hash != whole.hash))
		abort();
	return 0;
}
