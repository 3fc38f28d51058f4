/*
 * Configuration: one table of options, read from defaults, an optional
 * `.env` file, the environment and command-line flags (later wins).
 *
 * The table in config.c is the single source: it fills struct config, checks
 * bounds, prints `sheaf serve --help` and the README's configuration table
 * (`sheaf config --markdown`).  A bad value is reported with the variable's
 * name and what it accepts, and start-up stops.
 */
#ifndef SHEAF_BASE_CONFIG_H
#define SHEAF_BASE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"
#include "base/log.h"

enum config_auth { CONFIG_AUTH_ON, CONFIG_AUTH_OFF };

struct config {
	char *listen;           /* "host:port" as given */
	char *listen_host;      /* parsed from listen */
	int listen_port;
	char *data_dir;
	char *database_url;     /* "" = sqlite:<data_dir>/sheaf.db */
	char *storage_url;      /* "" = file:<data_dir>/objects, or s3://BUCKET?... */
	long long db_lock_timeout; /* ms a database operation waits for a lock */
	long long workers;      /* 0 = one per core */
	long long max_body;     /* bytes */
	long long max_connections;
	long long conn_timeout; /* seconds an idle connection is kept */
	long long shutdown_timeout; /* seconds to finish in-flight requests */
	int log_level;          /* enum log_level */
	int log_format;         /* enum log_format */
	char *cors_origins;     /* comma-separated; "" = no CORS; "*" = any */
	int auth;               /* enum config_auth */
	int auth_off_force;     /* 1: SHEAF_AUTH=off is allowed on a non-loopback address */
	char *jwt_secret;       /* "" = the key file in data_dir */
	long long access_ttl;   /* seconds an access token lives */
	long long refresh_ttl;  /* seconds a refresh token lives unused */
	long long password_ops; /* argon2id passes */
	long long password_memory; /* argon2id bytes */
	long long password_concurrency; /* hashes at once; 0 = cores, at most 8 */
	long long auth_rate_window;      /* seconds */
	long long auth_rate_per_address; /* auth requests per address per window */
	long long auth_rate_per_account; /* failed logins and sign-ups per email per window */
	long long upload_max_file;    /* bytes in one uploaded file */
	long long upload_max_request; /* bytes in one upload request */
	long long orphan_grace;       /* seconds an unlisted object is left alone */
	long long sweep_interval;     /* seconds between orphan sweeps */
	long long dataset_max_upload;  /* bytes in one dataset upload */
	long long dataset_sync_bytes;  /* uploads up to this size are ingested within the request */
	long long dataset_max_columns;
	long long dataset_max_field;   /* bytes in one field or cell */
	long long dataset_xlsx_max_bytes; /* uncompressed bytes of one XLSX part */
	long long dataset_xlsx_max_ratio; /* uncompressed / compressed size of one XLSX part */
	long long dataset_cache_size;  /* bytes of dataset files cached from remote storage */
	long long share_ttl_days;      /* default lifetime of a share link */
	long long query_timeout_ms;    /* SQLite work of one query */
	long long query_stream_timeout_ms; /* SQLite work of one streamed query */
	long long query_memory;        /* heap of one query */
	long long query_max_value;     /* longest value a query may build */
	long long query_max_rows;      /* rows in one (not streamed) answer */
	long long query_max_bytes;     /* bytes of one (not streamed) answer */
	long long query_cache_ttl;     /* seconds; 0 = no caching */
	long long query_cache_max;     /* largest answer cached */
	long long frame_cache;         /* bytes of column arrays kept for tools */
	char *public_url;              /* "" = from the request's Host header */
	long long job_workers;         /* background job threads */
	long long job_heartbeat_ms;    /* how often running jobs show they are alive */
	long long batch_max_queued;    /* batch predictions queued or running at once */
	long long batch_max_rows;      /* rows of one batch prediction */
	long long batch_max_body;      /* body of a request with many rows */
	long long model_cache;         /* trained models kept loaded */
	char *eclo_model;              /* "builtin", "off", or a model file */
	long long mcp_max_message;     /* bytes of one MCP message */
	long long mcp_timeout;         /* seconds an MCP tool call may run */
	long long mcp_page_size;       /* datasets per resources/list page */
	char *mcp_origins;             /* Origins allowed at /mcp besides loopback */
	long long mcp_sessions;        /* 2025-era MCP sessions kept at once */
	long long mcp_session_ttl;     /* seconds an idle MCP session lives */
	char *cache_url;        /* "" = in-process */
	long long cache_size;   /* bytes the in-process cache may hold */
	char *s3_access_key;    /* "" unless the storage is S3 */
	char *s3_secret_key;    /* "" unless the storage is S3; never logged */
	long long s3_part_size; /* bytes per multipart part (and the single-PUT limit) */
	long long s3_retries;   /* extra attempts per S3 request */
	long long s3_timeout;   /* seconds to connect, and longest stall */
	char *warnings;         /* non-fatal findings (unknown SHEAF_* names), one per line, or NULL */
};

/*
 * Fills cfg from defaults, then env_file (NULL or missing file: skipped),
 * then the process environment, then argv flags (--listen X / --listen=X).
 * Unknown flags and bad values are errors.  Returns 0 or -1 with e set.
 * On success the caller owns cfg and releases it with config_free().
 */
int config_load(struct config *cfg, int argc, char **argv, const char *env_file,
		struct error *e);
void config_free(struct config *cfg);

/* The effective database and storage URLs (defaults resolved against data_dir). */
char *config_database_url(const struct config *cfg);  /* caller frees */
char *config_storage_url(const struct config *cfg);   /* caller frees */

void config_print_help(FILE *out);      /* option list for --help */
void config_print_markdown(FILE *out);  /* the README table */

/* Parses "1048576", "512K", "4M", "1G" into bytes.  Returns 0 or -1. */
int config_parse_size(const char *s, long long *out);
/* Whether host (as in SHEAF_LISTEN) names only this machine: 127.x.x.x, ::1, localhost. */
bool config_host_is_loopback(const char *host);

/* Parses "host:port" or "[v6]:port".  host is malloc'd.  Returns 0 or -1. */
int config_parse_listen(const char *s, char **host, int *port);

#endif
