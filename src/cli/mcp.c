/*
 * `sheaf mcp [--user EMAIL]`: the MCP server over stdio, for an AI
 * assistant that starts sheaf as a subprocess.  It opens the same data dir,
 * store and object storage as `sheaf serve` would (same settings), acts as
 * the built-in local user (the owner of `sheaf import`'s datasets and of
 * everything when SHEAF_AUTH=off) or as the account --user names, and runs
 * background jobs (a transform's ingest) itself.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "base/log.h"
#include "cli/cli.h"
#include "mcp/stdio.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sheaf mcp [--user EMAIL] [--data-dir DIR] [options]\n\n"
		"Serves the Model Context Protocol (2026-07-28, and 2025-11-25 after an\n"
		"initialize) on stdin/stdout, one JSON-RPC message per line; logs go to\n"
		"stderr. Ends when stdin closes.\n\n"
		"  --user EMAIL   act as this account (default: the built-in local user,\n"
		"                 who owns what `sheaf import` adds)\n\n"
		"Settings are those of `sheaf serve --help` (the SHEAF_MCP_* ones apply).\n");
}

int cli_mcp(int argc, char **argv)
{
	const char *email = NULL;
	char *rest[64];
	int nrest = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			email = argv[++i];
		} else if (strncmp(argv[i], "--user=", 7) == 0) {
			email = argv[i] + 7;
		} else if (nrest < (int)(sizeof rest / sizeof *rest)) {
			rest[nrest++] = argv[i];
		} else {
			fprintf(stderr, "sheaf: mcp: too many arguments\n");
			return EXIT_CONFIG;
		}
	}
	struct config cfg;
	if (cli_load_config(&cfg, nrest, rest))
		return EXIT_CONFIG;
	signal(SIGPIPE, SIG_IGN);   /* a client that went away is an error on write */
	struct app app;
	int rc = 1;
	if (app_open(&app, &cfg, APP_LOCAL, 8, 1) == 0) {
		char user[64];
		if (cli_find_owner(app.store, email, user, sizeof user) == 0) {
			log_notice("MCP on stdio as %s", email ? email : "the local user");
			rc = mcp_stdio_run(&app, STDIN_FILENO, STDOUT_FILENO, user);
		}
	}
	app_close(&app);
	config_free(&cfg);
	return rc;
}
