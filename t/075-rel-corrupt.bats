#!/usr/bin/env bats
# Corruption: every single-bit flip and every truncation of a sample
# multi-segment, multi-batch log (keys, headers, tombstones, compressed
# batches) is classified right (torn tail or corruption, reported with
# segment, byte position and offset, by readers and logfsck alike), no
# damaged record is ever returned; damaged or stale indexes change no
# answer; damaged or foreign checkpoints are refused.  The classification
# rules are stated atop t/tools/relflip.c.
load helpers
load tools/rel

F=$TTOOLS/relflip

teardown() {
	rel_cleanup
}

# sample DIR: a small log of three segments and a dozen batches of
# every kind, and a consumer checkpoint.
sample() {
	local i
	for i in 1 2 3 4 5 6 7 8; do
		printf 'key%d\tvalue %d %s\n' "$i" "$i" "$(printf '%*s' $((i * 40)) '' | tr ' ' v)" |
		    logappend -K '\t' -H "h$i=x" -s 1K "$1"
	done
	printf '{"key":"gone","value":null}\n{"value":"\\u0000\\u00ff"}\n' |
	    logappend -J "$1"
	seq 1 40 | logappend -z "$1"
	for i in 1 2 3; do
		printf 'tail record %d\n' "$i" | logappend "$1"
	done
	logcheckpoint -s 3 "$1" c
	[ "$(ls "$1"/*.log | wc -l)" -ge 3 ]
}

@test "corruption: every bit flip of a sample log is classified right" {
	rel_scratch
	sample "$REL_SCRATCH/L"
	ok "$F" -b -f "$(rel_step 3 1)" -s "$(rel_step 1 1)" "$REL_SCRATCH/L"
	rel_summary "$(rel_last_line)"
}

@test "corruption: every truncation of every segment is classified right" {
	rel_scratch
	sample "$REL_SCRATCH/L"
	ok "$F" -t -f "$(rel_step 1 1)" -s "$(rel_step 1 1)" "$REL_SCRATCH/L"
	rel_summary "$(rel_last_line)"
}

@test "corruption: every bit flip of a checkpoint is refused as damage" {
	rel_scratch
	sample "$REL_SCRATCH/L"
	ok "$F" -c c "$REL_SCRATCH/L"
	rel_summary "$(rel_last_line)"
}

@test "corruption: relflip notices a reader that returns a damaged record" {
	# The checker must be able to fail: a log whose batches all verify
	# but whose records differ from those it mapped cannot pass.
	seq 1 10 | logappend L
	expect 2 "$F" -b L/00000000000000000000.index
	expect 2 "$F" -b nosuchlog
	stderr_has "relflip: nosuchlog: no segments"
}

