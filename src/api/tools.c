/*
 * The analysis tools over HTTP: GET /api/tools lists the registry
 * (tools/tools.h); POST /api/datasets/{dataset_id}/tools/{name} runs one
 * with the body as its arguments, on a slow-work thread.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "app.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "datasets/datasets.h"
#include "tools/tools.h"

void api_tools_list(struct request *req)
{
	http_reply_json(req, 200, json_pack("{s:o}", "tools", tools_list_json()));
}

struct tool_job {
	const struct tool *tool;
	json_t *args;
	struct dataset_row row;
	int64_t start_ns;
};

static void job_free(struct tool_job *job)
{
	json_decref(job->args);
	dataset_row_clear(&job->row);
	free(job);
}

static void run_tool(struct request *req, void *arg)
{
	struct tool_job *job = arg;
	struct table *t = api_open_dataset(req, &job->row);
	if (!t) {
		job_free(job);
		return;
	}
	struct tool_ctx ctx = {
		.t = t,
		.frames = req->app->frames,
		.key = job->row.data_key,
		.lim = sql_limits_for(req->app->cfg, false),
		.app = req->app,
		.user_id = job->row.owner_id,
	};
	struct tool_output out;
	struct tool_error err;
	if (tool_call(job->tool, &ctx, job->args, &out, &err) < 0) {
		switch (err.kind) {
		case TOOL_ERR_ARGUMENT:
			http_reply_error(req, 422, "invalid_argument", "%s", err.msg);
			break;
		case TOOL_ERR_TIMEOUT:
			http_reply_error(req, 422, "query_timeout", "%s", err.msg);
			break;
		case TOOL_ERR_TOO_BIG:
			http_reply_error(req, 422, "query_too_big", "%s", err.msg);
			break;
		default:
			log_error("tool %s on dataset %s (request %s): %s", job->tool->name,
				  job->row.id, req->request_id, err.msg);
			http_reply_error(req, 500, "internal", "the tool failed; see the server log");
		}
	} else {
		json_t *body = json_pack("{s:s, s:s, s:o, s:s, s:I}", "tool", job->tool->name,
					 "dataset_id", job->row.id, "result", out.result,
					 "summary", out.summary, "elapsed_ms",
					 (json_int_t)((clock_mono_ns() - job->start_ns) / 1000000));
		out.result = NULL;
		tool_output_clear(&out);
		http_reply_json(req, 200, body);
	}
	table_close(t);
	job_free(job);
}

void api_dataset_tool(struct request *req)
{
	const char *name = http_param(req, "name");
	const struct tool *tool = name ? tool_find(name) : NULL;
	if (!tool || tool->scope != TOOL_ON_DATASET) {
		http_reply_error(req, 404, "not_found", "no tool named %.100s; GET /api/tools lists "
				 "them", name ? name : "");
		return;
	}
	json_t *args;
	if (http_json_body(req, true, &args))
		return;
	struct tool_job *job = xcalloc(1, sizeof *job);
	job->tool = tool;
	job->args = args ? args : json_object();
	job->start_ns = clock_mono_ns();
	if (api_find_ready(req, &job->row) < 0) {
		job_free(job);
		return;
	}
	if (http_defer(req, run_tool, job) < 0)
		job_free(job);
}
