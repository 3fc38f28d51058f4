/*
 * `sheaf train FILE --request REQUEST.json --out MODEL`: trains a model
 * from the shell, on a CSV/XLSX/XLS file, with the same importer and the
 * same training code as POST /api/models, and writes the model file
 * (`SHEAF_ECLO_MODEL=PATH` serves it).  Nothing in the data dir changes.
 *
 * The request is the API's (registry/train.h) without dataset_id; flags
 * override its fields.  The model is written atomically (a temporary file
 * renamed over the target), and its validation metrics are printed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "cli/cli.h"
#include "ingest/import.h"
#include "registry/train.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sheaf train FILE --out MODEL [--request REQUEST.json] [options]\n\n"
		"Trains a gradient-boosted model on a CSV, TSV, XLSX or XLS file and writes it\n"
		"to MODEL, printing its validation metrics. The request is the JSON body of\n"
		"POST /api/models (target, features, sql, task, log_target, params, validation)\n"
		"without dataset_id; the options below override its fields.\n\n"
		"  --target COLUMN      the column to predict\n"
		"  --task T             regression (default) or classification\n"
		"  --log-target         regression: train on log1p(target)\n"
		"  --sql SQL            train on this query over the table data\n"
		"  --split S            random (default) or time\n"
		"  --time-column C      split time: the date or datetime column\n"
		"  --valid-from T       split time: hold out rows at or after T (e.g. 2018)\n"
		"  --fraction F         share held out (default 0.2)\n"
		"  --json               print the model's whole description as JSON\n"
		"  --quiet              no progress\n\n"
		"SHEAF_ECLO_MODEL=MODEL sheaf serve answers /api/predict/eclo with the model.\n");
}

struct train_args {
	const char *file, *out, *request, *target, *task, *sql, *split, *time_column,
		*valid_from, *fraction;
	bool log_target, json, quiet;
};

static int parse_args(int argc, char **argv, struct train_args *a)
{
	static const struct {
		const char *flag;
		size_t offset;
	} flags[] = {
		{ "--out", offsetof(struct train_args, out) },
		{ "--request", offsetof(struct train_args, request) },
		{ "--target", offsetof(struct train_args, target) },
		{ "--task", offsetof(struct train_args, task) },
		{ "--sql", offsetof(struct train_args, sql) },
		{ "--split", offsetof(struct train_args, split) },
		{ "--time-column", offsetof(struct train_args, time_column) },
		{ "--valid-from", offsetof(struct train_args, valid_from) },
		{ "--fraction", offsetof(struct train_args, fraction) },
	};
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		bool taken = false;
		for (size_t k = 0; k < sizeof flags / sizeof flags[0] && !taken; k++) {
			if (strcmp(arg, flags[k].flag) != 0)
				continue;
			if (i + 1 >= argc) {
				fprintf(stderr, "sheaf train: %s needs a value\n", arg);
				return -1;
			}
			*(const char **)((char *)a + flags[k].offset) = argv[++i];
			taken = true;
		}
		if (taken)
			continue;
		if (strcmp(arg, "--log-target") == 0)
			a->log_target = true;
		else if (strcmp(arg, "--json") == 0)
			a->json = true;
		else if (strcmp(arg, "--quiet") == 0)
			a->quiet = true;
		else if (arg[0] == '-' && arg[1]) {
			fprintf(stderr, "sheaf train: unknown option %s\n", arg);
			return -1;
		} else if (!a->file)
			a->file = arg;
		else {
			fprintf(stderr, "sheaf train: one FILE only (%s)\n", arg);
			return -1;
		}
	}
	if (!a->file || !a->out) {
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The request: the file's, then the flags. */
static json_t *build_request(const struct train_args *a)
{
	json_t *r;
	if (a->request) {
		json_error_t je;
		if (!(r = json_load_file(a->request, 0, &je))) {
			fprintf(stderr, "sheaf train: %s:%d: %s\n", a->request, je.line, je.text);
			return NULL;
		}
	} else {
		r = json_object();
	}
	json_t *valid = json_object_get(r, "validation");
	if (!valid)
		json_object_set_new(r, "validation", valid = json_object());
	if (a->target)
		json_object_set_new(r, "target", json_string(a->target));
	if (a->task)
		json_object_set_new(r, "task", json_string(a->task));
	if (a->sql)
		json_object_set_new(r, "sql", json_string(a->sql));
	if (a->log_target)
		json_object_set_new(r, "log_target", json_true());
	if (a->split)
		json_object_set_new(valid, "split", json_string(a->split));
	if (a->time_column)
		json_object_set_new(valid, "time_column", json_string(a->time_column));
	if (a->valid_from)
		json_object_set_new(valid, "from", json_string(a->valid_from));
	if (a->fraction)
		json_object_set_new(valid, "fraction", json_real(strtod(a->fraction, NULL)));
	if (json_object_size(valid) == 0)
		json_object_del(r, "validation");
	return r;
}

struct progress {
	bool tty, quiet;
	int shown;
	const char *what;
	int64_t start_ns;
};

static void show(struct progress *p, int per_mille)
{
	if (p->quiet)
		return;
	if (!p->tty) {
		if (per_mille / 100 > p->shown) {
			p->shown = per_mille / 100;
			fprintf(stderr, "train: %s %d%%\n", p->what, p->shown * 10);
		}
		return;
	}
	if (per_mille == p->shown)
		return;
	p->shown = per_mille;
	int width = 40, fill = per_mille * width / 1000;
	fprintf(stderr, "\r%-9s [%.*s%*s] %5.1f%%  %.1fs", p->what, fill,
		"########################################", width - fill, "",
		per_mille / 10.0, (double)(clock_mono_ns() - p->start_ns) / 1e9);
	fflush(stderr);
}

