#!/usr/bin/env bats
# logcat -f: follows appends as they happen, across segment rotation, stops
# at -c or an end offset, and takes a torn tail under a writer as the end.
# Every wait is a bounded loop, never a fixed sleep.
load helpers

# lines_are N FILE: FILE holds N complete lines.
lines_are() { [ "$(wc -l < "$2")" -eq "$1" ]; }

# follow OUT ARG...: start logcat -f ARG... in the background, its output
# in OUT, its stderr in OUT.err; $follower is its pid.
follow() {
	local out=$1
	shift
	logcat -f "$@" > "$out" 2> "$out.err" &
	follower=$!
}

# stop_follower: kill the follower, check it was still running and said
# nothing on stderr.
stop_follower() {
	kill -0 $follower || { echo "the follower had exited" >&2; return 1; }
	kill $follower
	wait $follower || true
	is "$(cat "$1.err")" ""
}

@test "logcat -f prints what is appended while it runs, across segment rotation" {
	seq 1 10 | logappend -s 4K L
	follow out L
	wait_until lines_are 10 out
	for b in 1 2 3 4 5; do
		seq $((b * 1000 + 1)) $((b * 1000 + 1000)) | logappend L
	done
	wait_until lines_are 5010 out
	stop_follower out
	[ "$(ls L/*.log | wc -l)" -gt 10 ]
	cmp out <(seq 1 10; seq 1001 6000)
}

@test "logcat -f shows each record of a slow stream as it arrives" {
	logappend L </dev/null
	follow out L
	# Each line must reach the follower while logappend still waits for
	# the next: the writer sends line i+1 only once line i was printed.
	ok logappend L < <(for i in $(seq 1 20); do
		echo "r$i"
		wait_until lines_are $i out || exit 1
	done)
	stop_follower out
	cmp out <(seq 1 20 | sed 's/^/r/')
}

@test "logcat -f starts at -o and stops at an end offset" {
	seq 1 10 | logappend L
	logcat -f -o 5 -o 15 L > out &
	pid=$!
	wait_until lines_are 5 out
	seq 11 20 | logappend L
	# It exits by itself once offset 14 is printed.
	wait $pid
	cmp out <(seq 6 15)
}

@test "logcat -f -o e@TIME in the future waits for the first record at or after TIME" {
	local t0=1795168800000
	json() { printf '{"timestamp":%d,"value":"%s"}\n' $((t0 + $1 * 1000)) "$2"; }
	{ json 0 a; json 1 b; } | logappend -J L
	logcat -f -o e@$((t0 + 5000)) L > out &
	pid=$!
	wait_until lines_are 2 out
	# Still before TIME: printed.  Then one at TIME: the end.
	json 3 c | logappend -J L
	wait_until lines_are 3 out
	{ json 5 d; json 4 e; } | logappend -J L
	wait $pid
	cmp out <(printf 'a\nb\nc\n')
	# The same end, now that a record at TIME exists, without -f.
	ok logcat -o e@$((t0 + 5000)) L
	output_is "a
b
c"
}

@test "logcat -f -c stops after COUNT records, waiting for them if needed" {
	seq 1 3 | logappend L
	ok timeout 10 logcat -f -c 2 L
	output_is "1
2"
	logcat -f -c 5 L > out &
	pid=$!
	wait_until lines_are 3 out
	seq 4 9 | logappend L
	wait $pid
	cmp out <(seq 1 5)
}

@test "logcat -f from the end prints only new records" {
	seq 1 5 | logappend L
	follow out -o end L
	# We cannot see when the follower has resolved "end": append one
	# record at a time until it prints; what it prints must then be the
	# records after some point, and none of the first five.
	for i in $(seq 6 500); do
		echo $i | logappend L
		[ -s out ] && break
		sleep 0.02
	done
	last=$i
	for i in $(seq $((last + 1)) $((last + 3))); do
		echo $i | logappend L
	done
	wait_until grep -qx $((last + 3)) out
	stop_follower out
	first=$(head -1 out)
	[ "$first" -ge 6 ]
	cmp out <(seq "$first" $((last + 3)))
}

@test "logcat -f -k follows only the records with that key" {
	logappend L </dev/null
	follow out -k a L
	printf 'a:1\nb:2\na:3\n' | logappend -K : L
	wait_until lines_are 2 out
	printf 'b:4\na:5\n' | logappend -K : L
	wait_until lines_are 3 out
	stop_follower out
	cmp out <(printf '1\n3\n5\n')
}

@test "logcat -f follows several logs at once" {
	logappend A </dev/null
	logappend B </dev/null
	follow out -F '%t %s\n' A B
	echo a1 | logappend A
	wait_until lines_are 1 out
	echo b1 | logappend B
	wait_until lines_are 2 out
	echo a2 | logappend A
	wait_until lines_are 3 out
	stop_follower out
	is "$(cut -d' ' -f2 out | tr '\n' ' ')" "a1 b1 a2 "
}

@test "logcat -f takes a torn tail under a writer as the end, then goes on" {
	seq 1 3 | logappend L
	follow out L
	wait_until lines_are 3 out
	# A writer dies in the middle of its batch: half of it is on disk.
	with_fault 'pwrite:1:short,pwrite:2:kill' expect 137 logappend L \
	    < <(seq 4 6)
	faults_fired 2
	[ "$(stat -c %s L/00000000000000000000.log)" -gt 73 ]
	# The next writer cuts the torn batch and appends in its place.
	echo 7 | logappend L
	wait_until lines_are 4 out
	stop_follower out
	cmp out <(seq 1 3; echo 7)
}

@test "logcat -f of compressed batches" {
	seq 1 10 | logappend -z -s 4K L
	follow out L
	seq 11 3000 | logappend -z L
	wait_until lines_are 3000 out
	stop_follower out
	cmp out <(seq 1 3000)
}

@test "logcat -f stops with exit 1 at corruption, after the good records" {
	for i in 1 2 3; do echo "r$i" | logappend L; done
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 1]))' \
	    L/00000000000000000000.log
	expect 1 timeout 10 logcat -f L
	output_is r1
	stderr_is "logcat: L: 00000000000000000000.log: byte 60: offset 1: checksum mismatch, followed by valid data at byte 120"
}

@test "logcat -f on a missing log is an error (exit 2)" {
	fails 2 logcat -f nosuch
	stderr_is "logcat: nosuch: No such file or directory"
}
