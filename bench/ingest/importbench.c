/*
 * The importer alone (ingest/import.c), for bench/ingest/run: one
 * import_file() of SRC into a new dataset file DST with default options (as
 * the ingest job calls it, without the job, the store or object storage
 * around it), then one line on stdout:
 *
 *   rows N columns M format F encoding E data_bytes B wall_s W cpu_s C
 *
 * W is wall time and C this process's CPU time, both of import_file alone
 * (not starting the process).  DST is left in place for the caller to check
 * and remove.  Built by bench/ingest/build.mk against the release objects:
 *   make -f bench/ingest/build.mk build/release/bench/importbench
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ingest/import.h"

static double seconds(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: importbench SRC DST\n");
		return 2;
	}
	struct import_options opt = { .header = IMPORT_HEADER_AUTO };
	struct import_result res;
	struct error e;
	double w0 = seconds(CLOCK_MONOTONIC), c0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	int rc = import_file(argv[1], argv[2], &opt, &res, &e);
	double w = seconds(CLOCK_MONOTONIC) - w0, c = seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	if (rc < 0) {
		fprintf(stderr, "importbench: %s: %s\n", argv[1], e.msg);
		import_result_clear(&res);
		return 1;
	}
	printf("rows %lld columns %lld format %s encoding %s data_bytes %lld wall_s %.6f cpu_s %.6f "
	       "passes %d\n",
	       (long long)res.rows, (long long)res.columns, res.format,
	       *res.encoding ? res.encoding : "-", (long long)res.data_bytes, w, c, res.passes);
	import_result_clear(&res);
	return 0;
}
