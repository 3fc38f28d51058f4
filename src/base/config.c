/*
 * The configuration table and its readers; see config.h.
 *
 * Every option is one row of `options[]`: environment variable, optional
 * flag, type, default, bounds and help.  Loading, validation, --help and the
 * README table are all driven by that row, so they cannot disagree.
 */
#include "base/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"

extern char **environ;

enum opt_type {
	OPT_PATH,      /* free text: a path */
	OPT_INT,       /* integer within [min, max] */
	OPT_SIZE,      /* byte count with K/M/G suffix within [min, max] */
	OPT_ENUM,      /* one of choices; stored as its index (int) */
	OPT_LISTEN,    /* host:port */
	OPT_DB_URL,
	OPT_STORAGE_URL,
	OPT_ORIGINS,
	OPT_SECRET,    /* text never echoed back: empty, or at least min bytes */
	OPT_CACHE_URL,
	OPT_PUBLIC_URL, /* empty, or http(s)://host[:port][/path] without a trailing slash */
};

struct option {
	const char *env;
	const char *flag;        /* "--listen" or NULL for environment-only */
	enum opt_type type;
	const char *def;
	long long min, max;
	const char *const *choices;
	size_t offset;           /* field in struct config */
	const char *accepts;     /* what a valid value looks like, for errors and docs */
	const char *help;
};

static const char *const log_levels[] = { "debug", "info", "warn", "error", "off", NULL };
static const char *const log_formats[] = { "text", "json", NULL };
static const char *const on_off[] = { "on", "off", NULL };
static const char *const no_yes[] = { "no", "yes", NULL };

#define FIELD(f) offsetof(struct config, f)

