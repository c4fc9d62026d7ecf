#!/usr/bin/env bats
# logfsck: verification of batches, offsets, indexes and checkpoints;
# --repair, --salvage and --dump.
load helpers

seg0=L/00000000000000000000.log
idx0=L/00000000000000000000.index

# flip BYTE FILE: invert one bit of the byte at position BYTE.
flip() {
	python3 -c 'import sys
p, f = int(sys.argv[1]), sys.argv[2]
with open(f, "r+b") as h:
    h.seek(p); b = h.read(1); h.seek(p); h.write(bytes([b[0] ^ 0x10]))' "$1" "$2"
}

# three: a log L of three one-record batches of 84 bytes each.
three() {
	for i in 1 2 3; do echo rec$i | logappend L || return 1; done
}

@test "logfsck: --help, --version and usage errors" {
	ok logfsck --help
	is "${lines[0]}" "usage: logfsck [-d] [-r | -s] log | segment ..."
	is "${lines[1]}" "  -d, --dump     print every segment, batch and index"
	ok logfsck --version
	output_is "logfsck synclog $(sed -n 's/^#define SL_VERSION[^"]*"\(.*\)"/\1/p' "$BATS_TEST_DIRNAME/../lib/synclog.h")"
	expect 2 logfsck
	stderr_is "usage: logfsck [-d] [-r | -s] log | segment ..."
	expect 2 logfsck -x L
	fails 2 logfsck nolog
	stderr_is "logfsck: nolog: No such file or directory"
	mkdir notalog
	fails 2 logfsck notalog
	stderr_is "logfsck: notalog: not a synclog log (no settings file)"
	three
	fails 2 logfsck -r $seg0
	stderr_has "repair and salvage work on a log directory"
}

@test "logfsck: a clean log and a clean lone segment" {
	seq 1 5000 | logappend -s 16K L
	ok logfsck L
	[[ $output =~ ^L:\ [0-9]+\ segments,\ [0-9]+\ batches,\ 5000\ records:\ clean$ ]]
	ok logfsck $seg0
	[[ $output =~ ^$seg0:\ 1\ segment,\ [0-9]+\ batch(es)?,\ [0-9]+\ records:\ clean$ ]]
	ok logfsck --repair L
	[[ $output =~ clean$ ]]
	ok logfsck --salvage L
	[[ $output =~ clean$ ]]
	: | logappend E
	ok logfsck E
	output_is "E: 1 segment, 0 batches, 0 records: clean"
}

@test "logfsck: damage followed by valid data is reported with segment, byte and offset" {
	three
	flip $((62 + 56)) $seg0
	fails 1 logfsck L
	stderr_is "logfsck: L: 00000000000000000000.log: byte 62: offset 1: checksum mismatch, followed by valid data at byte 124"
	output_is "L: 1 segment, 2 batches, 2 records: 1 problem"
	# --repair does not touch it: that is salvage's job
	cp $seg0 damaged
	fails 1 logfsck -r L
	cmp damaged $seg0
	# every problem of every log is reported, the status is the worst
	seq 1 3 | logappend M
	expect 2 logfsck M L nolog
	is "$(printf '%s\n' "$stderr" | wc -l)" 2
	stderr_has "logfsck: nolog: No such file or directory"
	grep -q '^M: 1 segment, 1 batch, 3 records: clean$' <<<"$output"
}

@test "logfsck: a torn tail is reported; --repair truncates it" {
	three
	cp $seg0 whole
	for cut in 125 150 185; do
		cp whole $seg0
		truncate -s $cut $seg0
		fails 1 logfsck L
		stderr_has "logfsck: L: 00000000000000000000.log: byte 124: offset 2: incomplete tail (incomplete batch"
		# a repair reports what it found, and what it did
		expect 0 logfsck --repair L
		stderr_has "byte 124: offset 2: incomplete tail"
		output_is "L: 00000000000000000000.log: byte 124: offset 2: incomplete tail of $((cut - 124)) bytes truncated
L: 1 segment, 2 batches, 2 records: 1 problem, 1 repaired"
		is "$(stat -c %s $seg0)" 124
		ok logfsck L
	done
	# zeroes after the last batch
	head -c 4096 /dev/zero >> $seg0
	fails 1 logfsck L
	stderr_has "incomplete tail (bad batch header)"
	expect 0 logfsck -r L
	ok logcat L
	output_is "rec1
rec2"
}

@test "logfsck: a damaged end of a sealed segment is corruption, not a tail" {
	seq 1 2000 | logappend -s 4K L
	truncate -s -5 $seg0
	fails 1 logfsck L
	stderr_has "00000000000000000000.log: byte "
	stderr_has "the sealed segment is damaged to its end"
	fails 1 logfsck -r L
}

