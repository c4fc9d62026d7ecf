#!/usr/bin/env bats
# logmirror push and pull on a 3-node JetStream cluster of this file's own
# (t/nats.bash): lossless round trips, the replica's marker and offsets,
# gaps, refusals.  Each test uses a stream of its own.
load helpers
load nats

setup_file() {
	nats_file_cluster
}

teardown_file() {
	nats_stop
}

setup() {
	nats_test_dir || return 1
	S=s$BATS_TEST_NUMBER
}

# frames FILE: the records of a -B stream as Python reprs, one a line.
frames() {
	python3 "$BATS_TEST_DIRNAME/records.py" lines "$1"
}

@test "logmirror: usage errors exit 2 with the usage" {
	expect 2 logmirror
	is "${stderr%%$'\n'*}" "usage: logmirror push [-fq] [-G seconds] [-k bucket] [-n name] [-r replicas]"
	fails 2 logmirror fetch a b
	stderr_is "logmirror: fetch: unknown command (push, pull, wait)"
	expect 2 logmirror push onlyone
	fails 2 logmirror push log http://x/y
	stderr_is "logmirror: http://x/y: not a nats:// URL"
	seq 3 | ok logappend log
	fails 2 logmirror push log nats://127.0.0.1:1
	stderr_is "logmirror: nats://127.0.0.1:1: expected nats://HOST:PORT[,...]/STREAM"
	fails 2 logmirror push -w 0 log "$NATS_URL/$S"
	stderr_has "logmirror: -w: invalid window: 0"
	ok logmirror --help
	is "${output%%$'\n'*}" "usage: logmirror push [-fq] [-G seconds] [-k bucket] [-n name] [-r replicas]"
}

@test "logmirror: no server: push gives up after -G seconds, exit 2" {
	seq 3 | ok logappend log
	port=$(free_ports 1)
	fails 2 logmirror push -q -G 1 log "nats://127.0.0.1:$port/$S"
	stderr_has "logmirror: log: giving up after 1 s without progress: "
	# Nothing moved.
	fails 1 logcheckpoint log mirror
}

@test "logmirror: the record corpus and random records round-trip byte for byte" {
	python3 "$BATS_TEST_DIRNAME/records.py" corpus > in.b
	python3 "$BATS_TEST_DIRNAME/records.py" random 860 3000 >> in.b
	ok logappend -B log < in.b
	# Tombstones, empty keys, repeated binary headers, CR/LF/NUL/colons.
	cat > extra.json <<'EOF'
{"key":"k1","value":null}
{"key":"","value":""}
{"key_base64":"AA0KOg==","value":"v","headers":[{"name_base64":"AAE=","value_base64":"/w=="},{"name_base64":"AAE=","value":""},{"name":"b","value":"c"},{"name":"b","value":" c "}]}
{"value":"one plain header","headers":[{"name":"trace","value":"abc"}]}
{"value":"reserved names","headers":[{"name":"Nats-Msg-Id","value":"x"},{"name":"Synclog-Time","value":"0"}]}
EOF
	ok logappend -J log < extra.json
	ok logmirror push log "$NATS_URL/$S"
	ok logcheckpoint log mirror
	end=$(logstat log | awk '$1 == "end" { print $2 }')
	is "$output" "$end"
	ok logmirror pull "$NATS_URL/$S" replica
	sh_ok 'logcat -B log > a.b && logcat -B replica > b.b'
	cmp a.b b.b
	ok logcat -J -o -5 replica
	is "$output" "$(logcat -J -o -5 log)"
	case $output in
	*'"value":null'*'"key":"\u0000\r\n:"'*'{"name":"\u0000\u0001","value_base64":"/w=="},{"name":"\u0000\u0001","value":""}'*) ;;
	*) echo "unexpected: $output" >&2; false ;;
	esac
	# A second push publishes nothing more; a second pull adds nothing.
	ok logmirror push log "$NATS_URL/$S"
	is "$(nats_req 1 "\$JS.API.STREAM.INFO.$S" | nats_json_get state.messages)" "$end"
	ok logmirror pull "$NATS_URL/$S" replica
	sh_ok 'logcat -B replica | cmp - a.b'
}

@test "logmirror: a plain NATS client sees the value as the payload" {
	printf 'hello world\n' | ok logappend -k user-7 -H trace=abc log
	ok logmirror push log "$NATS_URL/$S"
	ok nats_req 2 "\$JS.API.STREAM.MSG.GET.$S" '{"seq":1}'
	is "$(echo "$output" | nats_json_get message.data | base64 -d)" "hello world"
	hdrs=$(echo "$output" | nats_json_get message.hdrs | base64 -d | tr -d '\r')
	case $hdrs in
	*"Synclog-Key: user-7"*"trace: abc"* | *"trace: abc"*"Synclog-Key: user-7"*) ;;
	*) echo "headers: $hdrs" >&2; false ;;
	esac
}

@test "logmirror: a replica is marked; logappend and logcompact refuse it, readers use it" {
	seq 5 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	ok logmirror pull "$NATS_URL/$S" replica
	grep -qx "replica $S" replica/settings
	fails 2 logappend replica <<<"x"
	stderr_is "logappend: replica: a replica of $S: only logmirror pull writes to it"
	fails 2 logcompact --max-records 1 replica
	stderr_is "logcompact: replica: a replica of $S: only logmirror pull writes to it"
	ok logcat replica
	output_is "$(seq 5)"
	ok logcheckpoint -s 3 replica store
	ok logcheckpoint replica store
	# A log of its own is never turned into a replica.
	fails 2 logmirror pull "$NATS_URL/$S" log
	stderr_is "logmirror: log: a log of its own, not a replica of $S"
	# Nor a replica of one stream into another's.
	fails 2 logmirror pull "$NATS_URL/other$S" replica
	stderr_is "logmirror: replica: a replica of $S, not of other$S"
}

