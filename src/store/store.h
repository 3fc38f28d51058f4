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
	STORE_FULL = 4,         /* a bounded queue has no room */
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

#define DATASET_NAME_MAX 255         /* bytes */
#define DATASET_DESCRIPTION_MAX 4000 /* bytes */
#define DATASET_ERROR_MAX 1024       /* bytes of a failure message */
#define DATASET_TEXT_MAX 63          /* format, encoding, delimiter, status */

/* A dataset: metadata here, its bytes in object storage (the upload as sent
 * under original_key; the immutable SQLite file of this version under
 * data_key once ingested).  status is "processing", "ready" or "failed". */
struct dataset_row {
	char id[USER_ID_MAX + 1];
	char owner_id[USER_ID_MAX + 1];
	char name[DATASET_NAME_MAX + 1];
	char description[DATASET_DESCRIPTION_MAX + 1];
	char source_name[FILE_NAME_MAX + 1];  /* the uploaded file's display name */
	char format[DATASET_TEXT_MAX + 1];    /* csv, xlsx, xls */
	char status[DATASET_TEXT_MAX + 1];
	char error[DATASET_ERROR_MAX + 1];    /* why it failed; "" otherwise */
	char job_id[USER_ID_MAX + 1];         /* the ingest job; "" when none */
	int64_t progress;                     /* per mille of the ingest job, 1000 when ready */
	int64_t version;                      /* 1 for an upload */
	char parent_id[USER_ID_MAX + 1];      /* the dataset it derives from; "" for uploads */
	int64_t size_bytes;                   /* of the original upload */
	char original_key[STORAGE_KEY_MAX + 1];
	char data_key[STORAGE_KEY_MAX + 1];   /* "" until ready */
	int64_t data_bytes;                   /* of the SQLite file; 0 until ready */
	int64_t rows;                         /* 0 until ready */
	int64_t columns;
	char encoding[DATASET_TEXT_MAX + 1];  /* detected or given; "" for spreadsheets */
	char delimiter[DATASET_TEXT_MAX + 1]; /* "," ";" "\t" "|"; "" for spreadsheets */
	char sheet[DATASET_NAME_MAX + 1];     /* the sheet read; "" for CSV */
	char *options;      /* malloc'd JSON object: the ingest options asked for */
	char *summary;      /* malloc'd JSON object: columns_info, warnings (NULL until ready) */
	int64_t created_at; /* ms since the epoch */
	int64_t updated_at;
};

/* Frees options and summary (not the row itself); NULL is fine. */
void dataset_row_clear(struct dataset_row *row);
/* Frees an array from dataset_list and its rows' strings. */
void dataset_rows_free(struct dataset_row *rows, size_t n);

/* How dataset_list orders: newest first is the default. */
enum dataset_sort {
	DATASET_SORT_NEWEST,
	DATASET_SORT_OLDEST,
	DATASET_SORT_NAME,       /* by name, A to Z (byte order), then newest */
	DATASET_SORT_NAME_DESC,
	DATASET_SORT_ROWS,       /* most rows first */
	DATASET_SORT_SIZE,       /* largest upload first */
};

/* A share link of a dataset.  Only the SHA-256 of the token is kept. */
struct share_row {
	char id[USER_ID_MAX + 1];
	char dataset_id[USER_ID_MAX + 1];
	char owner_id[USER_ID_MAX + 1];
	char token_hash[65];        /* hex SHA-256 of the token */
	int64_t created_at;
	int64_t expires_at;
	int64_t revoked_at;         /* 0 while live */
};

#define JOB_KIND_MAX 31
#define JOB_STATUS_MAX 15
#define JOB_MESSAGE_MAX 255
#define JOB_ERROR_MAX 1024
#define JOB_WORKER_MAX 127

/* A background job.  status: "queued", "running", "done", "failed",
 * "cancelled". */
struct job_row {
	char id[USER_ID_MAX + 1];
	char owner_id[USER_ID_MAX + 1];
	char kind[JOB_KIND_MAX + 1];          /* "ingest", later "train", "predict_batch" */
	char subject_id[USER_ID_MAX + 1];     /* what it works on (a dataset id...); may be "" */
	char status[JOB_STATUS_MAX + 1];
	int64_t progress;                     /* per mille */
	char message[JOB_MESSAGE_MAX + 1];    /* what it is doing now, for people */
	char error[JOB_ERROR_MAX + 1];        /* why it failed; "" otherwise */
	char *payload;                        /* malloc'd JSON: the job's input */
	char *result;                         /* malloc'd JSON or NULL */
	int64_t attempts;                     /* times it was started */
	bool cancel_requested;
	char worker[JOB_WORKER_MAX + 1];      /* who runs it ("" when not running) */
	int64_t heartbeat_at;                 /* last sign of life of its worker; 0 */
	int64_t created_at;
	int64_t started_at;                   /* 0 until started */
	int64_t finished_at;                  /* 0 until finished */
};

