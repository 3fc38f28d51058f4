/*
 * Tools about the values of columns: frequencies (value_counts), distinct
 * values (unique_values), a summary of categorical columns
 * (categorical_summary), cross tabulation (crosstab) and grouped
 * aggregation (group_by), each with pandas semantics.
 *
 * All five read each row once and group in C with a hash table keyed by
 * the values' encoded bytes, so a group is found in O(1) per row and
 * nothing is ever re-scanned.  The rows come from the frame cache's column
 * arrays when it can serve every column the tool needs (frame/frame.h:
 * numbers, or text with its dictionary, whose codes then stand for the
 * text), else from ONE streaming scan through the SQL sandbox (its time
 * limit bounds SQLite's work).  Both feed the same counting and
 * aggregation code.  The tools' own memory (hash tables, per-group state,
 * the values kept for medians) is metered against the query memory limit:
 * past it the tool fails with TOOL_ERR_TOO_BIG.
 *
 * Values keep their storage type: integers (and booleans, 0/1) compare as
 * integers, reals as doubles (-0.0 is 0.0), text, dates, datetimes and
 * times as bytes (UTF-8 byte order is code point order, and the stored ISO
 * forms sort in time order).  Ascending value order puts numbers before
 * text, and null last.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/hash.h"
#include "base/utf8.h"
#include "datasets/render.h"
#include "frame/kernels.h"
#include "tools/groups.h"

#define JSON(...) #__VA_ARGS__

#define MAX_KEYS 5             /* group_by keys */
#define MAX_AGGS 50            /* group_by aggregations */
#define DETAIL_TOP 5           /* values listed per column by categorical_summary */
#define FEW_DISTINCT 50        /* categorical_summary's fallback: text with at most this many */
#define OTHER_LABEL "(other)"  /* crosstab's folded categories */
#define LABEL_MAX 80           /* bytes of a value quoted in a summary */

/* ---- memory accounting ---- */

struct meter {
	int64_t used, limit;   /* limit <= 0: none */
};

static struct meter meter_for(const struct tool_ctx *ctx)
{
	return (struct meter){ 0, ctx->lim.memory_bytes };
}

/* Charges bytes; false when that crosses the limit (nothing is charged then). */
static bool meter_take(struct meter *m, size_t bytes)
{
	if (m->limit > 0 && m->used + (int64_t)bytes > m->limit)
		return false;
	m->used += (int64_t)bytes;
	return true;
}

static int too_big(const struct meter *m, struct tool_error *err)
{
	return tool_fail(err, TOOL_ERR_TOO_BIG, "the distinct values and groups (and the values "
			 "kept for medians) need more than %lld MB of memory, the query memory "
			 "limit; use columns with fewer distinct values", (long long)(m->limit >> 20));
}

/* p (old elements of size elem) grown to nc elements, the new ones zeroed. */
static void *regrow(void *p, size_t old, size_t nc, size_t elem)
{
	p = xrealloc(p, nc * elem);
	memset((char *)p + old * elem, 0, (nc - old) * elem);
	return p;
}

/* ---- values ---- */

/* Tags of encoded values; zeroed memory is null. */
enum { TAG_NULL = 0, TAG_INT = 1, TAG_REAL = 2, TAG_TEXT = 3 };

struct val {
	unsigned char tag;
	uint32_t n;              /* text: bytes */
	union {
		int64_t i;
		double d;
		const char *s;   /* text: not NUL-terminated */
	};
};

static int rank_of(unsigned char tag)
{
	return tag == TAG_NULL ? 2 : tag == TAG_TEXT ? 1 : 0;
}

/* Ascending value order: numbers, then text (bytewise), then null. */
static int val_cmp(const struct val *a, const struct val *b)
{
	int ra = rank_of(a->tag), rb = rank_of(b->tag);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	if (ra == 2)
		return 0;
	if (ra == 0) {
		if (a->tag == TAG_INT && b->tag == TAG_INT)
			return a->i < b->i ? -1 : a->i > b->i;
		double x = a->tag == TAG_INT ? (double)a->i : a->d;
		double y = b->tag == TAG_INT ? (double)b->i : b->d;
		return x < y ? -1 : x > y;
	}
	size_t n = a->n < b->n ? a->n : b->n;
	int c = n ? memcmp(a->s, b->s, n) : 0;
	if (c)
		return c < 0 ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n;
}

/* Value i of st's row as a val (text borrowed from the statement). */
static void val_read(sqlite3_stmt *st, int i, enum column_kind kind, struct val *v)
{
	memset(v, 0, sizeof *v);
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		return;
	case SQLITE_INTEGER:
		if (kind != COLUMN_REAL) {
			v->tag = TAG_INT;
			v->i = sqlite3_column_int64(st, i);
			return;
		}
		/* a real column's integral value is a real */
		v->tag = TAG_REAL;
		v->d = sqlite3_column_double(st, i);
		return;
	case SQLITE_FLOAT:
		v->tag = TAG_REAL;
		v->d = sqlite3_column_double(st, i);
		if (v->d == 0)
			v->d = 0;   /* -0.0 is 0.0, as in pandas */
		return;
	default:
		v->tag = TAG_TEXT;
		v->s = (const char *)sqlite3_column_text(st, i);
		v->n = (uint32_t)sqlite3_column_bytes(st, i);
		if (!v->s)
			v->s = "";
		return;
	}
}

/* v as JSON typed by the column kind it came from. */
static json_t *val_json(const struct val *v, enum column_kind kind)
{
	switch (v->tag) {
	case TAG_INT:
		if (kind == COLUMN_BOOL)
			return json_boolean(v->i != 0);
		if (kind == COLUMN_REAL)
			return json_real((double)v->i);
		return json_integer(v->i);
	case TAG_REAL:
		return tool_real(v->d);
	case TAG_TEXT:
		return render_text_json(v->s, v->n);
	default:
		return json_null();
	}
}

/* v as text (malloc'd, valid UTF-8), at most max bytes of text ("..." after
 * a cut); booleans are true/false, null is "null". */
static char *val_text(const struct val *v, enum column_kind kind, size_t max)
{
	char num[64];
	switch (v->tag) {
	case TAG_INT:
		if (kind == COLUMN_BOOL)
			return xstrdup(v->i ? "true" : "false");
		snprintf(num, sizeof num, "%lld", (long long)v->i);
		return xstrdup(num);
	case TAG_REAL:
		render_real(v->d, num, sizeof num);
		return xstrdup(num);
	case TAG_TEXT: {
		json_t *j = render_text_json(v->s, v->n);
		const char *s = json_string_value(j);
		size_t n = s ? json_string_length(j) : 0;
		char *r;
		if (n > max) {
			size_t k = utf8_prefix(s, max);
			r = xmalloc(k + 4);
			memcpy(r, s, k);
			memcpy(r + k, "...", 4);
		} else {
			r = xstrndup(s ? s : "", n);
		}
		json_decref(j);
		return r;
	}
	default:
		return xstrdup("null");
	}
}

/* ---- encoded keys: tag byte, then int64 | double | uint32 length + bytes ---- */

struct kbuf {
	char *p;
	size_t len, cap;
};

/* Room for n more bytes. */
static inline void kb_reserve(struct kbuf *k, size_t n)
{
	if (k->len + n > k->cap) {
		size_t nc = k->cap ? k->cap : 256;
		while (nc < k->len + n)
			nc *= 2;
		k->p = xrealloc(k->p, nc);
		k->cap = nc;
	}
}

static inline void kb_put(struct kbuf *k, const void *d, size_t n)
{
	kb_reserve(k, n);
	memcpy(k->p + k->len, d, n);
	k->len += n;
}

static inline void kb_val(struct kbuf *k, const struct val *v)
{
	kb_reserve(k, 1 + sizeof(uint32_t) + (v->tag == TAG_TEXT ? v->n : sizeof(int64_t)));
	char *p = k->p + k->len;
	*p++ = (char)v->tag;
	if (v->tag == TAG_INT) {
		memcpy(p, &v->i, sizeof v->i);
		p += sizeof v->i;
	} else if (v->tag == TAG_REAL) {
		memcpy(p, &v->d, sizeof v->d);
		p += sizeof v->d;
	} else if (v->tag == TAG_TEXT) {
		uint32_t n = v->n;
		memcpy(p, &n, sizeof n);
		memcpy(p + sizeof n, v->s, n);
		p += sizeof n + n;
	}
	k->len = (size_t)(p - k->p);
}

/* Decodes the value at p into v (text borrowed); returns what follows it. */
static const char *key_val(const char *p, struct val *v)
{
	memset(v, 0, sizeof *v);
	v->tag = (unsigned char)*p++;
	if (v->tag == TAG_INT) {
		memcpy(&v->i, p, sizeof v->i);
		p += sizeof v->i;
	} else if (v->tag == TAG_REAL) {
		memcpy(&v->d, p, sizeof v->d);
		p += sizeof v->d;
	} else if (v->tag == TAG_TEXT) {
		uint32_t n;
		memcpy(&n, p, sizeof n);
		p += sizeof n;
		v->s = p;
		v->n = n;
		p += n;
	}
	return p;
}

/* Component-wise ascending order of two keys of nkeys values. */
static int key_cmp(const char *a, const char *b, size_t nkeys)
{
	for (size_t i = 0; i < nkeys; i++) {
		struct val x, y;
		a = key_val(a, &x);
		b = key_val(b, &y);
		int c = val_cmp(&x, &y);
		if (c)
			return c;
	}
	return 0;
}

/* ---- a hash set of byte strings: entry numbers 0, 1, ... in insertion order ---- */

/*
 * A slot holds what a lookup needs, so that a probe touches the slot alone
 * for short keys and the slot and the key's bytes otherwise.  check is the
 * hash's high 24 bits and a code for the key's form (never 0 when used):
 * 0x80 | len for a key of at most 8 bytes, kept in payload; 0x40 | first
 * byte for a key of 9 bytes whose first byte is below 0x40 (every encoded
 * number: tag and 8 bytes), the other 8 in payload; 0x01 for any other
 * key, payload then being its offset in the arena.  The arena holds every
 * key (a uint32 length, then the bytes) in entry order, and off[] where
 * each entry's is -- except in a lookup_only set, which is never listed:
 * there the arena holds only the keys that are not inline, and off[]
 * nothing.
 */
struct slot {
	uint32_t check;      /* 0: empty */
	uint32_t entry;
	uint64_t payload;
};

struct set {
	struct slot *slots;
	size_t nslots;       /* a power of two */
	size_t n, cap;       /* entries */
	size_t *off;         /* per entry */
	char *arena;
	size_t alen, acap;
	bool lookup_only;
};

static void set_free(struct set *s)
{
	free(s->slots);
	free(s->off);
	free(s->arena);
	bool lookup_only = s->lookup_only;
	memset(s, 0, sizeof *s);
	s->lookup_only = lookup_only;
}

/* What the set holds, for the meter. */
static size_t set_bytes(const struct set *s)
{
	return s->nslots * sizeof *s->slots + s->cap * sizeof *s->off + s->acap;
}

static const char *set_key(const struct set *s, size_t e)
{
	return s->arena + s->off[e] + sizeof(uint32_t);
}

/* The check and payload of a key (payload 0 when it lives in the arena). */
static uint32_t key_form(const char *key, size_t len, uint64_t h, uint64_t *payload)
{
	uint32_t code = 0x01;
	*payload = 0;
	if (len <= 8) {
		code = 0x80 | (uint32_t)len;
		memcpy(payload, key, len);
	} else if (len == 9 && (unsigned char)key[0] < 0x40) {
		code = 0x40 | (unsigned char)key[0];
		memcpy(payload, key + 1, 8);
	}
	return ((uint32_t)(h >> 32) & ~0xFFu) | code;
}

