/*
 * crc32.c - the CRC-32 of zlib's crc32(), computed by Intel's ISA-L.
 * Every batch is checksummed once when written and once each time it is
 * read; with zlib's table-driven code (about 1.5 GB/s here) that was a
 * third of logappend's and half of logcat's time on 100-byte records.
 * ISA-L (Debian's libisal) picks a carry-less-multiply or AVX-512 routine
 * for the CPU at hand and runs at 10-30 GB/s.
 *
 * Invariant: sl_crc32(c, p, n) == crc32_z(c, p, n) of zlib for every
 * input: the on-disk format names zlib's CRC and nothing else.  ISA-L's
 * crc32_gzip_refl is that CRC (t/040-crc32.bats checks it against zlib).
 */
#include <isa-l/crc.h>

#include "internal.h"

uint32_t
sl_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	return crc32_gzip_refl(crc, p, n);
}
