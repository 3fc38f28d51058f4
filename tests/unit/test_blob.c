/*
 * Object storage through the blob interface (blob/blob.h): one conformance
 * suite run against every backend.
 *
 * "file" runs on a fresh "file:<tmp>/objects" store.  "S3" runs when
 * SHEAF_TEST_S3_URL, SHEAF_TEST_S3_ACCESS_KEY and SHEAF_TEST_S3_SECRET_KEY
 * name a real S3 server (scripts/test starts Ceph's radosgw on loopback and
 * sets them); every test gets a bucket of its own, made before and emptied
 * and removed after, with 5 MiB parts and 7-key list pages so multipart
 * uploads and continuation tokens are exercised.
 *
 * The suite: the key rules; put from a reader that hands over odd-sized
 * pieces, stat, whole and ranged gets, replacing an object, missing keys and
 * remove; a 20 MiB multipart round trip read back across part boundaries;
 * a put whose reader fails, or a writer aborted after parts went out, leaves
 * nothing behind (no object, no temporary, no pending multipart upload); a
 * get whose writer stops fails; listing by prefix across pages; check() fails
 * while the store is unusable and recovers; invalid keys are refused by every
 * operation; many threads at once.
 *
 * S3 only: a wrong secret key is rejected by the server (SignatureDoesNotMatch)
 * and reported as "access denied"; a missing bucket is named; virtual-host
 * addressing.  Without a server: URL errors, an unreachable and a silent
 * endpoint fail within a bounded time, and retries (5xx, resumed GETs) are
 * checked against a scripted HTTP responder.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "blob/blob.h"

#include "testutil.h"

#define BIG_SIZE ((size_t)1024 * 1024 + 7)
#define MIB ((size_t)1 << 20)
#define S3_PART (5 * MIB)
#define S3_LIST_PAGE 7
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

enum kind { KIND_FS, KIND_S3 };

/* Where a put's reader gets its bytes: data, in the sizes listed in pieces. */
struct source {
	const unsigned char *data;
	size_t size;
	size_t pos;
	size_t fail_at;     /* returns -1 once pos reaches this (SIZE_MAX: never) */
	size_t calls;
};

/* Where a get's writer puts its bytes. */
struct sink {
	unsigned char *data;
	size_t len;
	size_t cap;
	size_t stop_at;     /* returns -1 once len reaches this (SIZE_MAX: never) */
	bool stopped;
	size_t calls_after_stop;
};

struct fx {
	enum kind kind;
	char dir[64];       /* file: mkdtemp scratch directory, removed in teardown */
	char root[96];      /* file: dir/objects, the store's root */
	char bucket[64];    /* S3: this test's own bucket */
	struct blob_store *bs;
	unsigned char *big; /* BIG_SIZE bytes of pattern */
	struct sink sink;
};

/* The S3 server named by the environment. */
static struct {
	bool on;
	char endpoint[256];
	char region[64];
	const char *access_key;
	const char *secret_key;
	const char *virtual_endpoint;   /* SHEAF_TEST_S3_VIRTUAL_ENDPOINT, or NULL */
} S3;

/* ---- helpers ---------------------------------------------------------- */

static const size_t pieces[] = { 1, 7, 4093, 65537, 13, 100003, 511, 3 };

static ssize_t source_read(void *ctx, void *buf, size_t size)
{
	struct source *s = ctx;
	if (s->pos >= s->fail_at)
		return -1;
	size_t n = pieces[s->calls++ % (sizeof pieces / sizeof pieces[0])];
	if (n > size)
		n = size;
	if (n > s->size - s->pos)
		n = s->size - s->pos;
	if (n > s->fail_at - s->pos)
		n = s->fail_at - s->pos;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static struct source source_of(const void *data, size_t size)
{
	struct source s = { .data = data, .size = size, .fail_at = SIZE_MAX };
	return s;
}

static int sink_write(void *ctx, const void *buf, size_t size)
{
	struct sink *k = ctx;
	if (k->stopped) {
		k->calls_after_stop++;
		return -1;
	}
	if (k->len >= k->stop_at) {
		k->stopped = true;
		return -1;
	}
	if (k->len + size > k->cap) {
		size_t cap = k->cap ? k->cap : 4096;
		while (cap < k->len + size)
			cap *= 2;
		unsigned char *p = realloc(k->data, cap);
		if (!p)
			return -1;
		k->data = p;
		k->cap = cap;
	}
	memcpy(k->data + k->len, buf, size);
	k->len += size;
	return 0;
}

static void sink_reset(struct sink *k, size_t stop_at)
{
	k->len = 0;
	k->stop_at = stop_at;
	k->stopped = false;
	k->calls_after_stop = 0;
}

static void fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed ? seed : 1;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
}

static int regular_files;

static int count_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path;
	(void)flag;
	(void)ftw;
	if (S_ISREG(sb->st_mode))
		regular_files++;
	return 0;
}

/* How many regular files are anywhere under path. */
static int count_files(const char *path)
{
	regular_files = 0;
	assert_int_equal(nftw(path, count_entry, 16, FTW_PHYS), 0);
	return regular_files;
}

/* The names in directory path (without . and ..), joined by spaces in sorted order. */
static void dir_names(const char *path, char *out, size_t size)
{
	struct dirent **list;
	int n = scandir(path, &list, NULL, alphasort);
	assert_true(n >= 0);
	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		if (strcmp(name, ".") && strcmp(name, "..")) {
			size_t len = strlen(out);
			snprintf(out + len, size - len, "%s%s", len ? " " : "", name);
		}
		free(list[i]);
	}
	free(list);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define expect_msg(err, needle)                                                          \
	do {                                                                             \
		if (!strstr((err).msg, (needle))) {                                      \
			print_error("message \"%s\" lacks \"%s\"\n", (err).msg, (needle));  \
			fail();                                                          \
		}                                                                        \
	} while (0)

/* Puts size bytes of data under key in odd pieces; checks the reported size. */
static void put_ok(struct blob_store *bs, const char *key, const void *data, size_t size)
{
	struct error e = { { 0 } };
	struct source src = source_of(data, size);
	struct blob_info info = { .size = 12345 };
	expect_rc(blob_put(bs, key, source_read, &src, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, size);
	assert_int_equal(src.pos, size);
	assert_true(info.mtime_ms > 0);
}

/* Gets [offset, offset+length) of key into f->sink and compares with want. */
static void get_equals(struct fx *f, const char *key, uint64_t offset, uint64_t length,
		       const void *want, size_t want_len)
{
	struct error e = { { 0 } };
	sink_reset(&f->sink, SIZE_MAX);
	expect_rc(blob_get(f->bs, key, offset, length, sink_write, &f->sink, &e), BLOB_OK, e);
	assert_int_equal(f->sink.len, want_len);
	if (want_len)
		assert_memory_equal(f->sink.data, want, want_len);
}

/* ---- the S3 server, spoken to directly (not through sheaf) ------------ */

struct raw_reply {
	long status;
	struct buf body;
	char etag[128];
};

static size_t raw_body(char *p, size_t size, size_t n, void *ud)
{
	struct raw_reply *r = ud;
	return buf_append(&r->body, p, size * n) ? 0 : size * n;
}

static size_t raw_header(char *p, size_t size, size_t n, void *ud)
{
	struct raw_reply *r = ud;
	size_t len = size * n;
	if (len > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		const char *v = p + 5;
		while (*v == ' ')
			v++;
		size_t vn = strcspn(v, "\r\n");
		snprintf(r->etag, sizeof r->etag, "%.*s", (int)vn, v);
	}
	return len;
}

/* method on ENDPOINT/bucket[path], signed with the test keys; path starts with / or ?. */
static long s3_raw(const char *method, const char *bucket, const char *path,
		   struct raw_reply *r)
{
	char url[2048];
	snprintf(url, sizeof url, "%s/%s%s", S3.endpoint, bucket, path);
	char sigv4[128];
	snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", S3.region);
	buf_init(&r->body, 4 * MIB);
	r->etag[0] = '\0';
	r->status = 0;
	CURL *h = curl_easy_init();
	assert_non_null(h);
	struct curl_slist *hdrs = curl_slist_append(NULL, "x-amz-content-sha256: " EMPTY_SHA256);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(h, CURLOPT_USERNAME, S3.access_key);
	curl_easy_setopt(h, CURLOPT_PASSWORD, S3.secret_key);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, raw_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, raw_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "PUT") == 0) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	CURLcode cc = curl_easy_perform(h);
	if (cc != CURLE_OK)
		print_error("%s %s: %s\n", method, url, curl_easy_strerror(cc));
	assert_int_equal(cc, CURLE_OK);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	return r->status;
}