@test "logfsck --salvage: the damaged segment is set aside, its intact records keep their offsets" {
	seq 1 3000 | logappend -s 8K L
	ok logcat -F '%o %s\n' L
	printf '%s\n' "$output" > before
	flip 5000 $seg0
	cp $seg0 damaged
	fails 1 logfsck L
	expect 0 logfsck --salvage L
	stderr_has "checksum mismatch, followed by valid data"
	grep -q '^L: 00000000000000000000.log: byte [0-9]*: offset [0-9]*: offsets [0-9]* to [0-9]* lost$' <<<"$output"
	grep -q '^L: 00000000000000000000.log: set aside as 00000000000000000000.log.damaged; [0-9]* records in [0-9]* batches copied into a new 00000000000000000000.log$' <<<"$output"
	grep -q 'problems\?, [0-9]* repaired$' <<<"$output"
	# nothing was deleted: the damaged file is there, byte for byte
	cmp damaged $seg0.damaged
	ok logfsck L
	# the records left are the old ones minus exactly the lost offsets
	ok logcat -F '%o %s\n' L
	printf '%s\n' "$output" > after
	n=$(wc -l < after)
	[ "$n" -lt 3000 ] && [ "$n" -gt 2800 ]
	# every record after is the record before at the same offset
	grep -Fxf after before > same
	cmp same after
	# a writer appends after the salvaged log as before
	echo more | logappend -p L
	ok logseek L -1
	output_is 3000
	# a second salvage of another damage keeps the first copy
	flip 5000 $seg0
	expect 0 logfsck -s L
	[ -f $seg0.damaged.1 ]
	cmp damaged $seg0.damaged
}

@test "logfsck --salvage: damage in the last segment, under a writer's lock" {
	for i in $(seq 1 20); do echo rec$i | logappend L; done
	flip $((62 * 5 + 56)) $seg0
	fails 1 logappend L <<<"refused"
	expect 0 logfsck -s L
	grep -q ': offset 5: offset 5 lost$' <<<"$output"
	sh_ok 'echo after | logappend -p L'
	output_is 20
	ok logcat -c 6 L
	output_is "rec1
rec2
rec3
rec4
rec5
rec7"
}

