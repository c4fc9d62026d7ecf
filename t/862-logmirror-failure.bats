#!/usr/bin/env bats
# logmirror under failure, each test on a 3-node JetStream cluster of its
# own: the stream's leader killed (twice) while 3 appenders on 2 logs push,
# logmirror itself killed, a node stopped (SIGSTOP), the consumer's node
# killed under pull, the port a client uses blocked.  Nothing acknowledged locally may be lost, nothing
# duplicated, each log's order kept; every replica is byte-identical and
# every node's own view of the stream agrees (/jsz?streams=true).
load helpers
load nats

setup() {
	nats_test_dir || return 1
	S=f$BATS_TEST_NUMBER
	pids=
	nats_start "$BATS_TEST_TMPDIR/nats"
}

teardown() {
	local p
	for p in $pids; do
		kill -KILL "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	nats_stop
}

# bg CMD...: run CMD in the background, stopped in teardown.
bg() {
	"$@" &
	pids="$pids $!"
	last=$!
}

# messages: the stream's message count, as its leader says.
messages() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		nats_req "$i" "\$JS.API.STREAM.INFO.$S" 2>/dev/null |
		    nats_json_get state.messages 2>/dev/null && return 0
	done
	return 1
}

# at_least N: the stream holds N messages or more.
at_least() {
	local n
	n=$(messages) && [ "$n" -ge "$1" ]
}

# caught_up LOG: consumer mirror of LOG is at the log's end.
caught_up() {
	local end ck
	end=$(logstat "$1" | awk '$1 == "end" { print $2 }')
	ck=$(logcheckpoint "$1" mirror 2>/dev/null) && [ "$ck" = "$end" ]
}

# stuck LOG: what a push of LOG that did not catch up had done (stderr).
stuck() {
	local i
	{
		echo "$1: end $(logstat "$1" | awk '$1 == "end" { print $2 }')," \
		    "checkpoint $(logcheckpoint "$1" mirror 2>&1)," \
		    "stream: $(messages) messages, leader $(nats_stream_leader "$S")"
		for ((i = 1; i <= NATS_N; i++)); do
			echo "server $i: $(nats_stream_view "$i" "$S")"
		done
		cat push.err 2>/dev/null
	} >&2
}

# end_is LOG N: LOG's next offset is N.
end_is() {
	[ "$(logstat "$1" | awk '$1 == "end" { print $2 }')" = "$2" ]
}

# kill_leader: kill -9 the stream's leader and start it again.
kill_leader() {
	local l
	within 60 nats_stream_leader "$S" >/dev/null
	l=$(nats_stream_leader "$S")
	messages >>kills
	nats_kill "$l"
	sleep 1
	nats_restart "$l"
}

# appender LOG TAG N CHUNKS: append TAG-1 .. TAG-N to LOG in CHUNKS
# pieces, with a pause between them, as a producer would; after three
# quarters of them, wait for the file "gate", so that records are still
# to come whenever the test opens it.
appender() {
	local i per=$((($3 + $4 - 1) / $4)) last
	for ((i = 0; i * per < $3; i++)); do
		last=$(((i + 1) * per))
		[ "$last" -le "$3" ] || last=$3
		seq $((i * per + 1)) "$last" | sed "s/^/$2-/"
		if [ $((i * per)) -lt $(($3 * 3 / 4)) ] &&
		    [ "$last" -ge $(($3 * 3 / 4)) ]; then
			while [ ! -e gate ]; do sleep 0.05; done
		fi
		sleep 0.05
	done | logappend "$1"
}

# same_records LOG REPLICA PREFIX...: the records of REPLICA whose value
# starts with one of PREFIX are LOG's records, in LOG's order, each once
# (key, value, timestamp and headers).
same_records() {
	local log=$1 rep=$2
	shift 2
	logcat -J "$log" >log.json || return 1
	logcat -J "$rep" >rep.json || return 1
	python3 - "$@" <<'EOF'
import json, sys
prefixes = tuple(sys.argv[1:])
def recs(path, keep):
    out = []
    for line in open(path):
        r = json.loads(line)
        v = r.get("value") or ""
        if keep(v):
            del r["offset"]
            out.append(r)
    return out
mine = recs("log.json", lambda v: True)
theirs = recs("rep.json", lambda v: v.startswith(prefixes))
if mine != theirs:
    print("log has %d records, replica %d of them" % (len(mine), len(theirs)))
    for i, (a, b) in enumerate(zip(mine, theirs)):
        if a != b:
            print("first difference at %d: %r vs %r" % (i, a, b))
            break
    sys.exit(1)
EOF
}

