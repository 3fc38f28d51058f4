/*
 * `sheaf import FILE [--name NAME] ...`: ingests a file into the data dir
 * from the shell, as an upload would, and prints the dataset's id and
 * schema.  The dataset belongs to the built-in local user unless --user
 * names an account.
 *
 * The same importer as an upload's, with the same options and limits; the
 * original goes to storage on another thread meanwhile, and the dataset
 * row is inserted once both files are stored (see run_import).  The
 * metadata store opens on a third thread meanwhile (see struct opening).
 * A progress bar shows on a terminal; otherwise a line per tenth.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "auth/identity.h"
#include "base/alloc.h"
#include "base/clock.h"
#include "base/fsutil.h"
#include "base/id.h"
#include "base/log.h"
#include "cli/cli.h"
#include "datasets/datasets.h"
#include "files/filename.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sheaf import FILE [options] [settings]\n\n"
		"Ingests a CSV, TSV, XLSX or XLS file into the data dir as a dataset and\n"
		"prints its id and columns.\n\n"
		"  --name NAME          dataset name (default: the file name without extension)\n"
		"  --description TEXT\n"
		"  --sheet NAME|INDEX   spreadsheets: the sheet to read (default: the first)\n"
		"  --encoding NAME      CSV: utf-8, cp949, euc-kr, utf-16, latin-1, ...\n"
		"                       (default: detected)\n"
		"  --delimiter D        CSV: , ; | or tab (default: sniffed)\n"
		"  --header auto|yes|no whether the first row names the columns (default auto)\n"
		"  --strict             refuse rows with the wrong number of fields\n"
		"  --format F           csv, tsv, xlsx or xls (default: from the bytes)\n"
		"  --user EMAIL         owner (default: the built-in local user)\n"
		"  --quiet              no progress\n\n"
		"Settings (--data-dir, --database-url, --storage-url...) are those of\n"
		"`sheaf serve --help`; use the same as the server that will serve it.\n");
}

struct bar {
	bool tty;
	int64_t shown;   /* last per mille drawn (tty) or tenth printed */
	int64_t start_ns;
	bool quiet;
};

static void draw(void *ctx, int64_t per_mille)
{
	struct bar *b = ctx;
	if (b->quiet)
		return;
	if (!b->tty) {
		if (per_mille / 100 > b->shown) {
			b->shown = per_mille / 100;
			fprintf(stderr, "import: %lld%%\n", (long long)(b->shown * 10));
		}
		return;
	}
	if (per_mille == b->shown)
		return;
	b->shown = per_mille;
	int width = 40, fill = (int)(per_mille * width / 1000);
	double s = (double)(clock_mono_ns() - b->start_ns) / 1e9;
	fprintf(stderr, "\r[%.*s%*s] %5.1f%%  %s  %.1fs", fill,
		"########################################", width - fill, "",
		(double)per_mille / 10.0, per_mille < 400 ? "reading" : "writing", s);
	fflush(stderr);
}

static void print_schema(const struct dataset_row *row)
{
	printf("dataset %s \"%s\": %lld rows, %lld columns", row->id, row->name,
	       (long long)row->rows, (long long)row->columns);
	if (*row->encoding)
		printf(", %s", row->encoding);
	if (*row->sheet)
		printf(", sheet \"%s\"", row->sheet);
	printf("\n");
	json_t *summary = json_loads(row->summary ? row->summary : "{}", 0, NULL);
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(summary, "columns_info"), i, c) {
		const char *role = json_string_value(json_object_get(c, "role"));
		printf("  %-32s %-9s%s%s%s\n", json_string_value(json_object_get(c, "name")),
		       json_string_value(json_object_get(c, "type")),
		       json_is_true(json_object_get(c, "categorical")) ? " categorical" : "",
		       role ? " " : "", role ? role : "");
	}
	json_array_foreach(json_object_get(summary, "warnings"), i, c)
		printf("  warning: %s\n", json_string_value(json_object_get(c, "message")));
	json_decref(summary);
}

struct import_args {
	const char *file, *name, *description, *user;
	struct dataset_choices choices;
	bool quiet;
	char **rest;
	int nrest;
};

