/*
 * The MCP server's tools, resources and prompts (catalog.h).
 *
 * Tools come from the registry; a call opens the dataset a dataset tool
 * names (the caller's own, ready), runs the tool with the exchange's
 * progress and cancellation, and answers with structuredContent plus two
 * text blocks: the tool's one-line summary and the JSON itself.  A tool
 * that fails on its arguments, the data or a limit answers isError with
 * the reason, so the model can correct itself; only an unknown tool or
 * malformed params are protocol errors.
 */
#include "mcp/catalog.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/id.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "mcp/mcp.h"
#include "models/eclo.h"
#include "tools/tools.h"

#define URI_PREFIX "sheaf://datasets/"
#define PREVIEW_ROWS 20
#define PREVIEW_MAX_ROWS 1000
#define COMPLETE_MAX 100          /* values in one completion answer */

struct mcp_catalog {
	json_t *tools;       /* tools/list's array, built once */
	json_t *prompts;     /* prompts/list's array */
	json_t *templates;   /* resources/templates/list's array */
};

static json_t *bad(int *code, char *msg, size_t cap, int c, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static json_t *bad(int *code, char *msg, size_t cap, int c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, cap, fmt, ap);
	va_end(ap);
	*code = c;
	return NULL;
}

/* ---- tools/list ---- */

static json_t *tool_json(const struct tool *t)
{
	json_t *input = json_deep_copy(tool_input_schema(t));
	if (t->scope == TOOL_ON_DATASET) {
		/* dataset_id first: properties keep their insertion order. */
		json_t *props = json_pack("{s:{s:s, s:s, s:i}}", "dataset_id", "type", "string",
					  "description", "The dataset to work on (list_datasets "
					  "gives the ids)", "minLength", 1);
		json_object_update(props, json_object_get(input, "properties"));
		json_object_set_new(input, "properties", props);
		json_t *required = json_pack("[s]", "dataset_id");
		json_array_extend(required, json_object_get(input, "required"));
		json_object_set_new(input, "required", required);
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:O, s:{s:s, s:b, s:b, s:b, s:b}}",
			 "name", t->name, "title", t->title, "description", t->description,
			 "inputSchema", input, "outputSchema", tool_output_schema(t),
			 "annotations", "title", t->title, "readOnlyHint", t->read_only,
			 "destructiveHint", t->destructive, "idempotentHint", t->read_only,
			 "openWorldHint", false);
}

/* ---- prompts ---- */

static json_t *prompt_arg(const char *name, const char *description, bool required)
{
	return json_pack("{s:s, s:s, s:b}", "name", name, "description", description,
			 "required", required);
}

static json_t *prompts_json(void)
{
	return json_pack("[{s:s, s:s, s:s, s:[o]}, {s:s, s:s, s:s, s:[o, o]}, {s:s, s:s, s:s, s:[o]}]",
		"name", "explore_dataset", "title", "Explore a dataset",
		"description", "A first look at one dataset: its columns, quality and the "
		"patterns worth a closer look (데이터 탐색).",
		"arguments", prompt_arg("dataset_id", "The dataset's id", true),
		"name", "ask_dataset", "title", "Answer a question from a dataset",
		"description", "Answer a question in plain words (Korean or English) with SQL "
		"over one dataset (데이터 질문).",
		"arguments", prompt_arg("dataset_id", "The dataset's id", true),
		prompt_arg("question", "The question, in any language", true),
		"name", "explain_eclo", "title", "Explain ECLO for an accident",
		"description", "What ECLO (the severity score of a Daegu traffic accident) is, "
		"and what sheaf's model predicts for one accident (사고 심각도 설명).",
		"arguments", prompt_arg("accident", "The accident as a JSON object of the "
		"eleven fields predict_eclo takes (weather, road_surface, road_type, "
		"accident_type, time_period, district, day_of_week, accident_hour, "
		"accident_year, accident_month, accident_day)", true));
}

