#!/usr/bin/env bats
# logmirror wait: consumers' checkpoints published to a key-value bucket by
# push and pull (-k), waited for from anywhere, on a 3-node cluster.
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
	S=w$BATS_TEST_NUMBER
	K=$S-checkpoints
	pid=
}

teardown() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	fi
}

# kv KEY: the bucket's value of KEY, read by the plain protocol.
kv() {
	nats_req 1 "\$JS.API.STREAM.MSG.GET.KV_$K" \
	    "{\"last_by_subj\":\"\$KV.$K.$1\"}" | nats_json_get message.data |
	    base64 -d
}

@test "logmirror wait: a consumer of a replica on another host, waited for by offset" {
	seq 10 | ok logappend log
	ok logmirror push -k "$K" log "$NATS_URL/$S"
	ok logmirror pull -k "$K" "$NATS_URL/$S" replica
	ok logcheckpoint -s 4 replica store
	ok logmirror pull -k "$K" "$NATS_URL/$S" replica
	# The bucket holds "OFFSET LOG-ID UPDATED" per consumer.
	id=$(awk '$1 == "id" { print $2 }' replica/settings)
	case $(kv store) in
	"4 $id "[0-9]*) ;;
	*) echo "store: $(kv store)" >&2; false ;;
	esac
	case $(kv mirror) in
	"10 $(awk '$1 == "id" { print $2 }' log/settings) "[0-9]*) ;;
	*) echo "mirror: $(kv mirror)" >&2; false ;;
	esac
	# Offset 3 is applied (checkpoint 4): no wait.
	ok logmirror wait -o 3 -T 10 "$NATS_URL/$S" store
	# Offset 7 is not: wait until it is.
	logmirror wait -o 7 -T 60 "$NATS_URL/$S" store mirror &
	pid=$!
	sleep 0.5
	kill -0 "$pid"
	ok logcheckpoint -s 8 replica store
	ok logmirror pull -k "$K" "$NATS_URL/$S" replica
	wait "$pid"
	pid=
}

@test "logmirror wait: without -o, the stream's last message; -T times out with exit 1" {
	seq 5 | ok logappend log
	ok logmirror push -k "$K" log "$NATS_URL/$S"
	ok logmirror pull -k "$K" "$NATS_URL/$S" replica
	ok logcheckpoint -s 2 replica store
	ok logmirror pull -k "$K" "$NATS_URL/$S" replica
	fails 1 logmirror wait -T 1 "$NATS_URL/$S" store
	stderr_is "logmirror: store: timed out at 2, waiting for 5"
	fails 1 logmirror wait -T 1 "$NATS_URL/$S" nobody
	stderr_is "logmirror: nobody: timed out: no checkpoint in $K"
	ok logcheckpoint -s end replica store
	ok logmirror pull -k "$K" "$NATS_URL/$S" replica
	ok logmirror wait -T 10 "$NATS_URL/$S" store
}

@test "logmirror wait: no bucket, bad names and offsets are usage errors" {
	seq 2 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	fails 2 logmirror wait -T 1 "$NATS_URL/$S" store
	stderr_has "logmirror: checkpoint bucket $K: "
	fails 2 logmirror wait -o x "$NATS_URL/$S" store
	stderr_is "logmirror: -o: invalid offset: x"
	fails 2 logmirror wait "$NATS_URL/$S" .bad
	stderr_is "logmirror: .bad: invalid consumer name (letters, digits, '.', '_' and '-', not starting with '.' or '-')"
}

@test "logmirror: a checkpoint written earlier never replaces a later one" {
	seq 5 | ok logappend log
	ok logcheckpoint -s 3 log c
	cp log/consumers/c.ckpt old.ckpt
	ok logmirror push -k "$K" log "$NATS_URL/$S"
	sleep 0.01
	ok logcheckpoint -s 5 log c
	ok logmirror push -k "$K" log "$NATS_URL/$S"
	is "$(kv c | cut -d' ' -f1)" 5
	# The older checkpoint again (another host's stale copy, say).
	cp old.ckpt log/consumers/c.ckpt
	ok logmirror push -k "$K" log "$NATS_URL/$S"
	is "$(kv c | cut -d' ' -f1)" 5
}
