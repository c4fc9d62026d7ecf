# bench/mirror.bash - the logmirror section of bench/run (sourced there):
# push and pull throughput of 100-byte records against the raw libnats
# rate (bench/natsraw.c: asynchronous publish with message ids, 4096 in
# flight; pull fetch of 1024-message batches), on one 3-node JetStream
# cluster on loopback started here (t/nats.bash), in the same run,
# alternated round by round, medians compared.
#   BENCH_MIRROR_RECORDS  records per run (default BENCH_RECORDS / 5)
# Each push run goes to a new stream (a stream deleted and made again
# under one name trips a nats-server 2.9 bug); the one before is deleted.

M=${BENCH_MIRROR_RECORDS:-$((N / 5))}
if ! have nats-server || ! have curl || ! have python3 ||
    [ ! -x "$BUILD/bin/logmirror" ]; then
	skip "nats-server, curl, python3 or bin/logmirror missing" \
	    "logmirror push / pull vs raw libnats"
	return 0
fi
$CC -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$T/natsraw" \
    "$ROOT/bench/natsraw.c" $(pkg-config --cflags --libs libnats 2>/dev/null ||
    echo -lnats) || die "cannot build bench/natsraw.c"
. "$ROOT/t/nats.bash"
trap 'nats_stop; cleanup' EXIT
nats_start "$T/nats" >/dev/null 2>&1 || die "nats-server cluster did not start"
SERVERS=$(echo "$NATS_URL" | sed 's|^nats://||; s|,|,nats://|g; s|^|nats://|')
head -n "$M" "$IN" | logappend -N "$T/mlog"

# now: seconds since the epoch, to the nanosecond.
now() { date +%s.%N; }
# med FILE: the median of the numbers in FILE, one a line.
med() { sort -g "$1" | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# drop STREAM: delete a stream (its store too), quietly.
drop() { nats_req 1 "\$JS.API.STREAM.DELETE.$1" >/dev/null 2>&1 || :; }

: >"$T/raw.pub"
: >"$T/lm.push"
: >"$T/raw.fetch"
: >"$T/lm.pull"
for ((i = 0; i <= RUNS; i++)); do
	# Round 0 warms up, unrecorded.
	t0=$(now)
	"$T/natsraw" pub "$SERVERS" "raw$i" "$M" || die "natsraw pub failed"
	t1=$(now)
	logmirror push -q -n "m$i" "$T/mlog" "$NATS_URL/lm$i" ||
	    die "logmirror push failed"
	t2=$(now)
	"$T/natsraw" fetch "$SERVERS" "lm$i" "$M" || die "natsraw fetch failed"
	t3=$(now)
	rm -rf "$T/replica"
	t4=$(now)
	logmirror pull -q "$NATS_URL/lm$i" "$T/replica" ||
	    die "logmirror pull failed"
	t5=$(now)
	[ "$(logstat "$T/replica" | awk '$1 == "records" { print $2 }')" = "$M" ] ||
	    die "the replica does not hold $M records"
	if [ "$i" -gt 0 ]; then
		calc "$t1 - $t0" >>"$T/raw.pub"
		calc "$t2 - $t1" >>"$T/lm.push"
		calc "$t3 - $t2" >>"$T/raw.fetch"
		calc "$t5 - $t4" >>"$T/lm.pull"
	fi
	drop "raw$i"
	[ "$i" -eq 0 ] || drop "lm$((i - 1))"
done
rm -rf "$T/replica" "$T/mlog"
nats_stop
trap cleanup EXIT
mrate() { awk -v n="$M" -v t="$1" 'BEGIN { printf "%.0f", n / t }'; }
for r in raw.pub lm.push raw.fetch lm.pull; do
	eval "R_${r/./_}=\$(mrate \"\$(med \"\$T/\$r\")\")"
done
echo "  $M records of 100 bytes, 3 nodes, R3 file streams; records/s (medians):"
printf '  %-46s %9s /s\n' "libnats async publish, msg ids (raw)" "$R_raw_pub"
printf '  %-46s %9s /s\n' "logmirror push (ids, ordering expectations)" "$R_lm_push"
printf '  %-46s %9s /s\n' "libnats pull fetch, 1024 a batch (raw)" "$R_raw_fetch"
printf '  %-46s %9s /s\n' "logmirror pull (decode, write, fdatasync)" "$R_lm_pull"
check "logmirror push / raw publish" "$(calc "$R_lm_push / $R_raw_pub")" ">=" 0.8 x
check "logmirror pull / raw fetch" "$(calc "$R_lm_pull / $R_raw_fetch")" ">=" 0.8 x
