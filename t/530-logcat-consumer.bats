#!/usr/bin/env bats
# logcat -g NAME: print from a consumer's checkpoint, never moving it.
load helpers

@test "logcat -g starts at the consumer's checkpoint and leaves it alone" {
	sh_ok 'seq 1 10 | logappend -N L'
	ok logcheckpoint -s 7 L c
	before=$(od -An -tx1 L/consumers/c.ckpt)
	ok logcat -g c L
	is "$output" "$(printf '8\n9\n10')"
	ok logcat --consumer c -c 1 L
	output_is 8
	ok logcat -g c -o e@99999999999999 L
	is "${#lines[@]}" 3
	is "$(od -An -tx1 L/consumers/c.ckpt)" "$before"
	ok logcheckpoint -s end L c
	ok logcat -g c L
	output_is ""
}

@test "logcat -g follows from the checkpoint" {
	sh_ok 'seq 1 3 | logappend -N L'
	ok logcheckpoint -s 2 L c
	logcat -f -g c L > out &
	pid=$!
	sh_ok 'echo 4 | logappend -N L'
	for _ in $(seq 100); do
		[ "$(wc -l < out)" -ge 2 ] && break
		sleep 0.05
	done
	kill $pid
	wait $pid || true
	is "$(tr '\n' ' ' < out)" "3 4 "
}

@test "logcat -g: a missing, damaged or invalid consumer is an error" {
	sh_ok 'seq 1 3 | logappend -N L'
	fails 1 logcat -g nobody L
	stderr_is "logcat: L: nobody: no such consumer"
	output_is ""
	ok logcheckpoint -s 1 L c
	printf 'garbage' > L/consumers/c.ckpt
	fails 1 logcat -g c L
	# logcheckpoint's and logapply's words for it (cmd/common/args.c).
	stderr_is "logcat: L: c: damaged checkpoint (file too short); set it again with logcheckpoint -s"
	fails 2 logcat -g .bad L
	fails 2 logcat -g c -o 1 L
	fails 2 logcat -g c -o 1 -o 2 L
}
