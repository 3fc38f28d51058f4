/*
 * The metadata store: every durable record sheaf keeps about users, their
 * refresh tokens and sessions (and, in later issues, files, datasets,
 * jobs...) goes through this interface.
 *
 * Everything a user owns is looked up by (owner, id): a row that belongs to
 * someone else is STORE_NOT_FOUND, exactly like a row that does not exist.
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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "base/id.h"

enum store_rc {
	STORE_OK = 0,
	STORE_NOT_FOUND = 1,
	STORE_CONFLICT = 2,     /* a unique key is taken */
	STORE_REUSED = 3,       /* a refresh token came back after use: its family is revoked */
	STORE_ERROR = -1,
};

#define EMAIL_MAX 254           /* bytes, RFC 5321's path limit */
#define USER_NAME_MAX 400       /* bytes */
#define USER_HASH_MAX 128       /* an argon2id string with its NUL */
#define LOCAL_USER_ID "local"   /* the built-in user of SHEAF_AUTH=off; cannot log in */

struct user_row {
	char id[USER_ID_MAX + 1];
	char email[EMAIL_MAX + 1];          /* normalised: trimmed, lower-case */
	char name[USER_NAME_MAX + 1];
	char password_hash[USER_HASH_MAX];
	int64_t created_at;                 /* ms since the epoch */
	int64_t updated_at;
	int64_t token_version;              /* access tokens carry it; a password change bumps it */
};

struct refresh_row {
	char token_hash[65];                /* hex SHA-256 of the token */
	char user_id[USER_ID_MAX + 1];
	char family_id[USER_ID_MAX + 1];    /* shared by every token rotated from one login */
	int64_t created_at;
	int64_t expires_at;
	int64_t token_version;              /* the user's, as the issuer read it */
};

#define FILE_NAME_MAX 255        /* bytes of the display name */
#define FILE_TYPE_MAX 127
#define STORAGE_KEY_MAX 1024

struct file_row {
	char id[USER_ID_MAX + 1];
	char owner_id[USER_ID_MAX + 1];
	char session_id[SESSION_ID_MAX + 1];
	char filename[FILE_NAME_MAX + 1];   /* as uploaded, made safe to display */
	char file_type[FILE_TYPE_MAX + 1];  /* MIME type found in the bytes */
	int64_t size;
	char sha256[65];                    /* hex */
	char storage_key[STORAGE_KEY_MAX + 1];
	int64_t uploaded_at;                /* ms since the epoch */
};

/* Object keys a deletion left for the caller to remove (malloc'd array of
 * malloc'd strings; free with store_keys_free). */