static json_t *templates_json(void)
{
	return json_pack("[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}]",
		"uriTemplate", URI_PREFIX "{id}", "name", "dataset", "title", "Dataset",
		"description", "A dataset's details, schema and per-column profile (count, "
		"nulls, distinct, min, max, mean, quantiles, top values, histogram)",
		"mimeType", "application/json",
		"uriTemplate", URI_PREFIX "{id}/preview{?rows}", "name", "dataset-preview",
		"title", "Dataset preview", "description", "A dataset's first rows as CSV "
		"(20 unless rows says, at most 1000)", "mimeType", "text/csv");
}

struct mcp_catalog *mcp_catalog_new(struct app *app)
{
	(void)app;
	struct mcp_catalog *c = xcalloc(1, sizeof *c);
	c->tools = json_array();
	for (size_t i = 0; i < tools_count(); i++)
		json_array_append_new(c->tools, tool_json(tool_at(i)));
	c->prompts = prompts_json();
	c->templates = templates_json();
	return c;
}

void mcp_catalog_free(struct mcp_catalog *c)
{
	if (!c)
		return;
	json_decref(c->tools);
	json_decref(c->prompts);
	json_decref(c->templates);
	free(c);
}

/* ---- datasets ---- */

/* The caller's ready dataset id, opened.  NULL with msg set (*missing:
 * it does not exist, as opposed to not being ready or readable). */
static struct table *open_dataset(struct mcp_call *call, const char *id,
				  struct dataset_row *row, bool *missing, char *msg, size_t cap)
{
	struct error e;
	*missing = false;
	memset(row, 0, sizeof *row);
	if (!id_user_valid(id)) {
		*missing = true;
		snprintf(msg, cap, "no dataset %.60s (list_datasets gives the ids)", id);
		return NULL;
	}
	enum store_rc rc = store_dataset_get(call->app->store, call->user_id, id, row, &e);
	if (rc == STORE_NOT_FOUND) {
		*missing = true;
		snprintf(msg, cap, "no dataset %.60s (list_datasets gives the ids)", id);
		return NULL;
	}
	if (rc != STORE_OK) {
		log_error("mcp: read dataset %s: %s", id, e.msg);
		snprintf(msg, cap, "the dataset could not be read; see the server log");
		return NULL;
	}
	if (strcmp(row->status, "ready") != 0) {
		snprintf(msg, cap, "dataset %s is %s%s%.300s", id, row->status,
			 *row->error ? ": " : "", row->error);
		return NULL;
	}
	struct table *t = dataset_open(call->app, row, &e);
	if (!t) {
		log_error("mcp: open dataset %s: %s", id, e.msg);
		snprintf(msg, cap, "the dataset's file could not be opened; see the server log");
	}
	return t;
}

/* ---- tools/call ---- */

struct progress_state {
	struct mcp_exchange *x;
	json_t *token;        /* the client's progressToken, or NULL */
	double last;
};

static void report(void *arg, double done, double total, const char *message)
{
	struct progress_state *p = arg;
	if (!p->token || !p->x->notify || done <= p->last)
		return;   /* progress must increase */
	p->last = done;
	json_t *params = json_pack("{s:O, s:f}", "progressToken", p->token, "progress", done);
	if (total > 0)
		json_object_set_new(params, "total", json_real(total));
	if (message && *message)
		json_object_set_new(params, "message", json_string(message));
	p->x->notify(p->x->notify_arg, rpc_notification("notifications/progress", params));
}

static bool cancelled(void *arg)
{
	struct progress_state *p = arg;
	if (atomic_load(&p->x->cancelled) || (p->x->stopping && atomic_load(p->x->stopping)) ||
	    (p->x->hung_up && atomic_load(p->x->hung_up)))
		return true;
	if (clock_mono_ns() > p->x->deadline_ns) {
		p->x->timed_out = true;
		return true;
	}
	return false;
}

static json_t *tool_error_result(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *tool_error_result(const char *fmt, ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", text,
			 "isError", true);
}

