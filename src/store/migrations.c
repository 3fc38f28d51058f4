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
	/* Users and refresh tokens; sessions gain an owner and become unique per
	 * owner.  Sessions made before users existed go to the built-in local
	 * user (password hash "!" matches nothing, so it cannot log in). */
	{ 2, "users",
	  "CREATE TABLE users (\n"
	  "  id TEXT PRIMARY KEY,\n"
	  "  email TEXT NOT NULL UNIQUE,\n"
	  "  name TEXT NOT NULL,\n"
	  "  password_hash TEXT NOT NULL,\n"
	  "  created_at BIGINT NOT NULL,\n"
	  "  updated_at BIGINT NOT NULL,\n"
	  "  token_version BIGINT NOT NULL\n"
	  ");\n"
	  "INSERT INTO users (id, email, name, password_hash, created_at, updated_at,\n"
	  "                   token_version)\n"
	  "  SELECT '" LOCAL_USER_ID "', 'local@localhost', 'Local user', '!',\n"
	  "         coalesce(min(created_at), 0), coalesce(min(created_at), 0), 0 FROM sessions;\n"
	  "CREATE TABLE refresh_tokens (\n"
	  "  token_hash TEXT PRIMARY KEY,\n"
	  "  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
	  "  family_id TEXT NOT NULL,\n"
	  "  created_at BIGINT NOT NULL,\n"
	  "  expires_at BIGINT NOT NULL,\n"
	  "  used_at BIGINT,\n"
	  "  revoked_at BIGINT\n"
	  ");\n"
	  "CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);\n"
	  "CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id, expires_at);\n"
	  "CREATE TABLE owned_sessions (\n"
	  "  owner_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
	  "  id TEXT NOT NULL,\n"
	  "  created_at BIGINT NOT NULL,\n"
	  "  updated_at BIGINT NOT NULL,\n"
	  "  PRIMARY KEY (owner_id, id)\n"
	  ");\n"
	  "INSERT INTO owned_sessions (owner_id, id, created_at, updated_at)\n"
	  "  SELECT '" LOCAL_USER_ID "', id, created_at, updated_at FROM sessions;\n"
	  "DROP TABLE sessions;\n"
	  "ALTER TABLE owned_sessions RENAME TO sessions;\n"
	  "CREATE INDEX sessions_by_owner_created ON sessions (owner_id, created_at, id);\n" },
	/* Uploaded files: metadata here, bytes in object storage under storage_key. */
	{ 3, "files",
	  "CREATE TABLE files (\n"
	  "  id TEXT PRIMARY KEY,\n"
	  "  owner_id TEXT NOT NULL,\n"
	  "  session_id TEXT NOT NULL,\n"
	  "  filename TEXT NOT NULL,\n"
	  "  file_type TEXT NOT NULL,\n"
	  "  size BIGINT NOT NULL,\n"
	  "  sha256 TEXT NOT NULL,\n"
	  "  storage_key TEXT NOT NULL UNIQUE,\n"
	  "  uploaded_at BIGINT NOT NULL,\n"
	  "  FOREIGN KEY (owner_id, session_id) REFERENCES sessions (owner_id, id)\n"
	  "    ON DELETE CASCADE\n"
	  ");\n"
	  "CREATE INDEX files_by_session ON files (owner_id, session_id, uploaded_at, id);\n" },
};

const size_t store_migrations_count = sizeof store_migrations / sizeof store_migrations[0];