void job_row_clear(struct job_row *row);   /* frees payload and result; NULL is fine */

#define MODEL_TEXT_MAX 15

/* A trained model: metadata here, the model's bytes in object storage
 * under storage_key once trained.  status is "training", "ready" or
 * "failed".  Models of one owner with one name are versions 1, 2, ... */
struct model_row {
	char id[USER_ID_MAX + 1];
	char owner_id[USER_ID_MAX + 1];
	char name[DATASET_NAME_MAX + 1];
	int64_t version;                      /* set by model_create */
	char dataset_id[USER_ID_MAX + 1];     /* trained on; may since be deleted */
	char target[DATASET_NAME_MAX + 1];    /* the column predicted */
	char task[MODEL_TEXT_MAX + 1];        /* "regression" or "classification" */
	char status[MODEL_TEXT_MAX + 1];
	char error[DATASET_ERROR_MAX + 1];    /* why training failed; "" otherwise */
	char job_id[USER_ID_MAX + 1];         /* the training job */
	int64_t progress;                     /* per mille of the job, 1000 when ready */
	char storage_key[STORAGE_KEY_MAX + 1];/* "" until ready */
	int64_t size_bytes;                   /* of the stored model; 0 until ready */
	char *spec;     /* malloc'd JSON object: what was asked (features, params, validation) */
	char *info;     /* malloc'd JSON object: model_info once ready, else NULL */
	int64_t created_at;
	int64_t updated_at;
};

void model_row_clear(struct model_row *row);          /* frees spec and info; NULL is fine */
void model_rows_free(struct model_row *rows, size_t n);

