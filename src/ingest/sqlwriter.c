/*
 * The SQLite file format, written directly for one append-only rowid table;
 * see sqlwriter.h for what the file holds and why this exists.
 *
 * Page order in the file follows allocation order, and every page is
 * written exactly once, at increasing offsets, through one output buffer:
 * a row's overflow chain is written when the row is appended (so a leaf's
 * overflow pages come before the leaf itself), a leaf when it is full, an
 * interior page when it is full or at the end.  Page 1 is reserved at the
 * start and written last.
 *
 * Interior levels are built while streaming: level L collects (child page,
 * largest rowid under it) pairs; every pair but the last becomes a cell
 * (child, key), the last becomes the right-most pointer.  When the next
 * cell does not fit, the page is written holding all pairs but the last
 * one and the new one, and those two start the next page.  Every interior
 * page therefore has at least two children (SQLite itself never leaves an
 * interior page without cells except page 1, and rejects such a root), and
 * at the end the partly filled page of each level is written and handed up
 * until a level holds a single child: that child is the root.
 */
#include "ingest/sqlwriter.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "base/alloc.h"
#include "base/bgwrite.h"

/* SQLite never reads a record header larger than this (OP_Column). */
#define MAX_HEADER_BYTES 98307
/* SQLite's default SQLITE_MAX_PAGE_COUNT (3.40). */
#define MAX_PAGE_COUNT 1073741823u
/* Fan-out is at least 30 (512-byte pages), so 2^32 pages need 7 levels. */
#define MAX_LEVELS 16
#define LEAF_TABLE 0x0d
#define INTERIOR_TABLE 0x05

#define BODY_SLACK 16

static uint32_t pending_byte = 0x40000000;

/* Pairs of one interior level being filled. */
struct level {
	uint32_t *child;
	int64_t *key;
	size_t n;
	size_t bytes;  /* page bytes used by the cells of pairs 0..n-2 */
	bool emitted;  /* a page of this level has been written */
};

struct sqlw {
	int fd;
	char *path;
	uint32_t usable;    /* U: page size (no reserved bytes) */
	uint32_t max_local; /* X = U - 35 */
	uint32_t min_local; /* M */
	char *table_name;
	char *create_sql;
	size_t ncols;
	int64_t rows;
	bool failed;

	uint8_t *leaf;      /* the leaf being filled */
	uint32_t leaf_ncell;
	uint32_t leaf_top;  /* start of its cell content area */

	struct bgwrite *io; /* writes full output buffers on a thread of its own */
	uint8_t *out;       /* pages not yet written, in page order (io's buffer) */
	size_t out_len, out_cap;
	uint32_t out_first; /* page number of out[0] */
	uint32_t next_pgno; /* next page number to allocate */
	uint32_t lock_pgno;

	struct level levels[MAX_LEVELS];
	size_t nlevels;

	/* The record being written: its header and each column's body length;
	 * for a row that spills, each body's bytes (in the row, or numbers
	 * encoded into num) for payload_copy. */
	uint8_t *hdr;       /* 9 + 9 * columns bytes */
	uint8_t *hdr_start; /* the header's first byte, inside hdr */
	size_t hdr_len;
	const uint8_t **part;
	size_t *part_len;
	uint8_t *num;
	/* record_build's body: max_local bytes and BODY_SLACK more, so that a
	 * number is stored 8 bytes at a time and a short text in two words. */
	uint8_t *body;
};

