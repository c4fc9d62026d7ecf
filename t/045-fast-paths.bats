#!/usr/bin/env bats
# The performance fast paths (see bench/) keep the behaviour they shortcut.
load helpers

# ts_gap: the difference between the first two timestamps of log L.
ts_gap() {
	logcat -F '%T\n' L | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }'
}

@test "logappend reads the clock afresh for a record that arrives after a pause" {
	sh_ok '{ echo a; sleep 0.3; echo b; } | logappend L'
	gap=$(ts_gap)
	[ "$gap" -ge 250 ] || { echo "timestamps $gap ms apart" >&2; return 1; }
}

@test "logappend -x (one batch) reads the clock afresh after a pause too" {
	sh_ok '{ echo a; sleep 0.3; echo b; } | logappend -x 0 L'
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
