/*
 * The running application: what every handler reaches through req->app.
 * Built by `sheaf serve` (main.c) before the server starts and torn down
 * after it stops; handlers only read it.  The stores are thread-safe.
 */
#ifndef SHEAF_APP_H
#define SHEAF_APP_H

#include <stddef.h>

#include "base/config.h"
#include "blob/blob.h"
#include "store/store.h"

struct app {
	const struct config *cfg;
	const char *version;
	struct store *store;
	struct blob_store *blob;
	char *openapi;           /* the OpenAPI document, serialized once at start */
	size_t openapi_len;
};

#endif
