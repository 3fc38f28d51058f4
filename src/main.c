/*
 * sheaf: command-line entry and sub-commands.
 *
 *   sheaf serve      HTTP API, with MCP at /mcp
 *   sheaf mcp        MCP over stdio (cli/mcp.c)
 *   sheaf migrate    bring the metadata store's schema up to date
 *   sheaf user       add an account or set its password (cli/user.c)
 *   sheaf config     print the settings table (--markdown for the README)
 *   sheaf version
 *
 * `serve` reads the configuration, opens the stores, applies migrations,
 * starts the HTTP server, then waits for SIGINT/SIGTERM and shuts down
 * gracefully: stop accepting, let in-flight requests finish (up to
 * SHEAF_SHUTDOWN_TIMEOUT), close the stores.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "app.h"
#include "datasets/datasets.h"
#include "auth/secret.h"
#include "cli/cli.h"
#include "files/sweep.h"
#include "base/alloc.h"
#include "query/memory.h"
#include "registry/preset.h"
#include "registry/registry.h"
#include "tools/tools.h"
#include "base/clock.h"
#include "base/config.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "http/server.h"
#include "mcp/mcp.h"
#include "version.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sheaf <command> [options]\n\n"
		"commands:\n"
		"  serve     run the HTTP API server (sheaf serve --help for settings)\n"
		"  migrate   bring the metadata store's schema up to date\n"
		"  user      add an account or set its password (sheaf user --help)\n"
		"  import    ingest a CSV, TSV, XLSX or XLS file as a dataset (sheaf import --help)\n"
		"  train     train a prediction model on a file (sheaf train --help)\n"
		"  mcp       serve the Model Context Protocol on stdin/stdout (sheaf mcp --help)\n"
		"  config    print the settings table (--markdown: as a Markdown table)\n"
		"  version   print the version\n");
}

static bool wants_help(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return true;
	return false;
}

static int cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

static int workers_for(const struct config *cfg)
{
	return cfg->workers > 0 ? (int)cfg->workers : cores();
}

/* Password hashes at once: also the number of slow-work threads, which is
 * where hashing runs (http_defer). */
static int hash_threads(const struct config *cfg)
{
	if (cfg->password_concurrency > 0)
		return (int)cfg->password_concurrency;
	return cores() < 8 ? cores() : 8;
}

/* Waits for in-flight requests; a second signal cuts the wait short.
 * Returns how many requests were still running when it stopped waiting. */
static int drain(struct http_server *srv, const sigset_t *signals, long long timeout_s)
{
	int64_t deadline = clock_mono_ns() + timeout_s * 1000000000LL;
	struct timespec tick = { 0, 20 * 1000 * 1000 };
	while (http_server_inflight(srv) > 0) {
		if (clock_mono_ns() >= deadline) {
			log_warn("shutdown: %d request(s) still running after %llds; closing them",
				 http_server_inflight(srv), timeout_s);
			return http_server_inflight(srv);
		}
		if (sigtimedwait(signals, NULL, &tick) > 0) {
			log_warn("shutdown: second signal; closing %d request(s) now",
				 http_server_inflight(srv));
			return http_server_inflight(srv);
		}
	}
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		printf("usage: sheaf serve [--listen HOST:PORT] [--data-dir DIR] [options]\n\n");
		config_print_help(stdout);
		return 0;
	}
	struct config cfg;
	if (cli_load_config(&cfg, argc, argv))
		return EXIT_CONFIG;

	/* Signals are taken by sigwait in this thread only: block them before any
	 * other thread exists so the workers inherit the mask. */
	sigset_t signals;
	sigemptyset(&signals);
	sigaddset(&signals, SIGINT);
	sigaddset(&signals, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &signals, NULL);
	signal(SIGPIPE, SIG_IGN);

	int rc = 1, cut_off = 0;
	struct app app = { .cfg = &cfg, .version = SHEAF_VERSION_FULL };
	struct http_server *srv = NULL;
	struct error e;
	int workers = workers_for(&cfg);

	if (app_open(&app, &cfg, APP_SERVER, workers, hash_threads(&cfg)) < 0)
		goto out;
	json_t *doc = openapi_build(api_routes, api_routes_count, app.version, &e);
	if (!doc) {
		log_error("%s", e.msg);
		goto out;
	}
	app.openapi = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	app.openapi_len = strlen(app.openapi);
	json_decref(doc);

	struct http_server_config hc = {
		.host = cfg.listen_host,
		.port = cfg.listen_port,
		.workers = workers,
		.slow_workers = hash_threads(&cfg),
		.max_body = cfg.max_body,
		.large_body = cfg.batch_max_body,
		.max_connections = (int)cfg.max_connections,
		.conn_timeout = (int)cfg.conn_timeout,
		.cors_origins = cfg.cors_origins,
		.routes = api_routes,
		.n_routes = api_routes_count,
		.app = &app,
		.authenticate = api_authenticate,
	};
	if (http_server_start(&srv, &hc, &e)) {
		log_error("%s", e.msg);
		goto out;
	}
	log_notice("listening on %s (%d worker threads); API reference at %s/docs",
		 http_server_url(srv), workers, http_server_url(srv));

	int sig = 0;
	sigwait(&signals, &sig);
	log_notice("received %s: no new connections; finishing %d in-flight request(s)",
		 sig == SIGINT ? "SIGINT" : "SIGTERM", http_server_inflight(srv));
	http_server_quiesce(srv);
	cut_off = drain(srv, &signals, cfg.shutdown_timeout);
	/* MCP calls still running (their time limit may be long) stop now. */
	mcp_server_cancel_all(app.mcp);
	/* Uploads still waiting on their ingest answer 202 now; the jobs go
	 * back to the queue for the next start. */
	jobs_begin_stop(app.jobs);
	if (cut_off)   /* requests blocked on the store give up now */
		store_interrupt(app.store);
	rc = 0;
