/*
 * Tools about the values in columns: summary statistics, percentiles,
 * histograms, IQR outliers, correlation (Pearson and Spearman) and a
 * describe() of many columns.
 *
 * Each tool reads what it needs in one scan through the SQL sandbox (one
 * column, or all the columns a correlation or describe needs, NULLs
 * included so that row numbers are known): numbers into arrays, other
 * values counted in a hash table.  The rest is computed in C.  The arrays
 * count against the query memory limit, and the pairwise loops of a
 * correlation against the query time limit.
 *
 * Semantics follow pandas/numpy: sample standard deviation (ddof 1),
 * quantiles by linear interpolation between the closest ranks, numpy's
 * equal-width histogram bins (the last closed on the right), pairwise
 * complete observations for correlation, Spearman as Pearson on average
 * ranks computed per pair, NaN (JSON null) where a statistic is undefined.
 * Booleans count as numbers (true = 1).  Text order is byte order, which
 * for UTF-8 is code point order (SQLite's BINARY, Python's str).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "datasets/render.h"
#include "frame/kernels.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

#define PAIRS_SHOWN 20          /* strongest pairs a correlation lists */
#define MAX_ROWS UINT32_MAX     /* row indices are 32-bit */

/* ---------------------------------------------------------------------- */
/* numbers for people (summaries) */

struct numtext {
	char s[48];
};

/* n with thousands separators: 1,882. */
static struct numtext fcount(long long n)
{
	struct numtext t;
	char digits[32];
	int len = snprintf(digits, sizeof digits, "%llu",
			   n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n);
	size_t o = 0;
	if (n < 0)
		t.s[o++] = '-';
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			t.s[o++] = ',';
		t.s[o++] = digits[i];
	}
	t.s[o] = '\0';
	return t;
}

/* x readably: six significant digits, or grouped digits when large. */
static struct numtext fnum(double x)
{
	struct numtext t;
	if (!isfinite(x))
		snprintf(t.s, sizeof t.s, "n/a");
	else if (fabs(x) >= 1e5 && fabs(x) < 1e15)
		t = fcount(llround(x));
	else
		snprintf(t.s, sizeof t.s, "%.6g", x + 0.0);   /* + 0.0: no "-0" */
	return t;
}

/* ---------------------------------------------------------------------- */
/* sorting: LSD radix sort on order-preserving 64-bit keys of doubles */

#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)
#define RADIX_MASK (RADIX_SIZE - 1)
#define RADIX_PASSES 6          /* 66 bits >= 64 */
#define SIGN_BIT 0x8000000000000000ULL

/* A key that orders like the double (never NaN); -0.0 keys as 0.0, so
 * equal values have equal keys. */
static inline uint64_t key_of(double d)
{
	d += 0.0;
	uint64_t u;
	memcpy(&u, &d, sizeof u);
	return (u & SIGN_BIT) ? ~u : (u | SIGN_BIT);
}

