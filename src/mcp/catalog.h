/*
 * What the MCP server offers (mcp/catalog.c):
 *   tools      every tool of the registry (tools/tools.h); dataset tools get
 *              a dataset_id argument;
 *   resources  each of the caller's datasets twice: sheaf://datasets/{id}
 *              (details, schema and per-column profile as JSON) and
 *              sheaf://datasets/{id}/preview (the first rows as CSV; ?rows=N
 *              for up to 1000), listed newest first in pages, plus the two
 *              URI templates;
 *   prompts    explore_dataset, ask_dataset, explain_eclo;
 *   completion dataset ids for the prompts' and templates' arguments.
 */
#ifndef SHEAF_MCP_CATALOG_H
#define SHEAF_MCP_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct app;
struct mcp_exchange;
struct mcp_catalog;

/* Who asks, and how to reach back. */
struct mcp_call {
	struct app *app;
	const char *user_id;
	bool modern;                 /* 2026-07-28: results carry cache hints */
	struct mcp_exchange *exchange;
	bool not_found;              /* set: the error is "no such resource" */
};

struct mcp_catalog *mcp_catalog_new(struct app *app);
void mcp_catalog_free(struct mcp_catalog *c);

/*
 * Runs method (tools/list, tools/call, resources/list,
 * resources/templates/list, resources/read, prompts/list, prompts/get,
 * completion/complete) with params (may be NULL).  The result object, or
 * NULL with *code (a JSON-RPC error code) and msg set.
 */
json_t *mcp_catalog_call(struct mcp_catalog *c, const char *method, const json_t *params,
			 struct mcp_call *call, int *code, char *msg, size_t cap);

#endif
