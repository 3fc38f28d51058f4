/*
 * Configuration: size and address parsing, precedence (default < .env <
 * environment < flags), and the error messages a bad value produces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"

static void clear_env(void)
{
	static const char *const names[] = {
		"SHEAF_LISTEN", "SHEAF_DATA_DIR", "SHEAF_DATABASE_URL", "SHEAF_STORAGE_URL",
		"SHEAF_WORKERS", "SHEAF_MAX_BODY", "SHEAF_LOG_LEVEL", "SHEAF_LOG_FORMAT",
		"SHEAF_CORS_ORIGINS", "SHEAF_SHUTDOWN_TIMEOUT", "SHEAF_TYPO",
		"SHEAF_S3_ACCESS_KEY", "SHEAF_S3_SECRET_KEY", "SHEAF_S3_PART_SIZE",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		unsetenv(names[i]);
}

static int setup(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static void test_parse_size(void **state)
{
	(void)state;
	long long v;
	assert_int_equal(config_parse_size("1024", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(config_parse_size("4K", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(config_parse_size("2M", &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(config_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1LL << 30);
	assert_int_equal(config_parse_size("3mb", &v), 0);
	assert_int_equal(v, 3 << 20);
	assert_int_equal(config_parse_size("-5", &v), -1);
	assert_int_equal(config_parse_size("", &v), -1);
	assert_int_equal(config_parse_size("12Q", &v), -1);
	assert_int_equal(config_parse_size("99999999999999999999", &v), -1);
	assert_int_equal(config_parse_size("9999999999999G", &v), -1);
}

static void test_parse_listen(void **state)
{
	(void)state;
	char *host;
	int port;
	assert_int_equal(config_parse_listen("127.0.0.1:8080", &host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	free(host);
	assert_int_equal(config_parse_listen("[::1]:0", &host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 0);
	free(host);
	assert_int_equal(config_parse_listen("localhost:65535", &host, &port), 0);
	free(host);
	assert_int_equal(config_parse_listen("nonsense", &host, &port), -1);
	assert_int_equal(config_parse_listen(":8080", &host, &port), -1);
	assert_int_equal(config_parse_listen("host:", &host, &port), -1);
	assert_int_equal(config_parse_listen("host:65536", &host, &port), -1);
	assert_int_equal(config_parse_listen("host:80x", &host, &port), -1);
	assert_int_equal(config_parse_listen("::1:80", &host, &port), -1);
	assert_int_equal(config_parse_listen("a b:80", &host, &port), -1);
}

static void test_defaults(void **state)
{
	(void)state;
	struct config cfg;
	struct error e;
	assert_int_equal(config_load(&cfg, 0, NULL, NULL, &e), 0);
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_string_equal(cfg.data_dir, "./sheaf-data");
	assert_int_equal(cfg.max_body, 1 << 20);
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.log_format, LOG_TEXT);
	char *db = config_database_url(&cfg), *st = config_storage_url(&cfg);
	assert_string_equal(db, "sqlite:./sheaf-data/sheaf.db");
	assert_string_equal(st, "file:./sheaf-data/objects");
	free(db);
	free(st);
	config_free(&cfg);
}

static void test_env_and_flags(void **state)
{
	(void)state;
	struct config cfg;
	struct error e;
	setenv("SHEAF_LISTEN", "0.0.0.0:9000", 1);
	setenv("SHEAF_MAX_BODY", "4M", 1);
	setenv("SHEAF_LOG_FORMAT", "JSON", 1);
	char *argv[] = { "--listen", "127.0.0.1:0", "--data-dir=/tmp/x" };
	assert_int_equal(config_load(&cfg, 3, argv, NULL, &e), 0);
	assert_int_equal(cfg.listen_port, 0);            /* flag beats environment */
	assert_string_equal(cfg.data_dir, "/tmp/x");
	assert_int_equal(cfg.max_body, 4 << 20);
	assert_int_equal(cfg.log_format, LOG_JSON);
	char *db = config_database_url(&cfg);
	assert_string_equal(db, "sqlite:/tmp/x/sheaf.db");
	free(db);
	config_free(&cfg);
}

