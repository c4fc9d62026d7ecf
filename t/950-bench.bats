#!/usr/bin/env bats
# bench/run, the harness behind `make bench`, at a tiny size: every
# scenario runs, every target gets a line in the summary, the scratch
# directory goes away.  Speeds are not judged here (they are the bench's
# business, never a test's); only that the harness works.

load helpers

tiny() {
	env TMPDIR="$BATS_TEST_TMPDIR/scratch" BENCH_RECORDS=20000 BENCH_BIG=2 \
	    BENCH_SAMPLES=40 BENCH_RATE=400 BENCH_RUNS=1 SEEK_RUNS=1 SEEK_CALLS=4 \
	    "$@" \
	    "$BATS_TEST_DIRNAME/../bench/run"
}

@test "bench: every scenario runs at a tiny size and every target is reported" {
	require sqlite3
	require redis-server
	mkdir scratch
	expect 0 tiny LC_ALL= LC_CTYPE= LANG=C.UTF-8
	[ -z "$stderr" ] || { echo "stderr: $stderr" >&2; return 1; }
	grep -qx 'locale:  LC_ALL=C (the caller.s: C.UTF-8)' <<<"$output"
	grep -q '^  cat logbytes > out  ' <<<"$output"
	grep -q '^  dd bs=1M oflag=dsync (a sync per MiB)  ' <<<"$output"
	grep -q '^  cat alone, once per batch (sh loop)  ' <<<"$output"
	grep -q '^  logapply ... -- cat, LC_ALL=C.UTF-8  ' <<<"$output"
	grep -q '^  redis-cli XRANGE s - + > /dev/null  ' <<<"$output"
	grep -Eq '^    logseek LOG s@TIME +[0-9.]+ms +[0-9.]+ms +[0-9.]+$' \
	    <<<"$output"
	is "$(grep -c 'seek.sh failed' <<<"$output" || :)" 0
	# Each section after the first ends with the steal it suffered, and
	# the run with the whole run's.
	is "$(grep -Ec '^  \(steal: [0-9.]+ s of the [0-9.]+ s x [0-9]+ cpus this section\)$' <<<"$output")" \
	    "$(($(grep -c '^== ' <<<"$output") - 1))"
	grep -Eq '^steal: +[0-9.]+ s of the [0-9.]+ s x [0-9]+ cpus of the whole run$' <<<"$output"
	# The summary: seventeen targets, each met or missed, none skipped.
	sed -n '/^== summary (/,/^load:/p' <<<"$output" >summary
	grep -Eq '^== summary \([0-9]+ met, [0-9]+ missed\) ==$' summary
	is "$(grep -Ec ' (met|MISSED)$' summary)" 17
	is "$(grep -c 'skipped' summary || :)" 0
	is "$(find scratch -mindepth 1 | wc -l)" 0
}

@test "bench: the caller's locale is not measured twice when it is C" {
	require sqlite3
	mkdir scratch
	expect 0 tiny LANG= LC_ALL=C
	grep -qx 'locale:  LC_ALL=C (the caller.s: C)' <<<"$output"
	grep -q '^  cat alone, once per batch (sh loop)  ' <<<"$output"
	is "$(grep -c 'LC_ALL=C.UTF-8' <<<"$output" || :)" 0
}

@test "bench: programs not built: exit 2 and say so, nothing left behind" {
	mkdir scratch empty
	expect 2 tiny SYNCLOG_BUILD="$PWD/empty"
	grep -q "^bench: $PWD/empty/bin/logappend missing: run make$" <<<"$stderr"
	is "$(find scratch -mindepth 1 | wc -l)" 0
}

@test "bench: the latency probe misses no line when logcat -f comes up late" {
	cc -O2 -std=c11 -D_GNU_SOURCE -o latency "$BATS_TEST_DIRNAME/../bench/latency.c"
	# A logcat that starts a second late, as on a loaded machine under
	# the sanitizers: the lines sent before it is up are still read.
	mkdir slow
	printf '#!/bin/sh\nsleep 1\nexec %s "$@"\n' "$(command -v logcat)" > slow/logcat
	chmod +x slow/logcat
	logappend L </dev/null
	PATH=$PWD/slow:$PATH expect 0 ./latency -n 100 -r 200 -w 10 L
	[[ $output =~ ^samples\ 100\ p50\ [0-9.]+\ p90\ [0-9.]+\ p99\ [0-9.]+\ max\ ([0-9.]+)$ ]] ||
	    { echo "output: $output" >&2; return 1; }
	# The first lines waited for it.
	awk -v m="${BASH_REMATCH[1]}" 'BEGIN { exit (m > 500 ? 0 : 1) }'
}
