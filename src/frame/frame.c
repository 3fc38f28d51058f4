/*
 * The frame cache; see frame.h.  Entries are (dataset key, column name)
 * with a reference count and a last-use tick, in a plain array under one
 * mutex: a cache holds tens of columns, not thousands.  Loads are
 * serialized by a second mutex, so two requests never scan for the same
 * column at once; the second finds it loaded.
 *
 * Module state: none outside struct frame_cache.
 */
#include "frame/frame.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/hash.h"

struct entry {
	char *key;
	struct frame_column col;
	int refs;
	uint64_t used;             /* tick of the last use */
};

struct frame_cache {
	pthread_mutex_t lock;      /* entries, bytes, tick */
	pthread_mutex_t loading;   /* one scan at a time */
	size_t max_bytes, bytes;
	struct entry **entries;    /* each allocated alone: pointers to them stay valid */
	size_t n, cap;
	uint64_t tick, loads;
};

struct frame_cache *frame_cache_new(size_t max_bytes)
{
	struct frame_cache *fc = xcalloc(1, sizeof *fc);
	pthread_mutex_init(&fc->lock, NULL);
	pthread_mutex_init(&fc->loading, NULL);
	fc->max_bytes = max_bytes;
	return fc;
}

void frame_column_free(struct frame_column *c)
{
	free(c->sorted);
	free(c->name);
	free(c->valid);
	free(c->num);
	free(c->i64);
	free(c->code);
	for (size_t i = 0; i < c->ndict; i++)
		free(c->dict[i]);
	free(c->dict);
	free(c->dict_len);
	memset(c, 0, sizeof *c);
}

void frame_cache_free(struct frame_cache *fc)
{
	if (!fc)
		return;
	for (size_t i = 0; i < fc->n; i++) {
		free(fc->entries[i]->key);
		frame_column_free(&fc->entries[i]->col);
		free(fc->entries[i]);
	}
	free(fc->entries);
	pthread_mutex_destroy(&fc->lock);
	pthread_mutex_destroy(&fc->loading);
	free(fc);
}

size_t frame_cache_bytes(struct frame_cache *fc)
{
	pthread_mutex_lock(&fc->lock);
	size_t b = fc->bytes;
	pthread_mutex_unlock(&fc->lock);
	return b;
}

uint64_t frame_cache_loads(struct frame_cache *fc)
{
	pthread_mutex_lock(&fc->lock);
	uint64_t n = fc->loads;
	pthread_mutex_unlock(&fc->lock);
	return n;
}

/* Under lock. */
static struct entry *find(struct frame_cache *fc, const char *key, const char *name)
{
	for (size_t i = 0; i < fc->n; i++)
		if (strcmp(fc->entries[i]->key, key) == 0 &&
		    strcmp(fc->entries[i]->col.name, name) == 0)
			return fc->entries[i];
	return NULL;
}

/* Under lock: drops unused columns, least recently used first, until the
 * cache is within its budget. */
static void evict(struct frame_cache *fc)
{
	while (fc->bytes > fc->max_bytes) {
		size_t victim = fc->n;
		for (size_t i = 0; i < fc->n; i++)
			if (fc->entries[i]->refs == 0 &&
			    (victim == fc->n || fc->entries[i]->used < fc->entries[victim]->used))
				victim = i;
		if (victim == fc->n)
			return;   /* everything left is in use */
		struct entry *e = fc->entries[victim];
		fc->bytes -= e->col.bytes;
		free(e->key);
		frame_column_free(&e->col);
		free(e);
		fc->entries[victim] = fc->entries[--fc->n];
	}
}

/* ---- loading ---- */

struct builder {
	struct frame_column *col;
	size_t cap;                /* rows allocated */
	uint32_t *slots;           /* dictionary hash: code + 1, 0 empty */
	size_t nslots;
	size_t dict_cap;
	size_t dict_bytes;
};

