/*
 * bytes.h - the bottom layer, shared by every other: little-endian fields,
 * the varints and zigzag of the record encoding, and the CRC-32
 * (crc32.c).  It knows nothing of batches, files or formats.
 */
#ifndef SL_BYTES_H
#define SL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Little-endian field access. */
static inline uint32_t
sl_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static inline uint64_t
sl_get64(const unsigned char *p)
{
	return (uint64_t)sl_get32(p) | (uint64_t)sl_get32(p + 4) << 32;
}

static inline void
sl_put32(unsigned char *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static inline void
sl_put64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* One store: gcc makes 15 instructions of the two halves below. */
	memcpy(p, &v, sizeof v);
#else
	sl_put32(p, (uint32_t)v);
	sl_put32(p + 4, (uint32_t)(v >> 32));
#endif
}

/*
 * Varints, as the records of a batch hold their fields (synclog(5)): seven
 * bits a byte, least significant first, the top bit set on every byte but
 * the last.  sl_putv returns the byte after; sl_getv takes one that ends
 * before END, is at most 64 bits and has no needless zero byte at its end
 * (so that a value has one encoding), else -1.  Inline: a reader takes
 * six of them per record, and a one-byte varint should cost a compare.
 */
static inline size_t
sl_vlen(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline unsigned char *
sl_putv(unsigned char *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	*p++ = (unsigned char)v;
	return p;
}

static inline int
sl_getv(const unsigned char **pp, const unsigned char *end, uint64_t *v)
{
	const unsigned char *p = *pp;
	uint64_t x = 0;
	unsigned shift;

	if (p < end && *p < 0x80) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	for (shift = 0; p < end && shift <= 63; shift += 7) {
		unsigned c = *p++;

		if (shift == 63 && c > 1)
			return -1;
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			if (c == 0)
				return -1;
			*v = x;
			*pp = p;
			return 0;
		}
	}
	return -1;
}

/* A signed difference as an unsigned varint: 0, -1, 1, -2... -> 0, 1, 2,
 * 3...  Modulo 2^64 both ways, so every pair of times has one. */
static inline uint64_t
sl_zigzag(uint64_t d)
{
	return (d << 1) ^ (uint64_t)-(int64_t)(d >> 63);
}

static inline uint64_t
sl_unzigzag(uint64_t z)
{
	return (z >> 1) ^ (uint64_t)-(int64_t)(z & 1);
}

/* ---- crc32.c: zlib's CRC-32, computed by ISA-L when built with it --- */

/* Exactly crc32_z(CRC, P, N) of zlib (with ISA-L, 10-20x faster). */
uint32_t sl_crc32(uint32_t crc, const unsigned char *p, size_t n);
/* Which code computes it: "isa-l" or "zlib". */
extern const char sl_crc32_impl[];

#endif /* SL_BYTES_H */
