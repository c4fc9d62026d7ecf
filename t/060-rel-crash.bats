#!/usr/bin/env bats
# Crash loops: logappend -p killed with SIGKILL at random moments and at
# each write, sync and file creation (the fault shim's kill and
# killafter), with and without crash debris for the next writer to
# recover.  t/tools/relcrash.c checks after every cycle that the log
# reads, that offsets stay dense, that the log only grows, and that every
# offset printed holds its record (its header states every invariant).
load helpers
load tools/rel

R=$TTOOLS/relcrash
SHIM=$TTOOLS/fault.so

# crash_loop SUMMARY ARG...: run relcrash, check it, record its figures.
crash_loop() {
	local what=$1
	shift
	ok "$R" -r "$(rel_seed)" "$@"
	rel_summary "$what: $(rel_last_line)"
}

# final_check: logcat agrees with itself after one more append.
final_check() {
	ok logcat L
	local n
	n=$(printf '%s\n' "$output" | grep -c .)
	sh_ok 'echo after | logappend -p L'
	output_is "$n"
	ok logcat -o "$n" L
	output_is after
}

@test "crash loop: logappend -p killed at random moments" {
	crash_loop "random SIGKILL, synced" -c "$(rel_n 150 3000)" -k "$(rel_us 20000)" \
	    -t L -- logappend -p -s 4K L
	final_check
}

@test "crash loop: logappend -p -N killed at random moments loses nothing" {
	crash_loop "random SIGKILL, -N" -c "$(rel_n 100 2000)" -k "$(rel_us 20000)" -t \
	    L -- logappend -N -p -s 4K L
	final_check
}

@test "crash loop: compressed batches killed at random moments" {
	crash_loop "random SIGKILL, -z" -c "$(rel_n 60 1000)" -k "$(rel_us 20000)" -t \
	    -v 2000 L -- logappend -z -p -s 16K L
	final_check
}

@test "crash loop: killed early, mostly during recovery of a torn tail" {
	sh_ok 'echo first | logappend L'
	crash_loop "random SIGKILL during recovery" -c "$(rel_n 150 3000)" \
	    -k "$(rel_us 4000)" -T L -- logappend -p -s 1K L
	final_check
}

@test "crash loop: killed before and after every write, sync and segment creation" {
	crash_loop "SIGKILL at each call" -P "$SHIM" -m "$(rel_t 24 80)" \
	    -F 'pwrite:%d:kill' -F 'pwrite:%d:killafter' \
	    -F 'fdatasync:%d:kill' -F 'fdatasync:%d:killafter' \
	    -F 'fsync@dir:%d:kill' -F 'fsync@dir:%d:killafter' \
	    -F 'open~.log:%d:kill' -F 'open~.log:%d:killafter' \
	    L -- logappend -p -s 1K L
	# Every rule stopped some writer: each call was reached.
	if grep -E 'stopped the writer 0 times' <<<"$output"; then
		return 1
	fi
	final_check
}

@test "crash loop: killed at each step of recovering a torn tail" {
	sh_ok 'seq 1 20 | logappend -s 1K L'
	crash_loop "SIGKILL during recovery at each call" -P "$SHIM" -T -m 5 \
	    -c "$(rel_n 8 40)" \
	    -F 'ftruncate~.log:%d:kill' -F 'ftruncate~.log:%d:killafter' \
	    -F 'fdatasync:1:kill' \
	    -F 'fdatasync:1:killafter' L -- logappend -p -s 1K L
	if grep -E 'stopped the writer 0 times' <<<"$output"; then
		return 1
	fi
	final_check
}

@test "crash loop: the first writer killed at each step of creating the log" {
	local rule n cycles=0
	for rule in 'mkdir:%d:killafter' 'open:%d:kill' 'open:%d:killafter' \
	    'rename:%d:kill' 'rename:%d:killafter' 'fsync:%d:kill' \
	    'fsync:%d:killafter' 'fsync@dir:%d:kill'; do
		for ((n = 1; ; n++)); do
			rm -rf L fault.log
			with_fault "${rule//%d/$n}" expect 137 logappend -p L \
			    <<<"a" || break
			faults_fired 1
			is "$output" ""
			cycles=$((cycles + 1))
			# Whatever is left, the next writer makes a log of it.
			sh_ok 'echo b | logappend -p L'
			output_is 0
			ok logcat L
			output_is b
		done
		# The loop ended on a run the rule did not stop.
		is "$status" 0
		output_is 0
		[ "$n" -gt 1 ]
	done
	rel_summary "SIGKILL while creating the log: $cycles cycles, 0 lost"
}

@test "crash loop: relcrash catches a lost acknowledged record" {
	# The checker must be able to fail: this writer acknowledges its
	# records, then loses them.
	cat >lossy <<'EOF'
#!/bin/sh
logappend -p L && : >L/00000000000000000000.log
EOF
	chmod +x lossy
	expect 1 "$R" -c 1 L -- ./lossy
	stderr_has "relcrash: cycle 0: printed offset 0 for c0.r0, which the log does not hold there"
}
