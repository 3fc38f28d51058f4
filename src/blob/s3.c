/*
 * Object storage on any S3 API (Ceph RGW, SeaweedFS, Garage, AWS), through
 * libcurl, which signs every request with AWS Signature V4
 * (CURLOPT_AWS_SIGV4).
 *
 * URL: s3://BUCKET?endpoint=URL&region=REGION&style=path|virtual.  Without
 * an endpoint the store is AWS (https://s3.REGION.amazonaws.com).  region
 * defaults to us-east-1.  style: virtual-host addressing
 * (BUCKET.host/KEY) is the default for AWS (no endpoint, or one under
 * amazonaws.com); path-style addressing (host/BUCKET/KEY) is the default for
 * any other endpoint, because that is what self-hosted servers answer to
 * without wildcard DNS.  Keys come from configuration (struct blob_options).
 *
 * Writes are buffered in memory up to one part (SHEAF_S3_PART_SIZE): an
 * object that fits is one PUT at commit; a bigger one becomes a multipart
 * upload, a part sent each time the buffer fills, completed at commit and
 * aborted on failure, so nothing is visible before commit and memory stays
 * at one part per writer.  S3 makes a PUT visible atomically, which gives
 * blob.h's "all or nothing" without temporaries.  An upload whose process
 * dies midway leaves an invisible pending multipart upload; a bucket
 * lifecycle rule (AbortIncompleteMultipartUpload) cleans those up.
 *
 * Reads stream: curl hands each piece of a GET body straight to the caller's
 * blob_write_fn.  A GET that breaks midway is resumed from the next byte with
 * If-Match on the ETag, so a retried read cannot splice two versions.
 *
 * Every request is retried with exponential backoff and jitter on 5xx,
 * 429/SlowDown, timeouts and connection failures.  403 and 404 are answered
 * at once: 403 as "access denied" with the server's error code, 404 as
 * BLOB_NOT_FOUND for keys and a clear error for a missing bucket.
 *
 * libcurl 7.88 (Debian 12) signs the query string as written and every
 * header we add, and uses x-amz-content-sha256 as the payload hash when it
 * is present, so this file writes queries already in canonical form (sorted,
 * percent-encoded, "name=" for empty values) and sends the SHA-256 of every
 * body (parts are in memory anyway, so the server checks each byte).
 *
 * Easy handles are pooled (curl_easy_reset keeps their connections), so the
 * store is safe to use from many threads; a writer is used by one at a time.
 * The XML the server answers with is read in s3xml.c.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/dynlib.h"
#include "base/id.h"
#include "base/log.h"
#include "blob/backends.h"
#include "blob/s3xml.h"

#define PART_DEFAULT ((uint64_t)8 << 20)
#define PART_MIN ((uint64_t)5 << 20)        /* S3's smallest part but the last */
#define PART_MAX ((uint64_t)1 << 30)        /* S3 allows 5 GiB; one is held in memory */
#define PARTS_MAX 10000                     /* S3's most parts per upload */
#define ATTEMPTS_DEFAULT 5
#define TIMEOUT_DEFAULT_MS 30000
#define LIST_PAGE_DEFAULT 1000
#define IDLE_HANDLES 8
#define URL_LIMIT (16 * 1024)
#define XML_LIMIT ((size_t)16 << 20)        /* a list page or a multipart reply */
#define ERROR_BODY_LIMIT ((size_t)64 << 10)
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define WRITER_FIRST_CAP ((size_t)64 << 10)
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CHECK_PREFIX ".sheaf-check/"        /* not a valid blob key: never listed */

struct s3_store {
	struct blob_store base;
	char *bucket;
	char *region;
	char *origin;        /* scheme://[BUCKET.]host[:port], where requests go */
	char *endpoint;      /* scheme://host[:port], for messages */
	bool virtual_host;
	char *sigv4;         /* "aws:amz:REGION:s3" */
	char *access_key;
	char *secret_key;
	uint64_t part_size;
	int attempts;
	long timeout_ms;
	int list_page;
	pthread_mutex_t lock;
	CURL *idle[IDLE_HANDLES];
	int n_idle;
};

static const struct blob_ops s3_ops;

static struct s3_store *impl(struct blob_store *bs)
{
	return (struct s3_store *)bs;
}

/* ---- one request ------------------------------------------------------ */

/*
 * A request and what came back.  The caller fills the first group; perform()
 * fills the rest.  A 2xx body goes to sink (streamed) or out (bounded), any
 * other body to err_body, whose S3 <Error> Code and Message are parsed.
 */
struct s3_call {
	const char *method;         /* GET HEAD PUT POST DELETE */
	const char *key;            /* NULL: the bucket itself */
	const char *query;          /* canonical query string, or NULL */
	const void *body;           /* PUT/POST payload (not copied) */
	size_t body_len;
	const char *content_type;
	bool ranged;                /* send Range: bytes=range_from-[range_from+range_len-1] */
	uint64_t range_from;
	uint64_t range_len;         /* 0: to the end */
	blob_write_fn sink;
	void *sink_ctx;
	struct buf *out;
	const char *what;           /* "GET key", for messages */

	long status;
	uint64_t content_length;
	bool has_length;
	int64_t last_modified_ms;
	int64_t date_ms;
	char etag[256];
	char code[128];             /* S3 error Code */
	char message[256];          /* S3 error Message */
	struct buf err_body;
	int tries;
	/* Streaming state, across attempts. */
	uint64_t delivered;         /* bytes handed to sink, all attempts */
	uint64_t attempt_from;      /* first byte this attempt asked for */
	uint64_t skip;              /* bytes to drop (a server that ignored Range) */
	bool body_started;          /* this response's body has begun */
	bool sink_stopped;
	bool out_too_big;
	char resume_etag[256];
	/* Stall detection, per attempt. */
	int64_t stall_ns;
	int64_t moved_at_ns;        /* when a byte last moved (0: not yet) */
	curl_off_t moved;           /* bytes moved so far, both ways */
	bool stalled;
};

