# A JetStream cluster of nats-server processes on 127.0.0.1 for the
# logmirror tests, the example and the benchmark: `. t/nats.bash` (or
# `load nats` in bats), then nats_start DIR [N].  Each server has its own
# free ports (client, cluster route, monitoring) and its own store
# directory under DIR; nats_stop ends every one of them (call it in
# teardown, or from a trap: it is safe to call twice).
#
# After nats_start:
#   NATS_URL	nats://127.0.0.1:P1,127.0.0.1:P2,... (every server)
#   NATS_N	the number of servers
#   nats_port I / nats_mport I / nats_pid I	of server I (1..N)

# free_ports N: N distinct TCP ports that are free on 127.0.0.1 now.
free_ports() {
	python3 - "$1" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

nats_port() { eval "echo \${NATS_PORT_$1}"; }
nats_cport() { eval "echo \${NATS_CPORT_$1}"; }
nats_mport() { eval "echo \${NATS_MPORT_$1}"; }
nats_pid() { cat "$NATS_DIR/n$1.pid" 2>/dev/null; }

# nats_start DIR [N]: start N (default 3) servers clustered with
# JetStream, and wait until they have elected a meta leader.
nats_start() {
	local dir=$1 n=${2:-3} i ports routes=
	NATS_DIR=$dir
	NATS_N=$n
	mkdir -p "$dir" || return 1
	ports=($(free_ports $((3 * n)))) || return 1
	for ((i = 1; i <= n; i++)); do
		eval "NATS_PORT_$i=${ports[3 * i - 3]}"
		eval "NATS_CPORT_$i=${ports[3 * i - 2]}"
		eval "NATS_MPORT_$i=${ports[3 * i - 1]}"
		routes="$routes${routes:+, }nats-route://127.0.0.1:${ports[3 * i - 2]}"
	done
	NATS_URL=
	for ((i = 1; i <= n; i++)); do
		NATS_URL="$NATS_URL${NATS_URL:+,}127.0.0.1:$(nats_port $i)"
		{
			echo "server_name: n$i"
			echo "listen: 127.0.0.1:$(nats_port $i)"
			echo "http: 127.0.0.1:$(nats_mport $i)"
			echo "jetstream {"
			echo "  store_dir: \"$dir/n$i\""
			echo "  max_memory_store: 256MB"
			echo "  max_file_store: 2GB"
			echo "}"
			if [ "$n" -gt 1 ]; then
				echo "cluster {"
				echo "  name: synclog"
				echo "  listen: 127.0.0.1:$(nats_cport $i)"
				echo "  routes: [ $routes ]"
				echo "}"
			fi
		} >"$dir/n$i.conf"
	done
	NATS_URL=nats://$NATS_URL
	export NATS_URL NATS_N NATS_DIR
	for ((i = 1; i <= n; i++)); do
		nats_run "$i" || return 1
	done
	for ((i = 1; i <= n; i++)); do
		nats_wait_ready "$i" || return 1
	done
}

# nats_run I: start server I (again), in the background.
nats_run() {
	nats-server -c "$NATS_DIR/n$1.conf" -P "$NATS_DIR/n$1.pid" \
	    >>"$NATS_DIR/n$1.log" 2>&1 &
	# The pid file appears once the server runs; $! is enough to stop it.
	echo $! >"$NATS_DIR/n$1.pid"
	# Not a job of the shell's: no "Killed" notice when it is stopped.
	disown $!
}

# nats_wait_ready I: wait (at most 60 s) until server I answers and, in a
# cluster, knows the meta leader.
nats_wait_ready() {
	local i
	for ((i = 0; i < 3000; i++)); do
		if [ "$NATS_N" -eq 1 ]; then
			curl -sf "http://127.0.0.1:$(nats_mport $1)/healthz" \
			    >/dev/null 2>&1 && return 0
		elif curl -sf "http://127.0.0.1:$(nats_mport $1)/jsz" 2>/dev/null |
		    grep -q '"leader": *"n'; then
			return 0
		fi
		sleep 0.02
	done
	echo "nats server n$1 not ready; its log:" >&2
	tail -20 "$NATS_DIR/n$1.log" >&2
	return 1
}

# nats_kill I [SIGNAL]: signal server I (default KILL) and, for KILL or
# TERM, wait for it to be gone.
nats_kill() {
	local pid sig=${2:-KILL}
	pid=$(nats_pid "$1") || return 1
	kill -s "$sig" "$pid" 2>/dev/null || return 0
	case $sig in
	KILL | TERM) while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done ;;
	esac
}

# nats_restart I: start a killed server I again and wait for it.
nats_restart() {
	nats_run "$1" && nats_wait_ready "$1"
}

# nats_stop: stop every server started (SIGCONT first, for a stopped one).
nats_stop() {
	local i pid
	[ -n "${NATS_DIR-}" ] || return 0
	for ((i = 1; i <= ${NATS_N:-0}; i++)); do
		pid=$(nats_pid "$i") || continue
		kill -CONT "$pid" 2>/dev/null
		kill -KILL "$pid" 2>/dev/null
	done
	for ((i = 1; i <= ${NATS_N:-0}; i++)); do
		pid=$(nats_pid "$i") || continue
		while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
		rm -f "$NATS_DIR/n$i.pid"
	done
}

