/*
 * The SQL sandbox; see sql.h for what a query may do.  Defence in depth:
 * the connection is read-only and immutable (nothing can be written even if
 * every other check failed), query_only is on, extension loading is off,
 * the authorizer allows one table, a list of functions and nothing else,
 * and sqlite3_stmt_readonly must agree.
 */
#include "query/sql.h"

#include "base/config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "datasets/render.h"
#include "query/functions.h"
#include "query/memory.h"

#define PROGRESS_OPS 1000       /* VM steps between two looks at the clock */
#define SQL_TEXT_MAX 100000     /* bytes of SQL text */
#define REASON_MAX 200

struct sql_query {
	const struct table *t;
	struct sql_attach att[SQL_ATTACH_MAX];
	size_t natt;
	sqlite3 *db;
	sqlite3_stmt *st;
	struct sql_limits lim;
	struct sqlmem_budget budget;
	int64_t spent_ns;           /* SQLite work before the current step */
	int64_t enter_ns;
	int64_t deadline_ns;
	bool timed_out;
	bool stopped;               /* by lim.stop */
	bool cacheable;
	/* B-trees a query may open: the root pages of data (and its indexes)
	 * in main (database 0) and in each attached file (databases 2...). */
	int64_t *roots[SQL_ATTACH_MAX + 2];
	size_t nroots[SQL_ATTACH_MAX + 2];
	char denied[REASON_MAX];    /* why the authorizer refused, for the message */
	size_t ncols;
	char **names;
	enum column_kind *kinds;
};

/* Every function a query may call (query/functions.h adds four). */
static const char *const allowed_functions[] = {
	"->", "->>", "abs", "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "avg",
	"ceil", "ceiling", "char", "coalesce", "cos", "cosh", "count", "cume_dist",
	"current_date", "current_time", "current_timestamp", "date", "datetime", "degrees",
	"dense_rank", "exp", "first_value", "floor", "format", "glob", "group_concat", "hex",
	"ifnull", "iif", "instr", "json", "json_array", "json_array_length", "json_each",
	"json_extract", "json_group_array", "json_group_object", "json_insert", "json_object",
	"json_patch", "json_quote", "json_remove", "json_replace", "json_set", "json_tree",
	"json_type", "json_valid", "julianday", "lag", "last_value", "lead", "length", "like",
	"likelihood", "likely", "ln", "log", "log10", "log2", "lower", "ltrim", "max", "median", "min",
	"mod", "nth_value", "ntile", "nullif", "percent_rank", "percentile", "pi", "pow", "power", "printf",
	"quote", "radians", "random", "randomblob", "rank", "replace", "round", "row_number",
	"rtrim", "sign", "sin", "sinh", "soundex", "sqrt", "stddev", "strftime", "substr", "substring",
	"sum", "tan", "tanh", "time", "total", "trim", "trunc", "typeof", "unicode",
	"unixepoch", "unlikely", "upper", "variance", "zeroblob",
};

/* Functions whose result changes from one call to the next. */
static const char *const volatile_functions[] = {
	"current_date", "current_time", "current_timestamp", "random", "randomblob",
};

/* Tables a query may read: the rows, and SQLite's JSON table functions. */
static const char *const readable_tables[] = { "data", "json_each", "json_tree" };

static bool listed(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return true;
	return false;
}

