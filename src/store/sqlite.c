/*
 * The SQLite backend of the metadata store: the embedded default.
 *
 * A fixed pool of connections (one per HTTP worker by default) in WAL mode:
 * readers never wait for the writer, writers queue on SQLite's lock with a
 * busy timeout.  A connection is used by one thread at a time (checked out
 * under a mutex), so SQLite itself runs without its own mutexes.  Each
 * connection keeps its prepared statements for its whole life.
 */
#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "store/backends.h"

enum stmt_id {
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_LIST,
	ST_SESSION_COUNT,
	ST_SESSION_DELETE,
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_SESSION_INSERT] = "INSERT INTO sessions (id, created_at, updated_at) VALUES (?1, ?2, ?2)",
	[ST_SESSION_GET] = "SELECT id, created_at, updated_at FROM sessions WHERE id = ?1",
	[ST_SESSION_LIST] = "SELECT id, created_at, updated_at FROM sessions "
			    "ORDER BY created_at DESC, id DESC LIMIT ?1 OFFSET ?2",
	[ST_SESSION_COUNT] = "SELECT count(*) FROM sessions",
	[ST_SESSION_DELETE] = "DELETE FROM sessions WHERE id = ?1",
	[ST_BEGIN] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

struct sqlite_store;

struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	bool busy;
	struct sqlite_store *owner;
	int64_t waiting_since_ms;   /* when the current lock wait began */
};

struct sqlite_store {
	struct store base;
	char *path;
	int lock_timeout_ms;
	atomic_bool interrupted;
	dev_t dev;
	ino_t ino;
	pthread_mutex_t lock;
	pthread_cond_t freed;
	int n;
	struct conn *conns;
};

static const struct store_ops sqlite_ops;

static struct sqlite_store *impl(struct store *st)
{
	return (struct sqlite_store *)st;
}

static enum store_rc fail(struct error *e, sqlite3 *db, const char *what)
{
	error_set(e, "sqlite: %s: %s", what, sqlite3_errmsg(db));
	return STORE_ERROR;
}

static struct conn *checkout(struct sqlite_store *s)
{
	pthread_mutex_lock(&s->lock);
	for (;;) {
		for (int i = 0; i < s->n; i++) {
			if (!s->conns[i].busy) {
				s->conns[i].busy = true;
				pthread_mutex_unlock(&s->lock);
				return &s->conns[i];
			}
		}
		pthread_cond_wait(&s->freed, &s->lock);
	}
}

static void checkin(struct sqlite_store *s, struct conn *c)
{
	pthread_mutex_lock(&s->lock);
	c->busy = false;
	pthread_cond_signal(&s->freed);
	pthread_mutex_unlock(&s->lock);
}

/* The prepared statement id on c, reset and unbound; NULL with e set on failure. */
static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id, struct error *e)
{
	if (!c->stmt[id]) {
		if (sqlite3_prepare_v3(c->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
				       &c->stmt[id], NULL) != SQLITE_OK) {
			fail(e, c->db, "prepare");
			return NULL;
		}
	}
	sqlite3_reset(c->stmt[id]);
	sqlite3_clear_bindings(c->stmt[id]);
	return c->stmt[id];
}

/* Runs a statement that returns no rows. */
static enum store_rc run(struct conn *c, enum stmt_id id, struct error *e)
{
	sqlite3_stmt *st = stmt(c, id, e);
	if (!st)
		return STORE_ERROR;
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? STORE_OK : fail(e, c->db, stmt_sql[id]);
}

static int exec(sqlite3 *db, const char *sql, struct error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	error_set(e, "sqlite: %s", msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/*
 * Waits for another writer's lock in short naps, up to the lock timeout,
 * and gives up at once after store_interrupt() (SQLite's own busy timeout
 * cannot be cut short, which would hold shutdown for the whole timeout).
 */
static int on_busy(void *arg, int count)
{
	struct conn *c = arg;
	int64_t now = clock_mono_ns() / 1000000;
	if (count == 0)
		c->waiting_since_ms = now;
	if (atomic_load(&c->owner->interrupted) ||
	    now - c->waiting_since_ms >= c->owner->lock_timeout_ms)
		return 0;
	struct timespec nap = { 0, (count < 10 ? count + 1 : 10) * 1000000L };
	nanosleep(&nap, NULL);
	return 1;
}

static int conn_open(struct sqlite_store *s, struct conn *c, struct error *e)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(s->path, &c->db, flags, NULL) != SQLITE_OK) {
		error_set(e, "cannot open database %s: %s", s->path,
			  c->db ? sqlite3_errmsg(c->db) : "out of memory");
		return -1;
	}
	sqlite3_extended_result_codes(c->db, 1);
	c->owner = s;
	sqlite3_busy_handler(c->db, on_busy, c);
	/* FULL: a commit is on disk when it returns (nothing lost on power failure). */
	return exec(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
			   "PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF;", e);
}

