/*
 * Fuzz target: the .env reader.  The input is written to a scratch file and
 * loaded as the configuration's .env, exactly as `sheaf serve` reads it from
 * its working directory; loading must succeed or fail with a message, and
 * whatever it accepted must be within the option table's bounds.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	if (!path[0])
		snprintf(path, sizeof path, "/tmp/sheaf-fuzz-dotenv-%d", (int)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		return 0;
	fwrite(data, 1, size, f);
	fclose(f);

	struct config cfg;
	struct error e = { { 0 } };
	if (config_load(&cfg, 0, NULL, path, &e) == 0) {
		if (cfg.workers < 0 || cfg.workers > 1024 || cfg.max_body < 1024 ||
		    cfg.listen_port < 0 || cfg.listen_port > 65535 || !cfg.data_dir[0])
			abort();
		config_free(&cfg);
	} else if (!e.msg[0]) {
		abort();   /* a refusal always says why */
	}
	unlink(path);
	return 0;
}
