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
	ST_USER_INSERT,
	ST_USER_GET,
	ST_USER_BY_EMAIL,
	ST_USER_SET_NAME,
	ST_USER_SET_EMAIL,
	ST_USER_SET_HASH,
	ST_USER_REVOKE_TOKENS,
	ST_USER_VERSION,
	ST_REFRESH_INSERT,
	ST_REFRESH_PURGE,
	ST_REFRESH_GET,
	ST_REFRESH_MARK_USED,
	ST_REFRESH_REVOKE_FAMILY,
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_LIST,
	ST_SESSION_COUNT,
	ST_SESSION_DELETE,
	ST_SESSION_TOUCH,
	ST_SESSION_FILE_KEYS,
	ST_FILE_INSERT,
	ST_FILE_GET,
	ST_FILE_LIST,
	ST_FILE_COUNT,
	ST_FILE_DELETE,
	ST_FILE_KEY_EXISTS,
	ST_DATASET_INSERT,
	ST_DATASET_GET,
	ST_DATASET_LIST_NEWEST,
	ST_DATASET_LIST_OLDEST,
	ST_DATASET_LIST_NAME,
	ST_DATASET_LIST_NAME_DESC,
	ST_DATASET_LIST_ROWS,
	ST_DATASET_LIST_SIZE,
	ST_DATASET_COUNT,
	ST_DATASET_EXISTS,
	ST_DATASET_READY,
	ST_DATASET_FAIL,
	ST_DATASET_UPDATE,
	ST_DATASET_KEYS,
	ST_DATASET_DELETE,
	ST_DATASET_KEY_EXISTS,
	ST_SUBJECT_JOBS_CANCEL,
	ST_SUBJECT_JOBS_ASK_CANCEL,
	ST_SHARE_INSERT,
	ST_SHARE_LIVE,
	ST_SHARE_LIST,
	ST_SHARE_REVOKE,
	ST_SHARE_DELETE_OF,
	ST_JOB_INSERT,
	ST_JOB_GET,
	ST_JOB_NEXT,
	ST_JOB_NEXT_OF_KIND,
	ST_JOB_QUEUED_KIND,
	ST_JOB_START,
	ST_JOB_PROGRESS,
	ST_JOB_HEARTBEAT,
	ST_JOB_FINISH,
	ST_JOB_REQUEUE,
	ST_JOB_STATE,
	ST_JOB_CANCEL_QUEUED,
	ST_JOB_ASK_CANCEL,
	ST_JOB_STALE_SPENT,
	ST_JOB_FAIL_INTERRUPTED,
	ST_JOB_RECOVER,
	ST_JOB_ACTIVE_OF_KIND,
	ST_JOB_DATA_INSERT,
	ST_JOB_DATA_RESULT,
	ST_MODEL_INSERT,
	ST_MODEL_GET,
	ST_MODEL_LIST,
	ST_MODEL_COUNT,
	ST_MODEL_READY,
	ST_MODEL_FAIL,
	ST_MODEL_KEY,
	ST_MODEL_DELETE,
	ST_MODEL_KEY_EXISTS,
	ST_BEGIN,
	ST_BEGIN_WRITE,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_COUNT
};

#define SESSION_COLUMNS "id, created_at, updated_at, (SELECT count(*) FROM files f " \
			"WHERE f.owner_id = s.owner_id AND f.session_id = s.id)"
#define FILE_COLUMNS "id, owner_id, session_id, filename, file_type, size, sha256, " \
		     "storage_key, uploaded_at"
#define USER_COLUMNS "id, email, name, password_hash, created_at, updated_at, token_version"
#define DATASET_INSERT_COLUMNS "id, owner_id, name, description, source_name, format, status, " \
			       "error, job_id, version, parent_id, size_bytes, original_key, " \
			       "data_key, data_bytes, row_count, column_count, encoding, " \
			       "delimiter, sheet, options, summary, created_at, updated_at"
/* Progress is not stored with the dataset: while processing it is the ingest
 * job's, 1000 once ready, and the job's last value after a failure. */
#define DATASET_SELECT "SELECT d.id, d.owner_id, d.name, d.description, d.source_name, " \
		       "d.format, d.status, d.error, d.job_id, CASE WHEN d.status = 'ready' " \
		       "THEN 1000 ELSE coalesce(j.progress, 0) END, d.version, d.parent_id, " \
		       "d.size_bytes, d.original_key, d.data_key, d.data_bytes, d.row_count, " \
		       "d.column_count, d.encoding, d.delimiter, d.sheet, d.options, d.summary, " \
		       "d.created_at, d.updated_at FROM datasets d LEFT JOIN jobs j ON j.id = d.job_id "
#define DATASET_LIST(order) DATASET_SELECT "WHERE d.owner_id = ?1 ORDER BY " order \
			    " LIMIT ?2 OFFSET ?3"
#define SHARE_COLUMNS "id, dataset_id, owner_id, token_hash, created_at, expires_at, revoked_at"
#define JOB_COLUMNS "id, owner_id, kind, subject_id, status, progress, message, error, " \
		    "payload, result, attempts, cancel_requested, worker, heartbeat_at, " \
		    "created_at, started_at, finished_at"
#define JOB_STALE "status = 'running' AND heartbeat_at < ?1"
/* A job with its input and output (job_data, kept apart so that progress
 * writes stay small). */
#define JOB_SELECT "SELECT j.id, j.owner_id, j.kind, j.subject_id, j.status, j.progress, " \
		   "j.message, j.error, d.payload, d.result, j.attempts, j.cancel_requested, " \
		   "j.worker, j.heartbeat_at, j.created_at, j.started_at, j.finished_at " \
		   "FROM jobs j LEFT JOIN job_data d ON d.job_id = j.id "
#define MODEL_INSERT_COLUMNS "id, owner_id, name, version, dataset_id, target, task, status, " \
			     "error, job_id, storage_key, size_bytes, spec, info, created_at, " \
			     "updated_at"
/* Like datasets, progress is the training job's while training. */
#define MODEL_SELECT "SELECT m.id, m.owner_id, m.name, m.version, m.dataset_id, m.target, " \
		     "m.task, m.status, m.error, m.job_id, CASE WHEN m.status = 'ready' " \
		     "THEN 1000 ELSE coalesce(j.progress, 0) END, m.storage_key, m.size_bytes, " \
		     "m.spec, m.info, m.created_at, m.updated_at FROM models m " \
		     "LEFT JOIN jobs j ON j.id = m.job_id "

