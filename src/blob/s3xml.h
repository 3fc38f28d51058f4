/*
 * The XML documents an S3 server answers with, read with expat: error
 * bodies, ListObjectsV2 pages, and the two multipart replies.  Internal to
 * blob/ (s3.c is the only caller; the fuzz target is the other).
 *
 * Every parser takes the whole body (data, len; NUL not needed), refuses a
 * DOCTYPE, and bounds one element's text (XML_TEXT_LIMIT in s3xml.c); `what`
 * names the request in messages.  Namespace prefixes are ignored.
 */
#ifndef SHEAF_BLOB_S3XML_H
#define SHEAF_BLOB_S3XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "blob/blob.h"

/* The Code and Message of an <Error> document; both "" when data is none. */
struct s3xml_error {
	char code[128];
	char message[256];
};
void s3xml_parse_error(const char *data, size_t len, struct s3xml_error *out);

/* What a ListBucketResult page says besides its objects. */
struct s3xml_page {
	bool truncated;      /* IsTruncated: more pages follow */
	char *next_token;    /* NextContinuationToken, malloc'd (caller frees), or NULL */
	bool stopped;        /* fn asked to stop */
};

/*
 * Calls fn for each <Contents> of a ListBucketResult whose Key is a valid
 * blob key starting with prefix (other objects in the bucket are not
 * sheaf's), with its Size and LastModified.  Stops early, with out->stopped,
 * when fn returns non-zero.  Returns 0, or -1 with e set (not XML, not a
 * ListBucketResult, an element too long).
 */
int s3xml_parse_list(const char *data, size_t len, const char *prefix, blob_list_fn fn,
		     void *ctx, struct s3xml_page *out, const char *what, struct error *e);

/* The UploadId of an InitiateMultipartUploadResult, malloc'd; NULL with e set. */
char *s3xml_parse_upload_id(const char *data, size_t len, const char *what, struct error *e);

/* 0 for a CompleteMultipartUploadResult; -1 with e set (S3 may put an
 * <Error> in a 200 answer to CompleteMultipartUpload). */
int s3xml_parse_complete(const char *data, size_t len, const char *what, struct error *e);

/* "2026-11-21T10:00:00.123Z" as milliseconds since the epoch; 0 if unreadable. */
int64_t s3xml_time_ms(const char *iso8601);

#endif