@test "logfsck: stale, foreign, garbage, torn and missing indexes; --repair rebuilds them" {
	seq 1 20000 | logappend -s 64K L
	seq 1 20000 | logappend -s 64K -k key O
	idx1=$(ls L/*.index | sed -n 2p)
	cp $idx0 good0
	cp "$idx1" good1
	[ -s good0 ] && [ -s good1 ]
	# another log's index: its entries name bytes that hold no batch
	cp O/00000000000000000000.index $idx0
	fails 1 logfsck L
	stderr_has "00000000000000000000.index: byte "
	stderr_has "stale index: "
	# wrong timestamps: positions right, entry checksums redone, but the
	# time column lies: a seed too small, and the segment's own maxima
	reentry "$idx1" 'd[i+8:i+16] = bytes(8)'
	fails 1 logfsck L
	stderr_has "entries wrong (first: entry 0, seed too small)"
	reentry "$idx1" 'd[i+8:i+16] = bytes(8) if i else d[i+8:i+16]' good1
	fails 1 logfsck L
	stderr_has "entries wrong (first: entry 1, wrong timestamp)"
	# a flipped bit in an entry
	cp good1 "$idx1"
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as h:
    h.seek(9); b = h.read(1); h.seek(9); h.write(bytes([b[0] ^ 4]))' "$idx1"
	fails 1 logfsck L
	stderr_has "(first: entry 0, checksum mismatch)"
	# a torn index
	head -c 104 good0 > $idx0
	fails 1 logfsck L
	stderr_has "torn index: 4 bytes after the last whole entry"
	# a missing one
	rm "$idx1"
	fails 1 logfsck L
	stderr_has "$(basename "$idx1"): missing index"
	expect 0 logfsck --repair L
	stderr_has "missing index"
	grep -q "^L: 00000000000000000000.index: index rebuilt ([0-9]* entries)$" <<<"$output"
	grep -q "^L: $(basename "$idx1"): index rebuilt" <<<"$output"
	# the rebuilt indexes are the ones the writer made
	cmp good0 $idx0
	cmp good1 "$idx1"
	ok logfsck L
	# --repair leaves a good index alone
	cp -p $idx0 keep
	ok logfsck -r L
	[[ $output =~ clean$ ]]
	[ $idx0 -ef $idx0 ] && cmp keep $idx0
}

@test "logfsck: an index without its segment and leftover temporary files; --repair removes them" {
	seq 1 3000 | logappend -s 8K L
	cp $idx0 L/00000000000000999999.index
	echo junk > L/.00000000000000000000.log.new.12345
	echo junk > L/.00000000000000000000.index.new.12345
	echo mine > L/notes.txt
	fails 1 logfsck L
	stderr_has "00000000000000999999.index: index without a segment"
	stderr_has ".00000000000000000000.log.new.12345: leftover temporary file"
	stderr_has ".00000000000000000000.index.new.12345: leftover temporary file"
	expect 0 logfsck -r L
	grep -q '^L: 00000000000000999999.index: removed$' <<<"$output"
	[ ! -e L/00000000000000999999.index ]
	[ ! -e L/.00000000000000000000.log.new.12345 ]
	[ -e L/notes.txt ]
	ok logfsck L
}

@test "logfsck: offsets out of sequence across segments" {
	seq 1 3000 | logappend -s 8K L
	segs=($(ls L/*.log))
	# a copy of the first segment where the third one was: its offsets
	# go back
	cp "${segs[0]}" "${segs[2]}"
	fails 1 logfsck L
	stderr_has "$(basename "${segs[2]}"): byte 0: offset "
	stderr_has "offset out of sequence"
}

@test "logfsck: damaged or misplaced checkpoints are reported" {
	seq 1 10 | logappend L
	ok logcheckpoint -s 5 L good
	ok logcheckpoint -s 8 L bad
	printf 'garbage' > L/consumers/bad.ckpt
	fails 1 logfsck L
	stderr_has "logfsck: L: consumers/bad: "
	ok logcheckpoint -s 8 L bad
	ok logfsck L
}

@test "logfsck --dump: the physical layout, like kafka-dump-log" {
	three
	# values that deflate makes smaller
	a=$(printf 'a%.0s' $(seq 40))
	printf '%s\n' $a $a $a | logappend -z L
	ok logfsck --dump L
	lines=$(printf '%s\n' "$output" | sed 's/timestamp [0-9]*/timestamp T/g; s/crc [0-9a-f]*/crc C/')
	is "$(head -5 <<<"$lines")" "00000000000000000000.log: segment: $(stat -c %s $seg0) bytes, base offset 0
00000000000000000000.log: byte 0: offsets 0-0: count 1 length 62 payload 10 compression none crc C valid first-timestamp T max-timestamp T
00000000000000000000.log: byte 62: offsets 1-1: count 1 length 62 payload 10 compression none crc C valid first-timestamp T max-timestamp T
00000000000000000000.log: byte 124: offsets 2-2: count 1 length 62 payload 10 compression none crc C valid first-timestamp T max-timestamp T
00000000000000000000.log: byte 186: offsets 3-5: count 3 length $(($(stat -c %s $seg0) - 186)) payload 138 compression deflate crc C valid first-timestamp T max-timestamp T"
	grep -q '^00000000000000000000.index: index: 1 entries$' <<<"$output"
	grep -q '^00000000000000000000.index: entry 0: seed -9223372036854775808: offset 0 byte 0$' <<<"$output"
	grep -q '^L: 1 segment, 4 batches, 6 records: clean$' <<<"$output"
	# compression and a damaged batch show
	seq 1 2000 | logappend -z Z
	ok logfsck -d Z
	grep -q 'compression deflate' <<<"$output"
	flip 100 L/00000000000000000000.log
	expect 1 logfsck -d L
	grep -q '^00000000000000000000.log: byte 62: .* invalid ' <<<"$output"
	# index entries are listed
	seq 1 5000 | logappend -s 64K I
	ok logfsck -d I
	grep -q '^00000000000000000000.index: entry 1: max-timestamp [0-9]*: offset [0-9]* byte [0-9]*$' <<<"$output"
}

@test "logfsck: --repair waits for the writer's lock and the writer goes on after it" {
	seq 1 1000 | logappend L
	seg=$seg0
	size=$(stat -c %s $seg)
	printf 'garbage tail' >> $seg
	# hold the writer's lock while logfsck -r starts: it must wait
	exec 9< L/lock
	flock -x 9
	logfsck -r L > fsck.out 2> fsck.err &
	pid=$!
	sleep 0.3
	kill -0 $pid
	is "$(stat -c %s $seg)" $((size + 12))
	flock -u 9
	exec 9<&-
	wait $pid
	is "$(stat -c %s $seg)" "$size"
	sh_ok 'echo next | logappend -p L'
	output_is 1000
}

@test "logfsck: a writer that runs on after --repair replaced its index extends the new one" {
	mkfifo fifo
	logappend -s 1M L < fifo > /dev/null 2> writer.err &
	pid=$!
	exec 8> fifo
	seq 1 3000 | sed "s/^/before /" >&8
	for ((i = 0; i < 100; i++)); do
		[ "$(logseek L end 2>/dev/null)" = 3000 ] && break
		sleep 0.1
	done
	ok logseek L end
	output_is 3000
	# a torn active index: --repair renames a new one over it
	printf 'xy' >> $idx0
	expect 0 logfsck -r L
	grep -q "index rebuilt" <<<"$output"
	# the writer's next batches get their entries in the new index
	seq 1 3000 | sed "s/^/after /" >&8
	exec 8>&-
	wait $pid
	[ ! -s writer.err ]
	ok logseek L end
	output_is 6000
	ok logfsck -r L
	[[ $output =~ clean$ ]] && ! grep -q "index rebuilt" <<<"$output"
}
