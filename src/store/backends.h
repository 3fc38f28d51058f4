/* Constructors of the store backends; only store.c calls them. */
#ifndef SHEAF_STORE_BACKENDS_H
#define SHEAF_STORE_BACKENDS_H

#include "store/store.h"

struct store *store_sqlite_open(const char *path, const struct store_options *opts,
				 struct error *e);

#endif
