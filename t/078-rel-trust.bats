#!/usr/bin/env bats
# What a fault hunt across the tools found (issue 20), each a test that
# failed before its fix: offsets given out twice after compaction or
# salvage, symbolic links planted in a log followed, a segment deleted
# from the middle read as a gap, a writer appending after damage in its
# own segment, and files that are not logs read as empty ones.
load helpers

# seg N: the file name of segment N.
seg() {
	printf '%020d.log' "$1"
}

# offsets_once LOG: every offset logcat prints appears once, in order.
offsets_once() {
	ok logcat -F '%o\n' "$1"
	printf '%s\n' "$output" >offs
	sort -n -u offs | cmp - offs
}

# ---- 1. a durable offset is never given out twice ----------------------

# long_writer LOG: a logappend -p -K '|' that runs on, fed through the
# FIFO on descriptor 7 (bats keeps 3); its acknowledgements go to acks.
long_writer() {
	mkfifo in
	logappend -p -K '|' -s 1K "$1" <in >acks &
	LONG=$!
	exec 7>in
}

# ack N: wait until the long writer has acknowledged N records.
acked() {
	[ "$(grep -c . acks)" -ge "$1" ]
}
ack() {
	wait_until acked "$1"
}

# held LOG N: the log holds N records (whether or not their offsets were
# printed yet).
held() {
	[ "$(logcat -F '%o\n' "$1" 2>/dev/null | grep -c .)" -ge "$2" ]
}