static void conn_close(struct conn *c)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
}

struct store *store_sqlite_open(const char *path, const struct store_options *opts,
				 struct error *e)
{
	if (!*path) {
		error_set(e, "empty SQLite path");
		return NULL;
	}
	if (fs_mkdirs(path, false, false, e))
		return NULL;
	struct sqlite_store *s = xcalloc(1, sizeof *s);
	s->base.ops = &sqlite_ops;
	s->path = xstrdup(path);
	s->n = opts->connections;
	s->lock_timeout_ms = opts->lock_timeout_ms;
	atomic_init(&s->interrupted, false);
	s->conns = xcalloc((size_t)s->n, sizeof *s->conns);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	for (int i = 0; i < s->n; i++) {
		if (conn_open(s, &s->conns[i], e)) {
			sqlite_ops.close(&s->base);
			return NULL;
		}
	}
	struct stat st;
	if (stat(path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	return &s->base;
}

static void sqlite_close(struct store *base)
{
	struct sqlite_store *s = impl(base);
	for (int i = 0; i < s->n; i++)
		if (s->conns[i].db)
			conn_close(&s->conns[i]);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->freed);
	free(s->conns);
	free(s->path);
	free(s);
}

static int max_version(sqlite3 *db, int *version, struct error *e)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", -1,
			       &st, NULL) != SQLITE_OK)
		return fail(e, db, "read schema version");
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : fail(e, db, "read schema version");
}