struct store_keys {
	char **keys;
	size_t n;
};
void store_keys_free(struct store_keys *k);

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

	/* STORE_CONFLICT when the email is taken. */
	enum store_rc (*user_create)(struct store *st, const struct user_row *row, struct error *e);
	enum store_rc (*user_get)(struct store *st, const char *id, struct user_row *out,
				  struct error *e);
	enum store_rc (*user_find_email)(struct store *st, const char *email,
					 struct user_row *out, struct error *e);
	/* Changes name and/or email (NULL: unchanged); *out is the row after.
	 * STORE_CONFLICT when the email belongs to another user. */
	enum store_rc (*user_update)(struct store *st, const char *id, const char *name,
				     const char *email, int64_t now_ms, struct user_row *out,
				     struct error *e);
	/* Replaces the password hash; with expected (not NULL), only if the stored
	 * hash is still that one (STORE_CONFLICT otherwise: it changed meanwhile).
	 * With revoke, in the same transaction, every refresh token of the user is
	 * revoked and token_version goes up by one, so access tokens issued
	 * before are refused too. */
	enum store_rc (*user_set_password)(struct store *st, const char *id, const char *hash,
					   const char *expected, bool revoke, int64_t now_ms,
					   struct error *e);

	/* Stores a new refresh token (and drops the user's expired ones);
	 * STORE_CONFLICT when the user's token_version is no longer
	 * row->token_version (the password changed since the caller read it). */
	enum store_rc (*refresh_insert)(struct store *st, const struct refresh_row *row,
					struct error *e);
	/*
	 * Atomically trades the token stored as old_hash for a new one in the same
	 * family, stored as fresh->token_hash with fresh's times (fresh->user_id
	 * and family_id are filled in).  STORE_NOT_FOUND when old_hash is unknown,
	 * expired or revoked; STORE_REUSED when it was already traded, after
	 * revoking its whole family.
	 */
	enum store_rc (*refresh_rotate)(struct store *st, const char *old_hash,
					struct refresh_row *fresh, int64_t now_ms,
					struct error *e);
	/* Revokes the family of the token stored as hash; STORE_NOT_FOUND if unknown. */
	enum store_rc (*refresh_revoke)(struct store *st, const char *hash, int64_t now_ms,
					struct error *e);

	/* Sessions belong to owner; ids are unique per owner (STORE_CONFLICT). */
	enum store_rc (*session_create)(struct store *st, const char *owner, const char *id,
					int64_t now_ms, struct session_row *out, struct error *e);
	enum store_rc (*session_get)(struct store *st, const char *owner, const char *id,
				     struct session_row *out, struct error *e);
	/* Newest first.  *rows is malloc'd (caller frees), *n rows, *total owned. */
	enum store_rc (*session_list)(struct store *st, const char *owner, int64_t limit,
				      int64_t offset, struct session_row **rows, size_t *n,
				      int64_t *total, struct error *e);
	/* Deletes the session and its files' rows in one transaction; the files'
	 * storage keys go to *orphans (may be NULL) for the caller to remove. */
	enum store_rc (*session_delete)(struct store *st, const char *owner, const char *id,
					struct store_keys *orphans, struct error *e);

	/* Adds n files (all or none) to their session (owner_id, session_id,
	 * the same in every row) and touches the session's updated_at;
	 * STORE_NOT_FOUND when there is no such session. */
	enum store_rc (*file_create)(struct store *st, const struct file_row *rows, size_t n,
				     struct error *e);
	enum store_rc (*file_get)(struct store *st, const char *owner, const char *id,
				  struct file_row *out, struct error *e);
	/* Oldest first.  STORE_NOT_FOUND when the session is not the owner's. */
	enum store_rc (*file_list)(struct store *st, const char *owner, const char *session_id,
				   int64_t limit, int64_t offset, struct file_row **rows, size_t *n,
				   int64_t *total, struct error *e);
	/* Deletes the row; *out is the row as it was (for its storage key). */
	enum store_rc (*file_delete)(struct store *st, const char *owner, const char *id,
				     struct file_row *out, struct error *e);
	/* Whether some file row points at key (for the orphan sweep). */
	enum store_rc (*file_key_exists)(struct store *st, const char *key, bool *exists,
					 struct error *e);
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

/* Every operation's wrapper: store_user_get(st, ...) calls st->ops->user_get(st, ...). */
#define store_user_create(st, ...) ((st)->ops->user_create((st), __VA_ARGS__))
#define store_user_get(st, ...) ((st)->ops->user_get((st), __VA_ARGS__))
#define store_user_find_email(st, ...) ((st)->ops->user_find_email((st), __VA_ARGS__))
#define store_user_update(st, ...) ((st)->ops->user_update((st), __VA_ARGS__))
#define store_user_set_password(st, ...) ((st)->ops->user_set_password((st), __VA_ARGS__))
#define store_refresh_insert(st, ...) ((st)->ops->refresh_insert((st), __VA_ARGS__))
#define store_refresh_rotate(st, ...) ((st)->ops->refresh_rotate((st), __VA_ARGS__))
#define store_refresh_revoke(st, ...) ((st)->ops->refresh_revoke((st), __VA_ARGS__))
#define store_session_create(st, ...) ((st)->ops->session_create((st), __VA_ARGS__))
#define store_session_get(st, ...) ((st)->ops->session_get((st), __VA_ARGS__))
#define store_session_list(st, ...) ((st)->ops->session_list((st), __VA_ARGS__))
#define store_session_delete(st, ...) ((st)->ops->session_delete((st), __VA_ARGS__))
#define store_file_create(st, ...) ((st)->ops->file_create((st), __VA_ARGS__))
#define store_file_get(st, ...) ((st)->ops->file_get((st), __VA_ARGS__))
#define store_file_list(st, ...) ((st)->ops->file_list((st), __VA_ARGS__))
#define store_file_delete(st, ...) ((st)->ops->file_delete((st), __VA_ARGS__))
#define store_file_key_exists(st, ...) ((st)->ops->file_key_exists((st), __VA_ARGS__))

#endif
