/*
 * The HTTP API: the route table (api/routes.c, the one source of routes and
 * of the OpenAPI document) and the handlers, one file per resource.
 */
#ifndef SHEAF_API_API_H
#define SHEAF_API_API_H

#include <jansson.h>
#include <stddef.h>

#include "base/error.h"
#include "http/request.h"

extern const struct route api_routes[];
extern const size_t api_routes_count;

/* The OpenAPI 3.1 document for routes (a new reference; NULL with e set if an
 * operation's JSON in the table does not parse). */
json_t *openapi_build(const struct route *routes, size_t n, const char *version,
		      struct error *e);

void api_health(struct request *req);
void api_openapi(struct request *req);
void api_docs(struct request *req);
void api_session_create(struct request *req);
void api_session_get(struct request *req);
void api_session_list(struct request *req);
void api_session_delete(struct request *req);

#endif