static int count_tag(const char *xml, const char *tag)
{
	int n = 0;
	for (const char *p = xml ? strstr(xml, tag) : NULL; p; p = strstr(p + 1, tag))
		n++;
	return n;
}

/* Every object in the bucket, sheaf's or not (the check probes too): up to 1000. */
static int s3_raw_object_count(const char *bucket)
{
	struct raw_reply r;
	assert_int_equal(s3_raw("GET", bucket, "?list-type=2", &r), 200);
	int n = count_tag(r.body.data, "<Key>");
	buf_free(&r.body);
	return n;
}

static int s3_raw_pending_uploads(const char *bucket)
{
	struct raw_reply r;
	assert_int_equal(s3_raw("GET", bucket, "?uploads=", &r), 200);
	int n = count_tag(r.body.data, "<Upload>");
	buf_free(&r.body);
	return n;
}

/* Removes everything in bucket (objects and pending uploads), then the bucket. */
static void s3_raw_drop_bucket(const char *bucket)
{
	struct raw_reply r;
	for (int round = 0; round < 100; round++) {
		if (s3_raw("GET", bucket, "?list-type=2", &r) != 200) {
			buf_free(&r.body);
			return;
		}
		int n = 0;
		for (const char *p = strstr(r.body.data, "<Key>"); p; p = strstr(p + 1, "<Key>")) {
			const char *k = p + 5, *end = strstr(k, "</Key>");
			char path[1200];
			snprintf(path, sizeof path, "/%.*s", (int)(end - k), k);
			struct raw_reply d;
			s3_raw("DELETE", bucket, path, &d);
			buf_free(&d.body);
			n++;
		}
		buf_free(&r.body);
		if (!n)
			break;
	}
	assert_int_equal(s3_raw("GET", bucket, "?uploads=", &r), 200);
	for (const char *p = strstr(r.body.data, "<Upload>"); p; p = strstr(p + 1, "<Upload>")) {
		const char *k = strstr(p, "<Key>") + 5, *kend = strstr(k, "</Key>");
		const char *u = strstr(p, "<UploadId>") + 10, *uend = strstr(u, "</UploadId>");
		char path[1400];
		snprintf(path, sizeof path, "/%.*s?uploadId=%.*s", (int)(kend - k), k,
			 (int)(uend - u), u);
		struct raw_reply d;
		s3_raw("DELETE", bucket, path, &d);
		buf_free(&d.body);
	}
	buf_free(&r.body);
	s3_raw("DELETE", bucket, "", &r);
	buf_free(&r.body);
}

static bool s3_env_load(void)
{
	const char *url = getenv("SHEAF_TEST_S3_URL");
	S3.access_key = getenv("SHEAF_TEST_S3_ACCESS_KEY");
	S3.secret_key = getenv("SHEAF_TEST_S3_SECRET_KEY");
	if (!url || !*url || !S3.access_key || !S3.secret_key)
		return false;
	snprintf(S3.region, sizeof S3.region, "us-east-1");
	const char *q = strchr(url, '?');
	while (q && *q) {
		q++;
		size_t n = strcspn(q, "&");
		if (strncmp(q, "endpoint=", 9) == 0)
			snprintf(S3.endpoint, sizeof S3.endpoint, "%.*s", (int)(n - 9), q + 9);
		else if (strncmp(q, "region=", 7) == 0)
			snprintf(S3.region, sizeof S3.region, "%.*s", (int)(n - 7), q + 7);
		q += n;
	}
	if (!S3.endpoint[0]) {
		fprintf(stderr, "SHEAF_TEST_S3_URL needs an endpoint= for these tests\n");
		return false;
	}
	S3.virtual_endpoint = getenv("SHEAF_TEST_S3_VIRTUAL_ENDPOINT");
	S3.on = true;
	return true;
}

static struct blob_options s3_options(void)
{
	struct blob_options o = {
		.s3_access_key = S3.access_key,
		.s3_secret_key = S3.secret_key,
		.s3_part_size = S3_PART,
		.s3_timeout_ms = 20000,
		.s3_list_page = S3_LIST_PAGE,
	};
	return o;
}

/* Opens bucket on the test server through sheaf, with opts (NULL: s3_options()). */
static struct blob_store *s3_open(const char *bucket, const char *extra,
				  const struct blob_options *opts, struct error *e)
{
	char url[512];
	snprintf(url, sizeof url, "s3://%s?endpoint=%s&region=%s%s", bucket, S3.endpoint,
		 S3.region, extra ? extra : "");
	struct blob_options o = s3_options();
	return blob_open_with(url, opts ? opts : &o, e);
}

/* ---- fixtures --------------------------------------------------------- */

static struct fx *fx_new(enum kind kind)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->kind = kind;
	f->big = malloc(BIG_SIZE);
	if (!f->big) {
		free(f);
		return NULL;
	}
	fill_pattern(f->big, BIG_SIZE, 0x5eaf);
	return f;
}

