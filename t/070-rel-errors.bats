#!/usr/bin/env bats
# Error injection at every write, sync, truncation and file creation of
# logappend (ENOSPC, EIO, short writes; once and forever), through the
# fault shim: the writer fails with one line and a non-zero status,
# prints no offset it has not synced, never retries a failed sync, and
# leaves a log that the next writer recovers and every reader reads.
# t/tools/relcrash.c runs the cycles and checks the log after each one.
load helpers
load tools/rel

R=$TTOOLS/relcrash
SHIM=$TTOOLS/fault.so

# error_loop SUMMARY ARG...: relcrash accepting injected errors.
error_loop() {
	local what=$1
	shift
	SYNCLOG_FAULT_LOG=$BATS_TEST_TMPDIR/fault.log ok "$R" \
	    -r "$(rel_seed)" -e -P "$SHIM" "$@"
	if grep -E 'stopped the writer 0 times' <<<"$output"; then
		return 1
	fi
	rel_summary "$what: $(grep -c . fault.log) faults injected;" \
	    "$(rel_last_line)"
}

# no_repeat: no process met a failure twice (nothing was retried);
# short writes do not count, they are not failures.
no_repeat() {
	local dup
	dup=$(grep -v ':short ' fault.log | awk '{ print $2 }' | sort | uniq -d)
	if [ -n "$dup" ]; then
		printf 'retried after a failure:\n' >&2
		grep -F "$dup" fault.log >&2
		return 1
	fi
}

# recovered: the next writer recovers the log and it reads clean.
recovered() {
	local n
	ok logcat L
	n=$(printf '%s\n' "$output" | grep -c .)
	sh_ok 'echo after | logappend -p L'
	output_is "$n"
	if command -v logfsck >/dev/null; then
		ok logfsck L
	fi
	ok logcat -o "$n" L
	output_is after
}

@test "errors: ENOSPC and EIO at every segment write, once and forever" {
	error_loop "write errors" -m "$(rel_t 24 80)" \
	    -F 'pwrite~.log:%d:ENOSPC' -F 'pwrite~.log:%d:EIO:forever' \
	    -F 'pwrite~.log:%d:short,pwrite~.log:%n:ENOSPC' \
	    L -- logappend -p -s 1K L
	no_repeat
	recovered
}

@test "errors: a failed fdatasync is fatal, never retried, its batch never acknowledged" {
	error_loop "fdatasync errors" -u -m "$(rel_t 24 80)" \
	    -F 'fdatasync:%d:EIO,fdatasync:%n:EIO:forever' \
	    -F 'fdatasync:%d:ENOSPC,fdatasync:%n:ENOSPC:forever' \
	    L -- logappend -p -s 1K L
	# The second rule of each pair fires only on a retry.
	no_repeat
	recovered
}

@test "errors: failures creating segments and syncing the directory" {
	error_loop "create and directory sync errors" -m "$(rel_t 24 80)" \
	    -F 'open~.log:%d:ENOSPC' \
	    -F 'fsync@dir:%d:EIO,fsync@dir:%n:EIO:forever' \
	    L -- logappend -p -s 1K L
	no_repeat
	recovered
}

@test "errors: failures while recovering a torn tail" {
	sh_ok 'seq 1 30 | logappend -s 1K L'
	error_loop "recovery errors" -T -m 5 -c "$(rel_n 10 100)" \
	    -F 'ftruncate~.log:%d:EIO' -F 'fdatasync:%d:EIO' \
	    -F 'pwrite~.log:%d:short,pwrite~.log:%n:ENOSPC,ftruncate~.log:1:EIO' \
	    L -- logappend -p -s 1K L
	no_repeat
	recovered
}

@test "errors: the first writer fails at each step of creating the log" {
	local rule n cycles=0
	for rule in 'mkdir:%d:EACCES' 'open:%d:ENOSPC' 'fsync:%d:EIO' \
	    'fsync@dir:%d:EIO' 'rename:%d:EIO' 'write:%d:ENOSPC' \
	    'pwrite:%d:EDQUOT' 'fdatasync:%d:EIO'; do
		for ((n = 1; ; n++)); do
			rm -rf L fault.log
			with_fault "${rule//%d/$n}" expect 2 logappend -p L \
			    <<<"a" || break
			faults_fired 1
			is "$output" ""
			stderr_has "logappend: "
			cycles=$((cycles + 1))
			# Whatever is left, the next writer makes a log of it.
			sh_ok 'echo b | logappend -p L'
			ok logcat L
			case $output in
			b | "a
b") ;;
			*) echo "log after a failed creation: $output" >&2
			   return 1 ;;
			esac
		done
		# The loop ended on a run the rule did not stop.
		is "$status" 0
		output_is 0
		[ "$n" -gt 1 ]
	done
	rel_summary "errors while creating the log: $cycles faults injected, 0 lost"
}

@test "errors: fdatasync is called once per batch and never after it failed" {
	require strace
	seq 1 200 >in
	with_fault 'fdatasync:3:EIO' env SYNCLOG_FAULT_EXE=logappend \
	    strace -f -qq -e trace=fdatasync -o trace logappend -p -s 1K L \
	    <in >out 2>err && return 1
	faults_fired 1 '^fdatasync:3:EIO '
	# The shim failed the third call without making it: two reached
	# the kernel, and none after the failure.
	is "$(grep -c 'fdatasync(' trace)" 2
	grep -q '^logappend: L: .*fdatasync: Input/output error$' err
	# What was printed is in the log and came before the failed batch.
	n=$(wc -l <out)
	[ "$n" -gt 0 ]
	sh_ok "logcat L | head -n $n | cmp - <(head -n $n in)"
}

