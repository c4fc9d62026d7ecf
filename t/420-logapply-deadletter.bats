#!/usr/bin/env bats
# logapply -d: a record that fails alone goes to a dead-letter log, with
# headers saying where it came from and why, and the consumer goes on.
load helpers

logid() { sed -n 's/^id //p' "$1"/settings; }

# A handler that fails on any batch holding a record "bad...".
fails_on_bad='b=$(cat); case $b in *bad*) exit 1 ;; esac; echo "$b" >> applied'

@test "logapply -d: the failing records are isolated, the others applied once, in order" {
	require jq
	sh_ok 'printf "%s\n" a b bad1 c d e f g bad2 h | logappend -N L'
	expect 0 logapply -b 100 -d D L c -- sh -c "$fails_on_bad"
	is "$stderr" "$(printf '%s\n' \
	    'logapply: L: c: offset 2 failed (exit status 1); appended to D at offset 0' \
	    'logapply: L: c: offset 8 failed (exit status 1); appended to D at offset 1')"
	is "$(tr '\n' ' ' < applied)" "a b c d e f g h "
	ok logcheckpoint L c
	output_is 10
	ok logcat -J D
	[ "${#lines[@]}" -eq 2 ]
	id=$(logid L)
	is "$(jq -c '[.value, (.headers | map([.name, .value]))]' <<<"${lines[0]}")" \
	    "[\"bad1\",[[\"logapply.log\",\"L\"],[\"logapply.log_id\",\"$id\"],[\"logapply.offset\",\"2\"],[\"logapply.consumer\",\"c\"],[\"logapply.error\",\"exit status 1\"]]]"
	is "$(jq -r '.value + " " + .headers[2].value' <<<"${lines[1]}")" "bad2 8"
}

@test "logapply -d: key, timestamp and headers of the record are kept" {
	require jq
	sh_ok "printf '{\"timestamp\":1234,\"key\":\"k\",\"value\":\"bad\",\"headers\":[{\"name\":\"h\",\"value\":\"v\"}]}\n' | logappend -J -N L"
	expect 0 logapply -d D L c -- sh -c 'exit 9'
	ok logcat -J D
	is "$(jq -c '[.timestamp, .key, .value, .headers[0].name, .headers[0].value, .headers[5].value]' <<<"$output")" \
	    '[1234,"k","bad","h","v","exit status 9"]'
}

@test "logapply -d: each suspect record is retried before it is set aside" {
	sh_ok 'printf "%s\n" a bad b | logappend -N L'
	echo 0 > n
	expect 0 logapply -r 2 -R 1 -d D L c -- sh -c '
		if grep -q bad; then echo $(($(cat n) + 1)) > n; exit 1; fi'
	# the batch: 3 tries; its halves: once each, then bad alone: 3 tries
	[ "$(cat n)" -ge 5 ]
	ok logcat D
	output_is bad
}

@test "logapply -d with -1 sets each failing record aside at once" {
	sh_ok 'printf "%s\n" a bad b | logappend -N L'
	expect 0 logapply -1 -d D L c -- sh -c "$fails_on_bad"
	is "$(tr '\n' ' ' < applied)" "a b "
	ok logcat D
	output_is bad
}

@test "logapply -d: a dead letter is durable before the checkpoint passes it" {
	sh_ok 'printf "%s\n" a bad b | logappend -N L'
	ok logcheckpoint -s 1 L c
	# killed just before the checkpoint passes the bad record: it is
	# set aside again by the next run (dead letters are at least once)
	with_fault 'rename~consumers:1:kill' expect 137 logapply -1 -d D L c -- sh -c "$fails_on_bad"
	faults_fired 1
	ok logcat D
	output_is bad
	ok logcheckpoint L c
	output_is 1
	expect 0 logapply -1 -d D L c -- sh -c "$fails_on_bad"
	ok logcat D
	is "$output" "$(printf 'bad\nbad')"
	# b may have run before the kill, the checkpoint write trailing it
	is "$(sort -u applied)" b
	ok logcheckpoint L c
	output_is 3
}

@test "logapply -d: the log itself cannot be its own dead-letter log" {
	sh_ok 'echo a | logappend -N L'
	fails 2 logapply -d L L c -- false
	stderr_is "logapply: L: c: the dead-letter log is the log itself"
	fails 2 logapply -d ./L/ L c -- false
}

@test "logapply -d: an unusable dead-letter log is exit 2 before anything is applied" {
	sh_ok 'echo a | logappend -N L'
	echo x > notadir
	fails 2 logapply -d notadir L c -- cat
	output_is ""
	ok logcheckpoint L c
	output_is 0
}
