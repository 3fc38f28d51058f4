/*
 * Column profiles (profile.h): one streaming pass over a column's values,
 * with every structure bounded, ending in a JSON summary.
 *
 * Numbers and dates are reduced to "ordered keys", 64-bit unsigned integers
 * whose order is the values' order (an int64 with its sign bit flipped; a
 * double's bits arranged so that unsigned comparison sorts them; a date as
 * days and a datetime or time as microseconds, both as int64).  The kept
 * values, the sample and the top-value keys are all ordered keys, so one
 * selection routine and one comparison serve every kind.
 */
#include "ingest/profile.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "ingest/value.h"

#define INDEX_CAP (4 * PROFILE_SUMMARY_COUNTERS)   /* load 1/4: short probes */
#define HLL_P 14
#define HLL_M (1u << HLL_P)
#define HLL_Q (64 - HLL_P)
#define YEAR_FIRST 1000                /* value.h accepts years 1000-9999 */
#define YEAR_COUNT 9000
#define MONTH_WINDOW (2 * PROFILE_MONTHS_MAX - 1)
#define TEXT_KEEP 64                   /* min/max text of dates and times */
#define USEC_PER_DAY 86400000000LL
#define MOMENT_BLOCK 256               /* values per merge of mean and variance */

struct exact_entry {
	uint64_t h;                    /* 0: empty slot */
	uint64_t count;
	union {
		uint64_t key;          /* numbers: the ordered key */
		struct {
			uint32_t off, len;   /* text kinds: the copy in the arena */
		} text;
	} v;
};

struct summary;

/* A date, datetime or time value as written, for min and max. */
struct kept_text {
	int64_t key;
	uint8_t len;
	char s[TEXT_KEEP];
};

struct profile {
	struct profile_options opt;
	bool text_keys;                /* top values are text (text, dates, times) */
	uint64_t count, nulls;

	/* integer, real, boolean */
	double mean, m2;               /* of the values merged so far (moments_merge) */
	uint64_t merged;
	double block[MOMENT_BLOCK];    /* values not merged yet */
	unsigned nblock;
	int64_t imin, imax;
	double rmin, rmax;

	/* text */
	uint64_t min_len, max_len;

	/* date, datetime, time */
	uint64_t parsed;               /* values that parsed (have a key) */
	struct kept_text lo, hi;
	int tz_state;                  /* 0 none yet, 1 all alike, 2 mixed */
	bool tz_has;
	int tz_minutes;
	uint64_t *years;               /* YEAR_COUNT counts (date, datetime) */
	uint64_t months[MONTH_WINDOW]; /* around the first month seen */
	int64_t month_first, month_min, month_max;
	bool months_dropped;
	uint64_t hours[24];            /* time */

	/* quantiles */
	uint64_t *vals;                /* ordered keys: all of them, or a sample */
	size_t nvals, vals_cap;
	uint64_t nkeys;                /* keys fed */
	bool sampled;
	uint64_t rng;
	uint64_t *icounts;             /* integer columns: a count per value */
	int64_t ibase;
	size_t ilen;

	/* numeric histogram over a known range */
	double *edges;                 /* nbins + 1, NULL without a range */
	uint64_t *hist;
	unsigned nbins;
	double norm;

	/* distinct and top: exact table, then sketch and summary */
	struct exact_entry *table;
	size_t table_len, table_cap;
	char *arena;
	size_t arena_len, arena_cap;
	uint8_t *hll;
	struct summary *summary;
};

static uint64_t int_key(int64_t v)
{
	return (uint64_t)v ^ (1ULL << 63);
}

static int64_t key_int(uint64_t k)
{
	return (int64_t)(k ^ (1ULL << 63));
}

static uint64_t real_key(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof b);
	return (b >> 63) ? ~b : b | (1ULL << 63);
}

