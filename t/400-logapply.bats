#!/usr/bin/env bats
# logapply: batches, formats, environment, checkpoints, start positions.
load helpers

mklog() {
	sh_ok "seq 1 $1 | logappend -N L"
}

logid() { sed -n 's/^id //p' L/settings; }

@test "logapply: --help, --version and usage errors" {
	ok logapply --help
	case $output in "usage: logapply "*) ;; *) false ;; esac
	ok logapply -h
	ok logapply --version
	case $output in "logapply synclog "[0-9]*) ;; *) false ;; esac
	mklog 3
	expect 2 logapply
	case $stderr in "usage: logapply "*) ;; *) false ;; esac
	expect 2 logapply L
	expect 2 logapply L c
	expect 2 logapply L c --
	expect 2 logapply -x L c -- cat
	expect 2 logapply -c f.yaml L c -- cat
	fails 2 logapply -b 0 L c -- cat
	fails 2 logapply -b x L c -- cat
	fails 2 logapply -r -1 L c -- cat
	fails 2 logapply -R x L c -- cat
	fails 2 logapply -o nowhere L c -- cat
	fails 2 logapply -D '\xZZ' L c -- cat
	fails 2 logapply L .c -- cat
	stderr_has 'invalid consumer name'
	[ ! -e L/consumers/c.ckpt ]
}

@test "logapply: a consumer name that starts with - is refused (an option put after the log)" {
	mklog 3
	fails 2 logapply L -f -- cat
	stderr_is "logapply: -f: invalid consumer name (letters, digits, '.', '_' and '-', not starting with '.' or '-')"
	fails 2 logcheckpoint -s 1 -- L -f
	stderr_has "-f: invalid consumer name"
	fails 2 logcat -g -x L
	stderr_has "-x: invalid consumer name"
	is "$(ls -A L/consumers)" ""
	# Inside a name, - is fine.
	ok logapply L a-f -- cat
	ok logcheckpoint L a-f
	output_is 3
}

@test "logapply: a missing log, no log, a missing command are exit 2 and create nothing" {
	fails 2 logapply nolog c -- cat
	stderr_has nolog
	[ ! -e nolog ]
	mkdir empty
	fails 2 logapply empty c -- cat
	mklog 3
	fails 2 logapply L c -- no-such-command-here
	stderr_is "logapply: L: c: no-such-command-here: command not found"
	fails 2 logapply L c -- ./nothing
	stderr_is "logapply: L: c: ./nothing: No such file or directory"
	fails 2 logapply L c -- /etc/passwd
	stderr_is "logapply: L: c: /etc/passwd: Permission denied"
	[ ! -e L/consumers/c.ckpt ]
	fails 2 logapply L/00000000000000000000.log c -- cat
	stderr_has 'not a log directory'
}

@test "logapply: applies the whole log in batches, then exits; the next run has nothing to do" {
	mklog 10
	ok logapply -b 4 L c -- sh -c 'echo "batch $LOGAPPLY_FIRST-$LOGAPPLY_LAST"; cat'
	is "$output" "$(printf 'batch 0-3\n1\n2\n3\n4\nbatch 4-7\n5\n6\n7\n8\nbatch 8-9\n9\n10')"
	ok logcheckpoint L c
	output_is 10
	ok logapply -b 4 L c -- sh -c 'echo ran'
	output_is ""
	sh_ok 'seq 11 12 | logappend -N L'
	ok logapply L c -- cat
	is "$output" "$(printf '11\n12')"
}

@test "logapply: the environment names the batch, consumer, log and log id" {
	mklog 5
	ok logapply -b 3 L my.consumer -- sh -c 'echo "$LOGAPPLY_FIRST $LOGAPPLY_LAST $LOGAPPLY_CONSUMER $LOGAPPLY_LOG $LOGAPPLY_LOG_ID"'
	is "${lines[0]}" "0 2 my.consumer L $(logid)"
	is "${lines[1]}" "3 4 my.consumer L $(logid)"
	[ "${#lines[@]}" -eq 2 ]
}

@test "logapply: LOGAPPLY_ variables in its own environment are replaced, others kept" {
	mklog 5
	LOGAPPLY_FIRST=x LOGAPPLY_LOG=y LOGAPPLY_OTHER=z ok logapply -b 3 L c -- \
	    sh -c 'env | grep ^LOGAPPLY_ | sort | tr "\n" " "; echo'
	is "${lines[0]}" "LOGAPPLY_CONSUMER=c LOGAPPLY_FIRST=0 LOGAPPLY_LAST=2 LOGAPPLY_LOG=L LOGAPPLY_LOG_ID=$(logid) LOGAPPLY_OTHER=z "
	is "${lines[1]}" "LOGAPPLY_CONSUMER=c LOGAPPLY_FIRST=3 LOGAPPLY_LAST=4 LOGAPPLY_LOG=L LOGAPPLY_LOG_ID=$(logid) LOGAPPLY_OTHER=z "
}

