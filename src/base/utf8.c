/* UTF-8 sequence checks; see utf8.h. */
#include "base/utf8.h"

#include <string.h>

size_t utf8_seqn(const char *str, size_t left)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;
	unsigned min;
	if (left == 0)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	unsigned cp = s[0] & (0x7fu >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

size_t utf8_seq(const char *s)
{
	/* A NUL ends the string and is not a continuation byte, so the
	 * check stops there before reading past it. */
	return utf8_seqn(s, 4);
}

size_t utf8_prefix(const char *s, size_t max)
{
	size_t used = 0;
	while (s[used]) {
		size_t n = utf8_seq(s + used);
		if (n == 0)
			n = 1;
		if (used + n > max)
			break;
		used += n;
	}
	return used;
}

bool utf8_valid(const char *s)
{
	while (*s) {
		size_t n = utf8_seq(s);
		if (!n)
			return false;
		s += n;
	}
	return true;
}

/* ---- whole buffers, 16 bytes at a time ----
 *
 * The classification of Keiser and Lemire ("Validating UTF-8 in less than
 * one instruction per byte", 2021): every error shows in some pair of
 * adjacent bytes, looked up by three nibbles (the first byte's high and
 * low, the second byte's high) in 16-entry tables with pshufb and ANDed;
 * a bit survives only where all three agree on an error.  The one error a
 * pair cannot show -- a continuation where a 3- or 4-byte sequence needs
 * one, or one too many -- is found by comparing "two continuations in a
 * row" with "the byte two or three back starts a long sequence".  Written
 * from the paper's description; no C library in Debian offers it (simdutf
 * is C++), and the byte-at-a-time check was the largest cost of reading
 * Korean text. */

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

enum {
	U8_TOO_SHORT = 1 << 0,    /* a lead byte, then no continuation */
	U8_TOO_LONG = 1 << 1,     /* ASCII, then a continuation */
	U8_OVERLONG_3 = 1 << 2,   /* E0 80..9F */
	U8_TOO_LARGE = 1 << 3,    /* past U+10FFFF */
	U8_SURROGATE = 1 << 4,    /* ED A0..BF */
	U8_OVERLONG_2 = 1 << 5,   /* C0, C1 */
	U8_TOO_LARGE_1000 = 1 << 6, /* F5..FF 80..8F */
	U8_OVERLONG_4 = 1 << 6,   /* F0 80..8F (shares the bit: told apart by byte 1) */
	U8_TWO_CONTS = 1 << 7,    /* a continuation, then another */
	U8_CARRY = U8_TOO_SHORT | U8_TOO_LONG | U8_TWO_CONTS,
};

__attribute__((target("ssse3"))) static __m128i u8_pair_errors(__m128i cur, __m128i prev)
{
	const __m128i nib = _mm_set1_epi8(0x0F);
	__m128i prev1 = _mm_alignr_epi8(cur, prev, 15);
	/* the first byte's high nibble */
	const __m128i t1 = _mm_setr_epi8(
		U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
		U8_TOO_LONG, U8_TOO_LONG, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS,
		U8_TOO_SHORT | U8_OVERLONG_2, U8_TOO_SHORT,
		U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
		U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4);
	/* the first byte's low nibble */
	const __m128i t2 = _mm_setr_epi8(
		U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4, U8_CARRY | U8_OVERLONG_2,
		U8_CARRY, U8_CARRY, U8_CARRY | U8_TOO_LARGE,
		U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
		U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
		U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
		U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
		U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_SURROGATE,
		U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000);
	/* the second byte's high nibble */
	const __m128i t3 = _mm_setr_epi8(
		U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
		U8_TOO_SHORT, U8_TOO_SHORT,
		U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE_1000 |
			U8_OVERLONG_4,
		U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE,
		U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
		U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
		U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT);
	__m128i a = _mm_shuffle_epi8(t1, _mm_and_si128(_mm_srli_epi16(prev1, 4), nib));
	__m128i b = _mm_shuffle_epi8(t2, _mm_and_si128(prev1, nib));
	__m128i c = _mm_shuffle_epi8(t3, _mm_and_si128(_mm_srli_epi16(cur, 4), nib));
	__m128i special = _mm_and_si128(_mm_and_si128(a, b), c);
	/* bytes 2 and 3 back: a 3- or 4-byte lead wants a continuation here */
	__m128i prev2 = _mm_alignr_epi8(cur, prev, 14), prev3 = _mm_alignr_epi8(cur, prev, 13);
	__m128i third = _mm_subs_epu8(prev2, _mm_set1_epi8((char)(0xE0 - 0x80)));
	__m128i fourth = _mm_subs_epu8(prev3, _mm_set1_epi8((char)(0xF0 - 0x80)));
	__m128i want = _mm_and_si128(_mm_or_si128(third, fourth), _mm_set1_epi8((char)0x80));
	return _mm_xor_si128(want, special);
}

/* Nonzero where the block ends inside a sequence (a lead byte in the last
 * three positions without room for its continuations). */
__attribute__((target("ssse3"))) static __m128i u8_incomplete(__m128i cur)
{
	const __m128i max = _mm_setr_epi8(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
					  (char)(0xF0 - 1), (char)(0xE0 - 1), (char)(0xC0 - 1));
	return _mm_subs_epu8(cur, max);
}

__attribute__((target("ssse3"))) static bool utf8_valid_ssse3(const unsigned char *s, size_t n)
{
	__m128i prev = _mm_setzero_si128(), err = _mm_setzero_si128(),
		incomplete = _mm_setzero_si128();
	size_t i = 0;
	unsigned char last[16];
	while (i < n) {
		__m128i cur;
		if (i + 16 <= n) {
			cur = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		} else {   /* the tail, padded with ASCII (which ends nothing) */
			memset(last, 0, sizeof last);
			memcpy(last, s + i, n - i);
			cur = _mm_loadu_si128((const __m128i *)(const void *)last);
		}
		if (_mm_movemask_epi8(cur) == 0) {
			/* ASCII: only a sequence left open by the last block is wrong */
			err = _mm_or_si128(err, incomplete);
		} else {
			err = _mm_or_si128(err, u8_pair_errors(cur, prev));
			incomplete = u8_incomplete(cur);
		}
		prev = cur;
		i += 16;
	}
	err = _mm_or_si128(err, incomplete);
	return _mm_movemask_epi8(_mm_cmpeq_epi8(err, _mm_setzero_si128())) == 0xFFFF;
}
#endif

bool utf8_valid_n(const char *s, size_t n)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (__builtin_cpu_supports("ssse3"))
		return utf8_valid_ssse3((const unsigned char *)s, n);
#endif
	for (size_t i = 0; i < n;) {
		size_t k = (unsigned char)s[i] < 0x80 ? 1 : utf8_seqn(s + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}
