/*
 * Read access to one dataset file; see table.h for the contract and the
 * filter language.
 *
 * The file is opened through a "file:...?immutable=1" URI: the importer
 * never changes a dataset file once written, so SQLite may skip locking and
 * change detection.  Columns and meta are loaded once at open.  A query
 * becomes a WHERE clause of quoted identifiers and '?' placeholders plus a
 * list of typed parameters, bound in order; an export steps its statement
 * only as its reader pulls bytes, rendering one field at a time.
 */
#include "datasets/table.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/utf8.h"
#include "base/buf.h"
#include "base/clock.h"
#include "datasets/render.h"
#include "ingest/value.h"

#define URI_MAX 65536
#define META_MAX_ENTRIES 10000
#define SQL_MAX (4u << 20)
#define EXPORT_CHUNK_MAX (64u << 20)   /* one rendered field or header row */
#define SHOWN_MAX 100                  /* bytes of user text quoted in a message */

struct meta_entry {
	char *key;
	char *value;
};

struct table {
	sqlite3 *db;
	char *path;
	size_t ncols;
	struct table_column *cols;
	size_t nmeta;
	struct meta_entry *meta;
	int64_t nrows;
	char *select_list;     /* "\"a\", \"b\", ..." */
	const char *rowid;     /* a name for the rowid no column shadows, or NULL */
	int64_t time_limit_ms; /* per call; 0: none */
	int64_t deadline_ns;   /* clock_mono_ns when the current call must stop; 0: never */
};

enum param_type {
	PARAM_INT,
	PARAM_REAL,
	PARAM_TEXT,
};

struct param {
	enum param_type type;
	int64_t i;
	double r;
	char *s;
	size_t len;
};

struct sort_key {
	size_t col;
	bool desc;
};

struct table_query {
	const struct table *t;
	struct buf where;       /* conditions joined by " AND "; empty: none */
	struct param *params;
	size_t nparams, cap;
	size_t nfilters;
	struct sort_key sort[TABLE_MAX_SORT_KEYS];
	size_t nsort;
	int64_t offset, limit;
};

/* ---- small helpers ---- */

static const char *column_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	return s ? (const char *)s : NULL;
}

static char *dup_column(sqlite3_stmt *st, int i)
{
	const char *s = column_text(st, i);
	return s ? xstrdup(s) : NULL;
}

/* User text quoted in a message: at most SHOWN_MAX bytes, never cutting a
 * character, "…" when cut, invalid UTF-8 bytes as '?', so that the message
 * can go into a JSON reply as it is. */
#define SHOWN_CAP (SHOWN_MAX + 4)