static const struct option options[] = {
	{ "SHEAF_LISTEN", "--listen", OPT_LISTEN, "127.0.0.1:8080", 0, 65535, NULL, FIELD(listen),
	  "HOST:PORT (IPv6 as [::1]:PORT); port 0 picks a free port",
	  "Address the HTTP server listens on." },
	{ "SHEAF_DATA_DIR", "--data-dir", OPT_PATH, "./sheaf-data", 0, 0, NULL, FIELD(data_dir),
	  "a directory path (created if missing)",
	  "Where the embedded database and local object storage live." },
	{ "SHEAF_DATABASE_URL", "--database-url", OPT_DB_URL, "", 0, 0, NULL, FIELD(database_url),
	  "empty (SQLite file DATA_DIR/sheaf.db) or sqlite:PATH",
	  "Metadata store. postgres:// is reserved for the PostgreSQL backend (not in this build yet)." },
	{ "SHEAF_DATABASE_LOCK_TIMEOUT", NULL, OPT_INT, "5000", 0, 600000, NULL, FIELD(db_lock_timeout),
	  "milliseconds, from 0 to 600000",
	  "How long a database operation waits for a lock held by another writer before it fails (500, or 503 on /health)." },
	{ "SHEAF_STORAGE_URL", "--storage-url", OPT_STORAGE_URL, "", 0, 0, NULL, FIELD(storage_url),
	  "empty (DATA_DIR/objects), file:PATH or s3://BUCKET?endpoint=URL&region=REGION&style=STYLE (STYLE: path or virtual)",
	  "Object storage for uploaded bytes: a local directory, or any S3 API (keys in SHEAF_S3_ACCESS_KEY and SHEAF_S3_SECRET_KEY)." },
	{ "SHEAF_WORKERS", "--workers", OPT_INT, "0", 0, 1024, NULL, FIELD(workers),
	  "an integer from 0 to 1024; 0 = one per CPU core",
	  "HTTP worker threads (libmicrohttpd epoll thread pool)." },
	{ "SHEAF_MAX_BODY", NULL, OPT_SIZE, "1M", 1024, 1LL << 30, NULL, FIELD(max_body),
	  "a size from 1K to 1G (suffix K, M or G)",
	  "Largest request body accepted; bigger bodies get 413." },
	{ "SHEAF_MAX_CONNECTIONS", NULL, OPT_INT, "1024", 1, 100000, NULL, FIELD(max_connections),
	  "an integer from 1 to 100000",
	  "Concurrent client connections; more are refused." },
	{ "SHEAF_CONNECTION_TIMEOUT", NULL, OPT_INT, "30", 1, 3600, NULL, FIELD(conn_timeout),
	  "seconds, from 1 to 3600",
	  "An idle keep-alive connection is closed after this long." },
	{ "SHEAF_SHUTDOWN_TIMEOUT", NULL, OPT_INT, "10", 0, 3600, NULL, FIELD(shutdown_timeout),
	  "seconds, from 0 to 3600",
	  "On SIGINT/SIGTERM, how long in-flight requests may take to finish." },
	{ "SHEAF_LOG_LEVEL", "--log-level", OPT_ENUM, "info", 0, 0, log_levels, FIELD(log_level),
	  "debug, info, warn, error or off",
	  "Least severe log line written. The access log is at info; the start-up and shutdown lines are written at every level but off." },
	{ "SHEAF_LOG_FORMAT", "--log-format", OPT_ENUM, "text", 0, 0, log_formats, FIELD(log_format),
	  "text or json",
	  "Log lines as readable text or as one JSON object per line." },
	{ "SHEAF_CORS_ORIGINS", NULL, OPT_ORIGINS, "", 0, 0, NULL, FIELD(cors_origins),
	  "empty (no CORS), * or comma-separated origins like https://app.example",
	  "Browser origins allowed to call the API from another site." },
	{ "SHEAF_AUTH", "--auth", OPT_ENUM, "on", 0, 0, on_off, FIELD(auth),
	  "on or off",
	  "on: /api/* needs a bearer token. off: single-user local mode, every request acts as the built-in local user (refused on a non-loopback address unless SHEAF_AUTH_OFF_FORCE=yes)." },
	{ "SHEAF_AUTH_OFF_FORCE", NULL, OPT_ENUM, "no", 0, 0, no_yes, FIELD(auth_off_force),
	  "no or yes",
	  "yes lets SHEAF_AUTH=off listen on a non-loopback address, where anyone who can reach it acts as the local user." },
	{ "SHEAF_JWT_SECRET", NULL, OPT_SECRET, "", 32, 0, NULL, FIELD(jwt_secret),
	  "empty, or a secret of at least 32 bytes",
	  "Key that signs access tokens (HS256). Empty: a random key kept in DATA_DIR/signing-key (mode 0600). Set the same secret on every node." },
	{ "SHEAF_ACCESS_TOKEN_TTL", NULL, OPT_INT, "900", 60, 86400, NULL, FIELD(access_ttl),
	  "seconds, from 60 to 86400",
	  "How long an access token is valid." },
	{ "SHEAF_REFRESH_TOKEN_TTL", NULL, OPT_INT, "2592000", 300, 31536000, NULL, FIELD(refresh_ttl),
	  "seconds, from 300 to 31536000",
	  "How long a refresh token stays valid unused (each refresh starts a new one)." },
	{ "SHEAF_PASSWORD_OPS", NULL, OPT_INT, "2", 1, 20, NULL, FIELD(password_ops),
	  "an integer from 1 to 20",
	  "argon2id passes per password hash (libsodium opslimit)." },
	{ "SHEAF_PASSWORD_MEMORY", NULL, OPT_SIZE, "64M", 1LL << 20, 1LL << 30, NULL, FIELD(password_memory),
	  "a size from 1M to 1G",
	  "argon2id memory per password hash (libsodium memlimit)." },
	{ "SHEAF_PASSWORD_CONCURRENCY", NULL, OPT_INT, "0", 0, 256, NULL, FIELD(password_concurrency),
	  "an integer from 0 to 256; 0 = one per CPU core, at most 8",
	  "Password hashes computed at once, on threads of their own so the HTTP threads stay free; more wait in a queue (256 deep, then 503). Peak memory is this times SHEAF_PASSWORD_MEMORY." },
	{ "SHEAF_AUTH_RATE_WINDOW", NULL, OPT_INT, "60", 1, 86400, NULL, FIELD(auth_rate_window),
	  "seconds, from 1 to 86400",
	  "Window of the login and registration rate limits." },
	{ "SHEAF_AUTH_RATE_PER_ADDRESS", NULL, OPT_INT, "30", 1, 100000000, NULL, FIELD(auth_rate_per_address),
	  "an integer from 1 to 100000000",
	  "Login, registration and refresh requests one client address may make per window; more get 429." },
	{ "SHEAF_AUTH_RATE_PER_ACCOUNT", NULL, OPT_INT, "10", 1, 100000000, NULL, FIELD(auth_rate_per_account),
	  "an integer from 1 to 100000000",
	  "Failed logins (and, counted apart, sign-ups) per email address per window; more get 429." },
	{ "SHEAF_UPLOAD_MAX_FILE", NULL, OPT_SIZE, "2G", 0, 1LL << 40, NULL, FIELD(upload_max_file),
	  "a size up to 1024G (suffix K, M or G)",
	  "Largest file accepted by POST /api/files/upload; bigger ones get 413 and leave nothing behind." },
	{ "SHEAF_UPLOAD_MAX_REQUEST", NULL, OPT_SIZE, "4G", 0, 1LL << 40, NULL, FIELD(upload_max_request),
	  "a size up to 1024G (suffix K, M or G)",
	  "Largest upload request (all its files and fields together); bigger ones get 413." },
	{ "SHEAF_ORPHAN_GRACE", NULL, OPT_INT, "900", 0, 604800, NULL, FIELD(orphan_grace),
	  "seconds, from 0 to 604800",
	  "An object in storage that no file lists is removed by the sweep once it is this old (younger ones may be uploads still finishing)." },
	{ "SHEAF_SWEEP_INTERVAL", NULL, OPT_INT, "3600", 1, 604800, NULL, FIELD(sweep_interval),
	  "seconds, from 1 to 604800",
	  "How often orphaned objects are swept (also once at start-up)." },
	{ "SHEAF_DATASET_MAX_UPLOAD", NULL, OPT_SIZE, "50M", 1, 1LL << 40, NULL, FIELD(dataset_max_upload),
	  "a size up to 1024G (suffix K, M or G)",
	  "Largest file accepted by POST /api/datasets/upload; bigger ones get 413 and leave nothing behind." },
	{ "SHEAF_DATASET_SYNC_BYTES", NULL, OPT_SIZE, "8M", 0, 1LL << 40, NULL, FIELD(dataset_sync_bytes),
	  "a size up to 1024G (suffix K, M or G)",
	  "Dataset uploads up to this size are ingested before the upload answers (201, status ready); larger ones answer 202 at once and ingest as a background job." },
	{ "SHEAF_DATASET_MAX_COLUMNS", NULL, OPT_INT, "2000", 1, 2000, NULL, FIELD(dataset_max_columns),
	  "an integer from 1 to 2000 (SQLite's column limit)",
	  "Most columns a dataset may have; a wider file is refused with 422." },
	{ "SHEAF_DATASET_MAX_FIELD", NULL, OPT_SIZE, "1M", 1, 64LL << 20, NULL, FIELD(dataset_max_field),
	  "a size up to 64M (suffix K or M)",
	  "Longest field (CSV) or cell (XLSX, XLS) in an uploaded dataset; a longer one is refused with 422 naming its line." },
	{ "SHEAF_DATASET_XLSX_MAX_BYTES", NULL, OPT_SIZE, "1G", 1, 1LL << 40, NULL, FIELD(dataset_xlsx_max_bytes),
	  "a size up to 1024G (suffix K, M or G)",
	  "Largest uncompressed part of an XLSX workbook; bigger ones are refused with 422 as a zip bomb." },
	{ "SHEAF_DATASET_XLSX_MAX_RATIO", NULL, OPT_INT, "100", 2, 100000, NULL, FIELD(dataset_xlsx_max_ratio),
	  "an integer from 2 to 100000",
	  "Most an XLSX part (over 1 MiB) may inflate relative to its compressed size; more is refused with 422 as a zip bomb." },
	{ "SHEAF_DATASET_CACHE_SIZE", NULL, OPT_SIZE, "10G", 0, 1LL << 50, NULL, FIELD(dataset_cache_size),
	  "a size (suffix K, M or G); 0 = no limit",
	  "With S3 storage, the most disk the local copies of dataset files (DATA_DIR/cache) may take; the least recently used go first." },
	{ "SHEAF_SHARE_TTL_DAYS", NULL, OPT_INT, "7", 1, 3650, NULL, FIELD(share_ttl_days),
	  "days, from 1 to 3650",
	  "Lifetime of a dataset share link when the request does not give expires_in_days (which may be at most 3650)." },
	{ "SHEAF_QUERY_TIMEOUT_MS", NULL, OPT_INT, "10000", 10, 3600000, NULL, FIELD(query_timeout_ms),
	  "milliseconds, from 10 to 3600000",
	  "Longest SQLite work of one SQL query or analysis tool (422 query_timeout beyond)." },
	{ "SHEAF_QUERY_STREAM_TIMEOUT_MS", NULL, OPT_INT, "300000", 10, 86400000, NULL, FIELD(query_stream_timeout_ms),
	  "milliseconds, from 10 to 86400000",
	  "Longest SQLite work of one streamed query result (stream: true, or Accept: text/csv), all of its rows together; time spent waiting for the client does not count." },
	{ "SHEAF_QUERY_MEMORY", NULL, OPT_SIZE, "256M", 1LL << 20, 1LL << 40, NULL, FIELD(query_memory),
	  "a size (suffix K, M or G), at least 1M",
	  "Heap one SQL query may hold (pages, sorts, temporary tables, values; 422 query_too_big beyond)." },
	{ "SHEAF_QUERY_MAX_VALUE", NULL, OPT_SIZE, "16M", 1024, 1LL << 30, NULL, FIELD(query_max_value),
	  "a size (suffix K, M or G), from 1K to 1G",
	  "Longest string or blob a query may build (randomblob, group_concat...)." },
	{ "SHEAF_QUERY_MAX_ROWS", NULL, OPT_INT, "100000", 1, 10000000, NULL, FIELD(query_max_rows),
	  "an integer from 1 to 10000000",
	  "Most rows one query answer (not streamed) may hold; the request's limit may ask for fewer (default 1000)." },
	{ "SHEAF_QUERY_MAX_BYTES", NULL, OPT_SIZE, "32M", 1024, 1LL << 32, NULL, FIELD(query_max_bytes),
	  "a size (suffix K, M or G), from 1K to 4G",
	  "Most bytes of one query answer (not streamed): rows past it are left out and the answer says truncated." },
	{ "SHEAF_QUERY_CACHE_TTL", NULL, OPT_INT, "600", 0, 86400 * 30, NULL, FIELD(query_cache_ttl),
	  "seconds, from 0 (no caching) to 2592000",
	  "How long a query answer is kept in the cache for the same SQL on the same dataset version." },
	{ "SHEAF_QUERY_CACHE_MAX", NULL, OPT_SIZE, "1M", 0, 1LL << 30, NULL, FIELD(query_cache_max),
	  "a size (suffix K, M or G)",
	  "Largest query answer that is cached." },
	{ "SHEAF_FRAME_CACHE", NULL, OPT_SIZE, "1G", 0, 1LL << 44, NULL, FIELD(frame_cache),
	  "a size (suffix K, M or G); 0 = none",
	  "Memory for datasets' columns kept as typed arrays for the analysis tools (loaded on first use; the least recently used go first). 0 turns the cache off: every tool call reads the dataset file through SQLite." },
	{ "SHEAF_PUBLIC_URL", NULL, OPT_PUBLIC_URL, "", 0, 0, NULL, FIELD(public_url),
	  "empty or an http(s) URL without a trailing slash",
	  "Base of the links sheaf hands out (share_url); empty builds them from the request's Host header." },
	{ "SHEAF_JOB_WORKERS", NULL, OPT_INT, "2", 1, 64, NULL, FIELD(job_workers),
	  "an integer from 1 to 64",
	  "Threads running background jobs (ingesting large uploads, training models, batch predictions)." },
	{ "SHEAF_JOB_HEARTBEAT_MS", NULL, OPT_INT, "5000", 100, 600000, NULL, FIELD(job_heartbeat_ms),
	  "milliseconds from 100 to 600000",
	  "How often a running job records that it is alive. A job silent for six heartbeats is taken to have died with its process and is run again (at most three starts)." },
	{ "SHEAF_BATCH_MAX_QUEUED", NULL, OPT_INT, "100", 1, 100000, NULL, FIELD(batch_max_queued),
	  "an integer from 1 to 100000",
	  "Batch predictions that may be queued or running at once, across all users; one more is refused with 429 and Retry-After." },
	{ "SHEAF_BATCH_MAX_ROWS", NULL, OPT_INT, "10000", 1, 1000000, NULL, FIELD(batch_max_rows),
	  "an integer from 1 to 1000000",
	  "Rows (accidents) in one batch prediction; more is refused with 413." },
	{ "SHEAF_BATCH_MAX_BODY", NULL, OPT_SIZE, "64M", 1024, 1LL << 32, NULL, FIELD(batch_max_body),
	  "a size from 1K to 4G (suffix K, M or G)",
	  "Largest body of a prediction request with many rows (predict, predict/batch, eclo/batch; 10,000 accidents are about 3 MB); other requests keep SHEAF_MAX_BODY. Below SHEAF_MAX_BODY, SHEAF_MAX_BODY applies." },
	{ "SHEAF_MODEL_CACHE", NULL, OPT_INT, "16", 1, 10000, NULL, FIELD(model_cache),
	  "an integer from 1 to 10000",
	  "Trained models kept loaded for predictions (the least recently used unheld one goes first)." },
	{ "SHEAF_ECLO_MODEL", NULL, OPT_PATH, "builtin", 0, 0, NULL, FIELD(eclo_model),
	  "builtin, off, or the path of a model file",
	  "The model behind /api/predict/eclo: the one built into the binary (trained by make eclo-model on the TAAS Daegu records), none, or a model file written by sheaf train." },
	{ "SHEAF_MCP_MAX_MESSAGE", NULL, OPT_SIZE, "4M", 1024, 1LL << 30, NULL, FIELD(mcp_max_message),
	  "a size from 1K to 1G",
	  "Largest MCP message (one line on stdio, one POST body at /mcp); a bigger one is refused with a JSON-RPC error (HTTP 413)." },
	{ "SHEAF_MCP_TIMEOUT", NULL, OPT_INT, "300", 1, 86400, NULL, FIELD(mcp_timeout),
	  "seconds, from 1 to 86400",
	  "Longest an MCP tool call may run; past it the call is stopped and answers with isError (queries also keep their own SHEAF_QUERY_TIMEOUT)." },
	{ "SHEAF_MCP_PAGE_SIZE", NULL, OPT_INT, "100", 1, 10000, NULL, FIELD(mcp_page_size),
	  "an integer from 1 to 10000",
	  "Datasets per page of MCP resources/list (each dataset is two resources: its schema and profile, and its preview)." },
	{ "SHEAF_MCP_ORIGINS", NULL, OPT_ORIGINS, "", 0, 0, NULL, FIELD(mcp_origins),
	  "empty, * or comma-separated origins like https://app.example",
	  "Browser origins allowed to send an Origin header to /mcp, besides loopback ones (http://localhost, 127.0.0.1, [::1], any port) and SHEAF_PUBLIC_URL; any other Origin gets 403 (DNS rebinding protection)." },
	{ "SHEAF_MCP_SESSIONS", NULL, OPT_INT, "1000", 1, 1000000, NULL, FIELD(mcp_sessions),
	  "an integer from 1 to 1000000",
	  "MCP sessions (protocol 2025-11-25 and earlier, opened by initialize at /mcp) kept at once; the one idle longest is closed to make room." },
	{ "SHEAF_MCP_SESSION_TTL", NULL, OPT_INT, "3600", 10, 604800, NULL, FIELD(mcp_session_ttl),
	  "seconds, from 10 to 604800",
	  "An MCP session unused this long is closed; its next request gets 404, and the client starts a new one." },
	{ "SHEAF_CACHE_URL", NULL, OPT_CACHE_URL, "", 0, 0, NULL, FIELD(cache_url),
	  "empty or memory:",
	  "Cache for rate limits and (later) query results: the in-process cache. redis:// is reserved for the Redis backend (not in this build yet)." },
	{ "SHEAF_CACHE_SIZE", NULL, OPT_SIZE, "64M", 1LL << 20, 1LL << 36, NULL, FIELD(cache_size),
	  "a size from 1M to 64G",
	  "Most memory the in-process cache holds; least recently used entries go first." },
	{ "SHEAF_S3_ACCESS_KEY", NULL, OPT_SECRET, "", 0, 0, NULL, FIELD(s3_access_key),
	  "empty, or an access key id",
	  "Access key id for S3 storage (SHEAF_STORAGE_URL=s3://...); required there." },
	{ "SHEAF_S3_SECRET_KEY", NULL, OPT_SECRET, "", 0, 0, NULL, FIELD(s3_secret_key),
	  "empty, or a secret access key (never printed)",
	  "Secret access key for S3 storage; required with SHEAF_STORAGE_URL=s3://..." },
	{ "SHEAF_S3_PART_SIZE", NULL, OPT_SIZE, "8M", 5LL << 20, 1LL << 30, NULL, FIELD(s3_part_size),
	  "a size from 5M to 1G",
	  "S3 objects up to this size are one PUT; bigger ones are multipart uploads in parts of this size (at most 10000 parts). Each upload in progress holds one part in memory." },
	{ "SHEAF_S3_RETRIES", NULL, OPT_INT, "4", 0, 10, NULL, FIELD(s3_retries),
	  "an integer from 0 to 10",
	  "Extra attempts of an S3 request after a 5xx, 429, timeout or connection failure, with exponential backoff from 0.1 s (doubling, at most 5 s, with jitter)." },
	{ "SHEAF_S3_TIMEOUT", NULL, OPT_INT, "30", 1, 3600, NULL, FIELD(s3_timeout),
	  "seconds, from 1 to 3600",
	  "How long connecting to the S3 server may take, and how long a transfer may stall without a byte, before the attempt fails." },
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static void *field(struct config *cfg, const struct option *o)
{
	return (char *)cfg + o->offset;
}

int config_parse_size(const char *s, long long *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned long long mul = 1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1ULL << 10; end++; break;
	case 'M': mul = 1ULL << 20; end++; break;
	case 'G': mul = 1ULL << 30; end++; break;
	default: break;
	}
	if (mul > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > (unsigned long long)LLONG_MAX / mul)
		return -1;
	*out = (long long)(v * mul);
	return 0;
}