/* The key a used slot stands for (buf: room for an inline key). */
static size_t slot_key(const struct set *s, const struct slot *sl, char *buf, const char **key)
{
	uint32_t code = sl->check & 0xFF;
	if (code & 0x80) {
		memcpy(buf, &sl->payload, 8);
		*key = buf;
		return code & 0x0F;
	}
	if (code & 0x40) {
		buf[0] = (char)(code & 0x3F);
		memcpy(buf + 1, &sl->payload, 8);
		*key = buf;
		return 9;
	}
	uint32_t len;
	memcpy(&len, s->arena + sl->payload, sizeof len);
	*key = s->arena + sl->payload + sizeof len;
	return len;
}

static bool set_rehash(struct set *s, struct meter *m)
{
	size_t ns = s->nslots ? 2 * s->nslots : 64;
	if (!meter_take(m, (ns - s->nslots) * sizeof *s->slots))
		return false;
	struct slot *old = s->slots;
	s->slots = xcalloc(ns, sizeof *s->slots);
	for (size_t k = 0; k < s->nslots; k++) {
		if (!old[k].check)
			continue;
		char buf[16];
		const char *key;
		size_t len = slot_key(s, &old[k], buf, &key);
		size_t i = hash_bytes(key, len) & (ns - 1);
		while (s->slots[i].check)
			i = (i + 1) & (ns - 1);
		s->slots[i] = old[k];
	}
	free(old);
	s->nslots = ns;
	return true;
}

/* The entry of key (added when new, *added says so); -1 past the meter. */
static long set_add(struct set *s, struct meter *m, const char *key, size_t len, bool *added)
{
	uint64_t h = hash_bytes(key, len), payload;
	uint32_t check = key_form(key, len, h, &payload);
	bool inline_key = check & 0xC0;
	if ((s->n + 1) * 4 > s->nslots * 3 && !set_rehash(s, m))
		return -1;
	size_t mask = s->nslots - 1, i = h & mask;
	for (; s->slots[i].check; i = (i + 1) & mask) {
		const struct slot *sl = &s->slots[i];
		if (sl->check != check)
			continue;
		if (inline_key) {
			if (sl->payload == payload) {
				*added = false;
				return (long)sl->entry;
			}
			continue;
		}
		const char *k = s->arena + sl->payload;
		uint32_t klen;
		memcpy(&klen, k, sizeof klen);
		if (klen == len && memcmp(k + sizeof klen, key, len) == 0) {
			*added = false;
			return (long)sl->entry;
		}
	}
	if (s->n >= UINT32_MAX - 1 || len > UINT32_MAX)
		return -1;
	if (s->lookup_only && inline_key) {
		s->slots[i] = (struct slot){ check, (uint32_t)s->n, payload };
		*added = true;
		return (long)s->n++;
	}
	if (s->n == s->cap && !s->lookup_only) {
		size_t nc = s->cap ? 2 * s->cap : 64;
		if (!meter_take(m, (nc - s->cap) * sizeof *s->off))
			return -1;
		s->off = regrow(s->off, s->cap, nc, sizeof *s->off);
		s->cap = nc;
	}
	size_t need = sizeof(uint32_t) + len;
	if (s->alen + need > s->acap) {
		size_t nc = s->acap ? 2 * s->acap : 4096;
		while (nc < s->alen + need)
			nc *= 2;
		if (!meter_take(m, nc - s->acap))
			return -1;
		s->arena = xrealloc(s->arena, nc);
		s->acap = nc;
	}
	uint32_t len32 = (uint32_t)len;
	memcpy(s->arena + s->alen, &len32, sizeof len32);
	memcpy(s->arena + s->alen + sizeof len32, key, len);
	if (!s->lookup_only)
		s->off[s->n] = s->alen;
	s->slots[i] = (struct slot){ check, (uint32_t)s->n, inline_key ? payload : s->alen };
	s->alen += need;
	*added = true;
	return (long)s->n++;
}

/* ---- scanning ---- */

/*
 * A scan reads rows in batches: up to SCAN_BATCH rows (or SCAN_BATCH_BYTES)
 * are stepped between one sql_enter and sql_leave (sql.h allows it) and
 * their values copied, encoded, into a buffer; the tool works on them after
 * sql_leave.  sql_step's enter/leave pair per row reads the clock twice, a
 * fifth of a simple scan's time; and this way the time limit still counts
 * SQLite's work (and the copying) only, not the tool's hashing.
 */
#define SCAN_BATCH 256
#define SCAN_BATCH_BYTES (1u << 20)

struct scan {
	struct sql_query *q;
	size_t ncols;
	enum column_kind *kinds;          /* of the result columns */
	struct kbuf buf;                  /* the batch's rows, encoded */
	size_t row_end[SCAN_BATCH];      /* row r is buf[r ? row_end[r - 1] : 0, row_end[r]) */
	size_t nrows;
	bool done;
};

/* Prepares sql, whose result columns are of the kinds given. */
static int scan_open(struct tool_ctx *ctx, struct scan *s, const char *sql,
		     const enum column_kind *kinds, size_t ncols, struct tool_error *err)
{
	memset(s, 0, sizeof *s);
	s->ncols = ncols;
	s->kinds = xmalloc((ncols ? ncols : 1) * sizeof *kinds);
	memcpy(s->kinds, kinds, ncols * sizeof *kinds);
	s->q = tool_sql(ctx, sql, NULL, err);
	return s->q ? 0 : -1;
}

/* The next batch: 0 with s->nrows rows (0 at the end), or -1 with err set. */
static int scan_next(struct scan *s, struct tool_error *err)
{
	s->buf.len = 0;
	s->nrows = 0;
	if (s->done)
		return 0;
	sqlite3_stmt *st = sql_stmt(s->q);
	int rc = SQLITE_ROW;
	sql_enter(s->q);
	while (s->nrows < SCAN_BATCH && s->buf.len < SCAN_BATCH_BYTES) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		for (size_t i = 0; i < s->ncols; i++) {
			struct val v;
			val_read(st, (int)i, s->kinds[i], &v);
			kb_val(&s->buf, &v);
		}
		s->row_end[s->nrows++] = s->buf.len;
	}
	sql_leave(s->q);
	if (rc == SQLITE_DONE)
		s->done = true;
	else if (rc != SQLITE_ROW)
		return tool_sql_failed(s->q, err);
	return 0;
}

static const char *scan_row(const struct scan *s, size_t r)
{
	return s->buf.p + (r ? s->row_end[r - 1] : 0);
}

static void scan_close(struct scan *s)
{
	sql_close(s->q);
	free(s->buf.p);
	free(s->kinds);
	memset(s, 0, sizeof *s);
}

/* ---- frames: the same values from the column arrays ---- */

/* Whether the tools can read f instead of scanning: every non-null value
 * a number, or text with its dictionary. */
static bool frame_ok(const struct frame_column *f)
{
	return f->num ? f->not_numbers == 0 : f->code && !f->dict_full;
}

/* Row r of f as a val, typed as val_read types it (text borrowed from the
 * dictionary). */
static void frame_val(const struct frame_column *f, size_t r, struct val *v)
{
	v->tag = TAG_NULL;
	if (!f->valid[r])
		return;
	if (f->i64) {
		v->tag = TAG_INT;
		v->i = f->i64[r];
	} else if (f->num) {
		v->tag = TAG_REAL;
		v->d = f->num[r] == 0 ? 0 : f->num[r];   /* -0.0 is 0.0 */
	} else {
		uint32_t k = f->code[r];
		v->tag = TAG_TEXT;
		v->s = f->dict[k];
		v->n = f->dict_len[k];
	}
}

/* The frames of some columns, each loaded once. */
struct frames {
	size_t n;                           /* distinct columns */
	const char **names;
	const struct frame_column **cols;
};

static void frames_release(struct tool_ctx *ctx, struct frames *fr)
{
	if (fr->n)
		tool_frame_release(ctx, fr->cols, fr->n);
	free(fr->names);
	free(fr->cols);
	memset(fr, 0, sizeof *fr);
}

/*
 * The frames of cols[0..n) into out[0..n) when the cache can serve them
 * all: 1 (then frames_release(fr)), 0 when it cannot (no cache, a column
 * it could not encode; nothing held), -1 with err set.
 */
static int frames_get(struct tool_ctx *ctx, const struct table_column *const *cols, size_t n,
		      const struct frame_column **out, struct frames *fr, struct tool_error *err)
{
	memset(fr, 0, sizeof *fr);
	if (!ctx->frames || n == 0)
		return 0;
	fr->names = xcalloc(n, sizeof *fr->names);
	fr->cols = xcalloc(n, sizeof *fr->cols);
	size_t *at = xcalloc(n, sizeof *at);
	for (size_t i = 0; i < n; i++) {
		size_t j = 0;
		while (j < fr->n && strcmp(fr->names[j], cols[i]->name) != 0)
			j++;
		if (j == fr->n)
			fr->names[fr->n++] = cols[i]->name;
		at[i] = j;
	}
	size_t held = fr->n;
	fr->n = 0;
	if (tool_frame(ctx, fr->names, held, fr->cols, err) < 0) {
		free(at);
		frames_release(ctx, fr);
		return -1;
	}
	fr->n = held;
	bool ok = true;
	for (size_t j = 0; j < fr->n; j++)
		ok = ok && frame_ok(fr->cols[j]);
	for (size_t i = 0; i < n; i++)
		out[i] = fr->cols[at[i]];
	free(at);
	if (!ok) {
		frames_release(ctx, fr);
		return 0;
	}
	return 1;
}

/* ---- counting the values of one column ---- */

struct counter {
	const struct table_column *col;
	struct set set;          /* non-null values */
	int64_t *count;          /* per entry */
	size_t ccap;
	int64_t non_null, nulls;
	bool dropped;            /* stopped: too many distinct values */
};

static void counter_free(struct counter *c)
{
	set_free(&c->set);
	free(c->count);
	c->count = NULL;
	c->ccap = 0;
}

/* Counts the encoded value key[0..len); *entry is its entry (-1 for null).
 * -1 past the meter. */
static int counter_add(struct counter *c, struct meter *m, const char *key, size_t len,
		       long *entry)
{
	*entry = -1;
	if ((unsigned char)key[0] == TAG_NULL) {
		c->nulls++;
		return 0;
	}
	c->non_null++;
	bool added;
	long e = set_add(&c->set, m, key, len, &added);
	if (e < 0)
		return -1;
	if ((size_t)e >= c->ccap) {
		size_t nc = c->ccap ? 2 * c->ccap : 64;
		if (!meter_take(m, (nc - c->ccap) * sizeof *c->count))
			return -1;
		c->count = regrow(c->count, c->ccap, nc, sizeof *c->count);
		c->ccap = nc;
	}
	c->count[e]++;
	*entry = e;
	return 0;
}

static void counter_entry(const struct counter *c, size_t e, struct val *v)
{
	key_val(set_key(&c->set, e), v);
}

/* Counts row r of frame f into c as counter_add counts its encoded value;
 * for a text column map (code -> entry + 1) saves encoding it again. */
static int counter_add_frame(struct counter *c, struct meter *m, const struct frame_column *f,
			     uint32_t *map, size_t r, struct kbuf *kb, long *entry)
{
	if (map && f->valid[r] && map[f->code[r]]) {
		*entry = map[f->code[r]] - 1;
		c->non_null++;
		c->count[*entry]++;
		return 0;
	}
	struct val v;
	frame_val(f, r, &v);
	kb->len = 0;
	kb_val(kb, &v);
	if (counter_add(c, m, kb->p, kb->len, entry) < 0)
		return -1;
	if (map && *entry >= 0)
		map[f->code[r]] = (uint32_t)*entry + 1;
	return 0;
}

