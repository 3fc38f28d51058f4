/*
 * Encoding detection and conversion (ingest/encoding.h): BOMs; UTF-8
 * validity with a cut last character; uchardet's guesses mapped to CP949
 * and WINDOWS-1252; round trips of Korean and accented text encoded here
 * with iconv; every way of cutting small CP949, UTF-16 and UTF-8 inputs;
 * invalid bytes with their offsets; cut characters at the end; overrides;
 * a receiver that stops; and the real Daegu public-data files when
 * /work/shared/data/daegu is there.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "ingest/encoding.h"

#define KO "시군구,위도,경도,주소\n대구광역시 중구,35.8693,128.6062,동성로 1가\n" \
	   "대구광역시 수성구,35.8581,128.6311,범어동 123\n"
#define LATIN "nom,ville,remarque\nJosé,Besançon,élève très sérieux\n" \
	      "François,Orléans,« café » à côté\nMüller,Köln,Straße\n"
/* 똠 and 햏 are not in EUC-KR (KS X 1001), only in CP949's extension. */
#define KO_UHC "이름,메모\n홍길동,똠방각하 햏자\n"

/* utf8 encoded as `to` by iconv, malloc'd; *len its length. */
static char *enc(const char *to, const char *utf8, size_t *len)
{
	iconv_t cd = iconv_open(to, "UTF-8");
	assert_true(cd != (iconv_t)-1);
	size_t inl = strlen(utf8), cap = inl * 4 + 16, outl = cap;
	char *out = malloc(cap), *op = out, *ip = (char *)utf8;
	assert_true(iconv(cd, &ip, &inl, &op, &outl) != (size_t)-1);
	iconv_close(cd);
	*len = (size_t)(op - out);
	return out;
}

/* Prefix + body as one malloc'd block. */
static char *cat(const void *a, size_t na, const void *b, size_t nb)
{
	char *p = malloc(na + nb + 1);
	memcpy(p, a, na);
	memcpy(p + na, b, nb);
	return p;
}

/* Converts in, cut at the given ascending positions, into out (which it
 * inits); on failure out ends in "!" and the message.  Returns rc. */
static int conv_cuts(const char *from, const void *in, size_t n, const size_t *cuts,
		     size_t ncuts, struct buf *out)
{
	struct error e = { { 0 } };
	buf_init(out, 64 * 1024 * 1024);
	buf_puts(out, "");
	struct encoding_converter *c = encoding_converter_new(from, &e);
	assert_non_null(c);
	int rc = 0;
	size_t at = 0;
	for (size_t i = 0; i <= ncuts && rc == 0; i++) {
		size_t end = i < ncuts ? cuts[i] : n;
		rc = encoding_convert(c, (const char *)in + at, end - at, encoding_sink_buf, out, &e);
		at = end;
	}
	if (rc == 0)
		rc = encoding_finish(c, &e);
	if (rc)
		buf_printf(out, "!%s", e.msg);
	encoding_converter_free(c);
	return rc;
}

static int conv(const char *from, const void *in, size_t n, struct buf *out)
{
	return conv_cuts(from, in, n, NULL, 0, out);
}

/* Whole, a byte at a time, and with every single and double cut: all must
 * give want (ending in "!" + message when it fails). */
static void expect_all_cuts(const char *from, const void *in, size_t n, const char *want)
{
	struct buf out;
	conv(from, in, n, &out);
	if (strcmp(out.data, want) != 0)
		fail_msg("%s whole:\n got  [%s]\n want [%s]", from, out.data, want);
	buf_free(&out);

	size_t *cuts = malloc((n + 1) * sizeof *cuts);
	for (size_t i = 0; i < n; i++)
		cuts[i] = i + 1;
	conv_cuts(from, in, n, cuts, n ? n - 1 : 0, &out);
	if (strcmp(out.data, want) != 0)
		fail_msg("%s bytewise:\n got  [%s]\n want [%s]", from, out.data, want);
	buf_free(&out);

	for (size_t a = 0; a <= n; a++)
		for (size_t b = a; b <= n; b++) {
			size_t two[2] = { a, b };
			conv_cuts(from, in, n, two, 2, &out);
			if (strcmp(out.data, want) != 0)
				fail_msg("%s cuts %zu,%zu:\n got  [%s]\n want [%s]", from, a, b,
					 out.data, want);
			buf_free(&out);
		}
	free(cuts);
}