static bool is_numeric(enum column_kind k)
{
	return k == COLUMN_INT || k == COLUMN_REAL || k == COLUMN_BOOL;
}

static void builder_init(struct builder *b, struct frame_column *c, size_t rows)
{
	memset(b, 0, sizeof *b);
	b->col = c;
	b->cap = rows ? rows : 16;
	c->valid = xmalloc(b->cap);
	if (is_numeric(c->kind)) {
		c->num = xmalloc(b->cap * sizeof *c->num);
		if (c->kind != COLUMN_REAL)
			c->i64 = xmalloc(b->cap * sizeof *c->i64);
	} else {
		c->code = xmalloc(b->cap * sizeof *c->code);
		b->nslots = 1024;
		b->slots = xcalloc(b->nslots, sizeof *b->slots);
	}
}

static void grow_rows(struct builder *b)
{
	struct frame_column *c = b->col;
	b->cap *= 2;
	c->valid = xrealloc(c->valid, b->cap);
	if (c->num)
		c->num = xrealloc(c->num, b->cap * sizeof *c->num);
	if (c->i64)
		c->i64 = xrealloc(c->i64, b->cap * sizeof *c->i64);
	if (c->code)
		c->code = xrealloc(c->code, b->cap * sizeof *c->code);
}

static void rehash(struct builder *b)
{
	struct frame_column *c = b->col;
	size_t n = b->nslots * 2;
	uint32_t *slots = xcalloc(n, sizeof *slots);
	for (size_t k = 0; k < c->ndict; k++) {
		size_t i = (size_t)hash_bytes(c->dict[k], c->dict_len[k]) & (n - 1);
		while (slots[i])
			i = (i + 1) & (n - 1);
		slots[i] = (uint32_t)k + 1;
	}
	free(b->slots);
	b->slots = slots;
	b->nslots = n;
}

/* The code of s, added to the dictionary when new; FRAME_NULL when the
 * dictionary is full (the column then gives up its codes). */
static uint32_t encode(struct builder *b, const char *s, size_t len)
{
	struct frame_column *c = b->col;
	size_t i = (size_t)hash_bytes(s, len) & (b->nslots - 1);
	while (b->slots[i]) {
		uint32_t k = b->slots[i] - 1;
		if (c->dict_len[k] == len && memcmp(c->dict[k], s, len) == 0)
			return k;
		i = (i + 1) & (b->nslots - 1);
	}
	if (c->ndict == FRAME_DICT_MAX)
		return FRAME_NULL;
	if (c->ndict == b->dict_cap) {
		b->dict_cap = b->dict_cap ? 2 * b->dict_cap : 256;
		c->dict = xrealloc(c->dict, b->dict_cap * sizeof *c->dict);
		c->dict_len = xrealloc(c->dict_len, b->dict_cap * sizeof *c->dict_len);
	}
	char *copy = xmalloc(len + 1);
	memcpy(copy, s, len);
	copy[len] = 0;
	uint32_t k = (uint32_t)c->ndict++;
	c->dict[k] = copy;
	c->dict_len[k] = (uint32_t)len;
	b->dict_bytes += len + 1;
	b->slots[i] = k + 1;
	if (c->ndict * 2 > b->nslots)
		rehash(b);
	return k;
}

static void give_up_dictionary(struct builder *b)
{
	struct frame_column *c = b->col;
	for (size_t i = 0; i < c->ndict; i++)
		free(c->dict[i]);
	free(c->dict);
	free(c->dict_len);
	free(c->code);
	c->dict = NULL;
	c->dict_len = NULL;
	c->code = NULL;
	c->ndict = 0;
	c->dict_full = true;
	b->dict_bytes = 0;
}

