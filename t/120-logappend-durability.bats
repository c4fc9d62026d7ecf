#!/usr/bin/env bats
# logappend: when offsets are printed (after the sync), what failures do to
# the log (nothing acknowledged lost, the log left as before), -x, -N, -z,
# and SIGKILL at random moments.  Faults come from t/shim/fault.c.
load helpers

seg0=L/00000000000000000000.log

# The tests that stall a sync on a gate file open it when they end, failed
# or not, so that no stalled logappend outlives its test.
teardown() {
	touch "$BATS_TEST_TMPDIR/gate"
}

# has_records N LOG: LOG holds N records.
has_records() { [ "$(logcat -F '%o\n' "$2" | wc -l)" -eq "$1" ]; }

# batches FILE: the number of batches in segment FILE and their flags.
batches() {
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
p = n = 0
flags = set()
while p < len(d):
    flags.add(d[p + 5])
    p += struct.unpack_from("<I", d, p + 8)[0]
    n += 1
print(n, *sorted(flags))' "$1"
}

@test "logappend -p prints each offset, counting on across runs" {
	ok logappend -p L < <(printf 'a\nb\n')
	output_is "0
1"
	ok logappend -p L <<<c
	output_is 2
	ok logappend L <<<d
	output_is ""
	ok logcat -F '%o %s\n' L
	output_is "0 a
1 b
2 c
3 d"
}

@test "logappend: a pause in the input writes what came so far at once" {
	# If logappend waited for more input or for the end, the reader below
	# would never see "a" while the writer still holds stdin open.
	ok logappend -p L < <(echo a; wait_until has_records 1 L && echo b)
	output_is "0
1"
	is "$(batches $seg0)" "2 0"
}

@test "logappend: a fast stream forms large batches (group commit)" {
	seq 1 200000 > in
	ok logappend L < in
	sh_ok 'logcat L | cmp - in'
	set -- $(batches $seg0)
	# 200000 records of 34 bytes: a few megabyte-sized batches, not
	# thousands of small ones.
	[ "$1" -le 40 ] || { echo "$1 batches" >&2; return 1; }
}

@test "logappend: each batch is synced before its offsets are printed" {
	ok logappend L <<<a
	with_fault 'fdatasync:1:killafter' expect 137 logappend -p L <<<b
	# Killed right after the sync: the record is durable, its offset was
	# not yet printed.
	output_is ""
	faults_fired 1 '^fdatasync:1:killafter '
	ok logcat L
	output_is "a
b"
}

@test "logappend: what arrives during a sync waits for it and forms the next batch" {
	# The first sync stalls until the gate file exists; b and c arrive
	# meanwhile.  A batch is never written before the one before it is
	# synced (a power cut could otherwise keep b and lose a), so readers
	# see only a until the gate opens; then b and c go in as one batch.
	mkfifo in
	with_fault 'fdatasync:1:stall' env SYNCLOG_FAULT_EXE=logappend \
	    SYNCLOG_FAULT_GATE="$PWD/gate" logappend -p L <in >out 2>err &
	exec 7>in
	echo a >&7
	wait_until has_records 1 L
	faults_fired 1 '^fdatasync:1:stall '
	echo b >&7
	echo c >&7
	sleep 0.2
	has_records 1 L
	is "$(wc -c <out)" 0
	touch gate
	wait_until has_records 3 L
	exec 7>&-
	wait $!
	is "$(cat out)" "0
1
2"
	is "$(wc -c <err)" 0
	is "$(batches $seg0)" "2 0"
}

# sizes FILE: each batch of segment FILE as "RECORDS PAYLOAD-BYTES".
sizes() {
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
p = 0
while p < len(d):
    n, = struct.unpack_from("<I", d, p + 12)
    pay, = struct.unpack_from("<I", d, p + 28)
    print(n, pay)
    p += struct.unpack_from("<I", d, p + 8)[0]' "$1"
}

# closed_at SEG BYTES N: segment SEG holds N batches and was closed by the
# first batch that took it to BYTES or past (the last starts before BYTES).
# Not an exact size: a record's timestamp is a varint delta within its
# batch, a byte longer when a slow machine takes 64 ms or more in a batch.
closed_at() {
	python3 -c 'import struct, sys
d = open(sys.argv[1], "rb").read()
limit, want = int(sys.argv[2]), int(sys.argv[3])
p = n = last = 0
while p < len(d):
    last = p
    p += struct.unpack_from("<I", d, p + 8)[0]
    n += 1
if n != want or len(d) < limit or last >= limit:
    sys.exit("%d batches, %d bytes, the last at byte %d" % (n, len(d), last))' "$@"
}

