/*
 * Fuzz target: encoding detection and conversion (ingest/encoding.c).
 *
 * Input: byte 0 picks the source encoding (an override spelling), byte 1
 * seeds the piece sizes (1 to byte 1 % 32 + 1 bytes); the rest is the
 * stream.  It is converted whole, in pieces, and a byte at a time when
 * short: all runs must give the same output and the same outcome, message
 * (hence error offset) included.  Always: the output is valid UTF-8; a
 * failure says why; successful UTF-8 input comes out unchanged, less one
 * leading BOM (a second BOM is data, so the output may start with U+FEFF).  The stream is also given to
 * encoding_detect, whose answer must be a name a converter accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "ingest/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const froms[] = {
	"utf-8", "utf-8-sig", "cp949", "euc-kr", "utf-16", "utf-16le", "utf-16be",
	"utf-32le", "utf-32be", "latin-1", "iso-8859-1", "windows-1252",
};

static int utf8_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned b = p[i], lo = 0x80, hi = 0xBF;
		size_t len = b < 0x80 ? 1 : b < 0xC2 ? 0 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : b < 0xF5 ? 4 : 0;
		if (!len || i + len > n)
			return 0;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
		else if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
		for (size_t k = 1; k < len; k++) {
			if (p[i + k] < lo || p[i + k] > hi)
				return 0;
			lo = 0x80;
			hi = 0xBF;
		}
		i += len;
	}
	return 1;
}

/* Converts with pieces of `piece(i)` bytes; out gets the UTF-8 and, on
 * failure, "!" and the message. */
static int run(const char *from, const uint8_t *p, size_t n, unsigned seed, struct buf *out)
{
	struct error e = { { 0 } };
	buf_init(out, 4 * n + 1024);   /* 3 bytes per input byte at most, and the message */
	buf_puts(out, "");
	struct encoding_converter *c = encoding_converter_new(from, &e);
	if (!c)
		abort();
	int rc = 0;
	size_t at = 0, k = 0;
	while (at < n && rc == 0) {
		size_t len = seed == 0 ? n - at : seed == 1 ? 1 : 1 + (k++ * 7 + at) % seed;
		if (len > n - at)
			len = n - at;
		rc = encoding_convert(c, p + at, len, encoding_sink_buf, out, &e);
		at += len;
	}
	if (rc == 0)
		rc = encoding_finish(c, &e);
	size_t good = out->len;
	if (!utf8_valid((const unsigned char *)out->data, good))
		abort();
	if (rc) {
		if (!e.msg[0])
			abort();
		buf_printf(out, "!%s", e.msg);
	}
	encoding_converter_free(c);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const char *from = froms[data[0] % (sizeof froms / sizeof froms[0])];
	unsigned seed = data[1] % 32 + 1;
	const uint8_t *p = data + 2;
	size_t n = size - 2;

	struct buf whole, pieces;
	int rc = run(from, p, n, 0, &whole);
	run(from, p, n, seed + 1, &pieces);
	if (whole.len != pieces.len || memcmp(whole.data, pieces.data, whole.len) != 0)
		abort();
	if (n <= 512) {
		struct buf bytes;
		run(from, p, n, 1, &bytes);
		if (whole.len != bytes.len || memcmp(whole.data, bytes.data, whole.len) != 0)
			abort();
		buf_free(&bytes);
	}
	if (rc == 0 && strncmp(from, "utf-8", 5) == 0) {
		size_t bom = n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		if (whole.len != n - bom || memcmp(whole.data, p + bom, whole.len) != 0)
			abort();
	}
	buf_free(&whole);
	buf_free(&pieces);

	char name[ENCODING_NAME_MAX];
	struct error e = { { 0 } };
	if (encoding_detect(p, n, name, &e) == 0) {
		struct encoding_converter *c = encoding_converter_new(name, NULL);
		if (!c)
			abort();
		encoding_converter_free(c);
	} else if (!e.msg[0] || name[0]) {
		abort();
	}
	return 0;
}
