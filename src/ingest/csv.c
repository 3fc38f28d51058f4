/*
 * Streaming CSV reader (see csv.h for what is accepted).
 *
 * One parser, parse(), works on contiguous bytes and consumes whole records
 * only; what is left (an unfinished record) waits in r->pend.  When nothing
 * waits, a feed is parsed in place, so most fields point straight into the
 * caller's data.  When something waits, the feed is appended to pend in
 * growing slices and pend is parsed again; as soon as the waiting record is
 * done, the rest of the feed is parsed in place again.  A record is parsed
 * again only when a slice could have ended it (it holds CR or LF), pend
 * has doubled, or pend has just grown past what a field in it may take, so
 * cutting a long record into small pieces stays cheap (except that a
 * quoted field with many line ends, fed a few bytes at a time, is parsed
 * again for each piece holding one).
 *
 * Field ends (delimiter, CR, LF; quotes do not matter inside unquoted
 * fields) come from a bit mask made with SSE2 for 64 bytes at a time, so a
 * short field costs a few bit operations; quoted fields are scanned with
 * memchr for '"'.  Only a quoted field with "" or bytes after its closing
 * quote is copied, into r->scratch.
 */
#include "ingest/csv.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "base/alloc.h"

static char sniff(const char *sample, size_t n);

#define SLICE_MIN 512   /* first slice appended to an unfinished record */

struct csv_reader {
	char delim;
	size_t max_field, max_fields;
	struct csv_callbacks cb;
	void *ctx;

	bool at_start;      /* the BOM is not decided yet */
	bool skip_lf;       /* the last record ended in CR: a LF next is its CRLF */
	size_t line;        /* line the next record starts on */

	char *pend;         /* unfinished record (or the sniff sample) */
	size_t pend_len, pend_cap;
	size_t pend_seen;   /* pend_len when it was last parsed */

	char *scratch;      /* unquoted copies of the current record's fields */
	size_t scratch_len, scratch_cap;

	struct csv_field *fields;
	size_t *soff;       /* scratch offset of fields[i] when its ptr is NULL */
	size_t fields_cap;

	bool failed;
	struct error err;
};

static void grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	*p = xrealloc(*p, c);
	*cap = c;
}

static void pend_append(struct csv_reader *r, const char *p, size_t n)
{
	if (n == 0)
		return;
	grow(&r->pend, &r->pend_cap, r->pend_len + n);
	memcpy(r->pend + r->pend_len, p, n);
	r->pend_len += n;
}

static void scratch_append(struct csv_reader *r, const char *p, size_t n)
{
	if (n == 0)
		return;
	grow(&r->scratch, &r->scratch_cap, r->scratch_len + n);
	memcpy(r->scratch + r->scratch_len, p, n);
	r->scratch_len += n;
}

/* Records the failure for good and copies it to e. */
static int fail(struct csv_reader *r, struct error *e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct csv_reader *r, struct error *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err.msg, sizeof r->err.msg, fmt, ap);
	va_end(ap);
	r->failed = true;
	return error_set(e, "%s", r->err.msg);
}

/* Finds delimiters and line ends 64 bytes at a time: m marks them in the
 * 64 bytes at blk, so the many short fields of a block cost one bit
 * operation each rather than a scan each. */
struct scan {
	const char *blk;   /* the block's start (b + n at first: no block yet) */
	uint64_t m;        /* bit i: blk[i] is the delimiter, CR or LF */
	const char *end;
	char delim;
};

static inline uint64_t block_mask(const char *p, char delim)
{
#ifdef __SSE2__
	const __m128i vd = _mm_set1_epi8(delim), vcr = _mm_set1_epi8('\r'),
		      vlf = _mm_set1_epi8('\n');
	uint64_t m = 0;
	for (int i = 0; i < 4; i++) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
		__m128i eq = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmpeq_epi8(v, vcr)),
					  _mm_cmpeq_epi8(v, vlf));
		m |= (uint64_t)(unsigned)_mm_movemask_epi8(eq) << (16 * i);
	}
	return m;
