/*
 * UTF-8 checks for text that came from clients (paths, headers) before it
 * is put into JSON or a log line.
 */
#ifndef SHEAF_BASE_UTF8_H
#define SHEAF_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence that starts at s, or 0 if the
 * bytes there are not one (s must be NUL-terminated). */
size_t utf8_seq(const char *s);

/* The same for bytes that are not NUL-terminated: left bytes may be read. */
size_t utf8_seqn(const char *s, size_t left);

/* The longest prefix of s, at most max bytes, that does not cut a UTF-8
 * sequence in half (invalid bytes count as one byte each). */
size_t utf8_prefix(const char *s, size_t max);

/* Whether the NUL-terminated s is valid UTF-8 throughout. */
bool utf8_valid(const char *s);

/* Whether the n bytes at s are valid UTF-8 throughout (NUL is valid; the
 * last sequence must be complete).  SSSE3 where the CPU has it: several
 * GB/s on Korean text. */
bool utf8_valid_n(const char *s, size_t n);
/* Test hook: with off, utf8_valid_n takes its 16-byte (SSSE3) way even on
 * a CPU with AVX2, so tests check both.  Returns the old setting. */
bool utf8_test_no_avx2(bool off);

#endif