static const char *action_name(int action)
{
	switch (action) {
	case SQLITE_PRAGMA: return "PRAGMA";
	case SQLITE_ATTACH: return "ATTACH";
	case SQLITE_DETACH: return "DETACH";
	case SQLITE_INSERT: return "INSERT";
	case SQLITE_UPDATE: return "UPDATE";
	case SQLITE_DELETE: return "DELETE";
	case SQLITE_TRANSACTION: return "a transaction";
	case SQLITE_SAVEPOINT: return "SAVEPOINT";
	case SQLITE_ANALYZE: return "ANALYZE";
	case SQLITE_REINDEX: return "REINDEX";
	case SQLITE_ALTER_TABLE: return "ALTER TABLE";
	case SQLITE_CREATE_INDEX: case SQLITE_CREATE_TABLE: case SQLITE_CREATE_TEMP_INDEX:
	case SQLITE_CREATE_TEMP_TABLE: case SQLITE_CREATE_TEMP_TRIGGER:
	case SQLITE_CREATE_TEMP_VIEW: case SQLITE_CREATE_TRIGGER: case SQLITE_CREATE_VIEW:
	case SQLITE_CREATE_VTABLE: return "CREATE";
	case SQLITE_DROP_INDEX: case SQLITE_DROP_TABLE: case SQLITE_DROP_TEMP_INDEX:
	case SQLITE_DROP_TEMP_TABLE: case SQLITE_DROP_TEMP_TRIGGER: case SQLITE_DROP_TEMP_VIEW:
	case SQLITE_DROP_TRIGGER: case SQLITE_DROP_VIEW: case SQLITE_DROP_VTABLE: return "DROP";
	default: return "this statement";
	}
}

static int authorize(void *arg, int action, const char *a, const char *b, const char *db,
		     const char *trigger)
{
	struct sql_query *q = arg;
	(void)trigger;
	switch (action) {
	case SQLITE_SELECT:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_READ:
		/* No database: a common table expression's own rows.  The
		 * schema's rowids: SQLite looks them up to set up json_each. */
		if (!db || (a && strcmp(db, "main") == 0 &&
			    listed(a, readable_tables, sizeof readable_tables / sizeof *readable_tables)))
			return SQLITE_OK;
		for (size_t i = 0; i < q->natt; i++)
			if (a && strcmp(db, q->att[i].alias) == 0 && strcmp(a, "data") == 0)
				return SQLITE_OK;
		if (a && b && strcmp(db, "main") == 0 && strcmp(a, "sqlite_master") == 0 &&
		    strcmp(b, "ROWID") == 0)
			return SQLITE_OK;
		snprintf(q->denied, sizeof q->denied, "the table %.100s cannot be read: a query "
			 "reads the dataset's rows from the table data", a ? a : "?");
		return SQLITE_DENY;
	case SQLITE_FUNCTION:
		if (b && listed(b, allowed_functions,
				sizeof allowed_functions / sizeof *allowed_functions)) {
			if (listed(b, volatile_functions,
				   sizeof volatile_functions / sizeof *volatile_functions))
				q->cacheable = false;
			return SQLITE_OK;
		}
		snprintf(q->denied, sizeof q->denied, "the function %.100s is not allowed in a "
			 "query", b ? b : "?");
		return SQLITE_DENY;
	case SQLITE_UPDATE:
		/* SQLite asks this while it sets up a table-valued function such
		 * as json_each; nothing is written (the connection is read-only
		 * and query_only, and the statement must be read-only). */
		if (a && strcmp(a, "sqlite_master") == 0 && db && strcmp(db, "main") == 0)
			return SQLITE_OK;
		snprintf(q->denied, sizeof q->denied, "UPDATE is not allowed: a query may only "
			 "read (SELECT, WITH, VALUES or EXPLAIN)");
		return SQLITE_DENY;
	default:
		snprintf(q->denied, sizeof q->denied, "%s is not allowed: a query may only read "
			 "(SELECT, WITH, VALUES or EXPLAIN)", action_name(action));
		return SQLITE_DENY;
	}
}

static int on_progress(void *arg)
{
	struct sql_query *q = arg;
	if (q->deadline_ns && clock_mono_ns() > q->deadline_ns) {
		q->timed_out = true;
		return 1;
	}
	if (q->lim.stop && q->lim.stop(q->lim.stop_arg)) {
		q->stopped = true;
		return 1;
	}
	return 0;
}

void sql_enter(struct sql_query *q)
{
	sqlmem_begin(&q->budget);
	q->enter_ns = clock_mono_ns();
	int64_t left = q->lim.time_ms * 1000000 - q->spent_ns;
	q->deadline_ns = q->lim.time_ms > 0 ? q->enter_ns + (left > 0 ? left : 0) : 0;
}