# lines N: N input lines of 100 bytes.
lines() { awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) printf "%09d %089d\n", i, i }'; }

# input_read PID BYTES: process PID has read BYTES of its standard input,
# or more.
input_read() {
	[ "$(awk '$1 == "pos:" { print $2 }' "/proc/$1/fdinfo/0")" -ge "$2" ]
}

# stalled ACTION: start logappend -p L <in >out 2>err in the background
# with the first fdatasync held at the gate (ACTION stall or stall-ERRNO),
# and wait until it is held there and has read two batches of input (to
# byte 1997400, past what its 1 MiB window on the file could hold without
# the second); $pid is logappend's.
stalled() {
	with_fault "fdatasync:1:$1" env SYNCLOG_FAULT_EXE=logappend \
	    SYNCLOG_FAULT_GATE="$PWD/gate" logappend -p L <in >out 2>err &
	wait_until grep -q "^fdatasync:1:$1 " fault.log
	pid=$(sed -n 's/.* pid=\([0-9]*\) .*/\1/p' fault.log)
	wait_until input_read "$pid" 1997400
}

@test "logappend: a full batch is synced in the background while the next one is read" {
	# 4 MB arriving at once.  The first batch (a megabyte, 9987 records)
	# stalls in its fdatasync; meanwhile logappend reads the next batch.
	# Nothing else is written before the first sync is done, and no
	# offset is printed.
	lines 40000 > in
	stalled stall
	is "$(sizes $seg0)" "9987 1048635"	# one batch, of a megabyte
	is "$(wc -c <out)" 0
	touch gate
	wait $!
	is "$(wc -c <err)" 0
	is "$(cat out)" "$(seq 0 39999)"
	sh_ok 'logcat L | cmp - in'
	is "$(sizes $seg0 | awk '{ print $1 }' | tr '\n' ' ')" "9987 9987 9987 9987 52 "
}

# blocked PID: the main thread of PID waits in futex(2) (x86_64's 202),
# which logappend's does only to wait for the writer's thread.
blocked() {
	local nr
	read -r nr _ <"/proc/$1/task/$1/syscall" && [ "$nr" = 202 ]
}

@test "logappend: a full batch queued behind one whose sync fails is never written" {
	lines 40000 > in
	# The first batch's sync stalls, then fails.  Meanwhile the second
	# batch is read and queued behind it, and logappend waits for the
	# first: the queued one must not be written after the failure.
	stalled stall-EIO
	wait_until blocked "$pid"
	touch gate
	rc=0
	wait $! || rc=$?
	is "$rc" 2
	is "$(cat err)" "logappend: L: 00000000000000000000.log: fdatasync: Input/output error"
	is "$(wc -c <out)" 0
	faults_fired 1
	is "$(sizes $seg0)" "9987 1048635"
}

@test "logappend: an input file cut short while it is read ends the append as bad input" {
	lines 40000 > in
	cp in orig
	# The first batch's sync stalls while the second is read and queued
	# behind it.  Then the file loses the rest: logappend, which reads
	# it through a mapping, takes SIGBUS where it goes on.  The two
	# batches read before are written and acknowledged, nothing after.
	stalled stall
	wait_until blocked "$pid"
	: > in
	touch gate
	rc=0
	wait $! || rc=$?
	is "$rc" 1
	is "$(cat err)" "logappend: stdin: the input file shrank while it was read"
	is "$(cat out)" "$(seq 0 19973)"
	sh_ok "logcat L | cmp - <(head -n 19974 orig)"
	ok logfsck L
}

@test "logappend: a batch that fails in the background keeps the earlier offsets, and nothing follows it" {
	lines 40000 > in
	# The second batch's write fails: only the first batch's offsets
	# are printed, and the log holds exactly those records.
	with_fault 'pwrite~.log:2:ENOSPC' fails 2 logappend -p L <in
	stderr_is "logappend: L: 00000000000000000000.log: write: No space left on device"
	faults_fired 1
	n=$(printf '%s\n' "$output" | wc -l)
	[ "$n" -gt 1000 ] && [ "$n" -lt 40000 ]
	is "$output" "$(seq 0 $((n - 1)))"
	sh_ok "logcat L | cmp - <(head -n $n in)"
	# The second batch's sync fails: it is written but never reported,
	# and no batch is written after it.
	rm -rf L fault.log
	with_fault 'fdatasync:2:EIO' fails 2 logappend -p L <in
	stderr_is "logappend: L: 00000000000000000000.log: fdatasync: Input/output error"
	faults_fired 1
	n=$(printf '%s\n' "$output" | wc -l)
	is "$output" "$(seq 0 $((n - 1)))"
	set -- $(sizes $seg0)
	is "$#" 4
	is "$1" "$n"
}