@test "logapply: batches larger and smaller than the spool's map, in turn, each whole and exact" {
	# 20k-byte records: 200 make 4 MB, past the 2 MiB kept mapped; the
	# spool files are reused by batches of every size.
	python3 -c 'import sys
for i in range(1000): sys.stdout.write("%05d" % i + "x" * 19994 + "\n")' > in
	sh_ok 'logappend -N L < in'
	for b in 200 3 150 1 120; do
		sh_ok "logcheckpoint -d L c 2> /dev/null; logapply -b $b L c -- sh -c 'stat -L -c %s /dev/stdin >> sizes; cat' > got && cmp got in"
	done
	# every batch's file held exactly its records
	sh_ok 'awk "\$1 % 20000 != 0 { exit 1 }" sizes'
	sh_ok 'logapply -J -b 700 L j -- cat > got.json && logcat -J L > want.json && cmp got.json want.json'
}

@test "logapply: the command's stdin cannot be written or truncated" {
	[ -d /proc/self/fd ] || skip "no /proc"
	mklog 3
	ok logapply L c -- sh -c 'if : 1<&0 && printf x >&0 2> /dev/null; then echo writable; fi; python3 -c "import os; os.ftruncate(0, 0)" 2> /dev/null && echo truncated; cat'
	is "$output" "$(printf '1\n2\n3')"
}

@test "logapply -1: one run per record" {
	mklog 3
	ok logapply -1 L c -- sh -c 'printf "%s:%s:%s " $LOGAPPLY_FIRST $LOGAPPLY_LAST "$(cat)"'
	output_is "0:0:1 1:1:2 2:2:3 "
}

@test "logapply: the default batch is 1000 records; -b takes any size" {
	mklog 2500
	ok logapply L c -- sh -c 'echo $(wc -l)'
	is "$output" "$(printf '1000\n1000\n500')"
	ok logapply -b 100000 L d -- sh -c 'echo $(wc -l)'
	output_is 2500
}

@test "logapply: the handler's stdin is the whole batch, seekable, in each record format" {
	require jq
	sh_ok "printf 'k1:v1\nk2:v2\n' | logappend -N -K : L"
	ok logapply L t -- cat
	is "$output" "$(printf 'v1\nv2')"
	ok logapply -K = L k -- cat
	is "$output" "$(printf 'k1=v1\nk2=v2')"
	ok logapply -0 L z -- od -An -c
	is "$(echo $output)" 'v 1 \0 v 2 \0'
	ok logapply -D '|' L d -- cat
	output_is "v1|v2|"
	ok logapply -F '%o %k %s;' L f -- cat
	output_is "0 k1 v1;1 k2 v2;"
	ok logapply -J L j -- jq -c '[.offset, .key, .value]'
	is "$output" "$(printf '[0,"k1","v1"]\n[1,"k2","v2"]')"
	ok logapply -Y L y -- cat
	is "$output" "$(logcat -Y L)"
	sh_ok "logapply -B L b -- sh -c 'cat > b.out' && logcat -B L > b.want && cmp b.out b.want"
	# stdin is a regular file holding exactly the batch
	ok logapply L s -- sh -c 'test -f /dev/stdin && stat -L -c %s /dev/stdin'
	output_is 6
}

@test "logapply: binary-safe records reach the handler byte for byte" {
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' > all
	sh_ok 'logappend -N -D "\x01" L < all'
	sh_ok 'logapply -B L c -- sh -c "cat > got" && logcat -B L > want && cmp got want'
	sh_ok 'logapply -0 L d -- cat > got0 && logcat -0 L > want0 && cmp got0 want0'
}

@test "logapply -o: where a new consumer starts; an existing one keeps its checkpoint" {
	mklog 10
	ok logapply -o 7 L a -- cat
	is "$output" "$(printf '8\n9\n10')"
	ok logapply -o end L b -- cat
	output_is ""
	ok logcheckpoint L b
	output_is 10
	ok logapply -o -2 L c -- cat
	is "$output" "$(printf '9\n10')"
	ok logapply -o beginning L d -- sh -c 'wc -l'
	is "$output" 10
	ok logcheckpoint -s 8 L e
	ok logapply -o 2 L e -- cat
	is "$output" "$(printf '9\n10')"
	fails 2 logapply -o 11 L f -- cat
	stderr_is "logapply: L: f: start offset 11 is beyond the end of the log (10)"
	[ ! -e L/consumers/f.ckpt ]
}

