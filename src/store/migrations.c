/*
 * The schema, as an ordered list of migrations.  Append only: a released
 * migration is never edited, a change is a new version.  The SQL is the
 * portable subset both SQLite and PostgreSQL accept (TEXT, BIGINT, plain
 * indexes); timestamps are integer milliseconds since the epoch.
 */
#include "store/store.h"

const struct migration store_migrations[] = {
	{ 1, "sessions",
	  "CREATE TABLE sessions (\n"
	  "  id TEXT PRIMARY KEY,\n"
	  "  created_at BIGINT NOT NULL,\n"
	  "  updated_at BIGINT NOT NULL\n"
	  ");\n"
	  "CREATE INDEX sessions_by_created ON sessions (created_at, id);\n" },
};

const size_t store_migrations_count = sizeof store_migrations / sizeof store_migrations[0];