@test "logappend: with no thread to spare, full batches are committed in the foreground" {
	require strace
	perm_dir
	chmod 777 .
	lines 30000 > in
	# RLIMIT_NPROC of 1 (for an unprivileged user): no thread can be
	# made, so each full batch is committed by the main thread instead,
	# with the same result.  (LeakSanitizer needs a thread of its own.)
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	ok unprivileged strace -f -e trace=clone3,clone -o trace \
	    prlimit --nproc=1 logappend -p L < in
	is "$output" "$(seq 0 29999)"
	sh_ok 'logcat L | cmp - in'
	ok logfsck L
	[ "$(grep -c 'clone3(.*= -1 EAGAIN' trace)" -ge 3 ]
	is "$(grep -c 'clone3(.*= [0-9]' trace)" 0
	# -N hands the disk what it wrote itself too: the first 4 MiB.
	lines 50000 > in
	ok unprivileged strace -f -e trace=clone3,clone,sync_file_range \
	    -o trace prlimit --nproc=1 logappend -N -p L2 < in
	is "$output" "$(seq 0 49999)"
	sh_ok 'logcat L2 | cmp - in'
	is "$(handed trace)" "0 4194304 SYNC_FILE_RANGE_WRITE 0"
	is "$(grep -c 'clone3(.*= [0-9]' trace)" 0
	cd / && rm -rf "$PERM_DIR"
}

# peak FILE LOG: the peak RSS (KiB) of logappend -m 8M LOG < FILE (ASan's
# quarantine off: freed memory is given back then, as without it).
peak() {
	python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdin=open(sys.argv[1], "rb"), check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$1" \
	    env ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0 \
	    logappend -m 8M "$2"
}

@test "logappend: huge records are not held twice: three take the memory of one" {
	# 6 MiB records, each a batch of its own.  While one is written in
	# the background, the next is read but not encoded until that is
	# done, so three records need what one needs (input buffer and one
	# batch); holding a second batch would add 6 MiB and more.
	python3 -c 'import sys
for c in b"abc":
    sys.stdout.buffer.write(bytes([c]) * (6 << 20) + b"\n")' > in
	head -n 1 in > one
	ok peak one L1
	one=$output
	ok peak in L3
	three=$output
	sh_ok 'logcat L3 | cmp - in'
	echo "peak RSS: one record $one KiB, three $three KiB" >&2
	[ "$three" -lt $((one + 4096)) ]
}

