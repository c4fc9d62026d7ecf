#!/usr/bin/env bats
# logcheckpoint: list, show, set, shift, compare-and-set, delete.
load helpers

# mklog N: a log L holding the records 1..N.
mklog() {
	sh_ok "seq 1 $1 | logappend -N L"
}

@test "logcheckpoint: --help, --version and usage errors" {
	ok logcheckpoint --help
	case $output in "usage: logcheckpoint "*) ;; *) false ;; esac
	ok logcheckpoint -h
	ok logcheckpoint --version
	output_is "logcheckpoint synclog $(sed -n 's/^#define SL_VERSION[^"]*"\(.*\)"/\1/p' "$BATS_TEST_DIRNAME/../lib/synclog.h")"
	mklog 3
	expect 2 logcheckpoint
	case $stderr in "usage: logcheckpoint "*) ;; *) false ;; esac
	expect 2 logcheckpoint -q L
	expect 2 logcheckpoint -s 1 L
	expect 2 logcheckpoint -d L
	expect 2 logcheckpoint -w L
	expect 2 logcheckpoint L a b
	fails 2 logcheckpoint -s 1 -d L a
	fails 2 logcheckpoint -s 1 -S 1 L a
	fails 2 logcheckpoint -n L a
	fails 2 logcheckpoint -i 3 L a
	fails 2 logcheckpoint -T 1 L a
	fails 2 logcheckpoint -o 1 -s 1 L a
	fails 2 logcheckpoint -J -s 1 L a
	fails 2 logcheckpoint -w -T soon L a
	fails 2 logcheckpoint -w -T -1 L a
	fails 2 logcheckpoint -i x -s 1 L a
	fails 2 logcheckpoint -S x L a
	fails 2 logcheckpoint -s nowhere L a
}

@test "logcheckpoint: a missing log or a directory that is no log is exit 2" {
	fails 2 logcheckpoint nolog
	stderr_has nolog
	mkdir empty
	fails 2 logcheckpoint empty
	fails 2 logcheckpoint empty a
}

@test "logcheckpoint: consumer names are letters, digits, dot, dash, underscore" {
	mklog 3
	for bad in .hidden 'a b' a/b '' 'x;y' "$(printf 'a\tb')" ../L é \
	    "$(printf '%0129d' 0)"; do
		fails 2 logcheckpoint -s 1 L "$bad"
		stderr_has 'invalid consumer name'
		fails 2 logcheckpoint L "$bad"
	done
	for good in a A.b-c_9 0 x.lock x.ckpt "$(printf '%0128d' 0)"; do
		ok logcheckpoint -s 1 L "$good"
		ok logcheckpoint L "$good"
		output_is 1
	done
	ok logcheckpoint L x.lock
	output_is 1
}

@test "logcheckpoint: an unconsumed log lists nothing; get of a missing consumer is exit 1" {
	mklog 3
	rm -rf L/consumers
	ok logcheckpoint L
	output_is ""
	fails 1 logcheckpoint L db
	stderr_is "logcheckpoint: L: db: no such consumer"
	ok logcheckpoint -J L
	output_is ""
}

@test "logcheckpoint: set creates, get prints the offset, list shows name, offset, lag, time" {
	mklog 10
	before=$(date -u +%s)
	ok logcheckpoint -s 3 L db
	output_is ""
	ok logcheckpoint -s end L cache
	ok logcheckpoint L db
	output_is 3
	ok logcheckpoint L
	[ "${#lines[@]}" -eq 2 ]
	set -- ${lines[0]}
	is "$1 $2 $3" "cache 10 0"
	set -- ${lines[1]}
	is "$1 $2 $3" "db 3 7"
	[[ $4 =~ ^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]{8}\.[0-9]{3}Z$ ]]
	t=$(date -u -d "$4" +%s)
	[ "$t" -ge "$before" ] && [ "$t" -le "$(date -u +%s)" ]
	[ -f L/consumers/db.ckpt ] && [ "$(stat -c %s L/consumers/db.ckpt)" -eq 64 ]
}

