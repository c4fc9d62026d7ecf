#!/usr/bin/env bats
# logstat: bounds, counts, sizes, time range and consumers, as text, JSON
# and YAML, and what of them damage leaves.
load helpers

T0=1795168800000	# 2026-11-20T10:00:00Z

# ten LOG: records v0..v9 at T0 + 0s, 1s, ... 9s, v5 late by a minute.
ten() {
	local i
	for ((i = 0; i < 10; i++)); do
		printf '{"timestamp":%d,"value":"v%d"}\n' \
		    $((T0 + i * 1000 + (i == 5 ? 60000 : 0))) $i
	done | logappend -J "$1"
}

@test "logstat: --help, --version and usage errors" {
	ok logstat --help
	is "${lines[0]}" "usage: logstat [-J | -P | -Y] log ..."
	is "${lines[1]}" "  -J, --json        one JSON object per log, on a line"
	ok logstat --version
	output_is "logstat synclog $(sed -n 's/^#define SL_VERSION[^"]*"\(.*\)"/\1/p' "$BATS_TEST_DIRNAME/../lib/synclog.h")"
	expect 2 logstat
	stderr_is "usage: logstat [-J | -P | -Y] log ..."
	expect 2 logstat -x L
	fails 2 logstat nolog
	stderr_is "logstat: nolog: No such file or directory"
	mkdir notalog
	fails 2 logstat notalog
	stderr_is "logstat: notalog: not a synclog log (no settings file)"
}

@test "logstat: the figures of a log, as text" {
	ten L
	id=$(sed -n 's/^id //p' L/settings)
	size=$(stat -c %s L/00000000000000000000.log)
	ok logstat L
	output_is "log          L
id           $id
segments     1
bytes        $size
index-bytes  20
begin        0
end          10
records      10
first-time   2026-11-20T10:00:00.000Z 1795168800000
last-time    2026-11-20T10:00:09.000Z 1795168809000
max-time     2026-11-20T10:01:05.000Z 1795168865000
consumers    0"
}

@test "logstat: an empty log, and a lone segment" {
	: | logappend E
	ok logstat E
	grep -q '^records      0$' <<<"$output"
	grep -q '^begin        0$' <<<"$output"
	grep -q '^end          0$' <<<"$output"
	grep -q '^first-time   - -$' <<<"$output"
	ten L
	ok logstat L/00000000000000000000.log
	grep -q '^log          L/00000000000000000000.log$' <<<"$output"
	grep -q '^id           -$' <<<"$output"
	grep -q '^records      10$' <<<"$output"
	! grep -q '^consumers' <<<"$output"
}

@test "logstat: many segments, compaction gaps and a torn tail" {
	seq 1 20000 | logappend -s 16K L
	ok logstat L
	grep -q '^records      20000$' <<<"$output"
	grep -q "^segments     $(ls L/*.log | wc -l)$" <<<"$output"
	grep -q "^bytes        $(cat L/*.log | wc -c)$" <<<"$output"
	grep -q "^index-bytes  $(cat L/*.index | wc -c)$" <<<"$output"
	# retention moves the beginning; records and end follow
	ok logcompact -r 5000 L
	begin=$(logseek L beginning)
	ok logstat L
	grep -q "^begin        $begin$" <<<"$output"
	grep -q "^records      $((20000 - begin))$" <<<"$output"
	# compaction leaves gaps: fewer records than offsets
	for i in $(seq 1 300); do echo "{\"key\":\"k$((i % 3))\",\"value\":\"$i\"}"; done |
	    logappend -J -s 1K K
	seq 1 100 | logappend -s 1K K
	ok logcompact -k K
	ok logstat K
	grep -q '^end          400$' <<<"$output"
	grep -q '^records      103$' <<<"$output"
	# a torn tail under a writer is the end, as for readers
	printf 'SYLG torn' >> "$(ls K/*.log | tail -1)"
	ok logstat K
	grep -q '^end          400$' <<<"$output"
	grep -q '^last-time ' <<<"$output"
}

