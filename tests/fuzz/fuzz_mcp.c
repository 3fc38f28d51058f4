/*
 * Fuzz target: the MCP JSON-RPC dispatcher (mcp/rpc.c, mcp/server.c,
 * mcp/catalog.c) behind both transports.
 *
 * Each input is one message as a transport frame delivers it.  It is
 * parsed; a request is dispatched (as the local user, in a 2025-era
 * session that an initialize in the corpus may open) and a notification
 * handled, against a real application opened once in a temporary data dir
 * (SQLite store, local objects, no datasets, the built-in ECLO model).
 * Whatever the bytes, the answer must be one well-formed JSON-RPC response:
 * "jsonrpc":"2.0", the request's id, and exactly one of a result object or
 * an error with an integer code and a message.  Invalid frames must come
 * back as errors with a null id or the request's own id.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "base/alloc.h"
#include "base/log.h"
#include "mcp/mcp.h"
#include "query/memory.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	bool ready;
	char dir[64];
	struct config cfg;
	struct app app;
	struct mcp_server *mcp;
	struct mcp_session session;
} fz;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* The application stays open to the end (it is reachable, so no leak is
 * reported): freeing its XGBoost model from an atexit handler would run
 * after XGBoost's own static destructors. */
static void teardown(void)
{
	nftw(fz.dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	json_set_alloc_funcs(xmalloc, free);
	if (sqlmem_install() < 0)
		abort();
	snprintf(fz.dir, sizeof fz.dir, "/tmp/sheaf-fuzz-mcp-XXXXXX");
	if (!mkdtemp(fz.dir))
		abort();
	char flag[96];
	snprintf(flag, sizeof flag, "--data-dir=%s", fz.dir);
	char *argv[] = { flag, "--log-level=off", NULL };
	struct error e;
	if (config_load(&fz.cfg, 2, argv, NULL, &e) < 0)
		abort();
	fz.cfg.mcp_timeout = 5;
	log_setup(LOG_OFF, LOG_TEXT);
	if (app_open(&fz.app, &fz.cfg, APP_LOCAL, 2, 1) < 0)
		abort();
	fz.mcp = mcp_server_new(&fz.app);
	atexit(teardown);
	fz.ready = true;
}

static void check_response(const json_t *r, const json_t *id)
{
	if (!json_is_object(r) || !json_is_string(json_object_get(r, "jsonrpc")) ||
	    strcmp(json_string_value(json_object_get(r, "jsonrpc")), "2.0") != 0)
		abort();
	const json_t *rid = json_object_get(r, "id");
	if (id ? !json_equal(rid, id) : !(json_is_null(rid) || json_is_string(rid) ||
					 json_is_integer(rid)))
		abort();
	const json_t *result = json_object_get(r, "result"), *err = json_object_get(r, "error");
	if (!result == !err)
		abort();
	if (result && !json_is_object(result))
		abort();
	if (err && (!json_is_integer(json_object_get(err, "code")) ||
		    !json_is_string(json_object_get(err, "message"))))
		abort();
	/* Every answer must be sendable as one stdio line. */
	char *text = json_dumps(r, JSON_COMPACT);
	if (!text || strchr(text, '\n'))
		abort();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fz.ready)
		setup();
	struct rpc_msg m;
	json_t *reply;
	enum rpc_kind kind = rpc_parse((const char *)data, size, &m, &reply);
	if (kind == RPC_INVALID) {
		if (reply)
			check_response(reply, NULL);
		json_decref(reply);
	} else if (kind == RPC_REQUEST) {
		struct mcp_exchange x = {
			.transport = MCP_STDIO,
			.user_id = LOCAL_USER_ID,
			.session = &fz.session,
		};
		atomic_init(&x.cancelled, false);
		json_t *r = mcp_handle_request(fz.mcp, &m, &x);
		check_response(r, m.id);
		if (x.http_status < 200 || x.http_status > 599)
			abort();
		json_decref(r);
	} else if (kind == RPC_NOTIFICATION) {
		mcp_handle_notification(fz.mcp, &m, &fz.session);
	}
	rpc_msg_clear(&m);
	return 0;
}
