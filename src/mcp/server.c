/*
 * The MCP dispatcher (mcp.h): which era a request speaks, which method it
 * calls, and the shape of the answer.  What the methods return -- tools,
 * resources, prompts -- is in catalog.c.
 */
#include "mcp/mcp.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "mcp/catalog.h"

static const char *const legacy_versions[] = { "2025-11-25", "2025-06-18", "2025-03-26" };
#define N_LEGACY (sizeof legacy_versions / sizeof *legacy_versions)

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPABILITIES "io.modelcontextprotocol/clientCapabilities"
#define META_SERVER_INFO "io.modelcontextprotocol/serverInfo"

struct mcp_server {
	struct app *app;
	struct mcp_catalog *catalog;
	atomic_bool stopping;
};

struct mcp_server *mcp_server_new(struct app *app)
{
	struct mcp_server *s = xcalloc(1, sizeof *s);
	s->app = app;
	s->catalog = mcp_catalog_new(app);
	atomic_init(&s->stopping, false);
	return s;
}

void mcp_server_cancel_all(struct mcp_server *s)
{
	if (s)
		atomic_store(&s->stopping, true);
}

void mcp_server_free(struct mcp_server *s)
{
	if (!s)
		return;
	mcp_catalog_free(s->catalog);
	free(s);
}

static bool is_legacy(const char *v)
{
	for (size_t i = 0; i < N_LEGACY; i++)
		if (strcmp(v, legacy_versions[i]) == 0)
			return true;
	return false;
}

bool mcp_version_known(const char *version)
{
	return strcmp(version, MCP_MODERN_VERSION) == 0 || is_legacy(version);
}

static json_t *supported_versions(void)
{
	json_t *a = json_pack("[s]", MCP_MODERN_VERSION);
	for (size_t i = 0; i < N_LEGACY; i++)
		json_array_append_new(a, json_string(legacy_versions[i]));
	return a;
}

static json_t *server_info(const struct mcp_server *s)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "name", "sheaf", "title", "sheaf data analysis",
			 "version", s->app->version, "description",
			 "Datasets, SQL, analysis tools and predictions from a sheaf server");
}

static json_t *capabilities(void)
{
	return json_pack("{s:{}, s:{}, s:{}, s:{}}", "tools", "resources", "prompts",
			 "completions");
}

static const char instructions[] =
	"sheaf holds the user's datasets (uploaded CSV and spreadsheet files) and can "
	"analyse them. Start with list_datasets, then describe_dataset or profile to learn "
	"a dataset's columns. Dataset tools take a dataset_id; query_sql runs read-only "
	"SQLite SQL over the table named data. transform makes a new dataset from steps. "
	"predict_eclo estimates the severity (ECLO) of a traffic accident in Daegu; "
	"predict_model uses a model the user trained. Datasets are also resources "
	"(sheaf://datasets/{id} and sheaf://datasets/{id}/preview).";

static json_t *fail(struct mcp_exchange *x, int http_status, json_t *response)
{
	x->http_status = http_status;
	return response;
}

/* ---- the methods ---- */

typedef json_t *(*method_fn)(struct mcp_server *s, const struct rpc_msg *m,
			     struct mcp_exchange *x, int *code, char *msg, size_t cap);

static json_t *do_discover(struct mcp_server *s, const struct rpc_msg *m,
			   struct mcp_exchange *x, int *code, char *msg, size_t cap)
{
	(void)s; (void)m; (void)x; (void)code; (void)msg; (void)cap;
	return json_pack("{s:o, s:o, s:s, s:I, s:s}", "supportedVersions", supported_versions(),
			 "capabilities", capabilities(), "instructions", instructions,
			 "ttlMs", (json_int_t)3600000, "cacheScope", "public");
}

static json_t *do_ping(struct mcp_server *s, const struct rpc_msg *m, struct mcp_exchange *x,
		       int *code, char *msg, size_t cap)
{
	(void)s; (void)m; (void)x; (void)code; (void)msg; (void)cap;
	return json_object();
}