static const char *const stmt_sql[ST_COUNT] = {
	[ST_USER_INSERT] = "INSERT INTO users (" USER_COLUMNS ") "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_USER_GET] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?1",
	[ST_USER_BY_EMAIL] = "SELECT " USER_COLUMNS " FROM users WHERE email = ?1",
	[ST_USER_SET_NAME] = "UPDATE users SET name = ?2, updated_at = ?3 WHERE id = ?1",
	[ST_USER_SET_EMAIL] = "UPDATE users SET email = ?2, updated_at = ?3 WHERE id = ?1",
	[ST_USER_SET_HASH] = "UPDATE users SET password_hash = ?2, updated_at = ?3, "
			     "token_version = token_version + ?4 "
			     "WHERE id = ?1 AND (?5 IS NULL OR password_hash = ?5)",
	[ST_USER_VERSION] = "SELECT token_version FROM users WHERE id = ?1",
	[ST_USER_REVOKE_TOKENS] = "UPDATE refresh_tokens SET revoked_at = ?2 "
				  "WHERE user_id = ?1 AND revoked_at IS NULL",
	[ST_REFRESH_INSERT] = "INSERT INTO refresh_tokens (token_hash, user_id, family_id, "
			      "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[ST_REFRESH_PURGE] = "DELETE FROM refresh_tokens WHERE user_id = ?1 AND expires_at <= ?2",
	[ST_REFRESH_GET] = "SELECT user_id, family_id, expires_at, used_at, revoked_at "
			   "FROM refresh_tokens WHERE token_hash = ?1",
	[ST_REFRESH_MARK_USED] = "UPDATE refresh_tokens SET used_at = ?2 WHERE token_hash = ?1",
	[ST_REFRESH_REVOKE_FAMILY] = "UPDATE refresh_tokens SET revoked_at = ?2 "
				     "WHERE family_id = ?1 AND revoked_at IS NULL",
	[ST_SESSION_INSERT] = "INSERT INTO sessions (owner_id, id, created_at, updated_at) "
			      "VALUES (?1, ?2, ?3, ?3)",
	[ST_SESSION_GET] = "SELECT " SESSION_COLUMNS " FROM sessions s "
			   "WHERE owner_id = ?1 AND id = ?2",
	[ST_SESSION_LIST] = "SELECT " SESSION_COLUMNS " FROM sessions s WHERE owner_id = ?1 "
			    "ORDER BY created_at DESC, id DESC LIMIT ?2 OFFSET ?3",
	[ST_SESSION_COUNT] = "SELECT count(*) FROM sessions WHERE owner_id = ?1",
	[ST_SESSION_DELETE] = "DELETE FROM sessions WHERE owner_id = ?1 AND id = ?2",
	[ST_SESSION_TOUCH] = "UPDATE sessions SET updated_at = ?3 WHERE owner_id = ?1 AND id = ?2",
	[ST_SESSION_FILE_KEYS] = "SELECT storage_key FROM files WHERE owner_id = ?1 AND session_id = ?2",
	[ST_FILE_INSERT] = "INSERT INTO files (" FILE_COLUMNS ") "
			   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
	[ST_FILE_GET] = "SELECT " FILE_COLUMNS " FROM files WHERE owner_id = ?1 AND id = ?2",
	[ST_FILE_LIST] = "SELECT " FILE_COLUMNS " FROM files WHERE owner_id = ?1 AND session_id = ?2 "
			 "ORDER BY uploaded_at, id LIMIT ?3 OFFSET ?4",
	[ST_FILE_COUNT] = "SELECT count(*) FROM files WHERE owner_id = ?1 AND session_id = ?2",
	[ST_FILE_DELETE] = "DELETE FROM files WHERE owner_id = ?1 AND id = ?2",
	[ST_FILE_KEY_EXISTS] = "SELECT 1 FROM files WHERE storage_key = ?1",
	[ST_DATASET_INSERT] = "INSERT INTO datasets (" DATASET_INSERT_COLUMNS ") VALUES (?1, ?2, "
			      "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
			      "?18, ?19, ?20, ?21, ?22, ?23, ?24)",
	[ST_DATASET_GET] = DATASET_SELECT "WHERE d.owner_id = ?1 AND d.id = ?2",
	[ST_DATASET_LIST_NEWEST] = DATASET_LIST("d.created_at DESC, d.id DESC"),
	[ST_DATASET_LIST_OLDEST] = DATASET_LIST("d.created_at, d.id"),
	[ST_DATASET_LIST_NAME] = DATASET_LIST("d.name, d.created_at DESC, d.id DESC"),
	[ST_DATASET_LIST_NAME_DESC] = DATASET_LIST("d.name DESC, d.created_at DESC, d.id DESC"),
	[ST_DATASET_LIST_ROWS] = DATASET_LIST("d.row_count DESC, d.created_at DESC, d.id DESC"),
	[ST_DATASET_LIST_SIZE] = DATASET_LIST("d.size_bytes DESC, d.created_at DESC, d.id DESC"),
	[ST_DATASET_COUNT] = "SELECT count(*) FROM datasets WHERE owner_id = ?1",
	[ST_DATASET_EXISTS] = "SELECT 1 FROM datasets WHERE owner_id = ?1 AND id = ?2",
	[ST_DATASET_READY] = "UPDATE datasets SET status = 'ready', error = '', data_key = ?3, "
			     "data_bytes = ?4, row_count = ?5, column_count = ?6, encoding = ?7, "
			     "delimiter = ?8, sheet = ?9, summary = ?10, updated_at = ?11 "
			     "WHERE owner_id = ?1 AND id = ?2 AND status = 'processing'",
	[ST_DATASET_FAIL] = "UPDATE datasets SET status = 'failed', error = ?3, updated_at = ?4 "
			    "WHERE owner_id = ?1 AND id = ?2 AND status = 'processing'",
	[ST_DATASET_UPDATE] = "UPDATE datasets SET name = coalesce(?3, name), "
			      "description = coalesce(?4, description), updated_at = ?5 "
			      "WHERE owner_id = ?1 AND id = ?2",
	[ST_DATASET_KEYS] = "SELECT original_key, data_key FROM datasets "
			    "WHERE owner_id = ?1 AND id = ?2",
	[ST_DATASET_DELETE] = "DELETE FROM datasets WHERE owner_id = ?1 AND id = ?2",
	[ST_DATASET_KEY_EXISTS] = "SELECT 1 FROM datasets WHERE original_key = ?1 OR data_key = ?1 "
				  "LIMIT 1",
	[ST_SUBJECT_JOBS_CANCEL] = "UPDATE jobs SET status = 'cancelled', cancel_requested = 1, "
				   "finished_at = ?3 WHERE owner_id = ?1 AND subject_id = ?2 "
				   "AND status = 'queued'",
	[ST_SUBJECT_JOBS_ASK_CANCEL] = "UPDATE jobs SET cancel_requested = 1 WHERE owner_id = ?1 "
				       "AND subject_id = ?2 AND status = 'running'",
	[ST_SHARE_INSERT] = "INSERT INTO dataset_shares (" SHARE_COLUMNS ") "
			    "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS "
			    "(SELECT 1 FROM datasets WHERE owner_id = ?3 AND id = ?2)",
	[ST_SHARE_LIVE] = "SELECT " SHARE_COLUMNS " FROM dataset_shares "
			  "WHERE token_hash = ?1 AND revoked_at = 0 AND expires_at > ?2",
	[ST_SHARE_LIST] = "SELECT " SHARE_COLUMNS " FROM dataset_shares WHERE owner_id = ?1 "
			  "AND dataset_id = ?2 ORDER BY created_at DESC, id DESC",
	[ST_SHARE_REVOKE] = "UPDATE dataset_shares SET revoked_at = CASE WHEN revoked_at = 0 "
			    "THEN ?4 ELSE revoked_at END "
			    "WHERE owner_id = ?1 AND dataset_id = ?2 AND id = ?3",
	[ST_SHARE_DELETE_OF] = "DELETE FROM dataset_shares WHERE owner_id = ?1 AND dataset_id = ?2",
	[ST_JOB_INSERT] = "INSERT INTO jobs (" JOB_COLUMNS ") VALUES (?1, ?2, ?3, ?4, 'queued', 0, "
			  "?5, '', '', NULL, 0, 0, '', 0, ?7, 0, 0)",
	[ST_JOB_DATA_INSERT] = "INSERT INTO job_data (job_id, payload) VALUES (?1, ?2)",
	[ST_JOB_DATA_RESULT] = "UPDATE job_data SET result = ?2 WHERE job_id = ?1",
	[ST_JOB_GET] = JOB_SELECT "WHERE j.id = ?1",
	[ST_JOB_NEXT] = "SELECT id, created_at FROM jobs WHERE status = 'queued' "
			"ORDER BY created_at, id LIMIT 1",
	[ST_JOB_NEXT_OF_KIND] = "SELECT id, created_at FROM jobs WHERE kind = ?1 "
				"AND status = 'queued' ORDER BY created_at, id LIMIT 1",
	[ST_JOB_QUEUED_KIND] = "SELECT kind FROM jobs WHERE id = ?1 AND status = 'queued'",
	[ST_JOB_START] = "UPDATE jobs SET status = 'running', attempts = attempts + 1, "
			 "worker = ?2, started_at = ?3, heartbeat_at = ?3 "
			 "WHERE id = ?1 AND status = 'queued'",
	[ST_JOB_PROGRESS] = "UPDATE jobs SET progress = ?3, message = coalesce(?4, message), "
			    "heartbeat_at = ?5 WHERE id = ?1 AND worker = ?2 "
			    "AND status = 'running' RETURNING cancel_requested",
	[ST_JOB_HEARTBEAT] = "UPDATE jobs SET heartbeat_at = ?2 "
			     "WHERE status = 'running' AND worker = ?1",
	[ST_JOB_FINISH] = "UPDATE jobs SET status = ?3, error = ?5, finished_at = ?6, "
			  "worker = '', progress = CASE WHEN ?3 = 'done' THEN 1000 ELSE progress END "
			  "WHERE id = ?1 AND worker = ?2 AND status = 'running'",
	[ST_JOB_REQUEUE] = "UPDATE jobs SET status = 'queued', worker = '', heartbeat_at = 0, "
			   "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
			   "WHERE id = ?1 AND worker = ?2 AND status = 'running'",
	[ST_JOB_STATE] = "SELECT owner_id, status FROM jobs WHERE id = ?1",
	[ST_JOB_CANCEL_QUEUED] = "UPDATE jobs SET status = 'cancelled', cancel_requested = 1, "
				 "finished_at = ?2 WHERE id = ?1 AND status = 'queued'",
	[ST_JOB_ASK_CANCEL] = "UPDATE jobs SET cancel_requested = 1 "
			      "WHERE id = ?1 AND status = 'running'",
	[ST_JOB_STALE_SPENT] = JOB_SELECT "WHERE " JOB_STALE " AND attempts >= ?2 "
			       "ORDER BY j.created_at, j.id",
	[ST_JOB_FAIL_INTERRUPTED] = "UPDATE jobs SET status = 'failed', error = ?2, "
				    "finished_at = ?3, worker = '' WHERE id = ?1",
	[ST_JOB_RECOVER] = "UPDATE jobs SET status = 'queued', worker = '', heartbeat_at = 0 "
			   "WHERE " JOB_STALE " AND attempts < ?2",
	[ST_JOB_ACTIVE_OF_KIND] = "SELECT count(*) FROM jobs WHERE kind = ?1 "
				  "AND status IN ('queued', 'running')",
	[ST_MODEL_INSERT] = "INSERT INTO models (" MODEL_INSERT_COLUMNS ") SELECT ?1, ?2, ?3, "
			    "coalesce(max(version), 0) + 1, ?4, ?5, ?6, 'training', '', ?7, '', 0, "
			    "?8, NULL, ?9, ?9 FROM models WHERE owner_id = ?2 AND name = ?3 "
			    "RETURNING version",
	[ST_MODEL_GET] = MODEL_SELECT "WHERE m.owner_id = ?1 AND m.id = ?2",
	[ST_MODEL_LIST] = MODEL_SELECT "WHERE m.owner_id = ?1 ORDER BY m.created_at DESC, "
			  "m.id DESC LIMIT ?2 OFFSET ?3",
	[ST_MODEL_COUNT] = "SELECT count(*) FROM models WHERE owner_id = ?1",
	[ST_MODEL_READY] = "UPDATE models SET status = 'ready', error = '', storage_key = ?3, "
			   "size_bytes = ?4, info = ?5, updated_at = ?6 "
			   "WHERE owner_id = ?1 AND id = ?2 AND status = 'training'",
	[ST_MODEL_FAIL] = "UPDATE models SET status = 'failed', error = ?3, updated_at = ?4 "
			  "WHERE owner_id = ?1 AND id = ?2 AND status = 'training'",
	[ST_MODEL_KEY] = "SELECT storage_key FROM models WHERE owner_id = ?1 AND id = ?2",
	[ST_MODEL_DELETE] = "DELETE FROM models WHERE owner_id = ?1 AND id = ?2",
	[ST_MODEL_KEY_EXISTS] = "SELECT 1 FROM models WHERE storage_key = ?1 LIMIT 1",
	[ST_BEGIN] = "BEGIN",
	[ST_BEGIN_WRITE] = "BEGIN IMMEDIATE",
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

/* Runs migration m and records it, inside the caller's transaction.  Any
 * failure names the migration. */
