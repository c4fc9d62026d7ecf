#!/usr/bin/env bash
# bench/seek.sh - the cost of a lookup must not grow with the size of the
# log: logseek s@TIME, logseek N and `logcat -o s@TIME -c 1` timed on a log
# of 10 thousand records and on one of 10 million, in the same run,
# alternating small and large so that a change of load on the machine hits
# both; the medians of CPU time and of wall time and the large/small ratios
# are printed.  CPU time (user + system, from the shell's children times)
# is the steadier figure on a shared machine.
#
#	bench/seek.sh [SMALL BIG]
#
# With two log directories it measures those (bench/run passes its own);
# without, it builds them in a scratch directory with logappend -N from
# JSON input of 100-byte values (the same in both logs, so that both have
# batches of the same size and only the size of the log differs) whose
# timestamps advance 10 ms a record, every 100th record 5 s late, so that
# Kafka's rule (the largest timestamp so far) matters.
# Settings (environment):
#   SEEK_RUNS=5          rounds; each makes SEEK_CALLS calls of each kind
#   SEEK_CALLS=40        on each log (timed one by one; medians printed)
#   SEEK_SMALL=10000     records of the small log, when built here
#   SEEK_BIG=10000000    records of the large log, when built here
#   SEEK_KEEP=1          keep the scratch directory
#   TMPDIR               where the scratch directory goes
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SYNCLOG_BUILD:-$ROOT}
export PATH="$BUILD/bin:$PATH"
RUNS=${SEEK_RUNS:-5}
CALLS=${SEEK_CALLS:-40}

for p in logappend logcat logseek; do
	command -v "$p" >/dev/null || { echo "seek.sh: $p not built" >&2; exit 2; }
done

T=
cleanup() {
	[ -n "$T" ] || return 0
	if [ -n "${SEEK_KEEP-}" ]; then
		echo "scratch directory kept: $T"
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# build DIR N: a log of N records with spread, partly late timestamps.
# The input goes through a file, so that batches have the size logappend
# gives a fast input (a megabyte) whatever the speed of awk.
build() {
	local t0 t1
	awk -v n="$2" 'BEGIN {
		pad = sprintf("%091d", 0)
		for (i = 0; i < n; i++)
			printf "{\"timestamp\":%d,\"value\":\"%08d %s\"}\n",
			    1700000000000 + i * 10 - (i % 100 == 0 ? 5000 : 0), i,
			    pad
	}' > "$T/input"
	t0=$EPOCHREALTIME
	logappend -N -J "$1" < "$T/input"
	t1=$EPOCHREALTIME
	rm -f "$T/input"
	printf 'built %s: %d records, %d MB, %d segments, in %.1f s\n' \
	    "${1##*/}" "$2" "$(($(du -sb "$1" | cut -f1) / 1000000))" \
	    "$(ls "$1"/*.log | wc -l)" "$(echo "$t1 - $t0" | bc)"
}

if [ $# -ne 0 ] && [ $# -ne 2 ]; then
	echo "usage: bench/seek.sh [small-log big-log]" >&2
	exit 2
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/synclog-seek.XXXXXX")
if [ $# -eq 2 ]; then
	SMALL=$1 BIG=$2
else
	SMALL=$T/small BIG=$T/big
	build "$SMALL" "${SEEK_SMALL:-10000}"
	build "$BIG" "${SEEK_BIG:-10000000}"
fi

# Queries at 10%, 50% and 90% of each log: an offset and its timestamp.
queries() {
	local end off
	end=$(logseek "$1" end)
	for pct in 10 50 90; do
		off=$((end * pct / 100))
		echo "$off $(logcat -o "$off" -c 1 -F '%T' "$1")"
	done
}
mapfile -t QS < <(queries "$SMALL")
mapfile -t QB < <(queries "$BIG")

# one LOG KIND Q: run one lookup of KIND for query Q ("offset timestamp").
one() {
	case $2 in
	seek_time) logseek "$1" "s@${3#* }" ;;
	seek_offset) logseek "$1" "${3% *}" ;;
	cat_time) logcat -o "s@${3#* }" -c 1 "$1" ;;
	esac > /dev/null
}

# cpu LOG KIND QUERIES: CPU seconds (user + system) of CALLS calls, from
# the shell's children times (clock ticks: a block is hundreds of them).
cpu() {
	local -n qs=$3
	local before after i
	times > "$T/times"
	before=$(tail -1 "$T/times")
	for ((i = 0; i < CALLS; i++)); do
		one "$1" "$2" "${qs[i % 3]}"
	done
	times > "$T/times"
	after=$(tail -1 "$T/times")
	awk -v b="$before" -v a="$after" -v n="$CALLS" 'function s(t,   x) {
		split(t, x, /[ ms]+/)
		return x[1] * 60 + x[2] + x[3] * 60 + x[4]
	} BEGIN { print (s(a) - s(b)) / n }'
}

# median "START:END ...": the median of END - START.
median() {
	tr ' ' '\n' <<<"$1" | awk -F: 'NF == 2 { print $2 - $1 }' | sort -g |
	    awk '{ v[NR] = $1 } END {
		if (NR % 2) m = v[(NR + 1) / 2]
		else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
		print m }'
}

# Every answer is checked once against logcat before anything is timed.
for q in "${QB[@]}"; do
	ts=${q#* }
	a=$(logseek "$BIG" "s@$ts")
	b=$(logcat -o "s@$ts" -c 1 -F '%o' "$BIG")
	[ "$a" = "$b" ] || { echo "seek.sh: logseek $a, logcat $b" >&2; exit 1; }
done

# Calls alternate small and large one by one, so that both logs see the
# same machine; every call is timed on its own and the median taken.
# CPU time is measured by blocks of calls, alternating small and large.
KINDS="seek_time seek_offset cat_time"
declare -A S B CS CB
for ((r = 0; r < RUNS; r++)); do
	for k in $KINDS; do
		CS[$k]+="0:$(cpu "$SMALL" "$k" QS) "
		CB[$k]+="0:$(cpu "$BIG" "$k" QB) "
	done
done
for ((r = 0; r < RUNS; r++)); do
	for k in $KINDS; do
		for ((i = 0; i < CALLS; i++)); do
			t0=$EPOCHREALTIME
			one "$SMALL" "$k" "${QS[i % 3]}"
			t1=$EPOCHREALTIME
			one "$BIG" "$k" "${QB[i % 3]}"
			t2=$EPOCHREALTIME
			S[$k]+="$t0:$t1 "
			B[$k]+="$t1:$t2 "
		done
	done
done

printf 'small: %s records; large: %s records; %d calls of each kind on each\n' \
    "$(logseek "$SMALL" end)" "$(logseek "$BIG" end)" $((RUNS * CALLS))
# table TITLE SMALLVAR BIGVAR: medians per kind and the ratio.
table() {
	local -n sm=$2 bg=$3
	local k s b what
	printf '%-34s %12s %12s %8s\n' "$1" small large ratio
	for k in $KINDS; do
		s=$(median "${sm[$k]}")
		b=$(median "${bg[$k]}")
		case $k in
		seek_time) what="logseek LOG s@TIME" ;;
		seek_offset) what="logseek LOG OFFSET" ;;
		cat_time) what="logcat -o s@TIME -c 1 LOG" ;;
		esac
		printf '%-34s %10.3fms %10.3fms %8.2f\n' "$what" \
		    "$(echo "$s * 1000" | bc -l)" "$(echo "$b * 1000" | bc -l)" \
		    "$(echo "$b / $s" | bc -l)"
	done
}
table "CPU time of a call (median)" CS CB
table "wall time of a call (median)" S B