static void expect_error(const char *name, const char *value, const char *needle)
{
	struct config cfg;
	struct error e;
	setenv(name, value, 1);
	assert_int_equal(config_load(&cfg, 0, NULL, NULL, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("error for %s=%s was \"%s\", expected it to contain \"%s\"", name, value,
			 e.msg, needle);
	unsetenv(name);
}

static void test_bad_values(void **state)
{
	(void)state;
	expect_error("SHEAF_WORKERS", "abc", "SHEAF_WORKERS");
	expect_error("SHEAF_WORKERS", "abc", "from 0 to 1024");
	expect_error("SHEAF_WORKERS", "2000", "SHEAF_WORKERS");
	expect_error("SHEAF_LISTEN", "nonsense", "SHEAF_LISTEN");
	expect_error("SHEAF_LOG_LEVEL", "loud", "debug, info, warn, error or off");
	expect_error("SHEAF_MAX_BODY", "-5", "SHEAF_MAX_BODY");
	expect_error("SHEAF_MAX_BODY", "10", "from 1K to 1G");
	expect_error("SHEAF_DATABASE_URL", "postgres://x", "PostgreSQL is not available");
	expect_error("SHEAF_DATABASE_URL", "mysql://x", "SHEAF_DATABASE_URL");
	expect_error("SHEAF_STORAGE_URL", "s3://bucket", "SHEAF_S3_ACCESS_KEY");
	expect_error("SHEAF_STORAGE_URL", "s3://", "SHEAF_STORAGE_URL");
	expect_error("SHEAF_STORAGE_URL", "s3://bucket/path", "SHEAF_STORAGE_URL");
	expect_error("SHEAF_S3_PART_SIZE", "1M", "from 5M to 1G");
	expect_error("SHEAF_CORS_ORIGINS", "ftp://x", "SHEAF_CORS_ORIGINS");
	expect_error("SHEAF_DATA_DIR", "", "SHEAF_DATA_DIR");

	struct config cfg;
	struct error e;
	char *unknown[] = { "--bogus" };
	assert_int_equal(config_load(&cfg, 1, unknown, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "--bogus"));
	char *missing[] = { "--listen" };
	assert_int_equal(config_load(&cfg, 1, missing, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "--listen"));
}

/* S3 storage with its keys; the secret is kept but never part of a message. */
static void test_s3_settings(void **state)
{
	(void)state;
	struct config cfg;
	struct error e;
	setenv("SHEAF_STORAGE_URL", "s3://bucket?endpoint=http://127.0.0.1:9000&style=path", 1);
	setenv("SHEAF_S3_ACCESS_KEY", "AKID", 1);
	setenv("SHEAF_S3_SECRET_KEY", "very-secret-value", 1);
	setenv("SHEAF_S3_PART_SIZE", "16M", 1);
	assert_int_equal(config_load(&cfg, 0, NULL, NULL, &e), 0);
	assert_string_equal(cfg.s3_access_key, "AKID");
	assert_string_equal(cfg.s3_secret_key, "very-secret-value");
	assert_int_equal(cfg.s3_part_size, 16 << 20);
	assert_int_equal(cfg.s3_retries, 4);
	assert_int_equal(cfg.s3_timeout, 30);
	char *url = config_storage_url(&cfg);
	assert_string_equal(url, "s3://bucket?endpoint=http://127.0.0.1:9000&style=path");
	free(url);
	config_free(&cfg);

	unsetenv("SHEAF_S3_ACCESS_KEY");
	assert_int_equal(config_load(&cfg, 0, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "SHEAF_S3_ACCESS_KEY"));
	assert_null(strstr(e.msg, "very-secret-value"));
	unsetenv("SHEAF_STORAGE_URL");
	unsetenv("SHEAF_S3_SECRET_KEY");
	unsetenv("SHEAF_S3_PART_SIZE");
}

static void test_env_file(void **state)
{
	(void)state;
	char path[] = "/tmp/sheaf-env-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs("# comment\n\nexport SHEAF_WORKERS=3\nSHEAF_LOG_LEVEL = 'debug'\n"
	      "SHEAF_MAX_BODY=\"2K\"\nOTHER_TOOL=1\nSHEAF_TYPO=1\n", f);
	fclose(f);

	struct config cfg;
	struct error e;
	setenv("SHEAF_WORKERS", "5", 1);   /* the environment wins over .env */
	assert_int_equal(config_load(&cfg, 0, NULL, path, &e), 0);
	assert_int_equal(cfg.workers, 5);
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.max_body, 2048);
	assert_non_null(cfg.warnings);
	assert_non_null(strstr(cfg.warnings, "SHEAF_TYPO"));
	config_free(&cfg);
	unsetenv("SHEAF_WORKERS");

	f = fopen(path, "w");
	fputs("SHEAF_WORKERS=many\n", f);
	fclose(f);
	assert_int_equal(config_load(&cfg, 0, NULL, path, &e), -1);
	assert_non_null(strstr(e.msg, "SHEAF_WORKERS"));
	assert_non_null(strstr(e.msg, "line 1"));

	f = fopen(path, "w");
	fputs("not an assignment\n", f);
	fclose(f);
	assert_int_equal(config_load(&cfg, 0, NULL, path, &e), -1);
	assert_non_null(strstr(e.msg, "NAME=VALUE"));
	unlink(path);
}

static void test_help_lists_every_option(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	config_print_help(f);
	fclose(f);
	assert_non_null(strstr(text, "SHEAF_LISTEN, --listen"));
	assert_non_null(strstr(text, "SHEAF_CORS_ORIGINS"));
	assert_non_null(strstr(text, "default: 127.0.0.1:8080"));
	free(text);

	f = open_memstream(&text, &len);
	config_print_markdown(f);
	fclose(f);
	assert_non_null(strstr(text, "| `SHEAF_DATA_DIR` | `--data-dir` | `./sheaf-data` |"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_parse_size, setup),
		cmocka_unit_test_setup(test_parse_listen, setup),
		cmocka_unit_test_setup(test_defaults, setup),
		cmocka_unit_test_setup(test_env_and_flags, setup),
		cmocka_unit_test_setup(test_bad_values, setup),
		cmocka_unit_test_setup(test_s3_settings, setup),
		cmocka_unit_test_setup(test_env_file, setup),
		cmocka_unit_test_setup(test_help_lists_every_option, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