/* A code -> entry map for a text frame column (NULL for numbers); false
 * past the meter. */
static bool code_map(const struct frame_column *f, struct meter *m, uint32_t **map)
{
	*map = NULL;
	if (!f->code)
		return true;
	if (!meter_take(m, f->ndict * sizeof **map))
		return false;
	*map = xcalloc(f->ndict ? f->ndict : 1, sizeof **map);
	return true;
}

/* Orders of a counter's entries (qsort_r). */
static int by_count(const void *a, const void *b, void *arg)
{
	const struct counter *c = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	if (c->count[x] != c->count[y])
		return c->count[x] > c->count[y] ? -1 : 1;
	return key_cmp(set_key(&c->set, x), set_key(&c->set, y), 1);
}

static int by_value(const void *a, const void *b, void *arg)
{
	const struct counter *c = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return key_cmp(set_key(&c->set, x), set_key(&c->set, y), 1);
}

/* The entries, most frequent first (ties: value ascending) or by value. */
static uint32_t *counter_order(const struct counter *c, bool frequent_first)
{
	uint32_t *o = xmalloc((c->set.n ? c->set.n : 1) * sizeof *o);
	for (size_t i = 0; i < c->set.n; i++)
		o[i] = (uint32_t)i;
	qsort_r(o, c->set.n, sizeof *o, frequent_first ? by_count : by_value, (void *)c);
	return o;
}

/*
 * One scan of the n columns cols (SELECT them all FROM data) counting each
 * into counters[i].  With few > 0, a counter that passes few distinct
 * values is dropped (freed, then skipped).
 */
/* scan_counters from frames, a column at a time. */
static int counters_from_frames(struct counter *counters, size_t n, size_t few,
				const struct frame_column **fc, struct meter *m,
				struct tool_error *err)
{
	struct kbuf kb = { 0 };
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct counter *c = &counters[i];
		const struct frame_column *f = fc[i];
		uint32_t *map;
		if (!code_map(f, m, &map))
			rc = too_big(m, err);
		for (size_t r = 0; r < f->n && rc == 0; r++) {
			long e;
			if (counter_add_frame(c, m, f, map, r, &kb, &e) < 0) {
				rc = too_big(m, err);
			} else if (few && c->set.n > few) {
				c->dropped = true;
				m->used -= (int64_t)(set_bytes(&c->set) + c->ccap * sizeof *c->count);
				counter_free(c);
				break;
			}
		}
		free(map);
	}
	free(kb.p);
	return rc;
}

static int scan_counters(struct tool_ctx *ctx, struct counter *counters, size_t n, size_t few,
			 struct meter *m, struct tool_error *err)
{
	const struct table_column **cols = xcalloc(n ? n : 1, sizeof *cols);
	const struct frame_column **fc = xcalloc(n ? n : 1, sizeof *fc);
	for (size_t i = 0; i < n; i++)
		cols[i] = counters[i].col;
	struct frames fr;
	int served = frames_get(ctx, cols, n, fc, &fr, err);
	free(cols);
	if (served) {
		int rc = served < 0 ? -1 : counters_from_frames(counters, n, few, fc, m, err);
		frames_release(ctx, &fr);
		free(fc);
		return rc;
	}
	free(fc);
	struct buf sql;
	buf_init(&sql, 1 << 24);
	buf_puts(&sql, "SELECT ");
	enum column_kind *kinds = xmalloc((n ? n : 1) * sizeof *kinds);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_puts(&sql, ", ");
		tool_ident(&sql, counters[i].col->name);
		kinds[i] = counters[i].col->kind;
	}
	buf_puts(&sql, " FROM data");
	struct scan sc;
	int rc = scan_open(ctx, &sc, sql.data, kinds, n, err);
	buf_free(&sql);
	free(kinds);
	while (rc == 0 && (rc = scan_next(&sc, err)) == 0 && sc.nrows) {
		for (size_t r = 0; r < sc.nrows && rc == 0; r++) {
			const char *p = scan_row(&sc, r);
			for (size_t i = 0; i < n; i++) {
				struct counter *c = &counters[i];
				struct val v;
				const char *next = key_val(p, &v);
				long e;
				if (!c->dropped && counter_add(c, m, p, (size_t)(next - p), &e) < 0) {
					rc = too_big(m, err);
					break;
				}
				p = next;
				if (few && !c->dropped && c->set.n > few) {
					c->dropped = true;
					m->used -= (int64_t)(set_bytes(&c->set) + c->ccap * sizeof *c->count);
					counter_free(c);
				}
			}
		}
	}
	scan_close(&sc);
	return rc;
}

static double pct(int64_t part, int64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static long long int_arg(const json_t *args, const char *name, long long def)
{
	const json_t *j = json_object_get(args, name);
	return json_is_number(j) ? (long long)json_number_value(j) : def;
}

/* ---- value_counts ---- */

static int value_counts(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			struct tool_error *err)
{
	const struct table_column *col = tool_column(ctx, args, "column", TOOL_KINDS_ANY, err);
	if (!col)
		return -1;
	size_t top = (size_t)int_arg(args, "top", 10);
	bool include_null = json_is_true(json_object_get(args, "include_null"));
	struct meter m = meter_for(ctx);
	struct counter c = { .col = col };
	if (scan_counters(ctx, &c, 1, 0, &m, err) < 0) {
		counter_free(&c);
		return -1;
	}
	int64_t total = c.non_null + c.nulls;
	int64_t base = include_null ? total : c.non_null;
	uint32_t *order = counter_order(&c, true);
	json_t *rows = json_array();
	int64_t listed = 0;
	bool null_done = !include_null || c.nulls == 0;
	size_t i = 0;
	char *first = NULL;
	int64_t first_count = 0;
	while (json_array_size(rows) < top && (i < c.set.n || !null_done)) {
		struct val v = { 0 };
		int64_t n;
		/* null goes after the values of equal count: it sorts last */
		if (!null_done && (i == c.set.n || c.count[order[i]] < c.nulls)) {
			n = c.nulls;
			null_done = true;
		} else {
			counter_entry(&c, order[i], &v);
			n = c.count[order[i++]];
		}
		if (!first) {
			first = val_text(&v, col->kind, LABEL_MAX);
			first_count = n;
		}
		listed += n;
		json_array_append_new(rows, json_pack("[o, I, o]", val_json(&v, col->kind),
						      (json_int_t)n, tool_real(pct(n, base))));
	}
	static const char *const names[] = { "value", "count", "percent" };
	out->result = json_pack("{s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:I, s:o, s:b}",
		"column", col->name, "type", column_kind_name(col->kind),
		"values", tool_table(names, 3, rows),
		"distinct", (json_int_t)c.set.n, "total", (json_int_t)total,
		"non_null", (json_int_t)c.non_null, "nulls", (json_int_t)c.nulls,
		"other", (json_int_t)(base - listed), "other_percent",
		tool_real(pct(base - listed, base)), "include_null", include_null);
	if (first)
		out->summary = tool_printf("%s: %zu distinct value%s; %s is the most frequent "
					   "(%lld, %.1f%%).", col->name, c.set.n,
					   c.set.n == 1 ? "" : "s", first, (long long)first_count,
					   pct(first_count, base));
	else
		out->summary = tool_printf("%s: no values (all %lld rows are null).", col->name,
					   (long long)total);
	free(first);
	free(order);
	counter_free(&c);
	return 0;
}

#define TABLE_SCHEMA(desc) "{\"type\": \"object\", \"description\": \"" desc "\", " \
	"\"required\": [\"columns\", \"rows\"], \"properties\": {" \
	"\"columns\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, " \
	"\"rows\": {\"type\": \"array\", \"items\": {\"type\": \"array\"}}}}"

static const struct tool value_counts_tool = {
	.name = "value_counts",
	.title = "Value counts (frequencies)",
	.description = "How often each value of one column occurs, most frequent first, like "
		       "pandas Series.value_counts(): count and percent per value (percent of the "
		       "non-null values, or of all rows with include_null), the number of distinct "
		       "values, nulls, and how many rows fall outside the listed top values "
		       "(other). Ties in count are listed by value ascending (null last). "
		       "Korean: 빈도, 빈도수, 값 개수, 최빈값, 분포.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "required": ["column"],
		"properties": {
			"column": {"type": "string", "minLength": 1, "description": "The column to count (any type)"},
			"top": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10,
				"description": "How many of the most frequent values to list"},
			"include_null": {"type": "boolean", "default": false,
				"description": "Count null as a value, and take percentages of all rows"}}}),
	.output_schema = "{\"type\": \"object\", \"required\": [\"column\", \"type\", \"values\", "
		"\"distinct\", \"total\", \"non_null\", \"nulls\", \"other\", \"other_percent\", "
		"\"include_null\"], \"properties\": {"
		"\"column\": {\"type\": \"string\"}, \"type\": {\"type\": \"string\"}, "
		"\"values\": " TABLE_SCHEMA("A table: value, count, percent; most frequent first") ", "
		"\"distinct\": {\"type\": \"integer\", \"description\": \"Distinct non-null values\"}, "
		"\"total\": {\"type\": \"integer\", \"description\": \"Rows\"}, "
		"\"non_null\": {\"type\": \"integer\"}, \"nulls\": {\"type\": \"integer\"}, "
		"\"other\": {\"type\": \"integer\", \"description\": \"Rows counted in the percentages "
		"but not listed\"}, "
		"\"other_percent\": {\"type\": [\"number\", \"null\"]}, "
		"\"include_null\": {\"type\": \"boolean\"}}}",
	.read_only = true,
	.run = value_counts,
};

/* ---- unique_values ---- */

static int unique_values(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			 struct tool_error *err)
{
	const struct table_column *col = tool_column(ctx, args, "column", TOOL_KINDS_ANY, err);
	if (!col)
		return -1;
	size_t limit = (size_t)int_arg(args, "limit", 100);
	struct meter m = meter_for(ctx);
	struct counter c = { .col = col };
	if (scan_counters(ctx, &c, 1, 0, &m, err) < 0) {
		counter_free(&c);
		return -1;
	}
	uint32_t *order = counter_order(&c, false);
	json_t *values = json_array();
	for (size_t i = 0; i < c.set.n && i < limit; i++) {
		struct val v;
		counter_entry(&c, order[i], &v);
		json_array_append_new(values, val_json(&v, col->kind));
	}
	bool truncated = c.set.n > limit;
	out->result = json_pack("{s:s, s:s, s:o, s:I, s:b, s:b, s:I}", "column", col->name,
		"type", column_kind_name(col->kind), "values", values,
		"distinct", (json_int_t)c.set.n, "truncated", truncated,
		"has_null", c.nulls > 0, "nulls", (json_int_t)c.nulls);
	char shown[64] = "";
	if (truncated)
		snprintf(shown, sizeof shown, " (the first %zu listed)", limit);
	out->summary = tool_printf("%s: %zu distinct value%s%s%s.", col->name, c.set.n,
				   c.set.n == 1 ? "" : "s", shown,
				   c.nulls ? "; some rows are null" : "");
	free(order);
	counter_free(&c);
	return 0;
}

