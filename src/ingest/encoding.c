/*
 * Encoding detection (BOM, UTF-8 validity, then uchardet) and streaming
 * conversion to UTF-8 (see encoding.h).
 *
 * Three converters sit behind one struct: UTF-8 is only validated and
 * passed through in slices of the caller's input; Windows-1252 is a table
 * (glibc's rejects the five undefined bytes, the WHATWG mapping we want
 * does not); CP949 and UTF-16/32 go through iconv, whose EINVAL ("the
 * input ends inside a character") tells us which tail to keep for the
 * next piece.  A character cut between pieces is completed in a small
 * staging buffer, so offsets and output do not depend on the cuts.
 */
#include "ingest/encoding.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <strings.h>

#include <uchardet/uchardet.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/dynlib.h"
#include "base/utf8.h"

/* uchardet, loaded on first use (base/dynlib.h): only a sample that is not
 * valid UTF-8 needs it, and it brings the C++ runtime.  Its functions
 * without the uchardet_ prefix; written once by dynlib_ready,
 * read-only after. */
static struct {
	__typeof__(uchardet_data_end) *data_end;
	__typeof__(uchardet_delete) *delete;
	__typeof__(uchardet_get_charset) *get_charset;
	__typeof__(uchardet_handle_data) *handle_data;
	__typeof__(uchardet_new) *new;
} U;

#ifndef SHEAF_UCHARDET_SONAME
#define SHEAF_UCHARDET_SONAME "libuchardet.so.0"
#endif

#define SYM(f) { "uchardet_" #f, &U.f }
static const struct dynlib_sym uchardet_syms[] = {
	SYM(data_end),
	SYM(delete),
	SYM(get_charset),
	SYM(handle_data),
	SYM(new),
};
#undef SYM
static struct dynlib_lazy uchardet_lib = DYNLIB_LAZY(SHEAF_UCHARDET_SONAME, uchardet_syms);

enum kind { KIND_UTF8, KIND_1252, KIND_ICONV, KIND_UTF16 /* BOM not seen yet */ };

struct encoding_converter {
	enum kind kind;
	char name[ENCODING_NAME_MAX];
	iconv_t cd;                  /* KIND_ICONV only */
	unsigned char pend[8];       /* start of a character cut by the end of a piece */
	size_t npend;
	unsigned long long in_total; /* bytes received before the current call */
	bool started;                /* a character has been output (the BOM rule) */
	bool failed;
	char msg[sizeof ((struct error *)0)->msg];
};

/* Override spellings and canonical names, to the canonical name. */
static const struct {
	const char *alias, *name;
} names[] = {
	{ "utf-8", "UTF-8" },        { "utf8", "UTF-8" },           { "utf-8-sig", "UTF-8" },
	{ "cp949", "CP949" },        { "euc-kr", "CP949" },         { "uhc", "CP949" },
	{ "utf-16", "UTF-16" },      { "utf-16le", "UTF-16LE" },    { "utf-16be", "UTF-16BE" },
	{ "utf-32le", "UTF-32LE" },  { "utf-32be", "UTF-32BE" },    { "latin-1", "WINDOWS-1252" },
	{ "latin1", "WINDOWS-1252" }, { "iso-8859-1", "WINDOWS-1252" },
	{ "windows-1252", "WINDOWS-1252" }, { "cp1252", "WINDOWS-1252" },
};

/* uchardet's answers that we can decode.  UTF-8 and ASCII are missing on
 * purpose: a sample that gets this far is not valid UTF-8. */
static const struct {
	const char *guess, *name;
} guesses[] = {
	{ "EUC-KR", "CP949" },     { "UHC", "CP949" },           { "CP949", "CP949" },
	{ "ISO-8859-1", "WINDOWS-1252" }, { "WINDOWS-1252", "WINDOWS-1252" },
	{ "UTF-16LE", "UTF-16LE" }, { "UTF-16BE", "UTF-16BE" },
	{ "UTF-32LE", "UTF-32LE" }, { "UTF-32BE", "UTF-32BE" },
};

/* Windows-1252 0x80-0x9F; the undefined 0x81, 0x8D, 0x8F, 0x90 and 0x9D
 * map to the C1 controls of the same value, as in WHATWG's table. */
static const unsigned short cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

/* Length (1-4) of the valid UTF-8 sequence at p, 0 if the bytes there are
 * not one, or -1 if all avail (>= 1) bytes are a valid start of one.
 * Overlongs, surrogates and code points past U+10FFFF are invalid. */
