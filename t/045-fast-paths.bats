#!/usr/bin/env bats
# The performance fast paths (see bench/) keep the behaviour they shortcut.
load helpers

# ts_gap: the difference between the first two timestamps of log L.
ts_gap() {
	logcat -F '%T\n' L | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }'
}

# paused: print "a", wait until the reader of stdout has taken it from the
# pipe (a late start, under the sanitizers on a loaded machine, must not
# find both lines there at once), pause 0.3 s, print "b".
paused() {
	python3 -c 'import fcntl, os, struct, sys, termios, time
os.write(1, b"a\n")
end = time.monotonic() + 30
while struct.unpack("i", fcntl.ioctl(1, termios.FIONREAD, b"\0" * 4))[0]:
    if time.monotonic() > end:
        sys.exit("the line was never read")
    time.sleep(0.005)
time.sleep(0.3)
os.write(1, b"b\n")'
}

@test "logappend reads the clock afresh for a record that arrives after a pause" {
	paused | ok logappend L
	gap=$(ts_gap)
	[ "$gap" -ge 250 ] || { echo "timestamps $gap ms apart" >&2; return 1; }
}

@test "logappend -x (one batch) reads the clock afresh after a pause too" {
	paused | ok logappend -x 0 L
	gap=$(ts_gap)
	[ "$gap" -ge 250 ] || { echo "timestamps $gap ms apart" >&2; return 1; }
}

@test "records read back to back share a clock read but keep their order" {
	seq 1 100000 | ok logappend -N L
	run --separate-stderr bash -c "logcat -F '%T\n' L | sort -c -n && logcat -F '%T\n' L | wc -l"
	is "$status" 0
	is "$output" 100000
}

# same_records A B: logs A and B hold the same records but for their
# timestamps (offsets, keys, values, headers), and both check clean.
same_records() {
	ok logfsck "$1"
	ok logfsck "$2"
	sh_ok "cmp <(logcat -J $1 | jq -c 'del(.timestamp)') \
	    <(logcat -J $2 | jq -c 'del(.timestamp)')"
}

@test "plain lines take the bulk path and make the records the general one does" {
	require jq
	# Empty lines, every byte but the newline, lines around the bulk
	# path's limit (a quarter of a batch: 32 bytes with -s 1K) and far
	# past it, a last line without its newline.
	python3 -c 'import sys
out = sys.stdout.buffer
for i in range(3000):
    n = (i * 7919) % 300 if i % 5 else i % 40
    out.write(bytes((i + j) % 256 for j in range(n)).replace(b"\n", b"x") + b"\n")
out.write(b"\n\nlast")' > in
	ok logappend -s 1K A < in
	ok logappend -N B < in
	# -x keeps the whole input in one batch, which the bulk path does
	# not do: it parses records one by one.
	ok logappend -x 0 C < in
	same_records A C
	same_records B C
	sh_ok 'logcat A | cmp - <(cat in; echo)'
	# Other delimiters go the same way.
	tr '\n' '\0' < in > in0
	ok logappend -0 Z < in0
	ok logappend -0 -x 0 Y < in0
	same_records Z Y
}

@test "the bulk path counts records for a record too large after it" {
	{ seq 1 5000; head -c 300 /dev/zero | tr '\0' a; echo; seq 1 5; } > in
	fails 1 logappend -m 200 L < in
	stderr_is "logappend: stdin: line 5001: record exceeds the maximum record size of 200 bytes"
	sh_ok 'logcat L | cmp - <(seq 1 5000)'
}

@test "a file on stdin is read from its position, across windows, and left at its end" {
	# Lines of every length to 3000 bytes over 6 MB cross the 1 MiB
	# windows at every kind of place; one line of 3 MiB outgrows one.
	awk 'BEGIN { for (i = 0; i < 4000; i++) { s = sprintf("%d:", i)
	    while (length(s) < (i * 7919) % 3000) s = s "abcdefghij"
	    print s } }' > in
	head -c $((3 << 20)) /dev/zero | tr '\0' z >> in
	echo >> in
	seq 1 1000 >> in
	ok logappend -m 4M L < in
	sh_ok 'logcat L | cmp - in'
	# Bytes already read by someone else are not appended; what is
	# left is read to the end, and nothing is left for the next reader.
	printf 'skip\nkeep 1\nkeep 2\n' > f
	sh_ok '{ dd bs=5 count=1 status=none >/dev/null; logappend M; cat; } < f'
	output_is ""
	ok logcat M
	output_is "keep 1
keep 2"
	# An empty file appends nothing.
	: > empty
	ok logappend E < empty
	ok logcat E
	output_is ""
}

