#!/usr/bin/env bats
# logseek: every offset specification, Kafka's time rule on timestamps
# that go backwards, the -v layout, indexes that lie, and a real event log
# (t/data/dpkg.log) checked against a linear scan for every time in it.
load helpers

T0=1795168800000	# 2026-11-20T10:00:00Z

# ten LOG: records v0..v9 at T0 + 0s, 1s, ... 9s, in one batch.
ten() {
	local i
	for ((i = 0; i < 10; i++)); do
		printf '{"timestamp":%d,"value":"v%d"}\n' $((T0 + i * 1000)) $i
	done > ten.jsonl
	logappend -J "$1" < ten.jsonl
}

# dpkg_json FILE: the dpkg log as JSON Lines: its time as the timestamp,
# the package as the key (none for "startup" lines), the line as the value.
dpkg_json() {
	python3 - "$1" <<'EOF'
import calendar, json, sys, time
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    f = line.split()
    t = calendar.timegm(time.strptime(f[0] + " " + f[1], "%Y-%m-%d %H:%M:%S"))
    rec = {"timestamp": t * 1000, "value": line}
    if f[2] == "status":
        rec["key"] = f[4]
    elif f[2] != "startup":
        rec["key"] = f[3]
    print(json.dumps(rec))
EOF
}

# linear_check LOG: for every timestamp T in LOG, T-1 and T+1 (a sample of
# 3000 of them for big logs, always with the first and the last) logseek
# s@T agrees with a linear scan for the first record whose timestamp is
# >= T; the answers are left in "want".
linear_check() {
	local rc=0
	logcat -F '%o %T\n' "$1" > scan || return 1
	python3 - scan <<'EOF' || return 1
import bisect, random, sys
recs = [tuple(map(int, l.split())) for l in open(sys.argv[1])]
end = recs[-1][0] + 1 if recs else 0
ts = sorted({t for o, t in recs})
qs = sorted({t + d for t in ts for d in (-1, 0, 1)})
if len(qs) > 3000:
    qs = [qs[0]] + sorted(random.Random(1).sample(qs[1:-1], 2998)) + [qs[-1]]
# Kafka's rule: the first record whose timestamp is >= T is the first
# where the running maximum reaches T.
runmax, m = [], None
for o, t in recs:
    m = t if m is None or t > m else m
    runmax.append(m)
with open("queries", "w") as qf, open("want", "w") as wf:
    for q in qs:
        i = bisect.bisect_left(runmax, q)
        print(q, file=qf)
        print(recs[i][0] if i < len(recs) else end, file=wf)
EOF
	mapfile -t specs < <(sed 's/^/s@/' queries)
	# the last query is past every record: exit 1
	logseek "$1" "${specs[@]}" > got 2> err || rc=$?
	if [ "$rc" -ne 1 ] || [ "$(wc -l < err)" -ne 1 ]; then
		echo "logseek exited $rc: $(head -3 err)" >&2
		return 1
	fi
	cmp got want || { diff got want | head -5 >&2; return 1; }
	[ "$(wc -l < want)" -gt 100 ]
}

# recheck LOG: the queries of the last linear_check get the same answers.
recheck() {
	local rc=0
	logseek "$1" "${specs[@]}" > got 2> err || rc=$?
	[ "$rc" -eq 1 ] || { echo "logseek exited $rc" >&2; return 1; }
	cmp got want
}

@test "logseek: --help, --version and usage errors" {
	ok logseek --help
	is "${lines[0]}" "usage: logseek [-v] log spec ..."
	is "${lines[1]}" "  -v, --verbose  add the timestamp, segment and byte position"
	ok logseek -h
	ok logseek --version
	output_is "logseek synclog $(sed -n 's/^#define SL_VERSION[^"]*"\(.*\)"/\1/p' "$BATS_TEST_DIRNAME/../lib/synclog.h")"
	ten L
	expect 2 logseek
	stderr_is "usage: logseek [-v] log spec ..."
	expect 2 logseek L
	expect 2 logseek -x L 1
	fails 2 logseek L nonsense
	stderr_is "logseek: invalid offset specification: nonsense"
	fails 2 logseek L s@yesterday
	fails 2 logseek nolog 0
	stderr_is "logseek: nolog: No such file or directory"
	mkdir notalog
	fails 2 logseek notalog 0
	stderr_has "not a synclog log"
}