@test "logapply: a new consumer's checkpoint exists as soon as it starts" {
	mklog 3
	ok logapply -o 1 L c -- sh -c 'logcheckpoint L c >> seen'
	is "$(cat seen)" 1
	ok logcheckpoint L c
	output_is 3
	sh_ok 'printf "" | logappend -N E'
	ok logapply E c -- cat
	ok logcheckpoint E c
	output_is 0
}

@test "logapply: batches in quick succession: a checkpoint write per 50 ms at most, the last one exact" {
	require strace
	mklog 300
	t0=$(date +%s%N)
	# (LeakSanitizer cannot run under ptrace)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	    ok strace -f -qq -e trace=rename,renameat,renameat2 -o tr \
	    logapply -1 L c -- true
	t1=$(date +%s%N)
	n=$(grep -c 'c\.ckpt"' tr)
	# the new consumer's start, the first commit, then one per 50 ms
	[ "$n" -ge 2 ]
	[ "$n" -le $(( (t1 - t0) / 50000000 + 3 )) ]
	ok logcheckpoint L c
	output_is 300
}

@test "logapply: one process per consumer" {
	mklog 3
	mkfifo go
	logapply L c -- sh -c 'read x < go' &
	pid=$!
	for _ in $(seq 100); do
		[ -n "$(ps -o pid= --ppid $pid)" ] && break
		sleep 0.05
	done
	fails 1 logapply L c -- cat
	stderr_is "logapply: L: c: consumer is locked by another logapply"
	ok logapply L other -- cat
	echo > go
	wait $pid
	ok logapply L c -- cat
	output_is ""
}

@test "logapply: a killed logapply releases the consumer" {
	mklog 3
	logapply L c -- sleep 100 &
	pid=$!
	for _ in $(seq 100); do
		child=$(ps -o pid= --ppid $pid || true)
		[ -n "$child" ] && break
		sleep 0.05
	done
	kill -KILL $pid
	wait $pid || true
	kill -KILL $child
	ok logapply L c -- sh -c 'wc -l'
	is "$output" 3
}

@test "logapply: an empty log, and a checkpoint in the middle of a batch" {
	sh_ok 'printf "" | logappend -N E'
	ok logapply E c -- echo ran
	output_is ""
	mklog 4
	ok logcheckpoint -s 2 L c
	ok logapply L c -- sh -c 'echo $LOGAPPLY_FIRST-$LOGAPPLY_LAST; cat'
	is "$output" "$(printf '2-3\n3\n4')"
}

@test "logapply: a corrupt record stops after applying every good one before it, exit 1" {
	for i in 1 2 3 4; do sh_ok "echo rec$i | logappend -N L"; done
	seg=L/00000000000000000000.log
	size=$(stat -c %s $seg)
	# each batch holds one record: damage the third one's payload
	python3 -c 'import sys
f, p = sys.argv[1], int(sys.argv[2])
with open(f, "r+b") as h:
    h.seek(p); b = h.read(1); h.seek(p); h.write(bytes([b[0] ^ 1]))' $seg $((size / 4 * 2 + 60))
	fails 1 logapply L c -- cat
	is "$output" "$(printf 'rec1\nrec2')"
	stderr_has "00000000000000000000.log: byte $((size / 4 * 2)): offset 2"
	# the damage hides the log's end, so logcheckpoint reports it (exit 1)
	# but still shows the checkpoint, the lag unknown
	fails 1 logcheckpoint L c
	stderr_has "byte $((size / 4 * 2)): offset 2: checksum mismatch"
	stderr_has "lags unknown"
	output_is 2
	fails 1 logcheckpoint L
	[[ $output =~ ^c\ 2\ -\ 20[0-9-]+T ]]
	fails 1 logcheckpoint -J L
	is "$(jq -c '[.consumer, .offset, .lag]' <<<"$output")" '["c",2,null]'
	fails 1 logcheckpoint -Y L
	is "$(python3 -c 'import sys, yaml; d = yaml.safe_load(sys.stdin); print(d["offset"], d["lag"])' <<<"$output")" "2 None"
	expect 0 logfsck -s L
	ok logcheckpoint L c
	output_is 2
}