static inline double value_of(uint64_t k)
{
	uint64_t u = (k & SIGN_BIT) ? (k & ~SIGN_BIT) : ~k;
	double d;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* Sorts k[0..n) ascending, moving p[0..n) along when p is not NULL. */
static void radix_sort(uint64_t *k, uint32_t *p, size_t n)
{
	if (n < 2)
		return;
	if (n < 48) {
		for (size_t i = 1; i < n; i++) {
			uint64_t x = k[i];
			uint32_t y = p ? p[i] : 0;
			size_t j = i;
			for (; j > 0 && k[j - 1] > x; j--) {
				k[j] = k[j - 1];
				if (p)
					p[j] = p[j - 1];
			}
			k[j] = x;
			if (p)
				p[j] = y;
		}
		return;
	}
	size_t (*count)[RADIX_SIZE] = xcalloc(RADIX_PASSES, sizeof *count);
	for (size_t i = 0; i < n; i++) {
		uint64_t x = k[i];
		for (unsigned d = 0; d < RADIX_PASSES; d++)
			count[d][(x >> (d * RADIX_BITS)) & RADIX_MASK]++;
	}
	uint64_t *ks = k, *kd = xmalloc(n * sizeof *kd), *kfree = kd;
	uint32_t *ps = p, *pd = p ? xmalloc(n * sizeof *pd) : NULL, *pfree = pd;
	for (unsigned d = 0; d < RADIX_PASSES; d++) {
		size_t *c = count[d];
		unsigned shift = d * RADIX_BITS;
		if (c[(ks[0] >> shift) & RADIX_MASK] == n)
			continue;   /* every key has this digit */
		size_t sum = 0;
		for (size_t b = 0; b < RADIX_SIZE; b++) {
			size_t t = c[b];
			c[b] = sum;
			sum += t;
		}
		if (p) {
			for (size_t i = 0; i < n; i++) {
				size_t at = c[(ks[i] >> shift) & RADIX_MASK]++;
				kd[at] = ks[i];
				pd[at] = ps[i];
			}
			uint32_t *pt = ps;
			ps = pd;
			pd = pt;
		} else {
			for (size_t i = 0; i < n; i++)
				kd[c[(ks[i] >> shift) & RADIX_MASK]++] = ks[i];
		}
		uint64_t *kt = ks;
		ks = kd;
		kd = kt;
	}
	if (ks != k) {
		memcpy(k, ks, n * sizeof *k);
		if (p)
			memcpy(p, ps, n * sizeof *p);
	}
	free(kfree);
	free(pfree);
	free(count);
}

/* Sorts v[0..n) ascending (no NaN). */
static void sort_doubles(double *v, size_t n)
{
	uint64_t *k = xmalloc((n ? n : 1) * sizeof *k);
	for (size_t i = 0; i < n; i++)
		k[i] = key_of(v[i]);
	radix_sort(k, NULL, n);
	for (size_t i = 0; i < n; i++)
		v[i] = value_of(k[i]);
	free(k);
}

/* ---------------------------------------------------------------------- */
/* reading columns */

static bool is_numeric(const struct table_column *c)
{
	return (TOOL_KINDS_NUMERIC >> c->kind) & 1u;
}

/* What the arrays of one tool call hold, against the query memory limit
 * (0: none). */
struct budget {
	int64_t limit, used;
};

static int over_budget(const struct budget *b, struct tool_error *err)
{
	return tool_fail(err, TOOL_ERR_TOO_BIG, "this needs more than %lld MB of memory for "
			 "these columns (the query memory limit); pass fewer columns",
			 (long long)(b->limit >> 20));
}

static bool spend(struct budget *b, int64_t bytes)
{
	b->used += bytes;
	return !b->limit || b->used <= b->limit;
}

/* The numbers of one column in row order, with their row indices. */
struct numcol {
	double *v;
	uint32_t *row;          /* 0-based row of v[i]; NULL unless asked for */
	size_t n, cap;
	int64_t nulls;
	int64_t isum;           /* exact sum when isum_ok */
	bool isum_ok;           /* every value an integer, and no overflow */
};

static void numcol_free(struct numcol *nc)
{
	free(nc->v);
	free(nc->row);
	memset(nc, 0, sizeof *nc);
}

/* The distinct values of a text (date, time) column and how often each
 * occurs: an open-addressing hash table over an arena of the bytes. */
struct slot {
	uint64_t hash;
	size_t off, len;        /* the bytes in the arena */
	int64_t n;              /* 0: a free slot */
};

struct strcount {
	struct slot *slot;
	size_t cap, used;       /* cap: a power of two */
	char *arena;
	size_t alen, acap;
	int64_t nulls;
};

static void strcount_free(struct strcount *sc)
{
	free(sc->slot);
	free(sc->arena);
	memset(sc, 0, sizeof *sc);
}

static uint64_t hash_bytes(const unsigned char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	for (size_t i = 0; i < len; i++)
		h = (h ^ s[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

/* Counts s; false when the budget is spent. */
static bool strcount_add(struct strcount *sc, const char *s, size_t len, struct budget *b)
{
	if (2 * (sc->used + 1) > sc->cap) {
		size_t cap = sc->cap ? 2 * sc->cap : 64;
		if (!spend(b, (int64_t)((cap - sc->cap) * sizeof *sc->slot)))
			return false;
		struct slot *t = xcalloc(cap, sizeof *t);
		for (size_t i = 0; i < sc->cap; i++) {
			if (!sc->slot[i].n)
				continue;
			size_t j = sc->slot[i].hash & (cap - 1);
			while (t[j].n)
				j = (j + 1) & (cap - 1);
			t[j] = sc->slot[i];
		}
		free(sc->slot);
		sc->slot = t;
		sc->cap = cap;
	}
	uint64_t h = hash_bytes((const unsigned char *)s, len);
	size_t mask = sc->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct slot *e = &sc->slot[i];
		if (e->n && e->hash == h && e->len == len &&
		    memcmp(sc->arena + e->off, s, len) == 0) {
			e->n++;
			return true;
		}
		if (e->n)
			continue;
		if (sc->alen + len > sc->acap) {
			size_t acap = sc->acap ? sc->acap : 4096;
			while (sc->alen + len > acap)
				acap *= 2;
			if (!spend(b, (int64_t)(acap - sc->acap)))
				return false;
			sc->arena = xrealloc(sc->arena, acap);
			sc->acap = acap;
		}
		memcpy(sc->arena + sc->alen, s, len);
		*e = (struct slot){ h, sc->alen, len, 1 };
		sc->alen += len;
		sc->used++;
		return true;
	}
}

/* Sets the count of s, which was just added (once), to n. */
static void strcount_set_last(struct strcount *sc, const char *s, size_t len, int64_t n)
{
	uint64_t h = hash_bytes((const unsigned char *)s, len);
	size_t mask = sc->cap - 1;
	for (size_t i = h & mask; sc->slot[i].n; i = (i + 1) & mask) {
		struct slot *e = &sc->slot[i];
		if (e->hash == h && e->len == len && memcmp(sc->arena + e->off, s, len) == 0) {
			e->n = n;
			return;
		}
	}
}

/* One column of a scan: numbers for a numeric column, counted values for
 * any other. */
struct colscan {
	const struct table_column *c;
	bool numeric;
	struct numcol nc;
	struct strcount sc;
};

static void colscan_free(struct colscan *cs)
{
	numcol_free(&cs->nc);
	strcount_free(&cs->sc);
}

static void add_number(struct numcol *nc, double x, uint32_t at)
{
	if (nc->n == nc->cap) {   /* only when the table has more rows than it says */
		nc->cap *= 2;
		nc->v = xrealloc(nc->v, nc->cap * sizeof *nc->v);
		if (nc->row)
			nc->row = xrealloc(nc->row, nc->cap * sizeof *nc->row);
	}
	if (nc->row)
		nc->row[nc->n] = at;
	nc->v[nc->n++] = x;
}

/* What scan_columns reads, taken from the column arrays of the frame
 * cache (frame/frame.h) instead: 1 when done, 0 when the cache cannot
 * serve (no cache, a text column without its dictionary), -1 on error. */
static int columns_from_frames(struct tool_ctx *ctx, struct colscan *cs, size_t k, bool rows,
			       struct tool_error *err)
{
	if (!ctx->frames || k == 0)
		return 0;
	const char **names = xcalloc(k, sizeof *names);
	const struct frame_column **fc = xcalloc(k, sizeof *fc);
	for (size_t j = 0; j < k; j++)
		names[j] = cs[j].c->name;
	int rc = tool_frame(ctx, names, k, fc, err);
	free(names);
	if (rc < 0) {
		free(fc);
		return -1;
	}
	for (size_t j = 0; j < k && rc == 0; j++)
		if (!fc[j]->num && (!fc[j]->code || fc[j]->dict_full))
			rc = 1;
	if (rc) {   /* a column the cache could not encode: scan instead */
		tool_frame_release(ctx, fc, k);
		free(fc);
		return 0;
	}
	struct budget b = { ctx->lim.memory_bytes, 0 };
	for (size_t j = 0; j < k && rc == 0; j++) {
		const struct frame_column *f = fc[j];
		cs[j].numeric = is_numeric(cs[j].c);
		if (cs[j].numeric) {
			struct numcol *nc = &cs[j].nc;
			/* As scan_columns counts: the values (and rows), sort keys. */
			if (!spend(&b, (int64_t)f->n * ((rows ? 20 : 8) + 16))) {
				rc = -1;
				break;
			}
			nc->cap = f->n ? f->n : 1;
			nc->v = xmalloc(nc->cap * sizeof *nc->v);
			if (rows)
				nc->row = xmalloc(nc->cap * sizeof *nc->row);
			nc->isum_ok = f->i64 != NULL;
			for (size_t r = 0; r < f->n; r++) {
				if (!f->valid[r])
					continue;
				if (nc->isum_ok && __builtin_add_overflow(nc->isum, f->i64[r], &nc->isum))
					nc->isum_ok = false;
				add_number(nc, f->num[r], (uint32_t)r);
			}
			nc->nulls = (int64_t)(f->n - nc->n - f->not_numbers);
			continue;
		}
		int64_t *per = xcalloc(f->ndict ? f->ndict : 1, sizeof *per);
		for (size_t r = 0; r < f->n; r++) {
			if (f->code[r] == FRAME_NULL)
				cs[j].sc.nulls++;
			else
				per[f->code[r]]++;
		}
		for (size_t d = 0; d < f->ndict && rc == 0; d++) {
			if (!per[d])
				continue;
			if (!strcount_add(&cs[j].sc, f->dict[d], f->dict_len[d], &b))
				rc = -1;
			else
				strcount_set_last(&cs[j].sc, f->dict[d], f->dict_len[d], per[d]);
		}
		free(per);
	}
	tool_frame_release(ctx, fc, k);
	free(fc);
	if (rc < 0) {
		for (size_t j = 0; j < k; j++)
			colscan_free(&cs[j]);
		return over_budget(&b, err);
	}
	return 1;
}

/* Reads columns cs[0..k) (each with c set) in one scan of the table:
 * numeric columns into cs[j].nc (with row indices when rows is true),
 * others into cs[j].sc.  On failure every cs[j] is freed. */
static int scan_columns(struct tool_ctx *ctx, struct colscan *cs, size_t k, bool rows,
			struct tool_error *err)
{
	int served = columns_from_frames(ctx, cs, k, rows, err);
	if (served)
		return served < 0 ? -1 : 0;
	int64_t nrows = table_nrows(ctx->t);
	if ((uint64_t)nrows > MAX_ROWS)
		return tool_fail(err, TOOL_ERR_TOO_BIG, "this dataset has too many rows for this "
				 "tool (%lld)", (long long)nrows);
	size_t cap = nrows > 0 ? (size_t)nrows : 16;
	size_t nnum = 0;
	for (size_t j = 0; j < k; j++) {
		cs[j].numeric = is_numeric(cs[j].c);
		nnum += cs[j].numeric;
	}
	/* the numbers (with rows: and a sorted copy), plus sort keys and a
	 * radix buffer later */
	struct budget b = { ctx->lim.memory_bytes, 0 };
	if (!spend(&b, (int64_t)cap * (int64_t)(nnum * (rows ? 20 : 8) + (nnum ? 16 : 0))))
		return over_budget(&b, err);
	struct buf sql;
	buf_init(&sql, 1 << 24);
	buf_puts(&sql, "SELECT ");
	for (size_t j = 0; j < k; j++) {
		if (j)
			buf_puts(&sql, ", ");
		tool_ident(&sql, cs[j].c->name);
	}
	buf_puts(&sql, " FROM data");
	struct sql_query *q = tool_sql(ctx, sql.data, NULL, err);
	buf_free(&sql);
	if (!q)
		return -1;
	for (size_t j = 0; j < k; j++) {
		struct numcol *nc = &cs[j].nc;
		if (!cs[j].numeric)
			continue;
		nc->isum_ok = true;
		nc->cap = cap;
		nc->v = xmalloc(cap * sizeof *nc->v);
		if (rows)
			nc->row = xmalloc(cap * sizeof *nc->row);
	}
	uint32_t at = 0;
	bool spent = false;
	int rc;
	sqlite3_stmt *st = sql_stmt(q);
	/* One enter/leave around the whole scan (sql.h).  Values are read
	 * through sqlite3_column_value: the connection has no mutex (sql.c
	 * opens it NOMUTEX), so it does what sqlite3_column_* would, once. */
	sql_enter(q);
	while (!spent && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		for (size_t j = 0; j < k; j++) {
			sqlite3_value *sv = sqlite3_column_value(st, (int)j);
			int type = sqlite3_value_type(sv);
			if (cs[j].numeric) {
				struct numcol *nc = &cs[j].nc;
				if (type == SQLITE_INTEGER) {
					int64_t i = sqlite3_value_int64(sv);
					if (__builtin_add_overflow(nc->isum, i, &nc->isum))
						nc->isum_ok = false;
					add_number(nc, (double)i, at);
				} else if (type == SQLITE_FLOAT) {
					nc->isum_ok = false;
					add_number(nc, sqlite3_value_double(sv), at);
				} else if (type == SQLITE_NULL) {
					nc->nulls++;
				}   /* else text the importer kept: not a number */
			} else if (type == SQLITE_NULL) {
				cs[j].sc.nulls++;
			} else {
				const char *s = (const char *)sqlite3_value_text(sv);
				size_t len = (size_t)sqlite3_value_bytes(sv);
				if (!s || !strcount_add(&cs[j].sc, s, len, &b)) {   /* !s: no memory */
					spent = true;
					break;
				}
			}
		}
		at++;
	}
	sql_leave(q);
	if (spent || rc != SQLITE_DONE) {
		if (spent)
			over_budget(&b, err);
		else
			tool_sql_failed(q, err);
		sql_close(q);
		for (size_t j = 0; j < k; j++)
			colscan_free(&cs[j]);
		return -1;
	}
	sql_close(q);
	return 0;
}

/* The numbers of one numeric column. */
static int load_numbers(struct tool_ctx *ctx, const struct table_column *c, bool rows,
			struct numcol *nc, struct tool_error *err)
{
	struct colscan cs = { .c = c };
	memset(nc, 0, sizeof *nc);
	if (scan_columns(ctx, &cs, 1, rows, err) < 0)
		return -1;
	*nc = cs.nc;
	return 0;
}

/* A value of a column of kind as JSON: an integer for integer and boolean
 * columns, else a real (null when not finite). */
static json_t *number_json(enum column_kind kind, double x)
{
	if ((kind == COLUMN_INT || kind == COLUMN_BOOL) && x >= -9.2e18 && x <= 9.2e18 &&
	    x == floor(x))
		return json_integer((json_int_t)x);
	return tool_real(x);
}

/* ---------------------------------------------------------------------- */
/* statistics of one column */

struct numstats {
	int64_t count, nulls, distinct;
	double mean, std, min, p25, p50, p75, max;
	json_t *sum;            /* a new reference */
};

/* Computes s from nc, sorting nc->v (row order is lost). */
static void numstats_compute(struct numcol *nc, enum column_kind kind, struct numstats *s)
{
	size_t n = nc->n;
	double *v = nc->v;
	s->count = (int64_t)n;
	s->nulls = nc->nulls;
	long double sum = 0;
	if (nc->isum_ok) {
		sum = (long double)nc->isum;
	} else {
		for (size_t i = 0; i < n; i++)
			sum += v[i];
	}
	if (nc->isum_ok && (kind == COLUMN_INT || kind == COLUMN_BOOL))
		s->sum = json_integer((json_int_t)nc->isum);
	else
		s->sum = tool_real((double)sum);
	s->mean = n ? (double)(sum / (long double)n) : NAN;
	if (n > 1) {
		double m = s->mean;
		long double ss = 0;
		for (size_t i = 0; i < n; i++) {
			double d = v[i] - m;
			ss += (long double)d * d;
		}
		s->std = sqrt((double)(ss / (long double)(n - 1)));
	} else {
		s->std = NAN;
	}
	sort_doubles(v, n);
	s->distinct = n > 0;
	for (size_t i = 1; i < n; i++)
		s->distinct += v[i] != v[i - 1];
	s->min = n ? v[0] : NAN;
	s->max = n ? v[n - 1] : NAN;
	s->p25 = tool_quantile(v, n, 0.25);
	s->p50 = tool_quantile(v, n, 0.5);
	s->p75 = tool_quantile(v, n, 0.75);
}

/* The statistics of a text, date, datetime or time column. */
struct textstats {
	int64_t count, nulls, distinct, freq;
	int64_t min_len, max_len;       /* in characters */
	json_t *top, *min, *max;        /* new references; null when no value */
};

static void textstats_clear(struct textstats *s)
{
	json_decref(s->top);
	json_decref(s->min);
	json_decref(s->max);
	memset(s, 0, sizeof *s);
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);
	return c ? c : (an > bn) - (an < bn);
}

static int64_t utf8_chars(const unsigned char *s, size_t len)
{
	int64_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += (s[i] & 0xC0) != 0x80;
	return n;
}

/* Stored text as the API shows it: a JSON string (invalid UTF-8, never
 * written by the importer, becomes U+FFFD as in render.h). */
static json_t *text_json(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	struct buf b;
	buf_init(&b, 4 * len + 16);
	render_json_string(&b, s, len);
	j = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
	buf_free(&b);
	return j ? j : json_string("");
}

/* From counted values: the most frequent (ties: the smallest), the
 * smallest and largest in byte (code point) order, the shortest and
 * longest in characters. */
static void textstats_compute(const struct strcount *sc, struct textstats *s)
{
	memset(s, 0, sizeof *s);
	s->nulls = sc->nulls;
	const struct slot *top = NULL, *min = NULL, *max = NULL;
	const char *a = sc->arena;
	for (size_t i = 0; i < sc->cap; i++) {
		const struct slot *e = &sc->slot[i];
		if (!e->n)
			continue;
		s->count += e->n;
		int64_t chars = utf8_chars((const unsigned char *)a + e->off, e->len);
		if (!top) {
			top = min = max = e;
			s->min_len = s->max_len = chars;
			continue;
		}
		s->min_len = chars < s->min_len ? chars : s->min_len;
		s->max_len = chars > s->max_len ? chars : s->max_len;
		if (bytes_cmp(a + e->off, e->len, a + min->off, min->len) < 0)
			min = e;
		if (bytes_cmp(a + e->off, e->len, a + max->off, max->len) > 0)
			max = e;
		if (e->n > top->n ||
		    (e->n == top->n && bytes_cmp(a + e->off, e->len, a + top->off, top->len) < 0))
			top = e;
	}
	s->distinct = (int64_t)sc->used;
	s->freq = top ? top->n : 0;
	s->top = top ? text_json(a + top->off, top->len) : json_null();
	s->min = min ? text_json(a + min->off, min->len) : json_null();
	s->max = max ? text_json(a + max->off, max->len) : json_null();
}

struct cliptext {
	char s[100];
};

/* The start of s, cut at a character boundary, for a summary. */
static struct cliptext clip(const char *s)
{
	struct cliptext t;
	size_t n = strlen(s), cut = sizeof t.s - 4;
	if (n <= cut) {
		memcpy(t.s, s, n + 1);
		return t;
	}
	while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	memcpy(t.s, s, cut);
	memcpy(t.s + cut, "...", 4);
	return t;
}

/* ---- column_stats ---- */

static int column_stats(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			struct tool_error *err)
{
	const struct table_column *c = tool_column(ctx, args, "column", TOOL_KINDS_ANY, err);
	if (!c)
		return -1;
	const char *type = column_kind_name(c->kind);
	if (is_numeric(c)) {
		struct numcol nc;
		if (load_numbers(ctx, c, false, &nc, err) < 0)
			return -1;
		struct numstats s;
		numstats_compute(&nc, c->kind, &s);
		numcol_free(&nc);
		json_t *r = json_pack("{s:s, s:s, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I}",
			"column", c->name, "type", type, "count", (json_int_t)s.count,
			"nulls", (json_int_t)s.nulls, "mean", tool_real(s.mean),
			"std", tool_real(s.std), "min", number_json(c->kind, s.min),
			"p25", tool_real(s.p25), "p50", tool_real(s.p50), "p75", tool_real(s.p75),
			"max", number_json(c->kind, s.max), "sum", s.sum,
			"distinct", (json_int_t)s.distinct);
		out->result = r;
		if (s.count)
			out->summary = tool_printf("%s: mean %s, median %s, std %s, range %s to %s "
						   "over %s values; %s missing.", c->name,
						   fnum(s.mean).s, fnum(s.p50).s, fnum(s.std).s,
						   fnum(s.min).s, fnum(s.max).s,
						   fcount(s.count).s, fcount(s.nulls).s);
		else
			out->summary = tool_printf("%s has no values (%s missing).", c->name,
						   fcount(s.nulls).s);
		return 0;
	}
	struct colscan cs = { .c = c };
	if (scan_columns(ctx, &cs, 1, false, err) < 0)
		return -1;
	struct textstats s;
	textstats_compute(&cs.sc, &s);
	colscan_free(&cs);
	json_t *r = json_pack("{s:s, s:s, s:I, s:I, s:I, s:O, s:o, s:O, s:O}",
		"column", c->name, "type", type, "count", (json_int_t)s.count,
		"nulls", (json_int_t)s.nulls, "distinct", (json_int_t)s.distinct,
		"top", s.top, "freq", s.count ? json_integer(s.freq) : json_null(),
		"min", s.min, "max", s.max);
	if (c->kind == COLUMN_TEXT) {
		json_object_set_new(r, "min_length", s.count ? json_integer(s.min_len) : json_null());
		json_object_set_new(r, "max_length", s.count ? json_integer(s.max_len) : json_null());
	}
	out->result = r;
	if (s.count)
		out->summary = s.freq > 1
			? tool_printf("%s: %s values, %s distinct; most frequent \"%s\" (%s "
				      "times); %s missing.", c->name, fcount(s.count).s,
				      fcount(s.distinct).s, clip(json_string_value(s.top)).s,
				      fcount(s.freq).s, fcount(s.nulls).s)
			: tool_printf("%s: %s values, all distinct, from \"%s\" to \"%s\"; %s "
				      "missing.", c->name, fcount(s.count).s,
				      clip(json_string_value(s.min)).s,
				      clip(json_string_value(s.max)).s, fcount(s.nulls).s);
	else
		out->summary = tool_printf("%s has no values (%s missing).", c->name,
					   fcount(s.nulls).s);
	textstats_clear(&s);
	return 0;
}

static const struct tool column_stats_tool = {
	.name = "column_stats",
	.title = "Statistics of one column",
	.description = "Summary statistics of one column. Numbers (integer, real, boolean as "
		       "0/1): count of values, nulls, mean, sample standard deviation (ddof 1, "
		       "like pandas), min, quartiles p25/p50/p75 (linear interpolation), max, "
		       "sum and distinct values. Text, date, datetime and time columns: count, "
		       "nulls, distinct, the most frequent value (top; ties go to the smallest) "
		       "and its frequency, min and max in text order, and for text the "
		       "shortest and longest length in characters. "
		       "Korean: 기술 통계, 통계량, 평균, 표준편차, 중앙값, 최솟값, 최댓값, 합계, 최빈값.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["column"],
		"properties": {"column": {"type": "string", "minLength": 1,
					  "description": "The column to summarize"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["column", "type", "count", "nulls", "distinct", "min", "max"],
		"properties": {
			"column": {"type": "string"},
			"type": {"type": "string", "enum": ["text", "boolean", "integer", "real",
							   "date", "datetime", "time"]},
			"count": {"type": "integer", "minimum": 0,
				  "description": "Non-null values"},
			"nulls": {"type": "integer", "minimum": 0},
			"distinct": {"type": "integer", "minimum": 0},
			"mean": {"type": ["number", "null"]},
			"std": {"type": ["number", "null"], "description": "Sample standard deviation (ddof 1)"},
			"min": {"type": ["number", "string", "null"]},
			"p25": {"type": ["number", "null"]},
			"p50": {"type": ["number", "null"], "description": "The median"},
			"p75": {"type": ["number", "null"]},
			"max": {"type": ["number", "string", "null"]},
			"sum": {"type": ["number", "null"]},
			"top": {"type": ["string", "null"], "description": "The most frequent value"},
			"freq": {"type": ["integer", "null"]},
			"min_length": {"type": ["integer", "null"]},
			"max_length": {"type": ["integer", "null"]}}}),
	.read_only = true,
	.run = column_stats,
};

/* ---- percentile ---- */

static int percentile(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		      struct tool_error *err)
{
	const struct table_column *c = tool_column(ctx, args, "column", TOOL_KINDS_NUMERIC, err);
	if (!c)
		return -1;
	json_t *ps = json_object_get(args, "percentiles");
	json_t *owned = NULL;
	if (!ps)
		ps = owned = json_pack("[i, i, i]", 25, 50, 75);
	size_t np = json_array_size(ps);
	double *want = xmalloc(np * sizeof *want), *got = xmalloc(np * sizeof *got);
	for (size_t k = 0; k < np; k++)
		want[k] = json_number_value(json_array_get(ps, k)) / 100.0;
	struct numcol nc = { 0 };
	const struct frame_column *fc = NULL;
	if (ctx->frames && tool_frame(ctx, &c->name, 1, &fc, err) == 0) {
		/* Warm: the column's values sorted once and kept (frame_sorted). */
		size_t n;
		const double *sorted = frame_sorted(ctx->frames, fc, &n);
		for (size_t k = 0; k < np; k++)
			got[k] = tool_quantile(sorted, n, want[k]);
		nc.n = n;
		nc.nulls = (int64_t)(fc->n - n - fc->not_numbers);
		tool_frame_release(ctx, &fc, 1);
	} else if (!ctx->frames && load_numbers(ctx, c, false, &nc, err) == 0) {
		/* Selection, not a sort: each percentile costs a partition pass. */
		kernel_quantiles(nc.v, nc.n, want, np, got);
	} else {
		free(want);
		free(got);
		json_decref(owned);
		return -1;
	}
	json_t *rows = json_array();
	struct buf words;
	buf_init(&words, 1 << 12);
	size_t i;
	json_t *p;
	json_array_foreach(ps, i, p) {
		double x = got[i];
		json_array_append_new(rows, json_pack("[O, o]", p, tool_real(x)));
		if (i < 5)
			buf_printf(&words, "%sp%s %s", i ? ", " : "",
				   fnum(json_number_value(p)).s, fnum(x).s);
		else if (i == 5)
			buf_puts(&words, ", ...");
	}
	static const char *const names[] = { "percentile", "value" };
	out->result = json_pack("{s:s, s:I, s:I, s:o}", "column", c->name,
				"count", (json_int_t)nc.n, "nulls", (json_int_t)nc.nulls,
				"percentiles", tool_table(names, 2, rows));
	out->summary = nc.n ? tool_printf("%s: %s over %s values.", c->name, words.data,
					  fcount((long long)nc.n).s)
			    : tool_printf("%s has no values (%s missing).", c->name,
					  fcount(nc.nulls).s);
	buf_free(&words);
	numcol_free(&nc);
	free(want);
	free(got);
	json_decref(owned);
	return 0;
}

static const struct tool percentile_tool = {
	.name = "percentile",
	.title = "Percentiles of a numeric column",
	.description = "Percentiles (0-100) of a numeric column with linear interpolation "
		       "between the closest ranks, like numpy.percentile and pandas quantile; "
		       "nulls are left out. Korean: 백분위수, 분위수, 사분위수, 중앙값.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["column"],
		"properties": {
			"column": {"type": "string", "minLength": 1,
				   "description": "A numeric column (integer, real or boolean)"},
			"percentiles": {"type": "array", "minItems": 1, "maxItems": 101,
					"items": {"type": "number", "minimum": 0, "maximum": 100},
					"default": [25, 50, 75],
					"description": "Percentiles from 0 to 100"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["column", "count", "nulls", "percentiles"],
		"properties": {
			"column": {"type": "string"},
			"count": {"type": "integer", "minimum": 0},
			"nulls": {"type": "integer", "minimum": 0},
			"percentiles": {"type": "object",
				"description": "A table: percentile, value (null when the column has no values)",
				"required": ["columns", "rows"],
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "items": {"type": "array",
							"items": {"type": ["number", "null"]}}}}}}}),
	.read_only = true,
	.run = percentile,
};