static json_t *call_tool(const json_t *params, struct mcp_call *call, int *code, char *msg,
			 size_t cap)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	if (!name)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: tools/call needs "
			   "params.name (a string)");
	const struct tool *tool = tool_find(name);
	if (!tool)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Unknown tool: %.100s (tools/list "
			   "lists them)", name);
	const json_t *given = json_object_get(params, "arguments");
	if (given && !json_is_object(given) && !json_is_null(given))
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: "
			   "params.arguments must be an object");
	struct app *app = call->app;
	struct mcp_exchange *x = call->exchange;
	json_t *args = json_is_object(given) ? json_deep_copy(given) : json_object();
	const json_t *meta = json_object_get(params, "_meta");
	const json_t *token = json_object_get(meta, "progressToken");
	struct progress_state ps = {
		.x = x,
		.token = json_is_string(token) || json_is_integer(token) ? (json_t *)token : NULL,
		.last = -1,
	};
	struct tool_progress progress = { report, cancelled, &ps };
	struct tool_ctx ctx = {
		.lim = sql_limits_for(app->cfg, false),
		.frames = app->frames,
		.app = app,
		.user_id = call->user_id,
		.progress = &progress,
	};
	/* Every query the tool runs stops when the call is cancelled or out
	 * of time, not only at the tool's own looks at progress. */
	ctx.lim.stop = cancelled;
	ctx.lim.stop_arg = &ps;
	struct dataset_row row = { 0 };
	json_t *result = NULL;
	if (tool->scope == TOOL_ON_DATASET) {
		const char *id = json_string_value(json_object_get(args, "dataset_id"));
		if (!id) {
			result = tool_error_result("args.dataset_id: required, a dataset's id "
						   "(list_datasets gives them)");
			goto out;
		}
		bool missing;
		char why[512];
		ctx.t = open_dataset(call, id, &row, &missing, why, sizeof why);
		if (!ctx.t) {
			result = tool_error_result("args.dataset_id: %s", why);
			goto out;
		}
		ctx.key = row.data_key;
		json_object_del(args, "dataset_id");
	}
	struct tool_output o;
	struct tool_error err;
	int64_t start = clock_mono_ns();
	int rc = tool_call(tool, &ctx, args, &o, &err);
	if (rc < 0 && x->stopping && atomic_load(x->stopping)) {
		result = tool_error_result("%s stopped: the server is shutting down; try again "
					   "in a moment", name);
	} else if (rc < 0 && x->timed_out) {
		result = tool_error_result("%s stopped after %lld s (SHEAF_MCP_TIMEOUT)", name,
					   app->cfg->mcp_timeout);
	} else if (rc < 0 && err.kind == TOOL_ERR_INTERNAL) {
		log_error("mcp: tool %s: %s", name, err.msg);
		bad(code, msg, cap, RPC_INTERNAL_ERROR, "Internal error: the tool failed; see "
		    "the server log");
	} else if (rc < 0) {
		result = tool_error_result("%s", err.msg);
	} else {
		char *text = json_dumps(o.result, JSON_COMPACT | JSON_ENCODE_ANY);
		result = json_pack("{s:[{s:s, s:s}, {s:s, s:s}], s:O, s:b}", "content", "type",
				   "text", "text", o.summary, "type", "text", "text", text,
				   "structuredContent", o.result, "isError", false);
		free(text);
		tool_output_clear(&o);
		log_fields(LOG_DEBUG, "mcp_tool", LOG_STR("tool", name),
			   LOG_INT("ms", (clock_mono_ns() - start) / 1000000));
	}
out:
	if (ctx.t)
		table_close(ctx.t);
	dataset_row_clear(&row);
	json_decref(args);
	return result;
}

/* ---- resources ---- */

/* Cursors are "d" and the offset of the next dataset: opaque to clients. */
static int parse_cursor(const json_t *params, int64_t *offset)
{
	const json_t *c = json_object_get(params, "cursor");
	*offset = 0;
	if (!c || json_is_null(c))
		return 0;
	const char *s = json_string_value(c);
	if (!s || s[0] != 'd' || !s[1])
		return -1;
	char *end;
	long long v = strtoll(s + 1, &end, 10);
	if (*end || v < 0 || s[1] == '-' || s[1] == '+')
		return -1;
	*offset = v;
	return 0;
}