/* libcurl, loaded on first use (base/dynlib.h): its functions without the
 * curl_ prefix (curl.h makes some of those names macros).  Written once
 * by dynlib_ready, read-only after. */
static struct {
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_perform) *easy_perform;
	__typeof__(curl_easy_reset) *easy_reset;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_strerror) *easy_strerror;
	__typeof__(curl_free) *free;
	__typeof__(curl_getdate) *getdate;
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_slist_append) *slist_append;
	__typeof__(curl_slist_free_all) *slist_free_all;
	__typeof__(curl_url) *url;
	__typeof__(curl_url_cleanup) *url_cleanup;
	__typeof__(curl_url_get) *url_get;
	__typeof__(curl_url_set) *url_set;
} C;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

#ifndef SHEAF_CURL_SONAME
#define SHEAF_CURL_SONAME "libcurl.so.4"
#endif

#define SYM(f) { "curl_" #f, &C.f }
static const struct dynlib_sym curl_syms[] = {
	SYM(easy_cleanup),
	SYM(easy_init),
	SYM(easy_perform),
	SYM(easy_reset),
	SYM(easy_setopt),
	SYM(easy_strerror),
	SYM(free),
	SYM(getdate),
	SYM(global_init),
	SYM(slist_append),
	SYM(slist_free_all),
	SYM(url),
	SYM(url_cleanup),
	SYM(url_get),
	SYM(url_set),
};
#undef SYM
static struct dynlib_lazy curl_lib = DYNLIB_LAZY(SHEAF_CURL_SONAME, curl_syms);

/* curl_global_init, once, after the load. */
static void curl_start(void)
{
	curl_init_rc = C.global_init(CURL_GLOBAL_DEFAULT);
}

static CURL *handle_get(struct s3_store *s)
{
	CURL *h = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->n_idle)
		h = s->idle[--s->n_idle];
	pthread_mutex_unlock(&s->lock);
	if (!h && !(h = C.easy_init())) {
		fprintf(stderr, "sheaf: out of memory (curl_easy_init)\n");
		abort();
	}
	return h;
}

static void handle_put(struct s3_store *s, CURL *h)
{
	pthread_mutex_lock(&s->lock);
	if (s->n_idle < IDLE_HANDLES) {
		s->idle[s->n_idle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (h)
		C.easy_cleanup(h);
}

static void copy_trimmed(char *dst, size_t size, const char *src, size_t n)
{
	while (n && (*src == ' ' || *src == '\t')) {
		src++;
		n--;
	}
	while (n && (src[n - 1] == ' ' || src[n - 1] == '\t' || src[n - 1] == '\r' ||
		     src[n - 1] == '\n'))
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static bool header_is(const char *line, size_t n, const char *name, const char **value,
		      size_t *vlen)
{
	size_t k = strlen(name);
	if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
		return false;
	*value = line + k + 1;
	*vlen = n - k - 1;
	return true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
	struct s3_call *c = ud;
	size_t n = size * nmemb;
	const char *v;
	size_t vn;
	char tmp[256];
	if (n > 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue, say): forget the last one's headers. */
		const char *sp = memchr(p, ' ', n);
		c->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		c->has_length = false;
		c->content_length = 0;
		c->last_modified_ms = 0;
		c->etag[0] = '\0';
		c->skip = 0;
		c->body_started = false;
	} else if (header_is(p, n, "Content-Length", &v, &vn)) {
		copy_trimmed(tmp, sizeof tmp, v, vn);
		c->content_length = strtoull(tmp, NULL, 10);
		c->has_length = true;
	} else if (header_is(p, n, "Last-Modified", &v, &vn)) {
		copy_trimmed(tmp, sizeof tmp, v, vn);
		time_t t = C.getdate(tmp, NULL);
		c->last_modified_ms = t > 0 ? (int64_t)t * 1000 : 0;
	} else if (header_is(p, n, "Date", &v, &vn)) {
		copy_trimmed(tmp, sizeof tmp, v, vn);
		time_t t = C.getdate(tmp, NULL);
		c->date_ms = t > 0 ? (int64_t)t * 1000 : 0;
	} else if (header_is(p, n, "ETag", &v, &vn)) {
		copy_trimmed(c->etag, sizeof c->etag, v, vn);
	}
	return n;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
	struct s3_call *c = ud;
	size_t n = size * nmemb;
	if (c->status < 200 || c->status > 299) {
		/* An error document: keep what fits, it is only for the message. */
		size_t room = ERROR_BODY_LIMIT - c->err_body.len;
		buf_append(&c->err_body, p, n < room ? n : room);
		return n;
	}
	if (c->sink) {
		if (!c->body_started) {
			/* A server that ignored Range sends the whole object. */
			c->body_started = true;
			c->skip = c->status == 200 ? c->attempt_from : 0;
		}
		if (c->skip) {
			size_t drop = c->skip < n ? (size_t)c->skip : n;
			c->skip -= drop;
			p += drop;
			n -= drop;
			if (!n)
				return size * nmemb;
		}
		if (c->range_len) {
			uint64_t left = c->range_len - c->delivered;
			if (left == 0)
				return size * nmemb;
			if (n > left)
				n = (size_t)left;
		}
		if (c->sink(c->sink_ctx, p, n)) {
			c->sink_stopped = true;
			return 0;
		}
		c->delivered += n;
		return size * nmemb;
	}
	if (c->out && buf_append(c->out, p, n)) {
		c->out_too_big = true;
		return 0;
	}
	return n;
}

/* Ends an attempt that has moved no byte for the timeout (connecting,
 * waiting for an answer, or mid-transfer); a slow but moving transfer of a
 * big object may take as long as it needs.  curl calls this about once a
 * second even when nothing happens. */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	struct s3_call *c = ud;
	(void)dltotal;
	(void)ultotal;
	int64_t now = clock_mono_ns();
	if (!c->moved_at_ns || dlnow + ulnow != c->moved) {
		c->moved = dlnow + ulnow;
		c->moved_at_ns = now;
	} else if (now - c->moved_at_ns > c->stall_ns) {
		c->stalled = true;
		return 1;
	}
	return 0;
}

static void put_encoded(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			buf_append(b, p, 1);
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			buf_append(b, esc, 3);
		}
	}
}