/* ---- histogram ---- */

static int histogram(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		     struct tool_error *err)
{
	const struct table_column *c = tool_column(ctx, args, "column", TOOL_KINDS_NUMERIC, err);
	if (!c)
		return -1;
	const json_t *jb = json_object_get(args, "bins");
	size_t bins = jb ? (size_t)json_number_value(jb) : 10;
	const json_t *jmin = json_object_get(args, "min"), *jmax = json_object_get(args, "max");
	if (jmin && jmax && json_number_value(jmin) > json_number_value(jmax))
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.min: must not be greater than "
				 "args.max");
	struct numcol nc;
	if (load_numbers(ctx, c, false, &nc, err) < 0)
		return -1;
	const double *v = nc.v;
	size_t n = nc.n;
	double lo = 0, hi = 1;
	if (n) {
		lo = hi = v[0];
		for (size_t i = 1; i < n; i++) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
	}
	if (jmin)
		lo = json_number_value(jmin);
	if (jmax)
		hi = json_number_value(jmax);
	if (jmin && !jmax && !n)
		hi = lo;
	if (jmax && !jmin && !n)
		lo = hi;
	if (lo > hi) {   /* one end given, beyond every value */
		struct numtext given = fnum(jmin ? lo : hi), edge = fnum(jmin ? hi : lo);
		numcol_free(&nc);
		return tool_fail(err, TOOL_ERR_ARGUMENT, "%s: %s is %s every value of \"%.100s\" "
				 "(the %s is %s); give both min and max", jmin ? "args.min" : "args.max",
				 given.s, jmin ? "above" : "below", c->name,
				 jmin ? "largest" : "smallest", edge.s);
	}
	if (lo == hi) {   /* numpy: a range of width 1 around the value */
		lo -= 0.5;
		hi += 0.5;
	}
	if (!(hi > lo) || !isfinite(hi - lo) || !isfinite((double)bins / (hi - lo))) {
		numcol_free(&nc);
		return tool_fail(err, TOOL_ERR_ARGUMENT, "%s: the range %s to %s cannot be split "
				 "into %zu equal bins", jmin || jmax ? "args.min" : "args.column",
				 fnum(lo).s, fnum(hi).s, bins);
	}
	/* numpy.histogram: edges linspace(lo, hi, bins + 1), a bin by
	 * (x - lo) * bins / (hi - lo) corrected against the edges. */
	double *edges = xmalloc((bins + 1) * sizeof *edges);
	double step = (hi - lo) / (double)bins;
	for (size_t i = 0; i < bins; i++)
		edges[i] = (double)i * step + lo;
	edges[bins] = hi;
	int64_t *counts = xcalloc(bins, sizeof *counts);
	double norm = (double)bins / (hi - lo);
	size_t outside = 0;
	for (size_t i = 0; i < n; i++) {
		double x = v[i];
		if (x < lo || x > hi) {
			outside++;
			continue;
		}
		size_t b = (size_t)((x - lo) * norm);
		if (b >= bins)
			b = bins - 1;
		if (x < edges[b])
			b--;
		else if (b + 1 < bins && x >= edges[b + 1])
			b++;
		counts[b]++;
	}
	json_t *rows = json_array();
	size_t fullest = 0;
	for (size_t i = 0; i < bins; i++) {
		json_array_append_new(rows, json_pack("[o, o, I]", tool_real(edges[i]),
			tool_real(edges[i + 1]), (json_int_t)counts[i]));
		if (counts[i] > counts[fullest])
			fullest = i;
	}
	static const char *const names[] = { "bin_start", "bin_end", "count" };
	size_t total = n - outside;
	out->result = json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "column", c->name,
				"count", (json_int_t)n, "nulls", (json_int_t)nc.nulls,
				"total", (json_int_t)total, "outside", (json_int_t)outside,
				"min", tool_real(lo), "max", tool_real(hi),
				"bin_width", tool_real(step),
				"histogram", tool_table(names, 3, rows));
	out->summary = tool_printf("%s: %s values in %zu bins of width %s from %s to %s; the "
				   "fullest, [%s, %s%s, holds %s.%s", c->name,
				   fcount((long long)total).s, bins, fnum(step).s, fnum(lo).s,
				   fnum(hi).s, fnum(edges[fullest]).s, fnum(edges[fullest + 1]).s,
				   fullest + 1 == bins ? "]" : ")", fcount(counts[fullest]).s,
				   outside ? " Some values fall outside the range." : "");
	free(edges);
	free(counts);
	numcol_free(&nc);
	return 0;
}

