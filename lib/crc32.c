/*
 * crc32.c - the CRC-32 of zlib's crc32(), computed faster where the CPU
 * allows.  Every batch is checksummed once when written and once each time
 * it is read, so on a log of 100-byte records the checksum is a third of
 * logappend's and half of logcat's work with zlib's table-driven code
 * (about 2 GB/s).  On x86-64 with PCLMULQDQ this folds the data 64 bytes
 * at a time with carry-less multiplication (10 GB/s here), and 256 bytes
 * at a time where AVX-512 has VPCLMULQDQ (30 GB/s and more).
 *
 * Invariant: sl_crc32(c, p, n) == crc32_z(c, p, n) for every input; the
 * on-disk format names zlib's CRC and nothing else.  Each fast path is
 * checked against zlib once per process before it is used, and anything
 * it does not handle (short buffers, the last 0-15 bytes, other CPUs)
 * goes to zlib itself.
 *
 * The folding, in the bit-reflected order of this CRC: a 16-byte block V
 * loaded little-endian stands for the polynomial whose x^127 coefficient is
 * bit 0 of its first byte, so its low 64 bits L and high 64 bits H give
 * V = L x^64 + H.  Moving V forward by D bits (to add it to the block D
 * bits later) is V x^D = L x^(64+D) + H x^D (mod P): two carry-less 64x32
 * multiplications by the constants x^(64+D) mod P and x^D mod P.  In this
 * order a carry-less product comes out multiplied by x once more, so the
 * constants used are x^(63+D) and x^(D-1) mod P, bit-reversed into 64
 * bits.  When the data is used up, the 16 bytes of the accumulator are a
 * message with the same remainder as everything folded so far, and zlib
 * finishes them.
 */
#include <stdint.h>
#include <string.h>
#include <zlib.h>

#include "internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define POLY	0x104c11db7ULL	/* CRC-32, x^32 + ... + 1, normal order */

/* Fold constants for 2048 bits (16 blocks), 512 (4) and 128 (1). */
static uint64_t k2048[2], k512[2], k128[2];
static int fast;		/* 1: the folding code is checked and used */
static int wide;		/* 1: and its AVX-512 loop too */

/* x^N mod P, then bit-reversed into a 64-bit lane (x^d at bit 63-d). */
static uint64_t
xpow(unsigned n)
{
	uint64_t r = 1, v = 0;

	while (n-- > 0) {
		r <<= 1;
		if (r & (1ULL << 32))
			r ^= POLY;
	}
	for (int d = 0; d < 32; d++)
		if (r & (1ULL << d))
			v |= 1ULL << (63 - d);
	return v;
}

/* V x^D mod P, not reduced below 128 bits; K holds the constants for D. */
__attribute__((target("pclmul,sse2")))
static inline __m128i
fold(__m128i v, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(v, k, 0x00),
	    _mm_clmulepi64_si128(v, k, 0x11));
}

/* The same four lanes at a time: four 128-bit folds per instruction. */
__attribute__((target("avx512f,vpclmulqdq")))
static inline __m512i
fold4(__m512i v, __m512i k)
{
	return _mm512_xor_si512(_mm512_clmulepi64_epi128(v, k, 0x00),
	    _mm512_clmulepi64_epi128(v, k, 0x11));
}

/*
 * The bulk of P[0, N), N at least 512, with AVX-512: four accumulators of
 * four blocks each, 256 bytes a round, then folded into one.  Leaves in
 * ACC what the 64-byte loop of crc_fold would hold at that point and
 * returns the number of bytes it took (a multiple of 256).
 */
__attribute__((target("avx512f,vpclmulqdq")))
static size_t
crc_wide(uint32_t crc, const unsigned char *p, size_t n, unsigned char *acc)
{
	const __m512i k16 = _mm512_broadcast_i32x4(
	    _mm_loadu_si128((const __m128i *)k2048));
	const __m512i k4 = _mm512_broadcast_i32x4(
	    _mm_loadu_si128((const __m128i *)k512));
	const unsigned char *start = p;
	__m512i z0, z1, z2, z3;

	z0 = _mm512_loadu_si512(p);
	z1 = _mm512_loadu_si512(p + 64);
	z2 = _mm512_loadu_si512(p + 128);
	z3 = _mm512_loadu_si512(p + 192);
	z0 = _mm512_xor_si512(z0, _mm512_inserti32x4(_mm512_setzero_si512(),
	    _mm_cvtsi32_si128((int)~crc), 0));
	p += 256;
	n -= 256;
	while (n >= 256) {
		z0 = _mm512_xor_si512(fold4(z0, k16), _mm512_loadu_si512(p));
		z1 = _mm512_xor_si512(fold4(z1, k16),
		    _mm512_loadu_si512(p + 64));
		z2 = _mm512_xor_si512(fold4(z2, k16),
		    _mm512_loadu_si512(p + 128));
		z3 = _mm512_xor_si512(fold4(z3, k16),
		    _mm512_loadu_si512(p + 192));
		p += 256;
		n -= 256;
	}
	z0 = _mm512_xor_si512(fold4(z0, k4), z1);
	z0 = _mm512_xor_si512(fold4(z0, k4), z2);
	z0 = _mm512_xor_si512(fold4(z0, k4), z3);
	_mm512_storeu_si512(acc, z0);
	return p - start;
}