@test "logcheckpoint: -J and -Y show the same fields" {
	require jq
	mklog 5
	ok logcheckpoint -s 2 L b
	ok logcheckpoint -s 5 L a
	ok logcheckpoint -J L
	[ "${#lines[@]}" -eq 2 ]
	is "$(jq -c '[.consumer, .offset, .lag]' <<<"${lines[0]}")" '["a",5,0]'
	is "$(jq -c '[.consumer, .offset, .lag]' <<<"${lines[1]}")" '["b",2,3]'
	ms=$(jq .updated <<<"${lines[1]}")
	[ "$ms" -gt 1700000000000 ]
	is "$(jq -r .updated_iso <<<"${lines[1]}")" "$(date -u -d @$((ms / 1000)) +%Y-%m-%dT%H:%M:%S).$(printf %03d $((ms % 1000)))Z"
	ok logcheckpoint -J L b
	is "$(jq -c '[.consumer, .offset, .lag]' <<<"$output")" '["b",2,3]'
	ok logcheckpoint -Y L
	require python3
	sh_ok "logcheckpoint -Y L | python3 -c 'import sys, yaml, json
for d in yaml.safe_load_all(sys.stdin): print(json.dumps([d[\"consumer\"], d[\"offset\"], d[\"lag\"]]))'"
	is "${lines[0]}" '["a", 5, 0]'
	is "${lines[1]}" '["b", 2, 3]'
}

@test "logcheckpoint -Y quotes names that YAML would read as numbers or booleans" {
	require python3
	mklog 2
	for n in 1 true null 0x10; do ok logcheckpoint -s 1 L $n; done
	sh_ok "logcheckpoint -Y L | python3 -c 'import sys, yaml
print(\" \".join(repr(d[\"consumer\"]) for d in yaml.safe_load_all(sys.stdin)))'"
	output_is "'0x10' '1' 'null' 'true'"
}

@test "logcheckpoint -s: every offset specification" {
	mklog 10
	for spec in beginning:0 end:10 4:4 0:0 10:10 -3:7 -10:0 -11:0; do
		ok logcheckpoint -s "${spec%:*}" L c
		ok logcheckpoint L c
		output_is "${spec##*:}"
	done
}

@test "logcheckpoint -s: by time, s@ and e@, in ms, ISO 8601 and relative" {
	now=$(date +%s%3N)
	sh_ok "printf '{\"timestamp\":%s,\"value\":\"x\"}\n' 1000 2000 3000 4000 | logappend -J -N L"
	for spec in s@2000:1 s@2500:2 s@0:0 s@5000:4 e@3000:2 \
	    s@1970-01-01T00:00:03Z:2 s@1970-01-01T00:00:02.001Z:2 \
	    s@1970-01-01T01:00:02+01:00:1 s@-1h:4; do
		ok logcheckpoint -s "${spec%:*}" L c
		ok logcheckpoint L c
		output_is "${spec##*:}"
	done
	sh_ok "printf '{\"timestamp\":%s,\"value\":\"y\"}\n' $now | logappend -J -N L"
	ok logcheckpoint -s s@-1h L c
	ok logcheckpoint L c
	output_is 4
}

@test "logcheckpoint -s refuses an offset beyond the end of the log" {
	mklog 10
	ok logcheckpoint -s 4 L c
	fails 2 logcheckpoint -s 11 L c
	stderr_is "logcheckpoint: L: c: offset 11 is beyond the end of the log (10)"
	fails 2 logcheckpoint -s 18446744073709551615 L c
	ok logcheckpoint L c
	output_is 4
	fails 2 logcheckpoint -s 11 L new
	fails 1 logcheckpoint L new
}

@test "logcheckpoint -S shifts by a signed count, within 0 and the end" {
	mklog 10
	fails 1 logcheckpoint -S 1 L c
	stderr_has 'no such consumer'
	ok logcheckpoint -s 5 L c
	ok logcheckpoint -S 2 L c
	ok logcheckpoint L c
	output_is 7
	ok logcheckpoint -S -7 L c
	ok logcheckpoint L c
	output_is 0
	ok logcheckpoint -S +10 L c
	ok logcheckpoint L c
	output_is 10
	ok logcheckpoint -S 0 L c
	fails 2 logcheckpoint -S 1 L c
	stderr_has 'beyond the end of the log (10)'
	fails 2 logcheckpoint -S -11 L c
	stderr_has 'before offset 0'
	fails 2 logcheckpoint -S 9223372036854775807 L c
	fails 2 logcheckpoint -S -99999999999999999999 L c
	ok logcheckpoint L c
	output_is 10
}

@test "logcheckpoint -n shows what would change and changes nothing" {
	mklog 10
	ok logcheckpoint -n -s 3 L c
	output_is "c none 3"
	fails 1 logcheckpoint L c
	ok logcheckpoint -s 3 L c
	ok logcheckpoint -n -S 4 L c
	output_is "c 3 7"
	ok logcheckpoint -n -d L c
	output_is "c 3 deleted"
	ok logcheckpoint L c
	output_is 3
	fails 2 logcheckpoint -n -s 11 L c
}

@test "logcheckpoint -i sets only when the checkpoint is the one expected" {
	mklog 10
	fails 1 logcheckpoint -i 0 -s 4 L c
	stderr_is "logcheckpoint: L: c: checkpoint is none, not 0"
	ok logcheckpoint -i none -s 4 L c
	fails 1 logcheckpoint -i none -s 5 L c
	stderr_is "logcheckpoint: L: c: checkpoint is 4, not none"
	fails 1 logcheckpoint -i 3 -s 5 L c
	stderr_is "logcheckpoint: L: c: checkpoint is 4, not 3"
	ok logcheckpoint L c
	output_is 4
	ok logcheckpoint -i 4 -s 5 L c
	ok logcheckpoint -i 5 -S -1 L c
	fails 1 logcheckpoint -i 5 -d L c
	ok logcheckpoint -i 4 -d L c
	fails 1 logcheckpoint L c
}

@test "logcheckpoint -d deletes the checkpoint and its lock file" {
	mklog 3
	ok logcheckpoint -s 1 L a
	ok logcheckpoint -s 2 L b
	ok logcheckpoint -d L a
	ok logcheckpoint L
	set -- $output
	is "$1 $2" "b 2"
	[ ! -e L/consumers/a.ckpt ] && [ ! -e L/consumers/a.lock ]
	fails 1 logcheckpoint -d L a
	stderr_is "logcheckpoint: L: a: no such consumer"
}

@test "logcheckpoint refuses to change a consumer a logapply holds, and reads it meanwhile" {
	mklog 3
	ok logcheckpoint -s 1 L c
	mkfifo go
	logapply L c -- sh -c 'cat >/dev/null; read x < go' 3>&- &
	pid=$!
	# The command runs while logapply holds the consumer's lock.
	for _ in $(seq 100); do
		[ -n "$(ps -o pid= --ppid $pid)" ] && break
		sleep 0.05
	done
	fails 1 logcheckpoint -s 0 L c
	stderr_is "logcheckpoint: L: c: consumer is locked by a running logapply"
	fails 1 logcheckpoint -S 1 L c
	fails 1 logcheckpoint -d L c
	ok logcheckpoint L c
	output_is 1
	echo > go
	wait $pid
	ok logcheckpoint L c
	output_is 3
	ok logcheckpoint -s 0 L c
}

@test "logcheckpoint leaves no temporary files behind" {
	mklog 3
	for i in 0 1 2 3; do ok logcheckpoint -s $i L c; done
	is "$(ls -A L/consumers | tr '\n' ' ')" "c.ckpt c.lock "
}

@test "logcheckpoint: a full disk or a failed fsync leaves the old checkpoint" {
	mklog 5
	ok logcheckpoint -s 1 L c
	with_fault 'fsync~consumers:1:EIO' fails 2 logcheckpoint -s 2 L c
	stderr_has 'Input/output error'
	faults_fired 1
	ok logcheckpoint L c
	output_is 1
	with_fault 'write~consumers:1:ENOSPC' fails 2 logcheckpoint -s 3 L c
	stderr_has 'No space left on device'
	ok logcheckpoint L c
	output_is 1
	is "$(ls -A L/consumers | tr '\n' ' ')" "c.ckpt c.lock "
}

@test "logcheckpoint: killed before or after the rename, the checkpoint is old or new, never torn" {
	mklog 5
	ok logcheckpoint -s 1 L c
	with_fault 'rename~consumers:1:kill' expect 137 logcheckpoint -s 2 L c
	faults_fired 1
	ok logcheckpoint L c
	output_is 1
	with_fault 'rename~consumers:1:killafter' expect 137 logcheckpoint -s 3 L c
	ok logcheckpoint L c
	output_is 3
	with_fault 'fsync@dir~consumers:1:kill' expect 137 logcheckpoint -s 4 L c
	ok logcheckpoint L c
	output_is 4
}

@test "logcheckpoint: stdout errors are exit 2" {
	[ -w /dev/full ] || skip "no /dev/full"
	mklog 3
	ok logcheckpoint -s 1 L c
	expect 2 bash -c 'logcheckpoint L >/dev/full'
	expect 2 bash -c 'logcheckpoint L c >/dev/full'
}

@test "logcheckpoint and logapply work with standard descriptors closed" {
	seq 1 3 | logappend L
	logcheckpoint -s 1 L c >&- 2>&-
	ok logcheckpoint L c
	output_is 1
	logapply L c -- sh -c 'cat >> applied' >&- 2>&-
	ok logcheckpoint L c
	output_is 3
	is "$(cat applied)" "$(seq 2 3)"
	ok logfsck L
}
