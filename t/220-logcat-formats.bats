#!/usr/bin/env bats
# logcat output formats: text with -K, -D and -0; -F templates; -J that
# jq reads for any bytes; -Y that PyYAML reads; -B frames.  The decoders in
# t/records.py are independent of lib/.
load helpers

records() { python3 "$BATS_TEST_DIRNAME/records.py" "$@"; }

require_pyyaml() {
	python3 -c 'import yaml' 2>/dev/null || skip "PyYAML is not installed"
}

# sample LOG: three records with fixed timestamps, keys and headers.
sample() {
	cat <<'EOF' | logappend -J "$1"
{"timestamp":1795168800123,"key":"k1","value":"one","headers":[{"name":"h","value":"1"},{"name":"g","value":""}]}
{"timestamp":1795168801000,"value":"two"}
{"timestamp":-1,"key":"","value":null}
EOF
}

@test "logcat prints values and newlines by default; a tombstone prints as empty" {
	sample L
	ok logcat L
	output_is "one
two"
	sh_ok 'logcat L | od -An -c | tr -s " "'
	output_is " o n e \n t w o \n \n"
}

@test "logcat -K puts the key and the delimiter before the value" {
	sample L
	ok logcat -K = L
	output_is "k1=one
=two
="
	ok logcat -K '\t' -o 0 -c 1 L
	output_is "$(printf 'k1\tone')"
	ok logcat -K ' => ' -o 0 -c 1 L
	output_is "k1 => one"
}

@test "logcat -D and -0 set the record delimiter, with escapes" {
	sample L
	ok logcat -D , L
	output_is "one,two,,"
	ok logcat -D '\r\n' -c 1 L
	output_is "$(printf 'one\r\n')"
	sh_ok 'logcat -0 L | od -An -c | tr -s " "'
	output_is " o n e \0 t w o \0 \0"
	sh_ok 'logcat -D "\x00" L | cmp - <(logcat -0 L)'
	ok logcat -D '<\x3e' -K '\\' -c 2 L
	output_is 'k1\one<>\two<>'
}

@test "logcat -F: every template token" {
	sample L
	ok logcat -F '%o|%T|%I|%k|%K|%s|%S|%h|%t|%p|%%\n' L
	output_is "0|1795168800123|2026-11-20T10:00:00.123Z|k1|2|one|3|h=1,g=|L|0|%
1|1795168801000|2026-11-20T10:00:01.000Z||-1|two|3||L|0|%
2|-1|1969-12-31T23:59:59.999Z||0||-1||L|0|%"
}

@test "logcat -F: escapes and literal text" {
	sample L
	sh_ok "logcat -F 'a\\tb\\\\c\\x41\\0%s\\n' -c 1 L | od -An -c | tr -s ' '"
	output_is " a \t b \\ c A \0 o n e \n"
	ok logcat -F 'no newline' L
	output_is "no newlineno newlineno newline"
	ok logcat -F '' L
	output_is ""
}

@test "logcat -F %t names the log by its last path component" {
	mkdir -p sub/dir
	sample sub/dir/events
	ok logcat -F '%t\n' -c 1 sub/dir/events
	output_is events
	ok logcat -F '%t\n' -c 1 sub/dir/events/
	output_is events
	ok logcat -F '%t\n' -c 1 ./sub//dir/events//
	output_is events
	# With several logs, each record's own log.
	sample other
	ok logcat -F '[%t]' -c 1 sub/dir/events other
	output_is "[events]"
	ok logcat -F '[%t]' -o -1 sub/dir/events other
	output_is "[events][other]"
	ok logcat -F '%t\n' -c 1 sub/dir/events/00000000000000000000.log
	output_is 00000000000000000000.log
}

@test "logcat -F: values and keys are written byte for byte" {
	records corpus > in.b
	logappend -B L < in.b
	python3 -c 'import sys
a = bytes(range(256))
sys.stdout.buffer.write(a + b"|" + a + b"|256|256")' > want
	sh_ok "logcat -F '%k|%s|%K|%S' -c 1 L | cmp - want"
}

@test "logcat -J: the exact line for a record, with null and empty fields" {
	sample L
	ok logcat -J L
	output_is '{"offset":0,"timestamp":1795168800123,"key":"k1","value":"one","headers":[{"name":"h","value":"1"},{"name":"g","value":""}]}
{"offset":1,"timestamp":1795168801000,"key":null,"value":"two","headers":[]}
{"offset":2,"timestamp":-1,"key":"","value":null,"headers":[]}'
}