int config_parse_listen(const char *s, char **host, int *port)
{
	const char *colon;
	size_t hlen;
	const char *hstart = s;
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		hstart = s + 1;
		hlen = (size_t)(close - hstart);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen > 253)
		return -1;
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)hstart[i];
		if (!isalnum(c) && c != '.' && c != '-' && c != ':' && c != '%' && c != '_')
			return -1;
	}
	const char *p = colon + 1;
	if (!*p || strlen(p) > 5)
		return -1;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	long v = strtol(p, NULL, 10);
	if (v < 0 || v > 65535)
		return -1;
	*host = xstrndup(hstart, hlen);
	*port = (int)v;
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "scheme://rest" or "scheme:rest" -> rest, or NULL when s has another scheme. */
static const char *after_scheme(const char *s, const char *scheme)
{
	size_t n = strlen(scheme);
	if (strncmp(s, scheme, n) != 0 || s[n] != ':')
		return NULL;
	s += n + 1;
	return has_prefix(s, "//") ? s + 2 : s;
}

static bool origin_valid(const char *o, size_t n)
{
	const char *host;
	if (n > 8 && memcmp(o, "https://", 8) == 0)
		host = o + 8;
	else if (n > 7 && memcmp(o, "http://", 7) == 0)
		host = o + 7;
	else
		return false;
	for (const char *c = host; c < o + n; c++)
		if (!isalnum((unsigned char)*c) && !strchr(".-:[]", *c))
			return false;
	return host < o + n;
}