/* Keys are [A-Za-z0-9._-] and '/' (blob_key_valid), so they need no escaping. */
static int build_url(const struct s3_store *s, const struct s3_call *c, struct buf *url)
{
	buf_init(url, URL_LIMIT);
	buf_puts(url, s->origin);
	if (!s->virtual_host)
		buf_printf(url, "/%s", s->bucket);
	if (c->key)
		buf_printf(url, "/%s", c->key);
	else if (s->virtual_host)
		buf_puts(url, "/");
	if (c->query)
		buf_printf(url, "?%s", c->query);
	return url->len >= URL_LIMIT - 1 ? -1 : 0;
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, p, n);
	sodium_bin2hex(out, 65, digest, sizeof digest);
}

static bool curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

/* 5xx, 429 (and SlowDown, which AWS sends as 503), and AWS's 400
 * RequestTimeout (the connection idled mid-upload): worth another try. */
static bool status_retryable(long status, const char *code)
{
	return status >= 500 || status == 429 ||
	       (status == 400 && strcmp(code, "RequestTimeout") == 0);
}

static void backoff(int attempt)
{
	long ms = BACKOFF_FIRST_MS;
	for (int i = 1; i < attempt && ms < BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > BACKOFF_MAX_MS)
		ms = BACKOFF_MAX_MS;
	/* Jitter: 50-100% of the step, so many nodes do not retry in step. */
	ms = ms / 2 + (long)(randombytes_uniform((uint32_t)(ms / 2 + 1)));
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts))
		;
}

static bool ok(const struct s3_call *c)
{
	return c->status >= 200 && c->status <= 299;
}

/*
 * Sends c, retrying what may be retried.  Returns 0 when an HTTP answer came
 * (any status: the caller reads c->status), -1 with e set when none did, the
 * sink stopped, or a reply was too big.
 */
static int perform(struct s3_store *s, struct s3_call *c, struct error *e)
{
	struct buf url;
	if (build_url(s, c, &url)) {
		buf_free(&url);
		return error_set(e, "request URL too long for %s", c->what);
	}
	char hash[65];
	if (c->body)
		sha256_hex(c->body, c->body_len, hash);
	else
		memcpy(hash, EMPTY_SHA256, sizeof hash);
	CURL *h = handle_get(s);
	char errbuf[CURL_ERROR_SIZE];
	buf_init(&c->err_body, ERROR_BODY_LIMIT);
	CURLcode cc = CURLE_OK;
	int rc = -1;
	for (c->tries = 1;; c->tries++) {
		struct curl_slist *hdrs = NULL;
		char line[512];
		snprintf(line, sizeof line, "x-amz-content-sha256: %s", hash);
		hdrs = C.slist_append(hdrs, line);
		if (c->content_type) {
			snprintf(line, sizeof line, "Content-Type: %s", c->content_type);
			hdrs = C.slist_append(hdrs, line);
		}
		c->attempt_from = c->range_from + c->delivered;
		if (c->ranged || c->delivered) {
			if (c->range_len)
				snprintf(line, sizeof line, "Range: bytes=%llu-%llu",
					 (unsigned long long)c->attempt_from,
					 (unsigned long long)(c->range_from + c->range_len - 1));
			else
				snprintf(line, sizeof line, "Range: bytes=%llu-",
					 (unsigned long long)c->attempt_from);
			hdrs = C.slist_append(hdrs, line);
		}
		if (c->delivered && c->resume_etag[0]) {
			snprintf(line, sizeof line, "If-Match: %s", c->resume_etag);
			hdrs = C.slist_append(hdrs, line);
		}
		if (!hdrs) {
			fprintf(stderr, "sheaf: out of memory (curl_slist_append)\n");
			abort();
		}

		C.easy_reset(h);
		errbuf[0] = '\0';
		C.easy_setopt(h, CURLOPT_URL, url.data);
		C.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
		C.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
		C.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
		C.easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
		C.easy_setopt(h, CURLOPT_USERNAME, s->access_key);
		C.easy_setopt(h, CURLOPT_PASSWORD, s->secret_key);
		C.easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		C.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, s->timeout_ms);
		C.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
		C.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		C.easy_setopt(h, CURLOPT_XFERINFODATA, c);
		C.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		C.easy_setopt(h, CURLOPT_HEADERDATA, c);
		C.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
		C.easy_setopt(h, CURLOPT_WRITEDATA, c);
		if (strcmp(c->method, "HEAD") == 0) {
			C.easy_setopt(h, CURLOPT_NOBODY, 1L);
		} else if (strcmp(c->method, "PUT") == 0 || strcmp(c->method, "POST") == 0) {
			C.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)c->body_len);
			C.easy_setopt(h, CURLOPT_POSTFIELDS, c->body ? c->body : "");
			if (strcmp(c->method, "PUT") == 0)
				C.easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		} else if (strcmp(c->method, "GET") != 0) {
			C.easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method);
		}

		c->status = 0;
		c->skip = 0;
		c->body_started = false;
		c->stall_ns = (int64_t)s->timeout_ms * 1000000;
		c->moved_at_ns = 0;
		c->moved = 0;
		c->stalled = false;
		buf_reset(&c->err_body);
		if (c->out)
			buf_reset(c->out);
		cc = C.easy_perform(h);
		C.slist_free_all(hdrs);
		if (c->sink && ok(c) && !c->resume_etag[0])
			snprintf(c->resume_etag, sizeof c->resume_etag, "%s", c->etag);

		c->code[0] = c->message[0] = '\0';
		if (cc == CURLE_OK && !ok(c)) {
			struct s3xml_error x;
			s3xml_parse_error(c->err_body.data, c->err_body.len, &x);
			memcpy(c->code, x.code, sizeof c->code);
			memcpy(c->message, x.message, sizeof c->message);
		}

		bool again;
		if (cc == CURLE_OK)
			again = status_retryable(c->status, c->code);
		else    /* a read that broke midway resumes only where the version is pinned */
			again = (curl_retryable(cc) || c->stalled) && !c->sink_stopped &&
				!c->out_too_big &&
				(c->delivered == 0 || c->resume_etag[0]);
		if (!again || c->tries >= s->attempts)
			break;
		if (cc == CURLE_OK)
			log_warn("S3 %s: HTTP %ld; retrying (attempt %d of %d)", c->what, c->status,
				 c->tries + 1, s->attempts);
		else
			log_warn("S3 %s: %s; retrying (attempt %d of %d)", c->what,
				 c->stalled ? "no answer in time" : errbuf[0] ? errbuf
				 : C.easy_strerror(cc), c->tries + 1, s->attempts);
		backoff(c->tries);
	}

	if (cc == CURLE_OK)
		rc = 0;
	else if (c->sink_stopped) {
		error_set(e, "the reader of %s stopped", c->key ? c->key : s->bucket);
	} else if (c->out_too_big) {
		error_set(e, "the S3 server's answer to %s is larger than %zu bytes", c->what,
			  XML_LIMIT);
	} else if (c->stalled || cc == CURLE_OPERATION_TIMEDOUT) {
		error_set(e, "the S3 server at %s did not answer %s within %ld ms (%d attempt%s)",
			  s->endpoint, c->what, s->timeout_ms, c->tries, c->tries == 1 ? "" : "s");
	} else {
		error_set(e, "cannot reach the S3 server at %s for %s (%d attempt%s): %s",
			  s->endpoint, c->what, c->tries, c->tries == 1 ? "" : "s",
			  errbuf[0] ? errbuf : C.easy_strerror(cc));
	}
	handle_put(s, h);
	buf_free(&url);
	return rc;
}