static const struct tool unique_values_tool = {
	.name = "unique_values",
	.title = "Distinct values",
	.description = "The distinct non-null values of one column in ascending order (numbers "
		       "numerically, text by code point, dates in time order), like sorted pandas "
		       "Series.unique(), with how many there are and whether the column has nulls. "
		       "Korean: 고유값, 유니크 값, 중복 제거, 값 목록.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "required": ["column"],
		"properties": {
			"column": {"type": "string", "minLength": 1, "description": "The column (any type)"},
			"limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100,
				  "description": "How many values to list at most"}}}),
	.output_schema = JSON({"type": "object",
		"required": ["column", "type", "values", "distinct", "truncated", "has_null", "nulls"],
		"properties": {
			"column": {"type": "string"}, "type": {"type": "string"},
			"values": {"type": "array", "description": "Distinct non-null values, ascending"},
			"distinct": {"type": "integer"},
			"truncated": {"type": "boolean", "description": "More distinct values than listed"},
			"has_null": {"type": "boolean"}, "nulls": {"type": "integer"}}}),
	.read_only = true,
	.run = unique_values,
};

/* ---- categorical_summary ---- */

static int categorical_summary(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
			       struct tool_error *err)
{
	const json_t *given = json_object_get(args, "columns");
	size_t ncols = table_ncolumns(ctx->t);
	struct counter *cs = xcalloc(ncols ? ncols : 1, sizeof *cs);
	size_t n = 0, few = 0;
	const char *selection;
	if (given) {
		selection = "given";
		size_t i;
		const json_t *name;
		json_array_foreach(given, i, name) {
			char path[64];
			snprintf(path, sizeof path, "args.columns[%zu]", i);
			const struct table_column *c = tool_column_named(ctx, json_string_value(name),
									 path, TOOL_KINDS_ANY, err);
			if (!c) {
				free(cs);
				return -1;
			}
			cs[n++].col = c;
		}
	} else {
		selection = "categorical";
		for (size_t i = 0; i < ncols; i++) {
			const struct table_column *c = table_column(ctx->t, i);
			if ((c->kind == COLUMN_TEXT && c->categorical) || c->kind == COLUMN_BOOL)
				cs[n++].col = c;
		}
		if (n == 0) {
			selection = "few_distinct";
			few = FEW_DISTINCT;
			for (size_t i = 0; i < ncols; i++)
				if (table_column(ctx->t, i)->kind == COLUMN_TEXT)
					cs[n++].col = table_column(ctx->t, i);
		}
	}
	struct meter m = meter_for(ctx);
	if (n && scan_counters(ctx, cs, n, few, &m, err) < 0) {
		for (size_t i = 0; i < n; i++)
			counter_free(&cs[i]);
		free(cs);
		return -1;
	}
	json_t *rows = json_array(), *details = json_array();
	struct buf words;
	buf_init(&words, 1 << 20);
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		struct counter *c = &cs[i];
		/* the fallback keeps only columns with some, and few, values */
		if (c->dropped || (few && c->set.n == 0))
			continue;
		enum column_kind kind = c->col->kind;
		uint32_t *order = counter_order(c, true);
		json_t *top_rows = json_array();
		double entropy = 0;
		for (size_t k = 0; k < c->set.n; k++) {
			double p = (double)c->count[k] / (double)c->non_null;
			entropy -= p * log2(p);
		}
		for (size_t k = 0; k < c->set.n && k < DETAIL_TOP; k++) {
			struct val v;
			counter_entry(c, order[k], &v);
			int64_t cnt = c->count[order[k]];
			json_array_append_new(top_rows, json_pack("[o, I, o]", val_json(&v, kind),
				(json_int_t)cnt, tool_real(pct(cnt, c->non_null))));
		}
		static const char *const top_names[] = { "value", "count", "percent" };
		json_array_append_new(details, json_pack("{s:s, s:o}", "column", c->col->name,
			"top_values", tool_table(top_names, 3, top_rows)));
		struct val top = { 0 }, least = { 0 };
		int64_t top_n = 0, least_n = 0;
		if (c->set.n) {
			counter_entry(c, order[0], &top);
			top_n = c->count[order[0]];
			/* least frequent: the smallest count, ties by value ascending */
			size_t k = c->set.n - 1;
			while (k > 0 && c->count[order[k - 1]] == c->count[order[c->set.n - 1]])
				k--;
			counter_entry(c, order[k], &least);
			least_n = c->count[order[k]];
		}
		json_array_append_new(rows, json_pack("[s, s, I, I, I, o, o, o, o, o, o]",
			c->col->name, column_kind_name(kind), (json_int_t)c->non_null,
			(json_int_t)c->nulls, (json_int_t)c->set.n, val_json(&top, kind),
			c->set.n ? json_integer(top_n) : json_null(),
			c->set.n ? tool_real(pct(top_n, c->non_null)) : json_null(),
			val_json(&least, kind), c->set.n ? json_integer(least_n) : json_null(),
			c->set.n ? tool_real(entropy) : json_null()));
		if (shown < 3) {
			char *label = val_text(&top, kind, LABEL_MAX);
			if (c->set.n)
				buf_printf(&words, "%s%s (%zu values, mostly %s %.1f%%)", shown ? ", " : "",
					   c->col->name, c->set.n, label, pct(top_n, c->non_null));
			else
				buf_printf(&words, "%s%s (all null)", shown ? ", " : "", c->col->name);
			free(label);
		}
		shown++;
		free(order);
	}
	static const char *const names[] = {
		"column", "type", "non_null", "nulls", "distinct", "top", "top_count", "top_percent",
		"least", "least_count", "entropy_bits",
	};
	size_t listed = json_array_size(rows);
	out->result = json_pack("{s:s, s:o, s:o}", "selection", selection,
				"summary", tool_table(names, 11, rows), "details", details);
	if (listed)
		out->summary = tool_printf("%zu column%s: %s%s.", listed, listed == 1 ? "" : "s",
					   words.data ? words.data : "", listed > 3 ? ", ..." : "");
	else
		out->summary = tool_printf("No categorical columns (no text column has at most %d "
					   "distinct values).", FEW_DISTINCT);
	buf_free(&words);
	for (size_t i = 0; i < n; i++)
		counter_free(&cs[i]);
	free(cs);
	return 0;
}

static const struct tool categorical_summary_tool = {
	.name = "categorical_summary",
	.title = "Categorical columns summary",
	.description = "For each categorical column: non-null and null counts, the number of "
		       "categories, the most frequent value with its count and percent (of non-null "
		       "values), the least frequent value, Shannon entropy in bits (log base 2) and "
		       "the top 5 values, like pandas describe(include='object') and value_counts(). "
		       "Without columns it takes every text column flagged categorical plus boolean "
		       "columns; when there is none, every text column with at most 50 distinct "
		       "values. Ties in count go to the smallest value. "
		       "Korean: 범주형 변수 요약, 범주, 카테고리, 최빈값, 엔트로피.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "properties": {
		"columns": {"type": "array", "minItems": 1, "maxItems": 100, "uniqueItems": true,
			    "items": {"type": "string", "minLength": 1},
			    "description": "Columns to summarize (any type); default: the categorical ones"}}}),
	.output_schema = "{\"type\": \"object\", \"required\": [\"selection\", \"summary\", "
		"\"details\"], \"properties\": {"
		"\"selection\": {\"enum\": [\"given\", \"categorical\", \"few_distinct\"], "
		"\"description\": \"How the columns were chosen\"}, "
		"\"summary\": " TABLE_SCHEMA("A table: column, type, non_null, nulls, distinct, top, "
		"top_count, top_percent, least, least_count, entropy_bits") ", "
		"\"details\": {\"type\": \"array\", \"items\": {\"type\": \"object\", "
		"\"required\": [\"column\", \"top_values\"], \"properties\": {"
		"\"column\": {\"type\": \"string\"}, "
		"\"top_values\": " TABLE_SCHEMA("A table: value, count, percent") "}}}}}",
	.read_only = true,
	.run = categorical_summary,
};

/* ---- crosstab ---- */

enum norm { NORM_NONE, NORM_ALL, NORM_INDEX, NORM_COLUMNS };

/* Positions in the table of a dimension's entries: the max most frequent
 * values (ties by value) sorted by value, then "(other)" for the rest. */
struct dim {
	size_t *pos;      /* per entry */
	uint32_t *kept;   /* entries in table order */
	size_t nkept, folded, size;
};

static void dim_build(const struct counter *c, size_t max, struct dim *d)
{
	d->pos = xcalloc(c->set.n ? c->set.n : 1, sizeof *d->pos);
	uint32_t *o = counter_order(c, c->set.n > max);
	d->nkept = c->set.n > max ? max : c->set.n;
	d->folded = c->set.n - d->nkept;
	qsort_r(o, d->nkept, sizeof *o, by_value, (void *)c);
	for (size_t i = 0; i < c->set.n; i++)
		d->pos[o[i]] = i < d->nkept ? i : d->nkept;
	d->kept = o;
	d->size = d->nkept + (d->folded > 0);
}

static void dim_free(struct dim *d)
{
	free(d->pos);
	free(d->kept);
}

static json_t *dim_values(const struct counter *c, const struct dim *d)
{
	json_t *a = json_array();
	for (size_t i = 0; i < d->nkept; i++) {
		struct val v;
		counter_entry(c, d->kept[i], &v);
		json_array_append_new(a, val_json(&v, c->col->kind));
	}
	return a;
}

/* The row x column pairs and their counts. */
struct pairs {
	struct set set;           /* (row entry, column entry) */
	int64_t *count;
	size_t cap;
};

static void pairs_free(struct pairs *p)
{
	set_free(&p->set);
	free(p->count);
}

/* Counts one row of row entry ea and column entry eb; -1 past the meter. */
static int pairs_add(struct pairs *p, struct meter *m, long ea, long eb)
{
	if (ea < 0 || eb < 0)
		return 0;   /* a null: not counted (not reached: callers leave them out) */
	uint32_t pair[2] = { (uint32_t)ea, (uint32_t)eb };
	bool added;
	long e = set_add(&p->set, m, (const char *)pair, sizeof pair, &added);
	if (e < 0)
		return -1;
	if ((size_t)e >= p->cap) {
		size_t nc = p->cap ? 2 * p->cap : 256;
		if (!meter_take(m, (nc - p->cap) * sizeof *p->count))
			return -1;
		p->count = regrow(p->count, p->cap, nc, sizeof *p->count);
		p->cap = nc;
	}
	p->count[e]++;
	return 0;
}

/* crosstab_scan from frames. */
static int crosstab_frames(struct counter *rc, struct counter *cc, const struct frame_column *fa,
			   const struct frame_column *fb, struct pairs *pairs, struct meter *m,
			   struct tool_error *err)
{
	uint32_t *ma = NULL, *mb = NULL;
	int ret = 0;
	if (!code_map(fa, m, &ma) || !code_map(fb, m, &mb))
		ret = too_big(m, err);
	struct kbuf kb = { 0 };
	for (size_t r = 0; r < fa->n && ret == 0; r++) {
		if (!fa->valid[r] || !fb->valid[r])
			continue;
		long ea, eb;
		if (counter_add_frame(rc, m, fa, ma, r, &kb, &ea) < 0 ||
		    counter_add_frame(cc, m, fb, mb, r, &kb, &eb) < 0 ||
		    pairs_add(pairs, m, ea, eb) < 0)
			ret = too_big(m, err);
	}
	free(kb.p);
	free(ma);
	free(mb);
	return ret;
}

/* Counts of the row x column pairs (rows with a null in either left out),
 * from frames or by one scan. */