uint32_t sqlw_test_pending_byte(uint32_t offset)
{
	uint32_t old = pending_byte;
	pending_byte = offset;
	return old;
}

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* SQLite's varint: 7 bits a byte, big-endian, the ninth byte takes 8. */
static size_t varint_len(uint64_t v)
{
	if (v <= 0x7f)
		return 1;
	if (v >> 56)
		return 9;
	size_t n = 1;
	while (v >>= 7)
		n++;
	return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	if (v <= 0x7f) {
		p[0] = (uint8_t)v;
		return 1;
	}
	if (v <= 0x3fff) {
		p[0] = (uint8_t)((v >> 7) | 0x80);
		p[1] = (uint8_t)(v & 0x7f);
		return 2;
	}
	if (v >> 56) {
		p[8] = (uint8_t)v;
		v >>= 8;
		for (int i = 7; i >= 0; i--) {
			p[i] = (uint8_t)((v & 0x7f) | 0x80);
			v >>= 7;
		}
		return 9;
	}
	size_t n = varint_len(v);
	for (size_t i = n; i-- > 0;) {
		p[i] = (uint8_t)((v & 0x7f) | 0x80);
		v >>= 7;
	}
	p[n - 1] &= 0x7f;
	return n;
}

/* Hands the pages in out to the background writer and takes its next
 * buffer. */
static int flush_out(struct sqlw *w, struct error *e)
{
	if (w->out_len == 0)
		return 0;
	uint64_t off = (uint64_t)(w->out_first - 1) * w->usable;
	if (bgwrite_submit(w->io, w->out_len, off, e) < 0 || !(w->out = bgwrite_buffer(w->io, e))) {
		w->failed = true;
		return -1;
	}
	w->out_first += (uint32_t)(w->out_len / w->usable);
	w->out_len = 0;
	return 0;
}

/* The next page number (never the lock-byte page), or 0 on failure. */
static uint32_t alloc_page(struct sqlw *w, struct error *e)
{
	if (w->next_pgno == w->lock_pgno)
		w->next_pgno++;
	if (w->next_pgno > MAX_PAGE_COUNT) {
		w->failed = true;
		error_set(e, "%s: database would exceed %u pages", w->path, MAX_PAGE_COUNT);
		return 0;
	}
	return w->next_pgno++;
}

/*
 * The buffer slot for page pgno, which must be the next page to write
 * (pages are written in allocation order); a skipped lock-byte page before
 * it is written as zeros.
 */
static uint8_t *page_slot(struct sqlw *w, uint32_t pgno, struct error *e)
{
	for (;;) {
		if (w->out_len + w->usable > w->out_cap && flush_out(w, e))
			return NULL;
		uint8_t *slot = w->out + w->out_len;
		uint32_t at = w->out_first + (uint32_t)(w->out_len / w->usable);
		w->out_len += w->usable;
		if (at == pgno)
			return slot;
		/* Only the lock-byte page is ever skipped. */
		assert(at == w->lock_pgno && at < pgno);
		memset(slot, 0, w->usable);
	}
}

/* The 8 bytes of x, big-endian. */
static void put64(uint8_t *p, uint64_t x)
{
	x = __builtin_bswap64(x);
	memcpy(p, &x, 8);
}

/*
 * The record's header (serial types, as OP_MakeRecord computes them) and
 * each column's body length; *payload is the record's size.  The bodies
 * are written later, straight from the row, by record_body or through
 * record_parts and payload_copy.
 */
