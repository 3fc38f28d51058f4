/*
 * JSON-RPC 2.0 framing for MCP (see rpc.h).  jansson parses; this file
 * only decides what a parsed value is and words the errors.
 */
#include "mcp/rpc.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static json_t *id_or_null(const json_t *id)
{
	return id ? json_deep_copy(id) : json_null();
}

json_t *rpc_error(const json_t *id, int code, const char *message, json_t *data)
{
	json_t *err = json_pack("{s:i, s:s}", "code", code, "message", message);
	if (data)
		json_object_set_new(err, "data", data);
	return json_pack("{s:s, s:o, s:o}", "jsonrpc", "2.0", "id", id_or_null(id), "error", err);
}

json_t *rpc_errorf(const json_t *id, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return rpc_error(id, code, msg, NULL);
}

json_t *rpc_result(const json_t *id, json_t *result)
{
	return json_pack("{s:s, s:o, s:o}", "jsonrpc", "2.0", "id", id_or_null(id), "result",
			 result);
}

json_t *rpc_notification(const char *method, json_t *params)
{
	json_t *n = json_pack("{s:s, s:s}", "jsonrpc", "2.0", "method", method);
	if (params)
		json_object_set_new(n, "params", params);
	return n;
}

int rpc_error_code(const json_t *response)
{
	const json_t *err = json_object_get(response, "error");
	return err ? (int)json_integer_value(json_object_get(err, "code")) : 0;
}

void rpc_msg_clear(struct rpc_msg *m)
{
	json_decref(m->root);
	memset(m, 0, sizeof *m);
	m->kind = RPC_INVALID;
}

/* An id MCP accepts: a string or an integer. */
static bool id_ok(const json_t *id)
{
	return json_is_string(id) || json_is_integer(id);
}

static enum rpc_kind invalid(struct rpc_msg *m, json_t **reply, json_t *response)
{
	*reply = response;
	m->kind = RPC_INVALID;
	m->id = NULL;
	m->method = NULL;
	m->params = NULL;
	return RPC_INVALID;
}

enum rpc_kind rpc_parse(const char *text, size_t len, struct rpc_msg *m, json_t **reply)
{
	memset(m, 0, sizeof *m);
	*reply = NULL;
	json_error_t je;
	/* JSON_REJECT_DUPLICATES: {"id":1,"id":2} has no single meaning. */
	m->root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!m->root)
		return invalid(m, reply, rpc_errorf(NULL, RPC_PARSE_ERROR, "Parse error: %s "
						    "(at byte %d)", je.text, je.position));
	json_t *root = m->root;
	if (json_is_array(root))
		return invalid(m, reply, rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: "
						   "batches (JSON arrays) are not part of MCP; "
						   "send one message at a time", NULL));
	if (!json_is_object(root))
		return invalid(m, reply, rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: "
						   "a message is a JSON object", NULL));
	const json_t *id = json_object_get(root, "id");
	const json_t *version = json_object_get(root, "jsonrpc");
	const json_t *method = json_object_get(root, "method");
	const json_t *params = json_object_get(root, "params");
	const json_t *good_id = id && id_ok(id) ? id : NULL;
	if (!json_is_string(version) || strcmp(json_string_value(version), "2.0") != 0)
		return invalid(m, reply, rpc_error(good_id, RPC_INVALID_REQUEST, "Invalid Request: "
						   "\"jsonrpc\" must be \"2.0\"", NULL));
	if (!method) {
		if (json_object_get(root, "result") || json_object_get(root, "error")) {
			m->kind = RPC_RESPONSE;
			m->id = id;
			return RPC_RESPONSE;
		}
		return invalid(m, reply, rpc_error(good_id, RPC_INVALID_REQUEST, "Invalid Request: "
						   "no \"method\"", NULL));
	}
	if (!json_is_string(method) || json_string_length(method) == 0)
		return invalid(m, reply, id ? rpc_error(good_id, RPC_INVALID_REQUEST, "Invalid "
							"Request: \"method\" must be a "
							"non-empty string", NULL) : NULL);
	if (id && !good_id)
		return invalid(m, reply, rpc_error(NULL, RPC_INVALID_REQUEST, "Invalid Request: "
						   "\"id\" must be a string or an integer (not "
						   "null)", NULL));
	if (params && !json_is_object(params))
		return invalid(m, reply, id ? rpc_error(id, RPC_INVALID_PARAMS, "Invalid params: "
							"\"params\" must be an object", NULL)
					    : NULL);
	m->kind = id ? RPC_REQUEST : RPC_NOTIFICATION;
	m->id = id;
	m->method = json_string_value(method);
	m->params = params;
	return m->kind;
}
