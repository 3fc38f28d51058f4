/*
 * Fuzz target: the hand-written parsers for values people type: sizes
 * ("4M"), listen addresses ("[::1]:0"), and the id and object-key rules.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/config.h"
#include "base/id.h"
#include "blob/blob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';

	long long bytes;
	if (config_parse_size(s, &bytes) == 0 && bytes < 0)
		abort();
	char *host = NULL;
	int port;
	if (config_parse_listen(s, &host, &port) == 0) {
		if (port < 0 || port > 65535 || !host || !*host)
			abort();
		free(host);
	}
	if (id_session_valid(s) && (strlen(s) > SESSION_ID_MAX || strpbrk(s, "/.% ")))
		abort();
	if (blob_key_valid(s) && (s[0] == '/' || s[0] == '.' || strstr(s, "/.") || strstr(s, "//")))
		abort();
	id_request_valid(s);
	free(s);
	return 0;
}