static int parse_args(int argc, char **argv, struct import_args *a)
{
	static const struct {
		const char *flag;
		size_t offset;
	} flags[] = {
		{ "--name", offsetof(struct import_args, name) },
		{ "--description", offsetof(struct import_args, description) },
		{ "--user", offsetof(struct import_args, user) },
		{ "--sheet", offsetof(struct import_args, choices.sheet) },
		{ "--encoding", offsetof(struct import_args, choices.encoding) },
		{ "--delimiter", offsetof(struct import_args, choices.delimiter) },
		{ "--header", offsetof(struct import_args, choices.header) },
		{ "--format", offsetof(struct import_args, choices.format) },
	};
	a->rest = xcalloc((size_t)argc + 1, sizeof *a->rest);
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		bool taken = false;
		for (size_t k = 0; k < sizeof flags / sizeof flags[0] && !taken; k++) {
			size_t n = strlen(flags[k].flag);
			const char **slot = (const char **)((char *)a + flags[k].offset);
			if (strcmp(arg, flags[k].flag) == 0) {
				if (i + 1 >= argc) {
					fprintf(stderr, "sheaf: %s needs a value\n", arg);
					return -1;
				}
				*slot = argv[++i];
				taken = true;
			} else if (strncmp(arg, flags[k].flag, n) == 0 && arg[n] == '=') {
				*slot = arg + n + 1;
				taken = true;
			}
		}
		if (taken)
			continue;
		if (strcmp(arg, "--strict") == 0)
			a->choices.strict = "true";
		else if (strcmp(arg, "--quiet") == 0 || strcmp(arg, "-q") == 0)
			a->quiet = true;
		else if (arg[0] != '-' && !a->file)
			a->file = arg;
		else
			a->rest[a->nrest++] = argv[i];
	}
	if (!a->file) {
		fprintf(stderr, "sheaf: import needs a FILE\n\n");
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The original's copy into storage, on a thread of its own while the
 * import reads the same file. */
struct copy {
	struct app *app;
	const char *key;
	int fd;
	pthread_t thread;
	enum blob_rc rc;
	struct error e;
};

static void *copy_original(void *arg)
{
	struct copy *c = arg;
	c->rc = blob_put_file(c->app->blob, c->key, c->fd, NULL, &c->e);
	return NULL;
}

/*
 * The metadata store, opened and migrated on a thread of its own while the
 * file is imported, when nothing before the dataset row's insert needs it
 * (no --user to look up): on a new data dir that is a few milliseconds of
 * fsyncs off the import's way.
 */
struct opening {
	const struct config *cfg;
	struct store *store;
	atomic_bool failed;        /* the store could not be opened: stop importing */
	pthread_t thread;
	bool started;
};

static void *open_store(void *arg)
{
	struct opening *o = arg;
	o->store = cli_open_store(o->cfg, 2);   /* says why when it cannot */
	if (!o->store)
		atomic_store(&o->failed, true);
	return NULL;
}

/* app->store, once the thread opening it is done; NULL when it could not. */
static struct store *store_ready(struct app *app, struct opening *o)
{
	if (o->started) {
		pthread_join(o->thread, NULL);
		o->started = false;
		app->store = o->store;
	}
	return app->store;
}

struct progress {
	struct bar *bar;
	struct opening *opening;
};

static bool on_progress(void *ctx, int64_t per_mille)
{
	struct progress *p = ctx;
	draw(p->bar, per_mille);
	return atomic_load(&p->opening->failed);   /* no use going on */
}

/*
 * The dataset is built before the store hears of it: the original goes to
 * storage while the importer reads the file, the dataset file is stored
 * next, and only then is the row inserted, already ready.  A crash at any
 * point leaves no row, only objects no row lists (the sweep removes them)
 * and a temporary file (removed at the next start).
 */
static int run_import(struct app *app, struct import_args *a, const char *path, struct bar *bar,
		      struct opening *opening)
{
	struct dataset_row row = { 0 };
	struct import_result res = { 0 };
	struct error e;
	char tmp[4200] = "", name[64], run[ID_CHARS(9) + 1];
	struct copy copy = { .app = app, .key = row.original_key, .rc = BLOB_ERROR };
	bool copying = false, stored = false;
	int rc = 1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sheaf: %s: %s\n", a->file, strerror(errno));
		return 1;
	}
	char head[8];
	ssize_t got = pread(fd, head, sizeof head, 0);
	const char *format;
	if (!(row.options = dataset_options(&a->choices, &format, &e))) {
		fprintf(stderr, "sheaf: %s\n", e.msg);
		goto out;
	}
	if (a->user && !store_ready(app, opening))
		goto out;
	if (cli_find_owner(app->store, a->user, row.owner_id, sizeof row.owner_id) < 0)
		goto out;
	const char *base = strrchr(a->file, '/') ? strrchr(a->file, '/') + 1 : a->file;
	filename_display(base, row.source_name, sizeof row.source_name);
	if (dataset_check_texts(a->name, a->description, &e) < 0) {
		fprintf(stderr, "sheaf: --%s\n", e.msg);
		goto out;
	}
	if (a->name)
		snprintf(row.name, sizeof row.name, "%s", a->name);
	else
		dataset_default_name(row.source_name, row.name, sizeof row.name);
	snprintf(row.description, sizeof row.description, "%s",
		 a->description ? a->description : "");
	snprintf(row.format, sizeof row.format, "%s",
		 *format ? format : dataset_sniff_format(head, got > 0 ? (size_t)got : 0));
	id_random(row.id, 16);
	dataset_original_key(row.owner_id, row.id, row.original_key, sizeof row.original_key);
	struct stat sb;
	row.size_bytes = fstat(fd, &sb) == 0 ? sb.st_size : 0;

	copy.fd = fd;
	if (pthread_create(&copy.thread, NULL, copy_original, &copy) != 0) {
		fprintf(stderr, "sheaf: cannot start a thread\n");
		goto out;
	}
	copying = true;
	id_random(run, 9);
	snprintf(name, sizeof name, "ingest-cli-%s.sqlite", run);
	if (dataset_tmp_path(app, name, tmp, sizeof tmp, &e) < 0) {
		fprintf(stderr, "sheaf: %s\n", e.msg);
		goto out;
	}
	json_t *optjson = json_loads(row.options, 0, NULL);
	struct import_options opt;
	dataset_import_options(app, optjson, &opt);
	struct progress progress = { .bar = bar, .opening = opening };
	opt.progress = on_progress;
	opt.progress_ctx = &progress;
	int imported = import_file(path, tmp, &opt, &res, &e);
	json_decref(optjson);
	if (bar->tty && !bar->quiet)
		fputc('\n', stderr);
	pthread_join(copy.thread, NULL);
	copying = false;
	if (!store_ready(app, opening))
		goto out;   /* also why the import was cancelled */
	if (imported < 0) {
		fprintf(stderr, "sheaf: %s: %s\n", a->file, e.msg);
		goto out;
	}
	if (copy.rc != BLOB_OK) {
		fprintf(stderr, "sheaf: storing %s: %s\n", a->file, copy.e.msg);
		goto out;
	}
	if (dataset_store_file(app, &row, tmp, run, &res, &e) < 0) {
		fprintf(stderr, "sheaf: storing the dataset file: %s\n", e.msg);
		goto out;
	}
	stored = true;
	snprintf(row.status, sizeof row.status, "ready");
	row.version = 1;
	row.created_at = row.updated_at = clock_now_ms();
	if (store_dataset_create(app->store, &row, NULL, &e) != STORE_OK) {
		fprintf(stderr, "sheaf: %s\n", e.msg);
		goto out;
	}
	print_schema(&row);
	rc = 0;
out:
	if (copying)
		pthread_join(copy.thread, NULL);
	if (rc != 0) {
		/* Nothing lists these: remove them now rather than leave them to
		 * the sweep. */
		if (copy.rc == BLOB_OK)
			blob_remove(app->blob, row.original_key, &e);
		if (stored) {
			blob_remove(app->blob, row.data_key, &e);
			dataset_uncache(app, row.data_key);
		}
	}
	if (*tmp)
		unlink(tmp);
	close(fd);
	import_result_clear(&res);
	dataset_row_clear(&row);
	return rc;
}