static int utf8_check(const unsigned char *p, size_t avail)
{
	unsigned b = p[0], lo = 0x80, hi = 0xBF;
	size_t len;
	if (b < 0x80)
		return 1;
	if (b < 0xC2)
		return 0;
	if (b < 0xE0) {
		len = 2;
	} else if (b < 0xF0) {
		len = 3;
		if (b == 0xE0)
			lo = 0xA0;
		else if (b == 0xED)
			hi = 0x9F;
	} else if (b < 0xF5) {
		len = 4;
		if (b == 0xF0)
			lo = 0x90;
		else if (b == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	for (size_t i = 1; i < len; i++) {
		if (i >= avail)
			return -1;
		if (p[i] < lo || p[i] > hi)
			return 0;
		lo = 0x80;
		hi = 0xBF;
	}
	return (int)len;
}

/* Offset of the first invalid byte of p, or n if it is all valid UTF-8
 * (a sequence cut by the end counts as valid). */
static size_t utf8_invalid_at(const unsigned char *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		int r = utf8_check(p + i, n - i);
		if (r == 0)
			return i;
		if (r < 0)
			break;
		i += (size_t)r;
	}
	return n;
}

static const char *canonical(const char *name)
{
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcasecmp(name, names[i].alias) == 0)
			return names[i].name;
	return NULL;
}

int encoding_normalize(const char *name, char out[ENCODING_NAME_MAX], struct error *e)
{
	const char *c = name ? canonical(name) : NULL;
	out[0] = '\0';
	if (!c)
		return error_set(e, "unknown encoding \"%.64s\"; use one of: %s", name ? name : "",
				 ENCODING_OVERRIDES);
	snprintf(out, ENCODING_NAME_MAX, "%s", c);
	return 0;
}

static int set_name(char out[ENCODING_NAME_MAX], const char *name)
{
	snprintf(out, ENCODING_NAME_MAX, "%s", name);
	return 0;
}

int encoding_detect(const void *sample, size_t n, char out[ENCODING_NAME_MAX], struct error *e)
{
	const unsigned char *p = sample;
	out[0] = '\0';
	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return set_name(out, "UTF-8");
	/* UTF-32LE before UTF-16LE: FF FE 00 00 would otherwise read as a
	 * UTF-16 BOM and a NUL, which no text file starts with. */
	if (n >= 4 && p[0] == 0xFF && p[1] == 0xFE && p[2] == 0 && p[3] == 0)
		return set_name(out, "UTF-32LE");
	if (n >= 4 && p[0] == 0 && p[1] == 0 && p[2] == 0xFE && p[3] == 0xFF)
		return set_name(out, "UTF-32BE");
	if (n >= 2 && p[0] == 0xFF && p[1] == 0xFE)
		return set_name(out, "UTF-16LE");
	if (n >= 2 && p[0] == 0xFE && p[1] == 0xFF)
		return set_name(out, "UTF-16BE");
	size_t bad = utf8_invalid_at(p, n);
	if (bad == n)
		return set_name(out, "UTF-8");

	struct error why;
	if (dynlib_ready(&uchardet_lib, &why) < 0)
		return error_set(e, "encoding detection failed (not UTF-8, and %s); pass an "
				 "encoding, one of: %s", why.msg, ENCODING_OVERRIDES);
	uchardet_t ud = U.new();
	if (!ud)
		return error_set(e, "encoding detection failed (out of memory)");
	int rc = U.handle_data(ud, (const char *)p, n);
	U.data_end(ud);
	const char *guess = U.get_charset(ud);
	char seen[32];
	snprintf(seen, sizeof seen, "%s", rc == 0 && guess ? guess : "");
	U.delete(ud);

	for (size_t i = 0; i < sizeof guesses / sizeof guesses[0]; i++)
		if (strcasecmp(seen, guesses[i].guess) == 0)
			return set_name(out, guesses[i].name);
	if (!seen[0] || strcasecmp(seen, "UTF-8") == 0 || strcasecmp(seen, "ASCII") == 0)
		return error_set(e,
				 "could not tell the encoding (not UTF-8: invalid byte 0x%02X at "
				 "byte offset %zu); pass an encoding, one of: %s",
				 p[bad], bad, ENCODING_OVERRIDES);
	return error_set(e, "the encoding looks like %s, which is not supported; pass an "
			 "encoding, one of: %s", seen, ENCODING_OVERRIDES);
}

int encoding_sink_buf(void *ctx, const char *p, size_t n)
{
	return buf_append(ctx, p, n);
}