static int record_prepare(struct sqlw *w, const struct sqlw_value *row, size_t ncols,
			  uint64_t *payload, struct error *e)
{
	size_t hlen = 0;
	uint64_t body = 0;
	uint8_t *h = w->hdr + 9; /* room for the header-size varint */
	for (size_t c = 0; c < ncols; c++) {
		const struct sqlw_value *v = &row[c];
		uint64_t st;
		size_t len;
		switch (v->type) {
		case SQLW_NULL:
			st = 0;
			len = 0;
			break;
		case SQLW_INT: {
			uint64_t u = v->i < 0 ? ~(uint64_t)v->i : (uint64_t)v->i;
			if (v->i == 0 || v->i == 1) {
				st = 8 + (uint64_t)v->i;
				len = 0;
			} else if (u <= 127) {
				st = 1;
				len = 1;
			} else if (u <= 32767) {
				st = 2;
				len = 2;
			} else if (u <= 8388607) {
				st = 3;
				len = 3;
			} else if (u <= 2147483647) {
				st = 4;
				len = 4;
			} else if (u <= 0x7fffffffffffu) {
				st = 5;
				len = 6;
			} else {
				st = 6;
				len = 8;
			}
			break;
		}
		case SQLW_REAL:
			if (isnan(v->r)) {
				st = 0;
				len = 0;
			} else {
				st = 7;
				len = 8;
			}
			break;
		case SQLW_TEXT:
			if (v->len > SQLW_MAX_ROW_BYTES)
				return error_set(e, "text value of %zu bytes is too large", v->len);
			st = 2 * (uint64_t)v->len + 13;
			len = v->len;
			break;
		default:
			return error_set(e, "column %zu: bad value type %d", c, (int)v->type);
		}
		if (st <= 0x7f)
			h[hlen++] = (uint8_t)st;
		else
			hlen += put_varint(h + hlen, st);
		w->part_len[c] = len;
		body += len;
	}
	/* The header size counts its own varint. */
	size_t vl = 1;
	while (varint_len(hlen + vl) > vl)
		vl++;
	size_t total = hlen + vl;
	if (total > MAX_HEADER_BYTES)
		return error_set(e, "record header of %zu bytes is too large", total);
	w->hdr_start = w->hdr + 9 - vl;
	w->hdr_len = vl + hlen;
	put_varint(w->hdr_start, total);
	*payload = total + body;
	if (*payload > SQLW_MAX_ROW_BYTES)
		return error_set(e, "row of %llu bytes is too large", (unsigned long long)*payload);
	return 0;
}

/* The whole prepared record at dst: the common case, a row that fits on its leaf. */
static void record_write(const struct sqlw *w, const struct sqlw_value *row, size_t ncols,
			 uint8_t *dst)
{
	memcpy(dst, w->hdr_start, w->hdr_len);
	dst += w->hdr_len;
	for (size_t c = 0; c < ncols; c++) {
		const struct sqlw_value *v = &row[c];
		size_t len = w->part_len[c];
		switch (len ? v->type : SQLW_NULL) {
		case SQLW_INT: {
			uint64_t x = (uint64_t)v->i;
			for (size_t k = len; k-- > 0;) {
				dst[k] = (uint8_t)x;
				x >>= 8;
			}
			break;
		}
		case SQLW_REAL: {
			uint64_t x;
			memcpy(&x, &v->r, 8);
			put64(dst, x);
			break;
		}
		case SQLW_TEXT:
			memcpy(dst, v->s, len);
			break;
		default:
			break;
		}
		dst += len;
	}
}

/* Points each column's part at its body bytes, for payload_copy. */
static void record_parts(struct sqlw *w, const struct sqlw_value *row, size_t ncols)
{
	for (size_t c = 0; c < ncols; c++) {
		const struct sqlw_value *v = &row[c];
		uint8_t *nb = w->num + 8 * c;
		size_t len = w->part_len[c];
		if (v->type == SQLW_TEXT) {
			w->part[c] = (const uint8_t *)v->s;
		} else if (len > 0) {
			uint64_t x;
			if (v->type == SQLW_INT)
				x = (uint64_t)v->i;
			else
				memcpy(&x, &v->r, 8);
			put64(nb, x);
			w->part[c] = nb + 8 - len;
		}
	}
}

/* Where payload_copy is: the header is part 0, column c is part c + 1. */
struct cursor {
	size_t part;
	size_t off;
};

/* Copies the record's next n bytes to dst. */
static void payload_copy(const struct sqlw *w, struct cursor *cur, uint8_t *dst, size_t n)
{
	while (n > 0) {
		const uint8_t *src = cur->part ? w->part[cur->part - 1] : w->hdr_start;
		size_t len = cur->part ? w->part_len[cur->part - 1] : w->hdr_len;
		size_t k = len - cur->off;
		if (k > n)
			k = n;
		if (k > 0) {
			memcpy(dst, src + cur->off, k);
			dst += k;
			n -= k;
			cur->off += k;
		}
		if (cur->off == len) {
			cur->part++;
			cur->off = 0;
		}
	}
}