int cli_import(int argc, char **argv)
{
	if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
		usage(argc < 1 ? stderr : stdout);
		return argc < 1 ? EXIT_CONFIG : 0;
	}
	struct import_args a = { 0 };
	if (parse_args(argc, argv, &a) < 0) {
		free(a.rest);
		return EXIT_CONFIG;
	}
	char *path = realpath(a.file, NULL);
	if (!path) {
		fprintf(stderr, "sheaf: %s: %s\n", a.file, strerror(errno));
		free(a.rest);
		return 1;
	}
	struct config cfg;
	int loaded = cli_load_config(&cfg, a.nrest, a.rest);
	free(a.rest);
	if (loaded) {
		free(path);
		return EXIT_CONFIG;
	}
	struct bar bar = { .tty = isatty(STDERR_FILENO), .shown = -1,
			   .start_ns = clock_mono_ns(), .quiet = a.quiet };
	struct app app = { .cfg = &cfg };
	struct opening opening = { .cfg = &cfg };
	struct error e;
	int rc = 1;
	char *storage_url = config_storage_url(&cfg);
	struct blob_options blob_opts = blob_options_from_config(&cfg);
	if (fs_mkdirs(cfg.data_dir, true, false, &e)) {
		fprintf(stderr, "sheaf: %s\n", e.msg);
		goto out;
	}
	if (!a.user && pthread_create(&opening.thread, NULL, open_store, &opening) == 0)
		opening.started = true;
	else if (!(app.store = cli_open_store(&cfg, 2)))
		goto out;
	if (!(app.blob = blob_open_with(storage_url, &blob_opts, &e))) {
		fprintf(stderr, "sheaf: object storage %s: %s\n", storage_url, e.msg);
		goto out;
	}
	rc = run_import(&app, &a, path, &bar, &opening);
out:
	store_ready(&app, &opening);
	blob_close(app.blob);
	store_close(app.store);
	free(storage_url);
	free(path);
	config_free(&cfg);
	return rc;
}