@test "logappend: a failed fdatasync prints no offset, exits 2, and the log stays usable" {
	seq 1 3 | logappend L
	with_fault 'fdatasync:1:EIO' fails 2 logappend -p L <<<4
	output_is ""
	stderr_is "logappend: L: 00000000000000000000.log: fdatasync: Input/output error"
	faults_fired 1 "^fdatasync:1:EIO pid=[0-9]+ path=$BATS_TEST_TMPDIR/$seg0\$"
	# The unacknowledged record may or may not be there; what is there reads.
	ok logcat -F '%o %s\n' L
	[[ $output == "0 1
1 2
2 3"* ]]
	ok logappend -p L <<<5
	off=$output
	ok logcat -F '%s' -o "$off" -c 1 L
	output_is 5
	ok logcat L
	[ "${lines[-1]}" = 5 ]
}

@test "logappend: a failed fdatasync is never retried and stops the program" {
	echo a | logappend L
	# Input arrives in two batches; the first sync fails: the second
	# batch must not be written (a retried fsync can report success for
	# data the kernel already dropped).
	with_fault 'fdatasync:1:EIO' fails 2 logappend -p L \
	    < <(echo b; wait_until has_records 2 L && echo c)
	output_is ""
	faults_fired 1
	ok logcat L
	[[ $output != *c* ]]
}

@test "logappend: a failed sync of a later batch keeps the earlier offsets good" {
	echo a | logappend L
	with_fault 'fdatasync:2:EIO' fails 2 logappend -p L \
	    < <(echo b; wait_until has_records 2 L && echo c)
	output_is 1
	faults_fired 1 '^fdatasync:2:EIO '
	ok logcat -o 1 -c 1 L
	output_is b
}

@test "logappend: ENOSPC on write leaves the log exactly as it was" {
	seq 1 3 | logappend L
	cp -a L before
	with_fault 'pwrite:1:ENOSPC' fails 2 logappend -p L < <(seq 4 100)
	output_is ""
	stderr_is "logappend: L: 00000000000000000000.log: write: No space left on device"
	faults_fired 1 "^pwrite:1:ENOSPC "
	diff -r before L
	cmp before/00000000000000000000.log $seg0
}

@test "logappend: a short write then ENOSPC is cut back: the log is as it was" {
	seq 1 3 | logappend L
	cp -a L before
	with_fault 'pwrite:1:short,pwrite:2:ENOSPC' fails 2 logappend -p L \
	    < <(seq 4 100)
	output_is ""
	faults_fired 2
	diff -r before L
	ok logappend -p L <<<4
	output_is 3
}

@test "logappend: ENOSPC in a later batch keeps exactly the batches acknowledged" {
	seq 1 3 | logappend L
	with_fault 'pwrite~.log:2:ENOSPC' fails 2 logappend -p L \
	    < <(echo a; wait_until has_records 4 L && echo b)
	output_is 3
	faults_fired 1
	ok logcat L
	output_is "1
2
3
a"
}

@test "logappend: when cutting back a partial write fails too, readers and the next writer cope" {
	seq 1 3 | logappend L
	with_fault 'pwrite:1:short,pwrite:2:ENOSPC,ftruncate~.log:1:EIO' \
	    fails 2 logappend -p L < <(seq 4 6)
	faults_fired 3
	[ "$(stat -c %s $seg0)" -gt 73 ]	# a torn batch is left behind
	ok logcat L
	output_is "$(seq 1 3)"
	ok logappend -p L <<<7
	output_is 3
	ok logcat L
	output_is "$(seq 1 3; echo 7)"
}

@test "logappend: a failed directory sync when a segment is created is fatal" {
	seq 1 200 | logappend -s 1K L
	# The writer syncs L's directory once when it opens the log, again
	# when it creates a segment: fail the second.
	with_fault 'fsync@dir~/L:2:EIO' fails 2 logappend -p L < <(seq 201 400)
	stderr_has "directory sync: Input/output error"
	faults_fired 1 "^fsync@dir~/L:2:EIO pid=[0-9]+ path=$BATS_TEST_TMPDIR/L\$"
	[ -n "$output" ]	# it failed at a rotation, after some batches
	# Every offset printed reads back; the log is readable and appendable.
	printed=$output
	ok logcat -F '%o %s\n' L
	is "$(awk '$2 != $1 + 1' <<<"$output")" ""
	for o in $printed; do
		[ "$o" -lt "${#lines[@]}" ]
	done
	ok logappend -p L <<<last
	ok logcat L
	[ "${lines[-1]}" = last ]
}

@test "logappend: the directory error message names the log once" {
	seq 1 200 | logappend -s 1K L
	with_fault 'fsync@dir~/L:2:EIO' fails 2 logappend L < <(seq 201 400)
	stderr_is "logappend: L: directory sync: Input/output error"
}

@test "logappend: a segment whose creation was not synced is synced by the next writer" {
	seq 1 200 | logappend -s 1K L
	with_fault 'fsync@dir~/L:2:EIO' fails 2 logappend L < <(seq 201 400)
	# The next writer appends into the new segment: it must make its
	# directory entry durable first, or a power cut can lose acknowledged
	# records together with the whole segment.
	with_fault 'fsync@dir:1:EIO' fails 2 logappend L <<<more
	faults_fired 2
}

@test "logappend -x: the expected next offset appends, anything else writes nothing (exit 1)" {
	ok logappend -x 0 -p L <<<a
	output_is 0
	cp -a L before
	fails 1 logappend -x 0 -p L <<<b
	output_is ""
	stderr_is "logappend: L: next offset is 1, not 0"
	fails 1 logappend -x 2 L <<<b
	stderr_is "logappend: L: next offset is 1, not 2"
	diff -r before L
	ok logappend -x 1 -p L < <(printf 'b\nc\nd\n')
	output_is "1
2
3"
	# With -x the whole input is one batch.
	is "$(batches $seg0)" "2 0"
}

@test "logappend -x with empty input checks the offset and writes nothing" {
	seq 1 3 | logappend L
	cp -a L before
	ok logappend -x 3 L </dev/null
	fails 1 logappend -x 4 L </dev/null
	diff -r before L
}

@test "logappend -x: bad input writes nothing at all, not even the good records" {
	echo a | logappend -m 100 L
	cp -a L before
	fails 1 logappend -x 1 -p -J L < <(printf '{"value":"b"}\nbad\n')
	output_is ""
	diff -r before L
	fails 1 logappend -x 1 L < <(echo b; head -c 200 /dev/zero | tr '\0' x; echo)
	diff -r before L
}

@test "logappend -x: input too large for one batch is refused whole" {
	seq 1 10 | logappend -m 1K L
	cp -a L before
	fails 1 logappend -x 10 -p L < <(seq 1 200000)
	output_is ""
	stderr_is "logappend: stdin: input too large for one batch with -x"
	diff -r before L
}

@test "logappend -x: of concurrent writers expecting the same offset exactly one wins" {
	echo a | logappend L
	for i in 1 2 3 4; do
		(rc=0; logappend -x 1 L <<<"w$i" 2>/dev/null || rc=$?
		    echo $rc > rc.$i) &
	done
	wait
	is "$(cat rc.1 rc.2 rc.3 rc.4 | sort | tr '\n' ' ')" "0 1 1 1 "
	ok logcat L
	[ "${#lines[@]}" -eq 2 ]
}

@test "logappend -N writes its batches without any sync and the records read back" {
	seq 1 200 | logappend L
	with_fault 'fdatasync:1:EIO:forever,fsync@any:1:EIO:forever' \
	    ok logappend -N -p L < <(seq 201 2000; sleep 0.1; seq 2001 3000)
	faults_fired 0
	is "$(wc -l <<<"$output")" 2800
	sh_ok 'logcat L | cmp - <(seq 1 3000)'
	# A new log too: nothing but its settings file is synced.
	with_fault 'fdatasync:1:EIO:forever' ok logappend -N M < <(seq 1 10)
	faults_fired 0
}

# handed FILE: the sync_file_range calls in strace -f output FILE, one
# line each, "OFFSET LENGTH FLAGS RESULT".
handed() {
	sed -n 's/.*sync_file_range([0-9]*, \([0-9]*\), \([0-9]*\), \([A-Z_|]*\)) *= \(.*\)/\1 \2 \3 \4/p' "$1"
}

# tids CALL: the threads that made CALL, in strace -ff output trace.TID.
tids() { grep -l "^$1(" trace.* | sed 's/^trace\.//' | sort; }

@test "logappend -N hands the disk what it wrote, 4 MiB at a time, from a thread of its own" {
	require strace
	# 100,000 records in batches of 1048687 bytes (9987 records): the
	# 4th and 8th batches end past 4 and 8 MiB; the whole pages before
	# are handed over, 4194304 and 8388608 bytes.
	lines 100000 > in
	# LeakSanitizer cannot work under ptrace.
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	# A file a thread: strace -f would split calls that overlap.
	ok strace -ff -e trace=sync_file_range,fdatasync,fsync,pwrite64 \
	    -o trace logappend -N L < in
	sh_ok 'logcat L | cmp - in'
	# The thread takes each range as it comes, or both at once if it
	# was not quick enough: [0, 8388608) in order, every call asking
	# the disk to write without waiting, and the disk taking it.
	cat trace.* > all
	handed all > calls
	awk 'BEGIN { end = 0 }
	    $1 != end || $3 != "SYNC_FILE_RANGE_WRITE" || $4 != 0 { exit 1 }
	    { end += $2 }
	    END { if (end != 8388608) exit 1 }' calls ||
	    { cat calls >&2; return 1; }
	[ "$(wc -l < calls)" -le 2 ]
	# Not by the thread that writes the segment, which never waits for
	# them; and nothing waits for the disk (a new log syncs only its
	# settings).
	is "$(tids sync_file_range | wc -l)" 1
	is "$(comm -12 <(tids sync_file_range) <(tids pwrite64))" ""
	is "$(grep -c 'fdatasync(' all)" 0
	# The durable mode syncs every batch and hands nothing over.
	rm -rf L
	ok strace -f -e trace=sync_file_range -o trace logappend L < in
	is "$(grep -c sync_file_range trace)" 0
	# A trickle is left to the kernel.
	rm -rf L
	ok strace -f -e trace=sync_file_range -o trace logappend -N L \
	    < <(lines 100; sleep 0.05; lines 100)
	is "$(grep -c sync_file_range trace)" 0
}

@test "logappend -N: an I/O error reported by the hand-over stops it like a failed sync" {
	lines 100000 > in
	with_fault 'sync_file_range:1:EIO' fails 2 logappend -N -p L < in
	stderr_is "logappend: L: 00000000000000000000.log: sync_file_range: Input/output error"
	faults_fired 1
	# The thread's failure is seen at the next hand-over, the 8th batch's,
	# which is then written and not acknowledged, with nothing after it;
	# or, on a slow machine, when the input ends, all acknowledged.  The
	# 7 batches before are acknowledged either way.
	n=$(wc -l <<<"$output")
	[ "$n" -ge 69909 ] || { echo "$n acknowledged" >&2; return 1; }
	is "$output" "$(seq 0 $((n - 1)))"
	ok logcat L
	case $(wc -l <<<"$output") in
	"$n" | "$((n + 9987))") ;;
	*) echo "$(wc -l <<<"$output") records in the log" >&2; return 1 ;;
	esac
	sh_ok "logcat L | cmp - <(head -n $(wc -l <<<"$output") in)"
}