static void expect_detect(const void *p, size_t n, const char *want)
{
	char name[ENCODING_NAME_MAX];
	struct error e = { { 0 } };
	if (encoding_detect(p, n, name, &e) != 0)
		fail_msg("detect: want %s, got error: %s", want, e.msg);
	if (strcmp(name, want) != 0)
		fail_msg("detect: want %s, got %s", want, name);
}

static void test_detect_bom(void **state)
{
	(void)state;
	expect_detect("\xEF\xBB\xBFhello", 8, "UTF-8");
	expect_detect("\xEF\xBB\xBF", 3, "UTF-8");
	expect_detect("\xFF\xFEh\0i\0", 6, "UTF-16LE");
	expect_detect("\xFE\xFF\0h\0i", 6, "UTF-16BE");
	expect_detect("\xFF\xFE", 2, "UTF-16LE");
	expect_detect("\xFF\xFE\0\0h\0\0\0", 8, "UTF-32LE");
	expect_detect("\0\0\xFE\xFF\0\0\0h", 8, "UTF-32BE");
	/* A BOM wins over what follows, even invalid bytes. */
	expect_detect("\xEF\xBB\xBF\xFF\xFF", 5, "UTF-8");
}

static void test_detect_utf8(void **state)
{
	(void)state;
	expect_detect("", 0, "UTF-8");
	expect_detect("a,b\n1,2\n", 8, "UTF-8");
	expect_detect(KO, strlen(KO), "UTF-8");
	/* The sample may cut the last character: 위 is EC 9C 84. */
	expect_detect("a\xEC\x9C", 3, "UTF-8");
	expect_detect("a\xEC", 2, "UTF-8");
	expect_detect("a\xF0\x9F\x98", 4, "UTF-8");
}

static void test_detect_failures(void **state)
{
	(void)state;
	char name[ENCODING_NAME_MAX] = "x";
	struct error e = { { 0 } };
	/* Nothing uchardet can name: the message says where UTF-8 failed
	 * and lists the overrides. */
	assert_int_equal(encoding_detect("\x81\x81\x81", 3, name, &e), -1);
	assert_string_equal(name, "");
	assert_non_null(strstr(e.msg, "could not tell"));
	assert_non_null(strstr(e.msg, "byte 0x81 at byte offset 0"));
	assert_non_null(strstr(e.msg, "utf-8, utf-8-sig, cp949"));
	assert_non_null(strstr(e.msg, "windows-1252"));

	/* Short Latin text that uchardet calls ISO-8859-2. */
	size_t n;
	char *p = enc("WINDOWS-1252", "Café\n", &n);
	assert_int_equal(encoding_detect(p, n, name, &e), -1);
	assert_non_null(strstr(e.msg, "ISO-8859-2"));
	assert_non_null(strstr(e.msg, "not supported"));
	free(p);
	assert_int_equal(encoding_detect("ok", 2, name, NULL), 0);
}

static void test_detect_korean_csv(void **state)
{
	(void)state;
	size_t n;
	char *p = enc("CP949", KO, &n);
	expect_detect(p, n, "CP949");
	free(p);
	p = enc("CP949", "시군구,위도,경도\n중구,35.8,128.6\n", &n);
	expect_detect(p, n, "CP949");
	free(p);
	p = enc("CP949", KO_UHC, &n);
	expect_detect(p, n, "CP949");
	free(p);
	/* Plain EUC-KR text (no CP949-only syllables) is also CP949. */
	p = enc("EUC-KR", "구분,기관명,소재지\n초등학교,남도초등학교,대구광역시 남구\n", &n);
	expect_detect(p, n, "CP949");
	free(p);
}

static void test_detect_latin(void **state)
{
	(void)state;
	size_t n;
	char *p = enc("ISO-8859-1", LATIN, &n);
	expect_detect(p, n, "WINDOWS-1252");
	free(p);
	p = enc("WINDOWS-1252", LATIN "Prix,5 €,“guillemets” – tiret\n", &n);
	expect_detect(p, n, "WINDOWS-1252");
	free(p);
}

/* Encode, detect, convert back: the text comes back byte for byte. */
static void round_trip(const char *iconv_name, const char *bom, size_t bomlen, const char *text,
		       const char *want_name)
{
	size_t n;
	char *body = enc(iconv_name, text, &n);
	char *p = cat(bom, bomlen, body, n);
	free(body);
	n += bomlen;
	char name[ENCODING_NAME_MAX];
	struct error e = { { 0 } };
	if (encoding_detect(p, n, name, &e))
		fail_msg("%s: %s", iconv_name, e.msg);
	assert_string_equal(name, want_name);
	struct buf out;
	if (conv(name, p, n, &out))
		fail_msg("%s: %s", iconv_name, out.data);
	assert_string_equal(out.data, text);
	buf_free(&out);
	/* In odd-sized pieces too. */
	size_t cuts[64], nc = 0;
	for (size_t at = 7; at < n && nc < 64; at += 7)
		cuts[nc++] = at;
	assert_int_equal(conv_cuts(name, p, n, cuts, nc, &out), 0);
	assert_string_equal(out.data, text);
	buf_free(&out);
	free(p);
}