static void show_done(struct progress *p)
{
	if (!p->quiet && p->tty)
		fprintf(stderr, "\n");
	p->shown = -1;
}

static bool on_import(void *ctx, int64_t per_mille)
{
	show(ctx, (int)per_mille);
	return false;
}

static bool on_train(void *ctx, int per_mille)
{
	show(ctx, per_mille);
	return true;
}

/* Writes data to path through a temporary file in the same directory. */
static int write_atomically(const char *path, const char *data, size_t len, struct error *e)
{
	size_t n = strlen(path) + 16;
	char *tmp = xmalloc(n);
	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	int fd = mkstemp(tmp);
	int rc = -1;
	if (fd < 0) {
		error_set(e, "%s: %s", path, strerror(errno));
	} else if (fchmod(fd, 0644) < 0 || fs_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		error_set(e, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
	} else if (close(fd) < 0 || rename(tmp, path) < 0) {
		error_set(e, "%s: %s", path, strerror(errno));
		unlink(tmp);
	} else {
		rc = 0;
	}
	free(tmp);
	return rc;
}

static void print_summary(const json_t *info, const char *out, size_t bytes)
{
	const json_t *v = json_object_get(info, "validation");
	printf("model %s (%zu bytes): %s of %s, %lld training rows, %lld validation rows "
	       "(split %s%s%s), %lld ms\n", out, bytes,
	       json_string_value(json_object_get(info, "task")),
	       json_string_value(json_object_get(info, "target")),
	       (long long)json_integer_value(json_object_get(info, "training_rows")),
	       (long long)json_integer_value(json_object_get(v, "rows")),
	       json_string_value(json_object_get(v, "split")),
	       json_object_get(v, "from") ? " from " : "",
	       json_object_get(v, "from") ? json_string_value(json_object_get(v, "from")) : "",
	       (long long)json_integer_value(json_object_get(info, "training_ms")));
	const char *key;
	json_t *m;
	json_object_foreach(json_object_get(v, "metrics"), key, m)
		printf("  %-10s %.6g\n", key, json_number_value(m));
	size_t i;
	json_array_foreach(json_object_get(info, "importance"), i, m) {
		if (i == 0)
			printf("  importance (share of gain):\n");
		printf("    %-28s %.4f\n", json_string_value(json_object_get(m, "feature")),
		       json_number_value(json_object_get(m, "share")));
	}
}

int cli_train(int argc, char **argv)
{
	if (argc > 0 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	struct train_args a = { 0 };
	if (parse_args(argc, argv, &a) < 0)
		return EXIT_CONFIG;
	json_t *body = build_request(&a);
	if (!body)
		return EXIT_CONFIG;
	struct train_request tr;
	struct error e;
	int rc = 1;
	char dir[] = "/tmp/sheaf-train-XXXXXX", dst[64] = "";
	struct table *t = NULL;
	struct model *m = NULL;
	char *bytes = NULL;
	struct progress p = { .tty = isatty(2), .quiet = a.quiet, .start_ns = clock_mono_ns() };
	if (train_request_parse(body, &tr, &e) < 0) {
		fprintf(stderr, "sheaf train: %s\n", e.msg);
		rc = EXIT_CONFIG;
		goto done;
	}
	if (!mkdtemp(dir)) {
		fprintf(stderr, "sheaf train: %s: %s\n", dir, strerror(errno));
		dir[0] = 0;
		goto done;
	}
	snprintf(dst, sizeof dst, "%s/data.sqlite", dir);
	struct import_options opt = { .progress = on_import, .progress_ctx = &p };
	struct import_result res;
	p.what = "reading";
	int imported = import_file(a.file, dst, &opt, &res, &e);
	import_result_clear(&res);
	show_done(&p);
	if (imported < 0) {
		fprintf(stderr, "sheaf train: %s: %s\n", a.file, e.msg);
		goto done;
	}
	if (!(t = table_open(dst, &e))) {
		fprintf(stderr, "sheaf train: %s\n", e.msg);
		goto done;
	}
	struct sql_limits lim = { .time_ms = 3600000, .memory_bytes = 1LL << 32,
				  .max_value_bytes = 1 << 24 };
	enum sql_status why;
	if (train_request_check(&tr, t, &lim, &why, &e) < 0) {
		fprintf(stderr, "sheaf train: %s\n", e.msg);
		rc = EXIT_CONFIG;
		goto done;
	}
	p.what = "training";
	m = train_on_table(&tr, t, dst, NULL, &lim, on_train, &p, &why, &e);
	show_done(&p);
	if (!m) {
		fprintf(stderr, "sheaf train: %s\n", e.msg);
		goto done;
	}
	size_t len;
	if (model_save(m, &bytes, &len, &e) < 0 || write_atomically(a.out, bytes, len, &e) < 0) {
		fprintf(stderr, "sheaf train: %s\n", e.msg);
		goto done;
	}
	json_t *info = model_info(m);
	if (a.json) {
		json_dumpf(info, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else {
		print_summary(info, a.out, len);
	}
	json_decref(info);
	rc = 0;
done:
	free(bytes);
	model_free(m);
	table_close(t);
	if (*dst)
		unlink(dst);
	if (*dir)
		rmdir(dir);
	train_request_free(&tr);
	json_decref(body);
	return rc;
}
