/*
 * Route matching: a method and a path against a table of patterns.
 *
 * Patterns are absolute paths whose segments are literals or `{name}`
 * parameters (`/api/session/{session_id}`); a parameter matches one
 * non-empty segment.  When several patterns fit, the one with the most
 * literal segments wins, so `/api/files/session/{id}` beats
 * `/api/files/{file_id}/{part}`.  HEAD is served by GET routes, and OPTIONS
 * is allowed on every known path.  The router is pure: no allocation, no
 * I/O; parameter values point into the path it was given.
 */
#ifndef SHEAF_HTTP_ROUTER_H
#define SHEAF_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

enum http_method {
	HTTP_GET = 1 << 0,
	HTTP_HEAD = 1 << 1,
	HTTP_POST = 1 << 2,
	HTTP_PUT = 1 << 3,
	HTTP_PATCH = 1 << 4,
	HTTP_DELETE = 1 << 5,
	HTTP_OPTIONS = 1 << 6,
};

struct request;
typedef void (*http_handler)(struct request *req);

/*
 * How a route is served.  ROUTE_USER routes pass the server's authenticate
 * hook first (see http_server_config); ROUTE_PUBLIC ones do not.
 * ROUTE_STREAM (with either): the handler runs as soon as the headers are
 * in, and takes the body in pieces through http_stream() instead of having
 * it buffered under SHEAF_MAX_BODY (uploads).  ROUTE_LARGE: the body is
 * buffered up to the server's large_body instead (batches of rows).
 */
enum route_flags { ROUTE_USER = 0, ROUTE_PUBLIC = 1, ROUTE_STREAM = 2, ROUTE_LARGE = 4 };

struct route {
	unsigned method;          /* exactly one enum http_method bit */
	const char *pattern;
	http_handler handler;
	const char *operation;    /* OpenAPI operation object, JSON text (see api/openapi.c) */
	unsigned flags;           /* enum route_flags: ROUTE_USER or ROUTE_PUBLIC, maybe |
				   * ROUTE_STREAM or ROUTE_LARGE */
};

#define ROUTE_PARAMS_MAX 8

struct route_param {
	const char *name;         /* points into the pattern, not NUL-terminated */
	size_t name_len;
	const char *value;        /* points into the path, not NUL-terminated */
	size_t value_len;
};

struct route_params {
	size_t n;
	struct route_param p[ROUTE_PARAMS_MAX];
};

enum router_result { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_METHOD_NOT_ALLOWED };

/*
 * Finds the route for method + path.  On ROUTE_FOUND *out and *params are
 * set.  For any path that some pattern fits, *allowed receives every method
 * allowed there (HEAD with GET, and OPTIONS); otherwise 0.
 */
enum router_result router_match(const struct route *routes, size_t n, unsigned method,
				const char *path, const struct route **out,
				struct route_params *params, unsigned *allowed);

/*
 * Percent-decodes s in place and returns its new length.  "%00" is left as
 * it is: a decoded NUL would silently cut the string short, so
 * "/api/session/victim%00junk" would name "victim".  Malformed escapes
 * ("%zz", a trailing "%") are kept literally.
 */
size_t http_unescape(char *s);

/* "GET" -> HTTP_GET; 0 for a method sheaf does not serve. */
unsigned http_method_parse(const char *name);
const char *http_method_name(unsigned method);

/* Writes "GET, HEAD, DELETE, OPTIONS" for a method set.  Returns out. */
char *http_allow_list(unsigned methods, char *out, size_t size);

#endif
