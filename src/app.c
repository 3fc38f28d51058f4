/*
 * Opening and closing the application's parts, shared by `sheaf serve`
 * (everything) and `sheaf mcp` (everything but the HTTP side's password
 * hasher, token key and upload type sniffer, and without the sweeper,
 * which the server runs).
 */
#include "app.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/secret.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "cli/cli.h"
#include "datasets/datasets.h"
#include "registry/preset.h"
#include "registry/registry.h"
#include "tools/tools.h"
#include "version.h"

/* The password hasher and the token signing key; -1 after logging. */
static int open_auth(struct app *app, const struct config *cfg, int hashes)
{
	struct error e;
	app->hasher = hasher_new((unsigned long long)cfg->password_ops,
				 (size_t)cfg->password_memory, hashes, &e);
	if (!app->hasher) {
		log_error("password hashing: %s", e.msg);
		return -1;
	}
	unsigned char *key;
	size_t len;
	const char *note;
	if (signing_key_load(cfg->jwt_secret, cfg->data_dir, &key, &len, &note, &e)) {
		log_error("token signing key: %s", e.msg);
		return -1;
	}
	app->signing_key.bytes = key;
	app->signing_key.len = len;
	if (note)
		log_notice("%s", note);
	if (cfg->auth == CONFIG_AUTH_OFF)
		log_notice("authentication is off (SHEAF_AUTH=off): every request acts as the "
			   "local user");
	log_info("passwords: argon2id, %lld pass(es), %lld MiB, %d at once", cfg->password_ops,
		 cfg->password_memory >> 20, hashes);
	return 0;
}

int app_open(struct app *app, const struct config *cfg, enum app_role role, int workers,
	     int hashes)
{
	struct error e;
	memset(app, 0, sizeof *app);
	app->cfg = cfg;
	app->version = SHEAF_VERSION_FULL;
	if (fs_mkdirs(cfg->data_dir, true, false, &e)) {
		log_error("%s", e.msg);
		return -1;
	}
	char *abs_dir = realpath(cfg->data_dir, NULL);
	log_notice("sheaf %s starting%s; data dir: %s", SHEAF_VERSION_FULL,
		   role == APP_SERVER ? "" : " (MCP over stdio)", abs_dir ? abs_dir : cfg->data_dir);
	free(abs_dir);
	if (!(app->store = cli_open_store(cfg, workers)))
		return -1;
	char *storage_url = config_storage_url(cfg);
	struct blob_options blob_opts = blob_options_from_config(cfg);
	bool usable = false;
	app->blob = blob_open_with(storage_url, &blob_opts, &e);
	if (!app->blob)
		log_error("cannot open object storage %s: %s", storage_url, e.msg);
	/* A store that refuses a write now (wrong keys, missing bucket, read-only
	 * disk) is said so at start, not at the first upload. */
	else if (blob_check(app->blob, &e) != BLOB_OK)
		log_error("object storage %s is not usable: %s", storage_url, e.msg);
	else
		usable = true;
	if (usable)
		log_notice("object storage: %s", storage_url);
	free(storage_url);
	if (!usable)
		return -1;
	if (!(app->cache = cache_open(cfg->cache_url, (size_t)cfg->cache_size, &e))) {
		log_error("cannot open the cache: %s", e.msg);
		return -1;
	}
	app->uploading = sweep_guard_new();
	if (role == APP_SERVER) {
		if (open_auth(app, cfg, hashes) < 0)
			return -1;
		if (!(app->sniffer = sniffer_new(workers, &e))) {
			log_error("file type detection: %s", e.msg);
			return -1;
		}
		app->sweeper = sweeper_start(app->store, app->blob, app->uploading,
					     cfg->sweep_interval, cfg->orphan_grace);
		/* Jobs that died with an earlier run go back to the queue here. */
		dataset_clean_tmp(app);
	}
	app->models = model_cache_new((size_t)cfg->model_cache);
	if (strcmp(cfg->eclo_model, "off") != 0) {
		if (!(app->eclo = eclo_preset_load(cfg->eclo_model, &e))) {
			log_error("ECLO model (SHEAF_ECLO_MODEL=%s): %s", cfg->eclo_model, e.msg);
			return -1;
		}
		log_notice("ECLO model %s", eclo_version(app->eclo));
	}
	/* The queue keeps the array, so it lives in app. */
	struct job_kind *kinds = app->job_kinds;
	kinds[0] = dataset_ingest_kind;
	kinds[1] = model_train_kind;
	kinds[2] = predict_batch_kind;
	struct jobs_options job_opts = { .workers = (int)cfg->job_workers,
					 .heartbeat_ms = cfg->job_heartbeat_ms };
	if (!(app->jobs = jobs_start(app->store, kinds, 3, &job_opts,
				     app, &e))) {
		log_error("job queue: %s", e.msg);
		return -1;
	}
	/* 0: no frame cache, the tools read the dataset file through SQL. */
	app->frames = cfg->frame_cache ? frame_cache_new((size_t)cfg->frame_cache) : NULL;
	if (tools_check(&e) < 0) {
		log_error("tool registry: %s", e.msg);
		return -1;
	}
	if (role == APP_SERVER) {
		app->mcp = mcp_server_new(app);
		app->mcp_sessions = mcp_sessions_new((size_t)cfg->mcp_sessions, cfg->mcp_session_ttl);
	}
	return 0;
}

void app_close(struct app *app)
{
	/* Running jobs stop and go back to the queue for the next start. */
	jobs_stop(app->jobs);
	mcp_sessions_free(app->mcp_sessions);
	mcp_server_free(app->mcp);
	frame_cache_free(app->frames);
	model_cache_free(app->models);
	eclo_free(app->eclo);
	sweeper_stop(app->sweeper);
	sweep_guard_free(app->uploading);
	sniffer_free(app->sniffer);
	if (app->signing_key.bytes) {
		sodium_memzero((void *)app->signing_key.bytes, app->signing_key.len);
		free((void *)app->signing_key.bytes);
	}
	hasher_free(app->hasher);
	cache_close(app->cache);
	blob_close(app->blob);
	store_close(app->store);
	free(app->openapi);
	memset(app, 0, sizeof *app);
}