static json_t *do_catalog(struct mcp_server *s, const struct rpc_msg *m,
			  struct mcp_exchange *x, int *code, char *msg, size_t cap)
{
	struct mcp_call call = {
		.app = s->app,
		.user_id = x->user_id,
		.modern = x->modern,
		.exchange = x,
	};
	json_t *r = mcp_catalog_call(s->catalog, m->method, m->params, &call, code, msg, cap);
	if (!r && *code == RPC_INVALID_PARAMS && call.not_found && !x->modern)
		*code = MCP_RESOURCE_NOT_FOUND_2025;
	return r;
}

enum { MODERN = 1, LEGACY = 2, BOTH = 3 };

static const struct {
	const char *name;
	method_fn fn;
	int eras;
} methods[] = {
	{ "server/discover", do_discover, BOTH },
	{ "ping", do_ping, LEGACY },
	{ "tools/list", do_catalog, BOTH },
	{ "tools/call", do_catalog, BOTH },
	{ "resources/list", do_catalog, BOTH },
	{ "resources/templates/list", do_catalog, BOTH },
	{ "resources/read", do_catalog, BOTH },
	{ "prompts/list", do_catalog, BOTH },
	{ "prompts/get", do_catalog, BOTH },
	{ "completion/complete", do_catalog, BOTH },
};

/* Runs the method and shapes the response for the era. */
static json_t *dispatch(struct mcp_server *s, const struct rpc_msg *m, struct mcp_exchange *x)
{
	int eras = x->modern ? MODERN : LEGACY;
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++) {
		if (strcmp(methods[i].name, m->method) != 0)
			continue;
		if (!(methods[i].eras & eras))
			break;
		int code = 0;
		char msg[1024] = "";
		json_t *result = methods[i].fn(s, m, x, &code, msg, sizeof msg);
		if (!result) {
			json_t *data = NULL;
			if (code == MCP_RESOURCE_NOT_FOUND_2025 || (code == RPC_INVALID_PARAMS &&
			    strcmp(m->method, "resources/read") == 0))
				data = json_pack("{s:O}", "uri", json_object_get(m->params, "uri"));
			return rpc_error(m->id, code, msg, data);
		}
		if (x->modern) {
			json_object_set_new(result, "resultType", json_string("complete"));
			json_t *meta = json_object_get(result, "_meta");
			if (!meta) {
				meta = json_object();
				json_object_set_new(result, "_meta", meta);
			}
			json_object_set_new(meta, META_SERVER_INFO, server_info(s));
		} else {
			json_object_del(result, "ttlMs");
			json_object_del(result, "cacheScope");
		}
		return rpc_result(m->id, result);
	}
	return rpc_errorf(m->id, RPC_METHOD_NOT_FOUND, "Method not found: %.200s%s", m->method,
			  strcmp(m->method, "ping") == 0 ? " (removed in protocol 2026-07-28)" : "");
}

/* initialize (2025 era): the version both speak, and a session. */
static json_t *initialize(struct mcp_server *s, const struct rpc_msg *m, struct mcp_exchange *x)
{
	const char *asked = json_string_value(json_object_get(m->params, "protocolVersion"));
	if (!asked)
		return fail(x, 400, rpc_error(m->id, RPC_INVALID_PARAMS, "Invalid params: "
					      "initialize needs params.protocolVersion (a string)",
					      NULL));
	if (!json_is_object(json_object_get(m->params, "capabilities")) ||
	    !json_is_object(json_object_get(m->params, "clientInfo")))
		return fail(x, 400, rpc_error(m->id, RPC_INVALID_PARAMS, "Invalid params: "
					      "initialize needs params.capabilities and "
					      "params.clientInfo (objects)", NULL));
	const char *version = is_legacy(asked) ? asked : MCP_LEGACY_LATEST;
	if (x->session) {
		snprintf(x->session->version, sizeof x->session->version, "%s", version);
		x->session->initialized = false;
	}
	x->opened_session = true;
	json_t *info = server_info(s);
	if (strcmp(version, "2025-11-25") != 0)
		json_object_del(info, "description");
	return rpc_result(m->id, json_pack("{s:s, s:o, s:o, s:s}", "protocolVersion", version,
					   "capabilities", capabilities(), "serverInfo", info,
					   "instructions", instructions));
}