# nats_file_cluster: setup_file's part in a bats file whose tests share one
# cluster (teardown_file calls nats_stop); nats_test_dir: setup's part in
# every test file (into the test's directory; skip, saying why, without
# nats-server).
nats_file_cluster() {
	command -v nats-server >/dev/null || skip "nats-server is not installed"
	nats_start "$BATS_FILE_TMPDIR/nats"
	export NATS_PORT_1 NATS_PORT_2 NATS_PORT_3 NATS_MPORT_1 NATS_MPORT_2 \
	    NATS_MPORT_3
}

nats_test_dir() {
	cd "$BATS_TEST_TMPDIR" || return 1
	command -v nats-server >/dev/null || skip "nats-server is not installed"
}

# nats_jsz I: server I's own view of its streams (the monitoring endpoint).
nats_jsz() {
	curl -sf "http://127.0.0.1:$(nats_mport $1)/jsz?streams=true"
}

# nats_stream_view I STREAM: "MESSAGES FIRST LAST" of STREAM as server I
# holds it (its replica, not the leader's word).
nats_stream_view() {
	nats_jsz "$1" | python3 -c '
import json, sys
name = sys.argv[1]
for acc in json.load(sys.stdin).get("account_details", []):
    for s in acc.get("stream_detail", []):
        if s["name"] == name:
            st = s["state"]
            print(st["messages"], st["first_seq"], st["last_seq"])
            sys.exit(0)
sys.exit(1)' "$2"
}

# nats_stream_leader STREAM: the index I of STREAM's leader.
nats_stream_leader() {
	local i
	for ((i = 1; i <= NATS_N; i++)); do
		nats_jsz "$i" 2>/dev/null | python3 -c '
import json, sys
name = sys.argv[1]
for acc in json.load(sys.stdin).get("account_details", []):
    for s in acc.get("stream_detail", []):
        if s["name"] == name and s.get("cluster", {}).get("leader"):
            print(s["cluster"]["leader"][1:])
            sys.exit(0)
sys.exit(1)' "$1" && return 0
	done
	return 1
}

# nats_req I SUBJECT [PAYLOAD]: one request to server I by the plain NATS
# protocol (t/natsreq.py, no libnats); prints the reply's payload.
nats_req() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/natsreq.py" "$(nats_port "$1")" \
	    "$2" "${3-}"
}

# nats_json_get PATH: read JSON on stdin and print the value at the
# dotted PATH (e.g. state.messages).
nats_json_get() {
	python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v)' "$1"
}

# nats_views_settle STREAM N: after failures, every running server's own
# replica of STREAM must be sequences 1..M, each once (M messages, M <= N),
# and a quorum of them must hold all N.  Then, for up to 120 s, every one
# should: one still behind after that is said (bats' fd 3), not failed, since
# nats-server 2.9.10 now and then leaves a follower that was killed with
# -9 behind for minutes (a server's catch-up, not what it was sent).  When
# two are behind, the quorum is waited for up to 300 s in all.
# Fails (1) when a view has a gap, a duplicate or more, and (3) when no
# quorum holds N after 300 s.
nats_views_settle() {
	local i v m f l full=0 end=$((SECONDS + 120)) last=$((SECONDS + 300))
	local views
	while :; do
		full=0
		views=
		for ((i = 1; i <= NATS_N; i++)); do
			v=$(nats_stream_view "$i" "$1") || v="none 0 0"
			views="$views [$i: $v]"
			read -r m f l <<<"$v"
			[ "$m" = none ] && continue
			if [ "$m" -gt "$2" ] || [ "$l" -gt "$2" ] ||
			    { [ "$m" -gt 0 ] && { [ "$f" -ne 1 ] || [ "$l" -ne "$m" ]; }; }; then
				echo "stream $1: a server holds other than 1..$2 once:$views" >&2
				return 1
			fi
			[ "$m" -eq "$2" ] && full=$((full + 1))
		done
		[ "$full" -eq "$NATS_N" ] && return 0
		if [ "$SECONDS" -ge "$end" ] && [ "$full" -gt $((NATS_N / 2)) ]; then
			v="# stream $1: a quorum holds all $2; one server still catching up:$views"
			# bats shows fd 3; elsewhere (the example) stderr
			if { true >&3; } 2>/dev/null; then
				echo "$v" >&3
			else
				echo "$v" >&2
			fi
			return 0
		fi
		if [ "$SECONDS" -ge "$last" ]; then
			echo "stream $1: no quorum holds all $2 messages after 300 s:$views" >&2
			return 3
		fi
		sleep 0.5
	done
}

# within SECONDS CMD...: run CMD until it succeeds, for at most SECONDS of
# wall-clock time (the checks here run processes and take time of their
# own, so they are not counted in tries).
within() {
	local end=$((SECONDS + $1))
	shift
	while ! "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "timed out waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}