static void test_round_trips(void **state)
{
	(void)state;
	const char *texts[] = { KO, LATIN, KO_UHC };
	for (size_t i = 0; i < 3; i++) {
		const char *t = texts[i];
		round_trip("UTF-8", "", 0, t, "UTF-8");
		round_trip("UTF-8", "\xEF\xBB\xBF", 3, t, "UTF-8");
		round_trip("UTF-16LE", "\xFF\xFE", 2, t, "UTF-16LE");
		round_trip("UTF-16BE", "\xFE\xFF", 2, t, "UTF-16BE");
		round_trip("UTF-32LE", "\xFF\xFE\0\0", 4, t, "UTF-32LE");
		round_trip("UTF-32BE", "\0\0\xFE\xFF", 4, t, "UTF-32BE");
	}
	round_trip("CP949", "", 0, KO, "CP949");
	round_trip("CP949", "", 0, KO_UHC, "CP949");
	round_trip("WINDOWS-1252", "", 0, LATIN, "WINDOWS-1252");
	round_trip("ISO-8859-1", "", 0, LATIN, "WINDOWS-1252");
	/* Outside the BMP: a surrogate pair in UTF-16. */
	round_trip("UTF-16LE", "\xFF\xFE", 2, "a😀b,🇰🇷\n", "UTF-16LE");
	round_trip("UTF-16BE", "\xFE\xFF", 2, "a😀b,🇰🇷\n", "UTF-16BE");
}

static void test_euc_kr_reads_cp949(void **state)
{
	(void)state;
	size_t n;
	char *p = enc("CP949", KO_UHC, &n);
	struct buf out;
	assert_int_equal(conv("euc-kr", p, n, &out), 0);
	assert_string_equal(out.data, KO_UHC);
	buf_free(&out);
	free(p);
}

static void test_every_cut(void **state)
{
	(void)state;
	const char *t = "가,A똠\n😀é";
	size_t n;
	char *p = enc("CP949", "가,A똠\n햏", &n);
	expect_all_cuts("cp949", p, n, "가,A똠\n햏");
	free(p);

	char *body = enc("UTF-16LE", t, &n);
	p = cat("\xFF\xFE", 2, body, n);
	expect_all_cuts("utf-16le", p, n + 2, t);
	expect_all_cuts("utf-16", p, n + 2, t);
	free(body);
	free(p);

	body = enc("UTF-16BE", t, &n);
	p = cat("\xFE\xFF", 2, body, n);
	expect_all_cuts("UTF-16BE", p, n + 2, t);
	expect_all_cuts("UTF-16", p, n + 2, t);
	free(body);
	free(p);

	body = enc("UTF-32LE", t, &n);
	expect_all_cuts("utf-32le", body, n, t);
	free(body);

	p = cat("\xEF\xBB\xBF", 3, t, strlen(t));
	expect_all_cuts("utf-8-sig", p, strlen(t) + 3, t);
	expect_all_cuts("utf-8", t, strlen(t), t);
	free(p);

	expect_all_cuts("latin-1", "caf\xE9 \x80\x81", 7, "café €\xC2\x81");
}

static void test_bom_only_first(void **state)
{
	(void)state;
	/* Only a leading BOM goes; one later on is data (U+FEFF). */
	expect_all_cuts("utf-8", "\xEF\xBB\xBF" "a\xEF\xBB\xBF", 7, "a\xEF\xBB\xBF");
	expect_all_cuts("utf-8", "\xEF\xBB\xBF\xEF\xBB\xBF", 6, "\xEF\xBB\xBF");
	expect_all_cuts("utf-16le", "\xFF\xFE\xFF\xFE", 4, "\xEF\xBB\xBF");
	expect_all_cuts("utf-16le", "\xFF\xFE", 2, "");
	expect_all_cuts("utf-8", "", 0, "");
	/* UTF-16 without a BOM is LE. */
	expect_all_cuts("utf-16", "h\0i\0", 4, "hi");
	expect_all_cuts("utf-16", "\xFE\xFF\0h\0i", 6, "hi");
}

