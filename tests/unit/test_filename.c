/*
 * Upload filenames (files/filename.h): the display name (paths, controls,
 * bidi tricks, invalid UTF-8, trimming, the 255-byte cap that keeps
 * Korean and emoji whole and the extension on), the storage name that
 * blob_key_valid() takes as a segment, and the Content-Disposition header
 * with its ASCII fallback and RFC 5987 filename*, which no CR or LF gets
 * into.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "blob/blob.h"
#include "files/filename.h"

#define HAN "\xed\x95\x9c"                /* 한, 3 bytes */
#define GRINNING "\xf0\x9f\x98\x80"       /* 😀, 4 bytes */
#define FAMILY "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7"

/* What every display name must be, whatever went in. */
static void check_display(const char *out)
{
	size_t n = strlen(out);
	assert_true(n >= 1 && n <= FILENAME_DISPLAY_MAX);
	assert_true(utf8_valid(out));
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		assert_true(*p >= 0x20 && *p != 0x7f && *p != '/' && *p != '\\');
	assert_false(out[0] == ' ' || out[0] == '.' || out[n - 1] == ' ' || out[n - 1] == '.');
	char again[FILENAME_DISPLAY_MAX + 1];
	filename_display(out, again, sizeof again);
	assert_string_equal(again, out);   /* cleaning twice changes nothing */
}

static void display_is(const char *given, const char *want)
{
	char out[FILENAME_DISPLAY_MAX + 1];
	memset(out, 'X', sizeof out);
	filename_display(given, out, sizeof out);
	if (strcmp(out, want) != 0)
		fail_msg("display(\"%s\"): got \"%s\", want \"%s\"", given, out, want);
	check_display(out);
}