static void call_free(struct s3_call *c)
{
	buf_free(&c->err_body);
}

/* ---- errors ----------------------------------------------------------- */

/*
 * Turns a non-2xx answer into an error message and a result: 404 on a key
 * is BLOB_NOT_FOUND, everything else BLOB_ERROR.
 */
static enum blob_rc status_error(struct s3_store *s, struct s3_call *c, struct error *e)
{
	const char *code = c->code[0] ? c->code : NULL;
	char detail[400];
	snprintf(detail, sizeof detail, "%s%s%s", code ? code : "", code && c->message[0] ? ": " : "",
		 c->message);
	if (c->status == 403 || c->status == 401) {
		const char *hint = code && strcmp(code, "RequestTimeTooSkewed") == 0
			? " (this machine's clock is off)" : "";
		error_set(e, "access denied by the S3 server (check SHEAF_S3_ACCESS_KEY / "
			     "SHEAF_S3_SECRET_KEY): %s%s [%s]",
			  detail[0] ? detail : "HTTP 403", hint, c->what);
		return BLOB_ERROR;
	}
	if (c->status == 404 && code && strcmp(code, "NoSuchBucket") == 0) {
		error_set(e, "bucket \"%s\" does not exist on the S3 server at %s [%s]", s->bucket,
			  s->endpoint, c->what);
		return BLOB_ERROR;
	}
	if (c->status == 404 && c->key && (!code || strcmp(code, "NoSuchKey") == 0)) {
		error_set(e, "no object %s in bucket %s", c->key, s->bucket);
		return BLOB_NOT_FOUND;
	}
	if (c->status == 412 && c->key) {
		error_set(e, "%s changed while it was being read", c->key);
		return BLOB_ERROR;
	}
	const char *hint = "";
	if (c->status == 301 || (code && (strcmp(code, "AuthorizationHeaderMalformed") == 0 ||
					  strcmp(code, "PermanentRedirect") == 0)))
		hint = " (is region= in SHEAF_STORAGE_URL the bucket's region?)";
	char tries[32] = "";
	if (c->tries > 1)
		snprintf(tries, sizeof tries, " (%d attempts)", c->tries);
	error_set(e, "the S3 server at %s answered HTTP %ld to %s%s%s%s%s", s->endpoint, c->status,
		  c->what, detail[0] ? ": " : "", detail, hint, tries);
	return BLOB_ERROR;
}

/* HEAD on the bucket, after a HEAD on a key answered 404 without a body. */
static enum blob_rc bucket_exists(struct s3_store *s, struct error *e)
{
	char what[300];
	snprintf(what, sizeof what, "HEAD bucket %s", s->bucket);
	struct s3_call c = { .method = "HEAD", .what = what };
	enum blob_rc rc = BLOB_ERROR;
	if (perform(s, &c, e) == 0) {
		if (ok(&c)) {
			rc = BLOB_OK;
		} else {
			if (c.status == 404)
				snprintf(c.code, sizeof c.code, "NoSuchBucket");
			status_error(s, &c, e);
		}
	}
	call_free(&c);
	return rc;
}

/* ---- open, close, check ----------------------------------------------- */

static int percent_decode(const char *s, size_t n, char **out)
{
	char *d = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n || !isxdigit((unsigned char)s[i + 1]) ||
			    !isxdigit((unsigned char)s[i + 2])) {
				free(d);
				return -1;
			}
			char hex[3] = { s[i + 1], s[i + 2], 0 };
			long v = strtol(hex, NULL, 16);
			if (v == 0) {
				free(d);
				return -1;
			}
			d[k++] = (char)v;
			i += 2;
		} else {
			d[k++] = s[i];
		}
	}
	d[k] = '\0';
	*out = d;
	return 0;
}

static bool bucket_valid(const char *b, bool dns)
{
	size_t n = strlen(b);
	if (n == 0 || n > (dns ? 63 : 255))
		return false;
	for (const char *p = b; *p; p++) {
		char c = *p;
		bool lower = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
		if (dns ? !lower : !(lower || (c >= 'A' && c <= 'Z') || c == '_'))
			return false;
	}
	return !dns || (n >= 3 && b[0] != '.' && b[0] != '-' && b[n - 1] != '.' && b[n - 1] != '-');
}