static int check_value(const struct option *o, const char *v, struct error *e)
{
	const char *rest;
	switch (o->type) {
	case OPT_PATH:
		return *v ? 0 : -1;
	case OPT_INT: {
		if (!*v)
			return -1;
		errno = 0;
		char *end;
		long long n = strtoll(v, &end, 10);
		return (errno || *end || n < o->min || n > o->max) ? -1 : 0;
	}
	case OPT_SIZE: {
		long long n;
		return (config_parse_size(v, &n) || n < o->min || n > o->max) ? -1 : 0;
	}
	case OPT_ENUM:
		for (size_t i = 0; o->choices[i]; i++)
			if (strcasecmp(v, o->choices[i]) == 0)
				return 0;
		return -1;
	case OPT_LISTEN: {
		char *host;
		int port;
		if (config_parse_listen(v, &host, &port))
			return -1;
		free(host);
		return 0;
	}
	case OPT_DB_URL:
		if (!*v)
			return 0;
		if ((rest = after_scheme(v, "sqlite"))) {
			if (strcmp(rest, ":memory:") == 0) {
				/* Each pooled connection would get its own empty database. */
				error_set(e, "%s: an in-memory SQLite database is not supported; "
					     "accepts %s", o->env, o->accepts);
				return -2;
			}
			return *rest ? 0 : -1;
		}
		if (after_scheme(v, "postgres") || after_scheme(v, "postgresql")) {
			error_set(e, "%s: PostgreSQL is not available in this build yet; accepts %s",
				  o->env, o->accepts);
			return -2;
		}
		return -1;
	case OPT_STORAGE_URL:
		if (!*v)
			return 0;
		if ((rest = after_scheme(v, "file")))
			return *rest ? 0 : -1;
		if (has_prefix(v, "s3://")) {
			/* The parameters are checked when the store opens (blob/s3.c). */
			size_t n = strcspn(v + 5, "?/");
			return n && v[5 + n] != '/' ? 0 : -1;
		}
		return -1;
	case OPT_SECRET:
		if (*v && strlen(v) < (size_t)o->min) {
			error_set(e, "%s: too short (%zu bytes); accepts %s", o->env, strlen(v),
				  o->accepts);
			return -2;
		}
		return 0;
	case OPT_PUBLIC_URL: {
		if (!*v)
			return 0;
		size_t n = strlen(v);
		const char *host = after_scheme(v, "https") ? after_scheme(v, "https")
							     : after_scheme(v, "http");
		if (!host || host == v + 5 + (v[4] == 's') || !*host || *host == '/' ||
		    v[n - 1] == '/')
			return -1;
		for (const char *c = v; *c; c++)
			if ((unsigned char)*c <= ' ' || *c == '"' || *c == '<' || *c == '>' || *c == '\\' ||
			    *c == '?' || *c == '#' || (unsigned char)*c >= 0x7f)
				return -1;
		return 0;
	}
	case OPT_CACHE_URL:
		if (!*v || strcmp(v, "memory:") == 0)
			return 0;
		if (after_scheme(v, "redis") || after_scheme(v, "rediss")) {
			error_set(e, "%s: Redis is not available in this build yet; accepts %s",
				  o->env, o->accepts);
			return -2;
		}
		return -1;
	case OPT_ORIGINS: {
		if (!*v || strcmp(v, "*") == 0)
			return 0;
		const char *p = v;
		while (*p) {
			while (*p == ' ')
				p++;
			size_t n = strcspn(p, ", ");
			if (!origin_valid(p, n))
				return -1;
			p += n;
			while (*p == ' ')
				p++;
			if (*p == ',')
				p++;
		}
		return 0;
	}
	}
	return -1;
}

