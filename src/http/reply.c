/*
 * Building responses and reading input for handlers; see request.h.
 * Responses are created here and queued by server.c after the handler
 * returns, when the common headers (request id, CORS) are added.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/log.h"
#include "http/mhd.h"
#include "http/push.h"
#include "http/request.h"

const char *http_header(struct request *req, const char *name)
{
	return mhd.lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_client_address(struct request *req, char out[HTTP_ADDR_MAX])
{
	const union MHD_ConnectionInfo *info =
		req->conn ? mhd.get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS)
			  : NULL;
	const struct sockaddr *sa = info ? info->client_addr : NULL;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		if (inet_ntop(AF_INET, &a->sin_addr, out, HTTP_ADDR_MAX))
			return out;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		struct in6_addr prefix = a->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&prefix)) {
			if (inet_ntop(AF_INET, &prefix.s6_addr[12], out, HTTP_ADDR_MAX))
				return out;
		} else {
			char text[INET6_ADDRSTRLEN];
			memset(&prefix.s6_addr[8], 0, 8);
			if (inet_ntop(AF_INET6, &prefix, text, sizeof text)) {
				snprintf(out, HTTP_ADDR_MAX, "%s/64", text);
				return out;
			}
		}
	}
	snprintf(out, HTTP_ADDR_MAX, "unknown");
	return out;
}

const char *http_query(struct request *req, const char *name)
{
	return mhd.lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_collect {
	const char *name;
	const char **out;
	size_t max, n;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct query_collect *c = cls;
	(void)kind;
	if (key && strcmp(key, c->name) == 0) {
		if (c->n < c->max)
			c->out[c->n] = value ? value : "";
		c->n++;
	}
	return MHD_YES;
}

size_t http_query_all(struct request *req, const char *name, const char **out, size_t max)
{
	struct query_collect c = { .name = name, .out = out, .max = max };
	mhd.get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_query, &c);
	return c.n;
}

const char *http_param(struct request *req, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < req->params.n; i++) {
		const struct route_param *p = &req->params.p[i];
		if (p->name_len == n && memcmp(p->name, name, n) == 0)
			return pool_strndup(req->pool, p->value, p->value_len);
	}
	return NULL;
}

void http_add_header(struct request *req, const char *name, const char *value)
{
	if (req->n_headers == HTTP_HEADERS_MAX) {
		log_error("response header table full; dropped %s", name);
		return;
	}
	req->headers[req->n_headers].name = pool_strdup(req->pool, name);
	req->headers[req->n_headers].value = pool_strdup(req->pool, value);
	req->n_headers++;
}

void http_set_response(struct request *req, int status, struct MHD_Response *r,
		       const char *content_type, size_t len)
{
	if (!r) {
		/* libmicrohttpd fails only for want of memory: same policy as xmalloc. */
		fprintf(stderr, "sheaf: out of memory creating a response\n");
		abort();
	}
	if (req->response) {
		/* A second reply is a handler bug; keep the first answer. */
		log_error("handler replied twice (%d after %d) on %s", status, req->status, req->path);
		mhd.destroy_response(r);
		return;
	}
	if (content_type)
		mhd.add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	req->response = r;
	req->status = status;
	req->bytes = len;
}

/* The shortest text that reads back to the real in token (n bytes, as
 * jansson wrote it with 17 digits: 35.838856960000001), keeping it a real
 * (35.83885696; 99.0 stays 99.0).  Written to out (>= 32 bytes); returns
 * its length, or 0 to keep the token. */
static size_t shortest_real(const char *token, size_t n, char *out)
{
	char buf[40];
	if (n >= sizeof buf)
		return 0;
	memcpy(buf, token, n);
	buf[n] = 0;
	double v = strtod(buf, NULL);
	for (int prec = 1; prec <= 17; prec++) {
		int len = snprintf(out, 32, "%.*g", prec, v);
		if (strtod(out, NULL) == v) {
			if (!strpbrk(out, ".eEn") && len + 2 < 32) {   /* n: inf, nan */
				memcpy(out + len, ".0", 3);
				len += 2;
			}
			return (size_t)len < n ? (size_t)len : 0;
		}
	}
	return 0;
}

/* json_dumps writes every real with 17 significant digits; this rewrites
 * each real outside strings in its shortest exact form.  Returns text or a
 * new string (text freed). */