static bool region_valid(const char *r)
{
	size_t n = strlen(r);
	if (n == 0 || n > 64)
		return false;
	for (const char *p = r; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Splits "http(s)://host[:port][/]" into s->endpoint; 0, or -1 with e set. */
static int parse_endpoint(struct s3_store *s, const char *endpoint, char **host_out,
			  struct error *e)
{
	CURLU *u = C.url();
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *query = NULL,
	     *user = NULL;
	int rc = -1;
	if (!u) {
		fprintf(stderr, "sheaf: out of memory (curl_url)\n");
		abort();
	}
	if (C.url_set(u, CURLUPART_URL, endpoint, 0) ||
	    C.url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    C.url_get(u, CURLUPART_HOST, &host, 0)) {
		error_set(e, "endpoint \"%.200s\" is not a URL like http://HOST:PORT", endpoint);
		goto out;
	}
	C.url_get(u, CURLUPART_PORT, &port, 0);
	C.url_get(u, CURLUPART_PATH, &path, 0);
	C.url_get(u, CURLUPART_QUERY, &query, 0);
	C.url_get(u, CURLUPART_USER, &user, 0);
	if (strcasecmp(scheme, "http") && strcasecmp(scheme, "https")) {
		error_set(e, "endpoint \"%.200s\": only http:// and https:// are supported", endpoint);
		goto out;
	}
	if ((path && strcmp(path, "/") && *path) || query || user) {
		error_set(e, "endpoint \"%.200s\" must be just scheme://host[:port], without a path, "
			     "query or user", endpoint);
		goto out;
	}
	struct buf b;
	buf_init(&b, 1024);
	buf_printf(&b, "%s://%s%s%s", scheme, host, port ? ":" : "", port ? port : "");
	s->endpoint = buf_detach(&b);
	*host_out = xstrdup(host);
	rc = 0;
out:
	C.free(scheme);
	C.free(host);
	C.free(port);
	C.free(path);
	C.free(query);
	C.free(user);
	C.url_cleanup(u);
	return rc;
}

static void s3_close(struct blob_store *bs)
{
	struct s3_store *s = impl(bs);
	for (int i = 0; i < s->n_idle; i++)
		C.easy_cleanup(s->idle[i]);
	pthread_mutex_destroy(&s->lock);
	if (s->secret_key)
		sodium_memzero(s->secret_key, strlen(s->secret_key));
	free(s->bucket);
	free(s->region);
	free(s->origin);
	free(s->endpoint);
	free(s->sigv4);
	free(s->access_key);
	free(s->secret_key);
	free(s);
}

struct blob_store *blob_s3_open(const char *spec, const struct blob_options *opts,
				struct error *e)
{
	static const struct blob_options none;
	if (!opts)
		opts = &none;
	if (dynlib_ready(&curl_lib, e) < 0)
		return NULL;
	pthread_once(&curl_once, curl_start);
	if (curl_init_rc != CURLE_OK) {
		error_set(e, "libcurl failed to start: %s", C.easy_strerror(curl_init_rc));
		return NULL;
	}
	if (sodium_init() < 0) {
		error_set(e, "libsodium failed to start");
		return NULL;
	}
	struct s3_store *s = xcalloc(1, sizeof *s);
	s->base.ops = &s3_ops;
	pthread_mutex_init(&s->lock, NULL);
	char *endpoint = NULL, *style = NULL, *host = NULL;
	bool fail = true;

	size_t blen = strcspn(spec, "?");
	s->bucket = xstrndup(spec, blen);
	const char *q = spec[blen] == '?' ? spec + blen + 1 : "";
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		size_t name_len = eq ? (size_t)(eq - q) : n;
		char **slot = NULL;
		if (name_len == 8 && strncmp(q, "endpoint", 8) == 0)
			slot = &endpoint;
		else if (name_len == 6 && strncmp(q, "region", 6) == 0)
			slot = &s->region;
		else if (name_len == 5 && strncmp(q, "style", 5) == 0)
			slot = &style;
		if (!slot || !eq) {
			error_set(e, "S3 URL parameter \"%.*s\" is not one of endpoint=, region=, style=",
				  (int)(name_len > 40 ? 40 : name_len), q);
			goto out;
		}
		if (*slot) {
			error_set(e, "S3 URL parameter %.*s is given twice", (int)name_len, q);
			goto out;
		}
		if (percent_decode(eq + 1, n - name_len - 1, slot)) {
			error_set(e, "S3 URL parameter %.*s has a bad %%-escape", (int)name_len, q);
			goto out;
		}
		q += n;
		if (*q == '&')
			q++;
	}
	if (!s->bucket[0] || strchr(s->bucket, '/')) {
		error_set(e, "S3 URL needs a bucket and no path: s3://BUCKET?endpoint=...");
		goto out;
	}
	if (!s->region)
		s->region = xstrdup("us-east-1");
	if (!region_valid(s->region)) {
		error_set(e, "S3 region \"%.64s\" is not a region name like us-east-1", s->region);
		goto out;
	}
	if (!endpoint) {
		struct buf b;
		buf_init(&b, 256);
		buf_printf(&b, "https://s3.%s.amazonaws.com", s->region);
		endpoint = buf_detach(&b);
	}
	if (parse_endpoint(s, endpoint, &host, e))
		goto out;
	if (!style)
		s->virtual_host = ends_with(host, ".amazonaws.com");
	else if (strcmp(style, "virtual") == 0)
		s->virtual_host = true;
	else if (strcmp(style, "path") == 0)
		s->virtual_host = false;
	else {
		error_set(e, "S3 style \"%.20s\" is neither path nor virtual", style);
		goto out;
	}
	if (!bucket_valid(s->bucket, s->virtual_host)) {
		error_set(e, s->virtual_host
			  ? "bucket \"%.100s\" cannot be a host name (3-63 of a-z 0-9 . -); use style=path"
			  : "bucket \"%.100s\" is not 1-255 of A-Z a-z 0-9 . _ -", s->bucket);
		goto out;
	}
	if (s->virtual_host && (host[0] == '[' || strspn(host, "0123456789.") == strlen(host))) {
		error_set(e, "style=virtual needs a host name, not the address %s", host);
		goto out;
	}
	{
		const char *sep = strstr(s->endpoint, "://");
		struct buf b;
		buf_init(&b, 2048);
		if (s->virtual_host)
			buf_printf(&b, "%.*s%s.%s", (int)(sep + 3 - s->endpoint), s->endpoint, s->bucket,
				   sep + 3);
		else
			buf_puts(&b, s->endpoint);
		s->origin = buf_detach(&b);
		buf_init(&b, 256);
		buf_printf(&b, "aws:amz:%s:s3", s->region);
		s->sigv4 = buf_detach(&b);
	}
	if (!opts->s3_access_key || !*opts->s3_access_key || !opts->s3_secret_key ||
	    !*opts->s3_secret_key) {
		error_set(e, "S3 storage needs keys: set SHEAF_S3_ACCESS_KEY and SHEAF_S3_SECRET_KEY");
		goto out;
	}
	s->access_key = xstrdup(opts->s3_access_key);
	s->secret_key = xstrdup(opts->s3_secret_key);
	s->part_size = opts->s3_part_size ? opts->s3_part_size : PART_DEFAULT;
	if (s->part_size < PART_MIN || s->part_size > PART_MAX) {
		error_set(e, "S3 part size %llu is outside 5 MiB to 1 GiB",
			  (unsigned long long)s->part_size);
		goto out;
	}
	s->attempts = opts->s3_attempts > 0 ? opts->s3_attempts : ATTEMPTS_DEFAULT;
	s->timeout_ms = opts->s3_timeout_ms > 0 ? opts->s3_timeout_ms : TIMEOUT_DEFAULT_MS;
	s->list_page = opts->s3_list_page > 0 && opts->s3_list_page <= 1000
		? opts->s3_list_page : LIST_PAGE_DEFAULT;
	fail = false;
out:
	free(endpoint);
	free(style);
	free(host);
	if (fail) {
		s3_close(&s->base);
		return NULL;
	}
	return &s->base;
}

static enum blob_rc simple(struct s3_store *s, struct s3_call *c, struct error *e)
{
	enum blob_rc rc = BLOB_ERROR;
	if (perform(s, c, e) == 0)
		rc = ok(c) ? BLOB_OK : status_error(s, c, e);
	call_free(c);
	return rc;
}

static enum blob_rc s3_check(struct blob_store *bs, struct error *e)
{
	struct s3_store *s = impl(bs);
	char id[ID_CHARS(9)], key[64], what[128];
	id_random(id, 9);
	snprintf(key, sizeof key, CHECK_PREFIX "%s", id);
	snprintf(what, sizeof what, "PUT %s", key);
	struct s3_call put = { .method = "PUT", .key = key, .body = "ok\n", .body_len = 3,
			       .content_type = "text/plain", .what = what };
	enum blob_rc rc = simple(s, &put, e);
	if (rc != BLOB_OK)
		return BLOB_ERROR;
	snprintf(what, sizeof what, "DELETE %s", key);
	struct s3_call del = { .method = "DELETE", .key = key, .what = what };
	return simple(s, &del, e) == BLOB_OK ? BLOB_OK : BLOB_ERROR;
}

static bool key_ok(const char *key, struct error *e)
{
	if (blob_key_valid(key))
		return true;
	error_set(e, "invalid object key \"%.100s\"", key);
	return false;
}

/* ---- stat, get, remove ------------------------------------------------ */

static enum blob_rc head(struct s3_store *s, const char *key, struct blob_info *out,
			 struct error *e)
{
	char what[1100];
	snprintf(what, sizeof what, "HEAD %s", key);
	struct s3_call c = { .method = "HEAD", .key = key, .what = what };
	enum blob_rc rc = BLOB_ERROR;
	if (perform(s, &c, e) == 0) {
		if (ok(&c)) {
			if (out) {
				out->size = c.content_length;
				out->mtime_ms = c.last_modified_ms;
			}
			rc = BLOB_OK;
		} else if (c.status == 404) {
			/* A HEAD answer has no body to tell a missing key from a
			 * missing bucket; ask about the bucket. */
			rc = bucket_exists(s, e) == BLOB_OK ? BLOB_NOT_FOUND : BLOB_ERROR;
			if (rc == BLOB_NOT_FOUND)
				error_set(e, "no object %s in bucket %s", key, s->bucket);
		} else {
			rc = status_error(s, &c, e);
		}
	}
	call_free(&c);
	return rc;
}

static enum blob_rc s3_stat(struct blob_store *bs, const char *key, struct blob_info *out,
			    struct error *e)
{
	if (!key_ok(key, e))
		return BLOB_ERROR;
	return head(impl(bs), key, out, e);
}

static enum blob_rc s3_get(struct blob_store *bs, const char *key, uint64_t offset,
			   uint64_t length, blob_write_fn write, void *ctx, struct error *e)
{
	struct s3_store *s = impl(bs);
	if (!key_ok(key, e))
		return BLOB_ERROR;
	char what[1100];
	snprintf(what, sizeof what, "GET %s", key);
	struct s3_call c = { .method = "GET", .key = key, .what = what, .sink = write,
			     .sink_ctx = ctx, .ranged = offset || length, .range_from = offset,
			     .range_len = length };
	enum blob_rc rc = BLOB_ERROR;
	if (perform(s, &c, e) == 0) {
		if (ok(&c)) {
			rc = BLOB_OK;
		} else if (c.status == 416) {
			/* Nothing at offset: fine exactly at the end, an error past it. */
			struct blob_info info;
			rc = head(s, key, &info, e);
			if (rc == BLOB_OK && offset > info.size) {
				error_set(e, "offset %llu is past the end of %s",
					  (unsigned long long)offset, key);
				rc = BLOB_ERROR;
			}
		} else {
			rc = status_error(s, &c, e);
		}
	}
	call_free(&c);
	return rc;
}

static enum blob_rc s3_remove(struct blob_store *bs, const char *key, struct error *e)
{
	struct s3_store *s = impl(bs);
	if (!key_ok(key, e))
		return BLOB_ERROR;
	/* S3 answers 204 to a DELETE whether or not the key existed, so ask
	 * first.  If another node removes it between the two requests this one
	 * still reports success, which is the outcome the caller wanted. */
	enum blob_rc rc = head(s, key, NULL, e);
	if (rc != BLOB_OK)
		return rc;
	char what[1100];
	snprintf(what, sizeof what, "DELETE %s", key);
	struct s3_call c = { .method = "DELETE", .key = key, .what = what };
	return simple(s, &c, e);
}

/* ---- list ------------------------------------------------------------- */

static enum blob_rc s3_list(struct blob_store *bs, const char *prefix, blob_list_fn fn,
			    void *ctx, struct error *e)
{
	struct s3_store *s = impl(bs);
	char *token = NULL;
	enum blob_rc rc = BLOB_OK;
	struct buf body;
	buf_init(&body, XML_LIMIT);
	char what[1200];
	snprintf(what, sizeof what, "LIST %.1100s", prefix);
	for (;;) {
		/* Parameters in byte order: the query is signed as written. */
		struct buf q;
		buf_init(&q, URL_LIMIT);
		if (token) {
			buf_puts(&q, "continuation-token=");
			put_encoded(&q, token);
			buf_puts(&q, "&");
		}
		buf_printf(&q, "list-type=2&max-keys=%d", s->list_page);
		if (*prefix) {
			buf_puts(&q, "&prefix=");
			put_encoded(&q, prefix);
		}
		struct s3_call c = { .method = "GET", .query = q.data, .out = &body, .what = what };
		int prc = perform(s, &c, e);
		buf_free(&q);
		if (prc) {
			rc = BLOB_ERROR;
			call_free(&c);
			break;
		}
		if (!ok(&c)) {
			rc = status_error(s, &c, e);
			call_free(&c);
			break;
		}
		call_free(&c);
		struct s3xml_page pg;
		if (s3xml_parse_list(body.data, body.len, prefix, fn, ctx, &pg, what, e)) {
			rc = BLOB_ERROR;
			break;
		}
		if (pg.stopped || !pg.truncated) {
			free(pg.next_token);
			break;
		}
		if (!pg.next_token || !*pg.next_token ||
		    (token && strcmp(token, pg.next_token) == 0)) {
			free(pg.next_token);
			rc = BLOB_ERROR;
			error_set(e, "the S3 server's list of \"%.100s\" is truncated but gives no new "
				     "continuation token", prefix);
			break;
		}
		free(token);
		token = pg.next_token;
	}
	free(token);
	buf_free(&body);
	return rc;
}

/* ---- writers ---------------------------------------------------------- */

struct s3_writer {
	struct blob_writer base;
	char *key;
	unsigned char *data;    /* the part being filled */
	size_t len, cap;
	uint64_t size;
	char *upload_id;        /* set once a multipart upload has begun */
	char **etags;           /* etags[i]: part i+1 */
	int parts;
	bool failed;
};

static int multipart_begin(struct s3_store *s, struct s3_writer *w, struct error *e)
{
	struct buf body;
	buf_init(&body, XML_LIMIT);
	char what[1200];
	snprintf(what, sizeof what, "CreateMultipartUpload %s", w->key);
	struct s3_call c = { .method = "POST", .key = w->key, .query = "uploads=",
			     .content_type = "application/octet-stream", .out = &body,
			     .what = what };
	int rc = -1;
	if (perform(s, &c, e) == 0) {
		if (!ok(&c)) {
			status_error(s, &c, e);
		} else {
			w->upload_id = s3xml_parse_upload_id(body.data, body.len, what, e);
			rc = w->upload_id ? 0 : -1;
		}
	}
	call_free(&c);
	buf_free(&body);
	return rc;
}

static char *upload_query(const char *upload_id, int part)
{
	struct buf q;
	buf_init(&q, URL_LIMIT);
	if (part)
		buf_printf(&q, "partNumber=%d&", part);
	buf_puts(&q, "uploadId=");
	put_encoded(&q, upload_id);
	return buf_detach(&q);
}

/* Sends the buffered bytes as the next part. */
static int upload_part(struct s3_store *s, struct s3_writer *w, struct error *e)
{
	if (!w->upload_id && multipart_begin(s, w, e))
		return -1;
	if (w->parts >= PARTS_MAX)
		return error_set(e, "%s: more than %d parts of %llu bytes; raise SHEAF_S3_PART_SIZE",
				 w->key, PARTS_MAX, (unsigned long long)s->part_size);
	int number = w->parts + 1;
	char *query = upload_query(w->upload_id, number);
	char what[1200];
	snprintf(what, sizeof what, "UploadPart %d of %s", number, w->key);
	struct s3_call c = { .method = "PUT", .key = w->key, .query = query, .body = w->data,
			     .body_len = w->len, .content_type = "application/octet-stream",
			     .what = what };
	int rc = -1;
	if (perform(s, &c, e) == 0) {
		if (!ok(&c))
			status_error(s, &c, e);
		else if (!c.etag[0])
			error_set(e, "the S3 server's answer to %s has no ETag", what);
		else {
			w->etags = xrealloc(w->etags, sizeof *w->etags * (size_t)number);
			w->etags[w->parts++] = xstrdup(c.etag);
			w->len = 0;
			rc = 0;
		}
	}
	call_free(&c);
	free(query);
	return rc;
}

static void multipart_abort(struct s3_store *s, struct s3_writer *w)
{
	if (!w->upload_id)
		return;
	char *query = upload_query(w->upload_id, 0);
	char what[1200];
	snprintf(what, sizeof what, "AbortMultipartUpload %s", w->key);
	struct s3_call c = { .method = "DELETE", .key = w->key, .query = query, .what = what };
	struct error e = { { 0 } };
	bool failed = perform(s, &c, &e) != 0;
	if (!failed && !ok(&c) && c.status != 404) {   /* 404: already gone */
		status_error(s, &c, &e);
		failed = true;
	}
	if (failed)
		log_warn("S3: could not abort the multipart upload of %s (a lifecycle rule will "
			 "have to): %s", w->key, e.msg);
	call_free(&c);
	free(query);
	free(w->upload_id);
	w->upload_id = NULL;
}

static void put_xml_text(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			buf_puts(b, "&amp;");
		else if (*s == '<')
			buf_puts(b, "&lt;");
		else if (*s == '>')
			buf_puts(b, "&gt;");
		else
			buf_append(b, s, 1);
	}
}