static void add_value(struct builder *b, sqlite3_stmt *st, int i)
{
	struct frame_column *c = b->col;
	if (c->n == b->cap)
		grow_rows(b);
	size_t r = c->n++;
	int type = sqlite3_column_type(st, i);
	if (is_numeric(c->kind)) {
		bool ok = type == SQLITE_INTEGER || type == SQLITE_FLOAT;
		c->valid[r] = ok;
		c->not_numbers += !ok && type != SQLITE_NULL;
		c->num[r] = ok ? sqlite3_column_double(st, i) : 0;
		if (c->i64)
			c->i64[r] = ok ? sqlite3_column_int64(st, i) : 0;
		return;
	}
	c->valid[r] = type != SQLITE_NULL;
	if (c->dict_full)
		return;
	if (type == SQLITE_NULL) {
		c->code[r] = FRAME_NULL;
		return;
	}
	const char *s = (const char *)sqlite3_column_text(st, i);
	uint32_t k = encode(b, s ? s : "", (size_t)sqlite3_column_bytes(st, i));
	if (k == FRAME_NULL)
		give_up_dictionary(b);
	else
		c->code[r] = k;
}

static void builder_finish(struct builder *b)
{
	struct frame_column *c = b->col;
	free(b->slots);
	c->bytes = c->n + (c->num ? c->n * 8 : 0) + (c->i64 ? c->n * 8 : 0) +
		   (c->code ? c->n * 4 : 0) + b->dict_bytes + c->ndict * 12;
}

/* One scan for the columns cols[0..n) (their name and kind set). */
static int load(struct table *t, struct frame_column *cols, size_t n,
		const struct sql_limits *lim, enum sql_status *why, struct error *e)
{
	struct buf sql;
	buf_init(&sql, 1 << 20);
	buf_puts(&sql, "SELECT ");
	for (size_t i = 0; i < n; i++) {
		buf_puts(&sql, i ? ", \"" : "\"");
		for (const char *p = cols[i].name; *p; p++) {
			buf_append(&sql, p, 1);
			if (*p == '"')
				buf_append(&sql, "\"", 1);
		}
		buf_puts(&sql, "\"");
	}
	buf_puts(&sql, " FROM data");
	struct sql_query *q;
	*why = sql_prepare(t, sql.data, NULL, lim, &q, e);
	buf_free(&sql);
	if (*why != SQL_OK)
		return -1;
	size_t rows = (size_t)table_nrows(t);
	struct builder *bs = xcalloc(n, sizeof *bs);
	for (size_t i = 0; i < n; i++)
		builder_init(&bs[i], &cols[i], rows);
	int rc;
	while ((rc = sql_step(q)) == SQLITE_ROW)
		for (size_t i = 0; i < n; i++)
			add_value(&bs[i], sql_stmt(q), (int)i);
	for (size_t i = 0; i < n; i++)
		builder_finish(&bs[i]);
	free(bs);
	if (rc != SQLITE_DONE) {
		*why = sql_failure(q, e);
		sql_close(q);
		return -1;
	}
	sql_close(q);
	return 0;
}

void frame_columns_free(struct frame_column *cols, size_t n)
{
	for (size_t i = 0; cols && i < n; i++)
		frame_column_free(&cols[i]);
	free(cols);
}

#define KIND_UNDECIDED (-1)

/* The kind of result column i of st: its table column's, when it is one of
 * data's columns; else KIND_UNDECIDED (the values decide). */
static int origin_kind(struct table *t, sqlite3_stmt *st, int i)
{
	const char *tab = sqlite3_column_table_name(st, i);
	const char *col = sqlite3_column_origin_name(st, i);
	if (!tab || !col || strcmp(tab, "data") != 0)
		return KIND_UNDECIDED;
	int k = table_find_column(t, col);
	return k < 0 ? KIND_UNDECIDED : (int)table_column(t, (size_t)k)->kind;
}

/* Widens an expression's kind k (undecided at first) to hold a value of
 * SQLite type type: integers, then reals, then text. */