static const struct tool histogram_tool = {
	.name = "histogram",
	.title = "Histogram of a numeric column",
	.description = "Counts of a numeric column's values in equal-width bins, like "
		       "numpy.histogram: bins from min to max (the data's range unless given; "
		       "a single value gets the range value-0.5 to value+0.5), each bin "
		       "[start, end) and the last [start, end]; values outside a given range "
		       "are counted as outside, nulls as nulls. "
		       "Korean: 히스토그램, 분포, 도수분포, 구간.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["column"],
		"properties": {
			"column": {"type": "string", "minLength": 1,
				   "description": "A numeric column (integer, real or boolean)"},
			"bins": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10,
				 "description": "Number of equal-width bins"},
			"min": {"type": "number", "description": "Start of the range (default: the smallest value)"},
			"max": {"type": "number", "description": "End of the range (default: the largest value)"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["column", "count", "nulls", "total", "outside", "min", "max",
			     "bin_width", "histogram"],
		"properties": {
			"column": {"type": "string"},
			"count": {"type": "integer", "minimum": 0, "description": "Non-null values"},
			"nulls": {"type": "integer", "minimum": 0},
			"total": {"type": "integer", "minimum": 0, "description": "Values in the bins"},
			"outside": {"type": "integer", "minimum": 0, "description": "Values outside the range"},
			"min": {"type": ["number", "null"]},
			"max": {"type": ["number", "null"]},
			"bin_width": {"type": ["number", "null"]},
			"histogram": {"type": "object", "description": "A table: bin_start, bin_end, count",
				"required": ["columns", "rows"],
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "items": {"type": "array",
							"minItems": 3, "maxItems": 3}}}}}}),
	.read_only = true,
	.run = histogram,
};