void sql_leave(struct sql_query *q)
{
	q->spent_ns += clock_mono_ns() - q->enter_ns;
	q->deadline_ns = 0;
	sqlmem_end();
}

int sql_step(struct sql_query *q)
{
	sql_enter(q);
	int rc = sqlite3_step(q->st);
	sql_leave(q);
	return rc;
}

enum sql_status sql_failure(struct sql_query *q, struct error *e)
{
	int code = sqlite3_errcode(q->db) & 0xff;
	if (q->stopped) {
		error_set(e, "the query was cancelled by its caller");
		return SQL_CANCELLED;
	}
	if (code == SQLITE_INTERRUPT || q->timed_out) {
		error_set(e, "the query ran longer than %lld ms (its time limit); narrow it down, "
			  "or add LIMIT", (long long)q->lim.time_ms);
		return SQL_TIMEOUT;
	}
	if (code == SQLITE_NOMEM || q->budget.exceeded) {
		error_set(e, "the query needed more than %lld MB of memory (its limit)",
			  (long long)(q->lim.memory_bytes >> 20));
		return SQL_TOO_BIG;
	}
	if (code == SQLITE_TOOBIG) {
		error_set(e, "the query built a value longer than %lld bytes (its limit)",
			  (long long)q->lim.max_value_bytes);
		return SQL_TOO_BIG;
	}
	if (code == SQLITE_AUTH || *q->denied) {
		error_set(e, "%s", *q->denied ? q->denied : sqlite3_errmsg(q->db));
		return SQL_FORBIDDEN;
	}
	if (code == SQLITE_CORRUPT || code == SQLITE_IOERR || code == SQLITE_NOTADB ||
	    code == SQLITE_CANTOPEN) {
		error_set(e, "the dataset file could not be read: %s", sqlite3_errmsg(q->db));
		return SQL_FAILED;
	}
	error_set(e, "%s", sqlite3_errmsg(q->db));
	return SQL_INVALID;
}

static bool mentions_now(const char *s, size_t len)
{
	for (size_t i = 0; i + 3 <= len; i++)
		if (strncasecmp(s + i, "now", 3) == 0)
			return true;
	return false;
}

/* Notes the root pages of data's B-trees in database index db (schema
 * name name), before the authorizer is set. */
