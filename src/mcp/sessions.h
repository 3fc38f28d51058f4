/*
 * MCP sessions of the 2025 era on HTTP (the Mcp-Session-Id an initialize
 * opens), and the requests running in them, so that a
 * notifications/cancelled POSTed on its own can reach its request.
 *
 * Sessions live in this process's memory: behind a load balancer, pin a
 * client to one node (2026-07-28 clients need no session at all).  At most
 * `max` are kept; one unused for `ttl_s` is closed, and when the table is
 * full the one idle longest goes.  Thread-safe.
 */
#ifndef SHEAF_MCP_SESSIONS_H
#define SHEAF_MCP_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "mcp/mcp.h"

#define MCP_SESSION_ID_LEN 32

struct mcp_sessions;

struct mcp_sessions *mcp_sessions_new(size_t max, long long ttl_s);
void mcp_sessions_free(struct mcp_sessions *t);

/* A new session of user_id; id gets its id. */
void mcp_sessions_open(struct mcp_sessions *t, const char *user_id,
		       const struct mcp_session *state, char id[MCP_SESSION_ID_LEN + 1]);
/* Copies session id's state into *state (and marks it used): true when it
 * exists, has not expired and belongs to user_id. */
bool mcp_sessions_get(struct mcp_sessions *t, const char *id, const char *user_id,
		      struct mcp_session *state);
/* Stores a session's state back (after notifications/initialized). */
void mcp_sessions_put(struct mcp_sessions *t, const char *id, const struct mcp_session *state);
/* Ends a session (HTTP DELETE): true when it existed for user_id. */
bool mcp_sessions_close(struct mcp_sessions *t, const char *id, const char *user_id);

/* Requests in flight: x runs under session id as request_key (the JSON
 * text of its id) until untracked; cancel sets its cancelled flag. */
void mcp_sessions_track(struct mcp_sessions *t, const char *id, const char *request_key,
			struct mcp_exchange *x);
void mcp_sessions_untrack(struct mcp_sessions *t, struct mcp_exchange *x);
void mcp_sessions_cancel(struct mcp_sessions *t, const char *id, const char *request_key);

#endif
