/*
 * The ECLO preset's model: built into the binary (models/eclo/, linked by
 * models/eclo/model.S), read from a file, or none.
 */
#include "registry/preset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/sha256.h"

extern const char eclo_model_data[];
extern const char eclo_model_end[];

static struct eclo *from_bytes(const char *data, size_t len, const char *origin,
			       struct error *e)
{
	struct model *m = model_load(data, len, e);
	if (!m)
		return NULL;
	/* The version names the bytes: equal models, equal versions. */
	char hex[SHA256_HEX], version[64];
	struct sha256 *h = sha256_new();
	sha256_update(h, data, len);
	sha256_finish(h, hex);
	snprintf(version, sizeof version, "eclo-%.12s%s", hex, origin);
	struct eclo *p = eclo_new(m, version, e);
	if (!p)
		model_free(m);
	return p;
}

struct eclo *eclo_preset_load(const char *setting, struct error *e)
{
	if (!setting || strcmp(setting, "off") == 0) {
		error_set(e, "turned off");
		return NULL;
	}
	if (strcmp(setting, "builtin") == 0)
		return from_bytes(eclo_model_data, (size_t)(eclo_model_end - eclo_model_data), "",
				  e);
	FILE *f = fopen(setting, "rb");
	if (!f) {
		error_set(e, "%s: %s", setting, strerror(errno));
		return NULL;
	}
	struct buf b;
	buf_init(&b, 1u << 30);
	char chunk[1 << 16];
	size_t n;
	int rc = 0;
	while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
		rc = buf_append(&b, chunk, n);
	bool bad = ferror(f) || rc;
	fclose(f);
	struct eclo *p = NULL;
	if (bad)
		error_set(e, "%s: could not be read", setting);
	else
		p = from_bytes(b.data ? b.data : "", b.len, "-file", e);
	buf_free(&b);
	return p;
}