static json_t *list_resources(const json_t *params, struct mcp_call *call, int *code,
			      char *msg, size_t cap)
{
	int64_t offset;
	if (parse_cursor(params, &offset) < 0)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: unknown cursor");
	int64_t page = call->app->cfg->mcp_page_size;
	struct dataset_row *rows = NULL;
	size_t n = 0;
	int64_t total = 0;
	struct error e;
	if (store_dataset_list(call->app->store, call->user_id, DATASET_SORT_NEWEST, page, offset,
			       &rows, &n, &total, &e) != STORE_OK) {
		log_error("mcp: list datasets: %s", e.msg);
		return bad(code, msg, cap, RPC_INTERNAL_ERROR, "Internal error: the datasets "
			   "could not be listed");
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct dataset_row *r = &rows[i];
		char uri[sizeof URI_PREFIX + USER_ID_MAX + 16];
		snprintf(uri, sizeof uri, URI_PREFIX "%s", r->id);
		char *about = *r->description ? xstrdup(r->description)
					       : tool_printf("%s: %lld rows, %lld columns (%s)",
							     r->source_name, (long long)r->rows,
							     (long long)r->columns, r->status);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "uri", uri,
			"name", r->name, "title", r->name, "description", about, "mimeType",
			"application/json", "size", (json_int_t)r->data_bytes));
		free(about);
		char *title = tool_printf("%s (first rows)", r->name);
		snprintf(uri, sizeof uri, URI_PREFIX "%s/preview", r->id);
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s, s:s}", "uri", uri,
			"name", title, "title", title, "description", "The first 20 rows as CSV",
			"mimeType", "text/csv"));
		free(title);
	}
	dataset_rows_free(rows, n);
	json_t *result = json_pack("{s:o, s:I, s:s}", "resources", list, "ttlMs",
				   (json_int_t)10000, "cacheScope", "private");
	if (offset + (int64_t)n < total) {
		char next[32];
		snprintf(next, sizeof next, "d%lld", (long long)(offset + (int64_t)n));
		json_object_set_new(result, "nextCursor", json_string(next));
	}
	return result;
}

/* Splits sheaf://datasets/ID[/preview][?rows=N].  0, or -1 when uri is not
 * one of sheaf's. */
static int parse_uri(const char *uri, char id[USER_ID_MAX + 1], bool *preview, long *rows)
{
	size_t plen = strlen(URI_PREFIX);
	if (strncmp(uri, URI_PREFIX, plen) != 0)
		return -1;
	const char *p = uri + plen;
	size_t n = strcspn(p, "/?");
	if (n == 0 || n > USER_ID_MAX)
		return -1;
	memcpy(id, p, n);
	id[n] = 0;
	p += n;
	*preview = false;
	*rows = PREVIEW_ROWS;
	if (strncmp(p, "/preview", 8) == 0) {
		*preview = true;
		p += 8;
		if (strncmp(p, "?rows=", 6) == 0) {
			char *end;
			*rows = strtol(p + 6, &end, 10);
			if (end == p + 6 || *end || *rows < 1 || *rows > PREVIEW_MAX_ROWS)
				return -1;
			p = end;
		}
	}
	return *p ? -1 : 0;
}