# push_under_kills N: logs A and B, three appenders adding N records in
# all, each log pushed (-f) into stream $S while its leader is killed
# twice; returns once the stream has acknowledged every record.
push_under_kills() {
	local n=$1 k
	# The logs and the stream first, so that its leader is known before
	# the kills.
	echo A0-1 | ok logappend A
	echo B0-1 | ok logappend B
	ok logmirror push B "$NATS_URL/$S"
	bg logmirror push -f A "$NATS_URL/$S" 2>push.err
	p1=$last
	bg logmirror push -f B "$NATS_URL/$S" 2>>push.err
	p2=$last
	appender A A1 $((n * 35 / 100)) 100 &
	a1=$!
	appender A A2 $((n * 35 / 100 - 1)) 100 &
	a2=$!
	appender B B1 $((n * 30 / 100 - 1)) 100 &
	a3=$!
	# Each kill while records are still on their way: the last quarter
	# of each appender's waits for the gate.
	within 120 at_least $((n / 4))
	kill_leader
	within 120 at_least $((n / 2))
	kill_leader
	touch gate
	for k in $(cat kills); do
		[ "$k" -lt "$n" ] || { echo "killed too late: $(cat kills)" >&2; false; }
	done
	wait "$a1"
	wait "$a2"
	wait "$a3"
	if ! within 120 caught_up A || ! within 120 caught_up B; then
		# A stream that acknowledges nothing at all, not even a
		# plain client's message, is the server's fault: said in
		# stream-deaf, for the caller.
		if stream_deaf; then
			{ stuck A; stuck B; } 2>stream-deaf
			kill -KILL "$p1" "$p2"
			return 0
		fi
		stuck A
		stuck B
		false
	fi
	kill -TERM "$p1" "$p2"
	wait "$p1"
	wait "$p2"
}

# stream_deaf: no server answers a plain client's publish to the stream
# (subject $S.probe) within 10 s.
stream_deaf() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		nats_req "$i" "$S.probe" probe 2>/dev/null | grep -q '"seq"' &&
		    return 1
	done
	return 0
}

@test "logmirror: 3 appenders on 2 logs push while the stream leader is killed twice" {
	local n=${TORTURE:+300000} settled=0
	n=${n:-100000}
	push_under_kills "$n"
	# Every node holds the same n messages, sequences 1..n: no duplicate.
	[ -e stream-deaf ] ||
	    nats_views_settle "$S" "$n" 2>settle.err || settled=$?
	if [ -e stream-deaf ] || [ "$settled" -eq 3 ]; then
		# Faults of nats-server 2.9.10's, each seen about once in 40
		# runs: the stream acknowledged all n (each push's checkpoint is
		# at its log's end), yet after 300 s no quorum of servers holds
		# them (a restarted leader's messages that its followers never
		# stored; or two restarted servers whose copies stopped short
		# of what they had acknowledged); or the stream stopped
		# acknowledging anything, a plain client's message too, while
		# every server agreed.  Not logmirror's doing: said, and done
		# again once on a new cluster, where it must pass.
		echo "# nats-server fault: $(cat stream-deaf settle.err 2>/dev/null); once more on a new cluster" >&3
		nats_stop
		rm -rf A B kills gate push.err stream-deaf
		S=${S}again
		nats_start "$BATS_TEST_TMPDIR/nats-again"
		push_under_kills "$n"
		if [ -e stream-deaf ]; then
			cat stream-deaf >&2
			false
		fi
		nats_views_settle "$S" "$n"
	elif [ "$settled" -ne 0 ]; then
		cat settle.err >&2
		false
	fi
	ok logmirror pull -q "$NATS_URL/$S" r1
	ok logstat r1
	case $output in
	*"records      $n"*) ;;
	*) echo "$output" >&2; false ;;
	esac
	same_records A r1 A0 A1 A2
	same_records B r1 B0 B1
	ok logmirror pull -q "$NATS_URL/$S" r2
	sh_ok 'logcat -B r1 | sha256sum > r1.sum && logcat -B r2 | sha256sum > r2.sum'
	cmp r1.sum r2.sum
}