static enum store_rc apply_one(sqlite3 *db, const struct migration *m, struct error *e)
{
	struct error inner;
	if (exec(db, m->sql, &inner)) {
		error_set(e, "migration %d (%s) failed: %s", m->version, m->name, inner.msg);
		return STORE_ERROR;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations (version, name, applied_at) "
				   "VALUES (?1, ?2, CAST(strftime('%s','now') AS INTEGER) * 1000)",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(e, db, "record migration");
	sqlite3_bind_int(st, 1, m->version);
	sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? STORE_OK : fail(e, db, "record migration");
}

static enum store_rc sqlite_migrate(struct store *base, const struct migration *list, size_t n,
				    int *applied, struct error *e)
{
	struct sqlite_store *s = impl(base);
	*applied = 0;
	for (size_t i = 1; i < n; i++)
		if (list[i].version <= list[i - 1].version) {
			error_set(e, "migration list out of order at version %d", list[i].version);
			return STORE_ERROR;
		}
	int known = n ? list[n - 1].version : 0;
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_OK;
	if (exec(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			"version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
			"applied_at BIGINT NOT NULL)", e)) {
		rc = STORE_ERROR;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		/* IMMEDIATE takes the write lock first, so two processes migrating at once
		 * apply each version exactly once. */
		int have;
		if (exec(c->db, "BEGIN IMMEDIATE", e)) {
			rc = STORE_ERROR;
			goto out;
		}
		if (max_version(c->db, &have, e)) {
			rc = STORE_ERROR;
		} else if (have > known) {
			error_set(e, "the database is at schema version %d but this sheaf knows only "
				     "up to %d; use a newer sheaf", have, known);
			rc = STORE_ERROR;
		} else if (list[i].version > have) {
			rc = apply_one(c->db, &list[i], e);
		} else {
			exec(c->db, "ROLLBACK", NULL);
			continue;
		}
		if (rc != STORE_OK) {
			exec(c->db, "ROLLBACK", NULL);
			goto out;
		}
		if (exec(c->db, "COMMIT", e)) {
			exec(c->db, "ROLLBACK", NULL);
			rc = STORE_ERROR;
			goto out;
		}
		(*applied)++;
	}
out:
	/* Schema changes invalidate nothing we cache, but be explicit: drop statements. */
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_finalize(c->stmt[i]);
		c->stmt[i] = NULL;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_schema_version(struct store *base, int *version, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	*version = 0;
	sqlite3_stmt *st;
	enum store_rc rc = STORE_OK;
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM sqlite_master WHERE type = 'table' "
				      "AND name = 'schema_migrations'", -1, &st, NULL) != SQLITE_OK) {
		rc = fail(e, c->db, "read schema version");
	} else {
		int step = sqlite3_step(st);
		sqlite3_finalize(st);
		if (step == SQLITE_ROW && max_version(c->db, version, e))
			rc = STORE_ERROR;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_ping(struct store *base, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct stat st;
	/* A database file that was removed or replaced under us would swallow writes
	 * into an unlinked inode: that is a failure even though SQLite still answers. */
	if (stat(s->path, &st) != 0) {
		error_set(e, "database file %s: %s", s->path, strerror(errno));
		return STORE_ERROR;
	}
	if (st.st_dev != s->dev || st.st_ino != s->ino) {
		error_set(e, "database file %s was replaced while the server ran", s->path);
		return STORE_ERROR;
	}
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_OK;
	if (exec(c->db, "BEGIN IMMEDIATE", e))
		rc = STORE_ERROR;
	else
		exec(c->db, "ROLLBACK", NULL);
	checkin(s, c);
	return rc;
}

static void sqlite_interrupt(struct store *base)
{
	struct sqlite_store *s = impl(base);
	atomic_store(&s->interrupted, true);
	/* Safe from any thread while the connections stay open (they do until close). */
	for (int i = 0; i < s->n; i++)
		sqlite3_interrupt(s->conns[i].db);
}

static void read_session(sqlite3_stmt *st, struct session_row *out)
{
	const unsigned char *id = sqlite3_column_text(st, 0);
	snprintf(out->id, sizeof out->id, "%s", id ? (const char *)id : "");
	out->created_at = sqlite3_column_int64(st, 1);
	out->updated_at = sqlite3_column_int64(st, 2);
	/* Files arrive in a later schema version; until then a session holds none. */
	out->file_count = 0;
}

static enum store_rc sqlite_session_create(struct store *base, const char *id, int64_t now_ms,
					   struct session_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, ST_SESSION_INSERT, e);
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_ms);
		int step = sqlite3_step(st);
		if (step == SQLITE_DONE) {
			rc = STORE_OK;
			snprintf(out->id, sizeof out->id, "%s", id);
			out->created_at = out->updated_at = now_ms;
			out->file_count = 0;
		} else if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
			rc = STORE_CONFLICT;
		} else {
			rc = fail(e, c->db, "insert session");
		}
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_session_get(struct store *base, const char *id,
					struct session_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, ST_SESSION_GET, e);
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			read_session(st, out);
			rc = STORE_OK;
		} else if (step == SQLITE_DONE) {
			rc = STORE_NOT_FOUND;
		} else {
			rc = fail(e, c->db, "read session");
		}
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc list_in_tx(struct conn *c, int64_t limit, int64_t offset,
				struct session_row **rows, size_t *n, int64_t *total,
				struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_SESSION_COUNT, e);
	if (!st)
		return STORE_ERROR;
	if (sqlite3_step(st) != SQLITE_ROW)
		return fail(e, c->db, "count sessions");
	*total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	if (!(st = stmt(c, ST_SESSION_LIST, e)))
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, limit);
	sqlite3_bind_int64(st, 2, offset);
	size_t cap = limit > 0 && limit < 1000 ? (size_t)limit : 16;
	*rows = xcalloc(cap, sizeof **rows);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap *= 2;
			*rows = xrealloc(*rows, cap * sizeof **rows);
		}
		read_session(st, &(*rows)[(*n)++]);
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? STORE_OK : fail(e, c->db, "list sessions");
}

static enum store_rc sqlite_session_list(struct store *base, int64_t limit, int64_t offset,
					 struct session_row **rows, size_t *n, int64_t *total,
					 struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	*rows = NULL;
	*n = 0;
	*total = 0;
	/* One read transaction: the count and the page come from the same snapshot. */
	enum store_rc rc = run(c, ST_BEGIN, e);
	if (rc == STORE_OK) {
		rc = list_in_tx(c, limit, offset, rows, n, total, e);
		run(c, rc == STORE_OK ? ST_COMMIT : ST_ROLLBACK, NULL);
	}
	if (rc != STORE_OK) {
		free(*rows);
		*rows = NULL;
		*n = 0;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_session_delete(struct store *base, const char *id, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, ST_SESSION_DELETE, e);
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = sqlite3_changes(c->db) ? STORE_OK : STORE_NOT_FOUND;
		else
			rc = fail(e, c->db, "delete session");
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sqlite_close,
	.migrate = sqlite_migrate,
	.schema_version = sqlite_schema_version,
	.ping = sqlite_ping,
	.interrupt = sqlite_interrupt,
	.session_create = sqlite_session_create,
	.session_get = sqlite_session_get,
	.session_list = sqlite_session_list,
	.session_delete = sqlite_session_delete,
};