@test "corruption: the tools report a flipped bit with segment, position and offset" {
	sample L
	cp -a L orig
	local seg=L/00000000000000000000.log
	# A bit of the first batch's payload.
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(60); b = f.read(1)
f.seek(60); f.write(bytes([b[0] ^ 4]))' $seg
	fails 1 logcat L
	is "$output" ""
	# A sealed segment: anything but a clean end is corruption; the
	# one verdict names the valid data after it too.
	stderr_is "logcat: L: 00000000000000000000.log: byte 0: offset 0: checksum mismatch, followed by valid data at byte 115"
	fails 1 logfsck L
	stderr_has "L: 00000000000000000000.log: byte 0: offset 0: checksum mismatch"
	# A writer does not check sealed segments; readers stop there.
	ls L/*.log >segs
	[ "$(wc -l <segs)" -ge 3 ]
	ok logseek L end
	# Salvage sets the segment aside and names what was lost.
	expect 0 logfsck -s L
	ok logcat -F '%o\n' L
	[ "$(printf '%s\n' "$output" | head -n 1)" != 0 ]
	ls L/*.damaged* >/dev/null
	ok logfsck L
}

@test "corruption: damage in the last segment stops the writer, a torn tail does not" {
	sample L
	local last
	last=$(ls L/*.log | tail -n 1)
	cp "$last" lastseg
	# Damage followed by a valid batch: refused, nothing written.
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(70); b = f.read(1)
f.seek(70); f.write(bytes([b[0] ^ 1]))' "$last"
	cp "$last" damaged
	fails 1 logappend L <<<"x"
	stderr_has "refusing to write, run logfsck"
	cmp "$last" damaged
	# A torn tail: the writer truncates it and appends.
	cp lastseg "$last"
	truncate -s -7 "$last"
	n=$(logcat L | wc -l)
	sh_ok 'echo y | logappend -p L'
	output_is "$n"
	ok logfsck L
}

@test "corruption: every damaged index changes no seek and no time lookup" {
	rel_scratch
	local i
	for ((i = 0; i < 3000; i++)); do
		echo "record $i $((i * 7919 % 1000))"
	done >in
	logappend -s 32K "$REL_SCRATCH/L" <in
	ok "$F" -i -I -s "$(rel_step 1 1)" "$REL_SCRATCH/L"
	rel_summary "$(rel_last_line)"
}

@test "corruption: a flipped maximum timestamp in an index entry misleads time lookups" {
	rel_scratch
	seq 1 3000 | logappend -s 32K "$REL_SCRATCH/L"
	ok "$F" -i "$REL_SCRATCH/L"
}

@test "corruption: a stale index from before compaction changes no answer" {
	local i
	for ((i = 0; i < 4000; i++)); do
		printf 'k%d\tvalue %d\n' $((i * 7 % 1300)) "$i"
	done >in
	logappend -K '\t' -s 16K L <in
	ok logcat -F '%o %k %s\n' L
	printf '%s\n' "$output" >before
	cp L/*.index .
	ok logcompact -k L
	# Put the old indexes back over the compacted segments.
	for f in *.index; do
		[ ! -e "L/${f%.index}.log" ] || cp "$f" "L/$f"
	done
	ok logcat -F '%o %k %s\n' L
	printf '%s\n' "$output" >after
	[ "$(wc -l <after)" -lt "$(wc -l <before)" ]
	# Every record kept is the one that was there, and seeks agree.
	awk 'NR == FNR { had[$0]; next } !($0 in had) { exit 1 }' before after
	for o in $(awk 'NR % 61 == 1 { print $1 }' after); do
		ok logcat -F '%o %k %s\n' -o "$o" -c 1 L
		is "$output" "$(grep "^$o " after)"
	done
	# logfsck names each stale index; --repair rebuilds them.
	expect 1 logfsck L
	[ -n "$stderr" ]
	if grep -v 'index: byte [0-9]*: offset [0-9]*: stale index' <<<"$stderr"; then
		return 1
	fi
	expect 0 logfsck -r L
	ok logfsck L
}

@test "corruption: a checkpoint of another log, or beyond the end, is refused" {
	seq 1 100 | logappend A
	seq 1 10 | logappend B
	ok logcheckpoint -s 50 A c
	mkdir -p B/consumers
	cp A/consumers/c.ckpt B/consumers/
	fails 1 logcheckpoint B c
	stderr_has "checkpoint belongs to another log"
	fails 1 logcat -g c B
	stderr_has "checkpoint belongs to another log"
	# The same log id, but shorter: the checkpoint is past the end.
	rm -rf C
	mkdir C
	cp -a A/settings C/
	seq 1 10 | logappend C
	mkdir -p C/consumers
	cp A/consumers/c.ckpt C/consumers/
	fails 1 logcat -g c C
	stderr_has "beyond the end of the log"
	# A damaged checkpoint is an error, never a restart from 0.
	printf 'garbage' >B/consumers/c.ckpt
	fails 1 logcheckpoint B c
	fails 1 logcat -g c B
	is "$output" ""
}

@test "corruption: logseek end and logstat notice damage followed by data in the last segment" {
	for i in 1 2 3; do echo "rec$i" | logappend L; done
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1)
f.seek(100); f.write(bytes([b[0] ^ 1]))' L/00000000000000000000.log
	fails 1 logseek L end
	stderr_has "byte 62: offset 1: checksum mismatch"
	fails 1 logstat L
}