@test "logappend -N: a hand-over failing after the last batch fails the run" {
	# 40000 records: the 4th batch hands the thread the first 4 MiB, and
	# nothing comes after it to see the thread's failure but the end.
	lines 40000 > in
	with_fault 'sync_file_range:1:EIO' fails 2 logappend -N -p L < in
	stderr_is "logappend: L: 00000000000000000000.log: sync_file_range: Input/output error"
	faults_fired 1
	is "$output" "$(seq 0 39999)"
	sh_ok 'logcat L | cmp - in'
}

# cachestat(2), which -N needs to see how far behind the disk is, came with
# Linux 6.5: without it a full segment is closed at once.
require_cachestat() {
	python3 -c 'import os, sys
v = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
sys.exit(v < (6, 5))' ||
	    skip "cachestat(2) needs Linux 6.5, this is $(uname -r)"
}

@test "logappend -N: a full segment grows while the disk is behind, up to twice its size" {
	require_cachestat
	require strace
	export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
	# The disk takes no write-back (the hand-overs are skipped), so the
	# segment is never written: it is closed at twice 16 MiB, at the
	# 32nd batch of 1048687 bytes, with a sync as ever.
	lines 400000 > in
	with_fault 'sync_file_range:1:skip:forever' ok strace -f \
	    -e trace=fdatasync -o trace logappend -N -s 16M L < in
	ok closed_at $seg0 $((32 << 20)) 32
	is "$(grep -c 'fdatasync(' trace)" 1
	sh_ok 'logcat L | cmp - in'
	ok logfsck L
}