/* Bytes of a payload of p bytes kept on a table leaf page (the rest spills). */
static uint32_t local_size(const struct sqlw *w, uint64_t p)
{
	if (p <= w->max_local)
		return (uint32_t)p;
	uint32_t k = w->min_local + (uint32_t)((p - w->min_local) % (w->usable - 4));
	return k <= w->max_local ? k : w->min_local;
}

static size_t cell_size(int64_t rowid, uint64_t payload, uint32_t local)
{
	size_t n = varint_len(payload) + varint_len((uint64_t)rowid) + local;
	return local < payload ? n + 4 : n;
}

/*
 * Writes a table leaf cell for the prepared record to dst, and its overflow
 * chain (if any) to the next pages.
 */
static int cell_write(struct sqlw *w, uint8_t *dst, int64_t rowid, const struct sqlw_value *row,
		      size_t ncols, uint64_t payload, uint32_t local, struct error *e)
{
	dst += put_varint(dst, payload);
	dst += put_varint(dst, (uint64_t)rowid);
	if (local == payload) {
		record_write(w, row, ncols, dst);
		return 0;
	}
	struct cursor cur = {0, 0};
	record_parts(w, row, ncols);
	payload_copy(w, &cur, dst, local);
	uint64_t left = payload - local;
	uint32_t pgno = alloc_page(w, e);
	if (!pgno)
		return -1;
	put32(dst + local, pgno);
	while (left > 0) {
		uint32_t next = 0;
		size_t k = w->usable - 4;
		if (left > k) {
			next = alloc_page(w, e);
			if (!next)
				return -1;
		} else {
			k = (size_t)left;
		}
		uint8_t *page = page_slot(w, pgno, e);
		if (!page)
			return -1;
		put32(page, next);
		payload_copy(w, &cur, page + 4, k);
		if (k < w->usable - 4)
			memset(page + 4 + k, 0, w->usable - 4 - k);
		left -= k;
		pgno = next;
	}
	return 0;
}

/* Page header and cell pointers of a b-tree page at hdr (offset 100 on page 1). */
static void page_header(uint8_t *hdr, uint8_t type, uint32_t ncell, uint32_t top, uint32_t right)
{
	hdr[0] = type;
	put16(hdr + 1, 0);
	put16(hdr + 3, ncell);
	put16(hdr + 5, top == 65536 ? 0 : top);
	hdr[7] = 0;
	if (type == INTERIOR_TABLE)
		put32(hdr + 8, right);
}

static int level_add(struct sqlw *w, size_t l, uint32_t child, int64_t key, struct error *e);

/* Writes the interior page of level l made of its first cnt pairs. */
static int level_emit(struct sqlw *w, size_t l, size_t cnt, struct error *e)
{
	struct level *lv = &w->levels[l];
	assert(cnt >= 2);
	uint32_t pgno = alloc_page(w, e);
	if (!pgno)
		return -1;
	uint8_t *page = page_slot(w, pgno, e);
	if (!page)
		return -1;
	uint32_t top = w->usable;
	uint8_t *ptr = page + 12;
	for (size_t i = 0; i + 1 < cnt; i++) {
		uint8_t cell[13];
		put32(cell, lv->child[i]);
		size_t n = 4 + put_varint(cell + 4, (uint64_t)lv->key[i]);
		top -= (uint32_t)n;
		memcpy(page + top, cell, n);
		put16(ptr, top);
		ptr += 2;
	}
	memset(ptr, 0, (size_t)(page + top - ptr));
	page_header(page, INTERIOR_TABLE, (uint32_t)(cnt - 1), top, lv->child[cnt - 1]);
	lv->emitted = true;
	return level_add(w, l + 1, pgno, lv->key[cnt - 1], e);
}

