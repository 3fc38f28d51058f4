/*
 * The sheaf command's sub-commands that are not the server: shared set-up
 * (configuration, opening the store) and `sheaf user`.
 */
#ifndef SHEAF_CLI_CLI_H
#define SHEAF_CLI_CLI_H

#include "base/config.h"
#include "store/store.h"

#define EXIT_CONFIG 2

/* Loads configuration for a sub-command and sets up logging; prints the
 * error and returns -1 on failure. */
int cli_load_config(struct config *cfg, int argc, char **argv);

/* Opens and migrates the metadata store named by cfg (the data dir must
 * exist); NULL after logging why. */
struct store *cli_open_store(const struct config *cfg, int connections);

/* The user a local command acts as: the built-in local user when email is
 * NULL, else the account with that email (printing why not: -1). */
int cli_find_owner(struct store *st, const char *email, char *out, size_t cap);

/* `sheaf mcp`: the MCP server over stdio (mcp/stdio.c). */
int cli_mcp(int argc, char **argv);

/* `sheaf user add|passwd EMAIL`: account administration from the shell. */
int cli_user(int argc, char **argv);

/* `sheaf import FILE`: ingests a file as a dataset, with a progress bar. */
int cli_import(int argc, char **argv);

/* `sheaf train FILE --out MODEL`: trains a model from the shell. */
int cli_train(int argc, char **argv);

#endif