@test "logseek: beginning, end, N and -N" {
	ten L
	ok logseek L beginning end 0 3 9 -3 -10 -100
	output_is "$(printf '%s\n' 0 10 0 3 9 7 0 0)"
}

@test "logseek: no record at or after the spec prints the end and exits 1" {
	ten L
	fails 1 logseek L 10
	output_is 10
	stderr_is "logseek: L: no record at or after offset 10"
	fails 1 logseek L s@$((T0 + 9001))
	output_is 10
	stderr_is "logseek: L: no record at or after 2026-11-20T10:00:09.001Z"
	# end and e@TIME are bounds: the end is a right answer for them
	ok logseek L end e@$((T0 + 9001))
	output_is "10
10"
	# an empty log
	: | logappend E
	fails 1 logseek E beginning
	output_is 0
	ok logseek E end
	output_is 0
}

@test "logseek: s@TIME and e@TIME, in milliseconds and ISO 8601" {
	ten L
	ok logseek L s@$((T0 + 3000)) s@$((T0 + 3001)) s@0 e@$((T0 + 3000)) \
	    s@2026-11-20T10:00:05Z s@2026-11-20T10:00:05.5Z \
	    s@2026-11-20T12:00:05+02:00 e@2026-11-20T10:00:05.999Z
	output_is "$(printf '%s\n' 3 4 0 3 5 6 5 6)"
}

@test "logseek: timestamps that go backwards follow Kafka's rule" {
	printf '%s\n' '{"timestamp":1000,"value":"a"}' \
	    '{"timestamp":5000,"value":"b"}' '{"timestamp":2000,"value":"c"}' \
	    '{"timestamp":6000,"value":"d"}' '{"timestamp":3000,"value":"e"}' |
	    logappend -J L
	# the first record whose own timestamp is >= T, in offset order
	ok logseek L s@1000 s@1001 s@2000 s@5000 s@5001 s@6000 e@2500
	output_is "$(printf '%s\n' 0 1 1 1 3 3 1)"
	fails 1 logseek L s@6001
	output_is 5
}

@test "logseek -v: offset, timestamp, ISO time, segment and byte position" {
	ten L
	ok logseek -v L 0 3 end
	output_is "0 1795168800000 2026-11-20T10:00:00.000Z 00000000000000000000.log 0
3 1795168803000 2026-11-20T10:00:03.000Z 00000000000000000000.log 0
10 - - - -"
	# across segments the segment and batch position follow the record
	seq 1 3000 | logappend -s 8K S
	ok logseek -v S 2500
	set -- $output
	is "$1" 2500
	[ "$4" != 00000000000000000000.log ]
	# the batch at that byte of that segment holds the record
	ok logfsck -d S
	range=$(grep "^$4: byte $5: " <<<"$output" |
	    sed 's/.*offsets \([0-9]*\)-\([0-9]*\):.*/\1 \2/')
	set -- $range
	[ "$1" -le 2500 ] && [ "$2" -ge 2500 ]
}

@test "logseek: agrees with logcat -o and -c 1 on every spec" {
	seq 1 5000 | logappend -s 16K L
	for spec in beginning 1 777 2048 4999 -1 -4000 s@0; do
		ok logseek L "$spec"
		want=$output
		ok logcat -F '%o\n' -o "$spec" -c 1 L
		is "$output" "$want"
	done
}

@test "logseek: a real event log, checked against a linear scan for every time" {
	[ -s "$BATS_TEST_DIRNAME/data/dpkg.log" ]
	dpkg_json "$BATS_TEST_DIRNAME/data/dpkg.log" > events.jsonl
	[ "$(wc -l < events.jsonl)" -ge 2000 ]
	ok logappend -J -s 16K L < events.jsonl
	[ "$(ls L/*.log | wc -l)" -gt 10 ]
	linear_check L
}

@test "logseek: timestamps going backwards across many segments agree with a linear scan" {
	python3 - > in.jsonl <<'EOF'
import random
r = random.Random(7)
t = 1700000000000
for i in range(6000):
    t += r.randint(0, 40)
    # a tenth of the records come late, some a lot
    ts = t - r.randint(0, 20000) if r.random() < 0.1 else t
    print('{"timestamp":%d,"value":"%d"}' % (ts, i))
EOF
	ok logappend -J -s 4K L < in.jsonl
	[ "$(ls L/*.log | wc -l)" -gt 15 ]
	linear_check L
	# compressed batches too
	ok logappend -z -J -s 8K Z < in.jsonl
	linear_check Z
}