struct encoding_converter *encoding_converter_new(const char *from, struct error *e)
{
	char name[ENCODING_NAME_MAX];
	if (encoding_normalize(from, name, e))
		return NULL;
	struct encoding_converter *c = xcalloc(1, sizeof *c);
	snprintf(c->name, sizeof c->name, "%s", name);
	c->cd = (iconv_t)-1;
	if (strcmp(name, "UTF-8") == 0) {
		c->kind = KIND_UTF8;
	} else if (strcmp(name, "WINDOWS-1252") == 0) {
		c->kind = KIND_1252;
	} else if (strcmp(name, "UTF-16") == 0) {
		c->kind = KIND_UTF16;
	} else {
		c->kind = KIND_ICONV;
		c->cd = iconv_open("UTF-8", name);
		if (c->cd == (iconv_t)-1) {
			error_set(e, "cannot convert from %s: %s", name, strerror(errno));
			free(c);
			return NULL;
		}
	}
	return c;
}

void encoding_converter_free(struct encoding_converter *c)
{
	if (!c)
		return;
	if (c->cd != (iconv_t)-1)
		iconv_close(c->cd);
	free(c);
}

const char *encoding_converter_name(const struct encoding_converter *c)
{
	return c->name;
}

static int fail(struct encoding_converter *c, struct error *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct encoding_converter *c, struct error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->msg, sizeof c->msg, fmt, ap);
	va_end(ap);
	c->failed = true;
	return error_set(e, "%s", c->msg);
}

static int fail_invalid(struct encoding_converter *c, struct error *e, unsigned long long at,
			unsigned char byte)
{
	return fail(c, e, "invalid %s input at byte offset %llu (byte 0x%02X)", c->name, at, byte);
}

/* Hands whole characters to the sink, dropping a BOM that starts the
 * output. */
static int emit(struct encoding_converter *c, const void *p, size_t n, encoding_sink sink,
		void *ctx, struct error *e)
{
	const unsigned char *u = p;
	if (n && !c->started) {
		c->started = true;
		if (n >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
			u += 3;
			n -= 3;
		}
	}
	if (n && sink(ctx, (const char *)u, n))
		return fail(c, e, "stopped by the receiver");
	return 0;
}

/* Bytes below 0x80 from p on (at most n): 16 at a time with SSE2. */
static size_t ascii_run(const unsigned char *p, size_t n)
{
	size_t i = 0;
#ifdef __SSE2__
	for (; i + 16 <= n; i += 16) {
		int mask = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)));
		if (mask)
			return i + (size_t)__builtin_ctz((unsigned)mask);
	}
#endif
	while (i < n && p[i] < 0x80)
		i++;
	return i;
}

static int convert_utf8(struct encoding_converter *c, const unsigned char *in, size_t n,
			encoding_sink sink, void *ctx, struct error *e)
{
	size_t i = 0;
	unsigned long long pstart = c->in_total - c->npend;
	while (c->npend) {
		int r = utf8_check(c->pend, c->npend);
		if (r == 0)
			return fail_invalid(c, e, pstart, c->pend[0]);
		if (r > 0) {
			if (emit(c, c->pend, c->npend, sink, ctx, e))
				return -1;
			c->npend = 0;
			break;
		}
		if (i == n)
			return 0;
		c->pend[c->npend++] = in[i++];
	}
	size_t start = i;
	/* Whole sequences up to the last one the chunk completes, checked at
	 * once; the byte-wise loop below then takes what is left (a sequence
	 * the next chunk ends), or finds where the bytes went wrong. */
	size_t whole = n;
	for (size_t k = 1; k <= 3 && k <= n - i; k++) {
		unsigned b = in[n - k];
		if (b < 0xC0)
			continue;
		size_t need = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
		if (need > k)
			whole = n - k;
		break;
	}
	if (whole > i && utf8_valid_n((const char *)in + i, whole - i))
		i = whole;
	while (i < n) {
		unsigned b = in[i];
		if (b < 0x80) {
			i += ascii_run(in + i, n - i);
			continue;
		}
		/* Hangul and most other BMP text: three bytes whose lead is not
		 * one of the two with narrowed ranges (E0, ED). */
		if (b >= 0xE1 && b <= 0xEF && b != 0xED && i + 2 < n && (in[i + 1] & 0xC0) == 0x80 &&
		    (in[i + 2] & 0xC0) == 0x80) {
			i += 3;
			continue;
		}
		int r = utf8_check(in + i, n - i);
		if (r > 0) {
			i += (size_t)r;
			continue;
		}
		if (emit(c, in + start, i - start, sink, ctx, e))
			return -1;
		if (r == 0)
			return fail_invalid(c, e, c->in_total + i, in[i]);
		memcpy(c->pend, in + i, n - i);   /* r < 0: fewer than 4 bytes */
		c->npend = n - i;
		return 0;
	}
	return emit(c, in + start, i - start, sink, ctx, e);
}

