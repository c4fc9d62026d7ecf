#!/usr/bin/env bats
# Concurrency: eight appenders writing records of 1 byte to 1 MiB (binary
# values, -B frames) at once, followers (logcat -f) running throughout, a
# retention run in the middle.  Every record is there once, intact, with
# dense offsets and each input's order kept; the followers' output equals
# the final log from its first offset on.  t/tools/relrec.c generates and
# checks the records.
load helpers
load tools/rel

R=$TTOOLS/relrec

# A failed test must not leave its appenders waiting for "go" forever, nor
# its followers: release and stop every background job.
teardown() {
	local j

	touch "$BATS_TEST_TMPDIR/go"
	for j in $(jobs -p); do
		kill "$j" 2>/dev/null || :
	done
	wait 2>/dev/null || :
}

end_at_least() {
	[ "$(logseek L end)" -ge "$1" ]
}

followed_at_least() {
	local f
	for f in follow1 follow2; do
		[ "$("$R" count "$f" | cut -d' ' -f2)" -ge "$1" ] || return 1
	done
}

@test "concurrency: eight appenders, followers, retention in the middle" {
	local n total seed i pids=() fpids=() x removed
	n=$(rel_n 16 120)
	total=$((8 * n))
	seed=$(rel_seed)
	ok logappend -s 16K L </dev/null
	for i in 1 2; do
		timeout 300 logcat -f -B -c "$total" L >"follow$i" 2>"follow$i.err" &
		fpids+=($!)
	done
	# Each appender writes three quarters of its records, waits for the
	# retention run, then writes the rest, its logappend running on.
	for ((i = 0; i < 8; i++)); do
		bash -o pipefail -c "{ '$R' gen -r $seed -u $((n * 3 / 4)) $i $n
		    while [ ! -e go ]; do sleep 0.02; done
		    '$R' gen -r $seed -f $((n * 3 / 4)) $i $n; } |
		    logappend -B L >/dev/null 2>append$i.err" &
		pids+=($!)
	done
	# Retention while the appenders write: only what both followers
	# have read may go, so that they still see every record.
	wait_until -t 60 end_at_least $((total * 3 / 4))
	wait_until -t 60 followed_at_least $((total / 2))
	x=$("$R" count follow1 | cut -d' ' -f2)
	y=$("$R" count follow2 | cut -d' ' -f2)
	[ "$y" -ge "$x" ] || x=$y
	ok logcompact -v -r $((total - x)) L
	removed=$(grep -c '^remove ' <<<"$output" || :)
	[ "$removed" -gt 0 ]
	touch go
	for i in "${!pids[@]}"; do
		wait "${pids[$i]}" || { cat append$i.err >&2; return 1; }
	done
	for i in "${fpids[@]}"; do
		wait "$i"
	done
	is "$(cat follow1.err follow2.err)" ""
	# The followers saw everything, in order, once.
	ok "$R" check -r "$seed" 8 "$n" follow1
	ok "$R" check -r "$seed" 8 "$n" follow2
	cmp follow1 follow2
	# The log is what is left after retention, as the followers saw it.
	logcat -B L >final
	ok "$R" check -s -r "$seed" -t follow1 8 "$n" final
	rel_summary "concurrency: 8 appenders, $total records of 1 B to 1 MiB" \
	    "($(stat -c %s follow1) bytes), 2 followers, retention removed" \
	    "$removed segments midway: every record once, in order"
	ok logfsck L
}

@test "concurrency: relrec notices a lost, doubled or reordered record" {
	"$R" gen 0 5 | logappend -B L
	"$R" gen 1 5 | logappend -B L
	logcat -B L >all
	ok "$R" check 2 5 all
	fails 1 "$R" check 2 6 all
	stderr_is "relrec: input 0: 5 of 6 records"
	logcat -B -o 1 L >tail
	fails 1 "$R" check 2 5 tail
	stderr_is "relrec: the log begins at 1"
	cat all all >twice
	fails 1 "$R" check 2 5 twice
	stderr_is "relrec: offset 0 after 9"
	# A damaged value.
	logcat -B L | sed 's/\(0\.3\)/\1/' >same
	ok "$R" check 2 5 same
	fails 1 "$R" check -r 2 2 5 all
	stderr_has "damaged"
}

@test "concurrency: appenders with -x never overwrite each other" {
	local i pids=() won=0
	seq 1 10 | logappend L
	for ((i = 0; i < 8; i++)); do
		(rc=0; echo "writer $i" | logappend -x 10 L >/dev/null 2>&1 ||
		    rc=$?; echo $rc >"x$i") &
		pids+=($!)
	done
	wait "${pids[@]}"
	for ((i = 0; i < 8; i++)); do
		[ "$(cat x$i)" = 0 ] && won=$((won + 1))
	done
	is "$won" 1
	ok logcat -o 10 L
	[[ $output == "writer "[0-7] ]]
}
