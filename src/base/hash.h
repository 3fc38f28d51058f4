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

static inline uint64_t hash_bytes(const void *data, size_t n)
{
	const unsigned char *s = data;
	uint64_t h = hash_mum(0x9E3779B97F4A7C15ull ^ n, 0xA0761D6478BD642Full);
	while (n >= 8) {
		uint64_t w;
		memcpy(&w, s, 8);
		h = hash_mum(h ^ w, 0xE7037ED1A0B428DBull);
		s += 8;
		n -= 8;
	}
	uint64_t w = 0;
	memcpy(&w, s, n);
	h = hash_mum(h ^ w ^ 0x8EBC6AF09C88C6E3ull, 0x589965CC75374CC3ull);
	return h ? h : 1;
}

/* For integer keys (the same value always hashes the same). */
static inline uint64_t hash_u64(uint64_t k)
{
	uint64_t h = hash_mum(k ^ 0x9E3779B97F4A7C15ull, 0xE7037ED1A0B428DBull);
	return h ? h : 1;
}

#endif
