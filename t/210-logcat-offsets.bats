#!/usr/bin/env bats
# logcat -o: every offset specification, alone and as a start and end pair,
# on one segment and across many.
load helpers

T0=1795168800000	# 2026-11-20T10:00:00Z

# ten LOG: records v0..v9 at T0 + 0s, 1s, ... 9s.
ten() {
	local i
	for ((i = 0; i < 10; i++)); do
		printf '{"timestamp":%d,"value":"v%d"}\n' $((T0 + i * 1000)) $i
	done | logappend -J "$1"
}

# offsets_are WANT ARG...: logcat -F '%o ' ARG... L prints offsets WANT.
offsets_are() {
	local want=$1
	shift
	ok logcat -F '%o ' "$@" L || return 1
	is "$output" "$want" || { echo "for: logcat $*" >&2; return 1; }
}

@test "logcat -o beginning, end, N and -N" {
	ten L
	offsets_are "0 1 2 3 4 5 6 7 8 9 " -o beginning
	offsets_are "" -o end
	offsets_are "3 4 5 6 7 8 9 " -o 3
	offsets_are "9 " -o 9
	offsets_are "" -o 10
	offsets_are "" -o 18446744073709551615
	offsets_are "7 8 9 " -o -3
	offsets_are "" -o -0
	offsets_are "0 1 2 3 4 5 6 7 8 9 " -o -10
	offsets_are "0 1 2 3 4 5 6 7 8 9 " -o -100
}

@test "logcat -o s@TIME and e@TIME in milliseconds" {
	ten L
	offsets_are "3 4 5 6 7 8 9 " -o s@$((T0 + 3000))
	offsets_are "4 5 6 7 8 9 " -o s@$((T0 + 3001))
	offsets_are "0 1 2 3 4 5 6 7 8 9 " -o s@0
	offsets_are "" -o s@$((T0 + 9001))
	offsets_are "0 1 2 " -o e@$((T0 + 3000))
	offsets_are "0 1 2 3 " -o e@$((T0 + 3001))
	offsets_are "" -o e@$T0
	offsets_are "0 1 2 3 4 5 6 7 8 9 " -o e@$((T0 + 10000))
}

@test "logcat -o s@TIME and e@TIME in ISO 8601, with fractions and UTC offsets" {
	ten L
	offsets_are "5 6 7 8 9 " -o s@2026-11-20T10:00:05Z
	offsets_are "6 7 8 9 " -o s@2026-11-20T10:00:05.001Z
	offsets_are "6 7 8 9 " -o s@2026-11-20T10:00:05.5Z
	offsets_are "5 6 7 8 9 " -o s@2026-11-20T12:00:05+02:00
	offsets_are "5 6 7 8 9 " -o s@2026-11-20T04:30:05-05:30
	offsets_are "0 1 2 3 4 " -o e@2026-11-20T10:00:05Z
	offsets_are "0 1 2 3 4 5 " -o e@2026-11-20T10:00:05.999Z
	offsets_are "0 1 2 3 4 5 6 7 8 9 " -o e@2026-11-21T00:00:00Z
}

@test "logcat -o s@TIME and e@TIME relative to now" {
	local now old i
	now=$(date +%s%3N)
	old=$((now - 2 * 3600 * 1000))		# two hours ago
	for i in 0 1 2; do
		printf '{"timestamp":%d,"value":"old%d"}\n' $((old + i)) $i
	done | logappend -J L
	printf 'new0\nnew1\nnew2\n' | logappend L	# now
	offsets_are "3 4 5 " -o s@-1h
	offsets_are "3 4 5 " -o s@-60m
	offsets_are "3 4 5 " -o s@-3600s
	offsets_are "0 1 2 3 4 5 " -o s@-3h
	offsets_are "0 1 2 3 4 5 " -o s@-1d
	offsets_are "0 1 2 3 4 5 " -o s@-7d
	offsets_are "0 1 2 " -o e@-1h
	offsets_are "" -o e@-3h
	offsets_are "" -o s@-0s -o e@-0s
}