@test "logcat -J: strings are escaped, invalid UTF-8 goes out as base64" {
	printf '{"key":"\\u0000\\n\\t\\"\\\\","value":"\\u00e9\\u20ac"}\n' |
	    logappend -J L
	printf 'v\377\n' | logappend -K v L
	ok logcat -J L
	sed -E 's/"timestamp":[0-9]+,/"timestamp":T,/' > got <<<"$output"
	cat > want <<'EOF'
{"offset":0,"timestamp":T,"key":"\u0000\n\t\"\\","value":"é€","headers":[]}
{"offset":1,"timestamp":T,"key":"","value_base64":"/w==","headers":[]}
EOF
	diff want got
}

@test "logcat -J: jq reads the output of the whole corpus and of random binary records" {
	require jq
	records corpus > corpus.b
	records random 7 500 > random.b
	"$TTOOLS/fmtcopy" -g 300 -s 11 -- -B > gen.b
	for f in corpus random gen; do
		ok logappend -B $f < $f.b
		sh_ok "logcat -J $f > $f.json"
		# jq accepts every line and sees every record.
		sh_ok "jq -c . $f.json | wc -l"
		is "$output" "$(logcat -F '%o\n' $f | wc -l)"
		# And the decoded fields are the bytes of the -B output.
		sh_ok "logcat -B $f > $f.out.b"
		ok python3 "$BATS_TEST_DIRNAME/records.py" check-json $f.out.b $f.json
	done
}

@test "logcat -J: jq gets back a value of every byte value through value_base64" {
	require jq
	records corpus > in.b
	logappend -B L < in.b
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)))' > want
	sh_ok 'logcat -J -c 1 L | jq -r .value_base64 | base64 -d | cmp - want'
	sh_ok 'logcat -J -c 1 L | jq -r ".headers[0].name_base64" | base64 -d | cmp - want'
}

@test "logcat -J | logappend -J reproduces key, value, timestamp and headers" {
	require jq
	records random 3 300 > in.b
	logappend -B A < in.b
	sh_ok 'logcat -J A | logappend -J B'
	# Everything but the offset, as jq sees it, then byte for byte.
	sh_ok 'diff <(logcat -J A | jq -c "del(.offset)") <(logcat -J B | jq -c "del(.offset)")'
	sh_ok 'cmp <(logcat -B A) <(logcat -B B)'
	# Into a log that already holds records: offsets differ, nothing else.
	seq 1 5 | logappend C
	sh_ok 'logcat -J A | logappend -J C'
	sh_ok 'diff <(logcat -J A | jq -c "del(.offset)") <(logcat -J -o 5 C | jq -c "del(.offset)")'
}

@test "logcat -Y: the exact documents for a record" {
	sample L
	ok logcat -Y -c 2 L
	output_is '---
offset: 0
timestamp: 1795168800123
key: "k1"
value: "one"
headers:
- name: "h"
  value: "1"
- name: "g"
  value: ""
...
---
offset: 1
timestamp: 1795168801000
key: null
value: "two"
headers: []
...'
}

@test "logcat -Y: PyYAML reads the corpus and random binary records exactly" {
	require_pyyaml
	records corpus > corpus.b
	records random 9 100 > random.b
	"$TTOOLS/fmtcopy" -g 60 -s 5 -- -B > gen.b
	for f in corpus random gen; do
		ok logappend -B $f < $f.b
		sh_ok "logcat -Y $f > $f.yaml"
		sh_ok "logcat -B $f > $f.out.b"
		ok python3 "$BATS_TEST_DIRNAME/records.py" check-yaml $f.out.b $f.yaml
	done
}

@test "logcat -Y | logappend -Y reproduces key, value, timestamp and headers" {
	records random 4 300 > in.b
	logappend -B A < in.b
	sh_ok 'logcat -Y A | logappend -Y B'
	sh_ok 'cmp <(logcat -B A) <(logcat -B B)'
}

@test "logcat -B: frames hold offset, timestamp, key, value and headers, little-endian" {
	sample L
	sh_ok 'logcat -B -c 1 L | od -An -tx1 | tr -d " \n"'
	# length 52, offset 0, timestamp, key "k1", value "one", 2 headers.
	output_is "34000000""0000000000000000""7b0d66f8a1010000""02000000""6b31""03000000""6f6e65""02000000""01000000""68""01000000""31""01000000""67""00000000"
	logcat -B L > out.b
	ok python3 "$BATS_TEST_DIRNAME/records.py" lines out.b
	output_is "0 b'k1' b'one'
1 None b'two'
2 b'' None"
}

@test "logcat -B | logappend -B copies a log exactly but for offsets" {
	records corpus > in.b
	logappend -B A < in.b
	seq 1 3 | logappend B
	sh_ok 'logcat -B A | logappend -B B'
	# B's copy starts at offset 3: compare everything after the offset.
	sh_ok 'logcat -J A | jq -c "del(.offset)" > a.json'
	sh_ok 'logcat -J -o 3 B | jq -c "del(.offset)" > b.json'
	cmp a.json b.json
}