static double key_real(uint64_t k)
{
	uint64_t b = (k >> 63) ? k & ~(1ULL << 63) : ~k;
	double v;
	memcpy(&v, &b, sizeof v);
	return v;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_key(uint64_t k)
{
	uint64_t h = mix64(k ^ 0x5851F42D4C957F2DULL);
	return h ? h : 1;
}

/* splitmix64: a fixed seed, so the same column gives the same sample. */
static uint64_t next_random(struct profile *p)
{
	uint64_t z = (p->rng += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static uint64_t random_below(struct profile *p, uint64_t n)
{
	uint64_t r = next_random(p);
	if (n <= UINT32_MAX)
		return ((r >> 32) * n) >> 32;
	return r % n;
}

/* The longest prefix of at most max bytes that does not cut a UTF-8
 * sequence (continuation bytes are 10xxxxxx). */
static size_t display_len(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n ? n : max;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static size_t table_find(const struct exact_entry *t, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);
	while (t[i].h && t[i].h != h)
		i = (i + 1) & (cap - 1);
	return i;
}

static void table_grow(struct profile *p)
{
	size_t cap = p->table_cap * 2;
	struct exact_entry *t = xzalloc_touched(cap, sizeof *t);
	for (size_t i = 0; i < p->table_cap; i++)
		if (p->table[i].h)
			t[table_find(t, cap, p->table[i].h)] = p->table[i];
	free(p->table);
	p->table = t;
	p->table_cap = cap;
}

static void arena_put(struct profile *p, struct exact_entry *e, const char *s, size_t len)
{
	size_t n = display_len(s, len, PROFILE_TOP_TEXT_MAX);
	if (p->arena_len + n > p->arena_cap) {
		size_t cap = p->arena_cap ? p->arena_cap * 2 : 4096;
		while (cap < p->arena_len + n)
			cap *= 2;
		p->arena = xrealloc(p->arena, cap);
		p->arena_cap = cap;
	}
	memcpy(p->arena + p->arena_len, s, n);
	e->v.text.off = (uint32_t)p->arena_len;
	e->v.text.len = (uint32_t)n;
	p->arena_len += n;
}

static void hll_add(uint8_t *reg, uint64_t h)
{
	uint64_t w = h & ((1ULL << HLL_Q) - 1);
	uint8_t rank = w ? (uint8_t)(__builtin_clzll(w) - HLL_P + 1) : HLL_Q + 1;
	size_t i = (size_t)(h >> HLL_Q);
	if (reg[i] < rank)
		reg[i] = rank;
}

/* Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 * (2017), the improved raw estimator: no bias tables and no switch to
 * linear counting, accurate over the whole range. */
static double hll_sigma(double x)
{
	if (x == 1)
		return INFINITY;
	double y = 1, z = x, prev;
	do {
		x *= x;
		prev = z;
		z += x * y;
		y += y;
	} while (z != prev);
	return z;
}

static double hll_tau(double x)
{
	if (x == 0 || x == 1)
		return 0;
	double y = 1, z = 1 - x, prev;
	do {
		x = sqrt(x);
		prev = z;
		y *= 0.5;
		z -= (1 - x) * (1 - x) * y;
	} while (z != prev);
	return z / 3;
}

static double hll_estimate(const uint8_t *reg)
{
	uint32_t c[HLL_Q + 2] = { 0 };
	for (size_t i = 0; i < HLL_M; i++)
		c[reg[i]]++;
	double m = HLL_M;
	double z = m * hll_tau(1 - c[HLL_Q + 1] / m);
	for (int k = HLL_Q; k >= 1; k--)
		z = 0.5 * (z + c[k]);
	z += m * hll_sigma(c[0] / m);
	return m * m / (2 * log(2)) / z;
}

/* The Space-Saving summary as Metwally's Stream-Summary: counters grouped
 * in buckets of equal count, buckets in a list by increasing count, so an
 * increment and finding a smallest counter are O(1).  The fields used on
 * every value are small arrays of their own; the texts lie apart. */
#define SS_N PROFILE_SUMMARY_COUNTERS
#define NONE (-1)

struct summary {
	size_t n;                      /* counters in use */
	int16_t first;                 /* bucket with the smallest count */
	int16_t free_bucket;           /* unused buckets, chained by bnext */
	uint64_t h[SS_N];              /* counter: the value's hash */
	int16_t bucket[SS_N], prev[SS_N], next[SS_N];   /* its bucket's list */
	uint64_t bcount[SS_N];         /* bucket: the count of its counters */
	int16_t bprev[SS_N], bnext[SS_N], bhead[SS_N];
	uint16_t index[INDEX_CAP];     /* counter + 1 by hash, linear probing */
	uint64_t key[SS_N];            /* counter: the value (numbers) */
	uint32_t len[SS_N];
	char text[SS_N][PROFILE_TOP_TEXT_MAX];
};

static struct summary *summary_new(void)
{
	struct summary *s = xzalloc_touched(1, sizeof *s);
	s->first = NONE;
	for (int b = 0; b < SS_N; b++)
		s->bnext[b] = (int16_t)(b + 1 < SS_N ? b + 1 : NONE);
	s->free_bucket = 0;
	return s;
}

/* A new bucket after bucket `after` (NONE: at the front).  One is always
 * free: no more buckets are in use than counters, and a new one is taken
 * only while its counter's old bucket still holds another counter. */
static int16_t bucket_new(struct summary *s, uint64_t count, int16_t after)
{
	int16_t b = s->free_bucket;
	assert(b != NONE);
	s->free_bucket = s->bnext[b];
	s->bcount[b] = count;
	s->bhead[b] = NONE;
	s->bprev[b] = after;
	s->bnext[b] = after != NONE ? s->bnext[after] : s->first;
	if (s->bnext[b] != NONE)
		s->bprev[s->bnext[b]] = b;
	if (after != NONE)
		s->bnext[after] = b;
	else
		s->first = b;
	return b;
}

static void counter_unlink(struct summary *s, int16_t c)
{
	int16_t b = s->bucket[c];
	if (s->prev[c] != NONE)
		s->next[s->prev[c]] = s->next[c];
	else
		s->bhead[b] = s->next[c];
	if (s->next[c] != NONE)
		s->prev[s->next[c]] = s->prev[c];
	if (s->bhead[b] != NONE)
		return;
	if (s->bprev[b] != NONE)
		s->bnext[s->bprev[b]] = s->bnext[b];
	else
		s->first = s->bnext[b];
	if (s->bnext[b] != NONE)
		s->bprev[s->bnext[b]] = s->bprev[b];
	s->bnext[b] = s->free_bucket;
	s->free_bucket = b;
}

static void counter_link(struct summary *s, int16_t c, int16_t b)
{
	s->bucket[c] = b;
	s->prev[c] = NONE;
	s->next[c] = s->bhead[b];
	if (s->bhead[b] != NONE)
		s->prev[s->bhead[b]] = c;
	s->bhead[b] = c;
}

static void counter_increment(struct summary *s, int16_t c)
{
	int16_t b = s->bucket[c], nb = s->bnext[b];
	uint64_t want = s->bcount[b] + 1;
	bool next_fits = nb != NONE && s->bcount[nb] == want;
	if (!next_fits && s->bhead[b] == c && s->next[c] == NONE) {
		s->bcount[b] = want;   /* alone in its bucket: the bucket moves up */
		return;
	}
	if (!next_fits)
		nb = bucket_new(s, want, b);
	counter_unlink(s, c);
	counter_link(s, c, nb);
}

static size_t index_find(const struct summary *s, uint64_t h)
{
	size_t i = (size_t)h & (INDEX_CAP - 1);
	while (s->index[i] && s->h[s->index[i] - 1] != h)
		i = (i + 1) & (INDEX_CAP - 1);
	return i;
}

/* Linear-probing deletion by backward shift: no tombstones, so lookups
 * stay short however many values pass through the summary. */
static void index_delete(struct summary *s, size_t i)
{
	const size_t mask = INDEX_CAP - 1;
	for (;;) {
		s->index[i] = 0;
		size_t j = i;
		for (;;) {
			j = (j + 1) & mask;
			if (!s->index[j])
				return;
			size_t home = (size_t)s->h[s->index[j] - 1] & mask;
			bool stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
			if (!stays)
				break;
		}
		s->index[i] = s->index[j];
		i = j;
	}
}

static void counter_set(struct summary *s, int16_t c, uint64_t h, uint64_t key,
			const char *text, size_t len)
{
	s->h[c] = h;
	s->key[c] = key;
	s->len[c] = (uint32_t)len;
	if (len)
		memcpy(s->text[c], text, len);
}

static void summary_add(struct summary *s, uint64_t h, uint64_t key, const char *text,
			size_t len)
{
	size_t i = index_find(s, h);
	if (s->index[i]) {
		counter_increment(s, (int16_t)(s->index[i] - 1));
		return;
	}
	size_t n = text ? display_len(text, len, PROFILE_TOP_TEXT_MAX) : 0;
	int16_t c;
	if (s->n < SS_N) {
		c = (int16_t)s->n++;
		int16_t b = s->first != NONE && s->bcount[s->first] == 1 ? s->first
								       : bucket_new(s, 1, NONE);
		counter_set(s, c, h, key, text, n);
		counter_link(s, c, b);
	} else {
		/* Space-Saving: the new value takes over a smallest counter and
		 * its count, plus one. */
		c = s->bhead[s->first];
		index_delete(s, index_find(s, s->h[c]));
		counter_set(s, c, h, key, text, n);
		counter_increment(s, c);
		i = index_find(s, h);
	}
	s->index[i] = (uint16_t)(c + 1);
}

static int entry_by_count(const void *a, const void *b)
{
	const struct exact_entry *x = *(const struct exact_entry *const *)a;
	const struct exact_entry *y = *(const struct exact_entry *const *)b;
	return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

/* Past INFER_MAX_DISTINCT values: distinct goes to the sketch and top to
 * the summary, seeded with the largest exact counts.  Every value left out
 * counted no more than the smallest seed, so the summary's counts remain
 * upper bounds. */
/* Whether top values are still tracked once distinct values overflow the
 * exact table: for text and dates, not for numbers and instants (profile.h). */
static bool keeps_summary(const struct profile *p)
{
	return p->opt.kind == COLUMN_TEXT || p->opt.kind == COLUMN_DATE ||
	       p->opt.kind == COLUMN_BOOL;
}

static void switch_to_summary(struct profile *p)
{
	p->hll = xzalloc_touched(HLL_M, 1);
	struct exact_entry **order = xmalloc(p->table_len * sizeof *order);
	size_t n = 0;
	for (size_t i = 0; i < p->table_cap; i++) {
		if (p->table[i].h) {
			hll_add(p->hll, p->table[i].h);
			order[n++] = &p->table[i];
		}
	}
	qsort(order, n, sizeof *order, entry_by_count);
	struct summary *s = p->summary = summary_new();
	if (n > SS_N)
		n = SS_N;
	/* From the smallest count up, so buckets are appended in order. */
	int16_t last = NONE;
	for (size_t k = n; k-- > 0;) {
		const struct exact_entry *e = order[k];
		int16_t c = (int16_t)s->n++;
		if (p->text_keys)
			counter_set(s, c, e->h, 0, p->arena ? p->arena + e->v.text.off : NULL,
				    e->v.text.len);
		else
			counter_set(s, c, e->h, e->v.key, NULL, 0);
		if (last == NONE || s->bcount[last] != e->count)
			last = bucket_new(s, e->count, last);
		counter_link(s, c, last);
		s->index[index_find(s, e->h)] = (uint16_t)(c + 1);
	}
	free(order);
	free(p->table);
	free(p->arena);
	if (!keeps_summary(p)) {
		free(p->summary);
		p->summary = NULL;
	}
	p->table = NULL;
	p->arena = NULL;
	p->table_len = p->table_cap = p->arena_len = p->arena_cap = 0;
}

/* count_value's way past a first-probe hit: probing on, a new entry, the
 * switch to the sketch, the summary. */
__attribute__((noinline)) static bool count_slow(struct profile *p, uint64_t h, uint64_t key,
						 const char *s, size_t len)
{
	if (p->table) {
		size_t i = table_find(p->table, p->table_cap, h);
		if (p->table[i].h) {
			p->table[i].count++;
			return false;
		}
		if (p->table_len < INFER_MAX_DISTINCT) {
			if ((p->table_len + 1) * 4 > p->table_cap * 3) {
				table_grow(p);
				i = table_find(p->table, p->table_cap, h);
			}
			struct exact_entry *e = &p->table[i];
			e->h = h;
			e->count = 1;
			if (s)
				arena_put(p, e, s, len);
			else
				e->v.key = key;
			p->table_len++;
			return true;
		}
		switch_to_summary(p);
	}
	hll_add(p->hll, h);
	if (p->summary)
		summary_add(p->summary, h, key, s, len);
	return true;
}

/* One non-null value for distinct and top.  s is the text for text kinds
 * (NULL for numbers, which are identified by key).  Returns false when the
 * value was seen before (and is counted in the exact table), true when it
 * is new or distinct values are no longer kept: then per-value facts (a
 * text's length) must be looked at.  The two common cases are inline. */
static inline bool count_value(struct profile *p, uint64_t h, uint64_t key, const char *s,
			       size_t len)
{
	if (p->table) {
		struct exact_entry *e = &p->table[h & (p->table_cap - 1)];
		if (e->h == h) {
			e->count++;
			return false;
		}
	} else if (!p->summary) {
		hll_add(p->hll, h);
		return true;
	}
	return count_slow(p, h, key, s, len);
}

static void icounts_degrade(struct profile *p);

/* The first value of a window of PROFILE_INT_COUNT_RANGE + 1 integers
 * centred on [imin, imax] (whose span must fit in it), kept inside int64. */
static int64_t icounts_window(const struct profile *p)
{
	uint64_t span = (uint64_t)p->imax - (uint64_t)p->imin;
	uint64_t slack = (PROFILE_INT_COUNT_RANGE - span) / 2;
	uint64_t room_below = (uint64_t)p->imin - (uint64_t)INT64_MIN;
	uint64_t room_above = (uint64_t)INT64_MAX - (uint64_t)p->imin;
	if (slack > room_below)
		slack = room_below;
	uint64_t lo = (uint64_t)p->imin - slack;
	if (room_above + slack < PROFILE_INT_COUNT_RANGE)   /* the window would pass INT64_MAX */
		lo = (uint64_t)INT64_MAX - PROFILE_INT_COUNT_RANGE;
	return (int64_t)lo;
}

/* Starts per-value counts of an integer column when its values span at
 * most PROFILE_INT_COUNT_RANGE: over the range inference promised, or
 * without one over a window around the values seen so far, which moves
 * while the values keep within that span (icounts_move). */
static bool icounts_start(struct profile *p)
{
	if (p->opt.kind != COLUMN_INT)
		return false;
	int64_t lo = p->imin, hi = p->imax;
	if (p->opt.have_range) {
		if (!(p->opt.min >= -9.2e18 && p->opt.max <= 9.2e18))
			return false;
		if ((int64_t)floor(p->opt.min) < lo)
			lo = (int64_t)floor(p->opt.min);
		if ((int64_t)ceil(p->opt.max) > hi)
			hi = (int64_t)ceil(p->opt.max);
	}
	if ((uint64_t)hi - (uint64_t)lo > PROFILE_INT_COUNT_RANGE)
		return false;
	if (p->opt.have_range) {
		p->ibase = lo;
		p->ilen = (size_t)((uint64_t)hi - (uint64_t)lo) + 1;
	} else {
		p->ibase = icounts_window(p);
		p->ilen = PROFILE_INT_COUNT_RANGE + 1;
	}
	p->icounts = xzalloc_touched(p->ilen, sizeof *p->icounts);
	for (size_t i = 0; i < p->nvals; i++)
		p->icounts[(uint64_t)key_int(p->vals[i]) - (uint64_t)p->ibase]++;
	free(p->vals);
	p->vals = NULL;
	p->nvals = p->vals_cap = 0;
	return true;
}

/* A value fell outside the counts' window but the column's values still
 * span at most PROFILE_INT_COUNT_RANGE: re-centre the window on them. */
static bool icounts_move(struct profile *p)
{
	if ((uint64_t)p->imax - (uint64_t)p->imin > PROFILE_INT_COUNT_RANGE)
		return false;
	int64_t base = icounts_window(p);
	size_t len = PROFILE_INT_COUNT_RANGE + 1;
	uint64_t *counts = xzalloc_touched(len, sizeof *counts);
	for (size_t i = 0; i < p->ilen; i++) {
		if (!p->icounts[i])
			continue;
		/* Every counted value lies in [imin, imax], inside the new window. */
		uint64_t at = (uint64_t)p->ibase + i - (uint64_t)base;
		counts[at] = p->icounts[i];
	}
	free(p->icounts);
	p->icounts = counts;
	p->ibase = base;
	p->ilen = len;
	return true;
}

/* Reservoir sampling (Vitter's algorithm R): the nkeys-th key replaces a
 * random kept one with probability sample / nkeys.  (Li's algorithm L,
 * which draws how many keys to skip instead, costs more here: with a
 * sample of 100,000 a file of millions of rows makes hundreds of thousands
 * of picks, each with logarithms.) */
static inline void reservoir_add(struct profile *p, uint64_t key)
{
	uint64_t j = random_below(p, p->nkeys);
	if (j < p->nvals)
		p->vals[j] = key;
}

/* quantile_add's way past its common cases (the key nkeys). */
__attribute__((noinline)) static void quantile_slow(struct profile *p, uint64_t key)
{
	if (p->icounts) {
		if (icounts_move(p)) {
			p->icounts[(uint64_t)key_int(key) - (uint64_t)p->ibase]++;
			return;
		}
		icounts_degrade(p);   /* the values span too much to count each */
	}
	if (p->nvals < p->opt.sample) {
		if (p->nvals == p->vals_cap) {
			size_t cap = p->vals_cap ? p->vals_cap * 2 : 1024;
			if (cap > p->opt.sample)
				cap = p->opt.sample;
			p->vals = xrealloc(p->vals, cap * sizeof *p->vals);
			p->vals_cap = cap;
		}
		p->vals[p->nvals++] = key;
		return;
	}
	if (!p->sampled && icounts_start(p)) {
		p->icounts[(uint64_t)key_int(key) - (uint64_t)p->ibase]++;
		return;
	}
	p->sampled = true;
	reservoir_add(p, key);
}

/* One key for the quantiles: all kept while they fit the sample, then
 * per-value counts (integers of a small range) or a uniform sample. */
static inline void quantile_add(struct profile *p, uint64_t key)
{
	p->nkeys++;
	if (p->icounts) {
		uint64_t i = (uint64_t)key_int(key) - (uint64_t)p->ibase;
		if (i < p->ilen) {
			p->icounts[i]++;
			return;
		}
	} else if (p->sampled) {
		reservoir_add(p, key);
		return;
	} else if (p->nvals < p->vals_cap) {
		p->vals[p->nvals++] = key;
		return;
	}
	quantile_slow(p, key);
}

/* The per-value counts cannot take a value: replace them by an evenly
 * spread sample of what they counted (the value at ranks (i + 1/2) n / k),
 * which stands for a uniform sample of those values from here on. */
static void icounts_degrade(struct profile *p)
{
	uint64_t n = p->nkeys - 1;
	size_t k = p->opt.sample;
	p->vals = xmalloc(k * sizeof *p->vals);
	p->vals_cap = k;
	p->nvals = 0;
	uint64_t seen = 0;
	size_t v = 0;
	for (size_t i = 0; i < k; i++) {
		uint64_t rank = (2 * (uint64_t)i + 1) * n / (2 * (uint64_t)k);
		while (seen + p->icounts[v] <= rank)
			seen += p->icounts[v++];
		p->vals[p->nvals++] = int_key(p->ibase + (int64_t)v);
	}
	free(p->icounts);
	p->icounts = NULL;
	p->ilen = 0;
	p->sampled = true;
}

/* Rearranges a[from..n) so that a[k] is the value of rank k there, with
 * nothing larger before it and nothing smaller after (Hoare's selection).
 * Requires from <= k < n. */
static uint64_t select_rank(uint64_t *a, size_t from, size_t n, size_t k)
{
	ptrdiff_t lo = (ptrdiff_t)from, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	while (lo < hi) {
		uint64_t x = a[lo], y = a[lo + (hi - lo) / 2], z = a[hi];
		uint64_t pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
		ptrdiff_t i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (a[j] > pivot)
				j--;
			if (i <= j) {
				uint64_t t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		}
		if (kk <= j)
			hi = j;
		else if (kk >= i)
			lo = i;
		else
			break;
	}
	return a[k];
}

static const double quantile_q[3] = { 0.25, 0.5, 0.75 };
static const char *const quantile_name[3] = { "p25", "p50", "p75" };

/* For each quantile, the keys at ranks floor((n-1)q) and the next, and the
 * weight of the next (numpy's 'linear'). */
struct quantile_pick {
	uint64_t a, b;
	double t;
};

static uint64_t icounts_rank(const struct profile *p, uint64_t rank, size_t *v, uint64_t *seen)
{
	while (*seen + p->icounts[*v] <= rank)
		*seen += p->icounts[(*v)++];
	return int_key(p->ibase + (int64_t)*v);
}

static bool quantiles_pick(const struct profile *p, struct quantile_pick out[3])
{
	uint64_t n = p->icounts ? p->nkeys : p->nvals;
	if (n == 0)
		return false;
	uint64_t *copy = NULL;
	size_t from = 0, v = 0;
	uint64_t seen = 0;
	if (!p->icounts) {
		copy = xmalloc(p->nvals * sizeof *copy);
		memcpy(copy, p->vals, p->nvals * sizeof *copy);
	}
	for (int q = 0; q < 3; q++) {
		double pos = (double)(n - 1) * quantile_q[q];
		uint64_t r = (uint64_t)floor(pos);
		out[q].t = pos - (double)r;
		uint64_t r2 = r + 1 < n ? r + 1 : r;
		if (p->icounts) {
			out[q].a = icounts_rank(p, r, &v, &seen);
			out[q].b = icounts_rank(p, r2, &v, &seen);
			continue;
		}
		out[q].a = select_rank(copy, from, n, r);
		out[q].b = out[q].a;
		if (r2 != r) {
			/* Everything after rank r is at least a[r]: the next rank
			 * is the smallest of them. */
			uint64_t m = copy[r + 1];
			for (size_t i = r + 2; i < n; i++)
				if (copy[i] < m)
					m = copy[i];
			out[q].b = m;
		}
		from = r;
	}
	free(copy);
	return true;
}

/* numpy's _lerp: exact at both ends and monotone in t. */
static double lerp(double a, double b, double t)
{
	double d = b - a;
	return t >= 0.5 ? b - d * (1 - t) : a + d * t;
}

static void hist_setup(struct profile *p)
{
	const struct profile_options *o = &p->opt;
	if (!o->have_range || !isfinite(o->min) || !isfinite(o->max) || o->min > o->max)
		return;
	p->nbins = o->min == o->max ? 1 : o->bins;
	p->edges = xmalloc((p->nbins + 1) * sizeof *p->edges);
	p->hist = xcalloc(p->nbins, sizeof *p->hist);
	/* np.linspace(min, max, bins + 1): start + i * step, the last exactly max */
	double step = (o->max - o->min) / p->nbins;
	for (unsigned i = 0; i < p->nbins; i++)
		p->edges[i] = o->min + i * step;
	p->edges[p->nbins] = o->max;
	p->norm = o->max > o->min ? p->nbins / (o->max - o->min) : 0;
}

/* np.histogram's bin for x: scaled, then corrected against the edges. */
static unsigned hist_bin(const double *edges, unsigned nbins, double norm, double x)
{
	if (x <= edges[0])
		return 0;
	if (x >= edges[nbins])
		return nbins - 1;
	double f = (x - edges[0]) * norm;
	unsigned i = f >= nbins ? nbins - 1 : (unsigned)f;
	if (x < edges[i])
		i--;
	else if (i + 1 < nbins && x >= edges[i + 1])
		i++;
	return i;
}

struct profile *profile_new(const struct profile_options *opt)
{
	struct profile *p = xcalloc(1, sizeof *p);
	p->opt = *opt;
	if (!p->opt.bins)
		p->opt.bins = PROFILE_DEFAULT_BINS;
	if (p->opt.bins > PROFILE_MAX_BINS)
		p->opt.bins = PROFILE_MAX_BINS;
	if (!p->opt.top)
		p->opt.top = PROFILE_DEFAULT_TOP;
	if (p->opt.top > PROFILE_MAX_TOP)
		p->opt.top = PROFILE_MAX_TOP;
	if (!p->opt.sample)
		p->opt.sample = PROFILE_DEFAULT_SAMPLE;
	enum column_kind k = p->opt.kind;
	p->text_keys = k == COLUMN_TEXT || k == COLUMN_DATE || k == COLUMN_DATETIME ||
		       k == COLUMN_TIME;
	p->table_cap = 64;
	p->table = xcalloc(p->table_cap, sizeof *p->table);
	p->rng = 0x5EAF5EAF5EAF5EAFULL;
	if (k == COLUMN_INT || k == COLUMN_REAL)
		hist_setup(p);
	if (k == COLUMN_DATE || k == COLUMN_DATETIME)
		p->years = xzalloc_touched(YEAR_COUNT, sizeof *p->years);
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	free(p->years);
	free(p->vals);
	free(p->icounts);
	free(p->edges);
	free(p->hist);
	free(p->table);
	free(p->arena);
	free(p->hll);
	free(p->summary);
	free(p);
}

void profile_add_null(struct profile *p)
{
	p->nulls++;
}

/* Mean and variance by blocks: a block's own mean and sum of squared
 * deviations (two passes over it, so a large offset such as 1e9 + small
 * noise does not cancel the variance away), merged into the running ones
 * with Chan, Golub and LeVeque's pairwise formula.  As accurate as
 * Welford's one-pass update, without its division per value, whose
 * latency chained every value to the one before. */
static void moments_merge(const double *x, unsigned n, uint64_t *count, double *mean, double *m2)
{
	double s[4] = { 0, 0, 0, 0 };
	unsigned i = 0;
	for (; i + 4 <= n; i += 4)
		for (unsigned k = 0; k < 4; k++)
			s[k] += x[i + k];
	for (; i < n; i++)
		s[0] += x[i];
	double bmean = (s[0] + s[1] + s[2] + s[3]) / n;
	double q[4] = { 0, 0, 0, 0 };
	for (i = 0; i + 4 <= n; i += 4)
		for (unsigned k = 0; k < 4; k++)
			q[k] += (x[i + k] - bmean) * (x[i + k] - bmean);
	for (; i < n; i++)
		q[0] += (x[i] - bmean) * (x[i] - bmean);
	double bm2 = q[0] + q[1] + q[2] + q[3];
	uint64_t total = *count + n;
	double delta = bmean - *mean;
	*mean += delta * ((double)n / (double)total);
	*m2 += bm2 + delta * delta * ((double)*count * (double)n / (double)total);
	*count = total;
}

static void moment_add(struct profile *p, double x)
{
	p->block[p->nblock++] = x;
	if (p->nblock == MOMENT_BLOCK) {
		moments_merge(p->block, p->nblock, &p->merged, &p->mean, &p->m2);
		p->nblock = 0;
	}
}

/* The mean and the sum of squared deviations of every value added. */
static void moments(const struct profile *p, double *mean, double *m2)
{
	uint64_t n = p->merged;
	*mean = p->mean;
	*m2 = p->m2;
	if (p->nblock)
		moments_merge(p->block, p->nblock, &n, mean, m2);
}

void profile_add_int(struct profile *p, int64_t v)
{
	if (p->opt.kind == COLUMN_REAL) {
		profile_add_real(p, (double)v);
		return;
	}
	assert(p->opt.kind == COLUMN_INT || p->opt.kind == COLUMN_BOOL);
	p->count++;
	if (p->count == 1 || v < p->imin)
		p->imin = v;
	if (p->count == 1 || v > p->imax)
		p->imax = v;
	moment_add(p, (double)v);
	uint64_t key = int_key(v);
	count_value(p, hash_key(key), key, NULL, 0);
	if (p->opt.kind == COLUMN_INT) {
		quantile_add(p, key);
		if (p->edges)
			p->hist[hist_bin(p->edges, p->nbins, p->norm, (double)v)]++;
	}
}

bool profile_range(const struct profile *p, double *min, double *max)
{
	if (!p->count)
		return false;
	if (p->opt.kind == COLUMN_INT) {
		*min = (double)p->imin;
		*max = (double)p->imax;
		return true;
	}
	if (p->opt.kind == COLUMN_REAL) {
		*min = p->rmin;
		*max = p->rmax;
		return true;
	}
	return false;
}

void profile_add_real(struct profile *p, double v)
{
	assert(p->opt.kind == COLUMN_REAL);
	assert(isfinite(v));
	if (v == 0)
		v = 0;   /* -0.0 and 0.0 are one value */
	p->count++;
	if (p->count == 1 || v < p->rmin)
		p->rmin = v;
	if (p->count == 1 || v > p->rmax)
		p->rmax = v;
	moment_add(p, v);
	uint64_t key = real_key(v);
	count_value(p, hash_key(key), key, NULL, 0);
	quantile_add(p, key);
	if (p->edges)
		p->hist[hist_bin(p->edges, p->nbins, p->norm, v)]++;
}

static void keep_text(struct kept_text *k, int64_t key, const char *s, size_t len)
{
	k->key = key;
	k->len = (uint8_t)(len < TEXT_KEEP ? len : TEXT_KEEP);
	memcpy(k->s, s, k->len);
}

static void note_month(struct profile *p, int year, int month)
{
	int64_t m = (int64_t)year * 12 + month - 1;
	if (p->parsed == 1) {
		p->month_first = p->month_min = p->month_max = m;
	} else {
		if (m < p->month_min)
			p->month_min = m;
		if (m > p->month_max)
			p->month_max = m;
	}
	if (year >= YEAR_FIRST && year < YEAR_FIRST + YEAR_COUNT)
		p->years[year - YEAR_FIRST]++;
	if (p->months_dropped)
		return;
	/* The window reaches PROFILE_MONTHS_MAX - 1 months either side of the
	 * first month: a month outside it makes the span too long anyway. */
	int64_t i = m - p->month_first + PROFILE_MONTHS_MAX - 1;
	if (i < 0 || i >= MONTH_WINDOW)
		p->months_dropped = true;
	else
		p->months[i]++;
}

static void note_tz(struct profile *p, bool has, int minutes)
{
	if (p->tz_state == 0) {
		p->tz_state = 1;
		p->tz_has = has;
		p->tz_minutes = minutes;
	} else if (p->tz_state == 1 && (p->tz_has != has || p->tz_minutes != minutes)) {
		p->tz_state = 2;
	}
}

/* A date, datetime or time as an ordered key; false if s is not one. */
static bool temporal_parse(const struct profile *p, const char *s, size_t len,
			   struct value_datetime *v)
{
	switch (p->opt.kind) {
	case COLUMN_DATE:
		return value_parse_date(s, len, v);
	case COLUMN_DATETIME:
		return value_parse_datetime(s, len, v);
	case COLUMN_TIME:
		return value_parse_time(s, len, v);
	default:
		return false;
	}
}

/* A parsed date, datetime or time: its ordered key (days, or
 * microseconds since the epoch or midnight), the month and zone tallies. */
static int64_t temporal_key(struct profile *p, const struct value_datetime *v)
{
	int64_t key;
	if (p->opt.kind == COLUMN_DATE)
		key = value_days_from_civil(v->year, v->month, v->day);
	else if (p->opt.kind == COLUMN_DATETIME)
		key = value_days_from_civil(v->year, v->month, v->day) * USEC_PER_DAY +
		      ((int64_t)v->hour * 3600 + v->minute * 60 + v->second) * 1000000 +
		      v->nanos / 1000 - (int64_t)v->tz_minutes * 60000000;
	else
		key = ((int64_t)v->hour * 3600 + v->minute * 60 + v->second) * 1000000 +
		      v->nanos / 1000;
	p->parsed++;
	if (p->opt.kind == COLUMN_TIME)
		p->hours[v->hour]++;
	else
		note_month(p, v->year, v->month);
	if (p->opt.kind == COLUMN_DATETIME)
		note_tz(p, v->has_tz, v->has_tz ? v->tz_minutes : 0);
	return key;
}

static void temporal_add(struct profile *p, const char *s, size_t len,
			 const struct value_datetime *v)
{
	int64_t key = temporal_key(p, v);
	if (p->parsed == 1 || key < p->lo.key)
		keep_text(&p->lo, key, s, len);
	if (p->parsed == 1 || key > p->hi.key)
		keep_text(&p->hi, key, s, len);
	quantile_add(p, int_key(key));
}

/* A parsed value's hash for distinct and top.  Every field of v counts, so
 * two values hash alike exactly when their canonical texts are alike (the
 * text is a function of v, and parses back to it), without reading that
 * text: the importer has usually just written it, and reading fresh bytes
 * back a word at a time waits for their stores to land. */
static uint64_t temporal_hash(const struct value_datetime *v)
{
	uint64_t when = (uint64_t)(uint32_t)v->year << 40 | (uint64_t)(v->month & 0xff) << 32 |
			(uint64_t)(v->day & 0xff) << 24 | (uint64_t)(v->hour & 0xff) << 16 |
			(uint64_t)(v->minute & 0xff) << 8 | (uint64_t)(v->second & 0xff);
	uint64_t rest = (uint64_t)(uint32_t)v->nanos | (uint64_t)(v->frac_digits & 0xff) << 32 |
			(uint64_t)v->has_tz << 40 | (uint64_t)(uint32_t)(v->tz_minutes & 0xfffff) << 41;
	return hash_u64(hash_u64(when) ^ rest);
}

void profile_add_temporal(struct profile *p, const char *s, size_t len,
			  const struct value_datetime *v)
{
	assert(p->opt.kind == COLUMN_DATE || p->opt.kind == COLUMN_DATETIME ||
	       p->opt.kind == COLUMN_TIME);
	p->count++;
	count_value(p, temporal_hash(v), 0, s, len);
	temporal_add(p, s, len, v);
}

void profile_add_text(struct profile *p, const char *s, size_t len)
{
	assert(p->text_keys);
	if (p->opt.kind != COLUMN_TEXT) {
		struct value_datetime v;
		if (temporal_parse(p, s, len, &v)) {
			profile_add_temporal(p, s, len, &v);
		} else {   /* counted as text, left out of the ordered facts */
			p->count++;
			count_value(p, hash_bytes(s, len), 0, s, len);
		}
		return;
	}
	p->count++;
	/* The shortest and longest values are among the distinct ones: a
	 * value seen before changes neither. */
	if (!count_value(p, hash_bytes(s, len), 0, s, len))
		return;
	uint64_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xC0) != 0x80;
	if (p->count == 1 || n < p->min_len)
		p->min_len = n;
	if (p->count == 1 || n > p->max_len)
		p->max_len = n;
}

static json_t *jreal(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jcount(uint64_t n)
{
	return json_integer((json_int_t)n);
}

/* A JSON string of possibly invalid UTF-8: invalid bytes become U+FFFD. */
static json_t *jtext(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	if (j)
		return j;
	char *buf = xmalloc(len * 3 + 1);
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t seq = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (seq && i + seq <= len) {
			json_t *ok = json_stringn(s + i, seq);
			if (ok) {
				json_decref(ok);
				memcpy(buf + n, s + i, seq);
				n += seq;
				i += seq;
				continue;
			}
		}
		memcpy(buf + n, "\xEF\xBF\xBD", 3);
		n += 3;
		i++;
	}
	j = json_stringn(buf, n);
	free(buf);
	return j ? j : json_string("");
}

/* Canonical ISO text for an ordered key of a date, datetime or time. */
static json_t *temporal_json(const struct profile *p, int64_t key)
{
	struct value_datetime v = { 0 };
	char buf[VALUE_TEXT_MAX];
	size_t n;
	if (p->opt.kind == COLUMN_DATE) {
		civil_from_days(key, &v.year, &v.month, &v.day);
		n = value_format_date(&v, buf, sizeof buf);
		return json_stringn(buf, n);
	}
	if (p->opt.kind == COLUMN_DATETIME && p->tz_state == 1 && p->tz_has) {
		v.has_tz = true;
		v.tz_minutes = p->tz_minutes;
		key += (int64_t)p->tz_minutes * 60000000;
	} else if (p->opt.kind == COLUMN_DATETIME && p->tz_state == 2) {
		v.has_tz = true;   /* mixed zones: shown in UTC */
	}
	int64_t day = floor_div(key, USEC_PER_DAY);
	int64_t us = key - day * USEC_PER_DAY;
	v.hour = (int)(us / 3600000000LL);
	v.minute = (int)(us / 60000000 % 60);
	v.second = (int)(us / 1000000 % 60);
	v.nanos = (int32_t)(us % 1000000 * 1000);
	if (v.nanos) {
		v.frac_digits = 6;
		for (int32_t f = v.nanos / 1000; f % 10 == 0; f /= 10)
			v.frac_digits--;
	}
	if (p->opt.kind == COLUMN_TIME) {
		n = value_format_time(&v, buf, sizeof buf);
	} else {
		civil_from_days(day, &v.year, &v.month, &v.day);
		n = value_format_datetime(&v, buf, sizeof buf);
	}
	return json_stringn(buf, n);
}

static json_t *quantile_json(const struct profile *p, const struct quantile_pick *q)
{
	switch (p->opt.kind) {
	case COLUMN_INT:
		if (q->t == 0 || q->a == q->b)
			return json_integer(key_int(q->a));
		return jreal(lerp((double)key_int(q->a), (double)key_int(q->b), q->t));
	case COLUMN_REAL:
		return jreal(lerp(key_real(q->a), key_real(q->b), q->t));
	default: {
		int64_t a = key_int(q->a), b = key_int(q->b);
		double d = (double)(b - a) * q->t;
		/* dates round down to a day, times to the nearest microsecond */
		int64_t off = p->opt.kind == COLUMN_DATE ? (int64_t)floor(d) : (int64_t)llround(d);
		return temporal_json(p, a + off);
	}
	}
}

static void add_quantiles(const struct profile *p, json_t *o)
{
	struct quantile_pick q[3];
	if (!quantiles_pick(p, q)) {
		json_object_set_new(o, "quantiles", json_null());
	} else {
		json_t *qs = json_object();
		for (int i = 0; i < 3; i++)
			json_object_set_new(qs, quantile_name[i], quantile_json(p, &q[i]));
		json_object_set_new(o, "quantiles", qs);
	}
	json_object_set_new(o, "quantiles_exact", json_boolean(!p->sampled));
}

static json_t *hist_json(const double *edges, const uint64_t *counts, unsigned nbins)
{
	json_t *h = json_object(), *je = json_array(), *jc = json_array();
	for (unsigned i = 0; i <= nbins; i++)
		json_array_append_new(je, jreal(edges[i]));
	for (unsigned i = 0; i < nbins; i++)
		json_array_append_new(jc, jcount(counts[i]));
	json_object_set_new(h, "edges", je);
	json_object_set_new(h, "counts", jc);
	return h;
}

static double key_number(const struct profile *p, uint64_t key)
{
	return p->opt.kind == COLUMN_INT ? (double)key_int(key) : key_real(key);
}

/* Numeric histogram over the observed range, built at the end from the
 * kept values, the per-value counts or (scaled) the sample. */
static void add_observed_histogram(const struct profile *p, json_t *o)
{
	double lo = p->opt.kind == COLUMN_INT ? (double)p->imin : p->rmin;
	double hi = p->opt.kind == COLUMN_INT ? (double)p->imax : p->rmax;
	unsigned nbins = lo == hi ? 1 : p->opt.bins;
	double *edges = xmalloc((nbins + 1) * sizeof *edges);
	uint64_t *counts = xcalloc(nbins, sizeof *counts);
	double step = (hi - lo) / nbins, norm = hi > lo ? nbins / (hi - lo) : 0;
	for (unsigned i = 0; i < nbins; i++)
		edges[i] = lo + i * step;
	edges[nbins] = hi;
	if (p->icounts) {
		for (size_t i = 0; i < p->ilen; i++)
			if (p->icounts[i])
				counts[hist_bin(edges, nbins, norm, (double)(p->ibase + (int64_t)i))] +=
					p->icounts[i];
	} else {
		for (size_t i = 0; i < p->nvals; i++)
			counts[hist_bin(edges, nbins, norm, key_number(p, p->vals[i]))]++;
	}
	if (p->sampled && p->nvals) {
		double scale = (double)p->nkeys / (double)p->nvals;
		for (unsigned i = 0; i < nbins; i++)
			counts[i] = (uint64_t)llround((double)counts[i] * scale);
	}
	json_object_set_new(o, "histogram", hist_json(edges, counts, nbins));
	json_object_set_new(o, "histogram_exact", json_boolean(!p->sampled));
	free(edges);
	free(counts);
}

static void add_numeric(const struct profile *p, json_t *o)
{
	bool is_int = p->opt.kind == COLUMN_INT;
	if (p->count == 0) {
		json_object_set_new(o, "min", json_null());
		json_object_set_new(o, "max", json_null());
	} else if (is_int) {
		json_object_set_new(o, "min", json_integer(p->imin));
		json_object_set_new(o, "max", json_integer(p->imax));
	} else {
		json_object_set_new(o, "min", jreal(p->rmin));
		json_object_set_new(o, "max", jreal(p->rmax));
	}
	double mean, m2;
	moments(p, &mean, &m2);
	json_object_set_new(o, "mean", p->count ? jreal(mean) : json_null());
	json_object_set_new(o, "std", p->count >= 2 ? jreal(sqrt(m2 / (double)(p->count - 1)))
						     : json_null());
	add_quantiles(p, o);
	if (p->edges) {
		json_object_set_new(o, "histogram", hist_json(p->edges, p->hist, p->nbins));
		json_object_set_new(o, "histogram_exact", json_true());
	} else if (p->count) {
		add_observed_histogram(p, o);
	} else {
		json_object_set_new(o, "histogram", json_null());
		json_object_set_new(o, "histogram_exact", json_true());
	}
}

static json_t *label_histogram(const char *unit, json_t *labels, json_t *counts)
{
	json_t *h = json_object();
	json_object_set_new(h, "unit", json_string(unit));
	json_object_set_new(h, "labels", labels);
	json_object_set_new(h, "counts", counts);
	return h;
}

static json_t *date_histogram(const struct profile *p)
{
	json_t *labels = json_array(), *counts = json_array();
	char buf[16];
	if (!p->months_dropped && p->month_max - p->month_min < PROFILE_MONTHS_MAX) {
		for (int64_t m = p->month_min; m <= p->month_max; m++) {
			int64_t y = m / 12;
			snprintf(buf, sizeof buf, "%04d-%02d", (int)y, (int)(m % 12) + 1);
			json_array_append_new(labels, json_string(buf));
			json_array_append_new(counts, jcount(p->months[m - p->month_first +
								       PROFILE_MONTHS_MAX - 1]));
		}
		return label_histogram("month", labels, counts);
	}
	for (int64_t y = p->month_min / 12; y <= p->month_max / 12; y++) {
		snprintf(buf, sizeof buf, "%04d", (int)y);
		json_array_append_new(labels, json_string(buf));
		json_array_append_new(counts, jcount(p->years[y - YEAR_FIRST]));
	}
	return label_histogram("year", labels, counts);
}

static void add_temporal(const struct profile *p, json_t *o)
{
	if (p->parsed == 0) {
		json_object_set_new(o, "min", json_null());
		json_object_set_new(o, "max", json_null());
	} else {
		json_object_set_new(o, "min", jtext(p->lo.s, p->lo.len));
		json_object_set_new(o, "max", jtext(p->hi.s, p->hi.len));
	}
	add_quantiles(p, o);
	if (p->opt.kind == COLUMN_TIME) {
		json_t *labels = json_array(), *counts = json_array();
		char buf[16];
		for (int h = 0; h < 24; h++) {
			snprintf(buf, sizeof buf, "%02d", h);
			json_array_append_new(labels, json_string(buf));
			json_array_append_new(counts, jcount(p->hours[h]));
		}
		json_object_set_new(o, "histogram", p->parsed ? label_histogram("hour", labels, counts)
							       : json_null());
		if (!p->parsed) {
			json_decref(labels);
			json_decref(counts);
		}
	} else {
		json_object_set_new(o, "histogram", p->parsed ? date_histogram(p) : json_null());
	}
}

/* A top-value candidate, from whichever structure holds the counts. */
struct top_item {
	uint64_t count;
	uint64_t key;
	const char *text;
	size_t len;
};

static int top_order_key(const void *a, const void *b)
{
	const struct top_item *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return x->key < y->key ? -1 : x->key > y->key;
}

static int top_order_text(const void *a, const void *b)
{
	const struct top_item *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->text, y->text, n);
	if (c)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

static json_t *top_value(const struct profile *p, const struct top_item *it)
{
	switch (p->opt.kind) {
	case COLUMN_BOOL:
		return json_boolean(key_int(it->key) != 0);
	case COLUMN_INT:
		return json_integer(key_int(it->key));
	case COLUMN_REAL:
		return jreal(key_real(it->key));
	default:
		return jtext(it->text, it->len);
	}
}

static void add_distinct_top(const struct profile *p, json_t *o)
{
	struct top_item *items;
	size_t n = 0;
	uint64_t distinct;
	bool exact = true;
	if (p->icounts) {
		/* complete per-value counts: exact again */
		items = xmalloc(p->ilen * sizeof *items);
		for (size_t i = 0; i < p->ilen; i++)
			if (p->icounts[i])
				items[n++] = (struct top_item){ p->icounts[i],
								int_key(p->ibase + (int64_t)i), NULL, 0 };
		distinct = n;
	} else if (p->table) {
		items = xmalloc((p->table_len ? p->table_len : 1) * sizeof *items);
		for (size_t i = 0; i < p->table_cap; i++) {
			const struct exact_entry *e = &p->table[i];
			if (e->h && p->text_keys)
				items[n++] = (struct top_item){ e->count, 0,
								p->arena ? p->arena + e->v.text.off : "",
								e->v.text.len };
			else if (e->h)
				items[n++] = (struct top_item){ e->count, e->v.key, "", 0 };
		}
		distinct = n;
	} else {
		const struct summary *s = p->summary;
		items = xmalloc((s && s->n ? s->n : 1) * sizeof *items);
		for (size_t i = 0; s && i < s->n; i++)
			items[n++] = (struct top_item){ s->bcount[s->bucket[i]], s->key[i],
							s->text[i], s->len[i] };
		double est = hll_estimate(p->hll);
		distinct = (uint64_t)llround(est);
		if (distinct <= INFER_MAX_DISTINCT)
			distinct = INFER_MAX_DISTINCT + 1;
		if (distinct > p->count)
			distinct = p->count;
		exact = false;
	}
	qsort(items, n, sizeof *items, p->text_keys ? top_order_text : top_order_key);
	json_t *top = json_array();
	for (size_t i = 0; i < n && i < p->opt.top; i++) {
		json_t *e = json_object();
		json_object_set_new(e, "value", top_value(p, &items[i]));
		json_object_set_new(e, "count", jcount(items[i].count));
		json_array_append_new(top, e);
	}
	free(items);
	json_object_set_new(o, "distinct", jcount(distinct));
	json_object_set_new(o, "distinct_exact", json_boolean(exact));
	json_object_set_new(o, "top", top);
	json_object_set_new(o, "top_exact", json_boolean(exact));
}

json_t *profile_json(const struct profile *p)
{
	json_t *o = json_object();
	json_object_set_new(o, "count", jcount(p->count));
	json_object_set_new(o, "nulls", jcount(p->nulls));
	add_distinct_top(p, o);
	switch (p->opt.kind) {
	case COLUMN_INT:
	case COLUMN_REAL:
		add_numeric(p, o);
		break;
	case COLUMN_BOOL: {
		double mean, m2;
		moments(p, &mean, &m2);
		json_object_set_new(o, "mean", p->count ? jreal(mean) : json_null());
		break;
	}
	case COLUMN_DATE:
	case COLUMN_DATETIME:
	case COLUMN_TIME:
		add_temporal(p, o);
		break;
	case COLUMN_TEXT:
		json_object_set_new(o, "min_length", p->count ? jcount(p->min_len) : json_null());
		json_object_set_new(o, "max_length", p->count ? jcount(p->max_len) : json_null());
		break;
	}
	return o;
}