static int crosstab_scan(struct tool_ctx *ctx, struct counter *rc, struct counter *cc,
			 struct pairs *pairs, struct meter *m, struct tool_error *err)
{
	const struct table_column *cols[2] = { rc->col, cc->col };
	const struct frame_column *fc[2];
	struct frames fr;
	int served = frames_get(ctx, cols, 2, fc, &fr, err);
	if (served) {
		int ret = served < 0 ? -1 : crosstab_frames(rc, cc, fc[0], fc[1], pairs, m, err);
		frames_release(ctx, &fr);
		return ret;
	}
	struct buf sql;
	buf_init(&sql, 1 << 16);
	buf_puts(&sql, "SELECT ");
	tool_ident(&sql, rc->col->name);
	buf_puts(&sql, ", ");
	tool_ident(&sql, cc->col->name);
	buf_puts(&sql, " FROM data WHERE ");
	tool_ident(&sql, rc->col->name);
	buf_puts(&sql, " IS NOT NULL AND ");
	tool_ident(&sql, cc->col->name);
	buf_puts(&sql, " IS NOT NULL");
	enum column_kind kinds[2] = { rc->col->kind, cc->col->kind };
	struct scan sc;
	int ret = scan_open(ctx, &sc, sql.data, kinds, 2, err);
	buf_free(&sql);
	while (ret == 0 && (ret = scan_next(&sc, err)) == 0 && sc.nrows) {
		for (size_t r = 0; r < sc.nrows; r++) {
			const char *a = scan_row(&sc, r);
			struct val v;
			const char *b = key_val(a, &v), *end = key_val(b, &v);
			long ea, eb;
			if (counter_add(rc, m, a, (size_t)(b - a), &ea) < 0 ||
			    counter_add(cc, m, b, (size_t)(end - b), &eb) < 0 ||
			    pairs_add(pairs, m, ea, eb) < 0) {
				ret = too_big(m, err);
				break;
			}
		}
	}
	scan_close(&sc);
	return ret;
}

static int crosstab(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		    struct tool_error *err)
{
	const struct table_column *rcol = tool_column(ctx, args, "row", TOOL_KINDS_ANY, err);
	if (!rcol)
		return -1;
	const struct table_column *ccol = tool_column(ctx, args, "column", TOOL_KINDS_ANY, err);
	if (!ccol)
		return -1;
	const char *ns = json_string_value(json_object_get(args, "normalize"));
	if (!ns)
		ns = "none";
	enum norm norm = !strcmp(ns, "all") ? NORM_ALL : !strcmp(ns, "index") ? NORM_INDEX :
			 !strcmp(ns, "columns") ? NORM_COLUMNS : NORM_NONE;
	size_t max = (size_t)int_arg(args, "max_categories", 50);
	bool margins = json_is_true(json_object_get(args, "margins"));

	struct meter m = meter_for(ctx);
	struct counter rc = { .col = rcol }, cc = { .col = ccol };
	struct pairs pairs = { 0 };
	if (crosstab_scan(ctx, &rc, &cc, &pairs, &m, err) < 0) {
		counter_free(&rc);
		counter_free(&cc);
		pairs_free(&pairs);
		return -1;
	}
	struct dim rd, cd;
	dim_build(&rc, max, &rd);
	dim_build(&cc, max, &cd);
	size_t R = rd.size, C = cd.size;
	int64_t *cell = xcalloc(R * C > 0 ? R * C : 1, sizeof *cell);
	int64_t *rsum = xcalloc(R ? R : 1, sizeof *rsum), *csum = xcalloc(C ? C : 1, sizeof *csum);
	int64_t grand = 0;
	for (size_t p = 0; p < pairs.set.n; p++) {
		uint32_t pair[2];
		memcpy(pair, set_key(&pairs.set, p), sizeof pair);
		size_t r = rd.pos[pair[0]], c = cd.pos[pair[1]];
		cell[r * C + c] += pairs.count[p];
		rsum[r] += pairs.count[p];
		csum[c] += pairs.count[p];
		grand += pairs.count[p];
	}
	bool all_col = margins && norm != NORM_INDEX, all_row = margins && norm != NORM_COLUMNS;

	/* header: the row column's name, then the column values as text */
	json_t *names = json_array();
	json_array_append_new(names, json_string(rcol->name));
	for (size_t c = 0; c < cd.nkept; c++) {
		struct val v;
		counter_entry(&cc, cd.kept[c], &v);
		char *t = val_text(&v, ccol->kind, SIZE_MAX);
		json_array_append_new(names, json_string(t));
		free(t);
	}
	if (cd.folded)
		json_array_append_new(names, json_string(OTHER_LABEL));
	if (all_col)
		json_array_append_new(names, json_string("All"));

	json_t *rows = json_array();
	int64_t best = -1;
	size_t best_r = 0, best_c = 0;
	bool best_real = false;
	for (size_t r = 0; r <= R; r++) {
		if (r == R && !all_row)
			break;
		json_t *row = json_array();
		if (r == R) {
			json_array_append_new(row, json_string("All"));
		} else if (r < rd.nkept) {
			struct val v;
			counter_entry(&rc, rd.kept[r], &v);
			json_array_append_new(row, val_json(&v, rcol->kind));
		} else {
			json_array_append_new(row, json_string(OTHER_LABEL));
		}
		for (size_t c = 0; c <= C; c++) {
			if (c == C && !all_col)
				break;
			int64_t x = r == R ? (c == C ? grand : csum[c]) : (c == C ? rsum[r] : cell[r * C + c]);
			/* the largest cell for the summary: (other) only when nothing else */
			bool real = r < rd.nkept && c < cd.nkept;
			if (r < R && c < C && (x > best || (real && !best_real)) &&
			    (real || !best_real)) {
				best_real = real;
				best = x;
				best_r = r;
				best_c = c;
			}
			double whole = (double)grand;
			if (norm == NORM_INDEX && r < R)
				whole = (double)rsum[r];
			else if (norm == NORM_COLUMNS && c < C)
				whole = (double)csum[c];
			json_array_append_new(row, norm == NORM_NONE ? json_integer(x) :
					      tool_real(whole > 0 ? (double)x / whole : NAN));
		}
		json_array_append_new(rows, row);
	}
	json_t *table = json_pack("{s:o, s:o}", "columns", names, "rows", rows);
	int64_t nrows = table_nrows(ctx->t);
	out->result = json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:o, s:I, s:I, s:I, s:I}",
		"row", rcol->name, "column", ccol->name, "normalize", ns, "margins", margins,
		"table", table, "row_values", dim_values(&rc, &rd),
		"column_values", dim_values(&cc, &cd), "total", (json_int_t)grand,
		"dropped", (json_int_t)(nrows - grand), "other_rows", (json_int_t)rd.folded,
		"other_columns", (json_int_t)cd.folded);
	if (best >= 0) {
		struct val v;
		char *rl, *cl;
		if (best_r < rd.nkept) {
			counter_entry(&rc, rd.kept[best_r], &v);
			rl = val_text(&v, rcol->kind, LABEL_MAX);
		} else {
			rl = xstrdup(OTHER_LABEL);
		}
		if (best_c < cd.nkept) {
			counter_entry(&cc, cd.kept[best_c], &v);
			cl = val_text(&v, ccol->kind, LABEL_MAX);
		} else {
			cl = xstrdup(OTHER_LABEL);
		}
		out->summary = tool_printf("%s x %s: %zu x %zu table over %lld rows; the largest "
					   "cell is %s / %s (%lld, %.1f%%).", rcol->name, ccol->name,
					   R, C, (long long)grand, rl, cl, (long long)best,
					   pct(best, grand));
		free(rl);
		free(cl);
	} else {
		out->summary = tool_printf("%s x %s: no row has both values.", rcol->name,
					   ccol->name);
	}
	free(cell);
	free(rsum);
	free(csum);
	dim_free(&rd);
	dim_free(&cd);
	counter_free(&rc);
	counter_free(&cc);
	pairs_free(&pairs);
	return 0;
}

static const struct tool crosstab_tool = {
	.name = "crosstab",
	.title = "Cross tabulation",
	.description = "Counts of every combination of two columns' values, like pandas "
		       "crosstab(df[row], df[column]): one table row per row value (ascending), one "
		       "table column per column value. Rows with a null in either column are left "
		       "out. normalize: all (share of the grand total), index (share of each row), "
		       "columns (share of each column). margins adds an \"All\" row and column of "
		       "totals, as pandas does (with normalize=index only the All row, with "
		       "normalize=columns only the All column). A dimension with more than "
		       "max_categories values keeps its max_categories most frequent ones and "
		       "groups the rest as \"(other)\" (the last row or column). "
		       "Korean: 교차표, 교차 분석, 분할표, 빈도표.",
	.input_schema = JSON({"type": "object", "additionalProperties": false,
		"required": ["row", "column"], "properties": {
			"row": {"type": "string", "minLength": 1, "description": "The column whose values make the rows"},
			"column": {"type": "string", "minLength": 1, "description": "The column whose values make the columns"},
			"normalize": {"enum": ["none", "all", "index", "columns"], "default": "none",
				      "description": "Counts, or shares (0..1) of the grand total, of each row or of each column"},
			"max_categories": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50,
					   "description": "Most values kept per dimension; the rest become (other)"},
			"margins": {"type": "boolean", "default": false,
				    "description": "Add an All row and column of totals"}}}),
	.output_schema = "{\"type\": \"object\", \"required\": [\"row\", \"column\", \"normalize\", "
		"\"margins\", \"table\", \"row_values\", \"column_values\", \"total\", \"dropped\", "
		"\"other_rows\", \"other_columns\"], \"properties\": {"
		"\"row\": {\"type\": \"string\"}, \"column\": {\"type\": \"string\"}, "
		"\"normalize\": {\"enum\": [\"none\", \"all\", \"index\", \"columns\"]}, "
		"\"margins\": {\"type\": \"boolean\"}, "
		"\"table\": " TABLE_SCHEMA("A matrix: the row value first, then one cell per column "
		"value (text in the header), (other) and All when present") ", "
		"\"row_values\": {\"type\": \"array\", \"description\": \"The row values, typed "
		"(without (other))\"}, "
		"\"column_values\": {\"type\": \"array\", \"description\": \"The column values, typed "
		"(without (other))\"}, "
		"\"total\": {\"type\": \"integer\", \"description\": \"Rows counted\"}, "
		"\"dropped\": {\"type\": \"integer\", \"description\": \"Rows with a null in either "
		"column\"}, "
		"\"other_rows\": {\"type\": \"integer\", \"description\": \"Row values grouped as "
		"(other)\"}, "
		"\"other_columns\": {\"type\": \"integer\"}}}",
	.read_only = true,
	.run = crosstab,
};

/* ---- group_by ---- */

enum fn { FN_SUM, FN_MEAN, FN_COUNT, FN_MIN, FN_MAX, FN_MEDIAN, FN_STD, FN_NUNIQUE, FN_SIZE };

static const char *const fn_names[] = {
	"sum", "mean", "count", "min", "max", "median", "std", "nunique",
};

#define NEED_NUM     1u    /* nnum: numeric values */
#define NEED_SUM     2u
#define NEED_WELFORD 4u
#define NEED_MIN     8u
#define NEED_MAX     16u
#define NEED_MEDIAN  32u
#define NEED_NUNIQUE 64u

/* The state of one group for one aggregated column: one block, so that a
 * row touches one or two cache lines per column whatever it needs. */
struct gstate {
	int64_t count;           /* non-null values */
	int64_t nnum;            /* numeric values (the same unless text hides in a number column) */
	int64_t isum;            /* exact integer sum, unless iover */
	int64_t nuniq;
	double sum, comp;        /* Kahan summation, as pandas */
	double mean, m2;         /* Welford, as pandas' group_var */
	struct val min, max;     /* text owned (malloc'd) */
	bool iover;              /* the integer sum overflowed, or a real was added */
};