static int note_roots(struct sql_query *q, size_t db, const char *name, struct error *e)
{
	char sql[160];
	snprintf(sql, sizeof sql, "SELECT rootpage FROM \"%s\".sqlite_master WHERE tbl_name = "
		 "'data' AND rootpage > 0", name);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return error_set(e, "the dataset file could not be read: %s", sqlite3_errmsg(q->db));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		q->roots[db] = xrealloc(q->roots[db], (q->nroots[db] + 1) * sizeof *q->roots[db]);
		q->roots[db][q->nroots[db]++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return error_set(e, "the dataset file could not be read: %s", sqlite3_errmsg(q->db));
	return 0;
}

/* Attaches another dataset file, read-only and immutable, before the
 * authorizer (which refuses ATTACH) is in place. */
static int attach(struct sql_query *q, const struct sql_attach *a, struct error *e)
{
	struct buf uri, sql;
	buf_init(&uri, 65536);
	buf_init(&sql, 256);
	int rc = -1;
	sqlite3_stmt *st = NULL;
	if (table_uri(table_path(a->t), &uri) < 0 ||
	    buf_printf(&sql, "ATTACH DATABASE ?1 AS \"%s\"", a->alias) < 0) {
		error_set(e, "a joined dataset's path is too long");
		goto out;
	}
	if (sqlite3_prepare_v2(q->db, sql.data, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, uri.data, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE) {
		error_set(e, "a joined dataset could not be opened: %s", sqlite3_errmsg(q->db));
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(st);
	buf_free(&uri);
	buf_free(&sql);
	return rc;
}

/* Opens the sandboxed connection: everything before the authorizer is set. */
static enum sql_status open_db(struct sql_query *q, struct error *e)
{
	struct buf uri;
	buf_init(&uri, 65536);
	if (table_uri(table_path(q->t), &uri) < 0) {
		buf_free(&uri);
		error_set(e, "the dataset file's path is too long");
		return SQL_FAILED;
	}
	int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
	int rc = sqlite3_open_v2(uri.data, &q->db, flags, NULL);
	buf_free(&uri);
	if (rc != SQLITE_OK) {
		error_set(e, "the dataset file could not be opened: %s",
			  q->db ? sqlite3_errmsg(q->db) : "out of memory");
		return SQL_FAILED;
	}
	sqlite3 *db = q->db;
	sqlite3_extended_result_codes(db, 1);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, (int *)NULL);
	sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FTS3_TOKENIZER, 0, (int *)NULL);
	sqlite3_limit(db, SQLITE_LIMIT_LENGTH, (int)q->lim.max_value_bytes);
	sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, SQL_TEXT_MAX);
	sqlite3_limit(db, SQLITE_LIMIT_EXPR_DEPTH, 200);
	sqlite3_limit(db, SQLITE_LIMIT_COMPOUND_SELECT, 100);
	sqlite3_limit(db, SQLITE_LIMIT_VDBE_OP, 1000000);
	sqlite3_limit(db, SQLITE_LIMIT_FUNCTION_ARG, 100);
	sqlite3_limit(db, SQLITE_LIMIT_ATTACHED, (int)q->natt);
	sqlite3_limit(db, SQLITE_LIMIT_LIKE_PATTERN_LENGTH, 10000);
	sqlite3_limit(db, SQLITE_LIMIT_VARIABLE_NUMBER, 1000);
	sqlite3_limit(db, SQLITE_LIMIT_TRIGGER_DEPTH, 1);
	sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, 0);
	/* A quarter of the budget for pages read from the file; sorts and
	 * temporary tables stay in memory, so the budget bounds them too. */
	char pragmas[256];
	snprintf(pragmas, sizeof pragmas, "PRAGMA cache_size = -%lld; PRAGMA temp_store = MEMORY; "
		 "PRAGMA mmap_size = 1073741824; PRAGMA query_only = 1;",
		 (long long)(q->lim.memory_bytes / 4 / 1024 + 1));
	if (sqlite3_exec(db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		error_set(e, "the dataset file could not be opened: %s", sqlite3_errmsg(db));
		return SQL_FAILED;
	}
	if (note_roots(q, 0, "main", e) < 0)
		return SQL_FAILED;
	for (size_t i = 0; i < q->natt; i++)
		if (attach(q, &q->att[i], e) < 0 || note_roots(q, i + 2, q->att[i].alias, e) < 0)
			return SQL_FAILED;
	if (sql_functions_register(db) != SQLITE_OK) {
		error_set(e, "the query functions could not be registered: %s", sqlite3_errmsg(db));
		return SQL_FAILED;
	}
	sqlite3_set_authorizer(db, authorize, q);
	sqlite3_progress_handler(db, PROGRESS_OPS, on_progress, q);
	return SQL_OK;
}

/* Whether the statement starts with a keyword of a read. */
static bool starts_as_read(const char *sql)
{
	const char *p = sql;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (p[0] == '-' && p[1] == '-') {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			if (!end)
				return false;
			p = end + 2;
		} else {
			break;
		}
	}
	static const char *const words[] = { "SELECT", "WITH", "VALUES", "EXPLAIN" };
	for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
		size_t n = strlen(words[i]);
		if (strncasecmp(p, words[i], n) == 0 &&
		    !((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z') ||
		      (p[n] >= '0' && p[n] <= '9') || p[n] == '_'))
			return true;
	}
	return false;
}

static bool root_allowed(const struct sql_query *q, int64_t db, int64_t root)
{
	if (db < 0 || db >= (int64_t)(SQL_ATTACH_MAX + 2))
		return false;
	for (size_t i = 0; i < q->nroots[db]; i++)
		if (q->roots[db][i] == root)
			return true;
	return false;
}