static int multipart_complete(struct s3_store *s, struct s3_writer *w, int64_t *date_ms,
			      struct error *e)
{
	struct buf xml, reply;
	buf_init(&xml, (size_t)PARTS_MAX * 400 + 256);
	buf_puts(&xml, "<CompleteMultipartUpload>");
	for (int i = 0; i < w->parts; i++) {
		buf_printf(&xml, "<Part><PartNumber>%d</PartNumber><ETag>", i + 1);
		put_xml_text(&xml, w->etags[i]);
		buf_puts(&xml, "</ETag></Part>");
	}
	buf_puts(&xml, "</CompleteMultipartUpload>");
	buf_init(&reply, XML_LIMIT);
	char *query = upload_query(w->upload_id, 0);
	char what[1200];
	snprintf(what, sizeof what, "CompleteMultipartUpload %s", w->key);
	struct s3_call c = { .method = "POST", .key = w->key, .query = query, .body = xml.data,
			     .body_len = xml.len, .content_type = "application/xml", .out = &reply,
			     .what = what };
	int rc = -1;
	if (perform(s, &c, e) == 0) {
		if (!ok(&c)) {
			/* NoSuchUpload after a retry: the first attempt may have
			 * completed it and lost the answer; the object tells. */
			struct blob_info info;
			struct error he;
			if (c.tries > 1 && c.status == 404 && strcmp(c.code, "NoSuchUpload") == 0 &&
			    head(s, w->key, &info, &he) == BLOB_OK && info.size == w->size) {
				*date_ms = info.mtime_ms;
				rc = 0;
			} else {
				status_error(s, &c, e);
			}
		} else {
			/* S3 may answer 200 and then report an error in the body. */
			if (s3xml_parse_complete(reply.data, reply.len, what, e) == 0) {
				*date_ms = c.date_ms;
				rc = 0;
			}
		}
	}
	call_free(&c);
	free(query);
	buf_free(&xml);
	buf_free(&reply);
	return rc;
}