static int widen(int k, int type)
{
	if (type == SQLITE_NULL || k == COLUMN_TEXT)
		return k;
	if (type == SQLITE_INTEGER)
		return k == KIND_UNDECIDED ? COLUMN_INT : k;
	if (type == SQLITE_FLOAT)
		return k == KIND_UNDECIDED || k == COLUMN_INT ? COLUMN_REAL : k;
	return COLUMN_TEXT;
}

/* A data column's kind k, met by a value of type type (a compound SELECT's
 * other parts can hold anything): an integer or boolean column with reals
 * becomes real; text in a numeric column stays text the numbers skip, as
 * in the dataset itself (not_numbers). */
static int widen_data(int k, int type)
{
	return type == SQLITE_FLOAT && (k == COLUMN_INT || k == COLUMN_BOOL) ? COLUMN_REAL : k;
}

int frame_query(struct table *t, const char *sql, const struct sql_limits *lim,
		struct frame_column **cols, size_t *n, enum sql_status *why, struct error *e)
{
	*cols = NULL;
	*n = 0;
	struct sql_query *q;
	if ((*why = sql_prepare(t, sql, NULL, lim, &q, e)) != SQL_OK)
		return -1;
	sqlite3_stmt *st = sql_stmt(q);
	size_t m = (size_t)sqlite3_column_count(st), rows = 0;
	struct frame_column *c = xcalloc(m ? m : 1, sizeof *c);
	int *kind = xcalloc(m ? m : 1, sizeof *kind);
	bool *expr = xcalloc(m ? m : 1, sizeof *expr);
	for (size_t i = 0; i < m; i++) {
		c[i].name = xstrdup(sqlite3_column_name(st, (int)i));
		kind[i] = origin_kind(t, st, (int)i);
		expr[i] = kind[i] == KIND_UNDECIDED;
	}
	int rc;
	while ((rc = sql_step(q)) == SQLITE_ROW) {   /* pass 1: rows and kinds */
		rows++;
		for (size_t i = 0; i < m; i++) {
			int type = sqlite3_column_type(st, (int)i);
			kind[i] = expr[i] ? widen(kind[i], type) : widen_data(kind[i], type);
		}
	}
	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		struct builder *bs = xcalloc(m ? m : 1, sizeof *bs);
		for (size_t i = 0; i < m; i++) {
			/* nothing but NULLs: text */
			c[i].kind = kind[i] == KIND_UNDECIDED ? COLUMN_TEXT : (enum column_kind)kind[i];
			builder_init(&bs[i], &c[i], rows);
		}
		while ((rc = sql_step(q)) == SQLITE_ROW)
			for (size_t i = 0; i < m; i++)
				add_value(&bs[i], st, (int)i);
		for (size_t i = 0; i < m; i++)
			builder_finish(&bs[i]);
		free(bs);
	}
	free(kind);
	free(expr);
	if (rc != SQLITE_DONE) {
		*why = sql_failure(q, e);
		sql_close(q);
		frame_columns_free(c, m);
		return -1;
	}
	sql_close(q);
	*cols = c;
	*n = m;
	return 0;
}

/* Under lock: takes a reference on each of names that is loaded; the
 * others' indexes go to missing.  Returns how many are missing. */
static size_t take_loaded(struct frame_cache *fc, const char *key, const char *const *names,
			  size_t n, const struct frame_column **cols, size_t *missing)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		if (cols[i])
			continue;
		struct entry *en = find(fc, key, names[i]);
		if (en) {
			en->refs++;
			en->used = ++fc->tick;
			cols[i] = &en->col;
		} else {
			missing[m++] = i;
		}
	}
	return m;
}

