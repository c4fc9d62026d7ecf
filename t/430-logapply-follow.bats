#!/usr/bin/env bats
# logapply -f follows the log; SIGINT and SIGTERM finish the batch,
# commit it and exit 0.
load helpers

mklog() {
	sh_ok "seq 1 $1 | logappend -N L"
}

now_ms() { date +%s%3N; }

# started NAME: wait until logapply has created consumer NAME.
started() {
	for _ in $(seq 200); do
		[ -e "L/consumers/$1.ckpt" ] && return 0
		sleep 0.02
	done
	return 1
}

# child_of PID: wait until PID has a child process, print it.
child_of() {
	local c
	for _ in $(seq 200); do
		c=$(ps -o pid= --ppid "$1" | tr -d ' ')
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.02
	done
	return 1
}

@test "logapply -f applies records as they are appended" {
	mklog 3
	logapply -f -b 2 L c -- sh -c 'cat >> applied' 2>err &
	pid=$!
	started c
	ok logcheckpoint -w -T 10 L c
	is "$(tr '\n' ' ' < applied)" "1 2 3 "
	for i in 4 5 6 7 8; do
		t0=$(now_ms)
		sh_ok "echo $i | logappend -N L"
		ok logcheckpoint -w -T 10 L c
		[ $(($(now_ms) - t0)) -lt 2000 ]
	done
	is "$(tr '\n' ' ' < applied)" "1 2 3 4 5 6 7 8 "
	kill -TERM $pid
	wait $pid
	[ ! -s err ]
}

@test "logapply -f: SIGTERM while caught up exits 0 at once" {
	mklog 1
	logapply -f L c -- cat >/dev/null &
	pid=$!
	started c
	ok logcheckpoint -w -T 10 L c
	sleep 0.2
	t0=$(now_ms)
	kill -TERM $pid
	wait $pid
	[ $(($(now_ms) - t0)) -lt 1000 ]
	ok logcheckpoint L c
	output_is 1
}

@test "logapply: SIGTERM during a batch lets it finish, commits it, exits 0" {
	mklog 10
	mkfifo go
	logapply -b 4 L c -- sh -c 'cat >> applied; read x < go' &
	pid=$!
	child_of $pid >/dev/null
	kill -TERM $pid
	sleep 0.2
	kill -0 $pid		# still waiting for its command
	echo > go
	wait $pid
	is "$(tr '\n' ' ' < applied)" "1 2 3 4 "
	ok logcheckpoint L c
	output_is 4
}

@test "logapply: SIGINT does the same, and never reaches the command" {
	mklog 10
	mkfifo go
	logapply -b 4 L c -- sh -c 'trap "echo INT >> applied" INT; cat >> applied; read x < go' &
	pid=$!
	cmd=$(child_of $pid)
	# a ^C goes to the terminal's foreground process group: not the
	# command's, which has a group of its own
	[ "$(ps -o pgid= -p $cmd | tr -d ' ')" = "$cmd" ]
	kill -INT $pid
	sleep 0.1
	echo > go
	wait $pid
	is "$(tr '\n' ' ' < applied)" "1 2 3 4 "
	ok logcheckpoint L c
	output_is 4
}

@test "logapply: a signal during the backoff stops without committing the failed batch" {
	mklog 3
	logapply -r 5 -R 5000 L c -- sh -c 'touch ran; exit 1' 2>err &
	pid=$!
	for _ in $(seq 200); do
		[ -e ran ] && break
		sleep 0.02
	done
	sleep 0.2
	t0=$(now_ms)
	kill -TERM $pid
	wait $pid
	[ $(($(now_ms) - t0)) -lt 2000 ]
	is "$(cat err)" "logapply: L: c: command failed on offsets 0-2 (exit status 1); stopping"
	ok logcheckpoint L c
	output_is 0
}

@test "logapply -f follows across segment rotation" {
	sh_ok 'seq 1 3 | logappend -N -s 4096 L'
	logapply -f L c -- sh -c 'cat >> applied' &
	pid=$!
	started c
	ok logcheckpoint -w -T 10 L c
	for i in $(seq 4 400); do echo "record $i"; done > more
	sh_ok 'logappend -N L < more'
	sh_ok 'echo last | logappend -N L'
	ok logcheckpoint -w -T 10 L c
	[ "$(ls L/*.log | wc -l)" -gt 1 ]
	is "$(tail -n 1 applied)" last
	is "$(wc -l < applied)" 401
	kill -TERM $pid
	wait $pid
}