static char *shorten_reals(char *text)
{
	size_t n = strlen(text);
	char *out = NULL;
	size_t o = 0, copied = 0;
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
			continue;
		}
		if (c == '"') {
			in_string = true;
			continue;
		}
		if (c != '-' && (c < '0' || c > '9'))
			continue;
		size_t end = i;
		bool real = false;
		while (end < n && strchr("0123456789.eE+-", text[end])) {
			real |= text[end] == '.' || text[end] == 'e' || text[end] == 'E';
			end++;
		}
		char short_form[32];
		size_t len = real && end - i > 16 ? shortest_real(text + i, end - i, short_form) : 0;
		if (len) {
			if (!out)
				out = xmalloc(n + 1);
			memcpy(out + o, text + copied, i - copied);
			o += i - copied;
			memcpy(out + o, short_form, len);
			o += len;
			copied = end;
		}
		i = end - 1;
	}
	if (!out)
		return text;
	memcpy(out + o, text + copied, n - copied);
	out[o + n - copied] = 0;
	free(text);
	return out;
}

char *http_json_text(const json_t *body)
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	return text ? shorten_reals(text) : NULL;
}

void http_reply_json(struct request *req, int status, json_t *body)
{
	char *text = http_json_text(body);
	json_decref(body);
	if (!text) {
		http_reply_error(req, 500, "internal", "the response could not be encoded");
		return;
	}
	http_reply_owned(req, status, "application/json", text, strlen(text));
}

void http_reply_owned(struct request *req, int status, const char *content_type, char *data,
		      size_t len)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	http_set_response(req, status, r, content_type, len);
}

void http_reply_empty(struct request *req, int status)
{
	struct MHD_Response *r = mhd.create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	http_set_response(req, status, r, NULL, 0);
}

void http_reply_static(struct request *req, int status, const char *content_type,
		       const void *data, size_t len)
{
	struct MHD_Response *r =
		mhd.create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
	http_set_response(req, status, r, content_type, len);
}

void http_reply_fd(struct request *req, int status, const char *content_type, int fd,
		   uint64_t offset, uint64_t length)
{
	struct MHD_Response *r = mhd.create_response_from_fd_at_offset64(length, fd, offset);
	http_set_response(req, status, r, content_type,
		     length == HTTP_LENGTH_UNKNOWN ? 0 : (size_t)length);
}

struct stream_reply {
	http_read_fn read;
	void *ctx;
	void (*release)(void *ctx);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_reply *s = cls;
	ssize_t n = s->read(s->ctx, pos, buf, max);
	if (n == 0)   /* the end (MHD would take 0 as "call again") */
		return MHD_CONTENT_READER_END_OF_STREAM;
	return n < 0 ? MHD_CONTENT_READER_END_WITH_ERROR : n;
}

static void stream_free(void *cls)
{
	struct stream_reply *s = cls;
	if (s->release)
		s->release(s->ctx);
	free(s);
}

void http_reply_stream(struct request *req, int status, const char *content_type,
		       uint64_t length, http_read_fn read, void *ctx, void (*release)(void *ctx))
{
	struct stream_reply *s = xmalloc(sizeof *s);
	s->read = read;
	s->ctx = ctx;
	s->release = release;
	struct MHD_Response *r = mhd.create_response_from_callback(length, 64 * 1024, stream_read,
								   s, stream_free);
	http_set_response(req, status, r, content_type,
		     length == HTTP_LENGTH_UNKNOWN ? 0 : (size_t)length);
}

