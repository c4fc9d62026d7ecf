#!/usr/bin/env bats
# The on-disk format: layout, checksums, torn tails versus corruption.
load helpers

seg0=L/00000000000000000000.log

# flip BYTE FILE: invert one bit of the byte at position BYTE.
flip() {
	python3 -c 'import sys
p, f = int(sys.argv[1]), sys.argv[2]
with open(f, "r+b") as h:
    h.seek(p); b = h.read(1); h.seek(p); h.write(bytes([b[0] ^ 0x10]))' "$1" "$2"
}

size() { stat -c %s "$1"; }

@test "a new log has settings, a lock, consumers/ and a first segment" {
	sh_ok 'echo a | logappend L'
	[ -f L/settings ] && [ -f L/lock ] && [ -d L/consumers ] && [ -f $seg0 ]
	grep -Eq '^id [0-9a-f]{32}$' L/settings
	grep -q '^segment-bytes 67108864$' L/settings
	grep -q '^max-record-bytes 16777216$' L/settings
}

@test "a settings file whose numbers are not plain digits is damaged" {
	echo a | logappend L
	for bad in 67108864x +67108864 ' ' 99999999999999999999; do
		sed "s/^segment-bytes .*/segment-bytes $bad/" L/settings >s
		cp -a L M
		cp s M/settings
		fails 1 logcat M
		stderr_is "logcat: M: damaged settings file"
		rm -rf M
	done
}

@test "a batch starts with the magic and version, little-endian" {
	sh_ok 'printf "x\n" | logappend L'
	is "$(head -c 5 $seg0 | od -An -tx1 | tr -d ' \n')" "53594c4702"
	# header 52 bytes + one record of 7: its length, offset gap, time,
	# key (none), value length, value, header count, a byte each
	is "$(size $seg0)" 59
}

@test "two logs get different ids" {
	sh_ok 'echo a | logappend A && echo a | logappend B'
	[ "$(grep ^id A/settings)" != "$(grep ^id B/settings)" ]
}

@test "a flipped bit in a middle batch stops the reader after the good records" {
	for i in 1 2 3; do sh_ok "echo rec$i | logappend L"; done
	# each batch is 62 bytes: flip a payload byte of the second one
	flip $((62 + 56)) $seg0
	fails 1 logcat L
	output_is rec1
	stderr_is "logcat: L: 00000000000000000000.log: byte 62: offset 1: checksum mismatch, followed by valid data at byte 124"
}

@test "a flipped bit in every byte of a middle batch is always caught" {
	for i in 1 2 3; do sh_ok "echo rec$i | logappend L"; done
	cp $seg0 orig
	for pos in $(seq 62 123); do
		cp orig $seg0
		flip $pos $seg0
		expect 1 logcat L
		output_is rec1
		stderr_has "byte 62: offset 1:"
	done
}

@test "a writer refuses to append after damage followed by valid data" {
	for i in 1 2 3; do sh_ok "echo rec$i | logappend L"; done
	flip 100 $seg0
	cp $seg0 before
	fails 1 logappend L <<<"more"
	stderr_has "byte 62: offset 1: checksum mismatch, followed by valid data at byte 124; refusing to write, run logfsck"
	cmp before $seg0
}

@test "a torn tail cut at every byte of the last batch reads as the end, and the next writer truncates it" {
	for i in 1 2 3; do sh_ok "echo rec$i | logappend L"; done
	cp $seg0 orig
	for cut in $(seq 124 185); do
		cp orig $seg0
		truncate -s $cut $seg0
		ok logcat L
		output_is "rec1
rec2"
		sh_ok 'echo new | logappend -p L'
		output_is 2
		ok logcat L
		output_is "rec1
rec2
new"
		is "$(size $seg0)" 185
	done
}

@test "a zero-filled tail is the end of the log and is truncated" {
	for i in 1 2; do sh_ok "echo rec$i | logappend L"; done
	head -c 4096 /dev/zero >> $seg0
	ok logcat L
	output_is "rec1
rec2"
	sh_ok 'echo rec3 | logappend -p L'
	output_is 2
	is "$(size $seg0)" 186
}

@test "a garbage tail is the end of the log and is truncated" {
	sh_ok 'echo rec1 | logappend L'
	printf 'SYLG garbage that is not a batch\001\002' >> $seg0
	ok logcat L
	output_is rec1
	sh_ok 'echo rec2 | logappend L'
	ok logcat L
	output_is "rec1
rec2"
}

@test "a damaged last batch in a sealed segment is corruption" {
	ok logappend -s 1K L < <(seq 1 300)
	ls L/*.log > segs
	[ "$(wc -l < segs)" -ge 2 ]
	first=$(head -1 segs)
	truncate -s -3 "$first"
	fails 1 logcat L
	stderr_has "00000000000000000000.log: byte "
}

@test "compressed batches read back and are smaller" {
	seq 1 20000 > in
	ok logappend -z Z < in
	ok logappend P < in
	sh_ok 'logcat Z | cmp - in'
	[ "$(size Z/00000000000000000000.log)" -lt "$(( $(size P/00000000000000000000.log) / 2 ))" ]
}

@test "a lone segment file can be read" {
	seq 1 5 | logappend L
	ok logcat $seg0
	output_is "$(seq 1 5)"
	cp $seg0 /tmp/synclog-lone-$$.log
	ok logcat /tmp/synclog-lone-$$.log
	rm -f /tmp/synclog-lone-$$.log
	output_is "$(seq 1 5)"
}

@test "segments are named by their first offset and rotate at the segment size" {
	seq 1 1000 | logappend -s 4K L
	n=$(ls L/*.log | wc -l)
	[ "$n" -ge 3 ]
	for f in L/*.log; do
		base=$(basename "$f" .log)
		first=$(logcat -F '%o\n' -c 1 "$f")
		is "$((10#$base))" "$first"
	done
	sh_ok 'logcat L | cmp - <(seq 1 1000)'
}

@test "an index that is stale or garbage is not trusted" {
	seq 1 50000 | logappend L
	[ -s L/00000000000000000000.index ]
	head -c 4096 /dev/urandom > L/00000000000000000000.index
	ok logcat -o 40000 -c 2 L
	output_is "40001
40002"
	: > L/00000000000000000000.index
	ok logcat -o 40000 -c 1 L
	output_is 40001
	sh_ok 'seq 50001 50010 | logappend L'
	sh_ok 'logcat L | cmp - <(seq 1 50010)'
}