/* ---- outliers ---- */

struct outlier {
	double dist;
	double value;
	uint32_t row;
	bool high;
};

static int by_distance(const void *a, const void *b)
{
	const struct outlier *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist > y->dist ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

static int outliers(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		    struct tool_error *err)
{
	const struct table_column *c = tool_column(ctx, args, "column", TOOL_KINDS_NUMERIC, err);
	if (!c)
		return -1;
	const json_t *jk = json_object_get(args, "multiplier");
	double k = jk ? json_number_value(jk) : 1.5;
	const json_t *jl = json_object_get(args, "limit");
	size_t limit = jl ? (size_t)json_number_value(jl) : 20;
	struct numcol nc;
	if (load_numbers(ctx, c, true, &nc, err) < 0)
		return -1;
	size_t n = nc.n;
	double *sorted = xmalloc((n ? n : 1) * sizeof *sorted);
	memcpy(sorted, nc.v, n * sizeof *sorted);
	sort_doubles(sorted, n);
	double q1 = tool_quantile(sorted, n, 0.25), q3 = tool_quantile(sorted, n, 0.75);
	free(sorted);
	double iqr = q3 - q1, lower = q1 - k * iqr, upper = q3 + k * iqr;
	size_t below = 0, above = 0;
	for (size_t i = 0; i < n; i++) {
		below += nc.v[i] < lower;
		above += nc.v[i] > upper;
	}
	struct outlier *list = xmalloc((below + above ? below + above : 1) * sizeof *list);
	size_t m = 0;
	for (size_t i = 0; i < n && m < below + above; i++) {
		double x = nc.v[i];
		if (x < lower)
			list[m++] = (struct outlier){ lower - x, x, nc.row[i], false };
		else if (x > upper)
			list[m++] = (struct outlier){ x - upper, x, nc.row[i], true };
	}
	qsort(list, m, sizeof *list, by_distance);
	json_t *rows = json_array();
	for (size_t i = 0; i < m && i < limit; i++)
		json_array_append_new(rows, json_pack("[I, o, s, o]", (json_int_t)list[i].row + 1,
			number_json(c->kind, list[i].value), list[i].high ? "high" : "low",
			tool_real(list[i].dist)));
	free(list);
	static const char *const names[] = { "row", "value", "side", "distance" };
	double pct = n ? 100.0 * (double)m / (double)n : NAN;
	out->result = json_pack("{s:s, s:I, s:I, s:f, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, "
				"s:o, s:o}", "column", c->name, "count", (json_int_t)n,
				"nulls", (json_int_t)nc.nulls, "multiplier", k,
				"q1", tool_real(q1), "q3", tool_real(q3), "iqr", tool_real(iqr),
				"lower", tool_real(lower), "upper", tool_real(upper),
				"below", (json_int_t)below, "above", (json_int_t)above,
				"outliers", (json_int_t)m, "percent", tool_real(pct),
				"outlier_rows", tool_table(names, 4, rows));
	if (n)
		out->summary = tool_printf("%s: %s outliers (%.2f%% of %s values) outside [%s, "
					   "%s] by the IQR rule (k = %s): %s below, %s above.",
					   c->name, fcount((long long)m).s, pct,
					   fcount((long long)n).s, fnum(lower).s, fnum(upper).s,
					   fnum(k).s, fcount((long long)below).s,
					   fcount((long long)above).s);
	else
		out->summary = tool_printf("%s has no values (%s missing).", c->name,
					   fcount(nc.nulls).s);
	numcol_free(&nc);
	return 0;
}

static const struct tool outliers_tool = {
	.name = "outliers",
	.title = "Outliers of a numeric column (IQR)",
	.description = "Finds outliers of a numeric column with the IQR rule: q1 and q3 are "
		       "the 25th and 75th percentiles (linear interpolation), iqr = q3 - q1, and "
		       "a value below q1 - multiplier*iqr or above q3 + multiplier*iqr is an "
		       "outlier. Gives the bounds, how many fall below and above, their percent "
		       "of the non-null values, and up to limit outlier rows (row = 1-based row "
		       "number in the dataset, value, side low/high, distance beyond the bound), "
		       "farthest first, ties by row. Korean: 이상치, 이상값, 극단값, 사분위범위, IQR.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["column"],
		"properties": {
			"column": {"type": "string", "minLength": 1,
				   "description": "A numeric column (integer, real or boolean)"},
			"multiplier": {"type": "number", "exclusiveMinimum": 0, "default": 1.5,
				       "description": "k in q1 - k*iqr and q3 + k*iqr (3 for extreme outliers)"},
			"limit": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20,
				  "description": "Outlier rows listed"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["column", "count", "nulls", "multiplier", "q1", "q3", "iqr", "lower",
			     "upper", "below", "above", "outliers", "percent", "outlier_rows"],
		"properties": {
			"column": {"type": "string"},
			"count": {"type": "integer", "minimum": 0, "description": "Non-null values"},
			"nulls": {"type": "integer", "minimum": 0},
			"multiplier": {"type": "number"},
			"q1": {"type": ["number", "null"]},
			"q3": {"type": ["number", "null"]},
			"iqr": {"type": ["number", "null"]},
			"lower": {"type": ["number", "null"]},
			"upper": {"type": ["number", "null"]},
			"below": {"type": "integer", "minimum": 0},
			"above": {"type": "integer", "minimum": 0},
			"outliers": {"type": "integer", "minimum": 0},
			"percent": {"type": ["number", "null"], "description": "Outliers per 100 non-null values"},
			"outlier_rows": {"type": "object",
				"description": "A table: row (1-based row number), value, side (low/high), distance",
				"required": ["columns", "rows"],
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "items": {"type": "array",
							"minItems": 4, "maxItems": 4}}}}}}),
	.read_only = true,
	.run = outliers,
};

/* ---------------------------------------------------------------------- */
/* correlation */

enum corr_method { PEARSON, SPEARMAN };

/* Several numeric columns read in one scan, NaN for null; for Spearman the
 * values are then replaced by their average ranks (over each column's own
 * non-null rows), with each column's rows in value order kept to rank a
 * subset of them. */