# full_then_others N MIN: a long writer on L whose first record fills its
# segment, then N records of other writers, one a run, in the segments
# after it; segs: the log's segments, at least MIN of them.
full_then_others() {
	local i
	long_writer L
	printf 'a|%01200d\n' 0 >&7
	wait_until held L 1
	for i in $(seq 1 "$1"); do
		printf 'b|%0300d\n' "$i" | logappend -K '|' -s 1K L
	done
	segs=(L/*.log)
	[ "${#segs[@]}" -ge "$2" ]
}

@test "a writer that runs on never reuses offsets after compaction emptied segments (issue 20.1)" {
	long_writer L
	# Its first record fills its segment, which compaction leaves be.
	printf 'a|%01200d\n' 0 >&7
	wait_until held L 1
	# Other writers fill the next segments with records of one key, all
	# but the last superseded: compaction empties those segments.
	for i in $(seq 1 30); do
		printf 'k|%0300d\n' "$i" | logappend -K '|' -s 1K L
	done
	[ "$(ls L/*.log | wc -l)" -ge 8 ]
	ok logcompact -k L
	echo 'a|last' >&7
	exec 7>&-
	wait "$LONG"
	# Its record got an offset never given before, and every offset is
	# in the log once.
	last=$(sed -n 2p acks)
	[ "$last" -eq 31 ]
	ok logcat -o "$last" -c 1 L
	output_is last
	offsets_once L
	ok logfsck L
	ok logappend -p L <<<'k|after'
	output_is 32
}

@test "a writer that runs on never reuses offsets after salvage set a middle segment aside (issue 20.1)" {
	full_then_others 20 5
	# Segment 1 damaged through and through: salvage copies nothing.
	python3 -c 'import sys
p = sys.argv[1]; n = len(open(p, "rb").read())
open(p, "r+b").write(b"\xff" * n)' "${segs[1]}"
	expect 0 logfsck --salvage L
	echo 'a|last' >&7
	exec 7>&-
	wait "$LONG"
	last=$(sed -n 2p acks)
	[ "$last" -eq 21 ]
	ok logcat -o "$last" -c 1 L
	output_is last
	offsets_once L
	ok logfsck L
}

# ---- 9. an acknowledgement is printed as soon as its batch is durable ---

@test "logappend -p prints a full batch's offsets without waiting for more input (issue 20.9)" {
	long_writer L
	# A line that fills a batch on its own (2 MB, and one of 1K with
	# segments of 1K), then a pause in the input.
	{ printf 'a|'; head -c 2000000 /dev/zero | tr '\0' x; echo; } >&7
	ack 1
	printf 'b|%01200d\n' 0 >&7
	ack 2
	echo 'c|small' >&7
	ack 3
	exec 7>&-
	wait "$LONG"
	is "$(cat acks)" "$(seq 0 2)"
}

# ---- 2. a log directory is never a door --------------------------------

@test "symbolic links planted where log files belong are never followed (issue 20.2)" {
	seq 1 100 | ok logappend -s 1K L
	ok logcheckpoint -s 5 L c
	echo precious >target
	last=$(ls L/*.log | tail -n 1)
	# The active segment's index: the writer goes on without it.
	rm "${last%.log}.index"
	ln -s "$PWD/target" "${last%.log}.index"
	expect 0 logappend L <<<x
	stderr_has 'index: open: a symbolic link, not followed; appending without it'
	is "$(cat target)" precious
	# logfsck --repair replaces the link, not what it points to.
	expect 0 logfsck --repair L
	is "$(cat target)" precious
	[ ! -L "${last%.log}.index" ]
	# The active segment itself.
	mv "$last" seg.bak
	ln -s "$PWD/target" "$last"
	fails 2 logappend L <<<y
	stderr_is "logappend: L: $(basename "$last"): a symbolic link, not followed"
	expect 2 logcat L
	[[ $stderr == *"logcat: L: $(basename "$last"): a symbolic link, not followed" ]]
	is "$(cat target)" precious
	rm "$last"
	mv seg.bak "$last"
	# A checkpoint's temporary file and lock.
	ln -s "$PWD/target" L/consumers/.c.tmp
	ok logcheckpoint -s 7 L c
	is "$(cat target)" precious
	[ ! -e L/consumers/.c.tmp ]
	rm -f L/consumers/c.lock
	ln -s "$PWD/target" L/consumers/c.lock
	fails 2 logcheckpoint -s 8 L c
	stderr_has 'symbolic link'
	fails 2 logapply L c -- cat
	is "$(cat target)" precious
	rm L/consumers/c.lock
	# The writers' lock and the settings.
	mv L/lock lock.bak
	ln -s "$PWD/target" L/lock
	fails 2 logappend L <<<z
	stderr_is "logappend: L/lock: a symbolic link, not followed"
	rm L/lock
	mv lock.bak L/lock
	mv L/settings settings.bak
	ln -s "$PWD/settings.bak" L/settings
	fails 2 logcat L
	stderr_is "logcat: L: a symbolic link, not followed"
	is "$(cat target)" precious
}

# ---- 3. a lost segment is never read as a gap --------------------------

@test "a segment deleted or renamed from the middle is a lost range, not a gap (issue 20.3)" {
	for i in $(seq 0 35); do printf '%0300d\n' "$i"; done |
	    ok logappend -s 1K L
	ls L/*.log >segs
	[ "$(wc -l <segs)" -ge 8 ]
	first=$(sed -n 3p segs)
	second=$(sed -n 4p segs)
	b1=$((10#$(basename "$first" .log)))
	b2=$((10#$(basename "$second" .log)))
	rm "$first" "${first%.log}.index"
	fails 1 logcat -F '%o\n' L
	is "$(printf '%s\n' "$output" | tail -n 1)" "$((b1 - 1))"
	stderr_is "logcat: L: $(basename "$second"): offsets $b1-$((b2 - 1)) lost: no segment holds them (a segment deleted, renamed or cut short)"
	fails 1 logfsck L
	stderr_has "$(basename "$second"): offset $b1: offsets $b1 to $((b2 - 1)) lost: no segment holds them"
	fails 1 logstat L
	stderr_has "offsets $b1-$((b2 - 1)) lost"
	# A consumer stops there too, having applied what came before.
	fails 1 logapply -b 100 L c -- sh -c 'cat >>applied'
	is "$(wc -l <applied)" "$b1"
	ok logcheckpoint L c
	output_is "$b1"
	# A renamed segment is lost the same way.
	cp -a L R
	mv "R/$(basename "$second")" "R/$(basename "$second").bak"
	fails 1 logcat -o "$b2" -c 1 R
	stderr_has 'lost: no segment holds them'
	# --salvage records the loss as a hole, named, and readers go on.
	expect 0 logfsck --salvage L
	stderr_has "offsets $b1 to $((b2 - 1)) lost"
	ok logfsck L
	ok logcat -F '%o\n' L
	is "$(printf '%s\n' "$output" | wc -l)" "$((36 - (b2 - b1)))"
	ok logapply -b 100 L c -- sh -c 'cat >>applied'
	is "$(wc -l <applied)" "$((36 - (b2 - b1)))"
}

@test "damage to the end of a sealed segment is one loss, and salvage leaves one hole" {
	for i in $(seq 0 35); do printf '%0300d\n' "$i"; done |
	    ok logappend -s 1K L
	ls L/*.log >segs
	first=$(sed -n 2p segs)
	b1=$((10#$(basename "$first" .log)))
	b2=$((10#$(basename "$(sed -n 3p segs)" .log)))
	# A byte of its last batch: nothing valid after it in the segment.
	size=$(stat -c %s "$first")
	printf 'X' | dd of="$first" bs=1 seek=$((size - 10)) conv=notrunc status=none
	fails 1 logfsck L
	stderr_has "$(basename "$first"): byte "
	stderr_has ": offset $((b2 - 1)): checksum mismatch; the sealed segment is damaged to its end"
	# Not named a second time as offsets in no segment.
	[[ $stderr != *"lost"* ]]
	expect 0 logfsck --salvage L
	[[ $output == *"offset $((b2 - 1)) lost"* ]]
	[[ $output != *"recorded as lost in a new"* ]]
	[ "$(ls L/*.log | wc -l)" -eq "$(wc -l <segs)" ]
	ok logfsck L
	ok logcat -F '%o\n' L
	is "$(printf '%s\n' "$output" | wc -l)" 35
}

@test "compaction keeps the end of every segment it empties or shortens (issue 20.3)" {
	# Keyed records whose latest values are all in the last segments.
	for i in $(seq 0 59); do printf 'k%d|%0300d\n' "$((i % 4))" "$i"; done |
	    ok logappend -K '|' -s 1K L
	ok logcompact -k L
	ok logfsck L
	ok logcat -F '%o\n' L
	output_is "$(seq 56 59)"
	# Segments stay, holding holes; a deleted one is still a loss.
	[ "$(ls L/*.log | wc -l)" -ge 10 ]
	mid=$(ls L/*.log | sed -n 5p)
	rm "$mid"
	fails 1 logcat L
	stderr_has 'lost: no segment holds them'
}

# ---- 4. the writer's damage check is the readers' ----------------------

@test "a writer refuses to append after damage anywhere in its segment (issue 20.4)" {
	seq 1 20000 | ok logappend -s 32K L
	last=$(ls L/*.log | tail -n 1)
	cp -a L orig
	# One byte inside the first batch of the last segment.
	printf 'X' | dd of="$last" bs=1 seek=100 conv=notrunc status=none
	fails 1 logappend -p L <<<more
	is "$output" ""
	stderr_has "$(basename "$last"): byte 0: offset "
	stderr_has "refusing to write, run logfsck"
	# Nothing was written: the segment is as the damage left it.
	cmp <(tail -c +102 "$last") <(tail -c +102 "orig/$(basename "$last")")
	fails 1 logcat L >/dev/null
	# Salvaged, the writer goes on, after the offsets it lost.
	expect 0 logfsck --salvage L
	ok logappend -p L <<<more
	[ "$output" -eq 20000 ]
}

# read_bytes TRACE: the bytes the traced program read with pread.
read_bytes() {
	awk -F' = ' '/pread64\(/ && $NF ~ /^[0-9]+$/ { n += $NF } END { printf "%.0f\n", n }' "$1"
}

@test "the writers' mark spares reading a large segment again, and only then (issue 20.4)" {
	require strace
	# LeakSanitizer cannot work under ptrace.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	seq -f '%099g' 1 90000 | ok logappend -N -s 64M L
	ok logappend -N L <<<one
	# Left by writers only since the last one verified it: the next
	# one reads about one index interval and a batch, not 9 MB.
	strace -f -e trace=pread64 -o trace logappend -N L <<<two
	[ "$(read_bytes trace)" -lt 2000000 ]
	# Written in place (same size): verified again, and refused.
	seg=L/00000000000000000000.log
	printf 'X' | dd of=$seg bs=1 seek=5000 conv=notrunc status=none
	fails 1 logappend L <<<three
	stderr_has 'refusing to write, run logfsck'
	printf '0' | dd of=$seg bs=1 seek=5000 conv=notrunc status=none
	# A mark that is garbage, or that cannot be written, costs a full
	# read and nothing else.
	printf 'garbage' | dd of=L/lock conv=notrunc status=none
	strace -f -e trace=pread64 -o trace logappend -N L <<<four
	[ "$(read_bytes trace)" -gt 9000000 ]
	with_fault 'pwrite~lock:1:EIO:forever' ok logappend -N L <<<five
	faults_fired 1	# the mark after the batch (loading left it be)
	ok logcat -o 90000 L
	output_is "one
two
four
five"
	ok logfsck L
}

@test "a writer whose segment another sealed goes on in the last one, whatever the sealed one holds" {
	long_writer L
	printf 'a|%0300d\n' 0 >&7
	wait_until held L 1
	# Other writers fill its segment and go on in new ones.
	for i in $(seq 1 8); do
		printf 'b|%0300d\n' "$i" | logappend -K '|' -s 1K L
	done
	[ "$(ls L/*.log | wc -l)" -ge 3 ]
	# Damage in the segment it last wrote, sealed now: not the segment
	# it appends to, so no reason to refuse (before the fix it read
	# that segment again and refused).
	printf 'X' | dd of=L/$(seg 0) bs=1 seek=100 conv=notrunc status=none
	echo 'a|last' >&7
	exec 7>&-
	wait "$LONG"
	is "$(sed -n 2p acks)" 9
	ok logcat -o 9 L
	output_is last
	fails 1 logfsck L
	stderr_has "$(seg 0)"
}

@test "a writer whose full segment others went on from reads only the last, whatever damage lies between" {
	# Its first record fills its segment, which nobody changes after.
	full_then_others 12 4
	# Damage in a sealed segment between its own and the last: the
	# readers' to report (before the fix it stepped through every
	# segment after its own, read each whole, and refused).
	printf 'X' | dd of="${segs[2]}" bs=1 seek=100 conv=notrunc status=none
	echo 'a|last' >&7
	exec 7>&-
	wait "$LONG"
	is "$(sed -n 2p acks)" 13
	ok logcat -o 13 L
	output_is last
	fails 1 logfsck L
	stderr_has "${segs[2]##*/}"
}

