#!/usr/bin/env bats
# logcompact: retention by age, size and offsets, compaction by key with
# tombstones, --keep-unconsumed, dry runs, bounded memory, crashes at every
# step, and both racing a follower and a writer.
load helpers

# keyed LOG N NKEYS: N records "i" with keys k(i % NKEYS), then unkeyed
# filler so that every keyed record lies in a sealed segment.
keyed() {
	local log=$1 n=$2 nk=$3
	python3 -c '
import sys
n, nk = int(sys.argv[1]), int(sys.argv[2])
for i in range(n):
    print("{\"key\":\"k%d\",\"value\":\"%d\"}" % (i % nk, i))' "$n" "$nk" |
	    logappend -J -s 4K "$log" || return 1
	seq 1 600 | sed 's/^/filler /' | logappend -s 4K "$log"
}

# latest_check BEFORE AFTER: AFTER (logcat -J after compaction) holds every
# unkeyed record of BEFORE and, of the keyed ones, exactly the latest of
# each key, with offsets, timestamps and values unchanged.
latest_check() {
	python3 - "$1" "$2" <<'EOF'
import json, sys
before = [json.loads(l) for l in open(sys.argv[1])]
after = [json.loads(l) for l in open(sys.argv[2])]
latest = {}
for r in before:
    if r["key"] is not None:
        latest[r["key"]] = r["offset"]
want = [r for r in before if r["key"] is None or latest[r["key"]] == r["offset"]]
if after != want:
    print("after compaction: %d records, expected %d" % (len(after), len(want)))
    for a, w in zip(after, want):
        if a != w:
            print("first difference:", a, w)
            break
    sys.exit(1)
EOF
}

# segments LOG: the base offsets of LOG's segments, one per line.
segments() {
	for f in "$1"/*.log; do
		f=${f##*/}
		echo $((10#${f%.log}))
	done
}

# fingerprint LOG: a checksum of every file of LOG, to compare.
fingerprint() {
	(cd "$1" && find . -type f ! -name lock -print0 | sort -z |
	    xargs -0 md5sum)
}

@test "logcompact: --help, --version and usage errors" {
	ok logcompact --help
	case $output in "usage: logcompact "*) ;; *) false ;; esac
	ok logcompact --version
	output_is "logcompact synclog $(sed -n 's/^#define SL_VERSION[^"]*"\(.*\)"/\1/p' "$BATS_TEST_DIRNAME/../lib/synclog.h")"
	seq 1 10 | logappend L
	expect 2 logcompact
	case $stderr in "usage: logcompact "*) ;; *) false ;; esac
	expect 2 logcompact -k
	expect 2 logcompact -k L L
	expect 2 logcompact -q L
	fails 2 logcompact L
	stderr_is "logcompact: nothing to do: give -a, -b, -r or -k"
	fails 2 logcompact -a 7x L
	stderr_has "-a: invalid age"
	fails 2 logcompact -a 7y L
	fails 2 logcompact -b 10T L
	fails 2 logcompact -b -1 L
	fails 2 logcompact -r x L
	fails 2 logcompact -k -m 1K L
	fails 2 logcompact -k -g soon L
	fails 2 logcompact -k nolog
	stderr_is "logcompact: nolog: No such file or directory"
	mkdir notlog
	fails 2 logcompact -k notlog
	stderr_is "logcompact: notlog: not a synclog log (no settings file)"
	mkdir empty
	fails 2 logcompact -k empty
}