# late_json N SEED: N keyed records whose timestamps advance and often go
# back, some a long way; FUTURE=K puts the first K far in the future.
late_json() {
	python3 - "$1" "$2" "${FUTURE:-0}" <<'EOF'
import random, sys
n, seed, future = map(int, sys.argv[1:])
r = random.Random(seed)
t = 1700000000000
for i in range(n):
    t += r.randint(0, 40)
    ts = t - r.randint(0, 30000) if r.random() < 0.15 else t
    if i < future:
        ts = t + 10**9 + i
    print('{"key":"k%d","timestamp":%d,"value":"%d"}' % (r.randint(0, 300), ts, i))
EOF
}

# opens LOG SPEC: how many segment and index files one lookup opens.
opens() {
	strace -f -e trace=openat -o trace logseek "$1" "$2" > /dev/null
	grep -c '\.\(log\|index\)"' trace
}

# log2up N: the number of halvings that take N to 1.
log2up() {
	awk -v n="$1" 'BEGIN { k = 0; for (m = 1; m < n; m *= 2) k++; print k }'
}

@test "logseek: hundreds of small segments with late timestamps agree with a linear scan" {
	late_json 16000 11 > in.jsonl
	ok logappend -N -J -s 1K L < in.jsonl
	[ "$(ls L/*.log | wc -l)" -gt 200 ]
	linear_check L
	ok logfsck L
}