/* One aggregated column. */
struct acol {
	const struct table_column *c;
	unsigned need;
	struct gstate *st;       /* per group */
	double *mv;              /* SQL: per kept row (gb.row_gid): the value, NaN when missing */
	const struct frame_column *frame;   /* frames: the column's values */
	double *median;          /* per group, after the scan */
	struct set uvals;        /* distinct values, numbered ... */
	struct set uniq;         /* ... to make (group, value number) pairs: 8-byte keys */
};

struct agg {
	enum fn fn;
	int col;                 /* index in acols; -1 for the row count */
	char *name;              /* "sum(amount)", "count(*)" */
};

struct gb {
	struct meter m;
	size_t nkeys;
	const struct table_column *keys[MAX_KEYS];
	struct set groups;
	size_t gcap;
	int64_t *size;
	uint32_t *row_gid;       /* for medians: each kept row's group (frames: each row's,
				  * UINT32_MAX when left out) */
	size_t rows, rows_cap, nmed;
	struct kbuf disp;        /* from frames: each group's key as values, encoded, ... */
	size_t *disp_off;        /* ... starting here (NULL: the group set holds them) */
	size_t nacols;
	struct acol acols[MAX_AGGS];
	size_t naggs;
	struct agg aggs[MAX_AGGS];
	/* sorting */
	int sort_agg;            /* aggregation to sort by, or -1 */
	int sort_key;            /* key to sort by, or -1 */
	bool desc;
};

static void gb_free(struct gb *g)
{
	size_t ng = g->groups.n;
	set_free(&g->groups);
	free(g->size);
	for (size_t i = 0; i < g->nacols; i++) {
		struct acol *a = &g->acols[i];
		for (size_t k = 0; a->st && k < ng && k < g->gcap; k++) {
			if (a->st[k].min.tag == TAG_TEXT)
				free((char *)a->st[k].min.s);
			if (a->st[k].max.tag == TAG_TEXT)
				free((char *)a->st[k].max.s);
		}
		free(a->st);
		free(a->mv);
		free(a->median);
		set_free(&a->uvals);
		set_free(&a->uniq);
	}
	for (size_t i = 0; i < g->naggs; i++)
		free(g->aggs[i].name);
	free(g->row_gid);
	free(g->disp.p);
	free(g->disp_off);
}

/* Room for groups up to gid; -1 past the meter. */
static int gb_grow(struct gb *g, size_t gid)
{
	if (gid < g->gcap)
		return 0;
	size_t nc = g->gcap ? 2 * g->gcap : 64;
	size_t per = sizeof *g->size + g->nacols * sizeof(struct gstate) +
		     (g->disp_off ? sizeof *g->disp_off : 0);
	if (!meter_take(&g->m, (nc - g->gcap) * per))
		return -1;
	g->size = regrow(g->size, g->gcap, nc, sizeof *g->size);
	if (g->disp_off)
		g->disp_off = regrow(g->disp_off, g->gcap, nc, sizeof *g->disp_off);
	for (size_t i = 0; i < g->nacols; i++)
		g->acols[i].st = regrow(g->acols[i].st, g->gcap, nc, sizeof(struct gstate));
	g->gcap = nc;
	return 0;
}

/* *slot = v, copying its text; -1 past the meter. */
static int val_keep(struct meter *m, struct val *slot, const struct val *v)
{
	if (v->tag == TAG_TEXT && !meter_take(m, v->n + 1))
		return -1;
	if (slot->tag == TAG_TEXT) {
		m->used -= (int64_t)slot->n + 1;
		free((char *)slot->s);
	}
	*slot = *v;
	if (v->tag == TAG_TEXT)
		slot->s = xstrndup(v->s, v->n);
	return 0;
}

/* Adds v (encoded as enc[0..len), or numbered vid >= 0 among the column's
 * distinct values), kept row number row, to group gid of a; -1 past the
 * meter. */
static int acol_add(struct gb *g, struct acol *a, size_t gid, size_t row, const struct val *v,
		    const char *enc, size_t len, long vid)
{
	if (v->tag == TAG_NULL)
		return 0;
	struct gstate *s = &a->st[gid];
	s->count++;
	if ((a->need & NEED_NUM) && (v->tag == TAG_INT || v->tag == TAG_REAL)) {
		double x = v->tag == TAG_INT ? (double)v->i : v->d;
		s->nnum++;
		if (a->need & NEED_SUM) {
			if (v->tag == TAG_REAL)
				s->iover = true;   /* not an integer sum */
			else if (!s->iover && __builtin_add_overflow(s->isum, v->i, &s->isum))
				s->iover = true;
			double y = x - s->comp;
			double t = s->sum + y;
			s->comp = (t - s->sum) - y;
			s->sum = t;
		}
		if (a->need & NEED_WELFORD) {
			double old = s->mean;
			s->mean += (x - old) / (double)s->nnum;
			s->m2 += (x - s->mean) * (x - old);
		}
		if ((a->need & NEED_MEDIAN) && a->mv)
			a->mv[row] = x;
	}
	if ((a->need & NEED_MIN) && (s->min.tag == TAG_NULL || val_cmp(v, &s->min) < 0) &&
	    val_keep(&g->m, &s->min, v) < 0)
		return -1;
	if ((a->need & NEED_MAX) && (s->max.tag == TAG_NULL || val_cmp(v, &s->max) > 0) &&
	    val_keep(&g->m, &s->max, v) < 0)
		return -1;
	if (a->need & NEED_NUNIQUE) {
		bool added;
		long ve = vid >= 0 ? vid : set_add(&a->uvals, &g->m, enc, len, &added);
		if (ve < 0)
			return -1;
		uint32_t pair[2] = { (uint32_t)gid, (uint32_t)ve };
		if (set_add(&a->uniq, &g->m, (const char *)pair, sizeof pair, &added) < 0)
			return -1;
		s->nuniq += added;
	}
	return 0;
}

/*
 * The medians: the kept rows bucketed by group in place (one cycle-walking
 * pass moves the groups and every median column's values together), then
 * per group and column the values (NaN: missing) moved to the front and
 * the middle one or two selected.  O(rows) time, no second copy.
 */
/* The median of v[0..n) (n > 0; reorders v). */
static double median_of(double *v, size_t n)
{
	static const double half = 0.5;
	double m;
	kernel_quantiles(v, n, &half, 1, &m);
	return m;
}

/*
 * The medians from frames: per column, each group's values gathered from
 * the column array in row order (a counting pass, then a fill: sequential
 * reads) into one buffer, then selected.
 */
static int gb_medians_frames(struct gb *g)
{
	size_t ng = g->groups.n, n = g->rows_cap;
	if (!meter_take(&g->m, (2 * ng + 1) * sizeof(size_t) + n * sizeof(double) +
			       g->nmed * ng * sizeof(double)))
		return -1;
	size_t *start = xmalloc((ng + 1) * sizeof *start), *fill = xmalloc((ng ? ng : 1) * sizeof *fill);
	double *v = xmalloc((n ? n : 1) * sizeof *v);
	const uint32_t *rg = g->row_gid;
	for (size_t c = 0; c < g->nacols; c++) {
		struct acol *a = &g->acols[c];
		if (!(a->need & NEED_MEDIAN))
			continue;
		const struct frame_column *f = a->frame;
		memset(start, 0, (ng + 1) * sizeof *start);
		for (size_t r = 0; r < f->n; r++)
			if (rg[r] != UINT32_MAX && f->valid[r])
				start[rg[r] + 1]++;
		for (size_t k = 0; k < ng; k++) {
			start[k + 1] += start[k];
			fill[k] = start[k];
		}
		for (size_t r = 0; r < f->n; r++)
			if (rg[r] != UINT32_MAX && f->valid[r])
				v[fill[rg[r]]++] = f->num[r];
		a->median = xmalloc((ng ? ng : 1) * sizeof *a->median);
		for (size_t k = 0; k < ng; k++)
			a->median[k] = start[k + 1] > start[k] ?
				median_of(v + start[k], start[k + 1] - start[k]) : NAN;
	}
	free(start);
	free(fill);
	free(v);
	return 0;
}

static int gb_medians(struct gb *g)
{
	for (size_t k = 0; k < g->nacols; k++)
		if ((g->acols[k].need & NEED_MEDIAN) && g->acols[k].frame)
			return gb_medians_frames(g);
	size_t ng = g->groups.n;
	if (!meter_take(&g->m, (2 * ng + 1) * sizeof(size_t) + g->nmed * ng * sizeof(double)))
		return -1;
	size_t *start = xmalloc((ng + 1) * sizeof *start), *next = xmalloc((ng ? ng : 1) * sizeof *next);
	double *mv[MAX_AGGS];
	size_t nm = 0;
	for (size_t k = 0; k < g->nacols; k++)
		if (g->acols[k].need & NEED_MEDIAN)
			mv[nm++] = g->acols[k].mv;
	start[0] = 0;
	for (size_t k = 0; k < ng; k++) {
		start[k + 1] = start[k] + (size_t)g->size[k];
		next[k] = start[k];
	}
	uint32_t *rg = g->row_gid;
	for (size_t k = 0; k < ng; k++) {
		while (next[k] < start[k + 1]) {
			size_t i = next[k];
			uint32_t t = rg[i];
			if (t == k) {
				next[k]++;
				continue;
			}
			size_t j = next[t]++;
			rg[i] = rg[j];
			rg[j] = t;
			for (size_t c = 0; c < nm; c++) {
				double v = mv[c][i];
				mv[c][i] = mv[c][j];
				mv[c][j] = v;
			}
		}
	}
	for (size_t c = 0; c < g->nacols; c++) {
		struct acol *a = &g->acols[c];
		if (!(a->need & NEED_MEDIAN))
			continue;
		a->median = xmalloc((ng ? ng : 1) * sizeof *a->median);
		for (size_t k = 0; k < ng; k++) {
			double *v = a->mv + start[k];
			size_t n = 0;
			for (size_t i = 0; i < start[k + 1] - start[k]; i++)
				if (!isnan(v[i]))
					v[n++] = v[i];
			a->median[k] = n ? median_of(v, n) : NAN;
		}
	}
	free(start);
	free(next);
	return 0;
}

/* Aggregation i of group gid as a val, and the kind to show it as. */
static struct val agg_val(const struct gb *g, size_t i, size_t gid, enum column_kind *kind)
{
	const struct agg *ag = &g->aggs[i];
	struct val v = { 0 };
	*kind = COLUMN_INT;
	if (ag->fn == FN_SIZE) {
		v.tag = TAG_INT;
		v.i = g->size[gid];
		return v;
	}
	const struct acol *a = &g->acols[ag->col];
	const struct gstate *s = &a->st[gid];
	int64_t n = s->nnum;
	switch (ag->fn) {
	case FN_COUNT:
		v.tag = TAG_INT;
		v.i = s->count;
		break;
	case FN_NUNIQUE:
		v.tag = TAG_INT;
		v.i = s->nuniq;
		break;
	case FN_SUM:
		if (a->c->kind != COLUMN_REAL && !s->iover) {
			v.tag = TAG_INT;
			v.i = s->isum;
		} else {
			v.tag = TAG_REAL;
			v.d = s->sum;
		}
		break;
	case FN_MEAN:
		if (n) {
			v.tag = TAG_REAL;
			v.d = (s->iover ? s->sum : (double)s->isum) / (double)n;
		}
		break;
	case FN_STD:
		if (n > 1) {
			v.tag = TAG_REAL;
			v.d = sqrt(s->m2 / (double)(n - 1));
		}
		break;
	case FN_MEDIAN:
		if (n) {
			v.tag = TAG_REAL;
			v.d = a->median[gid];
		}
		break;
	case FN_MIN:
		v = s->min;
		*kind = a->c->kind;
		break;
	case FN_MAX:
		v = s->max;
		*kind = a->c->kind;
		break;
	default:
		break;
	}
	return v;
}