/* Hands a finished page (child, its largest rowid) to interior level l. */
static int level_add(struct sqlw *w, size_t l, uint32_t child, int64_t key, struct error *e)
{
	if (l >= MAX_LEVELS) {
		w->failed = true;
		return error_set(e, "%s: b-tree too deep", w->path);
	}
	if (l == w->nlevels) {
		size_t cap = w->usable / 6 + 4;
		w->levels[l].child = xmalloc(cap * sizeof *w->levels[l].child);
		w->levels[l].key = xmalloc(cap * sizeof *w->levels[l].key);
		w->levels[l].n = 0;
		w->levels[l].bytes = 12;
		w->levels[l].emitted = false;
		w->nlevels++;
	}
	struct level *lv = &w->levels[l];
	if (lv->n > 0) {
		/* The last pair stops being the right-most child and becomes a cell. */
		size_t cell = 2 + 4 + varint_len((uint64_t)lv->key[lv->n - 1]);
		if (lv->bytes + cell > w->usable) {
			if (level_emit(w, l, lv->n - 1, e))
				return -1;
			lv->child[0] = lv->child[lv->n - 1];
			lv->key[0] = lv->key[lv->n - 1];
			lv->n = 1;
			lv->bytes = 12;
			cell = 2 + 4 + varint_len((uint64_t)lv->key[0]);
		}
		lv->bytes += cell;
	}
	lv->child[lv->n] = child;
	lv->key[lv->n] = key;
	lv->n++;
	return 0;
}

/* Writes the leaf being filled (even when empty: the root of no rows). */
static int leaf_flush(struct sqlw *w, struct error *e)
{
	uint32_t pgno = alloc_page(w, e);
	if (!pgno)
		return -1;
	uint8_t *page = page_slot(w, pgno, e);
	if (!page)
		return -1;
	uint8_t *leaf = w->leaf;
	page_header(leaf, LEAF_TABLE, w->leaf_ncell, w->leaf_top, 0);
	size_t head = 8 + 2 * (size_t)w->leaf_ncell;
	memcpy(page, leaf, head);
	memset(page + head, 0, w->leaf_top - head);
	memcpy(page + w->leaf_top, leaf + w->leaf_top, w->usable - w->leaf_top);
	w->leaf_ncell = 0;
	w->leaf_top = w->usable;
	return level_add(w, 0, pgno, w->rows, e);
}

/* n bytes from src to dst: a short text as two overlapping words rather
 * than a call (most values are short). */
static inline void copy_short(uint8_t *dst, const char *src, size_t n)
{
	uint64_t a, b;
	if (n > 16) {
		memcpy(dst, src, n);
	} else if (n >= 8) {
		memcpy(&a, src, 8);
		memcpy(&b, src + n - 8, 8);
		memcpy(dst, &a, 8);
		memcpy(dst + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, src, 4);
		memcpy(&y, src + n - 4, 4);
		memcpy(dst, &x, 4);
		memcpy(dst + n - 4, &y, 4);
	} else if (n) {
		dst[0] = (uint8_t)src[0];
		dst[n / 2] = (uint8_t)src[n / 2];
		dst[n - 1] = (uint8_t)src[n - 1];
	}
}

/*
 * The usual row in one pass: the header (serial types, as record_prepare
 * computes them) into hdr and the body into w->body, numbers encoded and
 * text copied.  Returns the record's size, or 0 when the row takes the
 * general way (record_prepare and cell_write): a record that would not
 * fit on the leaf page (it spills to overflow pages, or is refused), or a
 * bad value type (reported there).
 */
