#!/usr/bin/env bats
# lib/crc32.c: ISA-L's CRC-32 must be zlib's, bit for bit, or no log
# written before it (or by another build) would verify.
load helpers

@test "sl_crc32 equals zlib's crc32_z for every length, alignment and start" {
	ok "$TTOOLS/crc32check"
}

@test "every batch of a log written with the fast CRC verifies with Python's zlib" {
	require python3
	seq 1 300000 | ok logappend -N log
	ok python3 -c '
import sys, zlib
data = open(sys.argv[1], "rb").read()
pos = n = 0
while pos < len(data):
    length = int.from_bytes(data[pos + 8:pos + 12], "little")
    b = data[pos:pos + length]
    c = zlib.crc32(b[52:], zlib.crc32(b[:48]))
    c = ((((c >> 15) | (c << 17)) & 0xffffffff) + 0xa282ead8) & 0xffffffff
    if c != int.from_bytes(b[48:52], "little"):
        sys.exit("batch at byte %d: checksum differs" % pos)
    pos += length
    n += 1
if n < 2:
    sys.exit("only %d batches" % n)
' log/00000000000000000000.log
}
