/*
 * The importer's write path, two ways: ingest/sqlwriter.c against SQLite's
 * own inserts (prepared INSERT, sqlite3_bind_*, sqlite3_step, in one
 * transaction, with the importer's pragmas), for the same rows in memory:
 * by default 167,000 rows of 22 columns (8 integer, 4 real, 10 text of 2 to
 * 40 bytes, some Korean), about the shape of the 41 MB Daegu CSV.  Prints
 * one line per writer (best of 5, wall and CPU time) and the ratios; the sqlwriter file is then checked
 * with PRAGMA quick_check and a row count.
 *
 *   make release
 *   cc -std=c11 -D_GNU_SOURCE -O2 -Isrc -o build/release/bench/sqlwbench \
 *      bench/ingest/sqlwbench.c build/release/src/ingest/sqlwriter.o \
 *      build/release/src/base/alloc.o build/release/src/base/error.o -lsqlite3 -lm
 *   build/release/bench/sqlwbench [rows] [dir]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ingest/sqlwriter.h"

#define NCOLS 22
#define POOL 8192

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static const char *words[] = {
	"Daegu", "Suseong-gu", "대구광역시", "수성구 범어동", "apartment", "2019-03-01",
	"N", "Y", "office", "달서구", "residential", "commercial building", "중구 동성로 2가",
};

static struct sqlw_value pool[POOL][NCOLS];

static void make_pool(void)
{
	uint64_t s = 88172645463325252u;
	for (size_t r = 0; r < POOL; r++)
		for (size_t c = 0; c < NCOLS; c++) {
			struct sqlw_value *v = &pool[r][c];
			if (rng(&s) % 50 == 0) {
				v->type = SQLW_NULL;
			} else if (c < 8) {
				v->type = SQLW_INT;
				v->i = (int64_t)(rng(&s) % (c < 4 ? 1000 : 100000000));
			} else if (c < 12) {
				v->type = SQLW_REAL;
				v->r = (double)(rng(&s) % 10000000) / 1000.0;
			} else {
				const char *w = words[rng(&s) % (sizeof words / sizeof words[0])];
				v->type = SQLW_TEXT;
				v->s = w;
				v->len = strlen(w);
			}
		}
}

static double run_sqlw(const char *path, size_t rows)
{
	struct error e;
	char sql[1024];
	size_t n = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE data(");
	for (size_t c = 0; c < NCOLS; c++)
		n += (size_t)snprintf(sql + n, sizeof sql - n, "%sc%zu %s", c ? ", " : "", c,
				      c < 8 ? "INTEGER" : c < 12 ? "REAL" : "TEXT");
	snprintf(sql + n, sizeof sql - n, ")");
	double t0 = now();
	struct sqlw *w = sqlw_create(path, 16384, "data", sql, NCOLS, &e);
	if (!w) {
		fprintf(stderr, "sqlwbench: %s\n", e.msg);
		exit(1);
	}
	for (size_t r = 0; r < rows; r++)
		if (sqlw_append(w, pool[r % POOL], &e)) {
			fprintf(stderr, "sqlwbench: %s\n", e.msg);
			exit(1);
		}
	if (sqlw_finish(w, &e)) {
		fprintf(stderr, "sqlwbench: %s\n", e.msg);
		exit(1);
	}
	return now() - t0;
}

static void check(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "sqlwbench: %s: %s\n", sql, err);
		exit(1);
	}
}

static double run_sqlite(const char *path, size_t rows)
{
	double t0 = now();
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)) {
		fprintf(stderr, "sqlwbench: open %s\n", path);
		exit(1);
	}
	check(db, "PRAGMA page_size = 16384; PRAGMA journal_mode = OFF; "
		  "PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE; "
		  "PRAGMA cache_size = -16384; PRAGMA temp_store = FILE;");
	char sql[1024];
	size_t n = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE data(");
	for (size_t c = 0; c < NCOLS; c++)
		n += (size_t)snprintf(sql + n, sizeof sql - n, "%sc%zu %s", c ? ", " : "", c,
				      c < 8 ? "INTEGER" : c < 12 ? "REAL" : "TEXT");
	snprintf(sql + n, sizeof sql - n, ")");
	check(db, "BEGIN");
	check(db, sql);
	n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO data VALUES(");
	for (size_t c = 0; c < NCOLS; c++)
		n += (size_t)snprintf(sql + n, sizeof sql - n, "%s?", c ? "," : "");
	snprintf(sql + n, sizeof sql - n, ")");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL)) {
		fprintf(stderr, "sqlwbench: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
	for (size_t r = 0; r < rows; r++) {
		const struct sqlw_value *row = pool[r % POOL];
		for (int c = 0; c < NCOLS; c++) {
			switch (row[c].type) {
			case SQLW_NULL:
				sqlite3_bind_null(st, c + 1);
				break;
			case SQLW_INT:
				sqlite3_bind_int64(st, c + 1, row[c].i);
				break;
			case SQLW_REAL:
				sqlite3_bind_double(st, c + 1, row[c].r);
				break;
			case SQLW_TEXT:
				sqlite3_bind_text(st, c + 1, row[c].s, (int)row[c].len, SQLITE_STATIC);
				break;
			}
		}
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "sqlwbench: %s\n", sqlite3_errmsg(db));
			exit(1);
		}
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	check(db, "COMMIT");
	sqlite3_close(db);
	return now() - t0;
}

int main(int argc, char **argv)
{
	size_t rows = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 167000;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char a[512], b[512];
	snprintf(a, sizeof a, "%s/sqlwbench-%d-a.db", dir, (int)getpid());
	snprintf(b, sizeof b, "%s/sqlwbench-%d-b.db", dir, (int)getpid());
	make_pool();
	double best_a = 1e9, best_b = 1e9, cpu_a = 1e9, cpu_b = 1e9;
	for (int i = 0; i < 5; i++) {
		unlink(a);
		unlink(b);
		double c0 = cpu();
		double ta = run_sqlw(a, rows);
		double c1 = cpu();
		double tb = run_sqlite(b, rows);
		double c2 = cpu();
		best_a = ta < best_a ? ta : best_a;
		best_b = tb < best_b ? tb : best_b;
		cpu_a = c1 - c0 < cpu_a ? c1 - c0 : cpu_a;
		cpu_b = c2 - c1 < cpu_b ? c2 - c1 : cpu_b;
	}
	printf("sqlwriter       %zu rows x %d columns: wall %7.1f ms (%5.0f ns/row), cpu %7.1f ms\n",
	       rows, NCOLS, best_a * 1e3, best_a * 1e9 / (double)rows, cpu_a * 1e3);
	printf("sqlite inserts  %zu rows x %d columns: wall %7.1f ms (%5.0f ns/row), cpu %7.1f ms\n",
	       rows, NCOLS, best_b * 1e3, best_b * 1e9 / (double)rows, cpu_b * 1e3);
	printf("ratio (sqlite / sqlwriter), best of 5: wall %.1fx, cpu %.1fx\n", best_b / best_a,
	       cpu_b / cpu_a);
	sqlite3 *db;
	sqlite3_open_v2(a, &db, SQLITE_OPEN_READONLY, NULL);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT (SELECT quick_check FROM pragma_quick_check), "
			       "(SELECT count(*) FROM data)",
			   -1, &st, NULL);
	sqlite3_step(st);
	printf("sqlwriter file: quick_check %s, %lld rows\n", sqlite3_column_text(st, 0),
	       (long long)sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(a);
	unlink(b);
	return 0;
}
