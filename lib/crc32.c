/*
 * crc32.c - the CRC-32 of zlib's crc32(), computed by Intel's ISA-L when
 * the build found it (SL_HAVE_ISAL, set by the Makefile), by zlib itself
 * otherwise.  Every batch is checksummed once when written and once each
 * time it is read; with zlib's table-driven code (about 1.5 GB/s here)
 * that was a third of logappend's and half of logcat's time on 100-byte
 * records.  ISA-L (Debian's libisal) picks a carry-less-multiply or
 * AVX-512 routine for the CPU at hand and runs at 10-30 GB/s.
 *
 * Invariant: sl_crc32(c, p, n) == crc32_z(c, p, n) of zlib for every
 * input, whichever build: the on-disk format names zlib's CRC and nothing
 * else, and a log written by one build is read by the other
 * (t/040-crc32.bats checks both).
 */
#include "synclog.h"
#include "bytes.h"

#ifdef SL_HAVE_ISAL
#include <isa-l/crc.h>

const char sl_crc32_impl[] = "isa-l";

uint32_t
sl_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	return crc32_gzip_refl(crc, p, n);
}
#else
#include <zlib.h>

const char sl_crc32_impl[] = "zlib";

uint32_t
sl_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
	return (uint32_t)crc32_z(crc, p, n);
}
#endif
