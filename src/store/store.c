/* Picks the store backend from a URL; see store.h. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#include "store/backends.h"

struct store *store_open(const char *url, const struct store_options *opts, struct error *e)
{
	struct store_options o = { .connections = 1, .lock_timeout_ms = 5000 };
	if (opts) {
		o.connections = opts->connections > 0 ? opts->connections : 1;
		o.lock_timeout_ms = opts->lock_timeout_ms >= 0 ? opts->lock_timeout_ms : 5000;
	}
	if (strncmp(url, "sqlite:", 7) == 0) {
		const char *path = url + 7;
		if (strncmp(path, "//", 2) == 0)
			path += 2;
		return store_sqlite_open(path, &o, e);
	}
	error_set(e, "unsupported database URL \"%.100s\" (this build accepts sqlite:PATH)", url);
	return NULL;
}

void store_keys_free(struct store_keys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->keys[i]);
	free(k->keys);
	k->keys = NULL;
	k->n = 0;
}

void dataset_row_clear(struct dataset_row *row)
{
	if (!row)
		return;
	free(row->options);
	free(row->summary);
	row->options = row->summary = NULL;
}

void dataset_rows_free(struct dataset_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		dataset_row_clear(&rows[i]);
	free(rows);
}

void job_row_clear(struct job_row *row)
{
	if (!row)
		return;
	free(row->payload);
	free(row->result);
	row->payload = row->result = NULL;
}

void model_row_clear(struct model_row *row)
{
	if (!row)
		return;
	free(row->spec);
	free(row->info);
	row->spec = row->info = NULL;
}

void model_rows_free(struct model_row *rows, size_t n)
{
	for (size_t i = 0; rows && i < n; i++)
		model_row_clear(&rows[i]);
	free(rows);
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

enum store_rc store_migrate(struct store *st, int *applied, struct error *e)
{
	return st->ops->migrate(st, store_migrations, store_migrations_count, applied, e);
}
