/*
 * Fuzz target: what an S3 server sends back and what an operator types.
 * The input is read as each XML answer blob/s3.c parses (an <Error>, a
 * ListObjectsV2 page, the two multipart replies) and, after "s3://", as a
 * storage URL (bucket, endpoint=, region=, style=, %-escapes).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "blob/s3xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int seen(void *ctx, const char *key, const struct blob_info *info)
{
	(void)info;
	/* Only keys sheaf could have written, under the prefix asked for. */
	if (!blob_key_valid(key) || strncmp(key, "a", 1) != 0)
		abort();
	return ++*(int *)ctx >= 1000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct s3xml_error err;
	s3xml_parse_error(text, size, &err);
	if (strlen(err.code) >= sizeof err.code || strlen(err.message) >= sizeof err.message)
		abort();

	struct error e;
	struct s3xml_page page;
	int n = 0;
	if (s3xml_parse_list(text, size, "a", seen, &n, &page, "fuzz", &e) == 0)
		free(page.next_token);
	else if (page.next_token)
		abort();
	free(s3xml_parse_upload_id(text, size, "fuzz", &e));
	s3xml_parse_complete(text, size, "fuzz", &e);

	char *url = malloc(size + 6);
	memcpy(url, "s3://", 5);
	memcpy(url + 5, data, size);
	url[size + 5] = '\0';
	struct blob_options o = { .s3_access_key = "AK", .s3_secret_key = "SK" };
	blob_close(blob_open_with(url, &o, &e));
	s3xml_time_ms(url + 5);
	free(url);
	return 0;
}
