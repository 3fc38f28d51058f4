/*
 * Every route sheaf serves, with its OpenAPI operation next to its handler.
 * A row ends in ROUTE_PUBLIC when it needs no access token, or ROUTE_USER
 * when it runs as the authenticated user (see api_authenticate).
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
		}}), ROUTE_PUBLIC },
	{ HTTP_GET, "/openapi.json", api_openapi, JSON({
		"operationId": "getOpenApi", "tags": ["system"],
		"summary": "This OpenAPI 3.1 document",
		"responses": {"200": {"description": "The document", "content": {"application/json": {"schema": {"type": "object"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_GET, "/docs", api_docs, JSON({
		"operationId": "getDocs", "tags": ["system"],
		"summary": "Browsable API reference (HTML, works offline)",
		"responses": {"200": {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_POST, "/mcp", api_mcp_post, JSON({
		"operationId": "mcp", "tags": ["mcp"],
		"summary": "Model Context Protocol (Streamable HTTP): one JSON-RPC message",
		"description": "Protocol 2026-07-28 (every request carries _meta io.modelcontextprotocol/protocolVersion and clientCapabilities, and the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers) and 2025-11-25 (initialize opens a session named by the Mcp-Session-Id response header). Notifications get 202. The answer is application/json, or a live text/event-stream (each progress notification as it happens, then the answer; a keep-alive comment every 15 s of quiet) when the request has a progressToken and the client accepts it; closing that stream, or the connection while a JSON answer is worked on, cancels a 2026-07-28 request. An Origin that is not loopback, SHEAF_PUBLIC_URL or in SHEAF_MCP_ORIGINS gets 403, checked before the bearer token (401); a body over SHEAF_MCP_MAX_MESSAGE gets 413 before it is read. Error bodies are JSON-RPC error responses.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}}},
		"responses": {
			"200": {"description": "The JSON-RPC response", "content": {"application/json": {"schema": {"type": "object"}}, "text/event-stream": {"schema": {"type": "string"}}}},
			"202": {"description": "A notification or response, accepted"}},
		"security": [{"bearerAuth": []}]}), ROUTE_PUBLIC | ROUTE_STREAM },
	{ HTTP_GET, "/mcp", api_mcp_get, JSON({
		"operationId": "mcpStream", "tags": ["mcp"],
		"summary": "No standalone event stream: 405",
		"responses": {"405": {"description": "Not offered"}},
		"security": [{"bearerAuth": []}]}), ROUTE_PUBLIC },
	{ HTTP_DELETE, "/mcp", api_mcp_delete, JSON({
		"operationId": "mcpEndSession", "tags": ["mcp"],
		"summary": "End a 2025-11-25 MCP session (Mcp-Session-Id header)",
		"responses": {"204": {"description": "Ended"}, "404": {"description": "No such session"}, "405": {"description": "No Mcp-Session-Id header"}},
		"security": [{"bearerAuth": []}]}), ROUTE_PUBLIC },
	{ HTTP_POST, "/api/auth/register", api_auth_register, JSON({
		"operationId": "register", "tags": ["auth"],
		"summary": "Create an account",
		"description": "The email is trimmed and lower-cased and must be unused (409). The password needs at least 10 characters of at least two kinds. Rate limited per client address and per email (429 with Retry-After).",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Register"}}}},
		"responses": {"201": {"description": "The new account", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_POST, "/api/auth/login", api_auth_login, JSON({
		"operationId": "login", "tags": ["auth"],
		"summary": "Log in: trade email and password for tokens",
		"description": "A wrong email and a wrong password get the same 401. Rate limited per client address and per account (failed attempts) with 429 and Retry-After.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Login"}}}},
		"responses": {"200": {"description": "A token pair", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenPair"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_POST, "/api/auth/refresh", api_auth_refresh, JSON({
		"operationId": "refreshTokens", "tags": ["auth"],
		"summary": "Trade a refresh token for a new pair",
		"description": "The refresh token is single use. Presenting one that was already used revokes every token from the same login (401 token_reused): that is how a stolen copy is caught.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RefreshToken"}}}},
		"responses": {"200": {"description": "A new token pair", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenPair"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_POST, "/api/auth/logout", api_auth_logout, JSON({
		"operationId": "logout", "tags": ["auth"],
		"summary": "Log out: revoke the refresh token and every token from the same login",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RefreshToken"}}}},
		"responses": {"204": {"description": "Revoked"}}}), ROUTE_PUBLIC },
	{ HTTP_GET, "/api/users/me", api_me_get, JSON({
		"operationId": "getMe", "tags": ["users"],
		"summary": "Your account",
		"responses": {"200": {"description": "The account", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}}), ROUTE_USER },
	{ HTTP_PATCH, "/api/users/me", api_me_update, JSON({
		"operationId": "updateMe", "tags": ["users"],
		"summary": "Change your name or email",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UserUpdate"}}}},
		"responses": {"200": {"description": "The account after the change", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/User"}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/users/me/password", api_me_password, JSON({
		"operationId": "changePassword", "tags": ["users"],
		"summary": "Change your password",
		"description": "Needs the current password (403 if wrong). Revokes every refresh token and access token of the account and returns a fresh pair for this client.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PasswordChange"}}}},
		"responses": {"200": {"description": "A new token pair", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenPair"}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/session", api_session_create, JSON({
		"operationId": "createSession", "tags": ["sessions"],
		"summary": "Create a session",
		"description": "With an empty body (or no session_id) the server generates an unguessable id. A chosen id must be 1-64 characters of [A-Za-z0-9_-]; ids are unique per user, and one you already use is 409.",
		"requestBody": {"required": false, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionCreate"}}}},
		"responses": {"201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/session/{session_id}", api_session_get, JSON({
		"operationId": "getSession", "tags": ["sessions"],
		"summary": "Get a session",
		"responses": {"200": {"description": "The session", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Session"}}}}}}), ROUTE_USER },
	{ HTTP_DELETE, "/api/session/{session_id}", api_session_delete, JSON({
		"operationId": "deleteSession", "tags": ["sessions"],
		"summary": "Delete a session",
		"responses": {"204": {"description": "Deleted"}}}), ROUTE_USER },
	{ HTTP_POST, "/api/files/upload", api_file_upload, JSON({
		"operationId": "uploadFiles", "tags": ["files"],
		"summary": "Upload one or more files into a session",
		"description": "multipart/form-data: a session_id field (before the file parts; or ?session_id=) and one or more file parts. Each file is streamed to object storage while its SHA-256 is computed; its type is found from its bytes (libmagic). All files of a request are listed together or not at all. Limits: SHEAF_UPLOAD_MAX_FILE per file, SHEAF_UPLOAD_MAX_REQUEST per request (413).",
		"parameters": [{"name": "session_id", "in": "query", "required": false, "description": "The session, instead of a form field", "schema": {"type": "string"}}],
		"requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/FileUpload"}}}},
		"responses": {"201": {"description": "The stored files", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FileList"}}}}}}), ROUTE_USER | ROUTE_STREAM },
	{ HTTP_GET, "/api/files/session/{session_id}", api_file_list, JSON({
		"operationId": "listSessionFiles", "tags": ["files"],
		"summary": "List a session's files, oldest first",
		"parameters": [
			{"name": "limit", "in": "query", "required": false, "description": "Page size", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
			{"name": "offset", "in": "query", "required": false, "description": "Rows to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}}
		],
		"responses": {"200": {"description": "A page of files", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/FilePage"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/files/{file_id}", api_file_get, JSON({
		"operationId": "getFile", "tags": ["files"],
		"summary": "A file's metadata",
		"responses": {"200": {"description": "The file", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/File"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/files/{file_id}/download", api_file_download, JSON({
		"operationId": "downloadFile", "tags": ["files"],
		"summary": "A file's bytes",
		"description": "Streamed with Content-Type (from the bytes), Content-Length, ETag (the SHA-256), Content-Disposition (RFC 6266 with a UTF-8 filename*), Range (one range: 206, or 416) and If-None-Match (304).",
		"parameters": [
			{"name": "Range", "in": "header", "required": false, "description": "bytes=START-END, bytes=START- or bytes=-LAST", "schema": {"type": "string"}},
			{"name": "If-None-Match", "in": "header", "required": false, "description": "An ETag from an earlier download", "schema": {"type": "string"}}
		],
		"responses": {
			"200": {"description": "The bytes", "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
			"206": {"description": "The requested range", "content": {"application/octet-stream": {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}}},
			"304": {"description": "Not modified"}
		}}), ROUTE_USER },
	{ HTTP_DELETE, "/api/files/{file_id}", api_file_delete, JSON({
		"operationId": "deleteFile", "tags": ["files"],
		"summary": "Delete a file: its row and its bytes",
		"responses": {"204": {"description": "Deleted"}}}), ROUTE_USER },
	{ HTTP_GET, "/api/sessions", api_session_list, JSON({
		"operationId": "listSessions", "tags": ["sessions"],
		"summary": "List sessions, newest first",
		"parameters": [
			{"name": "limit", "in": "query", "required": false, "description": "Page size", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
			{"name": "offset", "in": "query", "required": false, "description": "Rows to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}}
		],
		"responses": {"200": {"description": "A page of sessions", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SessionList"}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/datasets/upload", api_dataset_upload, JSON({
		"operationId": "uploadDataset", "tags": ["datasets"],
		"summary": "Upload a CSV, TSV, XLSX or XLS file as a dataset",
		"description": "multipart/form-data with a file part named file and optional fields. The encoding (CSV), delimiter, header and column types are found from the data. Uploads up to SHEAF_DATASET_SYNC_BYTES are ingested before the answer (201, status ready; 422 when the file cannot be read, naming the line and the problem); larger ones answer 202 with status processing and ingest in the background (poll GET /api/datasets/{dataset_id}). Limit: SHEAF_DATASET_MAX_UPLOAD (413).",
		"requestBody": {"required": true, "content": {"multipart/form-data": {"schema": {"$ref": "#/components/schemas/DatasetUpload"}}}},
		"responses": {"201": {"description": "Ingested", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}, "202": {"description": "Ingesting in the background", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}}}), ROUTE_USER | ROUTE_STREAM },
	{ HTTP_GET, "/api/datasets", api_dataset_list, JSON({
		"operationId": "listDatasets", "tags": ["datasets"],
		"summary": "List your datasets",
		"parameters": [
			{"name": "limit", "in": "query", "required": false, "description": "Page size", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
			{"name": "offset", "in": "query", "required": false, "description": "Rows to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}},
			{"name": "sort", "in": "query", "required": false, "description": "newest (default), oldest, name, -name, rows (most first), size (largest first)", "schema": {"type": "string"}}
		],
		"responses": {"200": {"description": "A page of datasets", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetList"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/datasets/{dataset_id}", api_dataset_get, JSON({
		"operationId": "getDataset", "tags": ["datasets"],
		"summary": "A dataset: details, status and progress, schema and column profiles",
		"responses": {"200": {"description": "The dataset", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}}}), ROUTE_USER },
	{ HTTP_PATCH, "/api/datasets/{dataset_id}", api_dataset_update, JSON({
		"operationId": "updateDataset", "tags": ["datasets"],
		"summary": "Rename a dataset or change its description",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}, "description": {"type": "string"}}}}}},
		"responses": {"200": {"description": "The dataset", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}}}), ROUTE_USER },
	{ HTTP_DELETE, "/api/datasets/{dataset_id}", api_dataset_delete, JSON({
		"operationId": "deleteDataset", "tags": ["datasets"],
		"summary": "Delete a dataset, its files in storage and its share links",
		"responses": {"204": {"description": "Deleted"}}}), ROUTE_USER },
	{ HTTP_GET, "/api/datasets/{dataset_id}/preview", api_dataset_preview, JSON({
		"operationId": "previewDataset", "tags": ["datasets"],
		"summary": "The first rows",
		"parameters": [{"name": "rows", "in": "query", "required": false, "description": "How many", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20}}],
		"responses": {"200": {"description": "The first rows", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetPage"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/datasets/{dataset_id}/rows", api_dataset_rows, JSON({
		"operationId": "datasetRows", "tags": ["datasets"],
		"summary": "A page of rows, filtered and sorted",
		"parameters": [
			{"name": "limit", "in": "query", "required": false, "description": "Page size", "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}},
			{"name": "offset", "in": "query", "required": false, "description": "Rows to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}},
			{"name": "filter", "in": "query", "required": false, "description": "Repeatable: COLUMN OP VALUE with OP one of = != > >= < <= ~ (contains) !~; values compare by the column's type; COLUMN= is null, COLUMN!= is not null", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true},
			{"name": "sort", "in": "query", "required": false, "description": "Repeatable: COLUMN ascending or -COLUMN descending (nulls last)", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true}
		],
		"responses": {"200": {"description": "A page of rows", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetPage"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/datasets/{dataset_id}/export", api_dataset_export, JSON({
		"operationId": "exportDataset", "tags": ["datasets"],
		"summary": "The whole dataset (or the filtered rows) as CSV or JSON, streamed",
		"parameters": [
			{"name": "format", "in": "query", "required": false, "description": "csv (default) or json (an array of objects)", "schema": {"type": "string", "enum": ["csv", "json"]}},
			{"name": "bom", "in": "query", "required": false, "description": "CSV: 1 starts the file with a UTF-8 BOM, so Excel reads Korean text right", "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}},
			{"name": "filter", "in": "query", "required": false, "description": "Repeatable: COLUMN OP VALUE with OP one of = != > >= < <= ~ (contains) !~; values compare by the column's type; COLUMN= is null, COLUMN!= is not null", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true},
			{"name": "sort", "in": "query", "required": false, "description": "Repeatable: COLUMN ascending or -COLUMN descending (nulls last)", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true}
		],
		"responses": {"200": {"description": "The rows", "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/datasets/{dataset_id}/query", api_dataset_query, JSON({
		"operationId": "queryDataset", "tags": ["query"],
		"summary": "Run read-only SQL over a dataset's rows (the table data)",
		"description": "One SELECT, WITH, VALUES or EXPLAIN statement over the table data; nothing else can be read or written (no ATTACH, PRAGMA, writes, extension loading; an allow-list of functions). Limits: SHEAF_QUERY_TIMEOUT_MS of SQLite work (422 query_timeout), SHEAF_QUERY_MEMORY of heap and SHEAF_QUERY_MAX_VALUE per value (422 query_too_big); a refused statement is 400 forbidden_sql, a wrong one 400 bad_sql. The answer holds at most limit rows (default 1000, at most SHEAF_QUERY_MAX_ROWS) and SHEAF_QUERY_MAX_BYTES; truncated says rows were left out. Equal SQL, params and limit on the same dataset version are answered from the cache (cached: true) unless the query calls random(), randomblob() or the current time. With stream: true (JSON) or Accept: text/csv (CSV with a header row) every row is sent as it is read, in constant memory, with SHEAF_QUERY_STREAM_TIMEOUT_MS of SQLite work; a failure after the first row cuts the response short.",
		"parameters": [{"name": "Accept", "in": "header", "required": false, "description": "text/csv for a CSV stream", "schema": {"type": "string"}}],
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Query"}}}},
		"responses": {"200": {"description": "The rows", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/QueryResult"}}, "text/csv": {"schema": {"type": "string"}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/datasets/{dataset_id}/transform", api_dataset_transform, JSON({
		"operationId": "transformDataset", "tags": ["query"],
		"summary": "Make a new dataset from this one by a list of steps",
		"description": "Steps run in order: filter {where: SQL expression}, select {columns}, rename {columns: {old: new}}, derive {name, expression}, sort {by: [{column, descending}]}, deduplicate {columns?}, join {dataset_id, on: [names] or [{left, right}], how: inner|left, columns?}, aggregate {by, aggregations: [{column?, function: sum|mean|count|min|max|median|std|nunique, as?}]}, limit {n}. Expressions are SQLite expressions over the current columns, run in the query sandbox. The result becomes a new dataset you own, with parent_id set to this one: 201 when ingested within the request, 202 (status processing) when it is larger than SHEAF_DATASET_SYNC_BYTES. A bad step is 400 bad_transform naming it (steps[2] (derive): ...).",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Transform"}}}},
		"responses": {"201": {"description": "The new dataset, ingested", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}, "202": {"description": "The new dataset, ingesting in the background", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/tools", api_tools_list, JSON({
		"operationId": "listTools", "tags": ["tools"],
		"summary": "The analysis tools, with the JSON Schemas of their arguments and results",
		"responses": {"200": {"description": "The registry", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ToolList"}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/datasets/{dataset_id}/tools/{name}", api_dataset_tool, JSON({
		"operationId": "runTool", "tags": ["tools"],
		"summary": "Run one analysis tool over a dataset",
		"description": "The body is the tool's arguments (a JSON object; empty means {}), checked against its input_schema from GET /api/tools: 422 invalid_argument names the bad field (args.column...), an unknown column, or a column of the wrong type. The result is structured JSON (numbers as numbers, tables as {columns, rows}) plus a one-line summary. Tools run with the query limits (SHEAF_QUERY_TIMEOUT_MS, SHEAF_QUERY_MEMORY).",
		"requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object"}}}},
		"responses": {"200": {"description": "The result", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ToolResult"}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/datasets/{dataset_id}/share", api_dataset_share, JSON({
		"operationId": "shareDataset", "tags": ["datasets"],
		"summary": "Create a share link (read-only access without an account)",
		"requestBody": {"required": false, "content": {"application/json": {"schema": {"type": "object", "properties": {"expires_in_days": {"type": "number", "exclusiveMinimum": 0, "maximum": 3650, "description": "Default SHEAF_SHARE_TTL_DAYS (7)"}}}}}},
		"responses": {"201": {"description": "The link; share_token is shown only here", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Share"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/datasets/{dataset_id}/shares", api_dataset_shares, JSON({
		"operationId": "listShares", "tags": ["datasets"],
		"summary": "A dataset's share links (tokens are not shown again)",
		"responses": {"200": {"description": "The links", "content": {"application/json": {"schema": {"type": "object", "properties": {"shares": {"type": "array", "items": {"$ref": "#/components/schemas/Share"}}}}}}}}}), ROUTE_USER },
	{ HTTP_DELETE, "/api/datasets/{dataset_id}/shares/{share_id}", api_dataset_unshare, JSON({
		"operationId": "revokeShare", "tags": ["datasets"],
		"summary": "Revoke a share link",
		"responses": {"204": {"description": "Revoked"}}}), ROUTE_USER },
	{ HTTP_GET, "/api/datasets/shared/{token}", api_shared_get, JSON({
		"operationId": "getSharedDataset", "tags": ["datasets"],
		"summary": "A shared dataset: details, schema and the first rows (no account needed)",
		"security": [],
		"responses": {"200": {"description": "The dataset, with preview", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Dataset"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_GET, "/api/datasets/shared/{token}/preview", api_shared_preview, JSON({
		"operationId": "previewSharedDataset", "tags": ["datasets"],
		"summary": "The first rows of a shared dataset",
		"security": [],
		"parameters": [{"name": "rows", "in": "query", "required": false, "description": "How many", "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 20}}],
		"responses": {"200": {"description": "The first rows", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetPage"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_GET, "/api/datasets/shared/{token}/rows", api_shared_rows, JSON({
		"operationId": "sharedDatasetRows", "tags": ["datasets"],
		"summary": "A page of a shared dataset's rows, filtered and sorted",
		"security": [],
		"parameters": [
			{"name": "limit", "in": "query", "required": false, "description": "Page size", "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}},
			{"name": "offset", "in": "query", "required": false, "description": "Rows to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}},
			{"name": "filter", "in": "query", "required": false, "description": "Repeatable: COLUMN OP VALUE with OP one of = != > >= < <= ~ (contains) !~; values compare by the column's type; COLUMN= is null, COLUMN!= is not null", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true},
			{"name": "sort", "in": "query", "required": false, "description": "Repeatable: COLUMN ascending or -COLUMN descending (nulls last)", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true}
		],
		"responses": {"200": {"description": "A page of rows", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/DatasetPage"}}}}}}), ROUTE_PUBLIC },
	{ HTTP_GET, "/api/datasets/shared/{token}/export", api_shared_export, JSON({
		"operationId": "exportSharedDataset", "tags": ["datasets"],
		"summary": "A shared dataset as CSV or JSON, streamed",
		"security": [],
		"parameters": [
			{"name": "format", "in": "query", "required": false, "description": "csv (default) or json", "schema": {"type": "string", "enum": ["csv", "json"]}},
			{"name": "bom", "in": "query", "required": false, "description": "CSV: 1 starts the file with a UTF-8 BOM, so Excel reads Korean text right", "schema": {"type": "string", "enum": ["0", "1", "true", "false"]}},
			{"name": "filter", "in": "query", "required": false, "description": "Repeatable: COLUMN OP VALUE with OP one of = != > >= < <= ~ (contains) !~; values compare by the column's type; COLUMN= is null, COLUMN!= is not null", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true},
			{"name": "sort", "in": "query", "required": false, "description": "Repeatable: COLUMN ascending or -COLUMN descending (nulls last)", "schema": {"type": "array", "items": {"type": "string"}}, "style": "form", "explode": true}
		],
		"responses": {"200": {"description": "The rows", "content": {"text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}}), ROUTE_PUBLIC },
	{ HTTP_POST, "/api/models", api_model_create, JSON({
		"operationId": "trainModel", "tags": ["models"],
		"summary": "Train a gradient-boosted model on a dataset (a background job)",
		"description": "Checks the request against the dataset's columns (422 invalid_argument naming the field), records the model (status training) and its job, and answers 202 at once; poll GET /api/models/{model_id} (progress, then status ready with validation metrics and feature importances, or failed with the reason) or GET /api/jobs/{job_id}. Text columns are categories (coded by their mean target; a category unseen in training is treated as missing); date and datetime columns become year, month, day, weekday (and hour). validation.split random holds out a seeded random fraction; time holds out the latest fraction by time_column (or the rows from validation.from on). Regression reports RMSE, MAE and RMSLE, classification accuracy, log loss and AUC (two classes), on the held-out rows and on the original scale (log_target trains on log1p and predicts expm1). Training a model of a name you already used makes its next version.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TrainRequest"}}}},
		"responses": {"202": {"description": "Training queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Model"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/models", api_model_list, JSON({
		"operationId": "listModels", "tags": ["models"],
		"summary": "List your models, newest first",
		"parameters": [
			{"name": "limit", "in": "query", "required": false, "description": "Page size", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
			{"name": "offset", "in": "query", "required": false, "description": "Rows to skip", "schema": {"type": "integer", "minimum": 0, "default": 0}}
		],
		"responses": {"200": {"description": "A page of models", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ModelList"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/models/{model_id}", api_model_get, JSON({
		"operationId": "getModel", "tags": ["models"],
		"summary": "A model: status and progress, then its features, parameters, validation metrics and importances",
		"responses": {"200": {"description": "The model", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Model"}}}}}}), ROUTE_USER },
	{ HTTP_DELETE, "/api/models/{model_id}", api_model_delete, JSON({
		"operationId": "deleteModel", "tags": ["models"],
		"summary": "Delete a model (its training stops if it is still running)",
		"responses": {"204": {"description": "Deleted"}}}), ROUTE_USER },
	{ HTTP_POST, "/api/models/{model_id}/predict", api_model_predict, JSON({
		"operationId": "predictModel", "tags": ["models"],
		"summary": "Predict from rows, in request order",
		"description": "rows: objects of column values (at most 10000). Regression answers numbers on the target's scale; classification answers {class, probabilities}. A missing value or an unknown category is treated as missing; a value of the wrong type is 422 naming the row and the column. 409 not_ready while the model trains. The model is loaded once and kept warm (SHEAF_MODEL_CACHE).",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}}},
		"responses": {"200": {"description": "Predictions", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Predictions"}}}}}}), ROUTE_USER | ROUTE_LARGE },
	{ HTTP_POST, "/api/models/{model_id}/predict/batch", api_model_predict_batch, JSON({
		"operationId": "predictModelBatch", "tags": ["models"],
		"summary": "Predict many rows as a background job",
		"description": "Like /predict, with up to SHEAF_BATCH_MAX_ROWS rows and an answer of 202 {batch_id, results_url}; a bad row is reported in its own item. At most SHEAF_BATCH_MAX_QUEUED batches are queued or running: 429 with Retry-After beyond.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictRequest"}}}},
		"responses": {"202": {"description": "Queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchQueued"}}}}}}), ROUTE_USER | ROUTE_LARGE },
	{ HTTP_POST, "/api/predict/eclo", api_eclo_predict, JSON({
		"operationId": "predictEclo", "tags": ["prediction"],
		"summary": "ECLO of a Daegu traffic accident (seed 003)",
		"description": "ECLO = 10 x deaths + 5 x serious + 3 x light + 1 x reported injuries, predicted on that scale from the eleven fields. Text fields take the values GET /api/predict/eclo/schema lists; anything else, a missing field, a number out of range or an impossible date is 422 invalid_accident with fields: [{field, message, allowed?}] for every problem. time_period may be left out: it follows from accident_hour. interpretation: 경미 below 3, 일반 3 to 5, 심각 5 to 10, 매우 심각 10 and up.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EcloRequest"}}}},
		"responses": {"200": {"description": "The prediction", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EcloPrediction"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/predict/eclo/schema", api_eclo_schema, JSON({
		"operationId": "ecloSchema", "tags": ["prediction"],
		"summary": "The ECLO fields, their allowed values and ranges, and the interpretation thresholds",
		"responses": {"200": {"description": "The schema", "content": {"application/json": {"schema": {"type": "object"}}}}}}), ROUTE_USER },
	{ HTTP_POST, "/api/predict/eclo/batch", api_eclo_batch, JSON({
		"operationId": "predictEcloBatch", "tags": ["prediction"],
		"summary": "ECLO of many accidents, as a background job",
		"description": "accidents: up to SHEAF_BATCH_MAX_ROWS accidents (413 beyond). Answers 202 {batch_id, status, total, results_url, estimated_completion}; each accident is checked when the batch runs and a bad one is reported in its own item (error), not by failing the batch. At most SHEAF_BATCH_MAX_QUEUED batches are queued or running: 429 with Retry-After beyond. Batches survive a restart.",
		"requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["accidents"], "properties": {"accidents": {"type": "array", "items": {"$ref": "#/components/schemas/EcloRequest"}}}}}}},
		"responses": {"202": {"description": "Queued", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchQueued"}}}}}}), ROUTE_USER | ROUTE_LARGE },
	{ HTTP_GET, "/api/predict/batch/{batch_id}/results", api_batch_results, JSON({
		"operationId": "batchResults", "tags": ["prediction"],
		"summary": "A batch's state and, once done, its results",
		"description": "status: pending, processing, success, failed or cancelled (seed 003's names), progress in percent, and with success results: one item per input in order, {index (from 1), eclo, interpretation, detail, error} for ECLO, {index, prediction, error} for a model.",
		"responses": {"200": {"description": "The batch", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchResults"}}}}}}), ROUTE_USER },
	{ HTTP_GET, "/api/jobs/{job_id}", api_job_get, JSON({
		"operationId": "getJob", "tags": ["jobs"],
		"summary": "A background job (ingestion, training, batch prediction): status, progress, error, result",
		"responses": {"200": {"description": "The job", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}}}}), ROUTE_USER },
	{ HTTP_DELETE, "/api/jobs/{job_id}", api_job_cancel, JSON({
		"operationId": "cancelJob", "tags": ["jobs"],
		"summary": "Cancel a job",
		"description": "A queued job ends cancelled at once; a running one is asked to stop and ends cancelled at its next progress report (cancel_requested is true meanwhile). 409 when it has already finished.",
		"responses": {"202": {"description": "The job after the request", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Job"}}}}}}), ROUTE_USER },
};

const size_t api_routes_count = sizeof api_routes / sizeof api_routes[0];