static uint64_t record_build(struct sqlw *w, const struct sqlw_value *row)
{
	uint8_t *h = w->hdr + 9, *b = w->body;
	const uint8_t *end = w->body + w->max_local;
	for (size_t c = 0; c < w->ncols; c++) {
		const struct sqlw_value *v = &row[c];
		switch (v->type) {
		case SQLW_NULL:
			*h++ = 0;
			break;
		case SQLW_INT: {
			uint64_t x = (uint64_t)v->i;
			if (x <= 1) {
				*h++ = (uint8_t)(8 + x);
				break;
			}
			uint64_t u = v->i < 0 ? ~x : x;
			unsigned st, len;
			if (u <= 127)
				st = 1, len = 1;
			else if (u <= 32767)
				st = 2, len = 2;
			else if (u <= 8388607)
				st = 3, len = 3;
			else if (u <= 2147483647)
				st = 4, len = 4;
			else if (u <= 0x7fffffffffffu)
				st = 5, len = 6;
			else
				st = 6, len = 8;
			*h++ = (uint8_t)st;
			put64(b, x << (64 - 8 * len));   /* the low len bytes, big-endian */
			b += len;
			break;
		}
		case SQLW_REAL: {
			if (isnan(v->r)) {
				*h++ = 0;
				break;
			}
			uint64_t x;
			memcpy(&x, &v->r, 8);
			*h++ = 7;
			put64(b, x);
			b += 8;
			break;
		}
		case SQLW_TEXT: {
			size_t len = v->len;
			if (len > (size_t)(end - b))
				return 0;
			uint64_t st = 2 * (uint64_t)len + 13;
			if (st <= 0x7f)
				*h++ = (uint8_t)st;
			else
				h += put_varint(h, st);
			copy_short(b, v->s, len);
			b += len;
			break;
		}
		default:
			return 0;
		}
		if (b > end)
			return 0;
	}
	size_t hlen = (size_t)(h - (w->hdr + 9)), vl = 1;
	while (varint_len(hlen + vl) > vl)
		vl++;
	uint64_t payload = hlen + vl + (size_t)(b - w->body);
	if (payload > w->max_local || hlen + vl > MAX_HEADER_BYTES)
		return 0;
	w->hdr_start = w->hdr + 9 - vl;
	w->hdr_len = vl + hlen;
	put_varint(w->hdr_start, hlen + vl);
	return payload;
}

/* Room on the leaf for a cell of size bytes: flushes a full leaf first. */
static int leaf_room(struct sqlw *w, size_t size, struct error *e)
{
	if (8 + 2 * ((size_t)w->leaf_ncell + 1) + size > w->leaf_top)
		return leaf_flush(w, e);
	return 0;
}

static void leaf_push(struct sqlw *w, int64_t rowid)
{
	put16(w->leaf + 8 + 2 * (size_t)w->leaf_ncell, w->leaf_top);
	w->leaf_ncell++;
	w->rows = rowid;
}

int sqlw_append(struct sqlw *w, const struct sqlw_value *row, struct error *e)
{
	if (w->failed)
		return error_set(e, "%s: writer failed earlier", w->path);
	int64_t rowid = w->rows + 1;
	uint64_t payload = record_build(w, row);
	if (payload) {
		size_t body = payload - w->hdr_len;
		size_t size = varint_len(payload) + varint_len((uint64_t)rowid) + payload;
		if (leaf_room(w, size, e))
			return -1;
		w->leaf_top -= (uint32_t)size;
		uint8_t *dst = w->leaf + w->leaf_top;
		dst += put_varint(dst, payload);
		dst += put_varint(dst, (uint64_t)rowid);
		memcpy(dst, w->hdr_start, w->hdr_len);
		memcpy(dst + w->hdr_len, w->body, body);
		leaf_push(w, rowid);
		return 0;
	}
	if (record_prepare(w, row, w->ncols, &payload, e))
		return -1;
	uint32_t local = local_size(w, payload);
	size_t size = cell_size(rowid, payload, local);
	if (leaf_room(w, size, e))
		return -1;
	w->leaf_top -= (uint32_t)size;
	if (cell_write(w, w->leaf + w->leaf_top, rowid, row, w->ncols, payload, local, e)) {
		w->failed = true;
		return -1;
	}
	leaf_push(w, rowid);
	return 0;
}

