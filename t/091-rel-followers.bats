#!/usr/bin/env bats
# Followers and other readers at work beside writers and logcompact.
#
# Issue 20: "once in 16 one-minute runs of writers + logcompact -k + two
# logcat -f, one follower skipped a whole segment".  The cause: a reader
# decides which segment comes next from one listing of the directory
# (lib/reader.c: refresh(), has_later(), open_following()), and trusts
# that a listing that names a later segment names every one before it.
# A listing is not a snapshot once it takes more than one getdents call
# (over about 680 entries, 340 segments): POSIX leaves it unspecified
# whether a name added or removed after opendir is returned, and
# - on tmpfs (Linux 6.18) a name that logcompact renames over during the
#   listing (lib/rewrite.c: sl_newseg_commit()) is not returned at all;
# - on ext4 (hash order) of the segments writers create during the
#   listing, some are returned and some not, a later one without an
#   earlier one.
# The reader then goes from the segment before to the one after, exit 0,
# the records in between never printed.
#
# The first test holds a reader's listing (t/shim/slowdir.c) while
# logcompact rewrites segments here and there: deterministic on tmpfs.
# The second runs the mix of the report (t/tools/followmix.py), with
# listings slowed down so that it shows in seconds rather than hours, on
# tmpfs and on the disk; TORTURE=1 runs it longer, and also as it is,
# without the shim.
load helpers
load tools/rel

teardown() {
	local j

	touch "$BATS_TEST_TMPDIR/gate" "${REL_SCRATCH:-/nonexistent}/gate" 2>/dev/null
	for j in $(jobs -p); do
		kill "$j" 2>/dev/null || :
	done
	wait 2>/dev/null || :
	rel_cleanup
}

# held_read DIR: in DIR, a log of 600 segments, where every tenth holds a
# record of key "dup" that a last record supersedes; `logcat -o 1` with its
# second listing (the one sl_reader_seek makes) held after its first
# getdents call while `logcompact -k` rewrites those 60 segments; its
# output must be what logcat prints afterwards.
held_read() {
	local d=$1 pid fs
	fs=$(stat -f -c %T "$d")
	python3 -c '
for i in range(15000):
    print("%s,value-%06d-xxxxxxxxxxxxxxxxxx" % (
        "dup" if i % 250 == 0 else "u%06d" % i, i))
print("dup,the latest")' | logappend -s 1K -K , "$d/L" || return 1
	rm -f "$d/gate" "$d/gate.held"
	LD_PRELOAD=$TTOOLS/slowdir.so SLOWDIR_GATE=$d/gate SLOWDIR_NTH=2 \
	    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    logcat -F '%o\n' -o 1 "$d/L" >"$d/held" 2>"$d/held.err" &
	pid=$!
	wait_until -t 60 test -e "$d/gate.held"
	ok logcompact -v -k "$d/L"
	[[ $output == *" 60 compacted,"* ]]
	touch "$d/gate"
	wait "$pid" || { cat "$d/held.err" >&2; return 1; }
	is "$(cat "$d/held.err")" ""
	logcat -F '%o\n' -o 1 "$d/L" >"$d/want"
	if ! cmp -s "$d/held" "$d/want"; then
		printf 'on %s: logcat printed %s records, the log has %s from offset 1; first missing: %s\n' \
		    "$fs" "$(wc -l <"$d/held")" "$(wc -l <"$d/want")" \
		    "$(comm -13 <(sort "$d/held") <(sort "$d/want") | sort -n | head -1)" >&2
		return 1
	fi
	printf '# on %s: %s records, none skipped\n' "$fs" "$(wc -l <"$d/want")" >&3
}

@test "follow-compact: a listing in progress while logcompact renames segments misses none" {
	rel_scratch
	mkdir "$BATS_TEST_TMPDIR/disk"
	held_read "$BATS_TEST_TMPDIR/disk"
	if [[ $REL_SCRATCH != "$BATS_TEST_TMPDIR"/scratch.* ]]; then
		held_read "$REL_SCRATCH"
	fi
}