static void test_display(void **state)
{
	(void)state;
	display_is("report.csv", "report.csv");
	display_is("../../etc/passwd", "passwd");
	display_is("a/b", "b");
	display_is("C:\\x", "x");
	display_is("C:\\x\\report.csv", "report.csv");
	display_is("\\\\server\\share\\q.txt", "q.txt");
	display_is("dir/", "file");
	display_is("..", "file");
	display_is(".", "file");
	display_is("", "file");
	display_is("   ", "file");
	display_is(" . . ", "file");
	display_is(".bashrc", "bashrc");
	display_is("  name with spaces.txt  ", "name with spaces.txt");
	display_is("trailing dots...", "trailing dots");
	display_is("a\tb\x01\x1f\x7f" "c.txt", "abc.txt");
	display_is("line\r\nbreak.txt", "linebreak.txt");
	display_is("x\r\nContent-Type: text/html", "html");
	display_is("c1\xc2\x80\xc2\x9f" "end\xc2\xa0.txt", "c1end\xc2\xa0.txt");   /* NBSP stays */
	display_is("evil\xe2\x80\xae" "txt.exe", "eviltxt.exe");                    /* RLO */
	display_is("a\xe2\x81\xa6" "b\xe2\x81\xa9" "c\xe2\x80\x8f" "d\xd8\x9c" "e\xe2\x80\xa8.txt",
		   "abcde.txt");
	display_is(HAN "\xea\xb8\x80 " GRINNING ".txt", HAN "\xea\xb8\x80 " GRINNING ".txt");
	display_is(FAMILY ".png", FAMILY ".png");   /* ZWJ is not a control */
	/* Invalid UTF-8: one U+FFFD per byte. */
	display_is("caf\xe9.txt", "caf\xef\xbf\xbd.txt");
	display_is("\xc0\xaf" "x", "\xef\xbf\xbd\xef\xbf\xbd" "x");
	display_is("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	display_is("\xff/ok", "ok");
	display_is("x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd");   /* cut-short sequence */
}

/* s repeated count times, then tail, into out (big enough). */
static void repeat(char *out, const char *s, int count, const char *tail)
{
	size_t n = strlen(s), len = 0;
	for (int i = 0; i < count; i++, len += n)
		memcpy(out + len, s, n);
	memcpy(out + len, tail, strlen(tail) + 1);
}

static void test_display_length(void **state)
{
	(void)state;
	char given[2048], out[FILENAME_DISPLAY_MAX + 1];

	/* 300 bytes of 한 (100 characters) + ".txt": cut to whole characters,
	 * extension kept: 83 characters (249 bytes) + ".txt" = 253 bytes. */
	repeat(given, HAN, 100, ".txt");
	filename_display(given, out, sizeof out);
	check_display(out);
	assert_int_equal(strlen(out), 253);
	assert_memory_equal(out, given, 249);
	assert_string_equal(out + 249, ".txt");

	/* Without an extension: 85 characters, 255 bytes exactly. */
	given[300] = '\0';
	filename_display(given, out, sizeof out);
	check_display(out);
	assert_int_equal(strlen(out), 255);

	/* Emoji, 4 bytes each, never split: 251 bytes are left beside ".csv",
	 * room for 62 of them. */
	repeat(given, GRINNING, 80, ".csv");
	filename_display(given, out, sizeof out);
	check_display(out);
	assert_int_equal(strlen(out), 62 * 4 + 4);
	assert_string_equal(out + 248, ".csv");

	/* An extension longer than 16 bytes is not one. */
	memset(given, 'a', 300);
	memcpy(given + 270, ".abcdefghijklmnopq", 18);
	given[288] = '\0';
	filename_display(given, out, sizeof out);
	check_display(out);
	assert_int_equal(strlen(out), 255);
	assert_null(strchr(out, '.'));
	memcpy(given + 270, ".abcdefghijklmnop", 17);   /* 16 after the dot: kept */
	given[287] = '\0';
	filename_display(given, out, sizeof out);
	assert_int_equal(strlen(out), 255);
	assert_string_equal(out + 255 - 17, ".abcdefghijklmnop");

	/* A cut that lands after a space or dot trims it. */
	memset(given, 'b', 300);
	given[253] = ' ';
	given[254] = '.';
	given[300] = '\0';
	filename_display(given, out, sizeof out);
	check_display(out);
	assert_int_equal(strlen(out), 253);

	/* A small cap lowers the limit and still never cuts a character. */
	char small[8];
	filename_display(HAN HAN HAN, small, sizeof small);
	assert_string_equal(small, HAN HAN);
	filename_display(HAN HAN ".txt", small, 6);
	assert_string_equal(small, HAN);
	filename_display(HAN HAN HAN ".txt", small, sizeof small);
	assert_string_equal(small, HAN ".txt");
	filename_display("", small, 3);
	assert_string_equal(small, "fi");
	filename_display("abc", small, 1);
	assert_string_equal(small, "");
	small[0] = 'Z';
	filename_display("abc", small, 0);
	assert_int_equal(small[0], 'Z');
}

static void storage_is(const char *display, const char *want)
{
	char out[FILENAME_STORAGE_MAX + 1];
	filename_storage(display, out, sizeof out);
	if (strcmp(out, want) != 0)
		fail_msg("storage(\"%s\"): got \"%s\", want \"%s\"", display, out, want);
	assert_true(blob_key_valid(out));
	assert_true(strlen(out) <= FILENAME_STORAGE_MAX);
}

static void test_storage(void **state)
{
	(void)state;
	storage_is("report.csv", "report.csv");
	storage_is("Report-2024_v2.final.CSV", "Report-2024_v2.final.CSV");
	storage_is("my report (1).csv", "my_report_1_.csv");
	storage_is(HAN "\xea\xb8\x80.txt", "_.txt");
	storage_is("\xeb\xb3\xb4\xea\xb3\xa0\xec\x84\x9c (1).csv", "_1_.csv");
	storage_is(GRINNING, "_");
	storage_is("a__b", "a_b");
	storage_is("a/b\\c", "a_b_c");
	storage_is(".bashrc", "bashrc");
	storage_is("..", "file");
	storage_is(".", "file");
	storage_is("...", "file");
	storage_is("", "file");
	storage_is("._x", "_x");
	storage_is("a\r\nb", "a_b");
	storage_is("\xff\xfe.bin", "_.bin");
	storage_is("x.", "x.");

	/* Long names keep their extension, all ASCII, 100 bytes. */
	char given[1024], out[FILENAME_STORAGE_MAX + 1];
	memset(given, 'n', 150);
	memcpy(given + 150, ".tar.gz", 8);
	filename_storage(given, out, sizeof out);
	assert_int_equal(strlen(out), 100);
	assert_string_equal(out + 97, ".gz");
	assert_true(blob_key_valid(out));
	repeat(given, HAN "a", 100, ".xlsx");
	filename_storage(given, out, sizeof out);
	assert_int_equal(strlen(out), 100);
	assert_string_equal(out + 95, ".xlsx");
	assert_memory_equal(out, "_a_a_a", 6);
	/* A small cap. */
	char small[6];
	filename_storage("abcdefgh.c", small, sizeof small);
	assert_string_equal(small, "abc.c");
	filename_storage("...", small, 3);
	assert_string_equal(small, "fi");
}

static void cd_is(const char *name, const char *type, const char *want)
{
	char out[CONTENT_DISPOSITION_MAX + 1];
	content_disposition(name, type, out, sizeof out);
	if (strcmp(out, want) != 0)
		fail_msg("content_disposition(\"%s\"): got [%s], want [%s]", name, out, want);
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

static void test_content_disposition(void **state)
{
	(void)state;
	cd_is("report.csv", NULL, "attachment; filename=\"report.csv\"");
	cd_is("report.csv", "inline", "inline; filename=\"report.csv\"");
	cd_is("report.csv", "bad type", "attachment; filename=\"report.csv\"");
	cd_is("report.csv", "x\r\nSet-Cookie: a=b", "attachment; filename=\"report.csv\"");
	cd_is("report.csv", "", "attachment; filename=\"report.csv\"");
	cd_is("../../etc/passwd", "attachment", "attachment; filename=\"passwd\"");
	cd_is(HAN "\xea\xb8\x80 " GRINNING ".txt", NULL,
	      "attachment; filename=\"__ _.txt\"; "
	      "filename*=UTF-8''%ED%95%9C%EA%B8%80%20%F0%9F%98%80.txt");
	cd_is("say \"hi\" 100%.txt", NULL,
	      "attachment; filename=\"say _hi_ 100_.txt\"; "
	      "filename*=UTF-8''say%20%22hi%22%20100%25.txt");
	cd_is("dir\\x.txt", NULL, "attachment; filename=\"x.txt\"");
	/* CR/LF never reaches the header: controls are gone before encoding. */
	cd_is("a\r\nSet-Cookie: x=y\r\n\r\n<script>.html", NULL,
	      "attachment; filename=\"aSet-Cookie: x=y<script>.html\"");
	cd_is("a%0D%0Ab.txt", NULL,
	      "attachment; filename=\"a_0D_0Ab.txt\"; filename*=UTF-8''a%250D%250Ab.txt");
	cd_is("", NULL, "attachment; filename=\"file\"");
	cd_is("semi;colon,comma.txt", NULL, "attachment; filename=\"semi;colon,comma.txt\"");
	cd_is("caf\xe9", NULL, "attachment; filename=\"caf_\"; filename*=UTF-8''caf%EF%BF%BD");
	cd_is("!#$&+-.^_`|~", NULL, "attachment; filename=\"!#$&+-.^_`|~\"");

	/* The longest name fits CONTENT_DISPOSITION_MAX. */
	char name[1024], out[CONTENT_DISPOSITION_MAX + 1];
	memset(name, '%', 300);
	name[300] = '\0';
	content_disposition(name, "abcdefghijklmnopqrstuvwxyz012345", out, sizeof out);
	assert_int_equal(strlen(out), CONTENT_DISPOSITION_MAX);
	assert_non_null(strstr(out, "filename*=UTF-8''%25%25"));
	/* Too small a buffer: just the type, never half a value. */
	content_disposition("report.csv", NULL, out, 20);
	assert_string_equal(out, "attachment");
	content_disposition("report.csv", NULL, out, 5);
	assert_string_equal(out, "");
	static const char exact[] = "attachment; filename=\"report.csv\"";
	content_disposition("report.csv", NULL, out, sizeof exact);
	assert_string_equal(out, exact);
}

/* The three together on hostile names: every output keeps its promises. */
static void test_hostile_names(void **state)
{
	(void)state;
	static const char *names[] = {
		"../../etc/passwd", "..\\..\\windows\\system32\\cmd.exe", "/", "\\", "//",
		"a/../..", ".", "..", "...", " ", "   .   ", ".bashrc", "\r\n",
		"x\r\nSet-Cookie: a=b", "\x01\x02\x03", "\xc2\x85", "\xe2\x80\xae" "fdp.exe",
		"\xff\xfe\xfd", "\xef\xbb\xbf" "bom", "CON", "nul.txt", "name\"with\"quotes", "%00",
		"%2e%2e%2f", GRINNING GRINNING, FAMILY,
	};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char d[FILENAME_DISPLAY_MAX + 1], s[FILENAME_STORAGE_MAX + 1];
		char h[CONTENT_DISPOSITION_MAX + 1];
		filename_display(names[i], d, sizeof d);
		check_display(d);
		filename_storage(d, s, sizeof s);
		assert_true(blob_key_valid(s));
		filename_storage(names[i], s, sizeof s);
		assert_true(blob_key_valid(s));
		content_disposition(names[i], NULL, h, sizeof h);
		assert_int_equal(strncmp(h, "attachment; filename=\"", 22), 0);
		assert_null(strpbrk(h, "\r\n"));
		for (const unsigned char *p = (const unsigned char *)h; *p; p++)
			assert_true(*p >= 0x20 && *p < 0x7f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_display_length),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_content_disposition),
		cmocka_unit_test(test_hostile_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