@test "logmirror: offsets are stream sequences - 1; deleted messages stay gaps" {
	seq 10 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	ok nats_req 1 "\$JS.API.STREAM.MSG.DELETE.$S" '{"seq":4}'
	ok nats_req 1 "\$JS.API.STREAM.MSG.DELETE.$S" '{"seq":5}'
	ok logmirror pull "$NATS_URL/$S" replica
	ok logcat -F '%o %s\n' replica
	output_is "$(printf '%s\n' '0 1' '1 2' '2 3' '5 6' '6 7' '7 8' '8 9' '9 10')"
	# More records, and a gap at the replica's end: it resumes after it.
	seq 11 13 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	ok nats_req 1 "\$JS.API.STREAM.MSG.DELETE.$S" '{"seq":11}'
	ok logmirror pull "$NATS_URL/$S" replica
	ok logcat -F '%o %s\n' -o 9 replica
	output_is "$(printf '%s\n' '9 10' '11 12' '12 13')"
	# The stream's last message deleted: the pull ends all the same (it
	# tells a deleted tail from a consumer whose server is behind).
	seq 14 15 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	ok nats_req 1 "\$JS.API.STREAM.MSG.DELETE.$S" '{"seq":15}'
	ok timeout 60 logmirror pull "$NATS_URL/$S" replica
	ok logcat -F '%o %s\n' -o 12 replica
	output_is "$(printf '%s\n' '12 13' '13 14')"
	ok logfsck replica
}

@test "logmirror: a stream deleted and made again is refused by its replica" {
	seq 5 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	ok logmirror pull "$NATS_URL/$S" replica
	ok nats_req 1 "\$JS.API.STREAM.DELETE.$S"
	# The same number of records of another log: only the content tells.
	seq 6 10 | ok logappend other
	ok logmirror push other "$NATS_URL/$S"
	fails 1 logmirror pull "$NATS_URL/$S" replica
	stderr_is "logmirror: replica: offset 4 differs from message 5 of stream $S: the replica diverged or the stream was made again"
	# Fewer messages than the replica has.
	ok nats_req 1 "\$JS.API.STREAM.DELETE.$S"
	seq 2 | ok logappend third
	ok logmirror push third "$NATS_URL/$S"
	fails 1 logmirror pull "$NATS_URL/$S" replica
	stderr_is "logmirror: replica: a replica up to offset 4, but stream $S ends at sequence 2: not the stream it replicates (deleted and made again?)"
	ok logcat replica
	output_is "$(seq 5)"
}

@test "logmirror: a record larger than the stream's messages is refused, exit 1" {
	seq 3 | ok logappend log
	head -c 1500000 /dev/zero | tr '\0' x | ok logappend log
	seq 4 5 | ok logappend log
	fails 1 logmirror push log "$NATS_URL/$S"
	stderr_has "logmirror: log: offset 3: the record takes 1500"
	stderr_has "bytes as a message, more than the 1048576 the stream takes"
	# What came before it is in the stream, and the checkpoint says so.
	ok logcheckpoint log mirror
	is "$output" 3
	is "$(nats_req 1 "\$JS.API.STREAM.INFO.$S" | nats_json_get state.messages)" 3
}

@test "logmirror push: two logs pushed at once into one stream, each in order, without a word" {
	seq 1 30000 | sed 's/^/a-/' | ok logappend -N A
	seq 1 30000 | sed 's/^/b-/' | ok logappend -N B
	# The stream first, and its leader (a new stream's members answer
	# without one until they have elected it).
	echo c | ok logappend C
	ok logmirror push C "$NATS_URL/$S"
	# Their messages interleave, and each pipelined expectation of the
	# other's last message id fails: contention, not a failure to say
	# or to back off from.
	logmirror push A "$NATS_URL/$S" 2>a.err &
	pa=$!
	logmirror push B "$NATS_URL/$S" 2>b.err &
	pb=$!
	wait "$pa"
	wait "$pb"
	is "$(cat a.err b.err)" ""
	ok logmirror pull -q "$NATS_URL/$S" r
	sh_ok 'logcat r | grep "^a-" | cmp - <(seq 1 30000 | sed "s/^/a-/")'
	sh_ok 'logcat r | grep "^b-" | cmp - <(seq 1 30000 | sed "s/^/b-/")'
	sh_ok '[ "$(logcat r | wc -l)" -eq 60001 ]'
}

@test "logmirror push: another process holding the consumer is refused" {
	seq 3 | ok logappend log
	flock log/consumers/mirror.lock -c 'sleep 5' &
	pid=$!
	wait_until test -e log/consumers/mirror.lock
	sleep 0.2
	fails 2 logmirror push log "$NATS_URL/$S"
	stderr_is "logmirror: log: consumer mirror: held by another process"
	kill "$pid"
	wait "$pid" || :
}

@test "logmirror: -s SUBJECT publishes there; a subject of another log is refused" {
	seq 3 | ok logappend a
	seq 3 | ok logappend b
	ok logmirror push -s "$S.shared" a "$NATS_URL/$S"
	fails 2 logmirror push -s "$S.shared" b "$NATS_URL/$S"
	stderr_has "logmirror: $S: subject $S.shared holds another log's records"
	ok nats_req 1 "\$JS.API.STREAM.MSG.GET.$S" '{"seq":1}'
	is "$(echo "$output" | nats_json_get message.subject)" "$S.shared"
}