static enum store_rc apply_one(sqlite3 *db, const struct migration *m, struct error *e)
{
	struct error inner;
	if (exec(db, m->sql, &inner)) {
		error_set(e, "migration %d (%s) failed: %s", m->version, m->name, inner.msg);
		return STORE_ERROR;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO schema_migrations (version, name, applied_at) "
				    "VALUES (?1, ?2, CAST(strftime('%s','now') AS INTEGER) * 1000)",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int(st, 1, m->version);
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc == SQLITE_DONE)
		return STORE_OK;
	error_set(e, "migration %d (%s) could not be recorded: sqlite: %s", m->version, m->name,
		  sqlite3_errmsg(db));
	return STORE_ERROR;
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
	int have = 0, count = 0;
	/* One transaction for all of them: a fresh database pays one synced
	 * commit instead of one per migration, and a failure leaves the schema
	 * as it was, not half-way.  IMMEDIATE takes the write lock first, so two
	 * processes migrating at once apply each version exactly once: the
	 * second reads the version the first committed. */
	if (exec(c->db, "BEGIN IMMEDIATE", e)) {
		rc = STORE_ERROR;
		goto out;
	}
	if (exec(c->db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			"version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
			"applied_at BIGINT NOT NULL)", e) ||
	    max_version(c->db, &have, e)) {
		rc = STORE_ERROR;
	} else if (have > known) {
		error_set(e, "the database is at schema version %d but this sheaf knows only "
			     "up to %d; use a newer sheaf", have, known);
		rc = STORE_ERROR;
	}
	for (size_t i = 0; i < n && rc == STORE_OK; i++) {
		if (list[i].version > have && (rc = apply_one(c->db, &list[i], e)) == STORE_OK)
			count++;
	}
	if (rc == STORE_OK && exec(c->db, "COMMIT", e))
		rc = STORE_ERROR;
	if (rc != STORE_OK) {
		exec(c->db, "ROLLBACK", NULL);
		goto out;
	}
	*applied = count;
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

/* Column col of st as text into out (at most cap - 1 bytes, NUL-terminated). */
static void column_text(sqlite3_stmt *st, int col, char *out, size_t cap)
{
	const unsigned char *v = sqlite3_column_text(st, col);
	snprintf(out, cap, "%s", v ? (const char *)v : "");
}

static bool is_constraint(struct conn *c, int code)
{
	return sqlite3_extended_errcode(c->db) == code;
}

/* Steps a one-row lookup: STORE_OK with the row ready, STORE_NOT_FOUND, or STORE_ERROR. */
static enum store_rc step_row(struct conn *c, sqlite3_stmt *st, const char *what,
			      struct error *e)
{
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		return STORE_OK;
	return step == SQLITE_DONE ? STORE_NOT_FOUND : fail(e, c->db, what);
}

/* Steps a write: STORE_OK when it changed a row, STORE_NOT_FOUND when none. */
static enum store_rc step_write(struct conn *c, sqlite3_stmt *st, const char *what,
				struct error *e)
{
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		return fail(e, c->db, what);
	return sqlite3_changes(c->db) ? STORE_OK : STORE_NOT_FOUND;
}

/* Ends a transaction begun with ST_BEGIN or ST_BEGIN_WRITE: commits when rc
 * is not STORE_ERROR, else rolls back.  Returns rc, or STORE_ERROR if the
 * commit fails. */
static enum store_rc tx_end(struct conn *c, enum store_rc rc, struct error *e)
{
	if (rc != STORE_ERROR && run(c, ST_COMMIT, e) == STORE_OK)
		return rc;
	run(c, ST_ROLLBACK, NULL);
	return STORE_ERROR;
}

/* All or nothing: commits when rc is STORE_OK, else rolls back and keeps
 * rc (tx_end commits a "not found" too). */
static enum store_rc tx_all_or_nothing(struct conn *c, enum store_rc rc, struct error *e)
{
	if (rc == STORE_OK)
		return tx_end(c, rc, e);
	run(c, ST_ROLLBACK, NULL);
	return rc;
}

static void read_user(sqlite3_stmt *st, struct user_row *out)
{
	column_text(st, 0, out->id, sizeof out->id);
	column_text(st, 1, out->email, sizeof out->email);
	column_text(st, 2, out->name, sizeof out->name);
	column_text(st, 3, out->password_hash, sizeof out->password_hash);
	out->created_at = sqlite3_column_int64(st, 4);
	out->updated_at = sqlite3_column_int64(st, 5);
	out->token_version = sqlite3_column_int64(st, 6);
}

static enum store_rc sqlite_user_create(struct store *base, const struct user_row *u,
					struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, ST_USER_INSERT, e);
	if (st) {
		sqlite3_bind_text(st, 1, u->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, u->email, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, u->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, u->password_hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, u->created_at);
		sqlite3_bind_int64(st, 6, u->updated_at);
		sqlite3_bind_int64(st, 7, u->token_version);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = STORE_OK;
		else if (is_constraint(c, SQLITE_CONSTRAINT_UNIQUE))
			rc = STORE_CONFLICT;
		else
			rc = fail(e, c->db, "insert user");
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc user_lookup(struct conn *c, enum stmt_id id, const char *key,
				 struct user_row *out, struct error *e)
{
	sqlite3_stmt *st = stmt(c, id, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read user", e);
	if (rc == STORE_OK)
		read_user(st, out);
	sqlite3_reset(st);
	return rc;
}

static enum store_rc sqlite_user_get(struct store *base, const char *id, struct user_row *out,
				     struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = user_lookup(c, ST_USER_GET, id, out, e);
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_user_find_email(struct store *base, const char *email,
					    struct user_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = user_lookup(c, ST_USER_BY_EMAIL, email, out, e);
	checkin(s, c);
	return rc;
}

static enum store_rc set_user_text(struct conn *c, enum stmt_id id, const char *user,
				   const char *value, int64_t now_ms, struct error *e)
{
	sqlite3_stmt *st = stmt(c, id, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, user, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return sqlite3_changes(c->db) ? STORE_OK : STORE_NOT_FOUND;
	return is_constraint(c, SQLITE_CONSTRAINT_UNIQUE) ? STORE_CONFLICT
							  : fail(e, c->db, "update user");
}

static enum store_rc sqlite_user_update(struct store *base, const char *id, const char *name,
					const char *email, int64_t now_ms, struct user_row *out,
					struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		if (name)
			rc = set_user_text(c, ST_USER_SET_NAME, id, name, now_ms, e);
		if (rc == STORE_OK && email)
			rc = set_user_text(c, ST_USER_SET_EMAIL, id, email, now_ms, e);
		if (rc == STORE_OK)
			rc = user_lookup(c, ST_USER_GET, id, out, e);
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_user_set_password(struct store *base, const char *id,
					      const char *hash, const char *expected, bool revoke,
					      int64_t now_ms, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, ST_USER_SET_HASH, e);
		rc = STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, now_ms);
			sqlite3_bind_int(st, 4, revoke);
			if (expected)
				sqlite3_bind_text(st, 5, expected, -1, SQLITE_STATIC);
			rc = step_write(c, st, "set password", e);
			if (rc == STORE_NOT_FOUND && expected &&
			    user_lookup(c, ST_USER_GET, id, &(struct user_row){ .id = "" }, e) ==
				    STORE_OK)
				rc = STORE_CONFLICT;
		}
		if (rc == STORE_OK && revoke && (st = stmt(c, ST_USER_REVOKE_TOKENS, e))) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, now_ms);
			if (step_write(c, st, "revoke refresh tokens", e) == STORE_ERROR)
				rc = STORE_ERROR;
		} else if (rc == STORE_OK && revoke) {
			rc = STORE_ERROR;
		}
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc insert_refresh(struct conn *c, const struct refresh_row *r,
				    struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_REFRESH_INSERT, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, r->token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->user_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->family_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, r->created_at);
	sqlite3_bind_int64(st, 5, r->expires_at);
	return step_write(c, st, "insert refresh token", e) == STORE_OK ? STORE_OK : STORE_ERROR;
}

static enum store_rc sqlite_refresh_insert(struct store *base, const struct refresh_row *r,
					   struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, ST_USER_VERSION, e);
		rc = STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, r->user_id, -1, SQLITE_STATIC);
			rc = step_row(c, st, "read token version", e);
			if (rc == STORE_OK && sqlite3_column_int64(st, 0) != r->token_version)
				rc = STORE_CONFLICT;
			sqlite3_reset(st);
		}
		st = rc == STORE_OK ? stmt(c, ST_REFRESH_PURGE, e) : NULL;
		if (st) {
			rc = STORE_ERROR;
			sqlite3_bind_text(st, 1, r->user_id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, r->created_at);
			if (step_write(c, st, "purge refresh tokens", e) != STORE_ERROR)
				rc = insert_refresh(c, r, e);
		}
		rc = tx_end(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc revoke_family(struct conn *c, const char *family, int64_t now_ms,
				   struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_REFRESH_REVOKE_FAMILY, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, family, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	return step_write(c, st, "revoke token family", e) == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

/* The token stored as hash: fills user/family, returns STORE_OK (usable),
 * STORE_NOT_FOUND (unknown, expired or revoked) or STORE_REUSED (used). */
static enum store_rc refresh_state(struct conn *c, const char *hash, int64_t now_ms,
				   struct refresh_row *r, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_REFRESH_GET, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read refresh token", e);
	if (rc == STORE_OK) {
		column_text(st, 0, r->user_id, sizeof r->user_id);
		column_text(st, 1, r->family_id, sizeof r->family_id);
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			rc = STORE_NOT_FOUND;   /* revoked */
		else if (sqlite3_column_type(st, 3) != SQLITE_NULL)
			rc = STORE_REUSED;
		else if (sqlite3_column_int64(st, 2) <= now_ms)
			rc = STORE_NOT_FOUND;   /* expired */
	}
	sqlite3_reset(st);
	return rc;
}

static enum store_rc sqlite_refresh_rotate(struct store *base, const char *old_hash,
					   struct refresh_row *fresh, int64_t now_ms,
					   struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	/* IMMEDIATE: two requests racing with one token are serialised, and the
	 * second sees the first one's use (then the family is revoked). */
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		rc = refresh_state(c, old_hash, now_ms, fresh, e);
		if (rc == STORE_REUSED) {
			if (revoke_family(c, fresh->family_id, now_ms, e) != STORE_OK)
				rc = STORE_ERROR;
		} else if (rc == STORE_OK) {
			sqlite3_stmt *st = stmt(c, ST_REFRESH_MARK_USED, e);
			rc = STORE_ERROR;
			if (st) {
				sqlite3_bind_text(st, 1, old_hash, -1, SQLITE_STATIC);
				sqlite3_bind_int64(st, 2, now_ms);
				if (step_write(c, st, "use refresh token", e) == STORE_OK)
					rc = insert_refresh(c, fresh, e);
			}
		}
		rc = tx_end(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_refresh_revoke(struct store *base, const char *hash, int64_t now_ms,
					   struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		struct refresh_row r = { .family_id = "" };
		rc = refresh_state(c, hash, INT64_MIN, &r, e);
		if (rc == STORE_OK || rc == STORE_REUSED)
			rc = revoke_family(c, r.family_id, now_ms, e);
		if (rc == STORE_NOT_FOUND && r.family_id[0])   /* already revoked: done */
			rc = STORE_OK;
		rc = tx_end(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

/*
 * Steps st (bound, limit rows at most) into a malloc'd array of rows of
 * size bytes each, filled by read; *rows and *n are the caller's (freed by
 * it on failure too).
 */
static enum store_rc collect_rows(struct conn *c, sqlite3_stmt *st, int64_t limit, size_t size,
				  void (*read)(sqlite3_stmt *st, void *row), void **rows,
				  size_t *n, const char *what, struct error *e)
{
	size_t cap = limit > 0 && limit < 1000 ? (size_t)limit : 16;
	*rows = xcalloc(cap, size);
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap *= 2;
			*rows = xrealloc(*rows, cap * size);
		}
		read(st, (char *)*rows + (*n)++ * size);
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? STORE_OK : fail(e, c->db, what);
}

/* Whether the one-row lookup id finds key: the orphan sweep's question. */
static enum store_rc key_listed(struct sqlite_store *s, enum stmt_id id, const char *key,
				bool *exists, struct error *e)
{
	*exists = false;
	if (!*key)   /* "" is the "no object yet" of a row, never a real key */
		return STORE_OK;
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, id, e);
	if (st) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		rc = step_row(c, st, "look up storage key", e);
		sqlite3_reset(st);
		*exists = rc == STORE_OK;
		if (rc == STORE_NOT_FOUND)
			rc = STORE_OK;
	}
	checkin(s, c);
	return rc;
}

/* A one-row lookup id by (owner, key) into out, read by read. */
static enum store_rc owned_get(struct sqlite_store *s, enum stmt_id id, const char *owner,
			       const char *key, void (*read)(sqlite3_stmt *st, void *row),
			       void *out, const char *what, struct error *e)
{
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, id, e);
	if (st) {
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
		rc = step_row(c, st, what, e);
		if (rc == STORE_OK)
			read(st, out);
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static void read_session(sqlite3_stmt *st, struct session_row *out)
{
	column_text(st, 0, out->id, sizeof out->id);
	out->created_at = sqlite3_column_int64(st, 1);
	out->updated_at = sqlite3_column_int64(st, 2);
	out->file_count = sqlite3_column_int64(st, 3);
}

static void read_session_row(sqlite3_stmt *st, void *row)
{
	read_session(st, row);
}

static enum store_rc sqlite_session_create(struct store *base, const char *owner,
					   const char *id, int64_t now_ms,
					   struct session_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, ST_SESSION_INSERT, e);
	if (st) {
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms);
		if (sqlite3_step(st) == SQLITE_DONE) {
			rc = STORE_OK;
			snprintf(out->id, sizeof out->id, "%s", id);
			out->created_at = out->updated_at = now_ms;
			out->file_count = 0;
		} else if (is_constraint(c, SQLITE_CONSTRAINT_PRIMARYKEY)) {
			rc = STORE_CONFLICT;
		} else {
			rc = fail(e, c->db, "insert session");
		}
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_session_get(struct store *base, const char *owner, const char *id,
					struct session_row *out, struct error *e)
{
	return owned_get(impl(base), ST_SESSION_GET, owner, id, read_session_row, out,
			 "read session", e);
}

/* In a read transaction: the owner's count (count_id) and one page of rows
 * (list_id, bound to owner, limit, offset) from the same snapshot. */
static enum store_rc owned_page_in_tx(struct conn *c, enum stmt_id count_id, enum stmt_id list_id,
				      const char *owner, int64_t limit, int64_t offset,
				      size_t size, void (*read)(sqlite3_stmt *st, void *row),
				      void **rows, size_t *n, int64_t *total, const char *what,
				      struct error *e)
{
	sqlite3_stmt *st = stmt(c, count_id, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return fail(e, c->db, what);
	}
	*total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!(st = stmt(c, list_id, e)))
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	return collect_rows(c, st, limit, size, read, rows, n, what, e);
}

static enum store_rc sqlite_session_list(struct store *base, const char *owner, int64_t limit,
					 int64_t offset, struct session_row **rows, size_t *n,
					 int64_t *total, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	*rows = NULL;
	*n = 0;
	*total = 0;
	/* One read transaction: the count and the page come from the same snapshot. */
	enum store_rc rc = run(c, ST_BEGIN, e);
	if (rc == STORE_OK)
		rc = tx_end(c, owned_page_in_tx(c, ST_SESSION_COUNT, ST_SESSION_LIST, owner, limit,
						offset, sizeof **rows, read_session_row, (void **)rows,
						n, total, "list sessions", e), e);
	if (rc != STORE_OK) {
		free(*rows);
		*rows = NULL;
		*n = 0;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc session_file_keys(struct conn *c, const char *owner, const char *id,
				       struct store_keys *out, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_SESSION_FILE_KEYS, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	size_t cap = 0;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->keys = xrealloc(out->keys, cap * sizeof *out->keys);
		}
		const unsigned char *k = sqlite3_column_text(st, 0);
		out->keys[out->n++] = xstrdup(k ? (const char *)k : "");
	}
	sqlite3_reset(st);
	return step == SQLITE_DONE ? STORE_OK : fail(e, c->db, "list session files");
}

static enum store_rc sqlite_session_delete(struct store *base, const char *owner,
					   const char *id, struct store_keys *orphans,
					   struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	struct store_keys keys = { NULL, 0 };
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		rc = session_file_keys(c, owner, id, &keys, e);
		sqlite3_stmt *st = rc == STORE_OK ? stmt(c, ST_SESSION_DELETE, e) : NULL;
		if (st) {
			sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			rc = step_write(c, st, "delete session", e);   /* files go by cascade */
		} else {
			rc = STORE_ERROR;
		}
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	if (rc == STORE_OK && orphans)
		*orphans = keys;
	else
		store_keys_free(&keys);
	return rc;
}

static void read_file(sqlite3_stmt *st, struct file_row *out)
{
	column_text(st, 0, out->id, sizeof out->id);
	column_text(st, 1, out->owner_id, sizeof out->owner_id);
	column_text(st, 2, out->session_id, sizeof out->session_id);
	column_text(st, 3, out->filename, sizeof out->filename);
	column_text(st, 4, out->file_type, sizeof out->file_type);
	out->size = sqlite3_column_int64(st, 5);
	column_text(st, 6, out->sha256, sizeof out->sha256);
	column_text(st, 7, out->storage_key, sizeof out->storage_key);
	out->uploaded_at = sqlite3_column_int64(st, 8);
}

static void read_file_row(sqlite3_stmt *st, void *row)
{
	read_file(st, row);
}

static enum store_rc insert_file(struct conn *c, const struct file_row *f, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_FILE_INSERT, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, f->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, f->owner_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, f->session_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->filename, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, f->file_type, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, f->size);
	sqlite3_bind_text(st, 7, f->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, f->storage_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, f->uploaded_at);
	return step_write(c, st, "insert file", e) == STORE_OK ? STORE_OK : STORE_ERROR;
}

static enum store_rc sqlite_file_create(struct store *base, const struct file_row *rows,
					size_t n, struct error *e)
{
	struct sqlite_store *s = impl(base);
	if (n == 0)
		return STORE_OK;
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, ST_SESSION_TOUCH, e);
		rc = STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, rows[0].owner_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, rows[0].session_id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, rows[n - 1].uploaded_at);
			rc = step_write(c, st, "touch session", e);
		}
		for (size_t i = 0; rc == STORE_OK && i < n; i++)
			rc = insert_file(c, &rows[i], e);
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc file_lookup(struct conn *c, const char *owner, const char *id,
				 struct file_row *out, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_FILE_GET, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read file", e);
	if (rc == STORE_OK)
		read_file(st, out);
	sqlite3_reset(st);
	return rc;
}

