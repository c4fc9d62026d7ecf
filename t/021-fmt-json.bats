#!/usr/bin/env bats
# Record formats, -J JSON Lines: exact output, escapes, base64, strict input.
load helpers

F=$TTOOLS/fmtcopy

# json LINE...: feed the lines to fmtcopy -J and write JSON back.
json() {
	printf '%s\n' "$@" > in
	expect "${want:-0}" $F -J -- -J < in
}

@test "json: the exact output, field order, no spaces" {
	json '{"timestamp":1700000000123,"key":"k","value":"v","headers":[{"name":"h","value":"x"},{"name":"","value":""}]}' \
	    '{"value":"w"}'
	output_is '{"offset":0,"timestamp":1700000000123,"key":"k","value":"v","headers":[{"name":"h","value":"x"},{"name":"","value":""}]}
{"offset":1,"timestamp":null,"key":null,"value":"w","headers":[]}'
}

@test "json: absent and empty key, tombstone and empty value" {
	json '{"key":null,"value":null}' '{"key":"","value":""}' '{"value":null}'
	output_is '{"offset":0,"timestamp":null,"key":null,"value":null,"headers":[]}
{"offset":1,"timestamp":null,"key":"","value":"","headers":[]}
{"offset":2,"timestamp":null,"key":null,"value":null,"headers":[]}'
	sh_ok "$F -J -- -F '%K %S|' < in"
	output_is '-1 -1|0 0|-1 -1|'
}

@test "json: escapes: quote, backslash, controls as \\u00XX, DEL and UTF-8 raw" {
	printf 'a"b\\c\n\t\r\b\f\001\037\177\303\251\360\237\230\200' > v
	printf 'x\0y' > k
	{ printf 'K'; cat k; printf '\037'; cat v; } > in
	ok $F -K '\x1f' -D '\x1e' -- -J < in
	output_is "$(printf '%s' '{"offset":0,"timestamp":null,"key":"Kx\u0000y","value":"a\"b\\c\n\t\r\b\f\u0001\u001f'; printf '\177\303\251\360\237\230\200"'; printf '%s' ',"headers":[]}')"
}

@test "json: bytes that are not UTF-8 go out as *_base64" {
	printf '{"key_base64":"/w==","value_base64":"wIA=","headers":[{"name_base64":"7aCA","value_base64":"9JCAgA=="},{"name":"ok","value_base64":"4oKs"}]}\n' > in
	ok $F -J -- -J < in
	# overlong, surrogate, beyond U+10FFFF are not UTF-8; the euro sign is
	output_is '{"offset":0,"timestamp":null,"key_base64":"/w==","value_base64":"wIA=","headers":[{"name_base64":"7aCA","value_base64":"9JCAgA=="},{"name":"ok","value":"€"}]}'
}

@test "json: \\u escapes, surrogate pairs and \\u0000 are decoded" {
	json '{"value":"\u0041\u00e9\u20ac\ud83d\ude00\u0000\/"}'
	sh_ok "$F -J -- -B < in | $F -B -- -F '%s' | od -An -tx1 | tr -d ' \n'"
	output_is 41c3a9e282acf09f9880002f
}

@test "json: random binary records give output jq accepts" {
	require jq
	ok $F -g 400 -s 7 -- -J
	sh_ok "$F -g 400 -s 7 -- -J | jq -c . | wc -l"
	output_is 400
	# jq decodes to the same text: compare a field's values
	sh_ok "$F -g 400 -s 7 -- -J | jq -r 'select(.value != null) | .value' | wc -l"
	[ "$output" -gt 0 ]
}

@test "json: whitespace, field order and blank lines are free on input" {
	printf ' { "headers" : [ ] , "value" : "a" , "key" : "k" , "timestamp" : 5 , "offset" : 1e3 } \r\n\n \n{"value":"b"}' > in
	ok $F -J -- -F '%T %k %s|' < in
	output_is '5 k a|-9223372036854775808  b|'
}

@test "json: bad input names the line and the problem" {
	printf '{"value":"a"}\n\n{"value":"b",}\n' > in
	fails 1 $F -J < in
	stderr_is 'fmtcopy: stdin: line 3: expected a string at column 14'
	is "$output" a
	try() {
		printf '%s\n' "$1" > in
		fails 1 $F -J < in
		stderr_is "fmtcopy: stdin: line 1: $2"
	}
	try '{"key":"k"}' 'missing value'
	try '{"value":"x","foo":1}' 'unknown field "foo"'
	try '{"value":"x","value":"y"}' 'duplicate field "value"'
	try '{"value":"x","value_base64":"eA=="}' 'value and value_base64 both given'
	try '{"value_base64":"eA="}' 'bad base64 in value_base64'
	try '{"value_base64":"eR=="}' 'bad base64 in value_base64'
	try '{"value":1}' 'expected a string at column 10'
	try '{"value":"x"} x' 'trailing characters after the object at column 15'
	try '{"value":"x"' 'unexpected end of line at column 13'
	try '{"value":"x' 'unterminated string at column 12'
	try '{"value":"\ud800"}' 'lone surrogate in \u escape at column 11'
	try '{"value":"\udc00"}' 'lone surrogate in \u escape at column 11'
	try '{"value":"\ud800\u0041"}' 'lone surrogate in \u escape at column 11'
	try '{"value":"\x"}' 'invalid escape in string at column 11'
	try '{"value":"\u12"}' 'bad \u escape at column 13'
	try "$(printf '{"value":"a\tb"}')" 'control character in string at column 12'
	try "$(printf '{"value":"\300\200"}')" 'invalid UTF-8 in string at column 11'
	try '{"value":"x","timestamp":1.5}' 'timestamp is not an integer at column 26'
	try '{"value":"x","timestamp":9223372036854775808}' 'timestamp out of range at column 44'
	try '{"value":"x","timestamp":"5"}' 'expected a number at column 26'
	try '{"value":"x","offset":01}' "expected ',' or '}' at column 24"
	try '{"value":"x","headers":[{"name":"a"}]}' 'header 1: missing value'
	try '{"value":"x","headers":[{"value":"a"}]}' 'header 1: missing name'
	try '{"value":"x","headers":[{"name":"a","value":"b","x":1}]}' 'unknown header field "x"'
	try '{"value":"x","headers":[{"name":"a","value":null}]}' 'expected a string at column 45'
	try '{"value":"x","headers":[{"name":"a","value":"b"},]}' "expected '{' at column 50"
	try '{"value":"x","headers":{}}' "synclog's and kcat's fields mixed in one record"
	try '{"value":"x","headers":"a"}' "expected '[' at column 24"
	try '[1]' "expected '{' at column 1"
	try 'null' "expected '{' at column 1"
}

@test "json: the timestamp, given or not" {
	json '{"value":"a","timestamp":0}' '{"value":"b","timestamp":-1}' \
	    '{"value":"c","timestamp":null}' '{"value":"d","timestamp":9223372036854775807}'
	sh_ok "$F -J -- -F '%T\n' < in"
	output_is "0
-1
-9223372036854775808
9223372036854775807"
}