/* Validates v for option o and stores it.  source names where it came from. */
static int apply(struct config *cfg, const struct option *o, const char *v,
		 const char *source, struct error *e)
{
	int rc = check_value(o, v, e);
	if (rc == -2)
		return -1;
	if (rc) {
		char shown[80];
		size_t n = strlen(v);
		snprintf(shown, sizeof shown, "%.60s%s", v, n > 60 ? "..." : "");
		return error_set(e, "%s%s%s (from %s): expected %s, got \"%s\"",
				 o->env, o->flag ? " / " : "", o->flag ? o->flag : "",
				 source, o->accepts, shown);
	}
	void *f = field(cfg, o);
	switch (o->type) {
	case OPT_INT:
		*(long long *)f = strtoll(v, NULL, 10);
		break;
	case OPT_SIZE:
		config_parse_size(v, (long long *)f);
		break;
	case OPT_ENUM:
		for (int i = 0; o->choices[i]; i++)
			if (strcasecmp(v, o->choices[i]) == 0)
				*(int *)f = i;
		break;
	default:
		free(*(char **)f);
		*(char **)f = xstrdup(v);
		break;
	}
	return 0;
}

static const struct option *find_env(const char *name, size_t len)
{
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (strlen(options[i].env) == len && strncmp(options[i].env, name, len) == 0)
			return &options[i];
	return NULL;
}