@test "logappend -N: a full segment is closed at once when the system cannot tell how far behind the disk is" {
	require_cachestat
	# As above, with cachestat failing as before Linux 6.5: the segment
	# is closed at the first batch after it reached 16 MiB, the 16th.
	lines 400000 > in
	with_fault 'sync_file_range:1:skip:forever,cachestat:1:ENOSYS:forever' \
	    ok logappend -N -s 16M L < in
	# One look per rotation, each failing: two.
	faults_fired 2 '^cachestat:[0-9]+:ENOSYS '
	ok closed_at $seg0 $((16 << 20)) 16
	sh_ok 'logcat L | cmp - in'
}

@test "logappend -N: a full segment is closed at its size once the disk has caught up" {
	require_cachestat
	# 170,000 records (17 MiB) the disk is not given to write (the
	# hand-overs are skipped), then a pause in which the segment is
	# synced, so that none of it is left to write: the next batch goes
	# to a new segment.
	lines 400000 > in
	with_fault 'sync_file_range:1:skip:forever' ok logappend -N -s 16M L \
	    < <(head -n 170000 in
	    wait_until has_records 170000 L && sync $seg0
	    tail -n +170001 in)
	ok logcat $seg0
	is "$(wc -l <<<"$output")" 170000
	sh_ok 'logcat L | cmp - in'
}

@test "logappend -N on a file system without sync_file_range asks once and goes on" {
	lines 100000 > in
	with_fault 'sync_file_range:1:ENOSYS:forever' ok logappend -N L < in
	faults_fired 1
	sh_ok 'logcat L | cmp - in'
}

@test "logappend -N: records survive the writer being killed" {
	seq 1 3 | logappend L
	with_fault 'pwrite~.log:2:killafter' expect 137 logappend -N -p L \
	    < <(echo a; wait_until has_records 4 L && echo b)
	output_is 3
	faults_fired 1
	ok logcat L
	output_is "$(seq 1 3; echo a; echo b)"
}

# spare FILE: the bytes allocated to FILE beyond its size (negative for a
# sparse file), with the size: "SPARE SIZE".
spare() {
	local st
	st=($(stat -c '%b %B %s' "$1"))
	echo $((st[0] * st[1] - st[2])) "${st[2]}"
}

# reserved16 BYTES: BYTES allocated to a segment of 16 MiB are the whole
# segment, and at most the blocks of a file system's own bookkeeping
# (ext4's extent tree) more.
reserved16() {
	[ "$1" -ge $((16 << 20)) ] && [ "$1" -lt $((16 << 20 | 1 << 16)) ] ||
	    { echo "$1 bytes allocated, not 16 MiB" >&2; return 1; }
}