static char *preview_csv(struct table *t, long rows, size_t max, struct error *e)
{
	struct table_query *q = table_query_new(t);
	table_query_page(q, 0, rows);
	struct table_export *x = table_export_new(t, q, TABLE_CSV, e);
	table_query_free(q);
	if (!x)
		return NULL;
	struct buf b;
	buf_init(&b, max);
	char chunk[16384];
	ssize_t got;
	while ((got = table_export_read(x, chunk, sizeof chunk, e)) > 0)
		if (buf_append(&b, chunk, (size_t)got) < 0) {
			error_set(e, "the preview is larger than SHEAF_MCP_MAX_MESSAGE; ask for "
				  "fewer rows");
			got = -1;
			break;
		}
	table_export_free(x);
	if (got < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_detach(&b);
}

static json_t *read_resource(const json_t *params, struct mcp_call *call, int *code, char *msg,
			     size_t cap)
{
	const char *uri = json_string_value(json_object_get(params, "uri"));
	if (!uri)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: resources/read "
			   "needs params.uri (a string)");
	char id[USER_ID_MAX + 1];
	bool preview;
	long rows;
	if (parse_uri(uri, id, &preview, &rows) < 0) {
		call->not_found = true;
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Resource not found: %.200s (sheaf's "
			   "are " URI_PREFIX "{id} and " URI_PREFIX "{id}/preview?rows=1..1000)",
			   uri);
	}
	struct dataset_row row;
	bool missing;
	char why[512];
	struct table *t = open_dataset(call, id, &row, &missing, why, sizeof why);
	if (!t) {
		dataset_row_clear(&row);
		call->not_found = missing;
		return bad(code, msg, cap, missing ? RPC_INVALID_PARAMS : RPC_INTERNAL_ERROR,
			   "%s: %s", missing ? "Resource not found" : "Resource unavailable", why);
	}
	json_t *content;
	if (preview) {
		struct error e;
		char *csv = preview_csv(t, rows, (size_t)call->app->cfg->mcp_max_message, &e);
		if (!csv) {
			table_close(t);
			dataset_row_clear(&row);
			return bad(code, msg, cap, RPC_INTERNAL_ERROR, "Internal error: %s", e.msg);
		}
		content = json_pack("{s:s, s:s, s:s}", "uri", uri, "mimeType", "text/csv", "text",
				    csv);
		free(csv);
	} else {
		json_t *doc = dataset_json(&row, true);
		json_object_set_new(doc, "columns_profile", table_columns_json(t));
		char *text = json_dumps(doc, JSON_COMPACT);
		json_decref(doc);
		content = json_pack("{s:s, s:s, s:s}", "uri", uri, "mimeType", "application/json",
				    "text", text);
		free(text);
	}
	table_close(t);
	dataset_row_clear(&row);
	return json_pack("{s:[o], s:I, s:s}", "contents", content, "ttlMs", (json_int_t)60000,
			 "cacheScope", "private");
}

/* ---- prompts/get ---- */

static const char *prompt_string(const json_t *args, const char *name)
{
	const char *v = json_string_value(json_object_get(args, name));
	return v && *v ? v : NULL;
}

static json_t *user_text(char *text)
{
	json_t *m = json_pack("{s:s, s:{s:s, s:s}}", "role", "user", "content", "type", "text",
			      "text", text);
	free(text);
	return m;
}

/* The dataset as an embedded resource: the JSON resources/read gives. */
static json_t *embedded_dataset(struct mcp_call *call, const char *id, char **name,
				int *code, char *msg, size_t cap)
{
	json_t *p = json_pack("{s:s}", "uri", "");
	char uri[sizeof URI_PREFIX + USER_ID_MAX + 1];
	snprintf(uri, sizeof uri, URI_PREFIX "%s", id);
	json_object_set_new(p, "uri", json_string(uri));
	json_t *r = read_resource(p, call, code, msg, cap);
	json_decref(p);
	if (!r)
		return NULL;
	json_t *content = json_array_get(json_object_get(r, "contents"), 0);
	json_t *doc = json_loads(json_string_value(json_object_get(content, "text")), 0, NULL);
	*name = xstrdup(json_string_value(json_object_get(doc, "name")) ?
			json_string_value(json_object_get(doc, "name")) : id);
	json_decref(doc);
	json_t *m = json_pack("{s:s, s:{s:s, s:O}}", "role", "user", "content", "type", "resource",
			      "resource", content);
	json_decref(r);
	return m;
}

