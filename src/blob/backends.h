/* Constructors of the blob backends; only blob.c calls them. */
#ifndef SHEAF_BLOB_BACKENDS_H
#define SHEAF_BLOB_BACKENDS_H

#include "blob/blob.h"

struct blob_store *blob_fs_open(const char *root, struct error *e);

#endif
