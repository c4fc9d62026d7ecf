#!/usr/bin/env bats
# Clock jumps: the wall clock going back and forth (faketime) never stops
# an append, and time lookups (logcat -o s@TIME / e@TIME, logseek) follow
# Kafka's rule whatever order the timestamps are in: s@T is the first
# offset whose record's timestamp is >= T (the end offset when none is),
# e@T stops before it; checked against a scan of every record.
load helpers
load tools/rel

FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
# libfaketime is preloaded into sanitized programs too.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0

# first_at T: the brute-force answer for s@T from ts.txt ("OFFSET TS").
first_at() {
	awk -v t="$1" -v end="$end" \
	    '$2 >= t { print $1; found = 1; exit } END { if (!found) print end }' ts.txt
}

@test "clock: appends go on while the clock jumps back and forth" {
	require faketime
	local t
	for t in '2030-01-01 00:00:00' '2020-01-01 00:00:00' \
	    '2026-06-01 12:00:00' '1999-12-31 23:59:59' '2026-06-01 11:00:00'; do
		sh_ok "echo 'at $t' | TZ=UTC faketime '$t' logappend -p L"
	done
	ok logcat -F '%o %T %s\n' L
	printf '%s\n' "$output" >ts
	# Each record carries the clock's time when it was appended.
	# (faketime lets the clock run on from there: a second may pass).
	paste -d' ' <(cut -d' ' -f2 ts) - >secs <<'EOF'
1893456000
1577836800
1780315200
946684799
1780311600
EOF
	awk '{ d = int($1 / 1000) - $2; if (d < 0 || d > 2) exit 1 }' secs
	# Within one run too: the clock jumps back between two batches.
	[ -e "$FAKETIME_LIB" ] || skip "libfaketime not found"
	echo '@2031-01-01 00:00:00' >clock
	mkfifo in
	LD_PRELOAD=$FAKETIME_LIB FAKETIME_TIMESTAMP_FILE=$PWD/clock \
	    FAKETIME_NO_CACHE=1 TZ=UTC logappend -p L <in >offsets &
	exec 4>in
	echo before >&4
	wait_until grep -q . offsets
	echo '@2021-01-01 00:00:00' >clock
	echo after >&4
	exec 4>&-
	wait $!
	ok logcat -o 5 -F '%T %s\n' L
	[ "$(printf '%s\n' "$output" | sed -n 1p | cut -c1-4)" = 1924 ]
	[ "$(printf '%s\n' "$output" | sed -n 2p | cut -c1-4)" = 1609 ]
	ok logfsck L
}

@test "clock: time lookups follow the first-timestamp-at-or-after rule" {
	local n t want end nlook=0
	n=6000
	[ "${TORTURE:-0}" = 0 ] || n=60000
	# Timestamps that wander: mostly rising, with jumps back and ahead,
	# across several segments and many index entries.
	awk -v n="$n" 'BEGIN {
		srand(7); t = 1700000000000
		for (i = 0; i < n; i++) {
			r = rand()
			if (r < 0.02) t -= int(rand() * 5000000)
			else if (r < 0.03) t += int(rand() * 5000000)
			else t += int(rand() * 1000)
			printf "{\"timestamp\":%.0f,\"value\":\"v%d\"}\n", t, i
		}
	}' >in.json
	ok logappend -J -s 16K L <in.json
	[ "$(ls L/*.log | wc -l)" -ge 3 ]
	logcat -F '%o %T\n' L >ts.txt
	end=$(logseek L end)
	# Times of records spread over the log, each minus and plus one,
	# and the extremes.
	for t in 0 1 $(awk -v k=$((n / $(rel_t 12 200))) \
	    'NR % k == 0 { printf "%.0f %.0f %.0f\n", $2 - 1, $2, $2 + 1 }' ts.txt) \
	    9223372036854775807; do
		want=$(first_at "$t")
		ok logcat -F '%o\n' -c 1 -o "s@$t" L
		if [ "$want" = "$end" ]; then
			is "$output" ""
			# logseek: the end offset, and no such record (1).
			expect 1 logseek L "s@$t"
		else
			is "$output" "$want"
			ok logseek L "s@$t"
		fi
		is "$output" "$want"
		# e@T: everything before that offset, nothing from it on.
		ok logcat -F '%o\n' -o "$((want > 2 ? want - 2 : 0))" -o "e@$t" L
		is "$(printf '%s\n' "$output" | grep -c .)" \
		    "$((want - (want > 2 ? want - 2 : 0)))"
		nlook=$((nlook + 1))
	done
	rel_summary "clock: $n records with wandering timestamps, $nlook time lookups" \
	    "by logseek and logcat right"
}
