#!/usr/bin/env bats
# Record formats, -Y YAML: libyaml output PyYAML reads, strict input.
load helpers

F=$TTOOLS/fmtcopy

@test "yaml: one document per record, strings double-quoted, ends with ..." {
	printf '{"timestamp":1700000000123,"key":"k","value":"v\\u00e9\\n","headers":[{"name":"h","value":""},{"name":"b","value_base64":"/w=="}]}\n{"key":null,"value":null}\n' > in
	ok $F -J -- -Y < in
	output_is '---
offset: 0
timestamp: 1700000000123
key: "k"
value: "vé\n"
headers:
- name: "h"
  value: ""
- name: "b"
  value: !!binary "/w=="
...
---
offset: 1
timestamp: null
key: null
value: null
headers: []
...'
}

@test "yaml: PyYAML reads random binary records as the same data" {
	require python3
	python3 -c 'import yaml' 2>/dev/null || skip "PyYAML is not installed"
	sh_ok "$F -g 600 -s 3 -- -Y > out.yaml && $F -g 600 -s 3 -- -J > out.json"
	ok python3 -c '
import base64, json, sys, yaml
docs = list(yaml.safe_load_all(open("out.yaml", "rb")))
lines = [json.loads(l) for l in open("out.json", "rb")]
def j(o, f):
    if f + "_base64" in o:
        return base64.b64decode(o[f + "_base64"])
    return None if o.get(f) is None else o[f].encode()
def y(v):
    return v if v is None or isinstance(v, bytes) else v.encode()
assert len(docs) == len(lines) == 600, (len(docs), len(lines))
for d, l in zip(docs, lines):
    assert sorted(d) == ["headers", "key", "offset", "timestamp", "value"]
    assert d["offset"] == l["offset"] and d["timestamp"] == l["timestamp"]
    assert y(d["key"]) == j(l, "key") and y(d["value"]) == j(l, "value")
    assert len(d["headers"]) == len(l["headers"])
    for a, b in zip(d["headers"], l["headers"]):
        assert y(a["name"]) == j(b, "name") and y(a["value"]) == j(b, "value")
'
}

@test "yaml: hand-written input: plain, quoted, block, flow, binary, null" {
	cat > in <<-'EOF2'
	# a comment before the first document
	key: plain text
	value: |
	  line one
	  line two
	timestamp: 1700000000000
	headers:
	  - {name: a, value: '1'}
	  - name: b
	    value: !!binary aGk=
	---
	value: ~
	key: ""
	--- {value: 123, key: null, headers: null}
	...
	%YAML 1.1
	---
	value: !!binary |
	  aGVs
	  bG8=
	offset: 99
	timestamp: null
	EOF2
	ok $F -Y -- -J < in
	output_is '{"offset":0,"timestamp":1700000000000,"key":"plain text","value":"line one\nline two\n","headers":[{"name":"a","value":"1"},{"name":"b","value":"hi"}]}
{"offset":1,"timestamp":null,"key":"","value":null,"headers":[]}
{"offset":2,"timestamp":null,"key":null,"value":"123","headers":[]}
{"offset":3,"timestamp":null,"key":null,"value":"hello","headers":[]}'
}

@test "yaml: empty documents hold no record; an empty stream has none" {
	printf -- '---\n---\nvalue: a\n--- ~\n...\n---\n' > in
	ok $F -Y -- -F '[%s]' < in
	output_is '[a]'
	ok $F -Y < /dev/null
	output_is ''
}

@test "yaml: bad input names the line and column" {
	try() {
		printf -- "$1" > in
		fails 1 $F -Y < in
		stderr_is "fmtcopy: stdin: $2"
	}
	try '---\nvalue: a\n---\nvalue: "b\377"\n' 'line 4, column 10: invalid leading UTF-8 octet'
	try '# c\n---\nvalue: a\n...\n---\nvalue: b\nkey: [\n' 'line 7, column 6: key must be a scalar, not a sequence'
	try 'value: a\n---\nvalue: b\nfoo: 1\n' 'line 4, column 1: unknown field "foo"'
	try 'value: a\n---\n- 1\n' 'line 3, column 1: a record must be a mapping, not a sequence'
	try 'value: &x a\nkey: *x\n' 'line 2, column 6: aliases are not supported'
	try 'key: a\n' 'line 1, column 1: missing value'
	try 'value: a\nvalue: b\n' 'line 2, column 1: duplicate field "value"'
	try 'value: a\ntimestamp: 1.5\n' 'line 2, column 12: timestamp is not an integer'
	try 'value: a\ntimestamp: 99999999999999999999\n' 'line 2, column 12: timestamp out of range'
	try 'value: !!binary "@@@@"\n' 'line 1, column 8: bad base64 in value'
	try 'value: a\nheaders: [{name: a}]\n' 'line 2, column 11: header 1: missing value'
	try 'value: a\nheaders: [{name: a, value: ~}]\n' 'line 2, column 28: header 1: value is null'
	try 'value: a\nheaders: [{name: a, x: b}]\n' 'line 2, column 21: unknown header field "x"'
	try 'value: a\nheaders: x\n' 'line 2, column 10: headers must be a sequence, not a scalar'
	try 'value: a\n  b: c\n' 'line 2, column 4: mapping values are not allowed in this context'
	try 'value: [a]\n' 'line 1, column 8: value must be a scalar, not a sequence'
}

@test "yaml: a document is returned as soon as its ... arrives (-n)" {
	run bash -c "{ printf -- '---\nvalue: a\n...\n'; sleep 2; } |
	    $F -n -Y | timeout 1 head -n 1"
	is "$status" 0
	output_is a
	# and the emitter hands over a whole document at once
	run bash -c "{ printf 'a\n'; sleep 2; } | $F -n -- -Y | timeout 1 head -n 7"
	is "$status" 0
	is "${lines[6]}" ...
}