#else
	uint64_t m = 0;
	for (int i = 0; i < 64; i++)
		if (p[i] == delim || p[i] == '\r' || p[i] == '\n')
			m |= (uint64_t)1 << i;
	return m;
#endif
}

/* First delimiter, CR or LF at or after p, or NULL. */
static inline const char *scan_next(struct scan *s, const char *p)
{
	for (;;) {
		/* One unsigned comparison: p lies in the block (p before blk
		 * wraps around to a huge offset). */
		size_t off = (size_t)((uintptr_t)p - (uintptr_t)s->blk);
		if (off < 64) {
			uint64_t bits = s->m & (~(uint64_t)0 << off);
			if (bits)
				return s->blk + __builtin_ctzll(bits);
			p = s->blk + 64;
		}
		if (s->end - p < 64)
			break;
		s->blk = p;
		s->m = block_mask(p, s->delim);
	}
	for (; p < s->end; p++)
		if (*p == s->delim || *p == '\r' || *p == '\n')
			return p;
	return NULL;
}

/* Line ends in [p, p + n): LF, and CR not followed by LF. */
static size_t count_lines(const char *p, size_t n)
{
	size_t k = 0;
	if (n < 64) {   /* most quoted fields are short: skip the calls */
		for (size_t i = 0; i < n; i++)
			k += p[i] == '\n' || (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'));
		return k;
	}
	const char *end = p + n, *q = p;
	while ((q = memchr(q, '\n', (size_t)(end - q)))) {
		k++;
		q++;
	}
	q = p;
	while ((q = memchr(q, '\r', (size_t)(end - q)))) {
		q++;
		if (q == end || *q != '\n')
			k++;
	}
	return k;
}

static int add_field_slow(struct csv_reader *r, size_t nf, const char *ptr, size_t soff,
			  size_t len, size_t line, struct error *e)
{
	if (len > r->max_field)
		return fail(r, e, "line %zu: a field is longer than %zu bytes (max_field_bytes)",
			    line, r->max_field);
	if (nf >= r->max_fields)
		return fail(r, e, "line %zu: a record has more than %zu fields (max_fields)", line,
			    r->max_fields);
	/* nf == fields_cap < max_fields: the array never outgrows the limit. */
	size_t c = r->fields_cap * 2 < r->max_fields ? r->fields_cap * 2 : r->max_fields;
	r->fields = xrealloc(r->fields, c * sizeof *r->fields);
	r->soff = xrealloc(r->soff, c * sizeof *r->soff);
	r->fields_cap = c;
	r->fields[nf].ptr = ptr;
	r->fields[nf].len = len;
	r->soff[nf] = soff;
	return 0;
}

/* Stores field nf of the record on line; a field to be copied has ptr
 * NULL and its offset in scratch as soff (ptr is set when the record is
 * done).  The unquoted fast path in parse() inlines the common case. */
static int add_field(struct csv_reader *r, size_t nf, const char *ptr, size_t soff, size_t len,
		     size_t line, struct error *e)
{
	if (len > r->max_field || nf >= r->fields_cap)
		return add_field_slow(r, nf, ptr, soff, len, line, e);
	r->fields[nf].ptr = ptr;
	r->fields[nf].len = len;
	r->soff[nf] = soff;
	return 0;
}

/* Parses whole records in b[0, n) and sets *used to the bytes they took
 * (with the blank lines and a CRLF's LF after them).  With final, the end
 * of b ends the last record.  Returns 0 or -1 (e set). */
static int parse(struct csv_reader *r, const char *b, size_t n, bool final, size_t *used,
		 struct error *e)
{
	const char delim = r->delim;
	const size_t raw_max = 2 * r->max_field + 2;
	size_t pos = 0;
	struct scan sc = { b + n, 0, b + n, delim };
	/* Kept in locals: stores to fields could alias r's members. */
	const size_t maxlen = r->max_field;
	struct csv_field *fv = r->fields;
	size_t fcap = r->fields_cap;
	*used = 0;
	for (;;) {
		if (pos < n) {
			if (r->skip_lf && b[pos] == '\n')
				pos++;
			r->skip_lf = false;
		}
		/* Empty lines. */
		while (pos < n && (b[pos] == '\n' || b[pos] == '\r')) {
			r->line++;
			if (b[pos] == '\r') {
				if (pos + 1 == n) {
					r->skip_lf = true;
				} else if (b[pos + 1] == '\n') {
					pos++;
				}
			}
			pos++;
		}
		*used = pos;
		if (pos == n)
			return 0;

		const size_t start_line = r->line;
		size_t lines = 0, nf = 0;
		bool copied = false;
		r->scratch_len = 0;
		for (;;) {
			const char *end;   /* the delimiter, CR or LF ending the field, or b + n */
			if (pos < n && b[pos] == '"') {
				size_t q = pos + 1, seg = q;
				bool copy = false;
				size_t soff = r->scratch_len;
				const char *cq;
				for (;;) {
					cq = memchr(b + q, '"', n - q);
					if (!cq || (cq + 1 == b + n && !final)) {
						if (n - pos - 1 > raw_max)
							return fail(r, e,
								    "line %zu: a field is longer than %zu bytes (max_field_bytes)",
								    start_line, r->max_field);
						if (!final)
							return 0;
						return fail(r, e,
							    "line %zu: a quoted field is not closed at the end of the input",
							    start_line);
					}
					if (cq + 1 < b + n && cq[1] == '"') {
						copy = true;
						scratch_append(r, b + seg, (size_t)(cq + 1 - (b + seg)));
						q = seg = (size_t)(cq - b) + 2;
						continue;
					}
					break;
				}
				const char *t = cq + 1;
				end = scan_next(&sc, t);
				if (!end) {
					if (!final) {
						if (n - pos - 1 > raw_max)
							return fail(r, e,
								    "line %zu: a field is longer than %zu bytes (max_field_bytes)",
								    start_line, r->max_field);
						return 0;
					}
					end = b + n;
				}
				lines += count_lines(b + pos + 1, (size_t)(cq - (b + pos + 1)));
				if (end > t)
					copy = true;
				int rc;
				if (copy) {
					scratch_append(r, b + seg, (size_t)(cq - (b + seg)));
					scratch_append(r, t, (size_t)(end - t));
					copied = true;
					rc = add_field(r, nf, NULL, soff, r->scratch_len - soff, start_line,
						       e);
				} else {
					rc = add_field(r, nf, b + pos + 1, 0,
						       (size_t)(cq - (b + pos + 1)), start_line, e);
				}
				if (rc)
					return rc;
				fv = r->fields;
				fcap = r->fields_cap;
			} else {
				end = scan_next(&sc, b + pos);
				if (!end) {
					if (!final) {
						if (n - pos > r->max_field)
							return fail(r, e,
								    "line %zu: a field is longer than %zu bytes (max_field_bytes)",
								    start_line, r->max_field);
						return 0;
					}
					end = b + n;
				}
				size_t len = (size_t)(end - (b + pos));
				if (__builtin_expect(len > maxlen || nf >= fcap, 0)) {
					if (add_field_slow(r, nf, b + pos, 0, len, start_line, e))
						return -1;
					fv = r->fields;
					fcap = r->fields_cap;
				} else {
					fv[nf].ptr = b + pos;
					fv[nf].len = len;
				}
			}
			nf++;
			pos = (size_t)(end - b);
			if (pos < n && *end == delim) {
				pos++;
				if (pos == n && !final)
					return 0;
				continue;
			}
			break;
		}
		/* The record ends at a line end or, with final, at the end. */
		if (pos < n) {
			lines++;
			if (b[pos] == '\r')
				r->skip_lf = true;
			pos++;
		}
		r->line += lines;
		*used = pos;
		if (copied)
			for (size_t i = 0; i < nf; i++)
				if (!fv[i].ptr)
					fv[i].ptr = r->scratch + r->soff[i];
		if (r->cb.record && r->cb.record(r->ctx, fv, nf, start_line) != 0)
			return fail(r, e, "line %zu: stopped by the receiver", start_line);
	}
}

/* Parses data after the BOM and the sniffing. */
static int take(struct csv_reader *r, const char *data, size_t n, struct error *e)
{
	size_t used;
	while (n) {
		if (r->pend_len == 0) {
			if (parse(r, data, n, false, &used, e))
				return -1;
			pend_append(r, data + used, n - used);
			r->pend_seen = r->pend_len;
			return 0;
		}
		size_t old = r->pend_len;
		size_t k = old > SLICE_MIN ? old : SLICE_MIN;
		if (k > n)
			k = n;
		pend_append(r, data, k);
		data += k;
		n -= k;
		/* Parse again only if the slice could end the record, pend has
		 * doubled, or pend just became long enough for the field in it
		 * to be too long. */
		size_t raw_max = 2 * r->max_field + 2;
		if (r->pend_len < 2 * r->pend_seen && !(old <= raw_max && r->pend_len > raw_max) &&
		    !memchr(r->pend + old, '\n', k) && !memchr(r->pend + old, '\r', k))
			continue;
		if (parse(r, r->pend, r->pend_len, false, &used, e))
			return -1;
		if (used >= old) {
			/* The rest is from this feed: parse it in place. */
			size_t back = r->pend_len - used;
			data -= back;
			n += back;
			r->pend_len = 0;
			r->pend_seen = 0;
		} else {
			memmove(r->pend, r->pend + used, r->pend_len - used);
			r->pend_len -= used;
			r->pend_seen = r->pend_len;
		}
	}
	return 0;
}

int csv_reader_feed(struct csv_reader *r, const char *data, size_t n, struct error *e)
{
	if (r->failed)
		return error_set(e, "%s", r->err.msg);
	if (n == 0)
		return 0;
	while (r->at_start && n) {
		/* Collect up to 3 bytes in pend to decide on the BOM. */
		static const char bom[] = "\xEF\xBB\xBF";
		if (r->pend_len == 0 && n >= 3) {
			if (memcmp(data, bom, 3) == 0) {
				data += 3;
				n -= 3;
			}
			r->at_start = false;
			break;
		}
		pend_append(r, data, 1);
		data++;
		n--;
		if (memcmp(r->pend, bom, r->pend_len) != 0) {
			r->at_start = false;
		} else if (r->pend_len == 3) {
			r->pend_len = 0;
			r->at_start = false;
		}
	}
	if (r->at_start)
		return 0;
	if (!r->delim) {
		size_t k = CSV_SNIFF_BYTES - r->pend_len;
		if (k > n)
			k = n;
		pend_append(r, data, k);
		data += k;
		n -= k;
		if (r->pend_len < CSV_SNIFF_BYTES)
			return 0;
		r->delim = sniff(r->pend, r->pend_len);
		r->pend_seen = 0;   /* parse the sample with the next slice */
		if (n == 0) {
			size_t used;
			if (parse(r, r->pend, r->pend_len, false, &used, e))
				return -1;
			memmove(r->pend, r->pend + used, r->pend_len - used);
			r->pend_len -= used;
			r->pend_seen = r->pend_len;
			return 0;
		}
	}
	return take(r, data, n, e);
}

int csv_reader_finish(struct csv_reader *r, struct error *e)
{
	if (r->failed)
		return error_set(e, "%s", r->err.msg);
	r->at_start = false;
	if (!r->delim)
		r->delim = sniff(r->pend, r->pend_len);
	size_t used;
	if (parse(r, r->pend ? r->pend : "", r->pend_len, true, &used, e))
		return -1;
	r->pend_len = 0;
	return 0;
}

char csv_reader_delimiter(const struct csv_reader *r)
{
	return r->delim;
}

struct csv_reader *csv_reader_new(const struct csv_options *opt, const struct csv_callbacks *cb,
				  void *ctx)
{
	struct csv_options o = { 0 };
	if (opt)
		o = *opt;
	if (o.delimiter == '"' || o.delimiter == '\r' || o.delimiter == '\n')
		return NULL;
	struct csv_reader *r = xcalloc(1, sizeof *r);
	r->delim = o.delimiter;
	r->max_field = o.max_field_bytes ? o.max_field_bytes : CSV_DEFAULT_MAX_FIELD_BYTES;
	r->max_fields = o.max_fields ? o.max_fields : CSV_DEFAULT_MAX_FIELDS;
	if (cb)
		r->cb = *cb;
	r->ctx = ctx;
	r->at_start = true;
	r->line = 1;
	r->fields_cap = r->max_fields < 16 ? r->max_fields : 16;
	r->fields = xmalloc(r->fields_cap * sizeof *r->fields);
	r->soff = xmalloc(r->fields_cap * sizeof *r->soff);
	return r;
}

void csv_reader_free(struct csv_reader *r)
{
	if (!r)
		return;
	free(r->pend);
	free(r->scratch);
	free(r->fields);
	free(r->soff);
	free(r);
}

/* Field counts of up to SNIFF_RECORDS records of s with delimiter d. */
#define SNIFF_RECORDS 50

static size_t sniff_counts(const char *s, size_t n, char d, size_t *counts)
{
	size_t pos = 0, k = 0;
	while (k < SNIFF_RECORDS) {
		while (pos < n && (s[pos] == '\n' || s[pos] == '\r'))
			pos++;
		if (pos == n)
			break;
		size_t f = 1;
		bool done = false;
		while (pos < n && !done) {
			if (s[pos] == '"') {
				pos++;
				for (;;) {
					const char *q = memchr(s + pos, '"', n - pos);
					if (!q) {
						pos = n;
						break;
					}
					pos = (size_t)(q - s) + 1;
					if (pos < n && s[pos] == '"') {
						pos++;
						continue;
					}
					break;
				}
			}
			while (pos < n) {
				char c = s[pos++];
				if (c == d) {
					f++;
					break;
				}
				if (c == '\n' || c == '\r') {
					done = true;
					break;
				}
			}
		}
		if (!done && k > 0)
			break;   /* an unfinished last record */
		counts[k++] = f;
	}
	return k;
}

/* csv_sniff on a sample whose BOM is gone (a second one is data). */
static char sniff(const char *sample, size_t n)
{
	static const char order[] = { '\t', ';', '|', ',' };
	char best = ',';
	double best_score = -1;
	for (size_t c = 0; c < sizeof order; c++) {
		size_t counts[SNIFF_RECORDS];
		size_t k = sniff_counts(sample, n, order[c], counts);
		size_t mode = 0, freq = 0;
		for (size_t i = 0; i < k; i++) {
			size_t f = 0;
			for (size_t j = 0; j < k; j++)
				f += counts[j] == counts[i];
			if (f > freq || (f == freq && counts[i] > mode)) {
				freq = f;
				mode = counts[i];
			}
		}
		if (mode < 2)
			continue;
		double score = (double)freq / (double)k;
		if (score > best_score) {
			best_score = score;
			best = order[c];
		}
	}
	return best;
}

char csv_sniff(const char *sample, size_t n)
{
	if (n >= 3 && memcmp(sample, "\xEF\xBB\xBF", 3) == 0) {
		sample += 3;
		n -= 3;
	}
	return sniff(sample, n);
}