@test "follow-compact: writers, logcompact -k and followers: nothing skipped" {
	local runs secs lag nth fm=$BATS_TEST_DIRNAME/tools/followmix.py seed
	rel_scratch
	seed=$(rel_seed)
	runs=$(rel_t 2 8)
	secs=$(rel_t 8 60)
	lag=$(rel_t 1 4)
	# (not "i": bats' run sets it)
	for ((nth = 0; nth < runs; nth++)); do
		# Alternately in memory and on disk; in torture every other run
		# without the slow listings, as the report ran it.
		local where=$REL_SCRATCH/m$nth slow=--slowdir
		((nth % 2 == 0)) || where=$BATS_TEST_TMPDIR/m$nth
		((nth % 4 < 2)) || slow=
		run --separate-stderr timeout 900 python3 "$fm" --seed $((seed + nth)) \
		    --seconds "$secs" --lag "$lag" --followers 4 --prefill 400 \
		    $slow "$where"
		if [ "$status" -ne 0 ]; then
			printf '%s\n%s\n' "$output" "$stderr" >&2
			return 1
		fi
		rel_summary "follow-compact ($(stat -f -c %T "${where%/*}")): ${output#followmix: }"
		rm -rf "$where"
	done
}

# lines_or_gone FILE N PID: FILE has N lines, or process PID has exited.
lines_or_gone() {
	[ "$(wc -l <"$1")" -ge "$2" ] || ! kill -0 "$3" 2>/dev/null
}

# A second race of a reader at the end of the log (found by t/090's model):
# lib/reader.c not_a_batch() sees the batch a writer is writing incomplete
# (SL_SCAN_SHORT), then sl_scan_later() reads the file again; if the writer
# has meanwhile finished that batch and written the next, it finds valid
# data after the "incomplete" batch and calls it corruption: a follower
# stops with exit 1 beside a healthy writer (SPEC promise 5).

@test "followers: a batch being written is the end of the log, not corruption" {
	local a b half pid seg=L/00000000000000000000.log
	seq 1 10 | logappend L
	a=$(stat -c %s "$seg")
	seq -f 'second batch %g xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' 1 100 |
	    logappend L
	b=$(stat -c %s "$seg")
	echo third | logappend L
	cp "$seg" full
	# The second batch half written, as a writer's pwrite leaves it for a
	# moment; a follower prints the first batch and waits.
	half=$((a + (b - a) / 2))
	truncate -s "$half" "$seg"
	: >out
	SLOWDIR_GATE=$PWD/gate SLOWDIR_ARM=$PWD/arm \
	    LD_PRELOAD=$TTOOLS/slowdir.so \
	    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
	    logcat -f -F '%o\n' L >out 2>err &
	pid=$!
	wait_until -t 60 lines_or_gone out 10 "$pid"
	# One more byte wakes it; it finds the batch still incomplete and
	# lists the directory (is there a later segment?): held there while
	# the writer finishes the batch and writes the next one.
	touch arm
	dd if=full of="$seg" bs=1 skip="$half" seek="$half" count=1 \
	    conv=notrunc status=none
	wait_until -t 60 test -e gate.held
	cp full "$seg.new" && cat "$seg.new" >"$seg"
	touch gate
	wait_until -t 60 lines_or_gone out 111 "$pid"
	kill "$pid" 2>/dev/null || :
	wait "$pid" || :
	is "$(cat err)" ""
	is "$(tr '\n' ' ' <out)" "$(seq 0 110 | tr '\n' ' ')"
}

@test "followers: beside a logappend -N writer none calls the tail corrupt" {
	local rounds round j bad=0 n=6 pids
	rounds=$(rel_t 4 40)
	for ((round = 0; round < rounds; round++)); do
		rm -rf L f*.err
		echo start | logappend -s 64M L
		pids=()
		for ((j = 0; j < n; j++)); do
			logcat -f -o end L >/dev/null 2>"f$j.err" &
			pids+=($!)
		done
		python3 -c '
import sys
line = ("k,%s\n" % ("x" * 300)).encode()
sys.stdout.buffer.write(line * (20 * 1024 * 1024 // len(line)))' |
		    logappend -N -K , L
		# Every follower reaches the end, or has stopped.
		for ((j = 0; j < n; j++)); do
			kill "${pids[$j]}" 2>/dev/null || :
			wait "${pids[$j]}" 2>/dev/null || :
		done
		bad=$((bad + $(cat f*.err | grep -c 'followed by valid data' || :)))
		if [ "$bad" -gt 0 ]; then
			cat f*.err >&2
			printf 'round %d: %d of %d followers called a batch being written corrupt\n' \
			    "$((round + 1))" "$bad" "$n" >&2
			return 1
		fi
	done
	rel_summary "followers: $rounds rounds of a 20 MiB logappend -N beside $n" \
	    "followers: none called the tail corrupt"
}

# Found by t/090's model: logfsck --salvage (or --repair) writes a new file
# under the last segment's name; appends go there.  A follower at the end
# of the old file waited on it forever, and one that met the damage in the
# old file stopped although the new one is whole.
@test "followers: a follower goes on in the segment logfsck replaced under it" {
	local pid seg=L/00000000000000000000.log
	for x in a b c d e; do logappend L <<<"$x"; done
	: >out
	logcat -f L >out 2>err &
	pid=$!
	wait_until -t 60 lines_or_gone out 5 "$pid"
	# Damage in what it has read (b), salvage replaces the segment.
	printf 'X' | dd of="$seg" bs=1 seek=60 conv=notrunc status=none
	expect 0 logfsck --salvage L
	ok logappend L <<<f
	wait_until -t 60 lines_or_gone out 6 "$pid"
	kill "$pid"
	wait "$pid" || :
	is "$(cat err)" ""
	is "$(tr '\n' ' ' <out)" "a b c d e f "
	# A reader that opened the segment before new damage, held at its
	# first read while salvage replaces it, meets the damage in the old
	# file: it reads the copy instead, without the batch lost.
	SYNCLOG_FAULT_GATE=$PWD/gate with_fault 'pread~.log:1:stall' \
	    logcat L >out2 2>err2 &
	pid=$!
	wait_until grep -q stall fault.log
	size=$(stat -c %s "$seg")
	printf 'X' | dd of="$seg" bs=1 seek=$((size - 3)) conv=notrunc status=none
	expect 0 logfsck --salvage L
	touch gate
	wait "$pid"
	is "$(cat err2)" ""
	is "$(tr '\n' ' ' <out2)" "a c d e "	# b and f lost to damage
}