static enum store_rc sqlite_file_get(struct store *base, const char *owner, const char *id,
				     struct file_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = file_lookup(c, owner, id, out, e);
	checkin(s, c);
	return rc;
}

static enum store_rc file_list_in_tx(struct conn *c, const char *owner, const char *session,
				     int64_t limit, int64_t offset, struct file_row **rows,
				     size_t *n, int64_t *total, struct error *e)
{
	struct session_row srow;
	sqlite3_stmt *st = stmt(c, ST_SESSION_GET, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, session, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read session", e);
	if (rc == STORE_OK)
		read_session(st, &srow);
	sqlite3_reset(st);
	if (rc != STORE_OK)
		return rc;
	*total = srow.file_count;

	if (!(st = stmt(c, ST_FILE_LIST, e)))
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, session, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, limit);
	sqlite3_bind_int64(st, 4, offset);
	return collect_rows(c, st, limit, sizeof **rows, read_file_row, (void **)rows, n,
			    "list files", e);
}

static enum store_rc sqlite_file_list(struct store *base, const char *owner,
				      const char *session, int64_t limit, int64_t offset,
				      struct file_row **rows, size_t *n, int64_t *total,
				      struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	*rows = NULL;
	*n = 0;
	*total = 0;
	enum store_rc rc = run(c, ST_BEGIN, e);
	if (rc == STORE_OK) {
		rc = file_list_in_tx(c, owner, session, limit, offset, rows, n, total, e);
		run(c, rc == STORE_ERROR ? ST_ROLLBACK : ST_COMMIT, NULL);
	}
	if (rc != STORE_OK) {
		free(*rows);
		*rows = NULL;
		*n = 0;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_file_delete(struct store *base, const char *owner, const char *id,
					struct file_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		rc = file_lookup(c, owner, id, out, e);
		sqlite3_stmt *st = rc == STORE_OK ? stmt(c, ST_FILE_DELETE, e) : NULL;
		if (st) {
			sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			rc = step_write(c, st, "delete file", e);
		} else if (rc == STORE_OK) {
			rc = STORE_ERROR;
		}
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_file_key_exists(struct store *base, const char *key, bool *exists,
					    struct error *e)
{
	return key_listed(impl(base), ST_FILE_KEY_EXISTS, key, exists, e);
}

/* Column col of st as a malloc'd string, NULL for SQL NULL. */
static char *column_dup(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	const unsigned char *v = sqlite3_column_text(st, col);
	return xstrdup(v ? (const char *)v : "");
}

static void read_dataset(sqlite3_stmt *st, struct dataset_row *out)
{
	column_text(st, 0, out->id, sizeof out->id);
	column_text(st, 1, out->owner_id, sizeof out->owner_id);
	column_text(st, 2, out->name, sizeof out->name);
	column_text(st, 3, out->description, sizeof out->description);
	column_text(st, 4, out->source_name, sizeof out->source_name);
	column_text(st, 5, out->format, sizeof out->format);
	column_text(st, 6, out->status, sizeof out->status);
	column_text(st, 7, out->error, sizeof out->error);
	column_text(st, 8, out->job_id, sizeof out->job_id);
	out->progress = sqlite3_column_int64(st, 9);
	out->version = sqlite3_column_int64(st, 10);
	column_text(st, 11, out->parent_id, sizeof out->parent_id);
	out->size_bytes = sqlite3_column_int64(st, 12);
	column_text(st, 13, out->original_key, sizeof out->original_key);
	column_text(st, 14, out->data_key, sizeof out->data_key);
	out->data_bytes = sqlite3_column_int64(st, 15);
	out->rows = sqlite3_column_int64(st, 16);
	out->columns = sqlite3_column_int64(st, 17);
	column_text(st, 18, out->encoding, sizeof out->encoding);
	column_text(st, 19, out->delimiter, sizeof out->delimiter);
	column_text(st, 20, out->sheet, sizeof out->sheet);
	out->options = column_dup(st, 21);
	if (!out->options)
		out->options = xstrdup("{}");
	out->summary = column_dup(st, 22);
	out->created_at = sqlite3_column_int64(st, 23);
	out->updated_at = sqlite3_column_int64(st, 24);
}

static void read_dataset_row(sqlite3_stmt *st, void *row)
{
	read_dataset(st, row);
}

/* Binds text that may be NULL (then SQL NULL). */
static void bind_text_or_null(sqlite3_stmt *st, int col, const char *v)
{
	if (v)
		sqlite3_bind_text(st, col, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, col);
}

/* Inserts job as "queued"; STORE_CONFLICT when its id is taken. */
static enum store_rc insert_job(struct conn *c, const struct job_row *job, const char *subject,
				struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_JOB_INSERT, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, job->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job->owner_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, job->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, job->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, job->created_at);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step != SQLITE_DONE)
		return is_constraint(c, SQLITE_CONSTRAINT_PRIMARYKEY) ? STORE_CONFLICT
								       : fail(e, c->db, "insert job");
	if (!(st = stmt(c, ST_JOB_DATA_INSERT, e)))
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, job->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job->payload ? job->payload : "{}", -1, SQLITE_STATIC);
	return step_write(c, st, "insert job data", e) == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

static enum store_rc insert_dataset(struct conn *c, const struct dataset_row *d,
				    const char *job_id, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_DATASET_INSERT, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->owner_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, d->source_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, d->format, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, d->status[0] ? d->status : "processing", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, d->error, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, job_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, d->version);
	sqlite3_bind_text(st, 11, d->parent_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, d->size_bytes);
	sqlite3_bind_text(st, 13, d->original_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, d->data_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, d->data_bytes);
	sqlite3_bind_int64(st, 16, d->rows);
	sqlite3_bind_int64(st, 17, d->columns);
	sqlite3_bind_text(st, 18, d->encoding, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 19, d->delimiter, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 20, d->sheet, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 21, d->options ? d->options : "{}", -1, SQLITE_STATIC);
	bind_text_or_null(st, 22, d->summary);
	sqlite3_bind_int64(st, 23, d->created_at);
	sqlite3_bind_int64(st, 24, d->updated_at);
	int step = sqlite3_step(st);
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return STORE_OK;
	return is_constraint(c, SQLITE_CONSTRAINT_PRIMARYKEY) ? STORE_CONFLICT
							       : fail(e, c->db, "insert dataset");
}

