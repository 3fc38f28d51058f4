/*
 * Every route sheaf serves, with its OpenAPI operation next to its handler.
 * openapi_build() turns this table into /openapi.json, so the document and
 * the router cannot drift: a route without documentation, or documentation
 * without a route, cannot be written.  Path parameters are documented from
 * the pattern; 4XX/5XX error responses are added to every operation.
 */
#include "api/api.h"

#define JSON(...) #__VA_ARGS__

const struct route api_routes[] = {
	{ HTTP_GET, "/health", api_health, JSON({
		"operationId": "getHealth", "tags": ["system"],
		"summary": "Service health",
		"description": "Checks the metadata store and object storage. 200 when all checks pass, 503 naming the failing check otherwise.",
		"responses": {
			"200": {"description": "Healthy", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
			"503": {"description": "A dependency is unusable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}
		}}) },
	{ HTTP_GET, "/openapi.json", api_openapi, JSON({
		"operationId": "getOpenApi", "tags": ["system"],
		"summary": "This OpenAPI 3.1 document",
		"responses": {"200": {"description": "The document", "content": {"application/json": {"schema": {"type": "object"}}}}}}) },
	{ HTTP_GET, "/docs", api_docs, JSON({
		"operationId": "getDocs", "tags": ["system"],
		"summary": "Browsable API reference (HTML, works offline)",
		"responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}) },
	{ HTTP_POST, "/api/session", api_session_create, JSON({
		"operationId": "createSession", "tags": ["sessions"],
		"summary": "Create a session",
		"description": "With an empty body (or no session_id) the server generates an unguessable id. A chosen id must be 1-64 characters of [A-Za-z0-9_-]; a taken id is 409.",
		"requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionCreate"}}}},
		"responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}}}}) },
	{ HTTP_GET, "/api/session/{session_id}", api_session_get, JSON({
		"operationId": "getSession", "tags": ["sessions"],
		"summary": "Get a session",
		"responses": {"200": {"description": "The session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}}}}) },
	{ HTTP_DELETE, "/api/session/{session_id}", api_session_delete, JSON({
		"operationId": "deleteSession", "tags": ["sessions"],
		"summary": "Delete a session",
		"responses": {"204": {"description": "Deleted"}}}) },
	{ HTTP_GET, "/api/sessions", api_session_list, JSON({
		"operationId": "listSessions", "tags": ["sessions"],
		"summary": "List sessions, newest first",
		"parameters": [
			{"name": "limit", "in": "query", "required": false, "description": "Page size", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
			{"name": "offset", "in": "query", "required": false, "description": "Rows to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}}
		],
		"responses": {"200": {"description": "A page of sessions", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionList"}}}}}}) },
};

const size_t api_routes_count = sizeof api_routes / sizeof api_routes[0];