# The reservation needs a file system that can allocate past a file's end
# (fallocate's keep-size mode): ext4, xfs, btrfs and tmpfs can.
require_keep_size() {
	: > probe
	fallocate -n -l 1M probe 2>/dev/null ||
	    skip "the file system under $BATS_TEST_TMPDIR cannot preallocate"
	rm probe
}

@test "logappend -N reserves the rest of a segment once it has written 4 MiB there, and gives back what it did not fill" {
	require_keep_size
	lines 60000 > in
	ok logappend -N -s 16M L < <(head -n 30000 in
	    wait_until has_records 30000 L && spare $seg0 > early
	    tail -n +30001 in
	    wait_until has_records 60000 L && spare $seg0 > late)
	sh_ok 'logcat L | cmp - in'
	read -r early size < early
	read -r late size < late
	# 3 MB written: nothing reserved.  6 MB: the segment's 16 MiB held.
	[ "$early" -lt 65536 ] || { echo "early: $early spare" >&2; return 1; }
	reserved16 "$((late + size))"
	# After the run only the file system's rounding is left over.
	read -r after size < <(spare $seg0)
	[ "$after" -lt 65536 ] || { echo "after: $after spare" >&2; return 1; }
	# A writer of a few records reserves nothing, nor does a durable one.
	with_fault 'fallocate:1:EIO:forever,fstatvfs:1:EIO:forever' \
	    ok logappend -N L < <(lines 1000)
	with_fault 'fallocate:1:EIO:forever,fstatvfs:1:EIO:forever' \
	    ok logappend L < in
	faults_fired 0
}

@test "logappend -N: a reservation a killed writer left is given back by the next writer" {
	require_keep_size
	lines 60000 > in
	with_fault 'fallocate:1:killafter' expect 137 logappend -N -s 16M L < in
	faults_fired 1
	read -r held size < <(spare $seg0)
	reserved16 "$((held + size))"
	# Readers see nothing of it, only the batches before the one that
	# was to reach 4 MiB (3 MB and more).  The next writer cuts it off.
	n=$(logcat L | wc -l)
	[ "$n" -ge 29000 ] || { echo "$n records" >&2; return 1; }
	sh_ok "logcat L | cmp - <(head -n $n in)"
	ok logappend L <<<last
	read -r held size < <(spare $seg0)
	[ "$held" -lt 65536 ] || { echo "held: $held spare" >&2; return 1; }
	sh_ok "logcat L | cmp - <(head -n $n in; echo last)"
	ok logfsck L
}

@test "logappend -N: a reservation that fails, or whose space is not given back, changes nothing else" {
	require_keep_size
	lines 60000 > in
	# The file system cannot, the disk is full, or its free space is
	# unknown: nothing is reserved, nothing is said, everything is written.
	for rule in fallocate:1:ENOTSUP fallocate:1:ENOSPC \
	    'fstatvfs:1:EIO,fallocate:1:EIO'; do
		rm -rf L fault.log
		with_fault "$rule" ok logappend -N -s 16M L < in
		faults_fired 1
		sh_ok 'logcat L | cmp - in'
		read -r held size < <(spare $seg0)
		[ "$held" -lt 65536 ] || { echo "$rule: $held spare" >&2; return 1; }
	done
	# Cutting it off at the end fails: the run still succeeds, and the
	# space stays held until the next writer.
	rm -rf L fault.log
	with_fault 'ftruncate~.log:1:EIO' ok logappend -N -s 16M L < in
	faults_fired 1
	read -r held size < <(spare $seg0)
	reserved16 "$((held + size))"
	ok logappend -N L <<<last
	read -r held size < <(spare $seg0)
	[ "$held" -lt 65536 ] || { echo "held: $held spare" >&2; return 1; }
	sh_ok 'logcat L | cmp - <(cat in; echo last)'
}