# $text FRAMES DELIM [KEYDELIM [FIRST [END]]]: the text format of FRAMES,
# made by records.py, independently of lib/ (a variable, for sh_ok).
text="python3 $BATS_TEST_DIRNAME/records.py text"

@test "logcat's text path prints every kind of record as the reference does" {
	require python3
	# Absent, empty and binary keys and values, headers; batches of
	# about 14 records in segments of 8, plain and deflated.
	python3 "$BATS_TEST_DIRNAME/records.py" random 45 3000 > f
	ok logappend -B -s 8K P < f
	ok logappend -B -z -s 8K Z < f
	[ "$(ls P/*.log | wc -l)" -ge 20 ]
	for L in P Z; do
		sh_ok "logcat $L | cmp - <($text f 0a)"
		sh_ok "logcat -K '\\t' -D '<>' $L | cmp - <($text f 3c3e 09)"
		sh_ok "logcat -0 $L | cmp - <($text f 00)"
		# The other formats take the library's loop too.
		sh_ok "logcat -B $L | cmp - f"
		sh_ok "logcat -F '%k|%s\\n' $L | cmp - <($text f 0a 7c)"
	done
	# Several logs print one after the other.
	sh_ok "logcat P Z | cmp - <($text f 0a; $text f 0a)"
}

@test "logcat's text path starts, ends and counts in the middle of a batch" {
	require python3
	python3 "$BATS_TEST_DIRNAME/records.py" random 46 3000 > f
	ok logappend -B -s 8K P < f
	for r in "1234 2345" "17 18" "0 1" "2999 3000" "1000 1000"; do
		set -- $r
		sh_ok "logcat -o $1 -o $2 P | cmp - <($text f 0a '' $1 $2)"
		sh_ok "logcat -F '%o\\n' -o $1 -o $2 P | cmp - <(seq $1 $(($2 - 1)))"
		sh_ok "logcat -c $(($2 - $1)) -o $1 P | cmp - <($text f 0a '' $1 $2)"
	done
	ok logcat -o 3000 P
	output_is ""
	ok logcat -c 0 P
	output_is ""
	# A count runs on into the next log and stops inside it.
	sh_ok "logcat -c 4000 P P | cmp - <($text f 0a; $text f 0a '' 0 1000)"
	sh_ok "logcat -o 2990 -c 15 P P | cmp - <($text f 0a '' 2990; $text f 0a '' 2990 2995)"
}

# bad_record LOG N: make the Nth record (from 0) of LOG's first batch
# malformed under a valid checksum: its header count says one header that
# is not there, as a writer's bug could.
bad_record() {
	python3 - "$1"/00000000000000000000.log "$2" <<'PY'
import sys, zlib
path, n = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, "rb").read())
def varint(pos):
    v = shift = 0
    while True:
        c = b[pos]; pos += 1
        v |= (c & 0x7f) << shift; shift += 7
        if c < 0x80:
            return v, pos
assert b[5] & 1 == 0, "deflated"
pos = 52
for _ in range(n):
    rl, pos = varint(pos)
    pos += rl
rl, start = varint(pos)
assert b[start + rl - 1] == 0, "the record has headers"
b[start + rl - 1] = 1
length = int.from_bytes(b[8:12], "little")
c = zlib.crc32(bytes(b[52:length]), zlib.crc32(bytes(b[:48])))
c = ((((c >> 15) | (c << 17)) & 0xffffffff) + 0xa282ead8) & 0xffffffff
b[48:52] = c.to_bytes(4, "little")
open(path, "wb").write(b)
PY
}

@test "a malformed record under a valid checksum: every path prints the records before it, then fails" {
	require python3
	seq 1 10 | logappend L
	ok bad_record L 4
	# The batch's byte and the offset the record would have.
	msg="logcat: L: 00000000000000000000.log: byte 0: offset 4: malformed record"
	fails 1 logcat L
	output_is "$(seq 1 4)"
	stderr_is "$msg"
	fails 1 logcat -F '%o:%s\n' L
	output_is "$(seq 1 4 | awk '{ print $1 - 1 ":" $1 }')"
	stderr_is "$msg"
	# The key filter goes through sl_reader_next.
	fails 1 logcat -k '' L
	output_is ""
	stderr_is "$msg"
	fails 1 logcat -o 2 -c 5 L
	output_is "$(seq 3 4)"
	stderr_is "$msg"
	# Stopping before it is no error.
	ok logcat -c 4 L
	output_is "$(seq 1 4)"
}

@test "logcat: an output error in the middle of a long log stops it (exit 2)" {
	[ -w /dev/full ] || skip "no /dev/full"
	seq 1 300000 | ok logappend L
	for opt in "" -J "-F %o"; do
		expect 2 bash -c "logcat $opt L > /dev/full"
		stderr_is "logcat: stdout: No space left on device"
	done
}