int64_t sqlw_rows(const struct sqlw *w)
{
	return w->rows;
}

struct sqlw *sqlw_create(const char *path, uint32_t page_size, const char *table_name,
			 const char *create_sql, size_t ncols, struct error *e)
{
	if (page_size == 0)
		page_size = SQLW_DEFAULT_PAGE_SIZE;
	if (page_size < 512 || page_size > 65536 || (page_size & (page_size - 1))) {
		error_set(e, "page size %u is not a power of two from 512 to 65536", page_size);
		return NULL;
	}
	if (ncols < 1 || ncols > SQLW_MAX_COLUMNS) {
		error_set(e, "%zu columns: need 1 to %d", ncols, SQLW_MAX_COLUMNS);
		return NULL;
	}
	if (!table_name || !create_sql) {
		error_set(e, "table name and CREATE statement are required");
		return NULL;
	}
	/* Pages are written once, in big aligned runs, and read later by
	 * whoever queries the file: direct I/O spares copying each into the
	 * page cache (a gigabyte of output cost as much kernel time as a
	 * quarter of the import, and far more on a busy host).  Not for pages
	 * smaller than the 4096-byte blocks some disks have, nor where the
	 * file system refuses it. */
	bool direct = page_size >= 4096;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | (direct ? O_DIRECT : 0), 0666);
	if (fd < 0 && direct && errno == EINVAL) {
		direct = false;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	}
	if (fd < 0) {
		error_set(e, "create %s: %s", path, strerror(errno));
		return NULL;
	}
	struct sqlw *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->path = xstrdup(path);
	w->usable = page_size;
	w->max_local = page_size - 35;
	w->min_local = (page_size - 12) * 32 / 255 - 23;
	w->table_name = xstrdup(table_name);
	w->create_sql = xstrdup(create_sql);
	w->ncols = ncols;
	w->leaf = xmalloc_aligned(4096, page_size);
	w->leaf_top = page_size;
	w->out_cap = SQLW_OUT_BYTES;
	if (w->out_cap < 4 * (size_t)page_size)
		w->out_cap = 4 * (size_t)page_size;
	w->io = bgwrite_new(fd, path, SQLW_OUT_BUFFERS, w->out_cap, direct);
	w->out = bgwrite_buffer(w->io, e);   /* the first: never fails */
	w->out_first = 2;
	w->next_pgno = 2;
	w->lock_pgno = pending_byte / page_size + 1;
	/* The schema row has 5 columns; the table may have fewer. */
	size_t parts = ncols < 5 ? 5 : ncols;
	w->hdr = xmalloc(9 + 9 * parts);
	w->part = xmalloc(parts * sizeof *w->part);
	w->part_len = xmalloc(parts * sizeof *w->part_len);
	w->num = xmalloc(8 * parts);
	w->body = xmalloc(w->max_local + BODY_SLACK);
	return w;
}

static void sqlw_free(struct sqlw *w)
{
	for (size_t l = 0; l < w->nlevels; l++) {
		free(w->levels[l].child);
		free(w->levels[l].key);
	}
	free(w->path);
	free(w->table_name);
	free(w->create_sql);
	free(w->leaf);
	bgwrite_free(w->io);
	free(w->hdr);
	free(w->part);
	free(w->part_len);
	free(w->num);
	free(w->body);
	free(w);
}

void sqlw_abort(struct sqlw *w)
{
	if (!w)
		return;
	bgwrite_free(w->io);   /* before the close: no write may reach a reused fd */
	w->io = NULL;
	close(w->fd);
	unlink(w->path);
	sqlw_free(w);
}