static struct blob_writer *s3_writer_open(struct blob_store *bs, const char *key,
					  struct error *e)
{
	if (!key_ok(key, e))
		return NULL;
	struct s3_writer *w = xcalloc(1, sizeof *w);
	w->base.bs = bs;
	w->key = xstrdup(key);
	return &w->base;
}

static enum blob_rc s3_writer_write(struct blob_writer *bw, const void *p, size_t n,
				    struct error *e)
{
	struct s3_writer *w = (struct s3_writer *)bw;
	struct s3_store *s = impl(w->base.bs);
	const unsigned char *src = p;
	if (w->failed) {
		error_set(e, "an earlier write to %s failed", w->key);
		return BLOB_ERROR;
	}
	while (n) {
		/* A full buffer goes out only once more bytes arrive, so the last
		 * part (which may be small) is always sent by commit. */
		if (w->len == s->part_size && upload_part(s, w, e)) {
			w->failed = true;
			multipart_abort(s, w);
			return BLOB_ERROR;
		}
		size_t take = (size_t)(s->part_size - w->len);
		if (take > n)
			take = n;
		if (w->len + take > w->cap) {
			size_t cap = w->cap ? w->cap : WRITER_FIRST_CAP;
			while (cap < w->len + take)
				cap *= 2;
			if (cap > s->part_size)
				cap = (size_t)s->part_size;
			w->data = xrealloc(w->data, cap);
			w->cap = cap;
		}
		memcpy(w->data + w->len, src, take);
		w->len += take;
		w->size += take;
		src += take;
		n -= take;
	}
	return BLOB_OK;
}

