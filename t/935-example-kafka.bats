#!/usr/bin/env bats
# The Kafka example against librdkafka's mock cluster (kcat -X
# test.mock.num.brokers=3, inside a kcat process the example starts on
# free ports of 127.0.0.1 and stops on every way out): a topic into a log
# with kcat -C -J | logappend -J, the log into a topic with logcat |
# kcat -P, each side compared with the other.
load helpers

E=$BATS_TEST_DIRNAME/../examples/kafka

teardown() {
	# Should the example fail to stop its mock cluster, stop it here.
	if [ -n "${mock-}" ]; then
		kill "$mock" 2>/dev/null || true
	fi
}

@test "kafka: records go from a topic into a log and back into a topic, losing what the README says" {
	require kcat
	expect 0 env -u KAFKA_BROKERS TMPDIR="$BATS_TEST_TMPDIR" "$E/run"
	mock=$(sed -n 's/^A mock Kafka cluster (kcat pid \([0-9]*\)) at .*/\1/p' <<<"$output")
	[ -n "$mock" ]
	case $output in
	*'The log holds every key, value, timestamp and header of the topic:
kcat -f and logcat -F print 6 identical records.'*) ;;
	*) false ;;
	esac
	case $output in
	*'4 NULL no key here [source=shop,region=eu]
5 order:1 NULL [source=shop]'*) ;;
	*) false ;;
	esac
	case $output in
	*'The topic holds every key and value of the log, but:
- 1 empty value(s) became null (kcat -P -Z: empty is null)
- the headers of 6 record(s) are gone (kcat -P takes none from its input)'*) ;;
	*) false ;;
	esac
	# The mock cluster and the scratch directory are gone.
	! kill -0 "$mock" 2>/dev/null
	mock=
	[ -z "$(ls "$BATS_TEST_TMPDIR" | grep synclog-kafka)" ]
}

@test "kafka: live kcat -C -J output goes in unchanged and reads back as kcat prints it" {
	require kcat
	# A cluster of this test's own, for a topic with every corner.
	kcat -b 127.0.0.1:9 -X test.mock.num.brokers=1 -d mock -C -t hold \
	    >/dev/null 2>mock.log &
	mock=$!
	wait_until grep -q 'bootstrap.servers=' mock.log
	B=$(sed -n 's/.*Mock cluster .* bootstrap\.servers=\([^ ]*\).*/\1/p' mock.log | head -n 1)
	printf 'k\xff\x01\t\xc3\xa9\xfe\x00x\n\tempty key\nno key\nk2\t\nk\ttwo\tdelims\n' |
	    kcat -b "$B" -m 10 -q -P -t t -p 0 -K '\t' -H h=v -H h=w -H e=
	printf 'gone\t\n' | kcat -b "$B" -m 10 -q -P -t t -p 0 -K '\t' -Z
	sh_ok "kcat -b '$B' -m 10 -q -C -t t -p 0 -e -J > in.json"
	ok logappend -J L < in.json
	sh_ok "kcat -b '$B' -m 10 -q -C -t t -p 0 -e -f '%K:%k|%S:%s|%T|%h\n' > kafka.txt"
	sh_ok "logcat -F '%K:%k|%S:%s|%T|%h\n' L > log.txt"
	sh_ok "cmp kafka.txt log.txt"
	[ "$(wc -l < log.txt)" -eq 6 ]
	# the tombstone is one, the empty key is there, the absent one not
	ok logcat -Z -K '|' -F '%k|%s\n' L
	output_is "$(printf 'k\xff\x01|\xc3\xa9\xfe\x00x\n|empty key\nNULL|no key\nk2|\nk|two\tdelims\ngone|NULL')"
	kill "$mock"
	wait "$mock" || true
	mock=
}