@test "errors: a failed write leaves the log exactly as it was" {
	seq 1 100 | logappend -s 1K L
	cp -a L before
	for rule in 'pwrite~.log:1:ENOSPC' 'pwrite~.log:1:short,pwrite~.log:2:EIO' \
	    'pwrite~.log:1:short,pwrite~.log:2:short,pwrite~.log:3:EFBIG'; do
		rm -f fault.log
		with_fault "$rule" fails 2 logappend -p L <<<"lost"
		is "$output" ""
		faults_fired "$(tr -cd , <<<"$rule," | wc -c)"
		for f in before/*.log; do
			cmp "$f" "L/${f#before/}"
		done
	done
	recovered
}

@test "errors: short writes everywhere are completed, nothing is lost" {
	seq 1 3000 | sed 's/$/ some padding for the batches/' >in
	with_fault 'pwrite:1:short:forever,write:1:short:forever' \
	    ok logappend -p -s 4K L <in
	is "$(printf '%s\n' "$output" | tail -n 1)" 2999
	[ "$(grep -c ':short ' fault.log)" -gt 100 ]
	sh_ok 'logcat L | cmp - in'
	with_fault 'read:1:short:forever,pread:1:short:forever' \
	    ok logcat L
	printf '%s\n' "$output" | cmp - in
	recovered
}

@test "errors: a failing index write loses nothing; the index is a cache" {
	seq 1 20000 >in
	# The writer goes on without the index and says so, once.
	with_fault 'pwrite~.index:2:EIO:forever' expect 0 logappend -s 64K \
	    -p L <in
	[[ $stderr =~ ^logappend:\ L:\ [0-9]{20}\.index:\ write:\ Input/output\ error\;\ appending\ without\ it\ \(logfsck\ --repair\ rebuilds\ it\)$ ]] ||
	    { echo "stderr: $stderr" >&2; return 1; }
	# One failure a segment (each gets a new index), said once.
	[ "$(grep -c . fault.log)" -ge 1 ]
	rm fault.log
	is "$(printf '%s\n' "$output" | wc -l)" 20000
	ok logcat -o 15000 -c 1 L
	output_is 15001
	# An index that cannot be opened: the same.
	with_fault 'open~.index:1:EACCES:forever' expect 0 logappend L \
	    < <(seq 20001 30000)
	[[ $stderr =~ ^logappend:\ L:\ [0-9]{20}\.index:\ open:\ Permission\ denied\;\ appending\ without\ it ]] ||
	    { echo "stderr: $stderr" >&2; return 1; }
	is "$(grep -c . <<<"$stderr")" 1
	[ "$(grep -c . fault.log)" -ge 1 ]
	ok logappend L < <(seq 30001 40000)
	ok logcat -o 39999 L
	output_is 40000
	sh_ok 'logcat L | cmp - <(seq 1 40000)'
	recovered
}

@test "errors: no inode for a new segment's index: appends go on, said once (issue 20.11)" {
	# Every index created from the second on fails, as with no free
	# inodes while segments rotate.
	seq 1 30000 >in
	with_fault 'open~.index:2:ENOSPC:forever' expect 0 logappend -s 16K L <in
	is "$(grep -c . <<<"$stderr")" 1
	stderr_has 'index: create: No space left on device; appending without it'
	[ "$(ls L/*.log | wc -l)" -gt 5 ]
	# Later appends rotate and index as usual.
	seq 30001 40000 | ok logappend -s 16K L
	sh_ok 'logcat L | cmp - <(seq 1 40000)'
	ok logcat -o 12345 -c 1 L
	output_is 12346
	# The segments left without an index are found and mended.
	expect 1 logfsck L
	stderr_has 'index: missing index'
	expect 0 logfsck --repair L
	stderr_has 'index: missing index'
	ok logfsck L
	recovered
}

@test "errors: a read error is reported, never taken for the end of the log" {
	seq 1 3000 | logappend -s 8K L
	ok logcat L
	printf '%s\n' "$output" >all
	local n
	for ((n = 1; ; n++)); do
		rm -f fault.log
		with_fault "pread:$n:EIO:forever" expect_any logcat L
		[ -s fault.log ] || break
		# Either the error is reported, or a retry read everything.
		case $status in
		0) printf '%s\n' "$output" | cmp - all ;;
		2) stderr_has 'Input/output error'
		   printf '%s\n' "$output" | grep . | cmp - <(head -n \
		       "$(printf '%s\n' "$output" | grep -c .)" all) ;;
		*) echo "logcat exited $status: $stderr" >&2; return 1 ;;
		esac
	done
	[ "$n" -gt 2 ]
	with_fault 'pread:1:EIO' fails 2 logappend L <<<"x"
	stderr_has 'Input/output error'
	ok logcat L
	printf '%s\n' "$output" | cmp - all
	rel_summary "read errors: $((n - 1)) faults injected, none taken for the end"
}

# expect_any CMD...: run CMD whatever its status.
expect_any() {
	run --separate-stderr "$@"
}

@test "errors: a read error while finding the end is reported, not taken for the end" {
	seq 1 10 | logappend L
	# no index: the first read is the segment's (an index is a cache,
	# and a read error there only costs a scan)
	rm L/*.index
	with_fault 'pread:1:EIO' fails 2 logseek L end
	stderr_has 'Input/output error'
}