static void writer_free(struct s3_writer *w)
{
	for (int i = 0; i < w->parts; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->upload_id);
	free(w->data);
	free(w->key);
	free(w);
}

static enum blob_rc s3_writer_commit(struct blob_writer *bw, struct blob_info *out,
				     struct error *e)
{
	struct s3_writer *w = (struct s3_writer *)bw;
	struct s3_store *s = impl(w->base.bs);
	enum blob_rc rc = BLOB_ERROR;
	int64_t date_ms = 0;
	if (w->failed) {
		error_set(e, "an earlier write to %s failed", w->key);
	} else if (!w->upload_id) {
		char what[1100];
		snprintf(what, sizeof what, "PUT %s", w->key);
		struct s3_call c = { .method = "PUT", .key = w->key,
				     .body = w->data ? (const void *)w->data : "", .body_len = w->len,
				     .content_type = "application/octet-stream", .what = what };
		if (perform(s, &c, e) == 0)
			rc = ok(&c) ? BLOB_OK : status_error(s, &c, e);
		date_ms = c.date_ms;
		call_free(&c);
	} else if (upload_part(s, w, e) == 0 && multipart_complete(s, w, &date_ms, e) == 0) {
		rc = BLOB_OK;
	}
	if (rc != BLOB_OK) {
		if (rc == BLOB_NOT_FOUND)   /* a 404 on a write is no missing object */
			rc = BLOB_ERROR;
		multipart_abort(s, w);
	} else if (out) {
		out->size = w->size;
		out->mtime_ms = date_ms ? date_ms : clock_now_ms();
	}
	writer_free(w);
	return rc;
}

static void s3_writer_abort(struct blob_writer *bw)
{
	struct s3_writer *w = (struct s3_writer *)bw;
	multipart_abort(impl(w->base.bs), w);
	writer_free(w);
}

static const struct blob_ops s3_ops = {
	.name = "s3",
	.close = s3_close,
	.check = s3_check,
	.writer_open = s3_writer_open,
	.writer_write = s3_writer_write,
	.writer_commit = s3_writer_commit,
	.writer_abort = s3_writer_abort,
	.get = s3_get,
	.stat = s3_stat,
	.remove = s3_remove,
	.open_fd = NULL,
	.list = s3_list,
};