/*
 * The authorizer sees the columns a statement reads, not the tables it
 * merely counts or tests for rows ("SELECT count(*) FROM sheaf_meta" reads
 * no column).  So the compiled program is looked at as well: every B-tree
 * it opens must be one of data's.  EXPLAIN statements run nothing and are
 * not checked.
 */
static enum sql_status check_btrees(struct sql_query *q, const char *sql, struct error *e)
{
	if (sqlite3_stmt_isexplain(q->st))
		return SQL_OK;
	struct buf b;
	buf_init(&b, SQL_TEXT_MAX + 16);
	buf_puts(&b, "EXPLAIN ");
	buf_puts(&b, sql);
	sqlite3_stmt *st = NULL;
	enum sql_status s = SQL_OK;
	if (sqlite3_prepare_v2(q->db, b.data, (int)b.len, &st, NULL) != SQLITE_OK) {
		buf_free(&b);
		return sql_failure(q, e);
	}
	buf_free(&b);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(st, 1);
		if (!op || (strcmp(op, "OpenRead") != 0 && strcmp(op, "OpenWrite") != 0 &&
			    strcmp(op, "ReopenIdx") != 0))
			continue;
		int64_t root = sqlite3_column_int64(st, 3), db = sqlite3_column_int64(st, 4);
		if (!root_allowed(q, db, root)) {
			error_set(e, "a query reads the dataset's rows from the table data; it may "
				  "not read other tables");
			s = SQL_FORBIDDEN;
			break;
		}
	}
	if (s == SQL_OK && rc != SQLITE_DONE)
		s = sql_failure(q, e);
	sqlite3_finalize(st);
	return s;
}

static enum sql_status bind_value(struct sql_query *q, int k, const json_t *v, const char *what,
				  struct error *e)
{
	int rc;
	switch (json_typeof(v)) {
	case JSON_INTEGER: rc = sqlite3_bind_int64(q->st, k, json_integer_value(v)); break;
	case JSON_REAL: rc = sqlite3_bind_double(q->st, k, json_real_value(v)); break;
	case JSON_STRING:
		rc = sqlite3_bind_text(q->st, k, json_string_value(v), (int)json_string_length(v),
				       SQLITE_TRANSIENT);
		break;
	case JSON_TRUE: rc = sqlite3_bind_int(q->st, k, 1); break;
	case JSON_FALSE: rc = sqlite3_bind_int(q->st, k, 0); break;
	case JSON_NULL: rc = sqlite3_bind_null(q->st, k); break;
	default:
		error_set(e, "parameter %s must be a number, string, boolean or null", what);
		return SQL_INVALID;
	}
	if (rc != SQLITE_OK) {
		error_set(e, "parameter %s: %s", what, sqlite3_errmsg(q->db));
		return (rc & 0xff) == SQLITE_TOOBIG ? SQL_TOO_BIG : SQL_INVALID;
	}
	return SQL_OK;
}