static enum store_rc sqlite_dataset_create(struct store *base, const struct dataset_row *row,
					   const struct job_row *job, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		/* The dataset points at the job it was created with. */
		rc = insert_dataset(c, row, job ? job->id : row->job_id, e);
		if (rc == STORE_OK && job)
			rc = insert_job(c, job, row->id, e);
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc dataset_lookup(struct conn *c, const char *owner, const char *id,
				    struct dataset_row *out, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_DATASET_GET, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read dataset", e);
	if (rc == STORE_OK)
		read_dataset(st, out);
	sqlite3_reset(st);
	return rc;
}

static enum store_rc sqlite_dataset_get(struct store *base, const char *owner, const char *id,
					struct dataset_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	out->options = out->summary = NULL;
	struct conn *c = checkout(s);
	enum store_rc rc = dataset_lookup(c, owner, id, out, e);
	checkin(s, c);
	return rc;
}

static enum stmt_id dataset_list_stmt(enum dataset_sort sort)
{
	switch (sort) {
	case DATASET_SORT_OLDEST:
		return ST_DATASET_LIST_OLDEST;
	case DATASET_SORT_NAME:
		return ST_DATASET_LIST_NAME;
	case DATASET_SORT_NAME_DESC:
		return ST_DATASET_LIST_NAME_DESC;
	case DATASET_SORT_ROWS:
		return ST_DATASET_LIST_ROWS;
	case DATASET_SORT_SIZE:
		return ST_DATASET_LIST_SIZE;
	case DATASET_SORT_NEWEST:
	default:
		return ST_DATASET_LIST_NEWEST;
	}
}

static enum store_rc dataset_list_in_tx(struct conn *c, const char *owner,
					enum dataset_sort sort, int64_t limit, int64_t offset,
					struct dataset_row **rows, size_t *n, int64_t *total,
					struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_DATASET_COUNT, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		return fail(e, c->db, "count datasets");
	*total = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);

	if (!(st = stmt(c, dataset_list_stmt(sort), e)))
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, limit);
	sqlite3_bind_int64(st, 3, offset);
	return collect_rows(c, st, limit, sizeof **rows, read_dataset_row, (void **)rows, n,
			    "list datasets", e);
}

static enum store_rc sqlite_dataset_list(struct store *base, const char *owner,
					 enum dataset_sort sort, int64_t limit, int64_t offset,
					 struct dataset_row **rows, size_t *n, int64_t *total,
					 struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	*rows = NULL;
	*n = 0;
	*total = 0;
	/* One read transaction: the count and the page come from the same snapshot. */
	enum store_rc rc = run(c, ST_BEGIN, e);
	if (rc == STORE_OK)
		rc = tx_end(c, dataset_list_in_tx(c, owner, sort, limit, offset, rows, n, total, e),
			    e);
	if (rc != STORE_OK) {
		dataset_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	checkin(s, c);
	return rc;
}

/* Whether owner has dataset id: STORE_OK, STORE_NOT_FOUND or STORE_ERROR. */
/* Whether owner's row id exists, by the lookup exists_id. */
static enum store_rc row_exists(struct conn *c, enum stmt_id exists_id, const char *owner,
				const char *id, struct error *e)
{
	sqlite3_stmt *st = stmt(c, exists_id, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "look up row", e);
	sqlite3_reset(st);
	return rc;
}

static enum store_rc dataset_exists(struct conn *c, const char *owner, const char *id,
				    struct error *e)
{
	return row_exists(c, ST_DATASET_EXISTS, owner, id, e);
}

/*
 * Ends a write transaction after a guarded update (only in some state) of
 * owner's row id (rc from step_write): a row that is there (exists_id
 * finds it) but was not changed is STORE_CONFLICT, a missing one
 * STORE_NOT_FOUND.
 */
static enum store_rc guarded_end(struct conn *c, enum store_rc rc, enum stmt_id exists_id,
				 const char *owner, const char *id, struct error *e)
{
	if (rc == STORE_NOT_FOUND) {
		enum store_rc there = row_exists(c, exists_id, owner, id, e);
		if (there != STORE_NOT_FOUND)
			rc = there == STORE_OK ? STORE_CONFLICT : STORE_ERROR;
	}
	if (rc == STORE_OK)
		return tx_end(c, rc, e);
	run(c, ST_ROLLBACK, NULL);
	return rc;
}

/* A guarded "failed" of owner's row id: fail_id sets status, error (?3)
 * and updated_at (?4) while the row is still being made. */
static enum store_rc guarded_fail(struct sqlite_store *s, enum stmt_id fail_id,
				  enum stmt_id exists_id, const char *owner, const char *id,
				  const char *error, int64_t now_ms, struct error *e)
{
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, fail_id, e);
		rc = STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, error ? error : "", -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, now_ms);
			rc = step_write(c, st, "mark failed", e);
		}
		rc = guarded_end(c, rc, exists_id, owner, id, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_dataset_ready(struct store *base, const struct dataset_row *row,
					  int64_t now_ms, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, ST_DATASET_READY, e);
		rc = STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, row->owner_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, row->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, row->data_key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, row->data_bytes);
			sqlite3_bind_int64(st, 5, row->rows);
			sqlite3_bind_int64(st, 6, row->columns);
			sqlite3_bind_text(st, 7, row->encoding, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 8, row->delimiter, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 9, row->sheet, -1, SQLITE_STATIC);
			bind_text_or_null(st, 10, row->summary);
			sqlite3_bind_int64(st, 11, now_ms);
			rc = step_write(c, st, "mark dataset ready", e);
		}
		rc = guarded_end(c, rc, ST_DATASET_EXISTS, row->owner_id, row->id, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_dataset_fail(struct store *base, const char *owner, const char *id,
					 const char *error, int64_t now_ms, struct error *e)
{
	return guarded_fail(impl(base), ST_DATASET_FAIL, ST_DATASET_EXISTS, owner, id, error,
			    now_ms, e);
}

static enum store_rc sqlite_dataset_update(struct store *base, const char *owner,
					   const char *id, const char *name,
					   const char *description, int64_t now_ms,
					   struct dataset_row *out, struct error *e)
{
	struct sqlite_store *s = impl(base);
	out->options = out->summary = NULL;
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		if (name || description) {
			sqlite3_stmt *st = stmt(c, ST_DATASET_UPDATE, e);
			rc = STORE_ERROR;
			if (st) {
				sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
				bind_text_or_null(st, 3, name);
				bind_text_or_null(st, 4, description);
				sqlite3_bind_int64(st, 5, now_ms);
				rc = step_write(c, st, "update dataset", e);
			}
		}
		if (rc == STORE_OK)
			rc = dataset_lookup(c, owner, id, out, e);
		rc = tx_all_or_nothing(c, rc, e);
		if (rc != STORE_OK)   /* perhaps read, then the commit failed */
			dataset_row_clear(out);
	}
	checkin(s, c);
	return rc;
}