/* Whether the method exists in the exchange's era. */
static bool method_known(const char *method, bool modern)
{
	for (size_t i = 0; i < sizeof methods / sizeof *methods; i++)
		if (strcmp(methods[i].name, method) == 0)
			return methods[i].eras & (modern ? MODERN : LEGACY);
	return false;
}

json_t *mcp_check_request(struct mcp_server *s, const struct rpc_msg *m,
			  struct mcp_exchange *x)
{
	x->stopping = &s->stopping;
	x->http_status = 200;
	x->modern = false;
	x->opened_session = false;
	x->timed_out = false;
	x->deadline_ns = clock_mono_ns() + s->app->cfg->mcp_timeout * 1000000000LL;
	const json_t *meta = json_object_get(m->params, "_meta");
	if (meta && !json_is_object(meta))
		return fail(x, 400, rpc_error(m->id, RPC_INVALID_PARAMS, "Invalid params: "
					      "params._meta must be an object", NULL));
	const json_t *version = json_object_get(meta, META_VERSION);
	if (strcmp(m->method, "initialize") == 0 && !version)
		return NULL;
	if (version) {
		if (!json_is_string(version))
			return fail(x, 400, rpc_errorf(m->id, RPC_INVALID_PARAMS, "Invalid params: "
						       "_meta[\"%s\"] must be a string",
						       META_VERSION));
		const char *v = json_string_value(version);
		if (strcmp(v, MCP_MODERN_VERSION) != 0)
			return fail(x, 400, rpc_error(m->id, MCP_UNSUPPORTED_VERSION,
				"Unsupported protocol version",
				json_pack("{s:o, s:s}", "supported", supported_versions(),
					  "requested", v)));
		if (!json_is_object(json_object_get(meta, META_CAPABILITIES)))
			return fail(x, 400, rpc_errorf(m->id, RPC_INVALID_PARAMS, "Invalid params: "
						       "_meta[\"%s\"] is required (an object) "
						       "with protocol %s", META_CAPABILITIES,
						       MCP_MODERN_VERSION));
		x->modern = true;
		if (!method_known(m->method, true))
			return fail(x, 404, rpc_errorf(m->id, RPC_METHOD_NOT_FOUND, "Method not "
						       "found: %.200s%s", m->method,
						       strcmp(m->method, "ping") == 0
						       ? " (removed in protocol 2026-07-28)" : ""));
		return NULL;
	}
	/* A session's requests, and a 2025 client's ping before initialize. */
	if ((x->session && x->session->version[0]) || strcmp(m->method, "ping") == 0)
		return NULL;
	return fail(x, 400, rpc_errorf(m->id, RPC_INVALID_PARAMS, "Invalid params: no protocol "
				       "version. With protocol %s every request carries "
				       "params._meta[\"%s\"] and [\"%s\"]; with %s and earlier, "
				       "send initialize first", MCP_MODERN_VERSION, META_VERSION,
				       META_CAPABILITIES, MCP_LEGACY_LATEST));
}

json_t *mcp_run_request(struct mcp_server *s, const struct rpc_msg *m, struct mcp_exchange *x)
{
	if (!x->modern && strcmp(m->method, "initialize") == 0)
		return initialize(s, m, x);
	return dispatch(s, m, x);
}

json_t *mcp_handle_request(struct mcp_server *s, const struct rpc_msg *m,
			   struct mcp_exchange *x)
{
	json_t *refused = mcp_check_request(s, m, x);
	return refused ? refused : mcp_run_request(s, m, x);
}

void mcp_handle_notification(struct mcp_server *s, const struct rpc_msg *m,
			     struct mcp_session *session)
{
	(void)s;
	if (strcmp(m->method, "notifications/initialized") == 0 && session && session->version[0])
		session->initialized = true;
}