@test "logstat: consumers and their lag" {
	ten L
	ok logcheckpoint -s 4 L db
	ok logcheckpoint -s end L cache
	ok logstat L
	grep -q '^consumers    2$' <<<"$output"
	grep -Eq '^consumer     cache 10 0 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z$' <<<"$output"
	grep -Eq '^consumer     db 4 6 [0-9]{4}-' <<<"$output"
	# a damaged checkpoint is shown and makes the status 1
	printf 'garbage' > L/consumers/db.ckpt
	fails 1 logstat L
	stderr_has "logstat: L: db: damaged checkpoint ("
	grep -q '^consumer     db - - -$' <<<"$output"
	grep -q '^consumer     cache 10 0 ' <<<"$output"
}

@test "logstat -J: one JSON object per log" {
	require python3
	ten L
	seq 1 3 | logappend M
	ok logcheckpoint -s 7 L db
	ok logstat -J L M
	[ "$(printf '%s\n' "$output" | wc -l)" -eq 2 ]
	printf '%s\n' "$output" > out.json
	python3 - <<'EOF'
import json
a, b = (json.loads(l) for l in open("out.json"))
assert a["log"] == "L" and b["log"] == "M"
assert (a["begin"], a["end"], a["records"], a["segments"]) == (0, 10, 10, 1)
assert a["first_timestamp"] == 1795168800000
assert a["first_timestamp_iso"] == "2026-11-20T10:00:00.000Z"
assert a["max_timestamp"] == 1795168865000
assert a["last_timestamp_iso"] == "2026-11-20T10:00:09.000Z"
assert len(a["id"]) == 32 and a["bytes"] > 0
c = a["consumers"]
assert len(c) == 1 and c[0]["consumer"] == "db" and c[0]["offset"] == 7 and c[0]["lag"] == 3
assert isinstance(c[0]["updated"], int) and c[0]["updated_iso"].endswith("Z")
assert b["records"] == 3 and b["consumers"] == []
EOF
	: | logappend E
	ok logstat --json E
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["first_timestamp"] is None and d["last_timestamp_iso"] is None and d["records"] == 0' "$output"
}

@test "logstat -Y: one YAML document per log" {
	require python3
	python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml module not installed"
	ten L
	mkdir 'odd "dir"'
	seq 1 3 | logappend 'odd "dir"/M'
	ok logcheckpoint -s 2 'odd "dir"/M' c
	ok logstat -Y L 'odd "dir"/M'
	printf '%s\n' "$output" > out.yaml
	python3 - <<'EOF'
import yaml
a, b = yaml.safe_load_all(open("out.yaml"))
assert a["log"] == "L" and a["records"] == 10 and a["consumers"] == []
assert a["first_timestamp_iso"] == "2026-11-20T10:00:00.000Z"
assert b["log"] == 'odd "dir"/M' and b["end"] == 3
assert b["consumers"][0]["consumer"] == "c" and b["consumers"][0]["lag"] == 1
EOF
}

@test "logstat: every log is reported; the status is the worst" {
	ten L
	expect 2 logstat L nolog L
	[ "$(grep -c '^log ' <<<"$output")" -eq 2 ]
	stderr_is "logstat: nolog: No such file or directory"
}

# many LOG: 5000 records at T0 + 0s, 1s, ... in segments of 16 KiB, from
# a file, so that the batches and the segments are the same every time.
many() {
	awk -v t=$T0 'BEGIN { for (i = 0; i < 5000; i++)
	    printf "{\"timestamp\":%.0f,\"value\":\"v%d\"}\n", t + i * 1000, i }' >in.json
	logappend -J -s 16K "$1" <in.json
}

# unparse SEGMENT: make its first batch header one that does not parse.
unparse() {
	printf '\377' | dd of="$1" bs=1 seek=3 conv=notrunc status=none
}

