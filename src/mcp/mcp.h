/*
 * The Model Context Protocol server: sheaf's tools, datasets and prompts
 * for AI assistants, over stdio (`sheaf mcp`, mcp/stdio.c) and Streamable
 * HTTP (/mcp in `sheaf serve`, api/mcp.c).
 *
 * Two eras of the protocol are served side by side, as the 2026-07-28
 * revision's versioning page describes for a dual-era server:
 *   - modern (2026-07-28): no handshake; every request carries
 *     _meta["io.modelcontextprotocol/protocolVersion"] and
 *     ["io.modelcontextprotocol/clientCapabilities"]; server/discover;
 *     results carry resultType and the server's identity; lists and reads
 *     carry ttlMs and cacheScope;
 *   - legacy (2025-11-25, 2025-06-18, 2025-03-26): an initialize request
 *     opens a session (the stdio process, or an Mcp-Session-Id on HTTP)
 *     whose negotiated version the later requests use.
 * A request is modern when it carries the _meta version, legacy when it
 * arrives in a session, and malformed (-32602) otherwise.
 *
 * The dispatcher here knows no transport: it turns one parsed message
 * into one response, sending notifications (progress) through the
 * exchange's hook, and stopping work when the exchange is cancelled.
 */
#ifndef SHEAF_MCP_MCP_H
#define SHEAF_MCP_MCP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "mcp/rpc.h"

struct app;

#define MCP_MODERN_VERSION "2026-07-28"
#define MCP_LEGACY_LATEST  "2025-11-25"
#define MCP_VERSION_MAX 16

/* The state an initialize request opens (2025 era). */
struct mcp_session {
	char version[MCP_VERSION_MAX];   /* negotiated; "" before initialize */
	bool initialized;                /* notifications/initialized arrived */
};

enum mcp_transport {
	MCP_STDIO,
	MCP_HTTP,
};

/* One request in flight. */
struct mcp_exchange {
	enum mcp_transport transport;
	const char *user_id;             /* whose datasets and models */
	struct mcp_session *session;     /* the 2025-era session, or NULL */
	/* Sends a notification about this request (progress); steals msg.
	 * NULL: nobody is listening. */
	void (*notify)(void *arg, json_t *msg);
	void *notify_arg;
	atomic_bool cancelled;           /* set by the transport (notifications/cancelled,
					  * a closed connection) */
	const atomic_bool *stopping;     /* the server's; set by mcp_check_request */
	const atomic_bool *hung_up;      /* HTTP: the client's connection closed (NULL:
					  * not watched); a cancellation too */
	int64_t deadline_ns;             /* set by mcp_handle_request */
	/* Filled by mcp_handle_request: */
	int http_status;                 /* 200, or the status the spec ties to the error */
	bool modern;                     /* served as 2026-07-28 */
	bool opened_session;             /* an initialize succeeded (HTTP: mint a session) */
	bool timed_out;
};

struct mcp_server;

struct mcp_server *mcp_server_new(struct app *app);
void mcp_server_free(struct mcp_server *s);
/* The process is stopping: every call running or still to run is
 * cancelled (and ends as soon as its work looks). */
void mcp_server_cancel_all(struct mcp_server *s);

/* Handles a request (m->kind == RPC_REQUEST) to its response (never NULL):
 * mcp_check_request, then mcp_run_request. */
json_t *mcp_handle_request(struct mcp_server *s, const struct rpc_msg *m,
			   struct mcp_exchange *x);
/* The two halves, for a transport that must choose how to answer before the
 * work starts (HTTP: one JSON body, or an event stream).  The check is
 * cheap and does no work: it returns NULL when the request will run (the
 * exchange's era and deadline set), else the error response with
 * x->http_status set.  Run it, then mcp_run_request for the response. */
json_t *mcp_check_request(struct mcp_server *s, const struct rpc_msg *m,
			  struct mcp_exchange *x);
json_t *mcp_run_request(struct mcp_server *s, const struct rpc_msg *m, struct mcp_exchange *x);

/* Handles a notification: notifications/initialized marks session;
 * notifications/cancelled is the transport's (it knows what is in flight)
 * and is not seen here.  Unknown notifications are ignored, as JSON-RPC
 * asks. */
void mcp_handle_notification(struct mcp_server *s, const struct rpc_msg *m,
			     struct mcp_session *session);

/* Whether version is one this server speaks (either era). */
bool mcp_version_known(const char *version);

#endif