@test "a writer that runs on in an empty log whose index went away goes on (found by the model)" {
	: | ok logappend L
	long_writer L
	# Once it holds the segment's index open, the index goes.
	wait_until sh -c "ls -l /proc/$LONG/fd | grep -q '\.index'"
	rm L/$(printf '%020d' 0).index
	printf 'a|1\nb|2\n' >&7
	# Before the fix it looked for the segment after its empty one, found
	# itself there, and went round for ever.
	wait_until acked 2 || { kill -KILL "$LONG"; false; }
	exec 7>&-
	wait "$LONG"
	is "$(cat acks | tr '\n' ' ')" "0 1 "
	ok logfsck L
}

# ---- a reader beside a writer (found with issue 20's hunt) --------------

@test "a batch a writer completes while a reader looks past it is not taken for damage" {
	# Three batches of a reference log, as a writer lays them down.
	for x in a b c; do ok logappend R <<<"$x"; done
	first=$(python3 -c 'import sys
print(int.from_bytes(open(sys.argv[1], "rb").read()[8:12], "little"))' \
	    R/00000000000000000000.log)
	cp -a R L
	# The log as a reader finds it: the first batch, and the start of
	# the second, being written.
	cut=$((first + 30))
	head -c "$cut" R/00000000000000000000.log >L/00000000000000000000.log
	# The reader stalls at the read that looks past the torn tail for
	# valid data (its sixth of the segment: strace shows them); meanwhile
	# the writer finishes that batch and writes the next.
	SYNCLOG_FAULT_GATE=$PWD/gate with_fault 'pread~.log:6:stall' \
	    logcat L >out 2>err &
	reader=$!
	wait_until grep -q stall fault.log
	cp R/00000000000000000000.log L/00000000000000000000.log
	touch gate
	wait "$reader"
	faults_fired 1
	is "$(cat err)" ""
	is "$(cat out)" "a
b
c"
}

@test "an end given as an offset reads up to it whatever damage lies past it" {
	for i in $(seq 0 39); do
		ok logappend -s 1K L <<<"record-$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	done
	last=$(ls L/*.log | tail -n 1)
	[ "$last" != "L/$(seg 0)" ]
	printf 'X' | dd of="$last" bs=1 seek=70 conv=notrunc status=none
	ok logcat -F '%o\n' -o 10 -o 20 L
	output_is "$(seq 10 19)"
	# Up to the end as it is, the damage is met: exit 1.
	fails 1 logcat -o 10 L >/dev/null
	stderr_has "$(basename "$last"): byte 0: offset "
}

# ---- 8. what is not a log is not read as one ---------------------------

@test "a plain file is not read as an empty log (issue 20.8)" {
	cp "$BATS_TEST_DIRNAME/data/dpkg.log" dpkg.log
	fails 2 logcat dpkg.log
	stderr_is "logcat: dpkg.log: not a synclog segment"
	fails 2 logstat dpkg.log
	stderr_is "logstat: dpkg.log: not a synclog segment"
	fails 2 logfsck dpkg.log
	stderr_has "dpkg.log: not a synclog segment"
	: >empty
	fails 2 logcat empty
	stderr_is "logcat: empty: not a synclog segment"
	# A segment file read on its own, even under another name, still is.
	seq 1 5 | ok logappend L
	cp L/00000000000000000000.log copy
	ok logcat copy
	output_is "$(seq 1 5)"
	: >00000000000000000042.log
	ok logcat 00000000000000000042.log
	output_is ""
}

@test "logappend never takes over a directory that holds other files (issue 20.8)" {
	mkdir D
	echo keep >D/notes.txt
	fails 2 logappend D <<<x
	stderr_is "logappend: D: not a synclog log (no settings file) and not empty: refusing to make it one"
	is "$(ls -A D)" notes.txt
	# An empty directory, or a new one, becomes a log.
	mkdir E
	ok logappend E <<<x
	ok logappend F <<<y
	ok logcat E
	output_is x
}

@test "writers that make a new log together all succeed (issue 20.8)" {
	# Found by t/130: one of them saw the directory without a settings
	# file, then with the others' segments, and refused it as not a log.
	local round j
	for round in $(seq 1 40); do
		for j in 1 2 3 4 5 6; do
			logappend "N$round" <<<"$j" 2>>err &
		done
		wait
	done
	is "$(cat err)" ""
	for round in $(seq 1 40); do
		ok logcat "N$round"
		is "$(sort <<<"$output" | tr '\n' ' ')" "1 2 3 4 5 6 "
	done
}
