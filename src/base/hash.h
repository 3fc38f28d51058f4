/*
 * A fast 64-bit hash of a byte string, for in-memory sets and sketches
 * (distinct counts during ingestion, HyperLogLog).  Not for anything an
 * attacker could aim at: it is not keyed.  Reads 8 bytes at a time and mixes
 * with 128-bit multiplies (the "mum" construction), so a 30-byte Korean
 * value costs a handful of instructions instead of 30 rounds of FNV.
 * Never returns 0, so callers may use 0 as "empty slot".
 */
#ifndef SHEAF_BASE_HASH_H
#define SHEAF_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hash_mum(uint64_t a, uint64_t b)
{
	__uint128_t r = (__uint128_t)a * b;
	return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* The last n % 8 bytes of a string of n bytes ending at end, as one word,
 * read without assembling it byte by byte in memory (a copy of a variable
 * length into a word stalls the load that follows it).  A string of 8 or
 * more bytes gives its last 8, overlapping what was hashed already. */
static inline uint64_t hash_tail(const unsigned char *end, size_t n)
{
	uint64_t w;
	if (n >= 8) {
		memcpy(&w, end - 8, 8);
		return w;
	}
	if (n >= 4) {
		uint32_t a, b;
		memcpy(&a, end - n, 4);
		memcpy(&b, end - 4, 4);
		return (uint64_t)a << 32 | b;
	}
	if (n)
		return (uint64_t)end[-(ptrdiff_t)n] << 16 | (uint64_t)end[-(ptrdiff_t)((n + 1) / 2)] << 8 |
		       end[-1];
	return 0;
}

static inline uint64_t hash_bytes(const void *data, size_t n)
{
	const unsigned char *s = data, *end = s + n;
	uint64_t h = hash_mum(0x9E3779B97F4A7C15ull ^ n, 0xA0761D6478BD642Full);
	for (size_t left = n; left > 8; left -= 8, s += 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = hash_mum(h ^ w, 0xE7037ED1A0B428DBull);
	}
	h = hash_mum(h ^ hash_tail(end, n) ^ 0x8EBC6AF09C88C6E3ull, 0x589965CC75374CC3ull);
	return h ? h : 1;
}

/* For integer keys (the same value always hashes the same). */
static inline uint64_t hash_u64(uint64_t k)
{
	uint64_t h = hash_mum(k ^ 0x9E3779B97F4A7C15ull, 0xE7037ED1A0B428DBull);
	return h ? h : 1;
}

#endif