@test "logappend -N reserves no more than a quarter of the free space" {
	[ "$(id -u)" -eq 0 ] || skip "mounting a small file system needs root"
	require unshare
	lines 60000 > in
	# In file systems of 40 and 100 MiB, after 4 MiB of a 16 MiB segment:
	# 12 MiB is more than a quarter of the first's free space, less than
	# a quarter of the second's.  The space is kept held to be seen.
	SYNCLOG_FAULT_EXE=logappend with_fault 'ftruncate~.log:1:EIO' \
	    ok unshare -m bash -euc '
	    for size in 40 100; do
		mkdir fs$size
		mount -t tmpfs -o size=${size}m none fs$size
		logappend -N -s 16M fs$size/L < in
		logcat fs$size/L | cmp - in
		set -- $(stat -c "%b %B %s" fs$size/L/*.log)
		echo $size $(($1 * $2 - $3 < 65536 ? 0 : $1 * $2))
	    done'
	output_is "40 0
100 $((16 << 20))"
	faults_fired 1
}

@test "logappend -z: batches are deflated when that pays, and read back" {
	seq 1 20000 > in
	ok logappend -z L < in
	set -- $(batches $seg0)
	is "$2" 1			# every batch compressed
	# Random bytes do not compress: such a batch is stored as it is.
	head -c 3000 /dev/urandom | tr '\n' . > rnd
	echo >> rnd
	ok logappend -z L < rnd
	set -- $(batches $seg0)
	is "$2 $3" "0 1"
	sh_ok 'logcat L | cmp - <(cat in rnd)'
	# Uncompressed writers and compressed ones mix in one log.
	ok logappend L <<<plain
	ok logcat -o -1 L
	output_is plain
}

@test "logappend -z keeps every byte of the corpus" {
	python3 "$BATS_TEST_DIRNAME/records.py" corpus > in.b
	ok logappend -z -B L < in.b
	sh_ok 'logcat -B L | cmp - in.b'
	set -- $(batches $seg0)
	is "$2" 1
}

@test "logappend -p killed with SIGKILL at random moments never loses a printed offset" {
	local k pid
	for k in $(seq 1 30); do
		logappend -p L < <(j=0; while :; do j=$((j + 1))
		    echo "$k-$j" || exit 0; done 2>/dev/null) > offs.$k &
		pid=$!
		sleep "$(printf '0.%03d' $((RANDOM % 60 + 5)))"
		kill -9 $pid
		wait $pid || true
		# Killed before its shell opened the output: nothing printed.
		[ -e offs.$k ] || : > offs.$k
	done
	logcat -F '%o %s\n' L > all
	# Every offset printed reads back with the line it was printed for.
	for k in $(seq 1 30); do
		awk -v k=$k 'NR == FNR { v[$1] = $2; next }
		    v[$1] != k "-" FNR {
			printf "run %d line %d: offset %s holds \"%s\"\n", k, FNR, $1, v[$1]
			bad = 1; exit
		    }
		    END { exit bad }' all offs.$k
	done
	# No offset was printed twice; something was printed at all.
	[ -z "$(cat offs.* | sort -n | uniq -d)" ]
	[ "$(cat offs.* | wc -l)" -gt 30 ]
	# Offsets stay dense after all the torn tails.
	awk '$1 != NR - 1 { print "offset " $1 " at line " NR; exit 1 }' all
}

@test "logappend with closed standard descriptors never writes into the log's files" {
	seq 1 3 | logappend L
	cp -a L before
	# stdout and stderr closed: a segment opened on descriptor 2 would
	# receive the diagnostic, over its first batch.
	expect 1 bash -c 'echo bad | logappend -J L >&- 2>&-'
	diff -r before L
	# The offsets cannot be printed (exit 2), but go nowhere else.
	expect 2 bash -c 'seq 4 6 | logappend -p L >&- 2>&-'
	# The lock file holds the writers' mark (synclog(5)), and only it.
	is "$(stat -c %s L/lock)" 64
	is "$(head -c 4 L/lock)" LSVM
	ok logcat L
	output_is "$(seq 1 6)"
	# stdin closed: no input.
	ok bash -c 'logappend -p L <&-'
	output_is ""
}

@test "logappend: a durable writer syncs the directory of a segment a -N writer made before acknowledging there" {
	# W (durable) is running when a -N writer rotates the log: the new
	# segment's name is not durable until somebody syncs the directory.
	# W's first batch there must do it: W syncs the directory once when
	# it opens the log; a failure of its second sync stops it before it
	# prints b's offset.
	logappend -s 4K L <<<a
	mkfifo in
	with_fault 'fsync@dir~/L:2:EIO' env SYNCLOG_FAULT_EXE=logappend \
	    logappend -p L <in >out 2>err &
	exec 7>in
	echo b >&7
	wait_until has_records 2 L
	seq 1 500 | logappend -N L
	[ "$(ls L/*.log | wc -l)" -gt 1 ]
	echo c >&7
	exec 7>&-
	wait $! && return 1
	is "$(cat out)" 1
	is "$(cat err)" "logappend: L: directory sync: Input/output error"
	faults_fired 1 '^fsync@dir~/L:2:EIO '
	# A writer that opens the log after the segment was made has synced
	# the directory on opening: no second sync.
	rm -f fault.log
	with_fault 'fsync@dir~/L:2:EIO' ok logappend -p L <<<d
	faults_fired 0
}
