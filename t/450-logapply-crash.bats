#!/usr/bin/env bats
# logapply killed with SIGKILL, again and again: with a handler that
# keeps the next offset in the same transaction as the data (the handler
# of logapply(1), EXAMPLES), every record is applied exactly once.
load helpers

# handler: the exactly-once SQLite handler of logapply(1), EXAMPLES, taken
# from the manual page itself, and a wrapper that records its pid for the
# killer.
handler() {
	require mandoc
	mandoc -Tascii "$BATS_TEST_DIRNAME/../man/logapply.1" | col -bx |
	    sed -n '/^ *#!\/bin\/sh/,/COMMIT;/p' | sed 's/^           //' > apply-sqlite
	grep -q "^exec sqlite3" apply-sqlite
	printf '#!/bin/sh\necho $$ > handler.pid\nexec ./apply-sqlite "$@"\n' > apply
	chmod +x apply apply-sqlite
}

# verify N: the store holds records 0..N-1, each once, and says so.
verify() {
	ok sqlite3 store.db "SELECT count(*), count(DISTINCT off), min(off),
	    max(off), sum(val != off + 1), (SELECT next FROM applied) FROM events"
	output_is "$1|$1|0|$(($1 - 1))|0|$1"
	ok logcheckpoint L db
	output_is "$1"
}

@test "the exactly-once handler of logapply(1) applies a replayed batch once" {
	require sqlite3
	handler
	sh_ok 'seq 1 10 | logappend -N L'
	ok logapply -J -b 4 L db -- ./apply store.db
	verify 10
	# replay all of it, then part of it in other batches: nothing changes
	ok logcheckpoint -s 0 L db
	ok logapply -J -b 3 L db -- ./apply store.db
	ok logcheckpoint -s 5 L db
	ok logapply -J -1 L db -- ./apply store.db
	verify 10
	sh_ok 'seq 11 12 | logappend -N L'
	ok logcheckpoint -s 8 L db
	ok logapply -J -b 100 L db -- ./apply store.db
	verify 12
}

@test "a SQLite consumer killed with SIGKILL at random moments applies every record exactly once" {
	require sqlite3
	handler
	n=6000
	sh_ok "seq 1 $n | logappend -N L"
	landed=0
	for i in $(seq 1 ${CRASH_LOOPS:-40}); do
		logapply -q -J -b $((RANDOM % 50 + 1)) L db -- ./apply store.db 2>>apply.err &
		pid=$!
		sleep "0.0$((RANDOM % 4))$((RANDOM % 10))"
		# now and then the handler dies first, mid-transaction
		if [ $((RANDOM % 3)) -eq 0 ] && [ -s handler.pid ]; then
			kill -KILL "$(cat handler.pid)" 2>/dev/null || true
		fi
		if kill -KILL $pid 2>/dev/null; then
			landed=$((landed + 1))
		fi
		wait $pid 2>/dev/null || true
		# a handler outliving logapply holds the consumer until it is done
		[ ! -e L/consumers/db.lock ] ||
		    timeout 10 flock L/consumers/db.lock true
		[ "$(logcheckpoint L db 2>/dev/null)" = $n ] && break
	done
	echo "applied before the last run: $(logcheckpoint L db) of $n" >&3
	# the last run finishes the job
	ok logapply -q -J -b 100 L db -- ./apply store.db
	verify $n
	echo "kills that landed: $landed" >&3
	[ $landed -ge 20 ]
	# a killed handler is a failed batch, reported; nothing else went wrong
	# (a SIGKILL may cut a message short, leaving just the program name)
	if [ -s apply.err ]; then
		! grep -v 'killed by signal 9\|command failed\|^logapply:\? *$' apply.err
	fi
}

@test "killed between the store's commit and the checkpoint, the batch is offered again and skipped" {
	require sqlite3
	handler
	sh_ok 'seq 1 10 | logappend -N L'
	ok logcheckpoint -s 0 L db
	# the first checkpoint write after the first batch: killed at rename
	with_fault 'rename~consumers:1:kill' expect 137 logapply -J -b 4 L db -- ./apply store.db
	faults_fired 1
	ok logcheckpoint L db
	output_is 0
	ok sqlite3 store.db 'SELECT next FROM applied'
	[ "$output" -ge 4 ]
	ok logapply -J -b 4 L db -- ./apply store.db
	verify 10
}

@test "logapply killed while its handler runs: the handler still gets the whole batch" {
	sh_ok 'seq 1 1000 | logappend -N L'
	mkfifo go
	logapply -b 1000 L c -- sh -c 'read x < go; wc -l > count; echo $LOGAPPLY_LAST >> count' &
	pid=$!
	for _ in $(seq 200); do
		[ -n "$(ps -o pid= --ppid $pid)" ] && break
		sleep 0.02
	done
	kill -KILL $pid
	wait $pid || true
	echo > go
	for _ in $(seq 200); do
		[ "$(wc -l < count 2>/dev/null)" = 2 ] && break
		sleep 0.02
	done
	is "$(tr -d ' ' < count | tr '\n' ' ')" "1000 999 "
	ok logcheckpoint L c
	output_is 0
}

@test "logapply: a command outliving a killed logapply keeps the consumer locked until it ends" {
	seq 1 10 | logappend L
	logapply -b 100 L c -- sh -c 'touch started; cat >/dev/null; sleep 2' &
	pid=$!
	for _ in $(seq 1 100); do [ -e started ] && break; sleep 0.05; done
	[ -e started ]
	kill -9 "$pid"
	fails 1 logapply L c -- cat
	stderr_is "logapply: L: c: consumer is locked by another logapply"
	# once the orphaned command is done the consumer is free again
	for _ in $(seq 1 60); do
		logapply L c -- cat >/dev/null 2>&1 && break
		sleep 0.1
	done
	ok logcheckpoint L c
	output_is 10
}
