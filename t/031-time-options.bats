#!/usr/bin/env bats
# Times and durations as the programs take them: one duration parser for
# every option that takes a span of time (logcompact -a -g, logcheckpoint
# -T, logapply -R), a number without a unit counting the option's unit;
# now, +DURATION and signed milliseconds in offset specifications; and
# e@TIME still to come ending logcat -f when the clock reaches it.
load helpers

@test "durations: logcompact -a and -g take a number of seconds, or a unit" {
	seq 1 3000 | logappend -s 4K L
	ok logcompact -n -a 3600 L
	local bare=$output
	ok logcompact -n -a 1h L
	is "$output" "$bare"
	ok logcompact -n -a 3600000ms L
	is "$output" "$bare"
	ok logcompact -n -a 0.5d L
	# a grace of none at all is 0, without a unit
	ok logcompact -n -k -g 0 L
	ok logcompact -n -k -g 1.5h L
	for a in 1x -1 1.h 1e3 9223372036854775808; do
		fails 2 logcompact -n -a "$a" L
		stderr_is "logcompact: -a: invalid age (seconds, or N followed by ms, s, m, h, d or w): $a"
	done
	fails 2 logcompact -n -k -g x L
}

@test "durations: logcheckpoint -T takes seconds, fractions, or a unit" {
	seq 1 5 | logappend L
	ok logcheckpoint -s 2 L a
	for t in 0 0.2 200ms 0.2s 0m; do
		fails 1 logcheckpoint -w -T "$t" L a
		stderr_has "logcheckpoint: L: a: timeout at offset 2, waiting for 5"
	done
	ok logcheckpoint -w -T 1s -o 1 L a
	for t in soon -1 1x 1.5.5 1000000001; do
		fails 2 logcheckpoint -w -T "$t" L a
		stderr_is "logcheckpoint: -T: invalid timeout: $t"
	done
}

@test "durations: logapply -R takes milliseconds, or a unit, up to a minute" {
	seq 1 3 | logappend L
	ok logapply -R 1 -r 1 L a -- cat
	output_is "$(seq 1 3)"
	ok logapply -R 1ms L b -- cat
	ok logapply -R 0.5s L c -- cat
	ok logapply -R 1m L d -- cat
	for d in 61s 2m x -1 1y; do
		fails 2 logapply -R "$d" L e -- cat
		stderr_is "logapply: -R: invalid delay: $d"
	done
}

@test "specs: now, +DURATION and negative milliseconds reach the programs" {
	local now
	for ts in -5000 -1 0 1000; do
		printf '{"timestamp":%s,"value":"%s"}\n' "$ts" "$ts"
	done | logappend -J L
	ok logcat -o s@-1 L
	output_is "-1
0
1000"
	ok logcat -o s@-5000 -o e@0 L
	output_is "-5000
-1"
	ok logseek L s@+1000
	output_is 3
	# every record is before now, and none is ten minutes from now
	ok logcat -o e@now L
	[ "${#lines[@]}" -eq 4 ]
	fails 1 logseek L s@+10m
	stderr_has "no record at or after"
	ok logseek L e@+10m
	output_is 4
}

@test "logcat -f -o e@+DURATION stops when the clock reaches it" {
	seq 1 2 | logappend L
	# Generous: the append below must land before the end.
	logcat -f -o e@+4s L > out 2> err &
	local pid=$!
	echo 3 | logappend L
	wait_until grep -qx 3 out
	# It exits by itself, with nothing more to say.
	local rc=0
	wait $pid || rc=$?
	is "$rc" 0
	is "$(cat err)" ""
	cmp out <(seq 1 3)
	# A record stamped after the end is not printed, even with -f.
	printf '{"timestamp":%s,"value":"late"}\n' $(( $(date +%s%3N) + 3600000 )) |
	    logappend -J L
	ok timeout 20 logcat -f -o e@+2s L
	output_is "$(seq 1 3)"
}
