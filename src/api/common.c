/*
 * Helpers several resources' handlers share: path ids and the checks an
 * upload passes before its body is read.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "base/config.h"
#include "base/id.h"
#include "http/multipart.h"

const char *api_path_id(struct request *req, const char *name, const char *what)
{
	const char *id = http_param(req, name);
	if (!id_user_valid(id)) {
		http_reply_error(req, 400, "invalid_id",
				 "%s is 1-64 characters of A-Z, a-z, 0-9, _ and -", what);
		return NULL;
	}
	return id;
}

int api_upload_begin(struct request *req, const char *what, long long limit, const char *limit_name,
		     char boundary[MULTIPART_BOUNDARY_MAX + 1])
{
	const char *ctype = http_header(req, "Content-Type");
	struct error e;
	if (!ctype) {
		http_reply_error(req, 415, "unsupported_media_type", "%s", what);
		return -1;
	}
	if (multipart_boundary(ctype, boundary, MULTIPART_BOUNDARY_MAX + 1, &e)) {
		bool multipart = strncasecmp(ctype, "multipart/form-data", 19) == 0;
		http_reply_error(req, multipart ? 400 : 415,
				 multipart ? "bad_request" : "unsupported_media_type", "%s: %s", what,
				 e.msg);
		return -1;
	}
	const char *length = http_header(req, "Content-Length");
	if (length && strtoull(length, NULL, 10) > (unsigned long long)limit) {
		/* The body is not read: the connection cannot carry another request. */
		http_add_header(req, "Connection", "close");
		http_reply_error(req, 413, "payload_too_large",
				 "the upload is larger than the limit of %lld bytes %s", limit,
				 limit_name);
		return -1;
	}
	return 0;
}
