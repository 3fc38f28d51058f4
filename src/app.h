/*
 * The running application: what every handler reaches through req->app.
 * Built by `sheaf serve` (main.c) before the server starts and torn down
 * after it stops; handlers only read it.  The stores, cache and hasher are
 * thread-safe.
 */
#ifndef SHEAF_APP_H
#define SHEAF_APP_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jwt.h"
#include "auth/password.h"
#include "base/config.h"
#include "blob/blob.h"
#include "cache/cache.h"
#include "files/sniff.h"
#include "files/sweep.h"
#include "frame/frame.h"
#include "jobs/jobs.h"
#include "mcp/mcp.h"
#include "mcp/sessions.h"
#include "models/eclo.h"
#include "registry/cache.h"
#include "store/store.h"

struct app {
	const struct config *cfg;
	const char *version;
	struct store *store;
	struct blob_store *blob;
	struct cache *cache;
	struct hasher *hasher;   /* argon2id with its concurrency bound */
	struct sniffer *sniffer; /* libmagic, for uploaded files' types */
	struct sweep_guard *uploading;  /* objects being written: never swept */
	struct sweeper *sweeper; /* removes orphaned objects (the server only) */
	struct jobs *jobs;
	struct job_kind job_kinds[3];  /* what jobs runs (the queue keeps the array) */       /* background jobs (dataset ingestion) */
	struct frame_cache *frames; /* datasets' columns as arrays, for the tools */
	struct model_cache *models; /* trained models, loaded and kept warm */
	struct eclo *eclo;       /* the ECLO preset's model; NULL when there is none */
	struct mcp_server *mcp;  /* the MCP dispatcher behind /mcp (the server only) */
	struct mcp_sessions *mcp_sessions; /* /mcp's 2025-era sessions */
	struct jwt_key signing_key;
	char *openapi;           /* the OpenAPI document, serialized once at start */
	size_t openapi_len;
};

enum app_role {
	APP_SERVER,   /* sheaf serve: everything */
	APP_LOCAL,    /* sheaf mcp: no password hashing, token key, type sniffing or sweeper */
};

/* Opens the parts for role (workers: store connections; hashes: password
 * hashes at once).  0, or -1 after logging why; app_close either way. */
int app_open(struct app *app, const struct config *cfg, enum app_role role, int workers,
	     int hashes);
void app_close(struct app *app);

#endif
