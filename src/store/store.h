/*
 * The metadata store: every durable record sheaf keeps about sessions (and,
 * in later issues, users, files, datasets, jobs...) goes through this
 * interface.
 *
 * A backend fills struct store_ops; callers use the store_* wrappers and
 * never learn which backend they have.  SQLite (store/sqlite.c) is the
 * embedded default; PostgreSQL will slot in behind the same operations and
 * pass the same tests (tests/unit/test_store.c).  Business code writes no
 * SQL: the SQL lives in the backends.
 *
 * All operations are safe to call from many threads at once.  Each returns
 * a store_rc; STORE_ERROR comes with a message in *e.
 */
#ifndef SHEAF_STORE_STORE_H
#define SHEAF_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/id.h"

enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND = 1,
	STORE_CONFLICT = 2,     /* a unique key is taken */
	STORE_ERROR = -1,
};

struct session_row {
	char id[SESSION_ID_MAX + 1];
	int64_t created_at;     /* ms since the epoch */
	int64_t updated_at;
	int64_t file_count;
};

/* One schema change.  Versions are applied in increasing order, each in its own transaction. */
struct migration {
	int version;
	const char *name;
	const char *sql;        /* portable SQL: runs on SQLite and PostgreSQL alike */
};

/* The migrations this binary knows, in order (store/migrations.c). */
extern const struct migration store_migrations[];
extern const size_t store_migrations_count;

struct store;

struct store_ops {
	const char *name;
	void (*close)(struct store *st);
	/* Applies the migrations newer than the recorded version; *applied counts them. */
	enum store_rc (*migrate)(struct store *st, const struct migration *list, size_t n,
				 int *applied, struct error *e);
	/* The highest applied migration version (0 for an empty store). */
	enum store_rc (*schema_version)(struct store *st, int *version, struct error *e);
	/* A cheap check that the store can be read and written now. */
	enum store_rc (*ping)(struct store *st, struct error *e);
	/* From any thread: operations waiting or running now, and all later ones,
	 * fail quickly.  For shutdown, so no request outlives its deadline. */
	void (*interrupt)(struct store *st);

	enum store_rc (*session_create)(struct store *st, const char *id, int64_t now_ms,
					struct session_row *out, struct error *e);
	enum store_rc (*session_get)(struct store *st, const char *id, struct session_row *out,
				     struct error *e);
	/* Newest first.  *rows is malloc'd (caller frees), *n rows, *total in the store. */
	enum store_rc (*session_list)(struct store *st, int64_t limit, int64_t offset,
				      struct session_row **rows, size_t *n, int64_t *total,
				      struct error *e);
	enum store_rc (*session_delete)(struct store *st, const char *id, struct error *e);
};

struct store {
	const struct store_ops *ops;
};

struct store_options {
	int connections;        /* concurrent users; < 1 means 1 */
	int lock_timeout_ms;    /* how long an operation waits for a lock; < 0 means 5000 */
};

/*
 * Opens the store named by url ("sqlite:PATH"; the directory is created).
 * opts may be NULL for the defaults.  Does not migrate.  Returns NULL with
 * e set on failure.
 */
struct store *store_open(const char *url, const struct store_options *opts, struct error *e);
void store_close(struct store *st);   /* NULL is fine */

/* Brings the schema up to date with store_migrations. */
enum store_rc store_migrate(struct store *st, int *applied, struct error *e);

static inline enum store_rc store_ping(struct store *st, struct error *e)
{
	return st->ops->ping(st, e);
}

static inline void store_interrupt(struct store *st)
{
	st->ops->interrupt(st);
}

static inline enum store_rc store_session_create(struct store *st, const char *id,
						 int64_t now_ms, struct session_row *out,
						 struct error *e)
{
	return st->ops->session_create(st, id, now_ms, out, e);
}

static inline enum store_rc store_session_get(struct store *st, const char *id,
					      struct session_row *out, struct error *e)
{
	return st->ops->session_get(st, id, out, e);
}

static inline enum store_rc store_session_list(struct store *st, int64_t limit, int64_t offset,
					       struct session_row **rows, size_t *n,
					       int64_t *total, struct error *e)
{
	return st->ops->session_list(st, limit, offset, rows, n, total, e);
}

static inline enum store_rc store_session_delete(struct store *st, const char *id,
						 struct error *e)
{
	return st->ops->session_delete(st, id, e);
}

#endif