static enum sql_status bind_params(struct sql_query *q, const json_t *params, struct error *e)
{
	int want = sqlite3_bind_parameter_count(q->st);
	char what[160];
	if (!params || json_is_null(params)) {
		if (want == 0)
			return SQL_OK;
		error_set(e, "the query has %d parameter%s but params gives none", want,
			  want == 1 ? "" : "s");
		return SQL_INVALID;
	}
	if (json_is_array(params)) {
		if (json_array_size(params) != (size_t)want) {
			error_set(e, "the query has %d parameter%s but params gives %zu", want,
				  want == 1 ? "" : "s", json_array_size(params));
			return SQL_INVALID;
		}
		for (int k = 1; k <= want; k++) {
			const char *name = sqlite3_bind_parameter_name(q->st, k);
			if (name && name[0] != '?') {
				error_set(e, "the query names its parameter %.100s: give params as "
					  "an object", name);
				return SQL_INVALID;
			}
			snprintf(what, sizeof what, "%d", k);
			enum sql_status s = bind_value(q, k, json_array_get(params, (size_t)k - 1),
						       what, e);
			if (s != SQL_OK)
				return s;
		}
		return SQL_OK;
	}
	if (!json_is_object(params)) {
		error_set(e, "params must be an array (for ?) or an object (for :name)");
		return SQL_INVALID;
	}
	for (int k = 1; k <= want; k++) {
		const char *name = sqlite3_bind_parameter_name(q->st, k);
		if (!name || name[0] == '?') {
			error_set(e, "the query has a positional parameter: give params as an array");
			return SQL_INVALID;
		}
		const json_t *v = json_object_get(params, name + 1);
		if (!v) {
			error_set(e, "params has no value for %.100s", name);
			return SQL_INVALID;
		}
		snprintf(what, sizeof what, "%.100s", name);
		enum sql_status s = bind_value(q, k, v, what, e);
		if (s != SQL_OK)
			return s;
	}
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)params, key, v) {
		char probe[3][160];
		snprintf(probe[0], sizeof probe[0], ":%.150s", key);
		snprintf(probe[1], sizeof probe[1], "@%.150s", key);
		snprintf(probe[2], sizeof probe[2], "$%.150s", key);
		if (!sqlite3_bind_parameter_index(q->st, probe[0]) &&
		    !sqlite3_bind_parameter_index(q->st, probe[1]) &&
		    !sqlite3_bind_parameter_index(q->st, probe[2])) {
			error_set(e, "params has %.100s, which the query does not use", key);
			return SQL_INVALID;
		}
	}
	return SQL_OK;
}

static void describe_columns(struct sql_query *q)
{
	q->ncols = (size_t)sqlite3_column_count(q->st);
	q->names = xcalloc(q->ncols ? q->ncols : 1, sizeof *q->names);
	q->kinds = xcalloc(q->ncols ? q->ncols : 1, sizeof *q->kinds);
	for (size_t i = 0; i < q->ncols; i++) {
		const char *name = sqlite3_column_name(q->st, (int)i);
		q->names[i] = xstrdup(name ? name : "");
		q->kinds[i] = RENDER_ANY;
		const char *table = sqlite3_column_table_name(q->st, (int)i);
		const char *origin = sqlite3_column_origin_name(q->st, (int)i);
		const char *db = sqlite3_column_database_name(q->st, (int)i);
		if (!table || !origin || !db || strcmp(table, "data") != 0)
			continue;
		const struct table *from = strcmp(db, "main") == 0 ? q->t : NULL;
		for (size_t k = 0; k < q->natt && !from; k++)
			if (strcmp(db, q->att[k].alias) == 0)
				from = q->att[k].t;
		long c = from ? table_find_column(from, origin) : -1;
		if (c >= 0)
			q->kinds[i] = table_column(from, (size_t)c)->kind;
	}
}

static enum sql_status prepare(struct sql_query *q, const char *sql, const json_t *params,
			       struct error *e)
{
	size_t len = strlen(sql);
	if (len > SQL_TEXT_MAX) {
		error_set(e, "the SQL is %zu bytes; at most %d", len, SQL_TEXT_MAX);
		return SQL_INVALID;
	}
	enum sql_status s = open_db(q, e);
	if (s != SQL_OK)
		return s;
	const char *tail = NULL;
	int rc = sqlite3_prepare_v3(q->db, sql, (int)len, 0, &q->st, &tail);
	if (rc != SQLITE_OK)
		return sql_failure(q, e);
	if (!q->st) {
		error_set(e, "the SQL holds no statement");
		return SQL_INVALID;
	}
	/* Anything after the statement but blanks, comments and ';' is a
	 * second statement. */
	sqlite3_stmt *next = NULL;
	const char *after = NULL;
	while (tail && *tail) {
		rc = sqlite3_prepare_v3(q->db, tail, -1, 0, &next, &after);
		if (rc != SQLITE_OK || next) {
			sqlite3_finalize(next);
			error_set(e, "only one statement per query");
			return SQL_FORBIDDEN;
		}
		if (after == tail)
			break;
		tail = after;
	}
	if (!sqlite3_stmt_readonly(q->st) || !starts_as_read(sql)) {
		error_set(e, "a query may only read: SELECT, WITH, VALUES or EXPLAIN");
		return SQL_FORBIDDEN;
	}
	s = check_btrees(q, sql, e);
	if (s != SQL_OK)
		return s;
	if (mentions_now(sql, len))
		q->cacheable = false;
	if (params && !json_is_null(params)) {
		char *text = json_dumps(params, JSON_COMPACT | JSON_ENCODE_ANY);
		if (text && mentions_now(text, strlen(text)))
			q->cacheable = false;
		free(text);
	}
	s = bind_params(q, params, e);
	if (s != SQL_OK)
		return s;
	describe_columns(q);
	return SQL_OK;
}

