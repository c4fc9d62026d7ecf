#!/usr/bin/env bats
# end, -N and s@TIME resolve against the end of the log as it is at that
# moment; a writer appending meanwhile must never make them "beyond the
# end".  (The end was once read before the spec was resolved: beside this
# writer `logcheckpoint -s end` failed about one time in two.)
load helpers

# writer: a logappend -N fed as fast as a shell can echo (tiny batches,
# so the end moves often), until teardown.
writer() {
	echo first | logappend L
	mkfifo in
	logappend -N L <in &
	WRITER=$!
	# A bash of its own: without bats's traps it writes 100 times faster.
	bash -c 'while :; do echo x; done' >in &
	FEEDER=$!
	wait_until grown 1000
}

teardown() {
	[ -z "${FEEDER-}" ] || kill "$FEEDER" 2>/dev/null || true
	[ -z "${WRITER-}" ] || wait "$WRITER" || true
}

# grown N: the log's end is past N.
grown() { [ "$(logseek L end)" -gt "$1" ]; }

# beside CMD...: CMD exits 0.  One exception, counted in $raced: a
# reader that takes the tail being written for damage ("incomplete batch
# header, followed by valid data", exit 1), a race of the library's
# readers beside an -N writer that is not this test's business.  Never
# the error this file is about.
raced=0
beside() {
	expect_status "$@"
	case $status:$stderr in
	0:) ;;
	1:*", followed by valid data at byte "*)
		raced=$((raced + 1)) ;;
	*)
		printf 'command: %s\nexit %s\nstderr: %s\n' "$*" "$status" \
		    "$stderr" >&2
		return 1 ;;
	esac
}
expect_status() { run --separate-stderr "$@"; }

@test "logcheckpoint -s end, -s -N and -s s@TIME beside a writer are never beyond the end" {
	local k e0 future=$((($(date +%s) + 3600) * 1000))
	writer
	e0=$(logseek L end)
	for k in $(seq 20); do
		beside logcheckpoint -s end L c
		beside logcheckpoint -s -5 L c
		beside logcheckpoint -s "s@$future" L c
	done
	grown "$e0"
	[ "$raced" -le 6 ]
}

@test "logapply -o end and -o -N beside a writer never start beyond the end" {
	local k e0
	writer
	e0=$(logseek L end)
	for k in $(seq 20); do
		# The start is committed first; the command then fails on the
		# first record, which ends the run at once.
		expect_status logapply -b 1 -o end L "e$k" -- false
		[[ $stderr != *beyond* ]] || { echo "$stderr" >&2; return 1; }
		ok logcheckpoint L "e$k"
		[ "$output" -ge "$e0" ]
		expect_status logapply -b 1 -o -3 L "n$k" -- false
		[[ $stderr != *beyond* ]] || { echo "$stderr" >&2; return 1; }
		ok logcheckpoint L "n$k"
	done
	grown "$e0"
}
