#!/usr/bin/env bats
# logcheckpoint -w: the read-your-writes barrier.
load helpers

mklog() {
	sh_ok "seq 1 $1 | logappend -N L"
}

now_ms() { date +%s%3N; }

# inotify_of PID: the process has an inotify descriptor open.
inotify_of() { ls -l "/proc/$1/fd" 2>/dev/null | grep -q inotify; }

@test "logcheckpoint -w returns at once when every consumer is there" {
	mklog 10
	ok logcheckpoint -s end L a
	ok logcheckpoint -s 10 L b
	ok logcheckpoint -w L a b
	output_is ""
	ok logcheckpoint -w -T 0 L a
	ok logcheckpoint -w -o 9 L a
	ok logcheckpoint -w -o -1 L a
	ok logcheckpoint -w -o beginning L a
	ok logcheckpoint -w -o s@0 L a
	ok logcheckpoint -w -o e@99999999999999 L a
}

@test "logcheckpoint -w -o end waits for the next record, as -o N does with the same N" {
	mklog 10
	ok logcheckpoint -s end L a
	# end names offset 10, the next record to be written, as for
	# logcat -o end: the same wait as -o 10 (it once returned at once).
	fails 1 logcheckpoint -w -T 0 -o end L a
	stderr_is "logcheckpoint: L: a: timeout at offset 10, waiting for 11"
	fails 1 logcheckpoint -w -T 0 -o 10 L a
	stderr_is "logcheckpoint: L: a: timeout at offset 10, waiting for 11"
	# So does a time no record has reached yet.
	fails 1 logcheckpoint -w -T 0 -o "s@$((($(date +%s) + 3600) * 1000))" L a
	stderr_is "logcheckpoint: L: a: timeout at offset 10, waiting for 11"
	logcheckpoint -w -T 20 -o end L a 2>err &
	pid=$!
	# Its target is set once it watches the checkpoints (inotify).
	wait_until inotify_of "$pid"
	echo eleven | logappend -N L
	ok logcheckpoint -s end L a
	wait $pid
	[ ! -s err ]
}

@test "logcheckpoint -w -T times out with exit 1 naming the consumer behind" {
	mklog 10
	ok logcheckpoint -s 10 L a
	ok logcheckpoint -s 4 L b
	t0=$(now_ms)
	fails 1 logcheckpoint -w -T 0.3 L a b
	t1=$(now_ms)
	stderr_is "logcheckpoint: L: b: timeout at offset 4, waiting for 10"
	[ $((t1 - t0)) -ge 300 ] && [ $((t1 - t0)) -lt 3000 ]
	fails 1 logcheckpoint -w -T 0 -o 4 L b
	stderr_is "logcheckpoint: L: b: timeout at offset 4, waiting for 5"
	ok logcheckpoint -w -T 0 -o 3 L b
	# An offset not written yet: wait for its record to be applied.
	fails 1 logcheckpoint -w -T 0 -o 12 L a
	stderr_is "logcheckpoint: L: a: timeout at offset 10, waiting for 13"
}

@test "logcheckpoint -w wakes when the checkpoint moves, without polling" {
	mklog 10
	ok logcheckpoint -s 2 L a
	logcheckpoint -w -T 20 L a 2>err &
	pid=$!
	sleep 0.3
	kill -0 $pid
	ok logcheckpoint -s 5 L a
	sleep 0.2
	kill -0 $pid
	t0=$(now_ms)
	ok logcheckpoint -s 10 L a
	wait $pid
	t1=$(now_ms)
	[ $((t1 - t0)) -lt 1000 ]
	[ ! -s err ]
}

@test "logcheckpoint -w sleeps in poll, not in a loop of reads" {
	require strace
	mklog 10
	ok logcheckpoint -s 2 L a
	expect 1 strace -f -e trace=openat -o trace logcheckpoint -w -T 1 L a
	# One read of the checkpoint before sleeping, one after the timeout.
	n=$(grep -c 'a\.ckpt' trace)
	[ "$n" -le 3 ]
}

@test "logcheckpoint -w follows logapply: read your writes" {
	mklog 3
	logapply -f -b 2 L db -- sh -c 'cat >> applied' &
	pid=$!
	for _ in $(seq 200); do
		[ -e L/consumers/db.ckpt ] && break
		sleep 0.02
	done
	off=$(echo hello | logappend -p -N L)
	is "$off" 3
	ok logcheckpoint -w -T 10 -o "$off" L db
	grep -qx hello applied
	for i in 4 5 6; do echo r$i; done | logappend -N L
	ok logcheckpoint -w -T 10 L db
	is "$(tail -n 1 applied)" r6
	kill -TERM $pid
	wait $pid
}

@test "logcheckpoint -w: a missing, deleted, damaged or foreign consumer is exit 1" {
	mklog 10
	fails 1 logcheckpoint -w -T 1 L nobody
	stderr_is "logcheckpoint: L: nobody: no such consumer"
	ok logcheckpoint -s 1 L a
	ok logcheckpoint -s 10 L b
	fails 1 logcheckpoint -w -T 1 L b nobody
	logcheckpoint -w -T 20 L a 2>err &
	pid=$!
	sleep 0.2
	ok logcheckpoint -d L a
	rc=0
	wait $pid || rc=$?
	is "$rc" 1
	is "$(cat err)" "logcheckpoint: L: a: no such consumer"
	printf 'garbage' > L/consumers/b.ckpt
	fails 1 logcheckpoint -w L b
	stderr_has 'damaged checkpoint'
}