@test "logmirror push: killed with -9 and started again, nothing twice, nothing lost" {
	seq 1 60000 | ok logappend -N log
	bg logmirror push -q log "$NATS_URL/$S"
	within 60 at_least 10000
	kill -KILL "$last"
	wait "$last" || :
	ok logmirror push -q log "$NATS_URL/$S"
	is "$(messages)" 60000
	ok logmirror pull "$NATS_URL/$S" r
	sh_ok 'logcat r | cmp - <(seq 1 60000)'
}

@test "logmirror: a stopped node (SIGSTOP) under push -f and pull -f, then continued" {
	seq 1 20000 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	bg logmirror push -f -q log "$NATS_URL/$S"
	bg logmirror pull -f -q "$NATS_URL/$S" r
	within 60 nats_stream_leader "$S" >/dev/null
	l=$(nats_stream_leader "$S")
	nats_kill "$l" STOP
	seq 20001 40000 | ok logappend log
	sleep 3
	nats_kill "$l" CONT
	seq 40001 50000 | ok logappend log
	within 120 caught_up log
	within 120 end_is r 50000
	sh_ok 'logcat r | cmp - <(seq 1 50000)'
	nats_views_settle "$S" 50000
}

@test "logmirror pull: killed with -9, and the nodes killed under it, resumes exactly" {
	seq 1 200000 | ok logappend -N log
	ok logmirror push -q log "$NATS_URL/$S"
	bg logmirror pull -f -q "$NATS_URL/$S" r
	within 60 test -s r/00000000000000000000.log
	kill -KILL "$last"
	wait "$last" || :
	end_is r 200000 && echo "# note: the pull had finished before the kill" >&3
	# Every node in turn: the consumer's among them.
	bg logmirror pull -f -q "$NATS_URL/$S" r
	for i in 1 2 3; do
		nats_kill "$i"
		sleep 1
		nats_restart "$i"
	done
	within 120 end_is r 200000
	sh_ok 'logcat r | cmp - <(seq 1 200000)'
	ok logfsck r
}

# consumer_node: the index I of the server that leads the stream's one
# consumer (the pull's), as the servers answer $JS.API.CONSUMER.LIST.
consumer_node() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		nats_req "$i" "\$JS.API.CONSUMER.LIST.$S" 2>/dev/null | python3 -c '
import json, sys
cs = json.load(sys.stdin).get("consumers") or []
if len(cs) != 1 or not cs[0].get("cluster", {}).get("leader"):
    sys.exit(1)
print(cs[0]["cluster"]["leader"][1:])' && return 0
	done
	return 1
}

@test "logmirror pull: its consumer is on the stream's leader, whose copy is the stream" {
	seq 1 1000 | ok logappend log
	ok logmirror push -q log "$NATS_URL/$S"
	within 60 nats_stream_leader "$S" >node
	# The servers place a consumer on any member: four in a row on the
	# leader by chance is one in 81.
	for i in 1 2 3 4; do
		bg logmirror pull -f -q "$NATS_URL/$S" r$i
		within 60 end_is r$i 1000
		within 60 consumer_node >cnode
		is "$(cat cnode)" "$(cat node)"
		kill -TERM "$last"
		wait "$last"
	done
}