struct corr {
	enum corr_method method;
	size_t k, n;                    /* columns, rows */
	const struct table_column **cols;
	double *x;                      /* x[j * n + i] */
	size_t *valid;                  /* non-null rows per column */
	uint32_t **order;               /* spearman: non-null rows in value order */
	uint64_t **keys;                /* spearman: their keys, sorted */
	double *ra, *rb;                /* spearman: scratch ranks */
	int64_t start_ns;
};

static void corr_free(struct corr *cc)
{
	for (size_t j = 0; cc->order && j < cc->k; j++) {
		free(cc->order[j]);
		free(cc->keys[j]);
	}
	free(cc->order);
	free(cc->keys);
	free(cc->x);
	free(cc->valid);
	free(cc->ra);
	free(cc->rb);
	free(cc->cols);
	memset(cc, 0, sizeof *cc);
}

static enum corr_method method_of(const json_t *args)
{
	const char *s = json_string_value(json_object_get(args, "method"));
	return s && strcmp(s, "spearman") == 0 ? SPEARMAN : PEARSON;
}

static const char *method_name(enum corr_method m)
{
	return m == SPEARMAN ? "spearman" : "pearson";
}

/* Average ranks (1-based, ties the mean of their ranks) of column j's
 * values written into out at their rows, over the rows where mask is not
 * NaN (mask NULL: all of j's rows); out is NaN elsewhere. */
static void rank_into(const struct corr *cc, size_t j, const double *mask, double *out)
{
	const uint32_t *ord = cc->order[j];
	const uint64_t *key = cc->keys[j];
	size_t cnt = cc->valid[j];
	for (size_t i = 0; i < cc->n; i++)
		out[i] = NAN;
	size_t done = 0;
	for (size_t p = 0; p < cnt;) {
		size_t q = p, g = 0;
		if (mask) {
			for (; q < cnt && key[q] == key[p]; q++)
				g += !isnan(mask[ord[q]]);
		} else {
			for (; q < cnt && key[q] == key[p]; q++)
				;
			g = q - p;
		}
		if (g) {
			double r = (double)done + ((double)g + 1) / 2;
			for (size_t t = p; t < q; t++)
				if (!mask || !isnan(mask[ord[t]]))
					out[ord[t]] = r;
			done += g;
		}
		p = q;
	}
}

/* corr_load's values from the frame cache: 1 when filled, 0 when there
 * is no cache, -1 on error. */
static int corr_from_frames(struct tool_ctx *ctx, struct corr *cc, struct tool_error *err)
{
	if (!ctx->frames)
		return 0;
	size_t k = cc->k;
	const char **names = xcalloc(k ? k : 1, sizeof *names);
	const struct frame_column **fc = xcalloc(k ? k : 1, sizeof *fc);
	for (size_t j = 0; j < k; j++)
		names[j] = cc->cols[j]->name;
	int rc = tool_frame(ctx, names, k, fc, err);
	free(names);
	if (rc < 0) {
		free(fc);
		return -1;
	}
	size_t n = k ? fc[0]->n : 0;
	cc->x = xmalloc((n ? n : 1) * (k ? k : 1) * sizeof *cc->x);
	cc->valid = xcalloc(k ? k : 1, sizeof *cc->valid);
	for (size_t j = 0; j < k; j++) {
		double *xj = cc->x + j * n;
		const struct frame_column *f = fc[j];
		size_t valid = 0;
		for (size_t i = 0; i < n; i++) {
			xj[i] = f->valid[i] ? f->num[i] : NAN;
			valid += f->valid[i];
		}
		cc->valid[j] = valid;
	}
	cc->n = n;
	tool_frame_release(ctx, fc, k);
	free(fc);
	return 1;
}

static int corr_load(struct tool_ctx *ctx, struct corr *cc, struct tool_error *err)
{
	size_t k = cc->k;
	/* values; for Spearman also order, keys, radix buffers, scratch */
	double per_row = (double)k * (cc->method == SPEARMAN ? 20 : 8) + 16 + 12;
	int64_t nrows = table_nrows(ctx->t);
	if ((uint64_t)nrows > MAX_ROWS)
		return tool_fail(err, TOOL_ERR_TOO_BIG, "this dataset has too many rows for this "
				 "tool (%lld)", (long long)nrows);
	struct budget b = { ctx->lim.memory_bytes, 0 };
	if (!spend(&b, (int64_t)(per_row * (double)nrows)))
		return over_budget(&b, err);
	int served = corr_from_frames(ctx, cc, err);
	if (served < 0)
		return -1;
	if (served)
		goto loaded;
	struct buf sql;
	buf_init(&sql, 1 << 24);
	buf_puts(&sql, "SELECT ");
	for (size_t j = 0; j < k; j++) {
		if (j)
			buf_puts(&sql, ", ");
		tool_ident(&sql, cc->cols[j]->name);
	}
	buf_puts(&sql, " FROM data");
	struct sql_query *q = tool_sql(ctx, sql.data, NULL, err);
	buf_free(&sql);
	if (!q)
		return -1;
	size_t cap = (size_t)table_nrows(ctx->t);
	cc->x = xmalloc((cap ? cap : 1) * k * sizeof *cc->x);
	cc->valid = xcalloc(k, sizeof *cc->valid);
	size_t n = 0;
	int rc;
	sqlite3_stmt *st = sql_stmt(q);
	sql_enter(q);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {   /* more rows than the table said: should not happen */
			sql_leave(q);
			sql_close(q);
			return tool_fail(err, TOOL_ERR_INTERNAL, "the dataset has more rows than "
					 "its metadata says");
		}
		for (size_t j = 0; j < k; j++) {
			sqlite3_value *sv = sqlite3_column_value(st, (int)j);
			int t = sqlite3_value_type(sv);
			double v = NAN;
			if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
				v = sqlite3_value_double(sv);
				cc->valid[j]++;
			}
			cc->x[j * cap + n] = v;
		}
		n++;
	}
	sql_leave(q);
	if (rc != SQLITE_DONE) {
		tool_sql_failed(q, err);
		sql_close(q);
		return -1;
	}
	sql_close(q);
	if (n < cap) {   /* compact to stride n */
		for (size_t j = 1; j < k; j++)
			memmove(cc->x + j * n, cc->x + j * cap, n * sizeof *cc->x);
	}
	cc->n = n;
loaded:
	n = cc->n;
	if (cc->method == SPEARMAN) {
		cc->order = xcalloc(k, sizeof *cc->order);
		cc->keys = xcalloc(k, sizeof *cc->keys);
		cc->ra = xmalloc((n ? n : 1) * sizeof *cc->ra);
		cc->rb = xmalloc((n ? n : 1) * sizeof *cc->rb);
		for (size_t j = 0; j < k; j++) {
			double *xj = cc->x + j * n;
			size_t cnt = cc->valid[j];
			uint64_t *key = xmalloc((cnt ? cnt : 1) * sizeof *key);
			uint32_t *ord = xmalloc((cnt ? cnt : 1) * sizeof *ord);
			size_t m = 0;
			for (size_t i = 0; i < n; i++)
				if (!isnan(xj[i])) {
					key[m] = key_of(xj[i]);
					ord[m++] = (uint32_t)i;
				}
			radix_sort(key, ord, m);
			cc->keys[j] = key;
			cc->order[j] = ord;
			rank_into(cc, j, NULL, xj);
		}
	}
	return 0;
}

/* Pearson's r of x and y over the rows where both are not NaN (all rows
 * when dense); *nobs gets their number.  NaN when fewer than two rows or
 * either side is constant.  Sums are of differences from the first pair,
 * so a constant column gives exactly zero variance. */
static double pearson(const double *x, const double *y, size_t n, bool dense, size_t *nobs)
{
	size_t first = 0;
	if (!dense)
		while (first < n && (isnan(x[first]) || isnan(y[first])))
			first++;
	if (first >= n) {
		*nobs = 0;
		return NAN;
	}
	double x0 = x[first], y0 = y[first], sx = 0, sy = 0;
	size_t m = 0;
	if (dense) {
		for (size_t i = 0; i < n; i++) {
			sx += x[i] - x0;
			sy += y[i] - y0;
		}
		m = n;
	} else {
		for (size_t i = first; i < n; i++)
			if (!isnan(x[i]) && !isnan(y[i])) {
				sx += x[i] - x0;
				sy += y[i] - y0;
				m++;
			}
	}
	*nobs = m;
	double mx = x0 + sx / (double)m, my = y0 + sy / (double)m;
	double sxx = 0, syy = 0, sxy = 0;
	if (dense) {
		for (size_t i = 0; i < n; i++) {
			double dx = x[i] - mx, dy = y[i] - my;
			sxx += dx * dx;
			syy += dy * dy;
			sxy += dx * dy;
		}
	} else {
		for (size_t i = first; i < n; i++)
			if (!isnan(x[i]) && !isnan(y[i])) {
				double dx = x[i] - mx, dy = y[i] - my;
				sxx += dx * dx;
				syy += dy * dy;
				sxy += dx * dy;
			}
	}
	double d = sqrt(sxx) * sqrt(syy);
	if (m < 2 || !(d > 0))
		return NAN;
	double r = sxy / d;
	return r > 1 ? 1 : r < -1 ? -1 : r;
}