out:
	http_server_stop(srv);
	/* After the server, which may still reach the queue. */
	app_close(&app);
	if (rc == 0 && cut_off)
		log_notice("stopped; %d request(s) were cut off", cut_off);
	else if (rc == 0)
		log_notice("stopped cleanly");
	config_free(&cfg);
	return rc;
}

static int cmd_migrate(int argc, char **argv)
{
	if (wants_help(argc, argv)) {
		printf("usage: sheaf migrate [--data-dir DIR] [--database-url URL]\n\n"
		       "Applies the schema migrations this sheaf knows that the store lacks, all in\n"
		       "one transaction, and records them. `serve` does the same at start.\n\n");
		config_print_help(stdout);
		return 0;
	}
	struct config cfg;
	if (cli_load_config(&cfg, argc, argv))
		return EXIT_CONFIG;
	int rc = 1;
	struct error e;
	if (fs_mkdirs(cfg.data_dir, true, false, &e)) {
		log_error("%s", e.msg);
	} else {
		struct store *st = cli_open_store(&cfg, 1);
		if (st) {
			int version = 0;
			if (st->ops->schema_version(st, &version, &e) == STORE_OK) {
				printf("schema version %d (latest known: %d)\n", version,
				       store_migrations[store_migrations_count - 1].version);
				rc = 0;
			} else {
				log_error("%s", e.msg);
			}
			store_close(st);
		}
	}
	config_free(&cfg);
	return rc;
}

static int cmd_config(int argc, char **argv)
{
	if (argc > 0 && strcmp(argv[0], "--markdown") == 0)
		config_print_markdown(stdout);
	else
		config_print_help(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	/* jansson allocates through the same abort-on-failure wrappers as we do. */
	json_set_alloc_funcs(xmalloc, free);
	/* Before SQLite's first use: user queries' memory is metered. */
	if (sqlmem_install() < 0) {
		fprintf(stderr, "sheaf: the SQLite allocator could not be installed\n");
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sheaf: libsodium failed to initialise\n");
		return 1;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_CONFIG : 0;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(cmd, "migrate") == 0)
		return cmd_migrate(argc - 2, argv + 2);
	if (strcmp(cmd, "user") == 0)
		return cli_user(argc - 2, argv + 2);
	if (strcmp(cmd, "import") == 0)
		return cli_import(argc - 2, argv + 2);
	if (strcmp(cmd, "train") == 0)
		return cli_train(argc - 2, argv + 2);
	if (strcmp(cmd, "mcp") == 0)
		return cli_mcp(argc - 2, argv + 2);
	if (strcmp(cmd, "config") == 0)
		return cmd_config(argc - 2, argv + 2);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("sheaf %s\n", SHEAF_VERSION_FULL);
		return 0;
	}
	fprintf(stderr, "sheaf: unknown command \"%s\"\n\n", cmd);
	usage(stderr);
	return EXIT_CONFIG;
}
