/*
 * Object storage through the blob interface (blob/blob.h), on a
 * "file:<tmp>/objects" store: the key rules (blob_key_valid); put from a
 * reader that hands over odd-sized pieces, stat, whole and ranged gets,
 * replacing an object, missing keys and remove; a put whose reader fails
 * leaves nothing (not even a temporary) behind; a get whose writer stops
 * fails; check() fails while the root is unusable and recovers once it is
 * gone; invalid keys are refused by every operation and reach nothing
 * outside the root.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/blob.h"

#include "testutil.h"

#define BIG_SIZE ((size_t)1024 * 1024 + 7)

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
	char dir[64];       /* mkdtemp scratch directory, removed in teardown */
	char root[96];      /* dir/objects: the store's root */
	struct blob_store *bs;
	unsigned char *big;     /* BIG_SIZE bytes of pattern */
	struct sink sink;
};

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

#define expect_rc(call, want, err)                                                       \
	do {                                                                             \
		int got_ = (int)(call);                                                  \
		if (got_ != (int)(want)) {                                               \
			print_error("%s returned %d, expected %d (message: \"%s\")\n", #call, \
				    got_, (int)(want), (err).msg);                           \
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

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	if (!f)
		return -1;
	snprintf(f->dir, sizeof f->dir, "/tmp/sheaf-test-blob.XXXXXX");
	if (!mkdtemp(f->dir)) {
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
		free(f);
		return -1;
	}
	f->big = malloc(BIG_SIZE);
	if (!f->big) {
		blob_close(f->bs);
		rm_rf(f->dir);
		free(f);
		return -1;
	}
	fill_pattern(f->big, BIG_SIZE, 0x5eaf);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	if (!f)
		return 0;
	blob_close(f->bs);
	rm_rf(f->dir);
	free(f->big);
	free(f->sink.data);
	free(f);
	*state = NULL;
	return 0;
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
	/* Offset at the end: nothing. */
	get_equals(f, key, BIG_SIZE, 0, NULL, 0);

	/* Past the end: an error. */
	sink_reset(&f->sink, SIZE_MAX);
	memset(&e, 0, sizeof e);
	expect_rc(blob_get(f->bs, key, BIG_SIZE + 1, 0, sink_write, &f->sink, &e), BLOB_ERROR, e);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(f->sink.len, 0);

	/* No temporary is left behind by a successful put either. */
	char tmp[128], names[256];
	snprintf(tmp, sizeof tmp, "%s/.tmp", f->root);
	dir_names(tmp, names, sizeof names);
	assert_string_equal(names, "");
	assert_int_equal(count_files(f->root), 1);
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

	put_ok(f->bs, "a", "hello", 5);
	get_equals(f, "a", 1, 3, "ell", 3);
	get_equals(f, "a", 4, 0, "o", 1);
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
	assert_int_equal(count_files(f->root), 1);
}

static void test_missing_and_remove(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	struct blob_info info;

	expect_rc(blob_stat(f->bs, "nope", &info, &e), BLOB_NOT_FOUND, e);
	sink_reset(&f->sink, SIZE_MAX);
	expect_rc(blob_get(f->bs, "nope", 0, 0, sink_write, &f->sink, &e), BLOB_NOT_FOUND, e);
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

	expect_rc(blob_stat(f->bs, key, &info, &e), BLOB_NOT_FOUND, e);
	expect_rc(blob_stat(f->bs, "other", &info, &e), BLOB_NOT_FOUND, e);

	char tmp[128], names[256];
	snprintf(tmp, sizeof tmp, "%s/.tmp", f->root);
	dir_names(tmp, names, sizeof names);
	if (names[0]) {
		print_error("left in %s: %s\n", tmp, names);
		fail();
	}
	assert_int_equal(count_files(f->root), 0);
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

/* ---- check ------------------------------------------------------------ */

static void test_check_and_recovery(void **state)
{
	struct fx *f = *state;
	struct error e = { { 0 } };
	expect_rc(blob_check(f->bs, &e), BLOB_OK, e);
	assert_int_equal(count_files(f->root), 0);   /* the probe is gone */

	/* The root replaced by a regular file: unusable. */
	put_ok(f->bs, "before", "x", 1);
	rm_rf(f->root);
	assert_false(exists(f->root));
	int fd = open(f->root, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	memset(&e, 0, sizeof e);
	expect_rc(blob_check(f->bs, &e), BLOB_ERROR, e);
	assert_true(e.msg[0] != '\0');
	struct source src = source_of("y", 1);
	struct blob_info info;
	expect_rc(blob_put(f->bs, "after", source_read, &src, &info, &e), BLOB_ERROR, e);

	/* The file removed and nothing recreated: the store makes its directories again. */
	assert_int_equal(unlink(f->root), 0);
	expect_rc(blob_check(f->bs, &e), BLOB_OK, e);
	struct stat st;
	assert_int_equal(stat(f->root, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	expect_rc(blob_stat(f->bs, "before", &info, &e), BLOB_NOT_FOUND, e);
	put_ok(f->bs, "after", "y", 1);
	get_equals(f, "after", 0, 0, "y", 1);
}

static void test_open_errors(void **state)
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
		"../objects-sibling/x", ".tmp",
	};

	/* A file just outside the root, which no key may reach. */
	char outside[128];
	snprintf(outside, sizeof outside, "%s/outside.txt", f->dir);
	FILE *fp = fopen(outside, "w");
	assert_non_null(fp);
	fputs("keep", fp);
	fclose(fp);

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
	}

	/* Nothing created or removed outside the root, nothing stored inside it. */
	char names[512];
	dir_names(f->dir, names, sizeof names);
	assert_string_equal(names, "objects outside.txt");
	dir_names(f->root, names, sizeof names);
	assert_string_equal(names, ".tmp");
	assert_int_equal(count_files(f->root), 0);
	char buf[16] = { 0 };
	fp = fopen(outside, "r");
	assert_non_null(fp);
	size_t got = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	assert_int_equal(got, 4);
	assert_string_equal(buf, "keep");
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

/* A root so deep that root + key passes the path ceiling fails cleanly. */
static void test_path_too_long(void **state)
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

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_valid),
		T(test_put_stat_get),
		T(test_put_empty_and_small),
		T(test_put_replaces),
		T(test_missing_and_remove),
		T(test_long_key_roundtrip),
		T(test_reader_failure_leaves_nothing),
		T(test_writer_failure),
		T(test_check_and_recovery),
		T(test_open_errors),
		T(test_invalid_keys_refused),
		T(test_segment_limit_and_directories),
		T(test_path_too_long),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