static int past_deadline(struct tool_ctx *ctx, const struct corr *cc, struct tool_error *err)
{
	if (ctx->lim.time_ms > 0 &&
	    (clock_mono_ns() - cc->start_ns) / 1000000 > ctx->lim.time_ms)
		return tool_fail(err, TOOL_ERR_TIMEOUT, "the correlation ran longer than %lld ms; "
				 "pass fewer columns", (long long)ctx->lim.time_ms);
	return 0;
}

/* The correlation of columns a and b over their pairwise complete rows. */
static double corr_pair(struct corr *cc, size_t a, size_t b, size_t *nobs)
{
	size_t n = cc->n;
	const double *xa = cc->x + a * n, *xb = cc->x + b * n;
	bool dense = cc->valid[a] == n && cc->valid[b] == n;
	if (cc->method == PEARSON || dense || a == b)
		return pearson(xa, xb, n, dense, nobs);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		m += !isnan(xa[i]) && !isnan(xb[i]);
	/* A column's own ranks serve when the pair keeps all its rows. */
	const double *ra = xa, *rb = xb;
	if (m != cc->valid[a]) {
		rank_into(cc, a, xb, cc->ra);
		ra = cc->ra;
	}
	if (m != cc->valid[b]) {
		rank_into(cc, b, xa, cc->rb);
		rb = cc->rb;
	}
	return pearson(ra, rb, n, false, nobs);
}

/* The columns named by args[field] (an array of unique names) of numeric
 * kinds, or every numeric column but skip (a column or NULL) when absent. */
static int pick_columns(struct tool_ctx *ctx, const json_t *args, const char *field,
			const struct table_column *skip, const struct table_column ***cols,
			size_t *k, struct tool_error *err)
{
	const json_t *list = json_object_get(args, field);
	size_t ncols = table_ncolumns(ctx->t);
	*cols = xcalloc((list ? json_array_size(list) : ncols) + 1, sizeof **cols);
	*k = 0;
	if (list) {
		size_t i;
		const json_t *name;
		json_array_foreach(list, i, name) {
			char path[64];
			snprintf(path, sizeof path, "args.%s[%zu]", field, i);
			const struct table_column *c = tool_column_named(ctx, json_string_value(name),
				path, TOOL_KINDS_NUMERIC, err);
			if (!c) {
				free(*cols);
				*cols = NULL;
				return -1;
			}
			if (c != skip)
				(*cols)[(*k)++] = c;
		}
		return 0;
	}
	for (size_t i = 0; i < ncols; i++) {
		const struct table_column *c = table_column(ctx->t, i);
		if (is_numeric(c) && c != skip)
			(*cols)[(*k)++] = c;
	}
	return 0;
}

struct pair {
	double r;
	size_t a, b, nobs;
};

static int by_strength(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	bool pn = isnan(p->r), qn = isnan(q->r);
	if (pn != qn)
		return pn ? 1 : -1;
	double ap = fabs(p->r), aq = fabs(q->r);
	if (!pn && ap != aq)
		return ap > aq ? -1 : 1;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return (p->b > q->b) - (p->b < q->b);
}

/* ---- correlation ---- */

static int correlation(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		       struct tool_error *err)
{
	struct corr cc = { .start_ns = clock_mono_ns() };
	cc.method = method_of(args);
	if (pick_columns(ctx, args, "columns", NULL, &cc.cols, &cc.k, err) < 0)
		return -1;
	size_t k = cc.k;
	if (k < 2) {
		corr_free(&cc);
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.columns: this dataset has fewer "
				 "than two numeric columns to correlate");
	}
	if (corr_load(ctx, &cc, err) < 0) {
		corr_free(&cc);
		return -1;
	}
	double *r = xmalloc(k * k * sizeof *r);
	size_t npairs = k * (k - 1) / 2;
	struct pair *pairs = xmalloc(npairs * sizeof *pairs);
	size_t np = 0;
	for (size_t a = 0; a < k; a++)
		for (size_t b = 0; b <= a; b++) {
			if (past_deadline(ctx, &cc, err) < 0) {
				free(r);
				free(pairs);
				corr_free(&cc);
				return -1;
			}
			size_t nobs;
			double v = corr_pair(&cc, a, b, &nobs);
			r[a * k + b] = r[b * k + a] = v;
			if (a != b)
				pairs[np++] = (struct pair){ v, b, a, nobs };
		}
	qsort(pairs, np, sizeof *pairs, by_strength);
	const char **names = xmalloc((k + 1) * sizeof *names);
	names[0] = "column";
	json_t *cols = json_array();
	for (size_t j = 0; j < k; j++) {
		names[j + 1] = cc.cols[j]->name;
		json_array_append_new(cols, json_string(cc.cols[j]->name));
	}
	json_t *rows = json_array();
	for (size_t a = 0; a < k; a++) {
		json_t *row = json_array();
		json_array_append_new(row, json_string(cc.cols[a]->name));
		for (size_t b = 0; b < k; b++)
			json_array_append_new(row, tool_real(r[a * k + b]));
		json_array_append_new(rows, row);
	}
	json_t *matrix = tool_table(names, k + 1, rows);
	free(names);
	json_t *prow = json_array();
	size_t defined = 0;
	for (size_t i = 0; i < np; i++) {
		if (isnan(pairs[i].r))
			break;
		defined++;
		if (i < PAIRS_SHOWN)
			json_array_append_new(prow, json_pack("[s, s, o, I]", cc.cols[pairs[i].a]->name,
				cc.cols[pairs[i].b]->name, tool_real(pairs[i].r),
				(json_int_t)pairs[i].nobs));
	}
	static const char *const pnames[] = { "column_a", "column_b", "correlation", "n" };
	out->result = json_pack("{s:s, s:o, s:I, s:o, s:o}", "method", method_name(cc.method),
				"columns", cols, "rows", (json_int_t)cc.n, "matrix", matrix,
				"strongest_pairs", tool_table(pnames, 4, prow));
	const char *title = cc.method == SPEARMAN ? "Spearman" : "Pearson";
	if (defined)
		out->summary = tool_printf("%s correlation of %zu columns (%zu pairs); strongest: "
					   "%s and %s (r = %.3f over %s rows).", title, k, npairs,
					   cc.cols[pairs[0].a]->name, cc.cols[pairs[0].b]->name,
					   pairs[0].r, fcount((long long)pairs[0].nobs).s);
	else
		out->summary = tool_printf("%s correlation of %zu columns: no pair has a defined "
					   "correlation (too few values or constant columns).",
					   title, k);
	free(r);
	free(pairs);
	corr_free(&cc);
	return 0;
}

static const struct tool correlation_tool = {
	.name = "correlation",
	.title = "Correlation matrix",
	.description = "Correlation matrix of numeric columns (all integer, real and boolean "
		       "columns unless listed), like pandas DataFrame.corr(): Pearson, or "
		       "Spearman (Pearson on average ranks, ties sharing their mean rank). Each "
		       "pair uses the rows where both columns have values; a constant column or "
		       "fewer than two rows gives null. Also lists the strongest pairs by "
		       "absolute correlation (up to 20) with their row counts. "
		       "Korean: 상관관계, 상관계수, 상관 행렬, 피어슨, 스피어만.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"properties": {
			"columns": {"type": "array", "minItems": 2, "maxItems": 1000,
				    "uniqueItems": true, "items": {"type": "string", "minLength": 1},
				    "description": "Numeric columns (default: every numeric column)"},
			"method": {"type": "string", "enum": ["pearson", "spearman"],
				   "default": "pearson"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["method", "columns", "rows", "matrix", "strongest_pairs"],
		"properties": {
			"method": {"type": "string", "enum": ["pearson", "spearman"]},
			"columns": {"type": "array", "items": {"type": "string"}},
			"rows": {"type": "integer", "minimum": 0},
			"matrix": {"type": "object",
				"description": "A table: column, then one correlation per column (null when undefined)",
				"required": ["columns", "rows"],
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "items": {"type": "array"}}}},
			"strongest_pairs": {"type": "object",
				"description": "A table: column_a, column_b, correlation, n (rows used); strongest first",
				"required": ["columns", "rows"],
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "maxItems": 20,
							"items": {"type": "array", "minItems": 4, "maxItems": 4}}}}}}),
	.read_only = true,
	.run = correlation,
};

/* ---- correlation_with_target ---- */

