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

# ---- the two builds: ISA-L's CRC and zlib's (Makefile: ISAL, crc-alt) ----
# SYNCLOG_CRC_ALT is a build of the programs with the other CRC, made by
# `make test` whenever this machine can build both.

alt_build() {
	[ -n "${SYNCLOG_CRC_ALT:-}" ] ||
	    skip "ISA-L (libisal-dev) is not installed: there is only the zlib build"
	ALT=$SYNCLOG_CRC_ALT
}

@test "the two builds use different CRC code, and each computes zlib's CRC" {
	alt_build
	ok "$TTOOLS/crc32check" -i
	main=$output
	ok "$ALT/obj/t/crc32check" -i
	is "$(printf '%s\n' "$main" "$output" | sort | tr '\n' ' ')" "isa-l zlib "
	ok "$ALT/obj/t/crc32check"
}

@test "both builds write the same bytes for the same batches" {
	alt_build
	# Timestamps from the input, so that both logs hold the same records;
	# plain and compressed batches, and records of every size up to 100k.
	python3 -c '
import json, random
r = random.Random(40)
for i in range(4000):
    print(json.dumps({"timestamp": 1796662320000 + i, "key": "k%d" % (i % 37),
        "value": "x" * r.choice([0, 1, 50, 300, 5000, 100000])}))' >in.json
	ok logappend -J -s 1M A <in.json
	ok "$ALT/bin/logappend" -J -s 1M B <in.json
	ok logappend -z -J -s 1M Az <in.json
	ok "$ALT/bin/logappend" -z -J -s 1M Bz <in.json
	[ "$(ls A/*.log | wc -l)" -ge 3 ]
	is "$(cd A && ls *.log)" "$(cd B && ls *.log)"
	is "$(cd Az && ls *.log)" "$(cd Bz && ls *.log)"
	for f in A/*.log; do
		cmp "$f" "B/${f#A/}"
	done
	for f in Az/*.log; do
		cmp "$f" "Bz/${f#Az/}"
	done
}

@test "a log written by one build is read and appended to by the other" {
	alt_build
	seq 1 20000 | ok logappend -s 64K L
	seq 20001 40000 | ok "$ALT/bin/logappend" -s 64K L
	seq 40001 50000 | ok logappend -z L
	ok "$ALT/bin/logfsck" L
	ok logfsck L
	ok "$ALT/bin/logcat" L
	is "$(printf '%s\n' "$output" | sha256sum)" "$(seq 1 50000 | sha256sum)"
	ok logcat L
	is "$(printf '%s\n' "$output" | sha256sum)" "$(seq 1 50000 | sha256sum)"
	# Damage is damage to both: one flipped byte stops each reader at
	# the same batch with the same message.
	printf 'X' | dd of=L/00000000000000000000.log bs=1 seek=30000 \
	    conv=notrunc status=none
	fails 1 logcat L
	main_err=$stderr
	fails 1 "$ALT/bin/logcat" L
	is "${stderr#*logcat: }" "${main_err#*logcat: }"
}