/* One schema change.  Versions are applied in increasing order, all the pending ones in one
 * transaction. */
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
	/* Applies the migrations newer than the recorded version, all in one transaction: on
	 * failure none is (e names the migration, if one failed).  *applied counts them. */
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
	/* Datasets belong to owner_id.  Creates the row and, when job is not
	 * NULL, its ingest job in the same transaction (job->subject_id is the
	 * dataset's id).  STORE_CONFLICT when the id is taken. */
	enum store_rc (*dataset_create)(struct store *st, const struct dataset_row *row,
					const struct job_row *job, struct error *e);
	/* With progress from its job while processing.  Strings in *out are
	 * malloc'd: dataset_row_clear. */
	enum store_rc (*dataset_get)(struct store *st, const char *owner, const char *id,
				     struct dataset_row *out, struct error *e);
	enum store_rc (*dataset_list)(struct store *st, const char *owner,
				      enum dataset_sort sort, int64_t limit, int64_t offset,
				      struct dataset_row **rows, size_t *n, int64_t *total,
				      struct error *e);
	/* Ingest finished: status "ready", progress 1000, and data_key,
	 * data_bytes, rows, columns, encoding, delimiter, sheet, summary (and
	 * error "") from row; only while the dataset is "processing"
	 * (STORE_CONFLICT otherwise, e.g. deleted meanwhile: STORE_NOT_FOUND). */
	enum store_rc (*dataset_ready)(struct store *st, const struct dataset_row *row,
				       int64_t now_ms, struct error *e);
	/* Ingest failed: status "failed" with the message; only while
	 * "processing" (STORE_CONFLICT otherwise). */
	enum store_rc (*dataset_fail)(struct store *st, const char *owner, const char *id,
				      const char *error, int64_t now_ms, struct error *e);
	/* Changes name and/or description (NULL: unchanged); *out after. */
	enum store_rc (*dataset_update)(struct store *st, const char *owner, const char *id,
					const char *name, const char *description,
					int64_t now_ms, struct dataset_row *out, struct error *e);
	/* Deletes the dataset, its shares, and cancels its queued or running
	 * jobs (cancel_requested), in one transaction; its storage keys
	 * (original and data) go to *orphans for the caller to remove. */
	enum store_rc (*dataset_delete)(struct store *st, const char *owner, const char *id,
					struct store_keys *orphans, struct error *e);
	/* Whether some dataset row points at key (original or data), for the
	 * orphan sweep. */
	enum store_rc (*dataset_key_exists)(struct store *st, const char *key, bool *exists,
					    struct error *e);

	/* STORE_NOT_FOUND when the dataset is not row->owner_id's. */
	enum store_rc (*share_create)(struct store *st, const struct share_row *row,
				      struct error *e);
	/* The live share stored as token_hash (not revoked, expires_at > now)
	 * and its dataset (any owner: the token is the permission).
	 * STORE_NOT_FOUND otherwise.  *dataset as dataset_get. */
	enum store_rc (*share_resolve)(struct store *st, const char *token_hash, int64_t now_ms,
				       struct share_row *share, struct dataset_row *dataset,
				       struct error *e);
	/* The dataset's shares, newest first, revoked and expired included.
	 * STORE_NOT_FOUND when the dataset is not owner's. */
	enum store_rc (*share_list)(struct store *st, const char *owner, const char *dataset_id,
				    struct share_row **rows, size_t *n, struct error *e);
	/* Sets revoked_at (once; revoking again keeps the first time).
	 * STORE_NOT_FOUND when the share is not of owner's dataset_id. */
	enum store_rc (*share_revoke)(struct store *st, const char *owner, const char *dataset_id,
				      const char *share_id, int64_t now_ms, struct error *e);

	/* A new job, status "queued" (job->status is ignored). */
	enum store_rc (*job_create)(struct store *st, const struct job_row *job, struct error *e);
	/* Like job_create, but only while fewer than max_active jobs of
	 * job->kind are queued or running (STORE_FULL otherwise), checked and
	 * inserted in one transaction. */
	enum store_rc (*job_create_bounded)(struct store *st, const struct job_row *job,
					    int64_t max_active, struct error *e);
	/* Any owner's (the job system's own lookups); strings malloc'd: job_row_clear. */
	enum store_rc (*job_get)(struct store *st, const char *id, struct job_row *out,
				 struct error *e);
	/* Atomically takes the oldest queued job of one of the nkinds kinds
	 * (kinds NULL or nkinds 0: any kind) for worker: status "running",
	 * attempts + 1, started_at and heartbeat_at now, cancel_requested kept.
	 * With only_id (not NULL), that job (if of one of kinds) or nothing.
	 * STORE_NOT_FOUND when there is none; *out is the claimed row (strings
	 * malloc'd: job_row_clear). */
	enum store_rc (*job_claim)(struct store *st, const char *worker,
				   const char *const *kinds, size_t nkinds, const char *only_id,
				   int64_t now_ms, struct job_row *out, struct error *e);
	/* A running job's progress, message (NULL: unchanged) and heartbeat;
	 * *cancel tells whether cancellation was asked.  STORE_CONFLICT when it
	 * is no longer running for this worker. */
	enum store_rc (*job_progress)(struct store *st, const char *id, const char *worker,
				      int64_t progress, const char *message, int64_t now_ms,
				      bool *cancel, struct error *e);
	/* Heartbeat for every job worker runs. */
	enum store_rc (*job_heartbeat)(struct store *st, const char *worker, int64_t now_ms,
				       struct error *e);
	/* Ends a running job of worker: status "done" (result may be NULL),
	 * "failed" (error) or "cancelled", with finished_at now; or "queued"
	 * puts it back for a later claim (a clean shutdown: worker "", attempts
	 * - 1, so it does not count as an interruption).  STORE_CONFLICT when
	 * it is not running for this worker. */
	enum store_rc (*job_finish)(struct store *st, const char *id, const char *worker,
				    const char *status, const char *result, const char *error,
				    int64_t now_ms, struct error *e);
	/* Asks a job to stop: a queued one becomes "cancelled" at once, a
	 * running one gets cancel_requested.  STORE_NOT_FOUND when it is not
	 * owner's (owner NULL: any), STORE_CONFLICT when already finished. */
	enum store_rc (*job_cancel)(struct store *st, const char *owner, const char *id,
				    int64_t now_ms, struct error *e);
	/* Running jobs whose heartbeat is older than stale_before go back to
	 * "queued", or to "failed" ("interrupted N times") once attempts reached
	 * max_attempts; the failed ones' rows go to *failed (may be NULL) so
	 * their kinds can clean up.  *requeued counts the others. */
	enum store_rc (*job_recover)(struct store *st, int64_t stale_before, int64_t max_attempts,
				     int64_t now_ms, struct job_row **failed, size_t *nfailed,
				     size_t *requeued, struct error *e);

	/* Creates the model row ("training") and its training job (subject_id
	 * the model's id) in one transaction; row->version becomes one more
	 * than the newest version of the owner's models of that name.
	 * STORE_CONFLICT when an id is taken. */
	enum store_rc (*model_create)(struct store *st, struct model_row *row,
				      const struct job_row *job, struct error *e);
	/* With progress from its job while training; strings malloc'd:
	 * model_row_clear. */
	enum store_rc (*model_get)(struct store *st, const char *owner, const char *id,
				   struct model_row *out, struct error *e);
	/* Newest first. */
	enum store_rc (*model_list)(struct store *st, const char *owner, int64_t limit,
				    int64_t offset, struct model_row **rows, size_t *n,
				    int64_t *total, struct error *e);
	/* Training finished: status "ready", storage_key, size_bytes and info
	 * from row; only while "training" (STORE_CONFLICT otherwise;
	 * STORE_NOT_FOUND when deleted meanwhile). */
	enum store_rc (*model_ready)(struct store *st, const struct model_row *row,
				     int64_t now_ms, struct error *e);
	/* Training failed: status "failed" with the message; only while
	 * "training" (STORE_CONFLICT otherwise). */
	enum store_rc (*model_fail)(struct store *st, const char *owner, const char *id,
				    const char *error, int64_t now_ms, struct error *e);
	/* Deletes the model and cancels its queued or running jobs, in one
	 * transaction; its storage key (if any) goes to *orphans. */
	enum store_rc (*model_delete)(struct store *st, const char *owner, const char *id,
				      struct store_keys *orphans, struct error *e);
	/* Whether some model row points at key, for the orphan sweep. */
	enum store_rc (*model_key_exists)(struct store *st, const char *key, bool *exists,
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
#define store_dataset_create(st, ...) ((st)->ops->dataset_create((st), __VA_ARGS__))
#define store_dataset_get(st, ...) ((st)->ops->dataset_get((st), __VA_ARGS__))
#define store_dataset_list(st, ...) ((st)->ops->dataset_list((st), __VA_ARGS__))
#define store_dataset_ready(st, ...) ((st)->ops->dataset_ready((st), __VA_ARGS__))
#define store_dataset_fail(st, ...) ((st)->ops->dataset_fail((st), __VA_ARGS__))
#define store_dataset_update(st, ...) ((st)->ops->dataset_update((st), __VA_ARGS__))
#define store_dataset_delete(st, ...) ((st)->ops->dataset_delete((st), __VA_ARGS__))
#define store_dataset_key_exists(st, ...) ((st)->ops->dataset_key_exists((st), __VA_ARGS__))
#define store_share_create(st, ...) ((st)->ops->share_create((st), __VA_ARGS__))
#define store_share_resolve(st, ...) ((st)->ops->share_resolve((st), __VA_ARGS__))
#define store_share_list(st, ...) ((st)->ops->share_list((st), __VA_ARGS__))
#define store_share_revoke(st, ...) ((st)->ops->share_revoke((st), __VA_ARGS__))
#define store_job_create(st, ...) ((st)->ops->job_create((st), __VA_ARGS__))
#define store_job_get(st, ...) ((st)->ops->job_get((st), __VA_ARGS__))
#define store_job_claim(st, ...) ((st)->ops->job_claim((st), __VA_ARGS__))
#define store_job_progress(st, ...) ((st)->ops->job_progress((st), __VA_ARGS__))
#define store_job_heartbeat(st, ...) ((st)->ops->job_heartbeat((st), __VA_ARGS__))
#define store_job_finish(st, ...) ((st)->ops->job_finish((st), __VA_ARGS__))
#define store_job_cancel(st, ...) ((st)->ops->job_cancel((st), __VA_ARGS__))
#define store_job_recover(st, ...) ((st)->ops->job_recover((st), __VA_ARGS__))
#define store_job_create_bounded(st, ...) ((st)->ops->job_create_bounded((st), __VA_ARGS__))
#define store_model_create(st, ...) ((st)->ops->model_create((st), __VA_ARGS__))
#define store_model_get(st, ...) ((st)->ops->model_get((st), __VA_ARGS__))
#define store_model_list(st, ...) ((st)->ops->model_list((st), __VA_ARGS__))
#define store_model_ready(st, ...) ((st)->ops->model_ready((st), __VA_ARGS__))
#define store_model_fail(st, ...) ((st)->ops->model_fail((st), __VA_ARGS__))
#define store_model_delete(st, ...) ((st)->ops->model_delete((st), __VA_ARGS__))
#define store_model_key_exists(st, ...) ((st)->ops->model_key_exists((st), __VA_ARGS__))

#endif
