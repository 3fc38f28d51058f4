/*
 * The registry: the tool groups' lists in one order, their schemas parsed
 * once, and tool_call.  Each group (tools/<group>.c) exports a
 * NULL-terminated list; a new tool is one entry there.
 *
 * Module state: the parsed schemas, built once (pthread_once) and read-only
 * after that.
 */
#include "tools/tools.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "tools/groups.h"
#include "tools/schema.h"

static const struct tool *const *const groups[] = {
	tools_info, tools_stats, tools_values, tools_rows, tools_time, tools_sql,
	tools_catalog, tools_transform, tools_predict,
};

#define TOOLS_MAX 64

static struct {
	pthread_once_t once;
	size_t n;
	const struct tool *list[TOOLS_MAX];
	json_t *input[TOOLS_MAX];
	json_t *output[TOOLS_MAX];
} reg = { .once = PTHREAD_ONCE_INIT };

static void build(void)
{
	for (size_t g = 0; g < sizeof groups / sizeof *groups; g++)
		for (const struct tool *const *t = groups[g]; *t; t++) {
			if (reg.n == TOOLS_MAX)
				abort();   /* raise TOOLS_MAX */
			reg.input[reg.n] = json_loads((*t)->input_schema, 0, NULL);
			reg.output[reg.n] = json_loads((*t)->output_schema, 0, NULL);
			reg.list[reg.n++] = *t;
		}
}

static void ensure(void)
{
	pthread_once(&reg.once, build);
}

size_t tools_count(void)
{
	ensure();
	return reg.n;
}

const struct tool *tool_at(size_t i)
{
	ensure();
	return i < reg.n ? reg.list[i] : NULL;
}

static size_t index_of(const struct tool *tool)
{
	for (size_t i = 0; i < reg.n; i++)
		if (reg.list[i] == tool)
			return i;
	abort();
}

const struct tool *tool_find(const char *name)
{
	ensure();
	for (size_t i = 0; i < reg.n; i++)
		if (strcmp(reg.list[i]->name, name) == 0)
			return reg.list[i];
	return NULL;
}

const json_t *tool_input_schema(const struct tool *tool)
{
	ensure();
	return reg.input[index_of(tool)];
}

const json_t *tool_output_schema(const struct tool *tool)
{
	ensure();
	return reg.output[index_of(tool)];
}

int tools_check(struct error *e)
{
	ensure();
	for (size_t i = 0; i < reg.n; i++) {
		const struct tool *t = reg.list[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(reg.list[j]->name, t->name) == 0)
				return error_set(e, "tool %s is listed twice", t->name);
		if (!reg.input[i] || !reg.output[i])
			return error_set(e, "tool %s: a schema is not valid JSON", t->name);
		const char *type = json_string_value(json_object_get(reg.input[i], "type"));
		if (!type || strcmp(type, "object") != 0)
			return error_set(e, "tool %s: the input schema must be of type object",
					 t->name);
		struct error se;
		if (schema_check_schema(reg.input[i], &se) < 0)
			return error_set(e, "tool %s input: %s", t->name, se.msg);
		if (schema_check_schema(reg.output[i], &se) < 0)
			return error_set(e, "tool %s output: %s", t->name, se.msg);
	}
	return 0;
}

json_t *tools_list_json(void)
{
	ensure();
	json_t *list = json_array();
	for (size_t i = 0; i < reg.n; i++) {
		const struct tool *t = reg.list[i];
		if (t->scope != TOOL_ON_DATASET)
			continue;
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:O, s:O, s:b}",
			"name", t->name, "title", t->title, "description", t->description,
			"input_schema", reg.input[i], "output_schema", reg.output[i],
			"read_only", t->read_only));
	}
	return list;
}

int tool_call(const struct tool *tool, struct tool_ctx *ctx, const json_t *args,
	      struct tool_output *out, struct tool_error *err)
{
	ensure();
	memset(out, 0, sizeof *out);
	json_t *empty = NULL;
	if (!args)
		args = empty = json_object();
	struct error e;
	if (schema_validate(tool_input_schema(tool), args, "args", &e) < 0) {
		json_decref(empty);
		return tool_fail(err, TOOL_ERR_ARGUMENT, "%s", e.msg);
	}
	int rc = tool->run(ctx, args, out, err);
	json_decref(empty);
	if (rc < 0) {
		tool_output_clear(out);
		return -1;
	}
	if (!out->summary)
		out->summary = xstrdup("");
	return 0;
}

void tool_output_clear(struct tool_output *out)
{
	json_decref(out->result);
	free(out->summary);
	out->result = NULL;
	out->summary = NULL;
}