static void warn(struct config *cfg, const char *fmt, const char *arg, size_t len)
{
	struct buf b;
	buf_init(&b, 4096);
	if (cfg->warnings)
		buf_puts(&b, cfg->warnings);
	char name[128];
	snprintf(name, sizeof name, "%.*s", (int)(len < 100 ? len : 100), arg);
	buf_printf(&b, fmt, name);
	buf_puts(&b, "\n");
	free(cfg->warnings);
	cfg->warnings = buf_detach(&b);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static int load_env_file(struct config *cfg, const char *path, struct error *e)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[4096];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = error_set(e, "%s line %d: longer than %zu bytes", path, lineno,
				       sizeof line - 2);
			break;
		}
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		if (has_prefix(s, "export "))
			s = trim(s + 7);
		char *eq = strchr(s, '=');
		if (!eq) {
			rc = error_set(e, "%s line %d: expected NAME=VALUE", path, lineno);
			break;
		}
		*eq = '\0';
		char *name = trim(s), *value = trim(eq + 1);
		size_t vn = strlen(value);
		if (vn >= 2 && (value[0] == '"' || value[0] == '\'') && value[vn - 1] == value[0]) {
			value[vn - 1] = '\0';
			value++;
		}
		if (!has_prefix(name, "SHEAF_"))
			continue;   /* .env files are shared with other tools */
		const struct option *o = find_env(name, strlen(name));
		if (!o) {
			warn(cfg, "unknown setting %s in .env (ignored)", name, strlen(name));
			continue;
		}
		/* The real environment wins over .env; check it there, not here. */
		if (getenv(o->env))
			continue;
		char source[300];
		snprintf(source, sizeof source, "%.250s line %d", path, lineno);
		if ((rc = apply(cfg, o, value, source, e)))
			break;
	}
	fclose(f);
	return rc;
}