static int setup_fs(void **state)
{
	struct fx *f = fx_new(KIND_FS);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/sheaf-test-blob.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f->big);
		free(f);
		return -1;
	}
	snprintf(f->root, sizeof f->root, "%s/objects", f->dir);
	char url[128];
	snprintf(url, sizeof url, "file:%s", f->root);
	struct error e = { { 0 } };
	f->bs = blob_open(url, &e);
	if (!f->bs) {
		print_error("blob_open(%s): %s\n", url, e.msg);
		rm_rf(f->dir);
		free(f->big);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_s3(void **state)
{
	struct fx *f = fx_new(KIND_S3);
	if (!f)
		return -1;
	char id[16];
	uint32_t r = randombytes_random();
	snprintf(id, sizeof id, "%08x", r);
	static int serial;
	snprintf(f->bucket, sizeof f->bucket, "sheaf-t-%s-%d-%d", id, (int)getpid() % 100000,
		 ++serial);
	struct raw_reply rr;
	long st = s3_raw("PUT", f->bucket, "", &rr);
	buf_free(&rr.body);
	if (st != 200) {
		print_error("creating bucket %s: HTTP %ld\n", f->bucket, st);
		free(f->big);
		free(f);
		return -1;
	}
	struct error e = { { 0 } };
	f->bs = s3_open(f->bucket, NULL, NULL, &e);
	if (!f->bs) {
		print_error("opening bucket %s: %s\n", f->bucket, e.msg);
		s3_raw_drop_bucket(f->bucket);
		free(f->big);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	blob_close(f->bs);
	if (f->kind == KIND_FS)
		rm_rf(f->dir);
	else
		s3_raw_drop_bucket(f->bucket);
	free(f->big);
	free(f->sink.data);
	free(f);
	*state = NULL;
	return 0;
}

/*
 * Exactly n objects are stored, and nothing half-written: no temporary in
 * the directory, no pending multipart upload in the bucket.
 */
static void assert_stored(struct fx *f, int n)
{
	if (f->kind == KIND_FS) {
		char tmp[128], names[256];
		snprintf(tmp, sizeof tmp, "%s/.tmp", f->root);
		if (exists(tmp)) {
			dir_names(tmp, names, sizeof names);
			if (names[0]) {
				print_error("left in %s: %s\n", tmp, names);
				fail();
			}
		}
		assert_int_equal(count_files(f->root), n);
	} else {
		assert_int_equal(s3_raw_object_count(f->bucket), n);
		assert_int_equal(s3_raw_pending_uploads(f->bucket), 0);
	}
}

/* ---- key rules -------------------------------------------------------- */

static void test_key_valid(void **state)
{
	(void)state;
	const char *good[] = { "a", "uploads/s1/f.csv", "a-b_c.d/x", "A/Z/0/9", "x.", "a..b" };
	const char *bad[] = {
		"", "/abs", "a//b", "a/", ".", "..", "a/../b", ".tmp/x", "a/.hidden",
		"a b", "\xc3\xa4", "a\\b", "a/./b", "../a", "a\tb", "a:b", "/",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!blob_key_valid(good[i])) {
			print_error("rejected valid key \"%s\"\n", good[i]);
			fail();
		}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (blob_key_valid(bad[i])) {
			print_error("accepted invalid key \"%s\"\n", bad[i]);
			fail();
		}

	/* Length: 1024 characters is the most; checked with short segments. */
	char key[1026];
	for (size_t i = 0; i < 1024; i++)
		key[i] = (i % 64 == 63) ? '/' : 'k';
	key[1023] = 'k';
	key[1024] = '\0';
	assert_true(blob_key_valid(key));
	key[1024] = 'k';
	key[1025] = '\0';
	assert_false(blob_key_valid(key));
	memset(key, 'a', 1025);
	assert_false(blob_key_valid(key));
}

/* ---- put, stat, get, remove ------------------------------------------- */

static void test_put_stat_get(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	const char *key = "uploads/s1/f.csv";

	put_ok(f->bs, key, f->big, BIG_SIZE);

	struct blob_info info = { 0 };
	expect_rc(blob_stat(f->bs, key, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, BIG_SIZE);
	assert_true(info.mtime_ms > 0);

	/* Whole. */
	get_equals(f, key, 0, 0, f->big, BIG_SIZE);
	/* A range in the middle. */
	get_equals(f, key, 123457, 400009, f->big + 123457, 400009);
	/* A range of one byte, and one that ends exactly at the end. */
	get_equals(f, key, 999999, 1, f->big + 999999, 1);
	get_equals(f, key, BIG_SIZE - 70001, 70001, f->big + BIG_SIZE - 70001, 70001);
	/* Length 0: from the offset to the end. */
	get_equals(f, key, 700001, 0, f->big + 700001, BIG_SIZE - 700001);
	/* A length past the end: up to the end. */
	get_equals(f, key, BIG_SIZE - 10, 1000, f->big + BIG_SIZE - 10, 10);
	/* Offset at the end: nothing. */
	get_equals(f, key, BIG_SIZE, 0, NULL, 0);
	get_equals(f, key, BIG_SIZE, 5, NULL, 0);

	/* Past the end: an error. */
	sink_reset(&f->sink, SIZE_MAX);
	memset(&e, 0, sizeof e);
	expect_rc(blob_get(f->bs, key, BIG_SIZE + 1, 0, sink_write, &f->sink, &e), BLOB_ERROR, e);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(f->sink.len, 0);

	/* No temporary is left behind by a successful put either. */
	assert_stored(f, 1);
}

/* A local file becomes an object: moved where objects are files, copied
 * (and left for the caller) elsewhere; either way the bytes are the same. */
static void test_adopt_and_local_path(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char path[128];
	/* Beside the store (one file system, so it can be moved). */
	if (f->kind == KIND_FS)
		snprintf(path, sizeof path, "%s/adopt-me", f->dir);
	else
		snprintf(path, sizeof path, "/tmp/sheaf-adopt-%d", (int)getpid());
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f->big, 1, 300001, fp), 300001);
	fclose(fp);
	bool moved = true;
	expect_rc(blob_adopt(f->bs, "datasets/o/d/v1.sqlite", path, &moved, &e), BLOB_OK, e);
	get_equals(f, "datasets/o/d/v1.sqlite", 0, 0, f->big, 300001);
	char local[4096];
	if (f->kind == KIND_FS) {
		assert_true(moved);
		assert_int_equal(access(path, F_OK), -1);
		assert_true(blob_has_local_paths(f->bs));
		assert_int_equal(blob_local_path(f->bs, "datasets/o/d/v1.sqlite", local,
						 sizeof local), 0);
		struct stat sb;
		assert_int_equal(stat(local, &sb), 0);
		assert_int_equal(sb.st_size, 300001);
		assert_int_equal(blob_local_path(f->bs, "datasets/o/d/v1.sqlite", local, 8), -1);
	} else {
		assert_false(moved);
		assert_int_equal(access(path, F_OK), 0);
		assert_false(blob_has_local_paths(f->bs));
		assert_int_equal(blob_local_path(f->bs, "k", local, sizeof local), -1);
		unlink(path);
	}
	/* A file that is not there: an error, nothing stored. */
	assert_int_equal(blob_adopt(f->bs, "datasets/o/d/v2.sqlite", path, &moved, &e), BLOB_ERROR);
	struct blob_info info;
	assert_int_equal(blob_stat(f->bs, "datasets/o/d/v2.sqlite", &info, &e), BLOB_NOT_FOUND);
}

/* An object from an open file, from its offset on (a kernel copy where
 * the backend has files). */
static void test_put_file(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char path[128];
	snprintf(path, sizeof path, "/tmp/sheaf-put-file-%d", (int)getpid());
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(f->big, 1, BIG_SIZE, fp), BIG_SIZE);
	fclose(fp);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(lseek(fd, 1001, SEEK_SET), 1001);
	struct blob_info info = { 0 };
	expect_rc(blob_put_file(f->bs, "originals/a", fd, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, BIG_SIZE - 1001);
	get_equals(f, "originals/a", 0, 0, f->big + 1001, BIG_SIZE - 1001);
	/* at the end already: an empty object */
	expect_rc(blob_put_file(f->bs, "originals/b", fd, &info, &e), BLOB_OK, e);
	get_equals(f, "originals/b", 0, 0, NULL, 0);
	close(fd);
	/* From the start: a clone, or direct I/O in whole blocks and the tail
	 * through the page cache; over several of its 8 MiB chunks. */
	size_t len = (17u << 20) + 4097;
	unsigned char *data = malloc(len);
	assert_non_null(data);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 2654435761u >> 13);
	fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	expect_rc(blob_put_file(f->bs, "originals/d", fd, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, len);
	get_equals(f, "originals/d", 0, 0, data, len);
	assert_int_equal(lseek(fd, 4096, SEEK_SET), 4096);   /* an aligned offset */
	expect_rc(blob_put_file(f->bs, "originals/e", fd, &info, &e), BLOB_OK, e);
	get_equals(f, "originals/e", 0, 0, data + 4096, len - 4096);
	close(fd);
	free(data);
	/* a descriptor that cannot be read: an error, nothing stored */
	fd = open(path, O_WRONLY);
	assert_int_equal(blob_put_file(f->bs, "originals/c", fd, &info, &e), BLOB_ERROR);
	assert_int_equal(blob_stat(f->bs, "originals/c", &info, &e), BLOB_NOT_FOUND);
	close(fd);
	unlink(path);
}

static void test_put_empty_and_small(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct blob_info info = { .size = 99 };
	put_ok(f->bs, "empty", "", 0);
	expect_rc(blob_stat(f->bs, "empty", &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, 0);
	get_equals(f, "empty", 0, 0, NULL, 0);
	get_equals(f, "empty", 0, 10, NULL, 0);

	put_ok(f->bs, "a", "hello", 5);
	get_equals(f, "a", 1, 3, "ell", 3);
	get_equals(f, "a", 4, 0, "o", 1);
	get_equals(f, "a", 5, 0, NULL, 0);
}

static void test_put_replaces(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct blob_info info = { 0 };
	const char *key = "datasets/d1/data.bin";

	put_ok(f->bs, key, f->big, BIG_SIZE);
	/* Different, shorter content: no stale tail may survive. */
	unsigned char other[100000];
	fill_pattern(other, sizeof other, 777);
	put_ok(f->bs, key, other, sizeof other);
	expect_rc(blob_stat(f->bs, key, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, sizeof other);
	get_equals(f, key, 0, 0, other, sizeof other);

	/* A failed put over it leaves the current object untouched. */
	struct source src = source_of(f->big, BIG_SIZE);
	src.fail_at = 300000;
	memset(&e, 0, sizeof e);
	expect_rc(blob_put(f->bs, key, source_read, &src, &info, &e), BLOB_ERROR, e);
	expect_rc(blob_stat(f->bs, key, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, sizeof other);
	get_equals(f, key, 0, 0, other, sizeof other);
	assert_stored(f, 1);
}

static void test_missing_and_remove(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct blob_info info;

	expect_rc(blob_stat(f->bs, "nope", &info, &e), BLOB_NOT_FOUND, e);
	sink_reset(&f->sink, SIZE_MAX);
	expect_rc(blob_get(f->bs, "nope", 0, 0, sink_write, &f->sink, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_get(f->bs, "nope", 10, 5, sink_write, &f->sink, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_get(f->bs, "no/such/dir/x", 0, 0, sink_write, &f->sink, &e),
		  BLOB_NOT_FOUND, e);
	expect_rc(blob_remove(f->bs, "nope", &e), BLOB_NOT_FOUND, e);
	assert_int_equal(f->sink.len, 0);

	put_ok(f->bs, "u/s/one", "1", 1);
	put_ok(f->bs, "u/s/two", "22", 2);
	/* A key below an object is missing, not an error. */
	expect_rc(blob_stat(f->bs, "u/s/one/x", &info, &e), BLOB_NOT_FOUND, e);
	/* A "directory" on the way to objects is not an object. */
	expect_rc(blob_stat(f->bs, "u/s", &info, &e), BLOB_NOT_FOUND, e);

	expect_rc(blob_remove(f->bs, "u/s/one", &e), BLOB_OK, e);
	expect_rc(blob_stat(f->bs, "u/s/one", &info, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_get(f->bs, "u/s/one", 0, 0, sink_write, &f->sink, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_remove(f->bs, "u/s/one", &e), BLOB_NOT_FOUND, e);
	/* Its neighbour stays. */
	expect_rc(blob_stat(f->bs, "u/s/two", &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, 2);
	get_equals(f, "u/s/two", 0, 0, "22", 2);
	/* And the key can be used again. */
	put_ok(f->bs, "u/s/one", "again", 5);
	get_equals(f, "u/s/one", 0, 0, "again", 5);
}

static void test_long_key_roundtrip(void **state)
{
	struct fx *f = *state;
	char key[1025];
	/* 1024 characters in segments of 127 + '/'. */
	for (size_t i = 0; i < 1024; i++)
		key[i] = (i % 128 == 127) ? '/' : (char)('a' + i % 26);
	key[1023] = 'z';
	key[1024] = '\0';
	assert_true(blob_key_valid(key));
	put_ok(f->bs, key, "long", 4);
	get_equals(f, key, 0, 0, "long", 4);
}

/* ---- big objects and writers ------------------------------------------ */

/* 20 MiB and a bit: four full 5 MiB parts and a small last one on S3. */
static void test_multipart_roundtrip(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	size_t size = 20 * MIB + 13;
	unsigned char *data = malloc(size);
	assert_non_null(data);
	fill_pattern(data, size, 2024);
	const char *key = "big/twenty.bin";

	/* Through a writer in uneven writes, as an upload handler would. */
	struct blob_writer *w = blob_writer_open(f->bs, key, &e);
	assert_non_null(w);
	size_t pos = 0, step = 777777;
	while (pos < size) {
		size_t n = size - pos < step ? size - pos : step;
		expect_rc(blob_writer_write(w, data + pos, n, &e), BLOB_OK, e);
		pos += n;
		step = step * 3 % 1999993 + 1;
	}
	/* Not visible before commit. */
	struct blob_info info = { 0 };
	expect_rc(blob_stat(f->bs, key, &info, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_writer_commit(w, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, size);

	expect_rc(blob_stat(f->bs, key, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, size);
	get_equals(f, key, 0, 0, data, size);
	/* Across each part boundary, and the tail. */
	for (size_t b = S3_PART; b < size; b += S3_PART)
		get_equals(f, key, b - 5, 11, data + b - 5, 11);
	get_equals(f, key, size - 13, 0, data + size - 13, 13);
	get_equals(f, key, 3 * MIB, 9 * MIB, data + 3 * MIB, 9 * MIB);

	if (f->kind == KIND_S3) {
		/* The server really assembled it from parts: a multipart ETag ends in -<parts>. */
		struct raw_reply r;
		char path[64];
		snprintf(path, sizeof path, "/%s", key);
		assert_int_equal(s3_raw("HEAD", f->bucket, path, &r), 200);
		buf_free(&r.body);
		if (!strstr(r.etag, "-5\"") && !strstr(r.etag, "-5")) {
			print_error("ETag %s is not that of a 5-part upload\n", r.etag);
			fail();
		}
	}
	assert_stored(f, 1);
	free(data);
}

static void test_writer_abort_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	size_t size = 12 * MIB;
	unsigned char *data = malloc(size);
	assert_non_null(data);
	fill_pattern(data, size, 99);

	/* Two parts have gone out on S3 when it is abandoned. */
	struct blob_writer *w = blob_writer_open(f->bs, "gone/abandoned", &e);
	assert_non_null(w);
	expect_rc(blob_writer_write(w, data, size, &e), BLOB_OK, e);
	expect_rc(blob_writer_write(w, "x", 1, &e), BLOB_OK, e);
	blob_writer_abort(w);
	struct blob_info info;
	expect_rc(blob_stat(f->bs, "gone/abandoned", &info, &e), BLOB_NOT_FOUND, e);

	/* A writer aborted before any byte. */
	w = blob_writer_open(f->bs, "gone/early", &e);
	assert_non_null(w);
	blob_writer_abort(w);

	/* An empty writer committed is an empty object. */
	w = blob_writer_open(f->bs, "kept/empty", &e);
	assert_non_null(w);
	expect_rc(blob_writer_commit(w, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, 0);
	get_equals(f, "kept/empty", 0, 0, NULL, 0);

	/* An object of exactly one part is sent whole at commit. */
	w = blob_writer_open(f->bs, "kept/one-part", &e);
	assert_non_null(w);
	expect_rc(blob_writer_write(w, data, S3_PART, &e), BLOB_OK, e);
	expect_rc(blob_writer_commit(w, &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, S3_PART);
	get_equals(f, "kept/one-part", 0, 0, data, S3_PART);

	assert_stored(f, 2);
	free(data);
}

/* ---- failures --------------------------------------------------------- */

static void test_reader_failure_leaves_nothing(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct blob_info info;
	const char *key = "uploads/s9/broken.bin";

	/* Fails midway, after several pieces were written. */
	struct source src = source_of(f->big, BIG_SIZE);
	src.fail_at = 500001;
	expect_rc(blob_put(f->bs, key, source_read, &src, &info, &e), BLOB_ERROR, e);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(src.pos, 500001);  /* it really failed midway */

	/* Fails at once. */
	src = source_of(f->big, BIG_SIZE);
	src.fail_at = 0;
	memset(&e, 0, sizeof e);
	expect_rc(blob_put(f->bs, "other", source_read, &src, &info, &e), BLOB_ERROR, e);
	assert_true(e.msg[0] != '\0');

	/* Fails after more than a part (S3: a multipart upload was under way). */
	size_t size = 11 * MIB;
	unsigned char *data = malloc(size);
	assert_non_null(data);
	fill_pattern(data, size, 5);
	src = source_of(data, size);
	src.fail_at = 10 * MIB + 3;
	memset(&e, 0, sizeof e);
	expect_rc(blob_put(f->bs, "multi", source_read, &src, &info, &e), BLOB_ERROR, e);
	free(data);

	expect_rc(blob_stat(f->bs, key, &info, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_stat(f->bs, "other", &info, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_stat(f->bs, "multi", &info, &e), BLOB_NOT_FOUND, e);
	assert_stored(f, 0);
}

static void test_writer_failure(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	put_ok(f->bs, "big", f->big, BIG_SIZE);

	/* Stops at the first call. */
	sink_reset(&f->sink, 0);
	expect_rc(blob_get(f->bs, "big", 0, 0, sink_write, &f->sink, &e), BLOB_ERROR, e);
	assert_true(e.msg[0] != '\0');
	assert_true(f->sink.stopped);
	assert_int_equal(f->sink.calls_after_stop, 0);

	/* Stops midway. */
	sink_reset(&f->sink, 300000);
	memset(&e, 0, sizeof e);
	expect_rc(blob_get(f->bs, "big", 0, 0, sink_write, &f->sink, &e), BLOB_ERROR, e);
	assert_true(e.msg[0] != '\0');
	assert_true(f->sink.stopped);
	assert_int_equal(f->sink.calls_after_stop, 0);
	assert_in_range(f->sink.len, 300000, BIG_SIZE - 1);
	assert_memory_equal(f->sink.data, f->big, f->sink.len);

	/* A later get is unaffected. */
	get_equals(f, "big", 0, 0, f->big, BIG_SIZE);
}

/* ---- list ------------------------------------------------------------- */

struct seen {
	char keys[128][32];
	uint64_t sizes[128];
	int n;
	int stop_after;     /* 0: never */
	bool bad_mtime;
};

static int collect(void *ctx, const char *key, const struct blob_info *info)
{
	struct seen *s = ctx;
	if (s->n < 128) {
		snprintf(s->keys[s->n], sizeof s->keys[0], "%s", key);
		s->sizes[s->n] = info->size;
	}
	if (info->mtime_ms <= 0)
		s->bad_mtime = true;
	s->n++;
	return s->stop_after && s->n >= s->stop_after;
}

static bool seen_has(const struct seen *s, const char *key, uint64_t size)
{
	int hits = 0;
	for (int i = 0; i < s->n && i < 128; i++)
		if (strcmp(s->keys[i], key) == 0 && s->sizes[i] == size)
			hits++;
	return hits == 1;
}

/* 60 keys: with 7 keys a page, S3 takes 9 continuation requests for all. */
static void test_list(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char key[32];
	for (int i = 0; i < 25; i++) {
		snprintf(key, sizeof key, "p/a/%02d", i);
		put_ok(f->bs, key, f->big, (size_t)i);
		snprintf(key, sizeof key, "p/b/%02d", i);
		put_ok(f->bs, key, f->big, 1);
	}
	for (int i = 0; i < 10; i++) {
		snprintf(key, sizeof key, "q/%02d", i);
		put_ok(f->bs, key, f->big, 2);
	}

	struct seen all = { 0 };
	expect_rc(blob_list(f->bs, "", collect, &all, &e), BLOB_OK, e);
	assert_int_equal(all.n, 60);
	assert_false(all.bad_mtime);
	for (int i = 0; i < 25; i++) {
		snprintf(key, sizeof key, "p/a/%02d", i);
		assert_true(seen_has(&all, key, (uint64_t)i));
	}
	assert_true(seen_has(&all, "q/09", 2));

	struct seen p = { 0 };
	expect_rc(blob_list(f->bs, "p/", collect, &p, &e), BLOB_OK, e);
	assert_int_equal(p.n, 50);
	struct seen pa = { 0 };   /* a prefix that ends inside a segment */
	expect_rc(blob_list(f->bs, "p/a/1", collect, &pa, &e), BLOB_OK, e);
	assert_int_equal(pa.n, 10);
	assert_true(seen_has(&pa, "p/a/15", 15));
	struct seen none = { 0 };
	expect_rc(blob_list(f->bs, "zzz", collect, &none, &e), BLOB_OK, e);
	assert_int_equal(none.n, 0);

	/* The callback stops it: no further calls, and that is success. */
	struct seen some = { .stop_after = 9 };
	expect_rc(blob_list(f->bs, "", collect, &some, &e), BLOB_OK, e);
	assert_int_equal(some.n, 9);
}

/* ---- threads ---------------------------------------------------------- */

struct worker {
	struct fx *f;
	int id;
	int failures;
};

static void *work(void *arg)
{
	struct worker *wk = arg;
	char key[64];
	for (int i = 0; i < 8; i++) {
		struct error e = { { 0 } };
		snprintf(key, sizeof key, "t%d/%d", wk->id, i);
		size_t size = 1000 + (size_t)wk->id * 7919 + (size_t)i * 104729;
		struct source src = source_of(wk->f->big, size);
		struct blob_info info;
		struct sink k = { .stop_at = SIZE_MAX };
		if (blob_put(wk->f->bs, key, source_read, &src, &info, &e) != BLOB_OK ||
		    blob_get(wk->f->bs, key, 0, 0, sink_write, &k, &e) != BLOB_OK ||
		    k.len != size || memcmp(k.data, wk->f->big, size) != 0 ||
		    blob_remove(wk->f->bs, key, &e) != BLOB_OK) {
			fprintf(stderr, "thread %d, %s: %s\n", wk->id, key, e.msg);
			wk->failures++;
		}
		free(k.data);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct fx *f = *state;
	pthread_t th[6];
	struct worker wk[6];
	for (int i = 0; i < 6; i++) {
		wk[i] = (struct worker){ .f = f, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, work, &wk[i]), 0);
	}
	for (int i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(wk[i].failures, 0);
	}
	assert_stored(f, 0);
}

/* ---- check ------------------------------------------------------------ */

static void test_check_and_recovery(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	expect_rc(blob_check(f->bs, &e), BLOB_OK, e);
	assert_stored(f, 0);   /* the probe is gone */
	put_ok(f->bs, "before", "x", 1);
	struct blob_info info;
	struct source src = source_of("y", 1);

	if (f->kind == KIND_FS) {
		/* The root replaced by a regular file: unusable. */
		rm_rf(f->root);
		assert_false(exists(f->root));
		int fd = open(f->root, O_WRONLY | O_CREAT | O_EXCL, 0644);
		assert_true(fd >= 0);
		close(fd);
		memset(&e, 0, sizeof e);
		expect_rc(blob_check(f->bs, &e), BLOB_ERROR, e);
		assert_true(e.msg[0] != '\0');
		expect_rc(blob_put(f->bs, "after", source_read, &src, &info, &e), BLOB_ERROR, e);

		/* The file removed and nothing recreated: the store makes its directories again. */
		assert_int_equal(unlink(f->root), 0);
		expect_rc(blob_check(f->bs, &e), BLOB_OK, e);
		struct stat st;
		assert_int_equal(stat(f->root, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	} else {
		/* The bucket removed under the store: every operation names it. */
		struct raw_reply r;
		assert_int_equal(s3_raw("DELETE", f->bucket, "/before", &r), 204);
		buf_free(&r.body);
		assert_int_equal(s3_raw("DELETE", f->bucket, "", &r), 204);
		buf_free(&r.body);
		memset(&e, 0, sizeof e);
		expect_rc(blob_check(f->bs, &e), BLOB_ERROR, e);
		expect_msg(e, "does not exist");
		expect_msg(e, f->bucket);
		expect_rc(blob_put(f->bs, "after", source_read, &src, &info, &e), BLOB_ERROR, e);
		expect_msg(e, f->bucket);
		/* Not "not found": the object may well exist once the bucket is back. */
		expect_rc(blob_stat(f->bs, "before", &info, &e), BLOB_ERROR, e);
		expect_msg(e, "does not exist");
		sink_reset(&f->sink, SIZE_MAX);
		expect_rc(blob_get(f->bs, "before", 0, 0, sink_write, &f->sink, &e), BLOB_ERROR, e);
		expect_rc(blob_remove(f->bs, "before", &e), BLOB_ERROR, e);
		struct seen s = { 0 };
		expect_rc(blob_list(f->bs, "", collect, &s, &e), BLOB_ERROR, e);
		expect_msg(e, "does not exist");

		/* The bucket made again: the same store works. */
		assert_int_equal(s3_raw("PUT", f->bucket, "", &r), 200);
		buf_free(&r.body);
		expect_rc(blob_check(f->bs, &e), BLOB_OK, e);
	}
	expect_rc(blob_stat(f->bs, "before", &info, &e), BLOB_NOT_FOUND, e);
	put_ok(f->bs, "after", "y", 1);
	get_equals(f, "after", 0, 0, "y", 1);
}

/* ---- invalid keys ----------------------------------------------------- */

static void test_invalid_keys_refused(void **state)
{
	struct fx *f = *state;
	char long_key[1026];
	memset(long_key, 'a', 1025);
	long_key[1025] = '\0';
	const char *bad[] = {
		"", "/abs", "a//b", "a/", ".", "..", "a/../b", ".tmp/x", "a/.hidden", "a b",
		"\xc3\xa4", long_key, "../outside.txt", "../../escape", "a/../../outside.txt",
		"../objects-sibling/x", ".tmp", "a?b", "a%2Fb", ".sheaf-check/x",
	};

	/* A file just outside the root, which no key may reach. */
	char outside[128];
	if (f->kind == KIND_FS) {
		snprintf(outside, sizeof outside, "%s/outside.txt", f->dir);
		FILE *fp = fopen(outside, "w");
		assert_non_null(fp);
		fputs("keep", fp);
		fclose(fp);
	}

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *key = bad[i];
		struct error e = { { 0 } };
		struct source src = source_of("evil", 4);
		struct blob_info info;
		int put = blob_put(f->bs, key, source_read, &src, &info, &e);
		sink_reset(&f->sink, SIZE_MAX);
		int get = blob_get(f->bs, key, 0, 0, sink_write, &f->sink, &e);
		int st = blob_stat(f->bs, key, &info, &e);
		int rm = blob_remove(f->bs, key, &e);
		if (put != BLOB_ERROR || get != BLOB_ERROR || st != BLOB_ERROR ||
		    rm != BLOB_ERROR || f->sink.len) {
			print_error("key \"%.40s\": put %d get %d stat %d remove %d, read %zu bytes\n",
				    key, put, get, st, rm, f->sink.len);
			fail();
		}
		assert_true(e.msg[0] != '\0');
		assert_null(blob_writer_open(f->bs, key, &e));
	}

	if (f->kind == KIND_FS) {
		/* Nothing created or removed outside the root, nothing stored inside it. */
		char names[512];
		dir_names(f->dir, names, sizeof names);
		assert_string_equal(names, "objects outside.txt");
		dir_names(f->root, names, sizeof names);
		assert_string_equal(names, ".tmp");
		char buf[16] = { 0 };
		FILE *fp = fopen(outside, "r");
		assert_non_null(fp);
		size_t got = fread(buf, 1, sizeof buf - 1, fp);
		fclose(fp);
		assert_int_equal(got, 4);
		assert_string_equal(buf, "keep");
	}
	assert_stored(f, 0);
}

/* Segments must fit a file name; a directory of objects is not an object. */
static void test_segment_limit_and_directories(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char seg[300];
	memset(seg, 's', 255);
	seg[255] = '\0';
	assert_true(blob_key_valid(seg));
	put_ok(f->bs, seg, "x", 1);
	memset(seg, 's', 256);
	seg[256] = '\0';
	assert_false(blob_key_valid(seg));

	put_ok(f->bs, "u/s/one", "1", 1);
	expect_rc(blob_stat(f->bs, "u/s", &(struct blob_info){ 0 }, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_remove(f->bs, "u/s", &e), BLOB_NOT_FOUND, e);
	get_equals(f, "u/s/one", 0, 0, "1", 1);
}

/* ---- the local directory only ----------------------------------------- */

static void test_fs_open_errors(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	assert_null(blob_open("s4:bucket", &e));
	assert_true(e.msg[0] != '\0');

	/* A root below a regular file cannot be made. */
	char path[160], url[200];
	snprintf(path, sizeof path, "%s/plain", f->dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	snprintf(url, sizeof url, "file:%s/sub", path);
	memset(&e, 0, sizeof e);
	assert_null(blob_open(url, &e));
	assert_true(e.msg[0] != '\0');
}

/* A root so deep that root + key passes the path ceiling fails cleanly. */
static void test_fs_path_too_long(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char url[4200];
	int n = snprintf(url, sizeof url, "file:%s/", f->dir);
	for (int i = 0; i < 28; i++)
		n += snprintf(url + n, sizeof url - (size_t)n, "%0120d/", i);
	struct blob_store *deep = blob_open(url, &e);
	assert_non_null(deep);
	char key[1025];
	for (size_t i = 0; i < 1024; i++)
		key[i] = (i % 128 == 127 && i < 1000) ? '/' : 'k';
	key[1024] = '\0';
	assert_true(blob_key_valid(key));
	struct source src = source_of("abc", 3);
	expect_rc(blob_put(deep, key, source_read, &src, NULL, &e), BLOB_ERROR, e);
	assert_non_null(strstr(e.msg, "too long"));
	expect_rc(blob_stat(deep, key, &(struct blob_info){ 0 }, &e), BLOB_ERROR, e);
	expect_rc(blob_remove(deep, key, &e), BLOB_ERROR, e);
	blob_close(deep);
}

/* ---- S3 against the real server ---------------------------------------- */

/*
 * The server itself refuses a signature made with the wrong secret: its
 * error code is SignatureDoesNotMatch, which only a server that recomputed
 * the signature can say.  sheaf reports it as access denied, on every
 * operation, and never as "not found".
 */
static void test_s3_wrong_secret(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	put_ok(f->bs, "kept", "secret", 6);
	expect_rc(blob_check(f->bs, &e), BLOB_OK, e);

	struct blob_options o = s3_options();
	char wrong[128];
	snprintf(wrong, sizeof wrong, "%s", S3.secret_key);
	wrong[0] = wrong[0] == 'x' ? 'y' : 'x';
	o.s3_secret_key = wrong;
	struct blob_store *bad = s3_open(f->bucket, NULL, &o, &e);
	assert_non_null(bad);

	memset(&e, 0, sizeof e);
	expect_rc(blob_check(bad, &e), BLOB_ERROR, e);
	expect_msg(e, "access denied");
	expect_msg(e, "SHEAF_S3_SECRET_KEY");
	expect_msg(e, "SignatureDoesNotMatch");

	struct source src = source_of("evil", 4);
	struct blob_info info;
	expect_rc(blob_put(bad, "kept", source_read, &src, &info, &e), BLOB_ERROR, e);
	expect_msg(e, "access denied");
	expect_rc(blob_stat(bad, "kept", &info, &e), BLOB_ERROR, e);
	expect_msg(e, "access denied");
	expect_rc(blob_stat(bad, "missing", &info, &e), BLOB_ERROR, e);
	sink_reset(&f->sink, SIZE_MAX);
	expect_rc(blob_get(bad, "kept", 0, 0, sink_write, &f->sink, &e), BLOB_ERROR, e);
	expect_msg(e, "SignatureDoesNotMatch");
	assert_int_equal(f->sink.len, 0);
	expect_rc(blob_remove(bad, "kept", &e), BLOB_ERROR, e);
	struct seen s = { 0 };
	expect_rc(blob_list(bad, "", collect, &s, &e), BLOB_ERROR, e);
	expect_msg(e, "access denied");
	assert_int_equal(s.n, 0);
	/* A multipart upload is refused at its first request. */
	struct blob_writer *w = blob_writer_open(bad, "big", &e);
	assert_non_null(w);
	enum blob_rc wrc = blob_writer_write(w, f->big, BIG_SIZE, &e);
	for (int i = 0; i < 6 && wrc == BLOB_OK; i++)
		wrc = blob_writer_write(w, f->big, BIG_SIZE, &e);
	if (wrc == BLOB_OK)
		wrc = blob_writer_commit(w, &info, &e);
	else
		blob_writer_abort(w);
	expect_rc(wrc, BLOB_ERROR, e);
	expect_msg(e, "access denied");
	blob_close(bad);

	/* An access key the server does not know. */
	o = s3_options();
	o.s3_access_key = "NOSUCHKEY0000000";
	bad = s3_open(f->bucket, NULL, &o, &e);
	assert_non_null(bad);
	expect_rc(blob_check(bad, &e), BLOB_ERROR, e);
	expect_msg(e, "access denied");
	expect_msg(e, "InvalidAccessKeyId");
	blob_close(bad);

	/* Nothing changed; the right key still works. */
	get_equals(f, "kept", 0, 0, "secret", 6);
	assert_stored(f, 1);
}

static void test_s3_missing_bucket(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	char name[80];
	snprintf(name, sizeof name, "%s-never", f->bucket);
	struct blob_store *bs = s3_open(name, NULL, NULL, &e);
	assert_non_null(bs);   /* opening does not touch the network */
	expect_rc(blob_check(bs, &e), BLOB_ERROR, e);
	expect_msg(e, "does not exist");
	expect_msg(e, name);
	struct blob_info info;
	expect_rc(blob_stat(bs, "k", &info, &e), BLOB_ERROR, e);
	expect_msg(e, name);
	blob_close(bs);
}

static void test_s3_virtual_host(void **state)
{
	struct fx *f = *state;
	if (!S3.virtual_endpoint) {
		print_message("skipped: SHEAF_TEST_S3_VIRTUAL_ENDPOINT is not set\n");
		skip();
	}
	struct error e = { { 0 } };
	char url[512];
	snprintf(url, sizeof url, "s3://%s?endpoint=%s&region=%s&style=virtual", f->bucket,
		 S3.virtual_endpoint, S3.region);
	struct blob_options o = s3_options();
	struct blob_store *bs = blob_open_with(url, &o, &e);
	assert_non_null(bs);
	expect_rc(blob_check(bs, &e), BLOB_OK, e);
	put_ok(bs, "v/one", f->big, BIG_SIZE);
	/* The same object, through path-style addressing. */
	get_equals(f, "v/one", 5, 10, f->big + 5, 10);
	struct seen s = { 0 };
	expect_rc(blob_list(bs, "v/", collect, &s, &e), BLOB_OK, e);
	assert_int_equal(s.n, 1);
	expect_rc(blob_remove(bs, "v/one", &e), BLOB_OK, e);
	blob_close(bs);
	assert_stored(f, 0);
}

/* ---- S3 without a server ---------------------------------------------- */

static void test_s3_url_errors(void **state)
{
	(void)state;
	struct blob_options o = { .s3_access_key = "AK", .s3_secret_key = "SK" };
	struct {
		const char *url;
		const char *needle;
	} bad[] = {
		{ "s3://", "needs a bucket" },
		{ "s3://?endpoint=http://h", "needs a bucket" },
		{ "s3://b/some/path", "no path" },
		{ "s3://b?colour=blue", "colour" },
		{ "s3://b?region", "region" },
		{ "s3://b?style=sideways", "sideways" },
		{ "s3://b?region=us-east-1&region=eu-west-1", "twice" },
		{ "s3://b?region=us%20east", "region" },
		{ "s3://b?endpoint=%zz", "escape" },
		{ "s3://b?endpoint=ftp://h", "http" },
		{ "s3://b?endpoint=http://h/prefix", "without a path" },
		{ "s3://b?endpoint=not a url", "endpoint" },
		{ "s3://Bad_Bucket?endpoint=http://h&style=virtual", "style=path" },
		{ "s3://bu cket?endpoint=http://h", "bucket" },
		{ "s3://bucket?endpoint=http://127.0.0.1:9&style=virtual", "host name" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct error e = { { 0 } };
		struct blob_store *bs = blob_open_with(bad[i].url, &o, &e);
		if (bs || !strstr(e.msg, bad[i].needle)) {
			print_error("%s: %s \"%s\", expected \"%s\"\n", bad[i].url,
				    bs ? "opened" : "error", e.msg, bad[i].needle);
			blob_close(bs);
			fail();
		}
	}
	struct error e = { { 0 } };
	/* Keys are required, and never part of the URL. */
	assert_null(blob_open("s3://bucket?endpoint=http://127.0.0.1:9", &e));
	expect_msg(e, "SHEAF_S3_ACCESS_KEY");
	struct blob_options nokey = { .s3_access_key = "AK" };
	assert_null(blob_open_with("s3://bucket?endpoint=http://127.0.0.1:9", &nokey, &e));
	expect_msg(e, "SHEAF_S3_SECRET_KEY");
	/* Parts below S3's 5 MiB minimum. */
	struct blob_options small = o;
	small.s3_part_size = MIB;
	assert_null(blob_open_with("s3://bucket?endpoint=http://127.0.0.1:9", &small, &e));
	expect_msg(e, "part size");

	/* Good ones open without touching the network. */
	const char *good[] = {
		"s3://bucket",
		"s3://bucket?region=eu-central-1",
		"s3://my.bucket?endpoint=http://127.0.0.1:9",
		"s3://bucket?endpoint=http%3A%2F%2F127.0.0.1%3A9&style=path",
		"s3://bucket?endpoint=https://s3.example.com&style=virtual&region=garage",
		"s3://bucket?endpoint=http://[::1]:9",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct blob_store *bs = blob_open_with(good[i], &o, &e);
		if (!bs) {
			print_error("%s: %s\n", good[i], e.msg);
			fail();
		}
		assert_string_equal(bs->ops->name, "s3");
		blob_close(bs);
	}
}

/* A TCP port on loopback that nobody listens on. */
static int closed_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/* A listening socket; with accept_none, connections wait in the backlog forever. */
static int listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct blob_store *open_local(int port, int attempts, int timeout_ms)
{
	char url[128];
	snprintf(url, sizeof url, "s3://bucket?endpoint=http://127.0.0.1:%d", port);
	struct blob_options o = { .s3_access_key = "AK", .s3_secret_key = "SK",
				  .s3_attempts = attempts, .s3_timeout_ms = timeout_ms };
	struct error e = { { 0 } };
	struct blob_store *bs = blob_open_with(url, &o, &e);
	if (!bs)
		print_error("%s: %s\n", url, e.msg);
	assert_non_null(bs);
	return bs;
}

static void test_s3_unreachable(void **state)
{
	(void)state;
	int port = closed_port();
	struct blob_store *bs = open_local(port, 3, 1000);
	struct error e = { { 0 } };
	double t0 = now_s();
	expect_rc(blob_check(bs, &e), BLOB_ERROR, e);
	double took = now_s() - t0;
	expect_msg(e, "cannot reach the S3 server");
	expect_msg(e, "3 attempts");
	char where[64];
	snprintf(where, sizeof where, "127.0.0.1:%d", port);
	expect_msg(e, where);
	assert_true(took < 5.0);
	struct blob_info info;
	expect_rc(blob_stat(bs, "k", &info, &e), BLOB_ERROR, e);
	blob_close(bs);
}

static void test_s3_silent_server(void **state)
{
	(void)state;
	int port;
	int fd = listener(&port);   /* accepts (in the kernel) but never answers */
	struct blob_store *bs = open_local(port, 2, 1000);
	struct error e = { { 0 } };
	double t0 = now_s();
	expect_rc(blob_check(bs, &e), BLOB_ERROR, e);
	double took = now_s() - t0;
	expect_msg(e, "did not answer");
	expect_msg(e, "2 attempts");
	if (took < 2.0 || took > 8.0) {
		print_error("gave up after %.2f s; expected about 2 x 1 s\n", took);
		fail();
	}
	blob_close(bs);
	close(fd);
}

/* A scripted HTTP server: answers the nth connection with replies[n], then closes it. */
struct scripted {
	int fd;
	int port;
	const char *const *replies;
	int n;
	int served;
	char requests[8][4096];
	pthread_t thread;
};

static void *scripted_run(void *arg)
{
	struct scripted *s = arg;
	for (int i = 0; i < s->n; i++) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			break;
		size_t len = 0;
		char *req = s->requests[i < 8 ? i : 7];
		while (len < sizeof s->requests[0] - 1) {
			ssize_t r = read(c, req + len, sizeof s->requests[0] - 1 - len);
			if (r <= 0)
				break;
			len += (size_t)r;
			req[len] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		const char *reply = s->replies[i];
		size_t left = strlen(reply);
		while (left) {
			ssize_t w = write(c, reply, left);
			if (w <= 0)
				break;
			reply += w;
			left -= (size_t)w;
		}
		shutdown(c, SHUT_WR);
		char drain[256];
		while (read(c, drain, sizeof drain) > 0)
			;
		close(c);
		s->served++;
	}
	return NULL;
}

static void scripted_start(struct scripted *s, const char *const *replies, int n)
{
	memset(s, 0, sizeof *s);
	s->fd = listener(&s->port);
	s->replies = replies;
	s->n = n;
	assert_int_equal(pthread_create(&s->thread, NULL, scripted_run, s), 0);
}

static void scripted_stop(struct scripted *s)
{
	shutdown(s->fd, SHUT_RDWR);   /* wakes a pending accept */
	pthread_join(s->thread, NULL);
	close(s->fd);
}

#define LASTMOD "Last-Modified: Sat, 21 Nov 2026 10:00:00 GMT\r\n"

/* An HTTP/1.1 reply with body and its Content-Length, in out. */
static const char *reply(char *out, size_t size, const char *status, const char *body)
{
	snprintf(out, size, "HTTP/1.1 %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
		 status, strlen(body), body);
	return out;
}

static void test_s3_retries(void **state)
{
	(void)state;
	struct scripted srv;
	struct error e = { { 0 } };
	struct blob_info info = { 0 };

	/* 503 SlowDown, then 500, then the answer. */
	static const char *const flaky[] = {
		"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" LASTMOD "Connection: close\r\n\r\n",
	};
	scripted_start(&srv, flaky, 3);
	struct blob_store *bs = open_local(srv.port, 5, 2000);
	expect_rc(blob_stat(bs, "a/k", &info, &e), BLOB_OK, e);
	assert_int_equal(info.size, 5);
	assert_int_equal(info.mtime_ms, 1795255200000LL);
	blob_close(bs);
	scripted_stop(&srv);
	assert_int_equal(srv.served, 3);
	assert_non_null(strstr(srv.requests[0], "HEAD /bucket/a/k HTTP/1.1"));
	/* Signed, and with the payload hash S3 requires. */
	assert_non_null(strstr(srv.requests[2], "AWS4-HMAC-SHA256 Credential=AK/"));
	assert_non_null(strstr(srv.requests[2], "x-amz-content-sha256: " EMPTY_SHA256));

	/* Always 503: gives up after the attempts allowed, saying so. */
	const char *slow = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			   "<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>";
	char r1[512], r2[512], r3[512];
	const char *down[] = {
		reply(r1, sizeof r1, "503 Service Unavailable", slow),
		reply(r2, sizeof r2, "503 Service Unavailable", ""),
		reply(r3, sizeof r3, "503 Service Unavailable", slow),
	};
	scripted_start(&srv, down, 3);
	bs = open_local(srv.port, 3, 2000);
	struct sink k = { .stop_at = SIZE_MAX };
	expect_rc(blob_get(bs, "a/k", 0, 0, sink_write, &k, &e), BLOB_ERROR, e);
	expect_msg(e, "HTTP 503");
	expect_msg(e, "SlowDown");
	expect_msg(e, "3 attempts");
	assert_int_equal(k.len, 0);
	blob_close(bs);
	scripted_stop(&srv);
	assert_int_equal(srv.served, 3);

	/* 403 is not retried. */
	const char *denied[] = {
		reply(r1, sizeof r1, "403 Forbidden",
		      "<Error><Code>AccessDenied</Code><Message>No.</Message></Error>"),
		reply(r2, sizeof r2, "200 OK", ""),
	};
	scripted_start(&srv, denied, 2);
	bs = open_local(srv.port, 5, 2000);
	expect_rc(blob_stat(bs, "a/k", &info, &e), BLOB_ERROR, e);
	blob_close(bs);
	scripted_stop(&srv);
	assert_int_equal(srv.served, 1);
	expect_msg(e, "access denied");

	/* A GET cut off midway resumes at the next byte, pinned to the same version. */
	static const char *const cut[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n"
		"0123",
		"HTTP/1.1 206 Partial Content\r\nContent-Length: 6\r\nContent-Range: bytes 4-9/10\r\n"
		"ETag: \"v1\"\r\nConnection: close\r\n\r\n456789",
	};
	scripted_start(&srv, cut, 2);
	bs = open_local(srv.port, 5, 2000);
	k = (struct sink){ .stop_at = SIZE_MAX };
	expect_rc(blob_get(bs, "a/k", 0, 0, sink_write, &k, &e), BLOB_OK, e);
	blob_close(bs);
	scripted_stop(&srv);
	assert_int_equal(k.len, 10);
	assert_memory_equal(k.data, "0123456789", 10);
	free(k.data);
	assert_null(strstr(srv.requests[0], "Range:"));
	assert_non_null(strstr(srv.requests[1], "Range: bytes=4-\r\n"));
	assert_non_null(strstr(srv.requests[1], "If-Match: \"v1\"\r\n"));

	/* A server that ignores Range: the bytes before the offset are dropped. */
	static const char *const whole[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789",
	};
	scripted_start(&srv, whole, 1);
	bs = open_local(srv.port, 1, 2000);
	k = (struct sink){ .stop_at = SIZE_MAX };
	expect_rc(blob_get(bs, "a/k", 3, 4, sink_write, &k, &e), BLOB_OK, e);
	blob_close(bs);
	scripted_stop(&srv);
	assert_int_equal(k.len, 4);
	assert_memory_equal(k.data, "3456", 4);
	free(k.data);
	assert_non_null(strstr(srv.requests[0], "Range: bytes=3-6\r\n"));
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (sodium_init() < 0)
		return 1;
#define CONFORMANCE(X)                                \
	X(test_put_stat_get)                          \
	X(test_put_empty_and_small)                   \
	X(test_adopt_and_local_path)                  \
	X(test_put_replaces)                          \
	X(test_missing_and_remove)                    \
	X(test_long_key_roundtrip)                    \
	X(test_multipart_roundtrip)                   \
	X(test_writer_abort_leaves_nothing)           \
	X(test_reader_failure_leaves_nothing)         \
	X(test_writer_failure)                        \
	X(test_list)                                  \
	X(test_threads)                               \
	X(test_check_and_recovery)                    \
	X(test_invalid_keys_refused)                  \
	X(test_segment_limit_and_directories)         \
	X(test_put_file)
#define FS(fn) cmocka_unit_test_setup_teardown(fn, setup_fs, teardown),
#define S3T(fn) cmocka_unit_test_setup_teardown(fn, setup_s3, teardown),
	const struct CMUnitTest fs_tests[] = {
		cmocka_unit_test(test_key_valid),
		CONFORMANCE(FS)
		FS(test_fs_open_errors)
		FS(test_fs_path_too_long)
	};
	const struct CMUnitTest s3_offline_tests[] = {
		cmocka_unit_test(test_s3_url_errors),
		cmocka_unit_test(test_s3_unreachable),
		cmocka_unit_test(test_s3_silent_server),
		cmocka_unit_test(test_s3_retries),
	};
	const struct CMUnitTest s3_tests[] = {
		CONFORMANCE(S3T)
		S3T(test_s3_wrong_secret)
		S3T(test_s3_missing_bucket)
		S3T(test_s3_virtual_host)
	};
#undef FS
#undef S3T
#undef CONFORMANCE
	int failed = cmocka_run_group_tests_name("blob on file:", fs_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("blob S3 client", s3_offline_tests, NULL, NULL);
	if (s3_env_load()) {
		fprintf(stderr, "S3 server: %s (region %s)\n", S3.endpoint, S3.region);
		failed += cmocka_run_group_tests_name("blob on S3", s3_tests, NULL, NULL);
	} else {
		fprintf(stderr, "blob on S3: not run (SHEAF_TEST_S3_URL, SHEAF_TEST_S3_ACCESS_KEY "
				"and SHEAF_TEST_S3_SECRET_KEY are not set; scripts/test sets them)\n");
	}
	curl_global_cleanup();
	return failed ? 1 : 0;
}
