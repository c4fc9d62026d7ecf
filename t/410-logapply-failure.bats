#!/usr/bin/env bats
# logapply: the checkpoint moves only after the command succeeded;
# failures, retries with backoff, transient failures.
load helpers

mklog() {
	sh_ok "seq 1 $1 | logappend -N L"
}

now_ms() { date +%s%3N; }

@test "logapply: exit 1 names the failing offsets, the checkpoint stays before them" {
	mklog 10
	fails 1 logapply -b 4 L c -- sh -c 'cat >> applied; [ $LOGAPPLY_FIRST -lt 4 ]'
	stderr_is "logapply: L: c: command failed on offsets 4-7 (exit status 1)"
	ok logcheckpoint L c
	output_is 4
	is "$(cat applied | tr '\n' ' ')" "1 2 3 4 5 6 7 8 "
	fails 1 logapply -1 L c -- sh -c 'exit 7'
	stderr_is "logapply: L: c: command failed on offset 4 (exit status 7)"
	fails 1 logapply L c -- sh -c 'kill -TERM $$'
	stderr_is "logapply: L: c: command failed on offsets 4-9 (killed by signal 15 (Terminated))"
	ok logcheckpoint L c
	output_is 4
	ok logapply L c -- cat
	is "$output" "$(seq 5 10)"
}

@test "logapply -r: retries with exponential backoff, then gives up" {
	mklog 3
	echo 0 > n
	t0=$(now_ms)
	fails 1 logapply -r 3 -R 100 L c -- sh -c 'echo $(($(cat n) + 1)) > n; date +%s%3N >> times; exit 3'
	t1=$(now_ms)
	is "$(cat n)" 4
	stderr_is "logapply: L: c: command failed on offsets 0-2 (exit status 3)"
	# waits of 100, 200 and 400 ms between the four runs
	mapfile -t t < times
	[ $((t[1] - t[0])) -ge 100 ] && [ $((t[2] - t[1])) -ge 200 ] && [ $((t[3] - t[2])) -ge 400 ]
	[ $((t[2] - t[1])) -lt $((t[3] - t[2])) ]
	[ $((t1 - t0)) -lt 5000 ]
	ok logcheckpoint L c
	output_is 0
}

@test "logapply -r: a batch that succeeds on a retry is applied once and committed" {
	mklog 5
	echo 0 > n
	ok logapply -r 5 -R 1 -b 2 L c -- sh -c '
		n=$(($(cat n) + 1)); echo $n > n
		[ $n -ge 3 ] || exit 1
		cat'
	is "$output" "$(seq 1 5)"
	ok logcheckpoint L c
	output_is 5
}

@test "logapply: every try sees the whole batch again" {
	mklog 3
	echo 0 > n
	ok logapply -r 2 -R 1 L c -- sh -c '
		n=$(($(cat n) + 1)); echo $n > n
		wc -l >> counts
		[ $n -ge 3 ]'
	is "$(cat counts | tr -d ' ' | tr '\n' ' ')" "3 3 3 "
}

@test "logapply: a failure after a success keeps the success" {
	mklog 6
	fails 1 logapply -b 2 L c -- sh -c '[ $LOGAPPLY_FIRST -ne 4 ]'
	ok logcheckpoint L c
	output_is 4
}

@test "logapply: exit 75 (EX_TEMPFAIL) is retried but never set aside" {
	mklog 3
	fails 1 logapply -r 1 -R 1 -d dead L c -- sh -c 'exit 75'
	stderr_is "logapply: L: c: command failed on offsets 0-2 (exit status 75); a transient failure is never set aside"
	[ ! -e dead ] || [ -z "$(logcat dead)" ]
	ok logcheckpoint L c
	output_is 0
}

@test "logapply: a failing checkpoint write is exit 2 and the checkpoint stays valid" {
	mklog 6
	ok logcheckpoint -s 0 L c
	# Batches slower than the checkpoint interval (50 ms), so that each
	# commit is a write of its own: quicker ones may coalesce into one,
	# and the second rename would never come (seen under ASan in CI).
	with_fault 'rename~consumers:2:EIO' fails 2 logapply -b 2 L c -- \
	    sh -c 'cat; sleep 0.1'
	stderr_has 'checkpoint: Input/output error'
	faults_fired 1
	# Commits coalesce while a write is under way: the first that made
	# it is 2 or 4, never the one that failed.
	ok logcheckpoint L c
	at=$output
	[ "$at" = 2 ] || [ "$at" = 4 ]
	with_fault 'fsync~consumers:1:ENOSPC' fails 2 logapply -b 2 L c -- cat
	# Said once (it was said twice, by the stop and by its drain).
	stderr_is 'logapply: L: c: checkpoint: No space left on device'
	ok logcheckpoint L c
	output_is "$at"
	ok logapply -b 2 L c -- cat
	is "$output" "$(seq $((at + 1)) 6)"
}

@test "logapply: no batch starts once a checkpoint write has failed" {
	mklog 6
	ok logcheckpoint -s 0 L c
	# Batch 0-1 is applied and its checkpoint written while batch 2-3
	# fails; that write fails too (the writer's first rename), and is
	# known (its fault logged) before batch 2-3 exits.  The retry, a
	# second later, must not run: the run stops at the failed write.
	# (Batch 2-3 itself may run or not, as the write fails before or
	# after it starts.)
	with_fault 'rename~consumers:1:EIO' fails 2 logapply -b 2 -r 3 \
	    -R 1000 L c -- sh -c '
		echo "$LOGAPPLY_FIRST" >> ran
		[ "$LOGAPPLY_FIRST" = 0 ] && exit 0
		while ! grep -q rename fault.log 2>/dev/null; do sleep 0.01; done
		exit 1'
	stderr_is 'logapply: L: c: checkpoint: Input/output error'
	faults_fired 1
	case $(cat ran | tr '\n' ' ') in
	"0 " | "0 2 ") ;;
	*) echo "ran: $(cat ran)" >&2; false ;;
	esac
	ok logcheckpoint L c
	output_is 0
}

@test "logapply: a command killed by a signal is a transient failure: retried, never set aside" {
	mklog 3
	echo 0 > n
	fails 1 logapply -r 2 -R 1 -d dead L c -- sh -c '
		echo $(($(cat n) + 1)) > n; kill -KILL $$'
	stderr_is "logapply: L: c: command failed on offsets 0-2 (killed by signal 9 (Killed)); a transient failure is never set aside"
	is "$(cat n)" 3
	[ ! -e dead ] || [ -z "$(logcat dead)" ]
	ok logcheckpoint L c
	output_is 0
	# Once it is no longer killed, every record is applied.
	ok logapply -d dead L c -- cat
	is "$output" "$(seq 1 3)"
}

@test "logapply: a spool that cannot be mapped or sized is exit 2, nothing applied" {
	mklog 6
	ok logcheckpoint -s 0 L c
	with_fault 'mmap~memfd:1:ENOMEM' fails 2 logapply L c -- cat
	stderr_is "logapply: L: c: spool: mmap: Cannot allocate memory"
	faults_fired 1
	is "$output" ""
	rm fault.log
	with_fault 'ftruncate~memfd:1:ENOSPC' fails 2 logapply L c -- cat
	stderr_is "logapply: L: c: spool: No space left on device"
	faults_fired 1
	is "$output" ""
	ok logcheckpoint L c
	output_is 0
}
