/*
 * crc32check - compare sl_crc32 with zlib's crc32_z on every length from
 * 0 to 4200 bytes at every alignment 0-15, several starting values, and a
 * few large buffers; print the first difference and exit 1, else exit 0.
 * crc32check -i prints which code computes sl_crc32 ("isa-l" or "zlib").
 */
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "synclog.h"
#include "bytes.h"

int
main(int argc, char **argv)
{
	static const uint32_t starts[] = { 0, 1, 0xffffffff, 0x12345678 };
	static unsigned char buf[(3 << 20) + 64];
	size_t big = 3 << 20;
	uint32_t x = 2463534242u;

	if (argc == 2 && strcmp(argv[1], "-i") == 0)
		return puts(sl_crc32_impl) == EOF;

	for (size_t i = 0; i < big + 64; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	for (size_t s = 0; s < sizeof starts / sizeof starts[0]; s++)
		for (size_t a = 0; a < 16; a++)
			for (size_t n = 0; n <= 4200; n++)
				if (sl_crc32(starts[s], buf + a, n) !=
				    (uint32_t)crc32_z(starts[s], buf + a, n)) {
					printf("differs: start %x align %zu "
					    "length %zu\n", starts[s], a, n);
					return 1;
				}
	for (size_t n = big - 100; n <= big; n += 7)
		if (sl_crc32(0, buf + 3, n) != (uint32_t)crc32_z(0, buf + 3, n)) {
			printf("differs: length %zu\n", n);
			return 1;
		}
	/* Zero bytes: what preallocated space holds. */
	for (size_t i = 0; i < 4096; i++)
		buf[i] = 0;
	if (sl_crc32(0, buf, 4096) != (uint32_t)crc32_z(0, buf, 4096)) {
		printf("differs: zeros\n");
		return 1;
	}
	return 0;
}