static const char *group_key(const struct gb *g, size_t gid)
{
	return g->disp_off ? g->disp.p + g->disp_off[gid] : set_key(&g->groups, gid);
}

/* Key j of a group as a val. */
static struct val key_part(const struct gb *g, size_t gid, size_t j)
{
	const char *p = group_key(g, gid);
	struct val v;
	for (size_t i = 0; i <= j; i++)
		p = key_val(p, &v);
	return v;
}

static int group_order(const void *pa, const void *pb, void *arg)
{
	const struct gb *g = arg;
	uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
	if (g->sort_agg >= 0 || g->sort_key >= 0) {
		struct val x, y;
		if (g->sort_agg >= 0) {
			enum column_kind k;
			x = agg_val(g, (size_t)g->sort_agg, a, &k);
			y = agg_val(g, (size_t)g->sort_agg, b, &k);
			/* NaN never reaches here: medians of no values are not TAG_REAL */
		} else {
			x = key_part(g, a, (size_t)g->sort_key);
			y = key_part(g, b, (size_t)g->sort_key);
		}
		bool xn = x.tag == TAG_NULL, yn = y.tag == TAG_NULL;
		if (xn != yn)
			return xn ? 1 : -1;   /* nulls last either way */
		int c = val_cmp(&x, &y);
		if (c)
			return g->desc ? -c : c;
	}
	int c = key_cmp(group_key(g, a), group_key(g, b), g->nkeys);
	return c ? c : (a > b) - (a < b);
}

/* Reads by[], aggregations[] and sort into g; -1 with err set. */
static int gb_setup(struct tool_ctx *ctx, const json_t *args, struct gb *g,
		    struct tool_error *err)
{
	const json_t *by = json_object_get(args, "by");
	size_t i;
	const json_t *item;
	json_array_foreach(by, i, item) {
		char path[32];
		snprintf(path, sizeof path, "args.by[%zu]", i);
		const struct table_column *c = tool_column_named(ctx, json_string_value(item), path,
								 TOOL_KINDS_ANY, err);
		if (!c)
			return -1;
		g->keys[g->nkeys++] = c;
	}
	const json_t *aggs = json_object_get(args, "aggregations");
	json_t *dflt = NULL;
	if (!aggs)
		aggs = dflt = json_pack("[{s:s}]", "function", "count");
	json_array_foreach(aggs, i, item) {
		const char *fname = json_string_value(json_object_get(item, "function"));
		const char *cname = json_string_value(json_object_get(item, "column"));
		enum fn fn = FN_SIZE;
		for (size_t k = 0; k < sizeof fn_names / sizeof *fn_names; k++)
			if (!strcmp(fname, fn_names[k]))
				fn = (enum fn)k;
		char path[64];
		snprintf(path, sizeof path, "args.aggregations[%zu].column", i);
		struct agg *ag = &g->aggs[g->naggs];
		if (fn == FN_SIZE) {   /* not reached: the schema lists the functions */
			json_decref(dflt);
			return tool_fail(err, TOOL_ERR_ARGUMENT, "args.aggregations[%zu].function: "
					 "unknown function", i);
		}
		if (!cname) {
			if (fn != FN_COUNT) {
				json_decref(dflt);
				return tool_fail(err, TOOL_ERR_ARGUMENT, "%s is required for %s (only "
						 "count may leave it out, to count rows)", path, fname);
			}
			ag->fn = FN_SIZE;
			ag->col = -1;
			ag->name = xstrdup("count(*)");
		} else {
			bool numeric = fn == FN_SUM || fn == FN_MEAN || fn == FN_MEDIAN || fn == FN_STD;
			const struct table_column *c = tool_column_named(ctx, cname, path,
				numeric ? TOOL_KINDS_NUMERIC : TOOL_KINDS_ANY, err);
			if (!c) {
				json_decref(dflt);
				return -1;
			}
			size_t k = 0;
			while (k < g->nacols && g->acols[k].c != c)
				k++;
			if (k == g->nacols)
				g->acols[g->nacols++].c = c;
			static const unsigned needs[] = {
				[FN_SUM] = NEED_NUM | NEED_SUM, [FN_MEAN] = NEED_NUM | NEED_SUM,
				[FN_COUNT] = 0, [FN_MIN] = NEED_MIN, [FN_MAX] = NEED_MAX,
				[FN_MEDIAN] = NEED_NUM | NEED_MEDIAN, [FN_STD] = NEED_NUM | NEED_WELFORD,
				[FN_NUNIQUE] = NEED_NUNIQUE,
			};
			g->acols[k].need |= needs[fn];
			g->acols[k].uvals.lookup_only = g->acols[k].uniq.lookup_only = true;
			ag->fn = fn;
			ag->col = (int)k;
			ag->name = tool_printf("%s(%s)", fname, c->name);
		}
		g->naggs++;
		for (size_t k = 0; k + 1 < g->naggs; k++)
			if (!strcmp(g->aggs[k].name, ag->name)) {
				json_decref(dflt);
				return tool_fail(err, TOOL_ERR_ARGUMENT, "args.aggregations[%zu]: repeats "
						 "aggregations[%zu] (%s)", i, k, ag->name);
			}
	}
	json_decref(dflt);

	g->sort_agg = g->sort_key = -1;
	const char *sort = json_string_value(json_object_get(args, "sort"));
	if (sort) {
		/* "x" ascending; "-x" descending when x is an output column, else the
		 * column "-x"; "+x" ascending */
		for (int pass = 0; pass < 2 && g->sort_agg < 0 && g->sort_key < 0; pass++) {
			const char *name = sort;
			if (pass == 1) {
				if (*sort != '-' && *sort != '+')
					break;
				name = sort + 1;
				g->desc = *sort == '-';
			}
			for (size_t k = 0; k < g->nkeys && g->sort_key < 0; k++)
				if (!strcmp(g->keys[k]->name, name))
					g->sort_key = (int)k;
			for (size_t k = 0; k < g->naggs && g->sort_key < 0 && g->sort_agg < 0; k++)
				if (!strcmp(g->aggs[k].name, name))
					g->sort_agg = (int)k;
		}
		if (g->sort_agg < 0 && g->sort_key < 0) {
			struct buf names;
			buf_init(&names, 400);
			for (size_t k = 0; k < g->nkeys; k++)
				buf_printf(&names, "%s%s", k ? ", " : "", g->keys[k]->name);
			for (size_t k = 0; k < g->naggs; k++)
				buf_printf(&names, ", %s", g->aggs[k].name);
			tool_fail(err, TOOL_ERR_ARGUMENT, "args.sort: no output column \"%.100s\"; "
				  "the columns are: %s (prefix - to sort descending)", sort,
				  names.data ? names.data : "");
			buf_free(&names);
			return -1;
		}
	}
	return 0;
}

/* Room for medians: every row's group, and from a scan (not frames) the
 * values too; rows is the table's or the frames'.  -1 past the meter. */
static int gb_median_rows(struct gb *g, size_t rows, bool frames)
{
	for (size_t k = 0; k < g->nacols; k++)
		g->nmed += (g->acols[k].need & NEED_MEDIAN) != 0;
	if (!g->nmed)
		return 0;
	g->rows_cap = rows ? rows : 1;
	size_t per = sizeof *g->row_gid + (frames ? 0 : g->nmed * sizeof(double));
	if (!meter_take(&g->m, g->rows_cap * per))
		return -1;
	g->row_gid = xmalloc(g->rows_cap * sizeof *g->row_gid);
	for (size_t k = 0; k < g->nacols && !frames; k++)
		if (g->acols[k].need & NEED_MEDIAN)
			g->acols[k].mv = xmalloc(g->rows_cap * sizeof(double));
	return 0;
}

/* Counts a scanned row in group gid: its size, and its slot for medians. */
static int gb_keep_row(struct gb *g, size_t gid, size_t *row)
{
	g->size[gid]++;
	*row = g->rows;
	if (!g->nmed)
		return 0;
	if (g->rows == g->rows_cap)
		return -1;   /* not reached: more rows than the table has */
	g->row_gid[g->rows] = (uint32_t)gid;
	for (size_t k = 0; k < g->nacols; k++)
		if (g->acols[k].need & NEED_MEDIAN)
			g->acols[k].mv[g->rows] = NAN;
	g->rows++;
	return 0;
}

/*
 * gb_scan from frames.  A group's key in the set is made of numbers that
 * stand for its values: the dictionary code of text (codes and strings
 * correspond one to one); for a number, its 8 bytes when it is the only
 * key, else its number among the column's distinct values (a small set),
 * so that two keys make an 8-byte key kept in the slot.  One text key
 * skips the hashing (a code -> group array).  Each new group's key is
 * also kept as values (disp) for ordering and output.
 */
static int gb_scan_frames(struct gb *g, const struct frame_column *const *fk,
			  const struct frame_column *const *fa, int64_t *used,
			  struct tool_error *err)
{
	g->groups.lookup_only = true;
	g->disp_off = xcalloc(1, sizeof *g->disp_off);   /* grown with the groups */
	uint32_t *map = NULL;
	struct set knum[MAX_KEYS];
	memset(knum, 0, sizeof knum);
	for (size_t k = 0; k < g->nkeys; k++)
		knum[k].lookup_only = true;
	int rc = 0;
	if (g->nkeys == 1 && !code_map(fk[0], &g->m, &map))
		rc = too_big(&g->m, err);
	struct kbuf kb = { 0 }, vb = { 0 };
	size_t n = fk[0]->n;
	for (size_t k = 0; k < g->nacols; k++)
		g->acols[k].frame = fa[k];
	if (rc == 0 && gb_median_rows(g, n, true) < 0)
		rc = too_big(&g->m, err);
	for (size_t r = 0; r < n && rc == 0; r++) {
		bool null = false;
		for (size_t k = 0; k < g->nkeys; k++)
			null |= !fk[k]->valid[r];
		if (null) {
			if (g->row_gid)
				g->row_gid[r] = UINT32_MAX;
			continue;
		}
		long gid;
		bool added = false;
		if (map && map[fk[0]->code[r]]) {
			gid = map[fk[0]->code[r]] - 1;
		} else {
			kb.len = 0;
			gid = 0;
			for (size_t k = 0; k < g->nkeys && gid >= 0; k++) {
				const struct frame_column *f = fk[k];
				if (f->code) {
					kb_put(&kb, &f->code[r], sizeof *f->code);
					continue;
				}
				struct val v;
				frame_val(f, r, &v);   /* v.i: the int64 or the double's bits */
				if (g->nkeys == 1) {
					kb_put(&kb, &v.i, sizeof v.i);
					continue;
				}
				bool fresh;
				long id = set_add(&knum[k], &g->m, (const char *)&v.i, sizeof v.i, &fresh);
				uint32_t id32 = (uint32_t)id;
				kb_put(&kb, &id32, sizeof id32);
				gid = id;
			}
			if (gid >= 0)
				gid = set_add(&g->groups, &g->m, kb.p, kb.len, &added);
			if (map && gid >= 0)
				map[fk[0]->code[r]] = (uint32_t)gid + 1;
		}
		if (gid < 0 || gb_grow(g, (size_t)gid) < 0) {
			rc = too_big(&g->m, err);
			break;
		}
		if (added) {
			size_t start = g->disp.len;
			for (size_t k = 0; k < g->nkeys; k++) {
				struct val v;
				frame_val(fk[k], r, &v);
				kb_val(&g->disp, &v);
			}
			if (!meter_take(&g->m, g->disp.len - start)) {
				rc = too_big(&g->m, err);
				break;
			}
			g->disp_off[gid] = start;
		}
		g->size[gid]++;
		if (g->row_gid)
			g->row_gid[r] = (uint32_t)gid;
		(*used)++;
		for (size_t k = 0; k < g->nacols && rc == 0; k++) {
			struct acol *a = &g->acols[k];
			const struct frame_column *f = fa[k];
			struct val v;
			frame_val(f, r, &v);
			long vid = -1;
			vb.len = 0;
			if ((a->need & NEED_NUNIQUE) && v.tag != TAG_NULL) {
				if (f->code)
					vid = f->code[r];
				else
					kb_val(&vb, &v);
			}
			if (acol_add(g, a, (size_t)gid, r, &v, vb.p, vb.len, vid) < 0)
				rc = too_big(&g->m, err);
		}
	}
	for (size_t k = 0; k < g->nkeys; k++)
		set_free(&knum[k]);
	free(map);
	free(kb.p);
	free(vb.p);
	return rc;
}