enum sql_status sql_prepare(const struct table *t, const char *sql, const json_t *params,
			    const struct sql_limits *lim, struct sql_query **out,
			    struct error *e)
{
	return sql_prepare_joined(t, NULL, 0, sql, params, lim, out, e);
}

enum sql_status sql_prepare_joined(const struct table *t, const struct sql_attach *att,
				   size_t natt, const char *sql, const json_t *params,
				   const struct sql_limits *lim, struct sql_query **out,
				   struct error *e)
{
	if (natt > SQL_ATTACH_MAX) {
		error_set(e, "at most %d joined datasets", SQL_ATTACH_MAX);
		*out = NULL;
		return SQL_INVALID;
	}
	struct sql_query *q = xcalloc(1, sizeof *q);
	q->t = t;
	for (size_t i = 0; i < natt; i++)
		q->att[i] = att[i];
	q->natt = natt;
	q->lim = *lim;
	q->budget.limit = lim->memory_bytes;
	q->cacheable = true;
	sql_enter(q);
	enum sql_status s = prepare(q, sql, params, e);
	sql_leave(q);
	if (s != SQL_OK) {
		sql_close(q);
		*out = NULL;
		return s;
	}
	*out = q;
	return SQL_OK;
}

size_t sql_ncols(const struct sql_query *q)
{
	return q->ncols;
}

const char *sql_name(const struct sql_query *q, size_t i)
{
	return q->names[i];
}

enum column_kind sql_kind(const struct sql_query *q, size_t i)
{
	return q->kinds[i];
}

bool sql_cacheable(const struct sql_query *q)
{
	return q->cacheable;
}

sqlite3_stmt *sql_stmt(struct sql_query *q)
{
	return q->st;
}

int64_t sql_time_limit_ms(const struct sql_query *q)
{
	return q->lim.time_ms;
}

int64_t sql_elapsed_ms(const struct sql_query *q)
{
	return q->spent_ns / 1000000;
}

int64_t sql_peak_bytes(const struct sql_query *q)
{
	return q->budget.peak;
}

sqlite3_stmt *sql_take_stmt(struct sql_query *q)
{
	sqlite3_stmt *st = q->st;
	q->st = NULL;
	return st;
}

void sql_close(struct sql_query *q)
{
	if (!q)
		return;
	sqlmem_begin(&q->budget);
	sqlite3_finalize(q->st);
	sqlite3_close_v2(q->db);
	sqlmem_end();
	for (size_t i = 0; i < q->ncols; i++)
		free(q->names[i]);
	free(q->names);
	free(q->kinds);
	for (size_t i = 0; i < SQL_ATTACH_MAX + 2; i++)
		free(q->roots[i]);
	free(q);
}

struct sql_limits sql_limits_for(const struct config *cfg, bool stream)
{
	return (struct sql_limits){
		.time_ms = stream ? cfg->query_stream_timeout_ms : cfg->query_timeout_ms,
		.memory_bytes = cfg->query_memory,
		.max_value_bytes = cfg->query_max_value,
	};
}