static int convert_1252(struct encoding_converter *c, const unsigned char *in, size_t n,
			encoding_sink sink, void *ctx, struct error *e)
{
	unsigned char out[4096];
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned u = in[i];
		if (u >= 0x80 && u < 0xA0)
			u = cp1252_high[u - 0x80];
		if (u < 0x80) {
			out[o++] = (unsigned char)u;
		} else if (u < 0x800) {
			out[o++] = (unsigned char)(0xC0 | u >> 6);
			out[o++] = (unsigned char)(0x80 | (u & 0x3F));
		} else {
			out[o++] = (unsigned char)(0xE0 | u >> 12);
			out[o++] = (unsigned char)(0x80 | (u >> 6 & 0x3F));
			out[o++] = (unsigned char)(0x80 | (u & 0x3F));
		}
		if (o > sizeof out - 3) {
			if (emit(c, out, o, sink, ctx, e))
				return -1;
			o = 0;
		}
	}
	return emit(c, out, o, sink, ctx, e);
}

/* Runs iconv over *left bytes at *inp, whose first byte is at stream offset
 * base, emitting as it goes.  Returns 0 with *left == 0, 0 with *left > 0
 * when the rest is a cut character, or -1 (failed). */
static int iconv_run(struct encoding_converter *c, const unsigned char **inp, size_t *left,
		     unsigned long long base, encoding_sink sink, void *ctx, struct error *e)
{
	const unsigned char *start = *inp;
	while (*left) {
		char out[4096];
		char *ip = (char *)*inp, *op = out;
		size_t ol = sizeof out;
		size_t r = iconv(c->cd, &ip, left, &op, &ol);
		int err = errno;
		*inp = (const unsigned char *)ip;
		if (emit(c, out, (size_t)(op - out), sink, ctx, e))
			return -1;
		if (r != (size_t)-1 || err == E2BIG)
			continue;
		if (err == EINVAL && *left < 8)
			return 0;
		return fail_invalid(c, e, base + (unsigned long long)(*inp - start), **inp);
	}
	return 0;
}

static int convert_iconv(struct encoding_converter *c, const unsigned char *in, size_t n,
			 encoding_sink sink, void *ctx, struct error *e)
{
	if (c->npend) {
		/* Finish the cut character from a copy: pend plus enough of in
		 * that at least one whole character follows it. */
		unsigned char st[16];
		size_t take = n < sizeof st - c->npend ? n : sizeof st - c->npend;
		memcpy(st, c->pend, c->npend);
		memcpy(st + c->npend, in, take);
		const unsigned char *ip = st;
		size_t left = c->npend + take;
		if (iconv_run(c, &ip, &left, c->in_total - c->npend, sink, ctx, e))
			return -1;
		size_t used = (size_t)(ip - st);
		if (used < c->npend) {
			/* Still cut: take was all of in.  Keep it all. */
			memmove(c->pend, st + used, left);
			c->npend = left;
			return 0;
		}
		in += used - c->npend;
		n -= used - c->npend;
		c->in_total += used - c->npend;
		c->npend = 0;
	}
	const unsigned char *ip = in;
	size_t left = n;
	if (iconv_run(c, &ip, &left, c->in_total, sink, ctx, e))
		return -1;
	memcpy(c->pend, ip, left);   /* a cut character: at most 3 bytes */
	c->npend = left;
	return 0;
}

int encoding_convert(struct encoding_converter *c, const void *in, size_t n, encoding_sink sink,
		     void *ctx, struct error *e)
{
	const unsigned char *p = in;
	if (c->failed)
		return error_set(e, "%s", c->msg);
	unsigned long long total = c->in_total + n;
	int rc = 0;
	if (c->kind == KIND_UTF16) {
		while (c->npend < 2 && n) {
			c->pend[c->npend++] = *p++;
			n--;
			c->in_total++;
		}
		if (c->npend < 2)
			return 0;
		bool be = c->pend[0] == 0xFE && c->pend[1] == 0xFF;
		snprintf(c->name, sizeof c->name, "%s", be ? "UTF-16BE" : "UTF-16LE");
		c->cd = iconv_open("UTF-8", c->name);
		if (c->cd == (iconv_t)-1)
			return fail(c, e, "cannot convert from %s: %s", c->name, strerror(errno));
		c->kind = KIND_ICONV;
	}
	switch (c->kind) {
	case KIND_UTF8:
		rc = convert_utf8(c, p, n, sink, ctx, e);
		break;
	case KIND_1252:
		rc = convert_1252(c, p, n, sink, ctx, e);
		break;
	default:
		rc = convert_iconv(c, p, n, sink, ctx, e);
		break;
	}
	c->in_total = total;
	return rc;
}

int encoding_finish(struct encoding_converter *c, struct error *e)
{
	if (c->failed)
		return error_set(e, "%s", c->msg);
	if (c->npend)
		return fail(c, e, "%s input ends inside a character (cut at byte offset %llu)",
			    c->name, c->in_total - c->npend);
	return 0;
}