static int load_flags(struct config *cfg, int argc, char **argv, struct error *e)
{
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const struct option *o = NULL;
		const char *value = NULL;
		for (size_t k = 0; k < N_OPTIONS && !o; k++) {
			const char *flag = options[k].flag;
			if (!flag)
				continue;
			size_t n = strlen(flag);
			if (strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
				o = &options[k];
				value = arg[n] == '=' ? arg + n + 1 : NULL;
			}
		}
		if (!o)
			return error_set(e, "unknown argument \"%s\" (see --help)", arg);
		if (!value) {
			if (i + 1 >= argc)
				return error_set(e, "%s needs a value: %s", o->flag, o->accepts);
			value = argv[++i];
		}
		char source[64];
		snprintf(source, sizeof source, "the command line");
		if (apply(cfg, o, value, source, e))
			return -1;
	}
	return 0;
}

static int finish(struct config *cfg, struct error *e)
{
	free(cfg->listen_host);
	cfg->listen_host = NULL;
	if (config_parse_listen(cfg->listen, &cfg->listen_host, &cfg->listen_port))
		return error_set(e, "SHEAF_LISTEN: cannot parse \"%s\"", cfg->listen);
	if (cfg->auth == CONFIG_AUTH_OFF && !cfg->auth_off_force &&
	    !config_host_is_loopback(cfg->listen_host))
		return error_set(e, "SHEAF_AUTH=off on %s: anyone who can reach this address would "
				    "act as the local user. Listen on 127.0.0.1, ::1 or localhost, "
				    "turn authentication on, or set SHEAF_AUTH_OFF_FORCE=yes if that "
				    "is really what you want", cfg->listen);
	if (has_prefix(cfg->storage_url, "s3://") &&
	    (!*cfg->s3_access_key || !*cfg->s3_secret_key))
		return error_set(e, "SHEAF_STORAGE_URL is an S3 bucket: set SHEAF_S3_ACCESS_KEY "
				    "and SHEAF_S3_SECRET_KEY too");
	return 0;
}

