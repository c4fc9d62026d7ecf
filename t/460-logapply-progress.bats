#!/usr/bin/env bats
# logapply's progress line: on a terminal only.
load helpers

@test "logapply shows records applied, rate and lag when stderr is a terminal" {
	require script
	sh_ok 'seq 1 20 | logappend -N L'
	ok script -qefc 'logapply -b 5 L c -- sh -c "cat >/dev/null; sleep 0.1"' out
	tr '\r' '\n' < out | grep -v '^Script' > lines
	grep -Eq '^logapply: c: [0-9]+ applied, [0-9]+/s, lag [0-9]+' lines
	# the last line is the total, on a line of its own
	grep -Eq '^logapply: c: 20 applied, [0-9]+/s, lag 0' lines
}

@test "logapply shows no progress when stderr is no terminal, or with -q" {
	require script
	sh_ok 'seq 1 20 | logappend -N L'
	ok logapply -b 5 L c -- sh -c 'cat >/dev/null; sleep 0.1'
	output_is ""
	ok logcheckpoint -s 0 L c
	ok script -qefc 'logapply -q -b 5 L c -- sh -c "cat >/dev/null"' out
	! grep -q applied out
}