static void test_invalid_offsets(void **state)
{
	(void)state;
	expect_all_cuts("utf-8", "ab\xC0\x80", 4,
			"ab!invalid UTF-8 input at byte offset 2 (byte 0xC0)");
	expect_all_cuts("utf-8", "\xEF\xBB\xBF" "ab\xED\xA0\x80", 8,
			"ab!invalid UTF-8 input at byte offset 5 (byte 0xED)");
	expect_all_cuts("utf-8", "가\xE0\x80\x80", 6,
			"가!invalid UTF-8 input at byte offset 3 (byte 0xE0)");
	expect_all_cuts("utf-8", "x\xF4\x90\x80\x80", 5,
			"x!invalid UTF-8 input at byte offset 1 (byte 0xF4)");
	expect_all_cuts("utf-8", "xy\x80", 3, "xy!invalid UTF-8 input at byte offset 2 (byte 0x80)");
	expect_all_cuts("utf-8", "\xE3\x81x", 3,
			"!invalid UTF-8 input at byte offset 0 (byte 0xE3)");
	expect_all_cuts("utf-8", "\xF5\x80", 2, "!invalid UTF-8 input at byte offset 0 (byte 0xF5)");

	size_t n;
	char *ko = enc("CP949", "가나", &n);
	char *p = cat(ko, n, "\x80" "a", 2);
	expect_all_cuts("cp949", p, n + 2, "가나!invalid CP949 input at byte offset 4 (byte 0x80)");
	free(p);
	p = cat(ko, n, "\xB0\x20", 2);   /* a lead byte, then a space */
	expect_all_cuts("cp949", p, n + 2, "가나!invalid CP949 input at byte offset 4 (byte 0xB0)");
	free(p);
	p = cat(ko, n, "\xFF", 1);
	expect_all_cuts("cp949", p, n + 1, "가나!invalid CP949 input at byte offset 4 (byte 0xFF)");
	free(p);
	free(ko);

	/* A low surrogate alone, and a high one followed by a letter. */
	expect_all_cuts("utf-16le", "\xFF\xFE" "a\0\x00\xDC", 6,
			"a!invalid UTF-16LE input at byte offset 4 (byte 0x00)");
	expect_all_cuts("utf-16le", "a\0\x3D\xD8" "b\0", 6,
			"a!invalid UTF-16LE input at byte offset 2 (byte 0x3D)");
	expect_all_cuts("utf-16", "\xFE\xFF\0a\xD8\x3D\0b", 8,
			"a!invalid UTF-16BE input at byte offset 4 (byte 0xD8)");
	expect_all_cuts("utf-32le", "a\0\0\0\0\0\x11\0", 8,
			"a!invalid UTF-32LE input at byte offset 4 (byte 0x00)");
}

static void test_truncated(void **state)
{
	(void)state;
	expect_all_cuts("utf-8", "ab\xEC\x9C", 4,
			"ab!UTF-8 input ends inside a character (cut at byte offset 2)");
	expect_all_cuts("utf-8", "\xEF\xBB", 2,
			"!UTF-8 input ends inside a character (cut at byte offset 0)");
	expect_all_cuts("cp949", "a\xB0", 2,
			"a!CP949 input ends inside a character (cut at byte offset 1)");
	expect_all_cuts("utf-16le", "a\0b", 3,
			"a!UTF-16LE input ends inside a character (cut at byte offset 2)");
	expect_all_cuts("utf-16le", "a\0\x3D\xD8", 4,
			"a!UTF-16LE input ends inside a character (cut at byte offset 2)");
	expect_all_cuts("utf-16", "\xFF", 1,
			"!UTF-16 input ends inside a character (cut at byte offset 0)");
	expect_all_cuts("utf-32be", "\0\0\0a\0\0", 6,
			"a!UTF-32BE input ends inside a character (cut at byte offset 4)");
}