/* Runs a write bound to (owner, id) and, when now_ms >= 0, ?3 = now_ms. */
static enum store_rc write_owned(struct conn *c, enum stmt_id id, const char *owner,
				 const char *key, int64_t now_ms, const char *what,
				 struct error *e)
{
	sqlite3_stmt *st = stmt(c, id, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (now_ms >= 0)
		sqlite3_bind_int64(st, 3, now_ms);
	return step_write(c, st, what, e) == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

static enum store_rc dataset_keys(struct conn *c, const char *owner, const char *id,
				  struct store_keys *out, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_DATASET_KEYS, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read dataset keys", e);
	if (rc == STORE_OK) {
		out->keys = xcalloc(2, sizeof *out->keys);
		for (int col = 0; col < 2; col++) {
			const unsigned char *k = sqlite3_column_text(st, col);
			if (k && *k)
				out->keys[out->n++] = xstrdup((const char *)k);
		}
	}
	sqlite3_reset(st);
	return rc;
}

static enum store_rc sqlite_dataset_delete(struct store *base, const char *owner,
					   const char *id, struct store_keys *orphans,
					   struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	struct store_keys keys = { NULL, 0 };
	int64_t now_ms = clock_now_ms();
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		rc = dataset_keys(c, owner, id, &keys, e);
		/* Queued jobs never start; running ones see the flag at their next
		 * progress report.  Shares would go by cascade, but say so. */
		if (rc == STORE_OK)
			rc = write_owned(c, ST_SUBJECT_JOBS_CANCEL, owner, id, now_ms,
					 "cancel dataset jobs", e);
		if (rc == STORE_OK)
			rc = write_owned(c, ST_SUBJECT_JOBS_ASK_CANCEL, owner, id, -1,
					 "cancel dataset jobs", e);
		if (rc == STORE_OK)
			rc = write_owned(c, ST_SHARE_DELETE_OF, owner, id, -1,
					 "delete dataset shares", e);
		if (rc == STORE_OK) {
			sqlite3_stmt *st = stmt(c, ST_DATASET_DELETE, e);
			rc = STORE_ERROR;
			if (st) {
				sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
				sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
				rc = step_write(c, st, "delete dataset", e);
			}
		}
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	if (rc == STORE_OK && orphans)
		*orphans = keys;
	else
		store_keys_free(&keys);
	return rc;
}

static enum store_rc sqlite_dataset_key_exists(struct store *base, const char *key,
					       bool *exists, struct error *e)
{
	return key_listed(impl(base), ST_DATASET_KEY_EXISTS, key, exists, e);
}

static void read_share(sqlite3_stmt *st, struct share_row *out)
{
	column_text(st, 0, out->id, sizeof out->id);
	column_text(st, 1, out->dataset_id, sizeof out->dataset_id);
	column_text(st, 2, out->owner_id, sizeof out->owner_id);
	column_text(st, 3, out->token_hash, sizeof out->token_hash);
	out->created_at = sqlite3_column_int64(st, 4);
	out->expires_at = sqlite3_column_int64(st, 5);
	out->revoked_at = sqlite3_column_int64(st, 6);
}

static void read_share_row(sqlite3_stmt *st, void *row)
{
	read_share(st, row);
}

static enum store_rc sqlite_share_create(struct store *base, const struct share_row *row,
					 struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	/* One statement: the insert happens only if the dataset is the owner's. */
	sqlite3_stmt *st = stmt(c, ST_SHARE_INSERT, e);
	if (st) {
		sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, row->dataset_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, row->owner_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, row->token_hash, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, row->created_at);
		sqlite3_bind_int64(st, 6, row->expires_at);
		sqlite3_bind_int64(st, 7, row->revoked_at);
		int step = sqlite3_step(st);
		if (step == SQLITE_DONE)
			rc = sqlite3_changes(c->db) ? STORE_OK : STORE_NOT_FOUND;
		else if (is_constraint(c, SQLITE_CONSTRAINT_PRIMARYKEY) ||
			 is_constraint(c, SQLITE_CONSTRAINT_UNIQUE))
			rc = STORE_CONFLICT;
		else
			rc = fail(e, c->db, "insert share");
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc share_resolve_in_tx(struct conn *c, const char *token_hash,
					 int64_t now_ms, struct share_row *share,
					 struct dataset_row *dataset, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_SHARE_LIVE, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now_ms);
	enum store_rc rc = step_row(c, st, "read share", e);
	if (rc == STORE_OK)
		read_share(st, share);
	sqlite3_reset(st);
	if (rc == STORE_OK)
		rc = dataset_lookup(c, share->owner_id, share->dataset_id, dataset, e);
	return rc;
}

static enum store_rc sqlite_share_resolve(struct store *base, const char *token_hash,
					  int64_t now_ms, struct share_row *share,
					  struct dataset_row *dataset, struct error *e)
{
	struct sqlite_store *s = impl(base);
	dataset->options = dataset->summary = NULL;
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN, e);
	if (rc == STORE_OK) {
		rc = tx_end(c, share_resolve_in_tx(c, token_hash, now_ms, share, dataset, e), e);
		if (rc != STORE_OK)
			dataset_row_clear(dataset);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc share_list_in_tx(struct conn *c, const char *owner, const char *dataset_id,
				      struct share_row **rows, size_t *n, struct error *e)
{
	enum store_rc rc = dataset_exists(c, owner, dataset_id, e);
	if (rc != STORE_OK)
		return rc;
	sqlite3_stmt *st = stmt(c, ST_SHARE_LIST, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dataset_id, -1, SQLITE_STATIC);
	return collect_rows(c, st, 0, sizeof **rows, read_share_row, (void **)rows, n,
			    "list shares", e);
}

static enum store_rc sqlite_share_list(struct store *base, const char *owner,
				       const char *dataset_id, struct share_row **rows, size_t *n,
				       struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	*rows = NULL;
	*n = 0;
	enum store_rc rc = run(c, ST_BEGIN, e);
	if (rc == STORE_OK)
		rc = tx_end(c, share_list_in_tx(c, owner, dataset_id, rows, n, e), e);
	if (rc != STORE_OK) {
		free(*rows);
		*rows = NULL;
		*n = 0;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_share_revoke(struct store *base, const char *owner,
					 const char *dataset_id, const char *share_id,
					 int64_t now_ms, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, ST_SHARE_REVOKE, e);
	if (st) {
		sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, dataset_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, share_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, now_ms);
		rc = step_write(c, st, "revoke share", e);
	}
	checkin(s, c);
	return rc;
}

static void read_job(sqlite3_stmt *st, struct job_row *out)
{
	column_text(st, 0, out->id, sizeof out->id);
	column_text(st, 1, out->owner_id, sizeof out->owner_id);
	column_text(st, 2, out->kind, sizeof out->kind);
	column_text(st, 3, out->subject_id, sizeof out->subject_id);
	column_text(st, 4, out->status, sizeof out->status);
	out->progress = sqlite3_column_int64(st, 5);
	column_text(st, 6, out->message, sizeof out->message);
	column_text(st, 7, out->error, sizeof out->error);
	out->payload = column_dup(st, 8);
	if (!out->payload)
		out->payload = xstrdup("{}");
	out->result = column_dup(st, 9);
	out->attempts = sqlite3_column_int64(st, 10);
	out->cancel_requested = sqlite3_column_int64(st, 11) != 0;
	column_text(st, 12, out->worker, sizeof out->worker);
	out->heartbeat_at = sqlite3_column_int64(st, 13);
	out->created_at = sqlite3_column_int64(st, 14);
	out->started_at = sqlite3_column_int64(st, 15);
	out->finished_at = sqlite3_column_int64(st, 16);
}

static void read_job_row(sqlite3_stmt *st, void *row)
{
	read_job(st, row);
}

static enum store_rc sqlite_job_create(struct store *base, const struct job_row *job,
				       struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK)
		rc = tx_all_or_nothing(c, insert_job(c, job, job->subject_id, e), e);
	checkin(s, c);
	return rc;
}

static enum store_rc job_lookup(struct conn *c, const char *id, struct job_row *out,
				struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_JOB_GET, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read job", e);
	if (rc == STORE_OK)
		read_job(st, out);
	sqlite3_reset(st);
	return rc;
}

static enum store_rc sqlite_job_get(struct store *base, const char *id, struct job_row *out,
				    struct error *e)
{
	struct sqlite_store *s = impl(base);
	out->payload = out->result = NULL;
	struct conn *c = checkout(s);
	enum store_rc rc = job_lookup(c, id, out, e);
	checkin(s, c);
	return rc;
}

static bool kind_wanted(const char *kind, const char *const *kinds, size_t nkinds)
{
	if (!kinds || nkinds == 0)
		return true;
	for (size_t i = 0; i < nkinds; i++)
		if (strcmp(kinds[i], kind) == 0)
			return true;
	return false;
}

/*
 * The id of the job to claim into id: only_id if it is queued and of one
 * of kinds, else the oldest queued job of one of kinds (one indexed lookup
 * per kind).  STORE_NOT_FOUND when there is none.
 */
static enum store_rc job_pick(struct conn *c, const char *const *kinds, size_t nkinds,
			      const char *only_id, char *id, size_t cap, struct error *e)
{
	sqlite3_stmt *st;
	enum store_rc rc;
	if (only_id) {
		if (!(st = stmt(c, ST_JOB_QUEUED_KIND, e)))
			return STORE_ERROR;
		sqlite3_bind_text(st, 1, only_id, -1, SQLITE_STATIC);
		rc = step_row(c, st, "read job", e);
		if (rc == STORE_OK && !kind_wanted((const char *)sqlite3_column_text(st, 0), kinds,
						   nkinds))
			rc = STORE_NOT_FOUND;
		sqlite3_reset(st);
		if (rc == STORE_OK)
			snprintf(id, cap, "%s", only_id);
		return rc;
	}
	bool any = !kinds || nkinds == 0;
	int64_t best_at = 0;
	rc = STORE_NOT_FOUND;
	for (size_t i = 0; i < (any ? 1 : nkinds); i++) {
		if (!(st = stmt(c, any ? ST_JOB_NEXT : ST_JOB_NEXT_OF_KIND, e)))
			return STORE_ERROR;
		if (!any)
			sqlite3_bind_text(st, 1, kinds[i], -1, SQLITE_STATIC);
		enum store_rc one = step_row(c, st, "find queued job", e);
		if (one == STORE_ERROR) {
			sqlite3_reset(st);
			return STORE_ERROR;
		}
		if (one == STORE_OK) {
			const char *cand = (const char *)sqlite3_column_text(st, 0);
			int64_t at = sqlite3_column_int64(st, 1);
			if (rc == STORE_NOT_FOUND || at < best_at ||
			    (at == best_at && strcmp(cand, id) < 0)) {
				snprintf(id, cap, "%s", cand);
				best_at = at;
				rc = STORE_OK;
			}
		}
		sqlite3_reset(st);
	}
	return rc;
}

static enum store_rc sqlite_job_claim(struct store *base, const char *worker,
				      const char *const *kinds, size_t nkinds,
				      const char *only_id, int64_t now_ms, struct job_row *out,
				      struct error *e)
{
	struct sqlite_store *s = impl(base);
	out->payload = out->result = NULL;
	struct conn *c = checkout(s);
	char id[USER_ID_MAX + 1] = "";
	/* Idle workers poll: a plain read first, so an empty queue never takes
	 * the write lock from the ones that have work to record. */
	enum store_rc rc = job_pick(c, kinds, nkinds, only_id, id, sizeof id, e);
	/* IMMEDIATE: the pick and the update hold the write lock together, so
	 * no other thread or process can claim the same job in between. */
	if (rc == STORE_OK)
		rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		rc = job_pick(c, kinds, nkinds, only_id, id, sizeof id, e);
		sqlite3_stmt *st = rc == STORE_OK ? stmt(c, ST_JOB_START, e) : NULL;
		if (st) {
			sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, worker, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, now_ms);
			rc = step_write(c, st, "claim job", e);
		} else if (rc == STORE_OK) {
			rc = STORE_ERROR;
		}
		if (rc == STORE_OK)
			rc = job_lookup(c, id, out, e);
		rc = tx_all_or_nothing(c, rc, e);
		if (rc != STORE_OK)
			job_row_clear(out);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_job_progress(struct store *base, const char *id, const char *worker,
					 int64_t progress, const char *message, int64_t now_ms,
					 bool *cancel, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	*cancel = false;
	sqlite3_stmt *st = stmt(c, ST_JOB_PROGRESS, e);
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, worker, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, progress);
		bind_text_or_null(st, 4, message);
		sqlite3_bind_int64(st, 5, now_ms);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			*cancel = sqlite3_column_int64(st, 0) != 0;
			step = sqlite3_step(st);
			rc = STORE_OK;
		} else if (step == SQLITE_DONE) {
			rc = STORE_CONFLICT;
		}
		if (step != SQLITE_DONE)
			rc = fail(e, c->db, "record job progress");
		sqlite3_reset(st);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_job_heartbeat(struct store *base, const char *worker,
					  int64_t now_ms, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = STORE_ERROR;
	sqlite3_stmt *st = stmt(c, ST_JOB_HEARTBEAT, e);
	if (st) {
		sqlite3_bind_text(st, 1, worker, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now_ms);
		rc = step_write(c, st, "job heartbeat", e) == STORE_ERROR ? STORE_ERROR : STORE_OK;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_job_finish(struct store *base, const char *id, const char *worker,
				       const char *status, const char *result, const char *error,
				       int64_t now_ms, struct error *e)
{
	struct sqlite_store *s = impl(base);
	bool requeue = strcmp(status, "queued") == 0;
	if (!requeue && strcmp(status, "done") != 0 && strcmp(status, "failed") != 0 &&
	    strcmp(status, "cancelled") != 0) {
		error_set(e, "job %s cannot finish as \"%.40s\"", id, status);
		return STORE_ERROR;
	}
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	sqlite3_stmt *st = rc == STORE_OK ? stmt(c, requeue ? ST_JOB_REQUEUE : ST_JOB_FINISH, e)
					  : NULL;
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, worker, -1, SQLITE_STATIC);
		if (!requeue) {
			sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 5, error ? error : "", -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 6, now_ms);
		}
		rc = step_write(c, st, "finish job", e);
		if (rc == STORE_NOT_FOUND)
			rc = STORE_CONFLICT;
		if (rc == STORE_OK && !requeue) {
			st = stmt(c, ST_JOB_DATA_RESULT, e);
			rc = STORE_ERROR;
			if (st) {
				sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
				bind_text_or_null(st, 2, result);
				rc = step_write(c, st, "record job result", e) == STORE_ERROR
				     ? STORE_ERROR : STORE_OK;
			}
		}
		rc = tx_all_or_nothing(c, rc, e);
	} else if (rc == STORE_OK) {
		run(c, ST_ROLLBACK, NULL);
		rc = STORE_ERROR;
	}
	checkin(s, c);
	return rc;
}

