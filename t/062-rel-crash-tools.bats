#!/usr/bin/env bats
# Crash loops for the programs that rewrite files in place of others:
# logcompact killed (SIGKILL, through the fault shim) before and after
# each call of its segment swaps, and logcheckpoint killed at each step
# of replacing a checkpoint.  After every kill the log reads, holds every
# record it must, and the next run finishes the job; a checkpoint is the
# old one or the new one, never missing or damaged.
load helpers
load tools/rel

# compact_base: a keyed log over many small segments (base/), every
# record of it (all) and what a finished compaction keeps (final).
compact_base() {
	local i
	for ((i = 0; i < 400; i++)); do
		printf 'k%d\tvalue %d\n' $((i % 13)) "$i"
	done >in
	logappend -K '\t' -s 1K base <in
	logcat -F '%o %k %s\n' base >all
	cp -a base done
	logcompact -k done
	logcat -F '%o %k %s\n' done >final
	[ "$(wc -l <final)" -lt "$(wc -l <all)" ]
}

# compact_ok: the log L reads; every record is one of all's, every one
# of final's is there; logfsck, after its repair if need be, is clean.
compact_ok() {
	ok logcat -F '%o %k %s\n' L
	printf '%s\n' "$output" | grep . >now || :
	awk 'NR == FNR { had[$0]; next } !($0 in had) { print "not in the log before: " $0; exit 1 }' all now
	awk 'NR == FNR { has[$0]; next } !($0 in has) { print "lost: " $0; exit 1 }' now final
	expect_any logfsck L
	if [ "$status" -ne 0 ]; then
		# Only leftovers of the interrupted run may be reported.
		expect 0 logfsck -r L
		ok logfsck L
	fi
}

expect_any() {
	run --separate-stderr "$@"
}

@test "crash loop: logcompact killed before and after each call of its swaps" {
	local rule n cycles=0
	compact_base
	for rule in 'rename:%d:kill' 'rename:%d:killafter' \
	    'unlink:%d:kill' 'fsync:%d:kill' 'fsync:%d:killafter' \
	    'fsync@dir:%d:kill' 'fsync@dir:%d:killafter' \
	    'open:%d:kill' 'open:%d:killafter' 'write:%d:kill' \
	    'ftruncate:%d:killafter'; do
		for ((n = 1; ; n += $(rel_step 10 1))); do
			rm -rf L fault.log
			cp -a base L
			SYNCLOG_FAULT_EXE=logcompact with_fault "${rule//%d/$n}" \
			    expect_any logcompact -k L
			[ -s fault.log ] || break
			is "$status" 137
			cycles=$((cycles + 1))
			compact_ok
			# The next run finishes the compaction.
			ok logcompact -k L
			ok logcat -F '%o %k %s\n' L
			printf '%s\n' "$output" | cmp - final
		done
	done
	[ "$cycles" -gt 5 ]
	rel_summary "SIGKILL in logcompact's swaps: $cycles cycles, 0 lost"
}

@test "crash loop: logcompact retention killed at each removal" {
	local rule n cycles=0
	seq 1 3000 | logappend -s 1K base
	for rule in 'unlink:%d:kill' 'unlink:%d:killafter' \
	    'fsync@dir:%d:kill' 'rename:%d:kill'; do
		for ((n = 1; ; n += $(rel_step 10 1))); do
			rm -rf L fault.log
			cp -a base L
			SYNCLOG_FAULT_EXE=logcompact with_fault "${rule//%d/$n}" \
			    expect_any logcompact -r 1000 L
			[ -s fault.log ] || break
			is "$status" 137
			cycles=$((cycles + 1))
			# A suffix of the log, with everything the run kept.
			ok logcat L
			printf '%s\n' "$output" >now
			[ "$(wc -l <now)" -ge 1000 ]
			seq "$(head -n 1 now)" 3000 | cmp - now
			ok logcompact -r 1000 L
		done
	done
	[ "$cycles" -gt 3 ]
	rel_summary "SIGKILL in logcompact's retention: $cycles cycles, 0 lost"
}

@test "crash loop: a checkpoint update killed at each step is old or new" {
	local rule n cycles=0 old=0 new=0
	seq 1 100 | logappend L
	for rule in 'open:%d:kill' 'open:%d:killafter' 'write:%d:kill' \
	    'write:%d:killafter' 'fsync:%d:kill' 'fsync:%d:killafter' \
	    'rename:%d:kill' 'rename:%d:killafter' 'fsync@dir:%d:kill' \
	    'fsync@dir:%d:killafter'; do
		for ((n = 1; ; n++)); do
			ok logcheckpoint -s 10 L c
			rm -f fault.log
			SYNCLOG_FAULT_EXE=logcheckpoint with_fault "${rule//%d/$n}" \
			    expect_any logcheckpoint -s 50 L c
			[ -s fault.log ] || break
			is "$status" 137
			cycles=$((cycles + 1))
			ok logcheckpoint L c
			case $output in
			10) old=$((old + 1)) ;;
			50) new=$((new + 1)) ;;
			*) echo "$rule $n: checkpoint $output" >&2; return 1 ;;
			esac
			ok logcat -g c -c 1 L
		done
		is "$status" 0
	done
	[ "$old" -gt 0 ] && [ "$new" -gt 0 ]
	rel_summary "SIGKILL in a checkpoint update: $cycles cycles, $old old," \
	    "$new new, none lost or damaged"
}