static json_t *prompt_eclo(const json_t *args, struct mcp_call *call, int *code, char *msg,
			   size_t cap)
{
	const char *text = prompt_string(args, "accident");
	json_error_t je;
	json_t *accident = json_loads(text, 0, &je);
	if (!json_is_object(accident)) {
		json_decref(accident);
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: arguments.accident "
			   "must be a JSON object of the accident's fields");
	}
	char *prediction = NULL;
	if (call->app->eclo) {
		json_t *items = json_array(), *list = json_pack("[O]", accident);
		struct error e;
		if (eclo_predict_items(call->app->eclo, list, 0, 1, items, &e) == 0)
			prediction = json_dumps(json_array_get(items, 0), JSON_COMPACT);
		json_decref(items);
		json_decref(list);
	}
	char *canon = json_dumps(accident, JSON_COMPACT);
	json_decref(accident);
	char *body = tool_printf(
		"Explain the severity of this traffic accident in Daegu to me.\n\n"
		"ECLO (Equivalent Casualty Loss Only) weighs an accident's victims: 10 per "
		"death, 5 per serious injury, 3 per light injury and 1 per reported injury. "
		"sheaf reads the predicted value in steps of those weights: below 3 is 경미 "
		"(minor), 3 to 5 일반 (ordinary), 5 to 10 심각 (serious), 10 and up 매우 심각 "
		"(very serious).\n\nThe accident: %s\n\n%s%s%s\n\nSay what the number means "
		"for this accident, which of its conditions usually make accidents more or less "
		"severe, and how certain such a prediction can be (the model's RMSLE on 2018 "
		"accidents was about 0.45). Answer in the language I write in.",
		canon, prediction ? "sheaf's model predicts: " : "",
		prediction ? prediction : "Call the predict_eclo tool with this accident first.",
		prediction ? "" : "");
	free(canon);
	free(prediction);
	return json_pack("{s:s, s:[o]}", "description", "ECLO explained for one accident",
			 "messages", user_text(body));
}

static json_t *get_prompt(const json_t *params, struct mcp_call *call, int *code, char *msg,
			  size_t cap)
{
	const char *name = json_string_value(json_object_get(params, "name"));
	if (!name)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: prompts/get needs "
			   "params.name (a string)");
	const json_t *args = json_object_get(params, "arguments");
	if (args && !json_is_object(args) && !json_is_null(args))
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: "
			   "params.arguments must be an object of strings");
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)args, key, v)
		if (!json_is_string(v))
			return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: "
				   "arguments.%.60s must be a string", key);
	bool explore = strcmp(name, "explore_dataset") == 0;
	bool ask = strcmp(name, "ask_dataset") == 0;
	if (strcmp(name, "explain_eclo") == 0) {
		if (!prompt_string(args, "accident"))
			return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: "
				   "explain_eclo needs arguments.accident");
		return prompt_eclo(args, call, code, msg, cap);
	}
	if (!explore && !ask)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: no prompt named "
			   "%.100s (prompts/list lists them)", name);
	const char *id = prompt_string(args, "dataset_id");
	const char *question = prompt_string(args, "question");
	if (!id || (ask && !question))
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: %s needs "
			   "arguments.dataset_id%s", name, ask ? " and arguments.question" : "");
	char *dname = NULL;
	json_t *embedded = embedded_dataset(call, id, &dname, code, msg, cap);
	if (!embedded)
		return NULL;
	char *body;
	if (explore)
		body = tool_printf(
			"Explore the dataset \"%s\" (dataset_id %s) with sheaf's tools. Its "
			"details, columns and per-column profile follow. Start with "
			"dataframe_info and missing_values, describe the numeric columns, look "
			"at value_counts of the categorical ones, check date_range and "
			"temporal_pattern if it has dates, and outliers and correlation where "
			"they make sense. Then summarise in a few short paragraphs: what each "
			"row is, data quality problems, and the three findings most worth a "
			"closer look, each with the tool call that shows it.", dname, id);
	else
		body = tool_printf(
			"Answer this question from the dataset \"%s\" (dataset_id %s):\n\n%s\n\n"
			"Its columns and profile follow. Write one read-only SQLite query over "
			"the table named data (quote column names with double quotes) and run "
			"it with the query_sql tool; if it fails, read the error and fix the "
			"query. Answer in the language of the question, give the numbers, and "
			"show the SQL you ran.", dname, id, question);
	free(dname);
	return json_pack("{s:s, s:[o, o]}", "description", explore ? "Explore a dataset"
			 : "Answer a question from a dataset", "messages", user_text(body),
			 embedded);
}