bool config_host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int config_load(struct config *cfg, int argc, char **argv, const char *env_file,
		struct error *e)
{
	memset(cfg, 0, sizeof *cfg);
	for (size_t i = 0; i < N_OPTIONS; i++)
		if (apply(cfg, &options[i], options[i].def, "the built-in default", e))
			goto fail;

	if (env_file && load_env_file(cfg, env_file, e))
		goto fail;

	for (size_t i = 0; i < N_OPTIONS; i++) {
		const char *v = getenv(options[i].env);
		if (v && apply(cfg, &options[i], v, "the environment", e))
			goto fail;
	}
	for (char **env = environ; env && *env; env++) {
		const char *eq = strchr(*env, '=');
		if (has_prefix(*env, "SHEAF_") && eq && !find_env(*env, (size_t)(eq - *env)))
			warn(cfg, "unknown setting %s in the environment (ignored)", *env,
			     (size_t)(eq - *env));
	}

	if (load_flags(cfg, argc, argv, e) || finish(cfg, e))
		goto fail;
	return 0;
fail:
	config_free(cfg);
	return -1;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];
		if (o->type != OPT_INT && o->type != OPT_SIZE && o->type != OPT_ENUM) {
			char **p = field(cfg, o);
			free(*p);
			*p = NULL;
		}
	}
	free(cfg->listen_host);
	free(cfg->warnings);
	cfg->listen_host = NULL;
	cfg->warnings = NULL;
}

static char *resolve_url(const char *url, const char *scheme, const char *data_dir,
			 const char *leaf)
{
	struct buf b;
	buf_init(&b, 8192);
	if (*url)
		buf_puts(&b, url);
	else
		buf_printf(&b, "%s:%s/%s", scheme, data_dir, leaf);
	return buf_detach(&b);
}

char *config_database_url(const struct config *cfg)
{
	return resolve_url(cfg->database_url, "sqlite", cfg->data_dir, "sheaf.db");
}

char *config_storage_url(const struct config *cfg)
{
	return resolve_url(cfg->storage_url, "file", cfg->data_dir, "objects");
}

void config_print_help(FILE *out)
{
	fprintf(out, "Settings (environment, a .env file in the working directory, or flags;\n"
		     "flags win over the environment, which wins over .env):\n\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];
		fprintf(out, "  %s%s%s\n", o->env, o->flag ? ", " : "", o->flag ? o->flag : "");
		fprintf(out, "      %s\n      accepts: %s\n      default: %s\n", o->help, o->accepts,
			*o->def ? o->def : "(empty)");
	}
}

void config_print_markdown(FILE *out)
{
	fprintf(out, "| variable | flag | default | accepts | what it does |\n");
	fprintf(out, "| --- | --- | --- | --- | --- |\n");
	for (size_t i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];
		fprintf(out, "| `%s` | %s%s%s | %s%s%s | %s | %s |\n", o->env,
			o->flag ? "`" : "", o->flag ? o->flag : "", o->flag ? "`" : "",
			*o->def ? "`" : "", *o->def ? o->def : "(empty)", *o->def ? "`" : "",
			o->accepts, o->help);
	}
}
