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

/* ---- whole buffers, 16 or 32 bytes at a time ----
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

static bool utf8_no_avx2;   /* tests: the SSSE3 way even where AVX2 runs */

bool utf8_test_no_avx2(bool off)
{
	bool old = utf8_no_avx2;
	utf8_no_avx2 = off;
	return old;
}

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

/* The three nibble tables: the first byte's high nibble, its low nibble,
 * the second byte's high nibble. */
static const unsigned char u8_t1[16] = {
	U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG, U8_TOO_LONG,
	U8_TOO_LONG, U8_TOO_LONG, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS, U8_TWO_CONTS,
	U8_TOO_SHORT | U8_OVERLONG_2, U8_TOO_SHORT,
	U8_TOO_SHORT | U8_OVERLONG_3 | U8_SURROGATE,
	U8_TOO_SHORT | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_OVERLONG_4,
};
static const unsigned char u8_t2[16] = {
	U8_CARRY | U8_OVERLONG_3 | U8_OVERLONG_2 | U8_OVERLONG_4, U8_CARRY | U8_OVERLONG_2,
	U8_CARRY, U8_CARRY, U8_CARRY | U8_TOO_LARGE,
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000 | U8_SURROGATE,
	U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000, U8_CARRY | U8_TOO_LARGE | U8_TOO_LARGE_1000,
};
static const unsigned char u8_t3[16] = {
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
	U8_TOO_SHORT, U8_TOO_SHORT,
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE_1000 |
		U8_OVERLONG_4,
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_OVERLONG_3 | U8_TOO_LARGE,
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
	U8_TOO_LONG | U8_OVERLONG_2 | U8_TWO_CONTS | U8_SURROGATE | U8_TOO_LARGE,
	U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT, U8_TOO_SHORT,
};
/* A block's last three bytes: a lead byte there wants continuations past
 * the block (the other positions' limits let every byte through). */
static const unsigned char u8_open[16] = {
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xF0 - 1, 0xE0 - 1, 0xC0 - 1,
};

__attribute__((target("ssse3"))) static __m128i u8_pair_errors(__m128i cur, __m128i prev)
{
	const __m128i nib = _mm_set1_epi8(0x0F);
	__m128i prev1 = _mm_alignr_epi8(cur, prev, 15);
	__m128i a = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)u8_t1),
				     _mm_and_si128(_mm_srli_epi16(prev1, 4), nib));
	__m128i b = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)u8_t2),
				     _mm_and_si128(prev1, nib));
	__m128i c = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)u8_t3),
				     _mm_and_si128(_mm_srli_epi16(cur, 4), nib));
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
	return _mm_subs_epu8(cur, _mm_loadu_si128((const __m128i *)(const void *)u8_open));
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

/* The same, 32 bytes at a time.  AVX2's byte shifts stay inside each
 * 16-byte lane, so "the bytes before" come from a vector whose low lane is
 * the previous block's high lane and whose high lane is this block's low
 * lane. */
#define U8_AVX2 __attribute__((target("avx2")))

U8_AVX2 static __m256i u8_table(const unsigned char t[16])
{
	return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)t));
}

U8_AVX2 static __m256i u8_pair_errors_avx2(__m256i cur, __m256i prev)
{
	const __m256i nib = _mm256_set1_epi8(0x0F);
	__m256i before = _mm256_permute2x128_si256(prev, cur, 0x21);
	__m256i prev1 = _mm256_alignr_epi8(cur, before, 15);
	__m256i a = _mm256_shuffle_epi8(u8_table(u8_t1), _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nib));
	__m256i b = _mm256_shuffle_epi8(u8_table(u8_t2), _mm256_and_si256(prev1, nib));
	__m256i c = _mm256_shuffle_epi8(u8_table(u8_t3), _mm256_and_si256(_mm256_srli_epi16(cur, 4), nib));
	__m256i special = _mm256_and_si256(_mm256_and_si256(a, b), c);
	__m256i prev2 = _mm256_alignr_epi8(cur, before, 14), prev3 = _mm256_alignr_epi8(cur, before, 13);
	__m256i third = _mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xE0 - 0x80)));
	__m256i fourth = _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xF0 - 0x80)));
	__m256i want = _mm256_and_si256(_mm256_or_si256(third, fourth), _mm256_set1_epi8((char)0x80));
	return _mm256_xor_si256(want, special);
}

U8_AVX2 static bool utf8_valid_avx2(const unsigned char *s, size_t n)
{
	/* Only the high lane's last three bytes can leave a sequence open. */
	const __m256i open = _mm256_setr_m128i(_mm_set1_epi8((char)0xFF),
					       _mm_loadu_si128((const __m128i *)(const void *)u8_open));
	__m256i prev = _mm256_setzero_si256(), err = _mm256_setzero_si256(),
		incomplete = _mm256_setzero_si256();
	size_t i = 0;
	unsigned char last[32];
	while (i < n) {
		__m256i cur;
		if (i + 32 <= n) {
			cur = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
		} else {   /* the tail, padded with ASCII (which ends nothing) */
			memset(last, 0, sizeof last);
			memcpy(last, s + i, n - i);
			cur = _mm256_loadu_si256((const __m256i *)(const void *)last);
		}
		if (_mm256_movemask_epi8(cur) == 0) {
			err = _mm256_or_si256(err, incomplete);
		} else {
			err = _mm256_or_si256(err, u8_pair_errors_avx2(cur, prev));
			incomplete = _mm256_subs_epu8(cur, open);
		}
		prev = cur;
		i += 32;
	}
	err = _mm256_or_si256(err, incomplete);
	return _mm256_testz_si256(err, err);
}
#endif

bool utf8_valid_n(const char *s, size_t n)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (__builtin_cpu_supports("avx2") && !utf8_no_avx2)
		return utf8_valid_avx2((const unsigned char *)s, n);
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