@test "logcat -o twice: a start and an end" {
	ten L
	offsets_are "2 3 4 " -o 2 -o 5
	offsets_are "2 3 4 " -o 2 -o e@$((T0 + 5000))
	offsets_are "3 4 5 " -o s@$((T0 + 3000)) -o e@$((T0 + 6000))
	offsets_are "3 4 5 " -o s@2026-11-20T10:00:03Z -o e@2026-11-20T10:00:06Z
	offsets_are "7 8 " -o -3 -o 9
	offsets_are "0 1 2 3 4 5 6 7 8 9 " -o beginning -o end
	offsets_are "" -o 5 -o 5
	offsets_are "" -o 5 -o 2
	offsets_are "" -o 20 -o 30
	# e@ given first is the end; the start is then the beginning.
	offsets_are "0 1 " -o e@$((T0 + 2000))
}

@test "logcat -o with -c: the count applies from the start" {
	ten L
	offsets_are "4 5 " -o 4 -c 2
	offsets_are "4 5 6 " -o 4 -o 7 -c 10
	offsets_are "8 9 " -o -2 -c 5
}

@test "logcat -o s@TIME follows Kafka when timestamps go backwards" {
	# Timestamps 5 1 7 2 9 (seconds after T0).
	for s in 5 1 7 2 9; do
		printf '{"timestamp":%d,"value":"t%d"}\n' $((T0 + s * 1000)) $s
	done | logappend -J L
	# The first record whose timestamp is >= TIME.
	offsets_are "0 1 2 3 4 " -o s@$((T0 + 2000))
	offsets_are "2 3 4 " -o s@$((T0 + 6000))
	offsets_are "4 " -o s@$((T0 + 8000))
	offsets_are "0 1 " -o e@$((T0 + 6000))
	offsets_are "" -o e@$((T0 + 1000))
}

@test "logcat -o on every log it prints" {
	ten A
	ten B
	ok logcat -F '%o%s ' -o -2 A B
	output_is "8v8 9v9 8v8 9v9 "
	ok logcat -F '%o%s ' -o s@$((T0 + 8500)) A B
	output_is "9v9 9v9 "
}

@test "logcat -o across many segments: offsets and times land in the right one" {
	awk -v t0=$T0 'BEGIN { for (i = 0; i < 3000; i++)
	    printf "{\"timestamp\":%.0f,\"value\":\"%d\"}\n", t0 + i, i }' > in
	ok logappend -J -s 2K L < in
	[ "$(ls L/*.log | wc -l)" -gt 10 ]
	ok logcat -F '%o:%s ' -o 1234 -c 3 L
	output_is "1234:1234 1235:1235 1236:1236 "
	ok logcat -F '%o:%s ' -o -2 L
	output_is "2998:2998 2999:2999 "
	ok logcat -F '%o ' -o s@$((T0 + 2500)) -c 2 L
	output_is "2500 2501 "
	ok logcat -F '%o ' -o 1998 -o e@$((T0 + 2001)) L
	output_is "1998 1999 2000 "
	# Some segments' first and previous records, by offset and by time.
	segs=(L/*.log)
	for f in ${segs[0]} ${segs[1]} ${segs[${#segs[@]} / 2]} ${segs[-1]}; do
		base=$((10#$(basename "$f" .log)))
		ok logcat -F '%o' -o $base -c 1 L
		output_is $base
		ok logcat -F '%o' -o s@$((T0 + base)) -c 1 L
		output_is $base
		if [ $base -gt 0 ]; then
			ok logcat -F '%o' -o $((base - 1)) -c 1 L
			output_is $((base - 1))
		fi
	done
}

@test "logcat -o on a log of many batches, through the index" {
	seq 0 59999 > in
	ok logappend -s 1M L < in
	[ -s L/00000000000000000000.index ]
	ok logcat -o 54321 -c 2 L
	output_is "54321
54322"
	ok logcat -o -1 L
	output_is 59999
	sh_ok 'logcat -o 30000 L | cmp - <(seq 30000 59999)'
}