static enum store_rc job_cancel_in_tx(struct conn *c, const char *owner, const char *id,
				      int64_t now_ms, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_JOB_STATE, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	enum store_rc rc = step_row(c, st, "read job", e);
	enum stmt_id action = ST_COUNT;
	if (rc == STORE_OK) {
		const char *job_owner = (const char *)sqlite3_column_text(st, 0);
		const char *status = (const char *)sqlite3_column_text(st, 1);
		if (owner && strcmp(owner, job_owner ? job_owner : "") != 0)
			rc = STORE_NOT_FOUND;
		else if (status && strcmp(status, "queued") == 0)
			action = ST_JOB_CANCEL_QUEUED;
		else if (status && strcmp(status, "running") == 0)
			action = ST_JOB_ASK_CANCEL;
		else
			rc = STORE_CONFLICT;
	}
	sqlite3_reset(st);
	if (rc != STORE_OK)
		return rc;
	if (!(st = stmt(c, action, e)))
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (action == ST_JOB_CANCEL_QUEUED)
		sqlite3_bind_int64(st, 2, now_ms);
	rc = step_write(c, st, "cancel job", e);
	return rc == STORE_NOT_FOUND ? STORE_ERROR : rc;   /* the lock makes it impossible */
}

static enum store_rc sqlite_job_cancel(struct store *base, const char *owner, const char *id,
				       int64_t now_ms, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		rc = job_cancel_in_tx(c, owner, id, now_ms, e);
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc job_recover_in_tx(struct conn *c, int64_t stale_before,
				       int64_t max_attempts, int64_t now_ms,
				       struct job_row **failed, size_t *nfailed, size_t *requeued,
				       struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_JOB_STALE_SPENT, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, stale_before);
	sqlite3_bind_int64(st, 2, max_attempts);
	enum store_rc rc = collect_rows(c, st, 0, sizeof **failed, read_job_row, (void **)failed,
					nfailed, "find interrupted jobs", e);
	for (size_t i = 0; rc == STORE_OK && i < *nfailed; i++) {
		struct job_row *j = &(*failed)[i];
		snprintf(j->status, sizeof j->status, "failed");
		snprintf(j->error, sizeof j->error, "interrupted %lld times",
			 (long long)j->attempts);
		j->worker[0] = '\0';
		j->finished_at = now_ms;
		if (!(st = stmt(c, ST_JOB_FAIL_INTERRUPTED, e)))
			return STORE_ERROR;
		sqlite3_bind_text(st, 1, j->id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, j->error, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, now_ms);
		rc = step_write(c, st, "fail interrupted job", e);
	}
	if (rc != STORE_OK)
		return STORE_ERROR;
	if (!(st = stmt(c, ST_JOB_RECOVER, e)))
		return STORE_ERROR;
	sqlite3_bind_int64(st, 1, stale_before);
	sqlite3_bind_int64(st, 2, max_attempts);
	if (step_write(c, st, "requeue interrupted jobs", e) == STORE_ERROR)
		return STORE_ERROR;
	*requeued = (size_t)sqlite3_changes(c->db);
	return STORE_OK;
}