/* Bytes 0..99 of page 1. */
static void db_header(const struct sqlw *w, uint8_t *h, uint32_t npages)
{
	memset(h, 0, 100);
	memcpy(h, "SQLite format 3", 16);
	put16(h + 16, w->usable == 65536 ? 1 : w->usable);
	h[18] = 1; /* rollback journal */
	h[19] = 1;
	h[20] = 0; /* reserved bytes per page */
	h[21] = 64;
	h[22] = 32;
	h[23] = 32;
	put32(h + 24, 1);      /* change counter */
	put32(h + 28, npages); /* valid: offset 92 equals the change counter */
	put32(h + 40, 1);      /* schema cookie */
	put32(h + 44, 4);      /* schema format: 0 and 1 as serial types 8, 9 */
	put32(h + 56, 1);      /* UTF-8 */
	put32(h + 92, 1);
	put32(h + 96, (uint32_t)sqlite3_libversion_number());
}

/*
 * Page 1: the header and sqlite_schema's one row.  When that row's cell
 * does not fit after the 100-byte header, page 1 becomes an interior page
 * without cells whose right-most child is a leaf holding it -- the shape
 * SQLite's own balance-deeper gives page 1.
 */
static int write_page1(struct sqlw *w, uint32_t root, struct error *e)
{
	struct sqlw_value row[5] = {
		{.type = SQLW_TEXT, .s = "table", .len = 5},
		{.type = SQLW_TEXT, .s = w->table_name, .len = strlen(w->table_name)},
		{.type = SQLW_TEXT, .s = w->table_name, .len = strlen(w->table_name)},
		{.type = SQLW_INT, .i = root},
		{.type = SQLW_TEXT, .s = w->create_sql, .len = strlen(w->create_sql)},
	};
	uint64_t payload;
	if (record_prepare(w, row, 5, &payload, e))
		return -1;
	uint32_t local = local_size(w, payload);
	size_t size = cell_size(1, payload, local);
	uint8_t *page1 = w->leaf;
	memset(page1, 0, w->usable);
	uint32_t top = w->usable - (uint32_t)size;
	if (cell_write(w, page1 + top, 1, row, 5, payload, local, e))
		return -1;
	if (100 + 8 + 2 + size <= w->usable) {
		page_header(page1 + 100, LEAF_TABLE, 1, top, 0);
		put16(page1 + 108, top);
	} else {
		uint32_t pgno = alloc_page(w, e);
		if (!pgno)
			return -1;
		uint8_t *page = page_slot(w, pgno, e);
		if (!page)
			return -1;
		memset(page, 0, top);
		memcpy(page + top, page1 + top, size);
		page_header(page, LEAF_TABLE, 1, top, 0);
		put16(page + 8, top);
		memset(page1 + 100, 0, w->usable - 100);
		page_header(page1 + 100, INTERIOR_TABLE, 0, w->usable, pgno);
	}
	if (flush_out(w, e))
		return -1;
	db_header(w, page1, w->next_pgno - 1);
	return bgwrite_now(w->io, page1, w->usable, 0, e);   /* after the rest is written */
}

int sqlw_finish(struct sqlw *w, struct error *e)
{
	int rc = -1;
	uint32_t root = 0;
	if (w->failed) {
		error_set(e, "%s: writer failed earlier", w->path);
		goto out;
	}
	if (w->leaf_ncell > 0 || w->rows == 0) {
		if (leaf_flush(w, e))
			goto out;
	}
	for (size_t l = 0; !root; l++) {
		struct level *lv = &w->levels[l];
		if (l + 1 == w->nlevels && !lv->emitted && lv->n == 1)
			root = lv->child[0];
		else if (level_emit(w, l, lv->n, e))
			goto out;
	}
	if (write_page1(w, root, e))
		goto out;
	bgwrite_free(w->io);
	w->io = NULL;
	if (close(w->fd)) {
		w->fd = -1;
		error_set(e, "close %s: %s", w->path, strerror(errno));
		goto out;
	}
	w->fd = -1;
	rc = 0;
out:
	if (rc) {
		bgwrite_free(w->io);
		w->io = NULL;
		if (w->fd >= 0)
			close(w->fd);
		unlink(w->path);
	}
	sqlw_free(w);
	return rc;
}
