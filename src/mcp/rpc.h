/*
 * JSON-RPC 2.0 messages as the Model Context Protocol uses them: one
 * message per transport frame (no batches), ids that are strings or
 * integers (never null), params an object.
 *
 * rpc_parse classifies a frame's bytes; anything malformed comes back as
 * the error response to send (or none, for a malformed notification).
 */
#ifndef SHEAF_MCP_RPC_H
#define SHEAF_MCP_RPC_H

#include <stddef.h>

#include <jansson.h>

/* JSON-RPC's codes and the ones MCP defines (2026-07-28, basic/index). */
#define RPC_PARSE_ERROR       (-32700)
#define RPC_INVALID_REQUEST   (-32600)
#define RPC_METHOD_NOT_FOUND  (-32601)
#define RPC_INVALID_PARAMS    (-32602)
#define RPC_INTERNAL_ERROR    (-32603)
#define MCP_HEADER_MISMATCH   (-32020)
#define MCP_MISSING_CAPABILITY (-32021)
#define MCP_UNSUPPORTED_VERSION (-32022)
#define MCP_RESOURCE_NOT_FOUND_2025 (-32002)   /* 2025-11-25 and earlier */

enum rpc_kind {
	RPC_REQUEST,        /* method and id: answer it */
	RPC_NOTIFICATION,   /* method, no id: never answered */
	RPC_RESPONSE,       /* result or error: the client answering us */
	RPC_INVALID,        /* not a message: send the error rpc_parse made, if any */
};

struct rpc_msg {
	enum rpc_kind kind;
	json_t *root;         /* the whole message (owned) */
	const json_t *id;     /* borrowed from root; NULL for notifications */
	const char *method;   /* borrowed from root */
	const json_t *params; /* borrowed; an object, or NULL when absent */
};

/*
 * Parses one frame of len bytes (need not be NUL-terminated).  Fills m and
 * returns its kind; for RPC_INVALID, *reply is the error response to send
 * (id null when the id could not be read) or NULL when nothing should be
 * sent.  rpc_msg_clear releases m either way.
 */
enum rpc_kind rpc_parse(const char *text, size_t len, struct rpc_msg *m, json_t **reply);
void rpc_msg_clear(struct rpc_msg *m);

/* A response to id (NULL: null).  rpc_error steals data (may be NULL);
 * rpc_result steals result. */
json_t *rpc_error(const json_t *id, int code, const char *message, json_t *data);
json_t *rpc_errorf(const json_t *id, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
json_t *rpc_result(const json_t *id, json_t *result);
/* A notification; steals params (may be NULL). */
json_t *rpc_notification(const char *method, json_t *params);

/* Whether a response is an error, and its code (0 for results). */
int rpc_error_code(const json_t *response);

#endif
