/*
 * Microbenchmark of the CSV parser alone (ingest/csv.c): a generated CSV of
 * about 200 MB held in memory, fed whole and in 1 MiB and 64 KiB pieces to a
 * callback that only counts; prints MB/s (10^6 bytes per second of this
 * thread's CPU time, best of 7; wall time too, which counts other
 * processes' turns on a shared machine) for each.  Two
 * shapes: typical (short unquoted fields, a few quoted ones) and all-quoted.
 * With FILE arguments, each file instead: read whole into memory, fed in
 * 1 MiB pieces (as the importer reads), the same figures; the bytes are
 * parsed as they are (a BOM stays in the first field, nothing is
 * converted).  bench/ingest/run uses this on its CSVs.
 * Not built by default:
 *   make -f bench/ingest/build.mk build/release/bench/csvbench
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ingest/csv.h"

struct count {
	size_t records, fields, bytes;
};

static int on_record(void *ctx, const struct csv_field *f, size_t n, size_t line)
{
	struct count *c = ctx;
	(void)line;
	c->records++;
	c->fields += n;
	for (size_t i = 0; i < n; i++)
		c->bytes += f[i].len;
	return 0;
}

/* CPU time of this thread: the machine may be shared, and wall time would
 * then count other processes' turns as parsing. */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *generate(size_t target, int quoted, size_t *len)
{
	char *s = malloc(target + 4096);
	size_t n = 0;
	uint32_t x = 12345;
	n += (size_t)sprintf(s, "id,first,last,amount,date,city,flag,note\n");
	static const char *names[] = { "John", "Mary", "Ahmed", "Li", "Sofia", "Olek" };
	static const char *cities[] = { "Paris", "New York", "Lagos", "Osaka", "Lima" };
	for (size_t row = 1; n < target; row++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		const char *q = quoted ? "\"" : "";
		n += (size_t)sprintf(s + n, "%s%zu%s,%s%s%s,%sSmith%s,%s%u.%02u%s,%s2024-%02u-%02u%s,%s%s%s,%s%u%s,",
				     q, row, q, q, names[x % 6], q, q, q, q, x % 10000, x % 100, q, q,
				     x % 12 + 1, x % 28 + 1, q, q, cities[x % 5], q, q, x & 1, q);
		if (x % 20 == 0)
			n += (size_t)sprintf(s + n, "\"says \"\"hi\"\", ok\"\n");
		else
			n += (size_t)sprintf(s + n, "%snote %u%s\n", q, x % 1000, q);
	}
	*len = n;
	return s;
}

static void run(const char *name, const char *s, size_t len, size_t piece)
{
	double best = 1e9, best_wall = 1e9;
	struct count c;
	for (int rep = 0; rep < 7; rep++) {
		memset(&c, 0, sizeof c);
		struct csv_callbacks cb = { on_record };
		struct csv_options o = { ',', 0, 0 };
		struct csv_reader *r = csv_reader_new(&o, &cb, &c);
		struct error e;
		double t0 = now(), w0 = wall();
		for (size_t at = 0; at < len; at += piece)
			if (csv_reader_feed(r, s + at, len - at < piece ? len - at : piece, &e)) {
				fprintf(stderr, "%s\n", e.msg);
				exit(1);
			}
		if (csv_reader_finish(r, &e)) {
			fprintf(stderr, "%s\n", e.msg);
			exit(1);
		}
		double t = now() - t0, w = wall() - w0;
		if (t < best)
			best = t;
		if (w < best_wall)
			best_wall = w;
		csv_reader_free(r);
	}
	printf("%-9s pieces %9zu: %5.0f MB/s CPU, %5.0f MB/s wall  (%zu records, %zu fields, %.1f MB)\n",
	       name, piece, (double)len / best / 1e6, (double)len / best_wall / 1e6, c.records,
	       c.fields, (double)len / 1e6);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	if (!f || fstat(fileno(f), &sb) < 0) {
		perror(path);
		exit(1);
	}
	char *s = malloc((size_t)sb.st_size + 1);
	if (!s || fread(s, 1, (size_t)sb.st_size, f) != (size_t)sb.st_size) {
		fprintf(stderr, "%s: could not read it whole\n", path);
		exit(1);
	}
	fclose(f);
	*len = (size_t)sb.st_size;
	return s;
}

int main(int argc, char **argv)
{
	size_t len;
	char *s;
	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			s = slurp(argv[i], &len);
			run("file", s, len, 1 << 20);
			free(s);
		}
		return 0;
	}
	s = generate(200u * 1000 * 1000, 0, &len);
	run("typical", s, len, len);
	run("typical", s, len, 1 << 20);
	run("typical", s, len, 64 << 10);
	free(s);
	s = generate(200u * 1000 * 1000, 1, &len);
	run("quoted", s, len, len);
	run("quoted", s, len, 1 << 20);
	free(s);
	return 0;
}