/* CRC of P[0, N), N a multiple of 16 and at least 64. */
__attribute__((target("pclmul,sse2")))
static uint32_t
crc_fold(uint32_t crc, const unsigned char *p, size_t n, int usewide)
{
	const __m128i k4 = _mm_loadu_si128((const __m128i *)k512);
	const __m128i k1 = _mm_loadu_si128((const __m128i *)k128);
	__m128i x0, x1, x2, x3;
	unsigned char last[16], acc[64];
	size_t done;

	if (usewide && n >= 512) {
		done = crc_wide(crc, p, n, acc);
		p += done;
		n -= done;
	} else {
		memcpy(acc, p, 64);
		/* zlib's register starts as ~crc: the first 32 bits xored. */
		acc[0] ^= ~crc;
		acc[1] ^= ~crc >> 8;
		acc[2] ^= ~crc >> 16;
		acc[3] ^= ~crc >> 24;
		p += 64;
		n -= 64;
	}
	x0 = _mm_loadu_si128((const __m128i *)acc);
	x1 = _mm_loadu_si128((const __m128i *)(acc + 16));
	x2 = _mm_loadu_si128((const __m128i *)(acc + 32));
	x3 = _mm_loadu_si128((const __m128i *)(acc + 48));
	while (n >= 64) {
		x0 = _mm_xor_si128(fold(x0, k4),
		    _mm_loadu_si128((const __m128i *)p));
		x1 = _mm_xor_si128(fold(x1, k4),
		    _mm_loadu_si128((const __m128i *)(p + 16)));
		x2 = _mm_xor_si128(fold(x2, k4),
		    _mm_loadu_si128((const __m128i *)(p + 32)));
		x3 = _mm_xor_si128(fold(x3, k4),
		    _mm_loadu_si128((const __m128i *)(p + 48)));
		p += 64;
		n -= 64;
	}
	x0 = _mm_xor_si128(fold(x0, k1), x1);
	x0 = _mm_xor_si128(fold(x0, k1), x2);
	x0 = _mm_xor_si128(fold(x0, k1), x3);
	while (n >= 16) {
		x0 = _mm_xor_si128(fold(x0, k1),
		    _mm_loadu_si128((const __m128i *)p));
		p += 16;
		n -= 16;
	}
	/* A register of zero (zlib's ~0xffffffff) over the 16 bytes left. */
	_mm_storeu_si128((__m128i *)last, x0);
	return (uint32_t)crc32_z(0xffffffffUL, last, sizeof last);
}

/*
 * Decide once, at start-up (so no thread can race it): whether the CPU has
 * the instructions and the folding agrees with zlib.
 */
__attribute__((constructor))
static void
crc_init(void)
{
	unsigned char t[1000];

	uint32_t want;

	__builtin_cpu_init();
	if (!__builtin_cpu_supports("pclmul") || !__builtin_cpu_supports("sse2"))
		return;
	k2048[0] = xpow(64 + 2048 - 1);
	k2048[1] = xpow(2048 - 1);
	k512[0] = xpow(64 + 512 - 1);
	k512[1] = xpow(512 - 1);
	k128[0] = xpow(64 + 128 - 1);
	k128[1] = xpow(128 - 1);
	for (size_t i = 0; i < sizeof t; i++)
		t[i] = (unsigned char)(i * 131 + 7);
	/* 992 bytes: every loop of both paths runs. */
	want = (uint32_t)crc32_z(0x12345678, t, 992);
	fast = crc_fold(0x12345678, t, 992, 0) == want;
	wide = fast && __builtin_cpu_supports("avx512f") &&
	    __builtin_cpu_supports("vpclmulqdq") &&
	    crc_fold(0x12345678, t, 992, 1) == want;
}

uint32_t
sl_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	size_t bulk = n & ~(size_t)15;

	if (n < 64 || !fast)
		return (uint32_t)crc32_z(crc, p, n);
	crc = crc_fold(crc, p, bulk, wide);
	return (uint32_t)crc32_z(crc, p + bulk, n - bulk);
}

#else /* not x86-64 with GCC or Clang: zlib's own */

uint32_t
sl_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	return (uint32_t)crc32_z(crc, p, n);
}

#endif
