#!/usr/bin/env bats
# The performance fast paths (see bench/) keep the behaviour they shortcut.
load helpers

# ts_gap: the difference between the first two timestamps of log L.
ts_gap() {
	logcat -F '%T\n' L | awk 'NR == 1 { a = $1 } NR == 2 { print $1 - a }'
}

@test "logappend reads the clock afresh for a record that arrives after a pause" {
	sh_ok '{ echo a; sleep 0.3; echo b; } | logappend L'
	gap=$(ts_gap)
	[ "$gap" -ge 250 ] || { echo "timestamps $gap ms apart" >&2; return 1; }
}

@test "logappend -x (one batch) reads the clock afresh after a pause too" {
	sh_ok '{ echo a; sleep 0.3; echo b; } | logappend -x 0 L'
	gap=$(ts_gap)
	[ "$gap" -ge 250 ] || { echo "timestamps $gap ms apart" >&2; return 1; }
}

@test "records read back to back share a clock read but keep their order" {
	seq 1 100000 | ok logappend -N L
	run --separate-stderr bash -c "logcat -F '%T\n' L | sort -c -n && logcat -F '%T\n' L | wc -l"
	is "$status" 0
	is "$output" 100000
}