@test "logcompact -k: the latest record of each key survives, at its offset" {
	keyed L 3000 40
	ok logcat -J L
	printf '%s\n' "$output" > before
	last=$(ls L/*.log | tail -1)
	cp "$last" active.before
	ok logcompact -k L
	ok logcat -J L
	printf '%s\n' "$output" > after
	latest_check before after
	# the active segment is untouched, offsets and end are unchanged
	cmp active.before "$last"
	ok logseek L end
	output_is 3600
	ok logfsck L
	# a second run finds nothing more to do
	fingerprint L > fp1
	ok logcompact -v -k L
	output_is "L: 0 segments removed, 0 compacted, 0 records and 0 bytes freed"
	fingerprint L > fp2
	cmp fp1 fp2
}

@test "logcompact -k: a real event log keeps exactly the latest event of each package" {
	python3 - "$BATS_TEST_DIRNAME/data/dpkg.log" > events.jsonl <<'EOF'
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
	[ "$(wc -l < events.jsonl)" -ge 2000 ]
	ok logappend -J -s 16K L < events.jsonl
	# unkeyed events after them, so that every package event is sealed
	seq 1 2000 | logappend -s 16K L
	ok logcat -J L
	printf '%s\n' "$output" > before
	ok logcompact -v -k L
	grep -q '^compact 00000000000000000000.log: ' <<<"$output"
	ok logcat -J L
	printf '%s\n' "$output" > after
	latest_check before after
	# and keys: one record per package, the last one dpkg logged
	python3 -c '
import json
print(len({json.loads(l).get("key") for l in open("events.jsonl")} - {None}))' > nkeys
	[ "$(cat nkeys)" -gt 300 ]
	is "$(logcat -F '%K\n' L | grep -vc '^-1$')" "$(cat nkeys)"
	ok logfsck L
	# logseek still agrees with the records that remain
	ok logcat -F '%o %T\n' -c 1 -o s@1750775800000 L
	set -- $output
	ok logseek L s@1750775800000
	output_is "$1"
}

@test "logcompact -k: records without a key stay, an empty key is a key" {
	printf '%s\n' '{"value":"nokey1"}' '{"key":"","value":"e1"}' \
	    '{"value":"nokey2"}' '{"key":"","value":"e2"}' | logappend -J -s 1K L
	seq 1 200 | logappend -s 1K L
	ok logcompact -k L
	ok logcat -c 3 -F '%o %K %s\n' L
	output_is "0 -1 nokey1
2 -1 nokey2
3 0 e2"
}

@test "logcompact -k: a tombstone's grace counts from when its segment was written (issue 20.6)" {
	# Producer timestamps from long ago, even 1970: they have no say.
	printf '%s\n' \
	    '{"key":"a","value":"1","timestamp":1000}' \
	    '{"key":"a","value":null,"timestamp":1000}' \
	    '{"key":"b","value":"1","timestamp":1000}' \
	    '{"key":"b","value":null,"timestamp":1000}' \
	    '{"key":"c","value":null,"timestamp":1000}' \
	    '{"key":"c","value":"back","timestamp":1000}' |
	    logappend -J -s 1K L
	seq 1 200 | logappend -s 1K L
	# The segments were written just now: within the default grace
	# (24h) and within 1h, the latest tombstones stay.
	ok logcompact -k L
	ok logcompact -k -g 1h L
	ok logcat -F '%o %k %S\n' -c 3 L
	output_is "1 a -1
3 b -1
5 c 4"
	# Three hours later (the segments' times, as the file system has
	# them; a rewrite keeps them), a grace of 1h is over.
	touch -d '3 hours ago' L/*.log
	ok logcompact -k -g 4h L
	ok logcat -F '%o %k\n' -c 1 L
	output_is "1 a"
	ok logcompact -k -g 1h L
	ok logcat -F '%o %k %S\n' -c 1 L
	output_is "5 c 4"
	ok logfsck L
}

@test "logcompact -k: a tombstone stays until every consumer has applied it (issue 20.6)" {
	printf '%s\n' '{"key":"k","value":"v"}' \
	    '{"key":"k","value":null,"timestamp":1000}' \
	    '{"key":"j","value":"w"}' '{"key":"j","value":null}' |
	    logappend -J -s 1K L
	seq 1 200 | logappend -s 1K L
	touch -d '2 days ago' L/*.log
	# One consumer has applied k's tombstone (offset 1), another is one
	# record behind it: it stays, or that store keeps k for ever.
	ok logcheckpoint -s 2 L fast
	ok logcheckpoint -s 1 L slow
	ok logcompact -k L
	ok logcat -F '%o %k %S\n' -c 2 L
	output_is "1 k -1
3 j -1"
	# Once every consumer is past them, both go.
	ok logcheckpoint -s 4 L slow
	ok logcheckpoint -s 4 L fast
	ok logcompact -k L
	ok logcat -F '%o %k\n' -c 1 L
	output_is "4 "
	ok logfsck L
}

@test "logcompact -k -m: a key map too small for all keys takes several passes, same result" {
	keyed A 4000 700
	cp -a A B
	ok logcompact -k A
	ok logcompact -v -k -m 4K B
	grep -q '^pass: the key map is full' <<<"$output"
	ok logcat -J A
	printf '%s\n' "$output" > a
	ok logcat -J B
	printf '%s\n' "$output" > b
	cmp a b
}

@test "logcompact -n: a dry run says what would go and changes nothing" {
	keyed L 2000 30
	fingerprint L > before
	ok logcompact -n -k -r 1000 L
	grep -q '^remove 00000000000000000000.log: offsets 0-[0-9]*, [0-9]* bytes (records)$' <<<"$output"
	grep -q '^compact [0-9]*.log: [0-9]* -> [0-9]* records, [0-9]* -> [0-9]* bytes$' <<<"$output"
	grep -q '^L: dry run: [1-9][0-9]* segments removed, [1-9][0-9]* compacted, ' <<<"$output"
	# no segment is both removed and compacted
	removed=$(grep '^remove' <<<"$output" | cut -d' ' -f2 | tr -d :)
	for s in $removed; do ! grep -q "^compact $s" <<<"$output"; done
	fingerprint L > after
	cmp before after
	grep -v '^L: ' <<<"$output" > said
	# the real run does what the dry run said
	ok logcompact -v -k -r 1000 L
	grep -v '^L: ' <<<"$output" > did
	cmp said did
}

@test "logcompact -r: keeps at least the last N offsets, in whole segments" {
	seq 1 3000 | logappend -s 4K L
	before=$(segments L | wc -l)
	ok logcompact -v -r 1000 L
	segs=($(segments L))
	[ ${#segs[@]} -lt "$before" ]
	# everything from end - 1000 on is still there ...
	ok logcat -o 2000 L
	is "$(printf '%s\n' "$output" | wc -l)" 1000
	# ... and the first remaining segment was needed for that
	[ "${segs[1]}" -gt 2000 ]
	ok logseek L beginning
	output_is "${segs[0]}"
	ok logcat L
	is "$(printf '%s\n' "$output" | head -1)" $((segs[0] + 1))
	# -r 0: every sealed segment goes, the active one stays
	last=$(ls L/*.log | tail -1)
	cp "$last" active
	ok logcompact -r 0 L
	is "$(ls L/*.log)" "$last"
	cmp active "$last"
	ok logfsck L
}

@test "logcompact -b: drops the oldest segments until the log fits" {
	seq 1 5000 | logappend -s 4K L
	ok logcompact -v -b 20K L
	total=$(cat L/*.log | wc -c)
	[ "$total" -le 20480 ]
	# one segment fewer would not have been enough: the oldest dropped
	# segment was needed to get under the limit
	[ "$total" -gt $((20480 - 5000)) ]
	ok logcat -o end -c 0 L
	ok logcat -o -1 L
	output_is 5000
	# suffixes
	ok logcompact -b 1G L
	ok logcompact --max-bytes 1024 L
	[ "$(ls L/*.log | wc -l)" -eq 1 ]
}

@test "logcompact -a: drops segments whose newest record is older than AGE" {
	now=$(date +%s%3N)
	python3 -c '
import sys
now = int(sys.argv[1])
for i in range(2000):
    # the first 1200 records are 10 days old, the rest are new
    ts = now - 10 * 86400000 if i < 1200 else now - 60000
    print("{\"timestamp\":%d,\"value\":\"%d\"}" % (ts, i))' "$now" |
	    logappend -J -s 4K L
	ok logcompact -v -a 7d L
	grep -q '(age)$' <<<"$output"
	# every old record that is left shares a segment with a new one
	ok logcat -F '%o %T\n' L
	first=$(head -1 <<<"$output" | cut -d' ' -f1)
	[ "$first" -gt 0 ] && [ "$first" -le 1200 ]
	ok logcat -o 1200 -c 1 L
	output_is 1200
	n=$(logcat L | wc -l)
	ok logcompact -a 20d L
	is "$(logcat L | wc -l)" "$n"
	ok logcompact --max-age 1ms L
	[ "$(ls L/*.log | wc -l)" -eq 1 ]
}

@test "logcompact -u: never drops what a consumer has not applied" {
	keyed L 2000 20
	ok logcheckpoint -s 500 L slow
	ok logcheckpoint -s 1800 L fast
	ok logcat -J L
	printf '%s\n' "$output" > before
	ok logcompact -u -r 0 -k L
	# records from offset 500 on are all there, unchanged
	ok logcat -J -o 500 L
	printf '%s\n' "$output" > tail.after
	python3 -c '
import json, sys
b = [l for l in open("before") if json.loads(l)["offset"] >= 500]
sys.exit(b != open("tail.after").readlines())'
	# below 500: compacted, and no segment holding offset 500 was dropped
	ok logseek L beginning
	[ "$output" -le 500 ]
	[ "$(logcat -o 0 -F '%o\n' L | awk '$1 < 500' | wc -l)" -lt 480 ]
	# once the slow consumer catches up, the rest can go
	ok logcheckpoint -s 2600 L slow
	ok logcheckpoint -s 2600 L fast
	ok logcompact -u -r 0 -k L
	[ "$(ls L/*.log | wc -l)" -eq 1 ]
}

@test "logcompact -u: a damaged checkpoint stops the run, nothing changes" {
	keyed L 500 10
	ok logcheckpoint -s 100 L c1
	printf 'garbage' > L/consumers/c1.ckpt
	fingerprint L > before
	fails 1 logcompact -u -r 0 -k L
	stderr_has "consumer c1: "
	fingerprint L > after
	cmp before after
	# without -u consumers are not consulted
	ok logcompact -r 0 L
}

@test "logcompact: a damaged sealed segment is refused, run logfsck" {
	keyed L 1000 10
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as h:
    h.seek(1000); b = h.read(1); h.seek(1000); h.write(bytes([b[0] ^ 1]))' \
	    L/00000000000000000000.log
	fails 1 logcompact -k L
	stderr_has "00000000000000000000.log: byte "
	stderr_has "run logfsck"
	# retention drops a damaged segment like any other
	ok logcompact -r 0 L
}

@test "logcompact: damage in the last segment hides the end; retention counts from its start" {
	seq 1 3000 | logappend -s 4K L
	for i in 1 2 3; do seq 1 10 | logappend L; done
	last=$(ls L/*.log | tail -1)
	lb=$((10#$(basename "$last" .log)))
	# A byte of the last segment's first batch, valid data after it.
	printf 'X' | dd of="$last" bs=1 seek=100 conv=notrunc status=none
	fails 1 logcat L >/dev/null
	# -r 1000 keeps at least the last 1000 offsets before that segment's
	# start, and so at least the last 1000 of the log.
	ok logcompact -r 1000 L
	segs=($(segments L))
	[ "${segs[1]}" -gt $((lb - 1000)) ]
	ok logcat -o $((lb - 1000)) -c 1000 L
	is "$(printf '%s\n' "$output" | wc -l)" 1000
	is "$last" "$(ls L/*.log | tail -1)"
}

@test "logcompact: a crash at any step leaves the old segment or the new one" {
	# random keys, so that the latest records lie in several segments
	python3 -c '
import random
r = random.Random(3)
for i in range(1500):
    print("{\"key\":\"k%d\",\"value\":\"%d\"}" % (r.randint(0, 150), i))' |
	    logappend -J -s 2K L
	seq 1 600 | sed 's/^/filler /' | logappend -s 2K L
	ok logcat -J L
	printf '%s\n' "$output" > before
	cp -a L pristine
	ok logcompact -k L
	ok logcat -J L
	printf '%s\n' "$output" > want
	for rule in rename:1:kill rename:2:kill rename:3:killafter \
	    rename:5:kill rename:8:killafter fsync:2:killafter \
	    fsync:4:kill write:3:kill; do
		rm -rf L fault.log
		cp -a pristine L
		with_fault "$rule" expect 137 logcompact -k L ||
		    { echo "rule: $rule" >&2; false; }
		faults_fired 1
		# readable, every record either the old one or kept
		ok logcat -J L
		printf '%s\n' "$output" > crashed
		python3 - before want crashed <<'EOF'
import json, sys
before, want, got = ([json.loads(l) for l in open(f)] for f in sys.argv[1:])
b = {r["offset"]: r for r in before}
assert all(b[r["offset"]] == r for r in got), "a record changed"
w = {r["offset"] for r in want}
assert w <= {r["offset"] for r in got}, "a kept record is gone"
assert [r["offset"] for r in got] == sorted(r["offset"] for r in got)
EOF
		# the next run finishes the work and cleans up
		ok logcompact -k L
		ok logcat -J L
		printf '%s\n' "$output" > again
		cmp again want
		ok logfsck L
	done
}

@test "logcompact: compaction and retention racing a follower and a writer" {
	keyed L 3000 50
	logcat -f -F '%o %k %s\n' L > follow.out 2> follow.err &
	fpid=$!
	# a slow writer: one batch per record, so segments roll while we work
	(for i in $(seq 1 300); do
		printf '{"key":"w%d","value":"%d"}\n' "$i" "$i"
		sleep 0.003
	done | logappend -J -p -s 4K L > writer.out 2> writer.err
	echo $? > writer.rc) &
	wpid=$!
	runs=0
	while [ ! -e writer.rc ] || [ $runs -lt 4 ]; do
		ok logcompact -k L
		ok logcompact -k -r 2500 L
		runs=$((runs + 1))
	done
	wait $wpid
	is "$(cat writer.rc)" 0
	[ ! -s writer.err ]
	# the writer's offsets are dense and hold its records
	is "$(wc -l < writer.out)" 300
	first=$(head -1 writer.out)
	is "$(tail -1 writer.out)" $((first + 299))
	echo end | logappend L
	for i in $(seq 1 200); do
		grep -q ' end$' follow.out && break
		sleep 0.05
	done
	kill $fpid
	wait $fpid || true
	[ ! -s follow.err ]
	# the follower saw offsets strictly increasing and every writer record
	awk 'NR > 1 && $1 <= prev { exit 1 } { prev = $1 }' follow.out
	is "$(grep -c ' w[0-9]* ' follow.out)" 300
	grep ' w[0-9]* ' follow.out | awk '{ print $2, $3 }' > wseen
	seq 1 300 | awk '{ print "w" $1, $1 }' > wwant
	cmp wseen wwant
	ok logcat -o "$first" -c 300 -F '%k %s\n' L
	is "$output" "$(cat wwant)"
	ok logfsck L
}
