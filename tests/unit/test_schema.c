/*
 * tools/schema.c: every keyword of the supported JSON Schema subset, each
 * with values that pass and values that fail and the path in the message;
 * schema_check_schema refusing what is not checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "tools/schema.h"

/* value (JSON text) against schema (JSON text): 0 when it passes, else the
 * message must contain want. */
static void check(const char *schema, const char *value, const char *want)
{
	json_error_t je;
	json_t *s = json_loads(schema, JSON_DECODE_ANY, &je);
	json_t *v = json_loads(value, JSON_DECODE_ANY, &je);
	assert_non_null(s);
	assert_non_null(v);
	struct error e = { "" };
	int rc = schema_validate(s, v, "args", &e);
	if (!want && rc != 0)
		fail_msg("%s against %s failed: %s", value, schema, e.msg);
	if (want && rc == 0)
		fail_msg("%s against %s passed; expected \"%s\"", value, schema, want);
	if (want && !strstr(e.msg, want))
		fail_msg("%s against %s: \"%s\" lacks \"%s\"", value, schema, e.msg, want);
	json_decref(s);
	json_decref(v);
}

static void test_types(void **state)
{
	(void)state;
	check("{\"type\":\"integer\"}", "3", NULL);
	check("{\"type\":\"integer\"}", "3.0", NULL);   /* JSON does not tell 3 from 3.0 */
	check("{\"type\":\"integer\"}", "3.5", "args: must be an integer");
	check("{\"type\":\"integer\"}", "\"3\"", "must be an integer");
	check("{\"type\":\"number\"}", "3", NULL);
	check("{\"type\":\"number\"}", "true", "must be a number");
	check("{\"type\":\"string\"}", "\"x\"", NULL);
	check("{\"type\":\"string\"}", "null", "must be a string");
	check("{\"type\":\"boolean\"}", "false", NULL);
	check("{\"type\":\"boolean\"}", "0", "must be a boolean");
	check("{\"type\":\"null\"}", "null", NULL);
	check("{\"type\":\"array\"}", "{}", "must be an array");
	check("{\"type\":\"object\"}", "[]", "must be an object");
	check("{\"type\":[\"string\",\"null\"]}", "null", NULL);
	check("{\"type\":[\"string\",\"null\"]}", "1", "must be string or null");
	check("true", "{\"anything\":1}", NULL);
	check("false", "1", "is not allowed");
}

static void test_numbers_and_strings(void **state)
{
	(void)state;
	check("{\"minimum\":1,\"maximum\":10}", "1", NULL);
	check("{\"minimum\":1,\"maximum\":10}", "10", NULL);
	check("{\"minimum\":1,\"maximum\":10}", "0", "must be at least 1");
	check("{\"minimum\":1,\"maximum\":10}", "10.5", "must be at most 10");
	check("{\"exclusiveMinimum\":0}", "0", "must be more than 0");
	check("{\"exclusiveMinimum\":0}", "0.001", NULL);
	check("{\"exclusiveMaximum\":1}", "1", "must be less than 1");
	check("{\"minimum\":1}", "\"not a number\"", NULL);   /* bounds ignore other types */
	check("{\"minLength\":1}", "\"\"", "must not be empty");
	check("{\"minLength\":2}", "\"대\"", "at least 2 characters");
	check("{\"maxLength\":2}", "\"대구\"", NULL);          /* characters, not bytes */
	check("{\"maxLength\":2}", "\"대구시\"", "at most 2 characters");
	check("{\"enum\":[\"a\",\"b\",1]}", "\"b\"", NULL);
	check("{\"enum\":[\"a\",\"b\",1]}", "1.0", NULL);
	check("{\"enum\":[\"a\",\"b\"]}", "\"c\"", "must be one of [\"a\",\"b\"]");
	check("{\"const\":\"x\"}", "\"x\"", NULL);
	check("{\"const\":\"x\"}", "\"y\"", "must be \"x\"");
}

static void test_arrays(void **state)
{
	(void)state;
	const char *s = "{\"type\":\"array\",\"items\":{\"type\":\"string\"},\"minItems\":1,"
			"\"maxItems\":3,\"uniqueItems\":true}";
	check(s, "[\"a\"]", NULL);
	check(s, "[]", "at least 1 items");
	check(s, "[\"a\",\"b\",\"c\",\"d\"]", "at most 3 items");
	check(s, "[\"a\",2]", "args[1]: must be a string");
	check(s, "[\"a\",\"a\"]", "must not repeat");
}

static void test_objects(void **state)
{
	(void)state;
	const char *s = "{\"type\":\"object\",\"required\":[\"column\"],"
			"\"additionalProperties\":false,\"properties\":{"
			"\"column\":{\"type\":\"string\",\"minLength\":1},"
			"\"steps\":{\"type\":\"array\",\"items\":{\"type\":\"object\","
			"\"required\":[\"op\"],\"properties\":{\"op\":{\"enum\":[\"a\"]}}}}}}";
	check(s, "{\"column\":\"x\"}", NULL);
	check(s, "{}", "args.column: is required");
	check(s, "{\"column\":\"x\",\"other\":1}", "args.other: is not a known field");
	check(s, "{\"column\":\"\"}", "args.column: must not be empty");
	check(s, "{\"column\":\"x\",\"steps\":[{\"op\":\"a\"},{}]}", "args.steps[1].op: is required");
	check(s, "{\"column\":\"x\",\"steps\":[{\"op\":\"b\"}]}", "args.steps[0].op: must be one of");
	check("{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"a\":1,\"b\":2}", NULL);
	check("{\"additionalProperties\":{\"type\":\"integer\"}}", "{\"a\":\"x\"}",
	      "args.a: must be an integer");
}

static void test_alternatives(void **state)
{
	(void)state;
	const char *any = "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"integer\",\"minimum\":0}]}";
	check(any, "\"x\"", NULL);
	check(any, "3", NULL);
	check(any, "-1", "must be a string");        /* the first alternative's message */
	const char *one = "{\"oneOf\":[{\"type\":\"number\"},{\"type\":\"integer\"}]}";
	check(one, "1.5", NULL);
	check(one, "1", "more than one");
	check(one, "\"x\"", "must be a number");
}

static void test_schemas_are_checked(void **state)
{
	(void)state;
	static const struct { const char *schema; int ok; } cases[] = {
		{ "{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}", 1 },
		{ "{\"type\":\"strnig\"}", 0 },
		{ "{\"pattern\":\"^a\"}", 0 },                 /* not checked: refused */
		{ "{\"properties\":{\"a\":{\"format\":\"date\"}}}", 0 },
		{ "{\"items\":{\"type\":\"string\"},\"minItems\":-1}", 0 },
		{ "{\"enum\":[]}", 0 },
		{ "{\"anyOf\":[{\"type\":\"string\"}],\"description\":\"x\",\"default\":1}", 1 },
		{ "{\"required\":[1]}", 0 },
		{ "[]", 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		json_t *s = json_loads(cases[i].schema, JSON_DECODE_ANY, NULL);
		assert_non_null(s);
		struct error e = { "" };
		int rc = schema_check_schema(s, &e);
		if ((rc == 0) != cases[i].ok)
			fail_msg("%s: check gave %d (%s)", cases[i].schema, rc, e.msg);
		json_decref(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_numbers_and_strings),
		cmocka_unit_test(test_arrays),
		cmocka_unit_test(test_objects),
		cmocka_unit_test(test_alternatives),
		cmocka_unit_test(test_schemas_are_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