static int correlation_with_target(struct tool_ctx *ctx, const json_t *args,
				   struct tool_output *out, struct tool_error *err)
{
	const struct table_column *target = tool_column(ctx, args, "target", TOOL_KINDS_NUMERIC,
							 err);
	if (!target)
		return -1;
	struct corr cc = { .start_ns = clock_mono_ns() };
	cc.method = method_of(args);
	const struct table_column **others;
	size_t k;
	if (pick_columns(ctx, args, "columns", target, &others, &k, err) < 0)
		return -1;
	if (k == 0) {
		free(others);
		return tool_fail(err, TOOL_ERR_ARGUMENT, "args.columns: %s", json_object_get(args,
				 "columns") ? "name at least one column besides the target"
				 : "this dataset has no other numeric column");
	}
	cc.k = k + 1;
	cc.cols = xmalloc(cc.k * sizeof *cc.cols);
	cc.cols[0] = target;
	memcpy(cc.cols + 1, others, k * sizeof *others);
	free(others);
	if (corr_load(ctx, &cc, err) < 0) {
		corr_free(&cc);
		return -1;
	}
	struct pair *pairs = xmalloc(k * sizeof *pairs);
	for (size_t j = 1; j <= k; j++) {
		if (past_deadline(ctx, &cc, err) < 0) {
			free(pairs);
			corr_free(&cc);
			return -1;
		}
		size_t nobs;
		double v = corr_pair(&cc, 0, j, &nobs);
		pairs[j - 1] = (struct pair){ v, j, 0, nobs };
	}
	qsort(pairs, k, sizeof *pairs, by_strength);
	json_t *rows = json_array();
	for (size_t i = 0; i < k; i++)
		json_array_append_new(rows, json_pack("[s, o, I]", cc.cols[pairs[i].a]->name,
			tool_real(pairs[i].r), (json_int_t)pairs[i].nobs));
	static const char *const names[] = { "column", "correlation", "n" };
	out->result = json_pack("{s:s, s:s, s:I, s:o}", "target", target->name,
				"method", method_name(cc.method), "rows", (json_int_t)cc.n,
				"correlations", tool_table(names, 3, rows));
	if (!isnan(pairs[0].r))
		out->summary = tool_printf("%s correlation with %s over %zu columns; strongest: "
					   "%s (r = %.3f over %s rows).",
					   cc.method == SPEARMAN ? "Spearman" : "Pearson",
					   target->name, k, cc.cols[pairs[0].a]->name, pairs[0].r,
					   fcount((long long)pairs[0].nobs).s);
	else
		out->summary = tool_printf("No column has a defined correlation with %s (too few "
					   "values or a constant column).", target->name);
	free(pairs);
	corr_free(&cc);
	return 0;
}

static const struct tool correlation_with_target_tool = {
	.name = "correlation_with_target",
	.title = "Correlation with a target column",
	.description = "Correlation of each numeric column with one target column, strongest "
		       "(by absolute value) first, like pandas corrwith: Pearson or Spearman, "
		       "over the rows where both have values; null when undefined (constant "
		       "column, fewer than two rows), listed last. "
		       "Korean: 상관관계, 상관계수, 목표 변수, 타깃, 영향 요인.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["target"],
		"properties": {
			"target": {"type": "string", "minLength": 1,
				   "description": "The numeric column to correlate with"},
			"columns": {"type": "array", "minItems": 1, "maxItems": 1000,
				    "uniqueItems": true, "items": {"type": "string", "minLength": 1},
				    "description": "Numeric columns (default: every other numeric column)"},
			"method": {"type": "string", "enum": ["pearson", "spearman"],
				   "default": "pearson"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["target", "method", "rows", "correlations"],
		"properties": {
			"target": {"type": "string"},
			"method": {"type": "string", "enum": ["pearson", "spearman"]},
			"rows": {"type": "integer", "minimum": 0},
			"correlations": {"type": "object",
				"description": "A table: column, correlation (null when undefined), n (rows used); strongest first",
				"required": ["columns", "rows"],
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "items": {"type": "array",
							"minItems": 3, "maxItems": 3}}}}}}),
	.read_only = true,
	.run = correlation_with_target,
};

/* ---- describe ---- */

/* One row of describe for a scanned column (its arrays are used up). */
static json_t *describe_row(struct colscan *cs)
{
	const struct table_column *c = cs->c;
	if (cs->numeric) {
		struct numstats s;
		numstats_compute(&cs->nc, c->kind, &s);
		json_decref(s.sum);
		return json_pack("[s, s, I, I, o, o, o, o, o, o, o, n, n, n]", c->name,
			column_kind_name(c->kind), (json_int_t)s.count, (json_int_t)s.nulls,
			tool_real(s.mean), tool_real(s.std), number_json(c->kind, s.min),
			tool_real(s.p25), tool_real(s.p50), tool_real(s.p75),
			number_json(c->kind, s.max));
	}
	struct textstats s;
	textstats_compute(&cs->sc, &s);
	json_t *row = json_pack("[s, s, I, I, n, n, O, n, n, n, O, I, O, o]", c->name,
		column_kind_name(c->kind), (json_int_t)s.count, (json_int_t)s.nulls,
		s.min, s.max, (json_int_t)s.distinct, s.top,
		s.count ? json_integer(s.freq) : json_null());
	textstats_clear(&s);
	return row;
}

#define DESCRIBE_BATCH 200   /* columns read in one scan at most */

static int describe(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		    struct tool_error *err)
{
	const json_t *list = json_object_get(args, "columns");
	size_t k = list ? json_array_size(list) : table_ncolumns(ctx->t);
	struct colscan *cs = xcalloc(k ? k : 1, sizeof *cs);
	size_t numeric = 0;
	for (size_t i = 0; i < k; i++) {
		if (list) {
			char path[64];
			snprintf(path, sizeof path, "args.columns[%zu]", i);
			cs[i].c = tool_column_named(ctx, json_string_value(json_array_get(list, i)),
						    path, TOOL_KINDS_ANY, err);
			if (!cs[i].c) {
				free(cs);
				return -1;
			}
		} else {
			cs[i].c = table_column(ctx->t, i);
		}
		numeric += is_numeric(cs[i].c);
	}
	/* Scans of as many columns as fit half the memory limit with their
	 * numbers (the other half for counting text values). */
	int64_t rows = table_nrows(ctx->t), limit = ctx->lim.memory_bytes;
	json_t *table = json_array();
	for (size_t i = 0; i < k;) {
		size_t j = i, nnum = 0;
		while (j < k && j - i < DESCRIBE_BATCH) {
			size_t more = nnum + is_numeric(cs[j].c);
			if (j > i && limit && (double)rows * (double)(8 * more + 16) > (double)limit / 2)
				break;
			nnum = more;
			j++;
		}
		if (scan_columns(ctx, cs + i, j - i, false, err) < 0) {
			json_decref(table);
			free(cs);
			return -1;
		}
		for (; i < j; i++) {
			json_array_append_new(table, describe_row(&cs[i]));
			colscan_free(&cs[i]);
		}
	}
	free(cs);
	static const char *const names[] = {
		"column", "type", "count", "nulls", "mean", "std", "min", "25%", "50%", "75%",
		"max", "unique", "top", "freq",
	};
	out->result = json_pack("{s:I, s:I, s:o}", "rows", (json_int_t)rows, "columns",
				(json_int_t)k, "describe", tool_table(names, 14, table));
	out->summary = tool_printf("Described %zu columns over %s rows: %zu numeric, %zu text "
				   "or date/time.", k, fcount(rows).s, numeric, k - numeric);
	return 0;
}

static const struct tool describe_tool = {
	.name = "describe",
	.title = "Describe every column",
	.description = "Summary statistics of all columns at once, like pandas "
		       "describe(include=\"all\"), one row per column: numeric columns (integer, "
		       "real, boolean as 0/1) get count, nulls, mean, std (ddof 1), min, 25%, "
		       "50%, 75%, max; text, date, datetime and time columns get count, nulls, "
		       "unique, top (most frequent; ties to the smallest), freq, and min/max in "
		       "text order. Korean: 기술 통계, 요약 통계, 데이터 요약, 평균, 표준편차, 사분위수.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"properties": {
			"columns": {"type": "array", "minItems": 1, "maxItems": 2000,
				    "uniqueItems": true, "items": {"type": "string", "minLength": 1},
				    "description": "Columns to describe (default: all)"}}}),
	.output_schema = JSON({"type": "object", "required": ["rows", "columns", "describe"],
		"properties": {
			"rows": {"type": "integer", "minimum": 0},
			"columns": {"type": "integer", "minimum": 0},
			"describe": {"type": "object",
				"description": "A table: column, type, count, nulls, mean, std, min, 25%, 50%, 75%, max, unique, top, freq (null where it does not apply)",
				"required": ["columns", "rows"],
				"properties": {"columns": {"type": "array", "items": {"type": "string"}},
					       "rows": {"type": "array", "items": {"type": "array",
							"minItems": 14, "maxItems": 14}}}}}}),
	.read_only = true,
	.run = describe,
};

const struct tool *const tools_stats[] = {
	&column_stats_tool,
	&percentile_tool,
	&histogram_tool,
	&outliers_tool,
	&correlation_tool,
	&correlation_with_target_tool,
	&describe_tool,
	NULL,
};