int frame_get(struct frame_cache *fc, struct table *t, const char *key,
	      const char *const *names, size_t n, const struct sql_limits *lim,
	      const struct frame_column **cols, enum sql_status *why, struct error *e)
{
	*why = SQL_OK;
	for (size_t i = 0; i < n; i++) {
		cols[i] = NULL;
		if (table_find_column(t, names[i]) < 0) {
			*why = SQL_INVALID;
			return error_set(e, "no column \"%.100s\" in this dataset", names[i]);
		}
	}
	size_t *missing = xcalloc(n ? n : 1, sizeof *missing);
	pthread_mutex_lock(&fc->lock);
	size_t m = take_loaded(fc, key, names, n, cols, missing);
	pthread_mutex_unlock(&fc->lock);
	int rc = 0;
	if (m) {
		pthread_mutex_lock(&fc->loading);
		/* Another request may have loaded some while this one waited. */
		pthread_mutex_lock(&fc->lock);
		m = take_loaded(fc, key, names, n, cols, missing);
		pthread_mutex_unlock(&fc->lock);
		struct frame_column *fresh = xcalloc(m ? m : 1, sizeof *fresh);
		for (size_t k = 0; k < m; k++) {
			const struct table_column *tc =
				table_column(t, (size_t)table_find_column(t, names[missing[k]]));
			fresh[k].name = xstrdup(tc->name);
			fresh[k].kind = tc->kind;
		}
		rc = m ? load(t, fresh, m, lim, why, e) : 0;
		pthread_mutex_lock(&fc->lock);
		if (rc == 0) {
			if (fc->n + m > fc->cap) {
				fc->cap = (fc->n + m) * 2;
				fc->entries = xrealloc(fc->entries, fc->cap * sizeof *fc->entries);
			}
			for (size_t k = 0; k < m; k++) {
				struct entry *en = xcalloc(1, sizeof *en);
				en->key = xstrdup(key);
				en->col = fresh[k];
				en->refs = 1;
				en->used = ++fc->tick;
				fc->bytes += en->col.bytes;
				fc->loads++;
				fc->entries[fc->n++] = en;
				cols[missing[k]] = &en->col;
			}
		} else {
			for (size_t k = 0; k < m; k++)
				frame_column_free(&fresh[k]);
		}
		pthread_mutex_unlock(&fc->lock);
		free(fresh);
		pthread_mutex_unlock(&fc->loading);
	}
	free(missing);
	if (rc < 0) {
		frame_release(fc, cols, n);
		return -1;
	}
	return 0;
}

void frame_release(struct frame_cache *fc, const struct frame_column **cols, size_t n)
{
	pthread_mutex_lock(&fc->lock);
	for (size_t i = 0; i < n; i++) {
		if (!cols[i])
			continue;
		for (size_t k = 0; k < fc->n; k++)
			if (&fc->entries[k]->col == cols[i]) {
				fc->entries[k]->refs--;
				break;
			}
		cols[i] = NULL;
	}
	evict(fc);
	pthread_mutex_unlock(&fc->lock);
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

const double *frame_sorted(struct frame_cache *fc, const struct frame_column *c, size_t *n)
{
	pthread_mutex_lock(&fc->lock);
	const double *done = c->sorted;
	*n = c->nsorted;
	pthread_mutex_unlock(&fc->lock);
	if (done)
		return done;
	/* Sorted outside the lock; when two threads race, one copy is kept. */
	double *v = xmalloc((c->n ? c->n : 1) * sizeof *v);
	size_t m = 0;
	for (size_t r = 0; r < c->n; r++) {
		v[m] = c->num[r];
		m += c->valid[r];
	}
	qsort(v, m, sizeof *v, by_value);
	pthread_mutex_lock(&fc->lock);
	struct frame_column *w = (struct frame_column *)c;
	if (!w->sorted) {
		w->sorted = v;
		w->nsorted = m;
		w->bytes += m * sizeof *v;
		fc->bytes += m * sizeof *v;
		v = NULL;
	}
	done = w->sorted;
	*n = w->nsorted;
	pthread_mutex_unlock(&fc->lock);
	free(v);
	return done;
}
