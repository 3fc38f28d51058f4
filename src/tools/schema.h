/*
 * Checking JSON values against the JSON Schemas of the tool registry.
 *
 * The subset the registry's schemas use (draft 2020-12 keywords): type (a
 * name or a list), properties, required, additionalProperties (false or a
 * schema), items, minItems, maxItems, uniqueItems, enum, const, minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, minLength, maxLength (in
 * characters), anyOf, oneOf, and description/title/default/examples (not
 * checked).  A schema that uses any other keyword is refused by
 * schema_check_schema, so a tool cannot promise what is not checked.
 *
 * Written here because Debian has no C library for JSON Schema; the subset
 * is small and every keyword has tests.
 */
#ifndef SHEAF_TOOLS_SCHEMA_H
#define SHEAF_TOOLS_SCHEMA_H

#include <jansson.h>

#include "base/error.h"

/* 0 when value satisfies schema; else -1 with e naming the first place that
 * does not, as a path from root ("args.columns[2]: must be a string"). */
int schema_validate(const json_t *schema, const json_t *value, const char *root,
		    struct error *e);

/* 0 when schema uses only the keywords above, correctly typed; else -1. */
int schema_check_schema(const json_t *schema, struct error *e);

#endif