@test "logmirror pull: the node that leads its consumer killed, it makes one anew and misses nothing" {
	seq 1 30000 | ok logappend log
	ok logmirror push -q log "$NATS_URL/$S"
	bg logmirror push -f -q log "$NATS_URL/$S"
	bg logmirror pull -f -q "$NATS_URL/$S" r
	within 60 end_is r 30000
	within 60 consumer_node >node
	c=$(cat node)
	echo "# the consumer's leader: server $c; the stream's: $(nats_stream_leader "$S")" >&3
	nats_kill "$c"
	seq 30001 60000 | ok logappend log
	within 120 caught_up log
	within 120 end_is r 60000
	nats_restart "$c"
	seq 60001 60010 | ok logappend log
	within 120 end_is r 60010
	sh_ok 'logcat r | cmp - <(seq 1 60010)'
	ok logfsck r
	nats_views_settle "$S" 60010
}

@test "logmirror: the port its connection uses blocked for seconds, push and pull recover" {
	seq 1 10000 | ok logappend log
	ok logmirror push log "$NATS_URL/$S"
	# The clients know one address, a relay to node 1; the cluster tells
	# them of the others.
	port=$(free_ports 1)
	bg python3 "$BATS_TEST_DIRNAME/natsproxy.py" "$port" "$(nats_port 1)"
	relay=$last
	within 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))"
	bg logmirror push -f -q log "nats://127.0.0.1:$port/$S"
	bg logmirror pull -f -q "nats://127.0.0.1:$port/$S" r
	within 60 end_is r 10000
	# Blocked: both move to a server the cluster told them of.
	kill -STOP "$relay"
	seq 10001 30000 | ok logappend log
	within 120 caught_up log
	within 120 end_is r 30000
	kill -CONT "$relay"
	sh_ok 'logcat r | cmp - <(seq 1 30000)'
	nats_views_settle "$S" 30000
}

# stale_answer LAST: the stream's info as a member that sees no leader
# would give it from a copy ending at LAST (no leader named), on stdout.
stale_answer() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		nats_req "$i" "\$JS.API.STREAM.INFO.$S" 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
st, n = v["state"], int(sys.argv[1])
st["messages"], st["last_seq"] = n, n
v["cluster"].pop("leader")
json.dump(v, sys.stdout)' "$1" && return 0
	done
	return 1
}

# fake_member SECONDS: for SECONDS the stream's leader is stopped
# (SIGSTOP) and a stand-in answers the stream's info requests made through
# another server, $F, with stale.json: the only answer, as a member that
# sees no leader gives it.  Then the leader goes on.
fake_member() {
	local l
	within 60 nats_stream_leader "$S" >node
	l=$(cat node)
	F=$((l % NATS_N + 1))
	bg python3 "$BATS_TEST_DIRNAME/natsfake.py" "$(nats_port "$F")" \
	    "\$JS.API.STREAM.INFO.$S" stale.json "$1" >fake.out
	fake=$last
	within 10 grep -qx ready fake.out
	nats_kill "$l" STOP
	bg sh -c "sleep $1; kill -CONT $(nats_pid "$l")"
}

@test "logmirror pull: an answer of a member that sees no leader is not the stream's word" {
	seq 1 5000 | ok logappend log
	ok logmirror push -q log "$NATS_URL/$S"
	stale_answer 1500 >stale.json
	# A new replica, fetched 100 at a time: not ended at the stale end.
	fake_member 3
	expect 0 logmirror pull -b 100 -G 60 \
	    "nats://127.0.0.1:$(nats_port $F)/$S" r
	stderr_has "sees no leader"
	end_is r 5000
	wait "$fake"
	[ "$(tail -1 fake.out)" -gt 0 ]
	# An existing replica: not refused as ahead of the stream.
	seq 5001 5500 | ok logappend log
	ok logmirror push -q log "$NATS_URL/$S"
	fake_member 3
	expect 0 logmirror pull -G 60 "nats://127.0.0.1:$(nats_port $F)/$S" r
	stderr_has "sees no leader"
	sh_ok 'logcat r | cmp - <(seq 1 5500)'
	# logmirror wait's target is the leader's word too: a consumer at
	# 1600 has not reached the stream's end, whatever the stand-in says.
	ok logcheckpoint -s 1600 r store
	ok logmirror pull -q -k "$S-ck" "$NATS_URL/$S" r
	fake_member 3
	fails 1 logmirror wait -q -k "$S-ck" -T 8 \
	    "nats://127.0.0.1:$(nats_port $F)/$S" store
	stderr_has "store"
}
