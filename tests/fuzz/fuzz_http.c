/*
 * Fuzz target: request paths.  The first byte picks a method, the rest is a
 * raw path that goes through percent-decoding and the real route table, the
 * way the server handles every request line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned method = 1u << (data[0] % 8);   /* 1 << 7 is no method at all */
	char *path = malloc(size);
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	size_t n = http_unescape(path);
	if (n != strlen(path))
		abort();   /* the decoded length must describe the string */

	const struct route *r;
	struct route_params params;
	unsigned allowed;
	enum router_result res = router_match(api_routes, api_routes_count, method, path, &r,
					      &params, &allowed);
	if (res == ROUTE_FOUND) {
		for (size_t i = 0; i < params.n; i++) {
			const struct route_param *p = &params.p[i];
			if (p->value < path || p->value + p->value_len > path + n || !p->value_len)
				abort();   /* parameters point into the path, never empty */
		}
	} else if ((res == ROUTE_NOT_FOUND) != (allowed == 0)) {
		abort();
	}
	char allow[128];
	http_allow_list(allowed, allow, sizeof allow);
	free(path);
	return 0;
}