/* Every row with no null key, grouped and aggregated: from frames, or by
 * one scan. */
static int gb_scan(struct tool_ctx *ctx, struct gb *g, int64_t *used, struct tool_error *err)
{
	*used = 0;
	const struct table_column *cols[MAX_KEYS + MAX_AGGS];
	const struct frame_column *fc[MAX_KEYS + MAX_AGGS];
	for (size_t k = 0; k < g->nkeys; k++)
		cols[k] = g->keys[k];
	for (size_t k = 0; k < g->nacols; k++)
		cols[g->nkeys + k] = g->acols[k].c;
	struct frames fr;
	int served = frames_get(ctx, cols, g->nkeys + g->nacols, fc, &fr, err);
	if (served) {
		int rc = served < 0 ? -1 : gb_scan_frames(g, fc, fc + g->nkeys, used, err);
		frames_release(ctx, &fr);
		return rc;
	}
	int64_t nrows = table_nrows(ctx->t);
	if (gb_median_rows(g, nrows > 0 ? (size_t)nrows : 0, false) < 0)
		return too_big(&g->m, err);
	struct buf sql;
	buf_init(&sql, 1 << 20);
	buf_puts(&sql, "SELECT ");
	enum column_kind kinds[MAX_KEYS + MAX_AGGS];
	size_t n = 0;
	for (size_t k = 0; k < g->nkeys; k++, n++) {
		buf_puts(&sql, n ? ", " : "");
		tool_ident(&sql, g->keys[k]->name);
		kinds[n] = g->keys[k]->kind;
	}
	for (size_t k = 0; k < g->nacols; k++, n++) {
		buf_puts(&sql, ", ");
		tool_ident(&sql, g->acols[k].c->name);
		kinds[n] = g->acols[k].c->kind;
	}
	buf_puts(&sql, " FROM data WHERE ");
	for (size_t k = 0; k < g->nkeys; k++) {
		if (k)
			buf_puts(&sql, " AND ");
		tool_ident(&sql, g->keys[k]->name);
		buf_puts(&sql, " IS NOT NULL");
	}
	struct scan sc;
	int rc = scan_open(ctx, &sc, sql.data, kinds, n, err);
	buf_free(&sql);
	if (rc < 0) {
		scan_close(&sc);
		return -1;
	}
	while (rc == 0 && (rc = scan_next(&sc, err)) == 0 && sc.nrows) {
		for (size_t r = 0; r < sc.nrows && rc == 0; r++) {
			const char *key = scan_row(&sc, r), *p = key;
			struct val v;
			for (size_t k = 0; k < g->nkeys; k++)
				p = key_val(p, &v);
			bool added;
			long gid = set_add(&g->groups, &g->m, key, (size_t)(p - key), &added);
			if (gid < 0 || gb_grow(g, (size_t)gid) < 0) {
				rc = too_big(&g->m, err);
				break;
			}
			size_t row;
			if (gb_keep_row(g, (size_t)gid, &row) < 0) {
				rc = too_big(&g->m, err);
				break;
			}
			(*used)++;
			for (size_t k = 0; k < g->nacols && rc == 0; k++) {
				const char *next = key_val(p, &v);
				if (acol_add(g, &g->acols[k], (size_t)gid, row, &v, p,
					     (size_t)(next - p), -1) < 0)
					rc = too_big(&g->m, err);
				p = next;
			}
		}
	}
	scan_close(&sc);
	return rc;
}

static int group_by(struct tool_ctx *ctx, const json_t *args, struct tool_output *out,
		    struct tool_error *err)
{
	struct gb *g = xcalloc(1, sizeof *g);
	g->m = meter_for(ctx);
	size_t limit = (size_t)int_arg(args, "limit", 1000);
	int64_t used = 0;
	int rc = gb_setup(ctx, args, g, err);
	if (rc == 0)
		rc = gb_scan(ctx, g, &used, err);
	if (rc == 0 && g->nmed && gb_medians(g) < 0)
		rc = too_big(&g->m, err);
	if (rc < 0) {
		gb_free(g);
		free(g);
		return -1;
	}
	size_t ng = g->groups.n;
	uint32_t *order = xmalloc((ng ? ng : 1) * sizeof *order);
	for (size_t k = 0; k < ng; k++)
		order[k] = (uint32_t)k;
	qsort_r(order, ng, sizeof *order, group_order, g);

	json_t *names = json_array(), *by = json_array(), *aggnames = json_array();
	for (size_t k = 0; k < g->nkeys; k++) {
		json_array_append_new(names, json_string(g->keys[k]->name));
		json_array_append_new(by, json_string(g->keys[k]->name));
	}
	for (size_t k = 0; k < g->naggs; k++) {
		json_array_append_new(names, json_string(g->aggs[k].name));
		json_array_append_new(aggnames, json_string(g->aggs[k].name));
	}
	json_t *rows = json_array();
	for (size_t r = 0; r < ng && r < limit; r++) {
		json_t *row = json_array();
		const char *p = group_key(g, order[r]);
		for (size_t k = 0; k < g->nkeys; k++) {
			struct val v;
			p = key_val(p, &v);
			json_array_append_new(row, val_json(&v, g->keys[k]->kind));
		}
		for (size_t k = 0; k < g->naggs; k++) {
			enum column_kind kind;
			struct val v = agg_val(g, k, order[r], &kind);
			json_array_append_new(row, val_json(&v, kind));
		}
		json_array_append_new(rows, row);
	}
	int64_t nrows = table_nrows(ctx->t);
	bool truncated = ng > limit;
	out->result = json_pack("{s:o, s:o, s:o, s:I, s:b, s:I, s:I}", "by", by,
		"aggregations", aggnames, "table", json_pack("{s:o, s:o}", "columns", names,
		"rows", rows), "groups", (json_int_t)ng, "truncated", truncated,
		"rows_used", (json_int_t)used, "dropped_rows", (json_int_t)(nrows - used));
	struct buf keys;
	buf_init(&keys, 4096);
	for (size_t k = 0; k < g->nkeys; k++)
		buf_printf(&keys, "%s%s", k ? ", " : "", g->keys[k]->name);
	char shown[64] = "";
	if (truncated)
		snprintf(shown, sizeof shown, " (the first %zu listed)", limit);
	char *first = NULL;
	if (ng) {
		struct buf f;
		buf_init(&f, 4096);
		const char *p = group_key(g, order[0]);
		for (size_t k = 0; k < g->nkeys; k++) {
			struct val v;
			p = key_val(p, &v);
			char *t = val_text(&v, g->keys[k]->kind, LABEL_MAX);
			buf_printf(&f, "%s%s", k ? " / " : "", t);
			free(t);
		}
		enum column_kind kind;
		struct val v = agg_val(g, 0, order[0], &kind);
		char *t = val_text(&v, kind, LABEL_MAX);
		first = tool_printf("; first: %s with %s = %s", f.data ? f.data : "",
				    g->aggs[0].name, t);
		free(t);
		buf_free(&f);
	}
	out->summary = tool_printf("%zu group%s by %s over %lld rows%s%s.", ng,
				   ng == 1 ? "" : "s", keys.data ? keys.data : "", (long long)used,
				   shown, first ? first : "");
	free(first);
	buf_free(&keys);
	free(order);
	gb_free(g);
	free(g);
	return 0;
}

static const struct tool group_by_tool = {
	.name = "group_by",
	.title = "Group by and aggregate",
	.description = "Groups rows by 1 to 5 columns and aggregates other columns per group, like "
		       "pandas df.groupby(by).agg(...): sum, mean, median, std (sample, n-1; null "
		       "for a group of one) on number columns; count (non-null values; without a "
		       "column: rows), min, max and nunique (distinct values) on any column. Rows "
		       "with a null key are left out (dropna). Output columns are the keys, then "
		       "one per aggregation named like \"sum(amount)\" or \"count(*)\". Sorted by "
		       "the keys ascending unless sort names an output column (\"-\" first for "
		       "descending; nulls last; ties by the keys). "
		       "Korean: 그룹별 집계, 그룹화, 집계, 합계, 평균, 중앙값, 표준편차, 개수, 최솟값, "
		       "최댓값, 피벗.",
	.input_schema = JSON({"type": "object", "additionalProperties": false, "required": ["by"],
		"properties": {
			"by": {"type": "array", "minItems": 1, "maxItems": 5, "uniqueItems": true,
			       "items": {"type": "string", "minLength": 1},
			       "description": "The columns to group by (any type)"},
			"aggregations": {"type": "array", "minItems": 1, "maxItems": 50,
				"default": [{"function": "count"}],
				"description": "What to compute per group; default: the row count",
				"items": {"type": "object", "additionalProperties": false,
					"required": ["function"], "properties": {
						"column": {"type": "string", "minLength": 1,
							   "description": "The column; count may leave it out to count rows"},
						"function": {"enum": ["sum", "mean", "count", "min", "max",
								      "median", "std", "nunique"]}}}},
			"sort": {"type": "string", "minLength": 1,
				 "description": "An output column to sort by, e.g. \"-sum(amount)\" for descending; default: the keys ascending"},
			"limit": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 1000,
				  "description": "How many groups to list at most"}}}),
	.output_schema = "{\"type\": \"object\", \"required\": [\"by\", \"aggregations\", \"table\", "
		"\"groups\", \"truncated\", \"rows_used\", \"dropped_rows\"], \"properties\": {"
		"\"by\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}, "
		"\"aggregations\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}, "
		"\"description\": \"The aggregation columns' names\"}, "
		"\"table\": " TABLE_SCHEMA("A table: the keys, then one column per aggregation") ", "
		"\"groups\": {\"type\": \"integer\", \"description\": \"All groups, listed or not\"}, "
		"\"truncated\": {\"type\": \"boolean\"}, "
		"\"rows_used\": {\"type\": \"integer\", \"description\": \"Rows with no null key\"}, "
		"\"dropped_rows\": {\"type\": \"integer\", \"description\": \"Rows with a null key\"}}}",
	.read_only = true,
	.run = group_by,
};

const struct tool *const tools_values[] = {
	&value_counts_tool,
	&unique_values_tool,
	&categorical_summary_tool,
	&crosstab_tool,
	&group_by_tool,
	NULL,
};