static enum store_rc sqlite_job_recover(struct store *base, int64_t stale_before,
					int64_t max_attempts, int64_t now_ms,
					struct job_row **failed, size_t *nfailed, size_t *requeued,
					struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct job_row *rows = NULL;
	size_t n = 0, back = 0;
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK)
		rc = tx_end(c, job_recover_in_tx(c, stale_before, max_attempts, now_ms, &rows, &n,
						 &back, e), e);
	checkin(s, c);
	if (rc != STORE_OK) {
		for (size_t i = 0; i < n; i++)
			job_row_clear(&rows[i]);
		free(rows);
		rows = NULL;
		n = back = 0;
	}
	if (failed) {
		*failed = rows;
	} else {
		for (size_t i = 0; i < n; i++)
			job_row_clear(&rows[i]);
		free(rows);
	}
	if (nfailed)
		*nfailed = n;
	if (requeued)
		*requeued = back;
	return rc;
}

static enum store_rc sqlite_job_create_bounded(struct store *base, const struct job_row *job,
					       int64_t max_active, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, ST_JOB_ACTIVE_OF_KIND, e);
		rc = st ? STORE_OK : STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, job->kind, -1, SQLITE_STATIC);
			rc = step_row(c, st, "count jobs", e);
			if (rc == STORE_OK && sqlite3_column_int64(st, 0) >= max_active)
				rc = STORE_FULL;
			sqlite3_reset(st);
		}
		if (rc == STORE_OK)
			rc = insert_job(c, job, job->subject_id, e);
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

/* ---- models ------------------------------------------------------------ */

static void read_model(sqlite3_stmt *st, struct model_row *out)
{
	column_text(st, 0, out->id, sizeof out->id);
	column_text(st, 1, out->owner_id, sizeof out->owner_id);
	column_text(st, 2, out->name, sizeof out->name);
	out->version = sqlite3_column_int64(st, 3);
	column_text(st, 4, out->dataset_id, sizeof out->dataset_id);
	column_text(st, 5, out->target, sizeof out->target);
	column_text(st, 6, out->task, sizeof out->task);
	column_text(st, 7, out->status, sizeof out->status);
	column_text(st, 8, out->error, sizeof out->error);
	column_text(st, 9, out->job_id, sizeof out->job_id);
	out->progress = sqlite3_column_int64(st, 10);
	column_text(st, 11, out->storage_key, sizeof out->storage_key);
	out->size_bytes = sqlite3_column_int64(st, 12);
	out->spec = column_dup(st, 13);
	if (!out->spec)
		out->spec = xstrdup("{}");
	out->info = column_dup(st, 14);
	out->created_at = sqlite3_column_int64(st, 15);
	out->updated_at = sqlite3_column_int64(st, 16);
}

static void read_model_row(sqlite3_stmt *st, void *row)
{
	read_model(st, row);
}

static enum store_rc insert_model(struct conn *c, struct model_row *m, struct error *e)
{
	sqlite3_stmt *st = stmt(c, ST_MODEL_INSERT, e);
	if (!st)
		return STORE_ERROR;
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, m->owner_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, m->dataset_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, m->task, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, m->job_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, m->spec ? m->spec : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, m->created_at);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		m->version = sqlite3_column_int64(st, 0);
		step = sqlite3_step(st);
	}
	sqlite3_reset(st);
	if (step == SQLITE_DONE)
		return STORE_OK;
	return is_constraint(c, SQLITE_CONSTRAINT_PRIMARYKEY) ? STORE_CONFLICT
							       : fail(e, c->db, "insert model");
}

static enum store_rc sqlite_model_create(struct store *base, struct model_row *row,
					 const struct job_row *job, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		rc = insert_model(c, row, e);
		if (rc == STORE_OK)
			rc = insert_job(c, job, row->id, e);
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_model_get(struct store *base, const char *owner, const char *id,
				      struct model_row *out, struct error *e)
{
	out->spec = out->info = NULL;
	return owned_get(impl(base), ST_MODEL_GET, owner, id, read_model_row, out, "read model", e);
}

static enum store_rc sqlite_model_list(struct store *base, const char *owner, int64_t limit,
				       int64_t offset, struct model_row **rows, size_t *n,
				       int64_t *total, struct error *e)
{
	struct sqlite_store *s = impl(base);
	*rows = NULL;
	*n = 0;
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN, e);
	if (rc == STORE_OK)
		rc = tx_end(c, owned_page_in_tx(c, ST_MODEL_COUNT, ST_MODEL_LIST, owner, limit, offset,
						sizeof **rows, read_model_row, (void **)rows, n, total,
						"list models", e), e);
	checkin(s, c);
	if (rc != STORE_OK) {
		model_rows_free(*rows, *n);
		*rows = NULL;
		*n = 0;
	}
	return rc;
}



static enum store_rc sqlite_model_ready(struct store *base, const struct model_row *row,
					int64_t now_ms, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, ST_MODEL_READY, e);
		rc = STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, row->owner_id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, row->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, row->storage_key, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 4, row->size_bytes);
			bind_text_or_null(st, 5, row->info);
			sqlite3_bind_int64(st, 6, now_ms);
			rc = step_write(c, st, "mark model ready", e);
		}
		rc = guarded_end(c, rc, ST_MODEL_KEY, row->owner_id, row->id, e);
	}
	checkin(s, c);
	return rc;
}

static enum store_rc sqlite_model_fail(struct store *base, const char *owner, const char *id,
				       const char *error, int64_t now_ms, struct error *e)
{
	return guarded_fail(impl(base), ST_MODEL_FAIL, ST_MODEL_KEY, owner, id, error, now_ms, e);
}

static enum store_rc sqlite_model_delete(struct store *base, const char *owner, const char *id,
					 struct store_keys *orphans, struct error *e)
{
	struct sqlite_store *s = impl(base);
	struct conn *c = checkout(s);
	struct store_keys keys = { NULL, 0 };
	int64_t now_ms = clock_now_ms();
	enum store_rc rc = run(c, ST_BEGIN_WRITE, e);
	if (rc == STORE_OK) {
		sqlite3_stmt *st = stmt(c, ST_MODEL_KEY, e);
		rc = STORE_ERROR;
		if (st) {
			sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			rc = step_row(c, st, "read model", e);
			const unsigned char *k = rc == STORE_OK ? sqlite3_column_text(st, 0) : NULL;
			if (k && *k) {
				keys.keys = xcalloc(1, sizeof *keys.keys);
				keys.keys[keys.n++] = xstrdup((const char *)k);
			}
			sqlite3_reset(st);
		}
		/* The training job: queued never starts, running sees the flag. */
		if (rc == STORE_OK)
			rc = write_owned(c, ST_SUBJECT_JOBS_CANCEL, owner, id, now_ms,
					 "cancel model jobs", e);
		if (rc == STORE_OK)
			rc = write_owned(c, ST_SUBJECT_JOBS_ASK_CANCEL, owner, id, -1,
					 "cancel model jobs", e);
		if (rc == STORE_OK)
			rc = write_owned(c, ST_MODEL_DELETE, owner, id, -1, "delete model", e);
		rc = tx_all_or_nothing(c, rc, e);
	}
	checkin(s, c);
	if (rc == STORE_OK && orphans)
		*orphans = keys;
	else
		store_keys_free(&keys);
	return rc;
}

static enum store_rc sqlite_model_key_exists(struct store *base, const char *key, bool *exists,
					     struct error *e)
{
	return key_listed(impl(base), ST_MODEL_KEY_EXISTS, key, exists, e);
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sqlite_close,
	.migrate = sqlite_migrate,
	.schema_version = sqlite_schema_version,
	.ping = sqlite_ping,
	.interrupt = sqlite_interrupt,
	.user_create = sqlite_user_create,
	.user_get = sqlite_user_get,
	.user_find_email = sqlite_user_find_email,
	.user_update = sqlite_user_update,
	.user_set_password = sqlite_user_set_password,
	.refresh_insert = sqlite_refresh_insert,
	.refresh_rotate = sqlite_refresh_rotate,
	.refresh_revoke = sqlite_refresh_revoke,
	.session_create = sqlite_session_create,
	.session_get = sqlite_session_get,
	.session_list = sqlite_session_list,
	.session_delete = sqlite_session_delete,
	.file_create = sqlite_file_create,
	.file_get = sqlite_file_get,
	.file_list = sqlite_file_list,
	.file_delete = sqlite_file_delete,
	.file_key_exists = sqlite_file_key_exists,
	.dataset_create = sqlite_dataset_create,
	.dataset_get = sqlite_dataset_get,
	.dataset_list = sqlite_dataset_list,
	.dataset_ready = sqlite_dataset_ready,
	.dataset_fail = sqlite_dataset_fail,
	.dataset_update = sqlite_dataset_update,
	.dataset_delete = sqlite_dataset_delete,
	.dataset_key_exists = sqlite_dataset_key_exists,
	.share_create = sqlite_share_create,
	.share_resolve = sqlite_share_resolve,
	.share_list = sqlite_share_list,
	.share_revoke = sqlite_share_revoke,
	.job_create = sqlite_job_create,
	.job_get = sqlite_job_get,
	.job_claim = sqlite_job_claim,
	.job_progress = sqlite_job_progress,
	.job_heartbeat = sqlite_job_heartbeat,
	.job_finish = sqlite_job_finish,
	.job_cancel = sqlite_job_cancel,
	.job_recover = sqlite_job_recover,
	.job_create_bounded = sqlite_job_create_bounded,
	.model_create = sqlite_model_create,
	.model_get = sqlite_model_get,
	.model_list = sqlite_model_list,
	.model_ready = sqlite_model_ready,
	.model_fail = sqlite_model_fail,
	.model_delete = sqlite_model_delete,
	.model_key_exists = sqlite_model_key_exists,
};
