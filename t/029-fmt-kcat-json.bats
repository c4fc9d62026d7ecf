#!/usr/bin/env bats
# -J input also takes kcat -J's envelope, told apart by its fields: ts is
# the timestamp, payload the value (null: a tombstone), headers a flat
# array or a map, topic, partition, offset, tstype, broker and the schema
# ids ignored.  The lines here are kcat 1.7.1's own output, captured; the
# Kafka example (t/935) feeds it live from librdkafka's mock cluster.
load helpers

F=$TTOOLS/fmtcopy

# kcat -C -J lines as kcat 1.7.1 writes them: raw bytes that are not
# UTF-8 (0xff, 0xfe) inside strings, NUL as \u0000.
captured() {
	printf '%s\n' \
	    '{"topic":"b","partition":0,"offset":0,"tstype":"create","ts":1796670484356,"broker":2,"headers":["h","v","h","w"],"key":"k'$'\xff''\u0001","payload":"é'$'\xfe''\u0000x"}' \
	    '{"topic":"b","partition":0,"offset":1,"tstype":"create","ts":1796670484356,"broker":2,"headers":["h","v","h","w"],"key":"","payload":"empty-key"}' \
	    '{"topic":"b","partition":0,"offset":2,"tstype":"create","ts":1796670484356,"broker":2,"headers":["h","v","h","w"],"key":null,"payload":"nokey"}' \
	    '{"topic":"b","partition":0,"offset":3,"tstype":"create","ts":1796670484356,"broker":2,"headers":["h","v","h","w"],"key":"k2","payload":""}' \
	    '{"topic":"b","partition":0,"offset":4,"tstype":"create","ts":1796670484379,"broker":2,"key":"k3","payload":null}'
}

@test "kcat -J: key, payload, ts and headers go in, every byte as kcat wrote it" {
	captured > in.json
	ok logappend -J L < in.json
	sh_ok "logcat -F '%K:%k|%S:%s|%T|%h\n' L | od -An -c | tr -s ' \n' ' '"
	# kcat -f '%K:%k|%S:%s|%T|%h\n' printed the same Kafka records so:
	output_is " 3 : k 377 001 | 5 : 303 251 376 \\0 x | 1 7 9 6 6 7 0 4 8 4 3 5 6 | h = v , h = w \\n 0 : | 9 : e m p t y - k e y | 1 7 9 6 6 7 0 4 8 4 3 5 6 | h = v , h = w \\n - 1 : | 5 : n o k e y | 1 7 9 6 6 7 0 4 8 4 3 5 6 | h = v , h = w \\n 2 : k 2 | 0 : | 1 7 9 6 6 7 0 4 8 4 3 5 6 | h = v , h = w \\n 2 : k 3 | - 1 : | 1 7 9 6 6 7 0 4 8 4 3 7 9 | \\n "
	# offsets are the log's own, from 0
	ok logcat -F '%o ' L
	output_is "0 1 2 3 4 "
	# and synclog's JSON of them reads back the same
	sh_ok "logcat -J L | logappend -J M && logcat -B M | cmp - <(logcat -B L)"
}

@test "kcat -J: headers as a map, null header values, no headers, no ts" {
	printf '%s\n' \
	    '{"topic":"t","partition":0,"offset":9,"headers":{"a":"1","b":["2","3"],"c":null,"d":[null]},"key":"k","payload":"v"}' \
	    '{"payload":"p","headers":[]}' \
	    '{"payload":"q","headers":null,"tstype":"create","ts":-5}' \
	    '{"payload":"r","headers":["n",null]}' > in.json
	local before=$(date +%s%3N)
	ok logappend -J L < in.json
	ok logcat -F '%k|%s|%h\n' L
	output_is "k|v|a=1,b=2,b=3,c=,d=
|p|
|q|
|r|n="
	ok logcat -F '%T\n' -o 2 -c 1 L
	output_is -5
	# without ts, the time of the append
	ok logcat -F '%T\n' -c 1 L
	[ "$output" -ge "$before" ]
}

@test "kcat -J: a key or payload that kcat deserialized is kept as its JSON text" {
	printf '%s\n' \
	    '{"topic":"t","partition":0,"offset":0,"tstype":"create","ts":1,"broker":1,"key":{"id":7},"payload":{"name":"Ann","tags":["a",null,true,1.5e3]},"key_schema_id":3,"value_schema_id":4}' \
	    '{"payload":[1, 2 ,3],"key":12}' > in.json
	ok logappend -J L < in.json
	ok logcat -F '%k %s\n' L
	output_is '{"id":7} {"name":"Ann","tags":["a",null,true,1.5e3]}
12 [1, 2 ,3]'
}

@test "kcat -J: what cannot be taken is refused, naming the line" {
	try() {
		printf '%s\n' "$1" > in
		fails 1 $F -J < in
		stderr_is "fmtcopy: stdin: line 1: $2"
	}
	try '{"topic":"t","key":"k"}' 'missing payload'
	try '{"payload":"x","value":"y"}' "synclog's and kcat's fields mixed in one record"
	try '{"ts":1,"timestamp":2,"payload":"x"}' "synclog's and kcat's fields mixed in one record"
	try '{"payload":"x","headers":[{"name":"a","value":"b"}],"ts":1,"value":"y"}' "synclog's and kcat's fields mixed in one record"
	try '{"topic":"t","key":null,"key_error":"bad avro","payload":"x"}' 'kcat could not deserialize this record (it says "key_error")'
	try '{"payload":null,"payload_error":"bad avro"}' 'kcat could not deserialize this record (it says "payload_error")'
	try '{"payload":"x","headers":["a"]}' 'a header name without a value at column 31'
	try '{"payload":"x","headers":["a","b","c"]}' 'a header name without a value at column 39'
	try '{"payload":"x","headers":{"a":1}}' 'expected a string at column 31'
	try '{"payload":"x","ts":"1"}' 'expected a number at column 21'
	try '{"payload":"x","ts":-9223372036854775808}' 'timestamp -9223372036854775808 is reserved at column 21'
	try '{"payload":"x","topic":"t","topic":"u"}' 'duplicate field "topic"'
	try '{"payload":{"a":}}' 'expected a value at column 17'
	try "{\"payload\":$(printf '[%.0s' $(seq 70))" 'nested too deeply at column 77'
	# synclog's own lines stay strict: UTF-8 only, strings for keys
	try "$(printf '{"value":"\377"}')" 'invalid UTF-8 in string at column 11'
	try '{"key":7,"value":"x"}' 'expected a string at column 8'
	try '{"key":"k","headers":[]}' 'missing value'
}