static void test_overrides(void **state)
{
	(void)state;
	static const char *const ok[][2] = {
		{ "utf-8", "UTF-8" },       { "UTF-8-SIG", "UTF-8" },   { "Utf8", "UTF-8" },
		{ "cp949", "CP949" },       { "EUC-KR", "CP949" },      { "uhc", "CP949" },
		{ "utf-16", "UTF-16" },     { "UTF-16LE", "UTF-16LE" }, { "utf-16BE", "UTF-16BE" },
		{ "utf-32le", "UTF-32LE" }, { "Latin-1", "WINDOWS-1252" },
		{ "ISO-8859-1", "WINDOWS-1252" }, { "windows-1252", "WINDOWS-1252" },
		{ "CP1252", "WINDOWS-1252" },
	};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		char name[ENCODING_NAME_MAX];
		assert_int_equal(encoding_normalize(ok[i][0], name, NULL), 0);
		assert_string_equal(name, ok[i][1]);
		struct encoding_converter *c = encoding_converter_new(ok[i][0], NULL);
		assert_non_null(c);
		assert_string_equal(encoding_converter_name(c), ok[i][1]);
		encoding_converter_free(c);
	}
	const char *bad[] = { "", "utf-7", "ebcdic", "shift_jis", "utf-8 ", "iso-8859-15" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[ENCODING_NAME_MAX] = "x";
		struct error e = { { 0 } };
		assert_int_equal(encoding_normalize(bad[i], name, &e), -1);
		assert_string_equal(name, "");
		assert_non_null(strstr(e.msg, ENCODING_OVERRIDES));
		assert_null(encoding_converter_new(bad[i], &e));
		assert_non_null(strstr(e.msg, "unknown encoding"));
	}
	assert_int_equal(encoding_normalize(NULL, (char[ENCODING_NAME_MAX]){ 0 }, NULL), -1);
}

static void test_windows_1252(void **state)
{
	(void)state;
	char all[128];
	for (int i = 0; i < 128; i++)
		all[i] = (char)(0x80 + i);
	struct buf out;
	assert_int_equal(conv("windows-1252", all, sizeof all, &out), 0);
	/* 0x80 €, 0x81 U+0081, 0x9F Ÿ, then U+00A0 to U+00FF. */
	assert_memory_equal(out.data, "€\xC2\x81‚", 8);
	assert_non_null(strstr(out.data, "žŸ\xC2\xA0¡"));
	assert_memory_equal(out.data + out.len - 4, "þÿ", 4);
	buf_free(&out);
	/* A long run, past the internal output block. */
	char *big = malloc(10000);
	memset(big, 0xE9, 10000);
	assert_int_equal(conv("latin1", big, 10000, &out), 0);
	assert_int_equal(out.len, 20000);
	assert_memory_equal(out.data + 19998, "é", 2);
	buf_free(&out);
	free(big);
}

static int stop_sink(void *ctx, const char *p, size_t n)
{
	(void)p;
	(void)n;
	return ++*(int *)ctx >= 2 ? -1 : 0;
}

static void test_receiver_and_limits(void **state)
{
	(void)state;
	struct error e = { { 0 } };
	struct encoding_converter *c = encoding_converter_new("utf-8", &e);
	int calls = 0;
	assert_int_equal(encoding_convert(c, "a", 1, stop_sink, &calls, &e), 0);
	assert_int_equal(encoding_convert(c, "b", 1, stop_sink, &calls, &e), -1);
	assert_string_equal(e.msg, "stopped by the receiver");
	/* Failed stays failed, with the same message. */
	memset(&e, 0, sizeof e);
	assert_int_equal(encoding_convert(c, "c", 1, stop_sink, &calls, &e), -1);
	assert_string_equal(e.msg, "stopped by the receiver");
	assert_int_equal(encoding_finish(c, &e), -1);
	assert_int_equal(calls, 2);
	encoding_converter_free(c);

	/* A buffer at its limit stops the conversion. */
	struct buf out;
	buf_init(&out, 4);
	c = encoding_converter_new("cp949", &e);
	size_t n;
	char *p = enc("CP949", "가나", &n);
	assert_int_equal(encoding_convert(c, p, n, encoding_sink_buf, &out, &e), -1);
	assert_string_equal(e.msg, "stopped by the receiver");
	buf_free(&out);
	encoding_converter_free(c);
	free(p);

	/* An invalid byte after a valid one: the valid part came first. */
	buf_init(&out, 1024);
	c = encoding_converter_new("utf-8", &e);
	assert_int_equal(encoding_convert(c, "ok\xFF", 3, encoding_sink_buf, &out, &e), -1);
	assert_string_equal(out.data, "ok");
	assert_int_equal(encoding_convert(c, "more", 4, encoding_sink_buf, &out, &e), -1);
	assert_non_null(strstr(e.msg, "byte offset 2"));
	assert_int_equal(out.len, 2);
	buf_free(&out);
	encoding_converter_free(c);
	encoding_converter_free(NULL);
}

