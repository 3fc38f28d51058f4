/* Constructors of the blob backends; only blob.c calls them. */
#ifndef SHEAF_BLOB_BACKENDS_H
#define SHEAF_BLOB_BACKENDS_H

#include "blob/blob.h"

struct blob_store *blob_fs_open(const char *root, struct error *e);
/* spec: what follows "s3://" in the URL. */
struct blob_store *blob_s3_open(const char *spec, const struct blob_options *opts,
				struct error *e);

#endif