/* ---- completion/complete ---- */

static json_t *complete(const json_t *params, struct mcp_call *call, int *code, char *msg,
			size_t cap)
{
	const json_t *ref = json_object_get(params, "ref");
	const json_t *arg = json_object_get(params, "argument");
	const char *type = json_string_value(json_object_get(ref, "type"));
	const char *name = json_string_value(json_object_get(arg, "name"));
	const char *value = json_string_value(json_object_get(arg, "value"));
	if (!type || !name || !value)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: completion/complete "
			   "needs ref.type, argument.name and argument.value");
	bool ids = (strcmp(type, "ref/prompt") == 0 && strcmp(name, "dataset_id") == 0) ||
		   (strcmp(type, "ref/resource") == 0 && strcmp(name, "id") == 0);
	json_t *values = json_array();
	int64_t total = 0;
	if (ids) {
		struct dataset_row *rows = NULL;
		size_t n = 0;
		struct error e;
		if (store_dataset_list(call->app->store, call->user_id, DATASET_SORT_NEWEST, 1000, 0,
				       &rows, &n, &total, &e) != STORE_OK) {
			json_decref(values);
			log_error("mcp: list datasets: %s", e.msg);
			return bad(code, msg, cap, RPC_INTERNAL_ERROR, "Internal error: the "
				   "datasets could not be listed");
		}
		total = 0;
		for (size_t i = 0; i < n; i++)
			if (strncmp(rows[i].id, value, strlen(value)) == 0) {
				if (total < COMPLETE_MAX)
					json_array_append_new(values, json_string(rows[i].id));
				total++;
			}
		dataset_rows_free(rows, n);
	}
	return json_pack("{s:{s:o, s:I, s:b}}", "completion", "values", values, "total",
			 (json_int_t)total, "hasMore", total > COMPLETE_MAX);
}

/* ---- dispatch ---- */

static json_t *list_of(const char *key, json_t *items, const json_t *params, int *code,
		       char *msg, size_t cap)
{
	int64_t offset;
	if (parse_cursor(params, &offset) < 0 || offset != 0)
		return bad(code, msg, cap, RPC_INVALID_PARAMS, "Invalid params: unknown cursor");
	return json_pack("{s:O, s:I, s:s}", key, items, "ttlMs", (json_int_t)3600000,
			 "cacheScope", "public");
}

json_t *mcp_catalog_call(struct mcp_catalog *c, const char *method, const json_t *params,
			 struct mcp_call *call, int *code, char *msg, size_t cap)
{
	if (strcmp(method, "tools/list") == 0)
		return list_of("tools", c->tools, params, code, msg, cap);
	if (strcmp(method, "prompts/list") == 0)
		return list_of("prompts", c->prompts, params, code, msg, cap);
	if (strcmp(method, "resources/templates/list") == 0)
		return list_of("resourceTemplates", c->templates, params, code, msg, cap);
	if (strcmp(method, "tools/call") == 0)
		return call_tool(params, call, code, msg, cap);
	if (strcmp(method, "resources/list") == 0)
		return list_resources(params, call, code, msg, cap);
	if (strcmp(method, "resources/read") == 0)
		return read_resource(params, call, code, msg, cap);
	if (strcmp(method, "prompts/get") == 0)
		return get_prompt(params, call, code, msg, cap);
	if (strcmp(method, "completion/complete") == 0)
		return complete(params, call, code, msg, cap);
	return bad(code, msg, cap, RPC_METHOD_NOT_FOUND, "Method not found: %.100s", method);
}