/* UTF-8 input is handed over in slices of the input itself. */
struct slice_rec {
	const char *base;
	size_t n, calls;
	bool inside;
};

static int slice_sink(void *ctx, const char *p, size_t n)
{
	struct slice_rec *r = ctx;
	r->calls++;
	if (p >= r->base && p + n <= r->base + r->n)
		r->inside = true;
	return 0;
}

static void test_utf8_zero_copy(void **state)
{
	(void)state;
	const char *t = "\xEF\xBB\xBF" KO KO KO;
	struct slice_rec r = { t, strlen(t), 0, false };
	struct encoding_converter *c = encoding_converter_new("utf-8", NULL);
	assert_int_equal(encoding_convert(c, t, r.n, slice_sink, &r, NULL), 0);
	assert_int_equal(encoding_finish(c, NULL), 0);
	assert_int_equal(r.calls, 1);
	assert_true(r.inside);
	encoding_converter_free(c);
}

/* The real files. */
#define DAEGU "/work/shared/data/daegu"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct stat st;
	assert_int_equal(fstat(fileno(f), &st), 0);
	char *p = malloc((size_t)st.st_size + 1);
	*len = fread(p, 1, (size_t)st.st_size, f);
	fclose(f);
	assert_int_equal(*len, (size_t)st.st_size);
	return p;
}

static void real_file(const char *file, const char *want, const char *needle)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", DAEGU, file);
	size_t n;
	char *p = slurp(path, &n);
	if (!p)
		fail_msg("cannot read %s", path);
	char name[ENCODING_NAME_MAX];
	struct error e = { { 0 } };
	if (encoding_detect(p, n < ENCODING_SAMPLE_BYTES ? n : ENCODING_SAMPLE_BYTES, name, &e))
		fail_msg("%s: %s", file, e.msg);
	assert_string_equal(name, want);

	/* In 64 KiB pieces, as an importer reads, and in 4093-byte ones
	 * (cutting characters): the same output as glibc's own conversion of
	 * the whole file, less a leading BOM. */
	size_t *cuts = malloc((n / 4093 + 1) * sizeof *cuts), nc = 0;
	for (size_t at = 65536; at < n; at += 65536)
		cuts[nc++] = at;
	struct buf out, out2;
	if (conv_cuts(name, p, n, cuts, nc, &out))
		fail_msg("%s: %s", file, out.data);
	assert_non_null(strstr(out.data, needle));
	nc = 0;
	for (size_t at = 4093; at < n; at += 4093)
		cuts[nc++] = at;
	assert_int_equal(conv_cuts(name, p, n, cuts, nc, &out2), 0);
	assert_int_equal(out2.len, out.len);
	assert_memory_equal(out2.data, out.data, out.len);

	iconv_t cd = iconv_open("UTF-8", name);
	assert_true(cd != (iconv_t)-1);
	size_t inl = n, cap = n * 2 + 16, outl = cap;
	char *ref = malloc(cap), *ip = p, *op = ref;
	assert_true(iconv(cd, &ip, &inl, &op, &outl) != (size_t)-1);
	iconv_close(cd);
	size_t skip = op - ref >= 3 && memcmp(ref, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
	assert_int_equal(out.len, (size_t)(op - ref) - skip);
	assert_memory_equal(out.data, ref + skip, out.len);
	print_message("  %s: %s, %zu bytes -> %zu bytes of UTF-8\n", file, name, n, out.len);
	buf_free(&out2);
	buf_free(&out);
	free(ref);
	free(cuts);
	free(p);
}

static void test_real_files(void **state)
{
	(void)state;
	struct stat st;
	if (stat(DAEGU, &st) != 0) {
		print_message("  skipped: %s is not there\n", DAEGU);
		skip();
	}
	real_file("대구 CCTV 정보.csv", "CP949", "위도");
	real_file("대구 어린이 보호 구역 정보.csv", "CP949", "초등학교");
	real_file("대구 주차장 정보.csv", "CP949", "주차장");
	real_file("test.csv", "UTF-8", "ID,");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_detect_bom),
		cmocka_unit_test(test_detect_utf8),
		cmocka_unit_test(test_detect_failures),
		cmocka_unit_test(test_detect_korean_csv),
		cmocka_unit_test(test_detect_latin),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_euc_kr_reads_cp949),
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_bom_only_first),
		cmocka_unit_test(test_invalid_offsets),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_windows_1252),
		cmocka_unit_test(test_receiver_and_limits),
		cmocka_unit_test(test_utf8_zero_copy),
		cmocka_unit_test(test_real_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