static const char *show(char out[SHOWN_CAP], const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = 0, i = 0;
	while (i < len) {
		size_t k = utf8_seqn((const char *)u + i, len - i);
		if (n + (k ? k : 1) > SHOWN_MAX)
			break;
		if (k) {
			memcpy(out + n, s + i, k);
			n += k;
			i += k;
		} else {
			out[n++] = '?';
			i++;
		}
	}
	if (i < len) {
		memcpy(out + n, "\xe2\x80\xa6", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* Appends name as a quoted SQL identifier.  Returns 0, or -1 (b unchanged)
 * when b's limit would be crossed. */
static int quote_ident(struct buf *b, const char *name)
{
	size_t len = b->len;
	int rc = buf_puts(b, "\"");
	for (const char *p = name; *p && rc == 0; p++)
		rc = buf_append(b, *p == '"' ? "\"\"" : p, *p == '"' ? 2 : 1);
	if (rc == 0)
		rc = buf_puts(b, "\"");
	if (rc) {
		b->len = len;
		if (b->data)
			b->data[len] = '\0';
	}
	return rc;
}

static const char *role_name(enum column_role role)
{
	switch (role) {
	case COLUMN_ROLE_LATITUDE: return "latitude";
	case COLUMN_ROLE_LONGITUDE: return "longitude";
	case COLUMN_ROLE_NONE: break;
	}
	return NULL;
}

static bool kind_from_name(const char *s, enum column_kind *out)
{
	static const enum column_kind kinds[] = {
		COLUMN_TEXT, COLUMN_BOOL, COLUMN_INT, COLUMN_REAL,
		COLUMN_DATE, COLUMN_DATETIME, COLUMN_TIME,
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		if (s && strcmp(s, column_kind_name(kinds[i])) == 0) {
			*out = kinds[i];
			return true;
		}
	}
	return false;
}

/* ---- open ---- */

/* "file:" URI for path with everything but unreserved characters and '/'
 * percent-escaped ('?', '#' and '%' in a file name must not end the path). */
int table_uri(const char *path, struct buf *b)
{
	static const char hex[] = "0123456789ABCDEF";
	buf_puts(b, path[0] == '/' ? "file://" : "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		char c = (char)*p;
		bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || strchr("-._~/", c);
		char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
		if (plain ? buf_append(b, &c, 1) : buf_append(b, esc, 3))
			return -1;
	}
	return buf_puts(b, "?immutable=1");
}

/* SQLite calls this every few thousand steps of its VM; non-zero stops the
 * statement with SQLITE_INTERRUPT. */
static int on_progress(void *arg)
{
	struct table *t = arg;
	return t->deadline_ns && clock_mono_ns() > t->deadline_ns;
}

/* Starts the time limit of one public call. */
static void arm(struct table *t)
{
	t->deadline_ns = t->time_limit_ms ? clock_mono_ns() + t->time_limit_ms * 1000000 : 0;
}

/* The message for a statement that failed while a query ran. */
static int query_fail(struct table *t, const char *what, struct error *e)
{
	if ((sqlite3_errcode(t->db) & 0xff) == SQLITE_INTERRUPT && t->deadline_ns)
		return error_set(e, "%s: the query ran longer than %lld ms", what,
				 (long long)t->time_limit_ms);
	return error_set(e, "%s: %s", what, sqlite3_errmsg(t->db));
}

static int read_fail(struct table *t, struct error *e)
{
	int code = sqlite3_errcode(t->db) & 0xff;
	if (code == SQLITE_NOTADB)
		return error_set(e, "not a dataset file: not a SQLite database");
	if (code == SQLITE_CORRUPT)
		return error_set(e, "dataset file is corrupt: %s", sqlite3_errmsg(t->db));
	return error_set(e, "cannot read dataset file: %s", sqlite3_errmsg(t->db));
}

static bool has_table(struct table *t, const char *name)
{
	sqlite3_stmt *st = NULL;
	bool found = false;
	if (sqlite3_prepare_v2(t->db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' "
			       "AND name = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		found = sqlite3_step(st) == SQLITE_ROW;
	}
	sqlite3_finalize(st);
	return found;
}

static int load_meta(struct table *t, struct error *e)
{
	char sa[SHOWN_CAP];
	sqlite3_stmt *st = NULL;
	int rc;
	if (sqlite3_prepare_v2(t->db, "SELECT key, value FROM sheaf_meta", -1, &st, NULL)) {
		if ((sqlite3_errcode(t->db) & 0xff) == SQLITE_ERROR && !has_table(t, "sheaf_meta"))
			return error_set(e, "not a dataset file: no sheaf_meta table");
		return read_fail(t, e);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *key = column_text(st, 0);
		if (!key)
			continue;
		if (t->nmeta == META_MAX_ENTRIES) {
			sqlite3_finalize(st);
			return error_set(e, "dataset file is corrupt: too many sheaf_meta entries");
		}
		t->meta = xrealloc(t->meta, (t->nmeta + 1) * sizeof *t->meta);
		t->meta[t->nmeta].key = xstrdup(key);
		t->meta[t->nmeta].value = dup_column(st, 1);
		t->nmeta++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return read_fail(t, e);

	const char *format = table_meta(t, "format");
	if (!format)
		return error_set(e, "not a dataset file: no format in sheaf_meta");
	if (strcmp(format, "1") != 0)
		return error_set(e, "unsupported dataset format \"%s\" (this sheaf reads 1)",
				 show(sa, format, strlen(format)));
	const char *rows = table_meta(t, "rows");
	char *end = NULL;
	long long n = rows ? strtoll(rows, &end, 10) : -1;
	if (!rows || !*rows || *end || n < 0)
		return error_set(e, "dataset file is corrupt: bad row count in sheaf_meta");
	t->nrows = n;
	return 0;
}

static int load_columns(struct table *t, struct error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	if (sqlite3_prepare_v2(t->db, "SELECT position, name, source_name, type, role, "
			       "categorical, percent, profile FROM sheaf_columns ORDER BY position",
			       -1, &st, NULL)) {
		if (!has_table(t, "sheaf_columns"))
			return error_set(e, "not a dataset file: no sheaf_columns table");
		return read_fail(t, e);
	}
	size_t cap = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = column_text(st, 1), *type = column_text(st, 3);
		enum column_kind kind;
		if (sqlite3_column_int64(st, 0) != (int64_t)t->ncols || !name || !*name ||
		    !kind_from_name(type, &kind)) {
			sqlite3_finalize(st);
			return error_set(e, "dataset file is corrupt: bad sheaf_columns row %zu",
					 t->ncols);
		}
		if (t->ncols == cap) {
			cap = cap ? cap * 2 : 16;
			t->cols = xrealloc(t->cols, cap * sizeof *t->cols);
		}
		const char *role = column_text(st, 4);
		struct table_column *c = &t->cols[t->ncols++];
		c->name = xstrdup(name);
		c->source_name = column_text(st, 2) ? dup_column(st, 2) : xstrdup(name);
		c->kind = kind;
		c->role = role && strcmp(role, "latitude") == 0 ? COLUMN_ROLE_LATITUDE :
			  role && strcmp(role, "longitude") == 0 ? COLUMN_ROLE_LONGITUDE :
			  COLUMN_ROLE_NONE;
		c->categorical = sqlite3_column_int(st, 5) != 0;
		c->percent = sqlite3_column_int(st, 6) != 0;
		c->profile = dup_column(st, 7);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : read_fail(t, e);
}

/* The data table must have exactly the listed columns, in order, so that
 * quoting a listed name always names a real column. */
static int check_data(struct table *t, struct error *e)
{
	sqlite3_stmt *st = NULL;
	int rc;
	size_t n = 0;
	bool same = true;
	if (sqlite3_prepare_v2(t->db, "SELECT name FROM pragma_table_info('data') ORDER BY cid",
			       -1, &st, NULL))
		return read_fail(t, e);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = column_text(st, 0);
		if (n >= t->ncols || !name || strcmp(name, t->cols[n].name) != 0)
			same = false;
		n++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return read_fail(t, e);
	if (n == 0)
		return error_set(e, "not a dataset file: no data table");
	/* No listed column at all is a dataset without columns (the importer
	 * then gives data a placeholder column to be valid SQL). */
	if (t->ncols && (!same || n != t->ncols))
		return error_set(e, "dataset file is corrupt: sheaf_columns does not match data");

	static const char *const aliases[] = { "rowid", "_rowid_", "oid" };
	for (size_t a = 0; a < 3 && !t->rowid; a++) {
		bool taken = false;
		for (size_t i = 0; i < t->ncols && !taken; i++)
			taken = sqlite3_stricmp(t->cols[i].name, aliases[a]) == 0;
		if (!taken)
			t->rowid = aliases[a];
	}

	struct buf b;
	rc = 0;
	buf_init(&b, SQL_MAX);
	for (size_t i = 0; i < t->ncols && rc == 0; i++)
		rc = (i ? buf_puts(&b, ", ") : 0) || quote_ident(&b, t->cols[i].name);
	if (rc) {
		buf_free(&b);
		return error_set(e, "dataset has too many or too long column names");
	}
	t->select_list = buf_detach(&b);
	return 0;
}

struct table *table_open(const char *path, struct error *e)
{
	struct table *t = xcalloc(1, sizeof *t);
	t->path = xstrdup(path);
	struct buf uri;
	buf_init(&uri, URI_MAX);
	if (table_uri(path, &uri) < 0) {
		error_set(e, "dataset path too long");
		goto fail;
	}
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(uri.data, &t->db, flags, NULL) != SQLITE_OK) {
		error_set(e, "cannot open dataset file: %s",
			  t->db ? sqlite3_errmsg(t->db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(t->db, 1);
	/* The file may come from anywhere: no schema-defined functions or
	 * virtual tables run on our behalf, and no write can slip through. */
	sqlite3_db_config(t->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(t->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_progress_handler(t->db, 4096, on_progress, t);
	if (load_meta(t, e) || load_columns(t, e) || check_data(t, e))
		goto fail;
	buf_free(&uri);
	return t;
fail:
	buf_free(&uri);
	table_close(t);
	return NULL;
}

void table_close(struct table *t)
{
	if (!t)
		return;
	sqlite3_close(t->db);
	for (size_t i = 0; i < t->ncols; i++) {
		free((char *)t->cols[i].name);
		free((char *)t->cols[i].source_name);
		free((char *)t->cols[i].profile);
	}
	free(t->cols);
	for (size_t i = 0; i < t->nmeta; i++) {
		free(t->meta[i].key);
		free(t->meta[i].value);
	}
	free(t->meta);
	free(t->select_list);
	free(t->path);
	free(t);
}

const char *table_path(const struct table *t)
{
	return t->path;
}

size_t table_ncolumns(const struct table *t)
{
	return t->ncols;
}

const struct table_column *table_column(const struct table *t, size_t i)
{
	return i < t->ncols ? &t->cols[i] : NULL;
}

long table_find_column(const struct table *t, const char *name)
{
	for (size_t i = 0; i < t->ncols; i++)
		if (strcmp(t->cols[i].name, name) == 0)
			return (long)i;
	return -1;
}

int64_t table_nrows(const struct table *t)
{
	return t->nrows;
}

void table_set_time_limit(struct table *t, int64_t ms)
{
	t->time_limit_ms = ms > 0 ? ms : 0;
}

const char *table_meta(const struct table *t, const char *key)
{
	for (size_t i = 0; i < t->nmeta; i++)
		if (strcmp(t->meta[i].key, key) == 0)
			return t->meta[i].value;
	return NULL;
}

json_t *table_columns_json(const struct table *t)
{
	json_t *list = json_array();
	for (size_t i = 0; i < t->ncols; i++) {
		const struct table_column *c = &t->cols[i];
		const char *role = role_name(c->role);
		json_t *profile = c->profile ? json_loads(c->profile, 0, NULL) : NULL;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:o, s:b, s:b, s:o}",
			"name", c->name, "source_name", c->source_name,
			"type", column_kind_name(c->kind),
			"role", role ? json_string(role) : json_null(),
			"categorical", c->categorical, "percent", c->percent,
			"profile", profile ? profile : json_null()));
	}
	return list;
}

/* ---- queries ---- */

struct table_query *table_query_new(const struct table *t)
{
	struct table_query *q = xcalloc(1, sizeof *q);
	q->t = t;
	buf_init(&q->where, SQL_MAX);
	q->limit = -1;
	return q;
}

void table_query_free(struct table_query *q)
{
	if (!q)
		return;
	for (size_t i = 0; i < q->nparams; i++)
		free(q->params[i].s);
	free(q->params);
	buf_free(&q->where);
	free(q);
}

void table_query_page(struct table_query *q, int64_t offset, int64_t limit)
{
	q->offset = offset < 0 ? 0 : offset;
	q->limit = limit < 0 ? -1 : limit;
}

static struct param *add_param(struct table_query *q, enum param_type type)
{
	if (q->nparams == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 8;
		q->params = xrealloc(q->params, q->cap * sizeof *q->params);
	}
	struct param *p = &q->params[q->nparams++];
	memset(p, 0, sizeof *p);
	p->type = type;
	return p;
}

static void add_text_param(struct table_query *q, const char *s, size_t len)
{
	struct param *p = add_param(q, PARAM_TEXT);
	p->s = xstrndup(s, len);
	p->len = len;
}

enum op {
	OP_EQ,
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_CONTAINS,
	OP_NOT_CONTAINS,
	OP_IN,
};

/* Longest first: "!=" must win over "=", "<=" over "<". */
static const struct {
	const char *text;
	enum op op;
	const char *sql;
} ops[] = {
	{ "!=", OP_NE, "<>" },
	{ ">=", OP_GE, ">=" },
	{ "<=", OP_LE, "<=" },
	{ "!~", OP_NOT_CONTAINS, NULL },
	{ "=", OP_EQ, "=" },
	{ ">", OP_GT, ">" },
	{ "<", OP_LT, "<" },
	{ "~", OP_CONTAINS, NULL },
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* The operator at s, if any: its index in ops (or -1 for "in") and the
 * value's start.  Spaces before the operator are allowed; then the spaces
 * after it are skipped too. */
static bool match_op(const char *s, int *which, const char **value)
{
	const char *p = s;
	while (is_space(*p))
		p++;
	bool spaced = p != s;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		size_t n = strlen(ops[i].text);
		if (strncmp(p, ops[i].text, n) == 0) {
			p += n;
			if (spaced)
				while (is_space(*p))
					p++;
			*which = (int)i;
			*value = p;
			return true;
		}
	}
	if (spaced && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'n' || p[1] == 'N') &&
	    (is_space(p[2]) || !p[2])) {
		p += 2;
		while (is_space(*p))
			p++;
		*which = -1;
		*value = p;
		return true;
	}
	return false;
}

/* Why no column matched: no operator at all, or the name before it is unknown. */
static int no_column(const char *expr, struct error *e)
{
	char sa[SHOWN_CAP], sb[SHOWN_CAP];
	size_t len = strlen(expr);
	size_t at = strcspn(expr, "=<>~");
	if (at > 0 && at < len && expr[at - 1] == '!' && (expr[at] == '=' || expr[at] == '~'))
		at--;
	if (at == len) {
		for (const char *p = expr; *p; p++) {
			const char *v;
			int which;
			if (is_space(*p) && match_op(p, &which, &v) && which < 0) {
				at = (size_t)(p - expr);
				break;
			}
		}
	}
	if (at == len)
		return error_set(e, "filter \"%s\": no operator (use =, !=, <, <=, >, >=, ~, "
				 "!~ or \"in\")", show(sa, expr, len));
	while (at > 0 && is_space(expr[at - 1]))
		at--;
	return error_set(e, "filter \"%s\": unknown column \"%s\"", show(sa, expr, len),
			 show(sb, expr, at));
}

static size_t trimmed(const char **s, size_t len)
{
	while (len && is_space(**s)) {
		(*s)++;
		len--;
	}
	while (len && is_space((*s)[len - 1]))
		len--;
	return len;
}

/* Converts one value for column c into a parameter of q.  Returns 0, or -1
 * with a message naming the column and its type. */
static int add_value(struct table_query *q, const struct table_column *c, const char *s,
		     size_t len, struct error *e)
{
	char sa[SHOWN_CAP], sb[SHOWN_CAP];
	struct value_datetime dt;
	char text[VALUE_TEXT_MAX];
	int64_t i;
	double r;
	bool b, pct;
	switch (c->kind) {
	case COLUMN_TEXT:
		add_text_param(q, s, len);
		return 0;
	case COLUMN_INT:
	case COLUMN_REAL:
		/* An integer column still compares with 1.5 or 12%. */
		if (c->kind == COLUMN_INT && value_parse_int(s, len, &i)) {
			add_param(q, PARAM_INT)->i = i;
			return 0;
		}
		if (value_parse_real(s, len, &r, &pct)) {
			add_param(q, PARAM_REAL)->r = r;
			return 0;
		}
		break;
	case COLUMN_BOOL: {
		const char *v = s;
		size_t n = trimmed(&v, len);
		if (n == 1 && (*v == '0' || *v == '1'))
			b = *v == '1';
		else if (!value_parse_bool(s, len, &b))
			break;
		add_param(q, PARAM_INT)->i = b;
		return 0;
	}
	case COLUMN_DATE:
		if (value_parse_date(s, len, &dt)) {
			add_text_param(q, text, value_format_date(&dt, text, sizeof text));
			return 0;
		}
		break;
	case COLUMN_DATETIME:
		if (value_parse_datetime(s, len, &dt) || value_parse_date(s, len, &dt)) {
			add_text_param(q, text, value_format_datetime(&dt, text, sizeof text));
			return 0;
		}
		break;
	case COLUMN_TIME:
		if (value_parse_time(s, len, &dt)) {
			add_text_param(q, text, value_format_time(&dt, text, sizeof text));
			return 0;
		}
		break;
	}
	return error_set(e, "\"%s\" is not a valid value for column \"%s\" (type %s)",
			 show(sa, s, len), show(sb, c->name, strlen(c->name)),
			 column_kind_name(c->kind));
}

/* Whether a value counts as empty: for typed columns, spaces are nothing. */
static bool is_empty(const struct table_column *c, const char *s, size_t len)
{
	if (c->kind != COLUMN_TEXT)
		len = trimmed(&s, len);
	return len == 0;
}

static int build_in(struct table_query *q, const struct table_column *c, const char *col,
		    const char *list, struct error *e)
{
	char sa[SHOWN_CAP];
	size_t n = 0;
	bool null = false;
	struct buf *w = &q->where;
	buf_printf(w, "(%s IN (", col);
	for (const char *p = list;; ) {
		size_t len = strcspn(p, "|");
		if (is_empty(c, p, len)) {
			null = true;
		} else {
			if (++n > TABLE_MAX_IN_VALUES)
				return error_set(e, "filter on \"%s\": more than %d values after "
						 "\"in\"", show(sa, c->name, strlen(c->name)),
						 TABLE_MAX_IN_VALUES);
			if (add_value(q, c, p, len, e) < 0)
				return -1;
			buf_puts(w, n > 1 ? ", ?" : "?");
		}
		if (!p[len])
			break;
		p += len + 1;
	}
	if (null)
		buf_printf(w, ") OR %s IS NULL)", col);
	else
		buf_puts(w, "))");
	return 0;
}

/* Appends the condition for column c, operator ops[which] (-1: in), value v. */
static int build_condition(struct table_query *q, const struct table_column *c, int which,
			   const char *v, const char *expr, struct error *e)
{
	char sa[SHOWN_CAP], sb[SHOWN_CAP];
	struct buf colb;
	buf_init(&colb, SQL_MAX);
	quote_ident(&colb, c->name);
	const char *col = colb.data;
	struct buf *w = &q->where;
	size_t vlen = strlen(v);
	int rc = 0;

	if (w->len)
		buf_puts(w, " AND ");
	if (which < 0) {
		if (!*v)
			rc = error_set(e, "filter \"%s\": no values after \"in\"",
				       show(sa, expr, strlen(expr)));
		else
			rc = build_in(q, c, col, v, e);
		goto out;
	}
	enum op op = ops[which].op;
	if (is_empty(c, v, vlen)) {
		if (op == OP_EQ || op == OP_NE)
			buf_printf(w, "%s IS %sNULL", col, op == OP_NE ? "NOT " : "");
		else
			rc = error_set(e, "filter \"%s\": operator %s needs a value",
				       show(sa, expr, strlen(expr)), ops[which].text);
		goto out;
	}
	if (op == OP_CONTAINS || op == OP_NOT_CONTAINS) {
		if (c->kind == COLUMN_BOOL) {
			rc = error_set(e, "filter \"%s\": operator %s does not apply to the "
				       "boolean column \"%s\"", show(sa, expr, strlen(expr)),
				       ops[which].text, show(sb, c->name, strlen(c->name)));
			goto out;
		}
		add_text_param(q, v, vlen);
		if (op == OP_CONTAINS)
			buf_printf(w, "instr(lower(CAST(%s AS TEXT)), lower(?)) > 0", col);
		else
			buf_printf(w, "(%s IS NULL OR instr(lower(CAST(%s AS TEXT)), lower(?)) = 0)",
				   col, col);
		goto out;
	}
	rc = add_value(q, c, v, vlen, e);
	if (rc == 0) {
		if (op == OP_NE)
			buf_printf(w, "(%s IS NULL OR %s <> ?)", col, col);
		else
			buf_printf(w, "%s %s ?", col, ops[which].sql);
	}
out:
	buf_free(&colb);
	return rc;
}

int table_query_filter(struct table_query *q, const char *expr, struct error *e)
{
	const struct table *t = q->t;
	size_t len = strlen(expr);
	if (len > TABLE_MAX_FILTER_BYTES)
		return error_set(e, "filter longer than %d bytes", TABLE_MAX_FILTER_BYTES);
	if (q->nfilters == TABLE_MAX_FILTERS)
		return error_set(e, "more than %d filters", TABLE_MAX_FILTERS);

	long best = -1;
	size_t best_len = 0;
	int which = 0;
	const char *value = NULL;
	for (size_t i = 0; i < t->ncols; i++) {
		const char *name = t->cols[i].name;
		size_t n = strlen(name);
		int w;
		const char *v;
		if (n > best_len && strncmp(expr, name, n) == 0 && match_op(expr + n, &w, &v)) {
			best = (long)i;
			best_len = n;
			which = w;
			value = v;
		}
	}
	if (best < 0)
		return no_column(expr, e);

	/* A condition's SQL is at most the quoted name twice, a placeholder
	 * per value and some words, so checking room first means no append
	 * below can fail. */
	if (q->where.len + 4 * len + 4 * TABLE_MAX_IN_VALUES + 256 > SQL_MAX)
		return error_set(e, "filters too long");
	/* Undo a half-built condition so that q stays as it was. */
	size_t where_len = q->where.len, nparams = q->nparams;
	if (build_condition(q, &t->cols[best], which, value, expr, e) < 0) {
		for (size_t i = nparams; i < q->nparams; i++)
			free(q->params[i].s);
		q->nparams = nparams;
		q->where.len = where_len;
		if (q->where.data)
			q->where.data[where_len] = '\0';
		return -1;
	}
	q->nfilters++;
	return 0;
}

int table_query_sort(struct table_query *q, const char *spec, struct error *e)
{
	char sa[SHOWN_CAP];
	if (q->nsort == TABLE_MAX_SORT_KEYS)
		return error_set(e, "more than %d sort keys", TABLE_MAX_SORT_KEYS);
	long col = -1;
	bool desc = false;
	if (spec[0] == '-' || spec[0] == '+') {
		col = table_find_column(q->t, spec + 1);
		desc = col >= 0 && spec[0] == '-';
	}
	if (col < 0)
		col = table_find_column(q->t, spec);
	if (col < 0)
		return error_set(e, "sort: unknown column \"%s\"", show(sa, spec, strlen(spec)));
	q->sort[q->nsort].col = (size_t)col;
	q->sort[q->nsort].desc = desc;
	q->nsort++;
	return 0;
}

/* Prepares "SELECT what FROM data [WHERE ...] [ORDER BY ... LIMIT ? OFFSET ?]"
 * with q's parameters bound. */
static sqlite3_stmt *prepare(struct table *t, const struct table_query *q, const char *what,
			     bool rows, struct error *e)
{
	struct buf sql;
	buf_init(&sql, 2 * SQL_MAX);
	/* Any append that would cross the limit fails; then nothing runs. */
	int bad = buf_printf(&sql, "SELECT %s FROM data", what);
	if (q->where.len)
		bad |= buf_printf(&sql, " WHERE %s", q->where.data);
	if (rows) {
		const char *sep = " ORDER BY ";
		for (size_t i = 0; i < q->nsort; i++) {
			bad |= buf_puts(&sql, sep);
			bad |= quote_ident(&sql, t->cols[q->sort[i].col].name);
			bad |= buf_puts(&sql, q->sort[i].desc ? " DESC NULLS LAST" : " ASC NULLS LAST");
			sep = ", ";
		}
		if (t->rowid)
			bad |= buf_printf(&sql, "%s%s", sep, t->rowid);
		bad |= buf_puts(&sql, " LIMIT ? OFFSET ?");
	}
	sqlite3_stmt *st = NULL;
	if (bad)
		error_set(e, "dataset query: the query is too long");
	else if (sqlite3_prepare_v2(t->db, sql.data, (int)sql.len, &st, NULL) != SQLITE_OK)
		error_set(e, "dataset query: %s", sqlite3_errmsg(t->db));
	buf_free(&sql);
	if (!st)
		return NULL;
	int k = 1;
	for (size_t i = 0; i < q->nparams; i++, k++) {
		const struct param *p = &q->params[i];
		switch (p->type) {
		case PARAM_INT: sqlite3_bind_int64(st, k, p->i); break;
		case PARAM_REAL: sqlite3_bind_double(st, k, p->r); break;
		case PARAM_TEXT: sqlite3_bind_text(st, k, p->s, (int)p->len, SQLITE_STATIC); break;
		}
	}
	if (rows) {
		sqlite3_bind_int64(st, k++, q->limit);
		sqlite3_bind_int64(st, k, q->offset);
	}
	return st;
}

static json_t *page_json(struct table *t, const struct table_query *q, struct error *e)
{
	int64_t total = t->nrows;
	if (q->where.len) {
		sqlite3_stmt *st = prepare(t, q, "count(*)", false, e);
		if (!st)
			return NULL;
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			total = sqlite3_column_int64(st, 0);
		else
			query_fail(t, "dataset query", e);
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW)
			return NULL;
	}
	struct table_query page = *q;
	if (page.limit < 0)
		page.limit = TABLE_DEFAULT_LIMIT;
	sqlite3_stmt *st = prepare(t, &page, t->ncols ? t->select_list : "NULL", true, e);
	if (!st)
		return NULL;
	json_t *rows = json_array();
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *row = json_array();
		for (size_t i = 0; i < t->ncols; i++)
			json_array_append_new(row, render_value_json(t->cols[i].kind, st, (int)i));
		json_array_append_new(rows, row);
	}
	if (rc != SQLITE_DONE) {
		query_fail(t, "dataset query", e);
		sqlite3_finalize(st);
		json_decref(rows);
		return NULL;
	}
	sqlite3_finalize(st);
	json_t *cols = json_array();
	for (size_t i = 0; i < t->ncols; i++)
		json_array_append_new(cols, json_pack("{s:s, s:s}", "name", t->cols[i].name,
						      "type", column_kind_name(t->cols[i].kind)));
	return json_pack("{s:o, s:o, s:I, s:I, s:I}", "columns", cols, "rows", rows,
			 "total", (json_int_t)total, "offset", (json_int_t)page.offset,
			 "limit", (json_int_t)page.limit);
}

json_t *table_page_json(struct table *t, const struct table_query *q, struct error *e)
{
	arm(t);
	json_t *page = page_json(t, q, e);
	t->deadline_ns = 0;
	return page;
}

/* ---- exports ---- */

struct table_export {
	struct table *t;
	struct render_export *x;
};

struct table_export *table_export_new(struct table *t, const struct table_query *q,
				      enum table_format f, struct error *e)
{
	sqlite3_stmt *st = prepare(t, q, t->ncols ? t->select_list : "NULL", true, e);
	if (!st)
		return NULL;
	const char **names = xcalloc(t->ncols ? t->ncols : 1, sizeof *names);
	enum column_kind *kinds = xcalloc(t->ncols ? t->ncols : 1, sizeof *kinds);
	for (size_t i = 0; i < t->ncols; i++) {
		names[i] = t->cols[i].name;
		kinds[i] = t->cols[i].kind;
	}
	static const enum render_format formats[] = {
		[TABLE_CSV] = RENDER_CSV, [TABLE_JSON] = RENDER_JSON, [TABLE_NDJSON] = RENDER_NDJSON,
	};
	struct table_export *x = xcalloc(1, sizeof *x);
	x->t = t;
	x->x = render_new(st, t->ncols, names, kinds, formats[f], -1, NULL);
	free(names);
	free(kinds);
	return x;
}

ssize_t table_export_read(struct table_export *x, char *buf, size_t cap, struct error *e)
{
	if (render_failed(x->x))
		return error_set(e, "dataset export: read after an error");
	arm(x->t);
	ssize_t n = render_read(x->x, buf, cap, e);
	if (n < 0 && (sqlite3_errcode(x->t->db) & 0xff) == SQLITE_INTERRUPT)
		query_fail(x->t, "dataset export", e);
	else if (n < 0 && e) {
		struct error why = *e;
		error_set(e, "dataset export: %s", why.msg);
	}
	x->t->deadline_ns = 0;
	return n;
}

void table_export_free(struct table_export *x)
{
	if (!x)
		return;
	render_free(x->x);
	free(x);
}