int http_range(const char *h, uint64_t size, uint64_t *start, uint64_t *length)
{
	if (!h || strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	const char *p = h + 6;
	while (*p == ' ')
		p++;
	char *end;
	if (*p == '-') {   /* the last N bytes */
		if (p[1] < '0' || p[1] > '9')
			return 0;
		errno = 0;
		unsigned long long n = strtoull(p + 1, &end, 10);
		if (errno || *end)
			return 0;
		if (n == 0 || size == 0)
			return -1;
		*length = n < size ? n : size;
		*start = size - *length;
		return 1;
	}
	if (*p < '0' || *p > '9')
		return 0;
	errno = 0;
	unsigned long long first = strtoull(p, &end, 10);
	if (errno || *end != '-')
		return 0;
	p = end + 1;
	unsigned long long last = size ? size - 1 : 0;
	if (*p) {
		if (*p < '0' || *p > '9')
			return 0;
		last = strtoull(p, &end, 10);
		if (errno || *end || last < first)
			return 0;
		if (last >= size)
			last = size - 1;
	}
	if (first >= size)
		return -1;
	*start = first;
	*length = last - first + 1;
	return 1;
}

bool http_etag_matches(const char *h, const char *etag)
{
	if (!h)
		return false;
	size_t n = strlen(etag);
	for (const char *p = h; *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)   /* weak comparison, as If-None-Match uses */
			p += 2;
		size_t len = strcspn(p, ",");
		while (len && p[len - 1] == ' ')
			len--;
		if (len == n && strncmp(p, etag, n) == 0)
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

json_t *http_error_body(const char *code, const char *detail, const char *request_id,
			int64_t now_ms)
{
	char ts[RFC3339_LEN];
	json_t *detail_json = json_string(detail);
	if (!detail_json)   /* not UTF-8: say so rather than drop the error */
		detail_json = json_string("(error detail was not valid UTF-8)");
	return json_pack("{s:s, s:o, s:s, s:s}", "error", code, "detail", detail_json,
			 "timestamp", clock_rfc3339(now_ms, ts), "request_id", request_id);
}

void http_reply_error(struct request *req, int status, const char *code, const char *fmt, ...)
{
	char detail[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	http_reply_json(req, status, http_error_body(code, detail, req->request_id, clock_now_ms()));
}

/* True for application/json and any application/...+json, parameters ignored. */
static bool is_json_type(const char *ct)
{
	size_t n = strcspn(ct, ";");
	while (n && ct[n - 1] == ' ')
		n--;
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return true;
	return n > 17 && strncasecmp(ct, "application/", 12) == 0 &&
	       strncasecmp(ct + n - 5, "+json", 5) == 0;
}

int http_json_body(struct request *req, bool allow_empty, json_t **out)
{
	*out = NULL;
	if (req->body.len == 0) {
		if (allow_empty)
			return 0;
		http_reply_error(req, 400, "bad_request", "a JSON object body is required");
		return -1;
	}
	const char *ct = http_header(req, MHD_HTTP_HEADER_CONTENT_TYPE);
	if (ct && !is_json_type(ct)) {
		http_reply_error(req, 415, "unsupported_media_type",
				 "send the body as JSON with Content-Type: application/json (got %.100s)",
				 ct);
		return -1;
	}
	json_error_t err;
	/* DECODE_ANY so a scalar body is a clear 422 below, not a parse error;
	 * ALLOW_NUL so "\u0000" is judged by the field's rules, not called malformed. */
	json_t *v = json_loadb(req->body.data, req->body.len,
			       JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
	if (!v) {
		http_reply_error(req, 400, "malformed_json",
				 "malformed JSON at line %d, column %d (byte %d): %s", err.line,
				 err.column, err.position, err.text);
		return -1;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		http_reply_error(req, 422, "invalid_field", "the request body must be a JSON object");
		return -1;
	}
	*out = v;
	return 0;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "unknown";
}

int http_json_string(struct request *req, json_t *obj, const char *field, bool required,
		     const char **out)
{
	json_t *v = json_object_get(obj, field);
	*out = NULL;
	if (!v) {
		if (!required)
			return 0;
		http_reply_error(req, 422, "invalid_field", "%s: this field is required", field);
		return -1;
	}
	if (!json_is_string(v)) {
		http_reply_error(req, 422, "invalid_field", "%s: expected a string, got %s", field,
				 json_type_name(v));
		return -1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		http_reply_error(req, 422, "invalid_field", "%s: must not contain NUL characters",
				 field);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int http_json_only(struct request *req, json_t *obj, const char *const *fields)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		size_t i = 0;
		while (fields[i] && strcmp(fields[i], key) != 0)
			i++;
		if (!fields[i]) {
			http_reply_error(req, 422, "invalid_field", "%.100s: unknown field",
					 key);
			return -1;
		}
	}
	return 0;
}

int http_query_int(struct request *req, const char *name, long long def, long long min,
		   long long max, long long *out)
{
	const char *s = http_query(req, name);
	*out = def;
	if (!s)
		return 0;
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		http_reply_error(req, 422, "invalid_field",
				 "%s: expected an integer from %lld to %lld, got \"%.40s\"", name, min,
				 max, s);
		return -1;
	}
	*out = v;
	return 0;
}
