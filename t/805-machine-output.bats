#!/usr/bin/env bats
# One vocabulary for machine output: logstat, logcheckpoint and logcat say
# the same thing with the same name in -J and -Y, every name is the one
# man/synclog.7 documents (MACHINE OUTPUT), and a time is NAME in
# milliseconds beside NAME_iso.
load helpers

T0=1795168800000	# 2026-11-20T10:00:00Z

setup() {
	cd "$BATS_TEST_TMPDIR" || return 1
	require python3
	python3 -c 'import yaml' 2>/dev/null ||
	    skip "python3 yaml module not installed"
	local i
	for ((i = 0; i < 10; i++)); do
		printf '{"timestamp":%d,"key":"k%d","value":"v%d"}\n' \
		    $((T0 + i * 1000 - (i == 7 ? 60000 : 0))) $((i % 3)) $i
	done | logappend -J L
	logcheckpoint -s 4 L db
	logcheckpoint -s end L cache
	logcheckpoint -s 0 L 'true'
}

# The names the MACHINE OUTPUT section of synclog(7) documents.
documented() {
	sed -n '/^\.Sh MACHINE OUTPUT/,/^\.Sh /p' \
	    "$BATS_TEST_DIRNAME/../man/synclog.7" |
	    sed -n 's/^\.It Li //p' | tr -d ',' | tr ' ' '\n' | grep .
}

@test "machine output: every program's -J and -Y use the documented names, times as NAME and NAME_iso" {
	documented > names
	[ "$(wc -l < names)" -ge 15 ]
	ok logstat -J L
	printf '%s\n' "$output" > stat.json
	ok logstat -Y L
	printf '%s\n' "$output" > stat.yaml
	ok logcheckpoint -J L
	printf '%s\n' "$output" > ck.json
	ok logcheckpoint -Y L
	printf '%s\n' "$output" > ck.yaml
	ok logcheckpoint -J L db
	printf '%s\n' "$output" > one.json
	ok logcat -J L
	printf '%s\n' "$output" > recs.json
	ok logcat -Y L
	printf '%s\n' "$output" > recs.yaml
	ok python3 - <<'EOF'
import json, yaml, datetime
names = set(open("names").read().split())
stat = [json.loads(l) for l in open("stat.json")]
ck = [json.loads(l) for l in open("ck.json")]
one = [json.loads(l) for l in open("one.json")]
recs = [json.loads(l) for l in open("recs.json")]
# -Y says exactly what -J says, in every program
assert list(yaml.safe_load_all(open("stat.yaml"))) == stat, "logstat -Y"
assert list(yaml.safe_load_all(open("ck.yaml"))) == ck, "logcheckpoint -Y"
assert list(yaml.safe_load_all(open("recs.yaml"))) == recs, "logcat -Y"

def iso(ms):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)

types = {}
def check(obj, where):
    for k, v in obj.items():
        if k.endswith("_iso"):
            base = k[:-4]
            assert base in names and base in obj, (where, k)
            assert (v is None) == (obj[base] is None), (where, k)
            assert v is None or v == iso(obj[base]), (where, k, v)
            continue
        assert k in names, "%s: %s is not documented" % (where, k)
        t = type(v).__name__
        if v is not None and k != "consumers":
            assert types.setdefault(k, t) == t, (where, k, t, types[k])
        if isinstance(v, list):
            for o in v:
                check(o, where + "." + k)
    # a time without its _iso twin, or the other way, is a mistake
    for k in obj:
        if k + "_iso" in obj:
            assert isinstance(obj[k], int) or obj[k] is None, (where, k)

(s,) = stat
check(s, "logstat")
for o in ck:
    check(o, "logcheckpoint")
assert set(s) >= {"log", "id", "begin", "end", "records", "segments",
    "bytes", "index_bytes", "first_timestamp", "first_timestamp_iso",
    "last_timestamp", "last_timestamp_iso", "max_timestamp",
    "max_timestamp_iso", "consumers"}, sorted(s)
# a consumer is the same object in both programs
assert s["consumers"] == ck, (s["consumers"], ck)
assert one == [c for c in ck if c["consumer"] == "db"]
for c in ck:
    assert set(c) == {"consumer", "offset", "lag", "updated", "updated_iso"}
    assert c["lag"] == s["end"] - c["offset"]
assert [c["consumer"] for c in ck] == ["cache", "db", "true"]
# the log's figures are what logcat shows of its records
for r in recs:
    assert set(r) == {"offset", "timestamp", "key", "value", "headers"}, r
assert s["begin"] == recs[0]["offset"] and s["end"] == recs[-1]["offset"] + 1
assert s["records"] == len(recs)
assert s["first_timestamp"] == recs[0]["timestamp"]
assert s["last_timestamp"] == recs[-1]["timestamp"]
assert s["max_timestamp"] == max(r["timestamp"] for r in recs)
EOF
}

@test "machine output: an empty log's times are null in both fields" {
	: | logappend E
	ok logstat -J E
	ok python3 -c 'import json, sys
d = json.loads(sys.argv[1])
for k in ("first", "last", "max"):
    assert d[k + "_timestamp"] is None and d[k + "_timestamp_iso"] is None, k
assert d["consumers"] == []' "$output"
	ok logstat -Y E
	ok python3 -c 'import yaml, sys
d = yaml.safe_load(sys.argv[1])
assert d["max_timestamp_iso"] is None and d["consumers"] == []' "$output"
}

@test "machine output: a damaged checkpoint is an error field in logstat, a warning in logcheckpoint" {
	printf 'garbage' > L/consumers/db.ckpt
	fails 1 logstat -J L
	stderr_has "logstat: L: db: damaged checkpoint"
	ok python3 -c 'import json, sys
(c,) = [c for c in json.loads(sys.argv[1])["consumers"] if c["consumer"] == "db"]
assert set(c) == {"consumer", "error"} and c["error"], c' "$output"
	fails 1 logcheckpoint -J L
	stderr_has "logcheckpoint: L: db: damaged checkpoint"
	ok python3 -c 'import json, sys
cs = [json.loads(l) for l in sys.argv[1].splitlines()]
assert [c["consumer"] for c in cs] == ["cache", "true"], cs' "$output"
}

@test "machine output: names and paths that are not UTF-8 or look like YAML stay strings" {
	local odd=$'odd\xff "dir"\n'
	mkdir "$odd"
	seq 1 3 | logappend "$odd/M"
	ok logcheckpoint -s 1 "$odd/M" null
	ok logstat -J "$odd/M"
	ok python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["log"] == "odd\ufffd \"dir\"\n/M", d["log"]
assert d["consumers"][0]["consumer"] == "null"' "$output"
	ok logstat -Y "$odd/M"
	ok python3 -c 'import yaml, sys
d = yaml.safe_load(sys.argv[1])
assert d["log"] == "odd\ufffd \"dir\"\n/M" and d["consumers"][0]["consumer"] == "null"' "$output"
}
