/*
 * MCP over stdio (`sheaf mcp`): see stdio.c.
 */
#ifndef SHEAF_MCP_STDIO_H
#define SHEAF_MCP_STDIO_H

struct app;

/* Serves MCP on in/out as user_id until in ends.  0, or 1 when reading
 * failed. */
int mcp_stdio_run(struct app *app, int in, int out, const char *user_id);

#endif