# shown LOG: the text logstat should print of LOG, the records and the
# largest timestamp hidden by damage, up to the consumers line.
shown() {
	echo "log          $1
id           $(sed -n 's/^id //p' "$1"/settings)
segments     $(ls "$1"/*.log | wc -l)
bytes        $(cat "$1"/*.log | wc -c)
index-bytes  $(cat "$1"/*.index | wc -c)
begin        0
end          5000
records      -
first-time   2026-11-20T10:00:00.000Z 1795168800000
last-time    2026-11-20T11:23:19.000Z 1795173799000
max-time     - -
consumers    1"
}

@test "logstat: a batch header that does not parse in a middle segment hides only the count" {
	require python3
	many L
	ok logcheckpoint -s 100 L db
	ls L/*.log >segs
	[ "$(wc -l <segs)" -ge 3 ]
	seg=$(sed -n 2p segs)
	unparse "$seg"
	name=$(basename "$seg")
	err="logstat: L: $name: byte 0: offset $((10#${name%.log})): damaged batch; run logfsck"
	fails 1 logstat L
	stderr_is "$err"
	is "$(sed '$d' <<<"$output")" "$(shown L)"
	grep -Eq '^consumer     db 100 4900 [0-9]{4}-' <<<"$output"
	fails 1 logstat -J L
	stderr_is "$err"
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert (d["begin"], d["end"], d["records"], d["segments"]) == (0, 5000, None, int(sys.argv[2])), d
assert d["first_timestamp"] == 1795168800000 and d["last_timestamp"] == 1795173799000, d
assert d["max_timestamp"] is None and d["max_timestamp_iso"] is None, d
assert d["consumers"][0]["offset"] == 100 and d["consumers"][0]["lag"] == 4900, d' "$output" "$(wc -l <segs)"
	# damage in the first batch of the log hides the beginning too
	unparse L/00000000000000000000.log
	fails 1 logstat L
	stderr_is "logstat: L: 00000000000000000000.log: byte 0: offset 0: damaged batch; run logfsck"
	grep -q '^begin        -$' <<<"$output"
	grep -q '^first-time   - -$' <<<"$output"
	grep -q '^end          5000$' <<<"$output"
}

@test "logstat: damage in the last segment hides the end only where readers stop" {
	require python3
	many L
	ok logcheckpoint -s 100 L db
	seg=$(ls L/*.log | tail -n 1)
	# an index entry past the damage: the end is known, as for logseek
	[ "$(stat -c %s "${seg%.log}.index")" -ge 40 ]
	unparse "$seg"
	ok logseek L end
	output_is 5000
	name=$(basename "$seg")
	fails 1 logstat L
	stderr_is "logstat: L: $name: byte 0: offset $((10#${name%.log})): damaged batch; run logfsck"
	is "$(sed '$d' <<<"$output")" "$(shown L)"
	grep -Eq '^consumer     db 100 4900 [0-9]{4}-' <<<"$output"
	# past the last index entry, damage followed by data: no end, no lag
	for i in 1 2 3; do echo "rec$i" | logappend K; done
	ok logcheckpoint -s 1 K db
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(100); b = f.read(1)
f.seek(100); f.write(bytes([b[0] ^ 1]))' K/00000000000000000000.log
	err="logstat: K: 00000000000000000000.log: byte 62: offset 1: checksum mismatch, followed by valid data at byte 124"
	fails 1 logstat K
	stderr_is "$err"
	grep -q '^segments     1$' <<<"$output"
	grep -q '^begin        0$' <<<"$output"
	grep -q '^end          -$' <<<"$output"
	grep -q '^records      -$' <<<"$output"
	grep -q '^last-time    - -$' <<<"$output"
	grep -Eq '^consumer     db 1 - [0-9]{4}-' <<<"$output"
	fails 1 logstat -J K
	stderr_is "$err"
	python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert (d["begin"], d["end"], d["records"], d["segments"]) == (0, None, None, 1), d
assert d["first_timestamp"] is not None and d["last_timestamp"] is None, d
assert d["consumers"][0]["offset"] == 1 and d["consumers"][0]["lag"] is None, d' "$output"
	# YAML says the same
	python3 -c 'import yaml' 2>/dev/null || skip "python3 yaml module not installed"
	fails 1 logstat -Y K
	python3 -c 'import yaml, sys
d = yaml.safe_load(sys.argv[1])
assert (d["begin"], d["end"], d["records"]) == (0, None, None), d
assert d["consumers"][0]["lag"] is None, d' "$output"
}