@test "logseek: the segments' seeds: a time lookup opens O(log segments) files" {
	require strace
	late_json 300 3 > small.jsonl
	late_json 30000 3 > big.jsonl
	ok logappend -N -J -s 1K S < small.jsonl
	ok logappend -N -J -s 1K B < big.jsonl
	[ "$(ls S/*.log | wc -l)" -ge 10 ] && [ "$(ls B/*.log | wc -l)" -gt 1000 ]
	# a time at 10%, 50% and 90% of each log, and one past its end
	for log in S B; do
		segs=$(ls $log/*.log | wc -l)
		n=$(logseek $log end)
		for pct in 10 50 90 100; do
			off=$((n * pct / 100 - (pct == 100)))
			ok logcat -o $off -c 1 -F '%T' $log
			t=$((output + (pct == 100)))
			c=$(opens $log s@$t)
			echo "# $log ($segs segments) s@$t: $c files opened" >&3
			# a seed a halving; the first segment (at open), the
			# one before the start (seed and probe), the start's
			# probe and search, logseek's own look at the answer,
			# and the next segment's probe and search
			[ "$c" -le $(($(log2up "$segs") + 14)) ]
		done
	done
	# without seeds (an index from before them), the lookup probes
	# every segment on its way, and is still right
	for f in B/*.index; do tail -c +21 "$f" > x && cp x "$f"; done
	c=$(opens B s@$t)
	echo "# B without seeds s@$t: $c files opened" >&3
	[ "$c" -gt 1000 ]
}

@test "logseek: retention dropped the early segments holding the largest timestamps" {
	FUTURE=200 late_json 6000 5 > in.jsonl
	ok logappend -N -J -s 1K L < in.jsonl
	linear_check L
	# the seeds of every later segment still count the future records:
	# too large, which costs probes, never a wrong answer
	ok logcompact -r 5000 L
	[ "$(logseek L beginning)" -gt 200 ]
	linear_check L
	ok logfsck L
	ok logfsck -r L
	[[ $output =~ clean$ ]]
	linear_check L
}

@test "logseek: compaction keeps the seeds, and lookups agree with a linear scan" {
	late_json 6000 9 > in.jsonl
	ok logappend -N -J -s 2K L < in.jsonl
	ok logcompact -k L
	# records went, whole segments too (gaps), and the seeds stayed
	[ "$(logcat L | wc -l)" -lt 3000 ]
	linear_check L
	ok logfsck L
	ok logfsck -r L
	[[ $output =~ clean$ ]]
	# a second run finds nothing to drop and changes no index
	cp -a L again
	ok logcompact -k L
	for f in again/*.index; do cmp "$f" "L/${f#again/}"; done
}

@test "logseek: indexes rebuilt by logfsck --repair are the writer's and lend their seeds" {
	late_json 5000 13 > in.jsonl
	ok logappend -N -J -s 1K L < in.jsonl
	mkdir good && cp L/*.index good/
	linear_check L
	rm L/*.index
	expect 0 logfsck -r L
	for f in good/*.index; do cmp "$f" "L/${f#good/}"; done
	recheck L
	# a writer that finds no index for the last segment works its seed
	# out from the segment before
	rm "$(ls L/*.index | tail -1)"
	echo '{"timestamp":1,"value":"late"}' | logappend -N -J L
	ok logfsck L
	ok logfsck -r L
	[[ $output =~ clean$ ]]
}

@test "logseek: seeds that are too small are damage: lookups do not trust them, logfsck reports them" {
	late_json 5000 17 > in.jsonl
	ok logappend -N -J -s 1K L < in.jsonl
	mkdir good && cp L/*.index good/
	linear_check L
	# checksums that hold, but seeds as if each segment began the log
	# (the rule before seeds): every lookup would start at the end
	for f in L/*.index; do
		reentry "$f" 'd[i+8:i+16] = (-2**63).to_bytes(8, "little", signed=True) if i == 0 else d[i+8:i+16]'
	done
	recheck L
	fails 1 logfsck L
	stderr_has "seed too small"
	expect 0 logfsck -r L
	for f in good/*.index; do cmp "$f" "L/${f#good/}"; done
	# one segment's seed alone
	f=$(ls L/*.index | sed -n 50p)
	reentry "$f" 'd[i+8:i+16] = (1700000000000).to_bytes(8, "little", signed=True) if i == 0 else d[i+8:i+16]'
	recheck L
	fails 1 logfsck L
	stderr_has "$(basename "$f"): byte 0: offset "
	stderr_has "(first: entry 0, seed too small)"
}

@test "logseek: a stale, foreign, torn, garbage or missing index is never trusted" {
	python3 -c '
for i in range(8000):
    print("{\"timestamp\":%d,\"value\":\"%d\"}" % (1000000 + i * 10 - (i % 7) * 25, i))' > in.jsonl
	ok logappend -J -s 32K L < in.jsonl
	ok logappend -J -s 32K O < <(sed 's/"value"/"key":"k","value"/' in.jsonl)
	linear_check L
	idx=L/00000000000000000000.index
	[ -s $idx ]
	cp $idx good.index
	# another log's index: positions that do not hold the batches named
	cp O/00000000000000000000.index $idx
	recheck L
	# garbage, torn, empty and missing
	head -c 4096 /dev/urandom > $idx
	recheck L
	head -c 100 good.index > $idx
	recheck L
	: > $idx
	recheck L
	rm $idx
	recheck L
	# every index shifted by one entry: each entry names the wrong batch
	for f in L/*.index; do
		tail -c +17 "$f" > shifted && cp shifted "$f"
	done
	recheck L
	ok logseek L 7000 33 s@1050000
	output_is "7000
33
5005"
}

@test "logseek: a lone segment file and gaps left by compaction" {
	ten L
	ok logseek L/00000000000000000000.log 4 s@$((T0 + 2000))
	output_is "4
2"
	for i in 1 2 3 4 5 6; do
		printf '{"key":"k","value":"v%d"}\n{"key":"u%d","value":"x"}\n' $i $i
	done | logappend -J -s 1K G
	seq 1 100 | logappend -s 1K G
	ok logcompact -k G
	# offsets 0, 2, 4, ... of key k are gone but the last
	ok logseek G 0 2 beginning
	output_is "1
3
1"
}

@test "logseek: damage in a sealed segment is reported, exit 1" {
	# From a file: a pipe's pauses would cut batches where they fall, and
	# byte 500 must be inside the first batch, not in its header.
	python3 -c '
for i in range(3000):
    print("{\"timestamp\":%d,\"value\":\"%d\"}" % (1000 + i, i))' > in
	logappend -J -s 8K L < in
	seg=L/00000000000000000000.log
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as h:
    h.seek(500); b = h.read(1); h.seek(500); h.write(bytes([b[0] ^ 0x10]))' $seg
	rm L/*.index
	# the lookup scans the damaged segment (no index), so it meets the damage
	fails 1 logseek L s@1200
	stderr_has "00000000000000000000.log: byte "
	stderr_has "checksum mismatch"
}
